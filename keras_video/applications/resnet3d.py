"""Video ResNets of torchvision: R3D, MC3 and R(2+1)D.

The networks follow `torchvision.models.video.resnet` layer for layer: same
stems, blocks, strides, channel counts, symmetric (PyTorch) padding, no bias in
convolutions and batch norm with epsilon 1e-5, so the trainable parameters of
`R3D(depth=18)`, `MC3(depth=18)` and `R2Plus1D(depth=18)` at 400 classes equal
torchvision's `r3d_18`, `mc3_18` and `r2plus1d_18` one for one, and their
weights can be converted tensor by tensor.

```
clip (T, H, W, 3)
  -> stem: Conv (3, 7, 7) stride (1, 2, 2), 64 ch  [R(2+1)D: (1,7,7) 45 ch, (3,1,1)]
  -> conv2_x: blocks, 64 ch, stride 1
  -> conv3_x: blocks, 128 ch, stride 2 (MC3: (1, 2, 2))
  -> conv4_x: blocks, 256 ch, stride 2 (MC3: (1, 2, 2))
  -> conv5_x: blocks, 512 ch, stride 2 (MC3: (1, 2, 2))
  -> global average pool -> predictions
```

Layer names follow `keras.applications.ResNet50` (`conv1_conv`,
`conv2_block1_1_conv`, ..., `predictions`); torchvision's `stem` is `conv1`
and its `layer1` ... `layer4` are `conv2` ... `conv5`.

Pretrained: `weights="kinetics400"` loads torchvision's KINETICS400_V1 weights
of `r3d_18`, `mc3_18` and `r2plus1d_18`, converted once with
`keras-video weights convert r3d_18` (`mc3_18`, `r2plus1d_18`; see
`convert_torchvision.py`). They take clips as torchvision trained them
(`KINETICS400_DATA_CONFIG`, `preprocess_input`). At other widths
(`base_filters`) the R(2+1)D stem's middle width is `45 * base_filters // 64`
(torchvision fixes it at 45 for its 64).

Reference:
    Tran et al., "A Closer Look at Spatiotemporal Convolutions for Action
    Recognition", CVPR 2018. https://arxiv.org/abs/1711.11248
"""

import keras

from keras_video.applications import common, pretrained
from keras_video.applications import weights as weights_lib

BN_EPSILON = 1e-5  # torch.nn.BatchNorm3d
BN_MOMENTUM = 0.9  # torch momentum 0.1

# The data settings of torchvision's KINETICS400_V1 weights: the reference
# recipe (references/video_classification: 16-frame clips of the videos
# resampled to 15 fps; evaluation 5 clips per video, 1 centre crop) and the
# weights' transforms, `VideoClassification(crop_size=(112, 112),
# resize_size=(128, 171))`: frames resized to 128x171 (height x width, bilinear),
# centre crop 112x112, values in [0, 1] normalised by `mean` and `std`.
# `frame_step` 2 is 15 fps on Kinetics' 30 fps videos; `short_side` 128 is the
# pipeline's aspect-keeping resize, equal to 128x171 for 4:3 frames.
KINETICS400_DATA_CONFIG = {
    "num_frames": 16,
    "frame_step": 2,
    "target_fps": 15.0,
    "crop_size": 112,
    "short_side": 128,
    "resize_size": (128, 171),
    "mean": (0.43216, 0.394666, 0.37645),
    "std": (0.22803, 0.22145, 0.216989),
    "value_range": (0.0, 1.0),
    "num_clips": 5,
    "num_crops": 1,
    "labels": "kinetics400",
}

# depth -> (block type, blocks per stage)
DEPTHS = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
}


def _batch_norm(x, name):
    return keras.layers.BatchNormalization(
        epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name
    )(x)


def mid_filters(in_filters, filters):
    """torchvision's R(2+1)D mid channels, `27 Nin Nout // (9 Nin + 3 Nout)`.

    As in torchvision's blocks, both (2+1)D convolutions of a block use the
    count computed from the block's input and output channels.
    """
    return (in_filters * filters * 27) // (in_filters * 9 + 3 * filters)


def apply_conv(x, filters, stride, conv_type, mid, name):
    """The 3x3x3-like convolution of a block: `3d`, `2d` or `2plus1d`.

    `3d` is Conv (3, 3, 3) with stride `stride` in time and space; `2d` is
    Conv (1, 3, 3) with stride `(1, stride, stride)`; `2plus1d` is Conv
    (1, 3, 3) (`mid` channels) -> BN -> ReLU -> Conv (3, 1, 1), the spatial
    stride in the first, the temporal one in the second (`name_s`, `name_t`).
    """
    if conv_type == "3d":
        return common.conv3d_torch_padding(x, filters, (3, 3, 3), (stride,) * 3, name)
    if conv_type == "2d":
        return common.conv3d_torch_padding(
            x, filters, (1, 3, 3), (1, stride, stride), name
        )
    x = common.conv3d_torch_padding(x, mid, (1, 3, 3), (1, stride, stride), f"{name}_s")
    x = _batch_norm(x, f"{name}_s_bn")
    x = keras.layers.Activation("relu", name=f"{name}_s_relu")(x)
    return common.conv3d_torch_padding(
        x, filters, (3, 1, 1), (stride, 1, 1), f"{name}_t"
    )


def _shortcut(x, filters, stride, conv_type, name):
    in_filters = x.shape[-1]
    if stride == 1 and in_filters == filters:
        return x
    strides = (1, stride, stride) if conv_type == "2d" else (stride,) * 3
    x = common.conv3d_torch_padding(x, filters, (1, 1, 1), strides, f"{name}_0_conv")
    return _batch_norm(x, f"{name}_0_bn")


def basic_block(x, filters, stride, conv_type, name):
    """torchvision's `BasicBlock`: two convolutions and a residual."""
    mid = mid_filters(x.shape[-1], filters)
    shortcut = _shortcut(x, filters, stride, conv_type, name)
    x = apply_conv(x, filters, stride, conv_type, mid, f"{name}_1_conv")
    x = _batch_norm(x, f"{name}_1_bn")
    x = keras.layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = apply_conv(x, filters, 1, conv_type, mid, f"{name}_2_conv")
    x = _batch_norm(x, f"{name}_2_bn")
    x = keras.layers.Add(name=f"{name}_add")([shortcut, x])
    return keras.layers.Activation("relu", name=f"{name}_out")(x)


def bottleneck_block(x, filters, stride, conv_type, name):
    """torchvision's `Bottleneck`: 1x1x1, 3x3x3 (strided), 1x1x1 (4x wider)."""
    mid = mid_filters(x.shape[-1], filters)
    shortcut = _shortcut(x, 4 * filters, stride, conv_type, name)
    x = common.conv3d_torch_padding(x, filters, (1, 1, 1), (1, 1, 1), f"{name}_1_conv")
    x = _batch_norm(x, f"{name}_1_bn")
    x = keras.layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = apply_conv(x, filters, stride, conv_type, mid, f"{name}_2_conv")
    x = _batch_norm(x, f"{name}_2_bn")
    x = keras.layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = common.conv3d_torch_padding(
        x, 4 * filters, (1, 1, 1), (1, 1, 1), f"{name}_3_conv"
    )
    x = _batch_norm(x, f"{name}_3_bn")
    x = keras.layers.Add(name=f"{name}_add")([shortcut, x])
    return keras.layers.Activation("relu", name=f"{name}_out")(x)


def stem(x, filters, conv_type):
    """`conv1`: (3, 7, 7) conv, or for R(2+1)D (1, 7, 7) 45 ch then (3, 1, 1)."""
    if conv_type == "2plus1d":
        mid = (45 * filters) // 64
        x = common.conv3d_torch_padding(x, mid, (1, 7, 7), (1, 2, 2), "conv1_s")
        x = _batch_norm(x, "conv1_s_bn")
        x = keras.layers.Activation("relu", name="conv1_s_relu")(x)
        x = common.conv3d_torch_padding(x, filters, (3, 1, 1), (1, 1, 1), "conv1_conv")
    else:
        x = common.conv3d_torch_padding(x, filters, (3, 7, 7), (1, 2, 2), "conv1_conv")
    x = _batch_norm(x, "conv1_bn")
    return keras.layers.Activation("relu", name="conv1_relu")(x)


def VideoResNet(
    conv_types,
    depth,
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=400,
    classifier_activation="softmax",
    name="video_resnet",
    base_filters=64,
    stem_type=None,
    weights_name=None,
):
    """Builds a torchvision-style video ResNet (the public variants call this).

    Args:
        conv_types: four strings, the block convolution of `conv2` ... `conv5`:
            `"3d"`, `"2d"` (no temporal extent) or `"2plus1d"`.
        depth: 18, 34 or 50.
        base_filters: channels of the stem and of `conv2`; later stages double
            it. 64 is the published network; 8 or 16 make a small test model.
        stem_type: `"3d"` or `"2plus1d"`; defaults to `conv_types[0]`.
        weights_name: the architecture's key in `common.PRESETS`
            (`"r3d_18"`, ...); defaults to `name`.
        (the other arguments are those of `keras.applications.ResNet50`.)
    """
    common.check_depth_and_width(depth, DEPTHS, base_filters, name)
    common.check_top_arguments(include_top, weights, classes, pooling, name)
    family = weights_name or name
    weights_lib.check_weights(weights, family)
    pretrained.check_preset_classes(weights, include_top, classes, family, name)
    inputs, x = common.clip_input(
        input_shape, input_tensor, (16, 112, 112, 3), min_size=16, name=name
    )
    block_type, blocks = DEPTHS[depth]
    block_fn = basic_block if block_type == "basic" else bottleneck_block

    stem_type = stem_type or ("2plus1d" if conv_types[0] == "2plus1d" else "3d")
    x = stem(x, base_filters, stem_type)
    for stage, (num_blocks, conv_type) in enumerate(
        zip(blocks, conv_types, strict=True)
    ):
        filters = base_filters * 2**stage
        for block in range(num_blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            x = block_fn(
                x, filters, stride, conv_type, name=f"conv{stage + 2}_block{block + 1}"
            )

    if include_top:
        x = keras.layers.GlobalAveragePooling3D(name="avg_pool")(x)
        x = common.classifier(x, classes, classifier_activation)
    else:
        x = common.pool_features(x, pooling)
    model = keras.Model(inputs, x, name=name)
    return weights_lib.load_weights(model, weights, family)


def preprocess_input(x):
    """RGB frames in `[0, 255]` to the input of the Kinetics-400 presets.

    As torchvision's `VideoClassification` transform: `x / 255`, then minus
    `KINETICS400_DATA_CONFIG["mean"]`, divided by its `std`, per channel
    (resizing and cropping are the data pipeline's).

    Args:
        x: array or tensor `(..., 3)` of RGB values in `[0, 255]`.

    Returns:
        `float32` tensor of the same shape.
    """
    mean = keras.ops.convert_to_tensor(KINETICS400_DATA_CONFIG["mean"], "float32")
    std = keras.ops.convert_to_tensor(KINETICS400_DATA_CONFIG["std"], "float32")
    x = keras.ops.cast(x, "float32") / 255.0
    return (x - mean) / std


def R3D(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=400,
    classifier_activation="softmax",
    name=None,
    *,
    depth=18,
    base_filters=64,
):
    """Instantiates R3D, the 3D ResNet of torchvision (`r3d_18`).

    Every block convolution is (3, 3, 3); `conv3` to `conv5` stride 2 in time
    and space. Depth 34 uses the same basic blocks, depth 50 bottleneck blocks
    (torchvision's `Bottleneck` with `Conv3DSimple`).

    Args:
        include_top: whether to include the classification layer
            (`predictions`) after global average pooling.
        weights: `None` (random initialization), `"kinetics400"`
            (torchvision's Kinetics-400 weights of depth 18, converted once
            with `keras-video weights convert r3d_18`; needs the default
            `base_filters` and, with the head, `classes=400`) or the path to a
            `.weights.h5` file.
        input_tensor: optional Keras tensor to use as the clip input.
        input_shape: `(frames, height, width, channels)`; defaults to
            `(16, 112, 112, 3)`. Frames, height and width may be `None`;
            height and width must be at least 16.
        pooling: with `include_top=False`: `None` (5D features), `"avg"` or
            `"max"` (global pooling over time and space).
        classes: number of classes when `include_top=True`.
        classifier_activation: activation of `predictions`; `None` for logits.
        name: model name; defaults to `"r3d_<depth>"`.
        depth: 18, 34 or 50.
        base_filters: channels of the stem and of `conv2` (64 in the paper);
            later stages double it. Small values make small models.

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, classes)` with `include_top=True`. Otherwise
        `(batch, ceil(frames / 8), ceil(height / 16), ceil(width / 16), C)` with
        `C = 8 * base_filters` (`32 * base_filters` at depth 50), or
        `(batch, C)` with `pooling`.

    Example:

    ```python
    import numpy as np
    from keras_video.applications import R3D

    model = R3D(depth=18, base_filters=8, classes=5, input_shape=(8, 32, 32, 3))
    model.predict(np.zeros((1, 8, 32, 32, 3)), verbose=0).shape  # (1, 5)
    ```

    Reference:
        Tran et al., "A Closer Look at Spatiotemporal Convolutions for Action
        Recognition", CVPR 2018. https://arxiv.org/abs/1711.11248
    """
    return VideoResNet(
        ("3d",) * 4,
        depth,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        name=name or f"r3d_{depth}",
        weights_name=f"r3d_{depth}",
        base_filters=base_filters,
    )


def MC3(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=400,
    classifier_activation="softmax",
    name=None,
    *,
    depth=18,
    base_filters=64,
):
    """Instantiates MC3, the mixed-convolution ResNet of torchvision (`mc3_18`).

    The stem and `conv2` use (3, 3, 3) convolutions; `conv3` to `conv5` use
    (1, 3, 3) convolutions that stride only in space, so time is never
    downsampled.

    Args:
        include_top: whether to include the classification layer
            (`predictions`) after global average pooling.
        weights: `None` (random initialization), `"kinetics400"`
            (torchvision's Kinetics-400 weights of depth 18, converted once
            with `keras-video weights convert mc3_18`; needs the default
            `base_filters` and, with the head, `classes=400`) or the path to a
            `.weights.h5` file.
        input_tensor: optional Keras tensor to use as the clip input.
        input_shape: `(frames, height, width, channels)`; defaults to
            `(16, 112, 112, 3)`. Frames, height and width may be `None`;
            height and width must be at least 16.
        pooling: with `include_top=False`: `None` (5D features), `"avg"` or
            `"max"` (global pooling over time and space).
        classes: number of classes when `include_top=True`.
        classifier_activation: activation of `predictions`; `None` for logits.
        name: model name; defaults to `"mc3_18"`.
        depth: 18 (the only published depth).
        base_filters: channels of the stem and of `conv2` (64 in the paper);
            later stages double it. Small values make small models.

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, classes)` with `include_top=True`. Otherwise
        `(batch, frames, ceil(height / 16), ceil(width / 16), 8 * base_filters)`,
        or `(batch, 8 * base_filters)` with `pooling`.

    Example:

    ```python
    import numpy as np
    from keras_video.applications import MC3

    model = MC3(base_filters=8, classes=5, input_shape=(8, 32, 32, 3))
    model.predict(np.zeros((1, 8, 32, 32, 3)), verbose=0).shape  # (1, 5)
    ```

    Reference:
        Tran et al., "A Closer Look at Spatiotemporal Convolutions for Action
        Recognition", CVPR 2018. https://arxiv.org/abs/1711.11248
    """
    if depth != 18:
        raise ValueError(f"MC3: `depth` must be 18. Received: depth={depth!r}")
    return VideoResNet(
        ("3d", "2d", "2d", "2d"),
        depth,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        name=name or f"mc3_{depth}",
        weights_name=f"mc3_{depth}",
        base_filters=base_filters,
    )


def R2Plus1D(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=400,
    classifier_activation="softmax",
    name=None,
    *,
    depth=18,
    base_filters=64,
):
    """Instantiates R(2+1)D, the factorised video ResNet of torchvision (`r2plus1d_18`).

    Every (3, 3, 3) convolution is split into a (1, 3, 3) spatial convolution
    with `M` channels, batch norm, ReLU and a (3, 1, 1) temporal convolution;
    `M = 27 Nin Nout // (9 Nin + 3 Nout)` from the block's input and output
    channels (torchvision uses that same `M` for both convolutions of a
    block). The stem is (1, 7, 7) with 45 channels then (3, 1, 1).

    Args:
        include_top: whether to include the classification layer
            (`predictions`) after global average pooling.
        weights: `None` (random initialization), `"kinetics400"`
            (torchvision's Kinetics-400 weights of depth 18, converted once
            with `keras-video weights convert r2plus1d_18`; needs the default
            `base_filters` and, with the head, `classes=400`) or the path to a
            `.weights.h5` file.
        input_tensor: optional Keras tensor to use as the clip input.
        input_shape: `(frames, height, width, channels)`; defaults to
            `(16, 112, 112, 3)`. Frames, height and width may be `None`;
            height and width must be at least 16.
        pooling: with `include_top=False`: `None` (5D features), `"avg"` or
            `"max"` (global pooling over time and space).
        classes: number of classes when `include_top=True`.
        classifier_activation: activation of `predictions`; `None` for logits.
        name: model name; defaults to `"r2plus1d_<depth>"`.
        depth: 18 or 34.
        base_filters: channels of the stem and of `conv2` (64 in the paper;
            the stem's middle width is `45 * base_filters // 64`); later stages
            double it. Small values make small models.

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, classes)` with `include_top=True`. Otherwise
        `(batch, ceil(frames / 8), ceil(height / 16), ceil(width / 16), C)` with
        `C = 8 * base_filters`,
        or `(batch, 8 * base_filters)` with `pooling`.

    Example:

    ```python
    import numpy as np
    from keras_video.applications import R2Plus1D

    model = R2Plus1D(base_filters=8, classes=5, input_shape=(8, 32, 32, 3))
    model.predict(np.zeros((1, 8, 32, 32, 3)), verbose=0).shape  # (1, 5)
    ```

    Reference:
        Tran et al., "A Closer Look at Spatiotemporal Convolutions for Action
        Recognition", CVPR 2018. https://arxiv.org/abs/1711.11248
    """
    if depth not in (18, 34):
        raise ValueError(
            f"R2Plus1D: `depth` must be 18 or 34. Received: depth={depth!r}"
        )
    return VideoResNet(
        ("2plus1d",) * 4,
        depth,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        name=name or f"r2plus1d_{depth}",
        weights_name=f"r2plus1d_{depth}",
        base_filters=base_filters,
    )
