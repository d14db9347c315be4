"""`inflate`: any functional 2D Keras model to its 3D twin (I3D inflation).

Every 2D operation becomes its video counterpart with the 2D weights, so that a
"boring video" (one frame repeated) gives the 2D model's output on that frame:

    Input (h, w, c)              -> Input (frames, h, w, c)
    Conv2D k x k                 -> InflatedConv t x k x k (kernel / t, "mean")
    DepthwiseConv2D k x k        -> InflatedConv t x k x k, groups=channels
    Max/AveragePooling2D         -> 3D pooling (t, k, k), time stride s
    ZeroPadding2D                -> ZeroPadding3D (no time padding)
    GlobalAverage/MaxPooling2D   -> the 3D versions (time and space)
    BatchNormalization, Dense, Activation, ReLU, Softmax, Dropout, Add,
    Multiply, Concatenate, ...   -> the same layer (channel axis kept)

A temporal kernel `t > 1` on a 2D layer with `padding="valid"` (ResNet's
`conv1` after its `ZeroPadding2D`) gets a `TimePadding` before it that pads
`(t - 1) // 2` frames before and the rest after, so the number of frames is
kept (divided by the time stride). Time padding repeats the edge frames
(`time_padding="replicate"`, the default), which keeps the boring-video
property exact at the first and last frames too; `"zeros"` pads with zeros.

DepthwiseConv2D: Keras has no DepthwiseConv3D; the inflated layer is a Conv3D
with `groups=channels` (kernel `(t, k, k, 1, channels * depth_multiplier)`),
checked on the TensorFlow, JAX and PyTorch CPU backends.

Anything else (nested models, `Flatten`, `Reshape`, `Lambda`, ...) raises a
`ValueError` naming the first layer that cannot be inflated.
"""

import keras

from keras_video.layers import InflatedConv, TimePadding
from keras_video.layers.inflated_conv import inflate_kernel

_CONVS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)
_POOLS = {
    keras.layers.MaxPooling2D: keras.layers.MaxPooling3D,
    keras.layers.AveragePooling2D: keras.layers.AveragePooling3D,
}
_GLOBAL_POOLS = {
    keras.layers.GlobalAveragePooling2D: keras.layers.GlobalAveragePooling3D,
    keras.layers.GlobalMaxPooling2D: keras.layers.GlobalMaxPooling3D,
}
# Layers that act on the channel axis or elementwise: cloned as they are.
_SAME = (
    keras.layers.BatchNormalization,
    keras.layers.Dense,
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.Softmax,
    keras.layers.Dropout,
    keras.layers.Add,
    keras.layers.Subtract,
    keras.layers.Multiply,
    keras.layers.Average,
    keras.layers.Maximum,
    keras.layers.Minimum,
    keras.layers.Concatenate,
    keras.layers.Rescaling,
    keras.layers.Identity,
)


def _channel_axis_ok(layer):
    axis = getattr(layer, "axis", -1)
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    return all(a in (-1, 3) for a in axes)


def _time_kernel(layer, time_kernels):
    if isinstance(time_kernels, dict):
        return int(time_kernels.get(layer.name, 1))
    if isinstance(layer, _CONVS):
        if time_kernels is None:
            return int(layer.kernel_size[0])
        return int(time_kernels) if max(layer.kernel_size) > 1 else 1
    return 1


def _inflate_conv(layer, t, stride, mode, time_padding):
    if isinstance(layer, keras.layers.Conv2D):
        return InflatedConv.from_conv2d(
            layer,
            time_kernel=t,
            mode=mode,
            time_stride=stride,
            time_padding=time_padding,
        )
    # DepthwiseConv2D -> grouped Conv3D.
    config = layer.get_config()
    if config.get("data_format", "channels_last") != "channels_last":
        raise ValueError(
            f"inflate: only channels_last layers. Received: layer {layer.name!r}"
        )
    kh, kw, channels, multiplier = tuple(layer.kernel.shape)
    conv = InflatedConv(
        filters=channels * multiplier,
        kernel_size=(t, kh, kw),
        strides=(stride,) + tuple(config["strides"]),
        padding=config["padding"],
        dilation_rate=(1,) + tuple(config["dilation_rate"]),
        groups=channels,
        activation=config["activation"],
        use_bias=config["use_bias"],
        time_padding=time_padding,
        name=layer.name,
        dtype=layer.dtype_policy,
    )
    conv.build((None, None, None, None, channels))
    conv.set_weights(inflated_weights(layer, t, mode))
    return conv


def inflated_weights(layer_2d, time_kernel, mode="mean"):
    """The weights of the 3D twin of `layer_2d`, with temporal kernel `time_kernel`.

    A `Conv2D` kernel `(kh, kw, c, f)` becomes `(t, kh, kw, c, f)` (see
    `inflate_kernel`); a `DepthwiseConv2D` kernel `(kh, kw, c, m)` becomes the
    grouped `(t, kh, kw, 1, c * m)`; biases and every other layer's weights
    are kept as they are.
    """
    weights = [keras.ops.convert_to_numpy(w) for w in layer_2d.get_weights()]
    if isinstance(layer_2d, _CONVS):
        kernel = weights[0]
        if isinstance(layer_2d, keras.layers.DepthwiseConv2D):
            kh, kw, channels, multiplier = kernel.shape
            kernel = kernel.reshape(kh, kw, 1, channels * multiplier)
        weights[0] = inflate_kernel(kernel, time_kernel, mode)
    return weights


def inflate_weights(model_2d, model_3d, mode="mean"):
    """Sets the weights of an inflated model from its 2D model, layer by layer.

    Every layer of `model_3d` with weights gets those of the same-named layer
    of `model_2d`, inflated (`inflated_weights`, the temporal kernel read from
    the 3D layer). Layers the 2D model lacks (e.g. `I3D`'s non-local blocks
    and head) keep theirs. This is how a 3D model built with random weights
    takes a 2D weights file (`I3D(weights="imagenet_inflated")`).

    Returns:
        The number of layers set.
    """
    by_name = {layer.name: layer for layer in model_2d.layers}
    copied = 0
    for layer in model_3d.layers:
        source = by_name.get(layer.name)
        if not layer.weights or source is None or not source.weights:
            continue
        t = int(layer.kernel_size[0]) if isinstance(source, _CONVS) else 1
        layer.set_weights(inflated_weights(source, t, mode))
        copied += 1
    return copied


def _valid_time_pad(layer, t, time_padding):
    if t > 1 and getattr(layer, "padding", "valid") == "valid":
        return TimePadding(
            ((t - 1) // 2, t - 1 - (t - 1) // 2),
            mode=time_padding,
            name=f"{layer.name}_time_pad",
        )
    return None


def _convert(layer, time_kernels, time_strides, mode, time_padding):
    """Returns `(pre, new_layer)`: an optional `TimePadding` and the 3D layer."""
    t = _time_kernel(layer, time_kernels)
    stride = int(time_strides.get(layer.name, 1))
    if isinstance(layer, _CONVS):
        if getattr(layer, "data_format", "channels_last") != "channels_last":
            raise ValueError(
                f"inflate: only channels_last models. Received: layer {layer.name!r}"
            )
        pre = _valid_time_pad(layer, t, time_padding)
        conv = _inflate_conv(layer, t, stride, mode, "zeros" if pre else time_padding)
        return pre, conv
    if type(layer) in _POOLS:
        config = layer.get_config()
        pool = _POOLS[type(layer)](
            pool_size=(t,) + tuple(config["pool_size"]),
            strides=(stride,) + tuple(config["strides"] or config["pool_size"]),
            padding=config["padding"],
            name=layer.name,
        )
        return _valid_time_pad(layer, t, time_padding), pool
    if type(layer) in _GLOBAL_POOLS:
        config = layer.get_config()
        return None, _GLOBAL_POOLS[type(layer)](
            keepdims=config.get("keepdims", False), name=layer.name
        )
    if isinstance(layer, keras.layers.ZeroPadding2D):
        (top, bottom), (left, right) = layer.padding
        return None, keras.layers.ZeroPadding3D(
            ((0, 0), (top, bottom), (left, right)), name=layer.name
        )
    if type(layer) in _SAME:
        if isinstance(
            layer,
            (
                keras.layers.BatchNormalization,
                keras.layers.Concatenate,
                keras.layers.Softmax,
            ),
        ) and not _channel_axis_ok(layer):
            raise ValueError(
                f"inflate: layer {layer.name!r} ({type(layer).__name__}) works on "
                f"axis {layer.axis}; only the channel axis (-1) can be inflated."
            )
        config = layer.get_config()
        if "axis" in config:
            config["axis"] = -1 if not isinstance(config["axis"], list) else [-1]
        return None, type(layer).from_config(config)
    raise ValueError(
        f"inflate cannot inflate layer {layer.name!r} ({type(layer).__name__}). "
        "Supported: Conv2D, DepthwiseConv2D, Max/AveragePooling2D, "
        "Global{Average,Max}Pooling2D, ZeroPadding2D, BatchNormalization, Dense, "
        "activations, Dropout, Add/Multiply/Concatenate and friends."
    )


def walk_graph(model, inputs, call_layer=None):
    """Applies the layers of a functional `model` to new `inputs`, in graph order.

    The one graph walk of the package: `inflate` uses it to replace every 2D
    layer by its 3D twin, and `I3D` to apply an inflated backbone's layers to
    a user's `input_tensor` one by one (so the model's layer names stay flat,
    with no nested model).

    Args:
        model: a functional `keras.Model`.
        inputs: new tensors, one per `model.inputs` (a tensor or a list).
        call_layer: `call_layer(layer, args, kwargs)` returns the outputs of
            `layer` (an `Operation` of `model`) on `args` and `kwargs`, which
            already hold the new tensors; default `layer(*args, **kwargs)`.

    Returns:
        The new tensors in the structure of `model.outputs` (one tensor for a
        single-output model).
    """
    if call_layer is None:

        def call_layer(layer, args, kwargs):
            return layer(*args, **kwargs)

    inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    if len(inputs) != len(model.inputs):
        raise ValueError(
            f"walk_graph: {model.name!r} has {len(model.inputs)} inputs. "
            f"Received: {len(inputs)} inputs"
        )
    tensors = {id(a): b for a, b in zip(model.inputs, inputs, strict=True)}

    def new(value):
        return tensors[id(value)] if keras.backend.is_keras_tensor(value) else value

    for depth in sorted(model._nodes_by_depth, reverse=True):
        for node in model._nodes_by_depth[depth]:
            layer = node.operation
            if isinstance(layer, keras.layers.InputLayer):
                continue
            args = keras.tree.map_structure(new, node.arguments.args)
            kwargs = keras.tree.map_structure(new, node.arguments.kwargs)
            out = call_layer(layer, args, kwargs)
            outputs = keras.tree.flatten(out)
            for a, b in zip(keras.tree.flatten(node.outputs), outputs, strict=True):
                tensors[id(a)] = b
    outputs = [tensors[id(v)] for v in model.outputs]
    return outputs[0] if len(outputs) == 1 else outputs


def inflate(
    model_2d,
    time_kernels=None,
    mode="mean",
    time_padding="replicate",
    time_strides=None,
    frames=None,
    name=None,
    insert_after=None,
):
    """Inflates a functional 2D Keras model into its 3D twin (I3D).

    Args:
        model_2d: a functional `keras.Model` on `(height, width, channels)`
            images (channels last), e.g. `keras.applications.ResNet50()`.
        time_kernels: temporal kernel sizes. `None`: every `k x k` convolution
            becomes `k x k x k` (the I3D paper's rule), pooling stays 2D in
            time; an int `t`: every convolution with a spatial kernel larger
            than 1 gets `t`; a dict `{layer name: t}`: those layers
            (convolutions or pooling), 1 elsewhere.
        mode: `"mean"` (2D kernel repeated over time, divided by `t`) or
            `"center"` (2D kernel at the middle time step).
        time_padding: `"replicate"` (repeat edge frames; exact boring-video
            property) or `"zeros"`.
        time_strides: `{layer name: temporal stride}` for convolutions and
            pooling (default 1).
        frames: number of frames of the new input (`None`: any).
        name: the new model's name (default: `<2D name>_inflated`).
        insert_after: `{layer name: [make, ...]}`: after that layer's 3D twin,
            `x = make(x)` for each `make` in order (how `I3D` adds its `pool2`
            and non-local blocks); build-time only, nothing is serialised.

    Returns:
        A `keras.Model` on `(batch, frames, height, width, channels)` clips whose
        layers keep the 2D layers' names.

    Raises:
        ValueError: naming the first layer that cannot be inflated.

    Example:

    ```python
    import keras
    import numpy as np
    from keras_video.applications import inflate

    resnet = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3),
                                         include_top=False, pooling="avg")
    i3d = inflate(resnet)
    frame = np.random.rand(1, 64, 64, 3).astype("float32")
    clip = np.repeat(frame[:, None], 4, axis=1)  # a boring video
    np.allclose(i3d(clip), resnet(frame), rtol=1e-4, atol=1e-4)  # True
    ```

    Reference:
        Carreira and Zisserman, "Quo Vadis, Action Recognition? A New Model and
        the Kinetics Dataset", CVPR 2017 (section 2.4, inflating 2D ConvNets).
    """
    if not isinstance(model_2d, keras.Model) or not hasattr(
        model_2d, "_nodes_by_depth"
    ):
        raise ValueError(
            "inflate needs a functional keras.Model (built with keras.Input). "
            f"Received: model_2d={model_2d!r}"
        )
    if mode not in ("mean", "center"):
        raise ValueError(
            f"inflate: `mode` must be 'mean' or 'center'. Received: mode={mode!r}"
        )
    if time_padding not in ("replicate", "zeros"):
        raise ValueError(
            "inflate: `time_padding` must be 'replicate' or 'zeros'. "
            f"Received: time_padding={time_padding!r}"
        )
    time_strides = dict(time_strides or {})
    insert_after = dict(insert_after or {})
    names = {layer.name for layer in model_2d.layers}
    for option, table in (
        ("time_kernels", time_kernels),
        ("time_strides", time_strides),
        ("insert_after", insert_after),
    ):
        if isinstance(table, dict):
            unknown = sorted(set(table) - names)
            if unknown:
                raise ValueError(
                    f"inflate: `{option}` names layers that are not in "
                    f"{model_2d.name!r}: {unknown}"
                )

    new_inputs = []
    for tensor in model_2d.inputs:
        layer = tensor._keras_history.operation
        shape = tuple(tensor.shape[1:])
        if len(shape) != 3:
            raise ValueError(
                f"inflate needs image inputs (height, width, channels). Received: "
                f"input {layer.name!r} of shape {shape}"
            )
        new_inputs.append(keras.Input(shape=(frames,) + shape, name=layer.name))

    def inflate_layer(layer, args, kwargs):
        if isinstance(layer, keras.Model):
            raise ValueError(
                f"inflate cannot inflate layer {layer.name!r} (a nested "
                f"{type(layer).__name__}); inflate the inner model itself."
            )
        if not isinstance(layer, keras.layers.Layer):
            raise ValueError(
                f"inflate cannot inflate operation {getattr(layer, 'name', layer)!r} "
                f"({type(layer).__name__})."
            )
        pre, new_layer = _convert(layer, time_kernels, time_strides, mode, time_padding)
        if pre is not None:
            args = (pre(args[0]),) + tuple(args[1:])
        out = new_layer(*args, **kwargs)
        if layer.weights and new_layer.weights and not isinstance(layer, _CONVS):
            new_layer.set_weights(layer.get_weights())
        for make in insert_after.get(layer.name, ()):
            out = make(out)
        return out

    outputs = walk_graph(model_2d, new_inputs, inflate_layer)
    inputs = new_inputs[0] if len(new_inputs) == 1 else new_inputs
    return keras.Model(inputs, outputs, name=name or f"{model_2d.name}_inflated")
