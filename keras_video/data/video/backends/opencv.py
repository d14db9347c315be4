"""`OpenCVDecoder`: `cv2.VideoCapture` with every seek checked against the index.

OpenCV seeks by frame number assuming a constant rate, and some seeks return
nothing (a webm whose frame-count property is -1.4e17). Every seek is checked
against the index timestamps; one that lands wrong or returns nothing makes the
decoder read forward from the start instead, for the rest of its life. OpenCV
reads only the first video stream, and applies rotation metadata itself.
"""

from keras_video.data.errors import CorruptVideoError, VideoDecodeError
from keras_video.data.video.decoder import Decoder

# OpenCV seeks by decoding from the keyframe before `frame - 16` (its own margin).
OPENCV_SEEK_MARGIN = 16


class OpenCVDecoder(Decoder):
    """Decoder on `cv2.VideoCapture` (first video stream only)."""

    name = "opencv"
    auto_rank = 1
    first_stream_only = True

    def __init__(self, path, index, num_threads=1):
        super().__init__(path, index, num_threads)
        self._capture = None
        self._next = 0  # index of the frame the next grab returns
        self._seeks_ok = True

    def close(self):
        capture = self._capture
        self._capture = None
        self._next = 0
        if capture is not None:
            capture.release()

    def decode(self, wanted, store):
        try:
            self._decode(wanted, store)
        except _OpenCVFailed as e:
            raise self._error(e) from None

    # ------------------------------------------------------------- internals

    def _open(self):
        import cv2

        if self._capture is None:
            params = []
            if self.num_threads:
                params = [cv2.CAP_PROP_N_THREADS, self.num_threads]
            capture = cv2.VideoCapture(self.path, cv2.CAP_FFMPEG, params)
            if not capture.isOpened():
                raise _OpenCVFailed("OpenCV cannot open the file", True)
            self._capture = capture
            self._next = 0
        return self._capture

    def _read_forward_from(self, wanted, store):
        """Gives up seeking: decodes `wanted` reading forward from the start."""
        self._seeks_ok = False
        self.close()
        self._decode(wanted, store)

    def _decode(self, wanted, store):
        import cv2

        index = self.index
        meta = index.metadata
        seekable = self._seeks_ok and index.pts_reliable
        half_frame = 0.5 / meta.fps if meta.fps else 1e-3
        capture = self._open()
        for i, frame_index in enumerate(wanted):
            position = self._next
            seek_lands = index.keyframe_at_or_before(
                max(frame_index - OPENCV_SEEK_MARGIN, 0)
            )
            seeked = False
            if frame_index < position or (seekable and seek_lands > position):
                if seekable:
                    capture.set(cv2.CAP_PROP_POS_FRAMES, frame_index)
                    position = frame_index
                    seeked = True
                else:  # read forward from the start
                    self.close()
                    capture = self._open()
                    position = 0
            while position < frame_index:
                if not capture.grab():
                    raise _OpenCVFailed(f"OpenCV stopped after frame {position - 1}")
                position += 1
            if not capture.grab():
                if seeked:  # the seek returned nothing: not the data's fault
                    self._read_forward_from(wanted[i:], store)
                    return
                raise _OpenCVFailed(
                    f"OpenCV returned no frame {frame_index} (it stopped after "
                    f"frame {position - 1})",
                    decoded_nothing=position == 0,
                )
            self._next = position + 1
            if seeked:
                seconds = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
                expected = (index.pts[frame_index] - index.start_time) * index.time_base
                if abs(seconds - expected) > half_frame:
                    # OpenCV's frame-number seek landed wrong: read forward instead.
                    self._read_forward_from(wanted[i:], store)
                    return
            ok, image = capture.retrieve()
            if not ok or image is None or image.shape != (meta.height, meta.width, 3):
                raise _OpenCVFailed(
                    f"OpenCV returned frame {frame_index} with shape "
                    f"{None if image is None else image.shape}, expected "
                    f"{(meta.height, meta.width, 3)}"
                )
            store(frame_index, cv2.cvtColor(image, cv2.COLOR_BGR2RGB))

    def _error(self, error):
        """The package error for an OpenCV failure."""
        self.close()
        decoded_nothing = error.decoded_nothing
        if not decoded_nothing:  # does OpenCV decode even the first frame?
            try:
                decoded_nothing = not self._open().grab()
            except _OpenCVFailed:
                decoded_nothing = True
            self.close()
        if decoded_nothing:
            return VideoDecodeError(
                f"OpenCV decodes no frames of {self.path} (codec "
                f"{self.index.metadata.codec}); use backend='pyav' or 'auto'.",
                self.path,
            )
        return CorruptVideoError(
            f"{self.path} did not decode with OpenCV: {error}. The file is corrupt "
            "or OpenCV cannot decode it; backend='pyav' reports the exact error.",
            self.path,
        )


class _OpenCVFailed(Exception):
    """OpenCV stopped early or returned a frame it should not have."""

    def __init__(self, message, decoded_nothing=False):
        super().__init__(message)
        self.decoded_nothing = decoded_nothing
