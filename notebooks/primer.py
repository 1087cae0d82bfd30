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
# # A calibration primer
#
# :::{admonition} This chapter in one box
# :class: tip
# ```{glue:md} primer-answer
# :format: myst
# ```
#
# **You will be able to** read a reliability diagram (bars below the diagonal: overconfident);
# define, compute and explain the twelve estimators the book uses (ECE, equal-mass ECE,
# classwise ECE and its equal-mass variant, MCE, KSCE, KDECE, MMCE, smooth ECE, debiased L2
# ECE, NLL and the Brier score); tell an estimator's finite-sample bias from miscalibration;
# and undo over- or underconfidence with temperature scaling.
# :::
#
# A classifier is **calibrated** when, among the predictions it makes with confidence $p$, a
# fraction $p$ is correct {cite}`guo2017calibration`. This lecture defines every estimator of
# calibration the book uses on a simulated example whose truth is known, and ends with
# exercises whose answers the build computes. **Prerequisites:** softmax outputs and accuracy.

# %% tags=["parameters"]
n_samples = 10_000  # predictions in the worked example
n_classes = 10
overconfidence = 2.0  # logits are multiplied by this: > 1 makes the model overconfident
n_bins = 15  # bins of the reliability diagram and of the headline ECE
n_sim = 300  # simulated test sets (labels redrawn from the truth) or bootstrap resamples
level = 0.95  # confidence level of every interval
seed = 0

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from IPython.display import HTML, display

from calstudy import catalogue, estimator_figures, metrics, plots, report, teaching

sns.set_theme(style="whitegrid", context="notebook")
# The worked example: true logits z, labels drawn from softmax(z), the model's softmax(γ z), and
# temperature scaling as in the paper (T fitted on 20 %, metrics on the other 80 %).
ex = teaching.worked_example(n_samples, n_classes, overconfidence=overconfidence, n_bins=n_bins,
                             seed=seed)  # fmt: skip
labels, probs, true_probs, model = ex.labels, ex.probs, ex.true_probs, ex.model
report.glue_md("primer-answer", teaching.takeaway(ex))  # the box at the top of the page

# %% [markdown]
# ## A model whose truth we know
#
# We draw logits $z$ and labels $y \sim \mathrm{softmax}(z)$: by construction the probabilities
# $\mathrm{softmax}(z)$ are perfectly calibrated. The model we study reports
# $\mathrm{softmax}(\gamma z)$ with $\gamma$ = `overconfidence`, the typical failure of modern
# networks when $\gamma > 1$ {cite}`guo2017calibration`. Multiplying the logits by $\gamma$
# does not change which class is largest, so both models have the same accuracy; only their
# confidence differs. Temperature scaling with $T = \gamma$ undoes it exactly.

# %%
report.md(teaching.confidence_finding(ex))

# %% [markdown]
# ## How to read a reliability diagram
#
# Group the predictions into bins of confidence (here `n_bins` bins of equal width on $[0, 1]$)
# and draw, for each bin:
#
# - a **blue bar**, as high as the bin's **accuracy**, the share of its predictions that are
#   correct;
# - a **red hatched bar** from the accuracy to the bin's **mean confidence**: the gap;
# - the **dashed diagonal**, accuracy = confidence, where a calibrated model's bars end.
#
# **Bars that end below the diagonal** (the red gap sits on top of the blue bar) are bins where
# accuracy is lower than confidence: the model is **overconfident** there. **Bars that end above
# the diagonal** (the gap hangs below the bar's top) are **underconfident**: the model is right
# more often than it claims.
#
# The **grey histogram** at the bottom (right axis, "Share of samples per bin" in the legend) is
# the share of all predictions that falls in each bin. Read it before the bars: it says how
# much each bar counts in the ECE, which weights each gap by that share, and how much to trust
# the bar, since a bin of a few predictions has a noisy accuracy. An overconfident network puts
# most of its predictions in the last bins.

# %% mystnb={"figure": {"caption": "Reliability diagrams of the worked example with `n_bins` equal-width bins: left, the true probabilities (perfectly calibrated, γ = 1); right, the model's (logits multiplied by γ = `overconfidence`). Blue: accuracy per bin; red hatched: the gap to the bin's mean confidence; grey: share of predictions per bin (right axis).", "name": "fig-primer-reliability"}, "image": {"alt": "Two reliability diagrams side by side. Left: the calibrated model's accuracy bars end on the diagonal with small gaps. Right: the overconfident model's bars end well below the diagonal, with red gaps growing towards high confidence, and most predictions in the highest bins."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharey=True)
for ax, (name, p) in zip(axes, ex.models.items(), strict=True):
    plots.plot_reliability(plots.reliability_data(p, labels, n_bins=n_bins), ax=ax, title=name)
fig.tight_layout()

# %%
report.md(teaching.fullest_bin_finding(ex))

# %% [markdown]
# **Try it.** The diagram below is interactive: the sliders choose the number of bins and
# the factor $\gamma$ that multiplies the true logits ($\gamma < 1$: underconfident, $\gamma = 1$:
# calibrated, $\gamma > 1$: overconfident). Every position was computed when the book was built
# and is drawn in the browser, so it works offline and without a Python kernel. Watch the bars
# cross the diagonal at $\gamma = 1$, and the diagram grow ragged as the bins multiply.

# %% mystnb={"figure": {"caption": "Interactive reliability diagram of the worked example. Sliders: the number of equal-width bins and the factor γ applied to the true logits. The text under the sliders gives the ECE, accuracy and mean confidence of the current position.", "name": "fig-primer-interactive"}}
widget_bins = sorted({5, 10, 15, 20, 30, 50, n_bins})
widget_gammas = sorted({0.5, 0.75, 1.0, 1.5, 2.0, 3.0, float(overconfidence)})
grid = estimator_figures.reliability_grid(ex.true_logits, labels, n_bins=widget_bins, scales=widget_gammas)
display(HTML(estimator_figures.reliability_widget_html(grid, n_bins=n_bins, scale=float(overconfidence))))

# %% [markdown]
# ## The estimators
#
# **Notation.** There are $N$ predictions and $K$ classes; $p_{ik}$ is the probability the
# model gives to class $k$ for prediction $i$ and $y_i$ its true label. The top-label
# **confidence** is $c_i = \max_k p_{ik}$ and the **correctness** is
# $a_i = \mathbb{1}[\hat y_i = y_i]$ with $\hat y_i = \arg\max_k p_{ik}$ (ties go to the lowest
# class index). A binned estimator splits the predictions into $n$ bins $B_1, \dots, B_n$
# ($n$ = `n_bins`); $|B_b|$ is the number of predictions in bin $b$ and
#
# $$\mathrm{acc}(B_b) = \frac{1}{|B_b|} \sum_{i \in B_b} a_i, \qquad
# \mathrm{conf}(B_b) = \frac{1}{|B_b|} \sum_{i \in B_b} c_i$$
#
# are its accuracy and mean confidence. **Equal-width** bins cut $[0, 1]$ into $n$ intervals:
# $B_1$ holds the confidences in $[0, \frac1n]$ and $B_b$ those in $(\frac{b-1}{n}, \frac bn]$.
# **Equal-mass** bins sort the predictions by confidence (ties: incorrect first) and cut them
# into $n$ contiguous groups whose sizes differ by at most one. Empty bins contribute nothing.
# The figures below show each estimator on the worked example; the values are in percent.
#
# ### ECE: expected calibration error
#
# $$\mathrm{ECE} = \sum_{b=1}^{n} \frac{|B_b|}{N}\,\bigl|\mathrm{acc}(B_b) - \mathrm{conf}(B_b)\bigr|
# \quad \text{(equal-width bins)}$$ (eq-primer-ece)
#
# **Intuition:** the average distance between the bars and the diagonal, each bar weighted by
# the share of predictions it holds {cite}`naeini2015obtaining,guo2017calibration`.

# %% mystnb={"figure": {"caption": "ECE as a sum: each bar is one bin's share of the predictions times its gap between accuracy and mean confidence, for the model with γ = `overconfidence`; the bars add up to the ECE.", "name": "fig-primer-ece"}, "image": {"alt": "Bar chart over confidence of each bin's contribution to the ECE; the contributions grow towards high confidence, where most predictions are, and the text gives their sum, the ECE."}}
fig, ax = plt.subplots(figsize=(6, 4.6))
estimator_figures.plot_bin_gaps(estimator_figures.bin_gaps(plots.reliability_data(probs, labels, n_bins=n_bins)), ax,
                    quantity="contribution")  # fmt: skip
ax.set_title(model)
fig.tight_layout()

# %% [markdown]
# ### Equal-mass ECE
#
# $$\mathrm{ECE}_{\mathrm{em}} = \sum_{b=1}^{n} \frac{|B_b|}{N}\,
# \bigl|\mathrm{acc}(B_b) - \mathrm{conf}(B_b)\bigr|
# \quad \text{(equal-mass bins)},$$
#
# the formula of {eq}`eq-primer-ece` with **equal-mass** bins, each holding
# $\lfloor N/n \rfloor$ or $\lceil N/n \rceil$ predictions (the paper's `ECE_em`)
# {cite}`nixon2019measuring,tao2024benchmark`.
#
# **Intuition:** no bin is a handful of noisy predictions, and the bins are narrow where the
# predictions crowd together (near confidence 1 for an overconfident network) and wide where
# they are rare.

# %% mystnb={"figure": {"caption": "The same predictions (γ = `overconfidence`) binned two ways: equal-width bins (left) and equal-mass bins (right), whose bars have unequal widths but hold the same number of predictions.", "name": "fig-primer-ece-em"}, "image": {"alt": "Two reliability diagrams of the overconfident model. Left: equal-width bars of equal width with very different sample shares. Right: equal-mass bars, narrow at high confidence and wide at low confidence, all with the same share of samples."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharey=True)
for ax, strategy in zip(axes, ("width", "mass"), strict=True):
    data = plots.reliability_data(probs, labels, n_bins=n_bins, strategy=strategy)
    plots.plot_reliability(data, ax=ax, title=f"equal-{strategy} bins")
fig.tight_layout()

# %% [markdown]
# ### Classwise ECE and its equal-mass variant
#
# $$\mathrm{cwCE} = \frac{1}{K} \sum_{k=1}^{K} \sum_{b=1}^{n} \frac{|B_{kb}|}{N}
# \left| \frac{1}{|B_{kb}|} \sum_{i \in B_{kb}} \mathbb{1}[y_i = k]
# - \frac{1}{|B_{kb}|} \sum_{i \in B_{kb}} p_{ik} \right|,$$
#
# where $B_{kb}$ holds the predictions whose probability of class $k$, $p_{ik}$, falls in bin
# $b$: every prediction is binned once per class, by equal width (`cwCE`) or equal mass
# (`cwCE_em`, ties broken by $\mathbb{1}[y_i = k]$) {cite}`kull2019beyond,nixon2019measuring`.
#
# **Intuition:** the ECE of every class probability, not only of the top one: a model can be
# right about its top class and still wrong about how likely the runner-up is.

# %% mystnb={"figure": {"caption": "Classwise reliability of the model with γ = `overconfidence`: one curve per class, each point a bin of that class's probabilities (area ∝ predictions in the bin), equal-width bins left and equal-mass bins right. The classwise ECE is the mean over classes of each curve's weighted gap to the diagonal.", "name": "fig-primer-cwce"}, "image": {"alt": "Two panels of ten coloured curves, one per class, plotting the share of a bin whose label is that class against the bin's mean probability of the class; the curves bend below the diagonal at high probabilities and above it near zero."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharey=True)
for ax, strategy in zip(axes, ("width", "mass"), strict=True):
    table = estimator_figures.classwise_reliability(probs, labels, n_bins=n_bins, strategy=strategy)
    estimator_figures.plot_classwise_reliability(table, ax, title=f"equal-{strategy} bins")
fig.tight_layout()

# %% [markdown]
# ### MCE: maximum calibration error
#
# $$\mathrm{MCE} = \max_{b:\, |B_b| > 0} \bigl|\mathrm{acc}(B_b) - \mathrm{conf}(B_b)\bigr|
# \quad \text{(equal-width bins)}$$
#
# {cite}`naeini2015obtaining`. **Intuition:** the worst bar, its distance from the diagonal
# whatever the number of predictions in its bin, which makes it the estimator for
# safety-critical use and also the noisiest one.

# %% mystnb={"figure": {"caption": "MCE is the largest bar: the gap |accuracy − confidence| of every non-empty equal-width bin, for the calibrated model (left) and the model with γ = `overconfidence` (right). The outlined bar sets the MCE; its label gives the number of predictions in that bin.", "name": "fig-primer-mce"}, "image": {"alt": "Two bar charts of the absolute gap per confidence bin. Left, calibrated: small gaps of both signs, the largest in a sparsely filled bin. Right, overconfident: red bars growing with confidence."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
for ax, (name, p) in zip(axes, ex.models.items(), strict=True):
    estimator_figures.plot_bin_gaps(estimator_figures.bin_gaps(plots.reliability_data(p, labels, n_bins=n_bins)), ax)
    ax.set_title(name)
fig.tight_layout()

# %% [markdown]
# ### KSCE: Kolmogorov–Smirnov calibration error
#
# $$\mathrm{KSCE} = \max_{t} \left| \frac{1}{N} \sum_{i:\, c_i \le t} (a_i - c_i) \right|,$$
#
# with $t$ ranging over the observed confidences {cite}`gupta2021calibration`.
# **Intuition:** no bins at all: sort the predictions by confidence and compare the running sums
# of correctness and of confidence; a calibrated model keeps the two curves together, and KSCE
# is their largest distance.

# %% mystnb={"figure": {"caption": "KSCE: cumulative confidence (red) and cumulative accuracy (blue), each divided by N, over the predictions sorted by confidence, for the calibrated model (left) and the model with γ = `overconfidence` (right). The arrow marks their largest distance, the KSCE.", "name": "fig-primer-ksce"}, "image": {"alt": "Two panels of two rising curves against the share of samples. Left: the curves overlap. Right: the cumulative confidence curve rises above the cumulative accuracy curve and the gap is largest at the end."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
for ax, (name, p) in zip(axes, ex.models.items(), strict=True):
    estimator_figures.plot_ks_curve(estimator_figures.ks_curve(p, labels), ax)
    ax.set_title(name)
fig.tight_layout()

# %% [markdown]
# ### KDECE: kernel-density calibration error
#
# $$\mathrm{KDECE} = \frac{1}{N} \sum_{i=1}^{N} \bigl| \hat r(c_i) - c_i \bigr|,$$
#
# $$\hat r(c_i) = \frac{\sum_{j \ne i} a_j\, k_h(c_i; c_j)}{\sum_{j \ne i} k_h(c_i; c_j)},
# \qquad k_h(c; c') = \mathrm{Beta}\!\left(c;\, \frac{c'}{h} + 1, \frac{1 - c'}{h} + 1\right),$$
#
# where $\hat r(c_i)$ estimates the accuracy at confidence $c_i$ from the other predictions,
# weighted by a Beta kernel of bandwidth $h$ (chosen by leave-one-out likelihood of the
# confidences; confidences are clipped to $[10^{-10}, 1 - 10^{-10}]$)
# {cite}`popordanoska2022consistent`. **Intuition:** replace each bin by a smooth window around
# every confidence.

# %% mystnb={"figure": {"caption": "KDECE: the kernel estimate r̂(t) of the accuracy at confidence t (blue) against the diagonal, for the calibrated model (left) and the model with γ = `overconfidence` (right); red: the distance KDECE averages over the predictions; grey: the density of the confidences (scaled). h is the bandwidth chosen for each model.", "name": "fig-primer-kdece"}, "image": {"alt": "Two panels of a kernel accuracy curve against confidence. Left: the curve follows the diagonal. Right: the curve runs well below the diagonal, with the red band between them widest at high confidence where the density of confidences peaks."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharey=True)
for ax, (name, p) in zip(axes, ex.models.items(), strict=True):
    value = metrics.kdece(p, labels)
    estimator_figures.plot_kernel_reliability(estimator_figures.kernel_reliability(p, labels), ax, value=value)
    ax.set_title(name)
fig.tight_layout()

# %% [markdown]
# ### MMCE: maximum mean calibration error
#
# $$\mathrm{MMCE}^2 = \frac{1}{N^2} \sum_{i=1}^{N} \sum_{j=1}^{N} (a_i - c_i)(a_j - c_j)\,
# k(c_i, c_j),$$
#
# $$k(c, c') = \exp\!\left(-\frac{|c - c'|}{w}\right),$$
#
# with $w = 0.4$; the estimate is $\sqrt{\max(0, \mathrm{MMCE}^2)}$ {cite}`kumar2018trainable`.
# Writing $f(t) = \frac1N \sum_j (c_j - a_j)\, k(t, c_j)$, it is
# $\mathrm{MMCE}^2 = \frac1N \sum_i (c_i - a_i) f(c_i)$. **Intuition:** smooth the residuals
# $c - a$ with a wide kernel; residuals of one sign at nearby confidences add up, residuals
# of opposite signs cancel, and MMCE measures what is left.

# %% mystnb={"figure": {"caption": "MMCE: the residuals c − a smoothed by MMCE's Laplacian kernel (w = 0.4), f(t), for the calibrated model (left) and the model with γ = `overconfidence` (right). Red: confidence above accuracy; blue: below. MMCE² is the mean of each prediction's residual times f at its confidence.", "name": "fig-primer-mmce"}, "image": {"alt": "Two panels of a smoothed residual curve against confidence. Left: the curve stays close to zero. Right: the curve is positive everywhere and peaks at high confidence."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
for ax, (name, p) in zip(axes, ex.models.items(), strict=True):
    text = f"MMCE = {report.pct(metrics.mmce(p, labels), 2)}"
    estimator_figures.plot_residual_curve(estimator_figures.mmce_witness(p, labels), ax, label="f(t)", value=text)
    ax.set_title(name)
fig.tight_layout()

# %% [markdown]
# ### Smooth ECE
#
# $$\mathrm{smECE}_\sigma = \int_0^1 \left| \frac{1}{N} \sum_{i=1}^{N}
# \tilde K_\sigma(t, c_i)\,(c_i - a_i) \right| dt,$$
#
# $$\mathrm{smECE} = \mathrm{smECE}_{\sigma^\star}, \qquad
# \sigma^\star = \mathrm{smECE}_{\sigma^\star},$$
#
# where $\tilde K_\sigma$ is the Gaussian kernel of width $\sigma$ reflected at 0 and 1 (so
# that every prediction keeps unit mass inside $[0, 1]$), and $\sigma^\star \ge 10^{-3}$ is the
# fixed point {cite}`blasiok2024smooth`. **Intuition:** smooth the residuals with a Gaussian and
# measure the area of what is left, with a width equal to that area, so that no parameter is
# left to choose. The figure draws the smoothed residual inside the integral,
# $g(t) = \frac1N \sum_i \tilde K_{\sigma^\star}(t, c_i)\,(c_i - a_i)$.

# %% mystnb={"figure": {"caption": "Smooth ECE: the residuals c − a smoothed by the reflected Gaussian kernel of width σ* (the fixed point), for the calibrated model (left) and the model with γ = `overconfidence` (right). The shaded area is the smooth ECE.", "name": "fig-primer-smece"}, "image": {"alt": "Two panels of a smoothed residual against confidence with the area under it shaded. Left: a small area of both signs. Right: a large red area, all positive, growing towards confidence 1."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
for ax, (name, p) in zip(axes, ex.models.items(), strict=True):
    curve = estimator_figures.smooth_residual(p, labels)
    text = (
        f"smECE = {report.pct(metrics.smooth_ece(p, labels), 2)}, σ* = {curve.attrs['sigma']:.3f}"
    )
    estimator_figures.plot_residual_curve(curve, ax, label="g(t)", value=text)
    ax.set_title(name)
fig.tight_layout()

# %% [markdown]
# ### Debiased L2 ECE
#
# $$\widehat{\mathrm{CE}}_2^2 = \sum_{b:\,|B_b| \ge 2} \frac{|B_b|}{N}
# \left[ \bigl(\mathrm{conf}(B_b) - \mathrm{acc}(B_b)\bigr)^2
# - \frac{\mathrm{acc}(B_b)\,\bigl(1 - \mathrm{acc}(B_b)\bigr)}{|B_b| - 1} \right],$$
#
# $$\mathrm{dL2ECE} = \sqrt{\max\bigl(0, \widehat{\mathrm{CE}}_2^2\bigr)},$$
#
# with 15 equal-mass bins {cite}`kumar2019verified`. **Intuition:** a bin's squared gap is
# inflated by the noise of its accuracy, a mean of $|B_b|$ coin flips; subtracting an unbiased
# estimate of that noise leaves an estimate of the true squared gap. Without the subtracted
# term it is the *plug-in* L2 ECE.
#
# The figure draws many test sets of each size from the calibrated model, whose true
# calibration error is 0, so every value above 0 is an estimator's bias.

# %% mystnb={"figure": {"caption": "Finite-sample bias: the mean (line) and the central `level` range (band) of three estimators over `n_sim` simulated test sets of each size drawn from the perfectly calibrated model, whose true calibration error is 0. Equal-mass bins, 15 of them.", "name": "fig-primer-dl2ece"}, "image": {"alt": "Line chart of estimate against test-set size on a log axis: the plug-in L2 ECE and the equal-mass ECE start high and fall slowly towards zero; the debiased L2 ECE stays close to zero at every size."}}

bias = teaching.bias_study(ex, n_sim=n_sim, level=level)
fig, ax = plt.subplots(figsize=(6, 4.6))
estimator_figures.plot_bias_by_size(bias, ax, percent=True)
fig.tight_layout()

# %% [markdown]
# ### NLL and the Brier score
#
# $$\mathrm{NLL} = -\frac{1}{N} \sum_{i=1}^{N} \log \max(p_{i y_i}, \tau),$$
#
# $$\mathrm{Brier} = \frac{1}{N} \sum_{i=1}^{N} \sum_{k=1}^{K}
# \bigl(p_{ik} - \mathbb{1}[y_i = k]\bigr)^2 \in [0, 2],$$
#
# where $\tau \approx 2.2 \times 10^{-308}$, the smallest positive normal double, keeps a
# zero probability finite, and the Brier score is summed over classes, not divided by $K$
# {cite}`guo2017calibration,brier1950verification`. **Intuition:** both are *proper scores*:
# their expectation is lowest when the probabilities are the true ones, so they reward
# calibration and accuracy together. NLL is the surprise at the true label and punishes a
# confident mistake without bound; the Brier score is the squared distance to the one-hot
# label and costs a confident mistake at most 2.
#
# The figure divides the model's logits by a temperature $T$: each score is lowest near
# $T = \gamma$, where the model's probabilities are the true ones.

# %% mystnb={"figure": {"caption": "NLL, Brier score and ECE of the model with γ = `overconfidence` after dividing its logits by a temperature T, over all predictions. The red dot is each curve's minimum, the dashed line the true γ.", "name": "fig-primer-proper"}, "image": {"alt": "Three line charts against temperature. NLL, Brier score and ECE each fall to a minimum close to the dashed line at the true gamma and rise beyond it."}}
temperatures, sweep_names = teaching.temperature_grid(ex)
sweep = estimator_figures.temperature_sweep(
    ex.logits, labels, {label: catalogue.CATALOGUE[name] for name, label in sweep_names.items()},
    temperatures=temperatures,
)  # fmt: skip
fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
for ax, label in zip(axes, sweep_names.values(), strict=True):
    estimator_figures.plot_temperature_sweep(sweep, label, ax, truth=overconfidence, percent="ECE" in label)
fig.tight_layout()

# %%
report.md(teaching.sweep_finding(sweep, ex))

# %% [markdown]
# ## Every estimator on the same predictions
#
# The study's catalogue defines each column once; here are the paper's estimators and two of
# ours, for the calibrated model and the model we study. The last column is the difference.
# Calibration errors are in percent; NLL and the Brier score are in their own units.

# %%
teaching.estimator_table(ex)

# %%
report.md("Where each estimator was defined (the catalogue's references):",
          teaching.estimator_references(n_bins))  # fmt: skip

# %% [markdown]
# Every estimator is larger for the miscalibrated model (the `difference` column is positive);
# on the calibrated model the binned estimators are not zero but small, the finite-sample bias
# that the chapter on bin counts studies. Is the gap more than the noise of a finite test set?
# Here the truth is known, so that noise can be simulated exactly:
# `differences.simulated_difference` redraws the labels from the true probabilities `n_sim`
# times, keeps both models' predictions fixed, and recomputes both ECEs on each simulated test
# set; the interval is the central range of the difference over those test sets. (Resampling
# the examples with replacement would duplicate examples, which inflates a binned ECE.)


# %%
report.md(teaching.ece_difference_finding(ex, n_sim=n_sim, level=level))

# %% [markdown]
# ## The number of bins matters
#
# With more bins each bin holds fewer predictions and the estimate grows noisier and, for a
# calibrated model, more biased upwards. The MCE, a maximum over bins, grows fastest: it is drawn
# on its own axis so that it does not flatten the other curves.

# %% mystnb={"figure": {"caption": "The binned estimators of the perfectly calibrated model against the number of bins (log axis): the four ECE variants (left) and the MCE (right, on its own scale). A calibrated model's true value is 0 for all of them; what grows is the estimators' bias.", "name": "fig-primer-bins"}, "image": {"alt": "Two line charts against the number of bins from 5 to 500. Left: ECE, equal-mass ECE and the two classwise ECEs rise from under one percent towards several percent. Right: the MCE rises much faster, to tens of percent."}}
errors = metrics.binned_errors(true_probs, labels)
fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))
estimator_figures.plot_binned_errors(
    errors, axes[0], families=["ECE", "ECE_em", "cwCE", "cwCE_em"], percent=True
)
estimator_figures.plot_binned_errors(errors, axes[1], families=["MCE"], percent=True)
axes[0].set_title("ECE and its variants")
axes[1].set_title("MCE")
fig.tight_layout()

# %%
report.md(teaching.bin_count_finding(ex, errors, n_sim=n_sim, level=level))

# %% [markdown]
# ## Temperature scaling
#
# Temperature scaling divides the logits by one scalar $T$ fitted by minimising the negative
# log-likelihood on held-out data {cite}`guo2017calibration`. As in the paper, $T$ is fitted on
# 20 % of the test predictions and the metrics are reported on the other 80 %.

# %%
report.md(teaching.temperature_finding(ex, n_sim=n_sim, level=level))

# %% mystnb={"figure": {"caption": "Reliability diagrams of the evaluation predictions (80 %) before temperature scaling (left) and after dividing the logits by the temperature fitted on the other 20 % (right).", "name": "fig-primer-ts"}, "image": {"alt": "Two reliability diagrams. Left: bars well below the diagonal. Right, after temperature scaling: bars close to the diagonal with small gaps."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharey=True)
panels = {"before temperature scaling": probs[ex.eval_idx],
          f"after (T = {ex.temperature:.2f})": ex.scaled}  # fmt: skip
for ax, (title, p) in zip(axes, panels.items(), strict=True):
    plots.plot_reliability(plots.reliability_data(p, labels[ex.eval_idx], n_bins=n_bins), ax=ax,
                           title=title)  # fmt: skip
fig.tight_layout()

# %% [markdown]
# ## Exercises
#
# Each answer is computed from this run and folded: try first, then open it. Rerun the chapter
# with other parameters (`calstudy book run primer -p n_samples 2000 -p seed 1`) and the
# answers change with it.
#
# ### Exercise 1: the ECE of a perfect model
#
# The calibrated model is perfectly calibrated by construction, yet its ECE is not 0. Where does
# the non-zero value come from, and how large should it be for $N$ predictions and $n$ bins?
# *Hint:* in a calibrated model, a bin's accuracy is the mean of $|B_b|$ independent coin flips
# whose average success probability is the bin's mean confidence.

# %% mystnb={"markdown_format": "myst"}
ex1 = teaching.exercise_perfect_model(ex, n_sim=n_sim, level=level)
report.md(ex1.markdown())

# %%
assert ex1.values["null_mean"] <= ex1.values["bound_bins"] <= ex1.values["bound"] + 1e-12, ex1

# %% [markdown]
# ### Exercise 2: overconfident or underconfident?
#
# Multiply the true logits by $\gamma = 0.5$ instead of 2 (move the slider of
# {numref}`fig-primer-interactive`, or rerun with `-p overconfidence 0.5`). Do the bars end above
# or below the diagonal? What happens to the accuracy and to the mean confidence, and why does
# the accuracy not change?

# %% mystnb={"markdown_format": "myst"}
ex2 = teaching.exercise_direction(ex)
report.md(ex2.markdown())

# %%
assert ex2.values[0.5]["acc"] == ex2.values[2.0]["acc"] == metrics.accuracy(true_probs, labels)
assert ex2.values[0.5]["conf"] < ex2.values[0.5]["acc"] < ex2.values[2.0]["conf"], ex2.values

# %% [markdown]
# ### Exercise 3: what sets the MCE?
#
# Which bin sets the MCE of the calibrated model ({numref}`fig-primer-mce`, left), and how many
# predictions does it hold compared with a typical bin? Can the MCE ever be smaller than the
# ECE with the same bins? Why is the MCE of a calibrated model a poor summary?

# %% mystnb={"markdown_format": "myst"}
ex3 = teaching.exercise_mce(ex, errors)
report.md(ex3.markdown())

# %%
assert abs(ex3.values["worst_gap"] - ex3.values["mce"]) < 1e-12
assert all(errors["MCE"][n] >= errors["ECE"][n] for n in errors["MCE"])  # a maximum ≥ a mean

# %% [markdown]
# ### Exercise 4: two estimators, one number
#
# On the model with $\gamma$ = `overconfidence`, compare KSCE and the smooth ECE in the table of
# estimators with the difference between mean confidence and accuracy. Why are they so close?
# Would they stay close for a model that is overconfident at high confidence and underconfident
# at low confidence?

# %% mystnb={"markdown_format": "myst"}
ex4 = teaching.exercise_two_estimators(ex)
report.md(ex4.markdown())

# %%
for ks, smooth, mean_gap in ex4.values.values():
    assert ks >= mean_gap - 1e-12  # max |running sum| ≥ |total|
    assert smooth >= mean_gap - 1e-6  # ∫|g| ≥ |∫g| = |mean residual|

# %% [markdown]
# ### Exercise 5: is a low ECE enough?
#
# A model that ignores its input and predicts $1/K$ for every class is calibrated in the sense
# of the ECE. Compute its ECE, NLL and Brier score and compare them with the calibrated model's.
# What does a proper score see that the ECE does not?

# %% mystnb={"markdown_format": "myst"}
ex5 = teaching.exercise_uniform_model(ex)
report.md(ex5.markdown())

# %%
assert abs(ex5.values["uniform"]["NLL"] - np.log(n_classes)) < 1e-12
assert abs(ex5.values["uniform"]["Brier"] - (1 - 1 / n_classes)) < 1e-12
assert all(ex5.values["calibrated"][s] < ex5.values["uniform"][s] for s in ("NLL", "Brier"))

# %% [markdown]
# ### Exercise 6: does debiasing work?
#
# In {numref}`fig-primer-dl2ece`, which estimator stays closest to 0 on the calibrated model at
# the smallest test set? Why can the debiased L2 ECE never exceed the plug-in L2 ECE computed
# from the same bins, and why is it sometimes exactly 0?

# %% mystnb={"markdown_format": "myst"}
ex6 = teaching.exercise_debiasing(ex, bias)
report.md(ex6.markdown())

# %%
assert (ex6.values["means"][plots.estimator_label("dL2ECE_15")]
        <= ex6.values["means"]["plug-in L2 ECE"] + 1e-12).all(), ex6.values  # fmt: skip

# %% [markdown]
# ## Summary
#
# - A reliability diagram shows calibration bin by bin: bars below the diagonal are
#   overconfident, bars above underconfident, and the grey histogram says how much each bar
#   weighs and how far to trust it.
# - The binned estimators (ECE, equal-mass ECE, classwise ECE, MCE) summarise the diagram and
#   depend on the number of bins; the bin-free ones (KSCE's cumulative sums, KDECE's and smooth
#   ECE's kernels, MMCE's kernel embedding) trade the bins for a bandwidth; the debiased L2 ECE
#   removes most of the finite-sample bias; NLL and the Brier score are proper scores that
#   reward sharpness as well as calibration.
# - Every estimator is biased upwards on a finite test set: a calibrated model does not score 0,
#   so compare models on the same test-set size and bins, with an interval.
# - Temperature scaling recovers the temperature that generated the miscalibration (compare its
#   bootstrap interval with γ) and removes most of the error, without changing the accuracy.
# - Every difference above carries an interval for the test set's sampling noise; the book's
#   later chapters give every τ and every difference an interval or a p-value as well.
