"""Byte-mutated videos and CSV lists: every read returns true frames or raises a
documented Python exception; no crash, no hang (`benchmarks/fuzz_readers.py`).

The harness is the benchmark script, loaded by path; each job runs in a worker
process with a 5 s limit, so a crash or a hang fails the test instead of pytest.
"""

import numpy as np
import pytest

from tests.helpers import load_benchmark

fuzz_readers = load_benchmark("fuzz_readers")


def failures_of(defects, seed):
    return [d for d in defects if d["seed"] == seed]


@pytest.fixture(scope="module")
def fuzzed():
    return fuzz_readers.fuzz(variants=30, seed=0, workers=2, timeout=5.0)


def test_every_seed_and_reader_ran(fuzzed):
    counts, _ = fuzzed
    expected = {
        (name, f"video:{backend}")
        for name in fuzz_readers.SEED_VIDEOS
        for backend in fuzz_readers.VIDEO_BACKENDS
    } | {
        (name, f"reader:{fuzz_readers.CSV_READER}") for name in fuzz_readers.SEED_LISTS
    }
    assert set(counts) == expected
    for key, counter in counts.items():
        assert sum(counter.values()) == 30, key
    # Both ends are reached: some damaged files still read, others raise.
    video = [c for (name, _), c in counts.items() if name in fuzz_readers.SEED_VIDEOS]
    assert sum(c["ok"] for c in video) > 0
    assert sum(c["python_error"] for c in video) > 0


@pytest.mark.parametrize("seed", list(fuzz_readers.SEED_VIDEOS))
def test_video_variants(fuzzed, seed):
    _, defects = fuzzed
    assert failures_of(defects, seed) == []


@pytest.mark.parametrize("seed", list(fuzz_readers.SEED_LISTS))
def test_list_variants(fuzzed, seed):
    _, defects = fuzzed
    assert failures_of(defects, seed) == []


def test_unmutated_seeds_read_exactly(tmp_path):
    """The oracle itself: intact seeds read as `ok` with every backend."""
    paths = fuzz_readers.write_seeds(tmp_path)
    for name in fuzz_readers.SEED_VIDEOS:
        for backend in fuzz_readers.VIDEO_BACKENDS:
            outcome, detail = fuzz_readers.check_video(str(paths[name]), backend, 0)
            assert (outcome, detail) == ("ok", "24 frames"), (name, backend)


def test_mutations_are_seeded():
    data = bytes(range(256)) * 8
    a = fuzz_readers.mutate(data, fuzz_readers.variant_rng(0, "x.mp4", 5))
    b = fuzz_readers.mutate(data, fuzz_readers.variant_rng(0, "x.mp4", 5))
    c = fuzz_readers.mutate(data, fuzz_readers.variant_rng(0, "x.mp4", 6))
    assert a == b and a != c and a[0] != data


def test_harness_counts_crash_hang_and_foreign_exception(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a.mp4,1\n")
    jobs = [
        {"target": f"reader:__main__:_selftest_{kind}", "path": str(path), "seed": 0}
        for kind in ("abort", "sleep", "key_error")
    ]
    jobs.append({"target": f"reader:{fuzz_readers.CSV_READER}", "path": str(path)})
    got = [
        (outcome, detail.split(";")[0].split(":")[0])
        for _, outcome, detail in fuzz_readers.run_jobs(jobs, workers=1, timeout=2.0)
    ]
    assert got == [
        ("crash", "signal 6"),
        ("hang", "killed after 2.0 s"),
        ("foreign", "KeyError"),
        ("ok", ""),
    ]


# Exact inputs that the fuzzer found (or that stand for what it found) in
# `keras_video/data/listing.py`: a malformed list raises a ValueError naming
# the file; a label that is not an ASCII integer is a class name.
@pytest.mark.parametrize(
    "content, outcome",
    [
        (b"a.mp4,1\nb.mp4,\xff2\n", "python_error"),  # not UTF-8
        (b"a.mp4,--5\nb.mp4,1\n", "ok"),  # "--5" is a class name
        ("a.mp4,\u00b2\nb.mp4,1\n".encode(), "ok"),  # "²".isdigit(), not int
        (b"a.mp4,9999999999991\nb.mp4,1\n", "python_error"),  # beyond int32
    ],
    ids=[
        "invalid_utf8",
        "double_minus_label",
        "superscript_digit_label",
        "label_beyond_int32",
    ],
)
def test_malformed_list_error_names_file(tmp_path, content, outcome):
    path = tmp_path / "list.csv"
    path.write_bytes(content)
    got, detail = fuzz_readers.check_list_reader(path, fuzz_readers.CSV_READER)
    assert got == outcome, detail


def damaged_variant(tmp_path, name, index):
    """Variant `index` of seed `name` (seed 0), exactly as the fuzzer makes it."""
    seeds = fuzz_readers.write_seeds(tmp_path / "seeds")
    rng = fuzz_readers.variant_rng(0, name, index)
    data, _ = fuzz_readers.mutate(seeds[name].read_bytes(), rng)
    path = tmp_path / f"variant-{index}{seeds[name].suffix}"
    path.write_bytes(data)
    return str(path)


def test_pyav_frame_zero_of_damaged_vp9(tmp_path):
    """Fuzzer find (vp9.webm, variant 601: bytes [397:599] duplicated at 4740).

    The stream's index gets two frames with pts 0. Asked together with later
    frames, index 0 comes back as the picture a plain decode gives as frame 9;
    asked alone, a fresh reader gives the true frame 0.
    """
    from keras_video.data.video import VideoReader

    path = damaged_variant(tmp_path, "vp9.webm", 601)
    with VideoReader(path, backend="pyav") as reader:
        together = reader.get_frames([12, 0, 14, 10])[1]
    with VideoReader(path, backend="pyav") as reader:
        alone = reader.get_frames([0])[0]
    assert (together == alone).all()


def test_pyav_frames_of_damaged_h264_gop_do_not_depend_on_access():
    """Fuzzer find (h264.mp4, variant 471: 3 bytes overwritten at 3999).

    FFmpeg flags the keyframe of frames 8-15 corrupt (`VideoFrame.is_corrupt`).
    The pyav backend returns those frames without raising, and their pixels depend
    on how they are reached: after the harness's `get_frames` of 4 random
    indices, `get_clips` of frames 14-21 gives frames 14 and 15 that differ from a
    pass from frame 0 by a fresh reader (mean abs difference 30-37; the clip's
    frames equal a plain single-threaded PyAV decode, the pass from frame 0 does
    not). Either the same frames or a `CorruptVideoError` would do.
    """
    _, defects = fuzz_readers.fuzz(
        variants=472, seed=0, seeds=["h264.mp4"], only=("h264.mp4", 471)
    )
    assert defects == []


def test_damaged_stream_verdicts_are_cached_and_access_independent(tmp_path):
    """A damaged GOP makes the reader decode the stream once: frames in timestamp
    order -> the index is marked `damaged` and reads decode sequentially; frames
    out of order (h264 variant 1462: two frames gone, outputs reordered) -> the
    file is corrupt for every request, not only for the ones that see it."""
    from keras_video.data import CorruptVideoError
    from keras_video.data.video import VideoReader
    from keras_video.data.video import index as index_lib

    consistent = damaged_variant(tmp_path, "h264.mp4", 471)
    key = index_lib.cache_key(consistent, None)
    with VideoReader(consistent, backend="pyav") as reader:
        clip = reader.get_frames([14, 15, 9])
    assert index_lib.cached_index(key).damaged  # the verdict, cached
    with VideoReader(consistent, backend="pyav") as reader:
        every = reader.get_frames(range(16))
    np.testing.assert_array_equal(clip, every[[14, 15, 9]])
    broken = damaged_variant(tmp_path, "h264.mp4", 1462)
    for request in ([1, 4, 7, 12], list(range(22))):
        with VideoReader(broken, backend="pyav") as reader:
            with pytest.raises(CorruptVideoError, match="cannot be numbered"):
                reader.get_frames(request)
