"""Tests of calstudy.analysis: hand cases, independent references, planted effects."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from calstudy import analysis as an
from calstudy import stats as tau_stats
from calstudy.space import TSS_OPS, format_tss, parse_tss

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _tau_b_brute_force(x: np.ndarray, y: np.ndarray) -> float:
    """τ-b by enumerating all pairs (Kendall 1945), independent of scipy."""
    concordant = discordant = tied_x = tied_y = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        if dx == 0 and dy == 0:
            continue
        if dx == 0:
            tied_x += 1
        elif dy == 0:
            tied_y += 1
        elif dx == dy:
            concordant += 1
        else:
            discordant += 1
    n0 = concordant + discordant
    return (concordant - discordant) / math.sqrt((n0 + tied_x) * (n0 + tied_y))


def _correlated(n: int, rho: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return x, rho * x + math.sqrt(1 - rho**2) * rng.normal(size=n)


# ---------------------------------------------------------------------------------------------
# Kendall τ-b
# ---------------------------------------------------------------------------------------------


def test_kendall_tau_hand_case_with_ties() -> None:
    # Pairs: 4 concordant, 0 discordant, 1 tied in x only, 1 tied in y only: 4 / sqrt(5 * 5).
    x, y = [1, 2, 2, 3], [1, 2, 3, 3]
    assert an.kendall_tau(x, y) == pytest.approx(0.8)
    assert an.kendall_tau(x, y) == pytest.approx(stats.kendalltau(x, y).statistic)


def test_kendall_tau_matches_brute_force_with_many_ties() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, size=60).astype(float)
    y = x + rng.integers(-2, 3, size=60)
    assert an.kendall_tau(x, y) == pytest.approx(_tau_b_brute_force(x, y), abs=1e-12)


def test_kendall_tau_drops_nan_pairs() -> None:
    x = [1.0, 2.0, np.nan, 3.0, 4.0, 5.0]
    y = [2.0, 1.0, 7.0, np.nan, 4.0, 3.0]
    assert an.kendall_tau(x, y) == pytest.approx(
        stats.kendalltau([1, 2, 4, 5], [2, 1, 4, 3]).statistic
    )


def test_kendall_tau_rejects_too_few_pairs() -> None:
    with pytest.raises(ValueError, match=r"at least 3 complete .* got 2"):
        an.kendall_tau([1, 2, np.nan, 4], [1, 2, 3, np.nan])


def test_kendall_tau_rejects_unequal_lengths() -> None:
    with pytest.raises(ValueError, match=r"Expected `x` and `y` to be 1-D of equal length"):
        an.kendall_tau([1, 2, 3], [1, 2, 3, 4])


def test_kendall_ci_contains_estimate_and_reports_scipy_p_value() -> None:
    x, y = _correlated(300, 0.5, seed=2)
    r = an.kendall_ci(x, y, n_boot=300, seed=0)
    reference = stats.kendalltau(x, y)
    assert r.low < r.tau < r.high
    assert r.tau == pytest.approx(reference.statistic)
    assert r.p_value == pytest.approx(reference.pvalue)
    assert r.n == 300


def test_kendall_ci_narrows_with_n() -> None:
    small = an.kendall_ci(*_correlated(100, 0.5, seed=3), n_boot=300)
    large = an.kendall_ci(*_correlated(2000, 0.5, seed=3), n_boot=300)
    # The standard error of τ shrinks like 1/sqrt(n): sqrt(20) ≈ 4.5 times narrower.
    assert (large.high - large.low) < 0.4 * (small.high - small.low)


def test_kendall_ci_is_reproducible_per_seed() -> None:
    x, y = _correlated(80, 0.3, seed=4)
    assert an.kendall_ci(x, y, n_boot=100, seed=7) == an.kendall_ci(x, y, n_boot=100, seed=7)
    assert an.kendall_ci(x, y, n_boot=100, seed=7) != an.kendall_ci(x, y, n_boot=100, seed=8)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_boot": 0}, r"Expected `n_boot` to be a positive integer, got 0"),
        ({"level": 1.0}, r"Expected `level` to be in \(0, 1\), got 1.0"),
    ],
)
def test_kendall_ci_validates_options(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        an.kendall_ci([1, 2, 3, 4], [1, 3, 2, 4], **kwargs)


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    a = rng.normal(size=200)
    b = a + rng.normal(size=200)
    c = rng.normal(size=200)
    c[:20] = np.nan
    return pd.DataFrame({"a": a, "b": b, "c": c})


def test_tau_matrix_is_symmetric_with_unit_diagonal(frame: pd.DataFrame) -> None:
    m = an.tau_matrix(frame, ["a", "b", "c"])
    assert list(m.index) == list(m.columns) == ["a", "b", "c"]
    np.testing.assert_array_equal(np.diag(m), 1.0)
    np.testing.assert_array_equal(m.to_numpy(), m.to_numpy().T)
    assert m.loc["a", "b"] == pytest.approx(an.kendall_tau(frame["a"], frame["b"]))
    assert m.loc["b", "c"] == pytest.approx(an.kendall_tau(frame["b"], frame["c"]))  # pairwise


def test_tau_matrix_validates(frame: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"Expected `method` to be 'kendall'"):
        an.tau_matrix(frame, ["a", "b"], method="cosine")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Expected `columns` to name at least 2 columns"):
        an.tau_matrix(frame, ["a"])
    with pytest.raises(ValueError, match=r"Expected `df` to have columns \['zz'\]"):
        an.tau_matrix(frame, ["a", "zz"])


def test_tau_table_matches_kendall_ci(frame: pd.DataFrame) -> None:
    table = an.tau_table(frame, [("a", "b"), ("a", "c")], n_boot=50, seed=1)
    assert list(table.columns) == ["x", "y", "tau", "low", "high", "p", "n"]
    r = an.kendall_ci(frame["a"], frame["c"], n_boot=50, seed=1)
    row = table.iloc[1]
    assert (row["x"], row["y"], row["n"]) == ("a", "c", 180)
    assert (row["tau"], row["low"], row["high"], row["p"]) == (r.tau, r.low, r.high, r.p_value)


# ---------------------------------------------------------------------------------------------
# Multiple comparisons
# ---------------------------------------------------------------------------------------------

P = [0.01, 0.04, 0.03, 0.005]


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        # sorted p: .005 .01 .03 .04; Holm multiplies by 4 3 2 1 then takes running maxima.
        ("holm", [0.03, 0.06, 0.06, 0.02]),
        # BH multiplies by 4/1 4/2 4/3 4/4 then takes running minima from the largest.
        ("bh", [0.02, 0.04, 0.04, 0.02]),
        ("bonferroni", [0.04, 0.16, 0.12, 0.02]),
    ],
)
def test_correct_pvalues_hand_values(method: str, expected: list[float]) -> None:
    np.testing.assert_allclose(an.correct_pvalues(P, method=method), expected)


@pytest.mark.parametrize(("method", "sm_method"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_correct_pvalues_matches_statsmodels(method: str, sm_method: str) -> None:
    p = np.random.default_rng(6).uniform(0, 0.2, size=40)
    np.testing.assert_allclose(
        an.correct_pvalues(p, method=method), multipletests(p, method=sm_method)[1]
    )


def test_correct_pvalues_keeps_nan_out_of_the_family() -> None:
    adjusted = an.correct_pvalues([0.01, np.nan, 0.02], method="bonferroni")
    np.testing.assert_allclose(adjusted, [0.02, np.nan, 0.04])


def test_correct_pvalues_validates() -> None:
    with pytest.raises(ValueError, match=r"Expected `p` to lie in \[0, 1\]"):
        an.correct_pvalues([0.1, 1.5])
    with pytest.raises(ValueError, match=r"Expected `method` to be 'holm', 'bh' or 'bonferroni'"):
        an.correct_pvalues([0.1], method="sidak")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Expected `p` to be 1-D"):
        an.correct_pvalues([[0.1]])


# ---------------------------------------------------------------------------------------------
# Selection and joins
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def models() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "arch": [f"arch{i:03d}" for i in range(100)],
            "acc": rng.permutation(np.linspace(0.5, 0.95, 100)),
            "pre_ECE_15": rng.uniform(0.01, 0.1, 100),
        }
    ).sample(frac=1.0, random_state=0)


def test_top_n_takes_the_highest(models: pd.DataFrame) -> None:
    best = an.top_n(models, 10)
    assert len(best) == 10
    assert best["acc"].is_monotonic_decreasing
    assert best["acc"].min() > models.drop(best.index)["acc"].max()


def test_top_n_is_not_the_papers_head_defect(models: pd.DataFrame) -> None:
    # The released code used ascending sort + head(N): the N *least* accurate models.
    defect = models.sort_values("acc").head(10)
    best = an.top_n(models, 10)
    assert set(best["arch"]).isdisjoint(defect["arch"])
    assert best["acc"].mean() > models["acc"].quantile(0.85)


def test_top_n_breaks_ties_by_arch_and_skips_nan() -> None:
    d = pd.DataFrame({"arch": ["c", "a", "b", "d"], "acc": [0.9, 0.9, np.nan, 0.8]})
    assert an.top_n(d, 2)["arch"].tolist() == ["a", "c"]
    assert an.top_n(d.iloc[::-1], 2)["arch"].tolist() == ["a", "c"]
    with pytest.raises(ValueError, match=r"Expected `n` to be at most .* \(3\), got 4"):
        an.top_n(d, 4)


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_top_n_rejects_bad_n(models: pd.DataFrame, n: object) -> None:
    with pytest.raises(ValueError, match=r"Expected `n` to be a positive integer"):
        an.top_n(models, n)  # type: ignore[arg-type]


def test_top_fraction_rounds_up(models: pd.DataFrame) -> None:
    assert len(an.top_fraction(models, 0.1)) == 10
    assert len(an.top_fraction(models, 0.101)) == 11
    assert an.top_fraction(models, 0.05)["arch"].tolist() == an.top_n(models, 5)["arch"].tolist()
    with pytest.raises(ValueError, match=r"Expected `fraction` to be in \(0, 1\], got 0"):
        an.top_fraction(models, 0)


def _runs(n_arch: int, seeds: tuple[int, ...], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        {"space": "tss", "arch": f"a{i}", "seed": s, "fidelity": 200, "value": rng.normal()}
        for i in range(n_arch)
        for s in seeds
    ]
    return pd.DataFrame(rows)


def test_paired_joins_by_key_not_position() -> None:
    a = _runs(20, (0, 1), seed=8)
    b = a.assign(value=a["value"] * 10).sample(frac=1.0, random_state=1)  # same keys, shuffled
    joined = an.paired(a, b)
    assert len(joined) == 40
    np.testing.assert_allclose(joined["value_b"], 10 * joined["value_a"])


def test_paired_drops_unmatched_keys_and_uses_suffixes() -> None:
    a = _runs(5, (0,), seed=9)
    b = a.iloc[:3]
    joined = an.paired(a, b, suffixes=("_pre", "_post"))
    assert joined["arch"].tolist() == ["a0", "a1", "a2"]
    assert {"value_pre", "value_post"} <= set(joined.columns)


def test_paired_rejects_duplicate_keys() -> None:
    a = _runs(3, (0,), seed=10)
    doubled = pd.concat([a, a.iloc[:1]])
    with pytest.raises(ValueError, match=r"Expected `df_b` to have one row per key .* got 2 rows"):
        an.paired(a, doubled)
    with pytest.raises(ValueError, match=r"Expected `df_a` to have columns \['fidelity'\]"):
        an.paired(a.drop(columns="fidelity"), a)


def _two_datasets(n_arch: int, seed: int) -> pd.DataFrame:
    """ECE on the second dataset tracks the first only among the most accurate architectures."""
    rng = np.random.default_rng(seed)
    base = pd.DataFrame(
        {
            "space": "tss",
            "arch": [f"a{i:03d}" for i in range(n_arch)],
            "seed": 0,
            "fidelity": 200,
            "acc": rng.uniform(0.5, 0.95, n_arch),
            "ece": rng.uniform(0.0, 0.1, n_arch),
        }
    )
    second = base.assign(acc=base["acc"] - 0.3, ece=rng.uniform(0.0, 0.1, n_arch))
    best = base["acc"].rank(ascending=False) <= 20
    second.loc[best, "ece"] = base.loc[best, "ece"] * 2  # perfectly concordant on the top 20
    frame = pd.concat([base.assign(dataset="cifar10"), second.assign(dataset="fashion-mnist")])
    return frame.sample(frac=1.0, random_state=seed)


def test_cross_dataset_tau_pairs_same_arch() -> None:
    df = _two_datasets(200, seed=11)
    r = an.cross_dataset_tau(df, "ece", n_boot=100)
    a = df[df["dataset"] == "cifar10"].set_index("arch")["ece"]
    b = df[df["dataset"] == "fashion-mnist"].set_index("arch")["ece"]
    assert r.n == 200
    assert r.tau == pytest.approx(an.kendall_tau(a.sort_index(), b.sort_index()))
    top = an.cross_dataset_tau(df, "ece", top=20, n_boot=100)
    assert (top.n, top.tau) == (20, pytest.approx(1.0))
    # The ranking column can be the compared metric itself (accuracy shifted by -0.3: τ = 1).
    assert an.cross_dataset_tau(df, "acc", n_boot=10).tau == pytest.approx(1.0)


def test_cross_dataset_tau_validates() -> None:
    df = _two_datasets(30, seed=12)
    with pytest.raises(ValueError, match=r"Expected `datasets` to be two different"):
        an.cross_dataset_tau(df, "ece", ("cifar10", "cifar10"))
    with pytest.raises(ValueError, match=r"Expected `df` to have rows of dataset 'svhn'"):
        an.cross_dataset_tau(df, "ece", ("cifar10", "svhn"))


# ---------------------------------------------------------------------------------------------
# τ against population size
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def population() -> pd.DataFrame:
    x, y = _correlated(400, 0.6, seed=13)
    return pd.DataFrame({"x": x, "y": y, "acc": np.random.default_rng(13).uniform(size=400)})


def test_tau_vs_population_random_subsets(population: pd.DataFrame) -> None:
    table = an.tau_vs_population(population, "x", "y", sizes=[20, 100, 400], n_repeats=30)
    assert list(table.columns) == ["size", "tau_mean", "low", "high"]
    assert table["size"].tolist() == [20, 100, 400]
    assert (table["low"] <= table["tau_mean"] + 1e-12).all()
    assert (table["tau_mean"] <= table["high"] + 1e-12).all()
    width = table["high"] - table["low"]
    assert width.iloc[0] > width.iloc[1] > width.iloc[2]
    # The whole population is a single subset: no spread, and τ on all rows.
    full = table.iloc[2]
    assert full["low"] == pytest.approx(full["high"])
    assert full["tau_mean"] == pytest.approx(an.kendall_tau(population["x"], population["y"]))


def test_tau_vs_population_top_subsets(population: pd.DataFrame) -> None:
    table = an.tau_vs_population(population, "x", "y", sizes=[50], subset="top", n_repeats=50)
    best = an.top_n(population, 50)
    assert table.loc[0, "tau_mean"] == pytest.approx(an.kendall_tau(best["x"], best["y"]))
    assert table.loc[0, "low"] <= table.loc[0, "tau_mean"] <= table.loc[0, "high"]


def test_tau_vs_population_validates(population: pd.DataFrame) -> None:
    with pytest.raises(
        ValueError, match=r"Expected each of `sizes` to be an integer in \[3, 400\]"
    ):
        an.tau_vs_population(population, "x", "y", sizes=[401])
    with pytest.raises(ValueError, match=r"Expected `subset` to be 'random' or 'top'"):
        an.tau_vs_population(population, "x", "y", sizes=[10], subset="all")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Harmonic calibration score
# ---------------------------------------------------------------------------------------------


def test_hcs_hand_values() -> None:
    np.testing.assert_allclose(
        an.hcs([0.9, 0.8, 1.0, 0.0, 0.5], [0.1, 0.5, 0.0, 1.0, 0.0]),
        [0.9, 2 * 0.8 * 0.5 / 1.3, 1.0, 0.0, 2 * 0.5 / 1.5],
    )


def test_hcs_is_symmetric_in_acc_and_one_minus_ece() -> None:
    acc, ece = np.array([0.3, 0.7, 0.95]), np.array([0.2, 0.05, 0.4])
    np.testing.assert_allclose(an.hcs(acc, ece), an.hcs(1 - ece, 1 - acc))


def test_hcs_rejects_percent() -> None:
    with pytest.raises(ValueError, match=r"Expected `acc` to be a fraction in \[0, 1\]"):
        an.hcs(90.0, 0.05)
    with pytest.raises(ValueError, match=r"Expected `ece` to be a fraction in \[0, 1\]"):
        an.hcs(0.9, -0.1)


def test_top_hcs_prefers_calibrated_over_slightly_more_accurate() -> None:
    d = pd.DataFrame(
        {"arch": ["x", "y", "z"], "acc": [0.93, 0.92, 0.5], "pre_ECE_15": [0.2, 0.01, 0.0]}
    )
    best = an.top_hcs(d, 2)
    assert best["arch"].tolist() == ["y", "x"]
    np.testing.assert_allclose(best["hcs"], an.hcs([0.92, 0.93], [0.01, 0.2]))


# ---------------------------------------------------------------------------------------------
# Bin counts
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def binned() -> pd.DataFrame:
    base = np.random.default_rng(14).uniform(0.0, 0.1, 50)
    return pd.DataFrame(
        {
            "pre_ECE_5": base,
            "pre_ECE_15": 2 * base + 0.01,  # same ranking
            "pre_ECE_500": 0.2 - base,  # reversed ranking
            "post_ECE_15": base,  # other prefix, ignored
        }
    )


def test_bin_count_stability_pairs(binned: pd.DataFrame) -> None:
    table = an.bin_count_stability(binned)
    assert list(table.columns) == ["bins_a", "bins_b", "tau"]
    got = {(a, b): t for a, b, t in table.itertuples(index=False)}
    assert got == {
        (5, 15): pytest.approx(1.0),
        (5, 500): pytest.approx(-1.0),
        (15, 500): pytest.approx(-1.0),
    }


def test_bin_count_summary_quantiles(binned: pd.DataFrame) -> None:
    summary = an.bin_count_summary(binned, bin_counts=[5, 500])
    assert summary.index.tolist() == [5, 500]
    values = binned["pre_ECE_500"]
    assert summary.loc[500, "median"] == pytest.approx(values.median())
    assert summary.loc[500, "iqr"] == pytest.approx(values.quantile(0.75) - values.quantile(0.25))
    assert summary.loc[5, "n"] == 50


def test_bin_count_functions_need_two_columns(binned: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"at least 2 bin-count columns 'post_ECE_<n_bins>'"):
        an.bin_count_stability(binned, "post_ECE")
    with pytest.raises(ValueError, match=r"Expected `df` to have columns \['pre_ECE_50'\]"):
        an.bin_count_summary(binned, bin_counts=[5, 50])


# ---------------------------------------------------------------------------------------------
# Trends and regressions
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def trend_data() -> pd.DataFrame:
    rng = np.random.default_rng(15)
    x = rng.uniform(0.8, 0.95, 500)
    return pd.DataFrame({"acc": x, "ece": 0.3 - 0.25 * x + rng.normal(0, 0.005, 500)})


def test_fit_trend_linear_recovers_slope(trend_data: pd.DataFrame) -> None:
    trend = an.fit_trend(trend_data, "acc", "ece", kind="linear", grid_size=50)
    assert trend.x.shape == trend.fit.shape == trend.low.shape == (50,)
    assert trend.params["x"] == pytest.approx(-0.25, abs=0.02)
    assert trend.pvalues["x"] < 1e-10
    assert np.all(trend.low < trend.fit) and np.all(trend.fit < trend.high)
    assert trend.x[0] == trend_data["acc"].min() and trend.x[-1] == trend_data["acc"].max()


def test_fit_trend_quadratic_and_lowess(trend_data: pd.DataFrame) -> None:
    curved = trend_data.assign(ece=(trend_data["acc"] - 0.875) ** 2)
    quad = an.fit_trend(curved, "acc", "ece", kind="quadratic")
    assert quad.params["x^2"] == pytest.approx(1.0, rel=1e-6)
    lowess = an.fit_trend(trend_data, "acc", "ece", kind="lowess")
    np.testing.assert_allclose(lowess.fit, 0.3 - 0.25 * lowess.x, atol=0.003)
    assert np.isnan(lowess.low).all() and lowess.params == {}


def test_fit_trend_validates(trend_data: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"Expected `kind` to be 'lowess', 'linear'"):
        an.fit_trend(trend_data, "acc", "ece", kind="cubic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Expected at least 4 complete rows"):
        an.fit_trend(trend_data.iloc[:3], "acc", "ece", kind="quadratic")


def test_ols_table_formula(trend_data: pd.DataFrame) -> None:
    table = an.ols_table(trend_data, "ece ~ acc")
    assert list(table.columns) == ["term", "coef", "low", "high", "p", "p_holm"]
    slope = table.set_index("term").loc["acc"]
    assert slope["low"] < -0.25 < slope["high"]
    assert np.isnan(table.set_index("term").loc["Intercept", "p_holm"])


@pytest.fixture(scope="module")
def tss_runs() -> pd.DataFrame:
    """Random TSS cells with two planted responses:

    ``post_ECE_15 = 0.05 + 0.02 n_skip + noise`` and
    ``edge_target = 0.05 + 0.02 n_skip - 0.03 [edge 3←0 is skip_connect] + noise``.
    """
    rng = np.random.default_rng(16)
    ops = rng.choice(TSS_OPS, size=(1500, 6))
    n_skip = (ops == "skip_connect").sum(axis=1)
    skip_0_3 = ops[:, 3] == "skip_connect"
    return pd.DataFrame(
        {
            "arch": [format_tss(row) for row in ops],
            "post_ECE_15": 0.05 + 0.02 * n_skip + rng.normal(0, 0.01, 1500),
            "edge_target": 0.05 + 0.02 * n_skip - 0.03 * skip_0_3 + rng.normal(0, 0.01, 1500),
        }
    )


def test_op_effects_counts_recover_planted_coefficient(tss_runs: pd.DataFrame) -> None:
    effects = an.op_effects(tss_runs, encoding="count").set_index("term")
    assert effects.index.tolist() == [
        "intercept",
        "n_skip_connect",
        "n_nor_conv_1x1",
        "n_nor_conv_3x3",
        "n_avg_pool_3x3",
    ]
    skip = effects.loc["n_skip_connect"]
    assert skip["low"] < 0.02 < skip["high"] and skip["p_holm"] < 1e-10
    others = effects.drop(index=["intercept", "n_skip_connect"])
    assert (others["coef"].abs() < 0.002).all()
    assert (others["p_holm"] > 0.05).all()


def test_op_effects_edges_recover_edge_specific_effect(tss_runs: pd.DataFrame) -> None:
    effects = an.op_effects(tss_runs, "edge_target", encoding="edge").set_index("term")
    assert len(effects) == 1 + 6 * 4  # intercept + 4 non-reference ops on each edge
    skip_0_3 = effects.loc["edge_3_0[skip_connect]"]
    assert skip_0_3["low"] < 0.02 - 0.03 < skip_0_3["high"]
    skip_1_0 = effects.loc["edge_1_0[skip_connect]"]
    assert skip_1_0["low"] < 0.02 < skip_1_0["high"]
    assert effects.loc["edge_2_1[nor_conv_3x3]", "p_holm"] > 0.05


def test_op_effects_uses_edge_columns_when_present(tss_runs: pd.DataFrame) -> None:
    from calstudy.space import tss_features

    features = pd.DataFrame([tss_features(a) for a in tss_runs["arch"]], index=tss_runs.index)
    edge_cols = features[list(an.EDGES)]
    with_columns = pd.concat([tss_runs.drop(columns="arch"), edge_cols], axis=1)
    pd.testing.assert_frame_equal(
        an.op_effects(with_columns, reference="nor_conv_3x3"),
        an.op_effects(tss_runs, reference="nor_conv_3x3"),
    )


def test_edge_tests_find_the_planted_edge_and_only_it(tss_runs: pd.DataFrame) -> None:
    # edge_target depends on n_skip (every edge) and, beyond it, on edge 3<-0 carrying a skip.
    planted = tss_runs.assign(y=tss_runs["edge_target"] - 0.02 * tss_runs["arch"].str.count("skip"))
    table = an.edge_tests(planted, "y").set_index("edge")
    assert table.index.tolist() == list(an.EDGES)
    assert table.loc["edge_3_0", "p_holm"] < 1e-10
    assert table.loc["edge_3_0", "best"] == "skip_connect"
    assert 0.025 < table.loc["edge_3_0", "spread"] < 0.035
    assert (table.drop(index="edge_3_0")["p_holm"] > 0.05).all()
    assert (table["df_num"] == 4).all() and table.attrs["n_dropped"] == 0


def test_edge_tests_do_not_depend_on_the_coding(tss_runs: pd.DataFrame) -> None:
    # Renaming the operations changes which one is each edge's reference (the first present in
    # TSS_OPS order), hence every single contrast, but not the joint tests.
    renamed = dict(zip(TSS_OPS, [*TSS_OPS[1:], TSS_OPS[0]], strict=True))
    recoded = tss_runs.assign(
        arch=[
            format_tss([renamed[o] for o in parse_tss(a)]) for a in tss_runs["arch"]
        ]
    )
    a = an.edge_tests(tss_runs, "edge_target")
    b = an.edge_tests(recoded, "edge_target")
    np.testing.assert_allclose(a["F"], b["F"], rtol=1e-9)
    np.testing.assert_allclose(a["p"], b["p"], rtol=1e-9)
    np.testing.assert_allclose(a["spread"], b["spread"], rtol=1e-9)
    singles_a = an.op_effects(tss_runs, "edge_target", reference="none")
    singles_b = an.op_effects(recoded, "edge_target", reference="none")
    assert not np.allclose(singles_a["p"], singles_b["p"])


def test_edge_tests_leave_out_rare_levels(tss_runs: pd.DataFrame) -> None:
    # One cell alone carries `none` on edge 1<-0: fitted exactly, it would make HC3 0/0.
    rows = tss_runs[parse_edges(tss_runs, "edge_1_0") != "none"]
    lone = tss_runs[parse_edges(tss_runs, "edge_1_0") == "none"].iloc[:1]
    data = pd.concat([rows, lone])
    table = an.edge_tests(data, "edge_target", min_count=5)
    assert table.attrs["n_dropped"] == 1
    assert table.set_index("edge").loc["edge_1_0", "n_ops"] == 4
    effects = an.op_effects(data, "edge_target", reference="none", min_count=5)
    assert effects.attrs["n_dropped"] == 1
    one_zero = effects[effects["term"].str.startswith("edge_1_0")]
    assert set(one_zero["reference"]) == {parse_edges(rows, "edge_1_0").value_counts().index[0]}
    assert (effects[effects["term"].str.startswith("edge_2_0")]["reference"] == "none").all()
    with pytest.raises(ValueError, match=r"Expected `min_count` to be"):
        an.edge_tests(data, "edge_target", min_count=0)


def parse_edges(df: pd.DataFrame, edge: str) -> pd.Series:
    position = list(an.EDGES).index(edge)
    return df["arch"].map(lambda a: parse_tss(a)[position])


def test_op_effects_validates(tss_runs: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"Expected `reference` to be one of"):
        an.op_effects(tss_runs, reference="conv")
    with pytest.raises(ValueError, match=r"Expected `encoding` to be 'edge' or 'count'"):
        an.op_effects(tss_runs, encoding="onehot")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Expected `arch` to be"):
        an.op_effects(tss_runs.assign(arch="8:16:32:64:64"))


# ---------------------------------------------------------------------------------------------
# Seed noise and the comparison table
# ---------------------------------------------------------------------------------------------


def _seeded(n_arch: int, noise: float, seed: int, *, ragged: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i, mean in enumerate(rng.uniform(0.02, 0.08, n_arch)):
        n_seeds = 2 + i % 3 if ragged else 3
        for s in range(n_seeds):
            rows.append(
                {
                    "space": "tss",
                    "arch": f"a{i:03d}",
                    "dataset": "cifar10",
                    "fidelity": 200,
                    "seed": s,
                    "ece": mean + rng.normal(0, noise),
                }
            )
    return pd.DataFrame(rows)


def test_seed_variance_recovers_noise() -> None:
    result = an.seed_variance(_seeded(300, 0.004, seed=17), "ece")
    assert len(result.per_arch) == 300
    assert list(result.per_arch.columns[-3:]) == ["mean", "std", "n_seeds"]
    assert result.pooled_std == pytest.approx(0.004, rel=0.1)
    assert result.between_std == pytest.approx(0.06 / math.sqrt(12), rel=0.15)
    assert 0.5 < result.frac_resolved < 1.0
    noisier = an.seed_variance(_seeded(300, 0.04, seed=17), "ece")
    assert noisier.frac_resolved < 0.3


def test_seed_variance_pair_count_matches_brute_force() -> None:
    result = an.seed_variance(_seeded(40, 0.01, seed=18, ragged=True), "ece")
    means = result.per_arch["mean"].to_numpy()
    n = result.per_arch["n_seeds"].to_numpy()
    threshold = stats.norm.ppf(0.975) * result.pooled_std
    resolved = [
        abs(means[i] - means[j]) > threshold * math.sqrt(1 / n[i] + 1 / n[j])
        for i, j in itertools.combinations(range(len(means)), 2)
    ]
    assert set(n) == {2, 3, 4}
    assert result.frac_resolved == pytest.approx(np.mean(resolved))


def test_seed_variance_needs_repeated_seeds() -> None:
    single = _seeded(5, 0.01, seed=19).query("seed == 0")
    with pytest.raises(ValueError, match=r"with 2 or more seeds of 'ece', got one seed each"):
        an.seed_variance(single, "ece")


def test_compare_to_paper_table() -> None:
    table = an.compare_to_paper(
        {"tau(ECE, KSCE)": 0.95, "tau(pre, post)": 0.03, "extra": "n/a"},
        {"tau(pre, post)": "≈ 0", "tau(ECE, KSCE)": 0.97},
    )
    assert table["quantity"].tolist() == ["tau(pre, post)", "tau(ECE, KSCE)", "extra"]
    assert table.loc[1, "difference"] == pytest.approx(-0.02)
    assert np.isnan(table.loc[0, "difference"]) and np.isnan(table.loc[2, "paper"])
    with pytest.raises(ValueError, match=r"at least one quantity, got none"):
        an.compare_to_paper({}, {})


def test_calibrated_floor_grows_with_bins_and_shrinks_with_samples():
    from calstudy.analysis import calibrated_floor

    small = calibrated_floor(1000, 10, 0.7, bin_counts=(5, 50, 500), n_sim=3, seed=0)
    large = calibrated_floor(20_000, 10, 0.7, bin_counts=(5, 50, 500), n_sim=3, seed=0)
    assert list(small.index) == [5, 50, 500]
    assert small[5] < small[50] < small[500]
    assert (large < small).all()
    assert large[5] < 0.01  # a calibrated model's 5-bin ECE vanishes with many samples


def test_calibrated_floor_rejects_an_impossible_accuracy():
    from calstudy.analysis import calibrated_floor

    with pytest.raises(ValueError, match="`acc`"):
        calibrated_floor(100, 10, 0.05)


# ---------------------------------------------------------------------------------------------
# Seed noise: ICC, thresholds, the per-metric table
# ---------------------------------------------------------------------------------------------


def _components(n_arch: int, n_seeds: int, sd_arch: float, sd_seed: float, seed: int):
    rng = np.random.default_rng(seed)
    effect = rng.normal(0, sd_arch, n_arch)
    return pd.DataFrame(
        {
            "space": "tss",
            "arch": np.repeat([f"a{i:03d}" for i in range(n_arch)], n_seeds),
            "dataset": "cifar10",
            "fidelity": 200,
            "seed": np.tile(np.arange(n_seeds), n_arch),
            "y": np.repeat(effect, n_seeds) + rng.normal(0, sd_seed, n_arch * n_seeds),
        }
    )


def test_seed_variance_icc_hand_case() -> None:
    # Two architectures, two seeds: means 1 and 3, within deviations ±1.
    # MS_B = 2 * ((1-2)^2 + (3-2)^2) / 1 = 4, MS_W = 4 / 2 = 2, k0 = 2: ICC = 2 / 6.
    df = pd.DataFrame(
        {
            "space": "tss",
            "arch": ["a", "a", "b", "b"],
            "dataset": "c",
            "fidelity": 1,
            "y": [0.0, 2.0, 2.0, 4.0],
        }
    )
    result = an.seed_variance(df, "y")
    assert result.icc == pytest.approx(1 / 3)
    assert result.n_repeated == 2
    assert result.icc_low < result.icc < result.icc_high


def test_seed_variance_icc_recovers_variance_share() -> None:
    # σ_arch² / (σ_arch² + σ_seed²) = 4 / 5.
    result = an.seed_variance(_components(400, 3, 2.0, 1.0, seed=3), "y")
    assert result.icc == pytest.approx(0.8, abs=0.03)
    assert result.icc_low < 0.8 < result.icc_high


def test_seed_variance_icc_interval_covers_in_simulation() -> None:
    covered = [
        (r := an.seed_variance(_components(30, 3, 1.0, 1.0, seed=s), "y")).icc_low
        <= 0.5
        <= r.icc_high
        for s in range(200)
    ]
    assert 0.9 <= np.mean(covered) <= 0.99


def test_seed_variance_result_keeps_its_old_constructor() -> None:
    old = an.SeedVariance(pd.DataFrame(), 0.1, 0.2, 0.5)
    assert np.isnan(old.icc) and old.n_repeated == 0


def test_seed_noise_threshold_and_gap() -> None:
    z = stats.norm.ppf(0.975)
    assert an.seed_noise_threshold(0.01) == pytest.approx(z * 0.01 * math.sqrt(2))
    assert an.seed_noise_threshold(0.01, n_a=3, n_b=math.inf) == pytest.approx(
        z * 0.01 / math.sqrt(3)
    )
    # n = 2: median − min = |e1 − e2| / 2, half-normal with scale s / sqrt(2).
    gap = an.seed_noise_gap(2, 1.0, level=0.95, n_sim=20_000)
    assert gap == pytest.approx(z / math.sqrt(2), rel=0.05)
    assert an.seed_noise_gap(100, 1.0) > an.seed_noise_gap(10, 1.0) > 0
    with pytest.raises(ValueError, match=r"`pooled_std` to be a non-negative finite number"):
        an.seed_noise_threshold(-1.0)
    with pytest.raises(ValueError, match=r"`n_b` to be at least 1"):
        an.seed_noise_threshold(0.1, n_b=0)
    with pytest.raises(ValueError, match=r"`n` to be at least 2"):
        an.seed_noise_gap(1, 0.1)


def test_retest_tau_matches_simulated_bivariate_normal() -> None:
    assert float(an.retest_tau(0.5)) == pytest.approx(1 / 3)
    assert float(an.retest_tau(1.0)) == pytest.approx(1.0)
    x, y = _correlated(20_000, 0.6, seed=4)
    assert float(an.retest_tau(0.6)) == pytest.approx(an.kendall_tau(x, y), abs=0.01)
    with pytest.raises(ValueError, match=r"`icc` to lie in \[-1, 1\]"):
        an.retest_tau(1.5)


def test_seed_noise_table_rows_and_errors() -> None:
    df = _components(50, 3, 2.0, 1.0, seed=5).assign(z=lambda d: d["y"] * 2)
    single = df[(df["seed"] == 0) | (df["arch"] <= "a001")]  # 2 repeated archs, 48 single
    table = an.seed_noise_table(single, ["y", "z"])
    assert list(table.index) == ["y", "z"]
    assert table.loc["y", "n_archs"] == 50 and table.loc["y", "n_repeated"] == 2
    assert table.loc["z", "pooled_std"] == pytest.approx(2 * table.loc["y", "pooled_std"])
    assert table.loc["z", "icc"] == pytest.approx(table.loc["y", "icc"])  # scale-free
    full = an.seed_noise_table(df, ["y"])
    assert full.loc["y", "retest_tau"] == pytest.approx(float(an.retest_tau(full.loc["y", "icc"])))
    assert full.loc["y", "threshold"] == pytest.approx(
        an.seed_noise_threshold(full.loc["y", "pooled_std"])
    )
    with pytest.raises(
        ValueError, match=r"at least 3 architectures with 2 or more seeds of 'y', got 2"
    ):
        an.seed_noise_table(single, ["y"], min_repeated=3)
    with pytest.raises(ValueError, match=r"`metrics` to name at least one column"):
        an.seed_noise_table(df, [])


# ---------------------------------------------------------------------------------------------
# Differences with intervals
# ---------------------------------------------------------------------------------------------


def test_paired_difference_hand_case_and_scipy_reference() -> None:
    a = np.array([0.30, 0.25, 0.40, 0.20, 0.35, 0.28, 0.33])
    b = a - np.array([0.05, 0.02, 0.10, -0.01, 0.04, 0.03, 0.06])
    r = an.paired_difference(a, b, n_boot=500)
    assert r.estimate == pytest.approx(0.04)
    assert r.n == r.n_b == 7 and r.test == "wilcoxon"
    assert r.p_value == pytest.approx(stats.wilcoxon(a - b).pvalue)
    assert r.low <= r.estimate <= r.high
    mean = an.paired_difference(a, b, statistic="mean", test="sign-flip", n_perm=4000)
    assert mean.estimate == pytest.approx(np.mean(a - b))
    # The exact sign-flip p: 2 of 128 sign patterns are at least as extreme (all + or all −)
    # plus those flipping only the −0.01: |mean| ≥ observed.
    assert 0.005 < mean.p_value < 0.06


def test_paired_difference_one_sample_and_nan_pairs() -> None:
    t = np.array([1.1, 1.09, 1.12, np.nan, 1.08, 1.1])
    r = an.paired_difference(t, 1.0, n_boot=200)
    assert r.estimate == pytest.approx(0.1) and r.n == 5
    assert r.low > 0
    same = an.paired_difference([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], n_boot=50)
    assert same.estimate == 0 and same.p_value == 1.0


def test_paired_difference_detects_a_planted_shift() -> None:
    rng = np.random.default_rng(6)
    before = rng.gamma(2.0, 0.01, size=120)
    after = before - 0.004 + rng.normal(0, 0.004, size=120)
    r = an.paired_difference(after, before)
    assert r.p_value < 1e-6 and r.high < 0
    assert r.low < -0.004 < r.high


@pytest.mark.parametrize("test", ["wilcoxon", "sign-flip"])
def test_paired_difference_null_has_nominal_error_rate(test: str) -> None:
    rng = np.random.default_rng(7)
    covered, rejected = [], []
    for _ in range(200):
        base = rng.normal(size=30)
        r = an.paired_difference(
            base + rng.normal(size=30),
            base,
            test=test,
            n_boot=200,
            n_perm=200,
            seed=int(rng.integers(1 << 30)),
        )
        covered.append(r.low <= 0 <= r.high)
        rejected.append(r.p_value < 0.05)
    assert 0.88 <= np.mean(covered) <= 0.99
    assert np.mean(rejected) <= 0.1


def test_paired_difference_validates() -> None:
    with pytest.raises(ValueError, match=r"1-D of equal length"):
        an.paired_difference([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"at least 3 complete"):
        an.paired_difference([1.0, np.nan, 3.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"`statistic` to be 'mean' or 'median'"):
        an.paired_difference([1.0, 2.0, 3.0], statistic="mode")
    with pytest.raises(ValueError, match=r"`test` to be 'wilcoxon' or 'sign-flip'"):
        an.paired_difference([1.0, 2.0, 3.0], test="t")


def test_bootstrap_diff_two_samples() -> None:
    rng = np.random.default_rng(8)
    a, b = rng.normal(1.0, 1.0, 80), rng.normal(0.0, 1.0, 60)
    r = an.bootstrap_diff(a, b)
    assert r.estimate == pytest.approx(np.median(a) - np.median(b))
    assert r.n == 80 and r.n_b == 60 and r.low > 0 and r.p_value < 1e-4
    assert r.p_value == pytest.approx(stats.mannwhitneyu(a, b).pvalue)
    perm = an.bootstrap_diff(a, b, statistic="mean", test="permutation")
    assert perm.p_value < 0.01 and perm.estimate == pytest.approx(a.mean() - b.mean())
    assert an.bootstrap_diff([2.0, 2.0], [2.0, 2.0, np.nan]).p_value == 1.0


def test_bootstrap_diff_null_has_nominal_error_rate() -> None:
    rng = np.random.default_rng(9)
    results = [
        an.bootstrap_diff(
            rng.normal(size=40),
            rng.normal(size=30),
            statistic="mean",
            test="permutation",
            n_boot=200,
            n_perm=200,
            seed=int(rng.integers(1 << 30)),
        )
        for _ in range(200)
    ]
    assert 0.88 <= np.mean([r.low <= 0 <= r.high for r in results]) <= 0.99
    assert np.mean([r.p_value < 0.05 for r in results]) <= 0.1


def test_bootstrap_diff_validates() -> None:
    with pytest.raises(ValueError, match=r"`b` to hold at least 2 non-NaN values, got 1"):
        an.bootstrap_diff([1.0, 2.0], [1.0, np.nan])
    with pytest.raises(ValueError, match=r"`test` to be 'mannwhitney' or 'permutation'"):
        an.bootstrap_diff([1.0, 2.0], [1.0, 2.0], test="welch")


def test_bootstrap_difference_paired_and_unpaired_frames() -> None:
    rng = np.random.default_rng(10)
    frame = pd.DataFrame({"u": rng.normal(size=50)})
    frame["v"] = frame["u"] + 0.1
    paired = an.bootstrap_difference(
        lambda d: d["v"].mean(), frame, frame.rename(columns={"u": "v", "v": "u"}), paired=True
    )
    assert paired.estimate == pytest.approx(0.1) and paired.low == pytest.approx(0.1)
    unpaired = an.bootstrap_difference(np.mean, frame["v"], frame["u"], paired=False)
    assert unpaired.low < 0.1 < unpaired.high and unpaired.high - unpaired.low > 0.2
    with pytest.raises(ValueError, match=r"as many rows when `paired`, got 3 and 2"):
        an.bootstrap_difference(np.mean, [1.0, 2.0, 3.0], [1.0, 2.0], paired=True)
    with pytest.raises(ValueError, match=r"`statistic` to be callable"):
        an.bootstrap_difference("mean", [1.0, 2.0], [1.0, 2.0])


def test_tau_difference_detects_a_planted_gap_between_dependent_taus() -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(size=150)
    close, far = x + 0.3 * rng.normal(size=150), x + 2.0 * rng.normal(size=150)
    r = an.tau_difference(x, close, x, far, n_boot=400)
    assert r.estimate == pytest.approx(an.kendall_tau(x, close) - an.kendall_tau(x, far))
    assert r.low > 0 and r.p_value < 0.01
    # Two strongly dependent τ: the paired interval is much narrower than treating them as
    # independent samples.
    closer = close + 0.1 * rng.normal(size=150)
    joint = an.tau_difference(x, close, x, closer, n_boot=200)
    loose = an.tau_difference(x, close, x, closer, paired=False, n_boot=200)
    assert joint.high - joint.low < 0.5 * (loose.high - loose.low)


def test_tau_difference_null_coverage() -> None:
    rng = np.random.default_rng(12)
    covered = []
    for _ in range(60):
        x = rng.normal(size=60)
        y1, y2 = x + rng.normal(size=60), x + rng.normal(size=60)
        r = an.tau_difference(x, y1, x, y2, n_boot=150, seed=int(rng.integers(1 << 30)))
        covered.append(r.low <= 0 <= r.high)
    assert 0.85 <= np.mean(covered) <= 1.0


def test_tau_difference_unpaired_samples_and_validation() -> None:
    x1, y1 = _correlated(80, 0.8, seed=13)
    x2, y2 = _correlated(40, 0.0, seed=14)
    r = an.tau_difference(x1, y1, x2, y2, paired=False, n_boot=300)
    assert r.n == 80 and r.n_b == 40 and r.low > 0
    with pytest.raises(ValueError, match=r"1-D of equal length when `paired`"):
        an.tau_difference(x1, y1, x2, y2)
    nan = np.full(5, np.nan)
    with pytest.raises(ValueError, match=r"at least 3 complete rows, got 0"):
        an.tau_difference(nan, nan, nan, nan)


def test_mean_off_diagonal_tau() -> None:
    d = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [1, 3, 2, 4, 5], "c": [5, 4, 3, 2, 1]})
    m = an.tau_matrix(d, ["a", "b", "c"])
    expected = (m.loc["a", "b"] + m.loc["a", "c"] + m.loc["b", "c"]) / 3
    assert an.mean_off_diagonal_tau(d, ["a", "b", "c"]) == pytest.approx(expected)


@pytest.mark.parametrize("k, n", [(0, 10), (4, 20), (17, 20), (20, 20), (1, 1)])
def test_wilson_ci_matches_statsmodels(k: int, n: int) -> None:
    from statsmodels.stats.proportion import proportion_confint

    share, low, high = an.wilson_ci(k, n)
    ref_low, ref_high = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert share == pytest.approx(k / n)
    assert (low, high) == pytest.approx((ref_low, ref_high), abs=1e-12)
    assert 0 <= low <= share <= high <= 1


def test_wilson_ci_validates() -> None:
    with pytest.raises(ValueError, match=r"0 ≤ `k` ≤ `n`"):
        an.wilson_ci(5, 4)
    with pytest.raises(ValueError, match=r"`k` to be a non-negative integer"):
        an.wilson_ci(1.5, 4)
    with pytest.raises(ValueError, match=r"`level` to be in \(0, 1\)"):
        an.wilson_ci(1, 4, level=1.0)


def test_tau_tests_match_the_matrix_and_scipy() -> None:
    rng = np.random.default_rng(15)
    d = pd.DataFrame(rng.normal(size=(40, 4)), columns=list("abcd"))
    d.loc[:5, "c"] = np.nan
    d["e"] = 1.0  # constant: τ undefined
    tests = an.tau_tests(d, list("abcde"))
    assert len(tests) == 10
    matrix = an.tau_matrix(d, list("abcde"))
    for r in tests.itertuples():
        assert r.tau == pytest.approx(matrix.loc[r.x, r.y], nan_ok=True)
    ac = tests.set_index(["x", "y"]).loc[("a", "c")]
    ref = stats.kendalltau(d["a"][6:], d["c"][6:])
    assert ac["n"] == 34 and ac["p"] == pytest.approx(ref.pvalue)
    assert tests.loc[tests["y"] == "e", "p"].isna().all()
    with pytest.raises(ValueError, match=r"at least 2 columns"):
        an.tau_tests(d, ["a"])


def test_bootstrap_statistic_interval_and_validation() -> None:
    rng = np.random.default_rng(16)
    x = rng.normal(2.0, 1.0, size=400)
    estimate, low, high = an.bootstrap_statistic(np.mean, x, n_boot=500)
    assert estimate == pytest.approx(x.mean())
    half = stats.norm.ppf(0.975) * x.std(ddof=1) / math.sqrt(400)
    assert (low, high) == pytest.approx((x.mean() - half, x.mean() + half), abs=0.03)
    with pytest.raises(ValueError, match=r"`data` to hold at least 2 rows, got 1"):
        an.bootstrap_statistic(np.mean, [1.0])
    with pytest.raises(ValueError, match=r"`statistic` to be callable"):
        an.bootstrap_statistic(None, x)


def test_simulated_difference_two_models_and_two_metrics() -> None:
    from calstudy import metrics

    rng = np.random.default_rng(17)
    logits = rng.normal(0.0, 2.0, size=(3000, 5))
    probs = metrics.to_probs(logits)
    sharp = metrics.to_probs(3 * logits)  # overconfident
    r = an.simulated_difference(metrics.ece, sharp, probs, probs_b=probs, n_sim=100)
    assert r.low > 0 and r.p_value < 0.05 and r.n == 3000 and r.test == "simulation"
    assert r.low <= r.estimate <= r.high
    # Two metrics of one calibrated model: the finite-sample bias grows with the bin count.
    bins = an.simulated_difference(
        lambda p, y: metrics.ece(p, y, n_bins=200),
        probs,
        probs,
        metric_b=lambda p, y: metrics.ece(p, y, n_bins=5),
        n_sim=100,
    )
    assert bins.low > 0 and bins.low <= bins.estimate <= bins.high
    # The same model against itself: exactly zero on every simulated test set.
    same = an.simulated_difference(metrics.ece, probs, probs, probs_b=probs, n_sim=20)
    assert same.estimate == same.low == same.high == 0.0 and same.p_value == 1.0
    with pytest.raises(ValueError, match=r"`probs_b` or `metric_b` to be given"):
        an.simulated_difference(metrics.ece, probs, probs)
    with pytest.raises(ValueError, match=r"of one shape \(N, K\)"):
        an.simulated_difference(metrics.ece, probs, probs[:10], probs_b=probs)
    with pytest.raises(ValueError, match=r"rows sum to 1"):
        an.simulated_difference(metrics.ece, probs, 2 * probs, probs_b=probs)


@pytest.mark.parametrize(
    "sd_arch, sd_seed, expect_real",
    [(0.010, 0.001, True), (0.0, 0.004, False)],
)
def test_seed_study_like_the_chapter(sd_arch: float, sd_seed: float, expect_real: bool) -> None:
    # The demo's seed study: 122 architectures, the first 8 trained with 3 seeds.
    df = _components(122, 3, sd_arch, sd_seed, seed=20)
    df = df[(df["seed"] == 0) | (df["arch"] < "a008")]
    table = an.seed_noise_table(df, ["y"])
    row = table.loc["y"]
    assert row["n_archs"] == 122 and row["n_repeated"] == 8 and row["n_rows"] == 138
    assert row["pooled_std"] == pytest.approx(sd_seed, rel=0.4)
    first = df[df["seed"] == 0]["y"]
    gap = first.median() - first.min()
    noise_gap = an.seed_noise_gap(len(first), row["pooled_std"])
    if expect_real:  # architecture differences dwarf seed noise
        assert row["icc_low"] > 0.8 and row["frac_resolved"] > 0.8 and gap > noise_gap
    else:  # every difference is seed noise
        assert row["icc_low"] == 0.0 and row["frac_resolved"] < 0.1
        assert row["retest_tau"] < 0.3


# ---------------------------------------------------------------------------------------------
# τ-b at paper scale: the asymptotic interval (issue 14)
# ---------------------------------------------------------------------------------------------


def _concordance_brute_force(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each observation's concordant minus discordant partners, from the n × n sign matrix."""
    return (np.sign(x[:, None] - x[None, :]) * np.sign(y[:, None] - y[None, :])).sum(axis=1)


def _tau_ase_from_table(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """τ-b and its asymptotic standard error, cell by cell from the contingency table as SAS
    PROC FREQ documents Brown & Benedetti (1977); independent of the merge-sort path."""
    ux, ix = np.unique(x, return_inverse=True)
    uy, iy = np.unique(y, return_inverse=True)
    table = np.zeros((ux.size, uy.size))
    np.add.at(table, (ix, iy), 1)
    n = table.sum()
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    # cum[i, j] = sum of table[:i, :j]; A_ij / D_ij count the observations in the cells above
    # left and below right / above right and below left of cell (i, j).
    cum = np.pad(table, ((1, 0), (1, 0))).cumsum(axis=0).cumsum(axis=1)
    r, c = table.shape
    above_left = cum[:-1, :-1]
    above_right = cum[:-1, [c]] - cum[:-1, 1:]
    below_left = cum[[r], :-1] - cum[1:, :-1]
    below_right = n - cum[1:, [c]] - cum[[r], 1:] + cum[1:, 1:]
    agree, disagree = above_left + below_right, above_right + below_left
    w_r, w_c = n**2 - (rows**2).sum(), n**2 - (cols**2).sum()
    w = math.sqrt(w_r * w_c)
    tau = float((table * (agree - disagree)).sum() / w)
    v = rows[:, None] * w_c + cols[None, :] * w_r
    spread = (table * (2 * w * (agree - disagree) + tau * v) ** 2).sum()
    return tau, math.sqrt((spread - n**3 * tau**2 * (w_r + w_c) ** 2) / w**4)


def _tied(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coarsened copies with many ties (like accuracies on a finite test set)."""
    return np.round(2 * x) / 2, np.round(4 * y) / 4


@pytest.mark.parametrize("seed", range(6))
def test_concordance_counts_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n, k = int(rng.integers(2, 250)), int(rng.integers(1, 12))
    x = rng.integers(0, k, size=n).astype(float) if seed % 2 else rng.normal(size=n)
    y = rng.choice([-1.0, 1.0]) * np.round(x) + rng.integers(0, k, size=n)
    d, tied_x, tied_y = tau_stats._concordance(*tau_stats.dense_ranks(x), *tau_stats.dense_ranks(y))
    np.testing.assert_array_equal(d, _concordance_brute_force(x, y))
    np.testing.assert_array_equal(tied_x, (x[:, None] == x[None, :]).sum(axis=1))
    np.testing.assert_array_equal(tied_y, (y[:, None] == y[None, :]).sum(axis=1))
    v = rng.integers(0, k + 1, size=n)
    expected = [int((v[:p] < v[p]).sum()) for p in range(n)]
    np.testing.assert_array_equal(tau_stats._preceding_smaller(v), expected)


@pytest.mark.parametrize("ties", [False, True])
def test_asymptotic_interval_uses_the_brown_benedetti_standard_error(ties: bool) -> None:
    x, y = _correlated(300, 0.6, seed=30)
    if ties:
        x, y = _tied(x, y)
    tau, ase = _tau_ase_from_table(x, y)
    r = an.kendall_ci(x, y, method="asymptotic")
    z = stats.norm.ppf(0.975)
    assert r.method == "asymptotic" and r.n == 300
    assert r.tau == pytest.approx(tau, abs=1e-12)
    assert (r.low, r.high) == pytest.approx((tau - z * ase, tau + z * ase), abs=1e-12)
    assert r.p_value == pytest.approx(stats.kendalltau(x, y).pvalue)


@pytest.mark.parametrize("ties", [False, True])
def test_asymptotic_interval_agrees_with_the_bootstrap_at_the_threshold(ties: bool) -> None:
    x, y = _correlated(an.TAU_ASYMPTOTIC_MIN_N, 0.7, seed=31)
    if ties:
        x, y = _tied(x, y)
    auto = an.kendall_ci(x, y)
    boot = an.kendall_ci(x, y, n_boot=400, method="bootstrap")
    assert auto.method == "asymptotic" and boot.method == "bootstrap"
    assert auto.tau == boot.tau and auto.p_value == boot.p_value
    half = (boot.high - boot.low) / 2
    # The ends differ by the bootstrap's Monte-Carlo error (~0.1 half-width at 400 resamples).
    assert abs(auto.low - boot.low) < 0.2 * half and abs(auto.high - boot.high) < 0.2 * half


def test_asymptotic_interval_covers_the_true_tau_of_a_bivariate_normal() -> None:
    # Greiner's relation: tau = (2/pi) arcsin(rho) for the bivariate normal (Kendall 1948).
    rho, n, reps = 0.7, 300, 400
    truth = 2 / math.pi * math.asin(rho)
    rng = np.random.default_rng(32)
    covered, taus, ses = [], [], []
    for _ in range(reps):
        x = rng.normal(size=n)
        y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=n)
        r = an.kendall_ci(x, y, method="asymptotic")
        covered.append(r.low <= truth <= r.high)
        tx, ty = _tied(x, y)
        tied = an.kendall_ci(tx, ty, method="asymptotic")
        taus.append(tied.tau)
        ses.append((tied.high - tied.low) / (2 * stats.norm.ppf(0.975)))
    assert 0.92 <= np.mean(covered) <= 0.975  # 0.95 ± 2.4 Monte-Carlo standard errors
    # With ties (no closed-form truth): the estimated se matches the spread over samples.
    assert np.mean(ses) == pytest.approx(np.std(taus), rel=0.1)


def test_kendall_ci_auto_switches_at_the_threshold_and_keeps_small_n_results() -> None:
    x, y = _correlated(an.TAU_ASYMPTOTIC_MIN_N, 0.3, seed=33)
    assert an.kendall_ci(x[:-1], y[:-1], n_boot=5).method == "bootstrap"
    assert an.kendall_ci(x, y, n_boot=5).method == "asymptotic"
    assert an.kendall_ci(x, y, n_boot=5, method="bootstrap").method == "bootstrap"
    small = an.kendall_ci(x[:200], y[:200], n_boot=100, seed=3)
    assert small == an.kendall_ci(x[:200], y[:200], n_boot=100, seed=3, method="bootstrap")
    perfect = an.kendall_ci(x, 2 * x, method="asymptotic")
    assert (perfect.tau, perfect.low, perfect.high) == pytest.approx((1.0, 1.0, 1.0))
    constant = an.kendall_ci(x, np.ones_like(x))
    assert constant.method == "asymptotic" and np.isnan([constant.low, constant.high]).all()
    with pytest.raises(ValueError, match=r"Expected `method` to be 'auto', 'bootstrap' or"):
        an.kendall_ci(x, y, method="jackknife")  # type: ignore[arg-type]


def test_tau_table_cross_dataset_and_population_pass_the_method_on(frame: pd.DataFrame) -> None:
    table = an.tau_table(frame, [("a", "c")], method="asymptotic")
    r = an.kendall_ci(frame["a"], frame["c"], method="asymptotic")
    assert (table.loc[0, "low"], table.loc[0, "high"]) == (r.low, r.high)
    rng = np.random.default_rng(34)
    x = rng.normal(size=2100)
    big = pd.DataFrame({"x": x, "y": x + rng.normal(size=2100), "acc": rng.random(2100)})
    top = an.tau_vs_population(big, "x", "y", sizes=[2000], subset="top", n_repeats=5)
    best = an.top_n(big, 2000, by="acc")
    expected = an.kendall_ci(best["x"], best["y"], method="asymptotic")
    assert (top.loc[0, "low"], top.loc[0, "high"]) == (expected.low, expected.high)
    boot = an.tau_vs_population(
        big, "x", "y", sizes=[2000], subset="top", n_repeats=5, method="bootstrap"
    )
    expected = an.kendall_ci(best["x"], best["y"], n_boot=5, method="bootstrap")
    assert (boot.loc[0, "low"], boot.loc[0, "high"]) == (expected.low, expected.high)
    with pytest.raises(ValueError, match=r"Expected `method` to be 'auto'"):
        an.tau_vs_population(big, "x", "y", sizes=[10], method="exact")  # type: ignore[arg-type]


def test_tau_difference_asymptotic_agrees_with_the_paired_bootstrap() -> None:
    rng = np.random.default_rng(35)
    n = an.TAU_ASYMPTOTIC_MIN_N
    x = rng.normal(size=n)
    close, far = x + 0.5 * rng.normal(size=n), x + 1.0 * rng.normal(size=n)
    auto = an.tau_difference(x, close, x, far)
    boot = an.tau_difference(x, close, x, far, n_boot=300, method="bootstrap")
    assert auto.test == "asymptotic" and boot.test == "bootstrap"
    assert auto.estimate == pytest.approx(boot.estimate, abs=1e-12)
    half = (boot.high - boot.low) / 2
    assert abs(auto.low - boot.low) < 0.25 * half and abs(auto.high - boot.high) < 0.25 * half
    z = auto.estimate / ((auto.high - auto.low) / (2 * stats.norm.ppf(0.975)))
    assert auto.p_value == pytest.approx(2 * stats.norm.sf(abs(z)))
    same = an.tau_difference(x, close, x, close)
    assert (same.estimate, same.low, same.high, same.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_tau_difference_asymptotic_independent_samples_add_variances() -> None:
    x1, y1 = _correlated(400, 0.8, seed=36)
    x2, y2 = _tied(*_correlated(300, 0.2, seed=37))
    r = an.tau_difference(x1, y1, x2, y2, paired=False, method="asymptotic")
    a = an.kendall_ci(x1, y1, method="asymptotic")
    b = an.kendall_ci(x2, y2, method="asymptotic")
    z = stats.norm.ppf(0.975)
    se = math.hypot((a.high - a.low) / (2 * z), (b.high - b.low) / (2 * z))
    assert (r.test, r.n, r.n_b) == ("asymptotic", 400, 300)
    assert r.estimate == pytest.approx(a.tau - b.tau)
    assert (r.low, r.high) == pytest.approx((r.estimate - z * se, r.estimate + z * se))
    with pytest.raises(ValueError, match=r"Expected `method` to be"):
        an.tau_difference(x1, y1, x2, y2, paired=False, method="fast")  # type: ignore[arg-type]


def test_mean_tau_difference_bootstrap_path_is_the_bootstrap_of_the_mean() -> None:
    rng = np.random.default_rng(38)
    z = rng.normal(size=(80, 1))
    after = pd.DataFrame(z + rng.normal(size=(80, 3)), columns=list("abc"))
    before = pd.DataFrame(z + 0.3 * rng.normal(size=(80, 3)), columns=list("abc"))
    r = an.mean_tau_difference(after, before, list("abc"), n_boot=100, seed=4)
    expected = an.bootstrap_difference(
        lambda f: an.mean_off_diagonal_tau(f, list("abc")),
        after,
        before,
        paired=True,
        n_boot=100,
        seed=4,
    )
    assert r == expected and r.test == "bootstrap" and r.high < 0


def test_mean_tau_difference_asymptotic_reduces_to_tau_difference_and_handles_nan() -> None:
    rng = np.random.default_rng(39)
    x = rng.normal(size=500)
    a = pd.DataFrame({"u": x, "v": x + rng.normal(size=500)})
    b = pd.DataFrame({"u": x, "v": x + 2 * rng.normal(size=500)})
    r = an.mean_tau_difference(a, b, ["u", "v"], method="asymptotic")
    d = an.tau_difference(a["u"], a["v"], b["u"], b["v"], method="asymptotic")
    assert (r.estimate, r.low, r.high, r.p_value) == pytest.approx(
        (d.estimate, d.low, d.high, d.p_value), abs=1e-12
    )
    a.loc[:49, "v"] = np.nan  # pairwise deletion: 450 complete rows in `a`
    r = an.mean_tau_difference(a, b, ["u", "v"], paired=False, method="asymptotic")
    ra = an.kendall_ci(a["u"], a["v"], method="asymptotic")
    rb = an.kendall_ci(b["u"], b["v"], method="asymptotic")
    assert r.estimate == pytest.approx(ra.tau - rb.tau)
    assert r.high - r.low == pytest.approx(math.hypot(ra.high - ra.low, rb.high - rb.low))
    with pytest.raises(ValueError, match=r"as many rows when `paired`, got 500 and 499"):
        an.mean_tau_difference(a, b.iloc[1:], ["u", "v"])
    with pytest.raises(ValueError, match=r"Expected `b` to have columns \['w'\]"):
        an.mean_tau_difference(a.assign(w=1.0), b, ["u", "w"])


def test_mean_tau_difference_asymptotic_se_matches_the_spread_over_samples() -> None:
    rng = np.random.default_rng(40)
    estimates, ses = [], []
    for _ in range(100):
        z = rng.normal(size=(300, 1))
        after = pd.DataFrame(z + rng.normal(size=(300, 3)), columns=list("abc"))
        before = pd.DataFrame(
            after.to_numpy() + 0.7 * rng.normal(size=(300, 3)), columns=list("abc")
        )
        r = an.mean_tau_difference(after, before, list("abc"), method="asymptotic")
        estimates.append(r.estimate)
        ses.append((r.high - r.low) / (2 * stats.norm.ppf(0.975)))
    assert np.mean(ses) == pytest.approx(np.std(estimates), rel=0.2)


@pytest.mark.parametrize("fast", [True, False])
def test_tau_matrix_matches_pandas_with_ties_nans_and_duplicates(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fast path counts discordant pairs with scipy's compiled counter on columns sorted
    # once; without it (another scipy) tau_matrix falls back to DataFrame.corr.
    if not fast:
        monkeypatch.setattr(tau_stats, "_DISCORDANT", None)
    assert (tau_stats._DISCORDANT is not None) == fast
    rng = np.random.default_rng(41)
    values = rng.normal(size=(300, 5)) + rng.normal(size=(300, 1))
    values[:, 1] = np.round(values[:, 1])  # ties
    values[rng.random(300) < 0.2, 2] = np.nan  # pairwise deletion
    values[:, 3] = np.where(np.arange(300) < 297, np.nan, values[:, 3])  # 3 rows only
    frame = pd.DataFrame(values, columns=list("abcde")).assign(f=1.0)  # f constant
    resampled = frame.iloc[rng.integers(0, 300, size=300)]  # duplicated rows: joint ties
    for d in (frame, resampled):
        expected = d.corr(method="kendall", min_periods=3).to_numpy(copy=True)
        np.fill_diagonal(expected, 1.0)
        got = an.tau_matrix(d, list("abcdef")).to_numpy()
        np.testing.assert_allclose(got, expected, atol=1e-12)


def test_rare_levels_are_left_out_until_none_is_left(tss_runs: pd.DataFrame) -> None:
    # Five cells carry `none` on edge 1<-0; four of them also carry a level that only they carry
    # on edge 2<-0. Leaving those four out leaves one `none` on 1<-0: it must go too.
    ops = pd.DataFrame([parse_tss(a) for a in tss_runs["arch"]], columns=list(an.EDGES))
    keep = (ops["edge_1_0"] != "none") & (ops["edge_2_0"] != "avg_pool_3x3")
    base = tss_runs[keep.to_numpy()]
    lone = ["|none~0|+|avg_pool_3x3~0|none~1|+|none~0|none~1|none~2|"] * 4 + [
        "|none~0|+|skip_connect~0|none~1|+|none~0|none~1|none~2|"
    ]
    extra = pd.DataFrame({"arch": lone, "edge_target": 0.1, "post_ECE_15": 0.1})
    data = pd.concat([base, extra], ignore_index=True)
    table = an.edge_tests(data, "edge_target", min_count=5)
    assert table.attrs["n_dropped"] == 5
    assert table.set_index("edge").loc["edge_1_0", "n_ops"] == 4
