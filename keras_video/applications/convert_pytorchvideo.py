"""PyTorchVideo's Kinetics-400 checkpoints (`slowfast_r50`, `slow_r50`, `i3d_r50`)
into the zoo.

The networks are the zoo's `SlowFast(tau=8)`, `Slow` and
`I3D(architecture="pytorchvideo")` with the options that make them
PyTorchVideo's layer for layer: the stride on the (1, 3, 3) convolution,
symmetric padding, no convolution biases, batch norm epsilon 1e-5, the head's
average pool with stride 1 (`head_pool_size`), and for SlowFast the slow
pathway's frames as `PackPathway` picks them (`slow_sampling="linspace"`).
The conversion is then a renaming plus PyTorch -> Keras layouts
(`pretrained.assign_torch_weights`; the lateral connections, whose
convolution and batch norm live inside a `SlowFastLateral` layer, here):

| PyTorchVideo module (`slow_r50`, `i3d_r50`)  | Keras layer                  |
|----------------------------------------------|------------------------------|
| `blocks.0.conv`, `blocks.0.norm`             | `conv1_conv`, `conv1_bn`     |
| `blocks.{i}.res_blocks.{b}.branch1_conv`     | `conv{s}_block{b+1}_0_conv`  |
| `....branch1_norm`                           | `conv{s}_block{b+1}_0_bn`    |
| `....branch2.conv_a`, `norm_a`               | `..._1_conv`, `..._1_bn`     |
| `....branch2.conv_b`, `norm_b`               | `..._2_conv`, `..._2_bn`     |
| `....branch2.conv_c`, `norm_c`               | `..._3_conv`, `..._3_bn`     |
| `blocks.{last}.proj`                         | `predictions`                |

where `s` is 2 for the first stage (`blocks.1`) and counts the stages in
order (`i3d_r50`'s `blocks.2` is its pool2, without weights). For
`slowfast_r50` each block holds `multipathway_blocks.0` (slow) and `.1` (fast):
`slow_` / `fast_` prefixes, `blocks.{i}.multipathway_fusion.conv_fast_to_slow`
/ `.norm` is the lateral `pool1_fuse` (i = 0) or `conv{i+1}_fuse`.

Kernels `(out, in, t, h, w)` become `(t, h, w, in, out)`, `proj.weight`
`(400, C)` becomes `(C, 400)`; every array is used exactly once
(`num_batches_tracked` is dropped) and anything missing, left over or of
another shape is an error naming it.

The checkpoints are `torch.save({"model_state": state_dict, ...})` files,
read by `torch_checkpoint.load_state_dict(path, key="model_state")`.
PyTorchVideo publishes no checksums for them; `pretrained.CONVERTERS` pins
what is known (see there).
"""

import re
import types

import numpy as np

from keras_video.applications import i3d, pretrained, slow, slowfast

_STAGE = re.compile(
    r"^blocks\.(\d+)\.(?:multipathway_blocks\.(\d)\.)?res_blocks\.(\d+)\."
    r"(branch1_conv|branch1_norm|branch2\.(?:conv|norm)_[abc])$"
)
_PART = {
    "branch1_conv": "0_conv",
    "branch1_norm": "0_bn",
    "branch2.conv_a": "1_conv",
    "branch2.norm_a": "1_bn",
    "branch2.conv_b": "2_conv",
    "branch2.norm_b": "2_bn",
    "branch2.conv_c": "3_conv",
    "branch2.norm_c": "3_bn",
}
_FUSION = re.compile(r"^blocks\.(\d+)\.multipathway_fusion\.(conv_fast_to_slow|norm)$")
_PATHWAYS = ("slow_", "fast_")


def _modules(state_dict):
    return sorted({key.rpartition(".")[0] for key in state_dict})


def layer_names(state_dict):
    """`{PyTorchVideo module path: Keras layer name}` of a ResNet or SlowFast.

    Args:
        state_dict: the `model_state` of `slow_r50`, `i3d_r50` or
            `slowfast_r50` (or of their `create_resnet` / `create_slowfast`
            networks at another width or depth).

    Returns:
        The names of every convolution, batch norm and the head; the lateral
        connections of SlowFast are `lateral_names`'.
    """
    modules = _modules(state_dict)
    names = {}
    stage_blocks = sorted(
        {int(m.group(1)) for m in map(_STAGE.match, modules) if m is not None}
    )
    for module in modules:
        match = _STAGE.match(module)
        if match is not None:
            block, pathway, index, part = match.groups()
            prefix = "" if pathway is None else _PATHWAYS[int(pathway)]
            stage = stage_blocks.index(int(block)) + 2
            names[module] = f"{prefix}conv{stage}_block{int(index) + 1}_{_PART[part]}"
            continue
        stem = re.match(
            r"^blocks\.0\.(?:multipathway_blocks\.(\d)\.)?(conv|norm)$", module
        )
        if stem is not None:
            prefix = "" if stem.group(1) is None else _PATHWAYS[int(stem.group(1))]
            names[module] = (
                f"{prefix}conv1_{'conv' if stem.group(2) == 'conv' else 'bn'}"
            )
        elif re.match(r"^blocks\.\d+\.proj$", module):
            names[module] = "predictions"
    return names


def lateral_names(state_dict):
    """`{blocks.{i}.multipathway_fusion: SlowFastLateral layer name}`."""
    names = {}
    for module in _modules(state_dict):
        match = _FUSION.match(module)
        if match is not None:
            block = int(match.group(1))
            prefix = module.rpartition(".")[0]
            names[prefix] = "pool1_fuse" if block == 0 else f"conv{block + 1}_fuse"
    return names


def _assign_laterals(state_dict, model):
    """Sets the conv and BN of every `SlowFastLateral`; returns the keys used."""
    used, problems = set(), []
    for module, layer_name in lateral_names(state_dict).items():
        layer = model.get_layer(layer_name)
        targets = {
            "conv_fast_to_slow.weight": layer.conv.kernel,
            "norm.weight": layer.bn.gamma,
            "norm.bias": layer.bn.beta,
            "norm.running_mean": layer.bn.moving_mean,
            "norm.running_var": layer.bn.moving_variance,
        }
        for suffix, variable in targets.items():
            key = f"{module}.{suffix}"
            if key not in state_dict:
                problems.append(f"{key} missing for {layer_name}")
                continue
            value = np.asarray(state_dict[key])
            if value.ndim == 5:  # (out, in, t, 1, 1) -> (t, 1, 1, in, out)
                value = np.transpose(value, (2, 3, 4, 1, 0))
            if tuple(value.shape) != tuple(variable.shape):
                problems.append(
                    f"{key}: shape {value.shape} (Keras layout) does not match "
                    f"{layer_name}.{variable.name} {tuple(variable.shape)}"
                )
                continue
            variable.assign(value.astype(variable.dtype))
            used.add(key)
        used.add(f"{module}.norm.num_batches_tracked")
    if problems:
        raise ValueError(
            f"The checkpoint does not match model {model.name!r}: {problems}"
        )
    return used


def assign(state_dict, model):
    """Sets every weight of `model` from a PyTorchVideo state dict.

    Args:
        state_dict: `{name: numpy array}`, the `model_state` of `slowfast_r50`,
            `slow_r50` or `i3d_r50` (or of the same networks built at another
            width or depth by PyTorchVideo's `create_slowfast` /
            `create_resnet`).
        model: the matching `SlowFast`, `Slow` or `I3D(architecture=
            "pytorchvideo")` with its head.

    Returns:
        `model`.

    Raises:
        ValueError: naming the arrays and weights that do not match.
    """
    used = _assign_laterals(state_dict, model)
    lateral_ids = {
        id(w)
        for layer in model.layers
        if type(layer).__name__ == "SlowFastLateral"
        for w in layer.weights
    }
    # `assign_torch_weights` checks that every weight it is shown is set: it
    # is shown the model without the lateral weights set above.
    rest = types.SimpleNamespace(
        name=model.name,
        layers=model.layers,
        weights=[w for w in model.weights if id(w) not in lateral_ids],
    )
    state = {k: v for k, v in state_dict.items() if k not in used}
    pretrained.assign_torch_weights(rest, state, layer_names(state_dict))
    return model


def build_slowfast_r50():
    """`slowfast_r50` as `SlowFast`: 8x8 R50, PackPathway sampling, 400 classes."""
    return slowfast.SlowFast(
        tau=8,
        classes=400,
        input_shape=(slowfast.KINETICS400_DATA_CONFIG["num_frames"], None, None, 3),
        slow_sampling="linspace",
        head_pool_size=slowfast.KINETICS400_HEAD_POOL_SIZE,
    )


def build_slow_r50():
    """`slow_r50` as `Slow` (depth 50, 400 classes, head pool (8, 7, 7))."""
    return slow.Slow(
        classes=400,
        input_shape=(slow.KINETICS400_DATA_CONFIG["num_frames"], None, None, 3),
        head_pool_size=slow.KINETICS400_HEAD_POOL_SIZE,
    )


def build_i3d_r50():
    """`i3d_r50` as `I3D(architecture="pytorchvideo")` (head pool (4, 7, 7))."""
    return i3d.I3D(
        architecture="pytorchvideo",
        classes=400,
        input_shape=(i3d.KINETICS400_DATA_CONFIG["num_frames"], None, None, 3),
        head_pool_size=i3d.KINETICS400_HEAD_POOL_SIZE,
    )
