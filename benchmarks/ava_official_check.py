"""`keras_video.detection.ava_frame_map` against the official AVA evaluator.

Writes random AVA files (label map, ground truth, detections, exclusions),
scores each with the official `get_ava_performance.py` of
activitynet/ActivityNet and with `ava_frame_map`, and reports the largest
difference of the mAP and of every per-class AP (NaN must meet NaN).

The official code is not part of keras-video: pass its `Evaluation` folder at
commit 3fee089818fded4a54b91eae53a640f24e423ba3 (the last version with the
`--exclusions` flag and the 50-detection cap):

    git clone https://github.com/activitynet/ActivityNet
    git -C ActivityNet checkout 3fee089818fded4a54b91eae53a640f24e423ba3
    python benchmarks/ava_official_check.py ActivityNet/Evaluation --files 400

The official files are Python 2; they are copied to a temporary folder with
the mechanical edits that Python 3 and NumPy 2 need (package imports
`import metrics` -> `from ava import metrics`, `np.float` -> `float`,
`np.bool` -> `bool`, `np.NAN` -> `np.nan`, `logging.warn` ->
`logging.warning`) and nothing else. `run_evaluation` is called on the
files as the command line would; its printed metrics are captured.

What the random files hold (a seed per file): 1-9 classes in the label map
(ids from 1-12, so ids are skipped, and rows with ids outside the map),
2-5 videos, keyframes 902-911 written with and without leading zeros,
0-5 people per keyframe with 1-3 actions each, boxes on a 0.05 grid (IoU
ties, IoU exactly 0.5, zero-width ground truth), ground-truth files with
and without the person-id column; detections copied or jittered from the
ground truth, duplicated, random, on keyframes without ground truth, with
`x2 <= x1` or `y2 <= y1`, scores on a 0.1 grid (ties) or continuous, rows
of 7 columns (score 1.0), every 4th file with keyframes of 51-90
detections (the cap of 50, with ties at the cut); 0-3 excluded keyframes,
some of them annotated.

Measured on the project machine (Python 3.11.7, NumPy 2.4.6):

    python benchmarks/ava_official_check.py /tmp/ActivityNet/Evaluation --files 400

400 files, 2,455 values (every mAP and per-class AP; 47 NaN on both
sides), max |difference| 0.0: bit-identical. The files do tell the rules
apart: on the first 200 of them, scoring without the 50-detection cap
changes the mAP of 6 files, ranking tied detections of a keyframe in file
order instead of the heap's order 20, letting a detection fall back to its
next-best ground truth 3, and ranking tied scores with a stable sort in the
AP 123.
"""

import argparse
import contextlib
import io
import math
import pathlib
import re
import shutil
import sys
import tempfile

import numpy as np

from keras_video.detection import ava_frame_map

EDITS = [
    (r"^import (np_box_list|np_box_list_ops|np_box_mask_list|np_box_mask_list_ops"
     r"|np_box_ops|np_mask_ops|per_image_evaluation|metrics|label_map_util"
     r"|standard_fields)$", r"from ava import \1"),
    (r"np\.float\b", "float"),
    (r"np\.bool\b", "bool"),
    (r"np\.NAN\b", "np.nan"),
    (r"logging\.warn\(", "logging.warning("),
]  # fmt: skip


def official_copy(evaluation, folder):
    """The official script and its `ava/` package, edited for Python 3."""
    evaluation = pathlib.Path(evaluation)
    script = evaluation / "get_ava_performance.py"
    text = script.read_text()
    if "exclusions" not in text or "capacity" not in text:
        sys.exit(
            f"{script} is not the version with --exclusions and the 50-detection "
            "cap; check out commit 3fee089818fded4a54b91eae53a640f24e423ba3"
        )
    shutil.copytree(evaluation / "ava", folder / "ava")
    shutil.copy(script, folder / "get_ava_performance.py")
    for path in [folder / "get_ava_performance.py", *(folder / "ava").glob("*.py")]:
        source = path.read_text()
        for pattern, replacement in EDITS:
            source = re.sub(pattern, replacement, source, flags=re.M)
        path.write_text(source)
    sys.path.insert(0, str(folder))
    import get_ava_performance

    return get_ava_performance


def official_metrics(module, labelmap, groundtruth, detections, exclusions):
    """`run_evaluation` on the files; returns (mAP, {name: AP})."""
    captured = {}

    class Printer:
        pformat = staticmethod(lambda *a, **k: "")

        @staticmethod
        def pprint(metrics, indent=None):
            captured.update(metrics)

    module.pprint = Printer
    with contextlib.ExitStack() as stack:
        files = [
            stack.enter_context(open(p)) if p else None
            for p in (labelmap, groundtruth, detections, exclusions)
        ]
        module.run_evaluation(*files)
    mean = captured.pop("PascalBoxes_Precision/mAP@0.5IOU")
    per_class = {k.rsplit("/", 1)[1]: v for k, v in captured.items()}
    return mean, per_class


def box(rng, grid=0.05):
    x1, x2 = np.sort(rng.integers(0, int(1 / grid) + 1, 2)) * grid
    y1, y2 = np.sort(rng.integers(0, int(1 / grid) + 1, 2)) * grid
    if rng.random() < 0.9:  # mostly boxes with area
        x2, y2 = max(x2, x1 + grid), max(y2, y1 + grid)
    return [round(v, 4) for v in (x1, y1, x2, y2)]


def random_files(rng, folder):
    ids = sorted(rng.choice(np.arange(1, 13), rng.integers(1, 10), replace=False))
    (folder / "labels.pbtxt").write_text(
        "".join(f'item {{\n  name: "c{i}"\n  id: {i}\n}}\n' for i in ids)
    )
    actions = list(range(1, 14))
    videos = [f"vid{v}" for v in range(rng.integers(2, 6))]
    keyframes = [(v, t) for v in videos for t in range(902, 912) if rng.random() < 0.5]
    with_person = rng.random() < 0.7
    gt, found, excluded = [], [], []

    def ts(t):
        return f"{t:04d}" if rng.random() < 0.8 else str(t)

    def score():
        return round(rng.random(), 1) if rng.random() < 0.6 else rng.random()

    crowded = rng.random() < 0.25
    for v, t in keyframes:
        people = [box(rng) for _ in range(rng.integers(0, 6))]
        for p, b in enumerate(people):
            for a in rng.choice(actions, rng.integers(1, 4), replace=False):
                row = [v, ts(t), *b, int(a)] + ([p] if with_person else [])
                gt.append(row)
                for _ in range(rng.integers(0, 3)):  # copies and jitters
                    jitter = rng.choice([0, 0, 0.05, -0.05, 0.1], 4)
                    d = [round(c + j, 4) for c, j in zip(b, jitter, strict=True)]
                    found.append([v, ts(t), *d, int(a), score()])
        count = rng.integers(51, 91) if crowded and rng.random() < 0.5 else 3
        for _ in range(rng.integers(0, count + 1)):
            a = int(rng.choice(actions))
            found.append(
                [v, ts(t), *box(rng), a] + ([] if rng.random() < 0.03 else [score()])
            )
        if rng.random() < 0.1:
            excluded.append([v, ts(t)])
    for _ in range(rng.integers(0, 4)):  # keyframes without ground truth
        v, t = str(rng.choice(videos)), int(rng.integers(902, 915))
        found.append([v, ts(t), *box(rng), int(rng.choice(actions)), score()])
        if rng.random() < 0.3:
            excluded.append([v, ts(t)])
    rng.shuffle(found)

    def write(name, rows):
        path = folder / name
        path.write_text("".join(",".join(map(str, r)) + "\n" for r in rows))
        return path

    return (
        folder / "labels.pbtxt",
        write("gt.csv", gt),
        write("det.csv", found),
        write("excluded.csv", excluded) if excluded or rng.random() < 0.5 else None,
        ids,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("evaluation", help="the official Evaluation folder")
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import logging

    logging.disable(logging.CRITICAL)
    worst, compared, nans = 0.0, 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        module = official_copy(args.evaluation, tmp / "official")
        for index in range(args.files):
            folder = tmp / f"f{index}"
            folder.mkdir()
            rng = np.random.default_rng([args.seed, index])
            labels, gt, det, excluded, ids = random_files(rng, folder)
            with contextlib.redirect_stdout(io.StringIO()):
                mean, per_class = official_metrics(module, labels, gt, det, excluded)
            ours = ava_frame_map(labels, gt, det, excluded)
            pairs = [(mean, ours["mAP"])] + [
                (per_class[f"c{i}"], ours["per_class_AP"][i]) for i in ids
            ]
            for theirs, mine in pairs:
                compared += 1
                if math.isnan(theirs) or math.isnan(mine):
                    if not (math.isnan(theirs) and math.isnan(mine)):
                        sys.exit(f"file {index}: NaN mismatch {theirs} vs {mine}")
                    nans += 1
                else:
                    worst = max(worst, abs(theirs - mine))
    print(
        f"{args.files} files, {compared} values (mAP and per-class AP; {nans} NaN "
        f"on both sides), max |difference| {worst!r}"
    )
    return 0 if worst <= 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
