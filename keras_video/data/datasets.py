"""tf.data datasets of clips from video files.

`video_dataset_from_directory` takes the arguments of
`keras.utils.image_dataset_from_directory` and behaves the same way for them;
`video_dataset_from_csv` reads Kinetics-style lists; `video_test_dataset_*` yield
every test clip of every video with its video id, for video-level accuracy.

Each function runs one way: check the arguments (the clip keywords become one
`ClipSettings`), list the files (`listing`), shuffle and split the list, and
hand it to the shared pipeline (`pipeline.video_clip_dataset`). How a clip is
made: each video is opened with `VideoReader` in a parallel map, the clips'
frame indices are sampled, only their frames are decoded (one pass for all
clips of the video), then the clips are resized, cropped and optionally flipped
with the TF ops of `transforms`.

Bad files (`on_error`): `"raise"` stops with an error naming the file;
`"skip"` drops that video's element (no other file's frames are ever put in its
place, so labels always stay with their clips), records it in the dataset's
`skipped_files` (`SkippedFiles`), and logs one warning line on the
`keras_video.data` logger at the end of each epoch in which files were skipped,
naming each file and its error.
"""

import os

import numpy as np

from keras_video.data import listing, pipeline
from keras_video.data.clip_loader import DEFAULT_DECODE_TIMEOUT, check_on_error
from keras_video.data.clip_settings import ClipSettings
from keras_video.data.flow_source import FlowSource, check_modality

VIDEO_FORMATS = listing.VIDEO_FORMATS


def _check_labels_args(labels, class_names):
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


def _training_datasets(
    videos, settings, *, source, label_mode, batch_size, shuffle, seed,
    validation_split, subset, augment, on_error, decode_timeout, shard, backend,
    verbose, modality, flow, service, processing_mode,
):  # fmt: skip
    """Shuffles, splits and builds one dataset per subset (a tuple for "both")."""
    pipeline.check_output_args(label_mode, batch_size, videos.class_names)
    if verbose:
        found = f"Found {len(videos)} files"
        if label_mode is not None and videos.class_names is not None:
            found += f" belonging to {len(videos.class_names)} classes"
        print(found + ".")
    if label_mode is None:
        videos = videos.without_labels()
    if shuffle:
        videos = videos.shuffled(seed)

    def one(subset_name, shuffle_this):
        subset_videos = videos.split(validation_split, subset_name)
        if not len(subset_videos):
            raise ValueError(
                f"No {subset_name or ''} video files found in {source}. "
                f"Allowed formats: {VIDEO_FORMATS}"
            )
        return pipeline.video_clip_dataset(
            subset_videos, settings, shuffle=shuffle_this, seed=seed,
            augment=augment, label_mode=label_mode, batch_size=batch_size,
            on_error=on_error, decode_timeout=decode_timeout, backend=backend,
            shard=shard, modality=modality, flow=flow, service=service,
            processing_mode=processing_mode,
        )  # fmt: skip

    if subset == "both":
        return one("training", shuffle), one("validation", False)
    return one(subset, shuffle)


def _flow_source(modality, flow_dir, flow_method, video_root):
    """The `FlowSource` of a dataset call (checked), `None` for RGB."""
    check_modality(modality, flow_dir)
    if modality == "rgb":
        return None
    return FlowSource(flow_dir and os.fspath(flow_dir), video_root, flow_method)


def _check_sampling_args(
    on_error, decode_timeout, validation_split, subset, shuffle, seed, shard
):
    check_on_error(on_error, decode_timeout)
    listing.check_split_args(validation_split, subset, shuffle, seed)
    listing.check_shard(shard, shuffle, seed)


def video_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=8,
    clip_length=16,
    frame_step=None,
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
    decode_timeout=DEFAULT_DECODE_TIMEOUT,
    modality="rgb",
    flow_dir=None,
    flow_method="dis",
    shard=None,
    interpolation="bilinear",
    follow_links=False,
    backend="auto",
    verbose=True,
    clip_settings=None,
    service=None,
    processing_mode="distributed_epoch",
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
        frame_step: step between clip frames, in source frames (default 2).
        target_fps: read at this frame rate instead of a fixed `frame_step`.
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
        decode_timeout: seconds one video's clips may take to decode before
            the file counts as bad (`DecodeTimeoutError`), or `None` to wait
            forever.
        modality: what a clip holds: `"rgb"` frames; `"flow"`, optical flow
            `(clip_length, h, w, 2)` (x, y in pixels; field `i` is the flow from
            frame `i` to `i + 1`), for I3D-style flow streams; `"stacked_flow"`,
            the same flow stacked on channels `(h, w, 2 * clip_length)` for 2D
            flow streams (the two-stream paper's L = 10: `clip_length=10,
            frame_step=1`); `"rgb+flow"`, the pair `(rgb, flow)` for
            `TwoStream`. Crops and flips are the same for both streams; a flip
            negates flow x. See `keras_video.data.flow_source`.
        flow_dir: precomputed flow (`keras-video flow DIRECTORY FLOW_DIR`), or
            `None` to compute flow on the fly with `flow_method`.
        flow_method: `keras_video.flow.compute` method for flow on the fly.
        shard: `(num_shards, index)`: keep only this worker's files (after the
            seeded shuffle, so shards are disjoint and cover all files); see
            `shard_for_input_context` and `shard_for_process`.
        interpolation: resize method, `"bilinear"`, `"nearest"`, `"bicubic"`,
            `"area"`.
        follow_links: follow symlinked subfolders.
        backend: `VideoReader` backend, `"auto"`, `"opencv"` or `"pyav"`.
        verbose: print how many files and classes were found.
        clip_settings: a `ClipSettings` in place of the clip keywords
            (`clip_length` to `short_side`, `num_clips`, `clip_sampling`,
            `short_video`, `interpolation`), e.g. a pretrained model's protocol.
        service: decode and augment on tf.data service workers
            (`keras-video data-service`): the dispatcher's `"host:port"`, or a
            `keras_video.data.service.DataService`. The clips equal the local
            ones for the same `seed` (see `keras_video.data.service`); `None`
            decodes in this process.
        processing_mode: with `service`: `"distributed_epoch"`, each clip of
            an epoch once across the workers; `"parallel_epochs"`, once per
            worker.

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
    settings = ClipSettings.from_arguments(
        clip_settings, video_dataset_from_directory, locals()
    )
    _check_labels_args(labels, class_names)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    pipeline.check_output_args(label_mode, batch_size)
    _check_sampling_args(
        on_error, decode_timeout, validation_split, subset, shuffle, seed, shard
    )
    seed = pipeline.resolve_seed(seed, shuffle)
    videos = listing.index_directory(directory, labels, class_names, follow_links)
    return _training_datasets(
        videos, settings, source=directory, label_mode=label_mode,
        batch_size=batch_size, shuffle=shuffle, seed=seed,
        validation_split=validation_split, subset=subset, augment=augment,
        on_error=on_error, decode_timeout=decode_timeout, shard=shard,
        backend=backend, verbose=verbose, modality=modality,
        flow=_flow_source(modality, flow_dir, flow_method, videos.root),
        service=service, processing_mode=processing_mode,
    )  # fmt: skip


def video_dataset_from_csv(
    csv_path,
    label_mode="int",
    class_names=None,
    batch_size=8,
    clip_length=16,
    frame_step=None,
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
    decode_timeout=DEFAULT_DECODE_TIMEOUT,
    modality="rgb",
    flow_dir=None,
    flow_method="dis",
    shard=None,
    interpolation="bilinear",
    backend="auto",
    verbose=True,
    clip_settings=None,
    service=None,
    processing_mode="distributed_epoch",
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
    settings = ClipSettings.from_arguments(
        clip_settings, video_dataset_from_csv, locals()
    )
    pipeline.check_output_args(label_mode, batch_size)
    _check_sampling_args(
        on_error, decode_timeout, validation_split, subset, shuffle, seed, shard
    )
    seed = pipeline.resolve_seed(seed, shuffle)
    videos = listing.video_list_from_csv(csv_path, class_names)
    return _training_datasets(
        videos, settings, source=csv_path, label_mode=label_mode,
        batch_size=batch_size, shuffle=shuffle, seed=seed,
        validation_split=validation_split, subset=subset, augment=augment,
        on_error=on_error, decode_timeout=decode_timeout, shard=shard,
        backend=backend, verbose=verbose, modality=modality,
        flow=_flow_source(modality, flow_dir, flow_method, videos.root),
        service=service, processing_mode=processing_mode,
    )  # fmt: skip


def video_test_dataset(
    paths,
    labels=None,
    class_names=None,
    label_mode="int",
    batch_size=8,
    clip_length=16,
    frame_step=None,
    target_fps=None,
    image_size=(224, 224),
    short_side=None,
    num_clips=10,
    num_crops=1,
    short_video="loop",
    on_error="raise",
    decode_timeout=DEFAULT_DECODE_TIMEOUT,
    modality="rgb",
    flow_dir=None,
    flow_method="dis",
    shard=None,
    interpolation="bilinear",
    backend="auto",
    clip_settings=None,
    video_root=None,
    service=None,
    processing_mode="distributed_epoch",
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
        clip_settings: a `ClipSettings` in place of the clip keywords (its
            `num_clips` is used; `clip_sampling` is always uniform here).
        video_root: the folder `flow_dir` mirrors (default: each video's own
            folder).
        service, processing_mode: decode on tf.data service workers, as in
            `video_dataset_from_directory`.
        others: as in `video_dataset_from_directory`.

    Returns:
        a `tf.data.Dataset` of `(clips, labels, video_ids)` (or `(clips,
        video_ids)` without labels); `video_ids` are int32 indices into `paths`.
        Use `ds.map(lambda x, y, v: x)` for `model.predict`.
    """
    settings = ClipSettings.from_arguments(
        clip_settings, video_test_dataset, locals()
    ).replace(clip_sampling="uniform")
    if num_crops not in (1, 3):
        raise ValueError(f"`num_crops` must be 1 or 3. Received: num_crops={num_crops}")
    if labels is None:
        label_mode = None
    pipeline.check_output_args(label_mode, batch_size)
    _check_sampling_args(on_error, decode_timeout, None, None, False, 0, shard)
    if labels is not None and class_names is None:
        class_names = [str(i) for i in range(int(np.max(labels, initial=-1)) + 1)]
        names_given = False
    else:
        names_given = True
    videos = listing.VideoList(paths, labels, class_names=class_names)
    ds = pipeline.video_clip_dataset(
        videos, settings, shuffle=False, seed=0, label_mode=label_mode,
        batch_size=batch_size, on_error=on_error, decode_timeout=decode_timeout,
        backend=backend, shard=shard, modality=modality,
        flow=_flow_source(modality, flow_dir, flow_method, video_root),
        num_crops=num_crops, with_video_id=True, service=service,
        processing_mode=processing_mode,
    )  # fmt: skip
    ds.class_names = class_names if names_given else None
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
    videos = listing.index_directory(directory, "inferred", class_names)
    if not len(videos):
        raise ValueError(f"No video files found in {directory}.")
    if verbose:
        print(
            f"Found {len(videos)} files belonging to {len(videos.class_names)} classes."
        )
    return video_test_dataset(
        videos.paths, videos.labels, class_names=videos.class_names,
        video_root=directory, **kwargs,
    )  # fmt: skip


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
