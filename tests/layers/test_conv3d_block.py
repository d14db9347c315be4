import keras
import numpy as np
import pytest

from keras_video.layers import Conv3DBlock
from tests.helpers import check_layer


def test_shape_and_round_trip(tmp_path):
    x = np.random.default_rng(0).random((2, 4, 16, 16, 3), dtype=np.float32)
    layer = Conv3DBlock(8, kernel_size=(3, 5, 5), strides=(1, 2, 2))
    check_layer(layer, x, tmp_path, expected_output_shape=(2, 4, 8, 8, 8))


def test_equals_conv_then_batch_norm_then_relu():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 3, 6, 6, 2)).astype("float32")
    layer = Conv3DBlock(4, kernel_size=3, batch_norm_epsilon=1e-3)
    layer.build(x.shape)
    gamma, beta = rng.random(4) + 0.5, rng.standard_normal(4)
    mean, var = rng.standard_normal(4), rng.random(4) + 0.5
    layer.bn.set_weights([gamma, beta, mean, var])
    conv = keras.ops.convert_to_numpy(layer.conv(x))
    expected = np.maximum((conv - mean) / np.sqrt(var + 1e-3) * gamma + beta, 0)
    out = keras.ops.convert_to_numpy(layer(x, training=False))
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_no_norm_uses_bias():
    layer = Conv3DBlock(4, norm=None, activation=None)
    layer.build((None, 4, 8, 8, 3))
    assert layer.bn is None and layer.conv.use_bias


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"filters": -1}, "filters"),
        ({"filters": 4, "kernel_size": (3, 3)}, "kernel_size"),
        ({"filters": 4, "strides": 0}, "strides"),
        ({"filters": 4, "padding": "causal"}, "padding"),
        ({"filters": 4, "norm": "layer_norm"}, "norm"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Conv3DBlock(**kwargs)


def test_wrong_rank_input():
    with pytest.raises(ValueError, match="rank 5"):
        Conv3DBlock(4)(np.zeros((1, 8, 8, 3)))


def test_time_kernel_longer_than_valid_clip():
    with pytest.raises(ValueError, match="kernel_size"):
        Conv3DBlock(4, kernel_size=(5, 3, 3), padding="valid")(np.zeros((1, 3, 8, 8, 3)))
