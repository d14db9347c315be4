import keras

from keras_video.layers import _validation as check


@keras.saving.register_keras_serializable(package="keras_video")
class Conv3DBlock(keras.layers.Layer):
    """3D convolution, then batch norm, then an activation.

    ```
    x -> Conv3D(filters, kernel_size, strides) -> BatchNorm -> activation -> y
    ```

    Args:
        filters: int, output channels.
        kernel_size: int or `(t, h, w)`.
        strides: int or `(t, h, w)`.
        padding: `"same"` (TensorFlow semantics) or `"valid"`.
        dilation_rate: int or `(t, h, w)`.
        activation: activation name, or `None`.
        norm: `"batch_norm"` or `None`.
        use_bias: whether the convolution has a bias. Defaults to `norm is None`.
        batch_norm_scale: whether batch norm learns a scale (`gamma`).
        batch_norm_epsilon: batch norm epsilon.
        batch_norm_momentum: batch norm moving-average momentum.
        kernel_initializer: initializer name for the convolution kernel.

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, frames', height', width', filters)`.

    Example:
    >>> block = Conv3DBlock(8, kernel_size=(3, 3, 3), strides=(1, 2, 2))
    >>> block(np.zeros((1, 4, 16, 16, 3))).shape
    (1, 4, 8, 8, 8)
    """

    def __init__(
        self,
        filters,
        kernel_size=3,
        strides=1,
        padding="same",
        dilation_rate=1,
        activation="relu",
        norm="batch_norm",
        use_bias=None,
        batch_norm_scale=True,
        batch_norm_epsilon=1e-3,
        batch_norm_momentum=0.99,
        kernel_initializer="he_normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check.positive_int(filters, "filters")
        self.kernel_size = check.int_tuple(kernel_size, 3, "kernel_size")
        self.strides = check.int_tuple(strides, 3, "strides")
        self.padding = check.one_of(padding, ("same", "valid"), "padding")
        self.dilation_rate = check.int_tuple(dilation_rate, 3, "dilation_rate")
        self.activation = activation
        self.norm = check.one_of(norm, ("batch_norm", None), "norm")
        self.use_bias = (norm is None) if use_bias is None else bool(use_bias)
        self.batch_norm_scale = batch_norm_scale
        self.batch_norm_epsilon = batch_norm_epsilon
        self.batch_norm_momentum = batch_norm_momentum
        self.kernel_initializer = kernel_initializer

        self.conv = keras.layers.Conv3D(
            filters,
            self.kernel_size,
            strides=self.strides,
            padding=padding,
            dilation_rate=self.dilation_rate,
            use_bias=self.use_bias,
            kernel_initializer=kernel_initializer,
            dtype=self.dtype_policy,
            name="conv",
        )
        self.bn = None
        if norm == "batch_norm":
            self.bn = keras.layers.BatchNormalization(
                epsilon=batch_norm_epsilon,
                momentum=batch_norm_momentum,
                scale=batch_norm_scale,
                dtype=self.dtype_policy,
                name="bn",
            )
        self.act = keras.layers.Activation(activation, dtype=self.dtype_policy)

    def build(self, input_shape):
        check.check_rank(input_shape, 5, self.__class__.__name__)
        check.check_time_kernel(
            input_shape, self.kernel_size[0], self.padding, self.__class__.__name__
        )
        self.conv.build(input_shape)
        output_shape = self.conv.compute_output_shape(input_shape)
        if self.bn is not None:
            self.bn.build(output_shape)

    def call(self, inputs, training=None):
        x = self.conv(inputs)
        if self.bn is not None:
            x = self.bn(x, training=training)
        return self.act(x)

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "dilation_rate": self.dilation_rate,
                "activation": self.activation,
                "norm": self.norm,
                "use_bias": self.use_bias,
                "batch_norm_scale": self.batch_norm_scale,
                "batch_norm_epsilon": self.batch_norm_epsilon,
                "batch_norm_momentum": self.batch_norm_momentum,
                "kernel_initializer": self.kernel_initializer,
            }
        )
        return config
