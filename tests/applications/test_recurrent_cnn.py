import keras
import numpy as np
import pytest

from keras_video.applications import RecurrentCNN
from tests.applications.checks import (
    check_application,
)

TINY = dict(base_filters=4, depth=2, input_shape=(8, 32, 32, 3))


def test_tiny_output_and_round_trip(tmp_path):
    check_application(RecurrentCNN(classes=5, **TINY), (2, 5), tmp_path)


def test_grid_layers_and_shapes():
    model = RecurrentCNN(
        base_filters=4, depth=3, include_top=False, input_shape=(8, 32, 32, 3)
    )
    assert tuple(model.get_layer("conv_gru1").output.shape) == (None, 8, 32, 32, 4)
    assert tuple(model.get_layer("conv_gru2").output.shape) == (None, 8, 16, 16, 8)
    # the last layer returns its final state only
    assert tuple(model.output.shape) == (None, 8, 8, 16)
    pooled = RecurrentCNN(include_top=False, pooling="avg", **TINY)
    assert tuple(pooled.output.shape) == (None, 8)


def test_order_of_frames_matters():
    model = RecurrentCNN(classes=3, classifier_activation=None, **TINY)
    clip = np.random.default_rng(0).standard_normal((1, 8, 32, 32, 3)).astype("float32")
    forward = keras.ops.convert_to_numpy(model(clip))
    backward = keras.ops.convert_to_numpy(model(clip[:, ::-1]))
    assert np.abs(forward - backward).max() > 1e-6


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(input_shape=(32, 32, 3)), "input_shape"),
        (dict(depth=0), "depth"),
        (dict(base_filters=0), "base_filters"),
        (dict(base_filters=4, depth=4, input_shape=(8, 4, 4, 3)), "at least 8"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RecurrentCNN(**{**TINY, **kwargs})


def test_filters_is_a_deprecated_alias_of_base_filters_and_depth():
    with pytest.warns(DeprecationWarning, match="`filters` is deprecated"):
        old = RecurrentCNN(filters=(4, 8), input_shape=(8, 32, 32, 3), classes=3)
    new = RecurrentCNN(base_filters=4, depth=2, input_shape=(8, 32, 32, 3), classes=3)
    assert old.count_params() == new.count_params()
