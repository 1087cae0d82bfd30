"""Predicting calibration before training (RQ viii): the chapter's helpers.

Can the post-training calibration of an architecture be ranked before the architecture is
trained? The pieces live by concept: :mod:`calstudy.predictors` (architecture features, the
prediction table, rank predictors and the held-out protocol), :mod:`calstudy.proxies` (zero-cost
proxies at initialisation, torch) and :mod:`calstudy.ceiling` (the noise ceiling). This module
holds what the RQ viii chapter adds on top (isomorphism-grouped samples of large stores, proxy
samples, the comparison runs and their sentences, the chapter's steps pair by pair) and
re-exports the public names of the three (and :func:`calstudy.questions.groups.group_rows`), so
``predict.<name>`` reads as one vocabulary in the chapter.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from calstudy._checks import SPACES, check_columns, check_nonnegative_int, check_positive_int
from calstudy.catalogue import prose_name, reader_label
from calstudy.ceiling import (
    Ceiling,
    ceiling_tau,
    isomorphic_ceiling,
    noise_ceiling,
    retest_ceiling,
)
from calstudy.predictors import (
    CANDIDATES,
    Comparison,
    Fold,
    PredictionData,
    Predictor,
    RankModel,
    SignBaseline,
    add_early,
    add_proxies,
    arch_classes,
    arch_features,
    arch_folds,
    arch_list,
    compare_predictors,
    feature_groups,
    permutation_importance,
    prediction_frame,
    skeleton,
    standard_predictors,
)
from calstudy.proxies import PROXIES, zero_cost_proxies
from calstudy.questions.groups import group_rows
from calstudy.stats import kendall_ci
from calstudy.sweep import parse_fidelity

__all__ = [
    "CANDIDATES",
    "Ceiling",
    "PROXIES",
    "Comparison",
    "Fold",
    "add_early",
    "add_proxies",
    "PredictionData",
    "RankModel",
    "SignBaseline",
    "arch_features",
    "arch_folds",
    "compare_predictors",
    "feature_groups",
    "noise_ceiling",
    "retest_ceiling",
    "ceiling_tau",
    "permutation_importance",
    "prediction_frame",
    "skeleton",
    "standard_predictors",
    "zero_cost_proxies",
]
__all__ += ["arch_classes", "Predictor"]

# ================================================================================================
# RQ viii: isomorphism classes, samples of large stores, and the ceiling at the benchmark's
# fidelity
# ================================================================================================




def study_pairs(df: pd.DataFrame, target: str, *, min_archs: int = 3) -> pd.DataFrame:
    """The (space, dataset, fidelity) groups of a store that RQ viii can score.

    Parameters
    ----------
    df : DataFrame
        Rows of the calibration dataset.
    target : str
        The column to predict.
    min_archs : int, default 3
        Fewest architectures with a finite `target` a group needs.

    Returns
    -------
    DataFrame
        ``space``, ``dataset``, ``fidelity``, ``n_archs`` (architectures with the target) and
        ``n_classes`` (their isomorphism classes), sorted by space and dataset; groups with
        fewer than `min_archs` architectures are left out.
    """
    min_archs = check_positive_int(min_archs, "min_archs")
    for column in ("space", "arch", "dataset", "fidelity", target):
        if column not in df.columns:
            raise ValueError(f"Expected `df` to have a {column!r} column, got none.")
    rows = []
    keep = df[df[target].notna() & df["space"].isin(SPACES)]
    for (space, dataset, fidelity), group in keep.groupby(["space", "dataset", "fidelity"]):
        archs = group["arch"].drop_duplicates()
        if len(archs) >= min_archs:
            classes = len(set(arch_classes(archs, space).tolist()))
            rows.append(dict(space=space, dataset=dataset, fidelity=fidelity,
                             n_archs=len(archs), n_classes=classes))  # fmt: skip
    return pd.DataFrame(rows, columns=["space", "dataset", "fidelity", "n_archs", "n_classes"])


def restrict(data: PredictionData, archs: Sequence[str]) -> PredictionData:
    """`data` with only the rows of `archs` (each must be in it), in `data`'s order."""
    wanted = set(arch_list(list(archs), "archs"))
    unknown = sorted(wanted - set(data.frame["arch"]))
    if unknown:
        raise ValueError(f"Expected architectures of `data`, got {len(unknown)} others, e.g. "
                         f"{unknown[0]!r}.")  # fmt: skip
    keep = data.frame["arch"].isin(wanted).to_numpy()
    return dataclasses.replace(data, frame=data.frame[keep].reset_index(drop=True))


def subsample(data: PredictionData, n: int, *, seed: int = 0) -> PredictionData:
    """At most `n` rows of `data`: all of them, or a seeded uniform sample of architectures.

    The sample is drawn over architecture strings, so it represents the store's population;
    isomorphic strings drawn together stay one group of the folds (``data.group``).

    Examples
    --------
    >>> frame = pd.DataFrame({"arch": list("abcdef"), "y": range(6)})
    >>> data = PredictionData(frame=frame, target="y", features=())
    >>> len(subsample(data, 4).frame), len(subsample(data, 10).frame)
    (4, 6)
    """
    n = check_positive_int(n, "n")
    if len(data.frame) <= n:
        return data
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(data.frame), size=n, replace=False))
    return dataclasses.replace(data, frame=data.frame.iloc[chosen].reset_index(drop=True))


def proxy_sample(
    data: PredictionData, *, max_all: int, sample: int, seed: int = 0
) -> list[str]:
    """The architectures of `data` whose zero-cost proxies to compute.

    A TSS cell whose output does not depend on its input (``connected`` is 0: no path of
    non-``none`` edges) gives every image the same activations from the cell on, so NASWOT's
    kernel is singular and the proxies are undefined: those cells are left out. Of the others,
    all when they are at most `max_all`, else a seeded uniform sample of `sample` (proxies
    cost a forward and backward pass per network), in `data`'s order.

    Parameters
    ----------
    data : PredictionData
    max_all : int
        Most architectures that all get proxies.
    sample : int
        Size of the sample beyond that (0: none).
    seed : int, default 0

    Returns
    -------
    list of str

    Examples
    --------
    >>> frame = pd.DataFrame({"arch": list("abcdef"), "connected": [1, 1, 1, 1, 1, 0]})
    >>> data = PredictionData(frame=frame, target="y", features=())
    >>> proxy_sample(data, max_all=5, sample=2), len(proxy_sample(data, max_all=4, sample=2))
    (['a', 'b', 'c', 'd', 'e'], 2)
    """
    max_all = check_nonnegative_int(max_all, "max_all")
    sample = check_nonnegative_int(sample, "sample")
    frame = data.frame
    eligible = frame["connected"] > 0 if "connected" in frame.columns else frame["arch"].notna()
    archs = frame.loc[eligible.to_numpy(), "arch"].tolist()
    if len(archs) <= max_all:
        return archs
    if len(archs) <= sample:
        return archs
    rng = np.random.default_rng(seed)
    return [archs[i] for i in np.sort(rng.choice(len(archs), size=sample, replace=False))]


def attach_early(
    data: PredictionData,
    signals: pd.DataFrame,
    *,
    seed: int | None = None,
    schedule_epochs: int | None = None,
) -> tuple[PredictionData, pd.DataFrame]:
    """Early-training signals of `data`'s networks, joined when every architecture has them.

    Parameters
    ----------
    data : PredictionData
    signals : DataFrame
        :func:`calstudy.early.load_early_signals` rows (any networks; may be empty).
    seed : int, optional
        The seed of the target runs (early signals must start from the same initial weights);
        None: the only one present.
    schedule_epochs : int, optional
        Which early schedule; None: the only one present.

    Returns
    -------
    (PredictionData, DataFrame)
        `data` with the ``early_*`` columns when the signals cover every architecture, else
        `data` unchanged (every predictor is scored on the same architectures, so partial
        signals are left out); and the signals of `data`'s networks that were found.
    """
    from calstudy.early import signals_for

    found = signals_for(
        signals, space=data.space, dataset=data.dataset, fidelity=data.fidelity, seed=seed,
        schedule_epochs=schedule_epochs,
    )  # fmt: skip
    if found.empty:
        return data, found
    found = found[found["arch"].isin(set(data.frame["arch"]))].reset_index(drop=True)
    if set(data.frame["arch"]) <= set(found["arch"]):
        return add_early(data, found), found
    return data, found


#: Pre-training models in the order the chapter prefers them as its main model.
MAIN_MODELS: tuple[str, ...] = ("model: architecture + proxies", "model: architecture")


def comparison_summary(scores: pd.DataFrame, *, goal: float) -> dict[str, Any]:
    """What a comparison found, for the sentences that state it.

    Parameters
    ----------
    scores : DataFrame
        :attr:`~calstudy.predictors.Comparison.scores`.
    goal : float
        The τ-b asked of a predictor.

    Returns
    -------
    dict
        ``main`` (the richest pre-training model scored, see :data:`MAIN_MODELS`; None when
        none), ``best_before`` (the best predictor that needs no training), ``best`` (the best
        that needs at most the early epochs: references excluded), ``met`` (the best's τ-b
        reaches `goal`), ``excluded`` (the best's whole interval lies below `goal`);
        names are None and flags False when nothing could be scored.
    """
    table = scores.set_index("predictor")
    finite = table[table["tau"].notna()]
    before = finite[~finite["kind"].isin(["reference", "early training"])]
    cheap = finite[finite["kind"] != "reference"]
    best_before = before["tau"].idxmax() if len(before) else None
    best = cheap["tau"].idxmax() if len(cheap) else None
    main = next((m for m in MAIN_MODELS if m in finite.index), None)
    return {
        "main": main,
        "best_before": best_before,
        "best": best,
        "met": bool(best is not None and table.loc[best, "tau"] >= goal),
        "excluded": bool(best is not None and table.loc[best, "high"] < goal),
    }


def chosen_candidate(result: Comparison, predictor: str, *, default: str = "gbm") -> str:
    """The candidate model the inner CV chose most often for `predictor` (its first word)."""
    chosen = result.choices.loc[result.choices["predictor"] == predictor, "choice"]
    if chosen.empty:
        return default
    return str(chosen.astype(str).str.split(",").str[0].value_counts().index[0])


def seed_study_ceiling(
    runs: pd.DataFrame,
    target: str,
    total: Sequence[float] | pd.Series,
    *,
    by: Sequence[str] = ("space", "arch", "dataset", "fidelity"),
    level: float = 0.95,
) -> tuple[Ceiling | None, str | None]:
    """:func:`~calstudy.ceiling.noise_ceiling` from the store's repeated trainings, on one device where possible.

    A systematic shift between devices (or precisions) would count as seed noise, so when
    some device ran an architecture twice, only that device's runs are used (the device with
    the most repeated runs).

    Parameters
    ----------
    runs : DataFrame
        Rows of one space, dataset and fidelity, every seed (``seeds="all"``).
    target : str
    total : array-like
        The target across architectures, one run each.
    by : sequence of str
    level : float, default 0.95

    Returns
    -------
    (Ceiling or None, str or None)
        The ceiling (None when no architecture was trained twice) and the device whose runs
        gave it (None when all devices were used).
    """
    device = None
    if "device" in runs.columns and len(runs):
        repeated = runs[runs.groupby(list(by))[target].transform("size") >= 2]
        twice = repeated.groupby("device")["arch"].apply(lambda a: int(a.duplicated().sum()))
        if len(twice) and twice.max() > 0:
            device = str(twice.idxmax())
            runs = runs[runs["device"] == device]
    return noise_ceiling(runs, target, total, by=by, level=level), device




@dataclass(frozen=True)
class RerunStudy:
    """Full-schedule reruns of a sweep's networks with several seeds (:func:`rerun_study`).

    Attributes
    ----------
    ceiling, ceiling_mean : Ceiling
        :func:`~calstudy.ceiling.retest_ceiling` of the final validation target for single runs and for the
        mean of all seeds.
    by_epoch : DataFrame
        :func:`calstudy.early.seed_reliability` of ECE, accuracy and NLL after each epoch.
    same_seed_tau : float
        τ-b between the store's target and the rerun with the store's seed (NaN when fewer
        than 3 architectures share them).
    n_same_seed : int
    n_seeds : int
    """

    ceiling: Ceiling
    ceiling_mean: Ceiling
    by_epoch: pd.DataFrame
    same_seed_tau: float
    n_same_seed: int
    n_seeds: int


def rerun_study(
    reruns: pd.DataFrame,
    store_rows: pd.DataFrame,
    target: str,
    *,
    epochs: int,
    level: float = 0.95,
    min_archs: int = 3,
) -> RerunStudy | None:
    """The noise ceiling and the epoch-by-epoch ICC from full-schedule reruns.

    Parameters
    ----------
    reruns : DataFrame
        :func:`calstudy.early.signals_for` rows (``seed="all"``) of full-schedule runs,
        ``early_<signal>_e<epoch>`` columns up to `epochs`.
    store_rows : DataFrame
        The store's rows of the same networks (``arch``, ``seed``, `target`).
    target : str
        The store's column the predictors rank (compared with the reruns' final ECE).
    epochs : int
        The study's schedule length; ``early_ece_e{epochs}`` is the final validation ECE.
    level : float, default 0.95
    min_archs : int, default 3
        Fewest architectures run with two or more seeds.

    Returns
    -------
    RerunStudy or None
        None when fewer than `min_archs` architectures have the final ECE from two seeds.
    """
    from calstudy.early import seed_reliability
    from calstudy.stats import kendall_tau

    final = f"early_ece_e{epochs}"
    if reruns.empty or final not in reruns.columns:
        return None
    runs = reruns.dropna(subset=[final])
    runs = runs[runs.groupby("arch")["seed"].transform("nunique") >= 2]
    if runs["arch"].nunique() < min_archs:
        return None
    key = ("space", "arch", "dataset", "fidelity", "schedule_epochs")
    n_seeds = int(runs["seed"].nunique())
    store_seed = int(store_rows["seed"].min()) if len(store_rows) else None
    same = runs[runs["seed"] == store_seed].set_index("arch")[final]
    shared = store_rows.drop_duplicates("arch").set_index("arch")[target].reindex(same.index)
    shared = shared.dropna()
    tau = (
        kendall_tau(shared.to_numpy(), same[shared.index].to_numpy())
        if len(shared) >= 3
        else math.nan
    )
    return RerunStudy(
        ceiling=retest_ceiling(runs, final, by=key, level=level),
        ceiling_mean=retest_ceiling(runs, final, by=key, level=level, target_runs=n_seeds),
        by_epoch=seed_reliability(runs, ("ece", "acc", "nll"), level=level),
        same_seed_tau=float(tau),
        n_same_seed=len(shared),
        n_seeds=n_seeds,
    )


def early_signal_taus(
    data: PredictionData,
    *,
    signal: str = "ece",
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """τ-b of one early signal after each early epoch with the target, over all rows of `data`.

    Returns
    -------
    DataFrame
        One row per epoch: ``epoch``, ``column``, ``mean`` (the signal's mean over
        architectures), ``tau``, ``low``, ``high``, ``p_value``, ``n``; empty when `data` has
        no early columns of `signal`.
    """
    from calstudy.early import split_column

    rows = []
    for column in data.early:
        name, epoch = split_column(column)
        if name != signal:
            continue
        r = kendall_ci(data.frame[column], data.frame[data.target], n_boot=n_boot, level=level,
                       seed=seed)  # fmt: skip
        rows.append(dict(epoch=epoch, column=column, mean=float(data.frame[column].mean()),
                         tau=r.tau, low=r.low, high=r.high, p_value=r.p_value, n=r.n))  # fmt: skip
    columns = ["epoch", "column", "mean", "tau", "low", "high", "p_value", "n"]
    return pd.DataFrame(rows, columns=columns).sort_values("epoch", ignore_index=True)


def shortlist(result: Comparison, predictor: str, *, fraction: float = 0.25) -> dict[str, float]:
    """The target's median in the `fraction` of architectures a predictor ranks best, and rest.

    "Best" is the lowest held-out score (the predictors score larger target values higher, and
    a lower calibration error is better).

    Returns
    -------
    dict
        ``top_median``, ``rest_median``, ``n_top``, ``n``.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"Expected `fraction` in (0, 1), got {fraction!r}.")
    target = result.predictions.columns[1]
    rows = result.predictions[[target, predictor]].dropna()
    ranks = rows[predictor].rank(pct=True)
    top = ranks <= ranks.quantile(fraction)
    return {
        "top_median": float(rows.loc[top, target].median()),
        "rest_median": float(rows.loc[~top, target].median()),
        "n_top": int(top.sum()),
        "n": len(rows),
    }


def proxies_for(
    data: PredictionData,
    *,
    max_all: int,
    sample: int,
    num_images: int = 64,
    data_dir: Any = None,
    seed: int = 0,
) -> tuple[pd.DataFrame | None, str]:
    """Zero-cost proxies of :func:`proxy_sample`'s architectures, or why there are none.

    Returns
    -------
    (DataFrame or None, str)
        :func:`~calstudy.proxies.zero_cost_proxies`' table (skeleton from ``data.fidelity``) and ``""``; or None
        and the reason: no architecture to compute (the sizes are 0, or no cell connects its
        input to its output), or no images of the dataset where :func:`calstudy.data.
        load_dataset` looks.
    """
    chosen = proxy_sample(data, max_all=max_all, sample=sample, seed=seed)
    if not chosen:
        if proxy_sample(data, max_all=len(data.frame), sample=0):
            return None, f"`proxy_archs` = {max_all} and `proxy_sample` = {sample}"
        return None, "no cell with a path from its input to its output"
    C, N = skeleton(data.fidelity)  # the TSS skeleton; SSS networks ignore it
    try:
        table = zero_cost_proxies(chosen, data.space, dataset=data.dataset, data_dir=data_dir,
                                  num_images=num_images, C=C, N=N, seed=seed)  # fmt: skip
    except FileNotFoundError:
        where = data_dir or "the sample shipped with calstudy"
        return None, f"no {data.dataset} images in {where} (set `data_dir`)"
    return table, ""


def comparison_runs(
    data: PredictionData, proxies: pd.DataFrame | None, *, min_archs: int = 3
) -> dict[str, PredictionData]:
    """The tables the predictors are scored on, by label.

    With proxies for every architecture: one table, with them. With proxies for only a sample:
    every architecture without proxies, and the sample (at least `min_archs`) with them.
    """
    label = f"{len(data.frame)} architectures"
    if proxies is None:
        return {label: data}
    sample = restrict(data, list(proxies.index))
    if len(sample.frame) == len(data.frame):
        return {label: add_proxies(data, proxies)}
    runs = {label: data}
    if len(sample.frame) >= min_archs:
        runs[f"the {len(sample.frame)} with proxies"] = add_proxies(sample, proxies)
    return runs


#: Fewest architectures whose percentile interval the chapter lets carry a verdict.
FEW = 20


def tau_words(scores: pd.DataFrame, predictor: str, label: str | None = None) -> str:
    """``"`predictor` (τ = +0.28 [+0.17, +0.36], n = 122)"`` from a ``scores`` table indexed by
    predictor; ``""`` when the predictor is not in it."""
    from calstudy.report import tau

    if predictor not in scores.index:
        return ""
    return f"{label or f'`{predictor}`'} ({tau(scores.loc[predictor])})"


def _interval_word(low: float, high: float) -> str:
    return "above zero" if low > 0 else "below zero" if high < 0 else "holding zero"


def comparison_sentences(
    scores: pd.DataFrame, *, target: str, goal: float, few: int = FEW
) -> tuple[str, str]:
    """What a held-out comparison found, in words: the paragraph and its one-line summary.

    Parameters
    ----------
    scores : DataFrame
        :attr:`~calstudy.predictors.Comparison.scores`.
    target : str
    goal : float
    few : int, default :data:`FEW`
        Below this many architectures, the verdict is said to rest on too few.

    Returns
    -------
    (str, str)
    """
    from calstudy.report import fixed, join, tau

    facts = comparison_summary(scores, goal=goal)
    table = scores.set_index("predictor")
    text = []
    if "parameter count" in table.index:
        size = table.loc["parameter count"]
        text.append(f"The parameter count ranks {prose_name(target)} with {tau(size)}, an interval "
                    f"{_interval_word(size.low, size.high)}.")  # fmt: skip
    proxy_rows = table[(table["kind"] == "zero-cost proxy") & table["tau"].notna()]
    if len(proxy_rows):
        strongest = proxy_rows["tau"].abs().idxmax()
        text.append(f"The strongest single zero-cost proxy is {tau_words(table, strongest)}.")
    if facts["main"] == "model: architecture + proxies":
        text.append("The model on the architecture features and the proxies scores "
                    f"{tau(table.loc[facts['main']])}, against "
                    f"{tau(table.loc['model: architecture'])} for the architecture features "
                    "alone.")  # fmt: skip
    elif facts["main"]:
        text.append(f"The model on the architecture features scores {tau(table.loc[facts['main']])}.")
    if facts["best_before"]:
        text.append("The best predictor that needs no training is "
                    f"{tau_words(table, facts['best_before'])}.")  # fmt: skip
    summary = "no predictor could be scored."
    if facts["best"]:
        best = table.loc[facts["best"]]
        verdict = ("**reaches the goal**" if facts["met"] else
                   "stays below it, its whole interval too" if facts["excluded"] else
                   "stays below it, though its interval reaches it")  # fmt: skip
        rough = (f" (on only {best.n} architectures: its interval is too rough to carry a "
                 "verdict)" if best.n < few else "")  # fmt: skip
        text.append(f"Against the goal τ ≥ {goal:g}, the best predictor before or within the "
                    f"first epochs, `{facts['best']}` (τ = {fixed(best.tau)}), {verdict}{rough}.")
        summary = (f"the best predictor before training or within its first epochs, "
                   f"{tau_words(table, facts['best'])}, "
                   f"{'reaches' if facts['met'] else 'misses'} the goal τ ≥ {goal:g}{rough}.")
    if "model: early training" in table.index:
        text.append(
            f"With early training: {tau_words(table, 'model: early training', 'on its own')}; "
            + tau_words(table, "model: architecture + proxies + early training",
                        "together with the pre-training inputs") + ".")  # fmt: skip
    references = table.index[table["kind"] == "reference"]
    if len(references):
        text.append("After training, for reference: " + join(
            tau_words(table, k, k.removeprefix("reference: ")) for k in references) + ".")
    return " ".join(text), summary


def early_sentence(
    taus: pd.DataFrame, signals: pd.DataFrame, *, target: str, study_epochs: int
) -> tuple[str, str]:
    """What the early signals say, in words: the paragraph and its one-line summary.

    Parameters
    ----------
    taus : DataFrame
        :func:`early_signal_taus`.
    signals : DataFrame
        The early-signal rows used (``schedule_epochs``, ``seconds``, ``device``).
    target : str
    study_epochs : int
        Epochs of a full run of the study.
    """
    from calstudy.report import fixed, join, num, plural, tau

    schedule = int(signals["schedule_epochs"].iloc[0])
    peak = taus.loc[taus["mean"].idxmax()]
    holding = int(((taus["low"] <= 0) & (taus["high"] >= 0)).sum())
    text = (f"{plural(len(taus), 'early epoch')} of a {schedule}-epoch schedule "
            f"({len(taus) / study_epochs:.0%} of the study's {study_epochs} epochs), "
            f"{signals['seconds'].median():.0f} s per network (median) on "
            f"{signals['device'].iloc[0]}. The mean validation ECE peaks after epoch "
            f"{int(peak['epoch'])} ({num(peak['mean'])}). Against the final {prose_name(target)}: "
            + join(f"epoch {r.epoch} {tau(r._asdict())}" for r in taus.itertuples())
            + f"; {holding} of {len(taus)} intervals hold zero.")  # fmt: skip
    summary = (f"the validation ECE after the first {len(taus)} epochs ranks the final "
               f"{prose_name(target)} with τ from {fixed(taus['tau'].min())} to "
               f"{fixed(taus['tau'].max())}; {holding} of {len(taus)} intervals hold zero.")
    return text, summary


@dataclass(frozen=True)
class NoiseCeilings:
    """Every noise ceiling a store measures for one space, dataset and fidelity.

    Attributes
    ----------
    ceilings : dict of str → Ceiling
        By source: ``"seed study"`` (with the device when one device's runs were used),
        ``"isomorphic strings"``, ``"reruns, single runs"``, ``"reruns, mean of k seeds"``.
    missing : list of str
        Why each other source is absent, in words.
    rerun : RerunStudy or None
    """

    ceilings: dict[str, Ceiling]
    missing: list[str]
    rerun: RerunStudy | None


def noise_ceilings(
    rows: pd.DataFrame,
    total: Sequence[float] | pd.Series,
    target: str,
    *,
    reruns: pd.DataFrame,
    level: float = 0.95,
    min_archs: int = 3,
) -> NoiseCeilings:
    """The noise ceilings of :func:`seed_study_ceiling`, :func:`~calstudy.ceiling.isomorphic_ceiling` and
    :func:`rerun_study` that a store's rows support.

    Parameters
    ----------
    rows : DataFrame
        The store's rows of one space, dataset and fidelity, every seed.
    total : array-like
        The target of the scored architectures, one run each.
    target : str
    reruns : DataFrame
        :func:`calstudy.early.signals_for` rows of full-schedule reruns (``seed="all"``) of
        these networks; may be empty.
    level : float, default 0.95
    min_archs : int, default 3
    """

    space = str(rows["space"].iloc[0])
    ceilings: dict[str, Ceiling] = {}
    missing = []
    ceiling, device = seed_study_ceiling(rows, target, total, level=level)
    if ceiling is None:
        missing.append("no architecture was trained with a second seed (no seed study)")
    else:
        ceilings["seed study" + (f", {device} runs" if device else "")] = ceiling
    one_seed = rows[rows["seed"] == rows.groupby("arch")["seed"].transform("min")]
    classes = arch_classes(one_seed["arch"], space)
    if space != "tss":
        missing.append("SSS networks have no isomorphic twins")
    elif len(classes) == len(set(classes.tolist())):
        missing.append(f"no two of its {len(classes)} TSS strings are isomorphic")
    else:
        ceilings["isomorphic strings"] = isomorphic_ceiling(one_seed, target, level=level)
    rerun = None
    if len(reruns):
        epochs = parse_fidelity(str(rows["fidelity"].iloc[0]))["epochs"]
        rerun = rerun_study(reruns, one_seed, target, epochs=epochs, level=level,
                            min_archs=min_archs)  # fmt: skip
    if rerun is None:
        missing.append("no full-schedule reruns with several seeds")
    else:
        ceilings["reruns, single runs"] = rerun.ceiling
        ceilings[f"reruns, mean of {rerun.n_seeds} seeds"] = rerun.ceiling_mean
    return NoiseCeilings(ceilings, missing, rerun)


def ceiling_sentence(
    source: str,
    ceiling: Ceiling,
    *,
    goal: float,
    best: Mapping[str, float],
    n_strings: int | None = None,
    n_classes: int | None = None,
) -> str:
    """A noise ceiling in words, the goal and the best pre-training predictors against it.

    Parameters
    ----------
    source : str
        Key of :attr:`NoiseCeilings.ceilings`.
    ceiling : Ceiling
    goal : float
    best : mapping of str → float
        τ-b of the best pre-training predictor of each scored table, by its label (compared
        unless the ceiling is of a mean of seeds).
    n_strings, n_classes : int, optional
        The strings and classes behind an isomorphic-strings ceiling.
    """
    from calstudy.report import ci, fixed

    if "isomorphic" in source and n_strings is not None:
        over = (f"{n_strings:,} strings in {n_classes:,} classes, {ceiling.n_archs:,} of them with "
                "two or more strings")  # fmt: skip
    else:
        over = f"{ceiling.n_archs} architectures"
    where = ("above its interval: out of reach at this fidelity for any predictor that sees only "
             "the architecture" if goal > ceiling.high else
             "inside its interval" if goal >= ceiling.low else "below its interval: within reach")
    text = (f"ICC {ci(ceiling.icc, ceiling.icc_low, ceiling.icc_high, signed=False)} over {over}, "
            f"so the ceiling is τ ≈ {ci(ceiling.tau_max, ceiling.low, ceiling.high, signed=False)};"
            f" the goal τ ≥ {goal:g} lies {where}.")  # fmt: skip
    if "mean of" in source:
        return text
    for label, tau in best.items():
        wide = ceiling.high - ceiling.low > 0.3
        relation = ("above the ceiling's interval" if tau > ceiling.high else
                    "inside the ceiling's interval, too wide to tell how much is left for "
                    "better inputs" if tau >= ceiling.low and wide else
                    "inside the ceiling's interval: little of what it misses is left for better "
                    "inputs to find" if tau >= ceiling.low else
                    "below the ceiling's interval: better inputs could rank more")  # fmt: skip
        text += f" The best pre-training predictor on {label} (τ = {fixed(tau)}) lies {relation}."
    return text


def rerun_sentence(rerun: RerunStudy, *, device: str, target: str) -> str:
    """The reruns' last-epoch ICCs and the same-seed τ, in words."""
    from calstudy.report import ci, fixed, join

    epochs = int(rerun.by_epoch["epoch"].max())
    last = rerun.by_epoch[rerun.by_epoch["epoch"] == epochs].set_index("signal")
    return (f"{rerun.ceiling.n_archs} architectures × {rerun.n_seeds} seeds on {device}. After "
            "the last epoch the ICC is "
            + join(f"{s} {ci(r.icc, r.low, r.high, signed=False)}" for s, r in last.iterrows())
            + ". Retrained with the store's own seed, the reruns' final validation ECE ranks like "
            f"the store's {prose_name(target)} with τ = {fixed(rerun.same_seed_tau)} over "
            f"{rerun.n_same_seed} architectures.")  # fmt: skip


def pairs_sentence(pairs: pd.DataFrame, *, target: str, min_archs: int) -> str:
    """What :func:`study_pairs` found in a store, in words."""
    from calstudy.report import join, plural

    if pairs.empty:
        return (f"No space and dataset of this store has {min_archs} architectures with "
                f"`{target}` (`min_rows`): nothing is scored, and every section below is skipped.")
    return f"The target is {prose_name(target)} (`{target}`). This store holds, with it, " + join(
        f"{plural(p.n_archs, 'architecture string')} of {p.space.upper()} {p.dataset} in "
        f"{plural(p.n_classes, 'isomorphism class', 'isomorphism classes')} (fidelity "
        f"`{p.fidelity}`)" for p in pairs.itertuples()) + "."


def inputs_sentence(
    data: PredictionData, proxies: pd.DataFrame | None, why: str, *, n_archs: int,
    max_archs: int, seconds: float,
) -> str:  # fmt: skip
    """Which architectures are scored and which got zero-cost proxies, in words."""
    from calstudy.report import plural

    text = f"{len(data.frame):,} of its {n_archs:,} architectures are scored" + (
        f" (a sample: `max_archs` = {max_archs})" if len(data.frame) < n_archs else "")
    if proxies is None:
        return f"{text}; no zero-cost proxies: {why}."
    C, N = skeleton(data.fidelity)
    return (f"{text}; zero-cost proxies for {plural(len(proxies), 'network')}"
            + (" (a sample)" if len(proxies) < len(data.frame) else "")
            + f" in {seconds:.0f} s (" + (f"skeleton C = {C}, N = {N}, " if data.space == "tss"
                                           else "") + "one CPU thread).")  # fmt: skip


def shortlist_sentence(result: Comparison, predictor: str) -> str:
    """:func:`shortlist` in words."""
    from calstudy.report import num

    s = shortlist(result, predictor)
    target = result.predictions.columns[1]
    lower = "lower" if s["top_median"] < s["rest_median"] else "no lower"
    return (f"the quarter the model predicts best calibrated ({s['n_top']} architectures) has "
            f"{lower} median {prose_name(target)} than the rest: {num(s['top_median'])} against "
            f"{num(s['rest_median'])}.")


def importance_shares(importance: pd.DataFrame, proxies: Sequence[str]) -> dict[str, float]:
    """The proxies' share of the positive held-out importance, and the parameter count's.

    Returns
    -------
    dict
        ``proxy_share`` (NaN when no importance is positive) and ``n_params`` (NaN when absent).
    """
    positive = importance["importance"].clip(lower=0)
    total = positive.sum()
    share = positive[importance["feature"].isin(list(proxies))].sum() / total if total > 0 else math.nan
    size = importance.set_index("feature")["importance"].get("n_params", math.nan)
    return {"proxy_share": float(share), "n_params": float(size)}


def importance_sentence(importance: pd.DataFrame, proxies: Sequence[str], *, top: int = 5) -> str:
    """:func:`~calstudy.predictors.permutation_importance`'s strongest inputs (architecture
    columns by their display names) and :func:`importance_shares` in words."""
    from calstudy.report import fixed, join, pct

    shares = importance_shares(importance, proxies)
    strongest = importance.dropna().head(top)
    return ("most important: " + join(f"{reader_label(f)} ({fixed(v, 3)})" for f, v in
                                      strongest[["feature", "importance"]].to_numpy())
            + (f". The zero-cost proxies carry {pct(shares['proxy_share'], 0)} of the positive "
               "importance" if proxies else "")
            + f"; the parameter count {fixed(shares['n_params'], 3)}.")  # fmt: skip


def ceiling_table(ceilings: Mapping[str, Ceiling]) -> pd.DataFrame:
    """One row per source: ``n``, the ICC with its interval, the τ ceiling with its interval."""
    return pd.DataFrame(
        [dict(source=k, n=c.n_archs, icc=c.icc, icc_low=c.icc_low, icc_high=c.icc_high,
              tau_max=c.tau_max, low=c.low, high=c.high) for k, c in ceilings.items()],
        columns=["source", "n", "icc", "icc_low", "icc_high", "tau_max", "low", "high"],
    ).set_index("source")  # fmt: skip


def early_seed_icc(
    signals: pd.DataFrame, data: PredictionData, *, schedule_epochs: int, level: float = 0.95,
    min_archs: int = 3,
) -> pd.DataFrame | None:  # fmt: skip
    """The ICC of each early epoch's validation ECE across seeds, where the early runs of at
    least `min_archs` of `data`'s networks were repeated with other seeds (else None)."""
    from calstudy.early import seed_reliability, signals_for

    runs = signals_for(signals, space=data.space, dataset=data.dataset, fidelity=data.fidelity,
                       seed="all", schedule_epochs=schedule_epochs)  # fmt: skip
    runs = runs[runs.groupby("arch")["seed"].transform("nunique") >= 2]
    if runs["arch"].nunique() < min_archs:
        return None
    table = seed_reliability(runs, ("ece",), level=level)
    table.attrs["n_archs"] = int(runs["arch"].nunique())
    return table


# ================================================================================================
# The chapter's steps, one space and dataset (a "pair" of study_pairs) at a time
# ================================================================================================


def pair_title(space: str, dataset: str, label: str | None = None) -> str:
    """How the chapter heads a finding: ``"TSS cifar10"``, or ``"TSS cifar10, <label>"``.

    Examples
    --------
    >>> pair_title("tss", "cifar10"), pair_title("sss", "cifar10", "the 48 with proxies")
    ('TSS cifar10', 'SSS cifar10, the 48 with proxies')
    """
    title = f"{str(space).upper()} {dataset}"
    return title if label is None else f"{title}, {label}"


def predictor_table(scores: pd.DataFrame) -> pd.DataFrame:
    """A comparison's scores for readers: each predictor's held-out τ-b with its interval, kind,
    n, and the mean and spread of τ-b over the repeats.

    Parameters
    ----------
    scores : DataFrame
        :attr:`~calstudy.predictors.Comparison.scores` (``predictor``, ``kind``, ``tau``,
        ``low``, ``high``, ``n``, ``tau_mean``, ``tau_sd``).

    Returns
    -------
    DataFrame
        Indexed by ``predictor``, in `scores`' order: ``τ-b`` (``"+0.28 [+0.17, +0.36]"``),
        then ``kind``, ``n``, ``tau_mean`` and ``tau_sd`` as
        :func:`calstudy.report.format_table` writes them.
    """
    from calstudy.report import ci_columns, format_table

    check_columns(scores, ["predictor", "kind", "tau", "low", "high", "n", "tau_mean", "tau_sd"],
                  "scores")  # fmt: skip
    interval = ci_columns(scores, index="predictor", columns={"τ-b": ("tau", "low", "high")})
    rest = format_table(scores.set_index("predictor")[["kind", "n", "tau_mean", "tau_sd"]])
    return pd.concat([interval, rest], axis=1)


def pair_inputs(
    df: pd.DataFrame,
    pair: Any,
    *,
    target: str,
    max_archs: int,
    max_all: int,
    sample: int,
    num_images: int = 64,
    data_dir: Any = None,
    seed: int = 0,
) -> tuple[PredictionData, pd.DataFrame | None, str]:
    """What a pair's predictors may use before training: the scored architectures and their
    zero-cost proxies, and the sentence that says which.

    The pair's :func:`~calstudy.predictors.prediction_frame` is cut to a seeded sample of
    `max_archs` architectures (:func:`subsample`), and :func:`proxies_for` computes the
    proxies of every one of them when they are at most `max_all`, else of a seeded sample of
    `sample` (timed, for :func:`inputs_sentence`).

    Parameters
    ----------
    df : DataFrame
        The store's rows, one seed per network.
    pair : object
        A row of :func:`study_pairs` (``space``, ``dataset``, ``fidelity``, ``n_archs``).
    target : str
        The column the predictors rank (e.g. ``pre_ECE_15``).
    max_archs : int
        Architectures scored (a seeded sample when more).
    max_all, sample, num_images, data_dir, seed
        As in :func:`proxies_for`.

    Returns
    -------
    (PredictionData, DataFrame or None, str)
        The scored data (without proxy columns), the proxy table (None when none was computed)
        and :func:`inputs_sentence`.
    """
    import time

    data = prediction_frame(df, space=pair.space, dataset=pair.dataset, target=target,
                            fidelity=pair.fidelity)  # fmt: skip
    data = subsample(data, max_archs, seed=seed)
    tic = time.perf_counter()
    proxies, why = proxies_for(data, max_all=max_all, sample=sample, num_images=num_images,
                               data_dir=data_dir, seed=seed)  # fmt: skip
    text = inputs_sentence(data, proxies, why, n_archs=pair.n_archs, max_archs=max_archs,
                           seconds=time.perf_counter() - tic)  # fmt: skip
    return data, proxies, text


@dataclass(frozen=True)
class EarlySignals:
    """A pair's early-training signals (:func:`pair_early`).

    Attributes
    ----------
    data : PredictionData
        The scored data, with the ``early_*`` columns when every architecture has them.
    found : DataFrame
        The early-signal rows of the pair's networks that were found (may be empty).
    taus : DataFrame or None
        :func:`early_signal_taus`; None when the signals were not joined.
    schedule_epochs : int or None
        The early runs' cosine period; None when the signals were not joined.
    text : str
        The paragraph that states them (:func:`early_sentence`, or why the predictors use no
        early signals).
    summary : str or None
        Its one-line summary; None when the signals were not joined.
    """

    data: PredictionData
    found: pd.DataFrame
    taus: pd.DataFrame | None
    schedule_epochs: int | None
    text: str
    summary: str | None


def pair_early(
    data: PredictionData,
    signals: pd.DataFrame,
    runs: pd.DataFrame,
    *,
    schedule_epochs: int | None = None,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
) -> EarlySignals:
    """Join a pair's early-training signals (:func:`attach_early`), rank the target by them
    (:func:`early_signal_taus`) and say so (:func:`early_sentence`).

    The early runs start from the initial weights of the store's runs, so they are looked up
    for the lowest seed among `runs` of `data`'s space, dataset and fidelity.

    Parameters
    ----------
    data : PredictionData
    signals : DataFrame
        :func:`calstudy.early.load_early_signals` rows (any networks; may be empty).
    runs : DataFrame
        The store's rows, every seed (``seed`` column; any pairs: those of `data` are used).
    schedule_epochs : int, optional
        Which early schedule; None: the only one present.
    n_boot, level, seed
        Of the τ-b intervals.

    Returns
    -------
    EarlySignals
    """
    check_columns(runs, ["seed"], "runs")
    seeds = group_rows(runs, data)["seed"]
    if seeds.empty:
        raise ValueError(f"Expected `runs` to hold rows of {pair_title(data.space, data.dataset)} "
                         f"at fidelity {data.fidelity!r}, the pair of `data`; it holds none.")  # fmt: skip
    store_seed = int(seeds.min())
    joined, found = attach_early(data, signals, seed=store_seed, schedule_epochs=schedule_epochs)
    if not joined.early:
        have = f"for {found['arch'].nunique()} of {len(data.frame)}" if len(found) else "none"
        text = (f"early-training signals: {have}; the predictors use only what exists before "
                "training.")  # fmt: skip
        return EarlySignals(joined, found, None, None, text, None)
    taus = early_signal_taus(joined, n_boot=n_boot, level=level, seed=seed)
    text, summary = early_sentence(taus, found, target=data.target,
                                   study_epochs=parse_fidelity(data.fidelity)["epochs"])  # fmt: skip
    return EarlySignals(joined, found, taus, int(found["schedule_epochs"].iloc[0]), text, summary)


@dataclass(frozen=True)
class ScoredRun:
    """One held-out comparison of the chapter (:func:`score_runs`) and what it found.

    Attributes
    ----------
    label : str
        Which architectures it scores (:func:`comparison_runs`' key).
    run : PredictionData
    result : Comparison
    facts : dict
        :func:`comparison_summary`.
    seconds : float
        Time to fit and score the predictors.
    text, summary : str
        :func:`comparison_sentences`: the paragraph and its one-line summary.
    title : str
        :func:`pair_title` of the run's space, dataset and `label` (a property).
    heading : str
        The bold title with the folds, isomorphism classes and seconds (a property).
    """

    label: str
    run: PredictionData
    result: Comparison
    facts: dict[str, Any]
    seconds: float
    text: str
    summary: str

    @property
    def title(self) -> str:
        return pair_title(self.run.space, self.run.dataset, self.label)

    @property
    def heading(self) -> str:
        return (f"**{self.title}** ({len(self.result.folds)} outer folds over "
                f"{self.run.frame[self.run.group].nunique()} isomorphism classes, "
                f"{self.seconds:.0f} s):")  # fmt: skip


def score_runs(
    data: PredictionData,
    proxies: pd.DataFrame | None,
    *,
    goal: float,
    candidates: Sequence[str] = tuple(CANDIDATES),
    inner_splits: int = 3,
    n_splits: int = 5,
    n_repeats: int = 2,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    min_archs: int = 3,
) -> dict[str, ScoredRun]:
    """Every held-out comparison of a pair: :func:`~calstudy.predictors.standard_predictors`
    scored by :func:`~calstudy.predictors.compare_predictors` on each table of
    :func:`comparison_runs`, with its facts and sentences.

    Parameters
    ----------
    data : PredictionData
        The pair's scored architectures (with early signals where joined).
    proxies : DataFrame or None
        Their zero-cost proxies (:func:`pair_inputs`).
    goal : float
        The τ-b asked of a predictor.
    candidates, inner_splits
        Of :func:`~calstudy.predictors.standard_predictors`.
    n_splits, n_repeats, n_boot, level, seed
        Of :func:`~calstudy.predictors.compare_predictors`.
    min_archs : int, default 3
        Fewest architectures of a proxy sample scored on its own.

    Returns
    -------
    dict of str → ScoredRun
        By label, in :func:`comparison_runs`' order.
    """
    import time

    scored = {}
    for label, run in comparison_runs(data, proxies, min_archs=min_archs).items():
        tic = time.perf_counter()
        predictors = standard_predictors(run, candidates=candidates, inner_splits=inner_splits,
                                         seed=seed)  # fmt: skip
        result = compare_predictors(run, predictors, n_splits=n_splits, n_repeats=n_repeats,
                                    n_boot=n_boot, level=level, seed=seed)  # fmt: skip
        seconds = time.perf_counter() - tic
        text, summary = comparison_sentences(result.scores, target=run.target, goal=goal)
        scored[label] = ScoredRun(label, run, result, comparison_summary(result.scores, goal=goal),
                                  seconds, text, summary)  # fmt: skip
    return scored


def main_runs(scored: Mapping[Any, ScoredRun]) -> dict[str, ScoredRun]:
    """The comparison whose main model the chapter shows, one per space and dataset.

    Of the comparisons with a main model (:data:`MAIN_MODELS`), the last one with zero-cost
    proxies, else the first one.

    Parameters
    ----------
    scored : mapping of any → ScoredRun
        Every comparison of the chapter, in its order.

    Returns
    -------
    dict of str → ScoredRun
        By :attr:`ScoredRun.title`, in the order the spaces and datasets first appear.
    """
    shown: dict[tuple[str, str], ScoredRun] = {}
    for s in scored.values():
        pair = (s.run.space, s.run.dataset)
        if s.facts["main"] and (pair not in shown or s.run.proxies):
            shown[pair] = s
    return {s.title: s for s in shown.values()}


def main_importance(
    scored: ScoredRun,
    *,
    candidates: Sequence[str] = tuple(CANDIDATES),
    inner_splits: int = 3,
    n_permutations: int = 5,
    seed: int = 0,
) -> tuple[pd.DataFrame | None, str, str]:
    """Permutation importance of a comparison's main model on its own held-out folds.

    The model is refitted on each outer fold with the candidate its inner CV chose most often
    (:func:`chosen_candidate`; the first of `candidates` when it never chose one), then
    :func:`~calstudy.predictors.permutation_importance` shuffles each input on the held-out
    architectures.

    Parameters
    ----------
    scored : ScoredRun
        A comparison with a main model (``facts["main"]``).
    candidates, inner_splits
        Of :func:`~calstudy.predictors.standard_predictors`, as in the comparison.
    n_permutations, seed
        Of :func:`~calstudy.predictors.permutation_importance`.

    Returns
    -------
    (DataFrame or None, str, str)
        The importance table (None when every held-out fold is too small for a τ-b), the
        candidate model, and the sentence that states it (:func:`importance_sentence`).
    """
    main = scored.facts["main"]
    if not main:
        raise ValueError(f"Expected `scored` to have a main model, got none for {scored.title!r}.")
    model = standard_predictors(scored.run, candidates=candidates, inner_splits=inner_splits,
                                seed=seed)[main]  # fmt: skip
    candidate = chosen_candidate(scored.result, main, default=candidates[0])
    importance = permutation_importance(scored.run, model, candidate=candidate,
                                        folds=scored.result.folds, n_permutations=n_permutations,
                                        seed=seed)  # fmt: skip
    if importance["importance"].isna().all():
        return None, candidate, ("every held-out fold has fewer than 3 architectures, too few "
                                 "for a τ-b: no importance.")  # fmt: skip
    return importance, candidate, importance_sentence(importance, scored.run.proxies)


def pair_reruns(reruns: pd.DataFrame, data: PredictionData) -> pd.DataFrame:
    """The full-schedule reruns of `data`'s networks, every seed, at the study's schedule.

    Parameters
    ----------
    reruns : DataFrame
        :func:`calstudy.early.load_early_signals` rows of ``calstudy early``'s full-schedule
        runs (any networks; may be empty).
    data : PredictionData

    Returns
    -------
    DataFrame
        :func:`calstudy.early.signals_for` rows (``seed="all"``) whose schedule is the
        study's epochs (``data.fidelity``); empty when none.
    """
    from calstudy.early import signals_for

    epochs = None if reruns.empty else parse_fidelity(data.fidelity)["epochs"]
    return signals_for(reruns, space=data.space, dataset=data.dataset, fidelity=data.fidelity,
                       seed="all", schedule_epochs=epochs)  # fmt: skip


def early_icc_sentence(table: pd.DataFrame) -> str:
    """:func:`early_seed_icc` in words: its architectures and each epoch's ICC.

    Examples
    --------
    >>> t = pd.DataFrame({"epoch": [1, 2], "icc": [0.1, 0.35], "low": [0.0, 0.2],
    ...                   "high": [0.3, 0.5]})
    >>> t.attrs["n_archs"] = 6
    >>> early_icc_sentence(t)
    '(6 architectures): the ICC of the validation ECE after each early epoch is 0.10 [0.00, 0.30] (epoch 1) and 0.35 [0.20, 0.50] (epoch 2).'
    """
    from calstudy.report import ci, join

    return (f"({table.attrs['n_archs']} architectures): the ICC of the validation ECE after each "
            "early epoch is " + join(f"{ci(r.icc, r.low, r.high, signed=False)} (epoch {r.epoch})"
                                     for r in table.itertuples()) + ".")  # fmt: skip


def best_before(scored: Iterable[ScoredRun], pair: Any) -> dict[str, float]:
    """τ-b of the best predictor that needs no training, in each comparison of one pair.

    Parameters
    ----------
    scored : iterable of ScoredRun
        Comparisons of any pairs.
    pair : object
        With ``space`` and ``dataset`` attributes (a row of :func:`study_pairs`).

    Returns
    -------
    dict of str → float
        By :attr:`ScoredRun.label`, for the comparisons of `pair` with such a predictor
        (``facts["best_before"]``): what :func:`ceiling_sentence` compares with the ceiling.
    """
    best = {}
    for s in scored:
        name = s.facts["best_before"]
        if (s.run.space, s.run.dataset) == (pair.space, pair.dataset) and name:
            best[s.label] = float(s.result.scores.set_index("predictor").loc[name, "tau"])
    return best


def ceiling_sentences(
    found: NoiseCeilings,
    *,
    goal: float,
    best: Mapping[str, float],
    n_strings: int | None = None,
    n_classes: int | None = None,
) -> dict[str, str]:
    """:func:`ceiling_sentence` of each ceiling of `found`, by source, in its order.

    Parameters
    ----------
    found : NoiseCeilings
        :func:`noise_ceilings`' result for one space and dataset.
    goal, best, n_strings, n_classes
        As in :func:`ceiling_sentence`.

    Returns
    -------
    dict of str → str
        Source → sentence.
    """
    return {source: ceiling_sentence(source, c, goal=goal, best=best, n_strings=n_strings,
                                     n_classes=n_classes)
            for source, c in found.ceilings.items()}  # fmt: skip


def answer_findings(
    scored: Mapping[Any, ScoredRun], ceilings: Mapping[str, Mapping[str, str]]
) -> str:
    """The answer box's findings: each comparison's summary, then each pair's first ceiling.

    Parameters
    ----------
    scored : mapping of any → ScoredRun
        Every comparison, in the chapter's order.
    ceilings : mapping of str → mapping of str → str
        Each pair's :func:`ceiling_sentences`, by :func:`pair_title`.

    Returns
    -------
    str
        A Markdown list after a blank line (``"\\n\\n- …"``), or a sentence saying that
        nothing could be scored when there is no comparison.

    Examples
    --------
    >>> answer_findings({}, {})
    'Nothing could be scored on this store.'
    """
    if not scored:
        return "Nothing could be scored on this store."
    lines = [f"{s.title}: {s.summary}" for s in scored.values()]
    lines += [f"{name}, {source}: {text}" for name, texts in ceilings.items()
              for source, text in list(texts.items())[:1]]  # fmt: skip
    return "\n\n" + "\n".join(f"- {line}" for line in lines)


def comparison_problems(run: PredictionData, result: Comparison, *, few: int = FEW) -> list[str]:
    """What must hold for any held-out comparison, and where it does not.

    Checked: every τ-b in [-1, 1] and p-value in [0, 1]; on `few` or more architectures, each
    τ-b inside its interval (percentile intervals can miss on tiny samples); no fold trains on
    a group (isomorphism class) it holds out; one row per architecture string; proxy and early
    columns finite wherever they are used.

    Parameters
    ----------
    run : PredictionData
    result : Comparison
        Of `run`.
    few : int, default :data:`FEW`

    Returns
    -------
    list of str
        One line per violation; empty when all hold.
    """
    problems = []
    for name, r in result.scores.set_index("predictor").iterrows():
        if not (np.isnan(r.tau) or -1 <= r.tau <= 1):
            problems.append(f"`{name}`: τ-b {r.tau} outside [-1, 1]")
        if not (np.isnan(r.p_value) or 0 <= r.p_value <= 1):
            problems.append(f"`{name}`: p-value {r.p_value} outside [0, 1]")
        if r.n >= few and np.isfinite(r.tau) and not r.low - 1e-9 <= r.tau <= r.high + 1e-9:
            problems.append(f"`{name}`: τ-b {r.tau} outside its interval [{r.low}, {r.high}]")
    groups = run.frame[run.group]
    for i, f in enumerate(result.folds):
        if set(groups.iloc[f.train]) & set(groups.iloc[f.test]):
            problems.append(f"fold {i} holds out a `{run.group}` it was trained on")
    if run.frame["arch"].duplicated().any():
        problems.append("an architecture string has several rows")
    for kind, columns in (("proxy", run.proxies), ("early", run.early)):
        if columns and not run.frame[list(columns)].notna().all().all():
            problems.append(f"missing {kind} values where they are used")
    return problems


def ceiling_problems(found: NoiseCeilings) -> list[str]:
    """What must hold for any store, checked on `found`: every ICC and τ ceiling in [0, 1] and
    inside its interval.

    Parameters
    ----------
    found : NoiseCeilings
        :func:`noise_ceilings`' result.

    Returns
    -------
    list of str
        One line per source that breaks it; empty when all hold (the chapter asserts this).
    """
    problems = []
    for source, c in found.ceilings.items():
        if not 0 <= c.icc_low <= c.icc <= c.icc_high <= 1:
            problems.append(f"{source}: ICC {c.icc} [{c.icc_low}, {c.icc_high}]")
        if not 0 <= c.low <= c.tau_max <= c.high <= 1:
            problems.append(f"{source}: τ ceiling {c.tau_max} [{c.low}, {c.high}]")
    return problems


__all__ += [
    "EarlySignals",
    "ScoredRun",
    "answer_findings",
    "best_before",
    "ceiling_problems",
    "ceiling_sentences",
    "comparison_problems",
    "early_icc_sentence",
    "main_importance",
    "main_runs",
    "pair_early",
    "pair_inputs",
    "pair_reruns",
    "group_rows",
    "pair_title",
    "predictor_table",
    "score_runs",
]
__all__ += [
    "FEW",
    "ceiling_table",
    "early_seed_icc",
    "importance_sentence",
    "importance_shares",
    "inputs_sentence",
    "pairs_sentence",
    "shortlist_sentence",
    "MAIN_MODELS",
    "NoiseCeilings",
    "ceiling_sentence",
    "comparison_runs",
    "comparison_sentences",
    "early_sentence",
    "noise_ceilings",
    "proxies_for",
    "rerun_sentence",
    "tau_words",
    "RerunStudy",
    "arch_classes",
    "attach_early",
    "chosen_candidate",
    "comparison_summary",
    "early_signal_taus",
    "isomorphic_ceiling",
    "proxy_sample",
    "rerun_study",
    "restrict",
    "seed_study_ceiling",
    "shortlist",
    "study_pairs",
    "subsample",
]
