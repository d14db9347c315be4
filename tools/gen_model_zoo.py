"""Writes `docs/model_zoo.md`, the model-zoo table: `python tools/gen_model_zoo.py`.

One row per entry of `keras_video.applications.MODELS`. The computed columns
come from the code: the constructor is built at its published size
(`ROWS[name].kwargs`, input `ROWS[name].input_shape`), parameters are
`model.count_params()`, FLOPs are `keras_video.training.count_flops` of one
clip, weights presets are read from `keras_video.applications.weights.PRESETS`
(with the command that makes each file). The published columns come from
`PUBLISHED` and `SOURCES` below: the original network's accuracy as its paper
or a peer's model zoo states it, with the evaluation protocol.

Building the 17 full-size networks and one forward pass each takes about
three minutes on a 2-core CPU (most of it the ResNet-50 I3D, SlowFast, Slow
and the Inception I3Ds), so `tests/test_model_zoo.py` checks everything but the
measured numbers at once (`render` with the numbers read back from the page)
and the numbers themselves under the `large` marker.

    python tools/gen_model_zoo.py            # rewrite docs/model_zoo.md
    python tools/gen_model_zoo.py --check    # exit 1 if the page is stale
"""

import argparse
import dataclasses
import os
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "model_zoo.md"


@dataclasses.dataclass(frozen=True)
class Row:
    """How one registry entry is built at its published size.

    Attributes:
        label: the model's name in the table.
        kwargs: constructor arguments besides the defaults.
        family: the constructor's key in `weights.PRESETS`.
        input_shape: the clip, when the constructor's default leaves the
            frames open (`None`: the constructor's default).
    """

    label: str
    kwargs: dict
    family: str
    input_shape: tuple = None


ROWS = {
    "single_frame": Row("Single frame", {}, "single_frame"),
    "late_fusion": Row("Late fusion", {}, "late_fusion"),
    "early_fusion": Row("Early fusion", {}, "early_fusion"),
    "slow_fusion": Row("Slow fusion", {}, "slow_fusion"),
    "c3d": Row("C3D", {}, "c3d"),
    "r3d_18": Row("R3D-18", {}, "r3d_18"),
    "r3d_50": Row("R3D-50", {"depth": 50}, "r3d_50"),
    "mc3_18": Row("MC3-18", {}, "mc3_18"),
    "r2plus1d_18": Row("R(2+1)D-18", {}, "r2plus1d_18"),
    "two_stream": Row("Two-stream", {}, "two_stream"),
    "cnn_rnn": Row("CNN + LSTM", {}, "cnn_rnn"),
    "recurrent_cnn": Row("Recurrent CNN (ConvGRU)", {}, "recurrent_cnn"),
    "slowfast": Row("SlowFast 4x16 R50", {}, "slowfast"),
    "slow": Row("Slow 8x8 R50", {}, "slow"),
    "i3d": Row("I3D ResNet-50", {}, "I3D"),
    "inception_i3d": Row("I3D Inception-v1", {}, "InceptionI3D", (64, 224, 224, 3)),
    "two_stream_i3d": Row("Two-stream I3D", {}, "TwoStreamI3D", (64, 224, 224, 3)),
}


@dataclasses.dataclass(frozen=True)
class Published:
    """The original network's published accuracy.

    Attributes:
        original: which network the figure is for.
        dataset: data set and split.
        accuracy: `"top-1 / top-5"` (or the one figure published).
        protocol: how a video is scored: clips (views) x crops.
        source: a key of `SOURCES`.
        to_check: what of the row is not confirmed against its source, and
            why (shown in the table); empty when all of it was checked.
    """

    original: str
    dataset: str
    accuracy: str
    protocol: str
    source: str
    to_check: str = ""


# Figures as their sources print them; nothing here was re-measured. The
# Sports-1M, UCF-101 and PySlowFast rows were checked against the text of
# their sources (SOURCES says which), except what a row's `to_check` names.
_KARPATHY = "Sports-1M test (200,000 videos), video hit@1 / hit@5"
_KARPATHY_VIEWS = "20 random clips x 4 crops and flips, clip scores averaged"
_PYSLOWFAST_VIEWS = "10 clips x 3 crops"
PUBLISHED = {
    "single_frame": Published(
        "Single-Frame; clip hit@1 41.1",
        _KARPATHY,
        "59.3 / 77.7",
        _KARPATHY_VIEWS,
        "karpathy",
    ),
    "late_fusion": Published(
        "Late Fusion; clip hit@1 40.7",
        _KARPATHY,
        "59.3 / 78.7",
        _KARPATHY_VIEWS,
        "karpathy",
    ),
    "early_fusion": Published(
        "Early Fusion; clip hit@1 38.9",
        _KARPATHY,
        "57.7 / 76.8",
        _KARPATHY_VIEWS,
        "karpathy",
    ),
    "slow_fusion": Published(
        "Slow Fusion; clip hit@1 41.9",
        _KARPATHY,
        "60.9 / 80.2",
        _KARPATHY_VIEWS,
        "karpathy",
    ),
    "c3d": Published(
        "C3D, fine-tuned from I380K; clip hit@1 46.1",
        "Sports-1M test, video hit@1 / hit@5",
        "61.1 / 85.2",
        "10 random clips x 1 centre crop, clip scores averaged",
        "c3d",
        to_check=(
            "the number of clips (10) and the single centre crop are from "
            "memory: the paper's text on its test views was not among the "
            "sources searched, its figures were"
        ),
    ),
    "r3d_18": Published(
        "torchvision `r3d_18`",
        "Kinetics-400 val",
        "63.20 / 83.48",
        "5 clips x 1 centre crop (16 frames at 15 fps)",
        "torchvision",
    ),
    "r3d_50": None,
    "mc3_18": Published(
        "torchvision `mc3_18`",
        "Kinetics-400 val",
        "63.96 / 84.13",
        "5 clips x 1 centre crop (16 frames at 15 fps)",
        "torchvision",
    ),
    "r2plus1d_18": Published(
        "torchvision `r2plus1d_18`",
        "Kinetics-400 val",
        "67.46 / 86.18",
        "5 clips x 1 centre crop (16 frames at 15 fps)",
        "torchvision",
    ),
    "two_stream": Published(
        "Two-stream, fusion by averaging",
        "UCF-101, mean of 3 splits, top-1",
        "86.9",
        "25 evenly spaced frames x 10 crops (4 corners + centre, and flips), "
        "scores averaged",
        "simonyan",
    ),
    "cnn_rnn": Published(
        "Beyond Short Snippets, best network",
        "Sports-1M test, video hit@1",
        "73.1",
        "video level (frame sampling: see the paper)",
        "ng",
    ),
    "recurrent_cnn": None,
    "slowfast": Published(
        "SlowFast 4x16 R50",
        "Kinetics-400 val",
        "75.6 / 92.0",
        _PYSLOWFAST_VIEWS,
        "pyslowfast",
    ),
    "slow": Published(
        "PyTorchVideo `slow_r50`, Slow 8x8 R50",
        "Kinetics-400 val",
        "74.58 / 91.63",
        _PYSLOWFAST_VIEWS,
        "pytorchvideo",
    ),
    "i3d": Published(
        "PyTorchVideo `i3d_r50`, I3D 8x8 R50",
        "Kinetics-400 val",
        "73.27 / 90.70",
        _PYSLOWFAST_VIEWS,
        "pytorchvideo",
    ),
    "inception_i3d": Published(
        "RGB-I3D, ImageNet + Kinetics",
        "Kinetics-400 test",
        "71.1 / 89.3",
        "all frames (25 fps) x 1 centre crop",
        "i3d",
    ),
    "two_stream_i3d": Published(
        "Two-Stream I3D, ImageNet + Kinetics",
        "Kinetics-400 test",
        "74.2 / 91.3",
        "all frames (25 fps) x 1 centre crop, RGB and flow logits added",
        "i3d",
    ),
}

SOURCES = {
    "karpathy": (
        "Karpathy et al., *Large-scale Video Classification with Convolutional "
        "Neural Networks*, CVPR 2014, Table 1 (Sports-1M test set; the 59.3 and "
        "60.9 also in its abstract), video-level prediction as the paper "
        "describes it (20 random clips, each 4 times with different crops and "
        "flips); <https://cs.stanford.edu/people/karpathy/deepvideo/>; checked "
        "against two transcriptions of Table 1 and the abstract on that page"
    ),
    "c3d": (
        "Tran et al., *Learning Spatiotemporal Features with 3D Convolutional "
        "Networks*, ICCV 2015, Table 2 (Sports-1M; the hit@5 85.2 also in Table "
        "1, and the 46.1 / 61.1 / 85.2 row as Tran et al., CVPR 2018 (R(2+1)D) "
        "reprint it in their Sports-1M table); arXiv:1412.0767. On UCF-101 "
        "(C3D features and a linear SVM) its Table 1 gives 85.2 from RGB "
        "frames alone and 90.4 combined with iDT"
    ),
    "torchvision": (
        "torchvision, `torchvision.models.video` KINETICS400_V1 weights "
        '("estimated on video-level with parameters `frame_rate=15`, '
        '`clips_per_video=5`, and `clip_len=16`"); see '
        "[Pretrained weights](pretrained_weights.md)"
    ),
    "simonyan": (
        "Simonyan and Zisserman, *Two-Stream Convolutional Networks for Action "
        "Recognition in Videos*, NeurIPS 2014, Table 4 (mean over the 3 splits: "
        "86.9 fusing the two streams' softmax scores by averaging, 88.0 by a "
        'linear SVM); test views as its Sect. 5 ("Testing") describes them; '
        "arXiv:1406.2199"
    ),
    "ng": (
        "Ng et al., *Beyond Short Snippets: Deep Networks for Video "
        'Classification*, CVPR 2015, abstract ("73.1% vs. 60.9%" on Sports-1M; '
        "GoogLeNet frame features with an LSTM or feature pooling); "
        "arXiv:1503.08909"
    ),
    "pyslowfast": (
        "PySlowFast model zoo, `MODEL_ZOO.md`, Kinetics 400 table (SlowFast R50 "
        "4 x 16, 3 crops x 10 clips; read at commit 02a85e9); "
        "<https://github.com/facebookresearch/SlowFast>"
    ),
    "pytorchvideo": (
        "PyTorchVideo model zoo, `docs/source/model_zoo.md`; see "
        "[Pretrained weights](pretrained_weights.md)"
    ),
    "i3d": (
        "Carreira and Zisserman, *Quo Vadis, Action Recognition?*, CVPR 2017; "
        "the figures as github.com/deepmind/kinetics-i3d's README states them "
        "for the released checkpoints"
    ),
}

NOT_PUBLISHED = {
    "r3d_50": "no published figure for this network (torchvision publishes depth 18)",
    "recurrent_cnn": "no published figure for this network",
}


# ------------------------------------------------------------------ computed


def measure(name):
    """`(params, flops)` of registry entry `name` at its published size."""
    from keras_video.applications import MODELS
    from keras_video.training import count_flops

    row = ROWS[name]
    kwargs = dict(row.kwargs)
    if row.input_shape is not None:
        kwargs["input_shape"] = row.input_shape
    model = MODELS[name].constructor(**kwargs)
    return model.count_params(), count_flops(model), _input_shapes(model)


def _input_shapes(model):
    return [tuple(int(d) for d in t.shape[1:]) for t in model.inputs]


def measure_all():
    """`{name: (params, flops, input_shapes)}` for every row."""
    return {name: measure(name) for name in ROWS}


def presets(family):
    """`[(tag, command)]`: the weights presets of `family`, from the code."""
    from keras_video.applications import weights

    found = weights.PRESETS.get(family, {})
    return [(tag, found[tag].file.command) for tag in sorted(found)]


# ------------------------------------------------------------------ rendering


def _clip(shapes):
    text = "x".join(str(d) for d in shapes[0][:3])
    for extra in shapes[1:]:
        text += f" + flow {'x'.join(str(d) for d in extra)}"
    return text


def _constructor(name):
    from keras_video.applications import MODELS

    row = ROWS[name]
    args = ", ".join(f"{k}={v!r}" for k, v in row.kwargs.items())
    return f"`{MODELS[name].constructor.__name__}({args})`"


def _weights_cell(family):
    items = presets(family)
    if not items:
        return "none"
    return "<br>".join(f"`{tag}`: `{command}`" for tag, command in items)


def _published_cells(name):
    published = PUBLISHED[name]
    if published is None:
        return ["—", NOT_PUBLISHED[name], "—"]
    keys = list(SOURCES)
    cite = f"[{keys.index(published.source) + 1}]"
    protocol = f"{published.dataset}; {published.protocol}"
    if published.to_check:
        protocol += f" (*to check*: {published.to_check})"
    return [f"{published.accuracy} ({published.original})", protocol, cite]


HEADER = """\
# Model zoo

Every constructor of `keras_video.applications` (the registry
`keras_video.applications.MODELS`) at its published size: the clip it takes,
its parameters and FLOPs per clip as the code computes them, the weights it
can load, and the accuracy its original network published, with the protocol
that figure was measured with.

<!-- Generated by tools/gen_model_zoo.py; edit the script, then run
     `python tools/gen_model_zoo.py`. tests/test_model_zoo.py checks it is current. -->

- **params**: `model.count_params()` with the 400-class head (C3D: 487,
  Sports-1M's).
- **GFLOPs / clip**: `keras_video.training.count_flops` of one clip at the
  input size shown, 2 FLOPs per multiply-add (convolution, dense and recurrent
  kernels; normalisation, pooling and attention products not counted). Papers
  that quote "FLOPs" for video networks (SlowFast, X3D, I3D's 108 G) count
  multiply-adds: halve this column to compare. A video scored with `k` views
  costs `k` times this.
- **weights**: the presets of `weights=` (`keras_video.applications.weights.PRESETS`)
  and the one command that puts each file into the Keras cache
  ([Pretrained weights](pretrained_weights.md)). Without a preset, the network
  starts from random weights.
- **published**: top-1 / top-5 (%) of the *original* network as its source
  prints it, not re-measured here (a row marked *to check* says what of it
  could not be confirmed against its source's text). Where the zoo's default
  configuration is not the original network (the fusion models, CNN + LSTM
  and the recurrent CNN are built from a small configurable frame CNN, not
  AlexNet or GoogLeNet; `I3D()` inflates `keras.applications.ResNet50`,
  PyTorchVideo's I3D is `I3D(architecture="pytorchvideo")`), the figure says
  what the design reached at full scale, not what these weights do.

"""
COLUMNS = (
    "model",
    "constructor",
    "input clip",
    "params",
    "GFLOPs / clip",
    "weights",
    "published (original)",
    "data set; protocol (views x crops)",
    "source",
)


def render(measured):
    """The page text from `{name: (params, flops, input_shapes)}`."""
    from keras_video.applications import MODELS

    missing = sorted(set(MODELS) - set(ROWS))
    if missing:
        raise ValueError(
            f"Registry entries without a zoo row in tools/gen_model_zoo.py: "
            f"{missing}. Received: ROWS={sorted(ROWS)}"
        )
    lines = [
        HEADER.rstrip("\n"),
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for name, row in ROWS.items():
        params, flops, shapes = measured[name]
        cells = [
            f"{row.label} (`{name}`)",
            _constructor(name),
            _clip(shapes),
            f"{params:,}",
            f"{flops / 1e9:.2f}",
            _weights_cell(row.family),
            *_published_cells(name),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Sources", ""]
    lines += [f"{i}. {text}" for i, text in enumerate(SOURCES.values(), start=1)]
    return "\n".join(lines) + "\n"


_ROW = re.compile(
    r"^\| [^|]* \(`(?P<name>\w+)`\) \| [^|]* \| (?P<clip>[^|]*) \| "
    r"(?P<params>[\d,]+) \| (?P<gflops>[\d.]+) \|"
)


def _parse_clip(text):
    shapes = []
    for part in text.split(" + flow "):
        dims = tuple(int(d) for d in part.split("x"))
        shapes.append(dims if len(dims) == 4 else (*dims, 3))
    return shapes


def read_measured(text):
    """`{name: (params, flops, input_shapes)}` as printed on the page `text`."""
    measured = {}
    for line in text.splitlines():
        match = _ROW.match(line)
        if match:
            measured[match["name"]] = (
                int(match["params"].replace(",", "")),
                float(match["gflops"]) * 1e9,
                _parse_clip(match["clip"]),
            )
    return measured


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if stale")
    args = parser.parse_args(argv)
    text = render(measure_all())
    if args.check:
        current = PAGE.read_text() if PAGE.exists() else ""
        if current != text:
            print(f"{PAGE} is stale: run python tools/gen_model_zoo.py")
            return 1
        print(f"{PAGE} is current")
        return 0
    PAGE.write_text(text)
    print(f"wrote {os.path.relpath(PAGE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
