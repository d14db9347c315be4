"""Two-stream on the synthetic motion set: single-frame RGB, flow alone, fused.

The notes' point, measured: on the motion data set (the class is the direction
in which a shape moves; one frame carries no class information) a single-frame
RGB model stays near chance and the optical-flow stream alone learns the
direction. Three models, trained with the same budget (epochs, optimizer and
schedule, batch size, seed, the same clips), all fed by
`keras_video.data.video_dataset_from_directory`:

- single-frame RGB: `SingleFrame` (2D CNN per frame, per-frame scores
  averaged), `modality="rgb"`;
- flow stream: `EarlyFusion` on the flow, `(T, H, W, 2)` with the frames'
  x/y flow stacked on channels by its first convolution (`TwoStream`'s
  default temporal stream), `modality="flow"`;
- two-stream: `TwoStream(rgb_model=..., flow_model=..., fusion=...)` with
  those two streams, `modality="rgb+flow"`.

    nice python recipes/two_stream/motion_two_stream.py [--fusions average,sum]

Data as in `python -m keras_video.demo`: 4 translation classes, 32x32,
16-frame videos, clips of 8 frames every 2nd frame, 128 videos per class
(384 train / 128 validation). Flow (DIS, pixels per frame, between
consecutive source frames) is precomputed once with
`keras_video.flow.extract_dataset_flow` (uint8 JPEG x/y frames, bound 20)
and read by the pipeline (`flow_dir`); `--flow-on-the-fly` computes it in the
pipeline instead. Each data set is read once through the pipeline and cached
in memory (one clip per video, as the demo's arrays), then shuffled each
epoch. Heads max-pool their features over
the clip, as the demo's (`keras_video.demo._zoo` explains why). Validation
accuracy is on the held-out videos, one clip per video (a clip spans the
whole 16-frame video, so clip and video accuracy are the same).

A recipe, not a benchmark: it trains models end to end and compares their
accuracy; `benchmarks/` measures throughput against named peers.
"""

import argparse
import os
import shutil
import sys
import time

# TensorFlow reads this once, when it loads: its oneDNN CPU kernels make 3D
# and strided convolutions 5-100x faster on AVX2 CPUs (see
# `keras_video.demo._onednn_restart`). Set before Keras imports TensorFlow.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

CLASSES = ("left", "right", "up", "down")
CLIP_LENGTH = 8
FRAME_STEP = 2
IMAGE_SIZE = (32, 32)
TINY = dict(base_filters=8, depth=3)


def rgb_stream(classes, dropout_rate=0.5):
    """`SingleFrame`: per-frame max-pooled maps, per-frame logits averaged."""
    from keras_video.applications import SingleFrame

    return SingleFrame(
        input_shape=(CLIP_LENGTH, *IMAGE_SIZE, 3), classes=classes,
        classifier_activation=None, frame_pooling="max",
        dropout_rate=dropout_rate, name="rgb_stream", **TINY,
    )  # fmt: skip


def flow_stream(classes, dropout_rate=0.5):
    """`EarlyFusion` on `(T, H, W, 2)` flow, max-pooled features, logits."""
    from keras_video.applications import EarlyFusion

    base = EarlyFusion(
        include_top=False, pooling="max",
        input_shape=(CLIP_LENGTH, *IMAGE_SIZE, 2), name="flow_cnn", **TINY,
    )  # fmt: skip
    x = keras.layers.Dropout(dropout_rate, name="dropout")(base.output)
    x = keras.layers.Dense(classes, name="logits")(x)
    return keras.Model(base.input, x, name="flow_stream")


def with_softmax(stream, name):
    x = keras.layers.Activation("softmax", name="softmax")(stream.output)
    return keras.Model(stream.input, x, name=name)


def build(kind, classes):
    """`kind`: `"rgb"`, `"flow"` or `"two_stream:<fusion>"`."""
    if kind == "rgb":
        return with_softmax(rgb_stream(classes), "single_frame")
    if kind == "flow":
        return with_softmax(flow_stream(classes), "flow_stream_alone")
    from keras_video.applications import TwoStream

    fusion = kind.split(":", 1)[1]
    return TwoStream(
        input_shape=(CLIP_LENGTH, *IMAGE_SIZE, 3), classes=len(CLASSES),
        rgb_model=rgb_stream(classes), flow_model=flow_stream(classes),
        fusion=fusion, name=f"two_stream_{fusion}",
    )  # fmt: skip


def datasets(data_dir, modality, seed, batch_size, flow_scale, flow_method, flow_dir):
    """Train and validation datasets of `modality`, decoded once and cached."""
    import tensorflow as tf

    from keras_video.data import video_dataset_from_directory

    train, val = video_dataset_from_directory(
        data_dir, clip_length=CLIP_LENGTH, frame_step=FRAME_STEP,
        image_size=IMAGE_SIZE, batch_size=64, seed=seed, validation_split=0.25,
        subset="both", class_names=list(CLASSES), modality=modality,
        flow_dir=flow_dir, flow_method=flow_method, verbose=False,
    )  # fmt: skip

    def scale(x, y):
        # RGB [0, 255] -> [-1, 1]; flow in pixels per frame / flow_scale.
        if modality == "rgb":
            return x / 127.5 - 1.0, y
        if modality == "flow":
            return x / flow_scale, y
        return (x[0] / 127.5 - 1.0, x[1] / flow_scale), y

    def cached(ds):
        ds = ds.map(scale).unbatch().cache()
        n = sum(1 for _ in ds)  # one pass: decodes and computes flow once
        return ds, n

    train, n_train = cached(train)
    val, n_val = cached(val)
    train = train.apply(tf.data.experimental.assert_cardinality(n_train))
    train = train.shuffle(n_train, seed=seed, reshuffle_each_iteration=True)
    train = train.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    return train, val.batch(64), n_train, n_val


def train_one(kind, data, epochs, batch_size, seed, learning_rate=3e-3):
    """The demo's budget: AdamW, warm-up + cosine decay, `epochs` epochs."""
    from keras_video.training.schedules import WarmupCosineDecay

    train, val, n_train, n_val = data
    keras.utils.set_random_seed(seed)
    model = build(kind, len(CLASSES))
    steps = int(np.ceil(n_train / batch_size)) * epochs
    schedule = WarmupCosineDecay(learning_rate, steps, warmup_steps=steps // 10)
    model.compile(
        keras.optimizers.AdamW(schedule, weight_decay=1e-4),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=False,
    )
    start = time.perf_counter()
    # The dataset reshuffles itself each epoch.
    model.fit(train, epochs=epochs, shuffle=False, verbose=0)
    seconds = time.perf_counter() - start
    labels, probs = [], []
    for x, y in val:
        x = list(x) if isinstance(x, tuple) else x
        probs.append(keras.ops.convert_to_numpy(model(x, training=False)))
        labels.append(y.numpy())
    labels, probs = np.concatenate(labels), np.concatenate(probs)
    return {
        "val_acc": float(np.mean(np.argmax(probs, -1) == labels)),
        "params": model.count_params(),
        "seconds": seconds,
    }


def format_table(rows, chance):
    header = f"{'model':<24} {'input':<9} {'val acc':>8} {'params':>8} {'train s':>8}"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['model']:<24} {r['input']:<9} {r['val_acc']:>8.3f} "
            f"{r['params']:>8,d} {r['seconds']:>8.1f}"
        )
    lines.append(f"(chance = {chance:.3f}; accuracy on held-out videos)")
    return "\n".join(lines)


def run(output="two_stream_out", videos_per_class=128, epochs=12, batch_size=8,
        seed=0, fusions=("average",), flow_scale=2.0, flow_method="dis",
        precompute=True, verbose=True):  # fmt: skip
    from keras_video.data import write_motion_dataset
    from keras_video.flow import extract_dataset_flow

    data_dir = os.path.join(output, "motion")
    flow_dir = os.path.join(output, "motion_flow") if precompute else None
    for folder in (data_dir, flow_dir):
        if folder and os.path.isdir(folder):
            shutil.rmtree(folder)
    start = time.perf_counter()
    write_motion_dataset(
        data_dir, videos_per_class, seed=seed, image_size=IMAGE_SIZE,
        num_frames=CLIP_LENGTH * 2, classes=CLASSES,
    )  # fmt: skip
    if precompute:
        t0 = time.perf_counter()
        report = extract_dataset_flow(
            data_dir, flow_dir, flow_method, workers=1, verbose=False
        )
        if report["failed"]:
            raise RuntimeError(f"flow extraction failed: {report['failed']}")
        if verbose:
            print(
                f"flow ({flow_method}) of every video into {flow_dir} "
                f"({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
    models = [
        ("single-frame RGB", "rgb", "rgb"),
        ("flow stream alone", "flow", "flow"),
        *[(f"two-stream ({f})", f"two_stream:{f}", "rgb+flow") for f in fusions],
    ]
    data = {}
    for modality in dict.fromkeys(m for _, _, m in models):
        t0 = time.perf_counter()
        data[modality] = datasets(
            data_dir, modality, seed, batch_size, flow_scale, flow_method, flow_dir
        )
        if verbose:
            _, _, n_train, n_val = data[modality]
            print(
                f"data {modality}: {n_train} train / {n_val} val clips "
                f"({time.perf_counter() - t0:.1f} s to decode"
                f"{' and compute flow' if 'flow' in modality else ''})",
                flush=True,
            )
    rows = []
    for label, kind, modality in models:
        result = train_one(kind, data[modality], epochs, batch_size, seed)
        rows.append({"model": label, "input": modality, **result})
        if verbose:
            print(
                f"  {label:<24} val acc {result['val_acc']:.3f} "
                f"({result['seconds']:.1f} s)",
                flush=True,
            )
    table = format_table(rows, 1.0 / len(CLASSES))
    with open(os.path.join(output, "two_stream.txt"), "w") as f:
        f.write(table + "\n")
    if verbose:
        print()
        print(table)
        print(f"total {time.perf_counter() - start:.0f} s")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", default="two_stream_out")
    parser.add_argument("--videos-per-class", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--fusions", default="average",
        help="comma-separated TwoStream fusions of the streams' logits: average, "
        "weighted, sum",
    )  # fmt: skip
    parser.add_argument(
        "--flow-scale", type=float, default=2.0,
        help="flow (pixels per frame) is divided by this before the network",
    )  # fmt: skip
    parser.add_argument("--flow-method", default="dis")
    parser.add_argument(
        "--flow-on-the-fly", action="store_true",
        help="compute flow in the pipeline instead of precomputing it once "
        "with keras_video.flow.extract_dataset_flow (uint8 JPEG, bound 20)",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.videos_per_class, args.epochs = 4, 1
    run(args.output, args.videos_per_class, args.epochs, args.batch_size,
        args.seed, tuple(args.fusions.split(",")), args.flow_scale,
        args.flow_method, not args.flow_on_the_fly)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
