"""The every-constructor export check, shared by test_exporter.py and
test_zoo_parity.py (the largest graphs run in the second file, so the two
files run side by side under xdist). The full constructor x format x
precision x backend matrix is benchmarks/export_parity.py."""

import numpy as np
import pytest

from keras_video.data.clip_settings import ClipSettings
from keras_video.export import check_parity, load_exported, read_protocol
from keras_video.export.parity import parity_model

# One format and input dtype per constructor (the quickest format to export
# where there is a choice), so each format meets 2D, 3D and recurrent models
# and takes uint8 and float32 clips (two inputs: SavedModel here, LiteRT from
# JAX and ONNX from PyTorch in test_parity.py); a constructor added to the
# registry gets ONNX with uint8 clips.
FORMAT_OF = {
    "single_frame": ("onnx", "float32"), "late_fusion": ("saved_model", "uint8"),
    "early_fusion": ("litert", "uint8"), "slow_fusion": ("litert", "float32"),
    "c3d": ("litert", "float32"), "r3d_18": ("onnx", "uint8"),
    "r3d_50": ("onnx", "uint8"), "mc3_18": ("onnx", "float32"),
    "r2plus1d_18": ("onnx", "uint8"), "two_stream": ("saved_model", "float32"),
    "cnn_rnn": ("litert", "uint8"), "recurrent_cnn": ("saved_model", "float32"),
    "slowfast": ("saved_model", "uint8"), "slow": ("onnx", "float32"),
    "i3d": ("onnx", "uint8"), "inception_i3d": ("saved_model", "uint8"),
    "two_stream_i3d": ("saved_model", "float32"),
}  # fmt: skip
SUFFIX = {"saved_model": "", "onnx": ".onnx", "litert": ".tflite"}

# The largest graphs run in tests/export/test_zoo_parity.py.
LARGEST = ("i3d", "inception_i3d", "two_stream_i3d", "slow")


def check_constructor(name, folder):
    """Exports `name`'s parity model at float32 to its format, then checks the
    artifact in its runtime against Keras (<= 1e-4), the protocol it carries
    and its input checks."""
    format, input_dtype = FORMAT_OF.get(name, ("onnx", "uint8"))
    model = parity_model(name)
    frames, height, width = model.inputs[0].shape[1:4]
    settings = ClipSettings(
        clip_length=frames, frame_step=3, image_size=(height, width),
        short_side=height + 8,
    )  # fmt: skip
    classes = model.outputs[0].shape[-1]
    names = [f"class_{i}" for i in range(classes)]
    path = str(folder / f"{name}{SUFFIX[format]}")
    result = check_parity(model, format, input_dtype=input_dtype, output=path,
                          clip_settings=settings, class_names=names)  # fmt: skip
    assert result["exported"].shape == result["keras"].shape
    assert result["max_abs_diff"] <= 1e-4, result["max_abs_diff"]

    record = read_protocol(path)
    assert record["format"] == format and record["class_names"] == names
    assert (record["frames"], record["size"], record["step"]) == (
        frames, [height, width], 3)  # fmt: skip
    assert record["clip_settings"]["short_side"] == height + 8
    assert [i["name"] for i in record["inputs"]] == [
        t.name for t in model.inputs]  # fmt: skip
    assert {i["dtype"] for i in record["inputs"]} == {input_dtype}
    served = load_exported(path)
    clips = [np.zeros((1, *t.shape[1:]), input_dtype) for t in model.inputs]
    with pytest.raises(ValueError, match="takes clips of shape"):
        served(clips[0][:, 1:], *clips[1:])
    if input_dtype == "uint8":
        with pytest.raises(ValueError, match="takes uint8 clips"):
            served(*(c.astype("float32") for c in clips))
