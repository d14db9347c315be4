"""Decoder backends: each module here defines one `Decoder` subclass with a `name`.

Adding a backend is adding a module: `DECODERS` is built by importing every module
of this package.
"""

import importlib
import pkgutil

from keras_video.data.video.decoder import Decoder


def _discover():
    table = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Decoder)
                and value.__module__ == module.__name__
                and value.name
            ):
                table[value.name] = value
    return table


# backend name -> `Decoder` subclass
DECODERS = _discover()

# The order in which `backend="auto"` tries decoders.
AUTO_ORDER = tuple(
    name
    for name, decoder in sorted(DECODERS.items(), key=lambda kv: kv[1].auto_rank or 0)
    if decoder.auto_rank is not None
)
