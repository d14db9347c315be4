"""Fixtures shared by the video tests."""

import pytest

from tests.data.video.indexed_videos import write_indexed_video


@pytest.fixture(scope="module")
def long_gop_video(tmp_path_factory):
    """120 frames, keyframe every 50, up to 3 B-frames."""
    path = tmp_path_factory.mktemp("videos") / "gop50_b3.mp4"
    return write_indexed_video(path, 120, gop=50, bframes=3)
