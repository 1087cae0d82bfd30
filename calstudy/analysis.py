"""Statistics behind the seven research questions: rank agreement, selection, regression.

Every question of the reference study (Tao et al., 2024) is answered with Kendall's τ-b between
two columns of the calibration dataset (one row per ``(space, arch, dataset, seed, fidelity)``),
sometimes on a subset of rows (the top-N models by accuracy), sometimes across datasets (rows of
the same architecture joined by key), sometimes as a regression on architecture features. This
module holds that logic once, so the book's notebooks only call it.

Sections
--------
1. Kendall τ-b and its bootstrap confidence interval (all RQs).
2. Multiple-comparison correction.
3. Selecting rows: top-N by a column, joining datasets by key.
4. Cross-dataset agreement (RQ i) and τ against population size (RQ ii).
5. Harmonic calibration score (RQ vii).
6. Stability across bin counts (RQ iv, vi).
7. Trends and regressions (RQ v, vii).
8. Seed noise, and the paper-vs-calstudy table.

Two defects of the released analysis code are avoided by construction (see
``paper-findings.md``): :func:`top_n` keeps the *highest* N rows (the paper's
``sort_values('acc').head(N)`` kept the lowest), and :func:`paired` joins rows by key columns and
refuses duplicate keys (the paper merged pre- and post-scaling tables by row position).

References
----------
.. [1] L. Tao, Y. Zhu, H. Guo, M. Dong, C. Xu, "A Benchmark Study on Calibration", ICLR 2024.
.. [2] M. G. Kendall, "The treatment of ties in ranking problems", Biometrika 33(3), 1945.
.. [3] B. Efron, R. Tibshirani, "An Introduction to the Bootstrap", Chapman & Hall, 1993.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from calstudy.metrics import BIN_COUNTS
from calstudy.space import TSS_EDGES, TSS_OPS, parse_tss

__all__ = [
    "EDGES",
    "SeedVariance",
    "TauResult",
    "Trend",
    "bin_count_long",
    "bin_count_stability",
    "bin_count_summary",
    "compare_to_paper",
    "correct_pvalues",
    "cross_dataset_tau",
    "fit_trend",
    "hcs",
    "kendall_ci",
    "kendall_tau",
    "ols_table",
    "op_effects",
    "paired",
    "seed_variance",
    "tau_matrix",
    "tau_table",
    "tau_vs_population",
    "top_fraction",
    "top_hcs",
    "top_n",
]

#: Column names of the six TSS cell edges ``edge_{to}_{from}``, in the order of the arch string
#: (as written by :func:`calstudy.space.tss_features`).
EDGES: tuple[str, ...] = tuple(f"edge_{dst}_{src}" for dst, src in TSS_EDGES)


# ================================================================================================
# 1. Kendall τ-b
# ================================================================================================


@dataclass(frozen=True)
class TauResult:
    """Kendall τ-b with a percentile-bootstrap confidence interval.

    Attributes
    ----------
    tau : float
        Kendall τ-b on all ``n`` pairs.
    low, high : float
        Lower and upper end of the bootstrap confidence interval.
    p_value : float
        Two-sided p-value of H0: τ = 0, from :func:`scipy.stats.kendalltau`.
    n : int
        Number of complete (non-NaN) pairs used.
    """

    tau: float
    low: float
    high: float
    p_value: float
    n: int


def _complete_pairs(x: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """Return ``x`` and ``y`` as float arrays with every pair holding a NaN dropped."""
    x_arr = np.asarray(x, dtype=float)
    y_arr = np.asarray(y, dtype=float)
    if x_arr.ndim != 1 or y_arr.ndim != 1 or x_arr.shape != y_arr.shape:
        raise ValueError(
            f"Expected `x` and `y` to be 1-D of equal length, got shapes {x_arr.shape} "
            f"and {y_arr.shape}."
        )
    keep = ~(np.isnan(x_arr) | np.isnan(y_arr))
    if keep.sum() < 3:
        raise ValueError(
            f"Expected at least 3 complete (non-NaN) pairs in `x` and `y`, got {int(keep.sum())}."
        )
    return x_arr[keep], y_arr[keep]


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"Expected `level` to be in (0, 1), got {level}.")


def _check_positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"Expected `{name}` to be a positive integer, got {value!r}.")
    return int(value)


def kendall_tau(x: object, y: object) -> float:
    r"""Kendall's τ-b between two samples, ignoring pairs that hold a NaN.

    .. math::

        \tau_b = \frac{n_c - n_d}{\sqrt{(n_0 - n_x)(n_0 - n_y)}}, \qquad n_0 = n(n-1)/2,

    where :math:`n_c` and :math:`n_d` count concordant and discordant pairs of observations and
    :math:`n_x = \sum_i t_i(t_i - 1)/2` and :math:`n_y = \sum_j u_j(u_j - 1)/2` count the pairs
    tied in ``x`` (groups of :math:`t_i` equal values) and in ``y`` (groups of :math:`u_j`).

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Paired observations. A pair with a NaN on either side is dropped.

    Returns
    -------
    float
        τ-b in [-1, 1]; NaN when ``x`` or ``y`` is constant.

    Raises
    ------
    ValueError
        If the inputs are not 1-D of equal length or fewer than 3 complete pairs remain.

    References
    ----------
    M. G. Kendall, "The treatment of ties in ranking problems", Biometrika 33(3), 1945.

    Examples
    --------
    >>> round(kendall_tau([1, 2, 3, 4], [1, 3, 2, 4]), 4)  # (5 concordant - 1 discordant) / 6
    0.6667
    """
    x_arr, y_arr = _complete_pairs(x, y)
    return float(stats.kendalltau(x_arr, y_arr, variant="b").statistic)


def kendall_ci(
    x: object,
    y: object,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> TauResult:
    r"""Kendall's τ-b with a percentile-bootstrap confidence interval.

    The ``n`` complete pairs are resampled with replacement ``n_boot`` times; the interval is the
    :math:`(\alpha/2, 1-\alpha/2)` percentiles of the resampled τ-b, :math:`\alpha = 1 -` ``level``
    (Efron & Tibshirani, 1993, §13.3). Each resample costs one :math:`O(n \log n)` τ-b (about
    1 ms at ``n = 5,000``), so 1,000 resamples take about a second. For the full 15,625-row
    space a few hundred resamples suffice for two-decimal interval ends.

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Paired observations; pairs holding a NaN are dropped.
    n_boot : int, default=1000
        Number of bootstrap resamples.
    level : float, default=0.95
        Confidence level of the interval.
    seed : int, default=0
        Seed of the resampling generator; the result is a pure function of the inputs.

    Returns
    -------
    TauResult
        ``tau`` on all pairs, ``low``/``high`` of the interval, ``p_value`` of H0: τ = 0
        from :func:`scipy.stats.kendalltau` and ``n`` pairs.

    Examples
    --------
    >>> r = kendall_ci([1, 2, 3, 4, 5, 6], [1, 3, 2, 4, 6, 5], n_boot=200)
    >>> round(r.tau, 3), r.n, r.low <= r.tau <= r.high
    (0.733, 6, True)
    """
    n_boot = _check_positive_int("n_boot", n_boot)
    _check_level(level)
    x_arr, y_arr = _complete_pairs(x, y)
    n = x_arr.size
    result = stats.kendalltau(x_arr, y_arr, variant="b")
    rng = np.random.default_rng(seed)
    boot = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, n, size=n)
        boot[b] = stats.kendalltau(x_arr[idx], y_arr[idx], variant="b").statistic
    alpha = 1.0 - level
    if np.isfinite(boot).any():
        low, high = np.nanquantile(boot, [alpha / 2, 1 - alpha / 2])
    else:  # a constant column: every resample's τ-b is undefined
        low = high = np.nan
    return TauResult(
        tau=float(result.statistic),
        low=float(low),
        high=float(high),
        p_value=float(result.pvalue),
        n=int(n),
    )


def _check_columns(df: pd.DataFrame, columns: Sequence[Hashable], name: str = "df") -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"Expected `{name}` to have columns {missing}, got {list(df.columns)}.")


def tau_matrix(
    df: pd.DataFrame,
    columns: Sequence[str],
    *,
    method: Literal["kendall", "spearman", "pearson"] = "kendall",
) -> pd.DataFrame:
    """Square matrix of pairwise rank correlations between ``columns``.

    Each entry uses the rows complete in both of its columns (pairwise deletion), so one sparse
    column does not shrink every other entry. ``method="kendall"`` is τ-b.

    Parameters
    ----------
    df : DataFrame
        The calibration dataset (or any subset of its rows).
    columns : sequence of str
        Columns to correlate, at least two.
    method : {"kendall", "spearman", "pearson"}, default="kendall"
        Correlation coefficient.

    Returns
    -------
    DataFrame of shape (k, k)
        Symmetric, indexed by ``columns`` on both axes, ones on the diagonal.

    Examples
    --------
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 3, 2, 4]})
    >>> tau_matrix(d, ["a", "b"]).loc["a", "b"].round(3)
    np.float64(0.667)
    """
    if method not in ("kendall", "spearman", "pearson"):
        raise ValueError(
            f"Expected `method` to be 'kendall', 'spearman' or 'pearson', got {method!r}."
        )
    columns = list(columns)
    if len(columns) < 2:
        raise ValueError(f"Expected `columns` to name at least 2 columns, got {columns}.")
    _check_columns(df, columns)
    matrix = df[columns].astype(float).corr(method=method, min_periods=3)
    values = matrix.to_numpy(copy=True)
    np.fill_diagonal(values, 1.0)
    values = (values + values.T) / 2  # exact symmetry regardless of summation order
    return pd.DataFrame(values, index=columns, columns=columns)


def tau_table(
    df: pd.DataFrame,
    pairs: Sequence[tuple[str, str]],
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Long table of τ-b with bootstrap intervals for chosen column pairs.

    Parameters
    ----------
    df : DataFrame
        The calibration dataset.
    pairs : sequence of (str, str)
        Column pairs ``(x, y)``.
    n_boot, level, seed
        As in :func:`kendall_ci`; every pair uses the same ``seed``.

    Returns
    -------
    DataFrame
        Columns ``x, y, tau, low, high, p, n``, one row per pair in the given order. Correct the
        ``p`` column for multiplicity with :func:`correct_pvalues`.
    """
    rows = []
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f"Expected each of `pairs` to be a pair of column names, got {pair}.")
        x, y = pair
        _check_columns(df, [x, y])
        r = kendall_ci(df[x], df[y], n_boot=n_boot, level=level, seed=seed)
        rows.append(
            {"x": x, "y": y, "tau": r.tau, "low": r.low, "high": r.high, "p": r.p_value, "n": r.n}
        )
    return pd.DataFrame(rows, columns=["x", "y", "tau", "low", "high", "p", "n"])


# ================================================================================================
# 2. Multiple-comparison correction
# ================================================================================================


def correct_pvalues(
    p: object,
    *,
    method: Literal["holm", "bh", "bonferroni"] = "holm",
) -> np.ndarray:
    r"""Adjust p-values for multiple comparisons.

    With the :math:`m` non-NaN p-values sorted, :math:`p_{(1)} \le \dots \le p_{(m)}`:

    - Bonferroni: :math:`\tilde p_{(i)} = \min(1, m\,p_{(i)})`;
    - Holm (1979), controls the family-wise error rate:
      :math:`\tilde p_{(i)} = \max_{j \le i} \min\bigl(1, (m - j + 1)\,p_{(j)}\bigr)`;
    - Benjamini–Hochberg (1995), controls the false discovery rate:
      :math:`\tilde p_{(i)} = \min_{j \ge i} \min\bigl(1, \tfrac{m}{j}\,p_{(j)}\bigr)`.

    Parameters
    ----------
    p : array-like of shape (m,)
        Raw p-values in [0, 1]; NaN entries stay NaN and do not count towards :math:`m`.
    method : {"holm", "bh", "bonferroni"}, default="holm"
        Correction.

    Returns
    -------
    ndarray of shape (m,)
        Adjusted p-values, in the input order.

    References
    ----------
    S. Holm, "A simple sequentially rejective multiple test procedure", Scand. J. Stat. 6, 1979.
    Y. Benjamini, Y. Hochberg, "Controlling the false discovery rate", JRSS B 57(1), 1995.

    Examples
    --------
    >>> correct_pvalues([0.01, 0.04, 0.03], method="holm")
    array([0.03, 0.06, 0.06])
    """
    p_arr = np.asarray(p, dtype=float)
    if p_arr.ndim != 1:
        raise ValueError(f"Expected `p` to be 1-D, got shape {p_arr.shape}.")
    finite = ~np.isnan(p_arr)
    if np.any((p_arr[finite] < 0) | (p_arr[finite] > 1)):
        raise ValueError(
            f"Expected `p` to lie in [0, 1], got values in [{p_arr[finite].min()}, "
            f"{p_arr[finite].max()}]."
        )
    out = np.full_like(p_arr, np.nan)
    values = p_arr[finite]
    m = values.size
    if m == 0:
        return out
    order = np.argsort(values, kind="stable")
    ranked = values[order]
    i = np.arange(1, m + 1)
    if method == "bonferroni":
        adjusted = np.minimum(1.0, m * ranked)
    elif method == "holm":
        adjusted = np.maximum.accumulate(np.minimum(1.0, (m - i + 1) * ranked))
    elif method == "bh":
        adjusted = np.minimum.accumulate(np.minimum(1.0, m / i * ranked)[::-1])[::-1]
    else:
        raise ValueError(f"Expected `method` to be 'holm', 'bh' or 'bonferroni', got {method!r}.")
    unsorted = np.empty(m)
    unsorted[order] = adjusted
    out[finite] = unsorted
    return out


# ================================================================================================
# 3. Selecting rows
# ================================================================================================


def top_n(df: pd.DataFrame, n: int, *, by: str = "acc") -> pd.DataFrame:
    """The ``n`` rows with the HIGHEST value of ``by``.

    Rows are sorted by ``by`` descending, ties broken by ``arch`` ascending (by original order
    when there is no ``arch`` column), and rows where ``by`` is NaN are never selected.

    The reference study's released code computed "top-N models by accuracy" as
    ``df.sort_values('acc').head(N)``, which sorts *ascending* and therefore returns the N least
    accurate models. This function is the corrected selection, tested against that defect.

    Parameters
    ----------
    df : DataFrame
        Rows to select from, usually one dataset of the calibration dataset.
    n : int
        Number of rows to keep, at most the number of rows with a value of ``by``.
    by : str, default="acc"
        Column to rank by; higher is better.

    Returns
    -------
    DataFrame
        ``n`` rows of ``df`` (original index kept), best first.

    Examples
    --------
    >>> d = pd.DataFrame({"arch": list("abcd"), "acc": [0.5, 0.9, 0.7, 0.9]})
    >>> top_n(d, 2)["arch"].tolist()
    ['b', 'd']
    """
    n = _check_positive_int("n", n)
    _check_columns(df, [by])
    ranked = df[df[by].notna()]
    if n > len(ranked):
        raise ValueError(
            f"Expected `n` to be at most the number of rows with a value of {by!r} "
            f"({len(ranked)}), got {n}."
        )
    keys = [by, "arch"] if "arch" in df.columns and by != "arch" else [by]
    ascending = [False] + [True] * (len(keys) - 1)
    return ranked.sort_values(keys, ascending=ascending, kind="mergesort").head(n)


def top_fraction(df: pd.DataFrame, fraction: float, *, by: str = "acc") -> pd.DataFrame:
    r"""The best ``fraction`` of rows by ``by``: :func:`top_n` with :math:`n = \lceil f m \rceil`.

    Parameters
    ----------
    df : DataFrame
        Rows to select from.
    fraction : float
        Share of rows to keep, in (0, 1]; :math:`m` counts rows with a value of ``by``.
    by : str, default="acc"
        Column to rank by; higher is better.

    Returns
    -------
    DataFrame
        The selected rows, best first.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"Expected `fraction` to be in (0, 1], got {fraction}.")
    _check_columns(df, [by])
    m = int(df[by].notna().sum())
    if m == 0:
        raise ValueError(f"Expected `df` to have rows with a value of {by!r}, got none.")
    return top_n(df, max(1, math.ceil(fraction * m - 1e-9)), by=by)


_DEFAULT_KEY: tuple[str, ...] = ("space", "arch", "seed", "fidelity")


def _check_unique_keys(df: pd.DataFrame, on: list[str], name: str) -> None:
    duplicated = df.duplicated(subset=on, keep=False)
    if duplicated.any():
        example = df.loc[duplicated, on].iloc[0].to_dict()
        raise ValueError(
            f"Expected `{name}` to have one row per key {on}, got {int(duplicated.sum())} rows "
            f"sharing a key, e.g. {example}."
        )


def paired(
    df_a: pd.DataFrame,
    df_b: pd.DataFrame,
    *,
    on: Sequence[str] = _DEFAULT_KEY,
    suffixes: tuple[str, str] = ("_a", "_b"),
) -> pd.DataFrame:
    """Join the rows of two tables that share a key, never by row position.

    This is the join the reference study should have used to pair pre- and post-scaling tables
    (it merged them by position, after a sort whose result was discarded). Keys present in only
    one table are dropped (inner join).

    Parameters
    ----------
    df_a, df_b : DataFrame
        Tables holding the key columns ``on``; each key must occur at most once per table.
    on : sequence of str, default=("space", "arch", "seed", "fidelity")
        Key columns.
    suffixes : (str, str), default=("_a", "_b")
        Appended to non-key columns present in both tables.

    Returns
    -------
    DataFrame
        One row per key found in both tables, sorted by key, with a fresh index.

    Raises
    ------
    ValueError
        If a key column is missing or a key occurs twice in one table.

    Examples
    --------
    >>> a = pd.DataFrame({"arch": ["x", "y"], "ece": [0.1, 0.2]})
    >>> b = pd.DataFrame({"arch": ["y", "x"], "ece": [0.4, 0.3]})
    >>> paired(a, b, on=["arch"])["ece_b"].tolist()
    [0.3, 0.4]
    """
    on = list(on)
    if not on:
        raise ValueError("Expected `on` to name at least one key column, got [].")
    _check_columns(df_a, on, "df_a")
    _check_columns(df_b, on, "df_b")
    _check_unique_keys(df_a, on, "df_a")
    _check_unique_keys(df_b, on, "df_b")
    merged = df_a.merge(df_b, on=on, how="inner", suffixes=suffixes, validate="one_to_one")
    return merged.sort_values(on, kind="mergesort").reset_index(drop=True)


# ================================================================================================
# 4. Agreement across datasets (RQ i) and across population sizes (RQ ii)
# ================================================================================================


def cross_dataset_tau(
    df: pd.DataFrame,
    metric: str,
    datasets: tuple[str, str] = ("cifar10", "fashion-mnist"),
    *,
    top: int | None = None,
    by: str = "acc",
    on: Sequence[str] = _DEFAULT_KEY,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> TauResult:
    """τ-b between a metric measured on two datasets, pairing rows of the same architecture (RQ i).

    Rows of ``datasets[0]`` and ``datasets[1]`` (column ``dataset``) are joined by the key ``on``
    with :func:`paired`, and τ-b is taken between the two ``metric`` columns. With ``top``, only
    the ``top`` pairs whose ``by`` value on the **first** dataset is highest are kept (the
    selection is made before looking at the second dataset, so it is not conditioned on the
    outcome being correlated).

    Parameters
    ----------
    df : DataFrame
        Calibration dataset holding a ``dataset`` column, the key columns, ``metric`` and ``by``.
    metric : str
        Column to compare, e.g. ``"pre_ECE_15"``.
    datasets : (str, str), default=("cifar10", "fashion-mnist")
        The two values of ``dataset`` to pair.
    top : int, optional
        Keep only the ``top`` best architectures by ``by`` on ``datasets[0]``.
    by : str, default="acc"
        Ranking column for ``top``.
    on : sequence of str, default=("space", "arch", "seed", "fidelity")
        Join key; drop ``"seed"`` after averaging seeds if seeds are not comparable across datasets.
    n_boot, level, seed
        As in :func:`kendall_ci`.

    Returns
    -------
    TauResult
    """
    if len(datasets) != 2 or datasets[0] == datasets[1]:
        raise ValueError(f"Expected `datasets` to be two different dataset names, got {datasets}.")
    _check_columns(df, ["dataset", metric, by, *on])
    columns = list(dict.fromkeys([*on, metric, by]))  # metric may be the ranking column itself
    parts = []
    for name in datasets:
        part = df.loc[df["dataset"] == name, columns]
        if part.empty:
            raise ValueError(
                f"Expected `df` to have rows of dataset {name!r}, got datasets "
                f"{sorted(df['dataset'].unique().tolist())}."
            )
        parts.append(part)
    pairs = paired(parts[0], parts[1], on=on, suffixes=("_a", "_b"))
    if top is not None:
        pairs = top_n(pairs, top, by=f"{by}_a")
    return kendall_ci(
        pairs[f"{metric}_a"], pairs[f"{metric}_b"], n_boot=n_boot, level=level, seed=seed
    )


def tau_vs_population(
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    sizes: Sequence[int],
    n_repeats: int = 20,
    level: float = 0.95,
    seed: int = 0,
    subset: Literal["random", "top"] = "random",
    by: str = "acc",
) -> pd.DataFrame:
    """How τ-b between ``x`` and ``y`` depends on which and how many models are compared (RQ ii).

    - ``subset="random"``: for each size, ``n_repeats`` random subsets of that many rows (drawn
      without replacement); ``tau_mean`` is the mean τ-b over subsets, ``low``/``high`` the
      ``level`` percentile band over subsets (sampling variability of a study of that size).
    - ``subset="top"``: for each size N, the top-N rows by ``by`` (:func:`top_n`); ``tau_mean``
      is τ-b on that single subset and ``low``/``high`` a percentile-bootstrap interval from
      ``n_repeats`` resamples of it.

    Parameters
    ----------
    df : DataFrame
        Rows complete in ``x`` and ``y`` are used.
    x, y : str
        Columns to correlate.
    sizes : sequence of int
        Subset sizes, each between 3 and the number of complete rows.
    n_repeats : int, default=20
        Random subsets (``"random"``) or bootstrap resamples (``"top"``) per size.
    level : float, default=0.95
        Width of the band.
    seed : int, default=0
        Seed of the subset generator.
    subset : {"random", "top"}, default="random"
        How subsets are chosen.
    by : str, default="acc"
        Ranking column for ``subset="top"``.

    Returns
    -------
    DataFrame
        Columns ``size, tau_mean, low, high``, one row per size in the given order.
    """
    if subset not in ("random", "top"):
        raise ValueError(f"Expected `subset` to be 'random' or 'top', got {subset!r}.")
    n_repeats = _check_positive_int("n_repeats", n_repeats)
    _check_level(level)
    needed = [x, y] + ([by] if subset == "top" else [])
    _check_columns(df, needed)
    complete = df.dropna(subset=needed)
    m = len(complete)
    sizes = list(sizes)
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, int | np.integer) or not 3 <= s <= m:
            raise ValueError(
                f"Expected each of `sizes` to be an integer in [3, {m}] (complete rows), got {s!r}."
            )
    rng = np.random.default_rng(seed)
    xs, ys = complete[x].to_numpy(float), complete[y].to_numpy(float)
    alpha = 1.0 - level
    rows = []
    for s in sizes:
        if subset == "random":
            draws = (rng.choice(m, size=int(s), replace=False) for _ in range(n_repeats))
            taus = np.array([kendall_tau(xs[idx], ys[idx]) for idx in draws])
            centre = float(np.nanmean(taus))
            low, high = np.nanquantile(taus, [alpha / 2, 1 - alpha / 2])
        else:
            best = top_n(complete, int(s), by=by)
            r = kendall_ci(best[x], best[y], n_boot=n_repeats, level=level, seed=seed)
            centre, low, high = r.tau, r.low, r.high
        rows.append({"size": int(s), "tau_mean": centre, "low": float(low), "high": float(high)})
    return pd.DataFrame(rows, columns=["size", "tau_mean", "low", "high"])


# ================================================================================================
# 5. Harmonic calibration score
# ================================================================================================


def hcs(acc: object, ece: object) -> np.ndarray:
    r"""Harmonic calibration score: the harmonic mean of accuracy and :math:`1 - \mathrm{ECE}`.

    .. math::

        \mathrm{HCS} = \frac{2\,\mathrm{acc}\,(1 - \mathrm{ECE})}{\mathrm{acc} + 1 - \mathrm{ECE}},

    defined as 0 where the denominator is 0 (``acc = 0`` and ``ECE = 1``). It is high only when
    a model is both accurate and well calibrated (Tao et al., 2024, §4.7).

    Parameters
    ----------
    acc, ece : array-like
        Accuracy and ECE as fractions in [0, 1] (not percent), broadcastable together.

    Returns
    -------
    ndarray
        HCS in [0, 1], of the broadcast shape.

    Examples
    --------
    >>> hcs(0.9, 0.1)
    array(0.9)
    >>> hcs([0.8], [0.5]).round(4)  # 2 * 0.8 * 0.5 / 1.3
    array([0.6154])
    """
    acc_arr = np.asarray(acc, dtype=float)
    ece_arr = np.asarray(ece, dtype=float)
    for name, arr in (("acc", acc_arr), ("ece", ece_arr)):
        finite = arr[~np.isnan(arr)]
        if np.any((finite < 0) | (finite > 1)):
            raise ValueError(
                f"Expected `{name}` to be a fraction in [0, 1], got values in "
                f"[{finite.min()}, {finite.max()}]."
            )
    good = 1.0 - ece_arr
    denominator = acc_arr + good
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(denominator > 0, 2 * acc_arr * good / denominator, 0.0)
    return np.where(np.isnan(denominator), np.nan, score)


def top_hcs(
    df: pd.DataFrame, n: int = 20, *, ece: str = "pre_ECE_15", acc: str = "acc"
) -> pd.DataFrame:
    """The ``n`` rows with the highest harmonic calibration score (RQ vii).

    Parameters
    ----------
    df : DataFrame
        Rows with columns ``acc`` and ``ece`` (fractions).
    n : int, default=20
        Number of rows to keep.
    ece : str, default="pre_ECE_15"
        ECE column.
    acc : str, default="acc"
        Accuracy column.

    Returns
    -------
    DataFrame
        ``df``'s best ``n`` rows with an added ``hcs`` column, best first (:func:`top_n`).
    """
    _check_columns(df, [acc, ece])
    scored = df.assign(hcs=hcs(df[acc], df[ece]))
    return top_n(scored, n, by="hcs")


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
        _check_columns(df, list(found.values()))
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


# ================================================================================================
# 7. Trends and regressions
# ================================================================================================


@dataclass(frozen=True)
class Trend:
    """A fitted curve of ``y`` against ``x`` evaluated on a grid.

    Attributes
    ----------
    kind : {"lowess", "linear", "quadratic"}
        Model.
    x : ndarray of shape (g,)
        Grid over the observed range of ``x``.
    fit : ndarray of shape (g,)
        Fitted mean of ``y`` on the grid.
    low, high : ndarray of shape (g,)
        Pointwise confidence band of the fitted mean; NaN for ``"lowess"``.
    n : int
        Number of complete observations.
    params : dict
        OLS coefficients (``"intercept"``, ``"x"``, ``"x^2"``); empty for ``"lowess"``.
    pvalues : dict
        Their two-sided p-values; empty for ``"lowess"``.
    """

    kind: str
    x: np.ndarray
    fit: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: int
    params: dict[str, float] = field(default_factory=dict)
    pvalues: dict[str, float] = field(default_factory=dict)


def fit_trend(
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    kind: Literal["lowess", "linear", "quadratic"] = "lowess",
    grid_size: int = 100,
    level: float = 0.95,
    frac: float = 2 / 3,
) -> Trend:
    r"""Fit the trend of ``y`` against ``x`` (RQ v: ECE against accuracy).

    - ``"linear"``: OLS :math:`y = \beta_0 + \beta_1 x + \varepsilon`;
    - ``"quadratic"``: OLS :math:`y = \beta_0 + \beta_1 x + \beta_2 x^2 + \varepsilon`;
      both with a pointwise ``level`` confidence band for the mean;
    - ``"lowess"``: locally weighted linear regression (Cleveland, 1979) with smoothing span
      ``frac``, interpolated onto the grid; no band.

    Parameters
    ----------
    df : DataFrame
        Rows complete in ``x`` and ``y`` are used.
    x, y : str
        Predictor and response columns.
    kind : {"lowess", "linear", "quadratic"}, default="lowess"
        Model.
    grid_size : int, default=100
        Grid points between ``min(x)`` and ``max(x)``.
    level : float, default=0.95
        Confidence level of the band.
    frac : float, default=2/3
        LOWESS span, the fraction of points in each local fit.

    Returns
    -------
    Trend

    References
    ----------
    W. S. Cleveland, "Robust locally weighted regression and smoothing scatterplots", JASA 74, 1979.
    """
    import statsmodels.api as sm

    if kind not in ("lowess", "linear", "quadratic"):
        raise ValueError(f"Expected `kind` to be 'lowess', 'linear' or 'quadratic', got {kind!r}.")
    grid_size = _check_positive_int("grid_size", grid_size)
    _check_level(level)
    _check_columns(df, [x, y])
    data = df[[x, y]].astype(float).dropna()
    degree = {"lowess": 1, "linear": 1, "quadratic": 2}[kind]
    if len(data) < degree + 2:
        raise ValueError(
            f"Expected at least {degree + 2} complete rows for a {kind} trend, got {len(data)}."
        )
    xs, ys = data[x].to_numpy(), data[y].to_numpy()
    grid = np.linspace(xs.min(), xs.max(), grid_size)
    if kind == "lowess":
        smoothed = sm.nonparametric.lowess(ys, xs, frac=frac, return_sorted=True)
        fitted = np.interp(grid, smoothed[:, 0], smoothed[:, 1])
        nan = np.full(grid_size, np.nan)
        return Trend(kind=kind, x=grid, fit=fitted, low=nan, high=nan.copy(), n=len(data))
    names = ["intercept", "x", "x^2"][: degree + 1]
    design = np.vander(xs, degree + 1, increasing=True)
    result = sm.OLS(ys, design).fit()
    prediction = result.get_prediction(np.vander(grid, degree + 1, increasing=True))
    band = prediction.conf_int(alpha=1 - level)
    return Trend(
        kind=kind,
        x=grid,
        fit=prediction.predicted_mean,
        low=band[:, 0],
        high=band[:, 1],
        n=len(data),
        params=dict(zip(names, map(float, result.params), strict=True)),
        pvalues=dict(zip(names, map(float, result.pvalues), strict=True)),
    )


def _coefficient_table(result: Any, level: float, correction: str) -> pd.DataFrame:
    """Tidy coefficient table of a fitted statsmodels regression, intercept excluded from the
    multiplicity correction."""
    params = pd.Series(result.params)
    ci = np.asarray(result.conf_int(alpha=1 - level))
    table = pd.DataFrame(
        {
            "term": params.index.astype(str),
            "coef": params.to_numpy(float),
            "low": ci[:, 0],
            "high": ci[:, 1],
            "p": np.asarray(result.pvalues, dtype=float),
        }
    )
    is_intercept = table["term"].isin(["Intercept", "const", "intercept"])
    adjusted = np.full(len(table), np.nan)
    adjusted[~is_intercept.to_numpy()] = correct_pvalues(
        table.loc[~is_intercept, "p"].to_numpy(),
        method=correction,
    )
    table[f"p_{correction}"] = adjusted
    return table


def ols_table(
    df: pd.DataFrame,
    formula: str,
    *,
    level: float = 0.95,
    correction: Literal["holm", "bh", "bonferroni"] = "holm",
    cov_type: str = "HC3",
) -> pd.DataFrame:
    """Fit an OLS model given as a formula and return its coefficients as a tidy table.

    Parameters
    ----------
    df : DataFrame
        Data; rows with a NaN in a used column are dropped.
    formula : str
        Model in Wilkinson notation, e.g. ``"post_ECE_15 ~ acc + I(acc ** 2)"``.
    level : float, default=0.95
        Confidence level of the coefficient intervals.
    correction : {"holm", "bh", "bonferroni"}, default="holm"
        Multiplicity correction applied to every non-intercept p-value.
    cov_type : str, default="HC3"
        statsmodels covariance estimator; ``"HC3"`` is robust to heteroscedasticity.

    Returns
    -------
    DataFrame
        Columns ``term, coef, low, high, p, p_<correction>``.
    """
    import statsmodels.formula.api as smf

    _check_level(level)
    result = smf.ols(formula, data=df).fit(cov_type=cov_type)
    return _coefficient_table(result, level, correction)


def _edge_ops(df: pd.DataFrame) -> pd.DataFrame:
    """Per-edge operation columns ``edge_1_0`` … ``edge_3_2``, taken from ``df`` or parsed from
    its ``arch`` column."""
    if all(e in df.columns for e in EDGES):
        return df[list(EDGES)]
    _check_columns(df, ["arch"])
    parsed = [parse_tss(a) for a in df["arch"]]
    return pd.DataFrame(parsed, columns=list(EDGES), index=df.index)


def op_effects(
    df: pd.DataFrame,
    target: str = "post_ECE_15",
    *,
    encoding: Literal["edge", "count"] = "edge",
    reference: str = "none",
    level: float = 0.95,
    correction: Literal["holm", "bh", "bonferroni"] = "holm",
    cov_type: str = "HC3",
) -> pd.DataFrame:
    r"""Effect of cell operations on a metric, by OLS on the TSS architecture encoding (RQ vii).

    - ``encoding="edge"``: one indicator per (edge, operation) with the ``reference`` operation
      left out on every edge,

      .. math:: y = \beta_0 + \sum_{e=1}^{6} \sum_{o \ne o_{\mathrm{ref}}}
                \beta_{e,o}\,[\mathrm{op}_e = o] + \varepsilon,

      so :math:`\beta_{e,o}` is the change in ``target`` from placing ``o`` instead of the
      reference operation on edge ``e``, other edges fixed. Term names read ``edge_3_0[skip_connect]``.
    - ``encoding="count"``: the number of edges carrying each operation,
      :math:`y = \beta_0 + \sum_{o \ne o_{\mathrm{ref}}} \beta_o n_o + \varepsilon`; the reference
      count is left out because the six counts sum to 6. Term names read ``n_skip_connect``.

    Indicators never observed (an operation absent from an edge in ``df``) are dropped.
    Architectures evaluated with several seeds enter once per row; use ``cov_type`` (default
    HC3, heteroscedasticity-robust) for the standard errors.

    Parameters
    ----------
    df : DataFrame
        Rows of the TSS space, with ``target`` and either ``edge_1_0`` … ``edge_3_2`` or ``arch``.
    target : str, default="post_ECE_15"
        Response column.
    encoding : {"edge", "count"}, default="edge"
        Design.
    reference : str, default="none"
        Operation absorbed into the intercept, one of :data:`calstudy.space.TSS_OPS`.
    level : float, default=0.95
        Confidence level of the coefficient intervals.
    correction : {"holm", "bh", "bonferroni"}, default="holm"
        Multiplicity correction over the non-intercept coefficients.
    cov_type : str, default="HC3"
        statsmodels covariance estimator.

    Returns
    -------
    DataFrame
        Columns ``term, coef, low, high, p, p_<correction>``; the first row is the intercept.
    """
    import statsmodels.api as sm

    if encoding not in ("edge", "count"):
        raise ValueError(f"Expected `encoding` to be 'edge' or 'count', got {encoding!r}.")
    if reference not in TSS_OPS:
        raise ValueError(f"Expected `reference` to be one of {TSS_OPS}, got {reference!r}.")
    _check_level(level)
    _check_columns(df, [target])
    rows = df[df[target].notna()]
    ops = _edge_ops(rows)
    others = [o for o in TSS_OPS if o != reference]
    if encoding == "edge":
        design = pd.DataFrame(
            {f"{e}[{o}]": (ops[e] == o).astype(float) for e in EDGES for o in others},
            index=rows.index,
        )
    else:
        values = ops.to_numpy()
        design = pd.DataFrame(
            {f"n_{o}": (values == o).sum(axis=1).astype(float) for o in others}, index=rows.index
        )
    design = design.loc[:, design.to_numpy().any(axis=0)]
    if len(rows) <= design.shape[1] + 1:
        raise ValueError(
            f"Expected more rows than the {design.shape[1] + 1} coefficients, got {len(rows)}."
        )
    design.insert(0, "intercept", 1.0)
    result = sm.OLS(rows[target].to_numpy(float), design).fit(cov_type=cov_type)
    return _coefficient_table(result, level, correction)


# ================================================================================================
# 8. Seed noise and the paper-vs-calstudy table
# ================================================================================================


@dataclass(frozen=True)
class SeedVariance:
    r"""How much of a metric's spread across architectures is seed noise.

    Attributes
    ----------
    per_arch : DataFrame
        One row per group: the ``by`` columns, then ``mean``, ``std`` (ddof 1) and ``n_seeds``.
    pooled_std : float
        Pooled within-architecture standard deviation
        :math:`s_p = \sqrt{\sum_a (n_a - 1) s_a^2 / \sum_a (n_a - 1)}`.
    between_std : float
        Standard deviation of the architecture means.
    frac_resolved : float
        Fraction of architecture pairs :math:`(a, b)` whose means differ by more than seed noise,
        :math:`|\bar y_a - \bar y_b| > z_{(1+\ell)/2}\, s_p \sqrt{1/n_a + 1/n_b}`.
    """

    per_arch: pd.DataFrame
    pooled_std: float
    between_std: float
    frac_resolved: float


def seed_variance(
    df: pd.DataFrame,
    metric: str,
    *,
    by: Sequence[str] = ("space", "arch", "dataset", "fidelity"),
    level: float = 0.95,
) -> SeedVariance:
    r"""Compare a metric's differences between architectures with its noise across seeds.

    Rows sharing the ``by`` key are repeated trainings (seeds) of one architecture. The pairwise
    count behind :attr:`SeedVariance.frac_resolved` is exact and runs in
    :math:`O(A \log A)` for :math:`A` architectures (sorted means and binary search, per pair of
    seed-count groups), so the full space's 20 M pairs cost milliseconds.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset with several seeds for at least one architecture.
    metric : str
        Column to study, e.g. ``"pre_ECE_15"``.
    by : sequence of str, default=("space", "arch", "dataset", "fidelity")
        Columns identifying one architecture's repeated runs.
    level : float, default=0.95
        Confidence level :math:`\ell` of the "exceeds seed noise" threshold.

    Returns
    -------
    SeedVariance
    """
    by = list(by)
    _check_level(level)
    _check_columns(df, [*by, metric])
    grouped = df.dropna(subset=[metric]).groupby(by, sort=True, dropna=False)[metric]
    per_arch = grouped.agg(mean="mean", std="std", n_seeds="size").reset_index()
    dof = per_arch["n_seeds"].to_numpy() - 1
    if dof.sum() == 0:
        raise ValueError(
            f"Expected at least one architecture in `df` with 2 or more seeds of {metric!r}, "
            "got one seed each."
        )
    variances = np.nan_to_num(per_arch["std"].to_numpy(float) ** 2)
    pooled = float(np.sqrt((dof * variances).sum() / dof.sum()))
    means = per_arch["mean"].to_numpy(float)
    z = float(stats.norm.ppf((1 + level) / 2))
    resolved = _count_resolved_pairs(means, per_arch["n_seeds"].to_numpy(), z * pooled)
    n_arch = len(means)
    total_pairs = n_arch * (n_arch - 1) / 2
    return SeedVariance(
        per_arch=per_arch,
        pooled_std=pooled,
        between_std=float(np.std(means, ddof=1)) if n_arch > 1 else float("nan"),
        frac_resolved=resolved / total_pairs if total_pairs else float("nan"),
    )


def _count_resolved_pairs(means: np.ndarray, n_seeds: np.ndarray, scale: float) -> float:
    r"""Count unordered pairs with :math:`|m_a - m_b| > \text{scale}\sqrt{1/n_a + 1/n_b}`."""
    groups = {k: np.sort(means[n_seeds == k]) for k in np.unique(n_seeds)}
    keys = sorted(groups)
    count = 0.0
    for i, ka in enumerate(keys):
        for kb in keys[i:]:
            threshold = scale * math.sqrt(1 / ka + 1 / kb)
            a, b = groups[ka], groups[kb]
            below = np.searchsorted(b, a - threshold, side="left")
            above = b.size - np.searchsorted(b, a + threshold, side="right")
            pairs = float((below + above).sum())
            count += pairs / 2 if ka == kb else pairs
    return count


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
