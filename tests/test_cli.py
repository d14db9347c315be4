"""The `keras-video` train / evaluate / export commands, run in-process."""

import json

import numpy as np
import pytest

from keras_video import cli
from keras_video.data import write_motion_dataset

RECIPE = """
from keras_video.training import Recipe

def config():
    return Recipe(model="tests.training.tiny_models:tiny",
                  model_args={"base_filters": 4}, clip_length=4, frame_step=1,
                  image_size=(16, 16), batch_size=4, validation_split=0.25,
                  epochs=3, precision="auto", seed=1, eval_num_clips=2)
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    data = root / "data"
    write_motion_dataset(data, 3, seed=0, image_size=(16, 16), num_frames=4,
                         classes=("left", "right", "up"))  # fmt: skip
    recipe = root / "tiny_recipe.py"
    recipe.write_text(RECIPE)
    run = root / "run"
    code = cli.main(["train", str(recipe), "--data", str(data), "--output", str(run),
                     "--epochs", "1", "--quiet", "learning_rate=3e-3",
                     "model_args.base_filters=3"])  # fmt: skip
    assert code == 0
    return root, data, run


def test_train_applies_flags_and_overrides(trained, capsys):
    _, _, run = trained
    recipe = json.loads((run / "recipe.json").read_text())
    assert recipe["epochs"] == 1 and recipe["learning_rate"] == 3e-3
    assert recipe["model_args"] == {"base_filters": 3}
    assert json.loads((run / "class_names.json").read_text()) == ["left", "right", "up"]
    assert (run / "model.keras").exists() and (run / "eval.json").exists()


def test_evaluate_output(trained, capsys):
    _, data, run = trained
    capsys.readouterr()
    cli.main(
        ["evaluate", str(run / "model.keras"), "--data", str(data), "--num-clips", "2"]
    )
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{") :])
    assert result["num_videos"] == 9 and result["num_clips"] == 2
    assert 0 <= result["top1"] <= result["top5"] == 1.0


def test_export_serves_a_clip(trained):
    import keras
    import tensorflow as tf

    root, _, run = trained
    out = root / "export"
    assert cli.main(["export", str(run / "model.keras"), str(out)]) == 0
    served = tf.saved_model.load(str(out))
    clip = np.random.default_rng(0).uniform(0, 255, (2, 4, 16, 16, 3)).astype("float32")
    probs = served.serve(clip).numpy()
    assert probs.shape == (2, 3)
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    model = keras.saving.load_model(run / "model.keras")
    np.testing.assert_allclose(probs, model.predict(clip, verbose=0), atol=1e-5)


def test_unknown_override_is_an_error(trained, capsys):
    root, data, _ = trained
    args = ["train", str(root / "tiny_recipe.py"), "--data", str(data),
            "--output", str(root / "x"), "bogus=1"]  # fmt: skip
    assert cli.main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("keras-video train: ValueError: Unknown recipe key")
    assert len(err.splitlines()) == 1
    with pytest.raises(ValueError, match="Unknown recipe key"):
        cli.main(["--debug", *args])


def test_predict_with_a_trained_model_matches_evaluate(trained, capsys):
    from keras_video.training import Recipe, evaluate_videos

    _, data, run = trained
    video = sorted((data / "up").iterdir())[0]
    capsys.readouterr()
    args = ["predict", str(video), "--model", str(run / "model.keras"), "--top", "2"]
    assert cli.main(args) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    scores = [float(line.split()[0]) for line in lines]
    names = [line.split()[1] for line in lines]
    assert set(names) <= {"left", "right", "up"} and scores[0] >= scores[1]
    # The same protocol as `keras-video evaluate` (the run's recipe, its clips).
    model, recipe = cli._load_run_model(str(run / "model.keras"))[:2]
    assert isinstance(recipe, Recipe)
    expected = evaluate_videos(model, [str(video)], [2], recipe)["predictions"][0]
    order = np.argsort(-expected)[:2]
    assert names == [["left", "right", "up"][i] for i in order]
    np.testing.assert_allclose(scores, expected[order], atol=1e-4)


def _one_error_line(capsys, argv):
    """Runs the command; it must exit 1 with one line on stderr, no traceback."""
    capsys.readouterr()
    assert cli.main(argv) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0]


def test_predict_names_a_missing_file(trained, tmp_path, capsys):
    _, data, run = trained
    line = _one_error_line(capsys, ["predict", str(tmp_path / "nope.mp4")])
    assert line.startswith("keras-video predict:") and "nope.mp4" in line
    video = str(sorted((data / "up").iterdir())[0])
    missing = str(tmp_path / "missing.keras")
    line = _one_error_line(capsys, ["predict", video, "--model", missing])
    assert "no model file at" in line and "missing.keras" in line


def test_a_corrupt_video_is_one_line(trained, tmp_path, capsys):
    _, _, run = trained
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x17" * 4000)
    model = str(run / "model.keras")
    line = _one_error_line(capsys, ["predict", str(corrupt), "--model", model])
    assert line.startswith("keras-video predict:") and "corrupt.mp4" in line
    assert "VideoDecodeError" in line or "CorruptVideoError" in line
    with pytest.raises(Exception, match="corrupt.mp4"):
        cli.main(["predict", str(corrupt), "--model", model, "--debug"])


def test_evaluate_reads_nested_folders_and_reports_bad_ones(trained, tmp_path, capsys):
    import shutil

    _, data, run = trained
    nested = tmp_path / "nested"
    for name in ("left", "right", "up"):
        shutil.copytree(data / name, nested / name / "part1")
    argv = ["evaluate", str(run / "model.keras"), "--data", str(nested)]
    capsys.readouterr()
    assert cli.main(argv + ["--num-clips", "1"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{") :])["num_videos"] == 9
    empty = tmp_path / "empty"
    (empty / "left").mkdir(parents=True)
    line = _one_error_line(capsys, ["evaluate", str(run / "model.keras"),
                                    "--data", str(empty)])  # fmt: skip
    assert "no videos in class folders of" in line and "empty" in line
    line = _one_error_line(capsys, ["evaluate", str(run / "model.keras"),
                                    "--data", str(tmp_path / "absent")])  # fmt: skip
    assert "absent" in line


def test_bad_csv_line_and_missing_weights_are_one_line(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "list.csv"
    bad.write_text("a.mp4,cat\nb.mp4\n")
    line = _one_error_line(capsys, ["prepare", str(bad), str(tmp_path / "out")])
    assert "list.csv, line 2" in line
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x")
    line = _one_error_line(capsys, ["predict", str(video)])
    assert "keras-video weights convert i3d-kinetics400" in line


def test_weights_convert_errors_are_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    line = _one_error_line(capsys, ["weights", "convert", "r4d"])
    assert "No converter named 'r4d'" in line and "r3d_18" in line
    absent = tmp_path / "r3d_18-b3b3357e.pth"
    line = _one_error_line(
        capsys, ["weights", "convert", "r3d_18", "--from", str(absent)]
    )
    assert f"No checkpoint file at {absent}" in line
    not_torch = tmp_path / "not_torch.pth"
    not_torch.write_bytes(b"\x80\x02}q\x00.")
    line = _one_error_line(
        capsys, ["weights", "convert", "mc3_18", "--from", str(not_torch)]
    )
    assert "sha256" in line and "a90a0ba3" in line
    assert not (tmp_path / "keras_home" / "models" / "mc3_18.weights.h5").exists()
