import importlib.util
import json
import os

import keras
import numpy as np
import pytest

from keras_video.data import write_motion_dataset
from keras_video.training import Recipe, train
from keras_video.training.recipe import apply_overrides, load_recipe

CLASSES = ("left", "right", "up", "down")


@pytest.fixture(scope="module")
def motion_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("motion")
    write_motion_dataset(
        root, 3, seed=0, image_size=(16, 16), num_frames=4, classes=CLASSES
    )
    return str(root)


def tiny_recipe(**changes):
    recipe = Recipe(
        model="tests.training.tiny_models:tiny",
        model_args={"width": 4, "dropout_rate": 0.5},
        clip_length=4,
        frame_step=1,
        image_size=(16, 16),
        augment=True,
        batch_size=2,
        validation_split=0.25,
        epochs=2,
        learning_rate=1e-2,
        warmup_epochs=0.5,
        precision="float32",
        seed=3,
        eval_num_clips=2,
    )
    return recipe.replace(**changes)


class Interrupt(keras.callbacks.Callback):
    """Raises in the middle of an epoch, as a kill would stop the run."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.when = (epoch, batch)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.when:
            raise KeyboardInterrupt("killed")


def _weights(model):
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def test_train_end_to_end_writes_the_run(motion_dir, tmp_path):
    run = tmp_path / "run"
    out = train(tiny_recipe(epochs=1), motion_dir, str(run), verbose=0)
    assert out["policy"] == "float32"
    assert out["class_names"] == sorted(CLASSES)
    assert set(out["history"]) >= {
        "loss",
        "accuracy",
        "top5",
        "val_loss",
        "val_accuracy",
    }
    names = ["recipe.json", "class_names.json", "model.keras", "eval.json"]
    names += ["history.csv", "checkpoints/last.keras", "checkpoints/best.keras"]
    for name in names:
        assert (run / name).exists(), name
    if importlib.util.find_spec("tensorboard"):
        assert (run / "logs").is_dir()
    assert not (run / "backup").exists()  # deleted once the run completed
    result = json.loads((run / "eval.json").read_text())
    assert result["num_videos"] == 3 and result["num_clips"] == 2
    assert 0.0 <= result["top1"] <= result["top5"] == 1.0  # 4 classes: top-5 is all
    loaded = keras.saving.load_model(run / "model.keras", safe_mode=True)
    clip = np.zeros((1, 4, 16, 16, 3), "float32")
    np.testing.assert_allclose(loaded(clip), out["model"](clip), atol=1e-6)


def test_resume_after_a_kill_gives_the_same_weights(motion_dir, tmp_path):
    recipe = tiny_recipe(epochs=3)
    straight = train(recipe, motion_dir, str(tmp_path / "a"), verbose=0, evaluate=False,
                     tensorboard=False)  # fmt: skip
    run = str(tmp_path / "b")
    with pytest.raises(KeyboardInterrupt):
        train(recipe, motion_dir, run, verbose=0, evaluate=False, tensorboard=False,
              callbacks=[Interrupt(epoch=1, batch=2)])  # fmt: skip
    with open(os.path.join(run, "backup", "training_metadata.json")) as f:
        assert json.load(f)["epoch"] == 1
    resumed = train(
        recipe, motion_dir, run, verbose=0, evaluate=False, tensorboard=False
    )
    assert len(resumed["history"]["loss"]) == 2  # epochs 1 and 2 only
    a, b = _weights(straight["model"]), _weights(resumed["model"])
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_allclose(
        resumed["history"]["loss"][-1], straight["history"]["loss"][-1], rtol=1e-6
    )


def test_overrides_and_recipe_files(tmp_path):
    r = apply_overrides(
        tiny_recipe(),
        ["learning_rate=3e-4", "image_size=24", "model_args.width=8", "augment=false",
         "optimizer=sgd"],
    )  # fmt: skip
    assert r.learning_rate == 3e-4 and r.image_size == (24, 24)
    assert r.model_args == {"width": 8, "dropout_rate": 0.5}
    assert r.augment is False and r.optimizer == "sgd"
    with pytest.raises(ValueError, match="Unknown recipe key"):
        apply_overrides(r, ["learning_rat=1"])
    path = tmp_path / "my_recipe.py"
    path.write_text(
        "from keras_video.training import Recipe\n"
        "def config():\n    return Recipe(model='C3D', epochs=7)\n"
    )
    assert load_recipe(str(path)).epochs == 7
    r.save(tmp_path / "recipe.json")
    assert load_recipe(str(tmp_path / "recipe.json")) == r


def test_shipped_recipes_load():
    from tests.conftest import ROOT

    names = sorted(
        os.path.join(d, f)
        for d, _, fs in os.walk(ROOT / "recipes" / "classification")
        for f in fs
        if f.endswith(".py") and not f.startswith("_")
    )
    assert names
    for name in names:
        assert isinstance(load_recipe(name), Recipe), name
    from keras_video.cli import _load_tune_config

    tune = _load_tune_config(str(ROOT / "recipes" / "tuning" / "motion_search.py"))
    assert set(tune["hypermodel"]["families"]) <= {
        "early_fusion", "c3d", "r2plus1d_18", "cnn_rnn"
    }  # fmt: skip
