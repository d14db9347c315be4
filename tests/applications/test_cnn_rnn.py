import keras
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


@pytest.mark.parametrize("map_channels", [1, 2])
def test_spatial_map_frame_features(map_channels, tmp_path):
    model = CNNRNN(frame_features="map", map_channels=map_channels, classes=5, **TINY)
    # 32x32 frames, 3 stages -> a 4x4 map, 1x1 conv to map_channels, flattened.
    assert tuple(model.get_layer("frame_features").output.shape) == (
        None,
        8,
        4 * 4 * map_channels,
    )
    assert tuple(model.get_layer("lstm").input.shape) == (None, 8, 16 * map_channels)
    check_application(model, (2, 5), tmp_path)


def test_spatial_map_keeps_where_things_are():
    keras.utils.set_random_seed(0)  # a ReLU map of random weights: fix them
    model = CNNRNN(frame_features="map", map_channels=4, classes=5, **TINY)
    frames = keras.Model(model.input, model.get_layer("frame_features").output)
    # A blob in the top left, then the same blob in the bottom right: the
    # pooled feature can hardly tell them apart, the map can.
    clip = np.zeros((2, 8, 32, 32, 3), "float32")
    clip[0, :, 2:8, 2:8] = 1.0
    clip[1, :, 24:30, 24:30] = 1.0
    a, b = keras.ops.convert_to_numpy(frames(clip))[:, 0]
    assert a.shape == (4 * 4 * 4,)
    assert a.any() and b.any() and not np.allclose(a, b, atol=1e-3)
    pooled = CNNRNN(classes=5, **TINY)
    assert tuple(pooled.get_layer("frame_features").output.shape) == (None, 8, 16)


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
        (dict(frame_features="vector"), "frame_features"),
        (dict(frame_features="map", input_shape=(8, None, None, 3)), "frame size"),
        (dict(rnn_units=0), "rnn_units"),
        (dict(input_shape=(8, 4, 4, 3)), "at least 8"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CNNRNN(**{**TINY, **kwargs})
