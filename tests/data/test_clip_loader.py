"""`ClipLoader`: one video's clips, segments, shrinking and the bad-file policy."""

import logging
import pickle

import numpy as np
import pytest

from keras_video.data import VideoDecodeError
from keras_video.data.clip_loader import ClipLoader, SkippedFiles, frame_range, shrink
from keras_video.data.clip_settings import ClipSettings
from keras_video.data.video import write_video


@pytest.fixture(scope="module")
def coded_video(tmp_path_factory):
    """20 frames 40x60; green = 10 * frame index (lossless enough to read back)."""
    frames = np.zeros((20, 40, 60, 3), np.uint8)
    frames[..., 1] = (10 * np.arange(20))[:, None, None]
    path = tmp_path_factory.mktemp("loader") / "coded.mp4"
    write_video(str(path), frames, fps=10)
    return str(path)


def _frame_numbers(clips):
    return np.round(clips[..., 1].mean(axis=(-1, -2)) / 10).astype(int)


def test_reads_uniform_clips_in_one_pass(coded_video):
    settings = ClipSettings(clip_length=3, frame_step=2, num_clips=2)
    loader = ClipLoader(settings, "uniform", None, "auto", "raise")
    clips = loader.read(coded_video)
    assert clips.shape == (2, 3, 40, 60, 3) and clips.dtype == np.uint8
    np.testing.assert_array_equal(_frame_numbers(clips), [[0, 2, 4], [15, 17, 19]])


def test_segment_limits_the_frames(coded_video):
    settings = ClipSettings(clip_length=2, frame_step=1, num_clips=3)
    loader = ClipLoader(settings, "uniform", None, "auto", "raise")
    clips = loader.read(coded_video, segment=np.array([0.5, 1.0], np.float32))
    numbers = _frame_numbers(clips)
    assert numbers.min() == 5 and numbers.max() == 9
    assert frame_range(20, 10.0, np.array([np.nan, np.nan]), "v") == (0, 20)
    assert frame_range(20, 10.0, np.array([0.55, np.nan]), "v") == (5, 20)
    with pytest.raises(ValueError, match="outside v"):
        frame_range(20, 10.0, np.array([3.0, 4.0]), "v")


def test_shrink_only_large_frames():
    frames = np.zeros((2, 100, 300, 3), np.uint8)
    assert shrink(frames, 50) is frames
    assert shrink(frames, 40).shape == (2, 40, 120, 3)
    assert shrink(frames, None) is frames


def test_bad_files_raise_or_are_skipped(tmp_path, coded_video, caplog):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00not a video" * 50)
    settings = ClipSettings(clip_length=2)
    raising = ClipLoader(settings, "uniform", None, "auto", "raise")
    with pytest.raises(VideoDecodeError, match="garbage.mp4"):
        raising(str(garbage).encode(), np.array([0, 0]))
    with pytest.raises(VideoDecodeError, match="missing.mp4"):
        raising.read(str(tmp_path / "missing.mp4"))
    skipping = ClipLoader(settings, "uniform", None, "auto", "skip")
    clips, ok = skipping(str(garbage).encode(), np.array([0, 0]))
    assert not ok and clips.shape == (1, 2, 1, 1, 3)
    clips, ok = skipping(coded_video.encode(), np.array([0, 0]))
    assert ok and clips.shape == (1, 2, 40, 60, 3)
    assert list(skipping.skipped.files) == [str(garbage)]
    with caplog.at_level(logging.WARNING, logger="keras_video.data"):
        assert skipping.skipped.end_epoch() == [str(garbage)]
    assert "garbage.mp4 (CorruptVideoError" in caplog.text
    assert skipping.skipped.end_epoch() == []
    with pytest.raises(ValueError, match="on_error='ignore'"):
        ClipLoader(settings, "uniform", None, "auto", "ignore")


def test_a_short_video_with_error_policy_names_the_file(coded_video):
    settings = ClipSettings(clip_length=30, frame_step=1, short_video="error")
    loader = ClipLoader(settings, "uniform", None, "auto", "raise")
    with pytest.raises(VideoDecodeError, match="coded.mp4 has 20 frames"):
        loader.read(coded_video)


def test_skipped_files_pickle():
    skipped = SkippedFiles()
    skipped.record("a.mp4", ValueError("bad"))
    again = pickle.loads(pickle.dumps(skipped))
    assert again.files == {"a.mp4": "ValueError: bad"} and again.count == 1
    again.record("b.mp4", ValueError("worse"))
    assert len(again) == 2


class _StuckReader:
    """Stands in for VideoReader: its decode never returns until released."""

    release = None

    def __init__(self, path, backend="auto"):
        self.num_frames, self.fps = 20, 10.0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def get_clips(self, clips):
        _StuckReader.release.wait(30)
        raise RuntimeError("released")


def test_a_decode_that_does_not_return_is_bounded(coded_video, monkeypatch):
    import threading
    import time

    from keras_video.data import clip_loader
    from keras_video.data.errors import DecodeTimeoutError

    _StuckReader.release = threading.Event()
    monkeypatch.setattr(clip_loader, "VideoReader", _StuckReader)
    settings = ClipSettings(clip_length=2)
    try:
        loader = ClipLoader(settings, "uniform", None, "auto", "skip", 0.3)
        began = time.monotonic()
        clips, ok = loader(b"stuck.mp4", np.array([0, 0]))
        assert time.monotonic() - began < 2.0
        assert not ok and "DecodeTimeoutError" in loader.skipped.files["stuck.mp4"]
        raising = ClipLoader(settings, "uniform", None, "auto", "raise", 0.3)
        with pytest.raises(DecodeTimeoutError, match="stuck.mp4 did not finish"):
            raising(b"stuck.mp4", np.array([0, 0]))
    finally:
        _StuckReader.release.set()
    with pytest.raises(ValueError, match="decode_timeout=0"):
        ClipLoader(settings, "uniform", None, "auto", "skip", 0)
    monkeypatch.undo()
    quick = ClipLoader(settings, "uniform", None, "auto", "raise", None)
    assert quick(coded_video, np.array([0, 0]))[0].shape == (1, 2, 40, 60, 3)
