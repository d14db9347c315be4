"""Optical flow for every video of a data set, in worker processes, resumable.

For a video `SRC/<rel>/<name>.<ext>` the flow goes to `DST/<rel>/<name>/`:
`x_00001.jpg`, `y_00001.jpg`, ... (flow field `k`, numbered from 1, is the
flow from frame `k - 1` to frame `k`, 0-based; `num_frames - 1` fields)
quantised as `write_flow_frames` does, then `flow.json`, the manifest, written
last and atomically. A folder with a `flow.json` of the same settings is
finished and skipped; a folder without one (a killed run) is cleared and
redone; a `flow.json` of other settings is an error unless `overwrite=True`.

Videos are decoded in windows of `window` frames that overlap by one frame,
so a video is never held in memory whole. Each video is one task for a pool
of "spawn" worker processes (safe with the threads of OpenCV and FFmpeg; one
OpenCV thread each). A video that fails to decode is reported in
`DST/flow_report.json` and the others go on.
"""

import concurrent.futures
import json
import logging
import multiprocessing
import os
import re
import time

import cv2
import numpy as np

from keras_video.files import read_json_file
from keras_video.flow.compute import METHODS, compute
from keras_video.flow.storage import (
    FORMATS,
    flow_frame_paths,
    to_uint8,
    write_atomic,
)

logger = logging.getLogger("keras_video.flow")

MANIFEST = "flow.json"
REPORT = "flow_report.json"
# The settings that make two extractions the same; `flow.json` keeps them.
SETTINGS = ("method", "options", "bound", "format", "short_side")
# `write_flow_frames`' JPEG quality: the files are the ones it writes.
JPEG_QUALITY = 95
# Flow frames, and the temporary files `write_atomic` may leave when killed.
_FRAME_FILE = re.compile(r"^\.?[xy]_\d{5,}\.(jpg|png)(\.tmp-[0-9a-f]+)?$")


def _settings(method, options, bound, format, short_side):
    """The settings as `flow.json` stores them (JSON types), checked."""
    if method not in METHODS:
        raise ValueError(
            f"Unknown flow method. Expected one of {sorted(METHODS)}. "
            f"Received: method={method!r}"
        )
    accepted = METHODS[method][1]
    for name, value in options.items():
        if name not in accepted:
            raise ValueError(
                f"Unknown option for method={method!r}. Expected one of "
                f"{list(accepted)}. Received: {name}={value!r}"
            )
    number = isinstance(bound, (int, float, np.number)) and not isinstance(bound, bool)
    if not number or not np.isfinite(bound) or bound <= 0:
        raise ValueError(
            f"`bound` must be a positive number. Received: bound={bound!r}"
        )
    if format not in FORMATS:
        raise ValueError(
            f"`format` must be one of {FORMATS}. Received: format={format!r}"
        )
    if short_side is not None and (
        isinstance(short_side, bool)
        or not isinstance(short_side, (int, np.integer))
        or short_side < 1
    ):
        raise ValueError(
            "`short_side` must be None or a positive int. "
            f"Received: short_side={short_side!r}"
        )
    options = json.loads(
        json.dumps(
            options,
            sort_keys=True,
            default=lambda v: v.item() if hasattr(v, "item") else str(v),
        )
    )
    return {
        "method": method,
        "options": options,
        "bound": float(bound),
        "format": format,
        "short_side": None if short_side is None else int(short_side),
    }


def _read_manifest(folder):
    """The `flow.json` of `folder`, or `None` when there is none."""
    path = os.path.join(folder, MANIFEST)
    manifest = read_json_file(path, "flow manifest")
    if manifest is None:
        return None
    if not isinstance(manifest, dict):
        raise ValueError(f"{path} is not a flow manifest (not a JSON object)")
    return manifest


def _folder_state(folder, settings, overwrite):
    """`"finished"` (same settings), or `"todo"`; other settings raise.

    Raises:
        ValueError: `folder` holds flow of other settings and not `overwrite`.
    """
    manifest = _read_manifest(folder)
    if manifest is None or overwrite:
        return "todo"
    theirs = {k: manifest.get(k) for k in SETTINGS}
    if theirs == settings:
        return "finished"
    differ = ", ".join(
        f"{k}={theirs[k]!r} (asked {settings[k]!r})"
        for k in SETTINGS
        if theirs[k] != settings[k]
    )
    raise ValueError(
        f"{folder} holds flow written with other settings: {differ}. Use "
        "another output folder, or overwrite=True (--overwrite) to replace it."
    )


def _clear(folder):
    """Removes `flow.json` (first), then the flow frames and temporary files."""
    manifest = os.path.join(folder, MANIFEST)
    if os.path.exists(manifest):
        os.remove(manifest)
    if os.path.isdir(folder):
        for name in os.listdir(folder):
            if _FRAME_FILE.match(name):
                os.remove(os.path.join(folder, name))


def _write_fields(folder, flow, first, bound, format):
    """Writes flow fields `first`, `first + 1`, ... (0-based) as x/y images."""
    quantized = to_uint8(flow, bound)
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if format == "jpg" else []
    for offset, field in enumerate(quantized):
        paths = flow_frame_paths(folder, first + offset, format)
        for channel, path in enumerate(paths):
            ok, encoded = cv2.imencode(f".{format}", field[..., channel], params)
            if not ok:
                raise ValueError(f"OpenCV could not encode {path}")
            write_atomic(path, encoded.tobytes())


def extract_video_flow(
    video_path,
    folder,
    method="tvl1",
    *,
    bound=20,
    format="jpg",
    short_side=None,
    backend="auto",
    window=64,
    overwrite=False,
    video=None,
    **method_options,
):
    """Optical flow of one video into a folder of x/y images and `flow.json`.

    Frames are decoded `window` at a time (consecutive windows share one
    frame), resized if `short_side` is set, and `compute` gives the flow
    between consecutive frames; flow field `k` (numbered from 1) is the flow
    from frame `k - 1` to frame `k` and is stored as `x_{k:05d}.<format>`,
    `y_{k:05d}.<format>` quantised with `bound`, the files `write_flow_frames`
    writes. `flow.json` comes last, written atomically:

        {"video", "num_frames", "num_fields", "fps", "height", "width",
         "method", "options", "bound", "format", "short_side"}

    A folder whose `flow.json` has the same settings is left as it is; one
    without `flow.json` (a killed run) has its flow frames removed and is
    redone.

    Args:
        video_path: the video file.
        folder: output folder, created if needed.
        method: `"tvl1"`, `"dis"` or `"farneback"` (see `compute`).
        bound: quantisation bound in pixels (see `to_uint8`).
        format: `"jpg"` or `"png"` (exact).
        short_side: resize frames so their shorter side is this many pixels
            before computing flow (TSN: 256 for 340x256), or `None`.
        backend: `VideoReader` backend: `"auto"`, `"pyav"` or `"opencv"`.
        window: frames decoded at a time (at least 2).
        overwrite: replace flow written with other settings (and redo a
            finished folder).
        video: the name `flow.json` records (default: `video_path`).
        **method_options: options of `method`, named as OpenCV names them.

    Returns:
        the manifest (`dict`).

    Raises:
        ValueError: bad arguments, a video of fewer than 2 frames, or `folder`
            holds flow of other settings (and not `overwrite`).
        VideoDecodeError: the video does not decode (named); the folder is
            left without `flow.json` or frames.
        FileNotFoundError: `video_path` does not exist.

    Example:

    ```python
    from keras_video import flow

    manifest = flow.extract_video_flow(
        "video.mp4", "flow/video", method="dis", short_side=256
    )
    xy = flow.read_flow_frames("flow/video")  # (num_frames - 1, 256, w, 2)
    ```
    """
    settings = _settings(method, method_options, bound, format, short_side)
    if isinstance(window, bool) or not isinstance(window, int) or window < 2:
        raise ValueError(f"`window` must be an int >= 2. Received: window={window!r}")
    folder = os.fspath(folder)
    if _folder_state(folder, settings, overwrite) == "finished":
        return _read_manifest(folder)
    from keras_video.data.video import VideoReader

    _clear(folder)
    try:
        with VideoReader(video_path, backend=backend) as reader:
            n, fps = reader.num_frames, reader.fps
            h, w = reader.height, reader.width
            if n < 2:
                raise ValueError(
                    f"{video_path} has {n} frame(s); flow needs at least 2."
                )
            size = (w, h)
            if short_side is not None:
                scale = short_side / min(h, w)
                size = (max(1, round(w * scale)), max(1, round(h * scale)))
            os.makedirs(folder, exist_ok=True)
            for start in range(0, n - 1, window - 1):
                frames = reader.get_frames(range(start, min(n, start + window)))
                if size != (w, h):
                    frames = np.stack(
                        [cv2.resize(f, size, interpolation=cv2.INTER_AREA)
                         for f in frames]
                    )  # fmt: skip
                flow = compute(frames, method, **method_options)
                _write_fields(folder, flow, start, bound, format)
    except BaseException:
        _clear(folder)
        if os.path.isdir(folder) and not os.listdir(folder):
            os.rmdir(folder)
        raise
    manifest = {
        "video": os.fspath(video if video is not None else video_path),
        "num_frames": int(n),
        "num_fields": int(n - 1),
        "fps": float(fps),
        "height": int(size[1]),
        "width": int(size[0]),
        **settings,
    }
    data = json.dumps(manifest, indent=1).encode("utf-8")
    write_atomic(os.path.join(folder, MANIFEST), data)
    return manifest


def _list_videos(source):
    """`[(absolute path, relative path)]` of a folder (recursive) or a CSV list."""
    from keras_video.data.listing import index_directory, read_video_csv

    source = os.fspath(source)
    if os.path.isdir(source):
        base = source
        paths = index_directory(source, labels=None).paths
    elif os.path.isfile(source):
        base = os.path.dirname(os.path.abspath(source))
        paths = list(dict.fromkeys(read_video_csv(source)[0]))  # each once
    else:
        raise FileNotFoundError(f"No folder or CSV list at {source}")
    videos = []
    for path in paths:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(base))
        if rel == os.pardir or rel.startswith(os.pardir + os.sep):
            raise ValueError(
                f"{path} (listed in {source}) is not under the CSV's folder "
                f"{base}: its flow folder would be outside the output folder."
            )
        videos.append((os.path.abspath(path), rel))
    return videos


def _flow_folder(output, rel):
    return os.path.join(output, os.path.splitext(rel)[0])


def _init_worker():
    cv2.setNumThreads(1)


def _run_task(task):
    """One video in a worker: `(rel, manifest, None)` or `(rel, None, error)`."""
    path, rel, folder, kwargs = task
    try:
        return rel, extract_video_flow(path, folder, video=rel, **kwargs), None
    except Exception as e:  # reported per video; the others go on
        return rel, None, f"{type(e).__name__}: {e}"


def extract_dataset_flow(
    source,
    output,
    method="tvl1",
    *,
    workers=1,
    bound=20,
    format="jpg",
    short_side=None,
    backend="auto",
    window=64,
    overwrite=False,
    verbose=True,
    runner=None,
    pipeline_args=(),
    **method_options,
):
    """Optical flow for every video of a folder or CSV list, resumable.

    A video `source/<rel>/<name>.<ext>` (for a CSV list, `<rel>` is relative to
    the CSV's folder) gets the folder `output/<rel>/<name>/` written by
    `extract_video_flow`: `x_00001.jpg`, `y_00001.jpg`, ... and `flow.json`
    last. Run the same call again after an interruption: finished folders
    (a `flow.json` of the same settings) are skipped, half-written ones are
    cleared and redone. A video that fails (corrupt, empty, unreadable) is
    reported and the others go on, and so are two videos that would share a
    folder (`a.mp4` and `a.avi` both map to `a/`). `output/flow_report.json`
    lists the videos done, skipped and failed (with the error).

    Args:
        source: a folder (every video under it, any depth, extensions of
            `keras_video.data.listing.VIDEO_FORMATS`) or a CSV list
            (`read_video_csv`).
        output: the output folder.
        method: `"tvl1"` (default, as two-stream and I3D), `"dis"` or
            `"farneback"`.
        workers: processes computing flow, one video at a time each ("spawn"
            start method, one OpenCV thread each; a script must then call
            this under `if __name__ == "__main__":`); 1 works in this
            process. A worker that dies (a native crash) fails the videos
            not finished yet; run again to retry them.
        bound: quantisation bound in pixels.
        format: `"jpg"` or `"png"`.
        short_side: resize frames to this shorter side first, or `None`.
        backend: `VideoReader` backend.
        window: frames decoded at a time per video.
        overwrite: redo every video, replacing flow of other settings.
        verbose: show a progress bar (`keras.utils.Progbar`, one step per
            video).
        runner: `None` (this machine, `workers` processes) or an Apache
            Beam runner, `"DirectRunner"`, `"FlinkRunner"`, `"SparkRunner"`
            or `"DataflowRunner"`: each video is then one unit of a Beam
            pipeline (`keras_video.data.beam.run_each`), with the same files
            and report; `source` and `output` must be on a file system
            every worker sees under the same names.
        pipeline_args: with `runner`, more Beam pipeline options (a list
            of flags or one string, e.g. `"--direct_num_workers=4
            --direct_running_mode=multi_processing"`).
        **method_options: options of `method` (see `compute`).

    Returns:
        the report (`dict`, also in `output/flow_report.json`): `"source"`,
        `"output"`, the settings, `"num_videos"`, `"done"` and `"skipped"`
        (relative paths), `"failed"` (a list of `{"video", "path", "error"}`)
        and `"seconds"`.

    Raises:
        ValueError: bad arguments, or a folder holding flow of other
            settings (named; nothing is computed then) without `overwrite`.
        FileNotFoundError: `source` does not exist.

    Example:

    ```python
    from keras_video import flow

    report = flow.extract_dataset_flow(
        "ucf101/videos", "ucf101/flow", method="tvl1", workers=8, short_side=256
    )
    report["failed"]  # [{"video": ..., "path": ..., "error": ...}, ...]
    ```
    """
    start_time = time.perf_counter()
    settings = _settings(method, method_options, bound, format, short_side)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(
            f"`workers` must be an int >= 1. Received: workers={workers!r}"
        )
    if runner is not None:
        from keras_video.data.beam import check_runner

        check_runner(runner)
        if workers != 1:
            raise ValueError(
                "`workers` is for runner=None; a Beam runner sets its own "
                "(e.g. --direct_num_workers). "
                f"Received: workers={workers!r}, runner={runner!r}"
            )
    if isinstance(window, bool) or not isinstance(window, int) or window < 2:
        raise ValueError(f"`window` must be an int >= 2. Received: window={window!r}")
    # Option values OpenCV rejects fail here once, not once per video.
    compute(np.zeros((2, 16, 16, 3), np.uint8), method, **method_options)
    output = os.fspath(output)
    videos = _list_videos(source)
    sharing = {}  # folder -> the videos whose flow it would hold
    for _, rel in videos:
        sharing.setdefault(_flow_folder(output, rel), []).append(rel)
    todo, skipped, clashes = [], [], []
    for path, rel in videos:
        folder = _flow_folder(output, rel)
        if len(sharing[folder]) > 1:  # `a.mp4` and `a.avi`: neither is done
            clashes.append(
                (rel, f"ValueError: {folder} would hold the flow of "
                      f"{' and '.join(sharing[folder])}; rename one of them.")
            )  # fmt: skip
        elif _folder_state(folder, settings, overwrite) == "finished":
            skipped.append(rel)
        else:
            todo.append((path, rel, folder))
    kwargs = dict(method=method, bound=bound, format=format,
                  short_side=short_side, backend=backend, window=window,
                  overwrite=overwrite, **method_options)  # fmt: skip
    tasks = [(path, rel, folder, kwargs) for path, rel, folder in todo]
    paths = {rel: path for path, rel in videos}
    done, failed = [], []
    progbar = None
    if verbose and videos:
        import keras

        progbar = keras.utils.Progbar(len(videos), unit_name="video")
        progbar.update(len(skipped))

    def record(rel, error):
        if error is None:
            done.append(rel)
        else:
            failed.append({"video": rel, "path": paths[rel], "error": error})
            logger.warning("No flow for %s: %s", paths[rel], error)
        if progbar is not None:
            progbar.update(len(skipped) + len(done) + len(failed))

    os.makedirs(output, exist_ok=True)
    for rel, error in clashes:
        record(rel, error)
    if runner is not None:  # each video a unit of a Beam pipeline
        from keras_video.data.beam import run_each

        for rel, _, error in run_each(tasks, _run_task, output, runner, pipeline_args):
            record(rel, error)
    elif workers == 1 or len(tasks) <= 1:
        for task in tasks:
            rel, _, error = _run_task(task)
            record(rel, error)
    else:
        _run_pool(tasks, min(workers, len(tasks)), record)
    order = {rel: i for i, (_, rel) in enumerate(videos)}
    done.sort(key=order.get)
    failed.sort(key=lambda f: order[f["video"]])
    report = {
        "source": os.fspath(source),
        "output": output,
        **settings,
        "num_videos": len(videos),
        "done": done,
        "skipped": skipped,
        "failed": failed,
        "seconds": round(time.perf_counter() - start_time, 3),
    }
    data = json.dumps(report, indent=1).encode("utf-8")
    write_atomic(os.path.join(output, REPORT), data)
    return report


def _run_pool(tasks, workers, record):
    """Runs `tasks` in spawned processes, calling `record(rel, error)` as each ends."""
    context = multiprocessing.get_context("spawn")
    executor = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker
    )
    try:
        futures = {executor.submit(_run_task, task): task for task in tasks}
        for future in concurrent.futures.as_completed(futures):
            try:
                rel, _, error = future.result()
            except concurrent.futures.BrokenExecutor as e:
                # A worker died (a native crash): its video and the ones not
                # finished are failures; the next run retries them.
                rel = futures[future][1]
                error = f"{type(e).__name__}: a worker process died ({e})"
            record(rel, error)
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown(wait=True)
