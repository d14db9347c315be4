import keras
import numpy as np
import pytest

from keras_video.applications import SingleFrame
from keras_video.applications.frame_cnn import FrameCNN
from tests.applications.checks import (
    check_application,
)

TINY = dict(base_filters=4, depth=3, input_shape=(8, 32, 32, 3))


def test_tiny_output_and_round_trip(tmp_path):
    check_application(SingleFrame(classes=5, **TINY), (2, 5), tmp_path)


def test_static_clip_scores_equal_one_frame():
    # Per-frame scores averaged over time: a clip of one repeated frame
    # scores as that frame, and frame order does not matter.
    model = SingleFrame(classes=5, classifier_activation=None, **TINY)
    frames = (
        np.random.default_rng(0).standard_normal((1, 8, 32, 32, 3)).astype("float32")
    )
    static = np.repeat(frames[:, :1], 8, axis=1)
    frame_model = keras.Model(model.input, model.get_layer("frame_logits").output)
    per_frame = keras.ops.convert_to_numpy(frame_model(static))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(static)), per_frame[:, 0], atol=1e-5
    )
    shuffled = frames[:, ::-1]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(frames)),
        keras.ops.convert_to_numpy(model(shuffled)),
        atol=1e-5,
    )


def test_features_without_top():
    model = SingleFrame(include_top=False, **TINY)
    assert tuple(model.output.shape) == (None, 8, 16)
    pooled = SingleFrame(include_top=False, pooling="avg", **TINY)
    assert tuple(pooled.output.shape) == (None, 16)


def test_keras_applications_backbone_by_name():
    model = SingleFrame(
        backbone="MobileNetV2",
        include_top=False,
        pooling="avg",
        input_shape=(2, 32, 32, 3),
    )
    assert tuple(model.output.shape) == (None, 1280)


def test_backbone_model_with_feature_map_is_pooled(tmp_path):
    frame = keras.Input((32, 32, 3))
    cnn = keras.Model(frame, keras.layers.Conv2D(6, 3, strides=4)(frame))
    model = SingleFrame(backbone=cnn, classes=3, input_shape=(4, 32, 32, 3))
    check_application(model, (2, 3), tmp_path)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(input_shape=(32, 32, 3)), "input_shape"),
        (dict(input_shape=(8, 4, 4, 3)), "at least 8"),
        (dict(backbone="NoSuchNet"), "backbone"),
        (dict(backbone=3), "backbone"),
        (dict(pooling="sum", include_top=False), "pooling"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SingleFrame(**{**TINY, **kwargs})


def test_width_is_a_deprecated_alias_of_base_filters():
    with pytest.warns(DeprecationWarning, match="`width` is deprecated"):
        old = SingleFrame(width=4, depth=3, classes=3, input_shape=(8, 32, 32, 3))
    new = SingleFrame(base_filters=4, depth=3, classes=3, input_shape=(8, 32, 32, 3))
    assert old.count_params() == new.count_params()


def _frame_model(model):
    return model.get_layer("frame_features").layer


def test_frame_pooling_max_output_and_round_trip(tmp_path):
    model = SingleFrame(classes=5, frame_pooling="max", **TINY)
    layers = [layer.name for layer in _frame_model(model).layers]
    assert "frame_max_pool" in layers and "frame_avg_pool" not in layers
    check_application(model, (2, 5), tmp_path)
    features = SingleFrame(include_top=False, frame_pooling="max", **TINY)
    assert tuple(features.output.shape) == (None, 8, 16)


def test_frame_pooling_max_is_the_maximum_of_each_frame_map():
    model = SingleFrame(include_top=False, frame_pooling="max", **TINY)
    cnn = _frame_model(model)
    frame_map = keras.Model(cnn.input, cnn.get_layer("frame_block3_pool").output)
    clip = np.random.default_rng(1).standard_normal((1, 8, 32, 32, 3))
    clip = clip.astype("float32")
    maps = keras.ops.convert_to_numpy(frame_map(clip[0]))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(clip))[0], maps.max(axis=(1, 2)), atol=1e-6
    )


def test_frame_pooling_default_is_unchanged():
    # The published model: global average pooling of each frame's map.
    default = SingleFrame(classes=5, **TINY)
    avg = SingleFrame(classes=5, frame_pooling="avg", **TINY)
    assert [layer.name for layer in _frame_model(default).layers][-1] == (
        "frame_avg_pool"
    )
    assert default.count_params() == avg.count_params() == 1_745
    assert default.count_params() == (
        SingleFrame(classes=5, frame_pooling="max", **TINY).count_params()
    )


def test_frame_pooling_max_pools_a_backbone_map(tmp_path):
    frame = keras.Input((32, 32, 3))
    cnn = keras.Model(frame, keras.layers.Conv2D(6, 3, strides=4)(frame))
    model = SingleFrame(
        backbone=cnn, frame_pooling="max", classes=3, input_shape=(4, 32, 32, 3)
    )
    assert _frame_model(model).layers[-1].name == "frame_max_pool"
    check_application(model, (2, 3), tmp_path)


def test_bad_frame_pooling_raises():
    with pytest.raises(ValueError, match="frame_pooling"):
        SingleFrame(frame_pooling="sum", **TINY)
    with pytest.raises(ValueError, match="frame_pooling"):
        SingleFrame(frame_pooling=None, **TINY)


def test_frame_cnn_pooling_options():
    vector = FrameCNN((32, 32, 3), base_filters=4, depth=3, pooling="max")
    assert vector.output_shape == (None, 16)
    assert vector.layers[-1].name == "frame_max_pool"
    assert FrameCNN((32, 32, 3), base_filters=4, depth=3).layers[-1].name == (
        "frame_avg_pool"
    )
    assert FrameCNN((32, 32, 3), 4, 3, pooling=None).output_shape == (None, 4, 4, 16)
    with pytest.raises(ValueError, match="pooling"):
        FrameCNN((32, 32, 3), pooling="sum")
