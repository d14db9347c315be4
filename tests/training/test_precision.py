import keras
import pytest

from keras_video.training import precision


def gpu(cc):
    return {"type": "gpu", "name": "gpu", "compute_capability": cc}


@pytest.mark.parametrize(
    "devices, expected",
    [
        ([], "float32"),
        ([gpu((8, 0))], "mixed_bfloat16"),
        ([gpu((9, 0)), gpu((8, 6))], "mixed_bfloat16"),
        ([gpu((7, 0))], "mixed_float16"),
        ([gpu((7, 5)), gpu((8, 0))], "mixed_float16"),
        ([gpu(None)], "mixed_float16"),
        ([{"type": "tpu", "name": "v4", "compute_capability": None}], "mixed_bfloat16"),
    ],
)
def test_selection(devices, expected):
    assert precision.select_precision(devices) == expected


def test_auto_reads_the_devices(monkeypatch):
    monkeypatch.setattr(precision, "list_accelerators", lambda: [gpu((7, 0))])
    assert precision.resolve_precision("auto") == "mixed_float16"
    assert precision.resolve_precision("float32") == "float32"
    with pytest.raises(ValueError, match="precision"):
        precision.resolve_precision("fp8")


def test_this_cpu_machine_is_float32():
    assert precision.list_accelerators() == []
    assert precision.select_precision() == "float32"


def test_float16_gets_loss_scaling():
    opt = precision.wrap_optimizer(keras.optimizers.AdamW(), "mixed_float16")
    assert isinstance(opt, keras.optimizers.LossScaleOptimizer)
    plain = keras.optimizers.AdamW()
    assert precision.wrap_optimizer(plain, "mixed_bfloat16") is plain


class _FakeJaxDevice:
    def __init__(self, platform, kind, cc=None):
        self.platform, self.device_kind = platform, kind
        if cc is not None:
            self.compute_capability = cc


@pytest.mark.parametrize(
    "devices, expected",
    [
        ([_FakeJaxDevice("cpu", "cpu")], []),
        (
            [_FakeJaxDevice("gpu", "NVIDIA H100 80GB HBM3", "9.0")],
            [{"type": "gpu", "name": "NVIDIA H100 80GB HBM3",
              "compute_capability": (9, 0)}],
        ),  # fmt: skip
        (
            [_FakeJaxDevice("cuda", "Tesla T4", "7.5")],
            [{"type": "gpu", "name": "Tesla T4", "compute_capability": (7, 5)}],
        ),
        (
            [_FakeJaxDevice("tpu", "TPU v4")],
            [{"type": "tpu", "name": "TPU v4", "compute_capability": None}],
        ),
    ],
)
def test_jax_devices_are_read(monkeypatch, devices, expected):
    """The JAX branch of `list_accelerators`, on stand-in `jax.devices()`
    (compute capability is a string there: "9.0")."""
    jax = pytest.importorskip("jax")
    monkeypatch.setattr(precision.keras.backend, "backend", lambda: "jax")
    monkeypatch.setattr(jax, "devices", lambda: devices)
    assert precision.list_accelerators() == expected


def test_torch_devices_are_read(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(precision.keras.backend, "backend", lambda: "torch")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: f"gpu{i}")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda i: (8, 0 + 6 * i))
    found = precision.list_accelerators()
    assert found == [
        {"type": "gpu", "name": "gpu0", "compute_capability": (8, 0)},
        {"type": "gpu", "name": "gpu1", "compute_capability": (8, 6)},
    ]
    assert precision.select_precision(found) == "mixed_bfloat16"
