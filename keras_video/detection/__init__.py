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

The localiser (the model in Keras, on every backend; targets, decoding and
NMS in NumPy):

- `TemporalLocalizer`: an ActionFormer-style anchor-free model over snippet
  features; `SigmoidFocalLoss`, `DIoULoss`: its losses.
- `TemporalLabelEncoder`: ground-truth segments as per-step targets;
  `temporal_points`, `level_lengths`, `default_regression_ranges`.
- `decode_detections`, `decode_segments`, `class_nms`, `nms`, `soft_nms`:
  outputs to NMS-ed `(start, end)`, label, score in seconds;
  `to_activitynet_results`: those as the input of `activitynet_map`.
- `resample_features`, `to_steps`: any-length snippet features as
  fixed-length sequences with their own time axis.
- `sliding_window_detections`: the sliding-window classification baseline;
  `plot_timeline`: predicted and true segments as a PNG.

AVA-style spatio-temporal detection (NumPy only):

- `ava_frame_map`: frame-mAP equal to the official AVA evaluator.
- `read_ava_annotations`, `read_ava_detections`, `read_ava_proposals`,
  `read_ava_excluded`, `read_ava_label_map`: AVA's files as `AVAAnnotation`,
  `AVADetection`, `AVAProposal`, `AVAKeyframe` records and `{id: name}`;
  `write_ava_csv`, `write_ava_label_map`; `group_by_keyframe`,
  `keyframe_boxes`, `ava_keyframe_key`; `to_ava_detections`: a detector's
  per-box scores as detection rows.

AVA-style action detection (Keras models, every backend):

- `ActionDetector(backbone, num_classes)`: the RoI action head of PySlowFast
  on any zoo clip backbone built with `include_top=False`;
  `SlowFastDetector(num_classes, input_shape, ...)`: the same on `SlowFast`.
  Inputs `{"clip": (b, T, H, W, 3), "boxes": (b, N, 4)}`, boxes
  `(x1, y1, x2, y2)` in pixels of the frames; outputs `(b, N, num_classes)`
  sigmoid scores. `apply_roi_head`: the head on symbolic features.
"""

from keras_video.detection.action_detector import ActionDetector, SlowFastDetector
from keras_video.detection.annotations import (
    KNOWN_SUBSETS,
    TemporalAnnotation,
    read_activitynet_json,
    read_thumos_annotations,
    to_activitynet_ground_truth,
)
from keras_video.data.ava_files import (
    AVA_KEYFRAME_RANGE,
    AVA_PROPOSAL_SCORE_THRESHOLD,
    AVAAnnotation,
    AVADetection,
    AVAKeyframe,
    AVAProposal,
    ava_keyframe_key,
    group_by_keyframe,
    keyframe_boxes,
    read_ava_annotations,
    read_ava_detections,
    read_ava_excluded,
    read_ava_label_map,
    read_ava_proposals,
    to_ava_detections,
    write_ava_csv,
    write_ava_label_map,
)
from keras_video.detection.ava_evaluation import ava_frame_map
from keras_video.detection.ava_head import apply_roi_head
from keras_video.detection.decoding import (
    class_nms,
    decode_detections,
    decode_segments,
    nms,
    soft_nms,
    to_activitynet_results,
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
from keras_video.detection.label_encoder import (
    TemporalLabelEncoder,
    default_regression_ranges,
    level_lengths,
    temporal_points,
)
from keras_video.detection.localizer import TemporalLocalizer
from keras_video.detection.losses import DIoULoss, SigmoidFocalLoss
from keras_video.detection.sequences import (
    ResampledSequence,
    resample_features,
    to_steps,
)
from keras_video.detection.sliding_window import sliding_window_detections
from keras_video.detection.timeline import plot_timeline

__all__ = [
    "ActionDetector",
    "SlowFastDetector",
    "apply_roi_head",
    "AVA_KEYFRAME_RANGE",
    "AVA_PROPOSAL_SCORE_THRESHOLD",
    "AVAAnnotation",
    "AVADetection",
    "AVAKeyframe",
    "AVAProposal",
    "ava_frame_map",
    "ava_keyframe_key",
    "group_by_keyframe",
    "keyframe_boxes",
    "read_ava_annotations",
    "read_ava_detections",
    "read_ava_excluded",
    "read_ava_label_map",
    "read_ava_proposals",
    "to_ava_detections",
    "write_ava_csv",
    "write_ava_label_map",
    "ACTIVITYNET_TIOU_THRESHOLDS",
    "DIoULoss",
    "KNOWN_SUBSETS",
    "SigmoidFocalLoss",
    "THUMOS14_TIOU_THRESHOLDS",
    "TemporalAnnotation",
    "TemporalLabelEncoder",
    "TemporalLocalizer",
    "activitynet_map",
    "average_precision_detection",
    "build_backbone",
    "class_nms",
    "decode_detections",
    "decode_segments",
    "default_regression_ranges",
    "extract_dataset_features",
    "extract_features",
    "level_lengths",
    "nms",
    "ResampledSequence",
    "plot_timeline",
    "read_activitynet_json",
    "resample_features",
    "sliding_window_detections",
    "to_steps",
    "read_thumos_annotations",
    "segment_iou",
    "snippet_indices",
    "soft_nms",
    "temporal_points",
    "thumos14_map",
    "to_activitynet_ground_truth",
    "to_activitynet_results",
]
