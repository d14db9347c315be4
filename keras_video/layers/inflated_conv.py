import keras
import numpy as np

from keras_video.layers import _validation as check
from keras_video.layers._validation import same_padding


@keras.saving.register_keras_serializable(package="keras_video")
class InflatedConv(keras.layers.Conv3D):
    """A Conv3D whose kernel is inflated from a 2D convolution (I3D).

    Build one from a trained `Conv2D` with `InflatedConv.from_conv2d`:

    - `mode="mean"` repeats the 2D kernel `time_kernel` times and divides by
      `time_kernel`, so a static clip ("boring video") gives the 2D response;
    - `mode="center"` puts the 2D kernel at the middle time step, zeros elsewhere.

    With `padding="same"` the time axis is padded with zeros (`time_padding=
    "zeros"`, as Conv3D does) or by repeating the first and last frames
    (`time_padding="replicate"`); with replicate padding a static clip gives
    exactly the 2D response at every frame, the first and last included.
    Otherwise it is a `keras.layers.Conv3D` (channels last) in every respect.

    Args:
        filters: as `keras.layers.Conv3D`.
        kernel_size: as `keras.layers.Conv3D`; `(t, kh, kw)`.
        time_padding: `"zeros"` or `"replicate"`, used when `padding="same"`.
        **kwargs: the other `keras.layers.Conv3D` arguments (`strides`,
            `padding`, `dilation_rate`, `groups`, `activation`, `use_bias`, ...).

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, frames', height', width', filters)`.

    Example:
    >>> conv2d = keras.layers.Conv2D(8, 3, padding="same")
    >>> conv2d.build((None, 32, 32, 3))
    >>> conv3d = InflatedConv.from_conv2d(conv2d, time_kernel=3, mode="mean")
    >>> conv3d(np.zeros((1, 4, 32, 32, 3))).shape
    (1, 4, 32, 32, 8)

    Reference:
        Carreira and Zisserman, "Quo Vadis, Action Recognition? A New Model and
        the Kinetics Dataset", CVPR 2017.
    """

    def __init__(self, filters, kernel_size, time_padding="zeros", **kwargs):
        check.positive_int(filters, "filters")
        kwargs.pop("data_format", None)
        self.time_padding = check.one_of(time_padding, ("zeros", "replicate"), "time_padding")
        super().__init__(filters, kernel_size, data_format="channels_last", **kwargs)

    @classmethod
    def from_conv2d(
        cls,
        layer,
        time_kernel=3,
        mode="mean",
        time_stride=1,
        time_padding="zeros",
        time_dilation=1,
        name=None,
    ):
        """Returns a built `InflatedConv` with the inflated weights of `layer`.

        Args:
            layer: a built `keras.layers.Conv2D` (channels last).
            time_kernel: temporal kernel size `t`.
            mode: `"mean"` (kernel repeated over time, divided by `t`) or
                `"center"` (kernel at the middle step, zeros elsewhere).
            time_stride: temporal stride.
            time_padding: `"zeros"` or `"replicate"` (see the class docstring).
            time_dilation: temporal dilation.
            name: the new layer's name; defaults to the 2D layer's.
        """
        if not isinstance(layer, keras.layers.Conv2D):
            raise ValueError(
                "InflatedConv.from_conv2d needs a keras.layers.Conv2D. "
                f"Received: layer={layer!r}"
            )
        if not layer.built:
            raise ValueError(
                f"InflatedConv.from_conv2d needs a built layer; '{layer.name}' "
                "has no weights yet. Build it (or its model) first."
            )
        if layer.data_format != "channels_last":
            raise ValueError(
                f"InflatedConv.from_conv2d supports channels_last layers only. "
                f"Received: data_format={layer.data_format!r} for '{layer.name}'"
            )
        check.positive_int(time_kernel, "time_kernel")
        check.positive_int(time_stride, "time_stride")
        check.one_of(mode, ("mean", "center"), "mode")
        config = layer.get_config()
        inflated = cls(
            filters=config["filters"],
            kernel_size=(time_kernel,) + tuple(config["kernel_size"]),
            strides=(time_stride,) + tuple(config["strides"]),
            padding=config["padding"],
            dilation_rate=(time_dilation,) + tuple(config["dilation_rate"]),
            groups=config["groups"],
            activation=config["activation"],
            use_bias=config["use_bias"],
            time_padding=time_padding,
            name=name or layer.name,
            dtype=layer.dtype_policy,
        )
        kernel_2d = keras.ops.convert_to_numpy(layer.kernel)
        in_channels = kernel_2d.shape[2] * config["groups"]
        inflated.build((None, None, None, None, in_channels))
        weights = [inflate_kernel(kernel_2d, time_kernel, mode)]
        if config["use_bias"]:
            weights.append(keras.ops.convert_to_numpy(layer.bias))
        inflated.set_weights(weights)
        return inflated

    def build(self, input_shape):
        check.check_rank(input_shape, 5, "InflatedConv")
        check.check_time_kernel(input_shape, self.kernel_size[0], self.padding, "InflatedConv")
        super().build(input_shape)

    def call(self, inputs):
        if self.padding == "valid" or self.time_padding == "zeros":
            return super().call(inputs)
        # 'same' with replicated frames: pad every axis explicitly, then 'valid'.
        shape = inputs.shape
        pads = [
            same_padding(shape[i + 1], k, s, d)
            for i, (k, s, d) in enumerate(zip(self.kernel_size, self.strides, self.dilation_rate))
        ]
        (t0, t1), (h0, h1), (w0, w1) = pads
        x = inputs
        if t0 or t1:
            x = keras.ops.concatenate(
                [x[:, :1]] * t0 + [x] + [x[:, -1:]] * t1, axis=1
            )
        x = keras.ops.pad(x, [(0, 0), (0, 0), (h0, h1), (w0, w1), (0, 0)])
        outputs = keras.ops.conv(
            x,
            self.kernel,
            strides=self.strides,
            padding="valid",
            data_format="channels_last",
            dilation_rate=self.dilation_rate,
        )
        if self.use_bias:
            outputs = outputs + self.bias
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def get_config(self):
        config = super().get_config()
        config["time_padding"] = self.time_padding
        return config


def inflate_kernel(kernel_2d, time_kernel, mode="mean"):
    """`(kh, kw, cin, cout)` 2D kernel -> `(t, kh, kw, cin, cout)` 3D kernel.

    A static clip through the result gives the 2D response: `mean` spreads the
    kernel evenly over time, `center` puts it at the middle step.
    """
    kernel_2d = np.asarray(kernel_2d)
    if mode == "mean":
        return np.repeat(kernel_2d[None], time_kernel, axis=0) / time_kernel
    kernel = np.zeros((time_kernel,) + kernel_2d.shape, kernel_2d.dtype)
    kernel[time_kernel // 2] = kernel_2d
    return kernel.astype(kernel_2d.dtype)
