"""Video decoding, clip sampling, transforms and tf.data datasets.

Names are imported on first use: the reader (`keras_video.data.video`), the
samplers, `ClipSettings` and the listing work without TensorFlow; the datasets,
transforms and TFRecords import TensorFlow (for tf.data) when first used.
"""

import importlib

# public name -> the module that defines it
_NAMES = {
    "ClipSettings": "clip_settings",
    "SkippedFiles": "clip_loader",
    "ava_dataset": "ava_dataset",
    "crop_and_flip_boxes": "ava_dataset",
    "aggregate_video_predictions": "datasets",
    "video_dataset_from_csv": "datasets",
    "video_dataset_from_directory": "datasets",
    "video_test_dataset": "datasets",
    "video_test_dataset_from_directory": "datasets",
    "FlowSource": "flow_source",
    "CorruptVideoError": "errors",
    "DecodeTimeoutError": "errors",
    "VideoDecodeError": "errors",
    "VideoList": "listing",
    "index_directory": "listing",
    "read_video_csv": "listing",
    "shard_for_input_context": "listing",
    "shard_for_process": "listing",
    "Clip": "samplers",
    "all_clips": "samplers",
    "random_clip": "samplers",
    "uniform_clips": "samplers",
    "write_motion_dataset": "synthetic",
    "write_actor_dataset": "synthetic_actors",
    "video_dataset_from_tfrecords": "tfrecords",
    "write_tfrecords": "tfrecords",
    "VideoReader": "video",
    "write_video": "video",
}
_SUBMODULES = ("samplers", "synthetic", "synthetic_actors", "transforms", "video")


def __getattr__(name):
    if name in _NAMES:
        module = importlib.import_module(f"keras_video.data.{_NAMES[name]}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"keras_video.data.{name}")
    raise AttributeError(f"module 'keras_video.data' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)


__all__ = sorted([*_NAMES, *_SUBMODULES])
