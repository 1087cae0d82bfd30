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
# # RQ v: Is calibration related to accuracy?
#
# :::{admonition} This chapter in one box
# :class: tip
# ```{glue:md} rq5_accuracy-answer
# :format: myst
# ```
# :::
#
# A more accurate model has fewer wrong predictions to be overconfident about, so one might
# expect better models to be better calibrated. The reference study {cite}`tao2024benchmark`
# found no monotone relation over the whole NATS-Bench space, but among the models above 90 %
# accuracy on CIFAR-10, ECE (15 bins) ranged over 3.8–6.8 % and *fell* as accuracy rose. This
# chapter asks the same question of every search space × dataset in the store, before and after
# temperature scaling {cite}`guo2017calibration`.
#
# **Prerequisites:** the [calibration primer](primer) (ECE, temperature scaling) and Kendall's
# τ-b. **You will see:** ECE against accuracy with a LOWESS and a linear trend, τ(accuracy, ECE)
# with bootstrap intervals for all models, the most accurate models and the rest, and the
# paper's numbers beside this store's.
#
# **Scale.** The demo store's networks are small (C = 16, N = 1) and trained for a few epochs on
# a subset of the training images; the paper's are NATS-Bench's 200-epoch networks, far more
# accurate. So "the most accurate models" are defined *relative to each group's own
# distribution*: the best `top_fraction` of each space × dataset by accuracy (or the best
# `top_n`, if set). The paper's fixed 90 % threshold is applied only where it is set beside the
# paper's range, on a store whose models reach it.

# %% tags=["parameters"]
store = "data/demo"  # calibration store directory
spaces = []  # search spaces analysed; empty list: every space in the store
datasets = []  # datasets analysed; empty list: every dataset in the store
metric = "ECE"  # binned metric family: "ECE", "ECE_em", "cwCE", "cwCE_em" or "MCE"
n_bins = 15  # bin count of the metric (the paper's headline uses 15)
top_fraction = 0.2  # "top models": the best 20 % by accuracy of each space × dataset …
top_n = 0  # … or, when > 0, the best top_n (highest accuracy first)
min_group = 10  # smallest space × dataset group analysed; smaller groups are left out
n_boot = 500  # bootstrap resamples of every interval
level = 0.95  # confidence level of every interval
alpha = 0.05  # family-wise error rate of the Holm-corrected tests
seed = 0
min_rows = 3  # fewest models the chapter accepts
t_tol = 0.05  # a group counts as miscalibrated before scaling when median |T - 1| exceeds this

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import display

from calstudy import analysis, answers, chapter, plots, report
from calstudy.catalogue import display_name, prose_name

sns.set_theme(style="whitegrid", context="notebook")
df = chapter.load_study(
    store, space=spaces or None, datasets=datasets or None, metrics=[metric],
    bin_counts=[n_bins], min_rows=min_rows,
)  # fmt: skip
pre, post = (chapter.column(metric, n_bins=n_bins, prefix=p) for p in ("pre", "post"))
df = df.dropna(subset=["acc", pre, post])
labelled = analysis.label_top(df, fraction=top_fraction, n=top_n, min_group=min_group)
groups = list(dict.fromkeys(labelled["group"]))
skipped = [f"{s['space'].upper()} · {s['dataset']} ({s['n']})" for s in labelled.attrs["skipped"]]
options = {"n_boot": n_boot, "level": level, "seed": seed, "alpha": alpha}
report.md(
    f"This store: {report.plural(len(df), 'model')} with accuracy, {prose_name(pre)} and {prose_name(post)}; "
    f"analysed: {report.join(f'{g} ({(labelled.group == g).sum():,})' for g in groups)}. "
    + (f"Left out for having fewer than {max(min_group, 3)} models: {report.join(skipped)}."
       if skipped else "")
)

# %% [markdown]
# ## Where the top models begin
#
# For each space × dataset we keep the most accurate models with `analysis.label_top`, which
# sorts by accuracy **descending** (the paper's released code took `sort_values('acc').head(N)`,
# the *least* accurate N). The table gives the accuracy threshold this implies, to set beside
# the paper's fixed 90 %.

# %%
every, best = labelled.groupby("group")["acc"], labelled[labelled["top"]].groupby("group")["acc"]
thresholds = pd.DataFrame({
    "models": every.size(), "top models": best.size(), "median acc": every.median(),
    "top threshold acc": best.min(), "best acc": every.max(),
})  # fmt: skip
report.format_table(thresholds, percent=["median acc", "top threshold acc", "best acc"])

# %% [markdown]
# ## ECE against accuracy
#
# The figure has one row per space × dataset: before temperature
# scaling on the left, after it on the right, both in percent. The black line and band are an
# OLS line with its 95 % confidence band; the orange line is a LOWESS smoother, which can bend
# where a line cannot. Points of the top group are drawn in red. Where no space × dataset
# group has `min_group` models, the figure is left out.

# %% mystnb={"figure": {"caption": "The metric (in percent) against accuracy, one row per search space × dataset; left before temperature scaling, right after. Black: OLS line with its 95 % band; orange: LOWESS trend; red: the most accurate models of the group.", "name": "fig-rq5_accuracy-relation"}, "image": {"alt": "A grid of scatter plots, one row per search space and dataset, of calibration error in percent against accuracy in percent, before scaling on the left and after on the right, each with a straight trend line and band, a curved LOWESS trend, and the most accurate models marked in red."}}
if groups:
    fig, axes = plt.subplots(len(groups), 2, figsize=(10, 3.4 * len(groups)), squeeze=False)
    as_pct = labelled.assign(**{c: 100 * labelled[c] for c in ("acc", pre, post)})
    for row, g in zip(axes, groups, strict=True):
        for ax, column in zip(row, (pre, post), strict=True):
            plots.plot_accuracy_relation(as_pct[as_pct["group"] == g], column, ax)
            ax.set(title=g, xlabel="accuracy (%)", ylabel=f"{display_name(column)} (%)")
    axes[0, 0].legend(loc="best", fontsize="small")
    fig.tight_layout()
    plt.show()

# %% [markdown]
# ## Rank agreement between accuracy and ECE
#
# τ-b between accuracy and ECE, with a percentile-bootstrap interval, for all models, the top
# group and the rest. A negative τ means that more accurate models tend to have *lower* ECE. We
# test many pairs at once, so the p-values are Holm-corrected across the table, and a relation
# is called rising or falling only when its corrected p-value is below `alpha`. If the top group
# and the rest disagree in sign, the relation is not monotone over the full accuracy range.

# %%
taus = analysis.accuracy_taus(labelled, [pre, post], **options)
display(report.format_table(taus.drop(columns=["space", "dataset", "relation"]).assign(
    metric=taus["metric"].map(display_name))))
report.md(
    "Over all models of each group:",
    "\n".join(f"- {s}" for s in analysis.accuracy_tau_sentences(taus, models="all")),
    "Among the top models:",
    "\n".join(f"- {s}" for s in analysis.accuracy_tau_sentences(taus, models="top")),
)

# %% [markdown]
# ## Is the relation monotone?
#
# The paper's two findings together say that the relation *changes* along the accuracy axis.
# We check that in two ways for each group before temperature scaling: whether the top group
# and the rest have τ of opposite sign, and where the LOWESS curve of ECE peaks. A peak inside
# the accuracy range (not at either end) means ECE first rises with accuracy and then falls.
# Opposite signs are only evidence of a change if the two τ differ by more than chance: the
# table adds τ(top) − τ(rest) with a bootstrap interval (the two groups are independent
# samples, each resampled on its own) and a Holm-corrected p-value over the groups.

# %%
shape = analysis.top_rest_contrast(labelled, pre, **options)
display(report.format_table(shape.drop(columns=["space", "dataset"]), percent=["peak_acc"]))
report.md(*(f"- {s}" for s in analysis.top_rest_sentences(shape)))

# %% [markdown]
# ## Does temperature scaling lower ECE?
#
# Temperature scaling divides the logits by one fitted $T$; it helps a model only as far as
# $T$ is away from 1. Two caveats make "post < pre" a weak test on well-calibrated networks:
# the `post_` columns are measured on the 80 % evaluation split while `pre_` uses all test
# predictions, and a binned ECE on a finite test set has a floor above zero that grows as the
# sample shrinks (see [RQ vi](rq6_bin_count)). So for each group we give the median
# temperature, the median paired change (post − pre, network by network) with a bootstrap
# interval and a Wilcoxon signed-rank p-value Holm-corrected over the groups, the share of
# models whose ECE fell with its Wilson interval, and τ between how far $T$ is from 1
# ($|\log T|$) and how much ECE fell. A group counts as miscalibrated before scaling when its
# median $|T - 1|$ exceeds `t_tol`.

# %%
effect = analysis.scaling_effect(labelled, pre, post, **options)
temperatures = analysis.temperature_summary(labelled.assign(drop=df[pre] - df[post]), "drop",
                                            **options)
display(pd.concat([  # the 19 columns of `effect`, as estimates with their intervals
    report.format_table(effect[["group", "n", "median_pre", "median_post"]].set_axis(
        ["group", "n", "median before", "median after"], axis=1), percent=["median before",
        "median after"], decimals=dict.fromkeys(["median before", "median after"], 2)),
    report.ci_columns(effect, index="group", columns={
        "median change (pp)": ("change", "change_low", "change_high"),
        "share lowered (%)": ("lowered", "lowered_low", "lowered_high"),
        "τ(pre, post)": ("tau", "tau_low", "tau_high")}, scale={"median change (pp)": 100,
        "share lowered (%)": 100}).reset_index(drop=True),
    report.format_table(effect[["change_p_holm"]].rename(columns={"change_p_holm": "p_holm"})),
], axis=1).set_index("group"))  # fmt: skip
if labelled["temperature"].isna().all():
    display(report.md("This store records no fitted temperatures (the column `temperature` is "
                      "empty, as in the paper's released data): the temperature columns of the "
                      "statements below are left out."))
report.md(*(f"- {s}" for s in analysis.scaling_gain_sentences(
    effect, temperatures, t_tol=t_tol, metric=prose_name(pre, stage=False))))

# %% [markdown]
# ## The top models, next to the paper
#
# The paper reports ECE (15 bins, before scaling) of CIFAR-10 TSS models above 90 % accuracy.
# The same statistic is computed for this store's TSS · cifar10 group where its models reach
# 90 % (the paper's own data do), beside the range over the group's top models as defined
# above. The table sets the paper's numbers beside calstudy's on the paper's released data, on
# the demo store and on this store (`answers.beside_paper`; ECE in percent; for the ECE range
# the brackets hold the range min – max around the median, elsewhere a bootstrap interval).

# %%
quote = next(n for n in chapter.PAPER if n.rq == "v" and n.quantity.startswith("ECE range"))
reference = "TSS · cifar10" if "TSS · cifar10" in groups else (groups or ["TSS · cifar10"])[0]
numbers = answers.beside_paper("v", df, store=store, n_boot=n_boot, level=level, seed=seed)
display(numbers)
if reference != "TSS · cifar10":
    display(report.md(f"This store has no TSS · cifar10 group with {min_group} models; the "
                      f"paper's CIFAR-10 TSS numbers are set beside {reference} instead."))
paper_lines = analysis.accuracy_paper_sentences(
    labelled, taus, shape, pre, paper_range_value=analysis.paper_range(quote.value),
    reference=reference)
report.md(*paper_lines)

# %% [markdown]
# ## Summary

# %%
summary = analysis.accuracy_summary(taus, shape, effect, pre=pre, post=post,
                                   metric=prose_name(pre, stage=False))
report.glue_md("rq5_accuracy-answer", answers.box(
    "Is a more accurate network better calibrated?",
    f"**{reference}.** " + " ".join(paper_lines[-1:] + paper_lines[1:-1]),
    caveat="The top group is relative to each space × dataset (its most accurate models), not "
    "the paper's fixed 90 %, which only a store of fully trained networks reaches.",
    numbers=numbers))
report.md(*(f"- {line}" for line in summary))

# %% [markdown]
# **Exercise.** Rerun with `-p top_fraction 0.05` and with `-p metric ECE_em`: does the top
# group's τ keep its sign?

# %%
# What must hold for any data.
assert len(df) >= min_rows, len(df)
key = [c for c in ("space", "arch", "dataset", "seed", "fidelity") if c in df.columns]
assert not df.duplicated(subset=key).any(), "one row per network"
assert df["acc"].between(0, 1).all() and df[[pre, post]].ge(0).all().all()
assert df["temperature"].dropna().gt(0).all()
for g, part in labelled.groupby("group"):  # the top models hold the HIGHEST accuracies
    rest = part.loc[~part["top"], "acc"]
    assert rest.empty or part.loc[part["top"], "acc"].min() >= rest.max(), g
    expected = top_n if top_n > 0 else -(-round(top_fraction * len(part) * 1e9) // 10**9)
    assert part["top"].sum() == min(max(expected, 3), len(part)), g
assert taus["tau"].between(-1, 1).all() and (taus["n"] >= 3).all()
big = taus[taus["n"] >= 20]
assert ((big["low"] - 1e-9 <= big["tau"]) & (big["tau"] <= big["high"] + 1e-9)).all(), big
for table in (taus, shape, effect, temperatures):
    assert table.filter(regex="(^|_)p(_holm)?$").stack().dropna().between(0, 1).all(), table
assert (taus["p_holm"] >= taus["p"] - 1e-12).all()
