"""Differences with intervals: paired and two-sample statistics, proportions, simulations.

The book states a difference (post − pre scaling, one group against another, one estimator
against another) only with an interval: a percentile bootstrap of a statistic, a paired or
two-sample test, a Wilson interval for a share of networks, or a Monte-Carlo difference of two
metrics on simulated samples. τ against τ is in :mod:`calstudy.stats`.

References
----------
.. [1] B. Efron, R. Tibshirani, "An Introduction to the Bootstrap", Chapman & Hall, 1993.
.. [2] E. B. Wilson, "Probable inference, the law of succession, and statistical inference",
   JASA 22(158), 1927.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from calstudy._checks import check_columns, check_level, check_nonnegative_int, check_positive_int
from calstudy.stats import (
    complete_pairs,
    dense_ranks,
    normal_interval,
    tau_influence,
    tau_matrix,
    use_asymptotic,
)

__all__ = [
    "DiffResult",
    "bootstrap_diff",
    "bootstrap_difference",
    "bootstrap_statistic",
    "mean_off_diagonal_tau",
    "mean_tau_difference",
    "paired_difference",
    "percentile_interval",
    "resampled_statistic",
    "simulated_difference",
    "tau_difference",
    "wilson_ci",
]


# ================================================================================================
# Differences with intervals: paired and two-sample statistics, τ against τ, proportions
# ================================================================================================


@dataclass(frozen=True)
class DiffResult:
    """A difference with a confidence interval and a p-value; ``test`` says how they were made.

    Attributes
    ----------
    estimate : float
        The difference on the full sample(s).
    low, high : float
        Lower and upper end of the bootstrap confidence interval.
    p_value : float
        Two-sided p-value of H0: no difference, from the test named by ``test``.
    n : int
        Complete pairs (paired designs) or values of the first sample.
    n_b : int
        Values of the second sample (equal to ``n`` for paired designs).
    test : str
        The test behind ``p_value``: ``"wilcoxon"``, ``"sign-flip"``, ``"mannwhitney"``,
        ``"permutation"``, ``"bootstrap"``, ``"simulation"`` or ``"asymptotic"`` (a normal
        interval and z-test from a delta-method standard error, :func:`tau_difference`).
    """

    estimate: float
    low: float
    high: float
    p_value: float
    n: int
    n_b: int
    test: str


_STATISTICS = {"mean": np.mean, "median": np.median}


def _statistic(name: str) -> Any:
    if name not in _STATISTICS:
        raise ValueError(f"Expected `statistic` to be 'mean' or 'median', got {name!r}.")
    return _STATISTICS[name]


def _take(data: Any, idx: np.ndarray) -> Any:
    return data.iloc[idx] if isinstance(data, pd.DataFrame | pd.Series) else data[idx]


def _bootstrap_p(boot: np.ndarray) -> float:
    r"""Two-sided bootstrap p-value of H0: difference 0, by inverting percentile intervals."""
    boot = boot[np.isfinite(boot)]
    if boot.size == 0:
        return float("nan")
    below = (np.count_nonzero(boot <= 0) + 1) / (boot.size + 1)
    above = (np.count_nonzero(boot >= 0) + 1) / (boot.size + 1)
    return float(min(1.0, 2 * min(below, above)))


def percentile_interval(boot: np.ndarray, level: float) -> tuple[float, float]:
    """The percentile interval at ``level`` of resampled statistics ``boot`` (NaN ignored).

    Examples
    --------
    >>> percentile_interval(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 0.5)
    (2.0, 4.0)
    """
    alpha = 1.0 - level
    if not np.isfinite(boot).any():
        return float("nan"), float("nan")
    low, high = np.nanquantile(boot, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def bootstrap_difference(
    statistic: Any,
    a: Any,
    b: Any,
    *,
    paired: bool = False,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> DiffResult:
    r"""Difference :math:`\theta(a) - \theta(b)` of any statistic, with a bootstrap interval.

    - ``paired=True``: ``a`` and ``b`` hold the same units in the same order (the same
      networks under two conditions); each resample draws one set of row indices with
      replacement and applies it to both, so the dependence between the two statistics is kept.
    - ``paired=False``: ``a`` and ``b`` are independent samples, each resampled on its own
      (the stratified bootstrap).

    The interval is the :math:`(\alpha/2, 1-\alpha/2)` percentiles of the ``n_boot`` resampled
    differences :math:`\hat\Delta^*`, :math:`\alpha = 1 -` ``level``. The p-value is the
    smallest :math:`\alpha` whose percentile interval excludes 0,

    .. math:: p = \min\Bigl(1,\ 2 \min\bigl(\tfrac{1 + \#\{\hat\Delta^* \le 0\}}{B + 1},
              \tfrac{1 + \#\{\hat\Delta^* \ge 0\}}{B + 1}\bigr)\Bigr)

    (Efron & Tibshirani, 1993, §15.4 and §16.4), so it never falls below :math:`2/(B+1)`.
    Resamples whose statistic is NaN are left out.

    Parameters
    ----------
    statistic : callable
        ``statistic(sample) -> float``; a sample is ``a`` or ``b`` with rows resampled
        (``DataFrame.iloc`` for pandas objects, fancy indexing for arrays).
    a, b : array-like or DataFrame
        The two samples (rows are units).
    paired : bool, default=False
        Resample rows jointly (``a`` and ``b`` must have as many rows) or separately.
    n_boot, level, seed
        As in :func:`~calstudy.stats.kendall_ci`.

    Returns
    -------
    DiffResult
        ``test`` is ``"bootstrap"``.

    Examples
    --------
    >>> r = bootstrap_difference(np.mean, np.arange(10.0), np.arange(10.0) - 5, paired=True)
    >>> r.estimate, r.low, r.high
    (5.0, 5.0, 5.0)
    """
    n_boot = check_positive_int(n_boot, "n_boot")
    check_level(level)
    if not callable(statistic):
        raise ValueError(f"Expected `statistic` to be callable, got {statistic!r}.")
    a = a if isinstance(a, pd.DataFrame | pd.Series) else np.asarray(a)
    b = b if isinstance(b, pd.DataFrame | pd.Series) else np.asarray(b)
    n_a, n_b = len(a), len(b)
    if paired and n_a != n_b:
        raise ValueError(
            f"Expected `a` and `b` to have as many rows when `paired`, got {n_a} and {n_b}."
        )
    if min(n_a, n_b) < 2:
        raise ValueError(f"Expected `a` and `b` to hold at least 2 rows each, got {n_a}, {n_b}.")
    estimate = float(statistic(a)) - float(statistic(b))
    rng = np.random.default_rng(seed)
    boot = np.empty(n_boot)
    for i in range(n_boot):
        idx_a = rng.integers(0, n_a, size=n_a)
        idx_b = idx_a if paired else rng.integers(0, n_b, size=n_b)
        boot[i] = float(statistic(_take(a, idx_a))) - float(statistic(_take(b, idx_b)))
    low, high = percentile_interval(boot, level)
    return DiffResult(estimate, low, high, _bootstrap_p(boot), n_a, n_b, "bootstrap")


def resampled_statistic(
    values: np.ndarray, stat: Any, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """``stat`` over ``n_boot`` resamples of ``values``, vectorised in blocks of ~1 M draws."""
    n = values.size
    out = np.empty(n_boot)
    block = max(1, 1_000_000 // n)
    for start in range(0, n_boot, block):
        size = min(block, n_boot - start)
        out[start : start + size] = stat(values[rng.integers(0, n, size=(size, n))], axis=1)
    return out


def paired_difference(
    a: object,
    b: object = 0.0,
    *,
    statistic: Literal["median", "mean"] = "median",
    test: Literal["wilcoxon", "sign-flip"] = "wilcoxon",
    n_boot: int = 1000,
    n_perm: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> DiffResult:
    r"""Median (or mean) of paired differences :math:`d_i = a_i - b_i`, with interval and test.

    The estimate is :math:`\operatorname{median}_i d_i` (or the mean); its interval is the
    percentile bootstrap over the :math:`n` complete pairs (Efron & Tibshirani, 1993). The
    p-value tests H0: the :math:`d_i` are symmetric about 0, with

    - ``test="wilcoxon"``: the Wilcoxon signed-rank test (zero differences dropped; scipy's
      exact distribution for small :math:`n`, the normal approximation otherwise); or
    - ``test="sign-flip"``: a Monte-Carlo permutation test that flips the sign of each
      :math:`d_i` at random ``n_perm`` times and compares :math:`|\theta(\pm d)|` with
      :math:`|\theta(d)|`, :math:`p = (1 + \#\{|\theta^*| \ge |\theta|\}) / (1 + n_{perm})`.

    With a scalar ``b`` this is the one-sample version (e.g. ``paired_difference(T, 1.0)``:
    is the median temperature different from 1?).

    Parameters
    ----------
    a : array-like of shape (n,)
        First measurement of each unit (e.g. ECE after a post-hoc method).
    b : array-like of shape (n,) or float, default=0.0
        Second measurement of the same units, in the same order, or a fixed value.
    statistic : {"median", "mean"}, default="median"
        Summary of the differences.
    test : {"wilcoxon", "sign-flip"}, default="wilcoxon"
        Test behind the p-value.
    n_boot : int, default=1000
        Bootstrap resamples of the interval.
    n_perm : int, default=2000
        Sign flips of ``test="sign-flip"``.
    level : float, default=0.95
        Confidence level.
    seed : int, default=0
        Seed of the resampling.

    Returns
    -------
    DiffResult

    Raises
    ------
    ValueError
        If the inputs do not pair up or fewer than 3 complete pairs remain.

    References
    ----------
    F. Wilcoxon, "Individual comparisons by ranking methods", Biometrics Bulletin 1(6), 1945.
    B. Efron, R. Tibshirani, "An Introduction to the Bootstrap", Chapman & Hall, 1993.

    Examples
    --------
    >>> r = paired_difference([3, 4, 5, 6, 7.0], [1, 2, 3, 4, 5.0], n_boot=100)
    >>> r.estimate, r.low, r.high
    (2.0, 2.0, 2.0)
    """
    stat = _statistic(statistic)
    if test not in ("wilcoxon", "sign-flip"):
        raise ValueError(f"Expected `test` to be 'wilcoxon' or 'sign-flip', got {test!r}.")
    n_boot = check_positive_int(n_boot, "n_boot")
    n_perm = check_positive_int(n_perm, "n_perm")
    check_level(level)
    a_arr = np.asarray(a, dtype=float)
    b_arr = np.broadcast_to(np.asarray(b, dtype=float), a_arr.shape) if np.ndim(b) == 0 else b
    x, y = complete_pairs(a_arr, b_arr)
    d = x - y
    rng = np.random.default_rng(seed)
    estimate = float(stat(d))
    low, high = percentile_interval(resampled_statistic(d, stat, n_boot, rng), level)
    if not np.any(d != 0):
        p = 1.0
    elif test == "wilcoxon":
        p = float(stats.wilcoxon(d[d != 0]).pvalue)
    else:
        signs = rng.choice([-1.0, 1.0], size=(n_perm, d.size))
        flipped = np.abs(stat(signs * d, axis=1))
        p = float((1 + np.count_nonzero(flipped >= abs(estimate) - 1e-12)) / (1 + n_perm))
    return DiffResult(estimate, low, high, p, int(d.size), int(d.size), test)


def _finite(name: str, values: object, minimum: int) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"Expected `{name}` to be 1-D, got shape {arr.shape}.")
    arr = arr[~np.isnan(arr)]
    if arr.size < minimum:
        raise ValueError(
            f"Expected `{name}` to hold at least {minimum} non-NaN values, got {arr.size}."
        )
    return arr


def bootstrap_diff(
    a: object,
    b: object,
    *,
    statistic: Literal["median", "mean"] = "median",
    test: Literal["mannwhitney", "permutation"] = "mannwhitney",
    n_boot: int = 1000,
    n_perm: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> DiffResult:
    r"""Difference of medians (or means) of two independent samples, with interval and test.

    The estimate is :math:`\theta(a) - \theta(b)`; its interval resamples each sample on its
    own (stratified percentile bootstrap, Efron & Tibshirani, 1993, §8.3). The p-value is

    - ``test="mannwhitney"``: the two-sided Mann–Whitney U test (H0: neither sample tends to
      exceed the other); or
    - ``test="permutation"``: a Monte-Carlo permutation test of the statistic difference,
      re-splitting the pooled values ``n_perm`` times,
      :math:`p = (1 + \#\{|\Delta^*| \ge |\Delta|\}) / (1 + n_{perm})`.

    For the same units measured twice use :func:`paired_difference`, which is more powerful.

    Parameters
    ----------
    a, b : array-like
        The two samples; NaNs are dropped. Each needs at least 2 values.
    statistic : {"median", "mean"}, default="median"
        Summary compared.
    test : {"mannwhitney", "permutation"}, default="mannwhitney"
        Test behind the p-value.
    n_boot, n_perm, level, seed
        As in :func:`paired_difference`.

    Returns
    -------
    DiffResult

    References
    ----------
    H. B. Mann, D. R. Whitney, "On a test of whether one of two random variables is
    stochastically larger than the other", Ann. Math. Stat. 18(1), 1947.

    Examples
    --------
    >>> r = bootstrap_diff([5.0, 5, 5, 5], [1.0, 1, 1], n_boot=50)
    >>> r.estimate, r.low, r.high, r.n, r.n_b
    (4.0, 4.0, 4.0, 4, 3)
    """
    stat = _statistic(statistic)
    if test not in ("mannwhitney", "permutation"):
        raise ValueError(f"Expected `test` to be 'mannwhitney' or 'permutation', got {test!r}.")
    n_boot = check_positive_int(n_boot, "n_boot")
    n_perm = check_positive_int(n_perm, "n_perm")
    check_level(level)
    x, y = _finite("a", a, 2), _finite("b", b, 2)
    rng = np.random.default_rng(seed)
    estimate = float(stat(x) - stat(y))
    boot = resampled_statistic(x, stat, n_boot, rng) - resampled_statistic(y, stat, n_boot, rng)
    low, high = percentile_interval(boot, level)
    pooled = np.concatenate([x, y])
    if np.ptp(pooled) == 0:
        p = 1.0
    elif test == "mannwhitney":
        p = float(stats.mannwhitneyu(x, y, alternative="two-sided").pvalue)
    else:
        perms = np.argsort(rng.random((n_perm, pooled.size)), axis=1)
        shuffled = pooled[perms]
        diffs = stat(shuffled[:, : x.size], axis=1) - stat(shuffled[:, x.size :], axis=1)
        p = float((1 + np.count_nonzero(np.abs(diffs) >= abs(estimate) - 1e-12)) / (1 + n_perm))
    return DiffResult(estimate, low, high, p, int(x.size), int(y.size), test)


def _normal_difference(
    estimate: float, variance: float, level: float, bound: float, n: int, n_b: int
) -> DiffResult:
    r"""A difference with its normal interval and two-sided p-value :math:`2\Phi(-|z|)`."""
    se = math.sqrt(variance) if variance >= 0 else float("nan")
    low, high = normal_interval(estimate, se, level, bound)
    if not (np.isfinite(estimate) and np.isfinite(se)):
        p = float("nan")
    elif se == 0:
        p = 1.0 if estimate == 0 else 0.0
    else:
        p = float(2 * stats.norm.sf(abs(estimate) / se))
    return DiffResult(float(estimate), low, high, p, int(n), int(n_b), "asymptotic")


def _tau_phi(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The linearisation φ of τ-b (:func:`~calstudy.stats.tau_influence`) over complete samples."""
    return tau_influence(*dense_ranks(x), *dense_ranks(y))[1]


def tau_difference(
    x1: object,
    y1: object,
    x2: object,
    y2: object,
    *,
    paired: bool = True,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    method: Literal["auto", "bootstrap", "asymptotic"] = "auto",
) -> DiffResult:
    r"""Difference of two Kendall τ-b, :math:`\tau(x_1, y_1) - \tau(x_2, y_2)`, with an interval.

    - ``paired=True``: the four columns are measured on the same units (e.g. τ(ECE, KSCE) −
      τ(ECE, cwCE) over the same networks, or τ of a metric between two datasets minus τ of
      accuracy between them). The two τ are then dependent, and the bootstrap resamples whole
      rows so the interval accounts for it; rows with a NaN in any column are dropped.
    - ``paired=False``: the pairs :math:`(x_1, y_1)` and :math:`(x_2, y_2)` come from
      independent samples (e.g. the most accurate networks and the rest); each is resampled on
      its own.

    With ``method="bootstrap"`` the interval and the p-value are those of
    :func:`bootstrap_difference`. With ``method="asymptotic"`` they are the normal interval
    :math:`\hat\Delta \pm z_{1-\alpha/2}\,\widehat{\mathrm{se}}` (clipped to [-2, 2]) and
    :math:`p = 2\Phi(-|\hat\Delta| / \widehat{\mathrm{se}})`, where each τ is linearised,
    :math:`\hat\tau \approx \tau + \sum_k \phi_k` with :math:`\phi_k = (a_k - \bar a)/w^2`
    of :func:`~calstudy.stats.kendall_ci`, and

    .. math::

        \widehat{\mathrm{se}}^2 = \sum_k \bigl(\phi^{(1)}_k - \phi^{(2)}_k\bigr)^2
        \ \text{(paired)}, \qquad
        \widehat{\mathrm{se}}^2 = \sum_k \bigl(\phi^{(1)}_k\bigr)^2
        + \sum_k \bigl(\phi^{(2)}_k\bigr)^2 \ \text{(independent)}:

    the paired variance is :math:`\mathrm{var}_1 + \mathrm{var}_2 - 2\,\mathrm{cov}_{12}` with the
    covariance of two τ on the same units estimated from the units' concordances (Cliff & Charlin,
    1991), ties included. ``method="auto"`` takes the asymptotic path when every τ has at least
    :data:`~calstudy.stats.TAU_ASYMPTOTIC_MIN_N` complete rows (for independent samples, both), the
    bootstrap otherwise.

    Parameters
    ----------
    x1, y1 : array-like of shape (n,)
        Columns of the first τ.
    x2, y2 : array-like of shape (n,) or (m,)
        Columns of the second τ; of length ``n`` when ``paired``.
    paired : bool, default=True
        Whether the two τ are computed on the same rows.
    n_boot, level, seed
        As in :func:`~calstudy.stats.kendall_ci`.
    method : {"auto", "bootstrap", "asymptotic"}, default="auto"
        Interval method, see above.

    Returns
    -------
    DiffResult
        ``test`` is ``"bootstrap"`` or ``"asymptotic"``; ``n`` and ``n_b`` are the complete
        rows behind each τ.

    References
    ----------
    N. Cliff, V. Charlin, "Variances and covariances of Kendall's tau and their estimation",
    Multivariate Behavioral Research 26(4), 1991.

    Examples
    --------
    >>> x = np.arange(20.0)
    >>> r = tau_difference(x, x, x, -x, n_boot=50)  # τ = +1 minus τ = -1, in every resample
    >>> [round(v, 6) for v in (r.estimate, r.low, r.high)]
    [2.0, 2.0, 2.0]
    """

    def tau_of(sample: np.ndarray) -> float:
        return float(stats.kendalltau(sample[:, 0], sample[:, 1], variant="b").statistic)

    n_boot = check_positive_int(n_boot, "n_boot")
    check_level(level)
    use_asymptotic(method, 0)  # validates `method`
    if paired:
        columns = [np.asarray(v, dtype=float) for v in (x1, y1, x2, y2)]
        if any(c.ndim != 1 for c in columns) or len({c.size for c in columns}) != 1:
            raise ValueError(
                "Expected `x1`, `y1`, `x2`, `y2` to be 1-D of equal length when `paired`, got "
                f"shapes {[c.shape for c in columns]}."
            )
        rows = np.column_stack(columns)
        rows = rows[~np.isnan(rows).any(axis=1)]
        if len(rows) < 3:
            raise ValueError(f"Expected at least 3 complete rows, got {len(rows)}.")
        if use_asymptotic(method, len(rows)):
            estimate = tau_of(rows[:, :2]) - tau_of(rows[:, 2:])
            phi = _tau_phi(rows[:, 0], rows[:, 1]) - _tau_phi(rows[:, 2], rows[:, 3])
            return _normal_difference(
                estimate, float(np.sum(phi**2)), level, 2.0, len(rows), len(rows)
            )
        return bootstrap_difference(
            tau_of, rows[:, :2], rows[:, 2:], paired=True, n_boot=n_boot, level=level, seed=seed
        )
    first = np.column_stack(complete_pairs(x1, y1))
    second = np.column_stack(complete_pairs(x2, y2))
    if use_asymptotic(method, min(len(first), len(second))):
        estimate = tau_of(first) - tau_of(second)
        variance = float(np.sum(_tau_phi(first[:, 0], first[:, 1]) ** 2)) + float(
            np.sum(_tau_phi(second[:, 0], second[:, 1]) ** 2)
        )
        return _normal_difference(estimate, variance, level, 2.0, len(first), len(second))
    return bootstrap_difference(
        tau_of, first, second, paired=False, n_boot=n_boot, level=level, seed=seed
    )


def mean_off_diagonal_tau(df: pd.DataFrame, columns: Sequence[str]) -> float:
    r"""Mean pairwise τ-b among ``columns``: :math:`\frac{2}{k(k-1)} \sum_{i<j} \tau_{ij}`.

    The overall agreement of :math:`k` estimators over the rows of ``df`` (RQ iii);
    :func:`mean_tau_difference` compares the agreement of two conditions, with an interval.
    NaN entries (constant columns) are skipped.

    Parameters
    ----------
    df : DataFrame
        Rows to correlate over.
    columns : sequence of str
        At least two columns.

    Returns
    -------
    float

    Examples
    --------
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 2, 3, 4], "c": [4, 3, 2, 1]})
    >>> round(mean_off_diagonal_tau(d, ["a", "b", "c"]), 4)  # (1 - 1 - 1) / 3
    -0.3333
    """
    values = tau_matrix(df, columns).to_numpy()
    off = values[~np.eye(len(values), dtype=bool)]
    return float(np.nanmean(off)) if np.isfinite(off).any() else float("nan")


def _mean_tau_phi(df: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Linearisation over the rows of ``df`` of :func:`mean_off_diagonal_tau`.

    Each pair's φ (:func:`~calstudy.stats.tau_influence`, on the rows complete in both columns, 0
    elsewhere) averaged over the pairs whose τ-b is defined, as the mean is.
    """
    values = df[columns].to_numpy(dtype=float)
    present = ~np.isnan(values)
    ranks = []
    for j in range(values.shape[1]):
        r = np.zeros(len(values), dtype=np.int64)
        r[present[:, j]], count = dense_ranks(values[present[:, j], j])
        ranks.append((r, count))
    total = np.zeros(len(values))
    pairs = 0
    for i, j in itertools.combinations(range(len(columns)), 2):
        keep = present[:, i] & present[:, j]
        if keep.sum() < 3:
            continue
        (ri, ni), (rj, nj) = ranks[i], ranks[j]
        tau, phi = tau_influence(ri[keep], ni, rj[keep], nj)
        if np.isfinite(tau):
            total[keep] += phi
            pairs += 1
    return total / pairs if pairs else np.full(len(values), np.nan)


def mean_tau_difference(
    a: pd.DataFrame,
    b: pd.DataFrame,
    columns: Sequence[str],
    *,
    paired: bool = True,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    method: Literal["auto", "bootstrap", "asymptotic"] = "auto",
) -> DiffResult:
    r"""Difference of mean pairwise τ-b, :math:`\bar\tau(a) - \bar\tau(b)`, with an interval.

    :math:`\bar\tau` is :func:`mean_off_diagonal_tau` over ``columns``: the overall agreement of
    several estimators (RQ iii: after against before temperature scaling, one dataset against
    another). A bootstrap of it recomputes :math:`k(k-1)/2` τ per resample, minutes at
    :math:`n = 15{,}625` rows and :math:`k = 12`; this function gives the same result as
    ``bootstrap_difference(lambda f: mean_off_diagonal_tau(f, columns), a, b, ...)`` on the
    bootstrap path and replaces it by the delta method on the asymptotic path:
    :math:`\bar\tau \approx \mathrm{const} + \sum_k \bar\phi_k`, where :math:`\bar\phi_k` is the
    mean over the column pairs of row :math:`k`'s term :math:`\phi_k` of each τ
    (:func:`~calstudy.stats.kendall_ci`, :func:`tau_difference`; 0 for a row missing in that pair),
    and

    .. math::

        \widehat{\mathrm{se}}^2 = \sum_k \bigl(\bar\phi^{(a)}_k - \bar\phi^{(b)}_k\bigr)^2
        \ \text{(paired)}, \qquad
        \widehat{\mathrm{se}}^2 = \sum_k \bigl(\bar\phi^{(a)}_k\bigr)^2
        + \sum_k \bigl(\bar\phi^{(b)}_k\bigr)^2 \ \text{(independent)},

    with the normal interval (clipped to [-2, 2]) and :math:`p = 2\Phi(-|z|)`. ``"auto"``
    takes the asymptotic path when every column pair of both tables has at least
    :data:`~calstudy.stats.TAU_ASYMPTOTIC_MIN_N` complete rows.

    Parameters
    ----------
    a, b : DataFrame
        The two conditions, holding ``columns``. With ``paired``, row ``i`` of ``a`` and of
        ``b`` are the same unit (e.g. one network after and before scaling).
    columns : sequence of str
        At least two columns.
    paired : bool, default=True
        Whether ``a`` and ``b`` hold the same units in the same order.
    n_boot, level, seed
        As in :func:`bootstrap_difference`.
    method : {"auto", "bootstrap", "asymptotic"}, default="auto"
        Interval method, see above.

    Returns
    -------
    DiffResult
        ``test`` is ``"bootstrap"`` or ``"asymptotic"``; ``n`` and ``n_b`` are the rows of
        ``a`` and ``b``.

    References
    ----------
    N. Cliff, V. Charlin, "Variances and covariances of Kendall's tau and their estimation",
    Multivariate Behavioral Research 26(4), 1991.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(60, 1))
    >>> tight = pd.DataFrame(z + 0.1 * rng.normal(size=(60, 3)), columns=list("abc"))
    >>> loose = pd.DataFrame(z + 2.0 * rng.normal(size=(60, 3)), columns=list("abc"))
    >>> r = mean_tau_difference(tight, loose, list("abc"), n_boot=200)
    >>> r.test, r.low > 0
    ('bootstrap', True)
    """
    columns = list(columns)
    if len(columns) < 2:
        raise ValueError(f"Expected `columns` to name at least 2 columns, got {columns}.")
    check_columns(a, columns, "a")
    check_columns(b, columns, "b")
    n_boot = check_positive_int(n_boot, "n_boot")
    check_level(level)
    if paired and len(a) != len(b):
        raise ValueError(
            f"Expected `a` and `b` to have as many rows when `paired`, got {len(a)} and {len(b)}."
        )
    present = [~np.isnan(f[columns].to_numpy(dtype=float)) for f in (a, b)]
    smallest = min(
        int(np.min((p.T.astype(np.int64) @ p)[np.triu_indices(len(columns), 1)])) for p in present
    )
    if not use_asymptotic(method, smallest):

        def agreement(frame: pd.DataFrame) -> float:
            return mean_off_diagonal_tau(frame, columns)

        return bootstrap_difference(
            agreement, a[columns], b[columns], paired=paired, n_boot=n_boot, level=level, seed=seed
        )
    estimate = mean_off_diagonal_tau(a, columns) - mean_off_diagonal_tau(b, columns)
    phi_a, phi_b = _mean_tau_phi(a, columns), _mean_tau_phi(b, columns)
    if paired:
        variance = float(np.sum((phi_a - phi_b) ** 2))
    else:
        variance = float(np.sum(phi_a**2) + np.sum(phi_b**2))
    return _normal_difference(estimate, variance, level, 2.0, len(a), len(b))


def wilson_ci(k: int, n: int, *, level: float = 0.95) -> tuple[float, float, float]:
    r"""A proportion :math:`k/n` with its Wilson score interval.

    .. math::

        \frac{\hat p + \frac{z^2}{2n}}{1 + \frac{z^2}{n}} \pm
        \frac{z}{1 + \frac{z^2}{n}} \sqrt{\frac{\hat p (1 - \hat p)}{n} + \frac{z^2}{4 n^2}},
        \qquad \hat p = k / n,\ z = z_{(1 + \ell)/2},

    the interval recommended over the Wald interval for small :math:`n` and shares near 0 or 1
    (Brown, Cai & DasGupta, 2001); it never leaves [0, 1] and is not degenerate at
    :math:`k = 0` or :math:`k = n`. Use it for shares such as "4 of the 20 top cells".

    Parameters
    ----------
    k : int
        Successes, :math:`0 \le k \le n`.
    n : int
        Trials, at least 1.
    level : float, default=0.95
        Confidence level :math:`\ell`.

    Returns
    -------
    (share, low, high) : tuple of float

    References
    ----------
    E. B. Wilson, "Probable inference, the law of succession, and statistical inference",
    JASA 22(158), 1927.
    L. D. Brown, T. T. Cai, A. DasGupta, "Interval estimation for a binomial proportion",
    Statistical Science 16(2), 2001.

    Examples
    --------
    >>> tuple(round(v, 4) for v in wilson_ci(4, 20))
    (0.2, 0.0807, 0.416)
    """
    k, n = check_nonnegative_int(k, "k"), check_nonnegative_int(n, "n")
    if n < 1 or k > n:
        raise ValueError(f"Expected 0 ≤ `k` ≤ `n` and `n` ≥ 1, got k = {k}, n = {n}.")
    check_level(level)
    z = float(stats.norm.ppf((1 + level) / 2))
    share = k / n
    denominator = 1 + z**2 / n
    centre = (share + z**2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(share * (1 - share) / n + z**2 / (4 * n**2))
    return float(share), float(max(0.0, centre - half)), float(min(1.0, centre + half))


def bootstrap_statistic(
    statistic: Any, data: Any, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    r"""Any statistic of the rows of ``data`` with a percentile-bootstrap interval.

    .. math:: \left[\hat\theta^*_{(\alpha/2)},\ \hat\theta^*_{(1-\alpha/2)}\right],
              \qquad \alpha = 1 - \text{level},

    the quantiles of :math:`\hat\theta` over ``n_boot`` resamples of the rows drawn with
    replacement (Efron & Tibshirani, 1993, §13.3); resamples giving NaN are left out. Use it for
    statistics that are not a metric of ``(probs, labels)`` (for those,
    :func:`calstudy.metrics.bootstrap_ci`), e.g. a fitted temperature.

    Parameters
    ----------
    statistic : callable
        ``statistic(rows) -> float``.
    data : array-like or DataFrame
        Rows to resample (``DataFrame.iloc`` for pandas objects, fancy indexing for arrays).
    n_boot, level, seed
        As in :func:`~calstudy.stats.kendall_ci`.

    Returns
    -------
    (estimate, low, high) : tuple of float
        ``estimate`` is the statistic on all rows.

    Examples
    --------
    >>> bootstrap_statistic(np.mean, np.ones(5), n_boot=20)
    (1.0, 1.0, 1.0)
    """
    n_boot = check_positive_int(n_boot, "n_boot")
    check_level(level)
    if not callable(statistic):
        raise ValueError(f"Expected `statistic` to be callable, got {statistic!r}.")
    data = data if isinstance(data, pd.DataFrame | pd.Series) else np.asarray(data)
    n = len(data)
    if n < 2:
        raise ValueError(f"Expected `data` to hold at least 2 rows, got {n}.")
    rng = np.random.default_rng(seed)
    boot = np.array(
        [float(statistic(_take(data, rng.integers(0, n, size=n)))) for _ in range(n_boot)]
    )
    low, high = percentile_interval(boot, level)
    return float(statistic(data)), low, high


def simulated_difference(
    metric: Any,
    probs_a: object,
    true_probs: object,
    *,
    probs_b: object | None = None,
    metric_b: Any | None = None,
    n_sim: int = 300,
    level: float = 0.95,
    seed: int = 0,
) -> DiffResult:
    r"""Difference of a metric between two sets of predictions, over simulated test sets.

    Where the class probabilities that generate the labels are known (a worked example, a
    simulation), the test set's sampling noise can be simulated exactly: draw ``n_sim`` label
    vectors :math:`y^{(s)}_i \sim \mathrm{Categorical}(q_i)` from ``true_probs`` :math:`q` and
    evaluate

    .. math:: \Delta^{(s)} = m_a(P_a, y^{(s)}) - m_b(P_b, y^{(s)}).

    The estimate is the mean of :math:`\Delta^{(s)}` (the expected difference on a test set of
    this size), the interval the central ``level`` range of :math:`\Delta^{(s)}` (where one
    test set's difference falls), and the p-value the two-sided share of simulations on the
    other side of 0, :math:`2 \min(\Pr[\Delta \le 0], \Pr[\Delta \ge 0])` with the
    :math:`+1` correction of :func:`bootstrap_difference`. Unlike resampling the examples with
    replacement, which duplicates examples and so inflates binned estimators such as ECE (more
    so with more bins), fresh labels keep every example once.

    Compare two models with one metric (``probs_b``), or one model with two metrics
    (``metric_b``, e.g. ECE at 500 against 5 bins).

    Parameters
    ----------
    metric : callable
        ``metric(probs, labels) -> float`` of side a (and of side b unless ``metric_b``).
    probs_a : array-like of shape (N, K)
        Predictions of side a.
    true_probs : array-like of shape (N, K)
        Probabilities the labels are drawn from; rows sum to 1.
    probs_b : array-like of shape (N, K), optional
        Predictions of side b; default ``probs_a``.
    metric_b : callable, optional
        Metric of side b; default ``metric``.
    n_sim : int, default=300
        Simulated test sets.
    level : float, default=0.95
        Coverage of the interval.
    seed : int, default=0
        Seed of the label draws.

    Returns
    -------
    DiffResult
        ``test`` is ``"simulation"``; ``n`` is N.

    Raises
    ------
    ValueError
        If neither ``probs_b`` nor ``metric_b`` is given, or the shapes do not match.
    """
    if probs_b is None and metric_b is None:
        raise ValueError("Expected `probs_b` or `metric_b` to be given, got neither.")
    metric_b = metric if metric_b is None else metric_b
    if not callable(metric) or not callable(metric_b):
        raise ValueError(f"Expected `metric` and `metric_b` to be callable, got {metric!r}.")
    p_a = np.asarray(probs_a, dtype=float)
    p_b = p_a if probs_b is None else np.asarray(probs_b, dtype=float)
    q = np.asarray(true_probs, dtype=float)
    if p_a.ndim != 2 or not p_a.shape == p_b.shape == q.shape:
        raise ValueError(
            "Expected `probs_a`, `probs_b` and `true_probs` of one shape (N, K), got "
            f"{p_a.shape}, {p_b.shape} and {q.shape}."
        )
    if np.any(q < 0) or not np.allclose(q.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("Expected `true_probs` to hold probabilities whose rows sum to 1.")
    n_sim = check_positive_int(n_sim, "n_sim")
    check_level(level)
    rng = np.random.default_rng(seed)
    cumulative = q.cumsum(axis=1)
    diffs = np.empty(n_sim)
    for s in range(n_sim):
        y = (cumulative < rng.random((q.shape[0], 1))).sum(axis=1).clip(max=q.shape[1] - 1)
        diffs[s] = float(metric(p_a, y)) - float(metric_b(p_b, y))
    low, high = percentile_interval(diffs, level)
    n = int(q.shape[0])
    return DiffResult(float(np.mean(diffs)), low, high, _bootstrap_p(diffs), n, n, "simulation")
