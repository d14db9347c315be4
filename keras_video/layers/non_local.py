import keras

from keras_video.layers import _validation as check


@keras.saving.register_keras_serializable(package="keras_video")
class NonLocal(keras.layers.Layer):
    """The non-local block: self-attention over every position of a clip.

    ```
            x (b, t, h, w, c)
       ┌────────┼──────────────┐
     theta     phi (pooled)    g (pooled)        1x1x1 convs to c' channels
       └── f = softmax(theta·phiᵀ) ──┐           (or theta·phiᵀ / N)
                        y = f · g ───┘
                        z = BN(W y) + x          1x1x1 conv back to c
    ```

    The batch norm after `W` starts with a zero scale (or, without batch norm,
    `W` starts at zero), so a new block is the identity and can be inserted
    into a pretrained network without changing it.

    Args:
        mode: `"embedded_gaussian"` (softmax attention) or `"dot_product"`
            (attention scaled by the number of positions).
        inter_channels: channels `c'` of theta, phi and g; defaults to `c // 2`.
        sub_sample: max-pool phi and g by `(1, 2, 2)` to cut the cost by 4.
        use_batch_norm: batch norm after the output projection `W`.
        kernel_initializer: initializer name for the 1x1x1 convolutions.

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        Same as the input.

    Example:
    >>> block = NonLocal()
    >>> x = np.random.rand(1, 4, 8, 8, 16).astype("float32")
    >>> np.allclose(block(x), x)
    True

    Reference:
        Wang et al., "Non-local Neural Networks", CVPR 2018.
    """

    def __init__(
        self,
        mode="embedded_gaussian",
        inter_channels=None,
        sub_sample=True,
        use_batch_norm=True,
        kernel_initializer="he_normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.mode = check.one_of(mode, ("embedded_gaussian", "dot_product"), "mode")
        if inter_channels is not None:
            check.positive_int(inter_channels, "inter_channels")
        self.inter_channels = inter_channels
        self.sub_sample = bool(sub_sample)
        self.use_batch_norm = bool(use_batch_norm)
        self.kernel_initializer = kernel_initializer

    def _conv(self, filters, name, initializer=None):
        return keras.layers.Conv3D(
            filters,
            1,
            kernel_initializer=initializer or self.kernel_initializer,
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        check.check_rank(input_shape, 5, "NonLocal")
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"NonLocal needs a known channel axis. Received: input_shape={input_shape}")
        inner = self.inter_channels or max(channels // 2, 1)
        self.theta = self._conv(inner, "theta")
        self.phi = self._conv(inner, "phi")
        self.g = self._conv(inner, "g")
        self.pool = keras.layers.MaxPooling3D((1, 2, 2), dtype=self.dtype_policy, name="pool")
        self.out = self._conv(channels, "out", None if self.use_batch_norm else "zeros")
        self.bn = None
        if self.use_batch_norm:
            self.bn = keras.layers.BatchNormalization(
                gamma_initializer="zeros", dtype=self.dtype_policy, name="out_bn"
            )
        for conv in (self.theta, self.phi, self.g):
            conv.build(input_shape)
        self.out.build(input_shape[:-1] + (inner,))
        if self.bn is not None:
            self.bn.build(input_shape)

    def call(self, inputs, training=None):
        shape = keras.ops.shape(inputs)
        theta = self.theta(inputs)
        phi, g = self.phi(inputs), self.g(inputs)
        if self.sub_sample:
            phi, g = self.pool(phi), self.pool(g)
        inner = theta.shape[-1]
        theta = keras.ops.reshape(theta, (shape[0], -1, inner))
        phi = keras.ops.reshape(phi, (shape[0], -1, inner))
        g = keras.ops.reshape(g, (shape[0], -1, inner))
        affinity = keras.ops.matmul(theta, keras.ops.transpose(phi, (0, 2, 1)))
        if self.mode == "embedded_gaussian":
            affinity = keras.ops.softmax(affinity, axis=-1)
        else:
            positions = keras.ops.cast(keras.ops.shape(phi)[1], affinity.dtype)
            affinity = affinity / positions
        y = keras.ops.matmul(affinity, g)
        y = keras.ops.reshape(y, (shape[0], shape[1], shape[2], shape[3], inner))
        y = self.out(y)
        if self.bn is not None:
            y = self.bn(y, training=training)
        return y + inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "mode": self.mode,
                "inter_channels": self.inter_channels,
                "sub_sample": self.sub_sample,
                "use_batch_norm": self.use_batch_norm,
                "kernel_initializer": self.kernel_initializer,
            }
        )
        return config
