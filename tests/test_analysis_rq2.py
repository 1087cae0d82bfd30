"""RQ ii's package functions: robustness measures, τ per group, most vs least accurate, words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calstudy import analysis, htmlcheck
from calstudy.schema import CORRUPTIONS


def frame(n: int = 80, seed: int = 0, *, groups=(("tss", "cifar10"),)) -> pd.DataFrame:
    """``n`` networks per group: ECE tracks ``fog`` among the most accurate half only."""
    rng = np.random.default_rng(seed)
    parts = []
    for space, dataset in groups:
        acc = rng.uniform(0.4, 0.9, size=n)
        ece = rng.uniform(0.01, 0.05, size=n)
        fog = np.where(acc > np.median(acc), ece * 10, rng.uniform(0.1, 0.5, size=n))
        part = pd.DataFrame({"space": space, "dataset": dataset,
                             "arch": [f"{space}{i}" for i in range(n)], "acc": acc,
                             "pre_ECE_15": ece, "fog": fog, "snow": rng.uniform(size=n),
                             "pgd_Linf_acc1_0": rng.uniform(size=n),
                             "pre_auc_ood": rng.uniform(size=n)})
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def test_add_corruption_summaries_means_the_measured_corruptions() -> None:
    df = frame(10)
    out = analysis.add_corruption_summaries(df)
    assert np.allclose(out["mean_corruption_acc"], (df["fog"] + df["snow"]) / 2)
    assert np.allclose(out["relative_corruption_acc"], out["mean_corruption_acc"] / df["acc"])
    assert "mean_corruption_acc" not in df.columns  # a copy
    bare = analysis.add_corruption_summaries(df.drop(columns=["fog", "snow"]))
    assert "mean_corruption_acc" not in bare.columns


def test_add_corruption_summaries_ignores_columns_without_values() -> None:
    df = frame(10).assign(frost=np.nan)
    out = analysis.add_corruption_summaries(df)
    assert out["mean_corruption_acc"].notna().all()


def test_robustness_measures_by_family_in_schema_order() -> None:
    df = analysis.add_corruption_summaries(frame(10).assign(pre_auc_svhn=np.nan))
    found = analysis.robustness_measures(df)
    assert found == {
        "reference": ["acc", "relative_corruption_acc"],
        "corruption": [c for c in CORRUPTIONS if c in ("fog", "snow")] + ["mean_corruption_acc"],
        "attack": ["pgd_Linf_acc1_0"],
        "ood": ["pre_auc_ood"],
    }
    assert analysis.robustness_measures(df.head(2))["attack"] == []  # fewer than min_rows


def test_robustness_inventory_counts_per_group() -> None:
    df = frame(10, groups=(("sss", "cifar10"), ("tss", "cifar10")))
    df.loc[df["space"] == "sss", ["fog", "snow", "pgd_Linf_acc1_0", "pre_auc_ood"]] = np.nan
    inv = analysis.robustness_inventory(df)
    assert inv.loc[("sss", "cifar10")].tolist() == [10, 1, 0, 0, 0]
    assert inv.loc[("tss", "cifar10")].tolist() == [10, 2, 3, 1, 1]


def test_robustness_taus_corrects_within_each_group() -> None:
    df = frame(60, groups=(("sss", "cifar10"), ("tss", "cifar10")))
    df.loc[df["space"] == "sss", ["fog", "snow", "pgd_Linf_acc1_0", "pre_auc_ood"]] = np.nan
    table = analysis.robustness_taus(df, "pre_ECE_15", n_boot=30)
    # SSS holds only acc as a measure: one test, so its Holm p equals its raw p
    sss = table[table["space"] == "sss"]
    assert sss["measure"].tolist() == ["acc"] and np.allclose(sss["p_holm"], sss["p"])
    tss = table[table["space"] == "tss"]
    assert len(tss) == 7  # acc, relative, fog, snow, their mean, pgd, ood
    assert np.allclose(tss["p_holm"], analysis.correct_pvalues(tss["p"], method="holm"))
    assert np.allclose(tss["p_bh"], analysis.correct_pvalues(tss["p"], method="bh"))
    assert list(table.columns) == ["space", "dataset", "family", "measure", "tau", "low", "high",
                                   "p", "n", "p_holm", "p_bh"]


def test_robustness_taus_without_values_is_empty() -> None:
    df = frame(10).assign(pre_ECE_15=np.nan)
    table = analysis.robustness_taus(df, "pre_ECE_15", n_boot=10)
    assert table.empty and "p_holm" in table.columns


def test_top_versus_lowest_finds_the_relation_among_the_most_accurate() -> None:
    df = frame(200, seed=1)
    table = analysis.top_versus_lowest(df, "pre_ECE_15", n=1000, n_boot=400)
    assert set(table["n_top"]) == {50} and set(table["networks"]) == {200}  # a quarter
    fog = table.set_index("measure").loc["fog"]
    assert fog["tau_top"] == pytest.approx(1.0) and abs(fog["tau_lowest"]) < 0.3
    assert fog["difference"] > 0.5 and fog["p_holm"] < 0.05
    verdict = analysis.selection_verdict(table)
    assert verdict["verdict"] == "most accurate" and verdict["higher_top"] >= 1


def test_top_versus_lowest_selections_match_top_n_and_lowest_n() -> None:
    df = frame(40)
    table = analysis.top_versus_lowest(df, "pre_ECE_15", n=8, n_boot=20)
    best, worst = analysis.top_n(df, 8), analysis.lowest_n(df, 8)
    snow = table.set_index("measure").loc["snow"]
    assert snow["tau_top"] == pytest.approx(analysis.kendall_tau(best["pre_ECE_15"], best["snow"]))
    assert snow["tau_lowest"] == pytest.approx(
        analysis.kendall_tau(worst["pre_ECE_15"], worst["snow"])
    )


def test_top_versus_lowest_reverse_is_the_papers_population() -> None:
    df = frame(200, seed=2)
    df["acc"] = 1.3 - df["acc"]  # the related half becomes the least accurate
    table = analysis.top_versus_lowest(df, "pre_ECE_15", n=50, n_boot=400)
    assert analysis.selection_verdict(table)["verdict"] == "least accurate"


def test_top_versus_lowest_too_few_networks() -> None:
    table = analysis.top_versus_lowest(frame(11), "pre_ECE_15", n=100, n_boot=10)
    assert table.empty  # a quarter of 11 is 2 < 3


@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_top_versus_lowest_refuses_a_bad_n(bad) -> None:
    with pytest.raises(ValueError, match="Expected `n` to be a positive integer"):
        analysis.top_versus_lowest(frame(10), "pre_ECE_15", n=bad)


def test_selection_verdict_neither_and_bad_alpha() -> None:
    c = pd.DataFrame({"n_top": [30], "tau_top": [0.1], "p_top_holm": [0.5], "tau_lowest": [0.1],
                      "p_lowest_holm": [0.5], "difference": [0.0], "p_holm": [1.0]})
    assert analysis.selection_verdict(c)["verdict"] == "neither"
    with pytest.raises(ValueError, match="Expected `alpha` to be in"):
        analysis.selection_verdict(c, alpha=0)


def test_robustness_beside_paper_counts() -> None:
    table = pd.DataFrame({"space": "tss", "dataset": "cifar10",
                          "family": ["corruption", "attack", "attack", "reference"],
                          "tau": [0.0, 0.2, 0.5, 0.9], "low": [-0.1, 0.15, 0.4, 0.8],
                          "high": [0.08, 0.3, 0.6, 1.0]})
    row = analysis.robustness_beside_paper(table, paper=(0.09, 0.36)).iloc[0]
    assert row["measures"] == 3 and row["below_low"] == 1 and row["interval_below_low"] == 1
    assert row["interval_below_high"] == 2 and row["interval_above_high"] == 1
    sentence = analysis.robustness_paper_sentence(row, paper=(0.09, 0.36))
    assert sentence.startswith("**TSS / CIFAR-10**: τ with 3 attack or corruption accuracies")
    assert "1 point estimates lie below the paper's lowest (0.09)" in sentence


def test_robustness_curves_skip_groups_without_the_measure() -> None:
    df = frame(30, groups=(("sss", "cifar10"), ("tss", "cifar10")))
    df.loc[df["space"] == "sss", ["fog", "snow"]] = np.nan
    curves = analysis.robustness_curves(df, "pre_ECE_15", "mean_corruption_acc", sizes=[10],
                                        n_boot=20, n_random=5)
    assert list(curves) == [("tss", "cifar10")]
    assert set(curves["tss", "cifar10"]["size"]) == {10, 30}


def test_sentences_state_the_numbers() -> None:
    df = frame(200, seed=1)
    table = analysis.robustness_taus(df, "pre_ECE_15", n_boot=50)
    text = analysis.robustness_sentence(table)
    assert text.startswith("**TSS / CIFAR-10** (200 networks). Of 7 measures,")
    assert "Corruption accuracies: τ from" in text and "τ with accuracy = " in text
    assert not htmlcheck.raw_column_names(text), text
    brief = analysis.robustness_sentence(table, brief=True)
    assert brief.startswith("TSS / CIFAR-10: ") and "corruption and attack accuracies" in brief
    contrast = analysis.top_versus_lowest(df, "pre_ECE_15", n=1000, n_boot=400)
    said = analysis.selection_sentence(contrast, n=1000)
    assert "N = 50 (the requested 1,000 capped at a quarter of 200 networks)" in said
    assert said.endswith("the relation is stronger among the most accurate networks.")
    assert analysis.selection_sentence(contrast.iloc[:0], n=10) == ""
    assert analysis.robustness_sentence(table.iloc[:0]) == ""


# The chapter's tables and figure: τ with intervals marked by Holm, legends naming Holm.


def test_ci_table_pivots_intervals_and_marks_corrected_p() -> None:
    from calstudy import report

    long = pd.DataFrame({
        "measure": ["fog", "fog", "snow"], "dataset": ["cifar10", "svhn", "cifar10"],
        "tau": [0.31, -0.0001, 0.12], "low": [0.2, -0.1, np.nan], "high": [0.4, 0.1, np.nan],
        "p_holm": [0.001, 0.9, 0.04],
    })  # fmt: skip
    table = report.ci_table(long, index="measure", columns="dataset", p="p_holm",
                            names=str.upper)  # fmt: skip
    assert " " not in "".join(table.to_numpy().ravel())  # non-breaking: the numbers never wrap
    table = table.apply(lambda column: column.str.replace("\u00a0", " "))
    assert list(table.columns) == ["cifar10", "svhn"] and list(table.index) == ["FOG", "SNOW"]
    assert table.loc["FOG", "cifar10"] == "+0.31 [+0.20, +0.40] *"
    assert table.loc["FOG", "svhn"] == "+0.00 [-0.10, +0.10]"  # never -0.00, not marked
    assert table.loc["SNOW", "cifar10"] == "+0.12 *"  # no interval: the estimate alone
    assert table.loc["SNOW", "svhn"] == report.MISSING
    wrapping = report.ci_table(long.iloc[:1], index="measure", nowrap=False)
    assert wrapping.to_dict() == {"tau": {"fog": "+0.31 [+0.20, +0.40]"}}
    plain = report.ci_table(long.iloc[:1], index="measure")
    assert plain.to_dict() == {"tau": {"fog": "+0.31\u00a0[+0.20,\u00a0+0.40]"}}
    with pytest.raises(ValueError, match=r"Expected `table` to have columns \['p'\]"):
        report.ci_table(long, index="measure", p="p")


def test_op_effects_legend_names_the_correction() -> None:
    from calstudy import plots

    effects = pd.DataFrame({"term": ["fog", "snow"], "coef": [0.3, 0.0], "low": [0.2, -0.1],
                            "high": [0.4, 0.1], "p": [1e-4, 0.5], "p_holm": [2e-4, 1.0]})
    labels = plots.plot_op_effects(effects).get_legend_handles_labels()[1]
    assert labels == ["Holm p < 0.05", "Holm p ≥ 0.05"]
    raw = plots.plot_op_effects(effects.drop(columns="p_holm")).get_legend_handles_labels()[1]
    assert raw == ["p < 0.05", "p ≥ 0.05"]
