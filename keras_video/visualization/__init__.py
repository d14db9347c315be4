"""Seeing inside video models: Grad-CAM and saliency over time, filters as
clips, class-model clips, prediction overlays and `keras-video explain`.

No TensorFlow is imported here: gradients come from the Keras backend's own
automatic differentiation (`gradients.class_score_gradients`).
"""

from keras_video.visualization.grad_cam import grad_cam, saliency, upsample
from keras_video.visualization.gradients import class_score_gradients
from keras_video.visualization.probe import default_layer, find_layer, probe_model

__all__ = [
    "class_score_gradients",
    "default_layer",
    "find_layer",
    "grad_cam",
    "probe_model",
    "saliency",
    "upsample",
]
