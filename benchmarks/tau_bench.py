"""Benchmark: Kendall τ-b with intervals at paper scale, bootstrap path against ``"auto"``.

The paper's cells hold n = 15,625 (TSS) to 32,768 (SSS) networks per (space, dataset), and
every τ in the book carries an interval. Until issue 14 each interval was a percentile
bootstrap: ``n_boot`` calls of :func:`scipy.stats.kendalltau`, seconds per τ at that n. With
``method="auto"`` (the default) :func:`calstudy.analysis.kendall_ci` and the functions built
on it switch to the asymptotic interval from ``TAU_ASYMPTOTIC_MIN_N`` = 2,000 complete pairs.

Both paths are timed in the same run, on the same data:

* **reference**: ``method="bootstrap"`` forced, i.e. the code before issue 14 (unchanged), and
  ``DataFrame.corr(method="kendall")`` for the τ matrix (what ``tau_matrix`` called before).
* **ours**: the default ``method="auto"``, and ``tau_matrix`` as it is now.

Workload per n (seeded): an ECE-like continuous column and an accuracy-like column with ties
(rounded to 1e-4, as on a 10,000-image test set), τ ≈ -0.3; for differences a third column;
for the agreement of several estimators ``--columns`` correlated columns.

* ``kendall_ci``: one interval, ``--n-boot`` resamples on the bootstrap path.
* ``tau_difference``: a paired difference of two τ sharing a column, ``--n-boot`` resamples.
* ``mean_tau_difference``: mean pairwise τ of ``--columns`` columns after against before a
  perturbation (RQ iii's "does scaling change the agreement?"). Its bootstrap recomputes
  k(k-1)/2 τ per resample, so the reference runs ``--agreement-boot`` resamples and its time
  for ``--n-boot`` resamples is projected linearly (marked "projected"); below the threshold
  "auto" is that same bootstrap and is not rerun.
* ``tau_matrix``: ``--matrix-columns`` columns, τ only.

Each timing is one run (the bootstrap ones take seconds to minutes); the ratio is reference
time / ours. The script also prints how far the asymptotic interval's ends are from the
bootstrap's, in units of the bootstrap half-width. It always exits 0.

Run: ``.venv/bin/python benchmarks/tau_bench.py`` (about 3 minutes on 2 CPU cores);
``--sizes 2000 --n-boot 100 --matrix-columns 10`` for a quick smoke run.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import scipy

from calstudy import analysis


def make_data(n: int, k: int, *, seed: int) -> pd.DataFrame:
    """``ece``, ``acc`` (ties), ``ksce`` and ``k`` estimator columns ``m0..`` over ``n`` rows."""
    rng = np.random.default_rng(seed)
    quality = rng.normal(size=n)
    acc = np.round(0.9 + 0.02 * quality + 0.01 * rng.normal(size=n), 4)  # ties: 1e-4 grid
    ece = np.exp(-3.0 - 0.3 * quality + 0.5 * rng.normal(size=n))
    ksce = ece * np.exp(0.3 * rng.normal(size=n))
    common = rng.normal(size=(n, 1))
    estimators = common + 0.8 * rng.normal(size=(n, k))
    columns = {"ece": ece, "acc": acc, "ksce": ksce}
    columns.update({f"m{j}": estimators[:, j] for j in range(k)})
    return pd.DataFrame(columns)


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """Seconds one call of ``fn(*args, **kwargs)`` takes, and its result."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def row(name: str, n: int, reference: float, ours: float, note: str = "") -> None:
    ratio = reference / ours if ours > 0 else float("inf")
    print(f"{name:<22} {n:>7,} {reference:>12.3f} {ours:>10.3f} {ratio:>9.0f}x  {note}")


def ends_apart(auto: Any, boot: Any) -> str:
    half = (boot.high - boot.low) / 2
    apart = max(abs(auto.low - boot.low), abs(auto.high - boot.high)) / half
    return f"ends {apart:.2f} half-widths apart"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 15_625, 32_768])
    parser.add_argument("--n-boot", type=int, default=500, help="resamples (the chapters': 500)")
    parser.add_argument("--columns", type=int, default=12, help="estimators of the agreement")
    parser.add_argument("--agreement-boot", type=int, default=10)
    parser.add_argument("--matrix-columns", type=int, default=100)
    parser.add_argument("--matrix-n", type=int, default=15_625)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    print(
        f"# tau_bench: Python {platform.python_version()}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, pandas {pd.__version__}; n_boot = {args.n_boot}, "
        f"asymptotic from n = {analysis.TAU_ASYMPTOTIC_MIN_N:,}"
    )
    print(f"{'function':<22} {'n':>7} {'reference s':>12} {'ours s':>10} {'ratio':>10}")
    boot = {"method": "bootstrap", "n_boot": args.n_boot}
    auto = {"n_boot": args.n_boot}
    for n in args.sizes:
        df = make_data(n, args.columns, seed=args.seed)
        t_ref, r_ref = timed(analysis.kendall_ci, df["ece"], df["acc"], **boot)
        t_new, r_new = timed(analysis.kendall_ci, df["ece"], df["acc"], **auto)
        note = f"[{r_new.method}] tau = {r_new.tau:+.3f}"
        if r_new.method != r_ref.method:
            note += "; " + ends_apart(r_new, r_ref)
        row("kendall_ci", n, t_ref, t_new, note)

        columns = (df["ece"], df["acc"], df["ksce"], df["acc"])
        t_ref, d_ref = timed(analysis.tau_difference, *columns, **boot)
        t_new, d_new = timed(analysis.tau_difference, *columns, **auto)
        note = f"[{d_new.test}]"
        if d_new.test != d_ref.test:
            note += " " + ends_apart(d_new, d_ref)
        row("tau_difference", n, t_ref, t_new, note)

        names = [f"m{j}" for j in range(args.columns)]
        noise = np.random.default_rng(args.seed + 1).normal(size=(n, len(names)))
        after, before = df[names] + 0.5 * noise, df[names]
        few = {"method": "bootstrap", "n_boot": args.agreement_boot}
        t_ref, _ = timed(analysis.mean_tau_difference, after, before, names, **few)
        t_ref *= args.n_boot / args.agreement_boot
        note = f"k = {args.columns}; reference projected from {args.agreement_boot} resamples"
        if n < analysis.TAU_ASYMPTOTIC_MIN_N:  # "auto" is the same bootstrap: not rerun
            row("mean_tau_difference", n, t_ref, t_ref, f"[bootstrap, same code] {note}")
        else:
            t_new, m_new = timed(analysis.mean_tau_difference, after, before, names, **auto)
            row("mean_tau_difference", n, t_ref, t_new, f"[{m_new.test}] {note}")

    matrix = make_data(args.matrix_n, args.matrix_columns, seed=args.seed)
    names = [f"m{j}" for j in range(args.matrix_columns)]
    t_ref, m_ref = timed(matrix[names].corr, method="kendall", min_periods=3)
    t_new, m_new = timed(analysis.tau_matrix, matrix, names)
    apart = float(np.max(np.abs(m_ref.to_numpy() - m_new.to_numpy())))
    row(
        "tau_matrix",
        args.matrix_n,
        t_ref,
        t_new,
        f"{args.matrix_columns} columns, max |ours - pandas| = {apart:.1e}",
    )


if __name__ == "__main__":
    main()
