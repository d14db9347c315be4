"""`ActionDetector` / `SlowFastDetector` and the RoI head of `ava_head`."""

import keras
import numpy as np
import pytest

from keras_video import applications, detection
from tests.helpers import assert_same_outputs_on_backend, sigmoid
from tests.layers.test_roi_align import roi_align_reference

K = 3
CLIP = (4, 32, 32, 3)
# two real boxes per clip (pixels of the 32x32 frames), one partly outside
BOXES = np.array(
    [
        [[4.0, 8.0, 20.5, 30.0], [0.0, 0.0, 32.0, 32.0], [12.0, 3.5, 40.0, 18.0]],
        [[10.0, 10.0, 12.0, 14.0], [1.5, 20.0, 30.0, 31.0], [7.0, 7.0, 25.0, 25.0]],
    ],
    dtype="float32",
)


def tiny_slowfast(**kwargs):
    """The demo's SlowFast-small, two plain stages: 8x8 maps of 32x32 frames
    (spatial scale 1/4), slow 2 x 16 channels, fast 4 x 4 channels."""
    config = dict(
        num_classes=K,
        input_shape=CLIP,
        base_filters=8,
        stage_blocks=(1, 1),
        stem=None,
        block="plain",
        alpha=2,
        beta=1 / 4,
        fusion_kernel=3,
    )
    config.update(kwargs)
    return detection.SlowFastDetector(**config)


def clips(batch=2, seed=0):
    return np.random.default_rng(seed).random((batch,) + CLIP, dtype=np.float32)


def backbone_of(model):
    (backbone,) = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return backbone


def predict(model, clip, boxes):
    return keras.ops.convert_to_numpy(model({"clip": clip, "boxes": boxes}))


def test_shapes_inputs_and_scales():
    model = tiny_slowfast()
    assert set(model.input) == {"clip", "boxes"}
    assert tuple(model.input["boxes"].shape) == (None, None, 4)
    out = predict(model, clips(), BOXES)
    assert out.shape == (2, 3, K) and out.dtype == np.float32
    assert np.all((out > 0) & (out < 1))  # sigmoid probabilities
    roi = [model.get_layer(f"roi_head_s{i}_roi") for i in (0, 1)]
    assert [layer.spatial_scale for layer in roi] == [0.25, 0.25]
    assert roi[0].output_size == (7, 7) and roi[0].sampling_ratio == 0
    assert roi[0].aligned
    # one pathway: R3D-18 (stride 16), a fixed number of boxes, logits
    backbone = applications.R3D(
        include_top=False, depth=18, base_filters=4, input_shape=(4, 64, 64, 3)
    )
    model = detection.ActionDetector(
        backbone, num_classes=5, max_boxes=2, classifier_activation=None
    )
    assert model.get_layer("roi_head_s0_roi").spatial_scale == 1 / 16
    assert tuple(model.output.shape) == (None, 2, 5)
    clip, boxes = np.ones((1, 4, 64, 64, 3), "float32"), BOXES[:1, :2] * 2
    out = predict(model, clip, boxes)
    assert out.shape == (1, 2, 5)
    # logits: the output is the linear layer's, no sigmoid after it
    linear = keras.Model(model.input, model.get_layer("predictions").output)
    np.testing.assert_allclose(
        out, keras.ops.convert_to_numpy(linear({"clip": clip, "boxes": boxes})),
        atol=1e-6,
    )  # fmt: skip


def test_dilated_res5_by_default_features_at_one_sixteenth():
    # PySlowFast's AVA backbone: res5 with stride 1 and dilation 2
    config = dict(
        num_classes=K,
        input_shape=(4, 64, 64, 3),
        base_filters=8,
        stage_blocks=(1, 1, 1, 1),
        alpha=2,
        beta=1 / 4,
    )
    for dilation, scale, size in ((None, 1 / 16, 4), (1, 1 / 32, 2)):
        model = detection.SlowFastDetector(res5_dilation=dilation, **config)
        assert [o.shape[2] for o in backbone_of(model).outputs] == [size, size]
        for name in ("roi_head_s0_roi", "roi_head_s1_roi"):
            assert model.get_layer(name).spatial_scale == scale
    dilated = backbone_of(detection.SlowFastDetector(**config))
    assert dilated.get_layer("slow_conv5_block1_2_conv").dilation_rate == (1, 2, 2)


def test_head_equals_roi_align_max_pool_dense_by_hand():
    model = tiny_slowfast()
    clip = clips()
    slow, fast = (
        keras.ops.convert_to_numpy(f) for f in backbone_of(model)(clip, training=False)
    )
    pooled = [
        roi_align_reference(x.mean(axis=1), BOXES, (7, 7), 0.25, 0, True).max(
            axis=(2, 3)
        )
        for x in (slow, fast)
    ]
    kernel, bias = model.get_layer("predictions").get_weights()
    expected = sigmoid(np.concatenate(pooled, axis=-1) @ kernel + bias)
    np.testing.assert_allclose(predict(model, clip, BOXES), expected, atol=1e-5)


def test_box_permutation_equivariance():
    model = tiny_slowfast()
    clip = clips(seed=1)
    order = [2, 0, 1]
    np.testing.assert_allclose(
        predict(model, clip, BOXES[:, order]),
        predict(model, clip, BOXES)[:, order],
        atol=1e-6,
    )


def test_padded_boxes_give_zeros_and_change_nothing_else():
    model = tiny_slowfast()
    clip = clips(seed=2)
    padded = np.concatenate(
        [BOXES[:, :1], np.full((2, 2, 4), -1.0, "float32"), BOXES[:, 1:]], axis=1
    )
    got = predict(model, clip, padded)
    np.testing.assert_array_equal(got[:, 1:3], 0.0)
    np.testing.assert_allclose(
        got[:, [0, 3, 4]], predict(model, clip, BOXES), atol=1e-6
    )
    # no boxes at all
    assert predict(model, clip, np.zeros((2, 0, 4), "float32")).shape == (2, 0, K)


def test_keras_round_trip_safe_mode(tmp_path):
    model = tiny_slowfast(max_boxes=3)
    clip = clips(seed=3)
    path = tmp_path / "detector.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        predict(restored, clip, BOXES), predict(model, clip, BOXES), atol=1e-6
    )
    assert restored.get_layer("roi_head_s1_roi").get_config() == (
        model.get_layer("roi_head_s1_roi").get_config()
    )


def test_weights_file_round_trip(tmp_path):
    model = tiny_slowfast()
    path = tmp_path / "detector.weights.h5"
    model.save_weights(path)
    again = tiny_slowfast(weights=str(path))
    clip = clips(seed=4)
    np.testing.assert_allclose(
        predict(again, clip, BOXES), predict(model, clip, BOXES), atol=1e-6
    )


def test_training_lowers_binary_cross_entropy():
    keras.utils.set_random_seed(0)
    model = tiny_slowfast(dropout_rate=0.0)
    model.compile(keras.optimizers.Adam(1e-2), keras.losses.BinaryCrossentropy())
    x = {"clip": clips(seed=5), "boxes": BOXES}
    y = np.array(
        [[[1, 0, 0], [0, 1, 1], [0, 0, 1]], [[0, 1, 0], [1, 0, 0], [1, 1, 0]]],
        dtype="float32",
    )
    before = model.evaluate(x, y, verbose=0)
    for _ in range(12):
        model.train_on_batch(x, y)
    after = model.evaluate(x, y, verbose=0)
    assert after < 0.8 * before, (before, after)  # (inference mode both times)


def test_padded_rows_carry_no_gradient():
    # A batch of padding only: scores 0 = targets 0, so a plain SGD step
    # leaves every trainable weight as it was; one real box moves them.
    model = tiny_slowfast(dropout_rate=0.0)
    model.compile(keras.optimizers.SGD(0.1), keras.losses.BinaryCrossentropy())
    x = {"clip": clips(seed=6), "boxes": np.full((2, 3, 4), -1.0, "float32")}
    y = np.zeros((2, 3, K), "float32")
    start = [w.copy() for w in model.get_weights()]
    names = [w.path for w in model.weights]
    trainable = {w.path for w in model.trainable_weights}
    model.train_on_batch(x, y)
    for name, old, new in zip(names, start, model.get_weights(), strict=True):
        if name in trainable:
            np.testing.assert_array_equal(new, old, err_msg=name)
    x["boxes"][0, 0] = BOXES[0, 0]
    model.train_on_batch(x, y)
    kernel = model.get_layer("predictions").get_weights()[0]
    assert not np.array_equal(kernel, start[names.index("predictions/kernel")])


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_classes"):
        tiny_slowfast(num_classes=0)
    with_top = applications.R3D(depth=18, base_filters=4, input_shape=(4, 64, 64, 3))
    with pytest.raises(ValueError, match="include_top=False, pooling=None"):
        detection.ActionDetector(with_top, num_classes=2)
    # R3D has stride 16: 40x40 frames give ceil(40 / 16) = 3x3 maps, and 40 / 3
    # is not the stride: the detector says so, or takes `spatial_scale`
    odd = applications.R3D(
        include_top=False, depth=18, base_filters=4, input_shape=(4, 40, 40, 3)
    )
    with pytest.raises(ValueError, match="cannot read the feature stride"):
        detection.ActionDetector(odd, num_classes=2)
    model = detection.ActionDetector(odd, num_classes=2, spatial_scale=1 / 16)
    assert model.get_layer("roi_head_s0_roi").spatial_scale == 1 / 16


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_same_outputs_on_every_backend(backend, tmp_path):
    """The tiny detector saved on this backend gives the same scores on another."""
    boxes = np.concatenate([BOXES, np.full((2, 1, 4), -1.0, "float32")], axis=1)
    inputs = {"clip": clips(seed=8), "boxes": boxes}
    assert_same_outputs_on_backend(tiny_slowfast(), inputs, backend, tmp_path)
