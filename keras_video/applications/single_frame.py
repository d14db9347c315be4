"""The single-frame baseline: a 2D CNN per frame, class scores averaged over time."""

import keras

from keras_video.applications import common
from keras_video.applications import weights as weights_lib
from keras_video.applications.frame_cnn import frame_backbone
from keras_video.layers import TemporalPooling


def SingleFrame(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=400,
    classifier_activation="softmax",
    name="single_frame",
    *,
    backbone=None,
    base_filters=32,
    depth=4,
    frame_pooling="avg",
    dropout_rate=0.0,
    width=None,
):
    """Instantiates the single-frame baseline (Karpathy et al. 2014).

    Every frame goes through the same 2D CNN (weights shared over time); a
    dense layer gives per-frame class scores (logits) and the scores are averaged
    over time before the final activation. The model sees no motion: on a data
    set where only motion tells the classes apart it stays near chance.

    ```
    clip (T, H, W, C) -> TimeDistributed(2D CNN + global avg/max pool) -> (T, F)
      -> Dense(classes) per frame -> (T, classes) -> mean over T -> activation
    ```

    Args:
        include_top: whether to include the per-frame classifier, the temporal
            average and the final activation.
        weights: `None`, a preset name or the path to a `.weights.h5` file.
        input_tensor: optional Keras tensor to use as the clip input.
        input_shape: `(frames, height, width, channels)`; defaults to
            `(16, 112, 112, 3)`. Frames may be `None`.
        pooling: with `include_top=False`: `None` gives per-frame features
            `(batch, frames, F)`; `"avg"` or `"max"` pool them over time.
        classes: number of classes when `include_top=True`.
        classifier_activation: activation applied to the averaged scores.
        name: model name.
        backbone: `None` (a small built-in CNN, see `base_filters` and `depth`), the
            name of a `keras.applications` constructor (`"MobileNetV2"`,
            `"ResNet50"`, ...; built with `weights=None`) or a Keras model that
            maps one frame to features.
        base_filters: channels of the built-in CNN's first stage.
        depth: stages of the built-in CNN (each halves the frame size).
        frame_pooling: how each frame's feature map becomes its feature
            vector: `"avg"` (global average pooling, the default) or `"max"`
            (global maximum: keeps the response of a small object that an
            average over the frame would bury in the background). Applies to
            the built-in CNN, a `keras.applications` name and a `backbone`
            model that returns a map; a backbone that returns a vector is
            used as it is.
        dropout_rate: dropout before the per-frame classifier.
        width: deprecated alias of `base_filters`.

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, classes)` with `include_top=True`; otherwise
        `(batch, frames, F)` or, with `pooling`, `(batch, F)`.

    Example:

    ```python
    import numpy as np
    from keras_video.applications import SingleFrame

    model = SingleFrame(base_filters=8, depth=3, classes=5, input_shape=(8, 32, 32, 3))
    model.predict(np.zeros((1, 8, 32, 32, 3)), verbose=0).shape  # (1, 5)
    # each frame's map max-pooled (the `keras_video.demo` model)
    model = SingleFrame(base_filters=8, depth=3, frame_pooling="max", classes=5,
                        input_shape=(8, 32, 32, 3))
    ```

    Reference:
        Karpathy et al., "Large-scale Video Classification with Convolutional
        Neural Networks", CVPR 2014.
    """
    common.check_top_arguments(include_top, weights, classes, pooling, name)
    if frame_pooling not in ("avg", "max"):
        raise ValueError(
            f"{name}: `frame_pooling` must be 'avg' or 'max'. "
            f"Received: frame_pooling={frame_pooling!r}"
        )
    base_filters = common.renamed_argument(
        name, "width", width, "base_filters", base_filters
    )
    inputs, x = common.clip_input(
        input_shape, input_tensor, (16, 112, 112, 3), min_size=2**depth, name=name
    )
    frame_shape = tuple(x.shape[2:])
    cnn = frame_backbone(
        backbone,
        frame_shape,
        base_filters=base_filters,
        depth=depth,
        pooling=frame_pooling,
        family=name,
    )
    x = keras.layers.TimeDistributed(cnn, name="frame_features")(x)
    if include_top:
        if dropout_rate:
            x = keras.layers.Dropout(dropout_rate, name="dropout")(x)
        x = keras.layers.Dense(classes, name="frame_logits")(x)
        x = TemporalPooling("average", name="temporal_avg_pool")(x)
        x = keras.layers.Activation(classifier_activation, name="predictions")(x)
    elif pooling is not None:
        mode = "average" if pooling == "avg" else "max"
        x = TemporalPooling(mode, name=f"temporal_{pooling}_pool")(x)
    model = keras.Model(inputs, x, name=name)
    return weights_lib.load_weights(model, weights, "single_frame")
