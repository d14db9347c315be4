"""Serving artifacts with proven parity: SavedModel, ONNX and LiteRT.

`export_model` writes an artifact that takes `[0, 255]` clips (uint8 or
float32) and carries its clip protocol; `load_exported` runs it with its own
runtime (TensorFlow, onnxruntime, the LiteRT interpreter); `check_parity`
compares the two. Importing this package needs Keras only.
"""

from keras_video.export.builtin_ops import SeparablePooling3D, builtin_model
from keras_video.export.errors import ExportError
from keras_video.export.exporter import FORMATS, export_model
from keras_video.export.parity import check_parity
from keras_video.export.protocol import read_protocol
from keras_video.export.runtime import ExportedModel, load_exported
from keras_video.export.serving import serving_model

__all__ = [
    "FORMATS",
    "ExportError",
    "ExportedModel",
    "SeparablePooling3D",
    "builtin_model",
    "check_parity",
    "export_model",
    "load_exported",
    "read_protocol",
    "serving_model",
]
