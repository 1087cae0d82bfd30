"""Tests for calstudy.calibrate: held-out split, temperature scaling and the other methods."""

from __future__ import annotations

import logging
import re
import warnings

import numpy as np
import pytest
import scipy.optimize
import torch
from torchmetrics.functional.classification import multiclass_calibration_error

from calstudy.calibrate import (
    MIN_SPLIT_SAMPLES,
    POSTHOC_METHODS,
    SMALL_FIT_SAMPLES,
    HistogramBinning,
    IsotonicCalibration,
    SmallSampleWarning,
    TemperatureScaling,
    VectorScaling,
    _vector_scaling_nll,
    fit_temperature,
    heldout_sizes,
    heldout_split,
)

# --------------------------------------------------------------------------------------------
# Synthetic data and independent references
# --------------------------------------------------------------------------------------------


def sample_calibrated(
    n: int, k: int, *, scale: float = 2.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels drawn from softmax(logits): calibrated by construction (T* = 1)."""
    rng = np.random.default_rng(seed)
    logits = scale * rng.standard_normal((n, k))
    probs = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
    u = rng.random((n, 1))
    labels = np.minimum((probs.cumsum(axis=1) < u).sum(axis=1), k - 1)
    return logits, labels


def reference_nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean NLL of softmax(logits / T) by torch's cross-entropy, float64."""
    z = torch.from_numpy(np.asarray(logits, dtype=np.float64)) / temperature
    return float(torch.nn.functional.cross_entropy(z, torch.from_numpy(labels)))


def reference_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Brute force: dense grid over T, then Nelder-Mead on T itself from the best grid point."""
    grid = np.geomspace(0.05, 20.0, 400)
    t0 = grid[np.argmin([reference_nll(logits, labels, t) for t in grid])]
    result = scipy.optimize.minimize(
        lambda t: reference_nll(logits, labels, float(t[0])),
        x0=[t0],
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-14, "maxiter": 10_000},
    )
    return float(result.x[0])


def reference_ece(probs: np.ndarray, labels: np.ndarray) -> float:
    """Top-label ECE with 15 equal-width bins, by torchmetrics."""
    return float(
        multiclass_calibration_error(
            torch.from_numpy(probs),
            torch.from_numpy(labels),
            num_classes=probs.shape[1],
            n_bins=15,
            norm="l1",
        )
    )


def softmax(logits: np.ndarray) -> np.ndarray:
    return torch.softmax(torch.from_numpy(np.asarray(logits, dtype=np.float64)), dim=1).numpy()


@pytest.fixture(scope="module")
def overconfident() -> tuple[np.ndarray, np.ndarray]:
    """Calibrated labels, logits doubled: the network is overconfident and T* is about 2."""
    logits, labels = sample_calibrated(4000, 10, scale=1.5, seed=1)
    return 2.0 * logits, labels


# --------------------------------------------------------------------------------------------
# heldout_split
# --------------------------------------------------------------------------------------------


def test_heldout_split_partitions_and_is_seeded() -> None:
    fit_idx, eval_idx = heldout_split(10_000)
    assert (len(fit_idx), len(eval_idx)) == (2000, 8000)  # the paper's 20 % / 80 %
    assert np.array_equal(np.sort(np.concatenate([fit_idx, eval_idx])), np.arange(10_000))
    assert np.all(np.diff(fit_idx) > 0) and np.all(np.diff(eval_idx) > 0)
    assert fit_idx.dtype == np.int64
    again_fit, _ = heldout_split(10_000)
    other_fit, _ = heldout_split(10_000, seed=1)
    assert np.array_equal(fit_idx, again_fit)
    assert not np.array_equal(fit_idx, other_fit)


@pytest.mark.parametrize(("n", "frac"), [(4, 0.5), (5, 0.5), (10, 0.8), (7, 0.01 + 2 / 7)])
def test_heldout_split_small_sizes(n: int, frac: float) -> None:
    fit_idx, eval_idx = heldout_split(n, frac=frac)
    assert len(fit_idx) == round(frac * n) and len(fit_idx) + len(eval_idx) == n
    assert len(fit_idx) >= MIN_SPLIT_SAMPLES and len(eval_idx) >= MIN_SPLIT_SAMPLES
    assert heldout_sizes(n, frac=frac) == (len(fit_idx), len(eval_idx))


@pytest.mark.parametrize(
    ("n", "frac", "match"),
    [
        (3, 0.5, r"Expected `n` to be an integer >= 4, got 3\."),
        (2.5, 0.2, r"Expected `n` to be an integer >= 4, got 2\.5\."),
        (True, 0.2, r"Expected `n` to be an integer >= 4, got True \(bool\)\."),
        (10, 1.5, r"Expected `frac` to be in \(0, 1\), got 1\.5\."),
        (10, 1.0, r"Expected `frac` to be in \(0, 1\), got 1\.0\."),
        (10, 0.0, r"Expected `frac` to be in \(0, 1\), got 0\.0\."),
        (10, float("nan"), r"Expected `frac` to be in \(0, 1\), got nan\."),
        (10, "0.2", r"Expected `frac` to be in \(0, 1\), got '0\.2' \(str\)\."),
        (
            10,
            0.1,
            r"Expected `frac` to hold out at least 2 of the 10 samples to fit on, "
            r"got round\(0\.1 \* 10\) = 1\.",
        ),
        (
            10,
            0.9,
            r"Expected `frac` to leave at least 2 of the 10 samples to evaluate on, got 1 "
            r"\(round\(0\.9 \* 10\) = 9 held out\)\.",
        ),
    ],
)
def test_heldout_split_rejects_bad_input(n: int, frac: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        heldout_split(n, frac=frac)
    with pytest.raises(ValueError, match=match):
        heldout_sizes(n, frac=frac)


def test_heldout_sizes_names_the_callers_parameter() -> None:
    with pytest.raises(ValueError, match=r"Expected `heldout_frac` to be in \(0, 1\), got 1\.0\."):
        heldout_sizes(100, frac=1.0, name="heldout_frac")
    with pytest.raises(ValueError, match=r"Expected `heldout_frac` to hold out at least 2 of the 5"):
        heldout_sizes(5, frac=0.2, name="heldout_frac")


def test_heldout_split_rejects_a_bad_seed() -> None:
    with pytest.raises(ValueError, match=r"Expected `seed` to be an integer, got 'a' \(str\)\."):
        heldout_split(10, seed="a")


# --------------------------------------------------------------------------------------------
# fit_temperature
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "factor"), [(0, 1.0), (1, 2.5), (2, 0.4), (3, 6.0)])
def test_fit_temperature_matches_brute_force_reference(seed: int, factor: float) -> None:
    logits, labels = sample_calibrated(500, 5, scale=1.5, seed=seed)
    logits = factor * logits
    assert fit_temperature(logits, labels) == pytest.approx(
        reference_temperature(logits, labels), abs=1e-4
    )


def test_fit_temperature_is_one_on_calibrated_data() -> None:
    logits, labels = sample_calibrated(20_000, 10, seed=4)
    assert abs(fit_temperature(logits, labels) - 1.0) < 0.1


def test_fit_temperature_recovers_overconfidence(overconfident) -> None:
    logits, labels = overconfident
    assert fit_temperature(logits, labels) == pytest.approx(2.0, abs=0.2)
    # Underconfidence: logits halved need T about 1/2.
    assert fit_temperature(logits / 4.0, labels) == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("factor", [0.3, 1.0, 3.0])
def test_temperature_scaling_never_raises_nll_on_fit_set(seed: int, factor: float) -> None:
    logits, labels = sample_calibrated(300, 4, seed=seed)
    rng = np.random.default_rng(seed)
    logits = factor * logits + rng.standard_normal(logits.shape)  # arbitrary miscalibration
    ts = TemperatureScaling().fit(logits, labels)
    assert ts.n_fit_ == 300
    nll_after = float(np.mean(-np.log(ts.predict_proba(logits)[np.arange(300), labels])))
    assert nll_after <= reference_nll(logits, labels, 1.0) + 1e-12
    assert nll_after == pytest.approx(reference_nll(logits, labels, ts.temperature), rel=1e-10)


def test_temperature_one_changes_nothing() -> None:
    logits, _ = sample_calibrated(50, 6, seed=5)
    ts = TemperatureScaling()
    ts.temperature = 1.0
    assert np.array_equal(ts.transform(logits), logits)
    np.testing.assert_allclose(ts.predict_proba(logits), softmax(logits), rtol=1e-12)


def test_fit_temperature_is_permutation_invariant(overconfident) -> None:
    logits, labels = overconfident
    perm = np.random.default_rng(0).permutation(len(labels))
    assert fit_temperature(logits[perm], labels[perm]) == pytest.approx(
        fit_temperature(logits, labels), rel=1e-10
    )


@pytest.mark.parametrize("scale", [1e4, 1e-6])
def test_fit_temperature_is_scale_equivariant_for_huge_and_tiny_logits(scale: float) -> None:
    """T*(c z) = c T*(z): logits of order 1e4 or 1e-6 lose nothing to overflow or rounding."""
    logits, labels = sample_calibrated(1000, 10, seed=6)
    base = fit_temperature(logits, labels)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow and no bound warning
        scaled = fit_temperature(scale * logits, labels, bounds=(0.05 * scale, 20.0 * scale))
    assert scaled == pytest.approx(scale * base, rel=1e-8)
    ts = TemperatureScaling(bounds=(0.05 * scale, 20.0 * scale)).fit(scale * logits, labels)
    probs = ts.predict_proba(scale * logits)
    assert np.all(np.isfinite(probs)) and np.all(probs > 0)
    np.testing.assert_allclose(probs, softmax(logits / base), rtol=1e-6)


def test_fit_temperature_huge_logits_in_default_bounds_stay_finite(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logits, labels = sample_calibrated(500, 10, seed=7)
    with caplog.at_level(logging.WARNING, logger="calstudy"):
        temperature = fit_temperature(1e4 * logits, labels)
    assert temperature == 20.0
    assert re.search(r"of 500 samples lies on the bound T = 20\.0", caplog.text)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="calstudy"):
        ts = TemperatureScaling().fit(1e4 * logits, labels)
    assert [r.name for r in caplog.records] == ["calstudy.calibrate"]  # logged once per fit
    assert "lies on the bound" in caplog.records[0].getMessage()
    probs = ts.predict_proba(1e4 * logits)
    assert np.all(probs > 0) and np.allclose(probs.sum(axis=1), 1.0)


def test_fit_temperature_warns_at_lower_bound_for_separable_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logits = np.tile([[3.0, 0.0], [0.0, 3.0], [2.0, -1.0]], (40, 1))
    with caplog.at_level(logging.WARNING, logger="calstudy"), warnings.catch_warnings():
        warnings.simplefilter("error")  # logged, not warned
        assert fit_temperature(logits, np.tile([0, 1, 0], 40)) == 0.05
    assert re.search(r"lies on the bound T = 0\.05", caplog.text)


def test_fit_temperature_constant_logits_return_one() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fit_temperature(np.zeros((120, 3)), np.arange(120) % 3) == 1.0


@pytest.mark.parametrize("n", [4, 100])
def test_fit_temperature_tiny_exact_case(n: int) -> None:
    """Binary, one logit gap d for every sample, a fraction q right: softmax(d / T) = q."""
    d, q = 2.0, 0.75
    logits = np.tile([d, 0.0], (n, 1))
    labels = np.array([0, 0, 0, 1] * (n // 4))
    expected = d / np.log(q / (1 - q))  # sigmoid(d / T) = q
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        assert fit_temperature(logits, labels) == pytest.approx(expected, rel=1e-10)


# --------------------------------------------------------------------------------------------
# Small fitting sets: an error below MIN_SPLIT_SAMPLES, a SmallSampleWarning below 100
# --------------------------------------------------------------------------------------------


def test_small_sample_thresholds() -> None:
    assert MIN_SPLIT_SAMPLES == 2 and SMALL_FIT_SAMPLES == 100
    assert issubclass(SmallSampleWarning, UserWarning)


@pytest.mark.parametrize("fit", [fit_temperature, lambda z, y: TemperatureScaling().fit(z, y)])
def test_temperature_fit_on_one_sample_is_an_error(fit) -> None:
    with pytest.raises(
        ValueError, match=r"Expected `logits` to hold at least 2 samples to fit a temperature on, got 1\."
    ):
        fit(np.array([[1.0, 0.0]]), np.array([0]))


@pytest.mark.parametrize("name", ["vs", "hist", "iso"])
def test_other_methods_fit_on_one_sample_is_an_error(name: str) -> None:
    with pytest.raises(ValueError, match=r"Expected `logits` to hold at least 2 samples to fit"):
        POSTHOC_METHODS[name]().fit(np.array([[1.0, 0.0]]), np.array([0]))


@pytest.mark.parametrize("n", [2, 20, 99])
def test_temperature_fit_on_few_samples_warns_with_the_number(n: int) -> None:
    logits, labels = sample_calibrated(n, 3, seed=n)
    message = rf"Fitting the temperature on only {n} samples \(fewer than 100\)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a bound optimum, likely at n = 2
        with pytest.warns(SmallSampleWarning, match=message) as caught:
            fit_temperature(logits, labels)
        assert caught[0].filename == __file__  # points at the caller, not into calstudy
        with pytest.warns(SmallSampleWarning, match=message) as caught:
            TemperatureScaling().fit(logits, labels)
        assert caught[0].filename == __file__


def test_temperature_fit_on_enough_samples_does_not_warn() -> None:
    logits, labels = sample_calibrated(SMALL_FIT_SAMPLES, 3, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_temperature(logits, labels)
        TemperatureScaling().fit(logits, labels)


def test_histogram_binning_rejects_a_huge_bin_count() -> None:
    logits, labels = sample_calibrated(50, 3, seed=2)
    with pytest.raises(
        ValueError, match=r"Expected `n_bins` to be an integer in \[1, 10000\] \(MAX_N_BINS\), got 100000000000\."
    ):
        HistogramBinning(n_bins=10**11).fit(logits, labels)


@pytest.mark.parametrize(
    ("logits", "labels", "match"),
    [
        (np.array([[np.nan, 0.0], [1.0, 0.0]]), [0, 1], r"Expected `logits` to be finite"),
        (np.array([[np.inf, 0.0], [1.0, 0.0]]), [0, 1], r"Expected `logits` to be finite"),
        (np.zeros((3, 2)), [0, 1], r"Expected `labels` to have shape \(3,\)"),
        (np.zeros(3), [0, 1, 0], r"Expected `logits` to be 2-D \(N, K\), got shape \(3,\)"),
        (np.zeros((2, 1)), [0, 0], r"K >= 2 classes"),
        (np.zeros((2, 3)), [0, 3], r"Expected `labels` to be in \[0, 2\], got values in \[0, 3\]"),
        (np.zeros((2, 3)), [-1, 0], r"Expected `labels` to be in \[0, 2\]"),
        (np.zeros((2, 3)), [0.0, 1.0], r"Expected `labels` to be integers, got dtype float64"),
        (np.array([["a", "b"]]), [0], r"Expected `logits` to be a real array"),
    ],
)
def test_fit_temperature_rejects_bad_input(logits, labels, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fit_temperature(logits, np.asarray(labels))
    with pytest.raises(ValueError, match=match):
        TemperatureScaling().fit(logits, np.asarray(labels))


@pytest.mark.parametrize("bounds", [(0.0, 1.0), (2.0, 1.0), (1.0, np.inf)])
def test_fit_temperature_rejects_bad_bounds(bounds) -> None:
    with pytest.raises(ValueError, match=r"Expected `bounds` to satisfy 0 < T_min < T_max"):
        fit_temperature(np.zeros((2, 2)), np.array([0, 1]), bounds=bounds)


@pytest.mark.parametrize("bounds", [1.0, (1.0, 2.0, 3.0), ("a", 2.0)])
def test_fit_temperature_rejects_bounds_that_are_not_a_pair(bounds) -> None:
    with pytest.raises(ValueError, match=r"Expected `bounds` to be a pair of numbers"):
        fit_temperature(np.zeros((2, 2)), np.array([0, 1]), bounds=bounds)


# --------------------------------------------------------------------------------------------
# All post-hoc methods
# --------------------------------------------------------------------------------------------


def test_posthoc_methods_registry() -> None:
    assert POSTHOC_METHODS == {
        "ts": TemperatureScaling,
        "vs": VectorScaling,
        "hist": HistogramBinning,
        "iso": IsotonicCalibration,
    }


@pytest.mark.parametrize("name", sorted(POSTHOC_METHODS))
def test_unfitted_use_is_an_error(name: str) -> None:
    method = POSTHOC_METHODS[name]()
    with pytest.raises(ValueError, match=r"to be fitted, got an unfitted instance"):
        method.predict_proba(np.zeros((2, 3)))
    if name == "ts":
        with pytest.raises(ValueError, match=r"Expected TemperatureScaling to be fitted"):
            method.transform(np.zeros((2, 3)))


@pytest.mark.parametrize("name", sorted(POSTHOC_METHODS))
def test_methods_lower_nll_and_ece_on_fit_set(name: str, overconfident) -> None:
    logits, labels = overconfident
    raw = softmax(logits)
    method = POSTHOC_METHODS[name]().fit(logits, labels)
    assert method.n_fit_ == len(labels)
    calibrated = method.predict_proba(logits)
    rows = np.arange(len(labels))
    nll_raw = float(np.mean(-np.log(raw[rows, labels])))
    nll_cal = float(np.mean(-np.log(calibrated[rows, labels])))
    assert nll_cal < nll_raw - 0.05
    assert reference_ece(calibrated, labels) < 0.5 * reference_ece(raw, labels)


@pytest.mark.parametrize("name", sorted(POSTHOC_METHODS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_methods_output_valid_probabilities_on_new_data(name: str, dtype, overconfident) -> None:
    logits, labels = overconfident
    method = POSTHOC_METHODS[name]().fit(logits[:2000].astype(dtype), labels[:2000])
    new = np.concatenate([logits[2000:], 1e3 * logits[:5], 1e-6 * logits[:5]]).astype(dtype)
    probs = method.predict_proba(new)
    assert probs.shape == new.shape and probs.dtype == np.float64
    assert np.all(probs > 0) and np.all(probs <= 1)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("name", ["vs", "hist", "iso"])
def test_methods_reject_a_different_number_of_classes(name: str, overconfident) -> None:
    logits, labels = overconfident
    method = POSTHOC_METHODS[name]().fit(logits, labels)
    with pytest.raises(
        ValueError, match=r"Expected `logits` to have 10 classes as in `fit`, got 3"
    ):
        method.predict_proba(np.zeros((2, 3)))


def test_temperature_scaling_predict_proba_is_softmax_of_scaled_logits(overconfident) -> None:
    logits, labels = overconfident
    ts = TemperatureScaling().fit(logits, labels)
    np.testing.assert_allclose(ts.predict_proba(logits), softmax(logits / ts.temperature))
    assert np.array_equal(ts.predict_proba(logits).argmax(1), logits.argmax(1))


def test_vector_scaling_gradient_is_exact() -> None:
    logits, labels = sample_calibrated(50, 4, seed=8)
    onehot = np.eye(4)[labels]
    params = np.random.default_rng(0).standard_normal(8)
    err = scipy.optimize.check_grad(
        lambda p: _vector_scaling_nll(p, logits, onehot)[0],
        lambda p: _vector_scaling_nll(p, logits, onehot)[1],
        params,
    )
    assert err < 1e-6


def test_vector_scaling_recovers_per_class_scales() -> None:
    true_logits, labels = sample_calibrated(20_000, 3, scale=1.5, seed=9)
    w_true = np.array([2.0, 0.5, 1.0])
    vs = VectorScaling().fit(true_logits / w_true, labels)
    np.testing.assert_allclose(vs.weight_, w_true, atol=0.1)
    np.testing.assert_allclose(vs.bias_ - vs.bias_.mean(), 0.0, atol=0.05)


def test_vector_scaling_with_unit_weights_is_the_identity() -> None:
    logits, _ = sample_calibrated(20, 5, seed=10)
    vs = VectorScaling()
    vs.weight_, vs.bias_ = np.ones(5), np.zeros(5)
    np.testing.assert_allclose(vs.predict_proba(logits), softmax(logits), rtol=1e-12)


def _binary_logits(p1: np.ndarray) -> np.ndarray:
    return np.column_stack([np.zeros_like(p1), np.log(p1 / (1 - p1))])


def test_histogram_binning_tiny_exact_case() -> None:
    """Two equal-mass bins per class split at p = 0.5; one positive in four below, three above."""
    p1 = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9])
    labels = np.array([0, 0, 1, 0, 1, 1, 0, 1])
    hist = HistogramBinning(n_bins=2).fit(_binary_logits(p1), labels)
    np.testing.assert_allclose(hist.edges_, [[0.5], [0.5]])
    np.testing.assert_allclose(hist.values_, [[0.25, 0.75], [0.25, 0.75]])
    probs = hist.predict_proba(_binary_logits(np.array([0.05, 0.45, 0.55, 0.95])))
    np.testing.assert_allclose(probs[:, 1], [0.25, 0.25, 0.75, 0.75])


def test_histogram_binning_floor_keeps_nll_finite() -> None:
    p1 = np.array([0.1, 0.2, 0.8, 0.9])
    hist = HistogramBinning(n_bins=2, eps=1e-6).fit(_binary_logits(p1), np.array([0, 0, 1, 1]))
    probs = hist.predict_proba(_binary_logits(np.array([0.05])))  # bin with no positive
    np.testing.assert_allclose(probs, [[1 / (1 + 1e-6), 1e-6 / (1 + 1e-6)]])


def test_isotonic_is_monotone_in_binary_case(overconfident) -> None:
    rng = np.random.default_rng(11)
    p1 = rng.uniform(0.01, 0.99, 2000)
    labels = (rng.random(2000) < p1**2).astype(np.int64)  # overconfident in class 1
    iso = IsotonicCalibration().fit(_binary_logits(p1), labels)
    grid = np.linspace(0.001, 0.999, 500)
    q1 = iso.predict_proba(_binary_logits(grid))[:, 1]
    # Renormalising g1 / (g0 + g1) with g1 increasing and g0 decreasing in p1 keeps monotonicity.
    assert np.all(np.diff(q1) >= -1e-12)
    assert q1[0] < 0.05 and q1[-1] > 0.9


@pytest.mark.parametrize(
    ("method", "match"),
    [
        (HistogramBinning(n_bins=0), r"Expected `n_bins` to be an integer in \[1, 10000\].*got 0\."),
        (HistogramBinning(n_bins=2.5), r"to be an integer in \[1, 10000\].*got 2\.5\."),
        (HistogramBinning(n_bins=True), r"to be an integer in \[1, 10000\].*got True \(bool\)\."),
        (HistogramBinning(eps=0.0), r"Expected `eps` to be in \(0, 1\), got 0\.0\."),
        (IsotonicCalibration(eps=1.0), r"Expected `eps` to be in \(0, 1\), got 1\.0\."),
    ],
)
def test_nonparametric_methods_reject_bad_options(method, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        method.fit(np.zeros((4, 2)), np.array([0, 1, 0, 1]))
