"""A model rebuilt for explanation: logits out, and a handle on one layer.

Explanations differentiate a class score with respect to the clip or to an
inner layer's maps. `probe_model` rebuilds a model from its own layers (the
same weights) so that both are plain inputs of a new `keras.Model`, which
every backend can differentiate (`class_score_gradients`):

```
clip ---> layers ... target ---(+)---> layers ... ---> logits
                        |       ^
                        |     delta (zeros)
                        +--> maps
```

The gradient with respect to `delta` at zero is the gradient with respect to
the target's maps. Nested functional and Sequential models are opened up. A
softmax at the output (an `Activation("softmax")` / `Softmax` layer, or a
layer built with `activation="softmax"`) is left out, so the score is the
logit, as Grad-CAM prescribes; other outputs are kept as they are.
"""

import keras

from keras_video.applications.inflate import walk_graph

# Layers that keep a feature map's frames and pixels and only act on its
# values or channels: the default layer follows the last convolution through
# them (I3D: the branch convolutions on to `Mixed_5c`).
_FOLLOWERS = (
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.GroupNormalization,
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.PReLU,
    keras.layers.ELU,
    keras.layers.Dropout,
    keras.layers.Identity,
    keras.layers.Add,
    keras.layers.Concatenate,
    keras.layers.Average,
    keras.layers.Maximum,
    keras.layers.Multiply,
)


def _is_model(layer):
    return isinstance(layer, keras.Model) and (
        isinstance(layer, keras.Sequential) or hasattr(layer, "_nodes_by_depth")
    )


def _calls(model):
    """`(layer, output shape)` of each call of `model`'s own graph, in order."""
    if isinstance(model, keras.Sequential):
        return [(layer, layer.output.shape) for layer in model.layers]
    calls = []
    for depth in sorted(model._nodes_by_depth, reverse=True):
        for node in model._nodes_by_depth[depth]:
            if isinstance(node.operation, keras.layers.InputLayer):
                continue
            outputs = keras.tree.flatten(node.outputs)
            shape = outputs[0].shape if len(outputs) == 1 else None
            calls.append((node.operation, shape))
    return calls


def graph_layers(model):
    """`(layer, output shape)` of every layer call of `model`, in graph order
    (inputs first), nested functional and Sequential models opened up; the
    shape is `None` for a layer with several outputs."""
    entries = []
    for layer, shape in _calls(model):
        if _is_model(layer):
            entries.extend(graph_layers(layer))
        else:
            entries.append((layer, shape))
    return entries


def _is_conv(layer):
    """A layer with a convolution kernel (a weight of rank 4 or more)."""
    return any(len(w.shape) >= 4 for w in layer.weights)


def _has_space(shape, rank):
    return (
        shape is not None
        and len(shape) == rank
        and all(d is not None for d in shape[-3:-1])
        and shape[-3] * shape[-2] > 1
    )


def default_layer(model):
    """The layer explained by default: the last convolution's feature map.

    The last layer (in graph order, nested models opened up) with a
    convolution kernel and a `(batch, frames, height, width, channels)`
    output larger than 1x1 in space, followed forward through the layers
    that keep its frames and pixels (batch norm, activations, dropout, and
    `Add` / `Concatenate` merges): `InceptionI3D`'s is `Mixed_5c`, `R3D`'s
    the ReLU after its last residual `Add`. A model with no such 5-D map
    (frames folded into channels) gets its last `(batch, height, width,
    channels)` map.

    Args:
        model: a functional or Sequential `keras.Model`.

    Returns:
        The layer (a `keras.layers.Layer` of `model` or of a model nested
        in it).

    Raises:
        ValueError: the model has no convolutional feature map with space.
    """
    entries = graph_layers(model)
    for rank in (5, 4):
        found = [
            i
            for i, (layer, shape) in enumerate(entries)
            if _is_conv(layer) and _has_space(shape, rank)
        ]
        if not found:
            continue
        i = found[-1]
        space = tuple(entries[i][1][1:-1])
        while i + 1 < len(entries):
            layer, shape = entries[i + 1]
            if not isinstance(layer, _FOLLOWERS) or shape is None:
                break
            if tuple(shape[1:-1]) != space:
                break
            i += 1
        return entries[i][0]
    raise ValueError(
        f"{model.name!r} has no convolutional feature map with space (a layer "
        "with a kernel and a (batch, frames, height, width, channels) output); "
        f"pass `layer_name`. Received: model={model.name!r}"
    )


def find_layer(model, layer_name):
    """The layer named `layer_name` in `model` or in a model nested in it."""
    layers = list({id(layer): layer for layer, _ in graph_layers(model)}.values())
    matches = [layer for layer in layers if layer.name == layer_name]
    if not matches:
        raise ValueError(
            f"No layer {layer_name!r} in {model.name!r} (nested models "
            f"included); its layers: {[layer.name for layer in layers]}. "
            f"Received: layer_name={layer_name!r}"
        )
    if len(matches) > 1:
        raise ValueError(
            f"{len(matches)} layers of {model.name!r} (nested models included) "
            f"are named {layer_name!r}. Received: layer_name={layer_name!r}"
        )
    return matches[0]


def _output_layer(model):
    if isinstance(model, keras.Sequential):
        return model.layers[-1]
    return keras.tree.flatten(model.outputs)[-1]._keras_history.operation


def _is_softmax(layer):
    if isinstance(layer, keras.layers.Softmax):
        return True
    if _is_model(layer):
        return _is_softmax(_output_layer(layer))
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None) == "softmax"


class _BeforeActivation(keras.layers.Layer):
    """A layer's output before its activation, with the layer's own weights.

    The wrapped layer's `call` runs with its activation set to linear (no
    copy of the layer: `get_config` would import TensorFlow on any backend).
    """

    def __init__(self, layer, **kwargs):
        super().__init__(name=f"{layer.name}_logits", **kwargs)
        self.layer = layer

    def call(self, inputs):
        activation = self.layer.activation
        self.layer.activation = keras.activations.linear
        try:
            return self.layer.call(inputs)
        finally:
            self.layer.activation = activation


def _without_softmax(layer, args, kwargs):
    """`layer`'s output before its softmax."""
    if isinstance(layer, (keras.layers.Softmax, keras.layers.Activation)):
        return args[0]
    return _BeforeActivation(layer)(args[0])


def _contains(model, target):
    return any(layer is target for layer, _ in graph_layers(model))


class _Rebuild:
    """Applies a model's layers to new inputs: a zero input added after
    `target` (kept in `maps` / `delta`), no softmax at the output."""

    def __init__(self, target):
        self.target = target
        self.maps = None
        self.delta = None

    def __call__(self, model, inputs, strip=True):
        last = _output_layer(model)

        def call_layer(layer, args, kwargs):
            final = strip and layer is last
            if _is_model(layer) and (
                (final and _is_softmax(layer))
                or (self.target is not None and _contains(layer, self.target))
            ):
                return self(layer, args[0], strip=final)
            if layer is self.target:
                return self._add_delta(layer(*args, **kwargs))
            if final and _is_softmax(layer):
                return _without_softmax(layer, args, kwargs)
            return layer(*args, **kwargs)

        if isinstance(model, keras.Sequential):
            x = inputs
            for layer in model.layers:
                x = call_layer(layer, (x,), {})
            return x
        return walk_graph(model, inputs, call_layer)

    def _add_delta(self, out):
        name = self.target.name
        if self.maps is not None:
            raise ValueError(
                f"Layer {name!r} is called more than once in the model; its "
                f"maps are ambiguous. Received: layer_name={name!r}"
            )
        if not keras.backend.is_keras_tensor(out):
            raise ValueError(
                f"Layer {name!r} has several outputs. Received: layer_name={name!r}"
            )
        self.maps = out
        self.delta = keras.Input(shape=tuple(out.shape[1:]), name="probe_delta")
        return keras.layers.Add(name="probe_add")([out, self.delta])


def check_model(model):
    """Raises `ValueError` unless `model` can be rebuilt for explanation."""
    if not _is_model(model):
        raise ValueError(
            "Explanations need a functional or Sequential keras.Model (its "
            f"layers are applied again). Received: model={model!r}"
        )
    outputs = keras.tree.flatten(model.outputs)
    if len(outputs) != 1:
        raise ValueError(
            f"Explanations need a model with one output of class scores. "
            f"Received: model {model.name!r} with {len(outputs)} outputs"
        )


def probe_model(model, input_shapes, layer=None):
    """`model` rebuilt with logits out and, optionally, one layer's maps.

    Args:
        model: a functional or Sequential `keras.Model` with one output of
            class scores.
        input_shapes: one shape per model input, without the batch axis
            (the clip's shape: every shape in the rebuilt model is known).
        layer: `None`, or the layer whose maps are taken: a layer of
            `model` (or of a model nested in it) or its name.

    Returns:
        Without `layer_name`: a `keras.Model` from the inputs to the logits.
        With it: a `keras.Model` from `[*inputs, delta]` to `[maps,
        logits]`, where `delta` (the shape of `maps`) is added to the
        layer's output; feed zeros to get the model's own outputs.
    """
    check_model(model)
    target = find_layer(model, layer) if isinstance(layer, str) else layer
    if target is not None and not _contains(model, target):
        raise ValueError(
            f"Layer {target.name!r} is not in {model.name!r}. "
            f"Received: layer={target!r}"
        )
    rebuild = _Rebuild(target)
    inputs = [keras.Input(shape=tuple(s)) for s in input_shapes]
    outputs = rebuild(model, inputs if len(inputs) > 1 else inputs[0])
    if target is None:
        return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs)
    return keras.Model([*inputs, rebuild.delta], [rebuild.maps, outputs])
