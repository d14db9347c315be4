"""Snippet features of any length as fixed-length localiser inputs.

The localiser takes `(T, C)` sequences of one length per batch. Videos give
any number of snippets; as BMN and ActionFormer do on ActivityNet, each
video's features are resampled (linear interpolation over time) to
`sequence_length` steps that evenly cover the video's snippets, and each
sequence keeps its own time axis: step `j` covers
`[time_offset + j * step_duration, time_offset + (j + 1) * step_duration)`
seconds. Segments go into step units with `to_steps` (for
`TemporalLabelEncoder(snippet_duration=1.0)`), and decoded detections come
back to seconds with `decode_detections(snippet_duration=step_duration,
time_offset=time_offset)`.

Resampling keeps every action of a long video in one sequence at the cost of
temporal detail when a video has many more snippets than `sequence_length`;
choose `sequence_length` near the typical snippet count (THUMOS14-length
videos may rather be cut into overlapping windows, which this module does not
do).
"""

import collections

import numpy as np

ResampledSequence = collections.namedtuple(
    "ResampledSequence", ["features", "time_offset", "step_duration"]
)
ResampledSequence.__doc__ = """A video's features on `sequence_length` even steps.

Attributes:
    features: float32 `(sequence_length, C)`.
    time_offset: seconds at the start of step 0.
    step_duration: seconds per step.
"""


def resample_features(features, times, sequence_length):
    """Resamples one video's snippet features to `sequence_length` steps.

    Snippet `i`, centred at `times[i]`, is taken to cover one snippet stride
    (`times[1] - times[0]`) around its centre, so the snippets cover
    `[times[0] - d/2, times[-1] + d/2]`; that span is cut into
    `sequence_length` equal steps and each step's feature is the linear
    interpolation of the snippet features at the step's centre (the end
    snippets' features beyond the first and last centres).

    Args:
        features: `(num_snippets, C)` snippet features.
        times: `(num_snippets,)` snippet centre times in seconds, increasing
            and evenly spaced (as `extract_features` returns them).
        sequence_length: steps of the output.

    Returns:
        a `ResampledSequence`.

    Raises:
        ValueError: empty or mismatched inputs, unordered times, or a
            `sequence_length` below 1.

    Example:

    ```python
    import numpy as np
    from keras_video import detection

    seq = detection.resample_features(np.eye(3, dtype="float32"),
                                      np.array([0.5, 1.5, 2.5]), 6)
    seq.features.shape  # (6, 3)
    seq.time_offset, seq.step_duration  # (0.0, 0.5)
    ```
    """
    features = np.asarray(features, dtype=np.float32)
    times = np.asarray(times, dtype=np.float64)
    if int(sequence_length) < 1:
        raise ValueError(
            "`sequence_length` must be >= 1. "
            f"Received: sequence_length={sequence_length}"
        )
    if features.ndim != 2 or len(features) == 0:
        raise ValueError(
            "`features` must be (num_snippets, C) with at least one snippet. "
            f"Received: shape {features.shape}"
        )
    if times.shape != (len(features),):
        raise ValueError(
            f"`times` must have one time per snippet, ({len(features)},). "
            f"Received: shape {times.shape}"
        )
    if len(times) > 1 and np.any(np.diff(times) <= 0):
        raise ValueError("`times` must be strictly increasing.")
    stride = float(times[1] - times[0]) if len(times) > 1 else 1.0
    start = float(times[0]) - stride / 2
    span = float(times[-1] - times[0]) + stride
    step = span / int(sequence_length)
    centres = start + (np.arange(int(sequence_length)) + 0.5) * step
    # Fractional snippet index of every step centre, then linear weights.
    position = np.interp(centres, times, np.arange(len(times), dtype=np.float64))
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, len(times) - 1)
    weight = (position - low)[:, None].astype(np.float32)
    resampled = features[low] * (1.0 - weight) + features[high] * weight
    return ResampledSequence(resampled.astype(np.float32), start, step)


def to_steps(segments, time_offset, step_duration, sequence_length):
    """`(N, 2)` segments in seconds -> step units of a resampled sequence,
    clipped to `[0, sequence_length]`; segments left empty by the clipping
    are dropped.

    Returns:
        `(segments, keep)`: float64 `(M, 2)` in steps and the boolean mask
        `(N,)` of the kept input segments (to select their labels).
    """
    segments = np.asarray(segments, dtype=np.float64).reshape(-1, 2)
    steps = np.clip((segments - time_offset) / step_duration, 0, sequence_length)
    keep = steps[:, 1] > steps[:, 0]
    return steps[keep], keep
