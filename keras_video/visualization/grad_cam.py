"""Grad-CAM and gradient saliency over time for clip models.

Grad-CAM (Selvaraju et al. 2017) on a clip: with `A` the `(t, h, w, k)`
feature maps of a layer and `G` the gradient of the class score with respect
to them, the map is `relu(sum_k alpha_k A_k)` with `alpha_k` the mean of
`G_k` over time and space, upsampled linearly to the clip's frames and pixels
and divided by its maximum. `weighting="elementwise"` weighs each position by
its own gradient instead, `relu(sum_k G_k * A_k)` (HiResCAM, Draelos and
Carin 2020): the two agree for a model that averages its last maps, and for
one that takes their maximum (global max pooling) only the elementwise map
stays where the model looked (measured in `benchmarks/grad_cam_boxes.py`).

The gradient with respect to an inner layer comes from `probe_model` (a zero
input added to the layer's output) and `class_score_gradients`, the same way
on every backend. The class score is the logit (a softmax at the output is
left out).
"""

import keras
import numpy as np

from keras_video.visualization.gradients import class_score_gradients
from keras_video.visualization.probe import (
    check_model,
    default_layer,
    find_layer,
    probe_model,
)


def _batched(model, clip):
    """The clip(s) as a list of batch-1 float32 arrays, one per model input."""
    check_model(model)
    clips = clip if isinstance(clip, (list, tuple)) else [clip]
    if len(clips) != len(model.inputs):
        raise ValueError(
            f"{model.name!r} takes {len(model.inputs)} inputs. Received: "
            f"{len(clips)} clips"
        )
    arrays = []
    for x, tensor in zip(clips, model.inputs, strict=True):
        x = np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float32)
        rank = len(tensor.shape)
        if x.ndim == rank - 1:
            x = x[None]
        if x.ndim != rank or x.shape[0] != 1:
            raise ValueError(
                f"`clip` must be one clip {tuple(tensor.shape[1:])} (or a batch "
                f"of one) per model input. Received: clip of shape {x.shape}"
            )
        arrays.append(x)
    return arrays


def upsample(volume, size):
    """Linear resampling of a `(t, h, w)` map to `size` frames and pixels.

    Sample centres are aligned (`(i + 0.5) * in / out - 0.5`, clamped at the
    borders: OpenCV's `INTER_LINEAR` and `align_corners=False`), separately
    along each axis; an axis of length 1 is repeated.

    Args:
        volume: float array `(t, h, w)`.
        size: `(frames, height, width)` of the output.

    Returns:
        float32 `(frames, height, width)`.
    """
    x = np.asarray(volume, dtype=np.float32)
    for axis, n in enumerate(size):
        m = x.shape[axis]
        if m == n:
            continue
        pos = np.clip((np.arange(n) + 0.5) * m / n - 0.5, 0, m - 1)
        low = np.floor(pos).astype(np.int64)
        high = np.minimum(low + 1, m - 1)
        shape = [1] * x.ndim
        shape[axis] = n
        weight = (pos - low).reshape(shape).astype(np.float32)
        x = np.take(x, low, axis) * (1 - weight) + np.take(x, high, axis) * weight
    return x


def _unit(volume):
    """`volume / max(volume)` as float32 (zeros when the maximum is not > 0)."""
    volume = np.asarray(volume, dtype=np.float32)
    peak = float(volume.max(initial=0.0))
    return volume / peak if peak > 0 else np.zeros_like(volume)


WEIGHTINGS = ("mean", "elementwise")


def grad_cam(model, clip, class_index=None, layer_name=None, weighting="mean"):
    """Grad-CAM over time: where in the clip the evidence for a class is.

    Args:
        model: a functional or Sequential `keras.Model` with one output of
            class scores (nested models are opened up).
        clip: one clip as the model takes it, `(frames, height, width,
            channels)` (or a batch of one); a list of clips for a model
            with several inputs (the map is at the first one's size).
        class_index: the class to explain; `None`: the model's top class.
        layer_name: the layer whose maps are weighed; `None`:
            `default_layer(model)` (the last convolution's map).
        weighting: `"mean"` (Grad-CAM: one weight per channel, its mean
            gradient) or `"elementwise"` (HiResCAM: each position's own
            gradient; faithful for models that max-pool their last maps).

    Returns:
        float32 `(frames, height, width)` in `[0, 1]` (its maximum is 1
        unless no evidence is positive, then all zeros), at the clip's
        frames and pixels.

    Raises:
        ValueError: a model or layer it cannot explain, or a bad clip.

    Example:

    ```python
    heat = grad_cam(model, clip)  # clip (16, 112, 112, 3) -> (16, 112, 112)
    ```

    Reference:
        Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks
        via Gradient-based Localization", ICCV 2017; Draelos and Carin, "Use
        HiResCAM instead of Grad-CAM for faithful explanations of
        convolutional neural networks", 2020.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(
            f"`weighting` must be one of {WEIGHTINGS}. "
            f"Received: weighting={weighting!r}"
        )
    arrays = _batched(model, clip)
    if layer_name is None:
        layer = default_layer(model)
    else:
        layer = find_layer(model, layer_name)
    name = layer.name
    probe = probe_model(model, [a.shape[1:] for a in arrays], layer)
    zeros = np.zeros((1, *probe.inputs[-1].shape[1:]), np.float32)
    (maps, _), grads, _ = class_score_gradients(probe, [*arrays, zeros], class_index)
    maps, grads = maps[0], grads[-1][0]
    if maps.ndim not in (3, 4):
        raise ValueError(
            f"Grad-CAM needs a layer with a (batch, frames, height, width, "
            f"channels) or (batch, height, width, channels) output; {name!r} "
            f"gives {(None, *maps.shape)}. Received: layer_name={name!r}"
        )
    if maps.ndim == 3:  # frames folded into channels: one map for every frame
        maps, grads = maps[None], grads[None]
    weights = grads.mean(axis=(0, 1, 2)) if weighting == "mean" else grads
    cam = np.maximum((maps * weights).sum(axis=-1), 0.0)
    return _unit(upsample(cam, arrays[0].shape[1:4]))


def saliency(model, clip, class_index=None):
    """Gradient saliency over time: how strongly each pixel moves the score.

    The largest absolute gradient of the class score over a pixel's
    channels (Simonyan et al. 2014), divided by its maximum over the clip.

    Args:
        model: a functional or Sequential `keras.Model` with one output of
            class scores.
        clip: one clip `(frames, height, width, channels)` (or a batch of
            one); a list of clips for a model with several inputs (the map
            is of the first).
        class_index: the class; `None`: the model's top class.

    Returns:
        float32 `(frames, height, width)` in `[0, 1]`.

    Reference:
        Simonyan, Vedaldi and Zisserman, "Deep Inside Convolutional Networks:
        Visualising Image Classification Models and Saliency Maps", 2014.
    """
    arrays = _batched(model, clip)
    logits = probe_model(model, [a.shape[1:] for a in arrays])
    _, grads, _ = class_score_gradients(logits, arrays, class_index)
    return _unit(np.abs(grads[0][0]).max(axis=-1))
