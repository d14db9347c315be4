"""AVA-style action detection on the synthetic multi-actor set, SlowFast.

Data (96 videos, about 20 s to write):
`python -c "from keras_video.data import write_actor_dataset as w;
w('actors', num_videos=96, seed=0)"`, then
`keras-video train recipes/detection/synthetic_slowfast.py --data actors`.

The data: 96 videos of 48 frames (64x64, 8 fps), each with 2-3 actors (a
rectangle, a disc or a triangle) that move left, right, up or down or stand
for the whole video; keyframes at 1-5 s; 72 training videos (ground-truth
boxes) and 24 validation videos (person proposals scoring at least 0.8:
each actor's box jittered, plus some false boxes), in AVA's files.

The run (`keras_video.training.detection`): a small SlowFast (plain
VGG-style blocks, no stem, 3 stages, alpha 4, 8x8 feature maps) under the
RoI head of `ActionDetector` (RoIAlign 7x7 of each pathway's time-averaged
map, max, dropout, sigmoid per action), trained on 8-frame clips (every 2nd
frame) around each keyframe with binary cross-entropy, beside the
whole-frame baseline (the same backbone, max-pooled, a multi-label
classifier of the actions in the keyframe, its scores given to every box);
both scored with frame-mAP@0.5 on the validation keyframes. Figures:
`docs/api/detection.md`.
"""

from keras_video.training.detection import DetectionRecipe


def config():
    return DetectionRecipe(
        backbone="slowfast",
        backbone_args={
            "base_filters": 16,
            "stage_blocks": (1, 1, 1),
            "stem": None,
            "block": "plain",
            "alpha": 4,
            "beta": 1 / 4,
            "fusion_kernel": 3,
        },
        clip_length=8,
        frame_step=2,
        image_size=64,
        augment=False,  # a mirror would turn "left" into "right", label unchanged
        epochs=20,
        batch_size=16,
        learning_rate=2e-3,
    )
