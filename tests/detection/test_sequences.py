"""`keras_video.detection.sequences`: resampling to fixed-length sequences."""

import numpy as np
import pytest

from keras_video import detection


def test_resample_is_linear_interpolation_at_step_centres():
    features = np.array([[0.0], [10.0], [20.0], [30.0]], "float32")
    times = np.array([1.0, 2.0, 3.0, 4.0])  # stride 1 s: covers [0.5, 4.5]
    seq = detection.resample_features(features, times, 8)
    assert seq.time_offset == pytest.approx(0.5)
    assert seq.step_duration == pytest.approx(0.5)
    centres = 0.5 + (np.arange(8) + 0.5) * 0.5  # 0.75, 1.25, ..., 4.25
    expected = np.clip((centres - 1.0) * 10.0, 0.0, 30.0)  # held at the ends
    np.testing.assert_allclose(seq.features[:, 0], expected, atol=1e-6)
    assert seq.features.dtype == np.float32


def test_same_length_keeps_the_features():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(16, 3)).astype("float32")
    times = 0.2 + 0.4 * np.arange(16)
    seq = detection.resample_features(features, times, 16)
    np.testing.assert_allclose(seq.features, features, atol=1e-6)
    assert seq.time_offset == pytest.approx(0.0)
    assert seq.step_duration == pytest.approx(0.4)


def test_one_snippet():
    seq = detection.resample_features(np.ones((1, 2), "float32"), [3.0], 4)
    np.testing.assert_array_equal(seq.features, np.ones((4, 2)))
    assert seq.step_duration == pytest.approx(0.25)


def test_to_steps_round_trip_and_clipping():
    segments = [[1.0, 2.0], [-3.0, -1.0], [3.5, 9.0]]
    steps, keep = detection.to_steps(segments, time_offset=0.5, step_duration=0.5,
                                     sequence_length=8)  # fmt: skip
    np.testing.assert_array_equal(keep, [True, False, True])
    np.testing.assert_allclose(steps, [[1.0, 3.0], [6.0, 8.0]])


@pytest.mark.parametrize(
    "features, times, length, match",
    [
        (np.zeros((0, 2)), np.zeros(0), 4, "at least one snippet"),
        (np.zeros((3, 2)), np.zeros(2), 4, "one time per snippet"),
        (np.zeros((3, 2)), np.array([0.0, 2.0, 1.0]), 4, "increasing"),
        (np.zeros((3, 2)), np.arange(3.0), 0, "sequence_length"),
    ],
)
def test_bad_input(features, times, length, match):
    with pytest.raises(ValueError, match=match):
        detection.resample_features(features, times, length)
