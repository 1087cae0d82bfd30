"""Atomic file writes: a reader finds a file whole, old or new, never half-written.

:func:`atomic_write` writes to a hidden temporary file in the target's directory, flushes and
fsyncs it, renames it over the target with :func:`os.replace` (atomic on POSIX file systems)
and fsyncs the directory, so that the rename itself survives a crash. A write that fails, in
the caller's code or on the disk, removes the temporary file and leaves the target as it was;
a failure of the disk (full, read-only, no permission) becomes a :class:`WriteError` naming
the target. The store's shards, its logits, the early-signal files, the paper edition's CSVs,
downloads and checksum files are all written through it.

The temporary file is named after its writer (:data:`TEMP_NAME`): a hash of the host name and
the process id, so that a writer killed mid-write (SIGKILL skips every cleanup) can be told
from one still writing, on this host, by
:meth:`calstudy.store.Store.remove_orphaned_temp_files`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = [
    "HOST",
    "TEMP_GLOB",
    "TEMP_NAME",
    "WriteError",
    "atomic_write",
    "atomic_write_bytes",
    "fsync_dir",
    "write_error",
]

HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
"""This host's tag in temporary file names: the first 8 hex digits of its name's SHA-256."""
TEMP_GLOB = ".*.tmp"
"""The names of temporary files (hidden, ending in ``.tmp``), for listing leftovers."""
TEMP_NAME = re.compile(r"^\..+\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[0-9a-f]{8}\.tmp$")
"""A temporary file's name: ``.<target name>.<host>-<pid>-<8 random hex digits>.tmp``."""


class WriteError(OSError, ValueError):
    """A file could not be written (disk full, no permission); the target was left as it was.

    An :class:`OSError` (``errno`` is the original one, e.g. ``errno.ENOSPC``) that is also a
    :class:`ValueError`, so the command line reports it as a one-line error. The temporary file
    is removed: nothing half-written is left behind.
    """


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any]) -> Path:
    """Write `path` atomically: ``write(f)`` fills a temporary file that replaces `path`.

    Parameters
    ----------
    path : path
        The file to create or replace; its directory must exist.
    write : callable
        Called once with the temporary file, opened for writing bytes; what it returns is
        ignored. An exception it raises leaves `path` as it was and propagates (an
        :class:`OSError` as :class:`WriteError`).

    Returns
    -------
    pathlib.Path
        `path`, now holding what `write` wrote.

    Raises
    ------
    WriteError
        If the file system refuses the write, the fsync or the rename (naming `path`); the
        temporary file is removed and `path` is as it was.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "hello.txt"
    >>> atomic_write(target, lambda f: f.write(b"hello")).read_bytes()
    b'hello'
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(err, OSError) and not isinstance(err, WriteError):
            raise write_error(path, err) from err
        raise
    fsync_dir(path.parent)
    return path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` atomically (:func:`atomic_write`); returns `path`."""
    return atomic_write(path, lambda f: f.write(data))


def write_error(path: Path, err: OSError) -> WriteError:
    """The :class:`WriteError` for `err` raised while writing `path`, keeping its ``errno``."""
    reason = err.strerror or str(err)
    message = (
        f"Could not write {path.name!r} in '{path.parent}': {reason}. Nothing was published: "
        "the file is as it was and no temporary file is left; free space (or fix "
        "permissions) and run it again."
    )
    return WriteError(message) if err.errno is None else WriteError(err.errno, message)


def fsync_dir(directory: str | os.PathLike[str]) -> None:
    """Flush `directory`'s entries to disk, so that renames and deletions in it survive a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
