"""Video files: random-access decoding (`VideoReader`) and writing (`write_video`).

No TensorFlow here: NumPy, PyAV and OpenCV only. Decoder backends live in
`backends/`, one module each.
"""

from keras_video.data.video.index import VideoMetadata
from keras_video.data.video.logs import set_native_logging
from keras_video.data.video.reader import BACKENDS, VideoReader
from keras_video.data.video.writer import write_video

__all__ = [
    "BACKENDS",
    "VideoMetadata",
    "VideoReader",
    "set_native_logging",
    "write_video",
]
