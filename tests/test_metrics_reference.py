"""Cross-checks of calstudy.metrics against independent implementations.

Each library's binning convention, and where it differs from ours (module docstring of
:mod:`calstudy.metrics`: equal-width bins :math:`[0, 1/n], (1/n, 2/n], \\dots` with edges
``b / n``; equal-mass bins of sizes differing by at most one, ties broken by correctness):

* torchmetrics ``multiclass_calibration_error``: ``torch.bucketize(conf, linspace(0, 1, n+1),
  right=True) - 1``, i.e. bins :math:`[b/n, (b+1)/n)`: a value on an edge goes to the *upper*
  bin, and confidence 1.0 gets a bucket of its own (index ``n``), weighted like any bin.
* netcal ``ECE``/``MCE`` (``equal_intervals=True``): ``np.histogramdd`` on ``linspace`` edges,
  bins :math:`[b/n, (b+1)/n)` with the last closed: edges go up, 1.0 is in the last bin.
  ``equal_intervals=False`` cuts at ``np.quantile`` (linear interpolation) of the confidences:
  same bins as ours when :math:`N` is a multiple of :math:`n` and confidences are distinct.
* uncertainty-calibration (``calibration``) ``get_ece``: edges ``i / n`` searched with
  ``side="left"``, bins :math:`(b/n, (b+1)/n]`, first containing 0: *identical* to ours.
  ``get_ece_em`` and the debiased estimator cut ``np.array_split`` groups of the sorted
  confidences at mid-points between neighbours, so tied values stay together in the lower bin
  (ours may split a tie). ``mode="marginal"`` with ``p=1`` is the mean over classes of the
  per-class ECE, our classwise ECE.
* sklearn ``calibration_curve(strategy="uniform")``: ``searchsorted(linspace(0, 1, n+1)[1:-1],
  prob)``, bins :math:`(b/n, (b+1)/n]` like ours, except that ``linspace`` edges such as
  ``0.6000000000000001`` are one ulp off ``b / n``; empty bins are dropped.
* relplot ``smECE``: reflected Gaussian with a single reflection on each side, kernel truncated
  at +-0.5, a >= 200-point mesh summed with full end-point weight, bandwidth bisected 10 times
  on [0, 1]; agrees with our exact-reflection DCT to ~1e-3 on continuous confidences, ~5e-3
  with atoms at 0 and 1.
* netcal reads ``labels`` with at most two distinct values as binary outcomes, not classes.
* netcal ``MMCE``: Laplacian kernel :math:`e^{-2.5|r_i - r_j|}`, square root of the V-statistic:
  identical definition.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from calstudy.metrics import (
    auroc,
    bin_stats,
    cw_ece,
    cw_ece_em,
    debiased_l2_ece,
    ece,
    ece_em,
    mce,
    mmce,
    smooth_ece,
    to_confidences,
    to_probs,
)

cal = pytest.importorskip("calibration")
netcal_metrics = pytest.importorskip("netcal.metrics")
relplot = pytest.importorskip("relplot")
tm_cls = pytest.importorskip("torchmetrics.functional.classification")
sk_calibration = pytest.importorskip("sklearn.calibration")
sk_metrics = pytest.importorskip("sklearn.metrics")


def random_problem(n: int, k: int, *, seed: int = 0, scale: float = 3.0):
    rng = np.random.default_rng(seed)
    probs = to_probs(scale * rng.standard_normal((n, k)))
    labels = rng.integers(0, k, n)
    half = rng.random(n) < 0.6
    labels[half] = probs[half].argmax(axis=1)
    return probs, labels


# Rows whose top confidence sits exactly on 0.2/0.4/0.6/0.8 edges or at 1, plus zeros in the
# other columns: the adversarial cases for bin placement.
EDGE_ROWS = np.array(
    [
        [1.0, 0.0, 0.0, 0.0, 0.0],
        [0.4, 0.3, 0.3, 0.0, 0.0],
        [0.2, 0.2, 0.2, 0.2, 0.2],
        [0.6, 0.4, 0.0, 0.0, 0.0],
        [0.8, 0.2, 0.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0, 0.0],
    ]
)


def adversarial_problem(n: int, *, seed: int = 0):
    rng = np.random.default_rng(seed)
    probs = EDGE_ROWS[rng.integers(0, EDGE_ROWS.shape[0], n)]
    labels = rng.integers(0, 5, n)
    return probs, labels


def tm_error(probs, labels, n_bins: int, norm: str) -> float:
    return float(
        tm_cls.multiclass_calibration_error(
            torch.from_numpy(probs),
            torch.from_numpy(labels),
            num_classes=probs.shape[1],
            n_bins=n_bins,
            norm=norm,
        )
    )


# --------------------------------------------------------------------------------------------
# torchmetrics
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_bins", [5, 15, 100])
@pytest.mark.parametrize("seed", [0, 1])
def test_torchmetrics_agrees_on_continuous_inputs(n_bins: int, seed: int) -> None:
    probs, labels = random_problem(1500, 10, seed=seed)
    assert ece(probs, labels, n_bins=n_bins) == pytest.approx(
        tm_error(probs, labels, n_bins, "l1"), abs=1e-6
    )
    assert mce(probs, labels, n_bins=n_bins) == pytest.approx(
        tm_error(probs, labels, n_bins, "max"), abs=1e-6
    )


def test_torchmetrics_puts_edges_in_the_upper_bin() -> None:
    # conf 0.4 right and 0.5 wrong, n_bins = 5.
    # Ours: 0.4 in (0.2, 0.4], 0.5 in (0.4, 0.6]: (|1 - 0.4| + |0 - 0.5|) / 2 = 0.55.
    # torchmetrics: both in [0.4, 0.6): acc 1/2, conf 0.45 -> 0.05.
    probs = np.array([[0.4, 0.3, 0.3], [0.5, 0.25, 0.25]])
    labels = np.array([0, 1])
    assert ece(probs, labels, n_bins=5) == pytest.approx(0.55, abs=1e-12)
    assert tm_error(probs, labels, 5, "l1") == pytest.approx(0.05, abs=1e-6)


def test_torchmetrics_gives_confidence_one_its_own_bin() -> None:
    # conf 1.0 right and 0.9 wrong, n_bins = 5.
    # Ours: one bin (0.8, 1]: acc 1/2, conf 0.95 -> ECE 0.45, MCE 0.45.
    # torchmetrics: 1.0 alone in bucket 5 (error 0), 0.9 alone (error 0.9): ECE 0.45, MCE 0.9.
    probs = np.array([[1.0, 0.0], [0.9, 0.1]])
    labels = np.array([0, 1])
    assert ece(probs, labels, n_bins=5) == pytest.approx(0.45, abs=1e-12)
    assert mce(probs, labels, n_bins=5) == pytest.approx(0.45, abs=1e-12)
    assert tm_error(probs, labels, 5, "max") == pytest.approx(0.9, abs=1e-6)


# --------------------------------------------------------------------------------------------
# netcal
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_bins", [5, 15, 50])
def test_netcal_equal_width_agrees_on_continuous_inputs(n_bins: int) -> None:
    probs, labels = random_problem(1200, 10, seed=2)
    assert ece(probs, labels, n_bins=n_bins) == pytest.approx(
        netcal_metrics.ECE(bins=n_bins).measure(probs, labels), abs=1e-12
    )
    assert mce(probs, labels, n_bins=n_bins) == pytest.approx(
        netcal_metrics.MCE(bins=n_bins).measure(probs, labels), abs=1e-12
    )


@pytest.mark.parametrize("n_bins", [5, 15, 50])
def test_netcal_equal_mass_agrees_when_n_divides_evenly(n_bins: int) -> None:
    # N = 1500 is a multiple of every n here, so quantile cuts fall between the same samples.
    probs, labels = random_problem(1500, 10, seed=3)
    expected = netcal_metrics.ECE(bins=n_bins, equal_intervals=False).measure(probs, labels)
    assert ece_em(probs, labels, n_bins=n_bins) == pytest.approx(expected, abs=1e-12)


def test_netcal_equal_mass_differs_on_uneven_split() -> None:
    # netcal reads labels with <= 2 distinct values as binary outcomes, so use three classes.
    # Confidences 0.6 right, 0.7 wrong, 0.9 right; N = 3, n = 2.
    # Ours: groups {0.6, 0.7} | {0.9} (larger first): |1 - 1.3|/3 + |1 - 0.9|/3 = 0.4/3.
    # netcal: quantile cut at the median 0.7 with [lo, hi) bins -> {0.6} | {0.7, 0.9}:
    #   |1 - 0.6|/3 + |1 - 1.6|/3 = 1.0/3.
    probs = np.array([[0.6, 0.2, 0.2], [0.7, 0.2, 0.1], [0.05, 0.9, 0.05]])
    labels = np.array([0, 2, 1])
    assert ece_em(probs, labels, n_bins=2) == pytest.approx(0.4 / 3, abs=1e-12)
    netcal_value = netcal_metrics.ECE(bins=2, equal_intervals=False).measure(probs, labels)
    assert netcal_value == pytest.approx(1.0 / 3, abs=1e-12)


def test_netcal_equal_width_puts_edges_in_the_upper_bin() -> None:
    # conf 0.4 right, 0.5 wrong, 0.9 wrong (three labels: see above), n_bins = 5.
    # Ours: 0.4 in (0.2, 0.4], 0.5 in (0.4, 0.6], 0.9 alone: (0.6 + 0.5 + 0.9) / 3 = 2/3.
    # netcal: 0.4 and 0.5 share [0.4, 0.6): |1 - 0.9| = 0.1; plus 0.9: (0.1 + 0.9) / 3 = 1/3.
    probs = np.array([[0.4, 0.3, 0.3], [0.5, 0.25, 0.25], [0.9, 0.05, 0.05]])
    labels = np.array([0, 1, 2])
    assert netcal_metrics.ECE(bins=5).measure(probs, labels) == pytest.approx(1 / 3, abs=1e-12)
    assert ece(probs, labels, n_bins=5) == pytest.approx(2 / 3, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_netcal_mmce_identical(seed: int) -> None:
    probs, labels = random_problem(800, 6, seed=seed)
    assert mmce(probs, labels) == pytest.approx(
        netcal_metrics.MMCE().measure(probs, labels), abs=1e-12
    )
    probs, labels = adversarial_problem(300, seed=seed)
    assert mmce(probs, labels) == pytest.approx(
        netcal_metrics.MMCE().measure(probs, labels), abs=1e-12
    )


# --------------------------------------------------------------------------------------------
# uncertainty-calibration
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_bins", [5, 10, 15])
@pytest.mark.parametrize("kind", ["random", "adversarial"])
def test_uncertainty_calibration_equal_width_identical(n_bins: int, kind: str) -> None:
    # Same convention (x <= b/n goes to the lower bin), so even edge values agree.
    probs, labels = (
        random_problem(1000, 5, seed=4) if kind == "random" else adversarial_problem(500, seed=4)
    )
    assert ece(probs, labels, n_bins=n_bins) == pytest.approx(
        cal.get_ece(probs, labels, num_bins=n_bins), abs=1e-12
    )
    assert cw_ece(probs, labels, n_bins=n_bins) == pytest.approx(
        cal.get_ece(probs, labels, num_bins=n_bins, mode="marginal"), abs=1e-12
    )


@pytest.mark.parametrize("n_bins", [5, 15, 37])
def test_uncertainty_calibration_equal_mass_on_distinct_values(n_bins: int) -> None:
    probs, labels = random_problem(1003, 5, seed=5)
    assert ece_em(probs, labels, n_bins=n_bins) == pytest.approx(
        cal.get_ece_em(probs, labels, num_bins=n_bins), abs=1e-12
    )
    assert cw_ece_em(probs, labels, n_bins=n_bins) == pytest.approx(
        cal.get_ece_em(probs, labels, num_bins=n_bins, mode="marginal"), abs=1e-12
    )


def test_uncertainty_calibration_equal_mass_keeps_ties_together() -> None:
    # Four at 0.7 (two wrong, two right), n = 2.
    # Ours splits the tie by correctness: |0 - 1.4|/4 + |2 - 1.4|/4 = 0.5.
    # calibration: both groups cut at (0.7 + 0.7)/2 = 0.7, all four land in one bin:
    #   |2 - 2.8| / 4 = 0.2.
    probs = np.array([[0.7, 0.3]] * 4)
    labels = np.array([1, 1, 0, 0])
    assert ece_em(probs, labels, n_bins=2) == pytest.approx(0.5, abs=1e-12)
    assert cal.get_ece_em(probs, labels, num_bins=2) == pytest.approx(0.2, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_uncertainty_calibration_debiased_l2_identical(seed: int) -> None:
    probs, labels = random_problem(2000, 10, seed=seed)
    expected = cal.get_calibration_error(probs, labels, p=2, debias=True, mode="top-label")
    assert debiased_l2_ece(probs, labels) == pytest.approx(expected, abs=1e-12)
    expected_30 = cal.lower_bound_scaling_ce(
        probs, labels, p=2, debias=True, num_bins=30, mode="top-label"
    )
    assert debiased_l2_ece(probs, labels, n_bins=30) == pytest.approx(expected_30, abs=1e-12)


# --------------------------------------------------------------------------------------------
# relplot
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relplot_smece_agrees(seed: int) -> None:
    # relplot bisects sigma only to 2^-10 and smooths on a 200-point mesh; we solve to 1e-9
    # with exact reflections, so agreement is to about 1e-3.
    probs, labels = random_problem(2000, 10, seed=seed)
    conf, correct = to_confidences(probs, labels)
    assert smooth_ece(probs, labels) == pytest.approx(relplot.smECE(conf, correct), abs=2e-3)


def test_relplot_smece_agrees_on_adversarial_inputs() -> None:
    # Atoms at 0, 1 and on bin edges. relplot sums its mesh with full weight at the end points
    # (where the reflected density of an atom at 0 or 1 peaks) and truncates its kernel at
    # +-0.5, so it drifts further from the exact reflected kernel: about 5e-3 here.
    probs, labels = adversarial_problem(1000, seed=6)
    hit = np.random.default_rng(0).random(1000) < 0.7
    labels[hit] = probs[hit].argmax(axis=1)
    conf, correct = to_confidences(probs, labels)
    assert smooth_ece(probs, labels) == pytest.approx(relplot.smECE(conf, correct), abs=1e-2)
    assert smooth_ece(probs, labels, sigma=0.05) == pytest.approx(
        relplot.smECE_sigma(conf, correct, 0.05), abs=5e-3
    )


# --------------------------------------------------------------------------------------------
# sklearn
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_bins", [5, 10, 20])
@pytest.mark.parametrize("kind", ["random", "adversarial"])
def test_sklearn_calibration_curve_matches_bin_stats(n_bins: int, kind: str) -> None:
    rng = np.random.default_rng(n_bins)
    if kind == "random":
        prob = rng.random(700)
    else:  # exactly on 0.2/0.4/0.6/0.8 (ours and sklearn's edges agree there), 0 and 1
        prob = rng.choice([0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 0.5], 700)
    y = (rng.random(700) < prob).astype(int)
    prob_true, prob_pred = sk_calibration.calibration_curve(y, prob, n_bins=n_bins)
    s = bin_stats(prob, y, n_bins=n_bins)
    nonempty = s.count > 0
    np.testing.assert_allclose(s.acc[nonempty], prob_true, atol=1e-12)
    np.testing.assert_allclose(s.conf[nonempty], prob_pred, atol=1e-12)


def test_sklearn_linspace_edge_is_one_ulp_off() -> None:
    # linspace(0, 1, 6)[3] == 0.6000000000000001; our edge is 3/5 == 0.6. A confidence of
    # 0.6000000000000001 is in (0.6, 0.8] for us and in the bin ending at it for sklearn.
    x = 0.6000000000000001
    assert np.linspace(0, 1, 6)[3] == x
    assert bin_stats([x], [1], n_bins=5).count.tolist() == [0, 0, 0, 1, 0]
    _, prob_pred = sk_calibration.calibration_curve([1, 0], [x, 0.7], n_bins=5)
    assert prob_pred.tolist() == [x, 0.7]  # sklearn: two bins; ours would pool them


@pytest.mark.parametrize("ties", [False, True])
def test_auroc_matches_sklearn(ties: bool) -> None:
    rng = np.random.default_rng(int(ties))
    s_in = rng.random(300)
    s_out = rng.random(200) * 0.8
    if ties:
        s_in, s_out = np.round(s_in, 1), np.round(s_out, 1)
    y = np.r_[np.ones(300), np.zeros(200)]
    expected = sk_metrics.roc_auc_score(y, np.r_[s_in, s_out])
    assert auroc(s_in, s_out) == pytest.approx(expected, abs=1e-12)
