"""Reads PyTorch checkpoints (`.pth`) as NumPy arrays, without PyTorch and
without running pickled code.

A checkpoint written by `torch.save` is a zip archive:

```
<prefix>/data.pkl        the pickled object (dicts of tensors), protocol 2
<prefix>/data/<key>      the raw bytes of each storage, one file per storage
<prefix>/byteorder       "little" or "big" (absent in old files: little)
```

In `data.pkl` a tensor is `torch._utils._rebuild_tensor_v2(storage, offset,
size, stride, requires_grad, hooks)` whose `storage` is a persistent id
`("storage", torch.FloatStorage, key, location, numel)`. A pickle may call any
importable function, so it is read here by `RestrictedUnpickler`, whose
`find_class` resolves only the names that rebuilding tensors needs and raises
`UnsafeCheckpointError`, naming the file and the global, for anything else
(`os.system`, `builtins.eval`, a model class...):

| global in the pickle                     | rebuilt here as                      |
|------------------------------------------|--------------------------------------|
| `torch._utils._rebuild_tensor_v2`, `_v3` | a NumPy array (offset and strides    |
|                                          | checked against the storage, copied) |
| `torch._utils._rebuild_parameter`,       | the same array (the parameter's      |
| `_rebuild_parameter_with_state`          | data)                                |
| `torch.FloatStorage`, `torch.HalfStorage`| a storage type: its NumPy dtype      |
| ... , `torch.storage.UntypedStorage`     |                                      |
| `torch.float32`, `torch.uint16`, ...     | a dtype (the third argument of `_v3`)|
| `collections.OrderedDict`                | `collections.OrderedDict`            |

Storages are read from the zip once each, as the dtype of their type in the
file's byte order, and turned into native arrays; tensors sharing a storage
(views, slices, transposes) each get their own copy of exactly their elements.
`bfloat16` tensors become `float32` (exactly: NumPy has no bfloat16).

The legacy format (`torch.save(..., _use_new_zipfile_serialization=False)`,
the default before PyTorch 1.6: a magic-number pickle, the pickled object,
the storage keys, then each storage's element count and bytes) is read too.
"""

import collections
import io
import pickle
import struct
import zipfile

import numpy as np

# torch storage type -> NumPy dtype of its elements ("bfloat16": see above).
STORAGE_DTYPES = {
    "DoubleStorage": "float64",
    "FloatStorage": "float32",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
    "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128",
    "UntypedStorage": "uint8",
}

# torch dtype name -> NumPy dtype (the dtypes `_rebuild_tensor_v3` names).
TORCH_DTYPES = {
    "float64": "float64",
    "double": "float64",
    "float32": "float32",
    "float": "float32",
    "float16": "float16",
    "half": "float16",
    "bfloat16": "bfloat16",
    "int64": "int64",
    "long": "int64",
    "int32": "int32",
    "int": "int32",
    "int16": "int16",
    "short": "int16",
    "int8": "int8",
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "uint64": "uint64",
    "bool": "bool",
    "complex64": "complex64",
    "complex128": "complex128",
}

# The first pickle of a legacy file: this number.
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint asks for something other than tensors (e.g. a function)."""


class _StorageType:
    """What `torch.FloatStorage` (etc.) unpickles to: just its dtype."""

    def __init__(self, name, dtype):
        self.name = name
        self.dtype = dtype

    def __repr__(self):
        return f"<storage type {self.name}>"


class _DType:
    """What `torch.float32` (etc.) unpickles to."""

    def __init__(self, name, dtype):
        self.name = name
        self.dtype = dtype

    def __repr__(self):
        return f"<dtype torch.{self.name}>"


class _Storage:
    """A storage: its raw bytes, viewed in native byte order on use.

    `raw` is `None` until read (legacy files store it after the pickle); a
    legacy storage view (`parent`, element `offset`, `size`) reads its bytes
    from its parent's.
    """

    def __init__(self, raw, dtype, byteorder, origin, parent=None, offset=0, size=0):
        self._raw = raw
        self.dtype = dtype
        self.byteorder = byteorder
        self.origin = origin
        self._parent = parent
        self._offset = offset
        self._size = size

    @property
    def raw(self):
        if self._parent is None:
            return self._raw
        raw = self._parent.raw
        if raw is None:
            return None
        itemsize = _itemsize(self.dtype)
        return raw[self._offset * itemsize : (self._offset + self._size) * itemsize]

    @raw.setter
    def raw(self, value):
        self._raw = value

    def as_array(self, dtype):
        """The storage's elements as a 1-D native array of `dtype`."""
        if dtype == "bfloat16":
            bits = self._view("uint16").astype("uint32") << 16
            return bits.view("float32")
        return self._view(dtype)

    def _view(self, dtype):
        dtype = np.dtype(dtype)
        raw = self.raw
        if len(raw) % dtype.itemsize:
            raise pickle.UnpicklingError(
                f"{self.origin}: {len(raw)} bytes are not a whole number of "
                f"{dtype} elements."
            )
        order = ">" if self.byteorder == "big" else "<"
        array = np.frombuffer(raw, dtype=dtype.newbyteorder(order))
        return array.astype(dtype.newbyteorder("="), copy=False)


class _Pending:
    """A tensor of a storage not read yet (legacy files): rebuilt later."""

    def __init__(self, *args):
        self.args = args

    def rebuild(self):
        return _rebuild(*self.args)


def _check_ints(values, what, origin):
    if not isinstance(values, tuple) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values
    ):
        raise pickle.UnpicklingError(
            f"{origin}: a tensor's {what} must be a tuple of non-negative "
            f"integers. Received: {what}={values!r}"
        )


def _rebuild(storage, offset, size, stride, dtype=None):
    """The tensor `storage[offset + sum(i * stride)]` over `size`, copied."""
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError(
            f"A tensor must be rebuilt from a storage. Received: {storage!r}"
        )
    origin = storage.origin
    _check_ints((offset,), "storage offset", origin)
    _check_ints(size, "size", origin)
    _check_ints(stride, "stride", origin)
    if len(size) != len(stride):
        raise pickle.UnpicklingError(
            f"{origin}: a tensor's size and stride differ in length. "
            f"Received: size={size}, stride={stride}"
        )
    if storage.raw is None:
        return _Pending(storage, offset, size, stride, dtype)
    values = storage.as_array(dtype or storage.dtype)
    if 0 in size:
        return np.zeros(size, dtype=values.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    if last >= values.size:
        raise pickle.UnpicklingError(
            f"{origin}: a tensor reaches element {last} of a storage of "
            f"{values.size}. Received: offset={offset}, size={size}, "
            f"stride={stride}"
        )
    view = np.lib.stride_tricks.as_strided(
        values[offset:],
        shape=size,
        strides=tuple(s * values.itemsize for s in stride),
        writeable=False,
    )
    return np.array(view, copy=True, order="C")


def _rebuild_tensor_v2(
    storage, storage_offset, size, stride, requires_grad, backward_hooks, *metadata
):
    return _rebuild(storage, storage_offset, size, stride)


def _rebuild_tensor_v3(
    storage,
    storage_offset,
    size,
    stride,
    requires_grad,
    backward_hooks,
    dtype,
    *metadata,
):
    if not isinstance(dtype, _DType):
        raise pickle.UnpicklingError(
            f"_rebuild_tensor_v3 needs a torch dtype. Received: dtype={dtype!r}"
        )
    return _rebuild(storage, storage_offset, size, stride, dtype.dtype)


def _rebuild_parameter(data, requires_grad, backward_hooks, *state):
    if not isinstance(data, (np.ndarray, _Pending)):
        raise pickle.UnpicklingError(
            f"A parameter must hold a tensor. Received: {type(data).__name__}"
        )
    return data


_ALLOWED_FUNCTIONS = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("collections", "OrderedDict"): collections.OrderedDict,
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles the object of a torch checkpoint, tensors as NumPy arrays.

    Args:
        file: the pickle, a binary file object.
        read_storage: `read_storage(key, dtype, numel)` -> the raw bytes of
            the storage `key` (`numel` elements of `dtype`).
        origin: the checkpoint's path, for error messages.
        byteorder: `"little"` or `"big"`, the byte order of the storages.
    """

    def __init__(self, file, read_storage, origin, byteorder="little"):
        super().__init__(file)
        self._read_storage = read_storage
        self._origin = origin
        self._byteorder = byteorder
        self._storages = {}

    def find_class(self, module, name):
        function = _ALLOWED_FUNCTIONS.get((module, name))
        if function is not None:
            return function
        if module in ("torch", "torch.storage") and name in STORAGE_DTYPES:
            return _StorageType(name, STORAGE_DTYPES[name])
        if module == "torch" and name in TORCH_DTYPES:
            return _DType(name, TORCH_DTYPES[name])
        raise UnsafeCheckpointError(
            f"{self._origin}: refusing to load the global {module}.{name}: this "
            "reader rebuilds tensors and dicts only (unpickling anything else "
            "can run arbitrary code)."
        )

    def persistent_load(self, pid):
        if not (
            isinstance(pid, tuple)
            and len(pid) in (5, 6)
            and pid[0] == "storage"
            and isinstance(pid[1], _StorageType)
            and isinstance(pid[2], str)
            and isinstance(pid[4], int)
        ):
            raise UnsafeCheckpointError(
                f"{self._origin}: refusing the persistent id {pid!r}: only "
                "('storage', <torch storage type>, key, location, numel) is read."
            )
        storage_type, key, numel = pid[1], pid[2], pid[4]
        view = pid[5] if len(pid) == 6 else None
        if key not in self._storages:
            raw = self._read_storage(key, storage_type.dtype, numel)
            self._storages[key] = _Storage(
                raw, storage_type.dtype, self._byteorder, f"{self._origin}:{key}"
            )
        storage = self._storages[key]
        if view is not None:  # legacy: (view key, offset, size) of a storage
            storage = _legacy_view(storage, view, storage_type.dtype)
        return storage

    def storages(self):
        """`{key: storage}` of every storage the pickle named."""
        return dict(self._storages)


def _itemsize(dtype):
    return 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize


def _legacy_view(storage, view, dtype):
    if not (isinstance(view, tuple) and len(view) == 3):
        raise pickle.UnpicklingError(
            f"{storage.origin}: a storage view must be (key, offset, size). "
            f"Received: {view!r}"
        )
    _, offset, size = view
    _check_ints((offset, size), "storage view", storage.origin)
    return _Storage(
        None, dtype, storage.byteorder, storage.origin, storage, offset, size
    )


def _zip_prefix(archive, path):
    names = [n for n in archive.namelist() if n.endswith("data.pkl")]
    names = [n for n in names if n.count("/") == 1 or n == "data.pkl"]
    if len(names) != 1:
        raise ValueError(
            f"{path} is a zip file but not one torch checkpoint: it holds "
            f"{len(names)} data.pkl records. Received: path={path!r}"
        )
    return names[0][: -len("data.pkl")]


def _load_zip(path):
    with zipfile.ZipFile(path) as archive:
        prefix = _zip_prefix(archive, path)
        names = set(archive.namelist())
        byteorder = "little"
        if f"{prefix}byteorder" in names:
            byteorder = archive.read(f"{prefix}byteorder").decode("ascii").strip()
            if byteorder not in ("little", "big"):
                raise ValueError(
                    f"{path}: unknown byte order {byteorder!r} in {prefix}byteorder."
                )

        def read_storage(key, dtype, numel):
            record = f"{prefix}data/{key}"
            if record not in names:
                raise ValueError(f"{path}: the storage record {record} is missing.")
            raw = archive.read(record)
            expected = numel * _itemsize(dtype)
            if len(raw) < expected:
                raise ValueError(
                    f"{path}: {record} has {len(raw)} bytes, fewer than the "
                    f"{numel} x {dtype} elements its tensors need."
                )
            return raw[:expected]

        with archive.open(f"{prefix}data.pkl") as pkl:
            return RestrictedUnpickler(pkl, read_storage, path, byteorder).load()


def _load_legacy(path):
    with open(path, "rb") as f:
        stream = io.BytesIO(f.read())

    def no_storage(key, dtype, numel):
        raise UnsafeCheckpointError(f"{path}: a storage where none belongs.")

    def header():
        return RestrictedUnpickler(stream, no_storage, path).load()

    magic, protocol, sys_info = header(), header(), header()
    if magic != _LEGACY_MAGIC or protocol != _LEGACY_PROTOCOL:
        raise ValueError(
            f"{path} is not a torch checkpoint (neither a zip nor the legacy "
            f"format). Received: magic={magic!r}, protocol={protocol!r}"
        )
    little = not isinstance(sys_info, dict) or sys_info.get("little_endian", True)
    # The storages follow the pickle: tensors are rebuilt once they are read.
    unpickler = RestrictedUnpickler(
        stream, lambda key, dtype, numel: None, path, "little" if little else "big"
    )
    obj = unpickler.load()
    keys = header()
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ValueError(f"{path}: the legacy storage key list is malformed.")
    storages = unpickler.storages()
    for key in keys:
        (numel,) = struct.unpack("<q" if little else ">q", stream.read(8))
        storage = storages.get(key)
        nbytes = numel * _itemsize(storage.dtype if storage else "uint8")
        raw = stream.read(nbytes)
        if numel < 0 or len(raw) != nbytes:
            raise ValueError(f"{path}: storage {key} is truncated.")
        if storage is not None:
            storage.raw = raw
    missing = sorted(k for k, s in storages.items() if s.raw is None)
    if missing:
        raise ValueError(f"{path}: the storages {missing} are missing.")
    return _resolve(obj)


def _resolve(obj, seen=None):
    """Replaces every `_Pending` tensor in dicts, lists and tuples by its array."""
    if isinstance(obj, _Pending):
        return obj.rebuild()
    seen = set() if seen is None else seen
    if not isinstance(obj, (dict, list, tuple)) or id(obj) in seen:
        return obj
    seen.add(id(obj))
    if isinstance(obj, tuple):
        return tuple(_resolve(v, seen) for v in obj)
    if isinstance(obj, list):
        obj[:] = [_resolve(v, seen) for v in obj]
        return obj
    for key, value in obj.items():
        obj[key] = _resolve(value, seen)
    for key, value in getattr(obj, "__dict__", {}).items():
        setattr(obj, key, _resolve(value, seen))
    return obj


def is_legacy(path):
    """Whether `path` starts like a legacy (pre-1.6, non-zip) torch file."""
    with open(path, "rb") as f:
        head = f.read(16)
    return head.startswith(b"\x80\x02\x8a\x0a" + _LEGACY_MAGIC.to_bytes(10, "little"))


def load_checkpoint(path):
    """Reads the whole object of a torch checkpoint, tensors as NumPy arrays.

    Args:
        path: a file written by `torch.save` (zip or legacy format).

    Returns:
        The unpickled object: dicts (`OrderedDict`), lists, numbers, strings
        and NumPy arrays.

    Raises:
        UnsafeCheckpointError: the pickle names a global other than those
            rebuilding tensors (the message names the file and the global);
            nothing it names is imported or called.
        ValueError: not a torch checkpoint, or a malformed one.
    """
    path = str(path)
    if zipfile.is_zipfile(path):
        return _load_zip(path)
    if is_legacy(path):
        return _load_legacy(path)
    raise ValueError(
        f"{path} is not a torch checkpoint: neither a zip archive (torch.save "
        "since PyTorch 1.6) nor the legacy pickle format. Received: "
        f"path={path!r}"
    )


# The nestings tried, in order, when `key` is None and the top level is not a
# state dict: PyTorchVideo / PySlowFast hub files, Lightning-style, others.
COMMON_KEYS = ("model_state", "state_dict", "model")


def _is_state_dict(obj):
    return (
        isinstance(obj, dict)
        and bool(obj)
        and all(isinstance(k, str) for k in obj)
        and all(isinstance(v, np.ndarray) for v in obj.values())
    )


def load_state_dict(path, key=None):
    """Reads a PyTorch state dict as `{name: numpy.ndarray}`, without torch.

    Args:
        path: a `.pth` / `.pt` / `.pyth` file written by `torch.save`.
        key: the entry holding the state dict, e.g. `"model_state"` for
            PyTorchVideo's hub files. `None`: the file itself when it is a
            state dict (torchvision's files), else the one entry of
            `"model_state"`, `"state_dict"`, `"model"` that is a state dict.

    Returns:
        A dict from parameter and buffer names (as in PyTorch,
        `"layer1.0.conv1.0.weight"`) to native-byte-order NumPy arrays in
        PyTorch's layout (e.g. Conv3d kernels `(out, in, t, h, w)`).

    Raises:
        UnsafeCheckpointError: the file asks to import or call anything
            but the tensor rebuilders (nothing is run).
        KeyError: `key` is missing, or `key=None` and no single nesting holds
            the state dict (the message lists the top-level keys).
        ValueError: not a torch checkpoint, or the entry is not a state dict.

    Example:

    ```python
    from keras_video.applications.torch_checkpoint import load_state_dict

    state = load_state_dict("r3d_18-b3b3357e.pth")
    state["fc.weight"].shape  # (400, 512)
    ```
    """
    obj = load_checkpoint(path)
    if key is not None:
        if not isinstance(obj, dict) or key not in obj:
            keys = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
            raise KeyError(
                f"{path} has no entry {key!r} (top-level keys: {keys}). "
                f"Received: key={key!r}"
            )
        obj = obj[key]
    elif not _is_state_dict(obj):
        if not isinstance(obj, dict):
            raise ValueError(
                f"{path} holds a {type(obj).__name__}, not a state dict. "
                f"Received: path={path!r}"
            )
        found = [k for k in COMMON_KEYS if _is_state_dict(obj.get(k))]
        if len(found) != 1:
            raise KeyError(
                f"{path}: no single state dict among {list(COMMON_KEYS)} "
                f"(found {found}; top-level keys: {sorted(map(str, obj))}); "
                "pass `key=`."
            )
        obj = obj[found[0]]
    if not _is_state_dict(obj):
        bad = (
            [k for k, v in obj.items() if not isinstance(v, np.ndarray)]
            if isinstance(obj, dict)
            else type(obj).__name__
        )
        raise ValueError(
            f"{path}: the entry{'' if key is None else f' {key!r}'} is not a "
            f"state dict of tensors (not tensors: {bad})."
        )
    return dict(obj)
