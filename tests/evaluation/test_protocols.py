import pytest

from keras_video.data.clip_settings import ClipSettings
from keras_video.evaluation.protocols import PROTOCOLS, EvalProtocol, get_protocol


def test_named_protocols():
    kinetics = get_protocol("kinetics_10x3")
    assert (kinetics.num_clips, kinetics.num_crops, kinetics.short_side) == (10, 3, 256)
    assert kinetics.views == 30
    single = get_protocol("single_center")
    assert (single.num_clips, single.num_crops, single.views) == (1, 1, 1)
    assert sorted(PROTOCOLS) == ["kinetics_10x3", "single_center"]


def test_protocol_applies_to_the_models_clip_settings():
    model = ClipSettings(clip_length=16, frame_step=2, image_size=224)
    settings = get_protocol("kinetics_10x3").clip_settings(model)
    assert (settings.num_clips, settings.short_side) == (10, 256)
    assert settings.clip_sampling == "uniform" and settings.clip_length == 16
    assert settings.frame_step == 2 and settings.image_size == (224, 224)
    single = get_protocol("single_center").clip_settings(model)
    assert (single.num_clips, single.short_side) == (1, 224)
    fps = EvalProtocol("fps", 4, target_fps=15).clip_settings(model)
    assert fps.target_fps == 15.0 and fps.frame_step is None
    with pytest.raises(ValueError, match="short_side"):
        EvalProtocol("small", 1, short_side=100).clip_settings(model)


def test_bad_protocols():
    assert get_protocol(EvalProtocol("x", 2)).name == "x"
    for bad in ("kinetics", None, 3):
        with pytest.raises(ValueError, match="protocol"):
            get_protocol(bad)
    with pytest.raises(ValueError, match="num_clips"):
        EvalProtocol("x", 0)
    assert EvalProtocol("x", 2, 3).to_dict()["num_crops"] == 3
