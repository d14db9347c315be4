"""A synthetic multi-actor set in AVA's format: real videos, boxes and labels.

Each video shows 2-3 actors (a rectangle, a disc, a triangle, each its own
flat colour) over a static textured background. An actor does one motion
class for its whole track: it moves `"left"`, `"right"`, `"up"` or `"down"`
at a constant speed, or `"stand"`s still. Which class an actor has is only in
how it moves, so one frame says where the actors are but not what they do:
the task of AVA-style detection (find each person, label each one's action).

What is exact:

- Actors are drawn without anti-aliasing at whole-pixel positions, and an
  actor's box in a frame is the bounding box of its pixels:
  `x1 = first column / width`, `x2 = (last column + 1) / width` (pixel
  edges), the same for `y` with the height.
- Actors never overlap (a track that would come within a pixel of another
  actor's in any frame is drawn again; after 50 tries the video has one actor
  fewer, never fewer than one), and every track stays inside the frame.
- Colours: every actor is far from the background (L1 distance of at least
  300 from its mean colour, texture amplitude `background_contrast * 255`)
  and from the other actors (at least 150), so an actor's pixels can be found
  by colour in the decoded video.

Files written by `write_actor_dataset(directory, ...)`:

- `videos/video_<i>.mp4`: `num_frames` frames at `fps` (H.264, `write_video`).
- `train.csv`, `val.csv`: AVA annotations, `video_id, timestamp, x1, y1, x2,
  y2, action_id, person_id` (no header), one row per actor and keyframe;
  `person_id` is the actor's index in its video. Keyframes are at every whole
  second from 1 s to `duration - 1` s (`duration = num_frames / fps`), the
  keyframe at `t` s being frame `t * fps`: short videos need a short range
  (pass `keyframe_range=None` to `ava_dataset`); AVA's own keyframes are
  seconds 902-1798 of 15-minute clips, the dataset's default range.
- `label_map.pbtxt`: `item { name: "<motion>" id: <k> }`, ids 1, 2, ... in
  `classes` order.
- `train_proposals.csv`, `val_proposals.csv`: person proposals,
  `video_id, timestamp, x1, y1, x2, y2, score` (`read_ava_proposals`): per
  keyframe each actor's box jittered (each side moved by a normal draw of
  5% of the box's size, clipped to the frame) with a score in `[0.8, 1)`,
  plus `false_proposals` random boxes (`(min, max)` per keyframe) with
  scores in `[0.05, 0.95)`.

The first `num_videos - round(num_videos * validation_split)` videos are the
training ones. Video `i` depends only on `seed` and `i`
(`numpy.random.default_rng([seed, i])`; its proposals on
`[seed, i, 1]`), so the same seed writes the same files.
"""

import os

import numpy as np

from keras_video.data.video import write_video

ACTOR_MOTIONS = ("left", "right", "up", "down", "stand")
ACTOR_SHAPES = ("rectangle", "disc", "triangle")

_DIRECTIONS = {
    "left": (-1, 0),
    "right": (1, 0),
    "up": (0, -1),
    "down": (0, 1),
    "stand": (0, 0),
}
_TRIES = 50


def _shape_mask(shape, width, height):
    """bool `(height, width)`: the shape drawn in a `width x height` box."""
    if shape == "rectangle":
        return np.ones((height, width), bool)
    yy, xx = np.mgrid[0:height, 0:width]
    u = (xx + 0.5) / width  # pixel centres in [0, 1]
    v = (yy + 0.5) / height
    if shape == "disc":
        return (u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.25
    return np.abs(u - 0.5) <= v / 2  # triangle, apex up


def _extent(mask):
    """`(x1, y1, x2, y2)` pixel edges of the mask's pixels in its box."""
    columns, rows = np.flatnonzero(mask.any(0)), np.flatnonzero(mask.any(1))
    return columns[0], rows[0], columns[-1] + 1, rows[-1] + 1


def _background(rng, h, w, contrast):
    import cv2

    base = rng.integers(0, 256, 3).astype(np.float32)
    cells = int(rng.integers(3, 9))
    small = rng.uniform(-0.5, 0.5, (cells, cells, 3)).astype(np.float32)
    texture = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    image = base + 255.0 * contrast * texture + rng.normal(0, 3, (h, w, 3))
    return np.clip(image, 0, 255).astype(np.uint8), base


def _colour(rng, background_mean, others):
    while True:
        colour = rng.integers(0, 256, 3)
        if np.abs(colour - background_mean).sum() >= 300 and all(
            np.abs(colour - o).sum() >= 150 for o in others
        ):
            return colour


def _track(rng, motion, size, image_size, num_frames, speed):
    """Top-left corners `(num_frames, 2)` int (x, y) of one actor's box."""
    h, w = image_size
    bw, bh = size
    dx, dy = _DIRECTIONS[motion]
    step = rng.uniform(*speed)
    room_x, room_y = w - bw, h - bh
    travel = num_frames - 1
    if dx:
        step = min(step, room_x / travel)
    if dy:
        step = min(step, room_y / travel)
    x0 = rng.uniform(0, room_x - abs(dx) * step * travel)
    y0 = rng.uniform(0, room_y - abs(dy) * step * travel)
    if dx < 0:
        x0 += step * travel
    if dy < 0:
        y0 += step * travel
    t = np.arange(num_frames)
    xs = np.clip(np.round(x0 + dx * step * t), 0, room_x)
    ys = np.clip(np.round(y0 + dy * step * t), 0, room_y)
    return np.stack([xs, ys], axis=1).astype(np.int64)


def _overlaps(corners, size, placed):
    """True when the track comes within one pixel of a placed track."""
    x1, y1 = corners[:, 0], corners[:, 1]
    x2, y2 = x1 + size[0], y1 + size[1]
    for other, other_size in placed:
        ox1, oy1 = other[:, 0], other[:, 1]
        ox2, oy2 = ox1 + other_size[0], oy1 + other_size[1]
        apart = (x2 + 1 <= ox1) | (ox2 + 1 <= x1) | (y2 + 1 <= oy1) | (oy2 + 1 <= y1)
        if not apart.all():
            return True
    return False


def render_actor_video(
    rng,
    image_size=(64, 64),
    num_frames=48,
    num_actors=(2, 3),
    classes=ACTOR_MOTIONS,
    actor_size=(10, 16),
    speed=(0.4, 0.8),
    background_contrast=0.2,
):
    """Renders one multi-actor video in memory.

    Args:
        rng: a `numpy.random.Generator`.
        image_size: `(height, width)`.
        num_frames: frames.
        num_actors: an int or `(min, max)` actors.
        classes: the motions actors draw from (`ACTOR_MOTIONS`).
        actor_size: `(min, max)` pixels of an actor's box side.
        speed: `(min, max)` pixels per frame of moving actors (lowered for
            an actor whose track would not fit in the frame).
        background_contrast: texture amplitude, a fraction of 0-255.

    Returns:
        `(frames, actors)`: uint8 `(num_frames, height, width, 3)` RGB, and
        one dict per actor: `"motion"`, `"shape"`, `"colour"` (uint8 RGB),
        `"boxes"` float64 `(num_frames, 4)` normalised `x1, y1, x2, y2`
        (pixel edges over the frame size).
    """
    h, w = image_size
    low, high = (num_actors, num_actors) if np.isscalar(num_actors) else num_actors
    count = int(rng.integers(low, high + 1))
    background, mean = _background(rng, h, w, background_contrast)
    frames = np.broadcast_to(background, (num_frames, h, w, 3)).copy()
    placed, actors, colours = [], [], []
    for _ in range(count):
        motion = classes[rng.integers(len(classes))]
        shape = ACTOR_SHAPES[rng.integers(len(ACTOR_SHAPES))]
        for _ in range(_TRIES):
            size = tuple(
                int(s) for s in rng.integers(actor_size[0], actor_size[1] + 1, 2)
            )
            corners = _track(rng, motion, size, image_size, num_frames, speed)
            if not _overlaps(corners, size, placed):
                break
        else:
            continue
        colour = _colour(rng, mean, colours)
        mask = _shape_mask(shape, *size)
        for f, (x, y) in enumerate(corners):
            frames[f, y : y + size[1], x : x + size[0]][mask] = colour
        placed.append((corners, size))
        colours.append(colour)
        boxes = (np.tile(corners, 2) + _extent(mask)).astype(np.float64)
        actors.append(
            {
                "motion": motion,
                "shape": shape,
                "colour": colour.astype(np.uint8),
                "boxes": boxes / (w, h, w, h),
            }
        )
    return frames, actors


def _range(name, value, minimum=1):
    pair = (value, value) if np.isscalar(value) else tuple(value)
    try:
        low, high = (int(v) for v in pair)
        ok = len(pair) == 2 and minimum <= low <= high
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"`{name}` must be an int >= {minimum} or (low, high) with low <= high. "
            f"Received: {name}={value!r}"
        )
    return low, high


def _jitter(rng, box):
    x1, y1, x2, y2 = box
    sx, sy = 0.05 * (x2 - x1), 0.05 * (y2 - y1)
    x1, x2 = np.clip([x1 + rng.normal(0, sx), x2 + rng.normal(0, sx)], 0, 1)
    y1, y2 = np.clip([y1 + rng.normal(0, sy), y2 + rng.normal(0, sy)], 0, 1)
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def write_actor_dataset(
    directory,
    num_videos,
    seed,
    num_frames=48,
    fps=8,
    image_size=(64, 64),
    num_actors=(2, 3),
    classes=ACTOR_MOTIONS,
    actor_size=(10, 16),
    speed=(0.4, 0.8),
    false_proposals=(0, 2),
    validation_split=0.25,
    codec="libx264",
    background_contrast=0.2,
):
    """Writes the multi-actor set: videos, AVA CSVs, label map, proposals.

    See the module docstring for the files and what is exact.

    Args:
        directory: output folder (created).
        num_videos: number of videos.
        seed: int; the same seed writes the same files.
        num_frames: frames per video, at least `2 * fps` (one keyframe).
        fps: integer frame rate.
        image_size: `(height, width)`, even numbers.
        num_actors: an int or `(min, max)` actors per video.
        classes: motions from `ACTOR_MOTIONS`; action ids are 1, 2, ... in
            this order.
        actor_size: `(min, max)` pixels of an actor's box side.
        speed: `(min, max)` pixels per frame of moving actors.
        false_proposals: an int or `(min, max)` false boxes per keyframe in
            the proposal files.
        validation_split: fraction of the videos in `val.csv`.
        codec: PyAV encoder.
        background_contrast: texture amplitude of the backgrounds (at most
            0.25, so actors stay far from every background pixel).

    Returns:
        list of the written video paths, in index order.

    Raises:
        ValueError: a bad argument, named in the message.

    Example:
    >>> import tempfile
    >>> from keras_video import detection
    >>> folder = tempfile.mkdtemp()
    >>> paths = write_actor_dataset(folder, 2, seed=0, num_frames=24, fps=8,
    ...                             validation_split=0.5)
    >>> rows = detection.read_ava_annotations(f"{folder}/train.csv")
    >>> sorted({r.timestamp for r in rows})
    [1, 2]
    """
    classes = tuple(classes)
    if not classes or any(c not in ACTOR_MOTIONS for c in classes):
        raise ValueError(
            f"`classes` must be motions from {ACTOR_MOTIONS}. Received: "
            f"classes={classes}"
        )
    if len(set(classes)) != len(classes):
        raise ValueError(f"`classes` has duplicates. Received: classes={classes}")
    h, w = image_size
    if h % 2 or w % 2:
        raise ValueError(
            f"`image_size` must be even. Received: image_size={image_size}"
        )
    if isinstance(fps, bool) or int(fps) != fps or fps < 1:
        raise ValueError(f"`fps` must be a positive integer. Received: fps={fps}")
    if int(num_frames) != num_frames or num_frames < 2 * fps:
        raise ValueError(
            "`num_frames` must be an integer of at least 2 * fps (keyframes are "
            f"at 1 s .. duration - 1 s). Received: num_frames={num_frames}, fps={fps}"
        )
    if int(num_videos) != num_videos or num_videos < 1:
        raise ValueError(
            "`num_videos` must be a positive integer. "
            f"Received: num_videos={num_videos}"
        )
    if not 0 <= validation_split < 1:
        raise ValueError(
            "`validation_split` must be in [0, 1). "
            f"Received: validation_split={validation_split}"
        )
    if not 0 <= background_contrast <= 0.25:
        raise ValueError(
            "`background_contrast` must be in [0, 0.25]. "
            f"Received: background_contrast={background_contrast}"
        )
    num_actors = _range("num_actors", num_actors)
    actor_size = _range("actor_size", actor_size, minimum=3)
    if actor_size[1] + 2 > min(h, w):
        raise ValueError(
            f"`actor_size` must fit in the frame. Received: actor_size={actor_size}, "
            f"image_size={image_size}"
        )
    false_proposals = _range("false_proposals", false_proposals, minimum=0)
    from keras_video.data import ava_files as ava

    num_videos, num_frames, fps = int(num_videos), int(num_frames), int(fps)
    num_training = num_videos - round(num_videos * validation_split)
    keyframes = [
        t for t in range(1, num_frames // fps + 1) if t * fps <= num_frames - fps
    ]
    folder = os.path.join(directory, "videos")
    os.makedirs(folder, exist_ok=True)
    rows = {"train": [], "val": []}
    proposals = {"train": [], "val": []}
    paths = []
    for i in range(num_videos):
        rng = np.random.default_rng([int(seed), i])
        frames, actors = render_actor_video(
            rng, image_size, num_frames, num_actors, classes, actor_size, speed,
            background_contrast,
        )  # fmt: skip
        video_id = f"video_{i:05d}"
        path = os.path.join(folder, f"{video_id}.mp4")
        write_video(path, frames, fps=fps, codec=codec)
        paths.append(path)
        split = "train" if i < num_training else "val"
        proposal_rng = np.random.default_rng([int(seed), i, 1])
        for t in keyframes:
            for person, actor in enumerate(actors):
                box = actor["boxes"][t * fps]
                action = classes.index(actor["motion"]) + 1
                rows[split].append(ava.AVAAnnotation(video_id, t, *box, action, person))
                score = proposal_rng.uniform(0.8, 1.0)
                jittered = _jitter(proposal_rng, box)
                proposals[split].append(ava.AVAProposal(video_id, t, *jittered, score))
            count = proposal_rng.integers(false_proposals[0], false_proposals[1] + 1)
            for _ in range(count):
                x1, x2 = np.sort(proposal_rng.uniform(0, 1, 2))
                y1, y2 = np.sort(proposal_rng.uniform(0, 1, 2))
                score = proposal_rng.uniform(0.05, 0.95)
                proposals[split].append(
                    ava.AVAProposal(video_id, t, x1, y1, x2, y2, score)
                )
    for split in ("train", "val"):
        ava.write_ava_csv(os.path.join(directory, f"{split}.csv"), rows[split])
        ava.write_ava_csv(
            os.path.join(directory, f"{split}_proposals.csv"), proposals[split]
        )
    ava.write_ava_label_map(
        os.path.join(directory, "label_map.pbtxt"),
        {k + 1: motion for k, motion in enumerate(classes)},
    )
    return paths
