"""End-point error, the standard accuracy measure of optical flow."""

import numpy as np

# Middlebury marks unknown flow with components above 1e9.
UNKNOWN_FLOW = 1e9


def epe(flow, ground_truth, mask=None):
    """Mean end-point error: the mean Euclidean distance between flow vectors.

    `mean(sqrt((x - x_gt)^2 + (y - y_gt)^2))` over the pixels where `mask` is
    true and the ground truth is known (finite, both components at most 1e9
    in magnitude: Middlebury's mark for unknown flow).

    Args:
        flow: float array of shape `(..., H, W, 2)`.
        ground_truth: float array of the same shape.
        mask: optional boolean array of shape `(..., H, W)` (or one that
            broadcasts to it): the pixels to count.

    Returns:
        the mean end-point error in pixels, a Python float.

    Raises:
        ValueError: shapes differ or are not `(..., 2)`, the mask does not
            broadcast, or no pixel is left to count.

    Example:

    ```python
    import numpy as np
    from keras_video import flow

    gt = np.zeros((4, 4, 2))
    flow.epe(gt + [3.0, 4.0], gt)  # 5.0
    ```

    Reference:
    - [Baker et al., A Database and Evaluation Methodology for Optical Flow
      (IJCV 2011)](https://vision.middlebury.edu/flow/)
    """
    flow = np.asarray(flow, dtype=np.float64)
    ground_truth = np.asarray(ground_truth, dtype=np.float64)
    if flow.shape != ground_truth.shape or flow.ndim < 3 or flow.shape[-1] != 2:
        raise ValueError(
            "`flow` and `ground_truth` must have the same shape (..., H, W, 2). "
            f"Received: flow.shape={flow.shape}, "
            f"ground_truth.shape={ground_truth.shape}"
        )
    valid = np.all(
        np.isfinite(ground_truth) & (np.abs(ground_truth) <= UNKNOWN_FLOW), -1
    )
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(
                f"`mask` must be boolean. Received: mask.dtype={mask.dtype}"
            )
        try:
            valid = valid & np.broadcast_to(mask, valid.shape)
        except ValueError as e:
            raise ValueError(
                f"`mask` must broadcast to {valid.shape}. "
                f"Received: mask.shape={mask.shape}"
            ) from e
    if not valid.any():
        raise ValueError(
            "No pixel to count: the mask and the known ground truth are empty"
        )
    distance = np.linalg.norm(
        flow - np.where(valid[..., None], ground_truth, 0), axis=-1
    )
    return float(distance[valid].mean())
