"""Flow in the pipeline: flow clips, stacked flow and RGB+flow pairs, computed on
the fly or read from precomputed flow frames; crops and flips shared by both
streams, a flip negating flow x."""

import json
import os

import cv2
import numpy as np
import pytest

from keras_video.data import datasets as D
from keras_video.data.flow_source import FlowSource
from keras_video.data.video import write_video

SHIFT = 2  # pixels per frame, to the right


def _moving_texture(num_frames=10, size=64):
    """A smooth texture sliding right by SHIFT px a frame; red rises left to
    right, so a mirrored clip is recognisable."""
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.uniform(0, 255, (size, 3 * size)), (0, 0), 2)
    frames = np.zeros((num_frames, size, size, 3), np.uint8)
    for t in range(num_frames):
        window = texture[:, 2 * size - SHIFT * t : 3 * size - SHIFT * t]
        frames[t, ..., 1] = np.clip(window, 0, 255)
        frames[t, ..., 0] = np.linspace(0, 255, size)[None, :]
        frames[t, ..., 2] = 100
    return frames


@pytest.fixture(scope="module")
def motion_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("flowvideos")
    for name in ("a", "b"):
        os.makedirs(root / name)
        for i in range(2):
            write_video(root / name / f"{name}{i}.mp4", _moving_texture(), crf=12)
    return root


def _small(**kw):
    args = dict(
        clip_length=3, frame_step=2, image_size=(48, 48), short_side=56,
        verbose=False, flow_method="dis",
    )  # fmt: skip
    args.update(kw)
    return args


def _interior_mean(flow):
    return flow[..., 8:-8, 8:-8, :].mean(axis=tuple(range(flow.ndim - 1)))


def test_flow_clips_measure_the_motion(motion_dir):
    ds = D.video_dataset_from_directory(
        motion_dir, modality="flow", shuffle=False, batch_size=None, **_small()
    )
    flows = [flow.numpy() for flow, _ in ds]
    assert len(flows) == 4 and flows[0].shape == (3, 48, 48, 2)
    assert flows[0].dtype == np.float32
    for flow in flows:  # pixels at the stored resolution: not rescaled
        x, y = _interior_mean(flow)
        assert abs(x - SHIFT) < 0.3 and abs(y) < 0.3, (x, y)


def test_a_flip_mirrors_both_streams_and_negates_flow_x(motion_dir):
    ds = D.video_dataset_from_directory(
        motion_dir, modality="rgb+flow", augment=True, seed=0, batch_size=None,
        **_small(),
    )  # fmt: skip
    seen = set()
    for _ in range(3):
        for (rgb, flow), _ in ds:
            rgb, flow = rgb.numpy(), flow.numpy()
            assert rgb.shape == (3, 48, 48, 3) and flow.shape == (3, 48, 48, 2)
            red = rgb[..., 0].mean(axis=(0, 1))
            mirrored = red[0] > red[-1]  # red rose left to right before
            x, y = _interior_mean(flow)
            assert abs(abs(x) - SHIFT) < 0.6 and abs(y) < 0.4, (x, y)
            assert (x < 0) == mirrored
            seen.add(mirrored)
    assert seen == {True, False}


def test_stacked_flow_interleaves_x_and_y(motion_dir):
    ds = D.video_dataset_from_directory(
        motion_dir, modality="stacked_flow", shuffle=False, batch_size=2,
        **_small(clip_length=4, frame_step=1),
    )  # fmt: skip
    stacks, labels = next(iter(ds))
    assert stacks.shape == (2, 48, 48, 8) and labels.shape == (2,)
    means = stacks.numpy()[:, 8:-8, 8:-8, :].mean(axis=(0, 1, 2))
    np.testing.assert_allclose(means[0::2], SHIFT, atol=0.3)  # x of each field
    np.testing.assert_allclose(means[1::2], 0.0, atol=0.3)  # y of each field


def _write_precomputed(flow_dir, video_root, video, field, bound=20):
    from keras_video.flow import write_flow_frames

    folder = FlowSource(str(flow_dir), str(video_root)).folder(str(video))
    n = 9  # 10 frames
    write_flow_frames(folder, np.broadcast_to(field, (n, 40, 40, 2)), bound, "png")
    manifest = {"num_frames": n + 1, "num_fields": n, "bound": bound, "format": "png"}
    with open(os.path.join(folder, "flow.json"), "w") as f:
        json.dump(manifest, f)
    return folder


def test_precomputed_flow_is_read_and_resized_to_the_frames(motion_dir, tmp_path):
    flow_dir = tmp_path / "flow"
    field = np.array([3.0, -1.0], np.float32)
    for video in sorted(motion_dir.rglob("*.mp4")):
        _write_precomputed(flow_dir, motion_dir, video, field)
    ds = D.video_dataset_from_directory(
        motion_dir, modality="rgb+flow", flow_dir=flow_dir, shuffle=False,
        batch_size=None, **_small(),
    )  # fmt: skip
    (rgb, flow), _ = next(iter(ds))
    assert rgb.shape == (3, 48, 48, 3) and flow.shape == (3, 48, 48, 2)
    step = 40 / 255  # quantisation step of bound 20
    np.testing.assert_allclose(flow.numpy()[..., 0], 3.0, atol=step)
    np.testing.assert_allclose(flow.numpy()[..., 1], -1.0, atol=step)


def test_missing_precomputed_flow_names_the_video(motion_dir, tmp_path, caplog):
    flow_dir = tmp_path / "flow"
    videos = sorted(motion_dir.rglob("*.mp4"))
    for video in videos[1:]:
        _write_precomputed(flow_dir, motion_dir, video, np.zeros(2, np.float32))
    ds = D.video_dataset_from_directory(
        motion_dir, modality="flow", flow_dir=flow_dir, shuffle=False,
        on_error="skip", batch_size=None, **_small(),
    )  # fmt: skip
    assert len(list(ds)) == 3
    (message,) = ds.skipped_files.files.values()
    assert "No finished flow for" in message and "a0.mp4" in message
    with pytest.raises(ValueError, match="modality='depth'"):
        D.video_dataset_from_directory(motion_dir, modality="depth", **_small())
    with pytest.raises(ValueError, match="flow_dir"):
        D.video_dataset_from_directory(
            motion_dir, modality="flow", flow_dir=tmp_path / "nowhere", **_small()
        )


def test_test_dataset_gives_three_crops_of_pairs(motion_dir):
    ds = D.video_test_dataset_from_directory(
        motion_dir, modality="rgb+flow", num_clips=2, num_crops=3, batch_size=6,
        **_small(image_size=40),
    )  # fmt: skip
    (rgb, flow), labels, ids = next(iter(ds))
    assert rgb.shape == (6, 3, 40, 40, 3) and flow.shape == (6, 3, 40, 40, 2)
    assert set(ids.numpy()) == {0}
