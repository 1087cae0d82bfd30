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
# # The calibration dataset
#
# :::{admonition} This chapter in one box
# :class: tip
# ```{glue:md} dataset-answer
# :format: myst
# ```
# :::
#
# Every chapter of this book reads one table: one row per network, keyed by
# `(space, arch, dataset, seed, fidelity)`, with its accuracy, over a hundred calibration
# columns before and after temperature scaling, robustness columns and provenance. This
# chapter describes the store the book was built from: how its rows were made, how big it is
# next to the reference study's {cite}`tao2024benchmark`, which columns it fills, and how to
# load, extend and replace it. Every number below is computed from that store.
#
# **Prerequisites:** none beyond pandas. **You will see:** the provenance recorded in the rows,
# the scale against the paper's, the schema and what this store fills of it, summary
# statistics, the software versions, and the commands that load, extend and import data.

# %% tags=["parameters"]
store = "data/demo"  # calibration store directory
spaces = []  # search spaces described; empty list: every space in the store
datasets = []  # datasets described; empty list: every dataset in the store
preset = "demo"  # sweep preset whose planned jobs the store is checked against ("" for none)
n_bins = 15  # bin count of the ECE columns summarised below
n_examples = 4  # example column names shown per schema group
n_boot = 500  # bootstrap resamples of the temperature intervals
level = 0.95  # confidence level of every interval
alpha = 0.05  # significance level of the temperature tests
seed = 0
min_rows = 1

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import display

from calstudy import analysis, answers, chapter, plots, report, schema
from calstudy.store import Store
from calstudy.sweep import preset_config

sns.set_theme(style="whitegrid", context="notebook")
pd.set_option("display.max_colwidth", None)  # a table shows its labels whole
options = {"space": spaces or None, "datasets": datasets or None, "metrics": ["ECE"],
           "bin_counts": [n_bins], "min_rows": min_rows}  # fmt: skip
every_seed = chapter.load_study(store, seeds="all", **options)
df = chapter.load_study(store, **options)  # one row per network: its lowest seed
root = chapter.resolve_store(store)
pre, post = (chapter.column("ECE", n_bins=n_bins, prefix=p) for p in ("pre", "post"))
per_group = df.groupby(["space", "dataset"]).size().unstack(fill_value=0)
sources = every_seed["source"].value_counts()
display(report.md(analysis.store_contents_sentence(df, every_seed, store=store,
                                                   whole=not (spaces or datasets))),
        report.format_table(per_group))  # fmt: skip

# %% [markdown]
# ## How it was made
#
# A store is filled in one of two ways. A **sweep** (`calstudy.sweep`) expands a configuration
# into jobs, one per (architecture, dataset, seed), and maps one pure function, `run_one`, over
# them: build the NATS-Bench network, train it (or load its NATS-Bench weights), evaluate it on
# the test set, compute every metric of the catalogue on all test predictions (the `pre_`
# columns), fit temperature scaling on a held-out 20 % of them and compute the metrics again on
# the other 80 % (the `post_` columns, never evaluated on the data the temperature was fitted
# on), and append one row (`source = "trained"` or `"nats-pretrained"`). **`calstudy dataset
# import-paper`** reads the paper's released CSVs instead (`source = "paper-csv"`): their
# numbers as published, with `seed = -1` (the paper does not say which NATS-Bench seed it
# evaluated) and our reading of the fidelity (`nats-200` for TSS, `nats-90` for SSS). The
# architectures are TSS strings `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` and SSS widths
# `c0:c1:c2:c3:c4` {cite}`dong2021nats`. The fields of the preset `preset`, where this store
# holds jobs of it:

# %%
config = preset_config(preset) if preset else None
progress = analysis.preset_progress(config, every_seed, within=df)  # jobs in these datasets
done, planned = progress.attrs["finished"], progress.attrs["planned"]
if done:
    display(analysis.preset_table(config, preset))  # the fields in a reader's words
else:
    display(report.md(f"None of this store's rows is a planned job of preset `{preset or '—'}`"
                      " (or none was named): there is no preset configuration to show."))  # fmt: skip

# %% [markdown]
# Every row records where it came from: the code, the machine and the time that produced it.
# What this store records, column by column:

# %%
origin = analysis.store_provenance(every_seed)
absent = origin.attrs["absent"]
display(report.format_table(origin),
        report.md(analysis.provenance_sentence(origin, paper_csv="paper-csv" in sources)))

# %% [markdown]
# ## Its scale, next to the paper's
#
# The paper evaluated NATS-Bench networks with their released weights: 6,466 unique TSS cells
# (15,625 strings) and 32,768 SSS networks on three datasets, 117,702 rows (its released CSVs
# hold 145,179, every TSS string). The full NATS-Bench weights are hundreds of gigabytes; a
# sweep can train networks itself, more briefly or in a shallower skeleton, or load NATS-Bench
# weights (`calstudy sweep --preset full --nats-path …`), and `calstudy dataset import-paper`
# loads the paper's own numbers. Where a store's networks are trained more briefly or in a
# shallower skeleton than NATS-Bench's (the rows *training epochs* and *skeleton*), they are
# less accurate and differently calibrated, and each chapter's findings describe them, not
# NATS-Bench's networks.

# %%
scale = analysis.store_scale(df, every_seed)
share = len(every_seed) / 117_702
display(report.md(f"This store holds {report.plural(len(every_seed), 'row')}: "
                  + (f"{report.num(100 * share, 2)} % of the paper's 117,702" if share < 1
                     else f"{report.num(share, 3)} times the paper's 117,702") + "."),
        report.format_table(scale))  # fmt: skip

# %% [markdown]
# **How complete is this store?** A preset defines a fixed list of jobs; a store may hold only
# part of it (a sweep stopped by a time limit is resumed later). Every number in this book
# comes from the rows that exist, so a partial store gives wider intervals and smaller samples
# than the finished one, and the chapters' findings change as the store grows.

# %%
display(report.md(analysis.progress_sentence(progress, preset)))
if done:
    display(report.format_table(progress, percent=["share"]))

# %% [markdown]
# ## The schema
#
# `calstudy.schema.GROUPS` defines every column once, with its Arrow type; each shard of a store
# is written with exactly that schema, and a column is *filled* when at least one row holds a
# value. The metric columns follow the paper's names: `pre_`/`post_` (before / after
# temperature scaling) × `ECE_n` (top-label, equal-width bins), `ECE_em_n` (equal-mass),
# `cwCE_n`, `cwCE_em_n` (classwise) and `MCE_n` for $n \in \{5, 10, 15, 20, 25, 50, 100, 200,
# 500\}$, then `KSCE`, `KDECE`, `MMCE`, `NLL`, `Brier` and two estimators the paper did not
# have, `smECE` {cite}`blasiok2024smooth` and the debiased `dL2ECE_15` {cite}`kumar2019verified`.
# Robustness columns are named as in the paper's CSVs: one accuracy per CIFAR-10-C corruption
# {cite}`hendrycks2019benchmarking`, `fgsm_Linf_acc{ε}`, `pgd_Linf_acc{ε}`,
# `aa_apgd_ce_Linf_acc{ε}` and `aa_square_Linf_acc{ε}` with ε in 1/255 units, and AUROC columns
# for out-of-distribution detection.

# %%
groups = analysis.store_column_groups(df, n_examples=n_examples)
robust = [c for c in (*schema.CORRUPTIONS, *schema.ATTACK_COLUMNS) if df[c].notna().any()]
display(report.md(
    f"The schema has {len(schema.SCHEMA)} columns, keyed by {', '.join(schema.KEY_COLUMNS)}; "
    f"this store {analysis.column_groups_sentence(groups)}. Robustness accuracies filled: "
    f"{len(robust)}" + (f", e.g. {', '.join(robust[:5])}" if robust else "") + "."
), report.format_table(groups.drop(columns="empty")))  # fmt: skip

# %% [markdown]
# ## What is in it
#
# Accuracy, ECE (`n_bins` bins, in percent) before and after temperature scaling and, where the
# store has it, the fitted temperature, per space and dataset: median [first quartile, third
# quartile], then as box plots ({numref}`fig-dataset-boxes`).

# %%
summary_columns = ["acc", pre, post, "temperature"]
display(report.format_table(analysis.median_iqr_table(plots.percent_view(df, [pre, post]),
                                                      summary_columns)
                            .rename(columns={c: plots.axis_label(c) for c in summary_columns})))

# %% [markdown]
# Is the median temperature different from 1, i.e. are the networks over- or underconfident
# rather than calibrated? Per dataset, the median of $T - 1$ over networks with a bootstrap
# interval, and a Wilcoxon signed-rank test of $T = 1$ ($T > 1$: overconfident, the scaling
# softens the confidences).

# %%
shift = analysis.temperature_shift(df, n_boot=n_boot, level=level, seed=seed)
temperature_finding = (
    analysis.temperature_sentence(shift, alpha=alpha) if len(shift)
    else "this store records no fitted temperatures (the paper's CSVs do not release them), so "
    "whether its networks are over- or underconfident is not tested"
)  # fmt: skip
report.md(temperature_finding[0].upper() + temperature_finding[1:] + ".")

# %% mystnb={"figure": {"caption": "Accuracy and ECE (`n_bins` bins, in percent) before and after temperature scaling of every network, by search space (x) and dataset (colour), one panel per quantity on its own scale.", "name": "fig-dataset-boxes"}, "image": {"alt": "Box plots in three panels, accuracy, ECE before scaling and ECE after scaling, each with one box per search space and dataset."}}
shown = [c for c in ("acc", pre, post) if df[c].notna().any()]
long = plots.percent_view(df, [c for c in shown if plots.in_percent(c)]).melt(
    id_vars=["space", "dataset"], value_vars=shown, var_name="column")
long["column"] = long["column"].map(plots.axis_label)
grid = sns.catplot(data=long, x="space", y="value", hue="dataset", col="column", kind="box",
                   sharey=False, height=3.4, aspect=0.8, fliersize=2)  # fmt: skip
grid.set_titles("{col_name}").set_axis_labels("search space", "")
plt.tight_layout()

# %% [markdown]
# ## Loading it
#
# A store is a directory of Parquet shards. `Store(path).read()` returns a pandas DataFrame,
# one row per key (a rerun job's latest row wins), optionally with chosen columns and equality
# filters; the metrics are stored as fractions (an ECE of 0.025 is 2.5 %), as the first rows
# of this store show:

# %%
first_space = sorted(df["space"].unique())[0]
frame = Store(root).read(columns=["arch", "dataset", "acc", pre, post], where={"space": first_space})
print(frame.head(3).to_string())

# %% [markdown]
# The same view is open to SQL through DuckDB, from Python (`Store(path).duckdb_view()`) or the
# command line:
#
# ```bash
# calstudy dataset query data/demo \
#   "SELECT space, dataset, count(*) AS n, median(pre_ECE_15) FROM calibration GROUP BY ALL"
# calstudy dataset describe data/demo    # rows, seeds, metric ranges, provenance
# calstudy dataset validate data/demo    # exit 1 and list each problem, if any
# ```

# %%
con = Store(root).duckdb_view()
query = (
    f"SELECT space, dataset, count(*) AS n, round(median({pre}), 4) AS median_{pre} "
    "FROM calibration WHERE status = 'ok' GROUP BY ALL ORDER BY ALL"
)
print(con.sql(query).df().to_string(index=False))

# %% [markdown]
# ## Extending it
#
# Sweeps are resumable: every job is keyed, and a rerun skips every key already in the store,
# so a larger sample, another seed or another dataset is one command. Workers may share a store
# (jobs are claimed with lock files), so a SLURM array or a Ray cluster can fill it in parallel
# (see {ref}`Reproduce and rerun <reproduce>`).
#
# ```bash
# calstudy sweep --preset demo --out data/demo                   # resume / complete the demo
# calstudy sweep --preset demo --out data/demo --seeds 0 1 2     # add two seeds
# calstudy sweep --preset demo --out data/demo --n-archs 600     # a larger sample
# calstudy dataset recompute data/demo --metrics ECE_15 smECE    # metrics from saved logits
# ```
#
# `recompute` needs the test-set logits that a sweep saves beside the table (unless run with
# `--no-logits`); whether this store kept them:

# %%
report.md(analysis.logits_sentence(Store(root).logits_dir, len(df)))  # what `recompute` can use

# %% [markdown]
# ## Loading the paper's data
#
# The reference study released one CSV per dataset × space,
# `{cifar10,cifar100,ImageNet}_{tss,sss}.csv`. `calstudy dataset import-paper` maps them to
# this schema (accuracies as fractions, `source = "paper-csv"`, `seed = -1`, fidelity
# `nats-200` for TSS and `nats-90` for SSS), after which every chapter runs on the paper's own
# numbers:
#
# ```bash
# calstudy dataset import-paper path/to/calibration-study-csvs --out data/paper
# calstudy book run rq6_bin_count -p store data/paper -p datasets '["imagenet16-120"]'
# ```
#
# The files `cifar10_*.csv`, `cifar100_*.csv` and `ImageNet_*.csv` become the datasets
# `cifar10`, `cifar100` and `imagenet16-120` (`calstudy.paper.DATASET_NAMES`).
#
# ## The software this book was built with
#
# The versions of Python, the key packages and calstudy that executed this chapter
# (`calstudy.chapter.software_versions`); a rerun with other versions can differ in the last
# digits of bootstrap intervals.

# %%
versions = chapter.software_versions()
display(report.md(f"Built with Python {versions.loc['python', 'version']} and calstudy "
                  f"{versions.loc['calstudy', 'version']} at commit "
                  f"`{versions.loc['calstudy git commit', 'version']}`."), versions)  # fmt: skip

# %% [markdown]
# ## Summary

# %%
epochs, skeleton = (scale.loc[k, "this store"] for k in ("training epochs", "skeleton"))
summary = [
    f"This store holds {report.plural(len(every_seed), 'row')} of "
    f"{report.plural(len(df), 'network')} ({report.join(per_group.index)}; "
    f"{report.join(per_group.columns)}), against the paper's 117,702 rows; training epochs: "
    f"{epochs}, skeleton {skeleton}.",
    analysis.progress_summary(progress, preset),
    f"It {analysis.column_groups_sentence(groups, max_listed=0)}"
    + (f"; not recorded: {report.join(f'`{c}`' for c in absent)}." if absent else "."),
    f"Temperatures: {temperature_finding}.",
    "Load it with `Store(path).read()` or SQL; extend it with a resumed sweep; import the "
    "paper's CSVs into the same schema to rerun any chapter on them.",
]
use = ("They are the paper's own measurements: every chapter recomputes the paper's statistics "
       "from them." if "paper-csv" in sources else "Every chapter's findings describe these "
       "networks at this training budget.")  # fmt: skip
report.glue_md("dataset-answer", answers.box("What does this store hold, and what is it good "
                                             "for?", f"{summary[0]} {summary[2]} {use}",
                                             caveat=summary[3]))  # fmt: skip
report.md("\n".join(f"- {s}" for s in summary))

# %%
# What must hold for any store.
assert len(df) >= min_rows and every_seed["status"].eq("ok").all()
assert not every_seed.duplicated(list(schema.KEY_COLUMNS)).any(), "one row per key"
assert not df.duplicated(["space", "arch", "dataset", "fidelity"]).any(), "one row per network"
assert df["acc"].dropna().between(0, 1).all() and (df[[pre, post]].stack().dropna() >= 0).all()
assert (df["temperature"].dropna() > 0).all()
assert sum(len(cols) for cols in schema.GROUPS.values()) == len(schema.SCHEMA)
assert groups["filled"].le(groups["columns"]).all()
assert progress["finished"].le(progress["planned"]).all() and 0 <= done <= planned
stored = Store(root).read(["space", "arch", "dataset", "fidelity", "status"])
stored = stored[(stored["status"] == "ok") & stored["space"].isin(df["space"].unique())
                & stored["dataset"].isin(df["dataset"].unique())]  # fmt: skip
assert len(every_seed) == len(stored)
assert per_group.to_numpy().sum() == len(df) == len(
    stored.drop_duplicates(["space", "arch", "dataset", "fidelity"])
)
