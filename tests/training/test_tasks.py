"""`keras_video.training.tasks`: task -> recipe class and trainer."""

import json

import pytest

from keras_video.training import Recipe, load_recipe, tasks
from keras_video.training.localization import LocalizationRecipe, train_localization
from keras_video.training.runner import train


def test_every_task_resolves():
    assert tasks.recipe_class("classification") is Recipe
    assert tasks.trainer("classification") is train
    assert tasks.recipe_class("localization") is LocalizationRecipe
    assert tasks.trainer("localization") is train_localization
    for task in tasks.TASKS:
        assert tasks.recipe_class(task).task == task
        assert callable(tasks.trainer(task))


def test_unknown_task():
    with pytest.raises(ValueError, match="Unknown task.*segmentation"):
        tasks.trainer("segmentation")


def test_recipe_json_is_loaded_as_its_task(tmp_path):
    classification = tmp_path / "a.json"
    Recipe(epochs=3).save(classification)
    assert json.loads(classification.read_text())["task"] == "classification"
    assert load_recipe(str(classification)) == Recipe(epochs=3)
    older = json.loads(classification.read_text())
    del older["task"]  # runs saved before recipes had a task
    classification.write_text(json.dumps(older))
    assert load_recipe(str(classification)) == Recipe(epochs=3)
    localization = tmp_path / "b.json"
    LocalizationRecipe(epochs=3).save(localization)
    assert load_recipe(str(localization)) == LocalizationRecipe(epochs=3)


def test_config_must_return_a_recipe(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def config():\n    return {'model': 'R3D'}\n")
    with pytest.raises(ValueError, match="config\\(\\) must return a recipe"):
        load_recipe(str(bad))
