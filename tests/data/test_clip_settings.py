"""`ClipSettings`: defaults, checks, conversions and clip indices."""

import json

import numpy as np
import pytest

from keras_video.applications import inception_i3d
from keras_video.data.clip_settings import ClipSettings


def test_defaults_are_resolved_once():
    s = ClipSettings()
    assert (s.clip_length, s.frame_step, s.target_fps) == (16, 2, None)
    assert (s.image_size, s.short_side, s.num_clips) == ((224, 224), 224, 1)
    assert ClipSettings(image_size=112).image_size == (112, 112)
    assert ClipSettings(image_size=(96, 128)).short_side == 128
    assert ClipSettings(image_size=(96, 128)).output_shape == (16, 96, 128, 3)


def test_target_fps_alone_clears_the_default_step():
    s = ClipSettings(target_fps=12)
    assert s.frame_step is None and s.target_fps == 12.0
    # 30 fps read at 12 fps: step 2.5, rounded per frame.
    idx = s.replace(clip_length=5).clip_indices(300, 30.0, sampling="uniform")
    np.testing.assert_array_equal(idx[0] - idx[0, 0], [0, 2, 5, 8, 10])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(frame_step=2, target_fps=12), "not both"),
        (dict(clip_length=0), "clip_length=0"),
        (dict(num_clips=1.5), "num_clips=1.5"),
        (dict(frame_step=0), "frame_step=0"),
        (dict(target_fps=-1), "target_fps=-1"),
        (dict(clip_sampling="dense"), "clip_sampling='dense'"),
        (dict(short_video="wrap"), "short_video='wrap'"),
        (dict(image_size=(1, 2, 3)), "image_size"),
        (dict(image_size=(112, 112), short_side=100), "short_side=100"),
        (dict(interpolation="lanczos"), "interpolation='lanczos'"),
    ],
)
def test_bad_values_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ClipSettings(**kwargs)


def test_replace_switches_between_step_and_rate():
    s = ClipSettings(frame_step=4)
    assert s.replace(target_fps=10).frame_step is None
    assert s.replace(target_fps=10).replace(frame_step=3).target_fps is None
    assert s.replace(image_size=64).short_side == 64
    assert s.replace(num_clips=3).frame_step == 4


def test_dict_round_trip_through_json():
    s = ClipSettings(clip_length=8, target_fps=15, image_size=(64, 80), num_clips=2)
    again = ClipSettings.from_dict(json.loads(json.dumps(s.to_dict())))
    assert again == s and hash(again) == hash(s)


def test_a_pretrained_model_carries_its_protocol():
    s = ClipSettings.from_data_config(
        inception_i3d.KINETICS400_DATA_CONFIG, num_clips=10
    )
    assert (s.clip_length, s.frame_step, s.num_clips) == (64, 1, 10)
    assert (s.image_size, s.short_side) == ((224, 224), 256)


def test_from_arguments_takes_one_or_the_other():
    def dataset(path=None, clip_length=16, frame_step=None, clip_settings=None):
        return ClipSettings.from_arguments(clip_settings, dataset, locals())

    assert dataset(clip_length=8).clip_length == 8
    given = ClipSettings(clip_length=4)
    assert dataset(clip_settings=given) is given
    with pytest.raises(ValueError, match="either as `clip_settings`.*clip_length=8"):
        dataset(clip_length=8, clip_settings=given)
    with pytest.raises(TypeError, match="clip_settings"):
        dataset(clip_settings={"clip_length": 4})


def test_clip_indices_uniform_and_seeded_random():
    s = ClipSettings(clip_length=4, frame_step=2, num_clips=3)
    uniform = s.clip_indices(100, 30.0, sampling="uniform")
    np.testing.assert_array_equal(uniform[:, 0], [0, 46, 93])
    assert uniform.shape == (3, 4) and uniform.dtype == np.int64
    a = s.clip_indices(100, 30.0, seed=np.array([1, 2]), sampling="random")
    b = s.clip_indices(100, 30.0, seed=np.array([1, 2]), sampling="random")
    np.testing.assert_array_equal(a, b)
    assert a.max() < 100
    with pytest.raises(ValueError, match="sampling='dense'"):
        s.clip_indices(100, 30.0, sampling="dense")
    short = ClipSettings(clip_length=4, short_video="error")
    with pytest.raises(ValueError, match="clip.mp4 has 3 frames"):
        short.clip_indices(3, 30.0, path="clip.mp4")


def test_sampling_and_decode_size():
    s = ClipSettings(image_size=112, short_side=128)
    assert s.sampling(shuffle=True) == "random" and s.sampling(False) == "uniform"
    assert s.replace(clip_sampling="uniform").sampling(True) == "uniform"
    assert s.decode_short_side(augment=False) == 128
    assert s.decode_short_side(augment=True) == 160
