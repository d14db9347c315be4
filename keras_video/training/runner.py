"""Runs a `Recipe`: data, model, optimiser, callbacks, fit, video-level evaluation.

```
run_dir/
  recipe.json          the recipe as run (overrides applied)
  class_names.json     class index -> name
  backup/              AtomicBackupAndRestore state (deleted when the run completes)
  checkpoints/         last.keras every epoch, best.keras (val accuracy)
  logs/                TensorBoard
  history.csv          per-epoch metrics
  model.keras          the final model (takes [0, 255] clips)
  eval.json            video-level top-1 / top-5 (multi-clip x multi-crop)
```

Exact resume: a run killed at any point and started again with the same
arguments restores the weights, optimiser state and epoch of the last completed
epoch (`checkpoints.AtomicBackupAndRestore`) and re-reads the data of the
interrupted epoch in the same order with the same clips, so it ends with the
same weights as a run that was never interrupted. The data pipeline draws a
new shuffle and new clips each time the dataset is iterated, from its seed; the
runner fits on `dataset.repeat()` with `steps_per_epoch` (one pass per epoch
from a single iterator), and on resume iterates the dataset once per completed
epoch first. Exact for single-device runs with `on_error="raise"`; a
distributed run resumes at the same epoch, but its data order may differ.

Kill-safe files: every file the run writes whole (the backup, checkpoints,
`model.keras`, `recipe.json`, `class_names.json`, `eval.json`) is written to a
temporary name, fsynced and renamed (`checkpoints.atomic_save`), so a kill
during a save leaves the previous complete file; a kill while the backup of
epoch `N` is written resumes from the backup of epoch `N - 1`. The backup is
deleted only after `model.keras` and `eval.json` are written, so a run killed
during the final save or evaluation resumes there instead of training again.
"""

import math
import os
import shutil
import tempfile

import keras
import numpy as np

from keras_video.training import checkpoints, multi_host
from keras_video.training import precision as precision_lib
from keras_video.training.recipe import Recipe
from keras_video.training.schedules import WarmupCosineDecay


def resolve_constructor(name):
    """`"R2Plus1D"` -> `keras_video.applications.R2Plus1D`; `"mod:fn"` -> `mod.fn`."""
    import importlib

    if ":" in name:
        module, attr = name.split(":", 1)
        return getattr(importlib.import_module(module), attr)
    from keras_video import applications

    if not hasattr(applications, name):
        raise ValueError(
            f"`model` must name a constructor of keras_video.applications or be "
            f"'module:function'. Received: model={name!r}"
        )
    return getattr(applications, name)


def build_model(recipe, num_classes):
    """The recipe's model for `num_classes`, taking `[0, 255]` clips."""
    input_shape = (recipe.clip_length, *recipe.image_size, 3)
    constructor = resolve_constructor(recipe.model)
    base = constructor(
        classes=num_classes, input_shape=input_shape, **recipe.model_args
    )
    if recipe.rescale is None:
        return base
    scale, offset = recipe.rescale
    inputs = keras.Input(input_shape, name="clip")
    x = keras.layers.Rescaling(scale, offset, name="rescale")(inputs)
    return keras.Model(inputs, base(x), name=base.name)


def _class_of(path, directory):
    return os.path.relpath(path, directory).split(os.sep)[0]


def _split_folders(data_dir):
    """`(train_dir, val_dir)` when `data_dir` holds `train/` and `val/` (or
    `validation/`), else `(None, None)`."""
    train_dir = os.path.join(data_dir, "train")
    for name in ("val", "validation"):
        if os.path.isdir(train_dir) and os.path.isdir(os.path.join(data_dir, name)):
            return train_dir, os.path.join(data_dir, name)
    return None, None


def _num_training_videos(recipe, data_dir):
    """The training videos of `make_datasets` (all shards), listed, not read."""
    from keras_video.data.listing import index_directory

    train_dir, _ = _split_folders(data_dir)
    if train_dir:
        return len(index_directory(train_dir))
    return len(index_directory(data_dir).split(recipe.validation_split, "training"))


def make_datasets(recipe, data_dir, shard=None, verbose=False, service=None):
    """`(train_ds, val_ds, class_names, val_paths, val_labels)` for `data_dir`.

    `data_dir` holds class folders (the last `validation_split` of the shuffled
    files are validation), or `train/` and `val/` (or `validation/`) folders
    of class folders. `service`: a tf.data service dispatcher's address that
    decodes and augments the training clips (`keras_video.data.service`; the
    same clips, in another order); validation decodes here.
    """
    from keras_video import data

    settings = recipe.clip_settings()
    common = dict(batch_size=recipe.batch_size, seed=recipe.seed, verbose=verbose)
    train_args = dict(
        augment=recipe.augment, shard=shard, clip_settings=settings, service=service
    )
    # Validation during training: one clip per video.
    val_settings = settings.replace(num_clips=1)
    train_dir, val_dir = _split_folders(data_dir)
    if train_dir:
        train_ds = data.video_dataset_from_directory(train_dir, **train_args, **common)
        class_names = train_ds.class_names
        val_ds = data.video_dataset_from_directory(
            val_dir, shuffle=False, class_names=class_names,
            clip_settings=val_settings, **common,
        )  # fmt: skip
        val_root = val_dir
    else:
        train_ds = data.video_dataset_from_directory(
            data_dir, validation_split=recipe.validation_split, subset="training",
            **train_args, **common,
        )  # fmt: skip
        val_ds = data.video_dataset_from_directory(
            data_dir, validation_split=recipe.validation_split,
            subset="validation", clip_settings=val_settings, **common,
        )  # fmt: skip
        class_names = train_ds.class_names
        val_root = data_dir
    val_paths = list(val_ds.file_paths)
    val_labels = np.asarray(
        [class_names.index(_class_of(p, val_root)) for p in val_paths], np.int32
    )
    return train_ds, val_ds, class_names, val_paths, val_labels


def make_optimizer(recipe, steps_per_epoch, epochs=None):
    epochs = epochs or recipe.epochs
    total = max(1, steps_per_epoch * epochs)
    warmup = min(total, int(round(recipe.warmup_epochs * steps_per_epoch)))
    schedule = WarmupCosineDecay(recipe.learning_rate, total, warmup_steps=warmup)
    if recipe.optimizer == "adamw":
        return keras.optimizers.AdamW(schedule, weight_decay=recipe.weight_decay)
    if recipe.optimizer == "sgd":
        return keras.optimizers.SGD(
            schedule, momentum=0.9, nesterov=True, weight_decay=recipe.weight_decay
        )
    raise ValueError(
        f"`optimizer` must be 'adamw' or 'sgd'. Received: {recipe.optimizer!r}"
    )


def compile_model(model, recipe, steps_per_epoch, policy="float32", epochs=None):
    num_classes = model.outputs[0].shape[-1]
    optimizer = precision_lib.wrap_optimizer(
        make_optimizer(recipe, steps_per_epoch, epochs), policy
    )
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=[
            "accuracy",
            keras.metrics.SparseTopKCategoricalAccuracy(
                k=min(5, num_classes), name="top5"
            ),
        ],
    )
    return model


# ----------------------------------------------------------------- distribution


class _NoScope:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


DISTRIBUTE_MODES = ("local", "multi-host")


def distribute_mode(distribute):
    """`None` (one device), `"local"` or `"multi-host"` for `distribute`.

    `True` means `"local"`; `False` or `None` one device.
    """
    if distribute is None or distribute is False:
        return None
    if distribute is True:
        return "local"
    if distribute not in DISTRIBUTE_MODES:
        raise ValueError(
            "`distribute` must be False, True, 'local' or 'multi-host'. "
            f"Received: distribute={distribute!r}"
        )
    return distribute


def distribution_scope(distribute):
    """A context in which to build, compile and fit.

    `"local"` (or `True`), all local devices: TensorFlow
    `tf.distribute.MirroredStrategy().scope()`; JAX
    `keras.distribution.DataParallel` set globally (reset on exit).
    `"multi-host"`: `multi_host.scope()` (call `multi_host.initialize`
    first). Other backends raise; `distribute=False`: nothing.
    """
    mode = distribute_mode(distribute)
    if mode is None:
        return _NoScope()
    backend = keras.backend.backend()
    if backend not in ("tensorflow", "jax"):
        raise ValueError(
            f"--distribute supports the tensorflow and jax backends. "
            f"Received: {backend}"
        )
    if mode == "multi-host":
        return multi_host.scope()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.distribute.MirroredStrategy().scope()
    return _DataParallelScope()


class _DataParallelScope:
    def __enter__(self):
        devices = keras.distribution.list_devices()
        self.previous = keras.distribution.distribution()
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=devices)
        )
        return self

    def __exit__(self, *exc):
        keras.distribution.set_distribution(self.previous)
        return False


def num_replicas(distribute):
    """Devices training in sync (over every host with `"multi-host"`)."""
    mode = distribute_mode(distribute)
    if mode is None:
        return 1
    if mode == "multi-host":
        return multi_host.num_replicas()
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.distribute.get_strategy().num_replicas_in_sync
    return len(keras.distribution.list_devices())


# ------------------------------------------------------------------- callbacks


def _backup_epoch(backup_dir):
    state = checkpoints.backup_state(backup_dir)
    return 0 if state is None else state.epoch


def _has_tensorboard():
    import importlib.util
    import logging

    if importlib.util.find_spec("tensorboard") is None:
        logging.getLogger("keras_video").warning(
            "keras_video: TensorBoard is not installed (pip install tensorboard); "
            "no TensorBoard logs, history.csv only."
        )
        return False
    return True


class ReseedRandomLayers(keras.callbacks.Callback):
    """Sets every random layer's seed (Dropout, ...) from `(seed, epoch)` at the
    start of each epoch, so a resumed epoch draws the same dropout masks as an
    uninterrupted one (`BackupAndRestore` restores weights, not seed states).
    """

    def __init__(self, seed):
        super().__init__()
        self.seed = int(seed)

    def on_epoch_begin(self, epoch, logs=None):
        index = 0
        for layer in self.model._flatten_layers(include_self=True, recursive=True):
            for generator in getattr(layer, "_seed_generators", []):
                state = np.asarray(
                    [(self.seed * 1_000_003 + epoch * 7_919 + index) % 2**31, 0]
                )
                generator.state.assign(
                    keras.ops.cast(
                        state, keras.backend.standardize_dtype(generator.state.dtype)
                    )
                )
                index += 1


def make_callbacks(run_dir, tensorboard=True, seed=0):
    """Backup, per-epoch checkpoints, CSV history and TensorBoard (when the
    `tensorboard` package is installed).

    The backup (`checkpoints.AtomicBackupAndRestore`, kept when `fit` ends:
    `train` deletes it once the run is complete) and the checkpoints
    (`checkpoints.AtomicModelCheckpoint`) are written atomically; stray
    temporary files of a killed save are deleted here.
    """
    checkpoint_dir = os.path.join(run_dir, "checkpoints")
    os.makedirs(checkpoint_dir, exist_ok=True)
    checkpoints.remove_temporary_files(checkpoint_dir)
    callbacks = [
        ReseedRandomLayers(seed),
        checkpoints.AtomicBackupAndRestore(
            os.path.join(run_dir, "backup"), delete_checkpoint=False
        ),
        checkpoints.AtomicModelCheckpoint(os.path.join(checkpoint_dir, "last.keras")),
        checkpoints.AtomicModelCheckpoint(
            os.path.join(checkpoint_dir, "best.keras"),
            monitor="val_accuracy",
            mode="max",
            save_best_only=True,
        ),
        keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=True),
    ]
    if tensorboard and _has_tensorboard():
        callbacks.append(
            keras.callbacks.TensorBoard(
                os.path.join(run_dir, "logs"), write_graph=False
            )
        )
    return callbacks


# ------------------------------------------------------------------ evaluation


def predict_videos(
    model, paths, recipe, num_clips=None, num_crops=None, batch_size=None
):
    """Video-level scores: the mean model output over `num_clips x num_crops`
    test clips per video (`keras_video.data.video_test_dataset`, the recipe's
    clip settings; defaults `recipe.eval_num_clips` / `recipe.eval_num_crops`).

    Returns:
        `(num_videos, num_classes)` float NumPy array, one row per path.
    """
    from keras_video.evaluation.views import video_scores

    settings = recipe.clip_settings(evaluation=True)
    if num_clips:
        settings = settings.replace(num_clips=num_clips)
    scores, _ = video_scores(
        model, paths, settings, num_crops or recipe.eval_num_crops,
        batch_size or recipe.batch_size,
    )  # fmt: skip
    return scores


def evaluate_videos(
    model, paths, labels, recipe, num_clips=None, num_crops=None, batch_size=None
):
    """Video-level top-1 / top-5: the mean prediction of `num_clips x num_crops`
    test clips per video (`predict_videos`).

    Returns:
        dict with `top1`, `top5`, `num_videos`, `num_clips`, `num_crops` and
        `predictions` (`(num_videos, num_classes)` NumPy, not JSON-saved).
    """
    num_clips = num_clips or recipe.eval_num_clips
    num_crops = num_crops or recipe.eval_num_crops
    video_scores = predict_videos(
        model, paths, recipe, num_clips, num_crops, batch_size
    )
    from keras_video.evaluation.views import top_k_accuracy

    return {
        "top1": top_k_accuracy(video_scores, labels, 1),
        "top5": top_k_accuracy(video_scores, labels, 5),
        "num_videos": len(paths),
        "num_clips": int(num_clips),
        "num_crops": int(num_crops),
        "predictions": video_scores,
    }


# ------------------------------------------------------------------------ train


def _copy_backup(source_dir, target_dir):
    """Copies the committed backup of `source_dir` (if any) to `target_dir`
    (a non-chief host's own backup folder), leaving `source_dir` untouched."""
    state = checkpoints.backup_state(source_dir)
    if state is None:
        return
    os.makedirs(target_dir, exist_ok=True)
    name = os.path.basename(state.weights_path)
    checkpoints.atomic_save(
        os.path.join(target_dir, name),
        lambda tmp: shutil.copyfile(state.weights_path, tmp),
    )
    checkpoints.atomic_write_json(
        os.path.join(target_dir, checkpoints.METADATA),
        {"epoch": state.epoch, "batch": 0, "weights": name},
    )


def _batch_datasets(mode, recipe, replicas, train_ds, val_ds, num_train, cluster):
    """`(train_ds, val_ds, steps_per_epoch)` with the batches each process feeds.

    One device: as they are. `"local"`: an equal share of each batch for every
    device (JAX needs it; Keras' TF trainer fails on uneven per-replica
    batches). `"multi-host"`: this host's share of the global batch; every
    host takes the same number of steps (that of the smallest file shard).
    """
    if mode is None:
        return train_ds, val_ds, math.ceil(num_train / recipe.batch_size)
    if mode == "local":
        batch = recipe.batch_size - recipe.batch_size % replicas
        train_ds = train_ds.unbatch().batch(batch, drop_remainder=True)
        val_ds = val_ds.unbatch().batch(batch, drop_remainder=True)
        return train_ds, val_ds, num_train // batch
    batch = multi_host.host_batch_size(
        recipe.batch_size, cluster.num_processes, multi_host.local_replicas()
    )
    steps = num_train // cluster.num_processes // batch
    if steps < 1:
        raise ValueError(
            f"Too few training clips for one global batch on each host: "
            f"{num_train} clips over {cluster.num_processes} hosts. Received: "
            f"batch_size={recipe.batch_size}"
        )
    train_ds = train_ds.unbatch().batch(batch, drop_remainder=True)
    # Every host validates on every video (the same batches on all hosts).
    val_ds = val_ds.unbatch().batch(
        batch, drop_remainder=multi_host.local_replicas() > 1
    )
    return train_ds, val_ds, steps


def train(
    recipe,
    data_dir,
    run_dir,
    distribute=False,
    verbose="auto",
    callbacks=None,
    evaluate=True,
    tensorboard=True,
    cluster=None,
    service=None,
):
    """Trains `recipe` on `data_dir`, writing everything to `run_dir`.

    Run it again with the same arguments after an interruption: it resumes
    from the last completed epoch (see the module docstring). A run killed
    after its last epoch (while saving `model.keras` or evaluating) trains no
    more epochs on the rerun; its `history` is then empty.

    Multi-host (`distribute="multi-host"`, one process per host, see
    `keras_video.training.multi_host`): each host reads its own shard of the
    training files (`shard=(num_processes, process_id)`) and feeds
    `batch_size / num_processes` clips of each global batch. Only the chief
    (process 0) writes `run_dir` (which must be the same shared folder on
    every host); the others write to a temporary folder deleted at the end
    and, on a restart, restore the chief's backup. Only the chief evaluates.

    Args:
        recipe: a `Recipe`.
        data_dir: class folders, or `train/` + `val/` folders of them.
        run_dir: output folder (created).
        distribute: `False` (one device), `True` or `"local"` (all local
            devices, see `distribution_scope`) or `"multi-host"`.
        verbose: `model.fit` verbosity (`"auto"`: progress bars).
        callbacks: extra Keras callbacks.
        evaluate: run the final multi-clip x multi-crop video evaluation.
        tensorboard: write TensorBoard logs.
        cluster: `multi_host.Cluster` for `"multi-host"` (default:
            `multi_host.cluster_spec()`, from the environment).
        service: a tf.data service dispatcher's address: the training clips
            are decoded and augmented by its workers (see `make_datasets`).

    Returns:
        dict: `history` (per-epoch metrics), `eval` (video-level results or
        `None`), `model_path`, `policy`, `class_names`, `model`, `replicas`
        (devices trained on). On a non-chief host `eval` and `model_path`
        are `None`.
    """
    if not isinstance(recipe, Recipe):
        raise TypeError(f"`recipe` must be a Recipe. Received: {recipe!r}")
    mode = distribute_mode(distribute)
    chief = True
    if mode == "multi-host":
        cluster = cluster or multi_host.cluster_spec()
        multi_host.initialize(cluster)
        chief = multi_host.is_chief(cluster)
    out_dir = run_dir
    if not chief:
        out_dir = tempfile.mkdtemp(prefix=f"keras_video_worker{cluster.process_id}_")
        _copy_backup(os.path.join(run_dir, "backup"), os.path.join(out_dir, "backup"))
    try:
        result = _train(
            recipe, data_dir, out_dir, mode, cluster, verbose, callbacks,
            evaluate and chief, tensorboard, service,
        )  # fmt: skip
    finally:
        if not chief:
            shutil.rmtree(out_dir, ignore_errors=True)
    if not chief:
        result["model_path"] = None
    return result


def _evaluate(model, val_paths, val_labels, recipe, run_dir):
    """`evaluate_videos`, saved to `run_dir/eval.json` (less the predictions)."""
    results = evaluate_videos(model, val_paths, val_labels, recipe)
    saved = {k: v for k, v in results.items() if k != "predictions"}
    checkpoints.atomic_write_json(os.path.join(run_dir, "eval.json"), saved, indent=2)
    return results


def _train(
    recipe, data_dir, run_dir, mode, cluster, verbose, callbacks, evaluate,
    tensorboard, service,
):  # fmt: skip
    os.makedirs(run_dir, exist_ok=True)
    checkpoints.remove_temporary_files(run_dir)
    checkpoints.atomic_save(os.path.join(run_dir, "recipe.json"), recipe.save)
    keras.utils.set_random_seed(recipe.seed)
    policy = precision_lib.resolve_precision(recipe.precision)
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    shard = None
    if mode == "multi-host":
        shard = (cluster.num_processes, cluster.process_id)
    try:
        with distribution_scope(mode):
            replicas = num_replicas(mode)
            train_ds, val_ds, class_names, val_paths, val_labels = make_datasets(
                recipe, data_dir, shard, verbose not in (0, False), service
            )
            # The clips of an epoch, all hosts together.
            num_train = _num_training_videos(recipe, data_dir) * recipe.num_clips
            train_ds, val_ds, steps_per_epoch = _batch_datasets(
                mode, recipe, replicas, train_ds, val_ds, num_train, cluster
            )
            checkpoints.atomic_write_json(
                os.path.join(run_dir, "class_names.json"), class_names
            )
            model = build_model(recipe, len(class_names))
            compile_model(model, recipe, steps_per_epoch, policy)
            all_callbacks = make_callbacks(run_dir, tensorboard, recipe.seed) + list(
                callbacks or []
            )
            # One pass over the files per epoch, all from one iterator: pass `e`
            # is the `e`-th iteration of `train_ds`, whose shuffle and clip seeds
            # advance each time it is iterated. On resume, iterate it once per
            # completed epoch so the interrupted epoch sees the same data.
            backup_dir = os.path.join(run_dir, "backup")
            for _ in range(_backup_epoch(backup_dir)):
                iter(train_ds)
            if mode == "multi-host":
                train_ds = multi_host.distribute_dataset(train_ds.repeat())
                val_ds = multi_host.distribute_dataset(val_ds)
            else:
                train_ds = train_ds.repeat()
            history = model.fit(
                train_ds,
                steps_per_epoch=steps_per_epoch,
                validation_data=val_ds,
                epochs=recipe.epochs,
                callbacks=all_callbacks,
                verbose=verbose,
            )
            model_path = os.path.join(run_dir, "model.keras")
            checkpoints.atomic_save(model_path, model.save)
            results = None
            if evaluate and mode != "multi-host":
                results = _evaluate(model, val_paths, val_labels, recipe, run_dir)
        if evaluate and mode == "multi-host":
            # The chief alone, on a copy of the model outside the cluster.
            eval_model = keras.saving.load_model(model_path)
            results = _evaluate(eval_model, val_paths, val_labels, recipe, run_dir)
        # The run is complete: a rerun now starts a new run from epoch 0.
        shutil.rmtree(backup_dir, ignore_errors=True)
    finally:
        keras.config.set_dtype_policy(previous_policy)
    return {
        "history": history.history,
        "eval": results,
        "model_path": model_path,
        "policy": policy,
        "class_names": class_names,
        "model": model,
        "replicas": replicas,
    }
