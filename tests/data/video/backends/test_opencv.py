"""Tests for `keras_video.data.video.backends.opencv.OpenCVDecoder`."""

import numpy as np
import pytest

from keras_video.data.errors import VideoDecodeError
from keras_video.data.video import VideoReader
from tests.data.video.indexed_videos import (
    EIGHT_BIT_OPENCV_FILES,
    REAL_FILES,
    sequential_frames,
    videos,
)


@pytest.mark.parametrize("name", sorted(EIGHT_BIT_OPENCV_FILES))
def test_opencv_and_pyav_agree(shared_data, name):
    num_frames, _ = REAL_FILES[name]
    indices = sorted({0, 1, num_frames // 3, num_frames // 2, num_frames - 1})
    with VideoReader(videos(shared_data) / name, backend="opencv") as reader:
        from_opencv = reader.get_frames(indices).astype(np.float64)
        assert reader.backend == "opencv"
    with VideoReader(videos(shared_data) / name, backend="pyav") as reader:
        from_pyav = reader.get_frames(indices).astype(np.float64)
    assert np.abs(from_opencv - from_pyav).mean() < 2


def test_av1_with_opencv_raises_instead_of_returning_nothing(shared_data):
    path = videos(shared_data) / "torchcodec_av1_video.mkv"
    with VideoReader(path, backend="opencv") as reader:
        for indices in ([0, 1], [100]):
            with pytest.raises(VideoDecodeError, match="backend='pyav'") as info:
                reader.get_frames(indices)
            assert "decodes no frames" in str(info.value)
            assert str(path) in str(info.value)


def test_seek_back_that_returns_nothing_reads_forward(shared_data):
    """OpenCV's frame count for this webm is about -1.4e17 and its seek back
    returns no frame; the file itself is fine (74 frames read in order)."""
    path = videos(shared_data) / "moviepy_no_duration_vp9.webm"
    expected = sequential_frames(path, "opencv")
    assert len(expected) == 74
    requests = [[70], [1], [73, 2], [40], [0, 10]]
    with VideoReader(path, backend="opencv") as reader:
        for indices in requests:
            np.testing.assert_array_equal(reader.get_frames(indices), expected[indices])
