import keras
import numpy as np
import pytest

from keras_video.applications import SlowFast
from keras_video.applications import weights as weights_lib
from tests.applications.checks import (
    check_application,
    trainable_params,
)

TINY = dict(
    base_filters=16, stage_blocks=(1, 1, 1, 1), alpha=4, input_shape=(8, 32, 32, 3)
)


def test_tiny_output_and_round_trip(tmp_path):
    check_application(SlowFast(classes=5, **TINY), (2, 5), tmp_path)


def test_slow_pathway_takes_every_alpha_th_frame():
    model = SlowFast(include_top=False, **TINY)
    sampler = keras.Model(model.input, model.get_layer("slow_sample").output)
    clip = np.arange(8, dtype="float32").reshape(1, 8, 1, 1, 1) * np.ones(
        (1, 8, 32, 32, 3), "float32"
    )
    slow = keras.ops.convert_to_numpy(sampler(clip))
    np.testing.assert_array_equal(slow[0, :, 0, 0, 0], [0.0, 4.0])


def test_features_without_top():
    slow, fast = SlowFast(include_top=False, **TINY).outputs
    # slow: 8 / alpha = 2 frames, 16 * 32 channels; fast: 8 frames, 2 * 32
    assert tuple(slow.shape) == (None, 2, 1, 1, 512)
    assert tuple(fast.shape) == (None, 8, 1, 1, 64)
    pooled = SlowFast(include_top=False, pooling="avg", **TINY)
    assert tuple(pooled.output.shape) == (None, 576)


SMALL = dict(TINY, stem="small", stage_blocks=(1, 1, 1), beta=1 / 4)


def test_small_stem_output_and_round_trip(tmp_path):
    check_application(SlowFast(classes=5, **SMALL), (2, 5), tmp_path)


def test_small_stem_keeps_the_frame_size_and_three_stages_stride_4():
    model = SlowFast(include_top=False, **SMALL)
    names = {layer.name for layer in model.layers}
    assert "slow_pool1_pool" not in names and "slow_conv5_block1_out" not in names
    assert model.get_layer("slow_conv1_conv").strides == (1, 1, 1)
    assert model.get_layer("slow_conv1_conv").kernel_size == (1, 3, 3)
    assert model.get_layer("fast_conv1_conv").kernel_size == (5, 3, 3)
    # Laterals after the stem, res2 and res3; none after the last stage.
    assert {"pool1_fuse", "conv2_fuse", "conv3_fuse"} <= names
    assert "conv4_fuse" not in names
    slow, fast = model.outputs
    # 32 -> 32 (res2) -> 16 (res3) -> 8 (res4); 4 * 4 * base_filters channels.
    assert tuple(slow.shape) == (None, 2, 8, 8, 256)
    assert tuple(fast.shape) == (None, 8, 8, 8, 64)
    pooled = SlowFast(include_top=False, pooling="max", **SMALL)
    assert tuple(pooled.output.shape) == (None, 320)


def test_small_stem_with_four_stages_and_resnet_stem_with_fewer():
    small = SlowFast(include_top=False, **dict(SMALL, stage_blocks=(1, 1, 1, 1)))
    assert tuple(small.outputs[0].shape) == (None, 2, 4, 4, 512)
    two = SlowFast(include_top=False, **dict(TINY, stage_blocks=(1, 1)))
    assert tuple(two.outputs[0].shape) == (None, 2, 4, 4, 128)


def test_defaults_are_unchanged():
    # The published stem and four stages: names and counts as before `stem`.
    model = SlowFast(classes=5, **TINY)
    assert (
        model.count_params()
        == SlowFast(classes=5, stem="resnet", **TINY).count_params()
        == 701_747
    )
    assert model.get_layer("slow_conv1_conv").strides == (1, 2, 2)
    assert model.get_layer("slow_conv1_conv").kernel_size == (1, 7, 7)
    assert model.get_layer("slow_pool1_pool").strides == (1, 2, 2)
    assert model.get_layer("conv4_fuse") is not None
    assert (
        model.count_params()
        == SlowFast(classes=5, block="bottleneck", **TINY).count_params()
    )
    assert model.name == "slowfast_2x16_r50"


PLAIN = dict(
    TINY, stem=None, block="plain", stage_blocks=(1, 1, 1), beta=1 / 4, fusion_kernel=5
)


def test_plain_blocks_output_and_round_trip(tmp_path):
    check_application(SlowFast(classes=5, **PLAIN), (2, 5), tmp_path)


def test_plain_blocks_without_stem_are_the_demo_network():
    model = SlowFast(include_top=False, **PLAIN)
    assert model.name == "slowfast_2x16_plain"
    names = {layer.name for layer in model.layers}
    assert not {"slow_conv1_conv", "fast_conv1_conv", "pool1_fuse"} & names
    assert not any(name.endswith("_add") for name in names)
    # Temporal kernels: slow 1, 1, 3 (res2 to res4), fast 3; no bias.
    for pathway, kernels in (("slow", (1, 1, 3)), ("fast", (3, 3, 3))):
        for stage, time_kernel in zip((2, 3, 4), kernels, strict=True):
            conv = model.get_layer(f"{pathway}_conv{stage}_block1_conv")
            assert conv.kernel_size == (time_kernel, 3, 3)
            assert not conv.use_bias
            pool = model.get_layer(f"{pathway}_conv{stage}_block1_pool")
            assert pool.pool_size == (1, 2, 2)
    assert model.get_layer("conv2_fuse").time_kernel == 5
    assert {"conv2_fuse", "conv3_fuse"} <= names and "conv4_fuse" not in names
    slow, fast = model.outputs
    # Every stage pools: 32 -> 16 -> 8 -> 4; base_filters * 2**stage channels.
    assert tuple(slow.shape) == (None, 2, 4, 4, 64)
    assert tuple(fast.shape) == (None, 8, 4, 4, 16)
    pooled = SlowFast(include_top=False, pooling="max", **PLAIN)
    assert tuple(pooled.output.shape) == (None, 80)
    # The demo's former hand-built toy network had exactly these parameters.
    head = 80 * 4 + 4
    assert pooled.count_params() + head == 96_712


def test_plain_blocks_with_a_stem_and_several_blocks_per_stage():
    model = SlowFast(
        include_top=False, **dict(PLAIN, stem="small", stage_blocks=(2, 1))
    )
    names = {layer.name for layer in model.layers}
    assert {"slow_conv1_conv", "pool1_fuse", "slow_conv2_block2_pool"} <= names
    assert "slow_conv2_block1_pool" not in names  # a stage pools once, at its end
    assert tuple(model.outputs[0].shape) == (None, 2, 8, 8, 32)


def test_bottleneck_without_stem():
    model = SlowFast(include_top=False, **dict(SMALL, stem=None))
    assert "pool1_fuse" not in {layer.name for layer in model.layers}
    assert tuple(model.outputs[0].shape) == (None, 2, 8, 8, 256)


@pytest.mark.parametrize("lateral", ["time_to_channel", "time_strided_sample"])
def test_other_lateral_modes_build(lateral):
    model = SlowFast(lateral=lateral, classes=3, **TINY)
    assert tuple(model.output.shape) == (None, 3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(input_shape=(32, 32, 3)), "input_shape"),
        (dict(input_shape=(2, 32, 32, 3)), "at least 4 frames"),
        (dict(input_shape=(8, 16, 16, 3)), "at least 32"),
        (dict(stage_blocks=(1, 1, 1, 1, 1)), "stage_blocks"),
        (dict(stage_blocks=()), "stage_blocks"),
        (dict(stage_blocks=(1, 0, 1)), "stage_blocks"),
        (dict(stem="cifar"), "stem"),
        (dict(block="basic"), "block"),
        (dict(block=None), "block"),
        (dict(PLAIN, input_shape=(8, 4, 4, 3)), "at least 8"),
        (dict(stem="small", input_shape=(8, 4, 4, 3)), "at least 8"),
        (dict(stage_blocks=(1, 1), input_shape=(8, 4, 4, 3)), "at least 8"),
        (dict(alpha=0), "alpha"),
        (dict(base_filters=4), "beta"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SlowFast(**{**TINY, **kwargs})


def test_unknown_depth_raises():
    with pytest.raises(ValueError, match="depth"):
        SlowFast(depth=34)


@pytest.mark.large
def test_r50_4x16_params_match_paper():
    # Feichtenhofer et al. 2019 report 34.4M parameters for SlowFast 4x16, R50.
    # This build (PySlowFast SLOWFAST_4x16_R50: alpha 8, beta 1/8, fusion
    # kernel 5, channel ratio 2, 400 classes): 34,480,216 trainable (+0.23%).
    count = trainable_params(lambda: SlowFast(tau=16, classes=400))
    assert count == 34_480_216
    assert abs(count - 34.4e6) / 34.4e6 < 0.02


@pytest.mark.large
def test_r50_8x8_params():
    # SLOWFAST_8x8_R50: alpha 4, fusion kernel 7; measured from this build.
    model_name = []

    def build():
        model = SlowFast(tau=8, classes=400)
        model_name.append(model.name)
        return model

    assert trainable_params(build) == 34_566_488
    assert model_name == ["slowfast_8x8_r50"]


def test_zero_init_residual():
    def gammas(model):
        return {
            float(keras.ops.convert_to_numpy(layer.gamma).max())
            for layer in model.layers
            if layer.name.endswith("_3_bn")
        }

    assert gammas(SlowFast(classes=3, **SMALL)) == {0.0}  # the default
    model = SlowFast(classes=3, zero_init_residual=False, **SMALL)
    assert gammas(model) == {1.0}
    assert model.count_params() == SlowFast(classes=3, **SMALL).count_params()


def test_res5_dilation_keeps_res5_at_stride_16():
    config = dict(TINY, input_shape=(8, 64, 64, 3))
    plain = SlowFast(include_top=False, **config)
    dilated = SlowFast(include_top=False, res5_dilation=2, **config)
    # /32 without, /16 with (64 -> 2 and 4); same weights, same shapes.
    assert [tuple(o.shape) for o in plain.outputs] == [
        (None, 2, 2, 2, 512),
        (None, 8, 2, 2, 64),
    ]
    assert [tuple(o.shape) for o in dilated.outputs] == [
        (None, 2, 4, 4, 512),
        (None, 8, 4, 4, 64),
    ]
    assert [w.shape for w in dilated.weights] == [w.shape for w in plain.weights]
    conv = dilated.get_layer("slow_conv5_block1_2_conv")
    assert conv.dilation_rate == (1, 2, 2) and conv.strides == (1, 1, 1)
    assert dilated.get_layer("slow_conv5_block1_0_conv").strides == (1, 1, 1)
    assert dilated.get_layer("slow_conv4_block1_2_conv").strides == (1, 2, 2)
    # Padding = dilation: a 4x4 map stays 4x4 through the dilated 3x3.
    assert dilated.get_layer("slow_conv5_block1_2_conv_pad").padding == (
        (0, 0),
        (2, 2),
        (2, 2),
    )
    # 32x32 clips reach res5 at 2x2 only: still allowed (the minimum is 16).
    SlowFast(
        include_top=False, res5_dilation=2, **dict(TINY, input_shape=(8, 16, 16, 3))
    )


def test_res5_dilation_equals_a_numpy_dilated_convolution():
    # One dilated conv layer of the model against a NumPy reference.
    model = SlowFast(include_top=False, res5_dilation=2, **TINY)
    conv = model.get_layer("slow_conv5_block1_2_conv")
    pad = model.get_layer("slow_conv5_block1_2_conv_pad")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 1, 3, 3, conv.kernel.shape[-2])).astype("float32")
    y = keras.ops.convert_to_numpy(conv(pad(x)))
    kernel = keras.ops.convert_to_numpy(conv.kernel)[0]  # (3, 3, cin, cout)
    padded = np.pad(x[0, 0], ((2, 2), (2, 2), (0, 0)))
    expected = np.zeros((3, 3, kernel.shape[-1]), "float32")
    for i in range(3):
        for j in range(3):
            for di in range(3):
                for dj in range(3):
                    expected[i, j] += padded[i + 2 * di, j + 2 * dj] @ kernel[di, dj]
    np.testing.assert_allclose(y[0, 0], expected, rtol=1e-4, atol=1e-4)


def test_linspace_slow_sampling_is_pack_pathway():
    model = SlowFast(
        include_top=False,
        slow_sampling="linspace",
        **dict(TINY, input_shape=(32, 32, 32, 3)),
    )
    sampler = keras.Model(model.input, model.get_layer("slow_sample").output)
    clip = np.arange(32, dtype="float32").reshape(1, 32, 1, 1, 1) * np.ones(
        (1, 32, 32, 32, 3), "float32"
    )
    slow = keras.ops.convert_to_numpy(sampler(clip))
    # torch.linspace(0, 31, 8).long(), not every 4th frame (0, 4, ..., 28).
    np.testing.assert_array_equal(slow[0, :, 0, 0, 0], [0, 4, 8, 13, 17, 22, 26, 31])
    assert tuple(model.outputs[0].shape) == (None, 8, 1, 1, 512)


def test_head_pool_size_averages_windows_then_positions():
    config = dict(TINY, stem="small", input_shape=(8, 24, 24, 3))  # 3x3 at res5
    model = SlowFast(
        classes=3,
        head_pool_size=((2, 2, 2), (8, 2, 2)),
        classifier_activation=None,
        **config,
    )
    pooled = SlowFast(
        include_top=False,
        pooling="avg",
        head_pool_size=((2, 2, 2), (8, 2, 2)),
        **config,
    )
    assert model.get_layer("slow_head_pool").pool_size == (2, 2, 2)
    pooled.set_weights(model.get_weights()[: len(pooled.weights)])
    clip = np.random.default_rng(0).standard_normal((1, 8, 24, 24, 3)).astype("float32")
    pooled_out = keras.ops.convert_to_numpy(pooled(clip))
    # The features before the head pool, pooled by hand: 2x2 windows of a 3x3
    # map, stride 1 (4 windows), then their mean: corners weigh 1/16, edges
    # 2/16, the centre 4/16.
    slow_map = keras.Model(model.input, model.get_layer("slow_head_pool").input)(clip)
    slow_map = keras.ops.convert_to_numpy(slow_map)[0]  # (2, 3, 3, 512)
    weights = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], "float32") / 16
    slow_expected = np.einsum("thwc,hw->c", slow_map, weights) / 2
    np.testing.assert_allclose(pooled_out[0, :512], slow_expected, rtol=1e-5, atol=1e-6)
    dense = model.get_layer("predictions")
    logits = keras.ops.convert_to_numpy(model(clip))
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in dense.weights)
    np.testing.assert_allclose(logits, pooled_out @ kernel + bias, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(res5_dilation=0), "res5_dilation"),
        (dict(res5_dilation=2, stage_blocks=(1, 1, 1)), "four bottleneck"),
        (dict(res5_dilation=2, block="plain"), "four bottleneck"),
        (dict(slow_sampling="uniform"), "slow_sampling"),
        (dict(slow_sampling="linspace", input_shape=(10, 32, 32, 3)), "divisible"),
        (dict(head_pool_size=(8, 7, 7)), "head_pool_size"),
        (dict(head_pool_size=((2, 7, 7), (8, 7, 7))), "larger than the last"),
    ],
)
def test_bad_new_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SlowFast(**{**TINY, **kwargs})


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(tau=16), "tau=8"),
        (dict(alpha=8), "alpha=4"),
        (dict(depth=101), "depth=50"),
        (dict(base_filters=16), "base_filters=64"),
        (dict(stem="small"), "stem='resnet'"),
        (dict(lateral="time_to_channel"), "lateral='time_strided_conv'"),
        (dict(classes=10), "classes"),
    ],
)
def test_kinetics400_needs_the_published_network(kwargs, match):
    # Refused before anything is built.
    with pytest.raises(ValueError, match=match):
        SlowFast(weights="kinetics400", **kwargs)


def test_kinetics400_offline_error_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    model = SlowFast(**TINY)
    with pytest.raises(FileNotFoundError) as info:
        weights_lib.load_weights(model, "kinetics400", "slowfast")
    message = str(info.value)
    assert str(tmp_path / "models" / "slowfast_r50.weights.h5") in message
    assert "keras-video weights convert slowfast_r50" in message
    assert "SLOWFAST_8x8_R50.pyth" in message
