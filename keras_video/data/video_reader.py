"""`VideoReader`: decode exactly the frames a clip needs from one video stream.

How it works:

- **Index.** The first time metadata or frames are needed, the stream's packets are
  demuxed with PyAV (no decoding, except the first frame for its size, pixel format
  and rotation). Each packet with data is one frame, except packets an edit list
  discards (a trimmed mp4 keeps the GOP start before its first shown frame):
  `num_frames` is the number of such frame packets, frame `i` is the packet with
  the `i`-th smallest presentation timestamp, and keyframes are the packets the
  container flags as such. Container frame counts and durations are never used
  (files lie: a header that claims 311 frames for 310, a count of -1.38e17). A
  packet that turns out not to decode raises `CorruptVideoError` when it is
  decoded, so a count is never silently short. The index costs a few int64 arrays
  (8 bytes a frame); the last ones read are kept per process (up to a million
  frames' worth), keyed by path, size and modification time, so reopening a video
  does not scan it again.
- **Seek and decode forward.** Wanted frames are decoded in ascending order; a new
  seek is made to the keyframe at or before a wanted frame whenever that keyframe
  lies after the previous wanted frame, otherwise decoding continues forward, also
  from where the previous request stopped. Frames are identified by their
  timestamp, so frames after a seek are exactly the frames of a sequential decode;
  if timestamps come out of order (AVI's packed B-frames) frames are counted from
  the start instead.
- **Decode less (PyAV).** Frames that are not wanted and that no other frame
  references are not decoded at all (FFmpeg `skip_frame="NONREF"`, set per packet),
  and only wanted frames are converted to RGB (both backends). `get_frames` decodes
  repeated indices once, and `get_clips` decodes the union of several clips in one
  pass.
- **Backends.** "opencv" (`cv2.VideoCapture`) reads the first video stream; every
  seek it makes is checked against the index timestamps and, if it lands wrong
  (OpenCV seeks by frame number assuming a constant rate), the reader reads forward
  from the start instead. "pyav" reads any video stream, any codec FFmpeg has (AV1
  included). Both release the GIL while decoding. "auto" uses OpenCV for the first
  video stream and falls back to PyAV, for the rest of the reader's life, as soon
  as OpenCV fails (it opens AV1 and returns no frames; it stops early on a corrupt
  file without an error; a frame has the wrong shape); other streams use PyAV.
  `backend` tells which one is in use.
- **Memory and processes.** No decoded frame is kept beyond the request (the
  decoder's own reorder buffer aside). Decoder handles inherited through `fork`
  (and the RGB converter, whose threads a fork does not copy) are left untouched,
  never closed in the child, and reopened, so a reader made in a parent works in a
  forked worker. A reader is not thread-safe: use one per thread.

Rotation metadata is applied by both backends (a 568x320 stream stored with a
90-degree rotation comes out as (568, 320, 3) frames); 10-bit sources come out as
uint8 RGB.
"""

import bisect
import collections
import dataclasses
import os
import pathlib
import threading

import numpy as np

from keras_video.data.errors import CorruptVideoError, VideoDecodeError

BACKENDS = ("auto", "opencv", "pyav")

# Decoder handles inherited through fork. Closing them in the child could touch
# state (threads, buffers) that belongs to the parent, so they are kept alive here
# and never used again.
_INHERITED_HANDLES = []

# Indexes of recently read streams, keyed by file identity (path, size, mtime), so
# that reopening a video (a tf.data map opens a reader per clip) skips the packet
# scan. Bounded by the frames it holds (16 bytes each at most).
_INDEX_CACHE = collections.OrderedDict()
_INDEX_CACHE_MAX_FRAMES = 1_000_000
_INDEX_CACHE_LOCK = threading.Lock()

# OpenCV seeks by decoding from the keyframe before `frame - 16` (its own margin).
_OPENCV_SEEK_MARGIN = 16

# Containers that store no presentation timestamps (AVI derives them from the
# packet order, wrongly for packed B-frames): frames are counted from the start.
_CONTAINERS_WITHOUT_PTS = ("avi",)


@dataclasses.dataclass(frozen=True)
class VideoMetadata:
    """What one video stream holds, measured rather than read from headers.

    Attributes:
        path: the file.
        stream: container index of the video stream.
        codec: decoder name, e.g. `"h264"`.
        num_frames: frames in the stream (one per frame packet).
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
class _StreamIndex:
    """Packet scan of one stream: timestamps of frames and where keyframes are."""

    metadata: VideoMetadata
    pts: np.ndarray  # (num_frames,) int64, sorted: frame i has timestamp pts[i]
    keyframes: np.ndarray  # (k,) int64 frame indices of keyframes, sorted
    time_base: float
    start_time: int  # stream start in time_base units (what OpenCV subtracts)
    pts_reliable: bool  # False: count frames from the start instead
    first_video_stream: int  # the stream OpenCV reads


class _TimestampsUnreliable(Exception):
    """Decoded frames do not carry the timestamps the packets promised."""


class _OpenCVFailed(Exception):
    """OpenCV stopped early or returned a frame it should not have."""

    def __init__(self, message, decoded_nothing=False):
        super().__init__(message)
        self.decoded_nothing = decoded_nothing


def _import_av():
    try:
        import av
    except ImportError as e:  # pragma: no cover - av is a test dependency
        raise ImportError(
            "VideoReader needs PyAV to index videos: `pip install av`."
        ) from e
    return av


def _rotate(image, rotation):
    """Applies a display rotation (degrees counter-clockwise) to an (h, w, 3) image."""
    turns = int(round(rotation / 90.0)) % 4
    if turns == 0:
        return image
    return np.ascontiguousarray(np.rot90(image, k=turns))


class VideoReader:
    """Random access to the frames of one video stream, decoding only what is asked.

    Args:
        path: video file.
        backend: `"auto"` (OpenCV, falling back to PyAV when OpenCV fails),
            `"opencv"` or `"pyav"`.
        stream: container index of the video stream to read (`nasa_13013.mp4`
            has video streams 0 and 3); `None` reads the first video stream.
            `"opencv"` can only read the first video stream.
        num_threads: decoder threads (0: FFmpeg decides). Keep 1 when clips are
            decoded in parallel by several workers.

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: unknown `backend`, or `stream` is not a video stream.
        CorruptVideoError: the file cannot be opened or has no decodable stream
            (raised when metadata or frames are first asked for).

    Example:
    ```python
    with VideoReader("video.mp4") as reader:
        clip = reader.get_frames(range(0, 32, 2))  # (16, h, w, 3) uint8 RGB
        seconds = reader.get_timestamps(range(0, 32, 2))
    ```
    """

    def __init__(self, path, backend="auto", stream=None, *, num_threads=1):
        if backend not in BACKENDS:
            raise ValueError(
                f"`backend` must be one of {BACKENDS}. Received: backend={backend!r}"
            )
        if stream is not None and (
            isinstance(stream, bool) or not isinstance(stream, (int, np.integer))
        ):
            raise ValueError(
                f"`stream` must be None or a container stream index (int). "
                f"Received: stream={stream!r} for {path}"
            )
        if int(num_threads) < 0:
            raise ValueError(
                f"`num_threads` must be >= 0. Received: num_threads={num_threads}"
            )
        self._path = pathlib.Path(os.fspath(path))
        if not self._path.is_file():
            raise FileNotFoundError(f"Video file not found: {self._path}")
        self._requested_backend = backend
        self._requested_stream = None if stream is None else int(stream)
        self._num_threads = int(num_threads)
        self._index = None
        self._backend = None  # resolved on first use
        self._pid = os.getpid()
        self._container = None  # PyAV handle
        self._capture = None  # OpenCV handle
        self._cursor = None  # PyAV decode position, see `_DecodeCursor`
        self._rgb_reformatter = None
        self._capture_next = 0  # index of the frame the next cv2 grab returns
        self._opencv_seeks_ok = True
        self._closed = False

    # ------------------------------------------------------------------ metadata

    @property
    def path(self):
        """The video file (`str`)."""
        return str(self._path)

    @property
    def metadata(self):
        """`VideoMetadata` of the stream read."""
        return self._get_index().metadata

    @property
    def num_frames(self):
        """Number of frames in the stream (packets scanned, never header counts)."""
        return self.metadata.num_frames

    @property
    def fps(self):
        """Average frame rate (`float`)."""
        return self.metadata.fps

    @property
    def duration(self):
        """Seconds from the first frame's timestamp to the end of the last frame."""
        return self.metadata.duration

    @property
    def height(self):
        """Frame height after rotation."""
        return self.metadata.height

    @property
    def width(self):
        """Frame width after rotation."""
        return self.metadata.width

    @property
    def codec(self):
        """Codec name, e.g. `"h264"`."""
        return self.metadata.codec

    @property
    def stream(self):
        """Container index of the video stream read."""
        return self.metadata.stream

    @property
    def backend(self):
        """The decoder in use: `"opencv"` or `"pyav"` (`"auto"` resolved)."""
        self._resolve_backend()
        return self._backend

    @property
    def timestamps(self):
        """Presentation time of every frame in seconds, `(num_frames,)` float64."""
        index = self._get_index()
        return index.pts.astype(np.float64) * index.time_base

    def get_timestamps(self, indices):
        """Presentation times of some frames.

        Args:
            indices: frame indices, any order.

        Returns:
            `(n,)` float64 seconds, in the order asked.

        Raises:
            IndexError: an index is outside `[0, num_frames)`.
        """
        indices = self._check_indices(indices)
        index = self._get_index()
        return index.pts[indices].astype(np.float64) * index.time_base

    def __len__(self):
        return self.num_frames

    def __repr__(self):
        return (
            f"VideoReader(path={self.path!r}, backend={self._requested_backend!r}, "
            f"stream={self._requested_stream!r})"
        )

    # ------------------------------------------------------------------- frames

    def get_frames(self, indices):
        """Decodes some frames.

        Args:
            indices: frame indices, any order, repeats allowed.

        Returns:
            `(n, height, width, 3)` uint8 RGB, in the order asked.

        Raises:
            IndexError: an index is outside `[0, num_frames)`.
            CorruptVideoError: a frame needed does not decode.
            VideoDecodeError: the chosen backend cannot decode this file.
        """
        return self.get_clips([indices])[0]

    def get_clips(self, clips):
        """Decodes several clips of this video in one pass over the file.

        Frames wanted by more than one clip are decoded once.

        Args:
            clips: list of index lists (each any order, repeats allowed).

        Returns:
            list of `(n_i, height, width, 3)` uint8 RGB arrays, one per clip.

        Raises:
            IndexError: an index is outside `[0, num_frames)`.
            CorruptVideoError: a frame needed does not decode.
            VideoDecodeError: the chosen backend cannot decode this file.
        """
        self._check_open()
        clips = [self._check_indices(c) for c in clips]
        meta = self.metadata
        outputs = [
            np.empty((len(c), meta.height, meta.width, 3), np.uint8) for c in clips
        ]
        where = {}  # frame index -> [(clip, position), ...]
        for ci, clip in enumerate(clips):
            for pos, frame_index in enumerate(clip.tolist()):
                where.setdefault(frame_index, []).append((ci, pos))
        wanted = sorted(where)
        if not wanted:
            return outputs

        def store(frame_index, image):
            for ci, pos in where[frame_index]:
                outputs[ci][pos] = image

        self._decode_into(wanted, store)
        return outputs

    # ------------------------------------------------------------------ closing

    def close(self):
        """Releases the file and the decoder. Metadata stays available."""
        self._drop_handles(close=os.getpid() == self._pid)
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self._drop_handles(close=os.getpid() == self._pid)
        except Exception:
            pass

    def __getstate__(self):
        # Pickled readers (spawned workers) reopen the file on first use.
        state = self.__dict__.copy()
        state["_container"] = None
        state["_capture"] = None
        state["_cursor"] = None
        state["_rgb_reformatter"] = None
        state["_capture_next"] = 0
        return state

    # ---------------------------------------------------------------- internals

    def _check_open(self):
        if self._closed:
            raise ValueError(f"VideoReader for {self.path} is closed.")

    def _check_indices(self, indices):
        array = np.asarray(indices)
        if array.ndim != 1:
            array = array.reshape(-1)
        if array.size and not np.issubdtype(array.dtype, np.integer):
            if not np.all(np.equal(np.mod(array, 1), 0)):
                raise ValueError(
                    f"`indices` must be integers. Received: indices={indices!r} "
                    f"for {self.path}"
                )
        array = array.astype(np.int64)
        n = self.num_frames
        bad = array[(array < 0) | (array >= n)]
        if bad.size:
            raise IndexError(
                f"Frame index {int(bad[0])} is out of range: {self.path} has "
                f"{n} frames (valid indices 0 to {n - 1})."
            )
        return array

    def _drop_handles(self, close):
        handles = [h for h in (self._container, self._capture) if h is not None]
        cursor = self._cursor
        self._container = None
        self._capture = None
        self._cursor = None
        self._capture_next = 0
        if not close:
            _INHERITED_HANDLES.extend(handles + [cursor])
            return
        for handle in handles:
            if hasattr(handle, "release"):
                handle.release()
            else:
                handle.close()

    def _after_fork_check(self):
        if os.getpid() != self._pid:
            self._drop_handles(close=False)
            # The RGB converter may own worker threads, which a fork does not copy.
            _INHERITED_HANDLES.append(self._rgb_reformatter)
            self._rgb_reformatter = None
            self._pid = os.getpid()

    def _get_index(self):
        if self._index is None:
            self._after_fork_check()
            key = self._cache_key()
            with _INDEX_CACHE_LOCK:
                index = _INDEX_CACHE.get(key)
                if index is not None:
                    _INDEX_CACHE.move_to_end(key)
            if index is None:
                index = self._scan()
                self._cache_index(index)
            self._index = index
        return self._index

    def _cache_key(self):
        stat = self._path.stat()
        return (
            str(self._path.resolve()),
            self._requested_stream,
            stat.st_size,
            stat.st_mtime_ns,
        )

    def _cache_index(self, index):
        key = self._cache_key()
        with _INDEX_CACHE_LOCK:
            _INDEX_CACHE[key] = index
            _INDEX_CACHE.move_to_end(key)
            frames = sum(len(i.pts) + len(i.keyframes) for i in _INDEX_CACHE.values())
            while frames > _INDEX_CACHE_MAX_FRAMES and len(_INDEX_CACHE) > 1:
                _, dropped = _INDEX_CACHE.popitem(last=False)
                frames -= len(dropped.pts) + len(dropped.keyframes)

    def _scan(self):
        """Demuxes the stream once: frame timestamps, keyframes, first frame."""
        av = _import_av()
        try:
            container = av.open(self.path)
        except Exception as e:
            raise CorruptVideoError(
                f"Cannot open {self.path} as a video: {e}", self.path
            ) from e
        try:
            index = self._scan_container(av, container)
        except BaseException:
            container.close()
            raise
        stream_for_pyav = index.metadata.stream != index.first_video_stream
        if self._requested_backend == "pyav" or stream_for_pyav:
            # PyAV will decode: keep this container (a seek resets its decoder).
            self._drop_handles(close=True)
            self._container = container
        else:
            container.close()
        return index

    def _scan_container(self, av, container):
        video_streams = [
            s
            for s in container.streams.video
            if not (s.disposition & av.stream.Disposition.attached_pic)
        ]
        if not video_streams:
            raise CorruptVideoError(f"{self.path} has no video stream.", self.path)
        if self._requested_stream is None:
            stream = video_streams[0]
        else:
            matches = [s for s in video_streams if s.index == self._requested_stream]
            if not matches:
                raise ValueError(
                    f"`stream` must be the container index of a video stream of "
                    f"{self.path}: one of {[s.index for s in video_streams]}. "
                    f"Received: stream={self._requested_stream}"
                )
            stream = matches[0]
        stream.codec_context.thread_count = self._num_threads
        if self._num_threads != 1:
            stream.codec_context.thread_type = "AUTO"
        pts, keyframe_pts = [], []
        first = None
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    if first is None:  # flush: frames held back by the decoder
                        first = next(iter(stream.decode(packet)), None)
                    continue
                timestamp = packet.pts if packet.pts is not None else packet.dts
                if timestamp is None:
                    raise CorruptVideoError(
                        f"{self.path}: stream {stream.index} has packets without "
                        "timestamps; it cannot be indexed.",
                        self.path,
                    )
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
                f"Cannot read {self.path} (stream {stream.index}): {e}", self.path
            ) from e
        if not pts or first is None:
            raise CorruptVideoError(
                f"{self.path}: stream {stream.index} has no decodable frame.",
                self.path,
            )
        pts = np.asarray(pts, np.int64)
        order = np.sort(pts)
        keyframes = np.searchsorted(order, np.asarray(keyframe_pts, np.int64))
        keyframes = keyframes[keyframes < len(order)]
        if keyframes.size == 0 or keyframes[0] != 0:
            # The first frame is where decoding starts, flagged or not.
            keyframes = np.concatenate([[0], keyframes])
        keyframes = np.unique(keyframes)
        time_base = float(stream.time_base)
        rate = stream.average_rate or stream.guessed_rate
        n = len(order)
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
            path=self.path,
            stream=stream.index,
            codec=stream.codec_context.codec.canonical_name,
            num_frames=n,
            fps=fps,
            duration=float(duration),
            height=int(height),
            width=int(width),
            rotation=rotation,
            pix_fmt=str(first.format.name),
        )
        format_names = set((container.format.name or "").split(","))
        return _StreamIndex(
            metadata=metadata,
            pts=order,
            keyframes=keyframes.astype(np.int64),
            time_base=time_base,
            start_time=int(stream.start_time or 0),
            pts_reliable=not format_names & set(_CONTAINERS_WITHOUT_PTS),
            first_video_stream=video_streams[0].index,
        )

    def _keyframe_at_or_before(self, frame_index):
        keyframes = self._get_index().keyframes
        return int(keyframes[np.searchsorted(keyframes, frame_index, "right") - 1])

    def _resolve_backend(self):
        if self._backend is not None:
            return
        index = self._get_index()
        requested = self._requested_backend
        default_stream = index.metadata.stream == index.first_video_stream
        if requested == "pyav":
            self._backend = "pyav"
        elif requested == "opencv":
            if not default_stream:
                raise ValueError(
                    f"backend='opencv' reads only the first video stream of "
                    f"{self.path} (stream {index.first_video_stream}); use "
                    f"backend='pyav' or 'auto' for stream {index.metadata.stream}."
                )
            self._backend = "opencv"
        elif not default_stream:
            self._backend = "pyav"
        else:
            self._backend = "opencv"

    def _decode_into(self, wanted, store):
        """Decodes the sorted unique frame indices `wanted`, calling `store(i, rgb)`."""
        self._after_fork_check()
        self._resolve_backend()
        if self._backend == "opencv":
            try:
                self._opencv_decode(wanted, store)
                return
            except _OpenCVFailed as e:
                if self._requested_backend == "opencv":
                    raise self._opencv_error(e) from None
                self._drop_handles(close=True)
                self._backend = "pyav"
        try:
            self._pyav_decode(wanted, store)
        except _TimestampsUnreliable:
            self._index = dataclasses.replace(self._get_index(), pts_reliable=False)
            self._cache_index(self._index)
            self._drop_handles(close=True)
            self._pyav_decode(wanted, store)

    # ------------------------------------------------------------------- PyAV

    def _open_container(self):
        av = _import_av()
        if self._container is None:
            try:
                container = av.open(self.path)
            except Exception as e:
                raise CorruptVideoError(
                    f"Cannot open {self.path} as a video: {e}", self.path
                ) from e
            stream = container.streams[self.metadata.stream]
            stream.codec_context.thread_count = self._num_threads
            if self._num_threads != 1:
                stream.codec_context.thread_type = "AUTO"
            self._container = container
        return self._container, self._container.streams[self.metadata.stream], av

    def _pyav_decode(self, wanted, store):
        index = self._get_index()
        if not index.pts_reliable:
            self._pyav_decode_counting(wanted, store)
            return
        # Segments: one seek each, to the keyframe at or before their first frame.
        segments = []
        for frame_index in wanted:
            keyframe = self._keyframe_at_or_before(frame_index)
            if segments and keyframe <= segments[-1][1][-1]:
                segments[-1][1].append(frame_index)
            else:
                segments.append((keyframe, [frame_index]))
        for keyframe, frames in segments:
            self._pyav_decode_segment(keyframe, frames, store)

    def _pyav_decode_segment(self, keyframe, frames, store):
        """Decodes forward until all of `frames` are out: from where the previous
        request stopped when no keyframe lies in between, else after a seek to
        `keyframe` (or an earlier one if the seek lands late)."""
        cursor = self._cursor
        pts = self._get_index().pts
        if (
            cursor is not None
            and cursor.last_index < frames[0]
            and keyframe <= cursor.last_index + 1
            and not cursor.skipped.intersection(pts[frames].tolist())
        ):
            self._pyav_decode_with(cursor, frames, store)
            return
        keyframes = self._get_index().keyframes.tolist()
        position = bisect.bisect_left(keyframes, keyframe)
        while True:
            # position -1: reopen the file and decode from its very start.
            cursor = self._pyav_seek(keyframes[max(position, 0)], position < 0)
            try:
                self._pyav_decode_with(cursor, frames, store)
                return
            except _SeekLandedLate:
                if position < 0:
                    raise CorruptVideoError(
                        f"{self.path}: frame {frames[0]} did not decode (decoding "
                        "from the start of the stream).",
                        self.path,
                    ) from None
                position -= 1

    def _pyav_seek(self, keyframe, from_start):
        """A fresh `_DecodeCursor` positioned at `keyframe` (or the stream start)."""
        if from_start:
            self._drop_handles(close=True)  # a fresh open decodes from the start
        container, stream, _ = self._open_container()
        if not from_start:
            container.seek(
                int(self._get_index().pts[keyframe]),
                stream=stream,
                backward=True,
                any_frame=False,
            )
        self._cursor = _DecodeCursor(container.demux(stream), stream.codec_context)
        return self._cursor

    def _pyav_decode_with(self, cursor, frames, store):
        """Pulls frames from `cursor` until all of `frames` (sorted) are stored.

        Frames are matched by timestamp: frame `frames[k]` is the decoded frame
        whose timestamp is `pts[frames[k]]`. Timestamps must come out strictly
        increasing, and no wanted one may be passed over; otherwise the container's
        timestamps are not the decoder's order and the caller counts frames instead.
        """
        index = self._get_index()
        av = _import_av()
        rotation = index.metadata.rotation
        wanted_pts = index.pts[frames].tolist()
        wanted = set(wanted_pts)
        to_rgb = self._reformatter(av).reformat
        next_wanted = 0
        target = wanted_pts[0]
        self._cursor = None  # restored below only if the cursor stays consistent
        try:
            while True:
                pending = cursor.pending
                while pending:
                    timestamp = pending[0].pts
                    if timestamp is None or timestamp <= cursor.last_pts:
                        raise _TimestampsUnreliable()
                    if cursor.last_index < 0 and timestamp > wanted_pts[0]:
                        raise _SeekLandedLate()
                    frame = pending.popleft()
                    cursor.last_pts = timestamp
                    cursor.last_index = 0  # any frame out: no longer fresh
                    if timestamp < target:
                        continue
                    if timestamp > target:
                        # A wanted frame was decoded but did not come out under its
                        # timestamp: the labels are out of order (or the decoder
                        # dropped it). Count frames from the start instead; that
                        # raises if the stream really is short.
                        raise _TimestampsUnreliable()
                    image = to_rgb(frame, format="rgb24").to_ndarray()
                    store(frames[next_wanted], _rotate(image, rotation))
                    next_wanted += 1
                    if next_wanted == len(frames):
                        cursor.last_index = frames[-1]
                        cursor.skipped = {t for t in cursor.skipped if t > timestamp}
                        self._cursor = cursor
                        return
                    target = wanted_pts[next_wanted]
                packet = next(cursor.packets, None)
                if packet is None:
                    break
                skip = False
                if packet.size:
                    timestamp = packet.pts if packet.pts is not None else packet.dts
                    if timestamp not in wanted:
                        skip = True
                        cursor.skipped.add(timestamp)
                if skip != cursor.skipping:
                    cursor.codec.skip_frame = "NONREF" if skip else "DEFAULT"
                    cursor.skipping = skip
                pending.extend(cursor.codec.decode(packet))
        except av.FFmpegError as e:
            self._drop_handles(close=True)
            raise CorruptVideoError(
                f"{self.path} is corrupt: decoding failed before frame "
                f"{frames[next_wanted]} ({e}).",
                self.path,
            ) from e
        self._drop_handles(close=True)
        raise CorruptVideoError(
            f"{self.path}: the stream ended before frame {frames[next_wanted]} "
            f"(index has {index.metadata.num_frames} frames); the file is truncated "
            "or corrupt.",
            self.path,
        )

    def _reformatter(self, av):
        """One `VideoReformatter` per reader: its conversion context is reused
        (a fresh one per frame, as `frame.to_ndarray` makes, costs more than the
        conversion itself)."""
        if self._rgb_reformatter is None:
            self._rgb_reformatter = av.video.reformatter.VideoReformatter()
        return self._rgb_reformatter

    def _pyav_decode_counting(self, wanted, store):
        """Decodes from the start, numbering frames in output order (no seeks)."""
        self._drop_handles(close=True)
        container, stream, av = self._open_container()
        rotation = self.metadata.rotation
        to_rgb = self._reformatter(av).reformat
        position = 0
        next_wanted = 0
        try:
            for frame in container.decode(stream):
                if position == wanted[next_wanted]:
                    image = to_rgb(frame, format="rgb24").to_ndarray()
                    store(position, _rotate(image, rotation))
                    next_wanted += 1
                    if next_wanted == len(wanted):
                        return
                position += 1
        except av.FFmpegError as e:
            raise CorruptVideoError(
                f"{self.path} is corrupt: decoding failed at frame {position} ({e}).",
                self.path,
            ) from e
        finally:
            self._drop_handles(close=True)
        raise CorruptVideoError(
            f"{self.path}: the stream ended after {position} frames, before frame "
            f"{wanted[next_wanted]}; the file is truncated or corrupt.",
            self.path,
        )

    # ----------------------------------------------------------------- OpenCV

    def _open_capture(self):
        import cv2

        if self._capture is None:
            params = []
            if self._num_threads:
                params = [cv2.CAP_PROP_N_THREADS, self._num_threads]
            capture = cv2.VideoCapture(self.path, cv2.CAP_FFMPEG, params)
            if not capture.isOpened():
                raise _OpenCVFailed("OpenCV cannot open the file", True)
            self._capture = capture
            self._capture_next = 0
        return self._capture

    def _opencv_decode(self, wanted, store):
        import cv2

        index = self._get_index()
        meta = index.metadata
        seekable = self._opencv_seeks_ok and index.pts_reliable
        half_frame = 0.5 / meta.fps if meta.fps else 1e-3
        capture = self._open_capture()
        for frame_index in wanted:
            position = self._capture_next
            seek_lands = self._keyframe_at_or_before(
                max(frame_index - _OPENCV_SEEK_MARGIN, 0)
            )
            if frame_index < position or (seekable and seek_lands > position):
                if seekable:
                    capture.set(cv2.CAP_PROP_POS_FRAMES, frame_index)
                    position = frame_index
                    seeked = True
                else:  # read forward from the start
                    self._drop_handles(close=True)
                    capture = self._open_capture()
                    position = 0
                    seeked = False
            else:
                seeked = False
            while position < frame_index:
                if not capture.grab():
                    raise _OpenCVFailed(f"OpenCV stopped after frame {position - 1}")
                position += 1
            if not capture.grab():
                raise _OpenCVFailed(
                    f"OpenCV returned no frame {frame_index}"
                    + ("" if seeked else f" (it stopped after frame {position - 1})"),
                    decoded_nothing=position == 0 and not seeked,
                )
            self._capture_next = position + 1
            if seeked:
                seconds = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
                expected = (index.pts[frame_index] - index.start_time) * index.time_base
                if abs(seconds - expected) > half_frame:
                    # OpenCV's frame-number seek landed wrong: read forward instead.
                    self._opencv_seeks_ok = False
                    self._drop_handles(close=True)
                    self._opencv_decode(wanted[wanted.index(frame_index) :], store)
                    return
            ok, image = capture.retrieve()
            if not ok or image is None or image.shape != (meta.height, meta.width, 3):
                raise _OpenCVFailed(
                    f"OpenCV returned frame {frame_index} with shape "
                    f"{None if image is None else image.shape}, expected "
                    f"{(meta.height, meta.width, 3)}"
                )
            store(frame_index, cv2.cvtColor(image, cv2.COLOR_BGR2RGB))

    def _opencv_error(self, error):
        """The error for an OpenCV failure with backend="opencv"."""
        self._drop_handles(close=True)
        decoded_nothing = error.decoded_nothing
        if not decoded_nothing:  # does OpenCV decode even the first frame?
            try:
                self._open_capture()
                decoded_nothing = not self._capture.grab()
            except _OpenCVFailed:
                decoded_nothing = True
            self._drop_handles(close=True)
        if decoded_nothing:
            return VideoDecodeError(
                f"OpenCV decodes no frames of {self.path} (codec {self.codec}); "
                "use backend='pyav' or 'auto'.",
                self.path,
            )
        return CorruptVideoError(
            f"{self.path} did not decode with OpenCV: {error}. The file is corrupt "
            "or OpenCV cannot decode it; backend='pyav' reports the exact error.",
            self.path,
        )


class _DecodeCursor:
    """Where a PyAV decode pass stands, kept between requests to read forward.

    Holds at most the frames the decoder already returned (its reorder depth).
    """

    def __init__(self, packets, codec):
        self.packets = packets  # demux iterator of the stream
        self.codec = codec
        self.pending = collections.deque()  # decoded, not yet looked at
        self.last_pts = float("-inf")  # timestamp of the last frame looked at
        self.last_index = -1  # -1: nothing out yet; else last wanted frame stored
        self.skipped = set()  # timestamps after last_pts whose packet was skipped
        self.skipping = None  # skip_frame is "NONREF" (True) or "DEFAULT" (False)


class _SeekLandedLate(Exception):
    """The first frame after a seek comes after the first wanted frame."""
