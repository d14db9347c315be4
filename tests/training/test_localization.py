"""`keras_video.training.localization`: the localisation recipe end to end."""

import json

import numpy as np
import pytest

from keras_video import cli
from keras_video.training import apply_overrides, load_recipe
from keras_video.training.localization import (
    LocalizationRecipe,
    format_scores,
    read_localization_folder,
    snippet_labels,
)

TINY = dict(
    backbone="early_fusion", backbone_args={"base_filters": 4, "depth": 2},
    snippet_length=4, snippet_stride=4, image_size=16, backbone_epochs=1,
    snippet_batch_size=32, sequence_length=16, num_levels=2, embed_dim=8,
    epochs=2, batch_size=4, baseline_windows=(2, 4), baseline_overlap=0.5,
)  # fmt: skip


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    from keras_video.data.synthetic import write_localization_dataset

    folder = tmp_path_factory.mktemp("localization")
    write_localization_dataset(
        folder, num_videos=6, seed=3, num_frames=64, image_size=(16, 16),
        actions_per_video=1, action_frames=(16, 24), validation_split=0.34,
    )  # fmt: skip
    return folder


def test_snippet_labels_by_half_coverage():
    snippets = np.array([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]])
    # fps 4: snippets cover [0, 1), [1, 2), [2, 3) s. The action [0.5, 1.4)
    # covers half of the first and 0.4 of the second; the other [1.6, 3.0)
    # covers 0.4 of the second and all of the third.
    labels = snippet_labels(snippets, 4.0, [[0.5, 1.4], [1.6, 3.0]], [2, 0], 9)
    np.testing.assert_array_equal(labels, [2, 9, 0])


def test_recipe_round_trip_overrides_and_loading(tmp_path):
    recipe = LocalizationRecipe(**TINY)
    path = tmp_path / "recipe.json"
    recipe.save(path)
    assert json.loads(path.read_text())["task"] == "localization"
    assert load_recipe(str(path)) == recipe
    changed = apply_overrides(
        recipe, ["epochs=3", "backbone_args.depth=3", "tiou_thresholds=[0.5]"]
    )
    assert changed.epochs == 3 and changed.backbone_args["depth"] == 3
    assert changed.tiou_thresholds == (0.5,) and recipe.backbone_args["depth"] == 2
    with pytest.raises(ValueError, match="Unknown recipe key 'depth'"):
        apply_overrides(recipe, ["depth=3"])


def test_the_shipped_recipe_loads():
    recipe = load_recipe("recipes/localization/synthetic_actionformer.py")
    assert recipe.task == "localization" and recipe.sequence_length == 64


def test_data_folder_errors(tmp_path, data_dir):
    with pytest.raises(FileNotFoundError, match="annotations.json"):
        read_localization_folder(tmp_path)
    (tmp_path / "annotations.json").write_text(
        (data_dir / "annotations.json").read_text()
    )
    with pytest.raises(FileNotFoundError, match="video_00000.*has no file"):
        read_localization_folder(tmp_path)


@pytest.mark.filterwarnings("ignore:Predictions of labels with no ground truth")
def test_train_command_end_to_end(tmp_path, data_dir, capsys):
    recipe = tmp_path / "tiny.py"
    recipe.write_text(
        "from keras_video.training.localization import LocalizationRecipe\n"
        f"def config():\n    return LocalizationRecipe(**{TINY!r})\n"
    )
    run = tmp_path / "run"
    code = cli.main(["train", str(recipe), "--data", str(data_dir), "--output",
                     str(run), "--quiet", "--precision", "float32"])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "localizer" in out and "sliding_window" in out and "mAP@0.5" in out
    report = json.loads((run / "eval.json").read_text())
    for method in ("localizer", "sliding_window", "sliding_window_mean"):
        values = report[method]["mAP"]
        assert list(values) == ["0.3", "0.4", "0.5", "0.6", "0.7"]
        assert all(0.0 <= v <= 1.0 for v in values.values())
        assert report[method]["average_mAP"] == pytest.approx(
            np.mean(list(values.values()))
        )
    assert report["protocol"]["num_videos"] == 2
    found = json.loads((run / "detections_localizer.json").read_text())["results"]
    assert set(found) == {"video_00004", "video_00005"}
    for name in ("localizer.keras", "snippet_classifier.keras", "timeline.png",
                 "history.csv", "class_names.json",
                 "detections_sliding_window.json"):  # fmt: skip
        assert (run / name).is_file(), name
    assert "average" in format_scores(report)
