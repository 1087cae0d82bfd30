"""What the study costs at scale: measured per-network costs projected to 117,702 networks.

The reference study counts its dataset as 117,702 (dataset, architecture) rows (Tao et al.,
2024, and its repository's README): 3 datasets (CIFAR-10, CIFAR-100, ImageNet16-120) ×
(6,466 unique NATS-Bench TSS + 32,768 SSS architectures) = 3 × 39,234 = **117,702**. The TSS
count is the number of cells unique up to isomorphism (:func:`calstudy.space.unique_tss`); the
released TSS CSVs list all 15,625 strings, isomorphic duplicates included, which would make
3 × (15,625 + 32,768) = 145,179 rows; the paper's count, and the projections here, use the
unique cells (scale by 145,179 / 117,702 = 1.23 for every string). This module turns
*measured* quantities into hours:

* **Measurements on the current device** (:mod:`calstudy.measure`, the torch side, kept out
  of this module so that it imports no torch): :func:`calstudy.measure.measure_eval_cost`
  times the logits of a sample of architectures at the pretrained size (TSS C = 16, N = 5;
  SSS at its own widths) and :func:`calstudy.catalogue.full_record` on ``10,000 × K`` logits;
  :func:`calstudy.measure.measure_train_cost` times training steps at a preset's network size.
* **Measurements of past runs**: :func:`row_costs` / :func:`sweep_runs` read the provenance of
  a store's rows (``created_at``, ``wall_time_s``, ``train_time_s``, ``eval_time_s``) and, by
  Little's law, the concurrency and node-seconds per row of each run; :func:`load_measurement`
  reads the machine-readable benchmark files of ``benchmarks/results/``.
* **The cost model**: :class:`NetworkCost` (seconds one network needs on the GPU and on a CPU
  core) and :func:`throughput` / :func:`project` (networks per second and hours on one GPU or
  a cluster of ``G`` GPUs, with ``k`` jobs sharing each GPU and a bound from the CPU cores).

Only the pretrained *evaluation* is the study's actual workload (``calstudy sweep --preset
full`` loads NATS-Bench's trained weights); :func:`train_projection` says what *training* every
network would cost, an extrapolation from the measured per-image cost.

References
----------
.. [1] L. Tao, Y. Zhu, H. Guo, M. Dong, C. Xu, "A Benchmark Study on Calibration", ICLR 2024.
.. [2] X. Dong, L. Liu, K. Musial, B. Gabrys, "NATS-Bench: Benchmarking NAS Algorithms for
   Architecture Topology and Size", TPAMI 2021.
.. [3] J. D. C. Little, "A Proof for the Queuing Formula: L = λW", Operations Research 9(3), 1961.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from calstudy._checks import check_nonnegative, check_positive, check_positive_int, check_spaces

if TYPE_CHECKING:
    from calstudy.measure import EvalMeasurement, TrainMeasurement

__all__ = [
    "DATASETS",
    "EVAL_IMAGES",
    "NATS_EPOCHS",
    "NATS_TRAIN_IMAGES",
    "N_NETWORKS",
    "PAPER_NETWORKS",
    "SCALES",
    "NetworkCost",
    "load_measurement",
    "concurrency_speedup",
    "population_flops",
    "project",
    "required_for",
    "row_costs",
    "scale_fidelity",
    "study_networks",
    "sweep_runs",
    "throughput",
    "train_projection",
]

# ---------------------------------------------------------------------------------------------
# The study's size
# ---------------------------------------------------------------------------------------------

DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "imagenet16-120")
"""The reference study's datasets."""

PAPER_NETWORKS: Mapping[str, int] = {"tss": 6_466, "sss": 32_768}
"""Architectures per dataset in the released study: TSS cells unique up to isomorphism
(:func:`calstudy.space.unique_tss`) and every SSS width string (:func:`calstudy.space.all_sss`)."""

N_NETWORKS: int = len(DATASETS) * sum(PAPER_NETWORKS.values())
"""117,702 = 3 × (6,466 + 32,768): the rows of the released study."""

EVAL_IMAGES: Mapping[str, int] = {
    "clean test": 10_000,
    "Gaussian noise, severity 5": 10_000,
    "SVHN": 26_032,
}
"""Images one network's pretrained evaluation passes through it (the CIFAR-10 workload): its
test set for the calibration columns, the Gaussian-noise copy for ``pre_auc_cifar10c`` and SVHN's
test set for ``pre_auc_svhn``. ImageNet16-120's test set is smaller (and 16 × 16), so applying
this workload to every dataset overestimates."""

NATS_EPOCHS: Mapping[str, int] = {"tss": 200, "sss": 90}
"""Epochs of NATS-Bench's longest training per space (Dong et al., 2021)."""

NATS_TRAIN_IMAGES: Mapping[str, int] = {
    "cifar10": 50_000,
    "cifar100": 50_000,
    "imagenet16-120": 151_700,
}
"""Training images per epoch of NATS-Bench's runs on each dataset."""

SCALES: tuple[str, ...] = ("tiny", "demo", "full")
"""The sweep presets, from CI size to the paper's (:data:`calstudy.sweep.PRESETS`)."""



def study_networks(
    networks: Mapping[str, int] = PAPER_NETWORKS, datasets: Sequence[str] = DATASETS
) -> pd.DataFrame:
    """One row per (dataset, space) with its number of networks; they sum to :data:`N_NETWORKS`.

    Examples
    --------
    >>> int(study_networks()["networks"].sum())
    117702
    """
    for space, count in networks.items():
        check_positive_int(count, f"networks[{space!r}]")
    rows = [
        {"dataset": d, "space": s, "networks": int(n)}
        for d in datasets
        for s, n in networks.items()
    ]
    return pd.DataFrame(rows, columns=["dataset", "space", "networks"])


def population_flops(spaces: Sequence[str] = ("tss", "sss")) -> dict[str, float]:
    """Mean multiply-accumulates per 32 × 32 image over every network of each space.

    TSS: the 6,466 unique cells (:func:`calstudy.space.unique_tss`) at the pretrained size
    C = 16, N = 5; SSS: all 32,768 width strings. The ``flops`` of
    :func:`calstudy.space.tss_features` / :func:`calstudy.space.sss_features`, averaged: a proxy
    for how the evaluation cost of the study's networks compares with one measured network's
    when the accelerator is compute-bound (it is not a proxy when it is launch-bound).
    """
    return {space: _mean_flops(space) for space in check_spaces(spaces)}


@functools.cache
def _mean_flops(space: str) -> float:
    from calstudy import space as spaces

    if space == "tss":
        return float(
            np.mean([spaces.tss_features(a, C=16, N=5)["flops"] for a in spaces.unique_tss()])
        )
    return float(np.mean([spaces.sss_features(a)["flops"] for a in spaces.all_sss()]))


# ---------------------------------------------------------------------------------------------
# The cost model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkCost:
    r"""Seconds one network's job costs, each part measured alone.

    Attributes
    ----------
    gpu_s : float
        :math:`t_\mathrm{gpu}`: accelerator seconds of the job, alone on the device, e.g.
        images / (logit throughput).
    record_s : float
        :math:`t_\mathrm{rec}`: CPU seconds after the accelerator part, on one core (the metric
        catalogue :func:`calstudy.catalogue.full_record`).
    host_s : float, default 0
        :math:`t_\mathrm{host}`: core-seconds the job's process spends during its accelerator
        part (launching kernels, waiting in ``synchronize``). A launch-bound job keeps its core
        busy the whole time, :math:`t_\mathrm{host} = t_\mathrm{gpu}`.

    Examples
    --------
    >>> cost = NetworkCost.from_throughput(images=46_032, images_per_s=59_024, record_s=0.91)
    >>> round(cost.gpu_s, 3), round(cost.latency_s, 3)
    (0.78, 1.69)
    """

    gpu_s: float
    record_s: float
    host_s: float = 0.0

    def __post_init__(self) -> None:
        check_positive(self.gpu_s, "gpu_s")
        check_nonnegative(self.record_s, "record_s")
        check_nonnegative(self.host_s, "host_s")

    @classmethod
    def from_throughput(
        cls, *, images: int, images_per_s: float, record_s: float, host_s: float = 0.0
    ) -> NetworkCost:
        """:math:`t_\\mathrm{gpu}` = ``images / images_per_s``; the rest as given."""
        check_positive_int(images, "images")
        check_positive(images_per_s, "images_per_s")
        return cls(gpu_s=images / images_per_s, record_s=record_s, host_s=host_s)

    @property
    def latency_s(self) -> float:
        """Seconds of one job alone: :math:`t_\\mathrm{gpu} + t_\\mathrm{rec}`."""
        return self.gpu_s + self.record_s

    @property
    def cpu_s(self) -> float:
        """Core-seconds of one job: :math:`t_\\mathrm{rec} + t_\\mathrm{host}`."""
        return self.record_s + self.host_s


@dataclass(frozen=True)
class Rate:
    """Networks per second of a configuration and the bound that sets it."""

    networks_per_s: float
    bound: str  # "cpu", "gpu" or "slots"
    gpu: float
    cpu: float
    slots: float


def throughput(
    cost: NetworkCost,
    *,
    gpus: int = 1,
    jobs_per_gpu: int = 1,
    speedup: float = 1.0,
    cores: float | None = None,
    cpus_per_job: float = 1.0,
) -> Rate:
    r"""Networks per second of ``gpus`` accelerators running ``jobs_per_gpu`` jobs each.

    The rate is the smallest of three upper bounds,

    .. math::

        R = \min\Bigl(\underbrace{\frac{G\, s_k}{t_\mathrm{gpu}}}_\text{gpu},\;
        \underbrace{\frac{C}{t_\mathrm{rec} + t_\mathrm{host}}}_\text{cpu},\;
        \underbrace{\frac{J}{t_\mathrm{gpu} + t_\mathrm{rec}}}_\text{slots}\Bigr),
        \qquad J = \min\bigl(G k, \lfloor C / c \rfloor\bigr),

    with :math:`G` accelerators, :math:`k` concurrent jobs per accelerator (Ray's
    ``num_gpus = 1/k``), :math:`s_k` the aggregate speed-up of :math:`k` jobs sharing one
    accelerator over one job alone (:math:`s_1 = 1`, :math:`0 < s_k \le k`), :math:`C` CPU cores
    and :math:`c` cores per job. *gpu*: the accelerators' work; *cpu*: every job's core-seconds;
    *slots*: each of the :math:`J` job slots finishes at most one network per uncontended job
    time (:math:`J` is capped by the GPUs' :math:`k` jobs each and by the cores, which each job
    holds :math:`c` of). Ties are named in the order cpu, gpu, slots. One job per accelerator
    gives :math:`R = G / (t_\mathrm{gpu} + t_\mathrm{rec})`, the serial rate. Each bound is attainable only with perfect pipelining, so :math:`R` is
    optimistic and the hours :math:`n / R` a lower bound under the given :math:`s_k`.

    Parameters
    ----------
    cost : NetworkCost
    gpus : int
        :math:`G`.
    jobs_per_gpu : int
        :math:`k`.
    speedup : float
        :math:`s_k`, a measured or assumed value in ``(0, jobs_per_gpu]``.
    cores : float, optional
        :math:`C`; None: no CPU bound (e.g. the "accelerator" is the CPU itself).
    cpus_per_job : float
        :math:`c`.

    Returns
    -------
    Rate
        ``networks_per_s`` = :math:`R`, the name of the smallest bound, and all three bounds.

    Examples
    --------
    >>> cost = NetworkCost(gpu_s=1.0, record_s=1.0)
    >>> throughput(cost).networks_per_s  # serial: one network every 2 s
    0.5
    >>> r = throughput(cost, jobs_per_gpu=4, speedup=3.0, cores=2)
    >>> r.networks_per_s, r.bound  # 2 cores: 2 jobs at a time, 2 s each (GPU + catalogue)
    (1.0, 'slots')
    """
    check_positive_int(gpus, "gpus")
    check_positive_int(jobs_per_gpu, "jobs_per_gpu")
    check_positive(speedup, "speedup")
    if speedup > jobs_per_gpu + 1e-12:
        raise ValueError(
            f"Expected `speedup` to be at most `jobs_per_gpu` = {jobs_per_gpu} ({jobs_per_gpu} "
            f"jobs cannot run more than {jobs_per_gpu}x as fast as one), got {speedup!r}."
        )
    check_positive(cpus_per_job, "cpus_per_job")
    slots = gpus * jobs_per_gpu
    if cores is not None:
        check_positive(cores, "cores")
        if cores < cpus_per_job:
            raise ValueError(
                f"Expected `cores` to be at least `cpus_per_job` = {cpus_per_job}, got {cores!r}."
            )
        slots = min(slots, math.floor(cores / cpus_per_job))
    bounds = {
        "gpu": gpus * speedup / cost.gpu_s,
        "cpu": math.inf if cores is None or cost.cpu_s == 0 else cores / cost.cpu_s,
        "slots": slots / cost.latency_s,
    }
    bound = min(("cpu", "gpu", "slots"), key=lambda name: bounds[name])  # ties: first named
    return Rate(bounds[bound], bound, bounds["gpu"], bounds["cpu"], bounds["slots"])


def project(
    cost: NetworkCost,
    *,
    n_networks: int = N_NETWORKS,
    gpus: Sequence[int] = (1,),
    jobs_per_gpu: int = 1,
    speedup: float = 1.0,
    gpus_per_node: int = 1,
    cores_per_node: float | None = 16,
    cpus_per_job: float = 1.0,
    scenario: str = "",
) -> pd.DataFrame:
    r"""Hours for ``n_networks`` on clusters of each size in ``gpus``, one row per size.

    A cluster of :math:`G` accelerators has :math:`\lceil G / g \rceil` nodes of :math:`g`
    accelerators and ``cores_per_node`` cores each. With :math:`R` of :func:`throughput`, the
    wall-clock time is :math:`T = n / R` and the accelerator time :math:`G\,T` (the "GPU-hours"
    a cluster bills).

    Returns
    -------
    DataFrame
        Columns ``scenario, gpus, jobs_per_gpu, speedup, nodes, cores, networks_per_s, bound,
        gpu_bound, cpu_bound, slots_bound, hours, gpu_hours, s_per_network`` (the last is
        :math:`G / R`, accelerator-seconds per network).

    Examples
    --------
    >>> cost = NetworkCost(gpu_s=0.5, record_s=0.5)
    >>> project(cost, n_networks=7200, gpus=[1, 2])[["gpus", "hours", "gpu_hours"]].to_numpy()
    array([[1., 2., 2.],
           [2., 1., 2.]])
    """
    check_positive_int(n_networks, "n_networks")
    check_positive_int(gpus_per_node, "gpus_per_node")
    if isinstance(gpus, int | np.integer):
        gpus = [int(gpus)]
    if len(gpus) == 0:
        raise ValueError("Expected `gpus` to list at least one cluster size, got none.")
    rows = []
    for g in gpus:
        check_positive_int(g, "gpus")
        nodes = math.ceil(g / gpus_per_node)
        cores = None if cores_per_node is None else nodes * cores_per_node
        rate = throughput(
            cost,
            gpus=int(g),
            jobs_per_gpu=jobs_per_gpu,
            speedup=speedup,
            cores=cores,
            cpus_per_job=cpus_per_job,
        )
        hours = n_networks / rate.networks_per_s / 3600
        rows.append(
            {
                "scenario": scenario,
                "gpus": int(g),
                "jobs_per_gpu": jobs_per_gpu,
                "speedup": float(speedup),
                "nodes": nodes,
                "cores": np.nan if cores is None else float(cores),
                "networks_per_s": rate.networks_per_s,
                "bound": rate.bound,
                "gpu_bound": rate.gpu,
                "cpu_bound": rate.cpu,
                "slots_bound": rate.slots,
                "hours": hours,
                "gpu_hours": hours * g,
                "s_per_network": g / rate.networks_per_s,
            }
        )
    return pd.DataFrame(rows)


def required_for(
    cost: NetworkCost,
    hours: float,
    *,
    n_networks: int = N_NETWORKS,
    gpus: int = 1,
    cores: float | None = None,
    cpus_per_job: float = 1.0,
) -> dict[str, float]:
    r"""What finishing ``n_networks`` within ``hours`` on ``gpus`` accelerators requires.

    Inverting the bounds of :func:`throughput` at :math:`R^\star = n / (3600\,T)`:

    * ``speedup``: :math:`s^\star = R^\star t_\mathrm{gpu} / G`, the aggregate speed-up that
      concurrent jobs must reach (:math:`\le 1`: met by one job at a time, if the other bounds
      allow);
    * ``jobs_per_gpu``: :math:`k^\star = \lceil R^\star (t_\mathrm{gpu} + t_\mathrm{rec}) / G
      \rceil`, the fewest concurrent jobs per accelerator (the slots bound), and at least
      :math:`s^\star`;
    * ``cpu_floor_hours``: :math:`n\,(t_\mathrm{rec} + t_\mathrm{host}) / (3600\,C)`, the
      hours the CPU cores alone need (NaN without ``cores``); ``cpu_ok`` is 1.0 when that fits.

    Examples
    --------
    >>> need = required_for(NetworkCost(gpu_s=1.0, record_s=1.0), 1.0, n_networks=7200)
    >>> need["speedup"], need["jobs_per_gpu"]
    (2.0, 4.0)
    """
    check_positive(hours, "hours")
    check_positive_int(n_networks, "n_networks")
    check_positive_int(gpus, "gpus")
    rate = n_networks / (3600 * hours)
    speedup = rate * cost.gpu_s / gpus
    jobs = max(math.ceil(rate * cost.latency_s / gpus - 1e-9), math.ceil(speedup - 1e-9), 1)
    if cores is None:
        floor, ok = math.nan, math.nan
    else:
        check_positive(cores, "cores")
        floor = n_networks * cost.cpu_s / cores / 3600
        slots_ok = math.floor(cores / cpus_per_job) >= gpus * jobs
        ok = float(floor <= hours and slots_ok)
    return {
        "rate": rate,
        "speedup": speedup,
        "jobs_per_gpu": float(jobs),
        "cpu_floor_hours": floor,
        "cpu_ok": ok,
    }


# ---------------------------------------------------------------------------------------------
# Training at a fidelity
# ---------------------------------------------------------------------------------------------


def scale_fidelity(scale: str) -> dict[str, Any]:
    """Network size and training length of a scale (a sweep preset).

    ``tiny`` and ``demo`` are read from :data:`calstudy.sweep.PRESETS`; ``full`` is the
    pretrained networks' NATS-Bench recipe: TSS C = 16, N = 5, :data:`NATS_EPOCHS` epochs over
    :data:`NATS_TRAIN_IMAGES` (mean over :data:`DATASETS`), SSS at its own widths.

    Returns
    -------
    dict
        ``C``, ``N``, ``epochs`` (per space), ``n_train`` (images per epoch) and ``source``.
    """
    if scale not in SCALES:
        raise ValueError(f"Expected `scale` to be one of {SCALES}, got {scale!r}.")
    if scale == "full":
        mean_images = sum(NATS_TRAIN_IMAGES[d] for d in DATASETS) / len(DATASETS)
        return {
            "C": 16,
            "N": 5,
            "epochs": dict(NATS_EPOCHS),
            "n_train": mean_images,
            "source": "NATS-Bench recipe (pretrained weights)",
        }
    from calstudy.sweep import preset_config

    config = preset_config(scale)
    if config.n_train is None:
        raise ValueError(f"Expected preset {scale!r} to fix `n_train`, got None.")
    epochs = {space: config.epochs for space in ("tss", "sss")}
    return {
        "C": config.C,
        "N": config.N,
        "epochs": epochs,
        "n_train": config.n_train,
        "source": f"sweep preset {scale!r}",
    }


def train_projection(
    per_image_s: Mapping[str, float],
    *,
    epochs: Mapping[str, int] = NATS_EPOCHS,
    train_images: Mapping[str, int] = NATS_TRAIN_IMAGES,
    networks: Mapping[str, int] = PAPER_NETWORKS,
    size_factor: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    r"""Hours to train every network of the study, from a measured cost per training image.

    .. math::

        T_{s,d} = n_s \, E_s \, I_d \, c_s \, f_s / 3600

    for space :math:`s` and dataset :math:`d`: :math:`n_s` networks (``networks``), :math:`E_s`
    epochs, :math:`I_d` training images per epoch, :math:`c_s` measured seconds per training
    image (``per_image_s``) and :math:`f_s` a size factor (``size_factor``, default 1), the
    ratio of the per-image cost at the target network size to the measured one. Per-image cost
    is assumed constant across epochs, datasets and image sizes (16 × 16 ImageNet16-120 images
    are charged as 32 × 32 ones, an overestimate): an extrapolation, not a measurement.

    Returns
    -------
    DataFrame
        One row per (space, dataset): ``networks, epochs, images_per_epoch, per_image_s,
        size_factor, s_per_network, hours``.
    """
    size_factor = dict(size_factor or {})
    rows = []
    for space, n in networks.items():
        if space not in per_image_s:
            raise ValueError(
                f"Expected `per_image_s` to have a cost for space {space!r}, got keys "
                f"{sorted(per_image_s)}."
            )
        cost = per_image_s[space]
        check_positive(cost, f"per_image_s[{space!r}]")
        factor = size_factor.get(space, 1.0)
        check_positive(factor, f"size_factor[{space!r}]")
        if space not in epochs:
            raise ValueError(f"Expected `epochs` to have space {space!r}, got {sorted(epochs)}.")
        check_positive_int(epochs[space], f"epochs[{space!r}]")
        for dataset, images in train_images.items():
            check_positive_int(images, f"train_images[{dataset!r}]")
            per_network = epochs[space] * images * cost * factor
            rows.append(
                {
                    "space": space,
                    "dataset": dataset,
                    "networks": int(n),
                    "epochs": int(epochs[space]),
                    "images_per_epoch": int(images),
                    "per_image_s": float(cost),
                    "size_factor": float(factor),
                    "s_per_network": per_network,
                    "hours": n * per_network / 3600,
                }
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# What past runs measured: the store's provenance and the benchmark files
# ---------------------------------------------------------------------------------------------

_TIME_COLUMNS = ("created_at", "wall_time_s")


def row_costs(rows: pd.DataFrame, *, gap_s: float = 20.0) -> pd.DataFrame:
    r"""Each row of a store with its run, the run's concurrency and the row's node-seconds.

    A job's interval is :math:`[b_i, e_i]` with :math:`e_i` = ``created_at`` and
    :math:`b_i = e_i - w_i` (:math:`w_i` = ``wall_time_s``). Per ``device``, rows whose
    intervals overlap or are separated by at most ``gap_s`` seconds form one run (a sweep
    invocation; between invocations the node is idle while the next one prepares its data).
    For a run of duration :math:`D = \max e_i - \min b_i`, Little's law gives the mean number
    of jobs in flight, :math:`L = \sum_i w_i / D`, and each row's share of the node,

    .. math:: \nu_i = w_i / L \quad\text{so that}\quad \sum_{i \in \text{run}} \nu_i = D,

    likewise ``train_node_s`` = :math:`\tau_i / L` and ``eval_node_s`` = :math:`\epsilon_i / L`
    for the row's training and evaluation seconds. :math:`\nu_i` is what the row cost the whole
    node (accelerator and cores together) when the run's jobs shared it.

    Parameters
    ----------
    rows : DataFrame
        Store rows with ``device``, ``created_at``, ``wall_time_s`` (and optionally
        ``train_time_s``, ``eval_time_s``, ``space``).
    gap_s : float
        Longest idle gap inside one run, in seconds.

    Returns
    -------
    DataFrame
        ``rows`` with ``start``, ``end`` (UTC timestamps), ``run`` (1, 2, … by start time; runs
        of different devices never share a number),
        ``concurrency`` (:math:`L` of the row's run), ``node_s``, ``train_node_s``,
        ``eval_node_s``.
    """
    missing = [c for c in (*_TIME_COLUMNS, "device") if c not in rows.columns]
    if missing:
        raise ValueError(f"Expected `rows` to have columns {missing} (store provenance), got none.")
    check_nonnegative(gap_s, "gap_s")
    frame = rows.dropna(subset=list(_TIME_COLUMNS)).copy()
    if frame.empty:
        raise ValueError("Expected `rows` with `created_at` and `wall_time_s`, got no such row.")
    if (frame["wall_time_s"] < 0).any():
        raise ValueError("Expected `wall_time_s` ≥ 0 in every row, got negative values.")
    frame["end"] = pd.to_datetime(frame["created_at"], utc=True)
    frame["start"] = frame["end"] - pd.to_timedelta(frame["wall_time_s"], unit="s")
    frame = frame.sort_values(["device", "start"], kind="stable")
    runs = np.empty(len(frame), dtype=np.int64)
    next_run = 1
    for idx in frame.groupby("device", sort=False).indices.values():
        latest = None
        for position in idx:
            start, end = frame["start"].iat[position], frame["end"].iat[position]
            if latest is None or (start - latest).total_seconds() > gap_s:
                current, next_run = next_run, next_run + 1
            runs[position] = current
            latest = end if latest is None else max(latest, end)
    first_start = pd.Series(frame["start"].to_numpy()).groupby(runs).min().sort_values()
    order = {run: k for k, run in enumerate(first_start.index, start=1)}  # time order
    frame["run"] = [order[run] for run in runs]
    grouped = frame.groupby("run")
    duration = (
        grouped["end"].transform("max") - grouped["start"].transform("min")
    ).dt.total_seconds()
    busy = grouped["wall_time_s"].transform("sum")
    concurrency = (busy / duration.where(duration > 0)).fillna(1.0)
    frame["concurrency"] = concurrency
    frame["node_s"] = frame["wall_time_s"] / concurrency
    for part in ("train", "eval"):
        column = f"{part}_time_s"
        frame[f"{part}_node_s"] = (frame[column] / concurrency) if column in frame else np.nan
    return frame.sort_values(["run", "end"], kind="stable")


def sweep_runs(rows: pd.DataFrame, *, gap_s: float = 20.0) -> pd.DataFrame:
    r"""One line per run of a store (see :func:`row_costs`): size, duration and concurrency.

    Returns
    -------
    DataFrame
        ``run, device, rows, spaces, start, end, duration_s`` (:math:`D`), ``busy_s``
        (:math:`\sum w_i`), ``concurrency`` (:math:`L`), ``s_per_row`` (:math:`D / n`, the
        aggregate cost of a row), ``median_wall_s`` (a row's own wall time).
    """
    frame = row_costs(rows, gap_s=gap_s)
    spaces = (lambda s: "+".join(sorted(s.unique()))) if "space" in frame else (lambda s: "")
    out = frame.groupby("run").agg(
        device=("device", "first"),
        rows=("wall_time_s", "size"),
        spaces=("space" if "space" in frame else "device", spaces),
        start=("start", "min"),
        end=("end", "max"),
        busy_s=("wall_time_s", "sum"),
        median_wall_s=("wall_time_s", "median"),
    )
    out["duration_s"] = (out["end"] - out["start"]).dt.total_seconds()
    out["concurrency"] = out["busy_s"] / out["duration_s"].where(out["duration_s"] > 0)
    out["concurrency"] = out["concurrency"].fillna(1.0)
    out["s_per_row"] = out["duration_s"] / out["rows"]
    columns = [
        "device",
        "rows",
        "spaces",
        "start",
        "end",
        "duration_s",
        "busy_s",
        "concurrency",
        "s_per_row",
        "median_wall_s",
    ]
    return out[columns].reset_index()


def load_measurement(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a benchmark file of ``benchmarks/results/`` and check its ``source``.

    Every file holds a JSON object with ``"source"``: ``kind`` (``"measured"``: written by the
    run itself, e.g. ``benchmarks/train_bench.py --json``; ``"transcribed"``: copied by hand from
    a recorded run's printout), ``device``, ``torch``, ``date`` and ``command``. A relative
    path is looked up from the working directory, then from the repository root.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If it is not a JSON object with a complete ``source``.
    """
    from calstudy.chapter import resolve_store

    resolved = resolve_store(path)
    if not resolved.is_file():
        raise FileNotFoundError(f"No benchmark file at {resolved} (given {str(path)!r}).")
    try:
        data = json.loads(Path(resolved).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"Expected {resolved} to hold JSON, got: {error}.") from error
    if not isinstance(data, dict) or not isinstance(data.get("source"), dict):
        raise ValueError(f"Expected {resolved} to be a JSON object with a 'source' object.")
    missing = [k for k in ("kind", "device", "torch", "date", "command") if k not in data["source"]]
    if missing:
        raise ValueError(f"Expected the 'source' of {resolved} to name {missing}, got none.")
    if data["source"]["kind"] not in ("measured", "transcribed"):
        raise ValueError(
            f"Expected source 'kind' of {resolved} to be 'measured' or 'transcribed', got "
            f"{data['source']['kind']!r}."
        )
    return data


def concurrency_speedup(measurement: Mapping[str, Any], jobs: int) -> float:
    """The measured aggregate speed-up :math:`s_k` of ``jobs`` concurrent evaluation jobs.

    Parameters
    ----------
    measurement : mapping
        A ``benchmarks/eval_bench.py --json`` file, read with :func:`load_measurement`.
    jobs : int
        :math:`k`; the file must hold a run with exactly this many jobs.

    Returns
    -------
    float
        ``images/s of k jobs together / images/s of one job``.

    Examples
    --------
    >>> runs = [{"jobs": 1, "images_per_s": 100.0}, {"jobs": 8, "images_per_s": 300.0}]
    >>> concurrency_speedup({"benchmark": "eval_bench", "runs": runs}, 8)
    3.0
    """
    if measurement.get("benchmark") != "eval_bench":
        raise ValueError(
            "Expected a benchmarks/eval_bench.py measurement, got benchmark "
            f"{measurement.get('benchmark')!r}."
        )
    check_positive_int(jobs, "jobs")
    rates = {int(r["jobs"]): float(r["images_per_s"]) for r in measurement.get("runs", [])}
    missing = [k for k in (1, jobs) if k not in rates]
    if missing:
        raise ValueError(
            f"Expected runs with {missing} job(s) in the measurement, got runs with "
            f"{sorted(rates)}; rerun eval_bench.py with --jobs {jobs}."
        )
    return rates[jobs] / rates[1]


# ---------------------------------------------------------------------------------------------
# Scale: the chapter's tables (what a store's timings, the benchmark files and this machine say)
# ---------------------------------------------------------------------------------------------


def timed_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of a store that carry the timings :func:`row_costs` reads.

    A calstudy sweep records ``device``, ``created_at`` and ``wall_time_s`` with each row; the
    paper's released CSVs carry none, so an imported store has no timed row.

    Examples
    --------
    >>> rows = pd.DataFrame({"device": ["cpu", None], "created_at": ["2026-01-01", None],
    ...                      "wall_time_s": [3.0, None]})
    >>> len(timed_rows(rows))
    1
    """
    needed = [*_TIME_COLUMNS, "device"]
    if any(c not in rows.columns for c in needed):
        return rows.iloc[:0]
    return rows.dropna(subset=needed)


def eval_images() -> int:
    """Images of one network's pretrained evaluation: the sum of :data:`EVAL_IMAGES`."""
    return int(sum(EVAL_IMAGES.values()))


def benchmark_cost(bench: Mapping[str, Any]) -> NetworkCost:
    r"""One network's pretrained evaluation cost from a ``train_bench`` file's ``eval`` record.

    :math:`t_\mathrm{gpu}` = :func:`eval_images` / the measured logit throughput;
    :math:`t_\mathrm{rec}` the measured catalogue time; :math:`t_\mathrm{host} =
    t_\mathrm{gpu}` (a launch-bound job keeps its core busy).
    """
    ev = bench["eval"]
    gpu_s = eval_images() / float(ev["images_per_s"])
    return NetworkCost(gpu_s=gpu_s, record_s=float(ev["record_s"]), host_s=gpu_s)


def machine_projection(
    ev: EvalMeasurement,
    train: Mapping[str, TrainMeasurement],
    *,
    networks: pd.DataFrame | None = None,
) -> dict[str, Any]:
    r"""The whole study on the machine that measured `ev` and `train`, one network at a time.

    Evaluation: each space's networks at that space's measured logit throughput (a space not
    timed takes the overall rate), plus the catalogue, serially (the logits already use every
    core). Training: each space's networks at its measured per-network time.

    Returns
    -------
    dict
        ``rates`` (Series of images/s by space), ``cost`` (:class:`NetworkCost`, the mean over
        the study's networks), ``eval_hours`` and ``train_hours``.
    """
    networks = study_networks() if networks is None else networks
    per_space = networks.groupby("space")["networks"].sum()
    rates = ev.by_space()["images_per_s"].reindex(per_space.index).fillna(ev.images_per_s)
    total = int(per_space.sum())
    gpu_s = float((per_space * eval_images() / rates).sum() / total)
    cost = NetworkCost(gpu_s=gpu_s, record_s=ev.record_s)
    hours = float(project(cost, n_networks=total, gpus=[1], cores_per_node=None)["hours"].iloc[0])
    missing = [s for s in per_space.index if s not in train]
    if missing:
        raise ValueError(f"Expected training measurements of spaces {missing}, got {sorted(train)}.")
    train_hours = sum(per_space[s] * train[s].per_network_s for s in per_space.index) / 3600
    return {"rates": rates, "cost": cost, "eval_hours": hours, "train_hours": float(train_hours)}


def match_recorded_runs(
    runs: pd.DataFrame, record: Mapping[str, Any]
) -> tuple[pd.DataFrame, bool]:
    """The store's GPU runs (:func:`sweep_runs`) beside a ``demo_sweep`` file's worker counts.

    The store does not record how many workers a sweep ran; the hand-recorded file does. They
    are joined only when the runs match row for row (same number of runs, same new rows, the
    file's device in every run's device).

    Returns
    -------
    (DataFrame, bool)
        `runs` with ``workers_recorded``, ``workers`` and ``s_per_row_recorded`` (the recorded
        wall time, setup included, per row) when they match; and whether they did.
    """
    recorded = pd.DataFrame(record.get("runs", []))
    matched = (
        len(runs) > 0
        and len(runs) == len(recorded)
        and (runs["rows"].to_numpy() == recorded["new_rows"].to_numpy()).all()
        and all(str(record.get("device_name", "")) in d for d in runs["device"])
    )
    if not matched:
        return runs, False
    out = runs.copy()
    out["workers_recorded"] = recorded["workers_detail"].to_numpy()
    out["workers"] = recorded["workers"].to_numpy()
    out["s_per_row_recorded"] = recorded["wall_s"].to_numpy() / recorded["new_rows"].to_numpy()
    return out, True


def alone_throughput(bench: Mapping[str, Any]) -> dict[tuple[int, str, bool], float]:
    """Training images/s of one network alone on the benchmark's GPU, by (N, precision,
    channels-last), from a ``train_bench`` file's ``train_steady_state`` (compiled runs left
    out)."""
    return {
        (int(r["N"]), str(r["precision"]), bool(r["channels_last"])): float(r["images_per_s"])
        for r in bench.get("train_steady_state", [])
        if not r.get("compile")
    }


def shared_training(gpu_costs: pd.DataFrame, bench: Mapping[str, Any]) -> dict[str, Any] | None:
    r"""What the store's GPU rows say about training shared on one node, against training alone.

    The trained rows of the most common fidelity give each space's training seconds per image
    of a row's node share (``train_node_s`` of :func:`row_costs` over epochs × training
    images) and the aggregate training throughput per row. For TSS networks at the
    benchmark's size (C = 16, N = 1) the ratio of that throughput to one network trained alone
    (the benchmark, fp32, channels-last) is the aggregate gain of sharing the GPU.

    Parameters
    ----------
    gpu_costs : DataFrame
        :func:`row_costs` of the store's GPU rows.
    bench : mapping
        A ``train_bench`` file (:func:`load_measurement`).

    Returns
    -------
    dict or None
        None without trained rows; else ``fidelity`` (dict of :func:`calstudy.sweep.
        parse_fidelity`), ``label``, ``row_images``, ``shared_rate`` and ``per_image`` (Series
        by space), ``alone_n1``, ``alone_n5`` (None when not measured), ``size_factor``
        (N = 1 over N = 5 alone throughput, or None) and ``ratio`` (shared TSS rate over
        ``alone_n1``, or None).
    """
    from calstudy.sweep import parse_fidelity

    if "source" not in gpu_costs.columns:
        return None
    trained = gpu_costs[gpu_costs["source"] == "trained"]
    if trained.empty:
        return None
    label = trained["fidelity"].mode().iloc[0]
    fidelity = parse_fidelity(label)
    trained = trained[trained["fidelity"] == label]
    if fidelity["n_train"] is None:
        return None
    row_images = fidelity["epochs"] * fidelity["n_train"]
    shared_rate = (row_images / trained["train_node_s"]).groupby(trained["space"]).median()
    per_image = (trained["train_node_s"] / row_images).groupby(trained["space"]).median()
    alone = alone_throughput(bench)
    alone_n1 = alone.get((1, "fp32", True), float(bench["train"]["ours_images_per_s"]))
    alone_n5 = alone.get((5, "fp32", True))
    ratio = None
    if "tss" in shared_rate and fidelity["N"] == 1 and fidelity["C"] == 16:
        ratio = float(shared_rate["tss"] / alone_n1)
    return {
        "fidelity": fidelity,
        "label": label,
        "row_images": row_images,
        "shared_rate": shared_rate,
        "per_image": per_image,
        "alone_n1": alone_n1,
        "alone_n5": alone_n5,
        "size_factor": None if alone_n5 is None else alone_n1 / alone_n5,
        "ratio": ratio,
    }


def eval_scenarios(
    *,
    jobs_per_gpu: int,
    speedups: Sequence[float],
    s_train: float | None = None,
    s_measured: float | None = None,
    measured_on: str = "",
) -> list[tuple[str, int, float]]:
    """The chapter's evaluation scenarios: ``(name, jobs per GPU, aggregate speed-up)``.

    One job at a time; `jobs_per_gpu` jobs with no gain on the GPU (which still takes the
    metric catalogue off the GPU's critical path); each assumed speed-up; the gain training
    showed when shared (capped at `jobs_per_gpu`, when above 1); and the speed-up measured for
    evaluation.

    Examples
    --------
    >>> [name for name, _, _ in eval_scenarios(jobs_per_gpu=8, speedups=[2.0], s_measured=1.07)]
    ['serial, 1 job', '8 jobs, s = 1', '8 jobs, s = 2 (assumed)', '8 jobs, s = 1.07 (measured)']
    """
    check_positive_int(jobs_per_gpu, "jobs_per_gpu")
    bad = [s for s in speedups if not 1 < s <= jobs_per_gpu]
    if not speedups or bad:
        raise ValueError(
            f"Expected `speedups` in (1, jobs_per_gpu = {jobs_per_gpu}], got {list(speedups)}."
        )
    k = jobs_per_gpu
    scenarios = [("serial, 1 job", 1, 1.0), (f"{k} jobs, s = 1", k, 1.0)]
    scenarios += [(f"{k} jobs, s = {s:g} (assumed)", k, float(s)) for s in speedups]
    if s_train is not None and s_train > 1:
        s = min(float(s_train), k)
        scenarios.append((f"{k} jobs, s = {s:.2f} (as training)", k, s))
    if s_measured is not None:
        where = f", {measured_on}" if measured_on else ""
        scenarios.append((f"{k} jobs, s = {s_measured:.2f} (measured{where})", k,
                          float(s_measured)))  # fmt: skip
    return scenarios


def scenario_table(
    cost: NetworkCost,
    scenarios: Sequence[tuple[str, int, float]],
    *,
    goal_hours: float,
    gpus: Sequence[int] = (1,),
    gpus_per_node: int = 1,
    cores_per_node: float | None = 16,
) -> pd.DataFrame:
    """:func:`project` of every scenario on clusters of `gpus` accelerators, one table.

    Returns
    -------
    DataFrame
        :func:`project`'s columns and ``meets_goal`` (GPU-hours at most `goal_hours`), the
        scenarios in the given order.
    """
    check_positive(goal_hours, "goal_hours")
    table = pd.concat(
        [project(cost, gpus=gpus, jobs_per_gpu=k, speedup=s, scenario=name,
                 gpus_per_node=gpus_per_node, cores_per_node=cores_per_node)
         for name, k, s in scenarios],
        ignore_index=True,
    )  # fmt: skip
    table["meets_goal"] = table["gpu_hours"] <= goal_hours
    return table


def cost_what_ifs(
    cost: NetworkCost,
    factors: Mapping[str, Mapping[str, float]],
    scenarios: Sequence[tuple[str, int, float]],
    *,
    goal_hours: float,
    networks: pd.DataFrame | None = None,
    gpus_per_node: int = 1,
    cores_per_node: float = 16,
) -> pd.DataFrame:
    r"""The projection under other assumptions about which network stands for the study.

    Each what-if scales the benchmark network's :math:`t_\mathrm{gpu}` by a factor per space
    (e.g. the ratio of multiply-accumulates); the mean over the study's networks replaces
    :math:`t_\mathrm{gpu}` (and :math:`t_\mathrm{host}`).

    Returns
    -------
    DataFrame
        Indexed by ``assumption``: ``tss_factor``, ``sss_factor``, ``mean_gpu_s``, the hours of
        the first two `scenarios` (``serial_h``, ``overlapped_h``) and ``speedup_needed`` for
        `goal_hours` (:func:`required_for`).
    """
    networks = study_networks() if networks is None else networks
    per_space = networks.groupby("space")["networks"].sum()
    total = int(per_space.sum())
    rows = []
    for name, factor in factors.items():
        mean_gpu_s = sum(per_space[s] * cost.gpu_s * factor[s] for s in per_space.index) / total
        scaled = NetworkCost(gpu_s=mean_gpu_s, record_s=cost.record_s, host_s=mean_gpu_s)
        hours = [
            project(scaled, n_networks=total, gpus=[1], jobs_per_gpu=k, speedup=s,
                    gpus_per_node=gpus_per_node, cores_per_node=cores_per_node)["hours"].iloc[0]
            for _, k, s in scenarios[:2]
        ]  # fmt: skip
        need = required_for(scaled, goal_hours, n_networks=total, gpus=1, cores=cores_per_node)
        rows.append({"assumption": name, "tss_factor": factor["tss"],
                     "sss_factor": factor["sss"], "mean_gpu_s": mean_gpu_s,
                     "serial_h": hours[0], "overlapped_h": hours[1],
                     "speedup_needed": need["speedup"]})  # fmt: skip
    return pd.DataFrame(rows).set_index("assumption")


def training_projections(
    gpu_costs: pd.DataFrame, training: Mapping[str, Any], *, networks: pd.DataFrame | None = None
) -> dict[str, Any]:
    r"""Training every network of the study, scaled from the demo rows' node shares.

    (a) The demo protocol itself for every network: each space's networks at the median node
    share of its trained rows. (b) NATS-Bench's training (:data:`NATS_EPOCHS` over
    :data:`NATS_TRAIN_IMAGES`) at the rows' per-image training cost, TSS scaled from N = 1 to
    N = 5 by the benchmark's alone-on-the-GPU throughput ratio (:func:`train_projection`);
    (b) needs every space's per-image cost and that ratio. Extrapolations, not measurements.

    Parameters
    ----------
    gpu_costs : DataFrame
        :func:`row_costs` of the store's GPU rows.
    training : mapping
        :func:`shared_training`'s result.

    Returns
    -------
    dict
        ``node_s`` (median node seconds per row, by space), ``demo_hours`` (None unless every
        space of the study has rows), ``nats`` (the :func:`train_projection` table or None)
        and ``nats_hours`` (or None).
    """
    networks = study_networks() if networks is None else networks
    per_space = networks.groupby("space")["networks"].sum()
    rows = gpu_costs[gpu_costs["fidelity"] == training["label"]]
    node_s = rows.groupby("space")["node_s"].median()
    demo = None
    if set(node_s.index) >= set(per_space.index):
        demo = float(sum(per_space[s] * node_s[s] for s in per_space.index) / 3600)
    nats = nats_hours = None
    per_image = training["per_image"]
    if set(per_image.index) >= set(per_space.index) and training["size_factor"] is not None:
        factor = {"tss": training["size_factor"] if training["fidelity"]["N"] == 1 else 1.0,
                  "sss": 1.0}  # fmt: skip
        nats = train_projection({s: float(per_image[s]) for s in per_space.index},
                                size_factor=factor)  # fmt: skip
        nats_hours = float(nats["hours"].sum())
    return {"node_s": node_s, "demo_hours": demo, "nats": nats, "nats_hours": nats_hours}


# The scale chapter's findings in words (calstudy.report's formats)


def store_sentence(rows: pd.DataFrame, timed: pd.DataFrame, *, store: str) -> str:
    """The study's size and what a store's rows hold of timings, in words."""
    study = " + ".join(f"{n:,} {s.upper()}" for s, n in PAPER_NETWORKS.items())
    images = " + ".join(f"{v:,} {k}" for k, v in EVAL_IMAGES.items())
    text = (f"The study: {N_NETWORKS:,} networks = {len(DATASETS)} datasets × ({study}). The "
            f"pretrained evaluation of one network passes {images} = {eval_images():,} images "
            f"through it. The store at `{store}` holds {len(rows):,} rows, ")
    if len(timed):
        return text + (f"{len(timed):,} of them with the timings a sweep records (`created_at`, "
                       "`wall_time_s`).")
    return text + ("none of them with timings (`created_at`, `wall_time_s`): its networks were not "
                   "trained or evaluated by a calstudy sweep (the paper's released CSVs carry no "
                   "timings). The sections that read a store's timings are skipped; the demo "
                   "edition of this book shows them from the demo sweep's rows.")


def machine_sentence(
    info: Mapping[str, Any], ev: EvalMeasurement, train: Mapping[str, TrainMeasurement],
    here: Mapping[str, Any], *, scale: str,
) -> str:  # fmt: skip
    """Section 1's measurements and :func:`machine_projection` in words."""
    from calstudy.report import join

    months = here["eval_hours"] / 24 / 30
    return (f"On {info['device_name']} ({info['cpu_count']} CPUs, torch {info['torch']} with "
            f"{info['torch_threads']} threads, load average {info['load_1min']:.1f}), logits at "
            f"the pretrained size run at {ev.images_per_s:,.0f} images/s and the catalogue takes "
            f"{ev.record_s:.2f} s per network, so the evaluation of all {N_NETWORKS:,} networks "
            f"would take {here['eval_hours']:,.0f} hours ({months:.1f} months) one network at a "
            f"time; training them at the `{scale}` size, {here['train_hours']:,.0f} hours ("
            + join(f"{t.space.upper()} {t.images_per_s:,.0f} training images/s, "
                   f"{t.per_network_s:,.0f} s per network" for t in train.values()) + ").")


def cpu_rows_sentence(cpu_rows: pd.DataFrame, *, gap_s: float = 20.0) -> str:
    """A store's rows computed in full on a CPU, and what its protocol would cost, in words."""
    from calstudy.report import plural

    per_row = row_costs(cpu_rows, gap_s=gap_s).groupby(["fidelity", "space"])["wall_time_s"].agg(
        ["size", "median"])  # fmt: skip
    fidelity, space = per_row["size"].idxmax()
    median = float(per_row.loc[(fidelity, space), "median"])
    return (f"The store holds {plural(len(cpu_rows), 'row')} computed in full on a CPU; at the "
            f"median {space.upper()} row's {median:.0f} s, its protocol (`{fidelity}`) would take "
            f"{N_NETWORKS * median / 3600:,.0f} hours for {N_NETWORKS:,} networks.")


def benchmark_sentence(bench: Mapping[str, Any], *, path: str, by_space: pd.Series) -> str:
    """Where a ``train_bench`` file's evaluation cost comes from, and :func:`benchmark_cost`."""
    src, ev, cost = bench["source"], bench["eval"], benchmark_cost(bench)
    text = (f"`{path}` ({src['kind']}, {src.get('transcribed_from', 'written by the run')}; "
            f"{src['device']}, torch {src['torch']}, {src['date']}: `{src['command']}`): logits of "
            f"{ev['n_images']:,} images in {ev['logits_s']} s = {ev['images_per_s']:,} images/s "
            f"(C = {ev['C']}, N = {ev['N']}, {ev['precision']}); the catalogue {ev['record_s']} s "
            f"on {ev['record_shape'][0]:,} × {ev['record_shape'][1]} logits (host CPU). Per "
            f"network: t_gpu = {eval_images():,} / {ev['images_per_s']:,} = {cost.gpu_s:.3f} s, "
            f"t_rec = {cost.record_s:.2f} s, t_host = t_gpu (a launch-bound job keeps its core "
            "busy).")  # fmt: skip
    if {"tss", "sss"} <= set(by_space.index):
        text += (f" On this machine SSS networks evaluate {by_space['sss'] / by_space['tss']:.2f}× "
                 "as fast as TSS ones; the GPU figure, from one TSS network, is applied to both.")
    return text


def gpu_rows_sentence(
    gpu_costs: pd.DataFrame, runs: pd.DataFrame, *, matched: bool,
    training: Mapping[str, Any] | None,
) -> str:  # fmt: skip
    """A store's GPU runs (Little's law against the recorded workers) and the training gain of
    sharing (:func:`shared_training`), in words."""
    from calstudy.report import join, plural

    own = float((gpu_costs["wall_time_s"] / gpu_costs["node_s"]).median())
    text = (f"{plural(len(gpu_costs), 'row')} ran on a GPU in {plural(len(runs), 'run')}, with "
            + join(f"L = {r.concurrency:.1f}" + (f" against {r.workers} workers recorded"
                                                 if matched else "") for r in runs.itertuples())
            + (" (the runs match the recorded table row for row)" if matched else
               " (they do not match the recorded run table, so worker counts are not shown)")
            + f"; a row's own time is {own:.1f} times its share of the node (median).")
    if training is not None and training["ratio"] is not None:
        text += (f" Shared, the GPU trained TSS networks at {training['shared_rate']['tss']:,.0f} "
                 f"images/s per row's node share, against {training['alone_n1']:,.0f} for one "
                 f"network alone: {training['ratio']:.2f}× as fast in aggregate.")
    return text


def goal_sentence(
    one_gpu: pd.DataFrame, cost: NetworkCost, need: Mapping[str, float], *, goal_hours: float,
    cores: float, jobs_per_gpu: int, s_measured: float | None = None, measured_on: str = "",
) -> str:  # fmt: skip
    """The one-GPU projections (:func:`scenario_table`) against the goal, in words."""
    from calstudy.report import join

    serial_h, overlap_h = float(one_gpu["hours"].iloc[0]), float(one_gpu["hours"].iloc[1])
    met = one_gpu.loc[one_gpu["meets_goal"], "scenario"].tolist()
    measured = one_gpu[one_gpu["scenario"].str.contains("measured")]
    text = (f"One network at a time takes {N_NETWORKS:,} × {cost.latency_s:.2f} s = "
            f"{serial_h:.1f} GPU-hours ({serial_h / goal_hours:.1f}× the goal of {goal_hours:g}); "
            f"with the catalogue overlapped (s = 1), {overlap_h:.1f} "
            f"({overlap_h / goal_hours:.1f}×). The goal needs {need['rate']:.2f} networks/s: "
            f"concurrent jobs at an aggregate speed-up s ≥ {need['speedup']:.2f} with ≥ "
            f"{need['jobs_per_gpu']:.0f} jobs per GPU; the {cores:g} cores alone need "
            f"{need['cpu_floor_hours']:.1f} h ({'enough' if need['cpu_ok'] else 'not enough'}). ")
    if len(measured) and s_measured is not None:
        verdict = "met" if measured["meets_goal"].iloc[0] else "not met"
        text += (f"Measured on {measured_on}, {jobs_per_gpu} evaluation jobs run "
                 f"{s_measured:.2f}× as fast as one, so the full evaluation takes "
                 f"{measured['gpu_hours'].iloc[0]:.1f} GPU-hours: the goal is **{verdict}**. ")
    else:
        text += "No speed-up was measured for evaluation (`eval_bench`). "
    return text + f"Scenarios that meet it: {join(met, empty='none')}."


def what_if_sentence(
    what_if: pd.DataFrame, *, bench_flops: float, population: Mapping[str, float]
) -> str:
    """:func:`cost_what_ifs` in words (its second row is the multiply-accumulate what-if)."""
    from calstudy.report import join

    mix = float(what_if["mean_gpu_s"].iloc[1] / what_if["mean_gpu_s"].iloc[0])
    rest = what_if.iloc[1:]
    return (f"The benchmark network needs {bench_flops / 1e6:.0f} M multiply-accumulates per "
            "image; the study's networks average "
            + join(f"{s.upper()} {v / 1e6:.0f} M" for s, v in population.items())
            + f", {mix:.2f}× the benchmark network's: by that measure the projections lean "
            + ("high" if mix < 1 else "low") + ". One network at a time then takes "
            + join(f"{r.serial_h:.1f} h ({name})" for name, r in rest.iterrows())
            + ", and the goal needs s ≥ "
            + join(f"{r.speedup_needed:.2f}" for _, r in rest.iterrows()) + ", respectively.")


def cluster_sentence(cluster: pd.DataFrame, *, cores_per_node: float, gpus_per_node: int) -> str:
    """The cluster projections (:func:`scenario_table` over sizes) in words."""
    largest = cluster[cluster["gpus"] == cluster["gpus"].max()]
    cpu_bound = int((cluster["bound"] == "cpu").sum())
    constant = all(np.allclose(g["gpu_hours"], g["gpu_hours"].iloc[0])
                   for _, g in cluster.groupby("scenario"))  # fmt: skip
    return (f"On {int(largest['gpus'].iloc[0])} GPUs the evaluation takes "
            f"{largest['hours'].min():.2f} to {largest['hours'].max():.2f} wall-clock hours across "
            f"the scenarios; the cores bind in {cpu_bound} of {len(cluster)} configurations "
            f"({cores_per_node / gpus_per_node:g} cores per GPU), and the GPU-hours "
            f"{'stay the same at every size' if constant else 'grow with the cluster'}.")


def training_sentence(trained: Mapping[str, Any], training: Mapping[str, Any]) -> str:
    """:func:`training_projections` in words."""
    from calstudy.report import join

    hours = {k: v for k, v in (("the sweep's protocol, 1 node", trained["demo_hours"]),
                               ("NATS-Bench training, 1 node", trained["nats_hours"]))
             if v is not None}  # fmt: skip
    return ("Training every network, on one node shared as in the sweep: " + join(
        (f"{k}: {v:,.0f} node-hours ({v / 24:,.0f} days)" for k, v in hours.items()),
        empty="no projection (the rows do not cover every space)") + "; " + join(
        f"{s.upper()} {n:.2f} s of the node per row" for s, n in trained["node_s"].items())
        + f" (`{training['label']}`).")  # fmt: skip


__all__ += [
    "alone_throughput",
    "benchmark_sentence",
    "cluster_sentence",
    "cpu_rows_sentence",
    "goal_sentence",
    "gpu_rows_sentence",
    "machine_sentence",
    "store_sentence",
    "training_sentence",
    "what_if_sentence",
    "benchmark_cost",
    "cost_what_ifs",
    "eval_images",
    "eval_scenarios",
    "machine_projection",
    "match_recorded_runs",
    "scenario_table",
    "shared_training",
    "timed_rows",
    "training_projections",
]
