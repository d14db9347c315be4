"""Evaluation protocols: how many views of each video, and how they are made.

A protocol fixes what published video accuracies depend on besides the model:
clips per video (evenly spaced over the whole video), spatial crops per clip,
the short side frames are resized to before cropping, and the frame rate
clips are read at (`None`: the video's own, with the model's frame step).
The clip length, frame step and crop size are the model's (its
`ClipSettings`); the protocol says how many views and where.

| name | clips | crops | short side |
|---|---|---|---|
| `"kinetics_10x3"` | 10 uniform | 3 (start, centre, end of the long side) | 256 |
| `"single_center"` | 1 (the centre of the video) | 1 centre crop | the model's |

Anything else is an `EvalProtocol(...)`.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class EvalProtocol:
    """The views a video-level score averages over.

    Args:
        name: what to call it in records.
        num_clips: clips per video, evenly spaced (`ClipSettings` uniform
            sampling).
        num_crops: 1 (centre) or 3 (start, centre and end of the longer
            side).
        short_side: frames are resized so their shorter side is this before
            cropping; `None`: the model's clip settings' short side.
        target_fps: read clips at this frame rate; `None`: the clip settings'
            (the video's own rate with the model's frame step, unless they
            say otherwise).

    Example:
    ```python
    EvalProtocol("5x1_224", num_clips=5, num_crops=1, short_side=224)
    ```
    """

    name: str
    num_clips: int
    num_crops: int = 1
    short_side: int | None = None
    target_fps: float | None = None

    def __post_init__(self):
        if isinstance(self.num_clips, bool) or not (
            isinstance(self.num_clips, int) and self.num_clips >= 1
        ):
            raise ValueError(
                f"`num_clips` must be a positive integer. "
                f"Received: num_clips={self.num_clips!r}"
            )
        if self.num_crops not in (1, 3):
            raise ValueError(
                f"`num_crops` must be 1 or 3. Received: num_crops={self.num_crops!r}"
            )

    @property
    def views(self):
        """Views per video: `num_clips * num_crops`."""
        return self.num_clips * self.num_crops

    def clip_settings(self, settings):
        """The model's `ClipSettings` with this protocol's views applied."""
        changes = dict(num_clips=self.num_clips, clip_sampling="uniform")
        if self.short_side is not None:
            changes["short_side"] = self.short_side
        if self.target_fps is not None:
            changes["target_fps"] = self.target_fps
        return settings.replace(**changes)

    def to_dict(self):
        return dataclasses.asdict(self)


PROTOCOLS = {
    "kinetics_10x3": EvalProtocol("kinetics_10x3", 10, 3, short_side=256),
    "single_center": EvalProtocol("single_center", 1, 1),
}


def get_protocol(protocol):
    """An `EvalProtocol` from a name in `PROTOCOLS` or an `EvalProtocol`."""
    if isinstance(protocol, EvalProtocol):
        return protocol
    if isinstance(protocol, str) and protocol in PROTOCOLS:
        return PROTOCOLS[protocol]
    raise ValueError(
        f"`protocol` must be one of {sorted(PROTOCOLS)} or an EvalProtocol. "
        f"Received: protocol={protocol!r}"
    )
