"""Two-stream networks: an RGB stream and an optical-flow stream, fused late.

`TwoStream` takes any two stream models (default: small 2D CNNs);
`TwoStreamI3D` is the two-stream Inception-v1 I3D of Carreira and Zisserman
(2017): two `InceptionI3D` streams whose logits are summed.
"""

import keras

from keras_video.applications import common
from keras_video.applications import weights as weights_lib
from keras_video.applications.fusion import EarlyFusion
from keras_video.applications.inception_i3d import (
    InceptionI3D,
    check_kinetics400_classes,
    load_kinetics400,
)
from keras_video.applications.single_frame import SingleFrame
from keras_video.layers import WeightedFusion

FUSIONS = ("average", "weighted", "concat", "sum")


def _check_stream(model, kind, family):
    if model is not None and not isinstance(model, keras.Model):
        raise ValueError(
            f"{family}: `{kind}_model` must be None or a Keras model. "
            f"Received: {kind}_model={model!r}"
        )


def TwoStream(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=400,
    classifier_activation="softmax",
    name="two_stream",
    *,
    rgb_model=None,
    flow_model=None,
    fusion="average",
    flow_input_shape=None,
    base_filters=32,
    depth=4,
    dropout_rate=0.5,
    width=None,
):
    """Instantiates a two-stream network (Simonyan and Zisserman 2014).

    Two inputs: the RGB clip and its optical flow. The default spatial stream
    is a `SingleFrame` CNN (appearance, frame by frame); the default temporal
    stream is an `EarlyFusion` CNN on the flow, whose first convolution sees
    the horizontal and vertical flow of every frame stacked on channels (the
    paper's stacked optical flow, `2 L` channels for `L` frames).

    ```
    clip (T, H, W, 3) ── rgb stream ──┐
                                       ├─ fusion ─ predictions
    flow (T, H, W, 2) ── flow stream ─┘
    ```

    Fusion:
    - `"average"`: the mean of the two streams' class scores (logits), then
      `classifier_activation`.
    - `"sum"`: the sum of the two streams' logits, then
      `classifier_activation` (I3D's two-stream fusion; with a softmax it
      differs from `"average"` by a factor 2 inside the softmax).
    - `"weighted"`: a learned weighted sum of the class scores
      (`WeightedFusion`, softmax-normalised weights starting at 1/2 each).
    - `"concat"`: the streams' pooled features are concatenated, then
      dropout and one `predictions` layer over both.

    Args:
        include_top: whether to include the fusion and `predictions`.
        weights: `None`, a preset name or the path to a `.weights.h5` file.
        input_tensor: optional pair of Keras tensors `(clip, flow)`.
        input_shape: `(frames, height, width, 3)` of the RGB clip; defaults
            to the `rgb_model`'s input or `(16, 112, 112, 3)`.
        pooling: with `include_top=False`, how the default streams pool their
            features (`None` means `"avg"`): with `None` the model returns the
            two feature vectors `[rgb, flow]`, with `"avg"` or `"max"` their
            concatenation.
        classes: number of classes when `include_top=True`.
        classifier_activation: activation of `predictions`; `None` for logits.
        name: model name.
        rgb_model: `None` (a `SingleFrame` built here) or a Keras model on
            the RGB clip returning class logits (`"average"`, `"weighted"`,
            `"sum"`) or a feature vector (`"concat"`, `include_top=False`).
        flow_model: `None` (an `EarlyFusion` built here) or such a model on
            the flow input.
        fusion: `"average"`, `"weighted"`, `"sum"` or `"concat"`.
        flow_input_shape: `(frames, height, width, channels)` of the flow;
            defaults to the `flow_model`'s input or to the clip's frames and
            size with 2 channels (per-frame flow). A stacked flow of `L` frames
            can also be given as `(1, height, width, 2 * L)`.
        base_filters: first-stage channels of the default streams.
        depth: stages of the default streams.
        dropout_rate: dropout in the default streams' heads and before the
            `concat` classifier.
        width: deprecated alias of `base_filters`.

    Input shape:
        `[(batch, frames, height, width, 3), (batch, frames', height, width, c)]`.

    Output shape:
        `(batch, classes)` with `include_top=True`.

    Example:

    ```python
    import numpy as np
    from keras_video.applications import TwoStream

    model = TwoStream(base_filters=8, depth=3, classes=5, input_shape=(8, 32, 32, 3))
    clip, flow = np.zeros((1, 8, 32, 32, 3)), np.zeros((1, 8, 32, 32, 2))
    model.predict([clip, flow], verbose=0).shape  # (1, 5)
    ```

    Reference:
        Simonyan and Zisserman, "Two-Stream Convolutional Networks for Action
        Recognition in Videos", NeurIPS 2014. https://arxiv.org/abs/1406.2199
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
    _check_stream(rgb_model, "rgb", name)
    _check_stream(flow_model, "flow", name)
    rgb_tensor, flow_tensor = None, None
    if input_tensor is not None:
        if not isinstance(input_tensor, (list, tuple)) or len(input_tensor) != 2:
            raise ValueError(
                f"{name}: `input_tensor` must be a pair (clip, flow). "
                f"Received: input_tensor={input_tensor!r}"
            )
        rgb_tensor, flow_tensor = input_tensor
    if input_shape is None and rgb_model is not None:
        input_shape = tuple(rgb_model.inputs[0].shape[1:])
    rgb_inputs, rgb = common.clip_input(
        input_shape, rgb_tensor, (16, 112, 112, 3), min_size=2**depth, name=name
    )
    frames, height, width_px, _ = tuple(rgb.shape[1:])
    if flow_input_shape is None:
        if flow_model is not None:
            flow_input_shape = tuple(flow_model.inputs[0].shape[1:])
        elif flow_tensor is not None:
            flow_input_shape = tuple(flow_tensor.shape[1:])
        else:
            flow_input_shape = (frames, height, width_px, 2)
    _, flow = common.clip_input(
        flow_input_shape, None, None, min_size=2**depth, name=f"{name} (flow)"
    )
    if flow_tensor is None:
        flow_inputs = flow = keras.Input(shape=tuple(flow.shape[1:]), name="flow")
    else:
        flow_inputs, flow = common.clip_input(
            flow_input_shape, flow_tensor, None, name=f"{name} (flow)"
        )

    scores = fusion != "concat" and include_top
    stream_args = dict(
        include_top=scores,
        pooling=None if scores else (pooling or "avg"),
        classes=classes,
        classifier_activation=None,
        base_filters=base_filters,
        depth=depth,
    )
    if rgb_model is None:
        rgb_model = SingleFrame(
            input_shape=tuple(rgb.shape[1:]),
            name="rgb_stream",
            dropout_rate=dropout_rate,
            **stream_args,
        )
    if flow_model is None:
        flow_model = EarlyFusion(
            input_shape=tuple(flow.shape[1:]),
            name="flow_stream",
            dropout_rate=dropout_rate,
            **stream_args,
        )
    rgb = rgb_model(rgb)
    flow = flow_model(flow)

    if include_top:
        if fusion == "concat":
            x = keras.layers.Concatenate(name="concat")([rgb, flow])
            x = common.classifier(x, classes, classifier_activation, dropout_rate)
        else:
            for stream, kind in ((rgb, "rgb"), (flow, "flow")):
                if tuple(stream.shape[1:]) != (classes,):
                    raise ValueError(
                        f"{name}: with fusion={fusion!r} each stream must output "
                        f"(batch, classes={classes}) scores. Received: {kind} "
                        f"stream output shape {tuple(stream.shape)}"
                    )
            if fusion == "average":
                x = keras.layers.Average(name="fusion")([rgb, flow])
            elif fusion == "sum":
                x = keras.layers.Add(name="fusion")([rgb, flow])
            else:
                x = WeightedFusion(name="fusion")([rgb, flow])
            x = keras.layers.Activation(classifier_activation, name="predictions")(x)
        outputs = x
    elif pooling is not None:
        outputs = keras.layers.Concatenate(name="concat")([rgb, flow])
    else:
        outputs = [rgb, flow]
    inputs = [rgb_inputs, flow_inputs]
    model = keras.Model(inputs, outputs, name=name)
    return weights_lib.load_weights(model, weights, "two_stream")


def _load_rgb_kinetics400(model, path):
    """`TwoStreamI3D(weights="kinetics400")`: the RGB stream's Kinetics weights."""
    load_kinetics400(model.get_layer("rgb_i3d"), path)


weights_lib.register_preset(
    "TwoStreamI3D", "kinetics400", weights_lib.KINETICS400, _load_rgb_kinetics400
)


def TwoStreamI3D(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=400,
    classifier_activation="softmax",
    name="two_stream_i3d",
    *,
    flow_input_shape=None,
    dropout_rate=0.5,
):
    """Instantiates the two-stream Inception-v1 I3D (Carreira and Zisserman 2017).

    Two `InceptionI3D` streams, one on the RGB clip (3 channels) and one on
    its optical flow (2 channels, x and y), built by `TwoStream` with
    `fusion="sum"`: as in the paper's evaluation, the two streams' logits are
    summed and the softmax comes after the sum. The stream models are named
    `"rgb_i3d"` and `"flow_i3d"`; inside each, the layers keep
    `InceptionI3D`'s names.

    ```
    clip (T, H, W, 3) ── InceptionI3D "rgb_i3d" ──  logits ─┐
                                                            + ─ softmax
    flow (T, H, W, 2) ── InceptionI3D "flow_i3d" ── logits ─┘
    ```

    Only RGB Kinetics weights exist here: `weights="kinetics400"` loads
    DeepMind's Kinetics-400 RGB I3D into the RGB stream and leaves the flow
    stream randomly initialised (the flow checkpoint is not converted by
    `keras-video weights convert`).

    Args:
        include_top: whether to include both streams' `Logits` heads and
            the fusion.
        weights: `None` (random initialisation), `"kinetics400"` (the RGB
            stream's Kinetics-400 weights, see above; with `include_top=True`
            `classes` must be 400), or the path to a `.weights.h5` file of
            this model.
        input_tensor: optional pair of Keras tensors `(clip, flow)`.
        input_shape: `(frames, height, width, 3)` of the RGB clip; defaults to
            `(None, 224, 224, 3)`. With `include_top=True` clips need at least
            9 frames and 193x193 pixels (I3D's head).
        pooling: with `include_top=False`, `"avg"` or `"max"` pooling of each
            stream's `Mixed_5c` features; the model returns their
            concatenation, or with `None` (average pooling) the two
            1024-vectors `[rgb, flow]`.
        classes: number of classes when `include_top=True`.
        classifier_activation: activation after the sum; `None` for the
            summed logits.
        name: model name.
        flow_input_shape: `(frames, height, width, 2)` of the flow; defaults
            to the clip's frames and size.
        dropout_rate: dropout before each stream's logits.

    Input shape:
        `[(batch, frames, height, width, 3), (batch, frames, height, width, 2)]`:
        RGB in `[-1, 1]` (`preprocess_input`) and flow (the paper clips TV-L1
        flow to `[-20, 20]` pixels and rescales it to `[-1, 1]`).

    Output shape:
        `(batch, classes)` with `include_top=True`.

    Example:

    ```python
    import numpy as np
    from keras_video.applications import TwoStreamI3D

    model = TwoStreamI3D(classes=5, input_shape=(9, 193, 193, 3))
    clip, flow = np.zeros((1, 9, 193, 193, 3)), np.zeros((1, 9, 193, 193, 2))
    model.predict([clip, flow], verbose=0).shape  # (1, 5)
    ```

    Reference:
        Carreira and Zisserman, "Quo Vadis, Action Recognition? A New Model and
        the Kinetics Dataset", CVPR 2017; github.com/deepmind/kinetics-i3d.

    Returns:
        A `keras.Model`.
    """
    common.check_top_arguments(include_top, weights, classes, pooling, name)
    weights_lib.check_weights(weights, "TwoStreamI3D")
    check_kinetics400_classes(weights, include_top, classes, name)
    if input_shape is None and isinstance(input_tensor, (list, tuple)):
        if len(input_tensor) == 2:
            input_shape = tuple(input_tensor[0].shape[1:])
            if flow_input_shape is None:
                flow_input_shape = tuple(input_tensor[1].shape[1:])
    if input_shape is None:
        input_shape = (None, 224, 224, 3)
    if flow_input_shape is None:
        flow_input_shape = (*tuple(input_shape)[:3], 2)
    stream_args = dict(
        include_top=include_top,
        pooling=None if include_top else (pooling or "avg"),
        classes=classes,
        classifier_activation=None,
        dropout_rate=dropout_rate,
    )
    rgb_model = InceptionI3D(input_shape=input_shape, name="rgb_i3d", **stream_args)
    flow_model = InceptionI3D(
        input_shape=flow_input_shape, name="flow_i3d", **stream_args
    )
    model = TwoStream(
        include_top=include_top,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        name=name,
        rgb_model=rgb_model,
        flow_model=flow_model,
        fusion="sum",
        flow_input_shape=flow_input_shape,
    )
    return weights_lib.load_weights(model, weights, "TwoStreamI3D")
