"""The harmonic calibration score (HCS) of the reference study: accuracy and calibration in one
number, and the best networks by it (RQ vii).

References
----------
.. [1] L. Tao, Y. Zhu, H. Guo, M. Dong, C. Xu, "A Benchmark Study on Calibration", ICLR 2024.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calstudy._checks import check_columns
from calstudy.selection import top_n

__all__ = [
    "hcs",
    "top_hcs",
]


# ================================================================================================
# Harmonic calibration score
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
        ``df``'s best ``n`` rows with an added ``hcs`` column, best first
        (:func:`~calstudy.selection.top_n`).
    """
    check_columns(df, [acc, ece])
    scored = df.assign(hcs=hcs(df[acc], df[ece]))
    return top_n(scored, n, by="hcs")
