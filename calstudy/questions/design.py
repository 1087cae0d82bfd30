"""RQ vii: architecture design. TSS edges and operation counts, SSS widths, the best cells by
HCS; the tables and their sentences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from calstudy._checks import check_columns, check_positive_int
from calstudy.catalogue import prose_name
from calstudy.differences import bootstrap_diff, wilson_ci
from calstudy.space import TSS_OPS, parse_tss
from calstudy.stats import correct_pvalues, kendall_ci
from calstudy.trends import EDGES, edge_tests, op_effects

__all__ = [
    "WIDTHS",
    "accuracy_bands",
    "count_effect_table",
    "count_effects_sentence",
    "design_columns",
    "edge_label",
    "edge_op_counts",
    "edge_op_medians",
    "edge_test_table",
    "edge_tests_sentence",
    "enrichment_sentence",
    "hcs_enrichment",
    "uniform_width",
    "uniform_width_sentence",
    "width_extremes",
    "width_extremes_sentence",
    "width_sentence",
    "width_taus",
]


# ================================================================================================
# RQ vii: architecture design (TSS edges and operation counts, SSS widths, the best cells by HCS)
# ================================================================================================


#: Column names of the five SSS stage widths (as written by :func:`calstudy.space.sss_features`).
WIDTHS: tuple[str, ...] = ("c0", "c1", "c2", "c3", "c4")


def edge_label(edge: str) -> str:
    """Readable name of an edge column: ``edge_label("edge_3_0") == "0→3"`` (from → to)."""
    if edge not in EDGES:
        raise ValueError(f"Expected `edge` to be one of {EDGES}, got {edge!r}.")
    _, dst, src = edge.split("_")
    return f"{src}→{dst}"


def design_columns(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its architecture design columns filled in from ``arch`` where they are missing.

    TSS rows get the operation on each edge (``edge_1_0`` … ``edge_3_2``), SSS rows the five
    stage widths ``c0`` … ``c4`` and their sum ``total_width``. A sweep writes these columns
    itself (:func:`calstudy.space.tss_features`, :func:`calstudy.space.sss_features`); the
    paper's CSVs hold only ``arch``. Values already present are kept.

    Parameters
    ----------
    df : DataFrame
        Rows with ``space`` and ``arch``.

    Returns
    -------
    DataFrame
        A copy of ``df`` with the columns filled (added where absent).

    Examples
    --------
    >>> rows = pd.DataFrame({"space": ["sss"], "arch": ["8:16:8:8:64"]})
    >>> design_columns(rows)[["c1", "total_width"]].iloc[0].tolist()
    [16, 104]
    """
    from calstudy.space import parse_sss

    check_columns(df, ["space", "arch"])
    out = df.copy()
    designs = (
        ("tss", list(EDGES), lambda arch: parse_tss(arch)),
        ("sss", [*WIDTHS, "total_width"], lambda arch: (*parse_sss(arch), sum(parse_sss(arch)))),
    )
    for space, columns, parse in designs:
        for name in columns:
            if name not in out.columns:
                dtype = object if space == "tss" else "Int64"
                out[name] = pd.Series(pd.NA, index=out.index, dtype=dtype)
        todo = (out["space"] == space) & out[columns].isna().any(axis=1)
        if not todo.any():
            continue
        parsed = {arch: parse(arch) for arch in out.loc[todo, "arch"].unique()}
        values = pd.DataFrame([parsed[arch] for arch in out.loc[todo, "arch"]],
                              index=out.index[todo], columns=columns)  # fmt: skip
        for name in columns:
            empty = values.index[out.loc[todo, name].isna().to_numpy()]
            out.loc[empty, name] = values.loc[empty, name]
    return out


def edge_test_table(
    df: pd.DataFrame,
    targets: Sequence[str],
    *,
    correction: Literal["holm", "bh", "bonferroni"] = "holm",
    min_count: int = 5,
) -> pd.DataFrame:
    """:func:`~calstudy.trends.edge_tests` for each target column, stacked: a row per (target, edge).

    Parameters
    ----------
    df : DataFrame
        TSS rows (see :func:`~calstudy.trends.edge_tests`).
    targets : sequence of str
        Response columns, e.g. ``["pre_ECE_15", "post_ECE_15"]``.
    correction : {"holm", "bh", "bonferroni"}, default="holm"
        Multiplicity correction over the edges of one target.
    min_count : int, default=5
        Fewest rows an (edge, operation) level needs to stay in the fit.

    Returns
    -------
    DataFrame
        ``metric`` then the columns of :func:`~calstudy.trends.edge_tests`; ``attrs["n_rows"]`` and
        ``attrs["n_dropped"]`` map each target to the rows fitted and left out.
    """
    tables = {t: edge_tests(df, t, correction=correction, min_count=min_count) for t in targets}
    if not tables:
        raise ValueError("Expected `targets` to name at least one column, got none.")
    table = pd.concat(tables, names=["metric", "row"]).reset_index(level="row", drop=True)
    table = table.reset_index()
    table.attrs.update(
        n_rows={t: tables[t].attrs["n_rows"] for t in tables},
        n_dropped={t: tables[t].attrs["n_dropped"] for t in tables},
    )
    return table


def count_effect_table(
    df: pd.DataFrame,
    targets: Sequence[str],
    *,
    reference: str = "none",
    level: float = 0.95,
    correction: Literal["holm", "bh", "bonferroni"] = "holm",
) -> pd.DataFrame:
    """Operation-count regressions (:func:`~calstudy.trends.op_effects`, ``encoding="count"``), per
    target.

    Parameters
    ----------
    df : DataFrame
        TSS rows with the target columns and the edge columns or ``arch``.
    targets : sequence of str
        Response columns.
    reference : str, default="none"
        Operation whose count is left out (the six counts sum to 6).
    level : float, default=0.95
        Confidence level of the coefficient intervals.
    correction : {"holm", "bh", "bonferroni"}, default="holm"
        Multiplicity correction over the count coefficients of one target.

    Returns
    -------
    DataFrame
        ``metric, term, coef, low, high, p, p_<correction>``, intercepts included; terms read
        ``n_avg_pool_3x3``.
    """
    tables = {
        t: op_effects(df, t, encoding="count", reference=reference, level=level,
                      correction=correction)
        for t in targets
    }  # fmt: skip
    if not tables:
        raise ValueError("Expected `targets` to name at least one column, got none.")
    table = pd.concat(tables, names=["metric", "row"]).reset_index(level="row", drop=True)
    return table.reset_index()


def width_taus(
    df: pd.DataFrame,
    targets: Sequence[str],
    *,
    xs: Sequence[str] = ("total_width", "n_params"),
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    correction: Literal["holm", "bh", "bonferroni"] = "holm",
) -> pd.DataFrame:
    """Kendall τ-b of each size column with each target, with bootstrap intervals (RQ vii, SSS).

    Size columns that ``df`` lacks, or that have fewer than 3 complete pairs with a target or a
    single value, are skipped and named in ``attrs["skipped"]``.

    Parameters
    ----------
    df : DataFrame
        SSS rows.
    targets : sequence of str
        Calibration columns.
    xs : sequence of str, default=("total_width", "n_params")
        Size columns.
    n_boot, level, seed
        As in :func:`~calstudy.stats.kendall_ci`.
    correction : {"holm", "bh", "bonferroni"}, default="holm"
        Multiplicity correction over all rows of the table.

    Returns
    -------
    DataFrame
        ``x, metric, tau, low, high, p, n, p_<correction>``, one row per (x, target).

    Examples
    --------
    >>> rows = pd.DataFrame({"total_width": [40, 80, 120, 160], "e": [0.1, 0.2, 0.3, 0.5]})
    >>> width_taus(rows, ["e"], xs=["total_width", "n_params"], n_boot=50)[["x", "tau"]]
                 x  tau
    0  total_width  1.0
    """
    records = []
    skipped = []
    for x in xs:
        usable = x in df.columns and df[x].dropna().nunique() > 1
        for target in targets:
            check_columns(df, [target])
            complete = df[[x, target]].dropna() if usable else df.iloc[:0]
            if len(complete) < 3 or complete[x].nunique() < 2:
                usable = False
                continue
            r = kendall_ci(complete[x].astype(float), complete[target].astype(float),
                           n_boot=n_boot, level=level, seed=seed)  # fmt: skip
            records.append({"x": x, "metric": target, "tau": r.tau, "low": r.low,
                            "high": r.high, "p": r.p_value, "n": r.n})  # fmt: skip
        if not usable:
            skipped.append(x)
    columns = ["x", "metric", "tau", "low", "high", "p", "n"]
    table = pd.DataFrame.from_records(records, columns=columns)
    table[f"p_{correction}"] = (
        correct_pvalues(table["p"].to_numpy(), method=correction) if len(table) else []
    )
    table.attrs["skipped"] = skipped
    return table


def width_extremes(
    df: pd.DataFrame,
    target: str,
    *,
    narrow: tuple[float, float] = (40, 80),
    wide: tuple[float, float] = (280, 320),
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, float]:
    """Median of ``target`` among the narrowest and the widest SSS networks, and their difference.

    The paper's SSS comparison (Tao et al., 2024, §4.7): networks of total width 40–80 against
    280–320 (both ends included). The difference wide − narrow of medians carries a bootstrap
    interval and a Mann–Whitney p-value (:func:`~calstudy.differences.bootstrap_diff`) when each
    group holds at least two networks; otherwise those entries are NaN.

    Parameters
    ----------
    df : DataFrame
        SSS rows with ``total_width`` and ``target``.
    target : str
        Calibration column.
    narrow, wide : (float, float)
        Closed ranges of total width.
    n_boot, level, seed
        As in :func:`~calstudy.differences.bootstrap_diff`.

    Returns
    -------
    dict
        ``n_narrow, narrow, n_wide, wide, difference, low, high, p`` (medians as fractions) and
        ``width_min, width_max``, the range of total widths in ``df`` (NaN when empty).
    """
    check_columns(df, ["total_width", target])
    rows = df[["total_width", target]].dropna()
    groups = [
        rows.loc[rows["total_width"].between(*bounds), target].astype(float)
        for bounds in (narrow, wide)
    ]
    out = {
        "n_narrow": len(groups[0]), "narrow": groups[0].median() if len(groups[0]) else np.nan,
        "n_wide": len(groups[1]), "wide": groups[1].median() if len(groups[1]) else np.nan,
        "difference": np.nan, "low": np.nan, "high": np.nan, "p": np.nan,
        "width_min": rows["total_width"].min() if len(rows) else np.nan,
        "width_max": rows["total_width"].max() if len(rows) else np.nan,
    }  # fmt: skip
    if min(len(g) for g in groups) >= 2:
        r = bootstrap_diff(groups[1], groups[0], n_boot=n_boot, level=level, seed=seed)
        out.update(difference=r.estimate, low=r.low, high=r.high, p=r.p_value)
    return {k: float(v) if k not in ("n_narrow", "n_wide") else int(v) for k, v in out.items()}


def uniform_width(
    df: pd.DataFrame,
    targets: Sequence[str],
    *,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """The uniform-width SSS networks (all five stages equally wide): each target from the
    narrowest to the widest, and its τ-b with the width.

    The paper swept :math:`c_0 = \\dots = c_4` from 8 to 64 (Tao et al., 2024, §4.7). Rows are
    those of ``df`` whose five widths (:data:`WIDTHS`) are equal.

    Parameters
    ----------
    df : DataFrame
        SSS rows with ``c0`` … ``c4`` and the targets.
    targets : sequence of str
        Calibration columns.
    n_boot, level, seed
        As in :func:`~calstudy.stats.kendall_ci`; the τ is computed when at least 3 networks of 2 or
        more widths hold the target, else NaN.

    Returns
    -------
    DataFrame
        One row per target: ``metric, n, width_min, width_max, at_min, at_max, minimum,
        maximum, tau, low, high, p``; ``at_min``/``at_max`` are the target's median at the
        narrowest / widest width. ``attrs["networks"]``: the uniform rows, narrowest first.
    """
    check_columns(df, [*WIDTHS, *targets])
    widths = df[list(WIDTHS)].astype(float)
    networks = df[widths.notna().all(axis=1) & (widths.max(axis=1) == widths.min(axis=1))]
    networks = networks.assign(width=networks["c0"].astype(int)).sort_values("width")
    records = []
    for target in targets:
        rows = networks[["width", target]].dropna()
        record = {"metric": target, "n": len(rows)}
        if len(rows):
            by_width = rows.groupby("width")[target].median()
            record.update(
                width_min=int(by_width.index[0]),
                width_max=int(by_width.index[-1]),
                at_min=float(by_width.iloc[0]),
                at_max=float(by_width.iloc[-1]),
                minimum=float(rows[target].min()),
                maximum=float(rows[target].max()),
            )
        if len(rows) >= 3 and rows["width"].nunique() >= 2:
            r = kendall_ci(rows["width"].astype(float), rows[target].astype(float),
                           n_boot=n_boot, level=level, seed=seed)  # fmt: skip
            record.update(tau=r.tau, low=r.low, high=r.high, p=r.p_value)
        records.append(record)
    columns = ["metric", "n", "width_min", "width_max", "at_min", "at_max", "minimum", "maximum",
               "tau", "low", "high", "p"]  # fmt: skip
    table = pd.DataFrame.from_records(records, columns=columns)
    table.attrs["networks"] = networks
    return table


def accuracy_bands(
    df: pd.DataFrame,
    target: str,
    *,
    acc_range: tuple[float, float] = (0.847, 0.923),
    n_bands: int = 4,
    acc: str = "acc",
) -> pd.DataFrame:
    """Median of ``target`` in equal-width accuracy bands across ``acc_range`` (RQ vii, SSS).

    The paper read SSS CIFAR-10 ECE as flat while accuracy rises from 84.7 to 92.3 %; this is
    that reading as a table: the range split into ``n_bands`` equal bands, each band's
    networks counted and their median accuracy and median ``target`` given. Empty bands are
    left out.

    Parameters
    ----------
    df : DataFrame
        Rows with ``acc`` and ``target`` (fractions).
    target : str
        Calibration column.
    acc_range : (float, float), default=(0.847, 0.923)
        Closed accuracy range.
    n_bands : int, default=4
        Number of equal-width bands.
    acc : str, default="acc"
        Accuracy column.

    Returns
    -------
    DataFrame
        ``band_low, band_high, n, acc, <target>`` per non-empty band.

    Examples
    --------
    >>> rows = pd.DataFrame({"acc": [0.85, 0.86, 0.91], "e": [0.04, 0.05, 0.06]})
    >>> accuracy_bands(rows, "e", n_bands=2)["n"].tolist()
    [2, 1]
    """
    n_bands = check_positive_int(n_bands, "n_bands")
    low, high = acc_range
    if not low < high:
        raise ValueError(
            f"Expected `acc_range` to be (low, high) with low < high, got {acc_range}."
        )
    check_columns(df, [acc, target])
    rows = df[[acc, target]].dropna()
    rows = rows[rows[acc].between(low, high)]
    edges = np.linspace(low, high, n_bands + 1)
    band = np.searchsorted(edges, rows[acc].to_numpy(float), side="right") - 1
    band = np.clip(band, 0, n_bands - 1)  # the top end belongs to the last band
    table = rows.groupby(band).agg(
        n=(target, "size"), acc=(acc, "median"), value=(target, "median")
    )
    table.insert(0, "band_high", edges[table.index + 1])
    table.insert(0, "band_low", edges[table.index])
    return table.rename(columns={"value": target}).reset_index(drop=True)


def edge_op_counts(groups: Mapping[str, pd.DataFrame], edges: Sequence[str]) -> pd.DataFrame:
    """How many rows of each group carry each operation on each edge.

    Parameters
    ----------
    groups : mapping of str to DataFrame
        Named groups of TSS rows with edge columns, e.g. ``{"top": best, "sample": tss}``.
    edges : sequence of str
        Edge columns (:data:`~calstudy.trends.EDGES`).

    Returns
    -------
    DataFrame
        Index the operations (:data:`calstudy.space.TSS_OPS`), one column ``"<edge label>
        <group>"`` per edge and group, e.g. ``"0→3 top"``.
    """
    columns = {}
    for edge in edges:
        for name, rows in groups.items():
            check_columns(rows, [edge], name)
            counts = rows[edge].value_counts().reindex(list(TSS_OPS), fill_value=0)
            columns[f"{edge_label(edge)} {name}"] = counts.astype(int)
    return pd.DataFrame(columns)


def hcs_enrichment(
    top: pd.DataFrame,
    sample: pd.DataFrame,
    tests: Mapping[str, tuple[str, Sequence[str]]],
    *,
    level: float = 0.95,
    correction: Literal["holm", "bh", "bonferroni"] = "holm",
) -> pd.DataFrame:
    r"""Do the best cells carry an operation on an edge more often than the whole sample?

    For each test ``name: (edge, ops)``, :math:`k` of the :math:`n` top cells carry one of
    ``ops`` on ``edge``; the sample's share :math:`\pi_0` is the base rate. The exact one-sided
    binomial test of :math:`H_0: \pi \le \pi_0` gives the p-value, corrected over the tests;
    the share carries a Wilson interval (:func:`~calstudy.differences.wilson_ci`).

    Parameters
    ----------
    top : DataFrame
        The selected cells, e.g. :func:`~calstudy.hcs.top_hcs`'s.
    sample : DataFrame
        The cells they were selected from.
    tests : mapping of str to (str, sequence of str)
        Named tests, e.g. ``{"skip on 0→3": ("edge_3_0", ["skip_connect"])}``.
    level : float, default=0.95
        Confidence level of the Wilson intervals.
    correction : {"holm", "bh", "bonferroni"}, default="holm"
        Multiplicity correction over the tests.

    Returns
    -------
    DataFrame
        ``test, edge, k, n, share, low, high, base_rate, p, p_<correction>``; ``share`` and the
        interval are NaN when ``top`` is empty.
    """
    records = []
    for name, (edge, ops) in tests.items():
        check_columns(top, [edge], "top")
        check_columns(sample, [edge], "sample")
        k, n = int(top[edge].isin(ops).sum()), len(top)
        base = float(sample[edge].isin(ops).mean()) if len(sample) else np.nan
        share, low, high = wilson_ci(k, n, level=level) if n else (np.nan,) * 3
        p = (float(stats.binomtest(k, n, base, alternative="greater").pvalue)
             if n and 0 <= base <= 1 else np.nan)  # fmt: skip
        records.append({"test": name, "edge": edge, "k": k, "n": n, "share": share, "low": low,
                        "high": high, "base_rate": base, "p": p})  # fmt: skip
    table = pd.DataFrame.from_records(
        records, columns=["test", "edge", "k", "n", "share", "low", "high", "base_rate", "p"]
    )
    valid = table["p"].notna().to_numpy()
    adjusted = np.full(len(table), np.nan)
    if valid.any():
        adjusted[valid] = correct_pvalues(table.loc[valid, "p"].to_numpy(), method=correction)
    table[f"p_{correction}"] = adjusted
    return table


def edge_op_medians(df: pd.DataFrame, target: str) -> pd.DataFrame:
    """Median of ``target`` among the TSS cells carrying each operation on each edge.

    Each entry pools over the other five edges, so it mixes the edge's own effect with what
    happens elsewhere; :func:`~calstudy.trends.edge_tests` separates them.

    Parameters
    ----------
    df : DataFrame
        TSS rows with the edge columns (:func:`design_columns`) and ``target``.
    target : str
        Calibration column.

    Returns
    -------
    DataFrame
        Index the operations present (in :data:`calstudy.space.TSS_OPS` order), one column per
        edge named by :func:`edge_label`.

    Examples
    --------
    >>> cells = pd.DataFrame({e: ["none", "skip_connect"] for e in EDGES} | {"y": [1.0, 3.0]})
    >>> edge_op_medians(cells, "y")["0→3"].tolist()
    [1.0, 3.0]
    """
    check_columns(df, [*EDGES, target])
    long = df.melt(id_vars=[target], value_vars=list(EDGES), var_name="edge", value_name="op")
    table = long.pivot_table(index="op", columns="edge", values=target, aggfunc="median")
    table = table.reindex(index=[o for o in TSS_OPS if o in table.index])
    table = table.reindex(columns=[e for e in EDGES if e in table.columns])
    return table.rename(columns=edge_label).rename_axis(index="op", columns="edge")


# RQ vii, in words: the findings of the tables above as sentences (calstudy.report's formats),
# so that a chapter run on any store states that store's findings.


_CORRECTION_NAMES = {"holm": "Holm", "bh": "BH", "bonferroni": "Bonferroni"}


def _scaling(column: str) -> str:
    """When a column was measured: ``pre_…`` before temperature scaling, ``post_…`` after."""
    prefix = column.split("_")[0]
    names = {"pre": "before temperature scaling", "post": "after temperature scaling"}
    return names.get(prefix, f"for {column}")


def edge_tests_sentence(
    table: pd.DataFrame,
    *,
    alpha: float = 0.05,
    correction: Literal["holm", "bh", "bonferroni"] = "holm",
) -> str:
    """The joint edge tests of :func:`edge_test_table` in words, one clause per target.

    Parameters
    ----------
    table : DataFrame
        :func:`edge_test_table`'s output.
    alpha : float, default=0.05
        Threshold of the corrected p-values.
    correction : {"holm", "bh", "bonferroni"}, default="holm"
        Which ``p_<correction>`` column to read.

    Returns
    -------
    str
        E.g. "before temperature scaling, no edge's operation has a detectable effect at α = 0.05
        (smallest Holm p 0.17, edge 0→3); after temperature scaling, the operation matters on edge
        0→1 (Holm p 0.02; worst avg_pool_3x3, spread 0.38 pp)": ``worst`` is the operation with the
        highest effect on the target, ``spread`` the edge's effect range in percentage points.
    """
    from calstudy import report

    name, p_col = _CORRECTION_NAMES[correction], f"p_{correction}"
    check_columns(table, ["metric", "edge", p_col, "worst", "best", "spread"], "table")
    clauses = []
    for target, rows in table.groupby("metric", sort=False):
        hits = rows[rows[p_col] < alpha]
        tested = rows.dropna(subset=[p_col])
        if tested.empty:
            clauses.append(f"{_scaling(target)}, no edge could be tested")
            continue
        if hits.empty:
            first = tested.loc[tested[p_col].idxmin()]
            clauses.append(
                f"{_scaling(target)}, no edge's operation has a detectable effect at α = "
                f"{alpha:g} (smallest {name} p {report.pvalue(first[p_col])}, "
                f"edge {edge_label(first['edge'])})"
            )
            continue
        clauses.append(f"{_scaling(target)}, the operation matters on " + report.join(
            f"edge {edge_label(r['edge'])} ({name} p {report.pvalue(r[p_col])}; worst "
            f"{r['worst']}, spread {report.num(100 * r['spread'], 2)} pp)"
            for _, r in hits.iterrows()
        ))  # fmt: skip
    return "; ".join(clauses)


def count_effects_sentence(
    table: pd.DataFrame,
    *,
    alpha: float = 0.05,
    correction: Literal["holm", "bh", "bonferroni"] = "holm",
) -> str:
    """The operation-count regressions of :func:`count_effect_table` in words, per target.

    Returns
    -------
    str
        The counts whose corrected p-value is below ``alpha``, with direction and interval in
        percentage points, e.g. "before temperature scaling, each extra avg_pool_3x3 raises
        15-bin ECE (+0.26 [+0.11, +0.41] pp per edge, Holm p 0.0025)"; or that none does.
    """
    from calstudy import report

    name, p_col = _CORRECTION_NAMES[correction], f"p_{correction}"
    check_columns(table, ["metric", "term", "coef", "low", "high", p_col], "table")
    clauses = []
    for target, rows in table.groupby("metric", sort=False):
        hits = rows[(rows[p_col] < alpha) & rows["term"].str.startswith("n_")]
        what = prose_name(target, stage=False)
        clauses.append(f"{_scaling(target)}, " + report.join(
            (f"each extra {r['term'][2:]} {'raises' if r['coef'] > 0 else 'lowers'} {what} "
             f"({report.ci(100 * r['coef'], 100 * r['low'], 100 * r['high'])} pp per edge, "
             f"{name} p {report.pvalue(r[p_col])})" for _, r in hits.iterrows()),
            empty=f"no operation count moves {what} significantly after {name}",
        ))  # fmt: skip
    return "; ".join(clauses)


def width_sentence(
    taus: pd.DataFrame,
    *,
    x: str = "total_width",
    alpha: float = 0.05,
    correction: Literal["holm", "bh", "bonferroni"] = "holm",
) -> str:
    """The τ of :func:`width_taus` with one size column in words, one clause per target.

    A relation is stated ("wider networks are worse calibrated …") only when the corrected
    p-value is below ``alpha`` and the interval excludes 0; otherwise the clause says the sample
    does not resolve one. Returns "" when ``taus`` holds no row for ``x``.
    """
    from calstudy import report

    name, p_col = _CORRECTION_NAMES[correction], f"p_{correction}"
    check_columns(taus, ["x", "metric", "tau", "low", "high", "n", p_col], "taus")
    clauses = []
    for _, r in taus[taus["x"] == x].iterrows():
        shown = f"{report.tau(r)} ({name} p {report.pvalue(r[p_col])})"
        if r[p_col] < alpha and (r["low"] > 0 or r["high"] < 0):
            worse = "worse" if r["tau"] > 0 else "better"
            when = _scaling(r["metric"])
            clauses.append(f"{when}, wider networks are {worse} calibrated: {shown}")
        else:
            clauses.append(f"{_scaling(r['metric'])}, no relation of width and "
                           f"{prose_name(r['metric'], stage=False)} "
                           f"that this sample resolves: {shown}")  # fmt: skip
    return "; ".join(clauses)


def width_extremes_sentence(extremes: Mapping[str, float], target: str) -> str:
    """:func:`width_extremes`' result in words: the two medians and their difference.

    Returns
    -------
    str
        "median 15-bin ECE before scaling 1.7 % at total width 40–80 (n = 4) against 6.8 % at
        280–320 (n = 7), difference +5.10 [+4.20, +6.00] pp", without the difference when a
        group holds fewer than two networks, or that the comparison cannot be made when a group
        is empty.
    """
    from calstudy import report

    n_narrow, n_wide = int(extremes["n_narrow"]), int(extremes["n_wide"])
    if not (n_narrow and n_wide):
        span = f"{report.num(extremes['width_min'])}–{report.num(extremes['width_max'])}"
        return (
            "the comparison of total width 40–80 against 280–320 cannot be made: the total "
            f"widths span {span} ({n_narrow} networks at 40–80, {n_wide} at 280–320)"
        )
    text = (
        f"median {prose_name(target)} {report.pct(extremes['narrow'])} at total width 40–80 "
        f"(n = {n_narrow})"
        f" against {report.pct(extremes['wide'])} at 280–320 (n = {n_wide})"
    )
    if np.isfinite(extremes["difference"]):
        diff = (100 * extremes[k] for k in ("difference", "low", "high"))
        text += f", difference {report.ci(*diff)} pp"
    return text


def uniform_width_sentence(table: pd.DataFrame) -> str:
    """:func:`uniform_width`'s table in words: each target from the narrowest to the widest
    uniform network, with its τ with the width where there is one."""
    from calstudy import report

    check_columns(table, ["metric", "n", "width_min", "width_max", "at_min", "at_max", "tau"])
    clauses = []
    for _, r in table[table["n"] > 0].iterrows():
        tau = f", {report.tau(r)}" if np.isfinite(r["tau"]) else ""
        clauses.append(f"{prose_name(r['metric'])} {report.pct(r['at_min'])} → "
                       f"{report.pct(r['at_max'])} "
                       f"(width {int(r['width_min'])} → {int(r['width_max'])}{tau})")  # fmt: skip
    return report.join(clauses)


def enrichment_sentence(
    table: pd.DataFrame,
    *,
    alpha: float = 0.05,
    correction: Literal["holm", "bh", "bonferroni"] = "holm",
    paper_share: Mapping[str, float] | None = None,
) -> str:
    """:func:`hcs_enrichment`'s tests in words, one clause per test.

    Each clause gives the count, the share with its Wilson interval, the sample's base rate,
    whether the top cells carry the operation more often than the sample (corrected one-sided
    p below ``alpha``), whether a majority of them carry it (interval above one half), and, for
    tests named in ``paper_share``, whether the paper's share lies above, inside or below the
    interval.
    """
    from calstudy import report

    name, p_col = _CORRECTION_NAMES[correction], f"p_{correction}"
    check_columns(table, ["test", "k", "n", "share", "low", "high", "base_rate", p_col], "table")
    clauses = []
    for _, r in table.iterrows():
        text = (f"{r['k']} of {r['n']} top cells carry {r['test']} ({report.pct(r['share'], 0)} "
                f"[{report.pct(r['low'], 0)}, {report.pct(r['high'], 0)}], sample "
                f"{report.pct(r['base_rate'], 0)}): "
                f"{'more' if r[p_col] < alpha else 'not more'} often than the sample "
                f"(one-sided binomial {name} p {report.pvalue(r[p_col])})")  # fmt: skip
        if r["low"] > 0.5:
            text += ", a majority of the top cells (the interval lies above one half)"
        share = (paper_share or {}).get(r["test"])
        if share is not None:
            where = "above" if share > r["high"] else "below" if share < r["low"] else "inside"
            text += f"; the paper's {report.pct(share, 0)} lies {where} this interval"
        clauses.append(text)
    return "; ".join(clauses)
