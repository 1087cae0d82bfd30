"""RQ i: does calibration transfer across datasets? τ-b of a metric on two datasets of the
same architectures, for all networks and the most accurate ones, and its sentences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calstudy._checks import check_columns, check_level, check_positive_int
from calstudy.catalogue import prose_name
from calstudy.differences import tau_difference
from calstudy.questions.groups import dataset_title, pair_name
from calstudy.questions.versus_paper import paper_float, position_of
from calstudy.selection import count_complete, top_n
from calstudy.stats import correct_pvalues, kendall_ci

__all__ = [
    "population_sentence",
    "transfer_beside_paper",
    "transfer_paper_sentences",
    "transfer_quantity",
    "transfer_sentence",
    "transfer_table",
    "transfer_verdicts",
    "transfer_versus_reference",
]


# ================================================================================================
# RQ i: transfer of calibration across datasets
# ================================================================================================


def _tau_row(key: tuple[str, str, str], x: object, y: object, **options: Any) -> dict[str, Any]:
    r = kendall_ci(x, y, **options)
    return {"space": key[0], "dataset_a": key[1], "dataset_b": key[2], "tau": r.tau,
            "low": r.low, "high": r.high, "p": r.p_value, "n": r.n}


def transfer_table(
    pairs: Mapping[tuple[str, str, str], pd.DataFrame],
    metrics: Sequence[str],
    *,
    top_ns: Sequence[int] = (),
    by: str = "acc",
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """τ-b of each metric between two datasets, over all networks and over the top N (RQ i).

    For every paired table of :func:`~calstudy.selection.pair_datasets` and every metric, τ-b
    between ``<metric>_a`` and ``<metric>_b`` with a bootstrap interval
    (:func:`~calstudy.stats.kendall_ci`): over all pairs, then over the ``n`` pairs MOST accurate on
    dataset ``a`` (:func:`~calstudy.selection.top_n` on ``<by>_a``) for each ``n`` in ``top_ns``
    smaller than the number of pairs. The selection looks at dataset ``a`` only, so it is not
    conditioned on the outcome on ``b``. A metric with fewer than 3 complete pairs in a table is
    left out of it. ``p_holm`` is Holm-corrected over the whole table.

    Parameters
    ----------
    pairs : mapping of (space, a, b) to DataFrame
        Output of :func:`~calstudy.selection.pair_datasets`.
    metrics : sequence of str
        Metric columns (without suffix).
    top_ns : sequence of int, default=()
        Sizes of the top-N selections.
    by : str, default="acc"
        Ranking column of the top-N selections (without suffix).
    n_boot, level, seed
        As in :func:`~calstudy.stats.kendall_ci`.

    Returns
    -------
    DataFrame
        Columns ``space, dataset_a, dataset_b, metric, models, top, tau, low, high, p, n,
        p_holm``; ``models`` is ``"all"`` or ``"top N"``, ``top`` is N (0 for all).
    """
    top_ns = [check_positive_int(n, "top_ns") for n in top_ns]
    rows = []
    for key, p in pairs.items():
        for metric in metrics:
            x, y = f"{metric}_a", f"{metric}_b"
            check_columns(p, [x, y], "pairs")
            if count_complete(p, [x, y]) < 3:
                continue
            sizes = [0] + [n for n in top_ns if n < len(p)]
            for n in sizes:
                rows_n = p if n == 0 else top_n(p, n, by=f"{by}_a")
                if count_complete(rows_n, [x, y]) < 3:
                    continue
                row = _tau_row(key, rows_n[x], rows_n[y], n_boot=n_boot, level=level, seed=seed)
                rows.append({**row, "metric": metric, "models": "all" if n == 0 else f"top {n}",
                             "top": n})
    columns = ["space", "dataset_a", "dataset_b", "metric", "models", "top", "tau", "low",
               "high", "p", "n"]
    table = pd.DataFrame(rows, columns=columns)
    table["p_holm"] = correct_pvalues(table["p"].to_numpy(float), method="holm")
    return table


def transfer_versus_reference(
    pairs: Mapping[tuple[str, str, str], pd.DataFrame],
    metrics: Sequence[str],
    *,
    reference: str = "acc",
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Does a metric transfer worse than a reference column? :math:`\tau_m - \tau_{ref}` (RQ i).

    For every paired table of :func:`~calstudy.selection.pair_datasets` and every metric other than
    ``reference``, the difference of the two cross-dataset τ-b, :math:`\tau(m_a, m_b) - \tau(r_a,
    r_b)`, over the same networks, with the paired bootstrap of
    :func:`~calstudy.differences.tau_difference` (whole networks are resampled, so the dependence of
    the two τ is kept). ``p_holm`` is Holm-corrected over the table. A metric with fewer than 3
    networks complete in all four columns is left out.

    Parameters
    ----------
    pairs : mapping of (space, a, b) to DataFrame
        Output of :func:`~calstudy.selection.pair_datasets`, carrying ``reference`` too.
    metrics : sequence of str
        Metric columns (without suffix); ``reference`` itself is skipped.
    reference : str, default="acc"
        The yardstick column (accuracy: how well rankings transfer at all).
    n_boot, level, seed
        As in :func:`~calstudy.differences.tau_difference`.

    Returns
    -------
    DataFrame
        Columns ``space, dataset_a, dataset_b, metric, difference, low, high, p, n, p_holm``.
    """
    rows = []
    for key, p in pairs.items():
        for metric in [m for m in metrics if m != reference]:
            columns = [f"{metric}_a", f"{metric}_b", f"{reference}_a", f"{reference}_b"]
            check_columns(p, columns, "pairs")
            if count_complete(p, columns) < 3:
                continue
            r = tau_difference(*(p[c] for c in columns), n_boot=n_boot, level=level, seed=seed)
            rows.append({"space": key[0], "dataset_a": key[1], "dataset_b": key[2],
                         "metric": metric, "difference": r.estimate, "low": r.low,
                         "high": r.high, "p": r.p_value, "n": r.n})
    columns = ["space", "dataset_a", "dataset_b", "metric", "difference", "low", "high", "p", "n"]
    table = pd.DataFrame(rows, columns=columns)
    table["p_holm"] = correct_pvalues(table["p"].to_numpy(float), method="holm")
    return table


def transfer_verdicts(
    transfer: pd.DataFrame,
    versus: pd.DataFrame,
    *,
    alpha: float = 0.05,
    reference: str = "acc",
) -> pd.DataFrame:
    """One verdict per metric and dataset pair, over all networks, from the two RQ i tables.

    - ``transfer``: ``"transfers"`` when τ > 0 with Holm p < ``alpha``, ``"reverses"`` when
      τ < 0 with Holm p < ``alpha``, else ``"no detectable transfer"``;
    - ``versus``: ``"worse"`` / ``"better"`` than the reference when the interval of
      τ_metric − τ_reference lies below / above 0 and its Holm p < ``alpha``, ``"no different"``
      otherwise, ``"—"`` for the reference itself or a metric without a difference.

    Parameters
    ----------
    transfer : DataFrame
        Output of :func:`transfer_table` (its ``models == "all"`` rows are used).
    versus : DataFrame
        Output of :func:`transfer_versus_reference` (may be empty).
    alpha : float, default=0.05
        Family-wise error rate of the Holm-corrected p-values.
    reference : str, default="acc"
        The yardstick metric of ``versus``.

    Returns
    -------
    DataFrame
        Columns ``space, dataset_a, dataset_b, metric, tau, low, high, p_holm, n, transfer,
        difference, diff_low, diff_high, diff_p_holm, versus``, one row per metric and pair.
    """
    check_level(alpha, "alpha")
    key = ["space", "dataset_a", "dataset_b", "metric"]
    every = transfer.loc[transfer["models"] == "all", [*key, "tau", "low", "high", "p_holm", "n"]]
    gaps = versus[[*key, "difference", "low", "high", "p_holm"]].rename(
        columns={"low": "diff_low", "high": "diff_high", "p_holm": "diff_p_holm"}
    )
    out = every.merge(gaps, on=key, how="left", validate="one_to_one")
    significant = out["p_holm"] < alpha
    out["transfer"] = np.where(
        significant & (out["tau"] > 0),
        "transfers",
        np.where(significant & (out["tau"] < 0), "reverses", "no detectable transfer"),
    )
    clear = out["diff_p_holm"] < alpha
    out["versus"] = np.select(
        [clear & (out["diff_high"] < 0), clear & (out["diff_low"] > 0), out["difference"].notna()],
        ["worse", "better", "no different"],
        default="—",
    )
    out.loc[out["metric"] == reference, "versus"] = "—"
    return out.reset_index(drop=True)


# RQ i, in words: the transfer tables as sentences (calstudy.report's formats), so that the
# chapter run on any store states that store's findings.


def transfer_sentence(rows: pd.DataFrame, *, brief: bool = False) -> str:
    """One dataset pair of :func:`transfer_verdicts` in words (RQ i).

    Parameters
    ----------
    rows : DataFrame
        The rows of one ``(space, dataset_a, dataset_b)`` of :func:`transfer_verdicts`.
    brief : bool, default=False
        One summary line instead of the full statement.

    Returns
    -------
    str
        The pair, accuracy's verdict and τ, the metrics that transfer, reverse or show no
        detectable transfer, the largest ``|τ|`` of a calibration metric, and which metrics
        transfer worse than, no differently from or better than accuracy; ``""`` for no rows.
    """
    from calstudy import report

    if rows.empty:
        return ""
    v = rows.set_index("metric")
    key = tuple(rows[["space", "dataset_a", "dataset_b"]].iloc[0])
    cal = v.drop(index="acc", errors="ignore")
    acc = ""
    if "acc" in v.index:
        acc = f"accuracy {v.loc['acc', 'transfer']} ({report.tau(v.loc['acc'])})"
    moving = cal.index[cal["transfer"] == "transfers"]
    if brief:
        return (
            f"{pair_name(key)}: {len(moving)} of {len(cal)} calibration metrics transfer after "
            f"Holm ({report.join(map(prose_name, moving))})" + (f"; {acc}" if acc else "")
            + f"; {int((cal['versus'] == 'worse').sum())} transfer significantly worse than "
            "accuracy."
        )  # fmt: skip
    said = [f"**{pair_name(key)}** ({report.plural(int(v['n'].max()), 'network')} on both)."]
    if acc:
        said.append(acc[0].upper() + acc[1:] + ".")
    for verdict in ("transfers", "reverses", "no detectable transfer"):
        names = cal.index[cal["transfer"] == verdict]
        if len(names):
            said.append(f"{verdict.capitalize()}: {report.join(map(prose_name, names))}.")
    if len(cal):
        big = cal["tau"].abs().idxmax()
        said.append(f"Largest |τ| of a calibration metric: {prose_name(big)}, "
                    f"{report.tau(cal.loc[big])}.")
    words = {"worse": "below", "no different": "indistinguishable from", "better": "above"}
    for verdict, word in words.items():
        names = cal.index[cal["versus"] == verdict]
        if len(names):
            said.append(f"τ {word} accuracy's: {report.join(map(prose_name, names))}.")
    return " ".join(said)


def population_sentence(curve: pd.DataFrame, *, paper: tuple[float, float] | None = None) -> str:
    """A τ-against-N curve of :func:`~calstudy.selection.selection_curve` in words (RQ i, ii).

    Parameters
    ----------
    curve : DataFrame
        Output of :func:`~calstudy.selection.selection_curve` for one pair of columns.
    paper : (float, float), optional
        A published range to set against the random-N band at the smallest N.

    Returns
    -------
    str
        τ among the N most accurate at the smallest N with its interval, the random band at
        that N (and whether it holds ``paper``), the ranges of τ among the most and the least
        accurate N below the largest N, and τ at the largest N.
    """
    from calstudy import report

    by = {s: c.set_index("size") for s, c in curve.groupby("selection", sort=False)}
    sizes = sorted(curve["size"].unique())
    n0, m = int(sizes[0]), int(sizes[-1])
    whole = by["top"].loc[m, "tau_mean"]
    if n0 == m:
        return f"Only {m} networks: τ = {report.fixed(whole)} over all of them, no curve."
    band, best = by["random"].loc[n0], by["top"].loc[n0]
    said = [f"Among the {n0} most accurate networks τ = "
            f"{report.ci(best['tau_mean'], best['low'], best['high'])}, an interval "
            f"{report.fixed(best['high'] - best['low'], signed=False)} wide",
            f"among {n0} networks drawn at random τ falls in [{report.fixed(band['low'])}, "
            f"{report.fixed(band['high'])}] over the draws"]  # fmt: skip
    if paper is not None:
        holds = band["low"] <= paper[0] and band["high"] >= paper[1]
        said[1] += (f", a band that {'holds' if holds else 'does not hold'} the paper's whole range "
                    f"{report.num(paper[0])} – {report.num(paper[1])}")
    for selection, words in (("top", "most"), ("lowest", "least")):
        below = by[selection].drop(index=m)["tau_mean"]
        said.append(f"among the N {words} accurate, τ runs from {report.fixed(below.min())} to "
                    f"{report.fixed(below.max())} for N below {m:,}")
    return "; ".join(said) + f"; over all {m:,} networks τ = {report.fixed(whole)}."


def transfer_quantity(title_a: str, title_b: str, models: str = "all models") -> str:
    """The name of an RQ i quantity, as :data:`calstudy.chapter.PAPER` spells it.

    >>> transfer_quantity("CIFAR-10", "CIFAR-100", "top 100")
    'τ(ECE_15 on CIFAR-10, on CIFAR-100), TSS, top 100'
    """
    return f"τ(ECE_15 on {title_a}, on {title_b}), TSS, {models}"


def transfer_beside_paper(
    transfer: pd.DataFrame,
    paper: Mapping[str, object],
    *,
    metric: str = "pre_ECE_15",
    space: str = "tss",
    top: int = 100,
) -> pd.DataFrame:
    """This store's τ(ECE_15) between datasets beside the reference study's (RQ i).

    For each dataset pair of ``transfer`` in ``space``, over all networks and over the ``top``
    most accurate, the quantity is named with :func:`transfer_quantity` and looked up in
    ``paper`` (the paper's values exist for CIFAR-10, CIFAR-100 and ImageNet16-120 only).

    Parameters
    ----------
    transfer : DataFrame
        Output of :func:`transfer_table`.
    paper : mapping of str to number or str
        Quantity → the paper's value (e.g. ``{n.quantity: n.value for n in chapter.PAPER}``);
        text values such as ``"−0.23"`` are read as numbers.
    metric : str, default="pre_ECE_15"
        The metric the paper's values describe.
    space : str, default="tss"
        The space the paper's values describe.
    top : int, default=100
        The N of the paper's top-N values.

    Returns
    -------
    DataFrame
        Columns ``quantity, paper, calstudy, low, high, position`` (where the paper's value lies
        relative to this store's interval: :func:`~calstudy.questions.versus_paper.position_of`),
        one row per pair and selection; ``paper`` is NaN for a pair the paper did not report.
    """
    check_columns(transfer, ["space", "dataset_a", "dataset_b", "metric", "models"], "transfer")
    wanted = {"all": "all models", f"top {top}": f"top {top}"}
    rows = []
    chosen = transfer[(transfer["metric"] == metric) & (transfer["space"] == space)
                      & transfer["models"].isin(list(wanted))]  # fmt: skip
    for r in chosen.to_dict("records"):
        q = transfer_quantity(dataset_title(r["dataset_a"]), dataset_title(r["dataset_b"]),
                              wanted[r["models"]])  # fmt: skip
        value = paper_float(paper.get(q, float("nan")))
        rows.append({"quantity": q, "paper": value, "calstudy": r["tau"], "low": r["low"],
                     "high": r["high"], "position": position_of(value, r["low"], r["high"])})
    return pd.DataFrame(rows, columns=["quantity", "paper", "calstudy", "low", "high", "position"])


def transfer_paper_sentences(
    comparison: pd.DataFrame, paper: Mapping[str, object] | None = None
) -> list[str]:
    """:func:`transfer_beside_paper` in words, one sentence per row.

    A row with a paper value says where the paper's value lies relative to this store's
    interval. A row without one (a pair the paper did not study) is set, over all models,
    against the range of the paper's all-model values in ``paper``: a comparison of
    conclusions, not of numbers.

    Parameters
    ----------
    comparison : DataFrame
        Output of :func:`transfer_beside_paper`.
    paper : mapping of str to number or str, optional
        The paper's values, for the all-model range.

    Returns
    -------
    list of str
    """
    from calstudy import report

    values = [paper_float(v) for q, v in (paper or {}).items() if q.endswith("all models")]
    values = [v for v in values if np.isfinite(v)]
    said = []
    for r in comparison.to_dict("records"):
        ours = report.ci(r["calstudy"], r["low"], r["high"])
        if np.isfinite(r["paper"]):
            said.append(f"The paper's {report.num(r['paper'])} for {r['quantity']} lies "
                        f"{r['position']} this store's interval ({ours}).")  # fmt: skip
        elif values and r["quantity"].endswith("all models"):
            lo, hi = min(values), max(values)
            where = "below" if r["high"] < lo else "above" if r["low"] > hi else "within"
            said.append(f"{r['quantity']}: {ours}, an interval {where} the paper's all-model "
                        f"range {report.num(lo)} – {report.num(hi)} (other datasets: compare "
                        "the conclusion, not the digits).")  # fmt: skip
    return said
