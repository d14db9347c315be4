"""The documentation runs: every guide top to bottom, and the guides' pictures
draw (the model-zoo page is checked by `tests/test_model_zoo.py`, a file of
its own so that `make test`'s `--dist loadfile` runs its full-size builds
beside the guides, not after them).

A guide (`docs/guides/*.md`) is run as a reader would run it: its fenced
```` ```python ```` blocks in order, in one namespace, in an empty folder; its
```` ```bash ```` blocks are `keras-video ...` command lines, run through
`keras_video.cli.main` (which must return 0). An HTML comment just before a
block changes that:

- `<!-- not run: REASON -->`: shown, never run (a download, a real-size run);
  the reason is required.
- ```` ```python title="my_recipe.py" ````: a file the reader saves; it is
  written to that name, not run.
- `<!-- needs cached file: NAME -->`: run only when `<Keras cache>/models/NAME`
  exists; `test_guide_block_needing_a_cached_file` runs the guide up to it
  then, and skips naming the file otherwise.

A comment `<!-- guide needs cached file: NAME -->` anywhere in a guide makes the
whole guide need the file (the Kinetics-400 one: marked `kinetics_weights`).
"""

import collections
import os
import pathlib
import re
import shlex

import pytest

from tests.conftest import ROOT

GUIDES = ROOT / "docs" / "guides"

_BLOCK = re.compile(
    r"(?:<!-- (?P<marker>not run|needs cached file): (?P<argument>[^>]*?) -->\n)?"
    r"^```(?P<lang>[\w-]*)(?P<info>[^\n]*)\n(?P<code>.*?)^```[ \t]*$",
    re.M | re.S,
)
_GUIDE_NEEDS = re.compile(r"<!-- guide needs cached file: (?P<name>[^>]*?) -->")
_TITLE = re.compile(r'title="(?P<title>[^"]+)"')
_SHELL = ("bash", "sh", "shell", "console")

Block = collections.namedtuple("Block", "line lang code marker argument title")


# ----------------------------------------------------------------------- guides


def code_blocks(text):
    """The fenced blocks of `text` as `Block`s, in order."""
    blocks = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("lang")) + 1
        title = _TITLE.search(match["info"])
        blocks.append(
            Block(
                line,
                match["lang"],
                match["code"],
                match["marker"],
                match["argument"],
                title and title["title"],
            )
        )
    return blocks


def shell_commands(code):
    """The argument lists of a shell block (continuations joined, comments off)."""
    joined = re.sub(r"\\\n", " ", code)
    return [args for line in joined.splitlines() if (args := shlex.split(line, True))]


def cached(name):
    from keras_video.applications import weights

    return os.path.exists(os.path.join(weights.cache_dir(), name))


def run_blocks(path, blocks):
    """Runs `blocks` of guide `path` in the current folder, in one namespace."""
    import keras

    from keras_video import cli

    keras.utils.clear_session()
    namespace = {"__name__": "__main__"}
    for line, lang, code, _, _, title in blocks:
        where = f"{path.name}, block at line {line}"
        if title:
            pathlib.Path(title).write_text(code)
        elif lang == "python":
            exec(compile(code, where, "exec"), namespace)  # noqa: S102
        elif lang in _SHELL:
            for args in shell_commands(code):
                assert args[0] == "keras-video", (
                    f"{where}: shell blocks run `keras-video` only; "
                    f"received {shlex.join(args)}"
                )
                assert cli.main(args[1:]) == 0, f"{where}: {shlex.join(args)}"
    return namespace


def guide_params():
    params = []
    for path in sorted(GUIDES.glob("*.md")):
        needs = _GUIDE_NEEDS.search(path.read_text())
        marks = []
        if needs and needs["name"] == "i3d_kinetics400.weights.h5":
            marks.append(pytest.mark.kinetics_weights)
        params.append(pytest.param(path, marks=marks, id=path.stem))
    return params


def needs_guide_file(path):
    needs = _GUIDE_NEEDS.search(path.read_text())
    if needs and not cached(needs["name"]):
        pytest.skip(
            f"{path.name} needs {needs['name']} in the Keras cache "
            "(see the guide for the command that makes it)"
        )


def run_in_empty_folder(monkeypatch, tmp_path):
    """The guide runs in `tmp_path`; `KERAS_HOME` is put back after it (a
    guide may point it at an empty folder to show a missing weights file)."""
    from keras_video.applications import weights

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KERAS_HOME", weights.keras_home())


@pytest.mark.parametrize("path", guide_params())
def test_guide_runs(path, tmp_path, monkeypatch):
    needs_guide_file(path)
    run_in_empty_folder(monkeypatch, tmp_path)
    blocks = [b for b in code_blocks(path.read_text()) if b.marker is None]
    assert blocks, f"{path.name} has no code to run"
    run_blocks(path, blocks)


def guarded_block_params():
    params = []
    for path in sorted(GUIDES.glob("*.md")):
        for line, _, _, marker, argument, _ in code_blocks(path.read_text()):
            if marker == "needs cached file":
                params.append(
                    pytest.param(path, line, argument, id=f"{path.stem}:{line}")
                )
    return params


@pytest.mark.parametrize("path, line, name", guarded_block_params())
def test_guide_block_needing_a_cached_file(path, line, name, tmp_path, monkeypatch):
    if not cached(name):
        pytest.skip(
            f"{path.name}, block at line {line} needs {name} in the Keras cache"
        )
    needs_guide_file(path)
    run_in_empty_folder(monkeypatch, tmp_path)
    blocks = [
        b
        for b in code_blocks(path.read_text())
        if b.line <= line and b.marker != "not run"
    ]
    run_blocks(path, blocks)


def test_guides_are_in_the_nav_and_say_why_a_block_is_not_run():
    nav = (ROOT / "mkdocs.yml").read_text()
    guides = sorted(GUIDES.glob("*.md"))
    assert len(guides) >= 4
    for path in guides:
        assert f"guides/{path.name}" in nav, f"{path.name} is not in mkdocs.yml nav"
        for line, _, _, marker, argument, _ in code_blocks(path.read_text()):
            if marker == "not run":
                assert len(argument.split()) >= 3, f"{path.name}:{line}: say why"


def test_code_blocks_and_shell_commands_are_read_as_written():
    text = (
        "intro\n```python\nx = 1\n```\n"
        "<!-- not run: downloads 94 MB -->\n```python\ny = 2\n```\n"
        "<!-- needs cached file: a.h5 -->\n```bash\n"
        "keras-video train r.py --data d \\\n    epochs=1  # one epoch\n"
        "keras-video evaluate m.keras --data d\n```\n```text\nnot code\n```\n"
        '```python title="r.py"\ndef config():\n    pass\n```\n'
    )
    blocks = code_blocks(text)
    assert [(b.line, b.lang, b.marker, b.argument, b.title) for b in blocks] == [
        (2, "python", None, None, None),
        (6, "python", "not run", "downloads 94 MB", None),
        (10, "bash", "needs cached file", "a.h5", None),
        (15, "text", None, None, None),
        (18, "python", None, None, "r.py"),
    ]
    assert blocks[0].code == "x = 1\n"
    assert blocks[4].code == "def config():\n    pass\n"
    assert shell_commands(blocks[2].code) == [
        ["keras-video", "train", "r.py", "--data", "d", "epochs=1"],
        ["keras-video", "evaluate", "m.keras", "--data", "d"],
    ]


# ---------------------------------------------------------------------- figures


def test_guide_figures_draw_and_are_committed(tmp_path):
    from tools import guide_figures as figures

    for name, draw in figures.FIGURES.items():
        assert (ROOT / "docs" / "images" / name).is_file(), name
        out = draw(str(tmp_path / name))
        assert os.path.getsize(out) > 10_000, name


def test_demo_chart_is_committed_with_its_command():
    chart = ROOT / "docs" / "images" / "demo_comparison.png"
    assert chart.is_file()
    text = (ROOT / "docs" / "index.md").read_text()
    assert "images/demo_comparison.png" in text
    assert "python -m keras_video.demo" in text
