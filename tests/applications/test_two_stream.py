import keras
import numpy as np
import pytest

from keras_video.applications import SingleFrame, TwoStream
from tests.applications.checks import (
    check_application,
    random_inputs,
)

TINY = dict(base_filters=4, depth=3, input_shape=(8, 32, 32, 3))


@pytest.mark.parametrize("fusion", ["average", "weighted", "concat"])
def test_tiny_output_and_round_trip(fusion, tmp_path):
    model = TwoStream(fusion=fusion, classes=5, **TINY)
    assert [tuple(x.shape) for x in model.inputs] == [
        (None, 8, 32, 32, 3),
        (None, 8, 32, 32, 2),
    ]
    check_application(model, (2, 5), tmp_path)


def test_average_is_the_mean_of_stream_scores():
    model = TwoStream(fusion="average", classes=5, classifier_activation=None, **TINY)
    clip, flow = random_inputs(model)
    rgb = keras.ops.convert_to_numpy(model.get_layer("rgb_stream")(clip))
    fl = keras.ops.convert_to_numpy(model.get_layer("flow_stream")(flow))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model([clip, flow])), (rgb + fl) / 2, atol=1e-5
    )


def test_weighted_fusion_weights_are_trainable():
    model = TwoStream(fusion="weighted", classes=5, **TINY)
    names = [w.path for w in model.get_layer("fusion").trainable_weights]
    assert len(names) == 1 and "fusion_weights" in names[0]


def test_stacked_flow_and_custom_rgb_model(tmp_path):
    rgb = SingleFrame(
        base_filters=4,
        depth=3,
        classes=3,
        classifier_activation=None,
        input_shape=(4, 32, 32, 3),
        name="my_rgb",
    )
    model = TwoStream(
        rgb_model=rgb,
        classes=3,
        base_filters=4,
        depth=3,
        flow_input_shape=(1, 32, 32, 20),
    )
    assert tuple(model.inputs[1].shape) == (None, 1, 32, 32, 20)
    check_application(model, (2, 3), tmp_path)


def test_features_without_top():
    split = TwoStream(include_top=False, **TINY)
    assert [tuple(o.shape) for o in split.outputs] == [(None, 16), (None, 16)]
    joined = TwoStream(include_top=False, pooling="max", **TINY)
    assert tuple(joined.output.shape) == (None, 32)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(input_shape=(32, 32, 3)), "input_shape"),
        (dict(fusion="product"), "fusion"),
        (dict(flow_input_shape=(8, 4, 4, 2)), "at least 8"),
        (dict(rgb_model="resnet"), "rgb_model"),
        (dict(input_tensor=keras.Input((8, 32, 32, 3))), "pair"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TwoStream(**{**TINY, **kwargs})


def test_stream_with_wrong_number_of_classes_raises():
    rgb = SingleFrame(base_filters=4, depth=3, classes=7, input_shape=(8, 32, 32, 3))
    with pytest.raises(ValueError, match="classes=5"):
        TwoStream(rgb_model=rgb, classes=5, base_filters=4, depth=3)
