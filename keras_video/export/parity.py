"""`check_parity`: an exported artifact, run by its runtime, against Keras.

Tolerances: `1e-4` for float32 artifacts and `5e-3` for float16 ones (maximum
absolute difference of the outputs, e.g. logits).

`parity_model` builds the models the parity table is measured on: tiny zoo
configurations with random weights whose BatchNormalization statistics are
set from data (`calibrate_batch_norm`), as a trained network's are. Left at
their initial values (mean 0, variance 1) every BatchNormalization is the
identity at inference, residual activations grow block after block, and
R3D-50's logits reach ~20-40 where a trained network's are a few units; an
absolute tolerance would then measure the random initialisation, not the
export.
"""

import os
import tempfile

import keras
import numpy as np

from keras_video.export import errors, exporter, runtime

TOLERANCE = {False: 1e-4, True: 5e-3}

# Tiny configurations of the constructors whose registry entry is full size.
_PARITY_OVERRIDES = {
    "i3d": dict(architecture="pytorchvideo", base_filters=4),
    "inception_i3d": dict(
        include_top=False,
        final_endpoint="Mixed_3c",
        pooling="avg",
        input_shape=(4, 32, 32, 3),
    ),
    "two_stream_i3d": dict(
        include_top=False,
        pooling="avg",
        input_shape=(4, 32, 32, 3),
        flow_input_shape=(4, 32, 32, 2),
    ),
}
_SUFFIX = {"saved_model": "", "onnx": ".onnx", "litert": ".tflite"}


def parity_model(name, classes=4):
    """The tiny `applications.registry` model `name` as a trained model is built:
    `[0, 255]` clips rescaled to `[-1, 1]` first, logits out.

    The I3Ds, full size in the registry, are built small here (`I3D`: the
    PyTorchVideo layout with 4 base filters; `InceptionI3D`: up to
    `Mixed_3c`; `TwoStreamI3D`: without the head), on 4-8 frames of 32x32.
    Its BatchNormalization statistics are set from 8 random clips
    (`calibrate_batch_norm`, variances of at least 1), so its logits are a
    few units, as a trained network's, not the tens that initial statistics
    give deep residual networks.
    """
    from keras_video.applications import registry

    kwargs = dict(_PARITY_OVERRIDES.get(name, {}))
    if kwargs.get("include_top", True):
        kwargs.update(classes=classes, classifier_activation=None)
    model = registry.build_tiny(name, **kwargs)
    inputs = [keras.Input(t.shape[1:], name=t.name) for t in model.inputs]
    scaled = [
        keras.layers.Rescaling(1 / 127.5, -1.0, name=f"{t.name}_rescale")(t)
        for t in inputs
    ]
    outputs = model(scaled if len(scaled) > 1 else scaled[0])
    model = keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs, name=name)
    calibrate_batch_norm(model, random_clips(model, batch_size=8, seed=1))
    return model


def calibrate_batch_norm(model, clips, min_variance=1.0):
    """Sets every BatchNormalization's moving mean and variance from `clips`.

    One forward pass in training mode with momentum 0 makes each layer's
    moving statistics those of the batch it sees (every layer before it
    normalised by its batch statistics); then a moving variance below
    `min_variance` is raised to it. So activations that grow block after
    block are centred and scaled down, as in a trained network, and no layer
    amplifies a channel that happened to vary little over the few
    calibration clips. Measured on the registry's tiny models with random
    weights: taking the variances as they are makes such a network
    needlessly sensitive (rounding only its weights to float16 moves
    R(2+1)D-18's logits by 7e-2 and TwoStreamI3D's features by 0.4, against
    1e-3 and 4e-6 with initial statistics); with the floor every model's
    float16 error is back under 2e-3. Other weights are not changed.

    Args:
        model: a `keras.Model`.
        clips: the calibration inputs (one array per model input), e.g.
            `random_clips(model, batch_size=8, seed=1)`.
        min_variance: the smallest moving variance set.

    Returns:
        the number of BatchNormalization layers set.
    """
    norms = [
        layer
        for _, layer in errors.layer_paths(model)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    momenta = [layer.momentum for layer in norms]
    try:
        for layer in norms:
            layer.momentum = 0.0
        model(clips if len(clips) > 1 else clips[0], training=True)
    finally:
        for layer, momentum in zip(norms, momenta, strict=True):
            layer.momentum = momentum
    for layer in norms:
        variance = keras.ops.maximum(layer.moving_variance, min_variance)
        layer.moving_variance.assign(
            keras.ops.cast(variance, layer.moving_variance.dtype)
        )
    return len(norms)


def random_clips(model, batch_size=2, seed=0, dtype="float32"):
    """Random `[0, 255]` clips, one array per model input."""
    rng = np.random.default_rng(seed)
    clips = []
    for tensor in model.inputs:
        shape = (batch_size, *tensor.shape[1:])
        clip = rng.integers(0, 256, shape).astype(dtype)
        clips.append(clip)
    return clips


def check_parity(
    model, format, *, float16=False, input_dtype="float32", clips=None,
    output=None, tolerance=None, **export_kwargs,
):  # fmt: skip
    """Exports `model`, runs the artifact with its runtime, compares with Keras.

    Args:
        model: a `keras.Model` (static clip shape).
        format: `"saved_model"`, `"onnx"` or `"litert"`.
        float16: a float16 artifact.
        input_dtype: the artifact's input dtype.
        clips: the inputs to compare on (default `random_clips`, 2 clips).
        output: where to write the artifact (default: a temporary folder,
            deleted afterwards).
        tolerance: the largest absolute difference allowed (default
            `TOLERANCE[float16]`).
        **export_kwargs: passed to `export_model`.

    Returns:
        dict: `max_abs_diff`, `tolerance`, `ok`, `format`, `float16`,
        `keras` and `exported` outputs.
    """
    format = exporter.check_format(format)
    if clips is None:
        clips = random_clips(model, dtype=input_dtype)
    tolerance = TOLERANCE[bool(float16)] if tolerance is None else tolerance
    expected = model([c.astype("float32") for c in clips] if len(clips) > 1
                     else clips[0].astype("float32"), training=False)  # fmt: skip
    expected = keras.ops.convert_to_numpy(expected).astype(np.float32)
    with tempfile.TemporaryDirectory() as folder:
        path = output or os.path.join(folder, "artifact" + _SUFFIX[format])
        exporter.export_model(
            model, path, format, float16=float16, input_dtype=input_dtype,
            **export_kwargs,
        )  # fmt: skip
        got = np.asarray(runtime.load_exported(path)(*clips), np.float32)
    diff = float(np.max(np.abs(got - expected)))
    return {
        "format": format,
        "float16": bool(float16),
        "max_abs_diff": diff,
        "tolerance": tolerance,
        "ok": diff <= tolerance,
        "keras": expected,
        "exported": got,
    }
