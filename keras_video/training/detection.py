"""AVA-style action detection, end to end: keyframes -> detector -> frame-mAP.

`keras-video train recipes/detection/<recipe>.py --data DIR` runs
`train_detection` on a folder in AVA's layout (the one
`keras_video.data.write_actor_dataset` writes): `videos/<video_id>.<ext>`,
`train.csv` and `val.csv` (annotations), `label_map.pbtxt` and
`val_proposals.csv` (person boxes with scores); the names are recipe fields.

1. Data: `keras_video.data.ava_dataset` over the training keyframes with
   their ground-truth boxes (AVA's training protocol); with `augment`, a
   random flip (and crop without `full_frame`) of clip and boxes alike.
2. The detector: `keras_video.detection.ActionDetector` on the clip backbone
   (`SlowFast` by default, `include_top=False`, the frames rescaled in the
   model), trained with binary cross-entropy per action, the box mask as the
   sample weight (padding rows cost nothing), AdamW with warmup and cosine
   decay, mixed precision where the device has it (`precision="auto"`).
3. The whole-frame baseline: the same backbone, globally pooled, and a
   sigmoid classifier over the actions present anywhere in the keyframe
   (`frame_targets`): it sees no box. It trains on the same keyframes, with
   the same schedule.
4. Evaluation on the `val_annotations` videos as AVA's protocol: person
   proposals scoring at least `proposal_score_threshold` (or the ground-truth
   boxes with `val_boxes=None`); the detector scores each box, the baseline
   gives each box its keyframe's scores (`whole_frame_box_scores`); both as
   AVA detection rows scored by `keras_video.detection.ava_frame_map`
   (frame-mAP at IoU 0.5, equal to the official evaluator). The baseline's
   `keyframe_classification_map` says how well it names the actions of a
   keyframe, whoever does them.

```
run_dir/
  recipe.json                    the recipe as run (its "task" is "detection")
  label_map.pbtxt                the classes (action ids and names)
  class_names.json               score column -> action name
  detector.keras                 step 2's model: {"clip", "boxes"} -> (B, N, C)
  baseline.keras                 step 3's model: clip -> (B, C)
  history.csv                    the detector's per-epoch loss
  baseline_history.csv           the baseline's
  detections_detector.csv        validation detections, AVA's 8 columns
  detections_whole_frame.csv     the baseline's
  eval.json                      frame-mAP and per-class AP of both, the
                                 baseline's keyframe_classification_map,
                                 the protocol
  detections.png                 the detector's labels on validation keyframes
```
"""

import dataclasses
import importlib.util
import math
import os
import typing

import keras
import numpy as np

from keras_video.training import checkpoints
from keras_video.training import precision as precision_lib
from keras_video.training.recipe import RecipeBase
from keras_video.training.runner import make_optimizer

METHODS = ("detector", "whole_frame")


def _tiny_slowfast():
    # The demo's SlowFast-small (VGG-style plain blocks, no stem): stride 8,
    # 8x8 maps of 64x64 frames.
    return {
        "base_filters": 16,
        "stage_blocks": (1, 1, 1),
        "stem": None,
        "block": "plain",
        "alpha": 4,
        "beta": 1 / 4,
        "fusion_kernel": 3,
    }


@dataclasses.dataclass
class DetectionRecipe(RecipeBase):
    """Everything an AVA-style detection run needs besides the data folder.

    Attributes:
        backbone: a name of `keras_video.applications.MODELS` (`"slowfast"`)
            or `"module:function"`, built with `include_top=False`.
        backbone_args: its constructor arguments (widths, stages); the
            default is a small SlowFast for 64x64 frames.
        backbone_weights: the backbone's `weights` (`None`, a preset, a path).
        rescale: `(scale, offset)` applied to the `[0, 255]` frames in the
            models, or `None`.
        head_args: other `ActionDetector` arguments (`output_size`,
            `sampling_ratio`, `aligned`, `spatial_scale`).
        dropout_rate: dropout before both classifiers.
        baseline: also train and score the whole-frame baseline.
        baseline_pooling: the baseline's global pooling, `"max"` or `"avg"`.
        clip_length, frame_step: the clip around each keyframe (keyframe at
            frame `clip_length // 2`).
        image_size: side of the square frames the models see.
        full_frame: resize whole frames to `image_size` (no crop, no box
            cut); `False` takes a short-side resize and a crop.
        augment: random horizontal flip (and, without `full_frame`, scale
            and crop) of the training keyframes, boxes alike. Off by default:
            the synthetic set's actions are directions, and a mirror turns
            "left" into "right" without changing the label; AVA's actions
            do not change in a mirror (PySlowFast flips).
        video_folder, train_annotations, val_annotations, label_map: files of
            the data folder; `val_boxes`: the validation proposal CSV, or
            `None` to test on the ground-truth boxes; `excluded`: an
            excluded-timestamps CSV or `None`.
        proposal_score_threshold: proposals scoring at least this are tested
            (AVA: 0.8).
        keyframe_range: `(first, last)` timestamps, or `None` for all (the
            synthetic set's keyframes are 1 s .. duration - 1 s; AVA's are
            `(902, 1798)`); `time_offset`: seconds from timestamps to file time.
        epochs: epochs of both trainings; `batch_size`, `optimizer`,
            `learning_rate`, `weight_decay` and `warmup_epochs` as `Recipe`'s.
        precision: `"auto"`, `"float32"`, `"mixed_float16"` or
            `"mixed_bfloat16"`.
        seed: seeds initialisation, shuffling and augmentation.
    """

    backbone: str = "slowfast"
    backbone_args: dict = dataclasses.field(default_factory=_tiny_slowfast)
    backbone_weights: str | None = None
    rescale: tuple | None = (1 / 127.5, -1.0)
    head_args: dict = dataclasses.field(default_factory=dict)
    dropout_rate: float = 0.5
    baseline: bool = True
    baseline_pooling: str = "max"
    clip_length: int = 8
    frame_step: int = 2
    image_size: int = 64
    full_frame: bool = True
    augment: bool = False
    video_folder: str = "videos"
    train_annotations: str = "train.csv"
    val_annotations: str = "val.csv"
    label_map: str = "label_map.pbtxt"
    val_boxes: str | None = "val_proposals.csv"
    excluded: str | None = None
    proposal_score_threshold: float = 0.8
    keyframe_range: tuple | None = None
    time_offset: float = 0.0
    epochs: int = 20
    batch_size: int = 16
    optimizer: str = "adamw"
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    warmup_epochs: float = 1.0
    precision: str = "auto"
    seed: int = 1337

    task: typing.ClassVar[str] = "detection"


# ------------------------------------------------------------------ the models


def build_rescaled_backbone(recipe, pooling=None):
    """The recipe's clip backbone with its rescaling: `[0, 255]` clips of
    `(clip_length, image_size, image_size, 3)` -> the feature maps
    (`pooling=None`) or one vector per clip (`"avg"`, `"max"`)."""
    from keras_video.detection.features import build_backbone as build

    shape = (recipe.clip_length, recipe.image_size, recipe.image_size, 3)
    inputs = keras.Input(shape, name="clip")
    x = inputs
    if recipe.rescale is not None:
        scale, offset = recipe.rescale
        x = keras.layers.Rescaling(scale, offset, name="rescale")(x)
    base = build(
        recipe.backbone, recipe.backbone_weights, shape, pooling=pooling,
        **recipe.backbone_args,
    )  # fmt: skip
    return keras.Model(inputs, base(x), name="backbone")


def build_detector(recipe, num_classes):
    """`ActionDetector` on the recipe's backbone: `{"clip": (B, T, H, W, 3)
    [0, 255], "boxes": (B, N, 4) pixels}` -> `(B, N, num_classes)` sigmoid
    scores (float32)."""
    from keras_video.detection import ActionDetector

    return ActionDetector(
        build_rescaled_backbone(recipe), num_classes, dropout_rate=recipe.dropout_rate,
        name="detector", **recipe.head_args,
    )  # fmt: skip


def build_whole_frame_classifier(recipe, num_classes):
    """The baseline: the same backbone globally pooled (`baseline_pooling`),
    dropout and a sigmoid classifier (float32): `(B, T, H, W, 3)` `[0, 255]`
    -> `(B, num_classes)` scores of the actions present in the clip."""
    backbone = build_rescaled_backbone(recipe, pooling=recipe.baseline_pooling)
    x = keras.layers.Dropout(recipe.dropout_rate, name="dropout")(backbone.output)
    scores = keras.layers.Dense(
        num_classes, activation="sigmoid", dtype="float32", name="predictions"
    )(x)
    return keras.Model(backbone.inputs, scores, name="whole_frame_classifier")


def frame_targets(features, labels, box_mask):
    """The baseline's training element from an `ava_dataset` element: the
    clip and the actions of any real box of its keyframe.

    Args:
        features: `{"clip": (B, T, H, W, 3), "boxes": (B, N, 4)}`.
        labels: `(B, N, C)` multi-hot; box_mask: `(B, N)`.

    Returns:
        `(clip, targets)`, `targets` float32 `(B, C)`: 1 where some box with
        mask 1 has the action.
    """
    import tensorflow as tf

    masked = labels * tf.cast(box_mask, labels.dtype)[..., None]
    return features["clip"], tf.reduce_max(masked, axis=1)


def whole_frame_box_scores(frame_scores, box_mask):
    """The whole-frame baseline's scores as box scores: every real box of a
    keyframe gets its keyframe's scores; padding rows get 0.

    Args:
        frame_scores: `(B, C)` scores per keyframe.
        box_mask: `(B, N)`, nonzero for a real box.

    Returns:
        float32 `(B, N, C)`.
    """
    frame_scores = np.asarray(frame_scores, dtype=np.float32)
    box_mask = np.asarray(box_mask)
    if frame_scores.ndim != 2 or box_mask.ndim != 2:
        raise ValueError(
            "`frame_scores` must be (B, C) and `box_mask` (B, N). Received: "
            f"frame_scores.shape={frame_scores.shape}, box_mask.shape={box_mask.shape}"
        )
    if len(frame_scores) != len(box_mask):
        raise ValueError(
            "`frame_scores` and `box_mask` need the same batch size. Received: "
            f"frame_scores.shape={frame_scores.shape}, box_mask.shape={box_mask.shape}"
        )
    real = (box_mask != 0)[..., None]
    return np.where(real, frame_scores[:, None, :], np.float32(0))


# ------------------------------------------------------------------ the run


def _datasets(recipe, data_dir, with_validation):
    from keras_video.data.ava_dataset import ava_dataset

    def path(name):
        return None if name is None else os.path.join(data_dir, name)

    common = dict(
        video_dir=path(recipe.video_folder),
        label_map=path(recipe.label_map),
        excluded=path(recipe.excluded),
        keyframe_range=recipe.keyframe_range,
        time_offset=recipe.time_offset,
        batch_size=recipe.batch_size,
        clip_length=recipe.clip_length,
        frame_step=recipe.frame_step,
        image_size=(recipe.image_size, recipe.image_size),
        full_frame=recipe.full_frame,
        seed=recipe.seed,
    )
    train = ava_dataset(
        annotations=path(recipe.train_annotations), augment=recipe.augment, **common
    )
    if not with_validation:
        return train, None
    val = ava_dataset(
        annotations=path(recipe.val_annotations),
        boxes=path(recipe.val_boxes) or "ground_truth",
        proposal_score_threshold=recipe.proposal_score_threshold,
        shuffle=False,
        with_metadata=True,
        **common,
    )
    return train, val


def _fit(model, recipe, dataset, steps_per_epoch, policy, history_path, callbacks,
         verbose):  # fmt: skip
    model.compile(
        optimizer=precision_lib.wrap_optimizer(
            make_optimizer(recipe, steps_per_epoch), policy
        ),
        loss=keras.losses.BinaryCrossentropy(),
    )
    return model.fit(
        dataset, epochs=recipe.epochs, verbose=verbose,
        callbacks=[keras.callbacks.CSVLogger(history_path)] + list(callbacks),
    ).history  # fmt: skip


def _built(policy, build):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        return build()
    finally:
        keras.config.set_dtype_policy(previous)


def _json_ap(result):
    def value(v):
        return None if math.isnan(v) else float(v)

    return {
        "mAP": value(result["mAP"]),
        "per_class_AP": {str(k): value(v) for k, v in result["per_class_AP"].items()},
    }


def keyframe_classification_map(scores, truth):
    """How well the whole-frame baseline names the actions of a keyframe,
    whoever does them: per class, the PASCAL VOC AP of the keyframes ranked
    by score against the truth, averaged over the classes with a positive.

    Args:
        scores: `(K, C)` scores of `K` keyframes.
        truth: `(K, C)` multi-hot: the actions of the keyframe's actors.

    Returns:
        the mean AP (float), or `None` when no class has a positive.
    """
    scores, truth = np.asarray(scores), np.asarray(truth)
    from keras_video.detection.ava_evaluation import pascal_average_precision

    aps = [
        pascal_average_precision(scores[:, c], truth[:, c] > 0, int(truth[:, c].sum()))
        for c in range(truth.shape[1])
        if truth[:, c].any()
    ]
    return float(np.mean(aps)) if aps else None


def train_detection(
    recipe,
    data_dir,
    run_dir,
    distribute=False,
    verbose="auto",
    callbacks=None,
    evaluate=True,
    tensorboard=False,
):
    """Runs a `DetectionRecipe` on `data_dir`, writing to `run_dir`.

    See the module docstring for the steps and the files.

    Args:
        recipe: a `DetectionRecipe`.
        data_dir: a folder in AVA's layout (see the module docstring).
        run_dir: output folder (created).
        distribute: not supported; `True` is an error.
        verbose: Keras verbosity of the trainings.
        callbacks: extra Keras callbacks for both trainings.
        evaluate: score the validation keyframes (both methods).
        tensorboard: TensorBoard logs of the detector in `run_dir/logs`
            (when the `tensorboard` package is installed).

    Returns:
        a dict: `"eval"` (the contents of `eval.json`, or `None`),
        `"model_path"`, `"policy"`, `"class_names"`, `"model"` (the
        detector), `"baseline"` (or `None`), `"history"` (the detector's).
    """
    from keras_video import detection

    if not isinstance(recipe, DetectionRecipe):
        raise TypeError(f"`recipe` must be a DetectionRecipe. Received: {recipe!r}")
    if distribute:
        raise ValueError(
            "A detection recipe trains on one device. Received: distribute=True"
        )
    if recipe.baseline_pooling not in ("max", "avg"):
        raise ValueError(
            "`baseline_pooling` must be 'max' or 'avg'. "
            f"Received: baseline_pooling={recipe.baseline_pooling!r}"
        )
    verbose = 0 if verbose in (0, False) else "auto"
    callbacks = list(callbacks or [])
    os.makedirs(run_dir, exist_ok=True)
    checkpoints.remove_temporary_files(run_dir)
    checkpoints.atomic_save(os.path.join(run_dir, "recipe.json"), recipe.save)
    train, val = _datasets(recipe, data_dir, evaluate)
    class_ids, class_names = list(train.class_ids), list(train.class_names)
    num_classes = len(class_ids)
    label_map = dict(zip(class_ids, class_names, strict=True))
    detection.write_ava_label_map(os.path.join(run_dir, "label_map.pbtxt"), label_map)
    checkpoints.atomic_write_json(
        os.path.join(run_dir, "class_names.json"), class_names
    )
    policy = precision_lib.resolve_precision(recipe.precision)
    steps = math.ceil(len(train.keyframes) / recipe.batch_size)

    # Step 2: the detector on ground-truth boxes, the box mask as the weight.
    keras.utils.set_random_seed(recipe.seed)
    model = _built(policy, lambda: build_detector(recipe, num_classes))
    detector_callbacks = list(callbacks)
    if tensorboard and importlib.util.find_spec("tensorboard") is not None:
        detector_callbacks.append(
            keras.callbacks.TensorBoard(os.path.join(run_dir, "logs"))
        )
    history = _fit(
        model, recipe, train, steps, policy, os.path.join(run_dir, "history.csv"),
        detector_callbacks, verbose,
    )  # fmt: skip
    model_path = os.path.join(run_dir, "detector.keras")
    checkpoints.atomic_save(model_path, model.save)

    # Step 3: the whole-frame baseline on the same keyframes.
    baseline = None
    if recipe.baseline:
        keras.utils.set_random_seed(recipe.seed)
        baseline = _built(
            policy, lambda: build_whole_frame_classifier(recipe, num_classes)
        )
        _fit(
            baseline, recipe, train.map(frame_targets), steps, policy,
            os.path.join(run_dir, "baseline_history.csv"), callbacks, verbose,
        )  # fmt: skip
        checkpoints.atomic_save(os.path.join(run_dir, "baseline.keras"), baseline.save)
    result = {
        "eval": None,
        "model_path": model_path,
        "policy": policy,
        "class_names": class_names,
        "model": model,
        "baseline": baseline,
        "history": history,
    }
    if not evaluate:
        return result

    # Step 4: both methods on the validation keyframes (proposals).
    rows = {method: [] for method in METHODS[: 1 + (baseline is not None)]}
    frames = {"scores": [], "truth": []}
    shown = {}
    for features, labels, box_mask, meta in val:
        features = {k: v.numpy() for k, v in features.items()}
        mask, meta = box_mask.numpy(), {k: v.numpy() for k, v in meta.items()}
        scores = {"detector": np.asarray(model.predict_on_batch(features))}
        if baseline is not None:
            frame_scores = np.asarray(baseline.predict_on_batch(features["clip"]))
            scores["whole_frame"] = whole_frame_box_scores(frame_scores, mask)
            frames["scores"].append(frame_scores)
            frames["truth"].append(np.max(labels.numpy() * mask[..., None], axis=1))
        for method, found in scores.items():
            rows[method] += detection.to_ava_detections(
                meta["video_id"], meta["timestamp"], meta["source_boxes"], mask,
                found, class_ids,
            )  # fmt: skip
        for b, video in enumerate(meta["video_id"]):
            if video not in shown and len(shown) < 4:
                shown[video] = (
                    features["clip"][b, recipe.clip_length // 2],
                    features["boxes"][b][mask[b] > 0],
                    scores["detector"][b][mask[b] > 0],
                    labels.numpy()[b][mask[b] > 0],
                    f"{video.decode()} at {int(meta['timestamp'][b])} s",
                )
    ground_truth = os.path.join(data_dir, recipe.val_annotations)
    excluded = (
        None if recipe.excluded is None else os.path.join(data_dir, recipe.excluded)
    )
    report = {}
    for method, found in rows.items():
        detection.write_ava_csv(
            os.path.join(run_dir, f"detections_{method}.csv"), found
        )
        report[method] = _json_ap(
            detection.ava_frame_map(label_map, ground_truth, found, excluded)
        )
    if baseline is not None:
        report["whole_frame"]["keyframe_classification_mAP"] = (
            keyframe_classification_map(
                np.concatenate(frames["scores"]), np.concatenate(frames["truth"])
            )
        )
    report["class_names"] = {str(i): n for i, n in label_map.items()}
    report["protocol"] = {
        "metric": "frame-mAP@0.5 (detection.ava_frame_map, the official AVA "
        "v2.1 evaluator)",
        "iou_threshold": 0.5,
        "ground_truth": recipe.val_annotations,
        "boxes": (
            f"{recipe.val_boxes}, score >= {recipe.proposal_score_threshold:g}"
            if recipe.val_boxes
            else "ground truth"
        ),
        "num_videos": len({k.video_id for k in val.keyframes}),
        "num_keyframes": len(val.keyframes),
        "training_boxes": "ground truth",
        "num_training_keyframes": len(train.keyframes),
        "clip_length": recipe.clip_length,
        "frame_step": recipe.frame_step,
        "image_size": recipe.image_size,
        "full_frame": recipe.full_frame,
        "baseline": "whole-frame multi-label classifier (same backbone, "
        f"{recipe.baseline_pooling} pooled), its scores given to every box",
        "precision": policy,
    }
    checkpoints.atomic_write_json(os.path.join(run_dir, "eval.json"), report, indent=2)
    _plot_keyframes(os.path.join(run_dir, "detections.png"), list(shown.values()),
                    class_names)  # fmt: skip
    result["eval"] = report
    return result


def _plot_keyframes(path, keyframes, class_names, score_threshold=0.5):
    """A PNG of keyframes with each box's best action and score: green where
    it is a true action of the box, red where not, grey where the box is no
    actor (a false proposal); dashed where the score is below
    `score_threshold`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not keyframes:
        return None
    fig, axes = plt.subplots(
        1, len(keyframes), figsize=(3.2 * len(keyframes), 3.6), squeeze=False
    )
    for ax, (frame, boxes, scores, labels, title) in zip(
        axes[0], keyframes, strict=True
    ):
        ax.imshow(np.clip(frame, 0, 255).astype(np.uint8), interpolation="nearest")
        for box, score, label in zip(boxes, scores, labels, strict=True):
            k = int(np.argmax(score))
            x1, y1, x2, y2 = (float(v) for v in box)
            colour = "lightgrey"
            if label.any():
                colour = "lime" if label[k] else "red"
            style = "-" if score[k] >= score_threshold else "--"
            ax.add_patch(
                matplotlib.patches.Rectangle(
                    (x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False,
                    edgecolor=colour, linestyle=style, linewidth=1.5,
                )
            )  # fmt: skip
            text = f"{class_names[k]} {score[k]:.2f}"
            if colour == "red":
                truth = "+".join(class_names[j] for j in np.flatnonzero(label))
                text += f" (true: {truth})"
            box_style = dict(facecolor=colour, alpha=0.8, pad=1, linewidth=0)
            ax.text(x1 - 0.5, y1 - 1.0, text, color="black", fontsize=7,
                    va="bottom", bbox=box_style)  # fmt: skip
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    fig.suptitle(
        "the detector's best action per proposal box: green correct, red wrong, "
        f"grey no actor (a false proposal); dashed: score < {score_threshold:g}",
        fontsize=8,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def format_scores(report):
    """The eval report as text: frame-mAP@0.5 and per-class AP per method."""
    ids = list(report["class_names"])
    names = [report["class_names"][i] for i in ids]
    width = max([6, *(len(n) for n in names)])

    def cell(value, w):
        return f"{'-':>{w}}" if value is None else f"{100 * value:{w}.1f}"

    lines = [
        "method        frame-mAP@0.5  " + "  ".join(f"{n:>{width}}" for n in names)
    ]
    for method in METHODS:
        if method in report:
            row = report[method]
            lines.append(
                f"{method:<14}{cell(row['mAP'], 13)}  "
                + "  ".join(cell(row["per_class_AP"][i], width) for i in ids)
            )
    found = report.get("whole_frame", {}).get("keyframe_classification_mAP")
    if found is not None:
        lines.append(
            f"(the whole-frame classifier's mAP at naming the actions of a "
            f"keyframe, whoever does them: {100 * found:.1f})"
        )
    return "\n".join(lines)
