"""Statistics behind the seven research questions, and one section per chapter.

The statistics are moving out to their own modules (issue 15); this module re-exports them and
holds the chapters' tables and sentences until they move too.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from calstudy._checks import check_columns, check_level, check_positive_int
from calstudy.differences import *  # noqa: F403
from calstudy.differences import (
    DiffResult,
    bootstrap_diff,
    bootstrap_difference,
    mean_tau_difference,
    paired_difference,
    percentile_interval,
    resampled_statistic,
    tau_difference,
    wilson_ci,
)
from calstudy.hcs import *  # noqa: F403
from calstudy.metrics import BIN_COUNTS
from calstudy.seednoise import *  # noqa: F403
from calstudy.seednoise import retest_tau, seed_noise_gap, seed_noise_threshold, seed_variance
from calstudy.selection import *  # noqa: F403
from calstudy.selection import (
    DEFAULT_KEY,
    columns_with_values,
    count_complete,
    lowest_n,
    pair_datasets,
    population_sizes,
    selection_curve,
    top_n,
)
from calstudy.space import TSS_OPS, parse_tss
from calstudy.stats import *  # noqa: F403
from calstudy.stats import (
    TauResult,
    correct_pvalues,
    kendall_ci,
    kendall_tau,
    tau_matrix,
    tau_table,
    tau_tests,
)
from calstudy.trends import *  # noqa: F403
from calstudy.trends import EDGES, edge_tests, fit_trend, op_effects

_LOCAL = [
    "BINNED_FAMILIES",
    "CHANGED_WORDS",
    "CLASSWISE_FAMILIES",
    "GROUP_KEYS",
    "KEPT_WORDS",
    "OOD_COLUMNS",
    "ORIGIN_COLUMNS",
    "PAPER_SCALE",
    "TOP_LABEL_FAMILIES",
    "WIDTHS",
    "accuracy_bands",
    "accuracy_paper_sentences",
    "accuracy_summary",
    "accuracy_tau_sentences",
    "accuracy_taus",
    "add_corruption_summaries",
    "agreement_between_datasets",
    "agreement_change",
    "agreement_sentence",
    "agreement_table",
    "bin_count_long",
    "bin_count_medians",
    "bin_count_stability",
    "bin_count_summary",
    "bin_growth",
    "bin_growth_sentences",
    "bin_pair_taus",
    "bin_paper_sentences",
    "bin_stability",
    "bin_stability_sentences",
    "bin_summary",
    "calibrated_floor",
    "calibrated_floors",
    "ci_words",
    "column_groups_sentence",
    "compare_to_paper",
    "contrast_sentence",
    "count_effect_table",
    "count_effects_sentence",
    "dataset_gap_sentence",
    "dataset_title",
    "describe_fidelity",
    "design_columns",
    "device_shift_sentence",
    "device_shift_table",
    "edge_label",
    "edge_op_counts",
    "edge_op_medians",
    "edge_test_table",
    "edge_tests_sentence",
    "enrichment_sentence",
    "estimator_beside_paper",
    "estimator_columns",
    "estimator_contrasts",
    "estimator_matrices",
    "estimator_paper_sentences",
    "estimator_sentence",
    "estimator_taus",
    "floor_ratios",
    "floor_sentences",
    "gain_driver_sentences",
    "gain_drivers",
    "group_label",
    "group_name",
    "group_parts",
    "group_table",
    "groups_of",
    "hcs_enrichment",
    "in_families",
    "interval_sign",
    "isomorphic_sentences",
    "label_top",
    "matrix_tests",
    "median_iqr_table",
    "pair_name",
    "paper_float",
    "paper_range",
    "paper_values",
    "plan_progress",
    "population_sentence",
    "position_of",
    "position_phrase",
    "posthoc_pairs",
    "posthoc_scores",
    "posthoc_sentences",
    "posthoc_tests",
    "posthoc_wins",
    "range_position",
    "reproducibility_sentence",
    "robustness_beside_paper",
    "robustness_curves",
    "robustness_inventory",
    "robustness_measures",
    "robustness_paper_sentence",
    "robustness_sentence",
    "robustness_taus",
    "scaling_effect",
    "scaling_effect_sentences",
    "scaling_gain_sentences",
    "scaling_summary",
    "seed_ceiling_sentence",
    "seed_difference_sentence",
    "seed_gaps_sentence",
    "seed_groups_sentence",
    "seed_noise_differences",
    "seed_noise_gaps",
    "seed_noise_sentence",
    "seed_retest_taus",
    "seed_study_groups",
    "selection_sentence",
    "selection_verdict",
    "share_words",
    "split_groups",
    "store_column_groups",
    "store_provenance",
    "store_scale",
    "temperature_sentence",
    "temperature_sentences",
    "temperature_shift",
    "temperature_summary",
    "top_rest_contrast",
    "top_rest_sentences",
    "top_versus_lowest",
    "transfer_beside_paper",
    "transfer_paper_sentences",
    "transfer_quantity",
    "transfer_sentence",
    "transfer_table",
    "transfer_verdicts",
    "transfer_versus_reference",
    "uniform_width",
    "uniform_width_sentence",
    "verdict_groups",
    "width_extremes",
    "width_extremes_sentence",
    "width_sentence",
    "width_taus",
]

__all__ = sorted({*_LOCAL, *(n for m in ("calstudy.trends", "calstudy.stats", "calstudy.selection", "calstudy.hcs", "calstudy.seednoise", "calstudy.differences", ) for n in importlib.import_module(m).__all__)})


# ================================================================================================
# 6. Stability across bin counts
# ================================================================================================


def _bin_columns(
    df: pd.DataFrame, metric_prefix: str, bin_counts: Sequence[int] | None
) -> dict[int, str]:
    if bin_counts is None:
        found = {b: f"{metric_prefix}_{b}" for b in BIN_COUNTS if f"{metric_prefix}_{b}" in df}
    else:
        found = {int(b): f"{metric_prefix}_{b}" for b in bin_counts}
        check_columns(df, list(found.values()))
    if len(found) < 2:
        raise ValueError(
            f"Expected `df` to hold at least 2 bin-count columns '{metric_prefix}_<n_bins>', "
            f"got {list(found.values())}."
        )
    return found


def bin_count_long(
    df: pd.DataFrame, metric_prefix: str = "pre_ECE", bin_counts: Sequence[int] | None = None
) -> pd.DataFrame:
    """Reshape the columns ``{metric_prefix}_{n_bins}`` into long form for plotting.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    metric_prefix : str, default="pre_ECE"
        Column prefix, e.g. ``"post_ECE"`` or ``"pre_ECE_em"``.
    bin_counts : sequence of int, optional
        Bin counts to keep; default every one of 5, 10, …, 500 present in ``df``.

    Returns
    -------
    DataFrame
        Columns ``n_bins`` (int) and ``value``, NaNs dropped.
    """
    columns = _bin_columns(df, metric_prefix, bin_counts)
    frames = [
        pd.DataFrame({"n_bins": b, "value": df[c].to_numpy(float)}) for b, c in columns.items()
    ]
    return pd.concat(frames, ignore_index=True).dropna(subset=["value"])


def bin_count_stability(
    df: pd.DataFrame, metric_prefix: str = "pre_ECE", bin_counts: Sequence[int] | None = None
) -> pd.DataFrame:
    """τ-b between the same metric computed with every pair of bin counts (RQ iv, vi).

    The reference study reports 0.82–0.98 before temperature scaling and 0.25–0.81 after it.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    metric_prefix : str, default="pre_ECE"
        Column prefix; columns are ``{metric_prefix}_{n_bins}``.
    bin_counts : sequence of int, optional
        Bin counts to compare; default every one of 5, 10, …, 500 present in ``df``.

    Returns
    -------
    DataFrame
        Columns ``bins_a, bins_b, tau``, one row per unordered pair with ``bins_a < bins_b``.
    """
    columns = _bin_columns(df, metric_prefix, bin_counts)
    counts = sorted(columns)
    matrix = tau_matrix(df, [columns[b] for b in counts])
    rows = [
        {"bins_a": a, "bins_b": b, "tau": float(matrix.loc[columns[a], columns[b]])}
        for i, a in enumerate(counts)
        for b in counts[i + 1 :]
    ]
    return pd.DataFrame(rows, columns=["bins_a", "bins_b", "tau"])


def bin_count_summary(
    df: pd.DataFrame, metric_prefix: str = "pre_ECE", bin_counts: Sequence[int] | None = None
) -> pd.DataFrame:
    """Distribution of a binned metric per bin count: median, quartiles, IQR, mean (RQ vi).

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    metric_prefix : str, default="pre_ECE"
        Column prefix; columns are ``{metric_prefix}_{n_bins}``.
    bin_counts : sequence of int, optional
        Bin counts; default every one of 5, 10, …, 500 present in ``df``.

    Returns
    -------
    DataFrame
        Indexed by ``n_bins`` (ascending), columns ``median, q25, q75, iqr, mean, n``.
    """
    long = bin_count_long(df, metric_prefix, bin_counts)
    grouped = long.groupby("n_bins")["value"]
    summary = pd.DataFrame(
        {
            "median": grouped.median(),
            "q25": grouped.quantile(0.25),
            "q75": grouped.quantile(0.75),
            "mean": grouped.mean(),
            "n": grouped.size(),
        }
    )
    summary.insert(3, "iqr", summary["q75"] - summary["q25"])
    return summary.sort_index()


def compare_to_paper(ours: Mapping[str, object], paper: Mapping[str, object]) -> pd.DataFrame:
    """Tidy table of the paper's reported quantities beside ours, for a chapter's closing cell.

    Parameters
    ----------
    ours : mapping of str to number or str
        Quantities computed by calstudy, keyed by a readable name.
    paper : mapping of str to number or str
        The reference values (``paper-findings.md``) under the same names.

    Returns
    -------
    DataFrame
        Columns ``quantity, paper, calstudy, difference``: every quantity of ``paper`` in its
        order, then those only in ``ours``; a missing side is NaN; ``difference`` is
        ``calstudy - paper`` where both are numbers, else NaN.

    Examples
    --------
    >>> compare_to_paper({"tau": 0.5}, {"tau": 0.25})["difference"].tolist()
    [0.25]
    """
    quantities = list(paper) + [q for q in ours if q not in paper]
    if not quantities:
        raise ValueError("Expected `ours` or `paper` to hold at least one quantity, got none.")

    def number(value: object) -> float:
        if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
            value, bool
        ):
            return float(value)
        return float("nan")

    rows = []
    for q in quantities:
        p, o = paper.get(q, np.nan), ours.get(q, np.nan)
        rows.append({"quantity": q, "paper": p, "calstudy": o, "difference": number(o) - number(p)})
    return pd.DataFrame(rows, columns=["quantity", "paper", "calstudy", "difference"])


def calibrated_floor(
    n_samples: int,
    n_classes: int,
    acc: float,
    *,
    bin_counts: Sequence[int] = BIN_COUNTS,
    metric: str = "ECE",
    n_sim: int = 5,
    seed: int = 0,
) -> pd.Series:
    """Binned error of a perfectly calibrated model, from finite samples alone.

    Draws ``n_sim`` test sets of ``n_samples`` predictions from a model that is calibrated by
    construction — logits :math:`s z` with :math:`z \\sim \\mathcal{N}(0, I_K)` and labels drawn
    from :math:`\\mathrm{softmax}(s z)` — with the scale :math:`s` chosen so that its accuracy
    (its mean confidence) is ``acc``, and returns the mean of each bin count's estimate. A
    network whose measured error is at this floor is indistinguishable from a calibrated one by
    that estimator at that test-set size.

    Parameters
    ----------
    n_samples, n_classes : int
        Test-set size and number of classes.
    acc : float
        Accuracy in (1/K, 1) to match.
    bin_counts : sequence of int
        Bin counts to evaluate.
    metric : {"ECE", "ECE_em", "cwCE", "cwCE_em", "MCE"}
        Binned estimator (a key of :func:`calstudy.metrics.binned_errors`).
    n_sim, seed : int
        Simulated test sets, and the seed of the simulation.

    Returns
    -------
    pandas.Series
        Mean estimate indexed by bin count.
    """
    from calstudy import metrics

    if not 1.0 / n_classes < acc < 1.0:
        raise ValueError(f"Expected `acc` to be in (1/{n_classes}, 1), got {acc}.")
    if n_sim < 1:
        raise ValueError(f"Expected `n_sim` to be a positive integer, got {n_sim}.")
    rng = np.random.default_rng(seed)
    scales = np.linspace(0.05, 12.0, 120)
    z = rng.normal(size=(4000, n_classes))
    mean_conf = [metrics.to_probs(s * z).max(axis=1).mean() for s in scales]
    scale = float(np.interp(acc, mean_conf, scales))  # mean confidence rises with the scale
    estimates = []
    for _ in range(n_sim):
        probs = metrics.to_probs(scale * rng.normal(size=(n_samples, n_classes)))
        labels = (probs.cumsum(axis=1) < rng.random((n_samples, 1))).sum(axis=1)
        labels = np.minimum(labels, n_classes - 1)  # guards the cumulative sum's rounding
        errors = metrics.binned_errors(probs, labels, bin_counts=tuple(bin_counts), validate=False)
        estimates.append(errors[metric])
    return pd.DataFrame(estimates).mean().rename_axis("n_bins")


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
    """:func:`edge_tests` for each target column, stacked: one row per (target, edge).

    Parameters
    ----------
    df : DataFrame
        TSS rows (see :func:`edge_tests`).
    targets : sequence of str
        Response columns, e.g. ``["pre_ECE_15", "post_ECE_15"]``.
    correction : {"holm", "bh", "bonferroni"}, default="holm"
        Multiplicity correction over the edges of one target.
    min_count : int, default=5
        Fewest rows an (edge, operation) level needs to stay in the fit.

    Returns
    -------
    DataFrame
        ``metric`` then the columns of :func:`edge_tests`; ``attrs["n_rows"]`` and
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
    """Operation-count regressions (:func:`op_effects` with ``encoding="count"``) per target.

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
        As in :func:`kendall_ci`.
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
    interval and a Mann–Whitney p-value (:func:`bootstrap_diff`) when each group holds at least
    two networks; otherwise those entries are NaN.

    Parameters
    ----------
    df : DataFrame
        SSS rows with ``total_width`` and ``target``.
    target : str
        Calibration column.
    narrow, wide : (float, float)
        Closed ranges of total width.
    n_boot, level, seed
        As in :func:`bootstrap_diff`.

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
        As in :func:`kendall_ci`; the τ is computed when at least 3 networks of 2 or more
        widths hold the target, else NaN.

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
        Edge columns (:data:`EDGES`).

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
    the share carries a Wilson interval (:func:`wilson_ci`).

    Parameters
    ----------
    top : DataFrame
        The selected cells, e.g. :func:`top_hcs`'s.
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
    happens elsewhere; :func:`edge_tests` separates them.

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
        (smallest Holm p 0.17, edge 0→3); after temperature scaling, the operation matters on edge 0→1 (Holm p
        0.02; worst avg_pool_3x3, spread 0.38 pp)": ``worst`` is the operation with the highest
        effect on the target, ``spread`` the edge's effect range in percentage points.
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
        pre_ECE_15 (+0.26 [+0.11, +0.41] pp per edge, Holm p 0.0025)"; or that none does.
    """
    from calstudy import report

    name, p_col = _CORRECTION_NAMES[correction], f"p_{correction}"
    check_columns(table, ["metric", "term", "coef", "low", "high", p_col], "table")
    clauses = []
    for target, rows in table.groupby("metric", sort=False):
        hits = rows[(rows[p_col] < alpha) & rows["term"].str.startswith("n_")]
        clauses.append(f"{_scaling(target)}, " + report.join(
            (f"each extra {r['term'][2:]} {'raises' if r['coef'] > 0 else 'lowers'} {target} "
             f"({report.ci(100 * r['coef'], 100 * r['low'], 100 * r['high'])} pp per edge, "
             f"{name} p {report.pvalue(r[p_col])})" for _, r in hits.iterrows()),
            empty=f"no operation count moves {target} significantly after {name}",
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
            clauses.append(f"{_scaling(r['metric'])}, no relation of width and {r['metric']} "
                           f"that this sample resolves: {shown}")  # fmt: skip
    return "; ".join(clauses)


def width_extremes_sentence(extremes: Mapping[str, float], target: str) -> str:
    """:func:`width_extremes`' result in words: the two medians and their difference.

    Returns
    -------
    str
        "median pre_ECE_15 1.7 % at total width 40–80 (n = 4) against 6.8 % at 280–320 (n = 7),
        difference +5.10 [+4.20, +6.00] pp", without the difference when a group holds fewer
        than two networks, or that the comparison cannot be made when a group is empty.
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
        f"median {target} {report.pct(extremes['narrow'])} at total width 40–80 (n = {n_narrow})"
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
        clauses.append(f"{r['metric']} {report.pct(r['at_min'])} → {report.pct(r['at_max'])} "
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


# ================================================================================================
# The dataset chapter: what a store holds (columns, provenance, scale, completeness, temperatures)
# ================================================================================================


#: Origin columns summarised by :func:`store_provenance`, in the order shown.
ORIGIN_COLUMNS: tuple[str, ...] = (
    "source", "fidelity", "calstudy_version", "git_commit", "device", "torch_version",
    "config_hash", "created_at", "wall_time_s", "train_time_s", "eval_time_s",
)  # fmt: skip


def _filled_columns(df: pd.DataFrame) -> set[str]:
    """Columns of ``df`` holding at least one value."""
    return set(df.columns[df.notna().any()])


def store_column_groups(df: pd.DataFrame, *, n_examples: int = 4) -> pd.DataFrame:
    """How many columns of each schema group (:data:`calstudy.schema.GROUPS`) a store fills.

    A store read with :meth:`calstudy.store.Store.read` has every schema column; a column is
    *filled* when at least one row holds a value (the paper's CSVs, for instance, fill no
    temperature, seed-study or timing column).

    Parameters
    ----------
    df : DataFrame
        Rows of a store.
    n_examples : int, default=4
        Filled column names shown per group.

    Returns
    -------
    DataFrame
        Indexed by group: ``columns`` (in the schema), ``filled`` (here), ``examples`` (filled
        columns), ``empty`` (the group's unfilled columns, listed).
    """
    from calstudy.schema import GROUPS

    n_examples = check_positive_int(n_examples, "n_examples")
    filled = _filled_columns(df)
    rows = []
    for name, columns in GROUPS.items():
        present = [c for c in columns if c in filled]
        empty = [c for c in columns if c not in filled]
        rows.append({"group": name, "columns": len(columns), "filled": len(present),
                     "examples": ", ".join(present[:n_examples])
                     + (", …" if len(present) > n_examples else ""),
                     "empty": ", ".join(empty)})  # fmt: skip
    return pd.DataFrame(rows).set_index("group")


def column_groups_sentence(groups: pd.DataFrame, *, max_listed: int = 6) -> str:
    """:func:`store_column_groups`' table in words: which groups a store fills completely, and
    how much of the others, naming their empty columns when there are at most ``max_listed``.

    Examples
    --------
    >>> groups = pd.DataFrame({"columns": [3, 4], "filled": [3, 2], "empty": ["", "c, d"]},
    ...                       index=pd.Index(["a", "b"], name="group"))
    >>> column_groups_sentence(groups)
    'fills 5 of the 7 columns: every column of `a`; of `b`, 2 of 4 (empty here: c, d)'
    """
    check_columns(groups, ["columns", "filled", "empty"], "groups")
    full = [str(g) for g, r in groups.iterrows() if r["filled"] == r["columns"]]
    parts = [f"every column of {', '.join(f'`{g}`' for g in full)}"] if full else []
    for g, r in groups[groups["filled"] < groups["columns"]].iterrows():
        empty = [c for c in str(r["empty"]).split(", ") if c]
        listed = f" (empty here: {', '.join(empty)})" if len(empty) <= max_listed else ""
        parts.append(f"of `{g}`, {r['filled']} of {r['columns']}{listed}")
    total, filled = int(groups["columns"].sum()), int(groups["filled"].sum())
    return f"fills {filled} of the {total} columns: " + "; ".join(parts)


def store_provenance(df: pd.DataFrame, *, top: int = 3) -> pd.DataFrame:
    """What the rows of a store record about their origin, column by column.

    Parameters
    ----------
    df : DataFrame
        Rows of a store.
    top : int, default=3
        Most frequent values listed per text column.

    Returns
    -------
    DataFrame
        Indexed by the filled columns of :data:`ORIGIN_COLUMNS`: ``rows`` (how many hold a
        value) and ``values`` (the most frequent values with their counts; for times, the
        range; for durations, the total and the median). ``attrs["absent"]``: the origin
        columns no row fills.

    Examples
    --------
    >>> rows = pd.DataFrame({"source": ["trained", "trained"], "wall_time_s": [60.0, 120.0]})
    >>> store_provenance(rows).loc["wall_time_s", "values"]
    'total 0.05 h, median 90 s'
    """
    from calstudy import report

    top = check_positive_int(top, "top")
    filled = _filled_columns(df)
    records = {}
    for column in ORIGIN_COLUMNS:
        if column not in filled:
            continue
        values = df[column].dropna()
        if column.endswith("_s"):
            text = (f"total {report.num(values.sum() / 3600, 3)} h, median "
                    f"{report.num(values.median(), 3)} s")  # fmt: skip
        elif column == "created_at":
            text = f"{values.min()} … {values.max()}"
        else:
            counts = values.astype(str).value_counts()
            text = ", ".join(f"{v} ({n:,})" for v, n in counts.head(top).items())
            text += f", … {len(counts) - top} more" if len(counts) > top else ""
        records[column] = {"rows": len(values), "values": text}
    table = pd.DataFrame.from_dict(records, orient="index", columns=["rows", "values"])
    table.attrs["absent"] = [c for c in ORIGIN_COLUMNS if c not in filled]
    return table


def describe_fidelity(label: str) -> dict[str, str]:
    """A fidelity label in words: training epochs, skeleton and training images.

    Trained labels (``ep10-C16N1-n10000``, :func:`calstudy.sweep.parse_fidelity`) and the
    paper's NATS-Bench labels (``nats-200``, ``nats-90``: the released weights of the C = 16,
    N = 5 skeleton trained on the full training split) are read; others are returned as given.

    Examples
    --------
    >>> describe_fidelity("ep10-C16N1-n10000")
    {'epochs': '10', 'skeleton': 'C = 16, N = 1', 'training images': '10,000'}
    >>> describe_fidelity("nats-200")["epochs"]
    '200 (NATS-Bench weights)'
    """
    import re

    from calstudy.sweep import parse_fidelity

    match = re.fullmatch(r"nats-(\d+)", str(label))
    if match:
        return {"epochs": f"{match[1]} (NATS-Bench weights)", "skeleton": "C = 16, N = 5",
                "training images": "the full training split"}  # fmt: skip
    try:
        parts = parse_fidelity(label)
    except ValueError:
        return {"epochs": str(label), "skeleton": "—", "training images": "—"}
    n_train = parts["n_train"]
    return {"epochs": str(parts["epochs"]), "skeleton": f"C = {parts['C']}, N = {parts['N']}",
            "training images": "all" if n_train is None else f"{n_train:,}"}  # fmt: skip


#: The reference study's dataset, for :func:`store_scale` (``paper-findings.md``).
PAPER_SCALE: dict[str, str] = {
    "rows": "117,702 (145,179 in the released CSVs)",
    "architectures": "tss: 6,466 unique (15,625 rows), sss: 32,768",
    "datasets": "cifar10, cifar100, imagenet16-120",
    "training epochs": "200 (TSS); SSS not stated",
    "skeleton": "C = 16, N = 5",
    "training images": "the full training split",
    "seeds": "not stated",
    "test images behind post_ columns": "8,000 (20 % of 10,000 fit T)",
}


def store_scale(df: pd.DataFrame, every_seed: pd.DataFrame) -> pd.DataFrame:
    """A store's size and training budget beside the reference study's (:data:`PAPER_SCALE`).

    Parameters
    ----------
    df : DataFrame
        One row per network (each network's lowest seed).
    every_seed : DataFrame
        Every finished row, repeated seeds included.

    Returns
    -------
    DataFrame
        Indexed by the quantities of :data:`PAPER_SCALE`, columns ``this store`` and ``paper``.
    """
    check_columns(df, ["space", "arch", "dataset", "fidelity"])
    check_columns(every_seed, ["seed"], "every_seed")
    fidelities = [describe_fidelity(f) for f in sorted(df["fidelity"].dropna().unique())]

    def each(key: str) -> str:
        return "; ".join(dict.fromkeys(f[key] for f in fidelities)) or "—"

    repeats = len(every_seed) - len(df)
    n_eval = df["n_eval"].dropna() if "n_eval" in df.columns else pd.Series(dtype=float)
    ours = {
        "rows": f"{len(every_seed):,}",
        "architectures": ", ".join(
            f"{s}: {n:,}" for s, n in df.groupby("space")["arch"].nunique().items()
        ),
        "datasets": ", ".join(sorted(df["dataset"].unique())),
        "training epochs": each("epochs"),
        "skeleton": each("skeleton"),
        "training images": each("training images"),
        "seeds": ", ".join(map(str, sorted(every_seed["seed"].dropna().astype(int).unique())))
        + (f" ({repeats:,} repeated-seed rows)" if repeats else ""),
        "test images behind post_ columns": f"{int(n_eval.median()):,}" if len(n_eval) else "—",
    }
    return pd.DataFrame({"this store": ours, "paper": PAPER_SCALE})


def plan_progress(plan: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    """Which planned jobs a store has finished, per space × dataset.

    Parameters
    ----------
    plan : DataFrame
        One row per planned job with ``space, arch, dataset, seed`` and optionally
        ``fidelity`` (e.g. the keys of :func:`calstudy.sweep.expand_jobs`' jobs); a store row
        finishes a job when it has the same values in these columns.
    df : DataFrame
        Finished rows of the store, every seed.

    Returns
    -------
    DataFrame
        Indexed by ``(space, dataset)`` of the plan: ``planned``, ``finished``, ``share``.
        ``attrs``: ``planned`` and ``finished`` in all, and ``outside``, the store's rows that
        are no job of the plan.
    """
    keys = ["space", "arch", "dataset", "seed", *(["fidelity"] if "fidelity" in plan else [])]
    check_columns(plan, keys, "plan")
    check_columns(df, keys)
    done = plan.merge(df[keys].drop_duplicates(), on=keys, how="inner")
    table = pd.DataFrame({"planned": plan.groupby(["space", "dataset"]).size(),
                          "finished": done.groupby(["space", "dataset"]).size()})  # fmt: skip
    table = table.fillna(0).astype(int)
    table["share"] = table["finished"] / table["planned"]
    outside = len(df[keys].drop_duplicates()) - len(done)
    table.attrs.update(planned=len(plan), finished=len(done), outside=outside)
    return table


def median_iqr_table(
    df: pd.DataFrame, columns: Sequence[str], *, by: Sequence[str] = ("space", "dataset")
) -> pd.DataFrame:
    """Median [first quartile, third quartile] of each column per group, as text.

    Columns that ``df`` lacks or never fills are left out; ``networks`` counts the group's rows.

    Examples
    --------
    >>> rows = pd.DataFrame({"g": ["a"] * 5, "acc": [0.1, 0.2, 0.3, 0.4, 0.5], "t": [None] * 5})
    >>> table = median_iqr_table(rows, ["acc", "t"], by=["g"])
    >>> int(table.loc["a", "networks"]), table.loc["a", "acc"], list(table.columns)
    (5, '0.300 [0.200, 0.400]', ['networks', 'acc'])
    """
    check_columns(df, list(by))
    kept = [c for c in columns if c in df.columns and df[c].notna().any()]
    groups = df.groupby(list(by))
    table = pd.DataFrame({"networks": groups.size()})
    for column in kept:
        q = groups[column].quantile([0.25, 0.5, 0.75]).unstack()
        table[column] = [f"{r[0.5]:.3f} [{r[0.25]:.3f}, {r[0.75]:.3f}]" for _, r in q.iterrows()]
    return table


def temperature_shift(
    df: pd.DataFrame,
    *,
    by: str = "dataset",
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    min_n: int = 3,
) -> pd.DataFrame:
    r"""Is the median fitted temperature different from 1? Per group, the median of
    :math:`T - 1` with a bootstrap interval and a Wilcoxon signed-rank p-value
    (:func:`paired_difference` against 1).

    :math:`T > 1` softens the network's confidences (it was overconfident), :math:`T < 1`
    sharpens them (underconfident).

    Parameters
    ----------
    df : DataFrame
        Rows with ``temperature`` and ``by``.
    by : str, default="dataset"
        Grouping column.
    n_boot, level, seed
        As in :func:`paired_difference`.
    min_n : int, default=3
        Fewest temperatures a group needs; smaller groups are left out.

    Returns
    -------
    DataFrame
        Indexed by group: ``estimate, low, high, p, n`` (empty when ``df`` holds no
        temperatures).
    """
    check_columns(df, [by, "temperature"])
    records = {}
    for name, part in df.groupby(by):
        temperatures = part["temperature"].dropna().astype(float)
        if len(temperatures) < min_n:
            continue
        r = paired_difference(temperatures, 1.0, n_boot=n_boot, level=level, seed=seed)
        records[name] = {"estimate": r.estimate, "low": r.low, "high": r.high,
                         "p": r.p_value, "n": r.n}  # fmt: skip
    columns = ["estimate", "low", "high", "p", "n"]
    return pd.DataFrame.from_dict(records, orient="index", columns=columns).rename_axis(by)


def temperature_sentence(
    table: pd.DataFrame, *, alpha: float = 0.05, tolerance: float = 0.05
) -> str:
    """:func:`temperature_shift`'s table in words, one clause per group.

    A group is called overconfident (underconfident) when the p-value is below ``alpha`` and
    the interval of the median :math:`T - 1` lies above (below) 0; when the whole interval lies
    within ``±tolerance`` the clause adds that the median temperature is within ``tolerance``
    of 1, essentially calibrated.
    """
    from calstudy import report

    check_columns(table, ["estimate", "low", "high", "p", "n"], "table")
    clauses = []
    for name, r in table.iterrows():
        shift = f"median T − 1 = {report.ci(r['estimate'], r['low'], r['high'], 3)}"
        if r["p"] < alpha and r["low"] > 0:
            verdict = "overconfident (T > 1)"
        elif r["p"] < alpha and r["high"] < 0:
            verdict = "underconfident (T < 1)"
        else:
            verdict = "neither over- nor underconfident by a margin this sample resolves"
        if -tolerance < r["low"] and r["high"] < tolerance:
            within = report.num(tolerance)
            verdict += f"; the interval lies within ±{within}: essentially calibrated"
        clauses.append(f"on {name}, {shift} (Wilcoxon p {report.pvalue(r['p'])}, "
                       f"n = {int(r['n'])}): {verdict}")  # fmt: skip
    return "; ".join(clauses)


# ================================================================================================
# RQ iv: post-hoc calibration (does the ranking survive scaling, who gains, the temperatures,
# other post-hoc methods)
# ================================================================================================


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
    table = pd.DataFrame(rows, columns=[*by, *columns])
    table.insert(len(by), "group", group_label(table, by) if len(table) else pd.Series(dtype=str))
    table.attrs["skipped"] = skipped
    return table


def scaling_effect(
    df: pd.DataFrame,
    pre: str,
    post: str,
    *,
    by: Sequence[str] = GROUP_KEYS,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    min_rows: int = 3,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""What post-hoc calibration does to a metric, per group: the ranking and the values.

    For the networks of each group (complete in ``pre`` and ``post``):

    - ``tau``: Kendall τ-b between ``pre`` and ``post`` with its bootstrap interval
      (:func:`kendall_ci`): does the ranking survive scaling?
    - ``change``: the median paired change :math:`\operatorname{median}_i (m^\text{post}_i -
      m^\text{pre}_i)` with its bootstrap interval and the Wilcoxon signed-rank p-value
      (:func:`paired_difference`), Holm-corrected over the groups (``change_p_holm``);
    - ``lowered``: the share of networks with :math:`m^\text{post} < m^\text{pre}` with its
      Wilson interval (:func:`wilson_ci`).

    Two verdicts read the intervals: ``kept`` is 2 where τ's interval lies above 0.5 (the
    ranking largely survives), 1 above 0, -1 below 0, 0 where it contains 0 (the ranking is
    reshuffled); ``changed`` is :func:`interval_sign` of the change with its Holm p (-1: scaling
    lowered the metric).

    Parameters
    ----------
    df : DataFrame
        Calibration dataset, one row per network.
    pre, post : str
        The metric's column before and after post-hoc calibration (``"pre_ECE_15"``,
        ``"post_ECE_15"``).
    by : sequence of str, default=("space", "dataset")
        Columns whose values define the groups.
    n_boot, level, seed
        As in :func:`kendall_ci`.
    min_rows : int, default=3
        Groups with fewer complete rows (or fewer than 3) are left out and listed in
        ``attrs["skipped"]``.
    alpha : float, default=0.05
        Significance level of the verdicts.

    Returns
    -------
    DataFrame
        One row per group: ``*by, group`` (:func:`group_label`), ``n, median_pre, median_post,
        tau, tau_low, tau_high, tau_p, change, change_low, change_high, change_p,
        change_p_holm, lowered, lowered_low, lowered_high, kept, changed``.

    Examples
    --------
    >>> d = pd.DataFrame({"g": ["a"] * 6, "pre": [6, 5, 4, 3, 2, 1.0],
    ...                   "post": [3, 2, 1, 0, 0.5, -1]})
    >>> r = scaling_effect(d, "pre", "post", by=["g"], n_boot=50).iloc[0]
    >>> float(r["change"]), float(r["lowered"]), int(r["kept"])
    (-3.0, 1.0, 1)
    """
    parts, skipped = group_parts(df, by, [pre, post], min_rows)
    rows = []
    for key, part in parts:
        kept = kendall_ci(part[pre], part[post], n_boot=n_boot, level=level, seed=seed)
        change = paired_difference(part[post], part[pre], n_boot=n_boot, level=level, seed=seed)
        lowered = wilson_ci(int((part[post] < part[pre]).sum()), len(part), level=level)
        rows.append(
            {**key, "n": len(part), "median_pre": float(part[pre].median()),
             "median_post": float(part[post].median()), "tau": kept.tau, "tau_low": kept.low,
             "tau_high": kept.high, "tau_p": kept.p_value, "change": change.estimate,
             "change_low": change.low, "change_high": change.high, "change_p": change.p_value,
             "lowered": lowered[0], "lowered_low": lowered[1], "lowered_high": lowered[2]}
        )
    columns = ["n", "median_pre", "median_post", "tau", "tau_low", "tau_high", "tau_p", "change",
               "change_low", "change_high", "change_p", "change_p_holm", "lowered",
               "lowered_low", "lowered_high"]
    table = group_table(rows, by, columns, skipped)
    table["change_p_holm"] = correct_pvalues(table["change_p"], method="holm")
    table["kept"] = interval_sign(table["tau_low"], table["tau_high"], alpha=alpha) + (
        table["tau_low"] > 0.5
    ).astype(int)
    table["changed"] = interval_sign(
        table["change_low"], table["change_high"], table["change_p_holm"], alpha=alpha
    )
    return table


def gain_drivers(
    df: pd.DataFrame,
    pre: str,
    post: str,
    *,
    acc: str = "acc",
    by: Sequence[str] = GROUP_KEYS,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    min_rows: int = 3,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""Who gains most from post-hoc calibration: τ of the change with miscalibration and accuracy.

    With :math:`\Delta_i = m^\text{post}_i - m^\text{pre}_i` (negative: scaling helped), per
    group: :math:`\tau(m^\text{pre}, \Delta)` and :math:`\tau(\mathrm{acc}, \Delta)` with their
    bootstrap intervals, and their difference
    :math:`\tau(\mathrm{acc}, \Delta) - \tau(m^\text{pre}, \Delta)` with a paired bootstrap
    interval and p-value (:func:`tau_difference`). :math:`\Delta` contains
    :math:`-m^\text{pre}`, so :math:`\tau(m^\text{pre}, \Delta)` leans negative by construction;
    the difference says whether the gain follows miscalibration more than accuracy: ``follows``
    is :func:`interval_sign` of its interval (1: miscalibration more, -1: accuracy more, 0:
    neither shown).

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    pre, post : str
        The metric's column before and after post-hoc calibration.
    acc : str, default="acc"
        Accuracy column.
    by, n_boot, level, seed, min_rows, alpha
        As in :func:`scaling_effect`.

    Returns
    -------
    DataFrame
        One row per group: ``*by, group, n, tau_pre, tau_pre_low, tau_pre_high, tau_pre_p,
        tau_acc, tau_acc_low, tau_acc_high, tau_acc_p, gap, gap_low, gap_high, gap_p, follows``.
    """
    parts, skipped = group_parts(df, by, [pre, post, acc], min_rows)
    rows = []
    for key, part in parts:
        delta = part[post] - part[pre]
        row: dict[str, Any] = {**key, "n": len(part)}
        for name, x in (("tau_pre", part[pre]), ("tau_acc", part[acc])):
            r = kendall_ci(x, delta, n_boot=n_boot, level=level, seed=seed)
            row |= {name: r.tau, f"{name}_low": r.low, f"{name}_high": r.high,
                    f"{name}_p": r.p_value}
        gap = tau_difference(part[acc], delta, part[pre], delta, n_boot=n_boot, level=level,
                             seed=seed)
        rows.append(row | {"gap": gap.estimate, "gap_low": gap.low, "gap_high": gap.high,
                           "gap_p": gap.p_value})
    columns = ["n", "tau_pre", "tau_pre_low", "tau_pre_high", "tau_pre_p", "tau_acc",
               "tau_acc_low", "tau_acc_high", "tau_acc_p", "gap", "gap_low", "gap_high", "gap_p"]
    table = group_table(rows, by, columns, skipped)
    table["follows"] = interval_sign(table["gap_low"], table["gap_high"], alpha=alpha)
    return table


def temperature_summary(
    df: pd.DataFrame,
    against: str,
    *,
    temperature: str = "temperature",
    by: Sequence[str] = GROUP_KEYS,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    min_rows: int = 3,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""The fitted temperatures of each group, and whether the correction tracks ``against``.

    :math:`T > 1` softens an overconfident network, :math:`T < 1` sharpens an underconfident
    one. Per group: median and quartiles of :math:`T`; the median of :math:`T - 1` with its
    bootstrap interval and Wilcoxon p-value (:func:`paired_difference` against 1); the median
    of :math:`|T - 1|`; the share with :math:`T > 1` with its Wilson interval; and
    :math:`\tau(|\log T|, \text{against})`, the size of the correction against, e.g., the
    pre-scaling ECE (RQ iv) or the drop in ECE (RQ v), with its bootstrap interval.

    Verdicts (:func:`interval_sign`): ``kind`` is 1 where the share with :math:`T > 1` is
    above one half (mostly overconfident), -1 below (mostly underconfident), 0 neither;
    ``shifted`` the direction of :math:`T - 1` (with its p-value); ``tracks`` that of τ.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    against : str
        Column compared with :math:`|\log T|`.
    temperature : str, default="temperature"
        Column of the fitted temperatures (positive).
    by, n_boot, level, seed, min_rows, alpha
        As in :func:`scaling_effect`.

    Returns
    -------
    DataFrame
        One row per group: ``*by, group, n, median_t, t_q25, t_q75, shift, shift_low,
        shift_high, shift_p, median_abs_shift, over, over_low, over_high, tau, tau_low,
        tau_high, tau_p, kind, shifted, tracks``. Empty (with these columns) when no group has
        ``min_rows`` temperatures (the paper's released data has none).

    Raises
    ------
    ValueError
        If a temperature is not positive.
    """
    parts, skipped = group_parts(df, by, [temperature, against], min_rows)
    rows = []
    for key, part in parts:
        t = part[temperature].astype(float)
        if (t <= 0).any():
            raise ValueError(f"Expected `{temperature}` to be positive, got {t.min()!r}.")
        shift = paired_difference(t, 1.0, n_boot=n_boot, level=level, seed=seed)
        over = wilson_ci(int((t > 1).sum()), len(t), level=level)
        r = kendall_ci(np.abs(np.log(t)), part[against], n_boot=n_boot, level=level, seed=seed)
        rows.append(
            {**key, "n": len(part), "median_t": float(t.median()), "t_q25": float(t.quantile(0.25)),
             "t_q75": float(t.quantile(0.75)), "shift": shift.estimate, "shift_low": shift.low,
             "shift_high": shift.high, "shift_p": shift.p_value,
             "median_abs_shift": float((t - 1).abs().median()), "over": over[0],
             "over_low": over[1], "over_high": over[2], "tau": r.tau, "tau_low": r.low,
             "tau_high": r.high, "tau_p": r.p_value}
        )
    columns = ["n", "median_t", "t_q25", "t_q75", "shift", "shift_low", "shift_high", "shift_p",
               "median_abs_shift", "over", "over_low", "over_high", "tau", "tau_low", "tau_high",
               "tau_p"]
    table = group_table(rows, by, columns, skipped)
    table["kind"] = interval_sign(table["over_low"] - 0.5, table["over_high"] - 0.5, alpha=alpha)
    table["shifted"] = interval_sign(
        table["shift_low"], table["shift_high"], table["shift_p"], alpha=alpha
    )
    table["tracks"] = interval_sign(table["tau_low"], table["tau_high"], alpha=alpha)
    return table


def posthoc_scores(
    df: pd.DataFrame, methods: Sequence[str], score: str, *, min_rows: int = 3
) -> pd.DataFrame:
    """One score of every post-hoc method side by side: ``none``, ``ts``, then ``methods``.

    The store names a score after each method: ``pre_{score}`` without post-hoc calibration
    (``none``), ``post_{score}`` after temperature scaling (``ts``) and ``{method}_{score}``
    after the others (``vs_ECE_15``, ``hist_NLL``, …). A method whose column is absent or holds
    fewer than ``min_rows`` values is left out; infinite values (an NLL of a zero probability)
    become NaN.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    methods : sequence of str
        Post-hoc methods besides temperature scaling (keys of
        :data:`calstudy.calibrate.POSTHOC_METHODS`).
    score : str
        Score suffix, e.g. ``"ECE_15"`` or ``"NLL"``.
    min_rows : int, default=3
        Fewest values a method needs.

    Returns
    -------
    DataFrame
        Index of ``df``, one column per method found.

    Examples
    --------
    >>> d = pd.DataFrame({"pre_NLL": [1.0, 2, 3], "post_NLL": [0.5, 1, 2], "vs_NLL": [np.nan] * 3})
    >>> list(posthoc_scores(d, ["vs", "iso"], "NLL").columns)
    ['none', 'ts']
    """
    columns = {"none": f"pre_{score}", "ts": f"post_{score}"} | {m: f"{m}_{score}" for m in methods}
    found = {k: c for k, c in columns.items()
             if c in df.columns and df[c].notna().sum() >= min_rows}  # fmt: skip
    scores = df[list(found.values())].set_axis(list(found), axis=1).astype(float)
    return scores.replace([np.inf, -np.inf], np.nan)


def posthoc_wins(
    df: pd.DataFrame,
    methods: Sequence[str],
    score: str = "ECE_15",
    *,
    by: Sequence[str] = GROUP_KEYS,
    level: float = 0.95,
    min_rows: int = 3,
) -> pd.DataFrame:
    """Which post-hoc method gives each network the lowest score, and the median gain of each.

    Per group, over the networks with a value for temperature scaling and every other method
    found (:func:`posthoc_scores`): the share of networks on which each method (``ts`` and
    ``methods``) has the lowest ``score`` with its Wilson interval, and each method's median
    gain :math:`\\operatorname{median}_i(s^\\text{none}_i - s^\\text{method}_i)` (positive: the
    method helped). Groups where no method besides ``ts`` was run are left out.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    methods : sequence of str
        Post-hoc methods compared with temperature scaling.
    score : str, default="ECE_15"
        Score suffix (lower is better).
    by, level, min_rows
        As in :func:`scaling_effect`.

    Returns
    -------
    DataFrame
        One row per group and method: ``*by, group, method, n, wins, wins_low, wins_high,
        median_gain``. Within a group ``wins`` sums to 1 (ties go to the first method).
    """
    rows = []
    for key, part in split_groups(df, by):
        scores = posthoc_scores(part, methods, score, min_rows=min_rows)
        contenders = scores[[c for c in scores.columns if c != "none"]].dropna()
        if len(contenders.columns) < 2 or "ts" not in contenders or len(contenders) < min_rows:
            continue
        winner = contenders.idxmin(axis=1)
        for method in contenders.columns:
            wins = wilson_ci(int((winner == method).sum()), len(winner), level=level)
            gain = (scores["none"] - scores[method]).median() if "none" in scores else np.nan
            rows.append({**key, "method": method, "n": len(contenders), "wins": wins[0],
                         "wins_low": wins[1], "wins_high": wins[2], "median_gain": float(gain)})
    columns = ["method", "n", "wins", "wins_low", "wins_high", "median_gain"]
    return group_table(rows, by, columns, [])


def posthoc_tests(
    df: pd.DataFrame,
    methods: Sequence[str],
    scores: Sequence[str] = ("ECE_15", "NLL"),
    *,
    by: Sequence[str] = GROUP_KEYS,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    min_rows: int = 3,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""Each post-hoc method against temperature scaling, paired by network.

    For every group, method of ``methods`` found in the store (:func:`posthoc_scores`) and
    score: the median paired difference :math:`\operatorname{median}_i(s^\text{method}_i -
    s^\text{ts}_i)` (negative: the method beat temperature scaling) with its bootstrap interval
    and Wilcoxon p-value (:func:`paired_difference`), the share of networks on which the method
    beat temperature scaling with its Wilson interval, and the p-values Holm-corrected over the
    whole table (``p_holm``). ``versus`` is :func:`interval_sign` of the difference with its
    Holm p: -1 better than temperature scaling, 1 worse, 0 not distinguishable.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    methods : sequence of str
        Post-hoc methods compared with temperature scaling.
    scores : sequence of str, default=("ECE_15", "NLL")
        Score suffixes (lower is better).
    by, n_boot, level, seed, min_rows, alpha
        As in :func:`scaling_effect`.

    Returns
    -------
    DataFrame
        One row per group, method and score: ``*by, group, method, score, n, median_diff, low,
        high, beats, beats_low, beats_high, p, p_holm, versus``.
    """
    rows = []
    for key, part in split_groups(df, by):
        for score in scores:
            table = posthoc_scores(part, methods, score, min_rows=min_rows)
            for method in [m for m in methods if m in table.columns and "ts" in table.columns]:
                pair = table[[method, "ts"]].dropna()
                if len(pair) < max(3, min_rows):
                    continue
                r = paired_difference(pair[method], pair["ts"], n_boot=n_boot, level=level,
                                      seed=seed)
                beats = wilson_ci(int((pair[method] < pair["ts"]).sum()), len(pair), level=level)
                rows.append({**key, "method": method, "score": score, "n": r.n,
                             "median_diff": r.estimate, "low": r.low, "high": r.high,
                             "beats": beats[0], "beats_low": beats[1], "beats_high": beats[2],
                             "p": r.p_value})
    columns = ["method", "score", "n", "median_diff", "low", "high", "beats", "beats_low",
               "beats_high", "p", "p_holm"]
    table = group_table(rows, by, columns, [])
    table["p_holm"] = correct_pvalues(table["p"], method="holm")
    table["versus"] = interval_sign(table["low"], table["high"], table["p_holm"], alpha=alpha)
    return table


def paper_values(text: str) -> list[float]:
    """Every number a quote of the paper states, in order, as fractions where it says ``%``.

    Parameters
    ----------
    text : str
        E.g. ``"1.5 / 2.1 / 3.3 / 4.5 / 6.3 / 9.7 %"`` or ``"at 5 / 15 / 50 bins"``.

    Returns
    -------
    list of float

    Examples
    --------
    >>> paper_values("1.5 / 2.1 %"), paper_values("at 5 / 15 / 500 ")
    ([0.015, 0.021], [5.0, 15.0, 500.0])
    """
    import re

    scale = 0.01 if "%" in text else 1.0
    numbers = re.findall(r"[−-]?\d+(?:\.\d+)?", text)
    return [round(float(n.replace("−", "-")) * scale, 12) for n in numbers]


def paper_range(value: str) -> tuple[float, float]:
    """The number or range a quote of the paper states, as fractions where it says ``%``.

    Parameters
    ----------
    value : str
        A :attr:`calstudy.chapter.PaperNumber.value`, e.g. ``"≈ 0.00 – 0.01"``, ``"−0.23"`` or
        ``"3.8 – 6.8 %"``.

    Returns
    -------
    (low, high) : tuple of float
        Equal for a single number; a percentage is divided by 100.

    Raises
    ------
    ValueError
        If ``value`` holds no number, or more than two.

    Examples
    --------
    >>> paper_range("≈ 0.00 – 0.01"), paper_range("−0.23"), paper_range("3.8 – 6.8 %")
    ((0.0, 0.01), (-0.23, -0.23), (0.038, 0.068))
    """
    numbers = paper_values(value)
    if not 1 <= len(numbers) <= 2:
        raise ValueError(f"Expected `value` to state one number or a range, got {value!r}.")
    return min(numbers), max(numbers)


def range_position(value: tuple[float, float], low: float, high: float) -> str:
    """Where a range (a quote such as "0.82 – 0.98") lies relative to an interval.

    A single number is the range ``(value, value)``: ``"above"``, ``"inside"`` or ``"below"``.

    Parameters
    ----------
    value : (float, float)
        The range, e.g. from :func:`paper_range`.
    low, high : float
        The interval.

    Returns
    -------
    str
        ``"above"`` or ``"below"`` when the whole range lies outside the interval,
        ``"inside"`` when it lies within it, ``"overlapping"`` when it straddles an end, ``"—"``
        when a number is missing.

    Examples
    --------
    >>> range_position((0.0, 0.01), -0.13, 0.14), range_position((0.82, 0.98), 0.2, 0.9)
    ('inside', 'overlapping')
    """
    v_low, v_high = (float(v) for v in value)
    if np.isnan([v_low, v_high, low, high]).any():
        return "—"
    if v_low > high:
        return "above"
    if v_high < low:
        return "below"
    return "inside" if low <= v_low and v_high <= high else "overlapping"


def position_phrase(position: str) -> str:
    """A :func:`range_position` as the verb phrase of a sentence: ``"lies inside"``,
    ``"overlaps"``, ``"cannot be placed against"`` (for ``"—"``).

    Examples
    --------
    >>> f"the paper's range {position_phrase('overlapping')} this store's interval"
    "the paper's range overlaps this store's interval"
    """
    phrases = {"above": "lies above", "below": "lies below", "inside": "lies inside",
               "overlapping": "overlaps", "—": "cannot be placed against"}  # fmt: skip
    if position not in phrases:
        raise ValueError(f"Expected `position` to be one of {list(phrases)}, got {position!r}.")
    return phrases[position]


def interval_sign(
    low: object, high: object, p: object = None, *, alpha: float = 0.05
) -> np.ndarray:
    """The direction an interval (and, where given, a p-value) establishes: +1, -1 or 0.

    +1 where the interval lies above 0, -1 where it lies below 0, each only where ``p`` (when
    given) is below ``alpha``; 0 otherwise ("not detected"), NaN ends included. Chapters turn it
    into words (``{1: "rises", -1: "falls", 0: "no detectable relation"}``).

    Parameters
    ----------
    low, high : float or array-like
        Ends of the intervals.
    p : float or array-like, optional
        p-values (e.g. Holm-corrected) that must also be below ``alpha``.
    alpha : float, default=0.05
        Significance level.

    Returns
    -------
    ndarray of int
        Same shape as ``low``.

    Examples
    --------
    >>> interval_sign([0.1, -0.3, -0.1], [0.2, -0.1, 0.1]).tolist()
    [1, -1, 0]
    >>> int(interval_sign(0.1, 0.2, p=0.2))
    0
    """
    check_level(alpha, "alpha")
    low_arr = np.asarray(low, dtype=float)
    high_arr = np.asarray(high, dtype=float)
    sign = (low_arr > 0).astype(int) - (high_arr < 0).astype(int)
    if p is not None:
        sign = sign * (np.asarray(p, dtype=float) < alpha)
    return sign


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


def verdict_groups(
    labels: Sequence[str], verdicts: Sequence[object], words: Mapping[object, str]
) -> list[str]:
    """Phrases "``words[v]`` in A and B", one per verdict ``v`` that occurs, in ``words`` order.

    Parameters
    ----------
    labels : sequence of str
        A name per row (e.g. :func:`group_label`).
    verdicts : sequence
        A verdict per row (e.g. :func:`interval_sign`).
    words : mapping
        Verdict → phrase; verdicts missing from it are left out.

    Returns
    -------
    list of str

    Examples
    --------
    >>> verdict_groups(["A", "B", "C"], [1, 0, 1], {1: "rises", 0: "flat", -1: "falls"})
    ['rises in A and C', 'flat in B']
    """
    labels, verdicts = list(labels), list(verdicts)
    if len(labels) != len(verdicts):
        raise ValueError(
            f"Expected `labels` and `verdicts` of equal length, got {len(labels)} and "
            f"{len(verdicts)}."
        )
    phrases = []
    for verdict, phrase in words.items():
        named = [label for label, v in zip(labels, verdicts, strict=True) if v == verdict]
        if named:
            last = named[-1]
            listed = last if len(named) == 1 else f"{', '.join(named[:-1])} and {last}"
            phrases.append(f"{phrase} in {listed}")
    return phrases


# RQ iv, in words: the tables above as sentences (calstudy.report's formats), so that the
# chapter run on any store states that store's findings.


#: Words of :func:`scaling_effect`'s ``kept`` verdict.
KEPT_WORDS: dict[int, str] = {
    2: "the ranking largely survives scaling",
    1: "the ranking partly survives scaling",
    0: "no rank agreement is detected (the interval contains 0): scaling reshuffles the ranking",
    -1: "scaling partly reverses the ranking",
}


_KEPT_SHORT = {
    2: "largely survives scaling",
    1: "partly survives scaling",
    0: "is reshuffled by scaling (no rank agreement detected)",
    -1: "is partly reversed by scaling",
}


CHANGED_WORDS = {-1: "lowered", 1: "raised", 0: "did not detectably change"}


_FOLLOWS_WORDS = {
    1: "follows its miscalibration more than its accuracy",
    -1: "follows its accuracy more than its miscalibration",
    0: "cannot be said to follow its miscalibration or its accuracy more",
}


_KIND_WORDS = {1: "mostly overconfident", -1: "mostly underconfident", 0: "neither kind dominates"}


_SHIFTED_WORDS = {1: "above 1", -1: "below 1", 0: "not distinguishable from 1"}


_TRACKS_WORDS = {1: "grows with", -1: "shrinks with", 0: "shows no detectable relation to"}


_VERSUS_WORDS = {
    -1: "better than temperature scaling",
    1: "worse than temperature scaling",
    0: "not distinguishable from temperature scaling",
}


def ci_words(row: Mapping[str, Any], key: str, decimals: int = 2, *, low: str = "", high: str = "",
           scale: float = 1.0, signed: bool = True) -> str:
    """``row[key]`` with its interval (``{key}_low``/``{key}_high`` unless named) in words."""
    from calstudy import report

    ends = (row[low or f"{key}_low"], row[high or f"{key}_high"])
    return report.ci(scale * row[key], *(scale * e for e in ends), decimals, signed=signed)


def share_words(row: Mapping[str, Any], key: str) -> str:
    """A Wilson share of networks in words: ``97 [92, 99] %``."""
    return ci_words(row, key, 0, scale=100, signed=False) + " %"


def scaling_effect_sentences(effect: pd.DataFrame, *, metric: str = "ECE") -> list[str]:
    """:func:`scaling_effect`'s table in words, one sentence per group.

    Parameters
    ----------
    effect : DataFrame
        :func:`scaling_effect`'s output.
    metric : str, default="ECE"
        How the sentences name the metric.

    Returns
    -------
    list of str
        E.g. "**TSS · cifar10** (n = 122): τ(pre, post) = +0.00 [-0.13, +0.14]: no rank
        agreement is detected (…). Network by network, scaling lowered ECE: median change
        -0.0098 [-0.0113, -0.0082] (Holm p < 1e-4); it fell for 97 [92, 99] % of the networks."
    """
    from calstudy import report

    check_columns(effect, ["group", "n", "tau", "kept", "change", "changed", "lowered"], "effect")
    return [
        f"**{r['group']}** (n = {r['n']:,}): τ(pre, post) = {ci_words(r, 'tau')}: "
        f"{KEPT_WORDS[r['kept']]}. Network by network, scaling {CHANGED_WORDS[r['changed']]} "
        f"{metric}: median change {ci_words(r, 'change', 4)} (Holm p "
        f"{report.pvalue(r['change_p_holm'])}); it fell for {share_words(r, 'lowered')} of the networks."
        for _, r in effect.iterrows()
    ]


def gain_driver_sentences(drivers: pd.DataFrame) -> list[str]:
    """:func:`gain_drivers`' table in words, one sentence per group.

    Returns
    -------
    list of str
        E.g. "**TSS · cifar10**: τ(pre, Δ) = -0.64 [-0.70, -0.57], τ(acc, Δ) = -0.15 [-0.27,
        -0.01], difference +0.49 [+0.35, +0.66] (p 0.004): how much a network gains follows its
        miscalibration more than its accuracy."
    """
    from calstudy import report

    check_columns(drivers, ["group", "tau_pre", "tau_acc", "gap", "gap_p", "follows"], "drivers")
    return [
        f"**{r['group']}**: τ(pre, Δ) = {ci_words(r, 'tau_pre')}, τ(acc, Δ) = "
        f"{ci_words(r, 'tau_acc')}, difference {ci_words(r, 'gap')} (p {report.pvalue(r['gap_p'])}): "
        f"how much a network gains {_FOLLOWS_WORDS[r['follows']]}."
        for _, r in drivers.iterrows()
    ]


def temperature_sentences(temperatures: pd.DataFrame, *, against: str) -> list[str]:
    """:func:`temperature_summary`'s table in words, one sentence per group.

    Parameters
    ----------
    temperatures : DataFrame
        :func:`temperature_summary`'s output.
    against : str
        How the sentences name the column :math:`|\\log T|` was compared with.

    Returns
    -------
    list of str
        E.g. "**TSS · cifar10**: T > 1 for 100 [97, 100] % of the networks, mostly
        overconfident; median T 1.094, median T − 1 = +0.094 [+0.092, +0.098], above 1 (Wilcoxon
        p < 1e-4); the size of the correction grows with pre_ECE_15: τ(``|log T|``, pre_ECE_15) =
        +0.53 [+0.44, +0.62]."
    """
    from calstudy import report

    check_columns(temperatures, ["group", "over", "kind", "median_t", "shift", "shifted",
                                  "shift_p", "tau", "tracks"], "temperatures")
    return [
        f"**{r['group']}**: T > 1 for {share_words(r, 'over')} of the networks, "
        f"{_KIND_WORDS[r['kind']]}; median T {report.fixed(r['median_t'], 3, signed=False)}, "
        f"median T − 1 = {ci_words(r, 'shift', 3)}, {_SHIFTED_WORDS[r['shifted']]} (Wilcoxon p "
        f"{report.pvalue(r['shift_p'])}); the size of the correction "
        f"{_TRACKS_WORDS[r['tracks']]} {against}: τ(|log T|, {against}) = {ci_words(r, 'tau')}."
        for _, r in temperatures.iterrows()
    ]


def posthoc_sentences(tests: pd.DataFrame) -> list[str]:
    """:func:`posthoc_tests`' verdicts in words, one sentence per method and score.

    Returns
    -------
    list of str
        E.g. "vs on NLL: better than temperature scaling in TSS · cifar10 (median difference
        -0.0013 [-0.0023, -0.0008], Holm p < 1e-4, beats it on 70 [61, 77] % of the networks)".
    """
    from calstudy import report

    check_columns(tests, ["group", "method", "score", "median_diff", "low", "high", "p_holm",
                           "beats", "versus"], "tests")
    sentences = []
    for (method, score), rows in tests.groupby(["method", "score"], sort=False):
        labels = [
            f"{r['group']} (median difference "
            f"{ci_words(r, 'median_diff', 4, low='low', high='high')}, Holm p "
            f"{report.pvalue(r['p_holm'])}, beats it on {share_words(r, 'beats')} of the networks)"
            for _, r in rows.iterrows()
        ]
        phrases = verdict_groups(labels, rows["versus"], _VERSUS_WORDS)
        sentences.append(f"`{method}` on {score}: {'; '.join(phrases)}.")
    return sentences


def scaling_summary(
    effect: pd.DataFrame,
    drivers: pd.DataFrame,
    temperatures: pd.DataFrame,
    tests: pd.DataFrame,
    *,
    metric: str = "ECE",
) -> list[str]:
    """The RQ iv findings of a run, one line per question, naming the groups of each verdict.

    Parameters
    ----------
    effect, drivers, temperatures, tests : DataFrame
        Outputs of :func:`scaling_effect`, :func:`gain_drivers`, :func:`temperature_summary`
        and :func:`posthoc_tests` (the last two may be empty).
    metric : str, default="ECE"
        How the lines name the metric.

    Returns
    -------
    list of str
    """

    def groups(table: pd.DataFrame, verdict: str, words: Mapping[int, str]) -> str:
        return "; ".join(verdict_groups(table["group"], table[verdict], words))

    lines = [
        f"The {metric} ranking {groups(effect, 'kept', _KEPT_SHORT)}.",
        "Network by network, scaling "
        + groups(effect, "changed", {k: f"{v} {metric}" for k, v in CHANGED_WORDS.items()}) + "."
        if len(effect) else f"No group has enough networks to compare {metric} before and after.",
        f"How much a network gains {groups(drivers, 'follows', _FOLLOWS_WORDS)}.",
        f"Fitted temperatures: {groups(temperatures, 'kind', _KIND_WORDS)}."
        if len(temperatures) else "Fitted temperatures: none in this store.",
    ]
    for (method, score), rows in tests.groupby(["method", "score"], sort=False):
        lines.append(f"`{method}` on {score}: {groups(rows, 'versus', _VERSUS_WORDS)}.")
    if tests.empty:
        lines.append("Other post-hoc methods: none in this store.")
    return lines


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

    For every paired table of :func:`pair_datasets` and every metric, τ-b between
    ``<metric>_a`` and ``<metric>_b`` with a bootstrap interval (:func:`kendall_ci`): over all
    pairs, then over the ``n`` pairs MOST accurate on dataset ``a`` (:func:`top_n` on
    ``<by>_a``) for each ``n`` in ``top_ns`` smaller than the number of pairs. The selection
    looks at dataset ``a`` only, so it is not conditioned on the outcome on ``b``. A metric with
    fewer than 3 complete pairs in a table is left out of it. ``p_holm`` is Holm-corrected over
    the whole table.

    Parameters
    ----------
    pairs : mapping of (space, a, b) to DataFrame
        Output of :func:`pair_datasets`.
    metrics : sequence of str
        Metric columns (without suffix).
    top_ns : sequence of int, default=()
        Sizes of the top-N selections.
    by : str, default="acc"
        Ranking column of the top-N selections (without suffix).
    n_boot, level, seed
        As in :func:`kendall_ci`.

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

    For every paired table of :func:`pair_datasets` and every metric other than ``reference``,
    the difference of the two cross-dataset τ-b, :math:`\tau(m_a, m_b) - \tau(r_a, r_b)`, over
    the same networks, with the paired bootstrap of :func:`tau_difference` (whole networks are
    resampled, so the dependence of the two τ is kept). ``p_holm`` is Holm-corrected over the
    table. A metric with fewer than 3 networks complete in all four columns is left out.

    Parameters
    ----------
    pairs : mapping of (space, a, b) to DataFrame
        Output of :func:`pair_datasets`, carrying ``reference`` too.
    metrics : sequence of str
        Metric columns (without suffix); ``reference`` itself is skipped.
    reference : str, default="acc"
        The yardstick column (accuracy: how well rankings transfer at all).
    n_boot, level, seed
        As in :func:`tau_difference`.

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


def position_of(value: object, low: object, high: object) -> str:
    """Where a value lies relative to an interval: ``"above"``, ``"inside"`` or ``"below"``.

    Used to place a published number (given without an interval) beside ours; ``"—"`` when
    any of the three is missing.

    Examples
    --------
    >>> position_of(0.36, 0.01, 0.2), position_of(0.1, 0.01, 0.2), position_of(-1, 0, 1)
    ('above', 'inside', 'below')
    """
    try:
        v, lo, hi = float(value), float(low), float(high)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    if np.isnan([v, lo, hi]).any():
        return "—"
    return "above" if v > hi else "below" if v < lo else "inside"


# RQ i, in words: the transfer tables as sentences (calstudy.report's formats), so that the
# chapter run on any store states that store's findings.


def dataset_title(name: str) -> str:
    """A dataset's display name: ``dataset_title("cifar10") == "CIFAR-10"``; unknown names as is."""
    from calstudy.data import DATASETS

    return DATASETS[name].title if name in DATASETS else str(name)


def pair_name(key: Sequence[str]) -> str:
    """``("tss", "cifar10", "cifar100")`` → ``"TSS, CIFAR-10 ↔ CIFAR-100"``."""
    space, a, b = key
    return f"{str(space).upper()}, {dataset_title(a)} ↔ {dataset_title(b)}"


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
            f"Holm ({report.join(moving)})" + (f"; {acc}" if acc else "")
            + f"; {int((cal['versus'] == 'worse').sum())} transfer significantly worse than "
            "accuracy."
        )  # fmt: skip
    said = [f"**{pair_name(key)}** ({report.plural(int(v['n'].max()), 'network')} on both)."]
    if acc:
        said.append(acc[0].upper() + acc[1:] + ".")
    for verdict in ("transfers", "reverses", "no detectable transfer"):
        names = cal.index[cal["transfer"] == verdict]
        if len(names):
            said.append(f"{verdict.capitalize()}: {report.join(names)}.")
    if len(cal):
        big = cal["tau"].abs().idxmax()
        said.append(f"Largest |τ| of a calibration metric: {big}, {report.tau(cal.loc[big])}.")
    words = {"worse": "below", "no different": "indistinguishable from", "better": "above"}
    for verdict, word in words.items():
        names = cal.index[cal["versus"] == verdict]
        if len(names):
            said.append(f"τ {word} accuracy's: {report.join(names)}.")
    return " ".join(said)


def population_sentence(curve: pd.DataFrame, *, paper: tuple[float, float] | None = None) -> str:
    """A τ-against-N curve of :func:`selection_curve` in words (RQ i, ii).

    Parameters
    ----------
    curve : DataFrame
        Output of :func:`selection_curve` for one pair of columns.
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


def paper_float(value: object) -> float:
    try:
        return float(str(value).replace("−", "-"))
    except ValueError:
        return float("nan")


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
        Columns ``quantity, paper, calstudy, low, high, position`` (where the paper's value
        lies relative to this store's interval: :func:`position_of`), one row per pair and
        selection; ``paper`` is NaN for a pair the paper did not report.
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


# ================================================================================================
# RQ v: calibration and accuracy (the most accurate models and the rest, the shape of the
# relation, what temperature scaling changes)
# ================================================================================================


def label_top(
    df: pd.DataFrame,
    *,
    fraction: float = 0.2,
    n: int = 0,
    acc: str = "acc",
    by: Sequence[str] = GROUP_KEYS,
    min_group: int = 10,
) -> pd.DataFrame:
    r"""The rows of each large enough group, marked ``top`` where they are its most accurate.

    Per group of ``by`` the top models are the :math:`k` most accurate (:func:`top_n`, highest
    ``acc`` first: not the paper's ``sort_values('acc').head(N)``), with :math:`k = n` when
    ``n > 0``, else :math:`k = \lceil f m \rceil` of the group's :math:`m` models, and
    :math:`3 \le k \le m`. Groups with fewer than ``max(min_group, 3)`` models are left out and
    listed in ``attrs["skipped"]``.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset; rows without ``acc`` are dropped.
    fraction : float, default=0.2
        Share of each group called "top", in (0, 1]; used when ``n`` is 0.
    n : int, default=0
        Number of top models per group, when positive.
    acc : str, default="acc"
        Accuracy column.
    by : sequence of str, default=("space", "dataset")
        Group columns.
    min_group : int, default=10
        Smallest group analysed.

    Returns
    -------
    DataFrame
        The kept rows (original index) with a column ``group`` (:func:`group_label`) and a
        boolean column ``top``.

    Examples
    --------
    >>> d = pd.DataFrame({"space": "tss", "dataset": "a", "acc": np.arange(10) / 10})
    >>> label_top(d, fraction=0.3, min_group=5)["top"].tolist()
    [False, False, False, False, False, False, False, True, True, True]
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"Expected `fraction` to be in (0, 1], got {fraction}.")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"Expected `n` to be a non-negative integer, got {n!r}.")
    parts, skipped = group_parts(df, by, [acc], max(min_group, 3))
    frames = []
    for _, part in parts:
        k = int(n) if n > 0 else math.ceil(fraction * len(part) - 1e-9)
        best = top_n(part, min(max(k, 3), len(part)), by=acc).index
        frames.append(part.assign(top=part.index.isin(best)))
    out = pd.concat(frames) if frames else df.iloc[0:0].assign(top=False)
    out["top"] = out["top"].astype(bool)
    out["group"] = group_label(out, by) if len(out) else pd.Series(dtype=str)
    out.attrs["skipped"] = skipped
    return out


def accuracy_taus(
    labelled: pd.DataFrame,
    columns: Sequence[str],
    *,
    acc: str = "acc",
    by: Sequence[str] = GROUP_KEYS,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """τ-b between accuracy and each column, for all models, the top models and the rest.

    A negative τ means that more accurate models tend to have a *lower* value (better
    calibrated, for an error). The p-values are Holm-corrected over the whole table; a subset
    with fewer than 3 models or a constant column is left out.

    Parameters
    ----------
    labelled : DataFrame
        :func:`label_top`'s output.
    columns : sequence of str
        Columns correlated with accuracy (e.g. ``pre_ECE_15``, ``post_ECE_15``).
    acc : str, default="acc"
        Accuracy column.
    by : sequence of str
        Group columns.
    n_boot, level, seed
        As in :func:`kendall_ci`.
    alpha : float, default=0.05
        Significance level of ``significant`` and ``relation``.

    Returns
    -------
    DataFrame
        Columns ``*by, group, models`` (``"all"``, ``"top"``, ``"rest"``), ``metric, tau, low,
        high, p, n, p_holm, significant, relation`` (+1: the column rises with accuracy, -1: it
        falls, 0: no relation detected after Holm).
    """
    by = list(by)
    check_columns(labelled, [*by, "top", acc, *columns], "labelled")
    rows = []
    for key, part in split_groups(labelled, by):
        for models, rows_of in (("all", part), ("top", part[part["top"]]),
                                ("rest", part[~part["top"]])):  # fmt: skip
            for column in columns:
                pair = rows_of[[acc, column]].dropna()
                if len(pair) < 3 or pair[acc].nunique() < 2 or pair[column].nunique() < 2:
                    continue
                r = kendall_ci(pair[acc], pair[column], n_boot=n_boot, level=level, seed=seed)
                rows.append({**key, "models": models, "metric": column, "tau": r.tau,
                             "low": r.low, "high": r.high, "p": r.p_value, "n": r.n})
    table = group_table(rows, by, ["models", "metric", "tau", "low", "high", "p", "n"], [])
    table["p_holm"] = correct_pvalues(table["p"], method="holm")
    table["significant"] = table["p_holm"] < alpha
    table["relation"] = (np.sign(table["tau"]).fillna(0) * table["significant"]).astype(int)
    return table


def top_rest_contrast(
    labelled: pd.DataFrame,
    column: str,
    *,
    acc: str = "acc",
    by: Sequence[str] = GROUP_KEYS,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""Is the relation of ``column`` with accuracy monotone? The top models against the rest.

    Per group: where the LOWESS curve of ``column`` against accuracy (:func:`fit_trend`) peaks,
    and whether inside the accuracy range (not within its outer 5 % of grid points at either
    end: a rise, then a fall); whether τ(acc, column) has opposite signs among the top models
    and the rest; and :math:`\tau_\text{top} - \tau_\text{rest}` with a bootstrap interval
    that resamples the two independent subsets on their own (:func:`tau_difference`) and its
    p-value Holm-corrected over the groups.

    Parameters
    ----------
    labelled : DataFrame
        :func:`label_top`'s output.
    column : str
        The calibration column.
    acc, by, n_boot, level, seed, alpha
        As in :func:`accuracy_taus`.

    Returns
    -------
    DataFrame
        One row per group: ``*by, group, peak_acc, peak_inside, sign_differs, tau_top,
        tau_rest, diff, low, high, p, p_holm, differs`` (:func:`interval_sign` of the
        difference with its Holm p).
    """
    by = list(by)
    check_columns(labelled, [*by, "top", acc, column], "labelled")
    rows = []
    for key, part in split_groups(labelled, by):
        part = part.dropna(subset=[acc, column])
        top, rest = part[part["top"]], part[~part["top"]]
        row: dict[str, Any] = {**key, "peak_acc": np.nan, "peak_inside": False}
        if len(part) >= 3:
            smooth = fit_trend(part, acc, column, kind="lowess")
            peak = int(np.argmax(smooth.fit))
            row |= {"peak_acc": float(smooth.x[peak]),
                    "peak_inside": bool(0.05 * len(smooth.x) < peak < 0.95 * len(smooth.x))}
        taus = {name: kendall_tau(s[acc], s[column]) if len(s) >= 3 else np.nan
                for name, s in (("top", top), ("rest", rest))}  # fmt: skip
        row |= {"tau_top": taus["top"], "tau_rest": taus["rest"],
                "sign_differs": bool(np.sign(taus["top"]) * np.sign(taus["rest"]) < 0)}
        d = (tau_difference(top[acc], top[column], rest[acc], rest[column], paired=False,
                            n_boot=n_boot, level=level, seed=seed)
             if len(top) >= 3 and len(rest) >= 3 else None)  # fmt: skip
        row |= ({"diff": d.estimate, "low": d.low, "high": d.high, "p": d.p_value} if d else
                {"diff": np.nan, "low": np.nan, "high": np.nan, "p": np.nan})  # fmt: skip
        rows.append(row)
    columns = ["peak_acc", "peak_inside", "sign_differs", "tau_top", "tau_rest", "diff", "low",
               "high", "p"]
    table = group_table(rows, by, columns, [])
    table["p_holm"] = correct_pvalues(table["p"], method="holm")
    table["differs"] = interval_sign(table["low"], table["high"], table["p_holm"], alpha=alpha)
    return table


# RQ v, in words.


_RELATION_WORDS = {
    1: "it rises with accuracy",
    -1: "it falls as accuracy rises",
    0: "no relation is detected",
}


def accuracy_tau_sentences(taus: pd.DataFrame, *, models: str = "all") -> list[str]:
    """:func:`accuracy_taus`' rows of one subset in words, one sentence per group and metric.

    Parameters
    ----------
    taus : DataFrame
        :func:`accuracy_taus`' output.
    models : {"all", "top", "rest"}, default="all"
        The subset stated.

    Returns
    -------
    list of str
        E.g. "**TSS · cifar10**, post_ECE_15: τ(acc, ·) = -0.29 [-0.41, -0.18], n = 122, Holm p
        < 1e-4: it falls as accuracy rises."
    """
    from calstudy import report

    check_columns(taus, ["group", "models", "metric", "tau", "low", "high", "n", "p_holm",
                          "relation"], "taus")
    rows = taus[taus["models"] == models]
    if rows.empty:
        return [f"No group has enough models ({models}) for τ."]
    return [
        f"**{r['group']}**, `{r['metric']}`: {report.tau(r, symbol='τ(acc, ·)')}, Holm p "
        f"{report.pvalue(r['p_holm'])}: {_RELATION_WORDS[r['relation']]}."
        for _, r in rows.iterrows()
    ]


def top_rest_sentences(shape: pd.DataFrame) -> list[str]:
    """:func:`top_rest_contrast`'s table in words, one sentence per group.

    Returns
    -------
    list of str
        E.g. "**SSS · fashion-mnist**: τ among the top models +0.07, among the rest -0.54;
        difference +0.61 [+0.26, +1.17] (Holm p 0.032): the relation changes between the top
        models and the rest; the LOWESS curve peaks at the end of the accuracy range (80 %)."
    """
    from calstudy import report

    check_columns(shape, ["group", "tau_top", "tau_rest", "diff", "p_holm", "differs",
                           "peak_acc", "peak_inside"], "shape")
    if shape.empty:
        return ["No group has enough models to compare its top models with the rest."]
    sentences = []
    for _, r in shape.iterrows():
        change = ("the relation changes between the top models and the rest" if r["differs"]
                  else "a change between the top models and the rest is not established")
        peak = ("inside the accuracy range (a rise, then a fall)" if r["peak_inside"]
                else "at an end of the accuracy range")
        sentences.append(
            f"**{r['group']}**: τ among the top models {report.fixed(r['tau_top'])}, among the "
            f"rest {report.fixed(r['tau_rest'])}; difference "
            f"{ci_words(r, 'diff', low='low', high='high')} (Holm p {report.pvalue(r['p_holm'])}): "
            f"{change}; the LOWESS curve peaks {peak}, at {report.pct(r['peak_acc'])} accuracy."
        )
    return sentences


def scaling_gain_sentences(
    effect: pd.DataFrame, temperatures: pd.DataFrame, *, t_tol: float = 0.05, metric: str = "ECE"
) -> list[str]:
    """What temperature scaling changes, per group, in words (RQ v).

    Parameters
    ----------
    effect : DataFrame
        :func:`scaling_effect`'s output.
    temperatures : DataFrame
        :func:`temperature_summary`'s output with ``against`` the drop in the metric
        (pre − post); may be empty (no temperatures in the store).
    t_tol : float, default=0.05
        A group counts as miscalibrated before scaling when its median :math:`|T - 1|`
        exceeds this.
    metric : str, default="ECE"
        How the sentences name the metric.

    Returns
    -------
    list of str
        E.g. "**TSS · cifar10**: median T 1.094 (median ``|T − 1|`` 0.094, above 0.05:
        miscalibrated before scaling); scaling lowered ECE network by network: median change
        -0.98 [-1.13, -0.82] pp (Holm p < 1e-4), lower for 97 [92, 99] % of the models; the
        further T is from 1, the larger the drop: τ(``|log T|``, drop) = +0.43 [+0.33, +0.53]."
    """
    from calstudy import report

    check_columns(effect, ["group", "change", "change_p_holm", "changed", "lowered"], "effect")
    if effect.empty:
        return ["No group has enough models to compare before and after scaling."]
    by_group = temperatures.set_index("group") if len(temperatures) else None
    sentences = []
    for _, r in effect.iterrows():
        text = f"**{r['group']}**: "
        if by_group is not None and r["group"] in by_group.index:
            t = by_group.loc[r["group"]]
            state = ("miscalibrated before scaling" if t["median_abs_shift"] > t_tol
                     else "close to calibrated before scaling")
            text += (f"median T {report.fixed(t['median_t'], 3, signed=False)} (median |T − 1| "
                     f"{report.fixed(t['median_abs_shift'], 3, signed=False)}, "
                     f"{'above' if t['median_abs_shift'] > t_tol else 'within'} {t_tol}: "
                     f"{state}); ")
        text += (f"scaling {CHANGED_WORDS[r['changed']]} {metric} network by network: median "
                 "change "
                 f"{ci_words(r, 'change', scale=100)} pp (Holm p "
                 f"{report.pvalue(r['change_p_holm'])}), lower for {share_words(r, 'lowered')} of the "
                 "models")
        if by_group is not None and r["group"] in by_group.index:
            t = by_group.loc[r["group"]]
            text += ("; the further T is from 1, " + {
                1: "the larger the drop", -1: "the smaller the drop",
                0: "no larger drop is detected"}[t["tracks"]]
                + f": τ(|log T|, drop) = {ci_words(t, 'tau')}")  # fmt: skip
        sentences.append(text + ".")
    return sentences


def accuracy_paper_sentences(
    labelled: pd.DataFrame,
    taus: pd.DataFrame,
    shape: pd.DataFrame,
    column: str,
    *,
    paper_range_value: tuple[float, float],
    reference: str,
    threshold: float = 0.9,
    acc: str = "acc",
) -> list[str]:
    """The paper's RQ v findings beside this store's reference group, in words.

    The paper found no monotone relation over all CIFAR-10 TSS models, and that those above
    90 % accuracy have ECE between 3.8 % and 6.8 %, falling as accuracy rises. Stated here: the
    range of ``column`` over the reference group's models at or above ``threshold`` accuracy,
    and where the paper's range lies against it (:func:`range_position`), or that no model
    reaches the threshold; the range over the group's top models and the direction of
    τ(acc, column) among them; and, over all the group's models, τ(acc, column), whether the
    top models and the rest differ and where the LOWESS curve peaks.

    Parameters
    ----------
    labelled : DataFrame
        :func:`label_top`'s output.
    taus : DataFrame
        :func:`accuracy_taus`' output.
    shape : DataFrame
        :func:`top_rest_contrast`'s output for ``column``.
    column : str
        The calibration column (e.g. ``pre_ECE_15``).
    paper_range_value : (float, float)
        The paper's range as fractions (:func:`paper_range` of its quote).
    reference : str
        The group compared (:func:`group_label`), e.g. ``"TSS · cifar10"``.
    threshold : float, default=0.9
        The paper's accuracy threshold.
    acc : str, default="acc"
        Accuracy column.

    Returns
    -------
    list of str
    """
    from calstudy import report

    part = labelled[labelled["group"] == reference].dropna(subset=[acc, column])
    if part.empty:
        return [f"This store has no group {reference!r} with enough models to set beside the "
                "paper."]
    paper = f"{report.pct(paper_range_value[0])} – {report.pct(paper_range_value[1])}"
    above = part[part[acc] >= threshold]
    if len(above) >= 3:
        low, high = above[column].min(), above[column].max()
        where = range_position(paper_range_value, low, high)
        first = (f"In {reference}, {report.plural(len(above), 'model')} reach "
                 f"{report.pct(threshold, 0)} accuracy; their `{column}` ranges (min – max) over "
                 f"{report.pct(low)} – {report.pct(high)}, and the paper's {paper} "
                 f"{position_phrase(where)} that range.")
    else:
        first = (f"In {reference}, {report.plural(len(above), 'model')} reach "
                 f"{report.pct(threshold, 0)} accuracy (the best: {report.pct(part[acc].max())}), "
                 f"too few to set beside the paper's range of {paper} above that accuracy.")
    top = part[part["top"]]
    tau = taus[(taus["group"] == reference) & (taus["models"] == "top")
               & (taus["metric"] == column)]  # fmt: skip
    second = (f"The group's {report.plural(len(top), 'top model')} (accuracy ≥ "
              f"{report.pct(top[acc].min())}) range (min – max) over "
              f"{report.pct(top[column].min())} – "
              f"{report.pct(top[column].max())}")
    if len(tau):
        r = tau.iloc[0]
        verdict = {1: "rises with accuracy", -1: "falls as accuracy rises, as in the paper",
                   0: "shows no detectable relation to accuracy (the paper: it falls)"}
        second += (f"; among them `{column}` {verdict[r['relation']]}: "
                   f"{report.tau(r, symbol='τ(acc, ·)')}, Holm p {report.pvalue(r['p_holm'])}")
    sentences = [first, second + "."]
    every = taus[(taus["group"] == reference) & (taus["models"] == "all")
                 & (taus["metric"] == column)]  # fmt: skip
    bend = shape[shape["group"] == reference]
    if len(every) and len(bend):
        r, b = every.iloc[0], bend.iloc[0]
        sentences.append(
            f"Over all its models, {report.tau(r, symbol='τ(acc, ·)')} (Holm p "
            f"{report.pvalue(r['p_holm'])}): {_RELATION_WORDS[r['relation']]}; a change of the "
            f"relation between the top models and the rest is "
            f"{'shown' if b['differs'] else 'not shown'}, and the LOWESS curve peaks "
            f"{'inside the accuracy range' if b['peak_inside'] else 'at an end of it'} (the "
            "paper: no monotone relation over all models)."
        )
    return sentences


def accuracy_summary(
    taus: pd.DataFrame,
    shape: pd.DataFrame,
    effect: pd.DataFrame,
    *,
    pre: str,
    post: str,
    metric: str = "ECE",
) -> list[str]:
    """The RQ v findings of a run, one line per question, naming the groups of each verdict.

    Parameters
    ----------
    taus, shape, effect : DataFrame
        Outputs of :func:`accuracy_taus`, :func:`top_rest_contrast` and :func:`scaling_effect`.
    pre, post : str
        The metric's columns before and after temperature scaling.
    metric : str, default="ECE"
        How the lines name the metric.

    Returns
    -------
    list of str
    """
    words = {1: "rises with accuracy", -1: "falls as accuracy rises", 0: "shows no relation"}

    def line(models: str, column: str, lead: str) -> str:
        rows = taus[(taus["models"] == models) & (taus["metric"] == column)]
        if rows.empty:
            return f"{lead}: no group has enough models."
        return f"{lead}, `{column}` " + "; ".join(
            verdict_groups(rows["group"], rows["relation"], words)) + " (Holm-corrected)."

    lines = [
        line("all", pre, "Before temperature scaling, over all models"),
        line("all", post, "After temperature scaling, over all models"),
        line("top", pre, "Among the most accurate models, before scaling"),
    ]
    if len(shape):
        lines.append("Between the top models and the rest, τ(acc, ·) " + "; ".join(
            verdict_groups(shape["group"], shape["differs"] != 0,
                           {True: "differs", False: "is not shown to differ"})) + ".")
    if len(effect):
        lines.append("Temperature scaling " + "; ".join(verdict_groups(
            effect["group"], effect["changed"],
            {k: f"{v} {metric}" for k, v in CHANGED_WORDS.items()})) + ", network by network.")
    return lines


# ================================================================================================
# RQ vi: the number of bins (growth of binned estimates, the calibrated floor, rank stability)
# ================================================================================================


#: Binned estimator families of the store (columns ``{pre,post}_{family}_{n_bins}``).
BINNED_FAMILIES: tuple[str, ...] = ("ECE", "ECE_em", "cwCE", "cwCE_em", "MCE")


#: Full test-set sizes, for stores that do not record ``n_eval`` (the paper's CSVs): the
#: post-scaling columns are then taken to be evaluated on 80 % of it.
_TEST_SET_SIZES = {"cifar10": 10_000, "cifar100": 10_000, "imagenet16-120": 6_000,
                   "fashion-mnist": 10_000, "svhn": 26_032}  # fmt: skip


def _binned(df: pd.DataFrame, metric: str, bin_counts: Sequence[int]) -> dict[str, list[str]]:
    """The ``pre``/``post`` columns of a binned family at each bin count, checked."""
    if metric not in BINNED_FAMILIES:
        raise ValueError(f"Expected `metric` to be one of {BINNED_FAMILIES}, got {metric!r}.")
    if len(bin_counts) < 2:
        raise ValueError(f"Expected at least 2 bin counts, got {list(bin_counts)}.")
    columns = {when: [f"{when}_{metric}_{b}" for b in bin_counts] for when in ("pre", "post")}
    check_columns(df, columns["pre"] + columns["post"])
    return columns


def calibrated_floors(
    df: pd.DataFrame,
    metric: str,
    bin_counts: Sequence[int],
    *,
    by: Sequence[str] = GROUP_KEYS,
    n_sim: int = 5,
    seed: int = 0,
    min_rows: int = 3,
) -> pd.DataFrame:
    """The finite-sample floor of a binned estimator for each group (:func:`calibrated_floor`).

    Each group's floor is simulated with its dataset's number of classes, its median accuracy
    and the number of test images its ``post_`` columns were evaluated on: the median of
    ``n_eval`` where the store records it, else 80 % of the dataset's full test set (the
    paper's held-out protocol; ``n_eval_assumed`` is then True). Groups of a dataset whose
    number of classes is unknown, or with fewer than ``min_rows`` models, are left out and
    listed in ``attrs["skipped"]``.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset with ``acc`` and, where known, ``n_eval``.
    metric : str
        A binned family of :data:`BINNED_FAMILIES`.
    bin_counts : sequence of int
        Bin counts.
    by : sequence of str, default=("space", "dataset")
        Group columns; must include ``dataset``.
    n_sim, seed : int
        As in :func:`calibrated_floor`.
    min_rows : int, default=3
        Smallest group.

    Returns
    -------
    DataFrame
        Long table: ``*by, group, n_eval, n_eval_assumed, n_classes, acc, n_bins, floor``.
    """
    from calstudy.data import DATASETS

    if metric not in BINNED_FAMILIES:
        raise ValueError(f"Expected `metric` to be one of {BINNED_FAMILIES}, got {metric!r}.")
    parts, skipped = group_parts(df, by, ["acc"], min_rows)
    rows = []
    for key, part in parts:
        name = key["dataset"]
        recorded = part["n_eval"].dropna() if "n_eval" in part else pd.Series(dtype=float)
        assumed = recorded.empty
        n_eval = np.nan if assumed else float(recorded.astype(float).median())
        if name not in DATASETS or (assumed and name not in _TEST_SET_SIZES):
            skipped.append({**key, "n": len(part)})
            continue
        n_eval = int(0.8 * _TEST_SET_SIZES[name]) if assumed else int(n_eval)
        n_classes = len(DATASETS[name].classes)
        acc = float(part["acc"].median())
        acc = min(max(acc, 1 / n_classes + 1e-3), 1 - 1e-3)  # calibrated_floor's open range
        floor = calibrated_floor(n_eval, n_classes, acc, bin_counts=bin_counts, metric=metric,
                                 n_sim=n_sim, seed=seed)  # fmt: skip
        for b, value in floor.items():
            rows.append({**key, "n_eval": n_eval, "n_eval_assumed": assumed,
                         "n_classes": n_classes, "acc": acc, "n_bins": int(b),
                         "floor": float(value)})  # fmt: skip
    columns = ["n_eval", "n_eval_assumed", "n_classes", "acc", "n_bins", "floor"]
    return group_table(rows, by, columns, skipped)


def bin_count_medians(
    df: pd.DataFrame,
    metric: str,
    bin_counts: Sequence[int],
    *,
    by: Sequence[str] = GROUP_KEYS,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    min_rows: int = 3,
) -> pd.DataFrame:
    """The median over models of a binned family at each bin count, before and after scaling.

    Per group, ``when`` (``pre``/``post``) and bin count: the median over the group's models,
    its percentile-bootstrap interval (resampling models), the quartiles, and the number of
    models.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset with columns ``{pre,post}_{metric}_{n_bins}``.
    metric : str
        A binned family of :data:`BINNED_FAMILIES`.
    bin_counts : sequence of int
        At least two bin counts.
    by, n_boot, level, seed, min_rows
        As in :func:`scaling_effect`.

    Returns
    -------
    DataFrame
        Long table: ``*by, group, when, n_bins, median, low, high, q25, q75, n``.
    """
    columns = _binned(df, metric, bin_counts)
    n_boot = check_positive_int(n_boot, "n_boot")
    check_level(level)
    parts, skipped = group_parts(df, by, columns["pre"] + columns["post"], min_rows)
    rows = []
    for key, part in parts:
        for when, names in columns.items():
            for b, column in zip(bin_counts, names, strict=True):
                values = part[column].to_numpy(float)
                boot = resampled_statistic(values, np.median, n_boot, np.random.default_rng(seed))
                low, high = percentile_interval(boot, level)
                rows.append({**key, "when": when, "n_bins": int(b),
                             "median": float(np.median(values)), "low": low, "high": high,
                             "q25": float(np.quantile(values, 0.25)),
                             "q75": float(np.quantile(values, 0.75)), "n": len(values)})
    columns_out = ["when", "n_bins", "median", "low", "high", "q25", "q75", "n"]
    return group_table(rows, by, columns_out, skipped)


def floor_ratios(medians: pd.DataFrame, floors: pd.DataFrame) -> pd.DataFrame:
    """Each median of :func:`bin_count_medians` over the calibrated floor of its group.

    A ratio near 1 means the group's typical model is, by this estimator at this bin count,
    indistinguishable from a perfectly calibrated one: the estimate is mostly the estimator's
    own finite-sample bias. The interval is the median's, the simulated floor taken as fixed.

    Parameters
    ----------
    medians : DataFrame
        :func:`bin_count_medians`' output.
    floors : DataFrame
        :func:`calibrated_floors`' output.

    Returns
    -------
    DataFrame
        ``medians`` joined with ``floor`` on group and bin count (groups without a floor
        dropped), plus ``ratio, ratio_low, ratio_high``.
    """
    check_columns(medians, ["group", "n_bins", "median", "low", "high"], "medians")
    check_columns(floors, ["group", "n_bins", "floor"], "floors")
    out = medians.merge(floors[["group", "n_bins", "floor"]], on=["group", "n_bins"],
                        how="inner", validate="many_to_one")  # fmt: skip
    for name, column in (("ratio", "median"), ("ratio_low", "low"), ("ratio_high", "high")):
        out[name] = out[column] / out["floor"]
    return out


def bin_growth(
    df: pd.DataFrame,
    metric: str,
    bin_counts: Sequence[int],
    *,
    by: Sequence[str] = GROUP_KEYS,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    min_rows: int = 3,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""How much a binned estimate grows from the fewest to the most bins, before and after.

    Per group, the growth factor :math:`g = \operatorname{median}(m_{B_\max}) /
    \operatorname{median}(m_{B_\min})` before and after temperature scaling, and the
    difference :math:`g_\text{post} - g_\text{pre}` with a paired bootstrap over models
    (:func:`bootstrap_difference`); ``faster`` is :func:`interval_sign` of its interval (1:
    the estimate grows faster after scaling).

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    metric : str
        A binned family of :data:`BINNED_FAMILIES`.
    bin_counts : sequence of int
        The smallest and the largest are compared.
    by, n_boot, level, seed, min_rows, alpha
        As in :func:`scaling_effect`.

    Returns
    -------
    DataFrame
        One row per group: ``*by, group, n, growth_pre, growth_post, gap, gap_low, gap_high,
        gap_p, faster``.
    """
    _binned(df, metric, bin_counts)
    lo, hi = min(bin_counts), max(bin_counts)
    ends = {when: [f"{when}_{metric}_{lo}", f"{when}_{metric}_{hi}"] for when in ("pre", "post")}
    parts, skipped = group_parts(df, by, ends["pre"] + ends["post"], min_rows)

    def growth(frame: Any) -> float:
        return float(np.median(frame[:, 1]) / np.median(frame[:, 0]))

    rows = []
    for key, part in parts:
        pre, post = part[ends["pre"]].to_numpy(float), part[ends["post"]].to_numpy(float)
        r = bootstrap_difference(growth, post, pre, paired=True, n_boot=n_boot, level=level,
                                 seed=seed)  # fmt: skip
        rows.append({**key, "n": len(part), "growth_pre": growth(pre), "growth_post": growth(post),
                     "gap": r.estimate, "gap_low": r.low, "gap_high": r.high, "gap_p": r.p_value})
    columns = ["n", "growth_pre", "growth_post", "gap", "gap_low", "gap_high", "gap_p"]
    table = group_table(rows, by, columns, skipped)
    table["faster"] = interval_sign(table["gap_low"], table["gap_high"], alpha=alpha)
    return table


def bin_stability(
    df: pd.DataFrame,
    metric: str,
    bin_counts: Sequence[int],
    *,
    by: Sequence[str] = GROUP_KEYS,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    min_rows: int = 3,
    alpha: float = 0.05,
    max_boot_rows: int = 2000,
) -> pd.DataFrame:
    r"""Are models ranked alike at every bin count? τ-b over all pairs of bin counts, per group.

    Per group, before and after scaling: the smallest, median and largest τ-b between the
    family at two bin counts over all pairs (:func:`bin_count_stability`), and the difference
    of the median τ after minus before scaling with a paired bootstrap over models
    (:func:`bootstrap_difference`, :math:`\binom{k}{2}` τ per resample and condition);
    ``less_stable`` is 1 where its interval lies below 0 (ranks less stable after scaling),
    -1 above, 0 otherwise.

    The bootstrap costs :math:`2 \times` ``n_boot`` τ matrices per group. A group of more than
    ``max_boot_rows`` models (the paper's 15,625 or 32,768) is bootstrapped on a seeded random
    subsample of that many: the point estimates use every model, the interval is that of the
    subsample, wider than the full sample's would be (conservative). ``boot_rows`` says how
    many models were resampled.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    metric : str
        A binned family of :data:`BINNED_FAMILIES`.
    bin_counts : sequence of int
        At least two bin counts.
    by, n_boot, level, seed, min_rows, alpha
        As in :func:`scaling_effect`.
    max_boot_rows : int, default=2000
        Most models resampled by the bootstrap of the difference.

    Returns
    -------
    DataFrame
        One row per group: ``*by, group, n, boot_rows, min_pre, median_pre, max_pre, min_post,
        median_post, max_post, gap, gap_low, gap_high, gap_p, less_stable``.
    """
    columns = _binned(df, metric, bin_counts)
    parts, skipped = group_parts(df, by, columns["pre"] + columns["post"], min_rows)
    generic = [f"m_{b}" for b in bin_counts]

    def median_tau(frame: Any) -> float:
        return float(bin_count_stability(frame, "m", bin_counts)["tau"].median())

    max_boot_rows = check_positive_int(max_boot_rows, "max_boot_rows")
    rows = []
    for key, part in parts:
        frames = {when: part[names].set_axis(generic, axis=1) for when, names in columns.items()}
        boot_rows = min(len(part), max_boot_rows)
        row: dict[str, Any] = {**key, "n": len(part), "boot_rows": boot_rows}
        for when, frame in frames.items():
            taus = bin_count_stability(frame, "m", bin_counts)["tau"]
            row |= {f"min_{when}": float(taus.min()), f"median_{when}": float(taus.median()),
                    f"max_{when}": float(taus.max())}
        pick = np.sort(np.random.default_rng(seed).choice(len(part), boot_rows, replace=False))
        sub = {when: frame.iloc[pick] for when, frame in frames.items()}
        r = bootstrap_difference(median_tau, sub["post"], sub["pre"], paired=True,
                                 n_boot=n_boot, level=level, seed=seed)  # fmt: skip
        r = r if boot_rows == len(part) else DiffResult(
            median_tau(frames["post"]) - median_tau(frames["pre"]), r.low, r.high, r.p_value,
            len(part), len(part), r.test)  # fmt: skip
        rows.append(row | {"gap": r.estimate, "gap_low": r.low, "gap_high": r.high,
                           "gap_p": r.p_value})
    names = ["n", "boot_rows", "min_pre", "median_pre", "max_pre", "min_post", "median_post",
             "max_post", "gap", "gap_low", "gap_high", "gap_p"]
    table = group_table(rows, by, names, skipped)
    table["less_stable"] = -interval_sign(table["gap_low"], table["gap_high"], alpha=alpha)
    return table


def bin_pair_taus(
    df: pd.DataFrame,
    metric: str,
    pairs: Sequence[tuple[int, int]],
    *,
    by: Sequence[str] = GROUP_KEYS,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    min_rows: int = 3,
) -> pd.DataFrame:
    """τ-b between a binned family at two bin counts, with its interval, for chosen pairs.

    Per group, ``when`` and pair ``(a, b)``: :func:`kendall_ci` between
    ``{when}_{metric}_{a}`` and ``{when}_{metric}_{b}``, its p-value of τ = 0 Holm-corrected
    over the table.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    metric : str
        A binned family of :data:`BINNED_FAMILIES`.
    pairs : sequence of (int, int)
        Bin-count pairs.
    by, n_boot, level, seed, min_rows
        As in :func:`scaling_effect`.

    Returns
    -------
    DataFrame
        Long table: ``*by, group, when, bins_a, bins_b, tau, low, high, p, n, p_holm``.
    """
    counts = sorted({int(b) for pair in pairs for b in pair})
    columns = _binned(df, metric, counts)
    parts, skipped = group_parts(df, by, columns["pre"] + columns["post"], min_rows)
    rows = []
    for key, part in parts:
        for when in ("pre", "post"):
            for a, b in pairs:
                r = kendall_ci(part[f"{when}_{metric}_{a}"], part[f"{when}_{metric}_{b}"],
                               n_boot=n_boot, level=level, seed=seed)  # fmt: skip
                rows.append({**key, "when": when, "bins_a": int(a), "bins_b": int(b),
                             "tau": r.tau, "low": r.low, "high": r.high, "p": r.p_value,
                             "n": r.n})  # fmt: skip
    names = ["when", "bins_a", "bins_b", "tau", "low", "high", "p", "n"]
    table = group_table(rows, by, names, skipped)
    table["p_holm"] = correct_pvalues(table["p"], method="holm")
    return table


# RQ vi, in words.


def floor_sentences(floors: pd.DataFrame) -> list[str]:
    """:func:`calibrated_floors`' table in words, one sentence per group (smallest and largest
    bin count).

    Returns
    -------
    list of str
        E.g. "**TSS · cifar10**: 8,000 test images, 10 classes, median accuracy 60.7 %: a
        calibrated model's ECE is 1.11 % at 5 bins, 7.82 % at 500."
    """
    from calstudy import report

    if floors.empty:
        return ["No group has a simulated floor."]
    sentences = []
    for group, rows in floors.groupby("group", sort=False):
        first, last = rows.loc[rows["n_bins"].idxmin()], rows.loc[rows["n_bins"].idxmax()]
        size = f"{int(first['n_eval']):,} test images" + (
            " (not recorded by the store: 80 % of the test set assumed)"
            if first["n_eval_assumed"] else "")  # fmt: skip
        sentences.append(
            f"**{group}**: {size}, {first['n_classes']} classes, median accuracy "
            f"{report.pct(first['acc'])}: a calibrated model's estimate is "
            f"{report.pct(first['floor'], 2)} at {first['n_bins']} bins, "
            f"{report.pct(last['floor'], 2)} at {last['n_bins']}."
        )
    return sentences


def bin_growth_sentences(growth: pd.DataFrame, ratios: pd.DataFrame, *, metric: str) -> list[str]:
    """:func:`bin_growth` and :func:`floor_ratios` in words, one sentence per group.

    Parameters
    ----------
    growth : DataFrame
        :func:`bin_growth`'s output.
    ratios : DataFrame
        :func:`floor_ratios`' output (may lack a group: no floor).
    metric : str
        How the sentences name the family.

    Returns
    -------
    list of str
        E.g. "**TSS · cifar10**: median ECE grows × 3.08 from the fewest to the most bins
        before scaling and × 9.68 after; difference +6.60 [+5.57, +7.22] (p 0.004): it grows
        faster after scaling. Median over the calibrated floor at 5 bins: 2.05 before scaling,
        0.70 after; at 500 bins: 0.90 [0.89, 0.91] before, 0.96 [0.96, 0.98] after."
    """
    from calstudy import report

    if growth.empty:
        return ["No group has enough models to compare bin counts."]
    faster = {1: "it grows faster after scaling", -1: "it grows faster before scaling",
              0: "the two growth factors are not shown to differ"}  # fmt: skip
    sentences = []
    for _, r in growth.iterrows():
        text = (
            f"**{r['group']}**: median {metric} grows × "
            f"{report.fixed(r['growth_pre'], 2, signed=False)} from the fewest to the most bins "
            f"before scaling and × {report.fixed(r['growth_post'], 2, signed=False)} after; "
            f"difference {ci_words(r, 'gap')} (p {report.pvalue(r['gap_p'])}): "
            f"{faster[r['faster']]}."
        )
        rows = ratios[ratios["group"] == r["group"]]
        if len(rows):
            lo = rows[rows["n_bins"] == rows["n_bins"].min()].set_index("when")
            hi = rows[rows["n_bins"] == rows["n_bins"].max()].set_index("when")
            text += (
                f" Median over the calibrated floor at {lo['n_bins'].iloc[0]} bins: "
                f"{report.fixed(lo.loc['pre', 'ratio'], 2, signed=False)} before scaling, "
                f"{report.fixed(lo.loc['post', 'ratio'], 2, signed=False)} after; at "
                f"{hi['n_bins'].iloc[0]} bins: {ci_words(hi.loc['pre'], 'ratio', signed=False)} "
                f"before, {ci_words(hi.loc['post'], 'ratio', signed=False)} after."
            )
        sentences.append(text)
    return sentences


def bin_stability_sentences(stability: pd.DataFrame, pairs: pd.DataFrame) -> list[str]:
    """:func:`bin_stability` and the extreme pair of :func:`bin_pair_taus` in words.

    Returns
    -------
    list of str
        E.g. "**TSS · cifar10**: τ between bin counts 0.13 – 0.87 (median 0.58) before
        scaling, 0.17 – 0.60 (median 0.29) after; median after − before -0.29 [-0.38, -0.19]
        (p 0.004): ranks are less stable after scaling. Fewest against most bins: τ = +0.13
        [+0.01, +0.26] before, +0.19 [+0.06, +0.31] after."
    """
    from calstudy import report

    if stability.empty:
        return ["No group has enough models to compare bin counts."]
    verdict = {1: "ranks are less stable after scaling", -1: "ranks are more stable after scaling",
               0: "a change of stability with scaling is not shown"}  # fmt: skip
    def spread(r: Mapping[str, Any], when: str) -> str:
        low, mid, high = (report.fixed(r[f"{k}_{when}"], signed=False)
                          for k in ("min", "median", "max"))  # fmt: skip
        return f"{low} – {high} (median {mid})"

    sentences = []
    for _, r in stability.iterrows():
        text = (
            f"**{r['group']}**: τ between bin counts {spread(r, 'pre')} before scaling, "
            f"{spread(r, 'post')} after; median after − before "
            f"{ci_words(r, 'gap')} (p {report.pvalue(r['gap_p'])}"
            + ("" if r["boot_rows"] == r["n"] else
               f"; interval from a bootstrap over a random {r['boot_rows']:,} of its {r['n']:,} "
               "models, so wider than the full sample's")
            + f"): {verdict[r['less_stable']]}."
        )
        rows = pairs[pairs["group"] == r["group"]]
        if len(rows):
            a, b = rows["bins_a"].min(), rows["bins_b"].max()
            ends = rows[(rows["bins_a"] == a) & (rows["bins_b"] == b)].set_index("when")
            if len(ends) == 2:
                text += (f" {a} against {b} bins: τ = "
                         f"{ci_words(ends.loc['pre'], 'tau', low='low', high='high')} before, "
                         f"{ci_words(ends.loc['post'], 'tau', low='low', high='high')} after.")
        sentences.append(text)
    return sentences


def bin_paper_sentences(
    medians: pd.DataFrame,
    stability: pd.DataFrame,
    pairs: pd.DataFrame,
    *,
    paper_post: Mapping[int, float],
    paper_pre: tuple[float, float],
    paper_pre_plot: tuple[float, float],
    paper_tau_pre: tuple[float, float],
    paper_tau_post: tuple[float, float],
    paper_extreme_post: float,
    paper_extreme_bins: tuple[int, int] = (5, 500),
    dataset: str = "imagenet16-120",
) -> list[str]:
    """The paper's RQ vi numbers beside this store's, in words.

    - Post-scaling medians at the paper's bin counts on ``dataset`` (the paper's medians are
      ImageNet16-120's): for each group of that dataset, this store's median with its interval
      and where the paper's value lies (:func:`range_position`).
    - Pre-scaling medians at the fewest and most bins on ``dataset``, beside the paper's two
      uncertain readings (the quoted "≈ 5.3 % at 5–25 bins vs 6.2 % at 500" and the released
      plot's ≈ 3.2 % vs 9.2 %).
    - τ between bin counts before and after scaling against the paper's ranges, and τ between
      the fewest and the most bins after scaling against the paper's 0.25 (5 vs 500).

    Parameters
    ----------
    medians, stability, pairs : DataFrame
        Outputs of :func:`bin_count_medians`, :func:`bin_stability` and :func:`bin_pair_taus`
        (of the chapter's family).
    paper_post : mapping of int to float
        The paper's post-scaling medians (fractions) by bin count.
    paper_pre, paper_pre_plot : (float, float)
        The paper's pre-scaling medians at few and at the most bins: the quoted reading and the
        plot's reading.
    paper_tau_pre, paper_tau_post : (float, float)
        The paper's ranges of τ between bin counts before and after scaling.
    paper_extreme_post : float
        The paper's τ between 5 and 500 bins after scaling.
    paper_extreme_bins : (int, int), default=(5, 500)
        The bin counts of ``paper_extreme_post``; compared only where ``pairs`` holds them.
    dataset : str, default="imagenet16-120"
        The dataset of the paper's medians.

    Returns
    -------
    list of str
    """
    from calstudy import report

    def median_pct(row: Mapping[str, Any]) -> str:
        return ci_words(row, "median", low="low", high="high", scale=100, signed=False) + " %"

    def ratio(a: float, b: float) -> str:
        return report.fixed(a / b, 2, signed=False)

    sentences = []
    ours = medians[medians["dataset"] == dataset]
    if ours.empty:
        sentences.append(
            f"This store has no {dataset} group, so the paper's medians on it (post-scaling "
            f"{report.pct(min(paper_post.values()))} – {report.pct(max(paper_post.values()))}) "
            "have nothing to be set beside; growth factors are comparable across datasets (the "
            f"paper's post-scaling growth from {min(paper_post)} to {max(paper_post)} bins: × "
            f"{ratio(paper_post[max(paper_post)], paper_post[min(paper_post)])})."
        )
    for group, rows in ours.groupby("group", sort=False):
        post = rows[rows["when"] == "post"].set_index("n_bins")
        shared = [b for b in paper_post if b in post.index]
        if shared:
            where = {b: range_position((paper_post[b],) * 2, *post.loc[b, ["low", "high"]])
                     for b in shared}  # fmt: skip
            sentences.append(
                f"**{group}**, post-scaling medians (this store against the paper): " + "; ".join(
                    f"{b} bins {median_pct(post.loc[b])}, the paper's {report.pct(paper_post[b])} "
                    f"{position_phrase(where[b])} it"
                    for b in shared)
                + f". The paper's value lies inside this store's interval at "
                f"{sum(w == 'inside' for w in where.values())} of {len(shared)} bin counts."
            )  # fmt: skip
        pre = rows[rows["when"] == "pre"].set_index("n_bins")
        lo, hi = pre.index.min(), pre.index.max()
        place = [range_position((v,) * 2, pre.loc[b, "low"], pre.loc[b, "high"])
                 for v, b in ((paper_pre[0], lo), (paper_pre[1], hi), (paper_pre_plot[0], lo),
                              (paper_pre_plot[1], hi))]  # fmt: skip
        sentences.append(
            f"**{group}**, pre-scaling medians: {median_pct(pre.loc[lo])} at {lo} bins and "
            f"{median_pct(pre.loc[hi])} at {hi}. "
            f"The paper's pre-scaling medians are an uncertain reading: quoted as ≈ "
            f"{report.pct(paper_pre[0])} (5–25 bins) against {report.pct(paper_pre[1])} (500), "
            f"the first {position_phrase(place[0])} this store's interval at {lo} bins and the "
            f"second {position_phrase(place[1])} its interval at {hi}; the released plot reads ≈ "
            f"{report.pct(paper_pre_plot[0])} (5 bins) and {report.pct(paper_pre_plot[1])} (500): "
            f"the first {position_phrase(place[2])} this store's interval and the second "
            f"{position_phrase(place[3])} it."
        )  # fmt: skip
    for _, r in stability.iterrows():
        before = range_position(paper_tau_pre, r["min_pre"], r["max_pre"])
        after = range_position(paper_tau_post, r["min_post"], r["max_post"])
        def span(low: float, high: float) -> str:
            return f"{report.fixed(low, signed=False)} – {report.fixed(high, signed=False)}"

        text = (f"**{r['group']}**: the paper's τ between bin counts before scaling, "
                f"{span(*paper_tau_pre)}, {position_phrase(before)} this store's "
                f"{span(r['min_pre'], r['max_pre'])}; after scaling, {span(*paper_tau_post)} "
                f"{position_phrase(after)} this store's {span(r['min_post'], r['max_post'])}")
        rows = pairs[(pairs["group"] == r["group"]) & (pairs["when"] == "post")]
        a, b = paper_extreme_bins
        extreme = rows[(rows["bins_a"] == a) & (rows["bins_b"] == b)]
        if len(extreme):
            e = extreme.iloc[0]
            where = range_position((paper_extreme_post,) * 2, e["low"], e["high"])
            text += (f"; its τ({int(e['bins_a'])} vs {int(e['bins_b'])} bins) after scaling, "
                     f"{report.fixed(paper_extreme_post, signed=False)}, "
                     f"{position_phrase(where)} this store's interval "
                     f"{ci_words(e, 'tau', low='low', high='high')}")
        sentences.append(text + ".")
    return sentences


def bin_summary(
    growth: pd.DataFrame,
    ratios: pd.DataFrame,
    stability: pd.DataFrame,
    pairs: pd.DataFrame,
    *,
    metric: str,
    paper_tau_pre_low: float,
    floor_tol: float = 1.5,
) -> list[str]:
    """The RQ vi findings of a run, one line per question, naming the groups of each verdict.

    Parameters
    ----------
    growth, ratios, stability, pairs : DataFrame
        Outputs of :func:`bin_growth`, :func:`floor_ratios`, :func:`bin_stability` and
        :func:`bin_pair_taus`.
    metric : str
        How the lines name the family.
    paper_tau_pre_low : float
        The paper's lowest τ between bin counts before scaling (0.82).
    floor_tol : float, default=1.5
        A post-scaling median at the most bins is "near the calibrated floor" when the upper
        end of its interval is below ``floor_tol`` times the floor.

    Returns
    -------
    list of str
    """
    if growth.empty:
        return ["No group has enough models to compare bin counts."]

    def groups(labels: Any, verdicts: Any, words: Mapping[Any, str]) -> str:
        return "; ".join(verdict_groups(list(labels), list(verdicts), words))

    lines = [
        f"Median {metric} grows with the number of bins "
        + groups(growth["group"], growth["faster"], {
            1: "faster after temperature scaling than before", 0: "as fast before as after "
            "scaling (no difference shown)", -1: "faster before scaling than after"}) + "."
    ]  # fmt: skip
    hi = ratios[(ratios["when"] == "post") & (ratios["n_bins"] == ratios["n_bins"].max())]
    if len(hi):
        lines.append(
            f"At {int(hi['n_bins'].iloc[0])} bins, after scaling, the median is "
            + groups(hi["group"], hi["ratio_high"] < floor_tol, {
                True: f"near the calibrated floor (interval below {floor_tol} × the floor)",
                False: f"not shown to be within {floor_tol} × the calibrated floor"}) + "."
        )  # fmt: skip
    lines.append("Ranks " + groups(stability["group"], stability["less_stable"], {
        1: "are less stable across bin counts after scaling than before",
        0: "are not shown to change stability with scaling",
        -1: "are more stable across bin counts after scaling"}) + ".")  # fmt: skip
    pre = pairs[pairs["when"] == "pre"]
    extreme = pre[(pre["bins_a"] == pre["bins_a"].min()) & (pre["bins_b"] == pre["bins_b"].max())]
    if len(extreme):
        a, b = int(extreme["bins_a"].iloc[0]), int(extreme["bins_b"].iloc[0])
        lines.append(
            f"Before scaling, the interval of τ between {a} and {b} bins "
            + groups(extreme["group"], extreme["high"] < paper_tau_pre_low, {
                True: f"lies below the paper's lowest pre-scaling τ ({paper_tau_pre_low})",
                False: f"does not lie below the paper's lowest pre-scaling τ "
                f"({paper_tau_pre_low})"}) + "."
        )  # fmt: skip
    return lines


# ================================================================================================
# RQ ii: robustness and calibration
# ================================================================================================


#: Out-of-distribution AUROC columns: ours (the other dataset of a sweep) and the paper's two.
OOD_COLUMNS: tuple[str, ...] = ("pre_auc_ood", "pre_auc_cifar10c", "pre_auc_svhn")


def add_corruption_summaries(df: pd.DataFrame, *, min_rows: int = 3) -> pd.DataFrame:
    """Add ``mean_corruption_acc`` and ``relative_corruption_acc`` where corruptions were measured.

    ``mean_corruption_acc`` is the mean accuracy over the corruption columns
    (:data:`calstudy.schema.CORRUPTIONS`) that hold at least ``min_rows`` values, NaN for a row
    missing any of them; ``relative_corruption_acc`` divides it by clean accuracy ``acc``, a
    robustness measure with clean accuracy divided out. Without corruption columns the frame is
    returned unchanged (a copy).

    Parameters
    ----------
    df : DataFrame
        Calibration dataset (or a part of it).
    min_rows : int, default=3
        Fewest values a corruption column needs to count as measured.

    Returns
    -------
    DataFrame
        A copy of ``df`` with the two columns added when any corruption was measured.
    """
    from calstudy.schema import CORRUPTIONS

    out = df.copy()
    corruptions = columns_with_values(out, CORRUPTIONS, min_rows)
    if corruptions:
        out["mean_corruption_acc"] = out[corruptions].mean(axis=1, skipna=False)
        out["relative_corruption_acc"] = out["mean_corruption_acc"] / out["acc"]
    return out


def robustness_measures(df: pd.DataFrame, *, min_rows: int = 3) -> dict[str, list[str]]:
    """The robustness columns a store holds, by family (RQ ii).

    Families: ``"reference"`` (clean ``acc`` and ``relative_corruption_acc``), ``"corruption"``
    (accuracy under each corruption, then ``mean_corruption_acc``), ``"attack"`` (accuracy under
    each attack of :data:`calstudy.schema.ATTACK_COLUMNS` at each ε) and ``"ood"`` (AUROC
    columns of :data:`OOD_COLUMNS`). A column counts when it holds at least ``min_rows`` values;
    call :func:`add_corruption_summaries` first for the derived columns.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset (or a part of it).
    min_rows : int, default=3
        Fewest values a column needs.

    Returns
    -------
    dict of str to list of str
        Family → columns present, in schema order; a family without columns maps to ``[]``.
    """
    from calstudy.schema import ATTACK_COLUMNS, CORRUPTIONS

    corruption = columns_with_values(df, [*CORRUPTIONS, "mean_corruption_acc"], min_rows)
    return {
        "reference": columns_with_values(df, ["acc", "relative_corruption_acc"], min_rows),
        "corruption": corruption,
        "attack": columns_with_values(df, ATTACK_COLUMNS, min_rows),
        "ood": columns_with_values(df, OOD_COLUMNS, min_rows),
    }


def robustness_inventory(
    df: pd.DataFrame, *, groups: Sequence[str] = ("space", "dataset"), min_rows: int = 3
) -> pd.DataFrame:
    """How many robustness measures of each family every group holds (RQ ii).

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    groups : sequence of str, default=("space", "dataset")
        Columns defining the groups.
    min_rows : int, default=3
        Fewest values a column needs in a group (see :func:`robustness_measures`).

    Returns
    -------
    DataFrame
        Indexed by ``groups``; columns ``networks`` and one count per family of
        :func:`robustness_measures` (derived corruption summaries included).
    """
    rows = []
    for key, part in groups_of(df, groups):
        found = robustness_measures(add_corruption_summaries(part, min_rows=min_rows),
                                    min_rows=min_rows)
        rows.append([*key, len(part), *(len(ms) for ms in found.values())])
    families = ["reference", "corruption", "attack", "ood"]
    table = pd.DataFrame(rows, columns=[*groups, "networks", *families])
    return table.set_index(list(groups)) if list(groups) else table


def groups_of(df: pd.DataFrame, groups: Sequence[str]) -> list[tuple[tuple[Any, ...], pd.DataFrame]]:
    groups = list(groups)
    check_columns(df, groups)
    if not groups:
        return [((), df)]
    return [
        (key if isinstance(key, tuple) else (key,), part)
        for key, part in df.groupby(groups, sort=True, dropna=False)
    ]


def robustness_taus(
    df: pd.DataFrame,
    calibration: str,
    *,
    groups: Sequence[str] = ("space", "dataset"),
    min_rows: int = 3,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """τ-b between a calibration column and every robustness measure, per group (RQ ii).

    In each group (by default each search space and dataset), the measures of
    :func:`robustness_measures` present there (after :func:`add_corruption_summaries`) are each
    correlated with ``calibration`` (:func:`kendall_ci`). The p-values are corrected within the
    group, over all its measures, by Holm (``p_holm``: any false positive) and by
    Benjamini–Hochberg (``p_bh``: the expected share of false positives). A group without
    measures, or with fewer than ``min_rows`` values of ``calibration``, has no rows.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    calibration : str
        Calibration column, e.g. ``"pre_ECE_15"``.
    groups : sequence of str, default=("space", "dataset")
        Columns defining the groups analysed on their own.
    min_rows : int, default=3
        Fewest values a measure (and ``calibration``) needs in a group.
    n_boot, level, seed
        As in :func:`kendall_ci`.

    Returns
    -------
    DataFrame
        Columns ``*groups, family, measure, tau, low, high, p, n, p_holm, p_bh``.
    """
    check_columns(df, [calibration])
    groups = list(groups)
    parts = []
    for key, part in groups_of(df, groups):
        part = add_corruption_summaries(part, min_rows=min_rows)
        if int(part[calibration].notna().sum()) < max(min_rows, 3):
            continue
        families = robustness_measures(part, min_rows=max(min_rows, 3))
        pairs = [(calibration, m) for ms in families.values() for m in ms]
        pairs = [p for p in pairs if count_complete(part, p) >= 3]
        if not pairs:
            continue
        table = tau_table(part, pairs, n_boot=n_boot, level=level, seed=seed)
        family_of = {m: f for f, ms in families.items() for m in ms}
        table.insert(0, "family", [family_of[m] for m in table["y"]])
        for name, value in reversed(list(zip(groups, key, strict=True))):
            table.insert(0, name, value)
        table["p_holm"] = correct_pvalues(table["p"].to_numpy(float), method="holm")
        table["p_bh"] = correct_pvalues(table["p"].to_numpy(float), method="bh")
        parts.append(table.drop(columns="x").rename(columns={"y": "measure"}))
    columns = [*groups, "family", "measure", "tau", "low", "high", "p", "n", "p_holm", "p_bh"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def top_versus_lowest(
    df: pd.DataFrame,
    calibration: str,
    *,
    n: int = 1000,
    by: str = "acc",
    families: Sequence[str] = ("corruption", "attack", "ood"),
    groups: Sequence[str] = ("space", "dataset"),
    min_rows: int = 3,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    method: Literal["auto", "bootstrap", "asymptotic"] = "asymptotic",
) -> pd.DataFrame:
    """τ between calibration and robustness among the N most and the N least accurate (RQ ii).

    The reference study claimed that calibration tracks robustness only among high-accuracy
    models; its code took those models as ``sort_values('acc').head(N)``, the N **least**
    accurate. For every robustness measure of ``families`` in each group this computes τ-b with
    ``calibration`` over all networks, among the N most accurate (:func:`top_n`) and among the
    N least accurate (:func:`lowest_n`), each with an interval (:func:`kendall_ci`), and the
    difference τ(top) − τ(lowest) for independent samples (:func:`tau_difference` with
    ``paired=False``: the two selections are disjoint). N is ``n``, capped at a quarter of the
    group's networks complete in ``by`` and ``calibration`` so that the two selections never
    overlap. The p-values of τ(top), τ(lowest) and the difference are Holm-corrected within
    the group, each over its measures. The intervals are asymptotic by default: with dozens of
    measures, Holm needs p-values of the difference below the :math:`2/(B + 1)` that a
    bootstrap of :math:`B` resamples can give (and the asymptotic path costs no resampling).

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    calibration : str
        Calibration column.
    n : int, default=1000
        Size of each selection before the cap (the paper's N).
    by : str, default="acc"
        Ranking column; higher is better.
    families : sequence of str, default=("corruption", "attack", "ood")
        Families of :func:`robustness_measures` compared.
    groups, min_rows, n_boot, level, seed
        As in :func:`robustness_taus`.
    method : {"auto", "bootstrap", "asymptotic"}, default="asymptotic"
        Interval method of the three (:func:`kendall_ci`, :func:`tau_difference`).

    Returns
    -------
    DataFrame
        Columns ``*groups, family, measure, networks`` (complete in ``calibration`` and
        ``by``), ``n_top, tau_all, tau_top, top_low, top_high,
        p_top_holm, tau_lowest, lowest_low, lowest_high, p_lowest_holm, difference, diff_low,
        diff_high, p_holm``; groups with fewer than 3 networks per selection have no rows.
    """
    n = check_positive_int(n, "n")
    check_columns(df, [calibration, by])
    groups = list(groups)
    opts = {"n_boot": n_boot, "level": level, "seed": seed}
    parts = []
    for key, part in groups_of(df, groups):
        part = add_corruption_summaries(part, min_rows=min_rows).dropna(subset=[calibration, by])
        size = min(n, len(part) // 4)
        found = robustness_measures(part, min_rows=max(min_rows, 3))
        measures = [(f, m) for f in families for m in found.get(f, [])]
        if size < 3 or not measures:
            continue
        top, low = top_n(part, size, by=by), lowest_n(part, size, by=by)
        rows = []
        for family, m in measures:
            if min(count_complete(top, [calibration, m]), count_complete(low, [calibration, m])) < 3:
                continue
            a = kendall_ci(top[calibration], top[m], method=method, **opts)
            b = kendall_ci(low[calibration], low[m], method=method, **opts)
            d = tau_difference(top[calibration], top[m], low[calibration], low[m], paired=False,
                               method=method, **opts)
            rows.append({
                **dict(zip(groups, key, strict=True)), "family": family, "measure": m,
                "networks": len(part), "n_top": size,
                "tau_all": kendall_tau(part[calibration], part[m]),
                "tau_top": a.tau, "top_low": a.low, "top_high": a.high, "p_top": a.p_value,
                "tau_lowest": b.tau, "lowest_low": b.low, "lowest_high": b.high,
                "p_lowest": b.p_value, "difference": d.estimate, "diff_low": d.low,
                "diff_high": d.high, "p": d.p_value,
            })
        if rows:
            table = pd.DataFrame(rows)
            for p in ("p_top", "p_lowest", "p"):
                table[f"{p}_holm"] = correct_pvalues(table[p].to_numpy(float), method="holm")
            parts.append(table.drop(columns=["p_top", "p_lowest", "p"]))
    columns = [*groups, "family", "measure", "networks", "n_top", "tau_all", "tau_top", "top_low",
               "top_high", "p_top_holm", "tau_lowest", "lowest_low", "lowest_high",
               "p_lowest_holm", "difference", "diff_low", "diff_high", "p_holm"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def selection_verdict(contrast: pd.DataFrame, *, alpha: float = 0.05) -> dict[str, Any]:
    """Which selection shows calibration tracking robustness: the most or the least accurate?

    Counts, over the measures of one group of :func:`top_versus_lowest`, how many track
    calibration among the N most accurate (τ > 0, Holm p < ``alpha``), among the N least
    accurate, and how many differ significantly between the two (Holm p < ``alpha``) in each
    direction. The verdict is ``"most accurate"`` when more measures have a significantly
    higher τ among the most accurate than among the least accurate and at least one tracks
    calibration there (the reference study's claim), ``"least accurate"`` in the mirror case
    (the population its code selected), else ``"neither"``.

    Parameters
    ----------
    contrast : DataFrame
        Rows of :func:`top_versus_lowest` for one group.
    alpha : float, default=0.05
        Family-wise error rate.

    Returns
    -------
    dict
        ``measures``, ``n_top``, ``track_top``, ``track_lowest``, ``higher_top``,
        ``higher_lowest`` (counts) and ``verdict``.

    Examples
    --------
    >>> c = pd.DataFrame({"n_top": [30, 30], "tau_top": [0.5, 0.4], "p_top_holm": [0.001, 0.2],
    ...                   "tau_lowest": [0.0, 0.1], "p_lowest_holm": [0.9, 0.9],
    ...                   "difference": [0.5, 0.3], "p_holm": [0.01, 0.3]})
    >>> selection_verdict(c)["verdict"]
    'most accurate'
    """
    check_level(alpha, "alpha")
    c = contrast
    counts = {
        "measures": len(c),
        "n_top": int(c["n_top"].max()) if len(c) else 0,
        "track_top": int(((c["tau_top"] > 0) & (c["p_top_holm"] < alpha)).sum()),
        "track_lowest": int(((c["tau_lowest"] > 0) & (c["p_lowest_holm"] < alpha)).sum()),
        "higher_top": int(((c["difference"] > 0) & (c["p_holm"] < alpha)).sum()),
        "higher_lowest": int(((c["difference"] < 0) & (c["p_holm"] < alpha)).sum()),
    }
    if counts["higher_top"] > counts["higher_lowest"] and counts["track_top"] > 0:
        verdict = "most accurate"
    elif counts["higher_lowest"] > counts["higher_top"] and counts["track_lowest"] > 0:
        verdict = "least accurate"
    else:
        verdict = "neither"
    return {**counts, "verdict": verdict}


# RQ ii, in words: the tables above as sentences (calstudy.report's formats), so that the
# chapter run on any store states that store's findings.


def group_name(key: Sequence[str]) -> str:
    """``("tss", "cifar10")`` → ``"TSS / CIFAR-10"``: a space and a dataset for headings."""
    space, dataset = key
    return f"{str(space).upper()} / {dataset_title(dataset)}"


def _tau_words(r: Any) -> str:
    from calstudy import report

    return report.ci(r["tau"], r["low"], r["high"])


def robustness_sentence(rows: pd.DataFrame, *, alpha: float = 0.05, brief: bool = False) -> str:
    """One group's τ between calibration and robustness in words (RQ ii).

    Parameters
    ----------
    rows : DataFrame
        The rows of one ``(space, dataset)`` of :func:`robustness_taus`.
    alpha : float, default=0.05
        Threshold of the corrected p-values.
    brief : bool, default=False
        One summary line instead of the full statement.

    Returns
    -------
    str
        The group and its networks; the counts of tests significant before and after
        correction, the τ range and Holm count of each family, the reference and
        out-of-distribution rows, and the largest ``|τ|`` of a corruption or attack accuracy with
        the measures related to calibration after Holm, by sign; ``""`` for no rows.
    """
    from calstudy import report

    if rows.empty:
        return ""
    head = group_name(tuple(rows[["space", "dataset"]].iloc[0]))
    robust = rows[rows["family"].isin(["corruption", "attack"])]
    hits = robust[robust["p_holm"] < alpha]
    signs = {"rise": hits[hits["tau"] > 0], "fall": hits[hits["tau"] < 0]}
    related = report.join(
        f"{len(part)} {verb} with calibration error ({report.join(part['measure'])})"
        for verb, part in signs.items()
        if len(part)
    )
    if brief:
        acc = rows[rows["measure"] == "acc"]
        clean = f"τ with clean accuracy {_tau_words(acc.iloc[0])}" if len(acc) else ""
        if robust.empty:
            return f"{head}: no corruption or attack accuracy in this store" + (
                f"; {clean}." if clean else ".")
        return (
            f"{head}: {len(hits)} of {len(robust)} corruption and attack accuracies are related "
            f"to calibration after Holm ({len(signs['rise'])} with τ > 0, "
            f"{len(signs['fall'])} with τ < 0)" + (f"; {clean}" if clean else "") + "."
        )  # fmt: skip
    n_raw = int((rows["p"] < alpha).sum())
    said = [
        f"**{head}** ({report.plural(int(rows['n'].max()), 'network')}). Of "
        f"{report.plural(len(rows), 'measure')}, {n_raw} {'has' if n_raw == 1 else 'have'} a "
        f"raw p below {alpha}; {int((rows['p_holm'] < alpha).sum())} remain significant after "
        f"Holm and {int((rows['p_bh'] < alpha).sum())} after Benjamini–Hochberg."
    ]
    for family in ("corruption", "attack"):
        part = rows[rows["family"] == family]
        if len(part):
            said.append(
                f"{family.capitalize()} accuracies: τ from {report.fixed(part['tau'].min())} to "
                f"{report.fixed(part['tau'].max())}, {int((part['p_holm'] < alpha).sum())} of "
                f"{len(part)} significant after Holm."
            )
    for r in rows[rows["family"].isin(["reference", "ood"])].to_dict("records"):
        said.append(
            f"τ with {r['measure']} = {_tau_words(r)} (Holm p {report.pvalue(r['p_holm'])}, "
            f"BH p {report.pvalue(r['p_bh'])})."
        )
    if len(robust):
        big = robust.loc[robust["tau"].abs().idxmax()]
        said.append(
            f"The largest |τ| of a corruption or attack accuracy is {big['measure']}'s, "
            f"{_tau_words(big)}; "
            + (f"after Holm, {related}." if len(hits)
               else "none of them is related to calibration after Holm.")
        )  # fmt: skip
    return " ".join(said)


_CLAIM_WORDS = {
    "most accurate": "This store supports the claim: the relation is stronger among the most "
    "accurate networks.",
    "least accurate": "This store shows the relation among the least accurate networks, the "
    "population the paper's code selected, not among the most accurate: it does not support "
    "the claim as worded.",
    "neither": "No difference between the two selections is significant after Holm, so this "
    "store gives no support to the claim that calibration tracks robustness only among "
    "high-accuracy networks.",
}


_CLAIM_BRIEF = {
    "most accurate": "the relation is stronger among the most accurate, as the paper claimed",
    "least accurate": "the relation is stronger among the least accurate, the networks the "
    "paper's code selected",
    "neither": "no significant difference between the selections, no support for the paper's "
    "claim",
}


def selection_sentence(
    rows: pd.DataFrame, *, n: int, alpha: float = 0.05, brief: bool = False
) -> str:
    """One group of :func:`top_versus_lowest` in words: which selection supports the claim.

    Parameters
    ----------
    rows : DataFrame
        The rows of one ``(space, dataset)`` of :func:`top_versus_lowest`.
    n : int
        The N asked for (before the cap at a quarter of the networks).
    alpha : float, default=0.05
        Threshold of the Holm-corrected p-values.
    brief : bool, default=False
        One summary line instead of the full statement.

    Returns
    -------
    str
        The group, N, the counts of :func:`selection_verdict` and the verdict on the reference
        study's claim that calibration tracks robustness only among high-accuracy models.
    """
    if rows.empty:
        return ""
    head = group_name(tuple(rows[["space", "dataset"]].iloc[0]))
    v = selection_verdict(rows, alpha=alpha)
    if brief:
        return (f"{head}, the {v['n_top']:,} most against the {v['n_top']:,} least accurate: "
                f"{_CLAIM_BRIEF[v['verdict']]}.")  # fmt: skip
    networks = int(rows["networks"].max())
    capped = f" (the requested {n:,} capped at a quarter of {networks:,} networks)"
    m = v["measures"]
    return (
        f"**{head}**, N = {v['n_top']:,}{capped if v['n_top'] < n else ''}. Among the N most "
        f"accurate networks calibration tracks {v['track_top']} of {m} robustness measures "
        f"(τ > 0, Holm p < {alpha}); among the N least accurate, the paper code's \"top N\", "
        f"{v['track_lowest']} of {m}. τ is significantly higher among the most accurate for "
        f"{v['higher_top']} and among the least accurate for {v['higher_lowest']} of them "
        f"(independent samples, Holm). {_CLAIM_WORDS[v['verdict']]}"
    )


def robustness_curves(
    df: pd.DataFrame,
    calibration: str,
    measure: str,
    *,
    sizes: Sequence[int] | None = None,
    groups: Sequence[str] = ("space", "dataset"),
    n_boot: int = 500,
    n_random: int = 50,
    level: float = 0.95,
    seed: int = 0,
) -> dict[tuple[Any, ...], pd.DataFrame]:
    """:func:`selection_curve` of calibration against one robustness measure, in each group.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    calibration, measure : str
        The two columns; ``measure`` may be a derived column of
        :func:`add_corruption_summaries` (``mean_corruption_acc``).
    sizes : sequence of int, optional
        Wanted population sizes (:func:`population_sizes` keeps those below the group's
        complete rows and adds all of them).
    groups : sequence of str, default=("space", "dataset")
        Columns defining the groups.
    n_boot, n_random, level, seed
        As in :func:`selection_curve`.

    Returns
    -------
    dict
        Group key → curve, for the groups with at least 3 networks complete in
        ``calibration``, ``measure`` and ``acc``.
    """
    out = {}
    for key, part in groups_of(df, groups):
        part = add_corruption_summaries(part)
        if measure not in part.columns:
            continue
        m = count_complete(part, [calibration, measure, "acc"])
        if m >= 3:
            out[key] = selection_curve(
                part, calibration, measure, sizes=population_sizes(m, sizes), n_boot=n_boot,
                n_random=n_random, level=level, seed=seed)  # fmt: skip
    return out


def robustness_paper_sentence(row: Mapping[str, Any], *, paper: tuple[float, float]) -> str:
    """One row of :func:`robustness_beside_paper` in words."""
    from calstudy import report

    low, high = (report.num(v) for v in paper)
    what = report.plural(int(row["measures"]), "attack or corruption accuracy",
                         "attack or corruption accuracies")  # fmt: skip
    return (
        f"**{group_name((row['space'], row['dataset']))}**: τ with {what} from "
        f"{report.fixed(row['tau_min'])} to {report.fixed(row['tau_max'])}; "
        f"{int(row['below_low'])} point estimates lie below the paper's lowest ({low}), "
        f"{int(row['interval_below_low'])} intervals lie entirely below it, "
        f"{int(row['interval_below_high'])} entirely below its highest ({high}) and "
        f"{int(row['interval_above_high'])} entirely above it."
    )


def robustness_beside_paper(
    table: pd.DataFrame,
    *,
    paper: tuple[float, float] = (0.09, 0.36),
    families: Sequence[str] = ("corruption", "attack"),
    groups: Sequence[str] = ("space", "dataset"),
) -> pd.DataFrame:
    """Place each group's τ between calibration and robustness beside the paper's range (RQ ii).

    Parameters
    ----------
    table : DataFrame
        Output of :func:`robustness_taus`.
    paper : (float, float), default=(0.09, 0.36)
        The reference study's range of τ(ECE, accuracy under PGD, Square and corruptions).
    families : sequence of str, default=("corruption", "attack")
        Families compared with that range.
    groups : sequence of str, default=("space", "dataset")
        The group columns of ``table``.

    Returns
    -------
    DataFrame
        One row per group with measures of ``families``: ``*groups, measures, tau_min,
        tau_max, below_low`` (point τ below the paper's lowest), ``interval_below_low``,
        ``interval_below_high`` and ``interval_above_high`` (whole intervals below the lowest,
        below the highest, above the highest).
    """
    low, high = paper
    groups = list(groups)
    check_columns(table, [*groups, "family", "tau", "low", "high"], "table")
    rows = []
    robust = table[table["family"].isin(list(families))]
    for key, part in (robust.groupby(groups, sort=False) if len(robust) else []):
        key = key if isinstance(key, tuple) else (key,)
        rows.append({
            **dict(zip(groups, key, strict=True)), "measures": len(part),
            "tau_min": part["tau"].min(), "tau_max": part["tau"].max(),
            "below_low": int((part["tau"] < low).sum()),
            "interval_below_low": int((part["high"] < low).sum()),
            "interval_below_high": int((part["high"] < high).sum()),
            "interval_above_high": int((part["low"] > high).sum()),
        })
    columns = [*groups, "measures", "tau_min", "tau_max", "below_low", "interval_below_low",
               "interval_below_high", "interval_above_high"]
    return pd.DataFrame(rows, columns=columns)


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
            if len(columns_with_values(df, [f"{p}_{name}" for p in prefixes], min_rows)) == len(prefixes):
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
        ``(space, dataset, prefix)`` → :func:`tau_matrix` indexed by ``names``.
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
        As in :func:`kendall_ci`.

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

    For every ``a`` of ``first`` and ``b`` of ``second`` in each space and dataset, the
    difference :math:`\tau(r, a) - \tau(r, b)` over the same networks, with the paired
    interval of :func:`tau_difference`; p-values Holm-corrected within each space and dataset.
    Used with the top-label estimators as ``first`` and the classwise ones as ``second``.

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
    same networks (:func:`mean_tau_difference`, paired).

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

    For every space and pair of datasets ``a``, ``b`` (sorted), the mean off-diagonal τ on
    ``b`` minus that on ``a``, over the networks evaluated on both (joined by key with
    :func:`pair_datasets`), with the paired interval of :func:`mean_tau_difference`.

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
        Columns ``dataset, quantity, paper, calstudy, low, high, position`` (:func:`position_of`
        of the paper's value relative to this store's interval).
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


# ================================================================================================
# Seed noise: which of the book's differences exceed it (the seed-noise chapter's tables)
# ================================================================================================


def seed_study_groups(
    df: pd.DataFrame, *, by: Sequence[str] = ("space", "dataset", "fidelity")
) -> pd.DataFrame:
    """The store's groups of networks and how many of their architectures were retrained.

    Parameters
    ----------
    df : DataFrame
        Rows of the calibration dataset, every seed (``seeds="all"``), with ``arch``,
        ``seed`` and the `by` columns.
    by : sequence of str
        Columns of a group (one space, dataset and fidelity).

    Returns
    -------
    DataFrame
        One row per group: the `by` columns, ``n_archs``, ``n_repeated`` (architectures with
        two or more seeds), ``max_seeds`` and ``seeds`` (the sorted seeds present, as a
        list), sorted by `by`.

    Examples
    --------
    >>> frame = pd.DataFrame({"space": "tss", "dataset": "c", "fidelity": "f",
    ...                       "arch": ["a", "a", "b"], "seed": [0, 1, 0]})
    >>> seed_study_groups(frame)[["n_archs", "n_repeated", "max_seeds"]].values.tolist()
    [[2, 1, 2]]
    """
    by = list(by)
    check_columns(df, [*by, "arch", "seed"])
    rows = []
    for key, group in df.groupby(by, sort=True, dropna=False):
        counts = group.groupby("arch")["seed"].nunique()
        labels = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        rows.append({**labels, "n_archs": len(counts), "n_repeated": int((counts >= 2).sum()),
                     "max_seeds": int(counts.max()),
                     "seeds": sorted(int(s) for s in group["seed"].unique())})  # fmt: skip
    return pd.DataFrame(rows, columns=[*by, "n_archs", "n_repeated", "max_seeds", "seeds"])


def seed_noise_gaps(
    first: pd.DataFrame,
    table: pd.DataFrame,
    columns: Sequence[str],
    *,
    higher_is_better: Sequence[str] = ("acc",),
    level: float = 0.95,
) -> pd.DataFrame:
    """The best network's lead over the median, against what seed noise alone would give.

    For each column, the observed gap between the best of the single-seed networks and
    their median (``max − median`` where higher is better, ``median − min`` otherwise) is
    compared with :func:`seed_noise_gap` for as many equally good networks with the column's
    pooled seed standard deviation.

    Parameters
    ----------
    first : DataFrame
        One row per network (each architecture's lowest seed, as the other chapters use).
    table : DataFrame
        :func:`seed_noise_table` output, indexed by column, with ``pooled_std``.
    columns : sequence of str
        Columns to compare; those missing from `table` or `first` are left out.
    higher_is_better : sequence of str, default ("acc",)
    level : float, default 0.95

    Returns
    -------
    DataFrame
        Indexed by ``column``: ``networks``, ``observed`` (best − median), ``noise_gap`` (the
        :math:`\\ell` quantile of the gap seed noise gives) and ``exceeds`` (bool).
    """
    check_level(level)
    rows = []
    for column in columns:
        if column not in table.index or column not in first.columns:
            continue
        values = first[column].dropna()
        if len(values) < 2:
            continue
        best = values.max() if column in higher_is_better else values.min()
        observed = float(abs(best - values.median()))
        noise = seed_noise_gap(len(values), float(table.loc[column, "pooled_std"]), level=level)
        rows.append({"column": column, "networks": len(values), "observed": observed,
                     "noise_gap": noise, "exceeds": bool(observed > noise)})  # fmt: skip
    columns_out = ["column", "networks", "observed", "noise_gap", "exceeds"]
    return pd.DataFrame(rows, columns=columns_out).set_index("column")


def posthoc_pairs(
    columns: Sequence[str], methods: Sequence[str], *, pre: str, post: str, min_values: int = 3,
    counts: Mapping[str, int] | None = None,
) -> dict[str, tuple[str, str]]:
    """The post-hoc differences of RQ iv that the seed-noise chapter checks, by label.

    ``"ts − none, <score>"`` is `post` − `pre`; for each method ``m`` of `methods`,
    ``"m − ts, ECE_15"`` and ``"m − ts, NLL"`` compare ``m_ECE_15`` with `post` and
    ``m_NLL`` with ``post_NLL`` where those columns exist (and hold at least `min_values`
    values according to `counts`, when given).

    Examples
    --------
    >>> posthoc_pairs(["pre_ECE_15", "post_ECE_15", "vs_ECE_15"], ["vs", "iso"],
    ...               pre="pre_ECE_15", post="post_ECE_15")
    {'ts − none, ECE_15': ('post_ECE_15', 'pre_ECE_15'), 'vs − ts, ECE_15': ('vs_ECE_15', 'post_ECE_15')}
    """
    present = set(columns)
    score = post.split("_", 1)[1]
    pairs: dict[str, tuple[str, str]] = {}
    if {pre, post} <= present:
        pairs[f"ts − none, {score}"] = (post, pre)
    for m in methods:
        for name, ts_column in ((score, post), ("NLL", "post_NLL")):
            pair = (f"{m}_{name}", ts_column)
            enough = counts is None or counts.get(pair[0], 0) >= min_values
            if set(pair) <= present and enough:
                pairs[f"{m} − ts, {name}"] = pair
    return pairs


def seed_noise_differences(
    df: pd.DataFrame,
    first: pd.DataFrame,
    pairs: Mapping[str, tuple[str, str]],
    *,
    by: Sequence[str] = ("space", "arch", "dataset", "fidelity"),
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Paired differences over networks, and whether one network would show them.

    For each labelled pair ``(a, b)``: the median of :math:`d = a - b` over the single-seed
    networks with its bootstrap interval and Wilcoxon p-value (:func:`paired_difference`;
    Holm-corrected over the pairs in ``p_holm``), the pooled seed standard deviation of
    :math:`d` itself (:func:`seed_variance` on every seed's rows), the threshold a single
    network's :math:`|d|` must pass to exceed seed noise,
    :math:`z_{(1+\ell)/2}\, s_p(d)` (:func:`seed_noise_threshold` against a fixed value), and
    the share of networks beyond it with its Wilson interval.

    Parameters
    ----------
    df : DataFrame
        Every seed's rows (the repeated architectures give the seed noise of :math:`d`).
    first : DataFrame
        One row per network.
    pairs : mapping of str → (str, str)
        Label → the two columns (e.g. :func:`posthoc_pairs`).
    by : sequence of str
        Columns identifying one architecture's repeated runs.
    level : float, default 0.95
    n_boot : int, default 1000
    seed : int, default 0

    Returns
    -------
    DataFrame
        Indexed by ``difference``: ``median``, ``low``, ``high``, ``p``, ``p_holm``,
        ``seed_std``, ``threshold``, ``median_beyond`` (bool), ``beyond`` (share of networks),
        ``beyond_low``, ``beyond_high``, ``n``.
    """
    columns = ["difference", "median", "low", "high", "p", "seed_std", "threshold",
               "median_beyond", "beyond", "beyond_low", "beyond_high", "n"]  # fmt: skip
    rows = []
    for label, (a, b) in pairs.items():
        noise = seed_variance(df.assign(_d=df[a] - df[b]), "_d", by=by, level=level)
        threshold = seed_noise_threshold(noise.pooled_std, n_b=math.inf, level=level)
        d_first = (first[a] - first[b]).dropna()
        r = paired_difference(first[a], first[b], n_boot=n_boot, level=level, seed=seed)
        share, low, high = wilson_ci(int((d_first.abs() > threshold).sum()), len(d_first),
                                     level=level)  # fmt: skip
        rows.append(dict(difference=label, median=r.estimate, low=r.low, high=r.high,
                         p=r.p_value, seed_std=noise.pooled_std, threshold=threshold,
                         median_beyond=bool(abs(r.estimate) > threshold), beyond=share,
                         beyond_low=low, beyond_high=high, n=r.n))  # fmt: skip
    out = pd.DataFrame(rows, columns=columns).set_index("difference")
    out.insert(4, "p_holm", correct_pvalues(out["p"].to_numpy(), method="holm") if len(out) else [])
    return out


def seed_retest_taus(
    df: pd.DataFrame,
    columns: Sequence[str],
    *,
    seeds: Sequence[int],
    min_archs: int = 5,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """τ-b between two seeds' runs of the same architectures, measured directly.

    Parameters
    ----------
    df : DataFrame
        Rows of one space, dataset and fidelity, every seed, with ``arch`` and ``seed``.
    columns : sequence of str
    seeds : pair of int
        The two seeds compared.
    min_archs : int, default 5
        Fewest architectures run with both seeds.
    n_boot, level, seed
        Of the bootstrap interval (:func:`kendall_ci`).

    Returns
    -------
    DataFrame
        Indexed by ``column``: ``tau``, ``low``, ``high``, ``n``; columns with fewer than
        `min_archs` architectures run with both seeds are left out.
    """
    if len(seeds) != 2:
        raise ValueError(f"Expected `seeds` to name two seeds, got {list(seeds)}.")
    rows = []
    for column in columns:
        wide = df.pivot_table(index="arch", columns="seed", values=column)
        if not set(seeds) <= set(wide.columns):
            continue
        both = wide[list(seeds)].dropna()
        if len(both) >= min_archs:
            r = kendall_ci(both[seeds[0]], both[seeds[1]], n_boot=n_boot, level=level, seed=seed)
            rows.append({"column": column, "tau": r.tau, "low": r.low, "high": r.high, "n": r.n})
    return pd.DataFrame(rows, columns=["column", "tau", "low", "high", "n"]).set_index("column")


def device_shift_table(
    df: pd.DataFrame,
    first: pd.DataFrame,
    table: pd.DataFrame,
    columns: Sequence[str],
    *,
    by: Sequence[str] = ("space", "arch", "dataset", "fidelity"),
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Does the device (or precision) of the repeated runs shift a column? And the ICC without it.

    The repeated architectures' runs on the device of their first seed are compared, paired by
    architecture, with the mean of their runs on other devices (mean difference, bootstrap
    interval, sign-flip test); and the seed noise and ICC are recomputed from the runs of the
    other device alone, where it repeated at least two architectures.

    Parameters
    ----------
    df : DataFrame
        Every seed's rows of one space, dataset and fidelity, with ``device``.
    first : DataFrame
        One row per network (its lowest seed).
    table : DataFrame
        :func:`seed_noise_table` of all runs (``pooled_std``, ``icc``), indexed by column.
    columns : sequence of str
    by : sequence of str
    n_boot, level, seed

    Returns
    -------
    DataFrame
        Indexed by ``column``: ``shift`` (first device − other), ``low``, ``high``, ``p``,
        ``architectures``, ``sp_all``, ``sp_one_device``, ``icc_all``, ``icc_one_device``;
        ``attrs["first_device"]``. Empty when every repeated run shares one device.
    """
    out_columns = ["column", "shift", "low", "high", "p", "architectures", "sp_all",
                   "sp_one_device", "icc_all", "icc_one_device"]  # fmt: skip
    empty = pd.DataFrame(columns=out_columns).set_index("column")
    check_columns(df, [*by, "seed", "device"])
    counts = df.groupby(list(by))["seed"].transform("nunique")
    runs = df[counts >= 2]
    if runs.empty:
        return empty
    repeated = set(runs["arch"])
    first_device = first.loc[first["arch"].isin(repeated), "device"].mode().iloc[0]
    other = runs[runs["device"] != first_device]
    if other.empty:
        return empty
    rows = []
    for column in columns:
        on_first = runs[runs["device"] == first_device].groupby("arch")[column].mean()
        both = pd.concat({"first": on_first, "other": other.groupby("arch")[column].mean()},
                         axis=1).dropna()  # fmt: skip
        shift = paired_difference(both["first"], both["other"], statistic="mean",
                                  test="sign-flip", n_boot=n_boot, level=level, seed=seed)
        there = int((other.dropna(subset=[column]).groupby(list(by)).size() >= 2).sum())
        same = seed_variance(other, column, by=by, level=level) if there >= 2 else None
        rows.append(dict(column=column, shift=shift.estimate, low=shift.low, high=shift.high,
                         p=shift.p_value, architectures=shift.n,
                         sp_all=table.loc[column, "pooled_std"],
                         sp_one_device=np.nan if same is None else same.pooled_std,
                         icc_all=table.loc[column, "icc"],
                         icc_one_device=np.nan if same is None else same.icc))  # fmt: skip
    out = pd.DataFrame(rows, columns=out_columns).set_index("column")
    out.attrs["first_device"] = str(first_device)
    return out


# Seed noise, in words: the seed-noise chapter's findings as sentences (calstudy.report's formats)


def _group_label(row: Any) -> str:
    return f"{str(row.space).upper()} {row.dataset} (`{row.fidelity}`)"


def seed_groups_sentence(groups: pd.DataFrame, *, min_repeated: int, not_stated: int = -1) -> str:
    """What :func:`seed_study_groups` found, in words, and which groups have a seed study.

    `not_stated` is the seed of rows whose training seed is unknown (the paper's import).
    """
    from calstudy import report

    def described(g: Any) -> str:
        if g.n_repeated:
            return (f"{g.n_repeated} of them trained with up to {g.max_seeds} seeds (seeds "
                    f"{report.join(g.seeds)})")
        if list(g.seeds) == [not_stated]:
            return "one row each, its training seed not stated (as in the paper's released data)"
        return f"each trained once (seed {report.join(g.seeds)})"

    studied = groups[groups["n_repeated"] >= min_repeated]
    text = "The networks analysed here: " + report.join(
        f"{_group_label(g)}: {report.plural(g.n_archs, 'architecture')}, {described(g)}"
        for g in groups.itertuples()) + ". "
    if len(studied):
        return text + ("The seed-noise sections below use "
                       + report.join(_group_label(g) for g in studied.itertuples()) + ".")
    return text + (f"No group has {min_repeated} architectures trained twice (`min_rows`), so the "
                   "seed-noise sections are skipped; a sweep gets a seed study when some of its "
                   "architectures are trained again with other seeds (`calstudy sweep --config "
                   "configs/demo-seeds.yaml --out <store>`).")


def seed_noise_sentence(table: pd.DataFrame, columns: Sequence[str]) -> str:
    """:func:`seed_noise_table`'s range of ICCs and the named `columns`' figures, in words."""
    from calstudy import report

    ranked = table.sort_values("icc")

    def icc(c: str) -> str:
        return report.ci(table.loc[c, "icc"], table.loc[c, "icc_low"], table.loc[c, "icc_high"],
                         signed=False)

    return (f"over {int(table['n_repeated'].max())} repeated architectures the ICC runs from "
            f"{icc(ranked.index[0])} (`{ranked.index[0]}`) to {icc(ranked.index[-1])} "
            f"(`{ranked.index[-1]}`); " + report.join(
                f"`{c}` {icc(c)} (retest τ {report.fixed(table.loc[c, 'retest_tau'], signed=False)}"
                f", {report.pct(table.loc[c, 'frac_resolved'], 0)} of architecture pairs beyond "
                "seed noise)" for c in columns if c in table.index) + ".")  # fmt: skip


def seed_gaps_sentence(gaps: pd.DataFrame) -> str:
    """:func:`seed_noise_gaps` in words."""
    from calstudy import report

    return report.join(
        f"`{c}`: the best network's lead over the median ({report.num(r.observed)}) "
        f"{'exceeds' if r.exceeds else 'does not exceed'} seed noise ({report.num(r.noise_gap)})"
        for c, r in gaps.iterrows()) + "."


def seed_difference_sentence(name: str, row: pd.Series, *, alpha: float = 0.05) -> str:
    """One row of :func:`seed_noise_differences` in words."""
    from calstudy import report

    real = "real over networks" if row["p_holm"] < alpha else "not detected over networks"
    return (f"`{name}`: median {report.ci(row['median'], row['low'], row['high'], 4)}, Holm p "
            f"{report.pvalue(row['p_holm'])} ({real}); the median is "
            f"{'visible' if row['median_beyond'] else 'not visible'} on a single network (seed "
            f"threshold {report.num(row['threshold'])}); {report.pct(row['beyond'], 0)} "
            f"[{report.pct(row['beyond_low'], 0)}, {report.pct(row['beyond_high'], 0)}] of "
            "networks exceed it.")


def seed_ceiling_sentence(
    table: pd.DataFrame, kept: TauResult, retests: pd.DataFrame, *, pre: str, post: str,
    seeds: Sequence[int],
) -> str:  # fmt: skip
    """The τ between `pre` and `post`, the largest τ their seed noise allows (Spearman's
    attenuation through :func:`retest_tau`), and the direct two-seed τ, in words."""
    from calstudy import report

    ceiling = float(retest_tau(np.sqrt(table.loc[pre, "icc"] * table.loc[post, "icc"])))
    text = (f"τ(`{pre}`, `{post}`) over the single-seed networks: {report.tau(kept)}; the largest "
            f"τ seed noise allows ≈ {report.fixed(ceiling, signed=False)} (from ICC "
            f"{report.fixed(table.loc[pre, 'icc'], signed=False)} and "
            f"{report.fixed(table.loc[post, 'icc'], signed=False)}). ")  # fmt: skip
    if retests.empty:
        return text + f"Fewer than 5 architectures hold seeds {list(seeds)}: no direct retest τ."
    return text + (f"Between seeds {seeds[0]} and {seeds[1]} of the same architectures: "
                   + report.join(f"`{c}` {report.tau(r)} (expected from the ICC "
                                 f"{report.fixed(table.loc[c, 'retest_tau'])})"
                                 for c, r in retests.iterrows()) + ".")  # fmt: skip


def device_shift_sentence(check: pd.DataFrame) -> str:
    """:func:`device_shift_table` in words."""
    from calstudy import report

    return "device check: " + report.join(
        f"`{c}` shifts by {report.ci(r['shift'], r['low'], r['high'], 4)} "
        f"({'shift detected' if r['low'] > 0 or r['high'] < 0 else 'no shift detected'}; ICC "
        f"{report.fixed(r['icc_all'], signed=False)} from all runs, "
        f"{report.fixed(r['icc_one_device'], signed=False)} from one device's)"
        for c, r in check.iterrows()) + "."  # fmt: skip


def reproducibility_sentence(
    table: pd.DataFrame, devices: pd.DataFrame, *, pre: str, post: str
) -> str:
    """Whether accuracy is more reproducible across seeds than `pre` and `post` (ICC), on all
    runs and, where :func:`device_shift_table` has them, on one device's runs."""
    from calstudy import report

    def more(a: float, b: float) -> str:
        return "more" if a > b else "not more"

    shown = ["acc", pre, post]
    text = (f"accuracy is {more(table.loc['acc', 'icc'], table.loc[[pre, post], 'icc'].max())} "
            f"reproducible across seeds than `{pre}` and `{post}` (ICC " + report.join(
                f"{c} {report.ci(table.loc[c, 'icc'], table.loc[c, 'icc_low'], table.loc[c, 'icc_high'], signed=False)}"
                for c in shown) + f"); `{pre}` is "
            f"{more(table.loc[pre, 'icc'], table.loc[post, 'icc'])} reproducible than `{post}`")
    if not devices.empty and set(shown) <= set(devices.index):
        one = devices["icc_one_device"]
        text += (f"; on one device's runs accuracy is {more(one['acc'], one[[pre, post]].max())} "
                 "reproducible than both")
    return text + "."


def isomorphic_sentences(table: pd.DataFrame) -> list[str]:
    """:func:`isomorphic_icc_table` in words, one sentence per dataset and fidelity."""
    from calstudy import report

    said = []
    for (dataset, fidelity), rows in table.groupby(["dataset", "fidelity"], sort=True):
        r0 = rows.iloc[0]
        head = f"TSS {dataset} (`{fidelity}`)"
        if r0.n_repeated == 0:
            said.append(f"{head}: no two of its {r0.n_strings} strings are isomorphic: no ICC "
                        "across isomorphic strings.")  # fmt: skip
            continue
        said.append(
            f"{head}, isomorphic strings ({r0.n_strings:,} strings in {r0.n_classes:,} classes, "
            f"{r0.n_repeated:,} with two or more): ICC " + report.join(
                f"`{r.metric}` {report.ci(r.icc, r.low, r.high, signed=False)} (retest τ "
                f"{report.fixed(r.retest_tau, signed=False)})" for r in rows.itertuples()) + ".")
    return said
