"""The noise ceiling: how well seed noise lets any pre-training predictor rank single runs.

:func:`noise_ceiling` estimates it from a few architectures trained with several seeds,
:func:`retest_ceiling` from many architectures each retrained; :func:`ceiling_tau` turns an
intraclass correlation into the τ-b an ideal predictor could reach (RQ viii, the seed-noise
chapter).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from calstudy.seednoise import seed_variance

__all__ = ["Ceiling", "ceiling_from_icc", "ceiling_tau", "isomorphic_ceiling", "noise_ceiling",
           "retest_ceiling"]

# ================================================================================================
# 6. The noise ceiling
# ================================================================================================


@dataclass(frozen=True)
class Ceiling:
    r"""The τ-b an ideal pre-training predictor could reach, given seed noise.

    Attributes
    ----------
    icc : float
        Share of a single run's variance that belongs to the architecture.
    icc_low, icc_high : float
        Its interval, from which ``low`` and ``high`` follow.
    tau_max : float
        τ-b of the ideal predictor with a single run; ``low``/``high`` its interval.
    low, high : float
    within_sd : float
        Pooled seed-to-seed standard deviation :math:`s_w`.
    total_sd : float
        Standard deviation of the target across architectures (one run each), :math:`s_t`.
    n_archs : int
        Architectures trained with 2 or more seeds (for :func:`isomorphic_ceiling`:
        isomorphism classes with 2 or more strings).
    dof : int
        Degrees of freedom :math:`\nu` of :math:`s_w^2`.
    """

    icc: float
    icc_low: float
    icc_high: float
    tau_max: float
    low: float
    high: float
    within_sd: float
    total_sd: float
    n_archs: int
    dof: int


def ceiling_tau(icc: float, runs: int = 1) -> float:
    r"""The τ-b between an architecture's true value and a measurement of reliability `icc`.

    A run is :math:`y = \mu_a + \varepsilon`; the mean of `runs` seeds has reliability
    :math:`\mathrm{ICC}_k = k\,\mathrm{ICC} / (1 + (k - 1)\,\mathrm{ICC})`
    (Spearman-Brown) and correlates with :math:`\mu_a` at :math:`\rho = \sqrt{\mathrm{ICC}_k}`;
    for normal data :math:`\tau = \tfrac{2}{\pi}\arcsin\rho` (Greiner's relation). This is
    the largest τ-b any predictor that sees only the architecture can expect against that
    target.

    Parameters
    ----------
    icc : float
        Intraclass correlation of one run, in [0, 1]; NaN (undefined) gives NaN.
    runs : int, default 1
        Seeds averaged into the target.

    Returns
    -------
    float

    Examples
    --------
    >>> round(ceiling_tau(0.5), 4), round(ceiling_tau(0.5, runs=3), 4)
    (0.5, 0.6667)
    """
    if math.isnan(icc):  # no spread at all (both mean squares 0): the ICC is undefined
        return math.nan
    if not 0.0 <= icc <= 1.0:
        raise ValueError(f"Expected `icc` in [0, 1] (or NaN), got {icc!r}.")
    if isinstance(runs, bool) or not isinstance(runs, numbers.Integral) or runs < 1:
        raise ValueError(f"Expected `runs` to be a positive integer, got {runs!r}.")
    icc_k = runs * icc / (1.0 + (runs - 1) * icc)
    return 2.0 / math.pi * math.asin(math.sqrt(icc_k))


def retest_ceiling(
    runs: pd.DataFrame,
    target: str,
    *,
    by: Sequence[str] = ("space", "arch", "dataset", "fidelity"),
    rater: str = "seed",
    level: float = 0.95,
    target_runs: int = 1,
) -> Ceiling:
    r"""The noise ceiling from architectures that were each trained with the same seeds.

    Where :func:`noise_ceiling` pools the seed variance of a few repeated architectures and
    compares it with the spread of single runs, this estimates the reliability of a run
    directly from a complete architectures × seeds table. A seed gives every architecture the
    same data order and augmentation, so a shift shared by one seed's runs moves no rank; what
    limits a ranking is the architecture × seed interaction, whose share is the consistency
    ICC(C,1) of the two-way model (:func:`calstudy.seednoise.consistency_icc`, exact F
    interval). Estimate and bounds go through :func:`ceiling_tau`, which is monotone in the
    ICC, so the bounds carry over.

    Parameters
    ----------
    runs : DataFrame
        One row per (architecture, seed) with the `by` columns, `rater` and `target`.
    target : str
    by : sequence of str
        Columns identifying an architecture.
    rater : str, default "seed"
        Column identifying the repeated run.
    level : float, default 0.95
    target_runs : int, default 1
        Seeds averaged into the target the predictors would be scored on (1: single runs).

    Returns
    -------
    Ceiling
        ``within_sd`` is the residual (architecture × seed) standard deviation, ``total_sd``
        the spread of single runs across architectures, ``dof`` the residual degrees of
        freedom and ``n_archs`` the architectures used (those run with every seed).
    """
    from calstudy.seednoise import consistency_icc

    icc = consistency_icc(runs, target, subject=by, rater=rater, level=level)
    total = runs.dropna(subset=[target])[target]
    return ceiling_from_icc(
        (icc.icc, icc.low, icc.high), target_runs, within_sd=icc.residual_sd,
        total_sd=float(total.std(ddof=1)), n_archs=icc.n_subjects,
        dof=(icc.n_subjects - 1) * (icc.n_raters - 1),
    )  # fmt: skip


def ceiling_from_icc(
    icc: tuple[float, float, float],
    target_runs: int = 1,
    *,
    within_sd: float,
    total_sd: float,
    n_archs: int,
    dof: float,
) -> Ceiling:
    """A :class:`Ceiling` from an ICC and its interval ``(icc, low, high)``: each through
    :func:`ceiling_tau` with ``target_runs``; the other fields as given."""
    estimate, low, high = icc
    return Ceiling(
        icc=estimate, icc_low=low, icc_high=high,
        tau_max=ceiling_tau(estimate, target_runs),
        low=ceiling_tau(low, target_runs), high=ceiling_tau(high, target_runs),
        within_sd=within_sd, total_sd=total_sd, n_archs=n_archs, dof=dof,
    )  # fmt: skip


def noise_ceiling(
    repeats: pd.DataFrame,
    target: str,
    total: Sequence[float] | pd.Series,
    *,
    by: Sequence[str] = ("space", "arch", "dataset", "fidelity"),
    level: float = 0.95,
) -> Ceiling | None:
    r"""How well any predictor that sees only the architecture could rank single training runs.

    A run's value is :math:`y = \mu_a + \varepsilon` with architecture effect :math:`\mu_a`
    (variance :math:`\sigma_b^2`) and seed noise :math:`\varepsilon` (variance
    :math:`\sigma_w^2`). The best pre-training predictor is :math:`\mu_a` itself; its correlation
    with one run is :math:`\rho_{\max} = \sqrt{\mathrm{ICC}}`, with the intraclass correlation

    .. math::

        \mathrm{ICC} = \frac{\sigma_b^2}{\sigma_b^2 + \sigma_w^2}
        \approx \max\Bigl(0,\, 1 - \frac{s_w^2}{s_t^2}\Bigr),

    where :math:`s_w^2 = \sum_a \sum_s (y_{as} - \bar y_a)^2 / \nu`,
    :math:`\nu = \sum_a (n_a - 1)`, pools the seed variance of the architectures trained more
    than once, and :math:`s_t^2` is the variance of `total` (one run per architecture). For a
    bivariate normal pair, :math:`\tau = \tfrac{2}{\pi}\arcsin\rho` (Greiner's relation;
    Kendall, 1948), so :math:`\tau_{\max} = \tfrac{2}{\pi}\arcsin\rho_{\max}`. The interval
    propagates the :math:`\chi^2_\nu` interval of :math:`\sigma_w^2` (the uncertainty of
    :math:`s_t^2` is ignored); it assumes the seed variance is the same for every architecture.

    Parameters
    ----------
    repeats : DataFrame
        Rows with the `by` columns and `target`; architectures with one row are ignored.
    target : str
    total : array-like
        The target across architectures, one run each (the rows the predictors are scored on).
    by : sequence of str
        Columns identifying one architecture's repeated runs.
    level : float, default 0.95

    Returns
    -------
    Ceiling or None
        None when no architecture has 2 or more runs.

    References
    ----------
    M. G. Kendall, "Rank Correlation Methods", Griffin, 1948.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"Expected `level` to be in (0, 1), got {level}.")
    missing = [c for c in [*by, target] if c not in repeats.columns]
    if missing:
        raise ValueError(f"Expected `repeats` to have columns {missing}.")
    totals = np.asarray(total, dtype=float)
    totals = totals[np.isfinite(totals)]
    if totals.size < 3:
        raise ValueError(f"Expected at least 3 finite values in `total`, got {totals.size}.")
    runs = repeats.dropna(subset=[target]).groupby(list(by), dropna=False).size()
    if not (runs >= 2).any():
        return None
    noise = seed_variance(repeats, target, by=by, level=level)
    dof = int((noise.per_arch["n_seeds"] - 1).sum())
    within = noise.pooled_std**2
    total_var = float(np.var(totals, ddof=1))

    def icc_of(var_w: float) -> float:
        return max(0.0, 1.0 - var_w / total_var) if total_var > 0 else 0.0

    alpha = 1.0 - level
    var_high = dof * within / stats.chi2.ppf(alpha / 2, dof)
    var_low = dof * within / stats.chi2.ppf(1 - alpha / 2, dof)
    icc, icc_low, icc_high = icc_of(within), icc_of(var_high), icc_of(var_low)
    return Ceiling(
        icc=icc,
        icc_low=icc_low,
        icc_high=icc_high,
        tau_max=ceiling_tau(icc),
        low=ceiling_tau(icc_low),
        high=ceiling_tau(icc_high),
        within_sd=math.sqrt(within),
        total_sd=math.sqrt(total_var),
        n_archs=noise.n_repeated,
        dof=dof,
    )


def isomorphic_ceiling(
    rows: pd.DataFrame, target: str, *, level: float = 0.95, target_runs: int = 1
) -> Ceiling:
    r"""The noise ceiling from isomorphic TSS strings trained separately (NATS-Bench).

    The strings of one isomorphism class are retrainings of one architecture, so the one-way
    ICC across classes (:func:`calstudy.seednoise.isomorphic_icc`, F interval) is the
    reliability of a single run at the benchmark's own schedule, and :func:`ceiling_tau`
    turns it and its bounds into the largest τ-b a predictor that sees only the architecture
    can expect against single runs (or against the mean of `target_runs`).

    Parameters
    ----------
    rows : DataFrame
        TSS rows of one dataset and fidelity, one per string, with ``arch`` and `target`.
    target : str
    level : float, default 0.95
    target_runs : int, default 1

    Returns
    -------
    Ceiling
        ``within_sd`` is the spread between isomorphic strings, ``n_archs`` the classes with
        two or more strings and ``dof`` the degrees of freedom of that spread.

    Raises
    ------
    ValueError
        As :func:`calstudy.seednoise.isomorphic_icc` (e.g. no class with two strings).
    """
    from calstudy.seednoise import isomorphic_icc

    r = isomorphic_icc(rows, target, level=level)
    return ceiling_from_icc(
        (r.icc, r.low, r.high), target_runs, within_sd=r.within_sd, total_sd=r.total_sd,
        n_archs=r.n_repeated, dof=r.dof,
    )  # fmt: skip
