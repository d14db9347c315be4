"""`keras_video.detection.ava_head`: the RoI head's layers and `apply_roi_head`."""

import keras
import numpy as np
import pytest

from keras_video.detection.ava_head import MaskPaddedBoxes, RoIFeatures, apply_roi_head
from tests.helpers import check_layer, sigmoid
from tests.layers.test_roi_align import roi_align_reference

FEATURES = np.random.default_rng(0).random((2, 3, 6, 7, 4), dtype=np.float32)
BOXES = np.array(
    [[[1, 1, 9, 11], [-1, -1, -1, -1]], [[0, 2, 14, 12], [3.5, 0.5, 7.0, 4.0]]],
    dtype="float32",
)


def test_roi_features_are_time_mean_roi_align_then_max(tmp_path):
    layer = RoIFeatures((3, 2), spatial_scale=0.5, sampling_ratio=2, aligned=False)
    got = check_layer(layer, [FEATURES, BOXES], tmp_path, (2, 2, 4), atol=1e-6)
    expected = roi_align_reference(
        FEATURES.mean(axis=1), BOXES, (3, 2), 0.5, 2, False
    ).max(axis=(2, 3))
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_array_equal(got[0, 1], 0.0)  # the padded row
    clone = RoIFeatures.from_config(layer.get_config())
    assert clone.roi_align.get_config() == layer.roi_align.get_config()


def test_roi_features_default_and_empty_box_lists():
    layer = RoIFeatures(spatial_scale=0.5)  # 7x7 bins, adaptive, aligned
    expected = roi_align_reference(FEATURES.mean(axis=1), BOXES, (7, 7), 0.5)
    got = keras.ops.convert_to_numpy(layer([FEATURES, BOXES]))
    np.testing.assert_allclose(got, expected.max(axis=(2, 3)), atol=1e-5)
    empty = layer([FEATURES, np.zeros((2, 0, 4), "float32")])
    assert tuple(empty.shape) == (2, 0, 4)


def test_mask_padded_boxes(tmp_path):
    scores = np.random.default_rng(1).random((2, 2, 3), dtype=np.float32)
    boxes = BOXES.copy()
    boxes[1, 1] = [5, 5, 5, 9]  # zero width: padding too
    got = check_layer(MaskPaddedBoxes(), [scores, boxes], tmp_path, (2, 2, 3))
    expected = scores.copy()
    expected[0, 1] = expected[1, 1] = 0.0
    np.testing.assert_array_equal(got, expected)


def test_apply_roi_head_layers_and_logits():
    slow = keras.Input((3, 6, 7, 4), name="slow")
    fast = keras.Input((6, 6, 7, 2), name="fast")
    boxes = keras.Input((None, 4), name="boxes")
    scores = apply_roi_head(
        [slow, fast], boxes, 5, [0.5, 0.5], output_size=2, classifier_activation=None
    )
    model = keras.Model([slow, fast, boxes], scores)
    names = [layer.name for layer in model.layers]
    for name in ("roi_head_s0_roi", "roi_head_s1_roi", "roi_head_concat"):
        assert name in names
    assert "roi_head_dropout" in names and "predictions" in names
    fast_features = np.random.default_rng(2).random((2, 6, 6, 7, 2), dtype=np.float32)
    got = keras.ops.convert_to_numpy(model([FEATURES, fast_features, BOXES]))
    pooled = [
        roi_align_reference(x.mean(axis=1), BOXES, (2, 2), 0.5).max(axis=(2, 3))
        for x in (FEATURES, fast_features)
    ]
    kernel, bias = model.get_layer("predictions").get_weights()
    logits = np.concatenate(pooled, axis=-1) @ kernel + bias
    logits[0, 1] = 0.0  # padded row
    np.testing.assert_allclose(got, logits, atol=1e-5)
    assert np.all(sigmoid(got) > 0)


def test_apply_roi_head_one_pathway_without_dropout():
    features = keras.Input((3, 6, 7, 4))
    boxes = keras.Input((2, 4))
    scores = apply_roi_head([features], boxes, 3, [0.5], dropout_rate=0.0)
    model = keras.Model([features, boxes], scores)
    names = [layer.name for layer in model.layers]
    assert "roi_head_concat" not in names and "roi_head_dropout" not in names
    assert tuple(scores.shape) == (None, 2, 3)
    with pytest.raises(ValueError, match="one spatial scale per pathway"):
        apply_roi_head([features], boxes, 3, [0.5, 0.25])


def test_mixed_precision_scores_are_float32():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        features = keras.Input((3, 6, 7, 4))
        boxes = keras.Input((None, 4))
        scores = apply_roi_head([features], boxes, 3, [0.5])
        model = keras.Model([features, boxes], scores)
        out = model([FEATURES, BOXES])
        roi = model.get_layer("roi_head_s0_roi")
    finally:
        keras.config.set_dtype_policy(previous)
    assert roi.compute_dtype == "float16"
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    assert np.all(keras.ops.convert_to_numpy(out)[0, 1] == 0.0)


def test_bad_inputs():
    with pytest.raises(ValueError, match="frames, height"):
        RoIFeatures()([FEATURES[:, 0], BOXES])
    with pytest.raises(ValueError, match="features, boxes"):
        RoIFeatures()(FEATURES)
    with pytest.raises(ValueError, match="scores, boxes"):
        MaskPaddedBoxes()(FEATURES)
    with pytest.raises(ValueError, match=r"boxes \(batch, N, 4\)"):
        MaskPaddedBoxes()([BOXES, BOXES[..., :2]])
