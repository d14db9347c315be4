import numpy as np
import pytest
import tensorflow as tf

from keras_video.data import transforms as T


def _static_clip(frames=6, h=40, w=50, seed=0):
    """A clip of identical random frames."""
    frame = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    return tf.constant(np.repeat(frame[None], frames, axis=0))


def _marker_clip(frames=5, h=40, w=50, y=10, x=7):
    clip = np.zeros((frames, h, w, 3), np.uint8)
    clip[:, y, x] = 255
    return tf.constant(clip)


def _all_frames_equal(clip):
    clip = np.asarray(clip)
    return all(np.array_equal(clip[0], f) for f in clip)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_identical_frames_stay_identical(seed):
    clip = _static_clip()
    out = T.random_resize_short_side(clip, (32, 48), seed=(seed, 1))
    out = T.random_crop(out, (24, 24), seed=(seed, 2))
    out = T.random_flip_left_right(out, seed=(seed, 3))
    out = T.normalize(T.to_float(out), [0.5] * 3, [0.25] * 3)
    assert out.shape[1:] == (24, 24, 3)
    assert _all_frames_equal(out)


def test_marker_moves_consistently():
    clip = _marker_clip()
    seen = set()
    for seed in range(20):
        out = T.random_crop(clip, (20, 20), seed=(seed, 0))
        out = T.random_flip_left_right(out, seed=(seed, 1)).numpy()
        where = [tuple(np.argwhere(f[..., 0] == 255).ravel()) for f in out]
        assert len(set(where)) == 1  # the same place in every frame
        seen.add(where[0])
    assert len(seen) > 1  # but crops do differ between seeds


def test_same_seed_same_result_and_flip_probability():
    clip = _marker_clip()
    a = T.random_crop(clip, (20, 20), seed=(5, 5))
    b = T.random_crop(clip, (20, 20), seed=(5, 5))
    np.testing.assert_array_equal(a, b)
    flips = [
        not np.array_equal(T.random_flip_left_right(clip, seed=(s, 9)), clip)
        for s in range(200)
    ]
    assert 0.35 < np.mean(flips) < 0.65
    np.testing.assert_array_equal(T.random_flip_left_right(clip, (1, 2), 0.0), clip)
    np.testing.assert_array_equal(
        T.random_flip_left_right(clip, (1, 2), 1.0), clip.numpy()[:, :, ::-1]
    )


def test_batched_clips_get_their_own_parameters_in_graph():
    clips = tf.stack([_marker_clip()] * 16)

    @tf.function
    def augment(x, seed):
        x = T.random_crop(x, (20, 20), seed)
        return T.random_flip_left_right(x, seed + 1)

    out = augment(clips, tf.constant([3, 4], tf.int64)).numpy()
    assert out.shape == (16, 5, 20, 20, 3)
    positions = set()
    for clip in out:
        assert _all_frames_equal(clip)
        positions.add(tuple(np.argwhere(clip[0, ..., 0] == 255).ravel()))
    assert len(positions) > 1


def test_resize_short_side_keeps_aspect_and_dtype():
    clip = _static_clip(h=40, w=60)
    out = T.resize_short_side(clip, 20)
    assert out.shape == (6, 20, 30, 3) and out.dtype == tf.uint8
    out = T.resize_short_side(tf.cast(tf.stack([clip, clip]), tf.float32), 30)
    assert out.shape == (2, 6, 30, 45, 3) and out.dtype == tf.float32
    sizes = {
        tuple(T.random_resize_short_side(clip, (20, 24), seed=(s, 0)).shape)
        for s in range(30)
    }
    assert {s[1] for s in sizes} == {20, 21, 22, 23, 24}


def test_center_and_three_crop():
    clip = _marker_clip(h=20, w=40, y=10, x=20)
    out = T.center_crop(clip, (20, 20)).numpy()
    assert out.shape == (5, 20, 20, 3)
    assert tuple(np.argwhere(out[0, ..., 0] == 255).ravel()) == (10, 10)
    crops = T.three_crop(clip, 20).numpy()
    assert crops.shape == (3, 5, 20, 20, 3)
    np.testing.assert_array_equal(crops[0], clip.numpy()[:, :, :20])
    np.testing.assert_array_equal(crops[1], out)
    np.testing.assert_array_equal(crops[2], clip.numpy()[:, :, 20:])
    batch = T.three_crop(tf.stack([clip, clip]), 20)
    assert batch.shape == (2, 3, 5, 20, 20, 3)
    tall = T.three_crop(_marker_clip(h=40, w=20), 20).numpy()
    np.testing.assert_array_equal(tall[2], _marker_clip(h=40, w=20).numpy()[:, 20:])


def test_normalize_and_to_float():
    clip = tf.fill((2, 2, 2, 3), tf.constant(255, tf.uint8))
    np.testing.assert_allclose(T.to_float(clip), 1.0)
    out = T.normalize(T.to_float(clip), [0.5, 0.5, 0.0], [0.5, 0.25, 1.0])
    np.testing.assert_allclose(out.numpy()[0, 0, 0], [1.0, 2.0, 1.0])


def test_bad_arguments():
    with pytest.raises(ValueError, match="shape"):
        T.center_crop(tf.zeros((4, 4, 3)), 2)
    with pytest.raises(ValueError, match="size"):
        T.center_crop(tf.zeros((2, 4, 4, 3)), (2, 2, 2))
    with pytest.raises(ValueError, match="short_side_range"):
        T.random_resize_short_side(tf.zeros((2, 4, 4, 3)), (8, 4), seed=1)
    with pytest.raises(ValueError, match="interpolation"):
        T.resize_short_side(tf.zeros((2, 4, 4, 3)), 8, interpolation="cubic")
    with pytest.raises(ValueError, match="seed"):
        T.random_crop(tf.zeros((2, 4, 4, 3)), 2, seed=None)
    with pytest.raises(tf.errors.InvalidArgumentError, match="larger"):
        T.random_crop(tf.zeros((2, 4, 4, 3)), 8, seed=1)


def test_short_side_crop_matches_resize_then_crop():
    rng = np.random.default_rng(0)
    small = rng.uniform(0, 255, (3, 6, 8, 3)).astype(np.float32)
    clip = tf.image.resize(small, (60, 80), method="bilinear")  # smooth content
    fused = T.short_side_crop(clip, (24, 24), 30)
    two_step = T.center_crop(T.resize_short_side(clip, 30), (24, 24))
    assert fused.shape == (3, 24, 24, 3) and fused.dtype == tf.float32
    np.testing.assert_allclose(fused, two_step, atol=1e-3)  # same sample points
    # Window already at the output size: a plain crop, exact.
    exact = T.short_side_crop(tf.cast(clip, tf.uint8), (24, 24), 60)
    np.testing.assert_array_equal(
        exact, tf.cast(T.center_crop(tf.cast(clip, tf.uint8), 24), tf.float32)
    )
    # Random: identical frames stay identical, batches get their own windows.
    static = _static_clip()
    for s in range(4):
        out = T.short_side_crop(static, (20, 20), (24, 32), seed=(s, 0))
        assert out.shape == (6, 20, 20, 3) and _all_frames_equal(out)
    for s in range(8):  # with flips: the same window and flip for every frame
        out = T.short_side_crop(_marker_clip(), (20, 20), 40, (s, 1), 0.5).numpy()
        assert len({tuple(np.argwhere(f[..., 0] > 60).ravel()) for f in out}) == 1
    flipped = T.short_side_crop(clip, (24, 24), 30, seed=1, flip_probability=1.0)
    same_window = T.short_side_crop(clip, (24, 24), 30, seed=1).numpy()
    np.testing.assert_allclose(flipped, same_window[:, :, ::-1], atol=1e-3)
    batch = tf.stack([static] * 8)
    out = T.short_side_crop(batch, (20, 20), (40, 48), seed=(1, 1)).numpy()
    assert out.shape == (8, 6, 20, 20, 3)
    assert all(_all_frames_equal(c) for c in out)
    assert len({c.tobytes() for c in out}) > 1  # each clip its own window
    with pytest.raises(ValueError, match="short_side"):
        T.short_side_crop(static, (20, 20), (24, 32))
    with pytest.raises(ValueError, match="short_side"):
        T.short_side_crop(static, (20, 20), 16)
