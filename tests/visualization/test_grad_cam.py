"""`keras_video.visualization.grad_cam`: Grad-CAM / HiResCAM and saliency
against NumPy, on zoo models, and on a 3D CNN trained on the motion set."""

import keras
import numpy as np
import pytest

from keras_video.applications import registry
from keras_video.data.synthetic import box_masks, object_boxes
from keras_video.visualization import grad_cam, saliency, upsample
from tests.helpers import load_benchmark


def linear_upsample(values, n):
    """NumPy reference along one axis: sample centres aligned, edges held."""
    m = len(values)
    centres = (np.arange(n) + 0.5) * m / n - 0.5
    return np.interp(centres, np.arange(m), values)


def test_upsample_hand_worked():
    np.testing.assert_allclose(
        upsample(np.array([[[0.0, 1.0]]]), (1, 1, 4))[0, 0], [0, 0.25, 0.75, 1]
    )
    volume = np.random.default_rng(0).random((2, 3, 4))
    out = upsample(volume, (4, 6, 8))
    expected = np.apply_along_axis(linear_upsample, 0, volume, 4)
    expected = np.apply_along_axis(linear_upsample, 1, expected, 6)
    expected = np.apply_along_axis(linear_upsample, 2, expected, 8)
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    np.testing.assert_allclose(upsample(volume[:1], (3, 3, 4)), volume[[0, 0, 0]])


def gap_model(kernel, bias, dense, activation=None):
    """1x1x1 Conv3D with stride 1x2x2 and ReLU -> global average -> Dense."""
    inputs = keras.Input((4, 8, 8, 2))
    conv = keras.layers.Conv3D(3, 1, strides=(1, 2, 2), activation="relu")
    head = keras.layers.Dense(2, activation=activation, use_bias=False)
    x = keras.layers.GlobalAveragePooling3D()(conv(inputs))
    model = keras.Model(inputs, head(x))
    conv.set_weights([kernel.reshape(1, 1, 1, 2, 3), bias])
    head.set_weights([dense])
    return model


def test_grad_cam_equals_numpy_on_an_averaging_model():
    """With global average pooling the gradient is `dense[:, c] / N`
    everywhere, so Grad-CAM is relu(maps @ dense[:, c]), upsampled, and the
    elementwise weighting (HiResCAM) gives the same map."""
    rng = np.random.default_rng(1)
    kernel = rng.normal(size=(2, 3)).astype("float32")
    bias = rng.normal(size=3).astype("float32")
    dense = rng.normal(size=(3, 2)).astype("float32")
    clip = rng.normal(size=(4, 8, 8, 2)).astype("float32")
    maps = np.maximum(clip[:, ::2, ::2] @ kernel + bias, 0)  # (4, 4, 4, 3)
    for c in (0, 1):
        cam = np.maximum(maps @ dense[:, c], 0)
        expected = np.apply_along_axis(linear_upsample, 1, cam, 8)
        expected = np.apply_along_axis(linear_upsample, 2, expected, 8)
        expected /= expected.max()
        for activation in (None, "softmax"):  # the softmax is left out
            model = gap_model(kernel, bias, dense, activation)
            for weighting in ("mean", "elementwise"):
                heat = grad_cam(model, clip, c, weighting=weighting)
                assert heat.shape == (4, 8, 8) and heat.dtype == np.float32
                np.testing.assert_allclose(heat, expected, atol=1e-5)


def test_elementwise_weighting_keeps_only_where_the_max_was():
    """Global max pooling: each channel's gradient sits at its maximum, so
    HiResCAM is non-zero there only; Grad-CAM spreads over every position."""
    rng = np.random.default_rng(2)
    inputs = keras.Input((3, 5, 5, 1))
    conv = keras.layers.Conv3D(2, 1, use_bias=False)
    head = keras.layers.Dense(1, use_bias=False)
    model = keras.Model(inputs, head(keras.layers.GlobalMaxPooling3D()(conv(inputs))))
    conv.set_weights([np.array([1.0, 2.0], "float32").reshape(1, 1, 1, 1, 2)])
    head.set_weights([np.array([[1.0], [0.5]], "float32")])
    clip = rng.uniform(0.1, 1.0, (3, 5, 5, 1)).astype("float32")
    heat = grad_cam(model, clip, 0, weighting="elementwise")
    peak = np.unravel_index(np.argmax(clip[..., 0]), clip.shape[:3])
    expected = np.zeros((3, 5, 5), "float32")
    expected[peak] = 1.0  # both channels peak at the largest input
    np.testing.assert_allclose(heat, expected, atol=1e-6)
    spread = grad_cam(model, clip, 0)  # mean weights: the clip itself, scaled
    np.testing.assert_allclose(spread, clip[..., 0] / clip.max(), rtol=1e-5)


def test_saliency_of_a_linear_model_is_its_kernel():
    rng = np.random.default_rng(3)
    kernel = rng.normal(size=(4 * 6 * 6 * 3, 2)).astype("float32")
    inputs = keras.Input((4, 6, 6, 3))
    dense = keras.layers.Dense(2)
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    dense.set_weights([kernel, np.zeros(2, "float32")])
    clip = rng.normal(size=(4, 6, 6, 3)).astype("float32")
    expected = np.abs(kernel[:, 1]).reshape(4, 6, 6, 3).max(-1)
    np.testing.assert_allclose(
        saliency(model, clip, 1), expected / expected.max(), rtol=1e-5
    )
    assert saliency(model, clip[None], 1).shape == (4, 6, 6)  # a batch of one


@pytest.mark.parametrize("name", ["mc3_18", "late_fusion", "two_stream"])
def test_zoo_models(name):
    entry = registry.MODELS[name]
    keras.utils.set_random_seed(0)
    model = registry.build_tiny(name, classes=3)
    rng = np.random.default_rng(4)
    clip = [rng.uniform(0, 255, entry.input_shape).astype("float32")]
    clip += [rng.normal(size=shape).astype("float32") for shape in entry.extra_inputs]
    clip = clip if len(clip) > 1 else clip[0]
    for heat in (grad_cam(model, clip), saliency(model, clip)):
        assert heat.shape == entry.input_shape[:3]
        assert np.isfinite(heat).all() and heat.min() >= 0 and heat.max() == 1


def test_bad_arguments():
    model = gap_model(np.ones((2, 3)), np.zeros(3), np.ones((3, 2)))
    clip = np.zeros((4, 8, 8, 2), "float32")
    with pytest.raises(ValueError, match="weighting"):
        grad_cam(model, clip, weighting="max")
    with pytest.raises(ValueError, match=r"one clip \(4, 8, 8, 2\)"):
        grad_cam(model, np.zeros((2, 4, 8, 8, 2), "float32"))
    with pytest.raises(ValueError, match="takes 1 inputs"):
        saliency(model, [clip, clip])
    two = keras.Model(model.input, [model.output, model.output])
    with pytest.raises(ValueError, match="one output"):
        grad_cam(two, clip)
    assert not grad_cam(model, clip).any()  # no positive evidence: zeros


def test_object_boxes_wrap_around_the_torus():
    masks = np.zeros((3, 8, 10), bool)
    masks[0, 2:4, 3:6] = True
    masks[1, 0, [0, 1, 8, 9]] = True  # columns 8, 9, 0, 1: across the edge
    masks[1, 7, 9] = True  # rows 7, 0
    boxes = object_boxes(masks)
    np.testing.assert_array_equal(boxes, [[3, 2, 6, 4], [8, 7, 12, 9], [0, 0, 0, 0]])
    pixels = box_masks(boxes, (8, 10))
    assert pixels[0].sum() == 6 and pixels[0, 2:4, 3:6].all()
    assert pixels[1].sum() == 8 and pixels[1][np.ix_([7, 0], [8, 9, 0, 1])].all()
    assert not pixels[2].any()


def test_grad_cam_finds_the_moving_shape():
    """A small 3D CNN trained on the motion set (one seed of
    `benchmarks/grad_cam_boxes.py`, ~15 s on 2 cores): on held-out clips,
    HiResCAM puts more than half of its mass inside the moving shape's box,
    and Grad-CAM more than twice the boxes' share of the pixels."""
    bench = load_benchmark("grad_cam_boxes")
    model = bench.train(seed=0, videos_per_class=64, epochs=15, model="max")
    clips, labels, boxes = bench.motion_clips(12, seed=1)
    accuracy = (np.argmax(model.predict(clips, verbose=0), -1) == labels).mean()
    assert accuracy >= 0.85
    hires = bench.box_mass(model, clips, labels, boxes, "elementwise").mean()
    mean = bench.box_mass(model, clips, labels, boxes, "mean").mean()
    assert hires > 0.5, hires
    assert mean > 2 * boxes.mean(), (mean, boxes.mean())


def test_grad_cam_of_a_motion_cam_cnn_is_on_the_moving_shape():
    """The CAM-style motion CNN of `benchmarks/grad_cam_boxes.py`, one seed
    trained briefly (12 epochs on 192 clips, ~15 s on 2 cores): its first
    layer sums to zero over time (a static clip gives zero maps, up to
    rounding), it learns the task, and on held-out clips classic Grad-CAM
    (channel-mean weights) puts more than half of its mass inside the moving
    shape's box, the same map as HiResCAM (global average pool)."""
    bench = load_benchmark("grad_cam_boxes")
    model = bench.train(seed=0, videos_per_class=48, epochs=12, model="motion")
    kernel = keras.ops.convert_to_numpy(model.get_layer("motion_conv").kernel)
    np.testing.assert_allclose(kernel.sum(axis=0), 0, atol=1e-6)
    clips, labels, boxes = bench.motion_clips(8, seed=1)
    maps = keras.Model(model.inputs, model.get_layer("block2_relu").output)
    static = np.repeat(clips[:1, :1], 8, axis=1)  # the first frame, held
    moving = np.abs(maps.predict(clips[:1], verbose=0)).max()
    assert np.abs(maps.predict(static, verbose=0)).max() < 1e-5 * moving
    accuracy = (np.argmax(model.predict(clips, verbose=0), -1) == labels).mean()
    assert accuracy >= 0.75, accuracy
    mean = bench.box_mass(model, clips, labels, boxes, "mean")
    elementwise = bench.box_mass(model, clips, labels, boxes, "elementwise")
    np.testing.assert_allclose(mean, elementwise, atol=1e-5)
    assert mean.mean() > 0.5, mean.mean()
