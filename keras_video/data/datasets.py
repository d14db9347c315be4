"""tf.data datasets of clips from video files.

`video_dataset_from_directory` takes the arguments of
`keras.utils.image_dataset_from_directory` and behaves the same way for them;
`video_dataset_from_csv` reads Kinetics-style lists; `video_test_dataset_*` yield
every test clip of every video with its video id, for video-level accuracy.

How a clip is made: the file list is shuffled (with `seed`), each video is opened
with `VideoReader` in a `tf.numpy_function` running in parallel
(`num_parallel_calls=AUTOTUNE`), `num_clips` clips are sampled (`samplers`), only
their frames are decoded, then the clips are resized, cropped and optionally
flipped with the TF ops of `transforms`. Each element gets its own seed from
`tf.data.Dataset.random(seed)` drawn in file order, before the parallel map, so a
given `seed` gives the same clips in every epoch sequence whatever the thread
timing (the map is `deterministic=True` when a seed is given).

Bad files (`on_error`): `"raise"` stops with an error naming the file;
`"skip"` drops that video's element (no other file's frames are ever put in its
place, so labels always stay with their clips), records it in the dataset's
`skipped_files` (`SkippedFiles`), and logs one warning line on the
`keras_video.data` logger at the end of each epoch in which files were skipped.
"""

import csv
import logging
import os
import threading

import numpy as np
import tensorflow as tf

from keras_video.data import samplers, transforms

logger = logging.getLogger("keras_video.data")

VIDEO_FORMATS = (
    ".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv",
    ".flv", ".ogv", ".3gp",
)  # fmt: skip
ON_ERROR = ("raise", "skip")
CLIP_SAMPLING = ("random", "uniform")


class SkippedFiles:
    """The bad files a dataset skipped (`on_error="skip"`), thread-safe.

    Attributes:
        files: dict path -> error message, every file skipped so far.
        count: number of skip events (a file skipped in two epochs counts twice).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.files = {}
        self.count = 0
        self._epoch = []

    def record(self, path, error):
        with self._lock:
            self.files[path] = f"{type(error).__name__}: {error}"
            self.count += 1
            self._epoch.append(path)

    def end_epoch(self):
        """Logs one line naming the files skipped since the last call; returns them."""
        with self._lock:
            skipped, self._epoch = self._epoch, []
        if skipped:
            logger.warning(
                "keras_video: skipped %d bad video file(s) this epoch: %s",
                len(skipped),
                ", ".join(sorted(set(skipped))),
            )
        return skipped

    def __len__(self):
        return len(self.files)

    def __repr__(self):
        return f"SkippedFiles({sorted(self.files)})"


# --------------------------------------------------------------------- listing


def _index_directory(directory, labels, class_names, follow_links, formats):
    """Like `keras.src.utils.dataset_utils.index_directory`, without shuffling."""
    if not os.path.isdir(directory):
        raise ValueError(f"`directory` does not exist: {directory}")
    if labels == "inferred":
        subdirs = [
            d
            for d in sorted(os.listdir(directory))
            if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")
        ]
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError(
                    "The `class_names` passed did not match the names of the "
                    f"subdirectories of the target directory. Expected: {subdirs} "
                    f"(or a subset of it), but received: class_names={class_names}"
                )
            subdirs = list(class_names)
    else:
        subdirs = [""]
    files, file_labels = [], []
    for label, subdir in enumerate(subdirs):
        root_dir = os.path.join(directory, subdir)
        walk = os.walk(root_dir, followlinks=follow_links)
        for root, _, names in sorted(walk, key=lambda x: x[0]):
            for name in sorted(names):
                if name.lower().endswith(formats):
                    files.append(os.path.join(root, name))
                    file_labels.append(label)
    if labels == "inferred":
        return files, np.asarray(file_labels, np.int32), list(subdirs)
    if labels is None:
        return files, None, None
    if len(labels) != len(files):
        raise ValueError(
            "Expected the lengths of `labels` to match the number of files in the "
            f"target directory. len(labels) is {len(labels)} while we found "
            f"{len(files)} files in directory {directory}."
        )
    class_names = [str(label) for label in sorted(set(labels))]
    return files, np.asarray(labels, np.int32), class_names


def _check_common_args(
    label_mode, image_size, batch_size, clip_length, num_clips, on_error,
    validation_split, subset, shuffle, seed, shard,
):  # fmt: skip
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError(
            '`label_mode` argument must be one of "int", "categorical", "binary", '
            f"or None. Received: label_mode={label_mode}"
        )
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    if not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(
            "Invalid `image_size` value. Expected a tuple of 2 integers. "
            f"Received: image_size={image_size}"
        )
    if batch_size is not None and (int(batch_size) != batch_size or batch_size < 1):
        raise ValueError(
            f"`batch_size` must be a positive integer or None. Received: "
            f"batch_size={batch_size}"
        )
    if int(clip_length) != clip_length or clip_length < 1:
        raise ValueError(
            "`clip_length` must be a positive integer. "
            f"Received: clip_length={clip_length}"
        )
    if int(num_clips) != num_clips or num_clips < 1:
        raise ValueError(
            f"`num_clips` must be a positive integer. Received: num_clips={num_clips}"
        )
    if on_error not in ON_ERROR:
        raise ValueError(
            f"`on_error` must be one of {ON_ERROR}. Received: on_error={on_error!r}"
        )
    # The checks (and messages) of keras' dataset_utils.check_validation_split_arg.
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(
            f"`validation_split` must be between 0 and 1, received: {validation_split}"
        )
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError(
            "If `subset` is set, `validation_split` must be set, and inversely."
        )
    if subset not in ("training", "validation", "both", None):
        raise ValueError(
            '`subset` must be either "training", "validation" or "both", '
            f"received: {subset}"
        )
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide a "
            "`seed` argument, to make sure that there is no overlap between the "
            "training and validation subset."
        )
    if shard is not None:
        if (
            not isinstance(shard, (list, tuple))
            or len(shard) != 2
            or not 0 <= shard[1] < shard[0]
        ):
            raise ValueError(
                "`shard` must be (num_shards, index) with 0 <= index < num_shards. "
                f"Received: shard={shard}"
            )
        if shuffle and seed is None:
            raise ValueError(
                "Sharding a shuffled file list needs the same `seed` on every "
                "worker, so the shards are disjoint. Received: seed=None"
            )
    return tuple(int(s) for s in image_size)


def _split(paths, labels, validation_split, subset):
    """keras' get_training_or_validation_split: validation is the last files."""
    if not validation_split:
        return paths, labels
    num_val = int(validation_split * len(paths))
    if subset == "training":
        logger.info("Using %d files for training.", len(paths) - num_val)
        sl = slice(None, len(paths) - num_val)
    else:
        logger.info("Using %d files for validation.", num_val)
        sl = slice(len(paths) - num_val, None)
    return paths[sl], (None if labels is None else labels[sl])


def _global_shuffle(seed, paths, *arrays):
    """One seeded permutation applied to `paths` and every array (`None` stays)."""
    order = np.random.RandomState(seed).permutation(len(paths))
    return [[paths[i] for i in order]] + [
        None if a is None else a[order] for a in arrays
    ]


# --------------------------------------------------------------------- decoding


class _ClipSpec:
    """What to decode: picklable settings used in the numpy_function."""

    def __init__(
        self, clip_length, frame_step, target_fps, num_clips, clip_sampling,
        short_video, backend, on_error,
    ):  # fmt: skip
        self.clip_length = int(clip_length)
        self.frame_step = frame_step
        self.target_fps = target_fps
        self.num_clips = int(num_clips)
        self.clip_sampling = clip_sampling
        self.short_video = short_video
        self.backend = backend
        self.on_error = on_error
        self.skipped = SkippedFiles()
        # Frames with a shorter side over twice this are shrunk with OpenCV
        # (INTER_AREA, which averages: no aliasing) right after decoding; the
        # TF crop-and-resize then samples a window at most 2x its output.
        self.max_short_side = None

    def indices(self, num_frames, fps, seed, path):
        kw = dict(
            target_fps=self.target_fps,
            fps=fps,
            short_video=self.short_video,
            path=path,
        )
        if self.clip_sampling == "uniform":
            clips = samplers.uniform_clips(
                num_frames, self.clip_length, self.num_clips, self.frame_step, **kw
            )
        else:
            rng = np.random.default_rng(np.asarray(seed).astype(np.uint64))
            clips = [
                samplers.random_clip(
                    num_frames, self.clip_length, self.frame_step, seed=rng, **kw
                )
                for _ in range(self.num_clips)
            ]
        return np.stack([c.frame_indices for c in clips])

    def decode(self, path, seed, segment=None):
        """`(num_clips, clip_length, h, w, 3)` uint8 and an ok flag.

        `segment`: `(start, end)` seconds (NaN: open end) to sample within.
        """
        from keras_video.data.errors import VideoDecodeError
        from keras_video.data.video_reader import VideoReader

        path = path.decode() if isinstance(path, bytes) else str(path)
        try:
            with VideoReader(path, backend=self.backend) as reader:
                first, last = self._frame_range(reader, segment, path)
                idx = first + self.indices(last - first, reader.fps, seed, path)
                frames = reader.get_frames(idx.ravel())
            if frames.shape[0] != idx.size or frames.shape[1] < 1:
                raise VideoDecodeError(
                    f"{path} decoded to {frames.shape[0]} frames, {idx.size} asked.",
                    path,
                )
            frames = self._shrink(frames)
            return frames.reshape(idx.shape + frames.shape[1:]), True
        except Exception as error:  # noqa: BLE001 - reported, never silent
            if self.on_error == "raise":
                if path in str(error):
                    raise
                raise VideoDecodeError(
                    f"Could not read a clip from {path}: {type(error).__name__}: "
                    f"{error}",
                    path,
                ) from error
            self.skipped.record(path, error)
            return np.zeros(
                (self.num_clips, self.clip_length, 1, 1, 3), np.uint8
            ), False

    @staticmethod
    def _frame_range(reader, segment, path):
        n = reader.num_frames
        if segment is None or np.all(np.isnan(segment)):
            return 0, n
        start, end = (float(v) for v in segment)
        first = 0 if np.isnan(start) else int(np.floor(start * reader.fps + 1e-6))
        last = n if np.isnan(end) else min(n, int(np.ceil(end * reader.fps - 1e-6)))
        if first >= last:
            raise ValueError(
                f"Segment start={start}, end={end} s is outside {path} "
                f"({n} frames at {reader.fps:g} fps)."
            )
        return first, last

    def _shrink(self, frames):
        h, w = frames.shape[1:3]
        if self.max_short_side is None or min(h, w) <= 2 * self.max_short_side:
            return frames
        import cv2

        scale = self.max_short_side / min(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        return np.stack(
            [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
        )


def _element_seeds(seed):
    """A (2,) int64 seed per element, drawn in order, new ones each epoch."""
    return tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(
        2, drop_remainder=True
    )


def _spatial(clips, seed, image_size, short_side, augment, interpolation):
    """Resize short side, crop to `image_size`, maybe flip; float32 in [0, 255].

    Resize, crop and flip are one `transforms.short_side_crop`: only the window
    that becomes the crop is resized.
    """
    squeeze = clips.shape[0] == 1  # one clip per video: skip the per-clip map_fn
    if squeeze:
        clips = clips[0]
    if augment:
        side_range = (short_side, int(round(short_side * 1.25)))
        out = transforms.short_side_crop(
            clips, image_size, side_range, seed, 0.5, interpolation
        )
    else:
        out = transforms.short_side_crop(
            clips, image_size, short_side, None, 0.0, interpolation
        )
    return out[None] if squeeze else out


def _encode_labels(labels, label_mode, num_classes):
    if label_mode == "int":
        return tf.cast(labels, tf.int32)
    if label_mode == "categorical":
        return tf.one_hot(labels, num_classes, dtype=tf.float32)
    return tf.expand_dims(tf.cast(labels, tf.float32), -1)  # binary


def _build(
    paths, labels, *, spec, image_size, short_side, augment, interpolation,
    label_mode, num_classes, batch_size, shuffle, seed, shard, with_video_id=False,
    num_crops=1, segments=None,
):  # fmt: skip
    """paths + labels (+ segments, `(n, 2)` seconds, NaN: open) -> the dataset."""
    spec.max_short_side = int(round(short_side * 1.25)) if augment else short_side
    video_ids = np.arange(len(paths), dtype=np.int32)
    if shard is not None:
        num_shards, index = shard
        paths = paths[index::num_shards]
        labels = None if labels is None else labels[index::num_shards]
        video_ids = video_ids[index::num_shards]
        segments = None if segments is None else segments[index::num_shards]
    if not paths:
        raise ValueError("No video files to read (after splitting and sharding).")
    label_array = np.zeros(len(paths), np.int32) if labels is None else labels
    if segments is None:
        segments = np.full((len(paths), 2), np.nan, np.float32)
    ds = tf.data.Dataset.from_tensor_slices(
        (
            tf.constant(paths),
            tf.constant(label_array),
            tf.constant(video_ids),
            tf.constant(np.asarray(segments, np.float32)),
        )
    )
    if shuffle:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    ds = tf.data.Dataset.zip((ds, _element_seeds(seed)))
    deterministic = seed is not None or not shuffle
    clip_length = spec.clip_length
    num_clips = spec.num_clips

    def decode(element, elem_seed):
        path, label, vid, segment = element
        clips, ok = tf.numpy_function(
            spec.decode, [path, elem_seed, segment], [tf.uint8, tf.bool]
        )
        clips.set_shape((num_clips, clip_length, None, None, 3))
        ok.set_shape(())
        return clips, label, vid, elem_seed, ok

    ds = ds.map(
        decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic
    )
    ds = _finish(
        ds, spec=spec, image_size=image_size, short_side=short_side, augment=augment,
        interpolation=interpolation, label_mode=label_mode, num_classes=num_classes,
        batch_size=batch_size, deterministic=deterministic, shard=shard,
        with_video_id=with_video_id, num_crops=num_crops,
    )  # fmt: skip
    ds.file_paths = list(paths)
    return ds


def _finish(
    ds, *, spec, image_size, short_side, augment, interpolation, label_mode,
    num_classes, batch_size, deterministic, shard, with_video_id=False, num_crops=1,
):  # fmt: skip
    """Decoded `(clips, label, video_id, seed, ok)` elements -> the final dataset.

    `clips` is uint8 `(num_clips, clip_length, h, w, 3)` of one video.
    """
    clip_length = spec.clip_length
    num_clips = spec.num_clips
    if spec.on_error == "skip":
        ds = ds.filter(lambda clips, label, vid, elem_seed, ok: ok)

    def spatial(clips, label, vid, elem_seed, ok):
        if num_crops == 3:
            clips = transforms.resize_short_side(clips, short_side, interpolation)
            crops = transforms.three_crop(clips, image_size)  # (n, 3, t, h, w, c)
            clips = tf.reshape(crops, (num_clips * 3, clip_length, *image_size, 3))
            clips = tf.cast(clips, tf.float32)
        else:
            clips = _spatial(
                clips, elem_seed, image_size, short_side, augment, interpolation
            )
        if one_clip:  # one clip per element: no unbatch (it copies the clip)
            clips = tf.reshape(clips, (clip_length, *image_size, 3))
            return clips, label, vid
        clips.set_shape((None, clip_length, *image_size, 3))
        n = tf.shape(clips)[0]
        return clips, tf.fill([n], label), tf.fill([n], vid)

    one_clip = num_clips == 1 and num_crops == 1
    ds = ds.map(
        spatial, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic
    )
    if not one_clip:
        ds = ds.unbatch()

    if spec.on_error == "skip":
        # Runs once the epoch's elements are exhausted: the per-epoch log line.
        def end_of_epoch(_):
            done = tf.numpy_function(
                lambda: np.bool_(len(spec.skipped.end_epoch()) < 0),
                [],
                tf.bool,
                stateful=True,
            )
            done.set_shape(())
            return done

        dummy = (
            tf.zeros((clip_length, *image_size, 3), tf.float32),
            tf.zeros((), tf.int32),
            tf.zeros((), tf.int32),
        )
        tail = tf.data.Dataset.range(1).filter(end_of_epoch).map(lambda _: dummy)
        ds = ds.concatenate(tail)

    if with_video_id:
        if label_mode is None:
            ds = ds.map(lambda c, lab, v: (c, v))
        else:
            ds = ds.map(
                lambda c, lab, v: (c, _encode_labels(lab, label_mode, num_classes), v)
            )
    elif label_mode is None:
        ds = ds.map(lambda c, lab, v: c)
    else:
        ds = ds.map(lambda c, lab, v: (c, _encode_labels(lab, label_mode, num_classes)))
    if batch_size is not None:
        ds = ds.batch(batch_size)
    ds = ds.prefetch(tf.data.AUTOTUNE)
    if shard is not None:
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.OFF
        )
        ds = ds.with_options(options)
    ds.skipped_files = spec.skipped
    return ds


# --------------------------------------------------------------------- public API


def _make_datasets(
    paths, labels, class_names, *, label_mode, batch_size, clip_length, frame_step,
    target_fps, image_size, short_side, augment, interpolation, shuffle, seed,
    validation_split, subset, num_clips, clip_sampling, short_video, on_error,
    shard, backend, source, segments=None,
):  # fmt: skip
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(
            'When passing `label_mode="binary"`, there must be exactly 2 '
            f"class_names. Received: class_names={class_names}"
        )
    if interpolation not in transforms.INTERPOLATIONS:
        raise ValueError(
            f"`interpolation` must be one of {transforms.INTERPOLATIONS}. "
            f"Received: interpolation={interpolation!r}"
        )
    if clip_sampling is not None and clip_sampling not in CLIP_SAMPLING:
        raise ValueError(
            f"`clip_sampling` must be one of {CLIP_SAMPLING} or None. "
            f"Received: clip_sampling={clip_sampling!r}"
        )
    samplers.resolve_frame_step(frame_step, target_fps, fps=30.0)  # checks only
    if short_side is None:
        short_side = max(image_size)
    if short_side < max(image_size):
        raise ValueError(
            "`short_side` must be at least the largest side of `image_size`, so the "
            f"crop fits. Received: short_side={short_side}, image_size={image_size}"
        )
    if target_fps is not None and frame_step == 2:
        frame_step = None  # the default step yields to target_fps
    num_classes = len(class_names) if class_names else 0

    def one(subset_name, shuffle_this):
        sub_paths, rows = _split(
            paths, np.arange(len(paths)), validation_split, subset_name
        )
        sub_labels = None if labels is None else labels[rows]
        sub_segments = None if segments is None else segments[rows]
        if not sub_paths:
            raise ValueError(
                f"No {subset_name or ''} video files found in {source}. "
                f"Allowed formats: {VIDEO_FORMATS}"
            )
        sampling = clip_sampling or ("random" if shuffle_this else "uniform")
        spec = _ClipSpec(
            clip_length, frame_step, target_fps, num_clips, sampling, short_video,
            backend, on_error,
        )  # fmt: skip
        ds = _build(
            sub_paths, sub_labels, spec=spec, image_size=image_size,
            short_side=short_side, augment=augment, interpolation=interpolation,
            label_mode=label_mode, num_classes=num_classes, batch_size=batch_size,
            shuffle=shuffle_this, seed=seed, shard=shard, segments=sub_segments,
        )  # fmt: skip
        ds.class_names = class_names
        return ds

    if subset == "both":
        return one("training", shuffle), one("validation", False)
    return one(subset, shuffle)


def video_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=8,
    clip_length=16,
    frame_step=2,
    target_fps=None,
    image_size=(224, 224),
    short_side=None,
    augment=False,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    num_clips=1,
    clip_sampling=None,
    short_video="loop",
    on_error="raise",
    shard=None,
    interpolation="bilinear",
    follow_links=False,
    backend="auto",
    verbose=True,
):
    """Generates a `tf.data.Dataset` of clips from video files in a directory.

    Arguments shared with `keras.utils.image_dataset_from_directory` behave the
    same: with `directory/class_a/*.mp4` and `directory/class_b/*.mp4`, labels are
    0 and 1 (sorted subfolders, or the order of `class_names`); the file list is
    shuffled with `seed`; `validation_split` keeps the last files for
    validation, so the same seed gives disjoint training and validation sets;
    the returned dataset has `class_names` and `file_paths` attributes (and
    `skipped_files`, see `on_error`).

    Args:
        directory: folder of videos (in class subfolders if `labels="inferred"`).
        labels: `"inferred"`, `None`, or a list of int labels in the sorted order
            of the file paths.
        label_mode: `"int"`, `"categorical"`, `"binary"` or `None`.
        class_names: explicit class subfolders and their order.
        batch_size: clips per batch, or `None` for unbatched clips.
        clip_length: frames per clip.
        frame_step: step between clip frames, in source frames.
        target_fps: read at this frame rate instead (`frame_step` then ignored
            unless set explicitly to something other than its default).
        image_size: `(height, width)` of the output frames.
        short_side: frames are resized so their shorter side is this (default
            `max(image_size)`), then cropped to `image_size`.
        augment: `False`: centre crop. `True`: scale jitter (short side uniform in
            `[short_side, 1.25 * short_side]`), random crop and horizontal flip,
            the same for all frames of a clip.
        shuffle: shuffle the files (each epoch); `False` sorts them.
        seed: random seed for shuffling, clip positions and augmentation.
        validation_split: fraction of files for validation.
        subset: `"training"`, `"validation"` or `"both"` (returns a tuple).
        num_clips: clips per video per epoch (decoded in one pass over the video).
        clip_sampling: `"random"` or `"uniform"` (evenly spaced); default random
            when shuffling, uniform otherwise (and for the validation set of
            `subset="both"`).
        short_video: `"loop"`, `"pad"` or `"error"`, for videos shorter than a clip.
        on_error: `"raise"` or `"skip"` bad files (see the module docstring).
        shard: `(num_shards, index)`: keep only this worker's files (after the
            seeded shuffle, so shards are disjoint and cover all files); see
            `shard_for_input_context` and `shard_for_process`.
        interpolation: resize method, `"bilinear"`, `"nearest"`, `"bicubic"`,
            `"area"`.
        follow_links: follow symlinked subfolders.
        backend: `VideoReader` backend, `"auto"`, `"opencv"` or `"pyav"`.
        verbose: print how many files and classes were found.

    Returns:
        a `tf.data.Dataset` of `(clips, labels)`; clips are float32
        `(batch_size, clip_length, height, width, 3)` in `[0, 255]`; labels are
        int32 `(batch_size,)`, float32 `(batch_size, num_classes)` (categorical)
        or float32 `(batch_size, 1)` (binary). With `label_mode=None`, clips only.
        With `subset="both"`, a tuple `(train_ds, val_ds)`.

    Raises:
        ValueError: a bad argument (named in the message) or no files found.

    Example:
    ```python
    train_ds, val_ds = video_dataset_from_directory(
        "ucf101/train", clip_length=16, frame_step=2, image_size=(112, 112),
        validation_split=0.2, subset="both", seed=1337)
    ```
    """
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the "
                "same size as the number of video files in the target directory. "
                "If you wish to infer the labels from the subdirectory names in the "
                'target directory, pass `labels="inferred"`. If you wish to get a '
                "dataset that only contains clips (no labels), pass `labels=None`. "
                f"Received: labels={labels}"
            )
        if class_names:
            raise ValueError(
                'You can only pass `class_names` if `labels="inferred"`. '
                f"Received: labels={labels}, and class_names={class_names}"
            )
    if labels is None and class_names is not None:
        raise ValueError(
            "When `labels=None` (no labels), argument `class_names` cannot be "
            "specified."
        )
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    image_size = _check_common_args(
        label_mode, image_size, batch_size, clip_length, num_clips, on_error,
        validation_split, subset, shuffle, seed, shard,
    )  # fmt: skip
    if seed is None:
        seed = np.random.randint(1e6) if shuffle else 0
    paths, file_labels, class_names = _index_directory(
        directory, labels, class_names, follow_links, VIDEO_FORMATS
    )
    if verbose:
        if file_labels is None or label_mode is None:
            print(f"Found {len(paths)} files.")
        else:
            print(f"Found {len(paths)} files belonging to {len(class_names)} classes.")
    if label_mode is None:
        file_labels = None
    if shuffle:
        paths, file_labels = _global_shuffle(seed, paths, file_labels)
    return _make_datasets(
        paths, file_labels, class_names, label_mode=label_mode,
        batch_size=batch_size, clip_length=clip_length, frame_step=frame_step,
        target_fps=target_fps, image_size=image_size, short_side=short_side,
        augment=augment, interpolation=interpolation, shuffle=shuffle, seed=seed,
        validation_split=validation_split, subset=subset, num_clips=num_clips,
        clip_sampling=clip_sampling, short_video=short_video, on_error=on_error,
        shard=shard, backend=backend, source=directory,
    )  # fmt: skip


def read_video_csv(csv_path, class_names=None):
    """Reads a Kinetics-style list: `path,label[,start,end]` per line.

    A first line `path,label...` is taken as a header. Relative paths are resolved
    against the CSV file's folder. Labels are class names (mapped through the
    sorted set of names, or `class_names`) or integers. `start`/`end` (seconds)
    are read and returned; an empty field means the whole video.

    Args:
        csv_path: the list file.
        class_names: optional explicit class order.

    Returns:
        `(paths, labels, class_names, segments)`; `labels` int32 array,
        `segments` a list of `(start, end)` (floats or `None`).

    Raises:
        ValueError: a malformed line, naming the file and line number, or a label
            not in `class_names`.
    """
    base = os.path.dirname(os.path.abspath(csv_path))
    rows = []
    with open(csv_path, newline="") as f:
        for line_number, row in enumerate(csv.reader(f), start=1):
            if not row or all(not c.strip() for c in row) or row[0].startswith("#"):
                continue
            row = [c.strip() for c in row]
            if line_number == 1 and row[0].lower() in ("path", "file", "video"):
                continue
            if len(row) not in (2, 4) or not row[0] or not row[1]:
                raise ValueError(
                    f"{csv_path}, line {line_number}: expected `path,label` or "
                    f"`path,label,start,end`. Received: {','.join(row)!r}"
                )
            segment = (None, None)
            if len(row) == 4:
                try:
                    segment = tuple(float(v) if v else None for v in row[2:])
                except ValueError:
                    raise ValueError(
                        f"{csv_path}, line {line_number}: start and end must be "
                        f"numbers (seconds). Received: {row[2]!r}, {row[3]!r}"
                    ) from None
                if None not in segment and segment[1] <= segment[0]:
                    raise ValueError(
                        f"{csv_path}, line {line_number}: end must be after start. "
                        f"Received: start={segment[0]}, end={segment[1]}"
                    )
            path = row[0] if os.path.isabs(row[0]) else os.path.join(base, row[0])
            rows.append((path, row[1], segment, line_number))
    if not rows:
        raise ValueError(f"No videos listed in {csv_path}.")
    names = [r[1] for r in rows]
    if class_names is None:
        if all(n.lstrip("-").isdigit() for n in names):
            class_names = [str(i) for i in sorted({int(n) for n in names})]
            mapping = {n: int(n) for n in names}
        else:
            class_names = sorted(set(names))
            mapping = {n: i for i, n in enumerate(class_names)}
    else:
        class_names = list(class_names)
        mapping = {n: i for i, n in enumerate(class_names)}
        for _, name, _, line_number in rows:
            if name not in mapping:
                raise ValueError(
                    f"{csv_path}, line {line_number}: label {name!r} is not in "
                    f"class_names={class_names}"
                )
    labels = np.asarray([mapping[n] for n in names], np.int32)
    return [r[0] for r in rows], labels, class_names, [r[2] for r in rows]


def video_dataset_from_csv(
    csv_path,
    label_mode="int",
    class_names=None,
    batch_size=8,
    clip_length=16,
    frame_step=2,
    target_fps=None,
    image_size=(224, 224),
    short_side=None,
    augment=False,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    num_clips=1,
    clip_sampling=None,
    short_video="loop",
    on_error="raise",
    shard=None,
    interpolation="bilinear",
    backend="auto",
    verbose=True,
):
    """A clip dataset from a Kinetics-style CSV list (`path,label[,start,end]`).

    Arguments as in `video_dataset_from_directory`; the list replaces the folder
    walk (see `read_video_csv` for the format). With `start,end` (seconds), clips
    are sampled from that segment only (frames `floor(start * fps)` to
    `ceil(end * fps) - 1`); without them, from the whole video.

    Returns:
        as `video_dataset_from_directory`.

    Raises:
        ValueError: a bad argument, or a bad CSV line (file and line number).
    """
    image_size = _check_common_args(
        label_mode, image_size, batch_size, clip_length, num_clips, on_error,
        validation_split, subset, shuffle, seed, shard,
    )  # fmt: skip
    paths, labels, class_names, segments = read_video_csv(csv_path, class_names)
    segments = np.asarray(
        [[np.nan if v is None else v for v in seg] for seg in segments], np.float32
    )
    if verbose:
        print(f"Found {len(paths)} files belonging to {len(class_names)} classes.")
    if label_mode is None:
        labels = None
    if seed is None:
        seed = np.random.randint(1e6) if shuffle else 0
    if shuffle:
        paths, labels, segments = _global_shuffle(seed, paths, labels, segments)
    return _make_datasets(
        paths, labels, class_names, label_mode=label_mode, segments=segments,
        batch_size=batch_size, clip_length=clip_length, frame_step=frame_step,
        target_fps=target_fps, image_size=image_size, short_side=short_side,
        augment=augment, interpolation=interpolation, shuffle=shuffle, seed=seed,
        validation_split=validation_split, subset=subset, num_clips=num_clips,
        clip_sampling=clip_sampling, short_video=short_video, on_error=on_error,
        shard=shard, backend=backend, source=csv_path,
    )  # fmt: skip


def video_test_dataset(
    paths,
    labels=None,
    class_names=None,
    label_mode="int",
    batch_size=8,
    clip_length=16,
    frame_step=2,
    target_fps=None,
    image_size=(224, 224),
    short_side=None,
    num_clips=10,
    num_crops=1,
    short_video="loop",
    on_error="raise",
    shard=None,
    interpolation="bilinear",
    backend="auto",
):
    """Every test clip of every video, with its video id (multi-clip x multi-crop).

    Each video gives `num_clips` evenly spaced clips times `num_crops` crops
    (1: centre; 3: start/centre/end of the longer side after resizing the shorter
    side to `short_side`), in file order. Average the predictions of the clips
    with the same video id (`aggregate_video_predictions`) for video-level
    accuracy.

    Args:
        paths: video files (e.g. `ds.file_paths` of a validation dataset).
        labels: int labels per file, or `None`.
        num_clips: clips per video.
        num_crops: 1 or 3.
        others: as in `video_dataset_from_directory`.

    Returns:
        a `tf.data.Dataset` of `(clips, labels, video_ids)` (or `(clips,
        video_ids)` without labels); `video_ids` are int32 indices into `paths`.
        Use `ds.map(lambda x, y, v: x)` for `model.predict`.
    """
    if num_crops not in (1, 3):
        raise ValueError(f"`num_crops` must be 1 or 3. Received: num_crops={num_crops}")
    if labels is None:
        label_mode = None
    image_size = _check_common_args(
        label_mode, image_size, batch_size, clip_length, num_clips, on_error,
        None, None, False, 0, shard,
    )  # fmt: skip
    paths = [os.fspath(p) for p in paths]
    if labels is not None:
        if len(labels) != len(paths):
            raise ValueError(
                f"`labels` must have one label per path: {len(labels)} labels for "
                f"{len(paths)} paths."
            )
        labels = np.asarray(labels, np.int32)
    if short_side is None:
        short_side = max(image_size)
    if target_fps is not None and frame_step == 2:
        frame_step = None
    spec = _ClipSpec(
        clip_length, frame_step, target_fps, num_clips, "uniform", short_video,
        backend, on_error,
    )  # fmt: skip
    num_classes = (
        len(class_names)
        if class_names
        else (int(labels.max()) + 1 if labels is not None else 0)
    )
    ds = _build(
        paths, labels, spec=spec, image_size=image_size, short_side=short_side,
        augment=False, interpolation=interpolation, label_mode=label_mode,
        num_classes=num_classes, batch_size=batch_size, shuffle=False, seed=0,
        shard=shard, with_video_id=True, num_crops=num_crops,
    )  # fmt: skip
    ds.class_names = class_names
    return ds


def video_test_dataset_from_directory(
    directory, class_names=None, verbose=True, **kwargs
):
    """`video_test_dataset` over `directory/<class>/*` (labels inferred).

    `kwargs` are those of `video_test_dataset`.

    Returns:
        the dataset of `video_test_dataset`; `ds.file_paths[video_id]` names
        the video of a clip.
    """
    paths, labels, class_names = _index_directory(
        directory, "inferred", class_names, False, VIDEO_FORMATS
    )
    if not paths:
        raise ValueError(f"No video files found in {directory}.")
    if verbose:
        print(f"Found {len(paths)} files belonging to {len(class_names)} classes.")
    return video_test_dataset(paths, labels, class_names=class_names, **kwargs)


def aggregate_video_predictions(predictions, video_ids, num_videos=None):
    """Averages clip predictions per video.

    Args:
        predictions: `(num_clips_total, num_classes)` scores.
        video_ids: `(num_clips_total,)` ints.
        num_videos: output rows (default `max(video_ids) + 1`).

    Returns:
        `(num_videos, num_classes)` mean score per video (zeros for a video
        with no clips, e.g. one skipped as bad).
    """
    predictions = np.asarray(predictions, np.float64)
    video_ids = np.asarray(video_ids).astype(np.int64).ravel()
    if num_videos is None:
        num_videos = int(video_ids.max()) + 1
    sums = np.zeros((num_videos, predictions.shape[-1]))
    np.add.at(sums, video_ids, predictions)
    counts = np.bincount(video_ids, minlength=num_videos)[:, None]
    return sums / np.maximum(counts, 1)


# --------------------------------------------------------------------- sharding


def shard_for_input_context(input_context):
    """`shard` for `tf.distribute.InputContext` (`distribute_datasets_from_function`).

    Example:
    ```python
    def dataset_fn(ctx):
        return video_dataset_from_directory(
            "train", seed=1, shard=shard_for_input_context(ctx),
            batch_size=ctx.get_per_replica_batch_size(64))
    ds = strategy.distribute_datasets_from_function(dataset_fn)
    ```
    """
    return (input_context.num_input_pipelines, input_context.input_pipeline_id)


def shard_for_process(process_index=None, process_count=None):
    """`shard` for `keras.distribution` multi-process training (one per host).

    Args:
        process_index, process_count: this process and how many; by default read
            from JAX (`jax.process_index()`, `jax.process_count()`) on the JAX
            backend, else `(0, 1)`... i.e. a single process.

    Returns:
        `(num_shards, index)`.
    """
    if process_index is None or process_count is None:
        import keras

        if keras.backend.backend() == "jax":
            import jax

            process_index, process_count = jax.process_index(), jax.process_count()
        else:
            process_index, process_count = 0, 1
    return (int(process_count), int(process_index))
