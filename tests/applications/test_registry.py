import inspect

import keras
import pytest

from keras_video import applications
from keras_video.applications import registry


def test_every_constructor_is_registered():
    registered = {entry.constructor for entry in registry.MODELS.values()}
    public = {
        obj
        for name, obj in vars(applications).items()
        if inspect.isfunction(obj) and name[0].isupper()
    }
    assert {applications.I3D, applications.InceptionI3D} <= public
    assert public == registered


@pytest.mark.parametrize("name", registry.list_models())
def test_tiny_builds_with_the_shared_signature(name):
    entry = registry.MODELS[name]
    model = registry.build_tiny(name, classes=4)
    assert tuple(model.output.shape) == (None, 4)
    assert [tuple(x.shape[1:]) for x in model.inputs] == [
        entry.input_shape,
        *entry.extra_inputs,
    ]
    params = inspect.signature(entry.constructor).parameters
    assert list(params)[:8] == [
        "include_top",
        "weights",
        "input_tensor",
        "input_shape",
        "pooling",
        "classes",
        "classifier_activation",
        "name",
    ]


def test_one_width_keyword_across_families():
    for name, entry in registry.MODELS.items():
        params = inspect.signature(entry.constructor).parameters
        assert not {"width", "filters"} & set(entry.tiny), name
        if "base_filters" not in params:
            assert entry.constructor in (
                applications.I3D,
                applications.InceptionI3D,
                applications.TwoStreamI3D,
            )


def test_unknown_model_raises():
    with pytest.raises(ValueError, match="Unknown model"):
        registry.build_tiny("alexnet3d")


@pytest.mark.parametrize("name", ["r3d_18", "single_frame", "slowfast", "c3d"])
def test_input_tensor(name):
    entry = registry.MODELS[name]
    clip = keras.Input(entry.input_shape, name="my_clip")
    model = registry.build_tiny(name, input_tensor=clip, classes=3)
    assert model.inputs[0] is clip
    assert tuple(model.output.shape) == (None, 3)
