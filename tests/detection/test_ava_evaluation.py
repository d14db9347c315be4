"""`keras_video.detection.ava_frame_map` against the official AVA evaluator.

Two oracles: hand-worked cases whose AP is derived in the comments, and a
transcription of the official evaluation (below) run on random files.
"""

import heapq
import math

import numpy as np
import pytest

from keras_video import detection
from keras_video.detection import AVAAnnotation, AVADetection, ava_evaluation

# ---------------------------------------------------------------------------
# Transcription of the official evaluation: activitynet/ActivityNet
# Evaluation/get_ava_performance.py (read_csv, read_exclusions,
# run_evaluation) and Evaluation/ava/ (object_detection_evaluation.py,
# per_image_evaluation.py, metrics.py, np_box_ops.py) at commit
# 3fee089818fded4a54b91eae53a640f24e423ba3.
# Copyright 2017 The TensorFlow Authors. Licensed under the Apache License,
# Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
#
# Only the computation the AVA script reaches, on rows instead of file
# objects: no difficult or group-of boxes (the script passes all-False
# difficult flags), no masks, Pascal (unweighted) mAP. Checked once against
# the official files themselves (benchmarks/ava_official_check.py).
# ---------------------------------------------------------------------------


def ref_read_csv(rows, class_whitelist, capacity):
    entries, boxes, labels, scores = {}, {}, {}, {}
    for row in rows:
        image_key = "%s,%04d" % (row[0], int(row[1]))
        x1, y1, x2, y2 = [float(n) for n in row[2:6]]
        action_id = int(row[6])
        if class_whitelist and action_id not in class_whitelist:
            continue
        score = 1.0
        if len(row) == 8:
            score = float(row[7])
        heap = entries.setdefault(image_key, [])
        if capacity < 1 or len(heap) < capacity:
            heapq.heappush(heap, (score, action_id, y1, x1, y2, x2))
        elif score > heap[0][0]:
            heapq.heapreplace(heap, (score, action_id, y1, x1, y2, x2))
    for image_key in entries:
        entry = sorted(entries[image_key], key=lambda tup: -tup[0])
        for score, action_id, y1, x1, y2, x2 in entry:
            boxes.setdefault(image_key, []).append([y1, x1, y2, x2])
            labels.setdefault(image_key, []).append(action_id)
            scores.setdefault(image_key, []).append(score)
    return boxes, labels, scores


def ref_iou(boxes1, boxes2):
    [y_min1, x_min1, y_max1, x_max1] = np.split(boxes1, 4, axis=1)
    [y_min2, x_min2, y_max2, x_max2] = np.split(boxes2, 4, axis=1)
    all_pairs_min_ymax = np.minimum(y_max1, np.transpose(y_max2))
    all_pairs_max_ymin = np.maximum(y_min1, np.transpose(y_min2))
    intersect_heights = np.maximum(
        np.zeros(all_pairs_max_ymin.shape), all_pairs_min_ymax - all_pairs_max_ymin
    )
    all_pairs_min_xmax = np.minimum(x_max1, np.transpose(x_max2))
    all_pairs_max_xmin = np.maximum(x_min1, np.transpose(x_min2))
    intersect_widths = np.maximum(
        np.zeros(all_pairs_max_xmin.shape), all_pairs_min_xmax - all_pairs_max_xmin
    )
    intersect = intersect_heights * intersect_widths

    def area(boxes):
        return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])

    union = (
        np.expand_dims(area(boxes1), axis=1)
        + np.expand_dims(area(boxes2), axis=0)
        - intersect
    )
    return intersect / union


def ref_tp_fp_single_class(detected_boxes, detected_scores, groundtruth_boxes, thr):
    if detected_boxes.size == 0:
        return np.array([], dtype=float), np.array([], dtype=bool)
    if groundtruth_boxes.size == 0:
        return detected_scores, np.zeros(len(detected_boxes), dtype=bool)
    for b in groundtruth_boxes:  # np_box_list.BoxList._is_valid_boxes
        if b[0] > b[2] or b[1] > b[3]:
            raise ValueError("Invalid box data")
    iou = ref_iou(detected_boxes, groundtruth_boxes)
    tp_fp_labels = np.zeros(len(detected_boxes), dtype=bool)
    max_overlap_gt_ids = np.argmax(iou, axis=1)
    is_gt_box_detected = np.zeros(iou.shape[1], dtype=bool)
    for i in range(len(detected_boxes)):
        gt_id = max_overlap_gt_ids[i]
        if iou[i, gt_id] >= thr:
            if not is_gt_box_detected[gt_id]:
                tp_fp_labels[i] = True
                is_gt_box_detected[gt_id] = True
    return detected_scores, tp_fp_labels


def ref_average_precision(scores, labels, num_gt):
    sorted_indices = np.argsort(scores)[::-1]
    true_positive_labels = labels.astype(int)[sorted_indices]
    false_positive_labels = 1 - true_positive_labels
    cum_true_positives = np.cumsum(true_positive_labels)
    cum_false_positives = np.cumsum(false_positive_labels)
    precision = cum_true_positives.astype(float) / (
        cum_true_positives + cum_false_positives
    )
    recall = cum_true_positives.astype(float) / num_gt
    if not precision.size:
        return 0.0
    recall = np.concatenate([[0], recall, [1]])
    precision = np.concatenate([[0], precision, [0]])
    for i in range(len(precision) - 2, -1, -1):
        precision[i] = np.maximum(precision[i], precision[i + 1])
    indices = np.where(recall[1:] != recall[:-1])[0] + 1
    return np.sum((recall[indices] - recall[indices - 1]) * precision[indices])


def ref_ava_performance(label_ids, gt_rows, det_rows, excluded_rows, thr=0.5):
    """run_evaluation: returns (mAP, per-class AP array, index id - 1)."""
    class_whitelist = set(label_ids)
    num_class = max(label_ids)
    excluded = {"%s,%04d" % (v, int(t)) for v, t in excluded_rows}
    gt_boxes, gt_labels = {}, {}
    num_gt = np.zeros(num_class, dtype=int)
    boxes, labels, _ = ref_read_csv(gt_rows, class_whitelist, 0)
    for key in boxes:
        if key in excluded:
            continue
        gt_boxes[key] = np.array(boxes[key], dtype=float)
        gt_labels[key] = np.array(labels[key], dtype=int) - 1
        for c in range(num_class):
            num_gt[c] += np.sum(gt_labels[key] == c)
    scores_per_class = [[] for _ in range(num_class)]
    tp_per_class = [[] for _ in range(num_class)]
    boxes, labels, scores = ref_read_csv(det_rows, class_whitelist, 50)
    for key in boxes:
        if key in excluded:
            continue
        det_boxes = np.array(boxes[key], dtype=float)
        det_labels = np.array(labels[key], dtype=int) - 1
        det_scores = np.array(scores[key], dtype=float)
        valid = np.logical_and(
            det_boxes[:, 0] < det_boxes[:, 2], det_boxes[:, 1] < det_boxes[:, 3]
        )
        det_boxes, det_labels = det_boxes[valid], det_labels[valid]
        det_scores = det_scores[valid]
        g_boxes = gt_boxes.get(key, np.empty((0, 4), dtype=float))
        g_labels = gt_labels.get(key, np.array([], dtype=int))
        for c in range(num_class):
            s, tp = ref_tp_fp_single_class(
                det_boxes[det_labels == c],
                det_scores[det_labels == c],
                g_boxes[g_labels == c],
                thr,
            )
            if s.shape[0] > 0:
                scores_per_class[c].append(s)
                tp_per_class[c].append(tp)
    ap = np.full(num_class, np.nan)
    for c in range(num_class):
        if num_gt[c] == 0:
            continue
        if not scores_per_class[c]:
            s, tp = np.array([], dtype=float), np.array([], dtype=bool)
        else:
            s = np.concatenate(scores_per_class[c])
            tp = np.concatenate(tp_per_class[c])
        ap[c] = ref_average_precision(s, tp, num_gt[c])
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.nanmean(ap), ap


# ------------------------------------------------------------------ helpers


def gt(v, t, box, action, person=0):
    return AVAAnnotation(v, t, *box, action, person)


def det(v, t, box, action, score):
    return AVADetection(v, t, *box, action, score)


def frame_map(label_ids, ground_truth, detections, excluded=None, **kw):
    return detection.ava_frame_map(label_ids, ground_truth, detections, excluded, **kw)


LEFT = (0.0, 0.0, 0.5, 1.0)  # x1, y1, x2, y2
MIDDLE = (0.25, 0.0, 0.75, 1.0)

# ------------------------------------------------------------ hand-worked


def test_iou_exactly_half_matches():
    # Ground truth area 0.5 * 1.0 = 0.5; the detection (0, 0, 0.5, 0.5) has
    # area 0.25, all inside: IoU = 0.25 / (0.5 + 0.25 - 0.25) = 0.5 exactly,
    # which meets the threshold (>=): one TP, AP 1. A hair smaller misses:
    # (0, 0, 0.5, 0.49) has IoU 0.245 / 0.5 = 0.49 -> FP, AP 0.
    truth = [gt("v", 902, LEFT, 1)]
    assert ava_evaluation.box_iou([[0.0, 0.0, 1.0, 0.5]], [[0.0, 0.0, 0.5, 0.5]])[
        0, 0
    ] == pytest.approx(0.5, abs=0)
    hit = frame_map([1], truth, [det("v", 902, (0.0, 0.0, 0.5, 0.5), 1, 0.9)])
    assert hit == {"mAP": 1.0, "per_class_AP": {1: 1.0}}
    miss = frame_map([1], truth, [det("v", 902, (0.0, 0.0, 0.5, 0.49), 1, 0.9)])
    assert miss == {"mAP": 0.0, "per_class_AP": {1: 0.0}}
    # A threshold of 0.6 turns the exact 0.5 into a miss.
    assert frame_map([1], truth, [det("v", 902, (0, 0, 0.5, 0.5), 1, 0.9)],
                     iou_threshold=0.6)["mAP"] == 0.0  # fmt: skip


def test_duplicate_detection_does_not_fall_back():
    # Ground truth LEFT and MIDDLE (both class 1). Detections by score:
    #   d1 0.9 = LEFT                      -> TP (LEFT)
    #   d2 0.8 = (0.1, 0, 0.6, 1): IoU LEFT 0.4 / 0.6 = 0.667,
    #            IoU MIDDLE 0.35 / 0.65 = 0.538; its argmax LEFT is taken
    #            -> FP, although MIDDLE is free and above 0.5 (no fall back)
    #   d3 0.7 = MIDDLE                    -> TP
    # tp = [1, 0, 1], 2 ground truths: precision [1, 1/2, 2/3], recall
    # [1/2, 1/2, 1]; precision made non-increasing from the right
    # [1, 2/3, 2/3]; AP = 1/2 * 1 + 1/2 * 2/3 = 5/6.
    # (Falling back, d2 would take MIDDLE and d3 be the FP: AP 1.)
    truth = [gt("v", 902, LEFT, 1, 0), gt("v", 902, MIDDLE, 1, 1)]
    found = [
        det("v", 902, LEFT, 1, 0.9),
        det("v", 902, (0.1, 0.0, 0.6, 1.0), 1, 0.8),
        det("v", 902, MIDDLE, 1, 0.7),
    ]
    result = frame_map([1], truth, found)
    assert result["per_class_AP"][1] == pytest.approx(5 / 6, abs=1e-15)
    # An exact duplicate of d1 with a lower score: FP after d1's TP;
    # tp = [1, 0] for one ground truth: AP 1 (recall is full at rank 1).
    dup = frame_map([1], truth[:1], [found[0], found[0]._replace(score=0.5)])
    assert dup["mAP"] == 1.0
    # ... and with the higher score the duplicate takes LEFT first: same AP.
    dup = frame_map([1], truth[:1], [found[0]._replace(score=0.5), found[0]])
    assert dup["mAP"] == 1.0


def test_more_than_50_detections_per_keyframe_keeps_the_top_50():
    # One ground truth of class 1 and its exact detection scoring 0.5, plus
    # 50 other detections of class 2 (no ground truth) in the same keyframe.
    # The cap is over all classes: 51 rows, 50 kept.
    truth = [gt("v", 902, LEFT, 1)]
    hit = det("v", 902, LEFT, 1, 0.5)
    # Others score 0.6 > 0.5: the hit is the one dropped, class 1 has no
    # detection left: AP 0 (class 2 is NaN, out of the mean) -> mAP 0.
    higher = [det("v", 902, MIDDLE, 2, 0.6)] * 50
    assert frame_map([1, 2], truth, [hit, *higher])["per_class_AP"] == {
        1: 0.0,
        2: pytest.approx(math.nan, nan_ok=True),
    }
    # Others score 0.4: they are the ones dropped: AP 1.
    lower = [det("v", 902, MIDDLE, 2, 0.4)] * 50
    assert frame_map([1, 2], truth, [*lower, hit])["mAP"] == 1.0
    # Ties at the cut: a row enters a full heap only with a strictly higher
    # score. 50 rows at 0.5 first, then the hit at 0.5: the hit is dropped.
    tied = [det("v", 902, MIDDLE, 2, 0.5)] * 50
    assert frame_map([1, 2], truth, [*tied, hit])["mAP"] == 0.0
    # The hit first, then 50 rows at 0.5: the 51st row is dropped, hit kept.
    assert frame_map([1, 2], truth, [hit, *tied])["mAP"] == 1.0
    # Rows outside the label map take no place in the cap (dropped first).
    outside = [det("v", 902, MIDDLE, 7, 0.9)] * 60
    assert frame_map([1, 2], truth, [*outside, hit])["mAP"] == 1.0
    # 50 per keyframe: the same 51 rows split over two keyframes keep all.
    split = [d._replace(timestamp=903) for d in higher]
    assert frame_map([1, 2], truth, [hit, *split])["mAP"] == 1.0


def test_excluded_keyframe_ignores_ground_truth_and_detections():
    # Keyframe 902: a ground truth and its detection (0.9). Keyframe 903: a
    # ground truth without detection and a false detection (0.8).
    # Scored as is: 2 ground truths, tp = [1, 0]: precision [1, 1/2], recall
    # [1/2, 1/2]: AP = 1/2 * 1 = 0.5.
    truth = [gt("v", 902, LEFT, 1), gt("v", 903, LEFT, 1)]
    found = [det("v", 902, LEFT, 1, 0.9), det("v", 903, MIDDLE, 3, 0.8)]
    found.append(det("v", 903, (0.6, 0.0, 1.0, 1.0), 1, 0.8))
    assert frame_map([1], truth, found)["mAP"] == 0.5
    # Excluding 903 drops its ground truth and its detection: AP 1.
    assert frame_map([1], truth, found, [("v", 903)])["mAP"] == 1.0
    assert frame_map([1], truth, found, [("v", "0903")])["mAP"] == 1.0
    # Excluding 902 instead: 1 ground truth left, only an FP: AP 0.
    assert frame_map([1], truth, found, [("v", 902)])["mAP"] == 0.0


def test_class_without_detections_and_class_without_ground_truth():
    # Class 1: ground truth, a TP -> AP 1. Class 2: ground truth, no
    # detection -> AP 0, counted. Class 3: detections but no ground truth ->
    # NaN, not counted. Class 4: neither -> NaN. mAP = (1 + 0) / 2.
    truth = [gt("v", 902, LEFT, 1), gt("v", 902, MIDDLE, 2)]
    found = [det("v", 902, LEFT, 1, 0.9), det("v", 902, LEFT, 3, 0.7)]
    result = frame_map({4: "d", 2: "b", 1: "a", 3: "c"}, truth, found)
    assert result["mAP"] == 0.5
    ap = result["per_class_AP"]
    assert list(ap) == [1, 2, 3, 4]  # every label-map id, ascending
    assert ap[1] == 1.0 and ap[2] == 0.0
    assert math.isnan(ap[3]) and math.isnan(ap[4])
    # No ground truth at all: every AP NaN, mAP NaN.
    assert math.isnan(frame_map([1], [], found)["mAP"])


def test_degenerate_boxes():
    # A detection with x2 <= x1 is dropped before matching: the ground truth
    # is unmatched (AP 0), not an FP-ranked list.
    truth = [gt("v", 902, LEFT, 1)]
    flat = det("v", 902, (0.5, 0.0, 0.5, 1.0), 1, 0.9)
    inverted = det("v", 902, (0.5, 0.0, 0.0, 1.0), 1, 0.9)
    assert frame_map([1], truth, [flat, inverted])["mAP"] == 0.0
    # A zero-width ground-truth box stays and counts: 2 ground truths, one
    # matched by the single detection: recall 1/2 at precision 1: AP 0.5.
    truth = [gt("v", 902, LEFT, 1, 0), gt("v", 902, (0.9, 0.0, 0.9, 1.0), 1, 1)]
    assert frame_map([1], truth, [det("v", 902, LEFT, 1, 0.9)])["mAP"] == 0.5
    # An inverted ground-truth box is an error (the official code raises
    # "Invalid box data" once that keyframe has a detection of its class).
    with pytest.raises(ValueError, match=r"ground_truth\[0\]: the box must have"):
        frame_map([1], [gt("v", 902, (0.5, 0.0, 0.4, 1.0), 1)], [])


def test_actions_outside_the_label_map_are_dropped():
    # Class 5 is not in the map: its ground truth is not counted and its
    # detections are not scored; class 1 alone decides: AP 1.
    truth = [gt("v", 902, LEFT, 1), gt("v", 902, MIDDLE, 5)]
    found = [det("v", 902, LEFT, 1, 0.9)]
    assert frame_map({1: "a"}, truth, found) == {"mAP": 1.0, "per_class_AP": {1: 1.0}}


def test_files_and_rows_agree(tmp_path):
    # Timestamps "0902" and "902" are one keyframe (the "%s,%04d" key).
    (tmp_path / "map.pbtxt").write_text(
        'item {\n  name: "a"\n  id: 1\n}\nitem {\n  name: "b"\n  id: 2\n}\n'
    )
    (tmp_path / "gt.csv").write_text(
        "v,0902,0.0,0.0,0.5,1.0,1,0\nv,0902,0.25,0.0,0.75,1.0,2,1\n"
    )
    (tmp_path / "det.csv").write_text(
        "v,902,0.0,0.0,0.5,1.0,1,0.9\nv,902,0.25,0.0,0.75,1.0,1,0.8\n"
        "v,903,0.25,0.0,0.75,1.0,2,0.7\n"
    )
    (tmp_path / "ex.csv").write_text("v,0903\n")
    from_files = detection.ava_frame_map(
        tmp_path / "map.pbtxt", tmp_path / "gt.csv", str(tmp_path / "det.csv"),
        tmp_path / "ex.csv",
    )  # fmt: skip
    rows = detection.ava_frame_map(
        {1: "a", 2: "b"},
        detection.read_ava_annotations(tmp_path / "gt.csv"),
        [tuple(d) for d in detection.read_ava_detections(tmp_path / "det.csv")],
        [("v", 903)],
    )
    # Class 1: tp = [1, 0] -> AP 1. Class 2: its only detection is on the
    # excluded keyframe -> AP 0. mAP 0.5.
    assert from_files == rows == {"mAP": 0.5, "per_class_AP": {1: 1.0, 2: 0.0}}


def test_bad_inputs_name_the_row_or_file(tmp_path):
    with pytest.raises(ValueError, match=r"detections\[1\]: column 8 \(score\)"):
        frame_map(
            [1], [], [("v", 902, 0, 0, 1, 1, 1, 0.5), ("v", 902, 0, 0, 1, 1, 1, "x")]
        )
    with pytest.raises(ValueError, match="every id >= 1"):
        frame_map([0, 1], [], [])
    with pytest.raises(ValueError, match="at least one id"):
        frame_map({}, [], [])
    path = tmp_path / "det.csv"
    path.write_text("v,902,0,0,1,1,1,0.5\nv,902,0,0,1\n")
    with pytest.raises(ValueError, match=f"{path}, line 2: expected"):
        frame_map([1], [], path)


def test_pascal_average_precision_by_hand():
    # Ranked: 0.9 FP, 0.8 TP, 0.7 TP with 3 ground truths: precision
    # [0, 1/2, 2/3], recall [0, 1/3, 2/3]; non-increasing from the right
    # [2/3, 2/3, 2/3]; AP = 1/3 * 2/3 + 1/3 * 2/3 = 4/9.
    ap = ava_evaluation.pascal_average_precision(
        [0.7, 0.9, 0.8], [True, False, True], 3
    )
    assert ap == pytest.approx(4 / 9, abs=1e-15)
    assert ava_evaluation.pascal_average_precision([], [], 2) == 0.0


# ----------------------------------------------------- against the reference


def random_case(rng):
    ids = sorted(rng.choice(np.arange(1, 9), rng.integers(1, 7), replace=False))
    grid = np.linspace(0, 1, 11)

    def box():
        x1, x2 = np.sort(rng.choice(grid, 2))
        y1, y2 = np.sort(rng.choice(grid, 2))
        return float(x1), float(y1), float(max(x2, x1 + 0.1)), float(max(y2, y1 + 0.1))

    def score():
        return (
            round(float(rng.random()), 1) if rng.random() < 0.6 else float(rng.random())
        )

    truth, found, excluded = [], [], []
    keyframes = [(f"v{v}", t) for v in range(3) for t in range(902, 906)]
    crowded = rng.random() < 0.3
    for v, t in keyframes:
        stamp = f"{t:04d}" if rng.random() < 0.5 else t
        for p in range(rng.integers(0, 4)):
            b = box()
            for a in rng.choice(np.arange(1, 10), rng.integers(1, 3), replace=False):
                truth.append((v, stamp, *b, int(a), p))
                for _ in range(rng.integers(0, 3)):
                    jitter = rng.choice([0.0, 0.0, 0.1, -0.1], 4)
                    found.append((v, t, *(np.add(b, jitter).round(2)), int(a), score()))
        for _ in range(rng.integers(0, 70 if crowded else 4)):
            found.append((v, t, *box(), int(rng.integers(1, 10)), score()))
        if rng.random() < 0.1:
            excluded.append((v, t))
    order = rng.permutation(len(found))
    return ids, truth, [found[i] for i in order], excluded


def test_equals_the_official_transcription_on_random_files():
    # Boxes on a 0.1 grid (IoU ties and IoU exactly 0.5), scores on a 0.1
    # grid (ties), duplicates, crowded keyframes over the cap of 50, rows of
    # classes outside the map, excluded keyframes.
    differences, nontrivial = [], 0
    for seed in range(40):
        ids, truth, found, excluded = random_case(np.random.default_rng(seed))
        ref_map, ref_ap = ref_ava_performance(ids, truth, found, excluded)
        result = detection.ava_frame_map(ids, truth, found, excluded)
        mine = np.array([result["per_class_AP"][i] for i in ids])
        np.testing.assert_array_equal(mine, ref_ap[np.array(ids) - 1])
        assert result["mAP"] == ref_map or (
            math.isnan(ref_map) and math.isnan(result["mAP"])
        )
        differences.append(
            np.nanmax(np.abs(mine - ref_ap[np.array(ids) - 1]), initial=0)
        )
        nontrivial += int(np.sum((mine > 0) & (mine < 1)))
    assert max(differences) == 0.0
    assert nontrivial > 40  # the cases are not all 0 / 1 / NaN
