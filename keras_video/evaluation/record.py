"""The record written beside every evaluation result, and comparing two.

Two accuracies are comparable only when everything that moves them besides
the model is the same: the views (clips x crops), the short side, the frame
rate and clip settings, the decoder and its version, the data (a hash of the
data manifest) and which videos were skipped or missing. `make_record` writes
all of it; `compare_records` lists what differs.

```python
from keras_video.evaluation import compare_records
compare_records(json.load(open("a.record.json")), json.load(open("b.record.json")))
# [] when the two results may be compared
```
"""

import hashlib
import os
import platform

import keras

from keras_video.applications.pretrained import sha256_of
from keras_video.version import __version__

# Keys that must agree for two results to be compared (versions of the
# model code may differ; that is usually what is being compared).
COMPARED = (
    "protocol", "views", "num_clips", "num_crops", "short_side", "fps",
    "clip_settings", "decoder", "data_manifest", "num_videos", "skipped",
    "missing",
)  # fmt: skip


def decoder_versions(backend="auto"):
    """The decoder asked for and the versions of the libraries behind it."""
    import av
    import cv2

    from keras_video.data.video.backends import AUTO_ORDER

    return {
        "backend": backend,
        # "auto" reads with the first of these that decodes the file.
        "auto_order": list(AUTO_ORDER) if backend == "auto" else None,
        "pyav": av.__version__,
        "ffmpeg": {k: ".".join(map(str, v)) for k, v in av.library_versions.items()},
        "opencv": cv2.__version__,
    }


def listing_hash(paths, labels=None, root=None):
    """sha256 of the sorted `relative path, size in bytes, label` lines."""
    lines = []
    for i, path in enumerate(paths):
        rel = os.path.relpath(path, root) if root else os.path.basename(path)
        size = os.path.getsize(path) if os.path.exists(path) else -1
        label = "" if labels is None else int(labels[i])
        lines.append(f"{rel}\t{size}\t{label}")
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def make_record(
    protocol, settings, *, paths, labels, root, skipped, missing, backend="auto",
    manifest=None,
):  # fmt: skip
    """The record of one evaluation (a JSON-ready dict).

    Args:
        protocol: the `EvalProtocol`.
        settings: the `ClipSettings` the views were made with.
        paths, labels: the videos evaluated (missing ones included).
        root: the data folder (paths are hashed relative to it).
        skipped: `{path: error}` of the videos that did not decode.
        missing: paths listed that do not exist.
        backend: the `VideoReader` backend asked for.
        manifest: the probe manifest file used, or `None` (then the listing
            is hashed).
    """
    if manifest is not None:
        data = {"sha256": sha256_of(manifest), "source": "probe manifest",
                "path": os.fspath(manifest)}  # fmt: skip
    else:
        data = {"sha256": listing_hash(paths, labels, root), "source": "listing"}
    rel = (lambda p: os.path.relpath(p, root)) if root else os.path.basename
    return {
        "protocol": protocol.name,
        "views": protocol.views,
        "num_clips": protocol.num_clips,
        "num_crops": protocol.num_crops,
        "short_side": settings.short_side,
        "fps": settings.target_fps if settings.target_fps else "native",
        "clip_settings": settings.to_dict(),
        "decoder": decoder_versions(backend),
        "data_manifest": data,
        "num_videos": len(paths),
        "skipped": sorted(rel(p) for p in skipped),
        "skipped_errors": {rel(p): e for p, e in sorted(skipped.items())},
        "missing": sorted(rel(p) for p in missing),
        "versions": {
            "keras_video": __version__,
            "keras": keras.__version__,
            "keras_backend": keras.backend.backend(),
            "python": platform.python_version(),
        },
    }


def compare_records(a, b):
    """The keys of `COMPARED` on which records `a` and `b` differ (`[]`: the
    two results may be compared)."""
    return [key for key in COMPARED if a.get(key) != b.get(key)]
