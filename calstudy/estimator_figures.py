"""The primer's figures: one picture per estimator, and an interactive reliability diagram.

Each estimator of the catalogue gets a compute/draw pair on the primer's worked example
(:func:`bin_gaps` → :func:`plot_bin_gaps` for ECE and MCE, :func:`ks_curve` → :func:`plot_ks_curve`,
:func:`kernel_reliability`, :func:`smooth_residual` and :func:`mmce_witness` for the smooth
estimators, :func:`bias_by_size` for finite-sample bias, :func:`temperature_sweep` for the proper
scores), and :func:`reliability_widget_html` writes a reliability diagram with ``n_bins`` and
overconfidence sliders in plain JavaScript and SVG that works in the static book, offline. The
study's own figures are in :mod:`calstudy.plots`, whose reliability binning these reuse.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from calstudy._checks import check_columns, check_int_at_least
from calstudy.plots import (
    ReliabilityData,
    axes_or_new,
    family_label,
    legend_below,
    reliability_data,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "bias_by_size",
    "bin_gaps",
    "classwise_reliability",
    "kernel_reliability",
    "ks_curve",
    "mmce_witness",
    "plot_bias_by_size",
    "plot_bin_gaps",
    "plot_binned_errors",
    "plot_classwise_reliability",
    "plot_kernel_reliability",
    "plot_ks_curve",
    "plot_residual_curve",
    "plot_temperature_sweep",
    "reliability_grid",
    "reliability_widget_html",
    "smooth_residual",
    "temperature_sweep",
]


# -- ECE and MCE: the gap of each bin ------------------------------------------------------------


def bin_gaps(data: ReliabilityData) -> pd.DataFrame:
    r"""The gap of every non-empty bin of a reliability diagram and its share of the ECE.

    For bin :math:`B_b` of :math:`N` samples, ``gap`` is
    :math:`\mathrm{conf}(B_b) - \mathrm{acc}(B_b)` (positive: overconfident), ``weight``
    :math:`|B_b| / N` and ``contribution`` :math:`\frac{|B_b|}{N}|\mathrm{acc}(B_b) -
    \mathrm{conf}(B_b)|`, so that ``contribution.sum()`` is the ECE of ``data`` and, for
    equal-width bins, ``gap.abs().max()`` its MCE (:func:`calstudy.metrics.mce`).

    Parameters
    ----------
    data : ReliabilityData
        Output of :func:`~calstudy.plots.reliability_data`.

    Returns
    -------
    DataFrame
        One row per non-empty bin: ``lower, upper, count, weight, conf, acc, gap,
        contribution``.

    Examples
    --------
    >>> d = reliability_data([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]], [0, 0, 0], n_bins=2)
    >>> t = bin_gaps(d)
    >>> t[["count", "gap"]].round(4).values.tolist(), round(float(t["contribution"].sum()), 4)
    ([[3.0, 0.0667]], 0.0667)
    """
    if not isinstance(data, ReliabilityData):
        raise ValueError(f"Expected `data` to be a ReliabilityData, got {type(data).__name__}.")
    filled = data.counts > 0
    weight = data.counts[filled] / data.counts.sum()
    gap = data.conf[filled] - data.acc[filled]
    return pd.DataFrame(
        {
            "lower": data.edges[:-1][filled],
            "upper": data.edges[1:][filled],
            "count": data.counts[filled],
            "weight": weight,
            "conf": data.conf[filled],
            "acc": data.acc[filled],
            "gap": gap,
            "contribution": weight * np.abs(gap),
        }
    )


def plot_bin_gaps(
    table: pd.DataFrame,
    ax: Axes | None = None,
    *,
    quantity: Literal["gap", "contribution"] = "gap",
) -> Axes:
    """Bars of each bin's calibration gap (``"gap"``) or weighted gap (``"contribution"``).

    Red bars are overconfident bins (confidence above accuracy), blue ones underconfident.
    With ``"gap"`` the largest bar, the MCE, is outlined and labelled with its sample count;
    with ``"contribution"`` the bars add up to the ECE, written in the corner.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`bin_gaps`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    quantity : {"gap", "contribution"}, default="gap"
        :math:`|\\mathrm{acc} - \\mathrm{conf}|` per bin, or that times the bin's share.

    Returns
    -------
    matplotlib Axes
    """
    if quantity not in ("gap", "contribution"):
        raise ValueError(f"Expected `quantity` to be 'gap' or 'contribution', got {quantity!r}.")
    check_columns(table, ["lower", "upper", "count", "gap", "contribution"])
    if table.empty:
        raise ValueError("Expected `table` to hold at least one bin, got none.")
    ax = axes_or_new(ax)
    height = table["gap"].abs() if quantity == "gap" else table["contribution"]
    over = (table["gap"] > 0).to_numpy()
    for keep, colour, label in ((over, "C3", "overconfident bin (confidence > accuracy)"),
                                (~over, "C0", "underconfident bin (accuracy > confidence)")):  # fmt: skip
        if keep.any():
            ax.bar(table["lower"][keep], height[keep], width=(table["upper"] - table["lower"])[keep],
                   align="edge", color=colour, alpha=0.7, edgecolor="white", label=label)  # fmt: skip
    if quantity == "gap":
        worst = int(np.argmax(height.to_numpy()))
        row = table.iloc[worst]
        ax.bar(row["lower"], height.iloc[worst], width=row["upper"] - row["lower"], align="edge",
               fill=False, edgecolor="black", linewidth=1.5)  # fmt: skip
        centre = 0.5 * (row["lower"] + row["upper"])
        ha = "left" if centre < 0.25 else "right" if centre > 0.75 else "center"
        ax.annotate(f"MCE = {100 * height.iloc[worst]:.2f} %\n({int(row['count']):,} samples)",
                    (centre, height.iloc[worst]), xytext=(0, 4), textcoords="offset points",
                    ha=ha, va="bottom", fontsize="small")  # fmt: skip
        ax.set_ylabel("|accuracy − confidence| of the bin")
        ax.set_ylim(0, 1.3 * max(float(height.max()), 1e-6))
    else:
        ax.text(0.04, 0.92, f"ECE = sum of the bars = {100 * table['contribution'].sum():.2f} %",
                transform=ax.transAxes)  # fmt: skip
        ax.set_ylabel("bin share × |accuracy − confidence|")
        ax.set_ylim(0, 1.25 * max(float(height.max()), 1e-6))
    ax.set(xlim=(0, 1), xlabel="Confidence")
    legend_below(ax, ncol=1)
    return ax


# -- Classwise ECE -------------------------------------------------------------------------------


def classwise_reliability(
    probs: object,
    labels: object,
    *,
    n_bins: int = 15,
    strategy: Literal["width", "mass"] = "width",
) -> pd.DataFrame:
    r"""Reliability diagram of every class probability: the data of classwise ECE.

    For class :math:`k`, all :math:`N` samples are binned by :math:`p_{ik}` (equal width or
    equal mass, :func:`calstudy.metrics.bin_stats`); each bin :math:`B_{kb}` compares its mean
    probability with the share of its samples whose label is :math:`k`. ``contribution`` is
    :math:`\frac{|B_{kb}|}{N}\,|\mathrm{freq}(B_{kb}) - \mathrm{conf}(B_{kb})|`, so that
    ``contribution.sum() / K`` is :func:`calstudy.metrics.cw_ece` (``"width"``) or
    :func:`calstudy.metrics.cw_ece_em` (``"mass"``).

    Parameters
    ----------
    probs : array-like of shape (N, K)
        Predicted class probabilities.
    labels : array-like of int, shape (N,)
        True classes.
    n_bins : int, default=15
        Bins per class.
    strategy : {"width", "mass"}, default="width"
        Equal-width or equal-mass bins.

    Returns
    -------
    DataFrame
        One row per non-empty (class, bin): ``class, bin, count, conf, freq, contribution``;
        ``attrs["n_classes"]`` is :math:`K`.

    Examples
    --------
    >>> t = classwise_reliability([[0.8, 0.2]], [0], n_bins=5)
    >>> t[["class", "conf", "freq"]].values.tolist(), round(float(t["contribution"].sum()) / 2, 6)
    ([[0.0, 0.8, 1.0], [1.0, 0.2, 0.0]], 0.2)
    """
    from calstudy._checks import check_probs_labels
    from calstudy.metrics import bin_stats

    if strategy not in ("width", "mass"):
        raise ValueError(f"Expected `strategy` to be 'width' or 'mass', got {strategy!r}.")
    p, y = check_probs_labels(probs, labels)
    n, k = p.shape
    frames = []
    for cls in range(k):
        stats = bin_stats(p[:, cls], (y == cls).astype(float), n_bins=n_bins, strategy=strategy)
        filled = stats.count > 0
        frames.append(
            pd.DataFrame(
                {
                    "class": cls,
                    "bin": np.flatnonzero(filled),
                    "count": stats.count[filled],
                    "conf": stats.conf[filled],
                    "freq": stats.acc[filled],
                    "contribution": stats.count[filled]
                    * np.abs(stats.acc[filled] - stats.conf[filled])
                    / n,
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    table.attrs["n_classes"] = k
    return table


def plot_classwise_reliability(
    table: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None
) -> Axes:
    """One reliability curve per class (share of the class against its mean probability).

    Each point is a bin of one class's probabilities, its area proportional to the bin's
    samples; the dashed diagonal is perfect calibration, and the classwise ECE (the mean over
    classes of each curve's weighted gap) is written in the corner.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`classwise_reliability`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib Axes
    """
    check_columns(table, ["class", "count", "conf", "freq", "contribution"])
    n_classes = int(table.attrs.get("n_classes", table["class"].nunique()))
    ax = axes_or_new(ax)
    size = 60 * table["count"] / table["count"].max()
    for cls, rows in table.groupby("class"):
        colour = f"C{int(cls) % 10}"
        ax.plot(rows["conf"], rows["freq"], color=colour, linewidth=0.8, alpha=0.7)
        ax.scatter(rows["conf"], rows["freq"], s=size[rows.index], color=colour, alpha=0.6)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="Perfect calibration")
    ax.text(0.04, 0.92, f"classwise ECE = {100 * table['contribution'].sum() / n_classes:.2f} %",
            transform=ax.transAxes)  # fmt: skip
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="Mean probability of class k in the bin",
           ylabel="Share of the bin whose label is k")  # fmt: skip
    legend_below(
        ax, [ax.lines[-1]], [f"Perfect calibration ({n_classes} classes, one colour each)"]
    )
    if title is not None:
        ax.set_title(title)
    return ax


# -- KSCE: cumulative curves ---------------------------------------------------------------------


def ks_curve(probs: object, labels: object) -> pd.DataFrame:
    r"""Cumulative accuracy and confidence of the samples sorted by confidence (Gupta et al., 2021).

    With the samples sorted by confidence, ``cum_acc`` is :math:`\frac1N \sum_{i:\,c_i \le t}
    a_i` and ``cum_conf`` :math:`\frac1N \sum_{i:\,c_i \le t} c_i` at each distinct confidence
    :math:`t` (the end of each run of tied confidences), ``share`` the fraction of samples with
    :math:`c_i \le t`; ``gap = cum_acc - cum_conf`` and ``gap.abs().max()`` is
    :func:`calstudy.metrics.ksce`.

    Parameters
    ----------
    probs : array-like of shape (N, K)
        Predicted class probabilities.
    labels : array-like of int, shape (N,)
        True classes.

    Returns
    -------
    DataFrame
        ``conf, share, cum_acc, cum_conf, gap``, one row per distinct confidence.

    Examples
    --------
    Sorted by confidence: 0.6 right, 0.8 wrong; the largest gap, 0.2, is the KSCE.

    >>> t = ks_curve([[0.6, 0.4], [0.8, 0.2]], [0, 1])
    >>> t["share"].tolist(), t["gap"].round(6).tolist()
    ([0.5, 1.0], [0.2, -0.2])
    """
    from calstudy.metrics import to_confidences

    conf, correct = to_confidences(probs, labels)
    order = np.lexsort((correct, conf))
    conf, correct = conf[order], correct[order]
    n = conf.size
    run_end = np.append(conf[1:] != conf[:-1], True)
    cum_acc = np.cumsum(correct)[run_end] / n
    cum_conf = np.cumsum(conf)[run_end] / n
    return pd.DataFrame(
        {
            "conf": conf[run_end],
            "share": (np.flatnonzero(run_end) + 1) / n,
            "cum_acc": cum_acc,
            "cum_conf": cum_conf,
            "gap": cum_acc - cum_conf,
        }
    )


def plot_ks_curve(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """The cumulative curves of :func:`ks_curve` against the share of samples, with the KSCE.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`ks_curve`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    matplotlib Axes
    """
    check_columns(table, ["share", "cum_acc", "cum_conf", "gap"])
    ax = axes_or_new(ax)
    share = np.concatenate(([0.0], table["share"]))
    acc = np.concatenate(([0.0], table["cum_acc"]))
    conf = np.concatenate(([0.0], table["cum_conf"]))
    ax.plot(share, conf, color="C3", label="cumulative confidence  (1/N) Σ c")
    ax.plot(share, acc, color="C0", label="cumulative accuracy  (1/N) Σ a")
    worst = int(np.argmax(np.abs(table["gap"].to_numpy())))
    x, lo, hi = (
        table["share"].iloc[worst],
        table["cum_acc"].iloc[worst],
        table["cum_conf"].iloc[worst],
    )
    ax.annotate("", (x, lo), (x, hi), arrowprops={"arrowstyle": "<->", "color": "black"})
    ax.annotate(f"KSCE = {100 * abs(hi - lo):.2f} %", (x, 0.5 * (lo + hi)), xytext=(-8, 0),
                textcoords="offset points", ha="right", va="center")  # fmt: skip
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="Share of samples, sorted by confidence",
           ylabel="Cumulative sum / N")  # fmt: skip
    legend_below(ax, ncol=1)
    return ax


# -- KDECE: kernel estimate of the accuracy at each confidence -----------------------------------


def kernel_reliability(
    probs: object, labels: object, *, bandwidth: float | None = None, grid: int = 201
) -> pd.DataFrame:
    r"""Kernel estimate of the accuracy at each confidence, the curve behind KDECE.

    On ``grid`` points :math:`t` spanning the observed confidences,

    .. math:: \hat r(t) = \frac{\sum_j a_j\, k_h(t; c_j)}{\sum_j k_h(t; c_j)}, \qquad
        \hat f(t) = \frac1N \sum_j k_h(t; c_j), \qquad
        k_h(t; c) = \mathrm{Beta}\!\left(t;\, \frac{c}{h} + 1, \frac{1 - c}{h} + 1\right),

    the Nadaraya–Watson accuracy and the density of the confidences with the Beta kernel of
    :func:`calstudy.metrics.kdece`, whose estimate is the mean of :math:`|\hat r(c_i) - c_i|`
    over the samples (left out of their own sum).

    Parameters
    ----------
    probs : array-like of shape (N, K)
        Predicted class probabilities.
    labels : array-like of int, shape (N,)
        True classes.
    bandwidth : float, optional
        :math:`h > 0`; default the rule of :func:`calstudy.metrics.kdece` (leave-one-out
        maximum likelihood of the confidences' density).
    grid : int, default=201
        Points of the curve.

    Returns
    -------
    DataFrame
        ``t, accuracy, density``; ``attrs["bandwidth"]`` is :math:`h`.

    Examples
    --------
    >>> t = kernel_reliability([[0.9, 0.1], [0.7, 0.3]], [0, 0], bandwidth=0.1, grid=3)
    >>> t["accuracy"].tolist(), t.attrs["bandwidth"]
    ([1.0, 1.0, 1.0], 0.1)
    """
    from scipy import special

    from calstudy._checks import check_positive
    from calstudy.metrics import KDE_EPS, kde_bandwidth, to_confidences

    grid = check_int_at_least(grid, "grid", 2)
    conf, correct = to_confidences(probs, labels)
    z = np.clip(conf, KDE_EPS, 1.0 - KDE_EPS)
    h = kde_bandwidth(z) if bandwidth is None else check_positive(bandwidth, "bandwidth")
    a, b = z / h, (1.0 - z) / h
    log_norm = special.betaln(a + 1.0, b + 1.0)
    t = np.linspace(z.min(), z.max(), grid) if z.max() > z.min() else np.full(grid, z[0])
    t = np.clip(t, KDE_EPS, 1.0 - KDE_EPS)
    accuracy, density = np.empty(grid), np.empty(grid)
    block = max(1, 2_000_000 // z.size)
    for s in range(0, grid, block):
        tt = t[s : s + block, None]
        log_k = a * np.log(tt) + b * np.log1p(-tt) - log_norm
        top = log_k.max(axis=1, keepdims=True)
        k = np.exp(log_k - top)
        total = k.sum(axis=1)
        accuracy[s : s + block] = (k @ correct) / total
        density[s : s + block] = np.exp(np.log(total) + top[:, 0]) / z.size
    table = pd.DataFrame({"t": t, "accuracy": accuracy, "density": density})
    table.attrs["bandwidth"] = float(h)
    return table


def plot_kernel_reliability(
    table: pd.DataFrame, ax: Axes | None = None, *, value: float | None = None
) -> Axes:
    """The kernel accuracy curve of :func:`kernel_reliability`, the diagonal, and the density of
    the confidences in grey in the lower quarter.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`kernel_reliability`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    value : float, optional
        The KDECE, written in the corner.

    Returns
    -------
    matplotlib Axes
    """
    check_columns(table, ["t", "accuracy", "density"])
    ax = axes_or_new(ax)
    t, acc = table["t"].to_numpy(float), table["accuracy"].to_numpy(float)
    density = table["density"].to_numpy(float)
    scale = 0.25 / max(float(np.nanmax(density)), 1e-12)
    ax.fill_between(t, 0, density * scale, color="grey", alpha=0.3,
                    label="density of confidences")  # fmt: skip
    ax.fill_between(t, acc, t, color="C3", alpha=0.2, label="|r̂(t) − t|")
    ax.plot(t, acc, color="C0", label="kernel accuracy r̂(t)")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="Perfect calibration")
    h = table.attrs.get("bandwidth")
    text = [f"KDECE = {100 * value:.2f} %" if value is not None else "",
            f"h = {h:.2g}" if h is not None else ""]  # fmt: skip
    ax.text(0.04, 0.92, ", ".join(t for t in text if t), transform=ax.transAxes)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="Confidence t", ylabel="Accuracy")
    legend_below(ax)
    return ax


# -- smECE and MMCE: residuals smoothed by a kernel ----------------------------------------------


def _grid_points(grid: object, name: str = "grid") -> np.ndarray:
    if isinstance(grid, (int, np.integer)) and not isinstance(grid, bool):
        return np.linspace(0.0, 1.0, check_int_at_least(grid, name, 2))
    points = np.asarray(grid, dtype=float)
    if points.ndim != 1 or points.size == 0 or not np.all(np.isfinite(points)):
        raise ValueError(
            f"Expected `{name}` to be an integer ≥ 2 or a 1-D array of finite points, got {grid!r}."
        )
    return points


def smooth_residual(
    probs: object, labels: object, *, sigma: float | None = None, grid: int = 1001
) -> pd.DataFrame:
    r"""The kernel-smoothed residual whose area is the smooth ECE (Błasiok & Nakkiran, 2024).

    .. math:: g_\sigma(t) = \frac1N \sum_{i=1}^N \tilde K_\sigma(t, c_i)\,(c_i - a_i), \qquad
        \mathrm{smECE}_\sigma = \int_0^1 |g_\sigma(t)|\,dt,

    with :math:`\tilde K_\sigma` the Gaussian density of standard deviation :math:`\sigma`
    reflected at 0 and 1 (its images at :math:`\pm c + 2m`), as in
    :func:`calstudy.metrics.smooth_ece`. Positive :math:`g` means confidence above accuracy
    near :math:`t`.

    Parameters
    ----------
    probs : array-like of shape (N, K)
        Predicted class probabilities.
    labels : array-like of int, shape (N,)
        True classes.
    sigma : float, optional
        Kernel width; default the smooth ECE's own fixed point :math:`\sigma^\star =
        \mathrm{smECE}_{\sigma^\star}` (at least :math:`10^{-3}`).
    grid : int, default=1001
        Points in :math:`[0, 1]`.

    Returns
    -------
    DataFrame
        ``t, residual``; ``attrs["sigma"]`` is :math:`\sigma`.

    Examples
    --------
    Every sample at 0.8 and correct: :math:`g = -0.2\,\tilde K_\sigma(\cdot, 0.8)`, whose
    area is 0.2 whatever the smoothing.

    >>> t = smooth_residual([[0.8, 0.2]] * 3, [0, 0, 0], sigma=0.1)
    >>> round(float(t["residual"].abs().mean()), 3)  # the mean over [0, 1]: the area
    0.2
    """
    from calstudy._checks import check_positive
    from calstudy.metrics import smooth_ece, to_confidences

    t = _grid_points(grid)
    conf, correct = to_confidences(probs, labels)
    if sigma is None:
        sigma = max(smooth_ece(probs, labels), 1e-3)
    sigma = check_positive(sigma, "sigma")
    resid = conf - correct
    reach = 8.0 * sigma
    images = [(sign, m) for m in range(-int(np.ceil(reach / 2)) - 1, int(np.ceil(reach / 2)) + 2)
              for sign in (1.0, -1.0)]  # fmt: skip
    out = np.zeros_like(t)
    block = max(1, 2_000_000 // max(t.size, 1))
    for s in range(0, conf.size, block):
        c, r = conf[s : s + block], resid[s : s + block]
        for sign, m in images:
            centre = sign * c + 2.0 * m
            near = (centre > -reach) & (centre < 1.0 + reach)
            if near.any():
                d = (t[:, None] - centre[None, near]) / sigma
                out += np.exp(-0.5 * d**2) @ r[near]
    out /= conf.size * sigma * np.sqrt(2.0 * np.pi)
    table = pd.DataFrame({"t": t, "residual": out})
    table.attrs["sigma"] = float(sigma)
    return table


def mmce_witness(
    probs: object, labels: object, *, bandwidth: float = 0.4, grid: int | object = 201
) -> pd.DataFrame:
    r"""The residuals smoothed by MMCE's Laplacian kernel (Kumar et al., 2018).

    .. math:: f(t) = \frac1N \sum_{j=1}^N (c_j - a_j)\, k(t, c_j), \qquad
        k(t, c) = e^{-|t - c| / w}, \qquad
        \mathrm{MMCE}^2 = \frac1N \sum_{i=1}^N (c_i - a_i)\, f(c_i),

    so :func:`calstudy.metrics.mmce` is :math:`\sqrt{\max(0, \cdot)}` of the mean of the
    residuals times :math:`f` at their own confidences. Positive :math:`f` means confidence
    above accuracy near :math:`t`.

    Parameters
    ----------
    probs : array-like of shape (N, K)
        Predicted class probabilities.
    labels : array-like of int, shape (N,)
        True classes.
    bandwidth : float, default=0.4
        Kernel width :math:`w` (the default of :func:`calstudy.metrics.mmce`).
    grid : int or array-like, default=201
        Number of points in :math:`[0, 1]`, or the points themselves.

    Returns
    -------
    DataFrame
        ``t, residual``; ``attrs["bandwidth"]`` is :math:`w`.

    Examples
    --------
    One wrong sample at 0.7: :math:`f(0.7) = 0.7` and :math:`\mathrm{MMCE} = 0.7`.

    >>> mmce_witness([[0.3, 0.7]], [0], grid=[0.7])["residual"].round(6).tolist()
    [0.7]
    """
    from calstudy._checks import check_positive
    from calstudy.metrics import to_confidences

    w = check_positive(bandwidth, "bandwidth")
    t = _grid_points(grid)
    conf, correct = to_confidences(probs, labels)
    resid = conf - correct
    out = np.zeros_like(t)
    block = max(1, 2_000_000 // max(t.size, 1))
    for s in range(0, conf.size, block):
        c, r = conf[s : s + block], resid[s : s + block]
        out += np.exp(-np.abs(t[:, None] - c[None, :]) / w) @ r
    table = pd.DataFrame({"t": t, "residual": out / conf.size})
    table.attrs["bandwidth"] = w
    return table


def plot_residual_curve(
    table: pd.DataFrame,
    ax: Axes | None = None,
    *,
    label: str = "smoothed residual",
    value: str | None = None,
) -> Axes:
    """A smoothed residual curve (:func:`smooth_residual`, :func:`mmce_witness`), shaded red
    where confidence exceeds accuracy and blue where it falls short.

    Parameters
    ----------
    table : DataFrame
        ``t, residual``.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    label : str, default="smoothed residual"
        Legend entry and y label of the curve.
    value : str, optional
        Text written in the corner (e.g. ``"smECE = 0.20"``).

    Returns
    -------
    matplotlib Axes
    """
    check_columns(table, ["t", "residual"])
    ax = axes_or_new(ax)
    t, g = table["t"].to_numpy(float), table["residual"].to_numpy(float)
    (curve,) = ax.plot(t, g, color="black", linewidth=1, label=label)
    handles = [curve]
    for where, colour, label_ in ((g >= 0, "C3", "overconfident (c > a)"),
                                  (g < 0, "C0", "underconfident (c < a)")):  # fmt: skip
        if where.any():
            handles.append(ax.fill_between(t, 0, g, where=where, color=colour, alpha=0.3,
                                           interpolate=True, label=label_))  # fmt: skip
    ax.axhline(0, color="grey", linewidth=0.8)
    if value is not None:
        ax.text(0.04, 0.92, value, transform=ax.transAxes)
    ax.set(xlim=(float(t.min()), float(t.max())), xlabel="Confidence t", ylabel=label)
    legend_below(ax, handles, [h.get_label() for h in handles], ncol=len(handles))
    return ax


# -- Finite-sample bias, temperature, bin count ----------------------------------------------------


def _draw_labels(rng: np.random.Generator, true_probs: np.ndarray) -> np.ndarray:
    """One label per row, drawn from its categorical distribution (inverse CDF)."""
    cdf = np.cumsum(true_probs, axis=1)
    u = rng.random(true_probs.shape[0]) * cdf[:, -1]
    return np.minimum((cdf < u[:, None]).sum(axis=1), true_probs.shape[1] - 1)


def bias_by_size(
    probs: object,
    true_probs: object,
    estimators: Mapping[str, Callable[[np.ndarray, np.ndarray], float]],
    *,
    sizes: Sequence[int],
    n_sim: int = 100,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Each estimator on simulated test sets of several sizes: its finite-sample behaviour.

    For each size :math:`n` and each of ``n_sim`` simulations, :math:`n` rows are drawn without
    replacement, their labels drawn afresh from ``true_probs`` (the distribution that generates
    them), and every estimator evaluated on ``probs`` of those rows. With ``probs`` equal to
    ``true_probs`` the model is perfectly calibrated, so any mean above 0 is the estimator's
    bias.

    Parameters
    ----------
    probs : array-like of shape (N, K)
        The model's probabilities.
    true_probs : array-like of shape (N, K)
        The probabilities the labels are drawn from.
    estimators : mapping of str to callable
        ``name -> f(probs, labels) -> float``.
    sizes : sequence of int
        Test-set sizes, each in ``[2, N]``.
    n_sim : int, default=100
        Simulations per size.
    level : float, default=0.95
        Coverage of the central range ``low, high``.
    seed : int, default=0

    Returns
    -------
    DataFrame
        ``size, estimator, mean, low, high``.
    """
    from calstudy._checks import check_probs_labels

    p, _ = check_probs_labels(probs, np.zeros(len(np.asarray(probs)), dtype=int))
    q, _ = check_probs_labels(true_probs, np.zeros(len(np.asarray(true_probs)), dtype=int))
    if p.shape != q.shape:
        raise ValueError(f"Expected `true_probs` to have shape {p.shape}, got {q.shape}.")
    if not estimators or not all(callable(f) for f in estimators.values()):
        raise ValueError(f"Expected `estimators` to map names to callables, got {estimators!r}.")
    bad = [s for s in sizes if isinstance(s, bool) or not isinstance(s, (int, np.integer))
           or not 2 <= s <= p.shape[0]]  # fmt: skip
    if bad or not len(sizes):
        raise ValueError(
            f"Expected `sizes` to be integers in [2, {p.shape[0]}], got {list(sizes)}."
        )
    if isinstance(n_sim, bool) or not isinstance(n_sim, (int, np.integer)) or n_sim < 1:
        raise ValueError(f"Expected `n_sim` to be a positive integer, got {n_sim!r}.")
    if not 0 < level < 1:
        raise ValueError(f"Expected `level` to be in (0, 1), got {level!r}.")
    rng = np.random.default_rng(seed)
    rows = []
    for size in sizes:
        values = {name: np.empty(n_sim) for name in estimators}
        for s in range(n_sim):
            idx = rng.choice(p.shape[0], size=int(size), replace=False)
            y = _draw_labels(rng, q[idx])
            for name, f in estimators.items():
                values[name][s] = f(p[idx], y)
        for name, v in values.items():
            low, high = np.quantile(v, [(1 - level) / 2, (1 + level) / 2])
            rows.append({"size": int(size), "estimator": name, "mean": float(v.mean()),
                         "low": float(low), "high": float(high)})  # fmt: skip
    return pd.DataFrame(rows)


def plot_bias_by_size(
    table: pd.DataFrame, ax: Axes | None = None, *, logx: bool = True, percent: bool = False
) -> Axes:
    """Mean of each estimator against the test-set size, with its central range as a band.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`bias_by_size`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    logx : bool, default=True
        Logarithmic size axis.
    percent : bool, default=False
        Show the estimates in percent.

    Returns
    -------
    matplotlib Axes
    """
    check_columns(table, ["size", "estimator", "mean", "low", "high"])
    ax = axes_or_new(ax)
    k = 100.0 if percent else 1.0
    for name, rows in table.groupby("estimator", sort=False):
        rows = rows.sort_values("size")
        (line,) = ax.plot(rows["size"], k * rows["mean"], marker="o", label=str(name))
        ax.fill_between(
            rows["size"], k * rows["low"], k * rows["high"], color=line.get_color(), alpha=0.15
        )
    ax.axhline(0, color="black", linewidth=0.8)
    if logx:
        ax.set_xscale("log")
    unit = " (%)" if percent else ""
    ax.set(xlabel="Test-set size N", ylabel=f"Estimate on a perfectly calibrated model{unit}")
    ax.legend(fontsize="small")
    return ax


def temperature_sweep(
    logits: object,
    labels: object,
    estimators: Mapping[str, Callable[[np.ndarray, np.ndarray], float]],
    *,
    temperatures: Sequence[float],
) -> pd.DataFrame:
    r"""Each estimator of :math:`\mathrm{softmax}(z / T)` over a range of temperatures.

    Parameters
    ----------
    logits : array-like of shape (N, K)
        The model's logits :math:`z`.
    labels : array-like of int, shape (N,)
        True classes.
    estimators : mapping of str to callable
        ``name -> f(probs, labels) -> float``.
    temperatures : sequence of float
        Positive temperatures :math:`T`.

    Returns
    -------
    DataFrame
        ``temperature, estimator, value``.

    Examples
    --------
    >>> from calstudy import metrics
    >>> t = temperature_sweep([[2.0, 0.0]], [0], {"NLL": metrics.nll}, temperatures=[1.0, 2.0])
    >>> t["value"].round(4).tolist()
    [0.1269, 0.3133]
    """
    from calstudy._checks import as_float_2d
    from calstudy.metrics import to_probs

    z = as_float_2d(logits, "logits")
    temps = np.asarray(temperatures, dtype=float)
    if temps.ndim != 1 or temps.size == 0 or not np.all(np.isfinite(temps) & (temps > 0)):
        raise ValueError(
            f"Expected `temperatures` to be positive finite numbers, got {list(temperatures)}."
        )
    if not estimators or not all(callable(f) for f in estimators.values()):
        raise ValueError(f"Expected `estimators` to map names to callables, got {estimators!r}.")
    rows = []
    for temp in temps:
        p = to_probs(z / temp)
        rows += [{"temperature": float(temp), "estimator": name, "value": float(f(p, labels))}
                 for name, f in estimators.items()]  # fmt: skip
    return pd.DataFrame(rows)


def plot_temperature_sweep(
    table: pd.DataFrame,
    estimator: str,
    ax: Axes | None = None,
    *,
    truth: float | None = None,
    percent: bool = False,
) -> Axes:
    """One estimator of :func:`temperature_sweep` against the temperature, its minimum marked.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`temperature_sweep`.
    estimator : str
        Which estimator to draw.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    truth : float, optional
        The temperature that undoes the miscalibration, drawn as a dashed vertical line.
    percent : bool, default=False
        Show the estimator in percent.

    Returns
    -------
    matplotlib Axes
    """
    check_columns(table, ["temperature", "estimator", "value"])
    rows = table[table["estimator"] == estimator].sort_values("temperature")
    if rows.empty:
        raise ValueError(
            f"Expected `estimator` to be one of {sorted(table['estimator'].unique())}, got "
            f"{estimator!r}."
        )
    ax = axes_or_new(ax)
    k = 100.0 if percent else 1.0
    ax.plot(rows["temperature"], k * rows["value"], color="C0")
    best = rows.loc[rows["value"].idxmin()]
    ax.scatter([best["temperature"]], [k * best["value"]], color="C3", zorder=3,
               label=f"minimum at T = {best['temperature']:.2f}")  # fmt: skip
    if truth is not None:
        ax.axvline(truth, color="grey", linestyle="--", label=f"true γ = {truth:g}")
    ax.set(xlabel="Temperature T", ylabel=estimator + (" (%)" if percent else ""), title=estimator)
    ax.legend(fontsize="small")
    return ax


def plot_binned_errors(
    errors: Mapping[str, Mapping[int, float]],
    ax: Axes | None = None,
    *,
    families: Sequence[str] | None = None,
    percent: bool = False,
) -> Axes:
    """Binned estimators against the number of bins (output of
    :func:`calstudy.metrics.binned_errors`), named as in the catalogue, on a log axis.

    Parameters
    ----------
    errors : mapping
        ``{family: {n_bins: value}}``.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    families : sequence of str, optional
        Families to draw (default all), e.g. ``["MCE"]`` on an axis of its own: the MCE is
        several times the ECEs and would flatten them.
    percent : bool, default=False
        Show the estimates in percent.

    Returns
    -------
    matplotlib Axes
    """
    chosen = list(errors) if families is None else list(families)
    unknown = [f for f in chosen if f not in errors]
    if unknown or not chosen:
        raise ValueError(f"Expected `families` among {list(errors)}, got {chosen}.")
    ax = axes_or_new(ax)
    for family in chosen:
        bins = sorted(errors[family])
        values = [(100.0 if percent else 1.0) * errors[family][b] for b in bins]
        ax.plot(bins, values, marker="o", label=family_label(family))
    ax.set(xscale="log", xlabel="Number of bins", ylabel="Estimate" + (" (%)" if percent else ""))
    ax.legend(fontsize="small")
    return ax


# -- Interactive reliability diagram (static HTML, no kernel, no network) ----------------------


def reliability_grid(
    logits: object,
    labels: object,
    *,
    n_bins: Sequence[int],
    scales: Sequence[float],
) -> dict[tuple[float, int], ReliabilityData]:
    r"""Reliability diagrams of :math:`\mathrm{softmax}(\gamma z)` for every scale and bin count.

    Parameters
    ----------
    logits : array-like of shape (N, K)
        Logits :math:`z`.
    labels : array-like of int, shape (N,)
        True classes.
    n_bins : sequence of int
        Bin counts.
    scales : sequence of float
        Positive factors :math:`\gamma` (> 1: overconfident, < 1: underconfident).

    Returns
    -------
    dict
        ``{(gamma, n_bins): ReliabilityData}`` (equal-width bins).
    """
    from calstudy._checks import as_float_2d
    from calstudy.metrics import to_probs

    z = as_float_2d(logits, "logits")
    gammas = [float(g) for g in scales]
    if not gammas or not all(np.isfinite(g) and g > 0 for g in gammas):
        raise ValueError(f"Expected `scales` to be positive finite numbers, got {list(scales)}.")
    if not len(n_bins):
        raise ValueError("Expected `n_bins` to be a non-empty sequence, got an empty one.")
    grid = {}
    for gamma in gammas:
        p = to_probs(gamma * z)
        for n in n_bins:
            grid[(gamma, int(n))] = reliability_data(p, labels, n_bins=n)
    return grid


def _rounded(x: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 4) for v in x]


_WIDGET_JS = """
(function () {
  var root = document.getElementById("__ID__");
  var data = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  var svg = root.querySelector("svg"), NS = "http://www.w3.org/2000/svg";
  var W = 520, H = 400, L = 56, R = 16, T = 16, B = 44, w = W - L - R, h = H - T - B;
  var sb = root.querySelector("input[name=n_bins]"), sg = root.querySelector("input[name=gamma]");
  function x(v) { return L + v * w; }
  function y(v) { return T + (1 - v) * h; }
  function el(tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (text !== undefined) { e.textContent = text; }
    svg.appendChild(e);
    return e;
  }
  function draw() {
    var nb = data.n_bins[+sb.value], g = data.gammas[+sg.value];
    var f = data.frames[g + "|" + nb];
    root.querySelector("output[name=n_bins]").textContent = nb;
    root.querySelector("output[name=gamma]").textContent = g;
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    el("rect", {x: L, y: T, width: w, height: h, fill: "white", stroke: "#ccc"});
    var top = Math.max.apply(null, f.share.concat([1e-12])), n = f.share.length;
    var acc = f.accuracy, conf = f.confidence;
    for (var b = 0; b < n; b++) {
      var x0 = x(b / n), bw = w / n;
      if (f.acc[b] === null) { continue; }
      el("rect", {x: x0, y: y(f.acc[b]), width: bw, height: h * f.acc[b], fill: "#1f77b4",
                  stroke: "white", "class": "acc"});
      var lo = Math.min(f.acc[b], f.conf[b]), hi = Math.max(f.acc[b], f.conf[b]);
      el("rect", {x: x0, y: y(hi), width: bw, height: h * (hi - lo), fill: "#d62728",
                  "fill-opacity": 0.35, stroke: "#d62728", "class": "gap"});
    }
    for (b = 0; b < n; b++) {  // the histogram over the bars, as in plot_reliability
      el("rect", {x: x(b / n), y: y(f.share[b] / top / 4), width: w / n,
                  height: h * f.share[b] / top / 4, fill: "grey", "fill-opacity": 0.35,
                  "class": "share"});
    }
    el("line", {x1: x(0), y1: y(0), x2: x(1), y2: y(1), stroke: "grey", "stroke-dasharray": "5,4"});
    for (var i = 0; i <= 5; i++) {
      var v = i / 5;
      el("text", {x: x(v), y: H - B + 16, "text-anchor": "middle", "font-size": 11}, v.toFixed(1));
      el("text", {x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11}, v.toFixed(1));
    }
    el("text", {x: L + w / 2, y: H - 6, "text-anchor": "middle", "font-size": 12}, "Confidence");
    el("text", {x: 14, y: T + h / 2, "text-anchor": "middle", "font-size": 12,
                transform: "rotate(-90 14 " + (T + h / 2) + ")"}, "Accuracy");
    el("text", {x: L + 8, y: T + 20, "font-size": 13, "class": "ece"},
       "ECE = " + (100 * f.ece).toFixed(2) + " %");
    var legend = [["#1f77b4", 1, "Accuracy"], ["#d62728", 0.35, "Gap"],
                  ["grey", 0.35, "Share of samples per bin (grey, lower quarter)"]];
    for (var j = 0; j < legend.length; j++) {
      el("rect", {x: L + 8, y: T + 32 + 16 * j, width: 12, height: 10, fill: legend[j][0],
                  "fill-opacity": legend[j][1]});
      el("text", {x: L + 24, y: T + 41 + 16 * j, "font-size": 11}, legend[j][2]);
    }
    el("line", {x1: L + 8, y1: T + 85, x2: L + 20, y2: T + 85, stroke: "grey",
                "stroke-dasharray": "3,2"});
    el("text", {x: L + 24, y: T + 89, "font-size": 11}, "Perfect calibration");
    var verdict = conf > acc + 1e-9 ? "overconfident: bars end below the diagonal"
      : (conf < acc - 1e-9 ? "underconfident: bars end above the diagonal" : "calibrated");
    var text = "γ = " + g + ", " + nb + " bins: ECE " + (100 * f.ece).toFixed(2) +
      " %, accuracy " + acc.toFixed(3) + ", mean confidence " + conf.toFixed(3) + " (" + verdict + ")";
    root.querySelector("p.summary").textContent = text;
    svg.setAttribute("aria-label", "Reliability diagram. " + text);
  }
  sb.addEventListener("input", draw);
  sg.addEventListener("input", draw);
  draw();
})();
"""


def reliability_widget_html(
    grid: Mapping[tuple[float, int], ReliabilityData],
    *,
    n_bins: int | None = None,
    scale: float | None = None,
    element_id: str | None = None,
) -> str:
    """A reliability diagram with ``n_bins`` and overconfidence sliders, as an HTML fragment.

    The diagrams of ``grid`` (:func:`reliability_grid`) are embedded as JSON, about 1 kB each,
    and drawn as SVG by a few lines of plain JavaScript when a slider moves: the page needs no
    kernel, no library and no network, so it works in the static book and offline (a plotly
    figure would add its 4.8 MB library to the page).

    Parameters
    ----------
    grid : mapping
        ``{(gamma, n_bins): ReliabilityData}`` over a full grid of scales × bin counts.
    n_bins, scale : optional
        The sliders' starting position; default the middle of each list.
    element_id : str, optional
        HTML id of the widget; default derived from its data, so that the output is
        reproducible and two widgets on a page do not collide.

    Returns
    -------
    str
        ``<div>`` holding the SVG, the two labelled range inputs, a text summary (also the
        SVG's ``aria-label``), the data and the script.
    """
    import hashlib
    import html

    if not grid:
        raise ValueError("Expected `grid` to hold at least one diagram, got none.")
    gammas = sorted({float(g) for g, _ in grid})
    bins = sorted({int(n) for _, n in grid})
    missing = [(g, n) for g in gammas for n in bins if (g, n) not in grid]
    if missing:
        raise ValueError(
            f"Expected `grid` to cover every (gamma, n_bins) pair, missing {missing[:3]}."
        )
    for name, value, values in (("n_bins", n_bins, bins), ("scale", scale, gammas)):
        if value is not None and value not in values:
            raise ValueError(f"Expected `{name}` to be one of {values}, got {value!r}.")
    frames = {}
    for (g, n), d in grid.items():
        frames[f"{_js_number(g)}|{int(n)}"] = {
            "acc": _rounded(d.acc),
            "conf": _rounded(d.conf),
            "share": _rounded(d.counts / d.counts.sum()),
            "ece": round(float(d.ece), 6),
            "accuracy": round(float(np.nansum(d.counts * d.acc) / d.counts.sum()), 4),
            "confidence": round(float(np.nansum(d.counts * d.conf) / d.counts.sum()), 4),
        }
    payload = json.dumps({"n_bins": bins, "gammas": [_js_number(g) for g in gammas],
                          "frames": frames}, separators=(",", ":"), sort_keys=True)  # fmt: skip
    if element_id is None:
        element_id = "calstudy-reliability-" + hashlib.sha256(payload.encode()).hexdigest()[:10]
    data = payload.replace("</", "<\\/")  # no "</script>" inside the JSON
    b0 = bins.index(n_bins) if n_bins is not None else len(bins) // 2
    g0 = gammas.index(scale) if scale is not None else len(gammas) // 2
    safe_id = html.escape(element_id, quote=True)
    return (
        f'<div id="{safe_id}" class="calstudy-reliability-widget" '
        'style="max-width:560px;margin:0 auto;text-align:left">\n'
        '<svg viewBox="0 0 520 400" width="100%" role="img" '
        'aria-label="Interactive reliability diagram"></svg>\n'
        '<div style="display:grid;grid-template-columns:auto 1fr 3em;gap:4px 10px;'
        'align-items:center">\n'
        f'<label for="{safe_id}-bins">Number of bins</label>'
        f'<input id="{safe_id}-bins" name="n_bins" type="range" min="0" max="{len(bins) - 1}" '
        f'step="1" value="{b0}"><output name="n_bins"></output>\n'
        f'<label for="{safe_id}-gamma">Overconfidence γ</label>'
        f'<input id="{safe_id}-gamma" name="gamma" type="range" min="0" max="{len(gammas) - 1}" '
        f'step="1" value="{g0}"><output name="gamma"></output>\n'
        "</div>\n"
        '<p class="summary" aria-live="polite"></p>\n'
        f'<script type="application/json">{data}</script>\n'
        f"<script>{_WIDGET_JS.replace('__ID__', safe_id)}</script>\n"
        "</div>"
    )


def _js_number(x: float) -> str:
    """How a scale is keyed and shown: ``2.0`` → ``"2"``, ``0.75`` → ``"0.75"``."""
    return f"{float(x):g}"


