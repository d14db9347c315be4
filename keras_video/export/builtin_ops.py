"""A model the LiteRT builtin operators can run: 3D pooling and RNN loops rewritten.

LiteRT has no builtin 3D pooling and no builtin for the `while` loop that an
RNN layer's time loop becomes, so a converter either fails or emits TensorFlow
"select" ops that a plain LiteRT interpreter cannot run. `builtin_model`
returns the same network with

- every `MaxPooling3D` / `AveragePooling3D` replaced by `SeparablePooling3D`:
  the same pooling as a 2D pooling over space then a 2D pooling over time
  (max and mean are separable, and TF's `"same"` padding pads each axis on its
  own, so the result is the same up to float rounding);
- every RNN layer (`GRU`, `LSTM`, `ConvGRU`, ...) with `unroll=True`: the time
  loop becomes straight-line code over the (static) frames;
- dropout and noise layers by `Identity` (what they are at inference; their
  seed state would be a variable LiteRT cannot hold).

Layers are shared with the original model where nothing changes; the
replaced RNN layers get the original weights.
"""

import keras

POOLINGS = {"MaxPooling3D": "max", "AveragePooling3D": "average"}
# Layers that are the identity at inference (their random seed state is a
# variable LiteRT cannot hold).
INFERENCE_IDENTITY = (
    keras.layers.Dropout, keras.layers.SpatialDropout1D,
    keras.layers.SpatialDropout2D, keras.layers.SpatialDropout3D,
    keras.layers.GaussianNoise, keras.layers.GaussianDropout,
    keras.layers.AlphaDropout,
)  # fmt: skip


@keras.saving.register_keras_serializable(package="keras_video")
class SeparablePooling3D(keras.layers.Layer):
    """3D max or average pooling as a spatial then a temporal 2D pooling.

    Args:
        pool_size: `(t, h, w)` window.
        strides: `(t, h, w)` strides.
        padding: `"valid"` or `"same"`.
        mode: `"max"` or `"average"`.

    Input shape:
        `(batch, frames, height, width, channels)` with static frames, height,
        width and channels.

    Output shape:
        `(batch, frames', height', width', channels)`, as `keras.layers.MaxPooling3D`.
    """

    def __init__(self, pool_size, strides, padding="valid", mode="max", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("max", "average"):
            raise ValueError(
                f"`mode` must be 'max' or 'average'. Received: mode={mode!r}"
            )
        self.pool_size = tuple(int(v) for v in pool_size)
        self.strides = tuple(int(v) for v in strides)
        self.padding = padding
        self.mode = mode

    def _pool(self, x, size, strides):
        pool = keras.ops.max_pool if self.mode == "max" else keras.ops.average_pool
        return pool(x, size, strides, self.padding)

    def build(self, input_shape):
        if len(input_shape) != 5 or None in tuple(input_shape[1:]):
            raise ValueError(
                f"{self.name}: SeparablePooling3D needs 5D inputs with static "
                f"frames, height, width and channels. "
                f"Received: input_shape={tuple(input_shape)}"
            )

    def call(self, inputs):
        frames, height, width, channels = inputs.shape[1:]
        pt, ph, pw = self.pool_size
        st, sh, sw = self.strides
        x = keras.ops.reshape(inputs, (-1, height, width, channels))
        x = self._pool(x, (ph, pw), (sh, sw))
        out_h, out_w = x.shape[1:3]
        x = keras.ops.reshape(x, (-1, frames, out_h * out_w, channels))
        x = self._pool(x, (pt, 1), (st, 1))
        return keras.ops.reshape(x, (-1, x.shape[1], out_h, out_w, channels))

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (size, stride) in enumerate(
            zip(self.pool_size, self.strides, strict=True)
        ):
            n = shape[axis + 1]
            if n is not None:
                if self.padding == "same":
                    shape[axis + 1] = -(-n // stride)
                else:
                    shape[axis + 1] = (n - size) // stride + 1
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            pool_size=self.pool_size,
            strides=self.strides,
            padding=self.padding,
            mode=self.mode,
        )
        return config


def _builtin_layer(layer):
    """The replacement of one layer (the layer itself when none is needed)."""
    kind = type(layer).__name__
    if isinstance(layer, INFERENCE_IDENTITY):
        return keras.layers.Identity(name=layer.name, dtype=layer.dtype_policy)
    if kind in POOLINGS and isinstance(layer, keras.layers.Layer):
        return SeparablePooling3D(
            layer.pool_size,
            layer.strides,
            layer.padding,
            POOLINGS[kind],
            name=layer.name,
            dtype=layer.dtype_policy,
        )
    if isinstance(layer, keras.layers.RNN) and not layer.unroll:
        config = layer.get_config()
        config["unroll"] = True
        unrolled = type(layer).from_config(config)
        unrolled.build(layer.input.shape if _has_input(layer) else None)
        unrolled.set_weights(layer.get_weights())
        _drop_unused_seed_state(unrolled.cell)
        return unrolled
    return layer


def _drop_unused_seed_state(cell):
    """Untracks the seed generator of an RNN cell without dropout: its state
    (a uint32 variable, unused at inference) is one LiteRT cannot hold."""
    if getattr(cell, "dropout", 0) or getattr(cell, "recurrent_dropout", 0):
        return
    generators = getattr(cell, "_seed_generators", None)
    if generators:
        generators.clear()


def _has_input(layer):
    try:
        layer.input  # noqa: B018 - raises when the layer was never called
    except (AttributeError, ValueError):
        return False
    return True


def builtin_model(model):
    """`model` with 3D poolings and RNN loops in LiteRT builtin form.

    Args:
        model: a functional `keras.Model` (nested functional models are
            rewritten too).

    Returns:
        a functional `keras.Model` computing the same function.
    """
    return keras.models.clone_model(
        model, clone_function=_builtin_layer, recursive=True
    )
