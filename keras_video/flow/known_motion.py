"""Image pairs with known motion: the exact references for flow methods.

A textured image is moved by an affine map `M` with `cv2.warpAffine`
(bicubic). OpenCV's warp puts the point `p` of the first image at `M p` in
the second, so the true flow at `p` is `M p - p`, known analytically at
every pixel: constant for a translation, growing with the distance to the
centre for a rotation. Near the borders the second image is filled by
reflection, so compare away from them (`interior_mask`).
"""

import cv2
import numpy as np


def textured_image(size=128, sigma=2.0, seed=0):
    """Smoothed uniform noise, uint8 RGB `(size, size, 3)`, stretched to 0..255.

    Texture at every pixel (no aperture problem) and smooth enough
    (Gaussian, `sigma` pixels) for sub-pixel interpolation to be accurate.
    """
    noise = np.random.default_rng(seed).random((size, size, 3), dtype=np.float32)
    image = cv2.GaussianBlur(noise, (0, 0), sigma)
    image = (image - image.min()) / (image.max() - image.min())
    return np.rint(image * 255).astype(np.uint8)


def affine_pair(image, matrix):
    """`image` and `image` warped by the 2x3 affine `matrix`, with the true flow.

    Returns:
        `(frames, flow)`: uint8 `(2, H, W, 3)` and float32 `(H, W, 2)`.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    height, width = image.shape[:2]
    moved = cv2.warpAffine(
        image,
        matrix,
        (width, height),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REFLECT,
    )
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    points = np.stack([cols, rows, np.ones_like(cols)], axis=-1)
    flow = points @ matrix.T - points[..., :2]
    return np.stack([image, moved]), flow.astype(np.float32)


def translation(image, shift=(1.5, -0.75)):
    """`image` shifted by `shift = (x, y)` pixels; the true flow is `shift`.

    Example:

    ```python
    from keras_video.flow import known_motion

    frames, truth = known_motion.translation(known_motion.textured_image())
    ```
    """
    dx, dy = shift
    return affine_pair(image, [[1.0, 0.0, dx], [0.0, 1.0, dy]])


def rotation(image, degrees=2.0):
    """`image` rotated by `degrees` (counter-clockwise on screen) about its centre.

    The centre is `((W - 1) / 2, (H - 1) / 2)`; the true flow at `p` is
    `R p - p`, up to about `degrees * pi / 180 * distance` pixels.
    """
    height, width = image.shape[:2]
    centre = ((width - 1) / 2, (height - 1) / 2)
    return affine_pair(image, cv2.getRotationMatrix2D(centre, degrees, 1.0))


def interior_mask(shape, margin):
    """Boolean `(H, W)` mask, true except `margin` pixels along each border."""
    mask = np.zeros(shape[:2], dtype=bool)
    mask[margin : shape[0] - margin, margin : shape[1] - margin] = True
    return mask
