"""Video models as `keras.applications`-style constructors."""

# Model zoo (issue 3), except the I3D family.
from keras_video.applications.c3d import C3D
from keras_video.applications.cnn_rnn import CNNRNN
from keras_video.applications.fusion import EarlyFusion
from keras_video.applications.fusion import LateFusion
from keras_video.applications.fusion import SlowFusion
from keras_video.applications.recurrent_cnn import RecurrentCNN
from keras_video.applications.registry import MODELS
from keras_video.applications.registry import build_tiny
from keras_video.applications.registry import list_models
from keras_video.applications.resnet3d import MC3
from keras_video.applications.resnet3d import R2Plus1D
from keras_video.applications.resnet3d import R3D
from keras_video.applications.single_frame import SingleFrame
from keras_video.applications.slowfast import SlowFast
from keras_video.applications.two_stream import TwoStream
