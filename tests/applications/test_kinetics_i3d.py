"""InceptionI3D with DeepMind's Kinetics-400 weights on the cricket GIF.

Needs the converted file in the Keras cache (`keras-video weights convert
i3d-kinetics400`); skips otherwise. One 79-frame forward pass per backend.
The logits of every backend are compared with `data/i3d_cricket_rgb_gif_logits.npy`
(TensorFlow backend; equal to an independent pure-JAX re-implementation of the
Flax port to 6e-6), so running this file under TensorFlow, JAX and PyTorch checks
the three backends agree.
"""

import os
import pathlib

import numpy as np
import pytest

from keras_video.applications import weights as weights_lib

ORACLE = pathlib.Path(__file__).parent / "data" / "i3d_cricket_rgb_gif_logits.npy"

pytestmark = pytest.mark.kinetics_weights


@pytest.fixture(scope="module")
def kinetics_model():
    path = weights_lib.kinetics400_path()
    if not os.path.exists(path):
        pytest.skip(
            f"converted Kinetics-400 weights not found at {path}; produce them with "
            f"`{weights_lib.KINETICS400_COMMAND}`"
        )
    from keras_video.applications import InceptionI3D

    return InceptionI3D(weights="kinetics400", classifier_activation=None)


def test_cricket_gif_top1_and_backends_agree(kinetics_model, shared_data):
    from keras_video.applications import decode_predictions, preprocess_input
    from keras_video.data.video import VideoReader

    path = shared_data / "i3d" / "v_CricketShot_g04_c01_rgb.gif"
    with VideoReader(path) as reader:
        frames = reader.get_frames(range(reader.num_frames))
    assert frames.shape == (79, 224, 224, 3) and frames.dtype == np.uint8
    logits = np.asarray(
        kinetics_model.predict(preprocess_input(frames[None]), verbose=0)
    )[0]
    top = decode_predictions(logits[None], top=2)[0]
    assert top[0][1] == "playing cricket"
    assert top[0][2] - top[1][2] > 4.0, top
    oracle = np.load(ORACLE)
    assert np.abs(logits - oracle).max() < 1e-3


def test_feature_extractor_gets_the_same_weights(kinetics_model):
    from keras_video.applications import InceptionI3D

    features = InceptionI3D(
        include_top=False,
        weights="kinetics400",
        final_endpoint="Mixed_3b",
        input_shape=(4, 32, 32, 3),
    )
    for name in ("Conv3d_1a_7x7_conv", "Mixed_3b_Branch_1_Conv3d_0b_3x3_bn"):
        for a, b in zip(
            features.get_layer(name).get_weights(),
            kinetics_model.get_layer(name).get_weights(),
            strict=True,
        ):
            np.testing.assert_array_equal(a, b)
