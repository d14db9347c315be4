"""Published checkpoints as `weights=` presets: `keras-video weights convert NAME`.

`CONVERTERS[name]` is a `Converter`: which zoo model a published checkpoint
fills, where the checkpoint is (URL and pinned sha256), how to convert it and
the data settings its publisher trained with. For a PyTorch checkpoint:

```
keras-video weights convert r3d_18 [--from r3d_18-b3b3357e.pth]
  -> the checkpoint: --from PATH, else `url` downloaded to a temporary folder
     (keras.utils.get_file, progress bar); its sha256 checked against `sha256`
  -> torch_checkpoint.load_state_dict(path, key=checkpoint_key)
     (NumPy arrays; no PyTorch, no pickled code run)
  -> converter.convert(state): `build()` the Keras model, `assign(state, model)`
  -> <Keras cache>/models/<name>.weights.h5, written atomically; a file
     already there that loads is kept (`--force` converts again)

R3D(weights="kinetics400")
  -> weights.load_weights -> weights.cached_file(converter.file): the file, or
     FileNotFoundError naming it and `keras-video weights convert r3d_18`
  -> converter.load(model, path): the full network loads the file as it is;
     a feature extractor (include_top=False) gets its layers by name
```

Importing this module registers every entry's preset in `weights.PRESETS`
(`family`, `tag`), so the family module imports it (`resnet3d.py` does).

Adding an entry: a few lines in `CONVERTERS` below. Functions are given as
`"module:name"` strings, imported only when used, so the table imports no
model code:

```python
    Converter(
        name="slow_r50",                  # CLI name; file slow_r50.weights.h5
        family="slow_r50",                # the constructor's key in PRESETS
        tag="kinetics400",                # weights="kinetics400"
        url="https://.../SLOW_8x8_R50.pyth",
        sha256="<64 hex digits>",         # or the published prefix (>= 8)
        checkpoint_key="model_state",     # PyTorchVideo: {"model_state": ...}
        build="keras_video.applications.convert_pytorchvideo:build_slow_r50",
        assign="keras_video.applications.convert_pytorchvideo:assign_slow_r50",
        data_config="keras_video.applications.slowfast:SLOW_R50_DATA_CONFIG",
        description="The Kinetics-400 Slow R50 weights (PyTorchVideo)",
    ),
```

`build()` returns the full published network with random weights;
`assign(state_dict, model)` sets every weight of `model` from the NumPy state
dict (`assign_torch_weights` does the usual PyTorch -> Keras layouts) and
raises on a missing or unused array; `data_config` is the family module's
dict of data settings. `classes` (default 400) is what
`check_preset_classes` requires with the head.
"""

import dataclasses
import hashlib
import importlib
import os
import tempfile

import numpy as np

from keras_video.applications import weights as weights_lib


@dataclasses.dataclass(frozen=True)
class Converter:
    """A published checkpoint and how it becomes a preset.

    Args:
        name: the name of `keras-video weights convert NAME`; the file is
            `<name>.weights.h5` in the Keras cache.
        family: the constructor's key in `weights.PRESETS`.
        tag: the preset, `weights=tag`.
        description: what the file holds, for messages
            (`"The Kinetics-400 R3D-18 weights (torchvision)"`).
        url: where the publisher serves the checkpoint.
        sha256: its sha256, hex: the full digest or a published prefix of at
            least 8 digits (torchvision names its files by one); `None` when
            the publisher gives none (PyTorchVideo): not checked.
        build: `"module:function"`, `function()` -> the full Keras model.
        assign: `"module:function"`, `function(state_dict, model)` sets
            every weight of `model`.
        data_config: `"module:NAME"`, the preset's data settings (a dict).
        checkpoint_key: the entry of the checkpoint holding the state dict
            (`None`: see `torch_checkpoint.load_state_dict`).
        classes: the classes of the published head.
        produce: `"module:function"` for a checkpoint that is not a PyTorch
            file: `function(source=, output=, force=)` does everything (the
            preset is then registered by the family module itself).
        file_name: the file in the Keras cache, if not `<name>.weights.h5`.
    """

    name: str
    family: str
    tag: str
    description: str
    url: str = None
    sha256: str = None
    build: str = None
    assign: str = None
    data_config: str = None
    checkpoint_key: str = None
    classes: int = 400
    produce: str = None
    file_name: str = None

    @property
    def command(self):
        """The one command that produces the file."""
        return f"keras-video weights convert {self.name}"

    @property
    def file(self):
        """The `weights.WeightsFile` of the converted weights."""
        note = ""
        if self.url:
            note = (
                f"It downloads {self.url}. Offline: download it elsewhere, then "
                f"`{self.command} --from {os.path.basename(self.url)}`."
            )
        return weights_lib.WeightsFile(
            name=self.file_name or f"{self.name}.weights.h5",
            description=self.description,
            command=self.command,
            note=note,
        )

    def get_data_config(self):
        """The preset's data settings (a dict), from `data_config`."""
        return _resolve(self.data_config)

    def build_model(self):
        """The full published network (`build`), random weights."""
        return _resolve(self.build)()

    def convert(self, state_dict):
        """The full Keras model with every weight set from `state_dict`."""
        model = self.build_model()
        _resolve(self.assign)(state_dict, model)
        return model

    def load(self, model, path):
        """Loads the converted file at `path` into `model` (the preset's loader).

        A model ending with the full head (`predictions`) loads the file as it
        is (any clip shape); any other (a feature extractor) gets each of its
        layers from the same-named layer of the full network.
        """
        if model.layers and model.layers[-1].name == "predictions":
            model.load_weights(path)
            return
        full = _resolve(self.build)()
        full.load_weights(path)
        weights_lib.copy_weights_by_name(full, model)


def _resolve(reference):
    """`"package.module:name"` -> the object (anything else is returned)."""
    if not isinstance(reference, str):
        return reference
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


# The table. Published accuracies and licences: docs/pretrained_weights.md.
_TORCHVISION = "keras_video.applications.convert_torchvision"
_PYTORCHVIDEO = "keras_video.applications.convert_pytorchvideo"
_PYTORCHVIDEO_ZOO = "https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics"
CONVERTERS = {
    converter.name: converter
    for converter in (
        Converter(
            name="i3d-kinetics400",
            family="InceptionI3D",
            tag="kinetics400",
            description=weights_lib.KINETICS400.description,
            produce="keras_video.applications.convert_i3d:convert",
            data_config=(
                "keras_video.applications.inception_i3d:KINETICS400_DATA_CONFIG"
            ),
            file_name=weights_lib.KINETICS400.name,
        ),
        # torchvision's KINETICS400_V1 weights. torchvision names each file by
        # the first 8 hex digits of its sha256 and checks only that prefix
        # (`check_hash`); the full digests are not published, so the prefix
        # is what is pinned here.
        Converter(
            name="r3d_18",
            family="r3d_18",
            tag="kinetics400",
            description="The Kinetics-400 R3D-18 weights (torchvision)",
            url="https://download.pytorch.org/models/r3d_18-b3b3357e.pth",
            sha256="b3b3357e",
            build=f"{_TORCHVISION}:build_r3d_18",
            assign=f"{_TORCHVISION}:assign",
            data_config="keras_video.applications.resnet3d:KINETICS400_DATA_CONFIG",
        ),
        Converter(
            name="mc3_18",
            family="mc3_18",
            tag="kinetics400",
            description="The Kinetics-400 MC3-18 weights (torchvision)",
            url="https://download.pytorch.org/models/mc3_18-a90a0ba3.pth",
            sha256="a90a0ba3",
            build=f"{_TORCHVISION}:build_mc3_18",
            assign=f"{_TORCHVISION}:assign",
            data_config="keras_video.applications.resnet3d:KINETICS400_DATA_CONFIG",
        ),
        Converter(
            name="r2plus1d_18",
            family="r2plus1d_18",
            tag="kinetics400",
            description="The Kinetics-400 R(2+1)D-18 weights (torchvision)",
            url="https://download.pytorch.org/models/r2plus1d_18-91a641e6.pth",
            sha256="91a641e6",
            build=f"{_TORCHVISION}:build_r2plus1d_18",
            assign=f"{_TORCHVISION}:assign",
            data_config="keras_video.applications.resnet3d:KINETICS400_DATA_CONFIG",
        ),
        # PyTorchVideo's Kinetics-400 model zoo (`{"model_state": ...}` files).
        # PyTorchVideo publishes no checksum or size for them: nothing pinned
        # (sha256=None), the file is checked by fitting the network exactly.
        Converter(
            name="slowfast_r50",
            family="slowfast",
            tag="kinetics400",
            description="The Kinetics-400 SlowFast 8x8 R50 weights (PyTorchVideo)",
            url=f"{_PYTORCHVIDEO_ZOO}/SLOWFAST_8x8_R50.pyth",
            checkpoint_key="model_state",
            build=f"{_PYTORCHVIDEO}:build_slowfast_r50",
            assign=f"{_PYTORCHVIDEO}:assign",
            data_config="keras_video.applications.slowfast:KINETICS400_DATA_CONFIG",
        ),
        Converter(
            name="slow_r50",
            family="slow",
            tag="kinetics400",
            description="The Kinetics-400 Slow 8x8 R50 weights (PyTorchVideo)",
            url=f"{_PYTORCHVIDEO_ZOO}/SLOW_8x8_R50.pyth",
            checkpoint_key="model_state",
            build=f"{_PYTORCHVIDEO}:build_slow_r50",
            assign=f"{_PYTORCHVIDEO}:assign",
            data_config="keras_video.applications.slow:KINETICS400_DATA_CONFIG",
        ),
        Converter(
            name="i3d_r50",
            family="I3D",
            tag="kinetics400",
            description="The Kinetics-400 I3D 8x8 R50 weights (PyTorchVideo)",
            url=f"{_PYTORCHVIDEO_ZOO}/I3D_8x8_R50.pyth",
            checkpoint_key="model_state",
            build=f"{_PYTORCHVIDEO}:build_i3d_r50",
            assign=f"{_PYTORCHVIDEO}:assign",
            data_config="keras_video.applications.i3d:KINETICS400_DATA_CONFIG",
        ),
    )
}


def register(converter):
    """Adds `converter` to `CONVERTERS` and registers its preset; returns it."""
    CONVERTERS[converter.name] = converter
    if converter.produce is None:
        weights_lib.register_preset(
            converter.family, converter.tag, converter.file, converter.load
        )
    return converter


for _converter in CONVERTERS.values():
    register(_converter)


def find(family, tag):
    """The converter of preset `tag` of `family`, or `None`."""
    for converter in CONVERTERS.values():
        if converter.family == family and converter.tag == tag:
            return converter
    return None


def check_preset_classes(weights, include_top, classes, family, name):
    """With a converted preset and its head, `classes` must be the head's.

    Raises:
        ValueError: e.g. `R3D(weights="kinetics400", classes=10)`.
    """
    converter = find(family, weights) if isinstance(weights, str) else None
    if converter is not None and include_top and classes != converter.classes:
        raise ValueError(
            f"{name}: with weights={weights!r} and include_top=True, `classes` "
            f"must be {converter.classes}. Received: classes={classes!r}"
        )


# --------------------------------------------------------------- conversion


def sha256_of(path):
    """The sha256 hex digest of the file at `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sha256(path, expected):
    """Raises `ValueError` unless the file's sha256 starts with `expected`."""
    digest = sha256_of(path)
    if not digest.startswith(expected.lower()):
        raise ValueError(
            f"{path}: sha256 {digest} does not match the pinned "
            f"{expected}{'...' if len(expected) < 64 else ''}: not the "
            "published checkpoint (a partial download, or another file)."
        )


def download(converter, directory):
    """Downloads `converter.url` into `directory` (progress bar); its path."""
    import keras

    return keras.utils.get_file(
        os.path.basename(converter.url),
        converter.url,
        cache_dir=directory,
        cache_subdir="",
    )


def _loads(converter, path):
    """Whether the converted file at `path` loads into the full network."""
    try:
        _resolve(converter.build)().load_weights(path)
        return True
    except Exception as error:  # noqa: BLE001 - any failure means "redo"
        print(f"{path} exists but does not load ({error}); converting again.")
        return False


def convert(name, source=None, output=None, force=False, verify_sha256=True):
    """Produces the weights file of `CONVERTERS[name]`.

    Args:
        name: a key of `CONVERTERS`.
        source: a local copy of the published checkpoint; `None` downloads
            it from the converter's URL.
        output: where to write; default `<Keras cache>/models/<file>`.
        force: convert even when `output` exists and loads.
        verify_sha256: check the checkpoint against the pinned sha256.

    Returns:
        The path written (or found).

    Raises:
        ValueError: an unknown `name`, a checkpoint whose sha256 differs, or
            one that does not fit the model (naming the arrays).
        UnsafeCheckpointError: the checkpoint asks to run code.
    """
    from keras_video.applications import torch_checkpoint
    from keras_video.files import write_atomic

    if name not in CONVERTERS:
        raise ValueError(
            f"No converter named {name!r}; the converters are "
            f"{sorted(CONVERTERS)}. Received: name={name!r}"
        )
    converter = CONVERTERS[name]
    if converter.produce is not None:
        return _resolve(converter.produce)(source=source, output=output, force=force)
    output = output or weights_lib.cache_path(converter.file)
    if os.path.exists(output) and not force and _loads(converter, output):
        print(f"Already converted: {output}")
        return output
    with tempfile.TemporaryDirectory(prefix=f"keras-video-{name}-") as tmp:
        path = source if source is not None else download(converter, tmp)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No checkpoint file at {path}")
        if verify_sha256 and converter.sha256 is not None:
            check_sha256(path, converter.sha256)
        state = torch_checkpoint.load_state_dict(path, key=converter.checkpoint_key)
        model = converter.convert(state)
        partial = os.path.join(tmp, os.path.basename(converter.file.name))
        model.save_weights(partial)
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        with open(partial, "rb") as f:
            write_atomic(output, f.read())
    print(f"Wrote {output}")
    return output


# ------------------------------------------------- PyTorch -> Keras weights

# state-dict suffix -> Keras attribute, per layer kind; `None`: not a weight.
_BATCH_NORM = {
    "weight": "gamma",
    "bias": "beta",
    "running_mean": "moving_mean",
    "running_var": "moving_variance",
    "num_batches_tracked": None,
}
_DENSE_OR_CONV = {"weight": "kernel", "bias": "bias"}


def _torch_to_keras(value, kind, attr):
    """A PyTorch array in the Keras layout of `attr` of a `kind` layer."""
    if attr != "kernel":
        return value
    if kind == "dense":  # (out, in) -> (in, out)
        return value.T
    # Conv: (out, in / groups, *kernel) -> (*kernel, in / groups, out)
    return np.transpose(value, tuple(range(2, value.ndim)) + (1, 0))


def assign_torch_weights(model, state_dict, layer_names):
    """Sets every weight of `model` from a PyTorch state dict.

    Args:
        model: the Keras model.
        state_dict: `{name: numpy array}` (`torch_checkpoint.load_state_dict`).
        layer_names: `{PyTorch module path: Keras layer name}`, e.g.
            `{"stem.0": "conv1_conv", "stem.1": "conv1_bn", "fc": "predictions"}`.
            Conv1D/2D/3D and Dense kernels are transposed to Keras' layout
            (`(out, in, t, h, w)` -> `(t, h, w, in, out)`); batch norm
            `weight, bias, running_mean, running_var` are `gamma, beta,
            moving_mean, moving_variance` (`num_batches_tracked` is dropped).

    Raises:
        ValueError: naming every array no layer takes, every model weight left
            unset, a shape that differs, or a module of a layer kind it does
            not know.
    """
    layers = {layer.name: layer for layer in model.layers}
    unused, problems, assigned = [], [], set()
    for key, value in state_dict.items():
        module, _, suffix = key.rpartition(".")
        layer = layers.get(layer_names.get(module))
        if layer is None:
            unused.append(key)
            continue
        kind = type(layer).__name__
        if kind == "BatchNormalization":
            table, kind = _BATCH_NORM, "batch_norm"
        elif kind == "Dense" or kind.startswith("Conv"):
            table, kind = _DENSE_OR_CONV, "dense" if kind == "Dense" else "conv"
        else:
            problems.append(f"{key}: layer {layer.name} is a {kind}")
            continue
        if suffix not in table:
            unused.append(key)
            continue
        if table[suffix] is None:
            continue
        variable = getattr(layer, table[suffix], None)
        if variable is None:
            problems.append(f"{key}: {layer.name} has no {table[suffix]}")
            continue
        value = _torch_to_keras(np.asarray(value), kind, table[suffix])
        if tuple(value.shape) != tuple(variable.shape):
            problems.append(
                f"{key}: shape {value.shape} (Keras layout) does not match "
                f"{layer.name}.{table[suffix]} {tuple(variable.shape)}"
            )
            continue
        variable.assign(value.astype(variable.dtype))
        assigned.add(id(variable))
    unset = [v.path for v in model.weights if id(v) not in assigned]
    if unused or unset or problems:
        raise ValueError(
            f"The checkpoint does not match model {model.name!r}. "
            f"Arrays no layer takes: {unused or 'none'}. "
            f"Model weights left unset: {unset or 'none'}. "
            f"Other problems: {problems or 'none'}."
        )
    return model
