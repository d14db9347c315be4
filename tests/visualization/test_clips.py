"""`keras_video.visualization.clips`: GIF and MP4 files that decode with the
package's reader to the frames and size written."""

import numpy as np
import pytest

from keras_video.data import VideoReader
from keras_video.visualization.clips import to_uint8, write_clip


def test_to_uint8_maps_the_value_range():
    np.testing.assert_array_equal(
        to_uint8(np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0]), (-1, 1)),
        [0, 0, 128, 191, 255, 255],  # 127.5 and 191.25 rounded
    )
    np.testing.assert_array_equal(to_uint8(np.array([0.0, 254.6])), [0, 255])
    with pytest.raises(ValueError, match="value_range"):
        to_uint8(np.zeros(3), (1, 1))


def moving_square(num_frames=5, size=(30, 42)):
    frames = np.full((num_frames, *size, 3), (20, 40, 200), np.uint8)
    for i in range(num_frames):
        frames[i, 5:15, 4 * i : 4 * i + 10] = (250, 200, 0)
    frames[2] = frames[1]  # a repeated frame stays a frame
    return frames


def test_gif_decodes_to_every_frame_exactly(tmp_path):
    frames = moving_square()
    path = write_clip(tmp_path / "a.gif", frames, fps=10, repeats=2)
    with VideoReader(path) as reader:
        assert (reader.num_frames, reader.height, reader.width) == (10, 30, 42)
        decoded = reader.get_frames(range(10))
    np.testing.assert_array_equal(decoded, np.concatenate([frames, frames]))


def test_gif_of_many_colours_is_close(tmp_path):
    rng = np.random.default_rng(0)
    smooth = np.linspace(0, 255, 64, dtype=np.float32)
    frames = np.stack(
        [np.stack([*np.meshgrid(smooth, smooth), np.full((64, 64), 16.0 * i)], -1)
         for i in range(6)]
    ).astype(np.uint8)  # fmt: skip
    frames[:, :8, :8] = rng.integers(0, 256, (6, 8, 8, 3))
    with VideoReader(write_clip(tmp_path / "b.gif", frames)) as reader:
        decoded = reader.get_frames(range(reader.num_frames))
    assert decoded.shape == frames.shape
    assert np.abs(decoded.astype(int) - frames).mean() < 10  # 24,576 colours in 256


def test_mp4_of_odd_size_is_padded_to_even(tmp_path):
    frames = moving_square(4, (31, 41))
    with VideoReader(write_clip(tmp_path / "c.mp4", frames, repeats=3)) as reader:
        assert (reader.num_frames, reader.height, reader.width) == (12, 32, 42)
        decoded = reader.get_frames([5])[0]
    assert np.abs(decoded[:31, :41].astype(int) - frames[1]).mean() < 6  # yuv420p


def test_bad_frames():
    with pytest.raises(ValueError, match="uint8 RGB"):
        write_clip("x.gif", np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="uint8 RGB"):
        write_clip("x.gif", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="repeats"):
        write_clip("x.gif", np.zeros((2, 8, 8, 3), np.uint8), repeats=0)
