import json
import os

import keras
import numpy as np
import pytest

from keras_video.training import checkpoints
from keras_video.training.checkpoints import (
    AtomicBackupAndRestore,
    AtomicModelCheckpoint,
    atomic_save,
    backup_state,
)


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(8, 3)).astype("float32"), np.zeros((8, 2), "float32")


def _weights(model):
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def _partial_writer(text):
    def write(tmp):
        with open(tmp, "w") as f:
            f.write(text[: len(text) // 2])
        raise OSError("disk full")

    return write


def test_atomic_save_failure_keeps_the_old_file(tmp_path):
    path = tmp_path / "eval.json"
    path.write_text('{"top1": 0.5}')
    with pytest.raises(OSError, match="disk full"):
        atomic_save(path, _partial_writer('{"top1": 0.75, "top5": 1.0}'))
    assert path.read_text() == '{"top1": 0.5}'
    assert os.listdir(tmp_path) == ["eval.json"]  # the partial temp file is gone
    checkpoints.atomic_write_json(path, {"top1": 0.75})
    assert json.loads(path.read_text()) == {"top1": 0.75}
    assert os.listdir(tmp_path) == ["eval.json"]


def test_leftover_temporary_files_are_never_read_and_get_removed(tmp_path):
    # What a hard kill in the middle of `write` leaves: a partial temp file.
    (tmp_path / f"{checkpoints.TMP_PREFIX}abc-last.keras").write_bytes(b"PK\x03")
    (tmp_path / "last.keras").write_bytes(b"complete")
    assert checkpoints.remove_temporary_files(tmp_path / "missing") == []
    removed = checkpoints.remove_temporary_files(tmp_path)
    assert [os.path.basename(p) for p in removed] == [".tmp-abc-last.keras"]
    assert os.listdir(tmp_path) == ["last.keras"]


def test_backup_commits_weights_and_epoch_together(tmp_path, monkeypatch):
    backup = str(tmp_path / "backup")
    x, y = _data()
    model = _model()
    keep = AtomicBackupAndRestore(backup, delete_checkpoint=False)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[keep])
    after_two = _weights(model)
    state = backup_state(backup)
    assert state.epoch == 2
    assert sorted(os.listdir(backup)) == [
        "epoch_0002.weights.h5",
        "training_metadata.json",
    ]
    # Killed after the epoch-3 weights file is complete but before the
    # metadata that commits it: the backup is still the one of epoch 2.
    original = checkpoints.atomic_write_json

    def fail(path, value, **kwargs):
        if os.path.basename(path) == checkpoints.METADATA:
            raise KeyboardInterrupt("killed")
        original(path, value, **kwargs)

    monkeypatch.setattr(checkpoints, "atomic_write_json", fail)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=3, verbose=0, callbacks=[AtomicBackupAndRestore(backup)])
    monkeypatch.setattr(checkpoints, "atomic_write_json", original)
    assert "epoch_0003.weights.h5" in os.listdir(backup)
    assert backup_state(backup) == (2, os.path.join(backup, "epoch_0002.weights.h5"))
    fresh = _model(seed=1)
    callback = AtomicBackupAndRestore(backup)
    callback.set_model(fresh)
    assert callback.restore() == 2
    assert fresh._initial_epoch == 2
    for a, b in zip(_weights(fresh), after_two, strict=True):
        np.testing.assert_array_equal(a, b)
    assert "epoch_0003.weights.h5" not in os.listdir(backup)  # uncommitted


def test_unreadable_backup_names_the_file(tmp_path):
    backup = tmp_path / "backup"
    backup.mkdir()
    callback = AtomicBackupAndRestore(str(backup))
    callback.set_model(_model())
    assert callback.restore() == 0  # nothing committed: train from epoch 0
    # Keras' own BackupAndRestore killed while writing its weights in place.
    _model().save_weights(backup / "latest.weights.h5")
    data = (backup / "latest.weights.h5").read_bytes()
    (backup / "latest.weights.h5").write_bytes(data[: len(data) // 2])
    (backup / "training_metadata.json").write_text('{"epoch": 4, "batch": 0}')
    assert backup_state(str(backup)).epoch == 4  # Keras' layout is read
    with pytest.raises(ValueError, match="latest.weights.h5 cannot be read"):
        callback.restore()
    (backup / "training_metadata.json").write_text('{"epoch": 4, "ba')
    with pytest.raises(ValueError, match="training_metadata.json cannot be read"):
        backup_state(str(backup))
    (backup / "training_metadata.json").write_text(
        '{"epoch": 4, "weights": "epoch_0004.weights.h5"}'
    )
    with pytest.raises(ValueError, match="epoch_0004.weights.h5 cannot be read"):
        backup_state(str(backup))


def test_model_checkpoint_failure_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = str(tmp_path / "last.keras")
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[AtomicModelCheckpoint(path)])
    saved = _weights(keras.saving.load_model(path))

    def partial_save(filepath, *args, **kwargs):
        with open(filepath, "wb") as f:
            f.write(b"PK\x03\x04")
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(model, "save", partial_save)  # killed mid-write
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[AtomicModelCheckpoint(path)])
    assert os.listdir(tmp_path) == ["last.keras"]
    for a, b in zip(_weights(keras.saving.load_model(path)), saved, strict=True):
        np.testing.assert_array_equal(a, b)
