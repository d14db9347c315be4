"""Learning-rate schedules for the recipes."""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_video")
class WarmupCosineDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup, then cosine decay.

    ```
    step < warmup:  lr = start + (learning_rate - start) * step / warmup
    afterwards:     lr = final + (learning_rate - final) * (1 + cos(pi * p)) / 2,
                    p = min(1, (step - warmup) / (decay_steps - warmup))
    ```

    Args:
        learning_rate: the peak learning rate, reached at `warmup_steps`.
        decay_steps: total steps of the schedule (warmup included); the rate is
            `final_learning_rate` from there on.
        warmup_steps: steps of linear warmup (0: none).
        warmup_start: learning rate at step 0 of the warmup.
        final_learning_rate: learning rate at and after `decay_steps`.
        name: optional name.

    Example:
    ```python
    schedule = WarmupCosineDecay(1e-3, decay_steps=1000, warmup_steps=100)
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=1e-4)
    ```
    """

    def __init__(
        self,
        learning_rate,
        decay_steps,
        warmup_steps=0,
        warmup_start=0.0,
        final_learning_rate=0.0,
        name="warmup_cosine_decay",
    ):
        super().__init__()
        if decay_steps <= 0 or warmup_steps < 0 or warmup_steps > decay_steps:
            raise ValueError(
                "WarmupCosineDecay needs 0 <= warmup_steps <= decay_steps and "
                f"decay_steps > 0. Received: warmup_steps={warmup_steps}, "
                f"decay_steps={decay_steps}"
            )
        self.learning_rate = float(learning_rate)
        self.decay_steps = int(decay_steps)
        self.warmup_steps = int(warmup_steps)
        self.warmup_start = float(warmup_start)
        self.final_learning_rate = float(final_learning_rate)
        self.name = name

    def __call__(self, step):
        step = ops.cast(step, "float32")
        peak = self.learning_rate
        warm = max(self.warmup_steps, 1)
        warmup_lr = self.warmup_start + (peak - self.warmup_start) * step / warm
        span = max(self.decay_steps - self.warmup_steps, 1)
        progress = ops.clip((step - self.warmup_steps) / span, 0.0, 1.0)
        cosine = 0.5 * (1.0 + ops.cos(math.pi * progress))
        decay_lr = self.final_learning_rate + (peak - self.final_learning_rate) * cosine
        return ops.where(step < self.warmup_steps, warmup_lr, decay_lr)

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "decay_steps": self.decay_steps,
            "warmup_steps": self.warmup_steps,
            "warmup_start": self.warmup_start,
            "final_learning_rate": self.final_learning_rate,
            "name": self.name,
        }
