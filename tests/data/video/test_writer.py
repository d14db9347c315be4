"""Tests for `keras_video.data.video.writer.write_video`."""

import av
import numpy as np
import pytest

from keras_video.data.video import VideoReader, write_video


def test_written_video_reads_back(tmp_path):
    frames = np.zeros((10, 32, 48, 3), np.uint8)
    frames[:, :, :24] = 200
    path = write_video(tmp_path / "a.mp4", frames, fps=5, keyframe_interval=4)
    with VideoReader(path) as reader:
        assert (reader.num_frames, reader.height, reader.width) == (10, 32, 48)
        assert reader.fps == pytest.approx(5)
        assert np.abs(reader.get_frames([9]).astype(int) - frames[9]).mean() < 3
        np.testing.assert_array_equal(reader.metadata.codec, "h264")


def test_faststart_puts_the_index_first(tmp_path):
    frames = np.zeros((4, 16, 16, 3), np.uint8)
    path = write_video(
        tmp_path / "a.mp4", frames, container_options={"movflags": "faststart"}
    )
    data = path.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    with av.open(str(path)) as container:
        assert container.streams.video[0].frames == 4


def test_bad_frames_raise(tmp_path):
    with pytest.raises(ValueError, match="No frames"):
        write_video(tmp_path / "a.mp4", [])
    with pytest.raises(ValueError, match=r"Received: frame shape \(16, 16\)"):
        write_video(tmp_path / "b.mp4", np.zeros((2, 16, 16), np.uint8))
