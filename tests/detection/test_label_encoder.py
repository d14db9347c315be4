"""`keras_video.detection.label_encoder`: ActionFormer's target assignment."""

import math

import numpy as np
import pytest

from keras_video import detection


def test_level_lengths_and_points():
    assert detection.level_lengths(64, 4) == [64, 32, 16, 8]
    centres, strides = detection.temporal_points(4, 2)
    np.testing.assert_array_equal(centres, [0.5, 1.5, 2.5, 3.5, 1.0, 3.0])
    np.testing.assert_array_equal(strides, [1, 1, 1, 1, 2, 2])
    with pytest.raises(ValueError, match="multiple of"):
        detection.level_lengths(60, 4)
    with pytest.raises(ValueError, match="num_levels"):
        detection.level_lengths(8, 0)


def test_default_regression_ranges_are_actionformers():
    assert detection.default_regression_ranges(6) == (
        (0, 4),
        (4, 8),
        (8, 16),
        (16, 32),
        (32, 64),
        (64, math.inf),
    )


def test_centre_sampling_hand_worked():
    # T=16, 2 levels; segment [4, 8] of class 1, radius 1.5.
    # Level 0 (stride 1, points at j + 0.5): window (6 - 1.5, 6 + 1.5) within
    # [4, 8] -> points 5.5 and 6.5 strictly inside; their reach
    # max(t - 4, 8 - t) = 2.5 is in level 0's range [0, 4].
    # Level 1 (stride 2, points 1, 3, 5, 7, ...): window (3, 9) within [4, 8]
    # -> points 5 and 7, reach 3, below level 1's range [4, inf): negative.
    encoder = detection.TemporalLabelEncoder(3, 16, num_levels=2)
    targets = encoder([[4.0, 8.0]], [1])
    cls, reg = targets["classification"], targets["regression"]
    assert cls.shape == (24, 3) and reg.shape == (24, 2)
    positive = np.flatnonzero(reg[:, 0] >= 0)
    np.testing.assert_array_equal(positive, [5, 6])
    np.testing.assert_array_equal(reg[5], [1.5, 2.5])
    np.testing.assert_array_equal(reg[6], [2.5, 1.5])
    np.testing.assert_array_equal(cls[positive], [[0, 1, 0], [0, 1, 0]])
    assert cls.sum() == 2 and (reg[reg[:, 0] < 0] == -1).all()


def test_regression_targets_are_in_strides():
    # segment [0, 32] on T=32, 2 levels: reach at level-1 points 15 and 17 is
    # 17 (in [4, inf)); centre 16, window (16 - 3, 16 + 3) -> points 15, 17.
    encoder = detection.TemporalLabelEncoder(1, 32, num_levels=2)
    reg = encoder([[0.0, 32.0]], [0])["regression"]
    positive = np.flatnonzero(reg[:, 0] >= 0)
    np.testing.assert_array_equal(positive, [32 + 7, 32 + 8])
    np.testing.assert_array_equal(reg[32 + 7], [15 / 2, 17 / 2])
    np.testing.assert_array_equal(reg[32 + 8], [17 / 2, 15 / 2])


def test_shortest_segment_wins_and_equal_lengths_share_the_point():
    everywhere = ((0.0, math.inf), (0.0, math.inf))
    encoder = detection.TemporalLabelEncoder(
        3, 16, num_levels=2, regression_ranges=everywhere
    )
    # [4, 10] (class 0) and [6, 8] (class 2) both claim points 6.5 and 7.5
    targets = encoder([[4.0, 10.0], [6.0, 8.0]], [0, 2])
    np.testing.assert_array_equal(targets["classification"][6], [0, 0, 1])
    np.testing.assert_array_equal(targets["regression"][6], [0.5, 1.5])
    # the same segment twice with two classes: both classes are targets
    targets = encoder([[6.0, 8.0], [6.0, 8.0]], [0, 2])
    np.testing.assert_array_equal(targets["classification"][6], [1, 0, 1])


def test_seconds_and_no_centre_sampling():
    units = detection.TemporalLabelEncoder(2, 16, num_levels=2)([[4.0, 8.0]], [1])
    seconds = detection.TemporalLabelEncoder(2, 16, num_levels=2, snippet_duration=0.5)(
        [[2.0, 4.0]], [1]
    )
    for key in units:
        np.testing.assert_array_equal(units[key], seconds[key])
    whole = detection.TemporalLabelEncoder(
        2, 16, num_levels=2, center_sample_radius=None
    )([[4.0, 8.0]], [1])
    # every level-0 point inside (4, 8): 4.5 ... 7.5
    np.testing.assert_array_equal(
        np.flatnonzero(whole["regression"][:, 0] >= 0), [4, 5, 6, 7]
    )


def test_batch_empty_and_errors():
    encoder = detection.TemporalLabelEncoder(2, 8, num_levels=2)
    batch = encoder.encode_batch([[[1.0, 3.0]], np.zeros((0, 2))], [[0], []])
    assert batch["classification"].shape == (2, 12, 2)
    assert batch["classification"][1].sum() == 0
    assert (batch["regression"][1] == -1).all()
    with pytest.raises(ValueError, match="end > start"):
        encoder([[3.0, 3.0]], [0])
    with pytest.raises(ValueError, match="labels must be"):
        encoder([[1.0, 3.0]], [2])
    with pytest.raises(ValueError, match="one \\(low, high\\)"):
        detection.TemporalLabelEncoder(2, 8, num_levels=2, regression_ranges=[(0, 1)])
