"""The lecture's comparison, measured: `python -m keras_video.demo` (`make demo`).

On a fresh machine, no data, no GPU: writes the synthetic motion data set
(`keras_video.data.write_motion_dataset`, real mp4 files whose class is only
in the motion: one frame carries no class information), reads it back through
the clip pipeline, trains a small version of each model of the notes for a few
epochs, and prints

```
model | val acc | params | MFLOPs/clip | train clips/s
```

with a bar chart (`demo_out/comparison.png`). Single-frame models see no
motion and stay near chance; every temporal model learns the direction.
Measured on a 2-core x86 CPU (AVX2; 12 epochs of 384 clips, batch 8, 128
validation videos): 2 min 54 s for the whole run with the Kinetics clip, seed 0,
every model a library build (commit 7ad66d0); the seed-1 column is from the
earlier hand-built versions of late fusion, CNN+RNN, single-frame, I3D-small
and SlowFast-small and was not re-run. Single-frame varies between 0.25 and
0.30 from run to run, CNN+RNN between 0.91 and 0.97:

```
                      seed 0   seed 1
single-frame           0.29     0.31
late fusion            0.99     0.98
early fusion           0.97     0.98
slow fusion / 3D CNN   0.99     0.99
C3D-small              0.93     0.97
CNN+RNN                0.91     0.78
recurrent CNN          0.98     0.97
two-stream (flow)      0.94     0.93
I3D-small              0.99     0.94
SlowFast-small         0.98     0.98
```

What it took, at this size and budget (each measured here, see the builders):
every model is classified from globally max-pooled features, not averaged
ones (the shape covers a few percent of the clip); late fusion fuses its
per-frame maps with a convolution (`LateFusion(fusion="conv")`), CNN+RNN
feeds the LSTM a flattened per-frame map rather than a pooled vector
(`CNNRNN(frame_features="map")`; a pooled feature has lost where the shape
is); the single-frame model max-pools each frame's map
(`SingleFrame(frame_pooling="max")`); C3D-small has batch norm; I3D-small
is the library's 2D frame CNN inflated with `inflate`; SlowFast-small is
the library's SlowFast without a stem and with three plain conv stages
(`SlowFast(stem=None, block="plain")`; the published stem and bottleneck
blocks shrink 32x32 to 1x1, and with `stem="small"` learned only 0.73 to
0.79; the library build, seeds 0 and 1 on both cores, `--models
SlowFast-small`, learns like the former hand-built toy: 0.969 and 0.977
against 0.969 and 0.969, 96,712 parameters either way); and TensorFlow
runs with its oneDNN CPU kernels (`_onednn_restart`), without which 3D
convolutions are 5 to 100 times slower on AVX2 CPUs. CNN+RNN is
the least stable: over model seeds 0-2 on seed 0's data it reached 0.95,
0.56 and 0.84.

Every number is measured on this run: accuracy on held-out videos, parameters
from the model, FLOPs from `keras_video.training.count_flops` (convolution and
dense multiply-adds at the model's output sizes), clips/s as wall-clock
training throughput after the first (tracing) epoch.

`--quick`: seconds-long smoke run (tiny data, one epoch) for tests.
"""

import argparse
import os
import sys
import time

import keras
import numpy as np

from keras_video.training.flops import count_flops
from keras_video.training.schedules import WarmupCosineDecay

# The motion classes used: the four translations. A frame of any of them is
# drawn from the same distribution; only the direction of motion differs.
CLASSES = ("left", "right", "up", "down")
CLIP_LENGTH = 8
FRAME_STEP = 2  # every 2nd frame: 1.3 to 3.8 pixels of motion between clip frames
IMAGE_SIZE = (32, 32)


# ------------------------------------------------------------------ the models


def _classify(features, classes):
    return keras.layers.Dense(classes, activation="softmax", name="predictions")(
        features
    )


def _zoo(name, top=False, **overrides):
    """The registry's tiny `name` without its top, global max pooling, softmax.

    `top=True` keeps the constructor's own top instead (`SingleFrame`'s
    per-frame scores averaged over time). Every model is classified from the
    maximum of its last features over the clip, not their average: the moving
    shape covers a few percent of the frame, and an average over the whole
    clip buries its response in the background (average-pooled 3D CNNs stayed
    at chance at this budget).
    """

    def build(classes, input_shape):
        from keras_video.applications import registry

        entry = registry.MODELS[name]
        kwargs = dict(input_shape=input_shape, **{**entry.tiny, **overrides})
        if entry.extra_inputs:
            kwargs["flow_input_shape"] = (*input_shape[:3], 2)
        if top:
            return entry.constructor(classes=classes, **kwargs)
        base = entry.constructor(include_top=False, pooling="max", **kwargs)
        inputs = base.inputs if len(base.inputs) > 1 else base.inputs[0]
        return keras.Model(inputs, _classify(base.output, classes), name=base.name)

    return build


def _i3d_small(classes, input_shape, base_filters=8, depth=3):
    """I3D's recipe at toy size: a library 2D CNN, inflated to 3D with `inflate`.

    The 2D network is `FrameCNN` (three stages of 3x3 Conv2D -> BN -> ReLU ->
    2x2 max pool, global max pool); `keras_video.applications.inflate` turns
    every 3x3 Conv2D into a 3x3x3 `InflatedConv` (the 2D kernel repeated over
    3 frames and divided by 3) and the last two max pools into 2x2x2 pools
    that halve the frames; convolutions pad time with zeros. The 2D weights
    are random here (no ImageNet on a fresh machine); with pretrained 2D
    weights this is how I3D starts.
    """
    from keras_video.applications import inflate
    from keras_video.applications.frame_cnn import FrameCNN

    cnn = FrameCNN(
        input_shape[1:], base_filters=base_filters, depth=depth, pooling="max"
    )
    time_kernels = {f"frame_block{i + 1}_conv": 3 for i in range(depth)}
    time_strides = {f"frame_block{i + 1}_pool": 2 for i in range(1, depth)}
    base = inflate(
        cnn,
        time_kernels={**time_kernels, **time_strides},
        time_strides=time_strides,
        time_padding="zeros",
        frames=input_shape[0],
        name="i3d_small",
    )
    return keras.Model(base.input, _classify(base.output, classes), name=base.name)


# (label, what the notes call it, builder, needs optical flow)
_SLOW_FUSION = _zoo("slow_fusion", time_kernels=(4, 2, 2), time_strides=(2, 1, 1))
MODELS = [
    (
        "single-frame",
        "2D CNN per frame, scores averaged",
        # Its own top (per-frame scores, averaged); each frame's map is
        # max-pooled like every model's features here (see `_zoo`).
        _zoo("single_frame", top=True, frame_pooling="max"),
        False,
    ),
    (
        "late fusion",
        "per-frame 2D CNN, fused at the top",
        # Frame maps fused by a convolution (`fusion="conv"`): the paper's
        # Flatten -> Dense fusion must learn each position's motion separately
        # and memorised the 384 training clips (val at chance).
        _zoo("late_fusion", fusion="conv", depth=2, fc_units=32),
        False,
    ),
    ("early fusion", "frames stacked on channels, 2D CNN", _zoo("early_fusion"), False),
    ("slow fusion / 3D CNN", "3D convs, time pooled gradually", _SLOW_FUSION, False),
    (
        "C3D-small",
        "VGG-style 3x3x3 convs (+BN)",
        _zoo("c3d", base_filters=8, batch_norm=True),
        False,
    ),  # fmt: skip
    (
        "CNN+RNN",
        "per-frame CNN maps -> LSTM",
        # A pooled frame feature has lost where the shape is; the RNN reads
        # a flattened 8x8 map per frame instead (`frame_features="map"`).
        _zoo("cnn_rnn", frame_features="map", depth=2, rnn_units=128),
        False,
    ),
    ("recurrent CNN", "ConvGRU layers", _zoo("recurrent_cnn"), False),
    ("two-stream", "RGB CNN + stacked optical flow CNN", _zoo("two_stream"), True),
    ("I3D-small", "2D CNN inflated to 3D", _i3d_small, False),
    (
        "SlowFast-small",
        "slow + fast pathways, lateral links",
        # No stem, three plain conv stages (`block="plain"`: conv, BN, ReLU,
        # 2x2 max pool); the published stem and bottleneck stages learned
        # less at this budget (val 0.73 to 0.79 with `stem="small"`).
        _zoo(
            "slowfast",
            stem=None,
            block="plain",
            stage_blocks=(1, 1, 1),
            beta=1 / 4,
            fusion_kernel=5,
        ),
        False,
    ),
]


# --------------------------------------------------------------------- the data


def write_data(directory, videos_per_class, seed):
    from keras_video.data import write_motion_dataset

    write_motion_dataset(
        directory, videos_per_class, seed=seed, image_size=IMAGE_SIZE,
        num_frames=CLIP_LENGTH * 2, classes=CLASSES,
    )  # fmt: skip


def load_arrays(directory, seed, validation_split=0.25):
    """Decodes every video once through the clip pipeline into NumPy arrays.

    Each 16-frame video gives one clip of 8 frames, every 2nd frame (the
    whole video). Returns `(x_train, y_train, x_val,
    y_val)`, clips float32 in [0, 255].
    """
    from keras_video.data import video_dataset_from_directory

    train_ds, val_ds = video_dataset_from_directory(
        directory, clip_length=CLIP_LENGTH, frame_step=FRAME_STEP,
        image_size=IMAGE_SIZE, batch_size=64, seed=seed,
        validation_split=validation_split,
        subset="both", class_names=list(CLASSES), verbose=False,
    )  # fmt: skip

    def arrays(ds):
        xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds], strict=True)
        return np.concatenate(xs), np.concatenate(ys)

    return (*arrays(train_ds), *arrays(val_ds))


def optical_flow(clips):
    """Farneback flow between consecutive clip frames, `(n, t, h, w, 2)` float32.

    `keras_video.flow.compute(method="farneback")` with a smaller pyramid and
    window than its defaults for 32x32 frames (`levels=2, winsize=9,
    poly_sigma=1.1`). The last frame repeats the previous flow so the flow
    clip has `t` frames.
    """
    from keras_video import flow

    fields = np.stack(
        [
            flow.compute(
                clip.astype(np.uint8), method="farneback",
                levels=2, winsize=9, poly_sigma=1.1,
            )
            for clip in clips
        ]
    )  # fmt: skip
    return np.concatenate([fields, fields[:, -1:]], axis=1)


# ------------------------------------------------------------------ training


class _EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def train_one(builder, inputs, y_train, val_inputs, y_val, epochs, batch_size, seed,
              learning_rate=3e-3, jit_compile="auto"):  # fmt: skip
    keras.utils.set_random_seed(seed)
    input_shape = tuple(inputs[0].shape[1:])
    model = builder(len(CLASSES), input_shape)
    steps = int(np.ceil(len(y_train) / batch_size)) * epochs
    schedule = WarmupCosineDecay(learning_rate, steps, warmup_steps=steps // 10)
    model.compile(
        keras.optimizers.AdamW(schedule, weight_decay=1e-4),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )
    timer = _EpochTimer()
    x = inputs if len(inputs) > 1 else inputs[0]
    model.fit(x, y_train, batch_size=batch_size, epochs=epochs, verbose=0,
              callbacks=[timer])  # fmt: skip
    n = len(y_val)
    probs = np.concatenate([
        keras.ops.convert_to_numpy(model(
            [v[i:i + 64] for v in val_inputs] if len(val_inputs) > 1
            else val_inputs[0][i:i + 64], training=False))
        for i in range(0, n, 64)
    ])  # fmt: skip
    accuracy = float(np.mean(np.argmax(probs, -1) == y_val))
    timed = timer.times[1:] or timer.times
    clips_per_s = len(y_train) * len(timed) / sum(timed)
    shapes = [tuple(a.shape[1:]) for a in inputs]
    return {
        "val_acc": accuracy,
        "params": model.count_params(),
        "mflops": count_flops(model, shapes) / 1e6,
        "clips_per_s": clips_per_s,
    }


# ------------------------------------------------------------------- output


def format_table(rows, chance):
    header = (
        f"{'model':<22} {'val acc':>8} {'params':>9} {'MFLOPs/clip':>12} "
        f"{'train clips/s':>14}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['model']:<22} {r['val_acc']:>8.3f} {r['params']:>9,d} "
            f"{r['mflops']:>12.2f} {r['clips_per_s']:>14.1f}"
        )
    lines.append(f"(chance = {chance:.3f}; accuracy on held-out videos)")
    return "\n".join(lines)


def save_chart(rows, chance, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["model"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    y = np.arange(len(rows))[::-1]
    panels = [
        ("validation accuracy", [r["val_acc"] for r in rows], False),
        ("MFLOPs per clip (log)", [r["mflops"] for r in rows], True),
        ("training clips/s (CPU)", [r["clips_per_s"] for r in rows], False),
    ]
    for ax, (title, values, log) in zip(axes, panels, strict=True):
        ax.barh(y, values, color="#4c72b0")
        ax.set_title(title)
        if log:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_yticks(y)
        ax.set_yticklabels(names if ax is axes[0] else [])
    axes[0].axvline(chance, color="#c44e52", linestyle="--", label="chance")
    axes[0].set_xlim(0, 1)
    axes[0].legend(loc="lower right")
    fig.suptitle("Synthetic motion data set: the class is the direction of motion")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def classify_cricket_clip():
    """Kinetics-400 InceptionI3D on the cricket clip of `../shared/data/i3d`.

    Prints the top-5 classes when the converted weights are in the Keras cache,
    otherwise the one command that produces them. Returns the printed rows or
    `None`.
    """
    from keras_video.predict import kinetics_demo

    return kinetics_demo()


def run(output="demo_out", quick=False, seed=0, models=None, verbose=True,
        videos_per_class=None, epochs=None, batch_size=None):  # fmt: skip
    """Runs the demo; returns the table rows (list of dicts)."""
    import shutil

    os.makedirs(output, exist_ok=True)
    defaults = (2, 1, 8) if quick else (128, 12, 8)
    videos_per_class = videos_per_class or defaults[0]
    epochs = epochs or defaults[1]
    batch_size = batch_size or defaults[2]
    data_dir = os.path.join(output, "motion")
    start = time.perf_counter()
    if os.path.isdir(data_dir):
        shutil.rmtree(data_dir)
    write_data(data_dir, videos_per_class, seed)
    x_train, y_train, x_val, y_val = load_arrays(data_dir, seed)
    flow_train, flow_val = optical_flow(x_train), optical_flow(x_val)
    if verbose:
        print(
            f"data: {len(y_train)} training / {len(y_val)} validation videos, "
            f"{len(CLASSES)} classes {CLASSES}, clips {x_train.shape[1:]} "
            f"({time.perf_counter() - start:.1f} s to write, decode and compute flow)"
        )
    # [0, 255] -> [-1, 1]; flow is in pixels per frame, scaled to about [-1, 1].
    x_train, x_val = x_train / 127.5 - 1, x_val / 127.5 - 1
    flow_train, flow_val = flow_train / 4.0, flow_val / 4.0
    rows = []
    for label, description, builder, needs_flow in MODELS:
        if models is not None and label not in models:
            continue
        t0 = time.perf_counter()
        inputs = [x_train, flow_train] if needs_flow else [x_train]
        val_inputs = [x_val, flow_val] if needs_flow else [x_val]
        result = train_one(
            builder,
            inputs,
            y_train,
            val_inputs,
            y_val,
            epochs,
            batch_size,
            seed,
            jit_compile=False,
        )
        rows.append({"model": label, "description": description, **result})
        if verbose:
            print(
                f"  {label:<22} val acc {result['val_acc']:.3f}  "
                f"({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
    chance = 1.0 / len(CLASSES)
    table = format_table(rows, chance)
    with open(os.path.join(output, "comparison.txt"), "w") as f:
        f.write(table + "\n")
    save_chart(rows, chance, os.path.join(output, "comparison.png"))
    if verbose:
        print()
        print(table)
        print(f"chart: {os.path.join(output, 'comparison.png')}")
        print(f"total {time.perf_counter() - start:.0f} s")
    if verbose and not quick:
        print()
        classify_cricket_clip()
    return rows


def _onednn_restart(argv):
    """Re-runs the demo with TensorFlow's oneDNN CPU kernels, if they are off.

    TensorFlow turns oneDNN on by default only on CPUs with AVX-512 VNNI or
    newer; elsewhere (e.g. AVX2) it runs Conv3D with its generic kernels,
    measured here 5 to 100 times slower for the demo's 3D convolutions (a
    strided Conv3D's gradient: 550 ms against 5 ms). `TF_ENABLE_ONEDNN_OPTS` is
    read once, when TensorFlow loads, which `import keras_video` has already
    done, so the process restarts itself with it set. An explicit
    `TF_ENABLE_ONEDNN_OPTS` (e.g. `0`) is left alone.
    """
    if "TF_ENABLE_ONEDNN_OPTS" in os.environ or keras.backend.backend() != "tensorflow":
        return
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"
    os.execv(sys.executable, [sys.executable, "-m", "keras_video.demo", *argv])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    _onednn_restart(argv)
    parser = argparse.ArgumentParser(
        prog="python -m keras_video.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--output", default="demo_out")
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--videos-per-class", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--models", help="comma-separated model labels (default: all)")
    args = parser.parse_args(argv)
    run(args.output, quick=args.quick, seed=args.seed,
        videos_per_class=args.videos_per_class, epochs=args.epochs,
        batch_size=args.batch_size,
        models=args.models.split(",") if args.models else None)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
