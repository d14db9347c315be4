"""keras-video: video understanding for Keras 3.

`import keras_video` needs only Keras: `layers` and `applications` run on the
TensorFlow, JAX and PyTorch backends. Sub-packages that need TensorFlow or
OpenCV (`data`, and later `flow`, `visualization`) are imported on first use.
"""

import importlib

from keras_video import applications
from keras_video import layers
from keras_video.version import __version__

_LAZY_SUBPACKAGES = ("data", "flow", "detection", "visualization", "tuners")


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        return importlib.import_module(f"keras_video.{name}")
    raise AttributeError(f"module 'keras_video' has no attribute {name!r}")


__all__ = ["applications", "layers", "__version__", *_LAZY_SUBPACKAGES]
