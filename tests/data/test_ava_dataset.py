"""`keras_video.data.ava_dataset`: AVA keyframes as clips, boxes, labels."""

import numpy as np
import pytest

from keras_video.data import write_video
from keras_video.data.ava_dataset import ava_dataset, crop_and_flip_boxes
from keras_video.detection import AVAAnnotation, AVAProposal

RED, BLUE = np.array([230, 20, 20]), np.array([20, 20, 230])


def frame_index_video(path, num_frames=25, fps=10, size=(32, 32)):
    """Flat frames whose red level is 8 * index: the clip tells its frames."""
    frames = np.zeros((num_frames, *size, 3), np.uint8)
    frames[..., 0] = (8 * np.arange(num_frames))[:, None, None]
    frames[..., 1] = 128
    return write_video(path, frames, fps=fps)


def two_boxes_video(path, num_frames=40, fps=4, size=(48, 96)):
    """A static grey scene with a red and a blue rectangle."""
    frames = np.full((num_frames, *size, 3), 128, np.uint8)
    frames[:, 8:24, 20:40] = RED  # rows 8-23, columns 20-39
    frames[:, 20:40, 56:72] = BLUE
    return write_video(path, frames, fps=fps)


def rows_for(video, boxes, seconds):
    """AVA rows: actor 0 (red) does action 1, actor 1 (blue) actions 2, 3."""
    h, w = 48, 96
    red = (20 / w, 8 / h, 40 / w, 24 / h)
    blue = (56 / w, 20 / h, 72 / w, 40 / h)
    rows = []
    for t in seconds:
        rows.append(AVAAnnotation(video, t, *red, 1, 0))
        if boxes == 2:
            rows += [AVAAnnotation(video, t, *blue, a, 1) for a in (2, 3)]
    return rows


def test_crop_and_flip_boxes_by_hand():
    # Window rows 0-39, columns 5-44 (40 x 40) resized to 20 x 20 (scale
    # 0.5): x' = (x - 5) / 2, y' = y / 2. [10, 10, 30, 20] -> [2.5, 5, 12.5,
    # 10]; mirrored in a 20-wide frame: [20 - 12.5, 5, 20 - 2.5, 10].
    boxes = [[10, 10, 30, 20], [0, 30, 10, 50], [50, 0, 60, 10], [44, 0, 45, 40]]
    out, keep = crop_and_flip_boxes(boxes, (0, 5, 40, 40), (20, 20))
    np.testing.assert_array_equal(out[0], [2.5, 5, 12.5, 10])
    # Partly outside: clipped, [0, 30, 10, 50] -> [0, 15, 2.5, 20].
    np.testing.assert_array_equal(out[1], [0, 15, 2.5, 20])
    # Right of the window: no area left -> dropped.
    assert keep.tolist() == [True, True, False, True]
    flipped, keep_flipped = crop_and_flip_boxes(boxes, (0, 5, 40, 40), (20, 20), True)
    np.testing.assert_array_equal(flipped[0], [7.5, 5, 17.5, 10])
    np.testing.assert_array_equal(flipped[1], [17.5, 15, 20, 20])
    assert keep_flipped.tolist() == keep.tolist()
    # A mirror mirrors exactly: x1' = w - x2, x2' = w - x1, y unchanged.
    np.testing.assert_array_equal(
        flipped[:, [2, 1, 0, 3]] * [-1, 1, -1, 1] + [20, 0, 20, 0], out
    )


def test_clip_centred_on_keyframe_and_edges_repeat(tmp_path):
    frame_index_video(tmp_path / "v.mp4")  # 25 frames at 10 fps
    rows = [AVAAnnotation("v", t, 0.0, 0.0, 1.0, 1.0, 1, 0) for t in (0, 1, 2)]
    ds = ava_dataset(
        tmp_path, rows, [1], keyframe_range=None, clip_length=8, frame_step=2,
        image_size=(32, 32), shuffle=False, batch_size=None,
    )  # fmt: skip
    # Frame k of the clip is key + (k - 4) * 2; outside [0, 24] repeats the
    # first / last frame. Keyframe t s is frame 10 t.
    expected = {
        0: [0, 0, 0, 0, 0, 2, 4, 6],
        1: [2, 4, 6, 8, 10, 12, 14, 16],
        2: [12, 14, 16, 18, 20, 22, 24, 24],
    }
    for (features, labels, mask), t in zip(ds, (0, 1, 2), strict=True):
        red = features["clip"].numpy()[..., 0].mean(axis=(1, 2))
        np.testing.assert_allclose(red, 8 * np.array(expected[t]), atol=3)
        # The whole frame is the crop: the box is (0, 0, 32, 32) pixels.
        np.testing.assert_array_equal(features["boxes"].numpy(), [[0, 0, 32, 32]])
        assert labels.numpy().tolist() == [[1.0]] and mask.numpy().tolist() == [1.0]


def test_time_offset_and_keyframe_outside_the_video(tmp_path):
    frame_index_video(tmp_path / "v.mp4")
    rows = [AVAAnnotation("v", 901, 0.0, 0.0, 1.0, 1.0, 1, 0)]
    ds = ava_dataset(
        tmp_path, rows, [1], keyframe_range=None, time_offset=900, clip_length=2,
        frame_step=1, image_size=(32, 32), shuffle=False, batch_size=None,
    )  # fmt: skip
    red = next(iter(ds))[0]["clip"].numpy()[..., 0].mean(axis=(1, 2))
    np.testing.assert_allclose(red, [8 * 9, 8 * 10], atol=3)  # key = frame 10
    late = [AVAAnnotation("v", 3, 0.0, 0.0, 1.0, 1.0, 1, 0)]  # video is 2.5 s
    ds = ava_dataset(
        tmp_path, late, [1], keyframe_range=None, clip_length=2, image_size=32,
        shuffle=False,
    )  # fmt: skip
    with pytest.raises(Exception, match=r"Keyframe at 3 s .* is outside .*v\.mp4"):
        next(iter(ds))
    ds = ava_dataset(
        tmp_path, late + rows, [1], keyframe_range=None, time_offset=0,
        clip_length=2, image_size=32, shuffle=False, on_error="skip",
        batch_size=None,
    )  # fmt: skip
    assert len(list(ds)) == 0  # 3 s and 901 s are both outside
    assert str(tmp_path / "v.mp4") in ds.skipped_files.files


def keyframe_pixels(clip, colour):
    """(rows, cols) of the keyframe's pixels near `colour`."""
    frame = clip[clip.shape[0] // 2]
    return np.nonzero(np.abs(frame - colour).sum(-1) < 90)


def test_augmented_boxes_follow_crop_scale_and_flip(tmp_path):
    two_boxes_video(tmp_path / "v.mp4")  # 48 x 96 frames, 10 s at 4 fps
    ds = ava_dataset(
        tmp_path, rows_for("v", 2, range(1, 10)), {1: "a", 2: "b", 3: "c"},
        keyframe_range=None, clip_length=4, image_size=(32, 32), short_side=32,
        augment=True, seed=3, batch_size=None,
    )  # fmt: skip
    flips = dropped = 0
    for _ in range(3):  # epochs: new crops
        for features, labels, mask in ds:
            clip, boxes = features["clip"].numpy(), features["boxes"].numpy()
            labels, mask = labels.numpy(), mask.numpy()
            seen = {}
            for colour, name, label in (
                (RED, "red", [1, 0, 0]),
                (BLUE, "blue", [0, 1, 1]),
            ):
                ys, xs = keyframe_pixels(clip, colour)
                rows = [i for i in range(2) if mask[i] and labels[i].tolist() == label]
                if not rows:  # dropped: the actor is out of the crop
                    assert len(xs) == 0
                    dropped += 1
                    continue
                x1, y1, x2, y2 = boxes[rows[0]]
                # The actor is in its box (1 px for the resize's blur) and
                # fills it: the box moved, scaled and flipped with the clip.
                assert xs.min() >= x1 - 1 and xs.max() + 1 <= x2 + 1
                assert ys.min() >= y1 - 1 and ys.max() + 1 <= y2 + 1
                assert len(xs) >= 0.5 * (x2 - x1) * (y2 - y1)
                seen[name] = xs.mean()
            if len(seen) == 2 and seen["red"] > seen["blue"]:
                flips += 1  # red is left of blue in the video
            # Kept boxes first, padding zero.
            n = int(mask.sum())
            assert mask.tolist() == [1.0] * n + [0.0] * (2 - n)
            assert not boxes[n:].any() and not labels[n:].any()
    assert flips >= 2 and dropped >= 1


def test_centre_crop_clips_and_drops_boxes(tmp_path):
    two_boxes_video(tmp_path / "v.mp4")  # 48 x 96
    # Short side 48 -> no resize; the 48 x 48 centre crop is columns 24-71:
    # red (columns 20-39) is cut to columns 24-39 -> x 0..16; blue (56-71)
    # -> x 32..48. A third box at columns 0-15 is outside: dropped.
    rows = rows_for("v", 2, [1])
    rows.insert(1, AVAAnnotation("v", 1, 0.0, 0.0, 16 / 96, 0.5, 3, 2))
    ds = ava_dataset(
        tmp_path, rows, [1, 2, 3], keyframe_range=None, clip_length=2,
        image_size=(48, 48), shuffle=False, batch_size=None, with_metadata=True,
    )  # fmt: skip
    features, labels, mask, metadata = next(iter(ds))
    np.testing.assert_allclose(
        features["boxes"].numpy(), [[0, 8, 16, 24], [32, 20, 48, 40], [0, 0, 0, 0]]
    )
    np.testing.assert_array_equal(labels.numpy(), [[1, 0, 0], [0, 1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(mask.numpy(), [1, 1, 0])
    # The metadata keep the file's boxes (for detection rows), same order.
    np.testing.assert_allclose(
        metadata["source_boxes"].numpy()[:2],
        [[20 / 96, 8 / 48, 40 / 96, 24 / 48], [56 / 96, 20 / 48, 72 / 96, 40 / 48]],
        rtol=1e-6,
    )
    assert metadata["video_id"].numpy() == b"v" and metadata["timestamp"] == 1


def test_proposals_threshold_order_and_labels(tmp_path):
    two_boxes_video(tmp_path / "v.mp4")
    h, w = 48, 96
    truth = rows_for("v", 2, [1])
    proposals = [
        AVAProposal("v", 1, 21 / w, 8 / h, 40 / w, 24 / h, 0.85),  # red, IoU 0.95
        AVAProposal("v", 1, 0.0, 0.0, 0.1, 0.1, 0.95),  # a false box
        AVAProposal("v", 1, 56 / w, 20 / h, 72 / w, 40 / h, 0.9),  # blue
        AVAProposal("v", 1, 56 / w, 20 / h, 72 / w, 40 / h, 0.5),  # below 0.8
        AVAProposal("v", 2, 56 / w, 20 / h, 72 / w, 40 / h, 0.7),  # keyframe 2: none
    ]
    ds = ava_dataset(
        tmp_path, truth, [1, 2, 3], boxes=proposals, keyframe_range=None,
        clip_length=2, image_size=(48, 96), full_frame=True, shuffle=False,
        batch_size=None,
        with_metadata=True,
    )  # fmt: skip
    assert ds.keyframes == [("v", 1)]
    features, labels, mask, metadata = next(iter(ds))
    # By descending score: false box (0.95), blue (0.9), red (0.85).
    np.testing.assert_allclose(metadata["scores"].numpy(), [0.95, 0.9, 0.85])
    np.testing.assert_array_equal(labels.numpy(), [[0, 0, 0], [0, 1, 1], [1, 0, 0]])
    np.testing.assert_allclose(
        features["boxes"].numpy()[1], [56, 20, 72, 40], atol=1e-4
    )
    # Without annotations (a test set): the same boxes, no labels.
    ds = ava_dataset(
        tmp_path, None, [1, 2, 3], boxes=proposals, proposal_score_threshold=None,
        keyframe_range=None, clip_length=2, image_size=(48, 96), full_frame=True,
        shuffle=False,
        batch_size=None,
    )  # fmt: skip
    assert ds.keyframes == [("v", 1), ("v", 2)] and ds.max_boxes == 4
    assert not any(labels.numpy().any() for _, labels, _ in ds)


def test_keyframe_range_exclusions_padding_and_max_boxes(tmp_path):
    two_boxes_video(tmp_path / "v.mp4")
    rows = rows_for("v", 2, [1, 2, 3]) + rows_for("v", 1, [4])
    common = dict(
        clip_length=2, image_size=(48, 96), full_frame=True, shuffle=False, batch_size=2
    )
    ds = ava_dataset(tmp_path, rows, [1, 2, 3], keyframe_range=(2, 4),
                     excluded=[("v", 3)], **common)  # fmt: skip
    assert ds.keyframes == [("v", 2), ("v", 4)] and ds.max_boxes == 2
    features, labels, mask = next(iter(ds))
    assert features["clip"].shape == (2, 2, 48, 96, 3)
    assert features["boxes"].shape == (2, 2, 4) and labels.shape == (2, 2, 3)
    np.testing.assert_array_equal(mask.numpy(), [[1, 1], [1, 0]])  # padded
    assert not features["boxes"].numpy()[1, 1].any()
    with pytest.warns(UserWarning, match="3 keyframes have more than max_boxes=1"):
        ds = ava_dataset(tmp_path, rows, [1, 2, 3], keyframe_range=None,
                         max_boxes=1, **common)  # fmt: skip
    np.testing.assert_array_equal(next(iter(ds))[2].numpy(), [[1], [1]])


def test_same_seed_same_elements(tmp_path):
    two_boxes_video(tmp_path / "v.mp4")
    kwargs = dict(keyframe_range=None, clip_length=2, image_size=(32, 32),
                  augment=True, seed=5, batch_size=4)  # fmt: skip
    first = [
        b[0]["boxes"].numpy()
        for b in ava_dataset(
            tmp_path, rows_for("v", 2, range(1, 9)), [1, 2, 3], **kwargs
        )
    ]
    again = [
        b[0]["boxes"].numpy()
        for b in ava_dataset(
            tmp_path, rows_for("v", 2, range(1, 9)), [1, 2, 3], **kwargs
        )
    ]
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate(again))


def test_fits_a_keras_model_with_box_mask_as_sample_weight(tmp_path):
    import keras

    two_boxes_video(tmp_path / "v.mp4")
    ds = ava_dataset(
        tmp_path, rows_for("v", 2, range(1, 5)), [1, 2, 3], keyframe_range=None,
        clip_length=2, image_size=(16, 16), augment=True, seed=0, batch_size=2,
    )  # fmt: skip
    clip = keras.Input((2, 16, 16, 3), name="clip")
    boxes = keras.Input((2, 4), name="boxes")
    pooled = keras.layers.GlobalAveragePooling3D()(clip)
    per_box = keras.layers.Concatenate()([boxes, keras.layers.RepeatVector(2)(pooled)])
    scores = keras.layers.Dense(3, activation="sigmoid")(per_box)
    model = keras.Model({"clip": clip, "boxes": boxes}, scores)
    model.compile("sgd", "binary_crossentropy")
    history = model.fit(ds, epochs=1, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"][0])


def test_elements_feed_the_slowfast_detector(tmp_path):
    # The inputs of detection.SlowFastDetector as they are: pixel boxes of
    # the frames, zero rows for padding (scored 0 by the detector).
    import keras

    from keras_video import detection

    two_boxes_video(tmp_path / "v.mp4")
    ds = ava_dataset(
        tmp_path, rows_for("v", 2, range(1, 9)), [1, 2, 3], keyframe_range=None,
        clip_length=4, image_size=(32, 32), augment=True, seed=0, batch_size=8,
    )  # fmt: skip
    model = detection.SlowFastDetector(
        num_classes=3, input_shape=(4, 32, 32, 3), max_boxes=ds.max_boxes,
        base_filters=8, stage_blocks=(1, 1), stem=None, block="plain", alpha=2,
        beta=1 / 4, fusion_kernel=3,
    )  # fmt: skip
    features, labels, mask = next(iter(ds))
    scores = keras.ops.convert_to_numpy(model(features))
    assert scores.shape == (8, 2, 3)
    assert (mask.numpy() == 0).any() and not scores[mask.numpy() == 0].any()
    loss = keras.losses.BinaryCrossentropy()(labels, scores, sample_weight=mask)
    assert np.isfinite(keras.ops.convert_to_numpy(loss))


def test_errors_name_the_video_file_and_line(tmp_path):
    two_boxes_video(tmp_path / "v.mp4")
    with pytest.raises(ValueError, match=r"No video file for video 'w' \(named in"):
        ava_dataset(tmp_path, rows_for("w", 1, [1]), [1], keyframe_range=None)
    bad = tmp_path / "gt.csv"
    bad.write_text("v,0001,0.1,0.1,0.5,0.5,1,0\nv,0002,0.1,0.1,0.5\n")
    with pytest.raises(ValueError, match=f"{bad}, line 2: expected"):
        ava_dataset(tmp_path, bad, [1], keyframe_range=None)
    with pytest.raises(ValueError, match="No keyframe left"):
        ava_dataset(tmp_path, rows_for("v", 1, [1]), [1])  # AVA's 902-1798
    with pytest.raises(ValueError, match=r"annotations\[0\]: column 7"):
        ava_dataset(tmp_path, [("v", 1, 0, 0, 1, 1, "x")], [1], keyframe_range=None)
    with pytest.raises(ValueError, match="`keyframe_range` must be"):
        ava_dataset(tmp_path, rows_for("v", 1, [1]), [1], keyframe_range=(5, 2))


def test_true_labels_as_scores_give_frame_map_one(tmp_path):
    # Dataset -> to_ava_detections -> ava_frame_map: scoring each box with
    # its own labels ranks every true action (score 1) above every other
    # row (score 0), so every AP is 1 (the file boxes come back exactly).
    from keras_video import detection
    from keras_video.data.synthetic_actors import write_actor_dataset

    write_actor_dataset(tmp_path, 3, seed=0, num_frames=24, fps=8, image_size=(32, 32),
                        actor_size=(6, 9), validation_split=0.0)  # fmt: skip
    ds = ava_dataset(
        tmp_path / "videos", tmp_path / "train.csv", tmp_path / "label_map.pbtxt",
        keyframe_range=None, clip_length=2, image_size=(32, 32), seed=0,
        batch_size=4, with_metadata=True,
    )  # fmt: skip
    rows = []
    for _, labels, mask, meta in ds:
        rows += detection.to_ava_detections(
            meta["video_id"], meta["timestamp"], meta["source_boxes"], mask,
            labels, ds.class_ids,
        )  # fmt: skip
    result = detection.ava_frame_map(
        tmp_path / "label_map.pbtxt", tmp_path / "train.csv", rows
    )
    assert result["mAP"] == 1.0
    assert sum(1 for ap in result["per_class_AP"].values() if ap == 1.0) >= 3
