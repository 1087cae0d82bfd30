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
# # RQ iv: does post-hoc calibration help all models alike?
#
# :::{admonition} This chapter in one box
# :class: tip
# ```{glue:md} rq4_posthoc-answer
# :format: myst
# ```
# :::
#
# **Overview.** Temperature scaling divides a network's logits by one scalar $T$ fitted on
# held-out data {cite}`guo2017calibration`. It removes most miscalibration, but does it remove
# it *evenly*? If it did, the ranking of networks by ECE would survive scaling and a
# pre-scaling benchmark would still tell us which networks end up best calibrated. The reference
# study reported τ(pre-scaling ECE, post-scaling ECE) ≈ 0 on CIFAR-10 {cite}`tao2024benchmark`.
# This chapter measures that τ for every search space × dataset of the store, asks who gains
# most, looks at the fitted temperatures, and compares temperature scaling with three other
# post-hoc methods where the store holds them: vector scaling, histogram binning
# {cite}`zadrozny2002transforming` and isotonic regression.
#
# **Prerequisites:** the [calibration primer](primer.ipynb) (ECE, temperature scaling) and
# Kendall's τ-b (see RQ i).
#
# **Protocol.** As in the paper, every post-hoc method is fitted on a random 20 % of the test
# set and evaluated on the other 80 %; pre-scaling metrics use the whole test set. Each search
# space × dataset is a group of its own: networks are compared only with networks of the same
# space trained on the same data.
#
# **Scale.** The demo store's networks are small and trained for 10 epochs; the paper's are
# NATS-Bench's 200-epoch networks, released with pre- and post-scaling metrics but without the
# fitted temperatures or other post-hoc methods. Short training leaves temperature scaling less
# to fix, so compare the direction of each finding across stores rather than its size.

# %% tags=["parameters"]
store = "data/demo"  # calibration store directory
spaces = []  # search spaces analysed; empty list: every space in the store
datasets = []  # datasets analysed; empty list: every dataset in the store
metric = "ECE"  # calibration estimator family of the pre/post comparison
n_bins = 15  # its bin count; None for estimators without bins (KSCE, MMCE, ...)
methods = ["vs", "hist", "iso"]  # post-hoc methods compared with temperature scaling ("ts")
trend_kind = "lowess"  # fitted trend of the scatter plots: "lowess", "linear" or "quadratic"
n_boot = 500  # bootstrap resamples per interval
level = 0.95  # confidence level of every interval
alpha = 0.05  # family-wise error rate of the Holm correction
seed = 0
min_rows = 3  # fewest networks a group needs to be analysed

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import display

from calstudy import analysis, answers, chapter, plots, report
from calstudy.catalogue import prose_name

sns.set_theme(style="whitegrid", context="notebook")
pd.set_option("display.max_colwidth", None)  # a table shows its labels whole
df = chapter.load_study(
    store,
    space=spaces or None,
    datasets=datasets or None,
    metrics=[metric],
    bin_counts=[n_bins] if n_bins is not None else (),
    min_rows=min_rows,
)
pre = chapter.column(metric, n_bins=n_bins, prefix="pre")
post = chapter.column(metric, n_bins=n_bins, prefix="post")
df["group"] = analysis.group_label(df)
df["delta"] = df[post] - df[pre]
options = {"n_boot": n_boot, "level": level, "seed": seed, "min_rows": min_rows, "alpha": alpha}
report.md(analysis.posthoc_store_sentence(df, pre, post, min_rows=min_rows))

# %% [markdown]
# ## Does the ranking survive scaling?
#
# Per group, τ-b between each network's value before and after temperature scaling, with its
# bootstrap interval. τ near 1 would mean scaling shifts every network alike; τ near 0 means
# the post-scaling ranking cannot be read off the pre-scaling one. Beside it, the median paired
# change (post − pre, network by network) with its bootstrap interval and a Wilcoxon
# signed-rank p-value, Holm-corrected over the groups, and the share of networks whose value
# fell, with its Wilson interval (values in percent where the metric is an ECE; * Holm p below
# `alpha`).

# %%
effect = analysis.scaling_effect(df, pre, post, **options)
unit = 100 if plots.in_percent(pre) else 1  # ECE in percent, its changes in percentage points
display(analysis.scaling_effect_view(effect, unit=unit, alpha=alpha))
report.md(*(f"- {s}" for s in analysis.scaling_effect_findings(effect, pre, unit=unit)))

# %% mystnb={"figure": {"caption": "Each network's metric after temperature scaling (y) against before it (x), one panel per search space and dataset (ECE in percent), coloured by accuracy; the title gives τ between the two with its bootstrap interval.", "name": "fig-rq4_posthoc-ranking"}, "image": {"alt": "Scatter plots, one per search space and dataset, of post-scaling against pre-scaling calibration error for every network, coloured by accuracy; where the cloud shows no rising band, scaling reshuffled the ranking."}}
fig, axes = plots.panel_grid(max(1, len(effect)))
for ax, (_, r) in zip(axes, effect.iterrows(), strict=False):
    shown = plots.percent_view(df[df["group"] == r["group"]], [c for c in (pre, post) if unit > 1])
    plots.plot_metric_scatter(shown, pre, post, ax, hue="acc", s=16)
    ax.set(title=f"{r['group']}: τ = {report.ci(r['tau'], r['tau_low'], r['tau_high'])}")
fig.tight_layout()

# %% [markdown]
# ## Who gains most?
#
# The change $\Delta = m_\text{post} - m_\text{pre}$ (negative: scaling helped) against the
# pre-scaling value and against accuracy, with a fitted trend. A caution for reading the first
# column: $\Delta$ contains $-m_\text{pre}$, so even if post-scaling values were unrelated to
# pre-scaling ones, $\Delta$ would fall with $m_\text{pre}$. The difference τ(accuracy, Δ) −
# τ($m_\text{pre}$, Δ), with a paired bootstrap interval, says whether how much a network gains
# follows its miscalibration more than its accuracy; the τ of the previous section is the test
# of whether scaling treats networks alike.

# %% mystnb={"figure": {"caption": "The change Δ = post − pre of each network's metric (negative: scaling helped; in percentage points for ECE) against its pre-scaling value (left) and against its accuracy (right), with a fitted trend (`trend_kind`), one row per search space and dataset; the titles give τ with Δ and its interval.", "name": "fig-rq4_posthoc-gain"}, "image": {"alt": "Pairs of scatter plots per search space and dataset: the change after scaling falls steeply with the pre-scaling calibration error (left) and varies less with accuracy (right), with a black trend line."}}
drivers = analysis.gain_drivers(df, pre, post, **options)
fig, axes = plots.panel_grid(2 * max(1, len(drivers)), height=3.8)
for row_axes, (_, r) in zip(zip(axes[::2], axes[1::2], strict=True), drivers.iterrows(),
                            strict=False):  # fmt: skip
    part = df[df["group"] == r["group"]].assign(delta=lambda t: unit * t["delta"])
    part = plots.percent_view(part, [pre] if unit > 1 else [])
    for ax, x, key in zip(row_axes, (pre, "acc"), ("tau_pre", "tau_acc"), strict=True):
        trend = analysis.fit_trend(part, x, "delta", kind=trend_kind) if len(part) >= 4 else None
        plots.plot_metric_scatter(part, x, "delta", ax, trend=trend, s=14)
        ax.axhline(0, color="grey", linewidth=0.8)
        tau = report.ci(r[key], r[f"{key}_low"], r[f"{key}_high"])
        ax.set(ylabel="Δ = post − pre" + (" (points)" if unit > 1 else ""),
               title=f"{r['group']}: τ = {tau}")
fig.tight_layout()

# %%
report.md(*(f"- {s}" for s in analysis.gain_driver_sentences(drivers)))

# %% [markdown]
# ## The fitted temperatures
#
# $T > 1$ softens an overconfident network's predictions, $T < 1$ sharpens an underconfident
# one's; the share with $T > 1$ says which kind dominates. The metric is unsigned (over- and
# underconfidence both raise it), so whether the temperature tracks the miscalibration it
# corrects is measured by τ between $|\log T|$, the size of the correction, and the pre-scaling
# value. In the table, `*` marks a median $T - 1$ whose Wilcoxon p-value is below `alpha`.

# %%
temperatures = analysis.temperature_summary(df, pre, **options)
if temperatures.empty:
    display(report.md(
        "Skipped: this store records no fitted temperatures (the column `temperature` is empty). "
        "The paper's released data has none; a calibration sweep records them."))
else:
    display(analysis.temperature_view(temperatures, pre, alpha=alpha))
    display(report.md(*(f"- {s}" for s in analysis.temperature_sentences(
        temperatures, against=prose_name(pre)))))

# %% mystnb={"figure": {"caption": "The fitted temperatures T of every network, one outline per search space and dataset; dashed: T = 1 (no change). T > 1 softens an overconfident network's predictions.", "name": "fig-rq4_posthoc-temperatures"}, "image": {"alt": "Step histograms of the fitted temperature per search space and dataset, most of the mass just above the dashed line at T = 1."}}
if not temperatures.empty:
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    sns.histplot(df, x="temperature", hue="group", bins=30, ax=ax, element="step")
    ax.axvline(1.0, color="C3", linestyle="--")
    ax.set(xlabel="fitted temperature T (dashed: T = 1, no change)", ylabel="networks")
    fig.tight_layout()

# %% [markdown]
# ## Temperature scaling against other post-hoc methods
#
# Where the store holds scores after vector scaling (`vs`: one temperature and one bias per
# class), histogram binning (`hist`) and isotonic regression (`iso`), each fitted and evaluated
# on the same split as temperature scaling (`ts`), we ask per network which method gives the
# lowest ECE (15 bins), how much each improves on the unscaled network (median over networks),
# and, paired by network, whether each differs from temperature scaling: the median paired
# difference with a bootstrap interval and a Wilcoxon signed-rank test, Holm-corrected over all
# comparisons. Shares of networks carry Wilson intervals. ECE rewards histogram binning's few
# discrete confidences, while NLL penalises the overconfident ones it can produce, so both are
# compared. In the figure of this section, drawn where the store holds those methods, boxes
# below the red line are networks on which the method beat temperature scaling.

# %%
scores = ["ECE_15", "NLL"]
wins = analysis.posthoc_wins(df, methods, scores[0], level=level, min_rows=min_rows)
tests = analysis.posthoc_tests(df, methods, scores, **options)
if tests.empty:
    display(report.md(
        f"Skipped: this store holds no scores after {report.join(methods, last='or')} (columns "
        f"such as `{(methods or ['vs'])[0]}_{scores[0]}` are empty), only temperature scaling's "
        "pre/post columns, like the paper's released data."))
else:
    display(report.format_table(wins.set_index(["group", "method"]).iloc[:, 2:], percent=[
        "median_gain"] if plots.in_percent(scores[0]) else [], decimals={"median_gain": 2}))
    for score, part in tests.groupby("score", sort=False):  # ECE differences in points
        k, span = (100, ["median_diff", "low", "high"]) if plots.in_percent(score) else (1, [])
        words = analysis.posthoc_sentences(part.assign(
            **{c: k * part[c] for c in span}, score=prose_name(score) + " (in percentage points)" * (k > 1)),
            decimals=2 if k > 1 else 4)  # fmt: skip
        display(report.format_table(part.set_index(["group", "method"]).iloc[:, 3:].drop(
            columns="p"), percent=span, decimals=dict.fromkeys(span, 2)),
            report.md(*(f"- {s}" for s in words)))  # fmt: skip

# %% mystnb={"figure": {"caption": "Per network, the score after each post-hoc method minus the score after temperature scaling (ts), for ECE with 15 bins (left, in percentage points) and NLL (right); one box per method and search space × dataset. Below the red line: the method beat temperature scaling on that network. Methods: vs, vector scaling; hist, histogram binning; iso, isotonic regression.", "name": "fig-rq4_posthoc-methods"}, "image": {"alt": "Two box plots of paired differences against temperature scaling per post-hoc method and group; one panel for ECE, one for NLL, with a red line at zero."}}
if not tests.empty:
    fig, axes = plots.panel_grid(len(scores), height=4.2)
    for ax, score in zip(axes, scores, strict=True):
        points = " (points)" if plots.in_percent(score) else ""
        plots.plot_paired_differences(
            plots.posthoc_differences(df[df["group"].isin(tests["group"])], methods, score), ax,
            ylabel=f"{plots.estimator_label(score)}: method − ts{points}")
    fig.tight_layout()

# %% [markdown]
# Histogram binning and isotonic regression have many more parameters to estimate than
# temperature scaling's one, from the same 20 % of the test set; vector scaling has
# 2 × (number of classes). The paper compared no other post-hoc method, so there is no number
# to set beside these. Whether a median difference would show on a single network, against its
# seed-to-seed noise, is answered in [Seed noise](seeds.ipynb).
#
# ## Beside the paper
#
# The paper measured τ between pre- and post-scaling ECE over the TSS architectures on
# CIFAR-10 {cite}`tao2024benchmark`, and τ between bin counts. The table sets each of the
# paper's RQ iv numbers beside the same statistic (ECE with 15 bins, TSS · CIFAR-10) computed by
# calstudy from the paper's released data, from the demo store and, for a store of one's own,
# from this store, each with its interval ("—" where a store lacks the group). The paper's
# ranges of τ between bin counts end at its 5-vs-500-bin pair, the pair calstudy computes. The
# paper gave no intervals: where its value lies outside an interval, the two disagree.

# %%
numbers = answers.beside_paper("iv", df, store=store, n_boot=n_boot, level=level, seed=seed)
report.format_table(numbers)

# %% [markdown]
# Where the paper's numbers come from:

# %%
report.format_table(chapter.paper_numbers("iv").set_index("quantity").query("note != ''"))

# %% [markdown]
# ## Summary

# %%
summary = analysis.scaling_summary(effect, drivers, temperatures, tests,
                                   metric=prose_name(pre, stage=False))
report.glue_md("rq4_posthoc-answer", answers.box(
    question="Does temperature scaling help every network alike, so that the ranking by "
    "calibration survives it?",
    ours=analysis.scaling_answer(effect, summary[0], unit=unit),  # τ and change per group
    caveat="Fitted on 20 % of the test set and scored on the rest; networks trained briefly "
    "leave scaling less to fix than NATS-Bench's 200-epoch ones.",
    numbers=numbers,
))
report.md(*(f"- {line}" for line in summary))

# %% [markdown]
# **Exercises.** Rerun with `-p metric KSCE -p n_bins None`: is the reshuffling an artefact of
# binning? Rerun with `-p spaces '["sss"]'` or `-p datasets '["fashion-mnist"]'`.

# %%
# What must hold for any data.
assert len(df) >= min_rows, len(df)
key = [c for c in ("space", "arch", "dataset", "seed", "fidelity") if c in df.columns]
assert not df.duplicated(subset=key).any(), "pre and post pair by network: one row per key"
for table, tau in ((effect, "tau"), (drivers, "tau_pre"), (drivers, "tau_acc"),
                   (temperatures, "tau")):
    assert table[tau].dropna().between(-1, 1).all(), table
    big = table[(table["n"] >= 20) & table[tau].notna()]
    assert (big[f"{tau}_low"] - 1e-9 <= big[tau]).all(), table
    assert (big[tau] <= big[f"{tau}_high"] + 1e-9).all(), table
assert (df["temperature"].dropna() > 0).all(), "temperatures must be positive"
for table in (effect, drivers, temperatures, tests):
    assert table.filter(regex="(^|_)p(_holm)?$").stack().dropna().between(0, 1).all(), table
assert (tests["p_holm"] >= tests["p"] - 1e-12).all()
assert (wins.groupby("group")["wins"].sum().sub(1).abs() < 1e-9).all(), wins
