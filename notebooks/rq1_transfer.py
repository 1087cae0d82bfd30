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
# # RQ i: does calibration transfer across datasets?
#
# :::{admonition} This chapter in one box
# :class: tip
# ```{glue:md} rq1_transfer-answer
# :format: myst
# ```
# :::
#
# **Overview.** If an architecture that is well calibrated on one dataset were also well
# calibrated on another, calibration could be judged once and reused, as accuracy rankings
# often are. The reference study measured the Kendall τ between the ECE (15 bins) of the same
# NATS-Bench TSS architectures on two datasets {cite}`tao2024benchmark`. Over all 15,625 TSS
# architectures its released notebook gives 0.36 (CIFAR-10 ↔ CIFAR-100), 0.66 (CIFAR-100 ↔
# ImageNet16-120) and 0.14 (CIFAR-10 ↔ ImageNet16-120); the values the paper quotes, 0.14, 0.12
# and −0.23, come from a figure of the 100 most accurate architectures ("filtered by top 100
# accuracy"). This chapter repeats the question on every pair of datasets in the store, for
# several estimators, for all networks and for the most accurate ones, in each search space.
#
# **Prerequisites:** the [calibration primer](primer.ipynb) (ECE and the other estimators) and
# Kendall's τ-b, the rank correlation used throughout the book: +1 when two columns order the
# networks identically, 0 when their orders are unrelated, −1 when one reverses the other.
#
# **Scale.** The committed demo store holds small networks (C = 16, N = 1) trained for 10 epochs
# on 10,000 images of CIFAR-10 and Fashion-MNIST {cite}`xiao2017fashion`, the two datasets
# available offline; the paper's store holds NATS-Bench's 200-epoch networks {cite}`dong2021nats`
# on CIFAR-10, CIFAR-100 and ImageNet16-120. The chapter's first table says which networks
# (their fidelity) this run reads. Dataset pairs and training budgets differ between stores, so
# compare conclusions across stores, not digits.

# %% tags=["parameters"]
store = "data/demo"  # calibration store directory
spaces = []  # search spaces, each analysed on its own; empty list: every space in the store
datasets = []  # datasets paired, A before B in this order; empty list: every dataset, sorted
metrics = ["pre_ECE_15", "pre_ECE_em_15", "pre_KSCE", "pre_MMCE", "pre_NLL", "post_ECE_15", "acc"]
metric = "ECE"  # headline metric family of the scatter plot and the τ-vs-N curve, or a column
n_bins = 15  # its bin count; None for estimators without bins (KSCE, MMCE, ...)
top_ns = [10, 25, 50, 100]  # top-N by accuracy on dataset A: the N MOST accurate networks
join_on = ["space", "arch", "seed", "fidelity"]  # key that pairs a network's rows on A and B
n_boot = 500  # bootstrap resamples per τ
n_boot_diff = 2000  # resamples per difference of two τ (its p-value is at least 2/(n + 1))
alpha = 0.05  # family-wise error rate of the Holm correction
level = 0.95  # confidence level of every interval
seed = 0
min_rows = 3  # fewest rows the chapter accepts; fewest networks per analysed dataset pair

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
    metrics=[*metrics, metric],
    bin_counts=[n_bins] if n_bins is not None else [],
    min_rows=min_rows,
)
headline = metric if metric in df.columns else chapter.column(metric, n_bins=n_bins)
analysed = [m for m in dict.fromkeys([*metrics, headline, "acc"]) if df[m].notna().sum() >= 3]
left_out = [m for m in metrics if m not in analysed]
order = list(datasets) or sorted(df["dataset"].unique())
display(report.format_table(
    df.groupby(["space", "dataset", "fidelity"]).size().rename("networks").to_frame()))
report.md(
    f"This store holds {report.plural(len(df), 'network')} in "
    f"{report.join(sorted(df['space'].str.upper().unique()))} on "
    f"{report.join(map(analysis.dataset_title, order))}. Metrics analysed: "
    f"{'; '.join(map(display_name, analysed))}."
    + (f" Left out, the store holding no values of them: "
       f"{'; '.join(map(display_name, left_out))}." if left_out
       else "")
)

# %% [markdown]
# ## Pairing a network with itself
#
# A τ between datasets compares, for every architecture, its metric on dataset A with its metric
# on dataset B. The rows are therefore joined **by key** (`join_on`) with
# `analysis.pair_datasets`, which refuses duplicate keys; the paper's analysis code merged tables
# by row position, which silently pairs different networks whenever two tables are sorted
# differently. Every pair of datasets present in a space is analysed, provided at least
# `min_rows` of its networks were evaluated on both.

# %%
pairs = analysis.pair_datasets(df, analysed, datasets=order, on=join_on)
usable = {key: p for key, p in pairs.items() if len(p) >= max(min_rows, 3)}
report.md(
    "Networks evaluated on both datasets: "
    + report.join(f"{analysis.pair_name(key)}: {len(p):,}" for key, p in pairs.items()) + "."
    if pairs
    else "No search space of this store holds networks on two datasets.",
    "" if usable else f"No dataset pair has {max(min_rows, 3)} networks on both datasets: the "
    "cross-dataset sections below are skipped.",
)

# %% [markdown]
# ## Does the ranking transfer?
#
# For every metric, τ-b between its value on dataset A and on dataset B, with a
# percentile-bootstrap interval, first over all paired networks and then over the top-N by
# accuracy on A. **Top-N means the N most accurate networks** (`analysis.top_n` sorts accuracy in
# descending order). The paper's released code took `sort_values('acc').head(N)`, which sorts
# ascending and so selected the N *least* accurate networks; the curve further down shows how
# much that choice changes the answer. The selection is made on dataset A alone, so it does not
# depend on the outcome on B. Accuracy (`acc`) is included as a yardstick: it says how well
# architecture rankings transfer at all between the two datasets. The p-values are
# Holm-corrected over the whole table.
#
# Is a metric's τ below accuracy's? The two τ are computed on the same paired networks, so they
# are dependent; `analysis.transfer_versus_reference` bootstraps whole networks to give an
# interval for $\tau_\text{metric} - \tau_\text{acc}$, with p-values Holm-corrected over every
# metric and pair.

# %%
opts = {"level": level, "seed": seed}
transfer = analysis.transfer_table(usable, analysed, top_ns=top_ns, n_boot=n_boot, **opts)
versus = analysis.transfer_versus_reference(usable, analysed, n_boot=n_boot_diff, **opts)
verdicts = analysis.transfer_verdicts(transfer, versus, alpha=alpha)
by_pair = ["space", "dataset_a", "dataset_b"]
for key, table in transfer.groupby(by_pair, sort=False):
    display(report.md(f"**{analysis.pair_name(key)}**: τ between the datasets [{level:.0%} "
                      f"interval]; * Holm p < {alpha:g}"),
            report.ci_table(table, index="metric", columns="models", p="p_holm", alpha=alpha,
                            names=display_name, nowrap=False))  # fmt: skip
report.md(*[analysis.transfer_sentence(rows) for _, rows in verdicts.groupby(by_pair, sort=False)]
          or ["Skipped: no dataset pair."])

# %% [markdown]
# How to read these lines: a metric **transfers** when its τ between the datasets is positive
# with a Holm-corrected p-value below `alpha`, **reverses** when it is negative at that level,
# and shows **no detectable transfer** otherwise. "τ below accuracy's" means that the interval
# of $\tau_\text{metric} - \tau_\text{acc}$ lies below zero with a Holm p-value below `alpha`;
# a metric whose τ is indistinguishable from accuracy's may still mix calibration with accuracy
# (NLL does by construction). [Seed noise](seeds.ipynb) adds a caution: a column whose
# seed-to-seed agreement is low cannot transfer well even between two trainings on the *same*
# dataset.

# %% [markdown]
# ## The headline metric on both datasets
#
# Each point of the figure is one architecture: its headline metric on dataset A against the same
# metric on dataset B, coloured by its accuracy on A. A transferable metric would put the points
# along a rising band.

# %% mystnb={"figure": {"caption": "The headline metric (the parameter `metric`, ECE with 15 bins by default, in percent) of every architecture on dataset A (x) and on dataset B (y), one panel per search space and pair of datasets; colour: accuracy on A. A metric that transfers puts the points along a rising band.", "name": "fig-rq1_transfer-scatter"}, "image": {"alt": "Scatter plots, one per search space and dataset pair, of each architecture's calibration error on one dataset against the other, coloured by accuracy on the first dataset."}}
if usable:
    fig, axes = plots.panel_grid(len(usable))
    for ax, (key, p) in zip(axes, usable.items(), strict=True):
        pair = [f"{headline}_a", f"{headline}_b"]
        shown = plots.percent_view(p, pair if plots.in_percent(headline) else [])
        sns.scatterplot(data=shown, x=pair[0], y=pair[1], hue="acc_a", ax=ax, palette="viridis")
        ax.set(xlabel=f"{plots.axis_label(headline)}\non {analysis.dataset_title(key[1])}",
               ylabel=f"{plots.axis_label(headline)}\non {analysis.dataset_title(key[2])}",
               title=analysis.pair_name(key))
        ax.legend(title=f"accuracy on {analysis.dataset_title(key[1])}", fontsize="small")
    fig.tight_layout()
else:
    report.md("Skipped: no dataset pair has enough networks on both datasets.")

# %% [markdown]
# ## τ as a function of N
#
# How does the answer depend on which networks are compared? For growing N, the figure shows τ of
# the headline metric among the N most accurate networks on A (with a bootstrap band), among N
# networks drawn at random (mean and band over 50 draws) and among the N **least** accurate
# networks, the selection the paper's code made when it meant the top N. At the largest N all
# three are the all-network τ by construction.

# %% mystnb={"figure": {"caption": "τ of the headline metric between dataset A and dataset B against the number N of networks compared (log axis): among the N most accurate on A (bootstrap band), among N drawn at random (mean and band over 50 draws) and among the N least accurate (the paper code's selection), one panel per search space and pair of datasets.", "name": "fig-rq1_transfer-population"}, "image": {"alt": "Line charts of Kendall tau against the number of networks, three lines with shaded bands per panel; the bands are wide at small N and the lines meet at the largest N."}}
curves = {}
for key, p in usable.items():
    x, y = f"{headline}_a", f"{headline}_b"
    sizes = analysis.population_sizes(int(p[[x, y, "acc_a"]].notna().all(axis=1).sum()))
    if sizes:
        curves[key] = analysis.selection_curve(p, x, y, sizes=sizes, by="acc_a", n_boot=n_boot,
                                               **opts)
labels = {"top": "N most accurate", "random": "random N", "lowest": "N least accurate (paper code)"}
if curves:
    fig, axes = plots.panel_grid(len(curves))
    for ax, (key, c) in zip(axes, curves.items(), strict=True):
        for selection, part in c.groupby("selection", sort=False):
            plots.plot_tau_vs_population(part, ax, label=labels[selection])
        ax.set(title=analysis.pair_name(key), ylim=(-1, 1), xlabel="number of networks N",
               ylabel=f"τ, {display_name(headline)}")
        ax.legend(fontsize="small")
    fig.tight_layout()

# %%
report.md(*[f"**{analysis.pair_name(key)}.** {analysis.population_sentence(c)}"
            for key, c in curves.items()] or ["Skipped: no curve."])

# %% [markdown]
# A τ quoted for a dozen networks, whichever dozen, carries an interval as wide as the one
# given for the smallest N: compare it with the all-network interval before reading a
# difference between selections into it.

# %% [markdown]
# ## Beside the paper
#
# The paper's numbers are τ(ECE_15 before scaling) between CIFAR-10, CIFAR-100 and
# ImageNet16-120 over all TSS architectures and over the 100 most accurate
# {cite}`tao2024benchmark`. The table sets each of them beside the same τ computed by calstudy
# from the paper's released data, from the demo store and, for a store of one's own, from this
# store ("—" where a store lacks the pair; "not built" where the build had no paper store).
# The paper gave no intervals, so its values are treated as exact.

# %%
paper = {n.quantity: n.value for n in chapter.PAPER if n.rq == "i"}
comparison = analysis.transfer_beside_paper(transfer, paper)
numbers = answers.beside_paper("i", df, store=store, n_boot=n_boot, **opts)
display(report.format_table(numbers))
beside = analysis.transfer_paper_sentences(comparison, paper)
report.md(" ".join(beside) or "This store has no 15-bin ECE before scaling of TSS networks on two "
          "datasets to place beside the paper's values.")

# %% [markdown]
# Where the paper's numbers come from:

# %%
report.format_table(chapter.paper_numbers("i").set_index("quantity").query("note != ''"))

# %% [markdown]
# ## Summary

# %%
summary = [
    "Rows of two datasets are joined by key, never by position, and top-N always means the N "
    "most accurate networks on dataset A.",
    *(analysis.transfer_sentence(rows, brief=True) for _, rows in verdicts.groupby(by_pair)),
    *beside,
]
if curves:
    widths = max(c.iloc[0]["high"] - c.iloc[0]["low"] for c in curves.values())  # top, smallest N
    summary.append(f"The top-N intervals at the smallest N are up to {report.fixed(widths, signed=False)}"
                   " wide: quote a τ over a dozen networks with its population and interval.")
if not usable:
    summary.append("This store has no dataset pair to compare; the chapter stated no finding.")
alls = transfer[transfer["models"] == "all"]


def taus_of(m):
    return "; ".join(f"{analysis.pair_name(tuple(r[by_pair]))}: "
                     f"{report.ci(r['tau'], r['low'], r['high'])} (n = {int(r['n']):,})"
                     for _, r in alls[alls["metric"] == m].iterrows())


report.glue_md("rq1_transfer-answer", answers.box(
    question="Is a network that is well calibrated on one dataset also well calibrated on "
    "another?",
    ours=f"Between two datasets, over all networks, τ of {prose_name(headline)} is "
    f"{taus_of(headline)}. Accuracy's τ, for comparison: {taus_of('acc')}." if usable
    else "This store holds no pair of datasets to compare.",
    caveat="τ depends on which networks are compared (see τ against N), and the paper's pairs "
    "(CIFAR-10, CIFAR-100, ImageNet16-120) may differ from this store's: compare conclusions, "
    "not digits.",
    numbers=numbers,
))
report.md("\n".join(f"- {s}" for s in summary))

# %% [markdown]
# **Exercises.** Rerun with `metric = "post_ECE_15"`: does calibration *after* temperature
# scaling transfer better? Rerun with `join_on = ["space", "arch"]` after averaging seeds, if
# the store holds several.

# %%
# What must hold for any data: pairing by key, τ in [-1, 1], intervals around their estimate,
# top-N the most accurate, p-values in [0, 1].
assert len(df) >= min_rows, len(df)
for key, p in usable.items():
    assert not p.duplicated(join_on).any(), f"pairing by key produced duplicate networks: {key}"
    for n in [n for n in top_ns if n < len(p)]:  # top-N is the N MOST accurate on dataset A
        best = analysis.top_n(p, n, by="acc_a")
        assert best["acc_a"].min() >= p.drop(best.index)["acc_a"].max(), (key, n)
for table, value, bound in ((transfer, "tau", 1), (versus, "difference", 2)):
    for r in table.itertuples():
        estimate = getattr(r, value)
        assert np.isnan(estimate) or -bound <= estimate <= bound, r
        assert np.isnan(r.p) or 0 <= r.p <= r.p_holm + 1e-12 <= 1 + 1e-12, r
        if r.n >= 20 and np.isfinite(estimate):  # percentile intervals can miss on tiny samples
            assert r.low - 1e-9 <= estimate <= r.high + 1e-9, r
for curve in curves.values():
    assert curve["tau_mean"].dropna().between(-1, 1).all(), curve
if not usable:
    assert transfer.empty, "no cross-dataset τ can exist without networks on both datasets"
