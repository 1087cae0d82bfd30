"""Seed noise: how much retraining moves a metric, and what that allows a study to resolve.

Between-seed variance and its ICC, the smallest difference seed noise lets a study detect
(:func:`seed_noise_threshold`, :func:`seed_noise_gap`), the agreement of two raters or seeds
(:func:`consistency_icc`, :func:`retest_tau`: the ceiling on any τ measured on retrained
networks), and the benchmark's own fidelity across isomorphic TSS strings
(:func:`isomorphic_icc`). The seed-noise chapter's tables and sentences are in
:mod:`calstudy.questions.seeds`.

References
----------
.. [1] P. E. Shrout, J. L. Fleiss, "Intraclass correlations: uses in assessing rater
   reliability", Psychological Bulletin 86(2), 1979.
.. [2] K. O. McGraw, S. P. Wong, "Forming inferences about some intraclass correlation
   coefficients", Psychological Methods 1(1), 1996.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from calstudy._checks import check_columns, check_level, check_nonnegative, check_positive_int

__all__ = [
    "ConsistencyICC",
    "IsomorphicICC",
    "SeedVariance",
    "consistency_icc",
    "isomorphic_icc",
    "isomorphic_icc_table",
    "retest_tau",
    "seed_noise_gap",
    "seed_noise_table",
    "seed_noise_threshold",
    "seed_variance",
]


# ================================================================================================
# Seed variance, ICCs, and the differences seed noise lets a study resolve
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
    icc : float
        Intraclass correlation ICC(1) of one-way random-effects ANOVA: the share of a single
        run's variance that lies between architectures, in [0, 1] (1: seeds agree exactly;
        0: the architecture explains nothing). See :func:`seed_variance`.
    icc_low, icc_high : float
        Its ``level`` confidence interval from the F distribution.
    n_repeated : int
        Architectures with two or more seeds (the ones that estimate :math:`s_p`).
    """

    per_arch: pd.DataFrame
    pooled_std: float
    between_std: float
    frac_resolved: float
    icc: float = float("nan")
    icc_low: float = float("nan")
    icc_high: float = float("nan")
    n_repeated: int = 0


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

    The intraclass correlation is ICC(1) of the one-way random-effects model
    :math:`y_{as} = \mu + \alpha_a + \varepsilon_{as}` (Shrout & Fleiss, 1979), with
    :math:`A` architectures, :math:`N` rows and :math:`n_a` seeds of architecture :math:`a`:

    .. math::

        \mathrm{ICC} = \frac{MS_B - MS_W}{MS_B + (k_0 - 1) MS_W}, \qquad
        k_0 = \frac{N - \sum_a n_a^2 / N}{A - 1},

    where :math:`MS_B = \sum_a n_a (\bar y_a - \bar y)^2 / (A - 1)` and
    :math:`MS_W = \sum_{a,s} (y_{as} - \bar y_a)^2 / (N - A)`. It estimates
    :math:`\sigma_\alpha^2 / (\sigma_\alpha^2 + \sigma_\varepsilon^2)`, the reliability of a
    single-seed measurement: the correlation between two seeds of the same architectures. Since
    :math:`F = MS_B / MS_W` divided by :math:`1 + k_0 \sigma_\alpha^2 / \sigma_\varepsilon^2`
    follows :math:`F_{A-1, N-A}`, the interval maps :math:`F_L = F / q(A-1, N-A)` and
    :math:`F_U = F\,q(N-A, A-1)`, with :math:`q(d_1, d_2)` the :math:`(1+\ell)/2` quantile of
    :math:`F_{d_1, d_2}`, through :math:`(F - 1)/(F + k_0 - 1)`; exact for equal
    :math:`n_a`, approximate (through :math:`k_0`) otherwise (Searle, Casella & McCulloch,
    1992, §3.6). A variance share cannot be negative, so an estimate or bound below 0 (when
    :math:`MS_B < MS_W`) is reported as 0.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset with several seeds for at least one architecture.
    metric : str
        Column to study, e.g. ``"pre_ECE_15"``.
    by : sequence of str, default=("space", "arch", "dataset", "fidelity")
        Columns identifying one architecture's repeated runs.
    level : float, default=0.95
        Confidence level :math:`\ell` of the "exceeds seed noise" threshold and of the ICC
        interval.

    Returns
    -------
    SeedVariance

    References
    ----------
    P. E. Shrout, J. L. Fleiss, "Intraclass correlations: uses in assessing rater reliability",
    Psychological Bulletin 86(2), 1979.
    S. R. Searle, G. Casella, C. E. McCulloch, "Variance Components", Wiley, 1992.
    """
    by = list(by)
    check_level(level)
    check_columns(df, [*by, metric])
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
    n_seeds = per_arch["n_seeds"].to_numpy()
    z = float(stats.norm.ppf((1 + level) / 2))
    resolved = _count_resolved_pairs(means, n_seeds, z * pooled)
    n_arch = len(means)
    total_pairs = n_arch * (n_arch - 1) / 2
    icc, icc_low, icc_high = _icc_oneway(means, n_seeds, (dof * variances).sum(), level)
    return SeedVariance(
        per_arch=per_arch,
        pooled_std=pooled,
        between_std=float(np.std(means, ddof=1)) if n_arch > 1 else float("nan"),
        frac_resolved=resolved / total_pairs if total_pairs else float("nan"),
        icc=icc,
        icc_low=icc_low,
        icc_high=icc_high,
        n_repeated=int((n_seeds >= 2).sum()),
    )


def _icc_oneway(
    means: np.ndarray, n_seeds: np.ndarray, ss_within: float, level: float
) -> tuple[float, float, float]:
    """ICC(1) and its F-based interval from group means, sizes and the within sum of squares."""
    n_groups, n_rows = len(means), int(n_seeds.sum())
    if n_groups < 2 or n_rows <= n_groups:
        return float("nan"), float("nan"), float("nan")
    grand = float((n_seeds * means).sum() / n_rows)
    ms_between = float((n_seeds * (means - grand) ** 2).sum() / (n_groups - 1))
    ms_within = float(ss_within / (n_rows - n_groups))
    k0 = (n_rows - float((n_seeds**2).sum()) / n_rows) / (n_groups - 1)
    if ms_within <= 0:
        return (1.0, 1.0, 1.0) if ms_between > 0 else (float("nan"),) * 3
    f = ms_between / ms_within
    df1, df2 = n_groups - 1, n_rows - n_groups
    q = float(stats.f.ppf((1 + level) / 2, df1, df2))
    q_rev = float(stats.f.ppf((1 + level) / 2, df2, df1))
    f_low, f_high = f / q, f * q_rev

    def icc_of(ratio: float) -> float:  # a variance share: negative estimates truncate to 0
        return float(np.clip((ratio - 1) / (ratio + k0 - 1), 0.0, 1.0))

    return icc_of(f), icc_of(f_low), icc_of(f_high)


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


def seed_noise_threshold(
    pooled_std: float, *, n_a: float = 1, n_b: float = 1, level: float = 0.95
) -> float:
    r"""Smallest difference between two architectures' means that exceeds seed noise.

    .. math:: \delta_\ell = z_{(1+\ell)/2}\; s_p \sqrt{1/n_a + 1/n_b},

    the threshold of :attr:`SeedVariance.frac_resolved`: two means of :math:`n_a` and
    :math:`n_b` seeds whose difference exceeds it differ at level :math:`\ell` by a two-sided
    z-test with the pooled seed standard deviation :math:`s_p`. Pass ``n_b=math.inf`` to compare
    one architecture with a fixed value (such as zero).

    Parameters
    ----------
    pooled_std : float
        :math:`s_p`, e.g. :attr:`SeedVariance.pooled_std`; non-negative.
    n_a, n_b : float, default=1
        Seeds behind each mean (``math.inf``: a value without seed noise).
    level : float, default=0.95
        Confidence level :math:`\ell`.

    Returns
    -------
    float

    Examples
    --------
    >>> round(seed_noise_threshold(0.01), 4)  # 1.96 * 0.01 * sqrt(2)
    0.0277
    """
    check_level(level)
    pooled_std = check_nonnegative(pooled_std, "pooled_std")
    for name, value in (("n_a", n_a), ("n_b", n_b)):
        if not value >= 1:
            raise ValueError(f"Expected `{name}` to be at least 1, got {value}.")
    z = float(stats.norm.ppf((1 + level) / 2))
    return z * float(pooled_std) * math.sqrt(1 / n_a + 1 / n_b)


def seed_noise_gap(
    n: int, pooled_std: float, *, level: float = 0.95, n_sim: int = 2000, seed: int = 0
) -> float:
    r"""Gap between the best of ``n`` networks and their median that seed noise alone produces.

    If ``n`` architectures were equally good and each measured once with seed noise of standard
    deviation :math:`s_p`, the best would still beat the median, by
    :math:`G = \mathrm{median}(e_1, \dots, e_n) - \min(e_1, \dots, e_n)` with
    :math:`e_i \sim \mathcal N(0, s_p^2)` i.i.d. (by symmetry also :math:`\max - \mathrm{median}`).
    The function returns the :math:`\ell` quantile of :math:`G` from ``n_sim`` simulated
    populations; an observed gap above it is larger than seed noise could make it at level
    :math:`\ell` (a one-sided test; the winner's curse of picking the best of ``n`` is included).

    Parameters
    ----------
    n : int
        Number of networks compared (at least 2).
    pooled_std : float
        Seed standard deviation :math:`s_p` of one measurement.
    level : float, default=0.95
        Quantile :math:`\ell`.
    n_sim : int, default=2000
        Simulated populations.
    seed : int, default=0
        Seed of the simulation.

    Returns
    -------
    float
        The :math:`\ell` quantile of :math:`G`, in the units of ``pooled_std``.

    Examples
    --------
    >>> seed_noise_gap(50, 0.0)
    0.0
    """
    n = check_positive_int(n, "n")
    if n < 2:
        raise ValueError(f"Expected `n` to be at least 2, got {n}.")
    n_sim = check_positive_int(n_sim, "n_sim")
    check_level(level)
    pooled_std = check_nonnegative(pooled_std, "pooled_std")
    draws = np.random.default_rng(seed).normal(size=(n_sim, n))
    gaps = np.median(draws, axis=1) - draws.min(axis=1)
    return float(pooled_std) * float(np.quantile(gaps, level))


class ConsistencyICC(NamedTuple):
    """:func:`consistency_icc`'s result."""

    icc: float
    low: float
    high: float
    residual_sd: float
    n_subjects: int
    n_raters: int


def consistency_icc(
    df: pd.DataFrame,
    metric: str,
    *,
    subject: Sequence[str] = ("space", "arch", "dataset", "fidelity"),
    rater: str = "seed",
    level: float = 0.95,
) -> ConsistencyICC:
    r"""Consistency ICC(C,1) of a metric across seeds that are crossed with architectures.

    When seed :math:`s` gives every architecture the same data order and augmentation, seeds
    are *raters* crossed with architectures (*subjects*), and a shift shared by all runs of one
    seed moves no architecture's rank. The two-way model
    :math:`y_{as} = \mu + \alpha_a + \beta_s + \varepsilon_{as}` separates that shift
    :math:`\beta_s` from the noise that does reorder architectures, :math:`\varepsilon_{as}`;
    with :math:`n` subjects, :math:`k` raters, :math:`MS_R` between subjects and :math:`MS_E`
    the residual mean square (McGraw & Wong, 1996, case 3, consistency),

    .. math::

        \mathrm{ICC}(C,1) = \frac{MS_R - MS_E}{MS_R + (k - 1)\,MS_E},

    the correlation between two seeds' runs of the same architectures. Its interval maps
    :math:`F_L = F / q(n-1, \nu)` and :math:`F_U = F\,q(\nu, n-1)`, with :math:`F = MS_R/MS_E`,
    :math:`\nu = (n-1)(k-1)` and :math:`q` the :math:`(1+\ell)/2` quantile of the F
    distribution, through :math:`(F - 1)/(F + k - 1)`; bounds below 0 are reported as 0.
    Only subjects measured by every rater are used (the design must be complete).

    Parameters
    ----------
    df : DataFrame
        One row per (subject, rater) with the `subject` columns, `rater` and `metric`.
    metric : str
    subject : sequence of str
        Columns identifying an architecture.
    rater : str, default "seed"
    level : float, default 0.95

    Returns
    -------
    ConsistencyICC
        ``icc``, its interval ``low``/``high``, ``residual_sd`` :math:`\sqrt{MS_E}`, and the
        numbers of subjects and raters used.

    References
    ----------
    K. O. McGraw, S. P. Wong, "Forming inferences about some intraclass correlation
    coefficients", Psychological Methods 1(1), 1996.

    Examples
    --------
    >>> frame = pd.DataFrame({"arch": list("aabbcc"), "seed": [0, 1] * 3,
    ...                       "y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    >>> round(consistency_icc(frame, "y", subject=["arch"]).icc, 3)  # seed 1 = seed 0 + 1
    1.0
    """
    subject = list(subject)
    check_level(level)
    check_columns(df, [*subject, rater, metric])
    rows = df.dropna(subset=[metric])
    if rows.duplicated([*subject, rater]).any():
        raise ValueError(f"Expected one row per ({', '.join(subject)}, {rater}), got duplicates.")
    table = rows.pivot_table(index=subject, columns=rater, values=metric, aggfunc="first")
    table = table.dropna()  # subjects measured by every rater
    n, k = table.shape
    if n < 2 or k < 2:
        raise ValueError(
            f"Expected at least 2 subjects measured by each of at least 2 values of {rater!r} "
            f"for {metric!r}, got {n} complete subjects and {k} {rater} values."
        )
    y = table.to_numpy(float)
    grand = y.mean()
    ss_subjects = k * ((y.mean(axis=1) - grand) ** 2).sum()
    ss_raters = n * ((y.mean(axis=0) - grand) ** 2).sum()
    ss_error = max(((y - grand) ** 2).sum() - ss_subjects - ss_raters, 0.0)
    ms_subjects, ms_error = ss_subjects / (n - 1), ss_error / ((n - 1) * (k - 1))
    if ms_error == 0:  # runs agree up to a per-rater shift: perfectly consistent
        return ConsistencyICC(1.0, 1.0, 1.0, 0.0, n, k)
    f = ms_subjects / ms_error
    q = (1 + level) / 2
    f_low = f / stats.f.ppf(q, n - 1, (n - 1) * (k - 1))
    f_high = f * stats.f.ppf(q, (n - 1) * (k - 1), n - 1)

    def icc_of(value: float) -> float:
        return float(min(max((value - 1) / (value + k - 1), 0.0), 1.0))

    return ConsistencyICC(icc_of(f), icc_of(f_low), icc_of(f_high), float(np.sqrt(ms_error)), n, k)


def retest_tau(icc: object) -> np.ndarray:
    r"""Expected Kendall τ between two seeds' rankings of the same architectures.

    For bivariate-normal measurements with correlation :math:`\rho`, Greiner's relation gives
    :math:`\tau = \tfrac{2}{\pi} \arcsin \rho` (Kendall, 1948, §10.11). Two single-seed runs of
    the same architectures correlate with :math:`\rho = \mathrm{ICC}` (see
    :func:`seed_variance`), so this is the τ expected between the ranking of a benchmark and
    that of a retraining of the same architectures with new seeds. By Spearman's (1904)
    attenuation, two columns :math:`x` and :math:`y` measured with seed noise correlate at most
    :math:`\sqrt{\mathrm{ICC}_x\,\mathrm{ICC}_y}` (when their true values agree perfectly), so
    ``retest_tau(np.sqrt(icc_x * icc_y))`` is the largest τ between them that seed noise allows.

    Parameters
    ----------
    icc : array-like
        Intraclass correlations in [-1, 1] (NaN passes through).

    Returns
    -------
    ndarray
        τ in [-1, 1], of the input's shape.

    References
    ----------
    M. G. Kendall, "Rank Correlation Methods", Griffin, 1948.
    C. Spearman, "The proof and measurement of association between two things", Am. J. Psychol.
    15(1), 1904.

    Examples
    --------
    >>> float(retest_tau(0.5).round(4))  # 2/π · arcsin(1/2) = 1/3
    0.3333
    """
    rho = np.asarray(icc, dtype=float)
    finite = rho[~np.isnan(rho)]
    if np.any((finite < -1 - 1e-12) | (finite > 1 + 1e-12)):
        raise ValueError(
            f"Expected `icc` to lie in [-1, 1], got values in [{finite.min()}, {finite.max()}]."
        )
    return 2 / np.pi * np.arcsin(np.clip(rho, -1.0, 1.0))


def seed_noise_table(
    df: pd.DataFrame,
    metrics: Sequence[str],
    *,
    by: Sequence[str] = ("space", "arch", "dataset", "fidelity"),
    level: float = 0.95,
    min_repeated: int = 2,
) -> pd.DataFrame:
    r"""Seed noise against differences between architectures, one row per metric.

    Runs :func:`seed_variance` on every metric and tabulates what a chapter needs to say which
    differences are real: the pooled seed standard deviation :math:`s_p`, the standard deviation
    of the architecture means, their ratio, the share of architecture pairs that seed noise
    cannot explain, the ICC with its interval, the smallest single-seed difference that exceeds
    seed noise (:func:`seed_noise_threshold`) and the τ a retraining with new seeds would reach
    (:func:`retest_tau`).

    Parameters
    ----------
    df : DataFrame
        Rows of the calibration dataset, several seeds for some architectures.
    metrics : sequence of str
        Columns to study.
    by : sequence of str, default=("space", "arch", "dataset", "fidelity")
        Columns identifying one architecture's repeated runs.
    level : float, default=0.95
        Confidence level of the thresholds and intervals.
    min_repeated : int, default=2
        Fewest architectures with 2 or more seeds each metric needs.

    Returns
    -------
    DataFrame
        Indexed by metric; columns ``n_archs, n_repeated, n_rows, mean, pooled_std,
        between_std, ratio, frac_resolved, icc, icc_low, icc_high, threshold, retest_tau``.

    Raises
    ------
    ValueError
        If a metric has fewer than ``min_repeated`` architectures with 2 or more seeds.
    """
    metrics = list(metrics)
    if not metrics:
        raise ValueError("Expected `metrics` to name at least one column, got [].")
    min_repeated = check_positive_int(min_repeated, "min_repeated")
    check_columns(df, [*by, *metrics])
    rows = []
    for metric in metrics:
        counts = df.dropna(subset=[metric]).groupby(list(by), dropna=False).size()
        repeated = int((counts >= 2).sum())
        if repeated < max(min_repeated, 1):
            raise ValueError(
                f"Expected at least {max(min_repeated, 1)} architectures with 2 or more seeds "
                f"of {metric!r}, got {repeated}."
            )
        sv = seed_variance(df, metric, by=by, level=level)
        rows.append(
            {
                "metric": metric,
                "n_archs": len(sv.per_arch),
                "n_repeated": sv.n_repeated,
                "n_rows": int(counts.sum()),
                "mean": float(df[metric].mean()),
                "pooled_std": sv.pooled_std,
                "between_std": sv.between_std,
                "ratio": sv.between_std / sv.pooled_std if sv.pooled_std > 0 else np.inf,
                "frac_resolved": sv.frac_resolved,
                "icc": sv.icc,
                "icc_low": sv.icc_low,
                "icc_high": sv.icc_high,
                "threshold": seed_noise_threshold(sv.pooled_std, level=level),
                "retest_tau": float(retest_tau(sv.icc)),
            }
        )
    return pd.DataFrame(rows).set_index("metric")


# ================================================================================================
# Seed noise: retraining noise across isomorphic TSS strings (the benchmark's own fidelity)
# ================================================================================================


class IsomorphicICC(NamedTuple):
    """:func:`isomorphic_icc`'s result.

    Attributes
    ----------
    icc, low, high : float
        ICC(1) across isomorphism classes and its ``level`` F interval.
    within_sd : float
        :math:`\\sqrt{MS_W}`, the spread between strings of one class (retraining noise).
    total_sd : float
        Standard deviation of the metric over all strings.
    n_strings, n_classes : int
        Rows used and the isomorphism classes they fall into.
    n_repeated : int
        Classes with two or more strings (the ones that estimate :math:`MS_W`).
    dof : int
        Degrees of freedom of :math:`MS_W`, :math:`N - A`.
    """

    icc: float
    low: float
    high: float
    within_sd: float
    total_sd: float
    n_strings: int
    n_classes: int
    n_repeated: int
    dof: int


def _isomorphism_labels(archs: pd.Series) -> pd.Series:
    from calstudy.space import canonical_tss

    unique = pd.unique(archs)
    return archs.map(dict(zip(unique, (canonical_tss(a) for a in unique), strict=True)))


def isomorphic_icc(df: pd.DataFrame, metric: str, *, level: float = 0.95) -> IsomorphicICC:
    r"""ICC of a metric across isomorphic TSS strings: the retraining noise of the benchmark.

    NATS-Bench trained each of the 15,625 TSS strings separately, although they fall into
    6,466 isomorphism classes (:func:`calstudy.space.canonical_tss`): strings of one class
    compute the same function family, so their spread is what a retraining of the same
    architecture changes (another seed and initialisation, at the benchmark's schedule). With
    the class as the group, the one-way random-effects model
    :math:`y_{cs} = \mu + \alpha_c + \varepsilon_{cs}` gives ICC(1), the share of one
    string's variance that belongs to its architecture, computed as in :func:`seed_variance`
    for classes of unequal size :math:`n_c` (:math:`A` classes, :math:`N` strings):

    .. math::

        \mathrm{ICC} = \frac{MS_B - MS_W}{MS_B + (k_0 - 1) MS_W}, \qquad
        k_0 = \frac{N - \sum_c n_c^2 / N}{A - 1},

    with the F interval of :func:`seed_variance` (exact for equal :math:`n_c`, through
    :math:`k_0` otherwise). Classes of one string add to :math:`MS_B` only. Bounds below 0
    are reported as 0.

    Parameters
    ----------
    df : DataFrame
        TSS rows of one dataset and fidelity, one per architecture string, with columns
        ``arch`` and `metric` (rows with a missing `metric` are left out).
    metric : str
    level : float, default 0.95

    Returns
    -------
    IsomorphicICC

    Raises
    ------
    ValueError
        Non-TSS rows, several datasets or fidelities, a repeated string (load the store with
        ``seeds="first"``), or no class holding two strings.

    References
    ----------
    X. Dong, L. Liu, K. Musial, B. Gabrys, "NATS-Bench: Benchmarking NAS Algorithms for
    Architecture Topology and Size", IEEE TPAMI 44(7), 2021.
    S. R. Searle, G. Casella, C. E. McCulloch, "Variance Components", Wiley, 1992.

    Examples
    --------
    Node 1 forwards the input in `a` and `b`, so convolving node 0 or node 1 is the same; in
    `c` and `d` node 1 feeds only a ``none`` edge, so its operation does not matter:

    >>> a = "|skip_connect~0|+|none~0|none~1|+|nor_conv_3x3~0|nor_conv_1x1~1|none~2|"
    >>> b = "|skip_connect~0|+|none~0|none~1|+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|"
    >>> c = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    >>> d = "|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    >>> frame = pd.DataFrame({"arch": [a, b, c, d], "ece": [1.0, 1.2, 3.0, 3.2]})
    >>> r = isomorphic_icc(frame, "ece")  # MS_B = 4, MS_W = 0.02, k_0 = 2
    >>> r.n_classes, r.n_repeated, round(r.icc, 3)
    (2, 2, 0.99)
    """
    check_level(level)
    check_columns(df, ["arch", metric])
    for column in ("space", "dataset", "fidelity"):
        if column in df.columns and df[column].nunique(dropna=False) > 1:
            raise ValueError(
                f"Expected rows of one {column}, got {sorted(map(str, df[column].unique()))}."
            )
    if "space" in df.columns and len(df) and (df["space"] != "tss").any():
        raise ValueError(f"Expected TSS rows, got space {df['space'].iloc[0]!r}.")
    rows = df.dropna(subset=[metric])
    if rows["arch"].duplicated().any():
        raise ValueError(
            "Expected one row per architecture string (load the store with seeds='first'), got "
            f"repeats of {rows.loc[rows['arch'].duplicated(), 'arch'].iloc[0]!r}."
        )
    classes = _isomorphism_labels(rows["arch"])
    grouped = rows[metric].astype(float).groupby(classes.to_numpy())
    sizes = grouped.size().to_numpy()
    n_repeated = int((sizes >= 2).sum())
    if n_repeated == 0:
        raise ValueError(
            f"Expected at least one isomorphism class with 2 or more strings of {metric!r}, got "
            f"{len(rows)} strings in {len(sizes)} classes of one string each."
        )
    means = grouped.mean().to_numpy()
    ss_within = float(((rows[metric].astype(float) - grouped.transform("mean")) ** 2).sum())
    icc, low, high = _icc_oneway(means, sizes, ss_within, level)
    dof = int(sizes.sum() - sizes.size)
    return IsomorphicICC(
        icc=icc,
        low=low,
        high=high,
        within_sd=math.sqrt(ss_within / dof),
        total_sd=float(rows[metric].std(ddof=1)),
        n_strings=int(sizes.sum()),
        n_classes=int(sizes.size),
        n_repeated=n_repeated,
        dof=dof,
    )


def isomorphic_icc_table(
    df: pd.DataFrame,
    metrics: Sequence[str],
    *,
    by: Sequence[str] = ("space", "dataset", "fidelity"),
    level: float = 0.95,
) -> pd.DataFrame:
    """:func:`isomorphic_icc` of each metric in each group of TSS rows, and the τ it allows.

    Parameters
    ----------
    df : DataFrame
        Rows of the calibration dataset, one seed per network; rows of other spaces are
        ignored.
    metrics : sequence of str
        Columns to measure.
    by : sequence of str
        Columns of a group (one dataset and fidelity).
    level : float, default 0.95

    Returns
    -------
    DataFrame
        One row per group and metric: the `by` columns, ``metric``, ``n_strings``,
        ``n_classes``, ``n_repeated``, ``icc``, ``low``, ``high``, ``within_sd``,
        ``total_sd`` and ``retest_tau`` (:func:`retest_tau` of the ICC: the τ expected between
        two retrainings of the same architectures). ICC columns are NaN where no class of the
        group holds two strings; empty when `df` holds no TSS row.
    """
    metrics = list(metrics)
    by = list(by)
    if not metrics:
        raise ValueError("Expected `metrics` to name at least one column, got [].")
    check_columns(df, ["space", "arch", *by, *metrics])
    columns = [*by, "metric", "n_strings", "n_classes", "n_repeated", "icc", "low", "high",
               "within_sd", "total_sd", "retest_tau"]  # fmt: skip
    out = []
    for key, group in df[df["space"] == "tss"].groupby(by, sort=True, dropna=False):
        labels = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        for metric in metrics:
            rows = group.dropna(subset=[metric])
            classes = _isomorphism_labels(rows["arch"])
            row = {**labels, "metric": metric, "n_strings": len(rows),
                   "n_classes": int(classes.nunique()),
                   "n_repeated": int((classes.value_counts() >= 2).sum())}  # fmt: skip
            if row["n_repeated"]:
                r = isomorphic_icc(rows.drop(columns=by), metric, level=level)
                row |= {"icc": r.icc, "low": r.low, "high": r.high, "within_sd": r.within_sd,
                        "total_sd": r.total_sd, "retest_tau": float(retest_tau(r.icc))}  # fmt: skip
            out.append(row)
    return pd.DataFrame(out, columns=columns)
