"""Video models as `keras.applications`-style constructors."""

# Model zoo (issue 3), except the I3D family.
from keras_video.applications.resnet3d import MC3
from keras_video.applications.resnet3d import R2Plus1D
from keras_video.applications.resnet3d import R3D
