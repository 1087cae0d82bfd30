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
"""What a registered numbers function returns: one row per quantity of ``chapter.PAPER``. An
optional ``text`` column writes a row in its own words where an estimate with an interval does
not fit the paper's quantity (a range, two medians): ``"median 4.1 %, range 3.2 – 6.0 %"``."""

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
                text = r.get("text")
                row[name] = (text if isinstance(text, str) and text
                             else report.ci(r["calstudy"], r["low"], r["high"], decimals))  # fmt: skip
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
    if "pre_ECE_15" not in frame or "space" not in frame or not (frame["space"] == "tss").any():
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

# The paper's RQ ii–iv numbers describe TSS on CIFAR-10 unless a quantity names its dataset.
_PAPER_SPACE, _PAPER_DATASET = "tss", "cifar10"


def _networks(frame: pd.DataFrame, columns: list[str], dataset: str | None = _PAPER_DATASET):
    """TSS rows (of ``dataset``; all datasets when None) complete in ``columns``, one per
    network: its lowest seed, as the chapters read a store (a seed study repeats networks)."""
    if any(c not in frame for c in columns) or "space" not in frame:
        return frame.iloc[:0]
    rows = frame[frame["space"] == _PAPER_SPACE]
    if dataset is not None:
        rows = rows[rows["dataset"] == dataset]
    rows = rows.dropna(subset=columns)
    if "seed" in rows:
        rows = rows.sort_values("seed", kind="stable")
    key = [c for c in ("space", "arch", "dataset", "fidelity") if c in rows]
    return rows.drop_duplicates(key)


def _row(quantity: str, estimate: float, low: float, high: float) -> dict[str, Any]:
    return {"quantity": quantity, "calstudy": estimate, "low": low, "high": high}


@numbers_for("ii")
def robustness_numbers(
    frame: pd.DataFrame, *, n_boot: int = 500, level: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """The paper's RQ ii quantities on TSS · CIFAR-10, each a τ with its bootstrap interval.

    τ(ECE_15, ·) with equal-mass ECE, KSCE and MMCE; the paper's range over accuracy under
    PGD, Square and corruptions is set beside τ with the mean corruption accuracy (the mean
    over the store's corruptions, one of the measures that range covers; RQ ii's chapter lists
    every measure); its AUROC beside the store's first out-of-distribution AUROC; its claim
    about high-accuracy models beside τ with the mean corruption accuracy among the N most
    accurate networks (N = 1,000, at most a quarter of them, as in the chapter).
    """
    from calstudy import analysis

    quantities = [n.quantity for n in chapter.PAPER if n.rq == "ii"]
    opts = {"n_boot": n_boot, "level": level, "seed": seed}
    rows = []
    tss = _networks(frame, ["pre_ECE_15", "acc"])
    if len(tss) < 3:
        return pd.DataFrame(columns=list(NUMBERS_COLUMNS))
    names, _ = analysis.estimator_columns(tss, ["ECE", "ECE_em", "KSCE", "MMCE"], n_bins=15,
                                          prefixes=("pre",))  # fmt: skip
    taus = analysis.estimator_taus(tss, "ECE_15", names, prefixes=("pre",), **opts)
    for q, name in zip(quantities[:3], ("ECE_em_15", "KSCE", "MMCE"), strict=True):
        for r in taus[taus["estimator"] == name].itertuples():
            rows.append(_row(q, r.tau, r.low, r.high))
    robust = analysis.robustness_taus(tss, "pre_ECE_15", **opts)
    for r in robust[robust["measure"] == "mean_corruption_acc"].itertuples():
        rows.append(_row(quantities[3], r.tau, r.low, r.high))
    for r in robust[robust["family"] == "ood"].head(1).itertuples():
        rows.append(_row(quantities[4], r.tau, r.low, r.high))
    contrast = analysis.top_versus_lowest(tss, "pre_ECE_15", n=1000, **opts)
    for r in contrast[contrast["measure"] == "mean_corruption_acc"].itertuples():
        rows.append(_row(quantities[5], r.tau_top, r.top_low, r.top_high))
    return pd.DataFrame(rows, columns=list(NUMBERS_COLUMNS))


@numbers_for("iii")
def estimator_numbers(
    frame: pd.DataFrame, *, n_boot: int = 500, level: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """τ(ECE_15, estimator) before scaling on every TSS dataset of ``frame``, named as the
    paper's RQ iii quantities (``τ(ECE, KSCE), CIFAR-10``), each with its bootstrap interval."""
    from calstudy import analysis

    tss = _networks(frame, ["pre_ECE_15"], dataset=None)
    families = ["ECE", "ECE_em", "KSCE", "KDECE", "MMCE", "cwCE", "cwCE_em"]
    names, _ = analysis.estimator_columns(tss, families, n_bins=15, prefixes=("pre",))
    if len(tss) < 3 or "ECE_15" not in names:
        return pd.DataFrame(columns=list(NUMBERS_COLUMNS))
    taus = analysis.estimator_taus(tss, "ECE_15", names, prefixes=("pre",), n_boot=n_boot,
                                   level=level, seed=seed)  # fmt: skip
    paper = {n.quantity: n.value for n in chapter.PAPER if n.rq == "iii"}
    rows = analysis.estimator_beside_paper(taus, paper, reference="ECE_15")
    return rows[list(NUMBERS_COLUMNS)]


@numbers_for("iv")
def posthoc_numbers(
    frame: pd.DataFrame, *, n_boot: int = 500, level: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """The paper's RQ iv quantities on TSS · CIFAR-10, each a τ with its bootstrap interval.

    τ(pre_ECE_15, post_ECE_15); and, for the paper's ranges of τ between bin counts (whose
    lowest end is its 5-vs-500-bin pair), τ between ECE at 5 and at 500 bins, before and after
    scaling, where the store holds both columns.
    """
    from calstudy import analysis

    quantities = [n.quantity for n in chapter.PAPER if n.rq == "iv"]
    opts = {"n_boot": n_boot, "level": level, "seed": seed}
    rows = []
    tss = _networks(frame, ["pre_ECE_15", "post_ECE_15"])
    if len(tss) >= 3:
        effect = analysis.scaling_effect(tss, "pre_ECE_15", "post_ECE_15", **opts)
        for r in effect.itertuples():
            rows.append(_row(quantities[0], r.tau, r.tau_low, r.tau_high))
    ends = ["pre_ECE_5", "pre_ECE_500", "post_ECE_5", "post_ECE_500"]
    tss = _networks(frame, ends)
    if len(tss) >= 3:
        pairs = analysis.bin_pair_taus(tss, "ECE", [(5, 500)], **opts)
        for q, when in zip(quantities[1:3], ("pre", "post"), strict=True):
            for r in pairs[pairs["when"] == when].itertuples():
                rows.append(_row(q, r.tau, r.low, r.high))
    return pd.DataFrame(rows, columns=list(NUMBERS_COLUMNS))


# ---------------------------------------------------------------------------------------------
# RQ v–vii (helper: rq5–rq8 chapters)
# ---------------------------------------------------------------------------------------------


def _first_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per network, its lowest seed, as the chapters use (a seed study repeats some)."""
    key = [c for c in ("space", "arch", "dataset", "fidelity") if c in frame.columns]
    return frame.sort_values("seed").drop_duplicates(key) if "seed" in frame.columns else frame


def _group(frame: pd.DataFrame, space: str, dataset: str, columns: list[str]) -> pd.DataFrame:
    if not set(columns) <= set(frame.columns):
        return frame.iloc[:0]
    rows = frame[(frame["space"] == space) & (frame["dataset"] == dataset)]
    return rows.dropna(subset=columns)


Row = tuple[str, float, float, float] | tuple[str, float, float, float, str]


def _numbers(rows: list[Row]) -> pd.DataFrame:
    """The rows as a numbers table (a fifth item is the row's own words, the ``text``
    column), less those whose estimate could not be computed."""
    table = pd.DataFrame([(*r, "")[:5] for r in rows], columns=[*NUMBERS_COLUMNS, "text"])
    return table.dropna(subset=["calstudy"])


def _percent(estimate: float, low: float = np.nan, high: float = np.nan) -> str:
    """A percentage with its interval, unsigned: ``"4.1 % [3.2, 6.0]"`` (``"4.1 %"`` without)."""
    text = f"{_one(estimate)} %"
    if np.isfinite(low) and np.isfinite(high):
        text += f" [{_one(low)}, {_one(high)}]"
    return text


def _one(x: float) -> str:
    """A percentage's number with one decimal, unsigned: ``4.1``."""
    return report.fixed(x, 1, signed=False)


@numbers_for("v")
def accuracy_numbers(
    frame: pd.DataFrame, *, n_boot: int = 500, level: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """RQ v on the TSS CIFAR-10 networks (the paper's group), ECE with 15 bins before scaling.

    Rows: the ECE of the models above 90 % accuracy (their median, in percent, with the range
    min – max in place of an interval, as the paper gives a range); τ-b(accuracy, ECE) over all
    models; and, beyond the paper, τ-b among the models above 90 % and the difference τ(top 20 %)
    − τ(rest) of :func:`calstudy.questions.accuracy.top_rest_contrast`, the test of a relation that
    changes along the accuracy axis.
    """
    from calstudy import analysis

    q_range, q_relation = (n.quantity for n in chapter.PAPER if n.rq == "v")
    ece = "pre_ECE_15"
    tss = _group(_first_runs(frame), "tss", "cifar10", ["acc", ece])
    rows: list[Row] = []
    if len(tss) < 3:
        return _numbers(rows)
    above = tss[tss["acc"] >= 0.9]
    if len(above) >= 3:
        lo, mid, hi = (100 * above[ece].quantile(q) for q in (0.0, 0.5, 1.0))
        rows.append((q_range, mid, lo, hi, f"{_one(lo)} – {_one(hi)} % (median {_one(mid)} %, "
                     f"{len(above):,} models)"))  # fmt: skip
        r = analysis.kendall_ci(above["acc"], above[ece], n_boot=n_boot, level=level, seed=seed)
        rows.append(("τ(accuracy, ECE), TSS CIFAR-10 models above 90 % accuracy", r.tau, r.low,
                     r.high))  # fmt: skip
    r = analysis.kendall_ci(tss["acc"], tss[ece], n_boot=n_boot, level=level, seed=seed)
    rows.append((q_relation, r.tau, r.low, r.high))
    labelled = analysis.label_top(tss, fraction=0.2, min_group=3)
    shape = analysis.top_rest_contrast(labelled, ece, n_boot=n_boot, level=level, seed=seed)
    if len(shape):
        s = shape.iloc[0]
        rows.append(("τ(top 20 % by accuracy) − τ(the rest), TSS CIFAR-10", s["diff"], s["low"],
                     s["high"]))  # fmt: skip
    return _numbers(rows)


BIN_NUMBERS = {"post": (5, 15, 50, 100, 200, 500), "pre": (5, 500)}
"""The bin counts at which :func:`bin_numbers` gives the median ECE, as the paper quotes them."""


@numbers_for("vi")
def bin_numbers(
    frame: pd.DataFrame, *, n_boot: int = 500, level: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """RQ vi: median ECE (percent, bootstrap interval over models) of the TSS ImageNet16-120
    networks at the bin counts the paper quotes (:data:`BIN_NUMBERS`), and τ-b between ECE at 5
    and at 500 bins of the TSS CIFAR-10 networks, before and after scaling (the paper: 0.25
    after). The paper's medians are quoted as lists, so each bin count is a row of its own.
    """
    from calstudy import analysis

    first = _first_runs(frame)
    rows: list[Row] = []
    bins = sorted(set(BIN_NUMBERS["pre"]) | set(BIN_NUMBERS["post"]))
    columns = [f"{w}_ECE_{b}" for w in BIN_NUMBERS for b in bins]
    imagenet = _group(first, "tss", "imagenet16-120", columns)
    if len(imagenet) >= 3:
        medians = analysis.bin_count_medians(imagenet, "ECE", bins, n_boot=n_boot, level=level,
                                             seed=seed).set_index(["when", "n_bins"])  # fmt: skip
        for when, counts in BIN_NUMBERS.items():
            for b in counts:
                m = medians.loc[(when, b)]
                rows.append((f"median {when}-scaling ECE at {b} bins (TSS ImageNet16-120)",
                             100 * m["median"], 100 * m["low"], 100 * m["high"],
                             _percent(100 * m["median"], 100 * m["low"], 100 * m["high"])))  # fmt: skip
        # The paper's own rows, its medians side by side as it quotes them.
        at = {(w, b): _one(100 * medians.loc[(w, b), "median"]) for w, b in medians.index}
        quoted = {n.quantity: n for n in chapter.PAPER if n.rq == "vi"}
        for quantity in quoted:
            if quantity.startswith("median post-scaling ECE at 5 / 15"):
                text = " / ".join(at[("post", b)] for b in BIN_NUMBERS["post"]) + " %"
            elif quantity.startswith("median pre-scaling ECE, 5 vs 500"):
                text = f"{at[('pre', 5)]} % vs {at[('pre', 500)]} %"
            else:
                continue
            rows.append((quantity, 100 * medians.loc[("post", 15), "median"], np.nan, np.nan,
                         text))  # fmt: skip
    cifar = _group(first, "tss", "cifar10", [f"{w}_ECE_{b}" for w in ("pre", "post") for b in (5, 500)])
    if len(cifar) >= 3:
        taus = analysis.bin_pair_taus(cifar, "ECE", [(5, 500)], n_boot=n_boot, level=level,
                                      seed=seed)  # fmt: skip
        for r in taus.itertuples():
            rows.append((f"τ(ECE at 5 bins, at 500 bins), {r.when}-scaling, TSS CIFAR-10", r.tau,
                         r.low, r.high))  # fmt: skip
    return _numbers(rows)


@numbers_for("vii")
def design_numbers(
    frame: pd.DataFrame, *, n_boot: int = 500, level: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """RQ vii, ECE with 15 bins: the SSS ImageNet16-120 medians at total width 40–80 and 280–320
    (percent) and their difference with its interval; τ-b(accuracy, ECE) of the SSS CIFAR-10
    networks with accuracy 84.7–92.3 % (the paper's "flat" row); τ-b(width, ECE) of the
    CIFAR-100 networks of uniform width, before and after scaling; and the share (percent,
    Wilson interval) of the 20 TSS CIFAR-10 cells with the best HCS that carry skip_connect on
    0→3 (the paper's "always skip_connect" row: 100 %).
    """
    from calstudy import analysis

    q_ends, q_flat, q_uniform, q_top = (n.quantity for n in chapter.PAPER if n.rq == "vii")
    first = analysis.design_columns(_first_runs(frame))
    pre, post = "pre_ECE_15", "post_ECE_15"
    options = {"n_boot": n_boot, "level": level, "seed": seed}
    rows: list[Row] = []
    sss = _group(first, "sss", "imagenet16-120", ["total_width", pre])
    if len(sss):
        e = analysis.width_extremes(sss, pre, **options)
        if e["n_narrow"] and e["n_wide"]:
            narrow, wide = 100 * e["narrow"], 100 * e["wide"]
            rows += [(q_ends, narrow, np.nan, np.nan,
                      f"{_one(narrow)} % vs {_one(wide)} %"),
                     (f"{q_ends}: difference, pp", 100 * e["difference"], 100 * e["low"],
                      100 * e["high"])]  # fmt: skip
    sss = _group(first, "sss", "cifar10", ["acc", pre])
    inside = sss[sss["acc"].between(0.847, 0.923)]
    if len(inside) >= 3:
        r = analysis.kendall_ci(inside["acc"], inside[pre], **options)
        rows.append((q_flat, r.tau, r.low, r.high))  # "flat": τ(accuracy, ECE) near 0
    sss = _group(first, "sss", "cifar100", ["c0", pre, post])
    if len(sss):
        table = analysis.uniform_width(sss, [pre, post], **options)
        for r in table[table["n"] >= 3].itertuples():
            when = "before" if r.metric == pre else "after"
            rows.append((f"{q_uniform}: τ(width, ECE {when} scaling)", r.tau, r.low, r.high))
    tss = _group(first, "tss", "cifar10", ["acc", pre, "edge_3_0"])
    if len(tss) >= 40:
        best = analysis.top_hcs(tss, 20, ece=pre)
        e = analysis.hcs_enrichment(best, tss, {"skip": ("edge_3_0", ["skip_connect"])},
                                    level=level).iloc[0]  # fmt: skip
        share = (100 * e["share"], 100 * e["low"], 100 * e["high"])
        rows.append((q_top, *share, f"skip_connect in {_percent(*share)}"))  # "always": 100 %
    return _numbers(rows)
