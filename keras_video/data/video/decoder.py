"""`Decoder`: the interface every decoder backend implements (one file each in
`backends/`)."""

import numpy as np

# Decoders inherited through fork. Closing their handles in the child could touch
# state (threads, buffers) that belongs to the parent, so they are kept alive here
# and never used again.
_inherited = []


class Decoder:
    """Decodes frames of one indexed video stream, seeking as it sees fit.

    A subclass sets `name` (the `backend` argument of `VideoReader` that selects
    it) and implements `decode` and `close`; it is found by its module being in
    `keras_video/data/video/backends/`.

    Class attributes:
        name: backend name, e.g. `"pyav"`.
        auto_rank: order in which `backend="auto"` tries decoders (lowest first);
            `None`: never chosen automatically.
        first_stream_only: True when it can only read the first video stream.

    Args:
        path: video file (`str`).
        index: `StreamIndex` of the stream to read.
        num_threads: decoder threads (0: the library decides).

    Attributes:
        index: the `StreamIndex` in use; a decoder may replace it with a corrected
            one (e.g. `pts_reliable=False`), which the reader then keeps.
    """

    name = None
    auto_rank = None
    first_stream_only = False

    def __init__(self, path, index, num_threads=1):
        self.path = str(path)
        self.index = index
        self.num_threads = int(num_threads)

    def adopt(self, container):
        """Takes the PyAV container the index scan opened (the default closes it)."""
        container.close()

    def decode(self, wanted, store):
        """Decodes frames, calling `store(i, image)` for each.

        Args:
            wanted: sorted unique frame indices (`list` of `int`), all in range.
            store: callable taking a frame index and its `(height, width, 3)`
                uint8 RGB image (rotation applied), called in ascending order.

        Raises:
            CorruptVideoError: a wanted frame does not decode.
            VideoDecodeError: this backend cannot decode the file at all (with
                `backend="auto"`, the reader then tries the next backend).
        """
        raise NotImplementedError

    def close(self):
        """Releases the file handles; `decode` may reopen them."""

    def abandon(self):
        """In a forked child: keeps the inherited handles alive, never used again."""
        _inherited.append(self)


def rotate(image, rotation):
    """Applies a display rotation (degrees counter-clockwise) to `(h, w, 3)`."""
    turns = int(round(rotation / 90.0)) % 4
    if turns == 0:
        return image
    return np.ascontiguousarray(np.rot90(image, k=turns))
