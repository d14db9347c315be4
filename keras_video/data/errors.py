"""Errors raised when a video file cannot be decoded."""


class VideoDecodeError(RuntimeError):
    """A video file (or one of its frames) could not be decoded.

    Args:
        message: what went wrong; it names the file.
        path: the file, kept as `error.path` so callers can log or skip it.
    """

    def __init__(self, message, path=None):
        super().__init__(message)
        self.path = None if path is None else str(path)


class CorruptVideoError(VideoDecodeError):
    """The file is unreadable or broken: it does not decode to its frames.

    Raised instead of returning a short, empty or wrong clip.
    """


class DecodeTimeoutError(VideoDecodeError):
    """Decoding a file did not finish in time (a native decoder loop that does
    not return on a malformed stream); the file is reported as bad."""
