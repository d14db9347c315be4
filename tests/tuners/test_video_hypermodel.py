import os
import subprocess
import sys

import keras_tuner
import pytest

from keras_video.data import write_motion_dataset
from keras_video.tuners import VideoHyperModel, make_tuner
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def motion_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("tune")
    write_motion_dataset(root, 3, seed=0, image_size=(16, 16), num_frames=8,
                         classes=("left", "right"))  # fmt: skip
    return str(root)


def _hypermodel(motion_dir):
    return VideoHyperModel(
        motion_dir, families=("early_fusion", "cnn_rnn"), widths=(2, 4),
        clip_lengths=(4,), frame_steps=(1, 2), image_size=(16, 16), batch_size=4,
        validation_split=0.34, seed=1,
    )  # fmt: skip


@pytest.mark.parametrize("kind", ["random", "bayesian"])
def test_search_two_trials(motion_dir, tmp_path, kind):
    tuner = make_tuner(_hypermodel(motion_dir), kind, max_trials=2,
                       directory=str(tmp_path), seed=2)  # fmt: skip
    tuner.search(epochs=1, verbose=0)
    assert len(tuner.oracle.trials) == 2
    best = tuner.get_best_hyperparameters()[0].values
    assert set(best) == {"model", "width", "clip_length", "frame_step",
                         "learning_rate", "weight_decay"}  # fmt: skip
    assert best["model"] in ("early_fusion", "cnn_rnn") and best["clip_length"] == 4
    model = tuner.get_best_models(1)[0]
    assert model.inputs[0].shape[1:] == (4, 16, 16, 3)


def test_hyperband_search(motion_dir, tmp_path):
    """Hyperband passes its own `epochs` / `initial_epoch` per trial (and
    resumes promoted trials from their checkpoints) through `fit`."""
    tuner = make_tuner(_hypermodel(motion_dir), "hyperband", max_epochs=3,
                       directory=str(tmp_path), seed=2)  # fmt: skip
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    epochs = sorted({t.hyperparameters.get("tuner/epochs") for t in trials})
    assert epochs == [1, 3] and len(trials) == 6  # brackets of 1- and 3-epoch trials
    assert all(t.status == "COMPLETED" for t in trials)
    assert all(t.score is not None for t in trials)
    best = tuner.get_best_models(1)[0]
    assert best.inputs[0].shape[1:] == (4, 16, 16, 3)


def test_every_tuner_kind_is_made(motion_dir, tmp_path):
    hm = _hypermodel(motion_dir)
    bayesian = make_tuner(hm, "bayesian", directory=str(tmp_path / "b"))
    assert isinstance(bayesian, keras_tuner.BayesianOptimization)
    hyperband = make_tuner(hm, "hyperband", max_epochs=2, directory=str(tmp_path / "h"))
    assert isinstance(hyperband, keras_tuner.Hyperband)
    with pytest.raises(ValueError, match="tuner"):
        make_tuner(hm, "grid")
    with pytest.raises(ValueError, match="Unknown model family"):
        VideoHyperModel(motion_dir, families=("nope",))


def test_import_keras_video_needs_no_keras_tuner():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('keras_tuner', 'tensorflow'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import keras_video, keras_video.training\n"
        "print('ok')\n"
    )
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


def test_tune_command(motion_dir, tmp_path, capsys):
    from keras_video import cli

    recipe = tmp_path / "search.py"
    recipe.write_text(
        "def tune_config():\n"
        "    return {'hypermodel': {'families': ('early_fusion',), 'widths': (2,),\n"
        "            'clip_lengths': (4,), 'image_size': (16, 16), 'batch_size': 4,\n"
        "            'validation_split': 0.34}, 'tuner': 'random', 'max_trials': 1}\n"
    )
    code = cli.main(["tune", str(recipe), "--data", motion_dir, "--epochs", "1",
                     "--output", str(tmp_path / "tune"), "--quiet"])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "best hyperparameters:" in out and "model = early_fusion" in out
