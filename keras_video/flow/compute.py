"""Dense optical flow between consecutive frames with OpenCV.

Three methods sit behind one name table (`METHODS`): TV-L1, the method of the
two-stream and I3D papers (OpenCV's contrib module `cv2.optflow`; the most
accurate and slowest: 0.8 fields/s per core at 320x240), DIS (about 150
fields/s with the medium preset) and Farneback (about 90 fields/s); figures in
`benchmarks/README.md`. Options keep the names OpenCV gives them, so the
OpenCV documentation applies as is.
"""

import cv2
import numpy as np

DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}

# DIS options other than `preset` are set through OpenCV's setters:
# `patchSize=8` calls `setPatchSize(8)`.
DIS_SETTERS = (
    "finestScale",
    "coarsestScale",
    "patchSize",
    "patchStride",
    "gradientDescentIterations",
    "variationalRefinementIterations",
    "variationalRefinementAlpha",
    "variationalRefinementDelta",
    "variationalRefinementGamma",
    "variationalRefinementEpsilon",
    "useMeanNormalization",
    "useSpatialPropagation",
)

# `cv2.calcOpticalFlowFarneback` has no defaults: these are the values of
# OpenCV's tutorial and `samples/python/opt_flow.py`. On the mmflow pair
# 00001 they give EPE 1.26; `cv2.FarnebackOpticalFlow_create`'s defaults
# (levels=5, winsize=13, iterations=10, poly_sigma=1.1) give 1.34, slower.
FARNEBACK_DEFAULTS = {
    "pyr_scale": 0.5,
    "levels": 3,
    "winsize": 15,
    "iterations": 3,
    "poly_n": 5,
    "poly_sigma": 1.2,
    "flags": 0,
}


def _tvl1(options):
    algorithm = cv2.optflow.DualTVL1OpticalFlow_create(**options)
    return lambda prev, nxt: algorithm.calc(prev, nxt, None)


def _dis(options):
    preset = options.pop("preset", "medium")
    if preset not in DIS_PRESETS:
        raise ValueError(
            f"Unknown DIS preset. Expected one of {sorted(DIS_PRESETS)}. "
            f"Received: preset={preset!r}"
        )
    algorithm = cv2.DISOpticalFlow_create(DIS_PRESETS[preset])
    for name, value in options.items():
        getattr(algorithm, "set" + name[0].upper() + name[1:])(value)
    return lambda prev, nxt: algorithm.calc(prev, nxt, None)


def _farneback(options):
    settings = {**FARNEBACK_DEFAULTS, **options}
    return lambda prev, nxt: cv2.calcOpticalFlowFarneback(prev, nxt, None, **settings)


# name -> (builder of `flow(prev_gray, next_gray)`, accepted option names)
METHODS = {
    "tvl1": (
        _tvl1,
        (
            "tau",
            "lambda_",
            "theta",
            "nscales",
            "warps",
            "epsilon",
            "innnerIterations",
            "outerIterations",
            "scaleStep",
            "gamma",
            "medianFiltering",
        ),
    ),
    "dis": (_dis, ("preset", *DIS_SETTERS)),
    "farneback": (_farneback, tuple(FARNEBACK_DEFAULTS)),
}


def compute(frames, method="tvl1", **options):
    """Dense optical flow between each pair of consecutive frames.

    The frames are converted to grayscale (`cv2.COLOR_RGB2GRAY`) and the flow
    from frame `t` to frame `t + 1` is computed with one OpenCV algorithm
    object reused over the clip. A pair is a clip of two frames.

    Flow `(x, y)` at pixel `(row, col)` of frame `t` says where that pixel is
    in frame `t + 1`: `frames[t][row, col] ~ frames[t + 1][row + y, col + x]`
    (x to the right, y down, in pixels).

    Args:
        frames: uint8 RGB array of shape `(T, H, W, 3)`, `T >= 2`.
        method: `"tvl1"` (Zach et al.; the default, as in the two-stream and
            I3D papers), `"dis"` or `"farneback"`.
        **options: the method's parameters, named as OpenCV names them.
            `"tvl1"`: the arguments of
            `cv2.optflow.DualTVL1OpticalFlow_create`: `tau, lambda_, theta,
            nscales, warps, epsilon, innnerIterations` (sic),
            `outerIterations, scaleStep, gamma, medianFiltering`.
            `"dis"`: `preset` (`"ultrafast"`, `"fast"` or `"medium"`, the
            default) and the names of `cv2.DISOpticalFlow`'s setters without
            `set` (`patchSize`, `patchStride`, `finestScale`,
            `variationalRefinementIterations`, ...).
            `"farneback"`: the arguments of `cv2.calcOpticalFlowFarneback`:
            `pyr_scale, levels, winsize, iterations, poly_n, poly_sigma,
            flags`; defaults are the values of OpenCV's tutorial
            (0.5, 3, 15, 3, 5, 1.2, 0).

    Returns:
        float32 array of shape `(T - 1, H, W, 2)`: the flow `(x, y)` from
        each frame to the next.

    Raises:
        ValueError: `frames` is not a uint8 `(T, H, W, 3)` array with
            `T >= 2`, `method` is unknown, an option is unknown to the method
            or OpenCV rejects its value.

    Example:

    ```python
    import numpy as np
    from keras_video import flow

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    frames = np.stack([image, np.roll(image, 2, axis=1)])  # 2 px to the right
    xy = flow.compute(frames, method="dis")
    xy.shape  # (1, 64, 64, 2); xy[0, 32, 32] is about (2, 0)
    ```

    Reference:
    - [Zach, Pock and Bischof, A Duality Based Approach for Realtime TV-L1
      Optical Flow (DAGM 2007)](https://doi.org/10.1007/978-3-540-74936-3_22)
    - [Kroeger, Timofte, Dai and Van Gool, Fast Optical Flow using Dense
      Inverse Search (ECCV 2016)](https://arxiv.org/abs/1603.03590)
    - [Farneback, Two-Frame Motion Estimation Based on Polynomial Expansion
      (SCIA 2003)](https://doi.org/10.1007/3-540-45103-X_50)
    """
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8:
        dtype = getattr(frames, "dtype", type(frames).__name__)
        raise ValueError(
            "`frames` must be a uint8 NumPy array of shape (T, H, W, 3). "
            f"Received: frames.dtype={dtype}"
        )
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] < 2:
        raise ValueError(
            "`frames` must have shape (T, H, W, 3) with T >= 2 (RGB frames; "
            f"the flow is between consecutive ones). Received: "
            f"frames.shape={frames.shape}"
        )
    if method not in METHODS:
        raise ValueError(
            f"Unknown flow method. Expected one of {sorted(METHODS)}. "
            f"Received: method={method!r}"
        )
    build, accepted = METHODS[method]
    for name, value in options.items():
        if name not in accepted:
            raise ValueError(
                f"Unknown option for method={method!r}. Expected one of "
                f"{list(accepted)}. Received: {name}={value!r}"
            )
    try:
        flow_between = build(dict(options))
        gray = [cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in frames]
        first = flow_between(gray[0], gray[1])
    except (cv2.error, TypeError) as e:
        received = ", ".join(f"{k}={v!r}" for k, v in options.items())
        raise ValueError(
            f"OpenCV rejected the options of method={method!r} ({e}). "
            f"Received: {received}"
        ) from e
    flow = np.empty((len(gray) - 1, *first.shape), np.float32)
    flow[0] = first
    for t in range(1, len(gray) - 1):
        flow[t] = flow_between(gray[t], gray[t + 1])
    return flow
