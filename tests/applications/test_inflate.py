"""inflate: boring-video property, supported layers, clear errors."""

import keras
import numpy as np
import pytest

from keras_video.applications import inflate
from keras_video.applications.frame_cnn import FrameCNN
from keras_video.applications.inflate import walk_graph
from tests.applications.checks import check_application


def _randomise(model, seed=0):
    """Random weights everywhere, batch-norm statistics included."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        if isinstance(layer, keras.layers.BatchNormalization):
            names = [v.name for v in layer.weights]
            weights = [
                rng.uniform(0.5, 1.5, w.shape).astype("float32")
                if n in ("gamma", "moving_variance")
                else rng.normal(0, 0.1, w.shape).astype("float32")
                for n, w in zip(names, weights, strict=True)
            ]
        else:
            weights = [
                w + rng.normal(0, 0.02, w.shape).astype("float32") for w in weights
            ]
        layer.set_weights(weights)
    return model


def _boring_error(model_2d, model_3d, size, frames=4, seed=0):
    rng = np.random.default_rng(seed)
    frame = rng.uniform(-1, 1, (1, size, size, 3)).astype("float32")
    clip = np.repeat(frame[:, None], frames, axis=1)
    a = keras.ops.convert_to_numpy(model_2d(frame))
    b = keras.ops.convert_to_numpy(model_3d(clip))
    if b.ndim == a.ndim + 1:  # per-frame features: every frame equals the 2D
        a = np.repeat(a[:, None], b.shape[1], axis=1)
    return np.abs(a - b).max() / np.abs(a).max()


def _small_cnn():
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.ZeroPadding2D(1)(inputs)
    x = keras.layers.Conv2D(8, 3, strides=2, name="conv")(x)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.ReLU(6.0)(x)
    y = keras.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="dw")(
        x
    )
    y = keras.layers.Conv2D(8, 1, name="project")(y)
    x = keras.layers.Add()([x, y])
    z = keras.layers.MaxPooling2D(2, name="pool")(x)
    w = keras.layers.AveragePooling2D(2, padding="same")(x)
    x = keras.layers.Concatenate()([z, w])
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.1)(x)
    outputs = keras.layers.Dense(5, name="dense")(x)
    return _randomise(keras.Model(inputs, outputs, name="small"))


@pytest.mark.parametrize("time_kernels", [None, 3, {"conv": 5, "dw": 3, "pool": 3}])
def test_boring_video_small_cnn(time_kernels):
    model = _small_cnn()
    model_3d = inflate(model, time_kernels=time_kernels)
    assert model_3d.output_shape == (None, 5)
    assert _boring_error(model, model_3d, 16) < 1e-4


def test_kernels_strides_and_names():
    model = _small_cnn()
    model_3d = inflate(
        model, time_kernels={"conv": 3, "pool": 2}, time_strides={"conv": 2}
    )
    conv = model_3d.get_layer("conv")
    assert conv.kernel_size == (3, 3, 3) and conv.strides == (2, 2, 2)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(conv.kernel).sum(axis=0),
        keras.ops.convert_to_numpy(model.get_layer("conv").kernel),
        rtol=1e-5,
        atol=1e-6,
    )
    assert model_3d.get_layer("dw").groups == 8
    assert model_3d.get_layer("pool").pool_size == (2, 2, 2)
    assert model_3d.get_layer("pool_time_pad").padding == (0, 1)
    # 8 frames: conv stride 2 in time -> 4; the pool keeps 4 (time padded).
    features = keras.Model(model_3d.input, model_3d.get_layer("pool").output)
    out = features(np.zeros((1, 8, 16, 16, 3), "float32"))
    assert tuple(out.shape) == (1, 4, 4, 4, 8)
    assert _boring_error(model, model_3d, 16, frames=8) < 1e-4


def test_center_mode_and_round_trip(tmp_path):
    model = _small_cnn()
    model_3d = inflate(model, time_kernels=3, mode="center", frames=4)
    kernel = keras.ops.convert_to_numpy(model_3d.get_layer("conv").kernel)
    assert np.all(kernel[0] == 0) and np.all(kernel[2] == 0)
    path = tmp_path / "inflated.keras"
    model_3d.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    clip = np.random.default_rng(3).uniform(-1, 1, (2, 4, 16, 16, 3)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model_3d(clip)),
        keras.ops.convert_to_numpy(loaded(clip)),
        atol=1e-5,
    )


def test_names_first_layer_it_cannot_inflate():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="ok_conv")(inputs)
    x = keras.layers.Flatten(name="flatten_here")(x)
    x = keras.layers.Reshape((4, -1), name="later_reshape")(x)
    model = keras.Model(inputs, x)
    with pytest.raises(ValueError, match="'flatten_here' \\(Flatten\\)"):
        inflate(model)


def test_argument_errors():
    model = _small_cnn()
    with pytest.raises(ValueError, match="not in 'small': \\['nope'\\]"):
        inflate(model, time_kernels={"nope": 3})
    with pytest.raises(ValueError, match="mode"):
        inflate(model, mode="sum")
    with pytest.raises(ValueError, match="insert_after.*\\['nope'\\]"):
        inflate(model, insert_after={"nope": [keras.layers.ReLU()]})
    with pytest.raises(ValueError, match="functional keras.Model"):
        inflate(keras.layers.Dense(3))
    inner = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3)])
    inputs = keras.Input((8, 8, 3))
    nested = keras.Model(inputs, inner(inputs))
    with pytest.raises(ValueError, match="nested"):
        inflate(nested)


def test_walk_graph_replays_a_model_on_new_inputs():
    model = _small_cnn()
    x = np.random.default_rng(3).uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    inputs = keras.Input((16, 16, 3), name="other")
    outputs = walk_graph(model, inputs)
    flat = keras.Model(inputs, outputs)
    # The same layers (shared weights), applied one by one: no nested model.
    assert [layer.name for layer in flat.layers][1:] == [
        layer.name for layer in model.layers
    ][1:]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(flat(x)),
        keras.ops.convert_to_numpy(model(x)),
        rtol=1e-6,
    )
    seen = []

    def record(layer, args, kwargs):
        seen.append(layer.name)
        return layer(*args, **kwargs)

    walk_graph(model, keras.Input((16, 16, 3)), record)
    assert seen.index("conv") < seen.index("dw") < seen.index("dense")
    with pytest.raises(ValueError, match="1 inputs"):
        walk_graph(model, [inputs, inputs])


def test_insert_after_adds_layers_after_the_named_layer():
    model = _small_cnn()
    marker = []

    def make(x):
        marker.append(tuple(x.shape))
        return keras.layers.Activation("linear", name="after_bn")(x)

    inflated = inflate(model, insert_after={"bn": [make]})
    assert marker == [(None, None, 8, 8, 8)]
    names = [layer.name for layer in inflated.layers]
    assert names.index("bn") < names.index("after_bn")


@pytest.mark.parametrize("pooling", ["max", "avg"])
def test_frame_cnn_inflates_with_pools_that_halve_time(pooling, tmp_path):
    # The demo's I3D-small: the library 2D frame CNN, 3x3 convs to 3x3x3 and
    # its last two max pools to 2x2x2 pools with time stride 2.
    cnn = _randomise(FrameCNN((32, 32, 3), base_filters=4, depth=3, pooling=pooling))
    pools = {"frame_block2_pool": 2, "frame_block3_pool": 2}
    convs = {f"frame_block{i}_conv": 3 for i in (1, 2, 3)}
    model_3d = inflate(cnn, time_kernels={**convs, **pools}, time_strides=pools)
    assert model_3d.get_layer("frame_block1_conv").kernel_size == (3, 3, 3)
    assert model_3d.get_layer("frame_block1_pool").pool_size == (1, 2, 2)
    assert model_3d.get_layer("frame_block3_pool").strides == (2, 2, 2)
    assert model_3d.get_layer(f"frame_{pooling}_pool").__class__.__name__ == (
        f"Global{'Max' if pooling == 'max' else 'Average'}Pooling3D"
    )
    features = keras.Model(
        model_3d.input, model_3d.get_layer("frame_block3_pool").output
    )
    assert tuple(features(np.zeros((1, 8, 32, 32, 3), "float32")).shape) == (
        1, 2, 4, 4, 16,
    )  # fmt: skip
    assert _boring_error(cnn, model_3d, 32, frames=8) < 1e-4
    clip = np.random.default_rng(4).uniform(-1, 1, (2, 8, 32, 32, 3)).astype("float32")
    check_application(model_3d, (2, 16), tmp_path, inputs=clip)


@pytest.mark.large
def test_boring_video_resnet50():
    model = _randomise(
        keras.applications.ResNet50(
            weights=None, include_top=False, pooling="avg", input_shape=(64, 64, 3)
        )
    )
    assert _boring_error(model, inflate(model), 64) < 1e-4


@pytest.mark.large
def test_boring_video_mobilenet_v2():
    model = _randomise(
        keras.applications.MobileNetV2(
            weights=None,
            classes=10,
            classifier_activation=None,
            input_shape=(64, 64, 3),
        )
    )
    model_3d = inflate(model)
    assert model_3d.get_layer("expanded_conv_depthwise").groups == 32
    assert _boring_error(model, model_3d, 64) < 1e-4
