"""R3D-18 on a Kinetics-style folder (`train/` and `val/` of class folders).

The published schedule shape (Tran et al. 2018) at laptop scale: 16 x 112 x 112
clips every 2nd frame, SGD with momentum, warmup then cosine, scale jitter and
flips, 10 clips x 3 crops at test time.
"""

from keras_video.training import Recipe


def config():
    return Recipe(
        model="R3D",
        model_args={"depth": 18},
        clip_length=16,
        frame_step=2,
        image_size=(112, 112),
        short_side=128,
        augment=True,
        num_clips=1,
        batch_size=32,
        epochs=45,
        optimizer="sgd",
        learning_rate=0.1,
        weight_decay=1e-4,
        warmup_epochs=5,
        precision="auto",
        seed=1337,
        eval_num_clips=10,
        eval_num_crops=3,
    )
