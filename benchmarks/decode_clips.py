"""Random-clip decoding speed on one core: keras-video vs decord vs plain PyAV/OpenCV.

Every decoder reads the same random clips (16 frames, step 2) of the same files in
one run, single-threaded, with its file opened once. Prints clips/s, the ratio to
decord, and the decode-bound limit: the sequential decode rate of the file divided
by the mean number of frames from the keyframe at or before a clip (or from the end
of the previous clip, when no keyframe lies in between) to its end: what a decoder
that decodes every one of those frames at full speed would reach.

Run (pin to one core):

    taskset -c 0 python benchmarks/decode_clips.py --clips 32
    taskset -c 0 python benchmarks/decode_clips.py --clips 16 --open-per-call

Files: 320x240 h264 written here (10 s, 30 fps; keyframe every 30 or 250 frames,
with and without B-frames) and `../shared/data/videos/mmaction2_test.mp4`.
"""

import argparse
import os
import pathlib
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import av  # noqa: E402
import cv2  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from _videos import write_scene_video  # noqa: E402

from keras_video.data.video import VideoReader  # noqa: E402

CLIP_LENGTH, FRAME_STEP = 16, 2
SHARED_VIDEO = (
    pathlib.Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "videos"
    / "mmaction2_test.mp4"
)


def clip_indices(num_frames, num_clips, seed):
    span = (CLIP_LENGTH - 1) * FRAME_STEP + 1
    starts = np.random.default_rng(seed).integers(0, num_frames - span + 1, num_clips)
    return [list(range(s, s + span, FRAME_STEP)) for s in starts]


# ------------------------------------------------------------------- decoders
# Each opener takes a path and returns (decode(clips) -> last clip, close()).


def open_keras_video(backend):
    def opener(path):
        reader = VideoReader(path, backend=backend, num_threads=1)

        def decode(clips):
            out = reader.get_clips(clips)
            assert backend == "auto" or reader.backend == backend
            return out[-1]

        return decode, reader.close

    return opener


def open_decord(path):
    import decord

    reader = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=1)

    def decode(clips):
        return [reader.get_batch(clip).asnumpy() for clip in clips][-1]

    return decode, lambda: None


def open_pyav_seek(path):
    """What a PyAV user writes: seek to the clip's first timestamp, decode forward,
    convert the wanted frames (frame number from the timestamp)."""
    container = av.open(str(path))
    stream = container.streams.video[0]
    stream.codec_context.thread_count = 1
    time_base, fps = float(stream.time_base), float(stream.average_rate)
    start = stream.start_time or 0

    def decode_one(clip):
        wanted = set(clip)
        container.seek(
            start + int(round(clip[0] / fps / time_base)), stream=stream, backward=True
        )
        out = []
        for frame in container.decode(stream):
            i = int(round((frame.pts - start) * time_base * fps))
            if i in wanted:
                out.append(frame.to_ndarray(format="rgb24"))
            if i >= clip[-1]:
                break
        return np.stack(out)

    return (lambda clips: [decode_one(c) for c in clips][-1]), container.close


def open_opencv_seek(path):
    """Plain OpenCV: set the frame position, read forward, keep the wanted frames."""
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])

    def decode_one(clip):
        capture.set(cv2.CAP_PROP_POS_FRAMES, clip[0])
        out = []
        for i in range(clip[0], clip[-1] + 1):
            capture.grab()
            if i in clip:
                out.append(cv2.cvtColor(capture.retrieve()[1], cv2.COLOR_BGR2RGB))
        return np.stack(out)

    return (lambda clips: [decode_one(c) for c in clips][-1]), capture.release


# name -> (opener, clips per call)
DECODERS = {
    "decord": (open_decord, 1),
    "pyav seek": (open_pyav_seek, 1),
    "opencv seek": (open_opencv_seek, 1),
    "keras-video opencv": (open_keras_video("opencv"), 1),
    "keras-video pyav": (open_keras_video("pyav"), 1),
    "keras-video auto": (open_keras_video("auto"), 1),
    "keras-video pyav, 4 clips/pass": (open_keras_video("pyav"), 4),
}


# ------------------------------------------------------------------ reference


def decode_bound(path, clips):
    """Sequential frames per CPU-second (PyAV, 1 thread, best of 3) and the clips
    per CPU-second that allows when every frame is decoded from the keyframe at or
    before each clip (or from the previous clip's end, when no keyframe lies in
    between) to the clip's end."""
    fps = 0.0
    for _ in range(3):
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.codec_context.thread_count = 1
            start = time.process_time()
            count = sum(1 for _ in container.decode(stream))
            fps = max(fps, count / (time.process_time() - start))
    with VideoReader(path, backend="pyav") as reader:
        keyframes = reader._get_index().keyframes
    frames, previous_end = 0, -1
    for clip in clips:
        keyframe = keyframes[np.searchsorted(keyframes, clip[0], "right") - 1]
        if previous_end < clip[0] and keyframe <= previous_end + 1:
            frames += clip[-1] - previous_end
        else:
            frames += clip[-1] + 1 - keyframe
        previous_end = clip[-1]
    return fps, fps * len(clips) / frames, len(keyframes)


def _reopening(opener, path):
    def decode(clips):
        decode_once, close = opener(path)
        try:
            return decode_once(clips)
        finally:
            close()

    return decode


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=40, help="clips per file")
    parser.add_argument(
        "--open-per-call",
        action="store_true",
        help="open the file for every call, as a tf.data map over paths does "
        "(keras-video then pays its index scan every time)",
    )
    args = parser.parse_args()
    cv2.setNumThreads(1)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="kv_bench_"))
    files = {
        "gop30": write_scene_video(workdir / "gop30.mp4", 300, gop=30, bframes=0),
        "gop30 +B": write_scene_video(workdir / "gop30_b.mp4", 300, gop=30, bframes=3),
        "gop250": write_scene_video(workdir / "gop250.mp4", 300, gop=250, bframes=0),
        "gop250 +B": write_scene_video(
            workdir / "gop250_b.mp4", 300, gop=250, bframes=3
        ),
    }
    if SHARED_VIDEO.is_file():
        files["mmaction2_test.mp4"] = SHARED_VIDEO
    print(
        f"clips of {CLIP_LENGTH} frames, step {FRAME_STEP}; {args.clips} random "
        f"clips per file; 1 decoder thread; cv2 {cv2.__version__}, "
        f"PyAV {av.__version__}"
        + ("; file opened for every call" if args.open_per_call else "")
    )
    for name, path in files.items():
        with VideoReader(path) as reader:
            num_frames = reader.num_frames
            size = f"{reader.width}x{reader.height}"
        clips = clip_indices(num_frames, args.clips, seed=0)
        seq_fps, bound, num_keyframes = decode_bound(path, clips)
        print(
            f"\n{name}: {size}, {num_frames} frames, {num_keyframes} keyframes; "
            f"sequential decode {seq_fps:.0f} frames/CPU-s -> decode-bound "
            f"{bound:.1f} clips/CPU-s"
        )
        # Round robin over decoders, 4 clips at a time, so that the load of a
        # shared machine falls on all of them alike. CPU time of this process is
        # the measure (decoders run single-threaded): clips per CPU-second.
        if args.open_per_call:
            opened = {
                name: (_reopening(opener, path), lambda: None)
                for name, (opener, _) in DECODERS.items()
            }
        else:
            opened = {name: opener(path) for name, (opener, _) in DECODERS.items()}
        cpu = dict.fromkeys(DECODERS, 0.0)
        wall = dict.fromkeys(DECODERS, 0.0)
        last = {}
        for decode, _ in opened.values():
            decode(clips[:1])  # warm up (imports, file cache, index scan)
        for group in range(0, len(clips), 4):
            batch = clips[group : group + 4]
            for name, (decode, _) in opened.items():
                per_call = DECODERS[name][1]
                start_cpu, start_wall = time.process_time(), time.perf_counter()
                for i in range(0, len(batch), per_call):
                    last[name] = decode(batch[i : i + per_call])
                cpu[name] += time.process_time() - start_cpu
                wall[name] += time.perf_counter() - start_wall
        for _, close in opened.values():
            close()
        reference = last["decord"].astype(np.float32)
        for name in DECODERS:
            assert last[name].shape[0] == CLIP_LENGTH, (name, last[name].shape)
            diff = float(np.abs(last[name].astype(np.float32) - reference).mean())
            rate, rate_wall = len(clips) / cpu[name], len(clips) / wall[name]
            ratio = rate / (len(clips) / cpu["decord"])
            print(
                f"  {name:32s} {rate:7.1f} clips/CPU-s  x{ratio:.2f} decord  "
                f"({rate_wall:6.1f} clips/s wall; last clip vs decord: "
                f"mean abs diff {diff:.2f})"
            )


if __name__ == "__main__":
    main()
