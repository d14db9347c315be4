import cv2
import numpy as np

from keras_video.data import VideoReader, write_video
from keras_video.streaming.synthetic import frame_number, serve_mjpeg, synthetic_frame


def test_frame_numbers_survive_jpeg_and_h264(tmp_path):
    frames = np.stack([synthetic_frame(i, (48, 64)) for i in range(40)])
    assert frames.shape == (40, 48, 64, 3) and frames.dtype == np.uint8
    for i, frame in enumerate(frames):
        ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 70])
        assert frame_number(cv2.imdecode(jpeg, cv2.IMREAD_COLOR)) == i % 32
    path = str(tmp_path / "v.mp4")
    write_video(path, frames, fps=30)
    with VideoReader(path) as reader:
        decoded = reader.get_frames(range(40))
    assert [frame_number(f) for f in decoded] == [i % 32 for i in range(40)]


def test_server_sends_the_frames_at_its_rate():
    import time

    from keras_video.streaming.source import FrameSource

    url, stop = serve_mjpeg(fps=30, size=(48, 64), num_frames=30)
    assert url.startswith("http://127.0.0.1:")
    start = time.monotonic()
    try:
        with FrameSource(url, buffer=64) as source:
            numbers = []
            while (item := source.read()) is not None:
                numbers.append(frame_number(item[0]))
    finally:
        stop()
    elapsed = time.monotonic() - start
    assert numbers == list(range(30)) and source.dropped == 0
    assert elapsed > 0.9  # 30 frames at 30 fps: about a second, not at once
