"""Output-shape arithmetic for convolutions and pools (TensorFlow semantics)."""


def conv_output_length(size, kernel, stride, padding, dilation=1):
    """Length of one axis after a conv or pool; `None` stays `None`."""
    if size is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if padding == "same":
        return -(-size // stride)
    return max((size - effective) // stride + 1, 0)


def conv_output_shape(input_shape, filters, kernel_size, strides, padding, dilation=None):
    """`(batch, *spatial, channels)` shape after a channels-last convolution."""
    dilation = dilation or (1,) * len(kernel_size)
    spatial = tuple(
        conv_output_length(s, k, st, padding, d)
        for s, k, st, d in zip(input_shape[1:-1], kernel_size, strides, dilation)
    )
    return (input_shape[0],) + spatial + (filters,)
