"""`RoIAlign` against a NumPy transcription of torchvision's RoIAlign kernel."""

import math

import keras
import numpy as np
import pytest

from keras_video.layers import RoIAlign
from tests.helpers import check_layer


def bilinear(feature_map, y, x):
    """torchvision's `bilinear_interpolate` for one sample, `(H, W, C)` map."""
    height, width = feature_map.shape[:2]
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return np.zeros(feature_map.shape[-1])
    y, x = max(y, 0.0), max(x, 0.0)
    y_low, x_low = int(y), int(x)
    if y_low >= height - 1:
        y_high = y_low = height - 1
        y = float(y_low)
    else:
        y_high = y_low + 1
    if x_low >= width - 1:
        x_high = x_low = width - 1
        x = float(x_low)
    else:
        x_high = x_low + 1
    ly, lx = y - y_low, x - x_low
    hy, hx = 1.0 - ly, 1.0 - lx
    return (
        hy * hx * feature_map[y_low, x_low]
        + hy * lx * feature_map[y_low, x_high]
        + ly * hx * feature_map[y_high, x_low]
        + ly * lx * feature_map[y_high, x_high]
    )


def roi_align_reference(
    features, boxes, output_size, spatial_scale=1.0, sampling_ratio=0, aligned=True
):
    """The kernel's loops; rows with `x2 <= x1` or `y2 <= y1` are padding (0)."""
    batch, _, _, channels = features.shape
    out_h, out_w = output_size
    out = np.zeros((batch, boxes.shape[1], out_h, out_w, channels))
    offset = 0.5 if aligned else 0.0
    for b in range(batch):
        for n, (x1, y1, x2, y2) in enumerate(boxes[b].astype(np.float64)):
            if x2 <= x1 or y2 <= y1:
                continue
            start_w, start_h = x1 * spatial_scale - offset, y1 * spatial_scale - offset
            roi_w = x2 * spatial_scale - offset - start_w
            roi_h = y2 * spatial_scale - offset - start_h
            if not aligned:
                roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
            bin_h, bin_w = roi_h / out_h, roi_w / out_w
            grid_h = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_h / out_h)
            grid_w = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_w / out_w)
            count = max(grid_h * grid_w, 1)
            for ph in range(out_h):
                for pw in range(out_w):
                    total = np.zeros(channels)
                    for iy in range(grid_h):
                        y = start_h + ph * bin_h + (iy + 0.5) * bin_h / grid_h
                        for ix in range(grid_w):
                            x = start_w + pw * bin_w + (ix + 0.5) * bin_w / grid_w
                            total += bilinear(features[b], y, x)
                    out[b, n, ph, pw] = total / count
    return out


def run(layer, features, boxes):
    return keras.ops.convert_to_numpy(layer([features, boxes]))


FEATURES = np.random.default_rng(0).normal(size=(2, 6, 7, 3)).astype("float32")
BOXES = {
    # on pixel edges, inside the map
    "edges": [[[0, 0, 7, 6], [1, 2, 4, 5]], [[2, 0, 3, 6], [0, 3, 7, 4]]],
    # fractional corners, some smaller than a bin or a cell
    "fractional": [
        [[0.3, 1.7, 4.2, 2.9], [2.25, 2.25, 2.75, 5.5]],
        [[5.1, 0.4, 6.6, 5.9], [1.0, 1.0, 1.4, 1.2]],
    ],
    # partly (or wholly) outside the map: samples past -1 / H count as 0
    "outside": [
        [[-3.0, -2.0, 4.0, 3.0], [5.0, 4.0, 11.0, 9.5]],
        [[-1.2, 2.0, 8.4, 7.3], [-6.0, -6.0, -2.0, -1.5]],
    ],
}


@pytest.mark.parametrize("case", sorted(BOXES))
@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("sampling_ratio", [0, 1, 2])
def test_equals_the_numpy_kernel(case, aligned, sampling_ratio):
    boxes = np.array(BOXES[case], dtype="float32")
    kwargs = dict(output_size=(2, 3), sampling_ratio=sampling_ratio, aligned=aligned)
    expected = roi_align_reference(FEATURES, boxes, **kwargs)
    got = run(RoIAlign(**kwargs), FEATURES, boxes)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert np.abs(expected).max() > 0.1  # the boxes do sample the map


@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("sampling_ratio", [0, 1, 2])
def test_spatial_scale_one_sixteenth(aligned, sampling_ratio):
    # a 5x4 map of a 80x64 image; boxes in image pixels
    features = np.random.default_rng(1).normal(size=(1, 5, 4, 2)).astype("float32")
    boxes = np.array(
        [
            [
                [0, 0, 64, 80],
                [8.5, 20.25, 40.0, 61.0],
                [-20, 30, 30, 100],
                [17, 17, 20, 19],
            ]
        ],
        dtype="float32",
    )
    kwargs = dict(
        output_size=3,
        spatial_scale=1 / 16,
        sampling_ratio=sampling_ratio,
        aligned=aligned,
    )
    expected = roi_align_reference(
        features, boxes, (3, 3), 1 / 16, sampling_ratio, aligned
    )
    got = run(RoIAlign(**kwargs), features, boxes)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_a_linear_map_gives_the_bin_centres():
    # Worked by hand: bilinear sampling of f(y, x) = x is exact, so each bin is
    # the mean x of its samples, its centre. aligned: box x 2..6 is 1.5..5.5 on
    # the map, two bins of width 2: centres 2.5 and 4.5; rows 1..3 -> 0.5..2.5.
    features = np.tile(np.arange(8, dtype="float32"), (6, 1))[None, :, :, None]
    boxes = np.array([[[2.0, 1.0, 6.0, 3.0]]], dtype="float32")
    got = run(RoIAlign((1, 2), sampling_ratio=2), features, boxes)
    np.testing.assert_allclose(got[0, 0, :, :, 0], [[2.5, 4.5]], atol=1e-6)
    # without the half-pixel shift the box is 2..6 on the map: centres 3 and 5
    got = run(RoIAlign((1, 2), sampling_ratio=2, aligned=False), features, boxes)
    np.testing.assert_allclose(got[0, 0, :, :, 0], [[3.0, 5.0]], atol=1e-6)
    # adaptive: ceil(4 / 2) = 2 samples per bin along x, ceil(2 / 1) = 2 along y
    got = run(RoIAlign((1, 2), sampling_ratio=0), features, boxes)
    np.testing.assert_allclose(got[0, 0, :, :, 0], [[2.5, 4.5]], atol=1e-6)


def test_adaptive_sampling_counts_points_per_box():
    # f(y, x) = x**2 is not linear, so the number of samples shows: a 6-cell
    # wide box with one bin takes ceil(6 / 1) = 6 points at 0.5, 1.5, ... 5.5
    # (aligned: box 0.5..6.5 - 0.5), interpolated on x**2 between cells.
    features = (np.arange(8, dtype="float32") ** 2)[None, None, :, None]
    features = np.repeat(features, 2, axis=1)
    boxes = np.array([[[0.5, 0.5, 6.5, 1.5]]], dtype="float32")
    got = run(RoIAlign(1, sampling_ratio=0), features, boxes)[0, 0, 0, 0, 0]
    samples = np.arange(6) + 0.5
    interpolated = (np.floor(samples) ** 2 + np.ceil(samples) ** 2) / 2
    np.testing.assert_allclose(got, interpolated.mean(), atol=1e-5)


def test_padding_rows_give_zeros_and_change_nothing_else():
    boxes = np.array(BOXES["fractional"], dtype="float32")
    layer = RoIAlign(2)
    alone = run(layer, FEATURES, boxes)
    padded = np.concatenate(
        [boxes, np.full((2, 2, 4), -1.0, "float32"), np.zeros((2, 1, 4), "float32")],
        axis=1,
    )
    got = run(layer, FEATURES, padded)
    np.testing.assert_allclose(got[:, :2], alone, atol=1e-6)
    np.testing.assert_array_equal(got[:, 2:], 0.0)
    # x2 <= x1 or y2 <= y1 is padding too
    flipped = boxes[:, :, [2, 1, 0, 3]]
    np.testing.assert_array_equal(run(layer, FEATURES, flipped), 0.0)


def test_empty_box_lists(tmp_path):
    boxes = np.zeros((2, 0, 4), "float32")
    out = check_layer(RoIAlign(3), [FEATURES, boxes], tmp_path, (2, 0, 3, 3, 3))
    assert out.shape == (2, 0, 3, 3, 3)


def test_check_layer(tmp_path):
    boxes = np.array(BOXES["outside"], dtype="float32")
    layer = RoIAlign((2, 3), spatial_scale=0.5, sampling_ratio=2, aligned=False)
    out = check_layer(layer, [FEATURES, boxes], tmp_path, (2, 2, 2, 3, 3))
    np.testing.assert_allclose(
        out, roi_align_reference(FEATURES, boxes, (2, 3), 0.5, 2, False), atol=1e-5
    )
    assert layer.get_config()["output_size"] == (2, 3)


def test_mixed_precision_keeps_boxes_float32():
    # float16 boxes would move x = 200.3 by up to 0.06 pixel; the layer casts
    # boxes to float32 itself, only the features run in float16.
    features = np.random.default_rng(2).normal(size=(1, 14, 14, 4)).astype("float32")
    boxes = np.array([[[200.3, 17.9, 223.1, 150.2]]], dtype="float32")
    layer = RoIAlign(2, spatial_scale=1 / 16, dtype="mixed_float16")
    got = layer([features, boxes])
    assert keras.backend.standardize_dtype(got.dtype) == "float16"
    expected = roi_align_reference(features, boxes, (2, 2), 1 / 16)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(got), expected, atol=5e-3)


def test_differentiable_in_the_features():
    # Every output is linear in the features: the gradient of the sum is the
    # sum of every bin's weights, here measured against a finite difference.
    boxes = np.array(BOXES["fractional"], dtype="float32")
    layer = RoIAlign(2, sampling_ratio=2)
    weights = np.random.default_rng(3).normal(size=(2, 2, 2, 2, 3))
    base = (
        roi_align_reference(FEATURES, boxes, (2, 2), sampling_ratio=2) * weights
    ).sum()
    bumped = FEATURES.copy()
    bumped[0, 2, 3, 1] += 1.0
    changed = (
        roi_align_reference(bumped, boxes, (2, 2), sampling_ratio=2) * weights
    ).sum()
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        grad = jax.grad(lambda f: (layer([f, boxes]) * weights).sum())(FEATURES)
    elif backend == "torch":
        import torch

        f = torch.tensor(FEATURES, requires_grad=True)
        (layer([f, torch.tensor(boxes)]) * torch.tensor(weights)).sum().backward()
        grad = f.grad
    else:
        import tensorflow as tf

        variable = tf.Variable(FEATURES)
        with tf.GradientTape() as tape:
            loss = keras.ops.sum(layer([variable, boxes]) * weights)
        grad = tape.gradient(loss, variable)
    grad = keras.ops.convert_to_numpy(grad)
    np.testing.assert_allclose(grad[0, 2, 3, 1], changed - base, atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="output_size"):
        RoIAlign(0)
    with pytest.raises(ValueError, match="spatial_scale"):
        RoIAlign(spatial_scale=0)
    with pytest.raises(ValueError, match="sampling_ratio"):
        RoIAlign(sampling_ratio=1.5)
    boxes = np.zeros((2, 1, 4), "float32")
    with pytest.raises(ValueError, match="features, boxes"):
        RoIAlign()(FEATURES)
    with pytest.raises(ValueError, match="height, width, channels"):
        RoIAlign()([FEATURES[None], boxes])
    with pytest.raises(ValueError, match="x1, y1, x2, y2"):
        RoIAlign()([FEATURES, boxes[..., :2]])
