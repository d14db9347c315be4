"""A synthetic live source on loopback: an MJPEG stream over HTTP at a set rate.

`serve_mjpeg(fps=30)` starts an HTTP server on `127.0.0.1` (a free port) that
sends `multipart/x-mixed-replace` JPEG frames at `fps` in real time, the way
IP cameras do; `FrameSource(url)` reads it like any network stream. Frame `i`
is a moving bar, with `i % 32` written as the grey level of its top-left
block (`frame_number`), so a reader can tell which frames it got. Used to
test and measure streaming latency and drops; it only listens on the
loopback address.
"""

import http.server
import threading
import time

import numpy as np

BOUNDARY = "kerasvideoframe"


def synthetic_frame(i, size=(96, 128)):
    """Frame `i`: a bar moving right on grey, `i % 32` as the grey level
    `8 * (i % 32) + 4` of the top-left 8x8 block."""
    height, width = size
    frame = np.full((height, width, 3), 96, np.uint8)
    x = (i * 4) % width
    frame[:, x : x + 8] = (240, 200, 40)
    frame[:8, :8] = 8 * (i % 32) + 4  # a flat block: survives JPEG and h264
    return frame


def frame_number(frame):
    """The `i % 32` written by `synthetic_frame` (after lossy coding)."""
    return int(round((float(np.median(frame[2:6, 2:6])) - 4) / 8)) % 32


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def serve_mjpeg(fps=30.0, size=(96, 128), num_frames=None, quality=90):
    """Starts the loopback MJPEG server.

    Args:
        fps: frames per second sent (real time).
        size: `(height, width)` of the frames.
        num_frames: frames per connection, `None` for endless.
        quality: JPEG quality.

    Returns:
        `(url, stop)`: the stream's URL and a function that stops the server.
    """
    import cv2

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header(
                "Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}"
            )
            self.end_headers()
            start = time.monotonic()
            i = 0
            try:
                while num_frames is None or i < num_frames:
                    delay = start + i / fps - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    bgr = cv2.cvtColor(synthetic_frame(i, size), cv2.COLOR_RGB2BGR)
                    ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY,
                                                          quality])  # fmt: skip
                    data = jpeg.tobytes()
                    self.wfile.write(
                        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                        f"Content-Length: {len(data)}\r\n\r\n".encode()
                        + data + b"\r\n"
                    )  # fmt: skip
                    i += 1
            except (BrokenPipeError, ConnectionResetError):
                return

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/stream.mjpg"

    def stop():
        server.shutdown()
        server.server_close()

    return url, stop
