"""CNN + RNN: per-frame CNN features into a recurrent network (Donahue et al. 2015)."""

import keras

from keras_video.applications import common
from keras_video.applications import weights as weights_lib
from keras_video.applications.frame_cnn import frame_backbone
from keras_video.layers import TemporalPooling

RNNS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


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

    ```
    clip (T, H, W, C) -> TimeDistributed(2D CNN + global avg pool) -> (T, F)
      -> LSTM/GRU(rnn_units) -> (units) or (T, units) -> Dense(classes)
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
    cnn = frame_backbone(
        backbone,
        tuple(x.shape[2:]),
        base_filters=base_filters,
        depth=depth,
        pooling="avg",
        family=name,
    )
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
