"""Does `VideoReader` leak? Resident memory over many readers and long videos.

Two loads, each in a fresh Python process per backend:

- **cycles**: 2,000 times open a 720p h264 file, read 8 random frames, close.
- **long**: read a 10-minute 1080p h264 file frame by frame (chunks of 30
  consecutive frames, one reader), 18,000 frames.

Resident memory (`VmRSS`) is sampled as it runs; growth is the largest sample
after warm-up (the first 10% of the work) minus the sample at the end of
warm-up. Target: under 50 MB for both.

Run:

    python benchmarks/reader_leaks.py                 # full sizes
    python benchmarks/reader_leaks.py --cycles 300 --minutes 1   # quick look

Files are written here with PyAV (libx264 ultrafast, GOP 30, B-frames; the long
file repeats 300 distinct frames, the encoder still codes all of them).
"""

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def child(mode, path, backend, amount):
    """Runs in a fresh process; prints a JSON line of RSS samples."""
    import types

    import numpy as np

    # The reader without the package __init__ files (they import Keras).
    for name, folder in (("keras_video", ""), ("keras_video.data", "data")):
        package = types.ModuleType(name)
        package.__path__ = [str(HERE.parent / "keras_video" / folder)]
        sys.modules[name] = package
    from keras_video.data.video import VideoReader

    samples = []
    began = time.perf_counter()
    if mode == "cycles":
        rng = np.random.default_rng(0)
        with VideoReader(path, backend=backend) as reader:
            n = reader.num_frames
        for cycle in range(amount):
            with VideoReader(path, backend=backend) as reader:
                frames = reader.get_frames(rng.integers(0, n, 8))
                assert frames.shape[0] == 8
            if cycle % max(amount // 50, 1) == 0 or cycle == amount - 1:
                samples.append((cycle + 1, rss_mb()))
    else:
        with VideoReader(path, backend=backend) as reader:
            n = reader.num_frames
            for start in range(0, n, 30):
                frames = reader.get_frames(range(start, min(n, start + 30)))
                assert frames.shape[0] == min(n, start + 30) - start
                if (start // 30) % max(n // 30 // 50, 1) == 0 or start + 30 >= n:
                    samples.append((min(n, start + 30), rss_mb()))
    seconds = time.perf_counter() - began
    print(json.dumps({"samples": samples, "seconds": seconds}))


def growth(samples, total):
    """(RSS at the end of warm-up, largest RSS after it, growth) in MB."""
    cut = max(total // 10, samples[0][0])  # warm-up: 10%, at least one sample
    warm = [rss for done, rss in samples if done <= cut][-1]
    later = max([rss for done, rss in samples if done > cut], default=warm)
    return warm, later, later - warm


def write_h264(path, seconds, height, width):
    sys.path.insert(0, str(HERE))
    from _videos import write_looped_video

    return write_looped_video(path, seconds, height, width)


def run_child(mode, path, backend, amount):
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path), backend, str(amount)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=2000)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--backends", default="pyav,opencv")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "PATH", "BACKEND", "N"))
    args = parser.parse_args()
    if args.child:
        mode, path, backend, amount = args.child
        child(mode, path, backend, int(amount))
        return
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="kv_leaks_"))
    began = time.perf_counter()
    short = write_h264(workdir / "720p.mp4", 10, 720, 1280)
    long = write_h264(workdir / "1080p.mp4", 60 * args.minutes, 1080, 1920)
    print(f"wrote the files in {time.perf_counter() - began:.0f} s")
    total_long = 60 * args.minutes * 30
    print(
        "| load | backend | RSS after warm-up (MB) | largest later (MB) "
        "| growth (MB) | s |"
    )
    print("|---|---|---|---|---|---|")
    worst = 0.0
    for backend in args.backends.split(","):
        for mode, path, amount, label in (
            ("cycles", short, args.cycles, f"{args.cycles} open/8 frames/close, 720p"),
            ("long", long, total_long, f"{total_long} frames in order, 1080p"),
        ):
            result = run_child(mode, path, backend, amount)
            warm, later, grew = growth(result["samples"], amount)
            worst = max(worst, grew)
            print(
                f"| {label} | {backend} | {warm:.1f} | {later:.1f} | {grew:+.1f} | "
                f"{result['seconds']:.0f} |"
            )
    print(f"largest growth: {worst:+.1f} MB (target < 50 MB)")
    sys.exit(0 if worst < 50 else 1)


if __name__ == "__main__":
    main()
