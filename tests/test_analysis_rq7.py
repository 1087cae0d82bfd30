"""Tests of the RQ vii functions of calstudy.analysis (architecture design) on small built frames,
and of the chapter's groups, sentences and tables for readers (design_groups …
top_cells_view)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calstudy import analysis, report
from calstudy.space import TSS_OPS, all_tss, parse_tss

EDGES = analysis.EDGES


@pytest.fixture(scope="module")
def tss() -> pd.DataFrame:
    """300 TSS cells whose ECE rises with each avg_pool (0.004) and with a conv on edge 0→1."""
    rng = np.random.default_rng(0)
    archs = rng.choice(all_tss(), 300, replace=False)
    ops = pd.DataFrame([parse_tss(a) for a in archs], columns=list(EDGES))
    pools = (ops == "avg_pool_3x3").sum(axis=1)
    conv01 = ops["edge_1_0"].isin(["nor_conv_1x1", "nor_conv_3x3"])
    ece = 0.02 + 0.004 * pools + 0.003 * conv01 + rng.normal(0, 0.002, len(ops))
    return ops.assign(
        space="tss", arch=archs, acc=0.9 - 0.01 * pools + rng.normal(0, 0.005, len(ops)),
        pre_ECE_15=ece, post_ECE_15=0.01 + rng.normal(0, 0.002, len(ops)),
    )  # fmt: skip


@pytest.fixture(scope="module")
def sss() -> pd.DataFrame:
    """SSS networks: ECE grows with total width before scaling, not after."""
    rng = np.random.default_rng(1)
    widths = rng.choice([8, 16, 24, 32, 40, 48, 56, 64], size=(120, 5))
    widths[:8] = np.repeat(np.arange(8, 72, 8)[:, None], 5, axis=1)  # the uniform networks
    total = widths.sum(axis=1)
    frame = pd.DataFrame(widths, columns=list(analysis.WIDTHS))
    return frame.assign(
        space="sss", arch=[":".join(map(str, w)) for w in widths], total_width=total,
        acc=0.8 + total / 3200, pre_ECE_15=0.01 + total / 4000 + rng.normal(0, 0.003, len(total)),
        post_ECE_15=0.015 + rng.normal(0, 0.003, len(total)),
    )  # fmt: skip


# ------------------------------------------------------------------------------------------------
# Design columns


def test_edge_label() -> None:
    assert [analysis.edge_label(e) for e in EDGES] == ["0→1", "0→2", "1→2", "0→3", "1→3", "2→3"]
    with pytest.raises(ValueError, match="Expected `edge`"):
        analysis.edge_label("edge_4_0")


def test_design_columns_fills_from_arch_and_keeps_values() -> None:
    arch = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|"
    rows = pd.DataFrame({"space": ["tss", "sss", "sss"], "arch": [arch, "8:16:24:32:64", "8:8:8:8:8"],
                         "c0": pd.array([pd.NA, pd.NA, 99], dtype="Int64")})  # fmt: skip
    out = analysis.design_columns(rows)
    assert out.loc[0, list(EDGES)].tolist() == list(parse_tss(arch))
    assert out.loc[1, ["c0", "c1", "c2", "c3", "c4", "total_width"]].tolist() == [8, 16, 24, 32, 64, 144]
    assert out.loc[2, "c0"] == 99  # a value the store holds is kept
    assert pd.isna(out.loc[0, "c0"]) and pd.isna(out.loc[1, "edge_1_0"])
    assert "c0" in rows.columns and "edge_1_0" not in rows.columns  # the input is not changed


def test_design_columns_needs_arch() -> None:
    with pytest.raises(ValueError, match="arch"):
        analysis.design_columns(pd.DataFrame({"space": ["tss"]}))


# ------------------------------------------------------------------------------------------------
# TSS: edges and counts


def test_edge_test_table_stacks_targets(tss: pd.DataFrame) -> None:
    table = analysis.edge_test_table(tss, ["pre_ECE_15", "post_ECE_15"])
    assert table["metric"].tolist() == ["pre_ECE_15"] * 6 + ["post_ECE_15"] * 6
    single = analysis.edge_tests(tss, "post_ECE_15")
    post = table[table["metric"] == "post_ECE_15"].reset_index(drop=True)
    pd.testing.assert_frame_equal(post.drop(columns="metric"), single, check_like=True)
    assert set(table.attrs["n_rows"]) == {"pre_ECE_15", "post_ECE_15"}
    with pytest.raises(ValueError, match="targets"):
        analysis.edge_test_table(tss, [])


def test_edge_tests_sentence_follows_the_numbers(tss: pd.DataFrame) -> None:
    table = analysis.edge_test_table(tss, ["pre_ECE_15", "post_ECE_15"])
    sentence = analysis.edge_tests_sentence(table)
    before, after = sentence.split("; after")
    assert before.startswith("before temperature scaling, the operation matters on edge 0→1")
    assert "worst avg_pool_3x3" in before  # every edge: pooling raises the built ECE
    assert "no edge's operation has a detectable effect" in after  # post is noise
    strict = analysis.edge_tests_sentence(table, alpha=1e-300)
    assert strict.count("no edge's operation has a detectable effect") == 2


def test_count_effect_table_and_sentence(tss: pd.DataFrame) -> None:
    table = analysis.count_effect_table(tss, ["pre_ECE_15", "post_ECE_15"])
    pool = table.set_index(["metric", "term"]).loc[("pre_ECE_15", "n_avg_pool_3x3")]
    assert pool["coef"] == pytest.approx(0.004, abs=0.0005) and pool["p_holm"] < 1e-6
    sentence = analysis.count_effects_sentence(table)
    shown = report.ci(100 * pool["coef"], 100 * pool["low"], 100 * pool["high"])
    assert f"each extra avg_pool_3x3 raises 15-bin ECE ({shown} pp per edge, Holm p" in sentence
    assert "after temperature scaling, no operation count moves 15-bin ECE significantly after Holm" in sentence


def test_edge_op_medians(tss: pd.DataFrame) -> None:
    medians = analysis.edge_op_medians(tss, "pre_ECE_15")
    assert list(medians.columns) == ["0→1", "0→2", "1→2", "0→3", "1→3", "2→3"]
    assert list(medians.index) == [o for o in TSS_OPS if o in set(tss["edge_1_0"])]
    expected = tss.loc[tss["edge_3_0"] == "skip_connect", "pre_ECE_15"].median()
    assert medians.loc["skip_connect", "0→3"] == pytest.approx(expected)


# ------------------------------------------------------------------------------------------------
# SSS: widths


def test_width_taus_and_sentence(sss: pd.DataFrame) -> None:
    taus = analysis.width_taus(sss, ["pre_ECE_15", "post_ECE_15"], n_boot=100)
    assert taus.attrs["skipped"] == ["n_params"]  # not a column of the frame
    assert list(taus["x"]) == ["total_width", "total_width"]
    pre = taus.set_index("metric").loc["pre_ECE_15"]
    assert pre["tau"] > 0.5 and pre["low"] <= pre["tau"] <= pre["high"]
    expected = analysis.kendall_ci(sss["total_width"], sss["pre_ECE_15"], n_boot=100)
    assert pre["tau"] == pytest.approx(expected.tau) and pre["low"] == pytest.approx(expected.low)
    assert (taus["p_holm"] >= taus["p"]).all()
    sentence = analysis.width_sentence(taus)
    assert sentence.startswith("before temperature scaling, wider networks are worse calibrated")
    assert "after temperature scaling, no relation of width and 15-bin ECE that" in sentence
    flipped = taus.assign(tau=-taus["tau"], low=-taus["high"], high=-taus["low"])
    assert "wider networks are better calibrated" in analysis.width_sentence(flipped)


def test_width_taus_skips_a_constant_size(sss: pd.DataFrame) -> None:
    taus = analysis.width_taus(sss.assign(n_params=5), ["pre_ECE_15"], n_boot=20)
    assert taus.attrs["skipped"] == ["n_params"] and len(taus) == 1


def test_width_extremes(sss: pd.DataFrame) -> None:
    ext = analysis.width_extremes(sss, "pre_ECE_15", n_boot=100)
    narrow = sss.loc[sss["total_width"].between(40, 80), "pre_ECE_15"]
    wide = sss.loc[sss["total_width"].between(280, 320), "pre_ECE_15"]
    assert ext["n_narrow"] == len(narrow) and ext["n_wide"] == len(wide) >= 2
    assert ext["difference"] == pytest.approx(wide.median() - narrow.median())
    assert ext["width_min"] == 40 and ext["width_max"] == 320
    assert "at total width 40–80" in analysis.width_extremes_sentence(ext, "pre_ECE_15")
    middle = analysis.width_extremes(sss[sss["total_width"].between(100, 250)], "pre_ECE_15")
    assert middle["n_narrow"] == middle["n_wide"] == 0 and np.isnan(middle["narrow"])
    assert "cannot be made" in analysis.width_extremes_sentence(middle, "pre_ECE_15")


def test_uniform_width(sss: pd.DataFrame) -> None:
    table = analysis.uniform_width(sss, ["pre_ECE_15", "post_ECE_15"], n_boot=100)
    networks = table.attrs["networks"]
    assert networks["width"].tolist() == [8, 16, 24, 32, 40, 48, 56, 64]
    row = table.set_index("metric").loc["pre_ECE_15"]
    assert (row["n"], row["width_min"], row["width_max"]) == (8, 8, 64)
    assert row["at_min"] == pytest.approx(networks["pre_ECE_15"].iloc[0])
    assert row["tau"] > 0.5
    sentence = analysis.uniform_width_sentence(table)
    assert sentence.startswith("15-bin ECE before scaling ") and "(width 8 → 64, τ = +" in sentence
    none = analysis.uniform_width(sss.iloc[8:], ["pre_ECE_15"])
    assert none["n"].tolist() == [0] and np.isnan(none["tau"].iloc[0])
    assert analysis.uniform_width_sentence(none) == "none"


def test_accuracy_bands() -> None:
    rows = pd.DataFrame({"acc": [0.80, 0.85, 0.86, 0.90, 0.923, 0.95],
                         "e": [9.0, 0.04, 0.05, 0.06, 0.07, 9.0]})  # fmt: skip
    bands = analysis.accuracy_bands(rows, "e", n_bands=2)
    assert bands["n"].tolist() == [2, 2]  # 0.80 and 0.95 are outside; 0.923 is in the top band
    assert bands["band_low"].tolist() == pytest.approx([0.847, 0.885])
    assert bands["e"].tolist() == pytest.approx([0.045, 0.065])
    assert analysis.accuracy_bands(rows[rows["acc"] < 0.84], "e").empty
    with pytest.raises(ValueError, match="acc_range"):
        analysis.accuracy_bands(rows, "e", acc_range=(0.9, 0.8))


# ------------------------------------------------------------------------------------------------
# The best cells by HCS


def test_hcs_enrichment_counts_and_tests(tss: pd.DataFrame) -> None:
    best = analysis.top_hcs(tss, 20)
    tests = {"skip on 0→3": ("edge_3_0", ["skip_connect"]),
             "conv on 0→1": ("edge_1_0", ["nor_conv_1x1", "nor_conv_3x3"])}  # fmt: skip
    table = analysis.hcs_enrichment(best, tss, tests)
    skip = table.set_index("test").loc["skip on 0→3"]
    k = int((best["edge_3_0"] == "skip_connect").sum())
    assert skip["k"] == k and skip["n"] == 20
    assert skip["base_rate"] == pytest.approx((tss["edge_3_0"] == "skip_connect").mean())
    assert (skip["share"], skip["low"], skip["high"]) == pytest.approx(analysis.wilson_ci(k, 20))
    assert table["p_holm"].tolist() == pytest.approx(
        analysis.correct_pvalues(table["p"].to_numpy(), method="holm").tolist()
    )
    whole = analysis.hcs_enrichment(tss, tss, tests)  # the sample against itself: no enrichment
    assert (whole["p"] > 0.4).all()


def test_enrichment_sentence_wording() -> None:
    table = pd.DataFrame({"test": ["skip", "conv"], "k": [4, 17], "n": [20, 20],
                          "share": [0.2, 0.85], "low": [0.08, 0.64], "high": [0.42, 0.95],
                          "base_rate": [0.2, 0.65], "p": [0.6, 0.04], "p_holm": [0.6, 0.08]})  # fmt: skip
    text = analysis.enrichment_sentence(table, paper_share={"skip": 1.0, "conv": 0.9})
    skip, conv = text.split("; 17 of 20")
    assert "not more often than the sample" in skip and "the paper's 100 % lies above" in skip
    assert "a majority" in conv and "the paper's 90 % lies inside" in conv
    assert "more often than the sample" in analysis.enrichment_sentence(table, alpha=0.1)


def test_edge_op_counts(tss: pd.DataFrame) -> None:
    best = tss.head(10)
    counts = analysis.edge_op_counts({"top": best, "sample": tss}, ["edge_3_0"])
    assert list(counts.columns) == ["0→3 top", "0→3 sample"]
    assert list(counts.index) == list(TSS_OPS)
    assert counts["0→3 top"].sum() == 10 and counts["0→3 sample"].sum() == len(tss)


# ------------------------------------------------------------------------------------------------
# The chapter's figures (calstudy.plots)


def test_rq7_plots(tss: pd.DataFrame, sss: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from calstudy import plots

    effects = analysis.op_effects(tss, "pre_ECE_15", reference="none", min_count=5)
    ax = plots.plot_edge_contrasts(effects)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "0→3 skip_connect vs none" in labels and not any("edge_" in t for t in labels)
    ax = plots.plot_edge_medians(analysis.edge_op_medians(tss, "pre_ECE_15"), label="pre_ECE_15")
    assert ax.get_xlabel() == "edge" and len(ax.texts) == 5 * 6  # one number per operation × edge
    ax = plots.plot_width_medians(sss, "pre_ECE_15")
    line = ax.get_lines()[-1]
    medians = sss.groupby("total_width")["pre_ECE_15"].median()
    assert np.allclose(line.get_xdata(), medians.index) and np.allclose(line.get_ydata(), medians)
    plt.close("all")


# ------------------------------------------------------------------------------------------------
# The chapter's groups, sentences and tables for readers


def test_design_groups_and_store_sentence() -> None:
    rows = pd.DataFrame({"space": ["tss", "tss", "sss", "tss", "sss", "sss"],
                         "dataset": ["b", "b", "b", "a", "b", "b"],
                         "acc": [0.9, 0.8, 0.7, None, 0.6, 0.5],
                         "pre_ECE_15": [0.1, 0.2, 0.3, 0.4, np.nan, 0.6],
                         "post_ECE_15": 0.01, "fidelity": ["f2", "f1", "f2", "f1", "f1", np.nan]})  # fmt: skip
    tss_by, sss_by = analysis.design_groups(rows, ["pre_ECE_15", "post_ECE_15"])
    assert list(tss_by) == list(sss_by) == ["a", "b"]  # every dataset, sorted
    assert tss_by["a"].empty and tss_by["b"].index.tolist() == [0, 1]
    assert sss_by["b"].index.tolist() == [2, 5]  # row 4 lacks pre_ECE_15
    text = analysis.design_store_sentence(tss_by, sss_by, ["pre_ECE_15", "post_ECE_15"],
                                          rows["fidelity"])  # fmt: skip
    assert text == ("This store holds, with 15-bin ECE before scaling and 15-bin ECE after "
                    "scaling, on a 0 TSS cells and 0 SSS networks and on b 2 TSS cells and 2 SSS "
                    "networks (fidelity f1 and f2).")  # fmt: skip
    with pytest.raises(ValueError, match="post_NLL"):
        analysis.design_groups(rows, ["post_NLL"])


def test_edge_fit_sentence_and_edge_tests_view(tss: pd.DataFrame) -> None:
    table = analysis.edge_test_table(tss, ["pre_ECE_15", "post_ECE_15"])
    assert analysis.edge_fit_sentence(table, "pre_ECE_15") == (
        "300 cells fitted, 0 left out as carrying a rare operation")
    pools = tss.index[tss["edge_1_0"] == "avg_pool_3x3"]
    rare = tss.drop(pools[2:])  # two cells keep avg_pool_3x3 on 0→1: fewer than min_count
    few = analysis.edge_test_table(rare, ["pre_ECE_15"], min_count=5)
    assert analysis.edge_fit_sentence(few, "pre_ECE_15") == (
        f"{len(rare) - 2} cells fitted, 2 left out as carrying a rare operation")
    with pytest.raises(ValueError, match="edge_test_table"):
        analysis.edge_fit_sentence(table, "post_NLL")
    view = analysis.edge_tests_view(table)
    assert view["edge"].tolist()[:6] == ["0→1", "0→2", "1→2", "0→3", "1→3", "2→3"]
    assert view["p_holm"].tolist() == [report.pvalue(p) for p in table["p_holm"]]
    assert table["edge"].iloc[0] == "edge_1_0"  # the input is not changed


def test_width_findings_and_skipped_sentences(sss: pd.DataFrame) -> None:
    targets = ["pre_ECE_15", "post_ECE_15"]
    ends = analysis.width_extremes_sentences(sss, targets, n_boot=100)
    assert list(ends) == targets
    assert ends["post_ECE_15"] == analysis.width_extremes_sentence(
        analysis.width_extremes(sss, "post_ECE_15", n_boot=100), "post_ECE_15")
    taus = analysis.width_taus(sss, targets, n_boot=100)
    text = analysis.width_findings_sentence(taus, ends)
    assert text == "; ".join([analysis.width_sentence(taus), ends["pre_ECE_15"], ends["post_ECE_15"]])
    middle = sss[sss["total_width"].between(100, 250)]  # neither end: one sentence, said once
    ends = analysis.width_extremes_sentences(middle, targets, n_boot=50)
    assert ends["pre_ECE_15"] == ends["post_ECE_15"]
    text = analysis.width_findings_sentence(taus, ends, alpha=1e-300)
    assert text.count("cannot be made") == 1 and "wider networks are" not in text
    assert analysis.width_skipped_sentence(taus) == (
        "No τ with `n_params`: this store does not record it.")
    counted = analysis.width_taus(sss.assign(n_params=np.arange(len(sss))), targets, n_boot=20)
    assert analysis.width_skipped_sentence(counted) == ""  # no size column skipped
    both = analysis.width_taus(sss.drop(columns="total_width"), targets, n_boot=20)
    assert analysis.width_skipped_sentence(both) == (
        "No τ with `total_width` and `n_params`: this store does not record it.")


def test_uniform_width_shortfall_and_view(sss: pd.DataFrame) -> None:
    table = analysis.uniform_width(sss.iloc[5:], ["pre_ECE_15", "post_ECE_15"], n_boot=50)
    assert analysis.uniform_width_shortfall(table, min_networks=4) == (
        "this store holds 3 uniform-width SSS networks; the analysis needs 4 (the paper's full "
        "CSVs hold all eight; a sweep adds them with `calstudy sweep --preset <preset> --archs "
        "widths.txt --out <store>`, widths.txt listing 8:8:8:8:8, 16:16:16:16:16, …)")  # fmt: skip
    none = analysis.uniform_width(sss.iloc[8:], ["pre_ECE_15"])
    assert analysis.uniform_width_shortfall(none).startswith(
        "this store holds 0 uniform-width SSS networks; the analysis needs 3 (")
    view = analysis.uniform_width_view(table)
    networks = table.attrs["networks"]
    assert list(view.columns) == ["arch", "accuracy", "ECE, 15 bins, before scaling",
                                  "ECE, 15 bins, after scaling"]  # fmt: skip
    assert view["arch"].tolist() == ["48:48:48:48:48", "56:56:56:56:56", "64:64:64:64:64"]
    assert view["accuracy"].tolist() == [report.pct(a) for a in networks["acc"]]
    assert view.iloc[0, 2] == f"{100 * networks['pre_ECE_15'].iloc[0]:.2f} %"
    with pytest.raises(ValueError, match="networks"):
        analysis.uniform_width_view(pd.DataFrame({"metric": ["pre_ECE_15"]}))


def test_accuracy_range_tau_sentences_and_view() -> None:
    rows = pd.DataFrame({"acc": [0.80, 0.85, 0.86, 0.90, 0.923, 0.95, np.nan],
                         "pre_ECE_15": [0.9, 0.04, 0.05, 0.06, 0.07, 0.9, 0.1]})  # fmt: skip
    r = analysis.accuracy_range_tau(rows, "pre_ECE_15", n_boot=50)
    assert (r.tau, r.n) == (1.0, 4)  # 0.80, 0.95 and the row without accuracy are outside
    expected = analysis.kendall_ci(rows["acc"].iloc[1:5], rows["pre_ECE_15"].iloc[1:5], n_boot=50)
    assert (r.low, r.high, r.p_value) == (expected.low, expected.high, expected.p_value)
    assert analysis.accuracy_range_tau(rows, "pre_ECE_15", min_n=5) is None
    bands = analysis.accuracy_bands(rows, "pre_ECE_15")
    assert analysis.accuracy_bands_sentence(bands, "pre_ECE_15", r) == (
        "4 SSS networks with accuracy 84.7–92.3 %; median 15-bin ECE before scaling per accuracy "
        "band 4.50 % – 7.00 %; its τ with accuracy in this range: τ = +1.00 [+1.00, +1.00], "
        "n = 4")  # fmt: skip
    assert analysis.accuracy_bands_summary(bands, "pre_ECE_15", r) == (
        "band medians 4.50 % – 7.00 %, τ with accuracy +1.00 [+1.00, +1.00]")
    assert analysis.accuracy_bands_sentence(bands.iloc[:1], "pre_ECE_15", None) == (
        "2 SSS networks with accuracy 84.7–92.3 %: no reading of the paper's range")
    wide = analysis.accuracy_bands(rows, "pre_ECE_15", acc_range=(0.8, 0.95))
    assert analysis.accuracy_bands_sentence(wide, "pre_ECE_15", None, acc_range=(0.8, 0.95)) == (
        "6 SSS networks with accuracy 80–95 %: no reading of the paper's range")
    with pytest.raises(ValueError, match="tau"):
        analysis.accuracy_bands_summary(bands, "pre_ECE_15", None)
    view = analysis.accuracy_bands_view(bands, "pre_ECE_15")
    assert list(view.columns) == ["band_low", "band_high", "n", "accuracy",
                                  "ECE, 15 bins, before scaling"]  # fmt: skip
    assert view.iloc[0].tolist() == ["84.7 %", "86.6 %", 2, "85.5 %", "4.50 %"]


def test_paper_hcs_tests_and_top_cells_view(tss: pd.DataFrame) -> None:
    best = analysis.top_hcs(tss, 5)
    table = analysis.hcs_enrichment(best, tss, analysis.PAPER_HCS_TESTS)
    assert table["test"].tolist() == ["skip_connect on 0→3", "a convolution on 0→1"]
    conv = best["edge_1_0"].isin(["nor_conv_1x1", "nor_conv_3x3"]).sum()
    assert table["k"].tolist() == [(best["edge_3_0"] == "skip_connect").sum(), conv]
    text = analysis.enrichment_sentence(table, paper_share=analysis.PAPER_HCS_SHARES)
    skip, rest = text.split("carry a convolution on 0→1")  # the paper's share: of the skip only
    assert skip.endswith(f"; the paper's 100 % lies above this interval; {conv} of 5 top cells ")
    assert "the paper's" not in rest
    view = analysis.top_cells_view(best, "pre_ECE_15")
    assert list(view.columns) == ["hcs", "accuracy", "ECE, 15 bins, before scaling", "0→1", "0→2",
                                  "1→2", "0→3", "1→3", "2→3"]  # fmt: skip
    assert view.index.tolist() == list(range(5))
    top = best.iloc[0]
    assert view.iloc[0, :3].tolist() == [f"{top['hcs']:.4f}", report.pct(top["acc"]),
                                         f"{100 * top['pre_ECE_15']:.2f} %"]  # fmt: skip
    assert view["0→3"].tolist() == best["edge_3_0"].tolist()


def test_design_headline_picks_the_width_and_top_cell_findings() -> None:
    summary = ["TSS edges, a: e.", "Top 20 TSS cells by HCS, a: t.", "SSS width, a: w.",
               "SSS width, b: v."]  # fmt: skip
    assert analysis.design_headline(summary) == "SSS width, a: w. Top 20 TSS cells by HCS, a: t."
    assert analysis.design_headline(summary[:2]) == "Top 20 TSS cells by HCS, a: t."
    assert analysis.design_headline(["TSS edges, a: e.", "TSS operation counts, a: c."]) == (
        "TSS edges, a: e. TSS operation counts, a: c.")
    assert analysis.design_headline([]) == "Too few networks for any finding."
    assert analysis.design_headline(summary, keys=["TSS"]) == "TSS edges, a: e."

