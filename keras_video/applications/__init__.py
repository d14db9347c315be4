"""Video models as `keras.applications`-style constructors."""

# --- I3D (inflate, I3D, InceptionI3D, Kinetics-400 helpers) ---
from keras_video.applications import weights  # noqa: F401  (registers presets)
from keras_video.applications.i3d import I3D
from keras_video.applications.inception_i3d import (
    InceptionI3D,
    decode_predictions,
    preprocess_input,
)
from keras_video.applications.inflate import inflate

# --- end I3D ---

__all__ = [
    # I3D
    "I3D",
    "InceptionI3D",
    "decode_predictions",
    "inflate",
    "preprocess_input",
]
