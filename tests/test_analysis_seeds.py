"""The seed-noise chapter's tables: seed_study_groups, seed_noise_gaps, posthoc_pairs,
seed_noise_differences, seed_retest_taus, device_shift_table, seed_design_effects
(calstudy.analysis); its columns and groups (seed_columns, group_rows, seed_group_label) and its
tables for readers (plots.percent_rows, seed_noise_view, seed_gaps_view, seed_differences_view,
isomorphic_view)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calstudy import analysis, report

KEY = ["space", "arch", "dataset", "fidelity"]


def runs_table(n_archs: int = 8, seeds=(0, 1, 2), *, repeated: int = 4, seed: int = 0,
               shift: float = 0.0) -> pd.DataFrame:  # fmt: skip
    """`n_archs` architectures; the first `repeated` also trained with the later seeds, on
    another device whose runs are shifted by `shift` in column ``y``."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_archs):
        quality = rng.normal()
        for s in seeds if i < repeated else seeds[:1]:
            other = s != seeds[0]
            rows.append(dict(space="tss", arch=f"a{i}", dataset="c", fidelity="f", seed=s,
                             device="cpu" if other else "gpu",
                             y=quality + 0.1 * rng.normal() + (shift if other else 0.0),
                             a=quality + 1.0, b=quality))  # fmt: skip
    return pd.DataFrame(rows)


def test_seed_study_groups_counts_repeated_architectures() -> None:
    df = pd.concat([runs_table(), runs_table(3, repeated=0).assign(dataset="d")])
    g = analysis.seed_study_groups(df).set_index("dataset")
    assert g.loc["c", ["n_archs", "n_repeated", "max_seeds"]].tolist() == [8, 4, 3]
    assert g.loc["c", "seeds"] == [0, 1, 2]
    assert g.loc["d", ["n_archs", "n_repeated", "max_seeds"]].tolist() == [3, 0, 1]
    with pytest.raises(ValueError, match="seed"):
        analysis.seed_study_groups(df.drop(columns="seed"))


def test_seed_noise_gaps_by_hand() -> None:
    first = pd.DataFrame({"acc": [0.5, 0.6, 0.9], "ece": [0.01, 0.02, 0.05]})
    table = pd.DataFrame({"pooled_std": [0.0, 1.0]}, index=["acc", "ece"])
    gaps = analysis.seed_noise_gaps(first, table, ["acc", "ece", "missing"])
    assert list(gaps.index) == ["acc", "ece"]
    assert gaps.loc["acc", "observed"] == pytest.approx(0.3)  # max − median: higher is better
    assert gaps.loc["ece", "observed"] == pytest.approx(0.01)  # median − min
    assert gaps.loc["acc", "noise_gap"] == 0.0 and gaps.loc["acc", "exceeds"]
    assert not gaps.loc["ece", "exceeds"]  # a seed sd of 1 swamps a gap of 0.01


def test_posthoc_pairs_follow_the_columns_present() -> None:
    columns = ["pre_ECE_15", "post_ECE_15", "post_NLL", "vs_ECE_15", "vs_NLL", "iso_ECE_15"]
    pairs = analysis.posthoc_pairs(columns, ["vs", "iso", "hist"], pre="pre_ECE_15",
                                   post="post_ECE_15")  # fmt: skip
    assert pairs == {"ts − none, ECE_15": ("post_ECE_15", "pre_ECE_15"),
                     "vs − ts, ECE_15": ("vs_ECE_15", "post_ECE_15"),
                     "vs − ts, NLL": ("vs_NLL", "post_NLL"),
                     "iso − ts, ECE_15": ("iso_ECE_15", "post_ECE_15")}  # fmt: skip
    few = analysis.posthoc_pairs(columns, ["vs"], pre="pre_ECE_15", post="post_ECE_15",
                                 counts={"vs_ECE_15": 2, "vs_NLL": 10})  # fmt: skip
    assert list(few) == ["ts − none, ECE_15", "vs − ts, NLL"]
    assert analysis.posthoc_pairs(["vs_ECE_15"], ["vs"], pre="pre_ECE_15", post="post_ECE_15") == {}


def test_seed_noise_differences_of_a_constant_shift() -> None:
    df = runs_table()
    first = df[df["seed"] == 0]
    out = analysis.seed_noise_differences(df, first, {"a − b": ("a", "b"), "y − b": ("y", "b")},
                                          n_boot=200)  # fmt: skip
    r = out.loc["a − b"]
    assert r["median"] == pytest.approx(1.0) and r["low"] == pytest.approx(1.0)
    assert r["seed_std"] == pytest.approx(0.0) and r["threshold"] == pytest.approx(0.0)
    assert r["median_beyond"] and r["beyond"] == 1.0 and r["n"] == 8
    assert (out["p_holm"] >= out["p"] - 1e-12).all()
    assert list(out.columns[:5]) == ["median", "low", "high", "p", "p_holm"]
    empty = analysis.seed_noise_differences(df, first, {})
    assert empty.empty and "p_holm" in empty.columns


def test_seed_retest_taus_between_two_seeds() -> None:
    df = runs_table(repeated=6)
    taus = analysis.seed_retest_taus(df, ["a", "y"], seeds=[0, 1], n_boot=100)
    assert taus.loc["a", "tau"] == pytest.approx(1.0) and taus.loc["a", "n"] == 6
    assert analysis.seed_retest_taus(df, ["a"], seeds=[0, 1], min_archs=7).empty
    assert analysis.seed_retest_taus(df, ["a"], seeds=[0, 9]).empty
    with pytest.raises(ValueError, match="two seeds"):
        analysis.seed_retest_taus(df, ["a"], seeds=[0])


def test_device_shift_table_detects_a_device_shift() -> None:
    df = runs_table(repeated=6, shift=1.0)
    first = df[df["seed"] == 0]
    table = analysis.seed_noise_table(df, ["y", "a"], by=KEY)
    check = analysis.device_shift_table(df, first, table, ["y", "a"], n_boot=200)
    assert check.attrs["first_device"] == "gpu"
    y = check.loc["y"]
    assert y["shift"] == pytest.approx(-1.0, abs=0.15) and y["high"] < 0  # detected
    assert y["sp_one_device"] < y["sp_all"] and y["icc_one_device"] > y["icc_all"]
    assert check.loc["a", "shift"] == pytest.approx(0.0)
    same_device = df.assign(device="gpu")
    assert analysis.device_shift_table(same_device, first, table, ["y"]).empty


def test_seed_sentences_follow_the_numbers() -> None:
    df = runs_table(repeated=6, shift=1.0)
    groups = analysis.seed_study_groups(df)
    text = analysis.seed_groups_sentence(groups, min_repeated=3)
    assert text.startswith("The networks analysed here: TSS c (`f`): 8 architectures, 6 of them")
    assert "The seed-noise sections below use TSS c (`f`)" in text
    none = analysis.seed_groups_sentence(groups.assign(n_repeated=0, seeds=[[-1]]),
                                         min_repeated=3)  # fmt: skip
    assert "training seed not stated" in none and "seed-noise sections are skipped" in none

    table = analysis.seed_noise_table(df, ["y", "a"], by=KEY)
    assert "over 6 repeated architectures the ICC runs from" in analysis.seed_noise_sentence(
        table, ["y"])
    first = df[df["seed"] == 0]
    check = analysis.device_shift_table(df, first, table, ["y", "a"], n_boot=100)
    said = analysis.device_shift_sentence(check)
    assert "y shifts by" in said and "(shift detected;" in said
    assert "a shifts by +0.0000 [+0.0000, +0.0000] (no shift detected" in said

    diffs = analysis.seed_noise_differences(df, first, {"a − b": ("a", "b")}, n_boot=100)
    assert "(real over networks); the median is visible" in analysis.seed_difference_sentence(
        "a − b", diffs.loc["a − b"])
    gaps = pd.DataFrame({"observed": [0.3], "noise_gap": [0.1], "exceeds": [True]}, index=["acc"])
    assert analysis.seed_gaps_sentence(gaps).startswith("accuracy: the best network's lead over the "
                                                         "median (0.3) exceeds")


def test_reproducibility_and_isomorphic_sentences() -> None:
    table = pd.DataFrame({"icc": [0.8, 0.1, 0.2], "icc_low": [0.5, 0.0, 0.0],
                          "icc_high": [0.9, 0.4, 0.5]}, index=["acc", "pre", "post"])  # fmt: skip
    devices = pd.DataFrame({"icc_one_device": [0.3, 0.5, 0.1]}, index=["acc", "pre", "post"])
    text = analysis.reproducibility_sentence(table, devices, pre="pre", post="post")
    assert text.startswith("accuracy is more reproducible across seeds than pre and post")
    assert "pre is not more reproducible than post" in text
    assert "on one device's runs accuracy is not more reproducible than both" in text
    iso = pd.DataFrame({"space": "tss", "dataset": ["c", "d"], "fidelity": "f", "metric": "y",
                        "n_strings": [400, 3], "n_classes": [331, 3], "n_repeated": [32, 0],
                        "icc": [0.68, np.nan], "low": [0.54, np.nan], "high": [0.77, np.nan],
                        "within_sd": 0.1, "total_sd": 0.2, "retest_tau": [0.48, np.nan]})
    said = analysis.isomorphic_sentences(iso)
    assert said[0].startswith("TSS c (`f`), isomorphic strings (400 strings in 331 classes, 32")
    assert "y 0.68 [0.54, 0.77] (retest τ 0.48)" in said[0]
    assert said[1] == ("TSS d (`f`): no two of its 3 strings are isomorphic: no ICC across "
                       "isomorphic strings.")


# --------------------------------------------------------------------------------------------
# The chapter's columns, groups and tables for readers (seed_columns … isomorphic_view)


def test_seed_columns_keep_the_order_and_name_what_is_missing() -> None:
    kept, missing = analysis.seed_columns(["ECE_15", "KSCE", "NLL"], pre="pre_ECE_15",
                                          post="post_ECE_15", present={
                                              "acc", "pre_ECE_15", "post_ECE_15", "post_KSCE",
                                              "pre_NLL", "post_NLL", "other"})  # fmt: skip
    assert kept == ["acc", "pre_ECE_15", "post_ECE_15", "post_KSCE", "pre_NLL", "post_NLL"]
    assert missing == ["pre_KSCE"]  # pre_ECE_15 and post_ECE_15 are wanted once only


def test_group_rows_and_seed_group_label() -> None:
    df = pd.concat([runs_table(3), runs_table(2).assign(fidelity="g"),
                    runs_table(2).assign(dataset="d")])  # fmt: skip
    groups = analysis.seed_study_groups(df)
    g = next(groups[(groups["dataset"] == "c") & (groups["fidelity"] == "g")].itertuples())
    rows = analysis.group_rows(df, g)
    assert len(rows) == 6 and set(rows["fidelity"]) == {"g"} and set(rows["dataset"]) == {"c"}
    assert analysis.seed_group_label(g) == "TSS c (`g`)"
    assert analysis.group_rows(df, g, by=["dataset"]).shape[0] == 15  # both fidelities of c
    with pytest.raises(ValueError, match="fidelity"):
        analysis.group_rows(df.drop(columns="fidelity"), g)
    text = analysis.seed_groups_sentence(groups, min_repeated=3, missing=["pre_KSCE", "post_MMCE"])
    assert "TSS c (`g`): 2 architectures, 2 of them" in text
    assert text.endswith(" Columns the store lacks, left out: `pre_KSCE` and `post_MMCE`.")
    assert "lacks" not in analysis.seed_groups_sentence(groups, min_repeated=3)


def test_percent_rows_scales_only_the_rows_shown_in_percent() -> None:
    from calstudy import plots

    table = pd.DataFrame({"mean": [0.05, 0.7, 0.3], "n": [3, 3, 3]},
                         index=["pre_ECE_15", "acc", "pre_NLL"])  # fmt: skip
    out = plots.percent_rows(table, ["mean"], table.index)
    assert out["mean"].tolist() == pytest.approx([5.0, 0.7, 0.3]) and out["n"].tolist() == [3] * 3
    assert table["mean"].iloc[0] == 0.05  # a copy
    with pytest.raises(ValueError, match="one name per row"):
        plots.percent_rows(table, ["mean"], ["acc"])
    with pytest.raises(ValueError, match="columns"):
        plots.percent_rows(table, ["median"], table.index)


def test_seed_noise_gaps_and_differences_views_for_readers() -> None:
    df = runs_table(repeated=6).rename(columns={"a": "pre_ECE_15", "b": "post_ECE_15"})
    df["pre_ECE_15"], df["post_ECE_15"] = 0.01 * df["pre_ECE_15"], 0.01 * df["post_ECE_15"]
    table = analysis.seed_noise_table(df, ["y", "pre_ECE_15"], by=KEY)
    view = analysis.seed_noise_view(table)
    assert view.index.tolist() == ["y", "ECE, 15 bins, before scaling"]  # named for readers
    assert "icc" in view.columns and not {"n_rows", "icc_low", "icc_high"} & set(view.columns)
    ece = table.loc["pre_ECE_15"]
    in_percent = report.format_table(pd.DataFrame({"m": [100 * ece["mean"]]}))["m"].iloc[0]
    as_measured = report.format_table(pd.DataFrame({"m": [table.loc["y", "mean"]]}))["m"].iloc[0]
    assert view.loc["ECE, 15 bins, before scaling", "mean"] == in_percent
    assert view.loc["y", "mean"] == as_measured
    icc = report.ci(ece["icc"], ece["icc_low"], ece["icc_high"])
    assert view.loc["ECE, 15 bins, before scaling", "icc"].replace("\u00a0", " ") == icc

    gaps = pd.DataFrame({"networks": [8, 8], "observed": [0.02, 0.3], "noise_gap": [0.01, 0.1],
                         "exceeds": [True, True]}, index=["pre_ECE_15", "acc"])  # fmt: skip
    shown = analysis.seed_gaps_view(gaps)
    ece_gaps = shown.loc["ECE, 15 bins, before scaling", ["observed", "noise_gap"]]
    assert ece_gaps.tolist() == ["2", "1"]  # in percent
    assert shown.loc["accuracy", "observed"] == "0.3"

    first = df[df["seed"] == 0]
    diffs = analysis.seed_noise_differences(
        df, first, {"ts − none, ECE_15": ("post_ECE_15", "pre_ECE_15"), "y − a, NLL": ("y", "y")},
        n_boot=100)  # fmt: skip
    out = analysis.seed_differences_view(diffs)
    assert list(out.columns) == ["median", "low", "high", "p_holm", "seed_std", "threshold",
                                 "median_beyond", "share beyond (%)", "n"]  # fmt: skip
    assert out.index.tolist() == ["ts − none, 15-bin ECE", "y − a, NLL"]
    assert out.loc["ts − none, 15-bin ECE", "median"] == "-1"  # −0.01 shown in percentage points
    assert out.loc["y − a, NLL", "median"] == "0"  # not scaled
    beyond = diffs.loc["ts − none, ECE_15"]
    share = report.ci(
        100 * beyond["beyond"], 100 * beyond["beyond_low"], 100 * beyond["beyond_high"]
    )
    assert out.loc["ts − none, 15-bin ECE", "share beyond (%)"].replace("\u00a0", " ") == share


def test_seed_design_effects_in_seed_standard_deviations() -> None:
    rng = np.random.default_rng(0)
    from calstudy import space

    archs = rng.choice(space.all_tss(), size=40, replace=False)
    ops = pd.Series(archs).str.count("nor_conv_3x3")
    first = pd.DataFrame({"space": "tss", "arch": archs, "y": 0.02 * ops + rng.normal(0, 1e-3, 40)})
    table = pd.DataFrame({"pooled_std": [0.01]}, index=["y"])
    effects = analysis.seed_design_effects(first, table, "y")
    assert "intercept" not in effects.index and effects.index.name == "term"
    conv = effects.loc["n_nor_conv_3x3"]
    assert conv["coef"] == pytest.approx(0.02, abs=2e-3)
    assert conv["coef / s_p"] == pytest.approx(conv["coef"] / 0.01)  # two seed sd per edge
    assert analysis.seed_design_effects(first.iloc[:9], table, "y") is None  # too few networks
    assert analysis.seed_design_effects(first.assign(space="sss"), table, "y") is None
    with pytest.raises(ValueError, match="Expected `first` to have columns"):
        analysis.seed_design_effects(first, table, "missing")
    with pytest.raises(ValueError, match="Expected `table` to have a row for 'a'"):
        analysis.seed_design_effects(first.assign(a=1.0), table.drop(index="a", errors="ignore"), "a")
    text = analysis.seed_design_sentence(effects, "y")
    small = int((effects["coef / s_p"].abs() < 1).sum())
    assert small == len(effects) - 1  # only the 3×3 convolution moves y by more than s_p
    assert text == (f"{small} operation counts of {len(effects)} move y by less than one seed "
                    "standard deviation per edge.")  # fmt: skip


def test_isomorphic_view_shows_only_tables_with_isomorphic_strings() -> None:
    iso = pd.DataFrame({"space": "tss", "dataset": ["c", "d"], "fidelity": "f",
                        "metric": "pre_ECE_15", "n_strings": [400, 3], "n_classes": [331, 3],
                        "n_repeated": [32, 0], "icc": [0.68, np.nan]})  # fmt: skip
    shown = analysis.isomorphic_view(iso)
    assert shown["dataset"].tolist() == ["c"] and "space" not in shown.columns
    assert shown["metric"].tolist() == ["ECE, 15 bins, before scaling"]
    assert analysis.isomorphic_view(iso.iloc[1:]).empty
