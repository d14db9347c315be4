"""AVA files: annotation, detection and proposal CSVs, label maps, exclusions.

NumPy only (no TensorFlow, no Keras). AVA (Gu et al. 2018) annotates people
in keyframes at 1 fps: one CSV row per person box and action,

    video_id, timestamp, x1, y1, x2, y2, action_id, person_id

with `timestamp` in whole seconds of the video and the box corners
normalised to `[0, 1]` by the frame's width (`x`) and height (`y`). Files have
no header line. The formats read here:

- annotations (`ava_val_v2.2.csv`), `read_ava_annotations` -> `AVAAnnotation`:
  `video_id, timestamp, x1, y1, x2, y2, action_id[, person_id]`;
- detections (results to score), `read_ava_detections` -> `AVADetection`:
  `video_id, timestamp, x1, y1, x2, y2, action_id[, score]`;
- person proposals, `read_ava_proposals` -> `AVAProposal`:
  `video_id, timestamp, x1, y1, x2, y2, score`, or
  `video_id, timestamp, x1, y1, x2, y2, action_id, score` (the action column
  may be empty and is ignored);
- excluded timestamps, `read_ava_excluded` -> `AVAKeyframe`:
  `video_id, timestamp`;
- label maps (`.pbtxt`), `read_ava_label_map` -> `{id: name}`:
  `item { name: "..." id: N }` or
  `label { name: "..." label_id: N label_type: ... }` blocks.

The 8-column proposal form is the one of the person-detector boxes that
PySlowFast reads (`ava_detection_val_boxes_and_labels.csv`); the 7-column form
is what `write_ava_csv` writes for `AVAProposal` records.

A bad row is a `ValueError` naming the file, the line and the column (and the
value): a wrong number of columns, an empty video id, a timestamp, action id
or person id that is not an integer, a coordinate or score that is not a
finite number, and (annotations, proposals) a box whose `x2 < x1` or
`y2 < y1`. Blank lines are skipped. Detection rows are not checked for box
order: the official evaluator drops such detections, and so does
`ava_frame_map`. The readers do not check that coordinates lie in `[0, 1]`.
"""

import collections
import csv
import math
import os
import re

import numpy as np

# The keyframes AVA annotates in each video: seconds 902 to 1798 (inclusive)
# of the 15-minute segment that starts at 900 s.
AVA_KEYFRAME_RANGE = (902, 1798)

# PySlowFast / the AVA protocol: proposals scoring at least this are tested.
AVA_PROPOSAL_SCORE_THRESHOLD = 0.8

_BOX_COLUMNS = ("x1", "y1", "x2", "y2")


class AVAKeyframe(collections.namedtuple("AVAKeyframe", ["video_id", "timestamp"])):
    """One keyframe: `video_id` (str) and `timestamp` (int, seconds)."""

    __slots__ = ()


class AVAAnnotation(
    collections.namedtuple(
        "AVAAnnotation",
        ["video_id", "timestamp", "x1", "y1", "x2", "y2", "action_id", "person_id"],
    )
):
    """One ground-truth row: a person box and one of its actions.

    `video_id` (str), `timestamp` (int, seconds), `x1, y1, x2, y2` (floats,
    normalised), `action_id` (int), `person_id` (int, or `None` when the
    file has 7 columns).
    """

    __slots__ = ()


class AVADetection(
    collections.namedtuple(
        "AVADetection",
        ["video_id", "timestamp", "x1", "y1", "x2", "y2", "action_id", "score"],
    )
):
    """One detection to score: a box, an action and its score (float)."""

    __slots__ = ()


class AVAProposal(
    collections.namedtuple(
        "AVAProposal", ["video_id", "timestamp", "x1", "y1", "x2", "y2", "score"]
    )
):
    """One person proposal: a box (normalised) and the detector's score."""

    __slots__ = ()


def ava_keyframe_key(video_id, timestamp):
    """The official evaluator's keyframe key, `"%s,%04d" % (video_id, int(t))`.

    Example:

    ```python
    ava_keyframe_key("-5KQ66BBWC4", 902)  # '-5KQ66BBWC4,0902'
    ```
    """
    return "%s,%04d" % (video_id, int(timestamp))


# ------------------------------------------------------------------ fields


def _int(value, where, column, name):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise ValueError(
        f"{where}: column {column} ({name}) must be an integer. Received: {value!r}"
    )


def _float(value, where, column, name):
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if isinstance(value, bool) or number is None or not math.isfinite(number):
        raise ValueError(
            f"{where}: column {column} ({name}) must be a finite number. "
            f"Received: {value!r}"
        )
    return number


def _video_id(value, where):
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: column 1 (video_id) is empty. Received: {value!r}")
    return value


def _located_box(row, where, check_order):
    """`video_id, timestamp, x1, y1, x2, y2` of a row's first six fields."""
    x1, y1, x2, y2 = (
        _float(row[2 + i], where, 3 + i, name) for i, name in enumerate(_BOX_COLUMNS)
    )
    if check_order and (x2 < x1 or y2 < y1):
        raise ValueError(
            f"{where}: the box must have x1 <= x2 and y1 <= y2. "
            f"Received: x1={x1}, y1={y1}, x2={x2}, y2={y2}"
        )
    timestamp = _int(row[1], where, 2, "timestamp")
    return _video_id(row[0], where), timestamp, x1, y1, x2, y2


def _columns(row, allowed, where, layout):
    if len(row) not in allowed:
        raise ValueError(
            f"{where}: expected {layout} ({' or '.join(map(str, allowed))} columns). "
            f"Received {len(row)} columns: {','.join(map(str, row))!r}"
        )


def parse_annotation(row, where="row"):
    """An `AVAAnnotation` from 7 or 8 fields (strings or numbers).

    Raises:
        ValueError: a bad field; the message starts with `where`.
    """
    _columns(row, (7, 8), where, "video_id,timestamp,x1,y1,x2,y2,action_id[,person_id]")
    if len(row) == 8 and row[7] is None:  # an AVAAnnotation without person id
        row = row[:7]
    person = _int(row[7], where, 8, "person_id") if len(row) == 8 else None
    action = _int(row[6], where, 7, "action_id")
    return AVAAnnotation(*_located_box(row, where, True), action, person)


def parse_detection(row, where="row"):
    """An `AVADetection` from 7 or 8 fields; 7 fields mean score 1.0, as the
    official evaluator reads them. The box order is not checked."""
    _columns(row, (7, 8), where, "video_id,timestamp,x1,y1,x2,y2,action_id[,score]")
    score = _float(row[7], where, 8, "score") if len(row) == 8 else 1.0
    action = _int(row[6], where, 7, "action_id")
    return AVADetection(*_located_box(row, where, False), action, score)


def parse_proposal(row, where="row"):
    """An `AVAProposal` from `video_id,timestamp,x1,y1,x2,y2,score` or
    `video_id,timestamp,x1,y1,x2,y2,action_id,score` (action ignored)."""
    _columns(row, (7, 8), where, "video_id,timestamp,x1,y1,x2,y2[,action_id],score")
    if len(row) == 8 and str(row[6]).strip():
        _int(row[6], where, 7, "action_id")
    score = _float(row[-1], where, len(row), "score")
    return AVAProposal(*_located_box(row, where, True), score)


def parse_keyframe(row, where="row"):
    """An `AVAKeyframe` from 2 fields `video_id, timestamp`."""
    _columns(row, (2,), where, "video_id,timestamp")
    return AVAKeyframe(_video_id(row[0], where), _int(row[1], where, 2, "timestamp"))


# ------------------------------------------------------------------ files


def _read_rows(path, parse):
    path = os.fspath(path)
    records = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        for row in reader:
            if not any(field.strip() for field in row):
                continue
            records.append(parse(row, f"{path}, line {reader.line_num}"))
    return records


def read_ava_annotations(path):
    """Reads an AVA ground-truth CSV (`ava_train_v2.2.csv`, `ava_val_v2.2.csv`).

    Rows `video_id, timestamp, x1, y1, x2, y2, action_id, person_id`; the
    `person_id` column may be absent (7 columns, `person_id=None`).

    Args:
        path: the CSV file (no header line).

    Returns:
        a list of `AVAAnnotation`, in file order.

    Raises:
        ValueError: a bad row (see the module docstring); the message names
            the file, the line and the column.

    Example:

    ```python
    from keras_video import detection

    rows = detection.read_ava_annotations("ava_val_v2.2.csv")
    rows[0]  # AVAAnnotation(video_id='1j20qq1JyX4', timestamp=902, x1=0.002, ...)
    ```
    """
    return _read_rows(path, parse_annotation)


def read_ava_detections(path):
    """Reads detections in the AVA result format (what `ava_frame_map` scores).

    Rows `video_id, timestamp, x1, y1, x2, y2, action_id, score`; a row of 7
    columns has score 1.0 (as the official evaluator reads it). Box order is
    not checked: the evaluator drops boxes with `x2 <= x1` or `y2 <= y1`.

    Returns:
        a list of `AVADetection`, in file order.

    Raises:
        ValueError: a bad row; the message names the file, line and column.
    """
    return _read_rows(path, parse_detection)


def read_ava_proposals(path, score_threshold=None):
    """Reads person proposals (boxes and detector scores per keyframe).

    Two layouts, row by row: `video_id, timestamp, x1, y1, x2, y2, score`
    (7 columns, what `write_ava_csv` writes for `AVAProposal`), or
    `video_id, timestamp, x1, y1, x2, y2, action_id, score` (8 columns, the
    person-detector files PySlowFast reads; `action_id` may be empty and is
    ignored).

    Args:
        path: the CSV file.
        score_threshold: keep only proposals with `score >= score_threshold`
            (AVA tests on proposals scoring at least 0.8,
            `AVA_PROPOSAL_SCORE_THRESHOLD`); `None` keeps all.

    Returns:
        a list of `AVAProposal`, in file order.

    Raises:
        ValueError: a bad row (a box with `x2 < x1` or `y2 < y1` included); the
            message names the file, line and column.
    """
    proposals = _read_rows(path, parse_proposal)
    if score_threshold is None:
        return proposals
    threshold = _float(score_threshold, "read_ava_proposals", 0, "score_threshold")
    return [p for p in proposals if p.score >= threshold]


def read_ava_excluded(path):
    """Reads an excluded-timestamps CSV (`ava_val_excluded_timestamps_v2.2.csv`).

    Rows `video_id, timestamp`: keyframes whose ground truth and detections
    the evaluation ignores.

    Returns:
        a list of `AVAKeyframe`, in file order.
    """
    return _read_rows(path, parse_keyframe)


# --------------------------------------------------------------- label map

_TOKEN = re.compile(
    r'\s+|#[^\n]*|(?P<string>"(?:[^"\\\n]|\\.)*")|(?P<word>[^\s{}:"#]+)|(?P<punct>[{}:])'
)
_ID_FIELDS = ("id", "label_id")
_NAME_FIELDS = ("name", "display_name")


def _tokens(text, path):
    line, position = 1, 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ValueError(
                f"{path}, line {line}: cannot parse the label map here. "
                f"Received: {text[position : position + 20]!r}"
            )
        kind = match.lastgroup
        if kind is not None:
            yield kind, match.group(kind), line
        line += match.group(0).count("\n")
        position = match.end()


def _unquote(token):
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def read_ava_label_map(path):
    """Reads an AVA label map (`.pbtxt`) without protocol buffers.

    Both layouts AVA ships: `item { name: "..." id: N }` blocks
    (`ava_action_list_v2.1_for_activitynet_2018.pbtxt.txt`) and
    `label { name: "..." label_id: N label_type: ... }` blocks
    (`ava_action_list_v2.2.pbtxt`), on one line or many; `#` comments.
    `display_name` stands in for a missing `name`; other fields are ignored.

    Args:
        path: the label map file.

    Returns:
        dict action id (int) -> name, in file order.

    Raises:
        ValueError: a syntax error, a block without an id or a name, an id
            that is not a positive integer, a repeated id; the message names
            the file and the line.

    Example:

    ```python
    from keras_video import detection

    label_map = detection.read_ava_label_map("ava_action_list_v2.2.pbtxt")
    label_map[80]  # 'watch (a person)'
    ```
    """
    path = os.fspath(path)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    tokens = list(_tokens(text, path))
    label_map, lines, i = {}, {}, 0

    def expect(kind, value=None):
        nonlocal i
        if i >= len(tokens):
            raise ValueError(f"{path}: the label map ends inside a block")
        token_kind, token, line = tokens[i]
        if token_kind != kind or (value is not None and token != value):
            wanted = repr(value) if value is not None else kind
            raise ValueError(
                f"{path}, line {line}: expected {wanted}. Received: {token!r}"
            )
        i += 1
        return token, line

    while i < len(tokens):
        block, block_line = expect("word")
        if block not in ("item", "label"):
            raise ValueError(
                f"{path}, line {block_line}: expected an 'item' or 'label' block. "
                f"Received: {block!r}"
            )
        if i < len(tokens) and tokens[i][1] == ":":
            i += 1
        expect("punct", "{")
        fields = {}
        while i < len(tokens) and tokens[i][1] != "}":
            field, _ = expect("word")
            expect("punct", ":")
            if i >= len(tokens) or tokens[i][0] not in ("string", "word"):
                raise ValueError(
                    f"{path}, line {tokens[i - 1][2]}: expected a value after "
                    f"'{field}:'"
                )
            fields.setdefault(field, tokens[i])
            i += 1
        expect("punct", "}")
        where = f"{path}, line {block_line}"
        id_field = next((f for f in _ID_FIELDS if f in fields), None)
        name_field = next((f for f in _NAME_FIELDS if f in fields), None)
        if id_field is None or name_field is None:
            raise ValueError(
                f"{where}: a {block} block needs a name and an id (or label_id). "
                f"Received fields: {sorted(fields)}"
            )
        kind, value, line = fields[id_field]
        try:
            action_id = int(value) if kind == "word" else None
        except ValueError:
            action_id = None
        if action_id is None or action_id < 1:
            raise ValueError(
                f"{path}, line {line}: {id_field} must be a positive integer. "
                f"Received: {value}"
            )
        if action_id in label_map:
            raise ValueError(
                f"{path}, line {line}: id {action_id} is repeated (first at line "
                f"{lines[action_id]})"
            )
        kind, value, _ = fields[name_field]
        label_map[action_id] = _unquote(value) if kind == "string" else value
        lines[action_id] = line
    if not label_map:
        raise ValueError(f"{path}: no item or label blocks in the label map")
    return label_map


# ------------------------------------------------------------------ writing


def _field_text(value):
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


def write_ava_csv(path, records):
    """Writes records as an AVA CSV (no header).

    Each record's fields in order; the timestamp as `%04d` (AVA's form),
    floats in full precision (`repr`, so reading back gives the same
    numbers); an `AVAAnnotation` whose `person_id` is `None` gets 7 columns.

    Args:
        path: the output file.
        records: `AVAAnnotation`, `AVADetection`, `AVAProposal` or
            `AVAKeyframe` records (or tuples in those layouts).

    Returns:
        `path`.
    """
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        for record in records:
            fields = list(record)
            if isinstance(record, AVAAnnotation) and record.person_id is None:
                fields = fields[:7]
            fields[1] = "%04d" % int(fields[1])
            writer.writerow([_field_text(v) for v in fields])
    return path


def write_ava_label_map(path, label_map):
    """Writes a label map `{id: name}` in AVA's `item { name: ... id: ... }`
    layout, one field a line, which the official evaluator's reader parses.

    Returns:
        `path`.
    """
    with open(path, "w", encoding="utf-8") as f:
        for action_id, name in label_map.items():
            escaped = str(name).replace("\\", "\\\\").replace('"', '\\"')
            f.write(f'item {{\n  name: "{escaped}"\n  id: {int(action_id)}\n}}\n')
    return path


def to_ava_detections(video_ids, timestamps, boxes, box_mask, scores, class_ids):
    """A detector's outputs on keyframes as AVA detection rows.

    One `AVADetection` per real box (`box_mask` 1) and class, with the box
    as the file has it (normalised, e.g. the `"source_boxes"` metadata of
    `keras_video.data.ava_dataset`): the input of `ava_frame_map`. The
    official evaluator keeps the 50 best rows per keyframe.

    Args:
        video_ids: `(B,)` str (or bytes, as tf.data gives them).
        timestamps: `(B,)` int seconds.
        boxes: `(B, N, 4)` normalised `x1, y1, x2, y2`.
        box_mask: `(B, N)`, nonzero for a real box.
        scores: `(B, N, C)` per-class scores (sigmoid outputs).
        class_ids: `(C,)` the action id of each score column.

    Returns:
        a list of `AVADetection`, keyframe by keyframe, box by box, class by
        class.

    Example:

    ```python
    for features, labels, box_mask, meta in dataset:  # with_metadata=True
        rows += to_ava_detections(meta["video_id"], meta["timestamp"],
                                  meta["source_boxes"], box_mask,
                                  model.predict_on_batch(features), class_ids)
    ava_frame_map(label_map, "val.csv", rows)
    ```
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    box_mask = np.asarray(box_mask)
    scores = np.asarray(scores, dtype=np.float64)
    class_ids = [int(c) for c in class_ids]
    if boxes.ndim != 3 or scores.shape[:2] != boxes.shape[:2]:
        raise ValueError(
            "`boxes` must be (B, N, 4) and `scores` (B, N, C). Received: "
            f"boxes.shape={boxes.shape}, scores.shape={scores.shape}"
        )
    if scores.shape[2] != len(class_ids) or box_mask.shape != boxes.shape[:2]:
        raise ValueError(
            "`scores` needs one column per class id and `box_mask` (B, N). "
            f"Received: scores.shape={scores.shape}, {len(class_ids)} class_ids, "
            f"box_mask.shape={box_mask.shape}"
        )
    video_ids = [
        v.decode() if isinstance(v, bytes) else str(v)
        for v in np.asarray(video_ids).reshape(-1).tolist()
    ]
    timestamps = [int(t) for t in np.asarray(timestamps).reshape(-1).tolist()]
    if len(video_ids) != len(boxes) or len(timestamps) != len(boxes):
        raise ValueError(
            "`video_ids` and `timestamps` need one entry per keyframe. Received: "
            f"{len(video_ids)} and {len(timestamps)} for {len(boxes)} keyframes"
        )
    rows = []
    for b, (video_id, timestamp) in enumerate(zip(video_ids, timestamps, strict=True)):
        for n in np.flatnonzero(box_mask[b]):
            box = tuple(float(v) for v in boxes[b, n])
            rows.extend(
                AVADetection(
                    video_id, timestamp, *box, action_id, float(scores[b, n, c])
                )
                for c, action_id in enumerate(class_ids)
            )
    return rows


# ------------------------------------------------------------------ grouping


def group_by_keyframe(records):
    """Records grouped by `(video_id, timestamp)`.

    Args:
        records: any records with `video_id` and `timestamp` fields.

    Returns:
        dict `AVAKeyframe` -> list of records, keyframes in order of first
        appearance, records in their order.
    """
    grouped = {}
    for record in records:
        key = AVAKeyframe(record.video_id, record.timestamp)
        grouped.setdefault(key, []).append(record)
    return grouped


def keyframe_boxes(records):
    """The distinct person boxes of one keyframe's rows and their actions.

    AVA gives one row per person and action; rows with the same box
    (the same four coordinates) are one person, as PySlowFast groups them.

    Args:
        records: `AVAAnnotation` rows of one keyframe (or any records with
            `x1, y1, x2, y2` and `action_id` fields).

    Returns:
        `(boxes, actions)`: float64 `(num_boxes, 4)` `x1, y1, x2, y2`
        (normalised), boxes in order of first appearance, and a list of
        `num_boxes` sorted tuples of action ids.

    Example:

    ```python
    rows = [AVAAnnotation("v", 902, 0.1, 0.2, 0.5, 0.9, 12, 0),
            AVAAnnotation("v", 902, 0.1, 0.2, 0.5, 0.9, 80, 0)]
    keyframe_boxes(rows)  # (array([[0.1, 0.2, 0.5, 0.9]]), [(12, 80)])
    ```
    """
    actions = {}
    for record in records:
        box = (record.x1, record.y1, record.x2, record.y2)
        actions.setdefault(box, set()).add(record.action_id)
    boxes = np.array(list(actions), dtype=np.float64).reshape(-1, 4)
    return boxes, [tuple(sorted(ids)) for ids in actions.values()]
