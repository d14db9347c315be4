"""`ClipLoader`: one video's clips as uint8 arrays, with the bad-file policy.

This is the body of the pipeline's decode map (it runs in a
`tf.numpy_function`, so it is plain NumPy and pickles into workers): it opens
the video, asks `ClipSettings` for the clips' frame indices, decodes them in
one pass (`VideoReader.get_clips`) and shrinks large frames. A file that fails
is raised as a `VideoDecodeError` naming it, or (`on_error="skip"`) recorded in
`SkippedFiles` and reported as not ok, so the pipeline drops it: no other
frames are put in its place. A read that does not return within
`decode_timeout` seconds (a native decoder looping on a malformed stream) is
a `DecodeTimeoutError`: the run goes on, the stuck decode is left to its
thread (it holds only its own file).
"""

import logging
import threading

import numpy as np

from keras_video.data import probe
from keras_video.data.errors import DecodeTimeoutError, VideoDecodeError
from keras_video.data.flow_source import FlowSource, check_modality
from keras_video.data.video import VideoReader

logger = logging.getLogger("keras_video.data")

ON_ERROR = ("raise", "skip")
# Seconds a video's clips may take to decode before the file counts as bad.
DEFAULT_DECODE_TIMEOUT = 120.0


class SkippedFiles:
    """The bad files a dataset skipped (`on_error="skip"`), thread-safe.

    Attributes:
        files: dict path -> error message, every file skipped so far.
        count: number of skip events (a file skipped in two epochs counts twice).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.files = {}
        self.count = 0
        self._epoch = []

    def record(self, path, error):
        with self._lock:
            self.files[path] = f"{type(error).__name__}: {error}"
            self.count += 1
            self._epoch.append(path)

    def end_epoch(self):
        """Logs one line naming the files skipped since the last call; returns them."""
        with self._lock:
            skipped, self._epoch = self._epoch, []
        if skipped:
            logger.warning(
                "keras_video: skipped %d bad video file(s) this epoch: %s",
                len(skipped),
                "; ".join(
                    f"{path} ({self.files[path]})" for path in sorted(set(skipped))
                ),
            )
        return skipped

    def __len__(self):
        return len(self.files)

    def __repr__(self):
        return f"SkippedFiles({sorted(self.files)})"

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()


def check_on_error(on_error, decode_timeout=None):
    """Checks the bad-file arguments `on_error` and `decode_timeout`."""
    if on_error not in ON_ERROR:
        raise ValueError(
            f"`on_error` must be one of {ON_ERROR}. Received: on_error={on_error!r}"
        )
    if decode_timeout is not None and (
        isinstance(decode_timeout, bool) or not decode_timeout > 0
    ):
        raise ValueError(
            "`decode_timeout` must be a positive number of seconds or None. "
            f"Received: decode_timeout={decode_timeout!r}"
        )


def call_with_timeout(function, timeout, path):
    """`function()`, or `DecodeTimeoutError` naming `path` after `timeout` s.

    The call runs in a daemon thread; on a timeout the thread is abandoned.
    """
    if timeout is None:
        return function()
    outcome = {}
    done = threading.Event()

    def run():
        try:
            outcome["value"] = function()
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=run, daemon=True, name=f"decode {path}").start()
    if not done.wait(timeout):
        raise DecodeTimeoutError(
            f"Decoding {path} did not finish within {timeout:g} s; the file is "
            "treated as bad (decode_timeout).",
            path,
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def frame_range(num_frames, fps, segment, path):
    """`[first, last)` frames of a segment `(start, end)` in seconds (NaN: open).

    Frames `floor(start * fps)` to `ceil(end * fps) - 1`.
    """
    if segment is None or np.all(np.isnan(segment)):
        return 0, num_frames
    start, end = (float(v) for v in segment)
    first = 0 if np.isnan(start) else int(np.floor(start * fps + 1e-6))
    last = (
        num_frames if np.isnan(end) else min(num_frames, int(np.ceil(end * fps - 1e-6)))
    )
    if first >= last:
        raise ValueError(
            f"Segment start={start}, end={end} s is outside {path} "
            f"({num_frames} frames at {fps:g} fps)."
        )
    return first, last


def shrink(frames, max_short_side):
    """Frames whose short side is over twice `max_short_side` are resized to it.

    OpenCV `INTER_AREA` averages (no aliasing); the TF crop-and-resize after it
    then samples a window at most 2x its output.
    """
    h, w = frames.shape[1:3]
    if max_short_side is None or min(h, w) <= 2 * max_short_side:
        return frames
    import cv2

    scale = max_short_side / min(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])


def channels_of(modality):
    """Channels of a decoded clip: RGB 3, flow 2 (x, y), RGB and flow 5."""
    return {"rgb": 3, "flow": 2, "stacked_flow": 2, "rgb+flow": 5}[modality]


class ClipLoader:
    """Loads the clips of one video per call.

    Args:
        settings: `ClipSettings`.
        sampling: `"random"` or `"uniform"` clip positions.
        max_short_side: frames with a larger short side are shrunk right after
            decoding (see `shrink`); `None` keeps them.
        backend: `VideoReader` backend.
        on_error: `"raise"` or `"skip"`.
        decode_timeout: seconds one video's clips may take, or `None`.
        modality: `"rgb"`, `"flow"`, `"stacked_flow"` or `"rgb+flow"`
            (`flow_source.MODALITIES`).
        flow: a `FlowSource` for the flow modalities.

    Attributes:
        skipped: the `SkippedFiles` of this loader.
        dtype: of the clips: uint8 RGB, float32 with flow (RGB in [0, 255],
            flow in pixels, RGB channels first).
    """

    def __init__(
        self, settings, sampling, max_short_side, backend, on_error,
        decode_timeout=DEFAULT_DECODE_TIMEOUT, modality="rgb", flow=None,
    ):  # fmt: skip
        check_on_error(on_error, decode_timeout)
        check_modality(modality)
        self.settings = settings
        self.sampling = sampling
        self.max_short_side = max_short_side
        self.backend = backend
        self.on_error = on_error
        self.decode_timeout = decode_timeout
        self.modality = modality
        self.flow = FlowSource() if flow is None else flow
        self.dtype = np.uint8 if modality == "rgb" else np.float32
        self.skipped = SkippedFiles()

    def read(self, path, seed=None, segment=None):
        """`(num_clips, clip_length, h, w, channels)` clips of `path`.

        Raises:
            VideoDecodeError (or a subclass): the file cannot give the clips;
                the message names it.
        """
        try:
            probe.seed_index(path)  # the data set's probe manifest, if any
            with VideoReader(path, backend=self.backend) as reader:
                return self._read(reader, path, seed, segment)
        except VideoDecodeError:
            raise
        except Exception as error:  # noqa: BLE001 - re-raised naming the file
            raise VideoDecodeError(
                f"Could not read a clip from {path}: {type(error).__name__}: {error}",
                path,
            ) from error

    def _read(self, reader, path, seed, segment):
        n = reader.num_frames
        if self.modality != "rgb":  # a clip of flow fields: n - 1 of them
            n = self.flow.num_fields(path, n)
            if n < 1:
                raise VideoDecodeError(f"{path} has no flow field (one frame).", path)
        first, last = frame_range(n, reader.fps, segment, path)
        indices = first + self.settings.clip_indices(
            last - first, reader.fps, seed, self.sampling, path
        )

        def cap(frames):
            return shrink(frames, self.max_short_side)

        rgb = None
        if self.modality in ("rgb", "rgb+flow"):
            rgb = np.stack([cap(c) for c in reader.get_clips(list(indices))])
            if self.modality == "rgb":
                return rgb
        flow = self.flow.fields(path, reader, indices, shrink=cap)
        if rgb is None:
            return flow
        if flow.shape[2:4] != rgb.shape[2:4]:  # flow stored at another size
            import cv2

            size = (rgb.shape[3], rgb.shape[2])
            flat = flow.reshape(-1, *flow.shape[2:])
            flow = np.stack([cv2.resize(f, size) for f in flat]).reshape(
                *rgb.shape[:4], 2
            )
        return np.concatenate([rgb.astype(np.float32), flow], axis=-1)

    def __call__(self, path, seed, segment=None):
        """The decode map's body: `(clips, ok)`; a skipped file gives a dummy."""
        path = path.decode() if isinstance(path, bytes) else str(path)
        try:
            clips = call_with_timeout(
                lambda: self.read(path, seed, segment), self.decode_timeout, path
            )
            return clips.astype(self.dtype, copy=False), np.bool_(True)
        except VideoDecodeError as error:
            if self.on_error == "raise":
                raise
            self.skipped.record(path, error)
            shape = (
                self.settings.num_clips,
                self.settings.clip_length,
                1,
                1,
                channels_of(self.modality),
            )
            return np.zeros(shape, self.dtype), np.bool_(False)
