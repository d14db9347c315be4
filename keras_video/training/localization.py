"""Temporal action localisation, end to end: snippets -> features -> localiser -> mAP.

`keras-video train recipes/localization/<recipe>.py --data DIR` runs
`train_localization` on a data folder holding videos and an ActivityNet-style
`annotations.json` (the layout `keras_video.data.synthetic.
write_localization_dataset` writes; videos are found by their id as file
name anywhere under `DIR`):

1. Snippet classifier (`train_backbone=True`): the clip backbone
   (`include_top=False`, max-pooled) plus a linear layer over the action
   classes and "background" is trained on the training videos' snippets, each
   labelled with the action covering at least half of it. It is the feature
   extractor of step 2 and the baseline of step 5. With
   `train_backbone=False` the backbone is used as it is (e.g. the Kinetics
   `inception_i3d`), as ActionFormer uses frozen I3D features.
2. Features: `keras_video.detection.extract_features` over every video
   (overlapping snippets, batched, decoded forward once).
3. Sequences: each video's features resampled to `sequence_length` steps
   (`keras_video.detection.resample_features`), segments in step units as
   `TemporalLabelEncoder` targets.
4. The localiser: `TemporalLocalizer`, sigmoid focal + DIoU losses, AdamW
   with warmup and cosine decay, mixed precision where the device has it
   (`precision="auto"`).
5. Evaluation on the `"validation"` videos: the localiser's detections
   (decoded, Soft-NMS) and the sliding-window baseline's (windows of
   `baseline_windows` snippets scored by the snippet classifier's mean class
   probability, less the mean in the windows' context; Soft-NMS), all scored
   by `activitynet_map` at `tiou_thresholds`.

```
run_dir/
  recipe.json               the recipe as run (its "task" is "localization")
  class_names.json          label index -> name
  snippet_classifier.keras  step 1's model (reused when a rerun finds it)
  localizer.keras           step 4's model
  history.csv               the localiser's per-epoch losses
  detections_<method>.json  validation detections (ActivityNet results) of
                            "localizer", "sliding_window" (with context) and
                            "sliding_window_mean" (without)
  eval.json                 mAP per threshold and average, both methods, protocol
  timeline.png              predicted and true segments of validation videos
```

Step 1 holds the training snippets in memory: it is meant for small sets
(the synthetic one); on a real data set use a pretrained backbone with
`train_backbone=False`, or features from `keras-video features`.
"""

import dataclasses
import json
import math
import os
import typing

import keras
import numpy as np

from keras_video.training import checkpoints
from keras_video.training import precision as precision_lib
from keras_video.training.recipe import RecipeBase
from keras_video.training.runner import make_optimizer


@dataclasses.dataclass
class LocalizationRecipe(RecipeBase):
    """Everything a localisation run needs besides the data folder.

    Attributes:
        backbone: a name of `keras_video.applications.MODELS` (`"r3d"`) or
            `"module:function"`, built with `include_top=False`.
        backbone_args: extra constructor arguments (widths, depth).
        backbone_weights: the backbone's `weights` (`None`, a preset, a path).
        train_backbone: train the backbone as a snippet classifier first
            (step 1 of the module docstring); also gives the baseline.
        pooling: the backbone's global pooling, `"max"` (a small moving
            object, as in `keras_video.demo`) or `"avg"`.
        rescale: `(scale, offset)` applied to the `[0, 255]` frames before the
            backbone.
        snippet_length, snippet_stride, frame_step: snippet `i` is frames
            `i * snippet_stride + k * frame_step`, `k < snippet_length`.
        image_size: side of the square frames the backbone sees.
        backbone_epochs: epochs of step 1 (the snippet classifier).
        backbone_learning_rate: its peak learning rate.
        snippet_batch_size: its batch size.
        snippet_dropout: its dropout before the linear layer.
        sequence_length: steps of every localiser input (a multiple of
            `2 ** (num_levels - 1)`).
        num_levels, embed_dim: the `TemporalLocalizer`'s.
        localizer_args: other `TemporalLocalizer` arguments.
        epochs: the localiser's training epochs; `batch_size`, `optimizer`,
            `learning_rate`, `weight_decay` and `warmup_epochs` as `Recipe`'s.
        precision: `"auto"`, `"float32"`, `"mixed_float16"` or
            `"mixed_bfloat16"`.
        seed: seeds initialisation and shuffling.
        nms, sigma, max_detections: decoding (`decode_detections`), also used
            by the baseline.
        tiou_thresholds: the mAP thresholds (THUMOS14's by default).
        baseline_windows, baseline_overlap, baseline_context: the
            baseline's window lengths (in snippets), overlap and context
            (`sliding_window_detections`); with a context, the baseline is
            also scored without it (`"sliding_window_mean"`).
    """

    backbone: str = "early_fusion"
    backbone_args: dict = dataclasses.field(default_factory=dict)
    backbone_weights: str | None = None
    train_backbone: bool = True
    pooling: str = "max"
    rescale: tuple | None = (1 / 127.5, -1.0)
    snippet_length: int = 8
    snippet_stride: int = 2
    frame_step: int = 1
    image_size: int = 32
    backbone_epochs: int = 8
    backbone_learning_rate: float = 3e-3
    snippet_batch_size: int = 16
    snippet_dropout: float = 0.0
    sequence_length: int = 64
    num_levels: int = 4
    embed_dim: int = 64
    localizer_args: dict = dataclasses.field(default_factory=dict)
    epochs: int = 40
    batch_size: int = 8
    optimizer: str = "adamw"
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    warmup_epochs: float = 2.0
    precision: str = "auto"
    seed: int = 1337
    nms: str = "soft_nms"
    sigma: float = 0.5
    max_detections: int = 100
    tiou_thresholds: tuple = (0.3, 0.4, 0.5, 0.6, 0.7)
    baseline_windows: tuple = (4, 8, 12, 16, 24, 32)
    baseline_overlap: float = 0.75
    baseline_context: float = 0.5

    task: typing.ClassVar[str] = "localization"


# ------------------------------------------------------------------ the data


def read_localization_folder(data_dir):
    """The videos and annotations of a localisation data folder.

    Args:
        data_dir: a folder with `annotations.json` (ActivityNet layout, with
            `"subset"` and `"duration"` per video) and the videos, named by
            their id, anywhere below it.

    Returns:
        a dict: `"videos"` (id -> `{"path", "subset", "duration"}`),
        `"records"` (the `TemporalAnnotation` list), `"class_names"` (the
        sorted labels of the training videos).

    Raises:
        FileNotFoundError: no `annotations.json`, or an annotated video has
            no file (named).
        ValueError: a bad annotation (named by the reader), or no training
            or no validation video.
    """
    from keras_video.data.listing import index_directory
    from keras_video.detection.annotations import read_activitynet_json

    annotations = os.path.join(data_dir, "annotations.json")
    if not os.path.isfile(annotations):
        raise FileNotFoundError(
            f"No annotations.json in the data folder. Received: data_dir={data_dir!r}"
        )
    records = read_activitynet_json(annotations)
    with open(annotations) as f:
        database = json.load(f)["database"]
    files = {
        os.path.splitext(os.path.basename(p))[0]: p
        for p in index_directory(data_dir, labels=None).paths
    }
    videos = {}
    for video, entry in database.items():
        if video not in files:
            raise FileNotFoundError(
                f"{annotations}: video {video!r} has no file under {data_dir}."
            )
        videos[video] = {
            "path": files[video],
            "subset": entry["subset"],
            "duration": float(entry["duration"]),
        }
    class_names = sorted({r.label for r in records if r.subset == "training"})
    for subset in ("training", "validation"):
        if not any(v["subset"] == subset for v in videos.values()):
            raise ValueError(f"{annotations}: no {subset!r} video.")
    return {"videos": videos, "records": records, "class_names": class_names}


def snippet_labels(snippets, fps, segments, labels, background):
    """The label of every snippet: the action covering at least half of its
    time span, else `background`.

    Args:
        snippets: int `(S, L)` frame indices (`features.snippet_indices`).
        fps: frames per second.
        segments: `(N, 2)` action segments in seconds; labels: `(N,)`.
        background: the label of snippets no action covers.

    Returns:
        int64 `(S,)`.
    """
    start = snippets[:, 0] / fps
    end = (snippets[:, -1] + 1) / fps
    result = np.full(len(snippets), background, np.int64)
    best = np.zeros(len(snippets))
    for (a, b), label in zip(np.reshape(segments, (-1, 2)), labels, strict=True):
        covered = np.clip(np.minimum(end, b) - np.maximum(start, a), 0, None)
        fraction = covered / (end - start)
        better = (fraction >= 0.5) & (fraction > best)
        result[better], best[better] = label, fraction[better]
    return result


def _video_snippets(path, recipe):
    """uint8 `(S, L, size, size, 3)` snippets of one video, and its fps and
    snippet frame indices."""
    from keras_video.data.video import VideoReader
    from keras_video.detection.features import resize_and_crop, snippet_indices

    with VideoReader(path) as reader:
        snippets = snippet_indices(
            reader.num_frames, recipe.snippet_length, recipe.snippet_stride,
            recipe.frame_step,
        )  # fmt: skip
        needed = [int(i) for i in np.unique(snippets)]
        size = (recipe.image_size, recipe.image_size)
        frames = {
            i: resize_and_crop(frame, size)
            for i, frame in zip(needed, reader.get_clips([needed])[0], strict=True)
        }
        clips = np.stack([np.stack([frames[int(i)] for i in s]) for s in snippets])
        return clips, reader.fps, snippets


# ------------------------------------------------------------------ the models


def build_snippet_models(recipe, num_classes):
    """`(classifier, feature_model)`: the backbone with its rescaling, max
    pooled, and a linear layer over `num_classes` actions + background
    (`"snippet_logits"`); the feature model shares the classifier's weights.
    """
    from keras_video.detection.features import build_backbone

    shape = (recipe.snippet_length, recipe.image_size, recipe.image_size, 3)
    inputs = keras.Input(shape, name="snippets")
    x = inputs
    if recipe.rescale is not None:
        scale, offset = recipe.rescale
        x = keras.layers.Rescaling(scale, offset, name="rescale")(x)
    base = build_backbone(
        recipe.backbone, recipe.backbone_weights, shape, pooling=recipe.pooling,
        **recipe.backbone_args,
    )  # fmt: skip
    features = base(x)
    logits = keras.layers.Dense(num_classes + 1, name="snippet_logits")(
        keras.layers.Dropout(recipe.snippet_dropout, name="snippet_dropout")(features)
    )
    classifier = keras.Model(inputs, logits, name="snippet_classifier")
    return classifier, keras.Model(inputs, features, name="snippet_features")


def _softmax(logits):
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def train_snippet_classifier(recipe, data, run_dir, verbose):
    """Step 1: trains (or reloads from `run_dir`) the snippet classifier.

    Returns:
        the classifier, a `keras.Model` taking `[0, 255]` snippets.
    """
    path = os.path.join(run_dir, "snippet_classifier.keras")
    if os.path.isfile(path):
        return keras.saving.load_model(path)
    class_index = {name: i for i, name in enumerate(data["class_names"])}
    clips, targets = [], []
    for video, info in data["videos"].items():
        if info["subset"] != "training":
            continue
        found = [r for r in data["records"] if r.video == video]
        snippets_uint8, fps, snippets = _video_snippets(info["path"], recipe)
        clips.append(snippets_uint8)
        targets.append(
            snippet_labels(
                snippets,
                fps,
                [(r.start, r.end) for r in found],
                [class_index[r.label] for r in found],
                len(class_index),
            )  # fmt: skip
        )
    clips, targets = np.concatenate(clips), np.concatenate(targets)
    classifier, _ = build_snippet_models(recipe, len(class_index))
    steps = math.ceil(len(clips) / recipe.snippet_batch_size)
    stage = recipe.replace(learning_rate=recipe.backbone_learning_rate)
    classifier.compile(
        optimizer=make_optimizer(stage, steps, recipe.backbone_epochs),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    classifier.fit(
        clips, targets, batch_size=recipe.snippet_batch_size,
        epochs=recipe.backbone_epochs, shuffle=True, verbose=verbose,
    )  # fmt: skip
    checkpoints.atomic_save(path, classifier.save)
    return classifier


def video_features(feature_model, path, recipe):
    """Step 2 for one video: `(features (S, C), times (S,))`."""
    from keras_video.detection.features import extract_features

    return extract_features(
        feature_model, path, recipe.snippet_length, recipe.snippet_stride,
        recipe.frame_step, batch_size=64,
    )  # fmt: skip


# ------------------------------------------------------------------ the run


def _scores_table(result, thresholds):
    return {
        "mAP": {
            f"{t:g}": float(v) for t, v in zip(thresholds, result["mAP"], strict=True)
        },
        "average_mAP": float(result["average_mAP"]),
    }


def train_localization(
    recipe,
    data_dir,
    run_dir,
    distribute=False,
    verbose="auto",
    callbacks=None,
    evaluate=True,
    tensorboard=False,
):
    """Runs a `LocalizationRecipe` on `data_dir`, writing to `run_dir`.

    See the module docstring for the steps and the files.

    Args:
        recipe: a `LocalizationRecipe`.
        data_dir: videos and `annotations.json` (see
            `read_localization_folder`).
        run_dir: output folder (created).
        distribute: not supported (the localiser trains on features in
            seconds on one device); `True` is an error.
        verbose: Keras verbosity of the two trainings.
        callbacks: extra Keras callbacks for the localiser's training.
        evaluate: score the validation videos (both methods).
        tensorboard: accepted for the `keras-video train` interface; no logs.

    Returns:
        a dict: `"eval"` (the contents of `eval.json`, or `None`),
        `"model_path"`, `"policy"`, `"class_names"`, `"model"`, `"history"`.
    """
    from keras_video.detection import (
        DIoULoss,
        SigmoidFocalLoss,
        TemporalLabelEncoder,
        TemporalLocalizer,
        activitynet_map,
        decode_detections,
        resample_features,
        sliding_window_detections,
        to_activitynet_results,
        to_steps,
    )

    if not isinstance(recipe, LocalizationRecipe):
        raise TypeError(f"`recipe` must be a LocalizationRecipe. Received: {recipe!r}")
    if distribute:
        raise ValueError(
            "A localisation recipe trains on one device. Received: distribute=True"
        )
    del tensorboard
    verbose = 0 if verbose in (0, False) else "auto"
    os.makedirs(run_dir, exist_ok=True)
    checkpoints.remove_temporary_files(run_dir)
    checkpoints.atomic_save(os.path.join(run_dir, "recipe.json"), recipe.save)
    data = read_localization_folder(data_dir)
    class_names = data["class_names"]
    num_classes = len(class_names)
    checkpoints.atomic_write_json(
        os.path.join(run_dir, "class_names.json"), class_names
    )
    keras.utils.set_random_seed(recipe.seed)

    # Steps 1-2: snippet classifier, features (and class probabilities).
    if recipe.train_backbone:
        classifier = train_snippet_classifier(recipe, data, run_dir, verbose)
        feature_model = keras.Model(
            classifier.inputs, classifier.get_layer("snippet_dropout").input
        )
        head = classifier.get_layer("snippet_logits")
    else:
        _, feature_model = build_snippet_models(recipe, num_classes)
        head = None
    features, probabilities = {}, {}
    for video, info in data["videos"].items():
        f, times = video_features(feature_model, info["path"], recipe)
        features[video] = (f, times)
        if head is not None:
            kernel, bias = (np.asarray(w) for w in head.get_weights())
            probabilities[video] = _softmax(f @ kernel + bias)[:, :num_classes]

    # Step 3: fixed-length sequences and their targets.
    encoder = TemporalLabelEncoder(
        num_classes, recipe.sequence_length, recipe.num_levels, snippet_duration=1.0
    )
    class_index = {name: i for i, name in enumerate(class_names)}
    split = {"training": [], "validation": []}
    sequences, targets = {}, {}
    for video, info in data["videos"].items():
        seq = resample_features(*features[video], recipe.sequence_length)
        found = [
            r for r in data["records"] if r.video == video and r.label in class_index
        ]
        steps, keep = to_steps(
            [(r.start, r.end) for r in found], seq.time_offset, seq.step_duration,
            recipe.sequence_length,
        )  # fmt: skip
        labels = np.array([class_index[r.label] for r in found], np.int64)[keep]
        sequences[video], targets[video] = seq, encoder(steps, labels)
        if info["subset"] in split:
            split[info["subset"]].append(video)

    def arrays(videos):
        x = np.stack([sequences[v].features for v in videos])
        y = {k: np.stack([targets[v][k] for v in videos]) for k in targets[videos[0]]}
        return x, y

    # Step 4: the localiser.
    policy = precision_lib.resolve_precision(recipe.precision)
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        model = TemporalLocalizer(
            num_classes, input_dim=features[split["training"][0]][0].shape[-1],
            sequence_length=recipe.sequence_length, num_levels=recipe.num_levels,
            embed_dim=recipe.embed_dim, **recipe.localizer_args,
        )  # fmt: skip
    finally:
        keras.config.set_dtype_policy(previous_policy)
    x_train, y_train = arrays(split["training"])
    steps_per_epoch = math.ceil(len(x_train) / recipe.batch_size)
    model.compile(
        optimizer=precision_lib.wrap_optimizer(
            make_optimizer(recipe, steps_per_epoch), policy
        ),
        loss={"classification": SigmoidFocalLoss(), "regression": DIoULoss()},
    )
    history = model.fit(
        x_train, y_train, batch_size=recipe.batch_size, epochs=recipe.epochs,
        shuffle=True, verbose=verbose,
        callbacks=[keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"))]
        + list(callbacks or []),
    )  # fmt: skip
    model_path = os.path.join(run_dir, "localizer.keras")
    checkpoints.atomic_save(model_path, model.save)
    result = {
        "eval": None,
        "model_path": model_path,
        "policy": policy,
        "class_names": class_names,
        "model": model,
        "history": history.history,
    }
    if not evaluate:
        return result

    # Step 5: both methods on the validation videos.
    videos = split["validation"]
    x_val, _ = arrays(videos)
    outputs = model.predict(x_val, batch_size=recipe.batch_size, verbose=0)
    decoded = decode_detections(
        outputs, recipe.sequence_length, recipe.num_levels,
        snippet_duration=[sequences[v].step_duration for v in videos],
        time_offset=[sequences[v].time_offset for v in videos],
        method=recipe.nms, sigma=recipe.sigma, max_detections=recipe.max_detections,
    )  # fmt: skip
    methods = {"localizer": decoded}
    if probabilities:
        contexts = {"sliding_window": recipe.baseline_context}
        if recipe.baseline_context > 0:
            contexts["sliding_window_mean"] = 0.0
        for method, context in contexts.items():
            methods[method] = [
                sliding_window_detections(
                    probabilities[v],
                    features[v][1],
                    recipe.baseline_windows,
                    overlap=recipe.baseline_overlap,
                    context=context,
                    method=recipe.nms,
                    sigma=recipe.sigma,
                    max_detections=recipe.max_detections,
                )  # fmt: skip
                for v in videos
            ]
    scores = {}
    for method, found in methods.items():
        results = to_activitynet_results(found, videos, class_names)
        checkpoints.atomic_write_json(
            os.path.join(run_dir, f"detections_{method}.json"), results
        )
        scores[method] = _scores_table(
            activitynet_map(
                data["records"], results, recipe.tiou_thresholds, subset="validation"
            ),
            recipe.tiou_thresholds,
        )
    report = {
        **scores,
        "protocol": {
            "subset": "validation",
            "num_videos": len(videos),
            "tiou_thresholds": list(recipe.tiou_thresholds),
            "metric": "ActivityNet detection mAP (detection.activitynet_map)",
            "snippet_length": recipe.snippet_length,
            "snippet_stride": recipe.snippet_stride,
            "frame_step": recipe.frame_step,
            "sequence_length": recipe.sequence_length,
            "nms": recipe.nms,
            "baseline_windows": list(recipe.baseline_windows),
            "baseline_overlap": recipe.baseline_overlap,
            "baseline_context": recipe.baseline_context,
        },
    }
    checkpoints.atomic_write_json(os.path.join(run_dir, "eval.json"), report, indent=2)
    _write_timeline(run_dir, data, videos[:4], decoded, class_names)
    result["eval"] = report
    return result


def _write_timeline(run_dir, data, videos, detections, class_names):
    from keras_video.detection.timeline import plot_timeline

    class_index = {name: i for i, name in enumerate(class_names)}
    plot_timeline(
        os.path.join(run_dir, "timeline.png"),
        [
            {
                "name": video,
                "duration": data["videos"][video]["duration"],
                "truth": [
                    (r.start, r.end, class_index[r.label])
                    for r in data["records"]
                    if r.video == video and r.label in class_index
                ],
                "detections": found,
            }
            for video, found in zip(videos, detections, strict=False)
        ],
        class_names,
        title="validation videos: true segments (top) and the localiser's (bottom)",
    )


def format_scores(report):
    """The eval report's mAP table as text, one row per method."""
    methods = [
        m for m in ("localizer", "sliding_window", "sliding_window_mean") if m in report
    ]
    thresholds = list(report[methods[0]]["mAP"])
    lines = [
        "method              "
        + "  ".join(f"mAP@{t:<4}" for t in thresholds)
        + "  average"
    ]
    for method in methods:
        row = report[method]
        lines.append(
            f"{method:<20}"
            + "  ".join(f"{100 * row['mAP'][t]:8.1f}" for t in thresholds)
            + f"  {100 * row['average_mAP']:7.1f}"
        )
    return "\n".join(lines)
