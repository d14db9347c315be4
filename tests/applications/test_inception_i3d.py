"""InceptionI3D: tiny configs (an early `final_endpoint`), TF 'SAME' padding,
argument checks, and the full-size parameter count (build only)."""

import keras
import numpy as np
import pytest

from keras_video.applications import InceptionI3D
from tests.helpers import count_params


def _tiny(**kwargs):
    kwargs.setdefault("include_top", False)
    kwargs.setdefault("final_endpoint", "Mixed_3b")
    kwargs.setdefault("input_shape", (4, 32, 32, 3))
    return InceptionI3D(**kwargs)


def test_tiny_output_shapes():
    model = _tiny()
    assert model.output_shape == (None, 2, 4, 4, 256)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 4, 32, 32, 3)).astype("float32")
    assert tuple(model(x).shape) == (2, 2, 4, 4, 256)
    pooled = _tiny(pooling="avg", final_endpoint="Conv3d_2c_3x3")
    assert pooled.output_shape == (None, 192)
    assert _tiny(pooling="max", final_endpoint="Conv3d_2b_1x1").output_shape == (
        None,
        64,
    )


def test_layer_names_follow_the_original():
    model = _tiny(final_endpoint="Mixed_3b")
    names = {layer.name for layer in model.layers}
    for name in [
        "Conv3d_1a_7x7_conv",
        "Conv3d_1a_7x7_bn",
        "MaxPool3d_2a_3x3",
        "Conv3d_2c_3x3_relu",
        "Mixed_3b_Branch_1_Conv3d_0b_3x3_conv",
        "Mixed_3b_Branch_3_MaxPool3d_0a_3x3",
        "Mixed_3b",
    ]:
        assert name in names
    bn = model.get_layer("Conv3d_1a_7x7_bn")
    assert bn.scale is False and bn.epsilon == 1e-3
    assert model.get_layer("Conv3d_1a_7x7_conv").use_bias is False


def test_keras_round_trip_safe_mode(tmp_path):
    model = _tiny(pooling="avg", final_endpoint="Mixed_3b")
    x = np.random.default_rng(1).uniform(-1, 1, (1, 4, 32, 32, 3)).astype("float32")
    path = tmp_path / "i3d.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(x)),
        keras.ops.convert_to_numpy(loaded(x)),
        atol=1e-5,
    )


def _tf_same_pads(size, kernel, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def test_tf_same_padding_conv_and_max_pool():
    """Stride-2 7x7x7 conv on even sizes pads (2, 3) [TF: extra after]; the
    (1,3,3)/(1,2,2) max pool never sees its padding."""
    model = _tiny(final_endpoint="MaxPool3d_2a_3x3", input_shape=(6, 10, 10, 3))
    conv = model.get_layer("Conv3d_1a_7x7_conv")
    rng = np.random.default_rng(2)
    kernel = rng.normal(size=(7, 7, 7, 3, 64)).astype("float32") * 0.05
    conv.kernel.assign(kernel)
    x = rng.uniform(-1, 1, (1, 6, 10, 10, 3)).astype("float32")

    pads = [_tf_same_pads(n, 7, 2) for n in (6, 10, 10)]
    assert pads == [(2, 3), (2, 3), (2, 3)]
    xp = np.pad(x[0], pads + [(0, 0)])
    ref = np.zeros((3, 5, 5, 64), "float64")
    for t in range(3):
        for i in range(5):
            for j in range(5):
                patch = xp[2 * t : 2 * t + 7, 2 * i : 2 * i + 7, 2 * j : 2 * j + 7]
                ref[t, i, j] = np.tensordot(patch, kernel, axes=4)
    ref = np.maximum(ref / np.sqrt(1 + 1e-3), 0)  # fresh BN, then ReLU
    first = keras.Model(model.input, model.get_layer("Conv3d_1a_7x7_relu").output)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(first(x))[0], ref, rtol=1e-4, atol=1e-4
    )

    # Max pool (1,3,3) stride (1,2,2) on 5x5: pads (1, 1) -> 3x3, no padding seen.
    shifted = ref - 10.0  # negative values: a zero padding would show
    refp = np.pad(shifted, [(0, 0), (1, 1), (1, 1), (0, 0)], constant_values=-np.inf)
    pooled = np.stack(
        [
            np.stack(
                [
                    refp[:, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3].max(axis=(1, 2))
                    for j in range(3)
                ],
                axis=1,
            )
            for i in range(3)
        ],
        axis=1,
    )
    pool = model.get_layer("MaxPool3d_2a_3x3")
    got = keras.ops.convert_to_numpy(pool(keras.ops.convert_to_tensor(shifted[None])))
    np.testing.assert_allclose(got[0], pooled, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_shape": (4, 224, 224, 3)}, "at least 9 frames"),
        ({"input_shape": (16, 112, 112, 3)}, "193x193"),
        ({"input_shape": (16, 224, 224)}, "must be \\(frames, height, width"),
        ({"final_endpoint": "Mixed_4b"}, "needs include_top=False"),
        ({"include_top": False, "final_endpoint": "Mixed_9z"}, "final_endpoint"),
        ({"weights": "kinetics400", "classes": 10}, "classes` must be 400"),
        ({"include_top": False, "pooling": "mean"}, "pooling"),
        ({"weights": "imagenet"}, "presets \\['kinetics400'\\]"),
    ],
)
def test_wrong_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        InceptionI3D(**kwargs)


@pytest.mark.large
def test_full_size_parameter_count():
    """12,704,544 weights = the 230 arrays of DeepMind's Kinetics-400 checkpoint
    (12,689,984 trainable + 14,560 batch-norm statistics)."""
    model = InceptionI3D(input_shape=(64, 224, 224, 3))
    assert model.output_shape == (None, 400)
    assert count_params(model.trainable_weights) == 12_689_984
    assert count_params(model.non_trainable_weights) == 14_560
    assert len(model.weights) == 230
