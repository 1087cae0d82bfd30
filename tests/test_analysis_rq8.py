"""RQ viii and seed noise at the benchmark's fidelity: isomorphic strings, held-out classes.

`analysis.isomorphic_icc` (one-way ICC across isomorphism classes of unequal size, F interval),
`predict.isomorphic_ceiling`, the grouping of the folds by isomorphism class
(`predict.arch_classes`, `PredictionData.group`), and the chapter's helpers (`study_pairs`,
`subsample`, `restrict`, `proxy_sample`, `attach_early`, `comparison_summary`, `shortlist`,
`chosen_candidate`, `seed_study_ceiling`, `rerun_study`, `early_signal_taus`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from calstudy import analysis, predict, space

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
