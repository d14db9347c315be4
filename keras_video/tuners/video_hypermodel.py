"""`VideoHyperModel`: model family, width, clip length, frame step, learning rate
and weight decay as one keras-tuner search space.

Clip length and frame step are data hyperparameters: `fit` builds the clip
datasets from the trial's values (one pair of datasets per distinct
`(clip_length, frame_step)`, cached), so any keras-tuner tuner (`RandomSearch`,
`BayesianOptimization`, `Hyperband`) searches them like model hyperparameters.
"""

import os

import keras
import keras_tuner

from keras_video.applications import registry

DEFAULT_FAMILIES = ("r2plus1d_18", "c3d", "early_fusion", "cnn_rnn")


def _width_args(name, width):
    """The family's tiny config with `base_filters` set to `width`.

    `base_filters` is the width of every family that has one (the I3Ds are
    published networks and keep their tiny config).
    """
    tiny = dict(registry.MODELS[name].tiny)
    if "base_filters" in tiny:
        tiny["base_filters"] = width
    if name == "slow_fusion":
        # Short clips: the paper's (4, 2, 2) temporal kernels need 10 frames.
        tiny.setdefault("time_kernels", (2, 2, 2))
        tiny.setdefault("time_strides", (2, 1, 1))
    return tiny


class VideoHyperModel(keras_tuner.HyperModel):
    """Searches a video classifier and its clip sampling on a folder of videos.

    Hyperparameters (names as in the trial summaries):

    - `model`: a family of `keras_video.applications.registry.MODELS`;
    - `width`: its width, the constructor's `base_filters`;
    - `clip_length`, `frame_step`: how clips are sampled;
    - `learning_rate`, `weight_decay`: AdamW, log-uniform.

    Args:
        data_dir: a folder of class folders (`video_dataset_from_directory`).
        families: the model families to choose from.
        widths: the widths to choose from.
        clip_lengths: the clip lengths to choose from.
        frame_steps: the frame steps to choose from.
        learning_rate: `(min, max)`.
        weight_decay: `(min, max)`.
        image_size: `(height, width)` of the clips.
        batch_size: clips per batch.
        validation_split: fraction of the videos for validation.
        seed: seeds the split, shuffling and clip sampling.
        name, tunable: as `keras_tuner.HyperModel`.

    Example:
    ```python
    import keras_tuner
    from keras_video.tuners import VideoHyperModel

    hypermodel = VideoHyperModel("motion", image_size=(32, 32))
    tuner = keras_tuner.RandomSearch(hypermodel, objective="val_accuracy",
                                     max_trials=10, directory="runs/tune")
    tuner.search(epochs=5)
    best = tuner.get_best_hyperparameters()[0].values
    ```
    """

    def __init__(
        self,
        data_dir,
        families=DEFAULT_FAMILIES,
        widths=(4, 8, 16),
        clip_lengths=(8, 16),
        frame_steps=(1, 2),
        learning_rate=(1e-4, 1e-2),
        weight_decay=(1e-6, 1e-3),
        image_size=(32, 32),
        batch_size=8,
        validation_split=0.2,
        seed=1337,
        name=None,
        tunable=True,
    ):
        super().__init__(name=name, tunable=tunable)
        for family in families:
            if family not in registry.MODELS:
                raise ValueError(
                    f"Unknown model family {family!r}. Available: "
                    f"{registry.list_models()}. Received: families={families}"
                )
        self.data_dir = os.fspath(data_dir)
        self.families = tuple(families)
        self.widths = tuple(widths)
        self.clip_lengths = tuple(clip_lengths)
        self.frame_steps = tuple(frame_steps)
        self.learning_rate = tuple(learning_rate)
        self.weight_decay = tuple(weight_decay)
        self.image_size = tuple(image_size)
        self.batch_size = batch_size
        self.validation_split = validation_split
        self.seed = seed
        self.class_names = sorted(
            d
            for d in os.listdir(self.data_dir)
            if os.path.isdir(os.path.join(self.data_dir, d)) and not d.startswith(".")
        )
        self._datasets = {}

    def build(self, hp):
        family = hp.Choice("model", self.families)
        width = hp.Choice("width", self.widths)
        clip_length = hp.Choice("clip_length", self.clip_lengths)
        hp.Choice("frame_step", self.frame_steps)
        learning_rate = hp.Float("learning_rate", *self.learning_rate, sampling="log")
        weight_decay = hp.Float("weight_decay", *self.weight_decay, sampling="log")
        input_shape = (clip_length, *self.image_size, 3)
        base = registry.MODELS[family].constructor(
            classes=len(self.class_names),
            input_shape=input_shape,
            **_width_args(family, width),
        )
        inputs = keras.Input(input_shape, name="clip")
        x = keras.layers.Rescaling(1 / 127.5, -1.0, name="rescale")(inputs)
        model = keras.Model(inputs, base(x), name=f"{family}_w{width}")
        model.compile(
            keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    def clip_settings(self, clip_length, frame_step):
        """The `ClipSettings` of a trial's clip sampling."""
        from keras_video.data import ClipSettings

        return ClipSettings(
            clip_length=int(clip_length),
            frame_step=int(frame_step),
            image_size=self.image_size,
        )

    def datasets(self, clip_length, frame_step):
        """`(train_ds, val_ds)` for a clip sampling (built once, then cached)."""
        settings = self.clip_settings(clip_length, frame_step)
        if settings not in self._datasets:
            from keras_video.data import video_dataset_from_directory

            self._datasets[settings] = video_dataset_from_directory(
                self.data_dir, clip_settings=settings, batch_size=self.batch_size,
                seed=self.seed, validation_split=self.validation_split,
                subset="both", class_names=self.class_names, verbose=False,
            )  # fmt: skip
        return self._datasets[settings]

    def fit(self, hp, model, *args, **kwargs):
        """Trains on the clips of this trial's `clip_length` and `frame_step`."""
        train_ds, val_ds = self.datasets(hp.get("clip_length"), hp.get("frame_step"))
        kwargs.setdefault("validation_data", val_ds)
        return model.fit(train_ds, *args, **kwargs)


TUNERS = ("random", "bayesian", "hyperband")


def make_tuner(
    hypermodel, tuner="random", max_trials=10, max_epochs=10, directory="runs/tune",
    project_name="video", objective="val_accuracy", seed=1337, overwrite=False,
):  # fmt: skip
    """A keras-tuner tuner over `hypermodel`.

    Args:
        tuner: `"random"` (`RandomSearch`), `"bayesian"`
            (`BayesianOptimization`) or `"hyperband"` (`Hyperband`, which uses
            `max_epochs` and ignores `max_trials`).

    Distributed tuning: run the same command on every machine with
    `KERASTUNER_TUNER_ID` (`chief` on one, `tuner0`, `tuner1`, ... on the
    others), `KERASTUNER_ORACLE_IP` and `KERASTUNER_ORACLE_PORT` (the
    chief's address) set; keras-tuner then shares one oracle.
    """
    common = dict(
        objective=objective, directory=directory, project_name=project_name,
        seed=seed, overwrite=overwrite,
    )  # fmt: skip
    if tuner == "random":
        return keras_tuner.RandomSearch(hypermodel, max_trials=max_trials, **common)
    if tuner == "bayesian":
        return keras_tuner.BayesianOptimization(
            hypermodel, max_trials=max_trials, **common
        )
    if tuner == "hyperband":
        return keras_tuner.Hyperband(
            hypermodel, max_epochs=max_epochs, factor=3, **common
        )
    raise ValueError(f"`tuner` must be one of {TUNERS}. Received: tuner={tuner!r}")
