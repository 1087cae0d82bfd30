"""RQ v: calibration and accuracy. The most accurate models against the rest, the shape of the
relation, what temperature scaling changes; the tables and their sentences.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from calstudy._checks import check_columns, check_nonnegative_int
from calstudy.catalogue import prose_name
from calstudy.differences import tau_difference
from calstudy.questions.groups import (
    GROUP_KEYS,
    group_label,
    group_parts,
    group_table,
    split_groups,
)
from calstudy.questions.verdicts import (
    CHANGED_WORDS,
    ci_words,
    interval_sign,
    share_words,
    verdict_groups,
)
from calstudy.questions.versus_paper import position_phrase, range_position
from calstudy.selection import top_n
from calstudy.stats import correct_pvalues, kendall_ci, kendall_tau
from calstudy.trends import fit_trend

__all__ = [
    "accuracy_paper_sentences",
    "accuracy_summary",
    "accuracy_tau_sentences",
    "accuracy_taus",
    "label_top",
    "scaling_gain_sentences",
    "top_rest_contrast",
    "top_rest_sentences",
]


# ================================================================================================
# RQ v: calibration and accuracy (the most accurate models and the rest, the shape of the
# relation, what temperature scaling changes)
# ================================================================================================


def label_top(
    df: pd.DataFrame,
    *,
    fraction: float = 0.2,
    n: int = 0,
    acc: str = "acc",
    by: Sequence[str] = GROUP_KEYS,
    min_group: int = 10,
) -> pd.DataFrame:
    r"""The rows of each large enough group, marked ``top`` where they are its most accurate.

    Per group of ``by`` the top models are the :math:`k` most accurate
    (:func:`~calstudy.selection.top_n`, highest ``acc`` first: not the paper's
    ``sort_values('acc').head(N)``), with :math:`k = n` when ``n > 0``, else :math:`k = \lceil f m
    \rceil` of the group's :math:`m` models, and :math:`3 \le k \le m`. Groups with fewer than
    ``max(min_group, 3)`` models are left out and listed in ``attrs["skipped"]``.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset; rows without ``acc`` are dropped.
    fraction : float, default=0.2
        Share of each group called "top", in (0, 1]; used when ``n`` is 0.
    n : int, default=0
        Number of top models per group, when positive.
    acc : str, default="acc"
        Accuracy column.
    by : sequence of str, default=("space", "dataset")
        Group columns.
    min_group : int, default=10
        Smallest group analysed.

    Returns
    -------
    DataFrame
        The kept rows (original index) with a column ``group``
        (:func:`~calstudy.questions.groups.group_label`) and a boolean column ``top``.

    Examples
    --------
    >>> d = pd.DataFrame({"space": "tss", "dataset": "a", "acc": np.arange(10) / 10})
    >>> label_top(d, fraction=0.3, min_group=5)["top"].tolist()
    [False, False, False, False, False, False, False, True, True, True]
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"Expected `fraction` to be in (0, 1], got {fraction}.")
    n = check_nonnegative_int(n, "n")
    parts, skipped = group_parts(df, by, [acc], max(min_group, 3))
    frames = []
    for _, part in parts:
        k = int(n) if n > 0 else math.ceil(fraction * len(part) - 1e-9)
        best = top_n(part, min(max(k, 3), len(part)), by=acc).index
        frames.append(part.assign(top=part.index.isin(best)))
    out = pd.concat(frames) if frames else df.iloc[0:0].assign(top=False)
    out["top"] = out["top"].astype(bool)
    out["group"] = group_label(out, by) if len(out) else pd.Series(dtype=str)
    out.attrs["skipped"] = skipped
    return out


def accuracy_taus(
    labelled: pd.DataFrame,
    columns: Sequence[str],
    *,
    acc: str = "acc",
    by: Sequence[str] = GROUP_KEYS,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """τ-b between accuracy and each column, for all models, the top models and the rest.

    A negative τ means that more accurate models tend to have a *lower* value (better
    calibrated, for an error). The p-values are Holm-corrected over the whole table; a subset
    with fewer than 3 models or a constant column is left out.

    Parameters
    ----------
    labelled : DataFrame
        :func:`label_top`'s output.
    columns : sequence of str
        Columns correlated with accuracy (e.g. ``pre_ECE_15``, ``post_ECE_15``).
    acc : str, default="acc"
        Accuracy column.
    by : sequence of str
        Group columns.
    n_boot, level, seed
        As in :func:`~calstudy.stats.kendall_ci`.
    alpha : float, default=0.05
        Significance level of ``significant`` and ``relation``.

    Returns
    -------
    DataFrame
        Columns ``*by, group, models`` (``"all"``, ``"top"``, ``"rest"``), ``metric, tau, low,
        high, p, n, p_holm, significant, relation`` (+1: the column rises with accuracy, -1: it
        falls, 0: no relation detected after Holm).
    """
    by = list(by)
    check_columns(labelled, [*by, "top", acc, *columns], "labelled")
    rows = []
    for key, part in split_groups(labelled, by):
        for models, rows_of in (("all", part), ("top", part[part["top"]]),
                                ("rest", part[~part["top"]])):  # fmt: skip
            for column in columns:
                pair = rows_of[[acc, column]].dropna()
                if len(pair) < 3 or pair[acc].nunique() < 2 or pair[column].nunique() < 2:
                    continue
                r = kendall_ci(pair[acc], pair[column], n_boot=n_boot, level=level, seed=seed)
                rows.append({**key, "models": models, "metric": column, "tau": r.tau,
                             "low": r.low, "high": r.high, "p": r.p_value, "n": r.n})
    table = group_table(rows, by, ["models", "metric", "tau", "low", "high", "p", "n"], [])
    table["p_holm"] = correct_pvalues(table["p"], method="holm")
    table["significant"] = table["p_holm"] < alpha
    table["relation"] = (np.sign(table["tau"]).fillna(0) * table["significant"]).astype(int)
    return table


def top_rest_contrast(
    labelled: pd.DataFrame,
    column: str,
    *,
    acc: str = "acc",
    by: Sequence[str] = GROUP_KEYS,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""Is the relation of ``column`` with accuracy monotone? The top models against the rest.

    Per group: where the LOWESS curve of ``column`` against accuracy
    (:func:`~calstudy.trends.fit_trend`) peaks, and whether inside the accuracy range (not within
    its outer 5 % of grid points at either end: a rise, then a fall); whether τ(acc, column) has
    opposite signs among the top models and the rest; and :math:`\tau_\text{top} - \tau_\text{rest}`
    with a bootstrap interval that resamples the two independent subsets on their own
    (:func:`~calstudy.differences.tau_difference`) and its p-value Holm-corrected over the groups.

    Parameters
    ----------
    labelled : DataFrame
        :func:`label_top`'s output.
    column : str
        The calibration column.
    acc, by, n_boot, level, seed, alpha
        As in :func:`accuracy_taus`.

    Returns
    -------
    DataFrame
        One row per group: ``*by, group, peak_acc, peak_inside, sign_differs, tau_top, tau_rest,
        diff, low, high, p, p_holm, differs`` (:func:`~calstudy.questions.verdicts.interval_sign` of
        the difference with its Holm p).
    """
    by = list(by)
    check_columns(labelled, [*by, "top", acc, column], "labelled")
    rows = []
    for key, part in split_groups(labelled, by):
        part = part.dropna(subset=[acc, column])
        top, rest = part[part["top"]], part[~part["top"]]
        row: dict[str, Any] = {**key, "peak_acc": np.nan, "peak_inside": False}
        if len(part) >= 3:
            smooth = fit_trend(part, acc, column, kind="lowess")
            peak = int(np.argmax(smooth.fit))
            row |= {"peak_acc": float(smooth.x[peak]),
                    "peak_inside": bool(0.05 * len(smooth.x) < peak < 0.95 * len(smooth.x))}
        taus = {name: kendall_tau(s[acc], s[column]) if len(s) >= 3 else np.nan
                for name, s in (("top", top), ("rest", rest))}  # fmt: skip
        row |= {"tau_top": taus["top"], "tau_rest": taus["rest"],
                "sign_differs": bool(np.sign(taus["top"]) * np.sign(taus["rest"]) < 0)}
        d = (tau_difference(top[acc], top[column], rest[acc], rest[column], paired=False,
                            n_boot=n_boot, level=level, seed=seed)
             if len(top) >= 3 and len(rest) >= 3 else None)  # fmt: skip
        row |= ({"diff": d.estimate, "low": d.low, "high": d.high, "p": d.p_value} if d else
                {"diff": np.nan, "low": np.nan, "high": np.nan, "p": np.nan})  # fmt: skip
        rows.append(row)
    columns = ["peak_acc", "peak_inside", "sign_differs", "tau_top", "tau_rest", "diff", "low",
               "high", "p"]
    table = group_table(rows, by, columns, [])
    table["p_holm"] = correct_pvalues(table["p"], method="holm")
    table["differs"] = interval_sign(table["low"], table["high"], table["p_holm"], alpha=alpha)
    return table


# RQ v, in words.


_RELATION_WORDS = {
    1: "it rises with accuracy",
    -1: "it falls as accuracy rises",
    0: "no relation is detected",
}


def accuracy_tau_sentences(taus: pd.DataFrame, *, models: str = "all") -> list[str]:
    """:func:`accuracy_taus`' rows of one subset in words, one sentence per group and metric.

    Parameters
    ----------
    taus : DataFrame
        :func:`accuracy_taus`' output.
    models : {"all", "top", "rest"}, default="all"
        The subset stated.

    Returns
    -------
    list of str
        E.g. "**TSS · cifar10**, 15-bin ECE after scaling: τ(acc, ·) = -0.29 [-0.41, -0.18],
        n = 122, Holm p < 1e-4: it falls as accuracy rises."
    """
    from calstudy import report

    check_columns(taus, ["group", "models", "metric", "tau", "low", "high", "n", "p_holm",
                          "relation"], "taus")
    rows = taus[taus["models"] == models]
    if rows.empty:
        return [f"No group has enough models ({models}) for τ."]
    return [
        f"**{r['group']}**, {prose_name(r['metric'])}: {report.tau(r, symbol='τ(acc, ·)')}, Holm p "
        f"{report.pvalue(r['p_holm'])}: {_RELATION_WORDS[r['relation']]}."
        for _, r in rows.iterrows()
    ]


def top_rest_sentences(shape: pd.DataFrame) -> list[str]:
    """:func:`top_rest_contrast`'s table in words, one sentence per group.

    Returns
    -------
    list of str
        E.g. "**SSS · fashion-mnist**: τ among the top models +0.07, among the rest -0.54;
        difference +0.61 [+0.26, +1.17] (Holm p 0.032): the relation changes between the top
        models and the rest; the LOWESS curve peaks at the end of the accuracy range (80 %)."
    """
    from calstudy import report

    check_columns(shape, ["group", "tau_top", "tau_rest", "diff", "p_holm", "differs",
                           "peak_acc", "peak_inside"], "shape")
    if shape.empty:
        return ["No group has enough models to compare its top models with the rest."]
    sentences = []
    for _, r in shape.iterrows():
        change = ("the relation changes between the top models and the rest" if r["differs"]
                  else "a change between the top models and the rest is not established")
        peak = ("inside the accuracy range (a rise, then a fall)" if r["peak_inside"]
                else "at an end of the accuracy range")
        sentences.append(
            f"**{r['group']}**: τ among the top models {report.fixed(r['tau_top'])}, among the "
            f"rest {report.fixed(r['tau_rest'])}; difference "
            f"{ci_words(r, 'diff', low='low', high='high')} (Holm p {report.pvalue(r['p_holm'])}): "
            f"{change}; the LOWESS curve peaks {peak}, at {report.pct(r['peak_acc'])} accuracy."
        )
    return sentences


def scaling_gain_sentences(
    effect: pd.DataFrame, temperatures: pd.DataFrame, *, t_tol: float = 0.05, metric: str = "ECE"
) -> list[str]:
    """What temperature scaling changes, per group, in words (RQ v).

    Parameters
    ----------
    effect : DataFrame
        :func:`~calstudy.questions.posthoc.scaling_effect`'s output.
    temperatures : DataFrame
        :func:`~calstudy.questions.posthoc.temperature_summary`'s output with ``against`` the drop
        in the metric (pre − post); may be empty (no temperatures in the store).
    t_tol : float, default=0.05
        A group counts as miscalibrated before scaling when its median :math:`|T - 1|`
        exceeds this.
    metric : str, default="ECE"
        How the sentences name the metric.

    Returns
    -------
    list of str
        E.g. "**TSS · cifar10**: median T 1.094 (median ``|T − 1|`` 0.094, above 0.05:
        miscalibrated before scaling); scaling lowered ECE network by network: median change
        -0.98 [-1.13, -0.82] pp (Holm p < 1e-4), lower for 97 [92, 99] % of the models; the
        further T is from 1, the larger the drop: τ(``|log T|``, drop) = +0.43 [+0.33, +0.53]."
    """
    from calstudy import report

    check_columns(effect, ["group", "change", "change_p_holm", "changed", "lowered"], "effect")
    if effect.empty:
        return ["No group has enough models to compare before and after scaling."]
    by_group = temperatures.set_index("group") if len(temperatures) else None
    sentences = []
    for _, r in effect.iterrows():
        text = f"**{r['group']}**: "
        if by_group is not None and r["group"] in by_group.index:
            t = by_group.loc[r["group"]]
            state = ("miscalibrated before scaling" if t["median_abs_shift"] > t_tol
                     else "close to calibrated before scaling")
            text += (f"median T {report.fixed(t['median_t'], 3, signed=False)} (median |T − 1| "
                     f"{report.fixed(t['median_abs_shift'], 3, signed=False)}, "
                     f"{'above' if t['median_abs_shift'] > t_tol else 'within'} {t_tol}: "
                     f"{state}); ")
        text += (f"scaling {CHANGED_WORDS[r['changed']]} {metric} network by network: median "
                 "change "
                 f"{ci_words(r, 'change', scale=100)} pp (Holm p "
                 f"{report.pvalue(r['change_p_holm'])}), lower for "
                 f"{share_words(r, 'lowered')} of the models")
        if by_group is not None and r["group"] in by_group.index:
            t = by_group.loc[r["group"]]
            text += ("; the further T is from 1, " + {
                1: "the larger the drop", -1: "the smaller the drop",
                0: "no larger drop is detected"}[t["tracks"]]
                + f": τ(|log T|, drop) = {ci_words(t, 'tau')}")  # fmt: skip
        sentences.append(text + ".")
    return sentences


def accuracy_paper_sentences(
    labelled: pd.DataFrame,
    taus: pd.DataFrame,
    shape: pd.DataFrame,
    column: str,
    *,
    paper_range_value: tuple[float, float],
    reference: str,
    threshold: float = 0.9,
    acc: str = "acc",
) -> list[str]:
    """The paper's RQ v findings beside this store's reference group, in words.

    The paper found no monotone relation over all CIFAR-10 TSS models, and that those above 90 %
    accuracy have ECE between 3.8 % and 6.8 %, falling as accuracy rises. Stated here: the range of
    ``column`` over the reference group's models at or above ``threshold`` accuracy, and where the
    paper's range lies against it (:func:`~calstudy.questions.versus_paper.range_position`), or that
    no model reaches the threshold; the range over the group's top models and the direction of
    τ(acc, column) among them; and, over all the group's models, τ(acc, column), whether the top
    models and the rest differ and where the LOWESS curve peaks.

    Parameters
    ----------
    labelled : DataFrame
        :func:`label_top`'s output.
    taus : DataFrame
        :func:`accuracy_taus`' output.
    shape : DataFrame
        :func:`top_rest_contrast`'s output for ``column``.
    column : str
        The calibration column (e.g. ``pre_ECE_15``).
    paper_range_value : (float, float)
        The paper's range as fractions (:func:`~calstudy.questions.versus_paper.paper_range` of its
        quote).
    reference : str
        The group compared (:func:`~calstudy.questions.groups.group_label`), e.g. ``"TSS ·
        cifar10"``.
    threshold : float, default=0.9
        The paper's accuracy threshold.
    acc : str, default="acc"
        Accuracy column.

    Returns
    -------
    list of str
    """
    from calstudy import report

    part = labelled[labelled["group"] == reference].dropna(subset=[acc, column])
    if part.empty:
        return [f"This store has no group {reference!r} with enough models to set beside the "
                "paper."]
    paper = f"{report.pct(paper_range_value[0])} – {report.pct(paper_range_value[1])}"
    above = part[part[acc] >= threshold]
    if len(above) >= 3:
        low, high = above[column].min(), above[column].max()
        where = range_position(paper_range_value, low, high)
        first = (f"In {reference}, {report.plural(len(above), 'model')} reach "
                 f"{report.pct(threshold, 0)} accuracy; their {prose_name(column)} ranges (min – max) over "
                 f"{report.pct(low)} – {report.pct(high)}, and the paper's {paper} "
                 f"{position_phrase(where)} that range.")
    else:
        first = (f"In {reference}, {report.plural(len(above), 'model')} reach "
                 f"{report.pct(threshold, 0)} accuracy (the best: {report.pct(part[acc].max())}), "
                 f"too few to set beside the paper's range of {paper} above that accuracy.")
    top = part[part["top"]]
    tau = taus[(taus["group"] == reference) & (taus["models"] == "top")
               & (taus["metric"] == column)]  # fmt: skip
    second = (f"The group's {report.plural(len(top), 'top model')} (accuracy ≥ "
              f"{report.pct(top[acc].min())}) range (min – max) over "
              f"{report.pct(top[column].min())} – "
              f"{report.pct(top[column].max())}")
    if len(tau):
        r = tau.iloc[0]
        verdict = {1: "rises with accuracy", -1: "falls as accuracy rises, as in the paper",
                   0: "shows no detectable relation to accuracy (the paper: it falls)"}
        second += (f"; among them {prose_name(column)} {verdict[r['relation']]}: "
                   f"{report.tau(r, symbol='τ(acc, ·)')}, Holm p {report.pvalue(r['p_holm'])}")
    sentences = [first, second + "."]
    every = taus[(taus["group"] == reference) & (taus["models"] == "all")
                 & (taus["metric"] == column)]  # fmt: skip
    bend = shape[shape["group"] == reference]
    if len(every) and len(bend):
        r, b = every.iloc[0], bend.iloc[0]
        sentences.append(
            f"Over all its models, {report.tau(r, symbol='τ(acc, ·)')} (Holm p "
            f"{report.pvalue(r['p_holm'])}): {_RELATION_WORDS[r['relation']]}; a change of the "
            f"relation between the top models and the rest is "
            f"{'shown' if b['differs'] else 'not shown'}, and the LOWESS curve peaks "
            f"{'inside the accuracy range' if b['peak_inside'] else 'at an end of it'} (the "
            "paper: no monotone relation over all models)."
        )
    return sentences


def accuracy_summary(
    taus: pd.DataFrame,
    shape: pd.DataFrame,
    effect: pd.DataFrame,
    *,
    pre: str,
    post: str,
    metric: str = "ECE",
) -> list[str]:
    """The RQ v findings of a run, one line per question, naming the groups of each verdict.

    Parameters
    ----------
    taus, shape, effect : DataFrame
        Outputs of :func:`accuracy_taus`, :func:`top_rest_contrast` and
        :func:`~calstudy.questions.posthoc.scaling_effect`.
    pre, post : str
        The metric's columns before and after temperature scaling.
    metric : str, default="ECE"
        How the lines name the metric.

    Returns
    -------
    list of str
    """
    words = {1: "rises with accuracy", -1: "falls as accuracy rises", 0: "shows no relation"}

    def line(models: str, column: str, lead: str) -> str:
        rows = taus[(taus["models"] == models) & (taus["metric"] == column)]
        if rows.empty:
            return f"{lead}: no group has enough models."
        return f"{lead}, {prose_name(column, stage=False)} " + "; ".join(
            verdict_groups(rows["group"], rows["relation"], words)) + " (Holm-corrected)."

    lines = [
        line("all", pre, "Before temperature scaling, over all models"),
        line("all", post, "After temperature scaling, over all models"),
        line("top", pre, "Among the most accurate models, before scaling"),
    ]
    if len(shape):
        lines.append("Between the top models and the rest, τ(acc, ·) " + "; ".join(
            verdict_groups(shape["group"], shape["differs"] != 0,
                           {True: "differs", False: "is not shown to differ"})) + ".")
    if len(effect):
        lines.append("Temperature scaling " + "; ".join(verdict_groups(
            effect["group"], effect["changed"],
            {k: f"{v} {metric}" for k, v in CHANGED_WORDS.items()})) + ", network by network.")
    return lines
