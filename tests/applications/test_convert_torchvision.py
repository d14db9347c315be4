"""torchvision's r3d_18 / mc3_18 / r2plus1d_18 converted into R3D / MC3 /
R2Plus1D: the same logits as PyTorch, through the restricted `.pth` reader.

torchvision is not installed (its PyPI wheel needs CUDA), so the networks are
rebuilt here in PyTorch as `torchvision/models/video/resnet.py` builds them:
the same modules, hence the same state-dict names (`stem.0.weight`,
`layer2.0.conv1.0.3.weight`, `layer2.0.downsample.1.running_var`, `fc.bias`).
At `width=64` they are the published networks (parameter counts checked
against torchvision's below).
"""

import keras
import numpy as np
import pytest
import torch
from torch import nn

from keras_video.applications import (
    MC3,
    R3D,
    R2Plus1D,
    convert_torchvision,
    pretrained,
    resnet3d,
)
from keras_video.applications import weights as weights_lib
from keras_video.applications.torch_checkpoint import (
    UnsafeCheckpointError,
    load_state_dict,
)

# --- torchvision's VideoResNet, rebuilt (width 64 = torchvision) ------------


def _conv3d_simple(cin, cout, mid, stride=1):
    return nn.Conv3d(cin, cout, (3, 3, 3), stride, (1, 1, 1), bias=False)


def _conv3d_no_temporal(cin, cout, mid, stride=1):
    return nn.Conv3d(cin, cout, (1, 3, 3), (1, stride, stride), (0, 1, 1), bias=False)


def _conv2plus1d(cin, cout, mid, stride=1):
    return nn.Sequential(
        nn.Conv3d(cin, mid, (1, 3, 3), (1, stride, stride), (0, 1, 1), bias=False),
        nn.BatchNorm3d(mid),
        nn.ReLU(inplace=True),
        nn.Conv3d(mid, cout, (3, 1, 1), (stride, 1, 1), (1, 0, 0), bias=False),
    )


# conv builder -> the stride of its block's 1x1x1 downsample
_DOWNSAMPLE_STRIDE = {
    _conv3d_simple: lambda s: (s, s, s),
    _conv3d_no_temporal: lambda s: (1, s, s),
    _conv2plus1d: lambda s: (s, s, s),
}


class _BasicBlock(nn.Module):
    def __init__(self, cin, planes, builder, stride=1, downsample=None):
        super().__init__()
        mid = (cin * planes * 27) // (cin * 9 + 3 * planes)
        self.conv1 = nn.Sequential(
            builder(cin, planes, mid, stride), nn.BatchNorm3d(planes), nn.ReLU(True)
        )
        self.conv2 = nn.Sequential(builder(planes, planes, mid), nn.BatchNorm3d(planes))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv2(self.conv1(x)) + residual)


def _stem(kind, width):
    if kind == "3d":
        return nn.Sequential(
            nn.Conv3d(3, width, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False),
            nn.BatchNorm3d(width),
            nn.ReLU(inplace=True),
        )
    mid = 45 * width // 64  # torchvision: 45 for its 64
    return nn.Sequential(
        nn.Conv3d(3, mid, (1, 7, 7), (1, 2, 2), (0, 3, 3), bias=False),
        nn.BatchNorm3d(mid),
        nn.ReLU(inplace=True),
        nn.Conv3d(mid, width, (3, 1, 1), (1, 1, 1), (1, 0, 0), bias=False),
        nn.BatchNorm3d(width),
        nn.ReLU(inplace=True),
    )


class _VideoResNet(nn.Module):
    def __init__(self, builders, stem, width=64, num_classes=400):
        super().__init__()
        self.stem = _stem(stem, width)
        cin = width
        for stage, builder in enumerate(builders):
            planes, stride = width * 2**stage, 1 if stage == 0 else 2
            downsample = None
            if stride != 1 or cin != planes:
                downsample = nn.Sequential(
                    nn.Conv3d(
                        cin, planes, 1, _DOWNSAMPLE_STRIDE[builder](stride), bias=False
                    ),
                    nn.BatchNorm3d(planes),
                )
            blocks = [_BasicBlock(cin, planes, builder, stride, downsample)]
            blocks.append(_BasicBlock(planes, planes, builder))
            setattr(self, f"layer{stage + 1}", nn.Sequential(*blocks))
            cin = planes
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.stem(x)
        for stage in range(1, 5):
            x = getattr(self, f"layer{stage}")(x)
        return self.fc(self.avgpool(x).flatten(1))


ARCHS = {
    "r3d_18": ([_conv3d_simple] * 4, "3d", R3D),
    "mc3_18": ([_conv3d_simple] + [_conv3d_no_temporal] * 3, "3d", MC3),
    "r2plus1d_18": ([_conv2plus1d] * 4, "2plus1d", R2Plus1D),
}


def torch_model(arch, width, classes, seed=0):
    """torchvision's `arch` at `width` with random weights and BN statistics."""
    builders, stem, _ = ARCHS[arch]
    torch.manual_seed(seed)
    model = _VideoResNet(builders, stem, width, classes)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv3d):
                fan_in = module.weight[0].numel()
                module.weight.normal_(0, (2 / fan_in) ** 0.5, generator=generator)
            elif isinstance(module, nn.BatchNorm3d):
                module.weight.uniform_(0.5, 1.5, generator=generator)
                module.bias.normal_(0, 0.2, generator=generator)
                module.running_mean.normal_(0, 0.2, generator=generator)
                module.running_var.uniform_(0.5, 2.0, generator=generator)
                module.num_batches_tracked.fill_(7)
            elif isinstance(module, nn.Linear):
                module.weight.normal_(0, 0.05, generator=generator)
                module.bias.normal_(0, 0.1, generator=generator)
    return model.eval()


def keras_model(arch, width, classes, input_shape=(8, 32, 32, 3)):
    constructor = ARCHS[arch][2]
    return constructor(
        base_filters=width,
        classes=classes,
        input_shape=input_shape,
        classifier_activation=None,
    )


def _logits_difference(arch, width, classes, tmp_path, clip_shape=(8, 32, 32)):
    reference = torch_model(arch, width, classes)
    path = tmp_path / f"{arch}.pth"
    torch.save(reference.state_dict(), path)  # torchvision: a plain state dict
    model = keras_model(arch, width, classes, (*clip_shape, 3))
    convert_torchvision.assign(load_state_dict(path), model)
    clip = np.random.default_rng(1).standard_normal((2, *clip_shape, 3))
    clip = clip.astype("float32")
    with torch.no_grad():
        expected = reference(torch.from_numpy(clip).permute(0, 4, 1, 2, 3)).numpy()
    got = keras.ops.convert_to_numpy(model(clip, training=False))
    assert got.shape == expected.shape == (2, classes)
    assert np.abs(expected).max() > 0.1  # not a degenerate (all-zero) network
    return float(np.abs(got - expected).max())


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_same_logits_as_pytorch(arch, tmp_path):
    difference = _logits_difference(arch, 8, 7, tmp_path)
    print(f"\n{arch} width 8, {keras.backend.backend()}: max |diff| {difference:.2e}")
    assert difference < 1e-4


@pytest.mark.large
@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_published_size_same_logits_as_pytorch(arch, tmp_path):
    reference = torch_model(arch, 64, 400)
    published = {
        "r3d_18": 33_371_472,
        "mc3_18": 11_695_440,
        "r2plus1d_18": 31_505_325,
    }
    assert sum(p.numel() for p in reference.parameters()) == published[arch]
    difference = _logits_difference(arch, 64, 400, tmp_path, (8, 32, 32))
    print(f"\n{arch} full size, {keras.backend.backend()}: max |diff| {difference:.2e}")
    assert difference < 1e-4


def test_names_follow_torchvision_and_every_array_is_used(tmp_path):
    state = {
        k: v.numpy() for k, v in torch_model("r2plus1d_18", 4, 3).state_dict().items()
    }
    model = keras_model("r2plus1d_18", 4, 3)
    names = convert_torchvision.layer_names(state, model)
    assert names["stem.3"] == "conv1_conv"
    assert names["layer2.0.conv1.0.0"] == "conv3_block1_1_conv_s"
    assert names["layer2.0.conv1.0.3"] == "conv3_block1_1_conv_t"
    assert names["layer2.0.downsample.1"] == "conv3_block1_0_bn"
    extra = dict(state, **{"layer9.0.conv1.0.weight": np.zeros(1, "float32")})
    with pytest.raises(
        ValueError, match=r"no layer takes: \['layer9.0.conv1.0.weight'\]"
    ):
        convert_torchvision.assign(extra, model)
    missing = {k: v for k, v in state.items() if k != "fc.bias"}
    with pytest.raises(ValueError, match=r"left unset: \['predictions/bias'\]"):
        convert_torchvision.assign(missing, model)
    wrong = dict(state, **{"fc.weight": np.zeros((3, 5), "float32")})
    with pytest.raises(ValueError, match=r"fc.weight: shape \(5, 3\)"):
        convert_torchvision.assign(wrong, model)


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


def test_preset_needs_the_published_head():
    with pytest.raises(ValueError, match="classes` must be 400"):
        R2Plus1D(weights="kinetics400", classes=10)
    with pytest.raises(ValueError, match="presets"):
        R3D(depth=34, weights="kinetics400")


def test_sha256_mismatch_and_malicious_checkpoint_are_refused(tmp_path, capsys):
    import os
    import pickle
    import zipfile

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


def test_preprocess_input_is_torchvision_normalisation():
    frames = np.array([[[0, 128, 255]]], "uint8")
    mean = np.array([0.43216, 0.394666, 0.37645])
    std = np.array([0.22803, 0.22145, 0.216989])
    expected = (np.array([0, 128, 255]) / 255 - mean) / std
    got = keras.ops.convert_to_numpy(resnet3d.preprocess_input(frames))
    np.testing.assert_allclose(got[0, 0], expected, rtol=1e-6)
    config = resnet3d.KINETICS400_DATA_CONFIG
    assert (config["num_frames"], config["crop_size"], config["resize_size"]) == (
        16,
        112,
        (128, 171),
    )
