import keras
import pytest

from keras_video.export import errors


def nested_model():
    inputs = keras.Input((4, 8, 8, 3))
    x = keras.layers.Conv3D(2, 1, name="conv_a")(inputs)
    inner = keras.Model(inputs, x, name="block")
    outer_in = keras.Input((4, 8, 8, 3))
    y = keras.layers.GlobalAveragePooling3D(name="gap")(inner(outer_in))
    return keras.Model(outer_in, y, name="outer")


def test_layer_paths_walk_nested_models():
    paths = [p for p, _ in errors.layer_paths(nested_model())]
    assert "block/conv_a" in paths and "gap" in paths


def test_find_layer_from_op_scopes_and_class_names():
    model = nested_model()
    text = (
        "'tf.Svd' op is neither a custom op nor a flex op\n"
        ' loc("outer_1/block_1/conv_a/Svd")'
    )
    assert errors.find_layer(model, text)[0] == "block/conv_a"
    traced = "Exception encountered when calling GlobalAveragePooling3D.call()."
    assert errors.find_layer(model, traced)[0] == "gap"
    assert errors.find_layer(model, "something else") is None


def test_export_error_is_one_line_naming_the_layer():
    model = nested_model()
    error = errors.export_error(
        model, "litert", RuntimeError("long\ntrace\n'tf.Svd' op is not supported\n"
                                      "at outer/block/conv_a/Svd"),
    )  # fmt: skip
    assert isinstance(error, errors.ExportError) and isinstance(error, ValueError)
    message = str(error)
    assert "\n" not in message and error.layer == "block/conv_a"
    assert "layer 'block/conv_a' (Conv3D)" in message and "not supported" in message
    with pytest.raises(errors.ExportError, match="model 'outer' to onnx") as info:
        with errors.naming_layer(model, "onnx"):
            raise KeyError("no layer named here")
    assert info.value.__cause__ is None and info.value.__suppress_context__
