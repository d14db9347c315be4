"""The data-set probe: one pass over every video, kept in a cached manifest.

`probe_dataset(folder)` opens each video once (a packet scan, `video.index`,
plus decoding its last frame) and records what training and evaluation need
to know and what headers get wrong: the decodable frame count, keyframes,
rotation, whether the frame rate is variable, the codec, and the files that do
not decode (with their error). The manifest is `<folder>/.keras_video_probe.json`
(one entry per video, keyed by path relative to the folder, with size and
modification time) and `.keras_video_probe.npz` (each video's frame
timestamps and keyframe indices). Probing again re-reads only the files whose
size or modification time changed.

When a manifest is present, the datasets use it: before opening a video the
clip loader asks `seed_index(path)`, which finds the manifest of the
video's data set (the nearest folder above it that has one) and puts the
video's stream index into the reader's cache, so no packet scan is needed;
a file the probe found bad fails at once, without being opened, under the
dataset's `on_error` policy. `keras_video.evaluation.evaluate` records the manifest's
hash.

```python
from keras_video.data import probe
manifest = probe.probe_dataset("ucf101/train")
manifest.summary()  # {'videos': 9537, 'bad': 3, 'variable_frame_rate': 12, ...}
```
"""

import dataclasses
import json
import os
import threading

import numpy as np

from keras_video.data.errors import CorruptVideoError, VideoDecodeError
from keras_video.data.listing import VIDEO_FORMATS
from keras_video.data.video import index as index_lib

MANIFEST_NAME = ".keras_video_probe.json"
ARRAYS_NAME = ".keras_video_probe.npz"
FORMAT_VERSION = 1
# Timestamp steps that differ by more than this fraction of the median step
# make a variable frame rate.
VFR_TOLERANCE = 0.02

# Folders up from a video in which a manifest is looked for (video, class
# folder, split folder, data set).
SEARCH_DEPTH = 4

_folders = {}  # absolute folder -> its Manifest, or None (looked, none there)
_lock = threading.Lock()


def _stat(path):
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


def variable_frame_rate(pts):
    """True when the steps between sorted timestamps are not all equal
    (within `VFR_TOLERANCE` of the median step)."""
    steps = np.diff(np.asarray(pts, np.int64))
    if len(steps) < 2:
        return False
    median = float(np.median(steps))
    return bool(np.max(np.abs(steps - median)) > max(1.0, VFR_TOLERANCE * median))


def probe_video(path):
    """`(entry, arrays)` of one video: the manifest entry (a dict) and its
    `pts` / `keyframes` arrays (`None` for a bad file)."""
    from keras_video.data.video import VideoReader

    size, mtime = _stat(path)
    entry = {"size": size, "mtime_ns": mtime}
    try:
        reader = VideoReader(path, backend="pyav")
        with reader:
            meta = reader.metadata
            reader.get_frames([meta.num_frames - 1])  # the last frame decodes
        index = index_lib.cached_index(index_lib.cache_key(path, None))
    except (VideoDecodeError, OSError, ValueError) as error:
        entry.update(ok=False, error=f"{type(error).__name__}: {error}")
        return entry, None
    if index is None:  # evicted from the cache: scan again
        index, container = index_lib.scan(path)
        container.close()
    meta = index.metadata
    entry.update(
        ok=True, codec=meta.codec, num_frames=meta.num_frames, fps=meta.fps,
        duration=meta.duration, height=meta.height, width=meta.width,
        rotation=meta.rotation, pix_fmt=meta.pix_fmt, stream=meta.stream,
        num_keyframes=int(len(index.keyframes)),
        variable_frame_rate=variable_frame_rate(index.pts),
        time_base=index.time_base, start_time=index.start_time,
        pts_reliable=index.pts_reliable,
        first_video_stream=index.first_video_stream, damaged=index.damaged,
    )  # fmt: skip
    return entry, {"pts": index.pts, "keyframes": index.keyframes}


@dataclasses.dataclass
class Manifest:
    """The probe results of one data folder.

    Attributes:
        root: the folder.
        entries: relative path -> entry dict (`ok`, `error` or the stream's
            `codec`, `num_frames`, `fps`, `num_keyframes`, `rotation`,
            `variable_frame_rate`, ...; `size` and `mtime_ns` of the file).
        arrays: relative path -> `{"pts", "keyframes"}` int64 arrays.
    """

    root: str
    entries: dict
    arrays: dict

    def entry(self, path):
        """The entry of `path` if it is current (same size and mtime), else None."""
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(self.root))
        entry = self.entries.get(rel)
        if entry is None or not os.path.exists(path):
            return None
        if (entry["size"], entry["mtime_ns"]) != _stat(path):
            return None
        return entry

    def bad_files(self, paths):
        """`{path: error}` of the `paths` the probe found bad."""
        out = {}
        for path in paths:
            entry = self.entry(path)
            if entry is not None and not entry["ok"]:
                out[path] = entry["error"]
        return out

    def stream_index(self, path):
        """The `video.index.StreamIndex` of `path` from the manifest, or None.

        Raises:
            CorruptVideoError: the probe found `path` bad (its error).
        """
        entry = self.entry(path)
        if entry is None:
            return None
        if not entry["ok"]:
            raise CorruptVideoError(f"{entry['error']} (probe manifest)", path)
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(self.root))
        arrays = self.arrays[rel]
        meta = index_lib.VideoMetadata(
            path=str(path), stream=entry["stream"], codec=entry["codec"],
            num_frames=entry["num_frames"], fps=entry["fps"],
            duration=entry["duration"], height=entry["height"],
            width=entry["width"], rotation=entry["rotation"],
            pix_fmt=entry["pix_fmt"],
        )  # fmt: skip
        return index_lib.StreamIndex(
            metadata=meta, pts=arrays["pts"], keyframes=arrays["keyframes"],
            time_base=entry["time_base"], start_time=entry["start_time"],
            pts_reliable=entry["pts_reliable"],
            first_video_stream=entry["first_video_stream"], damaged=entry["damaged"],
        )  # fmt: skip

    def summary(self):
        """Counts: videos, bad, variable frame rate, rotated, and per codec."""
        good = [e for e in self.entries.values() if e["ok"]]
        codecs = {}
        for e in good:
            codecs[e["codec"]] = codecs.get(e["codec"], 0) + 1
        return {
            "videos": len(self.entries),
            "bad": len(self.entries) - len(good),
            "variable_frame_rate": sum(e["variable_frame_rate"] for e in good),
            "rotated": sum(e["rotation"] % 360 != 0 for e in good),
            "frames": sum(e["num_frames"] for e in good),
            "codecs": codecs,
        }

    def save(self):
        """Writes the manifest files into `root` (atomically)."""
        from keras_video.files import write_atomic

        text = json.dumps({"format_version": FORMAT_VERSION, "videos": self.entries},
                          indent=1, sort_keys=True)  # fmt: skip
        flat = {}
        for i, rel in enumerate(sorted(self.arrays)):
            flat[f"{i}_pts"] = self.arrays[rel]["pts"]
            flat[f"{i}_keyframes"] = self.arrays[rel]["keyframes"]
        flat["paths"] = np.asarray(sorted(self.arrays), dtype=str)
        arrays_path = os.path.join(self.root, ARRAYS_NAME)
        tmp = arrays_path + ".tmp.npz"
        np.savez_compressed(tmp, **flat)
        os.replace(tmp, arrays_path)
        write_atomic(os.path.join(self.root, MANIFEST_NAME), text.encode())


def find_manifest(root):
    """The manifest file of folder `root`, or None."""
    path = os.path.join(os.fspath(root), MANIFEST_NAME)
    return path if os.path.isfile(path) else None


def load_manifest(path_or_root):
    """The `Manifest` in a folder (or at its `.keras_video_probe.json` path)."""
    path = os.fspath(path_or_root)
    if os.path.isdir(path):
        path = os.path.join(path, MANIFEST_NAME)
    root = os.path.dirname(os.path.abspath(path))
    with open(path) as f:
        entries = json.load(f)["videos"]
    arrays = {}
    arrays_path = os.path.join(root, ARRAYS_NAME)
    if os.path.isfile(arrays_path):
        with np.load(arrays_path) as data:
            for i, rel in enumerate(data["paths"].tolist()):
                arrays[rel] = {"pts": data[f"{i}_pts"],
                               "keyframes": data[f"{i}_keyframes"]}  # fmt: skip
    entries = {k: v for k, v in entries.items() if not v["ok"] or k in arrays}
    return Manifest(root, entries, arrays)


def probe_dataset(root, formats=VIDEO_FORMATS, verbose=False):
    """Probes every video under `root` (any depth) and saves the manifest.

    Files probed before with the same size and modification time are not
    opened again.

    Returns:
        the `Manifest`.
    """
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise ValueError(f"`root` must be a folder. Received: root={root!r}")
    old = load_manifest(root) if find_manifest(root) else None
    entries, arrays = {}, {}
    paths = []
    for folder, _, names in sorted(os.walk(root)):
        paths += [os.path.join(folder, n) for n in sorted(names)
                  if n.lower().endswith(formats)]  # fmt: skip
    for n, path in enumerate(paths):
        rel = os.path.relpath(path, root)
        if old is not None and old.entry(path) is not None:
            entries[rel] = old.entries[rel]
            if rel in old.arrays:
                arrays[rel] = old.arrays[rel]
            continue
        entry, video_arrays = probe_video(path)
        entries[rel] = entry
        if video_arrays is not None:
            arrays[rel] = video_arrays
        if verbose:
            print(f"[{n + 1}/{len(paths)}] {rel}: "
                  f"{'ok' if entry['ok'] else entry['error']}")  # fmt: skip
    manifest = Manifest(root, entries, arrays)
    manifest.save()
    with _lock:
        _folders[os.path.abspath(root)] = manifest
    return manifest


def register(root):
    """Makes the manifest of folder `root` (if any) known to `seed_index`.

    Returns:
        the `Manifest`, or None when `root` has none.
    """
    if root is None or find_manifest(root) is None:
        return None
    manifest = load_manifest(root)
    with _lock:
        _folders[os.path.abspath(root)] = manifest
    return manifest


def manifest_for(path):
    """The manifest of the nearest folder above `path` (up to `SEARCH_DEPTH`
    levels) that has one, or None. Looked up once per folder."""
    folder = os.path.dirname(os.path.abspath(path))
    for _ in range(SEARCH_DEPTH):
        with _lock:
            if folder in _folders:
                found = _folders[folder]
                if found is not None:
                    return found
                checked = True
            else:
                checked = False
        if not checked:
            found = register(folder)
            if found is not None:
                return found
            with _lock:
                _folders.setdefault(folder, None)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return None


def seed_index(path):
    """Puts `path`'s stream index from its data set's manifest (if any) into
    the reader's index cache, so opening it needs no packet scan. The clip
    loader calls it before opening each video.

    Raises:
        CorruptVideoError: the probe found `path` bad.
    """
    manifest = manifest_for(path)
    if manifest is None:
        return
    index = manifest.stream_index(path)
    if index is not None:
        index_lib.cache_index(index_lib.cache_key(path, None), index)


class using_manifest:  # noqa: N801 - a context manager, used as a function
    """Registers `manifest` (a `Manifest` or None) for the `with` block."""

    def __init__(self, manifest):
        self.manifest = manifest

    def __enter__(self):
        if self.manifest is not None:
            register(self.manifest.root)
        return self.manifest

    def __exit__(self, *exc):
        return False
