"""Tests for `keras_video.data.video.index`: the packet scan and its cache."""

import pathlib

import av
import numpy as np
import pytest

from keras_video.data.errors import CorruptVideoError
from keras_video.data.video import VideoReader, index, write_video
from tests.data.video.indexed_videos import (
    read_index,
    sequential_frames,
    videos,
    write_indexed_video,
)


def test_index_is_reused_until_the_file_changes(tmp_path):
    index.clear_index_cache()
    path = write_indexed_video(tmp_path / "a.mp4", 20, gop=10, bframes=0)
    first = VideoReader(path)
    assert first.num_frames == 20
    second = VideoReader(path)
    assert second.num_frames == 20
    assert second._index is first._index  # no second scan
    write_indexed_video(path, 12, gop=10, bframes=0)  # same path, new content
    with VideoReader(path) as third:
        assert third.num_frames == 12
        np.testing.assert_array_equal(
            third.get_frames([11]), sequential_frames(path, "pyav")[[11]]
        )


def test_edit_list_discarded_frames_are_not_counted(tmp_path, long_gop_video):
    """An mp4 whose edit list starts 5 frames into its first GOP (what trimming
    without re-encoding gives): those 5 frames decode but are never shown."""
    path = tmp_path / "trimmed.mp4"
    with av.open(str(long_gop_video)) as source, av.open(str(path), "w") as target:
        stream = source.streams.video[0]
        out = target.add_stream_from_template(stream)
        shift = int(round(5 / 30 / stream.time_base))
        for packet in source.demux(stream):
            if packet.dts is None:
                continue
            packet.pts -= shift
            packet.dts -= shift
            packet.stream = out
            target.mux(packet)
    expected = sequential_frames(path, "pyav")
    assert len(expected) == 115 and read_index(expected[0]) == 5
    for backend in ("pyav", "opencv"):
        with VideoReader(path, backend=backend) as reader:
            assert reader.num_frames == 115
            indices = [114, 0, 44, 45, 60]
            frames = reader.get_frames(indices)
            np.testing.assert_array_equal(frames, expected[indices])
            assert reader.get_timestamps([0])[0] == pytest.approx(0.0)


def test_garbage_file_is_corrupt_with_its_path(tmp_path):
    path = tmp_path / "garbage.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    with pytest.raises(CorruptVideoError, match="garbage.mp4") as info:
        _ = VideoReader(path).num_frames
    assert info.value.path == str(path)


def test_unordered_mov_timestamps_in_presentation_order(shared_data):
    with VideoReader(videos(shared_data) / "decord_unordered.mov") as reader:
        np.testing.assert_allclose(reader.timestamps, [0, 0.03125, 0.0625, 0.09375])
        np.testing.assert_allclose(reader.get_timestamps([3, 0]), [0.09375, 0])


def _small_video(path, num_frames=40, **kwargs):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (num_frames, 64, 64, 3), np.uint8)
    return write_video(path, frames, keyframe_interval=12, **kwargs)


@pytest.mark.parametrize("backend", ["auto", "opencv", "pyav"])
def test_stream_without_decoder_is_corrupt_with_its_path(tmp_path, backend):
    """An mp4 whose codec tag FFmpeg does not know: its stream has no decoder
    (PyAV's codec context is None; it used to raise a raw AttributeError)."""
    path = tmp_path / "no_decoder.mp4"
    data = pathlib.Path(_small_video(tmp_path / "ok.mp4")).read_bytes()
    assert data.count(b"avc1") >= 1
    path.write_bytes(data.replace(b"avc1", b"zzzz"))
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context is None
    with pytest.raises(CorruptVideoError, match="no_decoder.mp4.*no decoder") as info:
        VideoReader(path, backend=backend).get_frames([0])
    assert info.value.path == str(path)


def test_truncated_faststart_mp4_counts_only_frames_that_decode(tmp_path):
    """moov at the front, cut in the middle of its data: the index still lists
    the cut-off packets; the count keeps only frames that come out."""
    full = _small_video(
        tmp_path / "full.mp4", container_options={"movflags": "faststart"}
    )
    data = pathlib.Path(full).read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    with av.open(str(full)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
    cut = packets[-3].pos + packets[-3].size // 2  # inside the third-last frame
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[:cut])
    expected = []
    with av.open(str(path)) as container:
        try:
            for frame in container.decode(video=0):
                expected.append(frame.to_ndarray(format="rgb24"))
        except av.FFmpegError:
            pass
    # OpenCV's FFmpeg stops at the cut packet instead of flushing: with
    # backend="opencv" the last frames before it raise CorruptVideoError.
    for backend in ("auto", "pyav"):
        index.clear_index_cache()
        with VideoReader(path, backend=backend) as reader:
            assert reader.num_frames < 40
            assert reader.num_frames >= len(expected)
            for i in range(reader.num_frames):  # one by one: every frame decodes
                frame = reader.get_frames([i])[0]
                if i < len(expected):
                    np.testing.assert_array_equal(frame, expected[i])
            last = reader.num_frames - 1
            assert reader.get_frames([last, 0, last // 2]).shape == (3, 64, 64, 3)


def test_healthy_files_are_not_decoded_at_index_time(long_gop_video, monkeypatch):
    """The tail check runs only when the demuxer reports a cut packet."""
    calls = []
    original = index._frames_that_decode
    monkeypatch.setattr(
        index, "_frames_that_decode", lambda *a: calls.append(1) or original(*a)
    )
    index.clear_index_cache()
    assert VideoReader(long_gop_video).num_frames == 120
    assert not calls
