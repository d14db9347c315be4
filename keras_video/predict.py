"""`keras-video predict VIDEO [--preset NAME]`: top Kinetics-400 classes of a video.

Multi-clip testing as in the I3D paper's evaluation, through the same test-time
pipeline as `keras-video evaluate` (`keras_video.data.video_test_dataset`):
`num_clips` clips spread uniformly over the video, with the clip protocol the
pretrained model carries; the logits are averaged over clips.

```
predict_video(path, preset="r3d_18")
  -> pretrained.CONVERTERS["r3d_18"]: the converted file in the Keras cache
     (else FileNotFoundError naming `keras-video weights convert r3d_18`)
  -> its data config -> ClipSettings.from_data_config: frames, step, short
     side, crop (r3d_18: 16 frames, step 2, short side 128, crop 112)
  -> the family's preprocess_input (r3d_18: resnet3d.preprocess_input,
     torchvision's mean and std)
  -> the full network's logits (the pre-softmax scores of `predictions`),
     averaged over the clips -> softmax -> Kinetics-400 names
```

Without a preset: DeepMind's InceptionI3D (`i3d-kinetics400`,
`KINETICS400_DATA_CONFIG`: consecutive frames, short side 256, centre crop
224x224, values in `[-1, 1]`).

Class order: every preset's head is in the order of
`inception_i3d.kinetics400_labels()`, the 400 names sorted alphabetically.
That is DeepMind's `label_map.txt`, torchvision's `_KINETICS400_CATEGORIES`
and PySlowFast's `kinetics_classnames.json` (the class indices PyTorchVideo's
checkpoints were trained with), so `decode_predictions` names all of them.
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


def preset_clip_settings(preset, num_clips=3, clip_length=None):
    """The `ClipSettings` a preset is tested with: its data config's frames,
    step, short side and crop, `num_clips` uniform clips.

    Args:
        preset: a key of `pretrained.CONVERTERS` (`"r3d_18"`), or `None` for
            the InceptionI3D (`kinetics_clip_settings`).
        num_clips: clips spread uniformly over the video.
        clip_length: InceptionI3D only: frames per clip.
    """
    from keras_video.data.clip_settings import ClipSettings

    converter = _converter(preset)
    if converter is None:
        return kinetics_clip_settings(num_clips, clip_length)
    if clip_length is not None:
        raise ValueError(
            f"predict: `clip_length` is the InceptionI3D's only; preset "
            f"{preset!r} takes the clips of its data config. "
            f"Received: clip_length={clip_length!r}"
        )
    config = converter.get_data_config()
    if config.get("labels") != "kinetics400":
        raise ValueError(
            f"predict: preset {preset!r} is not a Kinetics-400 classifier. "
            f"Received: labels={config.get('labels')!r}"
        )
    return ClipSettings.from_data_config(
        config, num_clips=num_clips, clip_sampling="uniform"
    )


def preset_preprocess(preset):
    """The `preprocess_input` of a preset's family (`None`: InceptionI3D):
    `resnet3d`'s for torchvision's, `slowfast`'s for PyTorchVideo's."""
    from keras_video.applications import i3d, resnet3d, slow, slowfast

    families = {
        "InceptionI3D": inception_i3d,
        "r3d_18": resnet3d,
        "mc3_18": resnet3d,
        "r2plus1d_18": resnet3d,
        "slowfast": slowfast,
        "slow": slow,
        "I3D": i3d,
    }
    converter = _converter(preset)
    family = "InceptionI3D" if converter is None else converter.family
    if family not in families:
        raise ValueError(
            f"predict: no preprocessing known for family {family!r} (preset "
            f"{preset!r}). Received: preset={preset!r}"
        )
    return families[family].preprocess_input


def preset_model(preset, settings):
    """The preset's network with its converted weights, returning logits.

    Raises:
        FileNotFoundError: the converted file is not in the Keras cache; the
            message names `keras-video weights convert NAME`.
    """
    import keras

    from keras_video.applications import weights as weights_lib

    converter = _converter(preset)
    if converter is None:
        return inception_i3d.InceptionI3D(
            weights="kinetics400",
            classifier_activation=None,
            input_shape=settings.output_shape,
        )
    path = weights_lib.cached_file(converter.file)
    model = converter.build_model()
    converter.load(model, path)
    # The logits: the `predictions` layer again, without its activation
    # (PyTorchVideo's networks end with a softmax).
    head = model.get_layer("predictions")
    logits = keras.layers.Dense(head.units, name="logits")
    outputs = logits(head.input)
    logits.set_weights(head.get_weights())
    return keras.Model(model.inputs, outputs, name=f"{model.name}_logits")


def video_logits(path, model, settings, preprocess, num_crops=1):
    """The logits of `model` on the clips `settings` takes from the video at
    `path`, averaged over the clips; shape `(classes,)`."""
    from keras_video.data.datasets import video_test_dataset

    ds = video_test_dataset(
        [path], clip_settings=settings, batch_size=1, num_crops=num_crops
    )
    return np.concatenate(
        [
            np.asarray(model.predict(preprocess(clips.numpy()), verbose=0))
            for clips, _ in ds
        ]
    ).mean(axis=0)


def predict_video(
    path, num_clips=3, clip_length=None, top=5, model=None, preset=None, num_crops=1
):
    """Top-`top` `(class_index, class_name, probability)` of the video at `path`.

    Args:
        path: a video file.
        num_clips: clips spread uniformly over the video.
        clip_length: InceptionI3D only: frames per clip (default 64).
        top: rows returned.
        model: a Kinetics-400 model returning logits, in place of the preset's.
        preset: a key of `pretrained.CONVERTERS` (`"r3d_18"`, `"slowfast_r50"`,
            ...); `None`: the InceptionI3D (`"i3d-kinetics400"`).
        num_crops: 1 (centre) or 3 crops per clip.
    """
    settings = preset_clip_settings(preset, num_clips, clip_length)
    if model is None:
        model = preset_model(preset, settings)
    logits = video_logits(path, model, settings, preset_preprocess(preset), num_crops)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    return inception_i3d.decode_predictions(probs[None], top=top)[0]


def _converter(preset):
    """The converter of `preset`; `None` for the InceptionI3D."""
    from keras_video.applications import pretrained

    if preset is None:
        return None
    if preset not in pretrained.CONVERTERS:
        raise ValueError(
            f"predict: no preset named {preset!r}; the presets are "
            f"{sorted(pretrained.CONVERTERS)}. Received: preset={preset!r}"
        )
    converter = pretrained.CONVERTERS[preset]
    return None if converter.family == "InceptionI3D" else converter


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
