"""Training recipes: one readable config per run, loaded from a Python file.

A recipe file defines `config()` returning a `Recipe`:

```python
# recipes/classification/r2plus1d_synthetic.py
from keras_video.training import Recipe

def config():
    return Recipe(model="R2Plus1D", model_args={"depth": 18, "base_filters": 16},
                  clip_length=8, frame_step=1, image_size=(32, 32), epochs=20)
```

`keras-video train RECIPE --data DIR key=value ...` loads it and applies the
overrides (`learning_rate=3e-4`, `model_args.base_filters=8`).
"""

import ast
import dataclasses
import importlib
import importlib.util
import json
import os
import typing

from keras_video.training import tasks


def _tuples(value):
    """JSON lists back to tuples, inside dicts too."""
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


class RecipeBase:
    """What every recipe dataclass shares: `task` (a class attribute naming
    its trainer in `keras_video.training.tasks`), copies with changes, and a
    JSON round trip (`recipe.json` of a run)."""

    task: typing.ClassVar[str]

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        return {"task": self.task, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, config):
        """The recipe of a `to_dict` (JSON lists become tuples again)."""
        return cls(**{k: _tuples(v) for k, v in config.items() if k != "task"})

    def save(self, path):
        with open(path, "w") as f:
            json.dump(self.to_dict(), f, indent=2)

    @classmethod
    def load_json(cls, path):
        with open(path) as f:
            return cls.from_dict(json.load(f))


@dataclasses.dataclass
class Recipe(RecipeBase):
    """Everything a classification run needs besides the data folder.

    Attributes:
        model: a constructor of `keras_video.applications` (`"R2Plus1D"`) or an
            importable `"module:function"` with the same signature.
        model_args: extra keyword arguments of the constructor (family args,
            widths). `classes` and `input_shape` are set by the runner.
        rescale: `(scale, offset)` applied to the `[0, 255]` clips inside the
            saved model (default: to `[-1, 1]`), or `None`.
        clip_length, frame_step, image_size, short_side, augment, num_clips:
            the arguments of `keras_video.data.video_dataset_from_directory`.
        batch_size: global batch size (split over devices with `--distribute`).
        validation_split: fraction of the videos kept for validation when the
            data folder has no `train/` and `val/` subfolders.
        epochs: training epochs.
        optimizer: `"adamw"` or `"sgd"` (momentum 0.9, nesterov).
        learning_rate: peak learning rate of the warmup + cosine schedule.
        weight_decay: decoupled weight decay.
        warmup_epochs: epochs of linear warmup (may be fractional).
        precision: `"auto"` (from the devices, see `precision.select_precision`),
            `"float32"`, `"mixed_float16"` or `"mixed_bfloat16"`.
        seed: seeds the file split, shuffling, clip sampling and initialisation.
        eval_num_clips, eval_num_crops: the final video-level evaluation
            (`num_clips` evenly spaced clips x 1 or 3 crops per video).
    """

    model: str = "R2Plus1D"
    model_args: dict = dataclasses.field(default_factory=dict)
    rescale: tuple | None = (1 / 127.5, -1.0)
    clip_length: int = 16
    frame_step: int = 2
    image_size: tuple = (112, 112)
    short_side: int | None = None
    augment: bool = False
    num_clips: int = 1
    batch_size: int = 8
    validation_split: float = 0.2
    epochs: int = 10
    optimizer: str = "adamw"
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    warmup_epochs: float = 1.0
    precision: str = "auto"
    seed: int = 1337
    eval_num_clips: int = 3
    eval_num_crops: int = 1

    task: typing.ClassVar[str] = "classification"

    def clip_settings(self, evaluation=False):
        """The `keras_video.data.ClipSettings` of training clips, or with
        `evaluation=True` of the video-level evaluation (`eval_num_clips`
        evenly spaced clips)."""
        from keras_video.data.clip_settings import ClipSettings

        settings = ClipSettings(
            clip_length=self.clip_length,
            frame_step=self.frame_step,
            image_size=tuple(self.image_size),
            short_side=self.short_side,
            num_clips=self.num_clips,
        )
        if evaluation:
            return settings.replace(
                num_clips=self.eval_num_clips, clip_sampling="uniform"
            )
        return settings


def _parse_value(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered in ("none", "null"):
            return None
        return text


def apply_overrides(recipe, overrides):
    """`recipe` (any recipe dataclass) with `key=value` strings applied.

    Values are Python literals (`3e-4`, `(64, 64)`, `True`) or plain strings;
    `model_args.name=value` sets one key of a dict field (the constructor's
    arguments).

    Raises:
        ValueError: an unknown key or a malformed override.
    """
    fields = {f.name: getattr(recipe, f.name) for f in dataclasses.fields(recipe)}
    changes = {}
    for item in overrides or ():
        if "=" not in item:
            raise ValueError(f"Overrides are `key=value`. Received: {item!r}")
        key, text = item.split("=", 1)
        key = key.strip().replace("-", "_")
        value = _parse_value(text.strip())
        head, _, name = key.partition(".")
        current = fields.get(head)
        if name and isinstance(current, dict):
            changes.setdefault(head, dict(current))[name] = value
        elif not name and head in fields:
            if isinstance(current, tuple) and isinstance(value, list):
                value = tuple(value)
            if head == "image_size" and isinstance(value, int):
                value = (value, value)
            changes[key] = value
        else:
            dict_keys = [
                f"{k}.<name>" for k, v in fields.items() if isinstance(v, dict)
            ]
            raise ValueError(
                f"Unknown recipe key {key!r}. Known keys: {sorted(fields)}"
                + (f" and {', '.join(dict_keys)}." if dict_keys else ".")
            )
    return dataclasses.replace(recipe, **changes)


def load_recipe(spec):
    """A recipe (`Recipe`, `LocalizationRecipe`, ...) from a recipe file,
    module, or saved `recipe.json`.

    Args:
        spec: a path to a `.py` file defining `config()`, a path to a
            `recipe.json` written by a run, an importable module name
            (`recipes.classification.r2plus1d_synthetic`), or a bare recipe name
            looked up as `recipes/*/<name>.py` under the current folder.

    Raises:
        ValueError: no recipe found under that name.
    """
    spec = os.fspath(spec)
    if spec.endswith(".json") and os.path.isfile(spec):
        with open(spec) as f:
            config = json.load(f)
        return tasks.recipe_class(config.pop("task", "classification")).from_dict(
            config
        )
    path = spec if os.path.isfile(spec) else None
    if path is None:
        for root in (
            "recipes",
            os.path.join(os.path.dirname(__file__), "..", "..", "recipes"),
        ):
            if not os.path.isdir(root):
                continue
            for folder, _, names in sorted(os.walk(root)):
                if f"{spec}.py" in names:
                    path = os.path.join(folder, f"{spec}.py")
                    break
            if path:
                break
    if path is not None:
        name = "keras_video_recipe_" + os.path.splitext(os.path.basename(path))[0]
        module_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(spec)
        except ImportError:
            raise ValueError(
                f"No recipe {spec!r}: not a file, not a module, and no "
                f"recipes/*/{spec}.py under {os.getcwd()}."
            ) from None
    recipe = module.config()
    if getattr(recipe, "task", None) not in tasks.TASKS:
        raise ValueError(
            f"{spec}: config() must return a recipe of a task in "
            f"{sorted(tasks.TASKS)} (a Recipe, a LocalizationRecipe). "
            f"Received: {recipe!r}"
        )
    return recipe
