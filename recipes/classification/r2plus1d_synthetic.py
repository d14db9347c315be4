"""R(2+1)D-18 at width 16 on the synthetic motion data set (32x32, 8 frames).

Data: `python -c "from keras_video.data import write_motion_dataset as w;
w('motion', 100, seed=0, image_size=(32, 32), num_frames=16)"`, then
`keras-video train recipes/classification/r2plus1d_synthetic.py --data motion`.

No flips: the classes are motion directions, and a horizontal flip turns
`left` into `right`.
"""

from keras_video.training import Recipe


def config():
    return Recipe(
        model="R2Plus1D",
        model_args={"depth": 18, "base_filters": 16},
        clip_length=8,
        frame_step=2,
        image_size=(32, 32),
        augment=False,
        batch_size=16,
        validation_split=0.2,
        epochs=30,
        optimizer="adamw",
        learning_rate=2e-3,
        weight_decay=5e-4,
        warmup_epochs=2,
        precision="auto",
        seed=1337,
        eval_num_clips=3,
        eval_num_crops=1,
    )
