"""`keras_video.flow.storage`: uint8 quantisation and x/y flow frames on disk."""

import os

import cv2
import numpy as np
import pytest

from keras_video import flow
from keras_video.flow import known_motion, storage


def test_to_uint8_exact_values():
    values = np.array([-25.0, -20.0, -10.0, 0.0, 10.0, 20.0, 25.0])
    # 255 * (v + 20) / 40: 0, 0, 63.75, 127.5 (ties to even: 128), 191.25, 255
    np.testing.assert_array_equal(flow.to_uint8(values), [0, 0, 64, 128, 191, 255, 255])
    np.testing.assert_array_equal(
        flow.to_uint8(values, bound=10), [0, 0, 0, 128, 255, 255, 255]
    )
    assert flow.to_uint8(np.zeros((2, 3, 4, 2))).dtype == np.uint8


def test_from_uint8_exact_values():
    decoded = flow.from_uint8(np.array([0, 1, 128, 255], np.uint8))
    assert decoded.dtype == np.float32
    expected = np.float32([-20.0, 40 / 255 - 20, 128 * 40 / 255 - 20, 20.0])
    np.testing.assert_array_equal(decoded, expected)
    np.testing.assert_array_equal(
        flow.from_uint8(np.array([0, 255], np.uint8), bound=5), [-5.0, 5.0]
    )


@pytest.mark.parametrize("bound", [20, 15, 0.5])
def test_round_trip_within_half_a_step(bound):
    # Every quantisation level comes back to itself ...
    levels = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(
        flow.to_uint8(flow.from_uint8(levels, bound), bound), levels
    )
    # ... and flow inside [-bound, bound] within half a step, bound / 255,
    # plus the float32 rounding of the decoded value (at most |v| * eps / 2).
    values = np.linspace(-bound, bound, 200_001)
    error = np.abs(flow.from_uint8(flow.to_uint8(values, bound), bound) - values)
    half_step = bound / 255
    assert error.max() <= half_step + bound * np.finfo(np.float32).eps / 2
    assert error.max() >= half_step * 0.999  # the bound is reached: it is tight
    # Outside, the flow is clipped to the bound.
    np.testing.assert_array_equal(
        flow.from_uint8(flow.to_uint8([-3 * bound, 3 * bound], bound), bound),
        np.float32([-bound, bound]),
    )


def test_quantisation_errors():
    with pytest.raises(ValueError, match="Received: bound=0"):
        flow.to_uint8(np.zeros(3), bound=0)
    with pytest.raises(ValueError, match="1 non-finite"):
        flow.to_uint8(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="Received: quantized.dtype=float64"):
        flow.from_uint8(np.zeros(3))


def smooth_flow(num_frames=3):
    # Rotations by 4, 8, 12 degrees: smooth fields up to about 15 px (< 20).
    image = known_motion.textured_image(64)
    return np.stack(
        [known_motion.rotation(image, 4.0 * (t + 1))[1] for t in range(num_frames)]
    )


def test_png_frames_are_exact_and_named_like_mmaction2(tmp_path):
    xy = smooth_flow()
    written = flow.write_flow_frames(tmp_path, xy, format="png")
    names = [f"{axis}_{t:05d}.png" for t in (1, 2, 3) for axis in "xy"]
    assert sorted(os.listdir(tmp_path)) == sorted(names)  # no temporary file left
    assert written[0] == (str(tmp_path / "x_00001.png"), str(tmp_path / "y_00001.png"))
    quantized = flow.to_uint8(xy)
    np.testing.assert_array_equal(
        cv2.imread(str(tmp_path / "y_00002.png"), cv2.IMREAD_GRAYSCALE),
        quantized[1, ..., 1],
    )
    read = flow.read_flow_frames(tmp_path, format="png")
    np.testing.assert_array_equal(read, flow.from_uint8(quantized))
    np.testing.assert_array_equal(
        flow.read_flow_frames(tmp_path, [2, 0], format="png"), read[[2, 0]]
    )


def test_jpeg_frames_within_one_grey_level_on_smooth_flow(tmp_path):
    xy = smooth_flow()
    flow.write_flow_frames(tmp_path, xy)
    assert sorted(os.listdir(tmp_path))[:2] == ["x_00001.jpg", "x_00002.jpg"]
    quantized = flow.to_uint8(xy)
    for t in range(3):
        for channel, axis in enumerate("xy"):
            image = cv2.imread(str(tmp_path / f"{axis}_{t + 1:05d}.jpg"), 0)
            difference = np.abs(image.astype(int) - quantized[t, ..., channel])
            assert difference.max() <= 1
    read = flow.read_flow_frames(tmp_path)
    assert read.shape == (3, 64, 64, 2) and read.dtype == np.float32
    assert np.abs(read - xy).max() <= 1.5 * 40 / 255 + 1e-5  # 1 level + 1/2 step


def test_reads_frames_written_by_another_tool(tmp_path):
    # MMAction2 layout made with plain cv2.imwrite: x = 0 (level 0), y = 255.
    for t in (1, 2):
        cv2.imwrite(str(tmp_path / f"x_{t:05d}.png"), np.zeros((4, 5), np.uint8))
        cv2.imwrite(str(tmp_path / f"y_{t:05d}.png"), np.full((4, 5), 255, np.uint8))
    read = flow.read_flow_frames(tmp_path, format="png", bound=15)
    assert read.shape == (2, 4, 5, 2)
    np.testing.assert_array_equal(read[..., 0], -15.0)
    np.testing.assert_array_equal(read[..., 1], 15.0)


def test_missing_and_broken_frames_are_named(tmp_path):
    flow.write_flow_frames(tmp_path, np.zeros((3, 8, 8, 2)), format="png")
    # A killed job's temporary file is not a frame.
    (tmp_path / ".x_00004.png.tmp-0123456789ab").write_bytes(b"half")
    assert flow.read_flow_frames(tmp_path, format="png").shape == (3, 8, 8, 2)

    os.remove(tmp_path / "y_00002.png")
    with pytest.raises(FileNotFoundError, match="y_00002.png"):
        flow.read_flow_frames(tmp_path, format="png")
    with pytest.raises(FileNotFoundError, match="x_00010.png"):
        flow.read_flow_frames(tmp_path, [9], format="png")
    os.remove(tmp_path / "x_00002.png")
    with pytest.raises(ValueError, match="x_00002.png is missing"):
        flow.read_flow_frames(tmp_path, format="png")
    (tmp_path / "x_00001.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="x_00001.png"):
        flow.read_flow_frames(tmp_path, [0], format="png")
    with pytest.raises(ValueError, match="No flow frames"):
        flow.read_flow_frames(tmp_path, [])


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"Received: flow.shape=\(8, 8, 2\)"):
        flow.write_flow_frames(tmp_path, np.zeros((8, 8, 2)))
    with pytest.raises(ValueError, match="Received: format='bmp'"):
        flow.write_flow_frames(tmp_path, np.zeros((1, 8, 8, 2)), format="bmp")
    with pytest.raises(ValueError, match="Received: format='tif'"):
        flow.read_flow_frames(tmp_path, format="tif")


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "x_00001.jpg"
    storage.write_atomic(path, b"old frame")

    def killed(src, dst):
        raise KeyboardInterrupt  # stands for a job killed before the rename

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        storage.write_atomic(path, b"new frame")
    assert path.read_bytes() == b"old frame"
    assert os.listdir(tmp_path) == ["x_00001.jpg"]
