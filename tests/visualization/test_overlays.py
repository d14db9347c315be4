"""`keras_video.visualization.overlays`: heat maps, text, boxes and the
importance curve drawn where they should be."""

import cv2
import numpy as np
import pytest

from keras_video.visualization.overlays import (
    colorize,
    draw_boxes,
    draw_top_classes,
    frame_importance,
    frame_strip,
    overlay_heatmap,
    write_importance_curve,
)


def grey_frames(t=3, h=60, w=80, value=100):
    return np.full((t, h, w, 3), value, np.uint8)


def test_colorize_is_opencvs_colour_map_in_rgb():
    heat = np.array([[[0.0, 1.0, 0.5]]])
    colours = colorize(heat)
    jet = cv2.applyColorMap(np.array([[0, 255, 128]], np.uint8), cv2.COLORMAP_JET)
    np.testing.assert_array_equal(colours[0], jet[..., ::-1])
    assert tuple(colours[0, 0, 0]) == (0, 0, 128)  # jet: dark blue at 0
    with pytest.raises(ValueError, match="colormap"):
        colorize(heat, "rainbow")


def test_overlay_blends_and_resamples():
    frames = grey_frames()
    heat = np.random.default_rng(0).random((3, 60, 80))
    np.testing.assert_array_equal(overlay_heatmap(frames, heat, alpha=0), frames)
    np.testing.assert_array_equal(overlay_heatmap(frames, heat, 1), colorize(heat))
    half = overlay_heatmap(frames, heat, alpha=0.5).astype(int)
    expected = np.round(0.5 * 100 + 0.5 * colorize(heat).astype(float))
    assert np.abs(half - expected).max() <= 1
    small = overlay_heatmap(frames, np.ones((1, 6, 8)), alpha=1)  # upsampled
    np.testing.assert_array_equal(small, colorize(np.ones((3, 60, 80))))
    with pytest.raises(ValueError, match="alpha"):
        overlay_heatmap(frames, heat, alpha=2)


def test_top_classes_are_written_top_left():
    frames = grey_frames(2, 120, 160)
    rows = [(3, "playing cricket", 0.93), (7, "hurling (sport)", 0.04)]
    out = draw_top_classes(frames, rows)
    changed = np.argwhere((out != frames).any(-1))
    assert len(changed) > 200  # two lines of text on bands
    assert changed[:, 1].max() < 60 and changed[:, 2].max() < 150
    np.testing.assert_array_equal(out[0], out[1])
    assert (out[:, 2:10, 4:40] > 150).any()  # white letters on a dark band
    one = draw_top_classes(frames, rows, top=1)
    assert np.argwhere((one != frames).any(-1))[:, 1].max() < changed[:, 1].max()
    per_frame = draw_top_classes(frames, [rows, rows[::-1]])
    assert (per_frame[0] != per_frame[1]).any()


def test_boxes_and_labels():
    frames = grey_frames(2, 100, 100)
    boxes = [np.array([[10, 20, 50, 80]]), np.zeros((0, 4))]
    out = draw_boxes(frames, boxes, labels=[["0.91 stand"], []])
    assert tuple(out[0, 50, 10]) == (255, 64, 0) and tuple(out[0, 80, 30]) == (
        255,
        64,
        0,
    )
    np.testing.assert_array_equal(out[0, 40, 30], [100, 100, 100])  # inside
    assert (out[0, :20, 10:60] != 100).any()  # the label above the box
    np.testing.assert_array_equal(out[1], frames[1])
    unit = [np.array([[0.1, 0.2, 0.5, 0.8]]), np.zeros((0, 4))]
    np.testing.assert_array_equal(draw_boxes(frames, unit, normalized=True)[0],
                                  draw_boxes(frames, boxes)[0])  # fmt: skip
    with pytest.raises(ValueError, match="one entry per frame"):
        draw_boxes(frames, boxes[:1])


def test_frame_importance_hand_worked():
    heat = np.zeros((4, 2, 2))
    heat[1] = 1.0
    heat[3, 0, 0] = 4.0
    np.testing.assert_allclose(frame_importance(heat), [0, 0.5, 0, 0.5])
    np.testing.assert_allclose(frame_importance(np.zeros((2, 3, 3))), [0.5, 0.5])


def test_importance_curve_png(tmp_path):
    path = write_importance_curve(
        tmp_path / "curve.png",
        [np.array([0.1, 0.5, 0.4]), np.array([0.3, 0.3, 0.4])],
        frame_indices=[np.array([0, 1, 2]), np.array([40, 41, 42])],
        title="playing cricket",
        labels=["clip 1", "clip 2"],
    )
    image = cv2.imread(str(path))
    assert image.shape == (280, 700, 3)
    assert (image < 250).any() and (image == 255).any()
    with pytest.raises(ValueError, match="one array per curve"):
        write_importance_curve(tmp_path / "x.png", [np.ones(3)] * 2, [np.arange(3)])


def test_frame_strip():
    frames = np.stack([grey_frames(1, 10, 12, v)[0] for v in range(0, 80, 10)])
    strip = frame_strip(frames, count=3, gap=2)
    assert strip.shape == (10, 3 * 12 + 2 * 2, 3)
    assert strip[0, 0, 0] == 0 and strip[0, 14, 0] == 40 and strip[0, -1, 0] == 70
