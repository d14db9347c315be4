"""Peak memory of `VideoReader`: the same clips from a 10-second and a 10-minute video.

Each measurement runs in a fresh Python process: import the reader module (not the
package, which imports TensorFlow), open a reader, decode
random clips (16 frames, step 2) spread over the whole video, report the peak RSS
(`resource.getrusage(...).ru_maxrss`) and the RSS right after the imports. The target
is a peak that does not grow with video length (within 10%).

Run:

    python benchmarks/reader_memory.py --clips 40

Files: 160x120 h264, 30 fps, keyframe every 250 frames, B-frames, written here with
PyAV (the 10-minute file repeats 300 distinct frames; the encoder still codes every
one of its 18000 frames).
"""

import argparse
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent


def child(path, backend, num_clips):
    """Runs in the fresh process; prints `baseline_kb peak_kb num_frames`."""
    import resource

    # Import the reader module without the package __init__ files (they import
    # Keras and TensorFlow, ~600 MiB that have nothing to do with decoding).
    import types

    import numpy as np

    for name, folder in (("keras_video", ""), ("keras_video.data", "data")):
        package = types.ModuleType(name)
        package.__path__ = [str(HERE.parent / "keras_video" / folder)]
        sys.modules[name] = package
    from keras_video.data.video import VideoReader

    def rss_kb():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    import av  # noqa: F401  (decoder libraries loaded before the baseline)
    import cv2  # noqa: F401

    baseline = rss_kb()
    with VideoReader(path, backend=backend, num_threads=1) as reader:
        n = reader.num_frames
        starts = np.random.default_rng(0).integers(0, n - 31, num_clips)
        for start in starts:
            clip = reader.get_frames(range(start, start + 31, 2))
            assert clip.shape[0] == 16
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(baseline, peak, n)


def write_long_video(path, seconds, height=120, width=160):
    sys.path.insert(0, str(HERE))
    from _videos import write_looped_video

    return write_looped_video(path, seconds, height, width, gop=250, bframes=3, crf=23)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--child", nargs=2, metavar=("PATH", "BACKEND"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.clips)
        return
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="kv_memory_"))
    videos = {
        "10 s": write_long_video(workdir / "10s.mp4", 10),
        "10 min": write_long_video(workdir / "10min.mp4", 600),
    }
    print(f"{args.clips} random clips (16 frames, step 2), 160x120 h264, GOP 250 + B")
    for backend in ("opencv", "pyav"):
        peaks = {}
        for name, path in videos.items():
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    str(path),
                    backend,
                    "--clips",
                    str(args.clips),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            baseline, peak, frames = (int(v) for v in out[-3:])
            peaks[name] = peak
            size = path.stat().st_size / 2**20
            print(
                f"  {backend:6s} {name:6s} ({frames:5d} frames, {size:5.1f} MiB): "
                f"peak RSS {peak / 1024:6.1f} MiB (after imports "
                f"{baseline / 1024:6.1f} MiB, reader +{(peak - baseline) / 1024:5.1f}"
                " MiB)"
            )
        ratio = peaks["10 min"] / peaks["10 s"]
        print(f"  {backend:6s} peak 10 min / 10 s: {ratio:.3f}")


if __name__ == "__main__":
    main()
