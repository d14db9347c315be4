import keras

from keras_video.layers import _validation as check


@keras.saving.register_keras_serializable(package="keras_video")
class TemporalPooling(keras.layers.Layer):
    """Average or max over time: the consensus of per-frame features or logits.

    The single-frame baseline averages per-frame class scores with it; late
    fusion pools per-frame features.

    Args:
        mode: `"average"` or `"max"`.
        keepdims: keep the time axis with length 1.

    Input shape:
        `(batch, frames, ...)`, any rank >= 3.

    Output shape:
        `(batch, ...)`, or `(batch, 1, ...)` with `keepdims=True`.

    Example:
    >>> keras.ops.convert_to_numpy(TemporalPooling("max")(np.array([[[1.0, 5.0], [3.0, 2.0]]])))
    array([[3., 5.]], dtype=float32)
    """

    def __init__(self, mode="average", keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.mode = check.one_of(mode, ("average", "max"), "mode")
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                "TemporalPooling expects inputs of rank >= 3, (batch, frames, ...). "
                f"Received: input_shape={tuple(input_shape)}"
            )

    def call(self, inputs):
        reduce = keras.ops.mean if self.mode == "average" else keras.ops.max
        return reduce(inputs, axis=1, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return (input_shape[0], 1) + tuple(input_shape[2:])
        return (input_shape[0],) + tuple(input_shape[2:])

    def get_config(self):
        config = super().get_config()
        config.update({"mode": self.mode, "keepdims": self.keepdims})
        return config
