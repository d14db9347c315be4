"""Seeing inside video models: Grad-CAM and saliency over time, filters as
clips, class-model clips, prediction overlays and `keras-video explain`.

No TensorFlow is imported here: gradients come from the Keras backend's own
automatic differentiation (`gradients.class_score_gradients`).
"""

from keras_video.visualization.class_model import class_model, write_class_model
from keras_video.visualization.clips import to_uint8, write_clip
from keras_video.visualization.explain import explain_video
from keras_video.visualization.filters import (
    filter_grid,
    inflated_filter_grid,
    kernel_clips,
    write_filter_grid,
)
from keras_video.visualization.grad_cam import grad_cam, saliency, upsample
from keras_video.visualization.gradients import class_score_gradients
from keras_video.visualization.overlays import (
    colorize,
    draw_boxes,
    draw_top_classes,
    frame_importance,
    frame_strip,
    overlay_heatmap,
    write_importance_curve,
)
from keras_video.visualization.probe import default_layer, find_layer, probe_model

__all__ = [
    "class_model",
    "class_score_gradients",
    "colorize",
    "default_layer",
    "draw_boxes",
    "draw_top_classes",
    "explain_video",
    "filter_grid",
    "find_layer",
    "frame_importance",
    "frame_strip",
    "grad_cam",
    "inflated_filter_grid",
    "kernel_clips",
    "overlay_heatmap",
    "probe_model",
    "saliency",
    "to_uint8",
    "upsample",
    "write_class_model",
    "write_clip",
    "write_filter_grid",
    "write_importance_curve",
]
