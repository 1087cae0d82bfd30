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
# # Seed noise: which differences are real?
#
# :::{admonition} This chapter in one box
# :class: tip
# ```{glue:md} seeds-answer
# :format: myst
# ```
# :::
#
# **Overview.** Every other chapter uses one training run per architecture. Train the same
# architecture again with another seed (another initialisation, another order of mini-batches)
# and its accuracy and calibration change; a difference between two architectures smaller than
# that change says nothing about the architectures. The reference study used one NATS-Bench
# run per network and did not measure this {cite}`tao2024benchmark`. This chapter measures seed
# noise where the store has architectures trained more than once (a *seed study*), and checks
# the book's headline differences against it. Where the store holds TSS strings that are the
# same cell written differently, each trained separately (as NATS-Bench trained all 15,625), the
# spread between those strings measures the same noise at the benchmark's own schedule.
#
# **Prerequisites:** the [calibration primer](primer) and [RQ iv](rq4_posthoc) (temperature
# scaling and the other post-hoc methods). **You will see,** for each space and dataset with
# a seed study: per-architecture seed spread, the pooled seed standard deviation against the
# spread between architectures, the intraclass correlation (how much of one run's value belongs
# to the architecture), and, for the differences the book reports, whether each exceeds seed
# noise; then the same intraclass correlation across isomorphic strings.
#
# **Scale.** A seed study usually covers a handful of architectures with two or three seeds
# each, so the seed standard deviations are estimated from few degrees of freedom and their
# intervals are wide. Every number here is recomputed from the store at each build; a section
# whose data the store lacks says so in place of its results.

# %% tags=["parameters"]
store = "data/demo"  # calibration store directory
spaces = []  # search spaces analysed; empty list: every space in the store
datasets = []  # datasets analysed, each on its own; empty list: every dataset in the store
metric = "ECE"  # the headline metric family: its best-vs-median gap, post-hoc differences, τ ceiling
n_bins = 15  # its bin count
metrics = ["ECE_15", "ECE_em_15", "cwCE_15", "KSCE", "KDECE", "MMCE", "NLL", "Brier"]  # measured pre and post
plotted = ["acc", "pre_ECE_15", "post_ECE_15", "pre_KSCE"]  # columns of the seed-spread figure
methods = ["vs", "hist", "iso"]  # post-hoc methods compared with temperature scaling (RQ iv)
level = 0.95  # confidence level of every interval and threshold
alpha = 0.05  # family-wise error rate of the Holm-corrected tests
n_boot = 1000  # bootstrap resamples per interval
seed = 0
min_rows = 3  # fewest architectures trained with two or more seeds a seed-noise section needs

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from IPython.display import display

from calstudy import analysis, answers, chapter, plots, report
from calstudy.paper import PAPER_SEED

sns.set_theme(style="whitegrid", context="notebook")
selection = dict(space=spaces or None, datasets=datasets or None)
pre, post = (chapter.column(metric, n_bins=n_bins, prefix=p) for p in ("pre", "post"))
columns, missing = analysis.seed_columns(metrics, pre=pre, post=post,
                                         present=chapter.load_study(store, **selection).columns)  # fmt: skip
every = chapter.load_study(store, **selection, metrics=columns, seeds="all")
first = chapter.load_study(store, **selection, metrics=columns)  # each network's lowest seed
key = ["space", "arch", "dataset", "fidelity"]
groups = analysis.seed_study_groups(every)
studied = groups[groups["n_repeated"] >= min_rows]
summary = []  # the findings of this run, restated in the Summary
label = analysis.seed_group_label  # a group's name: "TSS cifar10 (`nats-200`)"
rows_of = analysis.group_rows  # a frame's rows in one group's space, dataset and fidelity


def skipped(section):
    """Why a section has nothing to show on this store."""
    if studied.empty:
        display(report.md(f"*{section}: skipped, as no space and dataset analysed here has "
                          f"{min_rows} architectures trained with two or more seeds.*"))


display(report.md(analysis.seed_groups_sentence(groups, min_repeated=min_rows, not_stated=PAPER_SEED,
                                                missing=missing)))  # fmt: skip

# %% [markdown]
# ## Seed noise against differences between architectures
#
# For each column, `analysis.seed_noise_table` pools the seed-to-seed variance of the
# architectures trained more than once into $s_p$ (`pooled_std`) and compares it with the
# standard deviation of the architecture means over all architectures (`between_std`). Three
# derived numbers say how much that matters:
#
# - `frac_resolved`: the share of pairs of architectures whose means differ by more than
#   $z_{(1+\ell)/2}\, s_p \sqrt{1/n_a + 1/n_b}$; for two single-seed networks, as in every
#   other chapter, that threshold is `threshold`;
# - `icc` $[$`icc_low`, `icc_high`$]$: the intraclass correlation, the share of one run's
#   variance that belongs to the architecture (1: seeds agree exactly; 0: the architecture
#   explains nothing), with its F-based interval;
# - `retest_tau`: the Kendall τ expected between the ranking of networks by one seed and by
#   another, $\frac{2}{\pi}\arcsin(\mathrm{ICC})$. No τ in the book between a column and
#   anything else can be expected to exceed what the column reaches against itself.
#
# The figure after the tables shows the architectures trained more than once: each point is an
# architecture's mean over its seeds, each bar ± one seed standard deviation. Where the bars of
# two architectures overlap, a single run cannot order them.

# %%
tables = {}
for g in studied.itertuples():
    runs = rows_of(every, g)
    table = tables[g.Index] = analysis.seed_noise_table(runs, columns, by=key, level=level,
                                                        min_repeated=min_rows)  # fmt: skip
    display(report.md(f"**{label(g)} (binned ECE in percent)**"), analysis.seed_noise_view(table))
    text = f"{label(g)}: " + analysis.seed_noise_sentence(table, ["acc", pre, post])
    display(report.md(text))
    summary.append(text)
skipped("Seed noise")

# %% tags=["full-width"] mystnb={"figure": {"caption": "The architectures trained with several seeds (A1, A2, …): each one's mean over its seeds ± one seed standard deviation, one panel per column (ECE in percent), one figure per search space and dataset with a seed study.", "name": "fig-seeds-spread"}, "image": {"alt": "Panels of point plots, one per measured column such as accuracy and calibration error, each showing every repeated architecture's mean with a vertical bar of plus or minus one seed standard deviation; many bars overlap."}}
for g in studied.itertuples():
    shown = [c for c in plotted if c in columns]
    grid = plots.plot_seed_spread(plots.percent_view(rows_of(every, g)), shown)
    for ax, c in zip(grid.axes.flat, shown, strict=False):
        ax.set(title=plots.axis_label(c), ylabel="")
    grid.figure.suptitle(label(g).replace("`", ""), y=1.02)
    plt.show()

# %% [markdown]
# ## Which of the book's differences exceed seed noise?
#
# ### The best network against the median network
#
# [RQ iv](rq4_posthoc) and [RQ v](rq5_accuracy) speak of the best-calibrated and the most
# accurate networks. Among $n$ equally good networks measured once each, the best would still
# beat the median by chance; `analysis.seed_noise_gaps` simulates that gap for $n$ networks with
# the measured $s_p$ (its $\ell$ quantile, so the winner's curse is included). The observed
# gap, over the single-seed networks the other chapters use, exceeds seed noise when it is
# larger.

# %%
for g in studied.itertuples():
    gaps = analysis.seed_noise_gaps(rows_of(first, g), tables[g.Index], ["acc", pre, post],
                                    level=level)  # fmt: skip
    display(report.md(f"**{label(g)}**"), analysis.seed_gaps_view(gaps),
            report.md(analysis.seed_gaps_sentence(gaps)))  # fmt: skip
skipped("The best-versus-median gaps")

# %% [markdown]
# ### Post-hoc calibration, network by network
#
# [RQ iv](rq4_posthoc) compares, paired by network, ECE after temperature scaling (`ts`) with
# ECE before it and with ECE after the other post-hoc methods. Each difference is a column of
# its own, and has its own seed noise (computed here from the repeated architectures). Two
# questions, with different answers in general:
#
# 1. Is the median difference over networks real? The bootstrap interval and the Wilcoxon
#    signed-rank p-value (Holm-corrected over the rows) answer it; seed noise is already part
#    of the network-to-network scatter they use.
# 2. Would *one* network show it? The difference on a single network exceeds its seed noise
#    when $|d| > z_{(1+\ell)/2}\, s_p(d)$ (the `threshold`); the last columns give that
#    threshold and the share of networks beyond it (with a Wilson interval).

# %%
differences = {}
for g in studied.itertuples():
    runs, one = rows_of(every, g), rows_of(first, g)
    pairs = analysis.posthoc_pairs(runs.columns, methods, pre=pre, post=post,
                                   counts=runs.notna().sum().to_dict())  # fmt: skip
    diffs = differences[g.Index] = analysis.seed_noise_differences(
        runs, one, pairs, by=key, level=level, n_boot=n_boot, seed=seed)
    display(report.md(f"**{label(g)} (binned ECE in percentage points)**"),
            analysis.seed_differences_view(diffs))  # fmt: skip
    for name, r in diffs.iterrows():
        text = f"{label(g)}, " + analysis.seed_difference_sentence(name, r, alpha=alpha)
        display(report.md(text))
        if name.startswith("ts − none"):
            summary.append(text)
skipped("The post-hoc differences")

# %% [markdown]
# ### Rank correlations and their ceiling
#
# Seed noise caps every τ in the book. By Spearman's attenuation, two columns measured with
# seed noise correlate at most $\sqrt{\mathrm{ICC}_x \mathrm{ICC}_y}$ even if the
# architectures' true values agreed perfectly; `analysis.retest_tau` turns that into the
# largest τ one can expect. The pair of [RQ iv](rq4_posthoc), ECE before and after temperature
# scaling, is set beside the τ measured on the single-seed networks, and the τ between two
# seeds of the same architectures is measured directly on the repeated ones (few
# architectures, hence a wide interval).

# %%
for g in studied.itertuples():
    table, one, runs = tables[g.Index], rows_of(first, g), rows_of(every, g)
    if not {pre, post} <= set(table.index):
        display(report.md(f"**{label(g)}:** `{pre}` or `{post}` is missing: no ceiling."))
        continue
    kept = analysis.kendall_ci(one[pre], one[post], n_boot=n_boot, level=level, seed=seed)
    retests = analysis.seed_retest_taus(runs, ["acc", pre, post], seeds=g.seeds[:2], n_boot=n_boot,
                                        level=level, seed=seed)  # fmt: skip
    display(report.md(f"**{label(g)}:** " + analysis.seed_ceiling_sentence(
        table, kept, retests, pre=pre, post=post, seeds=g.seeds[:2])))
skipped("The rank-correlation ceiling")

# %% [markdown]
# ### Device and precision
#
# A seed study may change more than the seed: if its runs were made on another device or in
# another precision than the first seed's (the store's `device` column and the store's
# provenance say), a systematic shift between the two would be counted above as seed noise and
# would lower every ICC. Two checks, per column: the paired difference, over the repeated
# architectures, between the run on the first seed's device and the mean of the runs on the
# other device (an interval that contains 0: no shift detected, though with a handful of
# architectures only a large shift could be); and the seed noise and ICC recomputed from the
# runs that share one device.

# %%
devices = {}
for g in studied.itertuples():
    check = devices[g.Index] = analysis.device_shift_table(
        rows_of(every, g), rows_of(first, g), tables[g.Index], ["acc", pre, post], by=key,
        n_boot=n_boot, level=level, seed=seed)  # fmt: skip
    if check.empty:
        display(report.md(f"**{label(g)}:** all repeated runs share one device; nothing to check."))
        continue
    text = f"{label(g)}, " + analysis.device_shift_sentence(check)
    display(report.md(f"**{label(g)}** (first seed's device: {check.attrs['first_device']})"),
            report.format_table(check), report.md(text))
    summary.append(text)
skipped("The device check")

# %% [markdown]
# Where a shift's interval excludes 0, device or precision moved that column, and the
# one-device ICC is the better measure of seed noise alone; where it contains 0, no shift was
# detected, and the two ICCs differ by no more than their wide intervals allow.
#
# ### Design effects
#
# [RQ vii](rq7_design) regresses ECE on the number of edges carrying each operation. An
# effect per edge is only useful for choosing architectures if it is large against what one
# run's seed moves ECE; the table gives each count coefficient (before temperature scaling)
# in units of $s_p$. A value below 1 means that one more such edge changes ECE less than one
# retraining with another seed typically does (several edges together can still matter, and
# the regression's own interval already includes seed noise, as every network is one seed).

# %%
for g in studied.itertuples():
    effects = analysis.seed_design_effects(rows_of(first, g), tables[g.Index], pre)
    if effects is None:
        display(report.md(f"**{label(g)}:** the count regression needs 10 or more TSS networks."))
        continue
    display(report.md(f"**{label(g)}**"),
            report.format_table(effects[["coef", "low", "high", "p_holm", "coef / s_p"]]),
            report.md(analysis.seed_design_sentence(effects, pre)))  # fmt: skip
skipped("The design effects")

# %% [markdown]
# ## Which columns can rank networks?
#
# Accuracy against ECE before and after temperature scaling: is calibration a property of the
# architecture as much as accuracy is, or more of the seed (and, after scaling, of the
# estimator's own noise, which [RQ vi](rq6_bin_count) studies)? A column that a retraining
# reorders cannot keep its order across datasets either, which bears on [RQ i](rq1_transfer).
# ECE before against after scaling: does scaling remove the architecture-specific part of
# miscalibration? The ICC intervals of a small seed study overlap widely, so these are
# comparisons of point estimates, with their intervals.

# %%
for g in studied.itertuples():
    if {"acc", pre, post} <= set(tables[g.Index].index):
        text = f"{label(g)}: " + analysis.reproducibility_sentence(
            tables[g.Index], devices[g.Index], pre=pre, post=post)
        display(report.md(text))
        summary.append(text)
skipped("The comparison of columns")

# %% [markdown]
# ## Seed noise at the benchmark's fidelity: isomorphic strings
#
# The 15,625 TSS strings of NATS-Bench fall into 6,466 isomorphism classes
# (`calstudy.space.canonical_tss`): strings of one class are the same cell written differently
# (summands in another order, a skip connection that merely forwards a node, an operation on a
# node that only feeds `none` edges). NATS-Bench trained every string separately, so the spread
# within a class is what retraining one architecture changes, at the benchmark's own schedule.
# `analysis.isomorphic_icc_table` treats the class as the architecture and each string as a
# run: the one-way ICC for classes of unequal size, with its F interval, and the τ two
# retrainings would reach (`retest_tau`). It needs TSS strings that share a class, which a
# calstudy sweep (one string per class) does not produce.

# %%
iso = analysis.isomorphic_icc_table(first, [c for c in ("acc", pre, post) if c in columns],
                                    level=level)  # fmt: skip
if (iso["n_repeated"] > 0).any():
    display(analysis.isomorphic_view(iso))
for text in analysis.isomorphic_sentences(iso):
    display(report.md(text))
    if "no two" not in text:
        summary.append(text)
if iso.empty:
    display(report.md("*No TSS networks are analysed here: no isomorphic strings.*"))

# %% [markdown]
# ## Summary
#
# A column with a low ICC ranks networks mostly by the seed; its retest τ is the τ a
# retraining would reproduce, and no τ between it and anything else can be expected to exceed
# it. A difference can be both significant over a hundred networks and invisible on any single
# one. [RQ viii](rq8_predict.ipynb) uses the same ICCs, from the seed study, from full-schedule
# reruns of a sweep's networks with several seeds, and from isomorphic strings, as the ceiling
# of any predictor that sees only the architecture. On this run:

# %%
no_noise = (f"The {report.plural(len(first), 'network')} analysed here hold neither a seed "
            "study nor isomorphic TSS strings: they do not measure seed noise.")
report.glue_md("seeds-answer", answers.box(
    "Which differences between architectures would a retraining with another seed keep?",
    " ".join(summary[:2]) or no_noise,
    caveat="The reference is seed noise itself (no paper number: the paper trained each network "
    "once); a seed study of a handful of architectures gives wide intervals."))
display(report.md("\n".join(f"- {s}" for s in summary) if summary else f"- {no_noise}"))

# %%
# What must hold for any data.
assert not first.duplicated(key).any()  # one row per network where the other chapters use one
for table in tables.values():
    for name, row in table.iterrows():
        assert row["pooled_std"] >= 0 and 0 <= row["frac_resolved"] <= 1, name
        assert np.isnan(row["icc"]) or row["icc_low"] - 1e-9 <= row["icc"] <= row["icc_high"] + 1e-9
for diffs in differences.values():
    for name, row in diffs.iterrows():
        assert row["low"] - 1e-9 <= row["median"] <= row["high"] + 1e-9, name
        assert 0 <= row["p"] <= row["p_holm"] + 1e-12 <= 1 + 1e-12, name
        assert row["median_beyond"] == (abs(row["median"]) > row["threshold"]), name
for r in iso.dropna(subset=["icc"]).itertuples():
    assert 0 <= r.low <= r.icc <= r.high <= 1, r
