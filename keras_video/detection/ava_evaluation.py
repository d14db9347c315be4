"""Frame-mAP of AVA-style action detection, as the official AVA evaluator.

NumPy only. `ava_frame_map` gives the numbers of the AVA v2.1 challenge
evaluator, `Evaluation/get_ava_performance.py` of
https://github.com/activitynet/ActivityNet at commit
3fee089818fded4a54b91eae53a640f24e423ba3 (2019-03-01, the last version with
the `--exclusions` flag and the 50-detection cap; later versions replaced
the exclusions file), with its `Evaluation/ava/` object-detection code
(`PascalDetectionEvaluator` of `object_detection_evaluation.py`,
`per_image_evaluation.py`, `metrics.py`, `np_box_list.py`,
`np_box_ops.py`). What that code does, and this module does the same:

- Keyframes are keyed `"%s,%04d" % (video_id, int(timestamp))`.
- Label map (`read_labelmap`): the classes are the map's ids; rows (ground
  truth and detections) whose action id is not in the map are dropped. The
  evaluator has `max(ids)` classes, index `id - 1`; ids must be `>= 1`.
- Reading (`read_csv`): per keyframe, rows are pushed on a heap of tuples
  `(score, action_id, y1, x1, y2, x2)`; detections are capped at 50 per
  keyframe over all classes (`capacity=50`: once 50 are held, a row replaces
  the heap's smallest tuple only if its score is strictly higher), ground
  truth is not capped. The keyframe's rows are then the heap's list sorted
  by descending score with Python's stable sort, so ties keep the heap
  list's order. A 7-column row has score 1.0; an 8-column ground-truth row's
  "score" is its person id (which only orders boxes). Keyframes are taken
  in order of first appearance in each file.
- Excluded keyframes: their ground truth and detections are skipped.
- Boxes are `[y1, x1, y2, x2]` from the CSV's `x1, y1, x2, y2`, normalised,
  with no `+1` anywhere: `area = (y2 - y1) * (x2 - x1)`,
  `iou = intersection / (area1 + area2 - intersection)`, no epsilon.
- Per keyframe (`PerImageEvaluation`): detections with `x2 <= x1` or
  `y2 <= y1` are dropped first (`_remove_invalid_boxes`; ground-truth boxes
  of zero width or height stay, and count). For each class, the
  keyframe's detections of the class in the order above are matched one by
  one to the ground-truth box of the class with the highest IoU
  (`np.argmax`: the first one on ties); it is a true positive if that IoU
  is `>= iou_threshold` and the box is not yet taken, else a false positive
  (no fall back to the next box). No box is difficult or group-of (the
  script passes all-`False` difficult flags). A keyframe with detections
  but no ground truth of the class gives false positives.
- AP per class with ground truth (`metrics.py`): the class's (score, tp)
  pairs concatenated keyframe by keyframe, ranked by
  `np.argsort(scores)[::-1]` (NumPy's default, unstable, sort; the same call
  on the same array here, so ties rank alike), `precision = tp_cum /
  (tp_cum + fp_cum)`, `recall = tp_cum / num_gt`, then PASCAL VOC AP:
  precision made non-increasing from the right over `[0, p, 0]` /
  `[0, r, 1]`, summed over the points where recall changes. A class with
  ground truth and no detection has AP 0.
- `mAP = np.nanmean` over the `max(ids)` classes: classes without ground
  truth are NaN and left out.

Where this module differs, on inputs the official script does not accept
or answers by accident:

- A ground-truth box with `x2 < x1` or `y2 < y1` is an error naming the
  file and line (`read_ava_annotations`). The official code raises
  `ValueError("Invalid box data")` when that keyframe has a detection of the
  box's class, and otherwise counts a box nothing can match.
- A row that is not a number where a number belongs, a non-finite value, a
  wrong column count: `ValueError` naming the file, line and column (the
  official script stops with a bare `ValueError`, `IndexError` or a
  `TypeError` from its own assert message). Blank lines are skipped (the
  official script fails on them); a timestamp must be an integer (the
  official `int("902.0")` fails too).
- A label map with one block per line is read (the official line-based
  reader finds no class in it and fails); see `read_ava_label_map`.

Checked against the official code itself (`benchmarks/ava_official_check.py`,
run on a Python 3 copy of the official files: `print` and `np.float` ->
`float`, `np.NAN` -> `np.nan`, package-relative imports): see that script's
docstring for the figures.
"""

import heapq
import os
import warnings

import numpy as np

from keras_video.data import ava_files as ava

# read_csv's `capacity` for detections in the official script.
DETECTIONS_PER_KEYFRAME = 50


def _label_ids(label_map):
    if isinstance(label_map, (str, os.PathLike)):
        label_map = ava.read_ava_label_map(label_map)
    ids = list(label_map)  # a dict's keys or a list of ids
    checked = []
    for action_id in ids:
        if isinstance(action_id, bool) or not isinstance(action_id, (int, np.integer)):
            raise ValueError(
                "`label_map` ids must be integers. Received: "
                f"{action_id!r} in label_map"
            )
        checked.append(int(action_id))
    if not checked or min(checked) < 1:
        raise ValueError(
            "`label_map` must hold at least one id, every id >= 1 (the official "
            f"evaluator's classes are 1-indexed). Received ids: {checked}"
        )
    return checked


def _records(source, what, parse, read):
    """Rows of a file (read with `read`) or already-read rows (checked with
    `parse`, errors naming `what[index]`)."""
    if source is None:
        return []
    if isinstance(source, (str, os.PathLike)):
        return read(source)
    return [parse(tuple(row), f"{what}[{i}]") for i, row in enumerate(source)]


def _keyframe_rows(records, whitelist, capacity, score_of):
    """`read_csv` of the official script: key -> [(score, action_id, y1, x1,
    y2, x2)], each list sorted by descending score (stable over the heap)."""
    entries = {}
    for record in records:
        if record.action_id not in whitelist:
            continue
        key = ava.ava_keyframe_key(record.video_id, record.timestamp)
        item = (
            score_of(record),
            record.action_id,
            record.y1,
            record.x1,
            record.y2,
            record.x2,
        )
        heap = entries.setdefault(key, [])
        if capacity < 1 or len(heap) < capacity:
            heapq.heappush(heap, item)
        elif item[0] > heap[0][0]:
            heapq.heapreplace(heap, item)
    return {
        key: sorted(heap, key=lambda item: -item[0]) for key, heap in entries.items()
    }


def _arrays(rows):
    boxes = np.array([row[2:] for row in rows], dtype=float).reshape(-1, 4)
    labels = np.array([row[1] for row in rows], dtype=int)
    scores = np.array([row[0] for row in rows], dtype=float)
    return boxes, labels, scores


def box_iou(boxes1, boxes2):
    """Pairwise IoU of `[y1, x1, y2, x2]` boxes, as the official `np_box_ops.iou`.

    No `+1` in the areas and no epsilon: `intersection / (area1 + area2 -
    intersection)`, the official operations in the official order.

    Args:
        boxes1: `(N, 4)` array.
        boxes2: `(M, 4)` array.

    Returns:
        float64 `(N, M)`.

    Example:

    ```python
    from keras_video.detection import ava_evaluation

    ava_evaluation.box_iou([[0.0, 0.0, 1.0, 1.0]], [[0.0, 0.0, 1.0, 0.5]])
    # array([[0.5]])
    ```
    """
    boxes1 = np.asarray(boxes1, dtype=float).reshape(-1, 4)
    boxes2 = np.asarray(boxes2, dtype=float).reshape(-1, 4)
    y_min1, x_min1, y_max1, x_max1 = np.split(boxes1, 4, axis=1)
    y_min2, x_min2, y_max2, x_max2 = np.split(boxes2, 4, axis=1)
    heights = np.maximum(
        np.zeros((len(boxes1), len(boxes2))),
        np.minimum(y_max1, y_max2.T) - np.maximum(y_min1, y_min2.T),
    )
    widths = np.maximum(
        np.zeros((len(boxes1), len(boxes2))),
        np.minimum(x_max1, x_max2.T) - np.maximum(x_min1, x_min2.T),
    )
    intersect = heights * widths
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    union = area1[:, None] + area2[None, :] - intersect
    return intersect / union


def _true_positives(detected_boxes, gt_boxes, iou_threshold):
    """`_compute_tp_fp_for_single_class`: detections in order, each to its
    argmax-IoU ground truth, no fall back."""
    tp = np.zeros(len(detected_boxes), dtype=bool)
    if gt_boxes.size == 0:
        return tp
    iou = box_iou(detected_boxes, gt_boxes)
    best = np.argmax(iou, axis=1)
    taken = np.zeros(len(gt_boxes), dtype=bool)
    for i, gt in enumerate(best):
        if iou[i, gt] >= iou_threshold and not taken[gt]:
            tp[i] = True
            taken[gt] = True
    return tp


def pascal_average_precision(scores, true_positives, num_ground_truth):
    """PASCAL VOC AP of one class, as the official `metrics.py`.

    Args:
        scores: float `(K,)` detection scores.
        true_positives: bool `(K,)`.
        num_ground_truth: ground-truth boxes of the class (`> 0`).

    Returns:
        float: detections ranked by `np.argsort(scores)[::-1]`, precision
        made non-increasing from the right, summed over recall steps; 0.0
        without detections.

    Example:

    ```python
    from keras_video.detection import ava_evaluation

    ava_evaluation.pascal_average_precision([0.9, 0.8], [False, True], 1)  # 0.5
    ```
    """
    scores = np.asarray(scores, dtype=float).reshape(-1)
    labels = np.asarray(true_positives, dtype=bool).reshape(-1)
    if num_ground_truth < 1 or labels.sum() > num_ground_truth:
        raise ValueError(
            "`num_ground_truth` must be positive and at least the true positives. "
            f"Received: num_ground_truth={num_ground_truth}"
        )
    if not scores.size:
        return 0.0
    order = np.argsort(scores)[::-1]
    tp = labels.astype(int)[order]
    cum_tp = np.cumsum(tp)
    cum_fp = np.cumsum(1 - tp)
    precision = cum_tp.astype(float) / (cum_tp + cum_fp)
    recall = cum_tp.astype(float) / num_ground_truth
    recall = np.concatenate([[0], recall, [1]])
    precision = np.concatenate([[0], precision, [0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    indices = np.where(recall[1:] != recall[:-1])[0] + 1
    return float(np.sum((recall[indices] - recall[indices - 1]) * precision[indices]))


def ava_frame_map(
    label_map, ground_truth, detections, excluded=None, iou_threshold=0.5
):
    """Frame-mAP of AVA action detection, exactly as the official evaluator.

    The numbers of `get_ava_performance.py` (AVA v2.1 challenge, with
    `--exclusions`) of `activitynet/ActivityNet`: PASCAL VOC AP per action at
    IoU `iou_threshold`; within each keyframe, detections in descending score
    matched to the argmax-IoU ground-truth box of their action (taken boxes
    are not replaced by the next best), the top 50 detections per keyframe
    kept, excluded keyframes ignored, actions outside the label map dropped,
    degenerate detection boxes dropped, classes without ground truth NaN and
    left out of the mean. See the module docstring for every rule.

    Args:
        label_map: a `.pbtxt` label map path, a dict `{id: name}` or a list
            of action ids.
        ground_truth: an AVA annotation CSV path, or rows: `AVAAnnotation`
            records or tuples `(video_id, timestamp, x1, y1, x2, y2,
            action_id[, person_id])`.
        detections: a CSV path or rows: `AVADetection` records or tuples
            `(video_id, timestamp, x1, y1, x2, y2, action_id[, score])`.
        excluded: an excluded-timestamps CSV path, `(video_id, timestamp)`
            pairs, or `None`.
        iou_threshold: IoU at which a detection matches (`>=`).

    Returns:
        dict: `"mAP"` (float; NaN when no class has ground truth) and
        `"per_class_AP"`, action id (int) -> AP (float, NaN for a class
        without ground truth), every id of the label map in ascending order.

    Raises:
        ValueError: a bad row or file (named with its line or index), an
            empty label map or an id below 1.

    Example:

    ```python
    from keras_video import detection

    gt = [("v", 902, 0.1, 0.1, 0.5, 0.9, 12, 0),  # person 0 stands
          ("v", 902, 0.5, 0.1, 0.9, 0.9, 12, 1)]  # person 1 stands
    found = [("v", 902, 0.1, 0.1, 0.5, 0.9, 12, 0.9),  # IoU 1 -> TP
             ("v", 902, 0.6, 0.1, 0.9, 0.9, 12, 0.8)]  # IoU 0.75 -> TP
    detection.ava_frame_map({12: "stand"}, gt, found)
    # {'mAP': 1.0, 'per_class_AP': {12: 1.0}}
    ```

    Reference:
    - [AVA evaluation code](https://github.com/activitynet/ActivityNet/tree/master/Evaluation)
    - [Gu et al., AVA (CVPR 2018)](https://arxiv.org/abs/1705.08421)
    """
    ids = _label_ids(label_map)
    whitelist = set(ids)
    num_classes = max(ids)
    iou_threshold = float(iou_threshold)
    excluded_keys = {
        ava.ava_keyframe_key(k.video_id, k.timestamp)
        for k in _records(
            excluded, "excluded", ava.parse_keyframe, ava.read_ava_excluded
        )
    }
    gt_rows = _keyframe_rows(
        _records(
            ground_truth, "ground_truth", ava.parse_annotation, ava.read_ava_annotations
        ),
        whitelist,
        0,
        lambda r: 1.0 if r.person_id is None else float(r.person_id),
    )
    detection_rows = _keyframe_rows(
        _records(
            detections, "detections", ava.parse_detection, ava.read_ava_detections
        ),
        whitelist,
        DETECTIONS_PER_KEYFRAME,
        lambda r: r.score,
    )

    ground = {}
    num_gt = np.zeros(num_classes, dtype=int)
    for key, rows in gt_rows.items():
        if key in excluded_keys:
            continue
        boxes, labels, _ = _arrays(rows)
        ground[key] = (boxes, labels - 1)
        num_gt += np.bincount(labels - 1, minlength=num_classes)

    scores_per_class = [[] for _ in range(num_classes)]
    tp_per_class = [[] for _ in range(num_classes)]
    no_boxes = (np.zeros((0, 4)), np.zeros(0, dtype=int))
    for key, rows in detection_rows.items():
        if key in excluded_keys:
            continue
        boxes, labels, scores = _arrays(rows)
        valid = (boxes[:, 0] < boxes[:, 2]) & (boxes[:, 1] < boxes[:, 3])
        boxes, labels, scores = boxes[valid], labels[valid] - 1, scores[valid]
        gt_boxes, gt_labels = ground.get(key, no_boxes)
        for c in np.unique(labels):
            mine = labels == c
            scores_per_class[c].append(scores[mine])
            tp_per_class[c].append(
                _true_positives(boxes[mine], gt_boxes[gt_labels == c], iou_threshold)
            )

    ap = np.full(num_classes, np.nan)
    for c in np.flatnonzero(num_gt):
        if scores_per_class[c]:
            scores = np.concatenate(scores_per_class[c])
            tp = np.concatenate(tp_per_class[c])
        else:
            scores, tp = np.zeros(0), np.zeros(0, dtype=bool)
        ap[c] = pascal_average_precision(scores, tp, num_gt[c])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # every class NaN
        mean_ap = float(np.nanmean(ap))
    return {
        "mAP": mean_ap,
        "per_class_AP": {i: float(ap[i - 1]) for i in sorted(ids)},
    }
