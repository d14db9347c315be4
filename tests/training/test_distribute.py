"""`--distribute` on CPU with two devices, in fresh processes.

TensorFlow: two logical CPUs and `tf.distribute.MirroredStrategy`. JAX: two
host devices (`--xla_force_host_platform_device_count=2`) and
`keras.distribution.DataParallel`.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SCRIPT = r"""
import json, os, sys, tempfile
if os.environ["KERAS_BACKEND"] == "tensorflow":
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from keras_video.data import write_motion_dataset
from tests.training.test_runner import tiny_recipe
from keras_video.training import train

root = tempfile.mkdtemp()
write_motion_dataset(os.path.join(root, "data"), 3, seed=0, image_size=(16, 16),
                     num_frames=4, classes=("left", "right", "up", "down"))
out = train(tiny_recipe(epochs=1, batch_size=2), os.path.join(root, "data"),
            os.path.join(root, "run"), distribute=True, verbose=0, tensorboard=False)
print(json.dumps({"replicas": out["replicas"], "loss": out["history"]["loss"],
                  "top1": out["eval"]["top1"]}))
"""


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_two_device_training(backend):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    if backend == "jax":
        env.update(
            JAX_PLATFORMS="cpu",
            XLA_FLAGS="--xla_force_host_platform_device_count=2",
        )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    assert len(report["loss"]) == 1 and report["loss"][0] > 0
    assert 0.0 <= report["top1"] <= 1.0
