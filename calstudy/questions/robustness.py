"""RQ ii: robustness and calibration. τ-b between calibration and corruption, adversarial and
out-of-distribution measures, the top-N selection against the reference study's lowest-N, and
its sentences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pandas as pd

from calstudy._checks import check_columns, check_level, check_positive_int
from calstudy.catalogue import prose_name
from calstudy.differences import tau_difference
from calstudy.questions.groups import group_name, groups_of
from calstudy.selection import (
    columns_with_values,
    count_complete,
    lowest_n,
    population_sizes,
    selection_curve,
    top_n,
)
from calstudy.stats import correct_pvalues, kendall_ci, kendall_tau, tau_table

__all__ = [
    "OOD_COLUMNS",
    "add_corruption_summaries",
    "robustness_beside_paper",
    "robustness_curves",
    "robustness_inventory",
    "robustness_measures",
    "robustness_paper_sentence",
    "robustness_sentence",
    "robustness_taus",
    "selection_sentence",
    "selection_verdict",
    "top_versus_lowest",
]


# ================================================================================================
# RQ ii: robustness and calibration
# ================================================================================================


#: Out-of-distribution AUROC columns: ours (the other dataset of a sweep) and the paper's two.
OOD_COLUMNS: tuple[str, ...] = ("pre_auc_ood", "pre_auc_cifar10c", "pre_auc_svhn")


def add_corruption_summaries(df: pd.DataFrame, *, min_rows: int = 3) -> pd.DataFrame:
    """Add ``mean_corruption_acc`` and ``relative_corruption_acc`` where corruptions were measured.

    ``mean_corruption_acc`` is the mean accuracy over the corruption columns
    (:data:`calstudy.schema.CORRUPTIONS`) that hold at least ``min_rows`` values, NaN for a row
    missing any of them; ``relative_corruption_acc`` divides it by clean accuracy ``acc``, a
    robustness measure with clean accuracy divided out. Without corruption columns the frame is
    returned unchanged (a copy).

    Parameters
    ----------
    df : DataFrame
        Calibration dataset (or a part of it).
    min_rows : int, default=3
        Fewest values a corruption column needs to count as measured.

    Returns
    -------
    DataFrame
        A copy of ``df`` with the two columns added when any corruption was measured.
    """
    from calstudy.schema import CORRUPTIONS

    out = df.copy()
    corruptions = columns_with_values(out, CORRUPTIONS, min_rows)
    if corruptions:
        out["mean_corruption_acc"] = out[corruptions].mean(axis=1, skipna=False)
        out["relative_corruption_acc"] = out["mean_corruption_acc"] / out["acc"]
    return out


def robustness_measures(df: pd.DataFrame, *, min_rows: int = 3) -> dict[str, list[str]]:
    """The robustness columns a store holds, by family (RQ ii).

    Families: ``"reference"`` (clean ``acc`` and ``relative_corruption_acc``), ``"corruption"``
    (accuracy under each corruption, then ``mean_corruption_acc``), ``"attack"`` (accuracy under
    each attack of :data:`calstudy.schema.ATTACK_COLUMNS` at each ε) and ``"ood"`` (AUROC
    columns of :data:`OOD_COLUMNS`). A column counts when it holds at least ``min_rows`` values;
    call :func:`add_corruption_summaries` first for the derived columns.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset (or a part of it).
    min_rows : int, default=3
        Fewest values a column needs.

    Returns
    -------
    dict of str to list of str
        Family → columns present, in schema order; a family without columns maps to ``[]``.
    """
    from calstudy.schema import ATTACK_COLUMNS, CORRUPTIONS

    corruption = columns_with_values(df, [*CORRUPTIONS, "mean_corruption_acc"], min_rows)
    return {
        "reference": columns_with_values(df, ["acc", "relative_corruption_acc"], min_rows),
        "corruption": corruption,
        "attack": columns_with_values(df, ATTACK_COLUMNS, min_rows),
        "ood": columns_with_values(df, OOD_COLUMNS, min_rows),
    }


def robustness_inventory(
    df: pd.DataFrame, *, groups: Sequence[str] = ("space", "dataset"), min_rows: int = 3
) -> pd.DataFrame:
    """How many robustness measures of each family every group holds (RQ ii).

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    groups : sequence of str, default=("space", "dataset")
        Columns defining the groups.
    min_rows : int, default=3
        Fewest values a column needs in a group (see :func:`robustness_measures`).

    Returns
    -------
    DataFrame
        Indexed by ``groups``; columns ``networks`` and one count per family of
        :func:`robustness_measures` (derived corruption summaries included).
    """
    rows = []
    for key, part in groups_of(df, groups):
        found = robustness_measures(add_corruption_summaries(part, min_rows=min_rows),
                                    min_rows=min_rows)
        rows.append([*key, len(part), *(len(ms) for ms in found.values())])
    families = ["reference", "corruption", "attack", "ood"]
    table = pd.DataFrame(rows, columns=[*groups, "networks", *families])
    return table.set_index(list(groups)) if list(groups) else table


def robustness_taus(
    df: pd.DataFrame,
    calibration: str,
    *,
    groups: Sequence[str] = ("space", "dataset"),
    min_rows: int = 3,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """τ-b between a calibration column and every robustness measure, per group (RQ ii).

    In each group (by default each search space and dataset), the measures of
    :func:`robustness_measures` present there (after :func:`add_corruption_summaries`) are each
    correlated with ``calibration`` (:func:`~calstudy.stats.kendall_ci`). The p-values are corrected
    within the group, over all its measures, by Holm (``p_holm``: any false positive) and by
    Benjamini–Hochberg (``p_bh``: the expected share of false positives). A group without measures,
    or with fewer than ``min_rows`` values of ``calibration``, has no rows.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    calibration : str
        Calibration column, e.g. ``"pre_ECE_15"``.
    groups : sequence of str, default=("space", "dataset")
        Columns defining the groups analysed on their own.
    min_rows : int, default=3
        Fewest values a measure (and ``calibration``) needs in a group.
    n_boot, level, seed
        As in :func:`~calstudy.stats.kendall_ci`.

    Returns
    -------
    DataFrame
        Columns ``*groups, family, measure, tau, low, high, p, n, p_holm, p_bh``.
    """
    check_columns(df, [calibration])
    groups = list(groups)
    parts = []
    for key, part in groups_of(df, groups):
        part = add_corruption_summaries(part, min_rows=min_rows)
        if int(part[calibration].notna().sum()) < max(min_rows, 3):
            continue
        families = robustness_measures(part, min_rows=max(min_rows, 3))
        pairs = [(calibration, m) for ms in families.values() for m in ms]
        pairs = [p for p in pairs if count_complete(part, p) >= 3]
        if not pairs:
            continue
        table = tau_table(part, pairs, n_boot=n_boot, level=level, seed=seed)
        family_of = {m: f for f, ms in families.items() for m in ms}
        table.insert(0, "family", [family_of[m] for m in table["y"]])
        for name, value in reversed(list(zip(groups, key, strict=True))):
            table.insert(0, name, value)
        table["p_holm"] = correct_pvalues(table["p"].to_numpy(float), method="holm")
        table["p_bh"] = correct_pvalues(table["p"].to_numpy(float), method="bh")
        parts.append(table.drop(columns="x").rename(columns={"y": "measure"}))
    columns = [*groups, "family", "measure", "tau", "low", "high", "p", "n", "p_holm", "p_bh"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def top_versus_lowest(
    df: pd.DataFrame,
    calibration: str,
    *,
    n: int = 1000,
    by: str = "acc",
    families: Sequence[str] = ("corruption", "attack", "ood"),
    groups: Sequence[str] = ("space", "dataset"),
    min_rows: int = 3,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    method: Literal["auto", "bootstrap", "asymptotic"] = "asymptotic",
) -> pd.DataFrame:
    """τ between calibration and robustness among the N most and the N least accurate (RQ ii).

    The reference study claimed that calibration tracks robustness only among high-accuracy models;
    its code took those models as ``sort_values('acc').head(N)``, the N **least** accurate. For
    every robustness measure of ``families`` in each group this computes τ-b with ``calibration``
    over all networks, among the N most accurate (:func:`~calstudy.selection.top_n`) and among the N
    least accurate (:func:`~calstudy.selection.lowest_n`), each with an interval
    (:func:`~calstudy.stats.kendall_ci`), and the difference τ(top) − τ(lowest) for independent
    samples (:func:`~calstudy.differences.tau_difference` with ``paired=False``: the two selections
    are disjoint). N is ``n``, capped at a quarter of the group's networks complete in ``by`` and
    ``calibration`` so that the two selections never overlap. The p-values of τ(top), τ(lowest) and
    the difference are Holm-corrected within the group, each over its measures. The intervals are
    asymptotic by default: with dozens of measures, Holm needs p-values of the difference below the
    :math:`2/(B + 1)` that a bootstrap of :math:`B` resamples can give (and the asymptotic path
    costs no resampling).

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    calibration : str
        Calibration column.
    n : int, default=1000
        Size of each selection before the cap (the paper's N).
    by : str, default="acc"
        Ranking column; higher is better.
    families : sequence of str, default=("corruption", "attack", "ood")
        Families of :func:`robustness_measures` compared.
    groups, min_rows, n_boot, level, seed
        As in :func:`robustness_taus`.
    method : {"auto", "bootstrap", "asymptotic"}, default="asymptotic"
        Interval method of the three (:func:`~calstudy.stats.kendall_ci`,
        :func:`~calstudy.differences.tau_difference`).

    Returns
    -------
    DataFrame
        Columns ``*groups, family, measure, networks`` (complete in ``calibration`` and
        ``by``), ``n_top, tau_all, tau_top, top_low, top_high,
        p_top_holm, tau_lowest, lowest_low, lowest_high, p_lowest_holm, difference, diff_low,
        diff_high, p_holm``; groups with fewer than 3 networks per selection have no rows.
    """
    n = check_positive_int(n, "n")
    check_columns(df, [calibration, by])
    groups = list(groups)
    opts = {"n_boot": n_boot, "level": level, "seed": seed}
    parts = []
    for key, part in groups_of(df, groups):
        part = add_corruption_summaries(part, min_rows=min_rows).dropna(subset=[calibration, by])
        size = min(n, len(part) // 4)
        found = robustness_measures(part, min_rows=max(min_rows, 3))
        measures = [(f, m) for f in families for m in found.get(f, [])]
        if size < 3 or not measures:
            continue
        top, low = top_n(part, size, by=by), lowest_n(part, size, by=by)
        rows = []
        for family, m in measures:
            if min(count_complete(chosen, [calibration, m]) for chosen in (top, low)) < 3:
                continue
            a = kendall_ci(top[calibration], top[m], method=method, **opts)
            b = kendall_ci(low[calibration], low[m], method=method, **opts)
            d = tau_difference(top[calibration], top[m], low[calibration], low[m], paired=False,
                               method=method, **opts)
            rows.append({
                **dict(zip(groups, key, strict=True)), "family": family, "measure": m,
                "networks": len(part), "n_top": size,
                "tau_all": kendall_tau(part[calibration], part[m]),
                "tau_top": a.tau, "top_low": a.low, "top_high": a.high, "p_top": a.p_value,
                "tau_lowest": b.tau, "lowest_low": b.low, "lowest_high": b.high,
                "p_lowest": b.p_value, "difference": d.estimate, "diff_low": d.low,
                "diff_high": d.high, "p": d.p_value,
            })
        if rows:
            table = pd.DataFrame(rows)
            for p in ("p_top", "p_lowest", "p"):
                table[f"{p}_holm"] = correct_pvalues(table[p].to_numpy(float), method="holm")
            parts.append(table.drop(columns=["p_top", "p_lowest", "p"]))
    columns = [*groups, "family", "measure", "networks", "n_top", "tau_all", "tau_top", "top_low",
               "top_high", "p_top_holm", "tau_lowest", "lowest_low", "lowest_high",
               "p_lowest_holm", "difference", "diff_low", "diff_high", "p_holm"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def selection_verdict(contrast: pd.DataFrame, *, alpha: float = 0.05) -> dict[str, Any]:
    """Which selection shows calibration tracking robustness: the most or the least accurate?

    Counts, over the measures of one group of :func:`top_versus_lowest`, how many track
    calibration among the N most accurate (τ > 0, Holm p < ``alpha``), among the N least
    accurate, and how many differ significantly between the two (Holm p < ``alpha``) in each
    direction. The verdict is ``"most accurate"`` when more measures have a significantly
    higher τ among the most accurate than among the least accurate and at least one tracks
    calibration there (the reference study's claim), ``"least accurate"`` in the mirror case
    (the population its code selected), else ``"neither"``.

    Parameters
    ----------
    contrast : DataFrame
        Rows of :func:`top_versus_lowest` for one group.
    alpha : float, default=0.05
        Family-wise error rate.

    Returns
    -------
    dict
        ``measures``, ``n_top``, ``track_top``, ``track_lowest``, ``higher_top``,
        ``higher_lowest`` (counts) and ``verdict``.

    Examples
    --------
    >>> c = pd.DataFrame({"n_top": [30, 30], "tau_top": [0.5, 0.4], "p_top_holm": [0.001, 0.2],
    ...                   "tau_lowest": [0.0, 0.1], "p_lowest_holm": [0.9, 0.9],
    ...                   "difference": [0.5, 0.3], "p_holm": [0.01, 0.3]})
    >>> selection_verdict(c)["verdict"]
    'most accurate'
    """
    check_level(alpha, "alpha")
    c = contrast
    counts = {
        "measures": len(c),
        "n_top": int(c["n_top"].max()) if len(c) else 0,
        "track_top": int(((c["tau_top"] > 0) & (c["p_top_holm"] < alpha)).sum()),
        "track_lowest": int(((c["tau_lowest"] > 0) & (c["p_lowest_holm"] < alpha)).sum()),
        "higher_top": int(((c["difference"] > 0) & (c["p_holm"] < alpha)).sum()),
        "higher_lowest": int(((c["difference"] < 0) & (c["p_holm"] < alpha)).sum()),
    }
    if counts["higher_top"] > counts["higher_lowest"] and counts["track_top"] > 0:
        verdict = "most accurate"
    elif counts["higher_lowest"] > counts["higher_top"] and counts["track_lowest"] > 0:
        verdict = "least accurate"
    else:
        verdict = "neither"
    return {**counts, "verdict": verdict}


# RQ ii, in words: the tables above as sentences (calstudy.report's formats), so that the
# chapter run on any store states that store's findings.


def _tau_words(r: Any) -> str:
    from calstudy import report

    return report.ci(r["tau"], r["low"], r["high"])


def robustness_sentence(rows: pd.DataFrame, *, alpha: float = 0.05, brief: bool = False) -> str:
    """One group's τ between calibration and robustness in words (RQ ii).

    Parameters
    ----------
    rows : DataFrame
        The rows of one ``(space, dataset)`` of :func:`robustness_taus`.
    alpha : float, default=0.05
        Threshold of the corrected p-values.
    brief : bool, default=False
        One summary line instead of the full statement.

    Returns
    -------
    str
        The group and its networks; the counts of tests significant before and after
        correction, the τ range and Holm count of each family, the reference and
        out-of-distribution rows, and the largest ``|τ|`` of a corruption or attack accuracy with
        the measures related to calibration after Holm, by sign; ``""`` for no rows.
    """
    from calstudy import report

    if rows.empty:
        return ""
    head = group_name(tuple(rows[["space", "dataset"]].iloc[0]))
    robust = rows[rows["family"].isin(["corruption", "attack"])]
    hits = robust[robust["p_holm"] < alpha]
    signs = {"rise": hits[hits["tau"] > 0], "fall": hits[hits["tau"] < 0]}
    related = report.join(
        f"{len(part)} {verb} with calibration error ({report.join(map(prose_name, part['measure']))})"
        for verb, part in signs.items()
        if len(part)
    )
    if brief:
        acc = rows[rows["measure"] == "acc"]
        clean = f"τ with clean accuracy {_tau_words(acc.iloc[0])}" if len(acc) else ""
        if robust.empty:
            return f"{head}: no corruption or attack accuracy in this store" + (
                f"; {clean}." if clean else ".")
        return (
            f"{head}: {len(hits)} of {len(robust)} corruption and attack accuracies are related "
            f"to calibration after Holm ({len(signs['rise'])} with τ > 0, "
            f"{len(signs['fall'])} with τ < 0)" + (f"; {clean}" if clean else "") + "."
        )  # fmt: skip
    n_raw = int((rows["p"] < alpha).sum())
    said = [
        f"**{head}** ({report.plural(int(rows['n'].max()), 'network')}). Of "
        f"{report.plural(len(rows), 'measure')}, {n_raw} {'has' if n_raw == 1 else 'have'} a "
        f"raw p below {alpha}; {int((rows['p_holm'] < alpha).sum())} remain significant after "
        f"Holm and {int((rows['p_bh'] < alpha).sum())} after Benjamini–Hochberg."
    ]
    for family in ("corruption", "attack"):
        part = rows[rows["family"] == family]
        if len(part):
            said.append(
                f"{family.capitalize()} accuracies: τ from {report.fixed(part['tau'].min())} to "
                f"{report.fixed(part['tau'].max())}, {int((part['p_holm'] < alpha).sum())} of "
                f"{len(part)} significant after Holm."
            )
    for r in rows[rows["family"].isin(["reference", "ood"])].to_dict("records"):
        said.append(
            f"τ with {prose_name(r['measure'])} = {_tau_words(r)} (Holm p {report.pvalue(r['p_holm'])}, "
            f"BH p {report.pvalue(r['p_bh'])})."
        )
    if len(robust):
        big = robust.loc[robust["tau"].abs().idxmax()]
        said.append(
            f"The largest |τ| of a corruption or attack accuracy is that of "
            f"{prose_name(big['measure'])}, {_tau_words(big)}; "
            + (f"after Holm, {related}." if len(hits)
               else "none of them is related to calibration after Holm.")
        )  # fmt: skip
    return " ".join(said)


_CLAIM_WORDS = {
    "most accurate": "This store supports the claim: the relation is stronger among the most "
    "accurate networks.",
    "least accurate": "This store shows the relation among the least accurate networks, the "
    "population the paper's code selected, not among the most accurate: it does not support "
    "the claim as worded.",
    "neither": "No difference between the two selections is significant after Holm, so this "
    "store gives no support to the claim that calibration tracks robustness only among "
    "high-accuracy networks.",
}


_CLAIM_BRIEF = {
    "most accurate": "the relation is stronger among the most accurate, as the paper claimed",
    "least accurate": "the relation is stronger among the least accurate, the networks the "
    "paper's code selected",
    "neither": "no significant difference between the selections, no support for the paper's "
    "claim",
}


def selection_sentence(
    rows: pd.DataFrame, *, n: int, alpha: float = 0.05, brief: bool = False
) -> str:
    """One group of :func:`top_versus_lowest` in words: which selection supports the claim.

    Parameters
    ----------
    rows : DataFrame
        The rows of one ``(space, dataset)`` of :func:`top_versus_lowest`.
    n : int
        The N asked for (before the cap at a quarter of the networks).
    alpha : float, default=0.05
        Threshold of the Holm-corrected p-values.
    brief : bool, default=False
        One summary line instead of the full statement.

    Returns
    -------
    str
        The group, N, the counts of :func:`selection_verdict` and the verdict on the reference
        study's claim that calibration tracks robustness only among high-accuracy models.
    """
    if rows.empty:
        return ""
    head = group_name(tuple(rows[["space", "dataset"]].iloc[0]))
    v = selection_verdict(rows, alpha=alpha)
    if brief:
        return (f"{head}, the {v['n_top']:,} most against the {v['n_top']:,} least accurate: "
                f"{_CLAIM_BRIEF[v['verdict']]}.")  # fmt: skip
    networks = int(rows["networks"].max())
    capped = f" (the requested {n:,} capped at a quarter of {networks:,} networks)"
    m = v["measures"]
    return (
        f"**{head}**, N = {v['n_top']:,}{capped if v['n_top'] < n else ''}. Among the N most "
        f"accurate networks calibration tracks {v['track_top']} of {m} robustness measures "
        f"(τ > 0, Holm p < {alpha}); among the N least accurate, the paper code's \"top N\", "
        f"{v['track_lowest']} of {m}. τ is significantly higher among the most accurate for "
        f"{v['higher_top']} and among the least accurate for {v['higher_lowest']} of them "
        f"(independent samples, Holm). {_CLAIM_WORDS[v['verdict']]}"
    )


def robustness_curves(
    df: pd.DataFrame,
    calibration: str,
    measure: str,
    *,
    sizes: Sequence[int] | None = None,
    groups: Sequence[str] = ("space", "dataset"),
    n_boot: int = 500,
    n_random: int = 50,
    level: float = 0.95,
    seed: int = 0,
) -> dict[tuple[Any, ...], pd.DataFrame]:
    """:func:`~calstudy.selection.selection_curve` of calibration against one robustness measure,
    in each group.

    Parameters
    ----------
    df : DataFrame
        Calibration dataset.
    calibration, measure : str
        The two columns; ``measure`` may be a derived column of
        :func:`add_corruption_summaries` (``mean_corruption_acc``).
    sizes : sequence of int, optional
        Wanted population sizes (:func:`~calstudy.selection.population_sizes` keeps those below the
        group's complete rows and adds all of them).
    groups : sequence of str, default=("space", "dataset")
        Columns defining the groups.
    n_boot, n_random, level, seed
        As in :func:`~calstudy.selection.selection_curve`.

    Returns
    -------
    dict
        Group key → curve, for the groups with at least 3 networks complete in
        ``calibration``, ``measure`` and ``acc``.
    """
    out = {}
    for key, part in groups_of(df, groups):
        part = add_corruption_summaries(part)
        if measure not in part.columns:
            continue
        m = count_complete(part, [calibration, measure, "acc"])
        if m >= 3:
            out[key] = selection_curve(
                part, calibration, measure, sizes=population_sizes(m, sizes), n_boot=n_boot,
                n_random=n_random, level=level, seed=seed)  # fmt: skip
    return out


def robustness_paper_sentence(row: Mapping[str, Any], *, paper: tuple[float, float]) -> str:
    """One row of :func:`robustness_beside_paper` in words."""
    from calstudy import report

    low, high = (report.num(v) for v in paper)
    what = report.plural(int(row["measures"]), "attack or corruption accuracy",
                         "attack or corruption accuracies")  # fmt: skip
    return (
        f"**{group_name((row['space'], row['dataset']))}**: τ with {what} from "
        f"{report.fixed(row['tau_min'])} to {report.fixed(row['tau_max'])}; "
        f"{int(row['below_low'])} point estimates lie below the paper's lowest ({low}), "
        f"{int(row['interval_below_low'])} intervals lie entirely below it, "
        f"{int(row['interval_below_high'])} entirely below its highest ({high}) and "
        f"{int(row['interval_above_high'])} entirely above it."
    )


def robustness_beside_paper(
    table: pd.DataFrame,
    *,
    paper: tuple[float, float] = (0.09, 0.36),
    families: Sequence[str] = ("corruption", "attack"),
    groups: Sequence[str] = ("space", "dataset"),
) -> pd.DataFrame:
    """Place each group's τ between calibration and robustness beside the paper's range (RQ ii).

    Parameters
    ----------
    table : DataFrame
        Output of :func:`robustness_taus`.
    paper : (float, float), default=(0.09, 0.36)
        The reference study's range of τ(ECE, accuracy under PGD, Square and corruptions).
    families : sequence of str, default=("corruption", "attack")
        Families compared with that range.
    groups : sequence of str, default=("space", "dataset")
        The group columns of ``table``.

    Returns
    -------
    DataFrame
        One row per group with measures of ``families``: ``*groups, measures, tau_min,
        tau_max, below_low`` (point τ below the paper's lowest), ``interval_below_low``,
        ``interval_below_high`` and ``interval_above_high`` (whole intervals below the lowest,
        below the highest, above the highest).
    """
    low, high = paper
    groups = list(groups)
    check_columns(table, [*groups, "family", "tau", "low", "high"], "table")
    rows = []
    robust = table[table["family"].isin(list(families))]
    for key, part in (robust.groupby(groups, sort=False) if len(robust) else []):
        key = key if isinstance(key, tuple) else (key,)
        rows.append({
            **dict(zip(groups, key, strict=True)), "measures": len(part),
            "tau_min": part["tau"].min(), "tau_max": part["tau"].max(),
            "below_low": int((part["tau"] < low).sum()),
            "interval_below_low": int((part["high"] < low).sum()),
            "interval_below_high": int((part["high"] < high).sum()),
            "interval_above_high": int((part["low"] > high).sum()),
        })
    columns = [*groups, "measures", "tau_min", "tau_max", "below_low", "interval_below_low",
               "interval_below_high", "interval_above_high"]
    return pd.DataFrame(rows, columns=columns)
