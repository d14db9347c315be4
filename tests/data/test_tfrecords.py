import json
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_video import cli
from keras_video.data import tfrecords
from keras_video.data.video import write_video


def _write_coded(path, red, num_frames=12, size=(32, 48)):
    frames = np.zeros((num_frames, *size, 3), np.uint8)
    frames[..., 0] = red
    frames[..., 1] = (10 * np.arange(num_frames))[:, None, None]
    write_video(path, frames, fps=10)


@pytest.fixture(scope="module")
def video_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    for name, red in (("a", 50), ("b", 200)):
        os.makedirs(root / name)
        for i in range(3):
            _write_coded(str(root / name / f"{name}{i}.mp4"), red)
    return root


def test_prepare_cli_then_read_back(video_dir, tmp_path, capsys):
    out = tmp_path / "records"
    rc = cli.main(
        ["prepare", str(video_dir), str(out), "--num-shards", "2", "--short-side", "24"]
    )
    assert rc == 0
    assert sorted(os.listdir(out)) == [
        "dataset_info.json",
        "shard-00000-of-00002.tfrecord",
        "shard-00001-of-00002.tfrecord",
    ]
    assert "6/6" in capsys.readouterr().out  # the progress bar
    ds = tfrecords.video_dataset_from_tfrecords(
        out, clip_length=4, frame_step=2, image_size=(16, 16), batch_size=3, seed=0
    )
    assert ds.class_names == ["a", "b"]
    seen = []
    for clips, labels in ds:
        assert clips.shape[1:] == (4, 16, 16, 3) and clips.dtype == tf.float32
        red = clips.numpy()[..., 0].mean(axis=(1, 2, 3))
        np.testing.assert_array_equal(red > 125, labels.numpy() == 1)
        green = clips.numpy()[..., 1].mean(axis=(2, 3))
        np.testing.assert_allclose(np.diff(green, axis=1), 20, atol=5)
        seen.extend(labels.numpy())
    assert sorted(seen) == [0, 0, 0, 1, 1, 1]
    # Uniform test clips, unbatched, categorical.
    ds = tfrecords.video_dataset_from_tfrecords(
        out,
        label_mode="categorical",
        clip_length=4,
        image_size=16,
        batch_size=None,
        shuffle=False,
        num_clips=2,
    )
    elements = list(ds)
    assert len(elements) == 12 and elements[0][1].shape == (2,)


def test_prepare_resumes_and_refuses_other_settings(video_dir, tmp_path):
    out = tmp_path / "records"
    shards = tfrecords.prepare(
        video_dir, out, num_shards=3, short_side=16, verbose=False
    )
    mtimes = [os.path.getmtime(s) for s in shards]
    os.remove(shards[1])  # as if killed while writing shard 1 ...
    os.remove(shards[2])
    with open(shards[2] + ".tmp", "w") as f:  # ... or shard 2
        f.write("partial")
    again = tfrecords.prepare(
        video_dir, out, num_shards=3, short_side=16, verbose=False
    )
    assert again == shards and all(os.path.exists(s) for s in shards)
    assert os.path.getmtime(shards[0]) == mtimes[0]  # complete shard not rewritten
    assert not os.path.exists(shards[2] + ".tmp")
    n = sum(1 for _ in tf.data.TFRecordDataset(shards))
    assert n == 6
    with pytest.raises(ValueError, match="other settings"):
        tfrecords.prepare(video_dir, out, num_shards=3, short_side=20, verbose=False)
    info = json.loads((out / "dataset_info.json").read_text())
    assert info["settings"]["class_names"] == ["a", "b"]


def test_sharded_reading_and_errors(video_dir, tmp_path):
    out = tmp_path / "records"
    tfrecords.prepare(video_dir, out, num_shards=2, short_side=16, verbose=False)
    parts = [
        tfrecords.video_dataset_from_tfrecords(
            out, clip_length=2, image_size=16, seed=1, shard=(2, i)
        ).shard_paths
        for i in range(2)
    ]
    assert len(parts[0]) == len(parts[1]) == 1 and parts[0] != parts[1]
    with pytest.raises(ValueError, match="shard"):
        tfrecords.video_dataset_from_tfrecords(out, seed=1, shard=(3, 0))
    with pytest.raises(ValueError, match="dataset_info"):
        tfrecords.video_dataset_from_tfrecords(tmp_path)
    os.remove(out / "shard-00001-of-00002.tfrecord")
    with pytest.raises(ValueError, match="resume"):
        tfrecords.video_dataset_from_tfrecords(out)


def test_prepare_skips_bad_files(video_dir, tmp_path):
    src = tmp_path / "src"
    os.makedirs(src / "a")
    _write_coded(str(src / "a" / "good.mp4"), 50)
    (src / "a" / "bad.mp4").write_bytes(b"garbage" * 50)
    with pytest.raises(Exception, match="bad.mp4"):
        tfrecords.prepare(src, tmp_path / "r1", verbose=False)
    shards = tfrecords.prepare(src, tmp_path / "r2", on_error="skip", verbose=False)
    assert sum(1 for _ in tf.data.TFRecordDataset(shards)) == 1
    info = tfrecords.read_tfrecords_info(tmp_path / "r2")
    assert any("bad.mp4" in p for s in info["shards"] for p in s["skipped"])
