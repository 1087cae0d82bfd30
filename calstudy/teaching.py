"""The calibration primer's worked example, and the lecture's findings written from one run.

The primer (``notebooks/primer.py``) teaches calibration on a model whose truth is known: true
logits :math:`z`, labels drawn from :math:`\\mathrm{softmax}(z)`, and a model that reports
:math:`\\mathrm{softmax}(\\gamma z)`. This module builds that example (:func:`worked_example`),
computes what the lecture states about it and writes it in words (``*_finding``), and
computes its exercises' answers (``exercise_*``), each an :class:`Answer` whose text the page
folds behind a dropdown and whose ``values`` the chapter's checks assert on. The pictures are
drawn by :mod:`calstudy.plots`; every number is formatted by :mod:`calstudy.report`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from calstudy import catalogue, differences, estimator_figures, metrics, plots, report
from calstudy.calibrate import TemperatureScaling, fit_temperature, heldout_split

__all__ = [
    "Answer",
    "WorkedExample",
    "worked_example",
    "takeaway",
    "confidence_finding",
    "fullest_bin_finding",
    "PRIMER_ESTIMATORS",
    "estimator_table",
    "estimator_references",
    "ece_difference_finding",
    "plugin_l2_ece",
    "bias_study",
    "temperature_grid",
    "sweep_finding",
    "bin_count_finding",
    "temperature_finding",
    "exercise_perfect_model",
    "exercise_direction",
    "exercise_mce",
    "exercise_two_estimators",
    "exercise_uniform_model",
    "exercise_debiasing",
]

#: The estimators of the primer's table, as catalogue names (``{n}``: the chapter's ``n_bins``).
PRIMER_ESTIMATORS = ("ECE_{n}", "ECE_em_{n}", "cwCE_{n}", "cwCE_em_{n}", "MCE_{n}", "KSCE",
                     "KDECE", "MMCE", "smECE", "dL2ECE_15", "NLL", "Brier")  # fmt: skip
_PROPER_SCORES = ("NLL", "Brier")
#: Test-set sizes of the finite-sample bias figure (those between 30 and N are used, and N).
_BIAS_SIZES = (250, 500, 1000, 2000, 5000, 10_000)
_CALIBRATED = "calibrated (γ = 1)"


@dataclass(frozen=True)
class Answer:
    """An exercise's answer: Markdown paragraphs and the numbers they state.

    Parameters
    ----------
    paragraphs : tuple of str
        The answer, MyST Markdown (maths between ``$``), one string per paragraph.
    values : mapping
        The numbers behind it, by name, for the chapter's checks.
    """

    paragraphs: tuple[str, ...]
    values: Mapping[str, Any] = field(default_factory=dict)

    def markdown(self) -> str:
        """The answer folded behind a dropdown admonition titled "Answer"."""
        body = "\n\n".join(self.paragraphs)
        return f":::{{admonition}} Answer\n:class: dropdown\n\n{body}\n:::"


@dataclass(frozen=True)
class WorkedExample:
    """The primer's simulated predictions and their temperature scaling.

    Build it with :func:`worked_example`.

    Parameters
    ----------
    true_logits : ndarray of shape (N, K)
        :math:`z`, drawn from :math:`\\mathcal N(0, 2^2)`.
    labels : ndarray of shape (N,), int
        :math:`y_i \\sim \\mathrm{softmax}(z_i)`.
    overconfidence : float
        :math:`\\gamma`; the model's logits are :math:`\\gamma z`.
    n_bins : int
        Bins of the reliability diagrams and of the headline ECE.
    seed : int
        Seed of the draws and of the 20/80 split.
    fit_idx, eval_idx : ndarray of int
        The 20 % the temperature is fitted on and the 80 % it is evaluated on.
    temperature : float
        The temperature fitted on ``fit_idx``.
    """

    true_logits: np.ndarray
    labels: np.ndarray
    overconfidence: float
    n_bins: int
    seed: int
    fit_idx: np.ndarray
    eval_idx: np.ndarray
    temperature: float

    @property
    def n_samples(self) -> int:
        return len(self.labels)

    @property
    def n_classes(self) -> int:
        return int(self.true_logits.shape[1])

    @property
    def logits(self) -> np.ndarray:
        """The model's logits, :math:`\\gamma z`."""
        return self.overconfidence * self.true_logits

    @property
    def true_probs(self) -> np.ndarray:
        """:math:`\\mathrm{softmax}(z)`: perfectly calibrated by construction."""
        return metrics.to_probs(self.true_logits)

    @property
    def probs(self) -> np.ndarray:
        """The model's probabilities, :math:`\\mathrm{softmax}(\\gamma z)`."""
        return metrics.to_probs(self.logits)

    @property
    def scaled(self) -> np.ndarray:
        """The model's probabilities on ``eval_idx`` after temperature scaling."""
        return metrics.to_probs(self.logits[self.eval_idx] / self.temperature)

    @property
    def kind(self) -> str:
        """"underconfident", "calibrated" or "overconfident", from :math:`\\gamma`."""
        return ["underconfident", "calibrated", "overconfident"][
            int(np.sign(self.overconfidence - 1)) + 1
        ]

    @property
    def model(self) -> str:
        """The model's name in titles and tables, e.g. "overconfident (γ = 2)"."""
        if self.kind == "calibrated":
            return "the model (γ = 1)"
        return f"{self.kind} (γ = {self.overconfidence:g})"

    @property
    def models(self) -> dict[str, np.ndarray]:
        """The calibrated model's and the studied model's probabilities, by name."""
        return {_CALIBRATED: self.true_probs, self.model: self.probs}

    def ece(self, probs: object, labels: object | None = None) -> float:
        """ECE with the example's ``n_bins`` (on its labels unless ``labels`` is given)."""
        return metrics.ece(probs, self.labels if labels is None else labels, n_bins=self.n_bins)


def worked_example(
    n_samples: int = 10_000,
    n_classes: int = 10,
    *,
    overconfidence: float = 2.0,
    n_bins: int = 15,
    seed: int = 0,
) -> WorkedExample:
    """Draw the primer's example and fit temperature scaling on 20 % of it, as the paper does.

    Logits :math:`z_{ik} \\sim \\mathcal N(0, 2^2)`; labels
    :math:`y_i \\sim \\mathrm{Categorical}(\\mathrm{softmax}(z_i))`, drawn by inverting each
    row's cumulative probabilities with one uniform per row (what ``Generator.choice`` does);
    the model reports :math:`\\mathrm{softmax}(\\gamma z)`.

    Raises
    ------
    ValueError
        If ``n_samples < 100``, ``n_classes < 2``, ``overconfidence <= 0`` or ``n_bins < 1``.

    Examples
    --------
    >>> ex = worked_example(500, 3, overconfidence=2.0, n_bins=5)
    >>> ex.kind, ex.probs.shape, len(ex.fit_idx) + len(ex.eval_idx)
    ('overconfident', (500, 3), 500)
    """
    if (
        isinstance(n_samples, bool)
        or not isinstance(n_samples, int | np.integer)
        or n_samples < 100
        or not isinstance(n_classes, int | np.integer)
        or n_classes < 2
        or not np.isfinite(overconfidence)
        or overconfidence <= 0
        or not isinstance(n_bins, int | np.integer)
        or n_bins < 1
    ):
        raise ValueError(
            "Expected n_samples ≥ 100, n_classes ≥ 2, overconfidence > 0 and n_bins ≥ 1 "
            f"(integers but γ), got {n_samples!r}, {n_classes!r}, {overconfidence!r}, "
            f"{n_bins!r}."
        )
    rng = np.random.default_rng(seed)
    true_logits = rng.normal(0.0, 2.0, size=(n_samples, n_classes))
    cdf = metrics.to_probs(true_logits).cumsum(axis=1)
    cdf /= cdf[:, -1:]
    labels = (cdf <= rng.random(n_samples)[:, None]).sum(axis=1)
    logits = overconfidence * true_logits
    fit_idx, eval_idx = heldout_split(n_samples, frac=0.2, seed=seed)
    scaler = TemperatureScaling().fit(logits[fit_idx], labels[fit_idx])
    return WorkedExample(true_logits, labels, float(overconfidence), int(n_bins), seed,
                         fit_idx, eval_idx, float(scaler.temperature))  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The lecture's findings


def takeaway(ex: WorkedExample) -> str:
    """The answer box: the model's ECE, the calibrated model's (the estimator's bias), and what
    temperature scaling finds and does."""
    before = ex.ece(ex.probs[ex.eval_idx], ex.labels[ex.eval_idx])
    after = ex.ece(ex.scaled, ex.labels[ex.eval_idx])
    return (
        f"**Take-away.** On {ex.n_samples:,} simulated predictions whose logits are "
        f"{ex.overconfidence:g} times the true ones ({ex.kind}), the ECE with {ex.n_bins} bins is "
        f"{report.pct(ex.ece(ex.probs), 2)}; the same predictions with the true probabilities "
        f"score {report.pct(ex.ece(ex.true_probs), 2)}, which is not miscalibration but the "
        "estimator's bias on a finite test set. Temperature scaling fitted on 20 % of the "
        f"predictions finds T = {ex.temperature:.2f} (the truth is {ex.overconfidence:g}) and "
        f"takes the ECE on the other 80 % from {report.pct(before, 2)} to {report.pct(after, 2)}."
    )


def confidence_finding(ex: WorkedExample) -> str:
    """Both models' accuracy (the same) and mean confidences (not)."""
    conf = {name: metrics.to_confidences(p, ex.labels)[0].mean() for name, p in ex.models.items()}
    return (
        f"Both models are right on {report.pct(metrics.accuracy(ex.probs, ex.labels))} of the "
        f"{ex.n_samples:,} predictions; the mean confidence is {report.pct(conf[_CALIBRATED])} "
        f"for the calibrated model and {report.pct(conf[ex.model])} for the {ex.kind} one."
    )


def fullest_bin_finding(ex: WorkedExample) -> str:
    """How many of the model's bins end below the diagonal, and its fullest bin."""
    gaps = estimator_figures.bin_gaps(plots.reliability_data(ex.probs, ex.labels, n_bins=ex.n_bins))
    fullest = gaps.loc[gaps["weight"].idxmax()]
    return (
        f"In the {ex.kind} model, {int((gaps['gap'] > 0).sum())} of its {len(gaps)} non-empty "
        f"bins end below the diagonal. The fullest bin, confidence {fullest['lower']:.2f}–"
        f"{fullest['upper']:.2f}, holds {report.pct(fullest['weight'])} of the predictions with "
        f"an accuracy of {report.pct(fullest['acc'])} against a mean confidence of "
        f"{report.pct(fullest['conf'])}."
    )


def _estimator_names(n_bins: int) -> list[str]:
    names = [name.format(n=n_bins) for name in PRIMER_ESTIMATORS]
    return [name for name in names if name in catalogue.CATALOGUE]


def estimator_table(ex: WorkedExample) -> pd.DataFrame:
    """Every estimator of :data:`PRIMER_ESTIMATORS` on both models and their difference,
    formatted for the page: calibration errors in percent, NLL and Brier in their units.

    The numbers behind it are in ``attrs["values"]`` (a DataFrame, fractions).
    """
    names = _estimator_names(ex.n_bins)
    values = pd.DataFrame(
        {"calibrated": [catalogue.compute(n, ex.true_probs, ex.labels) for n in names],
         "model": [catalogue.compute(n, ex.probs, ex.labels) for n in names]},
        index=names,
    )  # fmt: skip
    values["difference"] = values["model"] - values["calibrated"]

    def shown(name: str, value: float, column: str) -> str:
        signed = column == "difference"
        if name in _PROPER_SCORES:
            return report.fixed(value, 3, signed=signed)
        return report.fixed(100 * value, 2, signed=signed) + " %"

    table = pd.DataFrame(
        {column: [shown(n, v, column) for n, v in values[column].items()] for column in values},
        index=pd.Index([plots.estimator_label(n) for n in names], name="estimator"),
    ).rename(columns={"model": ex.model})
    table.attrs["values"] = values
    return table


def estimator_references(n_bins: int) -> str:
    """A Markdown list: each estimator of the table and the catalogue's reference for it."""
    return "\n".join(
        f"- **{plots.estimator_label(name)}**: {catalogue.CATALOGUE[name].reference}"
        for name in _estimator_names(n_bins)
    )


def ece_difference_finding(ex: WorkedExample, *, n_sim: int, level: float) -> str:
    """The ECE gap between the models over ``n_sim`` test sets relabelled from the truth."""
    gap = differences.simulated_difference(
        ex.ece, ex.probs, ex.true_probs, probs_b=ex.true_probs, n_sim=n_sim, level=level,
        seed=ex.seed,
    )  # fmt: skip
    verdict = ("far from 0, so no test set of this size would hide it." if gap.low > 0
               else "a range that reaches 0, so a test set of this size may hide it.")  # fmt: skip
    return (
        f"ECE with {ex.n_bins} bins: calibrated {report.pct(ex.ece(ex.true_probs), 2)}, "
        f"{ex.model} {report.pct(ex.ece(ex.probs), 2)}. Over {n_sim} simulated test sets of "
        f"{gap.n:,} predictions, the difference is {_points(gap.estimate)} percentage points on "
        f"average, with {report.pct(level, 0)} of the test sets in {_range(gap)}: {verdict}"
    )


def _points(x: float) -> str:
    return report.fixed(100 * x, 2)


def _range(result: Any) -> str:
    return f"[{_points(result.low)}, {_points(result.high)}]"


def plugin_l2_ece(probs: object, labels: object) -> float:
    """The L2 ECE without the debiased estimator's variance correction, from the same 15
    equal-mass bins: :math:`\\sqrt{\\sum_b \\frac{|B_b|}{N} (\\mathrm{conf}(B_b) -
    \\mathrm{acc}(B_b))^2}`."""
    gaps = estimator_figures.bin_gaps(plots.reliability_data(probs, labels, n_bins=15, strategy="mass"))
    return float(np.sqrt((gaps["weight"] * gaps["gap"] ** 2).sum()))


def bias_study(ex: WorkedExample, *, n_sim: int, level: float) -> pd.DataFrame:
    """The plug-in L2 ECE, the debiased L2 ECE and the equal-mass ECE of the calibrated model
    on ``n_sim`` test sets of each size (:func:`calstudy.estimator_figures.bias_by_size`).

    ``attrs["sizes"]`` holds the sizes: :data:`_BIAS_SIZES` between 30 and N, and N.
    """
    estimators: dict[str, Callable[..., float]] = {
        "plug-in L2 ECE": plugin_l2_ece,
        plots.estimator_label("dL2ECE_15"): catalogue.CATALOGUE["dL2ECE_15"],
        plots.estimator_label("ECE_em_15"): catalogue.CATALOGUE["ECE_em_15"],
    }
    sizes = sorted({s for s in (*_BIAS_SIZES, ex.n_samples) if 30 <= s <= ex.n_samples})
    bias = estimator_figures.bias_by_size(ex.true_probs, ex.true_probs, estimators, sizes=sizes,
                              n_sim=n_sim, level=level, seed=ex.seed)  # fmt: skip
    bias.attrs["sizes"] = sizes
    return bias


def temperature_grid(ex: WorkedExample) -> tuple[np.ndarray, dict[str, str]]:
    """Temperatures from γ/4 to 2γ (41, log-spaced) and the swept estimators' labels by
    catalogue name (NLL, Brier, the ECE with ``n_bins``)."""
    gamma = ex.overconfidence
    names = {"NLL": "NLL", "Brier": "Brier", f"ECE_{ex.n_bins}": f"ECE, {ex.n_bins} bins"}
    return np.round(np.geomspace(gamma / 4, gamma * 2, 41), 4), names


def sweep_finding(sweep: pd.DataFrame, ex: WorkedExample) -> str:
    """Where each estimator of a :func:`calstudy.estimator_figures.temperature_sweep` is lowest."""
    best = sweep.loc[sweep.groupby("estimator", sort=False)["value"].idxmin()]
    return (
        "Over this grid of temperatures, "
        + report.join(f"{r.estimator} is lowest at T = {r.temperature:.2f}"
                      for r in best.itertuples())  # fmt: skip
        + f"; the truth is γ = {ex.overconfidence:g}. Temperature scaling chooses T by "
        "minimising NLL on held-out predictions, which is why it recovers γ."
    )


def bin_count_finding(
    ex: WorkedExample, errors: Mapping[str, Mapping[int, float]], *, n_sim: int, level: float
) -> str:
    """The calibrated model's ECE with 5 and with 500 bins, their difference over ``n_sim``
    relabelled test sets, and its MCE at both; ``errors`` is
    :func:`calstudy.metrics.binned_errors` of the calibrated model."""
    gap = differences.simulated_difference(
        lambda p, y: metrics.ece(p, y, n_bins=500), ex.true_probs, ex.true_probs,
        metric_b=lambda p, y: metrics.ece(p, y, n_bins=5), n_sim=n_sim, level=level,
        seed=ex.seed,
    )  # fmt: skip
    return (
        f"The ECE of the perfectly calibrated model is {report.pct(errors['ECE'][5], 2)} with 5 "
        f"bins and {report.pct(errors['ECE'][500], 2)} with 500; over {n_sim} simulated test "
        f"sets the difference (500 − 5 bins) averages {_points(gap.estimate)} percentage "
        f"points, {report.pct(level, 0)} range {_range(gap)}. The MCE goes from "
        f"{report.pct(errors['MCE'][5], 1)} to {report.pct(errors['MCE'][500], 1)}."
    )


def temperature_finding(ex: WorkedExample, *, n_sim: int, level: float) -> str:
    """The fitted temperature with a bootstrap interval over the fitting set, and the ECE
    before and after scaling with the change over ``n_sim`` relabelled evaluation sets."""
    fit, ev = ex.fit_idx, ex.eval_idx
    _, t_low, t_high = differences.bootstrap_statistic(
        lambda rows: fit_temperature(rows[:, :-1], rows[:, -1].astype(int)),
        np.column_stack([ex.logits[fit], ex.labels[fit]]), n_boot=n_sim, level=level,
        seed=ex.seed,
    )  # fmt: skip
    gap = differences.simulated_difference(
        ex.ece, ex.scaled, ex.true_probs[ev], probs_b=ex.probs[ev], n_sim=n_sim, level=level,
        seed=ex.seed,
    )  # fmt: skip
    before, after = ex.ece(ex.probs[ev], ex.labels[ev]), ex.ece(ex.scaled, ex.labels[ev])
    return (
        f"Fitted T = {ex.temperature:.3f}, {report.pct(level, 0)} bootstrap interval over the "
        f"fitting set [{t_low:.3f}, {t_high:.3f}]; the true γ is {ex.overconfidence:g}. ECE "
        f"with {ex.n_bins} bins on the evaluation set: {report.pct(before, 2)} before, "
        f"{report.pct(after, 2)} after. Over {n_sim} simulated evaluation sets of {gap.n:,} "
        f"(T held fixed) the change averages {_points(gap.estimate)} percentage points, "
        f"{report.pct(level, 0)} range {_range(gap)}."
    )


# ---------------------------------------------------------------------------------------------
# Exercises


def exercise_perfect_model(ex: WorkedExample, *, n_sim: int, level: float) -> Answer:
    """Exercise 1: why a perfectly calibrated model's ECE is not 0, and the bound on it.

    ``values``: ``null_mean`` (mean ECE over ``n_sim`` relabelled test sets), ``bound_bins``
    (:math:`\\frac{1}{2N}\\sum_b \\sqrt{|B_b|}` for these bins) and ``bound``
    (:math:`\\frac12\\sqrt{n/N}`); ``null_mean <= bound_bins <= bound`` always.
    """
    null = estimator_figures.bias_by_size(ex.true_probs, ex.true_probs, {"ECE": ex.ece}, sizes=[ex.n_samples],
                              n_sim=n_sim, level=level, seed=ex.seed).iloc[0]  # fmt: skip
    counts = plots.reliability_data(ex.true_probs, ex.labels, n_bins=ex.n_bins).counts
    bound_bins = float(np.sqrt(counts).sum() / (2 * ex.n_samples))
    bound = float(0.5 * np.sqrt(ex.n_bins / ex.n_samples))
    return Answer(
        (
            "Sampling noise. Each bin's accuracy $\\mathrm{acc}(B_b)$ is a mean of $|B_b|$ coin "
            "flips whose expected value is $\\mathrm{conf}(B_b)$, so it misses it by about "
            "$\\sqrt{\\mathrm{acc}(1 - \\mathrm{acc}) / |B_b|} \\le 1 / (2\\sqrt{|B_b|})$, and the "
            "absolute values in the ECE never cancel. Summing over bins,",
            "$$\\mathbb{E}[\\mathrm{ECE}] \\le \\sum_b \\frac{|B_b|}{N} \\cdot "
            "\\frac{1}{2\\sqrt{|B_b|}} = \\frac{1}{2N} \\sum_b \\sqrt{|B_b|} \\le "
            "\\frac12 \\sqrt{\\frac{n}{N}},$$",
            f"which shrinks like $1/\\sqrt N$ and grows like $\\sqrt n$. Here the ECE is "
            f"{report.pct(ex.ece(ex.true_probs), 2)}; over {n_sim} test sets redrawn from the "
            f"truth it averages {report.pct(null['mean'], 2)} ({report.pct(level, 0)} range "
            f"{report.pct(null['low'], 2)} to {report.pct(null['high'], 2)}), under the bound "
            f"{report.pct(bound_bins, 2)} for these bins and {report.pct(bound, 2)} for any "
            f"{ex.n_bins} bins of {ex.n_samples:,} predictions.",
        ),
        {"null_mean": float(null["mean"]), "bound_bins": bound_bins, "bound": bound},
    )


def exercise_direction(ex: WorkedExample) -> Answer:
    """Exercise 2: γ = 0.5 against γ = 2, bars above or below the diagonal.

    ``values``: for each γ (``0.5``, ``2.0``) a dict of ``acc``, ``conf`` (mean confidence),
    ``above`` (bins ending above the diagonal) and ``bins`` (non-empty bins).
    """
    contrast = {}
    for gamma in (0.5, 2.0):
        p = metrics.to_probs(gamma * ex.true_logits)
        g = estimator_figures.bin_gaps(plots.reliability_data(p, ex.labels, n_bins=ex.n_bins))
        contrast[gamma] = {"acc": metrics.accuracy(p, ex.labels), "conf": float(g["conf"] @ g["weight"]),
                           "above": int((g["gap"] < 0).sum()), "bins": len(g)}  # fmt: skip
    under, over = contrast[0.5], contrast[2.0]
    verdict = ("the model is underconfident, its mean confidence" if under["conf"] < under["acc"]
               else "yet its mean confidence")  # fmt: skip
    return Answer(
        (
            f"With $\\gamma = 0.5$ {under['above']} of the {under['bins']} non-empty bins end "
            f"*above* the diagonal: {verdict} {report.pct(under['conf'])} against its accuracy "
            f"{report.pct(under['acc'])}. With $\\gamma = 2$ "
            f"{'only ' if over['above'] < under['above'] else ''}{over['above']} of "
            f"{over['bins']} do: mean confidence {report.pct(over['conf'])}, accuracy "
            f"{report.pct(over['acc'])}.",
            "The accuracy is the same for every $\\gamma$: multiplying all logits of a "
            "prediction by the same positive number keeps their order, so the predicted class, "
            "and whether it is right, do not change. Only the confidence moves: $\\gamma < 1$ "
            "flattens the softmax towards $1/K$, $\\gamma > 1$ sharpens it towards 1. This is "
            "why temperature scaling cannot change a network's accuracy.",
        ),
        contrast,
    )


def exercise_mce(ex: WorkedExample, errors: Mapping[str, Mapping[int, float]]) -> Answer:
    """Exercise 3: which bin sets the calibrated model's MCE, and MCE ≥ ECE.

    ``values``: ``mce`` and ``worst_gap`` (the largest absolute bin gap, equal to it).
    """
    gaps = estimator_figures.bin_gaps(plots.reliability_data(ex.true_probs, ex.labels, n_bins=ex.n_bins))
    worst = gaps.loc[gaps["gap"].abs().idxmax()]
    mce = metrics.mce(ex.true_probs, ex.labels, n_bins=ex.n_bins)
    return Answer(
        (
            f"The MCE, {report.pct(mce, 2)}, is the gap of the bin {worst['lower']:.2f}–"
            f"{worst['upper']:.2f}, which holds {int(worst['count']):,} predictions; the median "
            f"bin holds {int(gaps['count'].median()):,}. A bin of few predictions has the "
            "noisiest accuracy, so the maximum is usually found in the sparsest bins, and it "
            f"grows with the number of bins: {report.pct(errors['MCE'][5], 1)} with 5 bins, "
            f"{report.pct(errors['MCE'][500], 1)} with 500 ({{numref}}`fig-primer-bins`).",
            "The MCE can never be smaller than the ECE with the same bins: the ECE is a weighted "
            "mean of the same gaps, and a mean never exceeds the maximum (here "
            f"{report.pct(ex.ece(ex.true_probs), 2)} against the MCE above). On a calibrated "
            "model the MCE measures the noise of the sparsest bin, not the model.",
        ),
        {"mce": float(mce), "worst_gap": float(abs(worst["gap"]))},
    )


def _ks_smooth_mean(probs: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    conf, correct = metrics.to_confidences(probs, labels)
    return (metrics.ksce(probs, labels), metrics.smooth_ece(probs, labels),
            float(abs(conf.mean() - correct.mean())))  # fmt: skip


def exercise_two_estimators(ex: WorkedExample) -> Answer:
    """Exercise 4: KSCE and smooth ECE against ``|mean confidence − accuracy|``, on the model and
    on a mixed model (γ = 2 above the median true confidence, 0.5 below).

    ``values``: ``model`` and ``mixed``, each ``(ksce, smooth_ece, mean_gap)``; both
    estimators are at least ``mean_gap`` on any predictions.
    """
    top = ex.true_probs.max(axis=1)
    mixed = metrics.to_probs(np.where(top > np.median(top), 2.0, 0.5)[:, None] * ex.true_logits)
    ks_m, sm_m, mean_m = _ks_smooth_mean(ex.probs, ex.labels)
    ks_x, sm_x, mean_x = _ks_smooth_mean(mixed, ex.labels)
    return Answer(
        (
            f"KSCE = {report.pct(ks_m, 3)}, smooth ECE = {report.pct(sm_m, 3)} and |mean "
            f"confidence − accuracy| = {report.pct(mean_m, 3)}. When the residual $c - a$ has "
            "one sign at almost every confidence, the running sum in KSCE only grows, so its "
            "maximum is the full sum $\\bigl|\\frac1N \\sum_i (a_i - c_i)\\bigr|$; and the "
            "smoothed residual keeps one sign, so the area of its absolute value is the "
            "absolute value of its area, which is the same sum.",
            "For a model whose predictions above the median confidence have $\\gamma = 2$ and "
            "the others $\\gamma = 0.5$, the errors of opposite sign cancel in the sum: |mean "
            f"confidence − accuracy| = {report.pct(mean_x, 2)}, while KSCE = "
            f"{report.pct(ks_x, 2)} and smooth ECE = {report.pct(sm_x, 2)}. In general both are "
            "at least the first: the maximum of a running sum is at least its final value, and "
            "the area of an absolute value at least the absolute value of the area.",
        ),
        {"model": (ks_m, sm_m, mean_m), "mixed": (ks_x, sm_x, mean_x)},
    )


def exercise_uniform_model(ex: WorkedExample) -> Answer:
    """Exercise 5: the model that predicts 1/K everywhere, by ECE, NLL and Brier.

    ``values``: ``uniform`` and ``calibrated``, each a dict of ``ECE_<n_bins>``, ``NLL`` and
    ``Brier``; the uniform model's NLL is log K and its Brier score 1 − 1/K.
    """
    uniform = np.full((ex.n_samples, ex.n_classes), 1.0 / ex.n_classes)
    ece = f"ECE_{ex.n_bins}"
    scores = {name: {m: catalogue.compute(m, p, ex.labels) for m in (ece, "NLL", "Brier")}
              for name, p in (("uniform", uniform), ("calibrated", ex.true_probs))}  # fmt: skip
    u, c = scores["uniform"], scores["calibrated"]
    return Answer(
        (
            f"The uniform model is right {report.pct(metrics.accuracy(uniform, ex.labels))} of "
            "the time (it always predicts class 0, the lowest index among ties) with confidence "
            f"{report.pct(1 / ex.n_classes)}: its ECE is {report.pct(u[ece], 2)}, against "
            f"{report.pct(c[ece], 2)} for the calibrated model. Its NLL is $\\log K$ = "
            f"{u['NLL']:.3f} and its Brier score $1 - 1/K$ = {u['Brier']:.3f}, against "
            f"{c['NLL']:.3f} and {c['Brier']:.3f}.",
            "A proper score rewards *sharpness* as well as calibration: among calibrated "
            "models, the one whose probabilities separate the classes scores better. The ECE "
            "sees only whether the confidences match the accuracies, so a useless model can "
            "have a low ECE. Report a calibration error beside accuracy or a proper score, "
            "never alone.",
        ),
        scores,
    )


def exercise_debiasing(ex: WorkedExample, bias: pd.DataFrame) -> Answer:
    """Exercise 6: which estimator of :func:`bias_study` stays closest to 0, and why the
    debiased L2 ECE is clipped to 0 on some test sets.

    ``values``: ``means`` (each estimator's mean at every size, a DataFrame) and
    ``zero_share`` (share of disjoint test sets of the smallest size where it is 0).
    """
    size = min(bias.attrs["sizes"])
    smallest = bias[bias["size"] == size].set_index("estimator")["mean"]
    chunks = np.array_split(np.random.default_rng(ex.seed).permutation(ex.n_samples),
                            ex.n_samples // size)  # fmt: skip
    debiased_mean = float(smallest.get(plots.estimator_label("dL2ECE_15"), np.nan))
    after_clipping = ("the mean stays above 0" if debiased_mean > 0
                      else "here the mean is still 0")  # fmt: skip
    debiased = catalogue.CATALOGUE["dL2ECE_15"]
    zero_share = float(np.mean([debiased(ex.true_probs[i], ex.labels[i]) == 0 for i in chunks]))
    return Answer(
        (
            f"With {size:,} predictions the averages are: "
            + report.join(f"{name} {report.pct(v, 2)}" for name, v in smallest.items())
            + f". The {smallest.idxmin()} is closest to 0.",
            "Each bin's debiased term is its plug-in term minus "
            "$\\mathrm{acc}(1 - \\mathrm{acc}) / (|B_b| - 1) \\ge 0$, so the debiased sum can "
            "only be smaller; when the subtraction makes it negative (the observed gaps are "
            "smaller than the noise expected from the bin sizes) the estimate is clipped to 0, "
            f"as on {report.pct(zero_share, 0)} of the disjoint test sets of {size:,} "
            "predictions cut from the calibrated sample. A clipped estimate is biased upwards "
            f"again, a little: {after_clipping}.",
        ),
        {"means": bias.pivot(index="size", columns="estimator", values="mean"),
         "zero_share": zero_share},
    )  # fmt: skip
