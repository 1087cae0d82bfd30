"""The committed demo store's findings in the dataset chapter, pinned (see test_findings_rq7.py).

The chapter computes and states them on any store; here they are asserted for data/demo with the
chapter's default parameters.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from calstudy import analysis, chapter
from calstudy.sweep import expand_jobs, preset_config

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"


@pytest.fixture(scope="module")
def every_seed() -> pd.DataFrame:
    return chapter.load_study(DEMO, metrics=["ECE"], bin_counts=[15], seeds="all")


@pytest.fixture(scope="module")
def networks() -> pd.DataFrame:
    return chapter.load_study(DEMO, metrics=["ECE"], bin_counts=[15])


def test_dataset_temperatures(networks: pd.DataFrame) -> None:
    """Dataset chapter: the median fitted temperature is significantly above 1 on CIFAR-10
    (overconfident); on Fashion-MNIST the whole interval of the median T − 1 lies within ±0.05
    (essentially calibrated)."""
    shift = analysis.temperature_shift(networks, n_boot=500, level=0.95, seed=0)
    median = networks.groupby("dataset")["temperature"].median()
    assert median["cifar10"] > 1 and abs(median["fashion-mnist"] - 1) < 0.05, median.to_dict()
    assert shift.loc["cifar10", "low"] > 0 and shift.loc["cifar10", "p"] < 0.05, shift
    fm = shift.loc["fashion-mnist"]
    assert -0.05 < fm["low"] and fm["high"] < 0.05, fm.to_dict()
    sentence = analysis.temperature_sentence(shift)
    assert "on cifar10, median T − 1 = +0.09" in sentence and "overconfident" in sentence
    assert "essentially calibrated" in sentence.split("on fashion-mnist")[1]


def test_dataset_demo_preset_is_complete(every_seed: pd.DataFrame) -> None:
    """Dataset chapter: the demo store holds all 340 jobs of the demo preset, and 12 more rows
    (the seed study's repeated seeds)."""
    plan = pd.DataFrame([j.key for j in expand_jobs(preset_config("demo"))],
                        columns=["space", "arch", "dataset", "seed", "fidelity"])  # fmt: skip
    progress = analysis.plan_progress(plan, every_seed)
    assert progress.attrs == {"planned": 340, "finished": 340, "outside": 12}
    assert (progress["share"] == 1).all()


def test_dataset_demo_columns(networks: pd.DataFrame) -> None:
    """Dataset chapter: every origin column is recorded; no row has an arch_index."""
    assert analysis.store_provenance(networks).attrs["absent"] == []
    groups = analysis.store_column_groups(networks)
    assert groups.loc["identity", "empty"] == "arch_index"
