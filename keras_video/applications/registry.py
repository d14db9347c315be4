"""Every constructor of the zoo with a tiny config, so one loop can reach them all.

```python
from keras_video import applications

for name in applications.list_models():
    model = applications.build_tiny(name, classes=4)
```

`MODELS[name]` is a `ModelEntry`: the constructor, the keyword arguments of a
tiny version (a few channels, 8-10 frames of 32x32; it builds and runs in a
second or two on CPU) and the clip the tiny version takes. The tiny configs
are what tests and the CPU demo train; they are not the published networks.
The I3Ds are published networks with no width to shrink: their entries
are the full networks on the smallest clip they take (`I3D`: ResNet-50 on
8x32x32; `InceptionI3D` and the two-stream `TwoStreamI3D` with their heads:
9x193x193), for building, not training.
"""

import dataclasses

from keras_video.applications.c3d import C3D
from keras_video.applications.cnn_rnn import CNNRNN
from keras_video.applications.fusion import EarlyFusion, LateFusion, SlowFusion
from keras_video.applications.i3d import I3D
from keras_video.applications.inception_i3d import InceptionI3D
from keras_video.applications.recurrent_cnn import RecurrentCNN
from keras_video.applications.resnet3d import MC3, R3D, R2Plus1D
from keras_video.applications.single_frame import SingleFrame
from keras_video.applications.slow import Slow
from keras_video.applications.slowfast import SlowFast
from keras_video.applications.two_stream import TwoStream, TwoStreamI3D


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A constructor, its tiny configuration and the clip shape it takes."""

    constructor: object
    tiny: dict
    input_shape: tuple
    extra_inputs: tuple = ()  # shapes of further inputs (the flow of TwoStream)


CLIP = (8, 32, 32, 3)

MODELS = {
    "single_frame": ModelEntry(SingleFrame, dict(base_filters=8, depth=3), CLIP),
    "late_fusion": ModelEntry(
        LateFusion, dict(base_filters=8, depth=3, fc_units=32), CLIP
    ),
    "early_fusion": ModelEntry(EarlyFusion, dict(base_filters=8, depth=3), CLIP),
    "slow_fusion": ModelEntry(
        SlowFusion, dict(base_filters=8, depth=3), (10, 32, 32, 3)
    ),
    "c3d": ModelEntry(C3D, dict(base_filters=4, fc_units=32), CLIP),
    "r3d_18": ModelEntry(R3D, dict(depth=18, base_filters=8), CLIP),
    "r3d_50": ModelEntry(R3D, dict(depth=50, base_filters=4), CLIP),
    "mc3_18": ModelEntry(MC3, dict(depth=18, base_filters=8), CLIP),
    "r2plus1d_18": ModelEntry(R2Plus1D, dict(depth=18, base_filters=8), CLIP),
    "two_stream": ModelEntry(
        TwoStream, dict(base_filters=8, depth=3), CLIP, extra_inputs=((8, 32, 32, 2),)
    ),
    "cnn_rnn": ModelEntry(CNNRNN, dict(base_filters=8, depth=3, rnn_units=16), CLIP),
    "recurrent_cnn": ModelEntry(RecurrentCNN, dict(base_filters=8, depth=2), CLIP),
    "slowfast": ModelEntry(
        SlowFast, dict(base_filters=16, stage_blocks=(1, 1, 1, 1), alpha=4), CLIP
    ),
    "slow": ModelEntry(Slow, dict(base_filters=4), CLIP),
    "i3d": ModelEntry(I3D, dict(dropout_rate=0.0), CLIP),
    "inception_i3d": ModelEntry(InceptionI3D, dict(dropout_rate=0.0), (9, 193, 193, 3)),
    "two_stream_i3d": ModelEntry(
        TwoStreamI3D,
        dict(dropout_rate=0.0),
        (9, 193, 193, 3),
        extra_inputs=((9, 193, 193, 2),),
    ),
}


def list_models():
    """The registered model names, sorted."""
    return sorted(MODELS)


def build_tiny(name, **kwargs):
    """Builds the tiny version of `name`; `kwargs` override its configuration."""
    if name not in MODELS:
        raise ValueError(
            f"Unknown model {name!r}. Available: {list_models()}. "
            f"Received: name={name!r}"
        )
    entry = MODELS[name]
    config = {"input_shape": entry.input_shape, **entry.tiny, **kwargs}
    return entry.constructor(**config)
