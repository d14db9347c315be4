"""`keras_video.flow.flo`: Middlebury .flo files, byte for byte."""

import struct

import numpy as np
import pytest

from keras_video import flow


def flo_bytes(width, height, values, magic=202021.25):
    return (
        struct.pack("<f", magic)
        + struct.pack("<ii", width, height)
        + struct.pack(f"<{len(values)}f", *values)
    )


def test_reads_a_hand_made_file(tmp_path):
    path = tmp_path / "a.flo"
    path.write_bytes(flo_bytes(3, 2, range(12)))
    assert path.read_bytes()[:4] == b"PIEH"
    xy = flow.read_flo(path)
    assert xy.dtype == np.float32 and xy.shape == (2, 3, 2)
    # Row by row, (x, y) interleaved: pixel (row 1, col 0) holds 6 and 7.
    np.testing.assert_array_equal(xy[1, 0], [6.0, 7.0])
    np.testing.assert_array_equal(xy.ravel(), np.arange(12))
    xy[0, 0] = 1.0  # writable


def test_write_is_byte_exact_and_round_trips(tmp_path):
    xy = np.arange(12, dtype=np.float64).reshape(2, 3, 2) / 4 - 1
    flow.write_flo(tmp_path / "b.flo", xy)
    assert (tmp_path / "b.flo").read_bytes() == flo_bytes(3, 2, xy.ravel())
    np.testing.assert_array_equal(flow.read_flo(tmp_path / "b.flo"), xy)
    assert [p.name for p in tmp_path.iterdir()] == ["b.flo"]


@pytest.mark.parametrize(
    "data, match",
    [
        (flo_bytes(3, 2, range(12), magic=1.0), "magic number 1.0"),
        (b"PIEH", "shorter than the 12-byte header"),
        (
            flo_bytes(3, 2, range(11)),
            r"width=3, height=2 \(60 bytes\) but the file has 56 bytes",
        ),
        (flo_bytes(3, 2, range(13)), "the file has 64 bytes"),
        (flo_bytes(0, 2, []), "width=0"),
        (flo_bytes(-1, -8, range(16)), "width=-1, height=-8"),
    ],
)
def test_bad_files_are_named(tmp_path, data, match):
    path = tmp_path / "broken.flo"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=f"broken.flo.*{match}"):
        flow.read_flo(path)


def test_write_rejects_bad_shapes(tmp_path):
    with pytest.raises(ValueError, match=r"Received: flow.shape=\(1, 2, 3, 2\)"):
        flow.write_flo(tmp_path / "c.flo", np.zeros((1, 2, 3, 2)))


def test_reads_mmflow_ground_truth(shared_data):
    xy = flow.read_flo(shared_data / "flow" / "mmflow" / "00001_flow.flo")
    assert xy.shape == (50, 50, 2)
    # Mean magnitude: the zero-flow EPE the data README gives (1.78).
    assert np.linalg.norm(xy, axis=-1).mean() == pytest.approx(1.78331, abs=1e-5)
    other = flow.read_flo(shared_data / "flow" / "mmflow" / "0000000-flow_01.flo")
    assert other.shape == (50, 50, 2) and np.isfinite(other).all()
