"""An anchor-free temporal action localiser over snippet features.

In the spirit of ActionFormer (Zhang et al. 2022): a temporal feature
pyramid over a sequence of snippet features, and at every time step of every
level a classification head (one logit per class, trained with a sigmoid
focal loss) and a regression head (distances from the step to the action's
start and end, in units of the level's stride, trained with a DIoU loss).
The heads are shared across levels; each level scales its regression by a
learnable scalar, as FCOS and ActionFormer do.

```
features (batch, T, C)
  -> stem: num_stem_convs x [Conv1D(k) -> LayerNorm -> ReLU]    level 0, stride 1
  -> MaxPool1D(2) -> [Conv1D(k) -> LayerNorm -> ReLU] + skip     level 1, stride 2
  -> ...                                                         level L-1
every level -> shared class head  -> (batch, T_l, num_classes) -> concat over l
            -> shared offset head -> Scale_l -> ReLU -> (batch, T_l, 2) -> concat
```

The pyramid is made of 1D convolutions, not ActionFormer's local
self-attention: convolutions are fast on CPU and on every backend, their
receptive field grows with each stride-2 level (a level-5 step sees ~100
snippets), and on the short synthetic and feature sets this package trains
on they are enough. ActionFormer found local attention better than
convolutions on THUMOS14; it is the block to swap in when that matters.

Sequences have a fixed length per batch (crop or resample videos to
`sequence_length` snippets, as ActionFormer pads to a maximum length); no
masks are used. Decoding and NMS are in `keras_video.detection.decoding`,
targets in `keras_video.detection.label_encoder`.
"""

import math

import keras
from keras import layers, ops

from keras_video.detection.label_encoder import level_lengths


@keras.saving.register_keras_serializable(package="keras_video")
class Scale(layers.Layer):
    """Multiplies its input by one learnable scalar (initially `value`).

    Args:
        value: the initial scalar.

    Input shape:
        any.

    Output shape:
        the input's.

    Example:

    ```python
    import numpy as np
    from keras_video.detection.localizer import Scale

    Scale(2.0)(np.ones((1, 3, 2)))  # all 2.0
    ```
    """

    def __init__(self, value=1.0, **kwargs):
        super().__init__(**kwargs)
        self.value = float(value)

    def build(self, input_shape):
        self.scale = self.add_weight(
            name="scale",
            shape=(),
            initializer=keras.initializers.Constant(self.value),
        )

    def call(self, inputs):
        return inputs * ops.cast(self.scale, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(value=self.value)
        return config


def _conv_block(x, filters, kernel_size, activation, name):
    x = layers.Conv1D(filters, kernel_size, padding="same", name=f"{name}_conv")(x)
    x = layers.LayerNormalization(epsilon=1e-5, name=f"{name}_norm")(x)
    return layers.Activation(activation, name=f"{name}_{activation}")(x)


class _SharedHead:
    """The conv layers of one head, created once and applied to every level."""

    def __init__(
        self, filters, outputs, num_convs, kernel_size, activation, name, **out_kwargs
    ):
        self.convs = [
            (
                layers.Conv1D(
                    filters, kernel_size, padding="same", name=f"{name}_conv{i}"
                ),
                layers.LayerNormalization(epsilon=1e-5, name=f"{name}_norm{i}"),
            )
            for i in range(num_convs)
        ]
        self.activation = activation
        self.output = layers.Conv1D(
            outputs, kernel_size, padding="same", name=f"{name}_output", **out_kwargs
        )

    def __call__(self, x):
        for conv, norm in self.convs:
            x = layers.Activation(self.activation)(norm(conv(x)))
        return self.output(x)


def TemporalLocalizer(
    num_classes,
    input_dim,
    sequence_length=None,
    num_levels=6,
    embed_dim=256,
    num_stem_convs=2,
    num_head_convs=2,
    kernel_size=3,
    activation="relu",
    prior_probability=0.01,
    name="temporal_localizer",
):
    """An anchor-free temporal localiser (ActionFormer-style) as a `keras.Model`.

    Args:
        num_classes: number of action classes (no background class: a
            step is background when every class logit is low).
        input_dim: channels of the snippet features, `C`.
        sequence_length: snippets per sequence, `T`; a multiple of
            `2**(num_levels - 1)`. `None` accepts any length (it must still
            be such a multiple for the levels to line up with the targets).
        num_levels: pyramid levels; level `l` has stride `2**l`.
        embed_dim: channels of the pyramid and of the heads.
        num_stem_convs: conv blocks before the first level.
        num_head_convs: conv blocks in each head before its output conv.
        kernel_size: temporal kernel size of every conv.
        activation: activation name of the conv blocks.
        prior_probability: initial sigmoid probability of every class (the
            classification bias, as RetinaNet), for a stable focal loss.
        name: the model name.

    Input shape:
        `(batch, T, input_dim)` snippet features.

    Output shape:
        a dict: `"classification"` `(batch, sum_T, num_classes)` logits and
        `"regression"` `(batch, sum_T, 2)` non-negative distances to the
        start and the end, in strides of the step's level; `sum_T =
        T + T/2 + ... + T/2**(num_levels - 1)`, levels concatenated in
        order (`keras_video.detection.temporal_points` lists the steps).

    Example:

    ```python
    import numpy as np
    from keras_video import detection

    model = detection.TemporalLocalizer(num_classes=3, input_dim=8,
                                        sequence_length=64, num_levels=4,
                                        embed_dim=16)
    out = model(np.zeros((2, 64, 8), "float32"))
    out["classification"].shape  # (2, 120, 3)
    out["regression"].shape  # (2, 120, 2)
    model.compile("adam", loss={"classification": detection.SigmoidFocalLoss(),
                                "regression": detection.DIoULoss()})
    ```

    Reference:
        Zhang et al., "ActionFormer: Localizing Moments of Actions with
        Transformers", ECCV 2022.
    """
    for arg, value in (
        ("num_classes", num_classes),
        ("input_dim", input_dim),
        ("num_levels", num_levels),
        ("embed_dim", embed_dim),
        ("num_stem_convs", num_stem_convs),
        ("kernel_size", kernel_size),
    ):
        if int(value) < 1:
            raise ValueError(f"`{arg}` must be >= 1. Received: {arg}={value}")
    if int(num_head_convs) < 0:
        raise ValueError(
            f"`num_head_convs` must be >= 0. Received: num_head_convs={num_head_convs}"
        )
    if not 0.0 < float(prior_probability) < 1.0:
        raise ValueError(
            "`prior_probability` must be in (0, 1). "
            f"Received: prior_probability={prior_probability}"
        )
    if sequence_length is not None:
        level_lengths(sequence_length, num_levels)  # checks the multiple

    inputs = keras.Input((sequence_length, int(input_dim)), name="features")
    x = inputs
    for i in range(int(num_stem_convs)):
        x = _conv_block(x, embed_dim, kernel_size, activation, f"stem{i}")
    levels = [x]
    for level in range(1, int(num_levels)):
        x = layers.MaxPooling1D(2, name=f"level{level}_pool")(x)
        y = _conv_block(x, embed_dim, kernel_size, activation, f"level{level}")
        x = layers.Add(name=f"level{level}_add")([x, y])
        levels.append(x)

    bias = -math.log((1.0 - prior_probability) / prior_probability)
    cls_head = _SharedHead(
        embed_dim,
        num_classes,
        int(num_head_convs),
        kernel_size,
        activation,
        "cls_head",
        bias_initializer=keras.initializers.Constant(bias),
    )
    reg_head = _SharedHead(
        embed_dim, 2, int(num_head_convs), kernel_size, activation, "reg_head"
    )
    logits, offsets = [], []
    for level, feature in enumerate(levels):
        logits.append(cls_head(feature))
        scaled = Scale(1.0, name=f"level{level}_scale")(reg_head(feature))
        offsets.append(layers.ReLU(name=f"level{level}_offsets")(scaled))
    # Outputs in float32 under a mixed policy, as the losses and decoding need.
    if len(levels) > 1:
        logits = layers.Concatenate(axis=1, name="classification", dtype="float32")(
            logits
        )
        offsets = layers.Concatenate(axis=1, name="regression", dtype="float32")(
            offsets
        )
    else:
        logits = layers.Activation("linear", name="classification", dtype="float32")(
            logits[0]
        )
        offsets = layers.Activation("linear", name="regression", dtype="float32")(
            offsets[0]
        )
    return keras.Model(
        inputs, {"classification": logits, "regression": offsets}, name=name
    )
