"""A synthetic motion data set: real video files whose class is only in the motion.

Each video shows one shape over a static background. The class is how the shape
moves (left, right, up, down, clockwise, counter-clockwise, growing, shrinking);
shape, colour, size, speed, start position, orientation and background are drawn at
random, independently of the class, so one frame carries no class information and
a single-frame model stays at chance while temporal models learn the task.

How the per-frame appearance is made the same for every class:

- Position: the world is a torus (a shape leaving on one side comes back on the
  other) and the start position is uniform, so at every frame the position is
  uniform over the image for every class.
- Orientation: the start angle is uniform over a full turn, so at every frame the
  angle is uniform for every class.
- Size: growing / shrinking change log-size linearly, `c + r * (t - mid)`. Classes
  whose size does not change draw their (fixed) size as `c + r * (tau - mid)` with
  `tau` a uniformly random frame and a random sign, so the size of a random frame
  has the same distribution in every class.
- Shape, colour, background and speeds are drawn the same way for every class.

Everything is drawn from `numpy.random.default_rng([seed, class_index,
video_index])`, so a video depends only on the seed and its place, and the same
seed writes byte-identical files.
"""

import math
import os

import numpy as np

from keras_video.data.video import write_video

MOTIONS = (
    "left",
    "right",
    "up",
    "down",
    "clockwise",
    "counterclockwise",
    "growing",
    "shrinking",
)
SHAPES = ("triangle", "rectangle", "ell", "kite")
BACKGROUNDS = ("solid", "noise", "stripes")

_TRANSLATION = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
_SUBPIXEL = 4  # cv2 fixed-point bits for sub-pixel polygon vertices


def _shape_vertices(shape, rng):
    """Polygon in a unit box centred at 0, none of them rotationally symmetric."""
    if shape == "triangle":
        pts = [(0.0, -1.0), (0.75, 0.8), (-0.75, 0.8)]
    elif shape == "rectangle":
        a = rng.uniform(0.35, 0.6)
        pts = [(-1.0, -a), (1.0, -a), (1.0, a), (-1.0, a)]
    elif shape == "ell":
        pts = [(-0.8, -1), (-0.2, -1), (-0.2, 0.4), (0.8, 0.4), (0.8, 1), (-0.8, 1)]
    else:  # kite
        pts = [(0.0, -1.0), (0.6, -0.2), (0.0, 1.0), (-0.6, -0.2)]
    return np.asarray(pts, dtype=np.float64)


def _background(kind, h, w, rng, contrast):
    """A static background: a colour, plus smooth noise or stripes around it.

    Textures span `contrast * 255` around the base colour, so a moving shape
    (whose colour is kept away from the base) stands out from them.
    """
    base = rng.integers(0, 256, 3).astype(np.float32)
    if kind == "solid":
        return np.broadcast_to(base, (h, w, 3)).astype(np.uint8)
    import cv2

    amplitude = 255.0 * contrast
    if kind == "noise":
        cells = int(rng.integers(3, 9))
        small = rng.uniform(-0.5, 0.5, (cells, cells, 3)).astype(np.float32)
        big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        img = base + amplitude * big + rng.normal(0, 4, (h, w, 3))
        return np.clip(img, 0, 255).astype(np.uint8)
    # stripes: a sinusoidal grating along a random colour direction
    theta = rng.uniform(0, math.pi)
    period = rng.uniform(6, 20) * max(h, w) / 64
    yy, xx = np.mgrid[0:h, 0:w]
    phase = rng.uniform(0, 2 * math.pi)
    wave = 0.5 * np.sin(
        2 * math.pi * (xx * math.cos(theta) + yy * math.sin(theta)) / period + phase
    )
    direction = rng.uniform(-1, 1, 3)
    img = base + amplitude * wave[..., None] * direction
    return np.clip(img, 0, 255).astype(np.uint8)


def _shape_colour(background, rng):
    """A random colour far (L1 >= 150) from the background's mean colour."""
    colour = rng.integers(0, 256, 3)
    while np.abs(colour - background.reshape(-1, 3).mean(0)).sum() < 150:
        colour = rng.integers(0, 256, 3)
    return colour


def _draw_shape(background, vertices, colour, center, angle, radius):
    """One frame: the shape (wrapped around the torus) over `background`.

    Returns:
        `(frame, mask)`: uint8 `(h, w, 3)` and bool `(h, w)` (the shape).
    """
    import cv2

    h, w = background.shape[:2]
    scale = 1 << _SUBPIXEL
    c, s = math.cos(angle), math.sin(angle)
    # Image y points down, so a positive angle turns the shape clockwise.
    rot = np.array([[c, -s], [s, c]])
    pts = vertices @ rot.T * radius + np.mod(center, (w, h))
    polys = [
        np.round((pts + (dx, dy)) * scale).astype(np.int32)
        for dx in (-w, 0, w)
        for dy in (-h, 0, h)
    ]
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, polys, 255, lineType=cv2.LINE_AA, shift=_SUBPIXEL)
    alpha = (mask.astype(np.float32) / 255)[..., None]
    frame = background * (1 - alpha) + colour * alpha
    return np.round(frame).astype(np.uint8), mask >= 128


def motion_trajectory(motion, rng, image_size=(64, 64), num_frames=16):
    """Per-frame geometry of one clip: where the shape is, its angle and size.

    Every attribute is drawn for every class, in the same order; the class only
    decides which attributes change over time (see the module docstring).

    Args:
        motion: one of `MOTIONS`.
        rng: a `numpy.random.Generator`.
        image_size: `(height, width)`.
        num_frames: frames in the clip.

    Returns:
        `(centers, angles, radii)`: float64 `(num_frames, 2)` (x, y in pixels,
        before wrapping into the image), `(num_frames,)` radians (positive is
        clockwise on screen), `(num_frames,)` pixels.
    """
    if motion not in MOTIONS:
        raise ValueError(f"`motion` must be one of {MOTIONS}. Received: {motion!r}")
    h, w = image_size
    t = np.arange(num_frames, dtype=np.float64) - (num_frames - 1) / 2
    start = rng.uniform((0, 0), (w, h))
    speed = rng.uniform(0.02, 0.06) * min(h, w)  # pixels per frame
    angle0 = rng.uniform(0, 2 * math.pi)
    spin = math.radians(rng.uniform(4, 12))  # radians per frame
    log_size0 = rng.uniform(math.log(0.10), math.log(0.20))
    rate = rng.uniform(0.03, 0.06)  # log-size per frame
    tau = rng.integers(num_frames) - (num_frames - 1) / 2
    sign = rng.choice((-1.0, 1.0))

    direction = np.asarray(_TRANSLATION.get(motion, (0, 0)), dtype=np.float64)
    centers = start[None, :] + direction[None, :] * speed * t[:, None]
    turn = {"clockwise": 1, "counterclockwise": -1}.get(motion, 0)
    angles = angle0 + turn * spin * t
    if motion in ("growing", "shrinking"):
        log_size = log_size0 + (1 if motion == "growing" else -1) * rate * t
    else:
        log_size = np.full_like(t, log_size0 + sign * rate * tau)
    radii = np.exp(log_size) * min(h, w)
    return centers, angles, radii


def render_motion_clip(
    motion, rng, image_size=(64, 64), num_frames=16, background_contrast=0.3
):
    """Renders one clip of the motion data set in memory.

    Args:
        motion: one of `MOTIONS`.
        rng: a `numpy.random.Generator`.
        image_size: `(height, width)`.
        num_frames: frames in the clip.
        background_contrast: texture amplitude of the background, as a fraction
            of the 0-255 range (0: plain colours).

    Returns:
        `(frames, info)`: uint8 `(num_frames, height, width, 3)` RGB, and a dict
        with the per-frame `"center"` `(num_frames, 2)` (x, y, pixels, before
        wrapping into the image), `"angle"` (radians), `"radius"` (pixels), the
        object `"mask"` `(num_frames, height, width)` bool, and the random
        `"shape"`, `"background"` and `"colour"`.
    """

    if motion not in MOTIONS:
        raise ValueError(f"`motion` must be one of {MOTIONS}. Received: {motion!r}")
    h, w = image_size
    centers, angles, radii = motion_trajectory(motion, rng, image_size, num_frames)
    shape = SHAPES[rng.integers(len(SHAPES))]
    vertices = _shape_vertices(shape, rng)
    background_kind = BACKGROUNDS[rng.integers(len(BACKGROUNDS))]
    background = _background(background_kind, h, w, rng, background_contrast)
    colour = _shape_colour(background, rng)

    frames = np.empty((num_frames, h, w, 3), np.uint8)
    masks = np.zeros((num_frames, h, w), bool)
    for i in range(num_frames):
        frames[i], masks[i] = _draw_shape(
            background, vertices, colour, centers[i], angles[i], radii[i]
        )
    info = {
        "center": centers,
        "angle": angles,
        "radius": radii,
        "mask": masks,
        "shape": shape,
        "background": background_kind,
        "colour": colour,
    }
    return frames, info


def write_motion_dataset(
    directory,
    num_videos_per_class,
    seed,
    image_size=(64, 64),
    num_frames=16,
    classes=None,
    fps=10,
    codec="libx264",
    keyframe_interval=None,
    background_contrast=0.3,
):
    """Writes the motion data set as mp4 files in class folders.

    `directory/<motion>/<motion>_<index>.mp4`; the folder layout is the one
    `video_dataset_from_directory` reads.

    Args:
        directory: output folder (created).
        num_videos_per_class: videos per class.
        seed: int; the same seed writes the same files.
        image_size: `(height, width)`, even numbers (yuv420p).
        num_frames: frames per video.
        classes: motions to include (a subset of `MOTIONS`); default all eight.
        fps: frame rate written in the file.
        codec: PyAV encoder (`"libx264"` by default).
        keyframe_interval: GOP size, or `None` for the encoder default.
        background_contrast: texture amplitude of the backgrounds (fraction of
            0-255); higher makes the shapes harder to find.

    Returns:
        list of the written paths, class by class in `classes` order.

    Example:
    >>> import tempfile
    >>> paths = write_motion_dataset(tempfile.mkdtemp(), 2, seed=0,
    ...                              image_size=(32, 32), num_frames=8)
    >>> len(paths)
    16
    """
    classes = tuple(MOTIONS if classes is None else classes)
    for motion in classes:
        if motion not in MOTIONS:
            raise ValueError(
                f"`classes` must be motions from {MOTIONS}. Received: {motion!r}"
            )
    if len(set(classes)) != len(classes):
        raise ValueError(f"`classes` has duplicates. Received: classes={classes}")
    h, w = image_size
    if h % 2 or w % 2:
        raise ValueError(
            f"`image_size` must be even. Received: image_size={image_size}"
        )
    if int(num_videos_per_class) != num_videos_per_class or num_videos_per_class < 1:
        raise ValueError(
            "`num_videos_per_class` must be a positive integer. Received: "
            f"num_videos_per_class={num_videos_per_class}"
        )
    paths = []
    for motion in classes:
        class_index = MOTIONS.index(motion)
        folder = os.path.join(directory, motion)
        os.makedirs(folder, exist_ok=True)
        for i in range(num_videos_per_class):
            rng = np.random.default_rng([int(seed), class_index, i])
            frames, _ = render_motion_clip(
                motion, rng, image_size, num_frames, background_contrast
            )
            path = os.path.join(folder, f"{motion}_{i:05d}.mp4")
            write_video(
                path, frames, fps=fps, codec=codec, keyframe_interval=keyframe_interval
            )
            paths.append(path)
    return paths


def _range(name, value):
    """`(low, high)` ints from an int or a pair, `1 <= low <= high`."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    try:
        low, high = (int(v) for v in pair)
        ok = len(pair) == 2 and all(int(v) == v for v in pair) and 1 <= low <= high
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"`{name}` must be a positive int or (low, high) with low <= high. "
            f"Received: {name}={value!r}"
        )
    return low, high


def _action_segments(rng, num_frames, count, lengths):
    """`count` non-overlapping `(start, end)` frame ranges (end exclusive) with
    at least one frame between them, placed uniformly at random."""
    low, high = lengths
    sizes = rng.integers(low, high + 1, count)
    free = num_frames - int(sizes.sum()) - (count - 1)
    gaps = np.diff(np.concatenate([[0], np.sort(rng.integers(0, free + 1, count))]))
    segments, position = [], 0
    for k in range(count):
        start = position + int(gaps[k]) + (1 if k else 0)
        segments.append((start, start + int(sizes[k])))
        position = start + int(sizes[k])
    return segments


def write_localization_dataset(
    directory,
    num_videos,
    seed,
    num_frames=160,
    image_size=(32, 32),
    fps=10,
    classes=("left", "right", "up", "down"),
    actions_per_video=(1, 3),
    action_frames=(16, 48),
    validation_split=0.25,
    codec="libx264",
    background_contrast=0.3,
):
    """Writes long videos with motion actions at known times, and their
    ActivityNet-style annotations: a temporal action localisation set.

    Each video is a static background (solid, smooth noise or stripes, as in
    `write_motion_dataset`) that shows nothing moving, except during 1-3
    actions: a shape appears, moves as its class says (`motion_trajectory`)
    for `action_frames` frames and disappears. Actions never overlap and at
    least one background frame separates them. Files:

    - `directory/videos/video_<index>.mp4`;
    - `directory/annotations.json`: `{"database": {video_id: {"subset",
      "duration", "fps", "num_frames", "annotations": [{"segment": [start,
      end], "label", "frames": [first, last + 1]}]}}}`, the layout
      `keras_video.detection.read_activitynet_json` reads. Times are exact:
      `start` is the first action frame's timestamp (`first / fps`), `end` the
      last action frame's timestamp plus one frame (`(last + 1) / fps`),
      `duration` is `num_frames / fps`.

    The first `num_videos - round(num_videos * validation_split)` videos are
    `"training"`, the others `"validation"`. Video `i` depends only on
    `seed` and `i` (`numpy.random.default_rng([seed, i])`).

    Args:
        directory: output folder (created).
        num_videos: number of videos.
        seed: int; the same seed writes the same files.
        num_frames: frames per video.
        image_size: `(height, width)`, even numbers.
        fps: integer frame rate written in the files.
        classes: motions (from `MOTIONS`) the actions are drawn from.
        actions_per_video: an int or `(min, max)` actions per video.
        action_frames: an int or `(min, max)` frames per action.
        validation_split: fraction of the videos in the `"validation"` subset.
        codec: PyAV encoder.
        background_contrast: texture amplitude of the backgrounds.

    Returns:
        list of the written video paths, in index order.

    Raises:
        ValueError: bad arguments, or `num_frames` too short to hold the most
            and longest actions.

    Example:
    >>> import tempfile
    >>> from keras_video import detection
    >>> folder = tempfile.mkdtemp()
    >>> paths = write_localization_dataset(folder, 2, seed=0, num_frames=120)
    >>> records = detection.read_activitynet_json(f"{folder}/annotations.json")
    >>> 2 <= len(records) <= 6
    True
    """
    import json

    classes = tuple(classes)
    if not classes or any(c not in MOTIONS for c in classes):
        raise ValueError(
            f"`classes` must be motions from {MOTIONS}. Received: classes={classes}"
        )
    h, w = image_size
    if h % 2 or w % 2:
        raise ValueError(
            f"`image_size` must be even. Received: image_size={image_size}"
        )
    if int(num_videos) != num_videos or num_videos < 1:
        raise ValueError(
            "`num_videos` must be a positive integer. "
            f"Received: num_videos={num_videos}"
        )
    if isinstance(fps, bool) or int(fps) != fps or fps < 1:
        raise ValueError(f"`fps` must be a positive integer. Received: fps={fps}")
    counts = _range("actions_per_video", actions_per_video)
    lengths = _range("action_frames", action_frames)
    needed = counts[1] * lengths[1] + counts[1] - 1
    if int(num_frames) != num_frames or num_frames < needed:
        raise ValueError(
            f"`num_frames` must hold {counts[1]} actions of {lengths[1]} frames "
            f"and a frame between them: at least {needed}. "
            f"Received: num_frames={num_frames}"
        )
    if not 0 <= validation_split < 1:
        raise ValueError(
            "`validation_split` must be in [0, 1). "
            f"Received: validation_split={validation_split}"
        )
    num_videos, num_frames, fps = int(num_videos), int(num_frames), int(fps)
    num_training = num_videos - round(num_videos * validation_split)
    folder = os.path.join(directory, "videos")
    os.makedirs(folder, exist_ok=True)
    database, paths = {}, []
    for i in range(num_videos):
        rng = np.random.default_rng([int(seed), i])
        kind = BACKGROUNDS[rng.integers(len(BACKGROUNDS))]
        background = _background(kind, h, w, rng, background_contrast)
        frames = np.broadcast_to(background, (num_frames, h, w, 3)).copy()
        count = int(rng.integers(counts[0], counts[1] + 1))
        annotations = []
        for start, end in _action_segments(rng, num_frames, count, lengths):
            motion = classes[rng.integers(len(classes))]
            centers, angles, radii = motion_trajectory(
                motion, rng, image_size, end - start
            )
            vertices = _shape_vertices(SHAPES[rng.integers(len(SHAPES))], rng)
            colour = _shape_colour(background, rng)
            for t in range(end - start):
                frames[start + t] = _draw_shape(
                    background, vertices, colour, centers[t], angles[t], radii[t]
                )[0]
            annotations.append(
                {"segment": [start / fps, end / fps], "label": motion,
                 "frames": [start, end]}
            )  # fmt: skip
        video_id = f"video_{i:05d}"
        path = os.path.join(folder, f"{video_id}.mp4")
        write_video(path, frames, fps=fps, codec=codec)
        paths.append(path)
        database[video_id] = {
            "subset": "training" if i < num_training else "validation",
            "duration": num_frames / fps,
            "fps": fps,
            "num_frames": num_frames,
            "annotations": annotations,
        }
    with open(os.path.join(directory, "annotations.json"), "w") as f:
        json.dump({"database": database}, f, indent=1)
    return paths


def write_detection_dataset(
    directory,
    num_videos,
    seed,
    image_size=(128, 128),
    num_frames=64,
    action_length=(8, 24),
    num_actors=(1, 3),
    classes=None,
):
    """Reserved: the motion data set for temporal and spatio-temporal detection.

    Not built yet (the detection issue builds it). The intended contract:

    - Longer videos (`num_frames`) in which each of `num_actors` (an int or a
      `(min, max)` range) shapes performs motions from `classes` (default
      `MOTIONS`) during segments of `action_length` frames and stays still
      (or drifts without class) in between.
    - Files: `directory/videos/<id>.mp4`, plus `directory/segments.csv`
      (`video_id,actor_id,label,start_frame,end_frame`, for temporal
      localisation) and `directory/boxes.csv` (AVA-style,
      `video_id,frame,actor_id,x1,y1,x2,y2,label`, coordinates normalised to
      [0, 1], for spatio-temporal detection).
    - Deterministic from `seed`, like `write_motion_dataset`.

    Raises:
        NotImplementedError: always, for now.
    """
    raise NotImplementedError(
        "write_detection_dataset is reserved for the detection issue; use "
        "write_motion_dataset for classification."
    )


def object_boxes(masks):
    """Per-frame boxes of the moving shape, on the torus the shape lives on.

    The box of a frame is the smallest one holding the shape's pixels when
    columns and rows wrap around (the world of `render_motion_clip` is a
    torus), so a shape crossing an edge gets a tight box that crosses it too,
    not one spanning the whole image.

    Args:
        masks: bool `(num_frames, height, width)`, e.g. the `"mask"` of
            `render_motion_clip`'s info.

    Returns:
        int64 `(num_frames, 4)`: `(x1, y1, x2, y2)` in pixels, ends exclusive,
        `0 <= x1 < width`, `0 <= y1 < height`. `x2` may pass `width` (and
        `y2` `height`) when the shape wraps: the box then covers columns
        `x1 .. x2 - 1` modulo `width` (see `box_masks`). A frame without
        shape pixels gets `(0, 0, 0, 0)`.

    Example:
    >>> rng = np.random.default_rng(0)
    >>> frames, info = render_motion_clip("left", rng, (32, 32), 8)
    >>> boxes = object_boxes(info["mask"])  # (8, 4)
    >>> bool(box_masks(boxes, (32, 32))[info["mask"]].all())
    True
    """
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 3:
        raise ValueError(
            "`masks` must be (num_frames, height, width). "
            f"Received: masks of shape {masks.shape}"
        )

    def span(occupied):
        """Start and length of the shortest circular run holding every True."""
        n = occupied.size
        index = np.flatnonzero(occupied)
        if index.size == 0:
            return 0, 0
        gaps = np.diff(np.concatenate([index, index[:1] + n]))  # to the next one
        k = int(np.argmax(gaps))
        return int(index[(k + 1) % index.size]), n - int(gaps[k]) + 1

    boxes = np.zeros((len(masks), 4), np.int64)
    for t, mask in enumerate(masks):
        x1, width = span(mask.any(axis=0))
        y1, height = span(mask.any(axis=1))
        if width and height:
            boxes[t] = (x1, y1, x1 + width, y1 + height)
    return boxes


def box_masks(boxes, image_size):
    """The pixels inside per-frame boxes that may wrap (`object_boxes`).

    Args:
        boxes: int `(num_frames, 4)` `(x1, y1, x2, y2)`, ends exclusive; a
            box past the right or bottom edge continues on the other side.
        image_size: `(height, width)`.

    Returns:
        bool `(num_frames, height, width)`.
    """
    h, w = image_size
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    out = np.zeros((len(boxes), h, w), bool)
    for t, (x1, y1, x2, y2) in enumerate(boxes):
        cols = np.zeros(w, bool)
        cols[np.arange(x1, x2) % w] = True
        rows = np.zeros(h, bool)
        rows[np.arange(y1, y2) % h] = True
        out[t] = rows[:, None] & cols[None, :]
    return out
