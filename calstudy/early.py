"""Early-training signals: how calibrated is a network after its first epochs?

Zero-cost proxies look at a network before it has seen a single gradient step. The next cheapest
signal about its calibration after training is the start of its own training run.
:func:`early_signals` trains an architecture exactly as a sweep does (same initialisation seed,
skeleton, training images, batch order seed and cosine schedule of ``config.epochs`` epochs) but
stops after the first ``epochs`` of them. After each epoch it measures the network on
*validation images*: training images of the dataset that the sweep's training subset leaves
out (:func:`validation_split`), so neither the images the network trains on nor the test images
on which the study's metrics are measured are used.

Per epoch ``e`` a row holds ``early_ece_e{e}`` (ECE, 15 equal-width bins), ``early_nll_e{e}``,
``early_acc_e{e}``, ``early_conf_e{e}`` (mean confidence), ``early_gap_e{e}`` (mean confidence
minus accuracy: positive when over-confident) and ``early_train_loss_e{e}`` /
``early_train_acc_e{e}`` (running means over that epoch's batches).

:func:`run_early_signals` does this for many architectures into a directory of Parquet files,
one per worker, rewritten atomically after every network; a rerun skips the networks already
there, so a killed run resumes. :func:`load_early_signals` reads the directory back.
``calstudy early`` is the command line::

    calstudy early --preset demo --space tss --dataset cifar10 --epochs 2 --out data/demo/early

**Checksums.** A file is rewritten in place under its fixed name as a run resumes, so its
checksum cannot live in its name (as a store shard's does): it lives inside the file, written
by the same atomic rename as the values. The writer computes the SHA-256 of the table's
canonical content (column names and Arrow types, validity and value bytes of every column, the
pandas metadata that turns it into a frame: nothing that depends on how Parquet laid it out)
and stores it in the file's key-value metadata under :data:`CHECKSUM_KEY`; data pages also
carry Parquet's CRC-32 page checksums. Every read verifies the page checksums, recomputes the
SHA-256 from the values read and refuses a mismatch, a file that is not Parquet or whose
footer does not parse, and metadata calstudy never writes, with
:class:`CorruptEarlyFileError` (a :class:`calstudy.store.CorruptShardError`) naming the file:
a damaged file is refused, never read as values. On top of that every row must hold what a
measurement writes (known names, value ranges, accuracy a multiple of ``1/n_val``,
``gap = conf - acc``). Files written before checksums existed are read with one
:class:`LegacyEarlyFileWarning` per read, checked by values alone; :func:`migrate` adds the
checksum to them, once, their values unchanged.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from calstudy._checks import check_positive_int
from calstudy.files import atomic_write_bytes
from calstudy.store import CorruptShardError, LegacyShardWarning

if TYPE_CHECKING:
    from calstudy.data import ImageDataset
    from calstudy.sweep import SweepConfig

__all__ = [
    "SIGNALS",
    "KEY",
    "CHECKSUM_KEY",
    "CorruptEarlyFileError",
    "LegacyEarlyFileWarning",
    "migrate",
    "seed_reliability",
    "validation_split",
    "early_signals",
    "run_early_signals",
    "load_early_signals",
    "signal_columns",
    "split_column",
    "signals_for",
    "add_cli",
]

SIGNALS = ("ece", "nll", "acc", "conf", "gap", "train_loss", "train_acc")
"""What is recorded after each epoch; columns are ``early_<signal>_e<epoch>``."""

KEY = ("space", "arch", "dataset", "seed", "fidelity", "schedule_epochs", "n_val")
"""Columns that identify a measurement: the sweep network (``fidelity`` is the sweep's), the
length of the cosine schedule whose first epochs were trained, and the validation images."""

CHECKSUM_KEY = "calstudy.sha256"
"""Key of the Parquet key-value metadata that holds the SHA-256 (64 hex digits) of a file's
canonical content (see the module's *Checksums*)."""

_FILES = "early-*.parquet"
_MAGIC = b"PAR1"
_CONTENT_VERSION = b"calstudy early-signal table, canonical content v1\n"
# What the key-value metadata of a file calstudy wrote may hold: pandas' and Arrow's schema
# (written by every version) and, since files carry one, the checksum.
_KNOWN_METADATA = {b"pandas", b"ARROW:schema", CHECKSUM_KEY.encode()}
_REMAKE = (
    "Restore it (`git checkout` for committed data), or delete it and rerun `calstudy early` "
    "to remake its networks."
)
_COLUMN = re.compile(r"^early_(?P<signal>[a-z_]+)_e(?P<epoch>\d+)$")


def split_column(name: str) -> tuple[str, int]:
    """The signal and epoch of an ``early_<signal>_e<epoch>`` column name.

    Examples
    --------
    >>> split_column("early_train_loss_e3")
    ('train_loss', 3)
    """
    match = _COLUMN.match(str(name))
    if match is None or match["signal"] not in SIGNALS:
        raise ValueError(
            f"Expected an early_<signal>_e<epoch> column with a signal from {SIGNALS}, "
            f"got {name!r}."
        )
    return match["signal"], int(match["epoch"])


def signal_columns(frame: pd.DataFrame | Sequence[str], *, epoch: int | None = None) -> list[str]:
    """The ``early_<signal>_e<epoch>`` columns of `frame`, optionally of one epoch.

    Examples
    --------
    >>> signal_columns(["arch", "early_ece_e1", "early_acc_e1", "early_ece_e2"], epoch=1)
    ['early_ece_e1', 'early_acc_e1']
    """
    names = frame.columns if isinstance(frame, pd.DataFrame) else frame
    out = []
    for name in map(str, names):
        match = _COLUMN.match(name)
        if match and match["signal"] in SIGNALS and epoch in (None, split_column(name)[1]):
            out.append(name)
    return out


def validation_split(
    dataset: str, data_dir: str | os.PathLike[str] | None, *, n_train: int | None, n_val: int,
    seed: int = 0,
) -> ImageDataset:  # fmt: skip
    """The sweep's training data, with `n_val` images it does not train on as the test split.

    Parameters
    ----------
    dataset : str
        Dataset name, e.g. ``"cifar10"``.
    data_dir : path, optional
        Where its images are (None: ``$CALSTUDY_DATA`` or the sample shipped with calstudy).
    n_train : int
        Training images of the sweep (its ``n_train``); the rest of the training split is the
        pool the validation images are drawn from.
    n_val : int
        Validation images, class-stratified, drawn with `seed`.

    Returns
    -------
    ImageDataset
        Training split: exactly the images :func:`calstudy.sweep.run_one` trains on (same
        subset, same seed). Test split: the validation images, disjoint from it and from the
        dataset's test split.
    """
    from calstudy.data import load_dataset, stratified_indices
    from calstudy.sweep import default_data_dir

    if n_train is None:
        raise ValueError(
            "Expected a sweep with `n_train` set: with n_train=None every training image is "
            "trained on and none is left for validation."
        )
    n_val = check_positive_int(n_val, "n_val")
    full = load_dataset(dataset, data_dir if data_dir is not None else default_data_dir())
    train_idx, _ = full.subset_indices(n_train, None, seed=0)  # the sweep's subset seed
    pool = np.setdiff1d(np.arange(len(full.y_train)), train_idx)
    if n_val > len(pool):
        raise ValueError(
            f"Expected `n_val` ≤ {len(pool)}, the training images of {dataset} outside the "
            f"sweep's {n_train}, got {n_val}."
        )
    val_idx = pool[
        stratified_indices(full.y_train[pool], n_val, np.random.default_rng(seed), "n_val")
    ]
    return dataclasses.replace(
        full,
        x_train=full.x_train[train_idx],
        y_train=full.y_train[train_idx],
        x_test=full.x_train[val_idx],
        y_test=full.y_train[val_idx],
    )


def early_signals(
    space: str,
    arch: str,
    *,
    data: ImageDataset,
    config: SweepConfig,
    epochs: int,
    seed: int,
    schedule_epochs: int | None = None,
    device: str | None = None,
    cuda_graph: bool | Literal["auto"] = "auto",
) -> dict[str, Any]:
    """Train the first `epochs` epochs of one sweep network and measure it after each.

    Parameters
    ----------
    space, arch : str
        The architecture.
    data : ImageDataset
        From :func:`validation_split`: trained on its training split, measured on its test
        split (the validation images).
    config : SweepConfig
        The sweep whose network this is (``C``, ``N`` and the schedule length ``epochs``).
    epochs : int
        Epochs to train, at most `schedule_epochs`.
    seed : int
        The job's seed (initialisation and batch order, as in the sweep).
    schedule_epochs : int, optional
        Period of the cosine learning-rate schedule. None: the sweep's ``config.epochs``, so the
        network is the start of the sweep's own run; ``epochs``: a short run of its own whose
        learning rate anneals within the epochs trained (a low-fidelity run).
    device : str, optional
        ``"cpu"``, ``"cuda"``…; None: CUDA when available.
    cuda_graph : bool or "auto"
        Replay the training steps from a CUDA graph (:class:`calstudy.train.TrainConfig`).

    Returns
    -------
    dict
        The key columns, one column per signal and epoch, ``device``, ``precision`` (of the
        training steps; the validation logits are computed in fp32) and ``seconds`` (wall time
        of the whole call, data loading excluded).
    """
    import torch

    from calstudy import metrics
    from calstudy.device import DeviceLoader, device_name, resolve_device
    from calstudy.models import build_network
    from calstudy.train import train

    schedule = config.epochs if schedule_epochs is None else schedule_epochs
    _check_epochs(epochs, schedule)
    start = time.perf_counter()
    torch.manual_seed(seed)  # the same initial weights as the sweep's network
    net = build_network(space, arch, num_classes=data.num_classes, C=config.C, N=config.N)
    labels = np.asarray(data.y_test)
    # On the device train() resolves and moves the network to.
    val = DeviceLoader(data.x_test, labels, batch_size=1024, mean=data.mean, std=data.std,
                       device=resolve_device(device))  # fmt: skip

    def measure(epoch: int, model: torch.nn.Module) -> dict[str, float]:
        logits = torch.cat([model(x).float() for x, _ in val]).cpu().numpy().astype(np.float64)
        if not np.isfinite(logits).all():
            raise FloatingPointError(f"Non-finite logits after epoch {epoch} of {arch!r}.")
        probs = metrics.to_probs(logits)
        acc = metrics.accuracy(probs, labels)
        conf = float(probs.max(axis=1).mean())
        values = {
            "ece": metrics.ece(probs, labels, n_bins=15),
            "nll": metrics.nll(probs, labels),
            "acc": acc,
            "conf": conf,
            "gap": conf - acc,
        }
        return {f"early_{k}_e{epoch}": float(v) for k, v in values.items()}

    result = train(
        net, data, epochs=schedule, stop_after=epochs, seed=seed, device=device,
        cuda_graph=cuda_graph, on_epoch=measure,
    )  # fmt: skip
    row: dict[str, Any] = {
        "space": space, "arch": arch, "dataset": data.name, "seed": int(seed),
        "fidelity": config.fidelity, "schedule_epochs": schedule,
    }  # fmt: skip
    for entry in result.history:
        e = int(entry["epoch"])
        row.update({k: v for k, v in entry.items() if k.startswith("early_")})
        row[f"early_train_loss_e{e}"] = float(entry["train_loss"])
        row[f"early_train_acc_e{e}"] = float(entry["train_acc"])
    row.update(
        n_val=len(labels),
        device=device_name(result.config.device),
        precision=result.config.precision,
        seconds=time.perf_counter() - start,
    )
    return row


class CorruptEarlyFileError(CorruptShardError):
    """An early-signal file that cannot be trusted, so no value of it is read.

    A :class:`calstudy.store.CorruptShardError` (and so a ValueError), raised by
    :func:`load_early_signals`, :func:`run_early_signals` and :func:`migrate`.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    kind : {"corrupt", "schema"}
        ``"corrupt"``: its bytes cannot be trusted (not Parquet, a footer that does not parse,
        a page checksum or the content SHA-256 that does not match, metadata calstudy never
        writes). ``"schema"``: it parses and matches, but holds values no measurement writes.
    reason : str
        What is wrong and what to do, without the file's name.
    """

    def __init__(self, path: Path, reason: str, *, kind: Literal["corrupt", "schema"] = "corrupt"):
        super().__init__(path, reason, kind=kind)
        what = "is corrupt" if kind == "corrupt" else "is damaged"
        self.args = (f"Early-signal file {self.path} {what}: {reason}",)


class LegacyEarlyFileWarning(LegacyShardWarning):
    """Early-signal files without a checksum (written before calstudy recorded one) were read,
    checked by their values alone; :func:`migrate` adds the checksum."""


def _read(path: Path) -> tuple[pd.DataFrame, bool]:
    """The rows of one early-signal file, and whether its checksum was verified (False: legacy)."""
    return _parse(path, path.read_bytes())


def _parse(path: Path, data: bytes) -> tuple[pd.DataFrame, bool]:
    """Decode the bytes `data` of early-signal file `path`, or raise CorruptEarlyFileError."""
    if len(data) < 12 or data[:4] != _MAGIC or data[-4:] != _MAGIC:
        raise CorruptEarlyFileError(
            path, f"not readable as Parquet (it does not start and end with {_MAGIC!r}: "
            f"truncated or damaged). {_REMAKE}",
        )  # fmt: skip
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data), page_checksum_verification=True)
        stored = dict(parquet.metadata.metadata or {})
        table = parquet.read()
    except Exception as error:  # pyarrow raises several types for a damaged file
        reason = f"not readable as Parquet ({type(error).__name__}: {error}). {_REMAKE}"
        raise CorruptEarlyFileError(path, reason) from error
    unknown = sorted(key.decode("utf-8", "replace") for key in set(stored) - _KNOWN_METADATA)
    if unknown:
        raise CorruptEarlyFileError(
            path, f"its Parquet key-value metadata holds key(s) {unknown} that calstudy never "
            f"writes (a damaged footer?). {_REMAKE}",
        )  # fmt: skip
    recorded = stored.get(CHECKSUM_KEY.encode())
    if recorded is not None:
        expected = recorded.decode("ascii", "replace")
        actual = _content_sha256(table)
        if actual != expected:
            raise CorruptEarlyFileError(
                path, f"expected its values to have the SHA-256 {expected[:16]}… recorded in it, "
                f"got {actual[:16]}…: the file changed after it was written (a disk, copy or "
                f"transfer error, or an edit). {_REMAKE}",
            )  # fmt: skip
    frame = table.to_pandas()
    missing = [c for c in KEY if c not in frame.columns]
    problem = f"it lacks the key column(s) {missing}" if missing else _damage(frame)
    if problem is not None:
        raise CorruptEarlyFileError(path, f"{problem}. {_REMAKE}", kind="schema")
    return frame, recorded is not None


def _content_sha256(table: pa.Table) -> str:
    """SHA-256 (hex) of the canonical content of `table`, however Parquet or Arrow laid it out.

    Hashed, each length-prefixed: the pandas metadata (it decides how the table becomes a
    frame), the row count and, per column in order, its name, Arrow type, validity bits and
    values (fixed-width numbers and booleans as little-endian bytes with nulls as 0, anything
    else as the JSON of its Python values). Chunking, buffer offsets, whatever lies under a null,
    compression and the rest of the file's metadata do not enter.
    """
    digest = hashlib.sha256(_CONTENT_VERSION)

    def put(chunk: bytes) -> None:
        digest.update(len(chunk).to_bytes(8, "little"))
        digest.update(chunk)

    put((table.schema.metadata or {}).get(b"pandas", b""))
    put(str(table.num_rows).encode())
    for field, column in zip(table.schema, table.columns, strict=True):
        array = column.combine_chunks()
        put(field.name.encode("utf-8", "surrogatepass"))
        put(str(field.type).encode())
        put(np.packbits(array.is_valid().to_numpy(zero_copy_only=False)).tobytes())
        kind = field.type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
            if array.null_count:
                array = array.fill_null(pa.scalar(False if pa.types.is_boolean(kind) else 0, kind))
            values = np.ascontiguousarray(array.to_numpy(zero_copy_only=False))
            put(values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes())
        else:
            put(json.dumps(array.to_pylist(), default=repr, ensure_ascii=False).encode())
    return digest.hexdigest()


def _damage(frame: pd.DataFrame) -> str | None:
    """What in an early-signal table no run of :func:`early_signals` writes, or None.

    Checked on every read, after the checksum (the only check a legacy file without one gets,
    and a second one for a writer's bug): known space, dataset and a parseable ``arch``; whole
    ``seed``, ``schedule_epochs`` and ``n_val``; known signal columns, each in its range;
    ``acc`` a multiple of ``1/n_val``, ``gap == conf - acc`` exactly and ``ece >= |gap|``.
    """
    from calstudy.data import DATASETS
    from calstudy.space import parse_sss, parse_tss

    if frame[list(KEY)].isna().any().any():
        return f"null key values in {frame[list(KEY)].isna().any().loc[lambda s: s].index.tolist()}"
    for column, allowed in (("space", {"tss", "sss"}), ("dataset", set(DATASETS))):
        bad = sorted(set(map(str, frame[column])) - allowed)
        if bad:
            return f"expected `{column}` in {sorted(allowed)}, got {bad}"
    for space, arch in zip(frame["space"], frame["arch"], strict=True):
        try:
            (parse_tss if space == "tss" else parse_sss)(str(arch))
        except ValueError as error:
            return str(error)
    for column, low in (("seed", -1), ("schedule_epochs", 1), ("n_val", 1)):
        if not pd.api.types.is_integer_dtype(frame[column]) or (frame[column] < low).any():
            return f"expected `{column}` to hold integers >= {low}, got {frame[column].tolist()}"
    ranges = {"ece": (0, 1), "acc": (0, 1), "conf": (0, 1), "train_acc": (0, 1),
              "gap": (-1, 1), "nll": (0, np.inf), "train_loss": (0, np.inf)}  # fmt: skip
    signals: dict[tuple[str, int], np.ndarray] = {}
    for column in frame.columns:
        if not str(column).startswith("early_"):
            continue
        try:
            signal, epoch = split_column(column)
        except ValueError as error:
            return str(error)
        values = frame[column]
        low, high = ranges[signal]
        array = (
            values.to_numpy(dtype=np.float64, na_value=np.nan)
            if pd.api.types.is_float_dtype(values)
            else None
        )
        present = None if array is None else array[~np.isnan(array)]
        if present is None or not ((present >= low) & (present <= high)).all():
            return f"expected `{column}` to be floats in [{low}, {high}], got {values.tolist()}"
        signals[signal, epoch] = array
    n_val = frame["n_val"].to_numpy(dtype=np.float64)
    for (signal, epoch), acc in signals.items():
        others = [signals.get((s, epoch)) for s in ("gap", "conf", "ece")]
        if signal != "acc" or any(o is None for o in others):
            continue
        gap, conf, ece = others
        measured = ~np.isnan(acc)
        if (~np.isnan(gap) | ~np.isnan(conf) | ~np.isnan(ece))[~measured].any():
            return f"`early_acc_e{epoch}` is null where epoch {epoch}'s other signals are not"
        acc, n, gap, conf, ece = (v[measured] for v in (acc, n_val, gap, conf, ece))
        if not (np.round(acc * n) / n == acc).all():
            return f"expected `early_acc_e{epoch}` to be a multiple of 1/n_val, got {acc.tolist()}"
        if not (conf - acc == gap).all() or not (ece >= np.abs(gap) - 1e-12).all():
            return f"expected gap = conf - acc <= ece at epoch {epoch}, got other values"
    return None


def load_early_signals(path: str | os.PathLike[str]) -> pd.DataFrame:
    """All early-signal rows under `path` (a directory of ``early-*.parquet`` files).

    Returns an empty frame with the key columns when the directory is missing or empty. A
    network measured twice (e.g. by two runs) keeps its latest row. A file whose bytes cannot
    be trusted (not Parquet, a page checksum or its content SHA-256 does not match) or that
    holds values no measurement writes raises :class:`CorruptEarlyFileError` naming it. Files
    without a checksum (written before calstudy recorded one) are read, checked by their
    values, with one :class:`LegacyEarlyFileWarning` naming how to :func:`migrate` them.
    """
    root = Path(path)
    files = sorted(root.glob(_FILES))
    if not files:
        return pd.DataFrame(columns=list(KEY))
    frames, legacy = [], []
    for file in files:
        frame, verified = _read(file)
        frames.append(frame)
        if not verified:
            legacy.append(file)
    if legacy:
        warnings.warn(
            f"{len(legacy)} early-signal file(s) in '{root}' carry no checksum (written before "
            f"calstudy recorded one), e.g. {legacy[0].name!r}, and were checked by their values "
            f"alone; `python -c \"from calstudy import early; early.migrate('{root}')\"` adds "
            "checksums, once (values unchanged). A rerun of `calstudy early` adds one to each "
            "file it writes.",
            LegacyEarlyFileWarning,
            stacklevel=2,
        )
    frame = pd.concat(frames, ignore_index=True)
    if "created_at" in frame.columns:
        frame = frame.sort_values("created_at", kind="stable")
    return frame.drop_duplicates(list(KEY), keep="last").reset_index(drop=True)


def migrate(directory: str | os.PathLike[str]) -> list[Path]:
    """Add checksums to the early-signal files in `directory` written before they carried one.

    Every ``early-*.parquet`` file is read first, as :func:`load_early_signals` reads it: one
    with a checksum must match it, one without (legacy) must be readable Parquet whose values
    pass the reader's checks. If any file fails, :class:`CorruptEarlyFileError` names it and
    nothing is rewritten. Then each legacy file is serialised anew with its checksum and page
    checksums, read back and compared with the values read before (exactly, NaNs included),
    and atomically replaced (temporary file, fsync, :func:`os.replace`): a file is either the
    old one or the new one, never half of each. Files that already carry a checksum are left
    as they are, so migrating twice changes nothing.

    Do not migrate a directory a ``calstudy early`` run is writing into: a file rewritten
    between being read and being replaced is detected (its bytes changed) and refused with a
    ValueError, but the check cannot cover the last instant before the rename.

    Parameters
    ----------
    directory : path
        A directory of early-signal files, e.g. ``data/demo/early``.

    Returns
    -------
    list of pathlib.Path
        The files rewritten with a checksum (empty when none lacked one).
    """
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"Expected a directory of early-signal files, got '{root}'.")
    legacy = []
    for path in sorted(root.glob(_FILES)):
        data = path.read_bytes()
        frame, verified = _parse(path, data)
        if not verified:
            legacy.append((path, data, frame))
    migrated = []
    for path, old, frame in legacy:
        new = _serialise(frame)
        again, verified = _parse(path, new)
        try:
            pd.testing.assert_frame_equal(again, frame, check_exact=True)
        except AssertionError as error:
            raise RuntimeError(
                f"Migrating {path} would change its values ({error}); it was left as it was."
            ) from error
        if not verified:
            raise RuntimeError(f"Migrating {path} wrote no checksum; it was left as it was.")
        if path.read_bytes() != old:
            raise ValueError(
                f"Early-signal file {path} changed while it was migrated (a `calstudy early` run "
                f"writing into '{root}'?); it was left as the run wrote it. Migrate again when "
                "no run writes there."
            )
        atomic_write_bytes(path, new)
        migrated.append(path)
    return migrated


def signals_for(
    signals: pd.DataFrame,
    *,
    space: str,
    dataset: str,
    fidelity: str,
    seed: int | Literal["all"] | None = None,
    schedule_epochs: int | None = None,
    n_val: int | None = None,
) -> pd.DataFrame:
    """The early signals of one sweep's networks: one row per architecture (and seed).

    Parameters
    ----------
    signals : DataFrame
        :func:`load_early_signals` rows.
    space, dataset, fidelity : str
        The sweep networks (``fidelity`` of their full runs).
    seed : int or "all", optional
        Which seed's runs; None: the only one present; ``"all"``: every seed's (then an
        architecture may have several rows, e.g. to measure seed noise).
    schedule_epochs : int, optional
        Which schedule; None: the only one present.
    n_val : int, optional
        Which validation set size; None: the only one present.

    Returns
    -------
    DataFrame
        Empty when the table holds none of these networks.

    Raises
    ------
    ValueError
        When several seeds, schedules or validation sizes are present and none was chosen.
    """
    if signals.empty:
        return signals
    rows = signals[
        (signals["space"] == space) & (signals["dataset"] == dataset)
        & (signals["fidelity"] == fidelity)
    ]  # fmt: skip
    for column, wanted in (("seed", seed), ("schedule_epochs", schedule_epochs), ("n_val", n_val)):
        if wanted == "all":
            continue
        present = sorted(rows[column].unique().tolist())
        if wanted is None and len(present) > 1:
            raise ValueError(
                f"Expected one {column} among the early signals of {space}/{dataset} or a "
                f"choice, got {present}."
            )
        if wanted is not None:
            rows = rows[rows[column] == wanted]
    return rows.reset_index(drop=True)


def seed_reliability(
    runs: pd.DataFrame,
    signals: Sequence[str] = ("ece", "acc", "nll"),
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """How much of each early signal the architecture decides, epoch by epoch.

    Seeds are crossed with architectures (a seed fixes the data order and augmentation of
    every network), so this is the consistency ICC of the two-way model
    (:func:`calstudy.seednoise.consistency_icc`): the correlation between two seeds' rankings
    of the same architectures.

    Parameters
    ----------
    runs : DataFrame
        :func:`signals_for` rows with ``seed="all"``: architectures trained with several seeds.
    signals : sequence of str
        Signal names (``early_<signal>_e<epoch>`` columns).
    level : float, default 0.95
        Confidence level of the intervals.

    Returns
    -------
    DataFrame
        One row per (signal, epoch): ``icc`` with ``low`` and ``high``, and ``n_archs``, the
        architectures measured with every seed.
    """
    from calstudy.analysis import consistency_icc

    by = [c for c in KEY if c != "seed"]
    rows = []
    for signal in signals:
        columns = [c for c in signal_columns(runs) if split_column(c)[0] == signal]
        if not columns:
            raise ValueError(f"Expected early_{signal}_e<epoch> columns in `runs`, got none.")
        for column in sorted(columns, key=lambda c: split_column(c)[1]):
            v = consistency_icc(runs, column, subject=by, rater="seed", level=level)
            rows.append(dict(signal=signal, epoch=split_column(column)[1], icc=v.icc,
                             low=v.low, high=v.high, n_archs=v.n_subjects))  # fmt: skip
    return pd.DataFrame(rows)


def _write(path: Path, frame: pd.DataFrame) -> None:
    """Write `frame` to `path` atomically, with its content SHA-256 and page checksums."""
    atomic_write_bytes(path, _serialise(frame))


def _serialise(frame: pd.DataFrame) -> bytes:
    """The Parquet bytes of `frame` with :data:`CHECKSUM_KEY` and page checksums, read back."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    digest = _content_sha256(table)
    metadata = {**(table.schema.metadata or {}), CHECKSUM_KEY.encode(): digest.encode()}
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(metadata), sink, write_page_checksum=True)
    data = sink.getvalue().to_pybytes()
    # The checksum must be what a reader recomputes from these bytes: check before publishing.
    reread = pq.ParquetFile(pa.BufferReader(data), page_checksum_verification=True).read()
    if _content_sha256(reread) != digest:
        raise RuntimeError(
            "Expected the early-signal table to read back with the content SHA-256 computed "
            "before writing it, got another: a column type whose canonical content is not "
            f"deterministic ({table.schema.types}). Nothing was written."
        )
    return data


def run_early_signals(
    out: str | os.PathLike[str],
    config: SweepConfig,
    *,
    space: str,
    dataset: str,
    epochs: int = 2,
    schedule_epochs: int | None = None,
    n_val: int = 2000,
    archs: Sequence[str] | None = None,
    seed: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    device: str | None = None,
    worker: tuple[int, int] = (0, 1),
    progress: bool = True,
    cuda_graph: bool | Literal["auto"] = "auto",
) -> pd.DataFrame:
    """Early signals of a sweep's networks into `out`, resuming what is already there.

    Parameters
    ----------
    out : path
        Directory of early-signal files (created if missing).
    config : SweepConfig
        The sweep whose networks are started (its architectures, skeleton, schedule, data).
    space, dataset : str
        Which of its networks.
    epochs : int, default 2
        Epochs trained per network.
    schedule_epochs : int, optional
        Cosine period (:func:`early_signals`); None: the sweep's ``config.epochs``.
    n_val : int, default 2000
        Validation images (:func:`validation_split`).
    archs : sequence of str, optional
        A subset of the sweep's architectures (default: all of `space`).
    seed : int, optional
        The sweep seed whose runs are started (default: its first).
    worker : (int, int), default (0, 1)
        ``(i, n)``: this process takes every n-th architecture starting at the i-th, so n
        processes split the work. Each writes its own file, named after what it measures
        (``early-{space}-{dataset}-seed{seed}-sched{schedule}-n{n_val}-w{i}of{n}.parquet``),
        so runs for other networks, seeds or schedules can share `out` at the same time.
    progress : bool, default True
        Show a progress bar over networks.
    cuda_graph : bool or "auto"
        Passed to :func:`early_signals`.

    Returns
    -------
    DataFrame
        Every row of `out` for the requested networks (old and new).
    """
    from calstudy.schema import utc_now
    from calstudy.sweep import resolve_archs

    if space not in config.archs:
        raise ValueError(
            f"Expected `space` among the sweep's spaces {sorted(config.archs)}, got {space!r}."
        )
    if dataset not in config.datasets:
        raise ValueError(
            f"Expected `dataset` among the sweep's {list(config.datasets)}, got {dataset!r}."
        )
    if config.source != "trained":
        raise ValueError(
            f"Expected a sweep that trains its networks, got source={config.source!r}: early "
            "signals start the sweep's own training runs."
        )
    i, n = worker
    if not (isinstance(i, int) and isinstance(n, int) and 0 <= i < n):
        raise ValueError(f"Expected `worker` (i, n) with 0 ≤ i < n, got {worker!r}.")
    seed = config.seeds[0] if seed is None else seed
    if seed not in config.seeds:
        raise ValueError(
            f"Expected `seed` among the sweep's seeds {list(config.seeds)}, got {seed!r}."
        )
    schedule = config.epochs if schedule_epochs is None else schedule_epochs
    _check_epochs(epochs, schedule)
    sweep_archs = resolve_archs(space, config.archs[space], seed=config.arch_seed)
    if archs is None:
        archs = sweep_archs
    else:
        if isinstance(archs, str):
            raise ValueError(
                f"Expected `archs` to be a sequence of strings, got the string {archs!r}."
            )
        unknown = sorted(set(archs) - set(sweep_archs))
        if unknown:
            raise ValueError(
                f"Expected architectures of the sweep, got {len(unknown)} others, e.g. {unknown[0]!r}."
            )
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    which = dict(space=space, dataset=dataset, fidelity=config.fidelity, seed=seed,
                 schedule_epochs=schedule, n_val=n_val)  # fmt: skip
    done = signals_for(load_early_signals(root), **which)
    last = f"early_ece_e{epochs}"  # a network measured for fewer epochs is measured again
    finished = set(done.loc[done[last].notna(), "arch"]) if last in done.columns else set()
    mine = [a for a in list(archs)[i::n] if a not in finished]
    if mine:
        # The same validation images for every seed: they are the instrument, not the run.
        data = validation_split(dataset, data_dir, n_train=config.n_train, n_val=n_val, seed=0)
        path = (
            root / f"early-{space}-{dataset}-seed{seed}-sched{schedule}-n{n_val}-w{i}of{n}.parquet"
        )
        rows = _read(path)[0] if path.exists() else pd.DataFrame()
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(mine), desc=f"early {space}/{dataset}", unit="net")
        for arch in mine:
            row = early_signals(
                space, arch, data=data, config=config,
                epochs=epochs, seed=seed, schedule_epochs=schedule, device=device,
                cuda_graph=cuda_graph,
            )  # fmt: skip
            row["created_at"] = utc_now()
            rows = pd.concat([rows, pd.DataFrame([row])], ignore_index=True)
            _write(path, rows)  # every network is kept at once: a killed run loses one at most
            if bar is not None:
                bar.update()
                bar.set_postfix(ece=f"{row[f'early_ece_e{epochs}']:.3f}", s=f"{row['seconds']:.0f}")
        if bar is not None:
            bar.close()
    frame = signals_for(load_early_signals(root), **which)
    return frame[frame["arch"].isin(list(archs))].reset_index(drop=True)


def _check_epochs(epochs: object, schedule: object) -> None:
    schedule = check_positive_int(schedule, "schedule_epochs")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= schedule:
        raise ValueError(
            f"Expected `epochs` to be an integer in [1, {schedule}] (the schedule's length), "
            f"got {epochs!r}."
        )


def _parse_worker(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if match is None or not int(match[1]) < int(match[2]):
        raise argparse.ArgumentTypeError(f"expected I/N with I < N, e.g. 0/2, got {text!r}")
    return int(match[1]), int(match[2])


def _cli(args: argparse.Namespace) -> int:
    from calstudy.sweep import SweepConfig, preset_config

    config = SweepConfig.from_yaml(args.config) if args.config else preset_config(args.preset)
    frame = run_early_signals(
        args.out, config, space=args.space, dataset=args.dataset, epochs=args.epochs,
        schedule_epochs=args.schedule_epochs,
        n_val=args.n_val, seed=args.seed, data_dir=args.data_dir, device=args.device,
        worker=args.worker, progress=not args.quiet,
        cuda_graph="auto" if args.cuda_graph else False,
    )  # fmt: skip
    print(f"{len(frame)} networks of {args.space}/{args.dataset} in {args.out}")
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Register ``calstudy early``."""
    parser = subparsers.add_parser(
        "early",
        help="measure a sweep's networks after their first epochs (resumable)",
        description="Train the first epochs of a sweep's networks and record their calibration "
        "on held-out training images; rerunning the same command resumes.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", help="the sweep preset whose networks are started")
    source.add_argument("--config", help="YAML file of the sweep's SweepConfig fields")
    parser.add_argument("--space", required=True, choices=("tss", "sss"))
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per network (default 2)")
    parser.add_argument(
        "--schedule-epochs", type=int,
        help="cosine period (default: the sweep's epochs, i.e. the start of its own run)",
    )  # fmt: skip
    parser.add_argument("--n-val", type=int, default=2000, help="validation images (default 2000)")
    parser.add_argument("--seed", type=int, help="sweep seed (default: the sweep's first)")
    parser.add_argument("--out", required=True, help="directory of early-signal files")
    parser.add_argument("--data-dir", help="dataset directory (default: $CALSTUDY_DATA or sample)")
    parser.add_argument("--device", help="cpu, cuda … (default: cuda if available)")
    parser.add_argument(
        "--worker", type=_parse_worker, default=(0, 1), metavar="I/N",
        help="take every N-th network from the I-th (run N processes to split the work)",
    )  # fmt: skip
    parser.add_argument(
        "--no-cuda-graph", dest="cuda_graph", action="store_false",
        help="run every training step eagerly (default: replay them from a CUDA graph on CUDA)",
    )  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=_cli)
