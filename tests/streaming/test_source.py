import time

import numpy as np
import pytest

from keras_video.data import write_video
from keras_video.streaming.source import FrameSource, center_crop_resize, source_kind
from keras_video.streaming.synthetic import frame_number, serve_mjpeg, synthetic_frame


def test_source_keeps_newest_frames_and_counts_drops():
    url, stop = serve_mjpeg(fps=30, size=(48, 64), num_frames=30)
    numbers = []
    try:
        with FrameSource(url, buffer=2) as source:
            deadline = time.monotonic() + 30
            while source.produced < 15 and time.monotonic() < deadline:
                time.sleep(0.01)  # 15 frames arrive, the newest 2 are kept
            while (item := source.read()) is not None:
                numbers.append(frame_number(item[0]))
                time.sleep(0.1)
    finally:
        stop()
    assert source.produced == 30 and source.dropped + len(numbers) == 30
    assert numbers == sorted(numbers) and numbers[0] >= 13  # old frames went


def test_a_file_read_without_pacing_gives_every_frame(tmp_path):
    video = np.stack([synthetic_frame(i, (48, 64)) for i in range(12)])
    path = str(tmp_path / "v.mp4")
    write_video(path, video, fps=30)
    with FrameSource(path, realtime=False) as source:
        got = []
        while (item := source.read()) is not None:
            got.append(frame_number(item[0]))
    assert got == list(range(12)) and source.dropped == 0 and source.fps == 30


def test_source_kinds_and_frame_preparation(tmp_path):
    assert source_kind(0) == "camera" and source_kind("1") == "camera"
    assert source_kind("rtsp://127.0.0.1/x") == "url"
    with pytest.raises(FileNotFoundError, match="camera index"):
        source_kind(str(tmp_path / "none.mp4"))
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:, 32:] = 255
    out = center_crop_resize(frame, (24, 24))
    assert out.shape == (24, 24, 3) and out.dtype == np.float32
    assert out[:, :12].max() < 128 < out[:, 12:].min()


def test_an_unopenable_source_is_named():
    url = "http://127.0.0.1:9/none.mjpg"  # the discard port: nothing serves it
    with pytest.raises(OSError, match="none.mjpg"):
        with FrameSource(url, open_timeout=20) as source:
            source.read()
