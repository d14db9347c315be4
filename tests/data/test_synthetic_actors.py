"""The synthetic multi-actor set: `keras_video.data.synthetic_actors`."""

import numpy as np
import pytest

from keras_video import detection
from keras_video.data import VideoReader
from keras_video.data.synthetic_actors import (
    ACTOR_MOTIONS,
    render_actor_video,
    write_actor_dataset,
)

ARGS = dict(num_frames=24, fps=8, image_size=(48, 48), actor_size=(8, 12))


@pytest.fixture(scope="module")
def actor_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("actors")
    paths = write_actor_dataset(folder, 4, seed=0, validation_split=0.25, **ARGS)
    return folder, paths


def rendered(index, seed=0, frames=False):
    """The actors of video `index` (and its frames): the documented draw."""
    rng = np.random.default_rng([seed, index])
    drawn = render_actor_video(
        rng, ARGS["image_size"], ARGS["num_frames"], (2, 3), ACTOR_MOTIONS,
        ARGS["actor_size"], (0.4, 0.8), 0.2,
    )  # fmt: skip
    return drawn if frames else drawn[1]


def actor_pixels(frame, colour, within=50):
    """(rows, cols) of pixels within L1 `within` of `colour` (actors are >=
    150 apart, the background >= 300 minus its texture)."""
    distance = np.abs(frame.astype(int) - colour.astype(int)).sum(-1)
    return np.nonzero(distance < within)


def test_files_and_frame_counts(actor_set):
    folder, paths = actor_set
    assert [p.rsplit("/", 1)[1] for p in paths] == [
        "video_00000.mp4",
        "video_00001.mp4",
        "video_00002.mp4",
        "video_00003.mp4",
    ]
    for path in paths:
        with VideoReader(path) as reader:
            assert reader.num_frames == 24 and reader.fps == 8
            assert reader.get_frames(range(24)).shape == (24, 48, 48, 3)
    label_map = detection.read_ava_label_map(folder / "label_map.pbtxt")
    assert label_map == {1: "left", 2: "right", 3: "up", 4: "down", 5: "stand"}
    train = detection.read_ava_annotations(folder / "train.csv")
    val = detection.read_ava_annotations(folder / "val.csv")
    assert {r.video_id for r in train} == {f"video_0000{i}" for i in range(3)}
    assert {r.video_id for r in val} == {"video_00003"}
    # Keyframes at 1 s .. duration - 1 s: 24 frames at 8 fps -> 1 and 2.
    assert sorted({r.timestamp for r in train + val}) == [1, 2]
    for video in range(4):
        actors = rendered(video)
        assert 2 <= len(actors) <= 3
        rows = [r for r in train + val if r.video_id == f"video_{video:05d}"]
        assert len(rows) == 2 * len(actors)  # one row per actor and keyframe
        for row in rows:
            actor = actors[row.person_id]
            assert row.action_id == ACTOR_MOTIONS.index(actor["motion"]) + 1
            np.testing.assert_array_equal(
                [row.x1, row.y1, row.x2, row.y2], actor["boxes"][row.timestamp * 8]
            )


def test_boxes_hold_the_actors_pixels_in_the_decoded_keyframe(actor_set):
    folder, paths = actor_set
    rows = detection.read_ava_annotations(folder / "train.csv")
    rows += detection.read_ava_annotations(folder / "val.csv")
    checked = 0
    for (video_id, t), keyframe_rows in detection.group_by_keyframe(rows).items():
        drawn, actors = rendered(int(video_id[-5:]), frames=True)
        with VideoReader(folder / "videos" / f"{video_id}.mp4") as reader:
            frame = reader.get_frames([t * 8])[0]
        for row in keyframe_rows:
            colour = actors[row.person_id]["colour"]
            x1, y1, x2, y2 = np.array([row.x1, row.y1, row.x2, row.y2]) * 48
            # The actor is there: most of its drawn pixels are near its
            # colour in the box (thin parts lose colour to the codec's 4:2:0
            # chroma) ...
            area = np.all(drawn[t * 8] == colour, axis=-1).sum()
            inside = frame[int(y1) : int(y2), int(x1) : int(x2)]
            assert len(actor_pixels(inside, colour, 90)[0]) >= 0.5 * area
            # ... every pixel of its colour is inside its box (1 px of
            # tolerance for the codec's blur at the edges) ...
            ys, xs = actor_pixels(frame, colour)
            assert xs.min() >= x1 - 1 and xs.max() + 1 <= x2 + 1
            assert ys.min() >= y1 - 1 and ys.max() + 1 <= y2 + 1
            # ... and the box is the exact extent of the drawn actor.
            drawn_ys, drawn_xs = np.nonzero(np.all(drawn[t * 8] == colour, axis=-1))
            extent = [drawn_xs.min(), drawn_ys.min(), drawn_xs.max() + 1]
            np.testing.assert_array_equal(
                extent + [drawn_ys.max() + 1], [x1, y1, x2, y2]
            )
            checked += 1
    assert checked >= 12


def test_labels_match_the_motion_in_the_video(actor_set):
    folder, paths = actor_set
    rows = detection.read_ava_annotations(folder / "train.csv")
    rows += detection.read_ava_annotations(folder / "val.csv")
    label_map = detection.read_ava_label_map(folder / "label_map.pbtxt")
    seen = set()
    for row in rows:
        colour = rendered(int(row.video_id[-5:]))[row.person_id]["colour"]
        with VideoReader(folder / "videos" / f"{row.video_id}.mp4") as reader:
            before, after = reader.get_frames(
                [row.timestamp * 8 - 4, row.timestamp * 8 + 3]
            )
        (y0, x0), (y1, x1) = (
            np.mean(actor_pixels(f, colour), axis=1) for f in (before, after)
        )
        dx, dy = x1 - x0, y1 - y0  # 7 frames at >= 0.4 px per frame: >= 2.8 px
        motion = label_map[row.action_id]
        expected = {
            "left": dx < -2 and abs(dy) < 1,
            "right": dx > 2 and abs(dy) < 1,
            "up": dy < -2 and abs(dx) < 1,
            "down": dy > 2 and abs(dx) < 1,
            "stand": abs(dx) < 1 and abs(dy) < 1,
        }[motion]
        assert expected, (row, dx, dy)
        seen.add(motion)
    assert len(seen) >= 3


def test_proposals_cover_every_actor(actor_set):
    folder, _ = actor_set
    truth = detection.read_ava_annotations(folder / "train.csv")
    proposals = detection.group_by_keyframe(
        detection.read_ava_proposals(folder / "train_proposals.csv")
    )
    for row in truth:
        found = proposals[(row.video_id, row.timestamp)]
        boxes = np.array([[p.y1, p.x1, p.y2, p.x2] for p in found])
        iou = detection.ava_evaluation.box_iou(
            [[row.y1, row.x1, row.y2, row.x2]], boxes
        )
        best = int(np.argmax(iou))
        assert iou[0, best] >= 0.5 and 0.8 <= found[best].score < 1.0
    scores = [p.score for group in proposals.values() for p in group]
    assert len(scores) > len(truth)  # false boxes too
    assert min(scores) < 0.8


def test_same_seed_same_files_other_seed_differs(tmp_path, actor_set):
    folder, paths = actor_set
    again = write_actor_dataset(tmp_path / "a", 4, 0, validation_split=0.25, **ARGS)
    other = write_actor_dataset(tmp_path / "b", 4, 1, validation_split=0.25, **ARGS)
    for name in ("train.csv", "val_proposals.csv", "label_map.pbtxt"):
        assert (tmp_path / "a" / name).read_bytes() == (folder / name).read_bytes()
    assert (tmp_path / "b" / "train.csv").read_bytes() != (
        folder / "train.csv"
    ).read_bytes()
    assert open(again[0], "rb").read() == open(paths[0], "rb").read()
    assert open(other[0], "rb").read() != open(paths[0], "rb").read()


def test_actors_never_overlap_and_stay_inside():
    for seed in range(20):
        frames, actors = render_actor_video(np.random.default_rng(seed), (32, 32), 16)
        boxes = np.stack([a["boxes"] for a in actors])  # (actors, frames, 4)
        assert ((boxes >= 0) & (boxes <= 1)).all()
        for i in range(len(actors)):
            for j in range(i):
                a, b = boxes[i], boxes[j]
                apart = (a[:, 2] < b[:, 0]) | (b[:, 2] < a[:, 0])
                apart |= (a[:, 3] < b[:, 1]) | (b[:, 3] < a[:, 1])
                assert apart.all()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(classes=("left", "jump")), "`classes` must be motions"),
        (dict(image_size=(47, 48)), "`image_size` must be even"),
        (dict(num_frames=15, fps=8), "`num_frames` must be an integer of at least"),
        (dict(num_actors=(3, 2)), "`num_actors` must be an int"),
        (dict(background_contrast=0.5), "`background_contrast` must be in"),
        (dict(actor_size=(8, 60)), "`actor_size` must fit in the frame"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        write_actor_dataset(tmp_path, 1, seed=0, **{**ARGS, **kwargs})
