"""Serving artifacts of trained models."""

import os


def export_model(model, output, format="tf_saved_model"):
    """Exports `model` (a `keras.Model` or a `.keras` path) with `model.export`.

    The `tf_saved_model` artifact has a `serve` endpoint taking float32
    `(batch, frames, height, width, 3)` clips in `[0, 255]` (the runner's
    models rescale inside) and returning class probabilities:

    ```python
    import tensorflow as tf
    served = tf.saved_model.load("export/")
    probs = served.serve(clips)
    ```

    Returns:
        the output path.
    """
    import keras

    if isinstance(model, (str, os.PathLike)):
        model = keras.saving.load_model(model)
    model.export(os.fspath(output), format=format, verbose=False)
    return os.fspath(output)
