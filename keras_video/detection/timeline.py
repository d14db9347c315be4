"""A picture of predicted and true action segments on a video's timeline."""

import numpy as np


def plot_timeline(
    path,
    videos,
    class_names,
    score_threshold=0.3,
    max_detections=10,
    title=None,
):
    """Writes a PNG: per video, the true segments above the predicted ones.

    Each video gets two rows on a shared time axis: `truth` (the annotated
    segments) and `predicted` (the best `max_detections` detections scored at
    least `score_threshold`, drawn with opacity = score and labelled with
    their class and score). Colours are per class.

    Args:
        path: the `.png` file to write.
        videos: a list of dicts, one per video: `"name"`, `"duration"`
            (seconds), `"truth"` (a list of `(start, end, label)`),
            `"detections"` (the dict of `decode_detections`: `"segments"`,
            `"labels"`, `"scores"`).
        class_names: label index -> name.
        score_threshold, max_detections: which detections are drawn.
        title: a title above the figure.

    Returns:
        `path`.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not videos:
        raise ValueError("`videos` must list at least one video.")
    colours = plt.get_cmap("tab10")
    fig, axes = plt.subplots(
        len(videos), 1, figsize=(9, 1.25 * len(videos) + 0.6), squeeze=False
    )
    for ax, video in zip(axes[:, 0], videos, strict=True):
        for start, end, label in video["truth"]:
            ax.broken_barh(
                [(start, end - start)], (1.1, 0.8), color=colours(int(label) % 10)
            )
            ax.text((start + end) / 2, 1.5, class_names[int(label)], ha="center",
                    va="center", fontsize=7, color="white")  # fmt: skip
        found = video["detections"]
        scores = np.asarray(found["scores"])
        order = np.flatnonzero(scores >= score_threshold)[: int(max_detections)]
        for i in order[::-1]:  # the best drawn last, on top
            start, end = found["segments"][i]
            label = int(found["labels"][i])
            colour, alpha = colours(label % 10), float(scores[i])
            ax.broken_barh(
                [(start, end - start)], (0.1, 0.8), color=colour, alpha=alpha
            )
            ax.text((start + end) / 2, 0.5, f"{class_names[label]} {scores[i]:.2f}",
                    ha="center", va="center", fontsize=6)  # fmt: skip
        ax.set_xlim(0, float(video["duration"]))
        ax.set_ylim(0, 2)
        ax.set_yticks([0.5, 1.5], ["predicted", "truth"])
        ax.set_title(video["name"], fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
    axes[-1, 0].set_xlabel("seconds")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
