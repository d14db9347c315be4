"""Clips to files: looping GIFs and MP4s, and float clips to uint8 frames.

A GIF gets one 256-colour palette for the whole clip (median cut over the
clip's pixels), so a colour means the same in every frame, and every frame is
written, repeats included (encoders that merge repeated frames change the
frame count). Everything else goes through `keras_video.data.video.write_video`
(libx264 for `.mp4`). Both decode with `keras_video.data.VideoReader` to the
frames and size written.
"""

import os

import numpy as np


def to_uint8(clip, value_range=(0, 255)):
    """Maps values in `value_range` to uint8 `[0, 255]` (clipped, rounded).

    Args:
        clip: float array, e.g. a model input `(frames, height, width, 3)`.
        value_range: `(low, high)` the values span (I3D: `(-1, 1)`).

    Returns:
        uint8 array of the shape of `clip`.
    """
    low, high = (float(v) for v in value_range)
    if not high > low:
        raise ValueError(
            f"`value_range` must be (low, high) with low < high. "
            f"Received: value_range={value_range!r}"
        )
    scaled = (np.asarray(clip, dtype=np.float32) - low) * (255.0 / (high - low))
    return np.clip(np.round(scaled), 0, 255).astype(np.uint8)


def check_frames(frames):
    """`frames` as an array, or `ValueError` unless uint8 RGB `(T, H, W, 3)`."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(
            "`frames` must be uint8 RGB (num_frames, height, width, 3). Received: "
            f"shape {frames.shape}, dtype {frames.dtype}"
        )
    if not len(frames):
        raise ValueError("`frames` is empty. Received: 0 frames")
    return frames


def _palette(frames):
    """One `(256, 4)` ARGB palette for the clip and each frame's indices."""
    from PIL import Image

    step = max(1, int(np.sqrt(frames[0].size / 3 * len(frames) / 2**18)))
    sample = np.concatenate([f[::step, ::step] for f in frames], axis=0)
    reference = Image.fromarray(np.ascontiguousarray(sample)).quantize(
        256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    indices = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(f)).quantize(
                palette=reference, dither=Image.Dither.NONE
            )
        )
        for f in frames
    ]
    rgb = np.zeros((256, 3), np.uint8)
    colours = np.asarray(reference.getpalette()[: 256 * 3], np.uint8).reshape(-1, 3)
    rgb[: len(colours)] = colours
    argb = np.concatenate([np.full((256, 1), 255, np.uint8), rgb], axis=1)
    return argb, indices


def _write_gif(path, frames, fps):
    import av

    argb, indices = _palette(frames)
    h, w = frames.shape[1:3]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("gif", rate=int(fps))
        stream.width, stream.height = w, h
        stream.pix_fmt = "pal8"
        for index in indices:
            frame = av.VideoFrame.from_ndarray((index, argb), format="pal8")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_clip(path, frames, fps=8, repeats=1):
    """Writes uint8 RGB frames as a looping GIF (`.gif`) or a video file.

    Args:
        path: output file; `.gif` gives a GIF that loops forever, any other
            extension a `write_video` file (`.mp4`: libx264).
        frames: uint8 `(num_frames, height, width, 3)` RGB. Video files need
            an even height and width (yuv420p); odd ones get one more row or
            column (a copy of the last).
        fps: integer frame rate (a GIF stores delays in 1/100 s: 100 / fps
            rounded).
        repeats: the frames are written this many times in a row (a video
            file does not loop by itself).

    Returns:
        `path`.

    Example:

    ```python
    frames = np.zeros((8, 32, 32, 3), np.uint8)
    write_clip("clip.gif", frames)  # VideoReader("clip.gif"): 8 frames, 32x32
    ```
    """
    frames = check_frames(frames)
    if int(repeats) != repeats or repeats < 1:
        raise ValueError(f"`repeats` must be a positive int. Received: {repeats!r}")
    if isinstance(fps, bool) or int(fps) != fps or fps < 1:
        raise ValueError(f"`fps` must be a positive int. Received: fps={fps!r}")
    frames = np.concatenate([frames] * int(repeats))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if str(path).lower().endswith(".gif"):
        _write_gif(path, frames, int(fps))
        return path
    from keras_video.data.video import write_video

    h, w = frames.shape[1:3]
    frames = np.pad(frames, [(0, 0), (0, h % 2), (0, w % 2), (0, 0)], mode="edge")
    return write_video(path, frames, fps=int(fps))
