"""How much of a Grad-CAM lies inside the moving shape's box, on the motion set.

A small 3D CNN is trained on clips of the synthetic motion set (the four
translations, 32x32, 8 frames at step 2 of 16-frame videos, as in `make
demo`; the frames `render_motion_clip` draws, the ones `write_motion_dataset`
encodes) and explained on held-out clips with the class they belong to.
For each clip the score is the share of the map's mass inside the shape's
per-frame box (`keras_video.data.synthetic.object_boxes`, tight on the
torus), averaged over clips; a map spread evenly would score the boxes'
share of the pixels. Both weightings of `grad_cam` are measured: `"mean"`
(Grad-CAM) and `"elementwise"` (HiResCAM).

Two models (`--model`), both trained with Adam, batch 16:

- `"max"`: Conv3D(8, 3x3x3) -> BN -> ReLU -> max pool 1x2x2 -> Conv3D(16,
  3x3x3) -> BN -> ReLU -> global max pool -> Dense(4) logits; 15 epochs,
  learning rate 3e-3.
  `tests/visualization/test_grad_cam.py` trains one seed of it as a test.
- `"motion"` (CAM-style, no normalisation, no biases): the first frame and
  the last repeated (`TimePadding`) -> Conv3D(16, 3x1x1) whose kernel sums
  to zero over time (`ZeroSumOverTime`) -> ReLU -> Conv3D(32, 1x3x3) -> ReLU
  -> Conv3D(32, 1x3x3) -> ReLU -> global average pool -> Dense(4) logits,
  all at 32x32; 20 epochs, learning rate 1e-2. A static background gives
  exactly zero maps at every layer, so the maps (and any class's Grad-CAM)
  can only be non-zero where something moves; each map sees 3 frames and
  5x5 pixels. With global average pooling Grad-CAM is CAM and the same map
  as HiResCAM. The same architecture as initialised (before training) is
  measured too (`untrained` column): what the motion prior alone does.

Run:

    python benchmarks/grad_cam_boxes.py --model motion --seeds 0 1 2
    python benchmarks/grad_cam_boxes.py --model max --seeds 0 1 2 3 4
"""

import argparse
import os
import pathlib
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keras_video.data.synthetic import (  # noqa: E402
    box_masks,
    object_boxes,
    render_motion_clip,
)
from keras_video.layers import TimePadding  # noqa: E402
from keras_video.visualization import grad_cam  # noqa: E402

CLASSES = ("left", "right", "up", "down")
IMAGE_SIZE = (32, 32)
VIDEO_FRAMES, FRAME_STEP = 16, 2


def motion_clips(videos_per_class, seed):
    """`(clips, labels, boxes)`: float32 `(n, 8, 32, 32, 3)` in [0, 255],
    int `(n,)`, bool `(n, 8, 32, 32)` box pixels of each clip frame."""
    clips, labels, boxes = [], [], []
    for label, motion in enumerate(CLASSES):
        for i in range(videos_per_class):
            rng = np.random.default_rng([seed, label, i])
            frames, info = render_motion_clip(motion, rng, IMAGE_SIZE, VIDEO_FRAMES)
            masks = info["mask"][::FRAME_STEP]
            clips.append(frames[::FRAME_STEP])
            labels.append(label)
            boxes.append(box_masks(object_boxes(masks), IMAGE_SIZE))
    return np.stack(clips).astype("float32"), np.array(labels), np.stack(boxes)


def motion_cnn(input_shape, classes):
    """The small 3D CNN (module docstring); logits out."""

    def unit(x, filters, name):
        x = keras.layers.Conv3D(filters, 3, padding="same", use_bias=False,
                                name=f"{name}_conv")(x)  # fmt: skip
        x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
        return keras.layers.ReLU(name=f"{name}_relu")(x)

    inputs = keras.Input(input_shape)
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = unit(x, 8, "block1")
    x = keras.layers.MaxPooling3D((1, 2, 2))(x)
    x = unit(x, 16, "block2")
    x = keras.layers.GlobalMaxPooling3D()(x)
    return keras.Model(inputs, keras.layers.Dense(classes, name="logits")(x))


class ZeroSumOverTime(keras.constraints.Constraint):
    """Keeps a Conv3D kernel `(t, h, w, in, out)` summing to zero over time:
    the layer sees changes between frames only, never a static scene."""

    def __call__(self, w):
        return w - keras.ops.mean(w, axis=0, keepdims=True)


def motion_cam_cnn(input_shape, classes):
    """The CAM-style motion CNN (module docstring); logits out."""
    inputs = keras.Input(input_shape)
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = TimePadding((1, 1), mode="replicate")(x)
    motion = keras.layers.Conv3D(16, (3, 1, 1), use_bias=False, name="motion_conv",
                                 kernel_constraint=ZeroSumOverTime())  # fmt: skip
    x = motion(x)
    x = keras.layers.ReLU(name="motion_relu")(x)
    for i in (1, 2):
        x = keras.layers.Conv3D(32, (1, 3, 3), padding="same", use_bias=False,
                                name=f"block{i}_conv")(x)  # fmt: skip
        x = keras.layers.ReLU(name=f"block{i}_relu")(x)
    x = keras.layers.GlobalAveragePooling3D()(x)
    motion.kernel.assign(motion.kernel_constraint(motion.kernel))  # from the start
    return keras.Model(inputs, keras.layers.Dense(classes, name="logits")(x))


MODELS = {"max": (motion_cnn, 15, 3e-3), "motion": (motion_cam_cnn, 20, 1e-2)}


def train(seed, videos_per_class=64, epochs=None, model="max", learning_rate=None):
    """A trained `motion_cnn` (`model="max"`) or `motion_cam_cnn`
    (`"motion"`): data seed 0, model seed `seed`; `None`: the model's
    epochs and learning rate (15 and 3e-3, 20 and 1e-2); `epochs=0`: as
    initialised."""
    build, default_epochs, default_rate = MODELS[model]
    x, y, _ = motion_clips(videos_per_class, seed=0)
    keras.utils.set_random_seed(seed)
    network = build(x.shape[1:], len(CLASSES))
    network.compile(
        keras.optimizers.Adam(learning_rate or default_rate),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    if epochs is None:
        epochs = default_epochs
    if epochs:
        network.fit(x, y, epochs=epochs, batch_size=16, verbose=0)
    return network


def box_mass(model, clips, labels, boxes, weighting="mean"):
    """Per clip, the share of the map of its own class inside the boxes."""
    shares = []
    for clip, label, box in zip(clips, labels, boxes, strict=True):
        heat = grad_cam(model, clip, int(label), weighting=weighting)
        shares.append(float((heat * box).sum() / max(heat.sum(), 1e-12)))
    return np.array(shares)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="motion")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--videos-per-class", type=int, default=64)
    parser.add_argument("--held-out-per-class", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--learning-rate", type=float, default=None)
    args = parser.parse_args(argv)
    clips, labels, boxes = motion_clips(args.held_out_per_class, seed=1)
    print(f"held-out clips: {len(clips)}, box share of pixels {boxes.mean():.3f}")
    print(
        f"model {args.model}: seed | val acc | Grad-CAM in box | HiResCAM in box "
        "| untrained Grad-CAM in box | train s"
    )
    rows = []
    for seed in args.seeds:
        untrained = train(seed, args.videos_per_class, 0, args.model)
        control = box_mass(untrained, clips, labels, boxes, "mean").mean()
        start = time.time()
        model = train(
            seed, args.videos_per_class, args.epochs, args.model, args.learning_rate
        )
        seconds = time.time() - start
        accuracy = float(
            (np.argmax(model.predict(clips, verbose=0), -1) == labels).mean()
        )
        mean = box_mass(model, clips, labels, boxes, "mean").mean()
        elementwise = box_mass(model, clips, labels, boxes, "elementwise").mean()
        rows.append((accuracy, mean, elementwise, control))
        print(
            f"{seed} | {accuracy:.3f} | {mean:.3f} | {elementwise:.3f} | "
            f"{control:.3f} | {seconds:.0f}",
            flush=True,
        )
    rows = np.array(rows)
    print(
        f"mean over {len(rows)} seeds | {rows[:, 0].mean():.3f} | "
        f"{rows[:, 1].mean():.3f} | {rows[:, 2].mean():.3f} | "
        f"{rows[:, 3].mean():.3f} |"
    )


if __name__ == "__main__":
    main()
