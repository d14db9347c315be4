import numpy as np
import pytest

from keras_video.applications import CNNRNN
from tests.applications.checks import (
    check_application,
)

TINY = dict(base_filters=4, depth=3, rnn_units=8, input_shape=(8, 32, 32, 3))


@pytest.mark.parametrize("rnn", ["lstm", "gru"])
def test_many_to_one_round_trip(rnn, tmp_path):
    check_application(CNNRNN(rnn=rnn, classes=5, **TINY), (2, 5), tmp_path)


def test_many_to_many_round_trip(tmp_path):
    model = CNNRNN(rnn="gru", return_sequences=True, classes=5, **TINY)
    check_application(model, (2, 8, 5), tmp_path)


def test_frozen_backbone_has_no_trainable_weights():
    frozen = CNNRNN(trainable_backbone=False, classes=5, **TINY)
    trainable = CNNRNN(classes=5, **TINY)
    cnn_weights = len(trainable.get_layer("frame_features").trainable_weights)
    assert cnn_weights > 0
    assert frozen.get_layer("frame_features").trainable_weights == []
    assert (
        len(frozen.trainable_weights) == len(trainable.trainable_weights) - cnn_weights
    )


def test_features_without_top():
    model = CNNRNN(include_top=False, **TINY)
    assert tuple(model.output.shape) == (None, 8)
    seq = CNNRNN(include_top=False, return_sequences=True, pooling="max", **TINY)
    assert tuple(seq.output.shape) == (None, 8)


def test_any_clip_length():
    model = CNNRNN(classes=3, **{**TINY, "input_shape": (None, 32, 32, 3)})
    for frames in (3, 5):
        out = model(np.zeros((1, frames, 32, 32, 3), "float32"))
        assert tuple(out.shape) == (1, 3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(input_shape=(32, 32, 3)), "input_shape"),
        (dict(rnn="transformer"), "rnn"),
        (dict(rnn_units=0), "rnn_units"),
        (dict(input_shape=(8, 4, 4, 3)), "at least 8"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CNNRNN(**{**TINY, **kwargs})
