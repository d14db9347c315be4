"""`ClipSettings`: how clips are taken from a video, checked once.

One value holds every choice that decides which frames make a clip and how
they are sized: clip length, frame step or target frame rate, clips per video,
how clip positions are chosen, what happens with a video shorter than a clip,
and the output size. The datasets, TFRecords, recipes, the tuner, `predict` and
`evaluate` all build one and pass it on, so the defaults and checks live here
only. No TensorFlow: the value pickles into tf.data workers and JSON files.

A pretrained model carries its clip protocol as a data config (see
`keras_video.applications.inception_i3d.KINETICS400_DATA_CONFIG`);
`ClipSettings.from_data_config` turns it into settings, so the model and its
input pipeline cannot disagree.
"""

import dataclasses
import inspect

import numpy as np

from keras_video.data import samplers

CLIP_SAMPLING = ("random", "uniform")
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area")
DEFAULT_FRAME_STEP = 2
# Scale jitter of training clips: the short side is drawn from
# [short_side, AUGMENT_SCALE * short_side].
AUGMENT_SCALE = 1.25


def _positive_int(name, value):
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value}"
        )
    return int(value)


@dataclasses.dataclass(frozen=True)
class ClipSettings:
    """How clips are sampled from a video and sized.

    Args:
        clip_length: frames per clip.
        frame_step: step between clip frames, in source frames. Default 2, or
            unused when `target_fps` is given (passing both is an error).
        target_fps: resample every video to this frame rate instead
            (the step is `fps / target_fps`, rounded per frame).
        num_clips: clips per video (decoded in one pass over the video).
        clip_sampling: `"random"` or `"uniform"` (evenly spaced); `None`:
            random when the files are shuffled, uniform otherwise.
        short_video: `"loop"`, `"pad"` or `"error"` for videos shorter than
            a clip (see `keras_video.data.samplers`).
        image_size: `(height, width)` of output frames (an int: square).
        short_side: frames are resized so their shorter side is this, then
            cropped to `image_size`; default `max(image_size)`.
        interpolation: `"bilinear"`, `"nearest"`, `"bicubic"` or `"area"`.

    Raises:
        ValueError: a bad value, named in the message.

    Example:
    ```python
    settings = ClipSettings(clip_length=8, target_fps=12, image_size=112)
    settings.frame_step, settings.short_side  # (None, 112)
    settings.clip_indices(num_frames=300, fps=30.0, seed=0).shape  # (1, 8)
    ```
    """

    clip_length: int = 16
    frame_step: int | None = None
    target_fps: float | None = None
    num_clips: int = 1
    clip_sampling: str | None = None
    short_video: str = "loop"
    image_size: tuple = (224, 224)
    short_side: int | None = None
    interpolation: str = "bilinear"

    def __post_init__(self):
        def put(name, value):
            object.__setattr__(self, name, value)

        put("clip_length", _positive_int("clip_length", self.clip_length))
        put("num_clips", _positive_int("num_clips", self.num_clips))
        if self.target_fps is not None:
            if self.frame_step is not None:
                raise ValueError(
                    "Pass `frame_step` or `target_fps`, not both. Received: "
                    f"frame_step={self.frame_step}, target_fps={self.target_fps}"
                )
            if isinstance(self.target_fps, bool) or not self.target_fps > 0:
                raise ValueError(
                    "`target_fps` must be a positive number. "
                    f"Received: target_fps={self.target_fps}"
                )
            put("target_fps", float(self.target_fps))
        else:
            step = DEFAULT_FRAME_STEP if self.frame_step is None else self.frame_step
            put("frame_step", _positive_int("frame_step", step))
        if self.clip_sampling is not None and self.clip_sampling not in CLIP_SAMPLING:
            raise ValueError(
                f"`clip_sampling` must be one of {CLIP_SAMPLING} or None. "
                f"Received: clip_sampling={self.clip_sampling!r}"
            )
        if self.short_video not in samplers.SHORT_VIDEO_POLICIES:
            raise ValueError(
                f"`short_video` must be one of {samplers.SHORT_VIDEO_POLICIES}. "
                f"Received: short_video={self.short_video!r}"
            )
        size = self.image_size
        if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
            size = (size, size)
        if (
            not isinstance(size, (list, tuple))
            or len(size) != 2
            or any(isinstance(s, bool) or int(s) != s or s < 1 for s in size)
        ):
            raise ValueError(
                "Invalid `image_size` value. Expected a tuple of 2 positive "
                f"integers. Received: image_size={self.image_size}"
            )
        put("image_size", tuple(int(s) for s in size))
        short_side = (
            max(self.image_size) if self.short_side is None else self.short_side
        )
        if int(short_side) != short_side or short_side < max(self.image_size):
            raise ValueError(
                "`short_side` must be an integer at least the largest side of "
                "`image_size`, so the crop fits. Received: "
                f"short_side={self.short_side}, image_size={self.image_size}"
            )
        put("short_side", int(short_side))
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"`interpolation` must be one of {INTERPOLATIONS}. "
                f"Received: interpolation={self.interpolation!r}"
            )

    # ----------------------------------------------------------------- making

    @classmethod
    def from_arguments(cls, clip_settings, function, arguments):
        """Settings from a dataset function's call.

        Args:
            clip_settings: a `ClipSettings` passed as `clip_settings=`, or `None`.
            function: the dataset function; its parameters named like fields
                are its clip keywords, and their defaults tell which ones the
                caller set.
            arguments: the call's arguments by name (its `locals()`).

        Returns:
            `clip_settings` when given (then no clip keyword may differ from its
            default), else settings made from the clip keywords.

        Raises:
            ValueError: both `clip_settings` and a clip keyword were given.
            TypeError: `clip_settings` is not a `ClipSettings`.
        """
        parameters = inspect.signature(function).parameters
        names = [f.name for f in dataclasses.fields(cls) if f.name in parameters]
        keywords = {name: arguments[name] for name in names}
        if clip_settings is None:
            return cls(**keywords)
        if not isinstance(clip_settings, cls):
            raise TypeError(
                "`clip_settings` must be a keras_video.data.ClipSettings. "
                f"Received: clip_settings={clip_settings!r}"
            )
        given = [k for k, v in keywords.items() if v != parameters[k].default]
        if given:
            raise ValueError(
                "Pass the clip settings either as `clip_settings` or as keywords, "
                f"not both. Received: clip_settings={clip_settings} and "
                + ", ".join(f"{k}={keywords[k]!r}" for k in given)
            )
        return clip_settings

    @classmethod
    def from_data_config(cls, data_config, **changes):
        """The clip protocol a pretrained model was trained with.

        Args:
            data_config: a model's data config, a dict with `num_frames`,
                `frame_step`, `crop_size` and `short_side` (e.g.
                `inception_i3d.KINETICS400_DATA_CONFIG`).
            **changes: fields to set on top (e.g. `num_clips=10`).
        """
        settings = cls(
            clip_length=data_config["num_frames"],
            frame_step=data_config["frame_step"],
            image_size=data_config["crop_size"],
            short_side=data_config["short_side"],
        )
        return settings.replace(**changes)

    @classmethod
    def from_dict(cls, config):
        """Inverse of `to_dict` (lists from JSON become tuples)."""
        return cls(**config)

    def to_dict(self):
        """A JSON-ready dict of the fields."""
        config = dataclasses.asdict(self)
        config["image_size"] = list(self.image_size)
        return config

    def replace(self, **changes):
        """A copy with some fields changed (checked again).

        Setting `target_fps` clears `frame_step` and the other way round.
        """
        if changes.get("target_fps") is not None and "frame_step" not in changes:
            changes["frame_step"] = None
        if changes.get("frame_step") is not None and "target_fps" not in changes:
            changes["target_fps"] = None
        if "image_size" in changes and "short_side" not in changes:
            changes["short_side"] = None
        return dataclasses.replace(self, **changes)

    # ---------------------------------------------------------------- using

    @property
    def output_shape(self):
        """`(clip_length, height, width, 3)` of one output clip."""
        return (self.clip_length, *self.image_size, 3)

    def sampling(self, shuffle):
        """`"random"` or `"uniform"`: `clip_sampling`, or by `shuffle` when `None`."""
        if self.clip_sampling is not None:
            return self.clip_sampling
        return "random" if shuffle else "uniform"

    def decode_short_side(self, augment):
        """The largest short side the spatial transforms will ask for."""
        if augment:
            return int(round(self.short_side * AUGMENT_SCALE))
        return self.short_side

    def clip_indices(self, num_frames, fps, seed=None, sampling="uniform", path=None):
        """Frame indices of this video's `num_clips` clips.

        Args:
            num_frames: frames the video really has (from the reader).
            fps: its frame rate (used with `target_fps`).
            seed: seed of the random positions (`sampling="random"`): an int,
                an int array, `None` or a `numpy.random.Generator`.
            sampling: `"random"` or `"uniform"`.
            path: the video, named in errors.

        Returns:
            int64 `(num_clips, clip_length)`.

        Raises:
            ValueError: a video shorter than a clip with `short_video="error"`.
        """
        kw = dict(
            target_fps=self.target_fps,
            fps=fps,
            short_video=self.short_video,
            path=path,
        )
        if sampling == "uniform":
            clips = samplers.uniform_clips(
                num_frames, self.clip_length, self.num_clips, self.frame_step, **kw
            )
        elif sampling == "random":
            if not isinstance(seed, np.random.Generator):
                seed = np.random.default_rng(
                    None if seed is None else np.asarray(seed).astype(np.uint64)
                )
            clips = [
                samplers.random_clip(
                    num_frames, self.clip_length, self.frame_step, seed=seed, **kw
                )
                for _ in range(self.num_clips)
            ]
        else:
            raise ValueError(
                f"`sampling` must be one of {CLIP_SAMPLING}. "
                f"Received: sampling={sampling!r}"
            )
        return np.stack([c.frame_indices for c in clips]).astype(np.int64)
