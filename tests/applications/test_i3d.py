"""ResNet-50 I3D: boring video, 2D weights file, non-local placement, shapes,
round trip, errors, full-size parameter count (build only). No downloads."""

import keras
import numpy as np
import pytest

from keras_video.applications import I3D
from keras_video.applications import i3d as i3d_lib
from keras_video.applications import weights as weights_lib
from tests.helpers import count_params


@pytest.fixture(scope="module")
def resnet_2d_file(tmp_path_factory):
    """A ResNet-50 (no top) with random weights, saved as a 2D weights file."""
    rng = np.random.default_rng(0)
    model = keras.applications.ResNet50(
        include_top=False, weights=None, input_shape=(64, 64, 3), pooling="avg"
    )
    for layer in model.layers:
        weights = layer.get_weights()
        if isinstance(layer, keras.layers.BatchNormalization):
            weights = [
                rng.uniform(0.5, 1.5, w.shape).astype("float32")
                if v.name in ("gamma", "moving_variance")
                else rng.normal(0, 0.1, w.shape).astype("float32")
                for v, w in zip(layer.weights, weights, strict=True)
            ]
        elif weights:
            weights = [rng.normal(0, 0.05, w.shape).astype("float32") for w in weights]
        layer.set_weights(weights)
    path = tmp_path_factory.mktemp("resnet") / "resnet50_2d.weights.h5"
    model.save_weights(path)
    return model, str(path)


@pytest.mark.large
@pytest.mark.parametrize("how", ["path", "preset"])
def test_boring_video_with_2d_weights_and_non_local(
    resnet_2d_file, how, tmp_path, monkeypatch
):
    resnet, path = resnet_2d_file
    weights = path
    if how == "preset":  # the preset's one path: Keras cache -> load_resnet50_2d
        monkeypatch.setenv("KERAS_HOME", str(tmp_path))
        (tmp_path / "models").mkdir()
        file = weights_lib.WeightsFile("resnet50_2d.weights.h5", "ResNet", "make")
        (tmp_path / "models" / file.name).write_bytes(open(path, "rb").read())
        preset = weights_lib.Preset(file, i3d_lib.load_resnet50_2d)
        monkeypatch.setitem(weights_lib.PRESETS["I3D"], "imagenet_inflated", preset)
        weights = "imagenet_inflated"
    model = I3D(
        include_top=False,
        pooling="avg",
        input_shape=(8, 64, 64, 3),
        weights=weights,
        non_local=True,
    )
    kernel_2d = keras.ops.convert_to_numpy(
        resnet.get_layer("conv2_block1_1_conv").kernel
    )
    kernel_3d = keras.ops.convert_to_numpy(
        model.get_layer("conv2_block1_1_conv").kernel
    )
    assert kernel_3d.shape == (3,) + kernel_2d.shape
    np.testing.assert_allclose(kernel_3d.sum(axis=0), kernel_2d, rtol=1e-5, atol=1e-7)
    rng = np.random.default_rng(1)
    frame = rng.uniform(-1, 1, (1, 64, 64, 3)).astype("float32")
    clip = np.repeat(frame[:, None], 8, axis=1)
    a = keras.ops.convert_to_numpy(resnet(frame))
    b = keras.ops.convert_to_numpy(model(clip))
    assert np.abs(a - b).max() / np.abs(a).max() < 1e-4


@pytest.mark.large
def test_structure_shapes_and_round_trip(tmp_path):
    model = I3D(include_top=False, input_shape=(8, 64, 64, 3), non_local=True)
    # T/4 frames (pool1 and pool2 halve time), /32 in space.
    assert model.output_shape == (None, 2, 2, 2, 2048)
    non_local = [layer.name for layer in model.layers if "non_local" in layer.name]
    assert non_local == [
        "conv3_block1_non_local",
        "conv3_block3_non_local",
        "conv4_block1_non_local",
        "conv4_block3_non_local",
        "conv4_block5_non_local",
    ]
    assert model.get_layer("conv1_conv").kernel_size == (5, 7, 7)
    assert model.get_layer("conv1_conv").strides == (1, 2, 2)
    assert model.get_layer("pool1_pool").pool_size == (3, 3, 3)
    assert model.get_layer("pool1_pool").strides == (2, 2, 2)
    assert model.get_layer("pool2_pool").pool_size == (3, 1, 1)
    assert model.get_layer("conv3_block2_1_conv").kernel_size == (1, 1, 1)
    assert model.get_layer("conv3_block3_1_conv").kernel_size == (3, 1, 1)

    top = I3D(classes=7, input_shape=(8, 64, 64, 3), classifier_activation=None)
    assert top.output_shape == (None, 7)
    clip = np.random.default_rng(2).uniform(-1, 1, (1, 8, 64, 64, 3)).astype("float32")
    path = tmp_path / "i3d.keras"
    top.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(top(clip)),
        keras.ops.convert_to_numpy(loaded(clip)),
        atol=1e-4,
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_shape": (64, 64, 3)}, "must be \\(frames, height, width"),
        ({"weights": "imagenet"}, "imagenet_inflated"),
        ({"include_top": False, "pooling": "sum"}, "pooling"),
        ({"classes": 0}, "classes"),
    ],
)
def test_wrong_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        I3D(**kwargs)


def test_imagenet_inflated_offline_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    with pytest.raises(FileNotFoundError) as info:
        weights_lib.load_weights(model, "imagenet_inflated", "I3D")
    message = str(info.value)
    assert weights_lib.RESNET50_IMAGENET_NOTOP.name in message
    assert str(tmp_path / "models") in message
    assert "keras.applications.ResNet50(weights='imagenet'" in message


def test_imagenet_inflated_uses_the_keras_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    cached = tmp_path / "models" / weights_lib.RESNET50_IMAGENET_NOTOP.name
    cached.parent.mkdir()
    cached.write_bytes(b"")
    monkeypatch.setattr(keras.utils, "get_file", None)  # must not be called
    assert weights_lib.cached_file(weights_lib.RESNET50_IMAGENET_NOTOP) == str(cached)
    preset = weights_lib.PRESETS["I3D"]["imagenet_inflated"]
    assert preset.load is i3d_lib.load_resnet50_2d


@pytest.mark.large
def test_full_size_parameter_count():
    """28,123,152 weights (28,070,032 trainable) at 400 classes; with the five
    non-local blocks 35,489,808. Derived: the 2D ResNet-50 (no top, 23,587,712)
    + the head (2048 x 400 + 400) + the extra time taps of the inflated
    kernels ((t - 1) x the 2D kernel)."""
    model = I3D(input_shape=(32, 224, 224, 3))
    assert model.output_shape == (None, 400)
    assert model.count_params() == 28_123_152
    assert count_params(model.trainable_weights) == 28_070_032
    extra = 0
    for name, t in i3d_lib.i3d_time_kernels().items():
        layer = model.get_layer(name)
        if hasattr(layer, "kernel"):
            extra += (t - 1) * int(np.prod(layer.kernel.shape)) // t
    assert model.count_params() == 23_587_712 + 2048 * 400 + 400 + extra
    assert (
        I3D(input_shape=(32, 224, 224, 3), non_local=True).count_params() == 35_489_808
    )


PTV_TINY = dict(architecture="pytorchvideo", base_filters=4, input_shape=(8, 32, 32, 3))


def test_pytorchvideo_architecture_is_i3d_r50(tmp_path):
    model = I3D(include_top=False, **PTV_TINY)
    assert model.get_layer("conv1_conv").kernel_size == (5, 7, 7)
    assert not model.get_layer("conv1_conv").use_bias
    assert model.get_layer("pool1_pool").pool_size == (1, 3, 3)
    assert model.get_layer("pool1_pool").strides == (1, 2, 2)
    assert model.get_layer("pool2_pool").pool_size == (2, 1, 1)
    assert model.get_layer("pool2_pool").strides == (2, 1, 1)
    # The time kernels of the inflated I3D, in the same blocks.
    kernels = {
        name: t for name, t in i3d_lib.i3d_time_kernels().items() if "block" in name
    }
    for layer in model.layers:
        if layer.name.endswith("_1_conv"):
            assert layer.kernel_size[0] == kernels.get(layer.name, 1), layer.name
    # The stride is on the 3x3 convolution, not on the first 1x1.
    assert model.get_layer("conv3_block1_1_conv").strides == (1, 1, 1)
    assert model.get_layer("conv3_block1_2_conv").strides == (1, 2, 2)
    # pool2 halves time once: 8 -> 4 frames.
    assert model.output_shape == (None, 4, 1, 1, 128)
    top = I3D(classes=3, **PTV_TINY)
    assert top.output_shape == (None, 3)
    dilated = I3D(include_top=False, res5_dilation=2, **PTV_TINY)
    assert dilated.output_shape == (None, 4, 2, 2, 128)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"res5_dilation": 2}, "architecture='pytorchvideo'"),
        ({"head_pool_size": (4, 7, 7)}, "architecture='pytorchvideo'"),
        ({"base_filters": 8}, "architecture='pytorchvideo'"),
        ({"weights": "kinetics400", "architecture": "inflated"}, "pytorchvideo"),
        ({"architecture": "torchvision"}, "architecture"),
        (dict(PTV_TINY, non_local=True), "non-local"),
        (dict(PTV_TINY, weights="imagenet_inflated"), "architecture='inflated'"),
        (dict(PTV_TINY, weights="kinetics400"), "base_filters=64"),
    ],
)
def test_pytorchvideo_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        I3D(**kwargs)


@pytest.mark.large
def test_pytorchvideo_full_size_parameters_equal_i3d_r50():
    # PyTorchVideo's i3d_r50: 28,043,472 parameters (its model zoo: 28.04M).
    with keras.StatelessScope():
        model = I3D(architecture="pytorchvideo")
        assert count_params(model.trainable_weights) == 28_043_472
