"""`import keras_video` and every layer work where TensorFlow is not installed."""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = r"""
import importlib.abc, sys

class BlockTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError(f"blocked for this test: {name}")
        return None

sys.meta_path.insert(0, BlockTensorFlow())

import json
import keras
import numpy as np
import keras_video as kv

assert keras.backend.backend() == "jax", keras.backend.backend()
x = np.random.default_rng(0).random((1, 4, 8, 8, 4), dtype=np.float32)
conv2d = keras.layers.Conv2D(4, 3, padding="same")
conv2d.build((None, 8, 8, 4))
shapes = {
    "Conv3DBlock": kv.layers.Conv3DBlock(4)(x).shape,
    "Conv2Plus1D": kv.layers.Conv2Plus1D(4)(x).shape,
    "InflatedConv": kv.layers.InflatedConv.from_conv2d(conv2d, 3)(x).shape,
    "NonLocal": kv.layers.NonLocal()(x).shape,
    "ConvGRU": kv.layers.ConvGRU(4, 3)(x).shape,
    "SlowFastLateral": kv.layers.SlowFastLateral(alpha=2)([x[:, :2], x]).shape,
    "TemporalPooling": kv.layers.TemporalPooling()(x).shape,
    "TimePadding": kv.layers.TimePadding((1, 2))(x).shape,
}
# The reader, clip settings, samplers and listing need no TensorFlow either.
from keras_video.data import ClipSettings, VideoReader, index_directory, samplers
from keras_video.flow import compute, extract_dataset_flow

frame_step = ClipSettings(clip_length=4, target_fps=12).frame_step
try:
    kv.data.video_dataset_from_directory
except ImportError as e:
    data_error = str(e)
else:
    data_error = None
print(json.dumps({
    "shapes": {k: list(v) for k, v in shapes.items()},
    "tensorflow_loaded": any(
        m == "tensorflow" or m.startswith("tensorflow.") for m in sys.modules
    ),
    "data_error": data_error,
    "frame_step": frame_step,
}))
"""


def test_layers_build_and_run_on_jax_without_tensorflow():
    env = dict(
        os.environ,
        KERAS_BACKEND="jax",
        JAX_PLATFORMS="cpu",
        XLA_FLAGS="--xla_backend_optimization_level=0 "
        "--xla_llvm_disable_expensive_passes=true",
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["tensorflow_loaded"] is False
    assert report["shapes"]["SlowFastLateral"] == [1, 2, 8, 8, 12]
    assert report["shapes"]["ConvGRU"] == [1, 8, 8, 4]
    assert report["shapes"]["TimePadding"] == [1, 7, 8, 8, 4]
    assert len(report["shapes"]) == 8
    assert report["frame_step"] is None
    assert "blocked for this test: tensorflow" in report["data_error"]


def test_every_public_name_resolves():
    import types

    import keras_video as kv

    modules = set()
    for name in kv.__all__:
        value = getattr(kv, name)  # lazy sub-packages are imported here
        if isinstance(value, types.ModuleType):
            assert value.__name__ == f"keras_video.{name}"
            modules.add(name)
    subpackages = {
        path.name
        for path in (ROOT / "keras_video").iterdir()
        if (path / "__init__.py").is_file()
    }
    assert modules == subpackages
