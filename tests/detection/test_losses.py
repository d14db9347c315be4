"""`keras_video.detection.losses` against NumPy references and hand values."""

import math

import keras
import numpy as np
import pytest

from keras_video import detection


def ref_focal(y_true, logits, alpha=0.25, gamma=2.0):
    p = 1.0 / (1.0 + np.exp(-logits))
    ce = -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
    p_t = y_true * p + (1 - y_true) * (1 - p)
    a_t = y_true * alpha + (1 - y_true) * (1 - alpha)
    num_pos = max((y_true.max(-1) > 0.5).sum(), 1)
    return (a_t * (1 - p_t) ** gamma * ce).sum() / num_pos


def ref_diou(y_true, y_pred):
    total, num_pos = 0.0, 0
    for target, pred in zip(y_true.reshape(-1, 2), y_pred.reshape(-1, 2), strict=True):
        if target.min() < 0:
            continue
        num_pos += 1
        p = (-pred[0], pred[1])
        g = (-target[0], target[1])
        inter = max(min(p[1], g[1]) - max(p[0], g[0]), 0.0)
        union = (p[1] - p[0]) + (g[1] - g[0]) - inter
        hull = max(p[1], g[1]) - min(p[0], g[0])
        rho = (p[0] + p[1]) / 2 - (g[0] + g[1]) / 2
        total += 1 - inter / union + (rho / hull) ** 2
    return total / max(num_pos, 1)


def test_focal_loss_matches_numpy():
    rng = np.random.default_rng(0)
    y_true = (rng.random((3, 10, 4)) < 0.1).astype("float32")
    logits = rng.normal(0, 2, (3, 10, 4)).astype("float32")
    got = float(detection.SigmoidFocalLoss()(y_true, logits))
    np.testing.assert_allclose(got, ref_focal(y_true, logits), rtol=1e-5)
    probs = 1 / (1 + np.exp(-logits))
    got = float(detection.SigmoidFocalLoss(from_logits=False)(y_true, probs))
    np.testing.assert_allclose(got, ref_focal(y_true, logits), rtol=1e-4)
    got = float(detection.SigmoidFocalLoss(alpha=0.5, gamma=0.0)(y_true, logits))
    np.testing.assert_allclose(got, ref_focal(y_true, logits, 0.5, 0.0), rtol=1e-5)


def test_focal_loss_hand_value_and_no_positives():
    # one positive step; logits 0 so p = 1/2 everywhere:
    # 0.25 * (1/2)^2 * log 2 for the positive target, 0.75 * (1/2)^2 * log 2
    # for each of the three negative targets; one positive step.
    y_true = np.array([[[1.0, 0.0], [0.0, 0.0]]])
    got = float(detection.SigmoidFocalLoss()(y_true, np.zeros((1, 2, 2))))
    np.testing.assert_allclose(got, 0.625 * math.log(2), rtol=1e-6)
    # no positive: the sum is divided by 1, not 0
    got = float(detection.SigmoidFocalLoss()(np.zeros((1, 2, 2)), np.zeros((1, 2, 2))))
    np.testing.assert_allclose(got, 4 * 0.75 * 0.25 * math.log(2), rtol=1e-6)


def test_focal_loss_normalises_by_the_batch_positives():
    # per-video values sum to the batch loss: reduction "none" then sum
    rng = np.random.default_rng(1)
    y_true = (rng.random((4, 6, 3)) < 0.2).astype("float32")
    logits = rng.normal(size=(4, 6, 3)).astype("float32")
    per_video = detection.SigmoidFocalLoss(reduction="none")(y_true, logits)
    assert tuple(per_video.shape) == (4,)
    np.testing.assert_allclose(
        float(np.sum(keras.ops.convert_to_numpy(per_video))),
        ref_focal(y_true, logits),
        rtol=1e-5,
    )


def test_diou_loss_hand_value():
    # prediction [-1, 1], target [-1, 3]: IoU 2/4, centres 0 and 1, hull 4
    got = float(
        detection.DIoULoss()(np.array([[[1.0, 3.0]]]), np.array([[[1.0, 1.0]]]))
    )
    np.testing.assert_allclose(got, 1 - 0.5 + (1 / 4) ** 2, rtol=1e-6)
    # disjoint is impossible from one point; identical segments: 0
    same = np.array([[[2.0, 5.0]]])
    assert abs(float(detection.DIoULoss()(same, same))) < 1e-6


def test_diou_loss_matches_numpy_and_ignores_background():
    rng = np.random.default_rng(2)
    y_true = rng.uniform(0, 4, (3, 12, 2)).astype("float32")
    y_true[rng.random((3, 12)) < 0.5] = -1.0
    y_pred = rng.uniform(0, 4, (3, 12, 2)).astype("float32")
    got = float(detection.DIoULoss()(y_true, y_pred))
    np.testing.assert_allclose(got, ref_diou(y_true, y_pred), rtol=1e-5)
    # background predictions do not matter
    y_pred2 = np.where(y_true < 0, 100.0, y_pred).astype("float32")
    np.testing.assert_allclose(float(detection.DIoULoss()(y_true, y_pred2)), got)
    assert float(detection.DIoULoss()(-np.ones((1, 3, 2)), y_pred[:1, :3])) == 0.0


@pytest.mark.parametrize(
    "loss",
    [detection.SigmoidFocalLoss(alpha=0.5, gamma=1.0), detection.DIoULoss(1e-6)],
)
def test_losses_serialize(loss):
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(restored) is type(loss)
    assert restored.get_config() == loss.get_config()


def test_focal_loss_rejects_bad_arguments():
    with pytest.raises(ValueError, match="alpha"):
        detection.SigmoidFocalLoss(alpha=1.5)
    with pytest.raises(ValueError, match="gamma"):
        detection.SigmoidFocalLoss(gamma=-1)
