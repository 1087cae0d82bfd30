"""The dataset chapter: what a store holds (columns, provenance, scale, completeness,
temperatures), as tables and sentences.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from calstudy._checks import check_columns, check_positive_int
from calstudy.differences import paired_difference

if TYPE_CHECKING:
    from calstudy.sweep import SweepConfig

__all__ = [
    "ORIGIN_COLUMNS",
    "PAPER_SCALE",
    "column_groups_sentence",
    "describe_fidelity",
    "logits_sentence",
    "median_iqr_table",
    "plan_progress",
    "preset_progress",
    "preset_table",
    "progress_sentence",
    "progress_summary",
    "provenance_sentence",
    "store_column_groups",
    "store_contents_sentence",
    "store_provenance",
    "store_scale",
    "temperature_sentence",
    "temperature_shift",
]


# ================================================================================================
# The dataset chapter: what a store holds (columns, provenance, scale, completeness, temperatures)
# ================================================================================================


#: Origin columns summarised by :func:`store_provenance`, in the order shown.
ORIGIN_COLUMNS: tuple[str, ...] = (
    "source", "fidelity", "calstudy_version", "git_commit", "device", "torch_version",
    "config_hash", "created_at", "wall_time_s", "train_time_s", "eval_time_s",
)  # fmt: skip


def store_contents_sentence(
    df: pd.DataFrame, every_seed: pd.DataFrame, *, store: str, whole: bool = True
) -> str:
    """What a store holds, in words: rows, networks, spaces, datasets, seeds and sources.

    Parameters
    ----------
    df : DataFrame
        One row per network (each network's lowest seed), with ``space`` and ``dataset``.
    every_seed : DataFrame
        Every finished row, repeated seeds included, with ``source``.
    store : str
        How the sentence names the store (its path).
    whole : bool, default=True
        Whether the rows are the whole store (False: a selected part of it).

    Returns
    -------
    str
        E.g. "This store (the whole of `data/demo`) holds 352 finished rows of 340 networks in
        sss and tss on cifar10 and fashion-mnist; 12 rows are further seeds of networks already
        counted (the seed study, see the Seed noise chapter). Rows by source: trained 352."
    """
    from calstudy import report

    check_columns(df, ["space", "dataset"])
    check_columns(every_seed, ["source"], "every_seed")
    per_group = df.groupby(["space", "dataset"]).size().unstack(fill_value=0)
    repeats = len(every_seed) - len(df)
    seeds = (f"{report.plural(repeats, 'row')} are further seeds of networks already counted (the "
             "seed study, see the Seed noise chapter)" if repeats else "no network has a second "
             "seed")  # fmt: skip
    sources = every_seed["source"].value_counts()
    return (f"This store ({'the whole of ' if whole else 'the selected part of '}`{store}`) holds "
            f"{report.plural(len(every_seed), 'finished row')} of "
            f"{report.plural(len(df), 'network')} in {report.join(per_group.index)} on "
            f"{report.join(per_group.columns)}; {seeds}. Rows by source: "
            + report.join(f"{s} {n:,}" for s, n in sources.items()) + ".")  # fmt: skip


def _filled_columns(df: pd.DataFrame) -> set[str]:
    """Columns of ``df`` holding at least one value."""
    return set(df.columns[df.notna().any()])


def store_column_groups(df: pd.DataFrame, *, n_examples: int = 4) -> pd.DataFrame:
    """How many columns of each schema group (:data:`calstudy.schema.GROUPS`) a store fills.

    A store read with :meth:`calstudy.store.Store.read` has every schema column; a column is
    *filled* when at least one row holds a value (the paper's CSVs, for instance, fill no
    temperature, seed-study or timing column).

    Parameters
    ----------
    df : DataFrame
        Rows of a store.
    n_examples : int, default=4
        Filled column names shown per group.

    Returns
    -------
    DataFrame
        Indexed by group: ``columns`` (in the schema), ``filled`` (here), ``examples`` (filled
        columns), ``empty`` (the group's unfilled columns, listed).
    """
    from calstudy.schema import GROUPS

    n_examples = check_positive_int(n_examples, "n_examples")
    filled = _filled_columns(df)
    rows = []
    for name, columns in GROUPS.items():
        present = [c for c in columns if c in filled]
        empty = [c for c in columns if c not in filled]
        rows.append({"group": name, "columns": len(columns), "filled": len(present),
                     "examples": ", ".join(present[:n_examples])
                     + (", …" if len(present) > n_examples else ""),
                     "empty": ", ".join(empty)})  # fmt: skip
    return pd.DataFrame(rows).set_index("group")


def column_groups_sentence(groups: pd.DataFrame, *, max_listed: int = 6) -> str:
    """:func:`store_column_groups`' table in words: which groups a store fills completely, and
    how much of the others, naming their empty columns when there are at most ``max_listed``.

    Examples
    --------
    >>> groups = pd.DataFrame({"columns": [3, 4], "filled": [3, 2], "empty": ["", "c, d"]},
    ...                       index=pd.Index(["a", "b"], name="group"))
    >>> column_groups_sentence(groups)
    'fills 5 of the 7 columns: every column of `a`; of `b`, 2 of 4 (empty here: c, d)'
    """
    check_columns(groups, ["columns", "filled", "empty"], "groups")
    full = [str(g) for g, r in groups.iterrows() if r["filled"] == r["columns"]]
    parts = [f"every column of {', '.join(f'`{g}`' for g in full)}"] if full else []
    for g, r in groups[groups["filled"] < groups["columns"]].iterrows():
        empty = [c for c in str(r["empty"]).split(", ") if c]
        listed = f" (empty here: {', '.join(empty)})" if len(empty) <= max_listed else ""
        parts.append(f"of `{g}`, {r['filled']} of {r['columns']}{listed}")
    total, filled = int(groups["columns"].sum()), int(groups["filled"].sum())
    return f"fills {filled} of the {total} columns: " + "; ".join(parts)


def store_provenance(df: pd.DataFrame, *, top: int = 3) -> pd.DataFrame:
    """What the rows of a store record about their origin, column by column.

    Parameters
    ----------
    df : DataFrame
        Rows of a store.
    top : int, default=3
        Most frequent values listed per text column.

    Returns
    -------
    DataFrame
        Indexed by the filled columns of :data:`ORIGIN_COLUMNS`: ``rows`` (how many hold a
        value) and ``values`` (the most frequent values with their counts; for times, the
        range; for durations, the total and the median). ``attrs["absent"]``: the origin
        columns no row fills.

    Examples
    --------
    >>> rows = pd.DataFrame({"source": ["trained", "trained"], "wall_time_s": [60.0, 120.0]})
    >>> store_provenance(rows).loc["wall_time_s", "values"]
    'total 0.05 h, median 90 s'
    """
    from calstudy import report

    top = check_positive_int(top, "top")
    filled = _filled_columns(df)
    records = {}
    for column in ORIGIN_COLUMNS:
        if column not in filled:
            continue
        values = df[column].dropna()
        if column.endswith("_s"):
            text = (f"total {report.num(values.sum() / 3600, 3)} h, median "
                    f"{report.num(values.median(), 3)} s")  # fmt: skip
        elif column == "created_at":
            text = f"{values.min()} … {values.max()}"
        else:
            counts = values.astype(str).value_counts()
            text = ", ".join(f"{v} ({n:,})" for v, n in counts.head(top).items())
            text += f", … {len(counts) - top} more" if len(counts) > top else ""
        records[column] = {"rows": len(values), "values": text}
    table = pd.DataFrame.from_dict(records, orient="index", columns=["rows", "values"])
    table.attrs["absent"] = [c for c in ORIGIN_COLUMNS if c not in filled]
    return table


def provenance_sentence(origin: pd.DataFrame, *, paper_csv: bool = False) -> str:
    """:func:`store_provenance`'s absent columns in words, and what imported rows record.

    Parameters
    ----------
    origin : DataFrame
        :func:`store_provenance`'s output (its ``attrs["absent"]``).
    paper_csv : bool, default=False
        Whether the store holds rows imported from the paper's CSVs (``source = "paper-csv"``):
        their origin columns record the import, not the paper's measurement.

    Returns
    -------
    str

    Examples
    --------
    >>> origin = store_provenance(pd.DataFrame({"source": ["trained"], "device": ["cpu"]}))
    >>> provenance_sentence(origin)[:60]
    'Not recorded in this store: `fidelity`, `calstudy_version`, '
    """
    from calstudy import report

    absent = origin.attrs.get("absent", [])
    text = ("Not recorded in this store: " + report.join(f"`{c}`" for c in absent) + "."
            if absent else "Every origin column is recorded.")  # fmt: skip
    if paper_csv:
        text += (" Rows imported from the paper's CSVs (`source = \"paper-csv\"`) record the "
                 "import — the calstudy version, commit and time of `calstudy dataset "
                 "import-paper` — not how the paper measured them.")  # fmt: skip
    return text


def describe_fidelity(label: str) -> dict[str, str]:
    """A fidelity label in words: training epochs, skeleton and training images.

    Trained labels (``ep10-C16N1-n10000``, :func:`calstudy.sweep.parse_fidelity`) and the
    paper's NATS-Bench labels (``nats-200``, ``nats-90``: the released weights of the C = 16,
    N = 5 skeleton trained on the full training split) are read; others are returned as given.

    Examples
    --------
    >>> describe_fidelity("ep10-C16N1-n10000")
    {'epochs': '10', 'skeleton': 'C = 16, N = 1', 'training images': '10,000'}
    >>> describe_fidelity("nats-200")["epochs"]
    '200 (NATS-Bench weights)'
    """
    import re

    from calstudy.sweep import parse_fidelity

    match = re.fullmatch(r"nats-(\d+)", str(label))
    if match:
        return {"epochs": f"{match[1]} (NATS-Bench weights)", "skeleton": "C = 16, N = 5",
                "training images": "the full training split"}  # fmt: skip
    try:
        parts = parse_fidelity(label)
    except ValueError:
        return {"epochs": str(label), "skeleton": "—", "training images": "—"}
    n_train = parts["n_train"]
    return {"epochs": str(parts["epochs"]), "skeleton": f"C = {parts['C']}, N = {parts['N']}",
            "training images": "all" if n_train is None else f"{n_train:,}"}  # fmt: skip


#: The reference study's dataset, for :func:`store_scale` (``paper-findings.md``).
PAPER_SCALE: dict[str, str] = {
    "rows": "117,702 (145,179 in the released CSVs)",
    "architectures": "tss: 6,466 unique (15,625 rows), sss: 32,768",
    "datasets": "cifar10, cifar100, imagenet16-120",
    "training epochs": "200 (TSS); SSS not stated",
    "skeleton": "C = 16, N = 5",
    "training images": "the full training split",
    "seeds": "not stated",
    "test images behind post_ columns": "8,000 (20 % of 10,000 fit T)",
}


def store_scale(df: pd.DataFrame, every_seed: pd.DataFrame) -> pd.DataFrame:
    """A store's size and training budget beside the reference study's (:data:`PAPER_SCALE`).

    Parameters
    ----------
    df : DataFrame
        One row per network (each network's lowest seed).
    every_seed : DataFrame
        Every finished row, repeated seeds included.

    Returns
    -------
    DataFrame
        Indexed by the quantities of :data:`PAPER_SCALE`, columns ``this store`` and ``paper``.
    """
    check_columns(df, ["space", "arch", "dataset", "fidelity"])
    check_columns(every_seed, ["seed"], "every_seed")
    fidelities = [describe_fidelity(f) for f in sorted(df["fidelity"].dropna().unique())]

    def each(key: str) -> str:
        return "; ".join(dict.fromkeys(f[key] for f in fidelities)) or "—"

    repeats = len(every_seed) - len(df)
    n_eval = df["n_eval"].dropna() if "n_eval" in df.columns else pd.Series(dtype=float)
    ours = {
        "rows": f"{len(every_seed):,}",
        "architectures": ", ".join(
            f"{s}: {n:,}" for s, n in df.groupby("space")["arch"].nunique().items()
        ),
        "datasets": ", ".join(sorted(df["dataset"].unique())),
        "training epochs": each("epochs"),
        "skeleton": each("skeleton"),
        "training images": each("training images"),
        "seeds": ", ".join(map(str, sorted(every_seed["seed"].dropna().astype(int).unique())))
        + (f" ({repeats:,} repeated-seed rows)" if repeats else ""),
        "test images behind post_ columns": f"{int(n_eval.median()):,}" if len(n_eval) else "—",
    }
    return pd.DataFrame({"this store": ours, "paper": PAPER_SCALE})


def plan_progress(plan: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    """Which planned jobs a store has finished, per space × dataset.

    Parameters
    ----------
    plan : DataFrame
        One row per planned job with ``space, arch, dataset, seed`` and optionally
        ``fidelity`` (e.g. the keys of :func:`calstudy.sweep.expand_jobs`' jobs); a store row
        finishes a job when it has the same values in these columns.
    df : DataFrame
        Finished rows of the store, every seed.

    Returns
    -------
    DataFrame
        Indexed by ``(space, dataset)`` of the plan: ``planned``, ``finished``, ``share``.
        ``attrs``: ``planned`` and ``finished`` in all, and ``outside``, the store's rows that
        are no job of the plan.
    """
    keys = ["space", "arch", "dataset", "seed", *(["fidelity"] if "fidelity" in plan else [])]
    check_columns(plan, keys, "plan")
    check_columns(df, keys)
    done = plan.merge(df[keys].drop_duplicates(), on=keys, how="inner")
    table = pd.DataFrame({"planned": plan.groupby(["space", "dataset"]).size(),
                          "finished": done.groupby(["space", "dataset"]).size()})  # fmt: skip
    table = table.fillna(0).astype(int)
    table["share"] = table["finished"] / table["planned"]
    outside = len(df[keys].drop_duplicates()) - len(done)
    table.attrs.update(planned=len(plan), finished=len(done), outside=outside)
    return table


def preset_progress(
    config: SweepConfig | None, every_seed: pd.DataFrame, *, within: pd.DataFrame | None = None
) -> pd.DataFrame:
    """:func:`plan_progress` of a store against the jobs of a sweep configuration.

    Parameters
    ----------
    config : SweepConfig or None
        The configuration (e.g. :func:`calstudy.sweep.preset_config`'s); None: no plan.
    every_seed : DataFrame
        Finished rows of the store, every seed.
    within : DataFrame, optional
        Rows whose spaces and datasets the plan is restricted to (the chapter's selection);
        None: the whole plan.

    Returns
    -------
    DataFrame
        :func:`plan_progress`' table of the planned jobs (:func:`calstudy.sweep.expand_jobs`);
        without a configuration an empty table whose ``attrs`` count 0 planned, finished and
        outside jobs.
    """
    if config is None:
        table = pd.DataFrame(columns=["planned", "finished", "share"])
        table.attrs.update(planned=0, finished=0, outside=0)
        return table
    from calstudy.sweep import expand_jobs

    plan = pd.DataFrame([j.key for j in expand_jobs(config)],
                        columns=["space", "arch", "dataset", "seed", "fidelity"])  # fmt: skip
    if within is not None:
        check_columns(within, ["space", "dataset"], "within")
        chosen = plan["space"].isin(within["space"].unique()) & plan["dataset"].isin(within["dataset"])
        plan = plan[chosen]
    return plan_progress(plan, every_seed)


def preset_table(config: SweepConfig, name: str) -> pd.DataFrame:
    """A sweep configuration's fields in a reader's words, one row per field.

    Mappings are written ``key: value, …``, lists ``a, b, …``, everything else as text.

    Parameters
    ----------
    config : SweepConfig
        E.g. :func:`calstudy.sweep.preset_config`'s.
    name : str
        The preset's name, for the column: ``preset 'demo'``.

    Returns
    -------
    DataFrame
        Indexed by field, one column.
    """

    def plain(value: object) -> str:
        if isinstance(value, dict):
            return ", ".join(f"{a}: {b}" for a, b in value.items())
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)

    fields = {k: plain(v) for k, v in config.to_dict().items()}
    return pd.Series(fields, name=f"preset {name!r}").to_frame()


def progress_sentence(progress: pd.DataFrame, preset: str) -> str:
    """:func:`preset_progress`' counts in words: how much of the preset's plan the store holds.

    Parameters
    ----------
    progress : DataFrame
        :func:`plan_progress`' or :func:`preset_progress`' output.
    preset : str
        The preset's name.

    Returns
    -------
    str
        E.g. "Preset `demo`: 340 of 340 planned jobs finished (100.0 %); 12 rows of this store
        are outside the preset. This store is complete for the preset."; when no planned job is
        finished, that there is no plan to measure the store against.
    """
    from calstudy import report

    done, planned, outside = (progress.attrs.get(k, 0) for k in ("finished", "planned", "outside"))
    if not done:
        return "No preset's plan to measure this store against (see above)."
    return (f"Preset `{preset}`: {done:,} of {planned:,} planned jobs finished "
            f"({report.pct(done / planned)}); {report.plural(outside, 'row')} of this store "
            f"{'is' if outside == 1 else 'are'} outside the preset. This store is "
            f"{'complete' if done == planned else '**partial**'} for the preset.")  # fmt: skip


def progress_summary(progress: pd.DataFrame, preset: str) -> str:
    """:func:`progress_sentence` in one line for the chapter's summary.

    Returns
    -------
    str
        E.g. "It holds 340 of the 340 jobs of preset `demo`, all of them."
    """
    done, planned = (progress.attrs.get(k, 0) for k in ("finished", "planned"))
    if not done:
        return "Its rows are not measured against a preset's plan."
    return f"It holds {done:,} of the {planned:,} jobs of preset `{preset}`" + (
        ", all of them." if done == planned else ": every chapter works on a partial sample."
    )


def logits_sentence(logits_dir: str | os.PathLike[str], n_networks: int) -> str:
    """How many saved logits files a store holds, and what they allow.

    Parameters
    ----------
    logits_dir : path
        The store's logits directory (:attr:`calstudy.store.Store.logits_dir`); it may not
        exist.
    n_networks : int
        The networks of the store.

    Returns
    -------
    str
        E.g. "This store holds 340 logits files for 340 networks: new metrics can be added with
        `calstudy dataset recompute`."
    """
    from calstudy import report

    directory = Path(logits_dir)
    n_logits = len(list(directory.glob("*.npz"))) if directory.is_dir() else 0
    return (f"This store holds {report.plural(n_logits, 'logits file')} for {n_networks:,} "
            "networks: " + ("new metrics can be added with `calstudy dataset recompute`."
                            if n_logits else "a new metric needs the networks evaluated again "
                            "(a sweep into a new store)."))  # fmt: skip


def median_iqr_table(
    df: pd.DataFrame, columns: Sequence[str], *, by: Sequence[str] = ("space", "dataset")
) -> pd.DataFrame:
    """Median [first quartile, third quartile] of each column per group, as text.

    Columns that ``df`` lacks or never fills are left out; ``networks`` counts the group's rows.

    Examples
    --------
    >>> rows = pd.DataFrame({"g": ["a"] * 5, "acc": [0.1, 0.2, 0.3, 0.4, 0.5], "t": [None] * 5})
    >>> table = median_iqr_table(rows, ["acc", "t"], by=["g"])
    >>> int(table.loc["a", "networks"]), table.loc["a", "acc"], list(table.columns)
    (5, '0.300 [0.200, 0.400]', ['networks', 'acc'])
    """
    check_columns(df, list(by))
    kept = [c for c in columns if c in df.columns and df[c].notna().any()]
    groups = df.groupby(list(by))
    table = pd.DataFrame({"networks": groups.size()})
    for column in kept:
        q = groups[column].quantile([0.25, 0.5, 0.75]).unstack()
        table[column] = [f"{r[0.5]:.3f} [{r[0.25]:.3f}, {r[0.75]:.3f}]" for _, r in q.iterrows()]
    return table


def temperature_shift(
    df: pd.DataFrame,
    *,
    by: str = "dataset",
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    min_n: int = 3,
) -> pd.DataFrame:
    r"""Is the median fitted temperature different from 1? Per group, the median of
    :math:`T - 1` with a bootstrap interval and a Wilcoxon signed-rank p-value
    (:func:`~calstudy.differences.paired_difference` against 1).

    :math:`T > 1` softens the network's confidences (it was overconfident), :math:`T < 1`
    sharpens them (underconfident).

    Parameters
    ----------
    df : DataFrame
        Rows with ``temperature`` and ``by``.
    by : str, default="dataset"
        Grouping column.
    n_boot, level, seed
        As in :func:`~calstudy.differences.paired_difference`.
    min_n : int, default=3
        Fewest temperatures a group needs; smaller groups are left out.

    Returns
    -------
    DataFrame
        Indexed by group: ``estimate, low, high, p, n`` (empty when ``df`` holds no
        temperatures).
    """
    check_columns(df, [by, "temperature"])
    records = {}
    for name, part in df.groupby(by):
        temperatures = part["temperature"].dropna().astype(float)
        if len(temperatures) < min_n:
            continue
        r = paired_difference(temperatures, 1.0, n_boot=n_boot, level=level, seed=seed)
        records[name] = {"estimate": r.estimate, "low": r.low, "high": r.high,
                         "p": r.p_value, "n": r.n}  # fmt: skip
    columns = ["estimate", "low", "high", "p", "n"]
    return pd.DataFrame.from_dict(records, orient="index", columns=columns).rename_axis(by)


def temperature_sentence(
    table: pd.DataFrame, *, alpha: float = 0.05, tolerance: float = 0.05
) -> str:
    """:func:`temperature_shift`'s table in words, one clause per group.

    A group is called overconfident (underconfident) when the p-value is below ``alpha`` and
    the interval of the median :math:`T - 1` lies above (below) 0; when the whole interval lies
    within ``±tolerance`` the clause adds that the median temperature is within ``tolerance``
    of 1, essentially calibrated.
    """
    from calstudy import report

    check_columns(table, ["estimate", "low", "high", "p", "n"], "table")
    clauses = []
    for name, r in table.iterrows():
        shift = f"median T − 1 = {report.ci(r['estimate'], r['low'], r['high'], 3)}"
        if r["p"] < alpha and r["low"] > 0:
            verdict = "overconfident (T > 1)"
        elif r["p"] < alpha and r["high"] < 0:
            verdict = "underconfident (T < 1)"
        else:
            verdict = "neither over- nor underconfident by a margin this sample resolves"
        if -tolerance < r["low"] and r["high"] < tolerance:
            within = report.num(tolerance)
            verdict += f"; the interval lies within ±{within}: essentially calibrated"
        clauses.append(f"on {name}, {shift} (Wilcoxon p {report.pvalue(r['p'])}, "
                       f"n = {int(r['n'])}): {verdict}")  # fmt: skip
    return "; ".join(clauses)
