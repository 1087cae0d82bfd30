"""Sweeps: map :func:`run_one` over jobs and write the calibration dataset.

A sweep is a :class:`SweepConfig` — which architectures of which search space, on which
datasets, with which seeds, trained at which fidelity (or loaded from NATS-Bench) — expanded into
:class:`Job` objects. Each job is independent and idempotent: its result is one row of the store,
keyed by ``(space, arch, dataset, seed, fidelity)``. A rerun skips every key already in the store,
so a killed sweep resumes with nothing lost or duplicated.

Three presets share this one code path:

``tiny``
    CI and tests: a handful of small networks on the CIFAR-10 sample shipped with calstudy.
``demo``
    The published book: 122 TSS and 48 SSS networks on CIFAR-10 and Fashion-MNIST, each
    trained briefly on a 10,000-image subset (plus a seed study, ``configs/demo-seeds.yaml``).
``full``
    The paper's scale: every NATS-Bench architecture with its pretrained 200-epoch weights.

Backends: ``local`` runs jobs in this process; ``ray`` submits them to a Ray cluster
(``address="auto"`` inside a cluster), with fractional GPUs so several small networks share a
GPU. Several independent workers (e.g. a SLURM job array) may also write one store: jobs are
claimed with exclusive lock files, so workers split the work instead of repeating it.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import json
import os
import re
import socket
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SPACES = ("tss", "sss")
BACKENDS = ("local", "ray")

# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepConfig:
    """Everything that determines a sweep's rows (paths and backends are run-time options).

    Attributes
    ----------
    archs : mapping of space → int, "all", "unique", or a sequence of architecture strings
        Which architectures to run per search space; an int ``k`` draws a deterministic sample
        of ``k`` (see :func:`calstudy.space.sample_archs`, seeded by ``arch_seed``).
    datasets : sequence of str
        Dataset names understood by :func:`calstudy.data.load_dataset`.
    seeds : sequence of int
        Training seeds; each (architecture, dataset, seed) is one row.
    source : {"trained", "nats-pretrained"}
        Train from scratch at this fidelity, or load NATS-Bench weights (``nats_path`` needed).
    """

    name: str = "custom"
    archs: Mapping[str, Any] = field(default_factory=lambda: {"tss": 4})
    datasets: Sequence[str] = ("cifar10",)
    seeds: Sequence[int] = (0,)
    arch_seed: int = 0
    source: str = "trained"
    # Training fidelity (source="trained"): the NATS-Bench recipe with these overrides.
    epochs: int = 12  # passes over the training subset
    C: int = 16  # channels of the first TSS stage (NATS-Bench: 16)
    N: int = 5  # cells per TSS stage (NATS-Bench: 5)
    n_train: int | None = None  # training images (None = all), class-stratified subset
    n_test: int | None = None  # test images (None = all)
    # Evaluation.
    heldout_frac: float = 0.2  # share of the test set that fits post-hoc calibration
    posthoc: Sequence[str] = ("ts",)
    corruptions: Sequence[str] | str = ()  # names, or "all"
    severities: Sequence[int] = (1, 2, 3, 4, 5)
    corruption_subset: int | None = 1000  # test images corrupted per (type, severity)
    ood: Mapping[str, str] = field(default_factory=dict)  # dataset → out-of-distribution set
    attack_subset: int = 0  # test images attacked (0 = no attacks)
    fgsm_eps: Sequence[float] = ()  # in 1/255 units, as in the paper's column names
    pgd_eps: Sequence[float] = ()
    pgd_steps: int = 10
    # NATS-Bench pretrained weights (source="nats-pretrained").
    nats_hp: str = "200"

    def __post_init__(self) -> None:
        unknown = [space for space in self.archs if space not in SPACES]
        if unknown:
            raise ValueError(
                f"Expected `archs` keys to be search spaces {SPACES}, got unknown space(s) {unknown}."
            )
        if self.source not in ("trained", "nats-pretrained"):
            raise ValueError(
                f"Expected `source` to be 'trained' or 'nats-pretrained', got {self.source!r}."
            )
        if not self.datasets:
            raise ValueError("Expected `datasets` to name at least one dataset, got none.")
        if not self.seeds:
            raise ValueError("Expected `seeds` to hold at least one seed, got none.")
        for name in ("epochs", "C", "N"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"Expected `{name}` to be a positive integer, got {value!r}.")
        if not 0.0 < self.heldout_frac < 1.0:
            raise ValueError(f"Expected `heldout_frac` to be in (0, 1), got {self.heldout_frac}.")

    @property
    def fidelity(self) -> str:
        """Short label of how networks were obtained; part of every row's key."""
        if self.source == "nats-pretrained":
            return f"nats-{self.nats_hp}"
        n_train = "all" if self.n_train is None else str(self.n_train)
        return f"ep{self.epochs}-C{self.C}N{self.N}-n{n_train}"

    def to_dict(self) -> dict[str, Any]:
        raw = dataclasses.asdict(self)
        return json.loads(json.dumps(raw, default=list))

    def config_hash(self) -> str:
        """Hash of everything that determines a row except the job's own key."""
        payload = {k: v for k, v in self.to_dict().items() if k not in ("name", "archs")}
        blob = json.dumps(payload, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def replace(self, **overrides: Any) -> SweepConfig:
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ValueError(
                f"Unknown sweep option(s) {unknown}; valid: {', '.join(sorted(names))}."
            )
        return dataclasses.replace(self, **overrides)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SweepConfig:
        values = dict(values)
        preset = values.pop("preset", None)
        base = preset_config(preset) if preset else cls()
        return base.replace(**values)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> SweepConfig:
        import yaml

        with open(path, encoding="utf-8") as handle:
            values = yaml.safe_load(handle) or {}
        if not isinstance(values, dict):
            raise ValueError(
                f"Expected sweep config {path} to be a YAML mapping, got {type(values)}."
            )
        return cls.from_mapping(values)


_FIDELITY = re.compile(r"^ep(?P<epochs>\d+)-C(?P<C>\d+)N(?P<N>\d+)-n(?P<n_train>\d+|all)$")


def parse_fidelity(fidelity: str) -> dict[str, int | None]:
    """Epochs, C, N and training images of a trained fidelity label (the inverse of
    :attr:`SweepConfig.fidelity`), ``ep{epochs}-C{C}N{N}-n{n_train}`` (``n_train`` = ``all`` → None).

    Examples
    --------
    >>> parse_fidelity("ep10-C16N1-n10000")
    {'epochs': 10, 'C': 16, 'N': 1, 'n_train': 10000}
    >>> parse_fidelity(SweepConfig(epochs=3, C=8, N=2).fidelity)["n_train"] is None
    True
    """
    match = _FIDELITY.match(str(fidelity))
    if match is None:
        raise ValueError(
            "Expected `fidelity` to be a trained fidelity label like 'ep10-C16N1-n10000', got "
            f"{fidelity!r}."
        )
    out: dict[str, int | None] = {k: int(v) for k, v in match.groupdict().items() if v != "all"}
    out.setdefault("n_train", None)
    return {k: out[k] for k in ("epochs", "C", "N", "n_train")}


_ALL_CORRUPTIONS = "all"

PRESETS: dict[str, SweepConfig] = {
    # CI: minutes on 2 CPU cores, on the CIFAR-10 / Fashion-MNIST sample shipped in the package.
    "tiny": SweepConfig(
        name="tiny",
        archs={"tss": 3, "sss": 2},
        datasets=("cifar10",),
        seeds=(0,),
        epochs=1,
        C=8,
        N=1,
        n_train=1000,
        n_test=500,
        corruptions=("gaussian_noise", "contrast"),
        severities=(3,),
        corruption_subset=200,
        ood={"cifar10": "fashion-mnist"},
        attack_subset=100,
        fgsm_eps=(1.0, 8.0),
        pgd_eps=(1.0,),
        pgd_steps=3,
    ),
    # The published book: 340 rows, ~20 minutes on one GPU node (benchmarks/README.md); resumable.
    # Its seed study (seeds 1 and 2 of 6 architectures) is configs/demo-seeds.yaml.
    "demo": SweepConfig(
        name="demo",
        archs={"tss": 122, "sss": 48},
        datasets=("cifar10", "fashion-mnist"),
        seeds=(0,),
        epochs=10,
        C=16,
        N=1,
        n_train=10_000,
        n_test=10_000,
        posthoc=("ts", "vs", "hist", "iso"),
        corruptions=_ALL_CORRUPTIONS,
        severities=(1, 2, 3, 4, 5),
        corruption_subset=1000,
        ood={"cifar10": "fashion-mnist", "fashion-mnist": "cifar10"},
        attack_subset=500,
        fgsm_eps=(0.1, 0.5, 1.0, 2.0, 4.0, 8.0),
        pgd_eps=(0.5, 1.0, 2.0, 4.0),
        pgd_steps=10,
    ),
    # The paper's scale: NATS-Bench's 200-epoch weights for every TSS / SSS architecture.
    "full": SweepConfig(
        name="full",
        archs={"tss": "all", "sss": "all"},
        datasets=("cifar10", "cifar100", "imagenet16-120"),
        seeds=(777,),
        source="nats-pretrained",
        corruptions=_ALL_CORRUPTIONS,
        severities=(1, 2, 3, 4, 5),
        corruption_subset=None,
        ood={"cifar10": "svhn", "cifar100": "svhn", "imagenet16-120": "svhn"},
        attack_subset=1000,
        fgsm_eps=(0.1, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 255.0),
        pgd_eps=(0.1, 0.5, 1.0, 2.0, 3.0, 4.0, 8.0),
    ),
}


def preset_config(name: str) -> SweepConfig:
    """The named preset (``tiny``, ``demo`` or ``full``)."""
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}; choose one of: {', '.join(PRESETS)}.")
    return PRESETS[name]


# ---------------------------------------------------------------------------------------------
# Jobs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One (architecture, dataset, seed) under a sweep configuration: one row of the store."""

    space: str
    arch: str
    dataset: str
    seed: int
    config: SweepConfig

    @property
    def key(self) -> tuple[str, str, str, int, str]:
        return (self.space, self.arch, self.dataset, int(self.seed), self.config.fidelity)

    @property
    def key_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.key).encode()).hexdigest()[:20]


def resolve_archs(space: str, spec: Any, *, seed: int = 0) -> list[str]:
    """Expand an architecture spec (count, "all", "unique" or an explicit list) for a space."""
    from calstudy import space as spaces

    if space not in SPACES:
        raise ValueError(f"Expected `space` to be one of {SPACES}, got {space!r}.")
    if isinstance(spec, str) and spec in ("all", "unique"):
        if space == "tss":
            return list(spaces.all_tss() if spec == "all" else spaces.unique_tss())
        return list(spaces.all_sss())
    if isinstance(spec, int) and not isinstance(spec, bool):
        if spec < 1:
            raise ValueError(f"Expected the number of {space} architectures to be ≥ 1, got {spec}.")
        return list(spaces.sample_archs(space, spec, seed=seed))
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, Iterable):
        archs = [str(arch).strip() for arch in spec]
        parse = spaces.parse_tss if space == "tss" else spaces.parse_sss
        for arch in archs:
            parse(arch)  # raises a ValueError naming the malformed string
        return archs
    raise ValueError(
        f"Expected the {space} architectures to be a count, 'all', 'unique' or a list of "
        f"architecture strings, got {spec!r}."
    )


def expand_jobs(config: SweepConfig) -> list[Job]:
    """All jobs of a sweep in a deterministic order (space, arch, dataset, seed)."""
    jobs = []
    for space, spec in config.archs.items():
        for arch in resolve_archs(space, spec, seed=config.arch_seed):
            for dataset in config.datasets:
                for seed in config.seeds:
                    jobs.append(Job(space, arch, dataset, int(seed), config))
    return jobs


# ---------------------------------------------------------------------------------------------
# One job
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _load_data(name: str, data_dir: str | None, n_train: int | None, n_test: int | None):
    from calstudy.data import load_dataset

    data = load_dataset(name, data_dir)
    if n_train is not None or n_test is not None:
        # The subset seed is fixed so every network of a sweep sees the same images.
        data = data.subset(n_train=n_train, n_test=n_test, seed=0)
    return data


def default_data_dir() -> str | None:
    """``CALSTUDY_DATA`` if set, else the sample shipped with calstudy."""
    if os.environ.get("CALSTUDY_DATA"):
        return os.environ["CALSTUDY_DATA"]
    from calstudy.data import sample_data_dir

    return str(sample_data_dir())


def _device_name(device: str | None) -> str:
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda"):
        return f"cuda:{torch.cuda.get_device_name(torch.device(device))}"
    return "cpu"


def _features(space: str, arch: str) -> dict[str, Any]:
    from calstudy import space as spaces

    return dict(spaces.tss_features(arch) if space == "tss" else spaces.sss_features(arch))


def _provenance(job: Job, device: str | None, wall_time_s: float) -> dict[str, Any]:
    from calstudy.schema import provenance

    return provenance(
        config_hash=job.config.config_hash(),
        device=_device_name(device),
        wall_time_s=float(wall_time_s),
    )


def _key_columns(job: Job) -> dict[str, Any]:
    space, arch, dataset, seed, fidelity = job.key
    return {
        "space": space,
        "arch": arch,
        "dataset": dataset,
        "seed": seed,
        "fidelity": fidelity,
        "source": job.config.source,
    }


def run_one(
    job: Job,
    *,
    data_dir: str | None = None,
    device: str | None = None,
    nats_path: str | None = None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Train (or load) one network, evaluate it, and return its row and its logits.

    The row holds the key columns, architecture features, every catalogue metric (pre and post
    temperature scaling), robustness columns and provenance. Given the same job on the CPU the
    row's values are bit-identical across runs (provenance aside).
    """
    import torch

    from calstudy.evaluate import evaluate_network
    from calstudy.models import build_network
    from calstudy.train import train

    config = job.config
    start = time.perf_counter()
    data_dir = data_dir if data_dir is not None else default_data_dir()
    data = _load_data(job.dataset, data_dir, config.n_train, config.n_test)
    ood_name = config.ood.get(job.dataset)
    ood = _load_data(ood_name, data_dir, None, config.n_test) if ood_name else None

    record: dict[str, Any] = {**_key_columns(job), **_features(job.space, job.arch)}
    if config.source == "trained":
        torch.manual_seed(job.seed)
        net = build_network(
            job.space, job.arch, num_classes=data.num_classes, C=config.C, N=config.N
        )
        result = train(net, data, epochs=config.epochs, seed=job.seed, device=device)
        net = result.net
        record["train_time_s"] = float(result.wall_time_s)
    else:
        from calstudy import nats

        if nats_path is None:
            raise ValueError("Expected `nats_path` for source='nats-pretrained', got None.")
        api = nats.open_benchmark(nats_path, job.space)
        index = nats.arch_to_index(api, job.arch)
        net = nats.pretrained_network(api, index, job.dataset, seed=job.seed, hp=config.nats_hp)
        record["arch_index"] = int(index)

    corruptions = _corruption_names(config) or None
    attacks = config.attack_subset > 0
    evaluation, logits = evaluate_network(
        net,
        data,
        heldout_frac=config.heldout_frac,
        seed=job.seed,
        posthoc=tuple(config.posthoc),
        corruptions=corruptions,
        severities=tuple(config.severities),
        corruption_subset=config.corruption_subset,
        ood=ood,
        attack_subset=max(config.attack_subset, 1),
        fgsm_eps=(tuple(config.fgsm_eps) or None) if attacks else None,
        pgd_eps=(tuple(config.pgd_eps) or None) if attacks else None,
        pgd_steps=config.pgd_steps,
        device=device,
        return_logits=True,
    )
    record.update(evaluation)
    record.update(_provenance(job, device, time.perf_counter() - start))
    record["status"] = "ok"
    return record, logits


def failed_record(job: Job, error: BaseException, *, device: str | None, wall_time_s: float):
    """The row recorded for a job that raised: its key, provenance and the error."""
    message = "".join(traceback.format_exception_only(type(error), error)).strip()
    return {
        **_key_columns(job),
        **_provenance(job, device, wall_time_s),
        "status": "failed",
        "error": message[:2000],
    }


def _run_safely(job: Job, data_dir, device, nats_path):
    start = time.perf_counter()
    try:
        return run_one(job, data_dir=data_dir, device=device, nats_path=nats_path)
    except Exception as error:  # a failed job is recorded and must not stop the others
        record = failed_record(job, error, device=device, wall_time_s=time.perf_counter() - start)
        return record, None


# ---------------------------------------------------------------------------------------------
# Claims: several workers on one store split the jobs instead of repeating them
# ---------------------------------------------------------------------------------------------


class _Claims:
    """Exclusive per-job lock files in ``<store>/claims``.

    A claim made by a process that has died on this host (a killed sweep) is stale and is taken
    over; a claim from another host is trusted for ``ttl_s`` seconds.
    """

    def __init__(self, root: Path, *, ttl_s: float = 6 * 3600) -> None:
        self.dir = root / "claims"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ttl_s = ttl_s
        self.host = socket.gethostname()

    def _path(self, job: Job) -> Path:
        return self.dir / f"{job.key_hash}.claim"

    def acquire(self, job: Job) -> bool:
        path = self._path(job)
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if not self._stale(path):
                    return False
                path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as handle:
                json.dump({"host": self.host, "pid": os.getpid(), "time": time.time()}, handle)
            if self.is_done(job):  # finished by another worker after our job list was made
                self.release(job)
                return False
            return True
        return False

    def _stale(self, path: Path) -> bool:
        try:
            claim = json.loads(path.read_text())
        except (OSError, ValueError):
            # Unreadable: a writer was killed between create and write; stale once old enough.
            try:
                return time.time() - path.stat().st_mtime > 60
            except FileNotFoundError:
                return True
        if claim.get("host") == self.host:
            from calstudy.store import pid_alive

            return claim.get("pid") != os.getpid() and not pid_alive(int(claim.get("pid", -1)))
        return time.time() - float(claim.get("time", 0)) > self.ttl_s

    def release(self, job: Job) -> None:
        self._path(job).unlink(missing_ok=True)

    # A finished job leaves a marker so that a worker whose job list predates it does not run it
    # again; reading the store's keys before every job would cost O(shards) each time.
    def _done_path(self, job: Job) -> Path:
        return self.dir / f"{job.key_hash}.done"

    def mark_done(self, job: Job) -> None:
        self._done_path(job).touch()

    def is_done(self, job: Job) -> bool:
        return self._done_path(job).exists()

    def forget_unfinished(self, jobs: Iterable[Job], finished: set) -> None:
        """Drop markers of jobs the store does not hold as finished (failed, or rows removed)."""
        for job in jobs:
            if job.key not in finished:
                self._done_path(job).unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# The sweep
# ---------------------------------------------------------------------------------------------


@dataclass
class SweepSummary:
    """What a sweep did: counts, time and the errors of failed jobs."""

    total: int = 0
    skipped: int = 0
    done: int = 0
    failed: int = 0
    claimed_elsewhere: int = 0
    stopped_early: bool = False
    wall_time_s: float = 0.0
    errors: list[tuple[tuple, str]] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"sweep: {self.total} jobs — {self.done} done, {self.skipped} already in the store, "
            f"{self.failed} failed, {self.claimed_elsewhere} taken by other workers "
            f"({self.wall_time_s:.1f} s)"
        ]
        if self.stopped_early:
            lines.append("  stopped at the time limit; rerun the same command to resume")
        for key, error in self.errors[:20]:
            lines.append(f"  FAILED {key}: {error.splitlines()[-1] if error else ''}")
        if len(self.errors) > 20:
            lines.append(f"  … and {len(self.errors) - 20} more failures")
        return "\n".join(lines)


def run_sweep(
    config: SweepConfig,
    out: str | os.PathLike[str],
    *,
    backend: str = "local",
    data_dir: str | None = None,
    device: str | None = None,
    nats_path: str | None = None,
    address: str | None = None,
    gpus_per_job: float = 0.0,
    cpus_per_job: float = 1.0,
    max_jobs: int | None = None,
    time_limit_s: float | None = None,
    keep_logits: bool = True,
    progress: bool = True,
) -> SweepSummary:
    """Run every job of ``config`` not yet in the store at ``out``; return a summary.

    Everything that can be checked before training is checked first — the architectures, the
    data directory, the store's integrity — so a bad input fails before anything is written.
    With ``time_limit_s`` (local backend) no job is started after that many seconds, so a sweep
    inside a batch-system allocation stops cleanly and the next allocation resumes it.
    """
    from calstudy.store import Store

    if backend not in BACKENDS:
        raise ValueError(f"Expected `backend` to be one of {BACKENDS}, got {backend!r}.")
    start = time.perf_counter()
    jobs = expand_jobs(config)
    data_dir = data_dir if data_dir is not None else default_data_dir()
    if config.source == "trained":
        for dataset in config.datasets:  # fail fast on a missing or malformed data directory
            _load_data(dataset, data_dir, config.n_train, config.n_test)
            if config.ood.get(dataset):
                _load_data(config.ood[dataset], data_dir, None, config.n_test)

    root = Path(out)
    store = Store(root)
    store.remove_orphaned_temp_files()  # a killed run's half-written shard
    problems = [p for p in store.validate() if getattr(p, "severity", "error") == "error"]
    if problems:
        raise ValueError(
            f"The store at {root} has problems; run `calstudy dataset validate {root}`:\n"
            + "\n".join(f"  {p}" for p in problems)
        )
    finished = store.keys()
    pending = [job for job in jobs if job.key not in finished]
    summary = SweepSummary(total=len(jobs), skipped=len(jobs) - len(pending))
    if max_jobs is not None:
        pending = pending[:max_jobs]
    claims = _Claims(root)
    claims.forget_unfinished(jobs, finished)

    def record_result(job: Job, record: dict[str, Any], logits: dict | None) -> None:
        if logits is not None and keep_logits:
            store.save_logits(job.key, logits)  # before the row, so every row has its logits
        store.append([record])
        claims.mark_done(job)
        if record.get("status") == "ok":
            summary.done += 1
        else:
            summary.failed += 1
            summary.errors.append((job.key, str(record.get("error", ""))))

    bar = _progress_bar(len(pending), config.name, progress)
    try:
        if backend == "local":
            for job in pending:
                if time_limit_s is not None and time.perf_counter() - start > time_limit_s:
                    summary.stopped_early = True
                    break
                if not claims.acquire(job):
                    summary.claimed_elsewhere += 1
                    bar.update(1)
                    continue
                try:
                    t0 = time.perf_counter()
                    record, logits = _run_safely(job, data_dir, device, nats_path)
                    record_result(job, record, logits)
                    bar.set_postfix_str(
                        f"{job.space} {time.perf_counter() - t0:.1f}s/job failed={summary.failed}"
                    )
                finally:
                    claims.release(job)
                bar.update(1)
        else:
            _run_ray(
                pending,
                claims,
                record_result,
                summary,
                bar,
                data_dir=data_dir,
                device=device,
                nats_path=nats_path,
                address=address,
                gpus_per_job=gpus_per_job,
                cpus_per_job=cpus_per_job,
            )
    finally:
        bar.close()
    summary.wall_time_s = time.perf_counter() - start
    return summary


def run_parallel(
    config: SweepConfig,
    out: str | os.PathLike[str],
    *,
    workers: int,
    progress: bool = True,
    **options: Any,
) -> SweepSummary:
    """Run ``workers`` local processes of :func:`run_sweep` on one store and combine summaries.

    The processes split the jobs through the store's claims. This is the simplest way to keep
    one GPU busy with networks too small to fill it, or to use every core of a node without Ray.
    ``options`` are passed to :func:`run_sweep` (``max_jobs`` then applies to each worker).
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"Expected `workers` to be a positive integer, got {workers!r}.")
    if workers == 1:
        return run_sweep(config, out, progress=progress, **options)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    start = time.perf_counter()
    _prepare_corruptions(config, options.get("data_dir"), workers=workers)
    context = multiprocessing.get_context("spawn")  # no forked CUDA or thread-pool state
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [
            pool.submit(run_sweep, config, out, progress=progress and i == 0, **options)
            for i in range(workers)
        ]
        summaries = [future.result() for future in futures]
    return SweepSummary(
        total=summaries[0].total,
        skipped=min(s.skipped for s in summaries),
        done=sum(s.done for s in summaries),
        failed=sum(s.failed for s in summaries),
        stopped_early=any(s.stopped_early for s in summaries),
        wall_time_s=time.perf_counter() - start,
        errors=[error for s in summaries for error in s.errors],
    )


def _corruption_names(config: SweepConfig) -> list[str]:
    from calstudy.corruptions import CORRUPTIONS

    if isinstance(config.corruptions, str):
        if config.corruptions != _ALL_CORRUPTIONS:
            raise ValueError(
                f"Expected `corruptions` to be a list or 'all', got {config.corruptions!r}."
            )
        return list(CORRUPTIONS)
    return list(config.corruptions)


def _prepare_corruptions(config: SweepConfig, data_dir: str | None, *, workers: int) -> None:
    """Corrupt each dataset's test images once, in parallel, into the cache workers read."""
    from calstudy.evaluate import AUC_CORRUPTION, corruption_indices, prepare_corruptions

    names = _corruption_names(config)
    if config.source != "trained" or not names:
        return
    data_dir = data_dir if data_dir is not None else default_data_dir()
    for dataset in config.datasets:
        data = _load_data(dataset, data_dir, config.n_train, config.n_test)
        subset = corruption_indices(len(data.y_test), config.corruption_subset)
        for seed in config.seeds:
            prepare_corruptions(
                data.x_test, names=[AUC_CORRUPTION[0]], severities=[AUC_CORRUPTION[1]], seed=seed
            )
            prepare_corruptions(
                data.x_test[subset],
                names=names,
                severities=config.severities,
                seed=seed,
                workers=workers,
            )


def _run_ray(
    pending,
    claims,
    record_result,
    summary,
    bar,
    *,
    data_dir,
    device,
    nats_path,
    address,
    gpus_per_job,
    cpus_per_job,
) -> None:
    try:
        import ray
    except ImportError as error:
        raise RuntimeError("The ray backend needs Ray: pip install 'calstudy[ray]'.") from error
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(include_dashboard=False, log_to_driver=False)
    remote = ray.remote(num_cpus=cpus_per_job, num_gpus=gpus_per_job)(_run_safely)
    in_flight = {}
    for job in pending:
        if not claims.acquire(job):
            summary.claimed_elsewhere += 1
            bar.update(1)
            continue
        in_flight[remote.remote(job, data_dir, device, nats_path)] = job
    try:
        while in_flight:
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            job = in_flight.pop(ready[0])
            try:
                record, logits = ray.get(ready[0])
            except Exception as error:  # the worker itself died (OOM, node loss)
                record = failed_record(job, error, device=device, wall_time_s=0.0)
                logits = None
            record_result(job, record, logits)
            claims.release(job)
            bar.update(1)
    finally:
        for job in in_flight.values():
            claims.release(job)


def _progress_bar(total: int, name: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(
        total=total, desc=f"sweep {name}", unit="job", disable=not enabled, dynamic_ncols=True
    )


# ---------------------------------------------------------------------------------------------
# Command line: `calstudy sweep`
# ---------------------------------------------------------------------------------------------


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Register ``calstudy sweep``."""
    parser = subparsers.add_parser(
        "sweep",
        help="train/evaluate networks and write the calibration dataset (resumable)",
        description="Run a sweep; rerunning the same command resumes where it stopped.",
    )
    parser.add_argument("--preset", choices=list(PRESETS), help="start from a preset")
    parser.add_argument("--config", help="YAML file of SweepConfig fields (may name a preset)")
    parser.add_argument("--out", required=True, help="store directory (created if missing)")
    parser.add_argument(
        "--space", choices=SPACES, action="append", help="restrict to these spaces (repeatable)"
    )
    parser.add_argument("--n-archs", type=int, help="sample this many architectures per space")
    parser.add_argument("--archs", help="file with one architecture string per line")
    parser.add_argument("--datasets", nargs="+")
    parser.add_argument("--seeds", nargs="+", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument(
        "--data-dir", help="dataset directory (default: $CALSTUDY_DATA or the shipped sample)"
    )
    parser.add_argument("--nats-path", help="NATS-Bench benchmark directory (pretrained source)")
    parser.add_argument("--device", help="cpu, cuda, cuda:1 … (default: cuda if available)")
    parser.add_argument("--backend", choices=BACKENDS, default="local")
    parser.add_argument("--address", help="Ray cluster address, e.g. auto")
    parser.add_argument("--gpus-per-job", type=float, default=0.0)
    parser.add_argument("--cpus-per-job", type=float, default=1.0)
    parser.add_argument("--max-jobs", type=int, help="stop after this many new jobs")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="local worker processes sharing the store (e.g. per GPU)",
    )
    parser.add_argument(
        "--time-limit", type=float, help="start no job after this many seconds (resume later)"
    )
    parser.add_argument("--no-logits", action="store_true", help="do not keep logits")
    parser.add_argument("--dry-run", action="store_true", help="list the jobs and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=_cli_sweep)


def config_from_args(args: argparse.Namespace) -> SweepConfig:
    if args.config:
        config = SweepConfig.from_yaml(args.config)
    elif args.preset:
        config = preset_config(args.preset)
    else:
        raise ValueError("Expected --preset or --config, got neither.")
    overrides: dict[str, Any] = {}
    archs = dict(config.archs)
    if args.space:
        archs = {space: archs.get(space, args.n_archs or 4) for space in args.space}
    if args.n_archs is not None:
        archs = {space: args.n_archs for space in archs}
    if args.archs:
        path = Path(args.archs)
        if not path.is_file():
            raise FileNotFoundError(f"No architecture list at {path}.")
        lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
        lines = [ln for ln in lines if not ln.startswith("#")]
        space = "tss" if lines and lines[0].startswith("|") else "sss"
        archs = {space: lines}
    overrides["archs"] = archs
    if args.datasets:
        overrides["datasets"] = tuple(args.datasets)
    if args.seeds:
        overrides["seeds"] = tuple(args.seeds)
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    return config.replace(**overrides)


def _cli_sweep(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.dry_run:
        jobs = expand_jobs(config)
        for job in jobs:
            print("\t".join(map(str, job.key)))
        print(f"{len(jobs)} jobs")
        return 0
    if args.workers > 1 and args.backend != "local":
        raise ValueError("Expected --workers with the local backend; Ray schedules its own.")
    summary = run_parallel(
        config,
        args.out,
        workers=args.workers,
        time_limit_s=args.time_limit,
        backend=args.backend,
        data_dir=args.data_dir,
        device=args.device,
        nats_path=args.nats_path,
        address=args.address,
        gpus_per_job=args.gpus_per_job,
        cpus_per_job=args.cpus_per_job,
        max_jobs=args.max_jobs,
        keep_logits=not args.no_logits,
        progress=not args.quiet,
    )
    print(summary)
    return 0 if summary.failed == 0 else 1
