"""keras-video: video understanding for Keras 3.

`import keras_video` needs only Keras: `layers` and `applications` run on the
TensorFlow, JAX and PyTorch backends. The other sub-packages (`data`, which
needs TensorFlow; `training`; `tuners`, which needs keras-tuner) are imported
on first use: `keras_video.data` works without importing it first.
"""

import importlib

from keras_video import applications, layers
from keras_video.version import __version__

# Only sub-packages that exist: a name here that fails to import is a bug.
_LAZY_SUBPACKAGES = (
    "data", "detection", "evaluation", "export", "flow", "streaming", "training",
    "tuners", "visualization",
)  # fmt: skip


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        return importlib.import_module(f"keras_video.{name}")
    raise AttributeError(f"module 'keras_video' has no attribute {name!r}")


__all__ = ["applications", "layers", "__version__", *_LAZY_SUBPACKAGES]
