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
# # RQ ii: can robustness stand in for calibration?
#
# :::{admonition} This chapter in one box
# :class: tip
# ```{glue:md} rq2_robustness-answer
# :format: myst
# ```
# :::
#
# **Overview.** Robustness benchmarks exist for whole architecture spaces
# {cite}`jung2023neural`; calibration benchmarks mostly do not. If the networks that keep their
# accuracy under corruption {cite}`hendrycks2019benchmarking` or adversarial attack
# {cite}`goodfellow2015explaining,madry2018towards` were also the well-calibrated ones, a
# robustness ranking could stand in for a calibration ranking. The reference study found only
# weak agreement: τ between ECE and accuracy under PGD, Square or common corruptions of 0.09 to
# 0.36, and τ ≈ 0 with out-of-distribution AUROC {cite}`tao2024benchmark`. It also claimed that
# calibration tracks robustness only among high-accuracy models, a claim resting on the 1,000
# networks its code selected with `sort_values('acc').head(1000)`: the 1,000 *least* accurate.
# This chapter measures τ between calibration and every robustness measure the store holds, in
# each search space and dataset, with bootstrap intervals and corrected p-values, and puts the
# most accurate networks beside the least accurate ones.
#
# **Prerequisites:** the [calibration primer](primer.ipynb) and Kendall's τ-b (see RQ i).
#
# **Scale.** In the committed demo store, corruption accuracies average the five severities of
# each corruption on a 1,000-image subset, attacks use 500 images, and the out-of-distribution
# set is the *other* dataset of the sweep, not SVHN as in the paper; its networks are small and
# trained for 10 epochs. The paper's robustness columns come from Jung et al.'s 200-epoch TSS
# networks {cite}`jung2023neural`. The chapter's first table says which measures this store
# holds.

# %% tags=["parameters"]
store = "data/demo"  # calibration store directory
spaces = []  # search spaces, each analysed on its own; empty list: every space in the store
datasets = []  # datasets, each analysed on its own; empty list: every dataset in the store
metric = "ECE"  # calibration estimator family ("ECE", "ECE_em", "KSCE", ...)
n_bins = 15  # its bin count; None for estimators without bins (KSCE, MMCE, ...)
population_measure = "mean_corruption_acc"  # robustness measure of the τ-vs-population curve
sizes = [10, 25, 50, 100, 200, 400, 1000, 4000]  # population sizes of that curve (up to all)
n_top = 1000  # N of "the N most / least accurate" (the paper's 1,000), at most a quarter of all
n_repeats = 50  # random subsets per size
n_boot = 500  # bootstrap resamples per τ and per difference of τ
level = 0.95  # confidence level of every interval
alpha = 0.05  # family-wise error rate of the Holm correction
seed = 0
min_rows = 3  # fewest rows the chapter accepts; fewest values a measure needs in a group

# %%
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import display

from calstudy import analysis, answers, chapter, plots, report
from calstudy.catalogue import display_name, prose_name

sns.set_theme(style="whitegrid", context="notebook")
pd.set_option("display.max_colwidth", None)  # a table shows its labels whole
df = chapter.load_study(
    store,
    space=spaces or None,
    datasets=datasets or None,
    metrics=[metric],
    bin_counts=[n_bins] if n_bins is not None else [],
    min_rows=min_rows,
)
ece = chapter.column(metric, n_bins=n_bins, prefix="pre")
opts = {"n_boot": n_boot, "level": level, "seed": seed}
inventory = analysis.robustness_inventory(df, min_rows=min_rows)
bare = inventory.index[inventory[["corruption", "attack", "ood"]].sum(axis=1) == 0].tolist()
display(report.format_table(inventory))
report.md(
    f"Calibration column: {display_name(ece)} (`{ece}`). "
    + (f"Skipped below, because the store holds no robustness column for them: "
       f"{report.join(map(analysis.group_name, bare))}." if bare
       else "Every space and dataset of this run holds robustness columns.")
)

# %% [markdown]
# ## The robustness measures
#
# Every robustness column present in the store enters: accuracy under each corruption (averaged
# over severities), their mean, accuracy under each attack (FGSM, PGD, APGD-CE, Square) at each
# L∞ budget ε (in 1/255 units; `acc2_0` is ε = 2/255), and the AUROC of separating clean from
# shifted or out-of-distribution images by the maximum softmax probability. Two reference rows
# help read the rest: clean accuracy (`acc`), since every robust accuracy partly restates it,
# and the mean corruption accuracy *relative* to clean accuracy, a robustness measure with
# clean accuracy divided out.
#
# ## τ between calibration and each robustness measure
#
# One τ-b per measure with its bootstrap interval, in each search space and dataset on its own.
# The p-values are corrected over the measures of each space and dataset: by Holm, which
# controls the chance of *any* false positive, and by Benjamini–Hochberg (BH), which controls
# the expected share of false positives among the measures called significant and so is less
# strict. With this many tests some raw p-values fall below 0.05 by chance alone. The table
# gives, per search space, each measure's τ with its interval in every dataset, marked `*`
# where its Holm-corrected p-value is below `alpha`; the full tables (raw, Holm and BH p-values,
# n) follow in a folded cell.

# %%
table = analysis.robustness_taus(df, ece, min_rows=min_rows, **opts)
parts = dict(list(table.groupby(["space", "dataset"], sort=False)))
for space, part in table.groupby("space", sort=False):
    display(report.md(f"**{space.upper()}**: τ with {display_name(ece)} [{level:.0%} "
                      f"interval]; * Holm p < {alpha:g}"),
            report.ci_table(part.assign(dataset=part["dataset"].map(analysis.dataset_title)),
                            index="measure", columns="dataset", p="p_holm", alpha=alpha,
                            names=display_name))  # fmt: skip
report.md(*[analysis.robustness_sentence(part, alpha=alpha) for part in parts.values()]
          or ["No space and dataset of this store holds a robustness column: the sections below "
              "are skipped."])

# %% tags=["hide-input", "hide-output"]
for key, part in parts.items():
    display(report.md(f"**{analysis.group_name(key)}**"),
            report.format_table(part.drop(columns=["space", "dataset"]).set_index("measure")
                                .rename(index=display_name)))  # fmt: skip

# %% [markdown]
# In the figure each point is a τ with its interval; red points are significant after the Holm
# correction, grey ones are not. The green band is the paper's range for PGD, Square and
# corruption accuracies on CIFAR-10.

# %% mystnb={"figure": {"caption": "Kendall τ between calibration (the chapter's estimator, ECE with 15 bins before scaling by default) and each robustness measure, with its bootstrap interval, one panel per search space and dataset. Red: Holm p < α; grey: not significant after Holm. Green band: the paper's range 0.09 – 0.36.", "name": "fig-rq2_robustness-taus"}, "image": {"alt": "Forest plots, one per search space and dataset, of Kendall tau with intervals for each corruption, attack and out-of-distribution measure, coloured by Holm significance, beside a shaded band for the paper's range."}}
if parts:
    # One column, each panel as tall as its measures: long labels leave the τ axis its width.
    fig, axes = plots.panel_grid(len(parts), ncols=1, width=7.5,
                                 heights=[0.26 * len(p) + 1.2 for p in parts.values()])
    for ax, (key, part) in zip(axes, parts.items(), strict=True):
        shown = part.rename(columns={"tau": "coef"}).assign(term=part["measure"].map(display_name))
        plots.plot_op_effects(shown[["term", "coef", "low", "high", "p", "p_holm"]], ax,
                              alpha=alpha)
        ax.axvspan(0.09, 0.36, color="C2", alpha=0.15, label="paper: 0.09 – 0.36")
        ax.set(xlabel=f"Kendall τ with {display_name(ece)}", xlim=(-1, 1),
               title=analysis.group_name(key))
        ax.get_legend().remove()
    keys = {lab: h for ax in axes for h, lab in zip(*ax.get_legend_handles_labels(), strict=True)}
    fig.legend(keys.values(), keys.keys(), loc="upper center", ncol=3)  # one legend, on top
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / fig.get_figheight()))

# %% [markdown]
# ## The most accurate networks, and the least accurate
#
# The paper's claim that calibration tracks robustness only among high-accuracy models rests on
# the 1,000 networks its code selected with `sort_values('acc').head(1000)`: the *least*
# accurate. Here both selections are computed, in each space and dataset: the N most accurate
# (`analysis.top_n`) and the N least accurate (`analysis.lowest_n`, the paper's selection), with
# N = `n_top` capped at a quarter of the networks so that the two never overlap. For each
# corruption, attack and out-of-distribution measure, τ with calibration in each selection (with
# its interval and a Holm-corrected p-value) and the difference between the two, for
# independent samples since the selections are disjoint, with the asymptotic interval and
# p-value of `analysis.tau_difference` (a bootstrap's p-values, at least 2/(B + 1), are too
# coarse for Holm over dozens of measures), Holm-corrected over the measures.

# %%
contrast = analysis.top_versus_lowest(df, ece, n=n_top, min_rows=min_rows, **opts)
for key, part in contrast.groupby(["space", "dataset"], sort=False):
    cells = {"N most accurate": ("tau_top", "top_low", "top_high", "p_top_holm"),
             "N least accurate": ("tau_lowest", "lowest_low", "lowest_high", "p_lowest_holm"),
             "most − least": ("difference", "diff_low", "diff_high", "p_holm")}
    display(report.md(f"**{analysis.group_name(key)}**, N = {int(part['n_top'].iloc[0]):,}: τ "
                      f"with {display_name(ece)} [{level:.0%} interval]; * Holm p < {alpha:g}"),
            report.ci_columns(part, index="measure", columns=cells, alpha=alpha,
                              names=display_name, nowrap=False))  # fmt: skip
report.md(*[analysis.selection_sentence(part, n=n_top, alpha=alpha)
            for _, part in contrast.groupby(["space", "dataset"], sort=False)]
          or ["Skipped: no space and dataset has robustness measures on enough networks."])

# %% [markdown]
# ## Does the answer depend on the population?
#
# A τ over a few hundred networks is one draw from a larger space. The figure shows τ between the
# calibration column and `population_measure` for growing N: among N networks drawn at random
# (mean and band over the draws: the spread a smaller study would see), among the N most accurate
# (with a bootstrap band), the population a practitioner choosing among good models cares about,
# and among the N least accurate, the paper code's selection. At the largest N the three coincide
# with τ over all networks.

# %% mystnb={"figure": {"caption": "τ between calibration and the robustness measure `population_measure` (the mean corruption accuracy by default) against the number N of networks compared (log axis): among N drawn at random (mean and band over the draws), among the N most accurate (bootstrap band) and among the N least accurate (the paper code's selection), one panel per search space and dataset.", "name": "fig-rq2_robustness-population"}, "image": {"alt": "Line charts of Kendall tau against the number of networks, three lines with shaded bands per panel, wide at small N and meeting at the largest N."}}
curves = analysis.robustness_curves(df, ece, population_measure, sizes=sizes,
                                    n_random=n_repeats, **opts)
labels = {"top": "N most accurate", "random": "random N", "lowest": "N least accurate (paper code)"}
if curves:
    fig, axes = plots.panel_grid(len(curves))
    for ax, (key, curve) in zip(axes, curves.items(), strict=True):
        for selection, c in curve.groupby("selection", sort=False):
            plots.plot_tau_vs_population(c, ax, label=labels[selection])
        ax.set(title=analysis.group_name(key), ylim=(-1, 1), xlabel="number of networks N",
               ylabel=f"τ with {display_name(population_measure)}")
        ax.legend(fontsize="small")
    fig.tight_layout()

# %%
missing = [analysis.group_name(k) for k in parts if k not in curves]
report.md(
    *(f"**{analysis.group_name(key)}.** {analysis.population_sentence(c, paper=(0.09, 0.36))}"
      for key, c in curves.items()),
    f"No curve for {report.join(missing)}: the store holds no "
    f"{prose_name(population_measure)} there."
    if missing else "",
)

# %% [markdown]
# ## Beside the paper
#
# The paper's range covers accuracy under PGD, Square and six corruptions on CIFAR-10 TSS, read
# at N = 15,000 of its population-size curves; here every attack and corruption of the store
# enters, in each space and dataset. The paper gave no intervals, so its values are treated as
# exact. Its AUROC used CIFAR-10-C Gaussian noise and SVHN as the shifted data; the demo store
# uses the other dataset of its sweep.
#
# The first table sets each of the paper's numbers beside the same statistic computed by
# calstudy (TSS · CIFAR-10) from the paper's released data, from the demo store and, for a
# store of one's own, from this store: the range beside τ with the mean corruption accuracy (one
# of the measures it covers), the AUROC beside the store's first out-of-distribution AUROC, the
# claim about high-accuracy models beside τ with the mean corruption accuracy among the N most
# accurate. The second counts, per space and dataset, where this store's τ with every attack
# and corruption accuracy lie against the paper's range.

# %%
numbers = answers.beside_paper("ii", df, store=store, **opts)
beside = analysis.robustness_beside_paper(table, paper=(0.09, 0.36))
counts = {"measures": "measures", "tau_min": "lowest τ", "tau_max": "highest τ",
          "below_low": "τ below 0.09", "interval_below_low": "interval below 0.09",
          "interval_below_high": "interval below 0.36", "interval_above_high": "interval above 0.36"}
display(report.format_table(numbers),
        report.format_table(beside.set_index(["space", "dataset"]).rename(columns=counts), digits=2))
report.md(*[analysis.robustness_paper_sentence(r, paper=(0.09, 0.36))
            for r in beside.to_dict("records")]
          or ["This store has no attack or corruption accuracy to place beside the paper's range."])

# %% [markdown]
# Where the paper's numbers come from:

# %%
report.format_table(chapter.paper_numbers("ii").set_index("quantity").query("note != ''"))

# %% [markdown]
# ## Summary

# %%
summary = [
    *(analysis.robustness_sentence(part, alpha=alpha, brief=True) for part in parts.values()),
    *(analysis.selection_sentence(part, n=n_top, alpha=alpha, brief=True)
      for _, part in contrast.groupby(["space", "dataset"], sort=False)),
    "The paper's range (0.09 – 0.36) and its AUROC (≈ 0) are set beside these numbers above; "
    "the attacks, corruption subsets and out-of-distribution sets of a store may differ from "
    "the paper's, so compare the conclusions, not the digits.",
]
if not parts:
    summary.insert(0, "This store holds no robustness column; the chapter stated no finding.")
report.glue_md("rq2_robustness-answer", answers.box(
    question="Are the networks that keep their accuracy under corruption and attack also the "
    "well-calibrated ones?",
    ours=" ".join(summary[:len(parts)]) or "This store holds no robustness column to compare.",
    caveat="Each τ is one space and dataset's; the attacks, corruptions and out-of-distribution "
    "sets of a store may differ from the paper's.",
    numbers=numbers,
))
report.md("\n".join(f"- {s}" for s in summary))

# %% [markdown]
# **Exercises.** Rerun with `metric = "KSCE", n_bins = None`, or with `spaces = ["sss"]`: does a
# different estimator or search space change which robustness measures track calibration?

# %%
# What must hold for any data: τ in [-1, 1], corrected p-values never below the raw ones (BH
# between raw and Holm), intervals around their estimate, top-N the most accurate.
assert len(df) >= min_rows, len(df)
for r in table.itertuples():
    assert np.isnan(r.tau) or -1 <= r.tau <= 1, r
    assert np.isnan(r.p) or 0 <= r.p <= r.p_holm + 1e-12 <= 1 + 1e-12, r
    assert np.isnan(r.p) or r.p - 1e-12 <= r.p_bh <= r.p_holm + 1e-12, r
    if r.n >= 20 and np.isfinite(r.tau):  # percentile intervals can miss on tiny samples
        assert r.low - 1e-9 <= r.tau <= r.high + 1e-9, r
for key, part in contrast.groupby(["space", "dataset"], sort=False):
    rows = df[(df["space"] == key[0]) & (df["dataset"] == key[1])].dropna(subset=[ece, "acc"])
    n = int(part["n_top"].iloc[0])
    top, low = analysis.top_n(rows, n), analysis.lowest_n(rows, n)
    assert 2 * n <= len(rows) and not set(top.index) & set(low.index), key
    assert top["acc"].min() >= rows.drop(top.index)["acc"].max(), key  # the N MOST accurate
    assert low["acc"].max() <= rows.drop(low.index)["acc"].min(), key  # the N least accurate
    for col in ("tau_all", "tau_top", "tau_lowest"):
        assert part[col].dropna().between(-1, 1).all(), (key, col)
for curve in curves.values():
    assert curve["tau_mean"].dropna().between(-1, 1).all(), curve
