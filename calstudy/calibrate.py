"""Post-hoc calibration: held-out splits, temperature scaling and three alternatives.

Every method maps the logits of a trained network to new class probabilities and is fitted on
a held-out set it is then *not* evaluated on. The study follows the reference benchmark (Tao et
al., 2024): the temperature is fitted on a random 20 % of the test set and post-scaling metrics
are computed on the other 80 % (:func:`heldout_split`).

The math lives in pure functions (:func:`fit_temperature`, ``_fit_vector_scaling``,
``_fit_histogram_binning``); the classes only hold the fitted parameters, in the style of
scikit-learn's ``_sigmoid_calibration`` / ``_SigmoidCalibration`` pair. Every class has the same
surface::

    method = POSTHOC_METHODS["ts"]().fit(logits[fit_idx], labels[fit_idx])
    probs = method.predict_proba(logits[eval_idx])

References
----------
.. [1] C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On Calibration of Modern Neural
   Networks", ICML 2017.
.. [2] B. Zadrozny, C. Elkan, "Obtaining calibrated probability estimates from decision trees
   and naive Bayesian classifiers", ICML 2001.
.. [3] B. Zadrozny, C. Elkan, "Transforming classifier scores into accurate multiclass
   probability estimates", KDD 2002.
.. [4] L. Tao, Y. Zhu, H. Guo, M. Dong, C. Xu, "A Benchmark Study on Calibration", ICLR 2024.
"""

from __future__ import annotations

import inspect
import logging
import math
import os
import warnings
from numbers import Real
from typing import Protocol

import numpy as np
import scipy.optimize
from numpy.typing import ArrayLike, NDArray
from scipy.special import log_softmax

from calstudy._checks import check_logits, check_logits_labels
from calstudy.metrics import MAX_N_BINS

__all__ = [
    "MIN_SPLIT_SAMPLES",
    "POSTHOC_METHODS",
    "SMALL_FIT_SAMPLES",
    "HistogramBinning",
    "IsotonicCalibration",
    "SmallSampleWarning",
    "TemperatureScaling",
    "VectorScaling",
    "fit_temperature",
    "heldout_sizes",
    "heldout_split",
]

#: Floor applied to the probabilities of the non-parametric methods before renormalising, so
#: that a class never seen in a bin still gets a finite negative log-likelihood.
DEFAULT_EPS = 1e-6

#: Fewest samples a calibrator is fitted on, and fewest samples either part of a held-out split
#: may hold. Two is the least for which the NLL of temperature scaling can have an interior
#: minimum (with one sample it runs to a bound of the search interval, or is flat); an evaluation
#: part needs two as well, for the leave-one-out KDE-ECE and for any spread at all.
MIN_SPLIT_SAMPLES = 2

#: Below this many fitting samples, fitting a temperature warns (:class:`SmallSampleWarning`).
#: On synthetic 10-class data with :math:`T^\star = 2` the relative spread of the fitted
#: temperature is about :math:`1/\sqrt n`: 26 % at 20 samples, 14 % at 50, 10 % at 100, 5 % at
#: 500; 100 is where it drops to 10 %. The ``tiny`` sweep preset holds out exactly 100 (20 % of
#: 500 test images), the ``demo`` and ``full`` presets a thousand or more, so no preset warns.
SMALL_FIT_SAMPLES = 100

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

logger = logging.getLogger(__name__)
"""Where run-time notices go (``calstudy.calibrate``, under ``calstudy``): a fit that ends on a
bound of its search interval is a property of the data, reported once per fit, not a misuse a
caller could fix, so it is logged rather than warned (``warnings`` is kept for
:class:`SmallSampleWarning`). Without logging configured, Python prints it to stderr; the command
line writes it above its progress bars."""


class SmallSampleWarning(UserWarning):
    """A temperature was fitted on fewer than :data:`SMALL_FIT_SAMPLES` samples.

    The fit works, but the temperature is noisy; the message gives the number of samples.
    Silence it with ``warnings.simplefilter("ignore", SmallSampleWarning)``.
    """


# --------------------------------------------------------------------------------------------
# Validation and shared helpers
# --------------------------------------------------------------------------------------------


def _softmax(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    """Row-wise softmax in float64, floored at the smallest normal float so it is > 0."""
    return np.maximum(np.exp(log_softmax(logits, axis=1)), np.finfo(np.float64).tiny)


def _floor_renormalise(scores: NDArray[np.float64], eps: float) -> NDArray[np.float64]:
    r"""Turn non-negative per-class scores into probabilities: :math:`q = \max(s, \epsilon)
    / \sum_k \max(s_k, \epsilon)`."""
    floored = np.maximum(scores, eps)
    return floored / floored.sum(axis=1, keepdims=True)


def _external_stacklevel() -> int:
    """``stacklevel`` that attributes a warning to the first caller outside calstudy.

    Counted from the function that calls :func:`warnings.warn` (pandas' ``find_stack_level``):
    the same warning then points at the user's line whether it came through
    :func:`fit_temperature`, :class:`TemperatureScaling` or ``catalogue.full_record``.
    """
    frame = inspect.currentframe()
    level = 0
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return max(level, 1)


def _check_fit_size(n: int, what: str) -> None:
    """Raise if ``n`` fitting samples are fewer than :data:`MIN_SPLIT_SAMPLES`."""
    if n < MIN_SPLIT_SAMPLES:
        raise ValueError(
            f"Expected `logits` to hold at least {MIN_SPLIT_SAMPLES} samples to fit {what} on, "
            f"got {n}."
        )


def _warn_small_fit(n: int) -> None:
    """Warn (:class:`SmallSampleWarning`) if a temperature is fitted on few samples."""
    if n < SMALL_FIT_SAMPLES:
        warnings.warn(
            f"Fitting the temperature on only {n} samples (fewer than {SMALL_FIT_SAMPLES}): the "
            f"fitted value is noisy, its relative spread roughly 1/sqrt(n) = "
            f"{100 / math.sqrt(n):.0f} %. Fit it on more samples, e.g. a larger held-out part.",
            SmallSampleWarning,
            stacklevel=_external_stacklevel(),
        )


def _describe(x: object) -> str:
    """``x`` for an error message: numbers as written, anything else with its type."""
    if isinstance(x, Real) and not isinstance(x, bool):
        return str(x)
    return f"{x!r} ({type(x).__name__})"


def _check_eps(eps: float) -> float:
    if not 0.0 < eps < 1.0:
        raise ValueError(f"Expected `eps` to be in (0, 1), got {eps}.")
    return float(eps)


def _check_fitted(obj: object, attr: str) -> None:
    if getattr(obj, attr, None) is None:
        raise ValueError(
            f"Expected {type(obj).__name__} to be fitted, got an unfitted instance; "
            "call `fit(logits, labels)` first."
        )


def _check_n_classes(logits: NDArray[np.float64], n_classes: int) -> None:
    if logits.shape[1] != n_classes:
        raise ValueError(
            f"Expected `logits` to have {n_classes} classes as in `fit`, got {logits.shape[1]}."
        )


# --------------------------------------------------------------------------------------------
# Held-out split
# --------------------------------------------------------------------------------------------


def heldout_sizes(n: int, *, frac: float = 0.2, name: str = "frac") -> tuple[int, int]:
    """Sizes of the two parts of :func:`heldout_split`, checked before anything is split.

    The fit part has ``round(frac * n)`` samples, the evaluation part the rest; each must hold
    at least :data:`MIN_SPLIT_SAMPLES` (2). Callers that take the fraction under another name
    pass it as ``name``, so the error names the parameter their user wrote
    (``catalogue.full_record`` and ``evaluate.evaluate_network`` pass ``"heldout_frac"``).

    Parameters
    ----------
    n : int
        Number of samples, at least ``2 * MIN_SPLIT_SAMPLES`` (4).
    frac : float, default 0.2
        Fraction of samples used to fit the calibrator, in (0, 1).
    name : str, default "frac"
        Name of ``frac`` in error messages.

    Returns
    -------
    n_fit, n_eval : int

    Raises
    ------
    ValueError
        If ``n`` is not an integer >= 4, ``frac`` is not a number in (0, 1), or either part
        would hold fewer than 2 samples; the message names ``name`` and gives the sizes.

    Examples
    --------
    >>> heldout_sizes(10_000)
    (2000, 8000)
    >>> heldout_sizes(5, frac=0.4)  # round(0.2 * 5) = 1 would be refused: 2 is the least
    (2, 3)
    """
    least = 2 * MIN_SPLIT_SAMPLES
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < least:
        raise ValueError(f"Expected `n` to be an integer >= {least}, got {_describe(n)}.")
    if (
        isinstance(frac, bool)
        or not isinstance(frac, Real)
        or not math.isfinite(frac)
        or not 0.0 < frac < 1.0
    ):
        raise ValueError(f"Expected `{name}` to be in (0, 1), got {_describe(frac)}.")
    n_fit = int(round(frac * n))
    if n_fit < MIN_SPLIT_SAMPLES:
        raise ValueError(
            f"Expected `{name}` to hold out at least {MIN_SPLIT_SAMPLES} of the {n} samples to "
            f"fit on, got round({frac} * {n}) = {n_fit}."
        )
    if n - n_fit < MIN_SPLIT_SAMPLES:
        raise ValueError(
            f"Expected `{name}` to leave at least {MIN_SPLIT_SAMPLES} of the {n} samples to "
            f"evaluate on, got {n - n_fit} (round({frac} * {n}) = {n_fit} held out)."
        )
    return n_fit, int(n) - n_fit


def heldout_split(
    n: int, *, frac: float = 0.2, seed: int = 0
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Split ``range(n)`` at random into a calibration (fit) part and an evaluation part.

    The reference study fitted the temperature on a held-out 20 % of the test set and reported
    post-scaling metrics on the remaining 80 % (8,000 of CIFAR-10's 10,000 test images), hence
    the default ``frac=0.2``.

    Parameters
    ----------
    n : int
        Number of samples, at least 4.
    frac : float, default 0.2
        Fraction of samples used to fit the calibrator, in (0, 1). The fit part has
        ``round(frac * n)`` samples; each part must hold at least :data:`MIN_SPLIT_SAMPLES` (2)
        (:func:`heldout_sizes`).
    seed : int, default 0
        Seed of the ``numpy.random.default_rng`` permutation.

    Returns
    -------
    fit_idx : ndarray of shape (round(frac * n),), int64
        Sorted indices of the samples the calibrator is fitted on.
    eval_idx : ndarray of shape (n - round(frac * n),), int64
        Sorted indices of the remaining samples, on which post-hoc metrics are reported.

    Raises
    ------
    ValueError
        As :func:`heldout_sizes`, or if ``seed`` is not an integer.

    Examples
    --------
    >>> fit_idx, eval_idx = heldout_split(10, frac=0.2, seed=0)
    >>> len(fit_idx), len(eval_idx), sorted([*fit_idx, *eval_idx]) == list(range(10))
    (2, 8, True)
    """
    n_fit, _ = heldout_sizes(n, frac=frac)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"Expected `seed` to be an integer, got {_describe(seed)}.")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[:n_fit]).astype(np.int64), np.sort(perm[n_fit:]).astype(np.int64)


# --------------------------------------------------------------------------------------------
# Temperature scaling
# --------------------------------------------------------------------------------------------


def _nll_slope(beta: float, z: NDArray[np.float64], z_true: NDArray[np.float64]) -> float:
    r"""Derivative in :math:`\beta` of the mean NLL of ``softmax(beta * z)``:
    :math:`\frac{1}{n}\sum_i (\mathbb{E}_{p_i}[z_i] - z_{i,y_i})`."""
    p = np.exp(log_softmax(beta * z, axis=1))
    return float(np.mean(np.einsum("ik,ik->i", p, z) - z_true))


def fit_temperature(
    logits: ArrayLike, labels: ArrayLike, *, bounds: tuple[float, float] = (0.05, 20.0)
) -> float:
    r"""Fit the temperature of temperature scaling by minimising the mean NLL.

    .. math::

        T^\star = \operatorname*{arg\,min}_{T \in [T_{\min}, T_{\max}]}
        -\frac{1}{n} \sum_{i=1}^{n} \log \operatorname{softmax}(z_i / T)_{y_i},

    where :math:`z_i \in \mathbb{R}^K` are the logits of sample :math:`i` and :math:`y_i` its
    label (Guo et al., 2017). Written in the inverse temperature :math:`\beta = 1/T`, the
    objective :math:`f(\beta) = \frac{1}{n}\sum_i [\log\sum_k e^{\beta z_{ik}} -
    \beta z_{i y_i}]` is convex, with

    .. math::

        f'(\beta) = \frac{1}{n}\sum_i \big(\mathbb{E}_{k \sim p_i}[z_{ik}] - z_{i y_i}\big),
        \qquad
        f''(\beta) = \frac{1}{n}\sum_i \operatorname{Var}_{k \sim p_i}[z_{ik}] \ge 0,

    :math:`p_i = \operatorname{softmax}(\beta z_i)`. The minimiser is therefore the unique root
    of the increasing function :math:`f'` on :math:`[1/T_{\max}, 1/T_{\min}]`, found by Brent's
    method to machine precision; if :math:`f'` does not change sign the optimum is the bound it
    points to, and a warning is logged (see Notes). Everything is computed in float64 with
    log-sum-exp on logits shifted by their row maximum, so logits of order :math:`10^{4}` or
    :math:`10^{-6}` are handled exactly.

    Parameters
    ----------
    logits : array-like of shape (N, K)
        Finite pre-softmax scores of the held-out (calibration) samples.
    labels : array-like of shape (N,), int
        True classes in ``[0, K)``.
    bounds : (float, float), default (0.05, 20.0)
        Search interval :math:`[T_{\min}, T_{\max}]`, ``0 < T_min < T_max``.

    Returns
    -------
    float
        The temperature :math:`T^\star`. When every row of ``logits`` is constant the NLL does
        not depend on :math:`T`; then 1.0 (clipped to ``bounds``) is returned.

    Raises
    ------
    ValueError
        For invalid ``logits``/``labels``/``bounds``, or fewer than :data:`MIN_SPLIT_SAMPLES`
        (2) samples, before anything is fitted.

    Warns
    -----
    SmallSampleWarning
        If fitted on fewer than :data:`SMALL_FIT_SAMPLES` (100) samples; the message gives the
        number.

    Notes
    -----
    If the optimum lies on a bound of ``bounds`` (e.g. perfectly separated training data, whose
    NLL keeps falling as :math:`T \to 0`), the bound is returned and a WARNING is logged to
    ``logging.getLogger("calstudy.calibrate")``: printed to stderr when logging is not
    configured, written above the progress bars by the command line, silenced with
    ``logging.getLogger("calstudy").setLevel(logging.ERROR)``.

    References
    ----------
    C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On Calibration of Modern Neural Networks",
    ICML 2017, Section 4.2.

    Examples
    --------
    A hundred samples with the same logit gap 2, three quarters of them right: the optimum
    makes the confidence equal the accuracy, :math:`\sigma(2/T) = 3/4`, so
    :math:`T^\star = 2 / \ln 3`.

    >>> round(fit_temperature([[2.0, 0.0]] * 100, [0] * 75 + [1] * 25), 6)
    1.820478
    """
    z, y = check_logits_labels(logits, labels)
    t_min, t_max = _check_bounds(bounds)
    _check_fit_size(len(y), "a temperature")
    _warn_small_fit(len(y))
    z = z - z.max(axis=1, keepdims=True)  # softmax- and slope-invariant, avoids overflow
    z_true = z[np.arange(len(y)), y]
    beta_lo, beta_hi = 1.0 / t_max, 1.0 / t_min
    slope_lo, slope_hi = _nll_slope(beta_lo, z, z_true), _nll_slope(beta_hi, z, z_true)
    if slope_lo >= 0.0 and slope_hi <= 0.0:  # f' increasing, so f' == 0 on the whole interval
        return float(np.clip(1.0, t_min, t_max))
    if slope_lo >= 0.0:
        temperature = t_max
    elif slope_hi <= 0.0:
        temperature = t_min
    else:
        beta = scipy.optimize.brentq(
            _nll_slope, beta_lo, beta_hi, args=(z, z_true), xtol=1e-14, rtol=4 * np.finfo(float).eps
        )
        return float(1.0 / beta)
    logger.warning(
        "The NLL-optimal temperature of %d samples lies on the bound T = %s of `bounds` %s; the "
        "true optimum may lie outside it.",
        len(y),
        temperature,
        (t_min, t_max),
    )
    return temperature


def _check_bounds(bounds: object) -> tuple[float, float]:
    """Return ``bounds`` as ``(T_min, T_max)`` with ``0 < T_min < T_max`` finite."""
    try:
        t_min, t_max = (float(b) for b in bounds)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ValueError(
            f"Expected `bounds` to be a pair of numbers (T_min, T_max), got {_describe(bounds)}."
        ) from None
    if not (np.isfinite(t_min) and np.isfinite(t_max) and 0.0 < t_min < t_max):
        raise ValueError(f"Expected `bounds` to satisfy 0 < T_min < T_max, got {bounds}.")
    return t_min, t_max


class TemperatureScaling:
    r"""Temperature scaling (Guo et al., 2017): :math:`\hat p = \operatorname{softmax}(z / T)`.

    A single scalar :math:`T > 0` fitted by NLL on held-out data (:func:`fit_temperature`).
    It rescales confidence without changing any prediction (the argmax is invariant).

    Parameters
    ----------
    bounds : (float, float), default (0.05, 20.0)
        Search interval for :math:`T`, passed to :func:`fit_temperature`.

    Attributes
    ----------
    temperature : float or None
        The fitted :math:`T`; ``None`` before :meth:`fit`.
    n_fit_ : int
        Number of samples the temperature was fitted on.

    Warns
    -----
    SmallSampleWarning
        From :meth:`fit` on fewer than :data:`SMALL_FIT_SAMPLES` samples (see
        :func:`fit_temperature`, which also raises below :data:`MIN_SPLIT_SAMPLES`).

    Examples
    --------
    >>> ts = TemperatureScaling()
    >>> ts.temperature = 2.0
    >>> ts.transform([[4.0, 0.0]]).tolist()
    [[2.0, 0.0]]
    """

    def __init__(self, *, bounds: tuple[float, float] = (0.05, 20.0)) -> None:
        self.bounds = bounds
        self.temperature: float | None = None
        self.n_fit_: int = 0

    def fit(self, logits: ArrayLike, labels: ArrayLike) -> TemperatureScaling:
        """Fit :math:`T` on ``logits`` (N, K) and ``labels`` (N,); return ``self``."""
        z, y = check_logits_labels(logits, labels)
        self.temperature = fit_temperature(z, y, bounds=self.bounds)
        self.n_fit_ = len(y)
        return self

    def transform(self, logits: ArrayLike) -> NDArray[np.float64]:
        """Return the scaled logits ``logits / T``, float64 of shape (N, K)."""
        _check_fitted(self, "temperature")
        return check_logits(logits) / self.temperature

    def predict_proba(self, logits: ArrayLike) -> NDArray[np.float64]:
        """Return ``softmax(logits / T)``, float64 (N, K), floored at the smallest normal float
        (only to prevent underflow to 0; rows still sum to 1 to machine precision)."""
        return _softmax(self.transform(logits))


# --------------------------------------------------------------------------------------------
# Vector scaling
# --------------------------------------------------------------------------------------------


def _vector_scaling_nll(
    params: NDArray[np.float64], z: NDArray[np.float64], onehot: NDArray[np.float64]
) -> tuple[float, NDArray[np.float64]]:
    """Mean NLL of ``softmax(w * z + b)`` and its gradient in ``params = [w, b]``."""
    n, k = z.shape
    w, b = params[:k], params[k:]
    log_p = log_softmax(z * w + b, axis=1)
    loss = -float(np.sum(log_p * onehot)) / n
    residual = (np.exp(log_p) - onehot) / n  # dL/dz' for z' = w * z + b
    return loss, np.concatenate([np.einsum("ik,ik->k", residual, z), residual.sum(axis=0)])


def _fit_vector_scaling(
    logits: NDArray[np.float64], labels: NDArray[np.int64], *, max_iter: int = 500
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Return ``(w, b)`` minimising :math:`-\frac1n\sum_i \log\operatorname{softmax}
    (w \odot z_i + b)_{y_i}` by L-BFGS from :math:`w = 1, b = 0`."""
    n, k = logits.shape
    onehot = np.zeros((n, k))
    onehot[np.arange(n), labels] = 1.0
    x0 = np.concatenate([np.ones(k), np.zeros(k)])
    result = scipy.optimize.minimize(
        _vector_scaling_nll,
        x0,
        args=(logits, onehot),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": 1e-8},
    )
    return result.x[:k].copy(), result.x[k:].copy()


class VectorScaling:
    r"""Vector scaling (Guo et al., 2017): :math:`\hat p = \operatorname{softmax}(w \odot z + b)`.

    One scale :math:`w_k` and one bias :math:`b_k` per class, :math:`2K` parameters fitted by
    minimising the mean NLL with L-BFGS and the analytic gradient

    .. math::

        \frac{\partial L}{\partial w_k} = \frac1n \sum_i (\hat p_{ik} - [y_i = k])\, z_{ik},
        \qquad
        \frac{\partial L}{\partial b_k} = \frac1n \sum_i (\hat p_{ik} - [y_i = k]),

    in float64 (the softmax goes through log-sum-exp, so large logits do not overflow). Unlike
    temperature scaling it can change predictions.

    Parameters
    ----------
    max_iter : int, default 500
        Maximum number of L-BFGS iterations.

    Attributes
    ----------
    weight_, bias_ : ndarray of shape (K,)
        The fitted :math:`w` and :math:`b`; ``None`` before :meth:`fit`.
    n_fit_ : int
        Number of samples fitted on.
    """

    def __init__(self, *, max_iter: int = 500) -> None:
        self.max_iter = max_iter
        self.weight_: NDArray[np.float64] | None = None
        self.bias_: NDArray[np.float64] | None = None
        self.n_fit_: int = 0

    def fit(self, logits: ArrayLike, labels: ArrayLike) -> VectorScaling:
        """Fit :math:`w, b` on ``logits`` (N, K) and ``labels`` (N,); return ``self``."""
        z, y = check_logits_labels(logits, labels)
        _check_fit_size(len(y), "vector scaling")
        self.weight_, self.bias_ = _fit_vector_scaling(z, y, max_iter=self.max_iter)
        self.n_fit_ = len(y)
        return self

    def predict_proba(self, logits: ArrayLike) -> NDArray[np.float64]:
        """Return ``softmax(w * z + b)``, float64 (N, K), floored at the smallest normal float."""
        _check_fitted(self, "weight_")
        z = check_logits(logits)
        _check_n_classes(z, len(self.weight_))
        return _softmax(z * self.weight_ + self.bias_)


# --------------------------------------------------------------------------------------------
# Histogram binning
# --------------------------------------------------------------------------------------------


def _assign_bins(probs: NDArray[np.float64], edges: NDArray[np.float64]) -> NDArray[np.int64]:
    """Bin index of ``probs[i, k]`` among the interior ``edges[k]`` (K, B - 1): the number of
    edges strictly below the value, so bin ``j`` is ``(e_j, e_{j+1}]``."""
    return np.sum(probs[:, :, None] > edges[None, :, :], axis=2)


def _fit_histogram_binning(
    probs: NDArray[np.float64], labels: NDArray[np.int64], *, n_bins: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """One-vs-rest equal-mass histogram binning.

    Returns the interior edges (K, n_bins - 1) and bin values (K, n_bins): the fraction of
    positives :math:`[y = k]` among the fitting samples in each bin of class ``k``. A bin with
    no fitting sample (possible only between tied quantiles) gets its mid-point.
    """
    n, k = probs.shape
    quantiles = np.linspace(0.0, 1.0, n_bins + 1)
    edges = np.quantile(probs, quantiles, axis=0).T  # (K, n_bins + 1)
    interior = edges[:, 1:-1]
    bins = _assign_bins(probs, interior)  # (N, K)
    flat = np.arange(k)[None, :] * n_bins + bins
    counts = np.bincount(flat.ravel(), minlength=k * n_bins).reshape(k, n_bins)
    positives = np.zeros((n, k))
    positives[np.arange(n), labels] = 1.0
    hits = np.bincount(flat.ravel(), weights=positives.ravel(), minlength=k * n_bins)
    hits = hits.reshape(k, n_bins)
    midpoints = 0.5 * (edges[:, :-1] + edges[:, 1:])
    values = np.where(counts > 0, hits / np.maximum(counts, 1), midpoints)
    return interior, values


class HistogramBinning:
    r"""Histogram binning (Zadrozny & Elkan, 2001), one-vs-rest with equal-mass bins.

    For each class :math:`k` the softmax probabilities :math:`p_{ik}` of the fitting samples are
    cut at their quantiles into ``n_bins`` bins :math:`B_{k1}, \dots, B_{kM}` holding (about)
    the same number of samples, and every bin is mapped to the fraction of its samples whose
    label is :math:`k`:

    .. math::

        h_k(p) = \frac{\sum_i [y_i = k]\,[p_{ik} \in B_{km}]}{\sum_i [p_{ik} \in B_{km}]}
        \quad\text{for } p \in B_{km},
        \qquad
        \hat p_{ik} = \frac{\max(h_k(p_{ik}), \epsilon)}{\sum_j \max(h_j(p_{ij}), \epsilon)}.

    The per-class maps are renormalised so every row is a probability vector; the floor
    :math:`\epsilon` keeps the NLL finite when a bin held no positive. This multiclass extension
    is the one of Guo et al. (2017); it can change predictions.

    Parameters
    ----------
    n_bins : int, default 15
        Number of equal-mass bins per class, in ``[1, MAX_N_BINS]``
        (:data:`calstudy.metrics.MAX_N_BINS`).
    eps : float, default 1e-6
        Probability floor before renormalising, in (0, 1).

    Attributes
    ----------
    edges_ : ndarray of shape (K, n_bins - 1)
        Interior bin edges per class; bin ``m`` is ``(edges_[k, m-1], edges_[k, m]]``.
    values_ : ndarray of shape (K, n_bins)
        Calibrated value of each bin.
    n_fit_ : int
        Number of samples fitted on.

    References
    ----------
    B. Zadrozny, C. Elkan, "Obtaining calibrated probability estimates from decision trees and
    naive Bayesian classifiers", ICML 2001.
    """

    def __init__(self, *, n_bins: int = 15, eps: float = DEFAULT_EPS) -> None:
        self.n_bins = n_bins
        self.eps = eps
        self.edges_: NDArray[np.float64] | None = None
        self.values_: NDArray[np.float64] | None = None
        self.n_fit_: int = 0

    def fit(self, logits: ArrayLike, labels: ArrayLike) -> HistogramBinning:
        """Fit the per-class bins on ``logits`` (N, K) and ``labels`` (N,); return ``self``."""
        if (
            isinstance(self.n_bins, bool)
            or not isinstance(self.n_bins, (int, np.integer))
            or not 1 <= self.n_bins <= MAX_N_BINS
        ):
            raise ValueError(
                f"Expected `n_bins` to be an integer in [1, {MAX_N_BINS}] (MAX_N_BINS), got "
                f"{_describe(self.n_bins)}."
            )
        _check_eps(self.eps)
        z, y = check_logits_labels(logits, labels)
        _check_fit_size(len(y), "histogram binning")
        self.edges_, self.values_ = _fit_histogram_binning(_softmax(z), y, n_bins=self.n_bins)
        self.n_fit_ = len(y)
        return self

    def predict_proba(self, logits: ArrayLike) -> NDArray[np.float64]:
        """Return the renormalised binned probabilities, float64 (N, K), every entry > 0."""
        _check_fitted(self, "values_")
        z = check_logits(logits)
        _check_n_classes(z, self.values_.shape[0])
        bins = _assign_bins(_softmax(z), self.edges_)
        scores = np.take_along_axis(self.values_.T, bins, axis=0)  # values_[k, bins[i, k]]
        return _floor_renormalise(scores, self.eps)


# --------------------------------------------------------------------------------------------
# Isotonic regression
# --------------------------------------------------------------------------------------------


class IsotonicCalibration:
    r"""Isotonic regression (Zadrozny & Elkan, 2002), one-vs-rest, renormalised.

    For each class :math:`k` a non-decreasing step function :math:`g_k` is fitted by least
    squares to the pairs :math:`(p_{ik}, [y_i = k])` of the fitting samples (pool adjacent
    violators, ``sklearn.isotonic.IsotonicRegression`` with values clipped to [0, 1] and
    inputs outside the fitted range clipped to it); then

    .. math::

        \hat p_{ik} = \frac{\max(g_k(p_{ik}), \epsilon)}{\sum_j \max(g_j(p_{ij}), \epsilon)}.

    The floor :math:`\epsilon` keeps the NLL finite. It can change predictions.

    Parameters
    ----------
    eps : float, default 1e-6
        Probability floor before renormalising, in (0, 1).

    Attributes
    ----------
    regressors_ : list of IsotonicRegression
        One fitted regressor per class; ``None`` before :meth:`fit`.
    n_fit_ : int
        Number of samples fitted on.

    References
    ----------
    B. Zadrozny, C. Elkan, "Transforming classifier scores into accurate multiclass probability
    estimates", KDD 2002.
    """

    def __init__(self, *, eps: float = DEFAULT_EPS) -> None:
        self.eps = eps
        self.regressors_: list[_Regressor] | None = None
        self.n_fit_: int = 0

    def fit(self, logits: ArrayLike, labels: ArrayLike) -> IsotonicCalibration:
        """Fit one isotonic map per class on ``logits`` (N, K), ``labels`` (N,); return self."""
        from sklearn.isotonic import IsotonicRegression

        _check_eps(self.eps)
        z, y = check_logits_labels(logits, labels)
        _check_fit_size(len(y), "isotonic regression")
        probs = _softmax(z)
        self.regressors_ = [
            IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
                probs[:, k], (y == k).astype(np.float64)
            )
            for k in range(z.shape[1])
        ]
        self.n_fit_ = len(y)
        return self

    def predict_proba(self, logits: ArrayLike) -> NDArray[np.float64]:
        """Return the renormalised isotonic probabilities, float64 (N, K), every entry > 0."""
        _check_fitted(self, "regressors_")
        z = check_logits(logits)
        _check_n_classes(z, len(self.regressors_))
        probs = _softmax(z)
        scores = np.column_stack(
            [reg.predict(probs[:, k]) for k, reg in enumerate(self.regressors_)]
        )
        return _floor_renormalise(scores.astype(np.float64), self.eps)


class _Regressor(Protocol):
    def predict(self, x: NDArray[np.float64]) -> NDArray[np.float64]: ...


class PosthocCalibrator(Protocol):
    """What every entry of :data:`POSTHOC_METHODS` provides."""

    n_fit_: int

    def fit(self, logits: ArrayLike, labels: ArrayLike) -> PosthocCalibrator: ...

    def predict_proba(self, logits: ArrayLike) -> NDArray[np.float64]: ...


#: Post-hoc methods by short name; each value is a class whose default construction is the
#: configuration used in the study.
POSTHOC_METHODS: dict[str, type[PosthocCalibrator]] = {
    "ts": TemperatureScaling,
    "vs": VectorScaling,
    "hist": HistogramBinning,
    "iso": IsotonicCalibration,
}
