"""Class-model clips: the input clip a model finds most like one class.

Gradient ascent on the clip for one class's logit (Simonyan et al. 2014),
with the regularisers that keep it looking like video rather than noise
(Yosinski et al. 2015; Feichtenhofer et al. 2018 for video models). Starting
from mid-grey with a little noise, each step:

1. jitter: the clip is rolled by a random shift of up to `jitter` pixels
   (and `time_jitter` frames), the gradient taken there and rolled back;
2. ascent: `x <- x + learning_rate * g / rms(g)`, the gradient normalised so
   that a step moves a typical value by `learning_rate`;
3. L2: `x <- m + (1 - l2) * (x - m)`, pulling the clip toward the middle `m`
   of `value_range` (a linear score's fixed point is then
   `m + learning_rate * (1 - l2) / l2 * w / rms(w)`);
4. blur: every `blur_every` steps each frame is blurred by a Gaussian of
   `blur_sigma` pixels;
5. the clip is clipped to `value_range`.
"""

import numpy as np

from keras_video.visualization.clips import to_uint8, write_clip
from keras_video.visualization.gradients import class_score_gradients
from keras_video.visualization.probe import check_model, probe_model


def _blur(clip, sigma):
    import cv2

    return np.stack(
        [cv2.GaussianBlur(frame, (0, 0), sigmaX=sigma, sigmaY=sigma) for frame in clip]
    ).reshape(clip.shape)


def _input_shape(model, input_shape):
    if len(model.inputs) != 1:
        raise ValueError(
            f"class_model needs a model with one input. Received: model "
            f"{model.name!r} with {len(model.inputs)} inputs"
        )
    shape = tuple(model.inputs[0].shape[1:]) if input_shape is None else input_shape
    if len(shape) != 4 or any(d is None for d in shape):
        raise ValueError(
            "class_model needs a known clip shape (frames, height, width, "
            f"channels); pass `input_shape`. Received: {shape}"
        )
    return tuple(int(d) for d in shape)


def class_model(
    model,
    class_index,
    input_shape=None,
    steps=200,
    learning_rate=None,
    l2=0.05,
    jitter=2,
    time_jitter=0,
    blur_every=4,
    blur_sigma=0.5,
    value_range=(0, 255),
    seed=0,
):
    """Gradient ascent on an input clip for one class (module docstring).

    Args:
        model: a functional or Sequential `keras.Model` on clips, one input,
            one output of class scores (a softmax at the output is left out:
            the logit is raised).
        class_index: the class.
        input_shape: `(frames, height, width, channels)`; default the
            model's (it must be known).
        steps: ascent steps.
        learning_rate: how far a step moves a typical value; default 1% of
            the value range.
        l2: pull toward the middle of the range per step, in `[0, 1)`.
        jitter: largest random shift in pixels (0: none).
        time_jitter: largest random shift in frames (0: none).
        blur_every: blur every this many steps (0: never).
        blur_sigma: the blur's standard deviation in pixels.
        value_range: `(low, high)` of the model's input (I3D: `(-1, 1)`).
        seed: seed of the start noise and the jitter.

    Returns:
        float32 `(frames, height, width, channels)` in `value_range`.

    Example:

    ```python
    clip = class_model(model, class_index=3, value_range=(0, 255))
    write_clip("class_3.gif", to_uint8(clip, (0, 255)))
    ```

    Reference:
        Simonyan, Vedaldi and Zisserman, "Deep Inside Convolutional Networks",
        2014; Yosinski et al., "Understanding Neural Networks Through Deep
        Visualization", 2015; Feichtenhofer et al., "What have we learned
        from deep representations for action recognition?", CVPR 2018.
    """
    check_model(model)
    shape = _input_shape(model, input_shape)
    low, high = (float(v) for v in value_range)
    if not high > low:
        raise ValueError(
            f"`value_range` must be (low, high) with low < high. "
            f"Received: value_range={value_range!r}"
        )
    if not 0 <= l2 < 1:
        raise ValueError(f"`l2` must be in [0, 1). Received: l2={l2}")
    counts = {"steps": steps, "jitter": jitter, "time_jitter": time_jitter,
              "blur_every": blur_every}  # fmt: skip
    for name, value in counts.items():
        if int(value) != value or value < 0:
            raise ValueError(f"`{name}` must be an int >= 0. Received: {value!r}")
    middle = (low + high) / 2
    step_size = 0.01 * (high - low) if learning_rate is None else float(learning_rate)
    logits = probe_model(model, [shape])
    rng = np.random.default_rng(seed)
    clip = middle + rng.normal(0, 0.01 * (high - low), shape).astype(np.float32)
    for step in range(int(steps)):
        dt = int(rng.integers(-time_jitter, time_jitter + 1))
        dy, dx = (int(d) for d in rng.integers(-jitter, jitter + 1, 2))
        shifted = np.roll(clip, (dt, dy, dx), axis=(0, 1, 2))
        _, grads, _ = class_score_gradients(logits, shifted[None], int(class_index))
        grads = np.roll(grads[0], (-dt, -dy, -dx), axis=(0, 1, 2))
        rms = float(np.sqrt(np.mean(np.square(grads))))
        if rms > 0:
            clip = clip + step_size * grads / rms
        clip = middle + (1 - l2) * (clip - middle)
        if blur_every and (step + 1) % int(blur_every) == 0:
            clip = _blur(clip, blur_sigma)
        clip = np.clip(clip, low, high).astype(np.float32)
    return clip


def write_class_model(path, model, class_index, fps=8, repeats=1, **kwargs):
    """Writes `class_model(model, class_index, **kwargs)` as a clip.

    Args:
        path: `.gif` (loops) or a video file (`.mp4`).
        model, class_index, **kwargs: as in `class_model`.
        fps: frame rate.
        repeats: times the clip is written in a row.

    Returns:
        The clip, float32 in `value_range` (what `class_model` returns).
    """
    clip = class_model(model, class_index, **kwargs)
    frames = to_uint8(clip, kwargs.get("value_range", (0, 255)))
    if frames.shape[-1] == 1:
        frames = np.repeat(frames, 3, axis=-1)
    if frames.shape[-1] != 3:
        raise ValueError(
            "Only clips of 1 or 3 channels can be written. Received: "
            f"{frames.shape[-1]} channels"
        )
    write_clip(path, frames, fps=fps, repeats=repeats)
    return clip
