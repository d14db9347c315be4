"""Native decoder logs (FFmpeg inside PyAV and OpenCV, OpenCV's own): off by default.

FFmpeg prints lines such as `[h264 @ 0x...] Invalid NAL unit size` for every
damaged packet, while the reader already reports a bad file with its path. They are
silenced when a reader is first used, unless the environment variable
`KERAS_VIDEO_NATIVE_LOGS=1` is set or `set_native_logging(True)` was called.

OpenCV's copy of FFmpeg reads its log level once, when the process opens its first
`cv2.VideoCapture`: switch logs on before that to see its lines.
"""

import os

ENV_VAR = "KERAS_VIDEO_NATIVE_LOGS"

_applied = {"enabled": None}  # None: nothing applied yet


def native_logging_enabled():
    """Whether native logs are on (the switch, else `KERAS_VIDEO_NATIVE_LOGS`)."""
    if _applied["enabled"] is not None:
        return _applied["enabled"]
    return os.environ.get(ENV_VAR, "0").strip().lower() not in ("", "0", "false", "no")


def set_native_logging(enabled):
    """Turns the logs of FFmpeg (PyAV, OpenCV) and OpenCV on or off.

    Args:
        enabled: `True` to let the native libraries print their messages to
            stderr, `False` (the default behaviour) to silence them.

    Example:
    ```python
    import keras_video
    keras_video.data.video.set_native_logging(True)  # see FFmpeg's complaints
    ```
    """
    enabled = bool(enabled)
    import av.logging
    import cv2

    if enabled:
        av.logging.set_level(av.logging.ERROR)
        av.logging.restore_default_callback()  # FFmpeg's own "[h264 @ ...]" lines
        if os.environ.get("OPENCV_FFMPEG_LOGLEVEL") == "-8":
            del os.environ["OPENCV_FFMPEG_LOGLEVEL"]
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_WARNING)
    else:
        av.logging.set_level(None)  # PyAV's default: FFmpeg prints nothing
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
        os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    _applied["enabled"] = enabled


def apply_native_logging():
    """Applies the default (or the environment's) setting once per process."""
    if _applied["enabled"] is None:
        set_native_logging(native_logging_enabled())
