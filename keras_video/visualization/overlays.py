"""Predictions drawn on video frames, and the per-frame importance curve.

- `overlay_heatmap`: a `(T, H, W)` map in `[0, 1]` coloured (OpenCV colour
  map, jet by default) and blended on the frames;
- `draw_top_classes`: the top-k classes and scores written on each frame
  (OpenCV `putText` on a dark band, readable on any video);
- `draw_boxes`: boxes with labels per frame, for detection outputs;
- `frame_importance` / `write_importance_curve`: how much of a map falls on
  each frame, as a PNG plot (matplotlib, Agg);
- `frame_strip`: a few frames side by side (pictures for documents).

Frames are uint8 RGB `(T, H, W, 3)`; nothing is drawn in place.
"""

import cv2
import numpy as np

from keras_video.visualization.clips import check_frames
from keras_video.visualization.grad_cam import upsample

COLORMAPS = {
    "jet": cv2.COLORMAP_JET,
    "inferno": cv2.COLORMAP_INFERNO,
    "viridis": cv2.COLORMAP_VIRIDIS,
    "turbo": cv2.COLORMAP_TURBO,
}


def colorize(heatmap, colormap="jet"):
    """A `(T, H, W)` map in `[0, 1]` as uint8 RGB `(T, H, W, 3)` colours."""
    if colormap not in COLORMAPS:
        raise ValueError(
            f"`colormap` must be one of {sorted(COLORMAPS)}. "
            f"Received: colormap={colormap!r}"
        )
    values = np.round(np.clip(np.asarray(heatmap, np.float32), 0, 1) * 255)
    values = values.astype(np.uint8)
    return np.stack(
        [
            cv2.cvtColor(cv2.applyColorMap(v, COLORMAPS[colormap]), cv2.COLOR_BGR2RGB)
            for v in values
        ]
    )


def overlay_heatmap(frames, heatmap, alpha=0.5, colormap="jet"):
    """Blends a coloured heat map on the frames.

    Args:
        frames: uint8 RGB `(T, H, W, 3)`.
        heatmap: `(T', H', W')` in `[0, 1]` (e.g. `grad_cam`); resampled
            linearly to the frames' `(T, H, W)` when it differs.
        alpha: weight of the colours: `(1 - alpha) * frame + alpha * colour`.
        colormap: `"jet"`, `"inferno"`, `"viridis"` or `"turbo"`.

    Returns:
        uint8 RGB `(T, H, W, 3)`.
    """
    frames = check_frames(frames)
    if not 0 <= alpha <= 1:
        raise ValueError(f"`alpha` must be in [0, 1]. Received: alpha={alpha}")
    heatmap = np.asarray(heatmap, np.float32)
    if heatmap.ndim != 3:
        raise ValueError(
            f"`heatmap` must be (frames, height, width). Received: {heatmap.shape}"
        )
    if heatmap.shape != frames.shape[:3]:
        heatmap = upsample(heatmap, frames.shape[:3])
    colours = colorize(heatmap, colormap).astype(np.float32)
    blended = (1 - alpha) * frames.astype(np.float32) + alpha * colours
    return np.clip(np.round(blended), 0, 255).astype(np.uint8)


def _font_scale(height):
    return max(0.3, height / 600)


def _text_rows(frame, lines, origin, scale, colour, background):
    """Writes `lines` from `origin` (x, y of the first line's top), each on
    a dark band; returns the frame (modified)."""
    font, thickness = cv2.FONT_HERSHEY_SIMPLEX, max(1, int(round(scale * 1.5)))
    x, y = origin
    for line in lines:
        (w, h), base = cv2.getTextSize(line, font, scale, thickness)
        top, bottom = y, y + h + base + 2
        band = frame[top:bottom, x : x + w + 4].astype(np.float32)
        frame[top:bottom, x : x + w + 4] = (0.35 * band + 0.65 * np.asarray(
            background, np.float32)).astype(np.uint8)  # fmt: skip
        cv2.putText(frame, line, (x + 2, y + h + 1), font, scale, colour, thickness,
                    cv2.LINE_AA)  # fmt: skip
        y = bottom
    return frame


def draw_top_classes(frames, rows, top=None, colour=(255, 255, 255)):
    """Writes the top classes and their scores on each frame (top left).

    Args:
        frames: uint8 RGB `(T, H, W, 3)`.
        rows: `(class_index, name, score)` rows, best first (what
            `decode_predictions` and `predict_video` return) for every
            frame, or one list of rows per frame.
        top: write the first `top` rows (default all).
        colour: RGB of the text.

    Returns:
        uint8 RGB `(T, H, W, 3)`, e.g. `0.93 playing cricket` on each frame.
    """
    frames = check_frames(frames).copy()
    per_frame = len(rows) == len(frames) and all(
        isinstance(r, (list, tuple)) and (not r or isinstance(r[0], (list, tuple)))
        for r in rows
    )
    scale = _font_scale(frames.shape[1])
    for i, frame in enumerate(frames):
        lines = [f"{score:.2f} {name}" for _, name, score in
                 (rows[i] if per_frame else rows)[:top]]  # fmt: skip
        _text_rows(frame, lines, (2, 2), scale, colour, (0, 0, 0))
    return frames


def draw_boxes(frames, boxes, labels=None, normalized=False, colour=(255, 64, 0)):
    """Draws boxes with labels on each frame (detection outputs).

    Args:
        frames: uint8 RGB `(T, H, W, 3)`.
        boxes: one `(n_t, 4)` array of `(x1, y1, x2, y2)` per frame (pixels,
            or `[0, 1]` of the width and height with `normalized=True`,
            the AVA convention).
        labels: `None`, or one list of `n_t` strings per frame (e.g.
            `"0.91 stand"`), written above each box.
        normalized: whether box coordinates are fractions of the frame.
        colour: RGB of boxes and labels' bands.

    Returns:
        uint8 RGB `(T, H, W, 3)`.
    """
    frames = check_frames(frames).copy()
    if len(boxes) != len(frames) or (labels is not None and len(labels) != len(frames)):
        raise ValueError(
            f"`boxes` and `labels` need one entry per frame ({len(frames)}). "
            f"Received: {len(boxes)} boxes"
            + ("" if labels is None else f", {len(labels)} labels")
        )
    h, w = frames.shape[1:3]
    scale = _font_scale(h)
    thickness = max(1, int(round(h / 200)))
    for t, frame in enumerate(frames):
        frame_boxes = np.asarray(boxes[t], np.float64).reshape(-1, 4)
        if normalized:
            frame_boxes = frame_boxes * [w, h, w, h]
        for k, (x1, y1, x2, y2) in enumerate(np.round(frame_boxes).astype(int)):
            cv2.rectangle(frame, (x1, y1), (x2, y2), colour, thickness)
            if labels is not None and k < len(labels[t]):
                (_, th), base = cv2.getTextSize(labels[t][k], cv2.FONT_HERSHEY_SIMPLEX,
                                                scale, 1)  # fmt: skip
                top = max(0, y1 - th - base - 2)
                _text_rows(frame, [labels[t][k]], (max(0, x1), top), scale,
                           (255, 255, 255), colour)  # fmt: skip
    return frames


def frame_importance(heatmap):
    """Each frame's share of a map's mass: `(T,)` summing to 1 (all equal
    when the map is all zeros)."""
    heatmap = np.asarray(heatmap, np.float64)
    mass = heatmap.reshape(len(heatmap), -1).sum(axis=1)
    total = mass.sum()
    return mass / total if total > 0 else np.full(len(mass), 1 / len(mass))


def write_importance_curve(path, importance, frame_indices=None, title=None,
                           labels=None):  # fmt: skip
    """Plots per-frame importance as a PNG (matplotlib, no display needed).

    Args:
        path: the `.png` file.
        importance: `(T,)` values (e.g. `frame_importance(heat)`), or a list
            of them, one curve each (e.g. one per clip of a video).
        frame_indices: the x values: the frames' indices in the video, one
            array per curve (default 0, 1, ...).
        title: the plot's title.
        labels: one legend label per curve.

    Returns:
        `path`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    curves = importance if isinstance(importance, (list, tuple)) else [importance]
    if frame_indices is None:
        frame_indices = [np.arange(len(c)) for c in curves]
    elif not isinstance(frame_indices, (list, tuple)):
        frame_indices = [frame_indices]
    if len(frame_indices) != len(curves):
        raise ValueError(
            f"`frame_indices` needs one array per curve ({len(curves)}). "
            f"Received: {len(frame_indices)}"
        )
    figure = Figure(figsize=(7, 2.8), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for k, (x, y) in enumerate(zip(frame_indices, curves, strict=True)):
        label = None if labels is None else labels[k]
        axes.plot(np.asarray(x), np.asarray(y), marker=".", label=label)
    axes.set_xlabel("frame")
    axes.set_ylabel("share of the map")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    if title:
        axes.set_title(title)
    if labels is not None:
        axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    return path


def frame_strip(frames, count=4, gap=4):
    """`count` evenly spaced frames side by side, `gap` white pixels apart.

    Returns:
        uint8 RGB `(H, count * W + (count - 1) * gap, 3)`.
    """
    frames = check_frames(frames)
    picks = np.linspace(0, len(frames) - 1, min(count, len(frames))).round()
    parts = []
    for i in picks.astype(int):
        if parts:
            parts.append(np.full((frames.shape[1], gap, 3), 255, np.uint8))
        parts.append(frames[i])
    return np.concatenate(parts, axis=1)
