"""Middlebury `.flo` files: optical flow as float32, little-endian.

Layout: float32 magic `202021.25` (the bytes spell "PIEH"), int32 width,
int32 height, then `height * width * 2` float32 values, row by row, `(x, y)`
interleaved. Components above 1e9 mark unknown flow.
"""

import os

import numpy as np

from keras_video.flow.storage import write_atomic

MAGIC = 202021.25
HEADER_BYTES = 12


def read_flo(path):
    """Reads a Middlebury `.flo` file.

    Args:
        path: the file.

    Returns:
        float32 array of shape `(H, W, 2)`, the flow `(x, y)`.

    Raises:
        ValueError: the magic number is wrong, the size is not positive, or
            the file length does not match `12 + 8 * width * height` bytes;
            the message names the file.

    Example:

    ```python
    from keras_video import flow

    xy = flow.read_flo("../shared/data/flow/mmflow/00001_flow.flo")
    xy.shape  # (50, 50, 2)
    ```

    Reference:
    - [Baker et al., A Database and Evaluation Methodology for Optical Flow
      (IJCV 2011)](https://vision.middlebury.edu/flow/)
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < HEADER_BYTES:
        raise ValueError(
            f"{path} is not a .flo file: {len(data)} bytes, shorter than the "
            f"{HEADER_BYTES}-byte header"
        )
    magic = float(np.frombuffer(data, "<f4", count=1)[0])
    if magic != MAGIC:
        raise ValueError(
            f"{path} is not a .flo file: magic number {magic!r}, expected {MAGIC}"
        )
    width, height = (int(v) for v in np.frombuffer(data, "<i4", count=2, offset=4))
    expected = HEADER_BYTES + 8 * width * height if width > 0 and height > 0 else None
    if expected != len(data):
        raise ValueError(
            f"{path}: header says width={width}, height={height} "
            f"({expected} bytes) but the file has {len(data)} bytes"
        )
    values = np.frombuffer(data, "<f4", offset=HEADER_BYTES)
    return values.reshape(height, width, 2).astype(np.float32)


def write_flo(path, flow):
    """Writes flow of shape `(H, W, 2)` as a Middlebury `.flo` file (atomically).

    Args:
        path: the file; replaced whole or not at all (temporary file, then
            `os.replace`).
        flow: float array of shape `(H, W, 2)`.

    Example:

    ```python
    import numpy as np
    from keras_video import flow

    flow.write_flo("/tmp/zero.flo", np.zeros((4, 6, 2), np.float32))
    flow.read_flo("/tmp/zero.flo").shape  # (4, 6, 2)
    ```

    Reference:
    - [Baker et al., A Database and Evaluation Methodology for Optical Flow
      (IJCV 2011)](https://vision.middlebury.edu/flow/)
    """
    flow = np.asarray(flow)
    if flow.ndim != 3 or flow.shape[-1] != 2 or 0 in flow.shape:
        raise ValueError(
            f"`flow` must have shape (H, W, 2). Received: flow.shape={flow.shape}"
        )
    height, width = flow.shape[:2]
    header = (
        np.array([MAGIC], "<f4").tobytes() + np.array([width, height], "<i4").tobytes()
    )
    write_atomic(path, header + flow.astype("<f4").tobytes())
