"""The calibration audit of one set of predictions: an entry point for your own model.

A practitioner comes with the logits (or probabilities) of a model on a labelled test set.
:func:`load_predictions` reads them from ``.npz``, ``.pt`` or ``.npy`` files, without running
code from the file; :func:`audit` measures them as the study measures every network:

* the full catalogue record (:func:`calstudy.catalogue.full_record`): the reference study's 90
  bin-based and 10 other columns and ours, before temperature scaling on every prediction and
  after it on the part of the test set the temperature was not fitted on;
* percentile-bootstrap intervals for the headline metrics (accuracy, ECE, equal-mass ECE, KSCE,
  smECE, NLL, Brier), before and after scaling;
* reliability diagrams before and after (:func:`calstudy.plots.reliability_data`).

The command line runs the same audit::

    calstudy metrics predictions.npz --out record.csv --diagram reliability.png
    calstudy evaluate net.pt --arch '|nor_conv_3x3~0|+|...' --dataset cifar10

``calstudy metrics`` needs no torch for ``.npz``/``.npy`` files; ``calstudy evaluate`` builds a
NATS-Bench network, loads its checkpoint (``torch.load(weights_only=True)``) and audits its logits
on the dataset's test split.

References
----------
.. [1] C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On Calibration of Modern Neural Networks",
   ICML 2017.
.. [2] L. Tao, Y. Zhu, H. Guo, M. Dong, C. Xu, "A Benchmark Study on Calibration", ICLR 2024.
.. [3] B. Efron, R. J. Tibshirani, "An Introduction to the Bootstrap", Chapman & Hall, 1993.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from calstudy import metrics
from calstudy._checks import as_array, check_n_bins, check_nonnegative_int
from calstudy.calibrate import heldout_sizes, heldout_split
from calstudy.catalogue import full_record

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from calstudy.plots import ReliabilityData

__all__ = [
    "HEADLINE",
    "N_BOOT_SMOOTH",
    "CalibrationAudit",
    "add_evaluate_cli",
    "add_metrics_cli",
    "audit",
    "load_predictions",
]

logger = logging.getLogger(__name__)

HEADLINE: tuple[str, ...] = ("accuracy", "ECE", "ECE_em", "KSCE", "smECE", "NLL", "Brier")
"""The metrics an audit gives intervals for; ``ECE`` and ``ECE_em`` carry the bin count
(``ECE_15``, ``ECE_em_15``) in the audit's table and record."""

N_BOOT_SMOOTH = 100
"""Default number of bootstrap resamples for smECE, fewer than for the other metrics.

smECE finds its bandwidth :math:`\\sigma^\\star` as a fixed point, each evaluation a
65,537-point cosine transform (:func:`calstudy.metrics.smooth_ece`). Even started from the full
sample's bandwidth, which takes 2 to 4 evaluations where ``smooth_ece`` bisects about 30 times, a
smECE resample costs some thirty times as much as a resample of the other six metrics together.
Its resamples are the first of the others' and run on all cores.
"""

_TINY = np.finfo(np.float64).tiny
_PRED_SUFFIXES = (".npz", ".pt", ".pth", ".npy")
_LABEL_SUFFIXES = (".npy", ".npz", ".pt", ".pth", ".txt", ".csv")


# ---------------------------------------------------------------------------------------------
# Loading predictions
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Names:
    """How errors name the inputs: Python parameters, or the command line's arguments."""

    path: str
    labels: str


_PYTHON = _Names(path="`path`", labels="`labels`")
_CLI = _Names(path="PRED", labels="`--labels`")


@dataclass(frozen=True)
class _Loaded:
    logits: NDArray[np.float64]
    labels: NDArray[np.int64]
    kind: str  # "logits" or "probs": what the file held


def load_predictions(
    path: str | os.PathLike[str], *, labels: str | os.PathLike[str] | ArrayLike | None = None
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    r"""Read a model's predictions and the true labels, checked, as ``(logits, labels)``.

    Accepted files (nothing in them is executed: ``np.load(allow_pickle=False)``,
    ``torch.load(weights_only=True)``):

    * ``.npz`` with an array ``logits`` (N, K) or ``probs`` (N, K), and ``labels`` (N,);
    * ``.pt``/``.pth`` holding such a dict of tensors, or a tensor of logits (labels separate);
    * ``.npy`` holding an array of logits (labels separate).

    A bare array (``.npy``, a tensor in ``.pt``) is always read as logits, whatever its values;
    store probabilities under the key ``probs``. When a file holds both, the logits are used.

    Probabilities are returned as log-probabilities :math:`z_{ik} = \log p_{ik}` (zeros floored
    at the smallest normal float, :math:`\log \approx -708.4`). This is the same model:
    :math:`\operatorname{softmax}(\log p_i) = p_i / \sum_k p_{ik} = p_i`, so every metric is
    unchanged, and temperature scaling of :math:`z` rescales the log-probabilities,
    :math:`\operatorname{softmax}(z_i / T) \propto p_i^{1/T}`.

    Parameters
    ----------
    path : path-like
        The predictions file.
    labels : path-like or array-like, optional
        True classes (N,), when the file holds none, or to use instead of its ``labels``: an
        array or tensor, or a file: ``.npy``, ``.npz`` (key ``labels``, or its only array),
        ``.pt`` (a tensor, or a dict with ``labels``), ``.txt``/``.csv`` (one integer per line;
        a header line is skipped).

    Returns
    -------
    logits : ndarray of shape (N, K), float64
        Finite; :math:`\log p` when the file holds probabilities.
    labels : ndarray of shape (N,), int64
        In ``[0, K)``.

    Raises
    ------
    FileNotFoundError
        If ``path`` or a ``labels`` file does not exist.
    ValueError
        For an unsupported suffix, a file holding pickled objects, no ``logits``/``probs`` or
        no labels, shapes that do not match, NaN or infinite values, probabilities outside
        [0, 1] or rows not summing to 1 (within :math:`K \cdot 10^{-6}` for float64), labels
        that are not integers in ``[0, K)``; the message names the file and the array.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "preds.npz"
    >>> np.savez(path, probs=[[0.75, 0.25], [0.5, 0.5]], labels=[0, 1])
    >>> logits, labels = load_predictions(path)
    >>> np.exp(logits).tolist(), labels.tolist()
    ([[0.75, 0.25], [0.5, 0.5]], [0, 1])
    """
    loaded = _read_predictions(path, labels, _PYTHON)
    return loaded.logits, loaded.labels


def _read_predictions(path: str | os.PathLike[str], labels: Any, names: _Names) -> _Loaded:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Expected {names.path} to be an existing file, got '{path}'.")
    suffix = path.suffix.lower()
    if suffix not in _PRED_SUFFIXES:
        raise ValueError(
            f"Expected {names.path} to end in {', '.join(_PRED_SUFFIXES)}, got '{path}'."
        )
    if suffix == ".npz":
        content: dict[str, Any] | Any = _read_npz(path)
    elif suffix == ".npy":
        content = _read_npy(path)
    else:
        content = _read_pt(path)
    if isinstance(content, dict):
        keys = sorted(content)
        if "logits" in content:
            kind, scores = "logits", content["logits"]
        elif "probs" in content:
            kind, scores = "probs", content["probs"]
        else:
            raise ValueError(
                f"Expected '{path}' to hold an array `logits` or `probs`, got keys {keys}."
            )
        file_labels = content.get("labels")
    else:
        kind, scores, file_labels = "logits", content, None
    scores = _check_scores(scores, kind, path)
    if labels is not None:
        y = _read_labels(labels, names) if isinstance(labels, str | os.PathLike) else labels
        where = names.labels
    elif file_labels is not None:
        y, where = file_labels, f"`labels` in '{path}'"
    else:
        raise ValueError(
            f"Expected labels for the {scores.shape[0]} predictions in '{path}', got none: it "
            f"holds no `labels` array; pass {names.labels}."
        )
    y = _check_labels(y, scores.shape, where)
    if kind == "probs":
        scores = np.log(np.maximum(scores, _TINY))
    elif not isinstance(content, dict):
        _hint_if_probabilities(scores, path)
    return _Loaded(scores, y, kind)


def _read_npz(path: Path) -> dict[str, Any]:
    import zipfile

    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"Expected '{path}' to be a readable .npz file (a zip of .npy arrays), got another "
            "kind of file."
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except ValueError as err:  # an object array: pickled, refused
        raise ValueError(
            f"Expected '{path}' to hold plain numeric arrays, got pickled objects, which calstudy "
            f"does not load ({err})."
        ) from None
    except (OSError, zipfile.BadZipFile, EOFError) as err:
        raise ValueError(f"Expected '{path}' to be a readable .npz file, got: {err}.") from None


def _read_npy(path: Path) -> Any:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise ValueError(
                f"Expected '{path}' to hold a plain numeric array, got pickled objects, which "
                "calstudy does not load."
            ) from None
        raise ValueError(f"Expected '{path}' to be a readable .npy file, got: {err}.") from None
    except (OSError, EOFError) as err:
        raise ValueError(f"Expected '{path}' to be a readable .npy file, got: {err}.") from None


def _read_pt(path: Path) -> Any:
    try:
        import torch
    except ImportError:
        raise ValueError(
            f"Expected torch to read '{path}', but it is not installed; install calstudy[torch], "
            "or save the predictions with numpy.savez(path, logits=..., labels=...)."
        ) from None
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle.UnpicklingError, RuntimeError: not a plain tensor file
        raise ValueError(
            f"Expected '{path}' to hold tensors or a dict of tensors readable with "
            f"torch.load(weights_only=True), got: {str(err).splitlines()[0]}"
        ) from None
    if isinstance(content, Mapping):
        return {str(key): value for key, value in content.items()}
    if type(content).__module__.split(".")[0] == "torch":
        return content
    raise ValueError(
        f"Expected '{path}' to hold a tensor of logits or a dict with `logits`/`probs` and "
        f"`labels`, got a {type(content).__name__}."
    )


def _read_labels(path: str | os.PathLike[str], names: _Names) -> Any:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"Expected {names.labels} to be an existing file of labels, got '{path}'."
        )
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return _read_npy(path)
    if suffix == ".npz":
        arrays = _read_npz(path)
        if "labels" in arrays:
            return arrays["labels"]
        if len(arrays) == 1:
            return next(iter(arrays.values()))
        raise ValueError(
            f"Expected {names.labels} '{path}' to hold an array `labels` (or a single array), got "
            f"keys {sorted(arrays)}."
        )
    if suffix in (".pt", ".pth"):
        content = _read_pt(path)
        if isinstance(content, dict):
            if "labels" not in content:
                raise ValueError(
                    f"Expected {names.labels} '{path}' to hold `labels`, got keys "
                    f"{sorted(content)}."
                )
            return content["labels"]
        return content
    if suffix in (".txt", ".csv"):
        return _read_text_labels(path, names)
    raise ValueError(
        f"Expected {names.labels} to end in {', '.join(_LABEL_SUFFIXES)}, got '{path}'."
    )


def _read_text_labels(path: Path, names: _Names) -> NDArray[Any]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [line.split(",")[0].strip() for line in lines if line]
    if lines and not _is_number(lines[0]):
        lines = lines[1:]  # a header
    bad = next((i for i, line in enumerate(lines) if not _is_number(line)), None)
    if bad is not None:
        raise ValueError(
            f"Expected {names.labels} '{path}' to hold one integer per line, got {lines[bad]!r} "
            f"on data line {bad + 1}."
        )
    return np.array([float(line) for line in lines])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_scores(scores: Any, kind: str, path: Path) -> NDArray[np.float64]:
    what = f"`{kind}` in '{path}'"
    x = as_array(scores)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 2:
        raise ValueError(
            f"Expected {what} to be 2-D (N, K) with N >= 1 and K >= 2 classes, got shape {x.shape}."
        )
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ValueError(f"Expected {what} to hold real numbers, got dtype {x.dtype}.")
    eps = float(np.finfo(x.dtype).eps) if np.issubdtype(x.dtype, np.floating) else 0.0
    x64 = x.astype(np.float64, copy=False)
    finite = np.isfinite(x64).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite))
        bad = "NaN" if np.isnan(x64[row]).any() else "inf"
        raise ValueError(
            f"Expected {what} to be finite, got {bad} in row {row} "
            f"({int((~finite).sum())} row(s) in all)."
        )
    if kind == "probs":
        lo, hi = float(x64.min()), float(x64.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(f"Expected {what} to lie in [0, 1], got values in [{lo:g}, {hi:g}].")
        tol = x64.shape[1] * max(1e-6, 4.0 * eps)
        sums = x64.sum(axis=1)
        row = int(np.argmax(np.abs(sums - 1.0)))
        if abs(sums[row] - 1.0) > tol:
            raise ValueError(
                f"Expected {what} to be probabilities, rows summing to 1 (tolerance {tol:g}), got "
                f"row {row} summing to {sums[row]:.9g}. Logits belong under the key `logits`."
            )
    return x64


def _check_labels(labels: Any, shape: tuple[int, ...], where: str) -> NDArray[np.int64]:
    n, k = shape
    y = as_array(labels)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(
            f"Expected {where} to have shape ({n},), one label per prediction, got {y.shape}."
        )
    if np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError(f"Expected {where} to be integers, got non-integer values.")
    elif not (np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_):
        raise ValueError(f"Expected {where} to be integers, got dtype {y.dtype}.")
    y = y.astype(np.int64)
    if y.min() < 0 or y.max() >= k:
        raise ValueError(
            f"Expected {where} to be class indices in [0, {k - 1}], got values in "
            f"[{y.min()}, {y.max()}]."
        )
    return y


def _hint_if_probabilities(logits: NDArray[np.float64], path: Path) -> None:
    """Log a hint when a bare array read as logits looks like probabilities (not acted on)."""
    if logits.min() >= 0.0 and logits.max() <= 1.0:
        if np.allclose(logits.sum(axis=1), 1.0, atol=1e-4 * logits.shape[1]):
            logger.warning(
                "'%s' holds a bare array, read as logits, whose rows lie in [0, 1] and sum to 1. "
                "If these are probabilities, save them as numpy.savez(path, probs=..., "
                "labels=...).",
                path,
            )


# ---------------------------------------------------------------------------------------------
# Bootstrap of the headline metrics
# ---------------------------------------------------------------------------------------------


def _resample_blocks(n: int, n_boot: int, seed: int):
    """Resample indices, block by block, drawn exactly as :func:`calstudy.metrics.bootstrap_ci`
    draws them (one ``default_rng(seed)`` stream, blocks of ~10⁶ indices): the same resamples."""
    rng = np.random.default_rng(seed)
    block = max(1, 1_000_000 // n)
    for start in range(0, n_boot, block):
        yield rng.integers(0, n, size=(min(block, n_boot - start), n))


class _Weighted:
    r"""The headline metrics of many resamples at once, each resample as multiplicities.

    A resample is a multiset of the :math:`N` predictions, and every headline metric is a
    function of the multiset: with :math:`w_i` the number of copies of prediction :math:`i`
    (:math:`\sum_i w_i = N`), accuracy, NLL and Brier are :math:`\frac1N \sum_i w_i \ell_i`;
    equal-width ECE is :math:`\frac1N \sum_b |\sum_{i \in B_b} w_i (c_i - a_i)|` with each
    prediction's bin fixed by its confidence; equal-mass ECE and KSCE read the resample's
    cumulative residual, sorted as :mod:`calstudy.metrics` sorts (by confidence, then
    correctness), at ranks and at the ends of runs of equal confidence. The values equal those
    of the metric functions on the resampled rows, to rounding.
    """

    def __init__(self, probs: NDArray[np.float64], labels: NDArray[np.int64], n_bins: int):
        import scipy.sparse

        n = labels.shape[0]
        conf, correct = metrics.to_confidences(probs, labels, validate=False)
        onehot = np.zeros_like(probs)
        onehot[np.arange(n), labels] = 1.0
        p_true = np.maximum(probs[np.arange(n), labels], _TINY)
        # Per-prediction terms of the three means: accuracy, NLL, Brier.
        self.terms = np.stack([correct, -np.log(p_true), ((probs - onehot) ** 2).sum(axis=1)])
        resid = conf - correct
        width_bin = np.searchsorted(np.arange(1, n_bins) / n_bins, conf, side="left")
        self.width = scipy.sparse.csr_matrix((resid, (width_bin, np.arange(n))), (n_bins, n))
        self.order = np.lexsort((correct, conf))
        conf_sorted = conf[self.order]
        self.resid_sorted = resid[self.order]
        self.run_end = np.flatnonzero(np.append(conf_sorted[1:] != conf_sorted[:-1], True))
        q, r = divmod(n, n_bins)
        b = np.arange(1, n_bins + 1)
        self.mass_ranks = (b * q + np.minimum(b, r)).astype(np.float64)
        self.n = n

    def evaluate(self, counts: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
        """The six headline metrics (all but smECE) of a (B, N) array of multiplicities."""
        n = self.n
        acc, nll, brier = (counts @ self.terms.T / n).T
        ece = np.abs(self.width @ counts.T).sum(axis=0) / n
        w_sorted = counts[:, self.order]
        cum_count = np.cumsum(w_sorted, axis=1)
        cum_resid = np.cumsum(w_sorted * self.resid_sorted, axis=1)
        ksce = np.abs(cum_resid[:, self.run_end]).max(axis=1) / n
        ece_em = np.empty(len(counts))
        for row, (cc, cr) in enumerate(zip(cum_count, cum_resid, strict=True)):
            # Residual sum of the first r resampled predictions: the whole of the predictions
            # before the one holding rank r, and r - (copies before it) copies of that one.
            k = np.searchsorted(cc, self.mass_ranks, side="left")
            at_rank = cr[k] - (cc[k] - self.mass_ranks) * self.resid_sorted[k]
            ece_em[row] = np.abs(np.diff(at_rank, prepend=0.0)).sum() / n
        return {"accuracy": acc, "ECE": ece, "ECE_em": ece_em, "KSCE": ksce, "NLL": nll,
                "Brier": brier}  # fmt: skip


_SIGMA_RANGE = (1e-3, 1.0)  # where smooth_ece looks for its bandwidth (its docstring)


def _smooth_ece_from(probs: NDArray[np.float64], labels: NDArray[np.int64], start: float) -> float:
    r""":func:`calstudy.metrics.smooth_ece` of ``(probs, labels)``, its fixed point
    :math:`\sigma^\star = \mathrm{smECE}_{\sigma^\star}` sought from the nearby ``start``.

    The secant method on :math:`h(\sigma) = \mathrm{smECE}_\sigma - \sigma`, from
    :math:`\sigma_0 =` ``start`` and :math:`\sigma_1 = \mathrm{smECE}_{\sigma_0}`, each step one
    call of ``smooth_ece(sigma=...)``, stops when a step moves less than :math:`10^{-9}`, the
    tolerance of ``smooth_ece``'s bisection: on a bootstrap resample, started from the full
    sample's bandwidth, it takes 2 to 4 calls where the bisection takes about 30 steps. Whenever
    the secant leaves :math:`[10^{-3}, 1]` (where ``smooth_ece`` clips) or does not settle, the
    answer is ``smooth_ece`` itself.
    """
    lo, hi = _SIGMA_RANGE

    def error(sigma: float) -> float:
        return metrics.smooth_ece(probs, labels, sigma=sigma, validate=False)

    s0 = min(max(start, lo), hi)
    e0 = error(s0)
    s1 = min(max(e0, lo), hi)
    if s1 == s0:
        return e0
    e1 = error(s1)
    for _ in range(8):
        h0, h1 = e0 - s0, e1 - s1
        if h1 == h0:
            break
        s2 = s1 - h1 * (s1 - s0) / (h1 - h0)
        if not lo <= s2 <= hi:
            break
        s0, e0, s1 = s1, e1, s2
        e1 = error(s1)
        if abs(s1 - s0) <= 1e-9:
            return e1
    return metrics.smooth_ece(probs, labels, validate=False)


def _replicates(
    probs: NDArray[np.float64],
    labels: NDArray[np.int64],
    *,
    n_boot: int,
    n_boot_smooth: int,
    n_bins: int,
    seed: int,
    smooth_start: float,
) -> dict[str, NDArray[np.float64]]:
    """Bootstrap replicates of every headline metric: ``n_boot`` resamples, smECE the first
    ``n_boot_smooth`` of them (on all cores, from the bandwidth ``smooth_start``)."""
    n = labels.shape[0]
    weighted = _Weighted(probs, labels, n_bins)
    out: dict[str, list[NDArray[np.float64]]] = {}
    smooth_rows: list[NDArray[np.int64]] = []
    done = 0
    for idx in _resample_blocks(n, n_boot, seed):
        b = idx.shape[0]
        flat = (idx + (np.arange(b) * n)[:, None]).ravel()
        counts = np.bincount(flat, minlength=b * n).reshape(b, n).astype(np.float64)
        for name, values in weighted.evaluate(counts).items():
            out.setdefault(name, []).append(values)
        smooth_rows.extend(idx[: max(0, n_boot_smooth - done)])
        done += b
    workers = min(len(smooth_rows), os.cpu_count() or 1) or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:  # scipy's FFT releases the GIL
        smece = list(
            pool.map(lambda rows: _smooth_ece_from(probs[rows], labels[rows], smooth_start),
                     smooth_rows)
        )  # fmt: skip
    replicates = {name: np.concatenate(values) for name, values in out.items()}
    replicates["smECE"] = np.asarray(smece, dtype=np.float64)
    return replicates


#: Each headline metric as ``f(probs, labels, n_bins)``.
_METRICS: dict[str, Callable[[NDArray[np.float64], NDArray[np.int64], int], float]] = {
    "accuracy": lambda p, y, n_bins: metrics.accuracy(p, y),
    "ECE": lambda p, y, n_bins: metrics.ece(p, y, n_bins=n_bins),
    "ECE_em": lambda p, y, n_bins: metrics.ece_em(p, y, n_bins=n_bins),
    "KSCE": lambda p, y, n_bins: metrics.ksce(p, y),
    "smECE": lambda p, y, n_bins: metrics.smooth_ece(p, y),
    "NLL": lambda p, y, n_bins: metrics.nll(p, y),
    "Brier": lambda p, y, n_bins: metrics.brier(p, y),
}


# ---------------------------------------------------------------------------------------------
# The audit
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class CalibrationAudit:
    """The calibration of one set of predictions, before and after temperature scaling.

    Attributes
    ----------
    record : dict of str to float
        :func:`calstudy.catalogue.full_record` of the predictions: ``acc``, the temperature,
        the split sizes, then ``pre_``/``post_`` for every catalogue metric.
    intervals : pandas.DataFrame
        One row per headline metric (``accuracy``, ``ECE_{n_bins}``, ``ECE_em_{n_bins}``,
        ``KSCE``, ``smECE``, ``NLL``, ``Brier``); columns ``before``, ``before_low``,
        ``before_high``, ``after``, ``after_low``, ``after_high`` and ``n_boot`` (resamples
        behind the interval; NaN bounds when 0). See :meth:`to_frame`.
    temperature : float
        The fitted :math:`T^\\star`.
    n_samples, n_classes, n_heldout, n_eval : int
        Predictions, classes, and the sizes of the fitting and evaluation parts.
    n_bins, n_boot, n_boot_smooth : int
        Settings of :func:`audit` (``n_boot_smooth`` as used: at most ``n_boot``).
    level, heldout_frac : float
    seed : int
    reliability_before, reliability_after : calstudy.plots.ReliabilityData
        Reliability diagrams (``n_bins`` equal-width bins) of all predictions before scaling and
        of the evaluation part after it.
    """

    record: dict[str, float]
    intervals: pd.DataFrame
    temperature: float
    n_samples: int
    n_classes: int
    n_heldout: int
    n_eval: int
    n_bins: int
    n_boot: int
    n_boot_smooth: int
    level: float
    heldout_frac: float
    seed: int
    reliability_before: ReliabilityData = field(compare=False)
    reliability_after: ReliabilityData = field(compare=False)

    def to_frame(self) -> pd.DataFrame:
        """The headline metrics, metric × {before, after} with interval bounds (a copy).

        Returns
        -------
        pandas.DataFrame
            Index ``metric``; columns ``before``, ``before_low``, ``before_high`` (all
            predictions), ``after``, ``after_low``, ``after_high`` (the evaluation part, after
            temperature scaling) and ``n_boot``.
        """
        return self.intervals.copy()

    def to_record(self) -> dict[str, Any]:
        """Everything as one flat row: :attr:`record`, the headline estimates and bounds, the
        settings.

        Headline columns follow the record's names: ``acc``/``post_acc`` for accuracy (``acc``
        on all predictions, ``post_acc`` on the evaluation part), ``pre_{metric}`` and
        ``post_{metric}`` otherwise, each with ``_low`` and ``_high``.
        """
        row: dict[str, Any] = dict(self.record)
        for metric, values in self.intervals.iterrows():
            if metric == "accuracy":
                columns = {"before": "acc", "after": "post_acc"}
            else:
                columns = {"before": f"pre_{metric}", "after": f"post_{metric}"}
            for stage, column in columns.items():
                row[column] = float(values[stage])
                row[f"{column}_low"] = float(values[f"{stage}_low"])
                row[f"{column}_high"] = float(values[f"{stage}_high"])
        row.update(
            n_samples=self.n_samples,
            n_classes=self.n_classes,
            n_bins=self.n_bins,
            n_boot=self.n_boot,
            n_boot_smooth=self.n_boot_smooth,
            level=self.level,
            heldout_frac=self.heldout_frac,
            seed=self.seed,
        )
        return row

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_record` to ``path``: ``.csv`` (a header and one row) or ``.json``.

        Returns
        -------
        pathlib.Path
        """
        path = Path(path)
        suffix = _check_record_suffix(path, "`path`")
        path.parent.mkdir(parents=True, exist_ok=True)
        row = self.to_record()
        if suffix == ".json":
            clean = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                     for k, v in row.items()}  # fmt: skip
            path.write_text(json.dumps(clean, indent=1) + "\n", encoding="utf-8")
        else:
            import pandas as pd

            pd.DataFrame([row]).to_csv(path, index=False)
        return path

    def table(self) -> str:
        """The headline metrics as a table for people: metric, before and after with intervals."""
        from calstudy.report import ci

        pct = f"{100 * self.level:g} %"
        head = ("metric", f"before TS [{pct} CI]", f"after TS [{pct} CI]")
        rows = [head]
        outside = False
        for metric, v in self.intervals.iterrows():
            cells = [str(metric)]
            for stage in ("before", "after"):
                estimate, low, high = v[stage], v[f"{stage}_low"], v[f"{stage}_high"]
                mark = " *" if not low <= estimate <= high and not np.isnan(low) else ""
                outside = outside or bool(mark)
                cells.append(ci(estimate, low, high, 4, signed=False) + mark)
            rows.append(tuple(cells))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                 for row in rows]  # fmt: skip
        if self.n_boot == 0:
            note = "No intervals (n_boot = 0)."
        else:
            note = f"{pct} percentile-bootstrap intervals from {self.n_boot:,} resamples"
            if self.n_boot_smooth < self.n_boot:
                note += f" ({self.n_boot_smooth:,} for smECE)"
            note += "."
        footnote = []
        if outside:
            footnote = [
                "* Outside its interval: calibration errors (ECE, KSCE, smECE) are estimated with an "
                "upward bias, larger on",
                "  resamples (which repeat predictions); near perfect calibration the percentile "
                "interval lies above the estimate.",
            ]
        return "\n".join(
            [
                f"{self.n_samples:,} predictions, {self.n_classes} classes. Temperature scaling: "
                f"T = {self.temperature:.3g}, fitted on {self.n_heldout:,} held-out predictions;",
                f"'after' is measured on the other {self.n_eval:,}. {note}",
                "",
                *lines,
                *footnote,
            ]
        )

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        ece = self.intervals.iloc[1]
        return (
            f"CalibrationAudit(n_samples={self.n_samples}, temperature={self.temperature:.4g}, "
            f"{ece.name}: before={ece['before']:.4g}, after={ece['after']:.4g})"
        )

    def figure(self, *, title: str | None = None) -> Figure:
        """Reliability diagrams before and after temperature scaling, side by side.

        Drawn by :func:`calstudy.plots.plot_reliability` on a new
        :class:`matplotlib.figure.Figure` (no pyplot, so no display is needed); save it with
        ``figure().savefig("reliability.png")``.

        Parameters
        ----------
        title : str, optional
            Figure title.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from matplotlib.figure import Figure

        from calstudy.plots import plot_reliability

        fig = Figure(figsize=(10.0, 4.4), layout="constrained")
        ax_before, ax_after = fig.subplots(1, 2)
        plot_reliability(
            self.reliability_before,
            ax_before,
            title=f"Before temperature scaling ({self.n_samples:,} predictions)",
        )
        plot_reliability(
            self.reliability_after,
            ax_after,
            title=f"After scaling, T = {self.temperature:.3g} ({self.n_eval:,} not used to fit T)",
        )
        if title is not None:
            fig.suptitle(title)
        return fig


def audit(
    logits: ArrayLike,
    labels: ArrayLike,
    *,
    n_bins: int = 15,
    n_boot: int = 1000,
    n_boot_smooth: int = N_BOOT_SMOOTH,
    level: float = 0.95,
    heldout_frac: float = 0.2,
    seed: int = 0,
) -> CalibrationAudit:
    r"""Audit the calibration of one set of predictions, before and after temperature scaling.

    With :math:`\hat p_i = \operatorname{softmax}(z_i)` and the split of
    :func:`calstudy.calibrate.heldout_split` (``heldout_frac`` of the predictions to fit
    :math:`T^\star` on, the rest to evaluate on), exactly as
    :func:`calstudy.catalogue.full_record`:

    * *before*: each metric on all :math:`N` predictions :math:`\hat p_i`;
    * *after*: each metric on :math:`\operatorname{softmax}(z_i / T^\star)` of the evaluation
      part only, so no number is measured on the data the temperature was fitted on.

    Each headline metric :math:`\theta` gets the percentile interval
    :math:`[\hat\theta^*_{(\alpha/2)}, \hat\theta^*_{(1-\alpha/2)}]`, :math:`\alpha = 1 -`
    ``level``, over resamples of its predictions drawn with replacement ([3]_): the same
    resamples as :func:`calstudy.metrics.bootstrap_ci` with this ``seed``, evaluated all at once
    by weighting each prediction with its number of copies (equal to the metric functions on
    the resampled rows, to rounding). After scaling the temperature is held at :math:`T^\star`:
    the interval leaves out the variability of the fit itself. Calibration errors (ECE, KSCE,
    smECE) are estimated with an upward bias, larger on a resample, whose repeated predictions
    weigh some residuals twice: near perfect calibration their interval can lie above the estimate
    (:meth:`CalibrationAudit.table` marks it), a known limit of the percentile bootstrap for such
    estimators.

    Parameters
    ----------
    logits : array-like or tensor of shape (N, K)
        Finite pre-softmax outputs, numpy or torch (any device). For probabilities pass
        ``np.log(probs)`` (see :func:`load_predictions`).
    labels : array-like or tensor of shape (N,), int
        True classes in ``[0, K)``.
    n_bins : int, default 15
        Equal-width and equal-mass bins of the headline ECEs and of the reliability diagrams;
        every bin count of the catalogue is in :attr:`CalibrationAudit.record` regardless.
    n_boot : int, default 1000
        Bootstrap resamples per metric and stage; 0 gives no intervals.
    n_boot_smooth : int, default :data:`N_BOOT_SMOOTH` (100)
        Resamples for smECE (at most ``n_boot``), the first of the others', as one smECE costs
        about as much as the other metrics over a thousand resamples.
    level : float, default 0.95
        Coverage of the intervals, in (0, 1).
    heldout_frac : float, default 0.2
        Fraction of predictions the temperature is fitted on (the reference study's 20 %).
    seed : int, default 0
        Seed of the split and of the resamples.

    Returns
    -------
    CalibrationAudit

    Raises
    ------
    ValueError
        Before any work, for invalid ``logits``/``labels`` (as
        :func:`calstudy.catalogue.full_record`), an ``n_bins`` outside ``[1, MAX_N_BINS]``,
        a negative ``n_boot``/``n_boot_smooth``, a ``level`` outside (0, 1), or a
        ``heldout_frac`` that leaves either part with fewer than 2 predictions.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> logits = 3 * rng.standard_normal((2000, 10))
    >>> labels = (logits / 2 + rng.gumbel(size=(2000, 10))).argmax(1)  # y ~ softmax(logits / 2)
    >>> result = audit(logits, labels, n_boot=0)
    >>> round(result.temperature, 1), result.n_heldout, result.n_eval  # T = 2 fitted on 400
    (2.1, 400, 1600)
    >>> result.to_frame().loc["ECE_15", ["before", "after"]].round(2).tolist()
    [0.22, 0.04]
    """
    n_bins = check_n_bins(n_bins)
    n_boot = check_nonnegative_int(n_boot, "n_boot")
    n_boot_smooth = min(check_nonnegative_int(n_boot_smooth, "n_boot_smooth"), n_boot)
    if isinstance(level, bool) or not isinstance(level, Real) or not 0.0 < level < 1.0:
        raise ValueError(f"Expected `level` to be in (0, 1), got {level!r}.")
    record = full_record(logits, labels, heldout_frac=heldout_frac, seed=seed)
    z = as_array(logits, np.float64)
    y = as_array(labels, np.int64)
    _, eval_idx = heldout_split(len(y), frac=heldout_frac, seed=seed)  # full_record's split
    temperature = record["temperature"]
    stages = {
        "before": (metrics.to_probs(z), y),
        "after": (metrics.to_probs(z[eval_idx] / temperature), y[eval_idx]),
    }
    names = [_headline_name(name, n_bins) for name in HEADLINE]
    alpha = 1.0 - level
    columns: dict[str, list[float]] = {}
    for stage, (probs, y_stage) in stages.items():
        prefix = "pre" if stage == "before" else "post"
        reps = {}
        if n_boot:
            reps = _replicates(probs, y_stage, n_boot=n_boot, n_boot_smooth=n_boot_smooth,
                               n_bins=n_bins, seed=seed,
                               smooth_start=record[f"{prefix}_smECE"])  # fmt: skip
        for base, name in zip(HEADLINE, names, strict=True):
            # The record's number where it has the column (one definition), else the metric's.
            column = f"{prefix}_{name}"
            estimate = (
                record[column] if column in record else _METRICS[base](probs, y_stage, n_bins)
            )
            low = high = math.nan
            if reps and reps[base].size:
                low, high = (float(q) for q in np.quantile(reps[base], [alpha / 2, 1 - alpha / 2]))
            columns.setdefault(stage, []).append(float(estimate))
            columns.setdefault(f"{stage}_low", []).append(low)
            columns.setdefault(f"{stage}_high", []).append(high)
    columns["n_boot"] = [n_boot_smooth if name == "smECE" else n_boot for name in HEADLINE]
    import pandas as pd

    from calstudy.plots import reliability_data

    return CalibrationAudit(
        record=record,
        intervals=pd.DataFrame(columns, index=pd.Index(names, name="metric")),
        temperature=float(temperature),
        n_samples=int(len(y)),
        n_classes=int(z.shape[1]),
        n_heldout=int(record["n_heldout"]),
        n_eval=int(record["n_eval"]),
        n_bins=n_bins,
        n_boot=n_boot,
        n_boot_smooth=n_boot_smooth,
        level=float(level),
        heldout_frac=float(heldout_frac),
        seed=int(seed),
        reliability_before=reliability_data(*stages["before"], n_bins=n_bins),
        reliability_after=reliability_data(*stages["after"], n_bins=n_bins),
    )


def _headline_name(name: str, n_bins: int) -> str:
    return f"{name}_{n_bins}" if name in ("ECE", "ECE_em") else name


# ---------------------------------------------------------------------------------------------
# Command line: `calstudy metrics` and `calstudy evaluate`
# ---------------------------------------------------------------------------------------------

_RECORD_SUFFIXES = (".csv", ".json")
_FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def _check_record_suffix(path: Path, name: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in _RECORD_SUFFIXES:
        raise ValueError(f"Expected {name} to end in .csv or .json, got '{path}'.")
    return suffix


def _int_at_least(least: int, flag: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < least:
            raise argparse.ArgumentTypeError(
                f"Expected `{flag}` to be an integer >= {least}, got {text!r}."
            )
        return value

    return parse


def _n_bins(text: str) -> int:
    value = _int_at_least(1, "--n-bins")(text)
    if value > metrics.MAX_N_BINS:
        raise argparse.ArgumentTypeError(
            f"Expected `--n-bins` to be at most {metrics.MAX_N_BINS}, got {value}."
        )
    return value


def _fraction(flag: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not 0.0 < value < 1.0:
            raise argparse.ArgumentTypeError(f"Expected `{flag}` to be in (0, 1), got {text!r}.")
        return value

    return parse


def _path_with(suffixes: tuple[str, ...], flag: str) -> Callable[[str], Path]:
    def parse(text: str) -> Path:
        path = Path(text)
        if path.suffix.lower() not in suffixes:
            raise argparse.ArgumentTypeError(
                f"Expected `{flag}` to end in {' or '.join(suffixes)}, got '{text}'."
            )
        return path

    return parse


def _add_audit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--n-bins", type=_n_bins, default=15,
        help="bins of the headline ECEs and the reliability diagram (default 15); the record "
        "holds every bin count of the study",
    )  # fmt: skip
    parser.add_argument(
        "--n-boot", type=_int_at_least(0, "--n-boot"), default=1000,
        help="bootstrap resamples per metric (default 1000; 0: no intervals)",
    )  # fmt: skip
    parser.add_argument(
        "--n-boot-smooth", type=_int_at_least(0, "--n-boot-smooth"), default=N_BOOT_SMOOTH,
        help=f"resamples for smECE, the costly one (default {N_BOOT_SMOOTH}, at most --n-boot)",
    )  # fmt: skip
    parser.add_argument(
        "--level", type=_fraction("--level"), default=0.95,
        help="coverage of the intervals (default 0.95)",
    )  # fmt: skip
    parser.add_argument(
        "--heldout-frac", type=_fraction("--heldout-frac"), default=0.2,
        help="fraction of predictions the temperature is fitted on; 'after' is measured on the "
        "rest (default 0.2, as in the paper)",
    )  # fmt: skip
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the held-out split and the resamples (default 0)",
    )
    parser.add_argument(
        "--out", type=_path_with(_RECORD_SUFFIXES, "--out"), metavar="RECORD.csv|.json",
        help="write the full record (every catalogue metric before/after, the intervals, the "
        "settings) as one CSV row or a JSON object",
    )  # fmt: skip
    parser.add_argument(
        "--diagram", type=_path_with(_FIGURE_SUFFIXES, "--diagram"), metavar="FIGURE.png",
        help="save the reliability diagrams before/after scaling (.png, .pdf or .svg)",
    )  # fmt: skip


def add_metrics_cli(subparsers: argparse._SubParsersAction) -> None:
    """Register ``calstudy metrics``."""
    parser = subparsers.add_parser(
        "metrics",
        help="audit the calibration of saved predictions (logits or probabilities)",
        description="Audit the calibration of a model's predictions: the study's catalogue "
        "before and after temperature scaling (fitted on a held-out part), with bootstrap "
        "intervals for the headline metrics.",
        epilog="PRED is an .npz with `logits` or `probs` and `labels`, a .pt dict of such "
        "tensors (or a tensor of logits), or an .npy of logits; give the labels with --labels "
        "when the file has none. Example: calstudy metrics preds.npz --out record.csv "
        "--diagram reliability.png",
    )
    parser.add_argument("pred", metavar="PRED", help="predictions file (.npz, .pt or .npy)")
    parser.add_argument(
        "--labels", metavar="FILE",
        help="true classes (.npy, .npz, .pt, .txt or .csv), when PRED holds none or to replace "
        "its own",
    )  # fmt: skip
    _add_audit_options(parser)
    parser.set_defaults(func=_cli_metrics)


def _cli_metrics(args: argparse.Namespace) -> int:
    loaded = _read_predictions(args.pred, args.labels, _CLI)
    source = "probabilities, audited as log-probabilities" if loaded.kind == "probs" else "logits"
    print(f"Calibration of '{args.pred}' ({source}).")
    return _cli_audit(loaded.logits, loaded.labels, args)


def _cli_audit(logits: NDArray[np.float64], labels: NDArray[np.int64], args: Any) -> int:
    if len(labels) >= 4:  # fewer: audit's own message, on the number of predictions
        heldout_sizes(len(labels), frac=args.heldout_frac, name="--heldout-frac")
    result = audit(
        logits,
        labels,
        n_bins=args.n_bins,
        n_boot=args.n_boot,
        n_boot_smooth=args.n_boot_smooth,
        level=args.level,
        heldout_frac=args.heldout_frac,
        seed=args.seed,
    )
    print(result.table())
    if args.out is not None:
        path = result.save(args.out)
        print(f"Wrote the full record ({len(result.to_record())} columns) to '{path}'.")
    if args.diagram is not None:
        args.diagram.parent.mkdir(parents=True, exist_ok=True)
        result.figure().savefig(args.diagram, dpi=150)
        print(f"Wrote the reliability diagrams to '{args.diagram}'.")
    return 0


def add_evaluate_cli(subparsers: argparse._SubParsersAction) -> None:
    """Register ``calstudy evaluate``."""
    parser = subparsers.add_parser(
        "evaluate",
        help="audit the calibration of a NATS-Bench network checkpoint on a test set",
        description="Build a NATS-Bench network, load its checkpoint (a state dict saved by "
        "calstudy.train.save_checkpoint or torch.save; read with weights_only=True), compute "
        "its logits on the dataset's test split and audit them as `calstudy metrics` does.",
    )
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help="state-dict file (.pt)")
    parser.add_argument("--arch", required=True, help="architecture string: TSS cell or SSS widths")
    parser.add_argument(
        "--space", choices=("tss", "sss"),
        help="space of --arch (default: tss for a cell string starting with '|', else sss)",
    )  # fmt: skip
    parser.add_argument(
        "--dataset", default="cifar10",
        help="dataset whose test split is evaluated (default cifar10): cifar10, cifar100, "
        "imagenet16-120, fashion-mnist or svhn",
    )  # fmt: skip
    parser.add_argument(
        "--data-dir",
        help="dataset directory (default: $CALSTUDY_DATA, else the sample shipped with calstudy)",
    )
    parser.add_argument("--device", help="cpu, cuda, cuda:1 … (default: cuda if available)")
    parser.add_argument(
        "--C", type=_int_at_least(1, "--C"), default=16,
        help="TSS: channels of the first stage (default 16, as NATS-Bench)",
    )  # fmt: skip
    parser.add_argument(
        "--N", type=_int_at_least(1, "--N"), default=5,
        help="TSS: cells per stage (default 5, as NATS-Bench; the demo sweep trains 1)",
    )  # fmt: skip
    parser.add_argument(
        "--batch-size", type=_int_at_least(1, "--batch-size"), default=512,
        help="images per forward pass (default 512)",
    )  # fmt: skip
    parser.add_argument(
        "--save-predictions", type=_path_with((".npz",), "--save-predictions"),
        metavar="PRED.npz",
        help="also save the logits and labels, for `calstudy metrics PRED.npz` later",
    )  # fmt: skip
    _add_audit_options(parser)
    parser.set_defaults(func=_cli_evaluate)


def _cli_evaluate(args: argparse.Namespace) -> int:
    from calstudy.data import DATASETS, load_dataset, sample_data_dir
    from calstudy.device import resolve_device
    from calstudy.evaluate import predict_logits
    from calstudy.models import build_network
    from calstudy.space import parse_sss, parse_tss
    from calstudy.train import load_checkpoint

    checkpoint = Path(args.checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"Expected CHECKPOINT to be an existing file, got '{checkpoint}'.")
    space = args.space or ("tss" if args.arch.startswith("|") else "sss")
    try:  # before any data is read
        (parse_tss if space == "tss" else parse_sss)(args.arch)
    except ValueError as err:
        raise ValueError(str(err).replace("`arch`", "`--arch`", 1)) from None
    if args.dataset.lower() not in DATASETS:
        raise ValueError(
            f"Expected `--dataset` to be one of {sorted(DATASETS)}, got {args.dataset!r}."
        )
    data_dir = args.data_dir or os.environ.get("CALSTUDY_DATA") or sample_data_dir()
    data = load_dataset(args.dataset, data_dir)
    net = build_network(space, args.arch, num_classes=data.num_classes, C=args.C, N=args.N)
    try:
        load_checkpoint(net, checkpoint)
    except RuntimeError as err:  # load_state_dict: missing/unexpected keys, shape mismatches
        detail = " ".join(str(err).split())[:300]
        network = f"--space {space} --arch {args.arch!r}"
        network += f" --C {args.C} --N {args.N}" if space == "tss" else ""
        raise ValueError(
            f"Expected CHECKPOINT '{checkpoint}' to be the state dict of {network} with "
            f"{data.num_classes} classes ({args.dataset}), got one that does not fit: {detail}"
        ) from None
    except Exception as err:  # not a weights file: torch.load(weights_only=True) refused it
        raise ValueError(
            f"Expected CHECKPOINT '{checkpoint}' to be a state dict readable with "
            f"torch.load(weights_only=True), got: {str(err).splitlines()[0][:300]}"
        ) from None
    device = resolve_device(args.device)
    logits = predict_logits(net, data.x_test, mean=data.mean, std=data.std,
                            batch_size=args.batch_size, device=device)  # fmt: skip
    labels = np.asarray(data.y_test, dtype=np.int64)
    print(
        f"Calibration of {space} network {args.arch!r} ('{checkpoint}') on the {args.dataset} "
        f"test split in '{data_dir}' ({len(labels):,} images, {device})."
    )
    if args.save_predictions is not None:
        args.save_predictions.parent.mkdir(parents=True, exist_ok=True)
        np.savez(args.save_predictions, logits=logits, labels=labels)
        print(f"Wrote the logits and labels to '{args.save_predictions}'.", file=sys.stderr)
    return _cli_audit(logits.astype(np.float64), labels, args)
