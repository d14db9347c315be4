"""Checkpoint files that a kill cannot leave half-written.

Every file goes to a temporary name in its own folder (`.tmp-...`, with the
final name's suffix so Keras accepts it), is flushed to disk (`os.fsync`) and
is then renamed onto its final name with `os.replace`, which is atomic: a
reader sees the previous complete file or the new complete one, never a part
of one. A kill leaves at most a stray `.tmp-*` file, which nothing reads and
`remove_temporary_files` deletes on the next run.

`AtomicBackupAndRestore` and `AtomicModelCheckpoint` are Keras'
`BackupAndRestore` and `ModelCheckpoint` writing that way. Keras' own versions
write `latest.weights.h5`, `training_metadata.json` and `.keras` files in place:
a kill during the write leaves a truncated file (which the next run fails to
load), and a kill between the weights and the metadata leaves the weights of
epoch `N` with the epoch counter of `N - 1` (which the next run loads without
complaint and trains one epoch too many).
"""

import collections
import json
import os
import uuid

import keras

TMP_PREFIX = ".tmp-"
METADATA = "training_metadata.json"
LEGACY_WEIGHTS = "latest.weights.h5"  # Keras' BackupAndRestore file name

BackupState = collections.namedtuple("BackupState", ["epoch", "weights_path"])


def _fsync_directory(directory):
    # Makes the rename itself durable; not possible (nor needed) on Windows.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_save(path, write):
    """Writes `path` through `write(tmp_path)` so it is never half-written.

    `write` writes the whole file at `tmp_path`, a new name in the folder of
    `path` ending with the same name (`.tmp-<random>-model.keras`). The file is
    then fsynced and renamed onto `path` with `os.replace`. If `write` raises
    (or the process is interrupted), `path` keeps its previous content and the
    temporary file is removed; a hard kill can leave the temporary file, never
    a partial `path`.

    Args:
        path: the final file name.
        write: callable taking the temporary path, e.g. `model.save`.

    Example:

    ```python
    atomic_save("run/model.keras", model.save)
    atomic_save("run/notes.txt", lambda p: open(p, "w").write("done"))
    ```
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(
        directory, f"{TMP_PREFIX}{uuid.uuid4().hex[:12]}-{os.path.basename(path)}"
    )
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_directory(directory)


def atomic_write_json(path, value, **kwargs):
    """`json.dump(value)` to `path` through `atomic_save`."""

    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(value, f, **kwargs)

    atomic_save(path, write)


def remove_temporary_files(directory):
    """Deletes the `.tmp-*` files a killed `atomic_save` left in `directory`.

    Returns:
        the list of removed paths.
    """
    if not os.path.isdir(directory):
        return []
    removed = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name.startswith(TMP_PREFIX) and os.path.isfile(path):
            os.remove(path)
            removed.append(path)
    return removed


def _unreadable(path, backup_dir, reason):
    return ValueError(
        f"The training backup {path} cannot be read ({reason}). It was probably "
        "left by a run killed while saving, with a version that wrote backups in "
        f"place. Delete {backup_dir} to train from epoch 0 "
        "(checkpoints/last.keras beside it holds the model of the last finished "
        "epoch)."
    )


def backup_state(backup_dir):
    """The last complete backup in `backup_dir`, or `None` if there is none.

    Reads `training_metadata.json`, the file whose replacement commits a
    backup. Weights files it does not name (from a save killed before its
    commit) are not part of the state.

    Returns:
        `BackupState(epoch, weights_path)`: the number of finished epochs and
        the weights file to restore; `None` when no backup was committed.

    Raises:
        ValueError: naming the file, when the metadata is not valid JSON with
            an integer `epoch`, or names a weights file that does not exist.
    """
    path = os.path.join(backup_dir, METADATA)
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as f:
            metadata = json.load(f)
        epoch = int(metadata["epoch"])
    except (ValueError, KeyError, TypeError) as e:
        raise _unreadable(path, backup_dir, f"{type(e).__name__}: {e}") from e
    weights = os.path.join(backup_dir, metadata.get("weights", LEGACY_WEIGHTS))
    if not os.path.isfile(weights):
        raise _unreadable(weights, backup_dir, f"missing; {path} names it")
    return BackupState(epoch, weights)


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` that a kill cannot corrupt.

    ```
    backup_dir/
      epoch_0003.weights.h5    weights + optimiser state after 3 epochs
      training_metadata.json   {"epoch": 3, "batch": 0,
                                "weights": "epoch_0003.weights.h5"}
    ```

    At each epoch end the weights go to a new file (`atomic_save`), then
    `training_metadata.json` is replaced (`atomic_save`) to name it: that
    rename commits the backup. Only then is the previous weights file deleted.
    Killed at any moment, the folder's metadata names a complete weights file
    together with its own epoch count, so the next run restores the last
    complete backup (of the epoch before the one being saved when the kill
    came during a save).

    On train begin: stray `.tmp-*` files and uncommitted weights files are
    deleted, and the committed backup (if any, see `backup_state`) is
    restored. A backup that cannot be read raises a `ValueError` naming the
    file, rather than silently training from epoch 0: with this callback
    that only happens to a file damaged after it was written, or to a
    `latest.weights.h5` left truncated by Keras' own `BackupAndRestore` (whose
    backups this callback also reads). Keras' `double_checkpoint` is not
    needed (the previous backup stays until the new one is complete).

    Args:
        backup_dir: folder for the backup, used by nothing else.
        delete_checkpoint: delete `backup_dir` when `fit` completes. The
            runner passes `False` and deletes it once the final model and
            evaluation are written too.

    Example:

    ```python
    model.fit(x, y, epochs=10, callbacks=[AtomicBackupAndRestore("run/backup")])
    # Killed at any point: the same call resumes from the last finished epoch.
    ```
    """

    def __init__(self, backup_dir, delete_checkpoint=True):
        super().__init__(
            backup_dir, save_freq="epoch", delete_checkpoint=delete_checkpoint
        )

    def on_train_begin(self, logs=None):
        self.restore()

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self.save(epoch + 1)

    def restore(self):
        """Loads the committed backup into the model; returns its epoch count."""
        state = backup_state(self.backup_dir)
        self._remove_uncommitted(state)
        if state is None:
            return 0
        if not self.model.built:
            raise ValueError(
                "AtomicBackupAndRestore needs a built model before `fit()`. "
                f"Received: unbuilt model {self.model.name!r}"
            )
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        try:
            self.model.load_weights(state.weights_path)
        except Exception as e:
            raise _unreadable(
                state.weights_path, self.backup_dir, f"{type(e).__name__}: {e}"
            ) from e
        self.model._initial_epoch = state.epoch
        self._current_epoch = state.epoch
        return state.epoch

    def save(self, epoch):
        """Backs up the model as having finished `epoch` epochs."""
        os.makedirs(self.backup_dir, exist_ok=True)
        name = f"epoch_{epoch:04d}.weights.h5"
        atomic_save(os.path.join(self.backup_dir, name), self.model.save_weights)
        atomic_write_json(
            os.path.join(self.backup_dir, METADATA),
            {"epoch": int(epoch), "batch": 0, "weights": name},
        )
        self._remove_uncommitted(
            BackupState(epoch, os.path.join(self.backup_dir, name))
        )

    def _remove_uncommitted(self, state):
        remove_temporary_files(self.backup_dir)
        if not os.path.isdir(self.backup_dir):
            return
        keep = os.path.basename(state.weights_path) if state else None
        for name in os.listdir(self.backup_dir):
            if name.endswith(".weights.h5") and name != keep:
                os.remove(os.path.join(self.backup_dir, name))


class AtomicModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """`keras.callbacks.ModelCheckpoint` writing each file with `atomic_save`.

    Same arguments. A kill during a save leaves the previous complete
    checkpoint under `filepath` (and at most a `.tmp-*` file beside it),
    never a truncated one.

    Example:

    ```python
    best = AtomicModelCheckpoint(
        "run/checkpoints/best.keras", monitor="val_accuracy", mode="max",
        save_best_only=True,
    )
    model.fit(x, y, validation_data=(vx, vy), epochs=10, callbacks=[best])
    ```
    """

    def _save_model(self, epoch, batch, logs):
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, batch, logs, filepath):
            return
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        save = self.model.save_weights if self.save_weights_only else self.model.save
        atomic_save(filepath, save)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")
