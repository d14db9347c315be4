"""The every-constructor export check, shared by test_exporter.py and
test_zoo_parity.py (the largest graphs run in the second file, so the two
files run side by side under xdist)."""

from keras_video.export import check_parity
from keras_video.export.parity import parity_model

# One format per constructor (the quickest to export of those measured), so
# each format meets 2D, 3D, recurrent and two-input models; a constructor added
# to the registry gets ONNX.
FORMAT_OF = {
    "single_frame": "saved_model", "late_fusion": "onnx", "early_fusion": "onnx",
    "slow_fusion": "litert", "c3d": "litert", "r3d_18": "onnx", "r3d_50": "onnx",
    "mc3_18": "onnx", "r2plus1d_18": "onnx", "two_stream": "onnx",
    "cnn_rnn": "litert", "recurrent_cnn": "saved_model", "slowfast": "onnx",
    "slow": "onnx", "i3d": "onnx", "inception_i3d": "saved_model",
    "two_stream_i3d": "saved_model",
}  # fmt: skip


# The largest graphs run in tests/export/test_zoo_parity.py (a file of their
# own, so the two files run side by side under xdist).
LARGEST = ("i3d", "inception_i3d", "two_stream_i3d", "slow")


def check_constructor(name):
    format = FORMAT_OF.get(name, "onnx")
    result = check_parity(parity_model(name), format, input_dtype="uint8")
    assert result["exported"].shape == result["keras"].shape
    assert result["max_abs_diff"] <= 1e-4, result["max_abs_diff"]
