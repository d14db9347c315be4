"""`keras-video predict`: clip sampling, resize/crop, averaging (tiny model)."""

import importlib

import keras
import numpy as np
import pytest

from keras_video import predict
from keras_video.applications import R3D, convert_torchvision, pretrained, resnet3d
from keras_video.data.video.writer import write_video


def test_kinetics_protocol_comes_from_the_model():
    settings = predict.kinetics_clip_settings(num_clips=3)
    assert (settings.clip_length, settings.frame_step) == (64, 1)
    assert (settings.image_size, settings.short_side) == ((224, 224), 256)
    assert settings.clip_sampling == "uniform" and settings.num_clips == 3
    assert predict.kinetics_clip_settings(clip_length=4).clip_length == 9


def test_prediction_clips_are_the_evaluation_clips():
    """`predict` samples as `evaluate` does: uniform clips, looped when short."""
    settings = predict.kinetics_clip_settings(num_clips=3, clip_length=10)
    idx = settings.clip_indices(100, 25.0, sampling="uniform")
    np.testing.assert_array_equal(idx[:, 0], [0, 45, 90])
    assert idx.shape == (3, 10) and idx.max() == 99
    short = settings.clip_indices(5, 25.0, sampling="uniform")
    np.testing.assert_array_equal(short[0], [0, 1, 2, 3, 4, 0, 1, 2, 3, 4])


def test_predict_video_with_a_tiny_model(shared_data):
    inputs = keras.Input((16, 224, 224, 3))
    x = keras.layers.GlobalAveragePooling3D()(inputs)
    model = keras.Model(inputs, keras.layers.Dense(400)(x))
    path = shared_data / "i3d" / "v_CricketShot_g04_c01_rgb.gif"
    rows = predict.predict_video(path, num_clips=2, clip_length=16, top=5, model=model)
    assert len(rows) == 5
    assert all(isinstance(name, str) for _, name, _ in rows)
    scores = [score for _, _, score in rows]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1


def test_kinetics_demo_without_weights_says_how(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert predict.kinetics_demo() is None
    assert "keras-video weights convert i3d-kinetics400" in capsys.readouterr().out


# --- `predict VIDEO --preset NAME`: a converted preset, its own clips -------

# A tiny stand-in for a converted preset: its own clip protocol (4 frames,
# step 2, short side 40, crop 32), torchvision's normalisation.
TINY_CONFIG = dict(
    resnet3d.KINETICS400_DATA_CONFIG,
    num_frames=4,
    frame_step=2,
    short_side=40,
    crop_size=32,
)


def _tiny_r3d(classifier_activation="softmax"):
    """The full tiny network; a softmax head, as PyTorchVideo's end."""
    keras.utils.set_random_seed(3)
    return R3D(
        base_filters=4,
        classes=400,
        input_shape=(None, None, None, 3),
        classifier_activation=classifier_activation,
    )


@pytest.fixture
def tiny_preset(tmp_path, monkeypatch):
    """`tiny_r3d` in the converter table, its file in a fresh Keras cache, and
    a 20-frame 48x64 video; returns `(video, cache file)`."""
    converter = pretrained.Converter(
        name="tiny_r3d",
        family="r3d_18",
        tag="kinetics400",
        description="Tiny R3D test weights",
        build=_tiny_r3d,
        assign=convert_torchvision.assign,
        data_config=TINY_CONFIG,
    )
    monkeypatch.setitem(pretrained.CONVERTERS, converter.name, converter)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (20, 6, 8, 3)).repeat(8, 1).repeat(8, 2)
    video = write_video(str(tmp_path / "v.mp4"), frames.astype(np.uint8))
    return video, tmp_path / "home" / "models" / "tiny_r3d.weights.h5"


def test_preset_clip_settings_are_the_presets():
    settings = predict.preset_clip_settings("r3d_18", num_clips=5)
    assert (settings.clip_length, settings.frame_step) == (16, 2)
    assert (settings.image_size, settings.short_side) == ((112, 112), 128)
    assert settings.num_clips == 5 and settings.clip_sampling == "uniform"
    settings = predict.preset_clip_settings("slowfast_r50")
    assert (settings.clip_length, settings.frame_step) == (32, 2)
    assert (settings.image_size, settings.short_side) == ((256, 256), 256)
    assert predict.preset_clip_settings("slow_r50").frame_step == 8
    default = predict.preset_clip_settings("i3d-kinetics400", clip_length=16)
    assert default == predict.kinetics_clip_settings(clip_length=16)
    with pytest.raises(ValueError, match="Received: clip_length=16"):
        predict.preset_clip_settings("r3d_18", clip_length=16)
    with pytest.raises(ValueError, match="no preset named 'r4d'.*r3d_18"):
        predict.preset_clip_settings("r4d")


def test_each_preset_uses_its_familys_preprocessing():
    from keras_video.applications import i3d, inception_i3d, slow, slowfast

    expected = {
        "i3d-kinetics400": inception_i3d.preprocess_input,
        "r3d_18": resnet3d.preprocess_input,
        "mc3_18": resnet3d.preprocess_input,
        "r2plus1d_18": resnet3d.preprocess_input,
        "slowfast_r50": slowfast.preprocess_input,
        "slow_r50": slow.preprocess_input,
        "i3d_r50": i3d.preprocess_input,
    }
    assert set(expected) == set(pretrained.CONVERTERS)
    for name, function in expected.items():
        assert predict.preset_preprocess(name) is function, name
    assert predict.preset_preprocess(None) is inception_i3d.preprocess_input
    # The family module is the one whose data config the preset carries.
    for name, converter in pretrained.CONVERTERS.items():
        module = importlib.import_module(converter.data_config.partition(":")[0])
        assert module.preprocess_input is expected[name], name


def test_kinetics_names_are_pyslowfasts_order():
    """Spot checks against PySlowFast's kinetics_classnames.json (the indices
    PyTorchVideo's checkpoints use), which is the alphabetical order."""
    from keras_video.applications import inception_i3d

    labels = inception_i3d.kinetics400_labels()
    assert labels == sorted(labels)
    published = {
        "abseiling": 0,
        "bench pressing": 19,
        "deadlifting": 88,
        "passing American football (in game)": 208,
        "passing American football (not in game)": 209,
        "sharpening knives": 290,
        "skiing (not slalom or crosscountry)": 308,
        "zumba": 399,
    }
    assert {name: labels.index(name) for name in published} == published


def test_predict_preset_averages_logits_over_its_clips(tiny_preset, capsys):
    from keras_video import cli
    from keras_video.data.datasets import video_test_dataset

    video, file = tiny_preset
    full = _tiny_r3d()
    file.parent.mkdir(parents=True)
    full.save_weights(file)

    # By hand: the same clips, torchvision's normalisation in NumPy, the
    # same network without its softmax, the mean over the clips.
    reference = _tiny_r3d(classifier_activation=None)
    reference.load_weights(file)
    settings = predict.preset_clip_settings("tiny_r3d", num_clips=2)
    assert (settings.clip_length, settings.frame_step) == (4, 2)
    assert (settings.image_size, settings.short_side) == ((32, 32), 40)
    clips = np.concatenate(
        [c.numpy() for c, _ in video_test_dataset([video], clip_settings=settings)]
    )
    assert clips.shape == (2, 4, 32, 32, 3)
    mean = np.asarray(TINY_CONFIG["mean"], "float32")
    std = np.asarray(TINY_CONFIG["std"], "float32")
    expected = reference.predict((clips / 255.0 - mean) / std, verbose=0).mean(0)

    model = predict.preset_model("tiny_r3d", settings)
    logits = predict.video_logits(
        video, model, settings, predict.preset_preprocess("tiny_r3d")
    )
    np.testing.assert_allclose(logits, expected, atol=1e-5)

    capsys.readouterr()
    argv = ["predict", video, "--preset", "tiny_r3d", "--num-clips", "2"]
    assert cli.main(argv) == 0
    rows = capsys.readouterr().out.splitlines()
    assert len(rows) == 5
    probs = np.exp(expected - expected.max())
    probs /= probs.sum()
    top = np.argsort(-probs)[:5]
    labels = predict.inception_i3d.kinetics400_labels()
    assert rows == [f"{probs[i]:8.4f}  {labels[i]}  (class {i})" for i in top]


def test_predict_preset_without_its_file_names_the_command(tiny_preset, capsys):
    from keras_video import cli

    video, _ = tiny_preset
    capsys.readouterr()
    assert cli.main(["predict", video, "--preset", "tiny_r3d"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and captured.out == ""
    assert lines[0].startswith("keras-video predict: FileNotFoundError")
    assert "keras-video weights convert tiny_r3d" in lines[0]
