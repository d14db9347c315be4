"""Video decoding, clip sampling, transforms and tf.data datasets.

Importing this package imports TensorFlow (for tf.data).
"""

from keras_video.data import samplers, synthetic, transforms
from keras_video.data.clip_loader import SkippedFiles
from keras_video.data.clip_settings import ClipSettings
from keras_video.data.datasets import (
    aggregate_video_predictions,
    video_dataset_from_csv,
    video_dataset_from_directory,
    video_test_dataset,
    video_test_dataset_from_directory,
)
from keras_video.data.errors import CorruptVideoError, VideoDecodeError
from keras_video.data.listing import (
    VideoList,
    index_directory,
    read_video_csv,
    shard_for_input_context,
    shard_for_process,
)
from keras_video.data.samplers import Clip, all_clips, random_clip, uniform_clips
from keras_video.data.synthetic import write_motion_dataset
from keras_video.data.tfrecords import video_dataset_from_tfrecords, write_tfrecords
from keras_video.data.video import VideoReader, write_video

__all__ = [
    "Clip",
    "ClipSettings",
    "CorruptVideoError",
    "SkippedFiles",
    "VideoDecodeError",
    "VideoReader",
    "VideoList",
    "aggregate_video_predictions",
    "all_clips",
    "index_directory",
    "random_clip",
    "read_video_csv",
    "samplers",
    "shard_for_input_context",
    "shard_for_process",
    "synthetic",
    "transforms",
    "uniform_clips",
    "video_dataset_from_csv",
    "video_dataset_from_directory",
    "video_dataset_from_tfrecords",
    "video_test_dataset",
    "video_test_dataset_from_directory",
    "write_motion_dataset",
    "write_tfrecords",
    "write_video",
]
