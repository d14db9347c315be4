"""Tests for `keras_video.data.video.reader.VideoReader`.

Two kinds of oracles: the real files of `../shared/data/videos` (their README lists
what each one must do) and small h264 files written here with PyAV, whose frames
carry their own index (`indexed_videos.py`).
"""

import json
import multiprocessing
import pickle
import subprocess
import sys

import cv2
import numpy as np
import pytest

from keras_video.data.errors import CorruptVideoError
from keras_video.data.video import VideoReader
from tests.data.video.indexed_videos import (
    IMPORT_VIDEO_ONLY,
    REAL_FILES,
    read_index,
    sequential_frames,
    videos,
    write_variable_rate_video,
)

# ---------------------------------------------------------------- synthetic files


@pytest.mark.parametrize("backend", ["pyav", "opencv"])
def test_seek_gives_the_frames_of_a_sequential_decode(long_gop_video, backend):
    expected = sequential_frames(long_gop_video, backend)
    assert len(expected) == 120
    rng = np.random.default_rng(0)
    index_sets = [rng.choice(120, size=8, replace=False) for _ in range(4)]
    index_sets += [[119, 0, 60, 49, 50, 51], [5, 5, 100, 4], list(range(30, 62, 2))]
    with VideoReader(long_gop_video, backend=backend) as reader:
        assert reader.backend == backend
        assert reader.num_frames == 120
        for indices in index_sets:
            frames = reader.get_frames(indices)
            assert frames.dtype == np.uint8 and frames.shape == (
                len(indices),
                48,
                128,
                3,
            )
            np.testing.assert_array_equal(frames, expected[np.asarray(indices)])


@pytest.mark.parametrize("backend", ["opencv", "pyav"])
def test_variable_frame_rate_seek_is_exact(tmp_path, backend):
    """OpenCV's own frame-number seek assumes a constant rate and lands on the
    wrong frame here; the reader notices (timestamp check) and reads forward."""
    path = write_variable_rate_video(tmp_path / "vfr.mp4")
    capture = cv2.VideoCapture(str(path))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 80)
    landed = read_index(capture.read()[1][..., ::-1])
    capture.release()
    assert landed != 80  # the failure mode being guarded against
    indices = [80, 90, 30, 95]
    with VideoReader(path, backend=backend) as reader:
        assert reader.num_frames == 100
        frames = reader.get_frames(indices)
        np.testing.assert_allclose(
            reader.get_timestamps([49, 50, 51]), [0.98, 1.0, 1.1]
        )
    assert [read_index(f) for f in frames] == indices
    np.testing.assert_array_equal(frames, sequential_frames(path, backend)[indices])


def test_get_clips_shares_one_pass_and_matches_get_frames(long_gop_video):
    clips = [[10, 12, 14], [13, 12, 11], [100, 20]]
    with VideoReader(long_gop_video, backend="pyav") as reader:
        together = reader.get_clips(clips)
        apart = [reader.get_frames(c) for c in clips]
    for a, b in zip(together, apart, strict=True):
        np.testing.assert_array_equal(a, b)


def test_metadata_and_timestamps(long_gop_video):
    with VideoReader(long_gop_video) as reader:
        assert reader.fps == pytest.approx(30.0)
        assert reader.duration == pytest.approx(4.0)
        assert (reader.height, reader.width) == (48, 128)
        assert reader.codec == "h264"
        assert len(reader) == 120
        np.testing.assert_allclose(reader.timestamps, np.arange(120) / 30.0)
        np.testing.assert_allclose(reader.get_timestamps([3, 1]), [0.1, 1 / 30])
        assert reader.get_frames([]).shape == (0, 48, 128, 3)


@pytest.mark.parametrize("backend", ["auto", "opencv", "pyav"])
def test_out_of_range_index_names_index_range_and_path(long_gop_video, backend):
    with VideoReader(long_gop_video, backend=backend) as reader:
        for bad in (120, -1):
            with pytest.raises(IndexError, match=rf"{bad}.*0 to 119") as info:
                reader.get_frames([0, bad])
            assert str(long_gop_video) in str(info.value)


def test_argument_errors(tmp_path, long_gop_video):
    missing = tmp_path / "missing.mp4"
    with pytest.raises(FileNotFoundError, match="missing.mp4"):
        VideoReader(missing)
    with pytest.raises(ValueError, match="backend='decord'"):
        VideoReader(long_gop_video, backend="decord")
    with pytest.raises(ValueError, match="stream=1"):
        _ = VideoReader(long_gop_video, stream=1).num_frames
    reader = VideoReader(long_gop_video)
    reader.close()
    with pytest.raises(ValueError, match="closed"):
        reader.get_frames([0])


def _decode_in_child(reader, indices, queue):
    queue.put(reader.get_frames(indices))


@pytest.mark.parametrize("backend", ["auto", "pyav"])
@pytest.mark.parametrize("used_in_parent", [False, True])
def test_reader_works_in_a_forked_worker(long_gop_video, used_in_parent, backend):
    """A reader made (and possibly used) in the parent decodes in a forked child;
    a hang fails the test instead of hanging the suite."""
    context = multiprocessing.get_context("fork")
    indices = [70, 3, 55]
    reader = VideoReader(long_gop_video, backend=backend)
    assert reader.num_frames == 120  # the index scan runs in the parent
    if used_in_parent:
        reader.get_frames([60])  # parent holds an open decoder when forking
    queue = context.Queue()
    child = context.Process(target=_decode_in_child, args=(reader, indices, queue))
    child.start()
    try:
        frames = queue.get(timeout=30)
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0
    np.testing.assert_array_equal(frames, reader.get_frames(indices))
    reader.close()


# ------------------------------------------------------------------- real files


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_file_counts_and_shapes(shared_data, name):
    num_frames, size = REAL_FILES[name]
    with VideoReader(videos(shared_data) / name) as reader:
        assert reader.num_frames == num_frames
        assert (reader.height, reader.width) == size
        frames = reader.get_frames([num_frames - 1, 0, num_frames // 2])
        assert frames.shape == (3, *size, 3) and frames.dtype == np.uint8
        with pytest.raises(IndexError, match=name):
            reader.get_frames([num_frames])


def test_pancake_has_310_frames_not_the_311_its_header_claims(shared_data):
    path = videos(shared_data) / "flipping_a_pancake.mkv"
    capture = cv2.VideoCapture(str(path))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 311  # the lie being tested
    capture.release()
    for backend in ("opencv", "pyav"):
        with VideoReader(path, backend=backend) as reader:
            assert reader.num_frames == 310
            assert reader.get_frames([309]).shape == (1, 240, 426, 3)
            with pytest.raises(IndexError, match=r"310.*0 to 309"):
                reader.get_frames([310])


def test_webm_without_duration(shared_data):
    with VideoReader(videos(shared_data) / "moviepy_no_duration_vp9.webm") as reader:
        assert reader.num_frames == 74
        assert reader.fps == pytest.approx(15000 / 1001)
        assert reader.get_frames([73]).shape == (1, 720, 1280, 3)


@pytest.mark.parametrize("backend", ["auto", "pyav"])
def test_av1_decodes(shared_data, backend):
    with VideoReader(
        videos(shared_data) / "torchcodec_av1_video.mkv", backend=backend
    ) as reader:
        frames = reader.get_frames(range(0, 125, 31))
        assert reader.backend == "pyav"
        assert reader.codec == "av1"
    assert frames.shape == (5, 360, 640, 3)
    assert frames.std() > 1  # real pictures, not an empty buffer


@pytest.mark.parametrize("backend", ["auto", "opencv", "pyav"])
def test_corrupt_file_raises_with_its_path(shared_data, backend):
    path = videos(shared_data) / "decord_corrupted.mp4"
    with VideoReader(path, backend=backend) as reader:
        with pytest.raises(CorruptVideoError) as info:
            reader.get_frames(range(40))
    assert str(path) in str(info.value)
    assert info.value.path == str(path)


def test_10bit_comes_out_as_uint8_rgb(shared_data):
    path = videos(shared_data) / "torchcodec_h264_10bits.mp4"
    for backend in ("pyav", "opencv"):
        with VideoReader(path, backend=backend) as reader:
            assert reader.metadata.pix_fmt == "yuv420p10le"
            frames = reader.get_frames([0, 29])
            assert frames.dtype == np.uint8 and frames.shape == (2, 200, 200, 3)
            assert frames.max() > 100


def test_nasa_second_video_stream_by_container_index(shared_data):
    path = videos(shared_data) / "nasa_13013.mp4"
    oracle = json.loads(
        (
            videos(shared_data) / "nasa_13013.mp4.stream3.all_frames_info.json"
        ).read_text()
    )
    with VideoReader(path, stream=3) as reader:
        assert reader.backend == "pyav"  # OpenCV only reads stream 0
        assert reader.stream == 3
        assert reader.num_frames == len(oracle) == 390
        assert (reader.height, reader.width) == (270, 480)
        assert reader.fps == pytest.approx(30000 / 1001)
        np.testing.assert_allclose(
            reader.timestamps, [float(f["pts_time"]) for f in oracle], atol=1e-6
        )
        assert reader.get_frames([389, 0]).shape == (2, 270, 480, 3)
    with VideoReader(path, stream=0) as reader:
        assert (reader.num_frames, reader.height, reader.width) == (325, 180, 320)
    reader = VideoReader(path, backend="opencv", stream=3)
    assert reader.num_frames == 390  # metadata needs no decoder
    with pytest.raises(ValueError, match="first video stream"):
        reader.get_frames([0])
    with pytest.raises(ValueError, match=r"one of \[0, 3\]"):
        _ = VideoReader(path, stream=1).num_frames


@pytest.mark.parametrize("backend", ["opencv", "pyav"])
@pytest.mark.parametrize(
    "name", ["mmaction2_test.mp4", "mmaction2_test.avi", "flipping_a_pancake.mkv"]
)
def test_real_file_seek_matches_sequential(shared_data, name, backend):
    """The mp4 has 2 keyframes, the mkv 3; the AVI has packed B-frames whose
    container timestamps are out of order (frames are counted instead)."""
    path = videos(shared_data) / name
    expected = sequential_frames(path, backend)
    indices = [len(expected) - 1, 150, 2, 151, 3, 100]
    with VideoReader(path, backend=backend) as reader:
        np.testing.assert_array_equal(reader.get_frames(indices), expected[indices])


# ------------------------------------------------------- backends, threads, pickling


def test_auto_takes_the_pyav_path(long_gop_video):
    """PyAV is the faster exact path (benchmarks/README.md, decode_clips.py)."""
    with VideoReader(long_gop_video) as reader:
        assert reader.backend == "pyav"


def test_pickled_reader_reopens_with_a_fresh_lock(long_gop_video):
    reader = VideoReader(long_gop_video)
    expected = reader.get_frames([7, 60])
    clone = pickle.loads(pickle.dumps(reader))
    assert clone._lock is not reader._lock
    np.testing.assert_array_equal(clone.get_frames([7, 60]), expected)
    reader.close()
    clone.close()


HAMMER = """
import threading
import cv2
import numpy as np
from keras_video.data.video import VideoReader

path, backend = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(0)
requests = [np.sort(rng.choice(120, 4, replace=False)) for _ in range(24)]
with VideoReader(path, backend=backend) as reader:
    expected = [reader.get_frames(r) for r in requests]
shared = VideoReader(path, backend=backend)
errors = []

def work(offset):
    try:
        for k in range(len(requests)):
            i = (k + offset) % len(requests)
            np.testing.assert_array_equal(shared.get_frames(requests[i]), expected[i])
    except Exception as e:
        errors.append(repr(e))

threads = [threading.Thread(target=work, args=(7 * t,)) for t in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert not errors, errors
print("ok")
"""


@pytest.mark.parametrize("backend", ["pyav", "opencv"])
def test_one_reader_shared_by_four_threads(long_gop_video, backend):
    """Without the reader's lock this crashes the interpreter (SIGSEGV in PyAV,
    an FFmpeg assertion in OpenCV); run in a child so a crash fails the test."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            IMPORT_VIDEO_ONLY + HAMMER,
            str(long_gop_video),
            backend,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


def test_unforeseen_library_errors_become_corrupt_video_errors(
    long_gop_video, monkeypatch
):
    from keras_video.data.video.backends import pyav

    def broken(self, *args):
        raise AttributeError("'NoneType' object has no attribute 'thread_count'")

    monkeypatch.setattr(pyav.PyAVDecoder, "_decode", broken)
    with VideoReader(long_gop_video, backend="pyav") as reader:
        with pytest.raises(CorruptVideoError, match="gop50_b3.mp4.*AttributeError"):
            reader.get_frames([3])
        with pytest.raises(IndexError):  # bad arguments stay what they are
            reader.get_frames([500])
