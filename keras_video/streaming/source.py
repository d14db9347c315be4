"""Frame sources for live prediction, with a bounded buffer that drops frames.

`FrameSource` reads frames in a background thread from a camera index, a
video file (played at its own frame rate: frame `i` is released at
`i / fps` seconds after the start) or a network stream URL (`rtsp://`,
`http://`, `udp://`, `tcp://`, ...; OpenCV's FFmpeg backend). It keeps only
the newest frames (`buffer` of them, default 1): when the consumer is slower
than the source, older frames are overwritten and counted in `dropped`, so
the frame a consumer gets is never more than `buffer` frames old and memory
never grows.

```python
with FrameSource("rtsp://camera/stream") as source:
    while (item := source.read()) is not None:
        frame, captured = item  # RGB uint8 (h, w, 3), time.monotonic() of capture
```
"""

import collections
import os
import threading
import time

import numpy as np

URL_SCHEMES = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "tcp://",
               "srt://")  # fmt: skip


def source_kind(source):
    """`"camera"`, `"url"` or `"file"` for a `--stream` argument."""
    if isinstance(source, int) or (isinstance(source, str) and source.isdigit()):
        return "camera"
    if isinstance(source, str) and source.lower().startswith(URL_SCHEMES):
        return "url"
    if not os.path.isfile(source):
        raise FileNotFoundError(
            f"A stream source is a camera index, a URL ({', '.join(URL_SCHEMES)}) "
            f"or a video file. Received: source={source!r} (no such file)"
        )
    return "file"


class FrameSource:
    """Frames of a live or paced source, newest first, dropping the rest.

    Args:
        source: camera index (int or digits), URL, or video file path.
        buffer: frames kept for the consumer; older ones are dropped.
        realtime: pace a file at its frame rate (`True`), or read it as fast as
            the consumer takes frames (`False`: nothing is dropped).
        open_timeout: seconds to wait for the first frame.

    Attributes:
        fps: the source's frame rate (0 when unknown).
        produced: frames read from the source.
        dropped: frames overwritten before a consumer took them.
    """

    def __init__(self, source, buffer=1, realtime=True, open_timeout=10.0):
        self.kind = source_kind(source)
        self.source = int(source) if self.kind == "camera" else source
        if isinstance(buffer, bool) or not isinstance(buffer, int) or buffer < 1:
            raise ValueError(f"`buffer` must be a positive integer. Received: {buffer}")
        self.buffer = buffer
        self.realtime = realtime
        self.open_timeout = open_timeout
        self.produced = 0
        self.dropped = 0
        self.fps = 0.0
        self._frames = collections.deque()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._done = False
        self._error = None
        self._thread = None

    # ------------------------------------------------------------- producing

    def _open(self):
        import cv2

        if self.kind == "camera":
            capture = cv2.VideoCapture(self.source)
        else:
            capture = cv2.VideoCapture(self.source, cv2.CAP_FFMPEG)
        if not capture.isOpened():
            raise OSError(f"Cannot open stream source {self.source!r}")
        self.fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        return capture

    def _put(self, frame, captured):
        with self._cond:
            if self.realtime or self.kind != "file":
                while len(self._frames) >= self.buffer:
                    self._frames.popleft()
                    self.dropped += 1
            else:
                while len(self._frames) >= self.buffer and not self._stop.is_set():
                    self._cond.wait(0.1)
            self._frames.append((frame, captured))
            self.produced += 1
            self._cond.notify_all()

    def _run(self):
        import cv2

        try:
            capture = self._open()
            start = time.monotonic()
            period = 1.0 / self.fps if self.kind == "file" and self.fps > 0 else 0.0
            while not self._stop.is_set():
                if self.realtime and period:
                    delay = start + self.produced * period - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                ok, bgr = capture.read()
                if not ok:
                    break
                self._put(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), time.monotonic())
            capture.release()
        except Exception as error:  # noqa: BLE001 - handed to the consumer
            self._error = error
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    # ------------------------------------------------------------- consuming

    def start(self):
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"frames {self.source}")  # fmt: skip
        self._thread.start()
        return self

    def read(self, timeout=None):
        """The oldest kept frame `(rgb, captured_time)`, waiting for one;
        `None` at the end of the source.

        Raises:
            OSError: the source could not be opened or read (named).
        """
        timeout = (
            self.open_timeout if timeout is None and not self.produced else timeout
        )
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._frames and not self._done:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise OSError(f"No frame from {self.source!r} within {timeout:g} s")
                self._cond.wait(left if left is None else min(left, 0.5))
            if self._frames:
                item = self._frames.popleft()
                self._cond.notify_all()
                return item
        if self._error is not None:
            raise OSError(f"Stream source {self.source!r} failed: {self._error}")
        return None

    def stop(self):
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def center_crop_resize(frame, size):
    """`(h, w, 3)` uint8 -> `size` `(height, width)`: resize the short side
    to cover `size`, then crop the centre (float32 in [0, 255])."""
    import cv2

    height, width = size
    h, w = frame.shape[:2]
    scale = max(height / h, width / w)
    new_size = (max(width, round(w * scale)), max(height, round(h * scale)))
    resized = cv2.resize(frame, new_size, interpolation=cv2.INTER_AREA)
    top = (resized.shape[0] - height) // 2
    left = (resized.shape[1] - width) // 2
    return resized[top : top + height, left : left + width].astype(np.float32)
