"""The groups a chapter analyses one by one (a search space and a dataset) and their names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from calstudy._checks import check_columns

__all__ = [
    "GROUP_KEYS",
    "dataset_title",
    "group_label",
    "group_name",
    "group_parts",
    "group_rows",
    "group_table",
    "groups_of",
    "pair_name",
    "split_groups",
]


#: Columns that split a calibration dataset into the groups a chapter analyses one by one.
GROUP_KEYS: tuple[str, ...] = ("space", "dataset")


def split_groups(df: pd.DataFrame, by: Sequence[str]) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """Each group of ``by`` (sorted) as ``({column: value}, rows)``."""
    by = list(by)
    check_columns(df, by)
    return [(dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)), part)
            for key, part in df.groupby(by, sort=True, dropna=False)]  # fmt: skip


def group_parts(
    df: pd.DataFrame, by: Sequence[str], columns: Sequence[str], min_rows: int
) -> tuple[list[tuple[dict[str, Any], pd.DataFrame]], list[dict[str, Any]]]:
    """Rows of each group of ``by`` complete in ``columns``; groups under ``min_rows`` apart."""
    check_columns(df, list(columns))
    kept, skipped = [], []
    for key, part in split_groups(df, by):
        part = part.dropna(subset=list(columns))
        (kept if len(part) >= max(3, min_rows) else skipped).append((key, part))
    return kept, [{**key, "n": len(part)} for key, part in skipped]


def group_table(
    rows: list[dict[str, Any]], by: Sequence[str], columns: Sequence[str], skipped: list
) -> pd.DataFrame:
    """A chapter's per-group ``rows`` as a table: ``*by, group, *columns`` (``group`` from
    :func:`group_label`), with the groups :func:`group_parts` set apart in ``attrs["skipped"]``."""
    table = pd.DataFrame(rows, columns=[*by, *columns])
    table.insert(len(by), "group", group_label(table, by) if len(table) else pd.Series(dtype=str))
    table.attrs["skipped"] = skipped
    return table


def group_label(table: pd.DataFrame, by: Sequence[str] = GROUP_KEYS) -> pd.Series:
    """How the book names a group in a sentence: ``"TSS · cifar10"`` (space upper-cased).

    Parameters
    ----------
    table : DataFrame
        Rows with the ``by`` columns.
    by : sequence of str, default=("space", "dataset")
        Group columns, joined by " · ".

    Returns
    -------
    Series of str
        Indexed like ``table``.

    Examples
    --------
    >>> group_label(pd.DataFrame({"space": ["tss"], "dataset": ["cifar10"]})).tolist()
    ['TSS · cifar10']
    """
    check_columns(table, list(by))
    parts = [table[c].astype(str).str.upper() if c == "space" else table[c].astype(str) for c in by]
    label = parts[0]
    for part in parts[1:]:
        label = label + " · " + part
    return label.rename("group")


def dataset_title(name: str) -> str:
    """A dataset's display name: ``dataset_title("cifar10") == "CIFAR-10"``; unknown names as is."""
    from calstudy.data import DATASETS

    return DATASETS[name].title if name in DATASETS else str(name)


def pair_name(key: Sequence[str]) -> str:
    """``("tss", "cifar10", "cifar100")`` → ``"TSS, CIFAR-10 ↔ CIFAR-100"``."""
    space, a, b = key
    return f"{str(space).upper()}, {dataset_title(a)} ↔ {dataset_title(b)}"


def groups_of(
    df: pd.DataFrame, groups: Sequence[str]
) -> list[tuple[tuple[Any, ...], pd.DataFrame]]:
    """:func:`split_groups` with each key as a tuple of values; no columns: one group, ``()``."""
    if not list(groups):
        return [((), df)]
    return [(tuple(key.values()), part) for key, part in split_groups(df, groups)]


def group_name(key: Sequence[str]) -> str:
    """``("tss", "cifar10")`` → ``"TSS / CIFAR-10"``: a space and a dataset for headings."""
    space, dataset = key
    return f"{str(space).upper()} / {dataset_title(dataset)}"


def group_rows(
    frame: pd.DataFrame, group: Any, by: Sequence[str] = ("space", "dataset", "fidelity")
) -> pd.DataFrame:
    """The rows of `frame` in one group: those whose `by` columns equal `group`'s attributes.

    Parameters
    ----------
    frame : DataFrame
        Rows with the `by` columns.
    group : object
        Anything with the `by` names as attributes: a row of a groups table (``itertuples``),
        a :class:`~calstudy.predictors.PredictionData`, ...
    by : sequence of str, default ("space", "dataset", "fidelity")
        The columns that make a group.

    Returns
    -------
    DataFrame
        The matching rows, with `frame`'s index.

    Examples
    --------
    >>> frame = pd.DataFrame({"space": ["tss", "tss", "sss"], "dataset": ["c", "d", "c"],
    ...                       "fidelity": "f", "y": [1, 2, 3]})
    >>> group = next(frame.iloc[[0]].itertuples())
    >>> group_rows(frame, group)["y"].tolist()
    [1]
    """
    by = list(by)
    check_columns(frame, by, "frame")
    keep = pd.Series(True, index=frame.index)
    for column in by:
        keep &= frame[column] == getattr(group, column)
    return frame[keep]
