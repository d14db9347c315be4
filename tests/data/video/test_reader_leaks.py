"""A small guard against reader leaks; `benchmarks/reader_leaks.py` has the full
loads (2,000 open/read/close cycles of a 720p file, a 10-minute 1080p file read
frame by frame) and their figures."""

import pytest

from tests.helpers import load_benchmark


@pytest.fixture(scope="module")
def leaks():
    return load_benchmark("reader_leaks")


@pytest.fixture(scope="module")
def small_video(leaks, tmp_path_factory):
    path = tmp_path_factory.mktemp("leaks") / "360p.mp4"
    return leaks.write_h264(path, seconds=6, height=360, width=640)


@pytest.mark.parametrize("backend", ["pyav", "opencv"])
def test_resident_memory_stays_flat(leaks, small_video, backend):
    cycles = leaks.run_child("cycles", small_video, backend, 400)
    _, _, grew = leaks.growth(cycles["samples"], 400)
    assert grew < 50, cycles["samples"]
    sequential = leaks.run_child("long", small_video, backend, 180)
    assert sequential["samples"][-1][0] == 180  # every frame was read
    _, _, grew = leaks.growth(sequential["samples"], 180)
    assert grew < 50, sequential["samples"]
    # A leak of the frames themselves would show: 8 frames of 640x360 RGB are
    # 5.5 MB a cycle, 2 GB over the 400 cycles.
