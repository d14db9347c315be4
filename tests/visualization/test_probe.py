"""`keras_video.visualization.probe`: the layer explained by default, and the
model rebuilt with logits out and a zero input after one layer."""

import keras
import numpy as np
import pytest

from keras_video.applications import registry
from keras_video.visualization import (
    class_score_gradients,
    default_layer,
    find_layer,
    probe_model,
)


def small_cnn(activation="softmax", input_shape=(4, 8, 8, 3)):
    """Conv3D -> BN -> ReLU -> Conv3D (stride 1x2x2) -> BN -> ReLU -> global
    average -> Dense; the same weights for the same arguments."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv3D(4, 3, padding="same", name="conv1")(inputs)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.ReLU(name="relu1")(x)
    x = keras.layers.Conv3D(5, 3, strides=(1, 2, 2), padding="same", name="conv2")(x)
    x = keras.layers.BatchNormalization(name="bn2")(x)
    x = keras.layers.ReLU(name="relu2")(x)
    x = keras.layers.GlobalAveragePooling3D(name="pool")(x)
    outputs = keras.layers.Dense(3, activation=activation, name="predictions")(x)
    model = keras.Model(inputs, outputs, name="small_cnn")
    rng = np.random.default_rng(4)  # batch-norm statistics that do something
    for name, channels in (("bn1", 4), ("bn2", 5)):
        model.get_layer(name).set_weights(
            [rng.uniform(0.5, 1.5, channels), rng.normal(0, 0.1, channels),
             rng.normal(0, 0.1, channels), rng.uniform(0.5, 1.5, channels)]
        )  # fmt: skip
    return model


@pytest.mark.parametrize(
    "name, layer",
    [
        ("c3d", "conv5b"),  # the last Conv3D (its ReLU inside)
        ("r3d_18", "conv5_block2_out"),  # the ReLU after the last residual Add
        ("late_fusion", "frame_features"),  # TimeDistributed 2D CNN maps
        ("early_fusion", "conv_block3_relu"),  # frames folded: a 4-D map
        ("recurrent_cnn", "conv_gru1"),  # the last ConvGRU
    ],
)
def test_default_layer_of_zoo_models(name, layer):
    assert default_layer(registry.build_tiny(name, classes=3)).name == layer


@pytest.mark.large
def test_default_layer_of_inception_i3d_is_mixed_5c():
    """Past the head's 1x1x1 convolution (no space) and the branch
    convolutions, on to their concatenation."""
    model = registry.build_tiny("inception_i3d", classes=4)
    assert default_layer(model).name == "Mixed_5c"


def test_nested_models_are_opened_up():
    inner = small_cnn()
    backbone = keras.Model(inner.input, inner.get_layer("relu2").output, name="bb")
    model = keras.Sequential(
        [keras.Input((4, 8, 8, 3)), backbone, keras.layers.GlobalMaxPooling3D()]
    )
    assert default_layer(model) is backbone.get_layer("relu2")
    assert find_layer(model, "conv1") is backbone.get_layer("conv1")
    with pytest.raises(ValueError, match="No layer 'nope'.*'conv1'"):
        find_layer(model, "nope")


def test_models_without_a_feature_map_say_so():
    model = registry.build_tiny("single_frame", classes=3)  # frames pooled inside
    with pytest.raises(ValueError, match="no convolutional feature map"):
        default_layer(model)


def test_logits_without_the_softmax():
    model = small_cnn("softmax")
    linear = small_cnn(None)  # the same weights (same seed)
    x = np.random.default_rng(1).normal(size=(2, 4, 8, 8, 3)).astype("float32")
    logits = probe_model(model, [(4, 8, 8, 3)])
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(logits(x)),
        keras.ops.convert_to_numpy(linear(x)),
        rtol=1e-5,
        atol=1e-6,
    )
    # the original model still ends in its softmax
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)).sum(-1), 1, 1e-6)
    # an Activation("softmax") layer at the output is skipped too
    outputs = keras.layers.Activation("softmax")(linear.output)
    wrapped = keras.Model(linear.input, outputs)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(probe_model(wrapped, [(4, 8, 8, 3)])(x)),
        keras.ops.convert_to_numpy(linear(x)),
        rtol=1e-5,
        atol=1e-6,
    )


def test_delta_gradient_is_the_gradient_of_the_maps():
    """GAP -> Dense: d score / d maps = kernel[:, c] / (t * h * w) everywhere."""
    model = small_cnn("softmax")
    probe = probe_model(model, [(4, 8, 8, 3)], "relu2")
    assert [tuple(i.shape[1:]) for i in probe.inputs] == [(4, 8, 8, 3), (4, 4, 4, 5)]
    x = np.random.default_rng(2).normal(size=(1, 4, 8, 8, 3)).astype("float32")
    zeros = np.zeros((1, 4, 4, 4, 5), "float32")
    (maps, logits), grads, _ = class_score_gradients(probe, [x, zeros], class_index=2)
    kernel = model.get_layer("predictions").get_weights()[0]
    expected = np.broadcast_to(kernel[:, 2] / 64, (1, 4, 4, 4, 5))
    np.testing.assert_allclose(grads[1], expected, rtol=1e-5)
    inner = keras.Model(model.input, model.get_layer("relu2").output)
    np.testing.assert_allclose(maps, keras.ops.convert_to_numpy(inner(x)), atol=1e-6)
    np.testing.assert_allclose(logits, probe_model(model, [(4, 8, 8, 3)])(x), atol=1e-5)


def test_a_layer_called_twice_is_refused():
    inputs = keras.Input((4, 8, 8, 3))
    conv = keras.layers.Conv3D(3, 1, name="shared")
    x = conv(conv(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    with pytest.raises(ValueError, match="called more than once"):
        probe_model(model, [(4, 8, 8, 3)], "shared")
    other = keras.layers.Conv3D(3, 1, name="other")
    with pytest.raises(ValueError, match="not in"):
        probe_model(model, [(4, 8, 8, 3)], other)
