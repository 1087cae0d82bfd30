"""The calibration dataset's columns, defined once.

One row of the dataset is one evaluated network: an architecture (``arch``) of a NATS-Bench
search space trained on a dataset with a seed at a fidelity. Its columns fall into groups:

* **key** -- ``space, arch, dataset, seed, fidelity``: identify a row (:func:`key_of`);
* **identity** -- ``arch_index`` (NATS-Bench index when known) and ``source``;
* **features** -- architecture descriptors (operation counts, depth, width, size);
* **metrics** -- accuracy, confidences, the temperature, every calibration column of
  :func:`calstudy.catalogue.metric_columns`, other post-hoc calibrators;
* **robustness** -- the robustness columns under the exact names of the paper's released CSVs
  (Tao et al., 2024, after Jung et al., 2023);
* **split** -- how the test set was split for temperature scaling, so metrics can be recomputed;
* **provenance** -- code version, commit, device, timing, creation time, status.

:data:`SCHEMA` is the Arrow schema every shard of a :class:`calstudy.store.Store` is written
with; :func:`validate_record` and :func:`validate_table` check and coerce one record or a whole
frame against it.

References
----------
.. [1] L. Tao, Y. Zhu, H. Guo, M. Dong, C. Xu, "A Benchmark Study on Calibration", ICLR 2024.
.. [2] S. Jung, J. Lukasik, M. Keuper, "Neural Architecture Design and Robustness: A Dataset",
   ICLR 2023.
"""

from __future__ import annotations

import difflib
import functools
import math
import numbers
import subprocess
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from calstudy import __version__
from calstudy.catalogue import metric_columns
from calstudy.space import TSS_EDGES

__all__ = [
    "ACCURACY_COLUMNS",
    "ALLOWED_VALUES",
    "ATTACK_COLUMNS",
    "CORRUPTIONS",
    "FEATURE_COLUMNS",
    "GROUPS",
    "IDENTITY_COLUMNS",
    "KEY_COLUMNS",
    "METRIC_COLUMNS",
    "POSTHOC_COLUMNS",
    "PROVENANCE_COLUMNS",
    "REQUIRED_COLUMNS",
    "ROBUSTNESS_COLUMNS",
    "SCHEMA",
    "SPLIT_COLUMNS",
    "Key",
    "check_columns",
    "check_file_schema",
    "key_of",
    "provenance",
    "utc_now",
    "validate_record",
    "validate_table",
]

Key = tuple[str, str, str, int, str]
"""A row's key: ``(space, arch, dataset, seed, fidelity)``."""

_STR = pa.string()
_INT = pa.int64()
_FLOAT = pa.float64()
_BOOL = pa.bool_()

# ── key and identity ─────────────────────────────────────────────────────────────────────────
KEY_COLUMNS: tuple[str, ...] = ("space", "arch", "dataset", "seed", "fidelity")
IDENTITY_COLUMNS: dict[str, pa.DataType] = {
    "space": _STR,  # "tss" | "sss"
    "arch": _STR,  # NATS-Bench string: "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|" or "C0:C1:C2:C3:C4"
    "arch_index": _INT,  # NATS-Bench index, when a benchmark file was present
    "dataset": _STR,  # "cifar10" | "cifar100" | "imagenet16-120" | ...
    "seed": _INT,  # training seed (-1: not stated by the source)
    "fidelity": _STR,  # "ep12-C16N1-frac1.0", "nats-200", ...
    "source": _STR,  # "trained" | "nats-pretrained" | "paper-csv"
}

# ── architecture features (calstudy.space.tss_features / sss_features) ─────────────────────
FEATURE_COLUMNS: dict[str, pa.DataType] = {
    **{f"edge_{i}_{j}": _STR for i, j in TSS_EDGES},  # TSS: the operation on edge i <- j
    "connected": _BOOL,  # TSS: a path of non-none edges joins the cell's input and output
    **{f"c{i}": _INT for i in range(5)},  # SSS: the five channel counts
    "n_none": _INT,
    "n_skip_connect": _INT,
    "n_nor_conv_1x1": _INT,
    "n_nor_conv_3x3": _INT,
    "n_avg_pool_3x3": _INT,
    "skip_0_3": _BOOL,  # edge 0 -> 3 of the TSS cell is skip_connect
    "conv_depth": _INT,  # longest chain of convolutions through the cell
    "total_width": _INT,  # SSS: sum of the five channel counts
    "n_params": _INT,  # trainable parameters
    "flops": _FLOAT,  # multiply-accumulates of one forward pass on one image
}

# ── metrics ──────────────────────────────────────────────────────────────────────────────────
POSTHOC_METHODS: tuple[str, ...] = ("vs", "hist", "iso")  # vector scaling, histogram, isotonic
POSTHOC_COLUMNS: tuple[str, ...] = tuple(
    f"{method}_{metric}"
    for method in POSTHOC_METHODS
    for metric in ("ECE_15", "NLL", "Brier", "acc")
)
METRIC_COLUMNS: tuple[str, ...] = (
    "acc",
    "correct_confidence",
    "incorrect_confidence",
    "temperature",
    *metric_columns(),
    *POSTHOC_COLUMNS,
)

# ── robustness, named as in the paper's CSVs ─────────────────────────────────────────────────
_EPS_LONG = ("0_1", "0_5", "1_0", "2_0", "3_0", "4_0", "5_0", "6_0", "7_0", "8_0", "255_0")
_EPS_SHORT = ("0_1", "0_5", "1_0", "2_0", "3_0", "4_0", "8_0")
ATTACK_COLUMNS: tuple[str, ...] = (
    *(f"fgsm_Linf_acc{e}" for e in _EPS_LONG),
    *(f"pgd_Linf_acc{e}" for e in _EPS_LONG),
    *(f"aa_apgd_ce_Linf_acc{e}" for e in _EPS_SHORT),
    *(f"aa_square_Linf_acc{e}" for e in _EPS_SHORT),
)
"""Accuracy under L-infinity attacks; the suffix is epsilon in 1/255 units (``0_1`` = 0.1)."""
CORRUPTIONS: tuple[str, ...] = (
    "brightness",
    "contrast",
    "defocus_blur",
    "elastic_transform",
    "fog",
    "frost",
    "gaussian_noise",
    "glass_blur",
    "impulse_noise",
    "jpeg_compression",
    "motion_blur",
    "pixelate",
    "shot_noise",
    "snow",
    "zoom_blur",
)
"""The 15 CIFAR-10-C corruptions; each is also the name of its accuracy column."""
ROBUSTNESS_COLUMNS: dict[str, pa.DataType] = {
    "pre_auc_cifar10c": _FLOAT,  # AUROC clean vs Gaussian-noise CIFAR-10-C, by max-softmax
    "pre_auc_svhn": _FLOAT,  # AUROC clean vs SVHN
    "pre_auc_ood": _FLOAT,  # AUROC clean vs the out-of-distribution set named in ood_dataset
    "ood_dataset": _STR,
    **dict.fromkeys(ATTACK_COLUMNS, _FLOAT),
    **dict.fromkeys(CORRUPTIONS, _FLOAT),
}
ACCURACY_COLUMNS: tuple[str, ...] = (
    "acc",
    *(f"{method}_acc" for method in POSTHOC_METHODS),
    *ATTACK_COLUMNS,
    *CORRUPTIONS,
)
"""Columns holding an accuracy, as a fraction in [0, 1]."""

# ── temperature-scaling split ────────────────────────────────────────────────────────────────
SPLIT_COLUMNS: dict[str, pa.DataType] = {
    "heldout_frac": _FLOAT,  # fraction of the test set held out to fit post-hoc calibrators
    "split_seed": _INT,  # seed of that split, as passed to catalogue.full_record(seed=...)
    "n_heldout": _INT,  # test samples the calibrators were fitted on
    "n_eval": _INT,  # test samples the post_ columns were evaluated on
}

# ── provenance ───────────────────────────────────────────────────────────────────────────────
PROVENANCE_COLUMNS: dict[str, pa.DataType] = {
    "calstudy_version": _STR,
    "git_commit": _STR,
    "config_hash": _STR,
    "device": _STR,
    "torch_version": _STR,
    "wall_time_s": _FLOAT,  # the whole job
    "train_time_s": _FLOAT,
    "eval_time_s": _FLOAT,
    "created_at": _STR,  # UTC, ISO 8601, "YYYY-MM-DDTHH:MM:SS.ffffff+00:00": sorts as text
    "status": _STR,  # "ok" | "failed"
    "error": _STR,  # the exception of a failed job
}

GROUPS: dict[str, dict[str, pa.DataType]] = {
    "identity": IDENTITY_COLUMNS,
    "features": FEATURE_COLUMNS,
    "metrics": dict.fromkeys(METRIC_COLUMNS, _FLOAT),
    "robustness": ROBUSTNESS_COLUMNS,
    "split": SPLIT_COLUMNS,
    "provenance": PROVENANCE_COLUMNS,
}
"""Every column, by group, with its Arrow type."""


def _build_schema() -> pa.Schema:
    fields: list[pa.Field] = []
    seen: set[str] = set()
    for group, columns in GROUPS.items():
        for name, dtype in columns.items():
            if name in seen:
                raise ValueError(f"Column {name!r} of group {group!r} is defined twice.")
            seen.add(name)
            fields.append(pa.field(name, dtype, nullable=True))
    return pa.schema(fields, metadata={"calstudy.schema": "1"})


SCHEMA: pa.Schema = _build_schema()
"""Arrow schema of the dataset; every column nullable at the Arrow level."""

REQUIRED_COLUMNS: tuple[str, ...] = (*KEY_COLUMNS, "source", "status", "created_at")
"""Columns every record must have, non-null."""

ALLOWED_VALUES: dict[str, frozenset[str]] = {
    "space": frozenset({"tss", "sss"}),
    "source": frozenset({"trained", "nats-pretrained", "paper-csv"}),
    "status": frozenset({"ok", "failed"}),
}

_TYPES: dict[str, pa.DataType] = {field.name: field.type for field in SCHEMA}


# ── provenance helpers ───────────────────────────────────────────────────────────────────────
def utc_now() -> str:
    """Return the current time in the canonical ``created_at`` format.

    Returns
    -------
    str
        UTC time as ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``; such strings sort chronologically.
    """
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


@functools.lru_cache(maxsize=1)
def _git_commit() -> str | None:
    """The commit of this calstudy checkout, ``+dirty`` with uncommitted changes; None outside git."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (commit + ("+dirty" if dirty else "")) or None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def provenance(
    *,
    config_hash: str | None = None,
    device: str | None = None,
    wall_time_s: float | None = None,
) -> dict[str, Any]:
    """Return the provenance columns of a record produced now by this code.

    Parameters
    ----------
    config_hash : str, optional
        Hash of the job's configuration.
    device : str, optional
        Device the job ran on, e.g. ``"NVIDIA H100 80GB HBM3"`` or ``"cpu"``.
    wall_time_s : float, optional
        Wall-clock seconds the job took.

    Returns
    -------
    dict
        ``calstudy_version``, ``git_commit`` (``None`` outside a git checkout),
        ``torch_version`` (``None`` when torch is not installed), ``created_at``
        (:func:`utc_now`) and the three arguments. ``status`` is left to the caller.
    """
    return {
        "calstudy_version": __version__,  # also right when run from a source tree
        "git_commit": _git_commit(),
        "config_hash": config_hash,
        "device": device,
        "torch_version": _version("torch"),
        "wall_time_s": wall_time_s,
        "created_at": utc_now(),
    }


# ── one record ───────────────────────────────────────────────────────────────────────────────
def check_columns(names: Iterable[str], *, where: str) -> None:
    """Raise if any of ``names`` is not a column of :data:`SCHEMA`.

    Parameters
    ----------
    names : iterable of str
        Column names to check.
    where : str, keyword-only
        How the error message names the source of ``names``.

    Raises
    ------
    ValueError
        Naming every unknown column with up to three close matches.
    """
    unknown = set(names) - set(_TYPES)
    if unknown:
        raise _unknown_columns_error(unknown, where=where)


def _unknown_columns_error(unknown: Iterable[str], *, where: str) -> ValueError:
    parts = []
    for name in sorted(unknown):
        close = difflib.get_close_matches(name, _TYPES, n=3)
        hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
        parts.append(f"{name!r}{hint}")
    return ValueError(f"Unknown column(s) in {where}: {'; '.join(parts)}.")


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _canonical_time(value: Any, column: str) -> str:
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"Expected `{column}` to be an ISO 8601 time, got {value!r}."
            ) from None
    if not isinstance(value, datetime):
        raise ValueError(
            f"Expected `{column}` to be an ISO 8601 string or datetime, got "
            f"{type(value).__name__} {value!r}."
        )
    if value.tzinfo is None:
        raise ValueError(
            f"Expected `{column}` to carry a time zone (UTC), got the naive time {value!r}."
        )
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _coerce(column: str, value: Any, dtype: pa.DataType) -> Any:
    """Coerce ``value`` to ``dtype`` when no information is lost, else raise."""
    if _is_missing(value):
        return None
    wrong = ValueError(
        f"Expected `{column}` to be {dtype} (or null), got {type(value).__name__} {value!r}."
    )
    if column == "created_at":
        return _canonical_time(value, column)
    if pa.types.is_string(dtype):
        if isinstance(value, str):
            return str(value)
        raise wrong
    if pa.types.is_boolean(dtype):
        if isinstance(value, bool | np.bool_):
            return bool(value)
        if isinstance(value, numbers.Integral) and int(value) in (0, 1):
            return bool(value)
        raise wrong
    if isinstance(value, bool | np.bool_):
        raise wrong
    if pa.types.is_integer(dtype):
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real) and float(value).is_integer():
            return int(value)
        raise wrong
    if pa.types.is_floating(dtype):
        if isinstance(value, numbers.Integral):
            if abs(int(value)) > 2**53:
                raise wrong
            return float(value)
        if isinstance(value, numbers.Real):
            return float(value)
        raise wrong
    raise TypeError(f"Column {column!r} has an unsupported type {dtype}.")  # pragma: no cover


def validate_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """Check one record against :data:`SCHEMA` and coerce its values.

    Parameters
    ----------
    record : mapping
        Column name to value. Columns of :data:`SCHEMA` that are absent are null.

    Returns
    -------
    dict
        The record's columns with Python values of the schema's types: integers given as
        whole floats become ``int``, integers in float columns become ``float``, NaN
        becomes ``None``, ``created_at`` is rewritten in UTC in the canonical format.

    Raises
    ------
    ValueError
        For unknown columns (with close matches), a missing or null required column
        (:data:`REQUIRED_COLUMNS`), a value of the wrong type (naming the column), or a
        value outside :data:`ALLOWED_VALUES`.

    Examples
    --------
    >>> row = validate_record({"space": "tss", "arch": "a", "dataset": "cifar10", "seed": 1.0,
    ...     "fidelity": "nats-200", "source": "paper-csv", "status": "ok",
    ...     "created_at": "2024-01-01T00:00:00Z", "acc": 1})
    >>> row["seed"], row["acc"], row["created_at"]
    (1, 1.0, '2024-01-01T00:00:00.000000+00:00')
    """
    check_columns(record, where="record")
    out = {column: _coerce(column, value, _TYPES[column]) for column, value in record.items()}
    missing = [column for column in REQUIRED_COLUMNS if out.get(column) is None]
    if missing:
        raise ValueError(
            f"Record is missing required column(s) {missing}; every record needs "
            f"{list(REQUIRED_COLUMNS)}."
        )
    for column, allowed in ALLOWED_VALUES.items():
        value = out.get(column)
        if value is not None and value not in allowed:
            raise ValueError(f"Expected `{column}` to be one of {sorted(allowed)}, got {value!r}.")
    return out


def key_of(record: Mapping[str, Any]) -> Key:
    """Return a record's key ``(space, arch, dataset, seed, fidelity)``.

    Parameters
    ----------
    record : mapping
        A record or a row (``pandas.Series``) with the key columns.

    Returns
    -------
    tuple
        ``(space, arch, dataset, seed, fidelity)`` with ``seed`` as ``int``.

    Raises
    ------
    ValueError
        If a key column is absent or null.

    Examples
    --------
    >>> key_of({"space": "sss", "arch": "8:8:8:8:8", "dataset": "cifar10", "seed": 3,
    ...     "fidelity": "nats-90", "acc": 0.5})
    ('sss', '8:8:8:8:8', 'cifar10', 3, 'nats-90')
    """
    missing = [c for c in KEY_COLUMNS if c not in record or _is_missing(record[c])]
    if missing:
        raise ValueError(f"Record is missing key column(s) {missing}.")
    space, arch, dataset, seed, fidelity = (record[c] for c in KEY_COLUMNS)
    return (str(space), str(arch), str(dataset), int(seed), str(fidelity))


# ── a whole table ────────────────────────────────────────────────────────────────────────────
def _nan_to_null(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Store NaN as null (``from_pandas`` does this for frames; Arrow input may hold NaN)."""
    chunks = [pa.array(c.to_numpy(zero_copy_only=False), from_pandas=True) for c in column.chunks]
    return pa.chunked_array(chunks, type=column.type)


def _castable(source: pa.DataType, target: pa.DataType) -> bool:
    if pa.types.is_null(source) or source == target:
        return True
    if pa.types.is_dictionary(source):
        source = source.value_type
    if pa.types.is_string(target):
        return pa.types.is_string(source) or pa.types.is_large_string(source)
    if pa.types.is_boolean(target):
        return pa.types.is_boolean(source) or pa.types.is_integer(source)
    return pa.types.is_integer(source) or pa.types.is_floating(source)


def check_file_schema(schema: pa.Schema, *, where: str) -> None:
    """Raise unless a file with this Arrow schema can be read as rows of :data:`SCHEMA`.

    The cheap check readers make of every shard before reading it: it looks at the column
    names and types only, not at the values (:func:`validate_table` checks those).

    Parameters
    ----------
    schema : pyarrow.Schema
        The file's schema, e.g. from :func:`pyarrow.parquet.read_schema`.
    where : str, keyword-only
        How error messages name the file, e.g. ``"shard 'shard-….parquet'"``.

    Raises
    ------
    ValueError
        If a column name occurs twice, a column of :data:`REQUIRED_COLUMNS` is absent, or a
        column of :data:`SCHEMA` has a type that cannot be cast to the schema's (e.g. ``seed``
        stored as text). Columns unknown to :data:`SCHEMA` are not an error here.
    """
    names = list(schema.names)
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"Expected each column once in {where}, got {twice} more than once.")
    missing = [column for column in REQUIRED_COLUMNS if column not in names]
    if missing:
        raise ValueError(
            f"Expected {where} to hold the required column(s) {list(REQUIRED_COLUMNS)}, "
            f"got none named {missing}."
        )
    for field in schema:
        expected = _TYPES.get(field.name)
        if expected is not None and not _castable(field.type, expected):
            raise ValueError(
                f"Expected `{field.name}` in {where} to be {expected}, got column type "
                f"{field.type}."
            )


def validate_table(data: pd.DataFrame | pa.Table, *, where: str = "frame") -> pa.Table:
    """Check a whole frame against :data:`SCHEMA`, vectorised, and cast it.

    The table-level counterpart of :func:`validate_record`, fast enough for the paper's
    117,702 rows.

    Parameters
    ----------
    data : pandas.DataFrame or pyarrow.Table
        One row per record; columns a subset of :data:`SCHEMA`.
    where : str, keyword-only
        How error messages name ``data`` (e.g. a shard's file name).

    Returns
    -------
    pyarrow.Table
        ``data`` with exactly the columns of :data:`SCHEMA`, in its order (absent columns
        null), ``created_at`` canonical, NaN in float columns stored as null.

    Raises
    ------
    ValueError
        As :func:`validate_record`: unknown columns, missing or null required columns, a
        column of the wrong type or not losslessly castable (e.g. ``seed`` of 1.5), a value
        outside :data:`ALLOWED_VALUES`.
    """
    if isinstance(data, pd.DataFrame):
        data = data.reset_index(drop=True)
        check_columns(map(str, data.columns), where=where)
        if "created_at" in data.columns:
            data = data.assign(created_at=_canonical_times(data["created_at"], where=where))
        try:
            table = pa.Table.from_pandas(data, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
            raise ValueError(f"Cannot convert {where} to Arrow: {err}") from None
    else:
        table = data
        check_columns(table.column_names, where=where)
        if "created_at" in table.column_names:
            times = _canonical_times(table["created_at"].to_pandas(), where=where)
            table = table.set_column(
                table.column_names.index("created_at"),
                "created_at",
                pa.array(times, type=_STR, from_pandas=True),
            )
    columns = []
    for field in SCHEMA:
        if field.name not in table.column_names:
            columns.append(pa.nulls(table.num_rows, field.type))
            continue
        column = table[field.name]
        if not _castable(column.type, field.type):
            raise ValueError(
                f"Expected `{field.name}` in {where} to be {field.type}, got column type "
                f"{column.type}."
            )
        if pa.types.is_boolean(field.type) and pa.types.is_integer(column.type):
            values = column.drop_null().to_numpy()
            if not np.isin(values, (0, 1)).all():
                raise ValueError(f"Expected `{field.name}` in {where} to be 0/1 or boolean.")
        if pa.types.is_floating(column.type):
            column = _nan_to_null(column)
        try:
            columns.append(column.cast(field.type, safe=True))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
            raise ValueError(
                f"Expected `{field.name}` in {where} to be {field.type} without loss: {err}"
            ) from None
    table = pa.Table.from_arrays(columns, schema=SCHEMA)
    nulls = [c for c in REQUIRED_COLUMNS if table[c].null_count]
    if nulls:
        counts = ", ".join(f"{c} ({table[c].null_count} rows)" for c in nulls)
        raise ValueError(f"Required column(s) null or missing in {where}: {counts}.")
    for column, allowed in ALLOWED_VALUES.items():
        values = set(table[column].unique().to_pylist()) - {None}
        bad = sorted(values - allowed)
        if bad:
            raise ValueError(
                f"Expected `{column}` in {where} to be one of {sorted(allowed)}, got {bad}."
            )
    return table


def _canonical_times(times: pd.Series, *, where: str) -> list[str | None]:
    out: list[str | None] = []
    cache: dict[Any, str] = {}
    for value in times.tolist():
        if _is_missing(value):
            out.append(None)
            continue
        if value not in cache:
            cache[value] = _canonical_time(value, f"created_at in {where}")
        out.append(cache[value])
    return out
