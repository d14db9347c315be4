import keras
import numpy as np
import pytest

from keras_video.export.builtin_ops import SeparablePooling3D, builtin_model
from keras_video.layers import ConvGRU


def numpy_pool3d(x, size, strides, mode):
    """Valid 3D pooling, loops over output positions."""
    (pt, ph, pw), (st, sh, sw) = size, strides
    b, t, h, w, c = x.shape
    out = np.empty((b, (t - pt) // st + 1, (h - ph) // sh + 1, (w - pw) // sw + 1, c))
    reduce = np.max if mode == "max" else np.mean
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            for k in range(out.shape[3]):
                window = x[:, i * st : i * st + pt, j * sh : j * sh + ph,
                           k * sw : k * sw + pw]  # fmt: skip
                out[:, i, j, k] = reduce(window, axis=(1, 2, 3))
    return out


@pytest.mark.parametrize("mode", ["max", "average"])
def test_valid_pooling_equals_a_numpy_reference(mode):
    x = np.random.default_rng(0).normal(size=(2, 5, 7, 6, 3)).astype("float32")
    layer = SeparablePooling3D((2, 3, 2), (1, 2, 2), "valid", mode)
    expected = numpy_pool3d(x, (2, 3, 2), (1, 2, 2), mode)
    got = keras.ops.convert_to_numpy(layer(x))
    assert got.shape == expected.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize(
    "layer_class, mode",
    [(keras.layers.MaxPooling3D, "max"), (keras.layers.AveragePooling3D, "average")],
)
@pytest.mark.parametrize(
    "size, strides",
    [((3, 3, 3), (2, 2, 2)), ((1, 3, 3), (1, 2, 2)), ((2, 2, 2), (2, 2, 2))],
)
def test_same_padding_equals_keras_pooling(layer_class, mode, size, strides):
    x = np.random.default_rng(1).normal(size=(2, 5, 9, 7, 4)).astype("float32")
    expected = keras.ops.convert_to_numpy(layer_class(size, strides, "same")(x))
    layer = SeparablePooling3D(size, strides, "same", mode)
    got = keras.ops.convert_to_numpy(layer(x))
    assert got.shape == expected.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_bad_mode_and_dynamic_frames_are_errors():
    with pytest.raises(ValueError, match="mode"):
        SeparablePooling3D((2, 2, 2), (2, 2, 2), mode="min")
    inputs = keras.Input((None, 8, 8, 3))
    with pytest.raises(ValueError, match="static frames"):
        SeparablePooling3D((2, 2, 2), (2, 2, 2))(inputs)


def test_builtin_model_rewrites_pools_and_rnn_loops_and_keeps_outputs():
    inputs = keras.Input((4, 8, 8, 3))
    x = keras.layers.MaxPooling3D((1, 2, 2), name="pool")(inputs)
    x = ConvGRU(4, 3, return_sequences=True, name="gru")(x)
    x = keras.layers.AveragePooling3D((2, 2, 2), name="avg")(x)
    inner = keras.Model(inputs, x, name="inner")
    outer_in = keras.Input((4, 8, 8, 3))
    y = keras.layers.GlobalAveragePooling3D()(inner(outer_in))
    y = keras.layers.Dropout(0.5, name="drop")(y)
    model = keras.Model(outer_in, keras.layers.Dense(3)(y))
    rewritten = builtin_model(model)
    layers = {type(layer).__name__: layer for layer in rewritten.layers[1].layers}
    assert "MaxPooling3D" not in layers and "AveragePooling3D" not in layers
    assert [layer.mode for layer in rewritten.layers[1].layers
            if isinstance(layer, SeparablePooling3D)] == ["max", "average"]  # fmt: skip
    assert layers["ConvGRU"].unroll and not model.layers[1].get_layer("gru").unroll
    assert type(rewritten.get_layer("drop")).__name__ == "Identity"
    x = np.random.default_rng(2).normal(size=(2, 4, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(rewritten(x)),
        keras.ops.convert_to_numpy(model(x)),
        atol=1e-6,
    )


def test_config_round_trip():
    layer = SeparablePooling3D((1, 2, 2), (1, 2, 2), "same", "average", name="p")
    again = SeparablePooling3D.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
