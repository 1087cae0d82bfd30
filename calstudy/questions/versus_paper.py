"""The reference study's numbers beside ours: reading a quote of the paper, and placing it
against an interval of this store.

References
----------
.. [1] L. Tao, Y. Zhu, H. Guo, M. Dong, C. Xu, "A Benchmark Study on Calibration", ICLR 2024.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = [
    "compare_to_paper",
    "paper_float",
    "paper_range",
    "paper_values",
    "position_of",
    "position_phrase",
    "range_position",
]


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


def paper_values(text: str) -> list[float]:
    """Every number a quote of the paper states, in order, as fractions where it says ``%``.

    Parameters
    ----------
    text : str
        E.g. ``"1.5 / 2.1 / 3.3 / 4.5 / 6.3 / 9.7 %"`` or ``"at 5 / 15 / 50 bins"``.

    Returns
    -------
    list of float

    Examples
    --------
    >>> paper_values("1.5 / 2.1 %"), paper_values("at 5 / 15 / 500 ")
    ([0.015, 0.021], [5.0, 15.0, 500.0])
    """
    import re

    scale = 0.01 if "%" in text else 1.0
    numbers = re.findall(r"[−-]?\d+(?:\.\d+)?", text)
    return [round(float(n.replace("−", "-")) * scale, 12) for n in numbers]


def paper_range(value: str) -> tuple[float, float]:
    """The number or range a quote of the paper states, as fractions where it says ``%``.

    Parameters
    ----------
    value : str
        A :attr:`calstudy.chapter.PaperNumber.value`, e.g. ``"≈ 0.00 – 0.01"``, ``"−0.23"`` or
        ``"3.8 – 6.8 %"``.

    Returns
    -------
    (low, high) : tuple of float
        Equal for a single number; a percentage is divided by 100.

    Raises
    ------
    ValueError
        If ``value`` holds no number, or more than two.

    Examples
    --------
    >>> paper_range("≈ 0.00 – 0.01"), paper_range("−0.23"), paper_range("3.8 – 6.8 %")
    ((0.0, 0.01), (-0.23, -0.23), (0.038, 0.068))
    """
    numbers = paper_values(value)
    if not 1 <= len(numbers) <= 2:
        raise ValueError(f"Expected `value` to state one number or a range, got {value!r}.")
    return min(numbers), max(numbers)


def range_position(value: tuple[float, float], low: float, high: float) -> str:
    """Where a range (a quote such as "0.82 – 0.98") lies relative to an interval.

    A single number is the range ``(value, value)``: ``"above"``, ``"inside"`` or ``"below"``.

    Parameters
    ----------
    value : (float, float)
        The range, e.g. from :func:`paper_range`.
    low, high : float
        The interval.

    Returns
    -------
    str
        ``"above"`` or ``"below"`` when the whole range lies outside the interval,
        ``"inside"`` when it lies within it, ``"overlapping"`` when it straddles an end, ``"—"``
        when a number is missing.

    Examples
    --------
    >>> range_position((0.0, 0.01), -0.13, 0.14), range_position((0.82, 0.98), 0.2, 0.9)
    ('inside', 'overlapping')
    """
    v_low, v_high = (float(v) for v in value)
    if np.isnan([v_low, v_high, low, high]).any():
        return "—"
    if v_low > high:
        return "above"
    if v_high < low:
        return "below"
    return "inside" if low <= v_low and v_high <= high else "overlapping"


def position_phrase(position: str) -> str:
    """A :func:`range_position` as the verb phrase of a sentence: ``"lies inside"``,
    ``"overlaps"``, ``"cannot be placed against"`` (for ``"—"``).

    Examples
    --------
    >>> f"the paper's range {position_phrase('overlapping')} this store's interval"
    "the paper's range overlaps this store's interval"
    """
    phrases = {"above": "lies above", "below": "lies below", "inside": "lies inside",
               "overlapping": "overlaps", "—": "cannot be placed against"}  # fmt: skip
    if position not in phrases:
        raise ValueError(f"Expected `position` to be one of {list(phrases)}, got {position!r}.")
    return phrases[position]


def position_of(value: object, low: object, high: object) -> str:
    """Where a value lies relative to an interval: ``"above"``, ``"inside"`` or ``"below"``.

    Used to place a published number (given without an interval) beside ours; ``"—"`` when
    any of the three is missing.

    Examples
    --------
    >>> position_of(0.36, 0.01, 0.2), position_of(0.1, 0.01, 0.2), position_of(-1, 0, 1)
    ('above', 'inside', 'below')
    """
    try:
        v, lo, hi = float(value), float(low), float(high)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    if np.isnan([v, lo, hi]).any():
        return "—"
    return "above" if v > hi else "below" if v < lo else "inside"


def paper_float(value: object) -> float:
    """A number the paper states (``"−0.23"``, with its minus sign) as a float; NaN if none."""
    try:
        return float(str(value).replace("−", "-"))
    except ValueError:
        return float("nan")
