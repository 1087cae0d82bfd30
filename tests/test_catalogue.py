"""Tests for calstudy.catalogue: the column catalogue and full_record."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from calstudy import catalogue, metrics
from calstudy.calibrate import (
    POSTHOC_METHODS,
    SMALL_FIT_SAMPLES,
    SmallSampleWarning,
    fit_temperature,
    heldout_sizes,
    heldout_split,
)
from calstudy.catalogue import CATALOGUE, compute, full_record, metric_columns

# The paper's columns, typed from paper-findings.md (the released CSVs' README).
PAPER_BIN_COUNTS = (5, 10, 15, 20, 25, 50, 100, 200, 500)
PAPER_FAMILIES = ("ECE", "ECE_em", "cwCE", "cwCE_em", "MCE")
PAPER_OTHERS = ("KSCE", "KDECE", "MMCE", "NLL", "Brier")
OURS = ("smECE", "dL2ECE_15")
SCALARS = (
    "acc",
    "correct_confidence",
    "incorrect_confidence",
    "temperature",
    "n_eval",
    "n_heldout",
)


def sample_logits(n: int = 600, k: int = 10, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Moderately overconfident logits: labels drawn from softmax(logits / 2)."""
    rng = np.random.default_rng(seed)
    logits = 3.0 * rng.standard_normal((n, k))
    probs = metrics.to_probs(logits / 2.0)
    labels = (probs.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    return logits, np.minimum(labels, k - 1)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return sample_logits()


@pytest.fixture(scope="module")
def record(data) -> dict[str, float]:
    return full_record(*data, seed=3)


# --------------------------------------------------------------------------------------------
# The catalogue and its column names
# --------------------------------------------------------------------------------------------


def test_catalogue_holds_the_paper_metrics_then_ours() -> None:
    binned = [f"{family}_{n}" for n in PAPER_BIN_COUNTS for family in PAPER_FAMILIES]
    assert list(CATALOGUE) == [*binned, *PAPER_OTHERS, *OURS]
    assert tuple(catalogue.BIN_COUNTS) == PAPER_BIN_COUNTS
    assert [name for name, m in CATALOGUE.items() if not m.paper] == list(OURS)
    for name, metric in CATALOGUE.items():
        assert metric.name == name and metric.description and metric.reference
        assert (metric.family is not None) == (name in binned)
    assert CATALOGUE["cwCE_em_200"].family == "cwCE_em"
    assert dict(CATALOGUE["cwCE_em_200"].params) == {"n_bins": 200}
    assert CATALOGUE["MCE_5"].func is metrics.mce
    assert dict(CATALOGUE["dL2ECE_15"].params) == {"n_bins": 15}


def test_metric_is_immutable() -> None:
    metric = CATALOGUE["ECE_15"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        metric.name = "ECE_16"
    with pytest.raises(TypeError):
        metric.params["n_bins"] = 16


def test_metric_columns_follow_the_paper_order() -> None:
    columns = metric_columns()
    assert columns[:10] == [
        "pre_ECE_5",
        "post_ECE_5",
        "pre_ECE_em_5",
        "post_ECE_em_5",
        "pre_cwCE_5",
        "post_cwCE_5",
        "pre_cwCE_em_5",
        "post_cwCE_em_5",
        "pre_MCE_5",
        "post_MCE_5",
    ]
    assert columns[10] == "pre_ECE_10" and columns[89] == "post_MCE_500"
    assert columns[90:] == [
        "pre_KSCE",
        "post_KSCE",
        "pre_KDECE",
        "post_KDECE",
        "pre_MMCE",
        "post_MMCE",
        "pre_NLL",
        "post_NLL",
        "pre_Brier",
        "post_Brier",
        "pre_smECE",
        "post_smECE",
        "pre_dL2ECE_15",
        "post_dL2ECE_15",
    ]
    assert len(set(columns)) == len(columns) == 104


def test_metric_columns_options() -> None:
    assert len(metric_columns(paper_only=True)) == 100  # the paper's 90 + 10 columns
    assert metric_columns(paper_only=True) == metric_columns()[:100]
    assert metric_columns(("pre",)) == metric_columns()[::2]
    assert metric_columns(("post",), paper_only=True)[-1] == "post_Brier"
    assert metric_columns(()) == []


@pytest.mark.parametrize("prefixes", ["pre", ("pre", ""), (1,)])
def test_metric_columns_rejects_bad_prefixes(prefixes) -> None:
    with pytest.raises(ValueError, match=r"Expected `prefixes` to be a sequence of non-empty"):
        metric_columns(prefixes)


# --------------------------------------------------------------------------------------------
# compute
# --------------------------------------------------------------------------------------------


def test_compute_dispatches_to_the_metric_function(data) -> None:
    logits, labels = data
    probs = metrics.to_probs(logits[:200])
    y = labels[:200]
    assert compute("ECE_15", probs, y) == metrics.ece(probs, y, n_bins=15)
    assert compute("cwCE_em_50", probs, y) == metrics.cw_ece_em(probs, y, n_bins=50)
    assert compute("MCE_500", probs, y) == metrics.mce(probs, y, n_bins=500)
    assert compute("NLL", probs, y) == metrics.nll(probs, y)
    assert compute("dL2ECE_15", probs, y) == metrics.debiased_l2_ece(probs, y, n_bins=15)
    assert isinstance(compute("KSCE", probs, y), float)


def test_compute_tiny_exact_case() -> None:
    probs = np.array([[0.9, 0.1], [0.9, 0.1]])
    assert compute("ECE_15", probs, np.array([0, 1])) == pytest.approx(0.4)
    assert compute("Brier", probs, np.array([0, 0])) == pytest.approx(0.02)


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("ECE_16", r"Unknown metric 'ECE_16'\. Did you mean: ECE_15, "),
        ("nll", r"Unknown metric 'nll'\. Did you mean: NLL\?"),
        ("ece_em_15", r"Did you mean: ECE_em_15"),
        ("accuracy_of_the_network", r"Unknown metric .*See calstudy\.catalogue\.CATALOGUE"),
    ],
)
def test_compute_rejects_unknown_names(name: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        compute(name, np.array([[0.5, 0.5]]), np.array([0]))


# --------------------------------------------------------------------------------------------
# full_record
# --------------------------------------------------------------------------------------------


def test_full_record_has_exactly_the_expected_columns(record) -> None:
    assert list(record) == [*SCALARS, *metric_columns()]
    paper = [
        f"{p}_{f}_{n}" for n in PAPER_BIN_COUNTS for f in PAPER_FAMILIES for p in ("pre", "post")
    ]
    paper += [f"{p}_{m}" for m in PAPER_OTHERS for p in ("pre", "post")]
    assert [c for c in record if c in set(paper)] == paper  # all 100, in the paper's order
    assert all(np.isfinite(v) for v in record.values())
    assert (record["n_heldout"], record["n_eval"]) == (120, 480)


def test_full_record_pre_columns_equal_the_metric_functions(data, record) -> None:
    logits, labels = data
    probs = metrics.to_probs(logits)
    assert record["pre_ECE_15"] == pytest.approx(metrics.ece(probs, labels, n_bins=15), rel=1e-12)
    for name in CATALOGUE:  # the one-pass binned_errors agrees with one call per metric
        assert record[f"pre_{name}"] == pytest.approx(compute(name, probs, labels), rel=1e-9), name
    assert record["acc"] == pytest.approx(np.mean(probs.argmax(1) == labels))
    right, wrong = metrics.confidence_split(probs, labels)
    assert (record["correct_confidence"], record["incorrect_confidence"]) == (right, wrong)
    assert record["correct_confidence"] > record["incorrect_confidence"]


def test_full_record_post_columns_equal_temperature_scaling_by_hand(data, record) -> None:
    logits, labels = data
    fit_idx, eval_idx = heldout_split(len(labels), frac=0.2, seed=3)
    temperature = fit_temperature(logits[fit_idx], labels[fit_idx])
    probs = metrics.to_probs(logits[eval_idx] / temperature)
    y = labels[eval_idx]
    assert record["temperature"] == pytest.approx(temperature, rel=1e-12)
    assert record["temperature"] > 1.3  # the data is overconfident by a factor of 2
    for name in ("ECE_15", "ECE_em_500", "cwCE_5", "MCE_100", "KSCE", "NLL", "Brier", "smECE"):
        assert record[f"post_{name}"] == pytest.approx(compute(name, probs, y), rel=1e-9), name
    assert record["post_NLL"] < record["pre_NLL"]


def test_full_record_is_deterministic_for_a_seed(data, record) -> None:
    assert full_record(*data, seed=3) == record
    other = full_record(*data, seed=4, metrics=["ECE_15"])
    assert other["temperature"] != record["temperature"]
    assert other["pre_ECE_15"] == record["pre_ECE_15"]  # pre columns do not depend on the split


def test_full_record_honours_heldout_frac(data) -> None:
    out = full_record(*data, heldout_frac=0.5, metrics=["NLL"])
    assert (out["n_heldout"], out["n_eval"]) == (300, 300)


def test_full_record_honours_a_given_heldout_idx(data) -> None:
    logits, labels = data
    heldout_idx = np.arange(0, 600, 3)  # every third sample
    out = full_record(logits, labels, heldout_idx=heldout_idx, seed=123, metrics=["ECE_15"])
    eval_idx = np.setdiff1d(np.arange(600), heldout_idx)
    temperature = fit_temperature(logits[heldout_idx], labels[heldout_idx])
    expected = metrics.ece(metrics.to_probs(logits[eval_idx] / temperature), labels[eval_idx])
    assert out["temperature"] == pytest.approx(temperature, rel=1e-12)
    assert out["post_ECE_15"] == pytest.approx(expected, rel=1e-12)
    assert (out["n_heldout"], out["n_eval"]) == (200, 400)
    # The seed does not matter once the split is given.
    assert full_record(logits, labels, heldout_idx=heldout_idx, seed=0, metrics=["ECE_15"]) == out


def test_full_record_metric_subset(data, record) -> None:
    subset = full_record(*data, seed=3, metrics=["NLL", "ECE_em_20", "ECE_5", "NLL"])
    assert list(subset) == [
        *SCALARS,
        "pre_ECE_5",
        "post_ECE_5",
        "pre_ECE_em_20",
        "post_ECE_em_20",
        "pre_NLL",
        "post_NLL",
    ]
    assert all(subset[c] == record[c] for c in subset)


def test_full_record_calls_binned_errors_once_per_stage(data, monkeypatch) -> None:
    calls: list[tuple[int, ...]] = []
    original = metrics.binned_errors

    def counting(probs, labels, **kwargs):
        calls.append(tuple(kwargs.get("bin_counts", metrics.BIN_COUNTS)))
        return original(probs, labels, **kwargs)

    monkeypatch.setattr(catalogue._metrics, "binned_errors", counting)
    full_record(*data)
    assert calls == [PAPER_BIN_COUNTS, PAPER_BIN_COUNTS]
    calls.clear()
    full_record(*data, metrics=["MCE_500", "ECE_15", "cwCE_15", "NLL"])
    assert calls == [(15, 500), (15, 500)]
    calls.clear()
    full_record(*data, metrics=["NLL"])
    assert calls == []


def test_full_record_other_posthoc_methods(data) -> None:
    logits, labels = data
    out = full_record(
        logits, labels, seed=3, metrics=["NLL", "ECE_15"], posthoc=("ts", "vs", "hist", "iso")
    )
    extra = [f"{m}_{c}" for m in ("vs", "hist", "iso") for c in ("ECE_15", "NLL", "Brier", "acc")]
    assert list(out)[-12:] == extra
    fit_idx, eval_idx = heldout_split(600, frac=0.2, seed=3)
    vs = POSTHOC_METHODS["vs"]().fit(logits[fit_idx], labels[fit_idx])
    probs = vs.predict_proba(logits[eval_idx])
    assert out["vs_NLL"] == pytest.approx(metrics.nll(probs, labels[eval_idx]), rel=1e-9)
    assert out["vs_acc"] == pytest.approx(np.mean(probs.argmax(1) == labels[eval_idx]))
    for method in ("vs", "hist", "iso"):
        assert 0 <= out[f"{method}_ECE_15"] <= 1 and np.isfinite(out[f"{method}_NLL"])
        assert out[f"{method}_ECE_15"] < out["pre_ECE_15"] / 1.5  # fixes the overconfidence
    # Without "ts" listed, temperature scaling still defines the post_ columns.
    assert (
        full_record(logits, labels, seed=3, metrics=["NLL"], posthoc=())["post_NLL"]
        == (out["post_NLL"])
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"metrics": ["ECE_16"]}, r"Unknown metric 'ECE_16'\. Did you mean: ECE_15"),
        ({"metrics": "NLL"}, r"Expected `metrics` to be a sequence of metric names, got 'NLL'"),
        ({"posthoc": ("ts", "platt")}, r"Expected `posthoc` to name methods among .*\['platt'\]"),
        ({"posthoc": "vs"}, r"Expected `posthoc` to be a sequence of method names, got 'vs'"),
        ({"heldout_frac": 1.5}, r"Expected `heldout_frac` to be in \(0, 1\), got 1\.5\."),
        ({"heldout_frac": 1.0}, r"Expected `heldout_frac` to be in \(0, 1\), got 1\.0\."),
        ({"heldout_frac": None}, r"Expected `heldout_frac` to be in \(0, 1\), got None \(NoneType\)"),
        (
            {"heldout_frac": 0.001},
            r"Expected `heldout_frac` to hold out at least 2 of the 600 samples to fit on, "
            r"got round\(0\.001 \* 600\) = 1\.",
        ),
        (
            {"heldout_frac": 0.999},
            r"Expected `heldout_frac` to leave at least 2 of the 600 samples to evaluate on, got 1",
        ),
        ({"seed": 1.5}, r"Expected `seed` to be an integer, got 1\.5\."),
        ({"heldout_idx": [0, 0, 1]}, r"Expected `heldout_idx` to hold distinct indices"),
        ({"heldout_idx": [0, 600]}, r"Expected `heldout_idx` to be in \[0, 599\]"),
        ({"heldout_idx": [0.0, 1.0]}, r"Expected `heldout_idx` to be a 1-D array of integer"),
        (
            {"heldout_idx": np.arange(599)},
            r"Expected `heldout_idx` to leave at least 2 of the 600 samples to evaluate on, got 1\.",
        ),
        (
            {"heldout_idx": [7]},
            r"Expected `heldout_idx` to hold out at least 2 of the 600 samples to fit on, got 1\.",
        ),
        ({"heldout_idx": []}, r"Expected `heldout_idx` to be a 1-D array of integer"),
    ],
)
def test_full_record_rejects_bad_options(data, kwargs, match: str, monkeypatch) -> None:
    def no_work(*args, **kwargs):
        raise AssertionError("full_record computed a metric before rejecting its options")

    monkeypatch.setattr(catalogue._metrics, "to_probs", no_work)
    with pytest.raises(ValueError, match=match):
        full_record(*data, **kwargs)


@pytest.mark.parametrize("n", [1, 3])
def test_full_record_on_too_few_samples_is_an_error(n: int) -> None:
    logits, labels = sample_logits(n, 3)
    with pytest.raises(
        ValueError,
        match=rf"Expected `logits` to hold at least 4 samples \(2 to fit the temperature on, 2 to "
        rf"evaluate on\), got {n}\.",
    ):
        full_record(logits, labels)


def test_full_record_on_a_small_heldout_part_warns_with_its_size() -> None:
    logits, labels = sample_logits(100, 3)  # 20 held out
    with pytest.warns(SmallSampleWarning, match=r"on only 20 samples \(fewer than 100\)") as caught:
        out = full_record(logits, labels, metrics=["ECE_15"])
    assert out["n_heldout"] == 20
    assert [w.filename for w in caught if w.category is SmallSampleWarning] == [__file__]


@pytest.mark.parametrize("preset", ["tiny", "demo"])
def test_the_sweep_presets_hold_out_enough_not_to_warn(preset: str) -> None:
    from calstudy.sweep import PRESETS

    config = PRESETS[preset]
    n_fit, _ = heldout_sizes(config.n_test, frac=config.heldout_frac)
    assert n_fit >= SMALL_FIT_SAMPLES


def test_full_record_on_the_tiny_presets_split_does_not_warn() -> None:
    """The tiny sweep preset evaluates on 500 test images: 100 held out, no warning."""
    logits, labels = sample_logits(500, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallSampleWarning)
        assert full_record(logits, labels, metrics=["ECE_15"])["n_heldout"] == 100


@pytest.mark.parametrize(
    ("logits", "labels", "match"),
    [
        (np.array([[np.nan, 0.0], [1.0, 0.0]]), [0, 1], r"Expected `logits` to be finite"),
        (np.zeros(4), [0, 1, 0, 1], r"Expected `logits` to be 2-D"),
        (np.zeros((4, 2)), [0, 1, 0], r"Expected `labels` to have shape \(4,\)"),
        (np.zeros((4, 2)), [0, 1, 0, 2], r"Expected `labels` to be in \[0, 1\]"),
    ],
)
def test_full_record_rejects_bad_data(logits, labels, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        full_record(logits, np.asarray(labels))


def test_every_store_column_with_an_underscore_is_recognised_and_renamed() -> None:
    """The names rule and the tables' labels cover the whole schema, not a sample of it."""
    from calstudy import schema

    columns = [c for group in ("metrics", "robustness", "features") for c in schema.GROUPS[group]
               if "_" in c and c not in ("ood_dataset", "arch_hash")]  # fmt: skip
    assert len(columns) > 150
    for column in columns:
        assert catalogue.is_column_name(column), column
        assert catalogue.reader_label(column) != column, column
        assert catalogue.prose_name(column) != column, column
