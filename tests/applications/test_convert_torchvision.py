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
from keras_video.applications.torch_checkpoint import (
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


def _logits_difference(arch, width, classes, tmp_path, model=None):
    """Max |logits difference| of `arch` converted through a `.pth` file.

    `model`: a function of the state dict that builds and converts; default
    the zoo's model at `width` on 8x32x32 clips and `convert_torchvision.assign`.
    """
    reference = torch_model(arch, width, classes)
    path = tmp_path / f"{arch}.pth"
    torch.save(reference.state_dict(), path)  # torchvision: a plain state dict
    state = load_state_dict(path)
    if model is None:
        model = convert_torchvision.assign(state, keras_model(arch, width, classes))
    else:
        model = model(state)
    clip = np.random.default_rng(1).standard_normal((2, 8, 32, 32, 3))
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
    # The registered converter itself: its full network, its assign.
    converter = pretrained.CONVERTERS[arch]
    difference = _logits_difference(arch, 64, 400, tmp_path, converter.convert)
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


def test_preset_needs_the_published_head():
    with pytest.raises(ValueError, match="classes` must be 400"):
        R2Plus1D(weights="kinetics400", classes=10)
    with pytest.raises(ValueError, match="presets"):
        R3D(depth=34, weights="kinetics400")


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
