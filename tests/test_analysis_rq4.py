"""Tests of the RQ iv functions of calstudy.analysis (post-hoc calibration) on small built frames,
and of the chapter's sentences and tables for readers (posthoc_store_sentence, scaling_effect_view,
scaling_effect_findings, scaling_answer, temperature_view)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calstudy import analysis, report


@pytest.fixture(scope="module")
def study() -> pd.DataFrame:
    """Two groups. In "tss · a" scaling lowers every value by 0.01 and keeps the ranking; in
    "sss · b" it sets values at random (no rank agreement) and leaves the median unchanged."""
    rng = np.random.default_rng(0)
    n = 60
    pre_a = rng.uniform(0.02, 0.06, n)
    pre_b = rng.uniform(0.01, 0.02, n)
    temperature = np.r_[1.0 + 10 * (pre_a - 0.01), rng.uniform(0.9, 1.1, n)]
    frame = pd.DataFrame({
        "space": ["tss"] * n + ["sss"] * n,
        "dataset": ["a"] * n + ["b"] * n,
        "arch": [f"x{i}" for i in range(2 * n)],
        "acc": rng.uniform(0.5, 0.9, 2 * n),
        "pre_ECE_15": np.r_[pre_a, pre_b],
        "post_ECE_15": np.r_[pre_a - 0.01, rng.permutation(pre_b)],
        "temperature": temperature,
    })  # fmt: skip
    frame["pre_NLL"] = 1.0 + frame["pre_ECE_15"]
    frame["post_NLL"] = 1.0 + frame["post_ECE_15"]
    frame["vs_ECE_15"] = frame["post_ECE_15"] + rng.normal(0, 1e-4, 2 * n)  # a tie with ts
    frame["vs_NLL"] = frame["post_NLL"] - 0.01  # better than ts
    frame["hist_ECE_15"] = frame["post_ECE_15"] + 0.005  # worse than ts
    frame["hist_NLL"] = frame["post_NLL"] + 0.05
    return frame


def test_scaling_effect_ranks_and_changes_per_group(study: pd.DataFrame) -> None:
    effect = analysis.scaling_effect(study, "pre_ECE_15", "post_ECE_15", n_boot=200)
    effect = effect.set_index("group")
    assert list(effect.index) == ["SSS · b", "TSS · a"]  # sorted by space, dataset
    a, b = effect.loc["TSS · a"], effect.loc["SSS · b"]
    assert a["tau"] == pytest.approx(1.0) and a["kept"] == 2  # the ranking largely survives
    assert a["change"] == pytest.approx(-0.01) and a["changed"] == -1  # lowered
    assert a["lowered"] == 1.0 and a["lowered_low"] > 0.9
    assert b["tau_low"] < 0 < b["tau_high"] and b["kept"] == 0  # reshuffled
    assert b["change"] == pytest.approx(0.0, abs=1e-3) and b["changed"] == 0
    assert (effect["change_p_holm"] >= effect["change_p"] - 1e-12).all()
    assert ((effect["tau_low"] <= effect["tau"]) & (effect["tau"] <= effect["tau_high"])).all()


def test_scaling_effect_leaves_out_small_groups(study: pd.DataFrame) -> None:
    small = pd.concat([study, study.head(2).assign(dataset="c")])
    effect = analysis.scaling_effect(small, "pre_ECE_15", "post_ECE_15", n_boot=50, min_rows=3)
    assert set(effect["dataset"]) == {"a", "b"}
    assert effect.attrs["skipped"] == [{"space": "tss", "dataset": "c", "n": 2}]
    empty = analysis.scaling_effect(study.head(2), "pre_ECE_15", "post_ECE_15", n_boot=50)
    assert empty.empty and "kept" in empty.columns and "group" in empty.columns


def test_scaling_effect_is_invariant_to_row_order(study: pd.DataFrame) -> None:
    one = analysis.scaling_effect(study, "pre_ECE_15", "post_ECE_15", n_boot=50)
    other = analysis.scaling_effect(study.iloc[::-1], "pre_ECE_15", "post_ECE_15", n_boot=50)
    columns = ["n", "median_pre", "median_post", "tau", "change", "lowered"]
    pd.testing.assert_frame_equal(one[columns], other[columns])


def test_gain_drivers_gain_follows_miscalibration(study: pd.DataFrame) -> None:
    drivers = analysis.gain_drivers(study, "pre_ECE_15", "post_ECE_15", n_boot=200)
    b = drivers.set_index("group").loc["SSS · b"]
    # post is unrelated to pre in "b", so Δ = post − pre falls with pre, not with accuracy
    assert b["tau_pre"] < -0.4 and b["tau_pre_high"] < 0
    assert b["gap_low"] > 0 and b["follows"] == 1
    assert drivers["tau_acc"].between(-1, 1).all() and (drivers["n"] == 60).all()


def test_temperature_summary_reads_over_confidence(study: pd.DataFrame) -> None:
    temperatures = analysis.temperature_summary(study, "pre_ECE_15", n_boot=200)
    a = temperatures.set_index("group").loc["TSS · a"]
    assert a["over"] == 1.0 and a["kind"] == 1 and a["shifted"] == 1
    assert a["tau"] == pytest.approx(1.0) and a["tracks"] == 1  # |log T| grows with pre ECE
    b = temperatures.set_index("group").loc["SSS · b"]
    assert b["kind"] == 0 and b["over_low"] < 0.5 < b["over_high"]


def test_temperature_summary_without_temperatures_is_empty(study: pd.DataFrame) -> None:
    table = analysis.temperature_summary(study.assign(temperature=np.nan), "pre_ECE_15")
    assert table.empty and {"median_t", "kind", "group"} <= set(table.columns)


def test_temperature_summary_refuses_non_positive_temperatures(study: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="Expected `temperature` to be positive"):
        analysis.temperature_summary(study.assign(temperature=-1.0), "pre_ECE_15", n_boot=10)


def test_posthoc_scores_names_methods_and_drops_infinities() -> None:
    d = pd.DataFrame({"pre_NLL": [1.0, 2, 3], "post_NLL": [0.5, np.inf, 2],
                      "iso_NLL": [0.4, 1, 2], "vs_NLL": [np.nan] * 3})  # fmt: skip
    scores = analysis.posthoc_scores(d, ["vs", "iso", "hist"], "NLL")
    assert list(scores.columns) == ["none", "ts", "iso"]
    assert np.isnan(scores.loc[1, "ts"])


def test_posthoc_wins_share_sums_to_one(study: pd.DataFrame) -> None:
    wins = analysis.posthoc_wins(study, ["vs", "hist"], "ECE_15")
    assert set(wins["method"]) == {"ts", "vs", "hist"}
    assert np.allclose(wins.groupby("group")["wins"].sum(), 1.0)
    assert (wins.loc[wins["method"] == "hist", "wins"] == 0).all()  # always 0.005 above ts
    gains = wins.set_index(["group", "method"])["median_gain"]
    assert gains.loc[("TSS · a", "ts")] == pytest.approx(0.01)


def test_posthoc_wins_without_other_methods_is_empty(study: pd.DataFrame) -> None:
    assert analysis.posthoc_wins(study, ["iso"], "ECE_15").empty


def test_posthoc_tests_verdicts_and_holm(study: pd.DataFrame) -> None:
    tests = analysis.posthoc_tests(study, ["vs", "hist", "iso"], n_boot=200)
    assert len(tests) == 2 * 2 * 2  # groups × methods found × scores; iso is absent
    v = tests.set_index(["group", "method", "score"])["versus"]
    assert (v.xs("hist", level="method") == 1).all()  # worse than ts on both scores
    assert (v.xs(("vs", "NLL"), level=("method", "score")) == -1).all()  # better on NLL
    assert (v.xs(("vs", "ECE_15"), level=("method", "score")) == 0).all()  # a tie on ECE
    assert (tests["p_holm"] >= tests["p"] - 1e-12).all() and tests["p_holm"].le(1).all()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("≈ 0.00 – 0.01", (0.0, 0.01)), ("−0.23", (-0.23, -0.23)), ("3.8 – 6.8 %", (0.038, 0.068)),
     ("0.25", (0.25, 0.25)), ("-0.15 – 0.2", (-0.15, 0.2))],
)  # fmt: skip
def test_paper_range_parses_the_quotes(value: str, expected: tuple[float, float]) -> None:
    assert analysis.paper_range(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", ["not monotone", "1.5 / 2.1 / 3.3 %"])
def test_paper_range_refuses_what_is_not_a_number_or_range(value: str) -> None:
    with pytest.raises(ValueError, match="Expected `value` to state one number or a range"):
        analysis.paper_range(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [((0.3, 0.4), "above"), ((-0.4, -0.3), "below"), ((0.0, 0.01), "inside"),
     ((0.1, 0.3), "overlapping"), ((0.2, 0.2), "above"), ((0.1, 0.1), "inside"),
     ((np.nan, 0.1), "—")],
)  # fmt: skip
def test_range_position(value: tuple[float, float], expected: str) -> None:
    assert analysis.range_position(value, -0.1, 0.15) == expected


def test_interval_sign() -> None:
    assert analysis.interval_sign([0.1, -0.3, -0.1, np.nan], [0.2, -0.1, 0.1, 1.0]).tolist() == [
        1, -1, 0, 0]  # fmt: skip
    assert analysis.interval_sign([0.1, 0.1], [0.2, 0.2], [0.01, 0.2]).tolist() == [1, 0]
    with pytest.raises(ValueError, match="Expected `alpha` to be in"):
        analysis.interval_sign(0.1, 0.2, alpha=0)


def test_group_label_and_verdict_groups() -> None:
    t = pd.DataFrame({"space": ["tss", "sss", "tss"], "dataset": ["c10", "c10", "fm"]})
    labels = analysis.group_label(t)
    assert labels.tolist() == ["TSS · c10", "SSS · c10", "TSS · fm"]
    words = {1: "rises", 0: "flat"}
    assert analysis.verdict_groups(labels, [1, 0, 1], words) == [
        "rises in TSS · c10 and TSS · fm", "flat in SSS · c10"]  # fmt: skip
    assert analysis.verdict_groups(labels, [-1, -1, -1], words) == []
    with pytest.raises(ValueError, match="equal length"):
        analysis.verdict_groups(labels, [1], words)


def test_sentences_state_the_numbers_and_verdicts(study: pd.DataFrame) -> None:
    options = {"n_boot": 100}
    effect = analysis.scaling_effect(study, "pre_ECE_15", "post_ECE_15", **options)
    drivers = analysis.gain_drivers(study, "pre_ECE_15", "post_ECE_15", **options)
    temperatures = analysis.temperature_summary(study, "pre_ECE_15", **options)
    tests = analysis.posthoc_tests(study, ["vs", "hist"], **options)
    effect_text = analysis.scaling_effect_sentences(effect)
    assert len(effect_text) == 2
    assert "**TSS · a** (n = 60)" in effect_text[1]
    assert "largely survives" in effect_text[1] and "scaling lowered ECE" in effect_text[1]
    assert "median change -0.0100" in effect_text[1] and "it fell for 100 [94, 100] %" in effect_text[1]
    assert "reshuffles the ranking" in effect_text[0] and "did not detectably change" in effect_text[0]
    assert "follows its miscalibration more" in analysis.gain_driver_sentences(drivers)[0]
    temperature_text = analysis.temperature_sentences(temperatures, against="pre ECE")[1]
    assert "mostly overconfident" in temperature_text and "grows with pre ECE" in temperature_text
    posthoc_text = analysis.posthoc_sentences(tests)
    assert posthoc_text[0].startswith("`vs` on 15-bin ECE: not distinguishable from temperature")
    summary = analysis.scaling_summary(effect, drivers, temperatures.iloc[0:0], tests)
    assert summary[0] == (
        "The ECE ranking largely survives scaling in TSS · a; is reshuffled by scaling (no rank "
        "agreement detected) in SSS · b."
    )
    assert summary[1] == (
        "Network by network, scaling lowered ECE in TSS · a; did not detectably change ECE in "
        "SSS · b."
    )
    assert summary[3] == "Fitted temperatures: none in this store."
    assert any(line.startswith("`hist` on NLL: worse than temperature scaling") for line in summary)
    for text in (*effect_text, *posthoc_text, *summary):
        assert "nan" not in text.lower() and "-0.00 " not in text


# ECE in percent on the chapter's axes and tables.


def test_percent_columns_are_the_binned_calibration_errors() -> None:
    from calstudy import plots

    assert plots.in_percent("pre_ECE_15") and plots.in_percent("iso_MCE_500")
    assert plots.in_percent("cwCE_em_15")  # an estimator named without its stage
    for column in ("pre_NLL", "post_KSCE", "acc", "temperature", "pre_ECE", "ECE_em_x"):
        assert not plots.in_percent(column), column
    assert plots.axis_label("post_ECE_15") == "ECE, 15 bins, after scaling (%)"
    assert plots.axis_label("pre_NLL") == "NLL, before scaling"


def test_percent_view_scales_only_percent_columns() -> None:
    from calstudy import plots

    df = pd.DataFrame({"pre_ECE_15": [0.0412], "pre_NLL": [1.2], "acc": [0.9]})
    shown = plots.percent_view(df)
    assert shown["pre_ECE_15"].iloc[0] == pytest.approx(4.12)
    assert shown["pre_NLL"].iloc[0] == 1.2 and df["pre_ECE_15"].iloc[0] == 0.0412  # a copy
    assert plots.percent_view(df, ["acc"])["acc"].iloc[0] == pytest.approx(90)
    with pytest.raises(ValueError, match=r"Expected `df` to have columns \['x'\]"):
        plots.percent_view(df, ["x"])


def test_scatter_axes_use_display_names() -> None:
    from calstudy import plots

    df = pd.DataFrame({"pre_ECE_15": [1.0, 2.0, 3.0], "post_ECE_15": [1.0, 1.5, 1.2],
                       "acc": [0.5, 0.6, 0.7]})
    ax = plots.plot_metric_scatter(df, "pre_ECE_15", "post_ECE_15", hue="acc")
    assert ax.get_xlabel() == "ECE, 15 bins, before scaling (%)"
    assert ax.get_ylabel() == "ECE, 15 bins, after scaling (%)"
    assert ax.get_legend().get_title().get_text() == "accuracy"


def test_posthoc_differences_are_paired_by_network_in_points() -> None:
    from calstudy import plots

    df = pd.DataFrame({
        "group": ["a", "a", "a", "b", "b", "b"],
        "pre_ECE_15": [0.05] * 6, "post_ECE_15": [0.02, 0.03, 0.04, 0.01, 0.01, 0.01],
        "vs_ECE_15": [0.01, 0.03, 0.05, 0.02, 0.02, 0.02],
        "pre_NLL": [1.0] * 6, "post_NLL": [0.5] * 6, "vs_NLL": [0.4] * 6,
    })  # fmt: skip
    ece = plots.posthoc_differences(df, ["vs"], "ECE_15")
    assert list(ece.columns) == ["method", "d", "group"] and set(ece["method"]) == {"vs"}
    np.testing.assert_allclose(ece["d"], [-1, 0, 1, 1, 1, 1])  # percentage points
    np.testing.assert_allclose(plots.posthoc_differences(df, ["vs"], "NLL")["d"], [-0.1] * 6)
    assert plots.posthoc_differences(df.drop(columns="post_NLL"), ["vs"], "NLL").empty
    with pytest.raises(ValueError, match="Expected `df` to have column 'space'"):
        plots.posthoc_differences(df, ["vs"], "NLL", by="space")


def test_sentences_write_the_change_with_chosen_decimals() -> None:
    """An ECE in percentage points reads with 2 decimals; a fraction keeps 4."""
    effect = pd.DataFrame({
        "group": ["TSS · cifar10"], "n": [122], "tau": [0.0], "tau_low": [-0.13],
        "tau_high": [0.14], "kept": [0], "change": [-0.98], "change_low": [-1.13],
        "change_high": [-0.82], "change_p_holm": [1e-6], "changed": [-1], "lowered": [0.97],
        "lowered_low": [0.92], "lowered_high": [0.99],
    })  # fmt: skip
    (points,) = analysis.scaling_effect_sentences(effect, metric="ECE (points)", decimals=2)
    assert "median change -0.98 [-1.13, -0.82]" in points
    (fraction,) = analysis.scaling_effect_sentences(effect.assign(change=-0.0098))
    assert "median change -0.0098" in fraction
    tests = pd.DataFrame({
        "group": ["g"], "method": ["vs"], "score": ["ECE_15"], "median_diff": [0.06],
        "low": [0.0], "high": [0.23], "p_holm": [0.76], "beats": [0.35], "beats_low": [0.23],
        "beats_high": [0.5], "versus": [0],
    })  # fmt: skip
    (line,) = analysis.posthoc_sentences(tests, decimals=2)
    assert "median difference +0.06 [+0.00, +0.23]" in line


def test_gain_drivers_compare_strengths_whatever_the_signs() -> None:
    # The gain rises strongly with accuracy and falls weakly with miscalibration: accuracy's
    # relation is the stronger one although its τ is positive and miscalibration's negative.
    rng = np.random.default_rng(0)
    n = 300
    acc, pre = rng.uniform(0.5, 0.9, n), rng.uniform(0.01, 0.1, n)
    delta = 2.0 * (acc - 0.7) - 1.0 * (pre - 0.05) + rng.normal(0, 0.05, n)
    frame = pd.DataFrame({"space": "tss", "dataset": "cifar10", "fidelity": "f",
                          "acc": acc, "pre": pre, "post": pre + delta})  # fmt: skip
    r = analysis.gain_drivers(frame, "pre", "post", n_boot=200).iloc[0]
    assert r["tau_acc"] > abs(r["tau_pre"]) > 0 and r["tau_pre"] < 0, r
    assert r["gap"] == pytest.approx(abs(r["tau_pre"]) - abs(r["tau_acc"]))
    assert r["follows"] == -1, r  # accuracy more


# ------------------------------------------------------------------------------------------------
# The chapter's sentences and tables for readers


def test_posthoc_store_sentence(study: pd.DataFrame) -> None:
    df = study.assign(group=analysis.group_label(study))
    accuracy = report.pct(df["acc"].median())
    assert analysis.posthoc_store_sentence(df, "pre_ECE_15", "post_ECE_15") == (
        "This store: 120 networks in 2 groups (SSS · b: 60 and TSS · a: 60), median accuracy "
        f"{accuracy}; the chapter compares 15-bin ECE before scaling with 15-bin ECE after "
        "scaling. 120 networks carry a fitted temperature. ")  # fmt: skip
    small = pd.concat([df, df.head(4).assign(group="TSS · c", temperature=np.nan)])
    text = analysis.posthoc_store_sentence(small, "pre_NLL", "post_NLL", min_rows=5)
    assert "124 networks in 3 groups (SSS · b: 60, TSS · a: 60 and TSS · c: 4)" in text
    assert "compares NLL before scaling with NLL after scaling." in text
    assert text.endswith("120 networks carry a fitted temperature. Left out for having fewer "
                         "than 5 networks: TSS · c.")  # fmt: skip
    assert "fewer than 3 networks" in analysis.posthoc_store_sentence(small.head(122), "pre_NLL",
                                                                      "post_NLL", min_rows=2)  # fmt: skip
    none = analysis.posthoc_store_sentence(df.assign(temperature=np.nan), "pre_NLL", "post_NLL")
    assert none.endswith("after scaling. It records no fitted temperatures. ")


def test_scaling_effect_view_and_findings_in_points(study: pd.DataFrame) -> None:
    effect = analysis.scaling_effect(study, "pre_ECE_15", "post_ECE_15", n_boot=100)
    view = analysis.scaling_effect_view(effect, unit=100)
    assert list(view.columns) == ["networks", "median before", "median after", "τ(before, after)",
                                  "median change", "share lowered"]  # fmt: skip
    assert list(view.index) == ["SSS · b", "TSS · a"]
    a = effect.set_index("group").loc["TSS · a"]
    assert view.loc["TSS · a", "networks"] == 60
    assert view.loc["TSS · a", "median before"] == report.num(100 * a["median_pre"])
    assert view.loc["TSS · a", "median change"] == "-1.00 [-1.00, -1.00] *"  # points, Holm p < α
    assert view.loc["TSS · a", "τ(before, after)"] == "+1.00 [+1.00, +1.00]"
    assert not view.loc["SSS · b", "median change"].endswith("*")
    as_fraction = analysis.scaling_effect_view(effect)
    assert as_fraction.loc["TSS · a", "median change"] == "-0.01 [-0.01, -0.01] *"
    assert as_fraction.loc["TSS · a", "median before"] == report.num(a["median_pre"])
    sss, tss = analysis.scaling_effect_findings(effect, "pre_ECE_15", unit=100)
    assert "scaling lowered 15-bin ECE (in percentage points): median change -1.00 [-1.00, -1.00]" in tss
    assert sss.startswith("**SSS · b** (n = 60)")
    (_, fraction) = analysis.scaling_effect_findings(effect, "pre_ECE_15")
    assert "scaling lowered 15-bin ECE: median change -0.0100 [-0.0100, -0.0100]" in fraction


def test_scaling_answer() -> None:
    effect = pd.DataFrame({"group": ["TSS · a", "SSS · b"], "tau": [0.41, 0.0],
                           "tau_low": [0.3, -0.1], "tau_high": [0.51, 0.12],
                           "change": [-0.0085, 0.0], "change_low": [-0.0098, -0.001],
                           "change_high": [-0.0073, 0.002]})  # fmt: skip
    assert analysis.scaling_answer(effect, "Lead.", unit=100) == (
        "Lead. Per group, τ(before, after) and the median change in percentage points: TSS · a: "
        "τ = +0.41 [+0.30, +0.51], change -0.85 [-0.98, -0.73]; SSS · b: τ = +0.00 [-0.10, "
        "+0.12], change +0.00 [-0.10, +0.20].")  # fmt: skip
    assert analysis.scaling_answer(effect.head(1), "Lead.") == (
        "Lead. Per group, τ(before, after) and the median change: TSS · a: τ = +0.41 [+0.30, "
        "+0.51], change -0.01 [-0.01, -0.01].")  # fmt: skip
    assert analysis.scaling_answer(effect.iloc[:0], "Lead.") == "No group has enough networks."


def test_temperature_view(study: pd.DataFrame) -> None:
    temperatures = analysis.temperature_summary(study, "pre_ECE_15", n_boot=100)
    view = analysis.temperature_view(temperatures, "pre_ECE_15")
    assert list(view.columns) == ["share with T > 1", "median T − 1",
                                  "τ(|log T|, 15-bin ECE before scaling)"]  # fmt: skip
    a = temperatures.set_index("group").loc["TSS · a"]
    assert view.loc["TSS · a", "share with T > 1"] == (
        f"+1.00 [{report.fixed(a['over_low'])}, +1.00]")  # every T above 1
    assert view.loc["TSS · a", "median T − 1"] == report.ci(
        a["shift"], a["shift_low"], a["shift_high"]) + " *"  # fmt: skip
    assert not view.loc["SSS · b", "median T − 1"].endswith("*")  # T around 1
    assert view.loc["TSS · a", "τ(|log T|, 15-bin ECE before scaling)"] == "+1.00 [+1.00, +1.00]"
    strict = analysis.temperature_view(temperatures, "post_NLL", alpha=1e-300)
    assert not strict["median T − 1"].str.endswith("*").any()
    assert strict.columns[-1] == "τ(|log T|, NLL after scaling)"



@pytest.mark.parametrize("function", ["scaling_effect_view", "scaling_answer"])
def test_views_refuse_a_unit_that_is_not_a_positive_number(function: str) -> None:
    call = getattr(analysis, function)
    args = (pd.DataFrame(), "lead") if function == "scaling_answer" else (pd.DataFrame(),)
    with pytest.raises(ValueError, match="Expected `unit` to be a positive finite number, got 0"):
        call(*args, unit=0)
    with pytest.raises(ValueError, match="Expected `min_rows` to be a non-negative integer"):
        analysis.posthoc_store_sentence(
            pd.DataFrame({"group": ["a"], "acc": [0.5], "temperature": [1.0]}), "p", "q", min_rows=-1)
