"""The Slow pathway alone (SlowOnly) and PyTorchVideo's 3D ResNet, of which
it and PyTorchVideo's ResNet-50 I3D are two settings.

`PyTorchVideoResNet` builds `pytorchvideo.models.resnet.create_resnet` layer
for layer (the layout of PySlowFast's ResNets):

```
clip (T, H, W, 3)
  -> conv1: (t0, 7, 7) conv, stride (1, 2, 2), 64 ch, BN, ReLU
  -> pool1: (1, 3, 3) max pool, stride (1, 2, 2)
  -> res2: bottlenecks, 256 ch                    [-> pool2: (2, 1, 1) max pool]
  -> res3, res4, res5: bottlenecks, 512 / 1024 / 2048 ch, stride 2 in space
  -> [head pool: (t, h, w) average pool, stride 1] -> global average
  -> dropout -> predictions
```

Each bottleneck is (kt, 1, 1) -> (1, 3, 3) -> (1, 1, 1) convolutions without
bias, batch norm (epsilon 1e-5) after each, the stride on the (1, 3, 3) one
and on the 1x1x1 projection shortcut (`slowfast.bottleneck_block`); `kt`
cycles through a per-stage list, as PyTorchVideo's `stage_conv_a_kernel_size`:

| network (PyTorchVideo) | conv1 t0 | res2 | res3 | res4 | res5 | pool2 |
|---|---|---|---|---|---|---|
| `Slow` (`slow_r50`) | 1 | 1 | 1 | 3 | 3 | none |
| `I3D` (`i3d_r50`) | 5 | 3 | 3, 1 | 3, 1 | 1, 3 | (2, 1, 1) |

The I3D row is `I3D(architecture="pytorchvideo")`. It differs from `I3D`'s
default network (`keras.applications.ResNet50` inflated): that one strides
the first 1x1 of a block, has convolution biases, batch norm epsilon
1.001e-5, pools 3x3x3 with stride 2 in time after conv1 and (3, 1, 1) "same"
after res2, and pads time by repeating edge frames.
"""

import keras

from keras_video.applications import common, pretrained, slowfast
from keras_video.applications import weights as weights_lib
from keras_video.applications.slowfast import (
    bottleneck_block,
    check_pool_size,
    check_preset_architecture,
    check_res5_dilation,
    head_pool,
    preprocess_input,
    stem_block,
)

DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}
# Temporal kernels of the first convolution of each bottleneck, cycled per
# stage (PyTorchVideo's `stage_conv_a_kernel_size`).
SLOW_TIME_KERNELS = ((1,), (1,), (3,), (3,))
I3D_TIME_KERNELS = ((3,), (3, 1), (3, 1), (1, 3))

# The data settings of PyTorchVideo's `slow_r50` Kinetics-400 checkpoint
# (SLOW_8x8_R50.pyth), trained and tested with PySlowFast: 8 frames, one
# every 8 (at 30 fps), short side 256, 3 crops of 256x256 x 10 clips,
# `x / 255` normalised by mean and std 0.45 and 0.225 (PyTorchVideo's Torch
# Hub page: `side_size 256, crop_size 256, num_frames 8, sampling_rate 8`).
# PySlowFast keeps the 8 frames at linspace(0, 63, 8) of 64 consecutive
# frames (0, 9, ..., 63); the clip pipeline's step 8 gives 0, 8, ..., 56.
KINETICS400_DATA_CONFIG = dict(
    slowfast.KINETICS400_DATA_CONFIG, num_frames=8, frame_step=8
)
# The checkpoint's network: with it, `weights="kinetics400"` sets the
# defaults and refuses other values.
KINETICS400_ARCHITECTURE = {"depth": 50, "base_filters": 64}
KINETICS400_HEAD_POOL_SIZE = (8, 7, 7)


def PyTorchVideoResNet(
    stage_time_kernels,
    stem_time_kernel,
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=400,
    classifier_activation="softmax",
    name="resnet3d",
    *,
    family="slow",
    depth=50,
    base_filters=64,
    pool2_time=1,
    head_pool_size=None,
    res5_dilation=1,
    dropout_rate=0.5,
    zero_init_residual=True,
    default_shape=(8, 224, 224, 3),
):
    """Builds PyTorchVideo's `create_resnet` network (`Slow` and `I3D` call this).

    Args:
        stage_time_kernels: four tuples, the temporal kernels of the first
            convolution of the bottlenecks of res2 ... res5, cycled over the
            blocks of the stage (`((1,), (1,), (3,), (3,))` for Slow).
        stem_time_kernel: temporal kernel of conv1 (1 for Slow, 5 for I3D).
        family: the key of the network's presets in `weights.PRESETS`.
        depth: 50 or 101.
        base_filters: channels of conv1 (64); res2 ... res5 have
            `base_filters * (1, 2, 4, 8)` inner and 4 times as many output
            channels. Small values make small test models.
        pool2_time: 1 (none) or the temporal size and stride of a max pool
            after res2 (2 for PyTorchVideo's I3D, `stage1_pool`).
        head_pool_size: `None` (global average) or `(t, h, w)`: PyTorchVideo's
            head average pool (stride 1, no padding) before the global
            average (see `slowfast.head_pool`). With `include_top` or
            `pooling="avg"`.
        res5_dilation: 1, or the spatial dilation of res5's (1, 3, 3)
            convolutions, whose stride becomes 1 (PySlowFast's AVA backbone:
            2, features at 1/16 of the frame).
        dropout_rate: dropout before `predictions` (0.5).
        zero_init_residual: start the last batch norm of every block at 0.
        default_shape: the clip shape when `input_shape` is `None`; the other
            arguments are those of `keras.applications.ResNet50`.

    Returns:
        A `keras.Model`.
    """
    common.check_top_arguments(include_top, weights, classes, pooling, name)
    weights_lib.check_weights(weights, family)
    pretrained.check_preset_classes(weights, include_top, classes, family, name)
    common.check_depth_and_width(depth, DEPTHS, base_filters, name)
    check_res5_dilation(res5_dilation, 4, "bottleneck", name)
    head_pool_size = check_pool_size(head_pool_size, "head_pool_size", name)
    inputs, x = common.clip_input(
        input_shape,
        input_tensor,
        default_shape,
        min_frames=pool2_time,
        min_size=16 if res5_dilation > 1 else 32,
        name=name,
    )
    x = stem_block(x, base_filters, stem_time_kernel)
    for stage, blocks in enumerate(DEPTHS[depth]):
        kernels = stage_time_kernels[stage]
        dilation = res5_dilation if stage == 3 else 1
        for index in range(blocks):
            stride = 2 if stage > 0 and index == 0 and dilation == 1 else 1
            x = bottleneck_block(
                x,
                base_filters * 2**stage,
                stride,
                kernels[index % len(kernels)],
                f"conv{stage + 2}_block{index + 1}",
                zero_init_residual,
                dilation,
            )
        if stage == 0 and pool2_time > 1:
            x = keras.layers.MaxPooling3D(
                (pool2_time, 1, 1), strides=(pool2_time, 1, 1), name="pool2_pool"
            )(x)
    if include_top or pooling == "avg":
        x = head_pool(x, head_pool_size, "head_pool", name)
    if include_top:
        x = keras.layers.GlobalAveragePooling3D(name="avg_pool")(x)
        x = common.classifier(x, classes, classifier_activation, dropout_rate)
    else:
        x = common.pool_features(x, pooling)
    model = keras.Model(inputs, x, name=name)
    return weights_lib.load_weights(model, weights, family)


def Slow(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=400,
    classifier_activation="softmax",
    name=None,
    *,
    depth=50,
    base_filters=64,
    head_pool_size=None,
    res5_dilation=1,
    dropout_rate=0.5,
    zero_init_residual=True,
):
    """Instantiates Slow (SlowOnly), the slow pathway of SlowFast on its own.

    PyTorchVideo's `slow_r50` / PySlowFast's `SLOW_8x8_R50`: a 3D ResNet
    whose convolutions are 2D (temporal kernel 1) in conv1, res2 and res3 and
    (3, 1, 1) first convolutions in res4 and res5, with no temporal stride
    anywhere: the model sees `T` frames (8, one every 8 video frames, for
    the 8x8 network) and keeps `T` to the end. See `PyTorchVideoResNet`.

    Args:
        include_top: whether to include the head: average pooling, dropout
            and `predictions`.
        weights: `None`, a path to a `.weights.h5` file, or `"kinetics400"`:
            PyTorchVideo's Kinetics-400 `slow_r50` (74.58 top-1, 3 crops x
            10 clips), converted once with `keras-video weights convert
            slow_r50`. It needs `depth=50` and `base_filters=64`, and sets
            the defaults `input_shape=(8, 256, 256, 3)` and
            `head_pool_size=(8, 7, 7)`; clips as `KINETICS400_DATA_CONFIG`
            and `preprocess_input`.
        input_tensor: optional Keras tensor to use as the clip input.
        input_shape: `(frames, height, width, channels)`; defaults to
            `(8, 224, 224, 3)`. Height and width at least 32 (16 with
            `res5_dilation`).
        pooling: with `include_top=False`: `None` (5D features), `"avg"` or
            `"max"`.
        classes: number of classes when `include_top=True`.
        classifier_activation: activation of `predictions`; `None` for logits.
        name: model name; defaults to `"slow_r<depth>"`.
        depth: 50 or 101.
        base_filters: channels of conv1 (64); small values make small models.
        head_pool_size: `None` (global average) or `(t, h, w)`, PyTorchVideo's
            head average pool (stride 1) before the global average:
            `slow_r50` uses `(8, 7, 7)`, the global average on 8x224x224 clips
            but not on the 8x256x256 it is tested on.
        res5_dilation: 1, or 2 as PySlowFast's AVA backbones (res5 with
            spatial stride 1 and dilated (1, 3, 3) convolutions; features at
            1/16 of the frame instead of 1/32; same weights).
        dropout_rate: dropout before `predictions` (0.5).
        zero_init_residual: start the last batch norm of every block at 0.

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, classes)` with the top; else `(batch, frames, H / 32, W / 32,
        32 * base_filters)` (`H / 16` with `res5_dilation` 2), or
        `(batch, 32 * base_filters)` with `pooling`.

    Example:

    ```python
    import numpy as np
    from keras_video.applications import Slow

    model = Slow(base_filters=8, classes=5, input_shape=(4, 32, 32, 3))
    model.predict(np.zeros((1, 4, 32, 32, 3)), verbose=0).shape  # (1, 5)
    ```

    Reference:
        Feichtenhofer et al., "SlowFast Networks for Video Recognition",
        ICCV 2019 (the Slow-only baseline). https://arxiv.org/abs/1812.03982 ;
        PyTorchVideo `pytorchvideo/models/hub/resnet.py` (`slow_r50`).
    """
    given = {"depth": depth, "base_filters": base_filters}
    check_preset_architecture(weights, given, KINETICS400_ARCHITECTURE, "Slow")
    default_shape = (8, 224, 224, 3)
    if weights == "kinetics400":
        crop = KINETICS400_DATA_CONFIG["crop_size"]
        default_shape = (KINETICS400_DATA_CONFIG["num_frames"], crop, crop, 3)
        if head_pool_size is None:
            head_pool_size = KINETICS400_HEAD_POOL_SIZE
    return PyTorchVideoResNet(
        SLOW_TIME_KERNELS,
        1,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        name=name or f"slow_r{depth}",
        family="slow",
        depth=depth,
        base_filters=base_filters,
        head_pool_size=head_pool_size,
        res5_dilation=res5_dilation,
        dropout_rate=dropout_rate,
        zero_init_residual=zero_init_residual,
        default_shape=default_shape,
    )


__all__ = ["KINETICS400_DATA_CONFIG", "PyTorchVideoResNet", "Slow", "preprocess_input"]
