"""`keras_video.flow.extract` and `keras-video flow`: flow for a data set."""

import json
import os
import shutil

import numpy as np
import pytest

from keras_video import cli, flow
from keras_video.data.video import VideoReader, write_video


def _square_video(path, num_frames=6, step=(2, 1), seed=0):
    """A 64x48 video: a bright square moving `step` px per frame on texture."""
    rng = np.random.default_rng(seed)
    background = rng.integers(40, 120, (48, 64, 3), dtype=np.uint8)
    frames = []
    for t in range(num_frames):
        frame = background.copy()
        x, y = 10 + step[0] * t, 12 + step[1] * t
        frame[y : y + 14, x : x + 14] = (230, 200, 60)
        frames.append(frame)
    return write_video(path, np.stack(frames), fps=10)


def _decoded(path, short_side=None):
    with VideoReader(path) as reader:
        frames = reader.get_frames(range(reader.num_frames))
    if short_side is not None:
        import cv2

        h, w = frames.shape[1:3]
        scale = short_side / min(h, w)
        size = (round(w * scale), round(h * scale))
        frames = np.stack(
            [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
        )
    return frames


def _mtimes(folder):
    return {
        os.path.join(root, name): os.stat(os.path.join(root, name)).st_mtime_ns
        for root, _, names in os.walk(folder)
        for name in names
        if name != "flow_report.json"
    }


def _small_dataset(root):
    _square_video(root / "a" / "v1.mp4", step=(2, 1), seed=0)
    _square_video(root / "b" / "v2.mp4", step=(-1, 2), seed=1)
    return root


def test_dataset_with_workers_and_corrupt_videos(tmp_path, shared_data, capsys):
    src, dst = tmp_path / "src", tmp_path / "dst"
    _square_video(src / "a" / "v1.mp4", step=(2, 1), seed=0)
    _square_video(src / "a" / "v2.mp4", step=(0, 2), seed=1)
    _square_video(src / "b" / "v3.mp4", step=(-2, 0), seed=2)
    shutil.copy(shared_data / "videos" / "decord_corrupted.mp4", src / "b")
    (src / "b" / "empty.mp4").write_bytes(b"")
    (src / "b" / "notes.txt").write_text("not a video")

    code = cli.main(["flow", str(src), str(dst), "--method", "dis", "--workers",
                     "2", "--format", "png", "--quiet"])  # fmt: skip

    assert code == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    line = [x for x in err if x.startswith("keras-video flow:")]
    assert len(line) == 1, err
    assert "2 of 5 videos failed" in line[0]
    assert "b/decord_corrupted.mp4" in line[0] and "b/empty.mp4" in line[0]
    assert str(dst / "flow_report.json") in line[0]

    report = json.loads((dst / "flow_report.json").read_text())
    assert report["done"] == ["a/v1.mp4", "a/v2.mp4", "b/v3.mp4"]
    assert report["skipped"] == []
    assert [f["video"] for f in report["failed"]] == [
        "b/decord_corrupted.mp4",
        "b/empty.mp4",
    ]
    for failure in report["failed"]:
        assert failure["path"] == str(src / failure["video"])
        assert failure["error"].startswith("CorruptVideoError: ")
    # No folder (nor partial frames) for the failed ones.
    assert sorted(os.listdir(dst / "b")) == ["v3"]

    for rel in ("a/v1", "a/v2", "b/v3"):
        folder = dst / rel
        expected_files = {"flow.json"} | {
            f"{axis}_{k:05d}.png" for axis in "xy" for k in range(1, 6)
        }
        assert set(os.listdir(folder)) == expected_files
        manifest = json.loads((folder / "flow.json").read_text())
        assert manifest == {
            "video": rel + ".mp4", "num_frames": 6, "num_fields": 5,
            "fps": 10.0, "height": 48, "width": 64, "method": "dis",
            "options": {}, "bound": 20.0, "format": "png", "short_side": None,
        }  # fmt: skip
        reference = flow.compute(_decoded(src / (rel + ".mp4")), "dis")
        stored = flow.read_flow_frames(folder, format="png")
        assert stored.shape == (5, 48, 64, 2)
        # PNG is exact: the stored flow is the quantised `compute`.
        np.testing.assert_array_equal(stored, flow.from_uint8(flow.to_uint8(reference)))
        inside = np.abs(reference) < 20
        assert np.abs(stored - reference)[inside].max() <= 20 / 255 + 1e-5
        assert np.abs(reference).max() > 0.5  # the square moved


def test_rerun_skips_finished_and_redoes_partial(tmp_path):
    src, dst = _small_dataset(tmp_path / "src"), tmp_path / "dst"
    report = flow.extract_dataset_flow(src, dst, "dis", verbose=False)
    assert report["done"] == ["a/v1.mp4", "b/v2.mp4"] and not report["failed"]
    before = _mtimes(dst)
    assert len(before) == 2 * (2 * 5 + 1)

    report = flow.extract_dataset_flow(src, dst, "dis", verbose=False)
    assert report["done"] == [] and report["skipped"] == ["a/v1.mp4", "b/v2.mp4"]
    assert _mtimes(dst) == before  # no file rewritten

    # Killed in the middle of a/v1: no flow.json, a stale frame, a temp file.
    os.remove(dst / "a" / "v1" / "flow.json")
    (dst / "a" / "v1" / "x_00009.jpg").write_bytes(b"partial")
    (dst / "a" / "v1" / ".y_00002.jpg.tmp-0123abcd").write_bytes(b"half")
    report = flow.extract_dataset_flow(src, dst, "dis", verbose=False)
    assert report["done"] == ["a/v1.mp4"] and report["skipped"] == ["b/v2.mp4"]
    after = _mtimes(dst)
    assert {p: t for p, t in after.items() if "v2" in p} == {
        p: t for p, t in before.items() if "v2" in p
    }
    assert sorted(os.listdir(dst / "a" / "v1")) == sorted(
        ["flow.json"] + [f"{a}_{k:05d}.jpg" for a in "xy" for k in range(1, 6)]
    )
    # The JPEG files are the ones `write_flow_frames` writes.
    reference = tmp_path / "reference"
    flow.write_flow_frames(
        reference, flow.compute(_decoded(src / "a" / "v1.mp4"), "dis")
    )
    for name in os.listdir(reference):
        assert (dst / "a" / "v1" / name).read_bytes() == (reference / name).read_bytes()


def test_other_settings_are_an_error_unless_overwrite(tmp_path, capsys):
    src, dst = _small_dataset(tmp_path / "src"), tmp_path / "dst"
    flow.extract_dataset_flow(src, dst, "dis", verbose=False)
    before = _mtimes(dst)
    with pytest.raises(ValueError, match=r"a/v1 holds flow written with other"):
        flow.extract_dataset_flow(src, dst, "farneback", verbose=False)
    with pytest.raises(ValueError, match=r"bound=20.0 \(asked 10.0\)"):
        flow.extract_dataset_flow(src, dst, "dis", bound=10, verbose=False)
    assert _mtimes(dst) == before

    code = cli.main(["flow", str(src), str(dst), "--method", "dis", "--short-side",
                     "24", "--quiet"])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("keras-video flow: ValueError: ")
    assert str(dst / "a" / "v1") in err[0] and "--overwrite" in err[0]

    code = cli.main(["flow", str(src), str(dst), "--method", "farneback",
                     "--overwrite", "--quiet"])  # fmt: skip
    assert code == 0
    manifest = json.loads((dst / "a" / "v1" / "flow.json").read_text())
    assert manifest["method"] == "farneback"
    reference = flow.compute(_decoded(src / "a" / "v1.mp4"), "farneback")
    stored = flow.read_flow_frames(dst / "a" / "v1")
    inside = np.abs(reference) < 19
    assert np.abs(stored - reference)[inside].max() < 3 * 40 / 255  # JPEG


def test_windows_short_side_and_options(tmp_path):
    video = _square_video(tmp_path / "v.mp4", num_frames=7)
    whole = flow.extract_video_flow(video, tmp_path / "whole", "dis", format="png")
    assert whole["num_fields"] == 6
    expected = flow.read_flow_frames(tmp_path / "whole", format="png")
    for window in (2, 3, 4):
        folder = tmp_path / f"w{window}"
        flow.extract_video_flow(video, folder, "dis", format="png", window=window)
        np.testing.assert_array_equal(
            flow.read_flow_frames(folder, format="png"), expected
        )

    manifest = flow.extract_video_flow(
        video, tmp_path / "small", "dis", short_side=24, bound=10, video="v.mp4",
        preset="ultrafast",
    )  # fmt: skip
    assert (manifest["height"], manifest["width"]) == (24, 32)
    assert manifest["options"] == {"preset": "ultrafast"}
    assert manifest["short_side"] == 24 and manifest["bound"] == 10.0
    assert manifest["video"] == "v.mp4"
    stored = flow.read_flow_frames(tmp_path / "small", bound=10)
    assert stored.shape == (6, 24, 32, 2)
    # A finished folder is returned as it is.
    again = flow.extract_video_flow(
        video, tmp_path / "small", "dis", short_side=24, bound=10,
        preset="ultrafast",
    )  # fmt: skip
    assert again == manifest


def test_csv_source_and_one_frame_video(tmp_path):
    videos = tmp_path / "videos"
    _square_video(videos / "walk" / "v1.mp4")
    _square_video(videos / "run" / "short.mp4", num_frames=1)
    listing = tmp_path / "train.csv"
    listing.write_text(
        "path,label\nvideos/walk/v1.mp4,walk\nvideos/run/short.mp4,run\n"
    )
    report = flow.extract_dataset_flow(listing, tmp_path / "flow", "dis", verbose=False)
    assert report["done"] == [os.path.join("videos", "walk", "v1.mp4")]
    assert report["failed"][0]["video"] == os.path.join("videos", "run", "short.mp4")
    assert "flow needs at least 2" in report["failed"][0]["error"]
    assert (tmp_path / "flow" / "videos" / "walk" / "v1" / "flow.json").is_file()

    outside = tmp_path / "lists" / "val.csv"
    outside.parent.mkdir()
    outside.write_text(f"{videos / 'walk' / 'v1.mp4'},walk\n")
    with pytest.raises(ValueError, match="is not under the CSV's folder"):
        flow.extract_dataset_flow(outside, tmp_path / "flow2", "dis", verbose=False)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"method": "raft"}, "method='raft'"),
        ({"method": "dis", "winsize": 3}, "winsize=3"),
        ({"method": "dis", "patchSize": -4}, "OpenCV rejected"),
        ({"bound": 0}, "bound=0"),
        ({"format": "bmp"}, "format='bmp'"),
        ({"short_side": 0}, "short_side=0"),
        ({"workers": 0}, "workers=0"),
        ({"window": 1}, "window=1"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        flow.extract_dataset_flow(tmp_path, tmp_path / "out", verbose=False, **kwargs)
    assert not (tmp_path / "out").exists()


def test_missing_source_and_videos_sharing_a_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="No folder or CSV list"):
        flow.extract_dataset_flow(tmp_path / "nothing", tmp_path / "out")
    _square_video(tmp_path / "src" / "a.mp4")
    shutil.copy(tmp_path / "src" / "a.mp4", tmp_path / "src" / "a.mkv")
    _square_video(tmp_path / "src" / "b.mp4")
    report = flow.extract_dataset_flow(
        tmp_path / "src", tmp_path / "out", "dis", verbose=False
    )
    assert report["done"] == ["b.mp4"]
    assert [f["video"] for f in report["failed"]] == ["a.mkv", "a.mp4"]
    for failure in report["failed"]:
        assert "would hold the flow of a.mkv and a.mp4" in failure["error"]
    assert sorted(os.listdir(tmp_path / "out")) == ["b", "flow_report.json"]


def test_real_video_end_to_end(tmp_path, shared_data):
    video = shared_data / "videos" / "mmaction2_test.avi"
    folder = tmp_path / "test"
    manifest = flow.extract_video_flow(
        video, folder, "dis", short_side=64, format="png"
    )
    assert manifest["num_frames"] == 164 and manifest["num_fields"] == 163
    assert (manifest["height"], manifest["width"]) == (64, 85)
    assert manifest["fps"] == 25.0
    # Fields 60..66 span the boundary of the first window (frames 0..63).
    # (The default DIS preset: "ultrafast" keeps state between pairs in
    # OpenCV, 0.008 px, so its fields depend on where a window starts.)
    stored = flow.read_flow_frames(folder, range(60, 67), format="png")
    frames = _decoded(video, short_side=64)[60:68]
    reference = flow.compute(frames, "dis")
    np.testing.assert_array_equal(stored, flow.from_uint8(flow.to_uint8(reference)))
    assert not os.path.exists(flow.flow_frame_paths(folder, 163, "png")[0])
    assert os.path.exists(flow.flow_frame_paths(folder, 162, "png")[0])
