"""Temporal action localisation: the ActivityNet / THUMOS14 mAP and readers.

NumPy only (no TensorFlow, no Keras needed):

- `activitynet_map(ground_truth, predictions, tiou_thresholds=None,
  subset="validation")`: the numbers of the official ActivityNet evaluation
  (`ANETdetection`); `thumos14_map`: the same at tIoU 0.3:0.1:0.7 on the
  `"test"` subset.
- `average_precision_detection`: AP of one class per threshold;
  `segment_iou`: temporal IoU.
- `read_activitynet_json`, `read_thumos_annotations`: annotation files as
  `TemporalAnnotation` records; `to_activitynet_ground_truth`: records as the
  ActivityNet JSON layout.
- `extract_features`, `extract_dataset_features`: snippet features of long
  videos from a clip backbone (these need Keras and a video decoder).
"""

from keras_video.detection.annotations import (
    KNOWN_SUBSETS,
    TemporalAnnotation,
    read_activitynet_json,
    read_thumos_annotations,
    to_activitynet_ground_truth,
)
from keras_video.detection.evaluation import (
    ACTIVITYNET_TIOU_THRESHOLDS,
    THUMOS14_TIOU_THRESHOLDS,
    activitynet_map,
    average_precision_detection,
    segment_iou,
    thumos14_map,
)
from keras_video.detection.features import (
    build_backbone,
    extract_dataset_features,
    extract_features,
    snippet_indices,
)

__all__ = [
    "ACTIVITYNET_TIOU_THRESHOLDS",
    "KNOWN_SUBSETS",
    "THUMOS14_TIOU_THRESHOLDS",
    "TemporalAnnotation",
    "activitynet_map",
    "average_precision_detection",
    "build_backbone",
    "extract_dataset_features",
    "extract_features",
    "read_activitynet_json",
    "read_thumos_annotations",
    "segment_iou",
    "snippet_indices",
    "thumos14_map",
    "to_activitynet_ground_truth",
]
