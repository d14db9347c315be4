"""The tf.data stages every clip source shares.

```
VideoList ─ shuffle(seed) ─ zip(element seeds) ─ decode map ─┐   (video files)
TFRecord files ─ interleave ─ shuffle ─ zip(element seeds) ─ decode map ─┤
                                                                         v
     drop bad files ─ spatial map (resize, crop, flip) ─ unbatch clips ─ labels ─ batch
```

A source turns its items into elements `(clips, label, video_id, seed, ok)`,
`clips` uint8 `(num_clips, clip_length, h, w, 3)` of one video, and hands them
to `finish`. `video_clip_dataset` is the source for video files.

Seeding: each element gets its own seed from `tf.data.Dataset.random(seed)`
drawn in order, before the parallel map, so a given `seed` gives the same clips
in every epoch sequence whatever the thread timing (the maps are
`deterministic=True` when a seed is given).

With `service=` (`video_clip_dataset`), the stages from the decode map to the
labels (`clip_stages`) run on tf.data service workers and the trainer batches
(`batch_stages`); the seeds are drawn here as above, so the clips are the
same (`keras_video.data.service`).
"""

import numpy as np
import tensorflow as tf

from keras_video.data import transforms
from keras_video.data.clip_loader import (
    DEFAULT_DECODE_TIMEOUT,
    ClipLoader,
    channels_of,
    check_on_error,
)
from keras_video.data.clip_settings import AUGMENT_SCALE

LABEL_MODES = ("int", "categorical", "binary", None)


def resolve_seed(seed, shuffle):
    """The dataset seed: `seed`, else a random one when shuffling, else 0."""
    if seed is not None:
        return seed
    return int(np.random.randint(1e6)) if shuffle else 0


def check_output_args(label_mode, batch_size, class_names=None):
    """Checks `label_mode` and `batch_size` (and 2 classes for binary labels)."""
    if label_mode not in LABEL_MODES:
        raise ValueError(
            '`label_mode` argument must be one of "int", "categorical", "binary", '
            f"or None. Received: label_mode={label_mode}"
        )
    if batch_size is not None and (
        isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1
    ):
        raise ValueError(
            f"`batch_size` must be a positive integer or None. Received: "
            f"batch_size={batch_size}"
        )
    if label_mode == "binary" and class_names is not None and len(class_names) != 2:
        raise ValueError(
            'When passing `label_mode="binary"`, there must be exactly 2 '
            f"class_names. Received: class_names={class_names}"
        )


def element_seeds(seed):
    """A `(2,)` int64 seed per element, drawn in order, new ones each epoch."""
    return tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(
        2, drop_remainder=True
    )


def encode_labels(labels, label_mode, num_classes):
    """int labels -> int32, one-hot float32 or `(…, 1)` float32 (binary)."""
    if label_mode == "int":
        return tf.cast(labels, tf.int32)
    if label_mode == "categorical":
        return tf.one_hot(labels, num_classes, dtype=tf.float32)
    return tf.expand_dims(tf.cast(labels, tf.float32), -1)  # binary


def spatial_transform(clips, seed, settings, augment, flip_negates=None):
    """Resize short side, crop to `image_size`, maybe flip; float32.

    `clips` is `(num_clips, t, h, w, c)`. Resize, crop and flip are one
    `transforms.short_side_crop`: only the window that becomes the crop is
    resized; all channels (RGB and flow together) get the same window and flip.
    `augment`: scale jitter (short side uniform in
    `[short_side, 1.25 * short_side]`), random crop, horizontal flip, which
    negates channel `flip_negates` (flow x).
    """
    squeeze = clips.shape[0] == 1  # one clip per video: skip the per-clip map_fn
    if squeeze:
        clips = clips[0]
    side = settings.short_side
    if augment:
        side_range = (side, int(round(side * AUGMENT_SCALE)))
        out = transforms.short_side_crop(
            clips, settings.image_size, side_range, seed, 0.5,
            settings.interpolation, flip_negates,
        )  # fmt: skip
    else:
        out = transforms.short_side_crop(
            clips, settings.image_size, side, None, 0.0, settings.interpolation
        )
    return out[None] if squeeze else out


def three_crops(clips, settings, channels=3):
    """`(n, t, h, w, c)` -> `(3n, t, *image_size, c)` float32: start, centre and
    end crops along the longer side after resizing the short side."""
    clips = transforms.resize_short_side(
        clips, settings.short_side, settings.interpolation
    )
    crops = transforms.three_crop(clips, settings.image_size)  # (n, 3, t, h, w, c)
    shape = (settings.num_clips * 3, *settings.output_shape[:-1], channels)
    return tf.cast(tf.reshape(crops, shape), tf.float32)


def modality_output(clips, modality):
    """One clip `(t, h, w, c)` as the model takes it: the clip (RGB or flow),
    stacked flow `(h, w, 2t)` (x and y of each field in turn, as the two-stream
    paper stacks them), or the pair `(rgb, flow)`."""
    if modality == "stacked_flow":
        shape = tf.shape(clips)
        stacked = tf.transpose(clips, (1, 2, 0, 3))  # (h, w, t, 2)
        return tf.reshape(stacked, (shape[1], shape[2], 2 * shape[0]))
    if modality == "rgb+flow":
        return clips[..., :3], clips[..., 3:]
    return clips


def finish(
    ds, settings, *, augment, label_mode, num_classes, batch_size, deterministic,
    skipped=None, num_crops=1, with_video_id=False, auto_shard=True, modality="rgb",
):  # fmt: skip
    """Decoded `(clips, label, video_id, seed, ok)` elements -> the final dataset.

    `clip_stages` then `batch_stages`.

    Args:
        ds: the source's decoded elements (see the module docstring).
        settings: `ClipSettings`.
        augment: random scale, crop and flip (else a centre crop).
        label_mode: `"int"`, `"categorical"`, `"binary"` or `None` (no labels).
        num_classes: for `"categorical"`.
        batch_size: clips per batch, or `None`.
        deterministic: keep element order in the parallel maps.
        skipped: the source's `SkippedFiles` when it skips bad files: elements
            with `ok` false are dropped and one line per epoch names them.
        num_crops: 1 (as `augment` says) or 3 (`three_crops`).
        with_video_id: elements end with the int32 video id.
        auto_shard: `False` when the source sharded itself (tf.distribute must
            not shard again).
        modality: what the clips hold (`flow_source.MODALITIES`): with flow,
            `clips` carry RGB (if any) then the flow x and y channels.

    Returns:
        a dataset of `(clips, labels[, video_ids])`, or `clips[, video_ids]`
        without labels; clips float32 `(batch, clip_length, h, w, 3)` in
        `[0, 255]`.
    """
    ds = clip_stages(
        ds, settings, augment=augment, label_mode=label_mode,
        num_classes=num_classes, deterministic=deterministic,
        drop_bad=skipped is not None, skipped=skipped, num_crops=num_crops,
        with_video_id=with_video_id, modality=modality,
    )  # fmt: skip
    ds = batch_stages(ds, batch_size, auto_shard)
    ds.skipped_files = skipped
    return ds


def clip_stages(
    ds, settings, *, augment, label_mode, num_classes, deterministic,
    drop_bad=False, skipped=None, num_crops=1, with_video_id=False, modality="rgb",
):  # fmt: skip
    """Decoded elements -> one output element per clip, unbatched.

    The part of `finish` that a tf.data service worker runs (see
    `keras_video.data.service`). `drop_bad` drops elements whose `ok` is
    false; `skipped` (a `SkippedFiles`) also logs them once per epoch, which
    needs the process that decoded them. Other arguments as in `finish`.
    """
    if drop_bad:
        ds = ds.filter(lambda clips, label, vid, elem_seed, ok: ok)
    one_clip = settings.num_clips == 1 and num_crops == 1
    channels = channels_of(modality)
    shape = (*settings.output_shape[:-1], channels)
    flip_negates = {"rgb": None, "rgb+flow": 3}.get(modality, 0)

    def spatial(clips, label, vid, elem_seed, ok):
        if num_crops == 3:
            clips = three_crops(clips, settings, channels)
        else:
            clips = spatial_transform(clips, elem_seed, settings, augment, flip_negates)
        if one_clip:  # one clip per element: no unbatch (it copies the clip)
            return tf.reshape(clips, shape), label, vid
        clips.set_shape((None, *shape))
        n = tf.shape(clips)[0]
        return clips, tf.fill([n], label), tf.fill([n], vid)

    ds = ds.map(
        spatial, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic
    )
    if not one_clip:
        ds = ds.unbatch()
    if skipped is not None:
        ds = ds.concatenate(_end_of_epoch_report(skipped, shape))

    def output(clips, label, vid):
        parts = (modality_output(clips, modality),)
        if label_mode is not None:
            parts += (encode_labels(label, label_mode, num_classes),)
        if with_video_id:
            parts += (vid,)
        return parts[0] if len(parts) == 1 else parts

    return ds.map(output)


def batch_stages(ds, batch_size, auto_shard=True):
    """Batches (unless `batch_size` is `None`), prefetches, and turns off
    tf.distribute's auto-sharding when `auto_shard` is false."""
    if batch_size is not None:
        ds = ds.batch(batch_size)
    ds = ds.prefetch(tf.data.AUTOTUNE)
    if not auto_shard:
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.OFF
        )
        ds = ds.with_options(options)
    return ds


def _end_of_epoch_report(skipped, shape):
    """An empty dataset whose iteration logs the files skipped this epoch."""

    def end_of_epoch(_):
        done = tf.numpy_function(
            lambda: np.bool_(len(skipped.end_epoch()) < 0), [], tf.bool, stateful=True
        )
        done.set_shape(())
        return done

    dummy = (
        tf.zeros(shape, tf.float32),
        tf.zeros((), tf.int32),
        tf.zeros((), tf.int32),
    )
    return tf.data.Dataset.range(1).filter(end_of_epoch).map(lambda _: dummy)


def video_clip_dataset(
    videos, settings, *, shuffle, seed, augment=False, label_mode="int",
    batch_size=None, on_error="raise", decode_timeout=DEFAULT_DECODE_TIMEOUT,
    backend="auto", shard=None, num_crops=1, with_video_id=False, modality="rgb",
    flow=None, service=None, processing_mode="distributed_epoch",
):  # fmt: skip
    """Clips from video files: the pipeline for a `VideoList`.

    Args:
        videos: `VideoList` (already shuffled with `seed` and split; `shard`
            is applied here).
        settings: `ClipSettings`.
        shuffle: reshuffle the files each epoch (and sample clips at random
            unless `settings.clip_sampling` says otherwise).
        seed: int seed of the shuffle, clip positions and augmentation.
        on_error: `"raise"` or `"skip"` bad files.
        decode_timeout: seconds per video before it counts as bad, or `None`.
        backend: `VideoReader` backend.
        shard: `(num_shards, index)` or `None`.
        modality: `"rgb"`, `"flow"`, `"stacked_flow"` or `"rgb+flow"`.
        flow: the `FlowSource` of the flow modalities (default: on the fly).
        service: decode and augment on tf.data service workers: the
            dispatcher's address or a `service.DataService`; `None` decodes
            here. The clips are the same (see `keras_video.data.service`).
        processing_mode: with `service`, `"distributed_epoch"` (each clip of
            an epoch once) or `"parallel_epochs"` (once per worker).
        others: as in `finish`.

    Returns:
        the dataset of `finish`, with `file_paths`, `class_names` and
        `skipped_files` attributes.
    """
    check_on_error(on_error, decode_timeout)
    videos = videos.sharded(shard)
    if not len(videos):
        raise ValueError("No video files to read (after splitting and sharding).")
    loader = ClipLoader(
        settings, settings.sampling(shuffle), settings.decode_short_side(augment),
        backend, on_error, decode_timeout, modality, flow,
    )  # fmt: skip
    labels = videos.labels if videos.labels is not None else np.zeros(len(videos))
    segments = videos.segments
    if segments is None:
        segments = np.full((len(videos), 2), np.nan, np.float32)
    ds = tf.data.Dataset.from_tensor_slices(
        (
            tf.constant(videos.paths),
            tf.constant(np.asarray(labels, np.int32)),
            tf.constant(videos.video_ids),
            tf.constant(segments),
        )
    )
    if shuffle:
        ds = ds.shuffle(len(videos), seed=seed, reshuffle_each_iteration=True)
    ds = tf.data.Dataset.zip((ds, element_seeds(seed)))
    deterministic = seed is not None or not shuffle
    clips_shape = (
        settings.num_clips, settings.clip_length, None, None, channels_of(modality)
    )  # fmt: skip
    clips_dtype = tf.as_dtype(loader.dtype)

    def decoded(ds, read):
        """`read(path, seed, segment) -> [clips, ok]` mapped over `ds`."""

        def decode(element, elem_seed):
            path, label, vid, segment = element
            clips, ok = read(path, elem_seed, segment)
            clips.set_shape(clips_shape)
            ok.set_shape(())
            return clips, label, vid, elem_seed, ok

        return ds.map(
            decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic
        )

    stages = dict(
        augment=augment, label_mode=label_mode,
        num_classes=len(videos.class_names or ()), deterministic=deterministic,
        num_crops=num_crops, with_video_id=with_video_id, modality=modality,
    )  # fmt: skip
    if service is None:

        def read(path, elem_seed, segment):
            return tf.numpy_function(
                loader, [path, elem_seed, segment], [clips_dtype, tf.bool]
            )

        ds = finish(
            decoded(ds, read), settings, batch_size=batch_size,
            skipped=loader.skipped if on_error == "skip" else None,
            auto_shard=shard is None, **stages,
        )  # fmt: skip
    else:  # decode and augment on tf.data service workers
        from keras_video.data import service as data_service

        service = data_service.as_data_service(service, processing_mode)
        read = data_service.decode_function(loader)
        ds = data_service.distribute_epochs(
            ds,
            lambda table: clip_stages(
                decoded(table, read), settings, drop_bad=on_error == "skip",
                **stages,
            ),
            service, processing_mode, batch_size,
        )  # fmt: skip
        ds = batch_stages(ds, None, shard is None)
    ds.skipped_files = loader.skipped
    ds.file_paths = list(videos.paths)
    ds.class_names = videos.class_names
    return ds
