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
# NATS-Bench lets us vary one design choice at a time: in the topology space (TSS) the
# operation on each of the cell's six edges, in the size space (SSS) the width of each of five
# stages {cite}`dong2021nats`. The reference study {cite}`tao2024benchmark` found that in SSS
# wider networks are worse calibrated before temperature scaling (median ECE 1.7 % at total
# width 40–80 against 6.8 % at 280–320 on ImageNet16-120), and that the twenty TSS cells with
# the best harmonic calibration score (HCS, accuracy and calibration together) *all* place a
# skip connection on the edge from the cell's input to its output (0→3) and a convolution on
# edge 0→1. The paper read these off plots; here each is a regression with confidence
# intervals, Holm-corrected across coefficients, or an enrichment test against the sample.
#
# **Prerequisites:** the [calibration primer](primer); the TSS cell (4 nodes, 6 edges, edge
# $j \to i$ stored in the column `edge_i_j`) and the SSS widths `c0` … `c4`. **You will see:**
# the effect of each operation on each edge, operation counts, ECE against width and size, and
# the top cells by HCS.
#
# **Scale.** Our cells sit in a C = 16, N = 1 skeleton trained for a few epochs; NATS-Bench's in
# a C = 16, N = 5 skeleton trained for 200. Design effects on calibration may change with depth
# and training length: the regressions here describe our networks, not NATS-Bench's.

# %% tags=["parameters"]
store = "data/demo"  # calibration store directory
dataset = "cifar10"  # dataset whose networks are analysed
metric = "ECE"  # binned metric family for the regressions and HCS
n_bins = 15
hcs_prefix = "pre"  # HCS uses the ECE before ("pre") or after ("post") temperature scaling
top_k = 20  # cells kept by HCS (the paper: 20)
reference_op = "none"  # TSS operation the edge contrasts are drawn against
min_level_count = 5  # fewest cells an operation needs on an edge to enter the edge regression
min_group = 30  # fewest rows for a regression; smaller groups are skipped with a note
n_boot = 500  # bootstrap resamples of every τ interval
alpha = 0.05  # family-wise error rate of the Holm-corrected tests
seed = 0
min_rows = 3
min_rows_for_claims = 40  # directional claims are asserted only when TSS and SSS have this many

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from scipy import stats

from calstudy import analysis, chapter, plots
from calstudy.space import TSS_OPS

sns.set_theme(style="whitegrid", context="notebook")
df = chapter.load_study(
    store, datasets=[dataset], metrics=[metric], bin_counts=[n_bins], min_rows=min_rows
)
pre, post = (chapter.column(metric, n_bins=n_bins, prefix=p) for p in ("pre", "post"))
tss = df[df["space"] == "tss"].dropna(subset=["acc", pre, post])
sss = df[df["space"] == "sss"].dropna(subset=["acc", pre, post])
print(f"{dataset}: {len(tss)} TSS cells, {len(sss)} SSS networks; metric {pre} / {post}")

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

# %%
edge_table = pd.DataFrame()
effects = {}
if len(tss) >= max(min_group, 4 * 6 + 2):  # 24 indicators and an intercept
    edge_table = pd.concat(
        {
            col: analysis.edge_tests(tss, col, correction="holm", min_count=min_level_count)
            for col in (pre, post)
        },
        names=["metric", "row"],
    ).reset_index(level="row", drop=True).reset_index()
    n_dropped = analysis.edge_tests(tss, pre, min_count=min_level_count).attrs["n_dropped"]
    print(f"{n_dropped} cells with an operation rarer than {min_level_count} on its edge left out")
    for col in (pre, post):
        rows = edge_table[edge_table["metric"] == col]
        hits = rows[rows["p_holm"] < alpha]
        first = rows.sort_values("p").iloc[0]
        print(
            f"{col}: {len(hits)} of {len(rows)} edges matter jointly after Holm "
            + (
                "(" + ", ".join(
                    f"{e}: spread {s:.4f}, Holm p {q:.3g}"
                    for e, s, q in zip(hits["edge"], hits["spread"], hits["p_holm"], strict=True)
                ) + ")"
                if len(hits)
                else f"(smallest Holm p {first['p_holm']:.3g}, {first['edge']})"
            )
        )
    # The single contrasts, for the picture: each operation against `reference_op`.
    fig, axes = plt.subplots(1, 2, figsize=(13, 7), sharey=True)
    for ax, col in zip(axes, (pre, post), strict=True):
        effects[col] = analysis.op_effects(
            tss, col, encoding="edge", reference=reference_op, min_count=min_level_count
        )
        readable = effects[col].assign(  # edge_3_0[skip_connect] → 0→3 skip_connect
            term=effects[col]["term"].str.replace(
                r"edge_(\d)_(\d)\[(.*)\]", r"\2→\1 \3", regex=True
            )
            + " vs " + effects[col]["reference"]
        )
        plots.plot_op_effects(readable, ax=ax, alpha=alpha)
        ax.set(title=col, xlabel=f"change in {col} against the edge's reference operation")
    fig.tight_layout()
else:
    print(f"Only {len(tss)} TSS rows: too few for 25 coefficients; edge regression skipped.")
edge_table.round(4)

# %% [markdown]
# The picture shows the single contrasts behind the joint tests, each against `reference_op`
# (or, on an edge where it was left out as too rare, the edge's most common operation), with
# HC3 intervals; red ones stay significant after Holm's correction over all of them. They
# describe the fitted model; which of them look significant depends on the reference, so the
# findings below rest on the joint tests.

# %% [markdown]
# The same data as a picture of medians: the median ECE of the cells carrying each operation on
# each edge, before temperature scaling. Each cell of the heat map pools over the other five
# edges, so it mixes the edge's own effect with whatever happens elsewhere; the regression above
# separates them.

# %%
if len(tss):
    edge_long = tss.melt(
        id_vars=[pre, post], value_vars=list(analysis.EDGES), var_name="edge", value_name="op"
    )
    edge_long["edge"] = edge_long["edge"].map(lambda e: f"{e.split('_')[2]}→{e.split('_')[1]}")
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
    for ax, col in zip(axes, (pre, post), strict=True):
        heat = edge_long.pivot_table(index="op", columns="edge", values=col, aggfunc="median")
        heat = heat.reindex(index=[o for o in TSS_OPS if o in heat.index])
        sns.heatmap(
            100 * heat,
            annot=True,
            fmt=".1f",
            cmap="rocket_r",
            ax=ax,
            cbar_kws={"label": f"median {col} (%)"},
        )
        ax.set(xlabel="edge", ylabel="operation", title=col)
    fig.tight_layout()

# %% [markdown]
# ## TSS: how many of each operation
#
# The count encoding asks a coarser question: does each extra edge carrying an operation move
# ECE, wherever it sits? The six counts sum to 6, so `reference_op`'s count is left out.

# %%
counts = {}
if len(tss) >= max(min_group, 6):  # 4 counts and an intercept
    for col in (pre, post):
        counts[col] = analysis.op_effects(tss, col, encoding="count", reference=reference_op)
    count_table = pd.concat(counts, names=["metric", "row"]).reset_index(level="row", drop=True)
    display_table = count_table.reset_index()
else:
    display_table = pd.DataFrame()
    print(f"Only {len(tss)} TSS rows (< min_group = {min_group}): count regression skipped.")
display_table.round(4)

# %% [markdown]
# ## SSS: width and size
#
# τ-b of ECE with the total width $c_0 + \dots + c_4$ and with the number of parameters, with
# bootstrap intervals, and ECE against total width with a LOWESS trend. The paper's SSS
# comparison, median ECE of the narrowest (total width 40–80) against the widest (280–320)
# networks, is printed beside it.

# %%
sss_rows = []
if len(sss) >= 3:
    for x in ("total_width", "n_params"):
        for col in (pre, post):
            r = analysis.kendall_ci(sss[x], sss[col], n_boot=n_boot, seed=seed)
            sss_rows.append(
                {
                    "x": x,
                    "metric": col,
                    "tau": r.tau,
                    "low": r.low,
                    "high": r.high,
                    "p": r.p_value,
                    "n": r.n,
                }
            )
sss_taus = pd.DataFrame(sss_rows, columns=["x", "metric", "tau", "low", "high", "p", "n"])
sss_taus["p_holm"] = analysis.correct_pvalues(sss_taus["p"].to_numpy(), method="holm")
narrow = sss[sss["total_width"].between(40, 80)]
wide = sss[sss["total_width"].between(280, 320)]


def median_pct(rows, col):
    return f"{100 * rows[col].median():.1f} % (n = {len(rows)})" if len(rows) else "no networks"


for col in (pre, post):
    print(
        f"{col}: median {median_pct(narrow, col)} at total width 40–80, "
        f"{median_pct(wide, col)} at 280–320"
    )
    if narrow[col].notna().sum() >= 2 and wide[col].notna().sum() >= 2:
        r = analysis.bootstrap_diff(wide[col], narrow[col], n_boot=n_boot, seed=seed)
        print(
            f"{col}: wide − narrow median = {100 * r.estimate:+.2f} % [{100 * r.low:+.2f}, "
            f"{100 * r.high:+.2f}], Mann–Whitney p = {r.p_value:.2g}"
        )
if len(sss):
    print(f"total widths in this sample: {sss['total_width'].min()} – {sss['total_width'].max()}")
sss_taus.round(3)

# %%
if len(sss) >= min_group:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharex=True)
    for ax, col in zip(axes, (pre, post), strict=True):
        plots.plot_metric_scatter(
            sss,
            "total_width",
            col,
            ax=ax,
            hue="acc",
            trend=analysis.fit_trend(sss, "total_width", col, kind="lowess"),
        )
        ax.set(title=f"SSS {dataset}: {col}", xlabel="total width c0 + … + c4")
    fig.tight_layout()
else:
    print(f"Only {len(sss)} SSS rows (< min_group = {min_group}): the width figure is skipped.")

# %% [markdown]
# **Uniform widths.** The paper also swept networks whose five stages share one width
# ($c_0 = \dots = c_4$ from 8 to 64 on CIFAR-100: ECE 1.5 → 10.7 % before scaling, 1 → 2.7 %
# after). The next cell uses such networks if the store holds at least three.

# %%
widths = sss[["c0", "c1", "c2", "c3", "c4"]]
uniform = sss[widths.nunique(axis=1) == 1].sort_values("c0")
if len(uniform) >= 3:
    print(uniform[["arch", "acc", pre, post]].to_string(index=False))
    sweep = analysis.kendall_ci(uniform["c0"], uniform[pre], n_boot=n_boot, seed=seed)
    print(
        f"τ(width, {pre}) over {sweep.n} uniform networks: {sweep.tau:+.2f} "
        f"[{sweep.low:+.2f}, {sweep.high:+.2f}]"
    )
else:
    print(
        f"The store holds {len(uniform)} uniform-width SSS networks on {dataset}; the sweep "
        "needs 3. Add them with `calstudy sweep --preset demo --archs widths.txt --out "
        "data/demo`, widths.txt listing 8:8:8:8:8, 16:16:16:16:16, … one per line."
    )

# %% [markdown]
# ## TSS: the best cells by harmonic calibration score
#
# $\mathrm{HCS} = 2\,\mathrm{acc}\,(1 - \mathrm{ECE}) / (\mathrm{acc} + 1 - \mathrm{ECE})$ is high
# only for cells that are both accurate and well calibrated (`analysis.top_hcs`, best first).

# %%
hcs_col = chapter.column(metric, n_bins=n_bins, prefix=hcs_prefix)
k = min(top_k, len(tss))
best = analysis.top_hcs(tss, k, ece=hcs_col) if k else tss.assign(hcs=[])
shown = best[["hcs", "acc", hcs_col, *analysis.EDGES]].rename(
    columns={e: f"{e.split('_')[2]}→{e.split('_')[1]}" for e in analysis.EDGES}
)
shown.reset_index(drop=True).round(4)

# %% [markdown]
# How often does each operation sit on edges 0→3 and 0→1 among those cells, and how often in
# the whole sample? Exact one-sided binomial tests ask whether the top cells carry a skip
# connection on 0→3, or a convolution on 0→1, more often than the sample's base rate (the
# paper: 20 of 20 skip connections), Holm-corrected over the two tests; each share carries a
# Wilson interval.

# %%
enrichment = pd.DataFrame(
    {
        (edge, group): rows[edge].value_counts().reindex(TSS_OPS, fill_value=0)
        for edge in ("edge_3_0", "edge_1_0")
        for group, rows in (("top", best), ("sample", tss))
    }
)
enrichment.columns = [f"{e.split('_')[2]}→{e.split('_')[1]} {g}" for e, g in enrichment.columns]
print(enrichment.to_string())
skip_top = int((best["edge_3_0"] == "skip_connect").sum())
base_rate = float((tss["edge_3_0"] == "skip_connect").mean()) if len(tss) else float("nan")
conv_top = int(best["edge_1_0"].isin(["nor_conv_1x1", "nor_conv_3x3"]).sum())
conv_rate = (
    float(tss["edge_1_0"].isin(["nor_conv_1x1", "nor_conv_3x3"]).mean()) if len(tss) else np.nan
)
if k:
    test = stats.binomtest(skip_top, k, base_rate, alternative="greater")
    conv_test = stats.binomtest(conv_top, k, conv_rate, alternative="greater")
    enrich_holm = analysis.correct_pvalues([test.pvalue, conv_test.pvalue], method="holm")
    skip_ci, conv_ci = analysis.wilson_ci(skip_top, k), analysis.wilson_ci(conv_top, k)
    print(
        f"0→3 skip_connect: {skip_top} of {k} top cells ({skip_ci[0]:.0%} "
        f"[{skip_ci[1]:.0%}, {skip_ci[2]:.0%}]) vs base rate {base_rate:.2f}; one-sided "
        f"binomial p = {test.pvalue:.3g}, Holm p = {enrich_holm[0]:.3g}"
    )
    print(
        f"0→1 a convolution: {conv_top} of {k} top cells ({conv_ci[0]:.0%} "
        f"[{conv_ci[1]:.0%}, {conv_ci[2]:.0%}]) vs base rate {conv_rate:.2f}; one-sided "
        f"binomial p = {conv_test.pvalue:.3g}, Holm p = {enrich_holm[1]:.3g}"
    )

# %% [markdown]
# ## Next to the paper

# %%
ours = {
    "top-20 TSS by HCS: edge 0→3": f"skip_connect in {skip_top} of {k} (sample {base_rate:.0%})"
    + (f", 95 % CI [{skip_ci[1]:.0%}, {skip_ci[2]:.0%}]" if k else ""),
    "top-20 TSS by HCS: edge 0→1": f"a convolution in {conv_top} of {k} (sample {conv_rate:.0%})"
    + (f", 95 % CI [{conv_ci[1]:.0%}, {conv_ci[2]:.0%}]" if k else ""),
    "SSS: median ECE, total width 40–80 vs 280–320": f"{median_pct(narrow, pre)} vs {median_pct(wide, pre)} ({dataset})",
}
for _, row in sss_taus[sss_taus["x"] == "total_width"].iterrows():
    ours[f"τ(total width, {row['metric']})"] = (
        f"{row['tau']:+.2f} [{row['low']:+.2f}, {row['high']:+.2f}]"
    )
paper = {
    "top-20 TSS by HCS: edge 0→3": "always skip_connect",
    "top-20 TSS by HCS: edge 0→1": "a convolution; pooling and none rare",
    "SSS: median ECE, total width 40–80 vs 280–320": "1.7 % vs 6.8 % (ImageNet16-120)",
    f"τ(total width, {pre})": "positive (wider: worse calibrated)",
    f"τ(total width, {post})": "—",
}
analysis.compare_to_paper(ours, paper).drop(columns="difference")

# %% [markdown]
# ## Summary
#
# What the demo store shows on the chosen dataset (the last cell checks each statement when
# TSS and SSS each have at least `min_rows_for_claims` networks):
#
# - **Before temperature scaling, no edge's operation matters on its own** (joint Wald test per
#   edge, Holm over the six edges): with one row per cell the demo sample cannot attribute the
#   pre-scaling ECE to one edge. **After scaling, the operations on edges 0→1 and 1→2 do**, with
#   an average pooling the worst choice on both; their spread, the gap between the best and worst
#   operation on the edge, is about 0.004 ECE.
# - **Counting operations is more informative:** in the count regression before scaling, each
#   extra average pooling raises ECE with a Holm-significant coefficient (the `n_avg_pool_3x3`
#   row of the `pre_` block); the table shows which other counts do.
# - **Wider SSS networks are worse calibrated before temperature scaling** — the paper's
#   finding: the printed τ(total width, `pre_`) is positive and its interval excludes 0. After
#   scaling the relation is gone (the `post_` interval contains 0). The paper's comparison of
#   total width 40–80 against 280–320 cannot be made: our random sample of widths has no
#   networks at either extreme (the printed width range), so the τ replaces it.
# - **The paper's central design finding is not reproduced:** among our best cells by HCS a
#   skip connection on edge 0→3 is no more frequent than in the whole sample (the printed
#   counts, the Wilson interval of the share and the one-sided binomial p), where the paper
#   found it in all twenty; the paper's 20 of 20 lies far above our interval. Edge 0→1 does
#   carry a convolution in most top cells (the lower end of the Wilson interval is above one
#   half), as in the paper; whether that is more than the sample's own share of convolutions
#   on 0→1 is the printed second binomial test. A possible reason is scale:
#   in a one-cell-per-stage (N = 1), 10-epoch network the residual path matters less for
#   optimisation than in NATS-Bench's deeper N = 5, 200-epoch networks, and our HCS is driven
#   by accuracy differences of a few points.
#
# **Exercise.** Rerun with `-p hcs_prefix post`: after temperature scaling, does the skip on
# 0→3 still mark the best cells, or does HCS then reduce to accuracy?

# %%
# The chapter's claims, checked so that a run that contradicts them fails the build.
assert len(df) >= min_rows, len(df)
assert edge_table.empty or edge_table[["p", "p_holm"]].stack().between(0, 1).all()
for table in [*effects.values(), *counts.values()]:
    assert (table["low"] <= table["coef"] + 1e-12).all() and (
        table["coef"] <= table["high"] + 1e-12
    ).all()
    assert table["p_holm"].dropna().between(0, 1).all()
for _, row in sss_taus.iterrows():
    assert -1 <= row["tau"] <= 1 and row["low"] - 1e-9 <= row["tau"] <= row["high"] + 1e-9
if k:  # top_hcs returns the HIGHEST scores, best first
    assert best["hcs"].is_monotonic_decreasing
    rest = analysis.hcs(tss["acc"], tss[hcs_col])
    assert best["hcs"].min() >= np.sort(rest)[-k] - 1e-12
    assert 0 <= skip_top <= k and 0 <= conv_top <= k
if len(tss) >= min_rows_for_claims and len(sss) >= min_rows_for_claims and k:
    joint = edge_table.set_index(["metric", "edge"])["p_holm"] < alpha
    assert not joint[pre].any(), edge_table  # no edge matters before scaling
    assert set(joint[post][joint[post]].index) == {"edge_1_0", "edge_2_1"}, edge_table
    worst = edge_table.set_index(["metric", "edge"])["worst"]
    assert worst[post, "edge_1_0"] == worst[post, "edge_2_1"] == "avg_pool_3x3", edge_table
    pool = counts[pre].set_index("term").loc["n_avg_pool_3x3"]
    assert pool["coef"] > 0 and pool["p_holm"] < alpha, pool.to_dict()
    width = sss_taus[sss_taus["x"] == "total_width"].set_index("metric")
    assert width.loc[pre, "low"] > 0 and width.loc[pre, "p_holm"] < alpha, width  # wider: worse
    assert width.loc[post, "low"] < 0 < width.loc[post, "high"], width  # gone after scaling
    assert test.pvalue > alpha, test  # skip on 0→3 not over-represented among the top cells
    assert skip_ci[2] < 1.0, skip_ci  # the paper's 20 of 20 lies above our interval
    assert conv_top > k / 2 and conv_ci[1] > 0.5, conv_ci  # most top cells: a conv on 0→1
else:
    print(
        f"Fewer than {min_rows_for_claims} TSS or SSS networks: the directional claims were "
        "not checked."
    )
