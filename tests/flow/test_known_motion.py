"""`keras_video.flow.known_motion`: the references are right to the pixel."""

import cv2
import numpy as np

from keras_video.flow import known_motion


def test_textured_image():
    image = known_motion.textured_image(64, seed=3)
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    assert image.min() == 0 and image.max() == 255
    np.testing.assert_array_equal(image, known_motion.textured_image(64, seed=3))
    # Textured everywhere: no flat 8x8 block.
    blocks = image[..., 0].reshape(8, 8, 8, 8).std(axis=(1, 3))
    assert blocks.min() > 3


def test_integer_translation_moves_pixels_exactly():
    image = known_motion.textured_image(32)
    frames, truth = known_motion.translation(image, (2.0, -1.0))
    assert frames.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(truth, np.broadcast_to([2.0, -1.0], (32, 32, 2)))
    # The pixel at (row r, col c) is at (r - 1, c + 2) in the second frame.
    np.testing.assert_array_equal(frames[1][4:28, 6:28], image[5:29, 4:26])


def test_rotation_flow_is_the_analytic_field():
    image = known_motion.textured_image(65)
    frames, truth = known_motion.rotation(image, 90.0)
    # A 90-degree turn about the centre pixel (32, 32): the centre stays put,
    # and the point 10 px to its right (x 42) goes to 10 px above (y 22).
    np.testing.assert_allclose(truth[32, 32], [0.0, 0.0], atol=1e-5)
    np.testing.assert_allclose(truth[32, 42], [-10.0, -10.0], atol=1e-5)
    np.testing.assert_array_equal(frames[1], np.rot90(image))
    # Warping the second frame back along the true flow gives the first.
    frames, truth = known_motion.rotation(image, 2.0)
    rows, cols = np.mgrid[0:65, 0:65].astype(np.float32)
    back = cv2.remap(
        frames[1], cols + truth[..., 0], rows + truth[..., 1], cv2.INTER_CUBIC
    )
    inside = known_motion.interior_mask(image.shape, 8)
    difference = np.abs(back.astype(int) - image)[inside]
    assert (
        difference.mean() < 1.0 < np.abs(frames[1].astype(int) - image)[inside].mean()
    )


def test_interior_mask():
    mask = known_motion.interior_mask((6, 5, 3), 2)
    assert mask.sum() == 2 and mask[2:4, 2].all()
