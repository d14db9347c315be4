import keras
import numpy as np
import pytest

from keras_video.export.serving import float16_model, input_names, serving_model


def tiny_model(frames=None):
    inputs = keras.Input((frames if frames else 2, 4, 4, 3), name="clip")
    x = keras.layers.Conv3D(2, 1, name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling3D()(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="logits")(x))


def test_uint8_and_float32_inputs_give_the_models_outputs():
    model = tiny_model()
    x = np.random.default_rng(0).integers(0, 256, (2, 2, 4, 4, 3))
    expected = keras.ops.convert_to_numpy(model(x.astype("float32")))
    for dtype in ("uint8", "float32"):
        served = serving_model(model, dtype)
        assert served.inputs[0].dtype == dtype and input_names(served) == ["clip"]
        out = keras.ops.convert_to_numpy(served(x.astype(dtype)))
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, expected)


def test_float16_computes_in_float16_with_float32_outputs():
    model = tiny_model()
    half = float16_model(model)
    assert {w.dtype for w in half.weights} == {"float16"}
    served = serving_model(model, "uint8", float16=True)
    x = np.random.default_rng(1).integers(0, 256, (2, 2, 4, 4, 3)).astype("uint8")
    out = keras.ops.convert_to_numpy(served(x))
    expected = keras.ops.convert_to_numpy(model(x.astype("float32")))
    assert out.dtype == np.float32
    assert 0 < np.max(np.abs(out - expected)) < 0.1  # float16, not float32


def test_two_inputs_keep_their_names():
    a, b = (
        keras.Input((2, 4, 4, 3), name="clip"),
        keras.Input((2, 4, 4, 2), name="flow"),
    )
    x = keras.layers.Concatenate()([a, b])
    model = keras.Model([a, b], keras.layers.GlobalAveragePooling3D()(x))
    served = serving_model(model, "uint8")
    assert input_names(served) == ["clip", "flow"]


def test_bad_dtype_and_dynamic_frames_are_errors():
    with pytest.raises(ValueError, match="input_dtype"):
        serving_model(tiny_model(), "int32")
    inputs = keras.Input((None, 4, 4, 3), name="clip")
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling3D()(inputs))
    with pytest.raises(ValueError, match="static clip shape"):
        serving_model(model)


def test_float16_copy_keeps_the_weights_whatever_the_initializers():
    # The copy is built with zeros initializers (JAX has no float16 QR for
    # GRU's Orthogonal recurrent initializer), then takes the model's weights.
    inputs = keras.Input((3, 5), name="clip")
    x = keras.layers.GRU(4, name="gru")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="logits")(x))
    half = float16_model(model)
    gru = half.get_layer("gru")
    assert gru.cell.recurrent_initializer.__class__.__name__ == "Zeros"
    for got, want in zip(half.get_weights(), model.get_weights(), strict=True):
        assert got.dtype == np.float16
        np.testing.assert_array_equal(got, want.astype(np.float16))
