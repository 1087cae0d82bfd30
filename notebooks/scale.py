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
# :::{admonition} This chapter in one box
# :class: tip
# ```{glue:md} scale-answer
# :format: myst
# ```
# :::
#
# **Overview.** The reference study released one row per (dataset, architecture) pair:
# 3 datasets × (6,466 unique TSS + 32,768 SSS architectures) = 117,702 rows
# {cite}`tao2024benchmark`, each from a network NATS-Bench had already trained
# {cite}`dong2021nats`. How much does it cost to compute such a study from the networks
# themselves? This chapter measures what one network costs on the machine that builds the book,
# reads what recorded GPU runs measured (benchmark files, and the timings a calstudy sweep
# stores with each row), and projects the cost of the whole study: evaluating all 117,702
# pretrained networks on one GPU and on a cluster, and, as an extrapolation, training them.
#
# **Prerequisites:** the [dataset chapter](dataset.ipynb) (what a row holds, how the sweep
# makes it). **You will see:** measurements on this machine (section 1), the GPU measurements
# behind the projections (section 2), the projections themselves and whether the project's
# goal of evaluating the full study in at most `goal_hours` H100-hours is met (section 3).
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

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import display

from calstudy import answers, chapter, measure, plots, projection, report
from calstudy.device import machine_info
from calstudy.space import tss_features

sns.set_theme(style="whitegrid", context="notebook")
if train_scale not in projection.SCALES:
    raise ValueError(f"Expected `train_scale` to be one of {projection.SCALES}, got {train_scale!r}.")
bench = projection.load_measurement(gpu_benchmark)
sweep_record = projection.load_measurement(gpu_sweep)
rows = chapter.load_study(store, seeds="all")
timed = projection.timed_rows(rows)
N = projection.N_NETWORKS
summary = []  # the findings of this run, restated in the Summary
display(report.md(projection.store_sentence(rows, timed, store=store)))

# %% [markdown]
# ## 1. Measured on this machine
#
# The evaluation's two parts at the pretrained size: logits of a seeded sample of
# architectures (TSS at C = 16, N = 5; SSS at their own widths) and the metric catalogue on
# 10,000 logits; then training epochs at the size of the `train_scale` preset. The machine may
# be shared with other jobs, so these times are noisy (the load average is given). From them:
# the full study's evaluation on this machine alone (serial: the logits already use every
# core), and training every network at the `train_scale` size.

# %%
started = time.perf_counter()
info = machine_info(device)
ev_here = measure.measure_eval_cost(n_archs=n_archs, n_images=n_eval_images,
                                    record_classes=record_classes, device=device,
                                    repeats=repeats)  # fmt: skip
train_here = {s: measure.measure_train_cost(train_scale, space=s, n_images=train_images,
                                            device=device) for s in ("tss", "sss")}  # fmt: skip
here = projection.machine_projection(ev_here, train_here)
text = projection.machine_sentence(info, ev_here, train_here, here, scale=train_scale)
display(report.format_table(ev_here.logits), report.format_table(ev_here.by_space()),
        report.md(f"{text} Section 1 measured in {time.perf_counter() - started:.0f} s."))
summary.append(text.split(";")[0] + ".")
cpu_rows = timed[timed["device"] == "cpu"]
if len(cpu_rows):
    display(report.md(projection.cpu_rows_sentence(cpu_rows, gap_s=gap_s)))

# %% [markdown]
# ## 2. What the GPU runs measured
#
# ### The evaluation cost on the benchmark's GPU
#
# `benchmarks/train_bench.py` timed the logits of a TSS network at the pretrained size on
# 10,000 images and the metric catalogue on its logits; the file the chapter reads
# (`gpu_benchmark`) says where its numbers come from.

# %%
cost_gpu = projection.benchmark_cost(bench)
by_space = ev_here.by_space()["images_per_s"]
display(report.md(projection.benchmark_sentence(bench, path=gpu_benchmark, by_space=by_space)))

# %% [markdown]
# That GPU number is one network alone on the GPU. How much *faster in aggregate* several
# evaluation jobs sharing one GPU run ($s_k$ above) is what `benchmarks/eval_bench.py` measures
# (`eval_bench`); section 3 adds it as a scenario.
#
# ### A sweep's own timings
#
# Each row a calstudy sweep writes records when it finished (`created_at`) and how long it
# took (`wall_time_s`, split into `train_time_s` and `eval_time_s`). Rows whose intervals
# overlap, or lie at most `gap_s` seconds apart, form one run; by Little's law the mean number
# of jobs in flight is the sum of their wall times over the run's duration, $L = \sum_i w_i / D$,
# and a row's share of the node is $w_i / L$ (node-seconds). The run table sets $L$ beside the
# worker counts recorded by hand (`gpu_sweep`), which the store does not hold. Training is the
# one part with an alone-on-the-GPU baseline: dividing the training images of a row by its
# training share of the node gives the training throughput the node delivered per row while
# shared, to set against one network trained alone (the benchmark). The figure after the run table
# shows the rows' times (left out where the store has no GPU rows).

# %%
gpu_timed = timed[timed["device"].astype(str).str.startswith("cuda")]
gpu_costs = projection.row_costs(gpu_timed, gap_s=gap_s) if len(gpu_timed) else gpu_timed
training = None
if gpu_costs.empty:
    display(report.md("*No row of this store ran on a GPU with timings: the store-based GPU "
                      "figures are skipped.*"))  # fmt: skip
else:
    gpu_runs, matched = projection.match_recorded_runs(
        projection.sweep_runs(gpu_timed, gap_s=gap_s), sweep_record)
    display(report.format_table(gpu_runs.drop(columns=["start", "end", "busy_s"])))
    training = projection.shared_training(gpu_costs, bench)
    text = projection.gpu_rows_sentence(gpu_costs, gpu_runs, matched=matched, training=training)
    display(report.md(text))
    summary.append(text)

# %% mystnb={"figure": {"caption": "A store's GPU rows by search space: each row's own wall, training and evaluation seconds while jobs shared the GPU (left), and its share of the node, own time divided by the mean number of jobs in flight (right).", "name": "fig-scale-rows"}, "image": {"alt": "Two panels of box plots by search space: the seconds each stored GPU row took in total, in training and in evaluation, and the same divided by the number of concurrent jobs, which is much smaller."}}
if not gpu_costs.empty:
    plots.plot_row_times(gpu_costs)
    plt.show()

# %% [markdown]
# The gain of sharing holds with two caveats: the benchmark's network is one architecture
# while the rows are a sample of them, and attributing a row's node share to training in
# proportion to its training time assumes the node was shared evenly between the jobs' phases.
#
# ## 3. Projections
#
# ### The full pretrained evaluation on one GPU
#
# Scenarios: one job at a time (serial); `jobs_per_gpu` jobs with no gain on the GPU
# ($s_k = 1$, which still moves the metric catalogue off the GPU's critical path); the assumed
# speed-ups `speedups`; when the store supports it, $s_k$ equal to the aggregate gain
# training showed above, an assumption that evaluation shares like training did; and the
# $s_k$ measured for evaluation (`eval_bench`).

# %%
s_measured = measured_on = None
if eval_bench is not None:  # a measured s_k
    concurrency = projection.load_measurement(eval_bench)
    s_measured = projection.concurrency_speedup(concurrency, jobs_per_gpu)
    measured_on = concurrency["device_name"]
scenarios = projection.eval_scenarios(
    jobs_per_gpu=jobs_per_gpu, speedups=speedups, s_measured=s_measured, measured_on=measured_on,
    s_train=None if training is None else training["ratio"])  # fmt: skip
node = dict(gpus_per_node=gpus_per_node, cores_per_node=cores_per_node)
one_gpu = projection.scenario_table(cost_gpu, scenarios, goal_hours=goal_hours, **node)
need = projection.required_for(cost_gpu, goal_hours, gpus=1, cores=cores_per_node)
text = projection.goal_sentence(one_gpu, cost_gpu, need, goal_hours=goal_hours,
                                cores=cores_per_node, jobs_per_gpu=jobs_per_gpu,
                                s_measured=s_measured, measured_on=measured_on)  # fmt: skip
display(report.format_table(one_gpu[["scenario", "jobs_per_gpu", "speedup", "bound",
                                     "networks_per_s", "hours", "gpu_hours", "meets_goal"]]),
        report.md(text))  # fmt: skip
goal_text = text  # the answer in the box at the top
summary.append(text)

# %% [markdown]
# ### Which network stands for the study?
#
# The GPU figure is one TSS network's, charged to all 117,702. Five in six of them are SSS
# networks. Three what-ifs: every network costs the benchmark network's $t_\mathrm{gpu}$ (as
# above); $t_\mathrm{gpu}$ proportional to multiply-accumulates, the mean over every network of
# each space against the benchmark network's (a proxy if the GPU is compute-bound, not if it is
# launch-bound); and SSS networks as much cheaper than TSS ones as section 1 measured on this
# machine (noisy on a shared CPU).

# %%
bench_flops = tss_features(bench["network"]["arch"], C=bench["eval"]["C"], N=bench["eval"]["N"])["flops"]
pop_flops = projection.population_flops()
factors = {"benchmark network's t_gpu for all": {"tss": 1.0, "sss": 1.0},
           "t_gpu ∝ multiply-accumulates": {s: pop_flops[s] / bench_flops for s in pop_flops}}
if {"tss", "sss"} <= set(by_space.index):
    factors["SSS cheaper as measured here"] = {"tss": 1.0, "sss": by_space["tss"] / by_space["sss"]}
what_if = projection.cost_what_ifs(cost_gpu, factors, scenarios, goal_hours=goal_hours, **node)
display(report.format_table(what_if), report.md(projection.what_if_sentence(
    what_if, bench_flops=bench_flops, population=pop_flops)))

# %% [markdown]
# ### On a Ray cluster
#
# `calstudy sweep --preset full --backend ray --gpus-per-job 1/k` spreads the jobs over a
# cluster of nodes with `gpus_per_node` GPUs and `cores_per_node` cores each. Wall-clock hours
# fall with the number of GPUs while the GPUs' bounds hold ({numref}`fig-scale-cluster`); once
# the cores bind, more GPUs only add idle GPU-hours.

# %% mystnb={"figure": {"caption": "The full pretrained evaluation on a cluster, one line per scenario: wall-clock hours (left) and GPU-hours billed (right) against the number of GPUs, both on log scales; dashed red: the goal in GPU-hours.", "name": "fig-scale-cluster"}, "image": {"alt": "Two log-scale line plots against the number of GPUs, one line per scenario: wall-clock hours fall as GPUs are added, while GPU-hours stay flat or rise, with the goal drawn as a dashed line."}}
cluster = projection.scenario_table(cost_gpu, scenarios, goal_hours=goal_hours, gpus=gpus, **node)
plots.plot_scale_cluster(cluster, goal_hours=goal_hours, n_networks=N)
plt.show()

# %%
text = projection.cluster_sentence(cluster, cores_per_node=cores_per_node, gpus_per_node=gpus_per_node)
display(report.format_table(cluster[cluster["gpus"] == max(gpus)][
    ["scenario", "gpus", "nodes", "cores", "bound", "hours", "gpu_hours"]]), report.md(text))
summary.append(text)

# %% [markdown]
# ### Training instead of loading the weights (an extrapolation)
#
# The study loads NATS-Bench's trained weights. Training every network is another matter. Two
# projections, both scaled from a sweep's GPU rows' measured node shares: (a) that sweep's own
# protocol (its training and its full evaluation) for all 117,702 networks; (b) NATS-Bench's
# training, TSS 200 and SSS 90 epochs over each dataset's full training set, with the rows'
# per-image training cost, TSS scaled to N = 5 by the benchmark's alone-on-the-GPU throughput
# ratio. Per-image cost is taken as constant across epochs, datasets and image sizes: an
# extrapolation, not a measurement.

# %%
train_rows = {}
if training is None:
    display(report.md("*No trained GPU rows in this store: the training projections need a "
                      "sweep's GPU timings (see the demo edition).*"))  # fmt: skip
else:
    trained = projection.training_projections(gpu_costs, training)
    if trained["nats"] is not None:
        display(report.format_table(trained["nats"].groupby("space").agg(
            {"networks": "sum", "epochs": "first", "s_per_network": "mean", "hours": "sum"})))
    train_rows = {k: v for k, v in (("the sweep's protocol, 1 node", trained["demo_hours"]),
                                    ("NATS-Bench training, 1 node", trained["nats_hours"]))
                  if v is not None}  # fmt: skip
    text = projection.training_sentence(trained, training)
    display(report.md(text))
    summary.append(text)

# %% [markdown]
# ### Everything at once
#
# {numref}`fig-scale-overview` and the table after it set every projection of this run side by
# side.

# %% tags=["full-width"] mystnb={"figure": {"caption": "Hours of every projection of this run on one device, on a log scale: the pretrained evaluation on one GPU in each scenario, training, and both on the machine that built the book; dashed red: the goal.", "name": "fig-scale-overview"}, "image": {"alt": "Horizontal bars on a log scale, one per projection, from the fastest pretrained-evaluation scenario to training on this machine, with a dashed line at the goal in GPU-hours."}}
headline = {f"pretrained eval, 1 GPU, {r.scenario}": r.hours for r in one_gpu.itertuples()}
headline |= train_rows
headline["pretrained eval, this machine"] = here["eval_hours"]
headline[f"training at the {train_scale!r} size, this machine"] = here["train_hours"]
overview = pd.Series(headline, name="hours").sort_values()
plots.plot_hours_overview(overview, goal_hours=goal_hours)
plt.show()

# %%
display(report.format_table(overview.to_frame()))

# %% [markdown]
# ## Summary
#
# Whether the goal is within reach is decided by two numbers: the GPU-seconds one network's
# evaluation needs, and how much faster in aggregate concurrent jobs run on one GPU ($s_k$). A
# cluster shortens the wall-clock time in proportion to its GPUs, and leaves the GPU-hours
# unchanged where each node brings its own cores. The numbers of this run:

# %%
report.glue_md("scale-answer", answers.box(
    f"Can the full study's {N:,} pretrained networks be evaluated within the goal of "
    f"{goal_hours:g} H100-hours?", goal_text,
    caveat="No paper number: the reference study used NATS-Bench's trained networks and did not "
    "time them. Each projection is a lower bound for its assumed speed-up of concurrent jobs."))
display(report.md("\n".join(f"- {s}" for s in summary)))

# %% [markdown]
# **Exercises.** Rerun with `speedups = [3.0]` and `jobs_per_gpu = 4`; with
# `cores_per_node = 4` to see the CPU bound take over; with `train_scale = "full"` to time
# NATS-Bench's network size on this machine.

# %%
# What must hold for any data.
serial_h = float(one_gpu["hours"].iloc[0])
met = one_gpu.loc[one_gpu["meets_goal"], "scenario"].tolist()
assert np.isclose(serial_h, N * cost_gpu.latency_s / 3600)
for name, sub in cluster.groupby("scenario"):
    sub = sub.sort_values("gpus")
    assert (np.diff(sub["hours"]) <= 1e-9).all(), name  # more GPUs never take longer
    assert (np.diff(sub["gpu_hours"]) >= -1e-9).all(), name  # ... nor bill fewer GPU-hours
if gpus_per_node == 1:  # each node brings its own cores: GPU-hours do not depend on the size
    for name, sub in cluster.groupby("scenario"):
        assert np.allclose(sub["gpu_hours"], sub["gpu_hours"].iloc[0]), name
assert set(met) <= {name for name, k, s in scenarios if s >= need["speedup"] - 1e-9}, met
assert (one_gpu["gpu_hours"] > 0).all() and here["eval_hours"] > 0
