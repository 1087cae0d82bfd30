"""Tests for calstudy.metrics: hand-computed cases, properties, validation, vectorised paths."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from calstudy import metrics as M
from calstudy.metrics import (
    BIN_COUNTS,
    MAX_N_BINS,
    accuracy,
    auroc,
    bin_stats,
    binned_errors,
    bootstrap_ci,
    brier,
    confidence_split,
    cw_ece,
    cw_ece_em,
    debiased_l2_ece,
    ece,
    ece_em,
    kdece,
    ksce,
    mce,
    mmce,
    nll,
    smooth_ece,
    to_confidences,
    to_probs,
)

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def binary(conf: list[float], correct: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Two-class probs whose top-label confidence is ``conf`` (>= 0.5) with given correctness."""
    c = np.asarray(conf, dtype=np.float64)
    probs = np.stack([c, 1.0 - c], axis=1)
    labels = np.where(np.asarray(correct) == 1, 0, 1)
    return probs, labels


def random_problem(n: int, k: int, *, seed: int = 0, scale: float = 3.0):
    rng = np.random.default_rng(seed)
    probs = to_probs(scale * rng.standard_normal((n, k)))
    labels = rng.integers(0, k, n)
    # Make about half the predictions right so every metric sees both outcomes.
    half = rng.random(n) < 0.5
    labels[half] = probs[half].argmax(axis=1)
    return probs, labels


def calibrated_sample(n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Binary top-label pairs with conf ~ U[0.5, 1] and correct ~ Bernoulli(conf)."""
    rng = np.random.default_rng(seed)
    conf = rng.uniform(0.5, 1.0, n)
    correct = (rng.random(n) < conf).astype(int)
    return binary(conf.tolist(), correct.tolist())


ECE_TYPE = [ece, ece_em, cw_ece, cw_ece_em, mce]


def test_doctests() -> None:
    result = doctest.testmod(M, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 20
    assert result.failed == 0


# --------------------------------------------------------------------------------------------
# Conversions
# --------------------------------------------------------------------------------------------


def test_to_probs_is_stable_softmax() -> None:
    # Logits 1000 apart would overflow a naive exp; shifted they give (1, e^-1000 = 0).
    p = to_probs([[1000.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(p, [[1.0, 0.0], [0.5, 0.5]], atol=0)
    assert p.dtype == np.float64


def test_to_probs_float32_input_gives_float64() -> None:
    logits = np.array([[0.0, math.log(3.0)]], dtype=np.float32)
    p = to_probs(logits)
    assert p.dtype == np.float64
    np.testing.assert_allclose(p, [[0.25, 0.75]], rtol=1e-6)


@pytest.mark.parametrize(
    ("logits", "match"),
    [
        ([[0.0, np.nan]], "Expected `logits` to be finite, got NaN"),
        ([[0.0, np.inf]], "Expected `logits` to be finite, got inf"),
        ([0.0, 1.0], r"Expected `logits` to be a 2-D array of shape \(N, K\), got shape \(2,\)"),
        (np.zeros((0, 3)), "Expected `logits` to be non-empty"),
    ],
)
def test_to_probs_rejects_bad_logits(logits, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        to_probs(logits)


def test_to_confidences_ties_go_to_lowest_class() -> None:
    conf, correct = to_confidences([[0.5, 0.5], [0.5, 0.5]], [0, 1])
    assert conf.tolist() == [0.5, 0.5]
    assert correct.tolist() == [1.0, 0.0]


# --------------------------------------------------------------------------------------------
# Hand-computed binned estimators
# --------------------------------------------------------------------------------------------


def test_ece_hand_case() -> None:
    # conf 0.55 right, 0.65 wrong, 0.95 right, 0.95 wrong, 1.0 right; n_bins = 5.
    # Bin (0.4, 0.6]: {0.55 ok}  |acc - conf| = 0.45, weight 1/5.
    # Bin (0.6, 0.8]: {0.65 x}   |0 - 0.65| = 0.65, weight 1/5.
    # Bin (0.8, 1.0]: {0.95 ok, 0.95 x, 1.0 ok}: acc 2/3, conf 2.9/3, |diff| = 0.9/3 = 0.3,
    #                 weight 3/5.
    # ECE = (0.45 + 0.65 + 0.9) / 5 = 2.0 / 5 = 0.4;  MCE = 0.65.
    probs, labels = binary([0.55, 0.65, 0.95, 0.95, 1.0], [1, 0, 1, 0, 1])
    assert ece(probs, labels, n_bins=5) == pytest.approx(0.4, abs=1e-12)
    assert mce(probs, labels, n_bins=5) == pytest.approx(0.65, abs=1e-12)


def test_edges_go_to_the_lower_bin_and_zero_one_are_included() -> None:
    # Three-class rows so confidences can be 0.2, 0.4 and 1.0 exactly.
    # n_bins=5: 0.4 is the right edge of bin (0.2, 0.4]; 1.0 is in (0.8, 1.0].
    probs = np.array([[0.4, 0.3, 0.3], [0.4, 0.35, 0.25], [1.0, 0.0, 0.0]])
    labels = np.array([0, 1, 0])
    s = bin_stats(*to_confidences(probs, labels), n_bins=5)
    assert s.count.tolist() == [0, 2, 0, 0, 1]
    # Bin (0.2, 0.4]: acc 1/2, conf 0.4 -> 0.1 * 2/3; bin (0.8, 1]: 0.  ECE = 0.2/3.
    assert ece(probs, labels, n_bins=5) == pytest.approx(0.2 / 3, abs=1e-12)
    # A confidence of exactly 0 exists only for a column, so check the classwise path:
    # class 1 column (0.3, 0.35, 0.0): 0.0 in bin [0, 0.2], not dropped.
    s1 = bin_stats(probs[:, 1], labels == 1, n_bins=5)
    assert s1.count.tolist() == [1, 2, 0, 0, 0]


def test_edge_literal_six_tenths_in_bin_ending_at_it() -> None:
    # 3/5 in float64 is the literal 0.6, so 0.6 lies in (0.4, 0.6] (bin 2), not bin 3.
    s = bin_stats([0.6, 0.6000000000000001], [1, 1], n_bins=5)
    assert s.count.tolist() == [0, 0, 1, 1, 0]


def test_ece_em_hand_case_with_uneven_sizes() -> None:
    # Sorted conf: 0.5 x, 0.6 ok, 0.7 ok, 0.8 x, 0.9 ok; 2 bins of sizes 3 and 2 (larger first).
    # Bin 1: acc 2/3, conf 0.6 -> |diff| = 0.0667, weight 3/5; bin 2: acc 1/2, conf 0.85 -> 0.35,
    # weight 2/5.  ECE_em = |2 - 1.8|/5 + |1 - 1.7|/5 = 0.04 + 0.14 = 0.18.
    probs, labels = binary([0.9, 0.5, 0.8, 0.6, 0.7], [1, 0, 0, 1, 1])
    assert ece_em(probs, labels, n_bins=2) == pytest.approx(0.18, abs=1e-12)


def test_ece_em_ties_split_by_correctness() -> None:
    # Four samples at 0.7: two wrong, two right. Two bins: the wrong pair first, the right pair
    # second, whatever the input order: |0 - 1.4|/4 + |2 - 1.4|/4 = 0.35 + 0.15 = 0.5.
    for order in ([1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 0, 0]):
        probs, labels = binary([0.7] * 4, order)
        assert ece_em(probs, labels, n_bins=2) == pytest.approx(0.5, abs=1e-12)
    # With one bin the residuals cancel inside it: |2 - 2.8| / 4 = 0.2.
    assert ece_em(probs, labels, n_bins=1) == pytest.approx(0.2, abs=1e-12)


def test_ece_em_fewer_samples_than_bins_is_per_sample_error() -> None:
    # N = 3 < n = 10: each sample its own bin: mean |a - c| = (0.4 + 0.7 + 0.1) / 3 = 0.4.
    probs, labels = binary([0.6, 0.7, 0.9], [1, 0, 1])
    assert ece_em(probs, labels, n_bins=10) == pytest.approx(0.4, abs=1e-12)
    s = bin_stats(*to_confidences(probs, labels), n_bins=10, strategy="mass")
    assert s.count.tolist() == [1, 1, 1] + [0] * 7


def test_cw_ece_hand_case() -> None:
    # K = 3, N = 2, n_bins = 2 (bins [0, 0.5], (0.5, 1]).
    # p = (0.6, 0.3, 0.1) label 0; p = (0.2, 0.2, 0.6) label 2.
    # class 0: 0.6 in bin 2 with y=1 -> |1 - 0.6| = 0.4; 0.2 in bin 1 with y=0 -> 0.2.  Sum 0.6.
    # class 1: 0.3, 0.2 both bin 1, y = 0, 0 -> |0 - 0.5| = 0.5.
    # class 2: 0.1 bin 1 y=0 -> 0.1; 0.6 bin 2 y=1 -> 0.4.  Sum 0.5.
    # cwECE = (0.6 + 0.5 + 0.5) / (N K) = 1.6 / 6.
    probs = np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])
    labels = np.array([0, 2])
    assert cw_ece(probs, labels, n_bins=2) == pytest.approx(1.6 / 6, abs=1e-12)
    # Equal mass with 2 bins: each sample alone, so every class sums |p_k - y_k| over samples:
    # class 0: 0.4 + 0.2, class 1: 0.3 + 0.2, class 2: 0.1 + 0.4 -> 1.6 / 6 again.
    assert cw_ece_em(probs, labels, n_bins=2) == pytest.approx(1.6 / 6, abs=1e-12)
    # One bin: class 0 |1 - 0.8| = 0.2, class 1 |0 - 0.5| = 0.5, class 2 |1 - 0.7| = 0.3.
    assert cw_ece_em(probs, labels, n_bins=1) == pytest.approx(1.0 / 6, abs=1e-12)


def test_debiased_l2_hand_case() -> None:
    # Two equal-mass bins of 3 (sorted conf 0.6, 0.6, 0.6 | 0.9, 0.9, 0.9).
    # Bin 1: acc 1/3, conf 0.6: (0.6 - 1/3)^2 - (1/3)(2/3)/2 = 0.071111 - 0.111111 = -0.04.
    # Bin 2: acc 1, conf 0.9: 0.01 - 0 = 0.01.
    # Weighted: 0.5 * -0.04 + 0.5 * 0.01 = -0.015 -> clipped to 0.
    probs, labels = binary([0.6, 0.6, 0.6, 0.9, 0.9, 0.9], [1, 0, 0, 1, 1, 1])
    assert debiased_l2_ece(probs, labels, n_bins=2) == 0.0
    # Bin 1 all wrong: 0.36 - 0 = 0.36; bin 2: 0.01.  sqrt(0.5 * 0.37) = sqrt(0.185).
    probs, labels = binary([0.6, 0.6, 0.6, 0.9, 0.9, 0.9], [0, 0, 0, 1, 1, 1])
    assert debiased_l2_ece(probs, labels, n_bins=2) == pytest.approx(math.sqrt(0.185), abs=1e-12)


# --------------------------------------------------------------------------------------------
# Hand-computed bin-free estimators and scores
# --------------------------------------------------------------------------------------------


def test_ksce_hand_case() -> None:
    # Sorted: 0.6 ok, 0.7 x, 0.8 ok, 0.9 ok.  Cumulative (a - c): 0.4, -0.3, -0.1, 0.0.
    # KS = max |.| / 4 = 0.4 / 4 = 0.1.
    probs, labels = binary([0.9, 0.7, 0.6, 0.8], [1, 0, 1, 1])
    assert ksce(probs, labels) == pytest.approx(0.1, abs=1e-12)


def test_ksce_ignores_order_within_ties() -> None:
    # Ties at 0.8: (ok, x). Cumulative at the end of the tie run: 0.2 - 0.8 = -0.6; /2 = 0.3.
    # Positions inside the run (0.2 or -0.8) are not thresholds and must not count.
    probs, labels = binary([0.8, 0.8], [1, 0])
    assert ksce(probs, labels) == pytest.approx(0.3, abs=1e-12)


def test_mmce_hand_case() -> None:
    # r = (0.6, 0.8), a - r = (0.4, -0.8), k = exp(-0.2 / 0.4) = exp(-0.5).
    # MMCE^2 = (0.16 + 0.64 + 2 * 0.4 * -0.8 * exp(-0.5)) / 4.
    probs, labels = binary([0.6, 0.8], [1, 0])
    expected = math.sqrt((0.16 + 0.64 - 0.64 * math.exp(-0.5)) / 4)
    assert mmce(probs, labels) == pytest.approx(expected, abs=1e-14)


def mmce_direct(conf: np.ndarray, correct: np.ndarray, w: float) -> float:
    d = correct - conf
    k = np.exp(-np.abs(conf[:, None] - conf[None, :]) / w)
    return math.sqrt(max(0.0, float(d @ k @ d))) / conf.shape[0]


@pytest.mark.parametrize("bandwidth", [0.4, 0.05, 1e-3, 1e-4])
def test_mmce_recursion_equals_direct_formula(bandwidth: float) -> None:
    # Small widths force several overflow-safe blocks in the recursion (600 w < 1).
    probs, labels = random_problem(700, 5, seed=3)
    conf, correct = to_confidences(probs, labels)
    expected = mmce_direct(conf, correct, bandwidth)
    assert mmce(probs, labels, bandwidth=bandwidth) == pytest.approx(expected, abs=1e-10)


def test_kdece_all_correct_or_all_wrong_is_mean_gap() -> None:
    # r-hat = 1 (all right) or 0 (all wrong) at every point, for any bandwidth.
    conf = [0.6, 0.7, 0.95]
    probs, labels = binary(conf, [1, 1, 1])
    assert kdece(probs, labels, bandwidth=0.05) == pytest.approx((0.4 + 0.3 + 0.05) / 3, abs=1e-9)
    probs, labels = binary(conf, [0, 0, 0])
    assert kdece(probs, labels, bandwidth=0.05) == pytest.approx((0.6 + 0.7 + 0.95) / 3, abs=1e-9)


def test_kdece_two_points_hand_case() -> None:
    # N = 2: leave-one-out leaves one neighbour, so r-hat(c_1) = a_2 and r-hat(c_2) = a_1.
    # conf 0.6 right, 0.9 wrong: (|0 - 0.6| + |1 - 0.9|) / 2 = 0.35, for any bandwidth.
    probs, labels = binary([0.6, 0.9], [1, 0])
    assert kdece(probs, labels, bandwidth=0.1) == pytest.approx(0.35, abs=1e-9)
    assert M._kdece_exact(np.array([0.6, 0.9]), np.array([1.0, 0.0]), 0.1) == pytest.approx(0.35)


def test_kdece_three_points_against_beta_pdf() -> None:
    # N = 3, h = 0.2: r-hat(c_i) = sum_{j != i} a_j B(c_i; c_j/h + 1, (1 - c_j)/h + 1) / sum_j B.
    from scipy.stats import beta

    conf = np.array([0.55, 0.7, 0.9])
    correct = np.array([0.0, 1.0, 1.0])
    h = 0.2
    total = 0.0
    for i in range(3):
        w = [beta.pdf(conf[i], c / h + 1, (1 - c) / h + 1) for c in conf]
        others = [j for j in range(3) if j != i]
        r = sum(w[j] * correct[j] for j in others) / sum(w[j] for j in others)
        total += abs(r - conf[i])
    probs, labels = binary(conf.tolist(), correct.astype(int).tolist())
    assert M._kdece_exact(conf, correct, h) == pytest.approx(total / 3, abs=1e-12)
    # The default path bins kernel centres onto a grid: within its documented bound.
    assert kdece(probs, labels, bandwidth=h) == pytest.approx(total / 3, abs=5e-4)


@pytest.mark.parametrize("bandwidth", [1e-5, 1e-3, 0.05, 0.5])
def test_kdece_fast_within_bound_of_exact(bandwidth: float) -> None:
    # Documented bound: |fast - exact| < 5e-4 at N = 2000 (observed < 1e-4).
    probs, labels = random_problem(2000, 10, seed=7)
    conf, correct = to_confidences(probs, labels)
    exact = M._kdece_exact(conf, correct, bandwidth)
    assert abs(kdece(probs, labels, bandwidth=bandwidth) - exact) < 5e-4


def test_kdece_bandwidth_rule_is_loo_likelihood_argmax() -> None:
    # The rule picks the candidate maximising the exact leave-one-out log-likelihood.
    probs, labels = random_problem(300, 4, seed=2)
    conf, _ = to_confidences(probs, labels)
    z = np.clip(conf, 1e-10, 1 - 1e-10)
    exact = [M._kde_sums_exact(z, np.zeros_like(z), float(h))[0].sum() for h in M._KDE_BANDWIDTHS]
    assert M.kde_bandwidth(z) == pytest.approx(float(M._KDE_BANDWIDTHS[int(np.argmax(exact))]))


# The grid sums and bandwidth rule as they were before the sums were restricted to a band
# around each sample (dense over every occupied node, isolated rows redone over all N),
# frozen here as the oracle that the banded version must reproduce.


def previous_kde_sums(
    z: np.ndarray, correct: np.ndarray, h: float, resolution: float = 12.0
) -> tuple[np.ndarray, np.ndarray]:
    theta = M._kde_grid(h, resolution)
    g = theta.shape[0]
    step = theta[1] - theta[0]
    centers = np.clip(np.sin(theta) ** 2, 0.0, 1.0)
    pos = np.arcsin(np.sqrt(z)) / step
    lo = np.clip(np.floor(pos).astype(np.int64), 0, g - 2)
    frac = pos - lo
    mass = np.bincount(lo, 1.0 - frac, g) + np.bincount(lo + 1, frac, g)
    mass_a = np.bincount(lo, (1.0 - frac) * correct, g) + np.bincount(lo + 1, frac * correct, g)
    used = mass > 0
    col = np.cumsum(used) - 1
    lk = M._beta_log_kernel(z, centers[used], h)
    top = lk.max(axis=1, keepdims=True)
    k = np.exp(lk - top)
    rows = np.arange(z.shape[0])
    self_k = (1.0 - frac) * k[rows, col[lo]] + frac * k[rows, col[lo + 1]]
    full = k @ mass[used]
    den = full - self_k
    num = k @ mass_a[used] - correct * self_k
    redo = den <= 1e-9 * full
    with np.errstate(divide="ignore"):
        log_den = np.log(np.where(redo, 1.0, den)) + top[:, 0]
        log_num = np.log(np.clip(num, 0.0, None)) + top[:, 0]
    if redo.any():
        lk = M._beta_log_kernel(z[redo], z, h)
        lk[np.arange(lk.shape[0]), np.flatnonzero(redo)] = -np.inf
        log_den[redo] = special.logsumexp(lk, axis=1)
        log_num[redo] = special.logsumexp(lk + np.where(correct > 0, 0.0, -np.inf), axis=1)
    return log_den, log_num


def previous_kdece(probs: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    conf, correct = to_confidences(probs, labels)
    z = np.clip(conf, 1e-10, 1 - 1e-10)
    zero = np.zeros_like(z)
    scores = [previous_kde_sums(z, zero, float(h), 4.0)[0].sum() for h in M._KDE_BANDWIDTHS]
    h = float(M._KDE_BANDWIDTHS[int(np.argmax(scores))])
    log_den, log_num = previous_kde_sums(z, correct, h)
    return h, float(np.mean(np.abs(np.clip(np.exp(log_num - log_den), 0.0, 1.0) - z)))


def overconfident_problem(n: int, k: int, *, seed: int, temperature: float = 1.5):
    """The benchmark's workload: labels drawn from softmax(logits / temperature)."""
    rng = np.random.default_rng(seed)
    true_logits = 2.0 * rng.standard_normal((n, k))
    labels = (true_logits + rng.gumbel(size=(n, k))).argmax(axis=1)
    return to_probs(temperature * true_logits), labels


@pytest.mark.parametrize(
    "problem",
    [
        lambda: overconfident_problem(3000, 100, seed=0),
        lambda: overconfident_problem(2000, 10, seed=1, temperature=3.0),
        lambda: random_problem(2500, 10, seed=4),
        lambda: random_problem(400, 3, seed=5, scale=0.5),
        lambda: calibrated_sample(1500, seed=6),
    ],
)
def test_kdece_and_bandwidth_equal_previous_dense_grid(problem) -> None:
    probs, labels = problem()
    h_prev, value_prev = previous_kdece(probs, labels)
    conf, _ = to_confidences(probs, labels)
    assert M.kde_bandwidth(np.clip(conf, 1e-10, 1 - 1e-10)) == h_prev
    assert kdece(probs, labels) == pytest.approx(value_prev, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("resolution", [4.0, 12.0])
def test_banded_kernel_sums_equal_dense_grid_sums(resolution: float) -> None:
    # Every candidate bandwidth: a grid of 8193 nodes down to 65, bands from a few nodes to the
    # whole grid, rows widened near 0 and 1, isolated rows redone exactly.
    probs, labels = overconfident_problem(2000, 100, seed=3)
    conf, correct = to_confidences(probs, labels)
    z = np.clip(conf, 1e-10, 1 - 1e-10)
    sample = M._KdeSample(z)
    for h in M._KDE_BANDWIDTHS:
        den, num = M._kde_sums_fast(z, correct, float(h), resolution=resolution, sample=sample)
        den_prev, num_prev = previous_kde_sums(z, correct, float(h), resolution)
        # Both subtract the sample's own kernel from the full sum, which loses up to
        # eps / 1e-9 (the redo threshold), ~2e-7, relative in the rows kept closest to it;
        # elsewhere they agree to rounding.
        np.testing.assert_allclose(den, den_prev, rtol=0, atol=1e-6)
        assert np.median(np.abs(den - den_prev)) < 1e-13
        # Numerators far below the denominator lose the terms beyond the band: compare r-hat.
        r_hat, r_prev = np.exp(num - den), np.exp(num_prev - den_prev)
        np.testing.assert_allclose(r_hat, r_prev, rtol=0, atol=1e-6)
        assert np.median(np.abs(r_hat - r_prev)) < 1e-13


def test_kde_exact_rows_from_sorted_neighbours_equal_all_pairs() -> None:
    # Isolated points, a tight cluster wider than the neighbour window, duplicates and both
    # clip limits: some rows are settled by their neighbours, others need every sample.
    rng = np.random.default_rng(8)
    z = np.concatenate(
        (
            0.6 + 1e-4 * rng.random(200),
            [0.05, 0.3, 0.3, 0.95, 1e-10, 1 - 1e-10],
            rng.uniform(0.5, 1.0, 60),
        )
    )
    correct = (rng.random(z.shape[0]) < z).astype(np.float64)
    sample = M._KdeSample(z)
    rows = np.arange(z.shape[0])
    for h in (1e-5, 1e-3, 0.1, 1.0):
        den, num = sample.loo_exact(rows, correct, h)
        den_exact, num_exact = M._kde_sums_exact(z, correct, h)
        np.testing.assert_allclose(den, den_exact, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(np.exp(num - den), np.exp(num_exact - den_exact), atol=1e-12)


def test_sort_pairs_packed_keys_equal_lexsort() -> None:
    rng = np.random.default_rng(9)
    conf = rng.choice([0.0, -0.0, 0.25, 0.5, 1.0, 1e-300, 0.3], size=(4, 500))
    correct = rng.integers(0, 2, size=(4, 500)).astype(np.float64)
    order = np.lexsort((correct, conf), axis=-1)
    got_conf, got_correct = M._sort_pairs(conf, correct)
    np.testing.assert_array_equal(got_conf, np.take_along_axis(conf, order, -1))
    np.testing.assert_array_equal(got_correct, np.take_along_axis(correct, order, -1))
    # Fractional correctness does not fit one bit: the lexsort path.
    weight = correct[0] * 0.5 + 0.25
    order = np.lexsort((weight, conf[0]))
    got_conf, got_weight = M._sort_pairs(conf[0], weight)
    np.testing.assert_array_equal(got_conf, conf[0][order])
    np.testing.assert_array_equal(got_weight, weight[order])


def test_smooth_ece_constant_residual_is_exact() -> None:
    # Every sample has residual c - a = 0.3 (conf 0.7, wrong would be 0.7; take right: -0.3):
    # the smoothed residual is -0.3 * density, whose integral is 0.3 for every sigma.
    probs, labels = binary([0.7] * 5, [1] * 5)
    for sigma in (0.01, 0.1, 1.0):
        assert smooth_ece(probs, labels, sigma=sigma) == pytest.approx(0.3, abs=1e-9)
    # Fixed point: smECE_sigma = 0.3 for all sigma, so sigma* = 0.3 and smECE = 0.3.
    assert smooth_ece(probs, labels) == pytest.approx(0.3, abs=1e-9)


def smooth_ece_direct(conf: np.ndarray, correct: np.ndarray, sigma: float) -> float:
    """Gaussian plus mirror images (reflections at 0 and 1 are images at 2m +- c), integrated
    by a fine trapezoid: independent of the DCT path."""
    t = np.linspace(0.0, 1.0, 20001)
    shifts = 2.0 * np.arange(-3, 4)  # images beyond |2m| = 6 weigh < exp(-50) at sigma <= 0.5
    centres = np.concatenate(
        [(conf[None, :] + shifts[:, None]).ravel(), (-conf[None, :] + shifts[:, None]).ravel()]
    )
    resid = np.tile(conf - correct, 2 * shifts.shape[0])
    ker = np.exp(-0.5 * ((t[:, None] - centres[None, :]) / sigma) ** 2)
    g = ker @ resid / (sigma * math.sqrt(2 * math.pi) * conf.shape[0])
    return float(np.trapezoid(np.abs(g), t))


@pytest.mark.parametrize("sigma", [0.02, 0.1, 0.5])
def test_smooth_ece_dct_equals_direct_kernel_sum(sigma: float) -> None:
    probs, labels = random_problem(40, 3, seed=5)
    # Atoms at the boundary and on a grid node stress the reflection and the binning.
    probs[:4] = [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]]
    conf, correct = to_confidences(probs, labels)
    expected = smooth_ece_direct(conf, correct, sigma)
    assert smooth_ece(probs, labels, sigma=sigma) == pytest.approx(expected, abs=2e-6)


def test_smooth_ece_is_a_fixed_point() -> None:
    probs, labels = random_problem(500, 5, seed=9)
    value = smooth_ece(probs, labels)
    assert smooth_ece(probs, labels, sigma=value) == pytest.approx(value, abs=1e-6)


def test_nll_brier_accuracy_hand_case() -> None:
    # p_y = 0.8 and 0.3: NLL = -(log 0.8 + log 0.3) / 2.
    # Brier: (0.2^2 + 0.2^2) + (0.7^2 + 0.7^2) = 0.08 + 0.98, mean 0.53.
    probs = np.array([[0.8, 0.2], [0.7, 0.3]])
    labels = np.array([0, 1])
    assert nll(probs, labels) == pytest.approx(-(math.log(0.8) + math.log(0.3)) / 2)
    assert brier(probs, labels) == pytest.approx(0.53, abs=1e-12)
    assert accuracy(probs, labels) == 0.5


def test_brier_is_not_divided_by_k() -> None:
    # Uniform over K = 4, label 0: (3/4)^2 + 3 (1/4)^2 = 0.75.
    assert brier(np.full((1, 4), 0.25), [0]) == pytest.approx(0.75, abs=1e-12)


def test_nll_clips_zero_probability() -> None:
    value = nll([[1.0, 0.0]], [1])
    assert value == pytest.approx(-math.log(np.finfo(np.float64).tiny))
    assert math.isfinite(value)


def test_confidence_split_and_empty_group() -> None:
    right, wrong = confidence_split([[0.9, 0.1], [0.6, 0.4]], [0, 0])
    assert right == pytest.approx(0.75)
    assert math.isnan(wrong)


def test_auroc_hand_case_with_ties() -> None:
    # Pairs (in, out): (0.8 > 0.3) 1, (0.8 > 0.5) 1, (0.5 = 0.5) 1/2, (0.5 > 0.3) 1 -> 3.5 / 4.
    assert auroc([0.8, 0.5], [0.3, 0.5]) == pytest.approx(0.875)
    assert auroc([0.1], [0.9]) == 0.0
    assert auroc([0.7, 0.7], [0.7]) == 0.5


# --------------------------------------------------------------------------------------------
# binned_errors equals the single-n functions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_binned_errors_equals_single_functions(seed: int) -> None:
    probs, labels = random_problem(997, 7, seed=seed)
    # Put some confidences on bin edges and at 1 to exercise the conventions.
    probs[:5] = [[1.0] + [0.0] * 6, [0.4, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]] + [
        [0.2] * 5 + [0.0] * 2
    ] * 3
    out = binned_errors(probs, labels)
    assert set(out) == set(M.BINNED_KEYS)
    funcs = {"ECE": ece, "ECE_em": ece_em, "cwCE": cw_ece, "cwCE_em": cw_ece_em, "MCE": mce}
    for key, func in funcs.items():
        assert list(out[key]) == list(BIN_COUNTS)
        for n in BIN_COUNTS:
            assert out[key][n] == pytest.approx(func(probs, labels, n_bins=n), abs=1e-13)


def loop_ece(conf: np.ndarray, correct: np.ndarray, n_bins: int) -> float:
    """A plain per-bin loop with the documented rule: bin of c is ceil(c n) - 1, 0 -> bin 0."""
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        inside = (conf > lo) & (conf <= hi) if b > 0 else (conf <= hi)
        if inside.any():
            total += abs(conf[inside].sum() - correct[inside].sum())
    return total / conf.shape[0]


@pytest.mark.parametrize("n_bins", [1, 5, 15, 100])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ece_grid_over_bins_and_dtype(n_bins: int, dtype: type) -> None:
    probs, labels = random_problem(400, 4, seed=n_bins)
    probs = probs.astype(dtype)
    conf, correct = to_confidences(probs.astype(np.float64), labels)
    assert ece(probs, labels, n_bins=n_bins) == pytest.approx(
        loop_ece(conf, correct, n_bins), abs=1e-12
    )
    for func in ECE_TYPE:
        assert 0.0 <= func(probs, labels, n_bins=n_bins) <= 1.0


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

problems = st.builds(
    random_problem,
    st.integers(1, 60),
    st.integers(2, 5),
    seed=st.integers(0, 10_000),
    scale=st.sampled_from([0.5, 3.0, 30.0]),
)


@settings(max_examples=40, deadline=None)
@given(problem=problems, n_bins=st.integers(1, 30), perm_seed=st.integers(0, 1000))
def test_binned_metrics_in_unit_interval_and_permutation_invariant(
    problem, n_bins: int, perm_seed: int
) -> None:
    probs, labels = problem
    perm = np.random.default_rng(perm_seed).permutation(probs.shape[0])
    for func in ECE_TYPE:
        value = func(probs, labels, n_bins=n_bins)
        assert 0.0 <= value <= 1.0
        assert func(probs[perm], labels[perm], n_bins=n_bins) == pytest.approx(value, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(problem=problems, perm_seed=st.integers(0, 1000))
def test_binfree_metrics_in_range_and_permutation_invariant(problem, perm_seed: int) -> None:
    probs, labels = problem
    perm = np.random.default_rng(perm_seed).permutation(probs.shape[0])
    funcs = [ksce, mmce, brier, nll, accuracy, debiased_l2_ece, smooth_ece]
    if probs.shape[0] >= 2:
        funcs.append(lambda p, y: kdece(p, y, bandwidth=0.05))
    for func in funcs:
        value = func(probs, labels)
        assert value >= 0.0
        if func not in (brier, nll):
            assert value <= 1.0
        assert func(probs[perm], labels[perm]) == pytest.approx(value, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 300), n_bins=st.integers(1, 50), ties=st.booleans())
def test_equal_mass_counts_differ_by_at_most_one(n: int, n_bins: int, ties: bool) -> None:
    rng = np.random.default_rng(n * 31 + n_bins)
    conf = rng.choice([0.5, 0.7, 0.9], n) if ties else rng.random(n)
    s = bin_stats(conf, rng.integers(0, 2, n), n_bins=n_bins, strategy="mass")
    assert s.count.sum() == n
    assert s.count.max() - s.count.min() <= 1
    assert np.all(np.diff(s.count) <= 0)  # larger bins first


def test_perfect_calibration_gives_small_ece() -> None:
    probs, labels = calibrated_sample(20_000, seed=1)
    # Expected ECE_15 of a calibrated sample of 20k is about sqrt(2/pi) * sum sqrt(p(1-p)/N)
    # over ~8 bins of 2.5k: ~0.006.  Bound 0.02 as required.
    assert ece(probs, labels, n_bins=15) < 0.02
    assert ece_em(probs, labels, n_bins=15) < 0.02
    assert ksce(probs, labels) < 0.02
    assert debiased_l2_ece(probs, labels) < 0.02
    assert smooth_ece(probs, labels) < 0.02
    # And a shifted (over-confident by 0.1) sample is detected.
    probs_over = probs.copy()
    probs_over[:, 0] = np.clip(probs[:, 0] + 0.1, 0.5, 1.0)
    probs_over[:, 1] = 1.0 - probs_over[:, 0]
    assert ece(probs_over, labels, n_bins=15) > 0.07


def test_bootstrap_ci_is_seeded_and_brackets_estimate() -> None:
    probs, labels = random_problem(300, 3, seed=4)
    first = bootstrap_ci(ece, probs, labels, n_boot=200, seed=3)
    assert first == bootstrap_ci(ece, probs, labels, n_boot=200, seed=3)
    assert first != bootstrap_ci(ece, probs, labels, n_boot=200, seed=4)
    estimate, low, high = first
    assert estimate == ece(probs, labels)
    assert low < high
    # Accuracy's bootstrap sd is sqrt(acc (1 - acc) / N); the 95 % width is about 3.9 sd.
    acc, lo, hi = bootstrap_ci(accuracy, probs, labels, n_boot=400, seed=0)
    sd = math.sqrt(acc * (1 - acc) / 300)
    assert 3.0 * sd < hi - lo < 4.8 * sd


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------

GOOD_P = np.array([[0.7, 0.3], [0.4, 0.6]])
GOOD_Y = np.array([0, 1])


@pytest.mark.parametrize(
    ("probs", "labels", "match"),
    [
        (np.array([0.7, 0.3]), GOOD_Y, r"Expected `probs` to be a 2-D array"),
        (np.zeros((0, 2)), np.zeros(0, int), "Expected `probs` to be non-empty"),
        (np.ones((2, 1)), GOOD_Y, r"at least 2 classes \(K >= 2\), got K=1"),
        (np.array([[np.nan, 0.5], [0.5, 0.5]]), GOOD_Y, "Expected `probs` to be finite, got NaN"),
        (np.array([[np.inf, 0.5], [0.5, 0.5]]), GOOD_Y, "Expected `probs` to be finite, got inf"),
        (np.array([[1.2, -0.2], [0.5, 0.5]]), GOOD_Y, r"Expected `probs` to lie in \[0, 1\]"),
        (np.array([[0.7, 0.2], [0.5, 0.5]]), GOOD_Y, "rows of `probs` must sum to 1"),
        (GOOD_P, np.array([[0], [1]]), "Expected `labels` to be a 1-D array"),
        (GOOD_P, np.array([0.0, 1.0]), "Expected `labels` to be an integer array"),
        (GOOD_P, np.array([0, 1, 1]), r"same length as `probs` \(N=2\), got 3"),
        (GOOD_P, np.array([0, 2]), r"Expected `labels` to lie in \[0, 2\), got values in \[0, 2\]"),
        (GOOD_P, np.array([-1, 0]), r"Expected `labels` to lie in \[0, 2\)"),
    ],
)
@pytest.mark.parametrize(
    "func", [ece, ece_em, cw_ece, cw_ece_em, mce, ksce, mmce, nll, brier, accuracy, smooth_ece]
)
def test_bad_probs_labels_raise(func, probs, labels, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        func(probs, labels)


def test_float32_rows_within_tolerance_are_accepted() -> None:
    probs = to_probs(np.random.default_rng(0).normal(size=(50, 100))).astype(np.float32)
    labels = np.zeros(50, dtype=np.int64)
    assert 0.0 <= ece(probs, labels) <= 1.0


@pytest.mark.parametrize("n_bins", [0, -3, 2.5, True, "15"])
@pytest.mark.parametrize("func", [ece, ece_em, cw_ece, cw_ece_em, mce, debiased_l2_ece])
def test_bad_n_bins_raise(func, n_bins) -> None:
    with pytest.raises(ValueError, match="Expected `n_bins` to be a positive integer"):
        func(GOOD_P, GOOD_Y, n_bins=n_bins)


HUGE_BINS = (
    r"Expected `n_bins` to be at most 10000 \(MAX_N_BINS: more bins than the study's largest "
    r"test set has samples\), got 100000000000\."
)


@pytest.mark.parametrize("func", [ece, ece_em, cw_ece, cw_ece_em, mce, debiased_l2_ece])
def test_huge_n_bins_raise_before_any_work(func) -> None:
    """n_bins=10**11 used to allocate the bin edges and die with MemoryError."""
    with pytest.raises(ValueError, match=HUGE_BINS):
        func(GOOD_P, GOOD_Y, n_bins=10**11)
    with pytest.raises(ValueError, match=r"to be at most 10000 .*got 10001\."):
        func(GOOD_P, GOOD_Y, n_bins=np.int64(MAX_N_BINS + 1))
    assert 0.0 <= func(GOOD_P, GOOD_Y, n_bins=MAX_N_BINS) <= 1.0  # the bound itself is accepted


def test_huge_bin_counts_raise() -> None:
    assert MAX_N_BINS == 10_000 and max(BIN_COUNTS) <= MAX_N_BINS
    with pytest.raises(ValueError, match=HUGE_BINS):
        bin_stats([0.5, 0.9], [1, 0], n_bins=10**11)
    with pytest.raises(ValueError, match=HUGE_BINS.replace("`n_bins`", "`bin_counts`")):
        binned_errors(GOOD_P, GOOD_Y, bin_counts=(15, 10**11))
    with pytest.raises(ValueError, match=r"Expected `bin_counts` to be a sequence of bin counts, got 15 \(int\)\."):
        binned_errors(GOOD_P, GOOD_Y, bin_counts=15)


def test_n_boot_is_not_bounded_by_the_bin_limit() -> None:
    out = bootstrap_ci(accuracy, GOOD_P, GOOD_Y, n_boot=MAX_N_BINS + 1)
    assert len(out) == 3


def test_bad_bin_counts_raise() -> None:
    with pytest.raises(ValueError, match="Expected `bin_counts` to be a positive integer, got 0"):
        binned_errors(GOOD_P, GOOD_Y, bin_counts=(5, 0))
    with pytest.raises(ValueError, match="Expected `bin_counts` to be a non-empty sequence"):
        binned_errors(GOOD_P, GOOD_Y, bin_counts=())


def test_bad_options_raise() -> None:
    with pytest.raises(ValueError, match="Expected `bandwidth` to be a positive finite number"):
        mmce(GOOD_P, GOOD_Y, bandwidth=0.0)
    with pytest.raises(ValueError, match="Expected `bandwidth` to be a positive finite number"):
        kdece(GOOD_P, GOOD_Y, bandwidth=-1.0)
    with pytest.raises(ValueError, match="Expected `probs` to hold at least 2 samples"):
        kdece(GOOD_P[:1], GOOD_Y[:1], bandwidth=0.1)
    with pytest.raises(ValueError, match="Expected `sigma` to be a number >= 0.001"):
        smooth_ece(GOOD_P, GOOD_Y, sigma=1e-4)
    with pytest.raises(ValueError, match=r"Expected `level` to be in \(0, 1\)"):
        bootstrap_ci(ece, GOOD_P, GOOD_Y, level=1.5)
    with pytest.raises(ValueError, match="Expected `n_boot` to be a positive integer"):
        bootstrap_ci(ece, GOOD_P, GOOD_Y, n_boot=0)
    with pytest.raises(ValueError, match="Expected `strategy` to be 'width' or 'mass'"):
        bin_stats([0.5], [1], strategy="quantile")
    with pytest.raises(ValueError, match=r"Expected `conf` to lie in \[0, 1\]"):
        bin_stats([1.5], [1])
    with pytest.raises(ValueError, match=r"Expected `correct` to have shape \(1,\)"):
        bin_stats([0.5], [1, 0])
    with pytest.raises(ValueError, match="Expected `scores_in` to be a non-empty 1-D array"):
        auroc([], [0.5])
    with pytest.raises(ValueError, match="Expected `scores_out` to be finite, got NaN"):
        auroc([0.5], [np.nan])


def test_validate_false_skips_checks_but_computes_the_same() -> None:
    probs, labels = random_problem(200, 4, seed=8)
    assert ece(probs, labels, validate=False) == ece(probs, labels)
    # Unnormalised rows pass silently without validation: the caller's responsibility.
    ece(probs * 0.5, labels, validate=False)
