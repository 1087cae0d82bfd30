"""Argument checks shared by the metrics, the calibrators, the plots and the statistics: the one
place where an input is converted (arrays and tensors in) and validated, with messages that read
"Expected `name` to be …, got …".

A torch tensor is recognised by duck typing (``detach``/``cpu``/``numpy`` and a ``torch``
module), so importing this module never imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MAX_N_BINS",
    "as_array",
    "as_float_2d",
    "check_columns",
    "check_finite",
    "check_level",
    "check_logits",
    "check_logits_labels",
    "check_n_bins",
    "check_nonnegative",
    "check_nonnegative_int",
    "check_positive",
    "check_positive_int",
    "check_probs_labels",
]

MAX_N_BINS: int = 10_000
"""The largest bin count any binned estimator accepts.

Binning costs memory and time linear in the bin count (bin edges and per-bin sums, times
:math:`K` for the classwise estimators), so ``n_bins=10**11`` would exhaust memory before an
error could say why. The bound is the size of the largest test set of the study (10,000
images for CIFAR-10 and CIFAR-100, 6,000 for ImageNet16-120), 20 times the largest bin count
of :data:`calstudy.metrics.BIN_COUNTS`: with more bins than samples, almost every non-empty bin holds a single
sample and the estimate only approaches its one-sample-per-bin limit
:math:`\\frac1N \\sum_i |a_i - c_i|`. A fixed bound, not one relative to :math:`N`, keeps a call
valid on every sample it may be given.
"""


def _is_tensor(x: Any) -> bool:
    return type(x).__module__.split(".")[0] == "torch" and hasattr(x, "detach")


def as_array(x: Any, dtype: DTypeLike | None = None) -> NDArray[Any]:
    """``x`` as a numpy array: numpy arrays, lists, and torch tensors on any device.

    A tensor is detached from its graph and moved to the host; a CPU tensor of a numpy dtype is
    shared, not copied (``torch.Tensor.numpy``); bfloat16, which numpy lacks, becomes float32.
    ``dtype`` converts only where the dtype differs.
    """
    if _is_tensor(x):
        x = x.detach()
        if str(x.dtype) == "torch.bfloat16":
            x = x.float()
        x = x.cpu().numpy()
    return np.asarray(x) if dtype is None else np.asarray(x).astype(dtype, copy=False)


def check_positive_int(x: object, name: str) -> int:
    # bool is an int subclass; `n_bins=True` is a bug, not one bin.
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 1:
        raise ValueError(f"Expected `{name}` to be a positive integer, got {x!r}.")
    return int(x)


def check_nonnegative_int(x: object, name: str) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 0:
        raise ValueError(f"Expected `{name}` to be a non-negative integer, got {x!r}.")
    return int(x)


def check_level(x: float, name: str = "level") -> float:
    """Validate a confidence level or a significance level: a number in (0, 1)."""
    if not 0.0 < x < 1.0:
        raise ValueError(f"Expected `{name}` to be in (0, 1), got {x}.")
    return float(x)


def check_columns(df: pd.DataFrame, columns: Sequence[Hashable], name: str = "df") -> None:
    """Validate that the table ``df`` has every column of ``columns``; name the missing ones."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"Expected `{name}` to have columns {missing}, got {list(df.columns)}.")


def check_n_bins(n_bins: object, name: str = "n_bins") -> int:
    """Validate a bin count: an integer in ``[1, MAX_N_BINS]`` (the one check of every binned
    estimator, :func:`~calstudy.metrics.bin_stats` and, through it, the reliability plots)."""
    n = check_positive_int(n_bins, name)
    if n > MAX_N_BINS:
        raise ValueError(
            f"Expected `{name}` to be at most {MAX_N_BINS} (MAX_N_BINS: more bins than the "
            f"study's largest test set has samples), got {n}."
        )
    return n


def check_positive(x: object, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, Real) or not math.isfinite(x) or x <= 0:
        raise ValueError(f"Expected `{name}` to be a positive finite number, got {x!r}.")
    return float(x)


def check_nonnegative(x: object, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, Real) or not math.isfinite(x) or x < 0:
        raise ValueError(f"Expected `{name}` to be a non-negative finite number, got {x!r}.")
    return float(x)


def check_finite(x: NDArray[np.float64], name: str) -> None:
    if not np.all(np.isfinite(x)):
        bad = "NaN" if np.isnan(x).any() else "inf"
        raise ValueError(f"Expected `{name}` to be finite, got {bad}.")


def as_float_2d(x: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = as_array(x)
    if arr.ndim != 2:
        raise ValueError(
            f"Expected `{name}` to be a 2-D array of shape (N, K), got shape {arr.shape}."
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"Expected `{name}` to be non-empty, got shape {arr.shape}.")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"Expected `{name}` to hold real numbers, got dtype {arr.dtype}.")
    arr = arr.astype(np.float64, copy=False)
    check_finite(arr, name)
    return arr


def check_probs_labels(
    probs: ArrayLike, labels: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Validate a ``(probs, labels)`` pair and return them as float64 / int64 arrays.

    Checks: ``probs`` is 2-D, non-empty, has :math:`K \\ge 2` columns, is finite, lies in
    :math:`[0, 1]` and has rows summing to 1 within :math:`10^{-6} K`; ``labels`` is a 1-D integer
    array of the same length with values in :math:`[0, K)`.

    Raises
    ------
    ValueError
        Naming the offending input, "Expected `probs` to ..., got ...".
    """
    p = as_float_2d(probs, "probs")
    n, k = p.shape
    if k < 2:
        raise ValueError(f"Expected `probs` to have at least 2 classes (K >= 2), got K={k}.")
    lo, hi = float(p.min()), float(p.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"Expected `probs` to lie in [0, 1], got values in [{lo:g}, {hi:g}].")
    sums = p.sum(axis=1)
    tol = 1e-6 * k
    worst = int(np.argmax(np.abs(sums - 1.0)))
    if abs(sums[worst] - 1.0) > tol:
        raise ValueError(
            "Expected `probs` to be probabilities: rows of `probs` must sum to 1 "
            f"(tolerance {tol:g}), got row {worst} summing to {sums[worst]:.9g}."
        )
    y = as_array(labels)
    if y.ndim != 1:
        raise ValueError(f"Expected `labels` to be a 1-D array, got shape {y.shape}.")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"Expected `labels` to be an integer array, got dtype {y.dtype}.")
    if y.shape[0] != n:
        raise ValueError(
            f"Expected `labels` to have the same length as `probs` (N={n}), got {y.shape[0]}."
        )
    ylo, yhi = int(y.min()), int(y.max())
    if ylo < 0 or yhi >= k:
        raise ValueError(f"Expected `labels` to lie in [0, {k}), got values in [{ylo}, {yhi}].")
    return p, y.astype(np.int64, copy=False)


def check_logits(logits: ArrayLike) -> NDArray[np.float64]:
    """Return ``logits`` as a finite float64 array of shape (N, K), N ≥ 1, K ≥ 2."""
    z = as_array(logits)
    if z.ndim != 2:
        raise ValueError(f"Expected `logits` to be 2-D (N, K), got shape {z.shape}.")
    if not (np.issubdtype(z.dtype, np.floating) or np.issubdtype(z.dtype, np.integer)):
        raise ValueError(f"Expected `logits` to be a real array, got dtype {z.dtype}.")
    if z.shape[0] < 1 or z.shape[1] < 2:
        raise ValueError(
            f"Expected `logits` to have N >= 1 rows and K >= 2 classes, got {z.shape}."
        )
    z = z.astype(np.float64, copy=False)
    if not np.all(np.isfinite(z)):
        raise ValueError("Expected `logits` to be finite, got NaN or infinite values.")
    return z


def check_logits_labels(
    logits: ArrayLike, labels: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Validate a (logits, labels) pair and return them as float64 (N, K) and int64 (N,)."""
    z = check_logits(logits)
    y = as_array(labels)
    if y.ndim != 1 or y.shape[0] != z.shape[0]:
        raise ValueError(
            f"Expected `labels` to have shape ({z.shape[0]},) to match `logits` {z.shape}, "
            f"got {y.shape}."
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"Expected `labels` to be integers, got dtype {y.dtype}.")
    if y.size and (y.min() < 0 or y.max() >= z.shape[1]):
        raise ValueError(
            f"Expected `labels` to be in [0, {z.shape[1] - 1}], got values in "
            f"[{y.min()}, {y.max()}]."
        )
    return z, y.astype(np.int64, copy=False)


def check_int_at_least(x: object, name: str, minimum: int) -> int:
    """Validate an integer count with a floor other than 0 or 1 (e.g. two folds, two images)."""
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < minimum:
        raise ValueError(f"Expected `{name}` to be an integer ≥ {minimum}, got {x!r}.")
    return int(x)


def check_finite_frame(frame: pd.DataFrame, what: str) -> None:
    """Validate that every value of a numeric table is finite; name the first bad cell."""
    values = frame.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = map(int, np.argwhere(bad)[0])
        raise ValueError(
            f"Expected finite values in {what}, got {int(bad.sum())} NaN/inf, e.g. column "
            f"{frame.columns[col]!r} of row {frame.index[row]!r}."
        )


SPACES = ("tss", "sss")
"""NATS-Bench's two search spaces: the topology space and the size space."""


def check_space(space: object, name: str = "space") -> str:
    """Validate one search-space name (``"tss"`` or ``"sss"``)."""
    if space not in SPACES:
        raise ValueError(f"Expected `{name}` to be 'tss' or 'sss', got {space!r}.")
    return str(space)


def check_spaces(spaces: str | Sequence[str], name: str = "spaces") -> list[str]:
    """Validate search-space names: a name alone is one; at least one, each ``"tss"``/``"sss"``."""
    spaces = [spaces] if isinstance(spaces, str) else list(spaces)
    unknown = [s for s in spaces if s not in SPACES]
    if not spaces or unknown:
        raise ValueError(f"Expected `{name}` among {SPACES}, got {spaces!r}.")
    return spaces
