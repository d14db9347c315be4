"""Recurrent CNN: a layered grid of convolutional GRUs (Ballas et al. 2016)."""

import keras

from keras_video.applications import common
from keras_video.applications import weights as weights_lib
from keras_video.layers import ConvGRU


def RecurrentCNN(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=400,
    classifier_activation="softmax",
    name="recurrent_cnn",
    *,
    base_filters=32,
    depth=3,
    kernel_size=3,
    dropout_rate=0.0,
    filters=None,
):
    """Instantiates a recurrent CNN: stacked ConvGRU layers over the frames.

    Every layer is a convolutional GRU whose state is a feature map: the
    recurrence runs over time at every position, and its gates are
    convolutions, so each hidden unit sees a growing space-time neighbourhood.
    Layers are stacked like the layers of a CNN, each reading the previous
    layer's whole sequence of states (`return_sequences=True`) after a 2x2
    spatial max pool, which gives the grid of the notes: depth is the stack,
    width is time. The last layer's final state classifies the clip.

    ```
    clip (T, H, W, C) -> ConvGRU(f1) -> (T, H, W, f1) -> pool (1, 2, 2)
      -> ConvGRU(f2) -> (T, H/2, W/2, f2) -> pool ... -> ConvGRU(fn), last state
      -> (H/2^(n-1), W/2^(n-1), fn) -> global avg pool -> predictions
    ```

    Args:
        include_top: whether to include the global pooling and `predictions`.
        weights: `None`, a preset name or the path to a `.weights.h5` file.
        input_tensor: optional Keras tensor to use as the clip input.
        input_shape: `(frames, height, width, channels)`; defaults to
            `(16, 112, 112, 3)`. Frames may be `None`.
        pooling: with `include_top=False`: `None` (the last layer's final
            state, `(batch, h, w, fn)`), `"avg"` or `"max"`.
        classes: number of classes when `include_top=True`.
        classifier_activation: activation of `predictions`; `None` for logits.
        name: model name.
        base_filters: channels of the first ConvGRU layer; layer `i` has
            `base_filters * 2**i`.
        depth: number of ConvGRU layers.
        kernel_size: kernel of every ConvGRU (input and recurrent convolutions).
        dropout_rate: dropout before `predictions`.
        filters: deprecated: the channels of every layer, first to last (use
            `base_filters` and `depth`).

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, classes)` with `include_top=True`.

    Example:

    ```python
    import numpy as np
    from keras_video.applications import RecurrentCNN

    model = RecurrentCNN(base_filters=4, depth=2, classes=5, input_shape=(8, 32, 32, 3))
    model.predict(np.zeros((1, 8, 32, 32, 3)), verbose=0).shape  # (1, 5)
    ```

    Reference:
        Ballas et al., "Delving Deeper into Convolutional Networks for
        Learning Video Representations", ICLR 2016.
        https://arxiv.org/abs/1511.06432
    """
    common.check_top_arguments(include_top, weights, classes, pooling, name)
    filters = common.renamed_argument(
        name, "filters", filters, "base_filters and depth", None
    )
    if filters is None:
        for value, arg in ((base_filters, "base_filters"), (depth, "depth")):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"{name}: `{arg}` must be a positive integer. "
                    f"Received: {arg}={value!r}"
                )
        filters = tuple(base_filters * 2**i for i in range(depth))
    filters = tuple(filters) if isinstance(filters, (list, tuple)) else (filters,)
    if not filters or not all(
        isinstance(f, int) and not isinstance(f, bool) and f > 0 for f in filters
    ):
        raise ValueError(
            f"{name}: `filters` must be a non-empty sequence of positive integers. "
            f"Received: filters={filters!r}"
        )
    inputs, x = common.clip_input(
        input_shape,
        input_tensor,
        (16, 112, 112, 3),
        min_size=2 ** (len(filters) - 1),
        name=name,
    )
    for i, units in enumerate(filters):
        last = i == len(filters) - 1
        x = ConvGRU(
            units,
            kernel_size,
            padding="same",
            return_sequences=not last,
            name=f"conv_gru{i + 1}",
        )(x)
        if not last:
            x = keras.layers.MaxPooling3D((1, 2, 2), name=f"pool{i + 1}")(x)
    if include_top:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = common.classifier(x, classes, classifier_activation, dropout_rate)
    elif pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = keras.Model(inputs, x, name=name)
    return weights_lib.load_weights(model, weights, "recurrent_cnn")
