"""Argument checks shared by the layers: every error names the argument."""


def positive_int(value, name):
    """Returns `value` if it is an int > 0, else raises `ValueError`."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return value


def int_tuple(value, n, name, allow_zero=False):
    """Normalises an int or a sequence of `n` ints to a tuple of `n` ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * n
    try:
        value = tuple(value)
    except TypeError:
        value = None
    lowest = 0 if allow_zero else 1
    if (
        value is None
        or len(value) != n
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        or min(value) < lowest
    ):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(
            f"`{name}` must be a {kind} int or a tuple of {n} {kind} ints. "
            f"Received: {name}={value!r}"
        )
    return value


def one_of(value, choices, name):
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {list(choices)}. Received: {name}={value!r}")
    return value


_LAYOUTS = {
    4: "(batch, frames, features) or (batch, height, width, channels)",
    5: "(batch, frames, height, width, channels)",
}


def check_rank(shape, rank, layer):
    """Raises if `shape` (batch included) is not of rank `rank`."""
    if len(shape) != rank:
        layout = _LAYOUTS.get(rank, f"{rank} axes")
        raise ValueError(
            f"{layer} expects inputs of rank {rank}, {layout}. "
            f"Received: input_shape={tuple(shape)}"
        )


def check_time_kernel(shape, time_kernel, padding, layer):
    """A 'valid' time kernel longer than the clip would give an empty output."""
    frames = shape[1]
    if padding == "valid" and frames is not None and time_kernel > frames:
        raise ValueError(
            f"{layer}: the time kernel ({time_kernel}) is longer than the clip "
            f"({frames} frames) with padding='valid'. Received: "
            f"kernel_size[0]={time_kernel}, input_shape={tuple(shape)}"
        )


def same_padding(size, kernel, stride, dilation=1):
    """(before, after) padding of TensorFlow 'SAME' for one dimension."""
    effective = (kernel - 1) * dilation + 1
    if stride == 1:
        total = effective - 1
    elif size is None:
        raise ValueError(
            "A strided 'same' convolution needs a static input size to pad "
            f"like TensorFlow. Received: size=None, stride={stride}"
        )
    else:
        out = -(-size // stride)
        total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2
