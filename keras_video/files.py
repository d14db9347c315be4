"""Small file helpers shared by the data-set jobs (flow, features): writes that
a kill never leaves half done, and JSON files read with errors naming them.
No TensorFlow, no Keras."""

import json
import os
import uuid


def write_atomic(path, data):
    """Writes `data` (bytes) to `path` through a temporary file and `os.replace`.

    The temporary file (`.<name>.tmp-<random>` in the same folder) is removed
    if writing fails; a hard kill can leave it, never a partial `path`.
    """
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(folder, f".{name}.tmp-{uuid.uuid4().hex[:12]}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def read_json_file(path, what):
    """The JSON value in `path`, `None` if there is no such file.

    Raises:
        ValueError: the file does not parse, naming it as a `what`.
    """
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path} is not a readable {what}: {e}") from None
