"""`keras_video.detection.localizer`: shapes, saving, backends and training."""

import time

import keras
import numpy as np
import pytest

from keras_video import detection
from keras_video.detection.localizer import Scale
from tests.helpers import assert_same_outputs_on_backend

T, C, LEVELS, K = 64, 6, 4, 3


def tiny(**kwargs):
    config = dict(
        num_classes=K,
        input_dim=C,
        sequence_length=T,
        num_levels=LEVELS,
        embed_dim=8,
        num_stem_convs=1,
        num_head_convs=1,
    )
    config.update(kwargs)
    return detection.TemporalLocalizer(**config)


def test_output_shapes_match_the_points():
    model = tiny()
    x = np.random.default_rng(0).normal(size=(2, T, C)).astype("float32")
    out = model(x)
    points, _ = detection.temporal_points(T, LEVELS)
    assert len(points) == 64 + 32 + 16 + 8
    assert tuple(out["classification"].shape) == (2, len(points), K)
    assert tuple(out["regression"].shape) == (2, len(points), 2)
    assert np.all(keras.ops.convert_to_numpy(out["regression"]) >= 0)
    # the classification bias starts every class at probability ~0.01
    probs = keras.ops.convert_to_numpy(keras.ops.sigmoid(out["classification"]))
    assert 0.001 < np.median(probs) < 0.1
    # the head is shared: one set of head weights, one scale per level
    names = [w.path for w in model.weights]
    assert sum("cls_head_output" in n for n in names) == 2  # kernel, bias
    assert sum(n.endswith("scale") for n in names) == LEVELS


def test_any_length_and_one_level():
    model = tiny(sequence_length=None)
    out = model(np.zeros((1, 16, C), "float32"))
    assert tuple(out["regression"].shape) == (1, 16 + 8 + 4 + 2, 2)
    model = tiny(num_levels=1)
    out = model(np.zeros((1, T, C), "float32"))
    assert tuple(out["classification"].shape) == (1, T, K)


def test_bad_arguments():
    with pytest.raises(ValueError, match="multiple of"):
        tiny(sequence_length=60)
    with pytest.raises(ValueError, match="num_classes"):
        tiny(num_classes=0)
    with pytest.raises(ValueError, match="prior_probability"):
        tiny(prior_probability=1.0)


def test_scale_layer_config():
    layer = Scale(2.5, name="s")
    assert Scale.from_config(layer.get_config()).value == 2.5
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(np.ones((1, 2)))), 2.5)


def test_keras_round_trip_safe_mode(tmp_path):
    model = tiny()
    x = np.random.default_rng(1).normal(size=(1, T, C)).astype("float32")
    path = tmp_path / "localizer.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    for key in ("classification", "regression"):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(restored(x)[key]),
            keras.ops.convert_to_numpy(model(x)[key]),
            atol=1e-6,
        )


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_same_outputs_on_every_backend(backend, tmp_path):
    """A model saved on this backend loads and computes the same on another."""
    x = np.random.default_rng(2).normal(size=(2, T, C)).astype("float32")
    assert_same_outputs_on_backend(tiny(), x, backend, tmp_path, atol=1e-4)


def synthetic_videos(num_videos, rng):
    """Features: noise, plus 1 on channel `k` inside each segment of class `k`."""
    features, segments, labels = [], [], []
    for _ in range(num_videos):
        x = rng.normal(0.0, 0.3, (T, C)).astype("float32")
        found, classes = [], []
        t = int(rng.integers(0, 6))
        while True:
            length = int(rng.integers(4, 20))
            if t + length > T:
                break
            k = int(rng.integers(K))
            x[t : t + length, k] += 1.0
            found.append([t, t + length])
            classes.append(k)
            t += length + int(rng.integers(2, 10))
        features.append(x)
        segments.append(np.array(found, dtype=np.float64).reshape(-1, 2))
        labels.append(np.array(classes, dtype=np.int64))
    return np.stack(features), segments, labels


def test_training_reaches_map_on_synthetic_features():
    seconds = 0.5  # per snippet
    rng = np.random.default_rng(0)
    x_train, seg_train, lab_train = synthetic_videos(64, rng)
    x_test, seg_test, lab_test = synthetic_videos(16, rng)
    encoder = detection.TemporalLabelEncoder(
        K, T, num_levels=LEVELS, snippet_duration=seconds
    )
    y_train = encoder.encode_batch([s * seconds for s in seg_train], lab_train)

    keras.utils.set_random_seed(0)
    model = tiny(embed_dim=16)
    model.compile(
        keras.optimizers.Adam(3e-3),
        loss={
            "classification": detection.SigmoidFocalLoss(),
            "regression": detection.DIoULoss(),
        },
    )
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=8, epochs=30, verbose=0)  # 240 steps
    found = detection.decode_detections(
        model.predict(x_test, verbose=0), T, LEVELS, snippet_duration=seconds
    )
    names = ["a", "b", "c"]
    videos = [f"v{i}" for i in range(len(x_test))]
    ground_truth = {
        "database": {
            video: {
                "subset": "validation",
                "annotations": [
                    {"segment": [float(a), float(b)], "label": names[k]}
                    for (a, b), k in zip(segs * seconds, labs, strict=True)
                ],
            }
            for video, segs, labs in zip(videos, seg_test, lab_test, strict=True)
        }
    }
    results = detection.to_activitynet_results(found, videos, names)
    result = detection.activitynet_map(ground_truth, results, tiou_thresholds=[0.5])
    elapsed = time.perf_counter() - start
    print(f"mAP@0.5 {result['mAP'][0]:.4f} in {elapsed:.1f} s")
    assert result["mAP"][0] > 0.9


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_training_step(policy):
    """Under a mixed policy the layers compute in half precision, the
    outputs and losses stay float32 and finite, and a step changes the
    weights (what the localisation recipe does on a GPU)."""
    rng = np.random.default_rng(1)
    x, segments, labels = synthetic_videos(4, rng)
    encoder = detection.TemporalLabelEncoder(K, T, num_levels=LEVELS)
    y = encoder.encode_batch(segments, labels)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        model = tiny()
    finally:
        keras.config.set_dtype_policy(previous)
    assert model.get_layer("stem0_conv").compute_dtype == policy.split("_")[1]
    optimizer = keras.optimizers.Adam(1e-3)
    if policy == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(
        optimizer,
        loss={"classification": detection.SigmoidFocalLoss(),
              "regression": detection.DIoULoss()},
    )  # fmt: skip
    before = [np.array(w) for w in model.trainable_weights]
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert all(np.isfinite(v) for v in history.history["loss"])
    outputs = model.predict(x, verbose=0)
    assert outputs["classification"].dtype == np.float32
    assert np.isfinite(outputs["regression"]).all()
    after = [np.array(w) for w in model.trainable_weights]
    assert any(not np.allclose(a, b) for a, b in zip(before, after, strict=True))
