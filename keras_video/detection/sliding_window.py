"""The classic baseline: sliding-window classification, then NMS.

Before anchor-free localisers, actions were found by classifying windows of
several lengths slid over the video (Shou et al., S-CNN, 2016) and keeping
the best windows with NMS. Here the windows are scored from per-snippet
class probabilities (a snippet classifier run over the video): a window's
score for class `c` is the mean probability of `c` over its snippets, minus
(with `context > 0`) the mean over the snippets just outside it, `context`
times its length on each side, clipped at 0. The context term is the
simplest form of SSN's completeness (Zhao et al. 2017): without it, every
window inside an action scores as high as the window that fits it, and the
short ones flood the ranking.
"""

import numpy as np

from keras_video.detection.decoding import class_nms


def sliding_window_detections(
    probabilities,
    times,
    window_lengths=(4, 8, 16, 32),
    overlap=0.5,
    context=0.0,
    method="soft_nms",
    iou_threshold=0.5,
    sigma=0.5,
    min_score=1e-3,
    max_detections=100,
):
    """Detections of one video from its per-snippet class probabilities.

    Args:
        probabilities: `(num_snippets, num_classes)` class probabilities of
            the snippets (without a background column).
        times: `(num_snippets,)` snippet centre times in seconds, evenly
            spaced; snippet `i` covers one stride around `times[i]`.
        window_lengths: window lengths in snippets; longer than the video:
            one window over the whole video.
        overlap: fraction of a window shared with the next one, in `[0, 1)`.
        context: `>= 0`; the length of the context on each side of a window,
            as a fraction of the window's (cut at the video's ends; no
            context left there counts as probability 0).
        method, iou_threshold, sigma, min_score, max_detections: as
            `keras_video.detection.class_nms`.

    Returns:
        a dict of `"segments"` `(K, 2)` in seconds, `"labels"` `(K,)`,
        `"scores"` `(K,)`, best first (the layout of `decode_detections`).

    Example:

    ```python
    import numpy as np
    from keras_video import detection

    probs = np.zeros((20, 2)); probs[5:10, 1] = 0.9
    found = detection.sliding_window_detections(
        probs, np.arange(20) + 0.5, window_lengths=(5,), overlap=0.8)
    found["segments"][0], found["labels"][0]  # [5., 10.], 1
    ```
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    if probabilities.ndim != 2 or len(probabilities) != len(times):
        raise ValueError(
            "`probabilities` must be (num_snippets, num_classes) with one row "
            f"per time. Received: shapes {probabilities.shape} and {times.shape}"
        )
    if not 0.0 <= float(overlap) < 1.0:
        raise ValueError(f"`overlap` must be in [0, 1). Received: overlap={overlap}")
    if float(context) < 0:
        raise ValueError(f"`context` must be >= 0. Received: context={context}")
    if not window_lengths or min(int(w) for w in window_lengths) < 1:
        raise ValueError(
            f"`window_lengths` must be positive ints. Received: {window_lengths!r}"
        )
    num_snippets, num_classes = probabilities.shape
    if num_snippets == 0:
        return class_nms(np.zeros((0, 2)), np.zeros(0, int), np.zeros(0), method)
    stride = float(times[1] - times[0]) if num_snippets > 1 else 1.0
    cumulative = np.concatenate(
        [np.zeros((1, num_classes)), np.cumsum(probabilities, axis=0)]
    )
    segments, scores = [], []
    for length in sorted({min(int(w), num_snippets) for w in window_lengths}):
        hop = max(1, int(round(length * (1.0 - float(overlap)))))
        starts = np.arange(0, num_snippets - length + 1, hop)
        if starts[-1] != num_snippets - length:  # the video's end is covered too
            starts = np.append(starts, num_snippets - length)
        ends = starts + length
        window = (cumulative[ends] - cumulative[starts]) / length
        if float(context) > 0:
            side = max(1, int(round(float(context) * length)))
            before = cumulative[starts] - cumulative[np.maximum(starts - side, 0)]
            after = cumulative[np.minimum(ends + side, num_snippets)] - cumulative[ends]
            window = np.maximum(window - (before + after) / (2 * side), 0.0)
        scores.append(window)
        segments.append(
            np.stack(
                [times[starts] - stride / 2, times[ends - 1] + stride / 2], axis=-1
            )
        )
    segments = np.concatenate(segments)
    scores = np.concatenate(scores)  # (W, num_classes)
    labels = np.tile(np.arange(num_classes), len(segments))
    return class_nms(
        np.repeat(segments, num_classes, axis=0),
        labels,
        scores.reshape(-1),
        method=method,
        iou_threshold=iou_threshold,
        sigma=sigma,
        min_score=min_score,
        max_detections=max_detections,
    )
