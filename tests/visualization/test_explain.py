"""`keras_video.visualization.explain` and `keras-video explain`: the overlay
video, the curve and the classes, on a tiny run model and on the Kinetics
InceptionI3D with the cricket clip."""

import json

import cv2
import keras
import numpy as np
import pytest

from keras_video import cli
from keras_video.data import ClipSettings, VideoReader
from keras_video.data.video import write_video
from keras_video.visualization.explain import explain_video

CRICKET = ("i3d", "v_CricketShot_g04_c01_rgb.gif")


def tiny_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 32, 32, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv3D(4, 3, padding="same", activation="relu", name="conv")(x)
    x = keras.layers.GlobalAveragePooling3D()(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="tiny")


def moving_square_video(path, num_frames=20):
    frames = np.full((num_frames, 32, 32, 3), 40, np.uint8)
    for t in range(num_frames):
        frames[t, 10:18, t : t + 8] = 230
    return write_video(path, frames, fps=10)


def check_outputs(folder, num_frames, size, num_clips):
    with VideoReader(folder / "explain.mp4") as reader:
        assert reader.num_frames == num_frames
        assert (reader.height, reader.width) == size
    assert cv2.imread(str(folder / "importance.png")).shape == (280, 700, 3)
    report = json.loads((folder / "top_classes.json").read_text())
    assert len(report["clips"]) == num_clips
    return report


def test_explain_a_video_with_a_model(tmp_path):
    video = moving_square_video(tmp_path / "square.mp4")
    settings = ClipSettings(clip_length=8, frame_step=2, image_size=(32, 32),
                            num_clips=2)  # fmt: skip
    result = explain_video(video, tmp_path / "out", model=tiny_model(),
                           clip_settings=settings, class_names=["a", "b", "c"],
                           top=2)  # fmt: skip
    report = check_outputs(tmp_path / "out", 16, (32, 32), 2)
    assert report["layer"] == "conv" and report["class_name"] in "abc"
    assert [r["name"] for r in report["top"]][0] == report["class_name"]
    assert abs(sum(r["score"] for r in report["top"]) - 1) < 0.5
    with VideoReader(video) as reader:
        indices = settings.clip_indices(reader.num_frames, reader.fps)
    assert [c["frame_indices"] for c in report["clips"]] == indices.tolist()
    for clip in report["clips"]:
        assert abs(sum(clip["importance"]) - 1) < 1e-6 and len(clip["top"]) == 2
    heat = result["heatmaps"]
    assert heat.shape == (2, 8, 32, 32) and np.isfinite(heat).all()
    assert heat.max() == 1 and heat.std() > 0


def test_explain_command_with_a_run_model(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    tiny_model().save(run / "model.keras")
    (run / "class_names.json").write_text(json.dumps(["left", "right", "up"]))
    video = moving_square_video(tmp_path / "square.mp4", 30)
    out = tmp_path / "out"
    argv = ["explain", str(video), "--model", str(run / "model.keras"),
            "--out", str(out), "--num-clips", "2", "--top", "3"]  # fmt: skip
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "explained" in printed and "explain.mp4" in printed
    report = check_outputs(out, 16, (32, 32), 2)  # the default recipe: step 2
    assert {r["name"] for r in report["top"]} == {"left", "right", "up"}
    assert cli.main(["explain", str(tmp_path / "none.mp4"), "--out", str(out)]) == 1
    assert "no video file" in capsys.readouterr().err


@pytest.mark.kinetics_weights
def test_explain_kinetics_i3d_on_the_cricket_clip(shared_data, tmp_path, capsys):
    """One 16-frame clip of the cricket GIF: the Kinetics model's heat maps
    are finite and not constant, the files decode, and the class is right."""
    out = tmp_path / "cricket"
    argv = ["explain", str(shared_data.joinpath(*CRICKET)), "--out", str(out),
            "--num-clips", "1", "--clip-length", "16"]  # fmt: skip
    assert cli.main(argv) == 0
    assert "playing cricket" in capsys.readouterr().out
    report = check_outputs(out, 16, (224, 224), 1)
    assert report["class_name"] == "playing cricket"
    assert report["layer"] == "Mixed_5c"
    importance = np.array(report["clips"][0]["importance"])
    assert np.isfinite(importance).all() and importance.std() > 0
    result = explain_video(shared_data.joinpath(*CRICKET), out, num_clips=1,
                           clip_length=16)  # fmt: skip
    heat = result["heatmaps"]
    assert heat.shape == (1, 16, 224, 224) and np.isfinite(heat).all()
    assert heat.max() == 1 and heat.std() > 0.05
