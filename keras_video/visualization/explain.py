"""`keras-video explain VIDEO`: why a model said what it said, on one video.

The clips are those `keras-video predict` scores (`keras_video.predict`:
`num_clips` evenly spaced clips through `keras_video.data.video_test_dataset`,
with the model's clip protocol: for the Kinetics-400 InceptionI3D, 64
consecutive frames, short side 256, centre crop 224). The video's top class
(the clips' mean logits through a softmax, as `predict` reports it) is
explained on every clip with `grad_cam`, and three files are written:

- `explain.mp4`: the clips one after the other, the heat map blended on each
  frame and the top classes written on it;
- `importance.png`: each clip's per-frame share of its map against the
  frame's index in the video;
- `top_classes.json`: the top classes of the video and of each clip, the
  frame indices, the per-frame importance, the layer and the files.
"""

import json
import os

import keras
import numpy as np

from keras_video.visualization.clips import write_clip
from keras_video.visualization.grad_cam import grad_cam
from keras_video.visualization.overlays import (
    draw_top_classes,
    frame_importance,
    overlay_heatmap,
    write_importance_curve,
)
from keras_video.visualization.probe import default_layer, find_layer

FILES = {
    "overlay": "explain.mp4",
    "curve": "importance.png",
    "classes": "top_classes.json",
}


def _softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def _rows(scores, class_names, top):
    order = np.argsort(-scores, kind="stable")[:top]
    return [(int(i), class_names[i], float(scores[i])) for i in order]


def _kinetics(num_clips, clip_length):
    from keras_video import predict
    from keras_video.applications import inception_i3d

    settings = predict.kinetics_clip_settings(num_clips or 3, clip_length)
    model = inception_i3d.InceptionI3D(
        weights="kinetics400",
        classifier_activation=None,
        input_shape=settings.output_shape,
    )

    def preprocess(clip):
        return np.asarray(inception_i3d.preprocess_input(clip))

    return model, settings, inception_i3d.kinetics400_labels(), preprocess


def _default_settings(model, num_clips):
    from keras_video.data.clip_settings import ClipSettings

    frames, height, width = model.inputs[0].shape[1:4]
    if None in (frames, height, width):
        raise ValueError(
            f"{model.name!r} takes clips of any size; pass `clip_settings`. "
            f"Received: input shape {tuple(model.inputs[0].shape)}"
        )
    return ClipSettings(
        clip_length=frames, frame_step=1, image_size=(height, width),
        num_clips=num_clips or 1, clip_sampling="uniform",
    )  # fmt: skip


def explain_video(
    path,
    output_dir,
    model=None,
    clip_settings=None,
    class_names=None,
    preprocess=None,
    logits=None,
    num_clips=None,
    clip_length=None,
    top=5,
    layer_name=None,
    weighting="mean",
    alpha=0.45,
):
    """Explains a model's prediction on one video (module docstring).

    Args:
        path: the video file.
        output_dir: the folder for the files (created).
        model: a clip classifier; `None`: the Kinetics-400 InceptionI3D
            (`weights="kinetics400"`, its clip protocol, labels and
            preprocessing).
        clip_settings: the `ClipSettings` of the clips (their `num_clips`
            is used); default for a given model: its input's frames and
            size, consecutive frames.
        class_names: names of the model's classes (default `"0"`, `"1"`...).
        preprocess: `clip -> model input` for a `(T, H, W, 3)` float clip in
            `[0, 255]`; default none (the Kinetics model: `preprocess_input`).
        logits: whether the model's outputs are logits (averaged, then a
            softmax) rather than scores (averaged); default: `True` for the
            Kinetics model, `False` otherwise.
        num_clips: clips per video; default `clip_settings.num_clips` (3 for
            Kinetics, as `predict`).
        clip_length: Kinetics only: frames per clip (default 64, at least 9).
        top: classes written on the frames and reported.
        layer_name: the layer `grad_cam` explains (default its default).
        weighting: `grad_cam`'s `"mean"` (Grad-CAM) or `"elementwise"`.
        alpha: weight of the heat map's colours on the frames.

    Returns:
        The dict written to `top_classes.json`, plus `"heatmaps"`: float32
        `(num_clips, frames, height, width)` in `[0, 1]`.
    """
    from keras_video.data.datasets import video_test_dataset
    from keras_video.data.video import VideoReader

    if not os.path.isfile(path):
        raise FileNotFoundError(f"no video file at {path}")
    if model is None:
        model, settings, names, prep = _kinetics(num_clips, clip_length)
        class_names = class_names or names
        preprocess = preprocess or prep
        logits = True if logits is None else logits
    else:
        settings = clip_settings or _default_settings(model, num_clips)
        if num_clips:
            settings = settings.replace(num_clips=int(num_clips))
        logits = bool(logits)
    num_classes = int(model.outputs[0].shape[-1])
    if class_names is None or len(class_names) != num_classes:
        class_names = [str(i) for i in range(num_classes)]
    settings = settings.replace(clip_sampling="uniform")
    layer = (
        default_layer(model) if layer_name is None else find_layer(model, layer_name)
    )

    with VideoReader(path) as reader:
        fps = reader.fps
        indices = settings.clip_indices(reader.num_frames, fps, path=path)
    dataset = video_test_dataset([path], clip_settings=settings, batch_size=1)
    clips = [np.asarray(batch[0])[0] for batch in dataset]
    inputs = [np.asarray(preprocess(c) if preprocess else c, np.float32) for c in clips]
    outputs = [
        keras.ops.convert_to_numpy(model(x[None], training=False))[0] for x in inputs
    ]
    mean = np.mean(outputs, axis=0)
    video_scores = _softmax(mean) if logits else mean
    class_index = int(np.argmax(video_scores))
    video_rows = _rows(video_scores, class_names, top)

    heatmaps, frames, report_clips = [], [], []
    for clip, x, out, frame_indices in zip(
        clips, inputs, outputs, indices, strict=True
    ):
        heat = grad_cam(model, x, class_index, layer.name, weighting)
        heatmaps.append(heat)
        pixels = np.clip(np.round(clip), 0, 255).astype(np.uint8)
        frames.append(
            draw_top_classes(overlay_heatmap(pixels, heat, alpha), video_rows)
        )
        report_clips.append(
            {
                "frame_indices": [int(i) for i in frame_indices],
                "top": [
                    {"index": i, "name": n, "score": s}
                    for i, n, s in _rows(
                        _softmax(out) if logits else out, class_names, top
                    )  # fmt: skip
                ],
                "importance": [float(v) for v in frame_importance(heat)],
            }
        )
    os.makedirs(output_dir, exist_ok=True)
    step = settings.frame_step or 1
    write_clip(
        os.path.join(output_dir, FILES["overlay"]),
        np.concatenate(frames),
        fps=max(1, int(round(fps / step))),
    )
    write_importance_curve(
        os.path.join(output_dir, FILES["curve"]),
        [c["importance"] for c in report_clips],
        frame_indices=[c["frame_indices"] for c in report_clips],
        title=f"{class_names[class_index]}: where in time ({layer.name})",
        labels=[f"clip {k + 1}" for k in range(len(report_clips))],
    )
    report = {
        "video": os.fspath(path),
        "model": model.name,
        "class_index": class_index,
        "class_name": class_names[class_index],
        "layer": layer.name,
        "weighting": weighting,
        "top": [{"index": i, "name": n, "score": s} for i, n, s in video_rows],
        "clips": report_clips,
        "files": dict(FILES),
    }
    with open(os.path.join(output_dir, FILES["classes"]), "w") as f:
        json.dump(report, f, indent=1)
    return {**report, "heatmaps": np.stack(heatmaps)}
