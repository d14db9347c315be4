"""Temporal action localisation mAP, as the official ActivityNet evaluation.

NumPy only. `activitynet_map` gives the numbers of `ANETdetection` in
`Evaluation/eval_detection.py` and `Evaluation/utils.py` of
https://github.com/activitynet/ActivityNet, read at commit
82304fa9f4a7219421df13dae6347a445c4cf5bc (2021-01-06; both files last
changed in eba0ec905d831802e131ecae6fea58d376da49dd, 2019-11-08). What that
code does, and this module does the same:

- Ground truth (`_import_ground_truth`): videos of `data["database"]` in file
  order whose `"subset"` equals `subset` (others are dropped entirely), minus
  the blocked videos; each annotation gives `float(segment[0])`,
  `float(segment[1])` and a class index, assigned in order of first
  appearance (`activity_index`). Only labels with ground truth in the subset
  are classes; a subset video without annotations contributes nothing.
- Predictions (`_import_prediction`): every video of `data["results"]`
  minus the blocked videos: predictions are *not* filtered by subset.
  `float(segment[0])`, `float(segment[1])`, the score as given, and the class
  index `activity_index[label]` (a `KeyError` when the label has no ground
  truth in the subset).
- Per class (`compute_average_precision_detection`), on the class's ground
  truth and predictions in file order: no prediction -> AP 0 at every
  threshold. Otherwise predictions are ranked by
  `scores.argsort()[::-1]` (NumPy's default sort, which is not stable: tied
  scores come out in an order that depends on the NumPy build and CPU, not
  on file order; this module makes the same call on the same array, so ties
  rank identically). A prediction on a video with no ground truth of its
  class (outside the subset, or without that class) is a false positive.
  Otherwise `tiou = segment_iou(prediction, video's ground truth)`, and its
  ground truths are visited in the order `tiou.argsort()[::-1]`; at each
  threshold: the first one with `tiou < threshold` ends the search (false
  positive), a ground truth already matched at that threshold is skipped
  (so a prediction falls back to its next-best ground truth still at or
  above the threshold: not the VOC rule, which gives up), the first free one
  is matched (true positive, `tiou >= threshold`); running out is a false
  positive.
- `segment_iou`: `intersection = (min(ends) - max(starts)).clip(0)`,
  `union = (gt_end - gt_start) + (pred_end - pred_start) - intersection`,
  `intersection / union`; no epsilon.
- AP: `recall = cumsum(tp) / n_ground_truth`,
  `precision = cumsum(tp) / (cumsum(tp) + cumsum(fp))`, then
  `interpolated_prec_rec` (VOC 2011): precision made non-increasing from the
  right over `[0, precision, 0]` / `[0, recall, 1]`, summed over the points
  where recall changes.
- `mAP = ap.mean(axis=1)` over every class with ground truth in the subset
  (a class without predictions counts with AP 0), classes in
  `activity_index` order; `average_mAP = mAP.mean()`.

Where this module differs, on inputs the official code does not accept:

- A predicted label with no ground truth in the subset: the official code
  raises `KeyError`. Here those predictions are left out, with one
  `UserWarning` naming the labels, and the rest is scored as the official
  code scores the file without them.
- The official code needs `"taxonomy"`, `"version"` (ground truth) and
  `"version"`, `"external_data"` (predictions) keys it never reads; only
  `"database"` / `"results"` are needed here. A subset without ground truth,
  a missing field and a score that is not a real number are `ValueError`s
  (the official code fails in joblib, with `KeyError`, or sorts strings).
- Blocked videos: the official code fetches a list from a server that no
  longer answers (`check_status=True`); here `blocked_videos` is an argument,
  empty by default (the official `check_status=False`).

Checked against the official code itself (its two files run under Python 3
with the mechanical edits `print` -> `print()`, `iteritems` -> `items`,
`np.float` -> `float`, no `urllib2`, and joblib's `Parallel` run
sequentially; pandas 3.1.1, NumPy 2.4.6): on 300 random ground-truth /
prediction files (ties in score and tIoU, duplicates, empty videos,
predictions outside the subset, classes without predictions; 60 files with
up to 120 predictions) every AP, mAP and average mAP agrees, max abs
difference 0.0. Tie order matters there: ranking tied scores by a stable
sort instead changes the result of 83 of those 300 files. Under Python 2
(the code as written) dicts iterate in hash order, so tied scores may rank
otherwise there.
`tests/detection/test_evaluation.py` holds a transcription of the official
functions and compares on random files.
"""

import json
import os
import warnings
from collections.abc import Mapping

import numpy as np

from keras_video.detection.annotations import to_activitynet_ground_truth

# np.linspace(0.5, 0.95, 10), as `ANETdetection`'s default: note
# 0.8999999999999999 for 0.9.
ACTIVITYNET_TIOU_THRESHOLDS = tuple(np.linspace(0.5, 0.95, 10).tolist())
# THUMOS14: 0.3, 0.4, 0.5, 0.6, 0.7 as written (a tIoU of exactly 0.6 meets
# 0.6; np.arange(0.3, 0.8, 0.1) would give 0.6000000000000001).
THUMOS14_TIOU_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def segment_iou(target_segment, candidate_segments):
    """Temporal intersection over union of one segment with N segments.

    The official ActivityNet formula, no epsilon: a zero-length union gives
    NaN (or inf), as there.

    Args:
        target_segment: `[start, end]`.
        candidate_segments: `(N, 2)` array of `[start, end]`.

    Returns:
        float64 array of shape `(N,)`.

    Example:

    ```python
    from keras_video import detection

    detection.segment_iou([0.0, 2.0], [[1.0, 3.0], [0.0, 2.0], [5.0, 6.0]])
    # array([0.33333333, 1.        , 0.        ])
    ```
    """
    target = np.asarray(target_segment, dtype=np.float64)
    candidates = np.asarray(candidate_segments, dtype=np.float64).reshape(-1, 2)
    tt1 = np.maximum(target[0], candidates[:, 0])
    tt2 = np.minimum(target[1], candidates[:, 1])
    intersection = (tt2 - tt1).clip(0)
    union = (
        (candidates[:, 1] - candidates[:, 0]) + (target[1] - target[0]) - intersection
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        return intersection / union


def _interpolated_ap(precision, recall):
    # utils.interpolated_prec_rec; the running maximum from the right is the
    # official loop `mprec[i] = max(mprec[i], mprec[i + 1])` (no NaN here).
    mprec = np.hstack([[0], precision, [0]])
    mrec = np.hstack([[0], recall, [1]])
    mprec = np.maximum.accumulate(mprec[::-1])[::-1]
    idx = np.where(mrec[1::] != mrec[0:-1])[0] + 1
    return np.sum((mrec[idx] - mrec[idx - 1]) * mprec[idx])


def _class_ap(gt_by_video, num_gt, pred_videos, pred_segments, scores, thresholds):
    """AP per threshold of one class; predictions in file order."""
    ap = np.zeros(len(thresholds))
    if len(scores) == 0:
        return ap
    order = scores.argsort()[::-1]
    locked = np.zeros((len(thresholds), num_gt), dtype=bool)
    tp = np.zeros((len(thresholds), len(order)))
    fp = np.zeros((len(thresholds), len(order)))
    for rank, index in enumerate(order):
        video_gt = gt_by_video.get(pred_videos[index])
        if video_gt is None:
            fp[:, rank] = 1
            continue
        gt_index, gt_segments = video_gt
        tiou = segment_iou(pred_segments[index], gt_segments)
        visit = [(float(tiou[j]), gt_index[j]) for j in tiou.argsort()[::-1]]
        for t, threshold in enumerate(thresholds):
            for value, gt in visit:
                if value < threshold:
                    break
                if locked[t, gt]:
                    continue
                locked[t, gt] = True
                tp[t, rank] = 1
                break
            if not tp[t, rank]:
                fp[t, rank] = 1
    tp_cumsum = np.cumsum(tp, axis=1).astype(np.float64)
    fp_cumsum = np.cumsum(fp, axis=1).astype(np.float64)
    recall = tp_cumsum / float(num_gt)
    precision = tp_cumsum / (tp_cumsum + fp_cumsum)
    for t in range(len(thresholds)):
        ap[t] = _interpolated_ap(precision[t], recall[t])
    return ap


def _scores_array(scores, what):
    # pandas' column dtype: int64 for all-int scores, float64 when mixed.
    array = np.asarray(scores) if len(scores) else np.zeros(0)
    if array.ndim != 1 or array.dtype.kind not in "iuf":
        raise ValueError(
            f"{what}: scores must be real numbers. Received dtype {array.dtype}"
        )
    return array


def _thresholds(tiou_thresholds):
    thresholds = np.asarray(tiou_thresholds, dtype=np.float64).reshape(-1)
    if thresholds.size == 0:
        raise ValueError("`tiou_thresholds` is empty")
    return thresholds


def average_precision_detection(
    ground_truth, predictions, tiou_thresholds=ACTIVITYNET_TIOU_THRESHOLDS
):
    """Interpolated AP of one class at each tIoU threshold (ActivityNet rule).

    `compute_average_precision_detection` of the official ActivityNet code:
    predictions ranked by `scores.argsort()[::-1]`, each matched to its
    best-tIoU ground truth of the same video not yet matched at that
    threshold with `tiou >= threshold` (falling back to the next best),
    VOC 2011 interpolated AP.

    Args:
        ground_truth: `(video, start, end)` triples of one class.
        predictions: `(video, start, end, score)` tuples of that class, in
            file order (tied scores rank as NumPy's default argsort leaves
            them).
        tiou_thresholds: the thresholds.

    Returns:
        float64 array, one AP per threshold.

    Raises:
        ValueError: no ground truth (AP is undefined), a score that is not a
            real number, no threshold.

    Example:

    ```python
    from keras_video import detection

    detection.average_precision_detection(
        [("v1", 0.0, 10.0)], [("v1", 1.0, 10.0, 0.9)], [0.5, 0.95]
    )  # array([1., 0.])
    ```
    """
    thresholds = _thresholds(tiou_thresholds)
    ground_truth = [(v, float(s), float(e)) for v, s, e in ground_truth]
    if not ground_truth:
        raise ValueError("No ground truth: average precision is undefined")
    predictions = list(predictions)
    gt_by_video = _group_by_video(ground_truth)
    return _class_ap(
        gt_by_video,
        len(ground_truth),
        [p[0] for p in predictions],
        [(float(p[1]), float(p[2])) for p in predictions],
        _scores_array([p[3] for p in predictions], "predictions"),
        thresholds,
    )


def _group_by_video(ground_truth):
    # video -> (class-level indices, (n, 2) segments), file order within video.
    grouped = {}
    for index, (video, start, end) in enumerate(ground_truth):
        indices, segments = grouped.setdefault(video, ([], []))
        indices.append(index)
        segments.append((start, end))
    return {
        video: (indices, np.array(segments, dtype=np.float64))
        for video, (indices, segments) in grouped.items()
    }


def _load(source, key, what):
    if isinstance(source, Mapping):
        data, name = source, what
    elif isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        try:
            with open(name, encoding="utf-8") as f:
                data = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(
                f"{name}, line {e.lineno}: not valid JSON ({e.msg})"
            ) from None
    else:
        raise ValueError(
            f"`{what}` must be a file path or a dict in the ActivityNet layout. "
            f"Received: {type(source).__name__}"
        )
    if not isinstance(data, Mapping) or not isinstance(data.get(key), Mapping):
        raise ValueError(f'{name}: no "{key}" object (ActivityNet layout)')
    return data[key], name


def _field(entry, field, where):
    try:
        return entry[field]
    except (KeyError, IndexError, TypeError):
        raise ValueError(f'{where}: missing field "{field}"') from None


def _segment(entry, where):
    segment = _field(entry, "segment", where)
    try:
        return float(segment[0]), float(segment[1])
    except (TypeError, ValueError, IndexError, KeyError):
        raise ValueError(
            f"{where}: segment must be [start, end]. Received: {segment!r}"
        ) from None


def activitynet_map(
    ground_truth,
    predictions,
    tiou_thresholds=None,
    subset="validation",
    *,
    blocked_videos=(),
):
    """Temporal localisation mAP exactly as the official ActivityNet code.

    The numbers of `ANETdetection(...).evaluate()` from
    `activitynet/ActivityNet/Evaluation/eval_detection.py` (to the last bit
    in the checks made): interpolated AP per class, predictions ranked by
    score, each matched to its best free ground truth of the same video with
    `tIoU >= threshold` (falling back to the next best), only ground truth of
    `subset` counts, predictions on other videos are false positives, a class
    with ground truth but no prediction has AP 0 and counts in the mean. See
    the module docstring for every rule.

    One deliberate difference: where the official code raises `KeyError` on
    a predicted label that has no ground truth in the subset, those
    predictions are left out here, with one warning naming the labels.

    Args:
        ground_truth: an ActivityNet ground-truth JSON file, its dict
            `{"database": {video: {"subset": ..., "annotations":
            [{"segment": [start, end], "label": ...}]}}}`, or a list of
            `TemporalAnnotation` records (from `read_thumos_annotations`,
            `read_activitynet_json`).
        predictions: an ActivityNet detection result file or its dict
            `{"results": {video: [{"label": ..., "score": ..., "segment":
            [start, end]}]}}`.
        tiou_thresholds: the tIoU thresholds; `None` means
            `numpy.linspace(0.5, 0.95, 10)` (`ACTIVITYNET_TIOU_THRESHOLDS`).
        subset: the ground-truth subset to score.
        blocked_videos: video ids left out of both files (the official code
            fetched such a list from a server that is gone).

    Returns:
        a dict: `"mAP"` (list, one value per threshold), `"average_mAP"`
        (float: the mean over thresholds), `"per_class_AP"` (label -> list
        per threshold, classes in order of first appearance in the ground
        truth), `"tiou_thresholds"` (list).

    Raises:
        ValueError: a file that is not JSON or lacks `"database"` /
            `"results"`, a missing field, a score that is not a real number,
            no ground truth in `subset`.

    Example:

    ```python
    from keras_video import detection

    gt = {"database": {"v1": {"subset": "validation", "annotations": [
        {"segment": [0.0, 10.0], "label": "jump"}]}}}
    pred = {"results": {"v1": [
        {"label": "jump", "score": 0.9, "segment": [1.0, 10.0]}]}}
    result = detection.activitynet_map(gt, pred)
    result["mAP"]  # [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]
    result["average_mAP"]  # 0.9
    ```

    Reference:
    - [ActivityNet evaluation code](https://github.com/activitynet/ActivityNet/tree/master/Evaluation)
    - [Caba Heilbron et al., ActivityNet (CVPR 2015)](https://arxiv.org/abs/1506.02964)
    """
    thresholds = _thresholds(
        ACTIVITYNET_TIOU_THRESHOLDS if tiou_thresholds is None else tiou_thresholds
    )
    if not isinstance(ground_truth, (Mapping, str, os.PathLike)):
        ground_truth = to_activitynet_ground_truth(ground_truth)
    database, gt_name = _load(ground_truth, "database", "ground_truth")
    results, pred_name = _load(predictions, "results", "predictions")
    blocked = set(blocked_videos)

    # _import_ground_truth: class index in order of first appearance.
    class_gt = {}  # label -> [(video, start, end)], file order
    for video, entry in database.items():
        where = f"{gt_name}, video {video!r}"
        if _field(entry, "subset", where) != subset or video in blocked:
            continue
        for i, annotation in enumerate(_field(entry, "annotations", where)):
            at = f"{where}, annotation {i}"
            start, end = _segment(annotation, at)
            label = _field(annotation, "label", at)
            class_gt.setdefault(label, []).append((video, start, end))
    if not class_gt:
        raise ValueError(f"{gt_name}: no ground truth in subset {subset!r}")

    # _import_prediction: every video, not only the subset's.
    rows = []  # (label, video, (start, end), score), file order
    unknown = {}
    for video, entries in results.items():
        if video in blocked:
            continue
        for i, prediction in enumerate(entries):
            at = f"{pred_name}, video {video!r}, prediction {i}"
            label = _field(prediction, "label", at)
            segment = _segment(prediction, at)
            score = _field(prediction, "score", at)
            if label in class_gt:
                rows.append((label, video, segment, score))
            else:
                unknown[label] = unknown.get(label, 0) + 1
    if unknown:
        warnings.warn(
            f"Predictions of labels with no ground truth in subset {subset!r} "
            f"were left out: {sorted(unknown, key=str)} "
            f"({sum(unknown.values())} predictions). The official ActivityNet "
            "evaluation raises KeyError on such a file.",
            UserWarning,
            stacklevel=2,
        )
    # One score array for the whole file, as the official DataFrame column.
    scores = _scores_array([row[3] for row in rows], pred_name)
    class_rows = {label: [] for label in class_gt}
    for position, row in enumerate(rows):
        class_rows[row[0]].append(position)

    ap = np.zeros((len(thresholds), len(class_gt)))
    for c, (label, gt) in enumerate(class_gt.items()):
        positions = class_rows[label]
        ap[:, c] = _class_ap(
            _group_by_video(gt),
            len(gt),
            [rows[p][1] for p in positions],
            [rows[p][2] for p in positions],
            scores[positions],
            thresholds,
        )
    mean_ap = ap.mean(axis=1)
    return {
        "mAP": mean_ap.tolist(),
        "average_mAP": float(mean_ap.mean()),
        "per_class_AP": {label: ap[:, c].tolist() for c, label in enumerate(class_gt)},
        "tiou_thresholds": thresholds.tolist(),
    }


def thumos14_map(
    ground_truth,
    predictions,
    tiou_thresholds=THUMOS14_TIOU_THRESHOLDS,
    subset="test",
    *,
    blocked_videos=(),
):
    """`activitynet_map` with THUMOS14's thresholds and test subset.

    tIoU thresholds 0.3, 0.4, 0.5, 0.6, 0.7 and `subset="test"` (the subset
    `read_thumos_annotations` gives `<Class>_test.txt`). The matching and AP
    are ActivityNet's (see `activitynet_map`), as most THUMOS14 results
    since 2017 report; THUMOS's own MATLAB evaluation also ignores
    predictions on its `Ambiguous` segments, which this does not.

    Args:
        ground_truth: as `activitynet_map`: records from
            `read_thumos_annotations`, an ActivityNet-layout dict or file.
        predictions: an ActivityNet detection result file or dict.
        tiou_thresholds: the thresholds.
        subset: the ground-truth subset to score.
        blocked_videos: video ids left out of both.

    Returns:
        the dict of `activitynet_map`.

    Example:

    ```python
    from keras_video import detection

    records = detection.read_thumos_annotations("TH14_Temporal_Annotations_Test")
    detection.thumos14_map(records, "predictions.json")["mAP"]  # 5 values
    ```
    """
    return activitynet_map(
        ground_truth,
        predictions,
        tiou_thresholds=tiou_thresholds,
        subset=subset,
        blocked_videos=blocked_videos,
    )
