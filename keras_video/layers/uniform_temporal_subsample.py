import keras
import numpy as np

from keras_video.layers import _validation as check


def uniform_temporal_indices(frames, num_samples):
    """`torch.linspace(0, frames - 1, num_samples).long()` in NumPy, exactly.

    The frames PyTorchVideo's `UniformTemporalSubsample` and SlowFast's
    `PackPathway` keep (e.g. 32 frames, 8 samples: 0, 4, 8, 13, 17, 22, 26,
    31). PyTorch computes the float32 values as `start + step * i` for the
    first half and `end - step * (n - 1 - i)` for the rest, with
    `step = (end - start) / (n - 1)` in float32 and one rounding per value
    (a fused multiply-add), then truncates them: done here the same way, so
    the indices equal PyTorch's (checked against it for every `frames` below
    400 and every `num_samples`). A float64 `np.linspace` differs from it in
    4% of those cases.

    Args:
        frames: the clip length `T`, a positive integer.
        num_samples: how many frames to keep, a positive integer.

    Returns:
        A list of `num_samples` frame indices in `[0, frames)`, ascending.
    """
    check.positive_int(frames, "frames")
    check.positive_int(num_samples, "num_samples")
    if num_samples == 1:
        return [0]
    start, end = np.float32(0.0), np.float32(frames - 1)
    step = float(np.float32((end - start) / np.float32(num_samples - 1)))
    index = np.arange(num_samples, dtype=np.float64)
    half = num_samples // 2
    # float32 * int is exact in float64; one rounding to float32 = the FMA.
    values = np.where(
        index < half,
        float(start) + step * index,
        float(end) - step * (num_samples - 1 - index),
    ).astype(np.float32)
    return [int(min(max(v, 0), frames - 1)) for v in values.astype(np.int64)]


@keras.saving.register_keras_serializable(package="keras_video")
class UniformTemporalSubsample(keras.layers.Layer):
    """Keeps `num_samples` frames spread uniformly over the clip, as PyTorchVideo.

    The frames at `uniform_temporal_indices(T, num_samples)`, i.e.
    `torch.linspace(0, T - 1, num_samples).long()`: PyTorchVideo's
    `UniformTemporalSubsample` transform, and the slow pathway of its SlowFast
    `PackPathway` (`num_samples = T // alpha`: of 32 frames with alpha 4, the
    frames 0, 4, 8, 13, 17, 22, 26, 31, not every 4th frame). The first and
    the last frame are always kept. The clip length must be known when the
    layer is built.

    Args:
        num_samples: how many frames to keep.

    Input shape:
        `(batch, T, ...)`, `T >= num_samples` known.

    Output shape:
        `(batch, num_samples, ...)`.

    Example:
    >>> clip = np.arange(32, dtype="float32").reshape(1, 32, 1)
    >>> keras.ops.convert_to_numpy(UniformTemporalSubsample(8)(clip))[0, :, 0]
    array([ 0.,  4.,  8., 13., 17., 22., 26., 31.], dtype=float32)

    Reference:
        PyTorchVideo, `pytorchvideo/transforms/functional.py`
        (`uniform_temporal_subsample`) and the SlowFast `PackPathway` of its
        Torch Hub tutorial.
    """

    def __init__(self, num_samples, **kwargs):
        super().__init__(**kwargs)
        self.num_samples = check.positive_int(num_samples, "num_samples")

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                "UniformTemporalSubsample expects inputs of rank >= 3, "
                f"(batch, frames, ...). Received: input_shape={tuple(input_shape)}"
            )
        frames = input_shape[1]
        if frames is None or frames < self.num_samples:
            raise ValueError(
                f"UniformTemporalSubsample({self.num_samples}) needs a known clip "
                f"length of at least {self.num_samples} frames. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self.indices = uniform_temporal_indices(frames, self.num_samples)

    def call(self, inputs):
        indices = np.asarray(self.indices, dtype="int32")
        return keras.ops.take(inputs, indices, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_samples) + tuple(input_shape[2:])

    def get_config(self):
        config = super().get_config()
        config.update({"num_samples": self.num_samples})
        return config
