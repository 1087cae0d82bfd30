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
claimed with exclusive lock files, so workers split the work instead of repeating it. A claim
names its worker by host, pid and process start time, so the claim of a dead worker is taken
over even when its pid now belongs to another process, and any claim expires after
``claim_max_age_s`` (default 24 h).

Every input is checked before any work: a config when it is built (:class:`SweepConfig` refuses
unknown or duplicate datasets, seeds, architectures, corruptions and post-hoc methods, and
case-folds dataset names to those of :data:`calstudy.data.DATASETS`), run options and paths
when :func:`run_sweep` starts, before data is loaded or the store directory is created.
``calstudy sweep`` reports a bad input as one ``calstudy: error: …`` line with exit code 2, and
a full disk (``ENOSPC``/``EDQUOT``) as one line naming the path with exit code 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import errno
import functools
import hashlib
import inspect
import json
import math
import numbers
import os
import re
import socket
import sys
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from calstudy._checks import (
    check_nonnegative,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
)

SPACES = ("tss", "sss")
BACKENDS = ("local", "ray")
_ALL_CORRUPTIONS = "all"
NATS_HPS = ("01", "12", "90", "200")
"""Training schedules NATS-Bench holds weights for: '12' and '200' (TSS), '01', '12' and '90' (SSS)."""
DEFAULT_CLAIM_MAX_AGE_S = 24 * 3600.0
"""Age after which a job's claim is taken over even if its worker may still run (see ``_Claims``)."""

# Errors of a full disk or an exhausted quota: they stop a sweep instead of failing one job.
_DISK_FULL = frozenset(
    code for code in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if code is not None
)

# ---------------------------------------------------------------------------------------------
# Input checks (every one runs before any data is loaded or any job is started)
# ---------------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _did_you_mean(value: Any, choices: Iterable[str]) -> str:
    matches = difflib.get_close_matches(str(value), list(choices), n=1, cutoff=0.5)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def _as_list(name: str, value: Any, what: str) -> list[Any]:
    """``value`` as a list; a bare string, a mapping or a scalar is refused, not iterated."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValueError(f"Expected `{name}` to be a list of {what}, got {value!r}.")
    return list(value)


def _check_unique(name: str, keys: Sequence[Any], shown: Sequence[Any] | None = None) -> None:
    seen: set[Any] = set()
    repeated: list[Any] = []
    for key in keys:
        if key in seen and key not in repeated:
            repeated.append(key)
        seen.add(key)
    if repeated:
        twice = ", ".join(repr(key) for key in repeated)
        raise ValueError(
            f"Expected `{name}` to hold no duplicates, got {list(shown or keys)!r} "
            f"({twice} more than once)."
        )


def _check_choices(name: str, values: Sequence[Any], choices: Sequence[str]) -> None:
    for value in values:
        if not isinstance(value, str) or value not in choices:
            raise ValueError(
                f"Expected `{name}` to be among {list(choices)}, got {value!r}"
                f"{_did_you_mean(value, choices)}."
            )


def _squash(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def _canonical_dataset(value: Any, *, name: str) -> str:
    """The key of :data:`calstudy.data.DATASETS` that ``value`` names, case and punctuation aside
    (``CIFAR10`` and ``CIFAR-10`` → ``cifar10``, ``Fashion_MNIST`` → ``fashion-mnist``)."""
    from calstudy.data import DATASETS

    known = sorted(DATASETS)
    if isinstance(value, str):
        matches = sorted(
            {
                info.name
                for info in DATASETS.values()
                if _squash(value) in (_squash(info.name), _squash(info.title))
            }
        )
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise ValueError(
                f"Expected `{name}` to name one dataset, got {value!r}, which could be any of "
                f"{matches}; write the name exactly."
            )
    hint = _did_you_mean(value.casefold(), known) if isinstance(value, str) else ""
    raise ValueError(f"Expected `{name}` to name datasets among {known}, got {value!r}{hint}.")


def _check_arch_spec(space: str, spec: Any) -> list[str] | None:
    """Check one space's architecture spec; return its explicit list (None for a count/keyword)."""
    if isinstance(spec, str) and spec in ("all", "unique"):
        return None
    if _is_int(spec):
        if spec < 1:
            raise ValueError(
                f"Expected the number of {space} architectures in `archs` to be ≥ 1, got {spec}."
            )
        return None
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, (bytes, Mapping)) or not isinstance(spec, Iterable):
        raise ValueError(
            f"Expected the {space} architectures in `archs` to be a count, 'all', 'unique' or a "
            f"list of architecture strings, got {spec!r}."
        )
    from calstudy import space as spaces

    archs = []
    for arch in spec:
        if not isinstance(arch, str):
            raise ValueError(
                f"Expected the {space} architectures in `archs` to be strings, got {arch!r}."
            )
        archs.append(arch.strip())
    if not archs:
        raise ValueError(
            f"Expected the {space} architectures in `archs` to list at least one, got none."
        )
    parse = spaces.parse_tss if space == "tss" else spaces.parse_sss
    for arch in archs:
        parse(arch)  # raises a ValueError naming the malformed string
    _check_unique(f"archs[{space!r}]", archs)
    return archs


def _check_config(config: SweepConfig) -> None:
    """Check every field of ``config``; write back canonical dataset names and types.

    Called by ``SweepConfig.__post_init__``, so a config read from YAML, a preset with overrides
    or one built in code is refused before it can expand into a single job.
    """
    from calstudy.calibrate import POSTHOC_METHODS
    from calstudy.corruptions import CORRUPTIONS

    def update(name: str, value: Any) -> None:
        object.__setattr__(config, name, value)  # the dataclass is frozen

    if not isinstance(config.name, str) or not config.name.strip():
        raise ValueError(f"Expected `name` to be a non-empty string, got {config.name!r}.")
    if not isinstance(config.archs, Mapping) or not config.archs:
        raise ValueError(
            f"Expected `archs` to map search spaces {SPACES} to architectures, got "
            f"{config.archs!r}."
        )
    unknown = [space for space in config.archs if space not in SPACES]
    if unknown:
        raise ValueError(
            f"Expected `archs` keys to be search spaces {SPACES}, got unknown space(s) {unknown}."
        )
    for space, spec in config.archs.items():
        _check_arch_spec(space, spec)
    if config.source not in ("trained", "nats-pretrained"):
        raise ValueError(
            f"Expected `source` to be 'trained' or 'nats-pretrained', got {config.source!r}."
        )

    given = _as_list("datasets", config.datasets, "dataset names")
    if not given:
        raise ValueError("Expected `datasets` to name at least one dataset, got none.")
    datasets = [_canonical_dataset(name, name="datasets") for name in given]
    _check_unique("datasets", datasets, given)
    update("datasets", tuple(datasets))

    seeds = _as_list("seeds", config.seeds, "integers")
    if not seeds:
        raise ValueError("Expected `seeds` to hold at least one seed, got none.")
    for seed in seeds:
        if not _is_int(seed) or not 0 <= seed < 2**32:
            raise ValueError(f"Expected `seeds` to be integers in [0, 2**32), got {seed!r}.")
    _check_unique("seeds", seeds)
    update("seeds", tuple(int(seed) for seed in seeds))
    check_nonnegative_int(config.arch_seed, "arch_seed")

    for name in ("epochs", "C", "N", "pgd_steps"):
        check_positive_int(getattr(config, name), name)
    for name in ("n_train", "n_test", "corruption_subset"):
        if getattr(config, name) is not None:  # None: all of them
            check_positive_int(getattr(config, name), name)
    if not _is_real(config.heldout_frac) or not 0.0 < config.heldout_frac < 1.0:
        raise ValueError(f"Expected `heldout_frac` to be in (0, 1), got {config.heldout_frac!r}.")

    posthoc = _as_list("posthoc", config.posthoc, "post-hoc method names")
    _check_choices("posthoc", posthoc, list(POSTHOC_METHODS))
    _check_unique("posthoc", posthoc)
    if isinstance(config.corruptions, str):
        if config.corruptions != _ALL_CORRUPTIONS:
            raise ValueError(
                f"Expected `corruptions` to be 'all' or a list among {list(CORRUPTIONS)}, got "
                f"{config.corruptions!r}{_did_you_mean(config.corruptions, CORRUPTIONS)}."
            )
    else:
        corruptions = _as_list("corruptions", config.corruptions, "corruption names")
        _check_choices("corruptions", corruptions, CORRUPTIONS)
        _check_unique("corruptions", corruptions)
    severities = _as_list("severities", config.severities, "integers in 1..5")
    if not severities or not all(_is_int(s) and 1 <= s <= 5 for s in severities):
        raise ValueError(f"Expected `severities` to be integers in 1..5, got {severities!r}.")
    _check_unique("severities", severities)

    if not isinstance(config.ood, Mapping):
        raise ValueError(
            f"Expected `ood` to map datasets to out-of-distribution datasets, got {config.ood!r}."
        )
    ood = {
        _canonical_dataset(key, name="ood"): _canonical_dataset(value, name="ood")
        for key, value in config.ood.items()
    }
    if len(ood) < len(config.ood):
        raise ValueError(
            f"Expected `ood` to name each dataset once, got {dict(config.ood)!r} (two keys name "
            "the same dataset)."
        )
    same = [key for key, value in ood.items() if key == value]
    if same:
        raise ValueError(
            f"Expected `ood` to map each dataset to a different dataset, got {same[0]!r} → "
            f"{same[0]!r}."
        )
    update("ood", ood)

    if not _is_int(config.attack_subset) or config.attack_subset < 0:
        raise ValueError(
            f"Expected `attack_subset` to be a non-negative integer (0 = no attacks), got "
            f"{config.attack_subset!r}."
        )
    for name in ("fgsm_eps", "pgd_eps"):
        eps = _as_list(name, getattr(config, name), "budgets in 1/255 units")
        bad = [e for e in eps if not _is_real(e) or e <= 0]
        if bad:
            raise ValueError(
                f"Expected `{name}` to be positive finite budgets in 1/255 units, got {bad[0]!r}."
            )
        _check_unique(name, eps)
    hp = str(config.nats_hp) if _is_int(config.nats_hp) else config.nats_hp
    if hp not in NATS_HPS:
        raise ValueError(
            f"Expected `nats_hp` to be one of {list(NATS_HPS)} (a string), got {config.nats_hp!r}."
        )
    update("nats_hp", hp)


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
        _check_config(self)

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
        """A copy with ``overrides`` applied and checked; unknown field names are refused."""
        names = sorted(f.name for f in dataclasses.fields(self))
        unknown = [name for name in overrides if name not in names]
        if unknown:
            hint = _did_you_mean(unknown[0], names) if isinstance(unknown[0], str) else ""
            raise ValueError(
                f"Expected sweep options among {names}, got unknown option(s) {unknown}{hint}."
            )
        return dataclasses.replace(self, **overrides)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SweepConfig:
        """A config from field values; ``preset`` names a preset they override."""
        values = dict(values)
        preset = values.pop("preset", None)
        base = preset_config(preset) if preset is not None else cls()
        return base.replace(**values)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> SweepConfig:
        """A config from a YAML mapping of field values (see :meth:`from_mapping`)."""
        import yaml

        path = Path(path)
        if not path.is_file():
            what = "a directory" if path.is_dir() else "no such file"
            raise FileNotFoundError(
                f"Expected `config` to be a YAML file of sweep options, got '{path}' ({what})."
            )
        try:
            values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            detail = " ".join(str(error).split())
            raise ValueError(
                f"Expected `config` to be valid YAML, got '{path}': {detail}"
            ) from error
        if not isinstance(values, dict):
            raise ValueError(
                f"Expected sweep config {path} to be a YAML mapping, got {type(values).__name__}."
            )
        try:
            return cls.from_mapping(values)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from error


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
    if not isinstance(name, str) or name not in PRESETS:
        hint = _did_you_mean(name, PRESETS) if isinstance(name, str) else ""
        raise ValueError(f"Expected `preset` to be one of {list(PRESETS)}, got {name!r}{hint}.")
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
    archs = _check_arch_spec(space, spec)
    if archs is not None:
        return archs
    if spec in ("all", "unique"):
        if space == "tss":
            return list(spaces.all_tss() if spec == "all" else spaces.unique_tss())
        return list(spaces.all_sss())
    population = len(spaces.unique_tss() if space == "tss" else spaces.all_sss())
    if spec > population:
        raise ValueError(
            f"Expected the number of {space} architectures in `archs` to be at most {population}"
            f" (the distinct architectures of the space), got {spec}."
        )
    return list(spaces.sample_archs(space, spec, seed=seed))


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


def _features(space: str, arch: str) -> dict[str, Any]:
    from calstudy import space as spaces

    return dict(spaces.tss_features(arch) if space == "tss" else spaces.sss_features(arch))


def _provenance(job: Job, device: str | None, wall_time_s: float) -> dict[str, Any]:
    from calstudy.device import device_name
    from calstudy.schema import provenance

    return provenance(
        config_hash=job.config.config_hash(),
        device=device_name(device),
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
        if _disk_full(error):
            raise  # but a full disk would fail every later job the same way: stop the sweep
        record = failed_record(job, error, device=device, wall_time_s=time.perf_counter() - start)
        return record, None


def _disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in _DISK_FULL


# ---------------------------------------------------------------------------------------------
# Claims: several workers on one store split the jobs instead of repeating them
# ---------------------------------------------------------------------------------------------


def _process_start_time(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot; None where that is unknown.

    Linux: field 22 (``starttime``) of ``/proc/<pid>/stat``, read after the last ``)`` because the
    command name (field 2) may hold spaces and parentheses. Other systems: None.
    """
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
        return int(stat[stat.rindex(")") + 1 :].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _boot_id() -> str | None:
    """This boot's id (Linux), so that a claim made before a reboot is known to be stale."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


class _Claims:
    """Exclusive per-job lock files in ``<store>/claims``.

    A claim names its owner — host, boot id, pid and the process's start time — and when it was
    made. It is stale, and taken over, when it is older than ``max_age_s`` (whatever its host), or
    when its owner was on this host and has died: its pid is gone, or now belongs to another
    process (another start time; another boot). A claim from another host cannot be checked and
    is trusted until it expires, so ``max_age_s`` must exceed the longest job.
    """

    def __init__(self, root: Path, *, max_age_s: float = DEFAULT_CLAIM_MAX_AGE_S) -> None:
        self.dir = root / "claims"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_age_s = max_age_s
        self.host = socket.gethostname()
        self.boot_id = _boot_id()
        self.pid = os.getpid()
        self.start_time = _process_start_time(self.pid)

    def _path(self, job: Job) -> Path:
        return self.dir / f"{job.key_hash}.claim"

    def acquire(self, job: Job) -> bool:
        path = self._path(job)
        owner = {
            "host": self.host,
            "boot_id": self.boot_id,
            "pid": self.pid,
            "start_time": self.start_time,
        }
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if not self._stale(path):
                    return False
                path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as handle:
                json.dump({**owner, "time": time.time()}, handle)
            if self.is_done(job):  # finished by another worker after our job list was made
                self.release(job)
                return False
            return True
        return False

    def _stale(self, path: Path) -> bool:
        try:
            claim = json.loads(path.read_text())
        except (OSError, ValueError):
            claim = None
        if not isinstance(claim, dict):
            # Unreadable: a writer was killed between create and write; stale once old enough.
            try:
                return time.time() - path.stat().st_mtime > 60
            except FileNotFoundError:
                return True
        made = claim.get("time")
        if not _is_real(made) or time.time() - made > self.max_age_s:
            return True
        if claim.get("host") != self.host:
            return False
        boot_id = claim.get("boot_id")
        if boot_id and self.boot_id and boot_id != self.boot_id:
            return True  # made before this host rebooted
        pid, start_time = claim.get("pid"), claim.get("start_time")
        if not _is_int(pid) or pid < 1:
            return True
        if pid == self.pid:  # this process's claim, unless an earlier process had the same pid
            return None not in (start_time, self.start_time) and start_time != self.start_time
        from calstudy.store import pid_alive

        if not pid_alive(pid):
            return True
        if start_time is None:  # a claim without a start time: only its expiry tells
            return False
        now = _process_start_time(pid)
        return now is not None and now != start_time  # the pid was reused by another process

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


def _check_out(out: str | os.PathLike[str]) -> Path:
    """The store directory ``out``: an existing directory, or a path that can be created."""
    root = Path(out)
    if root.exists() and not root.is_dir():
        raise ValueError(
            f"Expected `out` to be a store directory (or a new path), got the file '{root}'."
        )
    parent = root
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(
            f"Expected `out` to be a path that can be created, got '{root}', under the file "
            f"'{parent}'."
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(
            f"Expected `out` to be writable, got '{root}' (no write permission on '{parent}')."
        )
    return root


_DEVICE = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")


def _check_device(device: str | None, *, backend: str) -> None:
    """A device string torch understands and (local backend) this machine has."""
    if device is None:
        return
    if not isinstance(device, str) or not _DEVICE.match(device):
        raise ValueError(
            f"Expected `device` to be 'cpu', 'cuda', 'cuda:<index>' or 'mps', got {device!r}."
        )
    if backend != "local" or device == "cpu":
        return  # Ray runs jobs on other machines, whose devices this one cannot see
    import torch

    if device == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"Expected `device` to be available, got {device!r} (no MPS here).")
        return
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    index = int(device.partition(":")[2] or 0)
    if index >= count:
        raise ValueError(
            f"Expected `device` to be a CUDA device of this machine, got {device!r} "
            f"({count} CUDA device(s) visible)."
        )


def _check_run(*args: Any, check_nats: bool = True, **kwargs: Any) -> dict[str, Any]:
    """Check :func:`run_sweep`'s arguments and paths without loading data or writing anything;
    return them all, its defaults filled in.

    The arguments are bound to :func:`run_sweep`'s own signature, so its parameter list is the
    one list of a sweep's options (:func:`run_parallel` and the command line pass theirs
    through). ``check_nats=False``: a dry run lists a pretrained sweep's jobs without the
    benchmark.
    """
    try:
        bound = inspect.signature(run_sweep).bind(*args, **kwargs)
    except TypeError as error:
        raise ValueError(f"Expected the arguments of `run_sweep`, but {error}.") from None
    bound.apply_defaults()
    run = SimpleNamespace(**bound.arguments)
    if not isinstance(run.config, SweepConfig):
        raise ValueError(f"Expected `config` to be a SweepConfig, got {type(run.config).__name__}.")
    if run.backend not in BACKENDS:
        raise ValueError(f"Expected `backend` to be one of {BACKENDS}, got {run.backend!r}.")
    if run.backend == "ray":
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise ValueError(
                "Expected `backend` 'ray' to find Ray installed (pip install 'calstudy[ray]'), "
                "got no module named 'ray'."
            )
    elif run.address is not None:
        raise ValueError(
            f"Expected `address` only with the ray backend, got {run.address!r} with "
            f"{run.backend!r}."
        )
    _check_out(run.out)
    if run.max_jobs is not None:
        check_positive_int(run.max_jobs, "max_jobs")
    if run.time_limit_s is not None:
        check_nonnegative(run.time_limit_s, "time_limit_s")
    check_positive(run.claim_max_age_s, "claim_max_age_s")
    check_nonnegative(run.gpus_per_job, "gpus_per_job")
    check_positive(run.cpus_per_job, "cpus_per_job")
    if not isinstance(run.keep_logits, bool):
        raise ValueError(f"Expected `keep_logits` to be True or False, got {run.keep_logits!r}.")
    _check_device(run.device, backend=run.backend)
    if run.config.source == "nats-pretrained" and check_nats:
        if run.nats_path is None:
            raise ValueError(
                "Expected `nats_path` (the NATS-Bench benchmark directory) for "
                "source='nats-pretrained', got None."
            )
        if not Path(run.nats_path).exists():
            raise FileNotFoundError(
                "Expected `nats_path` to be a NATS-Bench benchmark directory, got "
                f"'{run.nats_path}' (no such path)."
            )
    elif run.config.source == "trained" and run.data_dir and not Path(run.data_dir).exists():
        raise FileNotFoundError(
            f"Expected `data_dir` to be a dataset directory, got '{run.data_dir}' (no such path)."
        )
    return bound.arguments


def _check_data(config: SweepConfig, data_dir: str | None) -> None:
    """Load every dataset the sweep reads (cached for its jobs): a bad directory fails here."""
    if config.source != "trained":
        return
    for dataset in config.datasets:
        _load_data(dataset, data_dir, config.n_train, config.n_test)
        if config.ood.get(dataset):
            _load_data(config.ood[dataset], data_dir, None, config.n_test)


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
    claim_max_age_s: float = DEFAULT_CLAIM_MAX_AGE_S,
    keep_logits: bool = True,
    progress: bool = True,
) -> SweepSummary:
    """Run every job of ``config`` not yet in the store at ``out``; return a summary.

    Everything that can be checked before training is checked first — the options, the output
    path, the device, the architectures, the data directory, the store's integrity — so a bad
    input fails before anything is written (a refused sweep creates no store directory).

    Parameters
    ----------
    config : SweepConfig
        The sweep (checked when it was built).
    out : path
        Store directory; created if missing. It must not be a file.
    backend : {"local", "ray"}
        Run jobs in this process, or on a Ray cluster (``address``; ``gpus_per_job`` and
        ``cpus_per_job`` are each job's share of a node).
    data_dir, device, nats_path : str, optional
        Dataset directory (default :func:`default_data_dir`); ``'cpu'``, ``'cuda'``,
        ``'cuda:<index>'`` or ``'mps'`` (default: CUDA if available); the NATS-Bench benchmark
        directory, required for ``source='nats-pretrained'``.
    max_jobs : int, optional
        Run at most this many new jobs (≥ 1).
    time_limit_s : float, optional
        Local backend: start no job after this many seconds (≥ 0), so a sweep inside a
        batch-system allocation stops cleanly and the next allocation resumes it.
    claim_max_age_s : float
        A job claimed by another worker longer ago than this is taken over (see ``_Claims``);
        it must exceed the longest job. Default 24 h.
    keep_logits, progress : bool
        Keep each row's test-set logits beside the table; show a progress bar.

    Returns
    -------
    SweepSummary

    Raises
    ------
    ValueError, FileNotFoundError
        For a bad option or path, before any data is loaded or anything is written.
    OSError
        When the disk is full (``errno.ENOSPC``/``EDQUOT``): the sweep stops; the store keeps
        every row written before, and a rerun resumes.
    """
    _check_run(**locals())  # run_sweep's own parameters, bound to its own signature
    from calstudy.store import Store

    start = time.perf_counter()
    jobs = expand_jobs(config)
    data_dir = data_dir if data_dir is not None else default_data_dir()
    _check_data(config, data_dir)  # fail fast on a missing or malformed data directory

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
    claims = _Claims(root, max_age_s=claim_max_age_s)
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
    check_positive_int(workers, "workers")
    if workers == 1:
        return run_sweep(config, out, progress=progress, **options)
    _check_run(config, out, **options)  # before any corruption is prepared or worker started
    if options.get("backend", "local") != "local":
        raise ValueError(
            f"Expected `workers` > 1 only with the local backend (Ray schedules its own), got "
            f"{workers} with {options['backend']!r}."
        )
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    expand_jobs(config)
    start = time.perf_counter()
    data_dir = options.get("data_dir")
    _check_data(config, data_dir if data_dir is not None else default_data_dir())
    _prepare_corruptions(config, data_dir, workers=workers)
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
        claimed_elsewhere=sum(s.claimed_elsewhere for s in summaries),
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
                if _disk_full(error):
                    raise
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
    parser.add_argument(
        "--datasets",
        nargs="+",
        help="datasets to train and evaluate on, e.g. cifar10 fashion-mnist (default: the preset's)",
    )
    parser.add_argument(
        "--seeds", nargs="+", type=int, help="training seeds, e.g. 0 1 2 (default: the preset's)"
    )
    parser.add_argument(
        "--epochs", type=int, help="training epochs per network (default: the preset's)"
    )
    parser.add_argument(
        "--data-dir", help="dataset directory (default: $CALSTUDY_DATA or the shipped sample)"
    )
    parser.add_argument("--nats-path", help="NATS-Bench benchmark directory (pretrained source)")
    parser.add_argument("--device", help="cpu, cuda, cuda:1 … (default: cuda if available)")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="local",
        help="local: processes on this machine; ray: a Ray cluster (default local)",
    )
    parser.add_argument("--address", help="Ray cluster address, e.g. auto")
    parser.add_argument(
        "--gpus-per-job", type=float, help="ray backend: GPUs per job, e.g. 0.25 (default 0)"
    )
    parser.add_argument("--cpus-per-job", type=float, help="ray backend: CPUs per job (default 1)")
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
    parser.add_argument(
        "--claim-max-age",
        type=float,
        default=DEFAULT_CLAIM_MAX_AGE_S,
        metavar="SECONDS",
        help="take over a job another worker claimed longer ago than this; must exceed the "
        "longest job (default 86400 = 24 h)",
    )
    parser.add_argument("--no-logits", action="store_true", help="do not keep logits")
    parser.add_argument("--dry-run", action="store_true", help="list the jobs and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=_cli_sweep)


def _check_cli_numbers(args: argparse.Namespace) -> None:
    """Refuse numeric options out of range, naming the option as it was typed."""
    checks = [
        ("--n-archs", args.n_archs, int, 1, True),
        ("--epochs", args.epochs, int, 1, True),
        ("--max-jobs", args.max_jobs, int, 1, True),
        ("--workers", args.workers, int, 1, True),
        ("--time-limit", args.time_limit, float, 0, False),
        ("--claim-max-age", args.claim_max_age, float, 0, False),
        ("--gpus-per-job", args.gpus_per_job, float, 0, True),
        ("--cpus-per-job", args.cpus_per_job, float, 0, False),
    ]
    for option, value, kind, bound, inclusive in checks:
        if value is None:
            continue
        if math.isfinite(value) and (value >= bound if inclusive else value > bound):
            continue
        if kind is int:
            what = "a positive integer"
        else:
            what = f"a finite number {'≥' if inclusive else '>'} {bound}"
        raise ValueError(f"Expected `{option}` to be {what}, got {value:g}.")
    if args.backend == "local":
        for option, value in [
            ("--address", args.address),
            ("--gpus-per-job", args.gpus_per_job),
            ("--cpus-per-job", args.cpus_per_job),
        ]:
            if value is not None:
                raise ValueError(
                    f"Expected `{option}` only with --backend ray, got {value} with the local "
                    "backend."
                )
    elif args.workers > 1:
        raise ValueError(
            f"Expected `--workers` > 1 only with --backend local (Ray schedules its own), got "
            f"{args.workers} with --backend {args.backend}."
        )


def config_from_args(args: argparse.Namespace) -> SweepConfig:
    """The :class:`SweepConfig` of ``calstudy sweep``'s arguments: a preset or a YAML config,
    with the command line's overrides applied and checked."""
    if args.config and args.preset:
        raise ValueError(
            f"Expected one of --preset and --config (a config names its preset with "
            f"`preset: {args.preset}`), got both."
        )
    if args.config:
        config = SweepConfig.from_yaml(args.config)
    elif args.preset:
        config = preset_config(args.preset)
    else:
        raise ValueError("Expected --preset or --config, got neither.")
    overrides: dict[str, Any] = {}
    archs = dict(config.archs)
    if args.space:
        _check_unique("--space", args.space)
        archs = {space: archs.get(space, args.n_archs or 4) for space in args.space}
    if args.n_archs is not None:
        if args.archs:
            raise ValueError(
                f"Expected one of --n-archs and --archs, got both (--n-archs {args.n_archs})."
            )
        archs = {space: args.n_archs for space in archs}
    if args.archs:
        path = Path(args.archs)
        if not path.is_file():
            raise FileNotFoundError(
                f"Expected `--archs` to be a file of architecture strings, got '{path}' "
                "(no such file)."
            )
        lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
        lines = [ln for ln in lines if not ln.startswith("#")]
        if not lines:
            raise ValueError(
                f"Expected `--archs` to list at least one architecture, got '{path}' with none."
            )
        space = "tss" if lines[0].startswith("|") else "sss"
        if args.space and space not in args.space:
            raise ValueError(
                f"Expected the --archs file to hold architectures of --space "
                f"{' '.join(args.space)}, got {space} architectures in '{path}'."
            )
        archs = {space: lines}
    overrides["archs"] = archs
    if args.datasets:
        overrides["datasets"] = tuple(args.datasets)
    if args.seeds:
        overrides["seeds"] = tuple(args.seeds)
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    return config.replace(**overrides)


def _run_options(args: argparse.Namespace) -> dict[str, Any]:
    options = {
        "backend": args.backend,
        "data_dir": args.data_dir,
        "device": args.device,
        "nats_path": args.nats_path,
        "address": args.address,
        "max_jobs": args.max_jobs,
        "time_limit_s": args.time_limit,
        "claim_max_age_s": args.claim_max_age,
        "keep_logits": not args.no_logits,
    }
    if args.gpus_per_job is not None:
        options["gpus_per_job"] = args.gpus_per_job
    if args.cpus_per_job is not None:
        options["cpus_per_job"] = args.cpus_per_job
    return options


def _cli_sweep(args: argparse.Namespace) -> int:
    """``calstudy sweep``: exit 0 when every job succeeded, 1 when a job failed or the disk
    filled up, 2 for a bad input (refused before any data is loaded or anything is written)."""
    try:
        _check_cli_numbers(args)
        config = config_from_args(args)
        options = _run_options(args)
        _check_run(config, args.out, check_nats=not args.dry_run, **options)
        if args.dry_run:
            jobs = expand_jobs(config)
            for job in jobs:
                print("\t".join(map(str, job.key)))
            print(f"{len(jobs)} jobs")
            return 0
        summary = run_parallel(
            config, args.out, workers=args.workers, progress=not args.quiet, **options
        )
    except (ValueError, OSError) as error:
        if _disk_full(error):
            print(f"calstudy: error: {_disk_full_message(error, args.out)}", file=sys.stderr)
            return 1
        if not isinstance(error, (ValueError, FileNotFoundError)):
            raise
        print(f"calstudy: error: {error}", file=sys.stderr)
        return 2
    print(summary)
    return 0 if summary.failed == 0 else 1


def _disk_full_message(error: OSError, out: str) -> str:
    """One line for a full disk or quota: the errno, the path and that a rerun resumes."""
    code = errno.errorcode.get(error.errno, str(error.errno))
    detail = " ".join((error.strerror or os.strerror(error.errno)).split())
    if isinstance(error, ValueError):  # the store's own write error names the file and the fix
        return f"[{code}] {detail}"
    return (
        f"[{code}] {detail}: '{error.filename or out}'. The store at '{out}' keeps every row "
        "written before; free space and rerun the same command to resume."
    )
