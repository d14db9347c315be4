"""Search family, width, clip sampling and optimiser on the motion data set.

`keras-video tune recipes/tuning/motion_search.py --data motion`
(`tune_config()` gives the `VideoHyperModel` arguments and the tuner settings;
command-line flags override the tuner settings).
"""


def tune_config():
    return {
        "hypermodel": {
            "families": ("early_fusion", "c3d", "r2plus1d_18", "cnn_rnn"),
            "widths": (4, 8, 16),
            "clip_lengths": (8, 16),
            "frame_steps": (1, 2),
            "learning_rate": (1e-4, 1e-2),
            "weight_decay": (1e-6, 1e-3),
            "image_size": (32, 32),
            "batch_size": 16,
            "validation_split": 0.2,
            "seed": 1337,
        },
        "tuner": "hyperband",
        "max_trials": 20,
        "epochs": 9,
    }
