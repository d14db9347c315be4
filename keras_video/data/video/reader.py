"""`VideoReader`: decode exactly the frames a clip needs from one video stream.

How it works:

- **Index.** The first time metadata or frames are needed, the stream's packets are
  scanned (`index.scan`): `num_frames` counts frame packets that decode, never
  header counts. A packet that turns out not to decode raises
  `CorruptVideoError` when it is decoded, so a count is never silently short.
- **Decoders.** A `Decoder` from `backends/` seeks to the keyframe before the
  wanted frames and decodes forward. `get_frames` decodes repeated indices once,
  and `get_clips` decodes the union of several clips in one pass.
- **Backends.** "pyav" reads any video stream and any codec FFmpeg has; it is the
  faster exact path (measured in `benchmarks/decode_clips.py`) and the precise
  one (timestamps, AV1, rotation metadata), so "auto" takes it. "opencv" reads
  the first video stream only. With "auto", a backend that cannot decode a file
  at all gives way to the next one; a corrupt file is reported, not retried.
- **Errors.** Every failure to open or decode is a `VideoDecodeError` naming the
  file (`CorruptVideoError` when the data is broken); bad arguments raise
  `ValueError` / `IndexError`.
- **Threads and processes.** One reader may be shared by threads: a per-reader
  lock serialises its decoding. No decoded frame is kept beyond the request.
  Decoder handles inherited through `fork` are left untouched, never closed in the
  child, and reopened, so a reader made in a parent works in a forked worker;
  pickled readers reopen the file on first use.

Native FFmpeg/OpenCV logs are silenced on first use (see `logs.py`).
"""

import os
import pathlib
import threading
import weakref

import numpy as np

from keras_video.data.errors import CorruptVideoError, VideoDecodeError
from keras_video.data.video import index as index_lib
from keras_video.data.video.backends import AUTO_ORDER, DECODERS
from keras_video.data.video.logs import apply_native_logging

BACKENDS = ("auto", *sorted(DECODERS))

# Readers alive in this process, so a forked child can give each a fresh lock
# (one held by another thread at fork time would stay held in the child).
_readers = weakref.WeakSet()


def _new_locks_after_fork():
    for reader in list(_readers):
        reader._lock = threading.RLock()


os.register_at_fork(after_in_child=_new_locks_after_fork)


class VideoReader:
    """Random access to the frames of one video stream, decoding only what is asked.

    Args:
        path: video file.
        backend: `"auto"` (PyAV; the next backend if PyAV cannot decode the
            file at all), `"opencv"` or `"pyav"`.
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
        self._decoder = None  # made on first use
        self._pid = os.getpid()
        self._closed = False
        self._lock = threading.RLock()
        _readers.add(self)

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
        with self._lock:
            return self._get_decoder().name

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
        with self._lock:
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

            self._decode(wanted, store)
            return outputs

    # ------------------------------------------------------------------ closing

    def close(self):
        """Releases the file and the decoder. Metadata stays available."""
        with self._lock:
            self._drop_decoder()
            self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self._drop_decoder()
        except Exception:
            pass

    def __getstate__(self):
        # Pickled readers (spawned workers) reopen the file on first use.
        state = self.__dict__.copy()
        state["_decoder"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.RLock()
        _readers.add(self)

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

    def _drop_decoder(self):
        """Closes the decoder in the process that made it; abandons it in a fork."""
        decoder, self._decoder = self._decoder, None
        if decoder is None:
            return
        if os.getpid() == self._pid:
            decoder.close()
        else:
            decoder.abandon()

    def _after_fork_check(self):
        if os.getpid() != self._pid:
            self._drop_decoder()
            self._pid = os.getpid()

    def _get_index(self):
        with self._lock:
            if self._index is None:
                apply_native_logging()
                self._after_fork_check()
                key = index_lib.cache_key(self._path, self._requested_stream)
                index = index_lib.cached_index(key)
                container = None
                if index is None:
                    index, container = index_lib.scan(
                        self._path, self._requested_stream, self._num_threads
                    )
                    index_lib.cache_index(key, index)
                self._index = index
                if container is not None:
                    self._hand_over(container)
            return self._index

    def _hand_over(self, container):
        """Gives the scan's open container to the decoder (saves reopening)."""
        try:
            decoder = self._get_decoder()
        except ValueError:  # no backend reads this stream: raised on decode
            container.close()
            return
        except BaseException:
            container.close()
            raise
        decoder.adopt(container)

    def _backend_names(self):
        """Backends to try, in order, for this stream."""
        index = self._index
        default_stream = index.metadata.stream == index.first_video_stream
        if self._requested_backend != "auto":
            name = self._requested_backend
            if DECODERS[name].first_stream_only and not default_stream:
                raise ValueError(
                    f"backend={name!r} reads only the first video stream of "
                    f"{self.path} (stream {index.first_video_stream}); use "
                    f"backend='pyav' or 'auto' for stream {index.metadata.stream}."
                )
            return [name]
        return [
            name
            for name in AUTO_ORDER
            if default_stream or not DECODERS[name].first_stream_only
        ]

    def _get_decoder(self):
        self._get_index()  # a first scan may already make the decoder
        self._after_fork_check()
        if self._decoder is None:
            name = self._backend_names()[0]
            self._decoder = DECODERS[name](self.path, self._index, self._num_threads)
        return self._decoder

    def _decode(self, wanted, store):
        """Decodes the sorted unique frame indices `wanted`, calling `store(i, rgb)`."""
        apply_native_logging()
        self._after_fork_check()
        while True:
            decoder = self._get_decoder()
            try:
                decoder.decode(wanted, store)
                break
            except CorruptVideoError:
                self._keep_corrected_index(decoder)  # e.g. a damage verdict
                raise
            except VideoDecodeError:
                names = self._backend_names()
                if decoder.name not in names[:-1]:
                    raise
                # "auto": this backend cannot read the file; the next one may.
                self._drop_decoder()
                self._decoder = DECODERS[names[names.index(decoder.name) + 1]](
                    self.path, self._index, self._num_threads
                )
            except MemoryError:
                raise
            except Exception as e:  # a library failing in a way not foreseen
                self._drop_decoder()
                raise CorruptVideoError(
                    f"{self.path} did not decode (backend={decoder.name!r}): "
                    f"{type(e).__name__}: {e}",
                    self.path,
                ) from e
        self._keep_corrected_index(decoder)

    def _keep_corrected_index(self, decoder):
        """Keeps (and caches) an index the decoder corrected."""
        if decoder.index is not self._index:
            self._index = decoder.index
            key = index_lib.cache_key(self._path, self._requested_stream)
            index_lib.cache_index(key, self._index)
