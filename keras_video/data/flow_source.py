"""`FlowSource`: where a dataset's optical flow comes from.

Two-stream networks read motion as dense optical flow beside (or instead of)
the RGB frames. Flow field `i` of a video is the flow from frame `i` to frame
`i + 1`, so a video of `n` frames has `n - 1` fields, and a clip of flow takes
the fields at its sampled frame indices (`ClipSettings` as for RGB).

- Precomputed (`directory`): the output of `keras-video flow SRC DST`: for a
  video `SRC/<rel>/<name>.<ext>`, the folder `DST/<rel>/<name>/` holds
  `x_00001.jpg`, `y_00001.jpg`, ... (field `i` is file `i + 1`) and a
  `flow.json` manifest written last (field count, bound, format). A folder
  without a manifest is unfinished and reported as a bad file.
- On the fly (`directory=None`): frames `i` and `i + 1` are decoded for every
  field a clip needs and `keras_video.flow.compute` runs on each pair
  (`method`, default `"dis"`: about 150 fields/s per core at 320x240, where
  TV-L1 manages under 1; precompute TV-L1 flow with `keras-video flow`).

Flow values are pixels per frame at the resolution the flow was computed at;
resizing a clip does not rescale them (as TSN and MMAction2 treat stored flow).
No TensorFlow here.
"""

import dataclasses
import json
import os

import numpy as np

MODALITIES = ("rgb", "flow", "stacked_flow", "rgb+flow")
MANIFEST = "flow.json"


def check_modality(modality, flow_dir=None):
    if modality not in MODALITIES:
        raise ValueError(
            f"`modality` must be one of {MODALITIES}. Received: modality={modality!r}"
        )
    if flow_dir is not None and not os.path.isdir(flow_dir):
        raise ValueError(f"`flow_dir` is not a folder. Received: flow_dir={flow_dir}")


@dataclasses.dataclass(frozen=True)
class FlowSource:
    """Reads or computes the flow fields of a video.

    Args:
        directory: root of precomputed flow (`keras-video flow` output), or
            `None` to compute flow on the fly.
        video_root: the folder video paths are relative to (the dataset's
            directory, or a CSV list's folder), to find a video's flow folder.
        method: `keras_video.flow.compute` method for flow on the fly.
        options: `compute` options, as a tuple of `(name, value)` pairs.
    """

    directory: str | None = None
    video_root: str | None = None
    method: str = "dis"
    options: tuple = ()

    def folder(self, video_path):
        """The flow folder of `video_path` under `directory`."""
        root = self.video_root or os.path.dirname(video_path)
        relative = os.path.splitext(os.path.relpath(video_path, root))[0]
        return os.path.join(self.directory, relative)

    def manifest(self, video_path):
        """The `flow.json` of a video's precomputed flow (a dict).

        Raises:
            FileNotFoundError: no finished flow for this video (named).
        """
        path = os.path.join(self.folder(video_path), MANIFEST)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"No finished flow for {video_path}: {path} does not exist (run "
                f"`keras-video flow` over the videos into {self.directory})."
            )
        with open(path) as f:
            return json.load(f)

    def num_fields(self, video_path, num_frames):
        """How many flow fields the video has (`num_frames - 1` on the fly)."""
        if self.directory is None:
            return num_frames - 1
        return min(int(self.manifest(video_path)["num_fields"]), num_frames - 1)

    def fields(self, video_path, reader, indices, shrink=None):
        """Flow fields at frame `indices` of the video.

        Args:
            video_path: the video.
            reader: an open `VideoReader` of it (decodes frames on the fly).
            indices: int array of any shape, each in `[0, num_fields)`.
            shrink: on the fly, a function applied to the decoded frames
                before flow is computed (e.g. the loader's size cap).

        Returns:
            float32 `indices.shape + (h, w, 2)`.
        """
        indices = np.asarray(indices)
        wanted = np.unique(indices)
        if self.directory is not None:
            from keras_video.flow import read_flow_frames

            manifest = self.manifest(video_path)
            fields = read_flow_frames(
                self.folder(video_path),
                wanted,
                bound=manifest["bound"],
                format=manifest["format"],
            )
        else:
            from keras_video.flow import compute

            pairs = np.stack([wanted, wanted + 1], axis=1)
            frames = reader.get_frames(pairs.ravel())
            if shrink is not None:
                frames = shrink(frames)
            frames = frames.reshape(len(wanted), 2, *frames.shape[1:])
            options = dict(self.options)
            fields = np.stack(
                [compute(pair, self.method, **options)[0] for pair in frames]
            )
        position = {int(i): k for k, i in enumerate(wanted)}
        order = np.vectorize(position.__getitem__, otypes=[np.int64])(indices)
        return fields[order]
