"""The committed demo store's findings, pinned: data (data/demo) and method fixed, so that the
book's statements about the demo hold whatever library versions are installed.

Each test names the chapter whose statement it checks. The chapters compute their findings;
these tests are where a particular store's findings are asserted.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from calstudy import analysis, chapter

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
ALPHA = 0.05


@pytest.fixture(scope="module")
def cifar10() -> pd.DataFrame:
    return chapter.load_study(DEMO, datasets=["cifar10"], metrics=["ECE"], bin_counts=[15])


def test_rq7_edge_joint_tests(cifar10: pd.DataFrame) -> None:
    """RQ vii: no edge matters before scaling; after it, edges 0→1 and 1→2 (avg pool worst)."""
    tss = cifar10[cifar10["space"] == "tss"].dropna(subset=["pre_ECE_15", "post_ECE_15"])
    pre = analysis.edge_tests(tss, "pre_ECE_15", min_count=5).set_index("edge")
    post = analysis.edge_tests(tss, "post_ECE_15", min_count=5).set_index("edge")
    assert pre.attrs["n_dropped"] == post.attrs["n_dropped"] == 3
    assert (pre["p_holm"] >= ALPHA).all(), pre
    assert pre["p_holm"].min() == pytest.approx(0.167, abs=0.005)
    assert set(post.index[post["p_holm"] < ALPHA]) == {"edge_1_0", "edge_2_1"}, post
    assert post.loc[["edge_1_0", "edge_2_1"], "p_holm"].max() < 0.03
    assert (post.loc[["edge_1_0", "edge_2_1"], "worst"] == "avg_pool_3x3").all()
    assert post.loc[["edge_1_0", "edge_2_1"], "spread"].between(0.003, 0.005).all()


@pytest.fixture(scope="module")
def demo_tss(cifar10: pd.DataFrame) -> pd.DataFrame:
    """The chapter's TSS rows on CIFAR-10 (its default parameters)."""
    rows = analysis.design_columns(cifar10).dropna(subset=["acc", "pre_ECE_15", "post_ECE_15"])
    return rows[rows["space"] == "tss"]


@pytest.fixture(scope="module")
def demo_sss(cifar10: pd.DataFrame) -> pd.DataFrame:
    rows = analysis.design_columns(cifar10).dropna(subset=["acc", "pre_ECE_15", "post_ECE_15"])
    return rows[rows["space"] == "sss"]


def test_rq7_count_regression(demo_tss: pd.DataFrame) -> None:
    """RQ vii: before scaling, each extra average pooling raises ECE (Holm-significant)."""
    counts = analysis.count_effect_table(demo_tss, ["pre_ECE_15", "post_ECE_15"])
    pool = counts.set_index(["metric", "term"]).loc[("pre_ECE_15", "n_avg_pool_3x3")]
    assert pool["coef"] > 0 and pool["p_holm"] < ALPHA, pool.to_dict()
    sentence = analysis.count_effects_sentence(counts, alpha=ALPHA)
    assert "each extra avg_pool_3x3 raises 15-bin ECE" in sentence


def test_rq7_sss_width(demo_sss: pd.DataFrame) -> None:
    """RQ vii: wider SSS networks are worse calibrated before scaling (the paper's finding); after
    scaling the relation is gone; the paper's 40–80 vs 280–320 comparison cannot be made (the
    demo's random widths reach neither end)."""
    taus = analysis.width_taus(demo_sss, ["pre_ECE_15", "post_ECE_15"], n_boot=500, seed=0)
    width = taus[taus["x"] == "total_width"].set_index("metric")
    assert width.loc["pre_ECE_15", "low"] > 0 and width.loc["pre_ECE_15", "p_holm"] < ALPHA, width
    assert width.loc["post_ECE_15", "low"] < 0 < width.loc["post_ECE_15", "high"], width
    sentence = analysis.width_sentence(taus, alpha=ALPHA)
    assert "before temperature scaling, wider networks are worse calibrated" in sentence
    assert "after temperature scaling, no relation" in sentence
    ends = analysis.width_extremes(demo_sss, "pre_ECE_15", n_boot=50)
    assert ends["n_narrow"] == ends["n_wide"] == 0
    assert not len(analysis.uniform_width(demo_sss, ["pre_ECE_15"]).attrs["networks"])


def test_rq7_top_cells_by_hcs(demo_tss: pd.DataFrame) -> None:
    """RQ vii: among the 20 best cells by HCS a skip on 0→3 is no more frequent than in the
    sample, and the paper's 20 of 20 lies above the Wilson interval; most top cells carry a
    convolution on 0→1 (the interval's lower end is above one half)."""
    best = analysis.top_hcs(demo_tss, 20, ece="pre_ECE_15")
    tests = {"skip_connect on 0→3": ("edge_3_0", ["skip_connect"]),
             "a convolution on 0→1": ("edge_1_0", ["nor_conv_1x1", "nor_conv_3x3"])}  # fmt: skip
    table = analysis.hcs_enrichment(best, demo_tss, tests).set_index("test")
    skip, conv = table.loc["skip_connect on 0→3"], table.loc["a convolution on 0→1"]
    assert skip["p"] > ALPHA and skip["high"] < 1.0, skip.to_dict()
    assert conv["k"] > 10 and conv["low"] > 0.5, conv.to_dict()
    sentence = analysis.enrichment_sentence(
        table.reset_index(), alpha=ALPHA, paper_share={"skip_connect on 0→3": 1.0}
    )
    assert "the paper's 100 % lies above this interval" in sentence
