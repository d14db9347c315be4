"""Test helpers: the checks every keras-video layer test runs (after keras'
`run_layer_test`), NumPy references, and loading a benchmark script."""

import importlib.util
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name):
    """The module of `benchmarks/<name>.py` (benchmarks are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def check_layer(layer, inputs, tmp_path, expected_output_shape=None, atol=1e-6):
    """Output shape, `compute_output_shape`, config and `.keras` round trips.

    Builds a functional model around `layer`, saves it as `.keras`, loads it back
    with `safe_mode=True` and checks it gives the same outputs. Returns the eager
    outputs (NumPy) for further checks.
    """
    inputs_list = as_list(inputs)
    input_shapes = [tuple(x.shape) for x in inputs_list]
    call_inputs = inputs if isinstance(inputs, (list, tuple)) else inputs_list[0]

    symbolic = [keras.Input(shape=s[1:], batch_size=s[0]) for s in input_shapes]
    symbolic_in = symbolic if isinstance(inputs, (list, tuple)) else symbolic[0]
    outputs = layer(symbolic_in)
    model = keras.Model(symbolic_in, outputs)

    eager = [keras.ops.convert_to_numpy(o) for o in as_list(model(call_inputs))]
    computed = layer.compute_output_shape(
        input_shapes if isinstance(inputs, (list, tuple)) else input_shapes[0]
    )
    nested = isinstance(computed, (list, tuple)) and isinstance(
        computed[0], (list, tuple)
    )
    computed = list(computed) if nested else [computed]
    for out, shape, sym in zip(eager, computed, as_list(outputs)):
        assert out.shape == tuple(shape), (out.shape, shape)
        assert tuple(sym.shape) == tuple(shape), (sym.shape, shape)
    if expected_output_shape is not None:
        assert eager[0].shape == tuple(expected_output_shape)

    clone = layer.__class__.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()

    path = tmp_path / f"{layer.name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    again = [keras.ops.convert_to_numpy(o) for o in as_list(loaded(call_inputs))]
    for a, b in zip(eager, again):
        np.testing.assert_allclose(a, b, atol=atol)
    return eager if len(eager) > 1 else eager[0]


def count_params(weights):
    return int(sum(np.prod(w.shape) for w in weights))


def conv2d_same(x, kernel):
    """NumPy reference: stride-1 'same' 2D convolution, `(b, h, w, ci)` -> `(b, h, w, co)`."""
    kh, kw = kernel.shape[:2]
    top, left = (kh - 1) // 2, (kw - 1) // 2
    padded = np.pad(x, [(0, 0), (top, kh - 1 - top), (left, kw - 1 - left), (0, 0)])
    out = np.zeros(x.shape[:3] + (kernel.shape[-1],), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            window = padded[:, i : i + x.shape[1], j : j + x.shape[2], :]
            out += window @ kernel[i, j]
    return out


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


SAME_OUTPUTS_SCRIPT = """
import sys
import keras
import numpy as np
import keras_video.detection  # registers the package's layers
import keras_video.layers
folder, atol = sys.argv[1], float(sys.argv[2])
model = keras.saving.load_model(folder + "/m.keras", safe_mode=True)
inputs = dict(np.load(folder + "/inputs.npz"))
x = inputs.pop("_single") if "_single" in inputs else inputs
expected = np.load(folder + "/outputs.npz")
for i, got in enumerate(keras.tree.flatten(model(x))):
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(got), expected[f"o{i}"], atol=atol
    )
print("ok", keras.backend.backend())
"""


def assert_same_outputs_on_backend(model, inputs, backend, folder, atol=1e-5):
    """Saves `model`, loads it on `backend` in a fresh process and checks that
    it gives this backend's outputs for `inputs` (an array or a dict of
    arrays) within `atol`. Skips when `backend` is the current one or is not
    installed."""
    from tests.conftest import ROOT

    if backend == keras.backend.backend():
        pytest.skip("the current backend is the reference")
    pytest.importorskip(backend)
    model.save(os.path.join(folder, "m.keras"))
    arrays = inputs if isinstance(inputs, dict) else {"_single": inputs}
    np.savez(os.path.join(folder, "inputs.npz"), **arrays)
    outputs = keras.tree.flatten(model(inputs))
    np.savez(
        os.path.join(folder, "outputs.npz"),
        **{f"o{i}": keras.ops.convert_to_numpy(o) for i, o in enumerate(outputs)},
    )
    env = dict(os.environ, KERAS_BACKEND=backend, CUDA_VISIBLE_DEVICES="")
    if backend == "jax":  # tiny models: no optimised XLA code needed (conftest)
        env.setdefault("JAX_PLATFORMS", "cpu")
        env.setdefault(
            "XLA_FLAGS",
            "--xla_backend_optimization_level=0 "
            "--xla_llvm_disable_expensive_passes=true",
        )
    result = subprocess.run(
        [sys.executable, "-c", SAME_OUTPUTS_SCRIPT, str(folder), str(atol)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"ok {backend}" in result.stdout
