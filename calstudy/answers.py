"""Each chapter's answer box, and the paper's numbers three ways.

A chapter opens with a short box: the question, this store's answer with its number and interval,
a caveat, and, where the reference study published a number, that number beside the same
statistic computed by calstudy on the paper's released data and on the demo store:

==========================  ======================  =============================  =========
quantity                    the paper, as published  the paper's data, recomputed  the demo
==========================  ======================  =============================  =========

Each research question registers the function that computes its quantities from a store frame
with :func:`numbers_for`; :func:`beside_paper` runs it on every store it can find, so the same
chapter shows all three numbers in either edition of the book:

- the store the chapter runs on (``frame``), which is the paper's data when its rows came from
  ``calstudy dataset import-paper`` (``source == "paper-csv"``);
- the paper's store, when one exists at ``$CALSTUDY_PAPER_STORE`` or the checkout's
  ``data/paper`` (what ``make book-paper`` imports); otherwise the column says it was not built;
- the demo store that ships with calstudy (:func:`calstudy.datasets.demo_path`).

A store that is neither (a user's sweep) gets its own column, "this store".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calstudy import chapter, report

__all__ = [
    "PAPER_STORE_ENV",
    "NUMBERS_COLUMNS",
    "numbers_for",
    "registered",
    "is_paper_data",
    "paper_store",
    "beside_paper",
    "markdown_table",
    "box",
]

PAPER_STORE_ENV = "CALSTUDY_PAPER_STORE"
"""Environment variable naming the paper's store for the demo edition's middle column."""

NUMBERS_COLUMNS = ("quantity", "calstudy", "low", "high")
"""What a registered numbers function returns: one row per quantity of ``chapter.PAPER``."""

PUBLISHED = "the paper, as published"
RECOMPUTED = "the paper's data, recomputed"
DEMO = "the demo"
THIS_STORE = "this store"

Numbers = Callable[..., pd.DataFrame]
_NUMBERS: dict[str, Numbers] = {}


def numbers_for(rq: str) -> Callable[[Numbers], Numbers]:
    """Register ``fn(frame, **options) -> DataFrame[quantity, calstudy, low, high]`` for ``rq``.

    ``rq`` is a research question's numeral as in :data:`calstudy.chapter.PAPER` (``"i"`` …
    ``"vii"``). The function receives a whole store frame (any spaces and datasets) and the
    chapter's options (``n_boot``, ``level``, ``seed``); it returns the rows it can compute,
    named exactly as the paper's quantities where it computes one of them, and an empty frame
    with those columns when the store holds none.
    """
    known = {n.rq for n in chapter.PAPER}
    if rq not in known:
        raise ValueError(f"Expected `rq` to be one of {sorted(known)}, got {rq!r}.")

    def register(fn: Numbers) -> Numbers:
        _NUMBERS[rq] = fn
        return fn

    return register


def registered() -> list[str]:
    """The research questions that have a numbers function."""
    return sorted(_NUMBERS)


def is_paper_data(frame: pd.DataFrame) -> bool:
    """True when every row of ``frame`` came from the paper's released CSVs."""
    return len(frame) > 0 and "source" in frame and bool((frame["source"] == "paper-csv").all())


def paper_store() -> Path | None:
    """The paper's store, if one was imported: ``$CALSTUDY_PAPER_STORE``, else ``data/paper``."""
    named = os.environ.get(PAPER_STORE_ENV)
    path = Path(named).expanduser() if named else chapter.REPO_ROOT / "data" / "paper"
    return path if path.is_dir() and any(path.glob("shard-*.parquet")) else None


def _same_store(a: Path | None, b: Path | None) -> bool:
    return a is not None and b is not None and a.resolve() == b.resolve()


def _computed(rq: str, frame: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
    out = _NUMBERS[rq](frame, **options)
    missing = [c for c in NUMBERS_COLUMNS if c not in out.columns]
    if missing:
        raise ValueError(
            f"Expected the numbers function of RQ {rq} to return columns {list(NUMBERS_COLUMNS)}, "
            f"missing {missing}."
        )
    return out.drop_duplicates("quantity").set_index("quantity")


def beside_paper(
    rq: str,
    frame: pd.DataFrame,
    *,
    store: str | os.PathLike[str] | None = None,
    decimals: int = 2,
    **options: Any,
) -> pd.DataFrame:
    """The paper's published numbers beside the same statistics computed by calstudy.

    Parameters
    ----------
    rq : str
        Research question (``"i"`` … ``"vii"``) with a function registered by
        :func:`numbers_for`.
    frame : DataFrame
        The store the chapter runs on.
    store : path-like, optional
        That store's directory (tells whether it is the demo store).
    decimals : int, default=2
        Decimals of the numbers.
    **options
        Passed to the registered function (``n_boot``, ``level``, ``seed``, ...).

    Returns
    -------
    DataFrame
        Indexed by quantity: the paper's quantities for ``rq`` first, in its order, then those
        the stores hold that the paper did not report. Columns (text): the paper as published,
        the paper's data recomputed by calstudy, the demo, and "this store" when the chapter
        runs on neither. ``—`` where a store does not hold the quantity; the recomputed column
        says "not built" when no paper store exists.
    """
    if rq not in _NUMBERS:
        raise ValueError(f"Expected `rq` to be one of {registered()}, got {rq!r}.")
    from calstudy import datasets

    published = {n.quantity: n.value for n in chapter.PAPER if n.rq == rq}
    here = _computed(rq, frame, options)
    here_path = chapter.resolve_store(store) if store is not None else None
    try:
        demo_dir: Path | None = datasets.demo_path()
    except FileNotFoundError:
        demo_dir = None

    columns: dict[str, pd.DataFrame | None] = {}
    if is_paper_data(frame):
        columns[RECOMPUTED] = here
    else:
        found = paper_store()
        columns[RECOMPUTED] = (
            _computed(rq, datasets.load_store(found), options) if found is not None else None
        )
    if _same_store(here_path, demo_dir):
        columns[DEMO] = here
    else:
        columns[DEMO] = _computed(rq, datasets.load_demo(), options) if demo_dir else None
        if not is_paper_data(frame):
            columns[THIS_STORE] = here

    quantities = list(published)
    for table in columns.values():
        if table is not None:
            quantities += [q for q in table.index if q not in quantities]
    rows = {}
    for q in quantities:
        row = {PUBLISHED: published.get(q, report.MISSING)}
        for name, table in columns.items():
            if table is None:
                row[name] = "not built"
            elif q in table.index:
                r = table.loc[q]
                row[name] = report.ci(r["calstudy"], r["low"], r["high"], decimals)
            else:
                row[name] = report.MISSING
        rows[q] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "quantity"
    return out


def markdown_table(table: pd.DataFrame) -> str:
    """A pipe table (MyST/GFM) of a small text table, index first; ``|`` in cells escaped."""

    def cell(x: object) -> str:
        text = report.MISSING if x is None or (isinstance(x, float) and np.isnan(x)) else str(x)
        return text.replace("|", "\\|").replace("\n", " ")

    header = [table.index.name or "", *map(str, table.columns)]
    lines = ["| " + " | ".join(map(cell, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(cell, [i, *row])) + " |"
              for i, row in zip(table.index, table.itertuples(index=False), strict=True)]  # fmt: skip
    return "\n".join(lines)


def box(
    question: str,
    ours: str,
    *,
    caveat: str | None = None,
    numbers: pd.DataFrame | None = None,
) -> str:
    """The answer box's Markdown: question, this store's answer, caveat, the three numbers.

    >>> print(box("Does ECE transfer?", "No: τ = +0.02 [-0.10, +0.14].", caveat="Small nets."))
    **Question.** Does ECE transfer?
    <BLANKLINE>
    **This store's answer.** No: τ = +0.02 [-0.10, +0.14].
    <BLANKLINE>
    **Caveat.** Small nets.
    """
    text = report.answer(question, ours, caveat=caveat)
    if numbers is not None and len(numbers):
        text += (
            "\n\n**The paper's numbers three ways** (published; recomputed by calstudy from the "
            "paper's released data; the demo store):\n\n" + markdown_table(numbers)
        )
        if (numbers.get(RECOMPUTED) == "not built").any():
            text += (
                "\n\n*Not built*: this build had no paper store (`make book-paper` imports one; "
                f"or set `{PAPER_STORE_ENV}`)."
            )
    return text


# ---------------------------------------------------------------------------------------------
# RQ i: transfer across datasets (the lead)
# ---------------------------------------------------------------------------------------------


@numbers_for("i")
def transfer_numbers(
    frame: pd.DataFrame, *, n_boot: int = 500, level: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """τ(ECE_15 before scaling) between every pair of datasets of the TSS networks, over all of
    them and over the 100 most accurate on the first dataset (the paper's RQ i quantities)."""
    from calstudy import analysis

    empty = pd.DataFrame(columns=list(NUMBERS_COLUMNS))
    if "pre_ECE_15" not in frame or not (frame["space"] == "tss").any():
        return empty
    tss = frame[frame["space"] == "tss"]
    pairs = analysis.pair_datasets(tss, ["pre_ECE_15", "acc"], datasets=sorted(tss["dataset"].unique()))
    usable = {key: p for key, p in pairs.items() if len(p) >= 3}
    if not usable:
        return empty
    transfer = analysis.transfer_table(usable, ["pre_ECE_15"], top_ns=[100], n_boot=n_boot,
                                       level=level, seed=seed)  # fmt: skip
    paper = {n.quantity: n.value for n in chapter.PAPER if n.rq == "i"}
    rows = analysis.transfer_beside_paper(transfer, paper)
    return rows[list(NUMBERS_COLUMNS)]


# ---------------------------------------------------------------------------------------------
# RQ ii–iv (helper: rq1–rq4 chapters)
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# RQ v–vii (helper: rq5–rq8 chapters)
# ---------------------------------------------------------------------------------------------
