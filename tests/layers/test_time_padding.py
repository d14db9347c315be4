import keras
import numpy as np
import pytest

from keras_video.layers import TimePadding
from tests.helpers import check_layer

NUMPY_MODES = {"replicate": "edge", "zeros": "constant"}


@pytest.mark.parametrize("mode", ["replicate", "zeros"])
@pytest.mark.parametrize("padding", [(1, 1), (2, 0), (0, 3)])
def test_pads_time_like_numpy(tmp_path, mode, padding):
    x = np.random.default_rng(0).standard_normal((2, 4, 3, 5, 2)).astype("float32")
    layer = TimePadding(padding, mode=mode)
    out = check_layer(
        layer, x, tmp_path, expected_output_shape=(2, 4 + sum(padding), 3, 5, 2)
    )
    expected = np.pad(
        x, [(0, 0), padding, (0, 0), (0, 0), (0, 0)], mode=NUMPY_MODES[mode]
    )
    np.testing.assert_array_equal(out, expected)


def test_config_round_trip_and_unknown_frames():
    layer = TimePadding((2, 1), mode="zeros", name="pad")
    clone = TimePadding.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert clone.padding == (2, 1) and clone.mode == "zeros"
    assert layer.compute_output_shape((None, None, 8, 8, 3)) == (None, None, 8, 8, 3)
    assert layer(keras.Input((None, 8, 8, 3))).shape[1] is None


def test_old_registered_name_still_loads():
    # Files saved before the layer moved from `applications.inflate` to
    # `layers` name it "keras_video>TimePadding"; that name must still resolve.
    assert keras.saving.get_registered_name(TimePadding) == "keras_video>TimePadding"
    assert keras.saving.get_registered_object("keras_video>TimePadding") is TimePadding


def test_errors():
    with pytest.raises(ValueError, match="padding"):
        TimePadding((1, -1))
    with pytest.raises(ValueError, match="padding"):
        TimePadding((1, 2, 3))
    with pytest.raises(ValueError, match="mode"):
        TimePadding(mode="reflect")
    with pytest.raises(ValueError, match="rank 5"):
        TimePadding()(keras.ops.ones((2, 3, 4)))
