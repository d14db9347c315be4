"""Video models as `keras.applications`-style constructors.

`MODELS` (see `registry.py`) lists every constructor with a tiny config.
"""

from keras_video.applications.c3d import C3D
from keras_video.applications.cnn_rnn import CNNRNN
from keras_video.applications.fusion import EarlyFusion, LateFusion, SlowFusion
from keras_video.applications.i3d import I3D
from keras_video.applications.inception_i3d import (
    InceptionI3D,
    decode_predictions,
    preprocess_input,
)
from keras_video.applications.inflate import inflate
from keras_video.applications.recurrent_cnn import RecurrentCNN
from keras_video.applications.registry import MODELS, build_tiny, list_models
from keras_video.applications.resnet3d import MC3, R3D, R2Plus1D
from keras_video.applications.single_frame import SingleFrame
from keras_video.applications.slow import Slow
from keras_video.applications.slowfast import SlowFast
from keras_video.applications.two_stream import TwoStream, TwoStreamI3D

__all__ = [
    "C3D",
    "CNNRNN",
    "EarlyFusion",
    "I3D",
    "InceptionI3D",
    "LateFusion",
    "MC3",
    "MODELS",
    "R2Plus1D",
    "R3D",
    "RecurrentCNN",
    "SingleFrame",
    "Slow",
    "SlowFast",
    "SlowFusion",
    "TwoStream",
    "TwoStreamI3D",
    "build_tiny",
    "decode_predictions",
    "inflate",
    "list_models",
    "preprocess_input",
]
