"""The pictures of `docs/api/visualization.md`, made by `keras_video.visualization`.

- `visualization_filters.png` / `.gif`: the 64 filters of the Kinetics-400
  InceptionI3D's first layer (`Conv3d_1a_7x7_conv`, 7x7x7 on RGB) as clips;
  the PNG shows the first 16 filters' 7 time steps, one filter per row, the
  GIF the whole grid looping (`write_filter_grid`).
- `visualization_grad_cam.png`: Grad-CAM of "playing cricket" on 4 of 32
  frames of the cricket clip (`explain_video`, Kinetics InceptionI3D,
  `Mixed_5c`), the top classes written on each frame.
- `visualization_motion.png`: a held-out clip of the synthetic motion set
  (a shape moving right) and the CAM-style motion CNN of
  `benchmarks/grad_cam_boxes.py` (`model="motion"`, seed 0, the one whose
  Grad-CAM mass in the box is measured there): the frames with the shape's
  box, Grad-CAM, and HiResCAM (`weighting="elementwise"`), 4 of 8 frames.
  With global average pooling the two maps are the same.
- `visualization_class_model.png` / `.gif`: class-model clips of the
  max-pooled CNN of `grad_cam_boxes.py` (`model="max"`, seed 0)
  for "right" and "up" (`class_model`, 200 steps, jitter 1, blur every 4
  steps): 4 of 8 frames each, the clip written as GIF.

Needs the converted Kinetics-400 weights (`keras-video weights convert
i3d-kinetics400`) and `../shared/data/i3d`. About two minutes on 2 CPU cores.

Run:

    python benchmarks/visualization_pictures.py
"""

import os
import pathlib
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import grad_cam_boxes  # noqa: E402

from keras_video.applications import inception_i3d  # noqa: E402
from keras_video.data import VideoReader  # noqa: E402
from keras_video.visualization import (  # noqa: E402
    class_model,
    explain_video,
    filter_grid,
    frame_strip,
    grad_cam,
    kernel_clips,
    overlay_heatmap,
    to_uint8,
    write_clip,
    write_filter_grid,
)

IMAGES = ROOT / "docs" / "images"
CRICKET = ROOT.parent / "shared" / "data" / "i3d" / "v_CricketShot_g04_c01_rgb.gif"
WHITE = 255


def save_png(name, rgb):
    cv2.imwrite(str(IMAGES / name), np.ascontiguousarray(rgb[..., ::-1]))
    print(f"wrote docs/images/{name} {rgb.shape[1]}x{rgb.shape[0]}")


def enlarge(image, scale):
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def rows_of(images, gap=4):
    """Images of one height side by side, `gap` white pixels apart."""
    parts = []
    for image in images:
        if parts:
            parts.append(np.full((image.shape[0], gap, 3), WHITE, np.uint8))
        parts.append(image)
    return np.concatenate(parts, axis=1)


def stack(rows, gap=4):
    width = max(r.shape[1] for r in rows)
    parts = []
    for row in rows:
        if parts:
            parts.append(np.full((gap, width, 3), WHITE, np.uint8))
        pad = np.full((row.shape[0], width - row.shape[1], 3), WHITE, np.uint8)
        parts.append(np.concatenate([row, pad], axis=1))
    return np.concatenate(parts, axis=0)


def filters():
    model = inception_i3d.InceptionI3D(
        weights="kinetics400", input_shape=(16, 224, 224, 3)
    )
    layer = model.get_layer("Conv3d_1a_7x7_conv")  # (7, 7, 7, 3, 64)
    clips = kernel_clips(layer)[:16]  # (16, 7, 7, 7, 3)
    rows = [rows_of([enlarge(frame, 6) for frame in clip], gap=2) for clip in clips]
    save_png("visualization_filters.png", stack(rows, gap=2))
    write_filter_grid(IMAGES / "visualization_filters.gif", layer, scale=5, fps=4)
    print(f"wrote docs/images/visualization_filters.gif {filter_grid(layer).shape}")


def cricket():
    folder = tempfile.mkdtemp()
    explain_video(CRICKET, folder, num_clips=1, clip_length=32)
    with VideoReader(os.path.join(folder, "explain.mp4")) as reader:
        frames = reader.get_frames(range(reader.num_frames))
    save_png("visualization_grad_cam.png", frame_strip(frames, count=4))


def outline(frames, boxes):
    """Frames with the box pixels' border drawn in white."""
    out = frames.copy()
    for frame, box in zip(out, boxes, strict=True):
        inner = cv2.erode(box.astype(np.uint8), np.ones((3, 3), np.uint8))
        frame[box & ~inner.astype(bool)] = WHITE
    return out


def motion():
    model = grad_cam_boxes.train(seed=0, model="motion")
    clips, labels, boxes = grad_cam_boxes.motion_clips(4, seed=1)
    k = int(np.flatnonzero(labels == 1)[1])  # a shape moving right
    clip, label = clips[k], int(labels[k])
    frames = clip.astype(np.uint8)
    views = [outline(frames, boxes[k])]
    for weighting in ("mean", "elementwise"):
        heat = grad_cam(model, clip, label, weighting=weighting)
        views.append(overlay_heatmap(frames, heat, alpha=0.6))
    picks = [1, 3, 5, 7]
    rows = [rows_of([enlarge(v[t], 5) for t in picks]) for v in views]
    save_png("visualization_motion.png", stack(rows, gap=8))


def class_models():
    model = grad_cam_boxes.train(seed=0, model="max")
    rows, clips = [], []
    for name in ("right", "up"):
        index = grad_cam_boxes.CLASSES.index(name)
        clip = to_uint8(class_model(model, index, steps=200, jitter=1, seed=0))
        clips.append(clip)
        rows.append(rows_of([enlarge(clip[t], 5) for t in (1, 3, 5, 7)]))
    save_png("visualization_class_model.png", stack(rows, gap=8))
    pad = [(0, 0), (0, 0), (0, 2), (0, 0)]  # 2 white columns after each clip
    both = np.concatenate([np.pad(c, pad, constant_values=WHITE) for c in clips], 2)
    frames = np.stack([enlarge(f, 5) for f in both])
    write_clip(IMAGES / "visualization_class_model.gif", frames, fps=4)
    print("wrote docs/images/visualization_class_model.gif")


def main():
    IMAGES.mkdir(parents=True, exist_ok=True)
    filters()
    cricket()
    motion()
    class_models()


if __name__ == "__main__":
    main()
