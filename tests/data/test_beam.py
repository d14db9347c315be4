"""`beam`: TFRecord preparation on Apache Beam's DirectRunner."""

import json
import os

import pytest

from keras_video import cli
from keras_video.data import beam, tfrecords

# Small real files of ../shared/data/videos (see its README); the corrupt one
# must be skipped and named.
FILES = (
    "decord_unordered.mov",
    "torchcodec_h265_video.mp4",
    "decord_video_90.mov",
    "decord_corrupted.mp4",
    "torchcodec_h264_10bits.mp4",
    "decord_video_0.mov",
)
BAD = "decord_corrupted.mp4"
IN_MEMORY = "--direct_num_workers=1 --direct_running_mode=in_memory"


@pytest.fixture()
def video_csv(shared_data, tmp_path):
    csv = tmp_path / "videos.csv"
    rows = [
        f"{shared_data / 'videos' / name},{'ab'[i % 2]}" for i, name in enumerate(FILES)
    ]
    csv.write_text("\n".join(rows) + "\n")
    return str(csv)


def _files(folder):
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))}


def test_multiprocess_runner_writes_the_bytes_of_prepare(video_csv, tmp_path, capsys):
    args = dict(num_shards=3, short_side=64, on_error="skip", verbose=False)
    tfrecords.prepare(video_csv, tmp_path / "one", **args)
    code = cli.main(
        ["prepare", video_csv, str(tmp_path / "beam"), "--runner", "DirectRunner",
         "--beam-args", "--direct_num_workers=2 --direct_running_mode=multi_processing",
         "--num-shards", "3", "--short-side", "64", "--on-error", "skip"]
    )  # fmt: skip
    assert code == 0
    one, multi = _files(tmp_path / "one"), _files(tmp_path / "beam")
    assert sorted(multi) == [
        "dataset_info.json",
        *(f"shard-{i:05d}-of-00003.tfrecord" for i in range(3)),
    ]
    assert multi == one  # every shard and dataset_info.json, byte for byte
    info = json.loads(multi["dataset_info.json"])
    skipped = {p: e for s in info["shards"] for p, e in s["skipped"].items()}
    assert [os.path.basename(p) for p in skipped] == [BAD]
    assert "CorruptVideoError" in next(iter(skipped.values()))
    out = capsys.readouterr().out
    assert "3 of 3 shards" in out and "1 bad file(s) skipped" in out and BAD in out


def test_resumes_and_refuses_other_settings(video_csv, tmp_path):
    out = tmp_path / "beam"
    args = dict(pipeline_args=IN_MEMORY, num_shards=3, short_side=32, verbose=False)
    shards = beam.prepare_with_beam(video_csv, out, on_error="skip", **args)
    first = _files(out)
    os.remove(shards[1])
    kept = os.stat(shards[0]).st_mtime_ns
    beam.prepare_with_beam(video_csv, out, on_error="skip", **args)
    assert _files(out) == first  # the missing shard again, the same bytes
    assert os.stat(shards[0]).st_mtime_ns == kept  # finished shards untouched
    with pytest.raises(ValueError, match="other settings"):
        beam.prepare_with_beam(
            video_csv, out, on_error="skip", **{**args, "short_side": 48}
        )


def test_raise_names_the_bad_file(video_csv, tmp_path):
    with pytest.raises(Exception, match=BAD):
        beam.prepare_with_beam(
            video_csv, tmp_path / "beam", pipeline_args=IN_MEMORY, num_shards=2,
            short_side=32, verbose=False,
        )  # fmt: skip
    with pytest.raises(ValueError, match="Received: runner='LocalRunner'"):
        beam.prepare_with_beam(video_csv, tmp_path / "x", runner="LocalRunner")
