import pytest

from keras_video.applications import MC3, R3D, R2Plus1D, resnet3d
from tests.applications.checks import (
    check_application,
    fast_jax_init,  # noqa: F401
    trainable_params,
)

pytestmark = pytest.mark.usefixtures("fast_jax_init")

TINY = dict(base_filters=4, input_shape=(8, 32, 32, 3))


@pytest.mark.parametrize(
    "constructor, depth",
    [(R3D, 18), (MC3, 18), (R2Plus1D, 18)],
    ids=["r3d_18", "mc3_18", "r2plus1d_18"],
)
def test_tiny_output_and_round_trip(constructor, depth, tmp_path):
    model = constructor(depth=depth, classes=5, **TINY)
    check_application(model, (2, 5), tmp_path)


def test_r3d_50_tiny_builds():
    model = R3D(depth=50, classes=5, **TINY)
    assert tuple(model.output.shape) == (None, 5)
    features = R3D(depth=50, include_top=False, **TINY)
    assert tuple(features.output.shape) == (None, 1, 2, 2, 128)


@pytest.mark.parametrize(
    "constructor, frames, channels",
    [(R3D, 1, 32), (MC3, 8, 32), (R2Plus1D, 1, 32)],
    ids=["r3d", "mc3", "r2plus1d"],
)
def test_features_without_top(constructor, frames, channels):
    model = constructor(include_top=False, **TINY)
    assert tuple(model.output.shape) == (None, frames, 2, 2, channels)
    pooled = constructor(include_top=False, pooling="avg", **TINY)
    assert tuple(pooled.output.shape) == (None, channels)


def test_layer_names_follow_keras_resnet():
    model = R3D(**TINY)
    names = {layer.name for layer in model.layers}
    assert {
        "conv1_conv",
        "conv1_bn",
        "conv2_block1_1_conv",
        "conv3_block1_0_conv",
    } <= names
    assert {"conv5_block2_out", "avg_pool", "predictions"} <= names
    r2p1 = {layer.name for layer in R2Plus1D(**TINY).layers}
    assert {"conv1_s", "conv2_block1_1_conv_s", "conv2_block1_1_conv_t"} <= r2p1


def test_mid_filters_as_torchvision():
    # BasicBlock(64 -> 128): (64 * 128 * 27) // (64 * 9 + 3 * 128)
    assert resnet3d.mid_filters(64, 128) == 230
    assert resnet3d.mid_filters(64, 64) == 144


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(input_shape=(32, 32, 3)), "input_shape"),
        (dict(input_shape=(8, 8, 8, 3)), "at least 16"),
        (dict(depth=20), "depth"),
        (dict(base_filters=0), "base_filters"),
        (dict(pooling="mean", include_top=False), "pooling"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        R3D(**kwargs)


def test_depth_restrictions():
    with pytest.raises(ValueError, match="depth"):
        MC3(depth=34)
    with pytest.raises(ValueError, match="depth"):
        R2Plus1D(depth=50)


# torchvision.models.video: sum(p.numel() for p in model.parameters()) with
# num_classes=400 (BN gammas and betas included, running stats excluded).
TORCHVISION_COUNTS = {
    "r3d_18": (R3D, 18, 33_371_472),
    "r2plus1d_18": (R2Plus1D, 18, 31_505_325),
    "mc3_18": (MC3, 18, 11_695_440),
}


@pytest.mark.large
@pytest.mark.parametrize("arch", sorted(TORCHVISION_COUNTS))
def test_trainable_params_equal_torchvision(arch):
    constructor, depth, expected = TORCHVISION_COUNTS[arch]
    assert trainable_params(lambda: constructor(depth=depth, classes=400)) == expected


@pytest.mark.large
def test_r3d_50_params():
    # No published torchvision figure: measured from this build (bottleneck
    # blocks [3, 4, 6, 3], Conv3DSimple, 400 classes).
    assert trainable_params(lambda: R3D(depth=50, classes=400)) == 46_980_944
