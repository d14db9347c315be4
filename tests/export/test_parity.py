"""Export parity on the JAX and PyTorch backends (one subprocess each), and
the parity helpers. TensorFlow: tests/export/test_exporter.py."""

import json
import os
import subprocess
import sys

import keras
import numpy as np

from keras_video.export import parity
from tests.conftest import ROOT

SCRIPT = r"""
import json, sys
from keras_video.export import ExportError, check_parity
from keras_video.export.parity import parity_model
rows = []
for name, format, float16 in json.loads(sys.argv[1]):
    try:
        r = check_parity(parity_model(name), format, float16=float16,
                         input_dtype="uint8")
        rows.append([name, format, float16, r["max_abs_diff"], list(r["keras"].shape)])
    except ExportError as error:
        rows.append([name, format, float16, str(error), None])
print(json.dumps(rows))
"""


def run_on(backend, cases):
    env = dict(os.environ, KERAS_BACKEND=backend, JAX_PLATFORMS="cpu",
               TF_CPP_MIN_LOG_LEVEL="2")  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(cases)], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_jax_artifacts_match_keras():
    # SavedModel through jax2tf (Keras' own JAX export), float16 through a
    # ConvGRU (the float16 copy is built without the Orthogonal recurrent
    # initializer, which JAX cannot run in float16); LiteRT from it, with
    # two inputs in one batch-1 signature. ONNX: Keras' JAX exporter needs
    # jax2onnx, which the export extra does not install (it brings flax,
    # orbax, ...): a one-line error.
    cases = [
        ["recurrent_cnn", "saved_model", True],
        ["two_stream", "litert", False],
        ["c3d", "onnx", False],
    ]
    rows = {(n, f): (d, shape) for n, f, _, d, shape in run_on("jax", cases)}
    for name, format, float16 in cases[:2]:
        diff, shape = rows[name, format]
        assert shape == [2, 4], (name, format, diff)
        assert diff <= (5e-3 if float16 else 1e-4), (name, format, diff)
    message, _ = rows["c3d", "onnx"]
    assert "to onnx" in message and "jax2onnx" in message and "\n" not in message


def test_torch_onnx_matches_keras():
    # Two inputs in one batch-1 signature.
    cases = [["two_stream", "onnx", False]]
    for name, format, _, diff, shape in run_on("torch", cases):
        assert shape == [2, 4], (name, format, diff)
        assert diff <= 1e-4, (name, format, diff)


def test_parity_model_rescales_and_gives_logits():
    model = parity.parity_model("c3d")
    assert model.layers[1].name == "clip_rescale"
    clips = parity.random_clips(model, batch_size=3, seed=1, dtype="uint8")
    assert clips[0].dtype == np.uint8 and clips[0].shape == (3, 8, 32, 32, 3)
    out = np.asarray(model(clips[0].astype("float32")))
    assert out.shape == (3, 4) and not np.allclose(out.sum(-1), 1.0)  # logits


def test_calibrate_batch_norm_sets_each_layers_batch_statistics():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4, 6, 6, 2))
    x = keras.layers.Conv3D(3, 1, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Conv3D(2, 1, name="conv2")(x)
    x = keras.layers.BatchNormalization(name="bn2", momentum=0.9)(x)
    model = keras.Model(inputs, x)
    rng = np.random.default_rng(0)
    clip = (rng.normal(size=(5, 4, 6, 6, 2)) * [3.0, 0.1]).astype("float32")
    assert parity.calibrate_batch_norm(model, [clip]) == 2
    kernel, bias = map(np.asarray, model.get_layer("conv").get_weights())
    a = clip @ kernel.reshape(2, 3) + bias  # the 1x1x1 convolution
    axes = (0, 1, 2, 3)
    bn1, bn2 = model.get_layer("bn1"), model.get_layer("bn2")
    np.testing.assert_allclose(bn1.moving_mean, a.mean(axes), atol=1e-4)
    np.testing.assert_allclose(
        bn1.moving_variance, np.maximum(a.var(axes), 1.0), rtol=1e-4
    )
    # bn2's batch: bn1's output normalised by the batch statistics.
    normed = np.maximum((a - a.mean(axes)) / np.sqrt(a.var(axes) + 1e-3), 0)
    kernel2, bias2 = map(np.asarray, model.get_layer("conv2").get_weights())
    b = normed @ kernel2.reshape(3, 2) + bias2
    np.testing.assert_allclose(bn2.moving_mean, b.mean(axes), atol=1e-4)
    np.testing.assert_allclose(
        bn2.moving_variance, np.maximum(b.var(axes), 1.0), rtol=1e-3
    )
    variances = np.concatenate([a.var(axes), b.var(axes)])
    assert variances.min() < 1.0 < variances.max()  # both cases were met
    assert (bn1.momentum, bn2.momentum) == (0.99, 0.9)  # restored
