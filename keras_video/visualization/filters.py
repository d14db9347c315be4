"""What a 3D convolution learned: its kernels as a grid of short looping clips.

A `Conv3D` kernel `(t, kh, kw, in, filters)` is, for each filter, a clip of
`t` frames of `kh x kw` pixels. Each filter is shown on its own scale: grey is
zero, brighter is positive, darker negative (`0.5 + 0.5 * w / max|w|` of that
filter). Three input channels are shown as RGB; other channel counts as the
mean over input channels (or one of them, `channel=`), in grey. Frames are
enlarged `scale` times (nearest neighbour) and tiled `columns` to a row.

An inflated layer can be shown beside the 2D layer it came from
(`inflated_filter_grid`): each cell is the 2D filter, still, left of its 3D
clip, so what training changed over time is seen at a glance.

Example:

```python
conv = model.get_layer("Conv3d_1a_7x7_conv")  # InceptionI3D, (7, 7, 7, 3, 64)
write_filter_grid("conv1.gif", conv)  # 7 frames, 8 x 8 cells, loops
```
"""

import keras
import numpy as np

from keras_video.visualization.clips import write_clip

BACKGROUND = 255  # white between cells


def _kernel(layer):
    """A convolution's kernel as `(t, kh, kw, in, filters)` float32."""
    if not isinstance(layer, (keras.layers.Conv3D, keras.layers.Conv2D)) or (
        not layer.built
    ):
        raise ValueError(
            "Need a built keras.layers.Conv3D (or InflatedConv, or Conv2D). "
            f"Received: layer={getattr(layer, 'name', layer)!r} "
            f"({type(layer).__name__}, built={getattr(layer, 'built', None)})"
        )
    kernel = np.asarray(keras.ops.convert_to_numpy(layer.kernel), np.float32)
    return kernel if isinstance(layer, keras.layers.Conv3D) else kernel[None]


def kernel_clips(layer, channel=None):
    """A convolution's filters as small clips, each on its own scale.

    Args:
        layer: a built `Conv3D` (or `InflatedConv`), or a `Conv2D` (one
            frame per filter).
        channel: `None` (RGB for three input channels, else the mean over
            input channels in grey) or an input channel index (grey).

    Returns:
        uint8 `(filters, t, kh, kw, 3)`: grey 128 is zero.
    """
    kernel = _kernel(layer)
    inputs = kernel.shape[3]
    if channel is not None:
        if not 0 <= int(channel) < inputs:
            raise ValueError(
                f"`channel` must be in [0, {inputs}). Received: channel={channel}"
            )
        kernel = kernel[:, :, :, int(channel) : int(channel) + 1]
    elif inputs != 3:
        kernel = kernel.mean(axis=3, keepdims=True)
    kernel = np.moveaxis(kernel, -1, 0)  # (filters, t, kh, kw, c)
    peak = np.abs(kernel).max(axis=(1, 2, 3, 4), keepdims=True)
    unit = 0.5 + 0.5 * kernel / np.where(peak > 0, peak, 1.0)
    clips = np.round(unit * 255).astype(np.uint8)
    if clips.shape[-1] == 1:
        clips = np.repeat(clips, 3, axis=-1)
    return clips


def _tile(cells, columns, spacing):
    """`(n, t, h, w, 3)` cells in a grid of `columns`: `(t, H, W, 3)`, with
    `spacing` background pixels around each cell, H and W made even."""
    n, t, h, w, _ = cells.shape
    columns = int(np.ceil(np.sqrt(n))) if columns is None else int(columns)
    rows = -(-n // columns)
    height = rows * (h + spacing) + spacing
    width = columns * (w + spacing) + spacing
    grid = np.full((t, height + height % 2, width + width % 2, 3), BACKGROUND, np.uint8)
    for i in range(n):
        y = spacing + (i // columns) * (h + spacing)
        x = spacing + (i % columns) * (w + spacing)
        grid[:, y : y + h, x : x + w] = cells[i]
    return grid


def _enlarge(clips, scale):
    return np.repeat(np.repeat(clips, scale, axis=2), scale, axis=3)


def _check_grid_args(scale, columns, max_filters):
    for name, value in (("scale", scale), ("columns", columns),
                        ("max_filters", max_filters)):  # fmt: skip
        if value is not None and (int(value) != value or value < 1):
            raise ValueError(f"`{name}` must be a positive int. Received: {value!r}")


def filter_grid(layer, channel=None, scale=8, columns=None, max_filters=None,
                spacing=2):  # fmt: skip
    """A convolution's filters as one clip: a grid of looping kernel clips.

    Args:
        layer: a built `Conv3D` / `InflatedConv` (or `Conv2D`: one frame).
        channel: as in `kernel_clips`.
        scale: screen pixels per kernel pixel.
        columns: cells per row (default: about a square).
        max_filters: show the first this many filters (default: all).
        spacing: white pixels between cells.

    Returns:
        uint8 `(t, H, W, 3)`, `H` and `W` even (ready for MP4).
    """
    _check_grid_args(scale, columns, max_filters)
    clips = kernel_clips(layer, channel)[:max_filters]
    return _tile(_enlarge(clips, int(scale)), columns, int(spacing))


def inflated_filter_grid(layer, layer_2d, channel=None, scale=8, columns=None,
                         max_filters=None, spacing=2):  # fmt: skip
    """An inflated layer beside the 2D layer it came from.

    Each cell is the 2D filter (the same on every frame) left of the 3D
    filter's clip, each on its own scale; a freshly inflated `"mean"` layer
    shows the same picture twice, a trained one what time added.

    Args:
        layer: a built `Conv3D` / `InflatedConv` `(t, kh, kw, c, f)`.
        layer_2d: the built `Conv2D` `(kh, kw, c, f)` it was inflated from.
        others: as in `filter_grid`.

    Returns:
        uint8 `(t, H, W, 3)`, `H` and `W` even.
    """
    _check_grid_args(scale, columns, max_filters)
    clips = kernel_clips(layer, channel)[:max_filters]
    stills = kernel_clips(layer_2d, channel)[:max_filters]
    if stills.shape[2:] != clips.shape[2:] or len(stills) != len(clips):
        raise ValueError(
            f"{layer_2d.name!r} (kernel {tuple(layer_2d.kernel.shape)}) is not "
            f"the 2D twin of {layer.name!r} (kernel {tuple(layer.kernel.shape)}). "
            f"Received: layer_2d={layer_2d.name!r}"
        )
    stills = _enlarge(np.repeat(stills, clips.shape[1], axis=1), int(scale))
    clips = _enlarge(clips, int(scale))
    gap = np.full((*clips.shape[:3], max(1, int(scale) // 2), 3), BACKGROUND, np.uint8)
    pairs = np.concatenate([stills, gap, clips], axis=3)
    return _tile(pairs, columns, int(spacing))


def write_filter_grid(path, layer, layer_2d=None, fps=4, repeats=None, **grid):
    """Writes `filter_grid(layer)` (or, with `layer_2d`, `inflated_filter_grid`)
    as a looping GIF or a video file.

    Args:
        path: `.gif` (loops by itself) or a video file (`.mp4`).
        layer: a built `Conv3D` / `InflatedConv`.
        layer_2d: `None`, or the `Conv2D` `layer` was inflated from.
        fps: frames (kernel time steps) per second.
        repeats: times the kernel clip is written in a row; default 1 for a
            GIF, 8 for a video file.
        **grid: `channel`, `scale`, `columns`, `max_filters`, `spacing`.

    Returns:
        `path`.
    """
    if layer_2d is None:
        frames = filter_grid(layer, **grid)
    else:
        frames = inflated_filter_grid(layer, layer_2d, **grid)
    if repeats is None:
        repeats = 1 if str(path).lower().endswith(".gif") else 8
    return write_clip(path, frames, fps=fps, repeats=repeats)
