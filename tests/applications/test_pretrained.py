"""The converter table: `keras-video weights convert NAME [--from PATH]`, the
presets it registers, the sha256 pin, malicious files, and the PyTorch ->
Keras layouts every converter shares."""

import os
import pickle
import zipfile

import keras
import numpy as np
import pytest
import torch
from torch import nn

from keras_video.applications import R3D, convert_torchvision, pretrained, resnet3d
from keras_video.applications import weights as weights_lib
from keras_video.applications.torch_checkpoint import UnsafeCheckpointError
from tests.applications.test_convert_torchvision import torch_model

# --- the converter table, the command and the preset -----------------------


def _tiny_converter(path, name="tiny_r3d"):
    """A registry entry for a width-4 R3D, pinned to the checkpoint at `path`."""

    def build():
        return R3D(base_filters=4, classes=400, input_shape=(None, None, None, 3))

    return pretrained.Converter(
        name=name,
        family="r3d_18",
        tag="kinetics400",
        description="Tiny R3D test weights",
        url="https://example.invalid/tiny_r3d-00000000.pth",
        sha256=pretrained.sha256_of(path),
        build=build,
        assign=convert_torchvision.assign,
        data_config=resnet3d.KINETICS400_DATA_CONFIG,
    )


def test_every_torchvision_entry_is_registered():
    for arch in ("r3d_18", "mc3_18", "r2plus1d_18"):
        converter = pretrained.CONVERTERS[arch]
        assert converter.url.endswith(f"/{arch}-{converter.sha256}.pth")
        assert converter.file.name == f"{arch}.weights.h5"
        assert converter.get_data_config() is resnet3d.KINETICS400_DATA_CONFIG
        preset = weights_lib.PRESETS[arch]["kinetics400"]
        assert preset.file.command == f"keras-video weights convert {arch}"
        assert preset.load == converter.load and converter.classes == 400
    assert pretrained.CONVERTERS["i3d-kinetics400"].file.name == (
        weights_lib.KINETICS400.name
    )


def test_cli_convert_from_local_copy_then_preset_loads(tmp_path, monkeypatch, capsys):
    from keras_video import cli

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    reference = torch_model("r3d_18", 4, 400)
    checkpoint = tmp_path / "tiny_r3d.pth"
    torch.save(reference.state_dict(), checkpoint)
    converter = _tiny_converter(checkpoint)
    monkeypatch.setitem(pretrained.CONVERTERS, converter.name, converter)
    monkeypatch.setitem(weights_lib.PRESETS, "r3d_18", {})
    pretrained.register(converter)

    # Offline, before converting: the error names the file and the command.
    with pytest.raises(FileNotFoundError, match="keras-video weights convert tiny_r3d"):
        R3D(base_filters=4, weights="kinetics400", input_shape=(8, 32, 32, 3))

    assert cli.main(["weights", "convert", "tiny_r3d", "--from", str(checkpoint)]) == 0
    output = tmp_path / "home" / "models" / "tiny_r3d.weights.h5"
    assert output.is_file() and f"Wrote {output}" in capsys.readouterr().out
    stamp = output.stat().st_mtime_ns
    assert cli.main(["weights", "convert", "tiny_r3d", "--from", str(checkpoint)]) == 0
    assert "Already converted" in capsys.readouterr().out
    assert output.stat().st_mtime_ns == stamp  # idempotent: not rewritten

    clip = np.random.default_rng(2).standard_normal((1, 8, 32, 32, 3)).astype("f4")
    with torch.no_grad():
        expected = reference(torch.from_numpy(clip).permute(0, 4, 1, 2, 3)).numpy()
    model = R3D(
        base_filters=4,
        weights="kinetics400",
        input_shape=(8, 32, 32, 3),
        classifier_activation=None,
    )
    got = keras.ops.convert_to_numpy(model(clip, training=False))
    assert np.abs(got - expected).max() < 1e-4
    # A feature extractor gets its layers by name from the full network.
    features = R3D(
        base_filters=4,
        weights="kinetics400",
        include_top=False,
        pooling="avg",
        input_shape=(8, 32, 32, 3),
    )
    variance = features.get_layer("conv5_block2_2_bn").moving_variance
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(variance),
        reference.layer4[1].conv2[1].running_var.numpy(),
    )


def test_sha256_mismatch_and_malicious_checkpoint_are_refused(tmp_path):

    marker = tmp_path / "pwned"

    class System:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    good = tmp_path / "good.pth"
    torch.save({"fc.weight": torch.ones(1)}, good)
    bad = tmp_path / "bad.pth"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith("data.pkl"):
                data = pickle.dumps({"fc.weight": System()}, protocol=2)
            dst.writestr(name, data)
    output = tmp_path / "out.weights.h5"
    for arch in ("r3d_18", "mc3_18", "r2plus1d_18"):
        with pytest.raises(ValueError, match="sha256"):
            pretrained.convert(arch, source=str(bad), output=str(output))
        with pytest.raises(UnsafeCheckpointError, match="system"):
            pretrained.convert(
                arch, source=str(bad), output=str(output), verify_sha256=False
            )
    assert not marker.exists() and not output.exists()


def test_sha256_prefix_or_full_digest(tmp_path):
    path = tmp_path / "file.pth"
    path.write_bytes(b"keras-video")
    digest = pretrained.sha256_of(path)
    pretrained.check_sha256(path, digest)
    pretrained.check_sha256(path, digest[:8].upper())
    with pytest.raises(ValueError, match=r"does not match the pinned 00000000\.\.\."):
        pretrained.check_sha256(path, "00000000")


def test_unknown_name_lists_the_converters():
    with pytest.raises(ValueError, match=r"r2plus1d_18.*Received: name='r4d'"):
        pretrained.convert("r4d")


class _Torch(nn.Module):
    """Conv3d (grouped) -> BatchNorm3d -> global average -> Linear."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(4, 6, (1, 2, 3), padding=0, groups=2)
        self.bn = nn.BatchNorm3d(6)
        self.fc = nn.Linear(6, 5)

    def forward(self, x):
        return self.fc(self.bn(self.conv(x)).mean(dim=(2, 3, 4)))


def test_assign_torch_weights_layouts_equal_outputs():
    torch.manual_seed(0)
    reference = _Torch().eval()
    with torch.no_grad():
        reference.bn.running_mean.normal_()
        reference.bn.running_var.uniform_(0.5, 2.0)
        reference.bn.weight.normal_()
    inputs = keras.Input((3, 5, 7, 4))
    x = keras.layers.Conv3D(6, (1, 2, 3), groups=2, name="c")(inputs)
    x = keras.layers.BatchNormalization(epsilon=1e-5, name="b")(x)
    x = keras.layers.GlobalAveragePooling3D()(x)
    model = keras.Model(inputs, keras.layers.Dense(5, name="d")(x))
    state = {k: v.numpy() for k, v in reference.state_dict().items()}
    pretrained.assign_torch_weights(model, state, {"conv": "c", "bn": "b", "fc": "d"})
    clip = np.random.default_rng(0).standard_normal((2, 3, 5, 7, 4)).astype("f4")
    with torch.no_grad():
        expected = reference(torch.from_numpy(clip).permute(0, 4, 1, 2, 3)).numpy()
    got = keras.ops.convert_to_numpy(model(clip, training=False))
    np.testing.assert_allclose(got, expected, atol=1e-5)
    with pytest.raises(
        ValueError, match=r"no layer takes: \['conv.weight', 'conv.bias'\]"
    ):
        pretrained.assign_torch_weights(model, state, {"bn": "b", "fc": "d"})
