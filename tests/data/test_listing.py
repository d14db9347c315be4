"""`listing`: directories, CSV lists, shuffling, splitting and sharding."""

import numpy as np
import pytest

from keras_video.data import listing


@pytest.fixture()
def tree(tmp_path):
    for name, files in {"b": ["b1.mp4", "b0.MP4"], "a": ["a0.avi"]}.items():
        (tmp_path / name).mkdir()
        for f in files:
            (tmp_path / name / f).write_bytes(b"")
    (tmp_path / "a" / "deep").mkdir()
    (tmp_path / "a" / "deep" / "a1.mkv").write_bytes(b"")
    (tmp_path / "a" / "notes.txt").write_text("x")
    (tmp_path / ".hidden").mkdir()
    return tmp_path


def test_index_directory_is_sorted_recursive_and_labelled(tree):
    videos = listing.index_directory(tree)
    names = [p.split("/")[-1] for p in videos.paths]
    assert names == ["a0.avi", "a1.mkv", "b0.MP4", "b1.mp4"]
    assert videos.class_names == ["a", "b"]
    np.testing.assert_array_equal(videos.labels, [0, 0, 1, 1])
    np.testing.assert_array_equal(videos.video_ids, [0, 1, 2, 3])
    only_b = listing.index_directory(tree, class_names=["b"])
    assert len(only_b) == 2 and set(only_b.labels) == {0}
    assert listing.index_directory(tree, labels=None).labels is None
    given = listing.index_directory(tree, labels=[3, 1, 3, 1])
    assert given.class_names == ["1", "3"]


def test_index_directory_errors(tree):
    with pytest.raises(ValueError, match="does not exist"):
        listing.index_directory(tree / "missing")
    with pytest.raises(ValueError, match="class_names=\\['z'\\]"):
        listing.index_directory(tree, class_names=["z"])
    with pytest.raises(ValueError, match="len\\(labels\\) is 1"):
        listing.index_directory(tree, labels=[0])


def test_shuffle_split_shard_keep_rows_together():
    videos = listing.VideoList(
        [f"v{i}.mp4" for i in range(10)], np.arange(10) % 3,
        segments=np.arange(20).reshape(10, 2),
    )  # fmt: skip
    shuffled = videos.shuffled(7)
    assert sorted(shuffled.paths) == sorted(videos.paths)
    for path, label, vid, seg in zip(
        shuffled.paths, shuffled.labels, shuffled.video_ids, shuffled.segments,
        strict=True,
    ):  # fmt: skip
        assert path == f"v{vid}.mp4" and label == vid % 3 and seg[0] == 2 * vid
    train = shuffled.split(0.3, "training")
    val = shuffled.split(0.3, "validation")
    assert len(train) == 7 and len(val) == 3
    assert train.paths + val.paths == shuffled.paths
    shards = [shuffled.sharded((3, i)) for i in range(3)]
    assert sorted(sum((s.paths for s in shards), [])) == sorted(videos.paths)
    assert shuffled.sharded(None) is shuffled
    with pytest.raises(ValueError, match="2 labels for 3 paths"):
        listing.VideoList(["a", "b", "c"], [0, 1])


@pytest.mark.parametrize(
    "args, match",
    [
        ((1.5, "training", True, 1), "between 0 and 1"),
        ((0.2, None, True, 1), "`subset` is set"),
        ((0.2, "test", True, 1), "received: test"),
        ((0.2, "training", True, None), "provide a `seed`"),
    ],
)
def test_check_split_args(args, match):
    with pytest.raises(ValueError, match=match):
        listing.check_split_args(*args)


def test_check_shard():
    listing.check_shard((2, 1), True, 0)
    with pytest.raises(ValueError, match="shard=\\(2, 2\\)"):
        listing.check_shard((2, 2), False, 0)
    with pytest.raises(ValueError, match="seed=None"):
        listing.check_shard((2, 0), True, None)


def test_csv_lists_and_bad_lines(tmp_path):
    good = tmp_path / "list.csv"
    good.write_text("path,label\nx/a.mp4,cat\n/abs/b.mp4,dog,1.5,3\n# note\n")
    videos = listing.video_list_from_csv(good)
    assert videos.paths == [str(tmp_path / "x" / "a.mp4"), "/abs/b.mp4"]
    assert videos.class_names == ["cat", "dog"]
    assert np.isnan(videos.segments[0]).all()
    np.testing.assert_array_equal(videos.segments[1], [1.5, 3.0])
    bad = tmp_path / "bad.csv"
    for text, match in [
        ("a.mp4,cat\na.mp4\n", r"bad\.csv, line 2: expected"),
        ("a.mp4,cat,x,2\n", r"bad\.csv, line 1: start and end must be numbers"),
        ("a.mp4,cat,3,2\n", r"line 1: end must be after start"),
        ("a.mp4,cat,nan,2\n", r"line 1: start and end must be finite"),
        ("# only a comment\n", r"No videos listed in .*bad\.csv"),
    ]:
        bad.write_text(text)
        with pytest.raises(ValueError, match=match):
            listing.read_video_csv(bad)
    bad.write_text("a.mp4,cat\n")
    with pytest.raises(ValueError, match=r"line 1: label 'cat' is not in"):
        listing.read_video_csv(bad, class_names=["dog"])


def test_shard_helpers():
    class Ctx:
        num_input_pipelines, input_pipeline_id = 3, 1

    assert listing.shard_for_input_context(Ctx()) == (3, 1)
    assert listing.shard_for_process(1, 4) == (4, 1)


@pytest.mark.parametrize(
    "content, match",
    [
        (b"a.mp4,1\nb.mp4,\xff2\n", r"list\.csv is not a UTF-8 text file"),
        (b"a.mp4,--5\nb.mp4,1\n", None),  # not an int: a class name
        ("a.mp4,\u00b2\nb.mp4,1\n".encode(), None),  # "²".isdigit(), not int
        (b"a.mp4,9999999999991\nb.mp4,1\n", r"list\.csv, line 1: an integer label"),
        (b"a.mp4,-1\nb.mp4,1\n", r"list\.csv, line 1: an integer label"),
    ],
)
def test_fuzzed_lists_name_the_file(tmp_path, content, match):
    """Inputs the fuzzer found (`benchmarks/fuzz_readers.py`)."""
    path = tmp_path / "list.csv"
    path.write_bytes(content)
    if match is None:  # odd labels are class names, mapped in sorted order
        paths, labels, class_names, _ = listing.read_video_csv(path)
        assert len(paths) == 2 and sorted(class_names) == class_names
        return
    with pytest.raises(ValueError, match=match):
        listing.read_video_csv(path)
