import keras
import numpy as np
import pytest

from keras_video.applications import C3D
from keras_video.applications.c3d import LAYERS
from tests.applications.checks import (
    check_application,
    trainable_params,
)

TINY = dict(base_filters=4, fc_units=16, input_shape=(8, 32, 32, 3))


def test_tiny_output_and_round_trip(tmp_path):
    check_application(C3D(classes=5, **TINY), (2, 5), tmp_path)


def test_features_without_top():
    model = C3D(include_top=False, **TINY)
    # time 8 -> 8 -> 4 -> 2 -> 1 -> 1; space 32 -> 16 -> 8 -> 4 -> 2 -> 1
    assert tuple(model.output.shape) == (None, 1, 1, 1, 32)
    pooled = C3D(include_top=False, pooling="max", **TINY)
    assert tuple(pooled.output.shape) == (None, 32)


def test_batch_norm_between_every_conv_and_its_relu(tmp_path):
    model = C3D(classes=5, batch_norm=True, **TINY)
    check_application(model, (2, 5), tmp_path)
    for name, _, _ in LAYERS:
        conv = model.get_layer(name)
        assert conv.bias is None and conv.activation is keras.activations.linear
        assert isinstance(
            model.get_layer(f"{name}_bn"), keras.layers.BatchNormalization
        )
    plain = C3D(classes=5, **TINY)
    assert not any(isinstance(x, keras.layers.BatchNormalization) for x in plain.layers)
    # each conv's bias (one per channel) becomes gamma and beta (two per channel)
    channels = sum(TINY["base_filters"] * multiple for _, multiple, _ in LAYERS)
    with_bn = trainable_params(lambda: C3D(classes=5, batch_norm=True, **TINY))
    assert with_bn - trainable_params(lambda: C3D(classes=5, **TINY)) == channels


def test_pool5_rounds_up_like_the_paper():
    model = C3D(include_top=False, base_filters=2, input_shape=(16, 112, 112, 3))
    assert tuple(model.get_layer("pool4").output.shape) == (None, 2, 7, 7, 16)
    assert tuple(model.output.shape) == (None, 1, 4, 4, 16)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(input_shape=(112, 112, 3)), "input_shape"),
        (dict(input_shape=(4, 112, 112, 3)), "at least 8 frames"),
        (dict(input_shape=(16, 8, 8, 3)), "at least 16"),
        (dict(input_shape=(16, None, None, 3)), "known"),
        (dict(fc_units=0), "fc_units"),
        (dict(classes=0), "classes"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        C3D(**kwargs)


@pytest.mark.large
def test_sports1m_params():
    # Tran et al. 2015, Sports-1M C3D at 16x112x112, 487 classes:
    #   convs: 27 * (3*64 + 64*128 + 128*256 + 256*256 + 256*512 + 3*512*512)
    #          + biases (64 + 128 + 2*256 + 4*512)       = 27,655,936
    #   fc6: 8192 * 4096 + 4096                          = 33,558,528
    #   fc7: 4096 * 4096 + 4096                          = 16,781,312
    #   fc8: 4096 * 487 + 487                            =  1,995,239
    # Total 79,991,015. The figure usually quoted, ~78M, is the network
    # without its 487-way fc8: 77,995,776.
    assert trainable_params(lambda: C3D(classes=487)) == 79_991_015
    assert trainable_params(lambda: C3D(include_top=False)) == 27_655_936


def test_weights_from_a_path(tmp_path):
    model = C3D(classes=5, **TINY)
    path = tmp_path / "c3d.weights.h5"
    model.save_weights(path)
    again = C3D(classes=5, weights=str(path), **TINY)
    for a, b in zip(model.weights, again.weights, strict=True):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
        )
    with pytest.raises(ValueError, match="weights"):
        C3D(weights="no_such_preset", **TINY)
