"""Clip samplers: which frame indices make a clip.

Plain Python and NumPy, no TensorFlow. Each sampler takes the number of frames a
video actually has and returns `Clip` records (PyTorchVideo style) whose
`frame_indices` are what a decoder's `get_frames` is asked for.

A clip is `clip_length` frames taken every `frame_step` frames, so it spans
`(clip_length - 1) * frame_step + 1` frames of the video. With `target_fps`
instead of `frame_step`, the step is `fps / target_fps` (fractional steps are
rounded per frame, so a 30 fps video read at 12 fps takes frames 0, 2, 5, 7, 10, ...).

Windows are half-open: a video of `num_frames` frames has frames
`0 .. num_frames - 1`, and a clip that fits takes only those. A clip starting at
`start` takes `start + round(k * step)` for `k = 0 .. clip_length - 1`; it fits
when its last index is below `num_frames`, so a video exactly as long as a
clip's span gives one clip that ends on its last frame.

A video shorter than one clip follows `short_video`:

- `"loop"`: indices wrap around to the start of the video (`i % num_frames`).
- `"pad"`: indices past the last frame repeat the last frame.
- `"error"`: `ValueError` naming the file and both lengths.

`Clip.padding` marks the frames that `"loop"` or `"pad"` filled in (a bool per
clip frame), so a model or a metric can mask them; frames are never
zero-filled.
"""

import dataclasses

import numpy as np

SHORT_VIDEO_POLICIES = ("loop", "pad", "error")


@dataclasses.dataclass(frozen=True)
class Clip:
    """One sampled clip.

    Attributes:
        frame_indices: int64 array `(clip_length,)`, indices into the video.
        clip_index: position of this clip among the clips of its video.
        num_clips: how many clips the sampler took from the video.
        start: first frame of the clip's span (before looping or padding).
        short: `True` when the video was shorter than the clip's span and
            `short_video` looped or padded it.
        padding: bool `(clip_length,)`, `True` for frames that looping or
            padding filled in (all `False` when the clip fits).
    """

    frame_indices: np.ndarray
    clip_index: int = 0
    num_clips: int = 1
    start: int = 0
    short: bool = False
    padding: np.ndarray | None = None

    def __post_init__(self):
        if self.padding is None:
            padding = np.zeros(len(self.frame_indices), bool)
            object.__setattr__(self, "padding", padding)


def resolve_frame_step(frame_step=None, target_fps=None, fps=None):
    """The step between clip frames, in source frames (may be fractional).

    Args:
        frame_step: positive int; used when `target_fps` is `None`.
        target_fps: frames per second to resample the video to, or `None`.
        fps: the video's frame rate; needed with `target_fps`.

    Returns:
        float step (`frame_step`, or `fps / target_fps`).

    Raises:
        ValueError: on non-positive values, both or neither of `frame_step` /
            `target_fps`, or `target_fps` without `fps`.
    """
    if target_fps is not None:
        if frame_step not in (None, 1):
            raise ValueError(
                "Pass `frame_step` or `target_fps`, not both. Received: "
                f"frame_step={frame_step}, target_fps={target_fps}"
            )
        if not target_fps > 0:
            raise ValueError(
                f"`target_fps` must be positive. Received: target_fps={target_fps}"
            )
        if fps is None or not fps > 0:
            raise ValueError(
                "`target_fps` needs the video's frame rate. Received: "
                f"fps={fps}, target_fps={target_fps}"
            )
        return float(fps) / float(target_fps)
    if frame_step is None:
        frame_step = 1
    if int(frame_step) != frame_step or frame_step < 1:
        raise ValueError(
            "`frame_step` must be a positive integer. "
            f"Received: frame_step={frame_step}"
        )
    return float(frame_step)


def clip_span(clip_length, step):
    """Number of source frames a clip covers: `round((clip_length - 1) * step) + 1`."""
    return int(round((clip_length - 1) * step)) + 1


def _check(num_frames, clip_length, short_video):
    if int(clip_length) != clip_length or clip_length < 1:
        raise ValueError(
            "`clip_length` must be a positive integer. "
            f"Received: clip_length={clip_length}"
        )
    if int(num_frames) != num_frames or num_frames < 1:
        raise ValueError(
            "`num_frames` must be a positive integer. "
            f"Received: num_frames={num_frames}"
        )
    if short_video not in SHORT_VIDEO_POLICIES:
        raise ValueError(
            f"`short_video` must be one of {SHORT_VIDEO_POLICIES}. "
            f"Received: short_video={short_video!r}"
        )


def _indices(start, num_frames, clip_length, step, short_video, path):
    offsets = np.round(np.arange(clip_length) * step).astype(np.int64)
    indices = start + offsets
    padding = indices >= num_frames
    short = bool(padding[-1])
    if short:
        if short_video == "error":
            where = f"Video {path}" if path else "The video"
            raise ValueError(
                f"{where} has {num_frames} frames, shorter than one clip: "
                f"clip_length={clip_length} at a step of {step:g} frames spans "
                f"{int(offsets[-1]) + 1} frames. Use short_video='loop' or 'pad'."
            )
        if short_video == "loop":
            indices = indices % num_frames
        else:
            indices = np.minimum(indices, num_frames - 1)
    return indices, padding


def _rng(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def random_clip(
    num_frames,
    clip_length,
    frame_step=None,
    *,
    target_fps=None,
    fps=None,
    short_video="loop",
    seed=None,
    path=None,
):
    """A clip at a uniformly random position (training).

    Args:
        num_frames: frames the video really has.
        clip_length: frames in the clip.
        frame_step: step between clip frames (default 1), or
        target_fps: with `fps`, resample the video to this rate.
        fps: the video's frame rate.
        short_video: `"loop"`, `"pad"` or `"error"` (see module docstring).
        seed: int, `None`, or a `numpy.random.Generator` (used in place).
        path: the video's path, only for error messages.

    Returns:
        a `Clip`.

    Example:
    >>> random_clip(100, 4, 2, seed=0).frame_indices
    array([79, 81, 83, 85])
    """
    _check(num_frames, clip_length, short_video)
    step = resolve_frame_step(frame_step, target_fps, fps)
    span = clip_span(clip_length, step)
    rng = _rng(seed)
    if span <= num_frames:
        start = int(rng.integers(0, num_frames - span + 1))
    elif short_video == "loop":
        start = int(rng.integers(0, num_frames))
    else:
        start = 0
    indices, padding = _indices(start, num_frames, clip_length, step, short_video, path)
    return Clip(indices, 0, 1, start, bool(padding.any()), padding)


def uniform_clips(
    num_frames,
    clip_length,
    num_clips,
    frame_step=None,
    *,
    target_fps=None,
    fps=None,
    short_video="loop",
    path=None,
):
    """`num_clips` clips evenly spaced over the video (testing).

    Clip `i` starts at `round(i * (num_frames - span) / (num_clips - 1))`, so the
    first clip starts at frame 0 and the last one ends at the last frame; one clip
    is centred. Clips overlap when the video is short. A video shorter than one
    clip gives `num_clips` copies of the looped or padded clip from frame 0.

    Args:
        num_frames: as in `random_clip`; so are `clip_length`, `frame_step`,
            `target_fps`, `fps`, `short_video` and `path`.
        num_clips: positive int.

    Returns:
        list of `num_clips` `Clip`s.

    Example:
    >>> tuple(c.start for c in uniform_clips(100, 4, 3, 2))
    (0, 46, 93)
    """
    _check(num_frames, clip_length, short_video)
    if int(num_clips) != num_clips or num_clips < 1:
        raise ValueError(
            f"`num_clips` must be a positive integer. Received: num_clips={num_clips}"
        )
    step = resolve_frame_step(frame_step, target_fps, fps)
    span = clip_span(clip_length, step)
    room = max(num_frames - span, 0)
    if num_clips == 1:
        starts = [room // 2]
    else:
        starts = [int(round(i * room / (num_clips - 1))) for i in range(num_clips)]
    clips = []
    for i, start in enumerate(starts):
        indices, padding = _indices(
            start, num_frames, clip_length, step, short_video, path
        )
        clips.append(Clip(indices, i, num_clips, start, bool(padding.any()), padding))
    return clips


def all_clips(
    num_frames,
    clip_length,
    frame_step=None,
    *,
    stride=None,
    target_fps=None,
    fps=None,
    short_video="loop",
    path=None,
):
    """Every clip of a sliding window over the video.

    Args:
        num_frames: as in `random_clip`; so are `clip_length`, `frame_step`,
            `target_fps`, `fps`, `short_video` and `path`.
        stride: frames between clip starts; default is the clip's span
            (non-overlapping clips).

    Returns:
        list of `Clip`s starting at 0, stride, 2*stride, ... while the clip fits;
        a video shorter than one clip gives one looped or padded clip.

    Example:
    >>> tuple(c.start for c in all_clips(20, 4, 2))
    (0, 7)
    """
    _check(num_frames, clip_length, short_video)
    step = resolve_frame_step(frame_step, target_fps, fps)
    span = clip_span(clip_length, step)
    if stride is None:
        stride = span
    if int(stride) != stride or stride < 1:
        raise ValueError(
            f"`stride` must be a positive integer. Received: stride={stride}"
        )
    starts = list(range(0, max(num_frames - span, 0) + 1, int(stride)))
    clips = []
    for i, start in enumerate(starts):
        indices, padding = _indices(
            start, num_frames, clip_length, step, short_video, path
        )
        clips.append(Clip(indices, i, len(starts), start, bool(padding.any()), padding))
    return clips
