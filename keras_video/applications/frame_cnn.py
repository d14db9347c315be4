"""The per-frame 2D CNNs of the single-frame, fusion, CNN+RNN and two-stream models.

`frame_backbone` turns the `backbone` argument of those constructors (`None`
for the small built-in CNN, a `keras.applications` name, or a Keras model) into
a 2D `keras.Model` that maps one frame to a feature map or a feature vector.
Applied to every frame with `keras.layers.TimeDistributed`, it saves and loads
with `safe_mode=True` (no Lambda layers).
"""

import keras


def apply_frame_cnn(x, base_filters=32, depth=4, name="frame", first_stage=0):
    """The built-in 2D CNN: `depth` stages of Conv 3x3 -> BN -> ReLU -> MaxPool 2.

    Stage `i` has `base_filters * 2**min(i, 3)` channels, so `depth=4` halves the size
    four times and ends with `8 * base_filters` channels. `first_stage` skips the
    first stages (a caller that builds them itself).
    """
    for i in range(first_stage, depth):
        filters = base_filters * 2 ** min(i, 3)
        prefix = f"{name}_block{i + 1}"
        x = keras.layers.Conv2D(
            filters, 3, padding="same", use_bias=False, name=f"{prefix}_conv"
        )(x)
        x = keras.layers.BatchNormalization(name=f"{prefix}_bn")(x)
        x = keras.layers.Activation("relu", name=f"{prefix}_relu")(x)
        x = keras.layers.MaxPooling2D(2, name=f"{prefix}_pool")(x)
    return x


_GLOBAL_POOLS = {
    "avg": keras.layers.GlobalAveragePooling2D,
    "max": keras.layers.GlobalMaxPooling2D,
}


def _check_pooling(pooling, family):
    if pooling is not None and pooling not in _GLOBAL_POOLS:
        raise ValueError(
            f"{family}: the frame `pooling` must be None, 'avg' or 'max'. "
            f"Received: pooling={pooling!r}"
        )


def FrameCNN(frame_shape, base_filters=32, depth=4, pooling="avg", name="frame_cnn"):
    """The built-in per-frame CNN as a `keras.Model` on `(height, width, channels)`.

    A plain functional 2D model (Conv2D, BatchNormalization, ReLU,
    MaxPooling2D, global pooling), so `inflate` turns it into a 3D CNN.

    Args:
        frame_shape: `(height, width, channels)` of one frame.
        base_filters: channels of the first stage (later stages double it, up
            to 8x).
        depth: number of stages (each halves the frame size).
        pooling: `"avg"` or `"max"` (a feature vector per frame: the global
            average or maximum of the last map, layer `frame_<pooling>_pool`)
            or `None` (the feature map).
        name: model name.

    Input shape:
        `(batch, height, width, channels)`.

    Output shape:
        `(batch, height / 2**depth, width / 2**depth, F)` with `pooling=None`,
        otherwise `(batch, F)`; `F = base_filters * 2**min(depth - 1, 3)`.

    Example:

    ```python
    from keras_video.applications import inflate
    from keras_video.applications.frame_cnn import FrameCNN

    cnn = FrameCNN((32, 32, 3), base_filters=8, depth=3, pooling="max")
    cnn.output_shape  # (None, 32)
    inflate(cnn, time_kernels=3).output_shape  # (None, 32): a 3D CNN on clips
    ```
    """
    _check_pooling(pooling, name)
    inputs = keras.Input(shape=frame_shape, name="frame")
    x = apply_frame_cnn(inputs, base_filters=base_filters, depth=depth, name="frame")
    if pooling is not None:
        x = _GLOBAL_POOLS[pooling](name=f"frame_{pooling}_pool")(x)
    return keras.Model(inputs, x, name=name)


def frame_backbone(
    backbone, frame_shape, base_filters=32, depth=4, pooling="avg", family="model"
):
    """A 2D `keras.Model` for one frame from a constructor's `backbone` argument.

    Args:
        backbone: `None` (the built-in CNN with `base_filters` and `depth`), the name of
            a `keras.applications` constructor (e.g. `"MobileNetV2"`, built with
            `include_top=False`, `weights=None`), or a Keras model whose input is
            one frame.
        frame_shape: `(height, width, channels)`.
        pooling: `"avg"` or `"max"` for one feature vector per frame (the
            global average or maximum of the frame's map), `None` for a map.
        family: the calling constructor, for error messages.
    """
    _check_pooling(pooling, family)
    if backbone is None:
        return FrameCNN(
            frame_shape, base_filters=base_filters, depth=depth, pooling=pooling
        )
    if isinstance(backbone, str):
        constructor = getattr(keras.applications, backbone, None)
        if constructor is None or not callable(constructor):
            raise ValueError(
                f"{family}: `backbone` must be None, a keras.applications name such "
                f"as 'MobileNetV2', or a Keras model. Received: backbone={backbone!r}"
            )
        return constructor(
            include_top=False, weights=None, input_shape=frame_shape, pooling=pooling
        )
    if isinstance(backbone, keras.Model):
        if len(backbone.inputs) != 1 or len(backbone.inputs[0].shape) != 4:
            raise ValueError(
                f"{family}: a `backbone` model must take one frame, "
                "(batch, height, width, channels). "
                f"Received: backbone inputs={[tuple(x.shape) for x in backbone.inputs]}"
            )
        rank = len(backbone.outputs[0].shape)
        if pooling is not None and rank == 4:
            inputs = keras.Input(
                shape=tuple(backbone.inputs[0].shape[1:]), name="frame"
            )
            x = backbone(inputs)
            x = _GLOBAL_POOLS[pooling](name=f"frame_{pooling}_pool")(x)
            return keras.Model(inputs, x, name=f"{backbone.name}_pooled")
        return backbone
    raise ValueError(
        f"{family}: `backbone` must be None, a keras.applications name or a Keras "
        f"model. Received: backbone={backbone!r}"
    )
