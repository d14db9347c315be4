"""Targets of the temporal localiser: ActionFormer's centre-sampling assignment.

NumPy only. The localiser sees `sequence_length` snippets; snippet `j`
covers `[j, j + 1)` in snippet units (seconds: times `snippet_duration`).
Pyramid level `l` has stride `s = 2**l` and `sequence_length / s` points;
its point `i` sums snippets `[i s, (i + 1) s)` (stride-2 max pooling) and
sits at their centre, `(i + 0.5) s`. `temporal_points` lists every point
of every level, in the order the localiser concatenates its outputs.

A point at `t` of stride `s` is positive for a segment `[a, b]` when, as in
ActionFormer's `label_points_single_video` (Zhang et al. 2022):

- centre sampling: `t` lies strictly inside `[a, b]` intersected with
  `[c - r s, c + r s]`, `c = (a + b) / 2`, `r = center_sample_radius`
  (`None`: anywhere strictly inside `[a, b]`);
- regression range: `max(t - a, b - t)` (snippet units) lies in the level's
  range `[low, high]`.

Among the segments a point is positive for, the shortest wins: its
distances `((t - a) / s, (b - t) / s)` are the regression target, and the
class target is 1 for its label (and for the label of any other candidate
segment of the same length, within 1e-3, as ActionFormer does).
Background points get class targets 0 and regression targets `-1`.
"""

import numpy as np


def level_lengths(sequence_length, num_levels):
    """The number of points of each pyramid level: `sequence_length / 2**l`.

    Args:
        sequence_length: snippets per input sequence; a multiple of
            `2**(num_levels - 1)`.
        num_levels: pyramid levels.

    Returns:
        a list of `num_levels` ints.

    Example:

    ```python
    from keras_video import detection

    detection.level_lengths(64, 4)  # [64, 32, 16, 8]
    ```
    """
    sequence_length, num_levels = int(sequence_length), int(num_levels)
    if num_levels < 1:
        raise ValueError(
            f"`num_levels` must be >= 1. Received: num_levels={num_levels}"
        )
    coarsest = 2 ** (num_levels - 1)
    if sequence_length < 1 or sequence_length % coarsest:
        raise ValueError(
            f"`sequence_length` must be a positive multiple of 2**(num_levels - 1) "
            f"= {coarsest}. Received: sequence_length={sequence_length}"
        )
    return [sequence_length // 2**level for level in range(num_levels)]


def temporal_points(sequence_length, num_levels):
    """Every point of every pyramid level, in the localiser's output order.

    Args:
        sequence_length: snippets per input sequence.
        num_levels: pyramid levels.

    Returns:
        `(centres, strides)`: float64 arrays of shape `(sum_T,)`; `centres`
        in snippet units (`(i + 0.5) * stride`).

    Example:

    ```python
    from keras_video import detection

    centres, strides = detection.temporal_points(4, 2)
    # centres [0.5, 1.5, 2.5, 3.5, 1.0, 3.0], strides [1, 1, 1, 1, 2, 2]
    ```
    """
    centres, strides = [], []
    for level, length in enumerate(level_lengths(sequence_length, num_levels)):
        stride = 2.0**level
        centres.append((np.arange(length) + 0.5) * stride)
        strides.append(np.full(length, stride))
    return np.concatenate(centres), np.concatenate(strides)


def default_regression_ranges(num_levels):
    """ActionFormer's regression ranges in snippet units, one per level.

    Level 0: `(0, 4)`; level `l`: `(2**(l + 1), 2**(l + 2))`; the last level
    has no upper bound. Six levels give ActionFormer's `(0, 4), (4, 8), ...,
    (64, inf)`.
    """
    ranges = [(0.0, 4.0)] + [
        (2.0 ** (level + 1), 2.0 ** (level + 2)) for level in range(1, num_levels)
    ]
    ranges[-1] = (ranges[-1][0], float("inf"))
    return tuple(ranges)


class TemporalLabelEncoder:
    """Assigns ground-truth segments to the localiser's points (NumPy).

    Args:
        num_classes: number of action classes.
        sequence_length: snippets per input sequence (the localiser's `T`).
        num_levels: pyramid levels, as the localiser.
        regression_ranges: `num_levels` pairs `(low, high)` in snippet
            units; `None` means `default_regression_ranges(num_levels)`.
        center_sample_radius: the centre-sampling radius in strides, or
            `None` for no centre sampling.
        snippet_duration: seconds per snippet; segments are given in
            seconds. `1.0` means segments in snippet units.

    Call arguments:
        segments: `(N, 2)` `[start, end]` in seconds from the sequence start.
        labels: `(N,)` class indices.

    Returns:
        a dict: `"classification"` float32 `(sum_T, num_classes)` (0/1),
        `"regression"` float32 `(sum_T, 2)`, distances to start and end in
        units of the point's stride, `-1` on background points.

    Example:

    ```python
    from keras_video import detection

    encoder = detection.TemporalLabelEncoder(num_classes=3, sequence_length=64,
                                             num_levels=4)
    targets = encoder([[10.0, 22.0]], [2])
    targets["classification"].shape  # (120, 3)
    targets["regression"].shape  # (120, 2)
    ```

    Reference:
        Zhang et al., "ActionFormer: Localizing Moments of Actions with
        Transformers", ECCV 2022.
    """

    def __init__(
        self,
        num_classes,
        sequence_length,
        num_levels=6,
        regression_ranges=None,
        center_sample_radius=1.5,
        snippet_duration=1.0,
    ):
        if int(num_classes) < 1:
            raise ValueError(
                f"`num_classes` must be >= 1. Received: num_classes={num_classes}"
            )
        if regression_ranges is None:
            regression_ranges = default_regression_ranges(num_levels)
        regression_ranges = tuple(
            (float(low), float(high)) for low, high in regression_ranges
        )
        if len(regression_ranges) != int(num_levels):
            raise ValueError(
                "`regression_ranges` must have one (low, high) pair per level. "
                f"Received: {len(regression_ranges)} pairs for "
                f"num_levels={num_levels}"
            )
        if center_sample_radius is not None and float(center_sample_radius) <= 0:
            raise ValueError(
                "`center_sample_radius` must be > 0 or None. "
                f"Received: center_sample_radius={center_sample_radius}"
            )
        if float(snippet_duration) <= 0:
            raise ValueError(
                "`snippet_duration` must be > 0. "
                f"Received: snippet_duration={snippet_duration}"
            )
        self.num_classes = int(num_classes)
        self.sequence_length = int(sequence_length)
        self.num_levels = int(num_levels)
        self.regression_ranges = regression_ranges
        self.center_sample_radius = (
            None if center_sample_radius is None else float(center_sample_radius)
        )
        self.snippet_duration = float(snippet_duration)
        self.centres, self.strides = temporal_points(sequence_length, num_levels)
        lengths = level_lengths(sequence_length, num_levels)
        self.ranges = np.repeat(np.array(regression_ranges), lengths, axis=0)

    def __call__(self, segments, labels):
        segments = np.asarray(segments, dtype=np.float64).reshape(-1, 2)
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        if len(labels) != len(segments):
            raise ValueError(
                "`segments` and `labels` must have the same length. Received: "
                f"{len(segments)} segments, {len(labels)} labels"
            )
        if np.any(segments[:, 1] <= segments[:, 0]):
            raise ValueError(f"every segment needs end > start. Received: {segments}")
        if np.any((labels < 0) | (labels >= self.num_classes)):
            raise ValueError(
                f"labels must be in [0, {self.num_classes}). Received: {labels}"
            )
        num_points = len(self.centres)
        classification = np.zeros((num_points, self.num_classes), np.float32)
        regression = np.full((num_points, 2), -1.0, np.float32)
        if len(segments) == 0:
            return {"classification": classification, "regression": regression}

        segments = segments / self.snippet_duration
        t = self.centres[:, None]  # (P, 1)
        stride = self.strides[:, None]
        start, end = segments[None, :, 0], segments[None, :, 1]  # (1, N)
        to_start, to_end = t - start, end - t  # (P, N)
        if self.center_sample_radius is None:
            inside = np.minimum(to_start, to_end) > 0
        else:
            centre = 0.5 * (start + end)
            radius = self.center_sample_radius * stride
            left = t - np.maximum(centre - radius, start)
            right = np.minimum(centre + radius, end) - t
            inside = np.minimum(left, right) > 0
        reach = np.maximum(to_start, to_end)
        in_range = (reach >= self.ranges[:, :1]) & (reach <= self.ranges[:, 1:])
        lengths = np.broadcast_to(end - start, to_start.shape).copy()
        lengths[~(inside & in_range)] = np.inf
        best = lengths.argmin(axis=1)
        shortest = lengths[np.arange(num_points), best]
        positive = np.isfinite(shortest)
        tied = (lengths <= shortest[:, None] + 1e-3) & positive[:, None]
        one_hot = np.eye(self.num_classes, dtype=np.float32)[labels]  # (N, C)
        classification[:] = np.minimum(tied.astype(np.float32) @ one_hot, 1.0)
        rows = np.flatnonzero(positive)
        distances = np.stack(
            [to_start[rows, best[rows]], to_end[rows, best[rows]]], axis=-1
        )
        regression[rows] = distances / self.strides[rows, None]
        return {"classification": classification, "regression": regression}

    def encode_batch(self, segments, labels):
        """Encodes a list of videos; returns the targets stacked on axis 0."""
        if len(segments) != len(labels):
            raise ValueError(
                "`segments` and `labels` must list the same videos. Received: "
                f"{len(segments)} and {len(labels)}"
            )
        encoded = [self(s, y) for s, y in zip(segments, labels, strict=True)]
        if not encoded:
            num_points = len(self.centres)
            return {
                "classification": np.zeros((0, num_points, self.num_classes), "f4"),
                "regression": np.zeros((0, num_points, 2), "f4"),
            }
        return {key: np.stack([e[key] for e in encoded]) for key in encoded[0]}
