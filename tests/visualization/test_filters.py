"""`keras_video.visualization.filters`: kernels as clips, hand-checked pixels,
an inflated layer beside its 2D filters, files that decode."""

import keras
import numpy as np
import pytest

from keras_video.data import VideoReader
from keras_video.layers import InflatedConv
from keras_video.visualization.filters import (
    filter_grid,
    inflated_filter_grid,
    kernel_clips,
    write_filter_grid,
)


def conv3d(kernel):
    layer = keras.layers.Conv3D(kernel.shape[-1], kernel.shape[:3], use_bias=False)
    layer.build((None, 4, 8, 8, kernel.shape[3]))
    layer.set_weights([kernel])
    return layer


def test_each_filter_on_its_own_scale():
    kernel = np.zeros((2, 1, 2, 3, 2), "float32")
    kernel[0, 0, 0, :, 0] = [1.0, -1.0, 0.5]  # filter 0: max |w| = 1
    kernel[1, 0, 1, :, 0] = [0.0, 0.25, -0.5]
    kernel[..., 1] = 10 * kernel[..., 0]  # filter 1: the same, ten times larger
    clips = kernel_clips(conv3d(kernel))
    assert clips.shape == (2, 2, 1, 2, 3) and clips.dtype == np.uint8
    # 0.5 + 0.5 * w / max|w|, times 255, rounded: 1 -> 255, -1 -> 0, 0 -> 128
    np.testing.assert_array_equal(clips[0, 0, 0, 0], [255, 0, 191])
    np.testing.assert_array_equal(clips[0, 1, 0, 1], [128, 159, 64])
    np.testing.assert_array_equal(clips[0, 0, 0, 1], [128, 128, 128])
    np.testing.assert_array_equal(clips[1], clips[0])


def test_other_channel_counts_are_grey():
    kernel = np.zeros((1, 1, 1, 4, 1), "float32")
    kernel[..., 0] = [[[[1.0, 3.0, -2.0, 2.0]]]]  # mean 1, max |mean| 1
    clips = kernel_clips(conv3d(kernel))
    np.testing.assert_array_equal(clips[0, 0, 0, 0], [255, 255, 255])
    one = kernel_clips(conv3d(kernel), channel=2)  # -2 / 2 -> 0
    np.testing.assert_array_equal(one[0, 0, 0, 0], [0, 0, 0])
    with pytest.raises(ValueError, match="channel"):
        kernel_clips(conv3d(kernel), channel=4)


def test_grid_layout():
    kernel = np.random.default_rng(0).normal(size=(3, 2, 2, 3, 5)).astype("float32")
    clips = kernel_clips(conv3d(kernel))
    grid = filter_grid(conv3d(kernel), scale=4, columns=2, spacing=1)
    # 3 rows x 2 columns of 8x8 cells, 1 px apart: 28 x 19, then made even
    assert grid.shape == (3, 28, 20, 3)
    np.testing.assert_array_equal(grid[:, 1:9, 1:9], np.repeat(np.repeat(
        clips[0], 4, axis=1), 4, axis=2))  # fmt: skip
    np.testing.assert_array_equal(grid[:, 19:27:4, 1:9:4], clips[4])  # row 3
    assert (grid[:, 0] == 255).all() and (grid[:, :, 9] == 255).all()
    assert (grid[:, 19:27, 10:18] == 255).all()  # no sixth filter
    assert filter_grid(conv3d(kernel), max_filters=2).shape[2] < grid.shape[2] * 2


def test_inflated_layer_beside_its_2d_filters():
    conv2d = keras.layers.Conv2D(4, 3)
    conv2d.build((None, 8, 8, 3))
    inflated = InflatedConv.from_conv2d(conv2d, time_kernel=3, mode="mean")
    grid = inflated_filter_grid(inflated, conv2d, scale=2, columns=4, spacing=2)
    # a cell: 6 px of 2D filter, a 1 px gap, 6 px of 3D clip
    assert grid.shape[0] == 3 and grid.shape[1:] == (10, 4 * 15 + 2, 3)
    still, clip = grid[:, 2:8, 2:8], grid[:, 2:8, 9:15]
    np.testing.assert_array_equal(still, clip)  # "mean": w / 3 on each frame
    np.testing.assert_array_equal(still[0], still[2])
    weights = inflated.get_weights()
    weights[0][0] = -weights[0][0]  # what training might do to the first frame
    inflated.set_weights(weights)
    grid = inflated_filter_grid(inflated, conv2d, scale=2, columns=4, spacing=2)
    assert (grid[0, 2:8, 9:15] != grid[0, 2:8, 2:8]).any()
    np.testing.assert_array_equal(grid[1, 2:8, 9:15], grid[1, 2:8, 2:8])
    other = keras.layers.Conv2D(4, 5)
    other.build((None, 8, 8, 3))
    with pytest.raises(ValueError, match="not the 2D twin"):
        inflated_filter_grid(inflated, other)
    with pytest.raises(ValueError, match="built=False"):
        filter_grid(keras.layers.Conv3D(2, 3))
    with pytest.raises(ValueError, match=r"Conv3D.*\(Dense"):
        filter_grid(keras.layers.Dense(2))


@pytest.mark.parametrize("name, frames", [("grid.gif", 3), ("grid.mp4", 24)])
def test_written_grids_decode_to_their_frames_and_size(tmp_path, name, frames):
    kernel = np.random.default_rng(1).normal(size=(3, 3, 3, 3, 6)).astype("float32")
    path = write_filter_grid(tmp_path / name, conv3d(kernel), scale=6)
    expected = filter_grid(conv3d(kernel), scale=6)
    with VideoReader(path) as reader:
        assert reader.num_frames == frames  # a GIF loops; an MP4 repeats 8 times
        assert (reader.height, reader.width) == expected.shape[1:3]
        decoded = reader.get_frames([0, 1, 2])
    error = np.abs(decoded.astype(int) - expected).mean()
    assert error < (1 if name.endswith(".gif") else 8)
