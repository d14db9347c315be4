"""`keras_video.detection.evaluation` against the official ActivityNet code.

Two oracles: hand-worked cases whose AP is derived in the comments, and a
transcription of the official evaluation (below) run on random files.
"""

import json
import warnings

import numpy as np
import pytest

from keras_video import detection
from keras_video.detection import evaluation

ANET = np.linspace(0.5, 0.95, 10)
THUMOS = np.array([0.3, 0.4, 0.5, 0.6, 0.7])

# ---------------------------------------------------------------------------
# Transcription of the official evaluation: activitynet/ActivityNet
# Evaluation/eval_detection.py and Evaluation/utils.py at commit
# 82304fa9f4a7219421df13dae6347a445c4cf5bc (both files as of eba0ec9).
# Copyright (c) 2015 ActivityNet. MIT License: permission is granted to use,
# copy, modify, merge, publish and distribute, provided the copyright notice
# and permission notice are included (see the LICENSE file of that repository).
#
# Only the pure computation. pandas is replaced by plain Python doing what the
# pandas calls there do: a DataFrame column is one NumPy array over the whole
# file (`np.array(score_lst)`: int64 when every score is an int, float64 when
# mixed); `groupby(...).get_group(k)` keeps the rows with key k in file order
# and raises KeyError when there is none; `reset_index(drop=True)` renumbers
# 0..n-1; `reset_index()` keeps the old number in column 'index';
# `df.loc[sort_idx]` reorders rows. The blocked-video list is empty
# (`check_status=False`) and joblib's Parallel is a plain loop.
# Checked once against the official files themselves (run under Python 3 with
# mechanical edits and pandas 3.1.1): identical on 300 random files.
# ---------------------------------------------------------------------------


def ref_interpolated_prec_rec(prec, rec):
    """Interpolated AP - VOCdevkit from VOC 2011."""
    mprec = np.hstack([[0], prec, [0]])
    mrec = np.hstack([[0], rec, [1]])
    for i in range(len(mprec) - 1)[::-1]:
        mprec[i] = max(mprec[i], mprec[i + 1])
    idx = np.where(mrec[1::] != mrec[0:-1])[0] + 1
    ap = np.sum((mrec[idx] - mrec[idx - 1]) * mprec[idx])
    return ap


def ref_segment_iou(target_segment, candidate_segments):
    tt1 = np.maximum(target_segment[0], candidate_segments[:, 0])
    tt2 = np.minimum(target_segment[1], candidate_segments[:, 1])
    # Intersection including Non-negative overlap score.
    segments_intersection = (tt2 - tt1).clip(0)
    # Segment union.
    segments_union = (
        (candidate_segments[:, 1] - candidate_segments[:, 0])
        + (target_segment[1] - target_segment[0])
        - segments_intersection
    )
    tIoU = segments_intersection.astype(float) / segments_union
    return tIoU


def ref_compute_average_precision_detection(ground_truth, prediction, tiou_thresholds):
    """ground_truth: rows {'video-id', 't-start', 't-end'} of one class;
    prediction: (rows {'video-id', 't-start', 't-end'}, score array)."""
    ap = np.zeros(len(tiou_thresholds))
    rows, scores = prediction
    if len(rows) == 0:  # prediction.empty
        return ap

    npos = float(len(ground_truth))
    lock_gt = np.ones((len(tiou_thresholds), len(ground_truth))) * -1
    # Sort predictions by decreasing score order.
    sort_idx = scores.argsort()[::-1]
    rows = [rows[i] for i in sort_idx]  # prediction.loc[sort_idx].reset_index

    tp = np.zeros((len(tiou_thresholds), len(rows)))
    fp = np.zeros((len(tiou_thresholds), len(rows)))

    # ground_truth.groupby('video-id'): rows of each video, 'index' kept.
    ground_truth_gbvn = {}
    for index, row in enumerate(ground_truth):
        ground_truth_gbvn.setdefault(row["video-id"], []).append(dict(row, index=index))

    for idx, this_pred in enumerate(rows):
        try:
            this_gt = ground_truth_gbvn[this_pred["video-id"]]
        except KeyError:
            fp[:, idx] = 1
            continue

        tiou_arr = ref_segment_iou(
            np.array([this_pred["t-start"], this_pred["t-end"]]),
            np.array([[g["t-start"], g["t-end"]] for g in this_gt]),
        )
        # We would like to retrieve the predictions with highest tiou score.
        tiou_sorted_idx = tiou_arr.argsort()[::-1]
        for tidx, tiou_thr in enumerate(tiou_thresholds):
            for jdx in tiou_sorted_idx:
                if tiou_arr[jdx] < tiou_thr:
                    fp[tidx, idx] = 1
                    break
                if lock_gt[tidx, this_gt[jdx]["index"]] >= 0:
                    continue
                # Assign as true positive after the filters above.
                tp[tidx, idx] = 1
                lock_gt[tidx, this_gt[jdx]["index"]] = idx
                break

            if fp[tidx, idx] == 0 and tp[tidx, idx] == 0:
                fp[tidx, idx] = 1

    tp_cumsum = np.cumsum(tp, axis=1).astype(float)
    fp_cumsum = np.cumsum(fp, axis=1).astype(float)
    recall_cumsum = tp_cumsum / npos

    precision_cumsum = tp_cumsum / (tp_cumsum + fp_cumsum)

    for tidx in range(len(tiou_thresholds)):
        ap[tidx] = ref_interpolated_prec_rec(
            precision_cumsum[tidx, :], recall_cumsum[tidx, :]
        )

    return ap


def ref_anet_detection(data_gt, data_pred, tiou_thresholds, subset="validation"):
    """ANETdetection(...).evaluate(): returns (ap, mAP, average_mAP,
    activity_index)."""
    # _import_ground_truth
    activity_index, cidx = {}, 0
    ground_truth = []
    for videoid, v in data_gt["database"].items():
        if subset != v["subset"]:
            continue
        for ann in v["annotations"]:
            if ann["label"] not in activity_index:
                activity_index[ann["label"]] = cidx
                cidx += 1
            ground_truth.append(
                {
                    "video-id": videoid,
                    "t-start": float(ann["segment"][0]),
                    "t-end": float(ann["segment"][1]),
                    "label": activity_index[ann["label"]],
                }
            )
    # _import_prediction
    prediction, score_lst = [], []
    for videoid, v in data_pred["results"].items():
        for result in v:
            label = activity_index[result["label"]]  # KeyError: unknown label
            prediction.append(
                {
                    "video-id": videoid,
                    "t-start": float(result["segment"][0]),
                    "t-end": float(result["segment"][1]),
                    "label": label,
                }
            )
            score_lst.append(result["score"])
    score_column = np.array(score_lst)
    # wrapper_compute_average_precision
    ap = np.zeros((len(tiou_thresholds), len(activity_index)))
    for _, cidx in activity_index.items():
        gt = [row for row in ground_truth if row["label"] == cidx]
        positions = [i for i, row in enumerate(prediction) if row["label"] == cidx]
        pred = ([prediction[i] for i in positions], score_column[positions])
        ap[:, cidx] = ref_compute_average_precision_detection(gt, pred, tiou_thresholds)
    # evaluate
    mAP = ap.mean(axis=1)
    average_mAP = mAP.mean()
    return ap, mAP, average_mAP, activity_index


# ------------------------------------------------------------------ helpers


def gt_file(videos, subset="validation"):
    """{video: [(start, end, label), ...]} -> ActivityNet ground truth."""
    return {
        "database": {
            video: {
                "subset": subset,
                "annotations": [
                    {"segment": [s, e], "label": label} for s, e, label in anns
                ],
            }
            for video, anns in videos.items()
        }
    }


def pred_file(videos):
    """{video: [(start, end, label, score), ...]} -> ActivityNet results."""
    return {
        "results": {
            video: [
                {"segment": [s, e], "label": label, "score": score}
                for s, e, label, score in preds
            ]
            for video, preds in videos.items()
        }
    }


def assert_matches_reference(gt, pred, thresholds, subset="validation"):
    ap, mAP, average_mAP, activity_index = ref_anet_detection(
        gt, pred, thresholds, subset
    )
    result = detection.activitynet_map(gt, pred, thresholds, subset)
    assert list(result["per_class_AP"]) == list(activity_index)
    got = np.array([result["per_class_AP"][label] for label in activity_index]).T
    np.testing.assert_allclose(got, ap, rtol=0, atol=1e-9)
    np.testing.assert_allclose(result["mAP"], mAP, rtol=0, atol=1e-9)
    assert abs(result["average_mAP"] - average_mAP) <= 1e-9
    return result


def random_case(rng, max_predictions=25):
    """Random ground truth and predictions the official code accepts: ties
    in score and in tIoU (half-second grid), duplicates, videos without
    annotations, videos of another subset, predictions on unknown videos,
    classes without predictions, int and float scores."""
    labels = ["a", "b", "c", "d", "e"][: rng.integers(1, 6)]
    database = {}
    for v in range(rng.integers(1, 9)):
        subset = "validation" if rng.random() < 0.75 else "training"
        anns = []
        for _ in range(rng.integers(0, 5)):
            start = float(rng.integers(0, 40)) / 2
            anns.append(
                {
                    "segment": [start, start + float(rng.integers(1, 16)) / 2],
                    "label": str(rng.choice(labels)),
                }
            )
        database[f"v{v}"] = {"subset": subset, "annotations": anns}
    known = sorted(
        {
            a["label"]
            for e in database.values()
            if e["subset"] == "validation"
            for a in e["annotations"]
        }
    )
    if not known:
        database["v_last"] = {
            "subset": "validation",
            "annotations": [{"segment": [1.0, 4.0], "label": labels[0]}],
        }
        known = [labels[0]]
    gt_segments = [
        (video, a["segment"]) for video, e in database.items() for a in e["annotations"]
    ]
    videos = list(database) + ["unknown_video"]
    score_pool = [0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 1.0]
    int_scores = rng.random() < 0.15
    results = {}
    for _ in range(rng.integers(0, max_predictions + 1)):
        if gt_segments and rng.random() < 0.6:
            video, (s, e) = gt_segments[rng.integers(len(gt_segments))]
            s = s + float(rng.integers(-4, 5)) / 2
            e = max(s + 0.5, e + float(rng.integers(-4, 5)) / 2)
        else:
            video = videos[rng.integers(len(videos))]
            s = float(rng.integers(0, 40)) / 2
            e = s + float(rng.integers(1, 16)) / 2
        if int_scores:
            score = int(rng.integers(0, 4))
        elif rng.random() < 0.5:
            score = score_pool[rng.integers(len(score_pool))]
        else:
            score = float(rng.random())
        entry = {"label": str(rng.choice(known)), "score": score, "segment": [s, e]}
        results.setdefault(video, []).append(entry)
        if rng.random() < 0.1:  # a duplicate
            results[video].append(dict(entry))
    return {"database": database}, {"results": results}


# ------------------------------------------------------------ random inputs


@pytest.mark.parametrize("seed", range(4))
def test_random_files_match_the_official_code(seed):
    rng = np.random.default_rng(seed)
    worst = 0.0
    for case in range(50):
        gt, pred = random_case(rng)
        thresholds = ANET if case % 2 else THUMOS
        ap, mAP, average_mAP, index = ref_anet_detection(gt, pred, thresholds)
        result = detection.activitynet_map(gt, pred, thresholds)
        got = np.array([result["per_class_AP"][label] for label in index]).T
        worst = max(
            worst,
            np.abs(got - ap).max(),
            np.abs(np.array(result["mAP"]) - mAP).max(),
            abs(result["average_mAP"] - average_mAP),
        )
        assert list(result["per_class_AP"]) == list(index)
    assert worst <= 1e-9


def test_random_files_through_json_files(tmp_path):
    rng = np.random.default_rng(100)
    for case in range(5):
        gt, pred = random_case(rng)
        gt_path, pred_path = tmp_path / f"gt{case}.json", tmp_path / f"p{case}.json"
        gt_path.write_text(json.dumps(gt))
        pred_path.write_text(json.dumps(pred))
        from_files = detection.activitynet_map(str(gt_path), pred_path)
        assert from_files == assert_matches_reference(gt, pred, ANET)


# ------------------------------------------------------------- hand-worked


def per_threshold(thresholds, rule):
    return [rule(t) for t in thresholds]


@pytest.mark.parametrize("thresholds", [ANET, THUMOS], ids=["anet", "thumos"])
def test_fallback_to_next_best_ground_truth(thresholds):
    # g1 = [0, 10], g2 = [2, 12] in one video.
    # p1 [0, 10] 0.9: tIoU g1 = 1, g2 = 8/12 -> g1, TP at every threshold.
    # p2 [0, 11] 0.8: tIoU g1 = 10/11 = 0.909, g2 = 9/12 = 0.75 (exact).
    #   Best g1 is taken, so it falls back to g2: TP while t <= 0.75 (the
    #   VOC rule would stop at g1: FP). For t > 0.75: FP.
    # p3 [20, 25] 0.7: FP.
    # t <= 0.75: TP TP FP: precision 1, 1, 2/3; recall .5, 1, 1 -> AP = 1.
    # t > 0.75:  TP FP FP: precision 1, .5, 1/3; recall .5 -> AP = 0.5.
    gt = gt_file({"v": [(0, 10, "a"), (2, 12, "a")]})
    pred = pred_file({"v": [(0, 10, "a", 0.9), (0, 11, "a", 0.8), (20, 25, "a", 0.7)]})
    result = assert_matches_reference(gt, pred, thresholds)
    expected = per_threshold(thresholds, lambda t: 1.0 if t <= 0.75 else 0.5)
    np.testing.assert_allclose(result["per_class_AP"]["a"], expected, atol=1e-12)
    np.testing.assert_allclose(result["mAP"], expected, atol=1e-12)
    # ActivityNet: 0.5..0.75 (6 thresholds) give 1, 0.8..0.95 give 0.5 -> 0.8.
    average = 0.8 if len(thresholds) == 10 else 1.0
    assert result["average_mAP"] == pytest.approx(average, abs=1e-12)


@pytest.mark.parametrize("thresholds", [ANET, THUMOS], ids=["anet", "thumos"])
def test_tiou_exactly_at_a_threshold(thresholds):
    # GT [0, 10] in three videos; predictions [0, 6], [0, 7], [0, 9]: tIoU
    # 6/10, 7/10, 9/10, exactly the doubles 0.6, 0.7, 0.9. A match needs
    # tIoU >= t. The ActivityNet thresholds are np.linspace(0.5, 0.95, 10):
    # its 0.6 and 0.7 are the doubles 0.6 and 0.7, its 0.9 is
    # 0.8999999999999999, so 0.9 meets it too.
    # Scores 0.9 > 0.8 > 0.7 for tIoU 0.9, 0.7, 0.6: at a threshold t the
    # first k are TP where k = #{tIoU >= t}, the rest FP, recall k/3, and
    # precision is 1 up to recall k/3 -> AP = k/3.
    gt = gt_file({v: [(0, 10, "a")] for v in ("v1", "v2", "v3")})
    pred = pred_file(
        {"v1": [(0, 9, "a", 0.9)], "v2": [(0, 7, "a", 0.8)], "v3": [(0, 6, "a", 0.7)]}
    )
    result = assert_matches_reference(gt, pred, thresholds)
    expected = per_threshold(
        thresholds, lambda t: sum(x >= t for x in (0.9, 0.7, 0.6)) / 3
    )
    if len(thresholds) == 10:
        #         .5  .55 .6  .65  .7   .75  .8   .85  .9   .95
        assert expected == [1, 1, 1, 2 / 3, 2 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 0]
    else:
        assert expected == [1, 1, 1, 1, 2 / 3]  # .3 .4 .5 .6 .7
    np.testing.assert_allclose(result["mAP"], expected, atol=1e-12)


@pytest.mark.parametrize("thresholds", [ANET, THUMOS], ids=["anet", "thumos"])
def test_ties_in_score(thresholds):
    # One GT [0, 10]. A TP [0, 10] and an FP [30, 40], both score 0.5. The
    # official ranking is scores.argsort()[::-1] with NumPy's default sort,
    # not a stable one: whichever comes first decides.
    #   TP first: precision 1 at recall 1 -> AP 1.
    #   FP first: precision 1/2 at recall 1 -> AP 0.5.
    gt = gt_file({"v": [(0, 10, "a")]})
    pred = pred_file({"v": [(0, 10, "a", 0.5), (30, 40, "a", 0.5)]})
    tp_first = np.argsort(np.array([0.5, 0.5]))[::-1][0] == 0
    result = assert_matches_reference(gt, pred, thresholds)
    assert result["mAP"] == [1.0 if tp_first else 0.5] * len(thresholds)

    # Two tied TPs and an FP below them: the order of the tie does not
    # matter. Precision 1, 1, 2/3 at recall .5, 1, 1 -> AP 1.
    gt = gt_file({"v": [(0, 10, "a"), (20, 30, "a")]})
    pred = pred_file({"v": [(0, 10, "a", 0.7), (20, 30, "a", 0.7), (50, 60, "a", 0.6)]})
    result = assert_matches_reference(gt, pred, thresholds)
    assert result["mAP"] == [1.0] * len(thresholds)


@pytest.mark.parametrize("thresholds", [ANET, THUMOS], ids=["anet", "thumos"])
def test_duplicate_predictions(thresholds):
    # GT [0, 10] in v1 and v2. Predictions: v1 [0, 10] 0.9 (TP), the same
    # again 0.8 (its GT is taken and there is no other: FP), v2 [0, 10] 0.7
    # (TP). Precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1; interpolated:
    # 1 on (0, 1/2], 2/3 on (1/2, 1] -> AP = 1/2 + 1/3 = 5/6.
    gt = gt_file({"v1": [(0, 10, "a")], "v2": [(0, 10, "a")]})
    pred = pred_file(
        {"v1": [(0, 10, "a", 0.9), (0, 10, "a", 0.8)], "v2": [(0, 10, "a", 0.7)]}
    )
    result = assert_matches_reference(gt, pred, thresholds)
    np.testing.assert_allclose(result["mAP"], [5 / 6] * len(thresholds), atol=1e-12)


@pytest.mark.parametrize("thresholds", [ANET, THUMOS], ids=["anet", "thumos"])
def test_videos_without_predictions_and_classes_without_predictions(thresholds):
    # Class a: GT in v1 and v2, one TP in v1 -> recall 1/2 at precision 1:
    # AP 1/2. Class b: GT in v3, no prediction -> AP 0, and it counts:
    # mAP = (1/2 + 0) / 2 = 1/4. v4 is in the subset without annotations:
    # its prediction of a ranks first and is an FP, precision 0 then 1/2
    # at recall 0, 1/2 -> interpolated 1/2 on (0, 1/2]: AP of a = 1/4,
    # mAP 1/8.
    gt = gt_file(
        {"v1": [(0, 10, "a")], "v2": [(5, 8, "a")], "v3": [(1, 2, "b")], "v4": []}
    )
    pred = pred_file({"v1": [(0, 10, "a", 0.9)]})
    result = assert_matches_reference(gt, pred, thresholds)
    assert result["per_class_AP"] == {
        "a": [0.5] * len(thresholds),
        "b": [0.0] * len(thresholds),
    }
    assert result["mAP"] == [0.25] * len(thresholds)

    pred = pred_file({"v4": [(0, 10, "a", 0.95)], "v1": [(0, 10, "a", 0.9)]})
    result = assert_matches_reference(gt, pred, thresholds)
    np.testing.assert_allclose(result["per_class_AP"]["a"], [0.25] * len(thresholds))
    np.testing.assert_allclose(result["mAP"], [0.125] * len(thresholds))


@pytest.mark.parametrize("thresholds", [ANET, THUMOS], ids=["anet", "thumos"])
def test_predictions_outside_the_subset_are_false_positives(thresholds):
    # The official code does not filter predictions by subset: a prediction
    # on a training video (its GT is not loaded) or on a video absent from
    # the ground truth finds no GT of its class: FP.
    # FP 0.95, FP 0.93, TP 0.9: precision 0, 0, 1/3 at recall 0, 0, 1 ->
    # AP = 1/3.
    gt = {
        "database": {
            "val": {
                "subset": "validation",
                "annotations": [{"segment": [0, 10], "label": "a"}],
            },
            "train": {
                "subset": "training",
                "annotations": [{"segment": [0, 10], "label": "a"}],
            },
        }
    }
    pred = pred_file(
        {
            "train": [(0, 10, "a", 0.95)],
            "elsewhere": [(0, 10, "a", 0.93)],
            "val": [(0, 10, "a", 0.9)],
        }
    )
    result = assert_matches_reference(gt, pred, thresholds)
    np.testing.assert_allclose(result["mAP"], [1 / 3] * len(thresholds), atol=1e-12)
    # Scoring the training subset instead: the training prediction ranks
    # first and is the TP; the other two are FPs after it -> AP 1.
    result = assert_matches_reference(gt, pred, thresholds, subset="training")
    assert result["mAP"] == [1.0] * len(thresholds)


@pytest.mark.parametrize("thresholds", [ANET, THUMOS], ids=["anet", "thumos"])
def test_labels_without_ground_truth_are_left_out_with_one_warning(thresholds):
    # "b" has ground truth only in training, "zzz" nowhere. The official
    # code raises KeyError on this file; here both are left out (one
    # warning naming them) and the rest scores as the file without them:
    # TP 0.9, FP 0.5 -> AP 1.
    gt = gt_file({"v1": [(0, 10, "a")]})
    gt["database"]["t1"] = {
        "subset": "training",
        "annotations": [{"segment": [0, 10], "label": "b"}],
    }
    with_unknown = pred_file(
        {
            "v1": [(0, 10, "a", 0.9), (0, 10, "b", 0.95), (3, 4, "zzz", 1.0)],
            "v2": [(0, 10, "a", 0.5), (0, 1, "zzz", 0.2)],
        }
    )
    without = pred_file({"v1": [(0, 10, "a", 0.9)], "v2": [(0, 10, "a", 0.5)]})
    with pytest.raises(KeyError):
        ref_anet_detection(gt, with_unknown, thresholds)
    with pytest.warns(UserWarning) as record:
        result = detection.activitynet_map(gt, with_unknown, thresholds)
    assert len(record) == 1
    message = str(record[0].message)
    assert "['b', 'zzz']" in message and "3 predictions" in message
    assert result == assert_matches_reference(gt, without, thresholds)
    assert result["mAP"] == [1.0] * len(thresholds)


def test_no_warning_when_every_label_has_ground_truth():
    gt = gt_file({"v1": [(0, 10, "a")]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        detection.activitynet_map(gt, pred_file({"v1": [(0, 10, "a", 1)]}))


def test_defaults_and_thumos14_map():
    gt = gt_file({"v": [(0, 10, "a")]})
    pred = pred_file({"v": [(1, 10, "a", 0.9)]})  # tIoU 0.9
    result = detection.activitynet_map(gt, pred)
    assert result["tiou_thresholds"] == np.linspace(0.5, 0.95, 10).tolist()
    assert result["mAP"] == [1.0] * 9 + [0.0]
    assert result["average_mAP"] == pytest.approx(0.9)
    assert evaluation.THUMOS14_TIOU_THRESHOLDS == (0.3, 0.4, 0.5, 0.6, 0.7)
    test_gt = gt_file({"v": [(0, 10, "a")]}, subset="test")
    pred = pred_file({"v": [(0, 6.5, "a", 0.9)]})  # tIoU 0.65
    result = detection.thumos14_map(test_gt, pred)
    assert result["mAP"] == [1.0, 1.0, 1.0, 1.0, 0.0]
    assert result["average_mAP"] == pytest.approx(0.8)
    records = [detection.TemporalAnnotation("v", 0.0, 10.0, "a", "test")]
    assert detection.thumos14_map(records, pred) == result


def test_average_precision_detection_and_segment_iou():
    ap = detection.average_precision_detection(
        [("v", 0, 10), ("v", 2, 12)],
        [("v", 0, 10, 0.9), ("v", 0, 11, 0.8), ("v", 20, 25, 0.7)],
        [0.5, 0.8],
    )
    np.testing.assert_allclose(ap, [1.0, 0.5])
    np.testing.assert_array_equal(
        detection.average_precision_detection([("v", 0, 10)], [], [0.5]), [0.0]
    )
    with pytest.raises(ValueError, match="No ground truth"):
        detection.average_precision_detection([], [("v", 0, 1, 0.5)])
    np.testing.assert_allclose(
        detection.segment_iou([0.0, 2.0], [[1.0, 3.0], [0.0, 2.0], [5.0, 6.0]]),
        [1 / 3, 1.0, 0.0],
    )
    candidates = np.random.default_rng(0).uniform(0, 10, (50, 2))
    candidates.sort(axis=1)
    np.testing.assert_array_equal(
        detection.segment_iou([2.5, 7.0], candidates),
        ref_segment_iou(np.array([2.5, 7.0]), candidates),
    )


def test_bad_inputs_are_value_errors(tmp_path):
    gt = gt_file({"v": [(0, 10, "a")]})
    pred = pred_file({"v": [(0, 10, "a", 0.5)]})
    with pytest.raises(ValueError, match="no ground truth in subset 'testing'"):
        detection.activitynet_map(gt, pred, subset="testing")
    with pytest.raises(ValueError, match='no "results"'):
        detection.activitynet_map(gt, {"version": 1})
    with pytest.raises(ValueError, match='missing field "score"'):
        detection.activitynet_map(
            gt, {"results": {"v": [{"label": "a", "segment": [0, 1]}]}}
        )
    with pytest.raises(ValueError, match='missing field "subset"'):
        detection.activitynet_map({"database": {"v": {"annotations": []}}}, pred)
    with pytest.raises(ValueError, match="scores must be real numbers"):
        detection.activitynet_map(gt, pred_file({"v": [(0, 10, "a", "high")]}))
    bad = tmp_path / "bad.json"
    bad.write_text('{"results": {\n  "v": [,]}}')
    with pytest.raises(ValueError, match=r"bad\.json, line 2: not valid JSON"):
        detection.activitynet_map(gt, bad)
