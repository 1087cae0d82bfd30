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
# # RQ iii: how reliable are the calibration metrics?
#
# :::{admonition} This chapter in one box
# :class: tip
# ```{glue:md} rq3_metrics-answer
# :format: myst
# ```
# :::
#
# **Overview.** Calibration has no single estimator. Binned ECE {cite}`naeini2015obtaining`
# depends on how the bins are drawn (equal width or equal mass) and on whether only the top
# label or every class is scored {cite}`kull2019beyond`; bin-free estimators replace the bins by
# a cumulative statistic (KSCE {cite}`gupta2021calibration`), a kernel (KDECE
# {cite}`popordanoska2022consistent`, smECE {cite}`blasiok2024smooth`), a kernel embedding (MMCE
# {cite}`kumar2018trainable`) or a debiased estimate (dL2ECE {cite}`kumar2019verified`); NLL
# and the Brier score mix calibration with accuracy. If they ranked networks the same way, the
# choice would not matter. The reference study found τ(ECE, ·) of 0.98 for equal-mass ECE and
# KSCE, 0.93 for KDECE, 0.91 for MMCE, 0.81 for classwise ECE and only 0.36 for equal-mass
# classwise ECE on CIFAR-10; on ImageNet16-120, in the same order, 0.96, 0.97, 0.95, 0.96, 0.81 and
# −0.15 {cite}`tao2024benchmark`. This chapter computes the full τ matrix among the estimators a
# store holds (up to twelve), before and after temperature scaling, in each search space and
# dataset.
#
# **Prerequisites:** the [calibration primer](primer.ipynb), which defines every estimator on a
# worked example, and Kendall's τ-b (see RQ i).
#
# **Scale.** The committed demo store's networks are small and trained for 10 epochs on 10,000
# images; the paper's are NATS-Bench's 200-epoch networks, and its released columns hold ten of
# the twelve estimators (no smECE, no debiased ECE). Estimators that agree on well-trained
# networks may disagree on briefly trained ones, or the reverse; compare conclusions across
# stores rather than digits.

# %% tags=["parameters"]
store = "data/demo"  # calibration store directory
spaces = []  # search spaces, each analysed on its own; empty list: every space in the store
datasets = []  # datasets, each analysed on its own; empty list: every dataset in the store
metric = "ECE"  # reference estimator family, every other is compared with it
n_bins = 15  # bin count of the binned estimators
metrics = ["ECE", "ECE_em", "cwCE", "cwCE_em", "MCE", "KSCE", "KDECE", "MMCE", "NLL", "Brier",
           "smECE", "dL2ECE_15"]  # estimator families compared (binned ones at n_bins)
n_boot = 500  # bootstrap resamples per τ
n_boot_diff = 1000  # resamples per difference of τ or of mean agreement (p ≥ 2/(n + 1))
level = 0.95  # confidence level of every interval
alpha = 0.05  # family-wise error rate of the Holm correction
seed = 0
min_rows = 3  # fewest rows the chapter accepts; fewest networks per space and dataset

# %%
import numpy as np
import pandas as pd
from IPython.display import display

from calstudy import analysis, answers, chapter, plots, report

pd.set_option("display.max_colwidth", None)  # a table shows its labels whole
df = chapter.load_study(store, space=spaces or None, datasets=datasets or None, metrics=[metric],
                        bin_counts=[n_bins], min_rows=min_rows)
refs, _ = analysis.estimator_columns(df, [metric], n_bins=n_bins)
if not refs:
    raise ValueError(f"Expected `metric` to be an estimator with pre_ and post_ values in the "
                     f"store, got {metric!r} (n_bins = {n_bins}).")
ref = refs[0]
names, missing = analysis.estimator_columns(df, list(dict.fromkeys([metric, *metrics])),
                                            n_bins=n_bins)
opts = {"level": level, "seed": seed}
display(report.format_table(df.groupby(["space", "dataset"]).size().rename("networks").to_frame()))
short = {n: plots.estimator_label(n).removesuffix(f", {n_bins} bins") for n in names}
report.md(
    f"Estimators compared ({len(names)}, binned ones at {n_bins} bins): "
    f"{'; '.join(short.values())}; reference: {short[ref]}."
    + (f" Not in this store, so left out: {report.join(missing)}." if missing else "")
)

# %% [markdown]
# ## The τ matrices
#
# Each cell is τ-b between two estimators over the networks of one space and dataset: 1 when
# they rank the networks identically. {numref}`fig-rq3_metrics-pre` shows the matrices before
# temperature scaling, {numref}`fig-rq3_metrics-post` after it, on the part of the test set not
# used to fit the temperature; one panel per space and dataset, each the column's full width so
# that every entry stays legible.

# %%
matrices = analysis.estimator_matrices(df, names, min_rows=min_rows)
keys = list(dict.fromkeys(k[:2] for k in matrices))


def draw_matrices(prefix):
    """One τ matrix per space and dataset, stacked: each keeps the column's width."""
    fig, axes = plots.panel_grid(max(1, len(keys)), ncols=1, width=9.0, height=8.2)
    for ax, key in zip(axes, keys, strict=False):
        plots.plot_tau_matrix(matrices[(*key, prefix)].rename(index=short, columns=short), ax)
        ax.set(title=analysis.group_name(key), xlabel="", ylabel="")
    fig.tight_layout()


# %% mystnb={"figure": {"caption": "Kendall τ-b between every two calibration estimators before temperature scaling, over the networks of one search space and dataset per panel (binned estimators at `n_bins` bins). 1: the two rank the networks identically; 0: unrelated orders; negative: reversed.", "name": "fig-rq3_metrics-pre"}, "image": {"alt": "Annotated heat maps, one per search space and dataset, of the rank correlation between every two estimators before scaling: a block of high values among the top-label estimators, lower values for the classwise ones, MCE, NLL and Brier."}}
if keys:  # a store without a group of enough networks has no matrix to draw
    draw_matrices("pre")

# %% mystnb={"figure": {"caption": "As the figure before, after temperature scaling (the estimators computed on the 80 % of the test set not used to fit the temperature).", "name": "fig-rq3_metrics-post"}, "image": {"alt": "Annotated heat maps, one per search space and dataset, of the rank correlation between every two estimators after temperature scaling."}}
if keys:  # a store without a group of enough networks has no matrix to draw
    draw_matrices("post")

# %% [markdown]
# How much do the estimators agree overall? The mean of the off-diagonal τ summarises each
# matrix, and the lowest entry names the two estimators that disagree most. Whether temperature
# scaling changes the agreement is a difference of two means over the same networks;
# `analysis.agreement_change` gives it a paired interval (the delta method on large stores, the
# bootstrap on small ones).

# %%
agreement = analysis.agreement_table(matrices)
change = analysis.agreement_change(df, names, min_rows=min_rows, n_boot=n_boot_diff, **opts)
groups = list(dict.fromkeys(zip(agreement["space"], agreement["dataset"], strict=True)))


def of(table, key):
    return table[(table["space"] == key[0]) & (table["dataset"] == key[1])]


report.md(*[analysis.agreement_sentence(of(agreement, k), of(change, k)) for k in groups]
          or ["No space and dataset has enough networks for a matrix."])

# %% [markdown]
# Which entries of the matrices differ from zero? Every off-diagonal entry is a test of τ = 0,
# so the p-values are adjusted within each space and dataset with Benjamini–Hochberg (the
# false-discovery rate among the entries called non-zero stays below `alpha`) and with Holm,
# which guards against any single false positive.

# %%
entries = analysis.matrix_tests(df, names, min_rows=min_rows)
report.md(*[
    f"{analysis.group_name(key)}, {prefix}-scaling: {int((g['p_bh'] < alpha).sum())} of {len(g)} "
    f"entries differ from 0 after BH, {int((g['p_holm'] < alpha).sum())} after Holm."
    for (*key, prefix), g in entries.groupby(["space", "dataset", "prefix"], sort=False)
])

# %% [markdown]
# ## Every estimator against the reference, with intervals
#
# The matrix row of the reference estimator, now with a bootstrap interval for each τ and
# Holm-corrected p-values (over the tests of each space and dataset).

# %%
taus = analysis.estimator_taus(df, ref, names, min_rows=min_rows, n_boot=n_boot, **opts)
stages = {"pre": "before scaling", "post": "after scaling"}
for key in groups:
    display(report.md(f"**{analysis.group_name(key)}**: τ({short[ref]}, estimator) "
                      f"[{level:.0%} interval]; * Holm p < {alpha:g}"),
            report.ci_table(of(taus, key).assign(stage=lambda t: t["prefix"].map(stages)),
                            index="estimator", columns="stage", p="p_holm", alpha=alpha,
                            names=short))  # fmt: skip
report.md(*[analysis.estimator_sentence(of(taus, k), reference=ref, alpha=alpha) for k in groups])

# %% [markdown]
# The paper found classwise equal-mass ECE to be the estimator that agrees least with ECE.
# Whether the reference agrees *more* with one estimator than with another is a difference of
# two τ on the same networks; `analysis.estimator_contrasts` gives it a paired interval for
# every top-label estimator (equal-mass ECE, KSCE, KDECE, MMCE, smECE, dL2ECE) against every
# classwise one, before scaling, Holm-corrected within each space and dataset.

# %%
top_label = [n for n in names if analysis.in_families(n, analysis.TOP_LABEL_FAMILIES)]
classwise = [n for n in names if analysis.in_families(n, analysis.CLASSWISE_FAMILIES)]
contrasts = analysis.estimator_contrasts(df, ref, top_label, classwise, min_rows=min_rows,
                                         n_boot=n_boot_diff, **opts)
report.md(*[analysis.contrast_sentence(of(contrasts, k), reference=ref, alpha=alpha)
            for k in groups]
          or ["Skipped: the store lacks top-label or classwise estimators besides the reference."])

# %% [markdown]
# Do the estimators agree more on one dataset than on another? For every space and pair of
# datasets, the mean off-diagonal τ before scaling on each, over the networks evaluated on both
# (paired by key), and the paired interval of the difference.

# %%
gaps = analysis.agreement_between_datasets(df, names, min_rows=min_rows, n_boot=n_boot_diff,
                                           **opts)
report.md(*[analysis.dataset_gap_sentence(r) for r in gaps.to_dict("records")]
          or ["Skipped: no space holds networks evaluated on two datasets."])

# %% [markdown]
# ## Beside the paper
#
# Each TSS dataset's pre-scaling row beside the paper's row for the same dataset
# {cite}`tao2024benchmark` (CIFAR-10 and ImageNet16-120; 15 bins, ECE as the reference). The
# paper gave no intervals, so its values are treated as exact. The table sets each of them
# beside the same τ computed by calstudy from the paper's released data, from the demo store
# and, for a store of one's own, from this store (TSS, before scaling; "—" where a store lacks
# the dataset), and adds the datasets the paper did not report.

# %%
paper = {n.quantity: n.value for n in chapter.PAPER if n.rq == "iii"}
comparison = analysis.estimator_beside_paper(taus, paper, reference=ref)
numbers = answers.beside_paper("iii", df, store=store, n_boot=n_boot, **opts)
display(report.format_table(numbers))
report.md(
    " ".join(analysis.estimator_paper_sentences(comparison))
    or "This run has no TSS dataset with the paper's numbers (CIFAR-10, ImageNet16-120) and ECE "
    "at 15 bins as the reference; the paper's values below are compared on the conclusion only."
)

# %% [markdown]
# ## Summary

# %%
briefs = [analysis.estimator_sentence(of(taus, k).assign(estimator=lambda t: t["estimator"].map(
    short)), reference=short[ref], brief=True) for k in groups]  # the estimators by their names
summary = [
    *briefs,
    *(analysis.contrast_sentence(of(contrasts, k), reference=ref, alpha=alpha, brief=True)
      for k in groups),
    *(analysis.agreement_sentence(of(agreement, k), of(change, k), brief=True) for k in groups),
    *(analysis.dataset_gap_sentence(r) for r in gaps.to_dict("records")),
    *analysis.estimator_paper_sentences(comparison),
]
summary = [s for s in summary if s]
report.glue_md("rq3_metrics-answer", answers.box(
    question="Do the calibration estimators rank networks the same way, so that the choice of "
    "estimator does not matter?",
    ours=" ".join(briefs) or "No space and dataset of this store has enough networks.",
    caveat="τ between estimators depends on the networks compared: briefly trained small "
    "networks need not agree as NATS-Bench's do.",
    numbers=numbers,
))
report.md("\n".join(f"- {s}" for s in summary) or "No space and dataset had enough networks.")

# %% [markdown]
# **Exercises.** Rerun with `n_bins = 100`: do the binned estimators drift apart as bins empty
# (RQ vi)? Rerun with `metric = "KSCE"`, a bin-free reference.

# %%
# What must hold for any data: symmetric matrices with ones on the diagonal, τ in [-1, 1],
# corrected p-values never below the raw ones, intervals around their estimate, and the table's
# τ equal to the matrix entry.
assert len(df) >= min_rows, len(df)
for key, m in matrices.items():
    values = m.to_numpy()
    assert np.allclose(values, values.T, equal_nan=True) and np.allclose(np.diag(values), 1), key
    assert np.all(np.abs(values[np.isfinite(values)]) <= 1 + 1e-9), key
for r in taus.itertuples():
    assert np.isnan(r.tau) or -1 <= r.tau <= 1, r
    assert np.isnan(r.p) or r.p - 1e-12 <= r.p_holm <= 1, r
    if r.n >= 20 and np.isfinite(r.tau):  # percentile intervals can miss on tiny samples
        assert r.low - 1e-9 <= r.tau <= r.high + 1e-9, r
    m = matrices[r.space, r.dataset, r.prefix]
    assert np.isclose(r.tau, m.loc[ref, r.estimator], equal_nan=True), r
for table in (contrasts, change, gaps):
    assert table["difference"].dropna().between(-2, 2).all(), table
