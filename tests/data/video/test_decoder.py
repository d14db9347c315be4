"""Tests for `keras_video.data.video.decoder` and the backend table."""

import numpy as np
import pytest

from keras_video.data.video import BACKENDS
from keras_video.data.video.backends import AUTO_ORDER, DECODERS
from keras_video.data.video.decoder import Decoder, rotate


def test_backends_are_found_by_module():
    assert sorted(DECODERS) == ["opencv", "pyav"]
    assert BACKENDS == ("auto", "opencv", "pyav")
    assert AUTO_ORDER == ("pyav", "opencv")  # the faster exact path first
    for name, decoder in DECODERS.items():
        assert issubclass(decoder, Decoder) and decoder.name == name
    assert DECODERS["opencv"].first_stream_only
    assert not DECODERS["pyav"].first_stream_only


def test_base_decoder_is_an_interface():
    decoder = Decoder("video.mp4", index=None)
    with pytest.raises(NotImplementedError):
        decoder.decode([0], lambda i, image: None)
    decoder.close()  # nothing to release


@pytest.mark.parametrize("rotation, shape", [(0, (2, 3)), (90, (3, 2)), (-90, (3, 2))])
def test_rotate_turns_counter_clockwise(rotation, shape):
    image = np.arange(6, dtype=np.uint8).reshape(2, 3, 1).repeat(3, axis=2)
    turned = rotate(image, rotation)
    assert turned.shape[:2] == shape and turned.flags.c_contiguous
    if rotation == 90:
        assert turned[0, 0, 0] == image[0, -1, 0]  # top-right goes to top-left
