import numpy as np
import pytest

from keras_video.layers import Conv2Plus1D
from keras_video.layers.conv2plus1d import mid_filters_for
from tests.helpers import check_layer
from tests.helpers import count_params


def conv_weights(layer):
    return count_params([layer.spatial.kernel, layer.temporal.kernel])


def test_shape_and_round_trip(tmp_path):
    x = np.random.default_rng(0).random((2, 8, 16, 16, 3), dtype=np.float32)
    layer = Conv2Plus1D(8, kernel_size=3, strides=(2, 2, 2))
    check_layer(layer, x, tmp_path, expected_output_shape=(2, 4, 8, 8, 8))


def test_parameters_equal_the_full_3d_convolution():
    # t=k=3, Nin=Nout=4: M = 27*16 / (36 + 12) = 9 exactly, so the counts match.
    layer = Conv2Plus1D(4, kernel_size=3)
    layer.build((None, 4, 8, 8, 4))
    assert layer.spatial.filters == 9
    assert conv_weights(layer) == 3 * 3 * 3 * 4 * 4


@pytest.mark.parametrize("n_in, n_out", [(3, 16), (64, 64), (64, 128), (256, 512)])
def test_parameters_at_most_the_3d_convolution_and_within_one_mid_channel(n_in, n_out):
    layer = Conv2Plus1D(n_out, kernel_size=3)
    layer.build((None, 4, 8, 8, n_in))
    full = 27 * n_in * n_out
    per_mid_channel = 9 * n_in + 3 * n_out
    assert 0 <= full - conv_weights(layer) < per_mid_channel


def test_mid_filters_match_torchvision():
    # torchvision.models.video.resnet: midplanes = (in*out*3*3*3) // (in*3*3 + 3*out)
    for n_in, n_out in [(64, 64), (64, 128), (128, 256), (256, 512)]:
        assert mid_filters_for(3, (3, 3), n_in, n_out) == (n_in * n_out * 27) // (n_in * 9 + 3 * n_out)


def test_explicit_mid_filters():
    layer = Conv2Plus1D(8, mid_filters=5)
    layer.build((None, 4, 8, 8, 3))
    assert layer.spatial.filters == 5


@pytest.mark.parametrize(
    "kwargs, name",
    [({"filters": 0}, "filters"), ({"filters": 4, "mid_filters": -2}, "mid_filters"),
     ({"filters": 4, "kernel_size": (3, 3, 3, 3)}, "kernel_size")],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Conv2Plus1D(**kwargs)


def test_wrong_rank_and_long_time_kernel():
    with pytest.raises(ValueError, match="rank 5"):
        Conv2Plus1D(4)(np.zeros((1, 8, 8, 3)))
    with pytest.raises(ValueError, match="kernel_size"):
        Conv2Plus1D(4, kernel_size=(5, 3, 3), padding="valid")(np.zeros((1, 2, 8, 8, 3)))
