"""Flow as uint8 images, the way two-stream work stores it.

Each flow component is clipped to `[-bound, bound]` and mapped linearly to
0..255 (`round(255 * (v + bound) / (2 * bound))`, the convention of the TSN
`dense_flow` tool that MMAction2's `denseflow` continues; `bound=20` as in the
two-stream and I3D papers). The x and y components of flow frame `t` are two
grayscale images, `x_{t+1:05d}.jpg` and `y_{t+1:05d}.jpg` (numbered from 1),
the names MMAction2's `RawframeDataset` reads for `modality="Flow"` with
`filename_tmpl="{}_{:05d}.jpg"`.

Every file is written under a temporary name in the same folder and renamed
onto its final name (`os.replace`), so a killed job leaves whole frames or
no frame, never a half-written image that a later run would trust.
"""

import os
import re

import cv2
import numpy as np

from keras_video.files import write_atomic  # noqa: F401 - part of this API

FORMATS = ("jpg", "png")


def _check_bound(bound):
    if not np.isfinite(bound) or bound <= 0:
        raise ValueError(f"`bound` must be a positive number. Received: bound={bound}")


def to_uint8(flow, bound=20):
    """Quantises flow to uint8: clip to `[-bound, bound]`, map to 0..255.

    `q = round(255 * (clip(v, -bound, bound) + bound) / (2 * bound))`, with
    ties to even (OpenCV's `cvRound`). Zero flow maps to 128 (127.5 rounded).

    Args:
        flow: float array of any shape, usually `(..., H, W, 2)`.
        bound: positive float, the largest magnitude kept per component.

    Returns:
        uint8 array of the same shape.

    Raises:
        ValueError: `bound` is not positive or `flow` has NaN or infinity.

    Example:

    ```python
    import numpy as np
    from keras_video import flow

    flow.to_uint8(np.array([-25.0, -20.0, 0.0, 20.0]))  # [0, 0, 128, 255]
    ```

    Reference:
    - [Wang et al., Temporal Segment Networks (ECCV 2016)](
      https://arxiv.org/abs/1608.00859) and its `dense_flow` tool.
    """
    _check_bound(bound)
    flow = np.asarray(flow, dtype=np.float64)
    if not np.isfinite(flow).all():
        raise ValueError(
            "`flow` must be finite to be quantised. Received: flow with "
            f"{int((~np.isfinite(flow)).sum())} non-finite values"
        )
    scaled = (np.clip(flow, -bound, bound) + bound) * (255.0 / (2.0 * bound))
    return np.rint(scaled).astype(np.uint8)


def from_uint8(quantized, bound=20):
    """Inverts `to_uint8`: `v = q * 2 * bound / 255 - bound`.

    For flow inside `[-bound, bound]`, `from_uint8(to_uint8(flow))` is within
    half a quantisation step, `bound / 255`, of `flow`.

    Args:
        quantized: uint8 array.
        bound: the `bound` the flow was quantised with.

    Returns:
        float32 array of the same shape.

    Example:

    ```python
    import numpy as np
    from keras_video import flow

    flow.from_uint8(np.array([0, 255], np.uint8))  # [-20.0, 20.0]
    ```
    """
    _check_bound(bound)
    quantized = np.asarray(quantized)
    if quantized.dtype != np.uint8:
        raise ValueError(
            f"`quantized` must be uint8. Received: quantized.dtype={quantized.dtype}"
        )
    flow = quantized * (2.0 * bound / 255.0) - bound
    return flow.astype(np.float32)


def _check_format(format):
    if format not in FORMATS:
        raise ValueError(
            f"`format` must be one of {FORMATS}. Received: format={format!r}"
        )


def flow_frame_paths(folder, index, format="jpg"):
    """The `(x, y)` file names of flow frame `index` (0-based): `x_00001.jpg`...

    Frame `index` is stored as number `index + 1`, as MMAction2 numbers frames.
    """
    _check_format(format)
    return tuple(
        os.path.join(os.fspath(folder), f"{axis}_{index + 1:05d}.{format}")
        for axis in "xy"
    )


def write_flow_frames(folder, flow, bound=20, format="jpg", *, jpeg_quality=95):
    """Writes flow frames as x/y grayscale image pairs (`x_00001.jpg`, ...).

    Each component is quantised with `to_uint8(flow, bound)`. JPEG (the
    default, as two-stream data sets store flow) is lossy: measured on smooth
    flow at quality 95 the error stays within a few grey levels; PNG is exact.
    Existing files of the same names are replaced, each one atomically.

    Args:
        folder: output folder, created if needed.
        flow: float array of shape `(T, H, W, 2)`.
        bound: quantisation bound, see `to_uint8`.
        format: `"jpg"` or `"png"`.
        jpeg_quality: JPEG quality 0-100 (OpenCV's default, 95).

    Returns:
        the list of `(x_path, y_path)` written, one per flow frame.

    Example:

    ```python
    import numpy as np
    from keras_video import flow

    xy = np.zeros((3, 32, 32, 2), np.float32)
    flow.write_flow_frames("/tmp/flow_demo", xy)  # x_00001.jpg ... y_00003.jpg
    flow.read_flow_frames("/tmp/flow_demo").shape  # (3, 32, 32, 2)
    ```
    """
    _check_format(format)
    flow = np.asarray(flow)
    if flow.ndim != 4 or flow.shape[-1] != 2:
        raise ValueError(
            f"`flow` must have shape (T, H, W, 2). Received: flow.shape={flow.shape}"
        )
    quantized = to_uint8(flow, bound)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)] if format == "jpg" else []
    os.makedirs(folder, exist_ok=True)
    written = []
    for index, frame in enumerate(quantized):
        paths = flow_frame_paths(folder, index, format)
        for channel, path in enumerate(paths):
            ok, encoded = cv2.imencode(f".{format}", frame[..., channel], params)
            if not ok:
                raise ValueError(f"OpenCV could not encode {path}")
            write_atomic(path, encoded.tobytes())
        written.append(paths)
    return written


def _count_frames(folder, format):
    pattern = re.compile(rf"x_(\d{{5,}})\.{format}$")
    numbers = sorted(
        int(m.group(1)) for m in map(pattern.match, os.listdir(folder)) if m
    )
    if numbers != list(range(1, len(numbers) + 1)):
        missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
        raise ValueError(
            f"Flow frames in {folder} are not numbered 1..N: x_{missing[0]:05d}."
            f"{format} is missing"
        )
    return len(numbers)


def read_flow_frames(folder, indices=None, *, bound=20, format="jpg"):
    """Reads flow frames written by `write_flow_frames` (or MMAction2's layout).

    Args:
        folder: folder of `x_00001.jpg`, `y_00001.jpg`, ... files.
        indices: 0-based flow frame indices (index `t` reads `x_{t+1:05d}`),
            or `None` for all frames `x_00001` ... `x_N` (they must be
            numbered without gaps).
        bound: the quantisation bound the frames were written with.
        format: `"jpg"` or `"png"`.

    Returns:
        float32 array of shape `(T, H, W, 2)`, `from_uint8` of the images.

    Raises:
        FileNotFoundError: a wanted file does not exist (named).
        ValueError: a file does not decode, or frames differ in size (named).

    Example:

    ```python
    from keras_video import flow

    xy = flow.read_flow_frames("/tmp/flow_demo", indices=[0, 2])
    ```
    """
    _check_format(format)
    folder = os.fspath(folder)
    if indices is None:
        indices = range(_count_frames(folder, format))
    frames = []
    for index in indices:
        pair = []
        for path in flow_frame_paths(folder, int(index), format):
            if not os.path.isfile(path):
                raise FileNotFoundError(f"Flow frame not found: {path}")
            image = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
            if image is None:
                raise ValueError(f"Could not decode flow frame {path}")
            if frames and image.shape != frames[0].shape[:2]:
                raise ValueError(
                    f"Flow frame {path} has size {image.shape}, the first "
                    f"frame {frames[0].shape[:2]}"
                )
            pair.append(image)
        frames.append(np.stack(pair, axis=-1))
    if not frames:
        raise ValueError(
            f"No flow frames to read in {folder}. Received: indices={indices}"
        )
    return from_uint8(np.stack(frames), bound)
