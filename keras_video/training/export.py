"""Serving artifacts of trained models: `keras_video.export.export_model`.

Kept so `from keras_video.training.export import export_model` goes on working;
the exporters, their parity checks and the clip protocol live in
`keras_video.export`.
"""

from keras_video.export.exporter import export_model

__all__ = ["export_model"]
