"""Late, early and slow fusion: where a CNN combines time (Karpathy et al. 2014).

```
LateFusion:  shared 2D CNN per frame -> (T, h, w, c) -> flatten -> MLP (or average,
             or a convolution over the frames' stacked maps)
EarlyFusion: frames stacked on channels (H, W, T*C) -> first conv sees the clip
SlowFusion:  3D convs with temporal kernels (4, 2, 2), strides 2: time fused slowly
```
"""

import keras

from keras_video.applications import common
from keras_video.applications import weights as weights_lib
from keras_video.applications.frame_cnn import apply_frame_cnn, frame_backbone

FUSIONS = ("flatten", "average", "conv")


def _check_int(value, name, family):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"{family}: `{name}` must be a positive integer. Received: {name}={value!r}"
        )


def _top_2d(x, include_top, pooling, classes, classifier_activation, dropout_rate):
    if include_top:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        return common.classifier(x, classes, classifier_activation, dropout_rate)
    if pooling == "avg":
        return keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def _stack_frames(x):
    """`(batch, T, h, w, c)` to `(batch, h, w, T * c)`: frames along channels."""
    frames, height, width, channels = tuple(x.shape[1:])
    x = keras.layers.Permute((2, 3, 1, 4), name="frames_last")(x)
    return keras.layers.Reshape(
        (height, width, frames * channels), name="stack_frames"
    )(x)


def LateFusion(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=400,
    classifier_activation="softmax",
    name="late_fusion",
    *,
    fusion="flatten",
    backbone=None,
    base_filters=32,
    depth=4,
    fc_units=512,
    dropout_rate=0.5,
    width=None,
):
    """Instantiates a late-fusion network (Karpathy et al. 2014).

    Every frame goes through the same 2D CNN; the per-frame feature maps meet
    only at the top. With `fusion="flatten"` (the paper's late fusion, there
    on two frames 15 apart) they are flattened together into a fully connected
    layer, which can compare frames and so see motion; with `"average"` they
    are averaged over time and space before a linear classifier. With
    `"conv"` the maps are stacked along channels and fused by one 3x3
    convolution (ReLU): a fully connected layer over the frames shared by all
    positions, so motion is learned once for the whole frame rather than per
    position as `"flatten"` must (on the demo's small motion data set
    `"flatten"` memorised the training clips and `"conv"` reached 0.98).

    ```
    clip (T, H, W, C) -> TimeDistributed(2D CNN) -> (T, h, w, c)
      flatten: -> Flatten -> Dense(fc_units) -> Dropout -> predictions
      average: -> global avg pool over (T, h, w) -> Dropout -> predictions
      conv:    -> (h, w, T*c) -> Conv2D(fc_units, 3) -> (h, w, fc_units)
               -> global avg pool -> Dropout -> predictions
    ```

    Args:
        include_top: whether to include the fusion head and `predictions`.
        weights: `None`, a preset name or the path to a `.weights.h5` file.
        input_tensor: optional Keras tensor to use as the clip input.
        input_shape: `(frames, height, width, channels)`; defaults to
            `(10, 112, 112, 3)`. `fusion="flatten"` and `"conv"` need every
            size known.
        pooling: with `include_top=False`: `None` (per-frame feature maps
            `(batch, T, h, w, c)`; with `fusion="conv"` the fused map
            `(batch, h, w, fc_units)`), `"avg"` or `"max"`.
        classes: number of classes when `include_top=True`.
        classifier_activation: activation of `predictions`; `None` for logits.
        name: model name.
        fusion: `"flatten"`, `"average"` or `"conv"`.
        backbone: `None` (built-in CNN), a `keras.applications` name or a Keras
            model mapping one frame to a feature map.
        base_filters: channels of the built-in CNN's first stage.
        depth: stages of the built-in CNN.
        fc_units: units of the fully connected layer of `fusion="flatten"`,
            filters of the fusion convolution of `fusion="conv"`.
        dropout_rate: dropout before `predictions`.
        width: deprecated alias of `base_filters`.

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, classes)` with `include_top=True`; otherwise the per-frame
        feature maps (`fusion="conv"`: the fused map) or, with `pooling`,
        `(batch, c)`.

    Example:

    ```python
    import numpy as np
    from keras_video.applications import LateFusion

    model = LateFusion(base_filters=8, depth=3, fc_units=32, classes=5,
                       input_shape=(8, 32, 32, 3))
    model.predict(np.zeros((1, 8, 32, 32, 3)), verbose=0).shape  # (1, 5)
    ```

    Reference:
        Karpathy et al., "Large-scale Video Classification with Convolutional
        Neural Networks", CVPR 2014.
    """
    common.check_top_arguments(include_top, weights, classes, pooling, name)
    base_filters = common.renamed_argument(
        name, "width", width, "base_filters", base_filters
    )
    if fusion not in FUSIONS:
        raise ValueError(
            f"{name}: `fusion` must be one of {list(FUSIONS)}. "
            f"Received: fusion={fusion!r}"
        )
    inputs, x = common.clip_input(
        input_shape, input_tensor, (10, 112, 112, 3), min_size=2**depth, name=name
    )
    needs_shape = fusion == "conv" or (include_top and fusion == "flatten")
    if needs_shape and None in tuple(x.shape[1:]):
        raise ValueError(
            f"{name}: fusion={fusion!r} needs a fully known `input_shape`. "
            f"Received: input_shape={tuple(x.shape[1:])}"
        )
    cnn = frame_backbone(
        backbone,
        tuple(x.shape[2:]),
        base_filters=base_filters,
        depth=depth,
        pooling=None,
        family=name,
    )
    x = keras.layers.TimeDistributed(cnn, name="frame_features")(x)
    if fusion == "conv":
        x = _stack_frames(x)
        x = keras.layers.Conv2D(
            fc_units, 3, padding="same", activation="relu", name="fusion_conv"
        )(x)
        x = _top_2d(
            x, include_top, pooling, classes, classifier_activation, dropout_rate
        )
    elif include_top:
        if fusion == "flatten":
            x = keras.layers.Flatten(name="flatten")(x)
            x = keras.layers.Dense(fc_units, activation="relu", name="fc1")(x)
        else:
            x = keras.layers.GlobalAveragePooling3D(name="avg_pool")(x)
        x = common.classifier(x, classes, classifier_activation, dropout_rate)
    else:
        x = common.pool_features(x, pooling)
    model = keras.Model(inputs, x, name=name)
    return weights_lib.load_weights(model, weights, "late_fusion")


def EarlyFusion(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=400,
    classifier_activation="softmax",
    name="early_fusion",
    *,
    base_filters=32,
    depth=4,
    fusion_kernel_size=3,
    dropout_rate=0.5,
    width=None,
):
    """Instantiates an early-fusion network (Karpathy et al. 2014).

    The frames are stacked along channels, so the first convolution sees the
    whole clip at once (its filters span all `T` frames, as the paper's
    11x11x3xT filters); everything after it is 2D.

    ```
    clip (T, H, W, C) -> (H, W, T*C) -> Conv2D(base_filters, k) -> BN -> ReLU -> MaxPool
      -> 2D CNN stages -> global avg pool -> Dropout -> predictions
    ```

    Args:
        include_top: whether to include the global pooling and `predictions`.
        weights: `None`, a preset name or the path to a `.weights.h5` file.
        input_tensor: optional Keras tensor to use as the clip input.
        input_shape: `(frames, height, width, channels)`, all known; defaults
            to `(10, 112, 112, 3)`.
        pooling: with `include_top=False`: `None` (a 2D feature map
            `(batch, h, w, c)`), `"avg"` or `"max"`.
        classes: number of classes when `include_top=True`.
        classifier_activation: activation of `predictions`; `None` for logits.
        name: model name.
        base_filters: channels of the fusion convolution; later stages double it.
        depth: stages, the fusion convolution's included.
        fusion_kernel_size: spatial kernel of the fusion convolution.
        dropout_rate: dropout before `predictions`.
        width: deprecated alias of `base_filters`.

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, classes)` with `include_top=True`; otherwise
        `(batch, H / 2**depth, W / 2**depth, c)` or, with `pooling`, `(batch, c)`.

    Example:

    ```python
    import numpy as np
    from keras_video.applications import EarlyFusion

    model = EarlyFusion(base_filters=8, depth=3, classes=5, input_shape=(8, 32, 32, 3))
    model.predict(np.zeros((1, 8, 32, 32, 3)), verbose=0).shape  # (1, 5)
    ```

    Reference:
        Karpathy et al., "Large-scale Video Classification with Convolutional
        Neural Networks", CVPR 2014.
    """
    common.check_top_arguments(include_top, weights, classes, pooling, name)
    base_filters = common.renamed_argument(
        name, "width", width, "base_filters", base_filters
    )
    _check_int(depth, "depth", name)
    inputs, x = common.clip_input(
        input_shape, input_tensor, (10, 112, 112, 3), min_size=2**depth, name=name
    )
    if None in tuple(x.shape[1:4]):
        raise ValueError(
            f"{name} stacks frames on channels, so frames, height and width must "
            f"be known. Received: input_shape={tuple(x.shape[1:])}"
        )
    x = _stack_frames(x)
    x = keras.layers.Conv2D(
        base_filters,
        fusion_kernel_size,
        padding="same",
        use_bias=False,
        name="fusion_conv",
    )(x)
    x = keras.layers.BatchNormalization(name="fusion_bn")(x)
    x = keras.layers.Activation("relu", name="fusion_relu")(x)
    x = keras.layers.MaxPooling2D(2, name="fusion_pool")(x)
    x = apply_frame_cnn(
        x, base_filters=base_filters, depth=depth, name="conv", first_stage=1
    )
    x = _top_2d(x, include_top, pooling, classes, classifier_activation, dropout_rate)
    model = keras.Model(inputs, x, name=name)
    return weights_lib.load_weights(model, weights, "early_fusion")


def SlowFusion(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=400,
    classifier_activation="softmax",
    name="slow_fusion",
    *,
    base_filters=32,
    depth=4,
    time_kernels=(4, 2, 2),
    time_strides=(2, 2, 2),
    dropout_rate=0.5,
    width=None,
):
    """Instantiates a slow-fusion network (Karpathy et al. 2014).

    A 3D CNN whose first stages have temporal extent: in the paper the first
    convolution spans 4 frames with stride 2, the next two 2 frames with
    stride 2, so 10 input frames are fused into 4, 2 and then 1, and higher
    layers see progressively more of the clip. Later stages are 2D (temporal
    kernel 1).

    ```
    clip (10, H, W, C) -> Conv(4,3,3)/2 -> (4, ...) -> Conv(2,3,3)/2 -> (2, ...)
      -> Conv(2,3,3)/2 -> (1, ...) -> Conv(1,3,3) ... -> global avg pool -> predictions
    ```

    Each stage is Conv3D (valid in time, same in space) -> BN -> ReLU -> MaxPool
    (1, 2, 2).

    Args:
        include_top: whether to include the global pooling and `predictions`.
        weights: `None`, a preset name or the path to a `.weights.h5` file.
        input_tensor: optional Keras tensor to use as the clip input.
        input_shape: `(frames, height, width, channels)`; defaults to
            `(10, 112, 112, 3)`. Needs at least as many frames as the temporal
            kernels consume (10 with the defaults).
        pooling: with `include_top=False`: `None` (5D features), `"avg"` or
            `"max"`.
        classes: number of classes when `include_top=True`.
        classifier_activation: activation of `predictions`; `None` for logits.
        name: model name.
        base_filters: channels of the first stage; later stages double it (up to 8x).
        depth: number of stages (each halves height and width).
        time_kernels: temporal kernel of the first stages (the rest use 1).
        time_strides: temporal stride of those stages.
        dropout_rate: dropout before `predictions`.
        width: deprecated alias of `base_filters`.

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, classes)` with `include_top=True`; otherwise
        `(batch, T', H / 2**depth, W / 2**depth, c)` or, with `pooling`, `(batch, c)`.

    Example:

    ```python
    import numpy as np
    from keras_video.applications import SlowFusion

    model = SlowFusion(base_filters=8, depth=3, classes=5, input_shape=(10, 32, 32, 3))
    model.predict(np.zeros((1, 10, 32, 32, 3)), verbose=0).shape  # (1, 5)
    ```

    Reference:
        Karpathy et al., "Large-scale Video Classification with Convolutional
        Neural Networks", CVPR 2014.
    """
    common.check_top_arguments(include_top, weights, classes, pooling, name)
    base_filters = common.renamed_argument(
        name, "width", width, "base_filters", base_filters
    )
    _check_int(depth, "depth", name)
    time_kernels, time_strides = tuple(time_kernels), tuple(time_strides)
    if len(time_kernels) != len(time_strides) or len(time_kernels) > depth:
        raise ValueError(
            f"{name}: `time_kernels` and `time_strides` must have the same length, "
            f"at most `depth`. Received: time_kernels={time_kernels}, "
            f"time_strides={time_strides}, depth={depth}"
        )
    min_frames = 1
    for kernel, stride in reversed(list(zip(time_kernels, time_strides, strict=True))):
        min_frames = (min_frames - 1) * stride + kernel
    inputs, x = common.clip_input(
        input_shape,
        input_tensor,
        (10, 112, 112, 3),
        min_frames=min_frames,
        min_size=2**depth,
        name=name,
    )
    for i in range(depth):
        kernel = time_kernels[i] if i < len(time_kernels) else 1
        stride = time_strides[i] if i < len(time_strides) else 1
        prefix = f"conv{i + 1}"
        x = keras.layers.ZeroPadding3D(((0, 0), (1, 1), (1, 1)), name=f"{prefix}_pad")(
            x
        )
        x = keras.layers.Conv3D(
            base_filters * 2 ** min(i, 3),
            (kernel, 3, 3),
            strides=(stride, 1, 1),
            use_bias=False,
            name=f"{prefix}_conv",
        )(x)
        x = keras.layers.BatchNormalization(name=f"{prefix}_bn")(x)
        x = keras.layers.Activation("relu", name=f"{prefix}_relu")(x)
        x = keras.layers.MaxPooling3D((1, 2, 2), name=f"{prefix}_pool")(x)
    if include_top:
        x = keras.layers.GlobalAveragePooling3D(name="avg_pool")(x)
        x = common.classifier(x, classes, classifier_activation, dropout_rate)
    else:
        x = common.pool_features(x, pooling)
    model = keras.Model(inputs, x, name=name)
    return weights_lib.load_weights(model, weights, "slow_fusion")
