"""`keras_video.detection.sliding_window`: the sliding-window baseline."""

import numpy as np
import pytest

from keras_video import detection


def test_windows_scored_by_mean_probability():
    probs = np.zeros((8, 2))
    probs[2:6, 1] = 1.0
    times = np.arange(8) + 0.5  # snippet i covers [i, i + 1)
    found = detection.sliding_window_detections(
        probs, times, window_lengths=(4,), overlap=0.5, method="none",
        min_score=0.0, max_detections=None,
    )  # fmt: skip
    # windows start at 0, 2, 4: [0, 4), [2, 6), [4, 8); class 1 means 0.5, 1, 0.5
    ones = found["labels"] == 1
    order = np.argsort(found["segments"][ones, 0])
    np.testing.assert_allclose(found["segments"][ones][order], [[0, 4], [2, 6], [4, 8]])
    np.testing.assert_allclose(found["scores"][ones][order], [0.5, 1.0, 0.5])
    assert found["labels"][0] == 1 and found["scores"][0] == pytest.approx(1.0)


def test_the_end_is_covered_and_long_windows_shrink_to_the_video():
    probs = np.full((5, 1), 0.5)
    found = detection.sliding_window_detections(
        probs, np.arange(5.0), window_lengths=(2, 99), overlap=0.0, method="none",
        min_score=0.0, max_detections=None,
    )  # fmt: skip
    segments = {tuple(s) for s in np.round(found["segments"], 6)}
    # length 2, hop 2: starts 0, 2 and 3 (the end); length 5: the whole video
    assert segments == {(-0.5, 1.5), (1.5, 3.5), (2.5, 4.5), (-0.5, 4.5)}


def test_nms_removes_overlapping_windows():
    probs = np.zeros((8, 1))
    probs[2:6, 0] = 1.0
    found = detection.sliding_window_detections(
        probs, np.arange(8) + 0.5, window_lengths=(4,), overlap=0.75, method="nms",
        iou_threshold=0.3,
    )  # fmt: skip
    # [2, 6) scores 1; [1, 5) and [3, 7) (IoU 0.6), [0, 4) and [4, 8) (IoU 1/3)
    # overlap it by more than 0.3 and are suppressed.
    np.testing.assert_allclose(found["segments"], [[2, 6]])


def test_empty_video_and_bad_arguments():
    found = detection.sliding_window_detections(np.zeros((0, 3)), np.zeros(0))
    assert found["segments"].shape == (0, 2)
    with pytest.raises(ValueError, match="overlap"):
        detection.sliding_window_detections(np.zeros((2, 1)), [0, 1], overlap=1.0)
    with pytest.raises(ValueError, match="window_lengths"):
        detection.sliding_window_detections(np.zeros((2, 1)), [0, 1], window_lengths=())
    with pytest.raises(ValueError, match="one row per time"):
        detection.sliding_window_detections(np.zeros((3, 1)), [0, 1])


def test_context_ranks_the_window_that_fits_first():
    probs = np.zeros((16, 1))
    probs[4:12, 0] = 1.0  # the action: snippets 4-11
    times = np.arange(16) + 0.5
    plain = detection.sliding_window_detections(
        probs, times, window_lengths=(4, 8), overlap=0.75, method="none",
        max_detections=None,
    )  # fmt: skip
    # Without context, every window inside the action scores 1: [4, 8),
    # [5, 9), ..., [8, 12) (length 4, hop 1) and [4, 12) (length 8, hop 2).
    assert np.sum(plain["scores"] == 1.0) == 6
    found = detection.sliding_window_detections(
        probs, times, window_lengths=(4, 8), overlap=0.75, context=0.5,
        method="none", max_detections=None,
    )  # fmt: skip
    # With context 0.5 only [4, 12) (4 empty snippets on each side) keeps 1;
    # [4, 8) has 2 context snippets on each side, 2 of the 4 in the action:
    # 1 - 2/4.
    np.testing.assert_allclose(found["segments"][0], [4, 12])
    assert found["scores"][0] == pytest.approx(1.0)
    assert found["scores"][1] <= 0.5 + 1e-9
    index = np.flatnonzero((found["segments"] == [4, 8]).all(axis=1))[0]
    assert found["scores"][index] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="context"):
        detection.sliding_window_detections(probs, times, context=-1)
