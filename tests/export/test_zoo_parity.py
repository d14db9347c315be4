"""Export parity of the zoo's largest graphs (the I3Ds and Slow), one format
each, on the TensorFlow backend: the rest of tests/export/test_exporter.py's
every-constructor check, in a file of its own so the two run side by side."""

import pytest

from keras_video.applications import registry
from tests.export.zoo import LARGEST, check_constructor


@pytest.mark.parametrize("name", [n for n in LARGEST if n in registry.MODELS])
def test_largest_constructors_match_keras_in_their_runtime(name, tmp_path):
    check_constructor(name, tmp_path)
