import keras
from keras import ops

from keras_video.layers import _validation as check


@keras.saving.register_keras_serializable(package="keras_video")
class RoIAlign(keras.layers.Layer):
    """RoIAlign (Mask R-CNN) with the semantics of torchvision's `roi_align`.

    Each box is divided into `output_size` bins; each bin averages the
    feature map bilinearly sampled at a regular grid of points in it, the
    rules of torchvision's CPU/CUDA kernel (the one Detectron2 and PySlowFast
    call):

    - box coordinates are pixels of the input image, `(x1, y1, x2, y2)`;
      `spatial_scale` maps them onto the feature map (1/16 for a stride-16
      map), and `aligned=True` then shifts them by -0.5 so that a pixel's
      centre falls on a map cell's centre (Detectron2; torchvision's
      default is `False`, which instead stretches boxes smaller than one
      cell to one cell);
    - `sampling_ratio > 0` samples that many points per bin along each axis;
      `sampling_ratio <= 0` (the default, as PySlowFast) samples
      `ceil(box_size / output_size)`, different per box. The static-shaped
      version computes up to `H` (`W`) points per bin and masks the unused
      ones, as torchvision's pure-Python `_roi_align` does, so it equals the
      kernel unless a box is more than `output_size` times the map's size;
    - a sample at `y < -1` or `y > H` (`x < -1`, `x > W`) counts as 0; any
      other is clamped into `[0, H - 1]` (`[0, W - 1]`) and interpolated from
      its four neighbours; each bin is the mean of its samples.

    Padding: a box row with `x2 <= x1` or `y2 <= y1` (e.g. all `-1`, or all
    `0`) is padding and gives zeros, so a batch can hold a different number
    of boxes per clip (torchvision instead pools a degenerate box with
    `aligned=False`). `N = 0` boxes gives an empty output.

    The computation is separable: per box a `(out_h, H)` matrix of row
    weights and a `(out_w, W)` matrix of column weights, applied to the map
    with two `einsum`s (no gathers), so it runs on every backend and is
    differentiable in the features.

    Args:
        output_size: `(out_h, out_w)` bins per box, or one int for both.
        spatial_scale: factor from box (input pixel) coordinates to
            feature-map coordinates, e.g. `1 / 16`.
        sampling_ratio: sample points per bin along each axis; `<= 0` for
            torchvision's adaptive `ceil(box_size / output_size)`.
        aligned: shift the scaled boxes by -0.5 (Detectron2, PySlowFast).

    Input shape:
        `[features, boxes]`: `(batch, H, W, channels)` channels last, with a
        known `H` and `W`, and `(batch, N, 4)` boxes `(x1, y1, x2, y2)` in
        input pixels (cast to float32, also under mixed precision).

    Output shape:
        `(batch, N, out_h, out_w, channels)`.

    Example:

    ```python
    import numpy as np
    from keras_video.layers import RoIAlign

    features = np.random.rand(2, 14, 14, 64).astype("float32")  # 224 / 16
    boxes = np.array([[[16, 32, 128, 200], [-1, -1, -1, -1]],
                      [[0, 0, 224, 224], [40, 40, 80, 120]]], "float32")
    RoIAlign(7, spatial_scale=1 / 16)([features, boxes]).shape  # (2, 2, 7, 7, 64)
    ```

    Reference:
        He et al., "Mask R-CNN", ICCV 2017; torchvision `ops.roi_align`
        (`csrc/ops/cpu/roi_align_kernel.cpp`).
    """

    def __init__(
        self,
        output_size=7,
        spatial_scale=1.0,
        sampling_ratio=0,
        aligned=True,
        **kwargs,
    ):
        # Boxes stay float32 under mixed precision (float16 pixel coordinates
        # are off by up to 0.125 at 224): no autocast; `call` casts features.
        kwargs["autocast"] = False
        super().__init__(**kwargs)
        self.output_size = check.int_tuple(output_size, 2, "output_size")
        if (
            isinstance(spatial_scale, bool)
            or not isinstance(spatial_scale, (int, float))
            or not spatial_scale > 0
        ):
            raise ValueError(
                "`spatial_scale` must be a positive number. "
                f"Received: spatial_scale={spatial_scale!r}"
            )
        self.spatial_scale = float(spatial_scale)
        if isinstance(sampling_ratio, bool) or not isinstance(sampling_ratio, int):
            raise ValueError(
                "`sampling_ratio` must be an int (<= 0 for adaptive). "
                f"Received: sampling_ratio={sampling_ratio!r}"
            )
        self.sampling_ratio = sampling_ratio
        self.aligned = bool(aligned)

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(
                "RoIAlign is called on [features, boxes]. "
                f"Received: input_shape={input_shape}"
            )
        features_shape, boxes_shape = (tuple(s) for s in input_shape)
        if len(features_shape) != 4 or None in features_shape[1:3]:
            raise ValueError(
                "RoIAlign expects features (batch, height, width, channels) with "
                f"a known height and width. Received: features_shape={features_shape}"
            )
        if len(boxes_shape) != 3 or boxes_shape[-1] != 4:
            raise ValueError(
                "RoIAlign expects boxes (batch, num_boxes, 4) as (x1, y1, x2, y2). "
                f"Received: boxes_shape={boxes_shape}"
            )

    def _axis_weights(self, start, end, size, bins):
        """`(batch, N, bins, size)`: each bin's mean interpolation weights."""
        offset = 0.5 if self.aligned else 0.0
        start = start * self.spatial_scale - offset
        end = end * self.spatial_scale - offset
        length = end - start
        if not self.aligned:
            length = ops.maximum(length, 1.0)
        bin_size = (length / bins)[..., None, None]
        if self.sampling_ratio > 0:
            points = self.sampling_ratio
            grid = ops.full_like(bin_size, float(points))
        else:
            points = size
            grid = ops.ceil(length / bins)[..., None, None]
        point = ops.arange(points, dtype="float32")
        # As the kernel: start + bin * bin_size + (i + .5) * bin_size / grid.
        position = (
            start[..., None, None]
            + ops.arange(bins, dtype="float32")[:, None] * bin_size
        ) + (point + 0.5) * bin_size / ops.maximum(grid, 1.0)
        used = ops.logical_and(
            ops.logical_and(position >= -1.0, position <= float(size)), point < grid
        )
        clamped = ops.clip(position, 0.0, float(size - 1))
        cells = ops.arange(size, dtype="float32")
        tent = ops.relu(1.0 - ops.abs(clamped[..., None] - cells))
        tent = tent * ops.cast(used, "float32")[..., None]
        return ops.sum(tent, axis=-2) / ops.maximum(grid, 1.0)

    def call(self, inputs):
        features, boxes = inputs
        features = ops.cast(features, self.compute_dtype)
        boxes = ops.cast(boxes, "float32")
        height, width = features.shape[1], features.shape[2]
        x1, y1, x2, y2 = (boxes[..., i] for i in range(4))
        rows = self._axis_weights(y1, y2, height, self.output_size[0])
        cols = self._axis_weights(x1, x2, width, self.output_size[1])
        real = ops.logical_and(x2 > x1, y2 > y1)[..., None, None]
        rows = ops.cast(ops.where(real, rows, 0.0), self.compute_dtype)
        cols = ops.cast(cols, self.compute_dtype)
        x = ops.einsum("bnph,bhwc->bnpwc", rows, features)
        return ops.einsum("bnpwc,bnqw->bnpqc", x, cols)

    def compute_output_shape(self, input_shape):
        features_shape, boxes_shape = (tuple(s) for s in input_shape)
        return (
            (features_shape[0], boxes_shape[1])
            + self.output_size
            + (features_shape[-1],)
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "output_size": self.output_size,
                "spatial_scale": self.spatial_scale,
                "sampling_ratio": self.sampling_ratio,
                "aligned": self.aligned,
            }
        )
        return config
