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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from calstudy.analysis import Trend, bin_count_long

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
    "EXPLORER_FALLBACKS",
    "explorer_columns",
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
    the upper left. With ``show_counts``, a twin y-axis shows the share of samples per bin as
    light grey bars confined to the lower quarter of the plot.

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
    ax.legend(loc="lower right")
    if show_counts:
        share = data.counts / data.counts.sum()
        twin = ax.twinx()
        twin.bar(
            data.edges[:-1], share, width=np.diff(data.edges), align="edge", color="grey", alpha=0.3
        )
        twin.set_ylim(0, 4 * max(share.max(), 1e-12))
        twin.set_ylabel("Share of samples")
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
        Output of :func:`calstudy.analysis.tau_matrix`.
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
        Output of :func:`calstudy.analysis.fit_trend`, drawn as a black line with its confidence
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
    ax = _axes(ax)
    sns.scatterplot(data=df, x=x, y=y, hue=hue, ax=ax, s=s, alpha=alpha, linewidth=0)
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
        Output of :func:`calstudy.analysis.tau_vs_population` (``size, tau_mean, low, high``).
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


def plot_op_effects(
    effects: pd.DataFrame,
    ax: Axes | None = None,
    *,
    alpha: float = 0.05,
    include_intercept: bool = False,
) -> Axes:
    """Regression coefficients with confidence whiskers, one row per term.

    Terms whose corrected p-value (the table's ``p_<correction>`` column, else ``p``) is below
    ``alpha`` are drawn in red, the others in grey; a vertical line marks zero.

    Parameters
    ----------
    effects : DataFrame
        Output of :func:`calstudy.analysis.op_effects` or :func:`calstudy.analysis.ols_table`.
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
                label=f"p {'<' if significant else '≥'} {alpha}",
            )
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(position, rows["term"].tolist())
    ax.set(xlabel="Coefficient", ylabel="")
    ax.legend(loc="best")
    return ax


def explorer_html(
    df: pd.DataFrame,
    *,
    x: str = "acc",
    y: str = "pre_ECE_15",
    color: str = "space",
    facet: str | None = "dataset",
    hover: Sequence[str] = ("arch", "acc", "pre_ECE_15", "post_ECE_15", "temperature"),
    include_plotlyjs: bool | str = True,
) -> str:
    """A self-contained interactive scatter of the dataset as an HTML fragment.

    Hovering a point shows its architecture and calibration. plotly.js is embedded in the
    fragment (``include_plotlyjs=True``), so the page works in a static site with no network;
    pass ``"cdn"`` for a smaller page that loads it from the internet.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows of the calibration dataset.
    x, y, color : str
        Columns for the axes and the colour.
    facet : str or None
        Column whose values get one panel each (None: one panel).
    hover : sequence of str
        Columns shown when hovering a point; those absent from ``df`` are skipped.
    """
    try:
        import plotly.express as px
    except ImportError as error:  # the [book] extra installs plotly
        raise RuntimeError("The explorer needs plotly: pip install 'calstudy[book]'.") from error

    needed = [x, y, color] + ([facet] if facet else [])
    missing = [column for column in needed if column not in df.columns]
    if missing:
        raise ValueError(
            f"Expected columns {missing} in the dataset; it has {len(df.columns)} "
            f"columns such as {sorted(df.columns)[:8]}."
        )
    if df.empty:
        raise ValueError("Expected at least one row to explore, got an empty frame.")
    hover_columns = [column for column in hover if column in df.columns]
    frame = df[list(dict.fromkeys([*needed, *hover_columns]))].copy()
    fig = px.scatter(
        frame,
        x=x,
        y=y,
        color=color,
        facet_col=facet,
        hover_data={column: True for column in hover_columns},
        opacity=0.75,
        height=480,
    )
    fig.update_traces(marker={"size": 7})
    fig.update_xaxes(matches=None, showticklabels=True)  # datasets differ in accuracy range
    fig.update_layout(margin={"l": 40, "r": 20, "t": 40, "b": 40}, legend_title_text=color)
    return fig.to_html(include_plotlyjs=include_plotlyjs, full_html=False)


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
        :func:`calstudy.analysis.op_effects` output with ``encoding="edge"``.
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
    """Heat map of :func:`calstudy.analysis.edge_op_medians`, annotated in percent.

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

__all__ += ["plot_paired_differences"]


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
# The explorer: columns a store fills
# ================================================================================================

#: Fallbacks of :func:`explorer_columns`, tried in order when a requested column is not filled.
EXPLORER_FALLBACKS: dict[str, tuple[str, ...]] = {
    "x": ("acc", "n_params", "total_width"),
    "y": ("pre_ECE_15", "post_ECE_15", "pre_NLL", "acc"),
    "color": ("space", "dataset", "source"),
    "facet": ("dataset", ""),
}


def explorer_columns(
    df: pd.DataFrame, **requested: str
) -> tuple[dict[str, str | None], list[str]]:
    """The explorer's axis, colour and facet columns: each requested one where ``df`` fills it,
    else the first filled fallback of :data:`EXPLORER_FALLBACKS`, with a note saying so.

    Parameters
    ----------
    df : DataFrame
        Rows of a store (every schema column present, many possibly empty).
    **requested : str
        ``x``, ``y``, ``color`` and ``facet`` (``""``: one panel).

    Returns
    -------
    (dict, list of str)
        The chosen columns by role (``facet`` None for one panel), and one sentence per role
        that fell back.

    Examples
    --------
    >>> rows = pd.DataFrame({"acc": [0.9], "space": ["tss"], "temperature": [None]})
    >>> chosen, notes = explorer_columns(rows, x="acc", y="temperature", color="space", facet="")
    >>> chosen
    {'x': 'acc', 'y': 'acc', 'color': 'space', 'facet': None}
    >>> notes
    ['`y = "temperature"` is not a column this store fills; `acc` is shown instead.']
    """
    unknown = sorted(set(requested) - set(EXPLORER_FALLBACKS))
    if unknown:
        raise ValueError(f"Expected roles among {list(EXPLORER_FALLBACKS)}, got {unknown}.")
    filled = {c for c in df.columns if df[c].notna().any()}
    chosen: dict[str, str | None] = {}
    notes = []
    for role, fallbacks in EXPLORER_FALLBACKS.items():
        wanted = requested.get(role, fallbacks[0])
        if wanted in filled or (role == "facet" and wanted == ""):
            chosen[role] = wanted or None
            continue
        pick = next((c for c in fallbacks if c in filled or c == ""), None)
        if pick is None:
            raise ValueError(f"Expected `df` to fill one of {list(fallbacks)} for `{role}`.")
        chosen[role] = pick or None
        notes.append(f'`{role} = "{wanted}"` is not a column this store fills; '
                     + (f"`{pick}` is shown instead." if pick else "one panel is shown."))  # fmt: skip
    return chosen, notes


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
        One group's models (e.g. of :func:`calstudy.analysis.label_top`).
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
        :func:`calstudy.analysis.bin_count_stability`'s output (``bins_a, bins_b, tau``).
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
