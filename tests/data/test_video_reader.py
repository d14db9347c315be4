"""Tests for `keras_video.data.video_reader.VideoReader`.

Two kinds of oracles: the real files of `../shared/data/videos` (their README lists
what each one must do) and small h264 files written here with PyAV, whose frames
carry their own index in flat blocks, so frame identity and seek correctness are
exact.
"""

import collections
import fractions
import json
import multiprocessing

import av
import cv2
import numpy as np
import pytest

from keras_video.data.errors import CorruptVideoError, VideoDecodeError
from keras_video.data.video_reader import VideoReader

BITS = 8  # frame index bits drawn into each frame
BLOCK = 16  # block side in pixels


def _frame_with_index(i, height=48, width=BITS * BLOCK):
    """A frame whose top row of blocks spells `i` in binary, over moving texture."""
    rng = np.random.default_rng(i // 7)
    image = np.full((height, width, 3), 96, np.uint8)
    texture = rng.integers(64, 160, (height - BLOCK, width // 8, 3), np.uint8)
    texture = np.repeat(texture, 8, axis=1)
    image[BLOCK:] = np.roll(texture, 2 * i, axis=1)
    for bit in range(BITS):
        value = 255 if (i >> bit) & 1 else 0
        image[:BLOCK, bit * BLOCK : (bit + 1) * BLOCK] = value
    return image


def _read_index(image):
    """Inverse of `_frame_with_index` (robust to compression)."""
    bits = [
        image[2:-2, b * BLOCK + 2 : (b + 1) * BLOCK - 2].mean() > 128
        for b in range(BITS)
    ]
    return sum(1 << b for b, on in enumerate(bits) if on)


def write_indexed_video(path, num_frames, gop, bframes, fps=30):
    """h264 file with a chosen keyframe interval and B-frames; frame i shows i."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(
            "libx264", rate=fps, options={"threads": "1", "crf": "20"}
        )
        stream.width, stream.height, stream.pix_fmt = BITS * BLOCK, 48, "yuv420p"
        stream.codec_context.gop_size = gop
        stream.codec_context.max_b_frames = bframes
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(_frame_with_index(i), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_variable_rate_video(path):
    """100 frames: 50 frames 20 ms apart, then 50 frames 100 ms apart."""
    time_base = fractions.Fraction(1, 1000)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=30, options={"threads": "1"})
        stream.width, stream.height, stream.pix_fmt = BITS * BLOCK, 48, "yuv420p"
        stream.codec_context.gop_size = 20
        stream.codec_context.time_base = time_base
        timestamp = 0
        for i in range(100):
            frame = av.VideoFrame.from_ndarray(_frame_with_index(i), format="rgb24")
            frame.pts, frame.time_base = timestamp, time_base
            timestamp += 20 if i < 50 else 100
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def sequential_frames(path, backend):
    """Every frame of the first video stream, decoded front to back."""
    if backend == "pyav":
        with av.open(str(path)) as container:
            return np.stack(
                [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
            )
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    capture.release()
    return np.stack(frames)


@pytest.fixture(scope="module")
def long_gop_video(tmp_path_factory):
    """120 frames, keyframe every 50, up to 3 B-frames."""
    path = tmp_path_factory.mktemp("videos") / "gop50_b3.mp4"
    return write_indexed_video(path, 120, gop=50, bframes=3)


def videos(shared_data):
    return shared_data / "videos"


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


def test_frames_carry_their_own_index(long_gop_video):
    indices = [3, 77, 50, 49, 0, 119, 77]
    with VideoReader(long_gop_video, backend="pyav") as reader:
        frames = reader.get_frames(indices)
    assert [_read_index(f) for f in frames] == indices


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


@pytest.mark.parametrize("backend", ["opencv", "pyav"])
def test_variable_frame_rate_seek_is_exact(tmp_path, backend):
    """OpenCV's own frame-number seek assumes a constant rate and lands on the
    wrong frame here; the reader notices (timestamp check) and reads forward."""
    path = write_variable_rate_video(tmp_path / "vfr.mp4")
    capture = cv2.VideoCapture(str(path))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 80)
    landed = _read_index(capture.read()[1][..., ::-1])
    capture.release()
    assert landed != 80  # the failure mode being guarded against
    indices = [80, 90, 30, 95]
    with VideoReader(path, backend=backend) as reader:
        assert reader.num_frames == 100
        frames = reader.get_frames(indices)
        np.testing.assert_allclose(
            reader.get_timestamps([49, 50, 51]), [0.98, 1.0, 1.1]
        )
    assert [_read_index(f) for f in frames] == indices
    np.testing.assert_array_equal(frames, sequential_frames(path, backend)[indices])


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


def test_index_is_reused_until_the_file_changes(tmp_path, monkeypatch):
    import keras_video.data.video_reader as video_reader

    monkeypatch.setattr(video_reader, "_INDEX_CACHE", collections.OrderedDict())
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
    assert len(expected) == 115 and _read_index(expected[0]) == 5
    for backend in ("pyav", "opencv"):
        with VideoReader(path, backend=backend) as reader:
            assert reader.num_frames == 115
            indices = [114, 0, 44, 45, 60]
            frames = reader.get_frames(indices)
            np.testing.assert_array_equal(frames, expected[indices])
            assert reader.get_timestamps([0])[0] == pytest.approx(0.0)


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


def test_garbage_file_is_corrupt_with_its_path(tmp_path):
    path = tmp_path / "garbage.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    with pytest.raises(CorruptVideoError, match="garbage.mp4") as info:
        _ = VideoReader(path).num_frames
    assert info.value.path == str(path)


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

# file -> (frames, (height, width) after rotation)
REAL_FILES = {
    "mmaction2_test.mp4": (300, (256, 340)),
    "mmaction2_test.avi": (164, (240, 320)),
    "mmaction2_demo.mp4": (280, (256, 340)),
    "flipping_a_pancake.mkv": (310, (240, 426)),
    "decord_video_0.mov": (3, (320, 568)),
    "decord_video_90.mov": (3, (568, 320)),
    "decord_video_180.mov": (3, (320, 568)),
    "decord_video_270.mov": (3, (568, 320)),
    "decord_unordered.mov": (4, (50, 50)),
    "nasa_13013.mp4": (325, (180, 320)),
    "torchcodec_av1_video.mkv": (125, (360, 640)),
    "torchcodec_h265_video.mp4": (10, (128, 128)),
    "torchcodec_h264_10bits.mp4": (30, (200, 200)),
    "moviepy_bbb_432_433.webm": (24, (720, 1280)),
    "moviepy_transparent_vp9.webm": (150, (200, 200)),
    "moviepy_no_duration_vp9.webm": (74, (720, 1280)),
}
EIGHT_BIT_OPENCV_FILES = [
    name
    for name in REAL_FILES
    if name not in ("torchcodec_av1_video.mkv", "torchcodec_h264_10bits.mp4")
]


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


def test_unordered_mov_timestamps_in_presentation_order(shared_data):
    with VideoReader(videos(shared_data) / "decord_unordered.mov") as reader:
        np.testing.assert_allclose(reader.timestamps, [0, 0.03125, 0.0625, 0.09375])
        np.testing.assert_allclose(reader.get_timestamps([3, 0]), [0.09375, 0])


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


def test_av1_with_opencv_raises_instead_of_returning_nothing(shared_data):
    path = videos(shared_data) / "torchcodec_av1_video.mkv"
    with VideoReader(path, backend="opencv") as reader:
        for indices in ([0, 1], [100]):
            with pytest.raises(VideoDecodeError, match="backend='pyav'") as info:
                reader.get_frames(indices)
            assert "decodes no frames" in str(info.value)
            assert str(path) in str(info.value)


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


def test_out_of_order_timestamps_are_detected(shared_data, monkeypatch):
    """The AVI's container timestamps disagree with the decoder's output order.
    The reader counts frames for AVI up front; without that rule it must notice
    at decode time and still return the frames of a sequential decode."""
    import keras_video.data.video_reader as video_reader

    monkeypatch.setattr(video_reader, "_CONTAINERS_WITHOUT_PTS", ())
    monkeypatch.setattr(video_reader, "_INDEX_CACHE", collections.OrderedDict())
    path = videos(shared_data) / "mmaction2_test.avi"
    indices = [2, 3, 100, 7]
    with VideoReader(path, backend="pyav") as reader:
        frames = reader.get_frames(indices)
    np.testing.assert_array_equal(frames, sequential_frames(path, "pyav")[indices])


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
    with pytest.raises(ValueError, match="first video stream"):
        VideoReader(path, backend="opencv", stream=3).get_frames([0])
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
