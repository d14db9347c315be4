"""Streaming latency and drop rate on a synthetic 30 fps loopback stream.

A `serve_mjpeg` server on 127.0.0.1 sends 30 fps MJPEG frames (240x320) in
real time for `--seconds`; `stream_predict` runs a model on it, keeping only
the newest frame (`buffer=1`). Two models, both slower than the source on
this machine:

- recurrent: `RecurrentCNN(base_filters=16, depth=3)` at 112x112, frame by
  frame with carried state (`CausalStreamer`);
- window: `R2Plus1D(depth=18, base_filters=16)` on the last 8 frames at
  112x112 after every frame (`SlidingWindow`).

Prints one JSON line per model: frames produced, processed, dropped, drop
rate, latency mean / p50 / p95 / max (capture to scores, ms) and mean
inference time.

    python benchmarks/stream_latency.py --seconds 20
"""

import argparse
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--fps", type=float, default=30.0)
    args = parser.parse_args()

    from keras_video.applications import R2Plus1D, RecurrentCNN
    from keras_video.streaming import (
        CausalStreamer,
        SlidingWindow,
        serve_mjpeg,
        stream_predict,
    )

    models = {
        "recurrent": lambda: CausalStreamer(RecurrentCNN(
            base_filters=16, depth=3, classes=10, input_shape=(None, 112, 112, 3))),
        "window": lambda: SlidingWindow(R2Plus1D(
            depth=18, base_filters=16, classes=10, input_shape=(8, 112, 112, 3))),
    }  # fmt: skip
    for name, build in models.items():
        streamer = build()
        num_frames = int(args.seconds * args.fps)
        url, stop = serve_mjpeg(fps=args.fps, size=(240, 320), num_frames=num_frames)
        try:
            stats = stream_predict(url, streamer, (112, 112))
        finally:
            stop()
        row = {"model": name, "streamer": type(streamer).__name__, "fps": args.fps}
        row.update({k: round(v, 3) if isinstance(v, float) else v
                    for k, v in stats.items()})  # fmt: skip
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
