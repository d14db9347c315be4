import hashlib
import json
import os

import numpy as np
import pytest

from keras_video.data import synthetic
from keras_video.data.synthetic import (
    MOTIONS,
    motion_trajectory,
    render_motion_clip,
    write_motion_dataset,
)


def _md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def test_writes_class_folders_of_real_videos(tmp_path):
    import av

    paths = write_motion_dataset(
        tmp_path,
        2,
        seed=1,
        image_size=(32, 32),
        num_frames=8,
        classes=("left", "growing"),
    )
    assert sorted(os.listdir(tmp_path)) == ["growing", "left"]
    assert len(paths) == 4
    with av.open(paths[0]) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        assert container.streams.video[0].codec_context.name == "h264"
    assert len(frames) == 8 and frames[0].shape == (32, 32, 3)


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    kw = dict(image_size=(32, 32), num_frames=8, classes=("up", "clockwise"))
    a = write_motion_dataset(tmp_path / "a", 2, seed=3, **kw)
    b = write_motion_dataset(tmp_path / "b", 2, seed=3, **kw)
    c = write_motion_dataset(tmp_path / "c", 2, seed=4, **kw)
    assert [_md5(p) for p in a] == [_md5(p) for p in b]
    assert all(_md5(p) != _md5(q) for p, q in zip(a, c, strict=True))


def test_motion_is_what_the_class_says():
    rng = np.random.default_rng(0)
    for motion, axis, sign in [
        ("left", 0, -1),
        ("right", 0, 1),
        ("up", 1, -1),
        ("down", 1, 1),
    ]:
        _, info = render_motion_clip(motion, rng, (32, 32), 8)
        d = np.diff(info["center"], axis=0)
        assert np.all(np.sign(d[:, axis]) == sign) and np.all(d[:, 1 - axis] == 0)
    _, info = render_motion_clip("growing", rng, (32, 32), 8)
    assert np.all(np.diff(info["radius"]) > 0)
    _, info = render_motion_clip("shrinking", rng, (32, 32), 8)
    assert np.all(np.diff(info["radius"]) < 0)
    _, info = render_motion_clip("clockwise", rng, (32, 32), 8)
    assert np.all(np.diff(info["angle"]) > 0)
    _, info = render_motion_clip("counterclockwise", rng, (32, 32), 8)
    assert np.all(np.diff(info["angle"]) < 0)
    _, info = render_motion_clip("left", rng, (32, 32), 8)
    assert np.all(np.diff(info["radius"]) == 0) and np.all(np.diff(info["angle"]) == 0)


def test_single_frames_carry_no_class_information():
    """Per-frame statistics are the same in every class.

    Geometry from 2000 trajectories per class (cheap); the rendered object area
    from 40 clips per class. Tolerances are about 3 standard errors.
    """
    n, h, w, t = 2000, 32, 32, 8
    pooled_log_radius = []
    for motion in MOTIONS:
        rng = np.random.default_rng([7, MOTIONS.index(motion)])
        geo = [motion_trajectory(motion, rng, (h, w), t) for _ in range(n)]
        xy = np.mod(np.stack([g[0] for g in geo]), (w, h)) / (w, h)  # (n, t, 2)
        angle = np.mod(np.stack([g[1] for g in geo]), 2 * np.pi) / (2 * np.pi)
        log_radius = np.log(np.stack([g[2] for g in geo]))
        for frame in (0, t // 2, t - 1):  # every frame, not only on average
            for values in (xy[:, frame, 0], xy[:, frame, 1], angle[:, frame]):
                quarters = np.histogram(values, bins=4, range=(0, 1))[0] / n
                np.testing.assert_allclose(quarters, 0.25, atol=0.03, err_msg=motion)
        pooled_log_radius.append(np.sort(log_radius.ravel()))
    # Size of a random frame: the same distribution (compare quantiles).
    quantiles = np.quantile(np.stack(pooled_log_radius), [0.1, 0.5, 0.9], axis=1)
    assert np.ptp(quantiles, axis=1).max() < 0.05, quantiles
    areas = []
    for motion in MOTIONS:
        rng = np.random.default_rng([8, MOTIONS.index(motion)])
        areas.append(
            np.mean(
                [
                    render_motion_clip(motion, rng, (h, w), t)[1]["mask"].mean()
                    for _ in range(40)
                ]
            )
        )
    areas = np.asarray(areas)
    assert np.all(np.abs(areas / areas.mean() - 1) < 0.25), areas


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="classes"):
        write_motion_dataset(tmp_path, 1, seed=0, classes=("sideways",))
    with pytest.raises(ValueError, match="image_size"):
        write_motion_dataset(tmp_path, 1, seed=0, image_size=(33, 32))
    with pytest.raises(ValueError, match="num_videos_per_class"):
        write_motion_dataset(tmp_path, 0, seed=0)
    with pytest.raises(NotImplementedError):
        synthetic.write_detection_dataset(tmp_path, 1, seed=0)


def test_localization_dataset_actions_at_annotated_times(tmp_path):
    from keras_video.data.video import VideoReader
    from keras_video.detection import read_activitynet_json

    paths = synthetic.write_localization_dataset(
        tmp_path, 4, seed=0, num_frames=120, image_size=(32, 32), fps=10,
        actions_per_video=(1, 3), action_frames=(16, 30), validation_split=0.25,
    )  # fmt: skip
    records = read_activitynet_json(tmp_path / "annotations.json")
    database = json.loads((tmp_path / "annotations.json").read_text())["database"]
    assert [database[v]["subset"] for v in sorted(database)] == ["training"] * 3 + [
        "validation"
    ]
    assert {r.label for r in records} <= {"left", "right", "up", "down"}
    for path in paths:
        video_id = os.path.splitext(os.path.basename(path))[0]
        mine = sorted(
            (r for r in records if r.video == video_id), key=lambda r: r.start
        )
        assert 1 <= len(mine) <= 3
        with VideoReader(path) as reader:
            frames = reader.get_frames(range(reader.num_frames)).astype(np.int16)
            stamps = reader.timestamps
            assert reader.num_frames == 120
        assert database[video_id]["duration"] == 12.0
        inside = np.zeros(120, bool)
        for r, entry in zip(mine, database[video_id]["annotations"], strict=True):
            first, end = entry["frames"]
            assert 16 <= end - first <= 30 and 0 <= r.start and r.end <= 12.0
            # start / fps and end / fps (exact fractions, rounded once).
            assert r.start == first / 10 == pytest.approx(stamps[first], abs=1e-12)
            assert r.end == end / 10 == pytest.approx(stamps[end - 1] + 0.1, abs=1e-12)
            inside[first:end] = True
        for a, b in zip(mine, mine[1:], strict=False):
            assert a.end < b.start  # at least one background frame between
        background = frames[~inside]
        # Outside the actions nothing moves (but for the codec's small errors);
        # inside, a shape (colour far from the background) covers part of it.
        still = np.abs(background - background[0])
        assert still.mean() < 2 and still.max() <= 24
        shape = np.abs(frames[inside] - background[0]).max(axis=(1, 2, 3))
        assert shape.min() >= 48


def test_localization_dataset_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="num_frames"):
        synthetic.write_localization_dataset(tmp_path, 1, seed=0, num_frames=100)
    with pytest.raises(ValueError, match="classes"):
        synthetic.write_localization_dataset(tmp_path, 1, seed=0, classes=("jump",))
    with pytest.raises(ValueError, match="actions_per_video"):
        synthetic.write_localization_dataset(
            tmp_path, 1, seed=0, actions_per_video=(3, 1)
        )
