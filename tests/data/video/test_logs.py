"""Tests for `keras_video.data.video.logs`: native decoder logs off by default."""

import pytest

from tests.data.video.indexed_videos import run_script, videos

DECODE_CORRUPT = """
from keras_video.data.errors import CorruptVideoError
from keras_video.data.video import VideoReader, set_native_logging

if sys.argv[-1] == "on":
    set_native_logging(True)
for backend in ("opencv", "pyav"):
    try:
        VideoReader(sys.argv[-2], backend=backend).get_frames(range(40))
    except CorruptVideoError:
        print(backend, "raised")
"""


@pytest.mark.parametrize("switch", ["default", "env", "function"])
def test_ffmpeg_lines_only_with_the_switch(shared_data, switch):
    path = str(videos(shared_data) / "decord_corrupted.mp4")
    env = {"KERAS_VIDEO_NATIVE_LOGS": "1"} if switch == "env" else {}
    argv = f"sys.argv[1:] = [{path!r}, {'on' if switch == 'function' else 'off'!r}]\n"
    result = run_script(argv + DECODE_CORRUPT, env=env)
    assert result.stdout.split() == ["opencv", "raised", "pyav", "raised"]
    flood = "[h264 @" in result.stderr
    assert flood == (switch != "default"), result.stderr[-2000:]
