"""`keras-video predict VIDEO`: top Kinetics-400 classes of a video file.

Multi-clip testing as in the I3D paper's evaluation: `num_clips` clips of
`clip_length` consecutive frames, spread uniformly over the video, each resized
to a short side of 256 and centre-cropped to 224x224, through InceptionI3D
(`weights="kinetics400"`); the logits are averaged over clips.
"""

import cv2
import numpy as np

from keras_video.applications import inception_i3d


def clip_indices(num_frames, clip_length, num_clips):
    """`(num_clips, clip_length)` frame indices, clips spread uniformly; a video
    shorter than a clip is looped."""
    if num_frames < 1:
        raise ValueError("The video has no frames.")
    if num_frames <= clip_length:
        return (np.arange(clip_length) % num_frames)[None]
    starts = np.linspace(0, num_frames - clip_length, num_clips).round().astype(int)
    starts = np.unique(starts)
    return starts[:, None] + np.arange(clip_length)[None]


def resize_and_crop(frames, short_side=256, crop_size=224):
    """uint8 `(n, h, w, 3)` -> short side `short_side`, centre crop."""
    height, width = frames.shape[1:3]
    scale = short_side / min(height, width)
    size = (max(crop_size, round(width * scale)), max(crop_size, round(height * scale)))
    resized = np.stack(
        [cv2.resize(f, size, interpolation=cv2.INTER_LINEAR) for f in frames]
    )
    top = (resized.shape[1] - crop_size) // 2
    left = (resized.shape[2] - crop_size) // 2
    return resized[:, top : top + crop_size, left : left + crop_size]


def predict_video(path, num_clips=3, clip_length=64, top=5, model=None):
    """Top-`top` `(class_index, class_name, probability)` of the video at `path`."""
    from keras_video.data.video_reader import VideoReader

    clip_length = max(clip_length, 9)  # the head needs 9 frames or more
    with VideoReader(path) as reader:
        indices = clip_indices(reader.num_frames, clip_length, num_clips)
        wanted = np.unique(indices)
        frames = reader.get_frames(wanted)
    frames = resize_and_crop(frames)
    lookup = {int(i): k for k, i in enumerate(wanted)}
    clips = np.stack([frames[[lookup[int(i)] for i in row]] for row in indices])
    if model is None:
        model = inception_i3d.InceptionI3D(
            weights="kinetics400",
            classifier_activation=None,
            input_shape=(clip_length, 224, 224, 3),
        )
    logits = np.stack(
        [
            np.asarray(
                model.predict(inception_i3d.preprocess_input(c[None]), verbose=0)
            )[0]
            for c in clips
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
