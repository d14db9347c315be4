"""Training: recipes, the runner, schedules, mixed precision, FLOPs.

`keras_video.training.runner` imports TensorFlow (through `keras_video.data`)
only when a run starts; importing this package needs Keras only.
"""

from keras_video.training.checkpoints import (
    AtomicBackupAndRestore,
    AtomicModelCheckpoint,
)
from keras_video.training.flops import count_flops
from keras_video.training.precision import resolve_precision, select_precision
from keras_video.training.recipe import Recipe, apply_overrides, load_recipe
from keras_video.training.runner import (
    build_model,
    evaluate_videos,
    make_datasets,
    predict_videos,
    train,
)
from keras_video.training.schedules import WarmupCosineDecay

__all__ = [
    "AtomicBackupAndRestore",
    "AtomicModelCheckpoint",
    "Recipe",
    "WarmupCosineDecay",
    "apply_overrides",
    "build_model",
    "count_flops",
    "evaluate_videos",
    "load_recipe",
    "make_datasets",
    "predict_videos",
    "resolve_precision",
    "select_precision",
    "train",
]
