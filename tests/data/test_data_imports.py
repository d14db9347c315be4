"""`keras_video.data` imports its names on first use: the reader, samplers,
settings and listing need no TensorFlow; every public name resolves."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SCRIPT = r"""
import importlib.abc, json, sys

class BlockTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError(f"blocked for this test: {name}")
        return None

sys.meta_path.insert(0, BlockTensorFlow())
from keras_video.data import ClipSettings, VideoReader, index_directory, samplers
from keras_video.data.video import write_video
import keras_video as kv

settings = ClipSettings(clip_length=4, target_fps=12)
try:
    kv.data.video_dataset_from_directory
except ImportError as e:
    error = str(e)
else:
    error = None
print(json.dumps({"frame_step": settings.frame_step, "error": error}))
"""


def test_reader_settings_and_listing_need_no_tensorflow():
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["frame_step"] is None
    assert "blocked for this test: tensorflow" in out["error"]


def test_every_public_name_resolves():
    import keras_video.data as data

    for name in data.__all__:
        assert getattr(data, name) is not None, name
    assert "video_dataset_from_directory" in dir(data)
    with pytest.raises(AttributeError, match="no_such_name"):
        data.__getattr__("no_such_name")
