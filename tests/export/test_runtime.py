import keras
import numpy as np
import pytest

from keras_video.export import export_model, load_exported


@pytest.fixture(scope="module")
def two_input_onnx(tmp_path_factory):
    clip = keras.Input((2, 8, 8, 3), name="clip")
    flow = keras.Input((2, 8, 8, 2), name="flow")
    x = keras.layers.Concatenate()([clip, flow])
    x = keras.layers.GlobalAveragePooling3D()(x)
    model = keras.Model([clip, flow], keras.layers.Dense(2, name="logits")(x))
    path = str(tmp_path_factory.mktemp("rt") / "two.onnx")
    export_model(model, path, "onnx", input_dtype="uint8")
    return model, path


def test_runs_several_inputs_by_name(two_input_onnx):
    model, path = two_input_onnx
    served = load_exported(path)
    assert served.format == "onnx" and served.input_names == ["clip", "flow"]
    rng = np.random.default_rng(0)
    clip = rng.integers(0, 256, (3, 2, 8, 8, 3)).astype("uint8")
    flow = rng.integers(0, 256, (3, 2, 8, 8, 2)).astype("uint8")
    expected = keras.ops.convert_to_numpy(
        model([clip.astype("float32"), flow.astype("float32")])
    )
    np.testing.assert_allclose(served(clip, flow), expected, atol=1e-5)


def test_wrong_inputs_are_named(two_input_onnx):
    _, path = two_input_onnx
    served = load_exported(path)
    clip = np.zeros((1, 2, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="takes 2 input"):
        served(clip)
    with pytest.raises(ValueError, match="takes uint8 clips"):
        served(clip.astype("float32"), np.zeros((1, 2, 8, 8, 2), np.float32))
    with pytest.raises(FileNotFoundError, match="No exported artifact"):
        load_exported(path + ".missing.onnx")
