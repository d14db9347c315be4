"""`keras_video.data` imports its names on first use (that the reader,
samplers, settings and listing need no TensorFlow is checked in
`tests/test_import_without_tensorflow.py`); every public name resolves."""

import pytest


def test_every_public_name_resolves():
    import keras_video.data as data

    for name in data.__all__:
        assert getattr(data, name) is not None, name
    assert "video_dataset_from_directory" in dir(data)
    with pytest.raises(AttributeError, match="no_such_name"):
        data.__getattr__("no_such_name")
