"""Slow (SlowOnly) and PyTorchVideoResNet: tiny builds, structure, options,
errors and the full-size parameter count (build only)."""

import keras
import numpy as np
import pytest

from keras_video.applications import Slow
from keras_video.applications import weights as weights_lib
from tests.applications.checks import check_application, trainable_params

TINY = dict(base_filters=4, input_shape=(4, 32, 32, 3))


def test_tiny_output_and_round_trip(tmp_path):
    check_application(Slow(classes=5, **TINY), (2, 5), tmp_path)


def test_structure_is_slow_r50():
    model = Slow(include_top=False, **TINY)
    assert model.name == "slow_r50"
    assert model.get_layer("conv1_conv").kernel_size == (1, 7, 7)
    assert model.get_layer("conv1_conv").strides == (1, 2, 2)
    assert model.get_layer("pool1_pool").pool_size == (1, 3, 3)
    # Temporal kernels of the first conv: 1 in res2/res3, 3 in res4/res5;
    # the stride is on the 3x3 conv and the shortcut, never in time.
    for stage, blocks, time_kernel in ((2, 3, 1), (3, 4, 1), (4, 6, 3), (5, 3, 3)):
        for block in range(1, blocks + 1):
            prefix = f"conv{stage}_block{block}"
            assert model.get_layer(f"{prefix}_1_conv").kernel_size == (
                time_kernel,
                1,
                1,
            )
            assert model.get_layer(f"{prefix}_1_conv").strides == (1, 1, 1)
            stride = 2 if stage > 2 and block == 1 else 1
            assert model.get_layer(f"{prefix}_2_conv").strides == (1, stride, stride)
            assert not model.get_layer(f"{prefix}_2_conv").use_bias
    assert model.get_layer("conv3_block1_0_conv").strides == (1, 2, 2)
    assert model.get_layer("conv1_bn").epsilon == 1e-5
    assert "pool2_pool" not in {layer.name for layer in model.layers}
    # No temporal stride: 4 frames in, 4 out; 32x32 -> 1x1; 32 * 4 channels.
    assert model.output_shape == (None, 4, 1, 1, 128)


def test_res5_dilation_keeps_features_at_one_sixteenth():
    plain = Slow(include_top=False, **dict(TINY, input_shape=(2, 64, 64, 3)))
    dilated = Slow(
        include_top=False, res5_dilation=2, **dict(TINY, input_shape=(2, 64, 64, 3))
    )
    assert plain.output_shape == (None, 2, 2, 2, 128)
    assert dilated.output_shape == (None, 2, 4, 4, 128)
    conv = dilated.get_layer("conv5_block2_2_conv")
    assert conv.dilation_rate == (1, 2, 2) and conv.strides == (1, 1, 1)
    assert [w.shape for w in dilated.weights] == [w.shape for w in plain.weights]


def test_head_pool_size_then_global_average():
    model = Slow(
        classes=3,
        head_pool_size=(2, 2, 2),
        classifier_activation=None,
        **dict(TINY, input_shape=(4, 96, 96, 3)),  # 4x3x3 features
    )
    assert model.get_layer("head_pool").pool_size == (2, 2, 2)
    assert model.get_layer("head_pool").strides == (1, 1, 1)
    features = keras.Model(model.input, model.get_layer("head_pool").input)
    clip = np.random.default_rng(0).standard_normal((1, 4, 96, 96, 3))
    clip = clip.astype("float32")
    maps = keras.ops.convert_to_numpy(features(clip))[0]  # (4, 3, 3, 128)
    # 2x2x2 windows with stride 1 over 4x3x3, then their mean: time weights
    # (1, 2, 2, 1) / 6, space (1, 2, 1) / 4 per axis.
    t = np.array([1, 2, 2, 1], "float32") / 6
    s = np.array([1, 2, 1], "float32") / 4
    pooled = np.einsum("thwc,t,h,w->c", maps, t, s, s)
    kernel, bias = (
        keras.ops.convert_to_numpy(w) for w in model.get_layer("predictions").weights
    )
    logits = keras.ops.convert_to_numpy(model(clip))
    np.testing.assert_allclose(logits[0], pooled @ kernel + bias, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(depth=34), "depth"),
        (dict(base_filters=0), "base_filters"),
        (dict(res5_dilation=0), "res5_dilation"),
        (dict(head_pool_size=(2, 2)), "head_pool_size"),
        (dict(head_pool_size=(8, 1, 1)), "larger than the last"),
        (dict(input_shape=(4, 16, 16, 3)), "at least 32x32"),
        (dict(weights="kinetics400", depth=101), "depth=50"),
        (dict(weights="kinetics400", classes=10, base_filters=64), "classes"),
        (dict(weights="imagenet"), "weights"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Slow(**{**TINY, **kwargs})


def test_kinetics400_offline_error_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    model = Slow(classes=400, **TINY)
    with pytest.raises(FileNotFoundError) as info:
        weights_lib.load_weights(model, "kinetics400", "slow")
    message = str(info.value)
    assert str(tmp_path / "models" / "slow_r50.weights.h5") in message
    assert "keras-video weights convert slow_r50" in message
    assert "SLOW_8x8_R50.pyth" in message


@pytest.mark.large
def test_full_size_parameters_equal_pytorchvideo_slow_r50():
    # PyTorchVideo's slow_r50: 32,454,096 parameters (its model zoo: 32.45M).
    assert trainable_params(lambda: Slow()) == 32_454_096
