"""SlowFast networks (Feichtenhofer et al. 2019), as PySlowFast's R50 / R101.

The model takes ONE clip, the fast pathway's frames: `(T_fast, H, W, 3)`, e.g.
32 frames sampled every 2 frames of the video (PySlowFast's `NUM_FRAMES: 32`,
`SAMPLING_RATE: 2`). Inside the model the slow pathway keeps every `alpha`-th
of those frames (a `MaxPooling3D` of size 1 and temporal stride `alpha`: a core
Keras layer, so the model saves and loads with `safe_mode=True`). The slow
pathway therefore sees `ceil(T_fast / alpha)` frames, one every `tau` frames of
the video with `tau = alpha * 2` for that sampling: SlowFast 4x16 is `tau=16`,
`alpha=8`; SlowFast 8x8 is `tau=8`, `alpha=4`.

```
clip (T, H, W, 3)
  ├─ every alpha-th frame ─ slow stem (1,7,7) 64 ─ pool ─ +fuse ─ res2 ─ +fuse ─ ...
  └─ fast stem (5,7,7) 8 ─ pool ────────────────────────┴─ res2 ──────┴─ ...
  ... res3 ─ +fuse ─ res4 ─ +fuse ─ res5 ─ avg pool ─┐
  ... res3 ───┴──── res4 ───┴──── res5 ─ avg pool ─ concat ─ dropout ─ predictions
```

Slow pathway: temporal kernel 1 in the stem, res2 and res3 ("2D" there), 3 in
res4 and res5. Fast pathway: beta = 1/8 of the channels, temporal kernel 5 in
the stem and 3 everywhere else. Each fuse is a `SlowFastLateral`: a
(fusion_kernel, 1, 1) convolution with temporal stride alpha and 2 * fast
channels, batch norm and ReLU, concatenated to the slow features.
"""

import keras

from keras_video.applications import common, pretrained
from keras_video.applications import weights as weights_lib
from keras_video.layers import SlowFastLateral, UniformTemporalSubsample

BN_EPSILON = 1e-5
BN_MOMENTUM = 0.9
DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}
SLOW_TIME_KERNELS = (1, 1, 1, 3, 3)  # stem, res2, res3, res4, res5
FAST_TIME_KERNELS = (5, 3, 3, 3, 3)
# PySlowFast's configs: SLOWFAST_4x16_R50 (alpha 8) and SLOWFAST_8x8_R50 (alpha 4).
FUSION_KERNELS = {8: 5, 4: 7}
STEMS = ("resnet", "small", None)
BLOCKS = ("bottleneck", "plain")
SLOW_SAMPLINGS = ("stride", "linspace")

# PyTorchVideo's and PySlowFast's input normalisation: RGB / 255, minus the
# mean, divided by the std (`DATA.MEAN`, `DATA.STD`).
PYTORCHVIDEO_MEAN = (0.45, 0.45, 0.45)
PYTORCHVIDEO_STD = (0.225, 0.225, 0.225)

# The data settings of PyTorchVideo's `slowfast_r50` Kinetics-400 checkpoint
# (SLOWFAST_8x8_R50.pyth), trained and tested with PySlowFast: 32 frames, one
# every 2 (at 30 fps), of which the slow pathway takes 8; short side 256, 3
# crops of 256x256 x 10 clips; `x / 255` normalised by `mean` and `std`
# (PyTorchVideo's Torch Hub tutorial: `side_size 256, crop_size 256,
# num_frames 32, sampling_rate 2, alpha 4`). PySlowFast keeps the 32 frames
# at linspace(0, 63, 32) of 64 consecutive frames: every 2nd, but 63 last.
KINETICS400_DATA_CONFIG = {
    "num_frames": 32,
    "frame_step": 2,
    "target_fps": 30.0,
    "crop_size": 256,
    "short_side": 256,
    "mean": PYTORCHVIDEO_MEAN,
    "std": PYTORCHVIDEO_STD,
    "value_range": (0.0, 1.0),
    "num_clips": 10,
    "num_crops": 3,
    "labels": "kinetics400",
}
# The checkpoint's network (`slowfast_r50`: SlowFast 8x8 R50): with
# `weights="kinetics400"` these are the defaults and other values are refused.
KINETICS400_ARCHITECTURE = {
    "depth": 50,
    "tau": 8,
    "alpha": 4,
    "beta": 1 / 8,
    "fusion_kernel": 7,
    "lateral": "time_strided_conv",
    "base_filters": 64,
    "stage_blocks": (3, 4, 6, 3),
    "stem": "resnet",
    "block": "bottleneck",
}
KINETICS400_HEAD_POOL_SIZE = ((8, 7, 7), (32, 7, 7))


def preprocess_input(x):
    """RGB frames in `[0, 255]` to the input of the PyTorchVideo presets.

    `x / 255`, minus `PYTORCHVIDEO_MEAN`, divided by `PYTORCHVIDEO_STD` (0.45
    and 0.225 on every channel), as PyTorchVideo's and PySlowFast's
    Kinetics-400 models were trained (`SlowFast`, `Slow` and
    `I3D(architecture="pytorchvideo")` with `weights="kinetics400"`);
    resizing and cropping are the data pipeline's.

    Args:
        x: array or tensor `(..., 3)` of RGB values in `[0, 255]`.

    Returns:
        `float32` tensor of the same shape.
    """
    mean = keras.ops.convert_to_tensor(PYTORCHVIDEO_MEAN, "float32")
    std = keras.ops.convert_to_tensor(PYTORCHVIDEO_STD, "float32")
    x = keras.ops.cast(x, "float32") / 255.0
    return (x - mean) / std


def check_preset_architecture(weights, given, architecture, family):
    """With `weights="kinetics400"`, the architecture must be the checkpoint's.

    Args:
        weights: the constructor's `weights`.
        given: `{argument: value}` as the constructor received them.
        architecture: `{argument: value}` of the checkpoint's network.
        family: the constructor's name, for the message.

    Raises:
        ValueError: naming the first argument that differs.
    """
    if weights != "kinetics400":
        return
    for key, value in architecture.items():
        if given.get(key, value) != value:
            raise ValueError(
                f"{family}: weights='kinetics400' is the published network with "
                f"{key}={value!r}. Received: {key}={given[key]!r}"
            )


def _batch_norm(x, name, zero_init=False):
    return keras.layers.BatchNormalization(
        epsilon=BN_EPSILON,
        momentum=BN_MOMENTUM,
        gamma_initializer="zeros" if zero_init else "ones",
        name=name,
    )(x)


def conv3d(x, filters, kernel_size, strides, name, dilation=1):
    """A bias-free Conv3D padded as PyTorch's `Conv3d(padding=dilation * (k // 2))`.

    `common.conv3d_torch_padding` when `dilation` is 1; otherwise the spatial
    axes are dilated by `dilation` (time is not) and padded by
    `dilation * (k // 2)` on both sides, as PySlowFast and PyTorchVideo pad
    the dilated res5 of their AVA models. Dilation needs stride 1.
    """
    if dilation == 1:
        return common.conv3d_torch_padding(x, filters, kernel_size, strides, name)
    rates = (1, dilation, dilation)
    padding = tuple(
        (r * (k // 2),) * 2 for k, r in zip(kernel_size, rates, strict=True)
    )
    x = keras.layers.ZeroPadding3D(padding, name=f"{name}_pad")(x)
    return keras.layers.Conv3D(
        filters,
        kernel_size,
        strides=strides,
        padding="valid",
        dilation_rate=rates,
        use_bias=False,
        kernel_initializer="he_normal",
        name=name,
    )(x)


def bottleneck_block(x, filters, stride, time_kernel, name, zero_init=True, dilation=1):
    """PySlowFast's `bottleneck_transform`: (kt,1,1) -> (1,3,3)/stride -> (1,1,1) x4.

    The stride is on the (1, 3, 3) convolution (and on the 1x1x1 projection
    shortcut), as PySlowFast and PyTorchVideo put it (`keras.applications`'
    ResNet50 strides its first 1x1 instead). `dilation` dilates the (1, 3, 3)
    convolution in space (res5 of the AVA models; with stride 1). The last
    batch norm starts at zero (`ZERO_INIT_FINAL_BN`), so a new block begins
    as the identity; `zero_init=False` starts it at one.
    """
    if stride != 1 or x.shape[-1] != 4 * filters:
        shortcut = common.conv3d_torch_padding(
            x, 4 * filters, (1, 1, 1), (1, stride, stride), f"{name}_0_conv"
        )
        shortcut = _batch_norm(shortcut, f"{name}_0_bn")
    else:
        shortcut = x
    x = common.conv3d_torch_padding(
        x, filters, (time_kernel, 1, 1), (1, 1, 1), f"{name}_1_conv"
    )
    x = _batch_norm(x, f"{name}_1_bn")
    x = keras.layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = conv3d(x, filters, (1, 3, 3), (1, stride, stride), f"{name}_2_conv", dilation)
    x = _batch_norm(x, f"{name}_2_bn")
    x = keras.layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = common.conv3d_torch_padding(
        x, 4 * filters, (1, 1, 1), (1, 1, 1), f"{name}_3_conv"
    )
    x = _batch_norm(x, f"{name}_3_bn", zero_init=zero_init)
    x = keras.layers.Add(name=f"{name}_add")([shortcut, x])
    return keras.layers.Activation("relu", name=f"{name}_out")(x)


def plain_block(x, filters, time_kernel, name, pool=True):
    """(kt, 3, 3) conv -> BN -> ReLU, then a (1, 2, 2) max pool if `pool`.

    The stage of `block="plain"`: a VGG-style 3D convolution whose temporal
    kernel follows the pathway's schedule; the last block of a stage pools.
    Not a published block, so no ported weights: stride 1 and odd kernels
    make `"same"` pad symmetrically (as PyTorch), and the kernel starts from
    Keras' default `glorot_uniform`, which learned the demo's motion data
    better than PySlowFast's `he_normal` (val 0.982 against 0.965, mean of
    seeds 0-3).
    """
    x = keras.layers.Conv3D(
        filters,
        (time_kernel, 3, 3),
        padding="same",
        use_bias=False,
        name=f"{name}_conv",
    )(x)
    x = _batch_norm(x, f"{name}_bn")
    x = keras.layers.Activation("relu", name=f"{name}_relu")(x)
    if pool:
        x = keras.layers.MaxPooling3D((1, 2, 2), name=f"{name}_pool")(x)
    return x


def check_res5_dilation(res5_dilation, stages, block, family):
    """A positive int; above 1 it needs the four bottleneck stages."""
    if (
        isinstance(res5_dilation, bool)
        or not isinstance(res5_dilation, int)
        or res5_dilation < 1
    ):
        raise ValueError(
            f"{family}: `res5_dilation` must be a positive integer. "
            f"Received: res5_dilation={res5_dilation!r}"
        )
    if res5_dilation > 1 and (stages != 4 or block != "bottleneck"):
        raise ValueError(
            f"{family}: `res5_dilation` > 1 needs the four bottleneck stages "
            f"res2-res5. Received: res5_dilation={res5_dilation}, "
            f"stages={stages}, block={block!r}"
        )


def check_pool_size(pool_size, name, family):
    """`pool_size` as a tuple of three positive ints (or `None`)."""
    if pool_size is None:
        return None
    try:
        pool_size = tuple(pool_size)
    except TypeError:
        pool_size = ()
    if len(pool_size) != 3 or not all(
        isinstance(k, int) and not isinstance(k, bool) and k > 0 for k in pool_size
    ):
        raise ValueError(
            f"{family}: `{name}` must be 3 positive integers (time, height, "
            f"width). Received: {name}={pool_size!r}"
        )
    return pool_size


def head_pool(x, pool_size, name, family):
    """PyTorchVideo's head pooling before its global average, or nothing.

    PyTorchVideo's ResNet head is `AvgPool3d(pool_size, stride=1)`, dropout,
    the linear layer at every remaining position, then the average over the
    positions. The average of a linear map is the map of the average, so
    `AveragePooling3D(pool_size, strides=1, "valid")` followed by the global
    average and `Dense` gives the same logits. With 7x7 pooling on 7x7 maps
    (224x224 clips) that is the plain global average; on 8x8 maps (the
    256x256 crops the checkpoints are tested on) the window positions
    overlap, so border positions weigh half as much as inner ones.
    """
    if pool_size is None:
        return x
    shape = tuple(x.shape[1:4])
    if any(s is not None and s < k for s, k in zip(shape, pool_size, strict=True)):
        raise ValueError(
            f"{family}: the head's average pool {pool_size} is larger than the "
            f"last features {shape} (time, height, width): give longer or larger "
            f"clips, or `head_pool_size=None` for a global average. "
            f"Received: head_pool_size={pool_size}"
        )
    return keras.layers.AveragePooling3D(
        pool_size, strides=(1, 1, 1), padding="valid", name=name
    )(x)


def stem_block(x, filters, time_kernel, prefix="", stem="resnet"):
    """The ResNet stem of PySlowFast / PyTorchVideo (`create_res_basic_stem`).

    `stem="resnet"`: (time_kernel, 7, 7) convolution, stride (1, 2, 2), padded
    by `k // 2`, batch norm, ReLU, then a (1, 3, 3) max pool with stride
    (1, 2, 2) and one pixel of padding. PyTorch pads the max pool with
    -inf, this with zeros: the same after the ReLU (every window holds a
    value >= 0). `stem="small"`: one (time_kernel, 3, 3) convolution with
    stride 1, batch norm and ReLU. Layers are named `<prefix>conv1_conv`,
    `<prefix>conv1_bn`, `<prefix>pool1_pool`...
    """
    if stem == "small":
        # CIFAR-style: one 3x3 convolution, no spatial stride, no max pool.
        x = common.conv3d_torch_padding(
            x, filters, (time_kernel, 3, 3), (1, 1, 1), f"{prefix}conv1_conv"
        )
        x = _batch_norm(x, f"{prefix}conv1_bn")
        return keras.layers.Activation("relu", name=f"{prefix}conv1_relu")(x)
    x = common.conv3d_torch_padding(
        x, filters, (time_kernel, 7, 7), (1, 2, 2), f"{prefix}conv1_conv"
    )
    x = _batch_norm(x, f"{prefix}conv1_bn")
    x = keras.layers.Activation("relu", name=f"{prefix}conv1_relu")(x)
    x = keras.layers.ZeroPadding3D(((0, 0), (1, 1), (1, 1)), name=f"{prefix}pool1_pad")(
        x
    )
    return keras.layers.MaxPooling3D(
        (1, 3, 3), strides=(1, 2, 2), name=f"{prefix}pool1_pool"
    )(x)


def SlowFast(
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
    tau=None,
    alpha=None,
    beta=1 / 8,
    fusion_kernel=None,
    lateral="time_strided_conv",
    base_filters=64,
    stage_blocks=None,
    stem="resnet",
    block="bottleneck",
    zero_init_residual=True,
    dropout_rate=0.5,
    slow_sampling=None,
    head_pool_size=None,
    res5_dilation=1,
):
    """Instantiates a SlowFast network (R50 4x16 by default), as PySlowFast.

    Args:
        include_top: whether to include the head: global average pooling of
            each pathway, concatenation, dropout and `predictions`.
        weights: `None`, the path to a `.weights.h5` file, or
            `"kinetics400"`: PyTorchVideo's Kinetics-400 `slowfast_r50`
            (SlowFast 8x8 R50, 76.94 top-1, 3 crops x 10 clips), converted
            once with `keras-video weights convert slowfast_r50`. It is the
            network `tau=8` (alpha 4, fusion kernel 7) R50 with the defaults,
            and sets the defaults `input_shape=(32, 256, 256, 3)`,
            `slow_sampling="linspace"` and `head_pool_size=((8, 7, 7), (32,
            7, 7))`, so the logits are PyTorchVideo's; other architecture
            values are refused (`res5_dilation`, `dropout_rate` and the
            head's `classes` with `include_top=False` are free). Clips as
            `KINETICS400_DATA_CONFIG`, values by `preprocess_input`.
        input_tensor: optional Keras tensor to use as the (fast) clip input.
        input_shape: `(frames, height, width, channels)` of the fast clip;
            defaults to `(32, 224, 224, 3)`. Needs at least `alpha` frames and
            `S x S` pixels, `S` the network's spatial stride (32 by default,
            see `stem` and `stage_blocks`).
        pooling: with `include_top=False`: `None` returns the two pathways'
            last-stage features `[slow, fast]`; `"avg"` or `"max"` pools each
            over time and space and concatenates them, `(batch, C_slow +
            C_fast)` (`32 * base_filters * (1 + beta)` with four stages).
        classes: number of classes when `include_top=True`.
        classifier_activation: activation of `predictions`; `None` for logits.
        name: model name; defaults to `"slowfast_<T_slow>x<tau>_r<depth>"`
            (`"slowfast_<T_slow>x<tau>_plain"` with `block="plain"`).
        depth: 50 or 101 (bottleneck blocks (3, 4, 6, 3) or (3, 4, 23, 3)).
        tau: temporal stride of the slow pathway on the video, 16 (SlowFast
            4x16, the default) or 8 (8x8; the default with
            `weights="kinetics400"`); it sets the default `alpha` (`tau // 2`:
            the input clip is sampled every 2 video frames) and names the
            model.
        alpha: frame-rate ratio between the pathways; the slow pathway takes
            every `alpha`-th input frame.
        beta: channel ratio of the fast pathway (1/8).
        fusion_kernel: temporal kernel of the lateral convolutions; defaults
            to PySlowFast's (5 for alpha 8, 7 for alpha 4).
        lateral: `SlowFastLateral` mode: `"time_strided_conv"` (the paper's
            default), `"time_to_channel"` or `"time_strided_sample"`.
        base_filters: slow-pathway channels of the stem (64); res2 to res5
            have `base_filters * (1, 2, 4, 8)` inner channels. Small values
            (e.g. 16) make small models.
        stage_blocks: blocks per stage, overriding `depth`: 1 to 4 stages,
            res2 first (e.g. `(1, 1, 1, 1)` for a small model; `(1, 1, 1)`
            drops res5 and its stride). Stages keep their temporal kernels
            (slow: 1, 1, 3, 3) and channels; a lateral connection follows the
            stem (if any) and every stage but the last.
        stem: `"resnet"` (default: (t, 7, 7) convolution with stride 2 and
            3x3 max pooling with stride 2, as PySlowFast) or `"small"` (one
            (t, 3, 3) convolution with stride 1 and no pooling, as ResNets
            for CIFAR), for small frames such as 32x32, which the ResNet stem
            and four stride-2 stages would shrink to 1x1; or `None`: no stem
            and no lateral before the first stage, which then reads the
            frames (with `block="plain"`, the demo's SlowFast-small). The
            spatial stride of the network is `S = 4 * 2**(stages - 1)` with
            the ResNet stem (32 by default) and `2**(stages - 1)` with the
            small one or none; `block="plain"` doubles it.
        block: `"bottleneck"` (default: PySlowFast's ResNet bottleneck
            blocks, stride 2 in the first block of every stage but res2) or
            `"plain"`: each block one (kt, 3, 3) convolution (no bias) with
            `base_filters * 2**stage` (slow) or `beta` times as many (fast)
            channels, batch norm and ReLU, kt following the published
            schedule (slow 1, 1, 3, 3 by stage, fast 3), and every stage,
            res2 included, ending in a (1, 2, 2) max pool: a VGG-style
            SlowFast for small budgets. `stem=None, block="plain",
            stage_blocks=(1, 1, 1)` is the demo's SlowFast-small.
        zero_init_residual: start the last batch norm of every bottleneck
            at zero, so each block begins as its shortcut (PySlowFast's
            `ZERO_INIT_FINAL_BN`, the default). `False` starts it at one.
            Plain blocks have no residual and ignore it.
        dropout_rate: dropout before `predictions` (0.5 in PySlowFast).
        slow_sampling: which input frames the slow pathway takes:
            `"stride"` (the default; `"linspace"` with
            `weights="kinetics400"`) every `alpha`-th frame from the first,
            `ceil(T_fast / alpha)` frames (PySlowFast's data loader);
            `"linspace"`: `T_fast // alpha` frames at
            `torch.linspace(0, T_fast - 1, T_fast // alpha).long()`, as
            PyTorchVideo's `PackPathway` samples them (of 32 frames with
            alpha 4: 0, 4, 8, 13, 17, 22, 26, 31, not 0, 4, ..., 28), by a
            `UniformTemporalSubsample` layer. `"linspace"` needs a known
            `T_fast` divisible by `alpha`.
        head_pool_size: `None` (default: global average pooling of each
            pathway) or `((t, h, w), (t, h, w))`, the slow and fast kernels
            of PyTorchVideo's head: an average pool with stride 1 and no
            padding, then the global average (see `head_pool`). PyTorchVideo's
            `slowfast_r50` uses `((8, 7, 7), (32, 7, 7))`: the same as the
            global average on 32x224x224 clips, not on the 32x256x256 it is
            tested on (the default with `weights="kinetics400"`; `((1, 1, 1),
            (1, 1, 1))` is the plain global average). Used with
            `include_top=True` and `pooling="avg"`.
        res5_dilation: 1 (default), or the spatial dilation of the (1, 3, 3)
            convolutions of res5, whose stride then becomes 1: PySlowFast's
            AVA detection backbones use 2 (`SPATIAL_DILATIONS [[1, 1], [1, 1],
            [1, 1], [2, 2]]`, `SPATIAL_STRIDES [[1, 1], [2, 2], [2, 2], [1,
            1]]`), so the last features are 1/16 of the frame instead of
            1/32. The weights have the same shapes: a model with dilation
            loads the weights of one without. Needs four bottleneck stages.

    Input shape:
        `(batch, T_fast, height, width, channels)`.

    Output shape:
        `(batch, classes)` with `include_top=True`. Otherwise `[slow, fast]`,
        `(batch, T_slow, H / S, W / S, 4 * 2**(stages - 1) *
        base_filters)` (`T_slow = ceil(T_fast / alpha)`, with
        `slow_sampling="linspace"` `T_fast / alpha`; `S = 16` with
        `res5_dilation` > 1) and `(batch, T_fast, H / S, W / S, 4 * 2**(stages - 1)
        * beta * base_filters)` (with the defaults `S = 32` and
        `32 * base_filters` slow channels; plain blocks have no factor 4),
        or with `pooling` one vector per clip.

    Example:

    ```python
    import numpy as np
    from keras_video.applications import SlowFast

    model = SlowFast(base_filters=16, stage_blocks=(1, 1, 1, 1), alpha=4,
                     classes=5, input_shape=(8, 32, 32, 3))
    model.predict(np.zeros((1, 8, 32, 32, 3)), verbose=0).shape  # (1, 5)
    # for 32x32 frames: no stride-2 stem, three stages (8x8 maps at the end)
    small = SlowFast(base_filters=16, stage_blocks=(1, 1, 1), stem="small",
                     alpha=4, beta=1 / 4, classes=5, input_shape=(8, 32, 32, 3))
    # the demo's SlowFast-small: three plain conv stages, 4x4 maps at the end
    plain = SlowFast(base_filters=16, stage_blocks=(1, 1, 1), stem=None,
                     block="plain", alpha=4, beta=1 / 4, fusion_kernel=5,
                     classes=5, input_shape=(8, 32, 32, 3))
    ```

    Reference:
        Feichtenhofer et al., "SlowFast Networks for Video Recognition",
        ICCV 2019. https://arxiv.org/abs/1812.03982 ; PySlowFast configs
        `configs/Kinetics/c2/SLOWFAST_4x16_R50.yaml` and `SLOWFAST_8x8_R50.yaml`.
    """
    family = name or "SlowFast"
    common.check_top_arguments(include_top, weights, classes, pooling, family)
    weights_lib.check_weights(weights, "slowfast")
    pretrained.check_preset_classes(weights, include_top, classes, "slowfast", family)
    preset = weights == "kinetics400"
    default_shape = (32, 224, 224, 3)
    if tau is None:
        tau = KINETICS400_ARCHITECTURE["tau"] if preset else 16
    if slow_sampling is None:
        slow_sampling = "linspace" if preset else "stride"
    if preset:
        crop = KINETICS400_DATA_CONFIG["crop_size"]
        default_shape = (KINETICS400_DATA_CONFIG["num_frames"], crop, crop, 3)
        if head_pool_size is None:
            head_pool_size = KINETICS400_HEAD_POOL_SIZE
    if stage_blocks is None:
        if depth not in DEPTHS:
            raise ValueError(
                f"{family}: `depth` must be one of {sorted(DEPTHS)}. "
                f"Received: depth={depth!r}"
            )
        stage_blocks = DEPTHS[depth]
    stage_blocks = tuple(stage_blocks)
    if not 1 <= len(stage_blocks) <= 4 or not all(
        isinstance(b, int) and not isinstance(b, bool) and b > 0 for b in stage_blocks
    ):
        raise ValueError(
            f"{family}: `stage_blocks` must be 1 to 4 positive integers. "
            f"Received: stage_blocks={stage_blocks!r}"
        )
    if stem not in STEMS:
        raise ValueError(
            f"{family}: `stem` must be one of {STEMS}. Received: stem={stem!r}"
        )
    if block not in BLOCKS:
        raise ValueError(
            f"{family}: `block` must be one of {BLOCKS}. Received: block={block!r}"
        )
    if isinstance(tau, bool) or not isinstance(tau, int) or tau < 2:
        raise ValueError(
            f"{family}: `tau` must be an integer >= 2. Received: tau={tau!r}"
        )
    alpha = tau // 2 if alpha is None else alpha
    if isinstance(alpha, bool) or not isinstance(alpha, int) or alpha < 1:
        raise ValueError(
            f"{family}: `alpha` must be a positive integer. Received: alpha={alpha!r}"
        )
    fast_filters = int(round(base_filters * beta))
    if not isinstance(base_filters, int) or fast_filters < 1:
        raise ValueError(
            f"{family}: `base_filters * beta` must be at least 1 channel. "
            f"Received: base_filters={base_filters!r}, beta={beta!r}"
        )
    fusion_kernel = fusion_kernel or FUSION_KERNELS.get(alpha, 5)
    given = dict(
        depth=depth,
        tau=tau,
        alpha=alpha,
        beta=beta,
        fusion_kernel=fusion_kernel,
        lateral=lateral,
        base_filters=base_filters,
        stage_blocks=stage_blocks,
        stem=stem,
        block=block,
    )
    check_preset_architecture(weights, given, KINETICS400_ARCHITECTURE, family)
    stages = len(stage_blocks)
    if slow_sampling not in SLOW_SAMPLINGS:
        raise ValueError(
            f"{family}: `slow_sampling` must be one of {SLOW_SAMPLINGS}. "
            f"Received: slow_sampling={slow_sampling!r}"
        )
    check_res5_dilation(res5_dilation, stages, block, family)
    if head_pool_size is not None:
        try:
            slow_pool, fast_pool = head_pool_size
        except (TypeError, ValueError):
            slow_pool = fast_pool = ()
        head_pool_size = (
            check_pool_size(slow_pool, "head_pool_size", family),
            check_pool_size(fast_pool, "head_pool_size", family),
        )
    strided_stages = stages if block == "plain" else stages - 1
    if res5_dilation > 1:
        strided_stages -= 1
    inputs, x = common.clip_input(
        input_shape,
        input_tensor,
        default_shape,
        min_frames=alpha,
        min_size=(4 if stem == "resnet" else 1) * 2**strided_stages,
        name=family,
    )
    frames = x.shape[1]
    if slow_sampling == "linspace" and (frames is None or frames % alpha):
        raise ValueError(
            f"{family}: slow_sampling='linspace' needs a known number of frames "
            f"divisible by alpha={alpha}. Received: input_shape={tuple(x.shape[1:])}"
        )
    if name is None:
        slow_frames = "" if frames is None else f"{-(-frames // alpha)}x"
        suffix = "plain" if block == "plain" else f"r{depth}"
        name = f"slowfast_{slow_frames}{tau}_{suffix}"

    if slow_sampling == "linspace":
        slow = UniformTemporalSubsample(frames // alpha, name="slow_sample")(x)
    else:
        slow = keras.layers.MaxPooling3D(
            (1, 1, 1), strides=(alpha, 1, 1), name="slow_sample"
        )(x)
    fast = x
    if stem is not None:
        slow = stem_block(slow, base_filters, SLOW_TIME_KERNELS[0], "slow_", stem)
        fast = stem_block(fast, fast_filters, FAST_TIME_KERNELS[0], "fast_", stem)

    def fuse(slow, fast, stage):
        return SlowFastLateral(
            alpha=alpha,
            mode=lateral,
            channel_ratio=2,
            time_kernel=fusion_kernel,
            batch_norm_epsilon=BN_EPSILON,
            batch_norm_momentum=BN_MOMENTUM,
            name=f"{stage}_fuse",
        )([slow, fast])

    if stem is not None:
        slow = fuse(slow, fast, "pool1")
    for stage, blocks in enumerate(stage_blocks):
        for index in range(blocks):
            prefix = f"conv{stage + 2}_block{index + 1}"
            if block == "plain":
                last = index == blocks - 1
                slow = plain_block(
                    slow,
                    base_filters * 2**stage,
                    SLOW_TIME_KERNELS[stage + 1],
                    f"slow_{prefix}",
                    pool=last,
                )
                fast = plain_block(
                    fast,
                    fast_filters * 2**stage,
                    FAST_TIME_KERNELS[stage + 1],
                    f"fast_{prefix}",
                    pool=last,
                )
                continue
            dilation = res5_dilation if stage == 3 else 1
            stride = 2 if stage > 0 and index == 0 and dilation == 1 else 1
            slow = bottleneck_block(
                slow,
                base_filters * 2**stage,
                stride,
                SLOW_TIME_KERNELS[stage + 1],
                f"slow_{prefix}",
                zero_init_residual,
                dilation,
            )
            fast = bottleneck_block(
                fast,
                fast_filters * 2**stage,
                stride,
                FAST_TIME_KERNELS[stage + 1],
                f"fast_{prefix}",
                zero_init_residual,
                dilation,
            )
        if stage < stages - 1:
            slow = fuse(slow, fast, f"conv{stage + 2}")

    if include_top or pooling is not None:
        pool = (
            keras.layers.GlobalMaxPooling3D
            if pooling == "max" and not include_top
            else (keras.layers.GlobalAveragePooling3D)
        )
        kind = "max" if pool is keras.layers.GlobalMaxPooling3D else "avg"
        if kind == "avg" and head_pool_size is not None:
            slow = head_pool(slow, head_pool_size[0], "slow_head_pool", family)
            fast = head_pool(fast, head_pool_size[1], "fast_head_pool", family)
        slow = pool(name=f"slow_{kind}_pool")(slow)
        fast = pool(name=f"fast_{kind}_pool")(fast)
        x = keras.layers.Concatenate(name="concat")([slow, fast])
        if include_top:
            x = common.classifier(x, classes, classifier_activation, dropout_rate)
        outputs = x
    else:
        outputs = [slow, fast]
    model = keras.Model(inputs, outputs, name=name)
    return weights_lib.load_weights(model, weights, "slowfast")
