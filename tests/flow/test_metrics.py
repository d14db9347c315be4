"""`keras_video.flow.metrics.epe` against hand-computed errors."""

import math

import numpy as np
import pytest

from keras_video import flow


def test_hand_computed_mean():
    truth = np.zeros((2, 2, 2))
    estimate = np.array([[[3.0, 4.0], [0.0, 0.0]], [[0.0, 1.0], [-6.0, 8.0]]])
    # distances 5, 0, 1, 10
    assert flow.epe(estimate, truth) == 4.0
    assert flow.epe(truth, estimate) == 4.0
    mask = np.array([[True, False], [True, False]])
    assert flow.epe(estimate, truth, mask) == 3.0
    # A clip (T, H, W, 2) with a mask per frame that broadcasts over time.
    clip = np.stack([estimate, estimate + [0.0, 1.0]])
    assert flow.epe(clip, np.zeros_like(clip), mask) == pytest.approx(
        (5 + 1 + math.sqrt(34) + 2) / 4
    )


def test_unknown_ground_truth_is_not_counted():
    truth = np.array([[[1e10, 0.0], [0.0, 0.0]], [[np.nan, 0.0], [0.0, np.inf]]])
    estimate = np.array([[[7.0, 7.0], [0.0, 2.0]], [[7.0, 7.0], [7.0, 7.0]]])
    assert flow.epe(estimate, truth) == 2.0  # only pixel (0, 1) is known


def test_errors():
    zeros = np.zeros((2, 2, 2))
    with pytest.raises(
        ValueError, match=r"flow.shape=\(2, 2, 2\), ground_truth.shape=\(2, 3, 2\)"
    ):
        flow.epe(zeros, np.zeros((2, 3, 2)))
    with pytest.raises(ValueError, match=r"flow.shape=\(2, 2\)"):
        flow.epe(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="Received: mask.dtype=int64"):
        flow.epe(zeros, zeros, np.ones((2, 2), np.int64))
    with pytest.raises(ValueError, match=r"Received: mask.shape=\(3,\)"):
        flow.epe(zeros, zeros, np.ones(3, bool))
    with pytest.raises(ValueError, match="No pixel to count"):
        flow.epe(zeros, zeros, np.zeros((2, 2), bool))
