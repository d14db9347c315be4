"""Checks every application test runs: tiny build, `.keras` round trip, counts."""

import keras
import numpy as np


def random_inputs(model, batch_size=2, seed=0):
    """Random inputs for every input of `model` (unknown dims become 8)."""
    rng = np.random.default_rng(seed)
    arrays = [
        rng.standard_normal((batch_size,) + tuple(d or 8 for d in x.shape[1:])).astype(
            "float32"
        )
        for x in model.inputs
    ]
    return arrays if len(arrays) > 1 else arrays[0]


def check_application(model, expected_shape, tmp_path, inputs=None, atol=1e-5):
    """Output shape and a `.keras` round trip (`safe_mode=True`) with equal outputs.

    Returns the outputs (NumPy) for further checks.
    """
    inputs = random_inputs(model) if inputs is None else inputs
    outputs = keras.ops.convert_to_numpy(model(inputs, training=False))
    assert outputs.shape == tuple(expected_shape), (outputs.shape, expected_shape)
    assert tuple(model.outputs[0].shape[1:]) == tuple(expected_shape[1:])
    path = tmp_path / f"{model.name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    again = keras.ops.convert_to_numpy(loaded(inputs, training=False))
    np.testing.assert_allclose(outputs, again, atol=atol, rtol=1e-5)
    assert [w.name for w in loaded.weights] == [w.name for w in model.weights]
    return outputs


def trainable_params(build):
    """Trainable parameters of `build()`, built without initialising weights.

    Full-size models are only counted: `keras.StatelessScope` skips the
    (slow, on JAX) random initialisation of their variables.
    """
    with keras.StatelessScope():
        model = build()
        return int(sum(np.prod(w.shape) for w in model.trainable_weights))
