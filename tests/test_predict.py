"""`keras-video predict`: clip sampling, resize/crop, averaging (tiny model)."""

import keras
import numpy as np

from keras_video import predict


def test_kinetics_protocol_comes_from_the_model():
    settings = predict.kinetics_clip_settings(num_clips=3)
    assert (settings.clip_length, settings.frame_step) == (64, 1)
    assert (settings.image_size, settings.short_side) == ((224, 224), 256)
    assert settings.clip_sampling == "uniform" and settings.num_clips == 3
    assert predict.kinetics_clip_settings(clip_length=4).clip_length == 9


def test_prediction_clips_are_the_evaluation_clips():
    """`predict` samples as `evaluate` does: uniform clips, looped when short."""
    settings = predict.kinetics_clip_settings(num_clips=3, clip_length=10)
    idx = settings.clip_indices(100, 25.0, sampling="uniform")
    np.testing.assert_array_equal(idx[:, 0], [0, 45, 90])
    assert idx.shape == (3, 10) and idx.max() == 99
    short = settings.clip_indices(5, 25.0, sampling="uniform")
    np.testing.assert_array_equal(short[0], [0, 1, 2, 3, 4, 0, 1, 2, 3, 4])


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
