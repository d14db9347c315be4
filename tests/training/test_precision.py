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
