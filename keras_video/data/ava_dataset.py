"""`ava_dataset`: AVA-style keyframes as clips, person boxes and multi-hot labels.

One element per keyframe (AVA: one a second, seconds 902-1798 of each
video), built one way:

```
annotations / proposals ─ keyframes (range, exclusions) ─ boxes, labels per keyframe
   ─ shuffle(seed) ─ zip(element seeds) ─ load map (decode, crop, flip, boxes) ─ batch
```

The load map (`KeyframeLoader`, NumPy and OpenCV in a `tf.numpy_function`)
does, per keyframe:

- **Clip**: the keyframe's frame is the last frame whose presentation time
  (`VideoReader.timestamps`, from the first frame) is at or before
  `timestamp - time_offset` seconds; clip frame `k` is that frame plus
  `round((k - clip_length // 2) * step)` (`step = frame_step`, or
  `fps / target_fps`), so the keyframe is frame `clip_length // 2`, as in
  PySlowFast for even lengths. Indices before the first or after the last
  frame repeat the first or last frame (PySlowFast's `get_sequence`); a
  keyframe outside the video is a bad file (`on_error`).
- **Space**: as the other datasets: frames resized so the short side is
  `short_side`, cropped to `image_size` (centre crop; with `augment`, the
  short side is uniform in `[short_side, 1.25 * short_side]`, the crop is at
  a random place and the clip is mirrored with probability 1/2). Only the
  crop window is resized (OpenCV, `interpolation`). `full_frame=True`
  resizes the whole frame to `image_size` instead (no box is cut off).
- **Boxes**: the normalised boxes are mapped into the crop the same way
  (`crop_and_flip_boxes`): pixel coordinates of the output frames,
  `(x1, y1, x2, y2)`, pixel edges at whole numbers (a box over the whole
  output is `(0, 0, width, height)`), clipped to the frame, mirrored with the
  clip. A box left with no area (outside the crop) is dropped. Kept boxes
  come first in their order; the rest of the `max_boxes` rows are padding:
  zero boxes (which `keras_video.layers.RoIAlign` pools to zeros), zero
  labels, `box_mask` 0.

Elements, batched (`B = batch_size`, `N = max_boxes`, `C` classes):

- `features`: `{"clip": float32 (B, clip_length, height, width, 3) in
  [0, 255], "boxes": float32 (B, N, 4)}`: the inputs of
  `keras_video.detection.ActionDetector` / `SlowFastDetector`;
- `labels`: float32 `(B, N, C)` multi-hot, class `k` is action id
  `dataset.class_ids[k]` (the label map's ids, ascending);
- `box_mask`: float32 `(B, N)`, 1 for a box, 0 for padding: Keras takes
  it as the sample weight of `fit` and `evaluate`, so padding costs nothing;
- with `with_metadata=True`, a fourth part `{"video_id": string (B,),
  "timestamp": int32 (B,), "source_boxes": float32 (B, N, 4), "scores":
  float32 (B, N)}`: each kept box as it is in the file (normalised, uncut,
  unflipped: what AVA detection rows hold) and its proposal score (1 for
  ground truth). `keras_video.detection.to_ava_detections` turns them with
  the model's scores into rows for `ava_frame_map`.

Ground truth (`boxes="ground_truth"`, AVA's training protocol): a keyframe's
rows with the same box are one person; its labels are the person's actions
in the label map (rows of other actions are dropped; a person with none
left stays, with zero labels). Proposals (`boxes=` a proposal CSV, AVA's
test protocol): the keyframes of the proposals scoring at least
`proposal_score_threshold`, boxes by descending score; each takes the labels
of the ground-truth box of its keyframe it overlaps most if that IoU is at
least 0.5 (zero labels otherwise, or without annotations).

Bad rows and files are errors naming the file and line (the readers of
`keras_video.data.ava_files`, NumPy only; this module imports them, not the
models); a video id without a file `video_dir/<video_id>.<ext>` is an error
naming it; a video that cannot be decoded follows `on_error`.
"""

import logging
import os
import warnings

import numpy as np
import tensorflow as tf

from keras_video.data import listing, pipeline
from keras_video.data.clip_loader import (
    DEFAULT_DECODE_TIMEOUT,
    SkippedFiles,
    call_with_timeout,
    check_on_error,
    shrink,
)
from keras_video.data.clip_settings import AUGMENT_SCALE, ClipSettings
from keras_video.data.errors import VideoDecodeError
from keras_video.data.video import VideoReader
from keras_video.data import ava_files as ava
from keras_video.detection.ava_evaluation import box_iou

logger = logging.getLogger("keras_video.data")

# A proposal takes the labels of the ground-truth box it overlaps most when
# their IoU is at least this.
PROPOSAL_LABEL_IOU = 0.5

_CV2_INTERPOLATION = {"bilinear": 1, "nearest": 0, "bicubic": 2, "area": 3}


def crop_and_flip_boxes(boxes, window, output_size, flip=False):
    """Boxes in source-frame pixels -> pixels of a resized crop window.

    `x' = (x - left) * out_w / win_w`, `y' = (y - top) * out_h / win_h`,
    clipped to `[0, out_w]` / `[0, out_h]`; mirrored, `x1' = out_w - x2`,
    `x2' = out_w - x1`. A box is kept when it has area left (`x2' > x1'` and
    `y2' > y1'`).

    Args:
        boxes: `(N, 4)` `x1, y1, x2, y2` in source pixels (edges at whole
            numbers).
        window: `(top, left, height, width)` of the crop in source pixels.
        output_size: `(out_h, out_w)` the window is resized to.
        flip: mirror the output horizontally.

    Returns:
        `(boxes, keep)`: float64 `(N, 4)` in output pixels, bool `(N,)`.

    Example:

    ```python
    crop_and_flip_boxes([[10, 10, 30, 20]], (0, 5, 40, 40), (20, 20), flip=True)
    # (array([[7.5, 5. , 17.5, 10. ]]), array([ True]))
    ```
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    top, left, win_h, win_w = window
    out_h, out_w = output_size
    scale = np.array([out_w / win_w, out_h / win_h] * 2)
    out = (boxes - (left, top, left, top)) * scale
    out = np.clip(out, 0, (out_w, out_h, out_w, out_h))
    if flip:
        out = np.stack([out_w - out[:, 2], out[:, 1], out_w - out[:, 0], out[:, 3]], 1)
    keep = (out[:, 2] > out[:, 0]) & (out[:, 3] > out[:, 1])
    return out, keep


def _crop_window(h, w, settings, rng, full_frame):
    """`(top, left, height, width)` and the flip: centre (`rng=None`) or random."""
    if full_frame:
        return (0, 0, h, w), rng is not None and bool(rng.random() < 0.5)
    side = settings.short_side
    if rng is not None:
        side = int(rng.integers(side, int(round(side * AUGMENT_SCALE)) + 1))
    scale = side / min(h, w)
    win_h = min(int(round(settings.image_size[0] / scale)), h)
    win_w = min(int(round(settings.image_size[1] / scale)), w)
    if rng is None:
        return ((h - win_h) // 2, (w - win_w) // 2, win_h, win_w), False
    top = int(rng.integers(0, h - win_h + 1))
    left = int(rng.integers(0, w - win_w + 1))
    return (top, left, win_h, win_w), bool(rng.random() < 0.5)


class KeyframeLoader:
    """Loads one keyframe's clip, boxes and labels per call (the load map).

    Args:
        keyframes: list of `AVAKeyframe`.
        paths: video file per keyframe.
        boxes: per keyframe, float64 `(n, 4)` normalised boxes.
        labels: per keyframe, float32 `(n, num_classes)` multi-hot.
        scores: per keyframe, float32 `(n,)`.
        settings: `ClipSettings`.
        max_boxes: rows per element.
        augment: random scale, crop and flip.
        full_frame: the whole frame resized to `image_size`, no crop.
        time_offset: seconds subtracted from a timestamp to get video time.
        backend: `VideoReader` backend.
        on_error: `"raise"` or `"skip"`.
        decode_timeout: seconds per keyframe, or `None`.

    Attributes:
        skipped: `SkippedFiles` of the videos skipped.
    """

    def __init__(
        self, keyframes, paths, boxes, labels, scores, settings, max_boxes,
        augment, full_frame, time_offset, backend, on_error, decode_timeout,
    ):  # fmt: skip
        self.keyframes = keyframes
        self.paths = paths
        self.boxes = boxes
        self.labels = labels
        self.scores = scores
        self.settings = settings
        self.max_boxes = max_boxes
        self.augment = augment
        self.full_frame = bool(full_frame)
        self.time_offset = float(time_offset)
        self.backend = backend
        self.on_error = on_error
        self.decode_timeout = decode_timeout
        self.num_classes = labels[0].shape[1] if labels else 0
        self.skipped = SkippedFiles()

    def frame_indices(self, reader, timestamp, path):
        """The clip's frame indices around the keyframe (see the module doc)."""
        times = reader.timestamps
        times = times - times[0]
        fps = reader.fps
        seconds = timestamp - self.time_offset
        if not 0 <= seconds < times[-1] + 1.0 / fps:
            raise VideoDecodeError(
                f"Keyframe at {timestamp} s (video time {seconds:g} s) is outside "
                f"{path} ({times[-1] + 1.0 / fps:g} s); check `time_offset`.",
                path,
            )
        key = int(np.searchsorted(times, seconds + 1e-6, side="right")) - 1
        settings = self.settings
        step = (
            fps / settings.target_fps
            if settings.target_fps is not None
            else settings.frame_step
        )
        offsets = np.round(
            (np.arange(settings.clip_length) - settings.clip_length // 2) * step
        )
        return np.clip(key + offsets.astype(np.int64), 0, len(times) - 1)

    def read(self, index, seed):
        """`(clip, boxes, labels, box_mask, source_boxes, scores)` of keyframe
        `index` (see the module docstring for shapes)."""
        keyframe, path = self.keyframes[index], self.paths[index]
        with VideoReader(path, backend=self.backend) as reader:
            indices = self.frame_indices(reader, keyframe.timestamp, path)
            frames = reader.get_frames(indices)
        frames = shrink(frames, self.settings.decode_short_side(self.augment))
        h, w = frames.shape[1:3]
        rng = None
        if self.augment:
            rng = np.random.default_rng(np.asarray(seed).astype(np.uint64))
        window, flip = _crop_window(h, w, self.settings, rng, self.full_frame)
        top, left, win_h, win_w = window
        out_h, out_w = self.settings.image_size
        clip = frames[:, top : top + win_h, left : left + win_w]
        if (win_h, win_w) != (out_h, out_w):
            import cv2

            method = _CV2_INTERPOLATION[self.settings.interpolation]
            clip = np.stack(
                [cv2.resize(f, (out_w, out_h), interpolation=method) for f in clip]
            )
        if flip:
            clip = clip[:, :, ::-1]
        source = self.boxes[index]
        pixels, keep = crop_and_flip_boxes(
            source * (w, h, w, h), window, (out_h, out_w), flip
        )
        kept = np.flatnonzero(keep)
        n = len(kept)
        boxes = np.zeros((self.max_boxes, 4), np.float32)
        labels = np.zeros((self.max_boxes, self.num_classes), np.float32)
        mask = np.zeros(self.max_boxes, np.float32)
        source_boxes = np.zeros((self.max_boxes, 4), np.float32)
        scores = np.zeros(self.max_boxes, np.float32)
        boxes[:n] = pixels[kept]
        labels[:n] = self.labels[index][kept]
        mask[:n] = 1.0
        source_boxes[:n] = source[kept]
        scores[:n] = self.scores[index][kept]
        return clip.astype(np.float32), boxes, labels, mask, source_boxes, scores

    def __call__(self, index, seed):
        """The load map's body: the parts of `read` and an `ok` flag."""
        index = int(index)
        path = self.paths[index]
        try:
            parts = call_with_timeout(
                lambda: self.read(index, seed), self.decode_timeout, path
            )
            return (*parts, np.bool_(True))
        except Exception as error:  # noqa: BLE001 - raised or recorded naming the file
            if not isinstance(error, VideoDecodeError):
                error = VideoDecodeError(
                    f"Could not read keyframe {self.keyframes[index].timestamp} s of "
                    f"{path}: {type(error).__name__}: {error}",
                    path,
                )
            if self.on_error == "raise":
                raise error from None
            if path not in self.skipped.files:
                logger.warning("keras_video: skipping %s (%s)", path, error)
            self.skipped.record(path, error)
            t, (h, w) = self.settings.clip_length, self.settings.image_size
            m, c = self.max_boxes, self.num_classes
            return (
                np.zeros((t, h, w, 3), np.float32), np.zeros((m, 4), np.float32),
                np.zeros((m, c), np.float32), np.zeros(m, np.float32),
                np.zeros((m, 4), np.float32), np.zeros(m, np.float32), np.bool_(False),
            )  # fmt: skip


# ------------------------------------------------------------------ tables


def _label_ids(label_map):
    if isinstance(label_map, (str, os.PathLike)):
        label_map = ava.read_ava_label_map(label_map)
    if not isinstance(label_map, dict):
        label_map = {int(i): str(i) for i in label_map}
    if not label_map:
        raise ValueError("`label_map` is empty. Received: label_map={}")
    ids = sorted(label_map)
    return ids, [label_map[i] for i in ids]


def _rows(source, name, read, parse):
    """Rows of a file, or given rows checked (errors name `name[index]`)."""
    if source is None:
        return None
    if isinstance(source, (str, os.PathLike)):
        return read(source)
    return [parse(tuple(row), f"{name}[{i}]") for i, row in enumerate(source)]


def _in_range(keyframe, keyframe_range, excluded):
    if keyframe in excluded:
        return False
    if keyframe_range is None:
        return True
    return keyframe_range[0] <= keyframe.timestamp <= keyframe_range[1]


def _multi_hot(actions, column):
    labels = np.zeros((len(actions), len(column)), np.float32)
    for row, ids in enumerate(actions):
        for action_id in ids:
            if action_id in column:
                labels[row, column[action_id]] = 1.0
    return labels


def _keyframe_tables(annotations, proposals, class_ids, keyframe_range, excluded):
    """Per keyframe: normalised boxes, multi-hot labels, scores."""
    column = {action_id: k for k, action_id in enumerate(class_ids)}
    truth = ava.group_by_keyframe(annotations or [])
    tables = {}
    if proposals is None:
        for keyframe, rows in truth.items():
            if _in_range(keyframe, keyframe_range, excluded):
                boxes, actions = ava.keyframe_boxes(rows)
                tables[keyframe] = (
                    boxes,
                    _multi_hot(actions, column),
                    np.ones(len(boxes), np.float32),
                )
        return tables
    for keyframe, found in ava.group_by_keyframe(proposals).items():
        if not _in_range(keyframe, keyframe_range, excluded):
            continue
        found = sorted(found, key=lambda p: -p.score)  # stable: file order on ties
        boxes = np.array([[p.x1, p.y1, p.x2, p.y2] for p in found], np.float64)
        labels = np.zeros((len(found), len(class_ids)), np.float32)
        if keyframe in truth:
            gt_boxes, actions = ava.keyframe_boxes(truth[keyframe])
            gt_labels = _multi_hot(actions, column)
            iou = box_iou(boxes, gt_boxes)  # symmetric in x and y
            best = np.argmax(iou, axis=1)
            hit = iou[np.arange(len(found)), best] >= PROPOSAL_LABEL_IOU
            labels[hit] = gt_labels[best[hit]]
        tables[keyframe] = (
            boxes,
            labels,
            np.array([p.score for p in found], np.float32),
        )
    return tables


def _video_paths(video_dir, video_ids, source):
    """video id -> file `video_dir/<id>.<ext>`; a missing one is an error."""
    video_dir = os.fspath(video_dir)
    if not os.path.isdir(video_dir):
        raise ValueError(
            f"`video_dir` is not a folder. Received: video_dir={video_dir!r}"
        )
    names = {}
    for entry in os.listdir(video_dir):
        stem, ext = os.path.splitext(entry)
        if ext.lower() in listing.VIDEO_FORMATS:
            names.setdefault(stem, entry)
    paths = {}
    for video_id in video_ids:
        if video_id not in names:
            raise ValueError(
                f"No video file for video {video_id!r} (named in {source}) in "
                f"{video_dir}: looked for {video_id}.<ext>, <ext> one of "
                f"{listing.VIDEO_FORMATS}"
            )
        paths[video_id] = os.path.join(video_dir, names[video_id])
    return paths


def _keyframe_range(value):
    if value is None:
        return None
    try:
        low, high = (int(v) for v in value)
        ok = len(value) == 2 and low <= high
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            "`keyframe_range` must be (first, last) seconds, first <= last, or None. "
            f"Received: keyframe_range={value!r}"
        )
    return low, high


def ava_dataset(
    video_dir,
    annotations,
    label_map,
    boxes="ground_truth",
    proposal_score_threshold=ava.AVA_PROPOSAL_SCORE_THRESHOLD,
    excluded=None,
    keyframe_range=ava.AVA_KEYFRAME_RANGE,
    time_offset=0.0,
    max_boxes=None,
    batch_size=8,
    clip_length=16,
    frame_step=None,
    target_fps=None,
    image_size=(224, 224),
    short_side=None,
    interpolation="bilinear",
    augment=False,
    full_frame=False,
    shuffle=True,
    seed=None,
    with_metadata=False,
    on_error="raise",
    decode_timeout=DEFAULT_DECODE_TIMEOUT,
    backend="auto",
    clip_settings=None,
):
    """A `tf.data.Dataset` of AVA-style keyframes: clips, person boxes, labels.

    See the module docstring for what an element holds and how the clip,
    crop, flip and boxes are made.

    Args:
        video_dir: folder of the videos, `<video_id>.<ext>`.
        annotations: an AVA annotation CSV (`read_ava_annotations`), its
            `AVAAnnotation` rows, or `None` (proposals without labels).
        label_map: a `.pbtxt` label map, a dict `{id: name}` or a list of
            ids: the classes, in ascending id order.
        boxes: `"ground_truth"` (boxes of `annotations`) or person proposals:
            a proposal CSV (`read_ava_proposals`) or `AVAProposal` rows.
        proposal_score_threshold: proposals scoring at least this are used
            (AVA tests on 0.8); `None` keeps all.
        excluded: keyframes to leave out: an excluded-timestamps CSV or
            `(video_id, timestamp)` pairs.
        keyframe_range: `(first, last)` timestamps kept, inclusive; AVA's
            `(902, 1798)` by default; `None` keeps every keyframe (the
            synthetic set's keyframes are at 1 s .. duration - 1 s).
        time_offset: seconds subtracted from a timestamp to get the time in
            the video file: 0 for AVA's full movies, 900 for the 15-minute
            cuts (`ffmpeg -ss 900 -t 901`) many setups use.
        max_boxes: box rows per element; `None`: the most any keyframe has.
            A keyframe with more keeps its first `max_boxes` (ground truth in
            file order, proposals by score), with a warning.
        batch_size: keyframes per batch, or `None` for unbatched elements.
        clip_length: frames per clip.
        frame_step: step between clip frames, in source frames (default 2).
        target_fps: read at this frame rate instead of a fixed `frame_step`.
        image_size: `(height, width)` of the output frames.
        short_side: short side before the crop (default `max(image_size)`).
        interpolation: `"bilinear"`, `"nearest"`, `"bicubic"` or `"area"`.
        augment: scale jitter, random crop and horizontal flip (clip and
            boxes alike); else a centre crop.
        full_frame: no crop: the whole frame is resized to `image_size`
            (its aspect ratio may change; boxes follow), e.g. to test on
            every box of 16:9 videos (`image_size=(256, 455)`); with
            `augment`, only the flip is random.
        shuffle: shuffle the keyframes each epoch; `False` keeps the
            file's keyframe order.
        seed: seed of the shuffle and the augmentation.
        with_metadata: add the metadata dict to each element.
        on_error: `"raise"` or `"skip"` a keyframe whose video cannot give
            its clip (skipped files are in `dataset.skipped_files`).
        decode_timeout: seconds one keyframe may take to decode, or `None`.
        backend: `VideoReader` backend.
        clip_settings: a `ClipSettings` in place of the clip keywords
            (`num_clips` must be 1).

    Returns:
        a `tf.data.Dataset` of `(features, labels, box_mask)` (or with the
        metadata dict last), with attributes `class_ids`, `class_names`,
        `keyframes` (`AVAKeyframe` list, in the order before shuffling),
        `file_paths` (per keyframe), `max_boxes` and `skipped_files`.

    Raises:
        ValueError: a bad argument, a bad row (named with file and line), a
            video id without a file, no keyframe left.

    Example:

    ```python
    from keras_video import data, detection

    data.write_actor_dataset("actors", 32, seed=0)
    train = data.ava_dataset(
        "actors/videos", "actors/train.csv", "actors/label_map.pbtxt",
        keyframe_range=None, clip_length=8, frame_step=2, image_size=(64, 64),
        augment=True, seed=0, batch_size=8,
    )
    (features, labels, box_mask) = next(iter(train))
    features["clip"].shape, features["boxes"].shape  # (8, 8, 64, 64, 3), (8, 3, 4)
    model = detection.SlowFastDetector(num_classes=len(train.class_ids), ...)
    model.fit(train, epochs=10)  # box_mask is the sample weight
    ```
    """
    settings = ClipSettings.from_arguments(clip_settings, ava_dataset, locals())
    if settings.num_clips != 1:
        raise ValueError(
            f"`ava_dataset` takes one clip per keyframe. Received: "
            f"clip_settings with num_clips={settings.num_clips}"
        )
    check_on_error(on_error, decode_timeout)
    pipeline.check_output_args("int", batch_size)
    keyframe_range = _keyframe_range(keyframe_range)
    class_ids, class_names = _label_ids(label_map)
    annotation_rows = _rows(
        annotations, "annotations", ava.read_ava_annotations, ava.parse_annotation
    )
    if isinstance(boxes, str) and boxes == "ground_truth":
        if annotation_rows is None:
            raise ValueError(
                '`boxes="ground_truth"` needs `annotations`. Received: annotations=None'
            )
        proposal_rows, source = None, annotations
    else:
        proposal_rows = _rows(
            boxes, "boxes", ava.read_ava_proposals, ava.parse_proposal
        )
        if proposal_score_threshold is not None:
            proposal_rows = [
                p for p in proposal_rows if p.score >= proposal_score_threshold
            ]
        source = boxes
    excluded_keys = set(
        _rows(excluded, "excluded", ava.read_ava_excluded, ava.parse_keyframe) or []
    )
    tables = _keyframe_tables(
        annotation_rows, proposal_rows, class_ids, keyframe_range, excluded_keys
    )
    if not tables:
        raise ValueError(
            f"No keyframe left in {source} (keyframe_range={keyframe_range}, "
            f"{len(excluded_keys)} excluded, proposal_score_threshold="
            f"{proposal_score_threshold})."
        )
    keyframes = list(tables)
    if not isinstance(source, (str, os.PathLike)):
        source = "the given rows"
    videos = _video_paths(
        video_dir, dict.fromkeys(k.video_id for k in keyframes), source
    )
    most = max(len(t[0]) for t in tables.values())
    if max_boxes is None:
        max_boxes = max(most, 1)
    elif isinstance(max_boxes, bool) or int(max_boxes) != max_boxes or max_boxes < 1:
        raise ValueError(
            "`max_boxes` must be a positive integer or None. "
            f"Received: max_boxes={max_boxes}"
        )
    max_boxes = int(max_boxes)
    if most > max_boxes:
        over = [k for k, t in tables.items() if len(t[0]) > max_boxes]
        dropped = sum(len(tables[k][0]) - max_boxes for k in over)
        warnings.warn(
            f"{len(over)} keyframes have more than max_boxes={max_boxes} boxes; "
            f"their last {dropped} boxes are left out (first: {over[0]}).",
            UserWarning,
            stacklevel=2,
        )
    seed = pipeline.resolve_seed(seed, shuffle)
    loader = KeyframeLoader(
        keyframes, [videos[k.video_id] for k in keyframes],
        [tables[k][0][:max_boxes] for k in keyframes],
        [tables[k][1][:max_boxes] for k in keyframes],
        [tables[k][2][:max_boxes] for k in keyframes],
        settings, max_boxes, augment, full_frame, time_offset, backend, on_error,
        decode_timeout,
    )  # fmt: skip
    num_classes = len(class_ids)
    video_ids = tf.constant([k.video_id for k in keyframes])
    timestamps = tf.constant([k.timestamp for k in keyframes], tf.int32)

    ds = tf.data.Dataset.range(len(keyframes))
    if shuffle:
        ds = ds.shuffle(len(keyframes), seed=seed, reshuffle_each_iteration=True)
    ds = tf.data.Dataset.zip((ds, pipeline.element_seeds(seed)))
    shapes = (
        (settings.clip_length, *settings.image_size, 3), (max_boxes, 4),
        (max_boxes, num_classes), (max_boxes,), (max_boxes, 4), (max_boxes,), (),
    )  # fmt: skip

    def load(index, element_seed):
        parts = tf.numpy_function(
            loader, [index, element_seed], [tf.float32] * 6 + [tf.bool], stateful=False
        )
        for part, shape in zip(parts, shapes, strict=True):
            part.set_shape(shape)
        return index, tuple(parts)

    deterministic = seed is not None or not shuffle
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    if on_error == "skip":
        ds = ds.filter(lambda index, parts: parts[-1])

    def output(index, parts):
        clip, boxes_px, labels, mask, source_boxes, scores, _ = parts
        element = ({"clip": clip, "boxes": boxes_px}, labels, mask)
        if with_metadata:
            metadata = {
                "video_id": tf.gather(video_ids, index),
                "timestamp": tf.gather(timestamps, index),
                "source_boxes": source_boxes,
                "scores": scores,
            }
            element += (metadata,)
        return element

    ds = ds.map(output)
    if batch_size is not None:
        ds = ds.batch(batch_size)
    ds = ds.prefetch(tf.data.AUTOTUNE)
    ds.class_ids = class_ids
    ds.class_names = class_names
    ds.keyframes = keyframes
    ds.file_paths = list(loader.paths)
    ds.max_boxes = max_boxes
    ds.skipped_files = loader.skipped
    return ds
