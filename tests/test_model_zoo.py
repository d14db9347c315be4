"""The model-zoo page (`docs/model_zoo.md`) is what `tools/gen_model_zoo.py`
writes: a row per registry entry, the presets the code registers, published
figures with a source (and a reason where one is not confirmed), and, under
`large`, the parameter and FLOP counts of the 17 full-size networks.
"""

import pytest


@pytest.fixture(scope="module")
def zoo():
    from tools import gen_model_zoo

    return gen_model_zoo


def test_model_zoo_has_a_row_per_registry_entry(zoo):
    from keras_video.applications import MODELS

    assert sorted(zoo.ROWS) == sorted(MODELS)
    assert sorted(zoo.PUBLISHED) == sorted(MODELS)
    for name, published in zoo.PUBLISHED.items():
        assert (published is None) == (name in zoo.NOT_PUBLISHED), name
        if published is not None:
            assert published.source in zoo.SOURCES, name
            # A figure not confirmed against its source says what and why.
            if published.to_check:
                assert len(published.to_check.split()) >= 5, name


def test_model_zoo_page_is_current_but_for_the_measured_numbers(zoo):
    """Rows, weights presets, published figures and text, with the page's own
    parameter and FLOP counts (those are measured under `large`)."""
    page = zoo.PAGE.read_text()
    measured = zoo.read_measured(page)
    assert sorted(measured) == sorted(zoo.ROWS)
    assert zoo.render(measured) == page, "run python tools/gen_model_zoo.py"


def test_model_zoo_lists_the_presets_the_code_registers(zoo):
    from keras_video.applications import weights

    page = zoo.PAGE.read_text()
    for family, tags in weights.PRESETS.items():
        for tag, preset in tags.items():
            assert f"`{tag}`: `{preset.file.command}`" in page, (family, tag)


@pytest.mark.large
def test_model_zoo_measured_numbers_are_current(zoo):
    assert zoo.render(zoo.measure_all()) == zoo.PAGE.read_text(), (
        "run python tools/gen_model_zoo.py"
    )
