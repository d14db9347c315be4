import keras
import numpy as np
import pytest

from keras_video.layers import SlowFastLateral
from tests.helpers import check_layer


def pathways(t_slow=4, alpha=8, size=7, c_slow=64, c_fast=8, seed=0):
    rng = np.random.default_rng(seed)
    slow = rng.random((2, t_slow, size, size, c_slow), dtype=np.float32)
    fast = rng.random((2, t_slow * alpha, size, size, c_fast), dtype=np.float32)
    return slow, fast


@pytest.mark.parametrize(
    "mode, fused_channels",
    [
        ("time_strided_conv", 2 * 8),  # 2 * beta * C, the paper's default
        ("time_to_channel", 8 * 8),  # alpha * beta * C
        ("time_strided_sample", 8),  # beta * C
    ],
)
def test_channels_and_time_as_in_the_paper(tmp_path, mode, fused_channels):
    # SlowFast 4x16, res2 outputs: slow 4 frames x 256 ch would be C; here C_slow=64,
    # fast 32 frames x beta*C = 8 channels, alpha = 8.
    slow, fast = pathways()
    out = check_layer(SlowFastLateral(alpha=8, mode=mode), [slow, fast], tmp_path, atol=1e-5)
    assert out.shape == (2, 4, 7, 7, 64 + fused_channels)
    np.testing.assert_array_equal(out[..., :64], slow)


def test_time_strided_sample_keeps_every_alpha_th_frame():
    slow, fast = pathways(t_slow=3, alpha=4, c_slow=2, c_fast=1)
    out = keras.ops.convert_to_numpy(SlowFastLateral(alpha=4, mode="time_strided_sample")([slow, fast]))
    np.testing.assert_array_equal(out[..., 2:], fast[:, ::4])


def test_time_to_channel_folds_frames_into_channels():
    slow, fast = pathways(t_slow=2, alpha=2, c_slow=1, c_fast=3)
    out = keras.ops.convert_to_numpy(SlowFastLateral(alpha=2, mode="time_to_channel")([slow, fast]))
    np.testing.assert_array_equal(out[:, 1, ..., 1:4], fast[:, 2])
    np.testing.assert_array_equal(out[:, 1, ..., 4:7], fast[:, 3])


def test_time_strided_conv_kernel_and_padding_as_pyslowfast():
    layer = SlowFastLateral(alpha=8, time_kernel=5)
    slow, fast = pathways()
    layer([slow, fast])
    assert tuple(layer.conv.kernel.shape) == (5, 1, 1, 8, 16)
    assert layer.conv.strides == (8, 1, 1)


def test_errors():
    with pytest.raises(ValueError, match="mode"):
        SlowFastLateral(mode="add")
    with pytest.raises(ValueError, match="alpha"):
        SlowFastLateral(alpha=0)
    slow, fast = pathways(t_slow=4, alpha=4)
    with pytest.raises(ValueError, match="alpha=8"):
        SlowFastLateral(alpha=8)([slow, fast])
    with pytest.raises(ValueError, match="slow, fast"):
        SlowFastLateral()(slow)
    with pytest.raises(ValueError, match="rank 5"):
        SlowFastLateral(alpha=4)([slow[:, 0], fast])
