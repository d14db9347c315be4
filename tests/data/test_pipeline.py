"""`pipeline`: the shared tf.data stages, on in-memory elements."""

import numpy as np
import pytest
import tensorflow as tf

from keras_video.data import pipeline
from keras_video.data.clip_loader import SkippedFiles
from keras_video.data.clip_settings import ClipSettings


def _elements(num_videos, num_clips, ok=None):
    """Decoded elements: clip value = 10 * video id, 2 frames of 20x30."""
    ok = [True] * num_videos if ok is None else ok
    clips = np.stack(
        [
            np.full((num_clips, 2, 20, 30, 3), 10 * v, np.uint8)
            for v in range(num_videos)
        ]
    )
    ds = tf.data.Dataset.from_tensor_slices(
        (
            clips,
            np.arange(num_videos, dtype=np.int32) % 2,
            np.arange(num_videos, dtype=np.int32),
            np.zeros((num_videos, 2), np.int64),
            np.asarray(ok),
        )
    )
    return ds


def test_finish_unbatches_clips_and_keeps_video_ids():
    settings = ClipSettings(clip_length=2, num_clips=3, image_size=16)
    ds = pipeline.finish(
        _elements(2, 3), settings, augment=False, label_mode="categorical",
        num_classes=2, batch_size=None, deterministic=True, with_video_id=True,
    )  # fmt: skip
    items = list(ds)
    assert len(items) == 6
    clips, labels, ids = items[4]
    assert clips.shape == (2, 16, 16, 3) and clips.dtype == tf.float32
    np.testing.assert_allclose(clips.numpy(), 10.0)
    np.testing.assert_array_equal(labels, [0, 1])
    assert int(ids) == 1


def test_finish_three_crops_and_batches():
    settings = ClipSettings(clip_length=2, num_clips=1, image_size=16)
    ds = pipeline.finish(
        _elements(2, 1), settings, augment=False, label_mode=None, num_classes=0,
        batch_size=3, deterministic=True, num_crops=3,
    )  # fmt: skip
    shapes = [tuple(b.shape) for b in ds]
    assert shapes == [(3, 2, 16, 16, 3), (3, 2, 16, 16, 3)]


def test_finish_drops_bad_elements_and_reports_each_epoch(caplog):
    skipped = SkippedFiles()
    settings = ClipSettings(clip_length=2, image_size=16)
    ds = pipeline.finish(
        _elements(3, 1, ok=[True, False, True]), settings, augment=True,
        label_mode="int", num_classes=2, batch_size=None, deterministic=True,
        skipped=skipped,
    )  # fmt: skip
    skipped.record("bad.mp4", ValueError("broken"))
    with caplog.at_level("WARNING", logger="keras_video.data"):
        labels = [int(y) for _, y in ds]
    assert labels == [0, 0]
    assert "skipped 1 bad video file(s) this epoch: bad.mp4" in caplog.text
    assert ds.skipped_files is skipped


def test_auto_shard_off_when_the_source_sharded():
    settings = ClipSettings(clip_length=2, image_size=16)
    ds = pipeline.finish(
        _elements(1, 1), settings, augment=False, label_mode=None, num_classes=0,
        batch_size=None, deterministic=True, auto_shard=False,
    )  # fmt: skip
    policy = ds.options().experimental_distribute.auto_shard_policy
    assert policy == tf.data.experimental.AutoShardPolicy.OFF


def test_labels_seeds_and_checks():
    labels = tf.constant([0, 2])
    assert pipeline.encode_labels(labels, "int", 3).dtype == tf.int32
    np.testing.assert_array_equal(
        pipeline.encode_labels(labels, "categorical", 3), [[1, 0, 0], [0, 0, 1]]
    )
    assert pipeline.encode_labels(labels, "binary", 2).shape == (2, 1)
    seeds = [s.numpy().tolist() for s in pipeline.element_seeds(3).take(2)]
    assert seeds == [s.numpy().tolist() for s in pipeline.element_seeds(3).take(2)]
    assert seeds[0] != seeds[1]
    assert (
        pipeline.resolve_seed(5, True) == 5 and pipeline.resolve_seed(None, False) == 0
    )
    with pytest.raises(ValueError, match="label_mode=sparse"):
        pipeline.check_output_args("sparse", 8)
    with pytest.raises(ValueError, match="batch_size=0"):
        pipeline.check_output_args("int", 0)
    with pytest.raises(ValueError, match="exactly 2"):
        pipeline.check_output_args("binary", 8, ["a", "b", "c"])


def test_video_clip_dataset_needs_files():
    from keras_video.data.listing import VideoList

    with pytest.raises(ValueError, match="No video files"):
        pipeline.video_clip_dataset(
            VideoList(["a.mp4"]), ClipSettings(), shuffle=False, seed=0,
            shard=(2, 1),
        )  # fmt: skip
    with pytest.raises(ValueError, match="on_error"):
        pipeline.video_clip_dataset(
            VideoList(["a.mp4"]), ClipSettings(), shuffle=False, seed=0,
            on_error="ignore",
        )  # fmt: skip
