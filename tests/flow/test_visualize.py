"""`keras_video.flow.visualize`: the Middlebury colour wheel, hand-checked."""

import math

import numpy as np
import pytest

from keras_video import flow

WHEEL = flow.COLOR_WHEEL


def test_wheel_has_the_55_colours_of_baker_et_al():
    assert WHEEL.shape == (55, 3) and WHEEL.dtype == np.uint8
    # Each transition starts at a pure colour: R 0, Y 15, G 21, C 25, B 36, M 49.
    starts = {0: (255, 0, 0), 15: (255, 255, 0), 21: (0, 255, 0), 25: (0, 255, 255)}
    starts.update({36: (0, 0, 255), 49: (255, 0, 255)})
    for row, color in starts.items():
        assert tuple(WHEEL[row]) == color
    assert tuple(WHEEL[1]) == (255, 17, 0)  # floor(255 / 15)
    assert tuple(WHEEL[13]) == (255, 221, 0)  # floor(255 * 13 / 15)
    assert tuple(WHEEL[27]) == (0, 209, 255)  # 255 - floor(255 * 2 / 11)
    assert tuple(WHEEL[54]) == (255, 0, 43)  # 255 - floor(255 * 5 / 6)


@pytest.mark.parametrize(
    "xy, rgb",
    [
        # angle position fk = (atan2(-y, -x) / pi + 1) / 2 * 54
        ((1.0, 0.0), (255, 0, 0)),  # right: fk 0, red
        ((0.0, 1.0), (255, 229, 0)),  # down: fk 13.5, between rows 13 and 14
        ((-1.0, 0.0), (0, 209, 255)),  # left: fk 27, row 27
        ((0.0, -1.0), (88, 0, 255)),  # up: fk 40.5, (78 + 98) / 2
        ((0.5, 0.0), (255, 127, 127)),  # half magnitude: half saturated
        ((0.0, 0.0), (255, 255, 255)),  # no motion: white
        ((2.0, 0.0), (191, 0, 0)),  # beyond max_magnitude: 75% of red
        ((np.nan, 0.0), (0, 0, 0)),  # unknown: black
        ((0.0, 2e9), (0, 0, 0)),  # Middlebury's unknown mark (> 1e9)
    ],
)
def test_hand_checked_colours(xy, rgb):
    image = flow.to_color(np.array([[xy]]), max_magnitude=1.0)
    assert image.shape == (1, 1, 3) and image.dtype == np.uint8
    assert tuple(image[0, 0]) == rgb


def test_default_scale_is_the_largest_known_magnitude_of_the_clip():
    clip = np.array([[[[2.0, 0.0]]], [[[1.0, 0.0]]], [[[np.inf, 5.0]]]])
    image = flow.to_color(clip)
    assert image.shape == (3, 1, 1, 3)
    np.testing.assert_array_equal(
        image[:, 0, 0], [[255, 0, 0], [255, 127, 127], [0, 0, 0]]
    )
    np.testing.assert_array_equal(flow.to_color(np.zeros((2, 3, 2))), 255)


def reference_color(fx, fy):
    """Scharstein's `computeColor` (colorcode.cpp), one vector, in Python floats."""
    ncols = 55
    rad = math.sqrt(fx * fx + fy * fy)
    fk = (math.atan2(-fy, -fx) / math.pi + 1.0) / 2.0 * (ncols - 1)
    k0 = int(fk)
    k1 = (k0 + 1) % ncols
    f = fk - k0
    pixel = []
    for b in range(3):
        col = (1 - f) * WHEEL[k0][b] / 255.0 + f * WHEEL[k1][b] / 255.0
        col = 1 - rad * (1 - col) if rad <= 1 else col * 0.75
        pixel.append(int(255.0 * col + 1e-9))  # + 1e-9: see to_color
    return pixel


def test_matches_the_reference_loop_on_random_vectors():
    xy = np.random.default_rng(0).uniform(-1.3, 1.3, (20, 25, 2))
    expected = [[reference_color(*v) for v in row] for row in xy]
    np.testing.assert_array_equal(flow.to_color(xy, max_magnitude=1.0), expected)
    # Scaling flow and max_magnitude together changes nothing.
    np.testing.assert_array_equal(
        flow.to_color(7.5 * xy, max_magnitude=7.5), flow.to_color(xy, max_magnitude=1.0)
    )


def test_errors():
    with pytest.raises(ValueError, match=r"Received: flow.shape=\(4, 3\)"):
        flow.to_color(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="Received: max_magnitude=0"):
        flow.to_color(np.zeros((4, 3, 2)), max_magnitude=0)
