"""RQ vii: architecture design. TSS edges and operation counts, SSS widths, the best cells by
HCS; the tables and their sentences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from calstudy._checks import check_columns, check_positive_int
from calstudy.catalogue import prose_name
from calstudy.differences import bootstrap_diff, wilson_ci
from calstudy.space import TSS_OPS, parse_tss
from calstudy.stats import TauResult, correct_pvalues, kendall_ci
from calstudy.trends import EDGES, edge_tests, op_effects

__all__ = [
    "PAPER_HCS_SHARES",
    "PAPER_HCS_TESTS",
    "WIDTHS",
    "accuracy_bands",
    "accuracy_bands_sentence",
    "accuracy_bands_summary",
    "accuracy_bands_view",
    "accuracy_range_tau",
    "count_effect_table",
    "count_effects_sentence",
    "design_columns",
    "design_groups",
    "design_headline",
    "design_store_sentence",
    "edge_fit_sentence",
    "edge_label",
    "edge_op_counts",
    "edge_op_medians",
    "edge_test_table",
    "edge_tests_sentence",
    "edge_tests_view",
    "enrichment_sentence",
    "hcs_enrichment",
    "top_cells_view",
    "uniform_width",
    "uniform_width_sentence",
    "uniform_width_shortfall",
    "uniform_width_view",
    "width_extremes",
    "width_extremes_sentence",
    "width_extremes_sentences",
    "width_findings_sentence",
    "width_sentence",
    "width_skipped_sentence",
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


def design_groups(
    df: pd.DataFrame, targets: Sequence[str], *, acc: str = "acc"
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The TSS cells and the SSS networks of each dataset, complete in accuracy and `targets`.

    Parameters
    ----------
    df : DataFrame
        Rows with ``space``, ``dataset``, ``acc`` and the targets.
    targets : sequence of str
        Calibration columns a row must hold, e.g. ``["pre_ECE_15", "post_ECE_15"]``.
    acc : str, default="acc"
        Accuracy column.

    Returns
    -------
    (dict, dict)
        ``{dataset: rows}`` of the TSS rows and of the SSS rows, keyed by every dataset of `df`
        in sorted order (a dataset without rows of a space maps to an empty frame).

    Examples
    --------
    >>> rows = pd.DataFrame({"space": ["tss", "sss", "tss"], "dataset": ["b", "b", "a"],
    ...                      "acc": [0.9, 0.8, None], "e": [0.1, 0.2, 0.3]})
    >>> tss_by, sss_by = design_groups(rows, ["e"])
    >>> {d: len(t) for d, t in tss_by.items()}, {d: len(s) for d, s in sss_by.items()}
    ({'a': 0, 'b': 1}, {'a': 0, 'b': 1})
    """
    check_columns(df, ["space", "dataset", acc, *targets])
    rows = df.dropna(subset=[acc, *targets])
    names = sorted(df["dataset"].unique())
    tss_by, sss_by = (
        {d: rows[(rows["space"] == space) & (rows["dataset"] == d)] for d in names}
        for space in ("tss", "sss")
    )
    return tss_by, sss_by


def design_store_sentence(
    tss_by: Mapping[str, pd.DataFrame],
    sss_by: Mapping[str, pd.DataFrame],
    targets: Sequence[str],
    fidelities: Sequence[str] | pd.Series,
) -> str:
    """What the RQ vii chapter analyses, in words: per dataset its TSS cells and SSS networks.

    Parameters
    ----------
    tss_by, sss_by : mapping of str to DataFrame
        :func:`design_groups`' output.
    targets : sequence of str
        The calibration columns analysed, named by :func:`~calstudy.catalogue.prose_name`.
    fidelities : sequence of str
        The store's fidelity labels (repeats allowed).

    Returns
    -------
    str
        E.g. "This store holds, with 15-bin ECE before scaling and 15-bin ECE after scaling, on
        cifar10 122 TSS cells and 48 SSS networks (fidelity ep10-C16N1-n10000)."
    """
    from calstudy import report

    held = report.join(f"on {d} {report.plural(len(tss), 'TSS cell')} and "
                       f"{report.plural(len(sss_by[d]), 'SSS network')}"
                       for d, tss in tss_by.items())  # fmt: skip
    labels = report.join(sorted(pd.Series(fidelities).dropna().unique()))
    return (f"This store holds, with {report.join(prose_name(t) for t in targets)}, {held} "
            f"(fidelity {labels}).")  # fmt: skip


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


def accuracy_range_tau(
    df: pd.DataFrame,
    target: str,
    *,
    acc_range: tuple[float, float] = (0.847, 0.923),
    acc: str = "acc",
    min_n: int = 3,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
) -> TauResult | None:
    """Kendall τ-b of accuracy and ``target`` among the networks with accuracy in ``acc_range``.

    The paper read SSS CIFAR-10 ECE as flat while accuracy rises from 84.7 to 92.3 %: a τ near 0
    in that range agrees; :func:`accuracy_bands` gives the same range as band medians.

    Parameters
    ----------
    df : DataFrame
        Rows with ``acc`` and ``target`` (fractions).
    target : str
        Calibration column.
    acc_range : (float, float), default=(0.847, 0.923)
        Closed accuracy range.
    acc : str, default="acc"
        Accuracy column.
    min_n : int, default=3
        Fewest complete rows in the range; with fewer there is no τ.
    n_boot, level, seed
        As in :func:`~calstudy.stats.kendall_ci`.

    Returns
    -------
    TauResult or None
        None when fewer than ``min_n`` networks lie in the range.

    Examples
    --------
    >>> rows = pd.DataFrame({"acc": [0.80, 0.85, 0.87, 0.89, 0.91], "e": [9, 4, 3, 2, 1.0]})
    >>> r = accuracy_range_tau(rows, "e", n_boot=20)
    >>> r.tau, r.n, accuracy_range_tau(rows, "e", min_n=5) is None
    (-1.0, 4, True)
    """
    min_n = check_positive_int(min_n, "min_n")
    check_columns(df, [acc, target])
    rows = df[[acc, target]].dropna()
    inside = rows[rows[acc].between(*acc_range)]
    if len(inside) < min_n:
        return None
    return kendall_ci(inside[acc], inside[target], n_boot=n_boot, level=level, seed=seed)


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


#: The reference study's two observations on the TSS cells with the best HCS, as
#: :func:`hcs_enrichment`'s tests: ``name: (edge, operations)``.
PAPER_HCS_TESTS: Mapping[str, tuple[str, tuple[str, ...]]] = MappingProxyType({
    "skip_connect on 0→3": ("edge_3_0", ("skip_connect",)),
    "a convolution on 0→1": ("edge_1_0", ("nor_conv_1x1", "nor_conv_3x3")),
})

#: The paper's share of top cells for the tests of :data:`PAPER_HCS_TESTS` it gave one for
#: (all twenty carry skip_connect on 0→3), for :func:`enrichment_sentence`'s ``paper_share``.
PAPER_HCS_SHARES: Mapping[str, float] = MappingProxyType({"skip_connect on 0→3": 1.0})


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
    return names.get(prefix, f"for {prose_name(column)}")


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


def edge_fit_sentence(table: pd.DataFrame, target: str) -> str:
    """How many cells :func:`edge_test_table` fitted for ``target``, and how many it left out.

    Parameters
    ----------
    table : DataFrame
        :func:`edge_test_table`'s output (its ``attrs["n_rows"]`` and ``attrs["n_dropped"]``).
    target : str
        One of its targets.

    Returns
    -------
    str

    Examples
    --------
    >>> table = pd.DataFrame()
    >>> table.attrs.update(n_rows={"e": 1190}, n_dropped={"e": 3})
    >>> edge_fit_sentence(table, "e")
    '1,190 cells fitted, 3 left out as carrying a rare operation'
    """
    counts = [table.attrs.get(k, {}) for k in ("n_rows", "n_dropped")]
    if any(target not in c for c in counts):
        raise ValueError(
            f"Expected `table` to be edge_test_table's output for {target!r}, got attrs "
            f"{sorted(table.attrs)}."
        )
    fitted, dropped = (int(c[target]) for c in counts)
    return f"{fitted:,} cells fitted, {dropped:,} left out as carrying a rare operation"


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


def width_extremes_sentences(
    df: pd.DataFrame,
    targets: Sequence[str],
    *,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, str]:
    """:func:`width_extremes` of each target in words (:func:`width_extremes_sentence`).

    Parameters
    ----------
    df : DataFrame
        SSS rows with ``total_width`` and the targets.
    targets : sequence of str
        Calibration columns.
    n_boot, level, seed
        As in :func:`width_extremes`.

    Returns
    -------
    dict of str to str
        ``{target: sentence}``, in the order of `targets`.
    """
    return {
        t: width_extremes_sentence(width_extremes(df, t, n_boot=n_boot, level=level, seed=seed), t)
        for t in targets
    }


def width_findings_sentence(
    taus: pd.DataFrame,
    extremes: Mapping[str, str],
    *,
    alpha: float = 0.05,
    correction: Literal["holm", "bh", "bonferroni"] = "holm",
) -> str:
    """The SSS width findings of one dataset: :func:`width_sentence`'s clauses, then each
    distinct sentence of :func:`width_extremes_sentences`, joined by ``"; "``.

    Parameters
    ----------
    taus : DataFrame
        :func:`width_taus`' output.
    extremes : mapping of str to str
        :func:`width_extremes_sentences`' output; a sentence repeated for several targets (the
        comparison that cannot be made) is said once.
    alpha, correction
        As in :func:`width_sentence`.

    Returns
    -------
    str
    """
    clauses = [width_sentence(taus, alpha=alpha, correction=correction)]
    return "; ".join([*clauses, *dict.fromkeys(extremes.values())])


def width_skipped_sentence(taus: pd.DataFrame) -> str:
    """The size columns :func:`width_taus` skipped, in words; ``""`` when it skipped none.

    Parameters
    ----------
    taus : DataFrame
        :func:`width_taus`' output (its ``attrs["skipped"]``).

    Returns
    -------
    str

    Examples
    --------
    >>> taus = pd.DataFrame()
    >>> taus.attrs["skipped"] = ["n_params"]
    >>> width_skipped_sentence(taus)
    'No τ with `n_params`: this store does not record it.'
    """
    from calstudy import report

    skipped = taus.attrs.get("skipped", [])
    if not skipped:
        return ""
    return f"No τ with {report.join(f'`{x}`' for x in skipped)}: this store does not record it."


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


def uniform_width_shortfall(table: pd.DataFrame, *, min_networks: int = 3) -> str:
    """Why :func:`uniform_width`'s table is too small to read, and how a sweep fills it.

    Parameters
    ----------
    table : DataFrame
        :func:`uniform_width`'s output.
    min_networks : int, default=3
        The networks the analysis needs (the chapter reads a table whose every target holds
        at least this many).

    Returns
    -------
    str
        "this store holds 2 uniform-width SSS networks; the analysis needs 3 (…)": the fewest
        networks of any target against ``min_networks``, and the sweep that adds the eight
        uniform widths of the paper.
    """
    from calstudy import report

    min_networks = check_positive_int(min_networks, "min_networks")
    check_columns(table, ["n"], "table")
    held = report.plural(int(table["n"].min()), "uniform-width SSS network")
    return (f"this store holds {held}; the analysis needs {min_networks} (the paper's full CSVs "
            "hold all eight; a sweep adds them with `calstudy sweep --preset <preset> --archs "
            "widths.txt --out <store>`, widths.txt listing 8:8:8:8:8, 16:16:16:16:16, …)")  # fmt: skip


def _band_spread(bands: pd.DataFrame, target: str) -> str:
    """The lowest and the highest band median of ``target``, in percent."""
    from calstudy import report

    return f"{report.pct(bands[target].min(), 2)} – {report.pct(bands[target].max(), 2)}"


def accuracy_bands_sentence(
    bands: pd.DataFrame,
    target: str,
    tau: TauResult | None,
    *,
    acc_range: tuple[float, float] = (0.847, 0.923),
) -> str:
    """The SSS networks in the paper's accuracy range in words: how many, the spread of the band
    medians of ``target`` (:func:`accuracy_bands`) and the τ of :func:`accuracy_range_tau`.

    Parameters
    ----------
    bands : DataFrame
        :func:`accuracy_bands`' output over ``acc_range``.
    target : str
        Its calibration column.
    tau : TauResult or None
        :func:`accuracy_range_tau`'s result; None: too few networks to read the range.
    acc_range : (float, float), default=(0.847, 0.923)
        The accuracy range of both.

    Returns
    -------
    str
        E.g. "34 SSS networks with accuracy 84.7–92.3 %; median 15-bin ECE before scaling per
        accuracy band 0.82 % – 0.83 %; its τ with accuracy in this range: τ = -0.21 [-0.45,
        +0.03], n = 34", or "2 SSS networks with accuracy 84.7–92.3 %: no reading of the
        paper's range".
    """
    from calstudy import report

    check_columns(bands, ["n", target], "bands")
    low, high = (report.num(100 * x) for x in acc_range)
    held = f"{report.plural(int(bands['n'].sum()), 'SSS network')} with accuracy {low}–{high} %"
    if tau is None:
        return f"{held}: no reading of the paper's range"
    return (f"{held}; median {prose_name(target)} per accuracy band {_band_spread(bands, target)}"
            f"; its τ with accuracy in this range: {report.tau(tau)}")  # fmt: skip


def accuracy_bands_summary(bands: pd.DataFrame, target: str, tau: TauResult) -> str:
    """:func:`accuracy_bands_sentence` in short, for the list beside the paper.

    Parameters
    ----------
    bands : DataFrame
        :func:`accuracy_bands`' output.
    target : str
        Its calibration column.
    tau : TauResult
        :func:`accuracy_range_tau`'s result (not None).

    Returns
    -------
    str
        E.g. "band medians 0.82 % – 0.83 %, τ with accuracy -0.21 [-0.45, +0.03]".
    """
    from calstudy import report

    check_columns(bands, [target], "bands")
    if tau is None:
        raise ValueError("Expected `tau` to be accuracy_range_tau's result, got None.")
    return (f"band medians {_band_spread(bands, target)}, τ with accuracy "
            f"{report.ci(tau.tau, tau.low, tau.high)}")  # fmt: skip


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


def design_headline(summary: Sequence[str], *, keys: Sequence[str] = ("SSS width", "Top")) -> str:
    """The RQ vii answer box's text, from the chapter's findings.

    The first finding starting with each of ``keys`` (the SSS width and the top cells by HCS),
    joined by spaces; every finding when none starts so; a note when there are none.

    Parameters
    ----------
    summary : sequence of str
        The chapter's findings, e.g. "SSS width, cifar10: …".
    keys : sequence of str, default=("SSS width", "Top")
        Beginnings of the findings the box states.

    Returns
    -------
    str

    Examples
    --------
    >>> design_headline(["TSS edges, a: x.", "Top 20 TSS cells by HCS, a: y.", "SSS width, a: z."])
    'SSS width, a: z. Top 20 TSS cells by HCS, a: y.'
    >>> design_headline([])
    'Too few networks for any finding.'
    """
    chosen = (next((s for s in summary if s.startswith(k)), "") for k in keys)
    return " ".join(chosen).strip() or " ".join(summary) or "Too few networks for any finding."


# RQ vii, for readers: the chapter's tables with edges named 0→3, calibration in percent.


def edge_tests_view(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`edge_test_table` as the chapter shows it.

    Parameters
    ----------
    table : DataFrame
        :func:`edge_test_table`'s output.

    Returns
    -------
    DataFrame
        Formatted (:func:`calstudy.report.format_table`), each edge named by :func:`edge_label`
        (``0→3``).
    """
    from calstudy import report

    check_columns(table, ["edge"], "table")
    return report.format_table(table.assign(edge=table["edge"].map(edge_label)))


def uniform_width_view(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`uniform_width`'s networks as the chapter shows them.

    Parameters
    ----------
    table : DataFrame
        :func:`uniform_width`'s output, its networks in ``attrs["networks"]``.

    Returns
    -------
    DataFrame
        Formatted, one row per network, narrowest first: ``arch``, accuracy and each target of
        the table in percent (targets with 2 decimals).
    """
    from calstudy import report

    check_columns(table, ["metric"], "table")
    targets = list(table["metric"])
    networks = table.attrs.get("networks")
    if networks is None:
        raise ValueError("Expected `table` to be uniform_width's output, with attrs['networks'].")
    return report.format_table(networks[["arch", "acc", *targets]].reset_index(drop=True),
                               percent=["acc", *targets], decimals=dict.fromkeys(targets, 2))  # fmt: skip


def accuracy_bands_view(bands: pd.DataFrame, target: str) -> pd.DataFrame:
    """:func:`accuracy_bands`' table as the chapter shows it.

    Parameters
    ----------
    bands : DataFrame
        :func:`accuracy_bands`' output.
    target : str
        Its calibration column.

    Returns
    -------
    DataFrame
        Formatted: the band ends, the median accuracy and the median ``target`` in percent
        (``target`` with 2 decimals), and the count ``n``.
    """
    from calstudy import report

    check_columns(bands, ["band_low", "band_high", "acc", target], "bands")
    return report.format_table(bands, percent=["band_low", "band_high", "acc", target],
                               decimals={target: 2})  # fmt: skip


def top_cells_view(best: pd.DataFrame, ece: str) -> pd.DataFrame:
    """The best cells by HCS (:func:`~calstudy.hcs.top_hcs`) as the chapter shows them.

    Parameters
    ----------
    best : DataFrame
        :func:`~calstudy.hcs.top_hcs`' output, with the edge columns.
    ece : str
        The ECE column the score was computed with.

    Returns
    -------
    DataFrame
        Formatted, best first and numbered from 0: HCS (4 decimals), accuracy and ``ece`` in
        percent (``ece`` with 2 decimals), then the operation on each edge, the edges named by
        :func:`edge_label`.
    """
    from calstudy import report

    check_columns(best, ["hcs", "acc", ece, *EDGES], "best")
    shown = best[["hcs", "acc", ece, *EDGES]].rename(columns={e: edge_label(e) for e in EDGES})
    return report.format_table(shown.reset_index(drop=True), decimals={"hcs": 4, ece: 2},
                               percent=["acc", ece])  # fmt: skip
