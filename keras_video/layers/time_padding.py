import keras

from keras_video.layers import _validation as check


@keras.saving.register_keras_serializable(package="keras_video")
class TimePadding(keras.layers.Layer):
    """Pads the time axis of clips, by repeating edge frames or with zeros.

    `inflate` puts one before an inflated layer with `padding="valid"` and a
    temporal kernel `t > 1`, padding `(t - 1) // 2` frames before and the rest
    after, so the number of frames is kept. Repeating the first and last
    frames (`mode="replicate"`) keeps a static clip static, so an inflated
    model on a "boring video" gives the 2D model's output at every frame.

    Args:
        padding: `(before, after)`, the frames added at each end (ints >= 0).
        mode: `"replicate"` (repeat the first / last frame) or `"zeros"`.

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, frames + before + after, height, width, channels)`.

    Example:
    >>> clip = np.arange(3, dtype="float32").reshape(1, 3, 1, 1, 1)
    >>> out = TimePadding((1, 2))(clip)
    >>> keras.ops.convert_to_numpy(out)[0, :, 0, 0, 0]
    array([0., 0., 1., 2., 2., 2.], dtype=float32)
    """

    def __init__(self, padding=(1, 1), mode="replicate", **kwargs):
        super().__init__(**kwargs)
        self.padding = check.int_tuple(padding, 2, "padding", allow_zero=True)
        self.mode = check.one_of(mode, ("replicate", "zeros"), "mode")

    def build(self, input_shape):
        check.check_rank(input_shape, 5, "TimePadding")

    def call(self, inputs):
        before, after = self.padding
        if self.mode == "zeros":
            return keras.ops.pad(
                inputs, [(0, 0), (before, after), (0, 0), (0, 0), (0, 0)]
            )
        parts = [inputs[:, :1]] * before + [inputs] + [inputs[:, -1:]] * after
        return keras.ops.concatenate(parts, axis=1) if len(parts) > 1 else inputs

    def compute_output_shape(self, input_shape):
        frames = input_shape[1]
        if frames is not None:
            frames = frames + sum(self.padding)
        return (input_shape[0], frames) + tuple(input_shape[2:])

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "mode": self.mode})
        return config
