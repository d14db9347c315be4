"""Clip reads under tf.data parallel calls and in forked workers equal a single process.

A `VideoReader` is opened in the parent and reads one clip (so decoder handles exist
before any thread or fork), then `--reads` clip reads run in each mode, every
clip's SHA-1 is compared with the reference computed beforehand by one reader in
one process, and a watchdog bounds each mode (a mode still running at its limit
is killed with its workers and reported as a deadlock):

- `tf_data_per_call`: `tf.data.Dataset.from_tensor_slices(read ids).map(
  tf.numpy_function(...), num_parallel_calls=8)`, a new reader per call;
- `tf_data_shared`: the same, every call on the one reader opened in the parent
  (threads share it; its lock serialises decoding);
- `fork`: `multiprocessing` with the "fork" start method, 4 workers, each using
  the reader inherited from the parent;
- `fork_torch_before` / `fork_torch_after`: the same with `import torch` before
  `import keras_video` / after the parent reader has read its clip; workers pass
  each clip through `torch.from_numpy`.

Each mode runs in its own fresh Python process (`--child MODE`), so import order
is real. The reads are `--reads` draws (seeded) from up to 1000 distinct clips of
8 frames (random start and step 1-3) of a 240-frame 96x64 h264 file written here
(keyframe every 12 frames, B-frames), or of `--video`.

Run (the figures in benchmarks/README.md):

    nice -n 10 taskset -c 1 python benchmarks/parallel_reads.py --reads 20000

The exit status is 1 on any mismatch, missing read or deadlock.
"""

import argparse
import hashlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
SCRIPT = pathlib.Path(__file__).resolve()

MODES = (
    "tf_data_per_call",
    "tf_data_shared",
    "fork",
    "fork_torch_before",
    "fork_torch_after",
)
CLIP_LENGTH = 8


def clip_hash(clip):
    return hashlib.sha1(
        repr((clip.dtype.str, clip.shape)).encode() + clip.tobytes()
    ).hexdigest()


# ------------------------------------------------------------------- parent


def _import_reader_only():
    """`keras_video.data.video` without the package `__init__` files (no TF)."""
    import types

    for name, folder in (("keras_video", ""), ("keras_video.data", "data")):
        package = types.ModuleType(name)
        package.__path__ = [str(ROOT / "keras_video" / folder)]
        sys.modules[name] = package


def write_test_video(path):
    import numpy as np

    from keras_video.data.video import write_video

    rng = np.random.default_rng(0)
    texture = rng.integers(0, 30, (64, 96, 3))
    y, x = np.mgrid[0:64, 0:96]
    frames = []
    for i in range(240):
        image = np.stack([(x * 3 + i * 5) % 256, (y * 4 + i) % 256, (x + y + i) % 256])
        frames.append(np.clip(image.transpose(1, 2, 0) + texture, 0, 255))
    frames = np.asarray(frames, np.uint8)
    return write_video(path, frames, fps=24, keyframe_interval=12, bframes=2)


def make_plan(video, reads, seed):
    """Clip index sets, their reference hashes (one reader, one process), and the
    clip each read asks for."""
    import numpy as np

    from keras_video.data.video import VideoReader

    rng = np.random.default_rng(seed)
    with VideoReader(video) as reader:
        n = reader.num_frames
        sets = []
        for _ in range(min(reads, 1000)):
            step = int(rng.integers(1, 4))
            start = int(rng.integers(0, n - (CLIP_LENGTH - 1) * step))
            sets.append(list(range(start, start + CLIP_LENGTH * step, step)))
        hashes = [clip_hash(reader.get_frames(s)) for s in sets]
    order = rng.integers(0, len(sets), reads).tolist()
    return {"video": str(video), "sets": sets, "hashes": hashes, "reads": order}


def run_mode(mode, plan_path, folder, limit):
    """Runs one mode in a fresh process group; returns its result dict."""
    out = pathlib.Path(folder) / f"{mode}.json"
    progress = pathlib.Path(folder) / f"{mode}.progress"
    for stale in (out, progress):
        stale.unlink(missing_ok=True)
    log = open(pathlib.Path(folder) / f"{mode}.log", "w+b")
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--child", mode, "--plan", str(plan_path),
         "--out", str(out), "--progress", str(progress)],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(ROOT),
        start_new_session=True,
    )  # fmt: skip
    try:
        code = process.wait(limit)
        deadlock = False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        code = process.wait()
        deadlock = True
    try:  # workers left behind by a child that died
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    seconds = time.monotonic() - started
    log.seek(0)
    tail = log.read().decode("utf-8", "replace")[-1500:]
    log.close()
    if out.exists():
        result = json.loads(out.read_text())
    else:
        done = int(progress.read_text() or 0) if progress.exists() else 0
        result = {"completed": done, "mismatches": 0, "read_seconds": None}
    result.update(mode=mode, deadlock=deadlock, exit_code=code, seconds=seconds)
    if code != 0 or deadlock:
        result["log_tail"] = tail
    return result


def format_table(results, reads):
    lines = [
        "| mode | reads completed | mismatches | deadlock | read time (s) | "
        "process time (s) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        read_s = "-" if r["read_seconds"] is None else f"{r['read_seconds']:.1f}"
        lines.append(
            f"| {r['mode']} | {r['completed']} / {reads} | {r['mismatches']} | "
            f"{'yes' if r['deadlock'] else 'no'} | {read_s} | {r['seconds']:.1f} |"
        )
    return "\n".join(lines)


def failed(result, reads):
    return (
        result["deadlock"]
        or result["exit_code"] != 0
        or result["mismatches"] != 0
        or result["completed"] != reads
    )


def run(reads, seed=0, video=None, modes=MODES, limit=None, folder=None):
    """Writes the plan and runs the modes; returns the list of results."""
    folder = pathlib.Path(folder or tempfile.mkdtemp(prefix="parallel-reads-"))
    folder.mkdir(parents=True, exist_ok=True)
    if "keras_video" not in sys.modules:
        _import_reader_only()
    if video is None:
        video = write_test_video(folder / "test.mp4")
    plan_path = folder / "plan.json"
    plan_path.write_text(json.dumps(make_plan(video, reads, seed)))
    if limit is None:
        limit = 120 + 0.2 * reads
    return [run_mode(mode, plan_path, folder, limit) for mode in modes]


# -------------------------------------------------------------------- child

_READER = None  # the parent's reader, inherited by forked workers
_PLAN = None


def _fork_worker_read(read_id):
    indices = _PLAN["sets"][_PLAN["reads"][read_id]]
    clip = _READER.get_frames(indices)
    if "torch" in sys.modules:
        clip = sys.modules["torch"].from_numpy(clip).numpy()
    return read_id, clip_hash(clip)


def child(mode, plan_path, out_path, progress_path):
    global _READER, _PLAN
    import multiprocessing

    if mode == "fork_torch_before":
        import torch  # noqa: F401
    import keras_video  # noqa: F401
    from keras_video.data import VideoReader

    plan = json.loads(pathlib.Path(plan_path).read_text())
    _PLAN = plan
    reader = VideoReader(plan["video"])
    reader.get_frames(plan["sets"][0])  # decoder handles exist before threads/fork
    _READER = reader
    if mode == "fork_torch_after":
        import torch  # noqa: F401, F811
    reads = len(plan["reads"])
    completed = mismatches = 0
    started = time.perf_counter()

    def record(read_id, digest):
        nonlocal completed, mismatches
        completed += 1
        mismatches += digest != plan["hashes"][plan["reads"][read_id]]
        if completed % 500 == 0:
            pathlib.Path(progress_path).write_text(str(completed))

    if mode.startswith("tf_data"):
        import numpy as np
        import tensorflow as tf

        def read(read_id):
            indices = plan["sets"][plan["reads"][int(read_id)]]
            if mode == "tf_data_shared":
                return reader.get_frames(indices)
            with VideoReader(plan["video"]) as own:
                return own.get_frames(indices)

        dataset = tf.data.Dataset.from_tensor_slices(np.arange(reads)).map(
            lambda i: (i, tf.numpy_function(read, [i], tf.uint8)),
            num_parallel_calls=8,
            deterministic=False,
        )
        for read_id, clip in dataset.as_numpy_iterator():
            record(int(read_id), clip_hash(clip))
    else:
        context = multiprocessing.get_context("fork")
        with context.Pool(4) as pool:
            for read_id, digest in pool.imap_unordered(
                _fork_worker_read, range(reads), chunksize=25
            ):
                record(read_id, digest)
    seconds = time.perf_counter() - started
    pathlib.Path(out_path).write_text(
        json.dumps(
            {"completed": completed, "mismatches": mismatches, "read_seconds": seconds}
        )
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reads", type=int, default=20000, help="per mode")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--video", help="a video file (default: one written here)")
    parser.add_argument("--modes", nargs="*", default=list(MODES), choices=MODES)
    parser.add_argument("--limit", type=float, help="watchdog seconds per mode")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--progress", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.plan, args.out, args.progress)
        return 0
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="parallel-reads-") as folder:
        results = run(args.reads, args.seed, args.video, args.modes, args.limit, folder)
    print(format_table(results, args.reads))
    bad = [r for r in results if failed(r, args.reads)]
    for r in bad:
        print(f"\n{r['mode']} failed (exit {r['exit_code']}):\n{r.get('log_tail', '')}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
