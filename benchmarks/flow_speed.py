"""Optical flow: speed per core at 320x240 and accuracy (EPE) per method.

Speed: flow fields per CPU-second of `keras_video.flow.compute` on consecutive
frames of a real clip (`../shared/data/videos/mmaction2_test.mp4`, decoded with
`VideoReader`, resized to 320x240 with `cv2.INTER_AREA`), OpenCV limited to one
thread (`cv2.setNumThreads(1)`), after one warm-up pair. CPU time of the
process, so a busy shared machine changes the wall time, not the figure.

Accuracy: mean end-point error against exact references:
- mmflow `00001` (50x50, ground-truth `.flo`, from open-mmlab/mmflow tests);
- mmflow `0000000` (50x50, forward flow `_01`): listed, but its ground truth
  does not explain its images (warping the second image along it leaves the
  mean absolute difference at 10.8 of 11.0 grey levels; for `00001` it
  drops from 5.7 to 2.6), so no method beats zero flow there;
- `known_motion`: a 128x128 textured image shifted by (1.5, -0.75) px and
  one rotated by 2 degrees about its centre (bicubic `cv2.warpAffine`),
  16 px border margin excluded.

Run (pin to one core):

    nice -n 10 taskset -c 0 python benchmarks/flow_speed.py --frames 21
"""

import argparse
import os
import pathlib
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")  # no TensorFlow needed here
os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keras_video import flow  # noqa: E402
from keras_video.data.video import VideoReader  # noqa: E402
from keras_video.flow import known_motion  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
VIDEO = SHARED / "videos" / "mmaction2_test.mp4"
MMFLOW = SHARED / "flow" / "mmflow"

# (label, method, options)
CONFIGS = (
    ("TV-L1 (OpenCV defaults)", "tvl1", {}),
    ("DIS medium", "dis", {"preset": "medium"}),
    ("DIS fast", "dis", {"preset": "fast"}),
    ("Farneback (tutorial values)", "farneback", {}),
)


def read_rgb(path):
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def references():
    """name -> (frames (2, H, W, 3), ground truth (H, W, 2), mask or None)."""
    refs = {}
    image = known_motion.textured_image(128)
    interior = known_motion.interior_mask(image.shape, 16)
    for name, (frames, truth) in (
        ("translation (1.5, -0.75)", known_motion.translation(image, (1.5, -0.75))),
        ("rotation 2 deg", known_motion.rotation(image, 2.0)),
    ):
        refs[name] = (frames, truth, interior)
    pairs = (
        ("mmflow 00001", "00001_img1.ppm", "00001_img2.ppm", "00001_flow.flo"),
        (
            "mmflow 0000000",
            "0000000-img_0.png",
            "0000000-img_1.png",
            "0000000-flow_01.flo",
        ),
    )
    for name, first, second, truth in pairs:
        if (MMFLOW / truth).is_file():
            frames = np.stack([read_rgb(MMFLOW / first), read_rgb(MMFLOW / second)])
            refs[name] = (frames, flow.read_flo(MMFLOW / truth), None)
    return refs


def clip_320x240(num_frames):
    with VideoReader(VIDEO, num_threads=1) as reader:
        frames = reader.get_frames(range(num_frames))
    return np.stack(
        [cv2.resize(f, (320, 240), interpolation=cv2.INTER_AREA) for f in frames]
    )


def speed(frames, method, options):
    flow.compute(frames[:2], method, **options)  # warm-up
    cpu, wall = time.process_time(), time.perf_counter()
    result = flow.compute(frames, method, **options)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return len(result) / cpu, len(result) / wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=21, help="clip length")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    cores = sorted(os.sched_getaffinity(0))
    print(f"OpenCV {cv2.__version__}, 1 OpenCV thread, CPU affinity {cores}")

    frames = clip_320x240(args.frames) if VIDEO.is_file() else None
    refs = references()
    header = ["method", "fields/s per core (320x240)", "wall fields/s"]
    header += [f"EPE {name}" for name in refs]
    rows = []
    zero = ["zero flow", "", ""]
    zero += [f"{flow.epe(np.zeros_like(t), t, m):.3f}" for _, t, m in refs.values()]
    rows.append(zero)
    for label, method, options in CONFIGS:
        row = [label]
        if frames is None:
            row += ["(no video)", ""]
        else:
            per_core, wall = speed(frames, method, options)
            row += [f"{per_core:.1f}", f"{wall:.1f}"]
        for pair, truth, mask in refs.values():
            estimate = flow.compute(pair, method, **options)[0]
            row.append(f"{flow.epe(estimate, truth, mask):.3f}")
        rows.append(row)
        print(f"done: {label}", file=sys.stderr)

    print(
        f"\n{args.frames} frames of {VIDEO.name} at 320x240 ({args.frames - 1} flows)\n"
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
