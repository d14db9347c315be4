"""Losses of the temporal localiser: sigmoid focal loss and 1D DIoU loss.

Both are normalised by the number of positive time steps in the batch, as
ActionFormer (Zhang et al. 2022) and FCOS do, and both read which steps are
positive from `y_true` itself, so they plug into `compile(loss={...})` with
no sample weights:

- a time step is positive for `SigmoidFocalLoss` when its class target has a
  1 (`TemporalLabelEncoder` writes one-hot rows, all zeros for background);
- a time step is positive for `DIoULoss` when its distance targets are
  `>= 0` (`TemporalLabelEncoder` writes `-1` for background).

`call` returns one value per video, `(batch,)`: that video's summed loss
divided by the number of positives of the whole batch (at least 1). The
default `reduction="sum"` then gives the ActionFormer number: the batch's
summed loss over its number of positives. Under a distribution strategy that
number is per replica.
"""

import keras
from keras import ops


def _num_positives(positive):
    return ops.maximum(ops.sum(ops.cast(positive, "float32")), 1.0)


@keras.saving.register_keras_serializable(package="keras_video")
class SigmoidFocalLoss(keras.losses.Loss):
    """Sigmoid focal loss over every time step and class (Lin et al. 2017).

    `FL = -alpha_t (1 - p_t)^gamma log(p_t)` per time step and class, with
    `p = sigmoid(logit)`, `p_t = p` where the target is 1 and `1 - p`
    elsewhere, `alpha_t = alpha` on targets 1 and `1 - alpha` on 0; summed
    and divided by the number of positive time steps of the batch (a step
    with any target 1).

    Args:
        alpha: weight of the positive targets, in `[0, 1]`.
        gamma: focusing exponent, `>= 0`.
        from_logits: `True` when `y_pred` holds logits (the localiser's
            output); `False` for probabilities.
        reduction: as `keras.losses.Loss`; `"sum"` gives the normalised
            batch loss (see the module docstring).
        name: the loss name.

    Input shape:
        `y_true`, `y_pred`: `(batch, time, num_classes)`.

    Output shape:
        a scalar with the default reduction; `(batch,)` with `"none"`.

    Example:

    ```python
    import numpy as np
    from keras_video import detection

    loss = detection.SigmoidFocalLoss()
    y_true = np.array([[[1.0, 0.0], [0.0, 0.0]]])
    float(loss(y_true, np.zeros((1, 2, 2))))  # 0.625 * log(2) = 0.4332
    ```

    Reference:
        Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017.
    """

    def __init__(
        self,
        alpha=0.25,
        gamma=2.0,
        from_logits=True,
        reduction="sum",
        name="sigmoid_focal_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if not 0.0 <= float(alpha) <= 1.0:
            raise ValueError(f"`alpha` must be in [0, 1]. Received: alpha={alpha}")
        if float(gamma) < 0.0:
            raise ValueError(f"`gamma` must be >= 0. Received: gamma={gamma}")
        self.alpha = float(alpha)
        self.gamma = float(gamma)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        if self.from_logits:
            probs = ops.sigmoid(y_pred)
            cross_entropy = ops.binary_crossentropy(y_true, y_pred, from_logits=True)
        else:
            probs = y_pred
            cross_entropy = ops.binary_crossentropy(y_true, y_pred)
        p_t = y_true * probs + (1.0 - y_true) * (1.0 - probs)
        alpha_t = y_true * self.alpha + (1.0 - y_true) * (1.0 - self.alpha)
        loss = alpha_t * ops.power(1.0 - p_t, self.gamma) * cross_entropy
        positive = ops.max(y_true, axis=-1) > 0.5
        per_video = ops.sum(loss, axis=(1, 2))
        return per_video / ops.cast(_num_positives(positive), per_video.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(alpha=self.alpha, gamma=self.gamma, from_logits=self.from_logits)
        return config


@keras.saving.register_keras_serializable(package="keras_video")
class DIoULoss(keras.losses.Loss):
    """Distance-IoU loss of 1D segments given as distances from a point.

    A time step at point `t` predicts `(d_start, d_end)`, the segment
    `[t - d_start, t + d_end]`; its target is another such pair. Per
    positive step: `1 - IoU + (centre distance / enclosing length)^2`
    (Zheng et al. 2020, in 1D as ActionFormer's `ctr_diou_loss_1d`), summed
    over the positive steps (targets `>= 0`) and divided by their number.
    Steps with a negative target (background) count for nothing.

    Args:
        epsilon: added to the union and the enclosing length.
        reduction: as `keras.losses.Loss`; `"sum"` gives the normalised
            batch loss (see the module docstring).
        name: the loss name.

    Input shape:
        `y_true`, `y_pred`: `(batch, time, 2)`, non-negative distances
        (in any unit, the same for both; `y_true` is `-1` on background).

    Output shape:
        a scalar with the default reduction; `(batch,)` with `"none"`.

    Example:

    ```python
    import numpy as np
    from keras_video import detection

    # prediction [-1, 1], target [-1, 3]: IoU 1/2, centres 1 apart, hull 4
    loss = detection.DIoULoss()
    float(loss(np.array([[[1.0, 3.0]]]), np.array([[[1.0, 1.0]]])))  # 0.5625
    ```

    Reference:
        Zheng et al., "Distance-IoU Loss: Faster and Better Learning for
        Bounding Box Regression", AAAI 2020.
    """

    def __init__(self, epsilon=1e-8, reduction="sum", name="diou_loss", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.epsilon = float(epsilon)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        positive = ops.min(y_true, axis=-1) >= 0.0
        target = ops.maximum(y_true, 0.0)
        pred_start, pred_end = y_pred[..., 0], y_pred[..., 1]
        true_start, true_end = target[..., 0], target[..., 1]
        intersection = ops.maximum(
            ops.minimum(pred_start, true_start) + ops.minimum(pred_end, true_end),
            0.0,
        )
        union = pred_start + pred_end + true_start + true_end - intersection
        iou = intersection / (union + self.epsilon)
        enclosing = ops.maximum(pred_start, true_start) + ops.maximum(
            pred_end, true_end
        )
        centre_distance = 0.5 * ((pred_end - pred_start) - (true_end - true_start))
        loss = 1.0 - iou + ops.square(centre_distance / (enclosing + self.epsilon))
        loss = ops.where(positive, loss, ops.zeros_like(loss))
        per_video = ops.sum(loss, axis=1)
        return per_video / ops.cast(_num_positives(positive), per_video.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(epsilon=self.epsilon)
        return config
