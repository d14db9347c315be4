import keras
import numpy as np
import pytest

from keras_video.layers import TemporalPooling
from tests.helpers import check_layer


@pytest.mark.parametrize("mode, reduce", [("average", np.mean), ("max", np.max)])
def test_reduces_time_like_numpy(tmp_path, mode, reduce):
    x = np.random.default_rng(0).standard_normal((2, 5, 7)).astype("float32")
    out = check_layer(TemporalPooling(mode), x, tmp_path, expected_output_shape=(2, 7))
    np.testing.assert_allclose(out, reduce(x, axis=1), rtol=1e-6)


def test_keepdims_on_clips(tmp_path):
    x = np.ones((1, 4, 3, 3, 2), "float32")
    out = check_layer(TemporalPooling(keepdims=True), x, tmp_path)
    assert out.shape == (1, 1, 3, 3, 2)


def test_errors():
    with pytest.raises(ValueError, match="mode"):
        TemporalPooling("median")
    with pytest.raises(ValueError, match="rank"):
        TemporalPooling()(keras.ops.ones((2, 3)))
