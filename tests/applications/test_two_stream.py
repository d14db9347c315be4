import os

import keras
import numpy as np
import pytest

from keras_video.applications import SingleFrame, TwoStream, TwoStreamI3D
from tests.applications.checks import (
    check_application,
    random_inputs,
)

TINY = dict(base_filters=4, depth=3, input_shape=(8, 32, 32, 3))


@pytest.mark.parametrize("fusion", ["average", "weighted", "concat", "sum"])
def test_tiny_output_and_round_trip(fusion, tmp_path):
    model = TwoStream(fusion=fusion, classes=5, **TINY)
    assert [tuple(x.shape) for x in model.inputs] == [
        (None, 8, 32, 32, 3),
        (None, 8, 32, 32, 2),
    ]
    check_application(model, (2, 5), tmp_path)


def test_average_is_the_mean_of_stream_scores():
    model = TwoStream(fusion="average", classes=5, classifier_activation=None, **TINY)
    clip, flow = random_inputs(model)
    rgb = keras.ops.convert_to_numpy(model.get_layer("rgb_stream")(clip))
    fl = keras.ops.convert_to_numpy(model.get_layer("flow_stream")(flow))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model([clip, flow])), (rgb + fl) / 2, atol=1e-5
    )


def test_sum_is_the_sum_of_stream_logits_before_the_softmax():
    model = TwoStream(fusion="sum", classes=5, **TINY)
    clip, flow = random_inputs(model)
    rgb = keras.ops.convert_to_numpy(model.get_layer("rgb_stream")(clip))
    fl = keras.ops.convert_to_numpy(model.get_layer("flow_stream")(flow))
    logits = rgb + fl
    expected = np.exp(logits - logits.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model([clip, flow])), expected, atol=1e-5
    )


@pytest.fixture(scope="module")
def rgb_flow_pairs(tmp_path_factory):
    """`((rgb, flow), label)` batches of the pipeline, flow by DIS on the fly,
    over 2 classes x 2 videos of 8 frames of 32x32 (the synthetic motion set)."""
    from keras_video.data import video_dataset_from_directory, write_motion_dataset

    directory = tmp_path_factory.mktemp("motion")
    write_motion_dataset(
        directory, 2, seed=0, image_size=(32, 32), num_frames=8,
        classes=("left", "right"),
    )  # fmt: skip
    return video_dataset_from_directory(
        directory, clip_length=4, frame_step=1, image_size=(32, 32),
        batch_size=4, seed=0, modality="rgb+flow", flow_method="dis",
        verbose=False,
    )  # fmt: skip


def test_pipeline_pairs_fit_the_inputs(rgb_flow_pairs):
    (clip, flow), label = next(iter(rgb_flow_pairs))
    assert tuple(clip.shape) == (4, 4, 32, 32, 3)
    assert tuple(flow.shape) == (4, 4, 32, 32, 2)
    assert tuple(label.shape) == (4,)


@pytest.mark.filterwarnings("ignore:`shuffle=True` was passed")
@pytest.mark.parametrize("fusion", ["average", "weighted", "concat", "sum"])
def test_trains_on_rgb_flow_pairs_of_the_pipeline(fusion, rgb_flow_pairs):
    model = TwoStream(
        fusion=fusion, classes=2, base_filters=4, depth=3, input_shape=(4, 32, 32, 3)
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(rgb_flow_pairs, epochs=1, steps_per_epoch=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_i3d_two_stream_sums_the_logits_of_two_inception_streams():
    model = TwoStreamI3D(classes=3, input_shape=(9, 193, 193, 3), dropout_rate=0.0)
    rgb, flow = model.get_layer("rgb_i3d"), model.get_layer("flow_i3d")
    assert tuple(rgb.input.shape) == (None, 9, 193, 193, 3)
    assert tuple(flow.input.shape) == (None, 9, 193, 193, 2)
    assert isinstance(model.get_layer("fusion"), keras.layers.Add)
    assert model.get_layer("predictions").get_config()["activation"] == "softmax"
    # The streams are whole InceptionI3D networks (the flow stem has 2/3 of
    # the RGB stem's first kernel).
    stem = 7 * 7 * 7 * 64
    assert rgb.count_params() - flow.count_params() == stem


@pytest.mark.large
def test_i3d_two_stream_full_size_parameters():
    # Two full InceptionI3D (12,704,544 each with 400 classes), the flow
    # stem's 7x7x7 kernel on 2 channels instead of 3.
    with keras.StatelessScope():
        model = TwoStreamI3D(input_shape=(64, 224, 224, 3))
        assert model.count_params() == 2 * 12_704_544 - 7 * 7 * 7 * 64


def test_i3d_two_stream_kinetics_loads_the_rgb_stream_only(tmp_path, monkeypatch):
    # A stand-in for the converted Kinetics-400 file, in a private Keras cache.
    from keras_video.applications import InceptionI3D
    from keras_video.applications import weights as weights_lib

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    os.makedirs(weights_lib.cache_dir())
    keras.utils.set_random_seed(1)
    kinetics = InceptionI3D(input_shape=(9, 193, 193, 3))
    kinetics.save_weights(weights_lib.kinetics400_path())
    model = TwoStreamI3D(weights="kinetics400", input_shape=(9, 193, 193, 3))
    rgb, flow = model.get_layer("rgb_i3d"), model.get_layer("flow_i3d")
    for a, b in zip(rgb.weights, kinetics.weights, strict=True):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
        )
    head = "Logits_Conv3d_0c_1x1_conv"
    assert not np.array_equal(
        flow.get_layer(head).get_weights()[0], kinetics.get_layer(head).get_weights()[0]
    )


def test_i3d_two_stream_features_and_bad_weights():
    model = TwoStreamI3D(include_top=False, pooling="avg", input_shape=(8, 32, 32, 3))
    assert tuple(model.output.shape) == (None, 2048)
    with pytest.raises(ValueError, match="weights"):
        TwoStreamI3D(weights="imagenet", input_shape=(9, 193, 193, 3))
    with pytest.raises(ValueError, match="classes"):
        TwoStreamI3D(weights="kinetics400", classes=5)


def test_weighted_fusion_weights_are_trainable():
    model = TwoStream(fusion="weighted", classes=5, **TINY)
    names = [w.path for w in model.get_layer("fusion").trainable_weights]
    assert len(names) == 1 and "fusion_weights" in names[0]


def test_stacked_flow_and_custom_rgb_model(tmp_path):
    rgb = SingleFrame(
        base_filters=4,
        depth=3,
        classes=3,
        classifier_activation=None,
        input_shape=(4, 32, 32, 3),
        name="my_rgb",
    )
    model = TwoStream(
        rgb_model=rgb,
        classes=3,
        base_filters=4,
        depth=3,
        flow_input_shape=(1, 32, 32, 20),
    )
    assert tuple(model.inputs[1].shape) == (None, 1, 32, 32, 20)
    check_application(model, (2, 3), tmp_path)


def test_features_without_top():
    split = TwoStream(include_top=False, **TINY)
    assert [tuple(o.shape) for o in split.outputs] == [(None, 16), (None, 16)]
    joined = TwoStream(include_top=False, pooling="max", **TINY)
    assert tuple(joined.output.shape) == (None, 32)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(input_shape=(32, 32, 3)), "input_shape"),
        (dict(fusion="product"), "fusion"),
        (dict(flow_input_shape=(8, 4, 4, 2)), "at least 8"),
        (dict(rgb_model="resnet"), "rgb_model"),
        (dict(input_tensor=keras.Input((8, 32, 32, 3))), "pair"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TwoStream(**{**TINY, **kwargs})


def test_stream_with_wrong_number_of_classes_raises():
    rgb = SingleFrame(base_filters=4, depth=3, classes=7, input_shape=(8, 32, 32, 3))
    with pytest.raises(ValueError, match="classes=5"):
        TwoStream(rgb_model=rgb, classes=5, base_filters=4, depth=3)
