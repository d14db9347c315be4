"""PyTorchVideo's `slowfast_r50`, `slow_r50` and `i3d_r50` into the zoo.

Each PyTorchVideo network is built by PyTorchVideo itself (random weights,
random batch-norm statistics), saved in its own checkpoint format
(`torch.save({"model_state": ...})`), read back without PyTorch
(`torch_checkpoint.load_state_dict`), converted, and its logits compared on
one random clip: max |difference| < 1e-4. Default tests use PyTorchVideo's
builders at a small width (and depth 18 for SlowFast); the `large` ones the
published networks through `keras-video weights convert` and the preset.
Tiny clips are 96x96: 3x3 last features, so the head's average pool (2x2
windows, stride 1) overlaps as the published (7, 7) pool does on 256x256
crops; the published networks run on 64x64 (2x2 features, one window).
"""

import importlib
import os
import sys
import types

import keras
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("pytorchvideo")

from keras_video.applications import (  # noqa: E402
    I3D,
    Slow,
    SlowFast,
    convert_pytorchvideo,
    i3d,
    pretrained,
    slow,
    slowfast,
    torch_checkpoint,
)
from keras_video.applications import weights as weights_lib  # noqa: E402

SIZE = 96
LARGE_SIZE = 64  # the published networks: 2x2 last features, less compute
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def ptv():
    """PyTorchVideo's model builders.

    `pytorchvideo.models` imports `torchvision.ops.RoIAlign` for its detection
    head only; without torchvision installed, a stub stands in while the
    modules import (and is removed after), so no test depends on torchvision.
    """
    with pytest.MonkeyPatch.context() as patch:
        if importlib.util.find_spec("torchvision") is None:
            ops = types.ModuleType("torchvision.ops")
            ops.RoIAlign = None  # used by the detection head only
            vision = types.ModuleType("torchvision")
            vision.ops = ops
            patch.setitem(sys.modules, "torchvision", vision)
            patch.setitem(sys.modules, "torchvision.ops", ops)
        return types.SimpleNamespace(
            resnet=importlib.import_module("pytorchvideo.models.resnet"),
            slowfast=importlib.import_module("pytorchvideo.models.slowfast"),
            hub=importlib.import_module("pytorchvideo.models.hub"),
        )


def randomize(model, seed=0):
    """Random weights and batch-norm statistics; eval mode.

    The last batch norm of each residual branch gets small scales so the
    activations (and logits) stay of order 1-10 through 16 blocks.
    """
    generator = torch.Generator().manual_seed(seed)

    def draw(shape, low, high):
        return torch.rand(shape, generator=generator) * (high - low) + low

    with torch.no_grad():
        for name, value in model.state_dict().items():
            if not value.is_floating_point():
                continue
            if name.endswith("running_var"):
                value.copy_(draw(value.shape, 0.5, 1.5))
            elif name.endswith("norm_c.weight"):
                value.copy_(draw(value.shape, 0.1, 0.3))
            elif name.endswith(".weight") and value.ndim == 1:
                value.copy_(draw(value.shape, 0.5, 1.5))
            elif name.endswith((".bias", "running_mean")):
                value.copy_(draw(value.shape, -0.2, 0.2))
            else:  # conv and linear weights, He-scaled
                fan_in = value[0].numel()
                value.copy_(torch.randn(value.shape, generator=generator))
                value.mul_((2.0 / fan_in) ** 0.5)
    return model.eval()


def pack_pathway(frames, alpha):
    """PyTorchVideo's SlowFast `PackPathway` on `(batch, C, T, H, W)` clips."""
    index = torch.linspace(0, frames.shape[2] - 1, frames.shape[2] // alpha).long()
    return [torch.index_select(frames, 2, index), frames]


def torch_logits(model, clip, alpha=None):
    """`model` on the channels-last NumPy `clip` (a fresh list for SlowFast:
    PyTorchVideo's multipathway blocks overwrite their input list)."""
    x = torch.from_numpy(clip).permute(0, 4, 1, 2, 3).contiguous()
    with torch.no_grad():
        return model(pack_pathway(x, alpha) if alpha else x).numpy()


def clip_of(frames, size=SIZE, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((2, frames, size, size, 3)).astype("float32")


def save_and_read(model, tmp_path):
    """The checkpoint as PyTorchVideo's hub serves it, read back without torch."""
    path = tmp_path / "model.pyth"
    torch.save({"model_state": model.state_dict(), "epoch": 196}, path)
    return path, torch_checkpoint.load_state_dict(path, key="model_state")


def difference(keras_model, reference, clip, name, alpha=None):
    expected = torch_logits(reference, clip, alpha)
    actual = keras.ops.convert_to_numpy(keras_model(clip, training=False))
    diff = float(np.abs(actual - expected).max())
    # The parity table of the closing note: `pytest -s` prints it.
    print(
        f"\nparity {name} {keras.backend.backend()}: max |diff| {diff:.2e} "
        f"(max |logit| {np.abs(expected).max():.1f})"
    )
    assert 1.0 < np.abs(expected).max() < 1e3  # logits of a sensible size
    return diff


# --- tiny networks, every backend ------------------------------------------


def test_slowfast_logits_equal_pytorchvideo(ptv, tmp_path):
    reference = randomize(
        ptv.slowfast.create_slowfast(
            model_depth=18,  # bottleneck blocks (1, 1, 1, 1)
            stem_dim_outs=(16, 2),
            slowfast_fusion_conv_kernel_size=(7, 1, 1),  # as slowfast_r50
            head_pool_kernel_sizes=((8, 2, 2), (32, 2, 2)),
            model_num_class=5,
        )
    )
    _, state = save_and_read(reference, tmp_path)
    model = SlowFast(
        base_filters=16,
        stage_blocks=(1, 1, 1, 1),
        tau=8,
        classes=5,
        classifier_activation=None,
        input_shape=(32, SIZE, SIZE, 3),
        slow_sampling="linspace",
        head_pool_size=((8, 2, 2), (32, 2, 2)),
    )
    convert_pytorchvideo.assign(state, model)
    assert difference(model, reference, clip_of(32), "slowfast", alpha=4) < TOLERANCE


def test_slow_logits_equal_pytorchvideo(ptv, tmp_path):
    # slow_r50's arguments (pytorchvideo/models/hub/resnet.py) at width 4.
    reference = randomize(
        ptv.resnet.create_resnet(
            stem_conv_kernel_size=(1, 7, 7),
            head_pool_kernel_size=(8, 2, 2),
            model_depth=50,
            stem_dim_out=4,
            model_num_class=5,
        )
    )
    _, state = save_and_read(reference, tmp_path)
    model = Slow(
        base_filters=4,
        classes=5,
        classifier_activation=None,
        input_shape=(8, SIZE, SIZE, 3),
        head_pool_size=(8, 2, 2),
    )
    convert_pytorchvideo.assign(state, model)
    assert difference(model, reference, clip_of(8), "slow") < TOLERANCE


def test_i3d_logits_equal_pytorchvideo(ptv, tmp_path):
    # i3d_r50 is the hub function itself (width and head through kwargs).
    reference = randomize(
        ptv.hub.i3d_r50(
            pretrained=False,
            stem_dim_out=4,
            head_pool_kernel_size=(4, 2, 2),
            model_num_class=5,
        )
    )
    _, state = save_and_read(reference, tmp_path)
    model = I3D(
        architecture="pytorchvideo",
        base_filters=4,
        classes=5,
        classifier_activation=None,
        input_shape=(8, SIZE, SIZE, 3),
        head_pool_size=(4, 2, 2),
    )
    convert_pytorchvideo.assign(state, model)
    assert difference(model, reference, clip_of(8), "i3d") < TOLERANCE


def test_slow_pathway_frames_are_pack_pathways():
    frames = np.arange(32, dtype="float32")
    clip = torch.from_numpy(frames).reshape(1, 1, 32, 1, 1)
    expected = pack_pathway(clip, 4)[0].flatten().long().tolist()
    assert expected == [0, 4, 8, 13, 17, 22, 26, 31]
    for num_frames, alpha in ((32, 4), (64, 4), (32, 8), (48, 4)):
        model = SlowFast(
            include_top=False,
            base_filters=16,
            stage_blocks=(1,),
            alpha=alpha,
            slow_sampling="linspace",
            input_shape=(num_frames, 32, 32, 1),
        )
        clip = torch.arange(num_frames, dtype=torch.float32).reshape(1, 1, -1, 1, 1)
        indices = pack_pathway(clip, alpha)[0].flatten().long().tolist()
        assert model.get_layer("slow_sample").indices == indices


def test_names_cover_every_array_once(ptv):
    reference = ptv.resnet.create_resnet(
        stem_conv_kernel_size=(5, 7, 7),
        stage1_pool=torch.nn.MaxPool3d,
        model_depth=50,
        stem_dim_out=4,
    )
    state = {k: v.numpy() for k, v in reference.state_dict().items()}
    names = convert_pytorchvideo.layer_names(state)
    # i3d_r50's blocks.2 is its pool: blocks 1, 3, 4, 5 are res2 ... res5.
    assert names["blocks.3.res_blocks.0.branch1_conv"] == "conv3_block1_0_conv"
    assert names["blocks.5.res_blocks.2.branch2.norm_c"] == "conv5_block3_3_bn"
    assert names["blocks.0.conv"] == "conv1_conv"
    assert names["blocks.6.proj"] == "predictions"
    assert len(set(names.values())) == len(names)
    # A wrong network is refused, naming what does not fit.
    model = Slow(base_filters=4, classes=400, input_shape=(8, 32, 32, 3))
    with pytest.raises(ValueError, match="conv1_conv"):
        convert_pytorchvideo.assign(state, model)


class _System:
    """Unpickles to `os.system(command)`."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.mark.parametrize("name", ["slowfast_r50", "slow_r50", "i3d_r50"])
def test_malicious_checkpoint_is_refused(name, tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pyth"
    torch.save({"model_state": _System(f"touch {marker}")}, path)
    with pytest.raises(torch_checkpoint.UnsafeCheckpointError, match="system"):
        pretrained.convert(name, source=str(path), output=str(tmp_path / "out.h5"))
    assert not marker.exists() and not (tmp_path / "out.h5").exists()


def test_table_entries_and_data_configs():
    expected = {
        "slowfast_r50": ("slowfast", "SLOWFAST_8x8_R50.pyth", slowfast, 32, 2),
        "slow_r50": ("slow", "SLOW_8x8_R50.pyth", slow, 8, 8),
        "i3d_r50": ("I3D", "I3D_8x8_R50.pyth", i3d, 8, 8),
    }
    for name, (family, file, module, frames, step) in expected.items():
        converter = pretrained.CONVERTERS[name]
        assert converter.url == (
            f"https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics/{file}"
        )
        assert converter.sha256 is None  # PyTorchVideo publishes none
        assert converter.checkpoint_key == "model_state"
        assert weights_lib.PRESETS[family]["kinetics400"].load == converter.load
        config = converter.get_data_config()
        assert config is module.KINETICS400_DATA_CONFIG
        assert (config["num_frames"], config["frame_step"]) == (frames, step)
        assert config["crop_size"] == config["short_side"] == 256
        assert config["mean"] == (0.45,) * 3 and config["std"] == (0.225,) * 3
        assert (config["num_clips"], config["num_crops"]) == (10, 3)


def test_preprocess_input_is_pytorchvideo_normalisation():
    frames = np.array([[0.0, 114.75, 255.0]], "float32")
    out = keras.ops.convert_to_numpy(slowfast.preprocess_input(frames))
    np.testing.assert_allclose(out, [[-2.0, 0.0, 2.4444444]], rtol=1e-6, atol=1e-6)
    assert slow.preprocess_input is i3d.preprocess_input is slowfast.preprocess_input


# --- the published networks through the converter and the preset ----------


def _convert(name, reference, tmp_path, monkeypatch):
    """`keras-video weights convert NAME --from <peer file>` into a fresh cache."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    path, _ = save_and_read(reference, tmp_path)
    output = pretrained.convert(name, source=str(path))
    assert output == str(tmp_path / "home" / "models" / f"{name}.weights.h5")


@pytest.mark.large
def test_published_slowfast_r50_through_the_preset(ptv, tmp_path, monkeypatch):
    reference = randomize(
        ptv.hub.slowfast_r50(
            pretrained=False, head_pool_kernel_sizes=((8, 2, 2), (32, 2, 2))
        )
    )
    _convert("slowfast_r50", reference, tmp_path, monkeypatch)
    model = SlowFast(
        weights="kinetics400",
        classifier_activation=None,
        input_shape=(32, LARGE_SIZE, LARGE_SIZE, 3),
        head_pool_size=((8, 2, 2), (32, 2, 2)),
    )
    assert model.name == "slowfast_8x8_r50"
    diff = difference(
        model, reference, clip_of(32, LARGE_SIZE), "slowfast_r50", alpha=4
    )
    assert diff < TOLERANCE


@pytest.mark.large
def test_published_slow_r50_through_the_preset(ptv, tmp_path, monkeypatch):
    # slow_r50 fixes its head pool, so the same network from its arguments.
    reference = randomize(
        ptv.resnet.create_resnet(
            stem_conv_kernel_size=(1, 7, 7),
            head_pool_kernel_size=(8, 2, 2),
            model_depth=50,
        )
    )
    assert [v.shape for v in reference.state_dict().values()] == [
        v.shape for v in ptv.hub.slow_r50(pretrained=False).state_dict().values()
    ]
    _convert("slow_r50", reference, tmp_path, monkeypatch)
    model = Slow(
        weights="kinetics400",
        classifier_activation=None,
        input_shape=(8, LARGE_SIZE, LARGE_SIZE, 3),
        head_pool_size=(8, 2, 2),
    )
    assert difference(model, reference, clip_of(8, LARGE_SIZE), "slow_r50") < TOLERANCE


@pytest.mark.large
def test_published_i3d_r50_through_the_preset(ptv, tmp_path, monkeypatch):
    reference = randomize(
        ptv.hub.i3d_r50(pretrained=False, head_pool_kernel_size=(4, 2, 2))
    )
    _convert("i3d_r50", reference, tmp_path, monkeypatch)
    model = I3D(
        weights="kinetics400",
        classifier_activation=None,
        input_shape=(8, LARGE_SIZE, LARGE_SIZE, 3),
        head_pool_size=(4, 2, 2),
    )
    assert model.get_layer("pool2_pool").pool_size == (2, 1, 1)
    assert difference(model, reference, clip_of(8, LARGE_SIZE), "i3d_r50") < TOLERANCE
