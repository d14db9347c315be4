import keras
import numpy as np
import pytest

from keras_video.applications import C3D, CNNRNN, RecurrentCNN
from keras_video.streaming.causal import CausalStreamer, SlidingWindow


def frames(n, size=16, seed=0):
    return (
        np.random.default_rng(seed).uniform(-1, 1, (n, size, size, 3)).astype("float32")
    )


TINY = dict(classes=3, input_shape=(None, 16, 16, 3), classifier_activation=None)


@pytest.mark.parametrize(
    "build",
    [
        lambda: RecurrentCNN(base_filters=4, depth=2, **TINY),
        lambda: CNNRNN(base_filters=4, depth=2, rnn_units=8, **TINY),
    ],
)
def test_frame_by_frame_equals_clip_mode_on_the_same_frames(build):
    model = build()
    clip = frames(5)
    streamer = CausalStreamer(model)
    for t in range(1, 6):
        got = streamer.update(clip[t - 1])
        expected = keras.ops.convert_to_numpy(model(clip[None, :t], training=False))[0]
        np.testing.assert_allclose(got, expected, atol=1e-5)
    assert streamer.frames_seen == 5
    streamer.reset()
    np.testing.assert_allclose(
        streamer.update(clip[0]),
        keras.ops.convert_to_numpy(model(clip[None, :1]))[0], atol=1e-5,
    )  # fmt: skip


def test_a_model_that_mixes_frames_is_refused_by_name():
    model = C3D(base_filters=2, fc_units=8, classes=3, input_shape=(8, 16, 16, 3))
    with pytest.raises(ValueError, match="mixes frames"):
        CausalStreamer(model)


def test_sliding_window_equals_the_model_on_the_last_frames():
    model = C3D(base_filters=2, fc_units=8, classes=3, input_shape=(8, 32, 32, 3),
                classifier_activation=None)  # fmt: skip
    video = frames(11, 32, seed=1)
    window = SlidingWindow(model, stride=1)
    outputs = [window.update(f) for f in video]
    assert all(o is None for o in outputs[:7])
    for t in range(7, 11):
        expected = keras.ops.convert_to_numpy(model(video[None, t - 7 : t + 1]))[0]
        np.testing.assert_allclose(outputs[t], expected, atol=1e-5)
    strided = SlidingWindow(model, stride=2)
    outputs = [strided.update(f) for f in video]
    np.testing.assert_array_equal(outputs[8], outputs[7])  # no run at t=8
    with pytest.raises(ValueError, match="stride"):
        SlidingWindow(model, stride=0)
