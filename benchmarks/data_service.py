"""tf.data service: clips/s of the local pipeline beside 1, 2 and 4 decode workers.

Two parts, one run:

1. Throughput (wall clock). One epoch of `--clips` random 16-frame clips (step
   2, short side 128 with scale jitter, random 112x112 crop, flip, batches of
   8) read by `video_dataset_from_csv` in this process (the peer), then the
   same dataset with `service=` through a dispatcher in this process and 1, 2
   and 4 worker processes started with `keras-video data-service worker`. The
   CSV lists the 8 input files `--clips / 8` times, so an epoch is `--clips`
   clips. Each figure is the second of two epochs (the first traces graphs and
   warms the workers). Also the trainer's own CPU-seconds per clip: what is
   left on the training host when the workers decode. Workers are processes on
   this machine: with 2 cores, more workers than cores cannot make decoding
   faster; on a fleet, each worker host adds its cores.

2. Per-core decode rates (process CPU time, tf.data private pool of 1 thread)
   of the local pipeline for three clip shapes, and the decode cores one GPU
   needs for each model's clip: GPU clips/s over clips per core-second.

Run:

    python benchmarks/data_service.py --clips 240

Files: 8 videos of 320x240 h264 (10 s, 30 fps, keyframe every 30 frames)
written with the synthetic motion renderer (as `pipeline_overhead.py`).
"""

import argparse
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tensorflow as tf  # noqa: E402
from pipeline_overhead import write_inputs  # noqa: E402

from keras_video.data import datasets, service  # noqa: E402

BATCH = 8
# (name, clip_length, frame_step, short_side, crop, models it feeds)
SHAPES = (
    ("16x112 step 2", 16, 2, 128, 112, "R3D-18, MC3-18, R(2+1)D-18 (Kinetics)"),
    ("32x224 step 2", 32, 2, 256, 224, "SlowFast R50 8x8 (fast pathway)"),
    ("8x224 step 8", 8, 8, 256, 224, "Slow R50 8x8, I3D R50 8x8"),
)
# GPU clips/s of a training step on one H100: R3D-18 (16x112x112) is the
# measured figure of issue 17; the others are scaled from it by inference
# GFLOPs per clip (torchvision's and PyTorchVideo's model zoo tables), an
# estimate that assumes the same GPU efficiency.
R3D18_GPU_CLIPS_PER_S, R3D18_GFLOPS = 1000.0, 40.70
GPU_MODELS = (
    ("R3D-18", "16x112 step 2", 40.70),
    ("R(2+1)D-18", "16x112 step 2", 40.52),
    ("MC3-18", "16x112 step 2", 43.34),
    ("SlowFast R50 8x8", "32x224 step 2", 65.71),
    ("Slow R50 8x8", "8x224 step 8", 54.52),
    ("I3D R50 8x8", "8x224 step 8", 37.53),
)


def write_csv(directory, num_rows):
    paths = sorted(str(p) for p in pathlib.Path(directory).rglob("*.mp4"))
    csv = os.path.join(directory, "clips.csv")
    with open(csv, "w") as f:
        for i in range(num_rows):
            path = paths[i % len(paths)]
            f.write(f"{path},{pathlib.Path(path).parent.name}\n")
    return csv


def dataset(csv, svc=None, clip_length=16, frame_step=2, short_side=128, crop=112):
    return datasets.video_dataset_from_csv(
        csv, clip_length=clip_length, frame_step=frame_step,
        image_size=(crop, crop), short_side=short_side, augment=True,
        batch_size=BATCH, seed=0, verbose=False, service=svc,
    )  # fmt: skip


def cpu_seconds(pids):
    """User + system CPU seconds of processes (Linux `/proc/<pid>/stat`)."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def epoch_rate(ds, worker_pids=()):
    """Of the 2nd epoch: clips per wall second, trainer CPU-seconds per clip,
    and trainer + workers CPU-seconds per clip."""
    for _ in ds:  # warm up: tracing, workers' first files
        pass
    wall, cpu, clips = time.perf_counter(), time.process_time(), 0
    workers = cpu_seconds(worker_pids)
    for x, _ in ds:
        clips += int(x.shape[0])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    workers = cpu_seconds(worker_pids) - workers
    return clips / wall, cpu / clips, (cpu + workers) / clips


def free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def start_workers(address, count, log=None):
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "keras_video.cli",
                "data-service",
                "worker",
                "--dispatcher",
                address,
                "--port",
                str(free_port()),
            ],
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if log is None else open(f"{log}.{i}", "w"),
        )  # fmt: skip
        for i in range(count)
    ]
    for proc in procs:
        assert "running" in proc.stdout.readline()
    return procs


def per_core_rate(csv, clip_length, frame_step, short_side, crop, clips):
    """Clips per CPU-second of the local pipeline on one tf.data thread."""
    options = tf.data.Options()
    options.threading.private_threadpool_size = 1
    options.threading.max_intra_op_parallelism = 1
    ds = dataset(csv, None, clip_length, frame_step, short_side, crop)
    it = iter(ds.repeat().with_options(options))
    next(it)
    start = time.process_time()
    for _ in range(clips // BATCH):
        next(it)
    return clips // BATCH * BATCH / (time.process_time() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=240, help="clips per epoch")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--core-clips", type=int, default=96)
    parser.add_argument("--stall-timeout", type=float, default=120.0)
    parser.add_argument("--worker-log", help="write worker stderr to LOG.<i>")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        write_inputs(tmp)
        csv = write_csv(tmp, args.clips)
        print(
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
            f"epoch of {args.clips} random clips, 16 frames step 2, crop 112, "
            f"batch {BATCH}"
        )
        rows = [("local pipeline (this process)", *epoch_rate(dataset(csv)))]
        for compression in (None, "AUTO"):
            counts = args.workers if compression is None else [2]
            for count in counts:
                # A new dispatcher each time: a dispatcher keeps stopped workers
                # in its list and gives them tasks of later jobs.
                dispatcher = service.start_dispatcher(port=0)
                address = dispatcher.target.split("://")[1]
                log = args.worker_log and f"{args.worker_log}.{count}.{compression}"
                procs = start_workers(address, count, log)
                try:
                    svc = service.DataService(
                        address, args.stall_timeout, compression=compression
                    )
                    rate = epoch_rate(dataset(csv, svc), [p.pid for p in procs])
                finally:
                    for proc in procs:
                        proc.terminate()
                    for proc in procs:
                        proc.wait()
                    dispatcher.stop()
                name = f"service, {count} worker process(es), compression {compression}"
                rows.append((name, *rate))
        local = rows[0][1]
        print(f"{'':58s} clips/s  x local  CPU ms/clip: trainer  all")
        for name, rate, cpu, total in rows:
            print(
                f"{name:58s} {rate:7.1f}  {rate / local:6.2f}  "
                f"{1e3 * cpu:18.1f} {1e3 * total:5.1f}"
            )

        print("\nper-core decode rate (local pipeline, 1 tf.data thread, CPU time):")
        rates = {}
        for name, length, step, side, crop, models in SHAPES:
            rates[name] = per_core_rate(csv, length, step, side, crop, args.core_clips)
            print(f"  {name:14s} {rates[name]:6.1f} clips/core-s   ({models})")
        print("\ndecode cores per GPU (H100; R3D-18 measured, others scaled by FLOPs):")
        for model, shape, gflops in GPU_MODELS:
            gpu = R3D18_GPU_CLIPS_PER_S * R3D18_GFLOPS / gflops
            issue = ""
            if shape == SHAPES[0][0]:  # the issue's 20-130 clips/core-s range
                issue = f"  (issue's range: {gpu / 130:.0f}-{gpu / 20:.0f})"
            print(
                f"  {model:18s} {shape:14s} GPU {gpu:6.0f} clips/s  "
                f"cores {gpu / rates[shape]:5.0f}{issue}"
            )


if __name__ == "__main__":
    main()
