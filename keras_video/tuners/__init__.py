"""keras-tuner HyperModels for the applications.

Importing this package imports `keras_tuner` (the `tuner` extra:
`pip install keras-video[tuner]`); `import keras_video` does not.
"""

from keras_video.tuners.video_hypermodel import VideoHyperModel, make_tuner

__all__ = ["VideoHyperModel", "make_tuner"]
