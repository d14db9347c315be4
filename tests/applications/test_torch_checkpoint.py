"""The restricted `.pth` reader against `torch.save`'s own files, and files
that try to run code."""

import collections
import os
import pickle
import sys
import zipfile

import numpy as np
import pytest
import torch

from keras_video.applications import torch_checkpoint
from keras_video.applications.torch_checkpoint import (
    UnsafeCheckpointError,
    load_checkpoint,
    load_state_dict,
)


def _reference(tensor):
    tensor = tensor.detach()
    if tensor.dtype == torch.bfloat16:
        return tensor.float().numpy()
    return tensor.numpy()


def _state():
    """Tensors of several dtypes, views and storages shared between them."""
    generator = torch.Generator().manual_seed(0)
    base = torch.randn(4, 6, generator=generator)
    half = torch.randn(10, generator=generator).half()
    state = collections.OrderedDict()
    state["conv.weight"] = torch.randn(2, 3, 3, 1, 2, generator=generator)
    state["base"] = base
    state["base_t"] = base.t()  # same storage, transposed strides
    state["base_slice"] = base[1:3, 2:5]  # same storage, offset 8
    state["base_step"] = base[:, ::2]  # same storage, stride 2
    state["half"] = half
    state["half_step"] = half[1::3]
    state["bf16"] = torch.randn(3, generator=generator).bfloat16()
    state["double"] = torch.randn(2, 2, generator=generator).double()
    state["long"] = torch.arange(-3, 5, dtype=torch.int64)
    state["int"] = torch.tensor([7, -8], dtype=torch.int32)
    state["uint8"] = torch.tensor([0, 255], dtype=torch.uint8)
    state["uint16"] = torch.tensor([1, 65535], dtype=torch.uint16)
    state["bool"] = torch.tensor([True, False, True])
    state["scalar"] = torch.tensor(3, dtype=torch.int64)  # num_batches_tracked
    state["empty"] = torch.zeros(0, 5)
    state["param"] = torch.nn.Parameter(torch.randn(3, generator=generator))
    return state


def _check_equal(result, state):
    assert list(result) == list(state)
    for name, tensor in state.items():
        expected = _reference(tensor)
        assert result[name].dtype == expected.dtype, name
        assert result[name].shape == expected.shape, name
        np.testing.assert_array_equal(result[name], expected, err_msg=name)
        assert result[name].flags.c_contiguous and result[name].flags.owndata


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_round_trip_equals_torch(tmp_path, zip_format):
    state = _state()
    path = tmp_path / "state.pth"
    torch.save(state, path, _use_new_zipfile_serialization=zip_format)
    _check_equal(load_state_dict(path), state)


def test_shared_storage_views_are_independent_copies(tmp_path):
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    path = tmp_path / "views.pth"
    torch.save({"a": base, "b": base[:, 1]}, path)
    result = load_state_dict(path)
    result["a"][0, 1] = -1.0
    np.testing.assert_array_equal(result["b"], [1.0, 5.0, 9.0])


def test_module_state_dict_and_nestings(tmp_path):
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Conv3d(3, 4, 3), torch.nn.BatchNorm3d(4))
    state = module.state_dict()
    plain = tmp_path / "plain.pth"
    torch.save(state, plain)
    _check_equal(load_state_dict(plain), state)
    for key in ("model_state", "state_dict", "model"):
        nested = tmp_path / f"{key}.pth"
        torch.save({key: state, "epoch": 3, "cfg": "text"}, nested)
        _check_equal(load_state_dict(nested), state)
        _check_equal(load_state_dict(nested, key=key), state)
    whole = load_checkpoint(tmp_path / "model_state.pth")
    assert whole["epoch"] == 3 and whole["cfg"] == "text"


def test_ambiguous_or_missing_nesting_is_an_error(tmp_path):
    state = {"w": torch.ones(2)}
    path = tmp_path / "two.pth"
    torch.save({"model": state, "state_dict": state}, path)
    with pytest.raises(KeyError, match="pass `key=`"):
        load_state_dict(path)
    _check_equal(load_state_dict(path, key="model"), state)
    with pytest.raises(KeyError, match="no entry 'ema'"):
        load_state_dict(path, key="ema")
    not_state = tmp_path / "list.pth"
    torch.save([torch.ones(1)], not_state)
    with pytest.raises(ValueError, match="not a state dict"):
        load_state_dict(not_state)


def test_loads_without_torch_importable(tmp_path, monkeypatch):
    state = _state()
    path = tmp_path / "state.pth"
    torch.save(state, path)
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    with pytest.raises(ImportError):
        __import__("torch")
    _check_equal(load_state_dict(path), state)


def _rewrite_zip(source, target, replace):
    """Copies the zip `source` to `target`, `replace(name, data)` per record."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, replace(name, src.read(name)))


def test_big_endian_storages(tmp_path):
    state = {"f": torch.randn(5), "l": torch.arange(4), "h": torch.randn(3).half()}
    little = tmp_path / "little.pth"
    torch.save(state, little)
    dtypes = {"0": ">f4", "1": ">i8", "2": ">f2"}

    def to_big(name, data):
        if name.endswith("/byteorder"):
            return b"big"
        key = name.rsplit("/", 1)[-1]
        if "/data/" in name:
            little_dtype = np.dtype(dtypes[key]).newbyteorder("<")
            return np.frombuffer(data, little_dtype).astype(dtypes[key]).tobytes()
        return data

    big = tmp_path / "big.pth"
    _rewrite_zip(little, big, to_big)
    _check_equal(load_state_dict(big), state)


class _System:
    """Unpickles to `os.system(command)`."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def _torch_zip_with_pickle(tmp_path, payload):
    """A valid `torch.save` zip whose data.pkl is replaced by `payload`."""
    good = tmp_path / "good.pth"
    torch.save({"w": torch.ones(2)}, good)
    bad = tmp_path / "bad.pth"
    _rewrite_zip(
        good, bad, lambda name, data: payload if name.endswith("data.pkl") else data
    )
    return bad


def _marker_command(tmp_path):
    marker = tmp_path / "pwned"
    return marker, f"touch {marker}"


def test_reduce_to_os_system_is_refused_without_running(tmp_path):
    marker, command = _marker_command(tmp_path)
    payload = pickle.dumps({"w": _System(command)}, protocol=2)
    assert b"system" in payload  # `posix system` on Linux
    path = _torch_zip_with_pickle(tmp_path, payload)
    with pytest.raises(UnsafeCheckpointError, match=r"bad\.pth.*system"):
        load_state_dict(path)
    assert not marker.exists()
    # The same payload does run under plain pickle: the test can fail.
    pickle.loads(payload)
    assert marker.exists()


@pytest.mark.parametrize(
    "module, name", [("posix", "system"), ("builtins", "eval"), ("torch", "load")]
)
def test_any_other_global_is_refused(tmp_path, module, name):
    marker, command = _marker_command(tmp_path)
    argument = command if name == "system" else f"open({str(marker)!r}, 'w')"
    payload = (
        b"\x80\x02c"
        + f"{module}\n{name}\n".encode()
        + pickle.dumps((argument,), protocol=2)[2:-1]
        + b"R."
    )
    path = _torch_zip_with_pickle(tmp_path, payload)
    with pytest.raises(UnsafeCheckpointError, match=f"{module}.{name}"):
        load_checkpoint(path)
    assert not marker.exists()


def test_malicious_legacy_file_is_refused(tmp_path):
    marker, command = _marker_command(tmp_path)
    header = b"".join(
        pickle.dumps(x, protocol=2)
        for x in (torch_checkpoint._LEGACY_MAGIC, 1001, {"little_endian": True})
    )
    path = tmp_path / "legacy.pth"
    path.write_bytes(header + pickle.dumps(_System(command), protocol=2))
    with pytest.raises(UnsafeCheckpointError, match="system"):
        load_checkpoint(path)
    assert not marker.exists()


def _raw_pickle(pid_kind, size, stride, offset):
    """Hand-written protocol-2 pickle: {"w": _rebuild_tensor_v2(storage, ...)}."""
    dumps = lambda x: pickle.dumps(x, protocol=2)[2:-1]  # noqa: E731
    pid = (
        b"("
        + dumps(pid_kind)
        + b"ctorch\nFloatStorage\n"
        + dumps("0")
        + dumps("cpu")
        + dumps(2)
        + b"tQ"
    )
    return (
        b"\x80\x02}"
        + dumps("w")
        + b"ctorch._utils\n_rebuild_tensor_v2\n("
        + pid
        + dumps(offset)
        + dumps(size)
        + dumps(stride)
        + b"\x89}tRs."
    )


@pytest.mark.parametrize(
    "size, stride, offset, match",
    [
        ((3,), (1,), 0, "reaches element 2 of a storage of 2"),
        ((2,), (1,), 1, "reaches element 2"),
        ((2, 2), (1,), 0, "differ in length"),
        ((-1,), (1,), 0, "non-negative"),
    ],
)
def test_tensor_outside_its_storage_is_an_error(tmp_path, size, stride, offset, match):
    path = _torch_zip_with_pickle(
        tmp_path, _raw_pickle("storage", size, stride, offset)
    )
    with pytest.raises(pickle.UnpicklingError, match=match):
        load_state_dict(path)
    # The same hand-written pickle is read when it is in bounds.
    good = _torch_zip_with_pickle(tmp_path, _raw_pickle("storage", (2,), (1,), 0))
    np.testing.assert_array_equal(load_state_dict(good)["w"], [1.0, 1.0])


def test_other_persistent_id_is_refused(tmp_path):
    path = _torch_zip_with_pickle(tmp_path, _raw_pickle("module", (2,), (1,), 0))
    with pytest.raises(UnsafeCheckpointError, match="persistent id"):
        load_state_dict(path)


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "x.pth"
    path.write_bytes(pickle.dumps({"w": 1}))
    with pytest.raises(ValueError, match="not a torch checkpoint"):
        load_state_dict(path)
