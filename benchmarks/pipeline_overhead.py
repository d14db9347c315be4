"""End-to-end pipeline overhead: tf.data clips per CPU-second over raw decode.

Raw: the pipeline's own decode step (`VideoReader` opened per clip, random
16-frame clip at step 2, only its frames decoded) called in a Python loop.
Pipeline: `video_dataset_from_directory` on the same files and clip settings,
with decode in `tf.numpy_function`, resize of the shorter side to 128, random
crop to 112x112, horizontal flip, batches of 8, prefetch. Both run on one
thread (the tf.data private thread pool set to 1) and are timed in process CPU
time (all threads), so the ratio is the CPU cost of everything around decoding
and does not depend on what else runs on the machine; target: pipeline >= 0.8 x
raw (overhead under 20%).

Run (pin to one core):

    taskset -c 0 python benchmarks/pipeline_overhead.py --clips 240

Files: 8 videos of 320x240 h264 (10 s, 30 fps, keyframe every 30 frames) written
here with the synthetic motion renderer, or `--directory` of class folders.
"""

import argparse
import os
import pathlib
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import tensorflow as tf  # noqa: E402

from keras_video.data import datasets  # noqa: E402
from keras_video.data.synthetic import render_motion_clip  # noqa: E402
from keras_video.data.video import write_video  # noqa: E402

CLIP_LENGTH, FRAME_STEP, IMAGE_SIZE, SHORT_SIDE, BATCH = 16, 2, (112, 112), 128, 8


def write_inputs(directory, num_videos=8, num_frames=300, size=(240, 320)):
    for i in range(num_videos):
        motion = ("left", "clockwise")[i % 2]
        rng = np.random.default_rng(i)
        frames, _ = render_motion_clip(motion, rng, size, num_frames)
        noise = np.random.default_rng(100 + i).normal(0, 6, frames.shape[1:])
        frames = np.clip(frames + noise, 0, 255).astype(np.uint8)  # some texture
        write_video(
            os.path.join(directory, motion, f"{motion}_{i}.mp4"), frames, fps=30,
            crf=23, keyframe_interval=30,
        )  # fmt: skip


def raw_rate(paths, num_clips, backend):
    spec = datasets._ClipSpec(
        CLIP_LENGTH, FRAME_STEP, None, 1, "random", "loop", backend, "raise"
    )
    spec.decode(paths[0].encode(), np.array([0, 0], np.int64))  # warm up
    start = time.process_time()
    for k in range(num_clips):
        clips, ok = spec.decode(paths[k % len(paths)].encode(), np.array([k, 1]))
        assert ok and clips.shape[:2] == (1, CLIP_LENGTH)
    return num_clips / (time.process_time() - start)


def pipeline_rate(directory, num_clips, backend, threads):
    ds = datasets.video_dataset_from_directory(
        directory, clip_length=CLIP_LENGTH, frame_step=FRAME_STEP,
        image_size=IMAGE_SIZE, short_side=SHORT_SIDE, augment=True,
        batch_size=BATCH, seed=0, backend=backend, verbose=False,
    )  # fmt: skip
    options = tf.data.Options()
    if threads:
        options.threading.private_threadpool_size = threads
        options.threading.max_intra_op_parallelism = 1
    ds = ds.repeat().with_options(options)
    it = iter(ds)
    next(it)  # warm up: graph tracing, first files
    batches = num_clips // BATCH
    start = time.process_time()
    for _ in range(batches):
        clips, _ = next(it)
    assert clips.shape == (BATCH, CLIP_LENGTH, *IMAGE_SIZE, 3)
    return batches * BATCH / (time.process_time() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=160)
    parser.add_argument("--directory", default=None, help="class folders of videos")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.directory or tmp
        if args.directory is None:
            write_inputs(tmp)
        paths = sorted(
            str(p)
            for p in pathlib.Path(directory).rglob("*")
            if p.suffix.lower() in datasets.VIDEO_FORMATS
        )
        raws, pipes = [], []
        for _ in range(args.repeats):  # interleaved, best of each
            raws.append(raw_rate(paths, args.clips, args.backend))
            pipes.append(pipeline_rate(directory, args.clips, args.backend, 1))
        raw, pipe = max(raws), max(pipes)
        print(
            f"files: {len(paths)}  clips: {CLIP_LENGTH} frames, step {FRAME_STEP}, "
            f"resize short side {SHORT_SIDE}, crop {IMAGE_SIZE}, flip, batch {BATCH}"
        )
        ratio = pipe / raw
        print(
            f"raw decode (1 thread):       {raw:7.1f} clips/CPU-s  "
            f"runs {np.round(raws, 1)}"
        )
        print(
            f"tf.data pipeline (1 thread): {pipe:7.1f} clips/CPU-s  "
            f"runs {np.round(pipes, 1)}"
        )
        print(
            f"pipeline / raw = {ratio:.3f}  (overhead {100 * (1 - ratio):.1f}%; "
            "target >= 0.80)"
        )


if __name__ == "__main__":
    main()
