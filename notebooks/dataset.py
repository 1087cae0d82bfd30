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
# Every chapter of this book reads one table: one row per trained network, keyed by
# `(space, arch, dataset, seed, fidelity)`, with its accuracy, over a hundred calibration
# columns before and after temperature scaling, robustness columns and provenance. This
# chapter says how that table was made, how big it is next to the reference study's
# {cite}`tao2024benchmark`, what its columns mean, and how to load, extend and replace it. All
# numbers below are computed from the store the book was built from.
#
# **Prerequisites:** none beyond pandas. **You will see:** the sweep configuration, the
# provenance recorded in every row, the scale against the paper's, the schema, summary
# statistics, and the commands that load, extend and import data.

# %% tags=["parameters"]
store = "data/demo"  # calibration store directory
preset = "demo"  # the sweep preset that produced the store: "tiny", "demo" or "full"
n_bins = 15  # bin count of the ECE columns summarised below
n_examples = 4  # example column names shown per schema group
n_boot = 1000  # bootstrap resamples of the temperature intervals
level = 0.95  # confidence level of every interval
min_rows = 1

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import display

from calstudy import analysis, chapter, schema
from calstudy.store import Store
from calstudy.sweep import expand_jobs, preset_config

sns.set_theme(style="whitegrid", context="notebook")
pd.set_option("display.max_colwidth", 90)
every_seed = chapter.load_study(
    store, metrics=["ECE"], bin_counts=[n_bins], min_rows=min_rows, seeds="all"
)
# One row per network (its lowest seed), as every chapter but the seed-noise one reads it.
df = chapter.load_study(store, metrics=["ECE"], bin_counts=[n_bins], min_rows=min_rows)
root = chapter.resolve_store(store)
config = preset_config(preset)
pre, post = (chapter.column("ECE", n_bins=n_bins, prefix=p) for p in ("pre", "post"))
repeats = len(every_seed) - len(df)
print(
    f"{root}: {len(every_seed)} finished rows, {len(df)} networks; {repeats} rows are further "
    "seeds of networks already counted (the seed study, see the Seed noise chapter)"
)

# %% [markdown]
# ## How it was made
#
# A sweep (`calstudy.sweep`) expands a configuration into jobs, one per (architecture,
# dataset, seed), and maps one pure function, `run_one`, over them: build the NATS-Bench
# network, train it, evaluate it on the test set, compute every metric of the catalogue on all
# test predictions (the `pre_` columns), fit temperature scaling on a held-out 20 % of them and
# compute the metrics again on the other 80 % (the `post_` columns, never evaluated on the data
# the temperature was fitted on), and append one row to the store. The fields of the preset:

# %%
pd.Series({k: str(v) for k, v in config.to_dict().items()}, name=f"preset {preset!r}").to_frame()

# %% [markdown]
# The architectures are a deterministic sample (`arch_seed`) of each space: TSS strings
# `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` and SSS widths `c0:c1:c2:c3:c4`
# {cite}`dong2021nats`. Every row records the code and machine that produced it:

# %%
provenance = {
    "calstudy versions": df["calstudy_version"].value_counts().to_dict(),
    "git commits": df["git_commit"].value_counts().to_dict(),
    "devices": df["device"].value_counts().to_dict(),
    "torch versions": df["torch_version"].value_counts().to_dict(),
    "fidelities": df["fidelity"].value_counts().to_dict(),
    "sources": df["source"].value_counts().to_dict(),
    "created": f"{df['created_at'].min()} … {df['created_at'].max()}",
    "total wall time (h)": round(df["wall_time_s"].sum() / 3600, 2),
    "median wall time per network (s)": round(df["wall_time_s"].median(), 1),
}
for name, value in provenance.items():
    print(f"{name:>34}: {value}")

# %% [markdown]
# ## Its scale, next to the paper's
#
# The paper evaluated every NATS-Bench network with its released 200-epoch weights: 6,466
# unique TSS cells and 32,768 SSS networks on three datasets, 117,702 rows. Those weights
# are hundreds of gigabytes, so the published book is built from a much smaller *demo*
# dataset of networks we train ourselves, briefly and in a shallower skeleton. The `full`
# preset (`calstudy sweep --preset full --nats-path …`) runs the paper's scale from the
# NATS-Bench weights; `calstudy dataset import-paper` loads the paper's own numbers.

# %%
per_group = df.groupby(["space", "dataset"]).size().unstack(fill_value=0)
print("networks per space × dataset (this store):")
print(per_group.to_string())
scale = pd.DataFrame(
    {
        "calstudy (this store)": [
            len(df),
            ", ".join(f"{s}: {n}" for s, n in df.groupby("space")["arch"].nunique().items()),
            ", ".join(sorted(df["dataset"].unique())),
            f"{config.epochs}" if config.source == "trained" else f"NATS-Bench {config.nats_hp}",
            str(config.n_train or "all"),
            f"C = {config.C}, N = {config.N}" if config.source == "trained" else "C = 16, N = 5",
            ", ".join(map(str, sorted(every_seed["seed"].unique())))
            + (f" ({repeats} repeated-seed rows)" if repeats else ""),
            str(int(df["n_eval"].median())) if df["n_eval"].notna().any() else "—",
        ],
        "paper": [
            "117,702",
            "tss: 6,466 unique (15,625 rows), sss: 32,768",
            "cifar10, cifar100, imagenet16-120",
            "200 (TSS); SSS not stated",
            "50,000 (CIFAR-10)",
            "C = 16, N = 5",
            "not stated",
            "8,000 (20 % of 10,000 fit T)",
        ],
    },
    index=[
        "rows",
        "architectures",
        "datasets",
        "training epochs",
        "training images",
        "skeleton",
        "seeds",
        "test images behind post_ columns",
    ],
)
scale

# %% [markdown]
# **How complete is this store?** The preset defines a fixed list of jobs; the store may hold
# only part of it (a sweep stopped by a time limit is resumed later). The next cell counts the
# preset's planned jobs per space × dataset and how many of them have a finished row here.
# Every number in this book comes from the rows that exist, so a partial store gives wider
# intervals and smaller samples than the finished one, and the chapters' conclusions are
# rechecked each time the store grows.

# %%
plan = pd.DataFrame(
    [(j.space, j.arch, j.dataset, j.seed) for j in expand_jobs(config)],
    columns=["space", "arch", "dataset", "seed"],
)
keys = ["space", "arch", "dataset", "seed"]
done = plan.merge(df[keys].drop_duplicates(), on=keys, how="inner")
progress = pd.DataFrame(
    {
        "planned": plan.groupby(["space", "dataset"]).size(),
        "finished": done.groupby(["space", "dataset"]).size(),
    }
).fillna(0)
progress = progress.astype(int)
progress["share"] = (progress["finished"] / progress["planned"]).round(3)
print(progress.to_string())
complete = len(done) == len(plan)
print(
    f"preset {preset!r}: {len(done)} of {len(plan)} planned jobs finished "
    f"({len(done) / len(plan):.1%}); {len(df) - len(done)} store rows are outside the preset; "
    f"the paper: 117,702 rows — this store is {'complete' if complete else 'PARTIAL'}"
)

# %% [markdown]
# The printed line is the honest scale of what the book shows: a few hundred briefly trained
# networks, a fraction of the `demo` preset while it is marked PARTIAL, against the paper's
# 117,702 evaluations of fully trained NATS-Bench networks — about three orders of magnitude
# fewer, on two datasets instead of three, and with one seed per network (the
# [seed-noise chapter](seeds.ipynb) uses the repeated-seed rows counted above, where there are any).
#
# Our networks are therefore less accurate and differently calibrated than NATS-Bench's, and
# each chapter says so where it matters. What the demo dataset can test is whether the
# paper's *relations* (rank agreements, trends, design effects) hold for another population of
# networks; where they do not, the cause may be the training budget rather than the claim.
#
# ## The schema
#
# `calstudy.schema.GROUPS` defines every column once, with its Arrow type; each shard of a store
# is written with exactly that schema. The table counts the columns of each group, how many of
# them this store fills, and shows a few.

# %%
filled = set(df.columns[df.notna().any()])
groups = pd.DataFrame(
    [
        {
            "group": name,
            "columns": len(cols),
            "filled here": len(filled & set(cols)),
            "examples": ", ".join(list(cols)[:n_examples])
            + (", …" if len(cols) > n_examples else ""),
        }
        for name, cols in schema.GROUPS.items()
    ]
).set_index("group")
print(f"{len(schema.SCHEMA)} columns; key: {', '.join(schema.KEY_COLUMNS)}")
groups

# %% [markdown]
# The metric columns follow the paper's names: `pre_`/`post_` (before / after temperature
# scaling) × `ECE_n` (top-label, equal-width bins), `ECE_em_n` (equal-mass), `cwCE_n`,
# `cwCE_em_n` (classwise) and `MCE_n` for $n \in \{5, 10, 15, 20, 25, 50, 100, 200, 500\}$, then
# `KSCE`, `KDECE`, `MMCE`, `NLL`, `Brier` and two estimators the paper did not have, `smECE`
# {cite}`blasiok2024smooth` and the debiased `dL2ECE_15` {cite}`kumar2019verified`. Robustness
# columns are named as in the paper's CSVs: one accuracy per CIFAR-10-C corruption
# {cite}`hendrycks2019benchmarking`, `fgsm_Linf_acc{ε}` and `pgd_Linf_acc{ε}` with ε in 1/255
# units, and `pre_auc_ood` with the out-of-distribution set in `ood_dataset`.

# %%
robust = [c for c in (*schema.CORRUPTIONS, *schema.ATTACK_COLUMNS, "pre_auc_ood") if c in filled]
print(f"robustness columns filled here: {len(robust)}; e.g. {', '.join(robust[:6]) or 'none'}")
print("OoD sets:", df["ood_dataset"].value_counts().to_dict())

# %% [markdown]
# ## What is in it
#
# Accuracy, ECE (`n_bins` bins) before and after temperature scaling and the fitted temperature,
# per space and dataset: median [first quartile, third quartile], then as box plots.

# %%
quartiles = (
    df.groupby(["space", "dataset"])[["acc", pre, post, "temperature"]]
    .quantile([0.25, 0.5, 0.75])
    .unstack()
)
summary = pd.DataFrame(
    {
        col: [f"{q[0.5]:.3f} [{q[0.25]:.3f}, {q[0.75]:.3f}]" for _, q in quartiles[col].iterrows()]
        for col in ("acc", pre, post, "temperature")
    },
    index=quartiles.index,
)
summary.insert(0, "networks", df.groupby(["space", "dataset"]).size())
display(summary)

# %% [markdown]
# Is the median temperature really different from 1, i.e. are the networks over- or
# underconfident rather than calibrated? Per dataset, the median of $T - 1$ over networks
# with a bootstrap interval, and a Wilcoxon signed-rank test of $T = 1$:

# %%
t_shift = {}
for d, part in df.groupby("dataset"):
    if part["temperature"].notna().sum() < 3:
        continue
    r = t_shift[d] = analysis.paired_difference(
        part["temperature"], 1.0, n_boot=n_boot, level=level
    )
    print(
        f"{d}: median T − 1 = {r.estimate:+.3f} [{r.low:+.3f}, {r.high:+.3f}], "
        f"Wilcoxon p = {r.p_value:.2g}, n = {r.n}"
    )

# %%
long = df.melt(id_vars=["space", "dataset"], value_vars=["acc", pre, post], var_name="column")
grid = sns.catplot(
    data=long,
    x="space",
    y="value",
    hue="dataset",
    col="column",
    kind="box",
    sharey=False,
    height=3.6,
    aspect=0.9,
    fliersize=2,
)
grid.set_titles("{col_name}")
plt.tight_layout()

# %% [markdown]
# ## Loading it
#
# A store is a directory of Parquet shards. `Store(path).read()` returns a pandas DataFrame,
# one row per key (a rerun job's latest row wins), optionally with chosen columns and equality
# filters:

# %%
frame = Store(root).read(columns=["arch", "dataset", "acc", pre, post], where={"space": "tss"})
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
logits_dir = Store(root).logits_dir
n_logits = len(list(logits_dir.glob("*.npz"))) if logits_dir.is_dir() else 0
print(
    f"{logits_dir}: {'present' if logits_dir.is_dir() else 'absent'}, "
    f"{n_logits} logits file(s) for {len(df)} rows"
)
print(
    "new metrics can be added with `calstudy dataset recompute`"
    if n_logits
    else "no logits: a new metric needs the networks re-evaluated (rerun the sweep into a new store)"
)

# %% [markdown]
# ## Loading the paper's data
#
# The reference study released one CSV per dataset × space,
# `{cifar10,cifar100,ImageNet}_{tss,sss}.csv`. `calstudy dataset import-paper` maps them to
# this schema (accuracies from percent to fractions, `source = "paper-csv"`, `seed = -1`
# because the paper does not say which NATS-Bench seed it evaluated, fidelity `nats-200` for
# TSS), after which every chapter runs on the paper's own numbers:
#
# ```bash
# calstudy dataset import-paper path/to/calibration-study-csvs --out data/paper
# calstudy book run rq6_bin_count -p store data/paper -p datasets '["imagenet16-120"]'
# ```
#
# The files `cifar10_*.csv`, `cifar100_*.csv` and `ImageNet_*.csv` become the datasets
# `cifar10`, `cifar100` and `imagenet16-120` (`calstudy.paper.DATASET_NAMES`).
#
# ## Summary
#
# - The dataset is one keyed row per network. This store's size is printed above beside the
#   paper's 117,702 rows of 200-epoch networks, with the share of the preset's planned jobs it
#   holds: when that line says PARTIAL, every chapter works on a partial sample.
# - The networks are small (the printed skeleton), trained for the printed number of epochs on
#   a subset of the training images; the summary table shows what that gives: accuracies far
#   below NATS-Bench's, and ECE of a few percent or less before scaling, with fitted
#   temperatures close to 1 (median significantly above 1 on CIFAR-10 in the demo store:
#   overconfident there; on Fashion-MNIST the whole interval of the median $T - 1$ lies within
#   ±0.05, essentially calibrated; see [RQ v](rq5_accuracy)).
# - `calstudy.schema.GROUPS` defines every column; the store fills the groups counted above.
# - Load it with `Store(path).read()` or SQL; extend it with a resumed sweep; import the
#   paper's CSVs into the same schema to rerun any chapter on them.

# %%
# The chapter's claims, checked so that a run that contradicts them fails the build.
assert len(df) >= min_rows and df["status"].eq("ok").all()
assert 0 <= len(done) <= len(plan) and progress["finished"].le(progress["planned"]).all()
assert len(df) < 117_702  # the demo is a small fraction of the paper's evaluations
assert df["temperature"].gt(0).all()
med_t = df.groupby("dataset")["temperature"].median()
n_per = df.groupby("dataset").size()
if n_per.get("cifar10", 0) >= 40 and n_per.get("fashion-mnist", 0) >= 40:
    # the summary's reading of the temperature column (checked only with enough networks)
    assert med_t["cifar10"] > 1 and abs(med_t["fashion-mnist"] - 1) < 0.05, med_t.to_dict()
    assert t_shift["cifar10"].low > 0, t_shift["cifar10"]  # significantly overconfident
    fm = t_shift["fashion-mnist"]
    assert -0.05 < fm.low and fm.high < 0.05, fm  # essentially calibrated
else:
    print("Too few networks per dataset: the temperature claim was not checked.")
assert not every_seed.duplicated(list(schema.KEY_COLUMNS)).any(), "one row per key"
assert not df.duplicated(["space", "arch", "dataset", "fidelity"]).any(), "one row per network"
assert df["acc"].between(0, 1).all() and df[[pre, post]].ge(0).all().all()
assert sum(len(cols) for cols in schema.GROUPS.values()) == len(schema.SCHEMA)
stored = Store(root).read(["space", "arch", "dataset", "fidelity", "status"])
stored = stored[stored["status"] == "ok"]
assert len(every_seed) == len(stored)
assert (
    per_group.to_numpy().sum()
    == len(df)
    == len(stored.drop_duplicates(["space", "arch", "dataset", "fidelity"]))
)
