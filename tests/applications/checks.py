"""Checks every application test runs: tiny build, `.keras` round trip, counts."""

import keras
import numpy as np
import pytest


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


@pytest.fixture
def fast_jax_init(monkeypatch):
    """On JAX, draws initial weights with NumPy instead of `jax.random`.

    `jax.random` compiles one XLA program per new shape (1-8 s each on the
    2-core CI machines), which makes building even a tiny 3D CNN take a
    minute. The drawn values keep their distributions; only tests use this.
    """
    if keras.backend.backend() != "jax":
        yield
        return
    import jax.numpy as jnp
    from keras.src.backend.jax import random as jax_random

    def rng(seed):
        data = np.asarray(jax_random.jax_draw_seed(seed)).astype("uint64")
        return np.random.default_rng(data.ravel().tolist())

    def cast(x, dtype):
        return jnp.asarray(x, dtype=dtype or keras.config.floatx())

    def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
        return cast(rng(seed).normal(mean, stddev, shape), dtype)

    def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
        return cast(rng(seed).uniform(minval, maxval, shape), dtype)

    def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
        generator = rng(seed)
        x = generator.normal(size=shape)
        bad = np.abs(x) > 2
        while bad.any():
            x[bad] = generator.normal(size=int(bad.sum()))
            bad = np.abs(x) > 2
        return cast(x * stddev + mean, dtype)

    monkeypatch.setattr(jax_random, "normal", normal)
    monkeypatch.setattr(jax_random, "uniform", uniform)
    monkeypatch.setattr(jax_random, "truncated_normal", truncated_normal)
    yield
