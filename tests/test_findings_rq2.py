"""RQ ii's findings on the committed demo store, pinned (see tests/test_findings_rq7.py).

The chapter (notebooks/rq2_robustness.py) computes and states these from its numbers, in every
space and dataset; here the same package calls with the chapter's default parameters assert
what it found on data/demo for TSS CIFAR-10, the paper's setting: no corruption or attack
accuracy tracks ECE (|τ| < 0.2, none significant after Holm or Benjamini–Hochberg), most point
estimates lie below the paper's lowest value 0.09 and every interval below its highest 0.36,
ECE is unrelated to clean accuracy, the most accurate networks show no stronger relation, and a
dozen random networks give a band holding the paper's whole range. Each group is corrected on
its own, so loading TSS CIFAR-10 alone gives the chapter's numbers for it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from calstudy import analysis, chapter

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
ECE = "pre_ECE_15"
# The chapter's default parameters.
SIZES = [10, 25, 50, 100, 200, 400, 1000, 4000]
N_TOP, N_REPEATS, N_BOOT, LEVEL, ALPHA, SEED = 1000, 50, 500, 0.95, 0.05, 0
PAPER_LOW, PAPER_HIGH = 0.09, 0.36


@pytest.fixture(scope="module")
def cifar10() -> pd.DataFrame:
    return chapter.load_study(DEMO, space="tss", datasets=["cifar10"], metrics=["ECE"],
                              bin_counts=[15])


@pytest.fixture(scope="module")
def table(cifar10: pd.DataFrame) -> pd.DataFrame:
    return analysis.robustness_taus(cifar10, ECE, n_boot=N_BOOT, level=LEVEL, seed=SEED)


def test_rq2_no_corruption_or_attack_accuracy_tracks_ece(table: pd.DataFrame) -> None:
    robust = table[table["family"].isin(["corruption", "attack"])]
    assert len(robust) == 26  # 15 corruptions, their mean, 10 attack columns
    assert robust["tau"].abs().max() < 0.2, robust
    assert (robust["p_holm"] >= ALPHA).all() and (robust["p_bh"] >= ALPHA).all()
    clean = table.set_index("measure").loc["acc"]
    assert abs(clean["tau"]) < 0.2


def test_rq2_below_the_papers_range(table: pd.DataFrame) -> None:
    beside = analysis.robustness_beside_paper(table, paper=(PAPER_LOW, PAPER_HIGH)).iloc[0]
    assert beside["below_low"] > beside["measures"] / 2  # most point τ below 0.09
    assert beside["interval_below_high"] == beside["measures"]  # every interval below 0.36


def test_rq2_population_curve(cifar10: pd.DataFrame) -> None:
    # n_boot only sets the top-N bands, which are not asserted: 20 resamples keep this fast.
    curves = analysis.robustness_curves(cifar10, ECE, "mean_corruption_acc", sizes=SIZES,
                                        n_boot=20, n_random=N_REPEATS, level=LEVEL, seed=SEED)
    curve = curves["tss", "cifar10"]
    top = curve[curve["selection"] == "top"]
    assert top["tau_mean"].abs().max() < 0.2, top  # the most accurate show no stronger relation
    small = curve[curve["selection"] == "random"].iloc[0]
    assert small["size"] == 10
    assert small["low"] <= PAPER_LOW and small["high"] >= PAPER_HIGH  # holds the paper's range


def test_rq2_neither_the_most_nor_the_least_accurate_stand_out(cifar10: pd.DataFrame) -> None:
    contrast = analysis.top_versus_lowest(cifar10, ECE, n=N_TOP, n_boot=N_BOOT, level=LEVEL,
                                          seed=SEED)
    verdict = analysis.selection_verdict(contrast, alpha=ALPHA)
    assert verdict["n_top"] == 30  # a quarter of the 122 networks
    assert verdict["verdict"] == "neither", verdict
    assert verdict["higher_top"] == verdict["higher_lowest"] == 0
