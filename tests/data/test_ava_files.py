"""AVA file readers and writers: `keras_video.data.ava_files`."""

import re

import numpy as np
import pytest

from keras_video import detection
from keras_video.detection import (
    AVAAnnotation,
    AVADetection,
    AVAKeyframe,
    AVAProposal,
)


def write(path, text):
    path.write_text(text)
    return path


def test_annotations_with_and_without_person_id(tmp_path):
    path = write(
        tmp_path / "gt.csv",
        "-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,80,1\n"
        "\n"  # blank lines are skipped
        "-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,9,1\n"
        "abc,903,0.0,0.0,1.0,1.0,12\n",
    )
    assert detection.read_ava_annotations(path) == [
        AVAAnnotation("-5KQ66BBWC4", 902, 0.077, 0.151, 0.283, 0.811, 80, 1),
        AVAAnnotation("-5KQ66BBWC4", 902, 0.077, 0.151, 0.283, 0.811, 9, 1),
        AVAAnnotation("abc", 903, 0.0, 0.0, 1.0, 1.0, 12, None),
    ]


@pytest.mark.parametrize(
    "line, message",
    [
        ("v,902,0.1,0.1,0.5", "line 2: expected video_id,timestamp,x1,y1,x2,y2"),
        (
            "v,902.5,0.1,0.1,0.5,0.5,3,0",
            "line 2: column 2 (timestamp) must be an integ",
        ),
        ("v,902,0.1,x,0.5,0.5,3,0", "line 2: column 4 (y1) must be a finite number"),
        ("v,902,0.1,0.1,nan,0.5,3,0", "column 5 (x2) must be a finite number"),
        ("v,902,0.1,0.1,0.5,0.5,walk,0", "column 7 (action_id) must be an integer"),
        ("v,902,0.1,0.1,0.5,0.5,3,p1", "column 8 (person_id) must be an integer"),
        (",902,0.1,0.1,0.5,0.5,3,0", "line 2: column 1 (video_id) is empty"),
        ("v,902,0.6,0.1,0.5,0.5,3,0", "line 2: the box must have x1 <= x2"),
        ("v,902,0.1,0.6,0.5,0.5,3,0", "Received: x1=0.1, y1=0.6, x2=0.5, y2=0.5"),
    ],
)
def test_bad_annotation_row_names_file_line_and_column(tmp_path, line, message):
    path = write(tmp_path / "gt.csv", "v,902,0.1,0.1,0.5,0.5,3,0\n" + line + "\n")
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        detection.read_ava_annotations(path)
    assert str(path) in str(info.value)


def test_detections_keep_inverted_boxes_and_default_score(tmp_path):
    path = write(
        tmp_path / "det.csv", "v,0902,0.5,0.1,0.2,0.9,3,0.25\nv,902,0,0,1,1,4\n"
    )
    assert detection.read_ava_detections(path) == [
        AVADetection("v", 902, 0.5, 0.1, 0.2, 0.9, 3, 0.25),
        AVADetection("v", 902, 0.0, 0.0, 1.0, 1.0, 4, 1.0),
    ]
    write(path, "v,0902,0.5,0.1,0.2,0.9,3,high\n")
    with pytest.raises(ValueError, match="line 1: column 8 \\(score\\)"):
        detection.read_ava_detections(path)


def test_proposals_both_layouts_and_threshold(tmp_path):
    path = write(
        tmp_path / "proposals.csv",
        "v,0902,0.1,0.2,0.3,0.4,0.95\n"  # 7 columns
        "v,0902,0.2,0.2,0.3,0.4,,0.5\n"  # 8 columns, empty action
        "v,0903,0.1,0.2,0.3,0.4,80,0.8\n",  # 8 columns, an action id
    )
    everything = [
        AVAProposal("v", 902, 0.1, 0.2, 0.3, 0.4, 0.95),
        AVAProposal("v", 902, 0.2, 0.2, 0.3, 0.4, 0.5),
        AVAProposal("v", 903, 0.1, 0.2, 0.3, 0.4, 0.8),
    ]
    assert detection.read_ava_proposals(path) == everything
    kept = detection.read_ava_proposals(path, score_threshold=0.8)
    assert kept == [everything[0], everything[2]]  # 0.8 itself is kept
    write(path, "v,0902,0.1,0.2,0.3,0.4,x,0.9\n")
    with pytest.raises(ValueError, match="line 1: column 7 \\(action_id\\)"):
        detection.read_ava_proposals(path)
    write(path, "v,0902,0.1,0.2,0.3,0.4\n")
    with pytest.raises(ValueError, match="line 1: expected video_id"):
        detection.read_ava_proposals(path)


def test_excluded_timestamps(tmp_path):
    path = write(tmp_path / "ex.csv", "v,0902\nw,1798\n")
    assert detection.read_ava_excluded(path) == [
        AVAKeyframe("v", 902),
        AVAKeyframe("w", 1798),
    ]
    write(path, "v,0902,1\n")
    with pytest.raises(ValueError, match="line 1: expected video_id,timestamp"):
        detection.read_ava_excluded(path)


V21 = """item {
  name: "bend/bow (at the waist)"
  id: 1
}
item {
  name: "crouch/kneel"
  id: 3
}
"""
V22 = """# AVA v2.2 style
label {
  name: "bend/bow (at the waist)"
  label_id: 1
  label_type: PERSON_MOVEMENT
}
label { name: "talk to (e.g., self, a person)" label_id: 79 label_type: X }
item { name: "say \\"hi\\"" id: 80 }
"""


def test_label_maps_of_both_layouts(tmp_path):
    assert detection.read_ava_label_map(write(tmp_path / "a.pbtxt", V21)) == {
        1: "bend/bow (at the waist)",
        3: "crouch/kneel",
    }
    assert detection.read_ava_label_map(write(tmp_path / "b.pbtxt", V22)) == {
        1: "bend/bow (at the waist)",
        79: "talk to (e.g., self, a person)",
        80: 'say "hi"',
    }


@pytest.mark.parametrize(
    "text, message",
    [
        ('item {\n  name: "a"\n  id: 1\n}\nitem {\n  name: "b"\n  id: 1\n}\n',
         "line 7: id 1 is repeated \\(first at line 3\\)"),
        ('item {\n  name: "a"\n}\n', "line 1: a item block needs a name and an id"),
        ('item {\n  name: "a"\n  id: 0\n}\n', "line 3: id must be a positive integer"),
        ('item {\n  name: "a"\n  id: x\n}\n', "line 3: id must be a positive integer"),
        ('thing {\n  id: 1\n}\n', "line 1: expected an 'item' or 'label' block"),
        ('item {\n  name: "a"\n  id: 1\n', "ends inside a block"),
        ('item {\n  name "a"\n}\n', "line 2: expected ':'"),
        ("", "no item or label blocks"),
    ],
)  # fmt: skip
def test_bad_label_map_names_file_and_line(tmp_path, text, message):
    path = write(tmp_path / "map.pbtxt", text)
    with pytest.raises(ValueError, match=message) as info:
        detection.read_ava_label_map(path)
    assert str(path) in str(info.value)


def test_writers_round_trip(tmp_path):
    annotations = [
        AVAAnnotation("v", 902, 0.1, 0.2, 1 / 3, 0.9, 12, 0),
        AVAAnnotation("v", 5, 0.0, 0.0, 1.0, 1.0, 80, 7),
    ]
    path = detection.write_ava_csv(tmp_path / "gt.csv", annotations)
    assert path.read_text().splitlines()[1] == "v,0005,0.0,0.0,1.0,1.0,80,7"
    assert detection.read_ava_annotations(path) == annotations  # floats exact
    no_person = [a._replace(person_id=None) for a in annotations]
    detection.write_ava_csv(path, no_person)
    assert detection.read_ava_annotations(path) == no_person
    proposals = [AVAProposal("v", 902, 0.1, 0.2, 0.3, 0.4, 0.875)]
    detection.write_ava_csv(path, proposals)
    assert detection.read_ava_proposals(path) == proposals
    label_map = {1: "a", 5: 'say "b"'}
    map_path = detection.write_ava_label_map(tmp_path / "m.pbtxt", label_map)
    assert detection.read_ava_label_map(map_path) == label_map


def test_group_by_keyframe_and_boxes():
    rows = [
        AVAAnnotation("v", 902, 0.1, 0.2, 0.5, 0.9, 80, 0),
        AVAAnnotation("w", 902, 0.0, 0.0, 1.0, 1.0, 3, 0),
        AVAAnnotation("v", 902, 0.6, 0.2, 0.9, 0.9, 14, 1),
        AVAAnnotation("v", 902, 0.1, 0.2, 0.5, 0.9, 12, 0),
        AVAAnnotation("v", 903, 0.1, 0.2, 0.5, 0.9, 12, 0),
    ]
    grouped = detection.group_by_keyframe(rows)
    assert list(grouped) == [("v", 902), ("w", 902), ("v", 903)]
    assert grouped[AVAKeyframe("v", 902)] == [rows[0], rows[2], rows[3]]
    boxes, actions = detection.keyframe_boxes(grouped[("v", 902)])
    np.testing.assert_array_equal(boxes, [[0.1, 0.2, 0.5, 0.9], [0.6, 0.2, 0.9, 0.9]])
    assert actions == [(12, 80), (14,)]
    boxes, actions = detection.keyframe_boxes([])
    assert boxes.shape == (0, 4) and actions == []


def test_keyframe_key_is_the_official_format():
    assert detection.ava_keyframe_key("abc", 902) == "abc,0902"
    assert detection.ava_keyframe_key("abc", "0005") == "abc,0005"
    assert detection.ava_keyframe_key("abc", 12345) == "abc,12345"


def test_to_ava_detections():
    boxes = np.array(
        [[[0.1, 0.2, 0.3, 0.4], [0, 0, 0, 0]], [[0.5, 0.5, 1, 1], [0, 0, 1, 1]]]
    )
    mask = np.array([[1.0, 0.0], [1.0, 1.0]])
    scores = np.arange(12, dtype=np.float32).reshape(2, 2, 3) / 10
    rows = detection.to_ava_detections(
        np.array([b"v", b"w"]), np.array([902, 903]), boxes, mask, scores, [1, 4, 80]
    )
    assert rows[:3] == [
        AVADetection("v", 902, 0.1, 0.2, 0.3, 0.4, 1, 0.0),
        AVADetection("v", 902, 0.1, 0.2, 0.3, 0.4, 4, np.float32(0.1)),
        AVADetection("v", 902, 0.1, 0.2, 0.3, 0.4, 80, np.float32(0.2)),
    ]  # the padded box of "v" gives no row
    assert (
        len(rows) == 9 and rows[3].video_id == "w" and rows[3].score == np.float32(0.6)
    )
    assert [r.action_id for r in rows[-3:]] == [1, 4, 80]
    with pytest.raises(ValueError, match="one column per class id"):
        detection.to_ava_detections(["v", "w"], [1, 2], boxes, mask, scores, [1, 4])
