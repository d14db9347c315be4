"""`export_model`: a SavedModel, ONNX or LiteRT artifact of a clip model.

Which converter writes each format, by Keras backend:

- `saved_model`: `model.export` on TensorFlow, and on JAX (jax2tf).
- `onnx`: `model.export` on TensorFlow (tf2onnx), PyTorch (torch.onnx) and
  JAX (jax2onnx, when installed).
- `litert`: `model.export` on TensorFlow (the TF LiteRT converter); on JAX,
  `model.export` to a SavedModel (jax2tf), then the TF LiteRT converter; its
  batch is fixed to 1 (`load_exported` runs a batch one clip at a time; so
  is ONNX from PyTorch, see `fixed_batch`).

LiteRT artifacts use builtin operators only (no TensorFlow "select" ops, which
a plain LiteRT interpreter cannot run): 3D pooling and RNN time loops are
rewritten first (`builtin_ops.builtin_model`). `float16=True`: SavedModel
computes in float16 (a float16 copy of the model, its 3D pooling as 2D
pooling, which TensorFlow has float16 CPU kernels for); ONNX stores float16 weights
and computes in float16 between float32 inputs and outputs (onnxruntime's
float16 converter); LiteRT stores float16 weights (its post-training float16
quantisation). The artifact's inputs take `[0, 255]` clips as `input_dtype`
(see `serving`), and it carries its clip protocol (see `protocol`).
"""

import os
import tempfile

import keras

from keras_video.export import builtin_ops, errors, protocol, serving

FORMATS = ("saved_model", "onnx", "litert")
_ALIASES = {"tf_saved_model": "saved_model", "tflite": "litert"}


def check_format(format):
    """The canonical format name (`"tf_saved_model"` -> `"saved_model"`)."""
    format = _ALIASES.get(format, format)
    if format not in FORMATS:
        raise ValueError(
            f"`format` must be one of {FORMATS}. Received: format={format!r}"
        )
    return format


def _load(model):
    if isinstance(model, (str, os.PathLike)):
        if not os.path.isfile(model):
            raise FileNotFoundError(f"no model file at {os.fspath(model)}")
        return keras.saving.load_model(model)
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"`model` must be a keras.Model or a .keras path. Received: model={model!r}"
        )
    return model


def _check_backend(format):
    backend = keras.backend.backend()
    supported = {
        "saved_model": ("tensorflow", "jax"),
        "onnx": ("tensorflow", "jax", "torch"),
        "litert": ("tensorflow", "jax"),
    }[format]
    if backend not in supported:
        raise errors.ExportError(
            f"{format} export runs on the {' or '.join(supported)} backend, not "
            f"{backend}: set KERAS_BACKEND and load the .keras model there. "
            f"Received: format={format!r}",
            format=format,
        )


def _litert_converter_options(float16):
    import tensorflow as tf

    options = {"target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]}}
    if float16:
        options["optimizations"] = [tf.lite.Optimize.DEFAULT]
        options["target_spec"]["supported_types"] = [tf.float16]
    return options


def _export_saved_model(model, output):
    model.export(output, format="tf_saved_model", verbose=False)


def check_onnx_ops(path):
    """Raises naming the first node whose op ONNX does not define (tf2onnx
    keeps an op it cannot convert as is, and only logs it)."""
    import onnx

    model = onnx.load(path)
    opset = {o.domain: o.version for o in model.opset_import}
    for node in model.graph.node:
        domain = node.domain or ""
        if domain not in ("", "ai.onnx"):
            continue  # other domains (onnxruntime's) are checked by the runtime
        if not onnx.defs.has(node.op_type, opset.get(domain, 1), domain):
            raise RuntimeError(
                f"op {node.op_type} is not supported by ONNX (node {node.name})"
            )


def fixed_batch(format):
    """Whether `format` is written with a batch of 1 on this backend: LiteRT
    from JAX (with a symbolic batch, jax2tf lowers slices to dynamic gathers
    the LiteRT converter does not take) and ONNX from PyTorch (Keras then
    uses the torch.export-based exporter; the TorchScript one it takes for a
    dynamic batch fails on channels-last 3D convolutions)."""
    backend = keras.backend.backend()
    return (format, backend) in (("litert", "jax"), ("onnx", "torch"))


def batch_one_signature(model):
    """The `input_signature` of `model` with a batch of 1 (one argument: a
    spec, or the list of specs of a several-input model)."""
    specs = [
        keras.InputSpec(shape=(1, *t.shape[1:]), dtype=t.dtype, name=name)
        for name, t in zip(serving.input_names(model), model.inputs, strict=True)
    ]
    return [specs] if len(specs) > 1 else specs


def _export_onnx(model, output, float16):
    kwargs = {}
    if fixed_batch("onnx"):
        kwargs["input_signature"] = batch_one_signature(model)
    model.export(output, format="onnx", verbose=False, **kwargs)
    check_onnx_ops(output)
    if float16:
        import onnx
        from onnxruntime.transformers.float16 import convert_float_to_float16

        half = convert_float_to_float16(onnx.load(output), keep_io_types=True)
        onnx.save(half, output)


def _export_litert(model, output, float16):
    model = builtin_ops.builtin_model(model)
    options = _litert_converter_options(float16)
    if keras.backend.backend() == "tensorflow":
        model.export(output, format="litert", verbose=False, **options)
        return
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as saved:  # batch 1: see fixed_batch
        model.export(saved, format="tf_saved_model", verbose=False,
                     input_signature=batch_one_signature(model))  # fmt: skip
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        converter.target_spec.supported_ops = options["target_spec"]["supported_ops"]
        if float16:
            converter.optimizations = options["optimizations"]
            converter.target_spec.supported_types = [tf.float16]
        data = converter.convert()
    with open(output, "wb") as f:
        f.write(data)


def _call_once(model):
    """Runs `model` on one zero clip (exporters need a model that was called)."""
    import numpy as np

    zeros = [np.zeros((1, *t.shape[1:]), t.dtype) for t in model.inputs]
    model(zeros if len(zeros) > 1 else zeros[0], training=False)


def _check_output(output, format):
    output = os.fspath(output)
    if format == "onnx" and not output.endswith(".onnx"):
        raise ValueError(
            f"An ONNX artifact's path must end with .onnx. Received: output={output!r}"
        )
    if format == "litert" and not output.endswith(".tflite"):
        raise ValueError(
            "A LiteRT artifact's path must end with .tflite. "
            f"Received: output={output!r}"
        )
    parent = os.path.dirname(os.path.abspath(output))
    os.makedirs(parent, exist_ok=True)
    return output


def export_model(
    model,
    output,
    format="saved_model",
    *,
    float16=False,
    input_dtype="float32",
    clip_settings=None,
    class_names=None,
):
    """Exports a clip model as a serving artifact that carries its clip protocol.

    Args:
        model: a `keras.Model` (static clip shape) or the path of a `.keras` file.
        output: a folder (`saved_model`), a `.onnx` or a `.tflite` path.
        format: `"saved_model"` (also `"tf_saved_model"`), `"onnx"` or
            `"litert"` (also `"tflite"`).
        float16: a float16 artifact (see the module docstring).
        input_dtype: `"float32"` or `"uint8"` clips in `[0, 255]`.
        clip_settings: the `ClipSettings` the model's clips were made with
            (stored in the protocol; default: frames and size from the input).
        class_names: class names to store in the protocol.

    Returns:
        the artifact's path.

    Raises:
        ExportError: the model cannot be exported to `format` (the message
            names the layer that stops it), or not on this backend.
        ValueError: a bad argument.

    Example:
    ```python
    from keras_video.applications import R2Plus1D
    from keras_video.export import export_model, load_exported

    model = R2Plus1D(depth=18, base_filters=8, classes=5, input_shape=(8, 64, 64, 3))
    export_model(model, "r2plus1d.onnx", format="onnx", input_dtype="uint8")
    served = load_exported("r2plus1d.onnx")  # onnxruntime
    scores = served(clips_uint8)            # (batch, 5)
    ```
    """
    format = check_format(format)
    serving.check_input_dtype(input_dtype)
    output = _check_output(output, format)
    model = _load(model)
    _check_backend(format)
    if keras.config.dtype_policy().name != "float32":
        raise ValueError(
            "Export from the float32 dtype policy (use float16=True for a float16 "
            f"artifact). Received: dtype_policy={keras.config.dtype_policy().name!r}"
        )
    serving.check_static_shape(model)
    with errors.naming_layer(model, format):
        served = serving.serving_model(
            model, input_dtype, float16=float16 and format == "saved_model"
        )
        if float16 and format == "saved_model":
            # TF has no float16 3D pooling kernel on CPU: 2D pools instead.
            served = builtin_ops.builtin_model(served)
        _call_once(served)
        if format == "saved_model":
            _export_saved_model(served, output)
        elif format == "onnx":
            _export_onnx(served, output, float16)
        else:
            _export_litert(served, output, float16)
    record = protocol.make_protocol(
        served, format, input_dtype, float16, clip_settings, class_names,
        batch_size=1 if fixed_batch(format) else None,
    )  # fmt: skip
    protocol.write_protocol(output, format, record)
    return output
