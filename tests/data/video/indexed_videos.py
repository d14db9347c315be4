"""Test videos whose frames carry their own index, and a sequential-decode oracle.

Small h264 files written with PyAV: frame `i` spells `i` in binary in flat blocks,
so frame identity and seek correctness are exact.
"""

import fractions
import os
import subprocess
import sys
import textwrap

import av
import cv2
import numpy as np

from tests.conftest import ROOT

BITS = 8  # frame index bits drawn into each frame
BLOCK = 16  # block side in pixels


def frame_with_index(i, height=48, width=BITS * BLOCK):
    """A frame whose top row of blocks spells `i` in binary, over moving texture."""
    rng = np.random.default_rng(i // 7)
    image = np.full((height, width, 3), 96, np.uint8)
    texture = rng.integers(64, 160, (height - BLOCK, width // 8, 3), np.uint8)
    texture = np.repeat(texture, 8, axis=1)
    image[BLOCK:] = np.roll(texture, 2 * i, axis=1)
    for bit in range(BITS):
        value = 255 if (i >> bit) & 1 else 0
        image[:BLOCK, bit * BLOCK : (bit + 1) * BLOCK] = value
    return image


def read_index(image):
    """Inverse of `frame_with_index` (robust to compression)."""
    bits = [
        image[2:-2, b * BLOCK + 2 : (b + 1) * BLOCK - 2].mean() > 128
        for b in range(BITS)
    ]
    return sum(1 << b for b, on in enumerate(bits) if on)


def write_indexed_video(path, num_frames, gop, bframes, fps=30):
    """h264 file with a chosen keyframe interval and B-frames; frame i shows i."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(
            "libx264", rate=fps, options={"threads": "1", "crf": "20"}
        )
        stream.width, stream.height, stream.pix_fmt = BITS * BLOCK, 48, "yuv420p"
        stream.codec_context.gop_size = gop
        stream.codec_context.max_b_frames = bframes
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(frame_with_index(i), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_variable_rate_video(path):
    """100 frames: 50 frames 20 ms apart, then 50 frames 100 ms apart."""
    time_base = fractions.Fraction(1, 1000)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=30, options={"threads": "1"})
        stream.width, stream.height, stream.pix_fmt = BITS * BLOCK, 48, "yuv420p"
        stream.codec_context.gop_size = 20
        stream.codec_context.time_base = time_base
        timestamp = 0
        for i in range(100):
            frame = av.VideoFrame.from_ndarray(frame_with_index(i), format="rgb24")
            frame.pts, frame.time_base = timestamp, time_base
            timestamp += 20 if i < 50 else 100
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def sequential_frames(path, backend):
    """Every frame of the first video stream, decoded front to back."""
    if backend == "pyav":
        with av.open(str(path)) as container:
            return np.stack(
                [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
            )
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    capture.release()
    return np.stack(frames)


def videos(shared_data):
    """The folder of real test videos."""
    return shared_data / "videos"


REAL_FILES = {
    "mmaction2_test.mp4": (300, (256, 340)),
    "mmaction2_test.avi": (164, (240, 320)),
    "mmaction2_demo.mp4": (280, (256, 340)),
    "flipping_a_pancake.mkv": (310, (240, 426)),
    "decord_video_0.mov": (3, (320, 568)),
    "decord_video_90.mov": (3, (568, 320)),
    "decord_video_180.mov": (3, (320, 568)),
    "decord_video_270.mov": (3, (568, 320)),
    "decord_unordered.mov": (4, (50, 50)),
    "nasa_13013.mp4": (325, (180, 320)),
    "torchcodec_av1_video.mkv": (125, (360, 640)),
    "torchcodec_h265_video.mp4": (10, (128, 128)),
    "torchcodec_h264_10bits.mp4": (30, (200, 200)),
    "moviepy_bbb_432_433.webm": (24, (720, 1280)),
    "moviepy_transparent_vp9.webm": (150, (200, 200)),
    "moviepy_no_duration_vp9.webm": (74, (720, 1280)),
}

EIGHT_BIT_OPENCV_FILES = [
    name
    for name in REAL_FILES
    if name not in ("torchcodec_av1_video.mkv", "torchcodec_h264_10bits.mp4")
]


# Prepended to scripts run in a fresh interpreter: imports `keras_video.data.video`
# without the package `__init__` files (they import Keras and TensorFlow, seconds
# that have nothing to do with decoding).
IMPORT_VIDEO_ONLY = f"""
import sys, types
for name, folder in (("keras_video", ""), ("keras_video.data", "data")):
    package = types.ModuleType(name)
    package.__path__ = [{str(ROOT / "keras_video")!r} + "/" + folder]
    sys.modules[name] = package
"""


def run_script(script, env=None, timeout=120):
    """Runs `IMPORT_VIDEO_ONLY + script` in a fresh interpreter; returns the result."""
    return subprocess.run(
        [sys.executable, "-c", IMPORT_VIDEO_ONLY + textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
