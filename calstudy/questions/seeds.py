"""The seed-noise chapter: which of the book's differences exceed seed noise, the retest τ of
two seeds, the shift between devices; the tables and their sentences. The statistics are in
:mod:`calstudy.seednoise`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calstudy._checks import check_columns, check_level, check_positive_int
from calstudy.catalogue import prose_name
from calstudy.differences import paired_difference, wilson_ci
from calstudy.seednoise import retest_tau, seed_noise_gap, seed_noise_threshold, seed_variance
from calstudy.stats import TauResult, correct_pvalues, kendall_ci

__all__ = [
    "device_shift_sentence",
    "difference_label",
    "device_shift_table",
    "isomorphic_sentences",
    "isomorphic_view",
    "posthoc_pairs",
    "reproducibility_sentence",
    "seed_ceiling_sentence",
    "seed_columns",
    "seed_design_effects",
    "seed_design_sentence",
    "seed_difference_sentence",
    "seed_differences_view",
    "seed_gaps_sentence",
    "seed_gaps_view",
    "seed_group_label",
    "seed_groups_sentence",
    "seed_noise_differences",
    "seed_noise_gaps",
    "seed_noise_sentence",
    "seed_noise_view",
    "seed_retest_taus",
    "seed_study_groups",
]


# ================================================================================================
# Seed noise: which of the book's differences exceed it (the seed-noise chapter's tables)
# ================================================================================================


def seed_study_groups(
    df: pd.DataFrame, *, by: Sequence[str] = ("space", "dataset", "fidelity")
) -> pd.DataFrame:
    """The store's groups of networks and how many of their architectures were retrained.

    Parameters
    ----------
    df : DataFrame
        Rows of the calibration dataset, every seed (``seeds="all"``), with ``arch``,
        ``seed`` and the `by` columns.
    by : sequence of str
        Columns of a group (one space, dataset and fidelity).

    Returns
    -------
    DataFrame
        One row per group: the `by` columns, ``n_archs``, ``n_repeated`` (architectures with
        two or more seeds), ``max_seeds`` and ``seeds`` (the sorted seeds present, as a
        list), sorted by `by`.

    Examples
    --------
    >>> frame = pd.DataFrame({"space": "tss", "dataset": "c", "fidelity": "f",
    ...                       "arch": ["a", "a", "b"], "seed": [0, 1, 0]})
    >>> seed_study_groups(frame)[["n_archs", "n_repeated", "max_seeds"]].values.tolist()
    [[2, 1, 2]]
    """
    by = list(by)
    check_columns(df, [*by, "arch", "seed"])
    rows = []
    for key, group in df.groupby(by, sort=True, dropna=False):
        counts = group.groupby("arch")["seed"].nunique()
        labels = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        rows.append({**labels, "n_archs": len(counts), "n_repeated": int((counts >= 2).sum()),
                     "max_seeds": int(counts.max()),
                     "seeds": sorted(int(s) for s in group["seed"].unique())})  # fmt: skip
    return pd.DataFrame(rows, columns=[*by, "n_archs", "n_repeated", "max_seeds", "seeds"])


def seed_columns(
    metrics: Sequence[str], *, pre: str, post: str, present: Sequence[str] | set[str]
) -> tuple[list[str], list[str]]:
    """The columns the seed-noise chapter measures, and those the store lacks.

    Accuracy, the headline `pre` and `post` columns, then each of `metrics` before and after
    temperature scaling (``pre_<m>``, ``post_<m>``), in that order, each once.

    Parameters
    ----------
    metrics : sequence of str
        Metric names without their prefix (``"ECE_15"``, ``"NLL"``, ...).
    pre, post : str
        The headline column before and after scaling (e.g. ``"pre_ECE_15"``).
    present : collection of str
        The store's columns.

    Returns
    -------
    (list of str, list of str)
        The wanted columns in `present`, and the others, each in the order above.

    Examples
    --------
    >>> seed_columns(["ECE_15", "NLL"], pre="pre_ECE_15", post="post_ECE_15",
    ...              present={"acc", "pre_ECE_15", "post_ECE_15", "pre_NLL"})
    (['acc', 'pre_ECE_15', 'post_ECE_15', 'pre_NLL'], ['post_NLL'])
    """
    wanted = ["acc", pre, post] + [f"{p}_{m}" for m in metrics for p in ("pre", "post")]
    wanted = list(dict.fromkeys(wanted))
    present = set(present)
    return [c for c in wanted if c in present], [c for c in wanted if c not in present]


def seed_noise_gaps(
    first: pd.DataFrame,
    table: pd.DataFrame,
    columns: Sequence[str],
    *,
    higher_is_better: Sequence[str] = ("acc",),
    level: float = 0.95,
) -> pd.DataFrame:
    """The best network's lead over the median, against what seed noise alone would give.

    For each column, the observed gap between the best of the single-seed networks and their median
    (``max − median`` where higher is better, ``median − min`` otherwise) is compared with
    :func:`~calstudy.seednoise.seed_noise_gap` for as many equally good networks with the column's
    pooled seed standard deviation.

    Parameters
    ----------
    first : DataFrame
        One row per network (each architecture's lowest seed, as the other chapters use).
    table : DataFrame
        :func:`~calstudy.seednoise.seed_noise_table` output, indexed by column, with ``pooled_std``.
    columns : sequence of str
        Columns to compare; those missing from `table` or `first` are left out.
    higher_is_better : sequence of str, default ("acc",)
    level : float, default 0.95

    Returns
    -------
    DataFrame
        Indexed by ``column``: ``networks``, ``observed`` (best − median), ``noise_gap`` (the
        :math:`\\ell` quantile of the gap seed noise gives) and ``exceeds`` (bool).
    """
    check_level(level)
    rows = []
    for column in columns:
        if column not in table.index or column not in first.columns:
            continue
        values = first[column].dropna()
        if len(values) < 2:
            continue
        best = values.max() if column in higher_is_better else values.min()
        observed = float(abs(best - values.median()))
        noise = seed_noise_gap(len(values), float(table.loc[column, "pooled_std"]), level=level)
        rows.append({"column": column, "networks": len(values), "observed": observed,
                     "noise_gap": noise, "exceeds": bool(observed > noise)})  # fmt: skip
    columns_out = ["column", "networks", "observed", "noise_gap", "exceeds"]
    return pd.DataFrame(rows, columns=columns_out).set_index("column")


def posthoc_pairs(
    columns: Sequence[str], methods: Sequence[str], *, pre: str, post: str, min_values: int = 3,
    counts: Mapping[str, int] | None = None,
) -> dict[str, tuple[str, str]]:
    """The post-hoc differences of RQ iv that the seed-noise chapter checks, by label.

    ``"ts − none, <score>"`` is `post` − `pre`; for each method ``m`` of `methods`,
    ``"m − ts, ECE_15"`` and ``"m − ts, NLL"`` compare ``m_ECE_15`` with `post` and
    ``m_NLL`` with ``post_NLL`` where those columns exist (and hold at least `min_values`
    values according to `counts`, when given).

    Examples
    --------
    >>> posthoc_pairs(["pre_ECE_15", "post_ECE_15", "vs_ECE_15"], ["vs", "iso"],
    ...               pre="pre_ECE_15", post="post_ECE_15")
    {'ts − none, ECE_15': ('post_ECE_15', 'pre_ECE_15'), 'vs − ts, ECE_15': ('vs_ECE_15', 'post_ECE_15')}
    """
    present = set(columns)
    score = post.split("_", 1)[1]
    pairs: dict[str, tuple[str, str]] = {}
    if {pre, post} <= present:
        pairs[f"ts − none, {score}"] = (post, pre)
    for m in methods:
        for name, ts_column in ((score, post), ("NLL", "post_NLL")):
            pair = (f"{m}_{name}", ts_column)
            enough = counts is None or counts.get(pair[0], 0) >= min_values
            if set(pair) <= present and enough:
                pairs[f"{m} − ts, {name}"] = pair
    return pairs


def seed_noise_differences(
    df: pd.DataFrame,
    first: pd.DataFrame,
    pairs: Mapping[str, tuple[str, str]],
    *,
    by: Sequence[str] = ("space", "arch", "dataset", "fidelity"),
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Paired differences over networks, and whether one network would show them.

    For each labelled pair ``(a, b)``: the median of :math:`d = a - b` over the single-seed networks
    with its bootstrap interval and Wilcoxon p-value
    (:func:`~calstudy.differences.paired_difference`; Holm-corrected over the pairs in ``p_holm``),
    the pooled seed standard deviation of :math:`d` itself
    (:func:`~calstudy.seednoise.seed_variance` on every seed's rows), the threshold a single
    network's :math:`|d|` must pass to exceed seed noise, :math:`z_{(1+\ell)/2}\, s_p(d)`
    (:func:`~calstudy.seednoise.seed_noise_threshold` against a fixed value), and the share of
    networks beyond it with its Wilson interval.

    Parameters
    ----------
    df : DataFrame
        Every seed's rows (the repeated architectures give the seed noise of :math:`d`).
    first : DataFrame
        One row per network.
    pairs : mapping of str → (str, str)
        Label → the two columns (e.g. :func:`posthoc_pairs`).
    by : sequence of str
        Columns identifying one architecture's repeated runs.
    level : float, default 0.95
    n_boot : int, default 1000
    seed : int, default 0

    Returns
    -------
    DataFrame
        Indexed by ``difference``: ``median``, ``low``, ``high``, ``p``, ``p_holm``,
        ``seed_std``, ``threshold``, ``median_beyond`` (bool), ``beyond`` (share of networks),
        ``beyond_low``, ``beyond_high``, ``n``.
    """
    columns = ["difference", "median", "low", "high", "p", "seed_std", "threshold",
               "median_beyond", "beyond", "beyond_low", "beyond_high", "n"]  # fmt: skip
    rows = []
    for label, (a, b) in pairs.items():
        noise = seed_variance(df.assign(_d=df[a] - df[b]), "_d", by=by, level=level)
        threshold = seed_noise_threshold(noise.pooled_std, n_b=math.inf, level=level)
        d_first = (first[a] - first[b]).dropna()
        r = paired_difference(first[a], first[b], n_boot=n_boot, level=level, seed=seed)
        share, low, high = wilson_ci(int((d_first.abs() > threshold).sum()), len(d_first),
                                     level=level)  # fmt: skip
        rows.append(dict(difference=label, median=r.estimate, low=r.low, high=r.high,
                         p=r.p_value, seed_std=noise.pooled_std, threshold=threshold,
                         median_beyond=bool(abs(r.estimate) > threshold), beyond=share,
                         beyond_low=low, beyond_high=high, n=r.n))  # fmt: skip
    out = pd.DataFrame(rows, columns=columns).set_index("difference")
    out.insert(4, "p_holm", correct_pvalues(out["p"].to_numpy(), method="holm") if len(out) else [])
    return out


def seed_retest_taus(
    df: pd.DataFrame,
    columns: Sequence[str],
    *,
    seeds: Sequence[int],
    min_archs: int = 5,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """τ-b between two seeds' runs of the same architectures, measured directly.

    Parameters
    ----------
    df : DataFrame
        Rows of one space, dataset and fidelity, every seed, with ``arch`` and ``seed``.
    columns : sequence of str
    seeds : pair of int
        The two seeds compared.
    min_archs : int, default 5
        Fewest architectures run with both seeds.
    n_boot, level, seed
        Of the bootstrap interval (:func:`~calstudy.stats.kendall_ci`).

    Returns
    -------
    DataFrame
        Indexed by ``column``: ``tau``, ``low``, ``high``, ``n``; columns with fewer than
        `min_archs` architectures run with both seeds are left out.
    """
    if len(seeds) != 2:
        raise ValueError(f"Expected `seeds` to name two seeds, got {list(seeds)}.")
    rows = []
    for column in columns:
        wide = df.pivot_table(index="arch", columns="seed", values=column)
        if not set(seeds) <= set(wide.columns):
            continue
        both = wide[list(seeds)].dropna()
        if len(both) >= min_archs:
            r = kendall_ci(both[seeds[0]], both[seeds[1]], n_boot=n_boot, level=level, seed=seed)
            rows.append({"column": column, "tau": r.tau, "low": r.low, "high": r.high, "n": r.n})
    return pd.DataFrame(rows, columns=["column", "tau", "low", "high", "n"]).set_index("column")


def device_shift_table(
    df: pd.DataFrame,
    first: pd.DataFrame,
    table: pd.DataFrame,
    columns: Sequence[str],
    *,
    by: Sequence[str] = ("space", "arch", "dataset", "fidelity"),
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Does the device (or precision) of the repeated runs shift a column? And the ICC without it.

    The repeated architectures' runs on the device of their first seed are compared, paired by
    architecture, with the mean of their runs on other devices (mean difference, bootstrap
    interval, sign-flip test); and the seed noise and ICC are recomputed from the runs of the
    other device alone, where it repeated at least two architectures.

    Parameters
    ----------
    df : DataFrame
        Every seed's rows of one space, dataset and fidelity, with ``device``.
    first : DataFrame
        One row per network (its lowest seed).
    table : DataFrame
        :func:`~calstudy.seednoise.seed_noise_table` of all runs (``pooled_std``, ``icc``), indexed
        by column.
    columns : sequence of str
    by : sequence of str
    n_boot, level, seed

    Returns
    -------
    DataFrame
        Indexed by ``column``: ``shift`` (first device − other), ``low``, ``high``, ``p``,
        ``architectures``, ``sp_all``, ``sp_one_device``, ``icc_all``, ``icc_one_device``;
        ``attrs["first_device"]``. Empty when every repeated run shares one device.
    """
    out_columns = ["column", "shift", "low", "high", "p", "architectures", "sp_all",
                   "sp_one_device", "icc_all", "icc_one_device"]  # fmt: skip
    empty = pd.DataFrame(columns=out_columns).set_index("column")
    check_columns(df, [*by, "seed", "device"])
    counts = df.groupby(list(by))["seed"].transform("nunique")
    runs = df[counts >= 2]
    if runs.empty:
        return empty
    repeated = set(runs["arch"])
    first_device = first.loc[first["arch"].isin(repeated), "device"].mode().iloc[0]
    other = runs[runs["device"] != first_device]
    if other.empty:
        return empty
    rows = []
    for column in columns:
        on_first = runs[runs["device"] == first_device].groupby("arch")[column].mean()
        both = pd.concat({"first": on_first, "other": other.groupby("arch")[column].mean()},
                         axis=1).dropna()  # fmt: skip
        shift = paired_difference(both["first"], both["other"], statistic="mean",
                                  test="sign-flip", n_boot=n_boot, level=level, seed=seed)
        there = int((other.dropna(subset=[column]).groupby(list(by)).size() >= 2).sum())
        same = seed_variance(other, column, by=by, level=level) if there >= 2 else None
        rows.append(dict(column=column, shift=shift.estimate, low=shift.low, high=shift.high,
                         p=shift.p_value, architectures=shift.n,
                         sp_all=table.loc[column, "pooled_std"],
                         sp_one_device=np.nan if same is None else same.pooled_std,
                         icc_all=table.loc[column, "icc"],
                         icc_one_device=np.nan if same is None else same.icc))  # fmt: skip
    out = pd.DataFrame(rows, columns=out_columns).set_index("column")
    out.attrs["first_device"] = str(first_device)
    return out


def seed_design_effects(
    first: pd.DataFrame, table: pd.DataFrame, column: str, *, min_networks: int = 10
) -> pd.DataFrame | None:
    """RQ vii's operation-count effects on `column`, in units of its seed standard deviation.

    The count regression of :func:`~calstudy.trends.op_effects` (``encoding="count"``, ``none``
    as the reference) over the single-seed networks, each coefficient divided by the pooled seed
    standard deviation :math:`s_p` of `column`: below 1 in absolute value, one more edge of
    that operation moves `column` less than a retraining with another seed typically does.

    Parameters
    ----------
    first : DataFrame
        One row per network of one space, dataset and fidelity (``space``, ``arch``, `column`).
    table : DataFrame
        :func:`~calstudy.seednoise.seed_noise_table` of the same networks, with ``pooled_std``
        in the row of `column`.
    column : str
    min_networks : int, default 10
        Fewest TSS networks the regression needs.

    Returns
    -------
    DataFrame or None
        Indexed by ``term``, without the intercept: ``op_effects``' columns and ``coef / s_p``;
        None when `first` is not TSS or has fewer than `min_networks` rows.
    """
    from calstudy.trends import op_effects

    min_networks = check_positive_int(min_networks, "min_networks")
    check_columns(first, ["space", column], "first")
    check_columns(table, ["pooled_std"], "table")
    if column not in table.index:
        raise ValueError(f"Expected `table` to have a row for {column!r}, got {list(table.index)}.")
    if len(first) < min_networks or set(first["space"]) != {"tss"}:
        return None
    effects = op_effects(first, column, encoding="count", reference="none")
    effects = effects[effects["term"] != "intercept"].set_index("term")
    effects["coef / s_p"] = effects["coef"] / table.loc[column, "pooled_std"]
    return effects


# ------------------------------------------------------------------------------------------------
# Seed noise, for readers: the chapter's tables with ECE in percent and estimates with intervals
# ------------------------------------------------------------------------------------------------


def seed_noise_view(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`~calstudy.seednoise.seed_noise_table` as the chapter shows it.

    The mean, seed and between-architecture standard deviations and the threshold in percent in
    the rows of binned ECE (:func:`calstudy.plots.percent_rows`), formatted
    (:func:`calstudy.report.format_table`), the ICC as one column with its interval, and the
    rows named for readers (:func:`calstudy.catalogue.reader_label`, through the formatting).
    """
    from calstudy import report
    from calstudy.plots import percent_rows

    shown = percent_rows(table, ["mean", "pooled_std", "between_std", "threshold"], table.index)
    icc = report.ci_columns(shown.rename_axis("metric").reset_index(), index="metric",
                            columns={"icc": ("icc", "icc_low", "icc_high")})  # fmt: skip
    rest = report.format_table(shown.drop(columns=["n_rows", "icc", "icc_low", "icc_high"]))
    return pd.concat([rest, icc], axis=1)


def seed_gaps_view(gaps: pd.DataFrame) -> pd.DataFrame:
    """:func:`seed_noise_gaps` as the chapter shows it: the gaps of binned ECE in percent,
    formatted, the rows named for readers (by the formatting)."""
    from calstudy import report
    from calstudy.plots import percent_rows

    shown = percent_rows(gaps, ["observed", "noise_gap"], gaps.index)
    return report.format_table(shown)


def seed_differences_view(diffs: pd.DataFrame) -> pd.DataFrame:
    """:func:`seed_noise_differences` as the chapter shows it.

    Differences of binned ECE in percentage points (the score after the last ``", "`` of each
    label says which), the median, its interval, Holm p-value, seed standard deviation,
    threshold and whether the median passes it formatted to 3 digits (NLL differences are
    small), the share of networks beyond the threshold in percent with its Wilson interval,
    and ``n``.
    """
    from calstudy import report
    from calstudy.plots import percent_rows

    shown = percent_rows(diffs, ["median", "low", "high", "seed_std", "threshold"],
                         [d.split(", ")[-1] for d in diffs.index])  # fmt: skip
    columns = ["median", "low", "high", "p_holm", "seed_std", "threshold", "median_beyond"]
    beyond = report.ci_columns(shown.rename_axis("difference").reset_index(), index="difference",
                               columns={"share beyond (%)": ("beyond", "beyond_low", "beyond_high")},
                               scale={"share beyond (%)": 100})  # fmt: skip
    return pd.concat([report.format_table(shown[columns]), beyond,
                      report.format_table(shown[["n"]])], axis=1).rename(index=difference_label)  # fmt: skip


def isomorphic_view(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`~calstudy.seednoise.isomorphic_icc_table` as the chapter shows it: the rows with
    isomorphic strings (``n_repeated`` > 0), without ``space``, the metrics named for readers,
    formatted (which names the metrics); empty when no row has them."""
    from calstudy import report

    shown = table[table["n_repeated"] > 0].drop(columns="space")
    return report.format_table(shown)


# Seed noise, in words: the seed-noise chapter's findings as sentences (calstudy.report's formats)


def seed_group_label(group: Any) -> str:
    """How the seed-noise chapter names a group: ``"TSS cifar10 (`nats-200`)"``.

    `group` is anything with ``space``, ``dataset`` and ``fidelity`` attributes (a row of
    :func:`seed_study_groups`).

    Examples
    --------
    >>> groups = pd.DataFrame({"space": ["tss"], "dataset": ["cifar10"], "fidelity": ["f"]})
    >>> seed_group_label(next(groups.itertuples()))
    'TSS cifar10 (`f`)'
    """
    return f"{str(group.space).upper()} {group.dataset} (`{group.fidelity}`)"


def seed_groups_sentence(
    groups: pd.DataFrame, *, min_repeated: int, not_stated: int = -1,
    missing: Sequence[str] = (),
) -> str:  # fmt: skip
    """What :func:`seed_study_groups` found, in words, and which groups have a seed study.

    `not_stated` is the seed of rows whose training seed is unknown (the paper's import);
    `missing` names the columns the chapter wanted and the store lacks (:func:`seed_columns`).
    """
    from calstudy import report

    def described(g: Any) -> str:
        if g.n_repeated:
            return (f"{g.n_repeated} of them trained with up to {g.max_seeds} seeds (seeds "
                    f"{report.join(g.seeds)})")
        if list(g.seeds) == [not_stated]:
            return "one row each, its training seed not stated (as in the paper's released data)"
        return f"each trained once (seed {report.join(g.seeds)})"

    studied = groups[groups["n_repeated"] >= min_repeated]
    text = "The networks analysed here: " + report.join(
        f"{seed_group_label(g)}: {report.plural(g.n_archs, 'architecture')}, {described(g)}"
        for g in groups.itertuples()) + ". "
    if len(studied):
        used = report.join(seed_group_label(g) for g in studied.itertuples())
        text += f"The seed-noise sections below use {used}."
    else:
        text += (
            f"No group has {min_repeated} architectures trained twice (`min_rows`), so the "
            "seed-noise sections are skipped; a sweep gets a seed study when some of its "
            "architectures are trained again with other seeds (`calstudy sweep --config "
            "configs/demo-seeds.yaml --out <store>`)."
        )
    if missing:
        text += f" Columns the store lacks, left out: {report.join(f'`{c}`' for c in missing)}."
    return text


def seed_noise_sentence(table: pd.DataFrame, columns: Sequence[str]) -> str:
    """:func:`~calstudy.seednoise.seed_noise_table`'s range of ICCs and the named `columns`'
    figures, in words."""
    from calstudy import report

    ranked = table.sort_values("icc")

    def icc(c: str) -> str:
        return report.ci(table.loc[c, "icc"], table.loc[c, "icc_low"], table.loc[c, "icc_high"],
                         signed=False)

    return (f"over {int(table['n_repeated'].max())} repeated architectures the ICC runs from "
            f"{icc(ranked.index[0])} ({prose_name(ranked.index[0])}) to {icc(ranked.index[-1])} "
            f"({prose_name(ranked.index[-1])}); " + report.join(
                f"{prose_name(c)} {icc(c)} (retest τ {report.fixed(table.loc[c, 'retest_tau'], signed=False)}"
                f", {report.pct(table.loc[c, 'frac_resolved'], 0)} of architecture pairs beyond "
                "seed noise)" for c in columns if c in table.index) + ".")  # fmt: skip


def seed_gaps_sentence(gaps: pd.DataFrame) -> str:
    """:func:`seed_noise_gaps` in words."""
    from calstudy import report

    return report.join(
        f"{prose_name(c)}: the best network's lead over the median ({report.num(r.observed)}) "
        f"{'exceeds' if r.exceeds else 'does not exceed'} seed noise ({report.num(r.noise_gap)})"
        for c, r in gaps.iterrows()) + "."


def difference_label(label: str) -> str:
    """A :func:`posthoc_pairs` label as a reader meets it: its score named as in a sentence.

    Examples
    --------
    >>> difference_label("vs − ts, ECE_15"), difference_label("a − b")
    ('vs − ts, 15-bin ECE', 'a − b')
    """
    head, comma, score = label.rpartition(", ")
    return f"{head}{comma}{prose_name(score)}" if comma else label


def seed_difference_sentence(name: str, row: pd.Series, *, alpha: float = 0.05) -> str:
    """One row of :func:`seed_noise_differences` in words, its label by :func:`difference_label`."""
    from calstudy import report

    real = "real over networks" if row["p_holm"] < alpha else "not detected over networks"
    return (f"{difference_label(name)}: median {report.ci(row['median'], row['low'], row['high'], 4)}, Holm p "
            f"{report.pvalue(row['p_holm'])} ({real}); the median is "
            f"{'visible' if row['median_beyond'] else 'not visible'} on a single network (seed "
            f"threshold {report.num(row['threshold'])}); {report.pct(row['beyond'], 0)} "
            f"[{report.pct(row['beyond_low'], 0)}, {report.pct(row['beyond_high'], 0)}] of "
            "networks exceed it.")


def seed_ceiling_sentence(
    table: pd.DataFrame, kept: TauResult, retests: pd.DataFrame, *, pre: str, post: str,
    seeds: Sequence[int],
) -> str:  # fmt: skip
    """The τ between `pre` and `post`, the largest τ their seed noise allows (Spearman's
    attenuation through :func:`~calstudy.seednoise.retest_tau`), and the direct two-seed τ, in
    words."""
    from calstudy import report

    ceiling = float(retest_tau(np.sqrt(table.loc[pre, "icc"] * table.loc[post, "icc"])))
    text = (f"τ({prose_name(pre)}, {prose_name(post)}) over the single-seed networks: {report.tau(kept)}; the largest "
            f"τ seed noise allows ≈ {report.fixed(ceiling, signed=False)} (from ICC "
            f"{report.fixed(table.loc[pre, 'icc'], signed=False)} and "
            f"{report.fixed(table.loc[post, 'icc'], signed=False)}). ")  # fmt: skip
    if retests.empty:
        return text + f"Fewer than 5 architectures hold seeds {list(seeds)}: no direct retest τ."
    return text + (f"Between seeds {seeds[0]} and {seeds[1]} of the same architectures: "
                   + report.join(f"{prose_name(c)} {report.tau(r)} (expected from the ICC "
                                 f"{report.fixed(table.loc[c, 'retest_tau'])})"
                                 for c, r in retests.iterrows()) + ".")  # fmt: skip


def device_shift_sentence(check: pd.DataFrame) -> str:
    """:func:`device_shift_table` in words."""
    from calstudy import report

    return "device check: " + report.join(
        f"{prose_name(c)} shifts by {report.ci(r['shift'], r['low'], r['high'], 4)} "
        f"({'shift detected' if r['low'] > 0 or r['high'] < 0 else 'no shift detected'}; ICC "
        f"{report.fixed(r['icc_all'], signed=False)} from all runs, "
        f"{report.fixed(r['icc_one_device'], signed=False)} from one device's)"
        for c, r in check.iterrows()) + "."  # fmt: skip


def seed_design_sentence(effects: pd.DataFrame, column: str) -> str:
    """:func:`seed_design_effects` in words: how many operation counts move `column` by less than
    one seed standard deviation per edge.

    Examples
    --------
    >>> effects = pd.DataFrame({"coef / s_p": [0.4, -2.0, -0.9]})
    >>> seed_design_sentence(effects, "acc")
    '2 operation counts of 3 move accuracy by less than one seed standard deviation per edge.'
    >>> seed_design_sentence(effects.iloc[:2], "acc")
    '1 operation count of 2 moves accuracy by less than one seed standard deviation per edge.'
    """
    from calstudy import report

    small = int((effects["coef / s_p"].abs() < 1).sum())
    verb = "moves" if small == 1 else "move"
    return (f"{report.plural(small, 'operation count')} of {len(effects)} {verb} "
            f"{prose_name(column)} by less than one seed standard deviation per edge.")  # fmt: skip


def reproducibility_sentence(
    table: pd.DataFrame, devices: pd.DataFrame, *, pre: str, post: str
) -> str:
    """Whether accuracy is more reproducible across seeds than `pre` and `post` (ICC), on all
    runs and, where :func:`device_shift_table` has them, on one device's runs."""
    from calstudy import report

    def more(a: float, b: float) -> str:
        return "more" if a > b else "not more"

    shown = ["acc", pre, post]
    text = (f"accuracy is {more(table.loc['acc', 'icc'], table.loc[[pre, post], 'icc'].max())} "
            f"reproducible across seeds than {prose_name(pre)} and {prose_name(post)} (ICC " + report.join(
                f"{prose_name(c)} {report.ci(table.loc[c, 'icc'], table.loc[c, 'icc_low'], table.loc[c, 'icc_high'], signed=False)}"
                for c in shown) + f"); {prose_name(pre)} is "
            f"{more(table.loc[pre, 'icc'], table.loc[post, 'icc'])} reproducible than {prose_name(post)}")
    if not devices.empty and set(shown) <= set(devices.index):
        one = devices["icc_one_device"]
        text += (f"; on one device's runs accuracy is {more(one['acc'], one[[pre, post]].max())} "
                 "reproducible than both")
    return text + "."


def isomorphic_sentences(table: pd.DataFrame) -> list[str]:
    """:func:`~calstudy.seednoise.isomorphic_icc_table` in words, one sentence per dataset and
    fidelity."""
    from calstudy import report

    said = []
    for (dataset, fidelity), rows in table.groupby(["dataset", "fidelity"], sort=True):
        r0 = rows.iloc[0]
        head = f"TSS {dataset} (`{fidelity}`)"
        if r0.n_repeated == 0:
            said.append(f"{head}: no two of its {r0.n_strings} strings are isomorphic: no ICC "
                        "across isomorphic strings.")  # fmt: skip
            continue
        said.append(
            f"{head}, isomorphic strings ({r0.n_strings:,} strings in {r0.n_classes:,} classes, "
            f"{r0.n_repeated:,} with two or more): ICC " + report.join(
                f"{prose_name(r.metric)} {report.ci(r.icc, r.low, r.high, signed=False)} (retest τ "
                f"{report.fixed(r.retest_tau, signed=False)})" for r in rows.itertuples()) + ".")
    return said
