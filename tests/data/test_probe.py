import fractions
import shutil

import av
import numpy as np
import pytest

from keras_video.data import probe, video_dataset_from_directory, write_video
from keras_video.data.video import VideoReader
from keras_video.data.video import index as index_lib


def write_vfr(path, num_frames=12):
    """h264 with timestamps 0, 1, 2, then steps of 3 (time base 1/30)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        stream.codec_context.time_base = fractions.Fraction(1, 30)
        for i in range(num_frames):
            image = np.full((32, 32, 3), 10 * i, np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i if i < 3 else 3 * i
            frame.time_base = fractions.Fraction(1, 30)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


@pytest.fixture
def dataset(tmp_path):
    root = tmp_path / "data"
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (20, 32, 32, 3), dtype=np.uint8)
    write_video(str(root / "a" / "cfr.mp4"), frames, fps=10)
    write_vfr(root / "b" / "vfr.mp4")
    (root / "b" / "bad.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x17" * 500)
    return root


def test_probe_records_counts_keyframes_vfr_codec_and_bad_files(dataset):
    manifest = probe.probe_dataset(dataset)
    cfr, vfr, bad = (
        manifest.entries[k] for k in ("a/cfr.mp4", "b/vfr.mp4", "b/bad.mp4")
    )
    with VideoReader(str(dataset / "a" / "cfr.mp4")) as reader:
        assert cfr["num_frames"] == reader.num_frames == 20
    assert cfr["codec"] == "h264" and cfr["variable_frame_rate"] is False
    assert cfr["num_keyframes"] >= 1 and cfr["rotation"] == 0
    assert vfr["variable_frame_rate"] is True and vfr["num_frames"] == 12
    assert bad["ok"] is False and "bad.mp4" in bad["error"]
    assert manifest.summary()["bad"] == 1 and manifest.summary()["videos"] == 3
    assert (dataset / probe.MANIFEST_NAME).is_file()
    assert (dataset / probe.ARRAYS_NAME).is_file()


def test_rotation_is_recorded(tmp_path, shared_data):
    root = tmp_path / "rot"
    root.mkdir()
    shutil.copy(shared_data / "videos" / "decord_video_90.mov", root)
    entry = probe.probe_dataset(root).entries["decord_video_90.mov"]
    assert entry["ok"] and entry["rotation"] in (90, -90, 270)


def test_probing_again_opens_only_changed_files(dataset, monkeypatch):
    probe.probe_dataset(dataset)
    calls = []
    original = probe.probe_video
    monkeypatch.setattr(probe, "probe_video", lambda p: calls.append(p) or original(p))
    probe.probe_dataset(dataset)
    assert calls == []
    frames = np.zeros((5, 32, 32, 3), np.uint8)
    write_video(str(dataset / "a" / "cfr.mp4"), frames, fps=10)  # changed
    manifest = probe.probe_dataset(dataset)
    assert [str(p) for p in calls] == [str(dataset / "a" / "cfr.mp4")]
    assert manifest.entries["a/cfr.mp4"]["num_frames"] == 5


def test_datasets_use_the_manifest_instead_of_scanning(dataset, monkeypatch):
    reference = video_dataset_from_directory(
        dataset, clip_length=4, frame_step=1, image_size=16, shuffle=False,
        batch_size=None, on_error="skip", verbose=False,
    )  # fmt: skip
    expected = [c.numpy() for c, _ in reference]
    probe.probe_dataset(dataset)
    index_lib.clear_index_cache()
    scanned = []
    monkeypatch.setattr(index_lib, "scan", lambda *a, **k: scanned.append(a) or 1 / 0)
    ds = video_dataset_from_directory(
        dataset, clip_length=4, frame_step=1, image_size=16, shuffle=False,
        batch_size=None, on_error="skip", verbose=False,
    )  # fmt: skip
    got = [c.numpy() for c, _ in ds]
    assert scanned == []  # every index came from the manifest
    assert len(got) == len(expected) == 2
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    assert "probe manifest" in next(iter(ds.skipped_files.files.values()))


def test_a_stale_entry_is_not_used(dataset):
    manifest = probe.probe_dataset(dataset)
    path = str(dataset / "a" / "cfr.mp4")
    assert manifest.stream_index(path).metadata.num_frames == 20
    with pytest.raises(Exception, match="probe manifest"):
        manifest.stream_index(str(dataset / "b" / "bad.mp4"))
    write_video(path, np.zeros((3, 32, 32, 3), np.uint8), fps=10)
    assert manifest.entry(path) is None and manifest.stream_index(path) is None


def test_probe_command_writes_the_manifest_and_names_bad_and_vfr_files(
    dataset, shared_data, capsys
):
    from keras_video import cli

    rotated = dataset / "a" / "decord_video_90.mov"
    shutil.copy(shared_data / "videos" / "decord_video_90.mov", rotated)
    with VideoReader(str(rotated)) as reader:
        frames, rotation = 20 + 12 + reader.num_frames, reader.metadata.rotation
    assert cli.main(["probe", str(dataset)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        f"probed {dataset}: 4 videos (4 opened, 0 unchanged), {frames} frames, "
        "1 bad, 1 variable frame rate, 1 rotated; codecs: h264 3"
    )
    assert lines[1] == f"rotated {rotation}: a/decord_video_90.mov"
    assert lines[2].startswith("bad: b/bad.mp4: ") and "bad.mp4" in lines[2]
    assert lines[3:] == ["variable frame rate: b/vfr.mp4",
                         f"manifest: {dataset / probe.MANIFEST_NAME}"]  # fmt: skip
    assert (dataset / probe.MANIFEST_NAME).is_file()
    write_video(str(dataset / "a" / "cfr.mp4"), np.zeros((5, 32, 32, 3), np.uint8))
    assert cli.main(["probe", str(dataset)]) == 0  # refreshes the changed file
    assert "4 videos (1 opened, 3 unchanged)" in capsys.readouterr().out
    assert probe.load_manifest(dataset).entries["a/cfr.mp4"]["num_frames"] == 5
    assert cli.main(["probe", str(dataset / "none")]) == 1
    assert "no data folder at" in capsys.readouterr().err
