"""Predicting calibration before training: features, zero-cost proxies, the protocol."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from calstudy import predict, proxies
from calstudy.space import TSS_OPS, sample_archs, tss_features

CELL = "|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|none~1|none~2|"


# --------------------------------------------------------------------------------------------
# Fixtures


def synthetic(n: int = 60, *, seed: int = 0, target: str = "y") -> predict.PredictionData:
    """Architectures 'a0' … with three uniform features; the target is set by each test."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.uniform(size=(n, 3)), columns=["x1", "x2", "x3"])
    frame.insert(0, "arch", [f"a{i}" for i in range(n)])
    frame[target] = 0.0
    return predict.PredictionData(frame=frame, target=target, features=("x1", "x2", "x3"))


def with_target(data: predict.PredictionData, values: np.ndarray) -> predict.PredictionData:
    frame = data.frame.assign(**{data.target: values})
    return predict.PredictionData(frame=frame, target=data.target, features=data.features)


def store_rows(archs: list[str], datasets=("cifar10", "fashion-mnist"), seed: int = 0):
    rng = np.random.default_rng(seed)
    rows = []
    for dataset in datasets:
        for arch in archs:
            rows.append(
                {
                    "space": "tss",
                    "arch": arch,
                    "dataset": dataset,
                    "seed": 0,
                    "fidelity": "ep10-C16N1-n10000",
                    "acc": rng.uniform(0.3, 0.7),
                    "pre_ECE_15": rng.uniform(0.01, 0.05),
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Architecture features


def test_skeleton_reads_the_fidelity_label() -> None:
    assert predict.skeleton("ep10-C16N1-n10000") == (16, 1)
    assert predict.skeleton("ep1-C8N2-nall") == (8, 2)
    assert predict.skeleton("nats-200") == (16, 5)
    with pytest.raises(ValueError, match="Expected `fidelity`"):
        predict.skeleton("ep10")


def test_tss_features_one_hot_counts_and_costs() -> None:
    f = predict.arch_features([CELL], "tss", C=16, N=1).iloc[0]
    one_hot = f[[c for c in f.index if c.startswith("edge_")]]
    assert len(one_hot) == 6 * len(TSS_OPS)
    assert one_hot.sum() == 6  # exactly one operation per edge
    assert f["edge_1_0[nor_conv_3x3]"] == 1 and f["edge_2_1[nor_conv_1x1]"] == 1
    assert f["edge_3_0[skip_connect]"] == 1 and f["edge_3_0[none]"] == 0
    assert (f["n_none"], f["n_skip_connect"], f["skip_0_3"], f["conv_depth"]) == (3, 1, 1, 0)
    raw = tss_features(CELL, C=16, N=1)
    assert (f["n_params"], f["flops"]) == (raw["n_params"], raw["flops"])
    assert f.dtype == float


def test_tss_features_follow_each_rows_fidelity() -> None:
    frame = pd.DataFrame({"arch": [CELL, CELL], "fidelity": ["ep10-C16N1-n1", "nats-200"]})
    f = predict.arch_features(frame, "tss")
    assert f["n_params"].tolist() == [
        tss_features(CELL, C=16, N=1)["n_params"],
        tss_features(CELL, C=16, N=5)["n_params"],
    ]
    assert f.index.equals(frame.index)


def test_sss_features_are_the_widths_and_costs() -> None:
    f = predict.arch_features(["8:16:32:64:64", "64:64:64:64:64"], "sss")
    assert list(f.columns) == ["c0", "c1", "c2", "c3", "c4", "total_width", "n_params", "flops"]
    assert f.loc[0, ["c0", "c2", "total_width"]].tolist() == [8, 32, 184]
    assert f.loc[1, "n_params"] > f.loc[0, "n_params"]


@pytest.mark.parametrize(
    ("data", "space", "match"),
    [
        ([CELL], "nas", "Expected `space`"),
        ([], "tss", "at least one architecture"),
        ([3], "tss", "architecture strings"),
        (CELL, "tss", "a list of architecture strings"),
        (pd.DataFrame({"x": [1]}), "tss", "'arch' column"),
        (["8:8:8"], "sss", "size string"),
    ],
)
def test_arch_features_rejects_bad_input(data, space, match) -> None:
    with pytest.raises(ValueError, match=match):
        predict.arch_features(data, space)


def test_feature_groups_keep_an_edge_together() -> None:
    columns = list(predict.arch_features([CELL], "tss").columns)
    groups = predict.feature_groups(columns)
    assert len(groups["edge 0→3"]) == len(TSS_OPS)
    assert groups["n_params"] == ["n_params"]
    assert sum(map(len, groups.values())) == len(columns)


# --------------------------------------------------------------------------------------------
# Zero-cost proxies


@pytest.fixture(scope="module")
def three_archs() -> list[str]:
    return sample_archs("tss", 3, seed=4)


def test_proxies_are_finite_deterministic_and_differ_across_archs(three_archs) -> None:
    first = predict.zero_cost_proxies(three_archs, "tss", num_images=16, C=8, N=1)
    again = predict.zero_cost_proxies(three_archs, "tss", num_images=16, C=8, N=1)
    assert list(first.columns) == list(predict.PROXIES)
    assert list(first.index) == three_archs
    assert np.isfinite(first.to_numpy()).all()
    pd.testing.assert_frame_equal(first, again)
    for proxy in predict.PROXIES:
        assert first[proxy].nunique() == 3, proxy  # the architectures are told apart
    assert (first[["grad_norm", "snip", "logit_std"]] > 0).all().all()


def test_proxy_formulas_on_a_two_layer_linear_network() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(12, 5, bias=False),
        torch.nn.ReLU(),
        torch.nn.Linear(5, 3, bias=False),
    )
    w1, w2 = (net[i].weight.detach().double().clone() for i in (1, 3))
    x, y = torch.randn(6, 3, 2, 2), torch.tensor([0, 1, 2, 0, 1, 2])
    got = proxies._network_proxies(net, x, y)
    # Synflow of an L-layer bias-free positive network is L · R, R = 1ᵀ|W2||W1|1.
    flow = 2 * float((w2.abs() @ w1.abs()).sum())
    assert got["synflow"] == pytest.approx(math.log1p(flow))
    # NASWOT: K_ab counts the hidden units on which images a and b agree.
    codes = (x.flatten(1).double() @ w1.T > 0).double()
    kernel = codes @ codes.T + (1 - codes) @ (1 - codes).T
    assert got["naswot"] == pytest.approx(float(torch.linalg.slogdet(kernel)[1]))
    logits = net(x)
    loss = torch.nn.functional.cross_entropy(logits, y)
    grads = torch.autograd.grad(loss, list(net.parameters()))
    assert got["grad_norm"] == pytest.approx(sum(float(g.norm()) for g in grads))
    assert got["snip"] == pytest.approx(
        sum(
            float((g * p.detach()).abs().sum())
            for g, p in zip(grads, net.parameters(), strict=True)
        )
    )
    assert got["logit_std"] == pytest.approx(float(logits.detach().std()))


def test_proxies_of_sss_and_duplicates(three_archs) -> None:
    table = predict.zero_cost_proxies(
        ["8:8:8:8:8", "8:8:8:8:8", "16:8:8:8:16"], "sss", dataset="fashion-mnist", num_images=8
    )
    assert list(table.index) == ["8:8:8:8:8", "16:8:8:8:16"]
    assert np.isfinite(table.to_numpy()).all()


def test_proxies_depend_on_the_seed(three_archs) -> None:
    a = predict.zero_cost_proxies(three_archs[:1], "tss", num_images=8, C=8, N=1, seed=0)
    b = predict.zero_cost_proxies(three_archs[:1], "tss", num_images=8, C=8, N=1, seed=1)
    assert not np.allclose(a.to_numpy(), b.to_numpy())


@pytest.mark.parametrize(
    ("archs", "space", "options", "match"),
    [
        ([CELL], "nas", {}, "Expected `space`"),
        ([], "tss", {}, "at least one architecture"),
        ([CELL], "tss", {"num_images": 1}, "`num_images`"),
        ([CELL], "tss", {"num_images": 10**6}, "at most the"),
        ([CELL], "tss", {"C": 0}, "`C`"),
    ],
)
def test_proxies_reject_bad_input(archs, space, options, match) -> None:
    with pytest.raises(ValueError, match=match):
        predict.zero_cost_proxies(archs, space, **options)


# --------------------------------------------------------------------------------------------
# The prediction table


def test_prediction_frame_builds_features_and_references() -> None:
    archs = sample_archs("tss", 12, seed=1)
    df = store_rows(archs)
    data = predict.prediction_frame(df, space="tss", dataset="cifar10")
    assert len(data.frame) == 12 and data.fidelity == "ep10-C16N1-n10000"
    assert "edge_1_0[none]" in data.features and "n_params" in data.features
    assert data.references == {
        "accuracy after training": "acc",
        "15-bin ECE before scaling on fashion-mnist": "pre_ECE_15@fashion-mnist",
    }
    other = df[df["dataset"] == "fashion-mnist"].set_index("arch")["pre_ECE_15"]
    assert np.allclose(data.frame["pre_ECE_15@fashion-mnist"], other.loc[data.frame["arch"]])
    # n_params is that of the network as trained (C = 16, N = 1)
    assert data.frame["n_params"].iloc[0] == tss_features(archs[0], C=16, N=1)["n_params"]


def test_add_proxies_joins_by_arch_and_validates() -> None:
    archs = sample_archs("tss", 6, seed=2)
    data = predict.prediction_frame(store_rows(archs), space="tss", dataset="cifar10")
    proxies = pd.DataFrame({"p": np.arange(6.0)}, index=pd.Index(archs[::-1], name="arch"))
    joined = predict.add_proxies(data, proxies)
    assert joined.proxies == ("p",)
    assert joined.frame.set_index("arch").loc[archs[0], "p"] == 5.0
    with pytest.raises(ValueError, match="for every architecture"):
        predict.add_proxies(data, proxies.iloc[1:])
    with pytest.raises(ValueError, match="finite values"):
        predict.add_proxies(data, proxies.assign(p=[np.nan, 1, 2, 3, 4, 5]))
    with pytest.raises(ValueError, match="non-empty DataFrame"):
        predict.add_proxies(data, pd.DataFrame())
    with pytest.raises(ValueError, match="already in the data"):
        predict.add_proxies(data, proxies.rename(columns={"p": "acc"}))


def test_prediction_frame_rejects_bad_input() -> None:
    df = store_rows(sample_archs("tss", 5, seed=3))
    with pytest.raises(ValueError, match="on dataset 'svhn'"):
        predict.prediction_frame(df, space="tss", dataset="svhn")
    with pytest.raises(ValueError, match="'pre_KSCE' column"):
        predict.prediction_frame(df, space="tss", dataset="cifar10", target="pre_KSCE")
    with pytest.raises(ValueError, match="one row per architecture"):
        predict.prediction_frame(pd.concat([df, df]), space="tss", dataset="cifar10")
    two = pd.concat([df, df.assign(fidelity="nats-200")])
    with pytest.raises(ValueError, match="one fidelity"):
        predict.prediction_frame(two, space="tss", dataset="cifar10")
    assert (
        len(
            predict.prediction_frame(two, space="tss", dataset="cifar10", fidelity="nats-200").frame
        )
        == 5
    )
    with pytest.raises(ValueError, match="at least 3 architectures"):
        predict.prediction_frame(df.iloc[:2], space="tss", dataset="cifar10")


# --------------------------------------------------------------------------------------------
# The protocol


def test_arch_folds_hold_out_every_architecture_once_per_repeat() -> None:
    archs = [f"a{i % 17}" for i in range(40)]  # repeated architectures (several seeds)
    folds = predict.arch_folds(archs, n_splits=5, n_repeats=3, seed=1)
    assert len(folds) == 15
    for repeat in range(3):
        held = np.concatenate([f.test for f in folds if f.repeat == repeat])
        assert sorted(held) == list(range(40))  # each row held out exactly once
    for f in folds:
        train = {archs[i] for i in f.train}
        test = {archs[i] for i in f.test}
        assert not train & test  # an architecture's rows never straddle the split
        assert len(f.train) + len(f.test) == 40
    again = predict.arch_folds(archs, n_splits=5, n_repeats=3, seed=1)
    assert all(np.array_equal(a.test, b.test) for a, b in zip(folds, again, strict=True))
    assert not np.array_equal(folds[0].test, folds[5].test)  # repeats reshuffle


def test_arch_folds_shrink_and_reject() -> None:
    assert len(predict.arch_folds(["a", "b", "c"], n_splits=5, n_repeats=1)) == 3
    with pytest.raises(ValueError, match="2 distinct architectures"):
        predict.arch_folds(["a", "a"])
    with pytest.raises(ValueError, match="`n_splits`"):
        predict.arch_folds(["a", "b", "c"], n_splits=1)


class Spy:
    """A predictor recording the architectures it was fitted on and asked to score."""

    kind = "spy"
    columns = ("x1",)

    def __init__(self) -> None:
        self.calls: list[tuple[set[str], set[str]]] = []

    def fit_predict(self, train: pd.DataFrame, test: pd.DataFrame):
        self.calls.append((set(train["arch"]), set(test["arch"])))
        return test["x1"].to_numpy(), "spy"


def test_compare_never_trains_on_held_out_architectures() -> None:
    data = synthetic(30)
    spy = Spy()
    result = predict.compare_predictors(data, {"spy": spy}, n_splits=5, n_repeats=2, n_boot=50)
    assert len(spy.calls) == 10
    everyone = set(data.frame["arch"])
    for train, test in spy.calls:
        assert not train & test and train | test == everyone
    assert result.choices["choice"].eq("spy").all() and len(result.choices) == 10


def test_planted_monotone_signal_is_recovered() -> None:
    data = synthetic(80)
    x1 = data.frame["x1"].to_numpy()
    data = with_target(data, -np.exp(3 * x1))  # decreasing in x1: the sign must be learned
    predictors = {
        "sign": predict.SignBaseline("x1", "y"),
        "model": predict.RankModel(data.features, "y", candidates=("ridge", "gbm")),
    }
    result = predict.compare_predictors(data, predictors, n_splits=4, n_repeats=1, n_boot=100)
    scores = result.scores.set_index("predictor")
    assert scores.loc["sign", "tau"] == pytest.approx(1.0)
    assert result.choices.query("predictor == 'sign'")["choice"].eq("sign -1").all()
    assert scores.loc["model", "tau"] > 0.8
    assert scores.loc["model", "n"] == 80


def test_pure_noise_gives_tau_near_zero() -> None:
    data = synthetic(80, seed=0)
    data = with_target(data, np.random.default_rng(100).normal(size=80))
    model = predict.RankModel(data.features, "y", candidates=("ridge", "gbm"))
    result = predict.compare_predictors(data, {"model": model}, n_splits=4, n_repeats=1, n_boot=200)
    r = result.scores.iloc[0]
    assert r.low < 0 < r.high and abs(r.tau) < 0.2


def test_accuracy_predictor_ranks_through_the_fitted_sign() -> None:
    data = synthetic(60, seed=5)
    acc = data.frame["x2"].to_numpy()
    frame = data.frame.assign(acc=acc, y=-acc)  # better accuracy, lower ECE
    data = predict.PredictionData(frame=frame, target="y", features=data.features)
    model = predict.RankModel(data.features, "y", via="acc", candidates=("ridge",))
    result = predict.compare_predictors(data, {"acc": model}, n_splits=3, n_repeats=1, n_boot=50)
    assert result.scores.iloc[0]["tau"] > 0.8
    assert result.choices["choice"].str.endswith("sign -1").all()


def test_inner_cv_picks_a_listed_candidate_without_the_test_fold() -> None:
    data = synthetic(40)
    data = with_target(data, data.frame["x1"].to_numpy())
    model = predict.RankModel(data.features, "y", candidates=("ridge", "forest", "ensemble"))
    train = data.frame.iloc[:30]
    assert model.choose(train) in ("ridge", "forest", "ensemble")
    assert model.choose(train.iloc[:4]) == "ridge"  # too few rows: the first candidate
    ensemble = model.fit(train, "ensemble")
    assert ensemble.predict(train[list(data.features)].to_numpy()).shape == (30,)


def test_references_with_missing_rows_are_scored_on_the_rest() -> None:
    data = synthetic(30)
    frame = data.frame.assign(y=data.frame["x1"], other=data.frame["x1"].where(lambda s: s > 0.2))
    data = predict.PredictionData(frame=frame, target="y", features=data.features)
    result = predict.compare_predictors(
        data, {"ref": predict.SignBaseline("other", "y")}, n_splits=3, n_repeats=1, n_boot=50
    )
    assert result.scores.iloc[0]["n"] == int(frame["other"].notna().sum())


def test_model_rejects_nan_inputs_and_bad_settings() -> None:
    data = synthetic(20)
    frame = data.frame.copy()
    frame.loc[3, "x2"] = np.nan
    model = predict.RankModel(data.features, "y", candidates=("ridge",))
    with pytest.raises(ValueError, match="finite values in the model's input"):
        model.fit_predict(frame.iloc[:15], frame.iloc[15:])
    with pytest.raises(ValueError, match="`candidates`"):
        predict.RankModel(("x1",), "y", candidates=("xgboost",))
    with pytest.raises(ValueError, match="`candidates`"):
        predict.RankModel(("x1",), "y", candidates=("ensemble",))
    with pytest.raises(ValueError, match="`columns`"):
        predict.RankModel((), "y")
    with pytest.raises(ValueError, match="at least one predictor"):
        predict.compare_predictors(data, {})
    with pytest.raises(ValueError, match="missing \\['nope'\\]"):
        predict.compare_predictors(data, {"s": predict.SignBaseline("nope", "y")})


def test_standard_predictors_on_a_real_table() -> None:
    archs = sample_archs("tss", 20, seed=6)
    data = predict.prediction_frame(store_rows(archs), space="tss", dataset="cifar10")
    proxies = pd.DataFrame({"synflow": np.linspace(0, 1, 20)}, index=pd.Index(archs, name="arch"))
    names = set(predict.standard_predictors(predict.add_proxies(data, proxies)))
    assert {
        "parameter count",
        "FLOPs",
        "proxy: synflow",
        "model: architecture",
        "model: architecture + proxies",
        "accuracy predictor",
        "reference: accuracy after training",
        "reference: 15-bin ECE before scaling on fashion-mnist",
    } == names


def test_permutation_importance_finds_the_planted_feature() -> None:
    data = synthetic(60, seed=7)
    data = with_target(data, data.frame["x3"].to_numpy() ** 2)
    model = predict.RankModel(data.features, "y", candidates=("gbm",))
    folds = predict.arch_folds(data.frame["arch"], n_splits=3, n_repeats=1)
    table = predict.permutation_importance(data, model, folds=folds, n_permutations=3)
    assert table["feature"].iloc[0] == "x3" and table["importance"].iloc[0] > 0.3
    assert table.set_index("feature").loc[["x1", "x2"], "importance"].abs().max() < 0.1
    assert (table["n"] == 9).all()
    with pytest.raises(ValueError, match="`groups`"):
        predict.permutation_importance(data, model, folds=folds, groups={"g": ["zz"]})
    with pytest.raises(ValueError, match="`folds`"):
        predict.permutation_importance(data, model, folds=[])


# --------------------------------------------------------------------------------------------
# The noise ceiling


def test_noise_ceiling_by_hand() -> None:
    # Two architectures, two seeds each: deviations ±0.5 → s_w² = (4 × 0.25) / 2 = 0.5.
    repeats = pd.DataFrame(
        {"arch": ["a", "a", "b", "b"], "y": [0.0, 1.0, 5.0, 6.0], "space": "tss",
         "dataset": "d", "fidelity": "f"}
    )  # fmt: skip
    total = np.array([0.0, 1.0, 2.0, 3.0, 4.0])  # s_t² = 2.5
    c = predict.noise_ceiling(repeats, "y", total)
    assert (c.n_archs, c.dof) == (2, 2)
    assert c.within_sd == pytest.approx(math.sqrt(0.5))
    assert c.icc == pytest.approx(1 - 0.5 / 2.5)
    assert c.tau_max == pytest.approx(2 / math.pi * math.asin(math.sqrt(0.8)))
    assert 0 <= c.low <= c.tau_max <= c.high <= 1
    assert c.icc_low <= c.icc <= c.icc_high and c.high == pytest.approx(
        predict.ceiling_tau(c.icc_high)
    )


def test_noise_ceiling_without_repeats_is_none() -> None:
    repeats = pd.DataFrame(
        {"arch": ["a", "b"], "y": [0.0, 1.0], "space": "tss", "dataset": "d", "fidelity": "f"}
    )
    assert predict.noise_ceiling(repeats, "y", [0.0, 1.0, 2.0]) is None
    with pytest.raises(ValueError, match="`level`"):
        predict.noise_ceiling(repeats, "y", [0.0, 1.0, 2.0], level=1.5)
    with pytest.raises(ValueError, match="columns"):
        predict.noise_ceiling(repeats, "z", [0.0, 1.0, 2.0])


def _seed_runs(n_archs: int, n_seeds: int, *, sd_arch: float, sd_seed: float, seed: int = 0,
               seed_shift: float = 0.0):  # fmt: skip
    """Runs y = μ_a + β_s + ε: β_s (sd `seed_shift`) is shared by every run of seed s."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(0, sd_arch, n_archs)
    beta = rng.normal(0, seed_shift, n_seeds) if seed_shift else np.zeros(n_seeds)
    y = mu[:, None] + beta[None, :] + rng.normal(0, sd_seed, (n_archs, n_seeds))
    frame = pd.DataFrame({"arch": np.repeat([f"a{i}" for i in range(n_archs)], n_seeds),
                          "seed": np.tile(np.arange(n_seeds), n_archs), "y": y.ravel(),
                          "space": "tss", "dataset": "d", "fidelity": "f"})  # fmt: skip
    return frame, mu, y


@pytest.mark.parametrize("target_runs", [1, 3])
def test_retest_ceiling_matches_simulated_tau(target_runs: int) -> None:
    # ICC = 1 / (1 + 1) = 0.5: the ceiling is τ-b between μ_a and one run (or a 3-seed mean).
    # A large shift shared by each seed's runs changes no ranking and must not lower it.
    runs, _, _ = _seed_runs(400, 3, sd_arch=1.0, sd_seed=1.0, seed_shift=3.0)
    c = predict.retest_ceiling(runs, "y", target_runs=target_runs)
    truth = predict.ceiling_tau(0.5, target_runs)
    assert c.low < truth < c.high and c.low <= c.tau_max <= c.high
    assert c.icc == pytest.approx(0.5, abs=0.08)
    assert (c.n_archs, c.dof) == (400, 798)
    assert c.low == pytest.approx(predict.ceiling_tau(c.icc_low, target_runs))
    assert c.within_sd == pytest.approx(1.0, abs=0.06)
    _, mu_big, y_big = _seed_runs(20_000, 3, sd_arch=1.0, sd_seed=1.0, seed=1)
    observed = y_big[:, 0] if target_runs == 1 else y_big.mean(axis=1)
    simulated = stats.kendalltau(mu_big, observed)[0]
    assert truth == pytest.approx(simulated, abs=0.01)
    assert c.tau_max == pytest.approx(simulated, abs=0.06)
    # One-way ANOVA counts the shared shifts as noise: far lower on the same runs.
    from calstudy.analysis import seed_variance

    assert seed_variance(runs, "y").icc < c.icc - 0.2


def test_consistency_icc_uses_complete_subjects_only() -> None:
    from calstudy.analysis import consistency_icc

    runs, _, _ = _seed_runs(50, 3, sd_arch=1.0, sd_seed=0.5)
    full = consistency_icc(runs, "y", subject=["arch"])
    dropped = runs.drop(index=[0, 4])  # architecture a0 loses seed 0, a1 loses seed 1
    partial = consistency_icc(dropped, "y", subject=["arch"])
    assert (full.n_subjects, full.n_raters, partial.n_subjects) == (50, 3, 48)
    assert 0 <= full.low <= full.icc <= full.high <= 1
    with pytest.raises(ValueError, match="one row per \\(arch, seed\\)"):
        consistency_icc(pd.concat([runs, runs.iloc[:1]]), "y", subject=["arch"])


def test_ceiling_tau_and_retest_ceiling_reject_bad_input() -> None:
    assert predict.ceiling_tau(0.0) == 0.0 and predict.ceiling_tau(1.0, runs=np.int64(2)) == 1.0
    with pytest.raises(ValueError, match="`icc` in \\[0, 1\\]"):
        predict.ceiling_tau(1.2)
    with pytest.raises(ValueError, match="`runs` to be a positive integer"):
        predict.ceiling_tau(0.5, runs=0)
    single, _, _ = _seed_runs(5, 1, sd_arch=1.0, sd_seed=1.0)
    with pytest.raises(ValueError, match="at least 2 subjects measured by each of at least 2"):
        predict.retest_ceiling(single, "y")
    pair, _, _ = _seed_runs(1, 2, sd_arch=1.0, sd_seed=1.0)
    with pytest.raises(ValueError, match="got 1 complete subjects and 2 seed values"):
        predict.retest_ceiling(pair, "y")
