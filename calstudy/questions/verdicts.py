"""Verdicts read from intervals (+1, -1 or 0) and the words that state them in sentences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from calstudy._checks import check_level

__all__ = [
    "CHANGED_WORDS",
    "ci_words",
    "interval_sign",
    "share_words",
    "verdict_groups",
]


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


def verdict_groups(
    labels: Sequence[str], verdicts: Sequence[object], words: Mapping[object, str]
) -> list[str]:
    """Phrases "``words[v]`` in A and B", one per verdict ``v`` that occurs, in ``words`` order.

    Parameters
    ----------
    labels : sequence of str
        A name per row (e.g. :func:`~calstudy.questions.groups.group_label`).
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


CHANGED_WORDS = {-1: "lowered", 1: "raised", 0: "did not detectably change"}


def ci_words(row: Mapping[str, Any], key: str, decimals: int = 2, *, low: str = "", high: str = "",
           scale: float = 1.0, signed: bool = True) -> str:
    """``row[key]`` with its interval (``{key}_low``/``{key}_high`` unless named) in words."""
    from calstudy import report

    ends = (row[low or f"{key}_low"], row[high or f"{key}_high"])
    return report.ci(scale * row[key], *(scale * e for e in ends), decimals, signed=signed)


def share_words(row: Mapping[str, Any], key: str) -> str:
    """A Wilson share of networks in words: ``97 [92, 99] %``."""
    return ci_words(row, key, 0, scale=100, signed=False) + " %"
