"""calstudy.teaching: the primer's worked example, its findings and its exercises' answers.

Each finding and answer is checked against the quantity it states, computed here another way,
and each exercise's ``values`` against the property the exercise teaches, on small examples.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from calstudy import catalogue, estimator_figures, metrics, plots, report, teaching


@pytest.fixture(scope="module")
def ex() -> teaching.WorkedExample:
    return teaching.worked_example(2000, 5, overconfidence=2.0, n_bins=10, seed=3)


# ---------------------------------------------------------------------------------------------
# The worked example


def test_labels_are_drawn_as_generator_choice_draws_them() -> None:
    ex = teaching.worked_example(500, 4, overconfidence=1.5, seed=7)
    rng = np.random.default_rng(7)
    z = rng.normal(0.0, 2.0, size=(500, 4))
    expected = [rng.choice(4, p=p) for p in metrics.to_probs(z)]
    np.testing.assert_array_equal(ex.true_logits, z)
    np.testing.assert_array_equal(ex.labels, expected)


def test_the_model_scales_the_true_logits(ex: teaching.WorkedExample) -> None:
    np.testing.assert_allclose(ex.logits, 2.0 * ex.true_logits)
    np.testing.assert_allclose(ex.probs, metrics.to_probs(2.0 * ex.true_logits))
    assert metrics.accuracy(ex.probs, ex.labels) == metrics.accuracy(ex.true_probs, ex.labels)
    assert (ex.n_samples, ex.n_classes) == (2000, 5)
    assert sorted(np.concatenate([ex.fit_idx, ex.eval_idx])) == list(range(2000))
    assert len(ex.fit_idx) == 400  # 20 % fit, as in the paper
    np.testing.assert_allclose(ex.scaled, metrics.to_probs(ex.logits[ex.eval_idx] / ex.temperature))
    assert ex.ece(ex.probs) == metrics.ece(ex.probs, ex.labels, n_bins=10)


def test_temperature_scaling_recovers_gamma() -> None:
    ex = teaching.worked_example(8000, 10, overconfidence=3.0, seed=0)
    assert ex.temperature == pytest.approx(3.0, rel=0.1)


@pytest.mark.parametrize(
    ("gamma", "kind", "model"),
    [(0.5, "underconfident", "underconfident (γ = 0.5)"), (1.0, "calibrated", "the model (γ = 1)"),
     (2.5, "overconfident", "overconfident (γ = 2.5)")],
)  # fmt: skip
def test_the_model_is_named_by_its_gamma(gamma: float, kind: str, model: str) -> None:
    ex = teaching.worked_example(500, 3, overconfidence=gamma)
    assert (ex.kind, ex.model) == (kind, model)
    assert list(ex.models) == ["calibrated (γ = 1)", model]


@pytest.mark.parametrize(
    "kwargs",
    [{"n_samples": 99}, {"n_classes": 1}, {"overconfidence": 0.0}, {"overconfidence": np.nan},
     {"n_bins": 0}, {"n_samples": 500.0}, {"n_samples": True}],
)  # fmt: skip
def test_worked_example_rejects_bad_sizes(kwargs: dict) -> None:
    args = {"n_samples": 200, "n_classes": 3, "overconfidence": 2.0, "n_bins": 5} | kwargs
    with pytest.raises(ValueError, match="Expected n_samples ≥ 100, n_classes ≥ 2"):
        teaching.worked_example(args.pop("n_samples"), args.pop("n_classes"), **args)


# ---------------------------------------------------------------------------------------------
# Findings


def test_takeaway_states_this_runs_numbers(ex: teaching.WorkedExample) -> None:
    text = teaching.takeaway(ex)
    ev = ex.eval_idx
    before = metrics.ece(ex.probs[ev], ex.labels[ev], n_bins=10)
    after = metrics.ece(ex.scaled, ex.labels[ev], n_bins=10)
    assert text.startswith("**Take-away.** On 2,000 simulated predictions")
    for number in (ex.ece(ex.probs), ex.ece(ex.true_probs), before, after):
        assert report.pct(number, 2) in text
    assert f"T = {ex.temperature:.2f}" in text and "ECE with 10 bins is" in text


def test_confidence_and_fullest_bin_findings(ex: teaching.WorkedExample) -> None:
    conf = metrics.to_confidences(ex.probs, ex.labels)[0].mean()
    text = teaching.confidence_finding(ex)
    assert report.pct(metrics.accuracy(ex.probs, ex.labels)) in text and report.pct(conf) in text
    data = plots.reliability_data(ex.probs, ex.labels, n_bins=10)
    fullest = int(np.argmax(data.counts))
    text = teaching.fullest_bin_finding(ex)
    assert report.pct(data.counts[fullest] / data.counts.sum()) in text
    assert re.match(r"In the overconfident model, \d+ of its \d+ non-empty bins", text)


def test_estimator_table_formats_each_estimator_in_its_unit(ex: teaching.WorkedExample) -> None:
    table = teaching.estimator_table(ex)
    values = table.attrs["values"]
    assert list(table.columns) == ["calibrated", "overconfident (γ = 2)", "difference"]
    assert table.index[0] == "ECE, 10 bins" and "Brier score" in table.index
    np.testing.assert_allclose(values["difference"], values["model"] - values["calibrated"])
    assert values.loc["NLL", "model"] == pytest.approx(metrics.nll(ex.probs, ex.labels))
    assert table.loc["ECE, 10 bins", "calibrated"] == report.fixed(
        100 * ex.ece(ex.true_probs), 2, signed=False
    ) + " %"
    assert not table.loc["Brier score"].str.endswith("%").any()
    references = teaching.estimator_references(10)
    assert references.count("\n- ") == len(table) - 1 and "**ECE, 10 bins**" in references


@pytest.mark.parametrize(("gamma", "verdict"), [(2.0, "far from 0"), (1.0, "may hide it")])
def test_ece_difference_finding_says_whether_noise_could_hide_it(gamma: float, verdict: str) -> None:
    ex = teaching.worked_example(1000, 5, overconfidence=gamma, n_bins=10)
    text = teaching.ece_difference_finding(ex, n_sim=10, level=0.9)
    assert verdict in text and "Over 10 simulated test sets of 1,000 predictions" in text


def test_plugin_l2_ece_is_the_debiased_estimate_before_its_correction() -> None:
    ex = teaching.worked_example(3000, 5, overconfidence=2.0)
    plugin = teaching.plugin_l2_ece(ex.probs, ex.labels)
    debiased = catalogue.compute("dL2ECE_15", ex.probs, ex.labels)
    gaps = estimator_figures.bin_gaps(plots.reliability_data(ex.probs, ex.labels, n_bins=15, strategy="mass"))
    correction = (gaps["weight"] * gaps["acc"] * (1 - gaps["acc"]) / (gaps["count"] - 1)).sum()
    assert debiased > 0 and plugin**2 - debiased**2 == pytest.approx(correction, rel=1e-9)


def test_bias_study_and_temperature_findings(ex: teaching.WorkedExample) -> None:
    bias = teaching.bias_study(ex, n_sim=5, level=0.9)
    assert bias.attrs["sizes"] == [250, 500, 1000, 2000]
    assert set(bias["estimator"]) == {"plug-in L2 ECE", plots.estimator_label("dL2ECE_15"),
                                      plots.estimator_label("ECE_em_15")}  # fmt: skip
    temperatures, names = teaching.temperature_grid(ex)
    assert temperatures[0] == 0.5 and temperatures[-1] == 4.0 and len(temperatures) == 41
    assert list(names) == ["NLL", "Brier", "ECE_10"]
    sweep = estimator_figures.temperature_sweep(ex.logits, ex.labels, {"NLL": metrics.nll},
                                    temperatures=temperatures)  # fmt: skip
    best = sweep.loc[sweep["value"].idxmin(), "temperature"]
    assert f"NLL is lowest at T = {best:.2f}; the truth is γ = 2." in teaching.sweep_finding(sweep, ex)
    text = teaching.temperature_finding(ex, n_sim=5, level=0.9)
    assert text.startswith(f"Fitted T = {ex.temperature:.3f}, 90 % bootstrap interval")
    errors = metrics.binned_errors(ex.true_probs, ex.labels)
    text = teaching.bin_count_finding(ex, errors, n_sim=5, level=0.9)
    assert report.pct(errors["ECE"][500], 2) in text and report.pct(errors["MCE"][5], 1) in text


# ---------------------------------------------------------------------------------------------
# Exercises


def test_answer_folds_its_paragraphs_behind_a_dropdown() -> None:
    answer = teaching.Answer(("One.", "Two $x$."), {"x": 1})
    assert answer.markdown() == ":::{admonition} Answer\n:class: dropdown\n\nOne.\n\nTwo $x$.\n:::"


def test_exercise_answers_hold_what_they_teach(ex: teaching.WorkedExample) -> None:
    errors = metrics.binned_errors(ex.true_probs, ex.labels)
    bias = teaching.bias_study(ex, n_sim=5, level=0.9)
    answers = [
        teaching.exercise_perfect_model(ex, n_sim=10, level=0.9),
        teaching.exercise_direction(ex),
        teaching.exercise_mce(ex, errors),
        teaching.exercise_two_estimators(ex),
        teaching.exercise_uniform_model(ex),
        teaching.exercise_debiasing(ex, bias),
    ]
    for answer in answers:
        assert answer.markdown().startswith(":::{admonition} Answer\n:class: dropdown")
        assert re.search(r"\d+\.\d+ %", answer.markdown()), answer.paragraphs[0][:80]
    perfect, direction, mce, two, uniform, debiasing = (a.values for a in answers)
    assert perfect["null_mean"] <= perfect["bound_bins"] <= perfect["bound"] + 1e-12
    assert perfect["bound"] == pytest.approx(0.5 * np.sqrt(10 / 2000))
    under, over = direction[0.5], direction[2.0]
    assert under["acc"] == over["acc"] and under["conf"] < under["acc"] < over["conf"]
    assert over["bins"] <= 10 and under["above"] > over["above"]
    assert mce["worst_gap"] == pytest.approx(metrics.mce(ex.true_probs, ex.labels, n_bins=10))
    assert "{numref}`fig-primer-bins`" in answers[2].markdown()
    for ks, smooth, mean_gap in two.values():
        assert ks >= mean_gap - 1e-12 and smooth >= mean_gap - 1e-6
    assert two["model"][0] == pytest.approx(metrics.ksce(ex.probs, ex.labels))
    assert uniform["uniform"]["NLL"] == pytest.approx(np.log(5))
    assert uniform["uniform"]["Brier"] == pytest.approx(1 - 1 / 5)
    assert uniform["calibrated"]["NLL"] < uniform["uniform"]["NLL"]
    means, dl2 = debiasing["means"], plots.estimator_label("dL2ECE_15")
    assert list(means.index) == [250, 500, 1000, 2000]
    assert (means[dl2] <= means["plug-in L2 ECE"] + 1e-12).all()
    assert 0 <= debiasing["zero_share"] <= 1
    assert f"on {report.pct(debiasing['zero_share'], 0)} of the disjoint test sets of 250" in (
        answers[5].markdown()
    )
