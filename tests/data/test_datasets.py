import logging
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_video.data import datasets as D
from keras_video.data import listing
from keras_video.data.video import VideoReader, write_video

CLASS_RED = {"a": 40, "b": 120, "c": 200}  # red channel encodes the class


def _write_coded(path, red, num_frames=12, size=(32, 48)):
    """Flat frames: red = class code, green = 10 * frame index."""
    frames = np.zeros((num_frames, *size, 3), np.uint8)
    frames[..., 0] = red
    frames[..., 1] = (10 * np.arange(num_frames))[:, None, None]
    frames[..., 2] = 128
    write_video(path, frames, fps=10)


@pytest.fixture(scope="module")
def video_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    for name, red in CLASS_RED.items():
        os.makedirs(root / name)
        for i in range(4):
            _write_coded(str(root / name / f"{name}{i}.mp4"), red)
    (root / "a" / "notes.txt").write_text("not a video")
    return root


@pytest.fixture()
def bad_dir(tmp_path):
    for name in ("a", "b"):
        os.makedirs(tmp_path / name)
        for i in range(3):
            _write_coded(str(tmp_path / name / f"{name}{i}.mp4"), CLASS_RED[name])
    good = (tmp_path / "a" / "a0.mp4").read_bytes()
    (tmp_path / "b" / "broken.mp4").write_bytes(good[: len(good) // 3])
    (tmp_path / "a" / "garbage.mp4").write_bytes(b"\x00not a video" * 100)
    return tmp_path


def _red_to_label(clips):
    """Class index from each clip's red channel."""
    reds = np.asarray(clips)[..., 0].reshape(len(clips), -1).mean(axis=1)
    codes = np.asarray(list(CLASS_RED.values()))
    return np.abs(reds[:, None] - codes[None]).argmin(axis=1)


def _small(**kw):
    args = dict(clip_length=4, frame_step=2, image_size=(16, 16), verbose=False)
    args.update(kw)
    return args


def test_shapes_labels_and_class_names(video_dir):
    ds = D.video_dataset_from_directory(video_dir, batch_size=5, seed=1, **_small())
    assert ds.class_names == ["a", "b", "c"]
    assert len(ds.file_paths) == 12 and all(p.endswith(".mp4") for p in ds.file_paths)
    batches = list(ds)
    assert [len(b[0]) for b in batches] == [5, 5, 2]
    clips, labels = batches[0]
    assert clips.shape == (5, 4, 16, 16, 3) and clips.dtype == tf.float32
    assert labels.dtype == tf.int32
    assert ds.element_spec[0].shape.as_list() == [None, 4, 16, 16, 3]
    for clips, labels in batches:  # every clip carries its own label
        np.testing.assert_array_equal(_red_to_label(clips), labels)
        green = np.asarray(clips)[..., 1].mean(axis=(2, 3))  # (b, t)
        np.testing.assert_allclose(np.diff(green, axis=1), 20, atol=4)  # step 2


def test_label_modes_and_unbatched(video_dir):
    ds = D.video_dataset_from_directory(
        video_dir, label_mode="categorical", batch_size=None, seed=1, **_small()
    )
    clip, label = next(iter(ds))
    assert clip.shape == (4, 16, 16, 3) and label.shape == (3,)
    assert float(tf.reduce_sum(label)) == 1.0
    ds = D.video_dataset_from_directory(
        video_dir, label_mode="binary", class_names=["c", "a"], batch_size=4,
        seed=1, **_small(),
    )  # fmt: skip
    assert ds.class_names == ["c", "a"] and len(ds.file_paths) == 8
    clips, labels = next(iter(ds))
    assert labels.shape == (4, 1) and labels.dtype == tf.float32
    np.testing.assert_array_equal(
        _red_to_label(clips), np.where(labels.numpy()[:, 0] == 1, 0, 2)
    )
    ds = D.video_dataset_from_directory(video_dir, label_mode=None, seed=1, **_small())
    first = next(iter(ds))
    assert isinstance(first, tf.Tensor) and first.shape[1:] == (4, 16, 16, 3)
    with pytest.raises(ValueError, match="binary"):
        D.video_dataset_from_directory(video_dir, label_mode="binary", **_small())


def test_explicit_labels_and_no_shuffle_order(video_dir):
    ds = D.video_dataset_from_directory(
        video_dir, labels=[0, 1] * 6, shuffle=False, batch_size=None, **_small()
    )
    assert ds.class_names == ["0", "1"]
    assert ds.file_paths == sorted(ds.file_paths)
    assert [int(y) for _, y in ds] == [0, 1] * 6


def test_validation_split_disjoint_and_reproducible(video_dir):
    kw = dict(validation_split=0.25, seed=7, **_small())
    train = D.video_dataset_from_directory(video_dir, subset="training", **kw)
    val = D.video_dataset_from_directory(video_dir, subset="validation", **kw)
    assert len(train.file_paths) == 9 and len(val.file_paths) == 3
    assert not set(train.file_paths) & set(val.file_paths)
    assert len(set(train.file_paths) | set(val.file_paths)) == 12
    train2, val2 = D.video_dataset_from_directory(video_dir, subset="both", **kw)
    assert train2.file_paths == train.file_paths and val2.file_paths == val.file_paths
    assert val2.class_names == ["a", "b", "c"]
    other = D.video_dataset_from_directory(
        video_dir, subset="validation", **{**kw, "seed": 8}
    )
    assert other.file_paths != val.file_paths


def test_seed_gives_the_same_clips_and_epochs_differ(video_dir):
    kw = dict(seed=3, batch_size=12, augment=True, **_small(clip_length=2))

    def epochs(ds, n=2):
        return [next(iter(ds))[0].numpy() for _ in range(n)]

    a = epochs(D.video_dataset_from_directory(video_dir, **kw))
    b = epochs(D.video_dataset_from_directory(video_dir, **kw))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1])


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(label_mode="sparse"), "label_mode"),
        (dict(image_size=(1, 2, 3)), "image_size"),
        (dict(on_error="ignore"), "on_error"),
        (dict(subset="training"), "validation_split"),
        (dict(validation_split=1.5, subset="training", seed=1), "validation_split"),
        (dict(validation_split=0.2, subset="train", seed=1), "subset"),
        (dict(validation_split=0.2, subset="training"), "seed"),
        (dict(clip_sampling="dense", seed=1), "clip_sampling"),
        (dict(shard=(2, 2), seed=1), "shard"),
        (dict(shard=(2, 0)), "seed"),
        (dict(labels="folders"), "labels"),
        (dict(class_names=["zzz"]), "class_names"),
        (dict(num_clips=0), "num_clips"),
        (dict(batch_size=0), "batch_size"),
        (dict(frame_step=0), "frame_step"),
        (dict(short_side=8), "short_side"),
        (dict(labels=[0, 1]), "labels"),
    ],
)
def test_bad_arguments_name_themselves(video_dir, kwargs, name):
    with pytest.raises(ValueError, match=name):
        D.video_dataset_from_directory(video_dir, **_small(**kwargs))


def test_on_error_raise_names_the_file(bad_dir):
    ds = D.video_dataset_from_directory(
        bad_dir / "a", labels=None, shuffle=False, batch_size=None, **_small()
    )
    with pytest.raises(Exception, match="garbage.mp4"):
        for _ in ds:
            pass


def test_on_error_skip_keeps_labels_right_and_reports(bad_dir, caplog):
    ds = D.video_dataset_from_directory(
        bad_dir, on_error="skip", seed=2, batch_size=3, **_small()
    )
    assert len(ds.file_paths) == 8
    with caplog.at_level(logging.WARNING, logger="keras_video.data"):
        for _ in range(2):
            labels, predicted = [], []
            for clips, y in ds:
                labels.extend(y.numpy())
                predicted.extend(_red_to_label(clips))
            assert len(labels) == 6  # all good clips, each with its own label
            np.testing.assert_array_equal(labels, predicted)
            assert sorted(labels) == [0, 0, 0, 1, 1, 1]
    assert sorted(os.path.basename(p) for p in ds.skipped_files.files) == [
        "broken.mp4",
        "garbage.mp4",
    ]
    assert ds.skipped_files.count == 4
    lines = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(lines) == 2  # one line per epoch
    assert "garbage.mp4" in lines[0] and "broken.mp4" in lines[0]


def test_short_video_policy(tmp_path):
    os.makedirs(tmp_path / "x")
    _write_coded(str(tmp_path / "x" / "short.mp4"), 40, num_frames=3)
    ds = D.video_dataset_from_directory(
        tmp_path, shuffle=False, batch_size=None, short_video="pad", **_small()
    )
    clip, _ = next(iter(ds))
    green = clip.numpy()[..., 1].mean(axis=(1, 2))
    np.testing.assert_allclose(green, [0, 20, 20, 20], atol=4)
    ds = D.video_dataset_from_directory(
        tmp_path, shuffle=False, short_video="error", **_small()
    )
    with pytest.raises(Exception, match="short.mp4"):
        next(iter(ds))


def test_csv_dataset_and_bad_line(video_dir, tmp_path):
    csv_path = video_dir / "list.csv"
    lines = ["path,label"]
    lines += [f"{c}/{c}{i}.mp4,{c}" for c in "ab" for i in range(2)]
    lines += [f"{video_dir}/c/c0.mp4,c,0.0,1.0"]
    csv_path.write_text("\n".join(lines) + "\n")
    ds = D.video_dataset_from_csv(csv_path, seed=0, batch_size=None, **_small())
    assert ds.class_names == ["a", "b", "c"]
    pairs = [(int(_red_to_label(c[None])[0]), int(y)) for c, y in ds]
    assert len(pairs) == 5 and all(p == y for p, y in pairs)
    bad = tmp_path / "bad.csv"
    bad.write_text("a/a0.mp4,a\na/a1.mp4\n")
    with pytest.raises(ValueError, match=r"bad\.csv, line 2"):
        D.video_dataset_from_csv(bad, **_small())
    bad.write_text("a/a0.mp4,a\n\na/a1.mp4,a,x,2\n")
    with pytest.raises(ValueError, match=r"bad\.csv, line 3.*numbers"):
        listing.read_video_csv(bad)
    bad.write_text("a/a0.mp4,a\n")
    with pytest.raises(ValueError, match=r"line 1.*class_names"):
        listing.read_video_csv(bad, class_names=["b"])


def test_test_dataset_yields_every_clip_with_video_id(video_dir):
    ds = D.video_test_dataset_from_directory(
        video_dir, num_clips=3, num_crops=3, batch_size=9, **_small(image_size=16)
    )
    batches = list(ds)
    assert len(batches) == 12
    for i, (clips, labels, ids) in enumerate(batches):
        assert clips.shape == (9, 4, 16, 16, 3)
        assert set(ids.numpy()) == {i}
        assert set(labels.numpy()) == {i // 4}
        np.testing.assert_array_equal(_red_to_label(clips), labels)
        green = clips.numpy()[::3, 0, ..., 1].mean(axis=(1, 2))  # first frames
        np.testing.assert_allclose(green, [0, 20, 50], atol=4)  # starts 0, 2, 5
    assert ds.file_paths[0].endswith("a0.mp4")
    scores = np.eye(3)[np.array([0, 0, 1, 2, 2, 2])]
    agg = D.aggregate_video_predictions(scores, [0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(agg, [[2 / 3, 1 / 3, 0], [0, 0, 1]])


def test_shards_are_disjoint_and_cover_all_files(video_dir):
    shards = [
        D.video_dataset_from_directory(video_dir, seed=5, shard=(3, i), **_small())
        for i in range(3)
    ]
    files = [set(s.file_paths) for s in shards]
    assert all(len(f) == 4 for f in files)
    assert set.union(*files) == set(
        D.video_dataset_from_directory(video_dir, seed=5, **_small()).file_paths
    )
    assert not (files[0] & files[1] or files[0] & files[2] or files[1] & files[2])
    ds = shards[1]
    policy = ds.options().experimental_distribute.auto_shard_policy
    assert policy == tf.data.experimental.AutoShardPolicy.OFF

    class Ctx:
        num_input_pipelines, input_pipeline_id = 3, 1

    assert listing.shard_for_input_context(Ctx()) == (3, 1)
    assert listing.shard_for_process(1, 4) == (4, 1)
    n = sum(len(y) for _, y in ds)
    assert n == 4


def test_distribute_input_context_and_keras_fit(bad_dir):
    """Shards from a real InputContext; a skip dataset trains with model.fit."""
    import keras

    contexts = [
        tf.distribute.InputContext(
            num_input_pipelines=2, input_pipeline_id=i, num_replicas_in_sync=2
        )
        for i in range(2)
    ]
    kw = dict(on_error="skip", seed=4, batch_size=2, **_small())
    parts = [
        D.video_dataset_from_directory(
            bad_dir, shard=listing.shard_for_input_context(c), **kw
        ).file_paths
        for c in contexts
    ]
    assert not set(parts[0]) & set(parts[1]) and len(parts[0] + parts[1]) == 8
    ds = D.video_dataset_from_directory(bad_dir, **kw)
    model = keras.Sequential(
        [
            keras.Input((4, 16, 16, 3)),
            keras.layers.GlobalAveragePooling3D(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile("sgd", "sparse_categorical_crossentropy")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert len(ds.skipped_files) == 2


def test_csv_segments_restrict_sampling(video_dir):
    csv_path = video_dir / "segments.csv"
    csv_path.write_text("a/a0.mp4,a,0.6,1.2\nb/b0.mp4,b,,0.4\n")
    ds = D.video_dataset_from_csv(
        csv_path, seed=0, batch_size=None, **_small(clip_length=2)
    )
    for _ in range(3):
        for clip, label in ds:
            green = clip.numpy()[..., 1].mean(axis=(1, 2))
            if int(label) == 0:  # frames 6..11 only
                assert green.min() > 55, green
            else:  # frames 0..3 only
                assert green.max() < 35, green
    csv_path.write_text("a/a0.mp4,a,5.0,6.0\n")
    ds = D.video_dataset_from_csv(csv_path, seed=0, **_small())
    with pytest.raises(Exception, match="outside"):
        next(iter(ds))


def test_target_fps_alone_is_accepted(video_dir):
    """The default frame step yields to `target_fps` (this call once raised)."""
    ds = D.video_dataset_from_directory(
        video_dir, target_fps=5, shuffle=False, batch_size=None,
        **_small(frame_step=None, clip_length=3),
    )  # fmt: skip
    clip, _ = next(iter(ds))
    green = clip.numpy()[..., 1].mean(axis=(1, 2))
    np.testing.assert_allclose(np.diff(green), [20, 20], atol=4)  # 10 fps -> step 2
    with pytest.raises(ValueError, match="not both"):
        D.video_dataset_from_directory(video_dir, target_fps=5, **_small(frame_step=3))


def test_clip_settings_replace_the_clip_keywords(video_dir):
    from keras_video.data import ClipSettings

    settings = ClipSettings(clip_length=3, frame_step=1, image_size=16)
    ds = D.video_dataset_from_directory(
        video_dir, clip_settings=settings, batch_size=None, seed=0, verbose=False
    )
    clip, _ = next(iter(ds))
    assert clip.shape == (3, 16, 16, 3)
    test_ds = D.video_test_dataset_from_directory(
        video_dir, clip_settings=settings.replace(num_clips=2), batch_size=None,
        verbose=False,
    )  # fmt: skip
    assert len(list(test_ds)) == 24
    with pytest.raises(ValueError, match="clip_length=4"):
        D.video_dataset_from_directory(
            video_dir, clip_settings=settings, clip_length=4, verbose=False
        )


def _frame_numbers(clips):
    """Frame index of every frame of coded clips (green = 10 * index)."""
    return np.round(np.asarray(clips)[..., 1].mean(axis=(-1, -2)) / 10).astype(int)


@pytest.fixture(scope="module")
def faulty_dir(tmp_path_factory):
    """50 videos in 2 classes: 45 good coded ones, 4 bad ones and one whose
    index claims more frames than it has."""
    import shutil

    import av

    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA}")

    root = tmp_path_factory.mktemp("faulty")
    for name in ("a", "b"):
        os.makedirs(root / name)
    for i in range(45):
        name = "ab"[i % 2]
        _write_coded(str(root / name / f"good{i:02d}.mp4"), CLASS_RED[name])
    # Index last (the default): cut before the index -> unreadable.
    _write_coded(str(root / "whole.mp4"), CLASS_RED["a"], num_frames=12)
    whole = (root / "whole.mp4").read_bytes()
    (root / "a" / "cut_before_index.mp4").write_bytes(whole[: len(whole) * 2 // 3])
    # Index first: cut in the middle of the data -> the index promises frames
    # that do not exist; only the frames that decode may be used.
    frames = np.zeros((12, 32, 48, 3), np.uint8)
    frames[..., 0] = CLASS_RED["b"]
    frames[..., 1] = (10 * np.arange(12))[:, None, None]
    frames[..., 2] = 128
    write_video(root / "fast.mp4", frames, fps=10, keyframe_interval=4,
                container_options={"movflags": "faststart"})  # fmt: skip
    fast = (root / "fast.mp4").read_bytes()
    with av.open(str(root / "fast.mp4")) as container:
        last_keyframe = [
            p for p in container.demux(video=0) if p.size and p.is_keyframe
        ][-1]  # frame 8: cut in its middle, frames 0-7 stay whole
    cut = last_keyframe.pos + last_keyframe.size // 2
    (root / "b" / "cut_in_data.mp4").write_bytes(fast[:cut])
    (root / "a" / "empty.mp4").write_bytes(b"")
    (root / "b" / "text.mp4").write_text("this is not a video\n" * 20)
    shutil.copy(SHARED_DATA / "videos" / "decord_corrupted.mp4", root / "a")
    os.remove(root / "whole.mp4")
    os.remove(root / "fast.mp4")
    return root


FAULTY_BAD = {"cut_before_index.mp4", "empty.mp4", "text.mp4", "decord_corrupted.mp4"}


def _clip_records(ds):
    """Sorted (label, frame numbers) of every clip, one list per epoch."""
    epochs = []
    for _ in range(2):
        records = []
        for clips, labels in ds:
            numbers = _frame_numbers(clips)
            reds = _red_to_label(clips)
            for n, r, y in zip(numbers, reds, labels.numpy(), strict=True):
                assert r == y  # each clip keeps its own label
                records.append((int(y), tuple(n)))
        epochs.append(sorted(records))
    return epochs


def test_bad_files_among_fifty_skip_exactly_them(faulty_dir, tmp_path, caplog):
    kw = dict(seed=3, batch_size=4, num_clips=2, clip_sampling="uniform",
              backend="pyav", **_small(clip_length=3))  # fmt: skip
    ds = D.video_dataset_from_directory(faulty_dir, on_error="skip", **kw)
    assert len(ds.file_paths) == 50
    with caplog.at_level(logging.WARNING, logger="keras_video.data"):
        epochs = _clip_records(ds)
    # The good videos alone (the truncated-in-data one is good: its real frames).
    good_dir = tmp_path / "good"
    for path in ds.file_paths:
        if os.path.basename(path) not in FAULTY_BAD:
            dest = good_dir / os.path.basename(os.path.dirname(path))
            os.makedirs(dest, exist_ok=True)
            os.symlink(path, dest / os.path.basename(path))
    alone = D.video_dataset_from_directory(good_dir, on_error="raise", **kw)
    expected = _clip_records(alone)
    assert epochs[0] == epochs[1] == expected[0]
    assert len(expected[0]) == 2 * 46  # 45 good videos + the cut one
    for _, numbers in expected[0]:  # true frames: no repeats, no zero-filled gaps
        assert list(numbers) == list(range(numbers[0], numbers[0] + 6, 2))
    assert {os.path.basename(p) for p in ds.skipped_files.files} == FAULTY_BAD
    assert ds.skipped_files.count == 2 * len(FAULTY_BAD)  # once per epoch each
    lines = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(lines) == 2
    for line in lines:
        for name in FAULTY_BAD:
            assert line.count(f"{name} (") == 1, line  # named once, with reason
        assert "Error" in line
    truncated = [p for p in ds.file_paths if p.endswith("cut_in_data.mp4")][0]
    with VideoReader(truncated) as reader:
        assert reader.num_frames == 8  # the index promised 12
        frames = reader.get_frames(range(8))
    np.testing.assert_array_equal(_frame_numbers(frames[None])[0], range(8))


@pytest.mark.parametrize("name", sorted(FAULTY_BAD))
def test_bad_files_raise_a_typed_error_naming_them(faulty_dir, name):
    from keras_video.data import VideoDecodeError
    from keras_video.data.clip_loader import ClipLoader
    from keras_video.data.clip_settings import ClipSettings

    folder = "b" if name == "text.mp4" else "a"
    loader = ClipLoader(ClipSettings(clip_length=3, num_clips=2), "uniform", None,
                        "pyav", "raise")  # fmt: skip
    with pytest.raises(VideoDecodeError, match=name) as info:
        loader.read(str(faulty_dir / folder / name))
    assert info.value.path.endswith(name)
