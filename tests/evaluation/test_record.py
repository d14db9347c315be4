import os

from keras_video.data.clip_settings import ClipSettings
from keras_video.evaluation.protocols import get_protocol
from keras_video.evaluation.record import (
    COMPARED,
    compare_records,
    decoder_versions,
    listing_hash,
    make_record,
)


def files(tmp_path, sizes):
    paths = []
    for i, size in enumerate(sizes):
        path = tmp_path / f"v{i}.mp4"
        path.write_bytes(b"x" * size)
        paths.append(str(path))
    return paths


def test_listing_hash_follows_names_sizes_and_labels(tmp_path):
    paths = files(tmp_path, [3, 5])
    base = listing_hash(paths, [0, 1], str(tmp_path))
    assert base == listing_hash(paths[::-1], [1, 0], str(tmp_path))  # order-free
    assert base != listing_hash(paths, [1, 0], str(tmp_path))
    with open(paths[0], "ab") as f:
        f.write(b"y")
    assert base != listing_hash(paths, [0, 1], str(tmp_path))


def test_record_fields_and_comparison(tmp_path):
    paths = files(tmp_path, [3, 5, 7])
    settings = get_protocol("kinetics_10x3").clip_settings(
        ClipSettings(clip_length=8, image_size=224)
    )
    record = make_record(
        get_protocol("kinetics_10x3"), settings, paths=paths, labels=[0, 1, 1],
        root=str(tmp_path), skipped={paths[1]: "CorruptVideoError: x"},
        missing=[os.path.join(str(tmp_path), "gone.mp4")],
    )  # fmt: skip
    assert set(COMPARED) <= set(record)
    assert (record["views"], record["short_side"], record["fps"]) == (30, 256, "native")
    assert record["skipped"] == ["v1.mp4"] and record["missing"] == ["gone.mp4"]
    assert record["decoder"] == decoder_versions("auto")
    other = dict(record, short_side=224, versions={"keras": "0"})
    assert compare_records(record, record) == []
    assert compare_records(record, other) == ["short_side"]  # versions not compared
