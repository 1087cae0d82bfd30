"""The catalogue: every calibration column of the dataset, defined once.

A column is a :class:`Metric` (a function of ``probs`` and ``labels`` with fixed options)
evaluated before (``pre_``) or after (``post_``) temperature scaling. :data:`CATALOGUE` holds,
in the order of the reference study's released CSVs (Tao et al., 2024):

* the paper's 45 bin-based metrics ``ECE_n, ECE_em_n, cwCE_n, cwCE_em_n, MCE_n`` for each
  ``n`` in :data:`~calstudy.metrics.BIN_COUNTS` (bin count outermost), i.e. 90 ``pre_``/``post_`` columns;
* the paper's ``KSCE, KDECE, MMCE, NLL, Brier`` (10 columns);
* ours, absent from the paper: ``smECE`` (smooth ECE) and ``dL2ECE_15`` (debiased L2 ECE).

:func:`full_record` turns the logits of one network on its test set into one row of the
dataset: pre-scaling columns on every prediction, temperature fitted on a held-out 20 % and
post-scaling columns on the remaining 80 %, as in the reference study.

References
----------
.. [1] L. Tao, Y. Zhu, H. Guo, M. Dong, C. Xu, "A Benchmark Study on Calibration", ICLR 2024.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from calstudy import metrics as _metrics  # aliased: `full_record` has a `metrics` keyword
from calstudy._checks import check_logits_labels
from calstudy.calibrate import (
    MIN_SPLIT_SAMPLES,
    POSTHOC_METHODS,
    TemperatureScaling,
    heldout_sizes,
    heldout_split,
)
from calstudy.metrics import BIN_COUNTS

__all__ = [
    "BIN_COUNTS",
    "CATALOGUE",
    "Metric",
    "compute",
    "display_name",
    "is_column_name",
    "full_record",
    "metric_columns",
    "prose_name",
    "reader_label",
]


@dataclass(frozen=True)
class Metric:
    """One calibration metric: a function of ``(probs, labels)`` with fixed options.

    Parameters
    ----------
    name : str
        Column base name, e.g. ``"ECE_em_15"``; the dataset holds ``pre_{name}`` and
        ``post_{name}``.
    func : callable
        ``func(probs, labels, **params) -> float`` with ``probs`` (N, K) and ``labels`` (N,).
    params : mapping
        Keyword options passed to ``func`` (stored read-only).
    description : str
        One line saying what is measured.
    reference : str
        Where the estimator was defined.
    paper : bool
        Whether the column is one of the reference study's (Tao et al., 2024).
    family : str or None
        For the bin-based estimators, the key of :func:`calstudy.metrics.binned_errors` that
        computes this metric together with every bin count; ``None`` otherwise.

    Examples
    --------
    >>> CATALOGUE["ECE_15"].params["n_bins"]
    15
    """

    name: str
    func: Callable[..., float]
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    reference: str = ""
    paper: bool = True
    family: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __call__(self, probs: ArrayLike, labels: ArrayLike) -> float:
        """Evaluate on ``probs`` (N, K) and ``labels`` (N,)."""
        return float(self.func(probs, labels, **self.params))


_NAEINI = (
    "M. P. Naeini, G. Cooper, M. Hauskrecht, 'Obtaining Well Calibrated Probabilities Using "
    "Bayesian Binning', AAAI 2015; C. Guo et al., 'On Calibration of Modern Neural Networks', "
    "ICML 2017."
)
_NIXON = (
    "J. Nixon, M. W. Dusenberry, L. Zhang, G. Jerfel, D. Tran, 'Measuring Calibration in Deep "
    "Learning', CVPR Workshops 2019."
)
_KULL = (
    "M. Kull, M. Perello-Nieto, M. Kängsepp, T. Silva Filho, H. Song, P. Flach, 'Beyond "
    "temperature scaling: Obtaining well-calibrated multiclass probabilities with Dirichlet "
    "calibration', NeurIPS 2019."
)

#: The paper's bin-based estimators: (family, function, description, reference).
_BINNED: tuple[tuple[str, Callable[..., float], str, str], ...] = (
    ("ECE", _metrics.ece, "top-label ECE, {n} equal-width bins", _NAEINI),
    ("ECE_em", _metrics.ece_em, "top-label ECE, {n} equal-mass bins", _NIXON),
    ("cwCE", _metrics.cw_ece, "classwise ECE, {n} equal-width bins per class", _KULL),
    ("cwCE_em", _metrics.cw_ece_em, "classwise ECE, {n} equal-mass bins per class", _NIXON),
    ("MCE", _metrics.mce, "maximum calibration error over {n} equal-width bins", _NAEINI),
)

#: The paper's other estimators, then ours (name, function, params, description, ref, paper).
_OTHERS: tuple[tuple[str, Callable[..., float], dict[str, Any], str, str, bool], ...] = (
    (
        "KSCE",
        _metrics.ksce,
        {},
        "Kolmogorov-Smirnov calibration error of the top label (binning-free)",
        "K. Gupta, A. Rahimi, T. Ajanthan, T. Mensink, C. Sminchisescu, R. Hartley, "
        "'Calibration of Neural Networks using Splines', ICLR 2021.",
        True,
    ),
    (
        "KDECE",
        _metrics.kdece,
        {},
        "kernel-density estimate of the top-label L1 calibration error",
        "T. Popordanoska, R. Sayer, M. B. Blaschko, 'A Consistent and Differentiable Lp "
        "Canonical Calibration Error Estimator', NeurIPS 2022.",
        True,
    ),
    (
        "MMCE",
        _metrics.mmce,
        {},
        "maximum mean calibration error (Laplacian kernel RKHS)",
        "A. Kumar, S. Sarawagi, U. Jain, 'Trainable Calibration Measures for Neural Networks "
        "from Kernel Mean Embeddings', ICML 2018.",
        True,
    ),
    (
        "NLL",
        _metrics.nll,
        {},
        "mean negative log-likelihood of the true class",
        "C. Guo et al., 'On Calibration of Modern Neural Networks', ICML 2017.",
        True,
    ),
    (
        "Brier",
        _metrics.brier,
        {},
        "multiclass Brier score, mean squared error to the one-hot label",
        "G. W. Brier, 'Verification of Forecasts Expressed in Terms of Probability', "
        "Monthly Weather Review 1950.",
        True,
    ),
    (
        "smECE",
        _metrics.smooth_ece,
        {},
        "smooth ECE of the top label (kernel smoothing, consistent)",
        "J. Błasiok, P. Nakkiran, 'Smooth ECE: Principled Reliability Diagrams via Kernel "
        "Smoothing', ICLR 2024.",
        False,
    ),
    (
        "dL2ECE_15",
        _metrics.debiased_l2_ece,
        {"n_bins": 15},
        "debiased L2 top-label ECE, 15 equal-mass bins",
        "A. Kumar, P. Liang, T. Ma, 'Verified Uncertainty Calibration', NeurIPS 2019.",
        False,
    ),
)


def _build_catalogue() -> dict[str, Metric]:
    catalogue: dict[str, Metric] = {}
    for n in BIN_COUNTS:
        for family, func, description, reference in _BINNED:
            name = f"{family}_{n}"
            catalogue[name] = Metric(
                name,
                func,
                {"n_bins": n},
                description.format(n=n),
                reference,
                paper=True,
                family=family,
            )
    for name, func, params, description, reference, paper in _OTHERS:
        catalogue[name] = Metric(name, func, params, description, reference, paper=paper)
    return catalogue


CATALOGUE: dict[str, Metric] = _build_catalogue()
"""Every metric by column base name, in the column order of the paper's CSVs, ours last."""


def metric_columns(
    prefixes: Sequence[str] = ("pre", "post"), *, paper_only: bool = False
) -> list[str]:
    """Column names of the catalogue metrics in the paper's order.

    For each metric of :data:`CATALOGUE` (bin count outermost: ``ECE_5, ECE_em_5, cwCE_5,
    cwCE_em_5, MCE_5, ECE_10, …``, then ``KSCE, KDECE, MMCE, NLL, Brier``, then ours), one
    column per prefix, each ``pre_`` column followed by its ``post_`` column.

    Parameters
    ----------
    prefixes : sequence of str, default ("pre", "post")
        Column prefixes, e.g. ``("pre",)`` for pre-scaling columns only.
    paper_only : bool, default False
        Keep only the reference study's columns (90 bin-based + 10 others with the default
        prefixes).

    Returns
    -------
    list of str
        ``f"{prefix}_{name}"`` for each metric name, then each prefix.

    Examples
    --------
    >>> metric_columns()[:4]
    ['pre_ECE_5', 'post_ECE_5', 'pre_ECE_em_5', 'post_ECE_em_5']
    >>> len(metric_columns(paper_only=True))
    100
    """
    if isinstance(prefixes, str) or not all(isinstance(p, str) and p for p in prefixes):
        raise ValueError(
            f"Expected `prefixes` to be a sequence of non-empty strings, got {prefixes!r}."
        )
    return [
        f"{prefix}_{name}"
        for name, metric in CATALOGUE.items()
        if metric.paper or not paper_only
        for prefix in prefixes
    ]


def _lookup(name: str) -> Metric:
    """The catalogue entry ``name``, or a ValueError suggesting close names."""
    if name in CATALOGUE:
        return CATALOGUE[name]
    by_lower = {key.lower(): key for key in CATALOGUE}
    close = difflib.get_close_matches(str(name).lower(), by_lower, n=3, cutoff=0.6)
    hint = (
        f" Did you mean: {', '.join(by_lower[c] for c in close)}?"
        if close
        else " See calstudy.catalogue.CATALOGUE for the known names."
    )
    raise ValueError(f"Unknown metric {name!r}.{hint}")


def compute(name: str, probs: ArrayLike, labels: ArrayLike) -> float:
    """Evaluate the catalogue metric ``name`` on ``probs`` (N, K) and ``labels`` (N,).

    Parameters
    ----------
    name : str
        A key of :data:`CATALOGUE`, e.g. ``"ECE_15"``.
    probs : array-like of shape (N, K)
        Predicted class probabilities.
    labels : array-like of shape (N,), int
        True classes.

    Returns
    -------
    float

    Examples
    --------
    >>> compute("ECE_15", [[0.9, 0.1], [0.9, 0.1]], [0, 1])  # confidence 0.9, accuracy 0.5
    0.4
    """
    return _lookup(name)(probs, labels)


def _stage(probs: NDArray[np.float64], labels: NDArray[np.int64], names: list[str]) -> dict:
    """Evaluate ``names`` on one (probs, labels) pair; every bin-based metric in one pass."""
    binned = [CATALOGUE[n] for n in names if CATALOGUE[n].family is not None]
    values: dict[str, float] = {}
    if binned:
        wanted = {m.params["n_bins"] for m in binned}
        table = _metrics.binned_errors(
            probs, labels, bin_counts=tuple(n for n in BIN_COUNTS if n in wanted)
        )
        for m in binned:
            values[m.name] = float(table[m.family][m.params["n_bins"]])
    for name in names:
        if CATALOGUE[name].family is None:
            values[name] = CATALOGUE[name](probs, labels)
    return values


def _check_heldout_idx(heldout_idx: ArrayLike, n: int) -> tuple[NDArray[np.int64], ...]:
    idx = np.asarray(heldout_idx)
    if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(
            f"Expected `heldout_idx` to be a 1-D array of integer indices, got shape "
            f"{idx.shape} and dtype {idx.dtype}."
        )
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(
            f"Expected `heldout_idx` to be in [0, {n - 1}], got values in "
            f"[{idx.min()}, {idx.max()}]."
        )
    fit_idx = np.unique(idx).astype(np.int64)
    if len(fit_idx) != len(idx):
        raise ValueError("Expected `heldout_idx` to hold distinct indices, got duplicates.")
    if len(fit_idx) < MIN_SPLIT_SAMPLES:
        raise ValueError(
            f"Expected `heldout_idx` to hold out at least {MIN_SPLIT_SAMPLES} of the {n} samples "
            f"to fit on, got {len(fit_idx)}."
        )
    if n - len(fit_idx) < MIN_SPLIT_SAMPLES:
        raise ValueError(
            f"Expected `heldout_idx` to leave at least {MIN_SPLIT_SAMPLES} of the {n} samples to "
            f"evaluate on, got {n - len(fit_idx)}."
        )
    eval_mask = np.ones(n, dtype=bool)
    eval_mask[fit_idx] = False
    return fit_idx, np.flatnonzero(eval_mask).astype(np.int64)


def _check_names(names: Iterable[str] | None) -> list[str]:
    if names is None:
        return list(CATALOGUE)
    if isinstance(names, str):
        raise ValueError(f"Expected `metrics` to be a sequence of metric names, got {names!r}.")
    wanted = {_lookup(name).name for name in names}
    return [name for name in CATALOGUE if name in wanted]  # catalogue order, no duplicates


def _check_posthoc(posthoc: Iterable[str]) -> list[str]:
    if isinstance(posthoc, str):
        raise ValueError(f"Expected `posthoc` to be a sequence of method names, got {posthoc!r}.")
    methods = list(dict.fromkeys(posthoc))
    unknown = [m for m in methods if m not in POSTHOC_METHODS]
    if unknown:
        raise ValueError(
            f"Expected `posthoc` to name methods among {sorted(POSTHOC_METHODS)}, got {unknown}."
        )
    return [m for m in methods if m != "ts"]


def full_record(
    logits: ArrayLike,
    labels: ArrayLike,
    *,
    heldout_frac: float = 0.2,
    seed: int = 0,
    heldout_idx: ArrayLike | None = None,
    metrics: Iterable[str] | None = None,
    posthoc: Sequence[str] = ("ts",),
) -> dict[str, float]:
    r"""Every calibration column of one network, pre and post temperature scaling.

    With :math:`\hat p = \operatorname{softmax}(z)` and the split of :func:`~calstudy.calibrate.heldout_split`:

    * ``pre_{name}``: metric ``name`` on all :math:`N` predictions :math:`\hat p`;
    * ``temperature``: :math:`T^\star` fitted by NLL on the held-out part
      (:func:`calstudy.calibrate.fit_temperature`; 20 % by default, as in the paper);
    * ``post_{name}``: metric ``name`` on :math:`\operatorname{softmax}(z / T^\star)` of the
      other part only (80 %), so no column is evaluated on the data it was fitted on.

    All bin-based columns of one stage come from a single
    :func:`calstudy.metrics.binned_errors` call.

    Parameters
    ----------
    logits : array-like of shape (N, K)
        Finite pre-softmax outputs of the network on its test set.
    labels : array-like of shape (N,), int
        True classes in ``[0, K)``.
    heldout_frac : float, default 0.2
        Fraction of samples held out to fit the post-hoc calibrators, in (0, 1); both the
        held-out part (``round(heldout_frac * N)``) and the rest must hold at least
        :data:`calstudy.calibrate.MIN_SPLIT_SAMPLES` (2) samples.
    seed : int, default 0
        Seed of the held-out split.
    heldout_idx : array-like of int, optional
        Indices to hold out instead of a random split (``heldout_frac`` and ``seed`` are then
        ignored); the other samples are the evaluation part.
    metrics : iterable of str, optional
        Restrict the ``pre_``/``post_`` columns to these :data:`CATALOGUE` names (default:
        all); the scalar columns are always present.
    posthoc : sequence of str, default ("ts",)
        Post-hoc methods of :data:`calstudy.calibrate.POSTHOC_METHODS`. Temperature scaling
        always runs (it defines the ``post_`` columns); each other method ``m`` is fitted on
        the same held-out part and adds ``{m}_ECE_15``, ``{m}_NLL``, ``{m}_Brier`` and
        ``{m}_acc``, evaluated on the same evaluation part.

    Returns
    -------
    dict of str to float
        In order: ``acc``, ``correct_confidence``, ``incorrect_confidence`` (pre-scaling, all
        predictions), ``temperature``, ``n_eval``, ``n_heldout`` (int), then
        :func:`metric_columns` restricted to ``metrics``, then the other methods' columns.

    Raises
    ------
    ValueError
        Before any metric is computed: for invalid ``logits``/``labels``, fewer than 4 samples,
        a ``heldout_frac`` or ``heldout_idx`` that leaves either part with fewer than 2 samples
        (the message names the parameter), unknown ``metrics`` or ``posthoc`` names.

    Warns
    -----
    calstudy.calibrate.SmallSampleWarning
        When the held-out part has fewer than :data:`calstudy.calibrate.SMALL_FIT_SAMPLES`
        (100) samples, with that number: the temperature is then noisy.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> logits = 3 * rng.standard_normal((500, 10))
    >>> labels = (logits / 2 + rng.gumbel(size=(500, 10))).argmax(1)  # y ~ softmax(logits / 2)
    >>> record = full_record(logits, labels)
    >>> record["n_heldout"], record["n_eval"], list(record)[6:8]
    (100, 400, ['pre_ECE_5', 'post_ECE_5'])
    """
    z, y = check_logits_labels(logits, labels)
    least = 2 * MIN_SPLIT_SAMPLES
    if len(y) < least:
        raise ValueError(
            f"Expected `logits` to hold at least {least} samples ({MIN_SPLIT_SAMPLES} to fit the "
            f"temperature on, {MIN_SPLIT_SAMPLES} to evaluate on), got {len(y)}."
        )
    names = _check_names(metrics)
    extra_methods = _check_posthoc(posthoc)
    if heldout_idx is None:
        heldout_sizes(len(y), frac=heldout_frac, name="heldout_frac")
        fit_idx, eval_idx = heldout_split(len(y), frac=heldout_frac, seed=seed)
    else:
        fit_idx, eval_idx = _check_heldout_idx(heldout_idx, len(y))

    probs = _metrics.to_probs(z)
    correct_confidence, incorrect_confidence = _metrics.confidence_split(probs, y)
    ts = TemperatureScaling().fit(z[fit_idx], y[fit_idx])
    y_eval = y[eval_idx]
    pre = _stage(probs, y, names)
    post = _stage(_metrics.to_probs(ts.transform(z[eval_idx])), y_eval, names)

    record: dict[str, float] = {
        "acc": float(_metrics.accuracy(probs, y)),
        "correct_confidence": float(correct_confidence),
        "incorrect_confidence": float(incorrect_confidence),
        "temperature": float(ts.temperature),
        "n_eval": len(eval_idx),
        "n_heldout": len(fit_idx),
    }
    for name in names:
        record[f"pre_{name}"] = pre[name]
        record[f"post_{name}"] = post[name]
    for method in extra_methods:
        calibrator = POSTHOC_METHODS[method]().fit(z[fit_idx], y[fit_idx])
        probs_m = calibrator.predict_proba(z[eval_idx])
        record[f"{method}_ECE_15"] = float(_metrics.ece(probs_m, y_eval, n_bins=15))
        record[f"{method}_NLL"] = float(_metrics.nll(probs_m, y_eval))
        record[f"{method}_Brier"] = float(_metrics.brier(probs_m, y_eval))
        record[f"{method}_acc"] = float(_metrics.accuracy(probs_m, y_eval))
    return record


# ── display names ─────────────────────────────────────────────────────────────────────────────
#: Short names of the estimator families, as a reader meets them in the book.
_FAMILY_NAMES = {
    "ECE": "ECE",
    "ECE_em": "equal-mass ECE",
    "cwCE": "classwise ECE",
    "cwCE_em": "equal-mass classwise ECE",
    "MCE": "MCE",
    "dL2ECE": "debiased L2 ECE",
    "KSCE": "KS calibration error",
    "KDECE": "KDE calibration error",
    "MMCE": "MMCE",
    "NLL": "NLL",
    "Brier": "Brier score",
    "smECE": "smooth ECE",
}
_STAGES = {"pre": "before scaling", "post": "after scaling"}
_POSTHOC = {"vs": "vector scaling", "hist": "histogram binning", "iso": "isotonic regression"}
_ATTACKS = {"fgsm": "FGSM", "pgd": "PGD", "aa_apgd_ce": "APGD-CE", "aa_square": "Square"}
_PLAIN = {
    "acc": "accuracy",
    "temperature": "temperature",
    "correct_confidence": "confidence when right",
    "incorrect_confidence": "confidence when wrong",
    "total_width": "total width",
    "n_params": "parameters",
    "flops": "FLOPs",
    "conv_depth": "convolutions on the deepest path",
    "mean_corruption_acc": "mean accuracy under corruption",
    "relative_corruption_acc": "accuracy under corruption relative to clean",
    "skip_0_3": "skip connection on edge 0→3",
    **{f"c{i}": f"width of stage {i + 1}" for i in range(5)},
}


_AUROC_TARGETS = {"cifar10c": "Gaussian-noise CIFAR-10-C", "svhn": "SVHN", "ood": "the OOD set"}


def _measured(column: str) -> tuple[str, str, str] | None:
    """Split a measured column into (estimator's name, bin count or "", stage prefix or ""):
    ``pre_ECE_15`` → ("ECE", "15", "pre"), ``ECE_em_15`` → ("equal-mass ECE", "15", ""),
    ``iso_acc`` → ("accuracy", "", "iso"); None for a column that is not one."""
    prefix, _, rest = column.partition("_")
    if prefix not in ("pre", "post", *_POSTHOC) or not rest or column in _PLAIN:
        prefix, rest = "", column
    if rest.startswith("auc_") and prefix:
        return f"AUROC against {_AUROC_TARGETS.get(rest[4:], rest[4:])}", "", prefix
    family, _, bins = rest.rpartition("_")
    if not (family and bins.isdigit()):
        family, bins = rest, ""
    if rest == "acc" and prefix:
        return "accuracy", "", prefix
    if family in _FAMILY_NAMES:
        return _FAMILY_NAMES[family], bins, prefix
    return (family.replace("_", " "), bins, prefix) if prefix else None


def display_name(column: str) -> str:
    """How the book names a dataset column: ``pre_ECE_15`` → ``"ECE, 15 bins, before scaling"``.

    One place for the names on every axis, legend and table, so that a reader never meets a raw
    column name. An estimator's catalogue name without a stage (``ECE_15``) reads the same way
    without it. Unknown columns are returned with underscores as spaces.

    Examples
    --------
    >>> display_name("pre_ECE_15"), display_name("post_KSCE"), display_name("acc")
    ('ECE, 15 bins, before scaling', 'KS calibration error, after scaling', 'accuracy')
    >>> display_name("fgsm_Linf_acc0_5"), display_name("frost"), display_name("edge_3_0")
    ('FGSM accuracy, ε = 0.5/255', 'accuracy under frost', 'operation on edge 0→3')
    >>> display_name("pre_auc_svhn"), display_name("iso_ECE_15"), display_name("n_avg_pool_3x3")
    ('AUROC against SVHN', 'ECE, 15 bins, isotonic regression', 'number of avg_pool_3x3 edges')
    >>> display_name("cwCE_em_15")
    'equal-mass classwise ECE, 15 bins'
    """
    from calstudy.schema import CORRUPTIONS

    if column in _PLAIN:
        return _PLAIN[column]
    measured = _measured(column)
    if measured is not None:
        name, bins, prefix = measured
        if name.startswith("AUROC"):
            return name
        parts = [name, f"{bins} bins" if bins else "", _STAGES.get(prefix) or _POSTHOC.get(prefix)]
        return ", ".join(p for p in parts if p)
    for attack, name in _ATTACKS.items():
        if column.startswith(f"{attack}_Linf_acc"):
            eps = column[len(attack) + len("_Linf_acc") :].replace("_", ".").removesuffix(".0")
            return f"{name} accuracy, ε = {eps}/255"
    if column in CORRUPTIONS:
        return f"accuracy under {column.replace('_', ' ')}"
    if column.startswith("edge_") and column.count("_") == 2:
        _, dst, src = column.split("_")
        return f"operation on edge {src}→{dst}"
    if column.startswith("n_"):
        return f"number of {column[2:]} edges"
    return column.replace("_", " ")


# The estimator families as a column spells them, longest first so that ``cwCE_em`` is not read
# as ``cwCE`` followed by text.
_FAMILY_PATTERN = "|".join(sorted(map(re.escape, _FAMILY_NAMES), key=len, reverse=True))

#: A dataset column as the store names it (``pre_ECE_15``, ``fgsm_Linf_acc0_1``, ``n_params``):
#: the shapes a reader should meet only by their display name. Only shapes that ordinary words
#: do not take: a stage or post-hoc prefix with an estimator (and its bin count), accuracy or an
#: AUROC; an attack's accuracy column; a corruption named with an underscore; an edge or
#: operation-count column; a few size columns. ``calstudy.htmlcheck`` looks for these in the
#: rendered chapters' prose and tables.
RAW_COLUMN = re.compile(
    rf"(?<![\w/.-])(?:(?:pre|post|vs|hist|iso)_(?:(?:{_FAMILY_PATTERN})(?:_\d+)?|acc|auc_[a-z0-9]+)"
    r"|(?:fgsm|pgd|aa_apgd_ce|aa_square)_Linf_acc\d+(?:_\d+)*|edge_\d_\d"
    r"|(?:gaussian|shot|impulse)_noise|(?:defocus|glass|motion|zoom)_blur|elastic_transform"
    r"|jpeg_compression|n_(?:none|skip_connect|nor_conv_1x1|nor_conv_3x3|avg_pool_3x3)"
    r"|total_width|n_params|conv_depth|skip_0_3|(?:in)?correct_confidence"
    r"|(?:mean|relative)_corruption_acc)(?![\w-])"
)


def is_column_name(text: str) -> bool:
    """Whether ``text`` is a raw dataset column name (:data:`RAW_COLUMN`), all of it.

    Examples
    --------
    >>> is_column_name("pre_ECE_15"), is_column_name("post_cwCE_em_15"), is_column_name("n_params")
    (True, True, True)
    >>> is_column_name("ECE_em"), is_column_name("pre_x"), is_column_name("post_hoc")
    (False, False, False)
    """
    return RAW_COLUMN.fullmatch(text) is not None


def reader_label(value: Any) -> Any:
    """A table label or cell as a reader meets it: a raw column name (:func:`is_column_name`) or
    a plainly named one (``acc``, ``c3``, ``flops``) becomes its :func:`display_name`; anything
    else is returned unchanged (``calstudy.report``'s tables apply it to every label and string
    cell).

    Examples
    --------
    >>> reader_label("post_ECE_15"), reader_label("n_avg_pool_3x3"), reader_label("c3")
    ('ECE, 15 bins, after scaling', 'number of avg_pool_3x3 edges', 'width of stage 4')
    >>> reader_label("TSS · cifar10"), reader_label("synflow"), reader_label(0.5)
    ('TSS · cifar10', 'synflow', 0.5)
    """
    if isinstance(value, str) and (value in _PLAIN or is_column_name(value)):
        return display_name(value)
    return value


def prose_name(column: str, *, stage: bool = True) -> str:
    """How a sentence names a dataset column: ``pre_ECE_15`` → ``"15-bin ECE before scaling"``.

    :func:`display_name` writes labels for axes and tables ("ECE, 15 bins, before scaling");
    inside a sentence its commas would read as clauses, so the finding sentences use this form.
    ``stage=False`` drops "before scaling" / "after scaling" for a sentence that already says
    when the column was measured. An estimator's catalogue name (``ECE_15``) has no stage.

    Examples
    --------
    >>> prose_name("pre_ECE_15"), prose_name("post_ECE_15", stage=False), prose_name("ECE_15")
    ('15-bin ECE before scaling', '15-bin ECE', '15-bin ECE')
    >>> prose_name("post_KSCE"), prose_name("iso_ECE_15"), prose_name("acc")
    ('KS calibration error after scaling', '15-bin ECE after isotonic regression', 'accuracy')
    >>> prose_name("fgsm_Linf_acc0_5"), prose_name("frost"), prose_name("pre_auc_svhn")
    ('FGSM accuracy at ε = 0.5/255', 'accuracy under frost', 'AUROC against SVHN')
    """
    measured = _measured(column)
    if measured is None:
        return display_name(column).replace(", ε", " at ε")
    name, bins, prefix = measured
    if bins:
        name = f"{bins}-bin {name}"
    when = _STAGES.get(prefix) or (f"after {_POSTHOC[prefix]}" if prefix in _POSTHOC else "")
    return f"{name} {when}" if stage and when and not name.startswith("AUROC") else name
