"""Predicting calibration before training (RQ viii): features, zero-cost proxies, evaluation.

Can the post-training calibration of an architecture be ranked before the architecture is
trained? This module turns an architecture into numbers that exist before training, fits
rank predictors on trained architectures and scores them, honestly, on architectures they never
saw.

The module's sections:

1. Architecture features: what the architecture string says (:func:`arch_features`).
2. Zero-cost proxies: one minibatch through a freshly initialised network
   (:func:`zero_cost_proxies`: synflow, grad_norm, snip, NASWOT, the spread of initial logits).
3. The prediction table: one row per architecture, target, features, proxies and reference
   columns (:func:`prediction_frame`).
4. Predictors: a sign-fitted single column (:class:`SignBaseline`) and a model chosen by inner
   cross-validation among :data:`CANDIDATES`, trained on ranks (:class:`RankModel`), optionally
   through a surrogate target such as accuracy.
5. The protocol: repeated K-fold over architectures (:func:`arch_folds`), out-of-fold scores and
   Kendall τ-b with bootstrap intervals (:func:`compare_predictors`), held-out permutation
   importance (:func:`permutation_importance`).
6. The noise ceiling: how well seed noise lets any pre-training predictor rank single runs
   (:func:`noise_ceiling` from a few repeated architectures, :func:`retest_ceiling` from many
   architectures each trained with several seeds; :func:`ceiling_tau` turns an ICC into τ).

The protocol in one paragraph: the architectures are split into ``K`` folds, ``R`` times with
different shuffles. For each split, every predictor is fitted on ``K - 1`` folds (its model
choice, its sign, its hyperparameters: everything) and scores the held-out fold. Averaging each
architecture's ``R`` held-out scores gives one out-of-fold score per architecture; τ-b between it
and the target, with a percentile-bootstrap interval over architectures, is the predictor's
figure of merit. No architecture's target is ever seen by the model that scores it.

References
----------
.. [1] H. Tanaka, D. Kunin, D. L. K. Yamins, S. Ganguli, "Pruning neural networks without any
   data by iteratively conserving synaptic flow", NeurIPS 2020.
.. [2] J. Mellor, J. Turner, A. Storkey, E. J. Crowley, "Neural Architecture Search without
   Training", ICML 2021.
.. [3] M. S. Abdelfattah, A. Mehrotra, Ł. Dudziak, N. D. Lane, "Zero-Cost Proxies for
   Lightweight NAS", ICLR 2021.
.. [4] N. Lee, T. Ajanthan, P. H. S. Torr, "SNIP: Single-shot Network Pruning based on
   Connection Sensitivity", ICLR 2019.
.. [5] M. G. Kendall, "The treatment of ties in ranking problems", Biometrika 33(3), 1945.
.. [6] L. Breiman, "Random Forests", Machine Learning 45, 2001 (permutation importance).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import numbers
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from calstudy.analysis import kendall_ci, seed_variance
from calstudy.space import TSS_EDGES, TSS_OPS, sss_features, tss_features
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

SPACES = ("tss", "sss")

#: The zero-cost proxies :func:`zero_cost_proxies` computes, in its column order.
PROXIES: tuple[str, ...] = ("synflow", "grad_norm", "snip", "naswot", "logit_std")


def _check_space(space: object) -> str:
    if space not in SPACES:
        raise ValueError(f"Expected `space` to be 'tss' or 'sss', got {space!r}.")
    return str(space)


def _check_positive_int(name: str, value: object, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"Expected `{name}` to be an integer >= {minimum}, got {value!r}.")
    return int(value)


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


def _arch_list(data: pd.DataFrame | Sequence[str], name: str = "data") -> list[str]:
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
    space = _check_space(space)
    archs = _arch_list(data)
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


# ================================================================================================
# 2. Zero-cost proxies
# ================================================================================================


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _proxy_batch(dataset: str, data_dir: Any, num_images: int, seed: int) -> tuple[Any, Any, int]:
    """A class-stratified training batch, normalised NCHW float32, its labels, ``num_classes``."""
    import torch

    from calstudy.data import load_dataset, sample_data_dir

    ds = load_dataset(dataset, data_dir if data_dir is not None else sample_data_dir())
    if num_images > len(ds.y_train):
        raise ValueError(
            f"Expected `num_images` to be at most the {len(ds.y_train)} training images of "
            f"{dataset!r}, got {num_images}."
        )
    ds = ds.subset(num_images, 1, seed=seed)
    x = torch.from_numpy(ds.x_train).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(ds.mean).view(1, 3, 1, 1)
    std = torch.tensor(ds.std).view(1, 3, 1, 1)
    return (x - mean) / std, torch.from_numpy(ds.y_train), ds.num_classes


def _network_proxies(net: Any, x: Any, y: Any) -> dict[str, float]:
    """Every proxy of :data:`PROXIES` for one freshly initialised network.

    `net` is run in training mode, which updates its batch-norm statistics; synflow is computed
    on a copy taken before that.
    """
    import torch
    from torch import nn

    flow_net = copy.deepcopy(net)  # synflow needs the fresh BN statistics the next pass updates

    # One forward-backward pass in training mode: NASWOT codes, gradients of the loss.
    net.train()
    n = x.shape[0]
    kernel = torch.zeros(n, n, dtype=torch.float64)

    def count_codes(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        # With s = 2c - 1 in {-1, 1}: agreements = (N_A + s sᵀ) / 2 (exact in float32 for
        # N_A < 2^24), one product instead of c cᵀ + (1 - c)(1 - c)ᵀ.
        signs = (output.detach().flatten(1) > 0).float().mul_(2.0).sub_(1.0)
        kernel.add_((signs @ signs.T).double().add_(signs.shape[1]).mul_(0.5))

    hooks = [m.register_forward_hook(count_codes) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        logits = net(x)
    finally:
        for hook in hooks:
            hook.remove()
    params = [p for p in net.parameters() if p.requires_grad]
    # A parameter the output does not depend on (an operation on a node that only feeds `none`
    # edges) has no gradient: it contributes 0 to grad_norm and snip.
    grads = torch.autograd.grad(
        nn.functional.cross_entropy(logits, y), params, allow_unused=True
    )
    used = [(g, p) for g, p in zip(grads, params, strict=True) if g is not None]
    with torch.no_grad():
        grad_norm = sum(float(g.norm()) for g, _ in used)
        snip = sum(float((g * p).abs().sum()) for g, p in used)
        sign, logdet = torch.linalg.slogdet(kernel)
        naswot = float(logdet) if float(sign) > 0 else -math.inf
        logit_std = float(logits.std())

    # Synflow: |θ|, no batch statistics (eval mode: fresh BN is the identity), an all-ones input.
    flow_net.eval()
    flow_net.double()
    with torch.no_grad():
        for p in flow_net.parameters():
            p.abs_()
    params = list(flow_net.parameters())
    out = flow_net(torch.ones((1, *x.shape[1:]), dtype=torch.float64)).sum()
    grads = torch.autograd.grad(out, params, allow_unused=True)
    with torch.no_grad():
        flow = sum(
            float((g * p).abs().sum()) for g, p in zip(grads, params, strict=True) if g is not None
        )
    return {
        "synflow": math.log1p(flow),
        "grad_norm": grad_norm,
        "snip": snip,
        "naswot": naswot,
        "logit_std": logit_std,
    }


def zero_cost_proxies(
    archs: Sequence[str],
    space: str,
    *,
    dataset: str = "cifar10",
    data_dir: Any = None,
    num_images: int = 64,
    C: int = 16,
    N: int = 1,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Zero-cost proxies of freshly initialised networks, from one minibatch.

    Each network is built as the study trains it (``torch.manual_seed(seed)`` then
    :func:`calstudy.models.build_network`) and sees one class-stratified batch of `num_images`
    training images :math:`(x_b, y_b)`, :math:`b = 1 \dots B`. With parameters :math:`\theta`
    (one tensor per layer), cross-entropy :math:`L` on the batch:

    * ``synflow`` :math:`= \log\bigl(1 + \sum_\theta \sum |\theta| \odot \partial R/\partial|\theta|\bigr)`,
      :math:`R = \mathbf{1}^\top f_{|\theta|}(\mathbf{1})`: the network with every weight
      replaced by its absolute value, in double precision, evaluated on an all-ones image with
      batch normalisation off (its fresh running statistics make it the identity) [1]_ [3]_;
    * ``grad_norm`` :math:`= \sum_\theta \lVert \partial L / \partial\theta \rVert_2` [3]_;
    * ``snip`` :math:`= \sum_\theta \sum |\theta \odot \partial L / \partial\theta|` [4]_ [3]_;
    * ``naswot`` :math:`= \log\lvert K_H\rvert`, :math:`(K_H)_{ab} = N_A - d_H(c_a, c_b)`, where
      :math:`c_b \in \{0,1\}^{N_A}` is the binary code of which of the :math:`N_A` ReLU units
      image :math:`b` activates and :math:`d_H` the Hamming distance [2]_;
    * ``logit_std``: the standard deviation of the initial logits over the batch and classes
      (ours: the scale of the untrained network's outputs, from which overconfidence grows).

    The network is in training mode (batch statistics) for all but synflow. Torch runs on one
    thread here, which keeps the values deterministic and avoids the thread contention that
    makes these small convolutions many times slower on a shared CPU: 0.2–0.3 s per C = 16,
    N = 1 TSS network on a 64-image batch on a busy 2-core machine; SSS networks, up to 64
    channels wide at full resolution, take 0.3–1.3 s.

    Parameters
    ----------
    archs : sequence of str
        Architecture strings of `space`; duplicates are computed once.
    space : {"tss", "sss"}
    dataset : str, default "cifar10"
        Which dataset's images and class count; loaded by :func:`calstudy.data.load_dataset`.
    data_dir : path-like, optional
        Where the dataset lives; default the offline sample shipped with calstudy
        (:func:`calstudy.data.sample_data_dir`).
    num_images : int, default 64
        Batch size :math:`B`.
    C, N : int, default 16 and 1
        TSS skeleton (the demo study's); ignored for SSS.
    seed : int, default 0
        Seed of the batch choice and of the weight initialisation.

    Returns
    -------
    DataFrame of float, shape (n_unique_archs, len(PROXIES))
        Indexed by ``arch``, columns :data:`PROXIES`.

    Raises
    ------
    ValueError
        Unknown space, an empty or non-string `archs`, a batch larger than the training split,
        or a proxy that is not finite (naming the architecture).

    References
    ----------
    .. [1] Tanaka et al., NeurIPS 2020.
    .. [2] Mellor et al., ICML 2021.
    .. [3] Abdelfattah et al., ICLR 2021.
    .. [4] Lee et al., ICLR 2019.
    """
    import torch

    from calstudy.models import build_network

    space = _check_space(space)
    unique = list(dict.fromkeys(_arch_list(archs, "archs")))
    num_images = _check_positive_int("num_images", num_images, minimum=2)
    C = _check_positive_int("C", C)
    N = _check_positive_int("N", N)
    rows = {}
    with _torch_threads(1):
        x, y, num_classes = _proxy_batch(dataset, data_dir, num_images, seed)
        for arch in unique:
            torch.manual_seed(seed)
            net = build_network(space, arch, num_classes=num_classes, C=C, N=N)
            rows[arch] = _network_proxies(net, x, y)
    table = pd.DataFrame.from_dict(rows, orient="index")[list(PROXIES)]
    table.index.name = "arch"
    _check_finite(table, "the zero-cost proxies")
    return table


def _check_finite(frame: pd.DataFrame, what: str) -> None:
    values = frame.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = map(int, np.argwhere(bad)[0])
        raise ValueError(
            f"Expected finite values in {what}, got {int(bad.sum())} NaN/inf, e.g. column "
            f"{frame.columns[col]!r} of row {frame.index[row]!r}."
        )


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
        :func:`zero_cost_proxies` output, indexed by ``arch``; must cover every architecture.
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
    space = _check_space(space)
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
            references[f"{target} on {other}"] = column
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
    _check_finite(chosen, f"`{name}`")
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
        :func:`zero_cost_proxies` output, indexed by ``arch``; it must cover every architecture
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
        _check_positive_int("inner_splits", self.inner_splits, minimum=2)

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
        _check_finite(train[list(self.columns)], "the model's input columns")
        name = name or self.choose(train)
        y = train[self.via or self.target].to_numpy(float)
        return self._fit(name, train[list(self.columns)].to_numpy(float), y)

    def fit_predict(self, train: pd.DataFrame, test: pd.DataFrame) -> tuple[np.ndarray, str]:
        """Scores of the `test` rows and the chosen candidate's name (with the fitted sign)."""
        _check_finite(train[list(self.columns)], "the model's input columns")
        _check_finite(test[list(self.columns)], "the model's input columns")
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
    n_splits = min(_check_positive_int("n_splits", n_splits, minimum=2), n_groups)
    n_repeats = _check_positive_int("n_repeats", n_repeats)
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
    (:func:`calstudy.analysis.kendall_ci`). Rows whose predictor input is NaN (a reference
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
    n_permutations = _check_positive_int("n_permutations", n_permutations)
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


# ================================================================================================
# 6. The noise ceiling
# ================================================================================================


@dataclass(frozen=True)
class Ceiling:
    r"""The τ-b an ideal pre-training predictor could reach, given seed noise.

    Attributes
    ----------
    icc : float
        Share of a single run's variance that belongs to the architecture.
    icc_low, icc_high : float
        Its interval, from which ``low`` and ``high`` follow.
    tau_max : float
        τ-b of the ideal predictor with a single run; ``low``/``high`` its interval.
    low, high : float
    within_sd : float
        Pooled seed-to-seed standard deviation :math:`s_w`.
    total_sd : float
        Standard deviation of the target across architectures (one run each), :math:`s_t`.
    n_archs : int
        Architectures trained with 2 or more seeds (for :func:`isomorphic_ceiling`:
        isomorphism classes with 2 or more strings).
    dof : int
        Degrees of freedom :math:`\nu` of :math:`s_w^2`.
    """

    icc: float
    icc_low: float
    icc_high: float
    tau_max: float
    low: float
    high: float
    within_sd: float
    total_sd: float
    n_archs: int
    dof: int


def ceiling_tau(icc: float, runs: int = 1) -> float:
    r"""The τ-b between an architecture's true value and a measurement of reliability `icc`.

    A run is :math:`y = \mu_a + \varepsilon`; the mean of `runs` seeds has reliability
    :math:`\mathrm{ICC}_k = k\,\mathrm{ICC} / (1 + (k - 1)\,\mathrm{ICC})`
    (Spearman-Brown) and correlates with :math:`\mu_a` at :math:`\rho = \sqrt{\mathrm{ICC}_k}`;
    for normal data :math:`\tau = \tfrac{2}{\pi}\arcsin\rho` (Greiner's relation). This is
    the largest τ-b any predictor that sees only the architecture can expect against that
    target.

    Parameters
    ----------
    icc : float
        Intraclass correlation of one run, in [0, 1].
    runs : int, default 1
        Seeds averaged into the target.

    Returns
    -------
    float

    Examples
    --------
    >>> round(ceiling_tau(0.5), 4), round(ceiling_tau(0.5, runs=3), 4)
    (0.5, 0.6667)
    """
    if not 0.0 <= icc <= 1.0:
        raise ValueError(f"Expected `icc` in [0, 1], got {icc!r}.")
    if isinstance(runs, bool) or not isinstance(runs, numbers.Integral) or runs < 1:
        raise ValueError(f"Expected `runs` to be a positive integer, got {runs!r}.")
    icc_k = runs * icc / (1.0 + (runs - 1) * icc)
    return 2.0 / math.pi * math.asin(math.sqrt(icc_k))


def retest_ceiling(
    runs: pd.DataFrame,
    target: str,
    *,
    by: Sequence[str] = ("space", "arch", "dataset", "fidelity"),
    rater: str = "seed",
    level: float = 0.95,
    target_runs: int = 1,
) -> Ceiling:
    r"""The noise ceiling from architectures that were each trained with the same seeds.

    Where :func:`noise_ceiling` pools the seed variance of a few repeated architectures and
    compares it with the spread of single runs, this estimates the reliability of a run
    directly from a complete architectures × seeds table. A seed gives every architecture the
    same data order and augmentation, so a shift shared by one seed's runs moves no rank; what
    limits a ranking is the architecture × seed interaction, whose share is the consistency
    ICC(C,1) of the two-way model (:func:`calstudy.analysis.consistency_icc`, exact F
    interval). Estimate and bounds go through :func:`ceiling_tau`, which is monotone in the
    ICC, so the bounds carry over.

    Parameters
    ----------
    runs : DataFrame
        One row per (architecture, seed) with the `by` columns, `rater` and `target`.
    target : str
    by : sequence of str
        Columns identifying an architecture.
    rater : str, default "seed"
        Column identifying the repeated run.
    level : float, default 0.95
    target_runs : int, default 1
        Seeds averaged into the target the predictors would be scored on (1: single runs).

    Returns
    -------
    Ceiling
        ``within_sd`` is the residual (architecture × seed) standard deviation, ``total_sd``
        the spread of single runs across architectures, ``dof`` the residual degrees of
        freedom and ``n_archs`` the architectures used (those run with every seed).
    """
    from calstudy.analysis import consistency_icc

    icc = consistency_icc(runs, target, subject=by, rater=rater, level=level)
    total = runs.dropna(subset=[target])[target]
    return Ceiling(
        icc=icc.icc,
        icc_low=icc.low,
        icc_high=icc.high,
        tau_max=ceiling_tau(icc.icc, target_runs),
        low=ceiling_tau(icc.low, target_runs),
        high=ceiling_tau(icc.high, target_runs),
        within_sd=icc.residual_sd,
        total_sd=float(total.std(ddof=1)),
        n_archs=icc.n_subjects,
        dof=(icc.n_subjects - 1) * (icc.n_raters - 1),
    )


def noise_ceiling(
    repeats: pd.DataFrame,
    target: str,
    total: Sequence[float] | pd.Series,
    *,
    by: Sequence[str] = ("space", "arch", "dataset", "fidelity"),
    level: float = 0.95,
) -> Ceiling | None:
    r"""How well any predictor that sees only the architecture could rank single training runs.

    A run's value is :math:`y = \mu_a + \varepsilon` with architecture effect :math:`\mu_a`
    (variance :math:`\sigma_b^2`) and seed noise :math:`\varepsilon` (variance
    :math:`\sigma_w^2`). The best pre-training predictor is :math:`\mu_a` itself; its correlation
    with one run is :math:`\rho_{\max} = \sqrt{\mathrm{ICC}}`, with the intraclass correlation

    .. math::

        \mathrm{ICC} = \frac{\sigma_b^2}{\sigma_b^2 + \sigma_w^2}
        \approx \max\Bigl(0,\, 1 - \frac{s_w^2}{s_t^2}\Bigr),

    where :math:`s_w^2 = \sum_a \sum_s (y_{as} - \bar y_a)^2 / \nu`,
    :math:`\nu = \sum_a (n_a - 1)`, pools the seed variance of the architectures trained more
    than once, and :math:`s_t^2` is the variance of `total` (one run per architecture). For a
    bivariate normal pair, :math:`\tau = \tfrac{2}{\pi}\arcsin\rho` (Greiner's relation;
    Kendall, 1948), so :math:`\tau_{\max} = \tfrac{2}{\pi}\arcsin\rho_{\max}`. The interval
    propagates the :math:`\chi^2_\nu` interval of :math:`\sigma_w^2` (the uncertainty of
    :math:`s_t^2` is ignored); it assumes the seed variance is the same for every architecture.

    Parameters
    ----------
    repeats : DataFrame
        Rows with the `by` columns and `target`; architectures with one row are ignored.
    target : str
    total : array-like
        The target across architectures, one run each (the rows the predictors are scored on).
    by : sequence of str
        Columns identifying one architecture's repeated runs.
    level : float, default 0.95

    Returns
    -------
    Ceiling or None
        None when no architecture has 2 or more runs.

    References
    ----------
    M. G. Kendall, "Rank Correlation Methods", Griffin, 1948.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"Expected `level` to be in (0, 1), got {level}.")
    missing = [c for c in [*by, target] if c not in repeats.columns]
    if missing:
        raise ValueError(f"Expected `repeats` to have columns {missing}.")
    totals = np.asarray(total, dtype=float)
    totals = totals[np.isfinite(totals)]
    if totals.size < 3:
        raise ValueError(f"Expected at least 3 finite values in `total`, got {totals.size}.")
    runs = repeats.dropna(subset=[target]).groupby(list(by), dropna=False).size()
    if not (runs >= 2).any():
        return None
    noise = seed_variance(repeats, target, by=by, level=level)
    dof = int((noise.per_arch["n_seeds"] - 1).sum())
    within = noise.pooled_std**2
    total_var = float(np.var(totals, ddof=1))

    def icc_of(var_w: float) -> float:
        return max(0.0, 1.0 - var_w / total_var) if total_var > 0 else 0.0

    alpha = 1.0 - level
    var_high = dof * within / stats.chi2.ppf(alpha / 2, dof)
    var_low = dof * within / stats.chi2.ppf(1 - alpha / 2, dof)
    icc, icc_low, icc_high = icc_of(within), icc_of(var_high), icc_of(var_low)
    return Ceiling(
        icc=icc,
        icc_low=icc_low,
        icc_high=icc_high,
        tau_max=ceiling_tau(icc),
        low=ceiling_tau(icc_low),
        high=ceiling_tau(icc_high),
        within_sd=math.sqrt(within),
        total_sd=math.sqrt(total_var),
        n_archs=noise.n_repeated,
        dof=dof,
    )


# ================================================================================================
# RQ viii: isomorphism classes, samples of large stores, and the ceiling at the benchmark's
# fidelity
# ================================================================================================


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

    space = _check_space(space)
    names = pd.Series(_arch_list(list(archs), "archs"), dtype=object)
    if space == "sss":
        return names.to_numpy(dtype=object)
    canonical = names.map({a: canonical_tss(a) for a in names.unique()})
    return names.groupby(canonical.to_numpy()).transform("min").to_numpy(dtype=object)


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
    min_archs = _check_positive_int("min_archs", min_archs)
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
    wanted = set(_arch_list(list(archs), "archs"))
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
    n = _check_positive_int("n", n)
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
    max_all = _check_positive_int("max_all", max_all, minimum=0)
    sample = _check_positive_int("sample", sample, minimum=0)
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
        :attr:`Comparison.scores`.
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
    """:func:`noise_ceiling` from the store's repeated trainings, on one device where possible.

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


def isomorphic_ceiling(
    rows: pd.DataFrame, target: str, *, level: float = 0.95, target_runs: int = 1
) -> Ceiling:
    r"""The noise ceiling from isomorphic TSS strings trained separately (NATS-Bench).

    The strings of one isomorphism class are retrainings of one architecture, so the one-way
    ICC across classes (:func:`calstudy.analysis.isomorphic_icc`, F interval) is the
    reliability of a single run at the benchmark's own schedule, and :func:`ceiling_tau`
    turns it and its bounds into the largest τ-b a predictor that sees only the architecture
    can expect against single runs (or against the mean of `target_runs`).

    Parameters
    ----------
    rows : DataFrame
        TSS rows of one dataset and fidelity, one per string, with ``arch`` and `target`.
    target : str
    level : float, default 0.95
    target_runs : int, default 1

    Returns
    -------
    Ceiling
        ``within_sd`` is the spread between isomorphic strings, ``n_archs`` the classes with
        two or more strings and ``dof`` the degrees of freedom of that spread.

    Raises
    ------
    ValueError
        As :func:`calstudy.analysis.isomorphic_icc` (e.g. no class with two strings).
    """
    from calstudy.analysis import isomorphic_icc

    r = isomorphic_icc(rows, target, level=level)
    return Ceiling(
        icc=r.icc,
        icc_low=r.low,
        icc_high=r.high,
        tau_max=ceiling_tau(r.icc, target_runs),
        low=ceiling_tau(r.low, target_runs),
        high=ceiling_tau(r.high, target_runs),
        within_sd=r.within_sd,
        total_sd=r.total_sd,
        n_archs=r.n_repeated,
        dof=r.dof,
    )


@dataclass(frozen=True)
class RerunStudy:
    """Full-schedule reruns of a sweep's networks with several seeds (:func:`rerun_study`).

    Attributes
    ----------
    ceiling, ceiling_mean : Ceiling
        :func:`retest_ceiling` of the final validation target for single runs and for the
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
    from calstudy.analysis import kendall_tau
    from calstudy.early import seed_reliability

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
        :func:`zero_cost_proxies`' table (skeleton from ``data.fidelity``) and ``""``; or None
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
        :attr:`Comparison.scores`.
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
        text.append(f"The parameter count ranks `{target}` with {tau(size)}, an interval "
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
            f"{int(peak['epoch'])} ({num(peak['mean'])}). Against the final `{target}`: "
            + join(f"epoch {r.epoch} {tau(r._asdict())}" for r in taus.itertuples())
            + f"; {holding} of {len(taus)} intervals hold zero.")  # fmt: skip
    summary = (f"the validation ECE after the first {len(taus)} epochs ranks the final "
               f"`{target}` with τ from {fixed(taus['tau'].min())} to "
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
    """The noise ceilings of :func:`seed_study_ceiling`, :func:`isomorphic_ceiling` and
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
    from calstudy.sweep import parse_fidelity

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
            f"the store's `{target}` with τ = {fixed(rerun.same_seed_tau)} over "
            f"{rerun.n_same_seed} architectures.")  # fmt: skip


def pairs_sentence(pairs: pd.DataFrame, *, target: str, min_archs: int) -> str:
    """What :func:`study_pairs` found in a store, in words."""
    from calstudy.report import join, plural

    if pairs.empty:
        return (f"No space and dataset of this store has {min_archs} architectures with "
                f"`{target}` (`min_rows`): nothing is scored, and every section below is skipped.")
    return f"The target is `{target}`. This store holds, with it, " + join(
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
            f"{lower} median `{target}` than the rest: {num(s['top_median'])} against "
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
    """:func:`permutation_importance`'s strongest inputs and :func:`importance_shares` in words."""
    from calstudy.report import fixed, join, pct

    shares = importance_shares(importance, proxies)
    strongest = importance.dropna().head(top)
    return ("most important: " + join(f"{f} ({fixed(v, 3)})" for f, v in
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
