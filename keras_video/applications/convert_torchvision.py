"""torchvision's video ResNets (`r3d_18`, `mc3_18`, `r2plus1d_18`) into the zoo.

`R3D`, `MC3` and `R2Plus1D` of `resnet3d.py` are torchvision's networks layer
for layer (same stems, strides, padding, R(2+1)D mid channels, batch norm
epsilon 1e-5), so the conversion is a renaming plus PyTorch -> Keras layouts
(`pretrained.assign_torch_weights`):

| torchvision module                    | Keras layer                      |
|---------------------------------------|----------------------------------|
| `stem.0`, `stem.1` (3D stem)          | `conv1_conv`, `conv1_bn`         |
| `stem.0`, `stem.1`, `stem.3`, `stem.4`| `conv1_s`, `conv1_s_bn`,         |
| (R(2+1)D stem)                        | `conv1_conv`, `conv1_bn`         |
| `layer{s}.{b}.conv{k}.0` (a conv)     | `conv{s+1}_block{b+1}_{k}_conv`  |
| `layer{s}.{b}.conv{k}.0.0` / `.0.1` / | `..._{k}_conv_s` / `_s_bn` /     |
| `.0.3` (a `Conv2Plus1D`)              | `_t`                             |
| `layer{s}.{b}.conv{k}.1`              | `conv{s+1}_block{b+1}_{k}_bn`    |
| `layer{s}.{b}.downsample.0` / `.1`    | `conv{s+1}_block{b+1}_0_conv` / `_0_bn` |
| `fc`                                  | `predictions`                    |

Kernels `(out, in, t, h, w)` become `(t, h, w, in, out)` and `fc.weight`
`(400, 512)` becomes `(512, 400)`; pooling then the classifier is the same
computation in both (global average over time and space, then the dense
layer). Every array is used exactly once (`num_batches_tracked` is dropped);
anything missing or left over is an error naming it.
"""

import re

from keras_video.applications import pretrained, resnet3d

_BLOCK = re.compile(r"^layer(\d)\.(\d+)\.(conv\d|downsample)((?:\.\d)+)$")


def layer_names(state_dict, model):
    """`{torchvision module path: Keras layer name}` for `state_dict` and `model`."""
    layers = {layer.name for layer in model.layers}
    if "conv1_s" in layers:  # R2Plus1dStem: conv, bn, relu, conv, bn, relu
        names = {
            "stem.0": "conv1_s",
            "stem.1": "conv1_s_bn",
            "stem.3": "conv1_conv",
            "stem.4": "conv1_bn",
        }
    else:  # BasicStem: conv, bn, relu
        names = {"stem.0": "conv1_conv", "stem.1": "conv1_bn"}
    names["fc"] = "predictions"
    for key in state_dict:
        module = key.rpartition(".")[0]
        match = _BLOCK.match(module)
        if not match:
            continue
        stage, block, part, index = match.groups()
        prefix = f"conv{int(stage) + 1}_block{int(block) + 1}"
        if part == "downsample":
            names[module] = {".0": f"{prefix}_0_conv", ".1": f"{prefix}_0_bn"}.get(
                index, module
            )
            continue
        k = part[len("conv") :]
        names[module] = {
            ".0": f"{prefix}_{k}_conv",  # Conv3DSimple, Conv3DNoTemporal, 1x1x1
            ".0.0": f"{prefix}_{k}_conv_s",  # Conv2Plus1D: spatial conv
            ".0.1": f"{prefix}_{k}_conv_s_bn",
            ".0.3": f"{prefix}_{k}_conv_t",  # temporal conv
            ".1": f"{prefix}_{k}_bn",
        }.get(index, module)
    return names


def assign(state_dict, model):
    """Sets every weight of a `resnet3d` model from a torchvision state dict.

    Args:
        state_dict: `{name: numpy array}` of `r3d_18`, `mc3_18` or
            `r2plus1d_18` (or of the same networks at another width or depth).
        model: the matching `R3D`, `MC3` or `R2Plus1D` with its head.

    Returns:
        `model`.

    Raises:
        ValueError: naming the arrays and weights that do not match.
    """
    return pretrained.assign_torch_weights(
        model, state_dict, layer_names(state_dict, model)
    )


# The converters' full networks output logits, as torchvision's do (the
# activation holds no weights, so the file loads into either).
_FULL = dict(depth=18, classes=400, input_shape=(None, None, None, 3))


def build_r3d_18():
    """`R3D(depth=18)`, torchvision's 400-class head, logits (random weights)."""
    return resnet3d.R3D(classifier_activation=None, **_FULL)


def build_mc3_18():
    """`MC3(depth=18)`, torchvision's 400-class head, logits (random weights)."""
    return resnet3d.MC3(classifier_activation=None, **_FULL)


def build_r2plus1d_18():
    """`R2Plus1D(depth=18)`, torchvision's 400-class head, logits (random weights)."""
    return resnet3d.R2Plus1D(classifier_activation=None, **_FULL)
