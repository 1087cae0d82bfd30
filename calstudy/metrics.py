"""Calibration metrics: binned, kernel and proper-scoring estimators of miscalibration.

Every metric takes ``probs`` of shape ``(N, K)`` (rows on the probability simplex) and integer
``labels`` of shape ``(N,)`` and returns a Python ``float``. Top-label metrics reduce the pair to
the confidence :math:`c_i = \\max_k p_{ik}` and the correctness
:math:`a_i = \\mathbb{1}[\\arg\\max_k p_{ik} = y_i]` (ties in the arg-max resolve to the lowest
class index, as in :func:`numpy.argmax`).

Binning conventions (shared by every binned estimator, :func:`bin_stats` and the reliability
plots):

* **Equal width** ("width"). Bin :math:`b \\in \\{0, \\dots, n-1\\}` of :math:`n` covers
  :math:`(b/n, (b+1)/n]`, except the first, which is closed, :math:`[0, 1/n]`; so confidences 0
  and 1 are both counted and a value exactly on an edge belongs to the bin that *ends* there.
  The edge :math:`b/n` is the float64 nearest to :math:`b/n` (``b / n``), so the literal ``0.6``
  lies in the bin ending at :math:`3/5`.
* **Equal mass** ("mass"). The sample is sorted by confidence, ties broken by correctness
  (incorrect first) so that the result does not depend on the order of the input, and cut into
  :math:`n` contiguous groups whose sizes differ by at most one; the first :math:`N \\bmod n`
  groups hold the extra sample (as :func:`numpy.array_split`). Tied confidences may therefore
  straddle two bins. When :math:`N < n` the last :math:`n - N` bins are empty.
* Empty bins contribute 0 to every ECE and are skipped by the MCE.

The vectorised :func:`binned_errors` sorts the sample once and reads every bin sum off a
cumulative sum, so all nine bin counts of the study cost little more than one.

References
----------
.. [Guo2017] Guo, Pleiss, Sun, Weinberger, "On Calibration of Modern Neural Networks", ICML 2017.
.. [Naeini2015] Naeini, Cooper, Hauskrecht, "Obtaining Well Calibrated Probabilities Using
   Bayesian Binning", AAAI 2015.
.. [Kull2019] Kull, Perello-Nieto, Kängsepp, Silva Filho, Song, Flach, "Beyond temperature
   scaling: Obtaining well-calibrated multiclass probabilities with Dirichlet calibration",
   NeurIPS 2019.
.. [Tao2024] Tao, Zhu, Guo, Dong, Xu, "A Benchmark Study on Calibration", ICLR 2024.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray
from scipy import fft, special, stats

from calstudy._checks import (
    MAX_N_BINS,
    as_array,
    as_float_2d,
    check_finite,
    check_n_bins,
    check_positive,
    check_positive_int,
    check_probs_labels,
)

__all__ = [
    "BINNED_KEYS",
    "BIN_COUNTS",
    "BinStats",
    "KDE_EPS",
    "MAX_N_BINS",
    "accuracy",
    "auroc",
    "bin_stats",
    "binned_errors",
    "bootstrap_ci",
    "brier",
    "confidence_split",
    "cw_ece",
    "cw_ece_em",
    "debiased_l2_ece",
    "ece",
    "ece_em",
    "kde_bandwidth",
    "kdece",
    "ksce",
    "mce",
    "mmce",
    "nll",
    "smooth_ece",
    "to_confidences",
    "to_probs",
]

BIN_COUNTS: tuple[int, ...] = (5, 10, 15, 20, 25, 50, 100, 200, 500)
"""The bin counts of the study's binned columns ([Tao2024]_)."""

BINNED_KEYS: tuple[str, ...] = ("ECE", "ECE_em", "cwCE", "cwCE_em", "MCE")
"""Keys of :func:`binned_errors`, the paper's column stems."""

Strategy = Literal["width", "mass"]

# ----------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------


def _prepare(
    probs: ArrayLike, labels: ArrayLike, validate: bool
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    if validate:
        return check_probs_labels(probs, labels)
    return as_array(probs, np.float64), as_array(labels, np.int64)


def _check_conf_correct(
    conf: ArrayLike, correct: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    c = as_array(conf, np.float64)
    a = as_array(correct, np.float64)
    if c.ndim != 1 or c.shape[0] == 0:
        raise ValueError(f"Expected `conf` to be a non-empty 1-D array, got shape {c.shape}.")
    if a.shape != c.shape:
        raise ValueError(f"Expected `correct` to have shape {c.shape}, got {a.shape}.")
    check_finite(c, "conf")
    check_finite(a, "correct")
    if c.min() < 0.0 or c.max() > 1.0:
        raise ValueError(
            f"Expected `conf` to lie in [0, 1], got values in [{c.min():g}, {c.max():g}]."
        )
    if a.min() < 0.0 or a.max() > 1.0:
        raise ValueError(
            f"Expected `correct` to lie in [0, 1], got values in [{a.min():g}, {a.max():g}]."
        )
    return c, a


# ----------------------------------------------------------------------------------------------
# Conversions
# ----------------------------------------------------------------------------------------------


def to_probs(logits: ArrayLike) -> NDArray[np.float64]:
    """Softmax of ``logits`` in float64, shifted by the row maximum so it never overflows.

    .. math:: p_{ik} = \\frac{\\exp(z_{ik} - m_i)}{\\sum_{j=1}^{K} \\exp(z_{ij} - m_i)},
        \\qquad m_i = \\max_j z_{ij},

    where :math:`z_{ik}` is the logit of sample :math:`i` for class :math:`k`.

    Parameters
    ----------
    logits : array_like of shape (N, K)
        Finite real scores.

    Returns
    -------
    ndarray of shape (N, K), float64
        Rows on the probability simplex.

    Examples
    --------
    >>> to_probs([[0.0, np.log(3.0)]]).round(6).tolist()
    [[0.25, 0.75]]
    """
    z = as_float_2d(logits, "logits")
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _conf_correct(
    probs: NDArray[np.float64], labels: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    pred = probs.argmax(axis=1)
    conf = probs[np.arange(probs.shape[0]), pred]
    return conf, (pred == labels).astype(np.float64)


def to_confidences(
    probs: ArrayLike, labels: ArrayLike, *, validate: bool = True
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Top-label confidence and correctness.

    .. math:: c_i = \\max_k p_{ik}, \\qquad a_i = \\mathbb{1}[\\hat y_i = y_i], \\quad
        \\hat y_i = \\arg\\max_k p_{ik},

    with ties in the arg-max resolved to the lowest class index.

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of shape (N,), int
    validate : bool, default True
        Skip input checks when False (for callers that already validated).

    Returns
    -------
    conf : ndarray of shape (N,), float64
    correct : ndarray of shape (N,), float64 of 0.0 / 1.0

    Examples
    --------
    >>> conf, correct = to_confidences([[0.3, 0.7], [0.6, 0.4]], [1, 1])
    >>> conf.tolist(), correct.tolist()
    ([0.7, 0.6], [1.0, 0.0])
    """
    p, y = _prepare(probs, labels, validate)
    return _conf_correct(p, y)


# ----------------------------------------------------------------------------------------------
# Binning machinery
# ----------------------------------------------------------------------------------------------


def _sort_pairs(
    conf: NDArray[np.float64], correct: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sort along the last axis by confidence, ties by correctness (incorrect first).

    Sorting on both keys makes equal-mass bins and the KS statistic functions of the sample's
    multiset of pairs, hence invariant to the order of the input.

    With 0/1 correctness and non-negative float64 confidences (top-label pairs and class
    columns of validated probabilities) both keys fit in one ``uint64``: a non-negative float's
    bit pattern orders like the float, its sign bit is free to shift out and the correctness
    takes the low bit. One plain sort of those keys is about three times faster than
    :func:`numpy.lexsort` and, as equal keys are equal pairs, gives the same arrays.
    """
    if (
        conf.dtype == np.float64
        and conf.size
        and conf.min() >= 0.0
        and np.all((correct == 0.0) | (correct == 1.0))
    ):
        # + 0.0 turns -0.0, whose sign bit is set, into +0.0.
        key = (conf + 0.0).view(np.uint64) << np.uint64(1)
        key |= correct.astype(np.uint64)
        key.sort(axis=-1)
        return (key >> np.uint64(1)).view(np.float64), (key & np.uint64(1)).astype(np.float64)
    order = np.lexsort((correct, conf), axis=-1)
    return np.take_along_axis(conf, order, -1), np.take_along_axis(correct, order, -1)


def _cumsum0(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cumulative sum along the last axis with a leading zero: ``out[..., j] = x[..., :j].sum()``."""
    out = np.zeros(x.shape[:-1] + (x.shape[-1] + 1,))
    np.cumsum(x, axis=-1, out=out[..., 1:])
    return out


def _width_bounds(conf_sorted: NDArray[np.float64], n_bins: int) -> NDArray[np.int64]:
    """Sorted positions where each equal-width bin starts, shape (n_bins + 1,).

    ``side="right"`` counts values ``<= b/n``, which puts a value on an edge in the lower bin.
    """
    edges = np.arange(1, n_bins) / n_bins
    inner = np.searchsorted(conf_sorted, edges, side="right")
    return np.concatenate(([0], inner, [conf_sorted.shape[-1]])).astype(np.int64)


def _mass_bounds(n: int, n_bins: int) -> NDArray[np.int64]:
    """Equal-mass bin starts, shape (n_bins + 1,): sizes ``ceil(n / n_bins)`` first."""
    q, r = divmod(n, n_bins)
    b = np.arange(n_bins + 1)
    return (b * q + np.minimum(b, r)).astype(np.int64)


def _bounds(conf_sorted: NDArray[np.float64], n_bins: int, strategy: Strategy) -> NDArray[np.int64]:
    """Bin starts for a (N,) or (M, N) array of rows sorted along the last axis."""
    n = conf_sorted.shape[-1]
    if strategy == "mass":
        b = _mass_bounds(n, n_bins)
        return np.broadcast_to(b, conf_sorted.shape[:-1] + b.shape)
    if conf_sorted.ndim == 1:
        return _width_bounds(conf_sorted, n_bins)
    # searchsorted is 1-D only; a loop over the K classes costs O(K n_bins log N).
    return np.stack([_width_bounds(row, n_bins) for row in conf_sorted])


def _bin_residuals(
    cum: NDArray[np.float64], bounds: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Per-bin sums of a quantity from its cumulative sum, and per-bin counts."""
    at = np.take_along_axis(cum, bounds, -1) if cum.ndim > 1 else cum[bounds]
    return np.diff(at, axis=-1), np.diff(bounds, axis=-1)


@dataclass(frozen=True)
class BinStats:
    """Per-bin summary of a reliability diagram.

    Attributes
    ----------
    count : ndarray of shape (n_bins,), int64
        :math:`|B_b|`, samples in each bin.
    conf : ndarray of shape (n_bins,), float64
        :math:`\\operatorname{conf}(B_b)`, mean confidence in each bin (NaN when empty).
    acc : ndarray of shape (n_bins,), float64
        :math:`\\operatorname{acc}(B_b)`, mean correctness in each bin (NaN when empty).
    lower, upper : ndarray of shape (n_bins,), float64
        Bin limits: :math:`b/n` and :math:`(b+1)/n` for equal width; the smallest and largest
        confidence in the bin for equal mass (NaN when empty).
    strategy : {"width", "mass"}
    """

    count: NDArray[np.int64]
    conf: NDArray[np.float64]
    acc: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    strategy: str


def _bin_stats(
    conf: NDArray[np.float64], correct: NDArray[np.float64], n_bins: int, strategy: Strategy
) -> BinStats:
    conf_s, correct_s = _sort_pairs(conf, correct)
    bounds = _bounds(conf_s, n_bins, strategy)
    conf_sum, count = _bin_residuals(_cumsum0(conf_s), bounds)
    acc_sum, _ = _bin_residuals(_cumsum0(correct_s), bounds)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(count > 0, conf_sum / count, np.nan)
        mean_acc = np.where(count > 0, acc_sum / count, np.nan)
    if strategy == "width":
        lower = np.arange(n_bins) / n_bins
        upper = np.arange(1, n_bins + 1) / n_bins
    else:
        nonempty = count > 0
        lower = np.full(n_bins, np.nan)
        upper = np.full(n_bins, np.nan)
        lower[nonempty] = conf_s[bounds[:-1][nonempty]]
        upper[nonempty] = conf_s[bounds[1:][nonempty] - 1]
    return BinStats(count, mean_conf, mean_acc, lower, upper, strategy)


def bin_stats(
    conf: ArrayLike, correct: ArrayLike, *, n_bins: int = 15, strategy: Strategy = "width"
) -> BinStats:
    """Count, mean confidence and accuracy of each bin, the data of a reliability diagram.

    .. math:: \\operatorname{acc}(B_b) = \\frac{1}{|B_b|} \\sum_{i \\in B_b} a_i, \\qquad
        \\operatorname{conf}(B_b) = \\frac{1}{|B_b|} \\sum_{i \\in B_b} c_i,

    where :math:`B_b` is the set of samples in bin :math:`b` (module docstring for the
    conventions), :math:`c_i` a confidence and :math:`a_i \\in [0, 1]` its correctness.

    Parameters
    ----------
    conf : array_like of shape (N,)
        Confidences in :math:`[0, 1]`.
    correct : array_like of shape (N,)
        Outcomes in :math:`[0, 1]` (usually 0/1).
    n_bins : int, default 15
        Number of bins, in ``[1, MAX_N_BINS]``.
    strategy : {"width", "mass"}, default "width"
        Equal-width or equal-mass bins.

    Returns
    -------
    BinStats

    Examples
    --------
    >>> s = bin_stats([0.1, 0.2, 0.9, 1.0], [0, 1, 1, 1], n_bins=2)
    >>> s.count.tolist(), s.conf.round(2).tolist(), s.acc.tolist()
    ([2, 2], [0.15, 0.95], [0.5, 1.0])
    """
    n_bins = check_n_bins(n_bins)
    if strategy not in ("width", "mass"):
        raise ValueError(f"Expected `strategy` to be 'width' or 'mass', got {strategy!r}.")
    c, a = _check_conf_correct(conf, correct)
    return _bin_stats(c, a, n_bins, strategy)


class _Sorted:
    """A validated sample sorted once, from which every binned estimator is read off.

    Holds the top-label pairs sorted by (confidence, correctness) and, lazily, the K classwise
    columns sorted the same way, with cumulative sums of the residual
    :math:`c - a` so a bin's residual sum is a difference of two entries.
    """

    def __init__(self, probs: NDArray[np.float64], labels: NDArray[np.int64]) -> None:
        self.probs = probs
        self.labels = labels
        self.n = probs.shape[0]
        conf, correct = _conf_correct(probs, labels)
        self.conf, correct_s = _sort_pairs(conf, correct)
        self.resid = _cumsum0(self.conf - correct_s)
        self._cw: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None

    @property
    def classwise(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if self._cw is None:
            k = self.probs.shape[1]
            p = np.ascontiguousarray(self.probs.T)  # (K, N): row k is the class-k column
            onehot = (self.labels[None, :] == np.arange(k)[:, None]).astype(np.float64)
            p_s, y_s = _sort_pairs(p, onehot)
            self._cw = (p_s, _cumsum0(p_s - y_s))
        return self._cw

    def top(self, n_bins: int, strategy: Strategy) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        return _bin_residuals(self.resid, _bounds(self.conf, n_bins, strategy))

    def ece(self, n_bins: int, strategy: Strategy) -> float:
        sums, _ = self.top(n_bins, strategy)
        return float(np.abs(sums).sum() / self.n)

    def mce(self, n_bins: int) -> float:
        sums, count = self.top(n_bins, "width")
        nonempty = count > 0
        return float(np.max(np.abs(sums[nonempty]) / count[nonempty]))

    def cw_ece(self, n_bins: int, strategy: Strategy) -> float:
        p_s, cum = self.classwise
        sums, _ = _bin_residuals(cum, _bounds(p_s, n_bins, strategy))
        return float(np.abs(sums).sum(axis=1).mean() / self.n)


# ----------------------------------------------------------------------------------------------
# Binned estimators
# ----------------------------------------------------------------------------------------------


def ece(probs: ArrayLike, labels: ArrayLike, *, n_bins: int = 15, validate: bool = True) -> float:
    """Expected calibration error, top label, equal-width bins ([Naeini2015]_, [Guo2017]_).

    .. math:: \\mathrm{ECE} = \\sum_{b=1}^{n} \\frac{|B_b|}{N}
        \\left| \\operatorname{acc}(B_b) - \\operatorname{conf}(B_b) \\right|,

    where :math:`n` is ``n_bins``, :math:`B_b` the samples whose confidence :math:`c_i` falls in
    equal-width bin :math:`b` (first bin :math:`[0, 1/n]`, then :math:`(b/n, (b+1)/n]`),
    :math:`\\operatorname{acc}` the mean correctness and :math:`\\operatorname{conf}` the mean
    confidence of a bin. Empty bins contribute 0.

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of shape (N,), int
    n_bins : int, default 15
        Number of bins, in ``[1, MAX_N_BINS]``.
    validate : bool, default True

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    Two samples at confidence 0.8 in one bin, one right: :math:`|0.5 - 0.8| = 0.3`.

    >>> round(ece([[0.8, 0.2], [0.2, 0.8]], [0, 0], n_bins=5), 12)
    0.3
    """
    n_bins = check_n_bins(n_bins)
    return _Sorted(*_prepare(probs, labels, validate)).ece(n_bins, "width")


def ece_em(
    probs: ArrayLike, labels: ArrayLike, *, n_bins: int = 15, validate: bool = True
) -> float:
    """Top-label ECE with equal-mass bins.

    Same formula as :func:`ece`, with :math:`B_b` the :math:`b`-th of :math:`n` contiguous groups
    of the sample sorted by confidence (ties by correctness, incorrect first), sizes differing by
    at most one, larger groups first. With :math:`N < n` each sample is its own bin and the
    estimate is :math:`\\frac1N \\sum_i |a_i - c_i|`.

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of shape (N,), int
    n_bins : int, default 15
        Number of bins, in ``[1, MAX_N_BINS]``.
    validate : bool, default True

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    Confidences 0.6 (wrong), 0.7 (right) | 0.8 (right), 0.9 (right); bins of two:
    :math:`\\tfrac24 |0.5 - 0.65| + \\tfrac24 |1 - 0.85| = 0.15`.

    >>> p = [[0.6, 0.4], [0.7, 0.3], [0.8, 0.2], [0.9, 0.1]]
    >>> round(ece_em(p, [1, 0, 0, 0], n_bins=2), 12)
    0.15
    """
    n_bins = check_n_bins(n_bins)
    return _Sorted(*_prepare(probs, labels, validate)).ece(n_bins, "mass")


def mce(probs: ArrayLike, labels: ArrayLike, *, n_bins: int = 15, validate: bool = True) -> float:
    """Maximum calibration error over non-empty equal-width bins ([Naeini2015]_).

    .. math:: \\mathrm{MCE} = \\max_{b:\\, |B_b| > 0}
        \\left| \\operatorname{acc}(B_b) - \\operatorname{conf}(B_b) \\right|,

    with the bins and symbols of :func:`ece`.

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of shape (N,), int
    n_bins : int, default 15
        Number of bins, in ``[1, MAX_N_BINS]``.
    validate : bool, default True

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    Bin (0.6, 0.8] holds one wrong 0.7: error 0.7; bin (0.8, 1] one right 0.9: error 0.1.

    >>> round(mce([[0.7, 0.3], [0.9, 0.1]], [1, 0], n_bins=5), 12)
    0.7
    """
    n_bins = check_n_bins(n_bins)
    return _Sorted(*_prepare(probs, labels, validate)).mce(n_bins)


def cw_ece(
    probs: ArrayLike, labels: ArrayLike, *, n_bins: int = 15, validate: bool = True
) -> float:
    """Classwise ECE with equal-width bins ([Kull2019]_; the paper's ``cwCE``).

    .. math:: \\mathrm{cwECE} = \\frac{1}{K} \\sum_{k=1}^{K} \\sum_{b=1}^{n}
        \\frac{|B_{kb}|}{N} \\left| \\frac{1}{|B_{kb}|} \\sum_{i \\in B_{kb}}
        \\mathbb{1}[y_i = k] - \\frac{1}{|B_{kb}|} \\sum_{i \\in B_{kb}} p_{ik} \\right|,

    where :math:`B_{kb}` holds the samples whose class-:math:`k` probability :math:`p_{ik}` lies
    in equal-width bin :math:`b` (all :math:`N` samples are binned for every class), :math:`K`
    the number of classes and :math:`y_i` the label.

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of shape (N,), int
    n_bins : int, default 15
        Number of bins, in ``[1, MAX_N_BINS]``.
    validate : bool, default True

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    One sample, p = (0.8, 0.2), label 0: class 0 errs by 0.2, class 1 by 0.2; mean 0.2.

    >>> round(cw_ece([[0.8, 0.2]], [0], n_bins=5), 12)
    0.2
    """
    n_bins = check_n_bins(n_bins)
    return _Sorted(*_prepare(probs, labels, validate)).cw_ece(n_bins, "width")


def cw_ece_em(
    probs: ArrayLike, labels: ArrayLike, *, n_bins: int = 15, validate: bool = True
) -> float:
    """Classwise ECE with equal-mass bins (the paper's ``cwCE_em``).

    The formula of :func:`cw_ece`, each class column split into equal-mass bins as in
    :func:`ece_em` (ties in :math:`p_{ik}` broken by :math:`\\mathbb{1}[y_i = k]`).

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of shape (N,), int
    n_bins : int, default 15
        Number of bins, in ``[1, MAX_N_BINS]``.
    validate : bool, default True

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> round(cw_ece_em([[0.8, 0.2]], [0], n_bins=5), 12)
    0.2
    """
    n_bins = check_n_bins(n_bins)
    return _Sorted(*_prepare(probs, labels, validate)).cw_ece(n_bins, "mass")


def binned_errors(
    probs: ArrayLike,
    labels: ArrayLike,
    *,
    bin_counts: Sequence[int] = BIN_COUNTS,
    validate: bool = True,
) -> dict[str, dict[int, float]]:
    """All five binned estimators at every bin count, from a single sort.

    Equals ``{"ECE": {n: ece(probs, labels, n_bins=n)}, "ECE_em": {... ece_em ...},
    "cwCE": {... cw_ece ...}, "cwCE_em": {... cw_ece_em ...}, "MCE": {... mce ...}}`` over
    ``n in bin_counts``. The top-label pairs and each class column are sorted once
    (:math:`O(NK \\log N)`); each bin count then costs :math:`O(nK \\log N)` (bin edges located by
    binary search, bin sums read off cumulative sums), not :math:`O(NK)`.

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of shape (N,), int
    bin_counts : sequence of int, default :data:`BIN_COUNTS`
        Bin counts, each in ``[1, MAX_N_BINS]``.
    validate : bool, default True

    Returns
    -------
    dict
        ``{key: {n_bins: value}}`` with keys ``"ECE", "ECE_em", "cwCE", "cwCE_em", "MCE"``.

    Examples
    --------
    >>> out = binned_errors([[0.8, 0.2], [0.2, 0.8]], [0, 0], bin_counts=(5,))
    >>> round(out["ECE"][5], 12), round(out["MCE"][5], 12)
    (0.3, 0.3)
    """
    if isinstance(bin_counts, (str, bytes)) or not isinstance(bin_counts, Iterable):
        raise ValueError(
            f"Expected `bin_counts` to be a sequence of bin counts, got {bin_counts!r} "
            f"({type(bin_counts).__name__})."
        )
    counts = [check_n_bins(n, "bin_counts") for n in bin_counts]
    if not counts:
        raise ValueError("Expected `bin_counts` to be a non-empty sequence, got an empty one.")
    s = _Sorted(*_prepare(probs, labels, validate))
    return {
        "ECE": {n: s.ece(n, "width") for n in counts},
        "ECE_em": {n: s.ece(n, "mass") for n in counts},
        "cwCE": {n: s.cw_ece(n, "width") for n in counts},
        "cwCE_em": {n: s.cw_ece(n, "mass") for n in counts},
        "MCE": {n: s.mce(n) for n in counts},
    }


def debiased_l2_ece(
    probs: ArrayLike, labels: ArrayLike, *, n_bins: int = 15, validate: bool = True
) -> float:
    """Debiased top-label :math:`\\ell_2` calibration error, equal-mass bins ([Kumar2019]_).

    .. math:: \\widehat{\\mathrm{CE}}_2^2 = \\sum_{b:\\,|B_b| \\ge 2} \\frac{|B_b|}{N}
        \\left[ \\left(\\operatorname{conf}(B_b) - \\operatorname{acc}(B_b)\\right)^2
        - \\frac{\\operatorname{acc}(B_b)\\,(1 - \\operatorname{acc}(B_b))}{|B_b| - 1} \\right],
        \\qquad \\text{returned: } \\sqrt{\\max(0, \\widehat{\\mathrm{CE}}_2^2)},

    with equal-mass bins :math:`B_b` as in :func:`ece_em`. The subtracted term is the unbiased
    estimate of the variance of :math:`\\operatorname{acc}(B_b)`, which the plug-in squared error
    otherwise adds. Bins with fewer than two samples contribute 0. This matches
    ``calibration.get_calibration_error(probs, labels, p=2, debias=True, mode="top-label")``
    of the ``uncertainty-calibration`` package on continuous confidences, except where tied
    confidences straddle a bin boundary (that package keeps ties in the lower bin).

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of shape (N,), int
    n_bins : int, default 15
        Number of bins, in ``[1, MAX_N_BINS]``.
    validate : bool, default True

    Returns
    -------
    float in [0, 1]

    References
    ----------
    .. [Kumar2019] Kumar, Liang, Ma, "Verified Uncertainty Calibration", NeurIPS 2019.

    Examples
    --------
    One bin of four: conf mean 0.9, acc 0.5; :math:`0.4^2 - 0.25/3 = 0.07\\overline{6}`.

    >>> p = [[0.9, 0.1]] * 4
    >>> round(debiased_l2_ece(p, [0, 0, 1, 1], n_bins=1) ** 2, 6)
    0.076667
    """
    n_bins = check_n_bins(n_bins)
    p, y = _prepare(probs, labels, validate)
    conf, correct = _sort_pairs(*_conf_correct(p, y))
    bounds = _mass_bounds(conf.shape[0], n_bins)
    conf_sum, count = _bin_residuals(_cumsum0(conf), bounds)
    acc_sum, _ = _bin_residuals(_cumsum0(correct), bounds)
    big = count >= 2
    nb = count[big]
    acc = acc_sum[big] / nb
    sq = (conf_sum[big] / nb - acc) ** 2 - acc * (1.0 - acc) / (nb - 1)
    return math.sqrt(max(0.0, float(np.sum(nb * sq)) / conf.shape[0]))


# ----------------------------------------------------------------------------------------------
# Bin-free estimators
# ----------------------------------------------------------------------------------------------


def ksce(probs: ArrayLike, labels: ArrayLike, *, validate: bool = True) -> float:
    """Kolmogorov–Smirnov calibration error, top label ([Gupta2021]_).

    .. math:: \\mathrm{KS} = \\max_{t} \\left| \\frac{1}{N} \\sum_{i:\\, c_i \\le t}
        (a_i - c_i) \\right|,

    the largest gap between the cumulative accuracy and cumulative confidence curves, where
    :math:`c_i` is the confidence and :math:`a_i` the correctness of sample :math:`i` and
    :math:`t` ranges over the observed confidences. Taking :math:`t` over distinct values (not
    over positions within a run of tied confidences) keeps the estimate independent of the
    order of tied samples.

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of shape (N,), int
    validate : bool, default True

    Returns
    -------
    float in [0, 1]

    References
    ----------
    .. [Gupta2021] Gupta, Rahimi, Ajanthan, Mensink, Sminchisescu, Hartley, "Calibration of
       Neural Networks using Splines", ICLR 2021.

    Examples
    --------
    Sorted by confidence: 0.6 right, 0.8 wrong. Cumulative :math:`a - c`: 0.4, then
    :math:`0.4 - 0.8 = -0.4`; the largest magnitude over :math:`N = 2` is 0.2.

    >>> round(ksce([[0.6, 0.4], [0.8, 0.2]], [0, 1]), 12)
    0.2
    """
    p, y = _prepare(probs, labels, validate)
    conf, correct = _sort_pairs(*_conf_correct(p, y))
    gap = np.cumsum(correct - conf) / conf.shape[0]
    run_end = np.append(conf[1:] != conf[:-1], True)
    return float(np.max(np.abs(gap[run_end])))


def _laplace_forward(
    r: NDArray[np.float64], a: NDArray[np.float64], w: float
) -> NDArray[np.float64]:
    """:math:`F_i = \\sum_{j \\le i} a_j e^{-(r_i - r_j)/w}` for ascending ``r``, in O(N).

    Equivalent to the recursion :math:`F_i = a_i + e^{-(r_i - r_{i-1})/w} F_{i-1}`, evaluated as
    a rescaled cumulative sum inside blocks spanning at most :math:`600 w` in :math:`r` (so
    :math:`e^{(r_j - r_s)/w}` cannot overflow), the running total carried between blocks. Every
    term of a block's cumulative sum is at most :math:`e^{(r_i - r_s)/w}` in size, so the
    rounding error of :math:`F_i` is at most :math:`N \\epsilon \\max_j |a_j|`.
    """
    n = r.shape[0]
    out = np.empty(n)
    carry, r_prev, s = 0.0, r[0] if n else 0.0, 0
    while s < n:
        e = int(np.searchsorted(r, r[s] + 600.0 * w, side="right"))
        rel = (r[s:e] - r[s]) / w
        total = np.cumsum(a[s:e] * np.exp(rel)) + carry * math.exp(-(r[s] - r_prev) / w)
        out[s:e] = total * np.exp(-rel)
        carry, r_prev, s = float(out[e - 1]), float(r[e - 1]), e
    return out


def mmce(
    probs: ArrayLike, labels: ArrayLike, *, bandwidth: float = 0.4, validate: bool = True
) -> float:
    """Maximum mean calibration error with a Laplacian kernel ([Kumar2018]_).

    .. math:: \\mathrm{MMCE}^2 = \\frac{1}{N^2} \\sum_{i=1}^{N} \\sum_{j=1}^{N}
        (a_i - c_i)(a_j - c_j)\\, k(c_i, c_j), \\qquad
        k(c, c') = \\exp\\!\\left(-\\frac{|c - c'|}{w}\\right),

    where :math:`c_i` is the top-label confidence, :math:`a_i` the correctness and :math:`w` the
    ``bandwidth`` (0.4 in [Kumar2018]_). We return :math:`\\sqrt{\\max(0, \\mathrm{MMCE}^2)}` of
    this *biased V-statistic* (diagonal :math:`i = j` included), the quantity the paper reports
    and ``netcal.metrics.MMCE`` computes; the Laplacian kernel is positive definite, so the
    clip only absorbs rounding.

    Computed exactly in :math:`O(N \\log N)`: after sorting by :math:`c`, the inner sums over
    :math:`j < i` and :math:`j > i` are first-order linear recursions (forward and backward).

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of shape (N,), int
    bandwidth : float, default 0.4
        Kernel width :math:`w > 0`.
    validate : bool, default True

    Returns
    -------
    float in [0, 1]

    References
    ----------
    .. [Kumar2018] Kumar, Sarawagi, Jain, "Trainable Calibration Measures for Neural Networks
       from Kernel Mean Embeddings", ICML 2018.

    Examples
    --------
    One wrong sample at confidence 0.7: :math:`\\sqrt{(0 - 0.7)^2 \\cdot 1} / 1 = 0.7`.

    >>> round(mmce([[0.3, 0.7]], [0]), 12)
    0.7
    """
    check_positive(bandwidth, "bandwidth")
    p, y = _prepare(probs, labels, validate)
    conf, correct = _conf_correct(p, y)
    order = np.argsort(conf, kind="stable")
    r, a = conf[order], (correct - conf)[order]
    fwd = _laplace_forward(r, a, float(bandwidth))
    bwd = _laplace_forward(-r[::-1], a[::-1], float(bandwidth))[::-1]
    total = float(np.dot(a, fwd + bwd - a))
    return math.sqrt(max(0.0, total)) / r.shape[0]


# -- KDE-ECE -----------------------------------------------------------------------------------

KDE_EPS = 1e-10
_KDE_BANDWIDTHS = np.concatenate((np.logspace(-5, -1, 15), np.linspace(0.2, 1.0, 5)))


def _beta_log_norm(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """:math:`\\log B(a + 1, b + 1)`, the Beta kernel's normaliser at :math:`a = c/h`,
    :math:`b = (1 - c)/h`."""
    return special.gammaln(a + 1.0) + special.gammaln(b + 1.0) - special.gammaln(a + b + 2.0)


def _beta_log_kernel(
    z: NDArray[np.float64], centers: NDArray[np.float64], h: float
) -> NDArray[np.float64]:
    """``out[i, j] = log Beta(z_i; centers_j / h + 1, (1 - centers_j) / h + 1)``."""
    pa = centers / h + 1.0
    pb = (1.0 - centers) / h + 1.0
    log_b = special.gammaln(pa) + special.gammaln(pb) - special.gammaln(pa + pb)
    return (
        np.log(z)[:, None] * (pa - 1.0)[None, :]
        + np.log1p(-z)[:, None] * (pb - 1.0)[None, :]
        - log_b[None, :]
    )


def _kde_sums_exact(
    z: NDArray[np.float64], correct: NDArray[np.float64], h: float, chunk: int = 1024
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Leave-one-out ``(log sum_j k_j(z_i), log sum_j a_j k_j(z_i))`` over j != i, O(N^2)."""
    n = z.shape[0]
    log_den = np.empty(n)
    log_num = np.empty(n)
    log_a = np.where(correct > 0, 0.0, -np.inf)  # correctness is 0/1
    for s in range(0, n, chunk):
        lk = _beta_log_kernel(z[s : s + chunk], z, h)
        rows = np.arange(lk.shape[0])
        lk[rows, s + rows] = -np.inf
        log_den[s : s + chunk] = special.logsumexp(lk, axis=1)
        log_num[s : s + chunk] = special.logsumexp(lk + log_a[None, :], axis=1)
    return log_den, log_num


def _kdece_exact(
    conf: NDArray[np.float64], correct: NDArray[np.float64], bandwidth: float
) -> float:
    """KDE-ECE by the direct :math:`O(N^2)` leave-one-out sums (reference for the fast path)."""
    z = np.clip(conf, KDE_EPS, 1.0 - KDE_EPS)
    log_den, log_num = _kde_sums_exact(z, correct, bandwidth)
    ratio = np.exp(log_num - log_den)
    return float(np.mean(np.abs(ratio - z)))


def _kde_grid(h: float, resolution: float) -> NDArray[np.float64]:
    """Kernel centres uniform in :math:`\\theta = \\arcsin\\sqrt{c}`.

    The Beta kernel's width in :math:`c` is about :math:`\\sqrt{h c (1-c)}`, i.e. a constant
    :math:`\\sqrt h / 2` in :math:`\\theta` (the variance-stabilising transform), so a uniform
    :math:`\\theta` grid with spacing :math:`\\sqrt h /` ``resolution`` resolves it everywhere.
    """
    g = int(np.clip(math.ceil((math.pi / 2) * resolution / math.sqrt(h)), 64, 8192)) + 1
    return np.linspace(0.0, math.pi / 2, g)


# Kernel sums drop the terms more than e^-tail below a row's largest, tail = _KDE_TAIL + log N:
# at most N of them (or mass N on the grid), so together under e^-_KDE_TAIL (about 2e-22) of
# the largest term, far below the rounding of sums that hold it.
_KDE_TAIL = 50.0
# Neighbours on each side of a sample, in sorted order, that the exact leave-one-out sums of
# an isolated sample start from (widened to all samples when they do not cover the tail).
_KDE_NEIGHBOURS = 16
# Elements per block of banded kernel evaluations (8 bytes each).
_KDE_BLOCK = 2**17


class _KdeSample:
    """Clipped confidences and what every bandwidth's kernel sums need of them.

    :math:`\\log k_h(z; c) = \\frac{c}{h} \\log z + \\frac{1 - c}{h} \\log(1 - z)
    - \\log B\\!\\left(\\frac{c}{h} + 1, \\frac{1 - c}{h} + 1\\right)` is strictly concave in
    the centre :math:`c` (:math:`\\log\\Gamma` is convex), so for a fixed :math:`z` the kernel is
    unimodal along any ordering of the centres by :math:`c`. Once a contiguous run of centres
    has both end terms ``tail`` below its largest term, every centre outside the run lies
    beyond an end and contributes less than that end, so the run holds the whole sum but for
    at most :math:`N e^{-\\text{tail}}` times its largest term. The grid sums and the exact
    recomputation of isolated samples both rely on this to sum over a band of neighbours.
    """

    def __init__(self, z: NDArray[np.float64]) -> None:
        self.z = z
        self.n = z.shape[0]
        self.log_z = np.log(z)
        self.log_1mz = np.log1p(-z)
        self.theta = np.arcsin(np.sqrt(z))
        self.order = np.argsort(z, kind="stable")
        self.rank = np.empty(self.n, dtype=np.int64)
        self.rank[self.order] = np.arange(self.n)
        self.tail = _KDE_TAIL + math.log(self.n)

    def log_kernel(
        self,
        rows: NDArray[np.int64],
        a: NDArray[np.float64],
        b: NDArray[np.float64],
        log_b: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """``log k`` of samples ``rows`` against centres :math:`c` given by ``a`` = :math:`c/h`,
        ``b`` = :math:`(1 - c)/h` and ``log_b`` = :func:`_beta_log_norm` ``(a, b)``: centres
        shared by all rows (1-D) or one row of centres per sample (2-D)."""
        return self.log_z[rows, None] * a + self.log_1mz[rows, None] * b - log_b

    def loo_exact(
        self, rows: NDArray[np.int64], correct: NDArray[np.float64] | None, h: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Exact leave-one-out ``(log den, log num)`` of ``rows`` over their sorted neighbours.

        Each row starts from the :data:`_KDE_NEIGHBOURS` samples either side of it in sorted
        order; rows whose window does not reach ``tail`` below its largest term at an end that
        is not the end of the sample are summed over all samples instead.
        """
        n = self.n
        width = min(n, 2 * _KDE_NEIGHBOURS + 1)
        start = np.clip(self.rank[rows] - _KDE_NEIGHBOURS, 0, n - width)
        cols = self.order[start[:, None] + np.arange(width)]
        a, b = self.z[cols] / h, (1.0 - self.z[cols]) / h
        lk = self.log_kernel(rows, a, b, _beta_log_norm(a, b))
        lk[cols == rows[:, None]] = -np.inf
        top = lk.max(axis=1)
        covered = ((start == 0) | (lk[:, 0] <= top - self.tail)) & (
            (start + width == n) | (lk[:, -1] <= top - self.tail)
        )
        log_den = np.empty(rows.shape[0])
        log_num = np.full(rows.shape[0], np.nan)
        log_den[covered] = special.logsumexp(lk[covered], axis=1)
        if correct is not None:
            log_a = np.where(correct > 0, 0.0, -np.inf)  # correctness is 0/1
            log_num[covered] = special.logsumexp(lk[covered] + log_a[cols[covered]], axis=1)
        if not covered.all():
            far = rows[~covered]
            a, b = self.z / h, (1.0 - self.z) / h
            lk = self.log_kernel(far, a, b, _beta_log_norm(a, b))
            lk[np.arange(far.shape[0]), far] = -np.inf
            log_den[~covered] = special.logsumexp(lk, axis=1)
            if correct is not None:
                log_num[~covered] = special.logsumexp(lk + log_a, axis=1)
        return log_den, log_num


def _kde_sums_fast(
    z: NDArray[np.float64],
    correct: NDArray[np.float64] | None,
    h: float,
    *,
    resolution: float = 12.0,
    sample: _KdeSample | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Leave-one-out kernel sums with kernel centres linearly binned onto :func:`_kde_grid`.

    Each centre :math:`c_j` is split between its two neighbouring grid nodes in proportion to
    proximity in :math:`\\theta`; the sum at :math:`z_i` is then over nodes. Leave-one-out
    removes the binned copy of sample :math:`i` itself, so the fast estimator is exactly the
    leave-one-out estimator of the binned sample. Rows where that subtraction cancels
    catastrophically (sample :math:`i` isolated from all others) are redone exactly.

    The kernel is a constant :math:`\\approx \\sqrt h / 2` wide in :math:`\\theta` and the grid
    spacing :math:`\\sqrt h /` ``resolution``, so only a band of about
    :math:`\\pm \\sqrt{2\\,\\mathrm{tail}}\\,` ``resolution`` / 2 nodes around :math:`z_i`
    matters: each row sums over that band, :math:`O(N \\cdot \\text{resolution})` whatever
    :math:`h` (see :class:`_KdeSample` for the cut and its guarantee). Rows whose band does not
    reach the cut at both ends are summed again over a band twice as wide, up to the whole
    grid. ``correct=None`` skips the numerator (returned as NaN).
    """
    s = _KdeSample(z) if sample is None else sample
    theta = _kde_grid(h, resolution)
    g = theta.shape[0]
    step = theta[1] - theta[0]
    centers = np.clip(np.sin(theta) ** 2, 0.0, 1.0)
    a, b = centers / h, (1.0 - centers) / h
    log_b = _beta_log_norm(a, b)
    pos = s.theta / step
    lo = np.clip(np.floor(pos).astype(np.int64), 0, g - 2)
    frac = pos - lo
    weights = [np.bincount(lo, 1.0 - frac, g) + np.bincount(lo + 1, frac, g)]
    if correct is not None:
        weights.append(
            np.bincount(lo, (1.0 - frac) * correct, g) + np.bincount(lo + 1, frac * correct, g)
        )

    # Band half-width from a Gaussian approximation of the kernel in theta (sd sqrt(h) / 2),
    # doubled for the rows whose band turns out too narrow (the kernel is skewed near 0 and 1
    # and far from Gaussian this deep in its tails) until it is the whole grid.
    half = math.ceil(math.sqrt(2.0 * s.tail) * 0.5 * math.sqrt(h) / step) + 2
    top = np.empty(s.n)
    self_k = np.empty(s.n)
    sums = [np.empty(s.n) for _ in weights]
    pending = np.arange(s.n)
    while pending.shape[0]:
        width = min(g, 2 * half + 2)
        # Row i of a window view is nodes i .. i + width - 1, so a band is one row of it.
        a_w, b_w, log_b_w, *weights_w = (
            sliding_window_view(x, width) for x in (a, b, log_b, *weights)
        )
        start = np.clip(lo[pending] - half, 0, g - width)
        retry = []
        # Blocks of ~1 MB temporaries: a whole (N, width) array at a time is several times
        # slower, from cache misses and page faults on every fresh allocation.
        block = max(1, _KDE_BLOCK // width)
        for c in range(0, pending.shape[0], block):
            rows, st = pending[c : c + block], start[c : c + block]
            lk = s.log_kernel(rows, a_w[st], b_w[st], log_b_w[st])
            top_r = lk.max(axis=1)
            ok = ((st == 0) | (lk[:, 0] <= top_r - s.tail)) & (
                (st + width == g) | (lk[:, -1] <= top_r - s.tail)
            )
            lk -= top_r[:, None]
            k = np.exp(lk, out=lk)
            at, own = np.arange(rows.shape[0]), lo[rows] - st
            self_r = (1.0 - frac[rows]) * k[at, own] + frac[rows] * k[at, own + 1]
            done = rows[ok]
            top[done], self_k[done] = top_r[ok], self_r[ok]
            for total, w_w in zip(sums, weights_w, strict=True):
                total[done] = np.einsum("ij,ij->i", k, w_w[st])[ok]
            retry.append(rows[~ok])
        pending = np.concatenate(retry)
        half *= 2

    den = sums[0] - self_k
    redo = np.flatnonzero(den <= 1e-9 * sums[0])
    den[redo] = 1.0
    log_den = np.log(den) + top
    log_num = np.full(s.n, np.nan)
    if correct is not None:
        with np.errstate(divide="ignore"):
            log_num = np.log(np.clip(sums[1] - correct * self_k, 0.0, None)) + top
    if redo.shape[0]:
        log_den[redo], log_num[redo] = s.loo_exact(redo, correct, h)
    return log_den, log_num


def kde_bandwidth(z: NDArray[np.float64]) -> float:
    """Leave-one-out maximum-likelihood bandwidth of the Beta KDE of the confidences.

    .. math:: h^\\star = \\arg\\max_{h \\in \\mathcal H} \\sum_{i=1}^{N}
        \\log \\frac{1}{N-1} \\sum_{j \\ne i} k_h(z_i; z_j),

    over the candidate set :math:`\\mathcal H` of the reference implementation (15 values
    log-spaced in :math:`[10^{-5}, 10^{-1}]` and 0.2, 0.4, ..., 1.0), first maximum on ties.
    Only the ranking matters here, so the kernel sums use a grid three times coarser than
    :func:`kdece`'s.
    """
    n = z.shape[0]
    if n < 2:
        return 0.1
    sample = _KdeSample(z)
    scores = [
        float(np.sum(_kde_sums_fast(z, None, float(h), resolution=4.0, sample=sample)[0]))
        - n * math.log(n - 1)
        for h in _KDE_BANDWIDTHS
    ]
    return float(_KDE_BANDWIDTHS[int(np.argmax(scores))])


def kdece(
    probs: ArrayLike,
    labels: ArrayLike,
    *,
    bandwidth: float | None = None,
    validate: bool = True,
) -> float:
    """Kernel-density estimate of the top-label :math:`L_1` calibration error ([Popordanoska2022]_).

    .. math:: \\mathrm{KDE\\text{-}ECE} = \\frac{1}{N} \\sum_{i=1}^{N}
        \\left| \\hat r(c_i) - c_i \\right|, \\qquad
        \\hat r(c_i) = \\frac{\\sum_{j \\ne i} a_j\\, k_h(c_i; c_j)}{\\sum_{j \\ne i} k_h(c_i; c_j)},
        \\qquad k_h(c; c') = \\operatorname{Beta}\\!\\left(c;\\, \\frac{c'}{h} + 1,
        \\frac{1 - c'}{h} + 1\\right),

    a leave-one-out Nadaraya–Watson estimate :math:`\\hat r` of the accuracy at each confidence
    :math:`c_i` (correctness :math:`a_j`) with the Beta kernel of bandwidth :math:`h`, the
    binary case of the paper's Dirichlet kernel. Confidences are clipped to
    :math:`[10^{-10}, 1 - 10^{-10}]` because the kernel takes logarithms of :math:`c` and
    :math:`1 - c`.

    The default evaluates kernel sums against centres binned onto a grid uniform in
    :math:`\\arcsin\\sqrt c`, on which the kernel has a near-constant width; each sum runs only
    over the nodes around :math:`c_i` outside which the kernel is below :math:`e^{-50}/N` of its
    peak (a band of about 140 nodes, wider where the kernel is skewed), so the cost does not grow
    as :math:`h` shrinks. Against the exact :math:`O(N^2)` estimator its absolute error is below
    :math:`5 \\times 10^{-4}` (tested at :math:`N = 2000` for :math:`h` from :math:`10^{-5}` to
    0.5; observed :math:`< 10^{-4}`).

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of shape (N,), int
    bandwidth : float, optional
        Kernel bandwidth :math:`h > 0`. Default: the authors' rule, the leave-one-out
        maximum-likelihood bandwidth of the Beta KDE of the confidences over their candidate
        grid (:math:`10^{-5} \\dots 10^{-1}` log-spaced, and 0.2 ... 1.0).
    validate : bool, default True

    Returns
    -------
    float in [0, 1]

    References
    ----------
    .. [Popordanoska2022] Popordanoska, Sayer, Blaschko, "A Consistent and Differentiable Lp
       Canonical Calibration Error Estimator", NeurIPS 2022.

    Examples
    --------
    With all samples correct, :math:`\\hat r \\equiv 1` and the estimate is
    :math:`\\mathrm{mean}(1 - c) = (0.1 + 0.3) / 2`.

    >>> round(kdece([[0.9, 0.1], [0.7, 0.3]], [0, 0], bandwidth=0.1), 6)
    0.2
    """
    if bandwidth is not None:
        check_positive(bandwidth, "bandwidth")
    p, y = _prepare(probs, labels, validate)
    conf, correct = _conf_correct(p, y)
    if conf.shape[0] < 2:
        raise ValueError(
            "Expected `probs` to hold at least 2 samples for a leave-one-out estimate, got "
            f"N={conf.shape[0]}."
        )
    z = np.clip(conf, KDE_EPS, 1.0 - KDE_EPS)
    h = kde_bandwidth(z) if bandwidth is None else float(bandwidth)
    log_den, log_num = _kde_sums_fast(z, correct, h)
    ratio = np.clip(np.exp(log_num - log_den), 0.0, 1.0)
    return float(np.mean(np.abs(ratio - z)))


# -- Smooth ECE --------------------------------------------------------------------------------

_SMECE_GRID = 2**16
_SMECE_MIN_SIGMA = 1e-3


class _SmoothResiduals:
    """Residuals :math:`c_i - a_i` linearly binned onto a grid of :math:`[0, 1]`, in cosine space.

    The reflected Gaussian kernel on :math:`[0, 1]` (Gaussian plus all its mirror images at 0
    and 1) is the Neumann heat kernel,
    :math:`\\tilde K_\\sigma(t, f) = 1 + 2\\sum_{m \\ge 1} e^{-(\\pi m \\sigma)^2/2}
    \\cos(\\pi m t) \\cos(\\pi m f)`, so smoothing is a multiplication in the DCT-I basis of the
    grid: exact for the binned masses, up to the dropped modes :math:`m \\ge G` whose weights
    :math:`e^{-(\\pi G \\sigma)^2/2}` vanish for :math:`\\sigma \\ge 10^{-3}`.
    """

    def __init__(self, conf: NDArray[np.float64], correct: NDArray[np.float64]) -> None:
        g = _SMECE_GRID
        pos = conf * g
        lo = np.clip(np.floor(pos).astype(np.int64), 0, g - 1)
        frac = pos - lo
        resid = conf - correct
        mass = np.bincount(lo, (1.0 - frac) * resid, g + 1) + np.bincount(
            lo + 1, frac * resid, g + 1
        )
        # DCT-I weights the end points once and the interior twice; doubling the ends makes
        # coeff[m] = sum_n mass[n] cos(pi m n / g) exactly.
        mass[[0, -1]] *= 2.0
        self.coeff = fft.dct(mass, type=1) / 2.0
        self.freq = np.pi * np.arange(g + 1)
        self.n = conf.shape[0]

    def error(self, sigma: float) -> float:
        """:math:`\\mathrm{smECE}_\\sigma`, the integral of :math:`|\\text{smoothed residual}|`."""
        mult = 2.0 * np.exp(-0.5 * (self.freq * sigma) ** 2)
        mult[0] = 1.0
        z = self.coeff * mult
        # Inverse of the same convention: g(t_j) = sum_m z_m cos(pi m j / G).
        z[1:-1] /= 2.0
        smoothed = fft.dct(z, type=1)
        absg = np.abs(smoothed)
        integral = (absg.sum() - 0.5 * (absg[0] + absg[-1])) / _SMECE_GRID
        return float(integral / self.n)


def smooth_ece(
    probs: ArrayLike,
    labels: ArrayLike,
    *,
    sigma: float | None = None,
    validate: bool = True,
) -> float:
    """Smooth ECE, top label, with the self-consistent bandwidth ([Blasiok2023]_).

    .. math:: \\mathrm{smECE}_\\sigma = \\int_0^1 \\left| \\frac{1}{N} \\sum_{i=1}^{N}
        \\tilde K_\\sigma(t, c_i)\\,(c_i - a_i) \\right| dt, \\qquad
        \\mathrm{smECE} = \\mathrm{smECE}_{\\sigma^\\star},\\quad
        \\sigma^\\star = \\mathrm{smECE}_{\\sigma^\\star},

    the mass of the kernel-smoothed residual, where :math:`c_i` is the confidence, :math:`a_i`
    the correctness and :math:`\\tilde K_\\sigma` the Gaussian kernel of width :math:`\\sigma`
    reflected at 0 and 1 (so each sample keeps unit mass inside :math:`[0, 1]`).
    :math:`\\sigma^\\star` is the fixed point, found by bisection on
    :math:`[10^{-3}, 1]` to :math:`10^{-9}` (:math:`\\mathrm{smECE}_\\sigma - \\sigma` decreases);
    if it lies below :math:`10^{-3}` we return :math:`\\mathrm{smECE}_{10^{-3}}`. Residuals are
    linearly binned onto :math:`2^{16} + 1` grid points before smoothing.

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of shape (N,), int
    sigma : float, optional
        A fixed bandwidth in :math:`[10^{-3}, \\infty)`; default the fixed point.
    validate : bool, default True

    Returns
    -------
    float in [0, 1]

    References
    ----------
    .. [Blasiok2023] Błasiok, Nakkiran, "Smooth ECE: Principled Reliability Diagrams via Kernel
       Smoothing", ICLR 2024 (arXiv:2309.12236, 2023).

    Examples
    --------
    Every sample at confidence 0.8 and correct: the residual is -0.2 everywhere, whatever the
    smoothing, so smECE = 0.2.

    >>> round(smooth_ece([[0.8, 0.2]] * 3, [0, 0, 0], sigma=0.1), 6)
    0.2
    """
    if sigma is not None and not (
        isinstance(sigma, Real) and math.isfinite(sigma) and sigma >= _SMECE_MIN_SIGMA
    ):
        raise ValueError(f"Expected `sigma` to be a number >= {_SMECE_MIN_SIGMA:g}, got {sigma!r}.")
    p, y = _prepare(probs, labels, validate)
    smooth = _SmoothResiduals(*_conf_correct(p, y))
    if sigma is not None:
        return smooth.error(float(sigma))
    lo, hi = _SMECE_MIN_SIGMA, 1.0
    if smooth.error(lo) <= lo:
        return smooth.error(lo)
    if smooth.error(hi) >= hi:
        return smooth.error(hi)
    while hi - lo > 1e-9:
        mid = 0.5 * (lo + hi)
        if smooth.error(mid) > mid:
            lo = mid
        else:
            hi = mid
    return smooth.error(hi)


# ----------------------------------------------------------------------------------------------
# Proper scores and summaries
# ----------------------------------------------------------------------------------------------


def nll(probs: ArrayLike, labels: ArrayLike, *, validate: bool = True) -> float:
    """Mean negative log-likelihood of the true class.

    .. math:: \\mathrm{NLL} = -\\frac{1}{N} \\sum_{i=1}^{N} \\log \\max(p_{i y_i}, \\tau),

    where :math:`p_{i y_i}` is the probability of the label :math:`y_i` and
    :math:`\\tau` = ``np.finfo(np.float64).tiny`` (:math:`\\approx 2.2 \\times 10^{-308}`) keeps a
    zero probability finite (each term is at most :math:`\\approx 708.4`).

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of shape (N,), int
    validate : bool, default True

    Returns
    -------
    float >= 0

    Examples
    --------
    Both true classes have probability 1/2: :math:`\\log 2`.

    >>> round(nll([[0.5, 0.5], [0.5, 0.5]], [0, 1]), 6)
    0.693147
    """
    p, y = _prepare(probs, labels, validate)
    py = np.maximum(p[np.arange(p.shape[0]), y], np.finfo(np.float64).tiny)
    return float(-np.mean(np.log(py)))


def brier(probs: ArrayLike, labels: ArrayLike, *, validate: bool = True) -> float:
    """Multiclass Brier score ([Brier1950]_), as in the paper: summed over classes, not averaged.

    .. math:: \\mathrm{BS} = \\frac{1}{N} \\sum_{i=1}^{N} \\sum_{k=1}^{K}
        \\left(p_{ik} - \\mathbb{1}[y_i = k]\\right)^2 \\in [0, 2],

    not divided by :math:`K`.

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of shape (N,), int
    validate : bool, default True

    Returns
    -------
    float in [0, 2]

    References
    ----------
    .. [Brier1950] Brier, "Verification of forecasts expressed in terms of probability",
       Monthly Weather Review, 1950.

    Examples
    --------
    :math:`(0.8 - 1)^2 + 0.2^2 = 0.08`.

    >>> round(brier([[0.8, 0.2]], [0]), 12)
    0.08
    """
    p, y = _prepare(probs, labels, validate)
    onehot = np.zeros_like(p)
    onehot[np.arange(p.shape[0]), y] = 1.0
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def accuracy(probs: ArrayLike, labels: ArrayLike, *, validate: bool = True) -> float:
    """Top-1 accuracy, :math:`\\frac1N \\sum_i \\mathbb{1}[\\arg\\max_k p_{ik} = y_i]`.

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of shape (N,), int
    validate : bool, default True

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> accuracy([[0.8, 0.2], [0.3, 0.7]], [0, 0])
    0.5
    """
    p, y = _prepare(probs, labels, validate)
    return float(np.mean(p.argmax(axis=1) == y))


def confidence_split(
    probs: ArrayLike, labels: ArrayLike, *, validate: bool = True
) -> tuple[float, float]:
    """Mean top-label confidence on correct and on incorrect predictions.

    .. math:: \\bar c_{\\checkmark} = \\frac{\\sum_i a_i c_i}{\\sum_i a_i}, \\qquad
        \\bar c_{\\times} = \\frac{\\sum_i (1 - a_i) c_i}{\\sum_i (1 - a_i)},

    with :math:`c_i` the confidence and :math:`a_i` the correctness; NaN for an empty group.
    These are the paper's ``correct_confidence`` and ``incorrect_confidence`` columns.

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of shape (N,), int
    validate : bool, default True

    Returns
    -------
    (float, float)

    Examples
    --------
    Correct: 0.8 and 0.7 (mean 0.75); wrong: 0.6.

    >>> right, wrong = confidence_split([[0.8, 0.2], [0.6, 0.4], [0.3, 0.7]], [0, 1, 1])
    >>> round(right, 12), round(wrong, 12)
    (0.75, 0.6)
    """
    p, y = _prepare(probs, labels, validate)
    conf, correct = _conf_correct(p, y)
    right = correct == 1.0
    mean_right = float(conf[right].mean()) if right.any() else math.nan
    mean_wrong = float(conf[~right].mean()) if (~right).any() else math.nan
    return mean_right, mean_wrong


def auroc(scores_in: ArrayLike, scores_out: ArrayLike) -> float:
    """Area under the ROC curve separating in- from out-of-distribution scores.

    The Mann–Whitney form, with in-distribution samples as positives:

    .. math:: \\mathrm{AUROC} = \\frac{R_{\\mathrm{in}} - n_{\\mathrm{in}}(n_{\\mathrm{in}} + 1)/2}
        {n_{\\mathrm{in}}\\, n_{\\mathrm{out}}}
        = \\frac{1}{n_{\\mathrm{in}} n_{\\mathrm{out}}} \\sum_{i, j}
        \\left(\\mathbb{1}[s_i > t_j] + \\tfrac12 \\mathbb{1}[s_i = t_j]\\right),

    where :math:`R_{\\mathrm{in}}` is the sum of the ranks of the :math:`n_{\\mathrm{in}}`
    in-distribution scores :math:`s_i` in the pooled sample (ties get their average rank) and
    :math:`t_j` are the :math:`n_{\\mathrm{out}}` out-of-distribution scores.

    Parameters
    ----------
    scores_in : array_like of shape (n_in,)
        Scores of in-distribution samples (e.g. max softmax on the clean test set).
    scores_out : array_like of shape (n_out,)

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    Pairs (0.9 > 0.5), (0.9 > 0.2), (0.4 < 0.5), (0.4 > 0.2): 3 of 4.

    >>> auroc([0.9, 0.4], [0.5, 0.2])
    0.75
    """
    arrays = []
    for name, x in (("scores_in", scores_in), ("scores_out", scores_out)):
        a = as_array(x, np.float64)
        if a.ndim != 1 or a.shape[0] == 0:
            raise ValueError(f"Expected `{name}` to be a non-empty 1-D array, got shape {a.shape}.")
        check_finite(a, name)
        arrays.append(a)
    s_in, s_out = arrays
    n_in, n_out = s_in.shape[0], s_out.shape[0]
    ranks = stats.rankdata(np.concatenate((s_in, s_out)))
    return float((ranks[:n_in].sum() - n_in * (n_in + 1) / 2.0) / (n_in * n_out))


def bootstrap_ci(
    metric: Callable[[NDArray[np.float64], NDArray[np.int64]], float],
    probs: ArrayLike,
    labels: ArrayLike,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Percentile-bootstrap confidence interval of any metric ``f(probs, labels) -> float``.

    .. math:: \\left[\\hat\\theta^*_{(\\alpha/2)},\\ \\hat\\theta^*_{(1 - \\alpha/2)}\\right],
        \\qquad \\alpha = 1 - \\text{level},

    where :math:`\\hat\\theta^*_{(q)}` is the :math:`q`-quantile (linear interpolation) of the
    metric over ``n_boot`` resamples of the :math:`N` rows drawn with replacement
    ([Efron1993]_). All resample indices come from one ``numpy.random.default_rng(seed)``
    stream, so the interval is reproducible.

    Parameters
    ----------
    metric : callable
        ``metric(probs, labels) -> float``, e.g. :func:`ece`.
    probs : array_like of shape (N, K)
    labels : array_like of shape (N,), int
    n_boot : int, default 1000
    level : float, default 0.95
        Coverage, in (0, 1).
    seed : int, default 0

    Returns
    -------
    (estimate, low, high) : tuple of float
        ``estimate`` is the metric on the full sample.

    References
    ----------
    .. [Efron1993] Efron, Tibshirani, "An Introduction to the Bootstrap", Chapman & Hall, 1993.

    Examples
    --------
    Accuracy of a constant predictor never varies:

    >>> bootstrap_ci(accuracy, [[0.9, 0.1]] * 4, [0] * 4, n_boot=20)
    (1.0, 1.0, 1.0)
    """
    n_boot = check_positive_int(n_boot, "n_boot")
    if not (isinstance(level, Real) and 0.0 < level < 1.0):
        raise ValueError(f"Expected `level` to be in (0, 1), got {level!r}.")
    p, y = check_probs_labels(probs, labels)
    n = p.shape[0]
    rng = np.random.default_rng(seed)
    estimates = np.empty(n_boot)
    # Draw indices in blocks: one RNG call per block, memory bounded at ~8 MB.
    block = max(1, 1_000_000 // n)
    for s in range(0, n_boot, block):
        idx = rng.integers(0, n, size=(min(block, n_boot - s), n))
        for b, rows in enumerate(idx):
            estimates[s + b] = metric(p[rows], y[rows])
    alpha = 1.0 - level
    low, high = np.quantile(estimates, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(metric(p, y)), float(low), float(high)
