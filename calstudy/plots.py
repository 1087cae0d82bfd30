"""Figures of the book, split into compute and draw.

As in relplot's ``prepare_rel_diagram``/``plot_rel_diagram`` and scikit-learn's
``calibration_curve``/``CalibrationDisplay``, the numbers behind a figure are computed by a pure
function returning a dataclass or a DataFrame (here :func:`reliability_data` and the functions of
:mod:`calstudy.analysis`), and a ``plot_*`` function only draws them. Every ``plot_*`` function
takes an optional ``ax``, draws on it (on a new figure when omitted) and returns it; none calls
``plt.show()``. matplotlib and seaborn are imported inside the drawing functions, so importing
this module stays cheap and backend-free.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from calstudy._checks import check_columns, check_int_at_least
from calstudy.questions.bins import bin_count_long
from calstudy.trends import Trend

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "ReliabilityData",
    "plot_bin_count_distributions",
    "plot_edge_contrasts",
    "plot_edge_medians",
    "plot_metric_scatter",
    "plot_op_effects",
    "plot_reliability",
    "plot_tau_matrix",
    "plot_tau_vs_population",
    "plot_width_medians",
    "reliability_data",
    "PERCENT_FAMILIES",
    "axis_label",
    "panel_grid",
    "in_percent",
    "percent_view",
]


# ================================================================================================
# Reliability diagram
# ================================================================================================


@dataclass(frozen=True)
class ReliabilityData:
    r"""Per-bin statistics of a reliability diagram.

    Attributes
    ----------
    edges : ndarray of shape (n_bins + 1,)
        Bar edges from 0 to 1. Equal width: :math:`e_b = b / n`, and bin :math:`b` holds the
        confidences in :math:`(e_b, e_{b+1}]` (the first also :math:`e_0`). Equal mass: bins are
        defined by rank (:func:`calstudy.metrics.bin_stats`), and an interior edge is drawn
        midway between the largest confidence of one bin and the smallest of the next.
    counts : ndarray of shape (n_bins,)
        Number of samples :math:`|B_b|` in each bin.
    conf : ndarray of shape (n_bins,)
        Mean confidence :math:`\mathrm{conf}(B_b)` per bin; NaN for empty bins.
    acc : ndarray of shape (n_bins,)
        Accuracy :math:`\mathrm{acc}(B_b)` per bin; NaN for empty bins.
    ece : float
        :math:`\sum_b \frac{|B_b|}{N} |\mathrm{acc}(B_b) - \mathrm{conf}(B_b)|`; equals
        :func:`calstudy.metrics.ece` (``"width"``) or :func:`calstudy.metrics.ece_em`
        (``"mass"``) for the same ``n_bins``.
    strategy : {"width", "mass"}
        How the bins were chosen.
    """

    edges: np.ndarray
    counts: np.ndarray
    conf: np.ndarray
    acc: np.ndarray
    ece: float
    strategy: str

    @property
    def n_bins(self) -> int:
        """Number of bins (empty ones included)."""
        return int(self.counts.size)


def reliability_data(
    probs: object,
    labels: object,
    *,
    n_bins: int = 15,
    strategy: Literal["width", "mass"] = "width",
) -> ReliabilityData:
    r"""Bin top-label confidences and compare them with accuracy (Guo et al., 2017).

    With :math:`\mathrm{conf}_i = \max_k p_{ik}` and
    :math:`\mathrm{correct}_i = [\arg\max_k p_{ik} = y_i]`, and bins :math:`B_b` as in
    :mod:`calstudy.metrics` (equal width: :math:`(b/n, (b+1)/n]`, the first closed; equal mass:
    :math:`n` contiguous groups of the sorted sample),

    .. math::

        \mathrm{acc}(B_b) = \frac{1}{|B_b|}\sum_{i \in B_b} \mathrm{correct}_i, \quad
        \mathrm{conf}(B_b) = \frac{1}{|B_b|}\sum_{i \in B_b} \mathrm{conf}_i, \quad
        \mathrm{ECE} = \sum_b \frac{|B_b|}{N}\,|\mathrm{acc}(B_b) - \mathrm{conf}(B_b)|.

    The per-bin sums come from :func:`calstudy.metrics.bin_stats`, so the diagram and the ECE
    columns of the dataset bin identically.

    Parameters
    ----------
    probs : array-like of shape (N, K)
        Predicted class probabilities (rows sum to 1).
    labels : array-like of int, shape (N,)
        True classes.
    n_bins : int, default=15
        Number of bins, in ``[1, MAX_N_BINS]`` (:data:`calstudy.metrics.MAX_N_BINS`); checked by
        :func:`calstudy.metrics.bin_stats` before any bin is made.
    strategy : {"width", "mass"}, default="width"
        Equal-width or equal-mass bins.

    Returns
    -------
    ReliabilityData

    Raises
    ------
    ValueError
        For invalid ``probs``/``labels``, an ``n_bins`` outside ``[1, MAX_N_BINS]`` or an
        unknown ``strategy``, naming the input.

    References
    ----------
    C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On Calibration of Modern Neural Networks",
    ICML 2017.

    Examples
    --------
    >>> d = reliability_data([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]], [0, 0, 0], n_bins=2)
    >>> d.counts.tolist(), d.acc.tolist(), round(d.ece, 4)  # bins [0, .5], (.5, 1]
    ([0, 3], [nan, 0.6666666666666666], 0.0667)
    """
    from calstudy.metrics import bin_stats, to_confidences

    conf, correct = to_confidences(probs, labels)
    stats = bin_stats(conf, correct, n_bins=n_bins, strategy=strategy)
    filled = stats.count > 0
    gaps = stats.count[filled] * np.abs(stats.acc[filled] - stats.conf[filled])
    if strategy == "width":
        edges = np.arange(n_bins + 1) / n_bins
    else:
        interior = np.nan_to_num((stats.upper[:-1] + stats.lower[1:]) / 2, nan=1.0)
        edges = np.maximum.accumulate(np.concatenate(([0.0], interior, [1.0])))
    return ReliabilityData(
        edges=edges,
        counts=stats.count,
        conf=stats.conf,
        acc=stats.acc,
        ece=float(gaps.sum() / conf.size),
        strategy=strategy,
    )


def _legend_below(
    ax: Axes, handles: list | None = None, labels: list | None = None, *, ncol: int = 2
) -> None:
    """A legend under the x label, so that it never covers the data."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=ncol,
              fontsize="small", frameon=False)  # fmt: skip


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots()
    return new_ax


def plot_reliability(
    data: ReliabilityData,
    ax: Axes | None = None,
    *,
    title: str | None = None,
    show_counts: bool = True,
) -> Axes:
    """Draw a reliability diagram.

    One bar per non-empty bin shows its accuracy; a hatched red bar from accuracy to mean
    confidence shows the gap; the dashed diagonal is perfect calibration; the ECE is written in
    the upper left. A gap above the accuracy bar (the bar ends below the diagonal) is an
    overconfident bin, accuracy below confidence; a gap below it an underconfident one. With
    ``show_counts``, a twin y-axis shows the share of samples per bin as light grey bars
    confined to the lower quarter of the plot, named in the legend ("Share of samples per
    bin").

    Parameters
    ----------
    data : ReliabilityData
        Output of :func:`reliability_data`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    title : str, optional
        Axes title.
    show_counts : bool, default=True
        Draw the sample-share histogram on a twin axis.

    Returns
    -------
    matplotlib Axes
        The main axes (accuracy against confidence).
    """
    ax = _axes(ax)
    filled = data.counts > 0
    left = data.edges[:-1][filled]
    width = np.diff(data.edges)[filled]
    acc, conf = data.acc[filled], data.conf[filled]
    ax.bar(left, acc, width=width, align="edge", color="C0", edgecolor="white", label="Accuracy")
    ax.bar(
        left,
        conf - acc,
        bottom=acc,
        width=width,
        align="edge",
        color="C3",
        alpha=0.3,
        hatch="//",
        edgecolor="C3",
        label="Gap",
    )
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="Perfect calibration")
    ax.text(0.04, 0.92, f"ECE = {100 * data.ece:.2f}%", transform=ax.transAxes)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="Confidence", ylabel="Accuracy")
    if title is not None:
        ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    if show_counts:
        share = data.counts / data.counts.sum()
        twin = ax.twinx()
        hist = twin.bar(
            data.edges[:-1], share, width=np.diff(data.edges), align="edge", color="grey", alpha=0.3
        )
        twin.set_ylim(0, 4 * max(share.max(), 1e-12))
        twin.set_ylabel("Share of samples")
        twin.grid(False)
        handles, labels = [*handles, hist], [*labels, "Share of samples per bin"]
    # Two columns: the bars (accuracy, gap), then the diagonal and the histogram.
    order = sorted(range(len(labels)), key=lambda i: labels[i] == "Perfect calibration")
    handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    # On the twin (drawn last) when there is one, so that the histogram does not cover it.
    legend_ax = twin if show_counts else ax
    _legend_below(legend_ax, handles, labels)
    return ax


# ================================================================================================
# Study figures
# ================================================================================================


def plot_tau_matrix(
    matrix: pd.DataFrame,
    ax: Axes | None = None,
    *,
    fmt: str = ".2f",
    cmap: str = "vlag",
) -> Axes:
    """Heat map of a correlation matrix with each value written in its cell.

    Parameters
    ----------
    matrix : DataFrame of shape (k, k)
        Output of :func:`calstudy.stats.tau_matrix`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    fmt : str, default=".2f"
        Format of the annotations.
    cmap : str, default="vlag"
        Diverging colour map, centred on 0 over [-1, 1].

    Returns
    -------
    matplotlib Axes
    """
    import seaborn as sns

    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"Expected `matrix` to be square, got shape {matrix.shape}.")
    ax = _axes(ax)
    sns.heatmap(
        matrix,
        ax=ax,
        annot=True,
        fmt=fmt,
        cmap=cmap,
        vmin=-1,
        vmax=1,
        center=0,
        square=True,
        cbar_kws={"label": "Kendall τ"},
    )
    return ax


def plot_metric_scatter(
    df: pd.DataFrame,
    x: str,
    y: str,
    ax: Axes | None = None,
    *,
    hue: str | None = None,
    trend: Trend | None = None,
    s: float = 8,
    alpha: float = 0.5,
) -> Axes:
    """Scatter two columns, optionally coloured by a third, with a fitted trend on top.

    Parameters
    ----------
    df : DataFrame
        Rows to draw.
    x, y : str
        Columns on the axes.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    hue : str, optional
        Column mapped to colour.
    trend : Trend, optional
        Output of :func:`calstudy.trends.fit_trend`, drawn as a black line with its confidence
        band where it has one.
    s, alpha : float
        Marker size and opacity.

    The axes and the legend are named by :func:`axis_label` and
    :func:`calstudy.catalogue.display_name` (the values are drawn as given: scale them with
    :func:`percent_view` first).

    Returns
    -------
    matplotlib Axes
    """
    import seaborn as sns

    missing = [c for c in (x, y, hue) if c is not None and c not in df.columns]
    if missing:
        raise ValueError(f"Expected `df` to have columns {missing}, got {list(df.columns)}.")
    from calstudy.catalogue import display_name

    ax = _axes(ax)
    sns.scatterplot(data=df, x=x, y=y, hue=hue, ax=ax, s=s, alpha=alpha, linewidth=0)
    ax.set(xlabel=axis_label(x), ylabel=axis_label(y))
    if hue is not None and ax.get_legend() is not None:
        ax.get_legend().set_title(display_name(hue))
    if trend is not None:
        ax.plot(trend.x, trend.fit, color="black", label=f"{trend.kind} trend")
        if np.isfinite(trend.low).any():
            ax.fill_between(trend.x, trend.low, trend.high, color="black", alpha=0.15)
    return ax


def plot_bin_count_distributions(
    df: pd.DataFrame,
    prefix: str = "pre_ECE",
    ax: Axes | None = None,
    *,
    bin_counts: Sequence[int] | None = None,
    kind: Literal["box", "violin"] = "box",
    percent: bool = True,
) -> Axes:
    """Distribution of a binned metric across models, one box (or violin) per bin count.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset with columns ``{prefix}_{n_bins}``.
    prefix : str, default="pre_ECE"
        Column prefix, e.g. ``"post_ECE"``.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    bin_counts : sequence of int, optional
        Bin counts to draw; default every one of 5, 10, …, 500 present in ``df``.
    kind : {"box", "violin"}, default="box"
        Box plot or violin plot.
    percent : bool, default=True
        Show the metric in percent.

    Returns
    -------
    matplotlib Axes
    """
    import seaborn as sns

    if kind not in ("box", "violin"):
        raise ValueError(f"Expected `kind` to be 'box' or 'violin', got {kind!r}.")
    long = bin_count_long(df, prefix, bin_counts)
    if percent:
        long = long.assign(value=100 * long["value"])
    ax = _axes(ax)
    draw = sns.boxplot if kind == "box" else sns.violinplot
    draw(data=long, x="n_bins", y="value", ax=ax, color="C0")
    ax.set(xlabel="Number of bins", ylabel=f"{prefix}" + (" (%)" if percent else ""))
    return ax


def plot_tau_vs_population(
    table: pd.DataFrame,
    ax: Axes | None = None,
    *,
    label: str | None = None,
    logx: bool = True,
) -> Axes:
    """τ against the number of models compared, with its band.

    Call once per table (e.g. random subsets and top-N subsets) on the same ``ax`` to overlay.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`calstudy.selection.tau_vs_population` (``size, tau_mean, low, high``).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    label : str, optional
        Legend entry of the line.
    logx : bool, default=True
        Logarithmic size axis.

    Returns
    -------
    matplotlib Axes
    """
    missing = [c for c in ("size", "tau_mean", "low", "high") if c not in table.columns]
    if missing:
        raise ValueError(f"Expected `table` to have columns {missing}, got {list(table.columns)}.")
    ax = _axes(ax)
    ordered = table.sort_values("size")
    (line,) = ax.plot(ordered["size"], ordered["tau_mean"], marker="o", label=label)
    ax.fill_between(
        ordered["size"], ordered["low"], ordered["high"], color=line.get_color(), alpha=0.2
    )
    ax.axhline(0, color="grey", linewidth=0.8)
    if logx:
        ax.set_xscale("log")
    ax.set(xlabel="Number of models", ylabel="Kendall τ")
    if label is not None:
        ax.legend()
    return ax


_CORRECTIONS = {"holm": "Holm", "bh": "BH", "bonferroni": "Bonferroni"}

#: Estimator families the book shows in percent: the binned calibration errors, whose value is a
#: share of the predictions (an ECE of 0.041 reads "4.1 %"), on every axis, table and sentence.
PERCENT_FAMILIES = ("ECE", "ECE_em", "cwCE", "cwCE_em", "MCE")


def panel_grid(
    n: int, *, ncols: int = 2, width: float = 4.6, height: float = 4.0
) -> tuple[object, list[Axes]]:
    """A figure of ``n`` panels in rows of at most ``ncols``, the unused axes hidden.

    The book's column is about 720 px wide; two panels of ``width`` inches side by side keep the
    axis labels at 9 px or more when the page scales the figure down, where one long row of
    panels would not.

    Returns
    -------
    (Figure, list of Axes)
        The figure and its first ``n`` axes, row by row.
    """
    import matplotlib.pyplot as plt

    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"Expected `n` to be a positive integer, got {n!r}.")
    if isinstance(ncols, bool) or not isinstance(ncols, int | np.integer) or ncols < 1:
        raise ValueError(f"Expected `ncols` to be a positive integer, got {ncols!r}.")
    cols, rows = min(n, ncols), -(-n // ncols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def in_percent(column: str) -> bool:
    """Whether the book shows ``column`` in percent (a binned calibration error).

    >>> in_percent("pre_ECE_15"), in_percent("post_cwCE_em_100"), in_percent("ECE_15")
    (True, True, True)
    >>> in_percent("pre_NLL"), in_percent("acc"), in_percent("pre_KSCE")
    (False, False, False)
    """
    prefix, _, rest = column.partition("_")
    if prefix not in ("pre", "post", "vs", "hist", "iso"):
        rest = column
    family, _, bins = rest.rpartition("_")
    return bins.isdigit() and family in PERCENT_FAMILIES


def axis_label(column: str) -> str:
    """A column's name on an axis: its display name, with ``(%)`` where it is shown in percent.

    >>> axis_label("pre_ECE_15"), axis_label("acc")
    ('ECE, 15 bins, before scaling (%)', 'accuracy')
    """
    from calstudy.catalogue import display_name

    return display_name(column) + (" (%)" if in_percent(column) else "")


def percent_view(df: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A copy of ``df`` with its percent columns (:func:`in_percent`, or ``columns``) × 100.

    Parameters
    ----------
    df : DataFrame
        Rows to show.
    columns : sequence of str, optional
        The columns to scale; default every column of ``df`` that :func:`in_percent` names.

    Returns
    -------
    DataFrame
    """
    scaled = [c for c in df.columns if in_percent(str(c))] if columns is None else list(columns)
    missing = [c for c in scaled if c not in df.columns]
    if missing:
        raise ValueError(f"Expected `df` to have columns {missing}, got {list(df.columns)}.")
    return df.assign(**{str(c): 100 * df[c] for c in scaled})


def plot_op_effects(
    effects: pd.DataFrame,
    ax: Axes | None = None,
    *,
    alpha: float = 0.05,
    include_intercept: bool = False,
) -> Axes:
    """Regression coefficients with confidence whiskers, one row per term.

    Terms whose corrected p-value (the table's ``p_<correction>`` column, else ``p``) is below
    ``alpha`` are drawn in red, the others in grey; a vertical line marks zero. The legend names
    the correction (``Holm p < 0.05``).

    Parameters
    ----------
    effects : DataFrame
        Output of :func:`calstudy.trends.op_effects` or :func:`calstudy.trends.ols_table`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    alpha : float, default=0.05
        Significance threshold for the colouring.
    include_intercept : bool, default=False
        Draw the intercept row too.

    Returns
    -------
    matplotlib Axes
    """
    missing = [c for c in ("term", "coef", "low", "high", "p") if c not in effects.columns]
    if missing:
        raise ValueError(
            f"Expected `effects` to have columns {missing}, got {list(effects.columns)}."
        )
    rows = effects
    if not include_intercept:
        rows = rows[~rows["term"].isin(["intercept", "Intercept", "const"])]
    corrected = [c for c in rows.columns if c.startswith("p_")]
    p = rows[corrected[0] if corrected else "p"].to_numpy(float)
    # The legend names the correction the colours follow ("Holm p < 0.05"), not a raw p.
    correction = corrected[0].removeprefix("p_") if corrected else ""
    name = f"{_CORRECTIONS.get(correction, correction)} " if correction else ""
    ax = _axes(ax)
    position = np.arange(len(rows))[::-1]
    coef = rows["coef"].to_numpy(float)
    whiskers = np.vstack([coef - rows["low"].to_numpy(float), rows["high"].to_numpy(float) - coef])
    for significant, colour in ((True, "C3"), (False, "grey")):
        keep = (p < alpha) == significant
        if keep.any():
            ax.errorbar(
                coef[keep],
                position[keep],
                xerr=whiskers[:, keep],
                fmt="o",
                color=colour,
                capsize=2,
                label=f"{name}p {'<' if significant else '≥'} {alpha:g}",
            )
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(position, rows["term"].tolist())
    ax.set(xlabel="Coefficient", ylabel="")
    ax.legend(loc="best")
    return ax



# ================================================================================================
# RQ vii: architecture design
# ================================================================================================


def plot_edge_contrasts(
    effects: pd.DataFrame, ax: Axes | None = None, *, alpha: float = 0.05
) -> Axes:
    """:func:`plot_op_effects` of an edge-encoded regression with readable term names.

    ``edge_3_0[skip_connect]`` against reference ``none`` is drawn as "0→3 skip_connect vs none".

    Parameters
    ----------
    effects : DataFrame
        :func:`calstudy.trends.op_effects` output with ``encoding="edge"``.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    alpha : float, default=0.05
        Significance threshold for the colouring.

    Returns
    -------
    matplotlib Axes
    """
    if "term" not in effects.columns:
        raise ValueError(
            f"Expected `effects` to have a 'term' column, got {list(effects.columns)}."
        )
    terms = effects["term"].str.replace(r"edge_(\d)_(\d)\[(.*)\]", r"\2→\1 \3", regex=True)
    if "reference" in effects.columns:
        reference = effects["reference"].fillna("")
        terms = terms.where(reference == "", terms + " vs " + reference)
    return plot_op_effects(effects.assign(term=terms), ax, alpha=alpha)


def plot_edge_medians(medians: pd.DataFrame, ax: Axes | None = None, *, label: str = "") -> Axes:
    """Heat map of :func:`calstudy.questions.design.edge_op_medians`, annotated in percent.

    Parameters
    ----------
    medians : DataFrame
        Operations × edges, fractions.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    label : str, default=""
        What the medians are of, for the colour bar (e.g. the column name).

    Returns
    -------
    matplotlib Axes
    """
    import seaborn as sns

    ax = _axes(ax)
    sns.heatmap(100 * medians.astype(float), annot=True, fmt=".1f", cmap="rocket_r", ax=ax,
                cbar_kws={"label": f"median {label} (%)".replace("  ", " ")})  # fmt: skip
    ax.set(xlabel="edge", ylabel="operation")
    return ax


def plot_width_medians(
    df: pd.DataFrame, y: str, ax: Axes | None = None, *, x: str = "total_width", hue: str = "acc"
) -> Axes:
    """SSS networks: ``y`` against total width, coloured by ``hue``, with the median per width.

    Parameters
    ----------
    df : DataFrame
        SSS rows with ``x``, ``y`` and ``hue``.
    y : str
        Calibration column.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    x, hue : str
        Width column and colour column.

    Returns
    -------
    matplotlib Axes
    """
    ax = plot_metric_scatter(df, x, y, ax, hue=hue)
    medians = df[[x, y]].dropna().groupby(x)[y].median()
    ax.plot(medians.index.to_numpy(float), medians.to_numpy(float), color="black",
            label=f"median per {x}")  # fmt: skip
    ax.set(xlabel=x)
    return ax


# ================================================================================================
# RQ iv: post-hoc methods against temperature scaling
# ================================================================================================

__all__ += ["plot_paired_differences", "posthoc_differences"]


def posthoc_differences(
    df: pd.DataFrame, methods: Sequence[str], score: str, *, by: str = "group"
) -> pd.DataFrame:
    """Per network, ``score`` after each of ``methods`` minus after temperature scaling.

    The long table :func:`plot_paired_differences` draws: columns ``method, d, <by>``, one row
    per network and method, in percentage points where ``score`` is shown in percent
    (:func:`in_percent`). Groups without temperature-scaled scores are left out.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset with the column ``by``.
    methods : sequence of str
        Post-hoc methods besides temperature scaling (``"vs"``, ``"hist"``, ``"iso"``).
    score : str
        Score suffix, e.g. ``"ECE_15"`` or ``"NLL"``
        (:func:`calstudy.questions.posthoc.posthoc_scores`).
    by : str, default="group"
        Column of the groups.

    Returns
    -------
    DataFrame
    """
    from calstudy.analysis import posthoc_scores

    if by not in df.columns:
        raise ValueError(f"Expected `df` to have column {by!r}, got {list(df.columns)}.")
    factor = 100.0 if in_percent(score) else 1.0
    parts = []
    for group, part in df.groupby(by, sort=True):
        scores = posthoc_scores(part, methods, score)
        if "ts" not in scores:
            continue
        diff = scores.drop(columns=["none", "ts"], errors="ignore").sub(scores["ts"], axis=0)
        parts.append((factor * diff).melt(var_name="method", value_name="d").assign(**{by: group}))
    if not parts:
        return pd.DataFrame(columns=["method", "d", by])
    return pd.concat(parts, ignore_index=True)


def plot_paired_differences(
    long: pd.DataFrame,
    ax: Axes | None = None,
    *,
    x: str = "method",
    y: str = "d",
    hue: str | None = "group",
    ylabel: str | None = None,
) -> Axes:
    """Paired differences per category as boxes, with a red line at 0.

    Each value is one network's score after a method minus its score after the reference
    (e.g. ``vs_ECE_15 - post_ECE_15``); points below the line are networks on which the method
    beat the reference.

    Parameters
    ----------
    long : DataFrame
        Long table with columns ``x``, ``y`` and (when given) ``hue``; non-finite values of
        ``y`` are dropped.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    x, y, hue : str
        Category, difference and colour columns (``hue=None``: one colour).
    ylabel : str, optional
        Label of the difference axis; default ``y``.

    Returns
    -------
    matplotlib Axes
    """
    import seaborn as sns

    needed = [c for c in (x, y, hue) if c is not None]
    missing = [c for c in needed if c not in long.columns]
    if missing:
        raise ValueError(f"Expected `long` to have columns {missing}, got {list(long.columns)}.")
    data = long[needed].replace([np.inf, -np.inf], np.nan).dropna()
    ax = _axes(ax)
    sns.boxplot(data=data, x=x, y=y, hue=hue, ax=ax, showfliers=False)
    ax.axhline(0, color="C3", linewidth=1)
    ax.set(ylabel=ylabel or y)
    return ax


# ================================================================================================
# RQ v: calibration against accuracy
# ================================================================================================

__all__ += ["plot_accuracy_relation"]


def plot_accuracy_relation(
    df: pd.DataFrame,
    column: str,
    ax: Axes | None = None,
    *,
    acc: str = "acc",
    top: str | None = "top",
) -> Axes:
    """A calibration column against accuracy: the models, an OLS line with its band, a LOWESS
    curve, and the top models in red.

    Parameters
    ----------
    df : DataFrame
        One group's models (e.g. of :func:`calstudy.questions.accuracy.label_top`).
    column : str
        The calibration column on the y axis.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    acc : str, default="acc"
        Accuracy column on the x axis.
    top : str or None, default="top"
        Boolean column marking the top models; None draws none.

    Returns
    -------
    matplotlib Axes
    """
    from calstudy.analysis import fit_trend

    data = df.dropna(subset=[acc, column])
    ax = _axes(ax)
    enough = len(data) >= 4
    trend = fit_trend(data, acc, column, kind="linear") if enough else None
    plot_metric_scatter(data, acc, column, ax, trend=trend)
    if enough:
        smooth = fit_trend(data, acc, column, kind="lowess")
        ax.plot(smooth.x, smooth.fit, color="C1", label="lowess trend")
    if top is not None and top in data.columns:
        best = data[data[top].astype(bool)]
        ax.scatter(best[acc], best[column], s=10, color="C3", label="top models")
    ax.set(xlabel="accuracy", ylabel=column)
    return ax


# ================================================================================================
# RQ vi: rank stability across bin counts
# ================================================================================================

__all__ += ["plot_bin_stability"]


def plot_bin_stability(stability: pd.DataFrame, ax: Axes | None = None, *, fmt: str = ".2f") -> Axes:
    """Heat map of τ-b between a metric at every pair of bin counts (1 on the diagonal).

    Parameters
    ----------
    stability : DataFrame
        :func:`calstudy.questions.bins.bin_count_stability`'s output (``bins_a, bins_b, tau``).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    fmt : str, default=".2f"
        Format of the numbers in the cells.

    Returns
    -------
    matplotlib Axes
    """
    missing = [c for c in ("bins_a", "bins_b", "tau") if c not in stability.columns]
    if missing:
        raise ValueError(f"Expected `stability` to have columns {missing}, got "
                         f"{list(stability.columns)}.")
    counts = sorted(set(stability["bins_a"]) | set(stability["bins_b"]))
    both = pd.concat([stability, stability.rename(columns={"bins_a": "bins_b", "bins_b": "bins_a"})])
    matrix = both.pivot(index="bins_a", columns="bins_b", values="tau")
    matrix = matrix.reindex(index=counts, columns=counts)
    for b in counts:
        matrix.loc[b, b] = 1.0
    return plot_tau_matrix(matrix.rename_axis(index="bins", columns="bins"), ax=ax, fmt=fmt)


# ================================================================================================
# The primer: one picture per estimator, and an interactive reliability diagram
# ================================================================================================

__all__ += [
    "bias_by_size",
    "bin_gaps",
    "classwise_reliability",
    "estimator_label",
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


def estimator_label(name: str) -> str:
    """How the book names a catalogue estimator: ``ECE_em_15`` → ``"equal-mass ECE, 15 bins"``.

    :func:`calstudy.catalogue.display_name` of the metric's ``pre_`` column without the stage.

    >>> estimator_label("ECE_em_15"), estimator_label("KSCE"), estimator_label("dL2ECE_15")
    ('equal-mass ECE, 15 bins', 'KS calibration error', 'debiased L2 ECE, 15 bins')
    """
    from calstudy.catalogue import CATALOGUE, display_name

    if name not in CATALOGUE:
        raise ValueError(
            f"Expected `name` to be a catalogue metric such as 'ECE_15', got {name!r}."
        )
    return display_name(f"pre_{name}").removesuffix(", before scaling")


def _family_label(family: str) -> str:
    """Display name of a binned family (``"cwCE_em"`` → ``"equal-mass classwise ECE"``)."""
    return estimator_label(f"{family}_15").removesuffix(", 15 bins")


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
        Output of :func:`reliability_data`.

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
    ax = _axes(ax)
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
    _legend_below(ax, ncol=1)
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
    ax = _axes(ax)
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
    _legend_below(
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
    ax = _axes(ax)
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
    _legend_below(ax, ncol=1)
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
    ax = _axes(ax)
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
    _legend_below(ax)
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
    ax = _axes(ax)
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
    _legend_below(ax, handles, [h.get_label() for h in handles], ncol=len(handles))
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
    ax = _axes(ax)
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
    ax = _axes(ax)
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
    ax = _axes(ax)
    for family in chosen:
        bins = sorted(errors[family])
        values = [(100.0 if percent else 1.0) * errors[family][b] for b in bins]
        ax.plot(bins, values, marker="o", label=_family_label(family))
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
    import json

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


# ================================================================================================
# RQ viii: predictors of calibration before training; seed noise; the cost of the full study
# ================================================================================================

__all__ += [
    "plot_early_signals",
    "plot_hours_overview",
    "plot_icc_by_epoch",
    "plot_importance",
    "plot_predictor_taus",
    "plot_rank_agreement",
    "plot_row_times",
    "plot_scale_cluster",
    "plot_seed_spread",
]


def plot_predictor_taus(
    scores: pd.DataFrame, ax: Axes | None = None, *, goal: float, xlabel: str, title: str = ""
) -> Axes:
    """Each predictor's held-out τ-b with its interval (``predict.compare_predictors``'s
    ``scores``: ``predictor``, ``kind``, ``tau``, ``low``, ``high``), sorted, and the goal."""
    import seaborn as sns

    order = scores.sort_values("tau").reset_index(drop=True)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 0.45 * len(order) + 1.2))
    sns.scatterplot(data=order, x="tau", y="predictor", hue="kind", s=60, ax=ax, zorder=3)
    ax.hlines(order["predictor"], order["low"], order["high"], color="grey", linewidth=2)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.axvline(goal, color="C3", linestyle="--", label=f"goal τ = {goal:g}")
    ax.set(xlabel=xlabel, ylabel="", title=title)
    ax.legend(loc="upper right", fontsize="small")
    return ax


def plot_rank_agreement(
    predictions: pd.DataFrame, target: str, predictor: str, ax: Axes | None = None, *,
    title: str = "",
) -> Axes:  # fmt: skip
    """Held-out score's rank against the actual rank (fractions of the sample), one point per
    architecture; a perfect ranker lies on the diagonal."""
    import seaborn as sns

    rows = predictions[[target, predictor]].dropna()
    ax = _axes(ax)
    sns.scatterplot(x=rows[predictor].rank(pct=True), y=rows[target].rank(pct=True), s=18, ax=ax)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    ax.set(xlabel=f"rank of held-out score ({predictor})", ylabel=f"rank of actual {target}",
           title=title)  # fmt: skip
    return ax


def plot_importance(
    importance: pd.DataFrame, ax: Axes | None = None, *, xlabel: str, title: str = "",
    top: int = 15,
) -> Axes:  # fmt: skip
    """The `top` rows of ``predict.permutation_importance`` as bars with ± one standard error."""
    import seaborn as sns

    shown = importance.dropna().head(top)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 0.35 * len(shown) + 1.2))
    sns.barplot(data=shown, x="importance", y="feature", color="C0", ax=ax)
    ax.errorbar(shown["importance"], np.arange(len(shown)), xerr=shown["sd"] / np.sqrt(shown["n"]),
                fmt="none", color="black")  # fmt: skip
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set(xlabel=xlabel, ylabel="", title=title)
    return ax


def plot_early_signals(frame: pd.DataFrame, taus: pd.DataFrame, target: str) -> np.ndarray:
    """One panel per early epoch: the validation ECE after it against the final `target`
    (``predict.early_signal_taus`` rows give the columns and the τ in each title). Returns the
    axes."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from calstudy.report import tau as tau_words

    _, axes = plt.subplots(1, len(taus), figsize=(3.6 * len(taus), 3.4), sharey=True,
                           squeeze=False)  # fmt: skip
    for r, ax in zip(taus.itertuples(), axes[0], strict=True):
        sns.scatterplot(x=frame[r.column], y=frame[target], s=18, ax=ax)
        ax.set(xlabel=f"validation ECE after epoch {r.epoch}", title=tau_words(r._asdict()))
    axes[0, 0].set_ylabel(f"{target} after training")
    return axes[0]


def plot_icc_by_epoch(
    by_epoch: pd.DataFrame, ax: Axes | None = None, *, xlabel: str, title: str = ""
) -> Axes:
    """ICC across seeds after each epoch, one line per signal with its interval band
    (``early.seed_reliability``: ``signal``, ``epoch``, ``icc``, ``low``, ``high``)."""
    import seaborn as sns

    ax = _axes(ax)
    for (signal, rows), colour in zip(by_epoch.groupby("signal", sort=False),
                                      sns.color_palette(), strict=False):  # fmt: skip
        ax.plot(rows["epoch"], rows["icc"], marker="o", color=colour, label=signal)
        ax.fill_between(rows["epoch"], rows["low"], rows["high"], color=colour, alpha=0.15)
    ax.set(xlabel=xlabel, ylabel="ICC across seeds", ylim=(-0.02, 1.02), title=title)
    ax.legend(title="validation signal")
    return ax


def plot_seed_spread(runs: pd.DataFrame, columns: Sequence[str]) -> object:
    """The architectures trained more than once: each one's mean over its seeds ± one seed
    standard deviation, one panel per column (a seaborn ``FacetGrid``, returned)."""
    import seaborn as sns

    repeated = runs[runs.groupby("arch")["seed"].transform("nunique") >= 2]
    names = {a: f"A{i + 1}" for i, a in enumerate(sorted(repeated["arch"].unique()))}
    long = repeated.melt(id_vars=["arch", "seed"], value_vars=list(columns), var_name="column",
                         value_name="value")  # fmt: skip
    long["architecture"] = long["arch"].map(names)
    grid = sns.catplot(data=long, x="architecture", y="value", col="column", kind="point",
                       errorbar="sd", order=list(names.values()), sharey=False,
                       col_wrap=min(4, len(columns)), height=3.2, aspect=1.0, linestyles="none",
                       capsize=0.2)  # fmt: skip
    grid.set_titles("{col_name}")
    return grid


def plot_row_times(gpu_costs: pd.DataFrame) -> np.ndarray:
    """A store's GPU rows: each row's own times and its share of the node (``projection.
    row_costs``), by space. Returns the two axes."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    _, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    panels = ((["wall_time_s", "train_time_s", "eval_time_s"], "a row's own time (jobs sharing the GPU)"),
              (["node_s", "train_node_s", "eval_node_s"], "a row's share of the node (own time / L)"))  # fmt: skip
    for ax, (parts, title) in zip(axes, panels, strict=True):
        long = gpu_costs.melt(id_vars=["space"], value_vars=parts, var_name="part",
                              value_name="seconds")  # fmt: skip
        sns.boxplot(data=long, x="part", y="seconds", hue="space", ax=ax, fliersize=2)
        ax.set(title=title, xlabel="")
    return axes


def plot_scale_cluster(cluster: pd.DataFrame, *, goal_hours: float, n_networks: int) -> np.ndarray:
    """Wall-clock hours and GPU-hours against cluster size, one line per scenario
    (``projection.scenario_table`` over several sizes). Returns the two axes."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    _, axes = plt.subplots(1, 2, figsize=(12, 4.3))
    sns.lineplot(data=cluster, x="gpus", y="hours", hue="scenario", marker="o", ax=axes[0])
    axes[0].set(xscale="log", yscale="log", xlabel="GPUs", ylabel="wall-clock hours",
                title=f"{n_networks:,} pretrained evaluations")  # fmt: skip
    axes[0].axhline(1, color="grey", linewidth=0.8)
    sns.lineplot(data=cluster, x="gpus", y="gpu_hours", hue="scenario", marker="o", ax=axes[1],
                 legend=False)  # fmt: skip
    axes[1].axhline(goal_hours, color="C3", linestyle="--", linewidth=1,
                    label=f"goal: {goal_hours:g} GPU-hours")  # fmt: skip
    axes[1].legend(loc="upper right")
    axes[1].set(xscale="log", ylim=(0, None), xlabel="GPUs", ylabel="GPU-hours",
                title="accelerator time billed")  # fmt: skip
    return axes


def plot_hours_overview(hours: pd.Series, ax: Axes | None = None, *, goal_hours: float) -> Axes:
    """Hours of each projection on one device, as bars on a log scale, with the goal."""
    import seaborn as sns

    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(9, 0.45 * len(hours) + 1))
    sns.barplot(x=hours.to_numpy(), y=hours.index, ax=ax, color="C0")
    ax.axvline(goal_hours, color="C3", linestyle="--", linewidth=1,
               label=f"goal: {goal_hours:g} GPU-hours")  # fmt: skip
    ax.legend(loc="lower right")
    ax.set(xscale="log", xlabel="hours (one device)", ylabel="")
    return ax


# ================================================================================================
# One figure for a chapter's groups: one panel each, so that a figure cell shows one image
# ================================================================================================

__all__ += ["draw_panels"]


def draw_panels(
    items: Mapping[object, object],
    draw: Callable[[Axes, object, object], object],
    *,
    width: float,
    heights: float | Sequence[float],
    ncols: int = 1,
) -> object | None:
    """One figure with a panel per item: ``draw(ax, key, value)`` for each ``key: value``.

    A chapter that loops over its groups (space × dataset, or runs) draws them into one figure,
    so that its figure cell has one image and one numbered caption, and lays the panels out in
    rows of ``ncols`` so that the figure stays legible at the page's width.

    Parameters
    ----------
    items : mapping
        The panels, in order; nothing is drawn when it is empty.
    draw : callable
        ``draw(ax, key, value)`` draws one panel.
    width : float
        Width of the figure in inches.
    heights : float or sequence of float
        Height of each row of panels in inches: one number for all, or one per row.
    ncols : int, default=1
        Panels per row; unused axes of the last row are hidden.

    Returns
    -------
    matplotlib Figure or None
        The figure, laid out tight; None when ``items`` is empty.
    """
    import matplotlib.pyplot as plt

    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"Expected `ncols` to be a positive integer, got {ncols!r}.")
    if not items:
        return None
    n_rows = -(-len(items) // ncols)
    rows = [float(heights)] * n_rows if np.isscalar(heights) else [float(h) for h in heights]
    if len(rows) != n_rows or min(rows) <= 0:
        raise ValueError(f"Expected `heights` to be one positive number or {n_rows} of them, got "
                         f"{heights!r}.")  # fmt: skip
    fig, axes = plt.subplots(n_rows, min(ncols, len(items)), figsize=(width, sum(rows)),
                             squeeze=False, gridspec_kw={"height_ratios": rows})  # fmt: skip
    for ax, (key, value) in zip(axes.flat, items.items(), strict=False):
        draw(ax, key, value)
    for ax in axes.flat[len(items):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig
