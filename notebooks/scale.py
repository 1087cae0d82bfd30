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
# # What would the full study cost?
#
# **Overview.** The reference study released one row per (dataset, architecture) pair:
# 3 datasets × (6,466 unique TSS + 32,768 SSS architectures) = 117,702 rows
# {cite}`tao2024benchmark`, each from a network NATS-Bench had already trained
# {cite}`dong2021nats`. This book's demo store holds a few hundred networks that *we* trained
# briefly. How far is it from there to the paper's scale? This chapter measures what one
# network costs, on the machine that builds the book and, from recorded runs, on an NVIDIA
# H100, and projects the cost of the whole study: evaluating all 117,702 pretrained networks
# on one GPU and on a cluster, and, as an extrapolation, training them.
#
# **Prerequisites:** the [dataset chapter](dataset.ipynb) (what a row holds, how the sweep
# makes it). **You will see:** measurements on this machine (section 1), the GPU measurements
# behind the projections (section 2), the projections themselves and whether the project's
# goal of evaluating the full study in at most 10 H100-hours is met (section 3).
#
# **The cost model** (`calstudy.projection`). One network's pretrained evaluation needs
# $t_\mathrm{gpu} = I / r$ seconds of accelerator time for $I$ images at logit throughput $r$,
# then $t_\mathrm{rec}$ seconds of one CPU core for the metric catalogue
# (`calstudy.catalogue.full_record`); the process driving the accelerator also keeps a core
# busy for $t_\mathrm{host}$ seconds. $G$ accelerators, each shared by $k$ jobs that together
# run $s_k$ times as fast as one job alone, with $C$ cores, finish networks at the rate
#
# $$R = \min\Bigl(\frac{G\,s_k}{t_\mathrm{gpu}},\; \frac{C}{t_\mathrm{rec} + t_\mathrm{host}},\;
# \frac{\min(Gk, C)}{t_\mathrm{gpu} + t_\mathrm{rec}}\Bigr),$$
#
# the accelerators' bound, the cores' bound and the job slots' bound. One job per accelerator
# gives the serial rate $G / (t_\mathrm{gpu} + t_\mathrm{rec})$. The study takes $n / R$ hours
# of wall-clock time and $G\,n / R$ accelerator-hours. Each bound assumes perfect pipelining,
# so the hours are lower bounds *for a given* $s_k$, and $s_k$ is the quantity that decides the
# answer.

# %% tags=["parameters"]
store = "data/demo"  # calibration store whose rows' timings are read (section 2)
gpu_benchmark = "benchmarks/results/h100-2026-11-25-train_bench.json"  # GPU evaluation cost
gpu_sweep = "benchmarks/results/h100-2026-11-25-demo-sweep.json"  # recorded worker counts
eval_bench = "benchmarks/results/h200-2026-12-04-eval_bench.json"  # eval_bench.py --json; None: no s_k
device = "auto"  # where section 1 measures: "auto", "cpu" or "cuda"
n_archs = 2  # architectures per space timed in section 1
n_eval_images = 128  # images per timed evaluation
repeats = 1  # timed evaluations per network (best of); more are steadier on a loaded machine
record_classes = 10  # K of the 10,000 × K logits given to full_record (CIFAR-10: 10)
train_scale = "demo"  # preset whose network size section 1 trains: "tiny", "demo" or "full"
train_images = 128  # images per timed training epoch (one warm-up epoch + one timed)
gpus = [1, 2, 4, 8, 16, 32, 64, 128]  # cluster sizes projected
jobs_per_gpu = 8  # concurrent jobs per GPU (Ray's gpus_per_job is its inverse)
speedups = [2.0, 4.0]  # assumed aggregate speed-ups s_k of jobs_per_gpu concurrent evaluations
gpus_per_node = 1  # cluster node: GPUs ...
cores_per_node = 16  # ... and CPU cores (the recorded H100 node's)
goal_hours = 10.0  # the project's goal for the full pretrained evaluation, in H100-hours
gap_s = 20.0  # idle seconds that separate two sweep runs in a store
min_gpu_rows_for_claims = 100  # fewest GPU rows for the stated findings to be checked

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import display

from calstudy import chapter, projection
from calstudy.space import tss_features
from calstudy.sweep import parse_fidelity

sns.set_theme(style="whitegrid", context="notebook")
pd.set_option("display.width", 140)
if train_scale not in projection.SCALES:
    raise ValueError(
        f"Expected `train_scale` to be one of {projection.SCALES}, got {train_scale!r}."
    )
if not speedups or any(not 1 < s <= jobs_per_gpu for s in speedups):
    raise ValueError(f"Expected `speedups` in (1, jobs_per_gpu = {jobs_per_gpu}], got {speedups}.")
bench = projection.load_measurement(gpu_benchmark)
sweep_record = projection.load_measurement(gpu_sweep)
rows = chapter.load_study(store, seeds="all")
study = projection.study_networks()
N = int(study["networks"].sum())
per_space = study.groupby("space")["networks"].sum()
IMAGES = sum(projection.EVAL_IMAGES.values())
print(
    f"the study: {N:,} networks = {len(projection.DATASETS)} datasets × "
    + " + ".join(f"{n:,} {s.upper()}" for s, n in projection.PAPER_NETWORKS.items())
)
print(
    "pretrained evaluation of one network: "
    + " + ".join(f"{v:,} {k}" for k, v in projection.EVAL_IMAGES.items())
    + f" = {IMAGES:,} images"
)

# %% [markdown]
# ## 1. Measured on this machine
#
# The evaluation's two parts at the pretrained size: logits of a seeded sample of
# architectures (TSS at C = 16, N = 5; SSS at their own widths) and the metric catalogue on
# 10,000 logits; then training epochs at the size of the `train_scale` preset. The machine is
# shared with other jobs, so these times are noisy (the load average is printed).

# %%
started = time.perf_counter()
info = projection.machine_info(device)
print(
    f"device: {info['device_name']} ({info['device']}); torch {info['torch']} with "
    f"{info['torch_threads']} threads; {info['cpu_count']} CPUs ({info['cpu']}); "
    f"load average {info['load_1min']:.2f}"
)
ev_here = projection.measure_eval_cost(
    n_archs=n_archs,
    n_images=n_eval_images,
    record_classes=record_classes,
    device=device,
    repeats=repeats,
)
display(ev_here.logits.round(3))
print(
    f"logits at the pretrained size: {ev_here.images_per_s:,.0f} img/s over "
    f"{len(ev_here.logits)} networks; per space:"
)
display(ev_here.by_space().round(1))
print(
    f"full_record on {ev_here.record_shape[0]:,} × {ev_here.record_shape[1]} logits: "
    f"{ev_here.record_s:.3f} s"
)
train_here = {
    space: projection.measure_train_cost(
        train_scale, space=space, n_images=train_images, device=device
    )
    for space in ("tss", "sss")
}
for t in train_here.values():
    print(
        f"training at the {train_scale!r} size, {t.space.upper()} {t.arch} (C={t.C}, N={t.N}, "
        f"{t.precision}): {t.images_per_s:,.0f} img/s → {t.per_network_s:,.0f} s per network at "
        f"that scale"
    )
print(f"section 1 measured in {time.perf_counter() - started:.1f} s")

# %% [markdown]
# What the full study would cost on this machine alone: every network's evaluation at the
# measured throughput (serial: the logits already use every core), and training every network
# at the `train_scale` size. The store may also hold rows this machine computed in full
# (training and the demo's evaluation, `device == "cpu"`); their median is the most direct
# per-network cost of the demo protocol here.

# %%
rate_here = ev_here.by_space()["images_per_s"].reindex(per_space.index)
rate_here = rate_here.fillna(ev_here.images_per_s)  # a space not timed: the overall rate
gpu_s_here = float((per_space * IMAGES / rate_here).sum() / N)  # mean over the study's networks
cost_here = projection.NetworkCost(gpu_s=gpu_s_here, record_s=ev_here.record_s)
here = projection.project(cost_here, gpus=[1], cores_per_node=None, scenario="this machine")
cpu_eval_hours = float(here["hours"].iloc[0])
cpu_train_hours = sum(per_space[s] * train_here[s].per_network_s for s in per_space.index) / 3600
print(
    f"pretrained evaluation here: t_net = {IMAGES:,} images at "
    + " or ".join(f"{rate_here[s]:,.0f} img/s ({s.upper()})" for s in rate_here.index)
    + f", averaged over the study's networks, + {ev_here.record_s:.2f} = "
    f"{cost_here.latency_s:,.1f} s → {cpu_eval_hours:,.0f} hours "
    f"({cpu_eval_hours / 24:,.0f} days) for {N:,} networks"
)
print(
    f"training every network at the {train_scale!r} size here: {cpu_train_hours:,.0f} hours "
    f"({cpu_train_hours / 24:,.0f} days)"
)
costs = projection.row_costs(rows, gap_s=gap_s)
cpu_rows = costs[costs["device"] == "cpu"]
if len(cpu_rows):
    per_row = cpu_rows.groupby(["fidelity", "space"])["wall_time_s"].agg(["size", "median"])
    display(per_row.round(1))
    fid, space = per_row["size"].idxmax()
    print(
        f"{len(cpu_rows)} row(s) of this store ran on a CPU; the demo protocol at "
        f"{fid} would take {N * per_row.loc[(fid, space), 'median'] / 3600:,.0f} hours for "
        f"{N:,} networks at the median {space.upper()} row's {per_row.loc[(fid, space), 'median']:.0f} s"
    )
else:
    print("no row of this store ran on a CPU")

# %% [markdown]
# On a CPU, then, the study is out of reach: the evaluation alone would take the printed
# hours, over a month (checked at the end when section 1 ran on a CPU; the figure
# varies with the machine's load). Everything below is about GPUs.
#
# ## 2. What the GPU runs measured
#
# ### The evaluation cost on an H100
#
# Our benchmark `benchmarks/train_bench.py` timed the logits of a TSS network at the
# pretrained size on 10,000 images and the metric catalogue on its logits. The file the
# chapter reads says where its numbers come from:

# %%
src = bench["source"]
print(f"{gpu_benchmark}: {src['kind']} ({src.get('transcribed_from', 'written by the run')})")
print(f"  device {src['device']}, torch {src['torch']}, {src['date']}: `{src['command']}`")
ev = bench["eval"]
gpu_s = IMAGES / ev["images_per_s"]
cost_gpu = projection.NetworkCost(gpu_s=gpu_s, record_s=ev["record_s"], host_s=gpu_s)
print(
    f"logits: {ev['n_images']:,} images in {ev['logits_s']} s = {ev['images_per_s']:,} img/s "
    f"(C={ev['C']}, N={ev['N']}, {ev['precision']}); full_record: {ev['record_s']} s on "
    f"{ev['record_shape'][0]:,} × {ev['record_shape'][1]} logits (host CPU)"
)
print(
    f"per network: t_gpu = {IMAGES:,} / {ev['images_per_s']:,} = {cost_gpu.gpu_s:.3f} s, "
    f"t_rec = {cost_gpu.record_s:.2f} s, t_host = t_gpu (a launch-bound job keeps its core busy)"
)
tss_sss = ev_here.by_space()["images_per_s"]
if {"tss", "sss"} <= set(tss_sss.index):
    print(
        f"on this machine SSS networks evaluate {tss_sss['sss'] / tss_sss['tss']:.2f}× as fast "
        "as TSS ones; the H100 figure, from one TSS network, is applied to both"
    )

# %% [markdown]
# The H100 number is one network, alone on the GPU. How much *faster in aggregate* several
# evaluation jobs sharing one GPU run ($s_k$ above) was measured on an H200 (the H100's
# arithmetic rates, more memory bandwidth) by `benchmarks/eval_bench.py`; section 3 adds it as a
# scenario. The demo sweep ran many jobs per GPU, each training *and* evaluating a network, and
# its rows record their own times.
#
# ### The demo sweep on one H100
#
# Each row of the store records when it finished (`created_at`) and how long it took
# (`wall_time_s`, split into `train_time_s` and `eval_time_s`). Rows whose intervals overlap,
# or lie at most `gap_s` seconds apart, form one run; by Little's law the mean number of jobs in flight is the sum of their wall
# times over the run's duration, $L = \sum_i w_i / D$, and a row's share of the node is
# $w_i / L$ (node-seconds). The run table below sets $L$ beside the worker counts recorded by
# hand (`gpu_sweep`), which the store does not hold.

# %%
gpu_costs = costs[costs["device"].str.startswith("cuda")]
runs = projection.sweep_runs(rows, gap_s=gap_s)
gpu_runs = runs[runs["device"].str.startswith("cuda")].reset_index(drop=True)
recorded = pd.DataFrame(sweep_record["runs"])
matched = (
    len(gpu_runs) == len(recorded)
    and (gpu_runs["rows"].to_numpy() == recorded["new_rows"].to_numpy()).all()
    and all(sweep_record["device_name"] in d for d in gpu_runs["device"])
)
if matched:
    gpu_runs["workers (recorded)"] = recorded["workers_detail"].to_numpy()
    gpu_runs["workers"] = recorded["workers"].to_numpy()
    gpu_runs["s/row incl. setup (recorded)"] = (
        recorded["wall_s"].to_numpy() / recorded["new_rows"].to_numpy()
    )
if len(gpu_runs):
    display(gpu_runs.drop(columns=["start", "end", "busy_s"]).round(2))
print(
    f"{len(gpu_costs)} rows ran on a GPU in {len(gpu_runs)} runs"
    + (
        "; the runs match the recorded table row for row"
        if matched
        else "; they do not match the recorded run table, so worker counts are not shown"
        if len(gpu_runs)
        else ""
    )
)

# %%
if len(gpu_costs):
    long = gpu_costs.melt(
        id_vars=["space"],
        value_vars=["wall_time_s", "train_time_s", "eval_time_s"],
        var_name="part",
        value_name="seconds",
    )
    share = gpu_costs.melt(
        id_vars=["space"],
        value_vars=["node_s", "train_node_s", "eval_node_s"],
        var_name="part",
        value_name="seconds",
    )
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    sns.boxplot(data=long, x="part", y="seconds", hue="space", ax=axes[0], fliersize=2)
    axes[0].set(title="a row's own time (jobs sharing the GPU)", xlabel="")
    sns.boxplot(data=share, x="part", y="seconds", hue="space", ax=axes[1], fliersize=2)
    axes[1].set(title="a row's share of the node (own time / L)", xlabel="")
    fig.tight_layout()
    summary = gpu_costs.groupby("space")[
        ["wall_time_s", "train_time_s", "eval_time_s", "node_s", "train_node_s", "eval_node_s"]
    ].median()
    display(summary.round(2))
else:
    print("no row of this store ran on a GPU; the store-based GPU figures below are skipped")

# %% [markdown]
# A row's own time is an order of magnitude above its share of the node: with a dozen jobs in
# flight each one mostly waits for the others, and the aggregate rate is what the extra
# workers buy. Training is the one part with an alone-on-the-GPU baseline: the benchmark
# trained a C = 16, N = 1 network, the demo's size, alone on the H100. Dividing the training
# images of a row by its training share of the node gives the training throughput the node
# delivered per row while shared, to set against that baseline.

# %%
alone = {
    (r["N"], r["precision"], r["channels_last"]): r["images_per_s"]
    for r in bench.get("train_steady_state", [])
    if not r.get("compile")
}
alone_n1 = alone.get((1, "fp32", True), bench["train"]["ours_images_per_s"])
size_factor = alone_n1 / alone[(5, "fp32", True)] if (5, "fp32", True) in alone else None
train_ratio = None
if len(gpu_costs):
    trained = gpu_costs[gpu_costs["source"] == "trained"]
    fidelity = parse_fidelity(trained["fidelity"].mode().iloc[0])
    trained = trained[trained["fidelity"] == trained["fidelity"].mode().iloc[0]]
    row_images = fidelity["epochs"] * fidelity["n_train"]
    shared_rate = (row_images / trained["train_node_s"]).groupby(trained["space"]).median()
    per_image = (trained["train_node_s"] / row_images).groupby(trained["space"]).median()
    print(
        f"training per row: {fidelity['epochs']} epochs × {fidelity['n_train']:,} images = "
        f"{row_images:,} images (C={fidelity['C']}, N={fidelity['N']} for TSS)"
    )
    for space, rate in shared_rate.items():
        print(f"  {space.upper()}: median {rate:,.0f} training img/s per row's node share")
    if "tss" in shared_rate and fidelity["N"] == 1 and fidelity["C"] == 16:
        train_ratio = float(shared_rate["tss"] / alone_n1)
        print(
            f"one TSS network alone on the H100 (benchmark, fp32, channels-last): "
            f"{alone_n1:,} img/s → shared training ran {train_ratio:.2f}× as fast in aggregate"
        )

# %% [markdown]
# Shared, the H100 trained these networks faster in aggregate than it trains one network
# alone, by the printed ratio, with two caveats: the benchmark's network is one architecture
# while the demo's TSS rows are a sample of them, and attributing a row's node share to
# training in proportion to its training time assumes the node was shared evenly between the
# jobs' phases. It is evidence
# that these small networks leave an H100 idle when run one at a time, for *training*; for
# evaluation, section 3 shows that they do not.
#
# ## 3. Projections
#
# ### The full pretrained evaluation on one H100
#
# Scenarios: one job at a time (serial); `jobs_per_gpu` jobs with no gain on the GPU
# ($s_k = 1$, which still moves the metric catalogue off the GPU's critical path); the assumed
# speed-ups `speedups`; when the store supports it, $s_k$ equal to the aggregate gain
# training showed above, an assumption that evaluation shares like training did; and the
# $s_k$ measured for evaluation (`eval_bench`).

# %%
scenarios = [("serial, 1 job", 1, 1.0), (f"{jobs_per_gpu} jobs, s = 1", jobs_per_gpu, 1.0)]
scenarios += [(f"{jobs_per_gpu} jobs, s = {s:g} (assumed)", jobs_per_gpu, s) for s in speedups]
if train_ratio is not None and train_ratio > 1:
    s_train = min(train_ratio, jobs_per_gpu)
    scenarios.append(
        (f"{jobs_per_gpu} jobs, s = {s_train:.2f} (as training)", jobs_per_gpu, s_train)
    )
s_measured = None
if eval_bench is not None:  # a measured s_k replaces the assumption
    concurrency = projection.load_measurement(eval_bench)
    s_measured = projection.concurrency_speedup(concurrency, jobs_per_gpu)
    label = f"{jobs_per_gpu} jobs, s = {s_measured:.2f} (measured, {concurrency['device_name']})"
    scenarios.append((label, jobs_per_gpu, s_measured))
node = dict(gpus_per_node=gpus_per_node, cores_per_node=cores_per_node)
one_gpu = pd.concat(
    [
        projection.project(cost_gpu, gpus=[1], jobs_per_gpu=k, speedup=s, scenario=name, **node)
        for name, k, s in scenarios
    ],
    ignore_index=True,
)
one_gpu["meets goal"] = one_gpu["gpu_hours"] <= goal_hours
display(
    one_gpu[
        [
            "scenario",
            "jobs_per_gpu",
            "speedup",
            "bound",
            "networks_per_s",
            "hours",
            "gpu_hours",
            "meets goal",
        ]
    ].round(2)
)
serial_h = float(one_gpu["hours"].iloc[0])
overlap_h = float(one_gpu["hours"].iloc[1])
need = projection.required_for(cost_gpu, goal_hours, gpus=1, cores=cores_per_node)
print(
    f"serial: {N:,} × {cost_gpu.latency_s:.2f} s = {serial_h:.1f} H100-hours; "
    f"with the catalogue overlapped (s = 1): {overlap_h:.1f} H100-hours"
)
print(
    f"≤ {goal_hours:g} H100-hours needs {need['rate']:.2f} networks/s: concurrent evaluation "
    f"jobs at an aggregate speed-up s ≥ {need['speedup']:.2f} with ≥ {need['jobs_per_gpu']:.0f} "
    f"jobs per GPU; the {cores_per_node} cores alone need {need['cpu_floor_hours']:.1f} h "
    f"({'enough' if need['cpu_ok'] else 'not enough'})"
)
met = one_gpu.loc[one_gpu["meets goal"], "scenario"].tolist()
measured = "serial only" if s_measured is None else f"serial and s = {s_measured:.2f}"
print(f"goal met by: {met if met else 'no scenario'}; measured for evaluation: {measured}")

# %% [markdown]
# ### Which network stands for the study?
#
# The H100 figure is one TSS network's, charged to all 117,702. Five in six of them are SSS
# networks, whose cost on the H100 nobody measured. Three what-ifs: every network costs the
# benchmark network's $t_\mathrm{gpu}$ (as above); $t_\mathrm{gpu}$ proportional to
# multiply-accumulates, the mean over every network of each space against the benchmark
# network's (a proxy if the GPU is compute-bound, not if it is launch-bound); and SSS networks
# as much cheaper than TSS ones as section 1 measured on this machine (noisy on a shared CPU).

# %%
bench_flops = tss_features(bench["network"]["arch"], C=ev["C"], N=ev["N"])["flops"]
pop_flops = projection.population_flops()
factors = {
    "benchmark network's t_gpu for all": {"tss": 1.0, "sss": 1.0},
    "t_gpu ∝ multiply-accumulates": {s: pop_flops[s] / bench_flops for s in pop_flops},
}
sss_ratio = None
if {"tss", "sss"} <= set(tss_sss.index):
    sss_ratio = float(tss_sss["sss"] / tss_sss["tss"])
    factors["SSS cheaper as measured here"] = {"tss": 1.0, "sss": 1 / sss_ratio}
what_if = []
for name, factor in factors.items():
    mean_gpu_s = sum(per_space[s] * cost_gpu.gpu_s * factor[s] for s in per_space.index) / N
    cost_w = projection.NetworkCost(gpu_s=mean_gpu_s, record_s=cost_gpu.record_s, host_s=mean_gpu_s)
    hours = [
        projection.project(cost_w, gpus=[1], jobs_per_gpu=k, speedup=s, **node)["hours"].iloc[0]
        for _, k, s in scenarios[:2]
    ]
    need_w = projection.required_for(cost_w, goal_hours, gpus=1, cores=cores_per_node)
    what_if.append(
        {
            "assumption": name,
            "tss factor": factor["tss"],
            "sss factor": factor["sss"],
            "mean t_gpu (s)": mean_gpu_s,
            "serial h": hours[0],
            "overlapped h (s = 1)": hours[1],
            "s needed for goal": need_w["speedup"],
        }
    )
what_if = pd.DataFrame(what_if).set_index("assumption")
display(what_if.round(3))
flops_mix = float(what_if.loc["t_gpu ∝ multiply-accumulates", "mean t_gpu (s)"] / cost_gpu.gpu_s)
print(
    f"benchmark network: {bench_flops / 1e6:.0f} M multiply-accumulates per image; mean over the "
    + ", ".join(f"{s.upper()} {v / 1e6:.0f} M" for s, v in pop_flops.items())
    + f"; the study's networks average {flops_mix:.2f}× the benchmark network's"
)

# %% [markdown]
# ### On a Ray cluster
#
# `calstudy sweep --preset full --backend ray --gpus-per-job 1/k` spreads the jobs over a
# cluster of nodes like the recorded one (`gpus_per_node` GPUs and `cores_per_node` cores each).
# Wall-clock hours fall with the number of GPUs while the GPUs' bounds hold; once the cores
# bind, more GPUs only add idle GPU-hours. On nodes like the recorded one each GPU brings 16
# cores, more than any scenario needs (the printed cores per GPU), so the cores never bind
# (the printed count).

# %%
cluster = pd.concat(
    [
        projection.project(cost_gpu, gpus=gpus, jobs_per_gpu=k, speedup=s, scenario=name, **node)
        for name, k, s in scenarios
    ],
    ignore_index=True,
)
fig, axes = plt.subplots(1, 2, figsize=(12, 4.3))
sns.lineplot(data=cluster, x="gpus", y="hours", hue="scenario", marker="o", ax=axes[0])
axes[0].set(
    xscale="log",
    yscale="log",
    xlabel="GPUs (H100)",
    ylabel="wall-clock hours",
    title=f"{N:,} pretrained evaluations",
)
axes[0].axhline(1, color="grey", linewidth=0.8)
sns.lineplot(
    data=cluster, x="gpus", y="gpu_hours", hue="scenario", marker="o", ax=axes[1], legend=False
)
axes[1].axhline(
    goal_hours, color="C3", linestyle="--", linewidth=1, label=f"goal: {goal_hours:g} H100-hours"
)
axes[1].legend(loc="upper right")
axes[1].set(
    xscale="log",
    ylim=(0, None),
    xlabel="GPUs (H100)",
    ylabel="GPU-hours",
    title="accelerator time billed",
)
fig.tight_layout()
largest = cluster[cluster["gpus"] == max(gpus)]
display(largest[["scenario", "gpus", "nodes", "cores", "bound", "hours", "gpu_hours"]].round(3))
for name, _k, s in scenarios:
    per_gpu = s * cost_gpu.cpu_s / cost_gpu.gpu_s
    sub = cluster[cluster["scenario"] == name]
    under_hour = sub.loc[sub["hours"] <= 1, "gpus"]
    print(
        f"{name}: ≥ {per_gpu:.1f} cores per GPU keep the cores from binding; "
        f"{'≤ 1 h from ' + str(int(under_hour.min())) + ' GPUs' if len(under_hour) else 'over 1 h at every size'}"
    )
cpu_bound = int((cluster["bound"] == "cpu").sum())
print(
    f"the cores bind in {cpu_bound} of {len(cluster)} configurations "
    f"({cores_per_node / gpus_per_node:g} cores per GPU)"
)

# %% [markdown]
# ### Training instead of loading the weights (an extrapolation)
#
# The study loads NATS-Bench's trained weights. Training every network ourselves is another
# matter. Two projections, both scaled from the demo rows' measured node shares on one H100
# node: (a) the demo protocol itself (10 epochs on 10,000 images, then the demo's full
# evaluation with 75 corrupted test sets, attacks and four post-hoc methods) for all
# 117,702 networks, TSS at the demo's N = 1; (b) NATS-Bench's training, TSS 200 and SSS 90
# epochs over each dataset's full training set, with the demo's per-image training cost, TSS
# scaled from N = 1 to N = 5 by the benchmark's alone-on-the-GPU throughput ratio. Per-image
# cost is taken as constant across epochs, datasets and image sizes: an extrapolation, not a
# measurement.

# %%
train_rows = {}
if len(gpu_costs):
    node_s = (
        gpu_costs[gpu_costs["fidelity"] == trained["fidelity"].iloc[0]]
        .groupby("space")["node_s"]
        .median()
    )
    demo_h = sum(per_space[s] * node_s[s] for s in node_s.index) / 3600
    if set(node_s.index) == set(per_space.index):
        train_rows["demo protocol, 1 H100 node (shared as in the demo)"] = demo_h
    print(
        "(a) demo protocol: "
        + " + ".join(f"{per_space[s]:,} {s.upper()} × {node_s[s]:.2f} s" for s in node_s.index)
        + f" = {demo_h:,.0f} node-hours"
    )
    if set(per_image.index) == set(per_space.index) and size_factor is not None:
        factors = {"tss": size_factor if fidelity["N"] == 1 else 1.0, "sss": 1.0}
        nats = projection.train_projection(per_image.to_dict(), size_factor=factors)
        display(
            nats.groupby("space")[["networks", "epochs", "s_per_network", "hours"]]
            .agg({"networks": "sum", "epochs": "first", "s_per_network": "mean", "hours": "sum"})
            .round(1)
        )
        nats_h = float(nats["hours"].sum())
        train_rows["NATS-Bench training, 1 H100 node (shared as in the demo)"] = nats_h
        alone_tss = projection.train_projection(
            {"tss": 1 / alone[(5, "fp32", True)]},
            networks={"tss": projection.PAPER_NETWORKS["tss"]},
        )
        print(
            f"(b) NATS-Bench training: {nats_h:,.0f} node-hours "
            f"(TSS N=1 → N=5 factor {size_factor:.2f}); TSS alone, one network at a time at "
            f"the benchmark's {alone[(5, 'fp32', True)]:,} img/s: {alone_tss['hours'].sum():,.0f} "
            f"H100-hours against {nats.loc[nats['space'] == 'tss', 'hours'].sum():,.0f} shared"
        )
else:
    print("no GPU rows: the training projections need the demo's GPU timings")

# %% [markdown]
# ### Everything at once

# %%
headline = {f"pretrained eval, 1 H100, {r.scenario}": r.hours for r in one_gpu.itertuples()}
headline |= train_rows
headline["pretrained eval, this machine"] = cpu_eval_hours
headline[f"training at the {train_scale!r} size, this machine"] = cpu_train_hours
overview = pd.Series(headline, name="hours").sort_values()
fig, ax = plt.subplots(figsize=(9, 0.45 * len(overview) + 1))
sns.barplot(x=overview.to_numpy(), y=overview.index, ax=ax, color="C0")
ax.axvline(
    goal_hours, color="C3", linestyle="--", linewidth=1, label=f"goal: {goal_hours:g} H100-hours"
)
ax.legend(loc="lower right")
ax.set(xscale="log", xlabel="hours (one device)", ylabel="")
fig.tight_layout()
display(overview.round(1).to_frame())

# %% [markdown]
# **What the numbers say.** Evaluating the 117,702 pretrained networks one at a time on an H100
# takes the printed serial hours, over five times the goal of 10 H100-hours; running the metric
# catalogue on the CPU beside the GPU (`jobs_per_gpu` jobs with no GPU gain) still leaves more
# than twice the goal. The goal needs concurrent evaluation jobs that run the printed factor
# $s^\star$ faster in aggregate than one job. Training, shared on the H100 in the demo, reached a
# gain of that order (printed in section 2) because a training step of these small networks is
# launch-bound: one process leaves the GPU idle between kernel launches (for the same reason a
# CUDA graph of the step trains 1.9 times as fast on an H200, `benchmarks/README.md`). Evaluation
# is not: at 1,024 images per batch one job already keeps the GPU busy, and eight concurrent jobs
# on an H200 ran only the printed measured $s$ (about 1.07) times as fast as one. So the goal is
# **not met**: with the measured sharing the full evaluation takes the printed hours of the
# measured scenario, over twice the goal. Neither bf16 logits (about 1.1 times as fast, and they
# move the ECE) nor a CUDA graph of the forward pass (slower, its capture included) changed that
# (`benchmarks/eval_speed.py`). Reaching the goal needs fewer GPU-seconds per image, not more
# jobs: fusing each network's elementwise work (a compiler per architecture, its compile time
# spread over three datasets) or evaluating several networks in one batched launch; neither is
# built or measured yet. The study's networks average fewer multiply-accumulates than the
# benchmark network (the printed factor below 1), so the projections lean high, and if SSS
# networks are as much cheaper on the GPU as on this machine, the gap narrows (the printed
# what-ifs; that one rests on this machine's noisy timings). A cluster shortens the wall-clock time in proportion to
# its GPUs and leaves the GPU-hours unchanged, since each node brings its own cores.
#
# Running the demo protocol (training included) for every network would take days of one H100
# node, the printed node-hours; training them at NATS-Bench's length, thousands of node-hours
# even with the demo's sharing. A CPU like this one would need over a month for the
# evaluation alone.
#
# **To measure next** (on a GPU): the SSS networks' evaluation cost, and the per-image GPU
# time of a fused or batched inference path (`benchmarks/eval_speed.py` times variants against
# the current one in one run). Then the first real `calstudy sweep --preset full` run's rows
# will carry their own timings, and this chapter reads them like the demo's.

# %% [markdown]
# ## Summary
#
# - One network's pretrained evaluation costs about $t_\mathrm{gpu} + t_\mathrm{rec}$ printed
#   above on an H100 (logits of 46,032 images plus the metric catalogue); 117,702 of them take
#   the printed serial H100-hours.
# - The 10 H100-hour goal needs concurrent evaluation jobs sharing a GPU at the printed
#   aggregate speed-up. Training reached a gain of that order when shared; evaluation, measured
#   on an H200, does not (eight jobs ≈ 1.07 times one), so the goal is not met: about 24
#   GPU-hours with the catalogue on the CPU. It needs cheaper inference per image. The SSS
#   networks' GPU cost is still unmeasured; by multiply-accumulates the measured network is
#   costlier than the average one.
# - The demo sweep kept about as many jobs in flight as it had workers (Little's law on the
#   rows' own timestamps), each row costing a few node-seconds against half a minute or more of
#   its own.
# - The demo protocol for every network would take days of one H100 node; training every
#   network at NATS-Bench's length, an extrapolation, thousands of node-hours. A 2-core CPU is
#   no option for any of it.
#
# **Exercises.** Rerun with `speedups = [3.0]` and `jobs_per_gpu = 4`; with
# `cores_per_node = 4` to see the CPU bound take over; with `train_scale = "full"` to time
# NATS-Bench's network size on this machine.

# %%
# The chapter's claims, checked so that a run that contradicts them fails the build.
# ... and with enough jobs per GPU that the GPU, not the job slots, bounds the s = 1 scenario.
overlapped = one_gpu.set_index("scenario").loc[f"{jobs_per_gpu} jobs, s = 1", "bound"]
recorded_node = (gpus_per_node, cores_per_node) == (1, 16) and overlapped == "gpu"
assert N == projection.N_NETWORKS == 117_702
assert np.isclose(serial_h, N * cost_gpu.latency_s / 3600)
for name, sub in cluster.groupby("scenario"):
    sub = sub.sort_values("gpus")
    assert (np.diff(sub["hours"]) <= 1e-9).all(), name  # more GPUs never take longer
    assert (np.diff(sub["gpu_hours"]) >= -1e-9).all(), name  # ... nor bill fewer GPU-hours
assert flops_mix < 1, flops_mix  # the benchmark network is costlier than the average
if sss_ratio is not None and sss_ratio > 1:
    assert what_if.loc["SSS cheaper as measured here", "serial h"] < serial_h
    assert what_if.loc["SSS cheaper as measured here", "s needed for goal"] < need["speedup"]
if src["kind"] == "transcribed" and "projection" in bench:  # the recorded 55.2 h
    assert abs(serial_h - bench["projection"]["hours"]) < 0.1, (serial_h, bench["projection"])
if info["device"] == "cpu":
    assert cpu_eval_hours > 24 * 30, cpu_eval_hours  # "over a month" on a CPU
if gpus_per_node == 1:  # each node brings its own cores: GPU-hours do not depend on the size
    for name, sub in cluster.groupby("scenario"):
        assert np.allclose(sub["gpu_hours"], sub["gpu_hours"].iloc[0]), name
assert set(met) <= {name for name, k, s in scenarios if s >= need["speedup"]}, met
# The findings stated in the text, on nodes like the recorded one (1 GPU, 16 cores).
if recorded_node:
    assert np.isclose(overlap_h, N * cost_gpu.gpu_s / 3600)  # GPU-bound with s = 1
    if src["kind"] == "transcribed" and "projection" in bench:  # the recorded 25.5 h
        assert abs(overlap_h - bench["projection"]["gpu_part_hours"]) < 0.1, overlap_h
    assert serial_h > 5 * goal_hours and overlap_h > 2 * goal_hours, (serial_h, overlap_h)
    assert need["speedup"] > 1 and need["cpu_ok"] == 1.0, need
    assert cpu_bound == 0, cluster
    if s_measured is not None:  # evaluation does not share like training: the goal is missed
        assert 1 <= s_measured < 1.5 < need["speedup"], (s_measured, need)
        measured_row = one_gpu.set_index("scenario").filter(like="(measured", axis=0)
        assert not measured_row["meets goal"].any(), measured_row
        assert 2 * goal_hours < measured_row["gpu_hours"].iloc[0] < overlap_h, measured_row
if len(gpu_costs) >= min_gpu_rows_for_claims:
    assert matched, gpu_runs
    assert (abs(gpu_runs["concurrency"] - gpu_runs["workers"]) <= 2).all(), gpu_runs
    assert (gpu_costs["wall_time_s"] / gpu_costs["node_s"]).median() > 8  # an order of magnitude
    assert train_ratio is not None and train_ratio > 1, train_ratio
    assert 0.5 < train_ratio / need["speedup"] < 2, (train_ratio, need)
    assert 24 < train_rows["demo protocol, 1 H100 node (shared as in the demo)"] < 24 * 30
    nats_key = "NATS-Bench training, 1 H100 node (shared as in the demo)"
    assert train_rows[nats_key] > 1000, train_rows  # thousands of node-hours
else:
    print(
        f"Findings on the GPU rows not checked: {len(gpu_costs)} GPU rows < "
        f"min_gpu_rows_for_claims = {min_gpu_rows_for_claims}."
    )
