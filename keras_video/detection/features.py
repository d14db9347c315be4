"""Snippet features of long videos: the input of temporal action localisation.

`extract_features` runs a clip model (any backbone of the zoo built with
`include_top=False, pooling="avg"`) over one video in overlapping snippets
and returns one feature vector per snippet and the snippet centre times;
`extract_dataset_features` (`keras-video features SRC DST`) does it for every
video of a folder, resumable, with one `.npy` file per video.

Snippets (`snippet_indices`): snippet `i` is the `snippet_length` frames
`i * stride + k * frame_step`, `k = 0 .. snippet_length - 1` (frame indices
of the video). Only whole snippets are taken: the last `(num_frames - span) %
stride` frames (`span = (snippet_length - 1) * frame_step + 1`) start no
snippet of their own and are seen only by earlier snippets; nothing is padded.
The centre time of a snippet is the timestamp (the reader's presentation
time, not `index / fps`) of its frame `snippet_length // 2`.

Frames are decoded forward in windows: each batch of `batch_size` snippets
asks the reader only for the frames the previous batch did not already hold,
so every frame is decoded once, no request exceeds `batch_size *
snippet_length` frames and the video is never in memory whole. Each frame is
resized once (short side to the crop, then a centre crop, OpenCV
`INTER_AREA` when shrinking, `INTER_LINEAR` when enlarging).
"""

import importlib
import io
import json
import logging
import os
import time

import numpy as np

from keras_video.files import read_json_file, write_atomic

logger = logging.getLogger("keras_video.detection")

MANIFEST = "manifest.json"
REPORT = "features_report.json"
# The settings that make two extractions the same; `manifest.json` keeps them.
SETTINGS = (
    "model",
    "weights",
    "snippet_length",
    "stride",
    "frame_step",
    "image_size",
    "value_range",
    "backend",
)


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")
    return int(value)


def snippet_indices(num_frames, snippet_length=16, stride=4, frame_step=1):
    """Frame indices of the whole snippets of a video.

    Args:
        num_frames: frames in the video.
        snippet_length: frames per snippet.
        stride: frames between the starts of consecutive snippets.
        frame_step: frames between consecutive frames of a snippet.

    Returns:
        int64 `(num_snippets, snippet_length)`; snippet `i` starts at frame
        `i * stride`. `num_snippets = (num_frames - span) // stride + 1` with
        `span = (snippet_length - 1) * frame_step + 1`, or 0 when the video
        is shorter than `span`.

    Example:
    >>> snippet_indices(10, snippet_length=4, stride=3).tolist()
    [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    """
    snippet_length = _positive_int("snippet_length", snippet_length)
    stride = _positive_int("stride", stride)
    frame_step = _positive_int("frame_step", frame_step)
    span = (snippet_length - 1) * frame_step + 1
    count = max(0, (int(num_frames) - span) // stride + 1)
    starts = np.arange(count, dtype=np.int64) * stride
    return starts[:, None] + np.arange(snippet_length, dtype=np.int64) * frame_step


def _image_size(value, name="image_size"):
    if value is None:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    try:
        h, w = (_positive_int(name, v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(
            f"`{name}` must be None, an int or (height, width). "
            f"Received: {name}={value!r}"
        ) from None
    return h, w


def _input_clip(backbone, snippet_length, image_size):
    """Checks the backbone against the snippets; returns `(height, width)`."""
    inputs = getattr(backbone, "inputs", None)
    if not inputs or len(inputs) != 1 or len(inputs[0].shape) != 5:
        raise ValueError(
            "`backbone` must be a Keras model with one clip input "
            "(batch, frames, height, width, 3). Received: inputs="
            f"{None if not inputs else [tuple(i.shape) for i in inputs]}"
        )
    _, frames, height, width, channels = inputs[0].shape
    if frames is not None and frames != snippet_length:
        raise ValueError(
            f"`backbone` takes clips of {frames} frames but snippets have "
            f"{snippet_length}. Received: snippet_length={snippet_length}"
        )
    if channels not in (None, 3):
        raise ValueError(
            f"`backbone` takes {channels} channels, not RGB (3): a two-stream "
            "or flow model needs its own features."
        )
    size = _image_size(image_size)
    if height is not None and width is not None:
        if size is not None and size != (height, width):
            raise ValueError(
                f"`backbone` takes {height}x{width} frames. "
                f"Received: image_size={image_size!r}"
            )
        return int(height), int(width)
    if size is None:
        raise ValueError(
            "`backbone` takes frames of any size; say which with `image_size`. "
            "Received: image_size=None"
        )
    return size


def resize_and_crop(frame, size):
    """One uint8 frame, its short side resized to cover `size`, centre-cropped.

    Args:
        frame: `(h, w, 3)` uint8.
        size: `(height, width)` of the output.

    Returns:
        `(height, width, 3)` uint8; `frame` itself when it has that size.
    """
    th, tw = size
    h, w = frame.shape[:2]
    if (h, w) == (th, tw):
        return frame
    import cv2

    scale = max(th / h, tw / w)
    rw, rh = max(tw, round(w * scale)), max(th, round(h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(frame, (rw, rh), interpolation=interpolation)
    top, left = (rh - th) // 2, (rw - tw) // 2
    return resized[top : top + th, left : left + tw]


def _snippet_batches(reader, snippets, batch_size, size):
    """Yields uint8 `(b, snippet_length, h, w, 3)` batches, frames decoded once."""
    cache = {}  # frame index -> resized frame, for the batches still to come
    for first in range(0, len(snippets), batch_size):
        batch = snippets[first : first + batch_size]
        needed = np.unique(batch)
        new = [int(i) for i in needed if int(i) not in cache]
        if new:
            for i, frame in zip(new, reader.get_clips([new])[0], strict=True):
                cache[i] = resize_and_crop(frame, size)
        yield np.stack([np.stack([cache[int(i)] for i in s]) for s in batch])
        if first + batch_size < len(snippets):  # keep what the next batch shares
            keep = needed[needed >= snippets[first + batch_size, 0]]
            cache = {int(i): cache[int(i)] for i in keep}


def extract_features(
    backbone,
    video_path,
    snippet_length=16,
    stride=4,
    frame_step=1,
    image_size=None,
    batch_size=8,
    preprocess=None,
    backend="auto",
):
    """Features of one long video, one vector per overlapping snippet.

    Snippet `i` is frames `i * stride + k * frame_step` (`k < snippet_length`);
    only whole snippets are taken (see `snippet_indices`; nothing is padded).
    Frames are decoded forward, `batch_size` snippets at a time, each frame
    once, resized (short side, then centre crop) to the backbone's input size,
    cast to float32 in `[0, 255]`, passed through `preprocess` and the
    backbone (`predict_on_batch`; the last batch is padded to `batch_size` so
    the model compiles once, and the padding's outputs are dropped).

    Args:
        backbone: a Keras model with one clip input `(batch, frames, height,
            width, 3)` and one `(batch, C)` output, e.g.
            `InceptionI3D(include_top=False, pooling="avg", ...)`.
        video_path: the video file.
        snippet_length: frames per snippet; must equal the backbone's frames
            when its input fixes them.
        stride: frames between snippet starts.
        frame_step: frames between the frames of a snippet.
        image_size: `(height, width)` (or an int) of the frames; needed only
            when the backbone takes any size, and must agree with it otherwise.
        batch_size: snippets per model call.
        preprocess: `None` (float32 `[0, 255]`) or a function of the float32
            batch, e.g. `keras_video.applications.preprocess_input`.
        backend: `VideoReader` backend.

    Returns:
        `(features, times)`: float32 `(num_snippets, C)` and float64
        `(num_snippets,)`, the timestamp in seconds of each snippet's frame
        `snippet_length // 2`.

    Raises:
        FileNotFoundError: `video_path` does not exist.
        ValueError: bad arguments, a backbone whose input does not take the
            snippets, or a video shorter than one snippet (named).
        CorruptVideoError: a frame does not decode (named).

    Example:

    ```python
    from keras_video import applications, detection

    backbone = applications.InceptionI3D(
        weights="kinetics400", include_top=False, pooling="avg",
        input_shape=(16, 224, 224, 3),
    )
    features, times = detection.extract_features(
        backbone, "video.mp4", snippet_length=16, stride=4,
        preprocess=applications.preprocess_input,
    )  # (num_snippets, 1024), (num_snippets,)
    ```
    """
    snippet_length = _positive_int("snippet_length", snippet_length)
    stride = _positive_int("stride", stride)
    frame_step = _positive_int("frame_step", frame_step)
    batch_size = _positive_int("batch_size", batch_size)
    if preprocess is not None and not callable(preprocess):
        raise ValueError(
            f"`preprocess` must be None or a function. Received: {preprocess!r}"
        )
    size = _input_clip(backbone, snippet_length, image_size)
    from keras_video.data.video import VideoReader

    with VideoReader(video_path, backend=backend) as reader:
        return _reader_features(
            backbone, reader, snippet_length, stride, frame_step, size,
            batch_size, preprocess,
        )  # fmt: skip


def _reader_features(
    backbone, reader, snippet_length, stride, frame_step, size, batch_size, preprocess
):
    """`extract_features` on an open `VideoReader`, arguments checked."""
    num_frames = reader.num_frames
    snippets = snippet_indices(num_frames, snippet_length, stride, frame_step)
    if not len(snippets):
        span = (snippet_length - 1) * frame_step + 1
        raise ValueError(
            f"{reader.path} has {num_frames} frames, fewer than one snippet "
            f"({span}: snippet_length={snippet_length}, "
            f"frame_step={frame_step})"
        )
    times = reader.get_timestamps(snippets[:, snippet_length // 2])
    outputs = []
    for clips in _snippet_batches(reader, snippets, batch_size, size):
        count = len(clips)
        if count < batch_size:  # one input shape: one compiled function
            fill = np.repeat(clips[-1:], batch_size - count, axis=0)
            clips = np.concatenate([clips, fill])
        x = clips.astype(np.float32)
        if preprocess is not None:
            x = preprocess(x)
        y = backbone.predict_on_batch(x)
        if isinstance(y, (list, tuple, dict)) or np.ndim(y) != 2:
            raise ValueError(
                "`backbone` must give one (batch, C) output (build it with "
                "include_top=False, pooling='avg'). Received: output of "
                f"shape {getattr(y, 'shape', type(y).__name__)}"
            )
        outputs.append(np.asarray(y, dtype=np.float32)[:count])
    return np.concatenate(outputs), times


# --------------------------------------------------------------- data sets


def _save_npy(path, array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    write_atomic(path, buffer.getvalue())


def _save_json(path, value):
    write_atomic(path, json.dumps(value, indent=1).encode("utf-8"))


def build_backbone(
    model, weights=None, input_shape=(16, 224, 224, 3), pooling="avg", **kwargs
):
    """A clip backbone with `include_top=False` and global pooling.

    Args:
        model: a name of `keras_video.applications.MODELS` (`"inception_i3d"`,
            `"c3d"`, ...), `"module:function"`, a constructor taking the
            `keras.applications` arguments, or the path of a saved backbone
            (`.keras`, loaded with `safe_mode=True`; it must give `(batch, C)`
            already, and `weights`, `pooling` and `kwargs` must be unset).
        weights: the constructor's `weights` (`None`, a preset, a path).
        input_shape: `(frames, height, width, 3)`.
        pooling: `"avg"` or `"max"` over time and space.
        **kwargs: other constructor arguments (widths, depth).

    Returns:
        the `keras.Model`, `(batch, *input_shape)` -> `(batch, C)`.

    Raises:
        ValueError: an unknown name, or a function that cannot be imported.
    """
    from keras_video.applications.registry import MODELS

    if isinstance(model, str) and model.endswith(".keras"):
        if weights is not None or pooling != "avg" or kwargs:
            raise ValueError(
                "A saved backbone (.keras) carries its weights and pooling. "
                f"Received: model={model!r}, weights={weights!r}, "
                f"pooling={pooling!r}, {kwargs or ''}"
            )
        if not os.path.isfile(model):
            raise FileNotFoundError(f"No saved backbone at {model}")
        import keras

        return keras.saving.load_model(model, compile=False)
    if model in MODELS:
        constructor = MODELS[model].constructor
    elif isinstance(model, str) and model.count(":") == 1:
        module_name, function_name = model.split(":")
        try:
            constructor = getattr(importlib.import_module(module_name), function_name)
        except (ImportError, AttributeError) as e:
            raise ValueError(
                f"Cannot import the model function. Received: model={model!r} "
                f"({type(e).__name__}: {e})"
            ) from None
    else:
        raise ValueError(
            f"`model` must be one of {sorted(MODELS)} or 'module:function'. "
            f"Received: model={model!r}"
        )
    return constructor(
        include_top=False,
        weights=weights,
        pooling=pooling,
        input_shape=tuple(input_shape),
        **kwargs,
    )


def _value_range(model, weights, value_range):
    if value_range is None:
        if model == "inception_i3d" and weights == "kinetics400":
            from keras_video.applications.inception_i3d import (
                KINETICS400_DATA_CONFIG,
            )

            value_range = KINETICS400_DATA_CONFIG["value_range"]
        else:
            value_range = (0.0, 255.0)
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"`value_range` must be (low, high). Received: value_range={value_range!r}"
        ) from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(
            f"`value_range` must be finite with low < high. "
            f"Received: value_range={value_range!r}"
        )
    return [low, high]


def _read_manifest(output):
    path = os.path.join(output, MANIFEST)
    manifest = read_json_file(path, "features manifest")
    if manifest is None:
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("videos"), dict):
        raise ValueError(f"{path} is not a features manifest")
    return manifest


def _output_paths(output, rel):
    stem = os.path.join(output, os.path.splitext(rel)[0])
    return stem + ".npy", stem + ".times.npy"


def extract_dataset_features(
    source,
    output,
    model,
    weights=None,
    snippet_length=16,
    stride=4,
    *,
    frame_step=1,
    image_size=224,
    batch_size=8,
    value_range=None,
    backend="auto",
    verbose=True,
    runner=None,
    pipeline_args=(),
):
    """Snippet features of every video of a folder, one `.npy` per video, resumable.

    A video `source/<rel>/<name>.<ext>` gets `output/<rel>/<name>.npy`
    (float32 `(num_snippets, C)`) and `output/<rel>/<name>.times.npy`
    (float64 centre times in seconds), both written atomically, from
    `extract_features` with a backbone `build_backbone(model, weights,
    (snippet_length, image_size, image_size, 3))`. `output/manifest.json`
    holds the settings, the keras_video version and, per finished video, its
    `fps`, `num_frames`, `num_snippets` and the decoder that read it; it is
    rewritten (atomically) after each video. Run the same call again after an
    interruption: videos listed in the manifest whose two files exist are
    skipped. A video that fails (corrupt, too short) is reported in
    `output/features_report.json` and the others go on.

    Args:
        source: a folder (every video under it, any depth).
        output: the output folder.
        model: a name of `keras_video.applications.MODELS` or
            `"module:function"` (see `build_backbone`).
        weights: the model's `weights`.
        snippet_length: frames per snippet.
        stride: frames between snippet starts.
        frame_step: frames between the frames of a snippet.
        image_size: side of the square frames the model sees.
        batch_size: snippets per model call.
        value_range: `(low, high)` the pixel values `[0, 255]` are mapped to;
            default `None`: the weights' (`(-1, 1)` for `inception_i3d` with
            `"kinetics400"`), else `(0, 255)`.
        backend: `VideoReader` backend.
        verbose: a progress bar over videos (`keras.utils.Progbar`).
        runner: `None` (this process) or an Apache Beam runner,
            `"DirectRunner"`, `"FlinkRunner"`, `"SparkRunner"` or
            `"DataflowRunner"`: each video is then one unit of a Beam pipeline
            (`keras_video.data.beam.run_each`; each worker builds the backbone
            once), with the same files and report, and the manifest is written
            once at the end. `source`, `output` and a `.keras` model must be
            on a file system every worker sees under the same names.
        pipeline_args: with `runner`, more Beam pipeline options (a list of
            flags or one string).

    Returns:
        the report (`dict`, also in `output/features_report.json`):
        `"source"`, `"output"`, the settings, `"num_videos"`, `"done"`,
        `"skipped"` (relative paths), `"failed"` (`{"video", "path",
        "error"}`) and `"seconds"`.

    Raises:
        ValueError: bad arguments, or `output` holds features of other
            settings (named; nothing is computed then).
        FileNotFoundError: `source` is not a folder.

    Example:

    ```python
    from keras_video import detection

    detection.extract_dataset_features(
        "activitynet/videos", "activitynet/i3d", "inception_i3d",
        weights="kinetics400", snippet_length=16, stride=4,
    )
    ```
    """
    start_time = time.perf_counter()
    from keras_video.data.listing import index_directory
    from keras_video.data.video import BACKENDS
    from keras_video.version import __version__

    settings = {
        "model": model,
        "weights": None if weights is None else os.fspath(weights),
        "snippet_length": _positive_int("snippet_length", snippet_length),
        "stride": _positive_int("stride", stride),
        "frame_step": _positive_int("frame_step", frame_step),
        "image_size": _positive_int("image_size", image_size),
        "value_range": _value_range(model, weights, value_range),
        "backend": backend,
    }
    batch_size = _positive_int("batch_size", batch_size)
    if runner is not None:
        from keras_video.data.beam import check_runner

        check_runner(runner)
    if backend not in BACKENDS:
        raise ValueError(
            f"`backend` must be one of {BACKENDS}. Received: backend={backend!r}"
        )
    source, output = os.fspath(source), os.fspath(output)
    if not os.path.isdir(source):
        raise FileNotFoundError(f"No folder of videos at {source}")
    manifest = _read_manifest(output)
    if manifest is not None:
        theirs = {k: manifest.get(k) for k in SETTINGS}
        if theirs != settings:
            differ = ", ".join(
                f"{k}={theirs[k]!r} (asked {settings[k]!r})"
                for k in SETTINGS
                if theirs[k] != settings[k]
            )
            raise ValueError(
                f"{output} holds features written with other settings: {differ}. "
                "Use another output folder."
            )
    else:
        manifest = {**settings, "keras_video_version": __version__, "videos": {}}
    manifest["keras_video_version"] = __version__
    videos = [
        (os.path.abspath(p), os.path.relpath(p, source))
        for p in index_directory(source, labels=None).paths
    ]
    todo, skipped = [], []
    for path, rel in videos:
        finished = rel in manifest["videos"] and all(
            os.path.isfile(p) for p in _output_paths(output, rel)
        )
        (skipped if finished else todo).append((path, rel))
    done, failed = [], []
    progbar = None
    if verbose and videos:
        import keras

        progbar = keras.utils.Progbar(len(videos), unit_name="video")
        progbar.update(len(skipped))
    os.makedirs(output, exist_ok=True)
    job = _VideoFeatures(settings, batch_size, output)
    if runner is None:
        results = map(job, todo)  # lazily: the progress bar moves per video
    else:  # each video a unit of a Beam pipeline; the manifest written here
        from keras_video.data.beam import run_each

        results = run_each(todo, job, output, runner, pipeline_args)
    paths = {rel: path for path, rel in todo}
    for rel, info, error in results:
        if error is not None:
            failed.append({"video": rel, "path": paths[rel], "error": error})
            logger.warning("No features for %s: %s", paths[rel], error)
        else:
            manifest["videos"][rel] = info
            if runner is None:
                _save_json(os.path.join(output, MANIFEST), manifest)
            done.append(rel)
        if progbar is not None:
            progbar.update(len(skipped) + len(done) + len(failed))
    if (runner is not None and done) or not os.path.isfile(
        os.path.join(output, MANIFEST)
    ):
        _save_json(os.path.join(output, MANIFEST), manifest)
    report = {
        "source": source,
        "output": output,
        **settings,
        "num_videos": len(videos),
        "done": done,
        "skipped": [rel for _, rel in skipped],
        "failed": failed,
        "seconds": round(time.perf_counter() - start_time, 3),
    }
    _save_json(os.path.join(output, REPORT), report)
    return report


class _VideoFeatures:
    """The per-video step of `extract_dataset_features`, here or on a Beam
    worker: `((path, rel)) -> (rel, info, None)` after writing the video's two
    `.npy` files, or `(rel, None, error)`. The backbone is built on the first
    call in each process (it is not pickled)."""

    def __init__(self, settings, batch_size, output):
        self.settings = settings
        self.batch_size = batch_size
        self.output = output
        self._backbone = None

    def __getstate__(self):
        return {**self.__dict__, "_backbone": None}

    def backbone(self):
        if self._backbone is None:  # built only when a video needs it
            s = self.settings
            size = (s["image_size"],) * 2
            self._backbone = build_backbone(
                s["model"], s["weights"], (s["snippet_length"], *size, 3)
            )
            _input_clip(self._backbone, s["snippet_length"], size)
        return self._backbone

    def __call__(self, task):
        from keras_video.data.video import VideoReader

        path, rel = task
        s = self.settings
        backbone = self.backbone()
        low, high = s["value_range"]

        def preprocess(x):
            return x * np.float32((high - low) / 255.0) + np.float32(low)

        try:
            with VideoReader(path, backend=s["backend"]) as reader:
                features, times = _reader_features(
                    backbone, reader, s["snippet_length"], s["stride"],
                    s["frame_step"], (s["image_size"],) * 2, self.batch_size,
                    preprocess,
                )  # fmt: skip
                info = {
                    "fps": float(reader.fps),
                    "num_frames": int(reader.num_frames),
                    "num_snippets": int(len(features)),
                    "feature_dim": int(features.shape[1]),
                    "decoder": reader.backend,
                }
        except Exception as e:  # reported per video; the others go on
            return rel, None, f"{type(e).__name__}: {e}"
        features_path, times_path = _output_paths(self.output, rel)
        os.makedirs(os.path.dirname(features_path), exist_ok=True)
        _save_npy(features_path, features)
        _save_npy(times_path, times)
        return rel, info, None
