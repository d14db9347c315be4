import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from keras_video.data import write_motion_dataset
from keras_video.training import Recipe, checkpoints, train
from keras_video.training.recipe import apply_overrides, load_recipe
from tests.conftest import ROOT

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
        model_args={"base_filters": 4, "dropout_rate": 0.5},
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


def _assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


class Snapshots(keras.callbacks.Callback):
    """The weights when `fit` starts (after a restore) and after each epoch."""

    def __init__(self):
        super().__init__()
        self.weights = {}
        self.epochs = []

    def on_train_begin(self, logs=None):
        self.weights["begin"] = _weights(self.model)

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)

    def on_epoch_end(self, epoch, logs=None):
        self.weights[epoch + 1] = _weights(self.model)


QUIET = dict(verbose=0, evaluate=False, tensorboard=False)


_STRAIGHT = {}


@pytest.fixture
def straight(motion_dir, tmp_path_factory, fast_jax_init):
    """An uninterrupted 3-epoch run and its per-epoch weights, run once.

    Function-scoped (cached by hand) so that it draws its initial weights as
    the tests do (`fast_jax_init` patches JAX's initialisers per test).
    """
    if motion_dir not in _STRAIGHT:
        snapshots = Snapshots()
        run = str(tmp_path_factory.mktemp("straight"))
        out = train(
            tiny_recipe(epochs=3), motion_dir, run, callbacks=[snapshots], **QUIET
        )
        _STRAIGHT[motion_dir] = out, snapshots
    return _STRAIGHT[motion_dir]


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


def test_resume_after_a_kill_gives_the_same_weights(motion_dir, tmp_path, straight):
    straight, _ = straight
    recipe = tiny_recipe(epochs=3)
    run = str(tmp_path / "b")
    with pytest.raises(KeyboardInterrupt):
        train(recipe, motion_dir, run, callbacks=[Interrupt(epoch=1, batch=2)], **QUIET)
    with open(os.path.join(run, "backup", "training_metadata.json")) as f:
        assert json.load(f)["epoch"] == 1
    resumed = train(recipe, motion_dir, run, **QUIET)
    assert len(resumed["history"]["loss"]) == 2  # epochs 1 and 2 only
    _assert_same(_weights(straight["model"]), _weights(resumed["model"]))
    np.testing.assert_allclose(
        resumed["history"]["loss"][-1], straight["history"]["loss"][-1], rtol=1e-6
    )


# Run in a child process: the first backup save writes its file, cuts it to
# half its size and kills the process, as a kill in the middle of the write
# would leave it.
KILLED_DURING_SAVE = textwrap.dedent(
    """
    import os, sys
    import keras
    from keras_video.training import load_recipe, train

    recipe, data_dir, run_dir = sys.argv[1:]
    original = keras.Model.save_weights

    def save_weights(self, filepath, *args, **kwargs):
        original(self, filepath, *args, **kwargs)
        size = os.path.getsize(filepath)
        with open(filepath, "r+b") as f:
            f.truncate(size // 2)
        os._exit(17)

    keras.Model.save_weights = save_weights
    train(load_recipe(recipe), data_dir, run_dir, verbose=0, evaluate=False,
          tensorboard=False)
    """
)


def test_kill_during_the_backup_write_resumes_from_the_last_complete_one(
    motion_dir, tmp_path, straight
):
    straight, clean = straight
    recipe = tiny_recipe(epochs=3)
    run = tmp_path / "run"
    # Killed during the second epoch (the backup holds 1 finished epoch) ...
    with pytest.raises(KeyboardInterrupt):
        train(recipe, motion_dir, str(run), callbacks=[Interrupt(1, 2)], **QUIET)
    # ... restarted, and killed in the middle of writing the backup of 2 epochs.
    # (The child's own initial weights do not matter: it restores the backup.)
    recipe.save(tmp_path / "recipe.json")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = [str(tmp_path / "recipe.json"), motion_dir, str(run)]
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_DURING_SAVE, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert killed.returncode == 17, killed.stderr[-3000:]
    # The half-written file is a temporary one; the committed backup is still
    # the complete one after 1 epoch.
    backup = run / "backup"
    partial = [n for n in os.listdir(backup) if n.startswith(".tmp-")]
    assert len(partial) == 1 and partial[0].endswith(".weights.h5")
    with open(backup / "training_metadata.json") as f:
        assert json.load(f) == {
            "epoch": 1,
            "batch": 0,
            "weights": "epoch_0001.weights.h5",
        }
    snapshots = Snapshots()
    resumed = train(recipe, motion_dir, str(run), callbacks=[snapshots], **QUIET)
    # Restored exactly as a run that stopped cleanly after epoch 1 ...
    assert snapshots.epochs == [1, 2]
    _assert_same(snapshots.weights["begin"], clean.weights[1])
    # ... and ends as the uninterrupted run.
    _assert_same(_weights(resumed["model"]), _weights(straight["model"]))
    assert not backup.exists()  # the run completed
    assert not [n for n in os.listdir(run / "checkpoints") if n.startswith(".tmp-")]


def test_kill_after_the_last_epoch_does_not_train_again(
    motion_dir, tmp_path, straight, monkeypatch
):
    straight, _ = straight
    recipe = tiny_recipe(epochs=3)
    run = tmp_path / "run"
    original = checkpoints.atomic_save

    def atomic_save(path, write):
        if path.endswith("model.keras"):
            raise KeyboardInterrupt("killed while saving model.keras")
        original(path, write)

    monkeypatch.setattr(checkpoints, "atomic_save", atomic_save)
    with pytest.raises(KeyboardInterrupt):
        train(recipe, motion_dir, str(run), **QUIET)
    monkeypatch.setattr(checkpoints, "atomic_save", original)
    assert not (run / "model.keras").exists()
    assert (
        json.loads((run / "backup" / "training_metadata.json").read_text())["epoch"]
        == 3
    )
    resumed = train(recipe, motion_dir, str(run), **QUIET)
    assert resumed["history"] == {}  # no epoch trained again
    assert not (run / "backup").exists()
    loaded = keras.saving.load_model(run / "model.keras", safe_mode=True)
    _assert_same(_weights(loaded), _weights(straight["model"]))


def test_overrides_and_recipe_files(tmp_path):
    r = apply_overrides(
        tiny_recipe(),
        ["learning_rate=3e-4", "image_size=24", "model_args.base_filters=8",
         "augment=false", "optimizer=sgd"],
    )  # fmt: skip
    assert r.learning_rate == 3e-4 and r.image_size == (24, 24)
    assert r.model_args == {"base_filters": 8, "dropout_rate": 0.5}
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
