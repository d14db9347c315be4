import math

import keras
import numpy as np
import pytest

from keras_video.training.schedules import WarmupCosineDecay


def _lr(schedule, step):
    return float(keras.ops.convert_to_numpy(schedule(step)))


def test_values_at_steps():
    s = WarmupCosineDecay(1e-2, decay_steps=110, warmup_steps=10, warmup_start=1e-3)
    assert _lr(s, 0) == pytest.approx(1e-3)
    assert _lr(s, 5) == pytest.approx(1e-3 + 9e-3 * 0.5)
    assert _lr(s, 10) == pytest.approx(1e-2)
    # Half way through the cosine part: half the peak.
    assert _lr(s, 60) == pytest.approx(5e-3, rel=1e-5)
    assert _lr(s, 35) == pytest.approx(1e-2 * 0.5 * (1 + math.cos(math.pi * 0.25)))
    assert _lr(s, 110) == pytest.approx(0.0, abs=1e-9)
    assert _lr(s, 500) == pytest.approx(0.0, abs=1e-9)


def test_no_warmup_and_final_rate():
    s = WarmupCosineDecay(1.0, decay_steps=4, final_learning_rate=0.2)
    assert [round(_lr(s, i), 6) for i in range(5)] == pytest.approx(
        [1.0, 0.2 + 0.8 * (1 + math.cos(math.pi / 4)) / 2, 0.6,
         0.2 + 0.8 * (1 + math.cos(3 * math.pi / 4)) / 2, 0.2], rel=1e-5
    )  # fmt: skip


def test_serializable_and_drives_an_optimizer(tmp_path):
    s = WarmupCosineDecay(1e-3, decay_steps=100, warmup_steps=10)
    again = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(s)
    )
    assert isinstance(again, WarmupCosineDecay)
    assert again.get_config() == s.get_config()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.AdamW(s), "mse")
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)), batch_size=2, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.optimizer._learning_rate, WarmupCosineDecay)


def test_bad_arguments():
    with pytest.raises(ValueError, match="warmup_steps"):
        WarmupCosineDecay(1.0, decay_steps=5, warmup_steps=6)
