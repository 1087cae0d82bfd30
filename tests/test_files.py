"""Atomic writes (calstudy.files): a file is whole, old or new; a failed write leaves nothing."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import IO

import pytest

from calstudy.files import HOST, TEMP_NAME, WriteError, atomic_write, atomic_write_bytes


def test_writes_through_a_named_temporary_file_in_the_same_directory(tmp_path: Path) -> None:
    seen = []

    def write(f: IO[bytes]) -> None:
        seen.append(Path(f.name))
        f.write(b"new")

    path = tmp_path / "data.bin"
    assert atomic_write(path, write) == path
    assert path.read_bytes() == b"new" and list(tmp_path.iterdir()) == [path]
    (tmp,) = seen
    match = TEMP_NAME.match(tmp.name)
    assert tmp.parent == tmp_path and tmp.name.startswith(".data.bin.") and match is not None
    assert match["host"] == HOST and int(match["pid"]) == os.getpid()


@pytest.mark.parametrize("existing", [None, b"old contents"])
def test_a_failing_write_leaves_nothing(tmp_path: Path, existing: bytes | None) -> None:
    path = tmp_path / "data.bin"
    if existing is not None:
        path.write_bytes(existing)

    def half(f: IO[bytes]) -> None:
        f.write(b"half of it")
        raise RuntimeError("the writer failed")

    with pytest.raises(RuntimeError, match="the writer failed"):
        atomic_write(path, half)
    if existing is None:
        assert list(tmp_path.iterdir()) == []
    else:
        assert path.read_bytes() == existing and list(tmp_path.iterdir()) == [path]


def test_a_full_disk_is_a_write_error_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"old")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(WriteError, match=r"Could not write 'data.bin' in .*No space left") as err:
        atomic_write_bytes(path, b"new")
    assert err.value.errno == errno.ENOSPC and isinstance(err.value, ValueError)
    assert str(tmp_path) in str(err.value)
    assert path.read_bytes() == b"old" and list(tmp_path.iterdir()) == [path]


def test_a_missing_directory_is_a_write_error(tmp_path: Path) -> None:
    with pytest.raises(WriteError, match="Could not write 'data.bin'") as err:
        atomic_write_bytes(tmp_path / "missing" / "data.bin", b"new")
    assert err.value.errno == errno.ENOENT
    assert list(tmp_path.iterdir()) == []
