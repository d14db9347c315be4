import numpy as np
import pytest

from keras_video.data import samplers
from keras_video.data.samplers import all_clips, random_clip, uniform_clips


def test_random_clip_in_range_and_step():
    for seed in range(50):
        clip = random_clip(40, 8, 2, seed=seed)
        idx = clip.frame_indices
        assert idx.shape == (8,)
        assert np.all(np.diff(idx) == 2)
        assert idx[0] >= 0 and idx[-1] <= 39
        assert not clip.short


def test_random_clip_covers_all_starts():
    starts = {random_clip(20, 4, 2, seed=s).start for s in range(400)}
    assert starts == set(range(20 - 7 + 1))


def test_random_clip_deterministic():
    a = [random_clip(100, 16, 2, seed=7).start for _ in range(3)]
    assert len(set(a)) == 1
    rng1, rng2 = np.random.default_rng(3), np.random.default_rng(3)
    s1 = [random_clip(100, 16, 2, seed=rng1).start for _ in range(5)]
    s2 = [random_clip(100, 16, 2, seed=rng2).start for _ in range(5)]
    assert s1 == s2 and len(set(s1)) > 1


def test_exact_fit():
    clip = random_clip(7, 4, 2, seed=0)
    np.testing.assert_array_equal(clip.frame_indices, [0, 2, 4, 6])
    assert not clip.short


def test_short_video_loop():
    clips = uniform_clips(5, 4, 1, 2, short_video="loop")
    np.testing.assert_array_equal(clips[0].frame_indices, [0, 2, 4, 1])
    assert clips[0].short
    for s in range(20):
        idx = random_clip(5, 4, 2, seed=s, short_video="loop").frame_indices
        assert idx.min() >= 0 and idx.max() <= 4


def test_short_video_pad_repeats_last_frame():
    clip = uniform_clips(5, 4, 1, 2, short_video="pad")[0]
    np.testing.assert_array_equal(clip.frame_indices, [0, 2, 4, 4])
    clip = random_clip(3, 5, 1, seed=1, short_video="pad")
    np.testing.assert_array_equal(clip.frame_indices, [0, 1, 2, 2, 2])


def test_short_video_error_names_file_and_lengths():
    with pytest.raises(ValueError, match=r"a/b\.mp4.*5 frames.*clip_length=4.*7"):
        random_clip(5, 4, 2, short_video="error", path="a/b.mp4")
    with pytest.raises(ValueError, match="short_video"):
        random_clip(5, 4, 2, short_video="wrap")


def test_target_fps_resamples():
    idx = uniform_clips(300, 5, 1, target_fps=12, fps=30)[0].frame_indices
    offsets = idx - idx[0]
    np.testing.assert_array_equal(offsets, [0, 2, 5, 8, 10])  # step 2.5, rounded
    idx = random_clip(300, 4, target_fps=15, fps=30, seed=0).frame_indices
    assert np.all(np.diff(idx) == 2)
    with pytest.raises(ValueError, match="frame_step.*target_fps"):
        random_clip(300, 4, 2, target_fps=15, fps=30)
    with pytest.raises(ValueError, match="fps"):
        random_clip(300, 4, target_fps=15)


def test_uniform_clip_placement():
    clips = uniform_clips(100, 4, 3, 2)
    assert [c.start for c in clips] == [0, 46, 93]
    assert clips[-1].frame_indices[-1] == 99
    assert [c.clip_index for c in clips] == [0, 1, 2]
    assert all(c.num_clips == 3 for c in clips)
    assert uniform_clips(100, 4, 1, 2)[0].start == 46  # centred
    # Overlapping clips when the video is short; never out of range.
    clips = uniform_clips(10, 4, 5, 2)
    assert all(c.frame_indices.max() <= 9 for c in clips)


def test_all_clips_sliding():
    assert [c.start for c in all_clips(20, 4, 2)] == [0, 7]
    assert [c.start for c in all_clips(20, 4, 2, stride=3)] == [0, 3, 6, 9, 12]
    clips = all_clips(5, 4, 2, short_video="pad")
    assert len(clips) == 1 and clips[0].short


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(clip_length=0), "clip_length"),
        (dict(frame_step=0), "frame_step"),
        (dict(frame_step=1.5), "frame_step"),
        (dict(num_frames=0), "num_frames"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, name):
    args = dict(num_frames=20, clip_length=4, frame_step=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        random_clip(args.pop("num_frames"), args.pop("clip_length"), **args, seed=0)
    with pytest.raises(ValueError, match="num_clips"):
        uniform_clips(20, 4, 0)


def test_clip_span():
    assert samplers.clip_span(16, 2) == 31
    assert samplers.clip_span(1, 5) == 1


def test_windows_are_half_open_with_exact_counts_at_the_end():
    # A video exactly one span long: one clip, ending on its last frame.
    clips = all_clips(7, 4, 2)
    assert len(clips) == 1
    np.testing.assert_array_equal(clips[0].frame_indices, [0, 2, 4, 6])
    assert not clips[0].padding.any()
    # One frame more: still one clip (a second would start at frame 7).
    assert [c.start for c in all_clips(8, 4, 2)] == [0]
    # 14 frames: clips [0, 7) and [7, 14); the last index is 13, never 14.
    clips = all_clips(14, 4, 2)
    assert [c.frame_indices[-1] for c in clips] == [6, 13]
    last = uniform_clips(14, 4, 3, 2)[-1]
    assert last.frame_indices[-1] == 13 and not last.short


@pytest.mark.parametrize(
    "policy, indices, padding",
    [
        ("loop", [0, 2, 4, 1], [False, False, False, True]),
        ("pad", [0, 2, 4, 4], [False, False, False, True]),
    ],
)
def test_padding_mask_marks_filled_in_frames(policy, indices, padding):
    for clip in (
        uniform_clips(5, 4, 1, 2, short_video=policy)[0],
        random_clip(5, 4, 2, short_video="pad", seed=0) if policy == "pad" else None,
        all_clips(5, 4, 2, short_video=policy)[0],
    ):
        if clip is None:
            continue
        np.testing.assert_array_equal(clip.frame_indices, indices)
        np.testing.assert_array_equal(clip.padding, padding)
        assert clip.short and clip.padding.dtype == bool
    looped = random_clip(5, 4, 2, short_video="loop", seed=3)
    wrapped = looped.start + np.arange(4) * 2 >= 5
    np.testing.assert_array_equal(looped.padding, wrapped)
    with pytest.raises(ValueError, match="v.mp4 has 5 frames"):
        uniform_clips(5, 4, 1, 2, short_video="error", path="v.mp4")
