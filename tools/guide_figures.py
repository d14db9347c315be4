"""Draws the guides' pictures: `python tools/guide_figures.py` -> `docs/images/`.

Every frame index drawn comes from the library itself: the clip samplers
(`keras_video.data.samplers`), the packet index of a video written here
(`keras_video.data.video.index.scan`: where its keyframes are) and the
synthetic motion clips (`keras_video.data.synthetic.render_motion_clip`), so
a change of sampling or seeking behaviour shows in the pictures when they are
redrawn. `tests/test_docs.py` draws each one into a temporary folder.

    python tools/guide_figures.py                 # all, into docs/images/
    python tools/guide_figures.py --output /tmp   # elsewhere
"""

import argparse
import os
import pathlib
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"

TAKEN, PADDED, DECODED, SKIPPED = "#4c72b0", "#dd8452", "#c6d4ea", "#f2f2f2"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _strip(ax, y, num_frames, colours, label, hatches=None):
    """One row of frame squares at height `y`, coloured per frame."""
    for i in range(num_frames):
        ax.add_patch(_rectangle(i, y, colours.get(i, SKIPPED), (hatches or {}).get(i)))
    ax.text(
        -1.0, y + 0.4, label, ha="right", va="center", fontsize=9, family="monospace"
    )


def _rectangle(x, y, colour, hatch=None):
    from matplotlib.patches import Rectangle

    return Rectangle(
        (x, y),
        0.9,
        0.8,
        facecolor=colour,
        edgecolor="#888888",
        linewidth=0.4,
        hatch=hatch,
    )


def _finish(fig, ax, width, rows, title, path, legend):
    from matplotlib.patches import Patch

    ax.set_xlim(-0.5, width + 0.5)
    ax.set_ylim(-0.6, rows + 0.2)
    ax.set_yticks([])
    ax.set_xlabel("frame index")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title, fontsize=11)
    fig.legend(
        handles=[Patch(facecolor=c, edgecolor="#888888", label=n) for n, c in legend],
        loc="lower center",
        ncol=len(legend),
        frameon=False,
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0.9 / fig.get_size_inches()[1], 1, 1))
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)
    return path


def clip_sampling_figure(path):
    """Which frames clips take: random, uniform, target_fps, short videos."""
    from keras_video.data import samplers

    plt = _pyplot()
    num_frames = 40
    rows = [
        ("random_clip(40, 8, 2, seed=0)", samplers.random_clip(40, 8, 2, seed=0)),
        *[
            (f"uniform_clips(40, 8, 3, 2)[{c.clip_index}]", c)
            for c in samplers.uniform_clips(40, 8, 3, 2)
        ],
        (
            "random_clip(40, 8, target_fps=12, fps=30, seed=0)",
            samplers.random_clip(40, 8, target_fps=12, fps=30, seed=0),
        ),
        (
            'uniform_clips(10, 8, 1, 2, short_video="loop")[0]',
            samplers.uniform_clips(10, 8, 1, 2, short_video="loop")[0],
        ),
        (
            'uniform_clips(10, 8, 1, 2, short_video="pad")[0]',
            samplers.uniform_clips(10, 8, 1, 2, short_video="pad")[0],
        ),
    ]
    fig, ax = plt.subplots(figsize=(14, 0.55 * len(rows) + 1.4))
    for r, (label, clip) in enumerate(rows):
        y = len(rows) - 1 - r
        length = 10 if "(10," in label else num_frames
        colours, hatches = {}, {}
        for index, padded in zip(clip.frame_indices, clip.padding, strict=True):
            colours[int(index)] = PADDED if padded else TAKEN
            if padded:
                hatches[int(index)] = "//"
        _strip(ax, y, length, colours, label, hatches)
        numbers = " ".join(str(int(i)) for i in clip.frame_indices)
        ax.text(length + 0.3, y + 0.4, numbers, va="center", fontsize=8)
    ax.set_xlim(-0.5, num_frames + 12)
    return _finish(
        fig,
        ax,
        num_frames + 12,
        len(rows),
        "Which frames a clip takes (8-frame clips; the numbers are its frame_indices)",
        path,
        [
            ("taken", TAKEN),
            ("filled in by loop / pad (Clip.padding)", PADDED),
            ("not taken", SKIPPED),
        ],
    )


def seek_strategy_figure(path):
    """What the reader decodes for two clips of one video (keyframes every 30)."""
    from keras_video.data import samplers
    from keras_video.data.video import index as index_lib
    from keras_video.data.video import write_video

    plt = _pyplot()
    num_frames = 120
    with tempfile.TemporaryDirectory() as tmp:
        video = os.path.join(tmp, "gop30.mp4")
        frames = np.zeros((num_frames, 16, 16, 3), np.uint8)
        write_video(video, frames, fps=30, keyframe_interval=30)
        stream, container = index_lib.scan(video)
        container.close()
    keyframes = [int(k) for k in stream.keyframes]
    clips = [
        samplers.uniform_clips(num_frames, 8, 3, 2)[1],
        samplers.random_clip(num_frames, 8, 2, seed=3),
    ]
    fig, ax = plt.subplots(figsize=(14, 2.9))
    for r, clip in enumerate(clips):
        y = len(clips) - 1 - r
        wanted = [int(i) for i in clip.frame_indices]
        start = stream.keyframe_at_or_before(wanted[0])
        colours = {i: DECODED for i in range(start, wanted[-1] + 1)}
        colours.update({i: TAKEN for i in wanted})
        _strip(ax, y, num_frames, colours, f"clip {wanted[0]}..{wanted[-1]}")
        ax.annotate(
            "",
            xy=(start, y + 0.85),
            xytext=(wanted[0], y + 0.85),
            arrowprops={"arrowstyle": "->", "color": "#c44e52"},
        )
        ax.text(
            (start + wanted[0]) / 2,
            y + 0.95,
            "seek",
            ha="center",
            fontsize=8,
            color="#c44e52",
        )
    for k in keyframes:
        ax.axvline(k - 0.05, color="#c44e52", linewidth=1, linestyle="--")
    return _finish(
        fig,
        ax,
        num_frames,
        len(clips),
        f"VideoReader: seek to the keyframe before the clip (keyframes {keyframes}),"
        " decode forward, keep only the clip's frames",
        path,
        [
            ("returned", TAKEN),
            ("decoded, not returned", DECODED),
            ("not decoded", SKIPPED),
        ],
    )


def synthetic_classes_figure(path):
    """Frames of the synthetic motion data set: one row per class."""
    from keras_video.data.synthetic import render_motion_clip

    plt = _pyplot()
    motions = ("left", "right", "up", "down", "clockwise", "growing")
    shown = (0, 5, 10, 15)
    fig, axes = plt.subplots(
        len(motions), len(shown), figsize=(1.6 * len(shown), 1.6 * len(motions))
    )
    for r, motion in enumerate(motions):
        rng = np.random.default_rng([0, r])
        frames, _ = render_motion_clip(motion, rng, (64, 64), 16)
        for c, t in enumerate(shown):
            ax = axes[r, c]
            ax.imshow(frames[t])
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(motion, fontsize=10)
            if r == 0:
                ax.set_title(f"frame {t}", fontsize=10)
    fig.suptitle(
        "write_motion_dataset: one frame says nothing, the motion is the class",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


FIGURES = {
    "clip_sampling.png": clip_sampling_figure,
    "seek_strategy.png": seek_strategy_figure,
    "synthetic_classes.png": synthetic_classes_figure,
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", default=str(IMAGES))
    args = parser.parse_args(argv)
    os.makedirs(args.output, exist_ok=True)
    for name, draw in FIGURES.items():
        print("wrote", draw(os.path.join(args.output, name)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
