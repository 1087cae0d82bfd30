"""Tests of the RQ vi functions of calstudy.analysis (the number of bins) on built frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calstudy import analysis

BINS = [5, 15, 50, 500]


@pytest.fixture(scope="module")
def study() -> pd.DataFrame:
    """Two groups of 60 models. Before scaling every bin count ranks the models alike (a common
    level per model, growing slowly with B); after scaling each bin count adds its own noise
    and the level grows fast with B."""
    rng = np.random.default_rng(0)
    frames = []
    for space, dataset in (("tss", "cifar10"), ("sss", "cifar100")):
        n = 60
        level = rng.uniform(0.02, 0.05, n)
        frame = pd.DataFrame({"space": space, "dataset": dataset, "arch": [f"{space}{i}" for i in
                              range(n)], "acc": rng.uniform(0.6, 0.9, n)})  # fmt: skip
        for b in BINS:
            frame[f"pre_ECE_{b}"] = level * (1 + np.log(b / 5) / 10) + rng.normal(0, 1e-4, n)
            frame[f"post_ECE_{b}"] = 0.005 * (b / 5) ** 0.4 * rng.lognormal(0, 0.3, n)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_paper_values_reads_every_number() -> None:
    assert analysis.paper_values("1.5 / 2.1 / 3.3 / 4.5 / 6.3 / 9.7 %") == pytest.approx(
        [0.015, 0.021, 0.033, 0.045, 0.063, 0.097])  # fmt: skip
    assert analysis.paper_values("at 5 / 15 / 500 ") == [5.0, 15.0, 500.0]
    assert analysis.paper_values("−0.23") == [-0.23]
    assert analysis.paper_values("not monotone") == []


def test_binned_families_are_checked(study: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="Expected `metric` to be one of"):
        analysis.bin_count_medians(study, "KSCE", BINS)
    with pytest.raises(ValueError, match="Expected at least 2 bin counts"):
        analysis.bin_growth(study, "ECE", [15])
    with pytest.raises(ValueError, match="Expected `df` to have columns"):
        analysis.bin_stability(study, "ECE", [5, 10])


def test_calibrated_floors_assume_the_evaluation_split_when_unrecorded(study: pd.DataFrame) -> None:
    data = study.assign(n_eval=np.where(study["space"] == "tss", 2000, np.nan))
    floors = analysis.calibrated_floors(data, "ECE", BINS, n_sim=2)
    first = floors.groupby("group").first()
    assert first.loc["TSS · cifar10", "n_eval"] == 2000
    assert not first.loc["TSS · cifar10", "n_eval_assumed"]
    assert first.loc["SSS · cifar100", "n_eval"] == 8000  # 80 % of CIFAR-100's 10,000
    assert first.loc["SSS · cifar100", "n_eval_assumed"]
    assert first.loc["SSS · cifar100", "n_classes"] == 100
    for _, rows in floors.groupby("group"):
        assert rows.sort_values("n_bins")["floor"].is_monotonic_increasing
    unknown = analysis.calibrated_floors(study.assign(dataset="no-such-data"), "ECE", BINS)
    assert unknown.empty and len(unknown.attrs["skipped"]) == 2


def test_bin_count_medians_and_floor_ratios(study: pd.DataFrame) -> None:
    medians = analysis.bin_count_medians(study, "ECE", BINS, n_boot=200)
    assert len(medians) == 2 * 2 * len(BINS)  # groups × when × bin counts
    assert ((medians["low"] <= medians["median"]) & (medians["median"] <= medians["high"])).all()
    tss = study[study["space"] == "tss"]
    row = medians[(medians["group"] == "TSS · cifar10") & (medians["when"] == "post")
                  & (medians["n_bins"] == 500)].iloc[0]  # fmt: skip
    assert row["median"] == pytest.approx(tss["post_ECE_500"].median())
    floors = pd.DataFrame({"group": "TSS · cifar10", "n_bins": BINS, "floor": [0.01] * 4})
    ratios = analysis.floor_ratios(medians, floors)
    assert set(ratios["group"]) == {"TSS · cifar10"}  # no floor, no ratio
    assert np.allclose(ratios["ratio"], ratios["median"] / 0.01)
    assert (ratios["ratio_low"] <= ratios["ratio_high"]).all()


def test_bin_growth_is_faster_after_scaling(study: pd.DataFrame) -> None:
    growth = analysis.bin_growth(study, "ECE", BINS, n_boot=200).set_index("group")
    assert (growth["growth_post"] > growth["growth_pre"]).all()
    assert growth["growth_post"].tolist() == pytest.approx([100**0.4] * 2, rel=0.3)
    assert (growth["faster"] == 1).all() and (growth["gap_low"] > 0).all()


def test_bin_stability_is_lower_after_scaling(study: pd.DataFrame) -> None:
    stability = analysis.bin_stability(study, "ECE", BINS, n_boot=100).set_index("group")
    assert (stability["median_pre"] > 0.9).all() and (stability["median_post"] < 0.6).all()
    assert (stability["less_stable"] == 1).all() and (stability["boot_rows"] == 60).all()
    assert (stability["min_pre"] <= stability["median_pre"]).all()
    small = analysis.bin_stability(study, "ECE", BINS, n_boot=100, max_boot_rows=30)
    small = small.set_index("group")
    assert (small["boot_rows"] == 30).all()
    assert np.allclose(small["gap"], stability["gap"])  # point estimates use every model
    assert ((small["gap_high"] - small["gap_low"]) > 0).all()


def test_bin_pair_taus_and_holm(study: pd.DataFrame) -> None:
    pairs = analysis.bin_pair_taus(study, "ECE", [(5, 15), (5, 500)], n_boot=100)
    assert len(pairs) == 2 * 2 * 2  # groups × when × pairs
    assert (pairs["p_holm"] >= pairs["p"] - 1e-12).all()
    pre = pairs[pairs["when"] == "pre"]
    assert (pre["tau"] > 0.9).all()


def test_sentences_state_the_numbers(study: pd.DataFrame) -> None:
    medians = analysis.bin_count_medians(study, "ECE", BINS, n_boot=100)
    floors = analysis.calibrated_floors(study, "ECE", BINS, n_sim=2)
    ratios = analysis.floor_ratios(medians, floors)
    growth = analysis.bin_growth(study, "ECE", BINS, n_boot=100)
    stability = analysis.bin_stability(study, "ECE", BINS, n_boot=50)
    pairs = analysis.bin_pair_taus(study, "ECE", [(5, 15), (5, 500)], n_boot=50)
    floor_text = analysis.floor_sentences(floors)
    assert floor_text[0].startswith("**SSS · cifar100**: 8,000 test images (not recorded")
    growth_text = analysis.bin_growth_sentences(growth, ratios, metric="ECE")
    assert "it grows faster after scaling" in growth_text[0]
    assert "Median over the calibrated floor at 5 bins" in growth_text[0]
    stability_text = analysis.bin_stability_sentences(stability, pairs)
    assert "ranks are less stable after scaling" in stability_text[0]
    assert "5 against 500 bins: τ = +" in stability_text[0]
    paper = analysis.bin_paper_sentences(
        medians.assign(dataset=medians["dataset"].replace("cifar100", "imagenet16-120")),
        stability, pairs, paper_post={5: 0.015, 15: 0.021, 50: 0.033, 500: 0.097},
        paper_pre=(0.053, 0.062), paper_pre_plot=(0.032, 0.092), paper_tau_pre=(0.82, 0.98),
        paper_tau_post=(0.25, 0.81), paper_extreme_post=0.25,
    )  # fmt: skip
    assert paper[0].startswith("**SSS · cifar100**, post-scaling medians")
    assert "The paper's value lies inside this store's interval at " in paper[0]
    assert "uncertain reading" in paper[1] and "3.2 %" in paper[1] and "5.3 %" in paper[1]
    assert "the paper's τ between bin counts before scaling, 0.82 – 0.98," in paper[2]
    none = analysis.bin_paper_sentences(
        medians, stability, pairs, paper_post={5: 0.015, 500: 0.097}, paper_pre=(0.053, 0.062),
        paper_pre_plot=(0.032, 0.092), paper_tau_pre=(0.82, 0.98), paper_tau_post=(0.25, 0.81),
        paper_extreme_post=0.25)  # fmt: skip
    assert none[0].startswith("This store has no imagenet16-120 group")
    summary = analysis.bin_summary(growth, ratios, stability, pairs, metric="ECE",
                                   paper_tau_pre_low=0.82)  # fmt: skip
    assert summary[0] == ("Median ECE grows with the number of bins faster after temperature "
                          "scaling than before in SSS · cifar100 and TSS · cifar10.")
    assert summary[2].startswith("Ranks are less stable across bin counts after scaling")
    assert summary[3].endswith("does not lie below the paper's lowest pre-scaling τ (0.82) in "
                               "SSS · cifar100 and TSS · cifar10.")
    empty = growth.iloc[0:0]
    assert analysis.bin_summary(empty, ratios, stability, pairs, metric="ECE",
                                paper_tau_pre_low=0.82)[0].startswith("No group")


def test_position_phrase() -> None:
    assert analysis.position_phrase("overlapping") == "overlaps"
    assert analysis.position_phrase("inside") == "lies inside"
    with pytest.raises(ValueError, match="Expected `position` to be one of"):
        analysis.position_phrase("near")
