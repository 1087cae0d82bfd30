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
