"""`keras_video.detection.decoding`: hand-worked NMS, Soft-NMS and decoding."""

import math

import numpy as np
import pytest

from keras_video import detection

# [0, 10] and [5, 10] overlap with tIoU 5 / 10 = 0.5; [20, 30] with neither.
SEGMENTS = [[0.0, 10.0], [5.0, 10.0], [20.0, 30.0]]
SCORES = [0.9, 0.8, 0.7]


def test_nms_keeps_one_of_two_overlapping():
    np.testing.assert_array_equal(detection.nms(SEGMENTS, SCORES, 0.4), [0, 2])
    # tIoU exactly at the threshold is not suppressed (`> iou_threshold`)
    np.testing.assert_array_equal(detection.nms(SEGMENTS, SCORES, 0.5), [0, 1, 2])
    # order is by score, not by index
    np.testing.assert_array_equal(detection.nms(SEGMENTS, [0.1, 0.8, 0.7], 0.4), [1, 2])
    assert len(detection.nms(np.zeros((0, 2)), [])) == 0


def test_gaussian_soft_nms_decays_by_exp_of_iou_squared():
    keep, scores = detection.soft_nms(SEGMENTS[:2], SCORES[:2], sigma=0.5)
    np.testing.assert_array_equal(keep, [0, 1])
    np.testing.assert_allclose(scores, [0.9, 0.8 * math.exp(-(0.5**2) / 0.5)])
    # a disjoint segment keeps its score
    keep, scores = detection.soft_nms(SEGMENTS, SCORES, sigma=0.5)
    np.testing.assert_array_equal(keep, [0, 2, 1])
    np.testing.assert_allclose(scores, [0.9, 0.7, 0.8 * math.exp(-0.5)])


def test_soft_nms_reorders_and_drops_below_min_score():
    # [0, 10] 0.9; [1, 10] 0.85 (tIoU 0.9 with the first); [0, 4] 0.5
    # (tIoU 0.4 with the first, 3/10 with the second).
    segments = [[0.0, 10.0], [1.0, 10.0], [0.0, 4.0]]
    keep, scores = detection.soft_nms(segments, [0.9, 0.85, 0.5], sigma=0.5)
    second = 0.85 * math.exp(-0.81 / 0.5)  # 0.168
    third = 0.5 * math.exp(-0.16 / 0.5)  # 0.363, now above the second
    np.testing.assert_array_equal(keep, [0, 2, 1])
    np.testing.assert_allclose(
        scores, [0.9, third, second * math.exp(-((3 / 10) ** 2) / 0.5)]
    )
    keep, _ = detection.soft_nms(segments, [0.9, 0.85, 0.5], sigma=0.5, min_score=0.2)
    np.testing.assert_array_equal(keep, [0, 2])


def test_linear_soft_nms():
    keep, scores = detection.soft_nms(
        SEGMENTS[:2], SCORES[:2], iou_threshold=0.3, method="linear"
    )
    np.testing.assert_array_equal(keep, [0, 1])
    np.testing.assert_allclose(scores, [0.9, 0.8 * (1 - 0.5)])
    _, scores = detection.soft_nms(
        SEGMENTS[:2], SCORES[:2], iou_threshold=0.6, method="linear"
    )
    np.testing.assert_allclose(scores, [0.9, 0.8])
    with pytest.raises(ValueError, match="method"):
        detection.soft_nms(SEGMENTS, SCORES, method="hard")


def test_class_nms_is_per_class_then_top_k():
    out = detection.class_nms(
        SEGMENTS, [0, 1, 0], SCORES, method="nms", iou_threshold=0.4
    )
    # different classes never suppress each other
    np.testing.assert_array_equal(out["labels"], [0, 1, 0])
    np.testing.assert_allclose(out["scores"], SCORES)
    out = detection.class_nms(
        SEGMENTS, [0, 0, 0], SCORES, method="nms", iou_threshold=0.4, max_detections=1
    )
    np.testing.assert_array_equal(out["segments"], [[0.0, 10.0]])
    out = detection.class_nms(SEGMENTS, [0, 0, 0], SCORES, method="soft_nms")
    np.testing.assert_allclose(out["scores"], [0.9, 0.7, 0.8 * math.exp(-0.5)])
    out = detection.class_nms(SEGMENTS, [0, 0, 0], SCORES, method="none")
    np.testing.assert_allclose(out["scores"], SCORES)
    with pytest.raises(ValueError, match="method"):
        detection.class_nms(SEGMENTS, [0, 0, 0], SCORES, method="soft")


def test_decode_segments_hand_worked():
    # T=8, 2 levels: 8 points of stride 1 then 4 of stride 2 (centres 1, 3, 5, 7)
    logits = np.full((12, 2), -20.0)
    regression = np.zeros((12, 2))
    logits[2, 1] = 0.0  # point 2.5, class 1, score 1/2
    regression[2] = [1.0, 2.0]  # [1.5, 4.5] snippets
    logits[8 + 2, 0] = 2.0  # point 5 of stride 2, class 0
    regression[8 + 2] = [1.0, 3.0]  # [3, 11] -> clipped to [3, 8]
    out = detection.decode_segments(
        logits, regression, 8, 2, snippet_duration=0.5, time_offset=10.0
    )
    np.testing.assert_allclose(out["segments"], [[11.5, 14.0], [10.75, 12.25]])
    np.testing.assert_array_equal(out["labels"], [0, 1])
    np.testing.assert_allclose(out["scores"], [1 / (1 + math.exp(-2)), 0.5])
    out = detection.decode_segments(logits, regression, 8, 2, pre_nms_top_k=1)
    assert len(out["scores"]) == 1
    out = detection.decode_segments(logits, regression, 8, 2, min_duration=4.0)
    np.testing.assert_array_equal(out["labels"], [0])
    with pytest.raises(ValueError, match="class_logits"):
        detection.decode_segments(logits[:5], regression, 8, 2)


def test_perfect_outputs_decode_to_the_ground_truth():
    # targets of the label encoder, read back as outputs, give back the
    # segments (in seconds), and an mAP of 1.
    encoder = detection.TemporalLabelEncoder(2, 32, num_levels=3, snippet_duration=0.25)
    truth = [np.array([[0.5, 2.0], [3.0, 7.5]]), np.array([[1.0, 1.75]])]
    labels = [np.array([0, 1]), np.array([1])]
    targets = encoder.encode_batch(truth, labels)
    outputs = {
        "classification": np.where(targets["classification"] > 0, 5.0, -20.0),
        "regression": np.maximum(targets["regression"], 0.0),
    }
    found = detection.decode_detections(
        outputs, 32, 3, snippet_duration=0.25, time_offset=[0.0, 100.0], method="nms"
    )
    np.testing.assert_allclose(
        found[0]["segments"][np.argsort(found[0]["segments"][:, 0])], truth[0]
    )
    np.testing.assert_allclose(found[1]["segments"], truth[1] + 100.0)
    results = detection.to_activitynet_results(found, ["a", "b"], ["run", "jump"])
    assert results["results"]["b"][0]["label"] == "jump"
    ground_truth = {
        "database": {
            video: {
                "subset": "validation",
                "annotations": [
                    {"segment": list(s + offset), "label": ["run", "jump"][k]}
                    for s, k in zip(segs, labs, strict=True)
                ],
            }
            for video, segs, labs, offset in zip(
                ["a", "b"], truth, labels, [0.0, 100.0], strict=True
            )
        }
    }
    result = detection.activitynet_map(ground_truth, results)
    np.testing.assert_allclose(result["mAP"], 1.0)
