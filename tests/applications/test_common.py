import keras
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
    assert [tuple(i.shape) for i in keras.tree.flatten(inputs)] == [
        (None, 4, 16, 16, 3)
    ]


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
        common.clip_input(
            shape, None, (8, 32, 32, 3), min_frames=4, min_size=32, name="Toy"
        )
    assert "Toy" in str(error.value) and "input_shape=" in str(error.value)


def test_top_argument_checks():
    with pytest.raises(ValueError, match="pooling"):
        common.check_top_arguments(False, None, 10, "mean", "Toy")
    with pytest.raises(ValueError, match="classes"):
        common.check_top_arguments(True, None, 0, None, "Toy")
    common.check_top_arguments(False, None, 0, "avg", "Toy")
