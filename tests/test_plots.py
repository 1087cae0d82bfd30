"""Tests of calstudy.plots: exact reliability statistics, and what each figure draws."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.patches import Rectangle
from sklearn.calibration import calibration_curve

from calstudy import analysis as an
from calstudy import metrics, plots

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _bars(ax: plt.Axes) -> list[Rectangle]:
    return [p for c in ax.containers for p in c.patches if isinstance(p, Rectangle)]


# ---------------------------------------------------------------------------------------------
# reliability_data
# ---------------------------------------------------------------------------------------------

# Confidences 0.2 (bin [0, .25]), 0.25 (edge: bin 0), 0.3 and 0.5 (bin 1: (.25, .5]), 0.8 and 0.9
# (bin 3); bin 2 is empty. Correct: yes, no, yes, yes, no, yes.
CONF = np.array([0.2, 0.25, 0.3, 0.5, 0.8, 0.9])
CORRECT = np.array([1, 0, 1, 1, 0, 1])


def _binary(conf: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-class probs with top-label confidence ``max(conf, 1 - conf)`` on class 0, and labels
    for which that prediction is right exactly where ``correct == 1``."""
    top = np.maximum(conf, 1 - conf)
    probs = np.column_stack([top, 1 - top])
    labels = np.where(correct == 1, 0, 1)
    return probs, labels


def test_reliability_data_hand_case() -> None:
    # Ten classes let the top confidence go below 0.5: the other nine share 1 - conf.
    probs = np.column_stack([CONF] + [(1 - CONF) / 9] * 9)
    labels = np.where(CORRECT == 1, 0, 1)
    data = plots.reliability_data(probs, labels, n_bins=4)
    np.testing.assert_allclose(data.edges, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_array_equal(data.counts, [2, 2, 0, 2])
    np.testing.assert_allclose(data.conf, [0.225, 0.4, np.nan, 0.85])
    np.testing.assert_allclose(data.acc, [0.5, 1.0, np.nan, 0.5])
    # ECE = (2 |.5 - .225| + 2 |1 - .4| + 2 |.5 - .85|) / 6
    assert data.ece == pytest.approx((2 * 0.275 + 2 * 0.6 + 2 * 0.35) / 6)
    assert data.n_bins == 4 and data.strategy == "width"


def _softmax_sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 10)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return probs, rng.integers(0, 10, n)


@pytest.mark.parametrize("n_bins", [1, 5, 15, 40])
def test_reliability_data_ece_equals_direct_formula(n_bins: int) -> None:
    probs, labels = _softmax_sample(500, seed=n_bins)
    data = plots.reliability_data(probs, labels, n_bins=n_bins)
    conf, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    direct = 0.0
    for b in range(n_bins):
        low, high = b / n_bins, (b + 1) / n_bins
        members = (conf > low) & (conf <= high) if b else (conf <= high)
        if members.any():
            direct += members.sum() / 500 * abs(correct[members].mean() - conf[members].mean())
    assert data.ece == pytest.approx(direct)
    assert data.counts.sum() == 500


@pytest.mark.parametrize("n_bins", [5, 15])
def test_reliability_data_ece_matches_metrics(n_bins: int) -> None:
    probs, labels = _softmax_sample(300, seed=10 + n_bins)
    width = plots.reliability_data(probs, labels, n_bins=n_bins)
    mass = plots.reliability_data(probs, labels, n_bins=n_bins, strategy="mass")
    assert width.ece == pytest.approx(metrics.ece(probs, labels, n_bins=n_bins))
    assert mass.ece == pytest.approx(metrics.ece_em(probs, labels, n_bins=n_bins))


def test_reliability_data_matches_sklearn_calibration_curve() -> None:
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.5, 1.0, 1000)
    correct = (rng.uniform(size=1000) < conf**2).astype(int)
    data = plots.reliability_data(*_binary(conf, correct), n_bins=10)
    prob_true, prob_pred = calibration_curve(correct, conf, n_bins=10)
    filled = data.counts > 0
    np.testing.assert_allclose(data.acc[filled], prob_true)
    np.testing.assert_allclose(data.conf[filled], prob_pred)


def test_reliability_data_mass_bins_have_equal_mass_and_separating_edges() -> None:
    rng = np.random.default_rng(1)
    conf = rng.uniform(0.5, 1.0, 1000)
    data = plots.reliability_data(*_binary(conf, np.ones(1000, int)), n_bins=10, strategy="mass")
    np.testing.assert_array_equal(data.counts, 100)
    assert data.edges[0] == 0.0 and data.edges[-1] == 1.0
    # Each bar spans exactly its bin's confidences: counting by edges recovers the bins.
    np.testing.assert_array_equal(np.histogram(conf, bins=data.edges)[0], data.counts)


def test_reliability_data_is_permutation_invariant() -> None:
    probs, labels = _binary(CONF, CORRECT)
    order = np.random.default_rng(2).permutation(len(labels))
    a = plots.reliability_data(probs, labels, n_bins=4)
    b = plots.reliability_data(probs[order], labels[order], n_bins=4)
    np.testing.assert_array_equal(a.counts, b.counts)
    assert a.ece == pytest.approx(b.ece)


@pytest.mark.parametrize(
    ("probs", "labels", "kwargs", "match"),
    [
        (np.ones(3), np.zeros(3, int), {}, r"Expected `probs` to be a 2-D array"),
        (np.full((3, 2), 0.5), np.zeros(2, int), {}, r"Expected `labels` to have the same length"),
        (np.full((3, 2), 0.5), np.zeros(3), {}, r"Expected `labels` to be an integer array"),
        (np.full((3, 2), 0.7), np.zeros(3, int), {}, r"rows of `probs` must sum to 1"),
        (
            np.full((3, 2), 0.5),
            np.zeros(3, int),
            {"n_bins": 0},
            r"Expected `n_bins` to be a positive integer, got 0",
        ),
        (
            np.full((3, 2), 0.5),
            np.zeros(3, int),
            {"strategy": "quantile"},
            r"Expected `strategy` to be 'width' or 'mass'",
        ),
    ],
)
def test_reliability_data_validates(probs, labels, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        plots.reliability_data(probs, labels, **kwargs)


# ---------------------------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------------------------


def test_plot_reliability_draws_bars_gap_diagonal_and_counts() -> None:
    probs, labels = _binary(CONF, CORRECT)  # top confidences 0.9 0.75 0.7 0.5 0.8 0.9
    data = plots.reliability_data(probs, labels, n_bins=4)
    fig, ax = plt.subplots()
    out = plots.plot_reliability(data, ax, title="toy")
    assert out is ax
    filled = int((data.counts > 0).sum())
    accuracy_bars, gap_bars = ax.containers
    assert len(accuracy_bars) == len(gap_bars) == filled
    np.testing.assert_allclose([p.get_height() for p in accuracy_bars], data.acc[data.counts > 0])
    assert len(ax.lines) == 1  # the diagonal
    assert any("ECE = " in t.get_text() for t in ax.texts)
    assert ax.get_title() == "toy"
    twins = [a for a in fig.axes if a is not ax]
    assert len(twins) == 1 and len(_bars(twins[0])) == 4


def test_plot_reliability_without_counts_creates_its_own_figure() -> None:
    data = plots.reliability_data(*_binary(CONF, CORRECT), n_bins=4)
    ax = plots.plot_reliability(data, show_counts=False)
    assert len(ax.figure.axes) == 1


def test_plot_tau_matrix_annotates_every_cell() -> None:
    rng = np.random.default_rng(3)
    df = pd.DataFrame(rng.normal(size=(50, 3)), columns=["a", "b", "c"])
    matrix = an.tau_matrix(df, ["a", "b", "c"])
    ax = plots.plot_tau_matrix(matrix)
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 9
    assert texts.count("1.00") == 3
    with pytest.raises(ValueError, match=r"Expected `matrix` to be square"):
        plots.plot_tau_matrix(matrix.iloc[:2])


@pytest.fixture
def scatter_frame() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    acc = rng.uniform(0.8, 0.95, 60)
    return pd.DataFrame(
        {
            "acc": acc,
            "ece": 0.3 - 0.25 * acc + rng.normal(0, 0.01, 60),
            "space": ["tss", "sss"] * 30,
        }
    )


def test_plot_metric_scatter_with_trend(scatter_frame: pd.DataFrame) -> None:
    trend = an.fit_trend(scatter_frame, "acc", "ece", kind="linear")
    ax = plots.plot_metric_scatter(scatter_frame, "acc", "ece", hue="space", trend=trend)
    points = ax.collections[0].get_offsets()
    assert len(points) == 60
    (line,) = [line for line in ax.lines if line.get_label() == "linear trend"]
    np.testing.assert_allclose(line.get_ydata(), trend.fit)
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 1  # the band
    assert ax.get_legend() is not None  # hue legend


def test_plot_metric_scatter_lowess_has_no_band(scatter_frame: pd.DataFrame) -> None:
    trend = an.fit_trend(scatter_frame, "acc", "ece", kind="lowess")
    ax = plots.plot_metric_scatter(scatter_frame, "acc", "ece", trend=trend)
    assert len(ax.lines) == 1
    assert not any(isinstance(c, PolyCollection) for c in ax.collections)
    with pytest.raises(ValueError, match=r"Expected `df` to have columns \['nll'\]"):
        plots.plot_metric_scatter(scatter_frame, "acc", "nll")


def test_plot_bin_count_distributions_one_box_per_bin_count() -> None:
    rng = np.random.default_rng(5)
    df = pd.DataFrame({f"post_ECE_{b}": rng.uniform(0, 0.1, 40) for b in (5, 15, 100)})
    ax = plots.plot_bin_count_distributions(df, "post_ECE")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["5", "15", "100"]
    assert len(ax.patches) == 3  # one box per bin count
    assert ax.get_ylabel() == "post_ECE (%)"
    violin = plots.plot_bin_count_distributions(df, "post_ECE", kind="violin", percent=False)
    assert len(violin.get_xticklabels()) == 3
    with pytest.raises(ValueError, match=r"Expected `kind` to be 'box' or 'violin'"):
        plots.plot_bin_count_distributions(df, "post_ECE", kind="strip")  # type: ignore[arg-type]


def test_plot_tau_vs_population_overlays_lines() -> None:
    table = pd.DataFrame(
        {"size": [100, 10, 1000], "tau_mean": [0.3, 0.2, 0.35], "low": [0.2, 0.0, 0.33]}
    ).assign(high=lambda t: 2 * t["tau_mean"] - t["low"])
    ax = plots.plot_tau_vs_population(table, label="random")
    plots.plot_tau_vs_population(table.assign(tau_mean=0.1), ax, label="top-N")
    curves = [line for line in ax.lines if line.get_label() in ("random", "top-N")]
    assert len(curves) == 2
    np.testing.assert_array_equal(curves[0].get_xdata(), [10, 100, 1000])  # sorted by size
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 2
    assert ax.get_xscale() == "log"
    with pytest.raises(ValueError, match=r"Expected `table` to have columns \['high'\]"):
        plots.plot_tau_vs_population(table.drop(columns="high"))


def test_plot_op_effects_one_whisker_per_term() -> None:
    effects = pd.DataFrame(
        {
            "term": ["intercept", "n_skip_connect", "n_nor_conv_3x3", "n_avg_pool_3x3"],
            "coef": [0.05, 0.02, -0.001, 0.004],
            "low": [0.04, 0.015, -0.004, -0.001],
            "high": [0.06, 0.025, 0.002, 0.009],
            "p": [1e-9, 1e-9, 0.5, 0.1],
            "p_holm": [np.nan, 3e-9, 0.5, 0.2],
        }
    )
    ax = plots.plot_op_effects(effects)
    ticks = sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])  # top to bottom
    assert [t.get_text() for t in ticks] == ["n_skip_connect", "n_nor_conv_3x3", "n_avg_pool_3x3"]
    significant, other = ax.containers
    assert len(significant.lines[0].get_xdata()) == 1  # only n_skip_connect survives Holm
    assert len(other.lines[0].get_xdata()) == 2
    with pytest.raises(ValueError, match=r"Expected `effects` to have columns \['p'\]"):
        plots.plot_op_effects(effects.drop(columns="p"))


def _small_inputs() -> dict[str, object]:
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({"acc": rng.uniform(size=20), "pre_ECE_5": rng.uniform(size=20)}).assign(
        pre_ECE_15=lambda d: d["pre_ECE_5"] / 2
    )
    return {
        "reliability": plots.reliability_data(*_binary(CONF, CORRECT), n_bins=4),
        "matrix": an.tau_matrix(frame, ["acc", "pre_ECE_5"]),
        "frame": frame,
        "table": pd.DataFrame({"size": [5, 10], "tau_mean": [0.1, 0.2], "low": 0.0, "high": 0.3}),
        "effects": pd.DataFrame(
            {"term": ["x"], "coef": [1.0], "low": [0.5], "high": [1.5], "p": [0.01]}
        ),
    }


@pytest.mark.parametrize(
    "draw",
    [
        lambda i, ax: plots.plot_reliability(i["reliability"], ax, show_counts=False),
        lambda i, ax: plots.plot_tau_matrix(i["matrix"], ax),
        lambda i, ax: plots.plot_metric_scatter(i["frame"], "acc", "pre_ECE_5", ax),
        lambda i, ax: plots.plot_bin_count_distributions(i["frame"], "pre_ECE", ax),
        lambda i, ax: plots.plot_tau_vs_population(i["table"], ax),
        lambda i, ax: plots.plot_op_effects(i["effects"], ax),
    ],
    ids=["reliability", "tau_matrix", "scatter", "bin_counts", "tau_vs_population", "op_effects"],
)
def test_plot_functions_draw_on_the_given_axes_without_new_figures(draw) -> None:
    inputs = _small_inputs()
    fig, ax = plt.subplots()
    assert draw(inputs, ax) is ax
    assert plt.get_fignums() == [fig.number]
    assert ax.has_data()
