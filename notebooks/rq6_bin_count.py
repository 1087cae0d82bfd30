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
# # RQ vi: How many bins should a binned estimator use?
#
# :::{admonition} This chapter in one box
# :class: tip
# ```{glue:md} rq6_bin_count-answer
# :format: myst
# ```
# :::
#
# Every binned estimator (ECE, its equal-mass variant ECE_em, the classwise cwCE and the
# maximum MCE) needs a number of bins $B$, and nothing in the definition says which. The
# reference study {cite}`tao2024benchmark` computed each at nine bin counts, 5 to 500, and found
# two things: the values grow with $B$, strongly so after temperature scaling (median
# post-scaling ECE 1.5 % at 5 bins, 9.7 % at 500 on ImageNet16-120), and the *ranking* of models
# depends on $B$ after temperature scaling (τ between bin counts 0.82–0.98 before scaling,
# 0.25–0.81 after, 5 vs 500 bins: 0.25). This chapter repeats both measurements for every
# search space × dataset of the store and adds a reference the paper lacked: the value a
# **perfectly calibrated** model with the same accuracy and test-set size would get, the
# estimator's finite-sample floor.
#
# **Prerequisites:** the [calibration primer](primer), in particular "The number of bins
# matters". **You will see:** distributions across bin counts before and after temperature
# scaling, their medians beside the paper's, the calibrated floor, and rank stability between
# bin counts as a τ heat map with bootstrap intervals for the key pairs.
#
# **Scale.** The demo store's networks are small and briefly trained; the paper's are
# NATS-Bench's 200-epoch networks, and its headline medians are on ImageNet16-120 (120
# classes), which the demo store does not hold. On a store that holds it (the paper's data) the
# medians are set beside the paper's directly; elsewhere, compare shapes (how fast values grow
# with $B$, how stable ranks are) rather than levels.

# %% tags=["parameters"]
store = "data/demo"  # calibration store directory
spaces = []  # search spaces analysed; empty list: every space in the store
datasets = []  # datasets analysed; empty list: every dataset in the store
metric = "ECE"  # binned family: "ECE", "ECE_em", "cwCE", "cwCE_em" or "MCE"
bin_counts = [5, 10, 15, 20, 25, 50, 100, 200, 500]  # each must be in the store
ref_bins = 15  # bin count the other counts are compared with (the paper's headline)
min_group = 10  # smallest space × dataset group analysed; smaller groups are left out
n_boot = 500  # bootstrap resamples of every interval
n_sim = 5  # simulated calibrated models averaged for the finite-sample floor
max_boot_rows = 2000  # most models the bootstrap of the change in rank stability resamples
level = 0.95  # confidence level of every interval
alpha = 0.05  # family-wise error rate of the Holm-corrected tests
seed = 0
min_rows = 3  # fewest models the chapter accepts

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import HTML, display

from calstudy import analysis, answers, chapter, plots, report
from calstudy.catalogue import display_name

sns.set_theme(style="whitegrid", context="notebook")
df = chapter.load_study(
    store, space=spaces or None, datasets=datasets or None, metrics=[metric],
    bin_counts=bin_counts, min_rows=min_rows,
)  # fmt: skip
if metric not in analysis.BINNED_FAMILIES:
    raise ValueError(f"Expected `metric` to be one of {analysis.BINNED_FAMILIES}, got {metric!r}.")
bin_counts = sorted(int(b) for b in bin_counts)
if len(bin_counts) < 2:
    raise ValueError(f"Expected `bin_counts` to hold at least 2 bin counts, got {bin_counts}.")
if ref_bins not in bin_counts:
    ref_bins = bin_counts[len(bin_counts) // 2]
    display(report.md(f"`ref_bins` is not among `bin_counts`; comparing with {ref_bins} instead."))
lo, hi = bin_counts[0], bin_counts[-1]
df["group"] = analysis.group_label(df)
sizes = df["group"].value_counts().sort_index()
groups = [g for g, n in sizes.items() if n >= max(min_group, min_rows, 3)]
df = df[df["group"].isin(groups)]
options = {"n_boot": n_boot, "level": level, "seed": seed, "min_rows": max(min_group, min_rows)}
report.md(
    f"This store: `{metric}` at {report.join(bin_counts)} bins; analysed: "
    f"{report.join(f'{g} ({sizes[g]:,})' for g in groups)}. "
    + (f"Left out for having fewer than {max(min_group, 3)} models: "
       f"{report.join(f'{g} ({n})' for g, n in sizes.items() if g not in groups)}."
       if len(groups) < len(sizes) else "")
)

# %% [markdown]
# ## The finite-sample floor
#
# Even a perfectly calibrated model has a positive binned ECE on a finite test set: each bin's
# accuracy is estimated from few samples, and the absolute gap turns that noise into a positive
# bias that grows with $B$ {cite}`kumar2019verified`. To separate this from miscalibration we
# simulate, for each group, `n_sim` calibrated models (labels drawn from their own softmax
# probabilities) with the dataset's number of classes, the group's median accuracy and the
# number of test images the `post_` columns were evaluated on (the `pre_` columns use all test
# images, a quarter more, so their floor is slightly lower), and compute the same estimator.

# %%
floors = analysis.calibrated_floors(df, metric, bin_counts, n_sim=n_sim, seed=seed,
                                    min_rows=options["min_rows"])
report.md(*(f"- {s}" for s in analysis.floor_sentences(floors)))

# %% [markdown]
# ## Distributions across bin counts
#
# {numref}`fig-rq6_bin_count-distributions`: one box per bin count, over all models of the
# group; left before temperature scaling, right after. The dashed black line is the calibrated
# floor from above: a model on that line is indistinguishable from a perfectly calibrated one
# *by this estimator*.

# %% mystnb={"figure": {"caption": "The metric (in percent) at each bin count over the models of each search space × dataset (one row per group), before temperature scaling (left) and after (right); dashed: the finite-sample floor of a perfectly calibrated model.", "name": "fig-rq6_bin_count-distributions"}, "image": {"alt": "Rows of box plots, one row per search space and dataset, of the calibration error in percent at each number of bins, before and after temperature scaling, with a dashed line for the value a perfectly calibrated model would get, which rises with the number of bins."}}
fig, axes = plt.subplots(max(1, len(groups)), 2, figsize=(11, 3.6 * max(1, len(groups))),
                         squeeze=False)  # fmt: skip
for row_axes, g in zip(axes, groups, strict=False):
    floor = floors[floors["group"] == g].set_index("n_bins")["floor"].reindex(bin_counts)
    for ax, when in zip(row_axes, ("pre", "post"), strict=True):
        plots.plot_bin_count_distributions(df[df["group"] == g], f"{when}_{metric}", ax=ax,
                                           bin_counts=bin_counts)
        ax.plot(range(len(bin_counts)), 100 * floor.to_numpy(), "k--", label="calibrated floor")
        ax.set(title=f"{g}, {when} temperature scaling",
               ylabel=f"{display_name(f'{when}_{metric}')} (%)")
axes[0, 0].legend(loc="upper left")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Medians beside the calibrated floor
#
# Median over models, in percent, per bin count, with its bootstrap interval over models, and
# the calibrated floor. The growth factor, the median at the most bins over the median at the
# fewest, is comparable across datasets even when the levels are not; the paired bootstrap of
# the difference between the growth after and before scaling says whether scaling changes it
# beyond chance. The ratio to the calibrated floor says how much of the estimate is more than
# estimator noise: a ratio near 1 at large $B$ means the estimator measures mostly its own
# variance there.

# %%
medians = analysis.bin_count_medians(df, metric, bin_counts, **options)
table = medians.assign(column=medians["group"] + " " + medians["when"]).pivot(
    index="n_bins", columns="column", values="median")
for g in groups:  # each group's pre and post medians, then its floor
    table[f"{g} floor"] = floors[floors["group"] == g].set_index("n_bins")["floor"]
table = table[[f"{g} {w}" for g in groups for w in ("pre", "post", "floor") if f"{g} {w}" in table]]
display(report.format_table(table, percent=list(table.columns), decimals=dict.fromkeys(table, 2))
        .T.rename_axis(index="group and stage", columns="bins"))  # a row per group and stage
ratios = analysis.floor_ratios(medians, floors)
growth = analysis.bin_growth(df, metric, bin_counts, alpha=alpha, **options)
report.md(*(f"- {s}" for s in analysis.bin_growth_sentences(growth, ratios, metric=f"`{metric}`")))

# %% [markdown]
# ## Are models ranked the same at every bin count?
#
# τ-b between the same metric at two bin counts, over all models, for every pair of bin counts
# (`analysis.bin_count_stability`). High τ means the choice of $B$ does not change which models
# look better calibrated. The median τ over all pairs summarises each heat map; its change with
# scaling carries a paired bootstrap interval over models. (The *minimum* τ is not a good
# summary: before scaling it is set by the extreme pair alone.) Below the maps, bootstrap
# intervals for the pairs that matter: every bin count against `ref_bins`, and the two
# extremes against each other (the paper's 5 vs 500), with p-values of τ = 0 Holm-corrected
# over the table. {numref}`fig-rq6_bin_count-stability` spans the page's full width so that
# every τ in it stays legible.

# %% tags=["full-width"] mystnb={"figure": {"caption": "Kendall τ-b between the metric at every pair of bin counts, over the models of each search space × dataset (one row per group); left before temperature scaling, right after. 1 on the diagonal; lighter cells: bin counts that rank the models differently.", "name": "fig-rq6_bin_count-stability"}, "image": {"alt": "Pairs of heat maps, one row per search space and dataset, of the rank correlation between the metric at every two numbers of bins, before and after temperature scaling, each cell annotated with its τ."}}
fig, axes = plt.subplots(max(1, len(groups)), 2, figsize=(12, 5.2 * max(1, len(groups))),
                         squeeze=False)  # fmt: skip
for row_axes, g in zip(axes, groups, strict=False):
    for ax, when in zip(row_axes, ("pre", "post"), strict=True):
        long = analysis.bin_count_stability(df[df["group"] == g], f"{when}_{metric}", bin_counts)
        plots.plot_bin_stability(long, ax=ax)
        ax.set_title(f"{g}, {display_name(f'{when}_{metric}')}")
fig.tight_layout()
plt.show()

# %%
stability = analysis.bin_stability(df, metric, bin_counts, alpha=alpha,
                                   max_boot_rows=max_boot_rows, **options)
pairs = sorted({(min(b, ref_bins), max(b, ref_bins)) for b in bin_counts if b != ref_bins}
               | {(lo, hi)})  # fmt: skip
key_pairs = analysis.bin_pair_taus(df, metric, pairs, **options)
shown = pd.concat([key_pairs[["group", "when", "bins_a", "bins_b", "n"]], report.ci_columns(
    key_pairs.reset_index(), index="index", columns={"τ": ("tau", "low", "high")}).reset_index(
    drop=True), report.format_table(key_pairs[["p_holm"]])], axis=1)  # fmt: skip
display(HTML(f"<details><summary>τ for each key pair of bin counts, each group, before and after "
             f"scaling ({len(shown)} rows)</summary>{shown.to_html(index=False)}</details>"))
stability_lines = analysis.bin_stability_sentences(stability, key_pairs)
report.md(*(f"- {s}" for s in stability_lines))

# %% [markdown]
# ## Next to the paper
#
# The paper's medians are ImageNet16-120's; its τ between bin counts are CIFAR-10 TSS's (0.82 –
# 0.98 before scaling, 0.25 – 0.81 after, 0.25 between 5 and 500 bins after). Its pre-scaling
# medians are an uncertain reading: the text quotes ≈ 5.3 % at 5–25 bins against 6.2 % at 500,
# while the released `q6.ipynb` plot reads ≈ 3.2 % at 5 bins and ≈ 9.2 % at 500; both are set
# beside this store's.

# %%
quotes = {n.quantity: n for n in chapter.PAPER if n.rq in ("iv", "vi")}
post_quote = next(q for k, q in quotes.items() if k.startswith("median post-scaling"))
pre_quote, plot_quote = (q for k, q in quotes.items() if k.startswith("median pre-scaling"))
tau_pre, tau_post = (analysis.paper_range(quotes[f"τ between bin counts, {w}-scaling"].value)
                     for w in ("pre", "post"))  # fmt: skip
numbers = answers.beside_paper("vi", df, store=store, n_boot=n_boot, level=level, seed=seed)
display(numbers)
extreme = analysis.paper_values(quotes["τ between bin counts, post-scaling"].note)  # 5, 500, τ
lines = [f"The paper's numbers are for ECE; this run's metric is `{metric}`."]
if metric == "ECE":
    lines = analysis.bin_paper_sentences(
        medians, stability, key_pairs, paper_tau_pre=tau_pre, paper_tau_post=tau_post,
        paper_post=dict(zip(map(int, analysis.paper_values(post_quote.quantity.split("bins")[0])),
                            analysis.paper_values(post_quote.value), strict=True)),
        paper_pre=tuple(analysis.paper_values(pre_quote.value)),
        paper_pre_plot=tuple(analysis.paper_values(plot_quote.value)),
        paper_extreme_post=extreme[-1], paper_extreme_bins=tuple(map(int, extreme[:2])),
    )  # fmt: skip
report.md(*(f"- {s}" for s in lines))

# %% [markdown]
# ## Summary

# %%
summary = analysis.bin_summary(growth, ratios, stability, key_pairs, metric=f"`{metric}`",
                               paper_tau_pre_low=tau_pre[0])  # fmt: skip
report.glue_md("rq6_bin_count-answer", answers.box(
    "How many bins should a binned estimator use, and does the choice change the answer?",
    " ".join([*(s for s in stability_lines if s.startswith("**TSS · cifar10**"))][:1]
             or stability_lines[:1]) + f" {summary[0]}", numbers=numbers,
    caveat="A binned estimate grows with the bin count even for a perfectly calibrated model (its "
    "finite-sample floor); the paper's medians are ImageNet16-120's, which a store may not hold."))
report.md(*(f"- {line}" for line in summary))

# %% [markdown]
# Whatever a store shows, state $B$ with every binned number, and on small test sets prefer few
# bins or a debiased estimator.
#
# **Exercise.** Rerun with `-p metric ECE_em` (equal-mass bins) and with
# `-p bin_counts "[5, 15, 100]"`: which family is least sensitive to $B$?

# %%
# What must hold for any data.
assert set(df["group"]) == set(groups)
key = [c for c in ("space", "arch", "dataset", "seed", "fidelity") if c in df.columns]
assert not df.duplicated(subset=key).any(), "one row per network"
assert (medians["median"] >= 0).all() and (medians["n"] > 0).all()
assert key_pairs["tau"].between(-1, 1).all()
big = key_pairs[key_pairs["n"] >= 20]
assert ((big["low"] - 1e-9 <= big["tau"]) & (big["tau"] <= big["high"] + 1e-9)).all(), big
assert stability.filter(regex="^(min|median|max)_").stack().dropna().between(-1, 1).all()
for table in (key_pairs, growth, stability):
    assert table.filter(regex="(^|_)p(_holm)?$").stack().dropna().between(0, 1).all(), table
assert (key_pairs["p_holm"] >= key_pairs["p"] - 1e-12).all()
