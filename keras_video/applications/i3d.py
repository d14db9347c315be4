"""ResNet-50 I3D: the baseline of the non-local paper, built by inflating
`keras.applications.ResNet50`.

The inflation follows Wang et al. 2018 (Table 1 and the I3D-3x1x1 variant of
facebookresearch/video-nonlocal-net, `use_temp_convs`):

```
conv1        5x7x7, 64, stride (1, 2, 2)             T
pool1        3x3x3 max, stride (2, 2, 2)             T/2
res2  x3     [3x1x1, 1x3x3, 1x1x1] (all 3 blocks)    T/2
pool2        3x1x1 max, stride (2, 1, 1)             T/4
res3  x4     first conv 3x1x1 in blocks 1, 3         T/4   (+ NonLocal: 1, 3)
res4  x6     first conv 3x1x1 in blocks 1, 3, 5      T/4   (+ NonLocal: 1, 3, 5)
res5  x3     first conv 3x1x1 in block 2             T/4
global average pool, dropout, dense
```

Every other layer keeps its 2D kernel (time kernel 1). Inflated kernels are the
2D kernels divided by the time kernel (`mode="mean"`), temporal padding repeats
edge frames, and the non-local blocks start as the identity, so a clip that
repeats one frame gives the 2D ResNet-50's features on that frame.

`I3D(architecture="pytorchvideo")` is instead PyTorchVideo's `i3d_r50` (the
network of its Kinetics-400 checkpoint, `weights="kinetics400"`), built by
`slow.PyTorchVideoResNet`: the same temporal kernels in the same blocks, but
the stride on the 3x3 convolution of a block (and no convolution biases,
batch norm epsilon 1e-5, zero temporal padding), conv1's max pool (1, 3, 3)
without temporal stride, and pool2 a (2, 1, 1) max pool with stride 2.
"""

import keras

from keras_video.applications import common, slow
from keras_video.applications import weights as weights_lib
from keras_video.applications.inflate import inflate, inflate_weights, walk_graph
from keras_video.applications.slowfast import check_preset_architecture
from keras_video.layers import NonLocal

ARCHITECTURES = ("inflated", "pytorchvideo")
# The data settings of PyTorchVideo's `i3d_r50` Kinetics-400 checkpoint
# (I3D_8x8_R50.pyth, trained and tested with PySlowFast as `slow_r50`): 8
# frames, one every 8 (at 30 fps), short side 256, 3 crops of 256x256 x 10
# clips, `x / 255` normalised by mean 0.45 and std 0.225 (`preprocess_input`).
KINETICS400_DATA_CONFIG = dict(slow.KINETICS400_DATA_CONFIG)
KINETICS400_ARCHITECTURE = {"base_filters": 64, "non_local": False}
# PyTorchVideo's `create_resnet` default head pool, which `i3d_r50` keeps.
KINETICS400_HEAD_POOL_SIZE = (4, 7, 7)
preprocess_input = slow.preprocess_input

# First 1x1 conv of these bottlenecks becomes 3x1x1.
_TEMPORAL_BLOCKS = {2: (1, 2, 3), 3: (1, 3), 4: (1, 3, 5), 5: (2,)}
# Non-local blocks after these residual blocks (2 in res3, 3 in res4).
NON_LOCAL_BLOCKS = (
    "conv3_block1_out",
    "conv3_block3_out",
    "conv4_block1_out",
    "conv4_block3_out",
    "conv4_block5_out",
)


def i3d_time_kernels():
    """`{ResNet50 layer name: time kernel}` of the I3D (3x1x1) inflation."""
    kernels = {"conv1_conv": 5, "pool1_pool": 3}
    for stage, blocks in _TEMPORAL_BLOCKS.items():
        for block in blocks:
            kernels[f"conv{stage}_block{block}_1_conv"] = 3
    return kernels


def _pool2(name):
    return keras.layers.MaxPooling3D(
        (3, 1, 1), strides=(2, 1, 1), padding="same", name=name
    )


def _non_local(block):
    name = block.replace("_out", "_non_local")
    return lambda x: NonLocal(name=name)(x)


def load_resnet50_2d(model, path):
    """Loads a 2D ResNet-50 weights file (no top) into an I3D `model`, inflated.

    The preset `weights="imagenet_inflated"` (with the Keras ImageNet file)
    and `weights=<2D file>`: the file goes into a `keras.applications`
    ResNet-50 of the model's frame size, whose layers are then inflated into
    the same-named layers of `model` (`inflate_weights`, `mode="mean"`).
    """
    resnet = keras.applications.ResNet50(
        include_top=False, weights=None, input_shape=tuple(model.inputs[0].shape[2:])
    )
    resnet.load_weights(path)
    inflate_weights(resnet, model, mode="mean")


weights_lib.register_preset(
    "I3D",
    "imagenet_inflated",
    weights_lib.RESNET50_IMAGENET_NOTOP,
    load_resnet50_2d,
)


def I3D(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=400,
    classifier_activation="softmax",
    name="i3d",
    non_local=False,
    dropout_rate=0.5,
    time_padding="replicate",
    architecture=None,
    base_filters=64,
    head_pool_size=None,
    res5_dilation=1,
):
    """Instantiates the ResNet-50 I3D of the non-local paper, or PyTorchVideo's.

    Args:
        include_top: whether to include the classification head (global average
            pooling, dropout, `predictions` dense layer).
        weights: `None` (random initialisation), `"imagenet_inflated"` (the
            ImageNet ResNet-50 weights of `keras.applications`, from the Keras
            cache, inflated), `"kinetics400"` (PyTorchVideo's Kinetics-400
            `i3d_r50`, 73.27 top-1 with 3 crops x 10 clips, converted once
            with `keras-video weights convert i3d_r50`; the network of
            `architecture="pytorchvideo"`, with the defaults `input_shape=(8,
            256, 256, 3)` and `head_pool_size=(4, 7, 7)`; clips as
            `KINETICS400_DATA_CONFIG`, values by `preprocess_input`), or a
            path: a 2D ResNet-50 weights file (`.h5` / `.weights.h5` of
            `keras.applications.ResNet50(include_top=False)`) to inflate, or
            else a weights file of this 3D model.
        input_tensor: optional Keras tensor to use as the model's input.
        input_shape: `(frames, height, width, 3)`; defaults to
            `(32, 224, 224, 3)` (the paper's clips). Frames and size may be
            `None`.
        pooling: with `include_top=False`, `None` (5D features), `"avg"` or
            `"max"`.
        classes: number of classes of the head.
        classifier_activation: activation of the head (`None` for logits).
        name: name of the model.
        non_local: insert 5 non-local blocks (embedded Gaussian) after blocks
            1 and 3 of res3 and 1, 3, 5 of res4, as Wang et al. 2018.
        dropout_rate: dropout before the head (0.5 as in the paper).
        time_padding: `"replicate"` or `"zeros"`, the temporal padding of the
            inflated layers.
        architecture: `"inflated"` (the default: `keras.applications`'
            ResNet50 inflated, as above) or `"pytorchvideo"` (the default with
            `weights="kinetics400"`): PyTorchVideo's `i3d_r50` network, built
            by `slow.PyTorchVideoResNet` (see the module docstring for the
            differences). The arguments below are for it only; it has no
            non-local blocks and no `time_padding` (zeros, as PyTorch).
        base_filters: channels of conv1 (64); small values make small test
            models. `"pytorchvideo"` only.
        head_pool_size: `None` (global average) or `(t, h, w)`, PyTorchVideo's
            head average pool (stride 1) before the global average; `i3d_r50`
            uses `(4, 7, 7)` (the default with `weights="kinetics400"`).
            `"pytorchvideo"` only.
        res5_dilation: 1, or 2 as PySlowFast's AVA backbones: res5 with
            spatial stride 1 and dilated (1, 3, 3) convolutions, features at
            1/16 of the frame; same weights. `"pytorchvideo"` only.

    Input shape:
        `(batch, frames, height, width, 3)`, preprocessed as
        `keras.applications.resnet.preprocess_input` (caffe: BGR, mean
        subtracted) frame by frame when using the ImageNet weights.

    Output shape:
        `(batch, classes)`, or features `(batch, frames / 4, height / 32,
        width / 32, 2048)` (`(batch, 2048)` with `pooling`); with
        `architecture="pytorchvideo"` `frames / 2` and `32 * base_filters`
        channels (`height / 16` with `res5_dilation` 2).

    Example:

    ```python
    import numpy as np
    from keras_video.applications import I3D

    model = I3D(include_top=False, pooling="avg", input_shape=(8, 64, 64, 3))
    model.predict(np.zeros((1, 8, 64, 64, 3)), verbose=0).shape  # (1, 2048)
    ```

    Reference:
        Wang, Girshick, Gupta and He, "Non-local Neural Networks", CVPR 2018;
        Carreira and Zisserman, "Quo Vadis, Action Recognition?", CVPR 2017.

    Returns:
        A `keras.Model`.
    """
    if architecture is None:
        architecture = "pytorchvideo" if weights == "kinetics400" else "inflated"
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"{name}: `architecture` must be one of {ARCHITECTURES}. "
            f"Received: architecture={architecture!r}"
        )
    if architecture == "pytorchvideo":
        return _pytorchvideo_i3d(
            include_top,
            weights,
            input_tensor,
            input_shape,
            pooling,
            classes,
            classifier_activation,
            name,
            non_local=non_local,
            dropout_rate=dropout_rate,
            base_filters=base_filters,
            head_pool_size=head_pool_size,
            res5_dilation=res5_dilation,
        )
    if weights == "kinetics400":
        raise ValueError(
            f"{name}: weights='kinetics400' is PyTorchVideo's i3d_r50, "
            f"architecture='pytorchvideo'. Received: architecture={architecture!r}"
        )
    pytorchvideo_only = (
        ("base_filters", base_filters, 64),
        ("head_pool_size", head_pool_size, None),
        ("res5_dilation", res5_dilation, 1),
    )
    for key, value, default in pytorchvideo_only:
        if value != default:
            raise ValueError(
                f"{name}: `{key}` is an option of architecture='pytorchvideo' "
                f"(PyTorchVideo's i3d_r50). Received: {key}={value!r}, "
                f"architecture={architecture!r}"
            )
    common.check_top_arguments(include_top, weights, classes, pooling, name)
    weights_lib.check_weights(weights, "I3D")
    if not 0.0 <= dropout_rate < 1.0:
        raise ValueError(
            f"{name}: `dropout_rate` must be in [0, 1). "
            f"Received: dropout_rate={dropout_rate}"
        )
    default = (32, 224, 224, 3)
    if input_shape is not None or input_tensor is not None:
        shape = tuple(
            input_shape if input_shape is not None else input_tensor.shape[1:]
        )
    else:
        shape = default
    common.clip_input(shape, None, default, name=name)  # checks only
    if shape[-1] != 3 and weights is not None:
        raise ValueError(
            f"{name}: pretrained weights need 3 input channels. "
            f"Received: input_shape={shape}"
        )

    resnet = keras.applications.ResNet50(
        include_top=False, weights=None, input_shape=tuple(shape[1:])
    )
    insert_after = {"conv2_block3_out": [lambda x: _pool2("pool2_pool")(x)]}
    if non_local:
        for block in NON_LOCAL_BLOCKS:
            insert_after.setdefault(block, []).append(_non_local(block))
    backbone = inflate(
        resnet,
        time_kernels=i3d_time_kernels(),
        time_strides={"pool1_pool": 2},
        mode="mean",
        time_padding=time_padding,
        frames=shape[0],
        name=f"{name}_backbone",
        insert_after=insert_after,
    )

    if input_tensor is None:
        inputs, x = backbone.inputs[0], backbone.outputs[0]
    else:
        inputs, x = common.clip_input(
            input_shape, input_tensor, default_shape=default, name=name
        )
        # Apply the backbone's layers (not the backbone as one nested layer),
        # so the model's layer names stay flat and stable.
        x = walk_graph(backbone, x)
    if include_top:
        x = keras.layers.GlobalAveragePooling3D(name="avg_pool")(x)
        x = common.classifier(x, classes, classifier_activation, dropout_rate)
    else:
        x = common.pool_features(x, pooling)
    model = keras.Model(inputs, x, name=name)
    if weights is not None and weights not in weights_lib.PRESETS["I3D"]:
        try:  # a path: a 2D ResNet-50 file to inflate, else a file of this model
            load_resnet50_2d(model, weights)
            return model
        except Exception:  # noqa: BLE001 - not a 2D file: load it as 3D
            pass
    return weights_lib.load_weights(model, weights, "I3D")


def _pytorchvideo_i3d(
    include_top,
    weights,
    input_tensor,
    input_shape,
    pooling,
    classes,
    classifier_activation,
    name,
    **options,
):
    """`I3D(architecture="pytorchvideo")`: PyTorchVideo's `i3d_r50`."""
    given = {"base_filters": options["base_filters"], "non_local": options["non_local"]}
    check_preset_architecture(weights, given, KINETICS400_ARCHITECTURE, name)
    if weights == "imagenet_inflated":
        raise ValueError(
            f"{name}: weights='imagenet_inflated' inflates keras.applications' "
            "ResNet50 into architecture='inflated'. Received: "
            "weights='imagenet_inflated', architecture='pytorchvideo'"
        )
    if options.pop("non_local"):
        raise ValueError(
            f"{name}: architecture='pytorchvideo' has no non-local blocks. "
            "Received: non_local=True"
        )
    default_shape = (8, 224, 224, 3)
    if weights == "kinetics400":
        crop = KINETICS400_DATA_CONFIG["crop_size"]
        default_shape = (KINETICS400_DATA_CONFIG["num_frames"], crop, crop, 3)
        if options["head_pool_size"] is None:
            options["head_pool_size"] = KINETICS400_HEAD_POOL_SIZE
    return slow.PyTorchVideoResNet(
        slow.I3D_TIME_KERNELS,
        5,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        name=name,
        family="I3D",
        pool2_time=2,
        default_shape=default_shape,
        **options,
    )
