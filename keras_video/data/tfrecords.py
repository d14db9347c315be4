"""Sharded TFRecords of JPEG frames: write once, read clips fast.

`write_tfrecords` decodes every video once, resizes its frames to a shorter side,
and stores them as JPEG in `tf.train.Example` records (one per video):

| feature | type | |
|---|---|---|
| `frames` | bytes list | one JPEG per frame, in order |
| `label` | int64 | class index (-1 without labels) |
| `path` | bytes | the source file |
| `num_frames`, `height`, `width` | int64 | after resizing |
| `fps` | float | source frame rate |

Shards are `shard-00000-of-00008.tfrecord` plus `dataset_info.json` (class names,
settings, which files went to which shard). Writing is resumable: each shard is
written to `<name>.tmp` and renamed when complete, and complete shards are
skipped when the same command runs again.

`video_dataset_from_tfrecords` reads them back with the clip sampling and
transforms of `video_dataset_from_directory`, decoding only the JPEGs of the
sampled frames.
"""

import json
import logging
import math
import os
import struct

import numpy as np
import tensorflow as tf

from keras_video.data import listing, pipeline
from keras_video.data.clip_loader import check_on_error
from keras_video.data.clip_settings import ClipSettings
from keras_video.data.video import VideoReader

logger = logging.getLogger("keras_video.data")

INFO_FILE = "dataset_info.json"
_FORMAT_VERSION = 1
_CHUNK = 64  # frames decoded at a time


def _shard_name(index, num_shards):
    return f"shard-{index:05d}-of-{num_shards:05d}.tfrecord"


def _bytes(values):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))


def _int(value):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))


def encode_video(path, label, short_side=128, jpeg_quality=90, backend="auto"):
    """One video as the record `write_tfrecords` stores for it.

    Decodes `path` 64 frames at a time, resizes every frame so its shorter
    side is `short_side` (OpenCV `INTER_AREA`; `None` keeps the size) and
    encodes it as JPEG. `write_tfrecords` and the Beam pipeline
    (`keras_video.data.beam`) both write records made here, so they write the
    same bytes.

    Returns:
        the serialized `tf.train.Example` (see the module docstring).

    Raises:
        VideoDecodeError (or another error): the file cannot be read.
    """
    import cv2

    encoded = []
    with VideoReader(path, backend=backend) as reader:
        n, fps = reader.num_frames, reader.fps
        h, w = reader.height, reader.width
        if short_side:
            scale = short_side / min(h, w)
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
        else:
            size = (w, h)
        for start in range(0, n, _CHUNK):
            frames = reader.get_frames(range(start, min(n, start + _CHUNK)))
            for frame in frames:
                if size != (w, h):
                    frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
                ok, buf = cv2.imencode(
                    ".jpg",
                    frame[..., ::-1],
                    [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)],
                )
                if not ok:
                    raise ValueError(f"JPEG encoding failed for a frame of {path}")
                encoded.append(buf.tobytes())
    feature = {
        "frames": _bytes(encoded),
        "label": _int(label),
        "path": _bytes([os.fspath(path).encode()]),
        "num_frames": _int(n),
        "height": _int(size[1]),
        "width": _int(size[0]),
        "fps": tf.train.Feature(float_list=tf.train.FloatList(value=[float(fps)])),
    }
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    # Features is a protobuf map: without `deterministic` its order (so the
    # bytes) changes from one process to the next.
    return example.SerializeToString(deterministic=True)


def plan_tfrecords(
    output_dir,
    paths,
    labels=None,
    class_names=None,
    num_shards=None,
    short_side=128,
    jpeg_quality=90,
    on_error="raise",
):
    """Checks the arguments and `output_dir`; which video goes to which shard.

    Arguments as in `write_tfrecords`. Creates `output_dir`.

    Returns:
        `(settings, shards)`: the settings dict of `dataset_info.json` and
        one dict per shard (`file`, `videos`, `labels`, and `skipped` for a
        shard an earlier run finished), as `dataset_info.json` lists them.

    Raises:
        ValueError: bad arguments, or `output_dir` holds shards written with
            other settings or files.
    """
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise ValueError("`paths` is empty: no videos to write.")
    if labels is not None and len(labels) != len(paths):
        raise ValueError(
            f"`labels` must have one label per path: {len(labels)} labels for "
            f"{len(paths)} paths."
        )
    check_on_error(on_error)
    if not 1 <= int(jpeg_quality) <= 100:
        raise ValueError(
            f"`jpeg_quality` must be in [1, 100]. Received: {jpeg_quality}"
        )
    if num_shards is None:
        num_shards = max(1, math.ceil(len(paths) / 64))
    if int(num_shards) != num_shards or not 1 <= num_shards <= len(paths):
        raise ValueError(
            "`num_shards` must be between 1 and the number of videos "
            f"({len(paths)}). Received: num_shards={num_shards}"
        )
    tf.io.gfile.makedirs(output_dir)
    labels = [-1] * len(paths) if labels is None else [int(x) for x in labels]
    shards = [
        {
            "file": _shard_name(i, num_shards),
            "videos": paths[i::num_shards],
            "labels": labels[i::num_shards],
        }
        for i in range(num_shards)
    ]
    settings = {
        "format_version": _FORMAT_VERSION,
        "class_names": None if class_names is None else list(class_names),
        "short_side": short_side,
        "jpeg_quality": int(jpeg_quality),
        "num_shards": int(num_shards),
        "num_videos": len(paths),
    }
    info_path = os.path.join(output_dir, INFO_FILE)
    if tf.io.gfile.exists(info_path):
        old = _read_json(info_path)
        old_shards = [
            {k: s[k] for k in ("file", "videos", "labels")} for s in old["shards"]
        ]
        if old["settings"] != settings or old_shards != shards:
            raise ValueError(
                f"{output_dir} already holds TFRecords written with other settings or "
                "files; use another `output_dir` or delete it to start again."
            )
        shards = old["shards"]
    return settings, shards


def shard_done(output_dir, shard):
    """Whether `shard` (a dict of `plan_tfrecords`) is complete on disk."""
    return tf.io.gfile.exists(os.path.join(output_dir, shard["file"]))


def write_shard(output_dir, shard, settings, on_error="raise", backend="auto",
                progress=None):  # fmt: skip
    """Writes one shard's records to `<shard file>.tmp`.

    Args:
        output_dir: the TFRecords folder.
        shard: a dict of `plan_tfrecords`.
        settings: its settings dict (`short_side`, `jpeg_quality`).
        on_error: `"raise"`, or `"skip"` a bad file (logged, left out).
        backend: `VideoReader` backend.
        progress: called with no argument after each video, or `None`.

    Returns:
        `(tmp_path, skipped)`: rename `tmp_path` to the shard's file to
        finish it; `skipped` maps each left-out file to its error.
    """
    tmp = os.path.join(output_dir, shard["file"]) + ".tmp"
    skipped = {}
    with tf.io.TFRecordWriter(tmp) as writer:
        for path, label in zip(shard["videos"], shard["labels"], strict=True):
            try:
                record = encode_video(
                    path, label, settings["short_side"], settings["jpeg_quality"],
                    backend,
                )  # fmt: skip
            except Exception as error:  # noqa: BLE001 - reported or raised
                if on_error == "raise":
                    raise
                skipped[path] = f"{type(error).__name__}: {error}"
                logger.warning("keras_video: skipped %s (%s)", path, error)
            else:
                writer.write(record)
            if progress is not None:
                progress()
    return tmp, skipped


def write_info(output_dir, settings, shards):
    """Writes `dataset_info.json` (atomically: a `.tmp` file, then renamed)."""
    info_path = os.path.join(output_dir, INFO_FILE)
    with tf.io.gfile.GFile(info_path + ".tmp", "w") as f:
        json.dump({"settings": settings, "shards": shards}, f, indent=1)
    tf.io.gfile.rename(info_path + ".tmp", info_path, overwrite=True)


def _read_json(path):
    with tf.io.gfile.GFile(path) as f:
        return json.load(f)


def write_tfrecords(
    output_dir,
    paths,
    labels=None,
    class_names=None,
    num_shards=None,
    short_side=128,
    jpeg_quality=90,
    on_error="raise",
    backend="auto",
    verbose=True,
):
    """Writes videos as sharded TFRecords of JPEG frames (resumable).

    Args:
        output_dir: folder for the shards and `dataset_info.json`.
        paths: video files.
        labels: int label per file, or `None`.
        class_names: names of the labels, stored in `dataset_info.json`.
        num_shards: number of shards (default: about 64 videos per shard).
            Video `i` goes to shard `i % num_shards`.
        short_side: frames are resized so their shorter side is this (`None`
            keeps the source size).
        jpeg_quality: 1-100.
        on_error: `"raise"` or `"skip"` (a bad file is left out and listed in
            `dataset_info.json` under `"skipped"` of its shard).
        backend: `VideoReader` backend.
        verbose: show a progress bar (`keras.utils.Progbar`, one step per video).

    Returns:
        the list of shard paths.

    Raises:
        ValueError: bad arguments, or `output_dir` holds shards written with other
            settings or files (resuming never mixes two data sets).
    """
    settings, shards = plan_tfrecords(
        output_dir, paths, labels, class_names, num_shards, short_side,
        jpeg_quality, on_error,
    )  # fmt: skip
    progbar = None
    if verbose:
        import keras

        progbar = keras.utils.Progbar(settings["num_videos"], unit_name="video")
    done = [0]

    def step(count=1):
        done[0] += count
        if progbar is not None:
            progbar.update(done[0])

    for shard in shards:
        if shard_done(output_dir, shard):  # complete: written to .tmp, renamed
            step(len(shard["videos"]))
            continue
        tmp, shard["skipped"] = write_shard(
            output_dir, shard, settings, on_error, backend, step
        )
        tf.io.gfile.rename(tmp, os.path.join(output_dir, shard["file"]), True)
        write_info(output_dir, settings, shards)
    if not tf.io.gfile.exists(os.path.join(output_dir, INFO_FILE)):
        write_info(output_dir, settings, shards)
    return [os.path.join(output_dir, s["file"]) for s in shards]


def read_tfrecords_info(directory):
    """The `dataset_info.json` of a TFRecords folder, as a dict."""
    info_path = os.path.join(directory, INFO_FILE)
    if not tf.io.gfile.exists(info_path):
        raise ValueError(
            f"No {INFO_FILE} in {directory}: not a keras-video TFRecords folder."
        )
    return _read_json(info_path)


_FEATURES = {
    "frames": tf.io.VarLenFeature(tf.string),
    "label": tf.io.FixedLenFeature([], tf.int64),
    "num_frames": tf.io.FixedLenFeature([], tf.int64),
    "fps": tf.io.FixedLenFeature([], tf.float32),
}
# A TFRecord: uint64 length, uint32 CRC of the length, data, uint32 CRC of it.
_RECORD_HEADER = 12


def record_offsets(path):
    """Byte offsets of the records of a TFRecord file (uncompressed, as
    `write_tfrecords` writes them); only the record headers are read."""
    offsets = []
    with tf.io.gfile.GFile(path, "rb") as f:
        size, offset = f.size(), 0
        while offset < size:
            header = f.read(_RECORD_HEADER)
            if len(header) < _RECORD_HEADER:
                raise ValueError(f"{path} is truncated at byte {offset}")
            offsets.append(offset)
            offset += _RECORD_HEADER + struct.unpack("<Q", header[:8])[0] + 4
            f.seek(offset)
    return offsets


def read_record(path, offset):
    """The serialized record at byte `offset` of a TFRecord file (one of
    `record_offsets`), read without the rest of the file."""
    with tf.io.gfile.GFile(path, "rb") as f:
        f.seek(offset)
        length = struct.unpack("<Q", f.read(_RECORD_HEADER)[:8])[0]
        data = f.read(length)
    if len(data) != length:
        raise ValueError(f"{path} is truncated in the record at byte {offset}")
    return data


def parse_record(data):
    """`(jpegs, label, num_frames, fps)` of a serialized record, in Python (the
    values `video_dataset_from_tfrecords` parses with TensorFlow ops)."""
    feature = tf.train.Example.FromString(data).features.feature
    return (
        list(feature["frames"].bytes_list.value),
        int(feature["label"].int64_list.value[0]),
        int(feature["num_frames"].int64_list.value[0]),
        float(feature["fps"].float_list.value[0]),
    )


def video_dataset_from_tfrecords(
    directory,
    label_mode="int",
    batch_size=8,
    clip_length=16,
    frame_step=None,
    target_fps=None,
    image_size=(224, 224),
    short_side=None,
    augment=False,
    shuffle=True,
    seed=None,
    num_clips=1,
    clip_sampling=None,
    short_video="loop",
    shard=None,
    interpolation="bilinear",
    shuffle_buffer_size=64,
    clip_settings=None,
    service=None,
    processing_mode="distributed_epoch",
):
    """Clips from TFRecords written by `write_tfrecords` / `keras-video prepare`.

    Arguments as in `video_dataset_from_directory`. `shard=(num_shards, index)`
    shards by TFRecord file (needs at least `num_shards` files). Records are
    shuffled by file and through a buffer of `shuffle_buffer_size` videos.

    With `service` (the dispatcher's `"host:port"` or a
    `keras_video.data.service.DataService`), tf.data service workers
    (`keras-video data-service worker`) read the records, decode the JPEGs of
    the sampled frames and augment; the clips equal the local ones for the
    same `seed`. The trainer reads only the records' headers (their byte
    offsets, once) and draws each epoch's order and seeds as the local
    pipeline does; each worker reads the records it is given from the shards,
    which it must reach under the same names. `processing_mode` as in
    `video_dataset_from_directory`.

    Returns:
        a `tf.data.Dataset` like `video_dataset_from_directory`'s, with
        `class_names` and `shard_paths` attributes.

    Raises:
        ValueError: a bad argument, or a folder without `dataset_info.json`.
    """
    settings = ClipSettings.from_arguments(
        clip_settings, video_dataset_from_tfrecords, locals()
    )
    pipeline.check_output_args(label_mode, batch_size)
    listing.check_shard(shard, shuffle, seed)
    info = read_tfrecords_info(directory)
    class_names = info["settings"]["class_names"]
    if label_mode is not None and class_names is None:
        raise ValueError(
            f"The TFRecords in {directory} have no labels; pass label_mode=None."
        )
    pipeline.check_output_args(label_mode, batch_size, class_names)
    files = [os.path.join(directory, s["file"]) for s in info["shards"]]
    missing = [f for f in files if not os.path.exists(f)]
    if missing:
        raise ValueError(
            f"Incomplete TFRecords in {directory}: missing {missing[0]} (and "
            f"{len(missing) - 1} more). Run `keras-video prepare` again to resume."
        )
    if shard is not None:
        num_shards, index = shard
        if len(files) < num_shards:
            raise ValueError(
                f"`shard` needs at least {num_shards} TFRecord files; {directory} has "
                f"{len(files)}. Received: shard={shard}"
            )
        files = files[index::num_shards]
    seed = pipeline.resolve_seed(seed, shuffle)
    sampling = settings.sampling(shuffle)
    num_clips, clip_length = settings.num_clips, settings.clip_length
    deterministic = True

    def ordered(ds, records_of):
        """Files -> records in the epoch's order, with their element seeds."""
        if shuffle:
            ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
        ds = ds.interleave(
            records_of,
            cycle_length=min(4, len(files)),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=deterministic,
        )
        if shuffle:
            ds = ds.shuffle(
                shuffle_buffer_size, seed=seed, reshuffle_each_iteration=True
            )
        return tf.data.Dataset.zip((ds, pipeline.element_seeds(seed)))

    def clip_element(wanted, label, elem_seed):
        """The sampled frames' JPEGs -> a decoded element of `pipeline.finish`."""
        frames = tf.map_fn(
            lambda b: tf.io.decode_jpeg(b, channels=3),
            wanted,
            fn_output_signature=tf.TensorSpec((None, None, 3), tf.uint8),
        )
        shape = tf.shape(frames)
        clips = tf.reshape(frames, tf.concat([[num_clips, clip_length], shape[1:]], 0))
        clips.set_shape((num_clips, clip_length, None, None, 3))
        label = tf.cast(label, tf.int32)
        return clips, label, tf.constant(0, tf.int32), elem_seed, tf.constant(True)

    stages = dict(
        augment=augment, label_mode=label_mode,
        num_classes=len(class_names) if class_names else 0,
        deterministic=deterministic,
    )  # fmt: skip
    if service is not None:  # read, decode and augment on tf.data service workers
        from keras_video.data import service as data_service

        service = data_service.as_data_service(service, processing_mode)
        read = data_service.tfrecord_frames_function(settings, sampling)
        offsets = [record_offsets(f) for f in files]  # the headers only
        starts = tf.constant(np.cumsum([0] + [len(o) for o in offsets]), tf.int64)
        paths = tf.constant(files)
        flat = tf.constant([o for file_offsets in offsets for o in file_offsets],
                           tf.int64)  # fmt: skip

        def records_at(i):
            rows = tf.data.Dataset.range(starts[i], starts[i + 1])
            return rows.map(lambda row: (paths[i], flat[row]))

        source = ordered(tf.data.Dataset.range(len(files)), records_at).apply(
            tf.data.experimental.assert_cardinality(int(flat.shape[0]))
        )

        def worker_stages(table):
            def decode(record, elem_seed):
                wanted, label = read(*record, elem_seed)
                return clip_element(wanted, label, elem_seed)

            ds = table.map(
                decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
            )
            return pipeline.clip_stages(ds, settings, **stages)

        ds = data_service.distribute_epochs(
            source, worker_stages, service, processing_mode, batch_size
        )
        ds = pipeline.batch_stages(ds, None, shard is None)
        ds.class_names = class_names
        ds.shard_paths = files
        return ds

    def sample_indices(num_frames, fps, elem_seed):
        return settings.clip_indices(
            int(num_frames), float(fps), elem_seed, sampling, "tfrecord"
        )

    def decode(record, elem_seed):
        ex = tf.io.parse_single_example(record, _FEATURES)
        jpegs = tf.sparse.to_dense(ex["frames"], default_value="")
        idx = tf.numpy_function(
            sample_indices, [ex["num_frames"], ex["fps"], elem_seed], tf.int64
        )
        idx.set_shape((num_clips, clip_length))
        wanted = tf.gather(jpegs, tf.reshape(idx, [-1]))
        return clip_element(wanted, ex["label"], elem_seed)

    ds = ordered(tf.data.Dataset.from_tensor_slices(files), tf.data.TFRecordDataset)
    ds = ds.map(
        decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic
    )
    ds = pipeline.finish(
        ds, settings, batch_size=batch_size, auto_shard=shard is None, **stages
    )
    ds.class_names = class_names
    ds.shard_paths = files
    return ds


def list_source(source, class_names=None):
    """The `VideoList` of `prepare`'s `source`: a folder of class folders
    (`source/<class>/<video>`) or a `.csv` list (`path,label[,start,end]`,
    see `read_video_csv`); `class_names` gives the class order."""
    if os.path.isdir(source):
        return listing.index_directory(source, "inferred", class_names)
    if os.path.isfile(source):
        return listing.video_list_from_csv(source, class_names)
    raise ValueError(f"`source` is neither a folder nor a CSV file: {source}")


def prepare(
    source,
    output_dir,
    num_shards=None,
    short_side=128,
    jpeg_quality=90,
    class_names=None,
    on_error="raise",
    backend="auto",
    verbose=True,
):
    """`keras-video prepare`: a folder of class folders or a CSV list -> TFRecords.

    On one machine; `keras_video.data.beam.prepare_with_beam` writes the same
    files on an Apache Beam runner.

    Args:
        source: a directory (`source/<class>/<video>`) or a `.csv` list
            (`path,label[,start,end]`, see `read_video_csv`).
        output_dir, num_shards, short_side, jpeg_quality, on_error, backend,
        verbose: as in `write_tfrecords`.
        class_names: explicit class order (default: sorted).

    Returns:
        the list of shard paths.
    """
    videos = list_source(source, class_names)
    if verbose:
        print(
            f"Found {len(videos)} files belonging to {len(videos.class_names)} "
            f"classes; writing TFRecords to {output_dir}"
        )
    return write_tfrecords(
        output_dir, videos.paths, videos.labels, videos.class_names,
        num_shards=num_shards,
        short_side=short_side, jpeg_quality=jpeg_quality, on_error=on_error,
        backend=backend, verbose=verbose,
    )  # fmt: skip
