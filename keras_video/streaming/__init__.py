"""Streaming inference: causal models frame by frame, live sources, bounded latency.

`CausalStreamer` runs an RNN clip model (the recurrent CNN, CNN+RNN) one frame
at a time with carried state; `SlidingWindow` runs any clip model on the last
frames; `FrameSource` reads a camera, a file at its frame rate or a network
stream, keeping only the newest frames; `stream_predict` joins them and
measures latency and drops (`keras-video predict --stream SOURCE`).
"""

from keras_video.streaming.causal import CausalStreamer, SlidingWindow
from keras_video.streaming.live import latency_stats, stream_predict
from keras_video.streaming.source import FrameSource, center_crop_resize, source_kind
from keras_video.streaming.synthetic import serve_mjpeg, synthetic_frame

__all__ = [
    "CausalStreamer",
    "FrameSource",
    "SlidingWindow",
    "center_crop_resize",
    "latency_stats",
    "serve_mjpeg",
    "source_kind",
    "stream_predict",
    "synthetic_frame",
]
