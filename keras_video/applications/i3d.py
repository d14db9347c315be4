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
"""

import keras

from keras_video.applications import common
from keras_video.applications import weights as weights_lib
from keras_video.applications.inflate import inflate, inflate_weights, walk_graph
from keras_video.layers import NonLocal

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
):
    """Instantiates the ResNet-50 I3D of the non-local paper.

    Args:
        include_top: whether to include the classification head (global average
            pooling, dropout, `predictions` dense layer).
        weights: `None` (random initialisation), `"imagenet_inflated"` (the
            ImageNet ResNet-50 weights of `keras.applications`, from the Keras
            cache, inflated), or a path: a 2D ResNet-50 weights file (`.h5` /
            `.weights.h5` of `keras.applications.ResNet50(include_top=False)`)
            to inflate, or else a weights file of this 3D model.
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

    Input shape:
        `(batch, frames, height, width, 3)`, preprocessed as
        `keras.applications.resnet.preprocess_input` (caffe: BGR, mean
        subtracted) frame by frame when using the ImageNet weights.

    Output shape:
        `(batch, classes)`, or features `(batch, frames / 4, height / 32,
        width / 32, 2048)` (`(batch, 2048)` with `pooling`).

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
