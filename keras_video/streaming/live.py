"""`stream_predict`: live predictions from a `FrameSource`, with bounded latency.

The loop takes the newest frame the source kept (older ones were dropped and
counted), resizes and centre-crops it to the model's size, feeds it to a
streamer (`CausalStreamer` or `SlidingWindow`) and reports the scores. The
latency of a prediction is the time from the frame's capture to its scores;
since the source keeps at most `buffer` frames, a slow model makes the loop
drop frames rather than fall behind, so latency stays near one inference
time plus one frame period however long the stream runs.
"""

import time

import numpy as np

from keras_video.streaming.source import FrameSource, center_crop_resize


def latency_stats(latencies):
    """Mean, median, 95th percentile and max of `latencies` (seconds -> ms)."""
    if not len(latencies):
        return {"mean_ms": None, "p50_ms": None, "p95_ms": None, "max_ms": None}
    ms = np.asarray(latencies) * 1000.0
    return {
        "mean_ms": float(ms.mean()),
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "max_ms": float(ms.max()),
    }


def stream_predict(
    source, streamer, image_size, *, max_frames=None, max_seconds=None,
    buffer=1, on_prediction=None, realtime=True, warmup=True,
):  # fmt: skip
    """Runs `streamer` on a live source until it ends or a limit is reached.

    Args:
        source: a `FrameSource`, or what `FrameSource` takes (camera index,
            URL, video file).
        streamer: an object with `update(frame) -> scores or None` (e.g.
            `CausalStreamer`, `SlidingWindow`).
        image_size: `(height, width)` frames are resized and cropped to.
        max_frames: stop after this many frames processed.
        max_seconds: stop after this many seconds.
        buffer: frames the source keeps (older ones are dropped).
        on_prediction: called as `f(frame_index, scores, latency_seconds)`.
        realtime: pace a file at its frame rate.
        warmup: run the streamer on black frames (then `reset()` it) before
            the source starts, so the first prediction does not pay for
            tracing and memory set-up.

    Returns:
        dict: `produced` (frames the source read), `processed`, `dropped`,
        `drop_rate` (`dropped / produced`), latency statistics in ms
        (`mean_ms`, `p50_ms`, `p95_ms`, `max_ms`), `inference_ms` (mean
        time in `update`), `seconds`, `source_fps` (measured).
    """
    if not isinstance(source, FrameSource):
        source = FrameSource(source, buffer=buffer, realtime=realtime)
    if warmup:
        black = np.zeros((*image_size, 3), np.float32)
        for _ in range(getattr(streamer, "clip_length", 1) or 1):
            streamer.update(black)
        if hasattr(streamer, "reset"):
            streamer.reset()
    latencies, inference = [], []
    processed = 0
    start = time.monotonic()
    with source:
        while True:
            if max_frames is not None and processed >= max_frames:
                break
            if max_seconds is not None and time.monotonic() - start >= max_seconds:
                break
            item = source.read()
            if item is None:
                break
            frame, captured = item
            began = time.monotonic()
            scores = streamer.update(center_crop_resize(frame, image_size))
            done = time.monotonic()
            inference.append(done - began)
            processed += 1
            if scores is not None:
                latencies.append(done - captured)
                if on_prediction is not None:
                    on_prediction(processed - 1, scores, done - captured)
        elapsed = time.monotonic() - start
    produced = source.produced
    dropped = source.dropped
    return {
        "produced": produced,
        "processed": processed,
        "dropped": dropped,
        "drop_rate": dropped / produced if produced else 0.0,
        **latency_stats(latencies),
        "inference_ms": float(np.mean(inference) * 1000.0) if inference else None,
        "seconds": elapsed,
        "source_fps": produced / elapsed if elapsed else 0.0,
    }
