"""What every application constructor shares: the input and the head.

Constructors follow `keras.applications.ResNet50`:

```python
def Family(include_top=True, weights=None, input_tensor=None, input_shape=None,
           pooling=None, classes=400, classifier_activation="softmax",
           name="family", **family_args): ...
```

Weights (`None`, a preset or a path) load through `weights.load_weights`.
"""

import warnings

import keras


def clip_input(
    input_shape,
    input_tensor,
    default_shape,
    min_frames=1,
    min_size=1,
    name="model",
):
    """Checks `input_shape` and returns `(model_inputs, x)`.

    Args:
        input_shape: `(frames, height, width, channels)` or `None` for
            `default_shape`. Any entry but channels may be `None`.
        input_tensor: optional Keras tensor to build the model on.
        default_shape: the shape used when `input_shape` is `None`.
        min_frames: the fewest frames the network accepts.
        min_size: the smallest height and width the network accepts.
        name: the model's name, for error messages.

    Returns:
        `(inputs, x)`: the model's `inputs` and the tensor to build on.
    """
    if input_shape is None:
        input_shape = default_shape
        if input_tensor is not None:
            input_shape = tuple(input_tensor.shape[1:])
    input_shape = tuple(input_shape)
    if len(input_shape) != 4:
        raise ValueError(
            f"{name}: `input_shape` must be (frames, height, width, channels). "
            f"Received: input_shape={input_shape}"
        )
    frames, height, width, channels = input_shape
    if channels is None:
        raise ValueError(
            f"{name}: the channel axis of `input_shape` must be known. "
            f"Received: input_shape={input_shape}"
        )
    if frames is not None and frames < min_frames:
        raise ValueError(
            f"{name} needs clips of at least {min_frames} frames. "
            f"Received: input_shape={input_shape}"
        )
    for size in (height, width):
        if size is not None and size < min_size:
            raise ValueError(
                f"{name} needs frames of at least {min_size}x{min_size} pixels. "
                f"Received: input_shape={input_shape}"
            )
    if input_tensor is None:
        inputs = keras.Input(shape=input_shape, name="clip")
        return inputs, inputs
    if not keras.backend.is_keras_tensor(input_tensor):
        inputs = keras.Input(tensor=input_tensor, shape=input_shape, name="clip")
        return inputs, inputs
    return keras.utils.get_source_inputs(input_tensor), input_tensor


def check_top_arguments(include_top, weights, classes, pooling, name):
    """The `keras.applications` argument checks, with the same messages."""
    if pooling not in (None, "avg", "max"):
        raise ValueError(
            f"{name}: `pooling` must be None, 'avg' or 'max'. "
            f"Received: pooling={pooling!r}"
        )
    if include_top and (not isinstance(classes, int) or classes <= 0):
        raise ValueError(
            f"{name}: `classes` must be a positive integer when include_top=True. "
            f"Received: classes={classes!r}"
        )


def check_depth_and_width(depth, depths, base_filters, name):
    """`depth` must be a key of `depths`, `base_filters` a positive int.

    Raises:
        ValueError: naming the model and the argument.
    """
    if depth not in depths:
        raise ValueError(
            f"{name}: `depth` must be one of {sorted(depths)}. "
            f"Received: depth={depth!r}"
        )
    if (
        isinstance(base_filters, bool)
        or not isinstance(base_filters, int)
        or base_filters < 1
    ):
        raise ValueError(
            f"{name}: `base_filters` must be a positive integer. "
            f"Received: base_filters={base_filters!r}"
        )


def conv3d_torch_padding(x, filters, kernel_size, strides, name):
    """Conv3D without bias, padded symmetrically by `k // 2` as in PyTorch.

    Keras' `"same"` pads like TensorFlow (more after than before at stride 2),
    so weights ported from PyTorch models would see shifted windows; explicit
    `ZeroPadding3D` then a `"valid"` conv keeps them aligned.
    """
    padding = tuple((k // 2, k // 2) for k in kernel_size)
    if any(p for p, _ in padding):
        x = keras.layers.ZeroPadding3D(padding, name=f"{name}_pad")(x)
    return keras.layers.Conv3D(
        filters,
        kernel_size,
        strides=strides,
        padding="valid",
        use_bias=False,
        kernel_initializer="he_normal",
        name=name,
    )(x)


def pool_features(x, pooling):
    """Global pooling over time and space of `(batch, t, h, w, c)` features."""
    if pooling == "avg":
        return keras.layers.GlobalAveragePooling3D(name="avg_pool")(x)
    if pooling == "max":
        return keras.layers.GlobalMaxPooling3D(name="max_pool")(x)
    return x


def classifier(x, classes, classifier_activation, dropout_rate=0.0):
    """Dropout then the `predictions` dense layer, as in `keras.applications`."""
    if dropout_rate:
        x = keras.layers.Dropout(dropout_rate, name="dropout")(x)
    return keras.layers.Dense(
        classes, activation=classifier_activation, name="predictions"
    )(x)


def renamed_argument(name, old, old_value, new, new_value):
    """`new_value`, or `old_value` (with a `DeprecationWarning`) if `old` was given.

    Keeps a renamed keyword working: `SingleFrame(width=8)` is
    `SingleFrame(base_filters=8)`.
    """
    if old_value is None:
        return new_value
    warnings.warn(
        f"{name}: `{old}` is deprecated; use `{new}`. Received: {old}={old_value!r}",
        DeprecationWarning,
        stacklevel=3,
    )
    return old_value
