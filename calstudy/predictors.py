"""Rank predictors of post-training calibration, and their held-out protocol (RQ viii).

What exists before an architecture is trained, and how a predictor built on it is scored
honestly on architectures it never saw:

- Architecture features: what the architecture string says (:func:`arch_features`), and its
  isomorphism class (:func:`arch_classes`).
- The prediction table: one row per architecture, target, features, proxies and reference
  columns (:func:`prediction_frame`).
- Predictors: a sign-fitted single column (:class:`SignBaseline`) and a model chosen by inner
  cross-validation among :data:`CANDIDATES`, trained on ranks (:class:`RankModel`), optionally
  through a surrogate target such as accuracy.
- The protocol: repeated K-fold over architectures (:func:`arch_folds`), out-of-fold scores and
  Kendall τ-b with bootstrap intervals (:func:`compare_predictors`), held-out permutation
  importance (:func:`permutation_importance`).

The zero-cost proxies are :mod:`calstudy.proxies`, the noise ceiling :mod:`calstudy.ceiling`,
and the chapter's helpers :mod:`calstudy.predict`.

The protocol in one paragraph: the architectures are split into ``K`` folds, ``R`` times with
different shuffles. For each split, every predictor is fitted on ``K - 1`` folds (its model
choice, its sign, its hyperparameters: everything) and scores the held-out fold. Averaging each
architecture's ``R`` held-out scores gives one out-of-fold score per architecture; τ-b between it
and the target, with a percentile-bootstrap interval over architectures, is the predictor's
figure of merit. No architecture's target is ever seen by the model that scores it.

References
----------
.. [1] M. G. Kendall, "The treatment of ties in ranking problems", Biometrika 33(3), 1945.
.. [2] L. Breiman, "Random Forests", Machine Learning 45, 2001 (permutation importance).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from calstudy._checks import (
    check_finite_frame,
    check_int_at_least,
    check_positive_int,
    check_space,
)
from calstudy.catalogue import prose_name
from calstudy.space import TSS_EDGES, TSS_OPS, sss_features, tss_features
from calstudy.stats import kendall_ci
from calstudy.sweep import parse_fidelity

# ================================================================================================
# 1. Architecture features
# ================================================================================================


def skeleton(fidelity: str) -> tuple[int, int]:
    """The TSS skeleton ``(C, N)`` a row's ``fidelity`` was trained at.

    Trained rows carry it in their fidelity label (``"ep10-C16N1-n10000"`` → ``(16, 1)``);
    NATS-Bench rows (``"nats-200"``) use NATS-Bench's ``(16, 5)``.

    Examples
    --------
    >>> skeleton("ep10-C16N1-n10000"), skeleton("nats-200")
    ((16, 1), (16, 5))
    """
    if not isinstance(fidelity, str):
        raise ValueError(f"Expected `fidelity` to be a string, got {fidelity!r}.")
    if fidelity.startswith("nats-"):
        return 16, 5
    label = parse_fidelity(fidelity)
    return label["C"], label["N"]


def arch_list(data: pd.DataFrame | Sequence[str], name: str = "data") -> list[str]:
    if isinstance(data, pd.DataFrame):
        if "arch" not in data.columns:
            raise ValueError(
                f"Expected `{name}` to have an 'arch' column, got {list(data.columns)}."
            )
        archs = data["arch"].tolist()
    elif isinstance(data, str) or not isinstance(data, Sequence | pd.Series | np.ndarray):
        raise ValueError(
            f"Expected `{name}` to be a DataFrame with an 'arch' column or a list of architecture "
            f"strings, got {type(data).__name__}."
        )
    else:
        archs = list(data)
    if not archs:
        raise ValueError(f"Expected `{name}` to hold at least one architecture, got none.")
    bad = [a for a in archs if not isinstance(a, str)]
    if bad:
        raise ValueError(f"Expected architecture strings in `{name}`, got {bad[0]!r}.")
    return archs


def arch_features(
    data: pd.DataFrame | Sequence[str],
    space: str,
    *,
    C: int | None = None,
    N: int | None = None,
    num_classes: int = 10,
    resolution: int = 32,
) -> pd.DataFrame:
    r"""Numeric features of architectures, all known before training.

    * **TSS**: one indicator per (edge, operation), ``edge_{i}_{j}[op]`` = 1 when edge
      :math:`j \to i` carries ``op`` (30 columns); the operation counts ``n_{op}``;
      ``skip_0_3``, ``connected``, ``conv_depth``; ``n_params`` and ``flops`` of the network as
      trained (skeleton ``C``, ``N``). See :func:`calstudy.space.tss_features`.
    * **SSS**: the widths ``c0`` … ``c4``, ``total_width``, ``n_params`` and ``flops``
      (:func:`calstudy.space.sss_features`).

    Parameters
    ----------
    data : DataFrame with an ``arch`` column, or sequence of str
        The architectures, one per row. A frame's ``fidelity`` column, when present, gives the
        TSS skeleton of each row (:func:`skeleton`) unless `C` and `N` are given.
    space : {"tss", "sss"}
    C, N : int, optional
        TSS skeleton width and cells per stage for ``n_params`` / ``flops``; default from the
        ``fidelity`` column, else NATS-Bench's 16 and 5. Ignored for SSS.
    num_classes, resolution : int, default 10 and 32
        Classifier outputs and input side for the cost columns.

    Returns
    -------
    DataFrame of float, shape (n_rows, n_features)
        With the index of `data` (a range index for a list).

    Examples
    --------
    >>> f = arch_features(["8:16:32:64:64"], "sss")
    >>> f[["c0", "c4", "total_width"]].iloc[0].tolist()
    [8.0, 64.0, 184.0]
    """
    space = check_space(space)
    archs = arch_list(data)
    index = data.index if isinstance(data, pd.DataFrame) else pd.RangeIndex(len(archs))
    if space == "sss":
        rows = [sss_features(a, num_classes=num_classes, resolution=resolution) for a in archs]
        return pd.DataFrame(rows, index=index).astype(float)
    fidelities: list[str | None]
    if C is None and N is None and isinstance(data, pd.DataFrame) and "fidelity" in data:
        fidelities = data["fidelity"].tolist()
    else:
        fidelities = [None] * len(archs)
    cache: dict[tuple[str, int, int], dict[str, Any]] = {}
    rows = []
    for arch, fidelity in zip(archs, fidelities, strict=True):
        c, n = skeleton(fidelity) if fidelity is not None else (C or 16, N or 5)
        key = (arch, c, n)
        if key not in cache:
            raw = tss_features(arch, C=c, N=n, num_classes=num_classes, resolution=resolution)
            row: dict[str, Any] = {}
            for dst, src in TSS_EDGES:
                for op in TSS_OPS:
                    row[f"edge_{dst}_{src}[{op}]"] = raw[f"edge_{dst}_{src}"] == op
            row.update({f"n_{op}": raw[f"n_{op}"] for op in TSS_OPS})
            for name in ("skip_0_3", "connected", "conv_depth", "n_params", "flops"):
                row[name] = raw[name]
            cache[key] = row
        rows.append(cache[key])
    return pd.DataFrame(rows, index=index).astype(float)


def feature_groups(columns: Sequence[str]) -> dict[str, list[str]]:
    """Group feature columns for permutation importance: an edge's indicators go together.

    ``edge_1_0[none]`` … ``edge_1_0[avg_pool_3x3]`` form the group ``"edge 0→1"`` (permuting
    one indicator alone would create cells with two or zero operations on an edge); every other
    column is its own group.

    Examples
    --------
    >>> feature_groups(["edge_1_0[none]", "edge_1_0[skip_connect]", "n_params"])
    {'edge 0→1': ['edge_1_0[none]', 'edge_1_0[skip_connect]'], 'n_params': ['n_params']}
    """
    groups: dict[str, list[str]] = {}
    for column in columns:
        match = re.fullmatch(r"edge_(\d)_(\d)\[.*\]", column)
        name = f"edge {match.group(2)}→{match.group(1)}" if match else column
        groups.setdefault(name, []).append(column)
    return groups

def arch_classes(archs: Sequence[str] | pd.Series, space: str) -> np.ndarray:
    """Each architecture's isomorphism class, named by its first member among `archs`.

    TSS strings of one class (:func:`calstudy.space.canonical_tss`) compute the same function
    family, so a predictor scored on held-out architectures must hold them out together. The
    class is named by the lexicographically first of its strings in `archs`, so a string
    with no isomorphic partner in `archs` is its own label. SSS architectures are all
    distinct: each is its own class.

    Parameters
    ----------
    archs : sequence of str
    space : {"tss", "sss"}

    Returns
    -------
    ndarray of str, shape (len(archs),)

    Examples
    --------
    >>> a = "|skip_connect~0|+|none~0|none~1|+|nor_conv_3x3~0|nor_conv_1x1~1|none~2|"
    >>> b = "|skip_connect~0|+|none~0|none~1|+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|"
    >>> arch_classes([a, b], "tss").tolist() == [b, b]  # isomorphic; b sorts first
    True
    """
    from calstudy.space import canonical_tss

    space = check_space(space)
    names = pd.Series(arch_list(list(archs), "archs"), dtype=object)
    if space == "sss":
        return names.to_numpy(dtype=object)
    canonical = names.map({a: canonical_tss(a) for a in names.unique()})
    return names.groupby(canonical.to_numpy()).transform("min").to_numpy(dtype=object)


# ================================================================================================
# 3. The prediction table
# ================================================================================================


@dataclass(frozen=True)
class PredictionData:
    """One row per architecture: what predictors may use and what they must predict.

    Attributes
    ----------
    frame : DataFrame
        Columns ``arch``, the target, ``acc`` (when in the store), the feature, proxy and
        reference columns.
    target : str
        Column to rank, e.g. ``"pre_ECE_15"``.
    features : tuple of str
        Architecture features (:func:`arch_features`).
    proxies : tuple of str
        Zero-cost proxy columns (empty when none were given).
    early : tuple of str
        Early-training signal columns (:mod:`calstudy.early`; empty when none were given).
    references : dict of str → str
        After-training columns that serve only as reference predictors, by label
        (``"acc"``; the target on each other dataset, e.g. ``"pre_ECE_15@fashion-mnist"``).
    space, dataset, fidelity : str
        Which networks the rows are.
    group : str, default "arch"
        Column of `frame` whose values never straddle a fold: rows sharing it are held out
        together (:func:`prediction_frame` sets ``"arch_class"``, the isomorphism class).
    """

    frame: pd.DataFrame
    target: str
    features: tuple[str, ...]
    proxies: tuple[str, ...] = ()
    early: tuple[str, ...] = ()
    references: dict[str, str] = field(default_factory=dict)
    space: str = "tss"
    dataset: str = ""
    fidelity: str = ""
    group: str = "arch"


def prediction_frame(
    df: pd.DataFrame,
    *,
    space: str,
    dataset: str,
    target: str = "pre_ECE_15",
    proxies: pd.DataFrame | None = None,
    fidelity: str | None = None,
) -> PredictionData:
    """Assemble the table predictors are fitted and scored on.

    Parameters
    ----------
    df : DataFrame
        Rows of the calibration dataset (:func:`calstudy.chapter.load_study` with one seed per
        network). Rows of other datasets in the same space and fidelity supply the
        cross-dataset reference column.
    space, dataset : str
        The architectures to predict: rows of this space trained on this dataset.
    target : str, default "pre_ECE_15"
        Column to rank (post-training, pre-scaling ECE by default; any metric column works).
    proxies : DataFrame, optional
        :func:`~calstudy.proxies.zero_cost_proxies` output, indexed by ``arch``; must cover every architecture.
    fidelity : str, optional
        Which fidelity to use when the rows hold several.

    Returns
    -------
    PredictionData
        Rows with a missing target are dropped. ``frame`` carries ``arch_class``
        (:func:`arch_classes`), the folds' group: isomorphic TSS strings are held out together.

    Raises
    ------
    ValueError
        Missing columns, unknown space/dataset/fidelity, several fidelities without `fidelity`,
        repeated architectures, too few rows, proxies that miss architectures or hold NaN.
    """
    space = check_space(space)
    for column in ("space", "arch", "dataset", "fidelity", target):
        if column not in df.columns:
            raise ValueError(f"Expected `df` to have a {column!r} column, got none.")
    rows = df[(df["space"] == space) & (df["dataset"] == dataset)]
    if rows.empty:
        present = sorted(map(tuple, df[["space", "dataset"]].drop_duplicates().to_numpy()))
        raise ValueError(
            f"Expected rows of space {space!r} on dataset {dataset!r}, got none; present: {present}."
        )
    fidelities = sorted(rows["fidelity"].unique())
    if fidelity is None:
        if len(fidelities) > 1:
            raise ValueError(
                f"Expected one fidelity for {space}/{dataset} or a `fidelity`, got {fidelities}."
            )
        fidelity = fidelities[0]
    elif fidelity not in fidelities:
        raise ValueError(f"Expected `fidelity` to be one of {fidelities}, got {fidelity!r}.")
    rows = rows[(rows["fidelity"] == fidelity) & rows[target].notna()]
    if rows["arch"].duplicated().any():
        raise ValueError(
            "Expected one row per architecture (load the store with seeds='first'), got "
            f"repeats of {rows.loc[rows['arch'].duplicated(), 'arch'].iloc[0]!r}."
        )
    if len(rows) < 3:
        raise ValueError(f"Expected at least 3 architectures with {target!r}, got {len(rows)}.")
    keep = ["arch", target] + (["acc"] if "acc" in rows.columns and target != "acc" else [])
    frame = rows[keep + ["fidelity"]].reset_index(drop=True)
    features = arch_features(frame, space)
    frame.insert(1, "arch_class", arch_classes(frame["arch"], space))
    frame = pd.concat([frame.drop(columns="fidelity"), features], axis=1)

    references: dict[str, str] = {}
    if "acc" in frame.columns and frame["acc"].notna().sum() >= 3:
        references["accuracy after training"] = "acc"
    others = df[(df["space"] == space) & (df["dataset"] != dataset) & (df["fidelity"] == fidelity)]
    for other, group in others.groupby("dataset", sort=True):
        values = group.drop_duplicates("arch").set_index("arch")[target]
        column = f"{target}@{other}"
        frame[column] = frame["arch"].map(values)
        if frame[column].notna().sum() >= 3:
            references[f"{prose_name(target)} on {other}"] = column
        else:
            frame = frame.drop(columns=column)
    data = PredictionData(
        frame=frame,
        target=target,
        features=tuple(features.columns),
        references=references,
        space=space,
        dataset=dataset,
        fidelity=str(fidelity),
        group="arch_class",
    )
    return data if proxies is None else add_proxies(data, proxies)


def _join_inputs(data: PredictionData, table: pd.DataFrame, name: str) -> PredictionData:
    """`data` with `table`'s columns (indexed by ``arch``) joined and added to field `name`."""
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise ValueError(
            f"Expected `{name}` to be a non-empty DataFrame indexed by arch, got {table!r}."
        )
    frame = data.frame
    missing = sorted(set(frame["arch"]) - set(table.index))
    if missing:
        raise ValueError(
            f"Expected `{name}` for every architecture, got none for {len(missing)}, "
            f"e.g. {missing[0]!r}."
        )
    clash = sorted(set(map(str, table.columns)) & set(frame.columns))
    if clash:
        raise ValueError(
            f"Expected new `{name}` columns, got columns already in the data: {clash}."
        )
    chosen = table.loc[~table.index.duplicated()].loc[frame["arch"].unique()]
    check_finite_frame(chosen, f"`{name}`")
    added = tuple(str(c) for c in table.columns)
    return dataclasses.replace(
        data, frame=frame.join(chosen, on="arch"), **{name: getattr(data, name) + added}
    )


def add_proxies(data: PredictionData, proxies: pd.DataFrame) -> PredictionData:
    """`data` with zero-cost proxy columns joined by ``arch``.

    Parameters
    ----------
    data : PredictionData
    proxies : DataFrame
        :func:`~calstudy.proxies.zero_cost_proxies` output, indexed by ``arch``; it must cover every architecture
        of `data` with finite values, and its columns must be new.

    Returns
    -------
    PredictionData
    """
    return _join_inputs(data, proxies, "proxies")


def add_early(
    data: PredictionData, signals: pd.DataFrame, *, missing: str = "raise"
) -> PredictionData:
    """`data` with early-training signals (:mod:`calstudy.early`) joined by ``arch``.

    Parameters
    ----------
    data : PredictionData
    signals : DataFrame
        :func:`calstudy.early.run_early_signals` or :func:`~calstudy.early.load_early_signals`
        rows of `data`'s networks: one per architecture, with an ``arch`` column (or index).
        Its ``early_<signal>_e<epoch>`` columns are joined, and must be finite.
    missing : {"raise", "drop"}
        What to do with architectures of `data` that have no signals: raise, or drop them
        from the returned data (e.g. while ``calstudy early`` is still running).

    Returns
    -------
    PredictionData
    """
    from calstudy.early import signal_columns

    table = signals.set_index("arch") if "arch" in signals.columns else signals
    if table.index.duplicated().any():
        raise ValueError(
            "Expected one early-signal row per architecture (one seed and schedule), got "
            f"repeats of {table.index[table.index.duplicated()][0]!r}."
        )
    columns = signal_columns(table)
    if not columns:
        raise ValueError(
            f"Expected early_<signal>_e<epoch> columns in `signals`, got {list(table.columns)}."
        )
    incomplete = table[columns].isna().any()
    if incomplete.any():
        raise ValueError(
            f"Expected every early-signal column to be complete, got gaps in "
            f"{list(incomplete.index[incomplete])} (networks measured for fewer epochs than "
            "others?): rerun `calstudy early` with the larger --epochs, or use fewer columns."
        )
    if missing not in ("raise", "drop"):
        raise ValueError(f'Expected `missing` to be "raise" or "drop", got {missing!r}.')
    if missing == "drop":
        keep = data.frame["arch"].isin(table.index)
        data = dataclasses.replace(data, frame=data.frame[keep].reset_index(drop=True))
    return _join_inputs(data, table[columns], "early")


# ================================================================================================
# 4. Predictors
# ================================================================================================


def _gbm(seed: int) -> Any:
    from sklearn.ensemble import GradientBoostingRegressor

    return GradientBoostingRegressor(
        n_estimators=80, max_depth=3, learning_rate=0.08, subsample=0.7,
        min_samples_leaf=5, random_state=seed,
    )  # fmt: skip


def _forest(seed: int) -> Any:
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(
        n_estimators=60, min_samples_leaf=3, max_features=0.5, n_jobs=1, random_state=seed
    )


def _ridge(seed: int) -> Any:
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 4, 13)))


#: Candidate models of :class:`RankModel`, name → factory ``seed -> sklearn regressor``; inner
#: cross-validation on the training fold picks one per outer fold. ``"ensemble"`` (no factory)
#: is the mean prediction of the model's other candidates.
CANDIDATES: dict[str, Callable[[int], Any] | None] = {
    "gbm": _gbm,
    "forest": _forest,
    "ridge": _ridge,
    "ensemble": None,
}


class _Ensemble:
    """The mean prediction of several fitted regressors."""

    def __init__(self, members: Sequence[Any]) -> None:
        self.members = list(members)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.mean([m.predict(x) for m in self.members], axis=0)


def _rank01(values: np.ndarray) -> np.ndarray:
    r"""Ranks scaled to (0, 1): :math:`(\operatorname{rank}(y_i) - 1/2) / n`, ties averaged."""
    return (stats.rankdata(values) - 0.5) / len(values)


def _tau(x: np.ndarray, y: np.ndarray) -> float:
    """τ-b on complete pairs; NaN when fewer than 3 or either side is constant."""
    keep = ~(np.isnan(x) | np.isnan(y))
    if keep.sum() < 3:
        return math.nan
    return float(stats.kendalltau(x[keep], y[keep], variant="b").statistic)


def _fitted_sign(x: np.ndarray, y: np.ndarray) -> int:
    """+1 or −1: the sign of τ-b(x, y) on the training rows (+1 when undefined)."""
    tau = _tau(x, y)
    return -1 if tau < 0 else 1


@dataclass(frozen=True)
class SignBaseline:
    r"""Rank by one column, with the direction learned on the training fold.

    Scores :math:`s\,x` where :math:`s = \operatorname{sign}\tau_b(x, y)` on the training rows.

    Attributes
    ----------
    column : str
        The column ranked by (``n_params``, a proxy, a reference column).
    target : str
    kind : str
        Label of the predictor family in result tables.
    """

    column: str
    target: str
    kind: str = "baseline"

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def fit_predict(self, train: pd.DataFrame, test: pd.DataFrame) -> tuple[np.ndarray, str]:
        """Scores of the `test` rows (higher: larger target predicted) and ``"sign ±1"``."""
        sign = _fitted_sign(train[self.column].to_numpy(float), train[self.target].to_numpy(float))
        return sign * test[self.column].to_numpy(float), f"sign {sign:+d}"


def _group_split(groups: np.ndarray, n_splits: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Row indices of `n_splits` folds that never split a group, groups shuffled by `rng`."""
    unique = np.unique(groups)
    order = rng.permutation(unique.size)
    chunks = np.array_split(unique[order], n_splits)
    return [np.flatnonzero(np.isin(groups, chunk)) for chunk in chunks]


@dataclass(frozen=True)
class RankModel:
    """A regressor trained on target ranks, its type chosen by inner cross-validation.

    On a training fold the target (or the `via` surrogate) is replaced by its ranks scaled to
    (0, 1), which makes the loss insensitive to the target's skew and outliers and puts every
    fold's predictions on one scale. When more than one candidate is given, each is scored by
    τ-b of its inner out-of-fold predictions over `inner_splits` folds of the *training* rows
    (grouped by the `group` column); the best is refitted on all training rows. The held-out
    fold is never looked at.

    Attributes
    ----------
    columns : tuple of str
        Input columns.
    target : str
        The column ranked.
    via : str, optional
        A surrogate target (e.g. ``"acc"``): the model learns `via`, and its scores are
        multiplied by the sign of τ-b(`via`, `target`) on the training rows, as an accuracy
        predictor would be used to rank calibration.
    candidates : tuple of str
        Names from :data:`CANDIDATES`.
    inner_splits : int, default 3
    seed : int, default 0
    kind : str
    group : str, default "arch"
        Column whose values the inner folds never split (e.g. ``"arch_class"``).
    """

    columns: tuple[str, ...]
    target: str
    via: str | None = None
    candidates: tuple[str, ...] = tuple(CANDIDATES)
    inner_splits: int = 3
    seed: int = 0
    kind: str = "model"
    group: str = "arch"

    def __post_init__(self) -> None:
        if not self.columns:
            raise ValueError("Expected `columns` to name at least one input column, got none.")
        unknown = [c for c in self.candidates if c not in CANDIDATES]
        if not self.candidates or unknown or not self._members:
            raise ValueError(
                f"Expected `candidates` from {sorted(CANDIDATES)} with at least one model other "
                f"than 'ensemble', got {list(self.candidates)}."
            )
        check_int_at_least(self.inner_splits, "inner_splits", 2)

    @property
    def _members(self) -> list[str]:
        return [c for c in self.candidates if CANDIDATES[c] is not None]

    def _fit(self, name: str, x: np.ndarray, y: np.ndarray) -> Any:
        factory = CANDIDATES[name]
        if factory is None:
            return _Ensemble([self._fit(m, x, y) for m in self._members])
        return factory(self.seed).fit(x, _rank01(y))

    def choose(self, train: pd.DataFrame) -> str:
        """The candidate with the best inner-CV τ-b on `train` (the first when too few rows)."""
        groups = train[self.group].to_numpy()
        if len(self.candidates) == 1 or len(set(groups.tolist())) < 2 * self.inner_splits:
            return self.candidates[0]
        x = train[list(self.columns)].to_numpy(float)
        y = train[self.via or self.target].to_numpy(float)
        rng = np.random.default_rng(self.seed)
        folds = _group_split(groups, self.inner_splits, rng)
        oof = {name: np.empty(len(y)) for name in self._members}
        for test_idx in folds:
            train_idx = np.setdiff1d(np.arange(len(y)), test_idx)
            for name in self._members:
                fitted = self._fit(name, x[train_idx], y[train_idx])
                oof[name][test_idx] = fitted.predict(x[test_idx])
        if len(self._members) < len(self.candidates):  # the ensemble reuses its members' fits
            oof["ensemble"] = np.mean([oof[m] for m in self._members], axis=0)
        scores = {name: _tau(oof[name], y) for name in self.candidates}
        return max(self.candidates, key=lambda n: -math.inf if np.isnan(scores[n]) else scores[n])

    def fit(self, train: pd.DataFrame, name: str | None = None) -> Any:
        """Fit candidate `name` (default: :meth:`choose`) on all of `train`."""
        check_finite_frame(train[list(self.columns)], "the model's input columns")
        name = name or self.choose(train)
        y = train[self.via or self.target].to_numpy(float)
        return self._fit(name, train[list(self.columns)].to_numpy(float), y)

    def fit_predict(self, train: pd.DataFrame, test: pd.DataFrame) -> tuple[np.ndarray, str]:
        """Scores of the `test` rows and the chosen candidate's name (with the fitted sign)."""
        check_finite_frame(train[list(self.columns)], "the model's input columns")
        check_finite_frame(test[list(self.columns)], "the model's input columns")
        name = self.choose(train)
        scores = self.fit(train, name).predict(test[list(self.columns)].to_numpy(float))
        if self.via is None:
            return scores, name
        sign = _fitted_sign(train[self.via].to_numpy(float), train[self.target].to_numpy(float))
        return sign * scores, f"{name}, sign {sign:+d}"


Predictor = SignBaseline | RankModel


def standard_predictors(
    data: PredictionData,
    *,
    candidates: Sequence[str] = tuple(CANDIDATES),
    inner_splits: int = 3,
    seed: int = 0,
) -> dict[str, Predictor]:
    """The chapter's predictors, by label.

    * baselines before training: ``n_params`` and ``flops``, each sign-fitted;
    * each zero-cost proxy alone, sign-fitted;
    * models: the architecture features, and architecture features plus zero-cost proxies;
      an accuracy predictor on the same inputs, used through the sign of accuracy's τ with the
      target;
    * with early-training signals (:func:`add_early`; kind ``"early training"``): the ECE after
      each early epoch alone, sign-fitted; a model on the early signals alone; and a model on
      architecture features, proxies and early signals together;
    * references after training (not pre-training predictors): accuracy itself, and the
      target on each other dataset.

    The models' inner cross-validation groups rows by ``data.group`` (isomorphism classes for
    :func:`prediction_frame`'s data), as the outer folds do.
    """
    target = data.target
    inputs = data.features + data.proxies
    predictors: dict[str, Predictor] = {
        "parameter count": SignBaseline("n_params", target),
        "FLOPs": SignBaseline("flops", target),
    }
    for proxy in data.proxies:
        predictors[f"proxy: {proxy}"] = SignBaseline(proxy, target, kind="zero-cost proxy")
    options = {
        "candidates": tuple(candidates), "inner_splits": inner_splits, "seed": seed,
        "group": data.group,
    }  # fmt: skip
    predictors["model: architecture"] = RankModel(data.features, target, **options)
    if data.proxies:
        predictors["model: architecture + proxies"] = RankModel(inputs, target, **options)
    if "acc" in data.frame.columns and data.frame["acc"].notna().all():
        predictors["accuracy predictor"] = RankModel(
            inputs, target, via="acc", kind="baseline", **options
        )
    if data.early:
        from calstudy.early import split_column

        early = {"kind": "early training"}
        for column in data.early:
            signal, epoch = split_column(column)
            if signal == "ece":
                predictors[f"early: ECE after epoch {epoch}"] = SignBaseline(
                    column, target, **early
                )
        predictors["model: early training"] = RankModel(data.early, target, **early, **options)
        predictors["model: architecture + proxies + early training"] = RankModel(
            inputs + data.early, target, **early, **options
        )
    for label, column in data.references.items():
        predictors[f"reference: {label}"] = SignBaseline(column, target, kind="reference")
    return predictors


# ================================================================================================
# 5. The protocol
# ================================================================================================


class Fold(NamedTuple):
    """One outer fold: ``train`` and ``test`` are row positions, disjoint in architectures."""

    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray


def arch_folds(
    archs: Sequence[str] | pd.Series,
    *,
    n_splits: int = 5,
    n_repeats: int = 3,
    seed: int = 0,
) -> list[Fold]:
    """Repeated K-fold over architectures: rows of one architecture share a fold.

    Each repeat shuffles the distinct architectures (its own generator, spawned from `seed`)
    and cuts them into `n_splits` folds of near-equal size; every architecture is held out
    exactly once per repeat. `n_splits` is lowered to the number of architectures when there are
    fewer.

    Returns
    -------
    list of Fold, length n_splits × n_repeats

    Examples
    --------
    >>> folds = arch_folds(["a", "b", "c", "a"], n_splits=3, n_repeats=1)
    >>> sorted(len(f.test) for f in folds)  # "a" (rows 0 and 3) stays together
    [1, 1, 2]
    """
    groups = np.asarray(list(archs), dtype=object)
    n_groups = len(set(groups.tolist()))
    if n_groups < 2:
        raise ValueError(f"Expected at least 2 distinct architectures, got {n_groups}.")
    n_splits = min(check_int_at_least(n_splits, "n_splits", 2), n_groups)
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    rows = np.arange(groups.size)
    folds = []
    for repeat, child in enumerate(np.random.SeedSequence(seed).spawn(n_repeats)):
        rng = np.random.default_rng(child)
        for i, test in enumerate(_group_split(groups.astype(str), n_splits, rng)):
            folds.append(Fold(repeat, i, np.setdiff1d(rows, test), test))
    return folds


@dataclass(frozen=True)
class Comparison:
    """Held-out performance of several predictors on the same folds.

    Attributes
    ----------
    scores : DataFrame
        One row per predictor: ``predictor``, ``kind``, ``tau`` (τ-b of the repeat-averaged
        out-of-fold score with the target), ``low``/``high`` (bootstrap interval), ``p_value``,
        ``n`` (architectures scored), ``tau_mean``/``tau_sd`` (τ-b of each repeat's scores:
        mean and standard deviation over repeats).
    predictions : DataFrame
        ``arch``, the target, and one column of out-of-fold scores per predictor (mean over
        repeats).
    choices : DataFrame
        ``predictor``, ``repeat``, ``fold`` and ``choice`` (fitted sign or chosen model).
    folds : list of Fold
    """

    scores: pd.DataFrame
    predictions: pd.DataFrame
    choices: pd.DataFrame
    folds: list[Fold]


def compare_predictors(
    data: PredictionData,
    predictors: Mapping[str, Predictor],
    *,
    n_splits: int = 5,
    n_repeats: int = 3,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
) -> Comparison:
    r"""Score predictors on held-out architectures with repeated K-fold.

    For every fold of :func:`arch_folds` over ``data.group`` (for :func:`prediction_frame`'s
    data the isomorphism class, so that isomorphic strings never sit on both sides of a fold),
    each predictor is fitted on the training rows only and scores the test rows. Per repeat :math:`r` this gives an out-of-fold score
    :math:`\hat s_{r,a}` for every architecture :math:`a`; the predictor's score is
    :math:`\bar s_a = \frac1R \sum_r \hat s_{r,a}` and its figure of merit
    :math:`\tau_b(\bar s, y)` with a percentile-bootstrap interval over architectures
    (:func:`calstudy.stats.kendall_ci`). Rows whose predictor input is NaN (a reference
    column missing for an architecture) are left unscored.

    Parameters
    ----------
    data : PredictionData
    predictors : mapping of str → SignBaseline or RankModel
    n_splits, n_repeats : int, default 5 and 3
    n_boot : int, default 500
    level : float, default 0.95
    seed : int, default 0
        Seed of the folds and of the bootstrap.

    Returns
    -------
    Comparison
    """
    if not predictors:
        raise ValueError("Expected `predictors` to hold at least one predictor, got none.")
    frame = data.frame
    missing = sorted({c for p in predictors.values() for c in p.columns} - set(frame.columns))
    if missing:
        raise ValueError(f"Expected predictor input columns in `data.frame`, missing {missing}.")
    if data.group not in frame.columns:
        raise ValueError(f"Expected `data.frame` to have the group column {data.group!r}, got none.")
    folds = arch_folds(frame[data.group], n_splits=n_splits, n_repeats=n_repeats, seed=seed)
    n_rep = 1 + max(f.repeat for f in folds)
    y = frame[data.target].to_numpy(float)
    out = {name: np.full((n_rep, len(frame)), np.nan) for name in predictors}
    choices = []
    for name, predictor in predictors.items():
        usable = frame[list(predictor.columns)].notna().all(axis=1).to_numpy()
        for f in folds:
            train, test = f.train[usable[f.train]], f.test[usable[f.test]]
            if test.size == 0 or train.size == 0:
                continue
            scores, choice = predictor.fit_predict(frame.iloc[train], frame.iloc[test])
            out[name][f.repeat, test] = scores
            choices.append(
                {"predictor": name, "repeat": f.repeat, "fold": f.fold, "choice": choice}
            )
    rows = []
    predictions = frame[["arch", data.target]].copy()
    for name, predictor in predictors.items():
        mean = out[name].mean(axis=0)
        predictions[name] = mean
        per_repeat = [_tau(out[name][r], y) for r in range(n_rep)]
        if np.isfinite(mean).sum() >= 3:
            r = kendall_ci(mean, y, n_boot=n_boot, level=level, seed=seed)
            tau, low, high, p, n = r.tau, r.low, r.high, r.p_value, r.n
        else:
            tau = low = high = p = math.nan
            n = int(np.isfinite(mean).sum())
        rows.append(
            {
                "predictor": name,
                "kind": predictor.kind,
                "tau": tau,
                "low": low,
                "high": high,
                "p_value": p,
                "n": n,
                "tau_mean": float(np.nanmean(per_repeat))
                if np.isfinite(per_repeat).any()
                else math.nan,
                "tau_sd": float(np.nanstd(per_repeat))
                if np.isfinite(per_repeat).sum() > 1
                else math.nan,
            }
        )
    return Comparison(
        scores=pd.DataFrame(rows),
        predictions=predictions,
        choices=pd.DataFrame(choices, columns=["predictor", "repeat", "fold", "choice"]),
        folds=folds,
    )


def permutation_importance(
    data: PredictionData,
    model: RankModel,
    *,
    candidate: str | None = None,
    folds: Sequence[Fold],
    groups: Mapping[str, Sequence[str]] | None = None,
    n_permutations: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Held-out permutation importance: how much τ-b drops when a feature is shuffled.

    On each fold, candidate `candidate` of `model` is fitted on the training rows; on the test
    rows its τ-b with the target, :math:`\tau`, is compared with :math:`\tau^{(g)}_p`, the τ-b
    after permuting the rows of feature group :math:`g` (all its columns together) in the test
    fold, for :math:`p = 1 \dots P` (Breiman, 2001). The importance of :math:`g` is the mean of
    :math:`\tau - \tau^{(g)}_p` over folds and permutations; the model never sees the test rows.

    Parameters
    ----------
    data : PredictionData
    model : RankModel
    candidate : str, optional
        Which of :data:`CANDIDATES` to fit; default the model's first candidate.
    folds : sequence of Fold
        As returned by :func:`arch_folds` (e.g. ``comparison.folds``).
    groups : mapping of str → columns, optional
        Feature groups; default :func:`feature_groups` of the model's columns.
    n_permutations : int, default 5
    seed : int, default 0

    Returns
    -------
    DataFrame
        ``feature``, ``importance`` (mean drop in τ-b), ``sd`` (its standard deviation over
        folds and permutations), ``n`` (fold × permutation count); sorted by importance.
    """
    if not folds:
        raise ValueError("Expected `folds` to hold at least one fold, got none.")
    n_permutations = check_positive_int(n_permutations, "n_permutations")
    groups = dict(groups) if groups is not None else feature_groups(model.columns)
    unknown = sorted({c for cols in groups.values() for c in cols} - set(model.columns))
    if unknown:
        raise ValueError(f"Expected `groups` to hold columns of the model, got {unknown}.")
    candidate = candidate or model.candidates[0]
    if candidate not in CANDIDATES:
        raise ValueError(f"Expected `candidate` from {sorted(CANDIDATES)}, got {candidate!r}.")
    frame = data.frame
    columns = list(model.columns)
    position = {c: i for i, c in enumerate(columns)}
    y = frame[model.via or model.target].to_numpy(float)
    rng = np.random.default_rng(seed)
    drops: dict[str, list[float]] = {g: [] for g in groups}
    for f in folds:
        if f.test.size < 3:
            continue
        fitted = model.fit(frame.iloc[f.train], candidate)
        x_test = frame.iloc[f.test][columns].to_numpy(float)
        base = _tau(fitted.predict(x_test), y[f.test])
        if np.isnan(base):
            continue
        for g, cols in groups.items():
            idx = [position[c] for c in cols]
            for _ in range(n_permutations):
                shuffled = x_test.copy()
                shuffled[:, idx] = x_test[rng.permutation(len(x_test))][:, idx]
                drops[g].append(base - np.nan_to_num(_tau(fitted.predict(shuffled), y[f.test])))
    rows = [
        {
            "feature": g,
            "importance": float(np.mean(d)) if d else math.nan,
            "sd": float(np.std(d, ddof=1)) if len(d) > 1 else math.nan,
            "n": len(d),
        }
        for g, d in drops.items()
    ]
    table = pd.DataFrame(rows, columns=["feature", "importance", "sd", "n"])
    return table.sort_values("importance", ascending=False, ignore_index=True)


