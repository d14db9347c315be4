"""Snippet features of long videos: `extract_features` and `keras-video features`."""

import json
import os
import shutil

import numpy as np
import pytest

from keras_video import cli
from keras_video.data.video import VideoReader, write_video
from keras_video.detection import (
    extract_dataset_features,
    extract_features,
    snippet_indices,
)
from keras_video.detection.features import resize_and_crop

BACKBONE_MODULE = """
import keras


def tiny(include_top=False, weights=None, pooling="avg", input_shape=None):
    assert not include_top and pooling == "avg" and weights is None
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv3D(4, 3, strides=2, activation="relu", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling3D(name="pool")(x)
    return keras.Model(inputs, x, name="tiny")
"""


def _tiny_backbone(frames=8, size=32):
    import keras

    inputs = keras.Input((frames, size, size, 3))
    x = keras.layers.Conv3D(4, 3, strides=2, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling3D()(x)
    return keras.Model(inputs, x)


def _video(path, num_frames=100, size=(32, 32), seed=0, fps=10):
    """A video of smooth random images that change every frame."""
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (num_frames, 4, 4, 3)).astype(np.uint8)
    frames = np.stack(
        [cv2.resize(f, size[::-1], interpolation=cv2.INTER_LINEAR) for f in small]
    )
    write_video(path, frames, fps=fps)
    return str(path)


@pytest.fixture(scope="module")
def long_video(tmp_path_factory):
    return _video(tmp_path_factory.mktemp("features") / "long.mp4")


def test_snippet_indices():
    assert snippet_indices(10, snippet_length=4, stride=3).tolist() == [
        [0, 1, 2, 3],
        [3, 4, 5, 6],
        [6, 7, 8, 9],
    ]
    steps = snippet_indices(100, snippet_length=8, stride=4, frame_step=2)
    assert steps.shape == (22, 8)  # span 15: starts 0, 4, ..., 84
    assert steps[-1].tolist() == list(range(84, 100, 2))
    assert snippet_indices(7, snippet_length=8).shape == (0, 8)


def test_resize_and_crop_is_short_side_then_centre_crop():
    import cv2

    frame = np.random.default_rng(0).integers(0, 256, (48, 64, 3)).astype(np.uint8)
    expected = cv2.resize(frame, (43, 32), interpolation=cv2.INTER_AREA)[:, 5:37]
    np.testing.assert_array_equal(resize_and_crop(frame, (32, 32)), expected)
    assert resize_and_crop(frame, (48, 64)) is frame


def test_snippet_count_and_centre_times(long_video):
    backbone = _tiny_backbone()
    features, times = extract_features(
        backbone, long_video, snippet_length=8, stride=4, batch_size=5
    )
    # (100 - 8) // 4 + 1 snippets; snippet i's centre frame is 4 i + 4.
    assert features.shape == (24, 4) and features.dtype == np.float32
    np.testing.assert_allclose(times, (4 * np.arange(24) + 4) / 10, atol=1e-9)
    with VideoReader(long_video) as reader:
        np.testing.assert_array_equal(times, reader.timestamps[4 * np.arange(24) + 4])
    _, stepped = extract_features(
        backbone, long_video, snippet_length=8, stride=4, frame_step=2
    )
    # span 15: 22 snippets, centre frame 4 i + 8.
    np.testing.assert_allclose(stepped, (4 * np.arange(22) + 8) / 10, atol=1e-9)


def test_features_equal_the_backbone_on_directly_decoded_snippets(tmp_path):
    video = _video(tmp_path / "wide.mp4", num_frames=40, size=(48, 64))
    backbone = _tiny_backbone()

    def preprocess(x):
        return x / 127.5 - 1.0

    features, _ = extract_features(
        backbone, video, snippet_length=8, stride=3, frame_step=2, batch_size=4,
        preprocess=preprocess,
    )  # fmt: skip
    snippets = snippet_indices(40, snippet_length=8, stride=3, frame_step=2)
    with VideoReader(video) as reader:
        clips = np.stack(
            [
                np.stack([resize_and_crop(f, (32, 32)) for f in reader.get_frames(s)])
                for s in snippets
            ]
        )
    expected = np.asarray(backbone(preprocess(clips.astype(np.float32))))
    assert features.shape == expected.shape == (len(snippets), 4)
    np.testing.assert_allclose(features, expected, atol=1e-5)


def test_decodes_forward_in_bounded_windows(long_video, monkeypatch):
    requests = []
    get_clips = VideoReader.get_clips

    def spy(self, clips):
        requests.extend(list(c) for c in clips)
        return get_clips(self, clips)

    monkeypatch.setattr(VideoReader, "get_clips", spy)
    extract_features(
        _tiny_backbone(), long_video, snippet_length=8, stride=4, batch_size=3
    )
    assert len(requests) == 8  # 24 snippets, 3 per batch
    assert max(len(r) for r in requests) <= 3 * 8
    flat = [i for r in requests for i in r]
    assert flat == sorted(set(flat)) == list(range(100))  # each frame once, forward


def test_bad_inputs_name_the_file_or_argument(tmp_path, long_video):
    backbone = _tiny_backbone()
    missing = str(tmp_path / "missing.mp4")
    with pytest.raises(FileNotFoundError, match="missing.mp4"):
        extract_features(backbone, missing, snippet_length=8)
    short = _video(tmp_path / "short.mp4", num_frames=6)
    with pytest.raises(ValueError, match="short.mp4 has 6 frames"):
        extract_features(backbone, short, snippet_length=8)
    with pytest.raises(ValueError, match="clips of 8 frames.*snippet_length=16"):
        extract_features(backbone, long_video, snippet_length=16)
    with pytest.raises(ValueError, match="image_size"):
        extract_features(backbone, long_video, snippet_length=8, image_size=64)
    with pytest.raises(ValueError, match="stride"):
        extract_features(backbone, long_video, snippet_length=8, stride=0)


def test_cli_writes_features_manifest_report_and_resumes(
    tmp_path, shared_data, monkeypatch, capsys
):
    (tmp_path / "kv_tiny_backbone.py").write_text(BACKBONE_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "a").mkdir(parents=True)
    (src / "b").mkdir()
    _video(src / "a" / "one.mp4", num_frames=30, seed=1)
    _video(src / "b" / "two.mp4", num_frames=20, seed=2)
    _video(src / "three.mp4", num_frames=12, seed=3)
    shutil.copy(shared_data / "videos" / "decord_corrupted.mp4", src / "b")
    argv = ["features", str(src), str(dst), "--model", "kv_tiny_backbone:tiny",
            "--snippet", "8", "--stride", "4", "--image-size", "32",
            "--batch-size", "4", "--quiet"]  # fmt: skip
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "1 of 4 videos failed (b/decord_corrupted.mp4)" in err[0]

    for rel, num_snippets in (("a/one", 6), ("b/two", 4), ("three", 2)):
        features = np.load(dst / f"{rel}.npy")
        times = np.load(dst / f"{rel}.times.npy")
        assert features.shape == (num_snippets, 4) and features.dtype == np.float32
        np.testing.assert_allclose(times, (4 * np.arange(num_snippets) + 4) / 10)
    manifest = json.loads((dst / "manifest.json").read_text())
    assert manifest["model"] == "kv_tiny_backbone:tiny"
    assert (manifest["snippet_length"], manifest["stride"]) == (8, 4)
    assert (manifest["frame_step"], manifest["image_size"]) == (1, 32)
    assert manifest["weights"] is None and manifest["value_range"] == [0.0, 255.0]
    assert manifest["backend"] == "auto" and "keras_video_version" in manifest
    assert sorted(manifest["videos"]) == ["a/one.mp4", "b/two.mp4", "three.mp4"]
    assert manifest["videos"]["a/one.mp4"]["fps"] == 10.0
    assert manifest["videos"]["a/one.mp4"]["decoder"] in ("pyav", "opencv")
    report = json.loads((dst / "features_report.json").read_text())
    assert [f["video"] for f in report["failed"]] == ["b/decord_corrupted.mp4"]
    assert len(report["done"]) == 3 and report["skipped"] == []

    outputs = sorted(dst.rglob("*.npy"))
    mtimes = [os.stat(p).st_mtime_ns for p in outputs]
    assert cli.main(argv) == 1  # the corrupt video fails again; the rest is skipped
    assert [os.stat(p).st_mtime_ns for p in outputs] == mtimes
    report = json.loads((dst / "features_report.json").read_text())
    assert report["done"] == [] and len(report["skipped"]) == 3

    capsys.readouterr()
    other = [a if a != "4" else "2" for a in argv]  # --stride 2 (and batch 2)
    assert cli.main(other) == 1
    err = capsys.readouterr().err
    assert str(dst) in err and "stride=4 (asked 2)" in err


def test_dataset_settings_are_checked(tmp_path):
    with pytest.raises(ValueError, match="snippet_length"):
        extract_dataset_features(tmp_path, tmp_path / "o", "c3d", snippet_length=0)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        extract_dataset_features(tmp_path / "nowhere", tmp_path / "o", "c3d")
    (tmp_path / "v").mkdir()
    _video(tmp_path / "v" / "x.mp4", num_frames=10)
    with pytest.raises(ValueError, match="model='no_such_model'"):
        extract_dataset_features(
            tmp_path / "v", tmp_path / "o", "no_such_model", snippet_length=8,
            image_size=32, verbose=False,
        )  # fmt: skip
