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
# # RQ viii: can calibration be predicted before training?
#
# :::{admonition} This chapter in one box
# :class: tip
# ```{glue:md} rq8_predict-answer
# :format: myst
# ```
# :::
#
# **Overview.** Every other chapter measures calibration *after* training. A search for
# architectures that are accurate *and* well calibrated would be far cheaper if calibration
# could be ranked before training, the way zero-cost proxies try to rank accuracy from one
# minibatch through an untrained network {cite}`mellor2021naswot,abdelfattah2021zerocost`. This
# chapter asks whether the post-training ECE of architectures a predictor has never seen can be
# ranked from what is known before training: the architecture string (operations, widths,
# parameter count, FLOPs) and zero-cost proxies computed at initialisation (synflow
# {cite}`tanaka2020synflow`, gradient norm and SNIP {cite}`lee2019snip,abdelfattah2021zerocost`,
# NASWOT {cite}`mellor2021naswot`), and, one step further, from the first epochs of training:
# the network's calibration after a short run that costs a fraction of a full one. The goal set
# for this question is a Kendall τ-b of at least 0.6 on held-out architectures. The reference
# study {cite}`tao2024benchmark` did not ask this question, so there is no paper number to
# compare with.
#
# **Prerequisites:** the [calibration primer](primer) (ECE, temperature scaling), Kendall's τ-b
# (see [RQ i](rq1_transfer)) and the [design chapter](rq7_design) (what the architecture
# features mean). **You will see,** for each search space and dataset of the store: the
# zero-cost proxies, the calibration after the first epochs where the store has it, a
# comparison of predictors on held-out architectures with confidence intervals, predicted
# against actual ranks, which inputs the model relies on, and how far the noise of retraining
# lets any predictor go.
#
# **Protocol.** Repeated K-fold over *architectures*: in each of `repeats` shuffles the
# architectures are cut into `folds` folds, and every predictor is fitted on the other folds
# only (its model choice, its hyperparameters, the sign of a one-column baseline: everything)
# before it scores the held-out fold. TSS strings that are isomorphic (the same cell written
# differently, `calstudy.space.canonical_tss`) are one architecture: they are always held out
# together, so a predictor never scores a network whose twin it was trained on. Each
# architecture's held-out scores are averaged over the repeats, and τ-b between that score and
# the actual ECE, with a bootstrap interval over architectures, is the predictor's result. The
# model is a regressor trained on ECE *ranks*; which regressor (gradient boosting, random
# forest, ridge, or their average) is chosen on each training fold by an inner
# cross-validation, grouped the same way, that never sees the held-out fold. The predictors:
#
# - **baselines** available before training: parameter count, FLOPs, and an *accuracy
#   predictor* (the same model trained to predict accuracy, whose prediction ranks ECE with the
#   direction accuracy and ECE share on the training fold);
# - each **zero-cost proxy** alone, its direction fitted on the training fold;
# - the **models**: architecture features alone, and architecture features with the proxies;
# - **early training** (when the store has early signals): the validation ECE after each early
#   epoch alone, a model on all early signals, and a model on architecture, proxies and early
#   signals together;
# - **references** known only after training, which no pre-training predictor can use: the
#   network's own accuracy, and its ECE on each other dataset.
#
# **Scale.** A store with more than `max_archs` architectures in a space and dataset is scored
# on a seeded sample of that many strings (isomorphic strings in the sample are still held out
# together). Zero-cost proxies need a forward and backward pass of each network on images of its
# dataset, so every network gets them only where a space and dataset has at most `proxy_archs`
# networks; beyond that a seeded sample of `proxy_sample` networks does. They also need the
# dataset's images (`data_dir`; by default the CIFAR-10 and Fashion-MNIST sample shipped with
# calstudy). Where they cover only a sample, the predictors are scored twice: on all scored
# architectures without proxies, and on the sample with them. Each section below says which
# was used.

# %% tags=["parameters"]
store = "data/demo"  # calibration store directory
spaces = []  # search spaces analysed; empty list: every space in the store
datasets = []  # datasets analysed, each on its own; empty list: every dataset in the store
metric = "ECE"  # calibration metric family of the target
n_bins = 15  # its bin count; None for estimators without bins (KSCE, MMCE, ...)
prefix = "pre"  # "pre": the target is measured before temperature scaling, "post": after it
goal = 0.6  # the τ-b the question asks a pre-training predictor to reach
folds = 5  # outer folds over architectures
repeats = 2  # reshuffles of the outer folds
inner_folds = 3  # folds of the inner cross-validation that picks the model
candidates = ["gbm", "forest", "ridge", "ensemble"]  # models the inner CV chooses among
max_archs = 400  # architectures scored per space and dataset (a seeded sample when more)
proxy_archs = 128  # zero-cost proxies for every network of a space and dataset of at most this many
proxy_sample = 48  # ... else for a seeded sample of this many networks (0: none)
proxy_images = 64  # images in the zero-cost proxies' minibatch
data_dir = None  # where the datasets' images are; None: the sample shipped with calstudy
early_dir = None  # early-training signals (`calstudy early`); None: <store>/early
early_schedule = None  # cosine period of the early runs to use; None: the only one present
rerun_dir = None  # full-schedule reruns with several seeds (`calstudy early`); None: <store>/early-full
n_permutations = 5  # permutations per feature group and fold for permutation importance
n_boot = 500  # bootstrap resamples per τ
level = 0.95  # confidence level of every interval
seed = 0
min_rows = 3  # fewest architectures a space and dataset needs to be scored

# %%
import time

import matplotlib.pyplot as plt
import seaborn as sns
from IPython.display import display

from calstudy import answers, chapter, early, plots, predict, report
from calstudy.catalogue import display_name, prose_name

sns.set_theme(style="whitegrid", context="notebook")
started = time.perf_counter()
selection = dict(space=spaces or None, datasets=datasets or None)
bins = [n_bins] if n_bins is not None else []
df = chapter.load_study(store, **selection, metrics=[metric], bin_counts=bins, min_rows=min_rows)
every_seed = chapter.load_study(store, **selection, metrics=[metric], bin_counts=bins, seeds="all")
target = chapter.column(metric, n_bins=n_bins, prefix=prefix)
pairs = predict.study_pairs(df, target, min_archs=min_rows)
root = chapter.resolve_store(store)
signals = early.load_early_signals(early_dir if early_dir is not None else root / "early")
summary = []  # the findings of this run, restated in the Summary
display(report.md(predict.pairs_sentence(pairs, target=target, min_archs=min_rows)))

# %% [markdown]
# ## Zero-cost proxies
#
# Each network is built as the study builds it before training (same seed, same skeleton) and
# sees one class-stratified batch of training images (`predict.zero_cost_proxies`). With
# parameters $\theta$ and the cross-entropy $L$ of the batch:
#
# - synflow $= \log\bigl(1 + \sum |\theta| \odot \partial R / \partial |\theta|\bigr)$, where
#   $R$ is the summed output of the network with absolute-valued weights on an all-ones image;
# - grad_norm $= \sum_\text{layers} \lVert \partial L / \partial \theta \rVert_2$;
# - snip $= \sum |\theta \odot \partial L / \partial \theta|$;
# - naswot $= \log |K_H|$, where $(K_H)_{ab}$ counts the ReLU units on which images $a$ and $b$
#   agree (both active or both inactive);
# - logit_std, the spread of the untrained network's logits (ours, not from the literature).
#
# A TSS cell with no path of non-`none` edges from input to output gives every image the same
# activations, so its NASWOT kernel is singular: such cells get no proxies.

# %%
inputs = {}  # (space, dataset) → (scored data, proxy table or None)
for p in pairs.itertuples():
    data, proxies, text = predict.pair_inputs(
        df, p, target=target, max_archs=max_archs, max_all=proxy_archs, sample=proxy_sample,
        num_images=proxy_images, data_dir=data_dir, seed=seed)  # fmt: skip
    inputs[p.space, p.dataset] = data, proxies
    display(report.md(f"**{predict.pair_title(p.space, p.dataset)}:** {text}"))
    if proxies is not None:
        display(report.format_table(proxies.describe().T))

# %% [markdown]
# ## Early-training signals
#
# The next cheapest signal after a zero-cost proxy is the start of training itself.
# `calstudy early` (module `calstudy.early`) trains each network of the sweep from the same
# initial weights, on the same training images, for a few epochs of a short cosine schedule, and
# after each epoch measures it on *validation images*: training images of the dataset that the
# sweep did not train on, so neither the study's training nor its test images are used. Per
# epoch it records ECE (15 bins), NLL, accuracy, mean confidence, the confidence gap
# (confidence − accuracy) and the training loss and accuracy. These signals cost part of a
# training run, not nothing. Each panel of the figure: one point per
# architecture, its validation ECE after an early epoch against the target after the full run,
# with τ-b and its interval (the figure is left out where the store has no early signals).

# %%
early_found = {}  # (space, dataset) → EarlySignals: the data with them, their τ and sentences
for p in pairs.itertuples():
    data, proxies = inputs[p.space, p.dataset]
    joined = early_found[p.space, p.dataset] = predict.pair_early(
        data, signals, every_seed, schedule_epochs=early_schedule, n_boot=n_boot, level=level,
        seed=seed)  # fmt: skip
    inputs[p.space, p.dataset] = joined.data, proxies
    display(report.md(f"**{predict.pair_title(p.space, p.dataset)}:** {joined.text}"))
    if joined.summary:
        summary.append(f"{predict.pair_title(p.space, p.dataset)}: {joined.summary}")

# %% mystnb={"figure": {"caption": "Early-training signals: each architecture's validation ECE after an early epoch (one panel per epoch) against its ECE after the full training run, with Kendall τ-b and its interval in each title.", "name": "fig-rq8_predict-early"}, "image": {"alt": "A row of scatter plots, one per early epoch, of the validation calibration error after that epoch against the calibration error after full training, one point per architecture, with the rank correlation in each panel's title."}}
for (space, dataset), joined in early_found.items():
    if joined.taus is None:
        continue
    axes = plots.plot_early_signals(joined.data.frame, joined.taus, target)
    axes[0].figure.suptitle(predict.pair_title(space, dataset))
    axes[0].set_ylabel(f"{display_name(target)}, after training")
    plt.show()

# %% [markdown]
# ## Which predictor ranks held-out architectures best?
#
# τ-b of each predictor's held-out score with the actual target, with its bootstrap interval;
# `tau_mean` and `tau_sd` are the mean and spread of τ-b over the repeats, each repeat scoring
# every architecture once. The figure after the tables draws them; the dashed line marks
# the goal.

# %%
results = {}  # (space, dataset, label) → ScoredRun: the data, its Comparison, facts, sentences
for p in pairs.itertuples():
    runs = predict.score_runs(
        *inputs[p.space, p.dataset], goal=goal, candidates=candidates, inner_splits=inner_folds,
        n_splits=folds, n_repeats=repeats, n_boot=n_boot, level=level, seed=seed,
        min_archs=min_rows)  # fmt: skip
    for label, s in runs.items():
        results[p.space, p.dataset, label] = s
        display(report.md(s.heading), predict.predictor_table(s.result.scores),
                report.md(f"**{s.title}:** {s.text}"))  # fmt: skip
        summary.append(f"{s.title}: {s.summary}")

# %% mystnb={"figure": {"caption": "Each predictor's Kendall τ-b between its held-out score and the actual target, with its bootstrap interval, one panel per search space, dataset and input set; dashed red: the goal.", "name": "fig-rq8_predict-taus"}, "image": {"alt": "Panels of horizontal interval plots, one per search space, dataset and input set, listing the predictors from worst to best by their held-out rank correlation with calibration, coloured by kind, with a dashed vertical line at the goal."}}
scored = {s.title: s.result.scores for s in results.values()}
plots.draw_panels(scored, lambda ax, title, scores: plots.plot_predictor_taus(
    scores, ax=ax, goal=goal, title=title,
    xlabel=f"τ-b(held-out score, {display_name(target)}) with {level:.0%} interval"),
    width=8, heights=[0.45 * len(t) + 1.2 for t in scored.values()])  # fmt: skip
plt.show()

# %% [markdown]
# ## Predicted against actual ranks
#
# Each point of the figure is one architecture: its held-out score's rank
# against its actual rank (both as fractions of the sample), for the chapter's main model
# (architecture features with the proxies, or alone where there are none). A perfect ranker
# puts every point on the diagonal.

# %%
shown = predict.main_runs(results)  # title → the run whose main model is shown: with proxies if any
display(report.md(*(f"**{title}:** " + predict.shortlist_sentence(s.result, s.facts["main"])
                    for title, s in shown.items())))  # fmt: skip

# %% mystnb={"figure": {"caption": "Held-out rank of the main model's score against the actual rank of the target, one point per architecture (both as fractions of the sample), one panel per search space and dataset; dashed: a perfect ranker.", "name": "fig-rq8_predict-ranks"}, "image": {"alt": "Scatter plots, one per search space and dataset, of the predicted rank against the actual rank of each architecture's calibration error, with a dashed diagonal where a perfect predictor's points would lie."}}
plots.draw_panels(shown, lambda ax, title, s: plots.plot_rank_agreement(
    s.result.predictions, target, s.facts["main"], ax=ax, title=title).set(
    ylabel=f"rank of actual {display_name(target)}"), width=10, heights=4.6, ncols=2)  # fmt: skip
plt.show()

# %% [markdown]
# ## What the model relies on
#
# Permutation importance on held-out folds (`predict.permutation_importance`): on every outer
# fold the model is fitted on the training architectures, then each input (the five indicators
# of one edge together) is shuffled across the held-out architectures, and the drop in τ-b is
# recorded (the figure). Inputs the model does not use, or uses
# without benefit on new architectures, have importance near zero or below.

# %%
importances = {}  # title → (importance table, the candidate model it was measured with)
for title, s in shown.items():
    importance, candidate, text = predict.main_importance(
        s, candidates=candidates, inner_splits=inner_folds, n_permutations=n_permutations,
        seed=seed)  # fmt: skip
    if importance is not None:
        importances[title] = importance, candidate
    display(report.md(f"**{title}:** {text}"))

# %% [markdown]
# %% mystnb={"figure": {"caption": "Permutation importance on held-out folds: the drop in held-out τ-b when an input (or the five indicators of one edge together) is shuffled, ± one standard error, the fifteen largest, one panel per search space and dataset.", "name": "fig-rq8_predict-importance"}, "image": {"alt": "Horizontal bar charts, one per search space and dataset, of how much the held-out rank correlation drops when each input is shuffled, largest first, with error bars."}}
plots.draw_panels(importances, lambda ax, title, found: plots.plot_importance(
    found[0], ax=ax, title=title, xlabel=f"drop in held-out τ-b when shuffled ({found[1]}; ± s.e.)"),
    width=7, heights=[0.35 * min(15, len(t.dropna())) + 1.2 for t, _ in importances.values()])
plt.show()

# %% [markdown]
# ## How far could any pre-training predictor go?
#
# A network's ECE is the architecture's plus the noise of its training run: the same
# architecture trained again lands elsewhere. A predictor that sees only the architecture can
# at best predict the architecture's mean, and that mean's τ-b with one training run is limited
# by the share of the variance that belongs to the architecture, the intraclass correlation
# (ICC): the correlation of the architecture's mean with one run is
# $\rho_{\max} = \sqrt{\mathrm{ICC}}$, and for normal data
# $\tau_{\max} = \tfrac{2}{\pi} \arcsin \rho_{\max}$ (`predict.ceiling_tau`). A store can
# measure the ICC in three ways, each used where it exists:
#
# - **seed study**: architectures of the store trained again with other seeds
#   (`predict.noise_ceiling`: their pooled seed variance against the spread of single runs;
#   with a handful of architectures its interval is wide; runs of one device where there are
#   such, as a shift between devices would count as noise);
# - **reruns**: the sweep's networks retrained for the full schedule with several seeds and
#   measured on held-out training images (`calstudy early`, `predict.retest_ceiling`). A seed
#   gives every network the same data order, so seeds are crossed with architectures and the
#   two-way consistency ICC counts only the noise that reorders architectures;
# - **isomorphic strings**: where the store holds TSS strings that are the same cell written
#   differently, each trained separately (NATS-Bench trained every one of its 15,625 strings,
#   which fall into 6,466 classes), the spread within a class is retraining noise at the
#   benchmark's own schedule (`predict.isomorphic_ceiling`: the one-way ICC across classes of
#   unequal size, with its F interval).
#
# Where the store has reruns, the figure after the ceilings shows how the ICC of each
# validation signal grows over the full schedule.

# %%
ceilings, ceiling_texts = {}, {}  # (space, dataset) → NoiseCeilings; name → {source: sentence}
all_reruns = early.load_early_signals(rerun_dir if rerun_dir is not None else root / "early-full")
for p in pairs.itertuples():
    data, name = inputs[p.space, p.dataset][0], predict.pair_title(p.space, p.dataset)
    reruns = predict.pair_reruns(all_reruns, data)
    found = ceilings[p.space, p.dataset] = predict.noise_ceilings(
        predict.group_rows(every_seed, p), data.frame[target], target, reruns=reruns, level=level,
        min_archs=min_rows)  # fmt: skip
    if found.rerun is not None:
        display(report.md(f"**{name}, reruns:** " + predict.rerun_sentence(
            found.rerun, device=reruns["device"].iloc[0], target=target)))
    schedule = early_found[p.space, p.dataset].schedule_epochs  # None: no early signals joined
    v = predict.early_seed_icc(signals, data, schedule_epochs=schedule, level=level,
                               min_archs=min_rows) if data.early else None  # fmt: skip
    if v is not None:  # how reliable the early signals themselves are
        display(report.md(f"**{name}, early signals repeated with other seeds** "
                          + predict.early_icc_sentence(v)))  # fmt: skip
    if not found.ceilings:
        display(report.md(f"**{name}:** no ceiling: {report.join(found.missing)}."))
        continue
    texts = ceiling_texts[name] = predict.ceiling_sentences(
        found, goal=goal, best=predict.best_before(results.values(), p), n_strings=p.n_archs,
        n_classes=p.n_classes)  # fmt: skip
    display(report.format_table(predict.ceiling_table(found.ceilings)),
            *(report.md(f"**{name}, {source}:** {text}") for source, text in texts.items()))  # fmt: skip
    summary += [f"{name}, {source}: {text}" for source, text in texts.items()]

# %% mystnb={"figure": {"caption": "Full-schedule reruns with several seeds: the ICC across seeds of each validation signal after each epoch, with its interval, one panel per search space and dataset: how much of a run the architecture decides.", "name": "fig-rq8_predict-icc"}, "image": {"alt": "Line plots, one per search space and dataset, of the intraclass correlation across seeds of several validation signals against the training epoch, each line with a shaded interval, between 0 and 1."}}
reran = {predict.pair_title(*k): c.rerun.by_epoch for k, c in ceilings.items()
         if c.rerun is not None}  # fmt: skip
plots.draw_panels(reran, lambda ax, title, by_epoch: plots.plot_icc_by_epoch(
    by_epoch, ax=ax, title=f"{title}: how much of a run the architecture decides",
    xlabel=f"epoch of the study's {int(by_epoch['epoch'].max())}-epoch schedule"),
    width=8, heights=4.2)  # fmt: skip
plt.show()

# %% [markdown]
# The ceiling bounds predictors that see only the architecture. Early-training signals also
# see the network's own initial weights (the seed), so in principle they could pass it; they
# cannot help, though, if they are themselves mostly seed noise, which the ICC of the early
# signals repeated with other seeds measures where the store has them. Each ceiling is about
# the store's own networks: a longer schedule, or more training images, may let the
# architecture decide more of a run's calibration.

# %% [markdown]
# ## Summary

# %%
report.glue_md("rq8_predict-answer", answers.box(
    f"Can architectures a predictor has not seen be ranked by their {prose_name(target)} "
    f"after training, before training them, to the goal of a held-out τ-b ≥ {goal:g}?",
    predict.answer_findings(results, ceiling_texts),
    caveat="The reference study did not ask this question: there is no paper number. A "
    "predictor that sees only the architecture cannot pass the noise ceiling of retraining."))
display(report.md("\n".join(f"- {s}" for s in summary) if summary else
                  "- Nothing could be scored on this store (see the first cell)."))  # fmt: skip

# %% [markdown]
# **Exercises.** Rerun with `prefix = "post"`: is calibration after temperature scaling easier
# to predict? Rerun with `spaces = ["sss"]` or `datasets = ["fashion-mnist"]`. Add a proxy to
# `predict.zero_cost_proxies` and check whether the held-out τ moves beyond its interval.
# Complete the full-schedule reruns of a store (the commands in [reproduce](reproduce); they
# resume) and use the first epochs of the study's own schedule as early signals
# (`early_dir = "<store>/early-full"`, `early_schedule` = the study's epochs): do epochs at the
# peak learning rate say more?

# %%
# What must hold for any data: τ-b in [-1, 1] and inside its interval, p-values in [0, 1], no
# held-out architecture (nor its isomorphic twin) trained on, one row per architecture string,
# inputs finite where used (predict.comparison_problems); ICCs and ceilings in [0, 1], inside
# their intervals (predict.ceiling_problems).
problems = [q for s in results.values() for q in predict.comparison_problems(s.run, s.result)]
problems += [q for found in ceilings.values() for q in predict.ceiling_problems(found)]
assert not problems, problems
print(f"chapter computed in {time.perf_counter() - started:.0f} s")
