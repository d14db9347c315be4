import json
import os

import keras
import pytest

from keras_video.data.clip_settings import ClipSettings
from keras_video.export import protocol


def model():
    inputs = keras.Input((8, 16, 20, 3), name="clip")
    return keras.Model(inputs, keras.layers.GlobalAveragePooling3D()(inputs))


def test_protocol_from_clip_settings_and_from_the_input():
    settings = ClipSettings(clip_length=8, frame_step=3, image_size=(16, 20),
                            short_side=24)  # fmt: skip
    record = protocol.make_protocol(model(), "onnx", "uint8", False, settings, ["a"])
    assert (record["frames"], record["size"], record["step"]) == (8, [16, 20], 3)
    assert record["clip_settings"]["short_side"] == 24
    assert record["inputs"] == [
        {"name": "clip", "shape": [None, 8, 16, 20, 3], "dtype": "uint8"}
    ]
    assert record["value_range"] == [0, 255] and record["class_names"] == ["a"]
    assert record["keras_version"] == keras.__version__
    bare = protocol.make_protocol(model(), "litert", "float32", True)
    assert (bare["frames"], bare["size"], bare["step"]) == (8, [16, 20], None)
    assert bare["float16"] is True


def test_settings_that_do_not_match_the_input_are_an_error():
    settings = ClipSettings(clip_length=4, image_size=(16, 20))
    with pytest.raises(ValueError, match="do not match"):
        protocol.make_protocol(model(), "onnx", "uint8", False, settings)


def test_write_and_read_back_each_format(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    record = protocol.make_protocol(model(), "saved_model", "uint8", False)
    saved = tmp_path / "saved"
    saved.mkdir()
    protocol.write_protocol(str(saved), "saved_model", record)
    assert (saved / "assets" / "keras_video_protocol.json").is_file()
    assert protocol.read_protocol(saved) == json.loads(json.dumps(record))

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )  # fmt: skip
    path = str(tmp_path / "m.onnx")
    onnx.save(helper.make_model(graph), path)
    protocol.write_protocol(path, "onnx", record)
    protocol.write_protocol(path, "onnx", record)  # replaced, not added twice
    keys = [p.key for p in onnx.load(path).metadata_props]
    assert keys == ["keras_video_protocol"]
    assert protocol.read_protocol(path)["frames"] == 8

    tflite = tmp_path / "m.tflite"
    tflite.write_bytes(b"")
    protocol.write_protocol(str(tflite), "litert", record)
    assert os.path.isfile(str(tflite) + ".json")
    assert protocol.read_protocol(tflite)["size"] == [16, 20]


def test_missing_protocol_and_unknown_artifacts_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="No exported artifact"):
        protocol.read_protocol(tmp_path / "nothing.onnx")
    (tmp_path / "bare.tflite").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="carries no clip protocol"):
        protocol.read_protocol(tmp_path / "bare.tflite")
    (tmp_path / "x.bin").write_bytes(b"")
    with pytest.raises(ValueError, match="SavedModel folder"):
        protocol.read_protocol(tmp_path / "x.bin")
