"""`keras-video predict`: clip sampling, resize/crop, averaging (tiny model)."""

import keras
import numpy as np

from keras_video import predict


def test_clip_indices():
    np.testing.assert_array_equal(
        predict.clip_indices(5, 8, 3), [[0, 1, 2, 3, 4, 0, 1, 2]]
    )
    idx = predict.clip_indices(100, 10, 3)
    np.testing.assert_array_equal(idx[:, 0], [0, 45, 90])
    assert idx.shape == (3, 10) and idx.max() == 99


def test_resize_and_crop():
    frames = np.zeros((2, 240, 320, 3), np.uint8)
    out = predict.resize_and_crop(frames)
    assert out.shape == (2, 224, 224, 3) and out.dtype == np.uint8


def test_predict_video_with_a_tiny_model(shared_data):
    inputs = keras.Input((16, 224, 224, 3))
    x = keras.layers.GlobalAveragePooling3D()(inputs)
    model = keras.Model(inputs, keras.layers.Dense(400)(x))
    path = shared_data / "i3d" / "v_CricketShot_g04_c01_rgb.gif"
    rows = predict.predict_video(path, num_clips=2, clip_length=16, top=5, model=model)
    assert len(rows) == 5
    assert all(isinstance(name, str) for _, name, _ in rows)
    scores = [score for _, _, score in rows]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1


def test_kinetics_demo_without_weights_says_how(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert predict.kinetics_demo() is None
    assert "keras-video weights convert i3d-kinetics400" in capsys.readouterr().out
