"""The calibration datasets as tables, with or without a checkout of the repository.

- :func:`load_demo`: the demo store the book is rendered from, shipped inside the calstudy
  package (``calstudy.demo_data``; in a checkout, ``data/demo``); its dataset card is
  ``data/demo/README.md``.
- :func:`load_store`: any store a sweep or ``calstudy dataset import-paper`` wrote.

Every shard is verified against its checksum and the schema before a value is read
(:class:`calstudy.store.Store`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

__all__ = ["demo_path", "load_demo", "load_store"]

# A wheel installs data/demo as calstudy/demo_data (pyproject's package-dir); a checkout reads it
# where it is.
_PACKAGED_DEMO = Path(__file__).resolve().parent / "demo_data"
_CHECKOUT_DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"


def demo_path() -> Path:
    """Directory of the demo store: the package's copy, else the checkout's ``data/demo``.

    Raises
    ------
    FileNotFoundError
        If neither holds a store (an installation without package data).
    """
    for candidate in (_PACKAGED_DEMO, _CHECKOUT_DEMO):
        if candidate.is_dir() and any(candidate.glob("shard-*.parquet")):
            return candidate
    raise FileNotFoundError(
        "Expected the demo store in the calstudy package (calstudy/demo_data) or in a checkout's "
        "data/demo, found neither; reinstall calstudy or clone its repository."
    )


def load_store(path: str | os.PathLike[str], *, finished: bool = True) -> pd.DataFrame:
    """Read a calibration store: one row per network × dataset × seed, one column per metric.

    Parameters
    ----------
    path : path-like
        Store directory.
    finished : bool, default=True
        Keep only rows whose ``status`` is ``"ok"`` (a sweep also records failed jobs).

    Returns
    -------
    DataFrame
        Columns as in :mod:`calstudy.schema` (``calstudy dataset describe PATH`` lists them).

    Examples
    --------
    >>> df = load_store(demo_path())
    >>> sorted(df["space"].unique())
    ['sss', 'tss']
    """
    from calstudy.store import Store

    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"Expected `path` to be a store directory, got {str(path)!r}.")
    frame = Store(root).read()
    if finished and "status" in frame.columns:
        frame = frame[frame["status"] == "ok"].reset_index(drop=True)
    return frame


def load_demo(*, finished: bool = True) -> pd.DataFrame:
    """The demo calibration dataset: 352 rows (122 TSS and 48 SSS architectures × CIFAR-10
    and Fashion-MNIST, and a seed study), 219 columns.

    Examples
    --------
    >>> df = load_demo()
    >>> df.shape[0], df.groupby("dataset").size().to_dict()
    (352, {'cifar10': 182, 'fashion-mnist': 170})
    """
    return load_store(demo_path(), finished=finished)
