import os
import pathlib

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

if os.environ["KERAS_BACKEND"] == "jax":
    # XLA's CPU compiler dominates JAX test time (every new shape compiles; a
    # random-normal initializer takes ~1 s). Tiny test models need no
    # optimised code, and a persistent cache lets test processes share work.
    os.environ.setdefault(
        "XLA_FLAGS",
        "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true",
    )
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(ROOT / ".jax_cache"))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")


@pytest.fixture
def shared_data():
    """`../shared/data` (real test files); skips when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def fast_jax_init(monkeypatch):
    """On JAX, draws initial weights with NumPy instead of `jax.random`.

    `jax.random` compiles one XLA program per new shape (1-8 s each on the
    2-core CI machines), which makes building even a tiny 3D CNN take a
    minute. The drawn values keep their distributions; only tests use this.
    """
    import keras

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
