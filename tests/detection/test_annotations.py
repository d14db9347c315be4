"""ActivityNet JSON and THUMOS14 text / CSV annotation readers."""

import json

import pytest

from keras_video import detection
from keras_video.detection import TemporalAnnotation

RECORDS = [
    TemporalAnnotation("v1", 0.5, 10.0, "jump", "validation"),
    TemporalAnnotation("v1", 12.0, 20.25, "run", "validation"),
    TemporalAnnotation("v2", 1.0, 2.0, "jump", "training"),
]


def write_json(path, data):
    path.write_text(json.dumps(data))
    return path


def test_activitynet_json_round_trip(tmp_path):
    data = detection.to_activitynet_ground_truth(RECORDS)
    data["database"]["v3"] = {"subset": "testing", "annotations": [], "url": "x"}
    data["taxonomy"], data["version"] = [], "VERSION 1.3"
    path = write_json(tmp_path / "gt.json", data)
    assert detection.read_activitynet_json(path) == RECORDS
    assert detection.read_activitynet_json(path, subset="training") == RECORDS[2:]
    assert detection.read_activitynet_json(str(path), subset="testing") == []


def activitynet_with(annotation=None, entry=None):
    entry = entry or {
        "subset": "validation",
        "annotations": [
            {"segment": [0, 1], "label": "a"},
            annotation or {"segment": [0, 1], "label": "a"},
        ],
    }
    return {"database": {"vid": entry}}


@pytest.mark.parametrize(
    "data, message",
    [
        ({"taxonomy": []}, 'no "database"'),
        (activitynet_with(entry={"annotations": []}), 'missing field "subset"'),
        (
            activitynet_with(entry={"subset": "valid", "annotations": []}),
            "unknown subset 'valid'",
        ),
        (activitynet_with(entry={"subset": "training"}), 'missing field "annotations"'),
        (activitynet_with({"segment": [0, 1]}), 'annotation 1: missing field "label"'),
        (activitynet_with({"label": "a"}), 'annotation 1: missing field "segment"'),
        (activitynet_with({"segment": [0], "label": "a"}), "segment must be"),
        (
            activitynet_with({"segment": ["x", 1], "label": "a"}),
            "annotation 1: start must be a number",
        ),
        (
            activitynet_with({"segment": [0, float("inf")], "label": "a"}),
            "end must be finite",
        ),
        (
            activitynet_with({"segment": [3, 3], "label": "a"}),
            "annotation 1: the segment must end after it starts",
        ),
    ],
)
def test_activitynet_json_bad_fields(tmp_path, data, message):
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=message) as info:
        detection.read_activitynet_json(path)
    assert str(path) in str(info.value)
    if "annotation" in message or "subset" in message:
        assert "video 'vid'" in str(info.value)


def test_activitynet_json_not_json_names_the_line(tmp_path):
    path = tmp_path / "gt.json"
    path.write_text('{"database": {\n\n  "v": oops}}')
    with pytest.raises(ValueError, match=r"gt\.json, line 3: not valid JSON"):
        detection.read_activitynet_json(path)
    with pytest.raises(ValueError, match="unknown subset"):
        detection.read_activitynet_json(path, subset="val")


def write_thumos(folder):
    folder.mkdir()
    (folder / "BaseballPitch_val.txt").write_text(
        "video_validation_0000051  67.5 75.9\nvideo_validation_0000051 85.9 90.6\n\n"
    )
    (folder / "CliffDiving_test.txt").write_text("video_test_0000004 0.2 1.1 \n")
    (folder / "Ambiguous_val.txt").write_text("video_validation_0000051 1.0 2.0\n")
    (folder / "README").write_text("not an annotation file")
    (folder / "extra.csv").write_text(
        "video,start,end,label\nclip_a,1.5,3,Jump\nclip_b, 0 , 2.5 ,Run,test\n"
    )
    return folder


def test_thumos_folder(tmp_path):
    folder = write_thumos(tmp_path / "annotations")
    records = detection.read_thumos_annotations(folder)
    v51 = "video_validation_0000051"
    assert records == [
        TemporalAnnotation(v51, 67.5, 75.9, "BaseballPitch", "validation"),
        TemporalAnnotation(v51, 85.9, 90.6, "BaseballPitch", "validation"),
        TemporalAnnotation("video_test_0000004", 0.2, 1.1, "CliffDiving", "test"),
        TemporalAnnotation("clip_a", 1.5, 3.0, "Jump", "validation"),
        TemporalAnnotation("clip_b", 0.0, 2.5, "Run", "test"),
    ]
    with_ambiguous = detection.read_thumos_annotations(folder, include_ambiguous=True)
    assert (
        TemporalAnnotation(
            "video_validation_0000051", 1.0, 2.0, "Ambiguous", "validation"
        )
        in with_ambiguous
    )
    csv_only = detection.read_thumos_annotations(
        [folder / "extra.csv"], subset="training"
    )
    assert [r.subset for r in csv_only] == ["training", "test"]


def test_thumos_round_trip_through_activitynet_json(tmp_path):
    records = detection.read_thumos_annotations(write_thumos(tmp_path / "a"))
    path = write_json(
        tmp_path / "gt.json", detection.to_activitynet_ground_truth(records)
    )
    assert sorted(detection.read_activitynet_json(path)) == sorted(records)
    # ... and scores: every ground truth predicted exactly -> mAP 1.
    test = [r for r in records if r.subset == "test"]
    predictions = {"results": {}}
    for r in test:
        predictions["results"].setdefault(r.video, []).append(
            {"label": r.label, "score": 0.5, "segment": [r.start, r.end]}
        )
    assert detection.thumos14_map(test, predictions)["per_class_AP"] == {
        "CliffDiving": [1.0] * 5,
        "Run": [1.0] * 5,
    }


def test_two_subsets_for_one_video_is_an_error():
    with pytest.raises(ValueError, match="Video 'v' is in two subsets"):
        detection.to_activitynet_ground_truth(
            [("v", 0, 1, "a", "validation"), ("v", 0, 1, "a", "test")]
        )


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("Jump_val.txt", "v 1.0 2.0\nv 1.0\n", "line 2: expected 'video start end'"),
        ("Jump_val.txt", "v 1.0 2.0 3.0\n", "line 1: expected 'video start end'"),
        ("Jump_test.txt", "\nv one 2.0\n", "line 2: start must be a number"),
        ("Jump_test.txt", "v 1.0 nan\n", "line 1: end must be finite"),
        ("Jump_val.txt", "v 2.0 1.0\n", "line 1: the segment must end after"),
        ("Jump_train.txt", "v 1.0 2.0\n", "named <Class>_val.txt"),
        ("_val.txt", "v 1.0 2.0\n", "named <Class>_val.txt"),
        ("list.csv", "video,start,end,label\nv,1,2\n", "line 2: expected video,start"),
        ("list.csv", "v,1,x,a\n", "line 1: end must be a number"),
        ("list.csv", "v,1,1,a\n", "line 1: the segment must end after"),
        ("list.csv", "v,1,2,a,valid\n", "line 1: unknown subset 'valid'"),
        ("list.csv", "v,1,2,\n", "line 1: empty video or label"),
        ("list.csv", "video,start,end,label,extra\n", "line 1: the header is"),
        ("list.json", "{}", "not a THUMOS annotation file"),
    ],
)
def test_thumos_bad_lines_name_file_and_line(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        detection.read_thumos_annotations(path)
    assert str(path) in str(info.value)


def test_thumos_empty_folder_and_bad_subset(tmp_path):
    with pytest.raises(ValueError, match="no THUMOS annotation files"):
        detection.read_thumos_annotations(tmp_path)
    with pytest.raises(ValueError, match="unknown subset 'dev'"):
        detection.read_thumos_annotations(tmp_path, subset="dev")
