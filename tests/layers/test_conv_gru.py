import keras
import numpy as np
import pytest

from keras_video.layers import ConvGRU
from tests.helpers import check_layer
from tests.helpers import conv2d_same
from tests.helpers import sigmoid


def numpy_conv_gru(x, h, kernel, recurrent_kernel, bias):
    """The ConvGRU equations in NumPy, over every step of `x` (b, t, h, w, c)."""
    f = recurrent_kernel.shape[-1] // 3
    states = []
    for step in range(x.shape[1]):
        xs = conv2d_same(x[:, step], kernel) + bias
        hs = conv2d_same(h, recurrent_kernel[..., : 2 * f])
        z = sigmoid(xs[..., :f] + hs[..., :f])
        r = sigmoid(xs[..., f : 2 * f] + hs[..., f:])
        hh = np.tanh(xs[..., 2 * f :] + conv2d_same(r * h, recurrent_kernel[..., 2 * f :]))
        h = z * h + (1 - z) * hh
        states.append(h)
    return np.stack(states, axis=1)


def random_layer(filters, input_shape, seed=0, **kwargs):
    layer = ConvGRU(filters, 3, **kwargs)
    layer.build(input_shape)
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(w.shape).astype("float32") * 0.3 for w in layer.weights]
    layer.set_weights(weights)
    return layer, weights


def test_one_step_equals_numpy_gru_equations():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 1, 6, 5, 3)).astype("float32")
    h0 = rng.standard_normal((2, 6, 5, 4)).astype("float32")
    layer, (k, rk, b) = random_layer(4, x.shape)
    out = keras.ops.convert_to_numpy(layer(x, initial_state=[h0]))
    expected = numpy_conv_gru(x, h0, k, rk, b)[:, -1]
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_sequence_equals_numpy_gru_equations():
    x = np.random.default_rng(2).standard_normal((1, 4, 5, 5, 2)).astype("float32")
    layer, (k, rk, b) = random_layer(3, x.shape, return_sequences=True)
    out = keras.ops.convert_to_numpy(layer(x))
    expected = numpy_conv_gru(x, np.zeros((1, 5, 5, 3)), k, rk, b)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_go_backwards_reads_time_in_reverse():
    x = np.random.default_rng(3).standard_normal((1, 3, 4, 4, 2)).astype("float32")
    forward, weights = random_layer(2, x.shape)
    backward = ConvGRU(2, 3, go_backwards=True)
    backward.build(x.shape)
    backward.set_weights(weights)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(backward(x)),
        keras.ops.convert_to_numpy(forward(x[:, ::-1])),
        atol=1e-6,
    )


def test_round_trip_sequences(tmp_path):
    x = np.random.default_rng(4).random((2, 3, 8, 8, 3), dtype=np.float32)
    check_layer(ConvGRU(4, 3, return_sequences=True), x, tmp_path, expected_output_shape=(2, 3, 8, 8, 4))


def test_return_state_and_strided_input(tmp_path):
    x = np.random.default_rng(5).random((2, 3, 8, 8, 3), dtype=np.float32)
    outputs = check_layer(ConvGRU(4, 3, strides=2, return_state=True), x, tmp_path)
    last, state = outputs
    assert last.shape == state.shape == (2, 4, 4, 4)
    np.testing.assert_allclose(last, state)


def test_stacked_grid_of_a_recurrent_cnn(tmp_path):
    inputs = keras.Input((4, 16, 16, 3))
    x = ConvGRU(4, 3, return_sequences=True)(inputs)
    x = keras.layers.MaxPooling3D((1, 2, 2))(x)
    x = ConvGRU(6, 3, return_sequences=True)(x)
    model = keras.Model(inputs, x)
    clip = np.random.default_rng(6).random((1, 4, 16, 16, 3), dtype=np.float32)
    out = keras.ops.convert_to_numpy(model(clip))
    assert out.shape == (1, 4, 8, 8, 6)
    model.save(tmp_path / "grid.keras")
    loaded = keras.saving.load_model(tmp_path / "grid.keras", safe_mode=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(clip)), out, atol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="filters"):
        ConvGRU(0, 3)
    with pytest.raises(ValueError, match="kernel_size"):
        ConvGRU(4, (3, 3, 3))
    with pytest.raises(ValueError, match="ndim=5"):  # keras' InputSpec message
        ConvGRU(4, 3)(np.zeros((1, 8, 8, 3), "float32"))
