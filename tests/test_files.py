"""`keras_video.files`: atomic writes and JSON files named in errors."""

import os

import pytest

from keras_video import files


def test_write_atomic_replaces_whole_files_only(tmp_path, monkeypatch):
    path = tmp_path / "a.bin"
    files.write_atomic(path, b"old")
    assert path.read_bytes() == b"old"

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        files.write_atomic(path, b"new")
    assert path.read_bytes() == b"old"  # the old file is intact
    assert sorted(os.listdir(tmp_path)) == ["a.bin"]  # no temporary file left


def test_read_json_file(tmp_path):
    assert files.read_json_file(tmp_path / "none.json", "manifest") is None
    good = tmp_path / "good.json"
    good.write_text('{"a": [1, 2]}')
    assert files.read_json_file(good, "manifest") == {"a": [1, 2]}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"bad\.json is not a readable manifest"):
        files.read_json_file(bad, "manifest")
