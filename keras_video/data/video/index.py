"""The packet scan of one video stream: frame timestamps, keyframes, metadata.

The stream's packets are demuxed with PyAV (no decoding, except the first frame for
its size, pixel format and rotation). Each packet with data is one frame, except
packets an edit list discards (a trimmed mp4 keeps the GOP start before its first
shown frame): frame `i` is the packet with the `i`-th smallest presentation
timestamp, and keyframes are the packets the container flags as such. Container
frame counts and durations are never used (files lie: a header that claims 311
frames for 310, a count of -1.38e17).

A file cut short (an mp4 whose index sits at the front, truncated in its data)
still lists its cut-off packet; the demuxer flags it as corrupt. Such a packet
ends the stream for the decoders (they flush instead of decoding it). When the
scan sees one, or a packet reaching past the end of the file, the last GOP is
decoded once that way and frames that do not come out are dropped from the
index, so every counted frame decodes. Healthy files pay nothing for this check.

The index costs a few int64 arrays (8 bytes a frame). The last ones read are kept
per process (up to a million frames' worth), keyed by path, stream, size and
modification time, so reopening a video does not scan it again.
"""

import collections
import dataclasses
import os
import pathlib
import threading

import numpy as np

from keras_video.data.errors import CorruptVideoError, VideoDecodeError

# Containers that store no presentation timestamps (AVI derives them from the
# packet order, wrongly for packed B-frames): frames are counted from the start.
CONTAINERS_WITHOUT_PTS = ("avi",)

# Bound of the per-process index cache, in frames (16 bytes each at most).
INDEX_CACHE_MAX_FRAMES = 1_000_000

_cache = collections.OrderedDict()
_cache_lock = threading.Lock()


def _reset_cache_lock():
    # A lock held by another thread at fork time would stay held in the child.
    global _cache_lock
    _cache_lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_cache_lock)


@dataclasses.dataclass(frozen=True)
class VideoMetadata:
    """What one video stream holds, measured rather than read from headers.

    Attributes:
        path: the file.
        stream: container index of the video stream.
        codec: decoder name, e.g. `"h264"`.
        num_frames: frames in the stream (one per frame packet that decodes).
        fps: average frame rate.
        duration: seconds from the first frame's timestamp to the end of the last.
        height: frame height after rotation metadata is applied.
        width: frame width after rotation metadata is applied.
        rotation: counter-clockwise rotation applied to stored frames, in degrees.
        pix_fmt: stored pixel format, e.g. `"yuv420p10le"` (frames come out RGB).
    """

    path: str
    stream: int
    codec: str
    num_frames: int
    fps: float
    duration: float
    height: int
    width: int
    rotation: int
    pix_fmt: str


@dataclasses.dataclass(frozen=True)
class StreamIndex:
    """Packet scan of one stream: timestamps of frames and where keyframes are.

    Attributes:
        metadata: `VideoMetadata`.
        pts: `(num_frames,)` int64, sorted: frame `i` has timestamp `pts[i]`.
        keyframes: `(k,)` int64 frame indices of keyframes, sorted, starting at 0.
        time_base: seconds per timestamp unit.
        start_time: stream start in `time_base` units (what OpenCV subtracts).
        pts_reliable: False where frames must be counted from the start instead.
        first_video_stream: container index of the first video stream (the one
            OpenCV reads).
        damaged: the decoder flagged damaged frames and a full decode showed the
            frames still come out in timestamp order: decode sequentially (no
            seeks), so concealed frames never depend on the access pattern.
        damage_error: set when the damage makes the frames unnumberable (a
            full decode does not give the indexed timestamps in order): every
            decode raises `CorruptVideoError` with this message.
    """

    metadata: VideoMetadata
    pts: np.ndarray
    keyframes: np.ndarray
    time_base: float
    start_time: int
    pts_reliable: bool
    first_video_stream: int
    damaged: bool = False
    damage_error: str | None = None

    def keyframe_at_or_before(self, frame_index):
        """Index of the last keyframe at or before `frame_index` (`int`)."""
        position = np.searchsorted(self.keyframes, frame_index, "right") - 1
        return int(self.keyframes[position])


def import_av():
    """PyAV, or an ImportError that says how to install it."""
    try:
        import av
    except ImportError as e:  # pragma: no cover - av is a dependency
        raise ImportError(
            "keras-video needs PyAV to read videos: `pip install av`."
        ) from e
    return av


def open_container(path):
    """`av.open(path)`, raising `CorruptVideoError` naming the file on failure."""
    av = import_av()
    try:
        return av.open(str(path))
    except Exception as e:
        raise CorruptVideoError(f"Cannot open {path} as a video: {e}", path) from e


def cache_key(path, stream):
    """Identity of a stream's index: resolved path, stream, size, mtime."""
    path = pathlib.Path(path)
    stat = path.stat()
    return (str(path.resolve()), stream, stat.st_size, stat.st_mtime_ns)


def cached_index(key):
    """The cached `StreamIndex` for `key`, or None."""
    with _cache_lock:
        index = _cache.get(key)
        if index is not None:
            _cache.move_to_end(key)
    return index


def cache_index(key, index):
    """Keeps `index` under `key`, dropping the oldest beyond the frame bound."""
    with _cache_lock:
        _cache[key] = index
        _cache.move_to_end(key)
        frames = sum(len(i.pts) + len(i.keyframes) for i in _cache.values())
        while frames > INDEX_CACHE_MAX_FRAMES and len(_cache) > 1:
            _, dropped = _cache.popitem(last=False)
            frames -= len(dropped.pts) + len(dropped.keyframes)


def clear_index_cache():
    """Forgets every cached index (tests, or files rewritten within one mtime tick)."""
    with _cache_lock:
        _cache.clear()


def scan(path, stream=None, num_threads=1):
    """Demuxes one video stream of `path` once.

    Args:
        path: video file.
        stream: container index of the video stream, or None for the first.
        num_threads: decoder threads set on the returned container's stream.

    Returns:
        `(StreamIndex, container)`: the open PyAV container is the caller's to
        use (a decoder can adopt it) or close.

    Raises:
        ValueError: `stream` is not a video stream of the file.
        CorruptVideoError: the file does not open or the stream does not decode.
    """
    path = str(path)
    container = open_container(path)
    try:
        video_streams = _video_streams(path, container)
        if stream is not None and stream not in [s.index for s in video_streams]:
            raise ValueError(
                f"`stream` must be the container index of a video stream of "
                f"{path}: one of {[s.index for s in video_streams]}. "
                f"Received: stream={stream}"
            )
        try:
            index = _scan_stream(path, container, video_streams, stream, num_threads)
        except (VideoDecodeError, MemoryError):
            raise
        except Exception as e:  # PyAV errors, or attributes missing on odd streams
            raise CorruptVideoError(
                f"Cannot index {path} (stream {stream}): {type(e).__name__}: {e}",
                path,
            ) from e
    except BaseException:
        container.close()
        raise
    return index, container


def _video_streams(path, container):
    av = import_av()
    try:
        streams = [
            s
            for s in container.streams.video
            if not (s.disposition & av.stream.Disposition.attached_pic)
        ]
    except Exception as e:
        raise CorruptVideoError(f"Cannot list the streams of {path}: {e}", path) from e
    if not streams:
        raise CorruptVideoError(f"{path} has no video stream.", path)
    return streams


def _scan_stream(path, container, video_streams, stream_index, num_threads):
    av = import_av()
    if stream_index is None:
        stream = video_streams[0]
    else:
        stream = next(s for s in video_streams if s.index == stream_index)
    codec_context = stream.codec_context
    if codec_context is None:
        raise CorruptVideoError(
            f"{path}: stream {stream.index} has no decoder (FFmpeg does not "
            "know its codec); it cannot be read.",
            path,
        )
    codec_context.thread_count = num_threads
    if num_threads != 1:
        codec_context.thread_type = "AUTO"
    pts, keyframe_pts = [], []
    first = None
    truncated = False
    end_of_file = os.path.getsize(path)
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                if first is None:  # flush: frames held back by the decoder
                    first = next(iter(stream.decode(packet)), None)
                continue
            timestamp = packet.pts if packet.pts is not None else packet.dts
            if timestamp is None:
                raise CorruptVideoError(
                    f"{path}: stream {stream.index} has packets without "
                    "timestamps; it cannot be indexed.",
                    path,
                )
            if packet.is_corrupt or (
                packet.pos is not None and packet.pos + packet.size > end_of_file
            ):
                truncated = True
            if not packet.is_discard:  # before an edit list's start: no frame
                pts.append(timestamp)
            if packet.is_keyframe:
                keyframe_pts.append(timestamp)
            if first is None:
                frames = stream.decode(packet)
                if frames:
                    first = frames[0]
    except av.FFmpegError as e:
        raise CorruptVideoError(
            f"Cannot read {path} (stream {stream.index}): {e}", path
        ) from e
    if not pts or first is None:
        raise CorruptVideoError(
            f"{path}: stream {stream.index} has no decodable frame.", path
        )
    order = np.sort(np.asarray(pts, np.int64))
    keyframes = _keyframe_indices(order, keyframe_pts)
    format_names = set((container.format.name or "").split(","))
    # Two frames with one timestamp (damaged files) cannot be told apart by
    # timestamp: number frames in decode output order instead.
    pts_reliable = not format_names & set(CONTAINERS_WITHOUT_PTS) and bool(
        np.all(np.diff(order) > 0)
    )
    if truncated and pts_reliable:
        order = _frames_that_decode(container, stream, order, keyframes)
        keyframes = keyframes[keyframes < len(order)]
        if not len(order):
            raise CorruptVideoError(
                f"{path}: stream {stream.index} is truncated before its first frame.",
                path,
            )
    time_base = float(stream.time_base)
    n = len(order)
    rate = stream.average_rate or stream.guessed_rate
    if rate and float(rate) > 0:
        fps = float(rate)
    elif n > 1 and order[-1] > order[0]:
        fps = (n - 1) / ((order[-1] - order[0]) * time_base)
    else:
        fps = 0.0
    duration = (order[-1] - order[0]) * time_base + (1.0 / fps if fps else 0.0)
    rotation = int(first.rotation or 0)
    height, width = first.height, first.width
    if int(round(rotation / 90.0)) % 2:
        height, width = width, height
    metadata = VideoMetadata(
        path=path,
        stream=stream.index,
        codec=codec_context.codec.canonical_name,
        num_frames=n,
        fps=fps,
        duration=float(duration),
        height=int(height),
        width=int(width),
        rotation=rotation,
        pix_fmt=str(first.format.name),
    )
    return StreamIndex(
        metadata=metadata,
        pts=order,
        keyframes=keyframes,
        time_base=time_base,
        start_time=int(stream.start_time or 0),
        pts_reliable=pts_reliable,
        first_video_stream=video_streams[0].index,
    )


def _keyframe_indices(order, keyframe_pts):
    keyframes = np.searchsorted(order, np.asarray(keyframe_pts, np.int64))
    keyframes = keyframes[keyframes < len(order)]
    if keyframes.size == 0 or keyframes[0] != 0:
        # The first frame is where decoding starts, flagged or not.
        keyframes = np.concatenate([[0], keyframes])
    return np.unique(keyframes).astype(np.int64)


def _frames_that_decode(container, stream, order, keyframes):
    """Decodes from the last keyframe to the end as a reader does (a packet the
    demuxer flags as cut short ends the stream) and keeps the tail frames that
    come out."""
    av = import_av()
    start = int(keyframes[-1])
    container.seek(int(order[start]), stream=stream, backward=True, any_frame=False)
    codec = stream.codec_context
    codec.skip_frame = "DEFAULT"
    out = set()
    try:
        for packet in container.demux(stream):
            if packet.is_corrupt:
                packet = None  # flush: the frames before it come out
            out.update(frame.pts for frame in codec.decode(packet))
            if packet is None:
                break
    except av.FFmpegError:
        pass  # frames after a packet that does not decode do not come out
    tail = order[start:]
    kept = tail[np.isin(tail, np.fromiter(out - {None}, np.int64))]
    return np.concatenate([order[:start], kept]).astype(np.int64)
