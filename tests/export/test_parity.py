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
from keras_video.export import check_parity
from keras_video.export.parity import parity_model
rows = []
for name, format, float16 in json.loads(sys.argv[1]):
    r = check_parity(parity_model(name), format, float16=float16, input_dtype="uint8")
    rows.append([name, format, float16, r["max_abs_diff"], list(r["keras"].shape)])
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


def test_jax_saved_model_and_litert_match_keras():
    # SavedModel through jax2tf (Keras' own JAX export); LiteRT from it.
    # Two inputs and a GRU (its unused seed state dropped) through LiteRT too.
    cases = [
        ["r2plus1d_18", "saved_model", False],
        ["recurrent_cnn", "litert", False],
        ["c3d", "litert", True],
        ["two_stream", "litert", False],
        ["cnn_rnn", "litert", False],
    ]
    for name, format, float16, diff, shape in run_on("jax", cases):
        assert shape == [2, 4], (name, format)
        assert diff <= (5e-3 if float16 else 1e-4), (name, format, diff)


def test_torch_onnx_matches_keras():
    cases = [
        ["r3d_18", "onnx", False],
        ["cnn_rnn", "onnx", False],
        ["two_stream", "onnx", False],
    ]
    for name, format, _, diff, shape in run_on("torch", cases):
        assert shape == [2, 4], (name, format)
        assert diff <= 1e-4, (name, format, diff)


def test_parity_model_rescales_and_gives_logits():
    model = parity.parity_model("c3d")
    assert model.layers[1].name == "clip_rescale"
    clips = parity.random_clips(model, batch_size=3, seed=1, dtype="uint8")
    assert clips[0].dtype == np.uint8 and clips[0].shape == (3, 8, 32, 32, 3)
    out = np.asarray(model(clips[0].astype("float32")))
    assert out.shape == (3, 4) and not np.allclose(out.sum(-1), 1.0)  # logits


def test_calibrate_batch_norm_sets_each_layers_batch_statistics():
    inputs = keras.Input((4, 6, 6, 2))
    x = keras.layers.Conv3D(3, 1, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Conv3D(2, 1, name="conv2")(x)
    x = keras.layers.BatchNormalization(name="bn2", momentum=0.9)(x)
    model = keras.Model(inputs, x)
    clips = [np.random.default_rng(0).normal(3.0, 2.0, (5, 4, 6, 6, 2))]
    clips[0] = clips[0].astype("float32")
    assert parity.calibrate_batch_norm(model, clips) == 2
    conv = model.get_layer("conv")
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in conv.weights)
    a = clips[0] @ kernel.reshape(2, 3) + bias  # the 1x1x1 convolution
    bn1 = model.get_layer("bn1")
    np.testing.assert_allclose(bn1.moving_mean, a.mean(axis=(0, 1, 2, 3)), atol=1e-4)
    np.testing.assert_allclose(bn1.moving_variance, a.var(axis=(0, 1, 2, 3)),
                               rtol=1e-4)  # fmt: skip
    # bn2 sees bn1's output normalised by the batch statistics.
    normed = np.maximum((a - a.mean((0, 1, 2, 3))) / np.sqrt(a.var((0, 1, 2, 3))
                                                              + 1e-3), 0)  # fmt: skip
    kernel2, bias2 = (
        keras.ops.convert_to_numpy(w) for w in model.get_layer("conv2").weights
    )
    b = normed @ kernel2.reshape(3, 2) + bias2
    bn2 = model.get_layer("bn2")
    np.testing.assert_allclose(bn2.moving_mean, b.mean(axis=(0, 1, 2, 3)), atol=1e-4)
    np.testing.assert_allclose(bn2.moving_variance, b.var(axis=(0, 1, 2, 3)),
                               rtol=1e-3)  # fmt: skip
    assert (bn1.momentum, bn2.momentum) == (0.99, 0.9)  # restored
