"""Tests for `keras_video.data.video.backends.pyav.PyAVDecoder`."""

import av
import numpy as np
import pytest

from keras_video.data.video import VideoReader, index
from tests.data.video.indexed_videos import (
    read_index,
    sequential_frames,
    videos,
)


def test_frames_carry_their_own_index(long_gop_video):
    indices = [3, 77, 50, 49, 0, 119, 77]
    with VideoReader(long_gop_video, backend="pyav") as reader:
        frames = reader.get_frames(indices)
    assert [read_index(f) for f in frames] == indices


def test_nonref_skipping_decodes_fewer_frames_bit_exact(long_gop_video, monkeypatch):
    """PyAV skips unwanted non-reference frames; wanted frames stay bit-exact."""
    decoded = []
    original = av.video.codeccontext.VideoCodecContext.decode

    def counting_decode(self, packet=None):
        frames = original(self, packet)
        decoded.extend(frames)
        return frames

    monkeypatch.setattr(
        av.video.codeccontext.VideoCodecContext, "decode", counting_decode
    )
    indices = list(range(90, 106, 2))
    with VideoReader(long_gop_video, backend="pyav") as reader:
        _ = reader.num_frames  # the index scan decodes one frame; not counted below
        decoded.clear()
        frames = reader.get_frames(indices)
    monkeypatch.undo()
    expected = sequential_frames(long_gop_video, "pyav")[indices]
    np.testing.assert_array_equal(frames, expected)
    # Keyframe 50 to frame 104: 55 frames without skipping.
    assert len(decoded) < 55


def test_requests_in_sequence_continue_forward_exactly(long_gop_video):
    """Later requests read on from where earlier ones stopped (no seek inside a
    GOP); frames the decoder already skipped as unwanted force a fresh seek."""
    expected = sequential_frames(long_gop_video, "pyav")
    requests = [
        [10],
        [11],
        [12, 14],
        [13],
        [30, 32],
        [31],
        [33],
        [49],
        [50],
        [52],
        [51],
        [53, 119],
        [118],
        [0],
    ]
    rng = np.random.default_rng(1)
    requests += [[int(i)] for i in np.sort(rng.choice(120, 30, replace=False))]
    with VideoReader(long_gop_video, backend="pyav") as reader:
        for indices in requests:
            np.testing.assert_array_equal(reader.get_frames(indices), expected[indices])


def test_out_of_order_timestamps_are_detected(shared_data, monkeypatch):
    """The AVI's container timestamps disagree with the decoder's output order.
    The reader counts frames for AVI up front; without that rule it must notice
    at decode time and still return the frames of a sequential decode."""
    monkeypatch.setattr(index, "CONTAINERS_WITHOUT_PTS", ())
    index.clear_index_cache()
    path = videos(shared_data) / "mmaction2_test.avi"
    indices = [2, 3, 100, 7]
    with VideoReader(path, backend="pyav") as reader:
        frames = reader.get_frames(indices)
    index.clear_index_cache()  # its AVI index was made without the rule
    np.testing.assert_array_equal(frames, sequential_frames(path, "pyav")[indices])


def test_h265_frame_6_is_at_0_6_seconds(shared_data):
    with VideoReader(videos(shared_data) / "torchcodec_h265_video.mp4") as reader:
        assert reader.codec == "hevc"
        assert reader.get_timestamps([6])[0] == pytest.approx(0.6)
        expected = sequential_frames(
            videos(shared_data) / "torchcodec_h265_video.mp4", "pyav"
        )
    with VideoReader(
        videos(shared_data) / "torchcodec_h265_video.mp4", backend="pyav"
    ) as reader:
        np.testing.assert_array_equal(reader.get_frames([6, 2, 9]), expected[[6, 2, 9]])
