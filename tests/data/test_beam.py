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


# --- the flow and features jobs: `keras-video flow | features --runner` -------

MULTI_PROCESS = "--direct_num_workers=2 --direct_running_mode=multi_processing"


@pytest.fixture()
def job_videos(tmp_path, shared_data):
    """Two tiny videos (a square moving on texture) and a corrupt file."""
    import numpy as np

    from keras_video.data.video import write_video

    src = tmp_path / "src"
    for i, (rel, step) in enumerate((("a/v1.mp4", 2), ("b/v2.mp4", -1))):
        rng = np.random.default_rng(i)
        frames = np.repeat(rng.integers(40, 120, (1, 32, 40, 3), np.uint8), 10, 0)
        for t, frame in enumerate(frames):
            x = 12 + step * t
            frame[8 + t : 18 + t, x : x + 10] = (230, 200, 60)
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        write_video(src / rel, frames, fps=10)
    (src / "b" / BAD).write_bytes((shared_data / "videos" / BAD).read_bytes())
    return src


def _tree(folder):
    """Every file under `folder` (relative path -> bytes), reports aside."""
    files = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, folder)] = f.read()
    reports = {n: json.loads(files.pop(n)) for n in list(files) if "report" in n}
    for report in reports.values():
        del report["output"], report["seconds"]
    return files, reports


def _mtimes(folder):
    return sorted(
        (os.path.join(root, n), os.stat(os.path.join(root, n)).st_mtime_ns)
        for root, _, names in os.walk(folder)
        for n in names
        if "report" not in n
    )


def test_flow_job_on_multiprocess_runner_writes_the_local_files(
    job_videos, tmp_path, capsys
):
    from keras_video import flow

    args = dict(method="dis", format="png", verbose=False)
    flow.extract_dataset_flow(job_videos, tmp_path / "one", **args)
    argv = ["flow", str(job_videos), str(tmp_path / "beam"), "--method", "dis",
            "--format", "png", "--quiet", "--runner", "DirectRunner",
            "--beam-args", MULTI_PROCESS]  # fmt: skip
    assert cli.main(argv) == 1  # one video failed
    err = capsys.readouterr().err
    assert f"1 of 3 videos failed (b/{BAD})" in err and "flow_report.json" in err
    one, beam_files = _tree(tmp_path / "one"), _tree(tmp_path / "beam")
    assert len(one[0]) == 2 * (1 + 2 * 9)  # flow.json and 9 x/y pairs per video
    assert beam_files == one  # every flow file byte for byte, the same report
    report = beam_files[1]["flow_report.json"]
    assert report["done"] == ["a/v1.mp4", "b/v2.mp4"] and report["skipped"] == []
    assert [f["video"] for f in report["failed"]] == [f"b/{BAD}"]
    assert "CorruptVideoError" in report["failed"][0]["error"]

    # Resume: a video whose flow.json is gone is redone, the finished one kept.
    os.remove(tmp_path / "beam" / "b" / "v2" / "flow.json")
    kept = [m for m in _mtimes(tmp_path / "beam") if "/a/" in m[0]]
    report = flow.extract_dataset_flow(
        job_videos, tmp_path / "beam", runner="DirectRunner",
        pipeline_args=IN_MEMORY, **args,
    )  # fmt: skip
    assert report["done"] == ["b/v2.mp4"] and report["skipped"] == ["a/v1.mp4"]
    assert [m for m in _mtimes(tmp_path / "beam") if "/a/" in m[0]] == kept
    assert _tree(tmp_path / "beam")[0] == one[0]
    assert not os.path.exists(tmp_path / "beam" / beam.RESULTS_DIR)
    with pytest.raises(ValueError, match="Received: workers=2, runner="):
        flow.extract_dataset_flow(
            job_videos, tmp_path / "x", workers=2, runner="DirectRunner", **args
        )


def test_features_job_on_runner_writes_the_local_files(job_videos, tmp_path, capsys):
    import keras
    import numpy as np

    from keras_video.detection import extract_dataset_features

    inputs = keras.Input((4, 16, 16, 3))
    x = keras.layers.Conv3D(3, 3, strides=2, activation="relu")(inputs)
    backbone = keras.Model(inputs, keras.layers.GlobalAveragePooling3D()(x))
    model = str(tmp_path / "tiny.keras")
    backbone.save(model)
    args = dict(snippet_length=4, stride=3, image_size=16, batch_size=2)
    extract_dataset_features(job_videos, tmp_path / "one", model, verbose=False,
                             **args)  # fmt: skip
    argv = ["features", str(job_videos), str(tmp_path / "beam"), "--model", model,
            "--snippet", "4", "--stride", "3", "--image-size", "16",
            "--batch-size", "2", "--quiet", "--runner", "DirectRunner",
            "--beam-args", IN_MEMORY]  # fmt: skip
    assert cli.main(argv) == 1
    assert f"1 of 3 videos failed (b/{BAD})" in capsys.readouterr().err
    one, beam_files = _tree(tmp_path / "one"), _tree(tmp_path / "beam")
    assert sorted(one[0]) == [
        "a/v1.npy", "a/v1.times.npy", "b/v2.npy", "b/v2.times.npy", "manifest.json"
    ]  # fmt: skip
    assert beam_files == one  # the same weights: the same bytes, manifest, report
    features = np.load(tmp_path / "beam" / "a" / "v1.npy")
    assert features.shape == (3, 3) and np.abs(features).max() > 0
    report = beam_files[1]["features_report.json"]
    assert report["done"] == ["a/v1.mp4", "b/v2.mp4"]
    assert [f["video"] for f in report["failed"]] == [f"b/{BAD}"]

    mtimes = _mtimes(tmp_path / "beam")  # resume: nothing left but the bad file
    assert cli.main(argv) == 1
    report = json.loads((tmp_path / "beam" / "features_report.json").read_text())
    assert report["done"] == [] and report["skipped"] == ["a/v1.mp4", "b/v2.mp4"]
    assert _mtimes(tmp_path / "beam") == mtimes
    with pytest.raises(ValueError, match="Received: runner='LocalRunner'"):
        extract_dataset_features(job_videos, tmp_path / "x", model,
                                 runner="LocalRunner", **args)  # fmt: skip
