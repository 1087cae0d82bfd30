"""Benchmark: one ``full_record`` against the same numbers from reference libraries.

The workload is one network's test set as in the paper: 10,000 predictions over 100 classes
(CIFAR-100 size), moderately overconfident. Both sides compute the paper's 100 metric columns:
pre-scaling on all predictions, temperature fitted on a held-out 20 %, post-scaling on the
other 80 %.

* **ours**: ``calstudy.catalogue.full_record(logits, labels, metrics=<paper names>)``; all 90
  bin-based columns come from two ``binned_errors`` calls.
* **reference**: one library call per metric and bin count --
  ``ECE_n`` / ``MCE_n``: torchmetrics ``multiclass_calibration_error`` (norm ``l1`` / ``max``);
  ``ECE_em_n``: netcal ``ECE(bins=n, equal_intervals=False)``;
  ``cwCE_n`` / ``cwCE_em_n``: uncertainty-calibration ``get_ece`` / ``get_ece_em`` with
  ``mode="marginal"``; ``MMCE``: netcal ``MMCE``; ``NLL``: torch ``nll_loss``; and, where no
  library offers one, a straightforward per-call implementation written here: ``KSCE``
  (Gupta et al. 2021: sort, cumulative sums), ``KDECE`` (direct O(N^2) leave-one-out Beta
  kernel sums at the bandwidth ``kdece`` selected: the reference skips bandwidth selection, so
  its time is a *lower bound*), ``Brier`` (numpy); temperature by
  ``scipy.optimize.minimize_scalar`` on the torch cross-entropy.

Everything runs on one CPU thread (``*_NUM_THREADS=1`` before numpy is imported,
``torch.set_num_threads(1)``); each side is timed best of ``--repeats``. Goal: ``full_record``
at least 20x faster than the reference and under 1 s. The script prints the figures, the
agreement between the two sides and a breakdown of our time, and always exits 0.

Run: ``.venv/bin/python benchmarks/metrics_bench.py`` (``make bench``).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.optimize  # noqa: E402
import torch  # noqa: E402
from scipy import special  # noqa: E402

torch.set_num_threads(1)

from calstudy import metrics  # noqa: E402
from calstudy.calibrate import fit_temperature, heldout_split  # noqa: E402
from calstudy.catalogue import BIN_COUNTS, CATALOGUE, full_record  # noqa: E402

GOAL_SPEEDUP = 20.0
GOAL_SECONDS = 1.0


def make_data(n: int, k: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Logits whose labels follow softmax(logits / 1.5): overconfident, T* about 1.5."""
    rng = np.random.default_rng(seed)
    true_logits = 2.0 * rng.standard_normal((n, k))
    labels = (true_logits + rng.gumbel(size=(n, k))).argmax(axis=1)  # Gumbel-max sampling
    return 1.5 * true_logits, labels


# ── reference implementations, one call per metric and bin count ─────────────────────────────


def ref_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    z, y = torch.from_numpy(logits), torch.from_numpy(labels)

    def loss(t: float) -> float:
        return float(torch.nn.functional.cross_entropy(z / t, y))

    return float(scipy.optimize.minimize_scalar(loss, bounds=(0.05, 20.0), method="bounded").x)


def ref_ksce(probs: np.ndarray, labels: np.ndarray) -> float:
    conf = probs.max(axis=1)
    order = np.argsort(conf, kind="stable")
    correct = (probs.argmax(axis=1) == labels)[order]
    return float(np.max(np.abs(np.cumsum(correct - conf[order]) / len(conf))))


def ref_kdece(probs: np.ndarray, labels: np.ndarray, *, bandwidth: float) -> float:
    """Leave-one-out Beta-kernel regression of accuracy on confidence, O(N^2) in chunks."""
    z = np.clip(probs.max(axis=1), 1e-10, 1 - 1e-10)
    correct = (probs.argmax(axis=1) == labels).astype(np.float64)
    a, b = z / bandwidth + 1, (1 - z) / bandwidth + 1
    log_norm = special.betaln(a, b)
    ratio = np.empty_like(z)
    for s in range(0, len(z), 1000):
        rows = slice(s, s + 1000)
        log_k = (
            np.log(z[rows])[:, None] * (a - 1) + np.log1p(-z[rows])[:, None] * (b - 1) - log_norm
        )
        log_k[np.arange(log_k.shape[0]), np.arange(s, s + log_k.shape[0])] = -np.inf
        k = np.exp(log_k - log_k.max(axis=1, keepdims=True))
        ratio[rows] = (k @ correct) / k.sum(axis=1)
    return float(np.mean(np.abs(ratio - z)))


def ref_stage(probs: np.ndarray, labels: np.ndarray, *, kde_bandwidth: float) -> dict[str, float]:
    import calibration
    from netcal.metrics import ECE, MMCE
    from torchmetrics.functional.classification import multiclass_calibration_error

    p_t, y_t = torch.from_numpy(probs), torch.from_numpy(labels)
    k = probs.shape[1]
    out: dict[str, float] = {}
    for n in BIN_COUNTS:
        for norm, name in (("l1", "ECE"), ("max", "MCE")):
            value = multiclass_calibration_error(p_t, y_t, num_classes=k, n_bins=n, norm=norm)
            out[f"{name}_{n}"] = float(value)
        out[f"ECE_em_{n}"] = float(ECE(bins=n, equal_intervals=False).measure(probs, labels))
        out[f"cwCE_{n}"] = float(calibration.get_ece(probs, labels, num_bins=n, mode="marginal"))
        out[f"cwCE_em_{n}"] = float(
            calibration.get_ece_em(probs, labels, num_bins=n, mode="marginal")
        )
    out["KSCE"] = ref_ksce(probs, labels)
    out["KDECE"] = ref_kdece(probs, labels, bandwidth=kde_bandwidth)
    out["MMCE"] = float(MMCE().measure(probs, labels))
    out["NLL"] = float(torch.nn.functional.nll_loss(torch.log(p_t), y_t))
    out["Brier"] = float(np.mean(np.sum((probs - np.eye(k)[labels]) ** 2, axis=1)))
    return out


def reference_record(
    logits: np.ndarray, labels: np.ndarray, *, bandwidths: tuple[float, float]
) -> dict[str, float]:
    fit_idx, eval_idx = heldout_split(len(labels), frac=0.2, seed=0)
    probs = metrics.to_probs(logits)
    temperature = ref_temperature(logits[fit_idx], labels[fit_idx])
    post_probs = metrics.to_probs(logits[eval_idx] / temperature)
    pre = ref_stage(probs, labels, kde_bandwidth=bandwidths[0])
    post = ref_stage(post_probs, labels[eval_idx], kde_bandwidth=bandwidths[1])
    record = {"temperature": temperature}
    for name in pre:
        record[f"pre_{name}"], record[f"post_{name}"] = pre[name], post[name]
    return record


# ── timing ───────────────────────────────────────────────────────────────────────────────────


def best_of(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of predictions")
    parser.add_argument("--k", type=int, default=100, help="number of classes")
    parser.add_argument("--repeats", type=int, default=3, help="timing repeats (best of)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    logits, labels = make_data(args.n, args.k, seed=args.seed)
    paper = [name for name, metric in CATALOGUE.items() if metric.paper]
    print(
        f"N={args.n} K={args.k}, {len(paper) * 2} paper columns, one thread, best of "
        f"{args.repeats}; python {platform.python_version()}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, torch {torch.__version__}, {os.cpu_count()} CPUs "
        f"({platform.processor() or platform.machine()})"
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_ours, ours = best_of(lambda: full_record(logits, labels, metrics=paper), args.repeats)

        # Bandwidths kdece selects, so the reference KDECE estimates the same quantity.
        fit_idx, eval_idx = heldout_split(len(labels), frac=0.2, seed=0)
        post_probs = metrics.to_probs(logits[eval_idx] / ours["temperature"])
        bandwidths = tuple(
            metrics.kde_bandwidth(np.clip(p.max(axis=1), 1e-10, 1 - 1e-10))
            for p in (metrics.to_probs(logits), post_probs)
        )
        t_ref, ref = best_of(
            lambda: reference_record(logits, labels, bandwidths=bandwidths), args.repeats
        )

    print(f"\nours      full_record : {t_ours:8.3f} s")
    print(f"reference per call    : {t_ref:8.3f} s")
    ratio = t_ref / t_ours
    met = ratio >= GOAL_SPEEDUP and t_ours < GOAL_SECONDS
    print(
        f"speed-up              : {ratio:8.1f} x   goal >= {GOAL_SPEEDUP:.0f}x and < "
        f"{GOAL_SECONDS:.0f} s: {'MET' if met else 'NOT MET'}"
    )

    print("\nagreement |ours - reference| (max over bin counts, pre and post):")
    groups = {
        family: [f"{p}_{family}_{n}" for p in ("pre", "post") for n in BIN_COUNTS]
        for family in ("ECE", "ECE_em", "cwCE", "cwCE_em", "MCE")
    }
    groups |= {name: [f"pre_{name}", f"post_{name}"] for name in ("KSCE", "KDECE", "MMCE")}
    groups |= {name: [f"pre_{name}", f"post_{name}"] for name in ("NLL", "Brier")}
    groups["temperature"] = ["temperature"]
    for family, cols in groups.items():
        diff = max(abs(ours[c] - ref[c]) for c in cols)
        print(f"  {family:12s} {diff:.2e}")

    print("\nbreakdown of ours (one call each, pre stage, N predictions):")
    probs = metrics.to_probs(logits)
    parts: dict[str, Callable[[], object]] = {
        "binned_errors (90 cols / 2)": lambda: metrics.binned_errors(probs, labels),
        "kdece": lambda: metrics.kdece(probs, labels),
        "mmce": lambda: metrics.mmce(probs, labels),
        "ksce": lambda: metrics.ksce(probs, labels),
        "nll + brier": lambda: (metrics.nll(probs, labels), metrics.brier(probs, labels)),
        "fit_temperature (20 %)": lambda: fit_temperature(logits[fit_idx], labels[fit_idx]),
    }
    for name, fn in parts.items():
        print(f"  {name:28s} {best_of(fn, args.repeats)[0]:7.3f} s")


if __name__ == "__main__":
    main()
