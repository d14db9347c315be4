import keras
import numpy as np
import pytest

from keras_video.layers import NonLocal
from tests.helpers import check_layer


def clip(shape=(2, 4, 6, 6, 8), seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


@pytest.mark.parametrize("mode", ["embedded_gaussian", "dot_product"])
@pytest.mark.parametrize("sub_sample", [True, False])
@pytest.mark.parametrize("use_batch_norm", [True, False])
@pytest.mark.parametrize("training", [False, True])
def test_new_block_is_the_identity(mode, sub_sample, use_batch_norm, training):
    x = clip()
    block = NonLocal(mode=mode, sub_sample=sub_sample, use_batch_norm=use_batch_norm)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(block(x, training=training)), x)


def reference(x, theta_k, theta_b, phi_k, phi_b, g_k, g_b, out_k, out_b, mode):
    b, t, h, w, c = x.shape
    flat = x.reshape(b, -1, c).astype("float64")
    theta, phi, g = flat @ theta_k + theta_b, flat @ phi_k + phi_b, flat @ g_k + g_b
    f = theta @ phi.transpose(0, 2, 1)
    if mode == "embedded_gaussian":
        f = np.exp(f - f.max(-1, keepdims=True))
        f /= f.sum(-1, keepdims=True)
    else:
        f /= f.shape[-1]
    y = (f @ g) @ out_k + out_b
    return (y + flat).reshape(x.shape)


@pytest.mark.parametrize("mode", ["embedded_gaussian", "dot_product"])
def test_matches_numpy_reference(mode):
    x = clip((1, 2, 3, 3, 4)) * 0.5
    block = NonLocal(mode=mode, sub_sample=False, use_batch_norm=False, inter_channels=3)
    block.build(x.shape)
    rng = np.random.default_rng(3)
    weights = [rng.standard_normal(w.shape).astype("float32") * 0.5 for w in block.weights]
    block.set_weights(weights)
    squeeze = [w.reshape(w.shape[-2:]) if w.ndim == 5 else w for w in weights]
    expected = reference(x, *squeeze, mode=mode)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(block(x)), expected, rtol=1e-4, atol=1e-4)


def test_round_trip_after_training_changes_it(tmp_path):
    x = clip()
    block = NonLocal(inter_channels=4)
    block.build(x.shape)
    block.bn.gamma.assign(np.ones(8, "float32"))
    out = check_layer(block, x, tmp_path, atol=1e-5)
    assert np.abs(out - x).max() > 1e-3


def test_errors():
    with pytest.raises(ValueError, match="mode"):
        NonLocal(mode="gaussian_kernel")
    with pytest.raises(ValueError, match="inter_channels"):
        NonLocal(inter_channels=0)
    with pytest.raises(ValueError, match="rank 5"):
        NonLocal()(np.zeros((1, 8, 8, 3), "float32"))
