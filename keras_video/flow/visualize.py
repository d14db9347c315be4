"""The Middlebury colour coding of flow: hue is direction, saturation magnitude."""

import numpy as np

from keras_video.flow.metrics import UNKNOWN_FLOW

# Relative lengths of the transitions red-yellow, yellow-green, green-cyan,
# cyan-blue, blue-magenta, magenta-red (Scharstein's `colorcode.cpp`): more
# steps where the eye tells more hues apart.
TRANSITIONS = (("RY", 15), ("YG", 6), ("GC", 4), ("CB", 11), ("BM", 13), ("MR", 6))


def make_color_wheel():
    """The 55 colours of the Middlebury wheel, uint8 RGB of shape (55, 3).

    Row 0 is red; the wheel goes red, yellow, green, cyan, blue, magenta and
    back, each step a linear ramp of one channel (`floor(255 * i / n)`).
    """
    rows = []
    for name, n in TRANSITIONS:
        up = np.floor(255 * np.arange(n) / n)
        full, down, zero = np.full(n, 255.0), 255 - up, np.zeros(n)
        rows.append(
            {
                "RY": (full, up, zero),
                "YG": (down, full, zero),
                "GC": (zero, full, up),
                "CB": (zero, down, full),
                "BM": (up, zero, full),
                "MR": (full, zero, down),
            }[name]
        )
    return np.concatenate([np.stack(r, axis=-1) for r in rows]).astype(np.uint8)


COLOR_WHEEL = make_color_wheel()


def to_color(flow, max_magnitude=None):
    """Colours flow with the Middlebury colour wheel.

    The direction picks the hue (right red, down yellow, left cyan-blue, up
    violet-blue, as in the Middlebury figures) and the magnitude the
    saturation: zero flow is white, flow of magnitude `max_magnitude` is the
    full wheel colour, and longer flow is that colour darkened to 75%
    (out of range). Unknown flow (NaN, infinite or a component above 1e9) is
    black. This follows Scharstein's `computeColor` (C++) and `flowToColor`
    (Matlab) of the Middlebury flow code, computed in float64 with
    `floor(255 * colour)` (plus 1e-9, so that last-bit rounding never turns
    a full 255 into 254).

    Args:
        flow: float array of shape `(..., H, W, 2)`, `(x, y)` with y down.
        max_magnitude: the magnitude that saturates. `None`: the largest
            known magnitude in `flow` (one scale for all frames of a clip).

    Returns:
        uint8 RGB array of shape `(..., H, W, 3)`.

    Example:

    ```python
    import numpy as np
    from keras_video import flow

    right = np.array([[[1.0, 0.0]]])
    flow.to_color(right, max_magnitude=1.0)  # [[[255, 0, 0]]], red
    ```

    Reference:
    - [Baker et al., A Database and Evaluation Methodology for Optical Flow
      (IJCV 2011)](https://vision.middlebury.edu/flow/), colour coding by
      D. Scharstein.
    """
    flow = np.asarray(flow, dtype=np.float64)
    if flow.ndim < 3 or flow.shape[-1] != 2:
        raise ValueError(
            f"`flow` must have shape (..., H, W, 2). Received: flow.shape={flow.shape}"
        )
    unknown = np.any(~np.isfinite(flow) | (np.abs(flow) > UNKNOWN_FLOW), axis=-1)
    u = np.where(unknown, 0.0, flow[..., 0])
    v = np.where(unknown, 0.0, flow[..., 1])
    magnitude = np.hypot(u, v)
    if max_magnitude is None:
        max_magnitude = magnitude.max(initial=0.0)
    elif not max_magnitude > 0:
        raise ValueError(
            "`max_magnitude` must be positive or None. "
            f"Received: max_magnitude={max_magnitude}"
        )
    radius = magnitude / max_magnitude if max_magnitude > 0 else magnitude

    num_colors = len(COLOR_WHEEL)
    position = (np.arctan2(-v, -u) / np.pi + 1) / 2 * (num_colors - 1)
    k0 = np.floor(position).astype(np.int64)
    k1 = (k0 + 1) % num_colors
    f = (position - k0)[..., None]
    color = (1 - f) * (COLOR_WHEEL[k0] / 255.0) + f * (COLOR_WHEEL[k1] / 255.0)
    radius = radius[..., None]
    color = np.where(radius <= 1, 1 - radius * (1 - color), color * 0.75)
    # + 1e-9: a channel that is 255 in exact arithmetic ((1 - f) * 1 + f * 1)
    # must not floor to 254 through a rounding error of the last bit.
    color = np.floor(255 * color + 1e-9)
    color[unknown] = 0
    return color.astype(np.uint8)
