"""Clip transforms: TensorFlow ops on whole clips.

Every function takes a clip `(frames, height, width, channels)` or a batch of
clips `(batch, frames, height, width, channels)` and works inside `tf.function`
and `tf.data`. Random transforms draw their parameters once per clip, so every
frame of a clip gets the same crop, flip and scale; in a batch each clip gets its
own. Randomness is stateless: `seed` is a shape `(2,)` integer tensor (or a
Python int), and the same seed gives the same result.

Example:
>>> import tensorflow as tf
>>> clip = tf.zeros((8, 128, 171, 3), tf.uint8)
>>> fast = short_side_crop(clip, (112, 112), (128, 160), seed=(1, 2),
...                        flip_probability=0.5)  # the three below, fused
>>> clip = random_resize_short_side(clip, (128, 160), seed=(1, 2))
>>> clip = random_crop(clip, (112, 112), seed=(3, 4))
>>> clip = random_flip_left_right(clip, seed=(5, 6))
>>> normalize(to_float(clip), [0.45] * 3, [0.225] * 3).shape
TensorShape([8, 112, 112, 3])
"""

import tensorflow as tf

from keras_video.data.clip_settings import INTERPOLATIONS


def _seed(seed):
    if seed is None:
        raise ValueError("Random clip transforms need a `seed`. Received: seed=None")
    if isinstance(seed, int):
        seed = (seed, 0)
    return tf.cast(tf.convert_to_tensor(seed), tf.int64)


def _rank(clip):
    rank = clip.shape.rank
    if rank not in (4, 5):
        raise ValueError(
            "A clip must be (frames, height, width, channels) or a batch "
            f"(batch, frames, height, width, channels). Received: shape={clip.shape}"
        )
    return rank


def _size(size, name="size"):
    if isinstance(size, int):
        return (size, size)
    size = tuple(size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"`{name}` must be (height, width). Received: {name}={size}")
    return size


def _per_clip_seeds(seed, batch):
    return tf.random.experimental.stateless_split(_seed(seed), num=batch)


def to_float(clip, scale=1.0 / 255.0):
    """uint8 clip to float32, times `scale` (default: to [0, 1]).

    Args:
        clip: uint8 or float tensor, any rank.
        scale: multiplier; `1.0` keeps the [0, 255] range.

    Returns:
        float32 tensor of the same shape.
    """
    return tf.cast(clip, tf.float32) * scale


def normalize(clip, mean, std):
    """`(clip - mean) / std` per channel.

    Args:
        clip: float tensor `(..., channels)`.
        mean, std: sequences of `channels` floats (same scale as `clip`).

    Returns:
        float32 tensor of the same shape.
    """
    clip = tf.cast(clip, tf.float32)
    mean = tf.constant(mean, tf.float32)
    std = tf.constant(std, tf.float32)
    return (clip - mean) / std


def _resize(clip, size, interpolation):
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"`interpolation` must be one of {INTERPOLATIONS}. "
            f"Received: interpolation={interpolation!r}"
        )
    dtype = clip.dtype
    shape = tf.shape(clip)
    # Fold time (and batch) into the image batch: one resize call for the clip.
    images = tf.reshape(clip, tf.concat([[-1], shape[-3:]], 0))
    out = tf.image.resize(images, size, method=interpolation, antialias=False)
    if dtype == tf.uint8:
        out = tf.cast(tf.clip_by_value(tf.round(out), 0, 255), tf.uint8)
    else:
        out = tf.cast(out, dtype)
    out_shape = tf.concat([shape[:-3], tf.cast(size, tf.int32), shape[-1:]], 0)
    return tf.reshape(out, out_shape)


def _short_side_size(height, width, short_side):
    height = tf.cast(height, tf.float32)
    width = tf.cast(width, tf.float32)
    short_side = tf.cast(short_side, tf.float32)
    scale = short_side / tf.minimum(height, width)
    new_h = tf.cast(tf.round(height * scale), tf.int32)
    new_w = tf.cast(tf.round(width * scale), tf.int32)
    return tf.stack([tf.maximum(new_h, 1), tf.maximum(new_w, 1)])


def resize_short_side(clip, short_side, interpolation="bilinear"):
    """Resizes so the shorter side is `short_side`, keeping the aspect ratio.

    Args:
        clip: `(frames, h, w, c)` or `(batch, frames, h, w, c)`; uint8 stays
            uint8 (rounded), floats stay floats.
        short_side: int (or scalar int tensor).
        interpolation: one of `"bilinear"`, `"nearest"`, `"bicubic"`, `"area"`.

    Returns:
        the resized clip, same rank and dtype.
    """
    _rank(clip)
    shape = tf.shape(clip)
    size = _short_side_size(shape[-3], shape[-2], short_side)
    return _resize(clip, size, interpolation)


def random_resize_short_side(clip, short_side_range, seed, interpolation="bilinear"):
    """Scale jitter: resize the shorter side to a random size in a range.

    The size is uniform over the integers `[min, max]` of `short_side_range`.
    A batch gets one size for all its clips (a batch has one shape).

    Args:
        clip: `(frames, h, w, c)` or `(batch, frames, h, w, c)`.
        short_side_range: `(min, max)` ints, inclusive.
        seed: shape `(2,)` ints or an int.
        interpolation: as in `resize_short_side`.

    Returns:
        the resized clip.
    """
    low, high = _size(short_side_range, "short_side_range")
    if low > high:
        raise ValueError(
            "`short_side_range` must be (min, max) with min <= max. "
            f"Received: short_side_range={short_side_range}"
        )
    side = tf.random.stateless_uniform(
        (), _seed(seed), minval=low, maxval=high + 1, dtype=tf.int32
    )
    return resize_short_side(clip, side, interpolation)


def short_side_crop(
    clip, size, short_side, seed=None, flip_probability=0.0, interpolation="bilinear",
    flip_negates=None,
):  # fmt: skip
    """Resize shorter side, crop (and flip), fused: only the window is resized.

    Equivalent to `resize_short_side(clip, s)` then `center_crop(clip, size)`
    (`seed=None`) or `random_crop(clip, size, seed)` and, with
    `flip_probability`, `random_flip_left_right`; but the window that becomes
    the crop is cut from the source frames first and resized alone, so the cost
    follows the output size, not the source size. Where `s / min(h, w)` maps the
    window onto whole pixels the result equals the two-step one; otherwise the
    window is rounded to whole source pixels (a sub-pixel difference). With a
    seed and `short_side=(min, max)`, `s` is random (scale jitter); in a batch
    each clip draws its own `s`, window and flip.

    Args:
        clip: `(frames, h, w, c)` or `(batch, frames, h, w, c)`.
        size: `(height, width)` of the output, `<= s` on both sides.
        short_side: int `s`, or `(min, max)` with a `seed`.
        seed: `None` for the centre window (no flip), else shape `(2,)` ints or
            an int.
        flip_probability: chance of mirroring a clip (needs a `seed`).
        interpolation: as in `resize_short_side`.
        flip_negates: index of a channel whose sign a mirror flips (the x
            component of optical flow: moving right becomes moving left), or
            `None`.

    Returns:
        float32 `(..., size[0], size[1], c)`, same value range as `clip`.
    """
    rank = _rank(clip)
    size = _size(size)
    if isinstance(short_side, (list, tuple)):
        low, high = _size(short_side, "short_side")
        if low > high or seed is None:
            raise ValueError(
                "`short_side=(min, max)` needs min <= max and a `seed`. Received: "
                f"short_side={short_side}, seed={seed}"
            )
    else:
        low = high = int(short_side)
    if low < max(size):
        raise ValueError(
            f"`short_side` must be at least the crop size. Received: "
            f"short_side={short_side}, size={size}"
        )
    if flip_probability and seed is None:
        raise ValueError("`flip_probability` needs a `seed`. Received: seed=None")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"`interpolation` must be one of {INTERPOLATIONS}. "
            f"Received: interpolation={interpolation!r}"
        )
    if rank == 5:
        if seed is None:
            out = tf.map_fn(
                lambda c: _short_side_crop(
                    c, size, low, high, None, 0.0, interpolation
                ),
                clip,
                fn_output_signature=tf.TensorSpec(None, tf.float32),
            )
        else:
            seeds = _per_clip_seeds(seed, tf.shape(clip)[0])
            out = tf.map_fn(
                lambda args: _short_side_crop(
                    args[0],
                    size,
                    low,
                    high,
                    args[1],
                    flip_probability,
                    interpolation,
                    flip_negates,
                ),  # fmt: skip
                (clip, seeds),
                fn_output_signature=tf.TensorSpec(None, tf.float32),
            )
        return _set_crop_shape(out, clip, size)
    seed = None if seed is None else _seed(seed)
    return _short_side_crop(
        clip, size, low, high, seed, flip_probability, interpolation, flip_negates
    )


def _mirror(window, negate):
    """Reverses the width axis of `(t, h, w, c)`; negates channel `negate`."""
    out = tf.reverse(window, axis=[2])
    if negate is None:
        return out
    depth = tf.shape(window)[-1]
    sign = tf.one_hot(negate, depth, on_value=-1.0, off_value=1.0, dtype=out.dtype)
    return out * sign


def _short_side_crop(
    clip, size, low, high, seed, flip_probability, interpolation, flip_negates=None
):
    shape = tf.shape(clip)
    h, w = shape[-3], shape[-2]
    if seed is not None:
        seeds = _per_clip_seeds(seed, 4)
        side = tf.random.stateless_uniform(
            (), seeds[0], minval=low, maxval=high + 1, dtype=tf.int32
        )
    else:
        side = tf.constant(low, tf.int32)
    scale = tf.cast(side, tf.float32) / tf.cast(tf.minimum(h, w), tf.float32)
    # The source window that becomes the crop, in whole pixels.
    win_h = tf.minimum(tf.cast(tf.round(size[0] / scale), tf.int32), h)
    win_w = tf.minimum(tf.cast(tf.round(size[1] / scale), tf.int32), w)
    if seed is not None:
        top = tf.random.stateless_uniform(
            (), seeds[1], maxval=h - win_h + 1, dtype=tf.int32
        )
        left = tf.random.stateless_uniform(
            (), seeds[2], maxval=w - win_w + 1, dtype=tf.int32
        )
    else:
        top, left = (h - win_h) // 2, (w - win_w) // 2
    window = clip[:, top : top + win_h, left : left + win_w, :]
    if seed is not None and flip_probability:
        if flip_negates is not None:
            window = tf.cast(window, tf.float32)  # a sign to flip
        flip = tf.random.stateless_uniform((), seeds[3]) < flip_probability
        # Flip the (uint8) window with tf.cond: cheaper than a select on floats.
        window = tf.cond(flip, lambda: _mirror(window, flip_negates), lambda: window)
    same = tf.logical_and(tf.equal(win_h, size[0]), tf.equal(win_w, size[1]))
    out = tf.cond(
        same,
        lambda: tf.cast(window, tf.float32),
        lambda: tf.cast(
            tf.image.resize(window, size, method=interpolation), tf.float32
        ),
    )
    return _set_crop_shape(out, clip, size)


def _crop(clip, top, left, size):
    return clip[..., top : top + size[0], left : left + size[1], :]


def _set_crop_shape(out, clip, size):
    shape = clip.shape.as_list()
    shape[-3], shape[-2] = size
    out.set_shape(shape)
    return out


def _check_fits(clip, size):
    shape = tf.shape(clip)
    return tf.debugging.assert_greater_equal(
        shape[-3:-1],
        tf.constant(size, tf.int32),
        message=f"crop size {size} is larger than the clip's frames",
    )


def center_crop(clip, size):
    """The central `size` window of every frame.

    Args:
        clip: `(frames, h, w, c)` or `(batch, frames, h, w, c)`, `h, w >= size`.
        size: `(height, width)` or an int.

    Returns:
        `(..., size[0], size[1], c)`.
    """
    _rank(clip)
    size = _size(size)
    with tf.control_dependencies([_check_fits(clip, size)]):
        shape = tf.shape(clip)
        top = (shape[-3] - size[0]) // 2
        left = (shape[-2] - size[1]) // 2
        return _set_crop_shape(_crop(clip, top, left, size), clip, size)


def random_crop(clip, size, seed):
    """A random `size` window, the same for every frame of a clip.

    Args:
        clip: `(frames, h, w, c)` or `(batch, frames, h, w, c)`, `h, w >= size`.
        size: `(height, width)` or an int.
        seed: shape `(2,)` ints or an int. In a batch, clip `i` uses the `i`-th
            of `stateless_split(seed, batch)`.

    Returns:
        `(..., size[0], size[1], c)`.
    """
    rank = _rank(clip)
    size = _size(size)
    if rank == 5:
        seeds = _per_clip_seeds(seed, tf.shape(clip)[0])
        out = tf.map_fn(
            lambda args: random_crop(args[0], size, args[1]),
            (clip, seeds),
            fn_output_signature=tf.TensorSpec(None, clip.dtype),
        )
        return _set_crop_shape(out, clip, size)
    with tf.control_dependencies([_check_fits(clip, size)]):
        shape = tf.shape(clip)
        seeds = _per_clip_seeds(seed, 2)
        top = tf.random.stateless_uniform(
            (), seeds[0], maxval=shape[-3] - size[0] + 1, dtype=tf.int32
        )
        left = tf.random.stateless_uniform(
            (), seeds[1], maxval=shape[-2] - size[1] + 1, dtype=tf.int32
        )
        return _set_crop_shape(_crop(clip, top, left, size), clip, size)


def three_crop(clip, size):
    """Three `size` windows along the longer side: start, centre and end.

    The test-time crops of SlowFast / X3D: with the shorter side resized to the
    crop size, the three crops cover the whole frame.

    Args:
        clip: `(frames, h, w, c)` or `(batch, frames, h, w, c)`.
        size: `(height, width)` or an int.

    Returns:
        `(3, frames, size[0], size[1], c)` for a clip, or
        `(batch, 3, frames, size[0], size[1], c)` for a batch.
    """
    rank = _rank(clip)
    size = _size(size)
    with tf.control_dependencies([_check_fits(clip, size)]):
        shape = tf.shape(clip)
        h, w = shape[-3], shape[-2]
        room_h, room_w = h - size[0], w - size[1]
        crops = []
        for k in range(3):
            # Along the longer side: 0, middle, end; the other side centred.
            along_h = room_h > room_w
            top = tf.where(along_h, (room_h * k) // 2, room_h // 2)
            left = tf.where(along_h, room_w // 2, (room_w * k) // 2)
            crops.append(_set_crop_shape(_crop(clip, top, left, size), clip, size))
        return tf.stack(crops, axis=rank - 4)


def random_flip_left_right(clip, seed, probability=0.5):
    """Mirrors the whole clip horizontally with `probability`.

    Args:
        clip: `(frames, h, w, c)` or `(batch, frames, h, w, c)`.
        seed: shape `(2,)` ints or an int; in a batch each clip draws its own flip.
        probability: chance of flipping a clip.

    Returns:
        the clip, flipped or not, same shape.
    """
    rank = _rank(clip)
    batch = tf.shape(clip)[0] if rank == 5 else 1
    flip = tf.random.stateless_uniform((batch,), _seed(seed)) < probability

    def one(args):
        one_clip, one_flip = args
        # tf.cond, not tf.where: a broadcast select over the clip is ~10x slower.
        return tf.cond(
            one_flip, lambda: tf.reverse(one_clip, axis=[-2]), lambda: one_clip
        )

    if rank == 5:
        out = tf.map_fn(one, (clip, flip), fn_output_signature=clip.dtype)
        out.set_shape(clip.shape)
        return out
    return one((clip, flip[0]))
