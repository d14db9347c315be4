"""`keras_video.visualization.gradients`: a class score's gradient on every
backend, against NumPy, and the same saliency on TensorFlow, JAX and PyTorch."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from keras_video.visualization import class_score_gradients, grad_cam, saliency
from keras_video.visualization import gradients as gradients_lib
from tests.conftest import ROOT
from tests.visualization.test_probe import small_cnn


def linear_model(kernel, bias):
    """Flatten -> Dense: the score's gradient is the kernel's column."""
    inputs = keras.Input((2, 3, 3, 2))
    dense = keras.layers.Dense(kernel.shape[1])
    outputs = dense(keras.layers.Flatten()(inputs))
    dense.set_weights([kernel, bias])
    return keras.Model(inputs, outputs)


def test_gradient_of_a_linear_score_is_the_kernel_column():
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(36, 4)).astype("float32")
    bias = np.array([0.0, 0.0, 100.0, 0.0], "float32")  # class 2 tops every sample
    model = linear_model(kernel, bias)
    x = rng.normal(size=(3, 2, 3, 3, 2)).astype("float32")

    outputs, grads, classes = class_score_gradients(model, x, class_index=[0, 1, 3])
    np.testing.assert_allclose(outputs, x.reshape(3, 36) @ kernel + bias, rtol=1e-5)
    for b, k in enumerate([0, 1, 3]):
        np.testing.assert_allclose(grads[b].ravel(), kernel[:, k], rtol=1e-6)
    np.testing.assert_array_equal(classes, [0, 1, 3])

    _, grads, classes = class_score_gradients(model, x)  # the top class
    np.testing.assert_array_equal(classes, [2, 2, 2])
    np.testing.assert_allclose(grads[1].ravel(), kernel[:, 2], rtol=1e-6)
    _, grads, _ = class_score_gradients(model, x, class_index=1)  # one for all
    np.testing.assert_allclose(grads[2].ravel(), kernel[:, 1], rtol=1e-6)


def test_gradients_of_every_input_of_a_two_input_model():
    a, b = keras.Input((3,)), keras.Input((2,))
    dense = keras.layers.Dense(2, use_bias=False)
    model = keras.Model([a, b], dense(keras.layers.Concatenate()([a, b * b])))
    kernel = np.arange(10, dtype="float32").reshape(5, 2)
    dense.set_weights([kernel])
    xa, xb = np.ones((1, 3), "float32"), np.array([[2.0, -1.0]], "float32")
    _, (ga, gb), _ = class_score_gradients(model, [xa, xb], class_index=1)
    np.testing.assert_allclose(ga[0], kernel[:3, 1])
    np.testing.assert_allclose(gb[0], 2 * xb[0] * kernel[3:, 1])  # d(b^2) = 2b


def test_bad_class_index_and_backend(monkeypatch):
    model = linear_model(np.zeros((36, 4), "float32"), np.zeros(4, "float32"))
    x = np.zeros((2, 2, 3, 3, 2), "float32")
    with pytest.raises(ValueError, match="class_index"):
        class_score_gradients(model, x, class_index=[0, 1, 2])
    with pytest.raises(ValueError, match="2 inputs"):
        class_score_gradients(model, [x, x])
    monkeypatch.setattr(gradients_lib.keras.backend, "backend", lambda: "numpy")
    with pytest.raises(ValueError, match="backend='numpy'"):
        class_score_gradients(model, x)


OTHER_BACKEND = textwrap.dedent(
    """
    import json, sys
    import keras
    import numpy as np
    from keras_video.visualization import grad_cam, saliency

    folder = sys.argv[1]
    model = keras.saving.load_model(folder + "/m.keras", safe_mode=True)
    clip = np.load(folder + "/x.npy")
    np.save(folder + "/saliency_other.npy", saliency(model, clip, class_index=1))
    np.save(folder + "/cam_other.npy", grad_cam(model, clip, class_index=1))
    np.save(
        folder + "/hires_other.npy",
        grad_cam(model, clip, class_index=1, weighting="elementwise"),
    )
    print(json.dumps({
        "backend": keras.backend.backend(),
        "tensorflow_loaded": any(m.split(".")[0] == "tensorflow" for m in sys.modules),
    }))
    """
)


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_same_saliency_and_grad_cam_on_every_backend(backend, tmp_path):
    """A model saved here gives the same maps on another backend (1e-4), and
    JAX / PyTorch never import TensorFlow for them."""
    if backend == keras.backend.backend():
        pytest.skip("the current backend is the reference")
    pytest.importorskip(backend)
    model = small_cnn("softmax", (4, 12, 12, 3))
    clip = np.random.default_rng(5).uniform(0, 1, (4, 12, 12, 3)).astype("float32")
    model.save(tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", clip)
    reference = {
        "saliency": saliency(model, clip, class_index=1),
        "cam": grad_cam(model, clip, class_index=1),
        "hires": grad_cam(model, clip, class_index=1, weighting="elementwise"),
    }
    assert all(r.std() > 0.05 for r in reference.values())  # not flat maps
    env = dict(
        os.environ,
        KERAS_BACKEND=backend,
        CUDA_VISIBLE_DEVICES="",
        JAX_PLATFORMS="cpu",
        XLA_FLAGS="--xla_backend_optimization_level=0 "
        "--xla_llvm_disable_expensive_passes=true",
    )
    result = subprocess.run(
        [sys.executable, "-c", OTHER_BACKEND, str(tmp_path), backend],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["backend"] == backend
    assert report["tensorflow_loaded"] is (backend == "tensorflow")
    for name, expected in reference.items():
        got = np.load(tmp_path / f"{name}_other.npy")
        np.testing.assert_allclose(got, expected, atol=1e-4, err_msg=name)
