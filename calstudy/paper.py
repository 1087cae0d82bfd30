"""The paper's released CSVs: import them, check them, and generate files in their format.

Tao et al. (ICLR 2024) released one CSV per dataset × search space,
``{cifar10,cifar100,ImageNet}_{tss,sss}.csv`` (:data:`PAPER_FILES`), with the columns
``config`` (NATS-Bench index), ``acc``, ``correct_confidence``, ``incorrect_confidence``,
``arch``, 100 ``pre_``/``post_`` calibration columns, ``pre_auc_cifar10c``, ``pre_auc_svhn``,
and (TSS, after Jung et al. 2023) attack and corruption accuracies
(:func:`released_columns`). :func:`import_paper_csv` maps one file to our columns;
:func:`import_paper_dir` all of them, after checking them as a set (same ``arch`` for a
``config`` in every file, SHA-256 sums of :func:`calstudy.paper_fetch.fetch_paper`).
:func:`write_release_sample` writes files of the same format, at any size, from a seeded
model of plausible values: the fixture of the tests, the benchmark and the book's CI build.

What the paper does not say, and what we record instead:

* **Seed.** NATS-Bench trained most 200-epoch TSS networks with several seeds (777, 888, 999)
  and the paper does not say whose weights it evaluated. Paper rows get ``seed = -1``
  (:data:`PAPER_SEED`), "not stated".
* **Fidelity.** TSS rows used the 200-epoch weights (the paper says so): ``"nats-200"``.
  For SSS the paper is silent; NATS-Bench SSS trained for 1, 12 and 90 epochs and releases
  weights only of the 90-epoch runs, so ``"nats-90"`` is our best reading, not a fact. Pass
  ``fidelity=`` to record another.
* **Units.** The released files hold accuracies as fractions (NATS-Bench itself reports
  percent). :func:`import_paper_dir` refuses an accuracy above 1 unless told the unit;
  :func:`import_paper_csv` reads a file as percent when any accuracy exceeds 1
  (``accuracy_unit="auto"``) and divides by 100.

References
----------
.. [1] L. Tao, Y. Zhu, H. Guo, M. Dong, C. Xu, "A Benchmark Study on Calibration", ICLR 2024;
   data: https://github.com/Linwei94/calibration-study.
.. [2] X. Dong, L. Liu, K. Musial, B. Gabrys, "NATS-Bench: Benchmarking NAS Algorithms for
   Architecture Topology and Size", IEEE TPAMI, 2021.
.. [3] S. Jung, J. Lukasik, M. Keuper, "Neural Architecture Design and Robustness: A
   Dataset", ICLR 2023.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import os
import random
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import numpy as np
import pandas as pd

from calstudy.catalogue import BIN_COUNTS, metric_columns
from calstudy.files import atomic_write, atomic_write_bytes
from calstudy.schema import (
    ACCURACY_COLUMNS,
    ATTACK_COLUMNS,
    CORRUPTIONS,
    SCHEMA,
    utc_now,
    validate_table,
)
from calstudy.space import TSS_OPS, all_sss, all_tss, canonical_tss, parse_tss

__all__ = [
    "CHECKSUM_FILE",
    "DATASET_NAMES",
    "FILE_PATTERN",
    "NATS_SIZES",
    "PAPER_FIDELITY",
    "PAPER_FILES",
    "PAPER_SEED",
    "import_paper_csv",
    "import_paper_dir",
    "nats_archs",
    "parse_checksums",
    "read_checksums",
    "released_columns",
    "sha256_file",
    "verify_checksums",
    "write_checksums",
    "write_release_sample",
]

FILE_PATTERN = re.compile(r"^(?P<dataset>cifar10|cifar100|ImageNet)_(?P<space>tss|sss)\.csv$")
"""Names of the released files."""
DATASET_NAMES: dict[str, str] = {
    "cifar10": "cifar10",
    "cifar100": "cifar100",
    "ImageNet": "imagenet16-120",
}
"""File-name dataset → calstudy dataset."""
PAPER_SEED = -1
"""``seed`` of paper rows: the paper does not state which training seed's weights it used."""
PAPER_FIDELITY: dict[str, str] = {"tss": "nats-200", "sss": "nats-90"}
"""``fidelity`` of paper rows per space (SSS: our reading, see the module docstring)."""
PAPER_FILES: tuple[str, ...] = tuple(
    f"{dataset}_{space}.csv" for dataset in DATASET_NAMES for space in ("tss", "sss")
)
"""The six released files."""
NATS_SIZES: dict[str, int] = {"tss": 15_625, "sss": 32_768}
"""Architectures per space: the rows of a released file (``config`` runs 0 … size − 1)."""
CHECKSUM_FILE = "SHA256SUMS"
"""File beside the CSVs listing their SHA-256 sums, ``sha256sum``'s format."""

_RENAMES = {"config": "arch_index"}
_KEY_COLUMNS = ("config", "arch")
_CHUNK = 1 << 20
_CHECKSUM_LINE = re.compile(r"^(?P<digest>[0-9a-fA-F]{64}) [ *](?P<name>.+)$")


# ── the released format ──────────────────────────────────────────────────────────────────────
def released_columns(space: Literal["tss", "sss"]) -> list[str]:
    """The columns of a released file of `space`, in the files' order.

    ``config, acc, correct_confidence, incorrect_confidence, arch``; the 100 calibration
    columns of :func:`calstudy.catalogue.metric_columns` (``paper_only=True``: 5 binned
    estimators × 9 bin counts, bin count outermost, then KSCE, KDECE, MMCE, NLL, Brier, each
    ``pre_`` column followed by its ``post_`` column); ``pre_auc_cifar10c, pre_auc_svhn``;
    and, for TSS only, the 36 attack accuracies (:data:`calstudy.schema.ATTACK_COLUMNS`) and
    the 15 corruption accuracies (:data:`calstudy.schema.CORRUPTIONS`). The robustness
    columns come from Jung et al. (2023) [3]_, whose dataset covers the topology space only,
    so SSS files end at ``pre_auc_svhn``; that every TSS file (not only CIFAR-10's) carries
    them is our reading of the paper's README, which lists one header for all files.

    Parameters
    ----------
    space : {"tss", "sss"}

    Returns
    -------
    list of str
        158 names for TSS, 107 for SSS.

    References
    ----------
    .. [3] S. Jung, J. Lukasik, M. Keuper, "Neural Architecture Design and Robustness: A
       Dataset", ICLR 2023.
    """
    if space not in NATS_SIZES:
        raise ValueError(f"Expected `space` to be 'tss' or 'sss', got {space!r}.")
    columns = [
        "config",
        "acc",
        "correct_confidence",
        "incorrect_confidence",
        "arch",
        *metric_columns(paper_only=True),
        "pre_auc_cifar10c",
        "pre_auc_svhn",
    ]
    if space == "tss":
        columns += [*ATTACK_COLUMNS, *CORRUPTIONS]
    return columns


def _core_columns() -> list[str]:
    """Columns every released file has for certain: identity, accuracy, the 100 metrics."""
    return released_columns("sss")[:-2]


@functools.cache
def _nats_tss_order() -> tuple[int, ...]:
    """Positions in :func:`calstudy.space.all_tss` of NATS-Bench's indices 0 … 15,624."""
    order = list(range(NATS_SIZES["tss"]))
    random.Random(88).shuffle(order)
    return tuple(order)


def nats_archs(space: Literal["tss", "sss"]) -> list[str]:
    """The architecture strings of `space` in NATS-Bench's index order.

    ``nats_archs(space)[i]`` is the architecture whose NATS-Bench index (the released files'
    ``config``) is ``i``, reproduced without the benchmark files:

    * **TSS.** NATS-Bench (as NAS-Bench-201 before it) enumerates the 15,625 cells with
      ``CellStructure.gen_all`` — the order of :func:`calstudy.space.all_tss` — and shuffles
      that list with ``random.seed(88); random.shuffle(archs)`` (``exps/NATS-Bench/
      tss-collect.py`` in ``D-X-Y/AutoDL-Projects``). The result is *not* lexicographic;
      its indices 0, 9 and 123 are the ones that script asserts, and 0 and 1 those of the
      paper's ``cifar10_tss.csv``.
    * **SSS.** NATS-Bench lists the 32,768 width strings as the product of the candidate
      widths, first layer outermost (``traverse_net`` of ``exps/NATS-Bench/sss-collect.py``):
      the order of :func:`calstudy.space.all_sss`.

    With a benchmark file at hand, :func:`calstudy.nats.index_to_arch` reads the same map.

    Parameters
    ----------
    space : {"tss", "sss"}

    Returns
    -------
    list of str
        15,625 (TSS) or 32,768 (SSS) strings.

    References
    ----------
    .. [2] X. Dong, L. Liu, K. Musial, B. Gabrys, "NATS-Bench: Benchmarking NAS Algorithms
       for Architecture Topology and Size", IEEE TPAMI, 2021.
    """
    if space == "tss":
        archs = all_tss()
        return [archs[i] for i in _nats_tss_order()]
    if space == "sss":
        return all_sss()
    raise ValueError(f"Expected `space` to be 'tss' or 'sss', got {space!r}.")


# ── checksums ────────────────────────────────────────────────────────────────────────────────
def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as 64 hexadecimal digits (read in 1 MiB chunks).

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    str
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_checksums(path: str | Path) -> dict[str, str]:
    """Read a ``SHA256SUMS`` file (``sha256sum``'s format: ``<64 hex digits>  <name>``).

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    dict
        File name → lower-case hexadecimal digest; empty lines are skipped.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        Naming the file and line of a malformed entry, or a name listed twice.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Checksum file '{path}' does not exist.")
    return parse_checksums(path.read_text(encoding="utf-8"), where=f"'{path}'")


def parse_checksums(text: str, *, where: str) -> dict[str, str]:
    """Parse the text of a ``SHA256SUMS`` file (see :func:`read_checksums`).

    Parameters
    ----------
    text : str
    where : str, keyword-only
        How error messages name the file.

    Returns
    -------
    dict
        File name → lower-case hexadecimal digest.
    """
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _CHECKSUM_LINE.match(line)
        if match is None:
            raise ValueError(
                f"Expected line {number} of {where} to read '<64 hex digits>  <file name>', "
                f"got {line!r}."
            )
        name = match["name"]
        if name in sums:
            raise ValueError(f"Expected {where} to list {name!r} once, got it twice.")
        sums[name] = match["digest"].lower()
    return sums


def write_checksums(path: str | Path, sums: Mapping[str, str]) -> Path:
    """Write `sums` as a ``SHA256SUMS`` file, atomically (a temporary file, then a rename).

    Parameters
    ----------
    path : str or pathlib.Path
    sums : mapping
        File name → hexadecimal SHA-256; written sorted by name.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    for name, digest in sums.items():
        if not re.fullmatch(r"[0-9a-fA-F]{64}", str(digest)) or not name or "\n" in name:
            raise ValueError(
                f"Expected a file name and 64 hex digits for '{path}', got {name!r}: {digest!r}."
            )
    text = "".join(f"{sums[name].lower()}  {name}\n" for name in sorted(sums))
    return atomic_write_bytes(path, text.encode("utf-8"))


def verify_checksums(directory: str | Path, names: Iterable[str] | None = None) -> list[str]:
    """Check files of `directory` against its ``SHA256SUMS`` (:data:`CHECKSUM_FILE`).

    Parameters
    ----------
    directory : str or pathlib.Path
    names : iterable of str, optional
        Files to check; by default every listed file that is present.

    Returns
    -------
    list of str
        The names verified; empty when `directory` has no ``SHA256SUMS``.

    Warns
    -----
    UserWarning
        Naming files of `names` that are present but not listed (they are not verified).

    Raises
    ------
    ValueError
        Naming the first file whose bytes do not have the listed sum.
    """
    directory = Path(directory)
    sums_path = directory / CHECKSUM_FILE
    if not sums_path.is_file():
        return []
    sums = read_checksums(sums_path)
    wanted = sorted(sums) if names is None else list(names)
    present = [name for name in wanted if (directory / name).is_file()]
    unlisted = [name for name in present if name not in sums]
    if unlisted:
        warnings.warn(
            f"{len(unlisted)} file(s) of '{directory}' not listed in {CHECKSUM_FILE}, not "
            f"verified: {unlisted}.",
            stacklevel=2,
        )
    verified = []
    for name in present:
        if name not in sums:
            continue
        actual = sha256_file(directory / name)
        if actual != sums[name]:
            raise ValueError(
                f"Expected '{directory / name}' to have the SHA-256 listed in "
                f"'{sums_path}' ({sums[name]}), got {actual}: the file changed after it was "
                "fetched. Fetch it again (delete it and run `calstudy dataset fetch-paper`)."
            )
        verified.append(name)
    return verified


# ── import ───────────────────────────────────────────────────────────────────────────────────
def import_paper_csv(
    path: str | Path,
    *,
    dataset: str | None = None,
    space: Literal["tss", "sss"] | None = None,
    fidelity: str | None = None,
    accuracy_unit: Literal["auto", "fraction", "percent"] = "auto",
    created_at: str | None = None,
    require: Literal["key", "released"] = "key",
) -> pd.DataFrame:
    """Read one of the paper's CSVs as a frame of calstudy's schema.

    Parameters
    ----------
    path : str or pathlib.Path
        A CSV in the paper's format.
    dataset, space : str, keyword-only, optional
        Override what the file name (:data:`FILE_PATTERN`) implies; required when it does
        not match.
    fidelity : str, keyword-only, optional
        Defaults to :data:`PAPER_FIDELITY` of the space.
    accuracy_unit : {"auto", "fraction", "percent"}, keyword-only
        Unit of the file's accuracy columns: ``"auto"`` reads the file as percent when any
        accuracy exceeds 1; ``"fraction"`` (the released files' unit) refuses such a file.
    created_at : str, keyword-only, optional
        Timestamp of the rows; the time of the import by default.
    require : {"key", "released"}, keyword-only
        Columns the file must have: ``config`` and ``arch``, or every column each released
        file has (those of :func:`released_columns` except the AUROC and robustness ones).

    Returns
    -------
    pandas.DataFrame
        One row per CSV row with ``space``, ``arch``, ``arch_index`` (from ``config``),
        ``dataset``, ``seed`` (:data:`PAPER_SEED`), ``fidelity``, ``source = "paper-csv"``,
        ``status = "ok"``, ``created_at``, ``calstudy_version``, and every paper column
        whose name is in the schema. Validated with :func:`calstudy.schema.validate_table`.

    Warns
    -----
    UserWarning
        Listing columns that are not in the schema (they are dropped), and when accuracies
        are converted from percent.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Naming the file and the column: the dataset or space cannot be inferred, a required
        column is missing, a value is not numeric, ``config`` is not a unique non-negative
        integer, ``arch`` is empty or repeated, an accuracy lies outside [0, 1] (after the
        unit conversion).
    """
    from calstudy.schema import provenance

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Paper CSV '{path}' does not exist.")
    match = FILE_PATTERN.match(path.name)
    if match is not None:
        dataset = dataset or DATASET_NAMES[match["dataset"]]
        space = space or match["space"]  # type: ignore[assignment]
    if dataset is None or space is None:
        raise ValueError(
            f"Cannot infer dataset and space from the file name {path.name!r} (expected "
            "{cifar10,cifar100,ImageNet}_{tss,sss}.csv); pass `dataset=` and `space=`."
        )
    if space not in PAPER_FIDELITY:
        raise ValueError(f"Expected `space` to be 'tss' or 'sss', got {space!r}.")
    if require not in ("key", "released"):
        raise ValueError(f"Expected `require` to be 'key' or 'released', got {require!r}.")
    if accuracy_unit not in ("auto", "fraction", "percent"):
        raise ValueError(
            "Expected `accuracy_unit` to be 'auto', 'fraction' or 'percent', got "
            f"{accuracy_unit!r}."
        )
    frame = pd.read_csv(path, dtype={"arch": str})
    _check_columns(frame, name=path.name, require=require)
    unknown = [c for c in frame.columns if c not in SCHEMA.names and c not in _RENAMES]
    if unknown:
        warnings.warn(
            f"Paper CSV {path.name!r}: {len(unknown)} column(s) not in the schema, dropped: "
            f"{unknown}.",
            stacklevel=2,
        )
        frame = frame.drop(columns=unknown)
    frame = _numeric(frame, name=path.name)
    _check_keys(frame, name=path.name)
    frame = frame.rename(columns=_RENAMES)
    frame["arch_index"] = frame["arch_index"].astype("int64")
    frame = _to_fractions(frame, unit=accuracy_unit, name=path.name)
    stamp = utc_now() if created_at is None else created_at
    origin = provenance()
    constants = {
        "space": space,
        "dataset": dataset,
        "seed": PAPER_SEED,
        "fidelity": fidelity or PAPER_FIDELITY[space],
        "source": "paper-csv",
        "status": "ok",
        "created_at": stamp,
        "calstudy_version": origin["calstudy_version"],
        "git_commit": origin["git_commit"],
    }
    frame = pd.concat([frame, pd.DataFrame(constants, index=frame.index)], axis=1)
    # Round-trip through validation so callers get exactly what a Store would hold.
    validate_table(frame, where=f"paper CSV {path.name!r}")
    ordered = [c for c in SCHEMA.names if c in frame.columns]
    return frame.loc[:, ordered]


def import_paper_dir(
    directory: str | Path,
    *,
    accuracy_unit: Literal["auto", "fraction", "percent"] = "fraction",
) -> pd.DataFrame:
    """Import every paper CSV of a directory (those matching :data:`FILE_PATTERN`).

    Everything is checked before anything is returned, so a caller that writes the result
    (``calstudy dataset import-paper``) writes all of it or nothing: the files' SHA-256 sums
    against the directory's ``SHA256SUMS`` when there is one (:func:`verify_checksums`),
    each file as :func:`import_paper_csv` with ``require="released"``, and the files as a
    set: a ``config`` names the same ``arch`` in every file of a space, and an ``arch`` the
    same ``config``.

    Parameters
    ----------
    directory : str or pathlib.Path
        Directory holding some or all of the six released CSVs.
    accuracy_unit : {"auto", "fraction", "percent"}, keyword-only
        As in :func:`import_paper_csv`, decided per file. The released files hold fractions,
        so an accuracy above 1 is refused by default.

    Returns
    -------
    pandas.DataFrame
        The files' rows, concatenated in file-name order, sharing one ``created_at``.

    Warns
    -----
    UserWarning
        Naming the released files that are absent, and present files that ``SHA256SUMS``
        does not list.

    Raises
    ------
    FileNotFoundError
        If ``directory`` does not exist or holds no paper CSV.
    ValueError
        Naming the file (and column) at fault: a SHA-256 mismatch, a bad file (see
        :func:`import_paper_csv`), files that disagree on ``arch`` ↔ ``config``.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"Directory '{directory}' does not exist.")
    files = sorted(p for p in directory.iterdir() if FILE_PATTERN.match(p.name))
    if not files:
        raise FileNotFoundError(
            f"No paper CSV ({{cifar10,cifar100,ImageNet}}_{{tss,sss}}.csv) in '{directory}'."
        )
    absent = sorted(set(PAPER_FILES) - {p.name for p in files})
    if absent:
        warnings.warn(f"Paper CSV(s) absent from '{directory}': {absent}.", stacklevel=2)
    verify_checksums(directory, [p.name for p in files])
    stamp = utc_now()
    frames = {
        p.name: import_paper_csv(
            p, accuracy_unit=accuracy_unit, created_at=stamp, require="released"
        )
        for p in files
    }
    _check_agreement(frames)
    frame = pd.concat(list(frames.values()), ignore_index=True)
    return frame.loc[:, [c for c in SCHEMA.names if c in frame.columns]]


def _show(value: object) -> str:
    """A value as a message shows it: ``71.5``, ``'high'`` (not ``np.float64(71.5)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _line(frame: pd.DataFrame, position: int) -> str:
    """Where row `position` of a read CSV sits: its line in the file, and its config."""
    where = f"line {position + 2}"
    if "config" in frame.columns:
        config = frame["config"].iloc[position]
        if isinstance(config, (int, np.integer)) or (
            isinstance(config, float) and config.is_integer()
        ):
            where += f", config {int(config)}"
    return where


def _check_columns(frame: pd.DataFrame, *, name: str, require: str) -> None:
    duplicated = sorted(
        c
        for c in map(str, frame.columns)
        if re.fullmatch(r".+\.\d+", c) and c.rsplit(".", 1)[0] in frame.columns
    )
    if duplicated:  # pandas renames a repeated header `x` to `x.1`
        raise ValueError(
            f"Expected each column of paper CSV {name!r} once, got repeated header(s) read "
            f"as {duplicated}."
        )
    required = _KEY_COLUMNS if require == "key" else _core_columns()
    missing = [c for c in required if c not in frame.columns]
    if missing:
        what = (
            "every paper CSV has `config` and `arch`"
            if require == "key"
            else f"every released file has these {len(required)} columns"
        )
        raise ValueError(
            f"Expected paper CSV {name!r} to have column(s) {missing} ({what}), got a file "
            "without them."
        )


def _numeric(frame: pd.DataFrame, *, name: str) -> pd.DataFrame:
    """Check every column but ``arch`` is numeric; name the first bad value's column and line."""
    for column in frame.columns:
        if column == "arch" or pd.api.types.is_numeric_dtype(frame[column]):
            continue
        values = frame[column]
        numbers = pd.to_numeric(values, errors="coerce")
        bad = np.flatnonzero(values.notna().to_numpy() & numbers.isna().to_numpy())
        if len(bad):
            raise ValueError(
                f"Expected `{column}` in paper CSV {name!r} to be numeric, got "
                f"{_show(values.iloc[bad[0]])} ({_line(frame, int(bad[0]))}; {len(bad)} such "
                "value(s))."
            )
        frame = frame.assign(**{column: numbers.astype("float64")})
    return frame


def _check_keys(frame: pd.DataFrame, *, name: str) -> None:
    """``config``: unique non-negative integers; ``arch``: unique non-empty strings."""
    config = frame["config"].to_numpy(dtype="float64")
    bad = np.flatnonzero(~np.isfinite(config) | (config < 0) | (config != np.round(config)))
    if len(bad):
        raise ValueError(
            f"Expected `config` in paper CSV {name!r} to be a NATS-Bench index (an integer "
            f"≥ 0), got {_show(frame['config'].iloc[bad[0]])} (line {int(bad[0]) + 2})."
        )
    for column in ("config", "arch"):
        values = frame[column]
        if column == "arch":
            empty = np.flatnonzero(values.isna().to_numpy() | (values.str.strip() == ""))
            if len(empty):
                raise ValueError(
                    f"Expected `arch` in paper CSV {name!r} to name an architecture, got an "
                    f"empty value ({_line(frame, int(empty[0]))})."
                )
        repeated = np.flatnonzero(values.duplicated(keep=False).to_numpy())
        if len(repeated):
            first = values.iloc[repeated[0]]
            lines = [int(i) + 2 for i in repeated if values.iloc[i] == first]
            n_values = values.iloc[repeated].nunique()
            raise ValueError(
                f"Expected `{column}` in paper CSV {name!r} to be unique, got {_show(first)} on "
                f"lines {lines} ({n_values} repeated value(s))."
            )


def _check_agreement(frames: Mapping[str, pd.DataFrame]) -> None:
    """Within a space, every file maps ``config`` ↔ ``arch`` the same way."""
    for space in ("tss", "sss"):
        parts = [
            pd.DataFrame({"config": f["arch_index"], "arch": f["arch"], "file": name})
            for name, f in frames.items()
            if FILE_PATTERN.match(name)["space"] == space  # type: ignore[index]
        ]
        if len(parts) < 2:
            continue
        pairs = pd.concat(parts, ignore_index=True)
        distinct = pairs.drop_duplicates(["config", "arch"])
        for key, other in (("config", "arch"), ("arch", "config")):
            clash = distinct[distinct[key].duplicated(keep=False)]
            if clash.empty:
                continue
            first = clash[key].iloc[0]
            rows = pairs[pairs[key] == first].drop_duplicates(other)
            a, b = rows.iloc[0], rows.iloc[1]
            subject = f"config {first}" if key == "config" else f"arch {first!r}"
            raise ValueError(
                f"Expected `{other}` of {subject} to be the same in every {space.upper()} "
                f"paper CSV, got {_show(a[other])} in {a['file']!r} and {_show(b[other])} in "
                f"{b['file']!r} ({clash[key].nunique()} {key}(s) disagree)."
            )


def _to_fractions(
    frame: pd.DataFrame, *, unit: Literal["auto", "fraction", "percent"], name: str
) -> pd.DataFrame:
    """Express the accuracy columns of ``frame`` as fractions and check they lie in [0, 1]."""
    columns = [c for c in ACCURACY_COLUMNS if c in frame.columns]
    if not columns:
        return frame
    values = frame[columns]
    if unit == "auto":
        unit = "percent" if (values > 1).to_numpy().any() else "fraction"
        if unit == "percent":
            warnings.warn(
                f"Paper CSV {name!r}: accuracies exceed 1, read as percent and divided by 100 "
                f"({len(columns)} column(s)).",
                stacklevel=3,
            )
    scale = 100.0 if unit == "percent" else 1.0
    outside = (values < 0) | (values > scale)
    if outside.to_numpy().any():
        column = next(c for c in columns if outside[c].any())
        position = int(np.flatnonzero(outside[column].to_numpy())[0])
        value = values[column].iloc[position]
        config = frame["arch_index"].iloc[position]
        hint = (
            "; the released files hold fractions: if this file holds percent, pass "
            "accuracy_unit='percent' (--accuracy-unit percent)"
            if unit == "fraction" and value > 1
            else ""
        )
        raise ValueError(
            f"Expected `{column}` in paper CSV {name!r} to be "
            f"{'a percentage in [0, 100]' if unit == 'percent' else 'a fraction in [0, 1]'}, "
            f"got {_show(value)} (line {position + 2}, config {config}; "
            f"{int(outside.to_numpy().sum())} such value(s)){hint}."
        )
    if unit == "percent":
        frame = frame.copy()
        frame[columns] = frame[columns] / 100
    return frame


# ── generated files in the released format ───────────────────────────────────────────────────
@dataclass(frozen=True)
class _Profile:
    """A dataset's scale in the generated files (see :func:`write_release_sample`)."""

    classes: int
    n_test: int  # images behind the pre-scaling metrics (post: 80 % of them)
    acc: Mapping[str, tuple[float, float]]  # space -> (lowest, highest) accuracy of the curve
    ece: Mapping[str, float]  # space -> median pre-scaling miscalibration
    post_ece: float  # median post-scaling miscalibration, before the binning bias
    weights: tuple[float, float]  # loadings of the two architecture calibration factors
    size_slope: Mapping[str, float]  # space -> d log ECE / d (standardised size)
    ic: tuple[float, float]  # incorrect_confidence ≈ ic[0] + ic[1] · acc


_PROFILES: dict[str, _Profile] = {
    "cifar10": _Profile(
        classes=10,
        n_test=10_000,
        acc={"tss": (0.45, 0.948), "sss": (0.78, 0.935)},
        ece={"tss": 0.045, "sss": 0.04},
        post_ece=0.006,
        weights=(1.0, 0.1),
        size_slope={"tss": 0.10, "sss": 0.02},
        ic=(0.30, 0.50),
    ),
    "cifar100": _Profile(
        classes=100,
        n_test=10_000,
        acc={"tss": (0.15, 0.735), "sss": (0.45, 0.715)},
        ece={"tss": 0.07, "sss": 0.04},
        post_ece=0.009,
        weights=(0.55, 0.85),
        size_slope={"tss": 0.15, "sss": 0.37},
        ic=(0.15, 0.60),
    ),
    "ImageNet": _Profile(
        classes=120,
        n_test=6_000,
        acc={"tss": (0.08, 0.475), "sss": (0.22, 0.465)},
        ece={"tss": 0.05, "sss": 0.034},
        post_ece=0.010,
        weights=(0.1, 1.0),
        size_slope={"tss": 0.15, "sss": 0.31},
        ic=(0.10, 0.55),
    ),
}
# Accuracy under each corruption relative to clean accuracy, for an average network.
_CORRUPTION_FACTORS: dict[str, float] = {
    "brightness": 0.93, "contrast": 0.55, "defocus_blur": 0.72, "elastic_transform": 0.78,
    "fog": 0.72, "frost": 0.62, "gaussian_noise": 0.38, "glass_blur": 0.52,
    "impulse_noise": 0.45, "jpeg_compression": 0.78, "motion_blur": 0.68, "pixelate": 0.66,
    "shot_noise": 0.45, "snow": 0.70, "zoom_blur": 0.70,
}  # fmt: skip
_ICC_NOISE = {"tss": 0.45, "sss": 0.30}  # per-string (per-file) noise of the quality factor


@dataclass(frozen=True)
class _Latents:
    """Architecture-level factors, one value per NATS index (shared by every dataset)."""

    quality: np.ndarray  # drives accuracy
    size: np.ndarray  # standardised capacity: bigger networks are more overconfident
    cal: tuple[np.ndarray, np.ndarray]  # two calibration factors, mixed per dataset
    robust: np.ndarray  # robustness beyond accuracy
    post: np.ndarray  # what temperature scaling leaves over
    dead: np.ndarray  # TSS cells whose output does not depend on the input


def _standardise(x: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
    ref = x if where is None else x[where]
    sd = ref.std()
    return (x - ref.mean()) / (sd if sd > 0 else 1.0)


@functools.cache
def _tss_classes() -> tuple[np.ndarray, np.ndarray]:
    """Isomorphism class of each TSS string in NATS order, and each class's representative ops.

    Returns ``(class_of, ops)``: ``class_of[i]`` is the class of NATS index ``i``;
    ``ops[k]`` the operation indices (into :data:`calstudy.space.TSS_OPS`) of class ``k``'s
    :func:`calstudy.space.canonical_tss` representative.
    """
    ids: dict[str, int] = {}
    class_of = np.array(
        [ids.setdefault(canonical_tss(a), len(ids)) for a in nats_archs("tss")], dtype=np.int64
    )
    op_index = {op: i for i, op in enumerate(TSS_OPS)}
    ops = np.array([[op_index[op] for op in parse_tss(rep)] for rep in ids], dtype=np.int64)
    return class_of, ops


def _tss_latents(rng: np.random.Generator) -> _Latents:
    """Factors of the TSS cells: one draw per isomorphism class, shared by its strings."""
    class_of, ops = _tss_classes()
    none, skip, pool = (TSS_OPS.index(op) for op in ("none", "skip_connect", "avg_pool_3x3"))
    conv1, conv3 = TSS_OPS.index("nor_conv_1x1"), TSS_OPS.index("nor_conv_3x3")
    live = ops != none
    conv = (ops == conv1) | (ops == conv3)
    # Nodes reachable from the input along non-none edges (edges 1←0, 2←0, 2←1, 3←0, 3←1, 3←2).
    r1 = live[:, 0]
    r2 = live[:, 1] | (r1 & live[:, 2])
    r3 = live[:, 3] | (r1 & live[:, 4]) | (r2 & live[:, 5])
    d1 = np.where(r1, conv[:, 0], 0)
    d2 = np.maximum(
        np.where(live[:, 1], conv[:, 1], 0), np.where(r1 & live[:, 2], d1 + conv[:, 2], 0)
    )
    depth = np.maximum.reduce([
        np.where(live[:, 3], conv[:, 3], 0),
        np.where(r1 & live[:, 4], d1 + conv[:, 4], 0),
        np.where(r2 & live[:, 5], d2 + conv[:, 5], 0),
    ])  # fmt: skip
    weights = 9.0 * (ops == conv3).sum(1) + (ops == conv1).sum(1)
    raw = (
        0.55 * np.log1p(weights)
        + 0.35 * depth
        + 0.25 * (ops[:, 3] == skip)
        - 0.15 * (ops == pool).sum(1)
    )
    dead = ~r3
    n = len(ops)
    quality = 0.85 * _standardise(raw, ~dead) + 0.5 * rng.standard_normal(n)
    size = _standardise(np.log1p(weights) + 0.3 * depth, ~dead)
    factors = rng.standard_normal((4, n))
    return _Latents(
        quality=quality[class_of],
        size=size[class_of],
        cal=(factors[0][class_of], factors[1][class_of]),
        robust=factors[2][class_of],
        post=factors[3][class_of],
        dead=dead[class_of],
    )


def _sss_latents(rng: np.random.Generator) -> _Latents:
    """Factors of the SSS width strings (NATS order = product order of the widths)."""
    widths = np.array(list(itertools.product(range(1, 9), repeat=5)), dtype=np.float64) * 8
    n = len(widths)
    capacity = np.log2(widths / 8) @ np.array([0.10, 0.15, 0.20, 0.25, 0.30])
    factors = rng.standard_normal((5, n))
    return _Latents(
        quality=_standardise(_standardise(capacity) + 0.45 * factors[4]),
        size=_standardise(widths.sum(1)),
        cal=(factors[0], factors[1]),
        robust=factors[2],
        post=factors[3],
        dead=np.zeros(n, dtype=bool),
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _epsilon(column: str) -> float:
    """ε (in 1/255 units) of an attack column: ``pgd_Linf_acc0_5`` → 0.5."""
    return float(column.rsplit("acc", 1)[1].replace("_", "."))


def _noise(rng: np.random.Generator, rows: np.ndarray, total: int) -> Callable[..., np.ndarray]:
    """Standard normal draws for `rows` of a space of `total` architectures.

    Every call draws values for all `total` architectures and keeps `rows`, so a row's
    values do not depend on which other rows are written.
    """

    def z(*shape: int) -> np.ndarray:
        return rng.standard_normal((total, *shape))[rows]

    return z


def _take(lat: _Latents, rows: np.ndarray) -> _Latents:
    return _Latents(
        quality=lat.quality[rows],
        size=lat.size[rows],
        cal=(lat.cal[0][rows], lat.cal[1][rows]),
        robust=lat.robust[rows],
        post=lat.post[rows],
        dead=lat.dead[rows],
    )


def _release_values(
    dataset: str, space: str, lat: _Latents, rng: np.random.Generator, rows: np.ndarray
) -> dict[str, np.ndarray]:
    """Every value column of one generated file, for the architectures `rows` of `space`."""
    p = _PROFILES[dataset]
    z = _noise(rng, rows, len(lat.quality))
    lat = _take(lat, rows)
    K = p.classes
    chance = 1.0 / K

    dead = lat.dead
    quality = lat.quality + _ICC_NOISE[space] * z()
    lo, hi = p.acc[space]
    acc = lo + (hi - lo) * _sigmoid(2.0 + 1.1 * quality)
    acc = np.round(np.where(dead, chance + 0.002 * np.abs(z()), acc), 4)

    # Pre-scaling miscalibration: size and two architecture factors, mixed per dataset (so
    # that datasets agree only in part), high-accuracy networks a little better calibrated.
    w1, w2 = p.weights
    cal = (w1 * lat.cal[0] + w2 * lat.cal[1]) / math.hypot(w1, w2)
    log_m = (
        math.log(p.ece[space])
        + p.size_slope[space] * lat.size
        + 0.4 * cal
        - 0.35 * np.maximum(quality - 1.0, 0.0)
        + 0.3 * z()
    )
    m = np.where(dead, 0.004 * np.exp(0.3 * z()), np.exp(log_m))
    # What temperature scaling leaves: unrelated to m, so τ(pre, post) ≈ 0 as in the paper.
    pm = p.post_ece * np.exp(0.45 * lat.post + 0.35 * z())
    spread = acc * (1 - acc)
    n_pre, n_post = p.n_test, int(0.8 * p.n_test)

    def bias(bins: int, n_eval: int, scale: float) -> np.ndarray:
        """Finite-sample bias of a binned estimator: grows as sqrt(bins / n)."""
        return scale * np.sqrt(bins * spread / n_eval)

    cw = m * 2.0 / K**0.6 * np.exp(0.2 * z())
    pcw = pm * 2.0 / K**0.6 * np.exp(0.3 * z())
    cw_em, pcw_em = cw * 0.8 * np.exp(0.7 * z()), pcw * 0.8 * np.exp(0.7 * z())
    out: dict[str, np.ndarray] = {"acc": acc}
    for bins in BIN_COUNTS:
        grow = 1 + 0.03 * math.log(bins / 5)
        # Confidences before scaling crowd near 1 (few occupied bins): a smaller bias.
        b, pb = bias(bins, n_pre, 0.35), bias(bins, n_post, 0.62)
        cwb = 0.6 * math.sqrt(bins / (n_pre * K))
        pcwb = 0.6 * math.sqrt(bins / (n_post * K))
        ece = np.hypot(m * grow, b) * np.exp(0.04 * z())
        post_ece = np.hypot(pm * grow, pb) * np.exp(0.08 * z())
        out[f"pre_ECE_{bins}"], out[f"post_ECE_{bins}"] = ece, post_ece
        out[f"pre_ECE_em_{bins}"] = np.hypot(m * grow, 0.9 * b) * np.exp(0.03 * z())
        out[f"post_ECE_em_{bins}"] = np.hypot(pm * grow, 0.9 * pb) * np.exp(0.1 * z())
        out[f"pre_cwCE_{bins}"] = np.hypot(cw * grow, cwb) * np.exp(0.05 * z())
        out[f"post_cwCE_{bins}"] = np.hypot(pcw * grow, pcwb) * np.exp(0.08 * z())
        out[f"pre_cwCE_em_{bins}"] = np.hypot(cw_em * grow, 0.9 * cwb) * np.exp(0.06 * z())
        out[f"post_cwCE_em_{bins}"] = np.hypot(pcw_em * grow, 0.9 * pcwb) * np.exp(0.08 * z())
        stretch = 1.5 + 0.5 * math.log(bins)
        out[f"pre_MCE_{bins}"] = np.minimum(1.0, ece * stretch * np.exp(0.25 * z()))
        out[f"post_MCE_{bins}"] = np.minimum(1.0, post_ece * stretch * np.exp(0.25 * z()))
    out["pre_KSCE"], out["post_KSCE"] = m * 0.97 * np.exp(0.04 * z()), pm * 0.9 * np.exp(0.15 * z())
    out["pre_KDECE"] = np.hypot(m, 0.008) * np.exp(0.08 * z())
    out["post_KDECE"] = np.hypot(pm, 0.008) * np.exp(0.15 * z())
    out["pre_MMCE"], out["post_MMCE"] = 0.75 * m * np.exp(0.12 * z()), 0.75 * pm * np.exp(0.3 * z())
    shared = np.exp(0.03 * z())
    nll = 1.1 * -np.log(acc) + 0.6 * (1 - acc) * math.log(K)
    nll = np.where(dead, math.log(K), nll) * shared
    out["pre_NLL"], out["post_NLL"] = nll + 2.5 * m, nll + 0.5 * pm
    brier = np.where(dead, 1 - chance, 1.15 * (1 - acc) * (1 - 0.3 * (1 - acc))) * shared
    out["pre_Brier"], out["post_Brier"] = brier + 1.5 * m**2, brier + 0.5 * pm**2

    # Mean confidence = acc + signed miscalibration (5 % of networks underconfident).
    over = m * (0.9 + 0.1 * z()) * np.where(z() < -1.645, -0.5, 1.0)
    mean_conf = np.clip(acc + over, chance, 0.999)
    wrong = np.clip(p.ic[0] + p.ic[1] * acc + 0.03 * z(), chance, 0.97)
    right = np.clip((mean_conf - (1 - acc) * wrong) / acc, wrong, 0.999)
    wrong = np.where(dead, chance + 0.01 * np.abs(z()), wrong)
    right = np.where(dead, wrong + 0.01 * np.abs(z()), right)
    out["correct_confidence"], out["incorrect_confidence"] = np.round(right, 3), np.round(wrong, 3)

    # Out-of-distribution AUROC: a little accuracy, no calibration (τ with ECE ≈ 0).
    out["pre_auc_cifar10c"] = np.where(
        dead, 0.5 + 0.01 * z(), 0.5 + 0.3 * _sigmoid(0.3 * quality + 0.8 * z())
    )
    out["pre_auc_svhn"] = np.where(
        dead, 0.5 + 0.01 * z(), 0.55 + 0.4 * _sigmoid(0.2 * quality + 0.9 * z())
    )
    if space == "tss":
        out.update(_robustness_values(acc, lat, z, chance=chance))
    return out


def _robustness_values(
    acc: np.ndarray, lat: _Latents, z: Callable[..., np.ndarray], *, chance: float
) -> dict[str, np.ndarray]:
    """Attack accuracies (non-increasing in ε) and corruption accuracies (3 decimals)."""
    robust = 0.6 * lat.robust + 0.3 * lat.cal[0] + 0.4 * z()
    scale = np.exp(0.35 * robust)[:, None]  # ε (1/255) at which accuracy falls to 1/e
    floor = (chance * (1 + 0.5 * np.abs(z())))[:, None]
    top = acc[:, None]
    out: dict[str, np.ndarray] = {}
    curves = {
        "fgsm": lambda e: floor + (top - floor) * np.exp(-((e / scale) ** 0.9)),
        "pgd": lambda e: top * np.exp(-((e / (0.6 * scale)) ** 1.2)),
        "aa_apgd_ce": lambda e: top * np.exp(-((e / (0.6 * scale)) ** 1.2) - 0.05 * e / scale),
        "aa_square": lambda e: top * np.exp(-((e / (1.5 * scale)) ** 1.1)),
    }
    for attack, curve in curves.items():
        columns = [c for c in ATTACK_COLUMNS if c.startswith(f"{attack}_Linf_acc")]
        eps = np.array([_epsilon(c) for c in columns])
        values = curve(eps[None, :]) * np.exp(0.03 * z(len(eps)))
        values = np.round(np.clip(np.minimum.accumulate(values, axis=1), 0.0, top), 4)
        out.update(zip(columns, values.T, strict=True))
    for corruption in CORRUPTIONS:
        power = np.exp(-0.3 * (0.7 * robust + 0.5 * z()))
        value = acc * _CORRUPTION_FACTORS[corruption] ** power
        out[corruption] = np.round(np.clip(value, np.minimum(chance, acc), acc), 3)
    return out


def _write_csv(path: Path, columns: Sequence[str], data: Mapping[str, np.ndarray]) -> None:
    """Write `data` as a CSV as pandas' ``to_csv`` does (unquoted header, ``0.0`` for a
    whole-number float), atomically (:func:`calstudy.files.atomic_write`)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    arrays = {}
    for column in columns:
        values = data[column]
        array = pa.array(values)
        if values.dtype.kind == "f" and np.any(values == np.floor(values)):
            # Arrow writes 0.0 as "0"; pandas (hence the released files) as "0.0".
            text = pc.cast(array, pa.string())
            array = pc.replace_substring_regex(text, pattern=r"^(-?\d+)$", replacement=r"\1.0")
        arrays[column] = array
    table = pa.table(arrays)

    def write(f: IO[bytes]) -> None:
        f.write((",".join(columns) + "\n").encode())
        pacsv.write_csv(table, f, pacsv.WriteOptions(include_header=False, quoting_style="none"))

    atomic_write(path, write)


def write_release_sample(
    out_dir: str | Path,
    *,
    n_tss: int = NATS_SIZES["tss"],
    n_sss: int = NATS_SIZES["sss"],
    datasets: Sequence[str] = tuple(DATASET_NAMES),
    seed: int = 0,
    checksums: bool = False,
) -> list[Path]:
    """Write generated CSVs in the exact format of the paper's release.

    The format is the released one: the columns of :func:`released_columns` in their order
    (SSS files without the robustness columns); ``config`` the NATS-Bench index and ``arch``
    its string in NATS-Bench's own order (:func:`nats_archs`, not lexicographic), the same
    pairs in every dataset's file; rows sorted by ``config``; accuracies as fractions with 4
    decimals, confidences with 3, corruption accuracies rounded to 3 decimals, attack
    accuracies with 4, calibration columns at full precision; an unquoted header. With
    ``n_tss``/``n_sss`` below the space's size, a seeded subset of the architectures
    (the same in every dataset) is written, and each row is the row the full release of
    the same ``seed`` holds.

    The values are **not** the paper's measurements. They come from a seeded model chosen so
    that each chapter of the book has structure to find:

    * accuracy rises with an architecture factor (TSS: convolutions, their depth, a
      skip 0→3; SSS: width, later layers weighted more) and ranges per dataset as in
      NATS-Bench; TSS cells whose output ignores the input sit at chance;
    * pre-scaling miscalibration ``m`` grows with size (SSS CIFAR-100 strongly, SSS
      CIFAR-10 hardly) and with two architecture factors mixed per dataset (CIFAR-10 and
      ImageNet16-120 share least), and falls a little among the most accurate networks;
    * a binned estimator is ``sqrt(m² + bias²)`` with a bias ``0.8·sqrt(n_bins·acc(1−acc)/n)``
      that grows with the bin count, so ECE families are monotone-ish in the bin count and
      agree closely (ECE, ECE_em, KSCE) or loosely (cwCE_em); post-scaling columns keep an
      independent residual plus the bias on the 80 % evaluation split, so τ(pre, post) ≈ 0;
    * NLL and Brier follow accuracy plus the miscalibration; the two AUROC columns follow
      accuracy only; attack accuracies fall with ε (PGD and APGD-CE to about 0, FGSM to a
      floor, Square slowest) and corruption accuracies are fractions of clean accuracy,
      with a robustness factor related to the CIFAR-10 calibration factor.

    TSS strings of one isomorphism class (:func:`calstudy.space.canonical_tss`) share every
    architecture factor and differ by per-string noise (independent in every file), so an
    intraclass correlation across isomorphic strings is measurable.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Directory to write to (created).
    n_tss, n_sss : int, keyword-only
        Rows per TSS / SSS file, 0 … 15,625 / 32,768; 0 writes no file of that space.
    datasets : sequence of str, keyword-only
        File-name datasets, keys of :data:`DATASET_NAMES`.
    seed : int, keyword-only
        Seed of every draw; the same seed writes the same bytes.
    checksums : bool, keyword-only
        Also record the files' SHA-256 sums in ``out_dir/SHA256SUMS`` (merged with the
        sums already there).

    Returns
    -------
    list of pathlib.Path
        The files written, dataset by dataset, TSS before SSS. Each is written to a
        temporary file and renamed into place.

    References
    ----------
    .. [1] L. Tao, Y. Zhu, H. Guo, M. Dong, C. Xu, "A Benchmark Study on Calibration",
       ICLR 2024.
    .. [2] X. Dong, L. Liu, K. Musial, B. Gabrys, "NATS-Bench: Benchmarking NAS Algorithms
       for Architecture Topology and Size", IEEE TPAMI, 2021.

    Examples
    --------
    >>> import tempfile
    >>> paths = write_release_sample(tempfile.mkdtemp(), n_tss=20, n_sss=30, datasets=["cifar10"])
    >>> [p.name for p in paths]
    ['cifar10_tss.csv', 'cifar10_sss.csv']
    """
    sizes = {"tss": n_tss, "sss": n_sss}
    for space, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
            raise ValueError(f"Expected `n_{space}` to be an integer, got {size!r}.")
        if not 0 <= size <= NATS_SIZES[space]:
            raise ValueError(f"Expected `n_{space}` to be in [0, {NATS_SIZES[space]}], got {size}.")
    datasets = [datasets] if isinstance(datasets, str) else list(datasets)
    unknown = [d for d in datasets if d not in DATASET_NAMES]
    if unknown or not datasets or len(set(datasets)) != len(datasets):
        raise ValueError(
            f"Expected `datasets` to be distinct names from {list(DATASET_NAMES)}, got "
            f"{datasets!r}."
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"Expected `seed` to be a non-negative integer, got {seed!r}.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    space_ids = {"tss": 0, "sss": 1}
    jobs: list[tuple[Path, list[str], dict[str, np.ndarray]]] = []
    for space in ("tss", "sss"):
        if sizes[space] == 0:
            continue
        total = NATS_SIZES[space]
        make = _tss_latents if space == "tss" else _sss_latents
        latents = make(np.random.default_rng([seed, 1, space_ids[space]]))
        rows = np.arange(total)
        if sizes[space] < total:
            pick = np.random.default_rng([seed, 2, space_ids[space]])
            rows = np.sort(pick.choice(total, sizes[space], replace=False))
        archs = nats_archs(space)
        keys = {"config": rows, "arch": np.array([archs[i] for i in rows], dtype=object)}
        columns = released_columns(space)  # type: ignore[arg-type]
        for dataset in datasets:
            rng = np.random.default_rng(
                [seed, 3, list(DATASET_NAMES).index(dataset), space_ids[space]]
            )
            values = _release_values(dataset, space, latents, rng, rows)
            jobs.append((out_dir / f"{dataset}_{space}.csv", columns, {**keys, **values}))
    # Formatting floats is most of the time; Arrow releases the GIL, so write files in parallel.
    with ThreadPoolExecutor(max_workers=max(1, min(len(jobs), os.cpu_count() or 1))) as pool:
        list(pool.map(lambda job: _write_csv(*job), jobs))
    written = [path for path, _, _ in jobs]
    order = {name: i for i, name in enumerate(PAPER_FILES)}
    written.sort(key=lambda p: order[p.name])
    if checksums:
        sums_path = out_dir / CHECKSUM_FILE
        sums = read_checksums(sums_path) if sums_path.is_file() else {}
        sums.update({p.name: sha256_file(p) for p in written})
        write_checksums(sums_path, sums)
    return written
