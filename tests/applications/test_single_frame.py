import keras
import numpy as np
import pytest

from keras_video.applications import SingleFrame
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
