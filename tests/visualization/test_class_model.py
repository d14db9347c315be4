"""`keras_video.visualization.class_model`: gradient ascent with jitter, blur
and L2, against its fixed point on a linear model."""

import keras
import numpy as np
import pytest

from keras_video.data import VideoReader
from keras_video.visualization.class_model import class_model, write_class_model

SHAPE = (3, 8, 8, 3)


def linear_model(kernel):
    inputs = keras.Input(SHAPE)
    dense = keras.layers.Dense(kernel.shape[1], activation="softmax")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    dense.set_weights([kernel, np.zeros(kernel.shape[1], "float32")])
    return model


def test_linear_score_reaches_its_fixed_point():
    """Without jitter and blur, `d <- (1 - l2) (d + lr w / rms(w))` converges
    to `d = lr (1 - l2) / l2 * w / rms(w)` around the middle of the range."""
    kernel = np.random.default_rng(0).normal(size=(np.prod(SHAPE), 2))
    model = linear_model(kernel.astype("float32"))
    clip = class_model(model, 1, steps=120, learning_rate=0.5, l2=0.2, jitter=0,
                       blur_every=0, value_range=(-100, 100))  # fmt: skip
    w = kernel[:, 1] / np.sqrt(np.mean(kernel[:, 1] ** 2))
    expected = 0.5 * 0.8 / 0.2 * w.reshape(SHAPE)
    np.testing.assert_allclose(clip, expected, atol=1e-3)
    clipped = class_model(model, 1, steps=120, learning_rate=0.5, l2=0.2,
                          jitter=0, blur_every=0, value_range=(0, 2))  # fmt: skip
    np.testing.assert_allclose(clipped, np.clip(1 + expected, 0, 2), atol=1e-3)


def small_cnn():
    """Conv3D -> ReLU -> global max -> Dense (a wide kernel: a class can win)."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input(SHAPE)
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    x = keras.layers.Conv3D(8, 3, padding="same", activation="relu")(x)
    dense = keras.layers.Dense(4, activation="softmax")
    model = keras.Model(inputs, dense(keras.layers.GlobalMaxPooling3D()(x)))
    kernel = np.random.default_rng(0).normal(0, 3, (8, 4)).astype("float32")
    dense.set_weights([kernel, np.zeros(4, "float32")])
    return model


def test_ascent_makes_the_class_win_and_blur_smooths():
    model = small_cnn()
    start = np.full((1, *SHAPE), 127.5, "float32")
    before = keras.ops.convert_to_numpy(model(start))[0]
    target = int(np.argmin(before))
    clip = class_model(model, target, steps=40, jitter=1, time_jitter=1)
    after = keras.ops.convert_to_numpy(model(clip[None]))[0]
    assert np.argmax(after) == target and after[target] > 1.5 * before[target]
    assert clip.dtype == np.float32 and clip.min() >= 0 and clip.max() <= 255
    sharp = class_model(model, target, steps=40, blur_every=0)
    smooth = class_model(model, target, steps=40, blur_every=1, blur_sigma=1.0)

    def roughness(x):
        return np.abs(np.diff(x, axis=2)).mean()

    assert roughness(smooth) < 0.7 * roughness(sharp)


def test_written_class_model_decodes(tmp_path):
    model = small_cnn()
    clip = write_class_model(tmp_path / "c.gif", model, 2, steps=3, repeats=2)
    with VideoReader(tmp_path / "c.gif") as reader:
        assert (reader.num_frames, reader.height, reader.width) == (6, 8, 8)
        first = reader.get_frames([0])[0]
    assert np.abs(first.astype(float) - clip[0]).mean() < 4


def test_bad_arguments():
    model = small_cnn()
    with pytest.raises(ValueError, match="l2"):
        class_model(model, 0, l2=1.0)
    with pytest.raises(ValueError, match="jitter"):
        class_model(model, 0, jitter=-1)
    inputs = keras.Input((None, 8, 8, 3))
    pooled = keras.layers.GlobalAveragePooling3D()(inputs)
    open_ended = keras.Model(inputs, keras.layers.Dense(2)(pooled))
    with pytest.raises(ValueError, match="input_shape"):
        class_model(open_ended, 0)
    assert class_model(open_ended, 0, input_shape=SHAPE, steps=1).shape == SHAPE
