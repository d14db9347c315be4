import keras
import numpy as np
import pytest

from keras_video.layers import WeightedFusion
from tests.helpers import check_layer


def test_starts_as_the_average(tmp_path):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((2, 5)).astype("float32") for _ in range(2))
    out = check_layer(WeightedFusion(), [a, b], tmp_path, expected_output_shape=(2, 5))
    np.testing.assert_allclose(out, (a + b) / 2, rtol=1e-6, atol=1e-6)


def test_weights_as_numpy_reference(tmp_path):
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((2, 3, 4)).astype("float32") for _ in range(3)]
    for normalize in (True, False):
        layer = WeightedFusion(normalize=normalize)
        layer.build([x.shape for x in xs])
        v = np.array([0.5, -1.0, 2.0], "float32")
        layer.fusion_weights.assign(v)
        w = np.exp(v) / np.exp(v).sum() if normalize else v
        expected = sum(wi * x for wi, x in zip(w, xs, strict=True))
        out = keras.ops.convert_to_numpy(layer(xs))
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_unnormalized_round_trip(tmp_path):
    a = np.ones((1, 3), "float32")
    out = check_layer(WeightedFusion(normalize=False), [a, 3 * a], tmp_path)
    np.testing.assert_allclose(out, 2 * a)


def test_errors():
    with pytest.raises(ValueError, match="at least 2"):
        WeightedFusion()([keras.ops.ones((1, 3))])
    with pytest.raises(ValueError, match="one shape"):
        WeightedFusion()([keras.ops.ones((1, 3)), keras.ops.ones((1, 4))])
