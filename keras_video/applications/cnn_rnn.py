"""CNN + RNN: per-frame CNN features into a recurrent network (Donahue et al. 2015)."""

import keras

from keras_video.applications import common
from keras_video.applications import weights as weights_lib
from keras_video.applications.frame_cnn import frame_backbone
from keras_video.layers import TemporalPooling

RNNS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
FRAME_FEATURES = ("pooled", "map")


def frame_map_cnn(cnn, map_channels=1, name="frame_map_cnn"):
    """A per-frame CNN whose feature map is kept, coarsely, as a vector.

    `cnn` maps a frame to a feature map `(h, w, c)`; a 1x1 convolution to
    `map_channels` channels (batch norm, ReLU) then a flatten give
    `h * w * map_channels` features that still say where things are.
    """
    if len(cnn.outputs[0].shape) != 4:
        raise ValueError(
            "frame_features='map' needs a backbone that returns a feature map "
            f"(batch, h, w, c). Received: output shape {tuple(cnn.outputs[0].shape)}"
        )
    frame = keras.Input(tuple(cnn.inputs[0].shape[1:]), name="frame")
    x = cnn(frame)
    x = keras.layers.Conv2D(map_channels, 1, use_bias=False, name="frame_map")(x)
    x = keras.layers.BatchNormalization(name="frame_map_bn")(x)
    x = keras.layers.Activation("relu", name="frame_map_relu")(x)
    x = keras.layers.Flatten(name="frame_map_flatten")(x)
    return keras.Model(frame, x, name=name)


def CNNRNN(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=400,
    classifier_activation="softmax",
    name="cnn_rnn",
    *,
    backbone=None,
    rnn="lstm",
    rnn_units=256,
    return_sequences=False,
    trainable_backbone=True,
    frame_features="pooled",
    map_channels=1,
    base_filters=32,
    depth=4,
    dropout_rate=0.0,
    width=None,
):
    """Instantiates a CNN + RNN video model (the LRCN of Donahue et al. 2015).

    A 2D CNN turns every frame into a feature vector; an LSTM or GRU reads the
    sequence. Many-to-one (`return_sequences=False`) classifies the clip from
    the last state; many-to-many (`True`) predicts a class for every frame.
    With `trainable_backbone=False` the CNN is frozen (its batch norms run in
    inference mode): the "precomputed features" trick that lets an RNN train
    over long videos, since no gradients flow into the CNN.

    A pooled frame feature (`frame_features="pooled"`) has lost where things
    are in the frame, so the RNN cannot tell which way a small shape moves.
    `frame_features="map"` keeps the spatial map: a 1x1 convolution to
    `map_channels` channels (batch norm, ReLU) is flattened into
    `h * w * map_channels` features per frame, a coarse map the RNN compares
    over time (LRCN's fc6 is likewise a dense layer over the flattened conv5
    map, not a pooled vector). On the demo's motion data set it is what lets
    CNN+RNN learn the direction.

    ```
    clip (T, H, W, C) -> TimeDistributed(2D CNN + global avg pool) -> (T, F)
      -> LSTM/GRU(rnn_units) -> (units) or (T, units) -> Dense(classes)
    map: 2D CNN -> (h, w, c) -> Conv 1x1 (map_channels) -> BN -> ReLU -> Flatten
    ```

    Args:
        include_top: whether to include `predictions`.
        weights: `None`, a preset name or the path to a `.weights.h5` file.
        input_tensor: optional Keras tensor to use as the clip input.
        input_shape: `(frames, height, width, channels)`; defaults to
            `(16, 112, 112, 3)`. Frames may be `None` (any clip length).
        pooling: with `include_top=False` and `return_sequences=True`:
            `"avg"` or `"max"` pools the RNN outputs over time; ignored for
            many-to-one.
        classes: number of classes when `include_top=True`.
        classifier_activation: activation of `predictions`; `None` for logits.
        name: model name.
        backbone: `None` (built-in CNN with `base_filters` and `depth`), a
            `keras.applications` name (built with `weights=None`) or a Keras
            model that maps one frame to features.
        rnn: `"lstm"` or `"gru"`.
        rnn_units: units of the recurrent layer.
        return_sequences: `True` for per-frame predictions (many-to-many).
        trainable_backbone: `False` freezes the per-frame CNN.
        frame_features: `"pooled"` (a globally averaged feature vector per
            frame) or `"map"` (the flattened, 1x1-convolved feature map).
        map_channels: channels of the map of `frame_features="map"`.
        base_filters: channels of the built-in CNN's first stage.
        depth: stages of the built-in CNN.
        dropout_rate: dropout before `predictions`.
        width: deprecated alias of `base_filters`.

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, classes)`, or `(batch, frames, classes)` with
        `return_sequences=True`. Without the top: the RNN outputs.

    Example:

    ```python
    import numpy as np
    from keras_video.applications import CNNRNN

    model = CNNRNN(base_filters=8, depth=3, rnn="gru", rnn_units=16, classes=5,
                   input_shape=(8, 32, 32, 3))
    model.predict(np.zeros((1, 8, 32, 32, 3)), verbose=0).shape  # (1, 5)
    ```

    Reference:
        Donahue et al., "Long-term Recurrent Convolutional Networks for Visual
        Recognition and Description", CVPR 2015. https://arxiv.org/abs/1411.4389
    """
    common.check_top_arguments(include_top, weights, classes, pooling, name)
    base_filters = common.renamed_argument(
        name, "width", width, "base_filters", base_filters
    )
    if rnn not in RNNS:
        raise ValueError(
            f"{name}: `rnn` must be one of {sorted(RNNS)}. Received: rnn={rnn!r}"
        )
    if isinstance(rnn_units, bool) or not isinstance(rnn_units, int) or rnn_units < 1:
        raise ValueError(
            f"{name}: `rnn_units` must be a positive integer. "
            f"Received: rnn_units={rnn_units!r}"
        )
    inputs, x = common.clip_input(
        input_shape, input_tensor, (16, 112, 112, 3), min_size=2**depth, name=name
    )
    if frame_features not in FRAME_FEATURES:
        raise ValueError(
            f"{name}: `frame_features` must be one of {list(FRAME_FEATURES)}. "
            f"Received: frame_features={frame_features!r}"
        )
    keep_map = frame_features == "map"
    if keep_map and None in tuple(x.shape[2:]):
        raise ValueError(
            f"{name}: frame_features='map' needs the frame size known. "
            f"Received: input_shape={tuple(x.shape[1:])}"
        )
    cnn = frame_backbone(
        backbone,
        tuple(x.shape[2:]),
        base_filters=base_filters,
        depth=depth,
        pooling=None if keep_map else "avg",
        family=name,
    )
    if keep_map:
        cnn = frame_map_cnn(cnn, map_channels)
    cnn.trainable = bool(trainable_backbone)
    x = keras.layers.TimeDistributed(cnn, name="frame_features")(x)
    x = RNNS[rnn](rnn_units, return_sequences=return_sequences, name=rnn)(x)
    if include_top:
        x = common.classifier(x, classes, classifier_activation, dropout_rate)
    elif return_sequences and pooling is not None:
        mode = "average" if pooling == "avg" else "max"
        x = TemporalPooling(mode, name=f"temporal_{pooling}_pool")(x)
    model = keras.Model(inputs, x, name=name)
    return weights_lib.load_weights(model, weights, "cnn_rnn")
