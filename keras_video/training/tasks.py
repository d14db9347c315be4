"""What each kind of recipe is and which function trains it.

A recipe is a dataclass with a `task` class attribute; `keras-video train`
loads it (`recipe.load_recipe`) and runs the trainer of its task:

- `"classification"`: `Recipe`, trained by `runner.train`;
- `"localization"`: `LocalizationRecipe`, trained by
  `localization.train_localization`;
- `"detection"`: `DetectionRecipe`, trained by `detection.train_detection`.

Entries are `"module:attribute"` strings, imported when used, so this table
imports nothing.
"""

import importlib

TASKS = {
    "classification": (
        "keras_video.training.recipe:Recipe",
        "keras_video.training.runner:train",
    ),
    "localization": (
        "keras_video.training.localization:LocalizationRecipe",
        "keras_video.training.localization:train_localization",
    ),
    "detection": (
        "keras_video.training.detection:DetectionRecipe",
        "keras_video.training.detection:train_detection",
    ),
}


def _resolve(task, which):
    if task not in TASKS:
        raise ValueError(
            f"Unknown task. Expected one of {sorted(TASKS)}. Received: task={task!r}"
        )
    module, attribute = TASKS[task][which].split(":")
    return getattr(importlib.import_module(module), attribute)


def recipe_class(task):
    """The recipe dataclass of `task`."""
    return _resolve(task, 0)


def trainer(task):
    """The function `f(recipe, data_dir, run_dir, **options)` that trains `task`."""
    return _resolve(task, 1)
