"""`ExportError`: a model that cannot export, named by the layer that stops it.

Converters fail deep inside their own code (tf2onnx, the LiteRT converter,
jax2tf, torch.onnx) with messages about graph ops. `naming_layer` turns such a
failure into one `ExportError` line that names the model layer whose op could
not be converted: op names carry the Keras layer names as scopes
(`functional/bad_layer/Svd`), and an error raised while tracing a layer says
which layer class it was in.
"""

import contextlib
import re

import keras

# Lines of a converter message that say what went wrong, most telling first.
_REASONS = (
    re.compile(
        r"not supported|unsupported|Unsupported|neither a custom op nor a flex op|"
        r"failed to legalize|Flex ops"
    ),
    re.compile(r"Could not|cannot|Cannot|Error|error"),
)


class ExportError(ValueError):
    """A model cannot be exported to a format.

    Attributes:
        layer: the path of the layer that cannot export (`"outer/inner"`), or
            `None` when no layer could be named.
        format: the export format.
    """

    def __init__(self, message, layer=None, format=None):
        super().__init__(message)
        self.layer = layer
        self.format = format


def layer_paths(model):
    """`[(path, layer)]` of every layer inside `model`, nested ones as `outer/inner`."""
    out = []

    def visit(container, prefix):
        for layer in getattr(container, "layers", []):
            path = f"{prefix}{layer.name}"
            out.append((path, layer))
            if isinstance(layer, keras.Model) or getattr(layer, "layers", None):
                visit(layer, path + "/")

    visit(model, "")
    return out


def _base_name(word):
    """`svd_head_1` -> `svd_head`: traced name scopes get a numbered suffix."""
    return re.sub(r"_[0-9]+$", "", word)


def find_layer(model, text):
    """The `(path, layer)` of `model` that `text` (a converter error) is about.

    In an op path (`model_1/block_1/conv_a_1/Svd`) the innermost scope that
    names a layer wins; else a layer named as a word of `text`; else a layer
    whose class is named (`Bad.call()`); else `None`. Input layers and
    models are never the answer.
    """
    layers = [
        (path, layer)
        for path, layer in layer_paths(model)
        if not isinstance(layer, (keras.Model, keras.layers.InputLayer))
    ]
    by_name = {}
    for path, layer in layers:
        by_name.setdefault(layer.name, (path, layer))
    for op_path in re.findall(r"[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)+", text):
        for part in reversed(op_path.split("/")):
            for name in (part, _base_name(part)):
                if name in by_name:
                    return by_name[name]
    words = set(re.split(r"[^A-Za-z0-9_.\-]+", text))
    words |= {_base_name(w) for w in words}
    for path, layer in layers:
        if layer.name in words:
            return path, layer
    for path, layer in layers:
        if f"{type(layer).__name__}.call()" in text:
            return path, layer
    return None


def reason(text, limit=240):
    """One short line of `text` that says what failed."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # terminal colours
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    chosen = None
    for pattern in _REASONS:
        chosen = chosen or next((line for line in lines if pattern.search(line)), None)
    chosen = chosen or (lines[-1] if lines else "unknown error")
    return chosen if len(chosen) <= limit else chosen[: limit - 3] + "..."


def export_error(model, format, error):
    """The `ExportError` for `error` raised while exporting `model` to `format`."""
    text = f"{type(error).__name__}: {error}"
    found = find_layer(model, text)
    where = (
        "" if found is None else (f" at layer {found[0]!r} ({type(found[1]).__name__})")
    )
    message = (
        f"Cannot export model {model.name!r} to {format}{where}: {reason(text)} "
        f"(backend {keras.backend.backend()}). Received: format={format!r}"
    )
    return ExportError(message, None if found is None else found[0], format)


@contextlib.contextmanager
def naming_layer(model, format):
    """Re-raises any failure inside as the `ExportError` of `export_error`."""
    try:
        yield
    except ExportError:
        raise
    except Exception as error:  # noqa: BLE001 - converters raise anything
        raise export_error(model, format, error) from None
