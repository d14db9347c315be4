import keras

from keras_video.layers import _validation as check
from keras_video.layers._shapes import conv_output_shape


def mid_filters_for(time_kernel, spatial_kernel, in_channels, out_channels):
    """The R(2+1)D mid-channel count M that matches a full 3D conv's parameters.

    `M = floor(t*k*k*Nin*Nout / (k*k*Nin + t*Nout))` (Tran et al. 2018, sec. 3.5),
    for a `(t, k, k)` kernel; `spatial_kernel` is `k*k` as `(kh, kw)`.
    """
    kh, kw = spatial_kernel
    full = time_kernel * kh * kw * in_channels * out_channels
    return full // (kh * kw * in_channels + time_kernel * out_channels)


@keras.saving.register_keras_serializable(package="keras_video")
class Conv2Plus1D(keras.layers.Layer):
    """The R(2+1)D factorised convolution: spatial (1, k, k), then temporal (t, 1, 1).

    ```
    x -> Conv3D(M, (1, kh, kw), strides (1, sh, sw)) -> BatchNorm -> ReLU
      -> Conv3D(filters, (t, 1, 1), strides (st, 1, 1)) -> y
    ```

    With the default `mid_filters` the layer has as many convolution weights as
    a full `(t, kh, kw)` Conv3D, as in the paper and torchvision's `Conv2Plus1D`.
    Like torchvision, the output has no norm or activation of its own.

    Args:
        filters: int, output channels `Nout`.
        kernel_size: int or `(t, kh, kw)`.
        strides: int or `(st, sh, sw)`.
        padding: `"same"` or `"valid"`.
        mid_filters: channels `M` between the two convolutions; `None` computes
            them from the input channels with `mid_filters_for`.
        use_bias: whether both convolutions have a bias.
        batch_norm_epsilon: epsilon of the middle batch norm.
        batch_norm_momentum: momentum of the middle batch norm.
        kernel_initializer: initializer name for both kernels.

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, frames', height', width', filters)`.

    Example:
    >>> layer = Conv2Plus1D(16, kernel_size=3, strides=(2, 2, 2))
    >>> layer(np.zeros((1, 8, 32, 32, 3))).shape
    (1, 4, 16, 16, 16)

    Reference:
        Tran et al., "A Closer Look at Spatiotemporal Convolutions for Action
        Recognition", CVPR 2018.
    """

    def __init__(
        self,
        filters,
        kernel_size=3,
        strides=1,
        padding="same",
        mid_filters=None,
        use_bias=False,
        batch_norm_epsilon=1e-5,
        batch_norm_momentum=0.9,
        kernel_initializer="he_normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check.positive_int(filters, "filters")
        self.kernel_size = check.int_tuple(kernel_size, 3, "kernel_size")
        self.strides = check.int_tuple(strides, 3, "strides")
        self.padding = check.one_of(padding, ("same", "valid"), "padding")
        if mid_filters is not None:
            check.positive_int(mid_filters, "mid_filters")
        self.mid_filters = mid_filters
        self.use_bias = use_bias
        self.batch_norm_epsilon = batch_norm_epsilon
        self.batch_norm_momentum = batch_norm_momentum
        self.kernel_initializer = kernel_initializer
        self.spatial = None
        self.temporal = None

    def build(self, input_shape):
        check.check_rank(input_shape, 5, "Conv2Plus1D")
        check.check_time_kernel(input_shape, self.kernel_size[0], self.padding, "Conv2Plus1D")
        in_channels = input_shape[-1]
        if in_channels is None:
            raise ValueError(f"Conv2Plus1D needs a known channel axis. Received: input_shape={input_shape}")
        t, kh, kw = self.kernel_size
        st, sh, sw = self.strides
        mid = self.mid_filters or mid_filters_for(t, (kh, kw), in_channels, self.filters)
        self.spatial = keras.layers.Conv3D(
            mid,
            (1, kh, kw),
            strides=(1, sh, sw),
            padding=self.padding,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="spatial_conv",
        )
        self.bn = keras.layers.BatchNormalization(
            epsilon=self.batch_norm_epsilon,
            momentum=self.batch_norm_momentum,
            dtype=self.dtype_policy,
            name="spatial_bn",
        )
        self.temporal = keras.layers.Conv3D(
            self.filters,
            (t, 1, 1),
            strides=(st, 1, 1),
            padding=self.padding,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="temporal_conv",
        )
        self.spatial.build(input_shape)
        mid_shape = self.spatial.compute_output_shape(input_shape)
        self.bn.build(mid_shape)
        self.temporal.build(mid_shape)

    def call(self, inputs, training=None):
        x = self.spatial(inputs)
        x = self.bn(x, training=training)
        x = keras.ops.relu(x)
        return self.temporal(x)

    def compute_output_shape(self, input_shape):
        return conv_output_shape(
            input_shape, self.filters, self.kernel_size, self.strides, self.padding
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "mid_filters": self.mid_filters,
                "use_bias": self.use_bias,
                "batch_norm_epsilon": self.batch_norm_epsilon,
                "batch_norm_momentum": self.batch_norm_momentum,
                "kernel_initializer": self.kernel_initializer,
            }
        )
        return config
