"""Selecting rows: top-N by a column, joining datasets by key, and τ on the selections.

The reference study's questions are often asked of a subset of the calibration dataset (the
top-N models by accuracy) or of rows joined across datasets (the same architecture on CIFAR-10
and CIFAR-100). This module selects and joins those rows, and computes τ-b across datasets
(RQ i) and against the number of networks (RQ i, ii).

Two defects of the released analysis code are avoided by construction (see
``paper-findings.md``): :func:`top_n` keeps the *highest* N rows (the paper's
``sort_values('acc').head(N)`` kept the lowest, which :func:`lowest_n` reproduces for
comparison), and :func:`paired` joins rows by key columns and refuses duplicate keys (the paper
merged pre- and post-scaling tables by row position).

References
----------
.. [1] L. Tao, Y. Zhu, H. Guo, M. Dong, C. Xu, "A Benchmark Study on Calibration", ICLR 2024.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from calstudy._checks import check_columns, check_level, check_positive_int
from calstudy.stats import TauResult, kendall_ci, kendall_tau, use_asymptotic

__all__ = [
    "DEFAULT_KEY",
    "columns_with_values",
    "count_complete",
    "cross_dataset_tau",
    "lowest_n",
    "pair_datasets",
    "paired",
    "population_sizes",
    "selection_curve",
    "tau_vs_population",
    "top_fraction",
    "top_n",
]


# ================================================================================================
# Selecting rows: top-N, lowest-N, joins by key
# ================================================================================================


def _extreme_rows(df: pd.DataFrame, n: int, *, by: str, highest: bool) -> pd.DataFrame:
    """The ``n`` rows with the highest (or lowest) ``by``; ties by ``arch``, NaN never kept."""
    n = check_positive_int(n, "n")
    check_columns(df, [by])
    ranked = df[df[by].notna()]
    if n > len(ranked):
        raise ValueError(
            f"Expected `n` to be at most the number of rows with a value of {by!r} "
            f"({len(ranked)}), got {n}."
        )
    # ``arch`` breaks ties ascending either way, so the selection does not depend on row order.
    keys = [by, "arch"] if "arch" in df.columns and by != "arch" else [by]
    ascending = [not highest] + [True] * (len(keys) - 1)
    return ranked.sort_values(keys, ascending=ascending, kind="mergesort").head(n)


def top_n(df: pd.DataFrame, n: int, *, by: str = "acc") -> pd.DataFrame:
    """The ``n`` rows with the HIGHEST value of ``by``.

    Rows are sorted by ``by`` descending, ties broken by ``arch`` ascending (by original order
    when there is no ``arch`` column), and rows where ``by`` is NaN are never selected.

    The reference study's released code computed "top-N models by accuracy" as
    ``df.sort_values('acc').head(N)``, which sorts *ascending* and therefore returns the N least
    accurate models. This function is the corrected selection, tested against that defect.

    Parameters
    ----------
    df : DataFrame
        Rows to select from, usually one dataset of the calibration dataset.
    n : int
        Number of rows to keep, at most the number of rows with a value of ``by``.
    by : str, default="acc"
        Column to rank by; higher is better.

    Returns
    -------
    DataFrame
        ``n`` rows of ``df`` (original index kept), best first.

    Examples
    --------
    >>> d = pd.DataFrame({"arch": list("abcd"), "acc": [0.5, 0.9, 0.7, 0.9]})
    >>> top_n(d, 2)["arch"].tolist()
    ['b', 'd']
    """
    return _extreme_rows(df, n, by=by, highest=True)


def lowest_n(df: pd.DataFrame, n: int, *, by: str = "acc") -> pd.DataFrame:
    """The ``n`` rows with the LOWEST value of ``by``: the reference study's "top-N".

    The released analysis code selected "the top-N models by accuracy" with
    ``df.sort_values('acc').head(N)``, which sorts ascending and keeps the N *least* accurate
    models. This function reproduces that selection (ties broken by ``arch``, NaN never
    selected) so that its effect can be shown beside the corrected :func:`top_n`.

    Parameters
    ----------
    df : DataFrame
        Rows to select from.
    n : int
        Number of rows to keep, at most the number of rows with a value of ``by``.
    by : str, default="acc"
        Column to rank by.

    Returns
    -------
    DataFrame
        ``n`` rows of ``df`` (original index kept), lowest first.

    Examples
    --------
    >>> d = pd.DataFrame({"arch": list("abcd"), "acc": [0.5, 0.9, 0.7, 0.9]})
    >>> lowest_n(d, 2)["arch"].tolist()
    ['a', 'c']
    """
    return _extreme_rows(df, n, by=by, highest=False)


def top_fraction(df: pd.DataFrame, fraction: float, *, by: str = "acc") -> pd.DataFrame:
    r"""The best ``fraction`` of rows by ``by``: :func:`top_n` with :math:`n = \lceil f m \rceil`.

    Parameters
    ----------
    df : DataFrame
        Rows to select from.
    fraction : float
        Share of rows to keep, in (0, 1]; :math:`m` counts rows with a value of ``by``.
    by : str, default="acc"
        Column to rank by; higher is better.

    Returns
    -------
    DataFrame
        The selected rows, best first.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"Expected `fraction` to be in (0, 1], got {fraction}.")
    check_columns(df, [by])
    m = int(df[by].notna().sum())
    if m == 0:
        raise ValueError(f"Expected `df` to have rows with a value of {by!r}, got none.")
    return top_n(df, max(1, math.ceil(fraction * m - 1e-9)), by=by)


DEFAULT_KEY: tuple[str, ...] = ("space", "arch", "seed", "fidelity")


def _check_unique_keys(df: pd.DataFrame, on: list[str], name: str) -> None:
    duplicated = df.duplicated(subset=on, keep=False)
    if duplicated.any():
        example = df.loc[duplicated, on].iloc[0].to_dict()
        raise ValueError(
            f"Expected `{name}` to have one row per key {on}, got {int(duplicated.sum())} rows "
            f"sharing a key, e.g. {example}."
        )


def paired(
    df_a: pd.DataFrame,
    df_b: pd.DataFrame,
    *,
    on: Sequence[str] = DEFAULT_KEY,
    suffixes: tuple[str, str] = ("_a", "_b"),
) -> pd.DataFrame:
    """Join the rows of two tables that share a key, never by row position.

    This is the join the reference study should have used to pair pre- and post-scaling tables
    (it merged them by position, after a sort whose result was discarded). Keys present in only
    one table are dropped (inner join).

    Parameters
    ----------
    df_a, df_b : DataFrame
        Tables holding the key columns ``on``; each key must occur at most once per table.
    on : sequence of str, default=("space", "arch", "seed", "fidelity")
        Key columns.
    suffixes : (str, str), default=("_a", "_b")
        Appended to non-key columns present in both tables.

    Returns
    -------
    DataFrame
        One row per key found in both tables, sorted by key, with a fresh index.

    Raises
    ------
    ValueError
        If a key column is missing or a key occurs twice in one table.

    Examples
    --------
    >>> a = pd.DataFrame({"arch": ["x", "y"], "ece": [0.1, 0.2]})
    >>> b = pd.DataFrame({"arch": ["y", "x"], "ece": [0.4, 0.3]})
    >>> paired(a, b, on=["arch"])["ece_b"].tolist()
    [0.3, 0.4]
    """
    on = list(on)
    if not on:
        raise ValueError("Expected `on` to name at least one key column, got [].")
    check_columns(df_a, on, "df_a")
    check_columns(df_b, on, "df_b")
    _check_unique_keys(df_a, on, "df_a")
    _check_unique_keys(df_b, on, "df_b")
    merged = df_a.merge(df_b, on=on, how="inner", suffixes=suffixes, validate="one_to_one")
    return merged.sort_values(on, kind="mergesort").reset_index(drop=True)


# ================================================================================================
# τ on selections: across datasets (RQ i), against the number of networks (RQ i, ii)
# ================================================================================================


def cross_dataset_tau(
    df: pd.DataFrame,
    metric: str,
    datasets: tuple[str, str] = ("cifar10", "fashion-mnist"),
    *,
    top: int | None = None,
    by: str = "acc",
    on: Sequence[str] = DEFAULT_KEY,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    method: Literal["auto", "bootstrap", "asymptotic"] = "auto",
) -> TauResult:
    """τ-b between a metric measured on two datasets, pairing rows of the same architecture (RQ i).

    Rows of ``datasets[0]`` and ``datasets[1]`` (column ``dataset``) are joined by the key ``on``
    with :func:`paired`, and τ-b is taken between the two ``metric`` columns. With ``top``, only
    the ``top`` pairs whose ``by`` value on the **first** dataset is highest are kept (the
    selection is made before looking at the second dataset, so it is not conditioned on the
    outcome being correlated).

    Parameters
    ----------
    df : DataFrame
        Calibration dataset holding a ``dataset`` column, the key columns, ``metric`` and ``by``.
    metric : str
        Column to compare, e.g. ``"pre_ECE_15"``.
    datasets : (str, str), default=("cifar10", "fashion-mnist")
        The two values of ``dataset`` to pair.
    top : int, optional
        Keep only the ``top`` best architectures by ``by`` on ``datasets[0]``.
    by : str, default="acc"
        Ranking column for ``top``.
    on : sequence of str, default=("space", "arch", "seed", "fidelity")
        Join key; drop ``"seed"`` after averaging seeds if seeds are not comparable across datasets.
    n_boot, level, seed, method
        As in :func:`~calstudy.stats.kendall_ci`.

    Returns
    -------
    TauResult
    """
    if len(datasets) != 2 or datasets[0] == datasets[1]:
        raise ValueError(f"Expected `datasets` to be two different dataset names, got {datasets}.")
    check_columns(df, ["dataset", metric, by, *on])
    columns = list(dict.fromkeys([*on, metric, by]))  # metric may be the ranking column itself
    parts = []
    for name in datasets:
        part = df.loc[df["dataset"] == name, columns]
        if part.empty:
            raise ValueError(
                f"Expected `df` to have rows of dataset {name!r}, got datasets "
                f"{sorted(df['dataset'].unique().tolist())}."
            )
        parts.append(part)
    pairs = paired(parts[0], parts[1], on=on, suffixes=("_a", "_b"))
    if top is not None:
        pairs = top_n(pairs, top, by=f"{by}_a")
    return kendall_ci(
        pairs[f"{metric}_a"],
        pairs[f"{metric}_b"],
        n_boot=n_boot,
        level=level,
        seed=seed,
        method=method,
    )


def tau_vs_population(
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    sizes: Sequence[int],
    n_repeats: int = 20,
    level: float = 0.95,
    seed: int = 0,
    subset: Literal["random", "top"] = "random",
    by: str = "acc",
    method: Literal["auto", "bootstrap", "asymptotic"] = "auto",
) -> pd.DataFrame:
    """How τ-b between ``x`` and ``y`` depends on which and how many models are compared (RQ ii).

    - ``subset="random"``: for each size, ``n_repeats`` random subsets of that many rows (drawn
      without replacement); ``tau_mean`` is the mean τ-b over subsets, ``low``/``high`` the
      ``level`` percentile band over subsets (sampling variability of a study of that size).
    - ``subset="top"``: for each size N, the top-N rows by ``by`` (:func:`top_n`); ``tau_mean``
      is τ-b on that single subset and ``low``/``high`` its :func:`~calstudy.stats.kendall_ci`
      interval: a percentile bootstrap from ``n_repeats`` resamples, or, under ``method="auto"``
      from N = :data:`~calstudy.stats.TAU_ASYMPTOTIC_MIN_N` on, the asymptotic interval.

    Parameters
    ----------
    df : DataFrame
        Rows complete in ``x`` and ``y`` are used.
    x, y : str
        Columns to correlate.
    sizes : sequence of int
        Subset sizes, each between 3 and the number of complete rows.
    n_repeats : int, default=20
        Random subsets (``"random"``) or bootstrap resamples (``"top"``) per size.
    level : float, default=0.95
        Width of the band.
    seed : int, default=0
        Seed of the subset generator.
    subset : {"random", "top"}, default="random"
        How subsets are chosen.
    by : str, default="acc"
        Ranking column for ``subset="top"``.
    method : {"auto", "bootstrap", "asymptotic"}, default="auto"
        Interval method of ``subset="top"``, as in :func:`~calstudy.stats.kendall_ci`.

    Returns
    -------
    DataFrame
        Columns ``size, tau_mean, low, high``, one row per size in the given order.
    """
    if subset not in ("random", "top"):
        raise ValueError(f"Expected `subset` to be 'random' or 'top', got {subset!r}.")
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    check_level(level)
    use_asymptotic(method, 0)  # validates `method`
    needed = [x, y] + ([by] if subset == "top" else [])
    check_columns(df, needed)
    complete = df.dropna(subset=needed)
    m = len(complete)
    sizes = list(sizes)
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, int | np.integer) or not 3 <= s <= m:
            raise ValueError(
                f"Expected each of `sizes` to be an integer in [3, {m}] (complete rows), got {s!r}."
            )
    rng = np.random.default_rng(seed)
    xs, ys = complete[x].to_numpy(float), complete[y].to_numpy(float)
    alpha = 1.0 - level
    rows = []
    for s in sizes:
        if subset == "random":
            draws = (rng.choice(m, size=int(s), replace=False) for _ in range(n_repeats))
            taus = np.array([kendall_tau(xs[idx], ys[idx]) for idx in draws])
            centre = float(np.nanmean(taus))
            low, high = np.nanquantile(taus, [alpha / 2, 1 - alpha / 2])
        else:
            best = top_n(complete, int(s), by=by)
            r = kendall_ci(
                best[x], best[y], n_boot=n_repeats, level=level, seed=seed, method=method
            )
            centre, low, high = r.tau, r.low, r.high
        rows.append({"size": int(s), "tau_mean": centre, "low": float(low), "high": float(high)})
    return pd.DataFrame(rows, columns=["size", "tau_mean", "low", "high"])


def pair_datasets(
    df: pd.DataFrame,
    columns: Sequence[str],
    *,
    datasets: Sequence[str] | None = None,
    on: Sequence[str] = DEFAULT_KEY,
) -> dict[tuple[str, str, str], pd.DataFrame]:
    """Every network's rows on two datasets side by side, for each space and dataset pair.

    For each search space and each unordered pair ``(a, b)`` of datasets (in the order of
    ``datasets``) with rows of both in that space, the rows are joined **by key** with
    :func:`paired`, never by position; the columns of dataset ``a`` get the suffix ``_a``, those
    of ``b`` the suffix ``_b``.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset with ``space``, ``dataset``, the key columns ``on`` and ``columns``.
    columns : sequence of str
        Columns to carry (e.g. the metrics and ``acc``); duplicates are dropped.
    datasets : sequence of str, optional
        Datasets to pair, in this order (``a`` comes first); default: those present, sorted.
    on : sequence of str, default=("space", "arch", "seed", "fidelity")
        Join key; each key must occur once per dataset and space.

    Returns
    -------
    dict
        ``(space, a, b)`` → paired rows (possibly none), in space then pair order.

    Examples
    --------
    >>> d = pd.DataFrame({"space": "tss", "arch": ["x", "y", "y", "x"], "seed": 0,
    ...                   "fidelity": "f", "dataset": ["c", "c", "f", "f"], "m": [1, 2, 3, 4]})
    >>> pair_datasets(d, ["m"])["tss", "c", "f"][["arch", "m_a", "m_b"]].values.tolist()
    [['x', 1, 4], ['y', 2, 3]]
    """
    on = list(on)
    columns = list(dict.fromkeys(c for c in columns if c not in on))
    check_columns(df, ["space", "dataset", *on, *columns])
    order = sorted(df["dataset"].dropna().unique()) if datasets is None else list(datasets)
    out: dict[tuple[str, str, str], pd.DataFrame] = {}
    for space in sorted(df["space"].dropna().unique()):
        part = df[df["space"] == space]
        present = [d for d in order if (part["dataset"] == d).any()]
        for i, a in enumerate(present):
            for b in present[i + 1 :]:
                rows = [part.loc[part["dataset"] == d, [*on, *columns]] for d in (a, b)]
                out[space, a, b] = paired(rows[0], rows[1], on=on, suffixes=("_a", "_b"))
    return out


def count_complete(frame: pd.DataFrame, columns: Sequence[str]) -> int:
    """Number of rows of ``frame`` with a value in every one of ``columns``."""
    return int(frame[list(columns)].notna().all(axis=1).sum())



def population_sizes(
    m: int, sizes: Sequence[int] | None = None, *, n_sizes: int = 8, smallest: int = 10
) -> list[int]:
    """Population sizes for a τ-against-N curve over ``m`` rows, ending with ``m`` itself.

    Parameters
    ----------
    m : int
        Number of complete rows.
    sizes : sequence of int, optional
        Wanted sizes; those in [3, m) are kept. Default: ``n_sizes`` sizes spaced evenly on a
        log scale from ``min(smallest, m)`` to ``m``.
    n_sizes : int, default=8
        Number of log-spaced sizes when ``sizes`` is None.
    smallest : int, default=10
        Smallest log-spaced size.

    Returns
    -------
    list of int
        Sorted distinct sizes in [3, m]; empty when ``m < 3``.

    Examples
    --------
    >>> population_sizes(100, [10, 50, 200])
    [10, 50, 100]
    >>> population_sizes(1000, n_sizes=3)
    [10, 100, 1000]
    """
    if m < 3:
        return []
    if sizes is None:
        sizes = np.geomspace(min(smallest, m), m, n_sizes).round().astype(int).tolist()
    return sorted({int(s) for s in sizes if 3 <= s < m} | {int(m)})


def selection_curve(
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    sizes: Sequence[int],
    by: str = "acc",
    n_boot: int = 500,
    n_random: int = 50,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """τ-b between ``x`` and ``y`` among N networks chosen three ways, for growing N (RQ i, ii).

    - ``"top"``: the N MOST accurate (:func:`top_n` on ``by``), with a bootstrap interval;
    - ``"random"``: N drawn at random, mean and ``level`` band over ``n_random`` draws
      (:func:`tau_vs_population`): the spread a study of N networks would see;
    - ``"lowest"``: the N LEAST accurate (:func:`lowest_n`), the selection the reference study's
      code made when it meant the top N, with a bootstrap interval.

    Parameters
    ----------
    df : DataFrame
        Rows complete in ``x``, ``y`` and ``by`` are used.
    x, y : str
        Columns to correlate.
    sizes : sequence of int
        Population sizes, each in [3, complete rows] (see :func:`population_sizes`).
    by : str, default="acc"
        Ranking column.
    n_boot : int, default=500
        Bootstrap resamples of the top and lowest intervals.
    n_random : int, default=50
        Random draws per size.
    level, seed
        As in :func:`~calstudy.stats.kendall_ci`.

    Returns
    -------
    DataFrame
        Columns ``selection, size, tau_mean, low, high``: ``tau_mean`` is τ-b on the selected
        rows (the mean over draws for ``"random"``), as :func:`tau_vs_population` writes it.
    """
    check_columns(df, [x, y, by])
    complete = df.dropna(subset=list(dict.fromkeys([x, y, by])))
    common = {"sizes": sizes, "level": level, "seed": seed}
    parts = {
        "top": tau_vs_population(complete, x, y, subset="top", by=by, n_repeats=n_boot, **common),
        "random": tau_vs_population(complete, x, y, subset="random", n_repeats=n_random, **common),
    }
    lowest = []
    for s in sizes:
        chosen = lowest_n(complete, int(s), by=by)
        r = kendall_ci(chosen[x], chosen[y], n_boot=n_boot, level=level, seed=seed)
        lowest.append({"size": int(s), "tau_mean": r.tau, "low": r.low, "high": r.high})
    parts["lowest"] = pd.DataFrame(lowest, columns=["size", "tau_mean", "low", "high"])
    return pd.concat(parts, names=["selection"]).reset_index(level=0).reset_index(drop=True)


def columns_with_values(df: pd.DataFrame, columns: Sequence[str], min_rows: int) -> list[str]:
    """Columns of ``df`` among ``columns`` holding at least ``min_rows`` values."""
    return [c for c in columns if c in df.columns and int(df[c].notna().sum()) >= min_rows]
