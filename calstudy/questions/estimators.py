"""RQ iii: agreement between calibration estimators. τ-b matrices of the estimators' columns,
their contrasts and changes across datasets, and their sentences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calstudy.differences import DiffResult, mean_tau_difference, tau_difference
from calstudy.questions.groups import dataset_title, group_name, groups_of
from calstudy.questions.versus_paper import paper_float, position_of
from calstudy.selection import DEFAULT_KEY, columns_with_values, count_complete, pair_datasets
from calstudy.stats import correct_pvalues, tau_matrix, tau_table, tau_tests

__all__ = [
    "CLASSWISE_FAMILIES",
    "TOP_LABEL_FAMILIES",
    "agreement_between_datasets",
    "agreement_change",
    "agreement_sentence",
    "agreement_table",
    "contrast_sentence",
    "dataset_gap_sentence",
    "estimator_beside_paper",
    "estimator_columns",
    "estimator_contrasts",
    "estimator_matrices",
    "estimator_paper_sentences",
    "estimator_sentence",
    "estimator_taus",
    "in_families",
    "matrix_tests",
]


# ================================================================================================
# RQ iii: agreement between calibration estimators
# ================================================================================================


#: Top-label estimator families other than ECE itself (RQ iii), and the classwise ones.
TOP_LABEL_FAMILIES: tuple[str, ...] = ("ECE_em", "KSCE", "KDECE", "MMCE", "smECE", "dL2ECE")


CLASSWISE_FAMILIES: tuple[str, ...] = ("cwCE", "cwCE_em")


_GROUP = ["space", "dataset"]


def in_families(name: str, families: Sequence[str]) -> bool:
    """Whether an estimator name (``"ECE_em_15"``, ``"KSCE"``) belongs to one of ``families``.

    >>> in_families("ECE_em_15", ["ECE_em"]), in_families("ECE_15", ["ECE_em"])
    (True, False)
    """
    return any(name == f or name.startswith(f"{f}_") for f in families)


def estimator_columns(
    df: pd.DataFrame,
    families: Sequence[str],
    *,
    n_bins: int = 15,
    prefixes: Sequence[str] = ("pre", "post"),
    min_rows: int = 3,
) -> tuple[list[str], list[str]]:
    """The estimators of ``families`` a store holds, named without their ``pre_``/``post_``.

    A binned family is taken at ``n_bins`` (``"ECE"`` → ``"ECE_15"``), another as it is
    (``"KSCE"``, ``"dL2ECE_15"``); it counts when every prefix's column holds at least
    ``min_rows`` values.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    families : sequence of str
        Estimator families, e.g. ``["ECE", "ECE_em", "KSCE"]``.
    n_bins : int, default=15
        Bin count of the binned families.
    prefixes : sequence of str, default=("pre", "post")
        Column prefixes that must all be present.
    min_rows : int, default=3
        Fewest values a column needs.

    Returns
    -------
    (list of str, list of str)
        The names present, in the order of ``families``, and the families the store lacks.

    Examples
    --------
    >>> d = pd.DataFrame({"pre_ECE_15": [1.0] * 3, "post_ECE_15": [1.0] * 3, "pre_KSCE": [1.0] * 3})
    >>> estimator_columns(d, ["ECE", "KSCE"])
    (['ECE_15'], ['KSCE'])
    """
    names, missing = [], []
    for family in families:
        for name in (f"{family}_{n_bins}", family):
            wanted = [f"{p}_{name}" for p in prefixes]
            if len(columns_with_values(df, wanted, min_rows)) == len(prefixes):
                names.append(name)
                break
        else:
            missing.append(family)
    return names, missing


def _estimator_groups(df: pd.DataFrame, min_rows: int) -> list[tuple[tuple[Any, ...], pd.DataFrame]]:
    return [(key, part) for key, part in groups_of(df, _GROUP) if len(part) >= max(min_rows, 3)]


def _prefixed(part: pd.DataFrame, prefix: str, names: Sequence[str]) -> pd.DataFrame:
    """The ``prefix`` columns of ``names``, renamed to the names."""
    return part[[f"{prefix}_{n}" for n in names]].set_axis(list(names), axis=1)


def estimator_matrices(
    df: pd.DataFrame,
    names: Sequence[str],
    *,
    prefixes: Sequence[str] = ("pre", "post"),
    min_rows: int = 3,
) -> dict[tuple[Any, ...], pd.DataFrame]:
    """τ-b matrix of the estimators in each space, dataset and prefix (RQ iii).

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    names : sequence of str
        Estimator names of :func:`estimator_columns`.
    prefixes : sequence of str, default=("pre", "post")
        Before and after temperature scaling.
    min_rows : int, default=3
        Fewest networks a space and dataset needs.

    Returns
    -------
    dict
        ``(space, dataset, prefix)`` → :func:`~calstudy.stats.tau_matrix` indexed by ``names``.
    """
    return {
        (*key, prefix): tau_matrix(_prefixed(part, prefix, names), list(names))
        for key, part in _estimator_groups(df, min_rows)
        for prefix in prefixes
    }


def agreement_table(matrices: Mapping[tuple[Any, ...], pd.DataFrame]) -> pd.DataFrame:
    """Mean off-diagonal τ of each matrix and its least-agreeing pair (RQ iii).

    Parameters
    ----------
    matrices : mapping
        Output of :func:`estimator_matrices`.

    Returns
    -------
    DataFrame
        Columns ``space, dataset, prefix, mean_tau, least_x, least_y, least_tau``.
    """
    rows = []
    for (space, dataset, prefix), m in matrices.items():
        values = m.to_numpy(dtype=float, copy=True)
        np.fill_diagonal(values, np.nan)
        row = {"space": space, "dataset": dataset, "prefix": prefix, "mean_tau": np.nan,
               "least_x": None, "least_y": None, "least_tau": np.nan}
        if np.isfinite(values).any():
            i, j = np.unravel_index(np.nanargmin(values), values.shape)
            row |= {"mean_tau": float(np.nanmean(values)), "least_x": m.index[i],
                    "least_y": m.columns[j], "least_tau": float(values[i, j])}
        rows.append(row)
    return pd.DataFrame(rows, columns=["space", "dataset", "prefix", "mean_tau", "least_x",
                                       "least_y", "least_tau"])


def _correct_within(table: pd.DataFrame, by: Sequence[str], methods: Sequence[str]) -> pd.DataFrame:
    """Add ``p_<method>`` columns corrected within each group of ``by``."""
    table = table.copy()
    for method in methods:
        table[f"p_{method}"] = np.nan
        for _, idx in table.groupby(list(by), sort=False).groups.items():
            table.loc[idx, f"p_{method}"] = correct_pvalues(
                table.loc[idx, "p"].to_numpy(float), method=method
            )
    return table


def matrix_tests(
    df: pd.DataFrame,
    names: Sequence[str],
    *,
    prefixes: Sequence[str] = ("pre", "post"),
    min_rows: int = 3,
) -> pd.DataFrame:
    """The test of τ = 0 for every entry of every :func:`estimator_matrices` matrix (RQ iii).

    p-values are corrected within each space and dataset (both prefixes together) by
    Benjamini–Hochberg (``p_bh``) and Holm (``p_holm``).

    Returns
    -------
    DataFrame
        Columns ``space, dataset, prefix, x, y, tau, p, n, p_bh, p_holm``.
    """
    parts = [
        tau_tests(_prefixed(part, prefix, names), list(names)).assign(
            space=key[0], dataset=key[1], prefix=prefix
        )
        for key, part in _estimator_groups(df, min_rows)
        for prefix in prefixes
    ]
    columns = ["space", "dataset", "prefix", "x", "y", "tau", "p", "n"]
    table = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
    return _correct_within(table, _GROUP, ["bh", "holm"])


def estimator_taus(
    df: pd.DataFrame,
    reference: str,
    names: Sequence[str],
    *,
    prefixes: Sequence[str] = ("pre", "post"),
    min_rows: int = 3,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """τ-b of every estimator with the reference one, with intervals, in each group (RQ iii).

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    reference : str
        The estimator every other is compared with (a name of ``names``).
    names : sequence of str
        Estimator names of :func:`estimator_columns`.
    prefixes, min_rows
        As in :func:`estimator_matrices`.
    n_boot, level, seed
        As in :func:`~calstudy.stats.kendall_ci`.

    Returns
    -------
    DataFrame
        Columns ``space, dataset, prefix, estimator, tau, low, high, p, n, p_holm``; Holm within
        each space and dataset (both prefixes together).
    """
    if reference not in names:
        raise ValueError(f"Expected `reference` to be one of {list(names)}, got {reference!r}.")
    others = [n for n in names if n != reference]
    parts = []
    for key, part in _estimator_groups(df, min_rows):
        for prefix in prefixes:
            pairs = [(f"{prefix}_{reference}", f"{prefix}_{n}") for n in others]
            pairs = [p for p in pairs if count_complete(part, p) >= 3]
            if pairs:
                t = tau_table(part, pairs, n_boot=n_boot, level=level, seed=seed)
                t["estimator"] = [y.removeprefix(f"{prefix}_") for y in t["y"]]
                parts.append(t.assign(space=key[0], dataset=key[1], prefix=prefix))
    columns = ["space", "dataset", "prefix", "estimator", "tau", "low", "high", "p", "n"]
    table = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
    return _correct_within(table, _GROUP, ["holm"])


def estimator_contrasts(
    df: pd.DataFrame,
    reference: str,
    first: Sequence[str],
    second: Sequence[str],
    *,
    prefix: str = "pre",
    min_rows: int = 3,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Does ``reference`` agree more with one estimator than with another? (RQ iii)

    For every ``a`` of ``first`` and ``b`` of ``second`` in each space and dataset, the difference
    :math:`\tau(r, a) - \tau(r, b)` over the same networks, with the paired interval of
    :func:`~calstudy.differences.tau_difference`; p-values Holm-corrected within each space and
    dataset. Used with the top-label estimators as ``first`` and the classwise ones as ``second``.

    Returns
    -------
    DataFrame
        Columns ``space, dataset, first, second, difference, low, high, p, n, p_holm``.
    """
    ref = f"{prefix}_{reference}"
    rows = []
    for key, part in _estimator_groups(df, min_rows):
        for a in [n for n in first if n != reference]:
            for b in [n for n in second if n != reference]:
                cols = [ref, f"{prefix}_{a}", ref, f"{prefix}_{b}"]
                if count_complete(part, list(dict.fromkeys(cols))) < 3:
                    continue
                r = tau_difference(*(part[c] for c in cols), n_boot=n_boot, level=level,
                                   seed=seed)
                rows.append({"space": key[0], "dataset": key[1], "first": a, "second": b,
                             "difference": r.estimate, "low": r.low, "high": r.high,
                             "p": r.p_value, "n": r.n})
    columns = ["space", "dataset", "first", "second", "difference", "low", "high", "p", "n"]
    return _correct_within(pd.DataFrame(rows, columns=columns), _GROUP, ["holm"])


def _diff_row(r: DiffResult) -> dict[str, Any]:
    return {"difference": r.estimate, "low": r.low, "high": r.high, "p": r.p_value, "n": r.n}


def agreement_change(
    df: pd.DataFrame,
    names: Sequence[str],
    *,
    min_rows: int = 3,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Does temperature scaling change how much the estimators agree? (RQ iii)

    In each space and dataset, the mean off-diagonal τ after scaling minus before it, over the
    same networks (:func:`~calstudy.differences.mean_tau_difference`, paired).

    Returns
    -------
    DataFrame
        Columns ``space, dataset, difference, low, high, p, n``.
    """
    rows = []
    for key, part in _estimator_groups(df, min_rows):
        after, before = _prefixed(part, "post", names), _prefixed(part, "pre", names)
        r = mean_tau_difference(after, before, list(names), paired=True, n_boot=n_boot,
                                level=level, seed=seed)
        rows.append({"space": key[0], "dataset": key[1], **_diff_row(r)})
    return pd.DataFrame(rows, columns=["space", "dataset", "difference", "low", "high", "p", "n"])


def agreement_between_datasets(
    df: pd.DataFrame,
    names: Sequence[str],
    *,
    prefix: str = "pre",
    on: Sequence[str] = DEFAULT_KEY,
    min_rows: int = 3,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Do the estimators agree more on one dataset than on another? (RQ iii)

    For every space and pair of datasets ``a``, ``b`` (sorted), the mean off-diagonal τ on ``b``
    minus that on ``a``, over the networks evaluated on both (joined by key with
    :func:`~calstudy.selection.pair_datasets`), with the paired interval of
    :func:`~calstudy.differences.mean_tau_difference`.

    Returns
    -------
    DataFrame
        Columns ``space, dataset_a, dataset_b, difference, low, high, p, n``.
    """
    columns = [f"{prefix}_{n}" for n in names]
    rows = []
    for (space, a, b), p in pair_datasets(df, columns, on=on).items():
        if len(p) < max(min_rows, 3):
            continue
        r = mean_tau_difference(
            p[[f"{c}_b" for c in columns]].set_axis(list(names), axis=1),
            p[[f"{c}_a" for c in columns]].set_axis(list(names), axis=1),
            list(names), paired=True, n_boot=n_boot, level=level, seed=seed,
        )
        rows.append({"space": space, "dataset_a": a, "dataset_b": b, **_diff_row(r)})
    return pd.DataFrame(rows, columns=["space", "dataset_a", "dataset_b", "difference", "low",
                                       "high", "p", "n"])


# RQ iii, in words: the tables above as sentences (calstudy.report's formats), so that the
# chapter run on any store states that store's findings.


_PREFIX_WORDS = {"pre": "before temperature scaling", "post": "after temperature scaling"}


def estimator_sentence(
    rows: pd.DataFrame, *, reference: str, alpha: float = 0.05, brief: bool = False
) -> str:
    """One space and dataset of :func:`estimator_taus` in words (RQ iii).

    Parameters
    ----------
    rows : DataFrame
        The rows of one ``(space, dataset)`` of :func:`estimator_taus`.
    reference : str
        The reference estimator.
    alpha : float, default=0.05
        Threshold of the Holm p-values.
    brief : bool, default=False
        One summary line (before scaling) instead of the full statement.

    Returns
    -------
    str
        For each prefix, the estimators closest to and farthest from ``reference``, how many τ
        differ from 0 after Holm, and NLL's and Brier's τ; ``""`` for no rows.
    """
    from calstudy import report

    if rows.empty:
        return ""
    head = group_name(tuple(rows[["space", "dataset"]].iloc[0]))
    said = []
    for prefix, part in rows.groupby("prefix", sort=False):
        part = part.set_index("estimator")
        best, worst = part["tau"].idxmax(), part["tau"].idxmin()
        clause = (
            f"{_PREFIX_WORDS.get(prefix, prefix)}, closest to {reference}: {best} "
            f"({report.tau(part.loc[best])}); farthest: {worst} ({report.tau(part.loc[worst])})"
        )
        if brief:
            return f"{head}: {clause}."
        mixed = [n for n in ("NLL", "Brier") if n in part.index]
        said.append(
            clause[0].upper() + clause[1:] + f"; {int((part['p_holm'] < alpha).sum())} of "
            f"{len(part)} τ differ from 0 after Holm"
            + "".join(f"; {n}: {report.tau(part.loc[n])}" for n in mixed) + "."
        )
    return f"**{head}.** " + " ".join(said)


def contrast_sentence(
    rows: pd.DataFrame, *, reference: str, alpha: float = 0.05, brief: bool = False
) -> str:
    """One space and dataset of :func:`estimator_contrasts` in words (RQ iii).

    Parameters
    ----------
    rows : DataFrame
        The rows of one ``(space, dataset)`` of :func:`estimator_contrasts`.
    reference : str
        The reference estimator.
    alpha : float, default=0.05
        Threshold of the Holm p-values.
    brief : bool, default=False
        One summary line instead of the full statement.

    Returns
    -------
    str
        The range of τ(reference, first) − τ(reference, second), how many differences are
        positive or negative after Holm, and the verdict; ``""`` for no rows.
    """
    from calstudy import report

    if rows.empty:
        return ""
    head = group_name(tuple(rows[["space", "dataset"]].iloc[0]))
    up = int(((rows["low"] > 0) & (rows["p_holm"] < alpha)).sum())
    down = int(((rows["high"] < 0) & (rows["p_holm"] < alpha)).sum())
    k = len(rows)
    if up == k:
        verdict = f"every top-label estimator agrees with {reference} more than every classwise one"
    elif down == k:
        verdict = f"every classwise estimator agrees with {reference} more than every top-label one"
    elif up == down == 0:
        verdict = "no top-label estimator differs from a classwise one in its agreement"
    elif down == 0:
        verdict = (f"the top-label estimator agrees with {reference} more than the classwise one "
                   f"in {up} of {k} pairs, and no differently in the others")
    elif up == 0:
        verdict = (f"the classwise estimator agrees with {reference} more than the top-label one "
                   f"in {down} of {k} pairs, and no differently in the others")
    else:
        verdict = "the ordering of top-label and classwise estimators is mixed"
    if brief:
        return f"{head}: {verdict} ({up} of {k} differences positive after Holm)."
    return (
        f"**{head}**, before scaling: τ({reference}, top-label) − τ({reference}, classwise) "
        f"over {report.plural(k, 'pair')} runs from {report.fixed(rows['difference'].min())} "
        f"to {report.fixed(rows['difference'].max())}; {up} positive and {down} negative after "
        f"Holm (smallest lower interval end {report.fixed(rows['low'].min())}): {verdict}."
    )


def agreement_sentence(
    agreement: pd.DataFrame, change: pd.DataFrame, *, brief: bool = False
) -> str:
    """One space and dataset of :func:`agreement_table` and :func:`agreement_change` in words.

    Parameters
    ----------
    agreement : DataFrame
        The rows (one per prefix) of one group of :func:`agreement_table`.
    change : DataFrame
        The row of the same group of :func:`agreement_change` (may be empty).
    brief : bool, default=False
        Only what temperature scaling does to the agreement, in one line.

    Returns
    -------
    str
        The mean off-diagonal τ before and after scaling, the least-agreeing pair, and whether
        scaling changes the agreement (by the interval of the paired difference).
    """
    from calstudy import report

    if agreement.empty:
        return ""
    head = group_name(tuple(agreement[["space", "dataset"]].iloc[0]))
    said = [
        f"{_PREFIX_WORDS.get(r['prefix'], r['prefix'])}, mean off-diagonal τ "
        f"{report.fixed(r['mean_tau'])} (least agreement: τ({r['least_x']}, {r['least_y']}) = "
        f"{report.fixed(r['least_tau'])})"
        for r in agreement.to_dict("records")
    ]
    text = f"**{head}**: " + "; ".join(said) + "."
    if brief:
        text = ""
    if len(change):
        c = change.iloc[0]
        ci = report.ci(c["difference"], c["low"], c["high"])
        if c["high"] < 0:
            words = "lowers the agreement"
        elif c["low"] > 0:
            words = "raises the agreement"
        else:
            words = "does not change the agreement detectably"
        if brief:
            return f"{head}: temperature scaling {words} ({ci})."
        text += f" Temperature scaling {words}: after − before = {ci}, p = {report.pvalue(c['p'])}."
    return text


def dataset_gap_sentence(row: Mapping[str, Any]) -> str:
    """One row of :func:`agreement_between_datasets` in words."""
    from calstudy import report

    a, b = dataset_title(row["dataset_a"]), dataset_title(row["dataset_b"])
    where = (f"less on {b} than on {a}" if row["high"] < 0 else f"more on {b} than on {a}"
             if row["low"] > 0 else f"about as much on {b} as on {a}")
    return (
        f"{str(row['space']).upper()}: the estimators agree {where} before scaling "
        f"(mean off-diagonal τ on {b} − on {a} = "
        f"{report.ci(row['difference'], row['low'], row['high'])}, p = "
        f"{report.pvalue(row['p'])}, paired over {report.plural(int(row['n']), 'network')})."
    )


def estimator_beside_paper(
    taus: pd.DataFrame,
    paper: Mapping[str, object],
    *,
    reference: str = "ECE_15",
    space: str = "tss",
    prefix: str = "pre",
) -> pd.DataFrame:
    """This store's τ(ECE, estimator) beside the reference study's (RQ iii).

    The paper's quantities read ``"τ(ECE, <family>), <dataset title>"`` (CIFAR-10 and
    ImageNet16-120, TSS, before scaling, 15 bins). Every estimator of ``taus`` on ``space`` and
    ``prefix`` is listed, with the paper's value where it reported one.

    Parameters
    ----------
    taus : DataFrame
        Output of :func:`estimator_taus`.
    paper : mapping of str to number or str
        Quantity → the paper's value.
    reference : str, default="ECE_15"
        The reference estimator of ``taus``; the paper's values exist for ECE_15 only.
    space, prefix : str
        The space and prefix the paper's values describe.

    Returns
    -------
    DataFrame
        Columns ``dataset, quantity, paper, calstudy, low, high, position``
        (:func:`~calstudy.questions.versus_paper.position_of` of the paper's value relative to this
        store's interval).
    """
    rows = []
    chosen = taus[(taus["space"] == space) & (taus["prefix"] == prefix)]
    for r in chosen.to_dict("records"):
        stem, _, tail = r["estimator"].rpartition("_")
        binned = stem and tail.isdigit() and not r["estimator"].startswith("dL2ECE")
        q = f"τ(ECE, {stem if binned else r['estimator']}), {dataset_title(r['dataset'])}"
        value = paper_float(paper.get(q, float("nan"))) if reference == "ECE_15" else np.nan
        rows.append({"dataset": r["dataset"], "quantity": q, "paper": value,
                     "calstudy": r["tau"], "low": r["low"], "high": r["high"],
                     "position": position_of(value, r["low"], r["high"])})
    columns = ["dataset", "quantity", "paper", "calstudy", "low", "high", "position"]
    return pd.DataFrame(rows, columns=columns)


def estimator_paper_sentences(comparison: pd.DataFrame) -> list[str]:
    """:func:`estimator_beside_paper` in words: per dataset, where the paper's values lie."""
    from calstudy import report

    said = []
    for dataset, part in comparison.groupby("dataset", sort=False):
        part = part[part["paper"].notna()]
        if part.empty:
            continue
        counts = part["position"].value_counts()
        listed = report.join(
            f"{q.split(', ')[1].rstrip(')')} ({report.num(p)} vs {report.ci(c, lo, hi)})"
            for q, p, c, lo, hi in part[["quantity", "paper", "calstudy", "low", "high"]]
            .itertuples(index=False)
        )
        said.append(
            f"{dataset_title(dataset)} (TSS, before scaling): the paper's value lies above this "
            f"store's interval for {int(counts.get('above', 0))}, inside it for "
            f"{int(counts.get('inside', 0))} and below it for {int(counts.get('below', 0))} of "
            f"{len(part)} estimators: {listed}."
        )
    return said
