"""Read pickles that hold only plain data, refusing anything that could run code.

A pickle is a program: every class or function it names (a *global*) is imported and may be
called while it loads, so a crafted CIFAR batch or NATS-Bench archive can run
``os.system(...)`` through :func:`pickle.load`. :func:`load_plain` unpickles with an allow-list
instead: a global outside it stops the load with a :class:`ValueError` that names the file and
the global, before anything is called. The allow-list is what the study's data files hold:

* built-in containers and scalars (dict, list, tuple, str, bytes, int, float, bool, None,
  which need no global, and ``set``, ``frozenset``, ``bytes``, ``bytearray``, ``complex``,
  ``collections.OrderedDict``), plus ``_codecs.encode`` restricted to latin-1, which is how
  protocol-2 pickles write non-empty ``bytes``;
* numpy arrays, dtypes and scalars (``numpy.core.multiarray._reconstruct`` / ``scalar``,
  ``numpy.core.numeric._frombuffer``, under numpy 1's and numpy 2's module names), the
  content of the CIFAR-10, CIFAR-100 and ImageNet16-120 pickles;
* with ``tensors=True`` only, torch tensors as :func:`pickle.dump` writes them
  (``torch._utils._rebuild_tensor_v2`` / ``_rebuild_parameter`` and
  ``torch.storage._load_from_bytes``, whose bytes are read with
  ``torch.load(weights_only=True)`` on the CPU instead of torch's own unrestricted load):
  the weights in NATS-Bench's ``-full`` per-architecture files.

Objects of any other class (NATS-Bench stores its ``ArchResults`` / ``ResultsCount`` as plain
state dicts, not instances), functions, modules and persistent ids are refused.
"""

from __future__ import annotations

import bz2
import collections
import contextlib
import io
import os
import pickle
from typing import IO, Any, Literal

import numpy as np

__all__ = ["load_plain"]

_PLAIN = "numpy arrays, lists, dicts, tuples, str, bytes, numbers, None"


class _ForbiddenGlobalError(ValueError):
    """A pickle named a global outside the allow-list (already a complete message)."""


def _latin1_encode(text: str, encoding: str) -> bytes:
    """``_codecs.encode`` as protocol-2 pickles call it for ``bytes``, latin-1 only."""
    if not isinstance(text, str) or encoding.lower().replace("_", "-") not in {
        "latin1",
        "latin-1",
        "iso-8859-1",
    }:
        raise pickle.UnpicklingError(
            f"Expected _codecs.encode(str, 'latin1'), got the encoding {encoding!r}."
        )
    return text.encode("latin1")


def _numpy_globals() -> dict[tuple[str, str], Any]:
    """numpy's pickle globals under the module names numpy 1 and numpy 2 write."""
    reconstruct = np.zeros(1).__reduce__()[0]  # multiarray._reconstruct
    scalar = np.float64(0).__reduce__()[0]  # multiarray.scalar
    frombuffer = np.zeros(1).__reduce_ex__(5)[0]  # numeric._frombuffer (protocol 5)
    out: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }
    for core in ("numpy.core", "numpy._core"):
        out[(f"{core}.multiarray", "_reconstruct")] = reconstruct
        out[(f"{core}.multiarray", "scalar")] = scalar
        out[(f"{core}.numeric", "_frombuffer")] = frombuffer
    return out


def _builtin_globals() -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], Any] = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("_codecs", "encode"): _latin1_encode,
    }
    for module in ("builtins", "__builtin__"):  # Python 3 and Python 2 spellings
        for cls in (set, frozenset, bytes, bytearray, complex):
            out[(module, cls.__name__)] = cls
    return out


def _torch_globals(where: str) -> dict[tuple[str, str], Any]:
    import torch._utils

    def storage_from_bytes(data: bytes) -> Any:
        """``torch.storage._load_from_bytes`` with ``weights_only=True``, onto the CPU."""
        if not isinstance(data, bytes):
            raise pickle.UnpicklingError(
                f"Expected the bytes of a torch storage, got {type(data).__name__}."
            )
        try:
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as e:  # torch names the global on a line of its own
            lines = [line for line in str(e).splitlines() if "GLOBAL" in line] or [str(e)]
            raise _ForbiddenGlobalError(
                f"Expected the tensor storages in '{where}' to hold only tensor data (read "
                f"with torch.load(weights_only=True)), got: {lines[0].strip()} This could run "
                "code: refused, nothing of the file was run."
            ) from None

    return {
        ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
        ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
        ("torch.storage", "_load_from_bytes"): storage_from_bytes,
    }


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals in ``allowed``."""

    def __init__(
        self, file: IO[bytes], *, where: str, allowed: dict[tuple[str, str], Any], encoding: str
    ) -> None:
        super().__init__(file, encoding=encoding)
        self._where = where
        self._allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise _ForbiddenGlobalError(self._refusal(f"the global '{module}.{name}'")) from None

    def persistent_load(self, pid: Any) -> Any:
        raise _ForbiddenGlobalError(self._refusal(f"the persistent id {str(pid)[:60]!r}"))

    def _refusal(self, what: str) -> str:
        kinds = _PLAIN + (
            ", torch tensors" if ("torch._utils", "_rebuild_tensor_v2") in self._allowed else ""
        )
        return (
            f"Expected '{self._where}' to be a pickle of plain data ({kinds}), got {what}, "
            "which could run code: refused, nothing of the file was run."
        )


def load_plain(
    file: str | os.PathLike[str] | IO[bytes],
    *,
    encoding: str = "ASCII",
    compression: Literal["bz2"] | None = None,
    tensors: bool = False,
    name: str | None = None,
) -> Any:
    """Unpickle plain data from a file, refusing every global outside an allow-list.

    Parameters
    ----------
    file : str, path-like or binary file object
        The pickle, e.g. ``cifar-10-batches-py/data_batch_1`` or a NATS-Bench
        ``meta.pickle.pbz2``.
    encoding : str, default "ASCII"
        How Python 2 ``str`` objects are decoded, as in :func:`pickle.load`; ``"latin1"`` for
        the CIFAR and ImageNet16 pickles (their numpy arrays were written by Python 2).
    compression : {None, "bz2"}, default None
        ``"bz2"`` for NATS-Bench's ``*.pickle.pbz2`` files.
    tensors : bool, default False
        Also allow torch tensors (their storages read with ``torch.load(weights_only=True)``),
        as in NATS-Bench's per-architecture files with weights.
    name : str, optional
        How errors name the file; default the path, or the file object's ``name``.

    Returns
    -------
    object
        The unpickled data: built-in containers and scalars, numpy arrays and scalars, and
        with ``tensors=True`` torch tensors.

    Raises
    ------
    FileNotFoundError
        If `file` is a path that does not exist.
    ValueError
        If the pickle names a global outside the allow-list (``os.system``, ``builtins.eval``,
        any class of its own, ...): nothing of it is called, and the message names the file and
        the global. Also if the file is not a well-formed pickle.

    Examples
    --------
    >>> import io, pickle
    >>> load_plain(io.BytesIO(pickle.dumps({"data": np.arange(3, dtype=np.uint8)})))
    {'data': array([0, 1, 2], dtype=uint8)}
    >>> try:
    ...     load_plain(io.BytesIO(pickle.dumps(print)), name="evil.pkl")
    ... except ValueError as e:
    ...     print(e)  # doctest: +ELLIPSIS
    Expected 'evil.pkl' to be a pickle of plain data (...), got the global 'builtins.print', ...
    """
    if compression not in (None, "bz2"):
        raise ValueError(f"Expected `compression` to be None or 'bz2', got {compression!r}.")
    allowed = {**_builtin_globals(), **_numpy_globals()}
    with contextlib.ExitStack() as stack:
        if isinstance(file, str | os.PathLike):
            path = os.fspath(file)
            where = path if name is None else name
            try:
                raw: IO[bytes] = stack.enter_context(open(path, "rb"))
            except FileNotFoundError:
                raise FileNotFoundError(
                    f"Expected the pickle '{where}' to exist, but it does not."
                ) from None
        else:
            where = str(getattr(file, "name", "<file object>")) if name is None else name
            raw = file
        if tensors:
            allowed.update(_torch_globals(where))
        try:
            stream = stack.enter_context(bz2.BZ2File(raw, "rb")) if compression == "bz2" else raw
            unpickler = _RestrictedUnpickler(
                stream, where=where, allowed=allowed, encoding=encoding
            )
            return unpickler.load()
        except _ForbiddenGlobalError:
            raise
        except (
            pickle.UnpicklingError,
            EOFError,
            OSError,
            AttributeError,
            ValueError,
            IndexError,
            KeyError,
            TypeError,
            OverflowError,
            RuntimeError,
        ) as e:
            raise ValueError(f"Could not unpickle '{where}': {type(e).__name__}: {e}") from e
