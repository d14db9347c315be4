"""Temporal action localisation on the synthetic long-video set.

Data (128 videos, about 30 s to write):
`python -c "from keras_video.data.synthetic import write_localization_dataset as w;
w('localization', num_videos=128, seed=0)"`, then
`keras-video train recipes/localization/synthetic_actionformer.py --data localization`.

The data: 128 videos of 160 frames (32x32, 10 fps) on a static textured
background, each with 1-3 actions (a shape moving left, right, up or down for
1.6-4.8 s); 96 training and 32 validation videos, and their ActivityNet-style
`annotations.json`.

The run (`keras_video.training.localization`): the registry's tiny early
fusion CNN (max-pooled) is trained as a snippet classifier (8-frame snippets
every 2nd frame, 4 actions + background); its features of every video are
resampled to 64 steps; an ActionFormer-style `TemporalLocalizer` (4 levels,
64 channels) is trained on them; the localiser and the sliding-window
baseline (windows of 4-32 snippets, overlap 0.75, the snippet classifier's
mean class probability less its mean in the window's context, Soft-NMS) are
scored with the ActivityNet mAP at tIoU 0.3-0.7 on the validation videos.
Figures: `docs/api/detection.md`.
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
