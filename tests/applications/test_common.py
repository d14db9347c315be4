import keras
import numpy as np
import pytest

from keras_video.applications import common


def test_clip_input_default_and_given_shapes():
    inputs, x = common.clip_input(None, None, (8, 32, 32, 3))
    assert inputs is x and tuple(x.shape) == (None, 8, 32, 32, 3)
    inputs, x = common.clip_input((None, None, None, 2), None, (8, 32, 32, 3))
    assert tuple(x.shape) == (None, None, None, None, 2)


def test_clip_input_on_a_keras_tensor():
    tensor = keras.Input((4, 16, 16, 3))
    inputs, x = common.clip_input(None, tensor, (8, 32, 32, 3))
    assert x is tensor
    assert [tuple(i.shape) for i in keras.tree.flatten(inputs)] == [(None, 4, 16, 16, 3)]


@pytest.mark.parametrize(
    "shape, message",
    [
        ((32, 32, 3), "frames, height, width, channels"),
        ((8, 32, 32, None), "channel axis"),
        ((2, 32, 32, 3), "at least 4 frames"),
        ((8, 16, 32, 3), "at least 32x32"),
    ],
)
def test_clip_input_errors_name_the_model_and_shape(shape, message):
    with pytest.raises(ValueError, match=message) as error:
        common.clip_input(shape, None, (8, 32, 32, 3), min_frames=4, min_size=32, name="Toy")
    assert "Toy" in str(error.value) and "input_shape=" in str(error.value)


def test_top_argument_checks():
    with pytest.raises(ValueError, match="pooling"):
        common.check_top_arguments(False, None, 10, "mean", "Toy")
    with pytest.raises(ValueError, match="classes"):
        common.check_top_arguments(True, None, 0, None, "Toy")
    common.check_top_arguments(False, None, 0, "avg", "Toy")


def test_load_weights_none_path_preset_and_errors(tmp_path, monkeypatch):
    def build():
        inputs = keras.Input((2, 4, 4, 1))
        return keras.Model(inputs, keras.layers.Dense(3, name="predictions")(inputs))

    model = build()
    assert common.load_weights(model, None, "toy") is model
    path = tmp_path / "toy.weights.h5"
    model.save_weights(path)
    other = common.load_weights(build(), str(path), "toy")
    for a, b in zip(model.get_weights(), other.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)

    calls = []
    monkeypatch.setitem(common.PRESETS, "toy", {"demo": calls.append})
    common.load_weights(model, "demo", "toy")
    assert calls == [model]
    with pytest.raises(ValueError, match=r"presets \['demo'\].*weights='missing.h5'"):
        common.load_weights(model, "missing.h5", "toy")
