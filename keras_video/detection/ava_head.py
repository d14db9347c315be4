"""The RoI action head of AVA-style detectors, as PySlowFast's `ResNetRoIHead`.

```
pathway i: features (b, T_i, h, w, C_i) ─ mean over time ─ RoIAlign per box
           (spatial_scale_i, output_size) ─ max over the bins ─ (b, N, C_i)
concat over pathways (b, N, sum C_i) ─ dropout ─ Dense(num_classes)
  ─ classifier_activation (float32) ─ padded boxes' rows set to 0 ─ (b, N, K)
```

A box row with `x2 <= x1` or `y2 <= y1` (e.g. all `-1`) is padding: its
RoI features are 0 and its scores are set to 0, so it carries no gradient.
"""

import keras
from keras import layers, ops

from keras_video.layers import RoIAlign


def _check_pair(input_shape, layer, first):
    if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
        raise ValueError(
            f"{layer} is called on [{first}, boxes]. "
            f"Received: input_shape={input_shape}"
        )
    return (tuple(s) for s in input_shape)


def real_boxes(boxes):
    """`(batch, N)` bool: the rows that are boxes, not padding (`x2 > x1, y2 > y1`)."""
    return ops.logical_and(boxes[..., 2] > boxes[..., 0], boxes[..., 3] > boxes[..., 1])


@keras.saving.register_keras_serializable(package="keras_video")
class RoIFeatures(layers.Layer):
    """One pathway's feature vector per box: temporal mean, RoIAlign, spatial max.

    PySlowFast's `s{i}_tpool`, `s{i}_roi` and `s{i}_spool` of `ResNetRoIHead`
    (an `AvgPool3d` over the whole time axis, torchvision's `RoIAlign`, a
    `MaxPool2d` over the `output_size` bins).

    Args:
        output_size: RoIAlign bins per box, an int or `(out_h, out_w)`.
        spatial_scale: feature-map cells per input pixel, e.g. 1/16.
        sampling_ratio: RoIAlign samples per bin and axis; `<= 0` adaptive.
        aligned: RoIAlign's half-pixel shift (PySlowFast: `True`).

    Input shape:
        `[features, boxes]`: `(batch, T, h, w, C)` and `(batch, N, 4)` boxes
        `(x1, y1, x2, y2)` in input pixels (kept float32).

    Output shape:
        `(batch, N, C)`; 0 for padded boxes.

    Example:

    ```python
    import numpy as np
    from keras_video.detection.ava_head import RoIFeatures

    features = np.random.rand(1, 4, 14, 14, 32).astype("float32")
    boxes = np.array([[[16, 16, 112, 200], [-1, -1, -1, -1]]], "float32")
    RoIFeatures(7, spatial_scale=1 / 16)([features, boxes]).shape  # (1, 2, 32)
    ```
    """

    def __init__(
        self,
        output_size=7,
        spatial_scale=1 / 16,
        sampling_ratio=0,
        aligned=True,
        **kwargs,
    ):
        kwargs["autocast"] = False  # boxes stay float32 under mixed precision
        super().__init__(**kwargs)
        self.roi_align = RoIAlign(
            output_size,
            spatial_scale,
            sampling_ratio,
            aligned,
            dtype=self.dtype_policy,
            name="roi_align",
        )
        self.output_size = self.roi_align.output_size
        self.spatial_scale = self.roi_align.spatial_scale
        self.sampling_ratio = self.roi_align.sampling_ratio
        self.aligned = self.roi_align.aligned

    def build(self, input_shape):
        features_shape, boxes_shape = _check_pair(
            input_shape, "RoIFeatures", "features"
        )
        if len(features_shape) != 5:
            raise ValueError(
                "RoIFeatures expects features (batch, frames, height, width, "
                f"channels). Received: features_shape={features_shape}"
            )
        self.roi_align.build([features_shape[:1] + features_shape[2:], boxes_shape])

    def call(self, inputs):
        features, boxes = inputs
        x = ops.mean(ops.cast(features, self.compute_dtype), axis=1)
        x = self.roi_align([x, boxes])
        # One extra zero box: ops.max refuses empty tensors (N = 0) on
        # TensorFlow and PyTorch even when the reduced axes are not empty.
        x = ops.pad(x, [(0, 0), (0, 1), (0, 0), (0, 0), (0, 0)])
        return ops.max(x, axis=(2, 3))[:, :-1]

    def compute_output_shape(self, input_shape):
        features_shape, boxes_shape = (tuple(s) for s in input_shape)
        return (features_shape[0], boxes_shape[1], features_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "output_size": self.output_size,
                "spatial_scale": self.spatial_scale,
                "sampling_ratio": self.sampling_ratio,
                "aligned": self.aligned,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_video")
class MaskPaddedBoxes(layers.Layer):
    """Sets the scores of padded box rows (`x2 <= x1` or `y2 <= y1`) to 0.

    Input shape:
        `[scores, boxes]`: `(batch, N, K)` and `(batch, N, 4)`.

    Output shape:
        `(batch, N, K)` in the layer's compute dtype.

    Example:

    ```python
    import numpy as np
    from keras_video.detection.ava_head import MaskPaddedBoxes

    scores = np.full((1, 2, 3), 0.5, "float32")
    boxes = np.array([[[0, 0, 8, 8], [-1, -1, -1, -1]]], "float32")
    MaskPaddedBoxes()([scores, boxes])  # row 1 is all 0
    ```
    """

    def __init__(self, **kwargs):
        kwargs["autocast"] = False  # boxes stay float32 under mixed precision
        super().__init__(**kwargs)

    def build(self, input_shape):
        scores_shape, boxes_shape = _check_pair(
            input_shape, "MaskPaddedBoxes", "scores"
        )
        if len(scores_shape) != 3 or len(boxes_shape) != 3 or boxes_shape[-1] != 4:
            raise ValueError(
                "MaskPaddedBoxes expects scores (batch, N, K) and boxes (batch, N, 4). "
                f"Received: scores_shape={scores_shape}, boxes_shape={boxes_shape}"
            )

    def call(self, inputs):
        scores, boxes = inputs
        scores = ops.cast(scores, self.compute_dtype)
        real = real_boxes(ops.cast(boxes, "float32"))[..., None]
        return ops.where(real, scores, ops.zeros_like(scores))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


def apply_roi_head(
    features,
    boxes,
    num_classes,
    spatial_scales,
    output_size=7,
    sampling_ratio=0,
    aligned=True,
    dropout_rate=0.5,
    classifier_activation="sigmoid",
    name="roi_head",
):
    """PySlowFast's `ResNetRoIHead` on symbolic tensors: `features` -> scores.

    Args:
        features: list of pathway features, each `(batch, T_i, h_i, w_i, C_i)`
            (one for I3D / R3D / Slow, `[slow, fast]` for SlowFast).
        boxes: `(batch, N, 4)` boxes `(x1, y1, x2, y2)` in input pixels.
        num_classes: number of actions, one sigmoid each.
        spatial_scales: one feature-map scale per pathway (1/16, 1/32).
        output_size: RoIAlign bins per box (7 in PySlowFast).
        sampling_ratio: RoIAlign samples per bin; `<= 0` adaptive (PySlowFast).
        aligned: RoIAlign's half-pixel shift (PySlowFast: `True`).
        dropout_rate: dropout before the classifier (0.5 in PySlowFast).
        classifier_activation: `"sigmoid"` (probabilities), `None` (logits) or
            any activation name; computed in float32.
        name: prefix of the head's layer names; the dense layer is
            `"predictions"`, as in the applications.

    Returns:
        `(batch, N, num_classes)` scores, 0 on padded box rows.
    """
    if len(spatial_scales) != len(features):
        raise ValueError(
            "apply_roi_head needs one spatial scale per pathway. Received: "
            f"spatial_scales={spatial_scales} for {len(features)} pathways"
        )
    pooled = [
        RoIFeatures(
            output_size, scale, sampling_ratio, aligned, name=f"{name}_s{index}_roi"
        )([x, boxes])
        for index, (x, scale) in enumerate(zip(features, spatial_scales, strict=True))
    ]
    x = (
        layers.Concatenate(axis=-1, name=f"{name}_concat")(pooled)
        if len(pooled) > 1
        else pooled[0]
    )
    if dropout_rate:
        x = layers.Dropout(dropout_rate, name=f"{name}_dropout")(x)
    x = layers.Dense(num_classes, name="predictions")(x)
    x = layers.Activation(
        classifier_activation or "linear", dtype="float32", name=f"{name}_activation"
    )(x)
    return MaskPaddedBoxes(dtype="float32", name=f"{name}_box_mask")([x, boxes])
