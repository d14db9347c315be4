"""Export parity on the TensorFlow backend: every zoo constructor, every format.

Each constructor is exported once at float32, tiny (`parity.parity_model`), to
the format and input dtype `tests/export/zoo.py` gives it, run by the format's
own runtime, and its protocol read back (the largest graphs:
tests/export/test_zoo_parity.py); a few float16 artifacts. The full
constructor x format x precision x backend matrix is
`benchmarks/export_parity.py` (its table is in docs/api/export.md). JAX and
PyTorch: tests/export/test_parity.py.
"""

import json

import keras
import pytest

from keras_video import cli
from keras_video.applications import registry
from keras_video.export import (
    ExportError,
    check_parity,
    export_model,
    read_protocol,
)
from keras_video.export.parity import parity_model
from tests.export.zoo import LARGEST, check_constructor


@pytest.mark.parametrize(
    "name", [n for n in registry.list_models() if n not in LARGEST]
)
def test_every_constructor_matches_keras_and_carries_its_protocol(name, tmp_path):
    check_constructor(name, tmp_path)


@pytest.mark.parametrize(
    "name, format",
    [("c3d", "saved_model"), ("early_fusion", "onnx"), ("c3d", "litert")],
)  # fmt: skip
def test_float16_artifacts_are_within_5e_3(name, format):
    result = check_parity(parity_model(name), format, float16=True,
                          input_dtype="uint8")  # fmt: skip
    assert 0 < result["max_abs_diff"] <= 5e-3, result["max_abs_diff"]


@keras.saving.register_keras_serializable(package="tests_export")
class SvdHead(keras.layers.Layer):
    """Singular values: TensorFlow has the op, ONNX and LiteRT builtins do not."""

    def call(self, x):
        values = keras.ops.svd(keras.ops.reshape(x, (-1, 4, 4)), compute_uv=False)
        return keras.ops.reshape(values, (-1, 12))

    def compute_output_shape(self, shape):
        return (shape[0], 12)


class EagerOnly(keras.layers.Layer):
    """Reads a tensor as a Python number: cannot be traced into any graph."""

    def call(self, x):
        return x * float(keras.ops.convert_to_numpy(keras.ops.max(x)))

    def compute_output_shape(self, shape):
        return shape


def svd_model():
    inputs = keras.Input((3, 4, 4, 1), name="clip")
    x = keras.layers.Conv3D(1, 1, name="conv")(inputs)
    return keras.Model(inputs, SvdHead(name="svd_head")(x), name="svd_model")


@pytest.mark.parametrize("format, suffix", [("onnx", ".onnx"), ("litert", ".tflite")])
def test_an_op_the_format_lacks_names_its_layer(tmp_path, format, suffix):
    with pytest.raises(ExportError) as info:
        export_model(svd_model(), str(tmp_path / f"m{suffix}"), format)
    message = str(info.value)
    assert info.value.layer == "svd_head" and "\n" not in message
    assert "layer 'svd_head' (SvdHead)" in message and "Svd" in message
    assert info.value.__suppress_context__  # no converter stack trace chained


def test_a_layer_that_cannot_be_traced_is_named(tmp_path):
    inputs = keras.Input((3, 4, 4, 1), name="clip")
    x = EagerOnly(name="eager_scale")(inputs)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling3D()(x))
    with pytest.raises(ExportError, match=r"layer 'eager_scale' \(EagerOnly\)"):
        export_model(model, str(tmp_path / "sm"), "saved_model")


def test_bad_arguments(tmp_path):
    model = parity_model("c3d")
    with pytest.raises(ValueError, match="format"):
        export_model(model, str(tmp_path / "x"), "coreml")
    with pytest.raises(ValueError, match="must end with .onnx"):
        export_model(model, str(tmp_path / "x.bin"), "onnx")
    with pytest.raises(FileNotFoundError, match="no model file"):
        export_model(str(tmp_path / "none.keras"), str(tmp_path / "x"))


def test_cli_exports_with_the_run_protocol_and_names_a_bad_layer(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    parity_model("c3d").save(run / "model.keras")
    (run / "recipe.json").write_text(json.dumps(
        {"model": "C3D", "clip_length": 8, "frame_step": 3, "image_size": [32, 32]}
    ))  # fmt: skip
    (run / "class_names.json").write_text(json.dumps(list("abcd")))
    out = tmp_path / "c3d.onnx"
    argv = ["export", str(run / "model.keras"), str(out), "--format", "onnx",
            "--input-dtype", "uint8"]  # fmt: skip
    assert cli.main(argv) == 0
    record = read_protocol(out)
    assert (record["frames"], record["step"], record["class_names"][0]) == (8, 3, "a")
    assert record["inputs"][0]["dtype"] == "uint8"
    svd_model().save(tmp_path / "svd.keras")
    capsys.readouterr()
    argv = ["export", str(tmp_path / "svd.keras"), str(tmp_path / "s.tflite"),
            "--format", "litert"]  # fmt: skip
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("keras-video export: ExportError:") and "svd_head" in err
