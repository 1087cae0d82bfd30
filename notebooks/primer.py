# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A calibration primer
#
# A classifier is **calibrated** when, among the predictions it makes with confidence $p$, a
# fraction $p$ is correct {cite}`guo2017calibration`. This chapter introduces the estimators the
# study measures on one worked example where the truth is known, so each estimator's behaviour
# can be checked against it.
#
# **Prerequisites:** softmax outputs and accuracy. **You will see:** reliability diagrams, the
# binned, kernel and cumulative estimators, their sensitivity to the number of bins, and what
# temperature scaling does.

# %% tags=["parameters"]
n_samples = 10_000  # predictions in the worked example
n_classes = 10
overconfidence = 2.0  # logits are multiplied by this: > 1 makes the model overconfident
n_bins = 15  # bins of the reliability diagram and of the headline ECE
n_sim = 300  # simulated test sets (labels redrawn from the truth) or bootstrap resamples
level = 0.95  # confidence level of every interval
seed = 0

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from calstudy import analysis, catalogue, metrics, plots
from calstudy.calibrate import TemperatureScaling, fit_temperature, heldout_split

sns.set_theme(style="whitegrid", context="notebook")
if n_samples < 100 or n_classes < 2 or overconfidence <= 0 or n_bins < 1:
    raise ValueError(
        "Expected n_samples ≥ 100, n_classes ≥ 2, overconfidence > 0 and n_bins ≥ 1, got "
        f"{n_samples}, {n_classes}, {overconfidence}, {n_bins}."
    )

# %% [markdown]
# ## A model whose truth we know
#
# We draw logits $z$ and labels $y \sim \mathrm{softmax}(z)$: by construction the probabilities
# $\mathrm{softmax}(z)$ are perfectly calibrated. The model we study reports
# $\mathrm{softmax}(\gamma z)$ with $\gamma$ = `overconfidence`, the typical failure of modern
# networks {cite}`guo2017calibration`. Temperature scaling with $T = \gamma$ undoes it exactly.

# %%
rng = np.random.default_rng(seed)
true_logits = rng.normal(0.0, 2.0, size=(n_samples, n_classes))
true_probs = metrics.to_probs(true_logits)
labels = np.array([rng.choice(n_classes, p=p) for p in true_probs])
logits = overconfidence * true_logits
probs = metrics.to_probs(logits)
print(
    f"accuracy {metrics.accuracy(probs, labels):.3f}, "
    f"mean confidence {metrics.to_confidences(probs, labels)[0].mean():.3f}"
)

# %% [markdown]
# ## Reliability diagrams
#
# Group predictions into bins of confidence and compare each bin's accuracy with its mean
# confidence. The expected calibration error (ECE) {cite}`naeini2015obtaining` is the
# count-weighted mean gap:
#
# $$\mathrm{ECE} = \sum_{b=1}^{B} \frac{|B_b|}{N}\,\bigl|\mathrm{acc}(B_b) - \mathrm{conf}(B_b)\bigr|.$$

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
plots.plot_reliability(
    plots.reliability_data(true_probs, labels, n_bins=n_bins),
    ax=axes[0],
    title="calibrated (γ = 1)",
)
plots.plot_reliability(
    plots.reliability_data(probs, labels, n_bins=n_bins),
    ax=axes[1],
    title=f"overconfident (γ = {overconfidence:g})",
)
fig.tight_layout()

# %% [markdown]
# ## Every estimator on the same predictions
#
# The study's catalogue defines each column once; here are the paper's estimators and two of
# ours, for the calibrated and the overconfident model. The last column is the difference.

# %%
names = [
    f"ECE_{n_bins}",
    f"ECE_em_{n_bins}",
    f"cwCE_{n_bins}",
    f"cwCE_em_{n_bins}",
    f"MCE_{n_bins}",
    "KSCE",
    "KDECE",
    "MMCE",
    "NLL",
    "Brier",
    "smECE",
    "dL2ECE_15",
]
names = [name for name in names if name in catalogue.CATALOGUE]
table = pd.DataFrame(
    {
        "calibrated": [catalogue.compute(name, true_probs, labels) for name in names],
        "overconfident": [catalogue.compute(name, probs, labels) for name in names],
    },
    index=names,
)
table["difference"] = table["overconfident"] - table["calibrated"]
table.round(4)

# %% [markdown]
# Every estimator is larger for the overconfident model (the `difference` column is positive);
# on the calibrated model the binned estimators are not zero but small, the finite-sample bias
# that the chapter on bin counts studies. Is the gap more than the noise of a finite test set?
# Here the truth is known, so that noise can be simulated exactly:
# `analysis.simulated_difference` redraws the labels from the true probabilities `n_sim`
# times, keeps both models' predictions fixed, and recomputes both ECEs on each simulated test
# set; the interval is the central range of the difference over those test sets. (Resampling
# the examples with replacement would duplicate examples, which inflates a binned ECE.)


# %%
def ece_b(p, y):
    return metrics.ece(p, y, n_bins=n_bins)


ece_true = table.loc[f"ECE_{n_bins}", "calibrated"]
ece_over = table.loc[f"ECE_{n_bins}", "overconfident"]
ece_gap = analysis.simulated_difference(
    ece_b, probs, true_probs, probs_b=true_probs, n_sim=n_sim, level=level, seed=seed
)
print(f"ECE_{n_bins}: calibrated {ece_true:.4f}, overconfident {ece_over:.4f}")
print(
    f"overconfident − calibrated over {n_sim} simulated test sets of {ece_gap.n}: mean "
    f"{ece_gap.estimate:+.4f}, {level:.0%} range [{ece_gap.low:+.4f}, {ece_gap.high:+.4f}]"
)

# %% [markdown]
# ## The number of bins matters
#
# With more bins each bin holds fewer predictions and the estimate grows noisier and, for a
# calibrated model, more biased upwards.

# %%
errors = metrics.binned_errors(true_probs, labels)
by_bins = pd.DataFrame(errors).rename_axis("bins").reset_index()
long = by_bins.melt(id_vars="bins", var_name="estimator", value_name="value")
ax = sns.lineplot(data=long, x="bins", y="value", hue="estimator", marker="o")
ax.set(xscale="log", xlabel="number of bins", ylabel="estimate on a calibrated model")
bias_5, bias_500 = errors["ECE"][5], errors["ECE"][500]
print(f"ECE of a perfectly calibrated model: {bias_5:.4f} with 5 bins, {bias_500:.4f} with 500")
bias_gap = analysis.simulated_difference(
    lambda p, y: metrics.ece(p, y, n_bins=500),
    true_probs,
    true_probs,
    metric_b=lambda p, y: metrics.ece(p, y, n_bins=5),
    n_sim=n_sim,
    level=level,
    seed=seed,
)
print(
    f"500 − 5 bins over {n_sim} simulated test sets: mean {bias_gap.estimate:+.4f}, "
    f"{level:.0%} range [{bias_gap.low:+.4f}, {bias_gap.high:+.4f}]"
)

# %% [markdown]
# ## Temperature scaling
#
# Temperature scaling divides the logits by one scalar $T$ fitted by minimising the negative
# log-likelihood on held-out data {cite}`guo2017calibration`. As in the paper, $T$ is fitted on
# 20 % of the test predictions and the metrics are reported on the other 80 %.

# %%
fit_idx, eval_idx = heldout_split(n_samples, frac=0.2, seed=seed)
scaler = TemperatureScaling().fit(logits[fit_idx], labels[fit_idx])
scaled = scaler.predict_proba(logits[eval_idx])
before = metrics.ece(probs[eval_idx], labels[eval_idx], n_bins=n_bins)
after = metrics.ece(scaled, labels[eval_idx], n_bins=n_bins)
t_fit, t_low, t_high = analysis.bootstrap_statistic(
    lambda rows: fit_temperature(rows[:, :-1], rows[:, -1].astype(int)),
    np.column_stack([logits[fit_idx], labels[fit_idx]]),
    n_boot=n_sim,
    level=level,
    seed=seed,
)
ts_gap = analysis.simulated_difference(
    ece_b,
    scaled,
    true_probs[eval_idx],
    probs_b=probs[eval_idx],
    n_sim=n_sim,
    level=level,
    seed=seed,
)
print(
    f"fitted T = {scaler.temperature:.3f} [{t_low:.3f}, {t_high:.3f}] ({level:.0%} bootstrap "
    f"over the fitting set; true γ = {overconfidence:g}); ECE_{n_bins} {before:.4f} → {after:.4f}"
)
print(
    f"after − before over {n_sim} simulated evaluation sets of {ts_gap.n} (T held fixed): "
    f"mean {ts_gap.estimate:+.4f}, {level:.0%} range [{ts_gap.low:+.4f}, {ts_gap.high:+.4f}]"
)

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
plots.plot_reliability(
    plots.reliability_data(probs[eval_idx], labels[eval_idx], n_bins=n_bins),
    ax=axes[0],
    title="before temperature scaling",
)
plots.plot_reliability(
    plots.reliability_data(scaled, labels[eval_idx], n_bins=n_bins),
    ax=axes[1],
    title=f"after (T = {scaler.temperature:.2f})",
)
fig.tight_layout()

# %% [markdown]
# ## Summary
#
# - Reliability diagrams show calibration per confidence bin; ECE summarises them.
# - Binned estimators depend on the number of bins; kernel (KDECE, smECE), cumulative (KSCE) and
#   kernel-embedding (MMCE) estimators avoid bins but have their own bandwidths.
# - Temperature scaling recovers the temperature that generated the overconfidence (compare
#   the printed bootstrap interval of the fitted $T$ with γ) and removes most of the error: the
#   range of the change in ECE over simulated test sets lies far below zero.
# - Every difference above carries an interval for the test set's sampling noise; the book's
#   later chapters give every τ and every difference an interval or a p-value as well.

# %%
# The chapter's claims, checked so that a run that contradicts them fails the build.
assert ece_over > ece_true, (ece_over, ece_true)
assert (table["difference"] > 0).all(), table  # every estimator larger when overconfident
assert ece_gap.low > 0, ece_gap  # beyond the test set's sampling noise
assert bias_gap.low > 0, bias_gap  # the finite-sample bias grows with the number of bins
assert after < before, (after, before)
assert ts_gap.high < 0, ts_gap  # temperature scaling lowers ECE beyond sampling noise
assert t_low <= scaler.temperature <= t_high
assert abs(scaler.temperature - overconfidence) < 0.25 * overconfidence, scaler.temperature
