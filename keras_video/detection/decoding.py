"""Localiser outputs to segments in seconds; NMS and Soft-NMS (NumPy).

`decode_segments` turns one video's class logits and distances into
candidate `(start, end)` segments with a label and a score (sigmoid of the
logit), as ActionFormer's `inference_single_video`: every (step, class)
pair above `score_threshold`, the `pre_nms_top_k` best, segment
`[t - d_start * s, t + d_end * s]` for a step at `t` of stride `s`, in
seconds. `nms` and `soft_nms` (Bodla et al. 2017) suppress overlapping
segments of one class; `class_nms` runs either per class and keeps the best
`max_detections`; `decode_detections` does all of it for a batch of model
outputs. `to_activitynet_results` writes detections in the layout that
`activitynet_map` reads.

Both NMS variants follow ActionFormer's `nms_cpu` (from mmcv's): greedy in
order of score, tIoU `intersection / union`; hard NMS drops a segment when
its tIoU with a kept one is `> iou_threshold`; Soft-NMS multiplies its score
by `exp(-tIoU**2 / sigma)` (Gaussian) or, when the tIoU is
`> iou_threshold`, by `1 - tIoU` (linear), and drops it once its score is
below `min_score`.
"""

import numpy as np

from keras_video.detection.label_encoder import temporal_points

NMS_METHODS = ("nms", "soft_nms", "none")


def _iou(segment, segments):
    start = np.maximum(segment[0], segments[:, 0])
    end = np.minimum(segment[1], segments[:, 1])
    intersection = np.clip(end - start, 0.0, None)
    union = (segment[1] - segment[0]) + (segments[:, 1] - segments[:, 0])
    union = union - intersection
    return intersection / np.maximum(union, 1e-8)


def _segments_and_scores(segments, scores):
    segments = np.asarray(segments, dtype=np.float64).reshape(-1, 2)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(segments) != len(scores):
        raise ValueError(
            "`segments` and `scores` must have the same length. Received: "
            f"{len(segments)} segments, {len(scores)} scores"
        )
    return segments, scores


def nms(segments, scores, iou_threshold=0.5):
    """Greedy non-maximum suppression of 1D segments.

    Args:
        segments: `(N, 2)` `[start, end]`.
        scores: `(N,)`.
        iou_threshold: a segment whose tIoU with a kept, higher-scored one
            is `> iou_threshold` is dropped.

    Returns:
        int64 indices of the kept segments, best score first (ties: the
        earlier index first).

    Example:

    ```python
    from keras_video import detection

    detection.nms([[0.0, 10.0], [5.0, 10.0], [20.0, 30.0]], [0.9, 0.8, 0.7],
                  iou_threshold=0.4)  # array([0, 2]): tIoU 0.5 drops the second
    ```
    """
    segments, scores = _segments_and_scores(segments, scores)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while len(order):
        best, order = order[0], order[1:]
        keep.append(best)
        if len(order):
            order = order[_iou(segments[best], segments[order]) <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def soft_nms(
    segments, scores, sigma=0.5, iou_threshold=0.5, min_score=1e-3, method="gaussian"
):
    """Soft-NMS of 1D segments (Bodla et al. 2017), as ActionFormer's.

    Repeatedly keeps the highest-scored remaining segment and decays the
    score of every other remaining one by its tIoU with it: Gaussian,
    `score * exp(-tIoU**2 / sigma)`; linear, `score * (1 - tIoU)` when
    `tIoU > iou_threshold`. A segment whose score falls below `min_score`
    is dropped.

    Args:
        segments: `(N, 2)` `[start, end]`.
        scores: `(N,)`.
        sigma: the Gaussian's width (`method="gaussian"`), `> 0`.
        iou_threshold: the linear method's threshold (unused by the
            Gaussian).
        min_score: segments scored below it are dropped.
        method: `"gaussian"` or `"linear"`.

    Returns:
        `(indices, new_scores)`: int64 indices of the kept segments in the
        order they were kept (non-increasing decayed score) and their
        decayed scores.

    Example:

    ```python
    from keras_video import detection

    detection.soft_nms([[0.0, 10.0], [5.0, 10.0]], [0.9, 0.8], sigma=0.5)
    # (array([0, 1]), array([0.9, 0.48522...])): 0.8 * exp(-0.5**2 / 0.5)
    ```

    Reference:
        Bodla et al., "Soft-NMS: Improving Object Detection With One Line
        of Code", ICCV 2017.
    """
    if method not in ("gaussian", "linear"):
        raise ValueError(
            f"`method` must be 'gaussian' or 'linear'. Received: method={method!r}"
        )
    if method == "gaussian" and float(sigma) <= 0:
        raise ValueError(f"`sigma` must be > 0. Received: sigma={sigma}")
    segments, scores = _segments_and_scores(segments, scores)
    scores = scores.copy()
    remaining = np.flatnonzero(scores >= min_score)
    keep, kept_scores = [], []
    while len(remaining):
        best_position = np.argmax(scores[remaining])  # first of equal scores
        best = remaining[best_position]
        keep.append(best)
        kept_scores.append(scores[best])
        remaining = np.delete(remaining, best_position)
        if not len(remaining):
            break
        iou = _iou(segments[best], segments[remaining])
        if method == "gaussian":
            weight = np.exp(-(iou * iou) / sigma)
        else:
            weight = np.where(iou > iou_threshold, 1.0 - iou, 1.0)
        scores[remaining] *= weight
        remaining = remaining[scores[remaining] >= min_score]
    return np.asarray(keep, dtype=np.int64), np.asarray(kept_scores, np.float64)


def class_nms(
    segments,
    labels,
    scores,
    method="soft_nms",
    iou_threshold=0.5,
    sigma=0.5,
    min_score=1e-3,
    max_detections=100,
):
    """NMS or Soft-NMS within each class, then the best `max_detections`.

    Args:
        segments: `(N, 2)`; labels: `(N,)` ints; scores: `(N,)`.
        method: `"soft_nms"` (Gaussian), `"nms"` or `"none"`.
        iou_threshold: hard NMS threshold (`"nms"`).
        sigma: Soft-NMS Gaussian width.
        min_score: Soft-NMS drops segments scored below it.
        max_detections: detections kept per video, best first; `None` keeps
            all.

    Returns:
        a dict of `"segments"` `(K, 2)`, `"labels"` `(K,)`, `"scores"`
        `(K,)`, best score first.
    """
    if method not in NMS_METHODS:
        raise ValueError(
            f"`method` must be one of {NMS_METHODS}. Received: method={method!r}"
        )
    segments, scores = _segments_and_scores(segments, scores)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    out_index, out_score = [], []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if method == "nms":
            kept = nms(segments[members], scores[members], iou_threshold)
            kept_scores = scores[members][kept]
        elif method == "soft_nms":
            kept, kept_scores = soft_nms(
                segments[members], scores[members], sigma=sigma, min_score=min_score
            )
        else:
            kept, kept_scores = np.arange(len(members)), scores[members]
        out_index.append(members[kept])
        out_score.append(kept_scores)
    index = np.concatenate(out_index) if out_index else np.zeros(0, np.int64)
    new_scores = np.concatenate(out_score) if out_score else np.zeros(0)
    order = np.argsort(-new_scores, kind="stable")
    if max_detections is not None:
        order = order[: int(max_detections)]
    return {
        "segments": segments[index[order]],
        "labels": labels[index[order]],
        "scores": new_scores[order],
    }


def decode_segments(
    class_logits,
    regression,
    sequence_length,
    num_levels,
    snippet_duration=1.0,
    time_offset=0.0,
    score_threshold=1e-3,
    pre_nms_top_k=2000,
    min_duration=0.0,
):
    """One video's localiser outputs as candidate segments in seconds.

    Args:
        class_logits: `(sum_T, num_classes)` logits.
        regression: `(sum_T, 2)` distances in strides.
        sequence_length: the localiser's `T`.
        num_levels: its pyramid levels.
        snippet_duration: seconds per snippet.
        time_offset: the time, in seconds, of the sequence's start (snippet
            0 covers `[time_offset, time_offset + snippet_duration)`).
        score_threshold: (step, class) pairs scored at or below it are
            dropped.
        pre_nms_top_k: at most this many best pairs are kept.
        min_duration: segments shorter than this (seconds) are dropped.

    Returns:
        a dict of `"segments"` `(N, 2)` `[start, end]` in seconds, clipped
        to the sequence, `"labels"` `(N,)` and `"scores"` `(N,)`, best
        score first.
    """
    centres, strides = temporal_points(sequence_length, num_levels)
    logits = np.asarray(class_logits, dtype=np.float64)
    offsets = np.asarray(regression, dtype=np.float64)
    if logits.ndim != 2 or logits.shape[0] != len(centres):
        raise ValueError(
            f"`class_logits` must have shape ({len(centres)}, num_classes) for "
            f"sequence_length={sequence_length}, num_levels={num_levels}. "
            f"Received: {logits.shape}"
        )
    if offsets.shape != (len(centres), 2):
        raise ValueError(
            f"`regression` must have shape ({len(centres)}, 2). "
            f"Received: {offsets.shape}"
        )
    num_classes = logits.shape[1]
    scores = (1.0 / (1.0 + np.exp(-logits))).reshape(-1)
    candidates = np.flatnonzero(scores > score_threshold)
    candidates = candidates[np.argsort(-scores[candidates], kind="stable")]
    candidates = candidates[: int(pre_nms_top_k)]
    points, labels = np.divmod(candidates, num_classes)
    start = centres[points] - offsets[points, 0] * strides[points]
    end = centres[points] + offsets[points, 1] * strides[points]
    segments = np.stack([start, end], axis=-1)
    segments = np.clip(segments, 0.0, float(sequence_length))
    segments = segments * snippet_duration + time_offset
    valid = (segments[:, 1] - segments[:, 0]) > min_duration
    return {
        "segments": segments[valid],
        "labels": labels[valid].astype(np.int64),
        "scores": scores[candidates][valid],
    }


def decode_detections(
    outputs,
    sequence_length,
    num_levels,
    snippet_duration=1.0,
    time_offset=0.0,
    method="soft_nms",
    iou_threshold=0.5,
    sigma=0.5,
    min_score=1e-3,
    score_threshold=1e-3,
    pre_nms_top_k=2000,
    max_detections=100,
    min_duration=0.0,
):
    """A batch of localiser outputs as `(start, end, label, score)` detections.

    `decode_segments` per video, then `class_nms`.

    Args:
        outputs: the localiser's output dict, `"classification"`
            `(batch, sum_T, num_classes)` and `"regression"`
            `(batch, sum_T, 2)` (arrays or tensors).
        sequence_length, num_levels: the localiser's.
        snippet_duration: seconds per snippet, a float or one per video
            (sequences resampled to a fixed length have their own).
        time_offset: a float, or one per video: the time of each sequence's
            start in its video.
        method, iou_threshold, sigma, min_score, max_detections: as
            `class_nms`.
        score_threshold, pre_nms_top_k, min_duration: as `decode_segments`.

    Returns:
        a list, one dict per video, of `"segments"` `(K, 2)` in seconds,
        `"labels"` `(K,)`, `"scores"` `(K,)`, best first.

    Example:

    ```python
    import numpy as np
    from keras_video import detection

    model = detection.TemporalLocalizer(num_classes=3, input_dim=8,
                                        sequence_length=64, num_levels=4,
                                        embed_dim=16)
    outputs = model.predict(np.zeros((2, 64, 8), "float32"), verbose=0)
    detections = detection.decode_detections(outputs, sequence_length=64,
                                             num_levels=4, snippet_duration=0.5)
    detections[0]["segments"]  # (K, 2) seconds
    ```
    """
    logits = np.asarray(outputs["classification"])
    offsets = np.asarray(outputs["regression"])
    offsets_in_time = np.broadcast_to(
        np.asarray(time_offset, dtype=np.float64), (len(logits),)
    )
    durations = np.broadcast_to(
        np.asarray(snippet_duration, dtype=np.float64), (len(logits),)
    )
    results = []
    for video_logits, video_offsets, start, duration in zip(
        logits, offsets, offsets_in_time, durations, strict=True
    ):
        candidates = decode_segments(
            video_logits,
            video_offsets,
            sequence_length,
            num_levels,
            snippet_duration=float(duration),
            time_offset=float(start),
            score_threshold=score_threshold,
            pre_nms_top_k=pre_nms_top_k,
            min_duration=min_duration,
        )
        results.append(
            class_nms(
                candidates["segments"],
                candidates["labels"],
                candidates["scores"],
                method=method,
                iou_threshold=iou_threshold,
                sigma=sigma,
                min_score=min_score,
                max_detections=max_detections,
            )
        )
    return results


def to_activitynet_results(detections, video_ids, class_names):
    """Detections as the ActivityNet results dict that `activitynet_map` reads.

    Args:
        detections: a list of dicts from `decode_detections`.
        video_ids: one id per entry of `detections`.
        class_names: label index -> class name.

    Returns:
        `{"results": {video: [{"label", "score", "segment"}, ...]}}`.
    """
    if len(detections) != len(video_ids):
        raise ValueError(
            "`detections` and `video_ids` must have the same length. Received: "
            f"{len(detections)} and {len(video_ids)}"
        )
    results = {}
    for video, found in zip(video_ids, detections, strict=True):
        results[video] = [
            {
                "label": class_names[int(label)],
                "score": float(score),
                "segment": [float(start), float(end)],
            }
            for (start, end), label, score in zip(
                found["segments"], found["labels"], found["scores"], strict=True
            )
        ]
    return {"results": results}
