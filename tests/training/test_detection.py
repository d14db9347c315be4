"""`keras_video.training.detection`: the AVA-style detection recipe end to end."""

import json

import keras
import numpy as np
import pytest

from keras_video import cli, detection
from keras_video.training import apply_overrides, load_recipe, tasks
from keras_video.training.detection import (
    DetectionRecipe,
    format_scores,
    frame_targets,
    keyframe_classification_map,
    whole_frame_box_scores,
)

TINY = dict(
    backbone_args={
        "base_filters": 4, "stage_blocks": (1, 1), "stem": None, "block": "plain",
        "alpha": 2, "beta": 0.25, "fusion_kernel": 3,
    },
    clip_length=4, frame_step=2, image_size=32, epochs=1, batch_size=8,
)  # fmt: skip


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    from keras_video.data.synthetic_actors import write_actor_dataset

    folder = tmp_path_factory.mktemp("actors")
    # 2 training and 2 validation videos of 3 s: keyframes at 1 s and 2 s.
    write_actor_dataset(
        folder, 4, seed=1, num_frames=24, fps=8, image_size=(32, 32),
        actor_size=(6, 9), validation_split=0.5,
    )  # fmt: skip
    return folder


def test_recipe_round_trip_overrides_and_loading(tmp_path):
    recipe = DetectionRecipe(**TINY)
    path = tmp_path / "recipe.json"
    recipe.save(path)
    assert json.loads(path.read_text())["task"] == "detection"
    assert load_recipe(str(path)) == recipe  # stage_blocks back as a tuple
    changed = apply_overrides(
        recipe, ["epochs=3", "backbone_args.base_filters=8", "keyframe_range=(1, 4)"]
    )
    assert changed.epochs == 3 and changed.backbone_args["base_filters"] == 8
    assert (
        changed.keyframe_range == (1, 4) and recipe.backbone_args["base_filters"] == 4
    )
    with pytest.raises(ValueError, match="Unknown recipe key 'base_filters'"):
        apply_overrides(recipe, ["base_filters=8"])
    assert tasks.recipe_class("detection") is DetectionRecipe
    assert tasks.trainer("detection").__name__ == "train_detection"


def test_the_shipped_recipe_loads_and_round_trips(tmp_path):
    recipe = load_recipe("recipes/detection/synthetic_slowfast.py")
    assert recipe.task == "detection" and recipe.backbone == "slowfast"
    recipe.save(tmp_path / "recipe.json")
    assert load_recipe(str(tmp_path / "recipe.json")) == recipe


def test_frame_targets_are_the_actions_of_the_real_boxes():
    import tensorflow as tf

    labels = tf.constant(
        [[[1, 0, 0], [0, 0, 1], [0, 1, 0]], [[0, 0, 1], [0, 0, 0], [1, 1, 0]]],
        tf.float32,
    )
    box_mask = tf.constant([[1, 1, 0], [1, 0, 0]], tf.float32)  # 0: padding
    clip = tf.zeros((2, 1, 2, 2, 3))
    out_clip, targets = frame_targets({"clip": clip, "boxes": None}, labels, box_mask)
    assert out_clip is clip
    np.testing.assert_array_equal(targets.numpy(), [[1, 0, 1], [0, 0, 1]])


def test_whole_frame_scores_go_to_every_box_and_cost_the_map():
    # Keyframe ("a", 1): actors P and Q both do action 1; ("b", 1): actor R
    # does action 2, then a padding row. The baseline scores frame a
    # (0.75, 0.625) and frame b (0.5, 0.375).
    frame_scores = np.array([[0.75, 0.625], [0.5, 0.375]], np.float32)
    box_mask = np.array([[1, 1], [1, 0]], np.float32)
    scores = whole_frame_box_scores(frame_scores, box_mask)
    np.testing.assert_array_equal(
        scores, [[[0.75, 0.625], [0.75, 0.625]], [[0.5, 0.375], [0.0, 0.0]]]
    )
    assert scores.dtype == np.float32
    p, q, r = (0.1, 0.1, 0.3, 0.3), (0.6, 0.6, 0.9, 0.9), (0.2, 0.2, 0.5, 0.5)
    boxes = np.array([[p, q], [r, (0, 0, 0, 0)]])
    rows = detection.to_ava_detections(["a", "b"], [1, 1], boxes, box_mask, scores,
                                       [1, 2])  # fmt: skip
    assert [(d.video_id, d.action_id, d.score) for d in rows] == [
        ("a", 1, 0.75), ("a", 2, 0.625), ("a", 1, 0.75), ("a", 2, 0.625),
        ("b", 1, 0.5), ("b", 2, 0.375),
    ]  # fmt: skip
    truth = [("a", 1, *p, 1, 0), ("a", 1, *q, 1, 1), ("b", 1, *r, 2, 0)]
    result = detection.ava_frame_map({1: "x", 2: "y"}, truth, rows)
    # Action 1: P 0.75 TP, Q 0.75 TP, R 0.5 FP -> AP 1. Action 2: P 0.625
    # FP, Q 0.625 FP, R 0.375 TP: precision 1/3 at recall 1 -> AP 1/3.
    assert result["per_class_AP"] == {1: 1.0, 2: pytest.approx(1 / 3)}
    assert result["mAP"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="same batch size"):
        whole_frame_box_scores(frame_scores, box_mask[:1])
    with pytest.raises(ValueError, match=r"frame_scores.shape=\(2,\)"):
        whole_frame_box_scores(frame_scores[:, 0], box_mask)


def test_keyframe_classification_map_by_hand():
    scores = [[0.9, 0.75, 0.5], [0.2, 0.5, 0.25], [0.6, 0.875, 0.125]]
    truth = [[1, 0, 0], [0, 1, 0], [0, 0, 0]]
    # Class 0: 0.9 T, 0.6 F, 0.2 F -> AP 1. Class 1: 0.875 F, 0.75 F, 0.5 T ->
    # AP 1/3. Class 2 has no positive: left out.
    assert keyframe_classification_map(scores, truth) == pytest.approx(2 / 3)
    assert keyframe_classification_map(scores, np.zeros((3, 3))) is None


def test_format_scores_marks_classes_without_ground_truth():
    report = {
        "class_names": {"1": "left", "2": "right"},
        "detector": {"mAP": 0.5, "per_class_AP": {"1": 0.5, "2": None}},
        "whole_frame": {
            "mAP": 0.25,
            "per_class_AP": {"1": 0.25, "2": None},
            "keyframe_classification_mAP": 0.75,
        },
    }
    assert format_scores(report).splitlines() == [
        "method        frame-mAP@0.5    left   right",
        "detector               50.0    50.0       -",
        "whole_frame            25.0    25.0       -",
        "(the whole-frame classifier's mAP at naming the actions of a keyframe, "
        "whoever does them: 75.0)",
    ]


@pytest.mark.filterwarnings("ignore:`shuffle=True` was passed")
def test_train_command_end_to_end(tmp_path, data_dir, capsys):
    recipe = tmp_path / "tiny.py"
    recipe.write_text(
        "from keras_video.training.detection import DetectionRecipe\n"
        f"def config():\n    return DetectionRecipe(**{TINY!r})\n"
    )
    run = tmp_path / "run"
    code = cli.main(["train", str(recipe), "--data", str(data_dir), "--output",
                     str(run), "--quiet", "--precision", "float32"])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "frame-mAP@0.5" in out and "detector" in out and "whole_frame" in out
    for name in ("recipe.json", "label_map.pbtxt", "class_names.json",
                 "detector.keras", "baseline.keras", "history.csv",
                 "baseline_history.csv", "detections.png"):  # fmt: skip
        assert (run / name).is_file(), name
    names = ["left", "right", "up", "down", "stand"]
    assert json.loads((run / "class_names.json").read_text()) == names
    report = json.loads((run / "eval.json").read_text())
    assert set(report) == {"detector", "whole_frame", "class_names", "protocol"}
    assert report["class_names"] == {str(i + 1): n for i, n in enumerate(names)}
    protocol = report["protocol"]
    assert protocol["num_videos"] == 2 and protocol["iou_threshold"] == 0.5
    assert protocol["boxes"] == "val_proposals.csv, score >= 0.8"
    assert protocol["num_training_keyframes"] == 4
    proposals = [
        p
        for p in detection.read_ava_proposals(data_dir / "val_proposals.csv")
        if p.score >= 0.8
    ]
    assert protocol["num_keyframes"] == len(
        {(p.video_id, p.timestamp) for p in proposals}
    )
    for method in ("detector", "whole_frame"):
        scores = report[method]
        assert 0.0 <= scores["mAP"] <= 1.0
        assert list(scores["per_class_AP"]) == ["1", "2", "3", "4", "5"]
        found = [v for v in scores["per_class_AP"].values() if v is not None]
        assert all(0.0 <= v <= 1.0 for v in found)
        assert scores["mAP"] == pytest.approx(np.mean(found))
        # The CSV holds one row per proposal and class, and scores as eval.json.
        rows = detection.read_ava_detections(run / f"detections_{method}.csv")
        assert len(rows) == 5 * len(proposals)
        again = detection.ava_frame_map(
            run / "label_map.pbtxt", data_dir / "val.csv", rows
        )
        assert again["mAP"] == pytest.approx(scores["mAP"], abs=1e-12)
    assert 0.0 <= report["whole_frame"]["keyframe_classification_mAP"] <= 1.0
    model = keras.saving.load_model(run / "detector.keras", safe_mode=True)
    assert model.output.shape[-1] == 5


@pytest.mark.filterwarnings("ignore:`shuffle=True` was passed")
def test_mixed_precision_builds_in_bfloat16_with_float32_scores(tmp_path, data_dir):
    from keras_video.training.detection import train_detection

    recipe = DetectionRecipe(**TINY, precision="mixed_bfloat16", baseline=False)
    result = train_detection(recipe, data_dir, tmp_path, verbose=0, evaluate=False)
    model = result["model"]
    assert result["policy"] == "mixed_bfloat16" and result["baseline"] is None

    def layers(m):
        for layer in m.layers:
            yield from layers(layer) if isinstance(layer, keras.Model) else [layer]

    convs = [c for c in layers(model) if isinstance(c, keras.layers.Conv3D)]
    assert convs and all(c.compute_dtype == "bfloat16" for c in convs)
    assert model.outputs[0].dtype == "float32"
    assert np.isfinite(result["history"]["loss"]).all()
    assert keras.config.dtype_policy().name == "float32"  # restored
    assert not (tmp_path / "eval.json").exists()
