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
    "percent_rows",
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


def legend_below(
    ax: Axes, handles: list | None = None, labels: list | None = None, *, ncol: int = 2
) -> None:
    """A legend under the x label, so that it never covers the data."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=ncol,
              fontsize="small", frameon=False)  # fmt: skip


def axes_or_new(ax: Axes | None) -> Axes:
    """``ax``, or the axes of a new figure when it is None (every draw function's ``ax=``)."""
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
    ax = axes_or_new(ax)
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
    legend_below(legend_ax, handles, labels)
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
    ax = axes_or_new(ax)
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

    The axes and the legend are named by :func:`axis_label` and
    :func:`calstudy.catalogue.display_name` (the values are drawn as given: scale them with
    :func:`percent_view` first).

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

    Returns
    -------
    matplotlib Axes
    """
    import seaborn as sns

    missing = [c for c in (x, y, hue) if c is not None and c not in df.columns]
    if missing:
        raise ValueError(f"Expected `df` to have columns {missing}, got {list(df.columns)}.")
    from calstudy.catalogue import display_name

    ax = axes_or_new(ax)
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
    ax = axes_or_new(ax)
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
    ax = axes_or_new(ax)
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
    n: int,
    *,
    ncols: int = 2,
    width: float = 4.6,
    height: float = 4.0,
    heights: Sequence[float] | None = None,
) -> tuple[object, list[Axes]]:
    """A figure of ``n`` panels in rows of at most ``ncols``, the unused axes hidden.

    The book's column is about 720 px wide; two panels of ``width`` inches side by side keep the
    axis labels at 9 px or more when the page scales the figure down, where one long row of
    panels would not. ``heights`` gives each row its own height in inches (a forest plot of 50
    terms above one of 3), instead of ``height`` for every row.

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
    if heights is None:
        heights = [height] * rows
    elif len(heights) != rows or not all(h > 0 for h in heights):
        raise ValueError(
            f"Expected `heights` to be {rows} positive heights (one per row), got {heights!r}."
        )
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, float(sum(heights))),
                             gridspec_kw={"height_ratios": list(heights)}, squeeze=False)
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


def percent_rows(
    table: pd.DataFrame, columns: Sequence[str], names: Sequence[str] | pd.Index
) -> pd.DataFrame:
    """A copy of ``table`` with ``columns`` × 100 in the rows whose column ``names`` the book
    shows in percent (:func:`in_percent`): a table with one row per measured column.

    Parameters
    ----------
    table : DataFrame
        One row per measured column, e.g. a seed-noise table indexed by column name.
    columns : sequence of str
        The columns of ``table`` to scale (values in the measured column's units).
    names : sequence of str
        The measured column of each row of ``table``, in its order (often ``table.index``).

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> t = pd.DataFrame({"mean": [0.05, 0.7], "n": [3, 3]}, index=["pre_ECE_15", "acc"])
    >>> percent_rows(t, ["mean"], t.index)["mean"].round(6).tolist()
    [5.0, 0.7]
    """
    percent = np.array([in_percent(str(n)) for n in names], dtype=bool)
    if len(percent) != len(table):
        raise ValueError(
            f"Expected one name per row of `table` ({len(table)}), got {len(percent)}."
        )
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"Expected `table` to have columns {missing}, got {list(table.columns)}.")
    return table.assign(**{c: table[c].where(~percent, 100 * table[c]) for c in columns})


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
    ax = axes_or_new(ax)
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

    ax = axes_or_new(ax)
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
    from calstudy.questions.posthoc import posthoc_scores

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
    ax = axes_or_new(ax)
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
    from calstudy.trends import fit_trend

    data = df.dropna(subset=[acc, column])
    ax = axes_or_new(ax)
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
# Estimator names (the primer's figures are in calstudy.estimator_figures)
# ================================================================================================

__all__ += [
    "axes_or_new",
    "estimator_label",
    "family_label",
    "legend_below",
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


def family_label(family: str) -> str:
    """Display name of a binned family (``"cwCE_em"`` → ``"equal-mass classwise ECE"``)."""
    return estimator_label(f"{family}_15").removesuffix(", 15 bins")


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
    ax = axes_or_new(ax)
    sns.scatterplot(x=rows[predictor].rank(pct=True), y=rows[target].rank(pct=True), s=18, ax=ax)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    ax.set(xlabel=f"rank of held-out score ({predictor})", ylabel=f"rank of actual {target}",
           title=title)  # fmt: skip
    return ax


def plot_importance(
    importance: pd.DataFrame, ax: Axes | None = None, *, xlabel: str, title: str = "",
    top: int = 15,
) -> Axes:  # fmt: skip
    """The `top` rows of ``predict.permutation_importance`` as bars with ± one standard error,
    architecture columns by their display names."""
    import seaborn as sns

    from calstudy.catalogue import reader_label

    shown = importance.dropna().head(top)
    shown = shown.assign(feature=shown["feature"].map(reader_label))
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

    ax = axes_or_new(ax)
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
