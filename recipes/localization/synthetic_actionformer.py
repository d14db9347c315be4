"""Temporal action localisation on the synthetic long-video set.

    python -m keras_video.data.synthetic  # (see below for the data)
    keras-video train recipes/localization/synthetic_actionformer.py \\
        --data DIR --output runs/localization

The data: `keras_video.data.synthetic.write_localization_dataset(DIR,
num_videos=64, seed=0)` writes 64 videos of 160 frames (32x32, 10 fps) on a
static textured background with 1-3 actions each (a shape moving left, right,
up or down for 1.6-4.8 s), 48 training and 16 validation videos, and their
ActivityNet-style `annotations.json`.

The run (`keras_video.training.localization`): a tiny R3D is trained as a
snippet classifier (8-frame snippets every 2nd frame, 4 actions +
background), its max-pooled features of every video are resampled to 64 steps
(one step = 2 frames), an ActionFormer-style `TemporalLocalizer` (4 levels,
64 channels) is trained on them, and both the localiser and the
sliding-window baseline (windows of 2-16 snippets, Soft-NMS) are scored with
the ActivityNet mAP at tIoU 0.3-0.7 on the validation videos.
"""

from keras_video.training.localization import LocalizationRecipe


def config():
    return LocalizationRecipe(
        backbone="early_fusion",
        backbone_args={"base_filters": 8, "depth": 3},
        snippet_length=8,
        snippet_stride=2,
        image_size=32,
        backbone_epochs=8,
        backbone_learning_rate=3e-3,
        snippet_batch_size=16,
        sequence_length=64,
        num_levels=4,
        embed_dim=64,
        epochs=40,
        batch_size=8,
        learning_rate=1e-3,
    )
