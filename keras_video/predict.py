"""`keras-video predict VIDEO`: top Kinetics-400 classes of a video file.

Multi-clip testing as in the I3D paper's evaluation, through the same test-time
pipeline as `keras-video evaluate` (`keras_video.data.video_test_dataset`):
`num_clips` clips spread uniformly over the video, with the clip protocol the
pretrained InceptionI3D carries (`KINETICS400_DATA_CONFIG`: consecutive frames,
short side 256, centre crop 224x224); the logits are averaged over clips.
"""

import numpy as np

from keras_video.applications import inception_i3d

# The head's valid pooling needs clips of 9 frames or more.
MIN_CLIP_LENGTH = 9


def kinetics_clip_settings(num_clips=3, clip_length=None):
    """The `ClipSettings` of Kinetics-400 prediction: the model's protocol
    (`KINETICS400_DATA_CONFIG`, 64 consecutive frames), `num_clips` uniform
    clips, optionally of another `clip_length` (at least 9 frames)."""
    from keras_video.data.clip_settings import ClipSettings

    config = inception_i3d.KINETICS400_DATA_CONFIG
    clip_length = config["num_frames"] if clip_length is None else clip_length
    return ClipSettings.from_data_config(
        config,
        num_clips=num_clips,
        clip_length=max(clip_length, MIN_CLIP_LENGTH),
        clip_sampling="uniform",
    )


def predict_video(path, num_clips=3, clip_length=None, top=5, model=None):
    """Top-`top` `(class_index, class_name, probability)` of the video at `path`."""
    from keras_video.data.datasets import video_test_dataset

    settings = kinetics_clip_settings(num_clips, clip_length)
    ds = video_test_dataset([path], clip_settings=settings, batch_size=1)
    if model is None:
        model = inception_i3d.InceptionI3D(
            weights="kinetics400",
            classifier_activation=None,
            input_shape=settings.output_shape,
        )
    logits = np.concatenate(
        [
            np.asarray(
                model.predict(inception_i3d.preprocess_input(clips.numpy()), verbose=0)
            )
            for clips, _ in ds
        ]
    ).mean(axis=0)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    return inception_i3d.decode_predictions(probs[None], top=top)[0]


def kinetics_demo(video=None):
    """What `make demo` shows for Kinetics-400: the top-5 classes of the cricket
    clip (`../shared/data/i3d/v_CricketShot_g04_c01_rgb.gif` by default) when the
    converted weights are in the Keras cache, else how to get them. Returns
    the rows printed, or `None` when the weights or the video are missing."""
    import os
    import pathlib

    from keras_video.applications import weights as weights_lib

    if video is None:
        root = pathlib.Path(__file__).resolve().parents[1]
        video = (
            root.parent / "shared" / "data" / "i3d" / "v_CricketShot_g04_c01_rgb.gif"
        )
    if not os.path.exists(weights_lib.kinetics400_path()):
        print(weights_lib.missing_kinetics400_message())
        return None
    if not os.path.exists(video):
        print(f"Kinetics-400 demo: no video at {video}")
        return None
    rows = predict_video(video)
    print(f"InceptionI3D (Kinetics-400) on {video}:")
    for index, name, score in rows:
        print(f"{score:8.4f}  {name}  (class {index})")
    return rows
