"""Tests of the RQ v functions of calstudy.analysis (calibration and accuracy) on built frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calstudy import analysis, htmlcheck


@pytest.fixture(scope="module")
def study() -> pd.DataFrame:
    """Group "tss · a": ECE rises with accuracy up to 0.8 and falls above it (not monotone).
    Group "sss · b": ECE falls with accuracy everywhere. Group "tss · c": 5 models only."""
    rng = np.random.default_rng(0)
    acc_a = rng.uniform(0.6, 0.9, 200)
    ece_a = np.where(acc_a < 0.8, acc_a - 0.6, 1.0 - acc_a) / 5 + rng.normal(0, 0.002, 200)
    acc_b = rng.uniform(0.6, 0.9, 100)
    ece_b = (1 - acc_b) / 5 + rng.normal(0, 0.002, 100)
    frame = pd.DataFrame({
        "space": ["tss"] * 200 + ["sss"] * 100 + ["tss"] * 5,
        "dataset": ["a"] * 200 + ["b"] * 100 + ["c"] * 5,
        "arch": [f"x{i}" for i in range(305)],
        "acc": np.r_[acc_a, acc_b, rng.uniform(0.5, 0.6, 5)],
        "pre_ECE_15": np.r_[ece_a, ece_b, rng.uniform(0, 0.1, 5)],
    })  # fmt: skip
    frame["post_ECE_15"] = frame["pre_ECE_15"] / 2
    return frame


def test_label_top_marks_the_most_accurate(study: pd.DataFrame) -> None:
    labelled = analysis.label_top(study, fraction=0.2, min_group=10)
    assert set(labelled["group"]) == {"TSS · a", "SSS · b"}
    assert labelled.attrs["skipped"] == [{"space": "tss", "dataset": "c", "n": 5}]
    for _, part in labelled.groupby("group"):
        top, rest = part[part["top"]], part[~part["top"]]
        assert len(top) == int(np.ceil(0.2 * len(part)))
        assert top["acc"].min() >= rest["acc"].max()  # the HIGHEST accuracies
    fixed = analysis.label_top(study, n=7, min_group=10)
    assert (fixed.groupby("group")["top"].sum() == 7).all()
    at_least = analysis.label_top(study, fraction=0.001, min_group=3)
    assert (at_least.groupby("group")["top"].sum() == 3).all()  # never fewer than 3


def test_label_top_refuses_bad_parameters(study: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="Expected `fraction` to be in"):
        analysis.label_top(study, fraction=0)
    with pytest.raises(ValueError, match="Expected `n` to be a non-negative integer"):
        analysis.label_top(study, n=-1)


def test_label_top_without_a_large_group_is_empty(study: pd.DataFrame) -> None:
    labelled = analysis.label_top(study, min_group=1000)
    assert labelled.empty and {"top", "group"} <= set(labelled.columns)
    assert labelled[labelled["top"]].empty  # a boolean column even when empty
    assert analysis.accuracy_taus(labelled, ["pre_ECE_15"]).empty
    assert analysis.top_rest_contrast(labelled, "pre_ECE_15").empty


def test_accuracy_taus_subsets_and_relations(study: pd.DataFrame) -> None:
    labelled = analysis.label_top(study, fraction=0.2, min_group=10)
    taus = analysis.accuracy_taus(labelled, ["pre_ECE_15", "post_ECE_15"], n_boot=200)
    assert len(taus) == 2 * 3 * 2  # groups × subsets × columns
    t = taus.set_index(["group", "models", "metric"])
    assert t.loc[("SSS · b", "all", "pre_ECE_15"), "relation"] == -1  # falls everywhere
    assert t.loc[("TSS · a", "top", "pre_ECE_15"), "relation"] == -1  # falls among the best
    assert t.loc[("TSS · a", "rest", "pre_ECE_15"), "tau"] > 0  # rises below 0.8
    assert (taus["p_holm"] >= taus["p"] - 1e-12).all()
    assert (taus["significant"] == (taus["p_holm"] < 0.05)).all()
    assert ((taus["low"] <= taus["tau"]) & (taus["tau"] <= taus["high"])).all()


def test_top_rest_contrast_finds_the_bend(study: pd.DataFrame) -> None:
    labelled = analysis.label_top(study, fraction=0.3, min_group=10)
    shape = analysis.top_rest_contrast(labelled, "pre_ECE_15", n_boot=200).set_index("group")
    a, b = shape.loc["TSS · a"], shape.loc["SSS · b"]
    assert a["peak_inside"] and a["peak_acc"] == pytest.approx(0.8, abs=0.03)
    assert a["sign_differs"] and a["differs"] == -1 and a["low"] < a["high"] < 0
    assert not b["peak_inside"] and b["differs"] == 0
    assert (shape["p_holm"] >= shape["p"] - 1e-12).all()


def test_sentences_and_summary(study: pd.DataFrame) -> None:
    labelled = analysis.label_top(study, fraction=0.2, min_group=10)
    taus = analysis.accuracy_taus(labelled, ["pre_ECE_15", "post_ECE_15"], n_boot=100)
    shape = analysis.top_rest_contrast(labelled, "pre_ECE_15", n_boot=100)
    effect = analysis.scaling_effect(labelled, "pre_ECE_15", "post_ECE_15", n_boot=100)
    text = analysis.accuracy_tau_sentences(taus, models="all")
    assert len(text) == 4 and text[0].startswith("**SSS · b**, 15-bin ECE before scaling: τ(acc, ·) = -")
    assert text[0].endswith("it falls as accuracy rises.")
    assert "the relation changes between the top models and the rest" in (
        analysis.top_rest_sentences(shape)[1])  # fmt: skip
    gains = analysis.scaling_gain_sentences(effect, effect.iloc[0:0])
    assert "scaling lowered ECE network by network" in gains[0] and "median T" not in gains[0]
    paper = analysis.accuracy_paper_sentences(
        labelled, taus, shape, "pre_ECE_15", paper_range_value=(0.038, 0.068),
        reference="TSS · a", threshold=0.85)  # fmt: skip
    assert paper[0].startswith("In TSS · a, ") and "reach 85 % accuracy" in paper[0]
    assert paper[0].endswith("and the paper's 3.8 % – 6.8 % lies above that range.")
    assert "falls as accuracy rises, as in the paper" in paper[1]
    assert "among them 15-bin ECE before scaling falls" in paper[1]
    assert "a change of the relation between the top models and the rest is shown" in paper[2]
    none = analysis.accuracy_paper_sentences(
        labelled, taus, shape, "pre_ECE_15", paper_range_value=(0.038, 0.068),
        reference="TSS · a", threshold=0.95)  # fmt: skip
    assert "too few to set beside the paper's range of 3.8 % – 6.8 %" in none[0]
    summary = analysis.accuracy_summary(taus, shape, effect, pre="pre_ECE_15", post="post_ECE_15")
    assert summary[0] == (
        "Before temperature scaling, over all models, 15-bin ECE rises with accuracy in TSS · a; "
        "falls as accuracy rises in SSS · b (Holm-corrected)."
    )
    assert summary[-1] == "Temperature scaling lowered ECE in SSS · b and TSS · a, network by network."
    assert not htmlcheck.raw_column_names(" ".join([*text, *paper, *summary]))


def test_sentences_of_empty_tables() -> None:
    empty = analysis.label_top(
        pd.DataFrame({"space": ["tss"], "dataset": ["a"], "acc": [0.5], "pre": [0.1], "post": [0.1]}),
        min_group=10)  # fmt: skip
    taus = analysis.accuracy_taus(empty, ["pre"])
    shape = analysis.top_rest_contrast(empty, "pre")
    effect = analysis.scaling_effect(empty, "pre", "post")
    assert analysis.accuracy_tau_sentences(taus) == ["No group has enough models (all) for τ."]
    assert analysis.top_rest_sentences(shape)[0].startswith("No group has enough models")
    assert analysis.scaling_gain_sentences(effect, effect)[0].startswith("No group")
    assert "no group 'TSS · a'" in analysis.accuracy_paper_sentences(
        empty, taus, shape, "pre", paper_range_value=(0.0, 0.1), reference="TSS · a")[0]


def test_fit_trend_lowess_delta_on_large_samples() -> None:
    """Above 5,000 rows LOWESS interpolates within 1 % of the range of x: nearly the same curve."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 0.9, 6000)
    df = pd.DataFrame({"x": x, "y": (x - 0.7) ** 2 + rng.normal(0, 0.01, x.size)})
    fast = analysis.fit_trend(df, "x", "y", kind="lowess")
    exact = analysis.fit_trend(df, "x", "y", kind="lowess", delta=0.0)
    assert np.abs(fast.fit - exact.fit).max() < 0.01 * np.ptp(exact.fit)
    small = df.head(100)
    assert np.array_equal(analysis.fit_trend(small, "x", "y").fit,
                          analysis.fit_trend(small, "x", "y", delta=0.0).fit)  # fmt: skip

