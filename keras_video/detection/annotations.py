"""Temporal action annotations: ActivityNet JSON and THUMOS14 text / CSV files.

Every reader returns a list of `TemporalAnnotation(video, start, end, label,
subset)` records (seconds), in file order. `to_activitynet_ground_truth`
turns records back into the ActivityNet JSON layout that `activitynet_map`
reads, so THUMOS annotations are scored by the same code.

A bad line or field is a `ValueError` that names the file and the line (text
and CSV) or the video and annotation (JSON).
"""

import collections
import csv
import json
import math
import os
import pathlib

# ActivityNet names its subsets "training", "validation", "testing"; THUMOS14
# names its test set "test".
KNOWN_SUBSETS = ("training", "validation", "testing", "test")

# THUMOS14 per-class file suffix -> subset.
THUMOS_SUFFIXES = {"_val": "validation", "_test": "test"}

CSV_COLUMNS = ("video", "start", "end", "label")


class TemporalAnnotation(
    collections.namedtuple(
        "TemporalAnnotation", ["video", "start", "end", "label", "subset"]
    )
):
    """One annotated action segment: `video`, `start` and `end` in seconds
    (`start < end`), `label`, `subset` (one of `KNOWN_SUBSETS`)."""

    __slots__ = ()


def _number(value, where, field):
    # JSON numbers and the text of text/CSV files; bools are not numbers.
    if isinstance(value, bool):
        raise ValueError(f"{where}: {field} must be a number. Received: {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{where}: {field} must be a number. Received: {value!r}"
        ) from None
    if not math.isfinite(number):
        raise ValueError(f"{where}: {field} must be finite. Received: {value!r}")
    return number


def _segment(start, end, where):
    start = _number(start, where, "start")
    end = _number(end, where, "end")
    if end <= start:
        raise ValueError(
            f"{where}: the segment must end after it starts. "
            f"Received: start={start}, end={end}"
        )
    return start, end


def _subset(value, where):
    if value not in KNOWN_SUBSETS:
        raise ValueError(
            f"{where}: unknown subset {value!r}; expected one of {KNOWN_SUBSETS}"
        )
    return value


def _check_fields(entry, fields, where):
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: must be an object")
    for field in fields:
        if field not in entry:
            raise ValueError(f'{where}: missing field "{field}"')


def read_activitynet_json(path, subset=None):
    """Reads the ground truth of an ActivityNet-style JSON file.

    The layout is ActivityNet's (`activity_net.v1-3.min.json`):
    `{"database": {video: {"subset": ..., "annotations": [{"segment":
    [start, end], "label": ...}, ...]}, ...}}`; other keys (`"taxonomy"`,
    `"version"`, `"duration"`, `"url"`, ...) are ignored. A video without
    annotations gives no record.

    Args:
        path: the JSON file.
        subset: keep only this subset (`"training"`, `"validation"`, ...);
            `None` keeps every subset.

    Returns:
        a list of `TemporalAnnotation`, in file order.

    Raises:
        ValueError: the file is not JSON (the message names the line), has no
            `"database"`, or a video or annotation has a missing field, a
            subset outside `KNOWN_SUBSETS`, a segment that is not two finite
            numbers or that does not end after it starts; the message names the
            file, the video and the annotation's index.

    Example:

    ```python
    from keras_video import detection

    records = detection.read_activitynet_json(
        "activity_net.v1-3.min.json", subset="validation"
    )
    records[0]  # TemporalAnnotation(video='...', start=..., end=..., ...)
    ```
    """
    path = os.fspath(path)
    if subset is not None:
        _subset(subset, "read_activitynet_json")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}, line {e.lineno}: not valid JSON ({e.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("database"), dict):
        raise ValueError(f'{path}: no "database" object (ActivityNet layout)')
    records = []
    for video, entry in data["database"].items():
        where = f"{path}, video {video!r}"
        _check_fields(entry, ("subset", "annotations"), where)
        video_subset = _subset(entry["subset"], where)
        if not isinstance(entry["annotations"], list):
            raise ValueError(f'{where}: "annotations" must be a list')
        for index, annotation in enumerate(entry["annotations"]):
            at = f"{where}, annotation {index}"
            _check_fields(annotation, ("segment", "label"), at)
            segment = annotation["segment"]
            if not isinstance(segment, (list, tuple)) or len(segment) != 2:
                raise ValueError(
                    f"{at}: segment must be [start, end]. Received: {segment!r}"
                )
            start, end = _segment(segment[0], segment[1], at)
            if subset is None or video_subset == subset:
                records.append(
                    TemporalAnnotation(
                        video, start, end, annotation["label"], video_subset
                    )
                )
    return records


def _thumos_files(folder_or_files):
    if isinstance(folder_or_files, (str, os.PathLike)):
        path = pathlib.Path(folder_or_files)
        if path.is_dir():
            files = sorted(
                p
                for p in path.iterdir()
                if p.is_file()
                and (
                    p.suffix.lower() == ".csv"
                    or (
                        p.suffix.lower() == ".txt"
                        and p.stem.endswith(tuple(THUMOS_SUFFIXES))
                    )
                )
            )
            if not files:
                raise ValueError(
                    f"{path}: no THUMOS annotation files (<Class>_val.txt, "
                    "<Class>_test.txt or .csv) in this folder"
                )
            return files
        return [path]
    return [pathlib.Path(p) for p in folder_or_files]


def _read_class_file(path, include_ambiguous):
    stem, label, subset = path.stem, None, None
    for suffix, name in THUMOS_SUFFIXES.items():
        if stem.endswith(suffix) and len(stem) > len(suffix):
            label, subset = stem[: -len(suffix)], name
            break
    if label is None:
        raise ValueError(
            f"{path}: a THUMOS per-class file is named <Class>_val.txt or "
            "<Class>_test.txt"
        )
    if label == "Ambiguous" and not include_ambiguous:
        return []
    records = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            fields = line.split()
            if not fields:
                continue
            where = f"{path}, line {number}"
            if len(fields) != 3:
                raise ValueError(
                    f"{where}: expected 'video start end'. Received: {line.strip()!r}"
                )
            start, end = _segment(fields[1], fields[2], where)
            records.append(TemporalAnnotation(fields[0], start, end, label, subset))
    return records


def _read_csv(path, subset):
    records = []
    with open(path, encoding="utf-8", newline="") as f:
        for number, row in enumerate(csv.reader(f), start=1):
            row = [field.strip() for field in row]
            if not any(row):
                continue
            where = f"{path}, line {number}"
            if number == 1 and [c.lower() for c in row[:4]] == list(CSV_COLUMNS):
                if row[4:] not in ([], ["subset"]):
                    raise ValueError(
                        f"{where}: the header is video,start,end,label[,subset]. "
                        f"Received: {','.join(row)!r}"
                    )
                continue
            if len(row) not in (4, 5):
                raise ValueError(
                    f"{where}: expected video,start,end,label[,subset]. "
                    f"Received: {','.join(row)!r}"
                )
            if not row[0] or not row[3]:
                raise ValueError(f"{where}: empty video or label")
            start, end = _segment(row[1], row[2], where)
            row_subset = _subset(row[4], where) if len(row) == 5 else subset
            records.append(TemporalAnnotation(row[0], start, end, row[3], row_subset))
    return records


def read_thumos_annotations(
    folder_or_files, subset="validation", include_ambiguous=False
):
    """Reads THUMOS14-style temporal annotations.

    Two kinds of file:

    - THUMOS14's per-class files `<Class>_val.txt` (subset `"validation"`) and
      `<Class>_test.txt` (subset `"test"`), one segment a line:
      `video start end`, whitespace separated, in seconds. The class is the
      file name before the suffix. THUMOS14's `Ambiguous_val.txt` /
      `Ambiguous_test.txt` mark segments that are no class; they are skipped
      unless `include_ambiguous=True` (then their label is `"Ambiguous"`).
    - CSV files: `video,start,end,label` or `video,start,end,label,subset`
      lines, with or without that header line.

    Args:
        folder_or_files: a folder (every `*_val.txt`, `*_test.txt` and
            `*.csv` file in it, sorted by name), one file or a list of files.
        subset: the subset of CSV lines that have no subset column.
        include_ambiguous: keep THUMOS14's `Ambiguous` segments.

    Returns:
        a list of `TemporalAnnotation`, file by file, in line order.

    Raises:
        ValueError: a file name that is neither `<Class>_val.txt`,
            `<Class>_test.txt` nor `.csv`, a line with the wrong number of
            fields, a start or end that is not a finite number, a segment that
            does not end after it starts, an unknown subset; the message names
            the file and the line.

    Example:

    ```python
    from keras_video import detection

    test = [
        r for r in detection.read_thumos_annotations("TH14_Temporal_Annotations_Test")
        if r.subset == "test"
    ]
    detection.thumos14_map(test, "predictions.json")
    ```
    """
    _subset(subset, "read_thumos_annotations")
    records = []
    for path in _thumos_files(folder_or_files):
        if path.suffix.lower() == ".csv":
            records.extend(_read_csv(path, subset))
        elif path.suffix.lower() == ".txt":
            records.extend(_read_class_file(path, include_ambiguous))
        else:
            raise ValueError(
                f"{path}: not a THUMOS annotation file (<Class>_val.txt, "
                "<Class>_test.txt or .csv)"
            )
    return records


def to_activitynet_ground_truth(annotations):
    """ActivityNet JSON layout of annotation records.

    Args:
        annotations: `TemporalAnnotation` records (or `(video, start, end,
            label, subset)` tuples).

    Returns:
        `{"database": {video: {"subset": ..., "annotations": [{"segment":
        [start, end], "label": ...}, ...]}}}`, videos in order of first
        appearance: what `activitynet_map` and `read_activitynet_json` read.

    Raises:
        ValueError: one video appears in two subsets.
    """
    database = {}
    for record in annotations:
        video, start, end, label, subset = record
        entry = database.setdefault(video, {"subset": subset, "annotations": []})
        if entry["subset"] != subset:
            raise ValueError(
                f"Video {video!r} is in two subsets: {entry['subset']!r} and {subset!r}"
            )
        entry["annotations"].append({"segment": [start, end], "label": label})
    return {"database": database}
