"""RQ iv: post-hoc calibration. Does the ranking survive scaling, who gains, the temperatures,
other post-hoc methods; the tables and their sentences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calstudy._checks import check_columns, check_nonnegative_int, check_positive
from calstudy.catalogue import prose_name
from calstudy.differences import paired_difference, tau_difference, wilson_ci
from calstudy.questions.groups import GROUP_KEYS, group_parts, group_table, split_groups
from calstudy.questions.verdicts import (
    CHANGED_WORDS,
    ci_words,
    interval_sign,
    share_words,
    verdict_groups,
)
from calstudy.stats import correct_pvalues, kendall_ci

__all__ = [
    "KEPT_WORDS",
    "gain_driver_sentences",
    "gain_drivers",
    "posthoc_scores",
    "posthoc_sentences",
    "posthoc_store_sentence",
    "posthoc_tests",
    "posthoc_wins",
    "scaling_answer",
    "scaling_effect",
    "scaling_effect_findings",
    "scaling_effect_sentences",
    "scaling_effect_view",
    "scaling_summary",
    "temperature_sentences",
    "temperature_summary",
    "temperature_view",
]


# ================================================================================================
# RQ iv: post-hoc calibration (does the ranking survive scaling, who gains, the temperatures,
# other post-hoc methods)
# ================================================================================================


def posthoc_store_sentence(df: pd.DataFrame, pre: str, post: str, *, min_rows: int = 3) -> str:
    """What the RQ iv chapter compares, in words: the networks per group, their median accuracy,
    the two columns, the fitted temperatures, and the groups too small to analyse.

    Parameters
    ----------
    df : DataFrame
        One row per network, with ``group`` (:func:`~calstudy.questions.groups.group_label`),
        ``acc`` and ``temperature``.
    pre, post : str
        The metric's column before and after post-hoc calibration.
    min_rows : int, default=3
        Fewest networks a group needs (at least 3), as in :func:`scaling_effect`.

    Returns
    -------
    str
        E.g. "This store: 340 networks in 4 groups (SSS · cifar10: 48, …), median accuracy
        71.2 %; the chapter compares 15-bin ECE before scaling with 15-bin ECE after scaling.
        340 networks carry a fitted temperature. "; groups left out are named last.
    """
    from calstudy import report

    check_columns(df, ["group", "acc", "temperature"])
    needed = max(3, check_nonnegative_int(min_rows, "min_rows"))
    sizes = df["group"].value_counts().sort_index()
    small = sizes[sizes < needed]
    temperatures = int(df["temperature"].notna().sum())
    return (
        f"This store: {report.plural(len(df), 'network')} in {report.plural(len(sizes), 'group')} "
        f"({report.join(f'{g}: {n:,}' for g, n in sizes.items())}), median accuracy "
        f"{report.pct(df['acc'].median())}; the chapter compares {prose_name(pre)} with "
        f"{prose_name(post)}. "
        + (f"{temperatures:,} networks carry a fitted temperature. " if temperatures
           else "It records no fitted temperatures. ")
        + (f"Left out for having fewer than {needed} networks: {report.join(small.index)}."
           if len(small) else "")
    )  # fmt: skip


def scaling_effect(
    df: pd.DataFrame,
    pre: str,
    post: str,
    *,
    by: Sequence[str] = GROUP_KEYS,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    min_rows: int = 3,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""What post-hoc calibration does to a metric, per group: the ranking and the values.

    For the networks of each group (complete in ``pre`` and ``post``):

    - ``tau``: Kendall τ-b between ``pre`` and ``post`` with its bootstrap interval
      (:func:`~calstudy.stats.kendall_ci`): does the ranking survive scaling?
    - ``change``: the median paired change :math:`\operatorname{median}_i (m^\text{post}_i -
      m^\text{pre}_i)` with its bootstrap interval and the Wilcoxon signed-rank p-value
      (:func:`~calstudy.differences.paired_difference`), Holm-corrected over the groups
      (``change_p_holm``);
    - ``lowered``: the share of networks with :math:`m^\text{post} < m^\text{pre}` with its
      Wilson interval (:func:`~calstudy.differences.wilson_ci`).

    Two verdicts read the intervals: ``kept`` is 2 where τ's interval lies above 0.5 (the ranking
    largely survives), 1 above 0, -1 below 0, 0 where it contains 0 (the ranking is reshuffled);
    ``changed`` is :func:`~calstudy.questions.verdicts.interval_sign` of the change with its Holm p
    (-1: scaling lowered the metric).

    Parameters
    ----------
    df : DataFrame
        Calibration dataset, one row per network.
    pre, post : str
        The metric's column before and after post-hoc calibration (``"pre_ECE_15"``,
        ``"post_ECE_15"``).
    by : sequence of str, default=("space", "dataset")
        Columns whose values define the groups.
    n_boot, level, seed
        As in :func:`~calstudy.stats.kendall_ci`.
    min_rows : int, default=3
        Groups with fewer complete rows (or fewer than 3) are left out and listed in
        ``attrs["skipped"]``.
    alpha : float, default=0.05
        Significance level of the verdicts.

    Returns
    -------
    DataFrame
        One row per group: ``*by, group`` (:func:`~calstudy.questions.groups.group_label`), ``n,
        median_pre, median_post, tau, tau_low, tau_high, tau_p, change, change_low, change_high,
        change_p, change_p_holm, lowered, lowered_low, lowered_high, kept, changed``.

    Examples
    --------
    >>> d = pd.DataFrame({"g": ["a"] * 6, "pre": [6, 5, 4, 3, 2, 1.0],
    ...                   "post": [3, 2, 1, 0, 0.5, -1]})
    >>> r = scaling_effect(d, "pre", "post", by=["g"], n_boot=50).iloc[0]
    >>> float(r["change"]), float(r["lowered"]), int(r["kept"])
    (-3.0, 1.0, 1)
    """
    parts, skipped = group_parts(df, by, [pre, post], min_rows)
    rows = []
    for key, part in parts:
        kept = kendall_ci(part[pre], part[post], n_boot=n_boot, level=level, seed=seed)
        change = paired_difference(part[post], part[pre], n_boot=n_boot, level=level, seed=seed)
        lowered = wilson_ci(int((part[post] < part[pre]).sum()), len(part), level=level)
        rows.append(
            {**key, "n": len(part), "median_pre": float(part[pre].median()),
             "median_post": float(part[post].median()), "tau": kept.tau, "tau_low": kept.low,
             "tau_high": kept.high, "tau_p": kept.p_value, "change": change.estimate,
             "change_low": change.low, "change_high": change.high, "change_p": change.p_value,
             "lowered": lowered[0], "lowered_low": lowered[1], "lowered_high": lowered[2]}
        )
    columns = ["n", "median_pre", "median_post", "tau", "tau_low", "tau_high", "tau_p", "change",
               "change_low", "change_high", "change_p", "change_p_holm", "lowered",
               "lowered_low", "lowered_high"]
    table = group_table(rows, by, columns, skipped)
    table["change_p_holm"] = correct_pvalues(table["change_p"], method="holm")
    table["kept"] = interval_sign(table["tau_low"], table["tau_high"], alpha=alpha) + (
        table["tau_low"] > 0.5
    ).astype(int)
    table["changed"] = interval_sign(
        table["change_low"], table["change_high"], table["change_p_holm"], alpha=alpha
    )
    return table


def gain_drivers(
    df: pd.DataFrame,
    pre: str,
    post: str,
    *,
    acc: str = "acc",
    by: Sequence[str] = GROUP_KEYS,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    min_rows: int = 3,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""Who gains most from post-hoc calibration: τ of the change with miscalibration and accuracy.

    With :math:`\Delta_i = m^\text{post}_i - m^\text{pre}_i` (negative: scaling helped), per
    group: :math:`\tau(m^\text{pre}, \Delta)` and :math:`\tau(\mathrm{acc}, \Delta)` with their
    bootstrap intervals, and the difference of their strengths
    :math:`|\tau(m^\text{pre}, \Delta)| - |\tau(\mathrm{acc}, \Delta)|` with a paired
    bootstrap interval and p-value (:func:`~calstudy.differences.tau_difference`, each τ
    oriented by the sign of its estimate, so that a strong relation of either sign counts as
    strong). :math:`\Delta` contains :math:`-m^\text{pre}`, so
    :math:`\tau(m^\text{pre}, \Delta)` leans negative by construction. ``follows`` is
    :func:`~calstudy.questions.verdicts.interval_sign` of the difference's interval (1: the gain
    follows miscalibration more than accuracy, -1: accuracy more, 0: neither shown).

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    pre, post : str
        The metric's column before and after post-hoc calibration.
    acc : str, default="acc"
        Accuracy column.
    by, n_boot, level, seed, min_rows, alpha
        As in :func:`scaling_effect`.

    Returns
    -------
    DataFrame
        One row per group: ``*by, group, n, tau_pre, tau_pre_low, tau_pre_high, tau_pre_p,
        tau_acc, tau_acc_low, tau_acc_high, tau_acc_p, gap, gap_low, gap_high, gap_p, follows``.
    """
    parts, skipped = group_parts(df, by, [pre, post, acc], min_rows)
    rows = []
    for key, part in parts:
        delta = part[post] - part[pre]
        row: dict[str, Any] = {**key, "n": len(part)}
        for name, x in (("tau_pre", part[pre]), ("tau_acc", part[acc])):
            r = kendall_ci(x, delta, n_boot=n_boot, level=level, seed=seed)
            row |= {name: r.tau, f"{name}_low": r.low, f"{name}_high": r.high,
                    f"{name}_p": r.p_value}
        # Orient each τ by its estimate's sign: the difference is then one of strengths.
        s_pre, s_acc = (1.0 if row[name] >= 0 or np.isnan(row[name]) else -1.0
                        for name in ("tau_pre", "tau_acc"))  # fmt: skip
        gap = tau_difference(s_pre * part[pre], delta, s_acc * part[acc], delta, n_boot=n_boot,
                             level=level, seed=seed)  # fmt: skip
        rows.append(row | {"gap": gap.estimate, "gap_low": gap.low, "gap_high": gap.high,
                           "gap_p": gap.p_value})
    columns = ["n", "tau_pre", "tau_pre_low", "tau_pre_high", "tau_pre_p", "tau_acc",
               "tau_acc_low", "tau_acc_high", "tau_acc_p", "gap", "gap_low", "gap_high", "gap_p"]
    table = group_table(rows, by, columns, skipped)
    table["follows"] = interval_sign(table["gap_low"], table["gap_high"], alpha=alpha)
    return table


def temperature_summary(
    df: pd.DataFrame,
    against: str,
    *,
    temperature: str = "temperature",
    by: Sequence[str] = GROUP_KEYS,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    min_rows: int = 3,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""The fitted temperatures of each group, and whether the correction tracks ``against``.

    :math:`T > 1` softens an overconfident network, :math:`T < 1` sharpens an underconfident one.
    Per group: median and quartiles of :math:`T`; the median of :math:`T - 1` with its bootstrap
    interval and Wilcoxon p-value (:func:`~calstudy.differences.paired_difference` against 1); the
    median of :math:`|T - 1|`; the share with :math:`T > 1` with its Wilson interval; and
    :math:`\tau(|\log T|, \text{against})`, the size of the correction against, e.g., the
    pre-scaling ECE (RQ iv) or the drop in ECE (RQ v), with its bootstrap interval.

    Verdicts (:func:`~calstudy.questions.verdicts.interval_sign`): ``kind`` is 1 where the share
    with :math:`T > 1` is above one half (mostly overconfident), -1 below (mostly underconfident), 0
    neither; ``shifted`` the direction of :math:`T - 1` (with its p-value); ``tracks`` that of τ.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    against : str
        Column compared with :math:`|\log T|`.
    temperature : str, default="temperature"
        Column of the fitted temperatures (positive).
    by, n_boot, level, seed, min_rows, alpha
        As in :func:`scaling_effect`.

    Returns
    -------
    DataFrame
        One row per group: ``*by, group, n, median_t, t_q25, t_q75, shift, shift_low,
        shift_high, shift_p, median_abs_shift, over, over_low, over_high, tau, tau_low,
        tau_high, tau_p, kind, shifted, tracks``. Empty (with these columns) when no group has
        ``min_rows`` temperatures (the paper's released data has none).

    Raises
    ------
    ValueError
        If a temperature is not positive.
    """
    parts, skipped = group_parts(df, by, [temperature, against], min_rows)
    rows = []
    for key, part in parts:
        t = part[temperature].astype(float)
        if (t <= 0).any():
            raise ValueError(f"Expected `{temperature}` to be positive, got {t.min()!r}.")
        shift = paired_difference(t, 1.0, n_boot=n_boot, level=level, seed=seed)
        over = wilson_ci(int((t > 1).sum()), len(t), level=level)
        r = kendall_ci(np.abs(np.log(t)), part[against], n_boot=n_boot, level=level, seed=seed)
        rows.append(
            {**key, "n": len(part), "median_t": float(t.median()), "t_q25": float(t.quantile(0.25)),
             "t_q75": float(t.quantile(0.75)), "shift": shift.estimate, "shift_low": shift.low,
             "shift_high": shift.high, "shift_p": shift.p_value,
             "median_abs_shift": float((t - 1).abs().median()), "over": over[0],
             "over_low": over[1], "over_high": over[2], "tau": r.tau, "tau_low": r.low,
             "tau_high": r.high, "tau_p": r.p_value}
        )
    columns = ["n", "median_t", "t_q25", "t_q75", "shift", "shift_low", "shift_high", "shift_p",
               "median_abs_shift", "over", "over_low", "over_high", "tau", "tau_low", "tau_high",
               "tau_p"]
    table = group_table(rows, by, columns, skipped)
    table["kind"] = interval_sign(table["over_low"] - 0.5, table["over_high"] - 0.5, alpha=alpha)
    table["shifted"] = interval_sign(
        table["shift_low"], table["shift_high"], table["shift_p"], alpha=alpha
    )
    table["tracks"] = interval_sign(table["tau_low"], table["tau_high"], alpha=alpha)
    return table


def posthoc_scores(
    df: pd.DataFrame, methods: Sequence[str], score: str, *, min_rows: int = 3
) -> pd.DataFrame:
    """One score of every post-hoc method side by side: ``none``, ``ts``, then ``methods``.

    The store names a score after each method: ``pre_{score}`` without post-hoc calibration
    (``none``), ``post_{score}`` after temperature scaling (``ts``) and ``{method}_{score}``
    after the others (``vs_ECE_15``, ``hist_NLL``, …). A method whose column is absent or holds
    fewer than ``min_rows`` values is left out; infinite values (an NLL of a zero probability)
    become NaN.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    methods : sequence of str
        Post-hoc methods besides temperature scaling (keys of
        :data:`calstudy.calibrate.POSTHOC_METHODS`).
    score : str
        Score suffix, e.g. ``"ECE_15"`` or ``"NLL"``.
    min_rows : int, default=3
        Fewest values a method needs.

    Returns
    -------
    DataFrame
        Index of ``df``, one column per method found.

    Examples
    --------
    >>> d = pd.DataFrame({"pre_NLL": [1.0, 2, 3], "post_NLL": [0.5, 1, 2], "vs_NLL": [np.nan] * 3})
    >>> list(posthoc_scores(d, ["vs", "iso"], "NLL").columns)
    ['none', 'ts']
    """
    columns = {"none": f"pre_{score}", "ts": f"post_{score}"} | {m: f"{m}_{score}" for m in methods}
    found = {k: c for k, c in columns.items()
             if c in df.columns and df[c].notna().sum() >= min_rows}  # fmt: skip
    scores = df[list(found.values())].set_axis(list(found), axis=1).astype(float)
    return scores.replace([np.inf, -np.inf], np.nan)


def posthoc_wins(
    df: pd.DataFrame,
    methods: Sequence[str],
    score: str = "ECE_15",
    *,
    by: Sequence[str] = GROUP_KEYS,
    level: float = 0.95,
    min_rows: int = 3,
) -> pd.DataFrame:
    """Which post-hoc method gives each network the lowest score, and the median gain of each.

    Per group, over the networks with a value for temperature scaling and every other method
    found (:func:`posthoc_scores`): the share of networks on which each method (``ts`` and
    ``methods``) has the lowest ``score`` with its Wilson interval, and each method's median
    gain :math:`\\operatorname{median}_i(s^\\text{none}_i - s^\\text{method}_i)` (positive: the
    method helped). Groups where no method besides ``ts`` was run are left out.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    methods : sequence of str
        Post-hoc methods compared with temperature scaling.
    score : str, default="ECE_15"
        Score suffix (lower is better).
    by, level, min_rows
        As in :func:`scaling_effect`.

    Returns
    -------
    DataFrame
        One row per group and method: ``*by, group, method, n, wins, wins_low, wins_high,
        median_gain``. Within a group ``wins`` sums to 1 (ties go to the first method).
    """
    rows = []
    for key, part in split_groups(df, by):
        scores = posthoc_scores(part, methods, score, min_rows=min_rows)
        contenders = scores[[c for c in scores.columns if c != "none"]].dropna()
        if len(contenders.columns) < 2 or "ts" not in contenders or len(contenders) < min_rows:
            continue
        winner = contenders.idxmin(axis=1)
        for method in contenders.columns:
            wins = wilson_ci(int((winner == method).sum()), len(winner), level=level)
            gain = (scores["none"] - scores[method]).median() if "none" in scores else np.nan
            rows.append({**key, "method": method, "n": len(contenders), "wins": wins[0],
                         "wins_low": wins[1], "wins_high": wins[2], "median_gain": float(gain)})
    columns = ["method", "n", "wins", "wins_low", "wins_high", "median_gain"]
    return group_table(rows, by, columns, [])


def posthoc_tests(
    df: pd.DataFrame,
    methods: Sequence[str],
    scores: Sequence[str] = ("ECE_15", "NLL"),
    *,
    by: Sequence[str] = GROUP_KEYS,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    min_rows: int = 3,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""Each post-hoc method against temperature scaling, paired by network.

    For every group, method of ``methods`` found in the store (:func:`posthoc_scores`) and score:
    the median paired difference :math:`\operatorname{median}_i(s^\text{method}_i - s^\text{ts}_i)`
    (negative: the method beat temperature scaling) with its bootstrap interval and Wilcoxon p-value
    (:func:`~calstudy.differences.paired_difference`), the share of networks on which the method
    beat temperature scaling with its Wilson interval, and the p-values Holm-corrected over the
    whole table (``p_holm``). ``versus`` is :func:`~calstudy.questions.verdicts.interval_sign` of
    the difference with its Holm p: -1 better than temperature scaling, 1 worse, 0 not
    distinguishable.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    methods : sequence of str
        Post-hoc methods compared with temperature scaling.
    scores : sequence of str, default=("ECE_15", "NLL")
        Score suffixes (lower is better).
    by, n_boot, level, seed, min_rows, alpha
        As in :func:`scaling_effect`.

    Returns
    -------
    DataFrame
        One row per group, method and score: ``*by, group, method, score, n, median_diff, low,
        high, beats, beats_low, beats_high, p, p_holm, versus``.
    """
    rows = []
    for key, part in split_groups(df, by):
        for score in scores:
            table = posthoc_scores(part, methods, score, min_rows=min_rows)
            for method in [m for m in methods if m in table.columns and "ts" in table.columns]:
                pair = table[[method, "ts"]].dropna()
                if len(pair) < max(3, min_rows):
                    continue
                r = paired_difference(pair[method], pair["ts"], n_boot=n_boot, level=level,
                                      seed=seed)
                beats = wilson_ci(int((pair[method] < pair["ts"]).sum()), len(pair), level=level)
                rows.append({**key, "method": method, "score": score, "n": r.n,
                             "median_diff": r.estimate, "low": r.low, "high": r.high,
                             "beats": beats[0], "beats_low": beats[1], "beats_high": beats[2],
                             "p": r.p_value})
    columns = ["method", "score", "n", "median_diff", "low", "high", "beats", "beats_low",
               "beats_high", "p", "p_holm"]
    table = group_table(rows, by, columns, [])
    table["p_holm"] = correct_pvalues(table["p"], method="holm")
    table["versus"] = interval_sign(table["low"], table["high"], table["p_holm"], alpha=alpha)
    return table


# RQ iv, in words: the tables above as sentences (calstudy.report's formats), so that the
# chapter run on any store states that store's findings.


#: Words of :func:`scaling_effect`'s ``kept`` verdict.
KEPT_WORDS: dict[int, str] = {
    2: "the ranking largely survives scaling",
    1: "the ranking partly survives scaling",
    0: "no rank agreement is detected (the interval contains 0): scaling reshuffles the ranking",
    -1: "scaling partly reverses the ranking",
}


_KEPT_SHORT = {
    2: "largely survives scaling",
    1: "partly survives scaling",
    0: "is reshuffled by scaling (no rank agreement detected)",
    -1: "is partly reversed by scaling",
}


_FOLLOWS_WORDS = {
    1: "follows its miscalibration more than its accuracy",
    -1: "follows its accuracy more than its miscalibration",
    0: "cannot be said to follow its miscalibration or its accuracy more",
}


_KIND_WORDS = {1: "mostly overconfident", -1: "mostly underconfident", 0: "neither kind dominates"}


_SHIFTED_WORDS = {1: "above 1", -1: "below 1", 0: "not distinguishable from 1"}


_TRACKS_WORDS = {1: "grows with", -1: "shrinks with", 0: "shows no detectable relation to"}


_VERSUS_WORDS = {
    -1: "better than temperature scaling",
    1: "worse than temperature scaling",
    0: "not distinguishable from temperature scaling",
}


def scaling_effect_sentences(
    effect: pd.DataFrame, *, metric: str = "ECE", decimals: int = 4
) -> list[str]:
    """:func:`scaling_effect`'s table in words, one sentence per group.

    Parameters
    ----------
    effect : DataFrame
        :func:`scaling_effect`'s output.
    metric : str, default="ECE"
        How the sentences name the metric.
    decimals : int, default=4
        Decimals of the median change (2 for an ECE in percentage points).

    Returns
    -------
    list of str
        E.g. "**TSS · cifar10** (n = 122): τ(pre, post) = +0.00 [-0.13, +0.14]: no rank
        agreement is detected (…). Network by network, scaling lowered ECE: median change
        -0.0098 [-0.0113, -0.0082] (Holm p < 1e-4); it fell for 97 [92, 99] % of the networks."
    """
    from calstudy import report

    check_columns(effect, ["group", "n", "tau", "kept", "change", "changed", "lowered"], "effect")
    return [
        f"**{r['group']}** (n = {r['n']:,}): τ(pre, post) = {ci_words(r, 'tau')}: "
        f"{KEPT_WORDS[r['kept']]}. Network by network, scaling {CHANGED_WORDS[r['changed']]} "
        f"{metric}: median change {ci_words(r, 'change', decimals)} (Holm p "
        f"{report.pvalue(r['change_p_holm'])}); it fell for {share_words(r, 'lowered')} of the "
        "networks."
        for _, r in effect.iterrows()
    ]


def scaling_effect_findings(effect: pd.DataFrame, pre: str, *, unit: float = 1) -> list[str]:
    """:func:`scaling_effect_sentences` in the chapter's units.

    Parameters
    ----------
    effect : DataFrame
        :func:`scaling_effect`'s output.
    pre : str
        The metric's column before scaling; the sentences name it by
        :func:`~calstudy.catalogue.prose_name` without the stage.
    unit : float, default=1
        Factor of the changes: 100 writes them in percentage points with 2 decimals (an ECE),
        1 as fractions with 4 decimals.

    Returns
    -------
    list of str
    """
    check_positive(unit, "unit")
    in_units = {c: unit * effect[c] for c in ("change", "change_low", "change_high")}
    metric = prose_name(pre, stage=False) + (" (in percentage points)" if unit > 1 else "")
    return scaling_effect_sentences(effect.assign(**in_units), decimals=2 if unit > 1 else 4,
                                    metric=metric)  # fmt: skip


def scaling_effect_view(
    effect: pd.DataFrame, *, unit: float = 1, alpha: float = 0.05
) -> pd.DataFrame:
    """:func:`scaling_effect`'s table as the chapter shows it, one row per group.

    Parameters
    ----------
    effect : DataFrame
        :func:`scaling_effect`'s output.
    unit : float, default=1
        Factor of the medians and the change (100: an ECE in percent and percentage points).
    alpha : float, default=0.05
        A change whose Holm p-value is below it is marked ``*``.

    Returns
    -------
    DataFrame
        Indexed by group: ``networks``, ``median before``, ``median after`` (formatted), then
        ``τ(before, after)``, ``median change`` and ``share lowered`` with their intervals.
    """
    from calstudy import report

    check_positive(unit, "unit")
    check_columns(effect, ["group", "n", "median_pre", "median_post"], "effect")
    medians = effect.set_index("group")[["n", "median_pre", "median_post"]] * [1, unit, unit]
    medians = medians.set_axis(["networks", "median before", "median after"], axis=1)
    intervals = report.ci_columns(
        effect, index="group", alpha=alpha, scale={"median change": unit}, nowrap=False,
        columns={"τ(before, after)": ("tau", "tau_low", "tau_high"),
                 "median change": ("change", "change_low", "change_high", "change_p_holm"),
                 "share lowered": ("lowered", "lowered_low", "lowered_high")},
    )  # fmt: skip
    return report.format_table(medians).join(intervals)


def scaling_answer(effect: pd.DataFrame, lead: str, *, unit: float = 1) -> str:
    """The RQ iv answer box's text: ``lead``, then per group τ(before, after) and the median
    change with their intervals.

    Parameters
    ----------
    effect : DataFrame
        :func:`scaling_effect`'s output.
    lead : str
        The first sentence (:func:`scaling_summary`'s first line).
    unit : float, default=1
        Factor of the change (100: percentage points, said so).

    Returns
    -------
    str
        E.g. "The ECE ranking … Per group, τ(before, after) and the median change in percentage
        points: TSS · cifar10: τ = +0.41 [+0.30, +0.51], change -0.85 [-0.98, -0.73]."; that no
        group has enough networks when ``effect`` is empty.
    """
    from calstudy import report

    check_positive(unit, "unit")
    if not len(effect):
        return "No group has enough networks."
    check_columns(effect, ["group", "tau", "tau_low", "tau_high", "change", "change_low",
                           "change_high"], "effect")  # fmt: skip
    groups = "; ".join(
        f"{r['group']}: τ = {report.ci(r['tau'], r['tau_low'], r['tau_high'])}, change "
        f"{report.ci(unit * r['change'], unit * r['change_low'], unit * r['change_high'])}"
        for _, r in effect.iterrows()
    )
    points = " in percentage points: " if unit > 1 else ": "
    return f"{lead} Per group, τ(before, after) and the median change{points}{groups}."


def gain_driver_sentences(drivers: pd.DataFrame) -> list[str]:
    """:func:`gain_drivers`' table in words, one sentence per group.

    Returns
    -------
    list of str
        E.g. "**TSS · cifar10**: τ(pre, Δ) = -0.64 [-0.70, -0.57], τ(acc, Δ) = -0.15 [-0.27,
        -0.01], difference of strengths ``|τ(pre, Δ)| − |τ(acc, Δ)|`` +0.49
        [+0.35, +0.66] (p 0.004): how much a network gains follows its miscalibration more than its accuracy."
    """
    from calstudy import report

    check_columns(drivers, ["group", "tau_pre", "tau_acc", "gap", "gap_p", "follows"], "drivers")
    return [
        f"**{r['group']}**: τ(pre, Δ) = {ci_words(r, 'tau_pre')}, τ(acc, Δ) = "
        f"{ci_words(r, 'tau_acc')}, difference of strengths |τ(pre, Δ)| − |τ(acc, Δ)| "
        f"{ci_words(r, 'gap')} "
        f"(p {report.pvalue(r['gap_p'])}): "
        f"how much a network gains {_FOLLOWS_WORDS[r['follows']]}."
        for _, r in drivers.iterrows()
    ]


def temperature_sentences(temperatures: pd.DataFrame, *, against: str) -> list[str]:
    """:func:`temperature_summary`'s table in words, one sentence per group.

    Parameters
    ----------
    temperatures : DataFrame
        :func:`temperature_summary`'s output.
    against : str
        How the sentences name the column :math:`|\\log T|` was compared with.

    Returns
    -------
    list of str
        E.g. "**TSS · cifar10**: T > 1 for 100 [97, 100] % of the networks, mostly
        overconfident; median T 1.094, median T − 1 = +0.094 [+0.092, +0.098], above 1 (Wilcoxon
        p < 1e-4); the size of the correction grows with 15-bin ECE before scaling: τ = +0.53
        [+0.44, +0.62]."
    """
    from calstudy import report

    check_columns(temperatures, ["group", "over", "kind", "median_t", "shift", "shifted",
                                  "shift_p", "tau", "tracks"], "temperatures")
    return [
        f"**{r['group']}**: T > 1 for {share_words(r, 'over')} of the networks, "
        f"{_KIND_WORDS[r['kind']]}; median T {report.fixed(r['median_t'], 3, signed=False)}, "
        f"median T − 1 = {ci_words(r, 'shift', 3)}, {_SHIFTED_WORDS[r['shifted']]} (Wilcoxon p "
        f"{report.pvalue(r['shift_p'])}); the size of the correction "
        f"{_TRACKS_WORDS[r['tracks']]} {against}: τ = {ci_words(r, 'tau')}."
        for _, r in temperatures.iterrows()
    ]


def temperature_view(temperatures: pd.DataFrame, against: str, *, alpha: float = 0.05) -> pd.DataFrame:
    """:func:`temperature_summary`'s table as the chapter shows it, one row per group.

    Parameters
    ----------
    temperatures : DataFrame
        :func:`temperature_summary`'s output.
    against : str
        The column :math:`|\\log T|` was compared with, named in the τ column by
        :func:`~calstudy.catalogue.prose_name`.
    alpha : float, default=0.05
        A median :math:`T - 1` whose Wilcoxon p-value is below it is marked ``*``.

    Returns
    -------
    DataFrame
        Indexed by group: ``share with T > 1``, ``median T − 1`` and
        ``τ(|log T|, <against>)``, each with its interval.
    """
    from calstudy import report

    return report.ci_columns(temperatures, index="group", alpha=alpha, nowrap=False, columns={
        "share with T > 1": ("over", "over_low", "over_high"),
        "median T − 1": ("shift", "shift_low", "shift_high", "shift_p"),
        f"τ(|log T|, {prose_name(against)})": ("tau", "tau_low", "tau_high")})  # fmt: skip


def posthoc_sentences(tests: pd.DataFrame, *, decimals: int = 4) -> list[str]:
    """:func:`posthoc_tests`' verdicts in words, one sentence per method and score.

    ``decimals`` sets the decimals of the median differences (2 for an ECE in percentage
    points).

    Returns
    -------
    list of str
        E.g. "`vs` on NLL: better than temperature scaling in TSS · cifar10 (median difference
        -0.0013 [-0.0023, -0.0008], Holm p < 1e-4, beats it on 70 [61, 77] % of the networks)".
    """
    from calstudy import report

    check_columns(tests, ["group", "method", "score", "median_diff", "low", "high", "p_holm",
                           "beats", "versus"], "tests")
    sentences = []
    for (method, score), rows in tests.groupby(["method", "score"], sort=False):
        labels = [
            f"{r['group']} (median difference "
            f"{ci_words(r, 'median_diff', decimals, low='low', high='high')}, Holm p "
            f"{report.pvalue(r['p_holm'])}, beats it on {share_words(r, 'beats')} of the networks)"
            for _, r in rows.iterrows()
        ]
        phrases = verdict_groups(labels, rows["versus"], _VERSUS_WORDS)
        sentences.append(f"`{method}` on {prose_name(score)}: {'; '.join(phrases)}.")
    return sentences


def scaling_summary(
    effect: pd.DataFrame,
    drivers: pd.DataFrame,
    temperatures: pd.DataFrame,
    tests: pd.DataFrame,
    *,
    metric: str = "ECE",
) -> list[str]:
    """The RQ iv findings of a run, one line per question, naming the groups of each verdict.

    Parameters
    ----------
    effect, drivers, temperatures, tests : DataFrame
        Outputs of :func:`scaling_effect`, :func:`gain_drivers`, :func:`temperature_summary`
        and :func:`posthoc_tests` (the last two may be empty).
    metric : str, default="ECE"
        How the lines name the metric.

    Returns
    -------
    list of str
    """

    def groups(table: pd.DataFrame, verdict: str, words: Mapping[int, str]) -> str:
        return "; ".join(verdict_groups(table["group"], table[verdict], words))

    lines = [
        f"The {metric} ranking {groups(effect, 'kept', _KEPT_SHORT)}.",
        "Network by network, scaling "
        + groups(effect, "changed", {k: f"{v} {metric}" for k, v in CHANGED_WORDS.items()}) + "."
        if len(effect) else f"No group has enough networks to compare {metric} before and after.",
        f"How much a network gains {groups(drivers, 'follows', _FOLLOWS_WORDS)}.",
        f"Fitted temperatures: {groups(temperatures, 'kind', _KIND_WORDS)}."
        if len(temperatures) else "Fitted temperatures: none in this store.",
    ]
    for (method, score), rows in tests.groupby(["method", "score"], sort=False):
        lines.append(f"`{method}` on {prose_name(score)}: {groups(rows, 'versus', _VERSUS_WORDS)}.")
    if tests.empty:
        lines.append("Other post-hoc methods: none in this store.")
    return lines
