"""Benchmark inputs: h264 files written with PyAV (no system FFmpeg needed)."""

import av
import numpy as np


def scene_frame(i, height, width, rng_texture):
    """A frame of moving shapes over a drifting gradient with fixed texture.

    Smooth motion gives the encoder what real footage gives it (motion vectors,
    B-frames); the texture keeps frames from compressing to nothing.
    """
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    phase = i / 60.0
    image = np.empty((height, width, 3), np.float32)
    image[..., 0] = 80 + 60 * np.sin(2 * np.pi * (x + phase))
    image[..., 1] = 80 + 60 * np.cos(2 * np.pi * (y - phase))
    image[..., 2] = 100 + 50 * (x * y)
    for k, (speed, size, colour) in enumerate(
        [(2.0, 40, (230, 40, 40)), (-3.0, 30, (40, 220, 60)), (1.3, 56, (40, 60, 230))]
    ):
        cx = int((width / 2 + speed * i * 1.7 + 70 * k) % width)
        cy = int(height / 2 + (height / 3) * np.sin(i / 25.0 + k))
        image[
            max(cy - size // 2, 0) : cy + size // 2,
            max(cx - size // 2, 0) : cx + size // 2,
        ] = colour
    image += rng_texture
    return np.clip(image, 0, 255).astype(np.uint8)


def write_scene_video(path, num_frames, gop, bframes, height=240, width=320, fps=30):
    """Writes an h264 (libx264, veryfast, crf 23) file with a fixed keyframe
    interval (`gop`, scene cuts off) and at most `bframes` consecutive B-frames."""
    texture = np.random.default_rng(0).normal(0, 6, (height, width, 3))
    texture = texture.astype(np.float32)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(
            "libx264",
            rate=fps,
            options={
                "preset": "veryfast",
                "crf": "23",
                "threads": "2",
                "sc_threshold": "0",
            },
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = gop
        stream.codec_context.max_b_frames = bframes
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(
                scene_frame(i, height, width, texture), format="rgb24"
            )
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_looped_video(path, seconds, height, width, fps=30, gop=30, bframes=2, crf=28):
    """Writes a long h264 file fast (libx264 ultrafast): 300 distinct scene
    frames repeated for `seconds` (the encoder still codes every frame)."""
    texture = np.random.default_rng(0).normal(0, 6, (height, width, 3))
    texture = texture.astype(np.float32)
    frames = [
        scene_frame(i, height, width, texture) for i in range(min(300, seconds * fps))
    ]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(
            "libx264",
            rate=fps,
            options={
                "preset": "ultrafast",
                "crf": str(crf),
                "bframes": str(bframes),
                "g": str(gop),
                "sc_threshold": "0",
            },
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(seconds * fps):
            frame = av.VideoFrame.from_ndarray(frames[i % len(frames)], format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
