"""Inception-v1 I3D (Carreira and Zisserman, 2017) and its Kinetics-400 helpers.

The network follows DeepMind's `kinetics-i3d/i3d.py` layer for layer: TF "SAME"
padding (Keras `padding="same"` has TensorFlow semantics on every backend: the
extra padding goes after, and max pooling never sees the padding), batch norm
without scale and with epsilon 1e-3, and the `Logits` head: average pooling
`[2, 7, 7]` "VALID", dropout, a 1x1x1 convolution with bias, then the logits
averaged over time.

Layer names are the original variable scopes with `/` replaced by `_` (Keras 3
layer names may not contain `/`). A `Unit3D` scope `S` becomes three layers:

| original (TensorFlow / Sonnet)   | Keras layer          |
|----------------------------------|----------------------|
| `S/conv_3d/w`                    | `S_conv` kernel      |
| `S/batch_norm/beta`              | `S_bn` beta          |
| `S/batch_norm/moving_mean`       | `S_bn` moving_mean   |
| `S/batch_norm/moving_variance`   | `S_bn` moving_variance |
| (relu)                           | `S_relu`             |

e.g. `Mixed_3b/Branch_1/Conv3d_0b_3x3` -> `Mixed_3b_Branch_1_Conv3d_0b_3x3_conv`,
`..._bn`, `..._relu`; the head is `Logits_AvgPool3d`, `Logits_dropout`,
`Logits_Conv3d_0c_1x1_conv` (kernel and bias), `Logits_mean`, `Predictions`.
As in the original, the second convolution of `Mixed_5b/Branch_2` is named
`Conv3d_0a_3x3` (all other modules say `Conv3d_0b_3x3`).
"""

import os

import keras
import numpy as np

from keras_video.applications import common
from keras_video.applications import weights as weights_lib

# The blocks of the network, in order (`final_endpoint` takes one of these).
VALID_ENDPOINTS = (
    "Conv3d_1a_7x7",
    "MaxPool3d_2a_3x3",
    "Conv3d_2b_1x1",
    "Conv3d_2c_3x3",
    "MaxPool3d_3a_3x3",
    "Mixed_3b",
    "Mixed_3c",
    "MaxPool3d_4a_3x3",
    "Mixed_4b",
    "Mixed_4c",
    "Mixed_4d",
    "Mixed_4e",
    "Mixed_4f",
    "MaxPool3d_5a_2x2",
    "Mixed_5b",
    "Mixed_5c",
    "Logits",
)

# Output channels of the four branches of each Inception module:
# [b0 1x1, b1 1x1, b1 3x3, b2 1x1, b2 3x3, b3 1x1 after max pool].
MIXED_MODULES = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}

# (kind, arguments) of every endpoint but the head.
STEM_LAYERS = {
    "Conv3d_1a_7x7": ("unit", 64, (7, 7, 7), (2, 2, 2)),
    "MaxPool3d_2a_3x3": ("pool", (1, 3, 3), (1, 2, 2)),
    "Conv3d_2b_1x1": ("unit", 64, (1, 1, 1), (1, 1, 1)),
    "Conv3d_2c_3x3": ("unit", 192, (3, 3, 3), (1, 1, 1)),
    "MaxPool3d_3a_3x3": ("pool", (1, 3, 3), (1, 2, 2)),
    "MaxPool3d_4a_3x3": ("pool", (3, 3, 3), (2, 2, 2)),
    "MaxPool3d_5a_2x2": ("pool", (2, 2, 2), (2, 2, 2)),
}

# The head's valid average pool needs Mixed_5c to be at least 2x7x7: clips of
# at least 9 frames and 193x193 pixels (the network downsamples 8x in time and
# 32x in space, rounding up).
_TOP_MIN_FRAMES = 9
_TOP_MIN_SIZE = 193

KINETICS400_DATA_CONFIG = {
    "num_frames": 64,
    "frame_step": 1,
    "crop_size": 224,
    "short_side": 256,
    "value_range": (-1.0, 1.0),
    "labels": "kinetics400",
}


def apply_unit3d(
    x,
    filters,
    kernel_size=(1, 1, 1),
    strides=(1, 1, 1),
    activation="relu",
    use_batch_norm=True,
    use_bias=False,
    name="unit_3d",
):
    """The original `Unit3D`: Conv3D ('same') -> BN (no scale, eps 1e-3) -> ReLU."""
    x = keras.layers.Conv3D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=use_bias,
        name=f"{name}_conv",
    )(x)
    if use_batch_norm:
        x = keras.layers.BatchNormalization(
            axis=-1, scale=False, epsilon=1e-3, momentum=0.999, name=f"{name}_bn"
        )(x)
    if activation is not None:
        x = keras.layers.Activation(activation, name=f"{name}_{activation}")(x)
    return x


def apply_inception_module(x, channels, name):
    """An Inception module: four branches concatenated on channels.

    ```
                      input
        +---------+------+---------+----------+
     1x1x1      1x1x1        1x1x1      3x3x3 max pool
        |       3x3x3        3x3x3        1x1x1
        +---------+------+---------+----------+
                  concatenate (channels)
    ```
    """
    b0 = apply_unit3d(x, channels[0], name=f"{name}_Branch_0_Conv3d_0a_1x1")
    b1 = apply_unit3d(x, channels[1], name=f"{name}_Branch_1_Conv3d_0a_1x1")
    b1 = apply_unit3d(b1, channels[2], (3, 3, 3), name=f"{name}_Branch_1_Conv3d_0b_3x3")
    b2 = apply_unit3d(x, channels[3], name=f"{name}_Branch_2_Conv3d_0a_1x1")
    # The original names this one `Conv3d_0a_3x3` in Mixed_5b only.
    b2_name = "Conv3d_0a_3x3" if name == "Mixed_5b" else "Conv3d_0b_3x3"
    b2 = apply_unit3d(b2, channels[4], (3, 3, 3), name=f"{name}_Branch_2_{b2_name}")
    b3 = keras.layers.MaxPooling3D(
        (3, 3, 3),
        strides=(1, 1, 1),
        padding="same",
        name=f"{name}_Branch_3_MaxPool3d_0a_3x3",
    )(x)
    b3 = apply_unit3d(b3, channels[5], name=f"{name}_Branch_3_Conv3d_0b_1x1")
    return keras.layers.Concatenate(axis=-1, name=name)([b0, b1, b2, b3])


def InceptionI3D(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=400,
    classifier_activation="softmax",
    name="inception_i3d",
    dropout_rate=0.5,
    final_endpoint="Logits",
):
    """Instantiates the Inception-v1 I3D network.

    The two-stream inflated 3D ConvNet of Carreira and Zisserman (2017), RGB
    stream, exactly as DeepMind's `kinetics-i3d` (see the module docstring for
    the layer names).

    Args:
        include_top: whether to include the `Logits` head (average pool
            `[2, 7, 7]` valid, dropout, 1x1x1 convolution, mean over time).
        weights: `None` (random initialisation), `"kinetics400"` (DeepMind's
            RGB Kinetics-400 weights, converted once with
            `keras-video weights convert i3d-kinetics400`), or the path to a
            `.weights.h5` file.
        input_tensor: optional Keras tensor to use as the model's input.
        input_shape: `(frames, height, width, 3)`; defaults to
            `(None, 224, 224, 3)`. With `include_top=True` clips need at least
            9 frames and 193x193 pixels (the head's valid pooling).
        pooling: with `include_top=False`, `None` (5D features), `"avg"` or
            `"max"` (global pooling over time and space).
        classes: number of classes of the head.
        classifier_activation: activation of the head's output, `None` or
            `"linear"` for logits (the original's `Logits` endpoint),
            `"softmax"` for its `Predictions`.
        name: name of the model.
        dropout_rate: dropout before the logits (the original trains with
            0.5; it is inactive at inference).
        final_endpoint: the last block to build, one of `VALID_ENDPOINTS`;
            anything but `"Logits"` needs `include_top=False`.

    Input shape:
        `(batch, frames, height, width, 3)` RGB in `[-1, 1]` (see
        `preprocess_input`).

    Output shape:
        `(batch, classes)` with the head; otherwise the features of
        `final_endpoint`, `(batch, t, h, w, c)` (`Mixed_5c`: `t = ceil(frames
        / 8)`, `h = ceil(height / 32)`, 1024 channels), or `(batch, c)` with
        `pooling`.

    Example:

    ```python
    import numpy as np
    from keras_video.applications import InceptionI3D

    model = InceptionI3D(include_top=False, pooling="avg",
                         input_shape=(8, 64, 64, 3))
    features = model.predict(np.zeros((1, 8, 64, 64, 3)), verbose=0)
    features.shape  # (1, 1024)
    ```

    Reference:
        Carreira and Zisserman, "Quo Vadis, Action Recognition? A New Model and
        the Kinetics Dataset", CVPR 2017; github.com/deepmind/kinetics-i3d.

    Returns:
        A `keras.Model`.
    """
    common.check_top_arguments(include_top, weights, classes, pooling, name)
    if final_endpoint not in VALID_ENDPOINTS:
        raise ValueError(
            f"{name}: `final_endpoint` must be one of {VALID_ENDPOINTS}. "
            f"Received: final_endpoint={final_endpoint!r}"
        )
    if include_top and final_endpoint != "Logits":
        raise ValueError(
            f"{name}: `final_endpoint` other than 'Logits' needs "
            f"include_top=False. Received: final_endpoint={final_endpoint!r}"
        )
    weights_lib.check_weights(weights, "InceptionI3D")
    check_kinetics400_classes(weights, include_top, classes, name)
    if not 0.0 <= dropout_rate < 1.0:
        raise ValueError(
            f"{name}: `dropout_rate` must be in [0, 1). "
            f"Received: dropout_rate={dropout_rate}"
        )
    inputs, x = common.clip_input(
        input_shape,
        input_tensor,
        default_shape=(None, 224, 224, 3),
        min_frames=_TOP_MIN_FRAMES if include_top else 1,
        min_size=_TOP_MIN_SIZE if include_top else 1,
        name=name,
    )

    for end_point in VALID_ENDPOINTS[:-1]:
        if end_point in MIXED_MODULES:
            x = apply_inception_module(x, MIXED_MODULES[end_point], name=end_point)
        elif STEM_LAYERS[end_point][0] == "unit":
            _, filters, kernel_size, strides = STEM_LAYERS[end_point]
            x = apply_unit3d(x, filters, kernel_size, strides, name=end_point)
        else:
            _, pool_size, strides = STEM_LAYERS[end_point]
            x = keras.layers.MaxPooling3D(
                pool_size, strides=strides, padding="same", name=end_point
            )(x)
        if end_point == final_endpoint:
            break

    if include_top:
        x = keras.layers.AveragePooling3D(
            (2, 7, 7), strides=(1, 1, 1), padding="valid", name="Logits_AvgPool3d"
        )(x)
        if dropout_rate:
            x = keras.layers.Dropout(dropout_rate, name="Logits_dropout")(x)
        x = apply_unit3d(
            x,
            classes,
            activation=None,
            use_batch_norm=False,
            use_bias=True,
            name="Logits_Conv3d_0c_1x1",
        )
        # The original squeezes the 1x1 space and averages the logits over
        # time; averaging over time and space is the same at 224x224.
        x = keras.layers.GlobalAveragePooling3D(name="Logits_mean")(x)
        x = keras.layers.Activation(
            classifier_activation or "linear", name="Predictions"
        )(x)
    else:
        x = common.pool_features(x, pooling)

    model = keras.Model(inputs, x, name=name)
    return weights_lib.load_weights(model, weights, "InceptionI3D")


def load_kinetics400(model, path):
    """Loads the converted Kinetics-400 file at `path` into `model`.

    The preset `weights="kinetics400"`. A model with the full network and its
    head loads the file as it is; a feature extractor (`include_top=False`,
    an earlier `final_endpoint`) gets the layers it has from the full network
    (layer names are stable).
    """
    names = {layer.name for layer in model.layers}
    if {"Logits_Conv3d_0c_1x1_conv", "Mixed_5c"} <= names:
        model.load_weights(path)
        return
    full = InceptionI3D(weights=None, input_shape=(None, 224, 224, 3))
    full.load_weights(path)
    weights_lib.copy_weights_by_name(full, model)


weights_lib.register_preset(
    "InceptionI3D", "kinetics400", weights_lib.KINETICS400, load_kinetics400
)


def check_kinetics400_classes(weights, include_top, classes, name):
    """With `weights="kinetics400"` and its head, `classes` must be 400."""
    if weights == "kinetics400" and include_top and classes != 400:
        raise ValueError(
            f"{name}: with weights='kinetics400' and include_top=True, `classes` "
            f"must be 400. Received: classes={classes}"
        )


def preprocess_input(x):
    """RGB frames in `[0, 255]` (uint8 or float) to I3D's `[-1, 1]`.

    Args:
        x: array or tensor `(..., 3)` of RGB values in `[0, 255]`.

    Returns:
        `float32` values in `[-1, 1]`: `x / 127.5 - 1`.
    """
    x = keras.ops.cast(x, "float32")
    return x / 127.5 - 1.0


def kinetics400_labels():
    """The 400 Kinetics class names in the order of the model's logits."""
    path = os.path.join(os.path.dirname(__file__), "data", "kinetics400_labels.txt")
    with open(path, encoding="utf-8") as f:
        labels = [line.strip() for line in f if line.strip()]
    if len(labels) != 400:
        raise RuntimeError(f"{path} should hold 400 class names, found {len(labels)}")
    return labels


def decode_predictions(preds, top=5):
    """Decodes Kinetics-400 predictions (scores or logits).

    Args:
        preds: `(batch, 400)` array or tensor.
        top: how many classes to return per sample.

    Returns:
        One list per sample of `(class_index, class_name, score)` tuples, best
        first.
    """
    preds = np.asarray(keras.ops.convert_to_numpy(preds))
    if preds.ndim != 2 or preds.shape[1] != 400:
        raise ValueError(
            "decode_predictions expects a batch of Kinetics-400 predictions, "
            f"shape (samples, 400). Received: preds.shape={preds.shape}"
        )
    labels = kinetics400_labels()
    results = []
    for row in preds:
        order = np.argsort(-row, kind="stable")[:top]
        results.append([(int(i), labels[i], float(row[i])) for i in order])
    return results
