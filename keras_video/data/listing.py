"""Which videos a dataset reads: listing, splitting, shuffling and sharding.

A `VideoList` is the files of a dataset with their labels, optional segments
(seconds within each video) and stable video ids. Sources make one
(`index_directory`, `read_video_csv`); `VideoList.shuffled`, `.split` and
`.sharded` return new lists, so the order of operations is explicit:
shuffle with the seed, split off validation, shard by worker. No TensorFlow.
"""

import csv
import dataclasses
import logging
import os
import re

import numpy as np

logger = logging.getLogger("keras_video.data")

VIDEO_FORMATS = (
    ".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv",
    ".flv", ".ogv", ".3gp",
)  # fmt: skip
SUBSETS = ("training", "validation", "both")
_INT_LABEL = re.compile(r"-?[0-9]+")  # ASCII digits only ("²".isdigit() is True)


@dataclasses.dataclass(frozen=True)
class VideoList:
    """The videos of a dataset, in reading order.

    Attributes:
        paths: list of `n` file paths.
        labels: int32 `(n,)` class indices, or `None` (no labels).
        segments: float32 `(n, 2)` start / end seconds to sample within
            (NaN: the video's start / end), or `None` (whole videos).
        video_ids: int32 `(n,)` position of each video in the listed order,
            kept through shuffling and sharding.
        class_names: list of class names, or `None`.
        root: the folder the paths were listed from (a directory, a CSV
            list's folder), or `None`; derived data such as precomputed flow
            mirrors the paths relative to it.
    """

    paths: list
    labels: np.ndarray | None = None
    segments: np.ndarray | None = None
    video_ids: np.ndarray | None = None
    class_names: list | None = None
    root: str | None = None

    def __post_init__(self):
        n = len(self.paths)
        object.__setattr__(self, "paths", [os.fspath(p) for p in self.paths])
        if self.video_ids is None:
            object.__setattr__(self, "video_ids", np.arange(n, dtype=np.int32))
        if self.labels is not None:
            object.__setattr__(self, "labels", np.asarray(self.labels, np.int32))
            if len(self.labels) != n:
                raise ValueError(
                    f"`labels` must have one label per path: {len(self.labels)} "
                    f"labels for {n} paths."
                )
        if self.segments is not None:
            segments = np.asarray(self.segments, np.float32).reshape(n, 2)
            object.__setattr__(self, "segments", segments)

    def __len__(self):
        return len(self.paths)

    def select(self, rows):
        """The videos at `rows` (an index array or slice), in that order."""
        rows = np.arange(len(self))[rows]
        return dataclasses.replace(
            self,
            paths=[self.paths[i] for i in rows],
            labels=None if self.labels is None else self.labels[rows],
            segments=None if self.segments is None else self.segments[rows],
            video_ids=self.video_ids[rows],
        )

    def without_labels(self):
        return dataclasses.replace(self, labels=None)

    def shuffled(self, seed):
        """One seeded permutation of the files, labels and segments together."""
        return self.select(np.random.RandomState(seed).permutation(len(self)))

    def split(self, validation_split, subset):
        """keras' split: validation is the last `validation_split` of the files.

        `subset` is `"training"` or `"validation"`; without `validation_split`
        the list is returned whole.
        """
        if not validation_split:
            return self
        num_val = int(validation_split * len(self))
        if subset == "training":
            logger.info("Using %d files for training.", len(self) - num_val)
            return self.select(slice(None, len(self) - num_val))
        logger.info("Using %d files for validation.", num_val)
        return self.select(slice(len(self) - num_val, None))

    def sharded(self, shard):
        """Every `num_shards`-th video from `index` (`shard=(num_shards, index)`)."""
        if shard is None:
            return self
        num_shards, index = shard
        return self.select(slice(index, None, num_shards))


def check_split_args(validation_split, subset, shuffle, seed):
    """The checks (and messages) of keras' `check_validation_split_arg`."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(
            f"`validation_split` must be between 0 and 1, received: {validation_split}"
        )
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError(
            "If `subset` is set, `validation_split` must be set, and inversely."
        )
    if subset not in (*SUBSETS, None):
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


def check_shard(shard, shuffle, seed):
    """`shard` is `None` or `(num_shards, index)`; a shuffled list needs a seed."""
    if shard is None:
        return
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


def index_directory(
    directory, labels="inferred", class_names=None, follow_links=False,
    formats=VIDEO_FORMATS,
):  # fmt: skip
    """Lists `directory/<class>/**/<video>` like keras' `index_directory`.

    Files are sorted (no shuffling here). With `labels="inferred"`, the sorted
    subfolders (or `class_names`, in its order) are the classes; with `None`,
    every video under `directory` is listed without labels; a list gives the
    labels of the sorted files.

    Returns:
        a `VideoList`.

    Raises:
        ValueError: a missing folder, `class_names` not among the subfolders, or
            a `labels` list of the wrong length.
    """
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
        walk = os.walk(os.path.join(directory, subdir), followlinks=follow_links)
        for root, _, names in sorted(walk, key=lambda x: x[0]):
            for name in sorted(names):
                if name.lower().endswith(formats):
                    files.append(os.path.join(root, name))
                    file_labels.append(label)
    root = os.fspath(directory)
    if labels == "inferred":
        return VideoList(files, file_labels, class_names=list(subdirs), root=root)
    if labels is None:
        return VideoList(files, root=root)
    if len(labels) != len(files):
        raise ValueError(
            "Expected the lengths of `labels` to match the number of files in the "
            f"target directory. len(labels) is {len(labels)} while we found "
            f"{len(files)} files in directory {directory}."
        )
    names = [str(label) for label in sorted(set(labels))]
    return VideoList(files, labels, class_names=names, root=root)


def _read_csv_rows(csv_path):
    """`(path, label, segment, line_number)` per data line of a video list."""
    base = os.path.dirname(os.path.abspath(csv_path))
    rows = []
    try:
        with open(csv_path, newline="", encoding="utf-8") as f:
            lines = list(csv.reader(f))
    except UnicodeDecodeError as e:
        raise ValueError(f"{csv_path} is not a UTF-8 text file: {e}") from None
    except csv.Error as e:
        raise ValueError(f"{csv_path} is not a valid CSV file: {e}") from None
    for line_number, row in enumerate(lines, start=1):
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
            if any(v is not None and not np.isfinite(v) for v in segment):
                raise ValueError(
                    f"{csv_path}, line {line_number}: start and end must be "
                    f"finite. Received: {row[2]!r}, {row[3]!r}"
                )
            if None not in segment and segment[1] <= segment[0]:
                raise ValueError(
                    f"{csv_path}, line {line_number}: end must be after start. "
                    f"Received: start={segment[0]}, end={segment[1]}"
                )
        path = row[0] if os.path.isabs(row[0]) else os.path.join(base, row[0])
        rows.append((path, row[1], segment, line_number))
    if not rows:
        raise ValueError(f"No videos listed in {csv_path}.")
    return rows


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
    rows = _read_csv_rows(csv_path)
    names = [r[1] for r in rows]
    if class_names is None:
        if all(_INT_LABEL.fullmatch(n) for n in names):
            for _, name, _, line_number in rows:
                if not 0 <= int(name) < 2**31:
                    raise ValueError(
                        f"{csv_path}, line {line_number}: an integer label must be "
                        f"in [0, 2**31). Received: {name!r}"
                    )
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


def video_list_from_csv(csv_path, class_names=None):
    """`read_video_csv` as a `VideoList` (segments NaN where open)."""
    paths, labels, class_names, segments = read_video_csv(csv_path, class_names)
    segments = [[np.nan if v is None else v for v in seg] for seg in segments]
    root = os.path.dirname(os.path.abspath(csv_path))
    return VideoList(paths, labels, segments, class_names=class_names, root=root)


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
            backend, else a single process `(0, 1)`.

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
