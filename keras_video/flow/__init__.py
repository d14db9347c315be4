"""Optical flow for two-stream networks: compute, store, read, measure, show.

OpenCV and NumPy only (no TensorFlow):

- `compute(frames, method="tvl1" | "dis" | "farneback", **options)`: flow
  between consecutive RGB frames.
- `to_uint8` / `from_uint8`, `write_flow_frames` / `read_flow_frames`: flow
  as uint8 x/y image pairs (`x_00001.jpg`, `y_00001.jpg`), bound 20.
- `extract_dataset_flow` / `extract_video_flow`: flow of every video of a
  folder or CSV list into x/y image folders with a `flow.json` manifest, in
  worker processes, resumable.
- `read_flo` / `write_flo`: Middlebury `.flo` files.
- `epe`: mean end-point error.
- `to_color`: the Middlebury colour wheel.
"""

from keras_video.flow import known_motion
from keras_video.flow.compute import METHODS, compute
from keras_video.flow.extract import extract_dataset_flow, extract_video_flow
from keras_video.flow.flo import read_flo, write_flo
from keras_video.flow.metrics import epe
from keras_video.flow.storage import (
    flow_frame_paths,
    from_uint8,
    read_flow_frames,
    to_uint8,
    write_flow_frames,
)
from keras_video.flow.visualize import COLOR_WHEEL, to_color

__all__ = [
    "COLOR_WHEEL",
    "METHODS",
    "compute",
    "epe",
    "extract_dataset_flow",
    "extract_video_flow",
    "flow_frame_paths",
    "known_motion",
    "from_uint8",
    "read_flo",
    "read_flow_frames",
    "to_color",
    "to_uint8",
    "write_flo",
    "write_flow_frames",
]
