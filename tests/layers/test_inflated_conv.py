import keras
import numpy as np
import pytest

from keras_video.layers import InflatedConv
from keras_video.layers.inflated_conv import inflate_kernel
from tests.helpers import check_layer


def conv2d(filters=6, kernel=3, strides=1, channels=3, use_bias=True, seed=0):
    layer = keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=use_bias)
    layer.build((None, 13, 13, channels))
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.standard_normal(w.shape).astype("float32") for w in layer.weights])
    return layer


def static_clip(frames=5, size=13, channels=3, seed=1):
    frame = np.random.default_rng(seed).standard_normal((1, size, size, channels)).astype("float32")
    return frame, np.repeat(frame[:, None], frames, axis=1)


@pytest.mark.parametrize(
    "mode, time_padding, frames_that_match",
    [
        ("mean", "replicate", slice(None)),  # every frame, the edges included
        ("center", "zeros", slice(None)),  # only the centre tap is non-zero
        ("mean", "zeros", slice(1, -1)),  # zero padding changes the edge frames
    ],
)
@pytest.mark.parametrize("strides", [1, 2])
def test_static_clip_equals_2d_conv(mode, time_padding, frames_that_match, strides):
    layer_2d = conv2d(strides=strides)
    frame, clip = static_clip()
    expected = keras.ops.convert_to_numpy(layer_2d(frame))
    inflated = InflatedConv.from_conv2d(layer_2d, time_kernel=3, mode=mode, time_padding=time_padding)
    out = keras.ops.convert_to_numpy(inflated(clip))
    assert out.shape == (1, 5) + expected.shape[1:]
    np.testing.assert_allclose(out[:, frames_that_match], np.broadcast_to(expected[:, None], out.shape)[:, frames_that_match], atol=1e-5, rtol=0)


def test_zero_time_padding_is_plain_conv3d():
    layer_2d = conv2d(use_bias=False)
    _, clip = static_clip()
    clip = clip * np.arange(1, 6, dtype="float32")[None, :, None, None, None]
    inflated = InflatedConv.from_conv2d(layer_2d, time_kernel=3)
    reference = keras.layers.Conv3D(6, 3, padding="same", use_bias=False)
    reference.build(clip.shape)
    reference.set_weights(inflated.get_weights())
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(inflated(clip)),
        keras.ops.convert_to_numpy(reference(clip)),
        atol=1e-5,
    )


def test_inflate_kernel_modes():
    kernel = np.arange(2 * 2 * 1 * 3, dtype="float32").reshape(2, 2, 1, 3)
    mean = inflate_kernel(kernel, 4, "mean")
    assert mean.shape == (4, 2, 2, 1, 3)
    np.testing.assert_allclose(mean.sum(axis=0), kernel, rtol=1e-6)
    center = inflate_kernel(kernel, 3, "center")
    np.testing.assert_array_equal(center[1], kernel)
    assert not center[[0, 2]].any()


def test_round_trip_keeps_time_padding(tmp_path):
    layer = InflatedConv.from_conv2d(conv2d(), time_kernel=3, time_padding="replicate", time_stride=2)
    _, clip = static_clip(frames=6)
    out = check_layer(layer, clip, tmp_path, atol=1e-5)
    assert out.shape == (1, 3, 13, 13, 6)
    assert layer.get_config()["time_padding"] == "replicate"


def test_errors_name_what_is_wrong():
    with pytest.raises(ValueError, match="Conv2D"):
        InflatedConv.from_conv2d(keras.layers.Dense(3))
    with pytest.raises(ValueError, match="built"):
        InflatedConv.from_conv2d(keras.layers.Conv2D(3, 3))
    with pytest.raises(ValueError, match="time_kernel"):
        InflatedConv.from_conv2d(conv2d(), time_kernel=0)
    with pytest.raises(ValueError, match="mode"):
        InflatedConv.from_conv2d(conv2d(), mode="sum")
    with pytest.raises(ValueError, match="time_padding"):
        InflatedConv(4, 3, time_padding="reflect")
    with pytest.raises(ValueError, match="filters"):
        InflatedConv(-4, 3)
    with pytest.raises(ValueError, match="ndim=5"):  # keras' InputSpec message
        InflatedConv(4, 3)(np.zeros((1, 8, 8, 3)))
    with pytest.raises(ValueError, match="kernel_size"):
        InflatedConv(4, (5, 3, 3), padding="valid")(np.zeros((1, 3, 8, 8, 3)))
