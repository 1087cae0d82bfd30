"""RQ vi: the number of bins. Growth of binned estimates with the bin count, the calibrated
floor of a perfectly calibrated model, the stability of rankings across bin counts; the tables
and their sentences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calstudy._checks import check_columns, check_level, check_positive_int
from calstudy.differences import (
    DiffResult,
    bootstrap_difference,
    percentile_interval,
    resampled_statistic,
)
from calstudy.metrics import BIN_COUNTS
from calstudy.questions.groups import GROUP_KEYS, group_parts, group_table
from calstudy.questions.verdicts import ci_words, interval_sign, verdict_groups
from calstudy.questions.versus_paper import position_phrase, range_position
from calstudy.stats import correct_pvalues, kendall_ci, tau_matrix

__all__ = [
    "BINNED_FAMILIES",
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
    "floor_ratios",
    "floor_sentences",
]


# ================================================================================================
# Stability across bin counts
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
    n_sim = check_positive_int(n_sim, "n_sim")
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
        As in :func:`~calstudy.questions.posthoc.scaling_effect`.

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
    (:func:`~calstudy.differences.bootstrap_difference`); ``faster`` is
    :func:`~calstudy.questions.verdicts.interval_sign` of its interval (1: the estimate grows faster
    after scaling).

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    metric : str
        A binned family of :data:`BINNED_FAMILIES`.
    bin_counts : sequence of int
        The smallest and the largest are compared.
    by, n_boot, level, seed, min_rows, alpha
        As in :func:`~calstudy.questions.posthoc.scaling_effect`.

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

    Per group, before and after scaling: the smallest, median and largest τ-b between the family at
    two bin counts over all pairs (:func:`bin_count_stability`), and the difference of the median τ
    after minus before scaling with a paired bootstrap over models
    (:func:`~calstudy.differences.bootstrap_difference`, :math:`\binom{k}{2}` τ per resample and
    condition); ``less_stable`` is 1 where its interval lies below 0 (ranks less stable after
    scaling), -1 above, 0 otherwise.

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
        As in :func:`~calstudy.questions.posthoc.scaling_effect`.
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

    Per group, ``when`` and pair ``(a, b)``: :func:`~calstudy.stats.kendall_ci` between
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
        As in :func:`~calstudy.questions.posthoc.scaling_effect`.

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
      and where the paper's value lies (:func:`~calstudy.questions.versus_paper.range_position`).
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
