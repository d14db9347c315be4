"""Model scores of every view of every video, and their mean per video.

A view is one clip and one crop (`keras_video.data.video_test_dataset`: clips
evenly spaced, 1 or 3 crops). The video-level score is the plain mean of the
model's outputs over the video's views (logits if the model gives logits).
Bad files (`on_error="skip"`) give no views and are returned by name.
"""

import keras
import numpy as np


def view_scores(
    model, paths, settings, num_crops=1, batch_size=8, on_error="raise",
    backend="auto",
):  # fmt: skip
    """The model's output for every view.

    Args:
        model: a clip model (or any callable on a batch of clips).
        paths: video files.
        settings: `ClipSettings` (its `num_clips` clips per video).
        num_crops: 1 or 3.
        batch_size: views per model call.
        on_error: `"raise"` or `"skip"` bad files.
        backend: `VideoReader` backend.

    Returns:
        `(scores, video_ids, skipped)`: `(num_views, num_classes)` float
        NumPy, `(num_views,)` int indices into `paths`, and `{path: error}` of
        the files skipped.
    """
    from keras_video.data.datasets import video_test_dataset

    ds = video_test_dataset(
        list(paths), None, batch_size=batch_size, num_crops=num_crops,
        clip_settings=settings, on_error=on_error, backend=backend,
    )  # fmt: skip
    scores, ids = [], []
    for clips, video_ids in ds:
        scores.append(keras.ops.convert_to_numpy(model(clips, training=False)))
        ids.append(video_ids.numpy())
    if not scores:
        return (
            np.zeros((0, 0), np.float32),
            np.zeros((0,), np.int64),
            dict(ds.skipped_files.files),
        )
    return np.concatenate(scores), np.concatenate(ids), dict(ds.skipped_files.files)


def video_scores(
    model, paths, settings, num_crops=1, batch_size=8, on_error="raise",
    backend="auto",
):  # fmt: skip
    """The mean output over each video's views (`view_scores`).

    Returns:
        `(scores, skipped)`: `(len(paths), num_classes)` float64 NumPy (a
        skipped video's row is zeros) and `{path: error}`.
    """
    from keras_video.data.datasets import aggregate_video_predictions

    views, ids, skipped = view_scores(
        model, paths, settings, num_crops, batch_size, on_error, backend
    )
    if not len(views):
        return np.zeros((len(paths), 0)), skipped
    return aggregate_video_predictions(views, ids, num_videos=len(paths)), skipped


def top_k_accuracy(scores, labels, k):
    """Fraction of rows whose label is among the `k` highest scores."""
    scores, labels = np.asarray(scores), np.asarray(labels)
    if not len(labels):
        return float("nan")
    k = min(k, scores.shape[-1])
    top = np.argsort(-scores, axis=-1)[:, :k]
    return float(np.mean(np.any(top == labels[:, None], axis=-1)))
