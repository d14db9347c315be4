import keras
import numpy as np
import pytest

from keras_video.applications import EarlyFusion, LateFusion, SlowFusion
from tests.applications.checks import check_application, random_inputs

SMALL = dict(base_filters=4, depth=3)
CLIP = (8, 32, 32, 3)


@pytest.mark.parametrize(
    "constructor, kwargs",
    [
        (LateFusion, dict(fusion="flatten", fc_units=16, input_shape=CLIP)),
        (LateFusion, dict(fusion="average", input_shape=CLIP)),
        (LateFusion, dict(fusion="conv", fc_units=16, input_shape=CLIP)),
        (EarlyFusion, dict(input_shape=CLIP)),
        (SlowFusion, dict(input_shape=(10, 32, 32, 3))),
    ],
    ids=["late_flatten", "late_average", "late_conv", "early", "slow"],
)
def test_tiny_output_and_round_trip(constructor, kwargs, tmp_path):
    check_application(constructor(classes=5, **SMALL, **kwargs), (2, 5), tmp_path)


def test_features_without_top():
    late = LateFusion(include_top=False, input_shape=CLIP, **SMALL)
    assert tuple(late.output.shape) == (None, 8, 4, 4, 16)
    early = EarlyFusion(include_top=False, input_shape=CLIP, **SMALL)
    assert tuple(early.output.shape) == (None, 4, 4, 16)
    slow = SlowFusion(include_top=False, input_shape=(10, 32, 32, 3), **SMALL)
    # time 10 -> 4 -> 2 -> 1 (kernels 4, 2, 2, strides 2)
    assert tuple(slow.output.shape) == (None, 1, 4, 4, 16)
    for constructor, shape in (
        (LateFusion, CLIP),
        (EarlyFusion, CLIP),
        (SlowFusion, (10, 32, 32, 3)),
    ):
        pooled = constructor(
            include_top=False, pooling="avg", input_shape=shape, **SMALL
        )
        assert tuple(pooled.output.shape) == (None, 16)


def test_late_conv_fusion_convolves_the_stacked_frame_maps(tmp_path):
    model = LateFusion(
        fusion="conv", fc_units=6, include_top=False, input_shape=CLIP, **SMALL
    )
    # 8 frames of 4x4x16 maps -> one 4x4 map of 8 * 16 channels -> 6 filters.
    assert tuple(model.output.shape) == (None, 4, 4, 6)
    assert tuple(model.get_layer("fusion_conv").kernel.shape) == (3, 3, 8 * 16, 6)
    pooled = LateFusion(
        fusion="conv",
        fc_units=6,
        include_top=False,
        pooling="max",
        input_shape=CLIP,
        **SMALL,
    )
    check_application(pooled, (2, 6), tmp_path)
    # The fused map at one position is the conv over every frame's map there.
    frames = keras.Model(model.input, model.get_layer("frame_features").output)
    clip = random_inputs(model, batch_size=1)
    maps = keras.ops.convert_to_numpy(frames(clip))  # (1, 8, 4, 4, 16)
    stacked = np.transpose(maps, (0, 2, 3, 1, 4)).reshape(1, 4, 4, 8 * 16)
    kernel, bias = model.get_layer("fusion_conv").get_weights()
    padded = np.pad(stacked, [(0, 0), (1, 1), (1, 1), (0, 0)])
    expected = np.einsum("bhwc,hwcf->bf", padded[:, 1:4, 1:4], kernel) + bias
    fused = keras.ops.convert_to_numpy(model(clip))
    np.testing.assert_allclose(fused[:, 1, 1], np.maximum(expected, 0), atol=1e-4)


def test_early_fusion_first_conv_sees_every_frame():
    model = EarlyFusion(input_shape=CLIP, **SMALL)
    kernel = model.get_layer("fusion_conv").kernel
    assert tuple(kernel.shape) == (3, 3, 8 * 3, 4)


@pytest.mark.parametrize(
    "constructor, kwargs, match",
    [
        (LateFusion, dict(input_shape=(32, 32, 3)), "input_shape"),
        (LateFusion, dict(fusion="max", input_shape=CLIP), "fusion"),
        (LateFusion, dict(input_shape=(None, 32, 32, 3)), "known"),
        (
            LateFusion,
            dict(fusion="conv", include_top=False, input_shape=(None, 32, 32, 3)),
            "known",
        ),
        (EarlyFusion, dict(input_shape=(None, 32, 32, 3)), "known"),
        (EarlyFusion, dict(input_shape=(8, 4, 4, 3)), "at least 8"),
        (SlowFusion, dict(input_shape=(8, 32, 32, 3)), "at least 10 frames"),
        (SlowFusion, dict(time_kernels=(4, 2), input_shape=CLIP), "time_kernels"),
    ],
)
def test_bad_arguments_raise(constructor, kwargs, match):
    with pytest.raises(ValueError, match=match):
        constructor(**SMALL, **kwargs)
