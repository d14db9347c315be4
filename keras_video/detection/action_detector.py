"""AVA-style action detectors: a clip backbone and the RoI action head.

```
{"clip":  (b, T, H, W, 3)} ─ backbone (include_top=False) ─ [features_i]
{"boxes": (b, N, 4)} ──────────────────────────────────────────┐
        ─ RoI head (ava_head.apply_roi_head) ─ (b, N, num_classes) scores
```

Boxes are person boxes `(x1, y1, x2, y2)` in pixels of the clip's frames
(not normalised; multiply AVA's normalised boxes by the frame width and
height), the same for every frame of the clip (AVA labels the keyframe).
Rows with `x2 <= x1` or `y2 <= y1` (e.g. all `-1`) are padding: their scores
are 0. The scores are sigmoid probabilities by default
(`classifier_activation="sigmoid"`, as PySlowFast's AVA head); train them with
`keras.losses.BinaryCrossentropy()` on multi-hot labels `(b, N, num_classes)`.
"""

import math

import keras

from keras_video.applications.slowfast import SlowFast
from keras_video.detection.ava_head import apply_roi_head


def _check_num_classes(num_classes, name):
    if (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, int)
        or num_classes < 1
    ):
        raise ValueError(
            f"{name}: `num_classes` must be a positive integer. "
            f"Received: num_classes={num_classes!r}"
        )


def feature_scales(backbone, features, name="ActionDetector"):
    """Each feature map's scale, `1 / stride`, from the input and map sizes.

    The stride is `input / map` along height and width; it must be the same
    power of two along both (a network's stride when the input divides by
    it; otherwise the map is rounded and the ratio is not the stride), from
    a map of more than one cell.
    """
    height, width = backbone.inputs[0].shape[2:4]
    scales = []
    for x in features:
        map_height, map_width = x.shape[2:4]
        if None in (height, width, map_height, map_width):
            raise ValueError(
                f"{name}: RoIAlign needs a backbone of known frame size. "
                f"Received: input_shape={backbone.inputs[0].shape}, "
                f"features_shape={x.shape}"
            )
        stride = height / map_height
        if (
            stride != width / map_width
            or stride < 1
            or stride != 2 ** round(math.log2(stride))
            or map_height * map_width == 1
        ):
            raise ValueError(
                f"{name}: cannot read the feature stride from frames "
                f"{height}x{width} and maps {map_height}x{map_width} (give frames "
                "that divide by the stride, or `spatial_scale`). Received: "
                f"features_shape={x.shape}"
            )
        scales.append(1.0 / stride)
    return scales


def ActionDetector(
    backbone,
    num_classes=80,
    max_boxes=None,
    spatial_scale=None,
    output_size=7,
    sampling_ratio=0,
    aligned=True,
    dropout_rate=0.5,
    classifier_activation="sigmoid",
    name="action_detector",
):
    """An AVA-style action detector on any clip backbone of the zoo.

    Every last feature map of `backbone` (one for I3D, R3D or Slow; `[slow,
    fast]` for SlowFast) is averaged over time, each box is pooled from it
    with `RoIAlign` and a max over the bins, the pathways are concatenated,
    and a dense layer gives one score per action (PySlowFast's
    `ResNetRoIHead`).

    Args:
        backbone: a `keras.Model` built with `include_top=False,
            pooling=None` and a known frame size, whose outputs are 5D
            `(batch, T_i, h_i, w_i, C_i)` feature maps. It is nested in the
            detector as one layer, under its own name.
        num_classes: number of actions (80 for AVA v2.x's evaluated set, 60
            in its official evaluation).
        max_boxes: boxes per clip `N`, or `None` for any number.
        spatial_scale: feature cells per input pixel, one float or one per
            backbone output; `None` reads it from the input and map sizes
            (1/32 for the zoo's ResNets, 1/16 with a dilated res5).
        output_size: RoIAlign bins per box (7).
        sampling_ratio: RoIAlign samples per bin and axis; `<= 0` (default)
            is torchvision's adaptive `ceil(box / output_size)`, PySlowFast's.
        aligned: RoIAlign's -0.5 pixel shift (PySlowFast: `True`).
        dropout_rate: dropout before the classifier (0.5 in PySlowFast).
        classifier_activation: `"sigmoid"` (default: probabilities), `None`
            (logits) or another activation name; computed in float32.
        name: the model name.

    Input shape:
        a dict: `"clip"` `(batch, T, H, W, 3)` as `backbone` takes it, and
        `"boxes"` `(batch, N, 4)` float boxes `(x1, y1, x2, y2)` in pixels of
        the `H x W` frames; rows with `x2 <= x1` or `y2 <= y1` are padding.

    Output shape:
        `(batch, N, num_classes)` float32 scores; 0 on padded rows.

    Example:

    ```python
    import numpy as np
    from keras_video import applications, detection

    backbone = applications.R3D(include_top=False, depth=18, base_filters=8,
                                input_shape=(4, 64, 64, 3))
    model = detection.ActionDetector(backbone, num_classes=5)
    boxes = np.array([[[4, 8, 40, 60], [-1, -1, -1, -1]]], "float32")
    scores = model.predict({"clip": np.zeros((1, 4, 64, 64, 3)), "boxes": boxes})
    scores.shape  # (1, 2, 5); scores[0, 1] == 0
    ```

    Reference:
        Feichtenhofer et al., "SlowFast Networks for Video Recognition",
        ICCV 2019 (sec. 5, AVA); PySlowFast `slowfast/models/head_helper.py`
        (`ResNetRoIHead`).
    """
    _check_num_classes(num_classes, name)
    if not isinstance(backbone, keras.Model) or len(backbone.inputs) != 1:
        raise ValueError(
            f"{name}: `backbone` must be a keras.Model with one clip input. "
            f"Received: backbone={backbone!r}"
        )
    clip = keras.Input(backbone.inputs[0].shape[1:], name="clip")
    boxes = keras.Input((max_boxes, 4), name="boxes")
    features = backbone(clip)
    features = list(features) if isinstance(features, (list, tuple)) else [features]
    for x in features:
        if len(x.shape) != 5:
            raise ValueError(
                f"{name}: the backbone must give 5D feature maps (build it with "
                "include_top=False, pooling=None). Received: "
                f"output shapes {[tuple(f.shape) for f in features]}"
            )
    if spatial_scale is None:
        scales = feature_scales(backbone, features, name)
    elif isinstance(spatial_scale, (list, tuple)):
        scales = [float(s) for s in spatial_scale]
    else:
        scales = [float(spatial_scale)] * len(features)
    scores = apply_roi_head(
        features,
        boxes,
        num_classes,
        scales,
        output_size=output_size,
        sampling_ratio=sampling_ratio,
        aligned=aligned,
        dropout_rate=dropout_rate,
        classifier_activation=classifier_activation,
    )
    return keras.Model({"clip": clip, "boxes": boxes}, scores, name=name)


def SlowFastDetector(
    num_classes=80,
    input_shape=None,
    max_boxes=None,
    weights=None,
    backbone_weights=None,
    classifier_activation="sigmoid",
    name="slowfast_detector",
    *,
    output_size=7,
    sampling_ratio=0,
    aligned=True,
    dropout_rate=0.5,
    res5_dilation=None,
    **backbone_kwargs,
):
    """SlowFast with PySlowFast's AVA RoI head: `ActionDetector` on `SlowFast`.

    By default the backbone is PySlowFast's AVA one: res5 with spatial
    stride 1 and its 3x3 convolutions dilated by 2, so the features are at
    1/16 of the frames (14x14 for 224x224) and RoIAlign takes
    `spatial_scale=1/16`.

    Args:
        num_classes: number of actions.
        input_shape: the fast clip, `(T_fast, H, W, 3)`; defaults to
            `(32, 224, 224, 3)`. `H` and `W` must divide by the network's
            stride (16 by default, with the dilated res5; 32 without).
        max_boxes: boxes per clip `N`, or `None` for any number.
        weights: `None` or the path of a `.weights.h5` file of this detector.
        backbone_weights: `weights` of the `SlowFast` backbone (a preset or a
            path); the head starts random.
        classifier_activation: `"sigmoid"` (default: probabilities) or `None`
            (logits).
        name: the model name.
        output_size, sampling_ratio, aligned, dropout_rate: the head's, see
            `ActionDetector`.
        res5_dilation: `SlowFast`'s; `None` (default) is 2 (PySlowFast's
            AVA setting) when the backbone has the four bottleneck stages
            res2-res5, else 1 (smaller configs keep their stride).
        **backbone_kwargs: `SlowFast`'s architecture arguments (`depth`,
            `tau`, `alpha`, `beta`, `base_filters`, `stage_blocks`, `stem`,
            `block`, ...).

    Input shape:
        `{"clip": (batch, T_fast, H, W, 3), "boxes": (batch, N, 4)}`, boxes
        `(x1, y1, x2, y2)` in pixels of the frames.

    Output shape:
        `(batch, N, num_classes)`.

    Example:

    ```python
    from keras_video import detection

    model = detection.SlowFastDetector(
        num_classes=3, input_shape=(8, 32, 32, 3), base_filters=8,
        stage_blocks=(1, 1, 1), stem="small", alpha=4, beta=1 / 4,
    )  # 8x8 maps: spatial scale 1/4
    ```
    """
    _check_num_classes(num_classes, name)
    if res5_dilation is None:
        stages = len(backbone_kwargs.get("stage_blocks") or "1234")
        bottleneck = backbone_kwargs.get("block", "bottleneck") == "bottleneck"
        res5_dilation = 2 if stages == 4 and bottleneck else 1
    backbone = SlowFast(
        include_top=False,
        weights=backbone_weights,
        input_shape=input_shape,
        pooling=None,
        res5_dilation=res5_dilation,
        **backbone_kwargs,
    )
    model = ActionDetector(
        backbone,
        num_classes,
        max_boxes=max_boxes,
        output_size=output_size,
        sampling_ratio=sampling_ratio,
        aligned=aligned,
        dropout_rate=dropout_rate,
        classifier_activation=classifier_activation,
        name=name,
    )
    if weights is not None:
        model.load_weights(weights)
    return model
