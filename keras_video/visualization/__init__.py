"""Seeing inside video models: Grad-CAM and saliency over time, filters as
clips, class-model clips, prediction overlays and `keras-video explain`.

No TensorFlow is imported here: gradients come from the Keras backend's own
automatic differentiation (`gradients.class_score_gradients`).
"""

from keras_video.visualization.class_model import class_model, write_class_model
from keras_video.visualization.clips import to_uint8, write_clip
from keras_video.visualization.filters import (
    filter_grid,
    inflated_filter_grid,
    kernel_clips,
    write_filter_grid,
)
from keras_video.visualization.grad_cam import grad_cam, saliency, upsample
from keras_video.visualization.gradients import class_score_gradients
from keras_video.visualization.probe import default_layer, find_layer, probe_model

__all__ = [
    "class_model",
    "class_score_gradients",
    "default_layer",
    "filter_grid",
    "find_layer",
    "grad_cam",
    "inflated_filter_grid",
    "kernel_clips",
    "probe_model",
    "saliency",
    "to_uint8",
    "upsample",
    "write_class_model",
    "write_clip",
    "write_filter_grid",
]
