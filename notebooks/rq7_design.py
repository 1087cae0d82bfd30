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
# # RQ vii: Which architecture designs help calibration?
#
# :::{admonition} This chapter in one box
# :class: tip
# ```{glue:md} rq7_design-answer
# :format: myst
# ```
# :::
#
# NATS-Bench lets us vary one design choice at a time: in the topology space (TSS) the
# operation on each of the cell's six edges, in the size space (SSS) the width of each of five
# stages {cite}`dong2021nats`. The reference study {cite}`tao2024benchmark` reported that in SSS
# wider networks are worse calibrated before temperature scaling (median ECE 1.7 % at total
# width 40–80 against 6.8 % at 280–320 on ImageNet16-120; on networks of uniform width 8 → 64 on
# CIFAR-100, ECE 1.5 → 10.7 % before scaling and 1 → 2.7 % after), and that the twenty TSS
# cells with the best harmonic calibration score (HCS, accuracy and calibration together) *all*
# place a skip connection on the edge from the cell's input to its output (0→3) and a
# convolution on edge 0→1. The paper read these off plots; here each is a regression with
# confidence intervals, Holm-corrected, or an enrichment test against the sample.
#
# **Prerequisites:** the [calibration primer](primer); the TSS cell (4 nodes, 6 edges, edge
# $j \to i$ stored in the column `edge_i_j`) and the SSS widths `c0` … `c4`. **You will see:**
# for each dataset of the store, whether the operation on each edge matters, operation counts,
# ECE against width and size, and the top cells by HCS.
#
# **Scale.** A store's networks are those of its `fidelity`: the paper's are NATS-Bench's
# (C = 16, N = 5 cells per stage, 200 epochs for TSS), a calstudy sweep's are what its preset
# trained (the demo: C = 16, N = 1, 10 epochs). Design effects on calibration may change with
# depth and training length, so the regressions describe the store's networks only.

# %% tags=["parameters"]
store = "data/demo"  # calibration store directory
spaces = []  # search spaces analysed ("tss": edges and HCS; "sss": widths); empty list: every space
datasets = []  # datasets analysed, each on its own; empty list: every dataset in the store
metric = "ECE"  # binned metric family for the regressions and HCS
n_bins = 15
hcs_prefix = "pre"  # HCS uses the ECE before ("pre") or after ("post") temperature scaling
top_k = 20  # cells kept by HCS (the paper: 20)
reference_op = "none"  # TSS operation the single contrasts of the figure are drawn against
min_level_count = 5  # fewest cells an operation needs on an edge to enter the edge regression
min_group = 30  # fewest networks for a regression or a τ; smaller groups are skipped with a note
n_boot = 500  # bootstrap resamples of every τ and median-difference interval
level = 0.95  # confidence level of every interval
alpha = 0.05  # family-wise error rate of the Holm-corrected tests
seed = 0
min_rows = 3

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from IPython.display import display

from calstudy import analysis, answers, chapter, plots, report
from calstudy.catalogue import display_name

sns.set_theme(style="whitegrid", context="notebook")
df = chapter.load_study(store, space=spaces or None, datasets=datasets or None, metrics=[metric],
                        bin_counts=[n_bins], min_rows=min_rows)  # fmt: skip
df = analysis.design_columns(df)  # edges / widths from `arch` where the store lacks them
pre, post = (chapter.column(metric, n_bins=n_bins, prefix=p) for p in ("pre", "post"))
tss_by, sss_by = analysis.design_groups(df, [pre, post])  # each dataset's complete rows
summary = []  # the findings of this run, restated in the Summary
ours = {q: [] for q in chapter.paper_numbers("vii")["quantity"]}  # this store, beside the paper
q_ends, q_flat, q_uniform, q_top = ours  # the paper's four RQ vii quantities, in PAPER's order


def skip(d, n, what, needed, section):
    """Say that a section is skipped for dataset ``d`` and why."""
    display(report.md(f"**{d}:** {report.plural(n, what)}, fewer than {needed}: {section} is "
                      "skipped."))  # fmt: skip


report.md(analysis.design_store_sentence(tss_by, sss_by, [pre, post], df["fidelity"]))

# %% [markdown]
# ## TSS: does the operation on an edge matter?
#
# Ordinary least squares of ECE on one indicator per (edge, operation), with one operation left
# out on every edge:
#
# $$\mathrm{ECE} = \beta_0 + \sum_{e=1}^{6} \sum_{o \ne o_\mathrm{ref}} \beta_{e,o}\,
# [\mathrm{op}_e = o] + \varepsilon.$$
#
# The question "does edge $e$ matter?" is the joint hypothesis $\beta_{e,o} = 0$ for all of its
# operations, tested with one robust (HC3) Wald $F$ test per edge (`analysis.edge_tests`) and
# Holm's correction over the six edges. Unlike the 24 single coefficients, this test does not
# depend on which operation is the reference: recoding the operations leaves it unchanged.
# Its effect size, `spread`, is the largest minus the smallest operation effect on the edge.
# Cells carrying an operation that fewer than `min_level_count` cells carry on the same edge are
# left out: one such cell is fitted exactly (leverage 1), and HC3 then divides zero by zero.
# The figure after the tables shows the single contrasts behind the joint tests, each
# against `reference_op` (or the edge's most common operation where it is too rare), with HC3
# intervals; red ones stay significant after Holm's correction over all of them. Which of them
# look significant depends on the reference, so the findings rest on the joint tests.


# %%
edge_tables = {}
for d, tss in tss_by.items():
    if len(tss) < max(min_group, 26):  # 25 coefficients
        skip(d, len(tss), "TSS cell", max(min_group, 26), "the edge regression")
        continue
    table = edge_tables[d] = analysis.edge_test_table(tss, [pre, post], min_count=min_level_count)
    sentence = analysis.edge_tests_sentence(table, alpha=alpha)
    summary.append(f"TSS edges, {d}: {sentence}.")
    display(report.md(f"**{d}** ({analysis.edge_fit_sentence(table, pre)}): {sentence}."),
            analysis.edge_tests_view(table))  # fmt: skip

# %% tags=["full-width"] mystnb={"figure": {"caption": "Each TSS edge's operations against the reference operation: the change in ECE (percentage points) with its HC3 interval, one row per dataset; left before temperature scaling, right after. Red: Holm p < α over all contrasts of the panel.", "name": "fig-rq7_design-contrasts"}, "image": {"alt": "Rows of coefficient plots, one per dataset, before and after temperature scaling: for each edge and operation a point with a horizontal interval, the change in calibration error against the reference operation, the significant ones in red."}}
panels = {(d, col): plots.percent_view(tss_by[d]) for d in edge_tables for col in (pre, post)}
plots.draw_panels(panels, lambda ax, key, tss: plots.plot_edge_contrasts(analysis.op_effects(
    tss, key[1], reference=reference_op, min_count=min_level_count), ax, alpha=alpha).set(
    title=f"{key[0]}: {display_name(key[1])}", xlabel="change in ECE (pp)"),
    width=13, heights=7, ncols=2)  # fmt: skip
plt.show()

# %% [markdown]
# The same data as a picture of medians: the median ECE of
# the cells carrying each operation on each edge. Each cell of the heat map pools over the
# other five edges, so it mixes the edge's own effect with whatever happens elsewhere; the
# regression above separates them.

# %% tags=["full-width"] mystnb={"figure": {"caption": "Median ECE (percent) of the TSS cells carrying each operation (rows) on each edge (columns), one row of panels per dataset; left before temperature scaling, right after.", "name": "fig-rq7_design-medians"}, "image": {"alt": "Pairs of annotated heat maps, one pair per dataset, of the median calibration error in percent for each operation on each of the six edges of the TSS cell, before and after temperature scaling."}}
panels = {(d, c): tss for d, tss in tss_by.items() if len(tss) >= min_group for c in (pre, post)}
plots.draw_panels(panels, lambda ax, key, tss: plots.plot_edge_medians(
    analysis.edge_op_medians(tss, key[1]), ax, label=display_name(key[1])).set(
    title=f"{key[0]}: {display_name(key[1])}"), width=13, heights=4.2, ncols=2)  # fmt: skip
plt.show()

# %% [markdown]
# ## TSS: how many of each operation
#
# The count encoding asks a coarser question: does each extra edge carrying an operation move
# ECE, wherever it sits? The five counts sum to 6, so `none`'s count is left out and each
# coefficient is the change from turning one `none` edge into that operation; Holm's correction
# runs over the four counts of each target.

# %%
count_tables = {}
for d, tss in tss_by.items():
    if len(tss) < min_group:
        skip(d, len(tss), "TSS cell", min_group, "the count regression")
        continue
    table = count_tables[d] = analysis.count_effect_table(tss, [pre, post], level=level)
    sentence = analysis.count_effects_sentence(table, alpha=alpha)
    summary.append(f"TSS operation counts, {d}: {sentence}.")
    display(report.md(f"**{d}:** {sentence}."), report.format_table(table))

# %% [markdown]
# ## SSS: width and size
#
# τ-b of ECE with the total width $c_0 + \dots + c_4$ and, where the store records it, the
# number of parameters, with bootstrap intervals and Holm's correction over the table; then the
# paper's comparison, the median ECE of the narrowest (total width 40–80) against the widest
# (280–320) networks, where the store holds networks at both ends.
# The figure after the tables draws ECE against total width with the median at each width.

# %%
width_tables = {}
for d, sss in sss_by.items():
    if len(sss) < min_group:
        skip(d, len(sss), "SSS network", min_group, "the width analysis")
        continue
    table = width_tables[d] = analysis.width_taus(sss, [pre, post], n_boot=n_boot, level=level,
                                                  seed=seed)  # fmt: skip
    ends = analysis.width_extremes_sentences(sss, [pre, post], n_boot=n_boot, level=level, seed=seed)
    ours[q_ends].append(f"{d}: {ends[pre]}")
    sentence = analysis.width_findings_sentence(table, ends, alpha=alpha)
    summary.append(f"SSS width, {d}: {sentence}.")
    display(report.md(f"**{d}:** {sentence}.", analysis.width_skipped_sentence(table)),
            report.format_table(table))  # fmt: skip

# %% mystnb={"figure": {"caption": "SSS networks: ECE (percent) against total width c0 + … + c4, coloured by accuracy, with the median at each width (black), one row per dataset; left before temperature scaling, right after.", "name": "fig-rq7_design-width"}, "image": {"alt": "Rows of scatter plots, one per dataset, of calibration error in percent against the total width of SSS networks, points coloured by accuracy, with a black line through the median at each width, before and after temperature scaling."}}
panels = {(d, c): plots.percent_view(sss_by[d], ["acc", pre, post]).rename(
    columns={"acc": "accuracy (%)"}) for d in width_tables for c in (pre, post)}  # fmt: skip
plots.draw_panels(panels, lambda ax, key, sss: plots.plot_width_medians(
    sss, key[1], ax, hue="accuracy (%)").set(
    title=f"SSS {key[0]}", xlabel="total width c0 + … + c4", ylabel=plots.axis_label(key[1])),
    width=11, heights=4, ncols=2)  # fmt: skip
plt.show()

# %% [markdown]
# **Uniform widths.** The paper also swept the networks whose five stages share one width
# ($c_0 = \dots = c_4$, 8 to 64: eight networks per dataset in the full space). Where the store
# holds at least three of them, ECE from the narrowest to the widest and its τ with the width
# follow, dataset by dataset.
#
# **ECE while accuracy rises.** On SSS CIFAR-10 the paper read ECE as flat, 3.9–4.4 %, while
# accuracy rises from 84.7 to 92.3 %. That range is an uncertain reading of its figure (the
# released q7.3 CIFAR-10 panel reads about 3.5–4.5 %). After the uniform widths, the same
# accuracy range is split into four equal bands, with each band's median ECE, on each dataset
# whose SSS networks reach it.

# %%
uniform_tables = {}
for d, sss in sss_by.items():
    table = analysis.uniform_width(sss, [pre, post], n_boot=n_boot, level=level, seed=seed)
    if table["n"].min() < 3:
        display(report.md(f"**{d}:** {analysis.uniform_width_shortfall(table, min_networks=3)}."))
        continue
    uniform_tables[d] = table
    sentence = analysis.uniform_width_sentence(table)
    ours[q_uniform].append(f"{d}: {sentence}")
    summary.append(f"Uniform-width SSS networks, {d}: {sentence}.")
    held = report.plural(int(table["n"].max()), "uniform-width network")
    display(report.md(f"**{d}**, the {held}: {sentence}."), analysis.uniform_width_view(table))

# %%
for d, sss in sss_by.items():  # the paper's range, 84.7–92.3 %: band medians and τ
    bands = analysis.accuracy_bands(sss, pre)
    r = analysis.accuracy_range_tau(sss, pre, n_boot=n_boot, level=level, seed=seed)  # None: < 3
    display(report.md(f"**{d}:** {analysis.accuracy_bands_sentence(bands, pre, r)}."))
    if r is not None:
        ours[q_flat].append(f"{d}: {analysis.accuracy_bands_summary(bands, pre, r)}")
        display(analysis.accuracy_bands_view(bands, pre))

# %% [markdown]
# ## TSS: the best cells by harmonic calibration score
#
# $\mathrm{HCS} = 2\,\mathrm{acc}\,(1 - \mathrm{ECE}) / (\mathrm{acc} + 1 - \mathrm{ECE})$ is high
# only for cells that are both accurate and well calibrated (`analysis.top_hcs`, best first).
# How often does each operation sit on edges 0→3 and 0→1 among the `top_k` best cells, and how
# often in the whole sample? Exact one-sided binomial tests ask whether the top cells carry a
# skip connection on 0→3, or a convolution on 0→1, more often than the sample's base rate (the
# paper: 20 of 20 skip connections), Holm-corrected over the two tests; each share carries a
# Wilson interval. The comparison needs a sample at least twice `top_k` and `min_group`.

# %%
hcs_col = chapter.column(metric, n_bins=n_bins, prefix=hcs_prefix)
tests = analysis.PAPER_HCS_TESTS  # skip_connect on 0→3, a convolution on 0→1
best_by, enrich_by = {}, {}
for d, tss in tss_by.items():
    if len(tss) < max(min_group, 2 * top_k):
        skip(d, len(tss), "TSS cell", max(min_group, 2 * top_k), f"the top-{top_k} selection")
        continue
    best = best_by[d] = analysis.top_hcs(tss, top_k, ece=hcs_col)
    table = enrich_by[d] = analysis.hcs_enrichment(best, tss, tests, level=level)
    sentence = analysis.enrichment_sentence(table, alpha=alpha, paper_share=analysis.PAPER_HCS_SHARES)
    summary.append(f"Top {top_k} TSS cells by HCS, {d}: {sentence}.")
    ours[q_top].append(f"{d}: {table['k'].iloc[0]} of {top_k} carry skip_connect on 0→3")
    counts = analysis.edge_op_counts({"top": best, "sample": tss}, ["edge_3_0", "edge_1_0"])
    display(report.md(f"**{d}:** {sentence}."), report.format_table(counts),
            analysis.top_cells_view(best, hcs_col))  # fmt: skip

# %% [markdown]
# ## Next to the paper
#
# The paper's numbers beside calstudy's on the paper's released data, on the demo store and on
# this store (`answers.beside_paper`: ECE in percent, differences in percentage points, shares
# in percent, each with its interval), then this store's readings, dataset by dataset. The
# paper read its numbers off figures: the SSS CIFAR-10 range is an uncertain reading (the
# released q7.3 CIFAR-10 panel reads about 3.5–4.5 %).

# %%
numbers = answers.beside_paper("vii", df, store=store, n_boot=n_boot, level=level, seed=seed)
display(numbers)
report.md(*(f"- **{q}**: {'; '.join(ours[q]) or 'not measurable on this store'}." for q in ours))

# %% [markdown]
# ## Summary
#
# What this store shows, dataset by dataset (each line is computed above):

# %%
report.glue_md("rq7_design-answer", answers.box(
    "Which choices of operations (TSS) and widths (SSS) go with better calibration?",
    analysis.design_headline(summary), numbers=numbers,  # the SSS width and top-cell findings
    caveat="Regressions describe the store's networks at their fidelity; design effects may "
    "change with depth and training length."))
report.md("\n".join(f"- {s}" for s in summary) or "- Too few networks for any finding.")

# %% [markdown]
# **Exercise.** Rerun with `-p hcs_prefix post`: after temperature scaling, does the skip on
# 0→3 still mark the best cells, or does HCS then reduce to accuracy?

# %%
# What must hold for any store.
assert len(df) >= min_rows and not df.duplicated(["space", "arch", "dataset", "fidelity"]).any()
for table in [*edge_tables.values(), *count_tables.values()]:
    p_cols = [c for c in table.columns if c == "p" or c.startswith("p_")]
    assert table[p_cols].stack().dropna().between(0, 1).all(), table
for table in count_tables.values():
    assert ((table["low"] <= table["coef"] + 1e-12) & (table["coef"] <= table["high"] + 1e-12)).all()
for table in [*width_tables.values(), *uniform_tables.values()]:
    assert table["tau"].dropna().between(-1, 1).all() and table["p"].dropna().between(0, 1).all()
    big = table[table["n"] >= 20]
    assert ((big["low"] <= big["tau"] + 1e-9) & (big["tau"] <= big["high"] + 1e-9)).all(), big
for d, best in best_by.items():  # top_hcs returns the HIGHEST scores, best first
    assert best["hcs"].is_monotonic_decreasing
    assert best["hcs"].min() >= np.sort(analysis.hcs(tss_by[d]["acc"], tss_by[d][hcs_col]))[-top_k]
    table = enrich_by[d]
    assert table["k"].between(0, top_k).all() and table[["p", "p_holm"]].stack().dropna().between(0, 1).all()
