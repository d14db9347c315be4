import time

import numpy as np

from keras_video.streaming.live import latency_stats, stream_predict
from keras_video.streaming.synthetic import serve_mjpeg


class SlowStreamer:
    """A stand-in model that takes `seconds` per frame (slower than 30 fps)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.frames = []

    def update(self, frame):
        self.frames.append(frame)
        time.sleep(self.seconds)
        return np.array([float(frame.mean())])


def test_a_slow_model_on_a_30_fps_loopback_stream_drops_frames_not_latency():
    url, stop = serve_mjpeg(fps=30, size=(48, 64), num_frames=90)
    latencies = []
    try:
        stats = stream_predict(
            url, SlowStreamer(0.06), (32, 32),
            on_prediction=lambda i, scores, latency: latencies.append(latency),
        )  # fmt: skip
    finally:
        stop()
    assert stats["produced"] == 90
    # Every frame read was either processed or dropped: nothing queued.
    assert stats["processed"] + stats["dropped"] == 90
    assert stats["dropped"] > 20 and 0.2 < stats["drop_rate"] < 0.9
    # Latency is bounded by about one inference plus one frame period, and
    # does not grow over the stream (an unbounded queue would grow it).
    assert stats["p95_ms"] < 400, stats
    quarter = len(latencies) // 4
    assert np.mean(latencies[-quarter:]) < np.mean(latencies[:quarter]) + 0.1
    assert set(latency_stats(latencies)) == {"mean_ms", "p50_ms", "p95_ms", "max_ms"}


def test_cli_predict_stream_reports_latency_and_drops(tmp_path, capsys):
    import json

    from keras_video import cli
    from keras_video.applications import RecurrentCNN

    model = RecurrentCNN(base_filters=4, depth=2, classes=3,
                         input_shape=(8, 16, 16, 3))  # fmt: skip
    model.save(tmp_path / "model.keras")
    url, stop = serve_mjpeg(fps=30, size=(48, 64), num_frames=45)
    try:
        argv = ["predict", "--stream", url, "--model", str(tmp_path / "model.keras")]
        assert cli.main(argv) == 0
    finally:
        stop()
    out = capsys.readouterr().out
    stats = json.loads(out[out.index("{") :])
    assert stats["streamer"] == "CausalStreamer" and stats["produced"] == 45
    assert stats["processed"] + stats["dropped"] == 45
    assert out.startswith("frame      0")
    assert cli.main(["predict", "--stream", url]) == 1  # --model is needed
