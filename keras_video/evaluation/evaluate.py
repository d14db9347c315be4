"""`evaluate`: video-level accuracy under a named protocol, with its record.

```python
from keras_video.evaluation import evaluate
result = evaluate(model, "kinetics/val", protocol="kinetics_10x3",
                  output="runs/i3d/eval_kinetics_10x3.json")
result["top1"], result["record"]["views"]  # (0.71, 30)
```

Each video's score is the mean of the model's outputs over its views
(`views.video_scores`); top-1 / top-5 are over the videos that decoded.
Videos listed but absent are `missing`, videos that do not decode are
`skipped`; both are left out of the accuracy and named in the record
(`record.make_record`), which is written beside the result.
"""

import json
import os

import numpy as np

from keras_video.evaluation import record as record_lib
from keras_video.evaluation import views
from keras_video.evaluation.protocols import get_protocol


def _video_list(data, class_names):
    from keras_video.data import listing

    if isinstance(data, listing.VideoList):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2:
        paths, labels = data
        return listing.VideoList(list(paths), labels, class_names=class_names)
    data = os.fspath(data)
    if os.path.isdir(data):
        return listing.index_directory(data, "inferred", class_names)
    if os.path.isfile(data) and data.endswith(".csv"):
        return listing.video_list_from_csv(data, class_names)
    raise ValueError(
        "`data` must be a folder of class folders, a .csv list or "
        f"(paths, labels). Received: data={data!r}"
    )


def _model_settings(model, clip_settings):
    from keras_video.data.clip_settings import ClipSettings

    if clip_settings is not None:
        return clip_settings
    frames, height, width = model.inputs[0].shape[1:4]
    if None in (frames, height, width):
        raise ValueError(
            "The model's clip shape is not static: pass `clip_settings`. "
            f"Received: input_shape={tuple(model.inputs[0].shape)}"
        )
    return ClipSettings(clip_length=frames, image_size=(height, width))


def result_paths(output):
    """`(result, record)` paths: `x.json` -> `x.json`, `x.record.json`."""
    output = os.fspath(output)
    base = output[: -len(".json")] if output.endswith(".json") else output
    return base + ".json", base + ".record.json"


def evaluate(
    model, data, protocol="single_center", *, clip_settings=None,
    class_names=None, batch_size=8, on_error="skip", backend="auto",
    output=None, manifest=None,
):  # fmt: skip
    """Video-level top-1 / top-5 of `model` on `data` under `protocol`.

    Args:
        model: a clip model taking `[0, 255]` clips (any callable on a batch
            of clips with `inputs`, e.g. a `keras.Model`).
        data: a folder of class folders, a `path,label` CSV list,
            `(paths, labels)` or a `keras_video.data.VideoList`.
        protocol: `"kinetics_10x3"`, `"single_center"` or an `EvalProtocol`.
        clip_settings: the model's `ClipSettings` (clip length, frame step,
            crop size); default: frames and size of the model's input, the
            default frame step.
        class_names: class order (folders / CSV labels), default sorted.
        batch_size: views per model call.
        on_error: `"skip"` (bad videos are named in the record) or `"raise"`.
        backend: `VideoReader` backend.
        output: write the result JSON here and the record beside it
            (`result_paths`), or `None`.
        manifest: a probe manifest (`keras_video.data.probe`) to read frame
            counts and known bad files from; default: the one in the data
            folder when there is one.

    Returns:
        dict: `top1`, `top5`, `num_videos`, `num_evaluated`, `protocol`,
        `record`, and (not written to JSON) `video_scores` `(num_videos,
        num_classes)` and `paths`.
    """
    from keras_video.data import probe

    protocol = get_protocol(protocol)
    videos = _video_list(data, class_names)
    if not len(videos):
        raise ValueError(f"No videos in {data}.")
    root = videos.root
    settings = protocol.clip_settings(_model_settings(model, clip_settings))
    found = probe.find_manifest(root) if manifest is None and root else manifest
    known = probe.load_manifest(found) if found else None
    paths = list(videos.paths)
    missing = [p for p in paths if not os.path.exists(p)]
    bad = {} if known is None else known.bad_files(paths)
    rows = [i for i, p in enumerate(paths) if p not in set(missing) | set(bad)]
    with probe.using_manifest(known):
        scores, skipped = views.video_scores(
            model, [paths[i] for i in rows], settings, protocol.num_crops,
            batch_size, on_error, backend,
        )  # fmt: skip
    skipped = {**bad, **skipped}
    kept = [j for j, i in enumerate(rows) if paths[i] not in skipped]
    labels = np.asarray(videos.labels)[[rows[j] for j in kept]]
    video_scores = np.zeros((len(paths), scores.shape[-1]))
    video_scores[[rows[j] for j in kept]] = scores[kept]
    record = record_lib.make_record(
        protocol, settings, paths=paths, labels=videos.labels, root=root,
        skipped=skipped, missing=missing, backend=backend, manifest=found,
    )  # fmt: skip
    result = {
        "protocol": protocol.name,
        "top1": views.top_k_accuracy(scores[kept], labels, 1),
        "top5": views.top_k_accuracy(scores[kept], labels, 5),
        "num_videos": len(paths),
        "num_evaluated": len(kept),
        "num_clips": protocol.num_clips,
        "num_crops": protocol.num_crops,
    }
    if output is not None:
        result_file, record_file = result_paths(output)
        os.makedirs(os.path.dirname(os.path.abspath(result_file)), exist_ok=True)
        with open(result_file, "w") as f:
            json.dump({**result, "record": os.path.basename(record_file)}, f, indent=2)
        with open(record_file, "w") as f:
            json.dump(record, f, indent=2)
    return {**result, "record": record, "video_scores": video_scores, "paths": paths}
