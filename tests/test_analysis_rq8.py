"""RQ viii and seed noise at the benchmark's fidelity: isomorphic strings, held-out classes.

`analysis.isomorphic_icc` (one-way ICC across isomorphism classes of unequal size, F interval),
`predict.isomorphic_ceiling`, the grouping of the folds by isomorphism class
(`predict.arch_classes`, `PredictionData.group`), and the chapter's helpers (`study_pairs`,
`subsample`, `restrict`, `proxy_sample`, `attach_early`, `comparison_summary`, `shortlist`,
`chosen_candidate`, `seed_study_ceiling`, `rerun_study`, `early_signal_taus`), and its steps pair by
pair (`pair_inputs`, `pair_early`, `score_runs`, `main_runs`, `main_importance`, `pair_reruns`,
`best_before`, `ceiling_sentences`, `answer_findings`, `comparison_problems`, `ceiling_problems`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from calstudy import analysis, plots, predict, space

A1 = "|skip_connect~0|+|none~0|none~1|+|nor_conv_3x3~0|nor_conv_1x1~1|none~2|"
A2 = "|skip_connect~0|+|none~0|none~1|+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|"  # ≅ A1
B1 = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
B2 = "|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"  # ≅ B1
B3 = "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"  # ≅ B1
DEAD = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


@pytest.fixture(scope="module")
def classes() -> pd.DataFrame:
    """Every TSS string with its isomorphism class (canonical representative)."""
    archs = space.all_tss()
    return pd.DataFrame({"arch": archs, "cls": [space.canonical_tss(a) for a in archs]})


def simulated(classes: pd.DataFrame, icc: float, *, seed: int = 0, n: int | None = None):
    """One row per string: a class effect of variance `icc` plus noise of variance 1 − icc."""
    rng = np.random.default_rng(seed)
    rows = classes if n is None else classes.sample(n, random_state=seed)
    effects = {c: rng.normal(0, math.sqrt(icc)) for c in rows["cls"].unique()}
    y = rows["cls"].map(effects).to_numpy() + rng.normal(0, math.sqrt(1 - icc), len(rows))
    return pd.DataFrame({"space": "tss", "dataset": "cifar10", "fidelity": "nats-200",
                         "seed": -1, "arch": rows["arch"].to_numpy(), "ece": y})


def anova_by_hand(df: pd.DataFrame, metric: str) -> tuple[float, float, float]:
    """ICC(1) with k0 and its F interval, written out independently of the package."""
    labels = df["arch"].map(space.canonical_tss)
    groups = [g[metric].to_numpy(float) for _, g in df.groupby(labels)]
    y = np.concatenate(groups)
    n_total, n_groups = y.size, len(groups)
    ss_b = sum(g.size * (g.mean() - y.mean()) ** 2 for g in groups)
    ss_w = sum(((g - g.mean()) ** 2).sum() for g in groups)
    ms_b, ms_w = ss_b / (n_groups - 1), ss_w / (n_total - n_groups)
    k0 = (n_total - sum(g.size**2 for g in groups) / n_total) / (n_groups - 1)
    f = ms_b / ms_w
    df1, df2 = n_groups - 1, n_total - n_groups
    f_low = f / stats.f.ppf(0.975, df1, df2)
    f_high = f * stats.f.ppf(0.975, df2, df1)

    def icc(x: float) -> float:
        return min(max((x - 1) / (x + k0 - 1), 0.0), 1.0)

    return icc(f), icc(f_low), icc(f_high)


# --------------------------------------------------------------------------------------------
# analysis.isomorphic_icc


def test_isomorphic_icc_by_hand_on_two_classes() -> None:
    frame = pd.DataFrame({"arch": [A1, A2, B1, B2], "ece": [1.0, 1.2, 3.0, 3.2]})
    r = analysis.isomorphic_icc(frame, "ece")
    # MS_B = 2 · 2 · 1² = 4, MS_W = 4 · 0.01 / 2 = 0.02, k0 = 2: (4 − 0.02) / (4 + 0.02)
    assert r.icc == pytest.approx(3.98 / 4.02)
    assert (r.n_strings, r.n_classes, r.n_repeated, r.dof) == (4, 2, 2, 2)
    assert r.within_sd == pytest.approx(math.sqrt(0.02))
    assert r.low <= r.icc <= r.high <= 1


def test_isomorphic_icc_matches_an_independent_anova_for_unequal_classes(classes) -> None:
    df = simulated(classes, 0.4, n=3000, seed=3)
    r = analysis.isomorphic_icc(df, "ece")
    assert (r.icc, r.low, r.high) == pytest.approx(anova_by_hand(df, "ece"), abs=1e-12)
    sizes = df["arch"].map(space.canonical_tss).value_counts()
    assert r.n_classes == len(sizes) and r.n_repeated == int((sizes >= 2).sum())


def test_isomorphic_icc_equals_seed_variance_with_the_class_as_architecture(classes) -> None:
    df = simulated(classes, 0.3, n=2000, seed=1)
    r = analysis.isomorphic_icc(df, "ece")
    by_class = df.assign(cls=df["arch"].map(space.canonical_tss))
    sv = analysis.seed_variance(by_class, "ece", by=["cls"])
    assert (r.icc, r.low, r.high) == pytest.approx((sv.icc, sv.icc_low, sv.icc_high))


@pytest.mark.parametrize("icc", [0.2, 0.6])
def test_isomorphic_icc_recovers_a_planted_icc_on_every_string(classes, icc: float) -> None:
    r = analysis.isomorphic_icc(simulated(classes, icc, seed=2), "ece")
    assert r.n_strings == 15_625 and r.n_classes == 6_466
    assert r.low <= icc <= r.high
    assert r.icc == pytest.approx(icc, abs=0.05)


def test_isomorphic_icc_interval_covers_the_truth_in_most_draws(classes) -> None:
    hits = [
        (r := analysis.isomorphic_icc(simulated(classes, 0.5, n=1500, seed=s), "ece")).low
        <= 0.5 <= r.high
        for s in range(40)
    ]
    assert sum(hits) >= 34  # nominal 95 %: 38 of 40 expected


def test_isomorphic_icc_is_invariant_to_row_order_shift_and_scale(classes) -> None:
    df = simulated(classes, 0.5, n=800, seed=4)
    r = analysis.isomorphic_icc(df, "ece")
    moved = df.sample(frac=1.0, random_state=0).assign(ece=lambda d: 3 * d["ece"] + 7)
    assert analysis.isomorphic_icc(moved, "ece")[:3] == pytest.approx(r[:3])


def test_isomorphic_icc_is_one_when_isomorphic_strings_agree() -> None:
    frame = pd.DataFrame({"arch": [A1, A2, B1, B2, B3], "ece": [1.0, 1.0, 2.0, 2.0, 2.0]})
    assert analysis.isomorphic_icc(frame, "ece")[:3] == (1.0, 1.0, 1.0)


def test_isomorphic_icc_skips_missing_values() -> None:
    frame = pd.DataFrame({"arch": [A1, A2, B1, B2, B3], "ece": [1.0, 1.2, 3.0, 3.2, np.nan]})
    assert analysis.isomorphic_icc(frame, "ece").n_strings == 4


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({"arch": [A1, B1], "ece": [1.0, 2.0]}), "2 or more strings"),
        (pd.DataFrame({"arch": [A1, A1, B1], "ece": [1.0, 2.0, 3.0]}), "seeds='first'"),
        (pd.DataFrame({"space": ["tss", "tss", "sss"], "arch": [A1, A2, "8:8:8:8:8"],
                       "ece": [1.0, 2.0, 3.0]}), "one space"),
        (pd.DataFrame({"space": "sss", "arch": ["8:8:8:8:8", "16:8:8:8:8"],
                       "ece": [1.0, 2.0]}), "TSS rows"),
        (pd.DataFrame({"dataset": ["a", "b"], "arch": [A1, A2], "ece": [1.0, 2.0]}),
         "one dataset"),
        (pd.DataFrame({"arch": [A1, A2]}), "columns"),
    ],
)  # fmt: skip
def test_isomorphic_icc_rejects_bad_input(frame: pd.DataFrame, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        analysis.isomorphic_icc(frame, "ece")


def test_isomorphic_icc_table_per_group_with_nan_where_no_class_repeats(classes) -> None:
    c10 = simulated(classes, 0.5, n=600, seed=5)
    other = c10.assign(dataset="cifar100", ece=c10["ece"] * 2)
    single = pd.DataFrame({"space": "tss", "dataset": "imagenet16-120", "fidelity": "nats-200",
                           "seed": -1, "arch": [A1, B1], "ece": [1.0, 2.0]})
    sss = pd.DataFrame({"space": "sss", "dataset": "cifar10", "fidelity": "nats-90", "seed": -1,
                        "arch": ["8:8:8:8:8", "16:8:8:8:8"], "ece": [1.0, 2.0]})
    df = pd.concat([c10, other, single, sss], ignore_index=True)
    table = analysis.isomorphic_icc_table(df, ["ece"]).set_index("dataset")
    assert list(table.index) == ["cifar10", "cifar100", "imagenet16-120"]  # SSS left out
    assert table.loc["cifar10", "icc"] == pytest.approx(table.loc["cifar100", "icc"])
    assert table.loc["cifar10", "retest_tau"] == pytest.approx(
        float(analysis.retest_tau(table.loc["cifar10", "icc"]))
    )
    assert table.loc["imagenet16-120", "n_repeated"] == 0
    assert np.isnan(table.loc["imagenet16-120", "icc"])
    with pytest.raises(ValueError, match="at least one"):
        analysis.isomorphic_icc_table(df, [])


# --------------------------------------------------------------------------------------------
# Isomorphism classes in the held-out protocol


def test_arch_classes_name_each_class_by_its_first_member() -> None:
    labels = predict.arch_classes([B3, A1, B1, A2, DEAD], "tss").tolist()
    assert labels == [min(B1, B3), min(A1, A2), min(B1, B3), min(A1, A2), DEAD]
    assert predict.arch_classes(["8:8:8:8:8", "16:8:8:8:8"], "sss").tolist() == [
        "8:8:8:8:8", "16:8:8:8:8"]  # fmt: skip
    with pytest.raises(ValueError, match="'tss' or 'sss'"):
        predict.arch_classes([A1], "nas")


def iso_store(classes: pd.DataFrame, n: int = 240, seed: int = 0) -> pd.DataFrame:
    """Store rows of `n` strings drawn from classes with 2+ members, a class-level target."""
    multi = classes[classes.groupby("cls")["arch"].transform("size") >= 2]
    rows = simulated(multi, 0.8, n=n, seed=seed).rename(columns={"ece": "pre_ECE_15"})
    rows["acc"] = np.random.default_rng(seed).uniform(0.3, 0.9, len(rows))
    return rows


def test_prediction_frame_groups_isomorphic_strings(classes) -> None:
    df = iso_store(classes)
    data = predict.prediction_frame(df, space="tss", dataset="cifar10")
    assert data.group == "arch_class" and "arch_class" not in data.features
    expected = predict.arch_classes(data.frame["arch"], "tss")
    assert (data.frame["arch_class"].to_numpy() == expected).all()
    assert data.frame["arch_class"].nunique() < len(data.frame)  # the sample has twins


def test_compare_predictors_never_splits_an_isomorphism_class(classes) -> None:
    data = predict.prediction_frame(iso_store(classes), space="tss", dataset="cifar10")
    predictors = predict.standard_predictors(data, candidates=["ridge"])
    result = predict.compare_predictors(data, predictors, n_splits=4, n_repeats=2, n_boot=50)
    for f in result.folds:
        train = set(data.frame["arch_class"].iloc[f.train])
        assert not train & set(data.frame["arch_class"].iloc[f.test])
    assert all(p.group == "arch_class" for p in predictors.values()
               if isinstance(p, predict.RankModel))  # fmt: skip


def test_grouping_by_class_removes_the_leak_of_isomorphic_twins(classes) -> None:
    """A model memorising strings scores high when twins straddle folds, not when grouped."""
    df = iso_store(classes, n=400, seed=1)
    data = predict.prediction_frame(df, space="tss", dataset="cifar10")
    # The only input: the class label coded as a number, which a forest can memorise.
    code = pd.factorize(data.frame["arch_class"])[0].astype(float)
    frame = data.frame.assign(code=code)
    grouped = predict.PredictionData(frame=frame, target=data.target, features=("code",),
                                     group="arch_class")  # fmt: skip
    leaky = predict.PredictionData(frame=frame, target=data.target, features=("code",))
    model = {"memory": predict.RankModel(("code",), data.target, candidates=("forest",))}
    held_out = predict.compare_predictors(grouped, model, n_boot=50).scores["tau"].iloc[0]
    leaked = predict.compare_predictors(leaky, model, n_boot=50).scores["tau"].iloc[0]
    assert leaked > held_out + 0.2, (leaked, held_out)


def test_inner_cv_groups_by_the_models_group_column() -> None:
    frame = pd.DataFrame({"arch": [f"a{i}" for i in range(12)], "g": ["x", "y"] * 6,
                          "x1": np.arange(12.0), "y": np.arange(12.0)})  # fmt: skip
    by_arch = predict.RankModel(("x1",), "y", candidates=("ridge", "forest"))
    by_group = predict.RankModel(("x1",), "y", candidates=("forest", "ridge"), group="g")
    assert by_arch.choose(frame) in ("ridge", "forest")
    assert by_group.choose(frame) == "forest"  # 2 groups < 2 × 3 inner folds: the first one
    with pytest.raises(ValueError, match="group column 'g'"):
        predict.compare_predictors(
            predict.PredictionData(frame=frame.drop(columns="g"), target="y", features=("x1",),
                                   group="g"),
            {"m": by_arch}, n_boot=10)  # fmt: skip


# --------------------------------------------------------------------------------------------
# The ceiling at the benchmark's fidelity


def test_isomorphic_ceiling_turns_the_icc_into_tau(classes) -> None:
    df = simulated(classes, 0.5, n=3000, seed=7)
    r = analysis.isomorphic_icc(df, "ece")
    c = predict.isomorphic_ceiling(df, "ece")
    assert (c.icc, c.icc_low, c.icc_high) == (r.icc, r.low, r.high)
    assert c.tau_max == pytest.approx(predict.ceiling_tau(r.icc))
    assert (c.low, c.high) == pytest.approx((predict.ceiling_tau(r.low), predict.ceiling_tau(r.high)))
    assert c.n_archs == r.n_repeated and c.dof == r.dof
    three = predict.isomorphic_ceiling(df, "ece", target_runs=3)
    assert three.tau_max > c.tau_max


def test_isomorphic_ceiling_matches_simulated_tau_of_the_class_mean(classes) -> None:
    """τ-b between the true class effect and one string's value is the ceiling's estimate."""
    rng = np.random.default_rng(11)
    effects = {c: rng.normal(0, math.sqrt(0.5)) for c in classes["cls"].unique()}
    truth = classes["cls"].map(effects).to_numpy()
    y = truth + rng.normal(0, math.sqrt(0.5), len(truth))
    df = pd.DataFrame({"arch": classes["arch"], "ece": y})
    c = predict.isomorphic_ceiling(df, "ece")
    tau = stats.kendalltau(truth, y).statistic
    assert c.low - 0.02 <= tau <= c.high + 0.02 and tau == pytest.approx(c.tau_max, abs=0.04)


# --------------------------------------------------------------------------------------------
# The chapter's helpers


def test_study_pairs_counts_architectures_and_classes() -> None:
    df = pd.DataFrame({
        "space": ["tss"] * 4 + ["sss"] * 2 + ["tss"],
        "arch": [A1, A2, B1, B2, "8:8:8:8:8", "16:8:8:8:8", A1],
        "dataset": ["cifar10"] * 6 + ["fashion-mnist"],
        "fidelity": ["nats-200"] * 4 + ["nats-90"] * 2 + ["nats-200"],
        "y": [1.0, 2.0, 3.0, 4.0, 5.0, np.nan, 1.0],
    })  # fmt: skip
    pairs = predict.study_pairs(df, "y", min_archs=1)
    assert pairs[["space", "dataset", "n_archs", "n_classes"]].values.tolist() == [
        ["sss", "cifar10", 1, 1], ["tss", "cifar10", 4, 2], ["tss", "fashion-mnist", 1, 1]]  # fmt: skip
    assert len(predict.study_pairs(df, "y", min_archs=3)) == 1
    with pytest.raises(ValueError, match="'z' column"):
        predict.study_pairs(df, "z")


def test_subsample_restrict_and_proxy_sample() -> None:
    archs = [A1, A2, B1, B2, B3, DEAD]
    df = pd.DataFrame({"space": "tss", "arch": archs, "dataset": "cifar10",
                       "fidelity": "nats-200", "seed": -1, "y": np.arange(6.0)})  # fmt: skip
    data = predict.prediction_frame(df, space="tss", dataset="cifar10", target="y")
    small = predict.subsample(data, 4, seed=1)
    assert len(small.frame) == 4 and set(small.frame["arch"]) <= set(archs)
    assert small.frame["arch"].tolist() == [a for a in data.frame["arch"] if a in set(small.frame["arch"])]
    assert predict.subsample(data, 4, seed=1).frame.equals(small.frame)  # seeded
    assert predict.subsample(data, 10) is data
    assert predict.restrict(data, [B2, A1]).frame["arch"].tolist() == [A1, B2]
    with pytest.raises(ValueError, match="architectures of `data`"):
        predict.restrict(data, ["|none~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"])
    assert predict.proxy_sample(data, max_all=10, sample=2) == [a for a in data.frame["arch"]
                                                                 if a != DEAD]  # fmt: skip
    sampled = predict.proxy_sample(data, max_all=4, sample=3, seed=0)
    assert len(sampled) == 3 and DEAD not in sampled  # no path from input to output
    assert predict.proxy_sample(data, max_all=4, sample=3, seed=0) == sampled  # seeded
    assert predict.proxy_sample(data, max_all=0, sample=0) == []
    with pytest.raises(ValueError, match="max_all"):
        predict.proxy_sample(data, max_all=-1, sample=0)


def test_attach_early_joins_only_complete_signals() -> None:
    df = pd.DataFrame({"space": "tss", "arch": [A1, B1, B2], "dataset": "cifar10",
                       "fidelity": "ep10-C16N1-n10000", "seed": 0, "y": [1.0, 2.0, 3.0]})  # fmt: skip
    data = predict.prediction_frame(df, space="tss", dataset="cifar10", target="y")
    signals = pd.DataFrame({"space": "tss", "arch": [A1, B1, B2], "dataset": "cifar10", "seed": 0,
                            "fidelity": "ep10-C16N1-n10000", "schedule_epochs": 3, "n_val": 500,
                            "early_ece_e1": [0.1, 0.2, 0.3]})  # fmt: skip
    joined, found = predict.attach_early(data, signals, seed=0)
    assert joined.early == ("early_ece_e1",) and len(found) == 3
    partial, found = predict.attach_early(data, signals.iloc[:2], seed=0)
    assert partial is data and len(found) == 2
    none, found = predict.attach_early(data, signals.iloc[:0], seed=0)
    assert none is data and found.empty


def test_comparison_summary_shortlist_and_chosen_candidate() -> None:
    scores = pd.DataFrame({
        "predictor": ["parameter count", "model: architecture", "model: architecture + proxies",
                      "early: ECE after epoch 1", "reference: accuracy after training"],
        "kind": ["baseline", "model", "model", "early training", "reference"],
        "tau": [0.0, 0.2, 0.3, 0.65, 0.9], "low": [-0.1, 0.1, 0.2, 0.55, 0.8],
        "high": [0.1, 0.3, 0.4, 0.75, 1.0],
    })  # fmt: skip
    f = predict.comparison_summary(scores, goal=0.6)
    assert f == {"main": "model: architecture + proxies", "best_before": "model: architecture + proxies",
                 "best": "early: ECE after epoch 1", "met": True, "excluded": False}  # fmt: skip
    g = predict.comparison_summary(scores.iloc[:3], goal=0.6)
    assert not g["met"] and g["excluded"]
    empty = predict.comparison_summary(scores.assign(tau=np.nan), goal=0.6)
    assert empty["best"] is None and not empty["met"]

    predictions = pd.DataFrame({"arch": list("abcdefgh"), "y": np.arange(8.0),
                                "m": np.arange(8.0)})  # fmt: skip
    choices = pd.DataFrame({"predictor": ["m"] * 3, "repeat": 0, "fold": [0, 1, 2],
                            "choice": ["forest", "gbm, sign +1", "gbm"]})  # fmt: skip
    result = predict.Comparison(scores=scores, predictions=predictions, choices=choices, folds=[])
    s = predict.shortlist(result, "m")
    assert s["n_top"] == 2 and s["top_median"] == 0.5 and s["rest_median"] == 4.5
    assert predict.chosen_candidate(result, "m") == "gbm"
    assert predict.chosen_candidate(result, "other", default="ridge") == "ridge"
    with pytest.raises(ValueError, match="fraction"):
        predict.shortlist(result, "m", fraction=1.0)


def test_seed_study_ceiling_uses_the_device_that_repeated_runs() -> None:
    rng = np.random.default_rng(0)
    archs = [f"a{i}" for i in range(8)]
    rows = [dict(space="tss", arch=a, dataset="c", fidelity="f", seed=s, device=d,
                 y=i + rng.normal(0, 0.1) + (5.0 if d == "cpu" else 0.0))
            for i, a in enumerate(archs) for s, d in ((0, "gpu"), (1, "cpu"), (2, "cpu"))
            if s == 0 or i < 4]  # fmt: skip
    runs = pd.DataFrame(rows)
    total = runs[runs["seed"] == 0]["y"]
    ceiling, device = predict.seed_study_ceiling(runs, "y", total)
    assert device == "cpu" and ceiling.n_archs == 4
    assert ceiling.within_sd < 0.5  # the device shift of 5 is not counted as noise
    single = runs[runs["seed"] == 0]
    assert predict.seed_study_ceiling(single, "y", total) == (None, None)


def test_rerun_study_and_early_signal_taus() -> None:
    rng = np.random.default_rng(2)
    archs = [f"a{i}" for i in range(30)]
    quality = rng.normal(size=30)
    rows = []
    for s in (0, 1, 2):
        for a, q in zip(archs, quality, strict=True):
            rows.append(dict(space="tss", arch=a, dataset="c", fidelity="f", schedule_epochs=2, n_val=9,
                             seed=s, early_ece_e1=rng.normal(), early_ece_e2=q + 0.3 * rng.normal(),
                             early_acc_e1=rng.normal(), early_acc_e2=q + rng.normal(),
                             early_nll_e1=rng.normal(), early_nll_e2=q + rng.normal()))  # fmt: skip
    reruns = pd.DataFrame(rows)
    store = pd.DataFrame({"arch": archs, "seed": 0, "y": quality})
    r = predict.rerun_study(reruns, store, "y", epochs=2)
    assert r.n_seeds == 3 and r.ceiling.n_archs == 30 and r.n_same_seed == 30
    assert r.ceiling.icc > 0.7 and r.ceiling_mean.tau_max > r.ceiling.tau_max
    assert r.same_seed_tau > 0.5
    assert set(r.by_epoch["signal"]) == {"ece", "acc", "nll"}
    assert predict.rerun_study(reruns.iloc[:0], store, "y", epochs=2) is None
    assert predict.rerun_study(reruns[reruns["seed"] == 0], store, "y", epochs=2) is None

    frame = pd.DataFrame({"arch": archs, "y": quality, "early_ece_e1": rng.normal(size=30),
                          "early_ece_e2": quality, "early_acc_e2": quality})  # fmt: skip
    data = predict.PredictionData(frame=frame, target="y", features=(),
                                  early=("early_ece_e1", "early_ece_e2", "early_acc_e2"))
    taus = predict.early_signal_taus(data, n_boot=50)
    assert taus["epoch"].tolist() == [1, 2] and taus["tau"].iloc[1] == pytest.approx(1.0)
    assert predict.early_signal_taus(predict.PredictionData(frame=frame, target="y",
                                                            features=()), n_boot=50).empty


def test_proxies_of_a_cell_with_unused_operations_are_finite() -> None:
    """Node 2 feeds only a `none` edge: its convolutions get no gradient (they count 0)."""
    pytest.importorskip("torch")
    unused = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
    table = predict.zero_cost_proxies([unused], "tss", num_images=8, C=4, N=1)
    assert np.isfinite(table.to_numpy()).all()


# --------------------------------------------------------------------------------------------
# The chapter's findings in words, and its orchestration


def scores_table(**overrides) -> pd.DataFrame:
    rows = [
        ("parameter count", "baseline", -0.02, -0.15, 0.10, 122),
        ("proxy: synflow", "zero-cost proxy", 0.15, 0.02, 0.26, 122),
        ("proxy: naswot", "zero-cost proxy", -0.20, -0.3, -0.1, 122),
        ("model: architecture", "model", 0.17, 0.06, 0.27, 122),
        ("model: architecture + proxies", "model", 0.28, 0.17, 0.36, 122),
        ("reference: accuracy after training", "reference", 0.02, -0.11, 0.15, 122),
    ]
    frame = pd.DataFrame(rows, columns=["predictor", "kind", "tau", "low", "high", "n"])
    return frame.assign(**overrides)


def test_comparison_sentences_follow_the_numbers() -> None:
    text, line = predict.comparison_sentences(scores_table(), target="pre_ECE_15", goal=0.6)
    assert "τ = -0.02 [-0.15, +0.10], n = 122, an interval holding zero" in text
    assert "strongest single zero-cost proxy is `proxy: naswot`" in text  # |−0.20| > 0.15
    assert "stays below it, its whole interval too" in text and "misses the goal" in line
    assert "accuracy after training (τ = +0.02" in text
    met, line = predict.comparison_sentences(scores_table(tau=0.7, low=0.65, high=0.75),
                                             target="y", goal=0.6)  # fmt: skip
    assert "**reaches the goal**" in met and "reaches the goal" in line
    few, _ = predict.comparison_sentences(scores_table(n=3), target="y", goal=0.6)
    assert "on only 3 architectures" in few
    reach, _ = predict.comparison_sentences(scores_table(high=0.65), target="y", goal=0.6)
    assert "though its interval reaches it" in reach


def test_ceiling_sentence_places_the_goal_and_the_predictor() -> None:
    low = predict.Ceiling(0.21, 0.08, 0.35, 0.30, 0.19, 0.40, 0.004, 0.005, 95, 190)
    text = predict.ceiling_sentence("reruns, single runs", low, goal=0.6, best={"all": 0.28})
    assert "ICC 0.21 [0.08, 0.35] over 95 architectures" in text
    assert "above its interval: out of reach" in text and "inside the ceiling's interval" in text
    high = predict.Ceiling(0.83, 0.75, 0.88, 0.73, 0.67, 0.77, 0.01, 0.03, 32, 69)
    text = predict.ceiling_sentence("isomorphic strings", high, goal=0.6, best={"all": 0.31},
                                    n_strings=400, n_classes=331)  # fmt: skip
    assert "400 strings in 331 classes, 32 of them" in text
    assert "below its interval: within reach" in text and "better inputs could rank more" in text
    mean = predict.ceiling_sentence("reruns, mean of 3 seeds", low, goal=0.6, best={"all": 0.28})
    assert "best pre-training" not in mean


def test_comparison_runs_with_full_partial_and_no_proxies() -> None:
    frame = pd.DataFrame({"arch": list("abcdef"), "y": np.arange(6.0), "x": np.arange(6.0)})
    data = predict.PredictionData(frame=frame, target="y", features=("x",))
    proxies = pd.DataFrame({"p": np.arange(6.0)}, index=pd.Index(list("abcdef"), name="arch"))
    assert list(predict.comparison_runs(data, None)) == ["6 architectures"]
    full = predict.comparison_runs(data, proxies)
    assert list(full) == ["6 architectures"] and full["6 architectures"].proxies == ("p",)
    part = predict.comparison_runs(data, proxies.iloc[:3])
    assert list(part) == ["6 architectures", "the 3 with proxies"]
    assert part["6 architectures"].proxies == () and len(part["the 3 with proxies"].frame) == 3
    assert list(predict.comparison_runs(data, proxies.iloc[:2])) == ["6 architectures"]


def test_proxies_for_says_why_there_are_none() -> None:
    df = pd.DataFrame({"space": "tss", "arch": [A1, B1, DEAD], "dataset": "cifar100",
                       "fidelity": "nats-200", "seed": -1, "y": [1.0, 2.0, 3.0]})  # fmt: skip
    data = predict.prediction_frame(df, space="tss", dataset="cifar100", target="y")
    assert predict.proxies_for(data, max_all=0, sample=0)[1].startswith("`proxy_archs` = 0")
    only_dead = predict.restrict(data, [DEAD])
    assert "no cell with a path" in predict.proxies_for(only_dead, max_all=5, sample=5)[1]
    table, why = predict.proxies_for(data, max_all=5, sample=5, data_dir=None)
    assert table is None and "no cifar100 images" in why  # the shipped sample has none


def test_noise_ceilings_from_isomorphic_strings(classes) -> None:
    rows = iso_store(classes, n=300, seed=3)
    found = predict.noise_ceilings(rows, rows["pre_ECE_15"], "pre_ECE_15", reruns=rows.iloc[:0])
    assert list(found.ceilings) == ["isomorphic strings"] and found.rerun is None
    assert found.missing == ["no architecture was trained with a second seed (no seed study)",
                             "no full-schedule reruns with several seeds"]  # fmt: skip
    table = predict.ceiling_table(found.ceilings)
    assert list(table.columns) == ["n", "icc", "icc_low", "icc_high", "tau_max", "low", "high"]
    sss = pd.DataFrame({"space": "sss", "arch": ["8:8:8:8:8", "16:8:8:8:8", "24:8:8:8:8"],
                        "dataset": "c", "fidelity": "nats-90", "seed": -1, "y": [1.0, 2.0, 3.0]})
    none = predict.noise_ceilings(sss, sss["y"], "y", reruns=sss.iloc[:0])
    assert not none.ceilings and "SSS networks have no isomorphic twins" in none.missing


def test_importance_shares_and_sentences() -> None:
    importance = pd.DataFrame({"feature": ["synflow", "edge 0→1", "n_params"],
                               "importance": [0.3, 0.1, -0.01], "sd": 0.1, "n": 10})  # fmt: skip
    shares = predict.importance_shares(importance, ["synflow"])
    assert shares == {"proxy_share": pytest.approx(0.75), "n_params": -0.01}
    assert "carry 75 % of the positive importance" in predict.importance_sentence(
        importance, ["synflow"])
    zero = importance.assign(importance=-1.0)
    assert math.isnan(predict.importance_shares(zero, ["synflow"])["proxy_share"])
    pairs = pd.DataFrame({"space": ["tss"], "dataset": ["c"], "fidelity": ["f"], "n_archs": [4],
                          "n_classes": [2]})  # fmt: skip
    assert "4 architecture strings of TSS c in 2 isomorphism classes" in predict.pairs_sentence(
        pairs, target="y", min_archs=3)
    assert "nothing is scored" in predict.pairs_sentence(pairs.iloc[:0], target="y", min_archs=3)


def test_ceiling_sentence_says_when_the_interval_is_too_wide() -> None:
    wide = predict.Ceiling(0.63, 0.0, 0.85, 0.59, 0.0, 0.75, 0.003, 0.006, 6, 6)
    text = predict.ceiling_sentence("seed study", wide, goal=0.6, best={"all": 0.28})
    assert "too wide to tell how much is left" in text and "inside its interval" in text


# --------------------------------------------------------------------------------------------
# The chapter's steps, pair by pair (predict.pair_inputs … predict.ceiling_problems)


def test_pair_title_group_rows_and_predictor_table() -> None:
    assert predict.pair_title("tss", "cifar10") == "TSS cifar10"
    assert predict.pair_title("sss", "c", "the 3 with proxies") == "SSS c, the 3 with proxies"
    frame = pd.DataFrame({"space": ["tss", "tss", "tss", "sss"], "dataset": ["c", "c", "d", "c"],
                          "fidelity": ["f", "g", "f", "f"], "y": [1, 2, 3, 4]})  # fmt: skip
    pair = next(pd.DataFrame({"space": ["tss"], "dataset": ["c"], "fidelity": ["f"]}).itertuples())
    assert predict.group_rows(frame, pair)["y"].tolist() == [1]  # not the other fidelity
    with pytest.raises(ValueError, match="fidelity"):
        predict.group_rows(frame.drop(columns="fidelity"), pair)

    scores = scores_table(p_value=0.01, tau_mean=0.25, tau_sd=0.031)
    table = predict.predictor_table(scores)
    assert table.index.tolist() == scores["predictor"].tolist()
    assert list(table.columns) == ["τ-b", "kind", "n", "tau_mean", "tau_sd"]
    row = table.loc["model: architecture + proxies"]
    assert row["τ-b"].replace("\u00a0", " ") == "+0.28 [+0.17, +0.36]"
    assert row.iloc[1:].tolist() == ["model", 122, "0.25", "0.031"]
    with pytest.raises(ValueError, match="tau_sd"):
        predict.predictor_table(scores.drop(columns="tau_sd"))


def tss_rows(archs, seeds=(0,), fidelity="ep10-C16N1-n10000") -> pd.DataFrame:
    """Store rows of TSS `archs` on cifar10, one per seed, the target rising with the index."""
    return pd.DataFrame(
        [dict(space="tss", arch=a, dataset="cifar10", fidelity=fidelity, seed=s, y=float(i),
              acc=0.5) for i, a in enumerate(archs) for s in seeds]
    )  # fmt: skip


def test_pair_inputs_scores_a_sample_and_says_why_there_are_no_proxies() -> None:
    df = tss_rows([A1, B1, B2, B3, DEAD])
    pair = next(predict.study_pairs(df, "y").itertuples())
    data, proxies, text = predict.pair_inputs(df, pair, target="y", max_archs=3, max_all=0,
                                              sample=0)  # fmt: skip
    assert len(data.frame) == 3 and data.proxies == () and proxies is None
    assert data.frame["arch"].tolist() == predict.subsample(
        predict.prediction_frame(df, space="tss", dataset="cifar10", target="y"), 3).frame[
        "arch"].tolist()  # fmt: skip
    assert text == ("3 of its 5 architectures are scored (a sample: `max_archs` = 3); no "
                    "zero-cost proxies: `proxy_archs` = 0 and `proxy_sample` = 0.")  # fmt: skip
    _, _, whole = predict.pair_inputs(df, pair, target="y", max_archs=10, max_all=0, sample=0)
    assert whole.startswith("5 of its 5 architectures are scored;")


def test_pair_early_starts_from_the_store_seed_and_says_what_is_missing() -> None:
    archs = [A1, A2, B1, B2, B3]
    runs = tss_rows(archs, seeds=(1, 2))  # the store's lowest seed is 1
    data = predict.prediction_frame(runs[runs["seed"] == 1], space="tss", dataset="cifar10",
                                    target="y")  # fmt: skip
    signals = pd.DataFrame({"space": "tss", "arch": archs, "dataset": "cifar10", "seed": 1,
                            "fidelity": "ep10-C16N1-n10000", "schedule_epochs": 3, "n_val": 500,
                            "seconds": 2.0, "device": "cpu", "early_ece_e1": [5.0, 4, 3, 2, 1],
                            "early_ece_e2": np.arange(5.0)})  # fmt: skip
    got = predict.pair_early(data, signals, runs, n_boot=50)
    assert got.data.early == ("early_ece_e1", "early_ece_e2") and got.schedule_epochs == 3
    assert got.taus["tau"].tolist() == pytest.approx([-1.0, 1.0])
    assert got.text.startswith("2 early epochs of a 3-epoch schedule (20% of the study's 10")
    assert got.summary.startswith("the validation ECE after the first 2 epochs ranks the final")
    other_seed = predict.pair_early(data, signals.assign(seed=0), runs, n_boot=50)
    assert other_seed.data is data and other_seed.taus is None and other_seed.summary is None
    assert other_seed.text == ("early-training signals: none; the predictors use only what "
                               "exists before training.")  # fmt: skip
    partial = predict.pair_early(data, signals.iloc[:2], runs, n_boot=50)
    assert partial.text.startswith("early-training signals: for 2 of 5;")
    with pytest.raises(ValueError, match="seed"):
        predict.pair_early(data, signals, runs.drop(columns="seed"))
    with pytest.raises(ValueError, match="Expected `runs` to hold rows of .* it holds none"):
        predict.pair_early(data, signals, runs.assign(dataset="other"))


@pytest.fixture(scope="module")
def scored(classes) -> dict:
    """score_runs on 60 strings of twin-rich classes, 30 of them with a proxy that tracks the
    target: one comparison without proxies, one on the sample with them."""
    data = predict.prediction_frame(iso_store(classes, n=60, seed=5), space="tss",
                                    dataset="cifar10")  # fmt: skip
    sample = data.frame.iloc[::2]
    proxies = pd.DataFrame({"p": sample["pre_ECE_15"].to_numpy()
                            + np.random.default_rng(0).normal(0, 0.1, len(sample))},
                           index=pd.Index(sample["arch"], name="arch"))  # fmt: skip
    return predict.score_runs(data, proxies, goal=0.6, candidates=["ridge"], n_splits=3,
                              n_repeats=1, n_boot=50)  # fmt: skip


def test_score_runs_scores_each_table_with_its_facts_and_sentences(scored) -> None:
    assert list(scored) == ["60 architectures", "the 30 with proxies"]
    whole, sample = scored.values()
    assert whole.title == "TSS cifar10, 60 architectures" and whole.run.proxies == ()
    assert sample.run.proxies == ("p",) and len(sample.run.frame) == 30
    assert whole.facts["main"] == "model: architecture"
    assert sample.facts["main"] == "model: architecture + proxies"
    assert sample.facts == predict.comparison_summary(sample.result.scores, goal=0.6)
    assert (sample.text, sample.summary) == predict.comparison_sentences(
        sample.result.scores, target="pre_ECE_15", goal=0.6
    )
    classes_held = sample.run.frame["arch_class"].nunique()
    assert sample.heading.startswith(f"**TSS cifar10, the 30 with proxies** (3 outer folds over "
                                     f"{classes_held} isomorphism classes, ")  # fmt: skip
    proxy = sample.result.scores.set_index("predictor").loc["proxy: p", "tau"]
    assert proxy > 0.5  # the proxy tracks the target on held-out folds


def test_main_runs_and_main_importance(scored) -> None:
    whole, sample = scored.values()
    assert predict.main_runs(scored) == {sample.title: sample}  # the one with proxies
    assert predict.main_runs({"a": whole}) == {whole.title: whole}
    no_main = dataclasses.replace(whole, facts={**whole.facts, "main": None})
    assert predict.main_runs({"a": no_main}) == {}
    importance, candidate, text = predict.main_importance(sample, candidates=["ridge"],
                                                          n_permutations=2)  # fmt: skip
    assert candidate == "ridge" and "p" in set(importance["feature"])
    assert importance.set_index("feature").loc["p", "importance"] > 0  # shuffling it hurts
    assert text == predict.importance_sentence(importance, ("p",))
    with pytest.raises(ValueError, match="main model"):
        predict.main_importance(no_main, candidates=["ridge"])


def test_pair_reruns_pick_the_study_schedule_and_every_seed() -> None:
    reruns = pd.DataFrame({"space": "tss", "arch": [A1, A1, B1, B1], "dataset": "cifar10",
                           "fidelity": "ep10-C16N1-n10000", "seed": [0, 1, 0, 1],
                           "schedule_epochs": [10, 10, 3, 10], "n_val": 500})  # fmt: skip
    data = predict.PredictionData(frame=pd.DataFrame({"arch": [A1, B1]}), target="y", features=(),
                                  dataset="cifar10", fidelity="ep10-C16N1-n10000")  # fmt: skip
    rows = predict.pair_reruns(reruns, data)
    assert rows[["arch", "seed"]].values.tolist() == [[A1, 0], [A1, 1], [B1, 1]]
    assert predict.pair_reruns(reruns.iloc[:0], data).empty


def test_best_before_ceiling_sentences_and_answer_findings(scored) -> None:
    whole, sample = scored.values()
    pair = next(pd.DataFrame({"space": ["tss"], "dataset": ["cifar10"]}).itertuples())
    best = predict.best_before(scored.values(), pair)
    assert list(best) == [whole.label, sample.label]
    name = sample.facts["best_before"]
    assert best[sample.label] == sample.result.scores.set_index("predictor").loc[name, "tau"]
    elsewhere = next(pd.DataFrame({"space": ["sss"], "dataset": ["cifar10"]}).itertuples())
    assert predict.best_before(scored.values(), elsewhere) == {}

    low = predict.Ceiling(0.21, 0.08, 0.35, 0.30, 0.19, 0.40, 0.004, 0.005, 95, 190)
    high = predict.Ceiling(0.83, 0.75, 0.88, 0.73, 0.67, 0.77, 0.01, 0.03, 32, 69)
    found = predict.NoiseCeilings({"seed study": low, "isomorphic strings": high}, [], None)
    texts = predict.ceiling_sentences(found, goal=0.6, best={"all": 0.28}, n_strings=400,
                                      n_classes=331)  # fmt: skip
    assert list(texts) == ["seed study", "isomorphic strings"]
    assert texts["isomorphic strings"] == predict.ceiling_sentence(
        "isomorphic strings", high, goal=0.6, best={"all": 0.28}, n_strings=400, n_classes=331
    )
    assert "400 strings in 331 classes" in texts["isomorphic strings"]

    answer = predict.answer_findings(scored, {"TSS cifar10": texts, "SSS c": {"reruns": "r."}})
    assert answer == ("\n\n- " + "\n- ".join([
        f"TSS cifar10, 60 architectures: {whole.summary}",
        f"TSS cifar10, the 30 with proxies: {sample.summary}",
        f"TSS cifar10, seed study: {texts['seed study']}",  # only each pair's first ceiling
        "SSS c, reruns: r."]))  # fmt: skip
    nothing = predict.answer_findings({}, {"TSS cifar10": texts})
    assert nothing == "Nothing could be scored on this store."


def test_comparison_and_ceiling_problems_catch_what_must_not_happen(scored) -> None:
    _, sample = scored.values()
    run, result = sample.run, sample.result
    assert predict.comparison_problems(run, result) == []
    leak = predict.Fold(0, 0, np.arange(len(run.frame)), np.arange(3))
    found = predict.comparison_problems(run, dataclasses.replace(result, folds=[leak]))
    assert found == ["fold 0 holds out a `arch_class` it was trained on"]
    scores = result.scores.copy()
    scores.loc[0, ["tau", "low", "high", "n"]] = [0.5, 0.6, 0.7, 30]
    off = predict.comparison_problems(run, dataclasses.replace(result, scores=scores))
    assert len(off) == 1 and "outside its interval" in off[0]
    scores.loc[0, "n"] = 5  # percentile intervals may miss on tiny samples
    assert predict.comparison_problems(run, dataclasses.replace(result, scores=scores)) == []
    scores.loc[0, ["tau", "p_value"]] = [1.5, -0.1]
    assert len(predict.comparison_problems(run, dataclasses.replace(result, scores=scores))) == 2
    twice = dataclasses.replace(run, frame=pd.concat([run.frame, run.frame.iloc[:1]]))
    assert "an architecture string has several rows" in predict.comparison_problems(twice, result)
    gap = dataclasses.replace(run, frame=run.frame.assign(p=np.nan))
    assert predict.comparison_problems(gap, result) == ["missing proxy values where they are used"]

    good = predict.Ceiling(0.21, 0.08, 0.35, 0.30, 0.19, 0.40, 0.004, 0.005, 95, 190)
    bad = predict.Ceiling(0.50, 0.08, 0.35, 0.30, 0.19, 1.20, 0.004, 0.005, 95, 190)
    assert predict.ceiling_problems(predict.NoiseCeilings({"a": good}, [], None)) == []
    assert predict.ceiling_problems(predict.NoiseCeilings({"a": good, "b": bad}, [], None)) == [
        "b: ICC 0.5 [0.08, 0.35]", "b: τ ceiling 0.3 [0.19, 1.2]"]  # fmt: skip


# --------------------------------------------------------------------------------------------
# On the paper's released format (calstudy.paper's generator): every TSS string of NATS-Bench


@pytest.fixture(scope="module")
def release_tss(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    from calstudy import paper

    out = tmp_path_factory.mktemp("release")
    paper.write_release_sample(out, n_tss=15_625, n_sss=8, datasets=("cifar10",), seed=0)
    frame = paper.import_paper_dir(out)
    return frame[frame["space"] == "tss"].reset_index(drop=True)


def test_isomorphic_icc_on_the_released_format_finds_nats_classes(release_tss) -> None:
    """All 15,625 strings in NATS-Bench's order fall into its 6,466 classes; isomorphic strings
    share their architecture's factors there, so the ICC is measurable and well inside (0, 1)."""
    r = analysis.isomorphic_icc(release_tss, "pre_ECE_15")
    assert (r.n_strings, r.n_classes, r.n_repeated, r.dof) == (15_625, 6_466, 1_350, 9_159)
    assert 0 < r.low <= r.icc <= r.high < 1 and r.high - r.low < 0.05
    c = predict.isomorphic_ceiling(release_tss, "pre_ECE_15")
    assert c.low <= c.tau_max <= c.high and c.n_archs == 1_350


def test_held_out_classes_on_a_sample_of_the_released_format(release_tss) -> None:
    data = predict.prediction_frame(release_tss, space="tss", dataset="cifar10")
    sample = predict.subsample(data, 300, seed=0)
    assert sample.frame["arch_class"].nunique() < 300  # the sample holds isomorphic twins
    predictors = {k: v for k, v in predict.standard_predictors(sample, candidates=["ridge"]).items()
                  if k in ("parameter count", "model: architecture")}  # fmt: skip
    result = predict.compare_predictors(sample, predictors, n_splits=3, n_repeats=1, n_boot=50)
    for f in result.folds:
        assert not set(sample.frame["arch_class"].iloc[f.train]) & set(
            sample.frame["arch_class"].iloc[f.test])
    assert result.scores["tau"].between(-1, 1).all()


def test_draw_panels_one_figure_per_cell() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from calstudy import plots

    drawn = []
    fig = plots.draw_panels({"a": 1, "b": 2, "c": 3}, lambda ax, k, v: drawn.append((k, v)),
                            width=8, heights=[2, 3], ncols=2)  # fmt: skip
    assert drawn == [("a", 1), ("b", 2), ("c", 3)]
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(fig.axes) == 4 and len(visible) == 3  # the unused fourth panel is hidden
    assert tuple(fig.get_size_inches()) == pytest.approx((8, 5))  # the rows' heights add up
    plt.close(fig)
    assert plots.draw_panels({}, lambda ax, k, v: None, width=8, heights=2) is None
    with pytest.raises(ValueError, match="`heights`"):
        plots.draw_panels({"a": 1}, lambda ax, k, v: None, width=8, heights=[1, 2])
    with pytest.raises(ValueError, match="`ncols`"):
        plots.draw_panels({"a": 1}, lambda ax, k, v: None, width=8, heights=1, ncols=0)


def test_importance_sentence_and_figure_name_architecture_columns_for_readers() -> None:
    importance = pd.DataFrame({"feature": ["c3", "synflow", "n_params", "edge 0→3"],
                               "importance": [0.1, 0.05, 0.02, 0.01], "sd": 0.01, "n": 10})
    text = predict.importance_sentence(importance, ["synflow"])
    assert text == ("most important: width of stage 4 (+0.100), synflow (+0.050), "
                           "parameters (+0.020) and edge 0→3 (+0.010). The zero-cost proxies "
                           "carry 28 % of the positive importance; the parameter count +0.020.")
    ax = plots.plot_importance(importance, xlabel="drop in τ")
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "width of stage 4", "synflow", "parameters", "edge 0→3"]
