"""No code runs from a data file: calstudy.safe_pickle and the five places that read pickles.

Each crafted pickle below would create a marker file if :func:`pickle.load` read it (checked
by ``test_the_payloads_are_live``). Read through calstudy's public loaders (CIFAR-10,
CIFAR-100 and ImageNet16-120 through :func:`calstudy.data.load_dataset`; a NATS-Bench
``meta.pickle.pbz2`` and a per-architecture ``{index:06d}.pickle.pbz2`` through
:mod:`calstudy.nats`), each must raise a ValueError naming the file and the global, and the
marker must never appear. Legitimate files still load exactly.
"""

from __future__ import annotations

import bz2
import collections
import io
import os
import pathlib
import pickle
import pickletools
import re
import subprocess
from pathlib import Path

import numpy as np
import numpy.testing._private.utils as np_testing_utils
import pytest
import torch

from calstudy import safe_pickle
from calstudy.data import CIFAR10_CLASSES, load_dataset

nats_bench = pytest.importorskip("nats_bench")

from calstudy.nats import net_config, open_benchmark, pretrained_network  # noqa: E402

# ----------------------------------------------------------------------------------------------
# Payloads: objects whose unpickling creates `marker`
# ----------------------------------------------------------------------------------------------


class _OsSystem:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


class _Open:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


class _PathTouch:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


class _Subprocess:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (subprocess.call, (["touch", str(self.marker)],))


class _Eval:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (eval, (f"open({str(self.marker)!r}, 'w').close()",))


class _NumpyRunstring:
    """A numpy function that executes code: allowing 'numpy.*' wholesale would be unsafe."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (np_testing_utils.runstring, (f"open({str(self.marker)!r}, 'w').close()", {}))


PAYLOADS = {
    "os.system": _OsSystem,
    "open": _Open,
    "pathlib.Path.touch": _PathTouch,
    "subprocess.call": _Subprocess,
    "builtins.eval": _Eval,
    "numpy runstring": _NumpyRunstring,
}


@pytest.fixture(params=sorted(PAYLOADS))
def payload(request: pytest.FixtureRequest, tmp_path: Path):
    """``(make, marker)``: ``make()`` builds a malicious object that would create ``marker``."""
    marker = tmp_path / "pwned"
    return lambda: PAYLOADS[request.param](marker), marker


def _global_of(obj: object, protocol: int) -> str:
    """The first global ``obj``'s pickle names, as ``module.name``: what a refusal names.

    E.g. ``posix.system`` for os.system, ``__builtin__.getattr`` for ``Path.touch`` at
    protocol 2 and ``pathlib.Path.touch`` at protocol 4.
    """
    strings: list[str] = []
    data = pickle.dumps(obj, protocol=protocol)
    for op, arg, _ in pickletools.genops(data):
        if op.name == "GLOBAL":
            return str(arg).replace(" ", ".")
        if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(str(arg))
        if op.name == "STACK_GLOBAL":
            return ".".join(strings[-2:])
    raise AssertionError(f"no global in {data!r}")


def _forbidden(file: Path | str, global_name: str) -> str:
    """The pattern of safe_pickle's refusal naming ``file`` and ``global_name``."""
    return (
        rf"Expected '{re.escape(str(file))}' to be a pickle of plain data .*got the global "
        rf"'{re.escape(global_name)}'.*could run code"
    )


def test_the_payloads_are_live(payload, tmp_path: Path) -> None:
    """Sanity check of the tests themselves: plain pickle.load does run each payload."""
    make, marker = payload
    for protocol in (2, 4):
        pickle.loads(pickle.dumps(make(), protocol=protocol))
        assert marker.exists()
        marker.unlink()


# ----------------------------------------------------------------------------------------------
# safe_pickle.load_plain itself
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_refuses_payload_at_every_protocol(payload, tmp_path: Path, protocol: int) -> None:
    make, marker = payload
    data = pickle.dumps({"data": np.zeros(3, np.uint8), "labels": [make()]}, protocol=protocol)
    file = tmp_path / "evil.pkl"
    file.write_bytes(data)
    with pytest.raises(ValueError, match=_forbidden(file, _global_of(make(), protocol))):
        safe_pickle.load_plain(file, encoding="latin1")
    with pytest.raises(ValueError, match=_forbidden("evil", _global_of(make(), protocol))):
        safe_pickle.load_plain(io.BytesIO(data), name="evil", tensors=True)
    assert not marker.exists()


PLAIN = {
    b"batch_label": b"training batch 1 of 5",
    "data": np.arange(24, dtype=np.uint8).reshape(2, 12),
    "floats": np.linspace(0, 1, 5, dtype=np.float32),
    "fortran": np.asfortranarray(np.arange(6, dtype=np.int64).reshape(2, 3)),
    "empty": np.zeros((0, 3), np.float64),
    "scalars": [np.int64(3), np.float32(0.5), np.bool_(True), 1, 2.5, 3j, True, None],
    "labels": [0, 9, 3],
    "names": ("airplane", "automobile"),
    "sets": [{1, 2}, frozenset({"a"})],
    "ordered": collections.OrderedDict(b=1, a=[b"", b"x", bytearray(b"yz")]),
    "nested": {("cifar10", 777): {"x-valid@11": 91.2}},
}


def _assert_same(a: object, b: object) -> None:
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.flags.f_contiguous == b.flags.f_contiguous
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y)
    else:
        assert a == b


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_plain_data_loads_exactly_as_pickle_does(protocol: int) -> None:
    data = pickle.dumps(PLAIN, protocol=protocol)
    expected = pickle.loads(data, encoding="latin1")
    _assert_same(safe_pickle.load_plain(io.BytesIO(data), encoding="latin1"), expected)
    _assert_same(expected, PLAIN)


def test_python2_cifar_pickle() -> None:
    """A Python 2 pickle as CIFAR ships: py2 str keys and array bytes, numpy.core names."""
    data = (
        b"\x80\x02}(U\x04datacnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
        b"K\x00\x85U\x01b\x87R(K\x01K\x01K\x03\x86cnumpy\ndtype\nU\x02u1K\x00K\x01\x87R"
        b"(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89U\x03\x01\x02\xfftb"
        b"U\x06labels]K\x07aU\x0bbatch_labelU\x03b\xe9tu."
    )
    loaded = safe_pickle.load_plain(io.BytesIO(data), encoding="latin1")
    assert list(loaded) == ["data", "labels", "batch_label"]
    np.testing.assert_array_equal(loaded["data"], np.array([[1, 2, 255]], np.uint8))
    assert loaded["data"].dtype == np.uint8 and loaded["labels"] == [7]
    assert loaded["batch_label"] == "b\xe9t"


def test_tensors_only_when_allowed(tmp_path: Path) -> None:
    state = collections.OrderedDict(
        weight=torch.randn(3, 2), bias=torch.nn.Parameter(torch.ones(3)), steps=torch.tensor(4)
    )
    file = tmp_path / "000000.pickle.pbz2"
    with bz2.BZ2File(file, "wb") as f:
        pickle.dump({"200": {"net_state_dict": state}}, f, protocol=4)
    loaded = safe_pickle.load_plain(file, compression="bz2", tensors=True)["200"]["net_state_dict"]
    assert type(loaded) is collections.OrderedDict and list(loaded) == list(state)
    for name, tensor in state.items():
        assert type(loaded[name]) is type(tensor)
        torch.testing.assert_close(loaded[name], tensor, atol=0, rtol=0)
    with pytest.raises(ValueError, match=_forbidden(file, "torch._utils._rebuild_tensor_v2")):
        safe_pickle.load_plain(file, compression="bz2")


class _EvilStorage:
    """A tensor storage whose bytes are themselves a malicious pickle."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def __reduce__(self):
        return (torch.storage._load_from_bytes, (pickle.dumps(self.inner, protocol=2),))


def test_tensor_storage_bytes_are_read_weights_only(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    data = pickle.dumps({"w": _EvilStorage(_OsSystem(marker))}, protocol=4)
    with pytest.raises(RuntimeError, match="Invalid magic number"):
        pickle.loads(data)  # live: torch's own _load_from_bytes runs it, then fails
    assert marker.exists()
    marker.unlink()
    system = re.escape(f"GLOBAL {os.system.__module__}.system")
    with pytest.raises(ValueError, match=rf"tensor storages in 'w.pkl'.*{system}.*could run code"):
        safe_pickle.load_plain(io.BytesIO(data), tensors=True, name="w.pkl")
    assert not marker.exists()


def test_codecs_encode_is_latin1_only() -> None:
    data = b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x05\x00\x00\x00rot13\x86R."
    with pytest.raises(ValueError, match=r"Could not unpickle 'c.pkl'.*encoding 'rot13'"):
        safe_pickle.load_plain(io.BytesIO(data), name="c.pkl")


def test_persistent_ids_are_refused() -> None:
    data = b"\x80\x02X\x01\x00\x00\x00xQ."  # BINPERSID
    with pytest.raises(ValueError, match=r"'p.pkl' .*got the persistent id 'x'"):
        safe_pickle.load_plain(io.BytesIO(data), name="p.pkl")


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"Expected the pickle '.*absent' to exist"):
        safe_pickle.load_plain(tmp_path / "absent")
    (tmp_path / "cut").write_bytes(pickle.dumps({"a": 1})[:-3])
    with pytest.raises(ValueError, match=r"Could not unpickle '.*cut'"):
        safe_pickle.load_plain(tmp_path / "cut")
    with pytest.raises(ValueError, match=r"Could not unpickle '.*cut'.*OSError"):
        safe_pickle.load_plain(tmp_path / "cut", compression="bz2")  # not bz2 data
    with pytest.raises(ValueError, match=r"Expected `compression` to be None or 'bz2'"):
        safe_pickle.load_plain(tmp_path / "cut", compression="gzip")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------
# The five paths: CIFAR-10, CIFAR-100, ImageNet16-120, NATS meta, NATS per-architecture file
# ----------------------------------------------------------------------------------------------


def _dump(obj: object, path: Path, protocol: int = 2) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(obj, protocol=protocol))


def _rows(n: int, size: int = 32) -> np.ndarray:
    return np.random.default_rng(n).integers(0, 256, (n, 3 * size * size), dtype=np.uint8)


def _cifar10(root: Path) -> Path:
    folder = root / "cifar-10-batches-py"
    for i in range(1, 6):
        _dump({b"data": _rows(2), b"labels": [i, 0]}, folder / f"data_batch_{i}")
    _dump({b"data": _rows(2), b"labels": [3, 4]}, folder / "test_batch")
    _dump({b"label_names": [c.encode() for c in CIFAR10_CLASSES]}, folder / "batches.meta")
    return folder


def _cifar100(root: Path) -> Path:
    folder = root / "cifar-100-python"
    _dump({b"data": _rows(2), b"fine_labels": [0, 99]}, folder / "train")
    _dump({b"data": _rows(2), b"fine_labels": [5, 6]}, folder / "test")
    return folder


def _imagenet16(root: Path) -> Path:
    folder = root / "ImageNet16"
    for i in range(1, 11):
        _dump({"data": _rows(2, 16), "labels": [i, 120]}, folder / f"train_data_batch_{i}")
    _dump({"data": _rows(2, 16), "labels": [1, 2]}, folder / "val_data")
    return folder


DATA_CASES = {
    "cifar10/data_batch_1": ("cifar10", _cifar10, "data_batch_1", b"labels"),
    "cifar10/batches.meta": ("cifar10", _cifar10, "batches.meta", b"label_names"),
    "cifar100/train": ("cifar100", _cifar100, "train", b"fine_labels"),
    "imagenet16-120/train_data_batch_1": (
        "imagenet16-120",
        _imagenet16,
        "train_data_batch_1",
        "labels",
    ),
    "imagenet16-120/val_data": ("imagenet16-120", _imagenet16, "val_data", "labels"),
}


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_dataset_pickles_run_no_code(case: str, payload, tmp_path: Path) -> None:
    name, write, file_name, key = DATA_CASES[case]
    make, marker = payload
    folder = write(tmp_path / "data")
    file = folder / file_name
    legit = pickle.loads(file.read_bytes(), encoding="latin1")
    _dump({**legit, key: make()}, file)
    with pytest.raises(ValueError, match=_forbidden(file, _global_of(make(), 2))):
        load_dataset(name, tmp_path / "data", cache=False)
    assert not marker.exists()


def test_sweep_data_dir_runs_no_code(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """``calstudy sweep --data-dir DIR`` checks its data first: the refusal is its error."""
    from calstudy.cli import main

    marker = tmp_path / "pwned"
    folder = _cifar10(tmp_path / "data")
    _dump({b"data": _rows(2), b"labels": _OsSystem(marker)}, folder / "data_batch_1")
    argv = ["sweep", "--preset", "tiny", "--out", str(tmp_path / "runs")]
    assert main([*argv, "--data-dir", str(tmp_path / "data")]) != 0
    assert re.search(
        _forbidden(folder / "data_batch_1", _global_of(_OsSystem(marker), 2)),
        capsys.readouterr().err,
    )
    assert not marker.exists()


@pytest.mark.parametrize(
    ("name", "write"),
    [("cifar10", _cifar10), ("cifar100", _cifar100), ("imagenet16-120", _imagenet16)],
)
def test_legitimate_dataset_pickles_still_load(name: str, write, tmp_path: Path) -> None:
    folder = write(tmp_path / "data")
    test_file = folder / {"cifar10": "test_batch", "cifar100": "test"}.get(name, "val_data")
    content = pickle.loads(test_file.read_bytes(), encoding="latin1")
    rows = content.get("data", content.get(b"data"))  # CIFAR's keys are bytes
    size = 16 if name == "imagenet16-120" else 32
    ds = load_dataset(name, tmp_path / "data", cache=False)
    np.testing.assert_array_equal(ds.x_test, rows.reshape(-1, 3, size, size).transpose(0, 2, 3, 1))
    if name == "cifar10":
        assert ds.classes == CIFAR10_CLASSES and ds.y_train.tolist() == [
            1,
            0,
            2,
            0,
            3,
            0,
            4,
            0,
            5,
            0,
        ]


ARCH = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
    "skip_connect~2|"
)


def _arch_state(arch: str) -> dict:
    """A per-architecture file's content: {hp: ArchResults state} with one cifar10 trial."""
    arch_results = nats_bench.ArchResults(0, arch)
    config = {"channel": 8, "num_cells": 1, "arch_str": arch, "class_num": 10}
    result = nats_bench.ResultsCount("cifar10", None, {}, {}, 0.1, 1.0, config, 777, 200, None)
    arch_results.update("cifar10", 777, result)
    return {"200": arch_results.state_dict()}


def _bz2_dump(obj: object, path: Path) -> None:
    with bz2.BZ2File(path, "wb") as f:
        pickle.dump(obj, f, protocol=4)


def test_nats_meta_runs_no_code(payload, tmp_path: Path) -> None:
    make, marker = payload
    root = tmp_path / "NATS-tss-v1_0-3ffb9-full"
    root.mkdir()
    meta = root / "meta.pickle.pbz2"
    _bz2_dump({"meta_archs": [ARCH], "total_archs": 1, "evaluated_indexes": make()}, meta)
    with pytest.raises(ValueError, match=_forbidden(meta, _global_of(make(), 4))):
        open_benchmark(root, "tss")
    assert not marker.exists()


def _archive_with_evil_arch_file(root: Path, evil: object) -> Path:
    root.mkdir()
    _bz2_dump(
        {"meta_archs": [ARCH], "arch2infos": None, "evaluated_indexes": set()},
        root / "meta.pickle.pbz2",
    )
    state = _arch_state(ARCH)
    state["200"]["all_results"][("cifar10", 777)]["train_losses"] = {0: evil}
    file = root / "000000.pickle.pbz2"
    _bz2_dump(state, file)
    return file


def test_nats_arch_file_runs_no_code(payload, tmp_path: Path) -> None:
    make, marker = payload
    file = _archive_with_evil_arch_file(tmp_path / "NATS-tss-v1_0-3ffb9-full", make())
    expected = _forbidden(file, _global_of(make(), 4))
    api = open_benchmark(file.parent, "tss")
    with pytest.raises(ValueError, match=expected):
        pretrained_network(api, 0, "cifar10")
    with pytest.raises(ValueError, match=expected):
        net_config(api, 0, "cifar10")
    # nats_bench's own queries load the file through the same restricted reader
    with pytest.raises(ValueError, match=expected):
        api.get_net_param(0, "cifar10", None, hp="200")
    with pytest.raises(ValueError, match=expected):
        api.reload(index=0)
    assert not marker.exists()


def test_nats_arch_file_with_evil_tensor_storage(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    file = _archive_with_evil_arch_file(
        tmp_path / "NATS-tss-v1_0-3ffb9-full", _EvilStorage(_OsSystem(marker))
    )
    api = open_benchmark(file.parent, "tss")
    system = re.escape(f"GLOBAL {os.system.__module__}.system")
    with pytest.raises(ValueError, match=rf"tensor storages in '{re.escape(str(file))}'.*{system}"):
        pretrained_network(api, 0, "cifar10")
    assert not marker.exists()


def test_nats_files_of_other_shapes_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "NATS-tss-v1_0-3ffb9-full"
    root.mkdir()
    meta = root / "meta.pickle.pbz2"
    _bz2_dump({"archs": [ARCH]}, meta)
    with pytest.raises(
        ValueError, match=r"hold \{'meta_archs': .*got a dict with keys \['archs'\]"
    ):
        open_benchmark(root, "tss")
    _bz2_dump({"meta_archs": [ARCH]}, meta)
    _bz2_dump({"200": "000001.pickle.pbz2"}, root / "000000.pickle.pbz2")  # a path, not a state
    api = open_benchmark(root, "tss")
    with pytest.raises(
        ValueError, match=r"000000.pickle.pbz2' to hold a dict of hp to .*\['str'\]"
    ):
        net_config(api, 0, "cifar10")
