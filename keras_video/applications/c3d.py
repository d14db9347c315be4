"""C3D: a plain 3x3x3 convolutional network (Tran et al. 2015).

```
clip (16, 112, 112, 3)
  conv1a 64  -> pool1 (1, 2, 2)
  conv2a 128 -> pool2 (2, 2, 2)
  conv3a, conv3b 256 -> pool3 (2, 2, 2)
  conv4a, conv4b 512 -> pool4 (2, 2, 2)
  conv5a, conv5b 512 -> pool5 (2, 2, 2), padded: (2, 7, 7) -> (1, 4, 4)
  flatten (8192) -> fc6 4096 -> dropout -> fc7 4096 -> dropout -> predictions
```

Every convolution is 3x3x3, stride 1, "same" padding, with bias and ReLU.
`pool5` rounds up (Caffe's ceil mode, `padding="same"` here), so a 112x112
clip ends at 4x4 and `fc6` sees 512 * 4 * 4 = 8192 features.
"""

import keras

from keras_video.applications import common
from keras_video.applications import weights as weights_lib

# (name, channels as a multiple of base_filters, pooling after it)
LAYERS = (
    ("conv1a", 1, ("pool1", (1, 2, 2), "valid")),
    ("conv2a", 2, ("pool2", (2, 2, 2), "valid")),
    ("conv3a", 4, None),
    ("conv3b", 4, ("pool3", (2, 2, 2), "valid")),
    ("conv4a", 8, None),
    ("conv4b", 8, ("pool4", (2, 2, 2), "valid")),
    ("conv5a", 8, None),
    ("conv5b", 8, ("pool5", (2, 2, 2), "same")),
)


def C3D(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=487,
    classifier_activation="softmax",
    name="c3d",
    *,
    base_filters=64,
    fc_units=4096,
    dropout_rate=0.5,
    batch_norm=False,
):
    """Instantiates C3D (Tran et al. 2015), the Sports-1M network by default.

    Args:
        include_top: whether to include `fc6`, `fc7` and `predictions` (`fc8`).
        weights: `None`, a preset name or the path to a `.weights.h5` file.
        input_tensor: optional Keras tensor to use as the clip input.
        input_shape: `(frames, height, width, channels)`; defaults to
            `(16, 112, 112, 3)`. At least 8 frames and 16x16 pixels; with
            `include_top=True` every size must be known (`fc6` is dense).
        pooling: with `include_top=False`: `None` (the `pool5` features),
            `"avg"` or `"max"`.
        classes: number of classes; 487 is Sports-1M.
        classifier_activation: activation of `predictions`; `None` for logits.
        name: model name.
        base_filters: channels of `conv1a` (64 in the paper); the other layers
            use 2, 4 or 8 times it. Small values make small models.
        fc_units: units of `fc6` and `fc7` (4096 in the paper).
        dropout_rate: dropout after `fc6` and after `fc7`.
        batch_norm: `True` puts a batch norm between every convolution and its
            ReLU (the convolutions then have no bias). The paper's C3D has
            none (`False`); small C3Ds trained from scratch for a few epochs
            (the CPU demo) only start learning with it.

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, classes)` with `include_top=True`; otherwise
        `(batch, ceil(frames / 16), ceil(height / 32), ceil(width / 32), C)`
        with `C = 8 * base_filters`,
        or, with `pooling`, `(batch, 8 * base_filters)`.

    Example:

    ```python
    import numpy as np
    from keras_video.applications import C3D

    model = C3D(base_filters=4, fc_units=32, classes=5, input_shape=(8, 32, 32, 3))
    model.predict(np.zeros((1, 8, 32, 32, 3)), verbose=0).shape  # (1, 5)
    ```

    Reference:
        Tran et al., "Learning Spatiotemporal Features with 3D Convolutional
        Networks", ICCV 2015. https://arxiv.org/abs/1412.0767
    """
    common.check_top_arguments(include_top, weights, classes, pooling, name)
    for value, arg in ((base_filters, "base_filters"), (fc_units, "fc_units")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(
                f"{name}: `{arg}` must be a positive integer. Received: {arg}={value!r}"
            )
    inputs, x = common.clip_input(
        input_shape,
        input_tensor,
        (16, 112, 112, 3),
        min_frames=8,
        min_size=16,
        name=name,
    )
    if include_top and None in tuple(x.shape[1:]):
        raise ValueError(
            f"{name}: with include_top=True every size of `input_shape` must be "
            f"known (fc6 is dense). Received: input_shape={tuple(x.shape[1:])}"
        )
    for layer_name, multiple, pool in LAYERS:
        x = keras.layers.Conv3D(
            base_filters * multiple,
            3,
            padding="same",
            activation=None if batch_norm else "relu",
            use_bias=not batch_norm,
            name=layer_name,
        )(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"{layer_name}_bn")(x)
            x = keras.layers.Activation("relu", name=f"{layer_name}_relu")(x)
        if pool is not None:
            pool_name, size, padding = pool
            x = keras.layers.MaxPooling3D(
                size, strides=size, padding=padding, name=pool_name
            )(x)
    if include_top:
        x = keras.layers.Flatten(name="flatten")(x)
        x = keras.layers.Dense(fc_units, activation="relu", name="fc6")(x)
        x = keras.layers.Dropout(dropout_rate, name="drop6")(x)
        x = keras.layers.Dense(fc_units, activation="relu", name="fc7")(x)
        x = common.classifier(x, classes, classifier_activation, dropout_rate)
    else:
        x = common.pool_features(x, pooling)
    model = keras.Model(inputs, x, name=name)
    return weights_lib.load_weights(model, weights, "c3d")
