"""Video layers written in `keras.ops`: they run on TensorFlow, JAX and PyTorch.

Clips are channels last: `(batch, frames, height, width, channels)`.
"""

from keras_video.layers.conv2plus1d import Conv2Plus1D
from keras_video.layers.conv3d_block import Conv3DBlock
from keras_video.layers.conv_gru import ConvGRU, ConvGRUCell
from keras_video.layers.inflated_conv import InflatedConv
from keras_video.layers.non_local import NonLocal
from keras_video.layers.roi_align import RoIAlign
from keras_video.layers.slowfast_lateral import SlowFastLateral
from keras_video.layers.temporal_pooling import TemporalPooling
from keras_video.layers.time_padding import TimePadding
from keras_video.layers.uniform_temporal_subsample import UniformTemporalSubsample
from keras_video.layers.weighted_fusion import WeightedFusion

__all__ = [
    "Conv2Plus1D",
    "Conv3DBlock",
    "ConvGRU",
    "ConvGRUCell",
    "InflatedConv",
    "NonLocal",
    "RoIAlign",
    "SlowFastLateral",
    "TemporalPooling",
    "TimePadding",
    "UniformTemporalSubsample",
    "WeightedFusion",
]
