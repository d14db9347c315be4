import keras

from keras_video.layers import _validation as check

MODES = ("time_strided_conv", "time_to_channel", "time_strided_sample")


@keras.saving.register_keras_serializable(package="keras_video")
class SlowFastLateral(keras.layers.Layer):
    """The fast-to-slow lateral connection of SlowFast, fused by concatenation.

    ```
    fast (b, alpha*T, h, w, beta*C) ─ transform ─┐
    slow (b,       T, h, w,      C) ─────────── concat(axis=-1) -> (b, T, h, w, C + C')
    ```

    The fast features are brought to the slow frame rate by one of
    (Feichtenhofer et al. 2019, sec. 3.4):

    - `"time_strided_conv"` (the paper's default): Conv3D with kernel
      `(time_kernel, 1, 1)`, stride `(alpha, 1, 1)`, `time_kernel // 2` frames
      of zero padding in time (as PySlowFast) and `channel_ratio * beta*C`
      output channels, then batch norm and ReLU: `C' = 2 beta C` by default.
    - `"time_to_channel"`: fold each group of `alpha` frames into channels,
      `C' = alpha beta C`.
    - `"time_strided_sample"`: keep every `alpha`-th frame, `C' = beta C`.

    Args:
        alpha: frame-rate ratio between the pathways.
        mode: one of the three above.
        channel_ratio: output channels per fast channel (time-strided conv).
        time_kernel: temporal kernel size (time-strided conv).
        activation: activation after the batch norm (time-strided conv).
        batch_norm_epsilon: batch norm epsilon (time-strided conv).
        batch_norm_momentum: batch norm momentum (time-strided conv).
        kernel_initializer: initializer name of the conv kernel.

    Input shape:
        `[slow, fast]`: `(batch, T, h, w, C_slow)` and `(batch, alpha*T, h, w, C_fast)`.

    Output shape:
        `(batch, T, h, w, C_slow + C')`.

    Example:
    >>> lateral = SlowFastLateral(alpha=8)
    >>> slow, fast = np.zeros((1, 4, 14, 14, 64)), np.zeros((1, 32, 14, 14, 8))
    >>> lateral([slow, fast]).shape
    (1, 4, 14, 14, 80)

    Reference:
        Feichtenhofer et al., "SlowFast Networks for Video Recognition", ICCV 2019.
    """

    def __init__(
        self,
        alpha=8,
        mode="time_strided_conv",
        channel_ratio=2,
        time_kernel=5,
        activation="relu",
        batch_norm_epsilon=1e-5,
        batch_norm_momentum=0.9,
        kernel_initializer="he_normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.alpha = check.positive_int(alpha, "alpha")
        self.mode = check.one_of(mode, MODES, "mode")
        self.channel_ratio = check.positive_int(channel_ratio, "channel_ratio")
        self.time_kernel = check.positive_int(time_kernel, "time_kernel")
        self.activation = activation
        self.batch_norm_epsilon = batch_norm_epsilon
        self.batch_norm_momentum = batch_norm_momentum
        self.kernel_initializer = kernel_initializer

    def _fused_channels(self, fast_channels):
        if self.mode == "time_strided_conv":
            return self.channel_ratio * fast_channels
        if self.mode == "time_to_channel":
            return self.alpha * fast_channels
        return fast_channels

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(
                "SlowFastLateral is called on [slow, fast]. "
                f"Received: input_shape={input_shape}"
            )
        slow_shape, fast_shape = (tuple(s) for s in input_shape)
        check.check_rank(slow_shape, 5, "SlowFastLateral (slow pathway)")
        check.check_rank(fast_shape, 5, "SlowFastLateral (fast pathway)")
        if slow_shape[2:4] != fast_shape[2:4] and None not in slow_shape[2:4] + fast_shape[2:4]:
            raise ValueError(
                "SlowFastLateral needs pathways of the same height and width. "
                f"Received: slow={slow_shape}, fast={fast_shape}"
            )
        t_slow, t_fast = slow_shape[1], fast_shape[1]
        if t_slow is not None and t_fast is not None and self._fused_length(t_fast) != t_slow:
            raise ValueError(
                f"SlowFastLateral with alpha={self.alpha} maps {t_fast} fast frames "
                f"to {self._fused_length(t_fast)}, but the slow pathway has {t_slow}. "
                f"Received: slow={slow_shape}, fast={fast_shape}"
            )
        if self.mode == "time_to_channel" and t_fast is not None and t_fast % self.alpha:
            raise ValueError(
                f"time_to_channel needs fast frames divisible by alpha={self.alpha}. "
                f"Received: fast={fast_shape}"
            )
        if self.mode == "time_strided_conv":
            self.conv = keras.layers.Conv3D(
                self._fused_channels(fast_shape[-1]),
                (self.time_kernel, 1, 1),
                strides=(self.alpha, 1, 1),
                padding="valid",
                use_bias=False,
                kernel_initializer=self.kernel_initializer,
                dtype=self.dtype_policy,
                name="conv",
            )
            self.bn = keras.layers.BatchNormalization(
                epsilon=self.batch_norm_epsilon,
                momentum=self.batch_norm_momentum,
                dtype=self.dtype_policy,
                name="bn",
            )
            padded = (fast_shape[0], None) + fast_shape[2:]
            self.conv.build(padded)
            self.bn.build(self.conv.compute_output_shape(padded))
            self.act = keras.layers.Activation(self.activation, dtype=self.dtype_policy)

    def _fused_length(self, t_fast):
        if self.mode == "time_strided_conv":
            pad = self.time_kernel // 2
            return (t_fast + 2 * pad - self.time_kernel) // self.alpha + 1
        if self.mode == "time_to_channel":
            return t_fast // self.alpha
        return -(-t_fast // self.alpha)

    def call(self, inputs, training=None):
        slow, fast = inputs
        if self.mode == "time_strided_conv":
            pad = self.time_kernel // 2
            x = keras.ops.pad(fast, [(0, 0), (pad, pad), (0, 0), (0, 0), (0, 0)])
            x = self.act(self.bn(self.conv(x), training=training))
        elif self.mode == "time_to_channel":
            _, t, h, w, c = fast.shape
            x = keras.ops.reshape(fast, (-1, t // self.alpha, self.alpha, h, w, c))
            x = keras.ops.transpose(x, (0, 1, 3, 4, 2, 5))
            x = keras.ops.reshape(x, (-1, t // self.alpha, h, w, self.alpha * c))
        else:
            x = fast[:, :: self.alpha]
        return keras.ops.concatenate([slow, x], axis=-1)

    def compute_output_shape(self, input_shape):
        slow_shape, fast_shape = (tuple(s) for s in input_shape)
        channels = slow_shape[-1] + self._fused_channels(fast_shape[-1])
        return slow_shape[:-1] + (channels,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "alpha": self.alpha,
                "mode": self.mode,
                "channel_ratio": self.channel_ratio,
                "time_kernel": self.time_kernel,
                "activation": self.activation,
                "batch_norm_epsilon": self.batch_norm_epsilon,
                "batch_norm_momentum": self.batch_norm_momentum,
                "kernel_initializer": self.kernel_initializer,
            }
        )
        return config
