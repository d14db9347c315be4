"""Counts the floating point operations of one forward pass of a Keras model.

Every layer that owns a kernel (`Conv1D/2D/3D`, `DepthwiseConv`, `Dense`,
`EinsumDense`-like `kernel` weights, RNN cells) costs `2 * kernel.size` FLOPs (a
multiply and an add) at every output position it computes:

```
conv:   2 * (kt * kh * kw * c_in / groups * c_out) * (T_out * H_out * W_out)
dense:  2 * (d_in * d_out) * (positions: 1, or the frames of a per-frame Dense)
rnn:    timesteps * 2 * (kernel.size + recurrent_kernel.size) * positions per step
```

Biases, normalisation, activations, pooling and attention products (e.g. the
`theta . phi` of a non-local block) are not counted: they are a few percent of a
convolutional network's cost. The output positions are read from one eager
forward pass of one clip, so layers inside custom layers and `TimeDistributed`
(whose batch holds the frames) are counted too. Transposed convolutions are not
supported (counted as ordinary convolutions over their output).
"""

import keras
import numpy as np


def _own_kernels(layer):
    """The kernel-like weights that `layer` itself owns (not its sublayers)."""
    sub = set()
    for child in layer._flatten_layers(include_self=False, recursive=True):
        sub.update(id(w) for w in child.weights)
    kernels = []
    for w in layer.weights:
        if id(w) in sub or len(w.shape) < 2:
            continue
        name = w.path.split("/")[-1] if hasattr(w, "path") else w.name
        if name.endswith("kernel"):
            kernels.append(w)
    return kernels


def _first_shape(x):
    while isinstance(x, (list, tuple)):
        x = x[0]
    return tuple(x.shape)


def count_flops(model, input_shape=None):
    """FLOPs of one forward pass of one input (batch size 1).

    Args:
        model: a built Keras model.
        input_shape: the input shape without the batch axis (a list of them for
            a model with several inputs); default the model's (must be fully
            known).

    Returns:
        int, the FLOPs (2 per multiply-add).
    """
    if input_shape is None:
        shapes = [tuple(t.shape[1:]) for t in model.inputs]
    elif isinstance(input_shape[0], (list, tuple)):
        shapes = [tuple(s) for s in input_shape]
    else:
        shapes = [tuple(input_shape)]
    for shape in shapes:
        if any(d is None for d in shape):
            raise ValueError(
                "count_flops needs a fully known input shape. "
                f"Received: input_shape={shape}"
            )
    rnn_cells = set()
    layers = list(model._flatten_layers(include_self=False, recursive=True))
    for layer in layers:
        if isinstance(layer, keras.layers.RNN):
            cells = getattr(layer.cell, "cells", [layer.cell])
            rnn_cells.update(id(c) for c in cells)
    total = [0]
    patched = []

    def hook(layer, kernels, original):
        def call(*args, **kwargs):
            outputs = original(*args, **kwargs)
            out_shape = _first_shape(outputs)
            if isinstance(layer, keras.layers.RNN):
                steps = _first_shape(args[0] if args else kwargs["sequences"])[1]
                per_step = (
                    out_shape[2:-1] if layer.return_sequences else out_shape[1:-1]
                )
                cells = getattr(layer.cell, "cells", [layer.cell])
                size = sum(
                    int(np.prod(w.shape)) for c in cells for w in _own_kernels(c)
                )
                total[0] += 2 * size * steps * int(np.prod(per_step, dtype=np.int64))
            else:
                positions = int(np.prod(out_shape[:-1], dtype=np.int64))
                size = sum(int(np.prod(w.shape)) for w in kernels)
                total[0] += 2 * size * positions
            return outputs

        return call

    for layer in layers:
        if id(layer) in rnn_cells:
            continue
        kernels = _own_kernels(layer)
        if not kernels and not isinstance(layer, keras.layers.RNN):
            continue
        original = layer.call
        object.__setattr__(layer, "call", hook(layer, kernels, original))
        patched.append(layer)
    try:
        inputs = [np.zeros((1, *shape), "float32") for shape in shapes]
        model(inputs if len(inputs) > 1 else inputs[0], training=False)
    finally:
        for layer in patched:
            object.__delattr__(layer, "call")
    return int(total[0])
