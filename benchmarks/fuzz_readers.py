"""Fuzzing the data path's readers with byte-mutated inputs.

Every call on a damaged file must either return true frames (or a true listing) or
raise a Python exception of the documented kind; the interpreter must not crash
and no call may hang.

Seeds (written here, deterministic): three small videos made with `write_video`
(24 frames of 64x48, a keyframe every 8 frames) -- h264 with B-frames in mp4, VP9
in webm, MPEG-4 with B-frames in AVI -- and two CSV video lists for
`keras_video.data.listing.read_video_csv` (integer labels with segments; class
names with a header). Each variant applies 1-3 seeded mutations to a seed's bytes:
flip bytes, overwrite a run with random bytes, truncate, duplicate a chunk, delete
a chunk, zero a region. Odd-numbered variants of the list files get text edits
instead (pieces such as `--`, `"`, NUL, `1e400`, `²` inserted or replaced, lines
duplicated or dropped), which keep the file valid UTF-8.

Each variant is read by a pool of long-lived worker processes (one job at a time
each, `--timeout` seconds of wall clock per job; a worker that dies or runs past
it is counted and replaced). A video variant is read with each backend: open
`VideoReader`, `num_frames`, `get_frames` of random indices, `get_clips` of a
contiguous and a random clip. Outcomes:

- `ok`: arrays returned, uint8 `(n, height, width, 3)` matching the reader's
  metadata, one frame per index asked, and equal to the same frames taken from one
  sequential `get_frames(range(...))` pass of the reader (random access gives the
  frames a plain decode gives);
- `python_error`: a `VideoDecodeError` (any subclass) naming the file, or an
  `IndexError` / `ValueError` naming the file;
- `foreign`: any other exception, or one of the above that does not name the
  file -- a defect;
- `wrong_frames`: arrays of the wrong type or shape, or frames that differ from
  the sequential pass -- a defect;
- `crash`: the worker died (signal or exit); `hang`: killed at the timeout.

List readers take any `module:function` that reads a path: it must return or raise
a `ValueError` whose message names the file (`UnicodeDecodeError` is a
`ValueError`, so it passes only when it names the file).

Run (the figures in benchmarks/README.md):

    nice -n 10 taskset -c 1 python benchmarks/fuzz_readers.py --variants 2000 --seed 0

The exit status is 1 if any variant crashed, hung, raised a foreign exception or
gave wrong frames. `--save DIR` keeps those variants' files for reproduction;
`--only NAME:INDEX` reruns one variant.

The workers import the reader and listing modules without the package
`__init__` files (those import Keras and TensorFlow, seconds per worker start),
exactly as `reader_memory.py` does.
"""

import argparse
import collections
import importlib
import json
import os
import pathlib
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
SCRIPT = pathlib.Path(__file__).resolve()

OUTCOMES = ("ok", "python_error", "foreign", "wrong_frames", "crash", "hang")
FAILURES = ("foreign", "wrong_frames", "crash", "hang")
VIDEO_BACKENDS = ("pyav", "opencv")
CSV_READER = "keras_video.data.listing:read_video_csv"

# name -> (file name, write_video keywords)
SEED_VIDEOS = {
    "h264.mp4": dict(codec="libx264", keyframe_interval=8, bframes=2),
    "vp9.webm": dict(codec="libvpx-vp9", keyframe_interval=8),
    "mpeg4.avi": dict(codec="mpeg4", keyframe_interval=8, bframes=2),
}
SEED_LISTS = {
    "int_labels.csv": (
        "videos/a.mp4,0,0.0,2.5\n"
        "videos/b.mp4,1,1.0,\n"
        "videos/c.mp4,2,,3.0\n"
        "/data/d.mp4,1,0.5,1.5\n"
        "e.avi,0\n"
        "# a comment\n"
        "f.webm,3,2.0,4.0\n"
        "sub/g.mkv,2\n"
        "h.mp4,10,0,1\n"
    ),
    "class_names.csv": (
        "path,label\n"
        "jump/v_001.mp4,jumping\n"
        "run/v_002.mp4,running\n"
        "run/v_003.mp4,running\n"
        "swim/v 004.mp4,swimming\n"
        '"quoted, name.mp4",jumping\n'
        "walk/v_005.avi,walking\n"
    ),
}


# ----------------------------------------------------------------- inputs


def seed_frames(num_frames=24, height=48, width=64):
    """Moving stripes and gradients over a fixed texture, uint8 RGB."""
    texture = np.random.default_rng(0).integers(0, 40, (height, width, 3))
    y, x = np.mgrid[0:height, 0:width]
    frames = []
    for i in range(num_frames):
        image = np.stack(
            [(x * 4 + i * 6) % 256, (y * 5 + i * 3) % 256, ((x + y) * 2) % 256], -1
        )
        image = image + texture
        image[(y // 8 + i // 3) % 4 == 0] //= 2
        frames.append(np.clip(image, 0, 255).astype(np.uint8))
    return np.stack(frames)


def write_seeds(folder):
    """Writes the seed files; returns `{name: (path, target kind)}`."""
    from keras_video.data.video import write_video

    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frames = seed_frames()
    seeds = {}
    for name, options in SEED_VIDEOS.items():
        path = folder / f"seed_{name}"
        write_video(path, frames, fps=12, **options)
        seeds[name] = path
    for name, text in SEED_LISTS.items():
        path = folder / f"seed_{name}"
        path.write_bytes(text.encode("utf-8"))
        seeds[name] = path
    return seeds


def mutate(data, rng):
    """1-3 seeded mutations of `data` (bytes); returns `(bytes, description)`."""
    data = bytearray(data)
    done = []
    for _ in range(int(rng.integers(1, 4))):
        n = len(data)
        if n == 0:
            break
        kind = str(
            rng.choice(["flip", "overwrite", "truncate", "duplicate", "delete", "zero"])
        )
        at = int(rng.integers(0, n))
        if kind == "flip":
            count = int(rng.integers(1, 17))
            for where in rng.integers(0, n, count):
                data[int(where)] ^= int(rng.integers(1, 256))
            done.append(f"flip {count} bytes")
            continue
        if kind == "truncate":
            del data[at:]
            done.append(f"truncate at {at}")
            continue
        length = int(rng.integers(1, {"overwrite": 65, "zero": 257}.get(kind, 513)))
        end = min(n, at + length)
        if kind == "overwrite":
            data[at:end] = rng.integers(0, 256, end - at, dtype=np.uint8).tobytes()
        elif kind == "zero":
            data[at:end] = bytes(end - at)
        elif kind == "duplicate":
            to = int(rng.integers(0, n + 1))
            data[to:to] = data[at:end]
            kind = f"duplicate to {to}:"
        else:
            del data[at:end]
        done.append(f"{kind} [{at}:{end}]")
    return bytes(data), "; ".join(done)


# Pieces that mean something to a CSV list reader, for text-level mutations.
TEXT_PIECES = (
    "-", "--", ",", '"', "\n", "\r\n", "#", " ", "\t", "\x00", "0", "1", "-1",
    "9" * 12, ".", "1e400", "nan", "inf", "e", "\u00e9", "\u00b2", "\u0663", "path",
)  # fmt: skip


def mutate_text(data, rng):
    """1-3 seeded edits of UTF-8 text that stays valid UTF-8: insert, replace or
    delete pieces from `TEXT_PIECES`, duplicate or drop a line."""
    text = data.decode("utf-8")
    done = []
    for _ in range(int(rng.integers(1, 4))):
        kind = str(rng.choice(["insert", "replace", "delete", "dup_line", "drop_line"]))
        at = int(rng.integers(0, len(text) + 1))
        piece = TEXT_PIECES[int(rng.integers(0, len(TEXT_PIECES)))]
        if kind == "insert":
            text = text[:at] + piece + text[at:]
        elif kind == "replace":
            text = text[:at] + piece + text[at + len(piece) :]
        elif kind == "delete":
            text = text[:at] + text[at + int(rng.integers(1, 9)) :]
        else:
            lines = text.splitlines(keepends=True) or [""]
            row = int(rng.integers(0, len(lines)))
            if kind == "dup_line":
                lines.insert(row, lines[row])
            else:
                del lines[row]
            text = "".join(lines)
        done.append(f"{kind} {piece!r} at {at}" if "line" not in kind else kind)
    return text.encode("utf-8"), "; ".join(done)


def variant_rng(seed, seed_name, index):
    """The generator of one variant: independent of the order variants run in."""
    key = sum(ord(c) * 31**k for k, c in enumerate(seed_name)) % (2**32)
    return np.random.default_rng([seed, key, index])


# ------------------------------------------------------------------ worker


def _import_without_package_init():
    """Makes `keras_video` and `keras_video.data` plain namespaces (no TF import)."""
    import types

    if "keras_video" in sys.modules:
        return
    for name, folder in (("keras_video", ""), ("keras_video.data", "data")):
        package = types.ModuleType(name)
        package.__path__ = [str(ROOT / "keras_video" / folder)]
        sys.modules[name] = package


def _describe(error):
    frame = traceback.extract_tb(error.__traceback__)[-1:]
    where = f" at {frame[0].filename}:{frame[0].lineno}" if frame else ""
    return f"{type(error).__name__}: {str(error)[:300]}{where}"


def _video_clips(n, rng):
    """Index lists asked of a reader with `n` frames."""
    picks = rng.integers(0, n, min(4, n))
    start = int(rng.integers(0, max(1, n - 7)))
    contiguous = np.arange(start, min(n, start + 8))
    scattered = rng.integers(0, n, min(6, n))
    return picks, [contiguous, scattered]


def check_video(path, backend, seed):
    """Reads one video variant; returns `(outcome, detail)`."""
    from keras_video.data.errors import VideoDecodeError
    from keras_video.data.video import VideoReader

    rng = np.random.default_rng(seed)
    try:
        with VideoReader(path, backend=backend) as reader:
            n = reader.num_frames
            shape = (reader.height, reader.width, 3)
            if n == 0:
                return "ok", "0 frames"
            picks, clips = _video_clips(n, rng)
            got = [reader.get_frames(picks), *reader.get_clips(clips)]
            asked = [picks, *clips]
            for indices, frames in zip(asked, got, strict=True):
                if not (
                    isinstance(frames, np.ndarray)
                    and frames.dtype == np.uint8
                    and frames.shape == (len(indices), *shape)
                ):
                    return "wrong_frames", (
                        f"asked {len(indices)} frames of {shape}, got "
                        f"{type(frames).__name__} "
                        f"{getattr(frames, 'dtype', '')} {getattr(frames, 'shape', '')}"
                    )
        # The oracle: one forward pass from frame 0 by a fresh reader.
        last = int(max(int(np.max(a)) for a in asked))
        try:
            with VideoReader(path, backend=backend) as fresh:
                sequential = fresh.get_frames(np.arange(last + 1))
        except VideoDecodeError:
            return "ok", f"{n} frames; sequential pass raised, not compared"
        for indices, frames in zip(asked, got, strict=True):
            differs = [
                int(i)
                for i, frame in zip(indices, frames, strict=True)
                if not np.array_equal(frame, sequential[int(i)])
            ]
            if differs:
                return "wrong_frames", (
                    f"{n} frames; frames {differs} of {indices.tolist()} differ "
                    f"from a sequential pass over 0..{last}"
                )
        return "ok", f"{n} frames"
    except VideoDecodeError as e:
        if e.path == str(path) or str(path) in str(e):
            return "python_error", type(e).__name__
        return "foreign", f"{type(e).__name__} without the path: {_describe(e)}"
    except (IndexError, ValueError) as e:
        if str(path) in str(e):
            return "python_error", type(e).__name__
        return "foreign", f"{type(e).__name__} without the path: {_describe(e)}"
    except Exception as e:
        return "foreign", _describe(e)


def resolve(spec):
    """`"module:function"` -> the function (`__main__` is this script)."""
    module_name, function_name = spec.split(":")
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    return getattr(module, function_name)


def check_list_reader(path, spec):
    """Calls a reader `function(path)`; returns `(outcome, detail)`."""
    function = resolve(spec)
    try:
        function(str(path))
    except ValueError as e:
        if str(path) in str(e):
            return "python_error", type(e).__name__
        return "foreign", f"{type(e).__name__} without the path: {_describe(e)}"
    except Exception as e:
        return "foreign", _describe(e)
    return "ok", ""


def run_job(job):
    """One job in a worker: `{"target": "video:pyav" | "reader:mod:fn", ...}`."""
    kind, _, rest = job["target"].partition(":")
    if kind == "video":
        return check_video(job["path"], rest, job["seed"])
    return check_list_reader(job["path"], rest)


def worker_main():
    """Serves jobs, one JSON line in, one JSON line out, until stdin closes."""
    # Native libraries may print to fd 1: keep the protocol on a private copy.
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.path.insert(0, str(ROOT))
    _import_without_package_init()
    import av  # noqa: F401  (decoder libraries loaded before the first job)
    import cv2  # noqa: F401

    from keras_video.data import listing  # noqa: F401
    from keras_video.data.video import VideoReader  # noqa: F401

    protocol.write('{"ready": true}\n')
    for line in sys.stdin:
        job = json.loads(line)
        outcome, detail = run_job(job)
        protocol.write(json.dumps({"outcome": outcome, "detail": detail}) + "\n")


# Targets for testing the harness itself (`reader:__main__:_selftest_*`).
def _selftest_abort(path):
    os.abort()


def _selftest_sleep(path):
    time.sleep(3600)


def _selftest_key_error(path):
    return {}[path]


# ------------------------------------------------------------------- pool


class _Worker:
    def __init__(self, log_dir, number):
        self.log_path = pathlib.Path(log_dir) / f"worker-{number}.log"
        self.log = open(self.log_path, "w+b")
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
            cwd=str(ROOT),
        )
        self.job = None
        self.deadline = None
        self._wait_ready(120)

    def _wait_ready(self, seconds):
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        ready = selector.select(seconds)
        selector.close()
        line = self.process.stdout.readline() if ready else b""
        if b"ready" not in line:
            self.kill()
            raise RuntimeError(f"fuzz worker did not start: {self.stderr_tail(2000)}")

    def send(self, job, timeout):
        self.job = job
        self.deadline = time.monotonic() + timeout
        self.process.stdin.write((json.dumps(job) + "\n").encode())
        self.process.stdin.flush()

    def stderr_tail(self, size=400):
        self.log.flush()
        data = self.log_path.read_bytes()[-size:]
        return data.decode("utf-8", "replace").strip()

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.log.close()


def run_jobs(jobs, workers=1, timeout=5.0, log_dir=None):
    """Runs jobs on a pool of worker processes; yields `(job, outcome, detail)`.

    A worker that dies is a `crash` (detail: exit code or signal and the tail of
    its stderr); one still busy after `timeout` seconds is killed: a `hang`.
    Either way it is replaced and the remaining jobs go on.
    """
    owned = log_dir is None
    log_dir = pathlib.Path(tempfile.mkdtemp(prefix="fuzz-logs-")) if owned else log_dir
    jobs = iter(jobs)
    started = 0
    selector = selectors.DefaultSelector()

    def start():
        nonlocal started
        started += 1
        worker = _Worker(log_dir, started)
        selector.register(worker.process.stdout, selectors.EVENT_READ, worker)
        return worker

    def retire(worker):
        selector.unregister(worker.process.stdout)
        worker.kill()

    pool = [start() for _ in range(max(1, workers))]
    more = True
    try:
        while True:
            for worker in pool:
                if worker.job is None and more:
                    job = next(jobs, None)
                    if job is None:
                        more = False
                    else:
                        worker.send(job, timeout)
            busy = [w for w in pool if w.job is not None]
            if not busy:
                return
            wait = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            for key, _ in selector.select(wait):
                worker = key.data
                line = worker.process.stdout.readline()
                job, worker.job = worker.job, None
                if line:
                    result = json.loads(line)
                    yield job, result["outcome"], result["detail"]
                    continue
                code = worker.process.wait()
                how = f"signal {-code}" if code < 0 else f"exit {code}"
                yield job, "crash", f"{how}; stderr: {worker.stderr_tail()!r}"
                retire(worker)
                pool[pool.index(worker)] = start()
            now = time.monotonic()
            for i, worker in enumerate(pool):
                if worker.job is not None and now > worker.deadline:
                    job, worker.job = worker.job, None
                    retire(worker)
                    yield job, "hang", f"killed after {timeout} s"
                    pool[i] = start()
    finally:
        for worker in pool:
            retire(worker)
        selector.close()
        if owned:
            shutil.rmtree(log_dir, ignore_errors=True)


# ------------------------------------------------------------------- fuzzing


def targets_for(name, list_readers=(CSV_READER,)):
    if name in SEED_VIDEOS:
        return [f"video:{backend}" for backend in VIDEO_BACKENDS]
    return [f"reader:{spec}" for spec in list_readers]


def fuzz(
    variants,
    seed=0,
    workers=1,
    timeout=5.0,
    seeds=None,
    list_readers=(CSV_READER,),
    folder=None,
    save=None,
    only=None,
    progress=None,
):
    """Fuzzes every seed file; returns `(counts, defects)`.

    Args:
        variants: mutated variants per seed file.
        seed: base seed; variant `i` of seed file `name` is fully determined by
            `(seed, name, i)`.
        workers: worker processes.
        timeout: seconds of wall clock per job.
        seeds: seed file names to fuzz (default: all of `SEED_VIDEOS` and
            `SEED_LISTS`).
        list_readers: `"module:function"` readers run on the list files.
        folder: where to write seeds and variants (default: a temporary folder).
        save: folder to copy failing variants to.
        only: `(name, index)`: run that one variant.
        progress: called with the number of jobs done, now and then.

    Returns:
        `counts`: `{(seed name, target): Counter(outcome)}`;
        `defects`: list of dicts (seed, index, mutations, target, outcome, detail).
    """
    owned = folder is None
    folder = pathlib.Path(tempfile.mkdtemp(prefix="fuzz-")) if owned else folder
    try:
        paths = write_seeds(folder / "seeds")
        names = list(seeds or paths)
        mutations = {}

        def jobs():
            for index in range(variants):
                for name in names:
                    if only is not None and (name, index) != tuple(only):
                        continue
                    rng = variant_rng(seed, name, index)
                    # List files: even variants get byte mutations, odd ones
                    # text edits that keep valid UTF-8 (so errors past decoding
                    # are reached too).
                    text = name in SEED_LISTS and index % 2 == 1
                    data, description = (mutate_text if text else mutate)(
                        paths[name].read_bytes(), rng
                    )
                    path = (
                        folder
                        / f"{pathlib.Path(name).stem}-{index:05d}{paths[name].suffix}"
                    )
                    path.write_bytes(data)
                    mutations[str(path)] = (name, index, description)
                    for target in targets_for(name, list_readers):
                        job_seed = int(rng.integers(0, 2**31))
                        yield {"target": target, "path": str(path), "seed": job_seed}

        counts = collections.defaultdict(collections.Counter)
        defects = []
        done = 0
        for job, outcome, detail in run_jobs(jobs(), workers, timeout):
            name, index, description = mutations[job["path"]]
            counts[(name, job["target"])][outcome] += 1
            if outcome in FAILURES:
                defects.append(
                    dict(seed=name, index=index, mutations=description,
                         target=job["target"], outcome=outcome, detail=detail)
                )  # fmt: skip
                if save is not None:
                    pathlib.Path(save).mkdir(parents=True, exist_ok=True)
                    shutil.copy(job["path"], save)
            done += 1
            if progress is not None and done % 500 == 0:
                progress(done)
        return dict(counts), defects
    finally:
        if owned:
            shutil.rmtree(folder, ignore_errors=True)


def format_table(counts):
    header = ["seed file", "reader", *OUTCOMES]
    rows = [header, ["---"] * len(header)]
    for (name, target), counter in sorted(counts.items()):
        reader = target.split(":", 1)[1]
        rows.append([name, reader, *(str(counter[o]) for o in OUTCOMES)])
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=2000, help="per seed file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per job")
    parser.add_argument("--seeds", nargs="*", help="seed file names (default all)")
    parser.add_argument(
        "--list-reader", action="append", help="module:function reading a list file"
    )
    parser.add_argument("--save", help="folder for the failing variants")
    parser.add_argument("--only", help="NAME:INDEX, e.g. h264.mp4:17")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main()
    sys.path.insert(0, str(ROOT))
    _import_without_package_init()
    only = None
    if args.only:
        name, index = args.only.rsplit(":", 1)
        only = (name, int(index))
    started = time.monotonic()
    counts, defects = fuzz(
        args.variants,
        seed=args.seed,
        workers=args.workers,
        timeout=args.timeout,
        seeds=args.seeds or ([only[0]] if only else None),
        list_readers=tuple(args.list_reader or (CSV_READER,)),
        save=args.save,
        only=only,
        progress=lambda n: print(
            f"{n} jobs, {time.monotonic() - started:.0f} s", file=sys.stderr
        ),
    )
    print(format_table(counts))
    print(f"\n{time.monotonic() - started:.0f} s, seed {args.seed}")
    for defect in defects:
        print(json.dumps(defect))
    return 1 if defects else 0


if __name__ == "__main__":
    sys.exit(main())
