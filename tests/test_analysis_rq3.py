"""RQ iii's package functions: estimators present, τ matrices, contrasts, agreement, words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calstudy import analysis

NAMES = ["ECE_15", "ECE_em_15", "cwCE_em_15", "KSCE"]


def frame(n: int = 60, seed: int = 0, *, groups=(("tss", "cifar10"), ("tss", "fashion-mnist"))):
    """ECE_em follows ECE closely, cwCE_em loosely, KSCE not; after scaling all is noise."""
    rng = np.random.default_rng(seed)
    parts = []
    for space, dataset in groups:
        ece = rng.uniform(size=n)
        part = pd.DataFrame({"space": space, "dataset": dataset, "seed": 0, "fidelity": "f",
                             "arch": [f"a{i}" for i in range(n)]})
        part["pre_ECE_15"] = ece
        part["pre_ECE_em_15"] = ece + 0.01 * rng.normal(size=n)
        part["pre_cwCE_em_15"] = ece + 0.5 * rng.normal(size=n)
        for name in ("pre_KSCE", *(f"post_{n}" for n in NAMES)):
            part[name] = rng.uniform(size=n)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)



def test_estimator_columns_binned_unbinned_and_missing() -> None:
    df = frame(5).assign(pre_smECE=1.0)  # no post_smECE
    names, missing = analysis.estimator_columns(df, ["ECE", "ECE_em", "cwCE_em", "KSCE", "smECE",
                                                     "MMCE"])
    assert names == NAMES and missing == ["smECE", "MMCE"]
    assert analysis.estimator_columns(df, ["ECE"], n_bins=100) == ([], ["ECE"])


@pytest.mark.parametrize(
    ("name", "families", "expected"),
    [("ECE_em_15", analysis.TOP_LABEL_FAMILIES, True), ("ECE_15", analysis.TOP_LABEL_FAMILIES,
     False), ("dL2ECE_15", analysis.TOP_LABEL_FAMILIES, True), ("cwCE_em_15",
     analysis.CLASSWISE_FAMILIES, True), ("MCE_15", analysis.CLASSWISE_FAMILIES, False)],
)
def test_in_families(name: str, families, expected: bool) -> None:
    assert analysis.in_families(name, families) is expected


def test_estimator_matrices_and_agreement() -> None:
    matrices = analysis.estimator_matrices(frame(), NAMES)
    assert list(matrices) == [("tss", "cifar10", "pre"), ("tss", "cifar10", "post"),
                              ("tss", "fashion-mnist", "pre"), ("tss", "fashion-mnist", "post")]
    m = matrices["tss", "cifar10", "pre"]
    assert list(m.index) == NAMES and m.loc["ECE_15", "ECE_em_15"] > 0.9
    table = analysis.agreement_table(matrices)
    row = table.iloc[0]
    off = m.to_numpy()[~np.eye(4, dtype=bool)]
    assert row["mean_tau"] == pytest.approx(off.mean())
    assert row["least_tau"] == pytest.approx(off.min())
    assert {row["least_x"], row["least_y"]} <= set(NAMES)


def test_estimator_matrices_skip_small_groups() -> None:
    df = frame(60)
    df = pd.concat([df, frame(2, groups=(("sss", "cifar10"),))], ignore_index=True)
    assert ("sss", "cifar10", "pre") not in analysis.estimator_matrices(df, NAMES)


def test_matrix_tests_correct_within_each_group() -> None:
    tests = analysis.matrix_tests(frame(), NAMES)
    assert len(tests) == 2 * 2 * 6
    one = tests[tests["dataset"] == "cifar10"]
    assert np.allclose(one["p_holm"], analysis.correct_pvalues(one["p"], method="holm"))
    assert np.allclose(one["p_bh"], analysis.correct_pvalues(one["p"], method="bh"))


def test_estimator_taus_match_the_matrix() -> None:
    df = frame()
    taus = analysis.estimator_taus(df, "ECE_15", NAMES, n_boot=50)
    matrices = analysis.estimator_matrices(df, NAMES)
    assert set(taus["estimator"]) == set(NAMES) - {"ECE_15"}
    for r in taus.itertuples():
        assert r.tau == pytest.approx(matrices[r.space, r.dataset, r.prefix].loc["ECE_15",
                                                                                 r.estimator])
    with pytest.raises(ValueError, match="Expected `reference` to be one of"):
        analysis.estimator_taus(df, "MMCE", NAMES)


def test_estimator_contrasts_top_label_above_classwise() -> None:
    contrasts = analysis.estimator_contrasts(frame(), "ECE_15", ["ECE_em_15", "KSCE"],
                                             ["cwCE_em_15"], n_boot=400)
    assert len(contrasts) == 4  # two datasets × two pairs
    em = contrasts[contrasts["first"] == "ECE_em_15"]
    assert (em["difference"] > 0).all() and (em["low"] > 0).all() and (em["p_holm"] < 0.05).all()
    text = analysis.contrast_sentence(contrasts[contrasts["dataset"] == "cifar10"],
                                      reference="ECE_15")
    assert text.startswith("**TSS / CIFAR-10**, before scaling: τ(ECE_15, top-label)")


def test_agreement_change_and_between_datasets() -> None:
    df = frame(80)
    change = analysis.agreement_change(df, NAMES, n_boot=300)
    assert (change["difference"] < 0).all() and (change["high"] < 0).all()  # noise after scaling
    gaps = analysis.agreement_between_datasets(df, NAMES, n_boot=300)
    assert gaps[["space", "dataset_a", "dataset_b"]].values.tolist() == [
        ["tss", "cifar10", "fashion-mnist"]]
    assert gaps["n"].item() == 80
    text = analysis.dataset_gap_sentence(gaps.iloc[0])
    assert text.startswith("TSS: the estimators agree about as much on Fashion-MNIST as on CIFAR-10")


def test_estimator_beside_paper_and_sentences() -> None:
    taus = pd.DataFrame({"space": "tss", "dataset": "cifar10", "prefix": "pre",
                         "estimator": ["ECE_em_15", "KSCE", "dL2ECE_15"], "tau": [0.9, 0.5, 0.4],
                         "low": [0.85, 0.4, 0.3], "high": [0.95, 0.6, 0.5]})
    paper = {"τ(ECE, ECE_em), CIFAR-10": "0.98", "τ(ECE, KSCE), CIFAR-10": "0.55"}
    table = analysis.estimator_beside_paper(taus, paper)
    assert table["position"].tolist() == ["above", "inside", "—"]
    assert table["quantity"].iloc[2] == "τ(ECE, dL2ECE_15), CIFAR-10"
    said = analysis.estimator_paper_sentences(table)
    assert said[0].startswith("CIFAR-10 (TSS, before scaling): the paper's value lies above this "
                              "store's interval for 1, inside it for 1 and below it for 0 of 2")
    other = analysis.estimator_beside_paper(taus, paper, reference="KSCE")
    assert other["paper"].isna().all()


def test_sentences() -> None:
    df = frame()
    taus = analysis.estimator_taus(df, "ECE_15", NAMES, n_boot=30)
    one = taus[taus["dataset"] == "cifar10"]
    text = analysis.estimator_sentence(one, reference="ECE_15")
    assert text.startswith("**TSS / CIFAR-10.** Before temperature scaling, closest to ECE_15: "
                           "ECE_em_15")
    assert analysis.estimator_sentence(one, reference="ECE_15", brief=True).startswith(
        "TSS / CIFAR-10: before temperature scaling, closest")
    matrices = analysis.estimator_matrices(df, NAMES)
    agreement = analysis.agreement_table(matrices)
    change = analysis.agreement_change(df, NAMES, n_boot=100)
    a = agreement[agreement["dataset"] == "cifar10"]
    c = change[change["dataset"] == "cifar10"]
    assert "Temperature scaling lowers the agreement" in analysis.agreement_sentence(a, c)
    assert analysis.agreement_sentence(a, c, brief=True).startswith(
        "TSS / CIFAR-10: temperature scaling lowers the agreement (")
    assert analysis.estimator_sentence(one.iloc[:0], reference="ECE_15") == ""


@pytest.mark.parametrize(
    ("lows", "highs", "verdict"),
    [
        ([0.1, 0.2], [0.3, 0.4], "every top-label estimator agrees with ECE_15 more than every"),
        ([-0.4, -0.3], [-0.1, -0.2], "every classwise estimator agrees with ECE_15 more"),
        ([-0.1, -0.2], [0.3, 0.4], "no top-label estimator differs from a classwise one"),
        ([0.1, -0.2], [0.3, 0.4], "more than the classwise one in 1 of 2 pairs, and no differently"),
        ([0.1, -0.4], [0.3, -0.1], "the ordering of top-label and classwise estimators is mixed"),
    ],
)
def test_contrast_sentence_verdicts(lows, highs, verdict: str) -> None:
    rows = pd.DataFrame({"space": "tss", "dataset": "cifar10", "first": ["a", "b"],
                         "second": "c", "difference": np.add(lows, highs) / 2, "low": lows,
                         "high": highs, "p": 0.001, "n": 50, "p_holm": 0.002})
    assert verdict in analysis.contrast_sentence(rows, reference="ECE_15")
    assert verdict in analysis.contrast_sentence(rows, reference="ECE_15", brief=True)
