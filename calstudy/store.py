"""The calibration dataset on disk: sharded Parquet, checksummed, atomic, safe for concurrent writers.

Layout of a store directory ``root``::

    root/shard-<utc>-<pid>-<uuid8>-<sha>.parquet    one file per Store.append call
    root/.shard-....parquet.<host>-<pid>-<8>.tmp    a shard being written (invisible to readers)
    root/logits/<hash-of-key>.npz                   float16 logits beside the table (save_logits)

Every writer creates its own uniquely named shard, writes it to a hidden temporary file in the
same directory, fsyncs it and renames it into place with :func:`os.replace`, which is atomic on
POSIX file systems. Concurrent writers therefore never touch the same file, and a writer killed
mid-write leaves only a temporary file that readers ignore (``validate(fix=True)`` and
:meth:`Store.merge` remove stale ones). A write that fails (disk full, no permission) raises
:class:`StoreWriteError` naming the file, removes its temporary file and publishes nothing.

**Checksums.** ``<sha>`` is the first 32 hex digits (128 bits) of the SHA-256 of the shard's
bytes. The writer serialises the shard in memory, hashes it and names the file after the hash,
so the rename that publishes a shard publishes its checksum with it: there is no moment at
which a shard exists without its checksum, and no second file to keep in step. Shards are
immutable (never rewritten, names never reused). Every reader -- :meth:`Store.read`,
:meth:`Store.keys`, :meth:`Store.describe`, :meth:`Store.duckdb_view`, :meth:`Store.merge`,
:meth:`Store.validate`, :meth:`Store.migrate` -- reads a shard's bytes once, compares their hash
with its name and parses those same bytes only when they match, then checks the file's schema
(:func:`calstudy.schema.check_file_schema`: required columns present, types castable). A
flipped bit, a truncated or a replaced shard is refused with :class:`CorruptShardError` naming
it, never read as values. Data pages also carry Parquet's CRC-32 page checksums
(``write_page_checksum``), verified on read, for tools that open shards directly.

Shards written before checksums existed (``shard-<utc>-<pid>-<uuid8>.parquet``, "legacy") are
still read, with one :class:`LegacyShardWarning` per read; ``calstudy dataset migrate``
(:meth:`Store.migrate`) validates each and renames it to its checksummed name, its bytes
untouched. A file named ``shard-*.parquet`` in neither form is refused by readers (its checksum
cannot be checked); :meth:`Store.validate` reports it, and any other ``.parquet`` file, which
readers ignore, as an unexpected file. The directory is listed, never globbed, so a store path
holding glob characters (``runs[1]``, ``runs*``) reads that store only.

**Concurrent merges.** :meth:`Store.merge` writes the merged shard before deleting the old
ones. A reader that listed a shard which is gone when it opens it (merged away, or renamed by
``migrate``) lists the directory again and starts over, a few times, then raises an error
saying that the store kept changing.

**Duplicate keys.** A key (:func:`calstudy.schema.key_of`) may appear in several rows, e.g.
after a job was rerun or :meth:`Store.recompute` superseded a row. Readers keep one row per
key: the one with the latest ``created_at``; ties go to the later shard (shard names start
with their UTC creation time), then to the later row. :meth:`Store.merge` applies the same rule
once and for all.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import time
import uuid
import warnings
import zipfile
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from calstudy.files import (
    HOST,
    TEMP_GLOB,
    TEMP_NAME,
    WriteError,
    atomic_write,
    atomic_write_bytes,
    fsync_dir,
    write_error,
)
from calstudy.schema import (
    KEY_COLUMNS,
    REQUIRED_COLUMNS,
    SCHEMA,
    Key,
    check_columns,
    check_file_schema,
    key_of,
    provenance,
    utc_now,
    validate_record,
    validate_table,
)

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "CorruptShardError",
    "LegacyShardWarning",
    "Problem",
    "SHARD_GLOB",
    "SHARD_NAME",
    "Store",
    "StoreWriteError",
]

SHARD_GLOB = "shard-*.parquet"
"""Names of files that claim to be shards; :data:`SHARD_NAME` is what a shard's name must be."""
SHARD_NAME = re.compile(
    r"^shard-(?P<stamp>\d{8}T\d{12}Z)-(?P<pid>\d+)-(?P<uuid>[0-9a-f]{8})"
    r"(?:-(?P<sha256>[0-9a-f]{32}))?\.parquet$"
)
"""A shard's file name: UTC time, writer pid, 8 random hex digits and, unless the shard is a
legacy one, the first 32 hex digits of the SHA-256 of its bytes."""
_CHECKSUM_DIGITS = 32
_NAMING = "shard-<utc>-<pid>-<uuid8>-<first 32 hex digits of its SHA-256>.parquet"
_MISNAMED = (
    f"expected a name {_NAMING}, got one that does not follow it, so its checksum cannot be "
    "checked. Restore its name, or move it out of the store."
)
_READ_ATTEMPTS = 5  # listings tried when shards vanish while read (a concurrent merge)
_MAGIC = b"PAR1"
_PANDAS_TYPES = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
_T = TypeVar("_T")


class CorruptShardError(ValueError):
    """A shard that cannot be trusted, so no value of it is read.

    Raised by every reader of a :class:`Store` for a shard whose bytes do not match the
    checksum in its name, that is truncated or not Parquet, whose name does not follow the
    shard naming (so its checksum cannot be checked), or whose schema does not fit
    :data:`calstudy.schema.SCHEMA`.

    Attributes
    ----------
    path : pathlib.Path
        The shard.
    kind : {"corrupt", "schema", "unexpected-file"}
        Damaged bytes, a schema violation, or a name that is not a shard's.
    reason : str
        What is wrong, without the shard's name.
    """

    def __init__(
        self,
        path: Path,
        reason: str,
        *,
        kind: Literal["corrupt", "schema", "unexpected-file"] = "corrupt",
    ) -> None:
        self.path = Path(path)
        self.kind = kind
        self.reason = reason
        what = {
            "corrupt": "is corrupt",
            "schema": "does not fit the schema",
            "unexpected-file": "is not named like a shard",
        }[kind]
        super().__init__(f"Shard {self.path.name!r} in '{self.path.parent}' {what}: {reason}")


class LegacyShardWarning(UserWarning):
    """Shards without a checksum (written before calstudy recorded one) were read unverified."""


StoreWriteError = WriteError
"""A write into a store failed (disk full, no permission): :class:`calstudy.files.WriteError`.

The store is left as it was: the temporary file is removed and no shard or logits file appears.
"""


@dataclass(frozen=True)
class Problem:
    """One thing :meth:`Store.validate` found wrong.

    Attributes
    ----------
    kind : {"corrupt", "schema", "unexpected-file", "legacy", "duplicate", "temp-file"}
        What is wrong.
    message : str
        Human-readable description naming the file and the reason.
    path : pathlib.Path or None
        The offending file, when there is one.
    severity : {"error", "warning"}
        ``"error"``: data cannot be read or trusted (corrupt shard, schema violation, a file
        named ``shard-*.parquet`` that is not named like a shard). ``"warning"``: readers cope
        (superseded duplicate rows, temporary files, a shard without a checksum, a foreign
        ``.parquet`` file readers ignore), but the store is not tidy; :meth:`Store.merge`,
        :meth:`Store.migrate` or ``validate(fix=True)`` tidies it, or the message says how.
    """

    kind: Literal["corrupt", "schema", "unexpected-file", "legacy", "duplicate", "temp-file"]
    message: str
    path: Path | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"[{self.kind}] {self.message}"


class Store:
    """A directory of Parquet shards holding rows of :data:`calstudy.schema.SCHEMA`.

    Parameters
    ----------
    root : str or path-like
        The store's directory; created by the first write.

    Examples
    --------
    >>> import tempfile
    >>> from calstudy.schema import utc_now
    >>> store = Store(tempfile.mkdtemp())
    >>> _ = store.append([{"space": "tss", "arch": "a", "dataset": "cifar10", "seed": 0,
    ...     "fidelity": "nats-200", "source": "trained", "status": "ok",
    ...     "created_at": utc_now(), "acc": 0.9}])
    >>> store.keys()
    {('tss', 'a', 'cifar10', 0, 'nats-200')}
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    @property
    def logits_dir(self) -> Path:
        """Directory of the saved logits, ``root/logits``."""
        return self.root / "logits"

    def shards(self) -> list[Path]:
        """Return the shard files, oldest first (their names start with UTC time).

        Shards are the files whose names follow :data:`SHARD_NAME`: checksummed ones and legacy
        ones without a checksum. The directory is listed, not globbed, so glob characters in
        ``root`` are harmless. Other files are not shards; :meth:`validate` reports the
        ``.parquet`` ones.
        """
        return [path for path in self._files() if SHARD_NAME.match(path.name)]

    def _files(self) -> list[Path]:
        """Every regular file directly in ``root``, sorted by name."""
        try:
            with os.scandir(self.root) as entries:
                names = [entry.name for entry in entries if entry.is_file()]
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [self.root / name for name in sorted(names)]

    def _unexpected_files(self) -> list[Path]:
        """Files that look like data but are not shards: ``*.parquet`` or ``shard-*`` names."""
        return [
            path
            for path in self._files()
            if not SHARD_NAME.match(path.name)
            and (path.name.endswith(".parquet") or path.name.startswith("shard-"))
        ]

    def _listed_shards(self) -> list[Path]:
        """The shards to read; a file that claims to be one (``shard-*.parquet``) must be one."""
        files = self._files()
        for path in files:
            if fnmatch.fnmatchcase(path.name, SHARD_GLOB) and not SHARD_NAME.match(path.name):
                raise CorruptShardError(path, _MISNAMED, kind="unexpected-file")
        return [path for path in files if SHARD_NAME.match(path.name)]

    # ── writing ──────────────────────────────────────────────────────────────────────────────
    def append(self, records: Iterable[Mapping[str, Any]]) -> Path | None:
        """Validate records and write them as one new shard.

        Parameters
        ----------
        records : iterable of mapping
            Rows; each is checked with :func:`calstudy.schema.validate_record`.

        Returns
        -------
        pathlib.Path or None
            The new shard, or ``None`` when ``records`` is empty (nothing is written).

        Raises
        ------
        ValueError
            If a record fails validation; the message names its position. Nothing is
            written then.
        StoreWriteError
            If the shard cannot be written (disk full, no permission); nothing is published.
        """
        rows = []
        for i, record in enumerate(records):
            try:
                rows.append(validate_record(record))
            except ValueError as err:
                raise ValueError(f"Record {i}: {err}") from None
        if not rows:
            return None
        return self._write_shard(pa.Table.from_pylist(rows, schema=SCHEMA))

    def append_frame(self, frame: pd.DataFrame) -> Path | None:
        """Validate a whole frame (vectorised) and write it as one new shard.

        Parameters
        ----------
        frame : pandas.DataFrame
            One row per record, columns a subset of the schema; see
            :func:`calstudy.schema.validate_table`.

        Returns
        -------
        pathlib.Path or None
            The new shard, or ``None`` when ``frame`` has no rows.

        Raises
        ------
        StoreWriteError
            If the shard cannot be written (disk full, no permission); nothing is published.
        """
        if len(frame) == 0:
            return None
        return self._write_shard(validate_table(frame))

    def _write_shard(self, table: pa.Table) -> Path:
        """Write ``table`` as a new shard named after the SHA-256 of its bytes."""
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd", write_page_checksum=True)
        data = sink.getvalue()
        digest = hashlib.sha256(data).hexdigest()[:_CHECKSUM_DIGITS]
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        final = self.root / f"shard-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:8]}-{digest}.parquet"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise write_error(final, err) from err
        atomic_write_bytes(final, data)
        return final

    # ── reading ──────────────────────────────────────────────────────────────────────────────
    def _load(self, path: Path) -> tuple[bytes, bool]:
        """Read a shard's bytes and check them against the checksum in its name.

        Returns the bytes and whether they were verified (``False`` for a legacy shard, which
        has no checksum). Raises :class:`FileNotFoundError` when the shard is gone (a merge
        ran) and :class:`CorruptShardError` when its bytes cannot be trusted.
        """
        match = SHARD_NAME.match(path.name)
        if match is None:
            raise CorruptShardError(path, _MISNAMED, kind="unexpected-file")
        data = path.read_bytes()
        reason = _frame_problem(data)
        expected = match["sha256"]
        if reason is None and expected is not None:
            actual = hashlib.sha256(data).hexdigest()[:_CHECKSUM_DIGITS]
            if actual != expected:
                reason = (
                    f"expected its bytes to have the SHA-256 {expected}… recorded in its name, "
                    f"got {actual}…: the file changed after it was written (a disk, copy or "
                    "transfer error, or an edit). Restore it from a copy, or move it out of the "
                    "store and rerun the jobs it held."
                )
        if reason is not None:
            raise CorruptShardError(path, reason)
        return data, expected is not None

    def _read_shard(
        self,
        path: Path,
        *,
        columns: Sequence[str] | None = None,
        filters: list[tuple[str, str, Any]] | None = None,
    ) -> tuple[pa.Table, bool]:
        """Read one verified shard aligned to the schema (missing columns null, unknown dropped).

        Returns the table and whether its checksum was verified (see :meth:`_load`).
        """
        data, verified = self._load(path)
        file_schema = _parquet_schema(path, data)
        try:
            check_file_schema(file_schema, where=f"shard {path.name!r}")
        except ValueError as err:
            raise CorruptShardError(path, str(err), kind="schema") from None
        wanted = SCHEMA.names if columns is None else list(columns)
        present = [c for c in wanted if c in file_schema.names]
        table = _parse_parquet(path, data, columns=present, filters=filters)
        extra = sorted(set(file_schema.names) - set(SCHEMA.names))
        if extra and columns is None:
            warnings.warn(
                f"Shard {path.name!r} has column(s) not in the schema, ignored: {extra}.",
                stacklevel=2,
            )
        arrays = []
        fields = []
        for name in wanted:
            field = SCHEMA.field(name)
            if name in table.column_names:
                try:
                    arrays.append(table[name].cast(field.type, safe=True))
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
                    reason = (
                        f"Expected `{name}` to be {field.type}, got column type "
                        f"{table[name].type} whose values do not cast: {err}"
                    )
                    raise CorruptShardError(path, reason, kind="schema") from None
            else:
                arrays.append(pa.nulls(table.num_rows, field.type))
            fields.append(field)
        nulls = [c for c in REQUIRED_COLUMNS if c in table.column_names and table[c].null_count]
        if nulls:
            reason = f"Expected the required column(s) {nulls} in every row, got nulls."
            raise CorruptShardError(path, reason, kind="schema")
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields)), verified

    def _validated_shard(self, path: Path) -> tuple[pa.Table, bool]:
        """Read a whole shard and check it as :meth:`validate` does; raise if it fails.

        Returns the table cast to the schema and whether its checksum was verified.
        """
        data, verified = self._load(path)
        return _validated_table(path, _parse_parquet(path, data)), verified

    def _each_shard(
        self, read: Callable[[Path], tuple[_T, bool]], *, strict: bool = True
    ) -> tuple[list[tuple[Path, _T]], list[Path]]:
        """Apply ``read`` to every shard, listing the directory again if a shard vanishes.

        A shard listed but gone when opened was merged away (or renamed by :meth:`migrate`)
        meanwhile; the merged shard was written before it was deleted, so reading the new
        listing from the start sees every row. ``strict`` refuses files named like shards that
        are not. Returns ``(path, result)`` pairs and the legacy shards (no checksum) read.
        """
        for attempt in range(_READ_ATTEMPTS):
            shards = self._listed_shards() if strict else self.shards()
            results: list[tuple[Path, _T]] = []
            legacy: list[Path] = []
            try:
                for path in shards:
                    result, verified = read(path)
                    results.append((path, result))
                    if not verified:
                        legacy.append(path)
            except FileNotFoundError:
                time.sleep(0.05 * (attempt + 1))
                continue
            return results, legacy
        raise ValueError(
            f"Expected the shards of '{self.root}' to stay in place while read, got shards "
            f"vanishing in {_READ_ATTEMPTS} listings in a row: a merge or migrate is running on "
            "this store. Retry when it has finished."
        )

    def _warn_legacy(self, legacy: Sequence[Path]) -> None:
        if legacy:
            warnings.warn(
                f"{len(legacy)} shard(s) in '{self.root}' carry no checksum (written before "
                f"calstudy recorded one), e.g. {legacy[0].name!r}, and were read unverified; "
                f"`calstudy dataset migrate {self.root}` adds checksums, once.",
                LegacyShardWarning,
                stacklevel=2,
            )

    def _read_all(
        self,
        *,
        columns: Sequence[str] | None = None,
        filters: list[tuple[str, str, Any]] | None = None,
    ) -> tuple[pa.Table, int, int]:
        """Concatenate every shard and keep the latest row per key.

        Returns the table, the number of superseded rows dropped and the number of shards.
        """
        names = list(SCHEMA.names) if columns is None else list(columns)
        for column in (*KEY_COLUMNS, "created_at"):
            if column not in names:
                names.append(column)
        shards, legacy = self._each_shard(
            lambda path: self._read_shard(path, columns=names, filters=filters)
        )
        self._warn_legacy(legacy)
        tables = [table for _, table in shards]
        if not tables:
            return SCHEMA.empty_table().select(names), 0, 0
        table = pa.concat_tables(tables)
        keep = _latest_rows(table.select([*KEY_COLUMNS, "created_at"]).to_pandas())
        return table.take(pa.array(keep)), table.num_rows - len(keep), len(tables)

    def read(
        self,
        columns: Sequence[str] | None = None,
        *,
        where: Mapping[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Read the dataset, one row per key (the latest ``created_at`` wins).

        Parameters
        ----------
        columns : sequence of str, optional
            Columns to return, in this order; all schema columns by default. Columns that older
            shards lack are null there.
        where : mapping, keyword-only, optional
            Equality filters ``{column: value}``, or ``{column: [value, ...]}`` for
            membership, applied after duplicate keys are resolved.

        Returns
        -------
        pandas.DataFrame
            One row per key, in shard order. Integer columns use pandas' nullable ``Int64``,
            the boolean column ``boolean``, floats ``float64`` with NaN for null.

        Raises
        ------
        ValueError
            If a column is unknown, or the store kept changing while read (a concurrent merge).
        CorruptShardError
            If a shard's bytes do not match its checksum, it is not Parquet, its schema does
            not fit, or a file is named like a shard without being one; the message names it.

        Warns
        -----
        LegacyShardWarning
            Once per read, when shards without a checksum were read (``calstudy dataset
            migrate`` adds checksums).
        """
        where = dict(where or {})
        check_columns([*(columns or []), *where], where="read()")
        needed = None if columns is None else [*columns, *where]
        if needed is not None:
            needed = list(dict.fromkeys(needed))
        # Filters on key columns are safe to push down: duplicates share their key.
        filters = [(c, "in", _as_list(v)) for c, v in where.items() if c in KEY_COLUMNS]
        table, _, _ = self._read_all(columns=needed, filters=filters)
        frame = table.to_pandas(types_mapper=_PANDAS_TYPES.get)
        for column, value in where.items():
            frame = frame[frame[column].isin(_as_list(value))]
        return frame.loc[:, list(columns or SCHEMA.names)].reset_index(drop=True)

    def keys(self) -> set[Key]:
        """Return the keys of finished rows (``status == "ok"``), for resuming a sweep.

        A key whose latest row failed is not finished, even when an older row succeeded.
        Shards are verified as by :meth:`read`, which raises as it does.
        """
        frame = self.read([*KEY_COLUMNS, "status"])
        frame = frame[frame["status"] == "ok"]
        return {key_of(row) for row in frame.to_dict("records")}

    # ── maintenance ──────────────────────────────────────────────────────────────────────────
    def merge(self, *, stale_after_s: float = 600.0) -> Path | None:
        """Compact every shard into one, keeping the latest row per key.

        Every shard is read and checked first, as :meth:`validate` checks it (checksum,
        schema, values); one that fails stops the merge before anything is written or deleted.
        The merged shard is then written (atomically) before the old shards are deleted, so an
        interruption leaves at worst both: identical rows that readers resolve to the same
        values and a rerun of ``merge`` removes. Shards appended while merging are kept, and so
        are files that are not shards.

        Parameters
        ----------
        stale_after_s : float, keyword-only
            Temporary files older than this many seconds (left by killed writers) are removed.

        Returns
        -------
        pathlib.Path or None
            The merged shard, or ``None`` when the store has no shards.

        Raises
        ------
        CorruptShardError
            If a shard is damaged, named like a shard without being one, or fails validation
            (e.g. lacks the ``arch`` column); it names the shard, and no shard was deleted.
        StoreWriteError
            If the merged shard cannot be written; no shard was deleted.
        """
        self._remove_stale_temp_files(stale_after_s)
        shards, legacy = self._each_shard(self._validated_shard)
        self._warn_legacy(legacy)
        if not shards:
            return None
        table = pa.concat_tables([table for _, table in shards])
        keep = _latest_rows(table.select([*KEY_COLUMNS, "created_at"]).to_pandas())
        merged = self._write_shard(table.take(pa.array(keep)))
        for path, _ in shards:
            path.unlink(missing_ok=True)
        fsync_dir(self.root)
        return merged

    def migrate(self) -> list[Path]:
        """Give every legacy shard (written without a checksum) its checksum, once.

        Every legacy shard is read and checked as :meth:`validate` checks it; only when all of
        them pass is each renamed to its checksummed name
        (``shard-<utc>-<pid>-<uuid8>-<sha256/32>.parquet``, the time, pid and uuid of its old
        name kept, so shard order and tie-breaking are unchanged). The rename is atomic and
        leaves the bytes as they are: the data read afterwards is bit-identical. Readers running
        meanwhile find a shard under one name or the other (and list again when it moves).

        Returns
        -------
        list of pathlib.Path
            The shards' new paths; empty when no shard lacked a checksum.

        Raises
        ------
        CorruptShardError
            If a legacy shard is unreadable or fails validation (naming it); nothing is renamed.
        StoreWriteError
            If a rename fails (e.g. a read-only directory).
        """
        checked = []
        for path in self._listed_shards():
            match = SHARD_NAME.match(path.name)
            if match is None or match["sha256"] is not None:
                continue
            data, _ = self._load(path)
            _validated_table(path, _parse_parquet(path, data))
            checked.append((path, hashlib.sha256(data).hexdigest()[:_CHECKSUM_DIGITS]))
        migrated = []
        for path, digest in checked:
            target = path.with_name(f"{path.name.removesuffix('.parquet')}-{digest}.parquet")
            try:
                os.rename(path, target)
            except FileNotFoundError:  # a concurrent migrate renamed it first
                continue
            except OSError as err:
                raise write_error(target, err) from err
            self._load(target)  # the bytes renamed are the bytes checked
            migrated.append(target)
        if migrated:
            fsync_dir(self.root)
        return migrated

    def _temp_files(self) -> list[Path]:
        dirs = [d for d in (self.root, self.logits_dir) if d.is_dir()]
        return sorted(p for d in dirs for p in d.glob(TEMP_GLOB))

    def remove_orphaned_temp_files(self) -> list[Path]:
        """Remove the temporary files of writers on this host that are no longer running.

        A writer killed mid-write (SIGKILL, a node's out-of-memory killer) leaves its hidden
        temporary file behind; readers ignore it, and a sweep that resumes removes it with this.
        Files of running writers, and of writers on other hosts sharing the directory, are
        kept (:meth:`validate` with ``fix=True`` removes those once they are old enough).

        Returns
        -------
        list of pathlib.Path
            The files removed.
        """
        removed = []
        for path in self._temp_files():
            match = TEMP_NAME.match(path.name)
            if match is None or match["host"] != HOST:
                continue
            pid = int(match["pid"])
            if pid != os.getpid() and not pid_alive(pid):
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed

    def _remove_stale_temp_files(self, stale_after_s: float) -> list[Path]:
        removed = []
        now = time.time()
        for path in self._temp_files():
            try:
                if now - path.stat().st_mtime >= stale_after_s:
                    path.unlink()
                    removed.append(path)
            except FileNotFoundError:  # its writer finished meanwhile
                continue
        return removed

    def validate(self, *, fix: bool = False, stale_after_s: float = 600.0) -> list[Problem]:
        """Check every shard and report what is wrong.

        Parameters
        ----------
        fix : bool, keyword-only
            Remove temporary files older than ``stale_after_s`` before checking.
        stale_after_s : float, keyword-only
            Age in seconds beyond which a temporary file cannot belong to a running writer.

        Returns
        -------
        list of Problem
            Empty when the store is sound. Kinds: ``corrupt`` (bytes that do not match the
            shard's checksum, truncated or unreadable shard), ``schema`` (missing, unknown or
            mistyped columns, null required values, values outside the allowed sets),
            ``unexpected-file`` (a file named ``shard-*.parquet`` not named like a shard, which
            readers refuse: an error; any other ``.parquet`` file, which readers ignore: a
            warning), ``legacy`` (shards without a checksum; ``calstudy dataset migrate``),
            ``duplicate`` (keys with several rows: superseded rows, which :meth:`merge`
            compacts, or ties in ``created_at``), ``temp-file`` (leftovers of writers; possibly
            a writer still running).
        """
        if fix:
            self._remove_stale_temp_files(stale_after_s)
        problems = [
            Problem(
                "temp-file",
                f"Temporary file {p.name!r} in '{p.parent}' (a killed writer's leftover, or a "
                "writer still running; `validate --fix` removes stale ones).",
                p,
                "warning",
            )
            for p in self._temp_files()
        ]
        for path in self._unexpected_files():
            if fnmatch.fnmatchcase(path.name, SHARD_GLOB):
                message = str(CorruptShardError(path, _MISNAMED, kind="unexpected-file"))
                problems.append(Problem("unexpected-file", message, path))
            else:
                message = (
                    f"Unexpected file {path.name!r} in '{self.root}': expected only shards "
                    f"({_NAMING}) among the .parquet files of a store, got this one, which "
                    "readers ignore. Move it out of the store; `calstudy dataset import-paper` "
                    "or Store.append_frame adds rows from elsewhere."
                )
                problems.append(Problem("unexpected-file", message, path, "warning"))

        def check(path: Path) -> tuple[tuple[Problem | None, pa.Table | None], bool]:
            try:
                data, verified = self._load(path)
                table = _parse_parquet(path, data)
            except CorruptShardError as err:
                return (Problem(err.kind, str(err), path), None), True
            try:
                return (None, _validated_table(path, table)), verified
            except CorruptShardError as err:
                keys = (*KEY_COLUMNS, "created_at")
                usable = all(c in table.column_names for c in keys)
                return (Problem(err.kind, str(err), path), table if usable else None), verified

        checked, legacy = self._each_shard(check, strict=False)
        keys = []
        for path, (problem, table) in checked:
            if problem is not None:
                problems.append(problem)
            if table is not None:
                keys.append(
                    table.select([*KEY_COLUMNS, "created_at"]).to_pandas().assign(_shard=path.name)
                )
        if legacy:
            problems.append(
                Problem(
                    "legacy",
                    f"{len(legacy)} shard(s) in '{self.root}' carry no checksum (written before "
                    f"calstudy recorded one), e.g. {legacy[0].name!r}: damage to them would go "
                    f"unnoticed. `calstudy dataset migrate {self.root}` adds checksums, once.",
                    legacy[0],
                    "warning",
                )
            )
        if keys:
            problems.extend(_duplicate_problems(pd.concat(keys, ignore_index=True)))
        return problems

    def describe(self) -> str:
        """Summarise the store in a few readable paragraphs.

        Returns
        -------
        str
            Shards and rows; rows per space × dataset × source; seeds; fidelities; failed jobs
            with their most common errors; ranges of ``acc``, ``pre_ECE_15``, ``post_ECE_15``
            over ok rows; provenance (versions, commits, devices, total wall time); saved
            logits.

        Raises
        ------
        CorruptShardError
            As :meth:`read`: a shard that cannot be trusted is named, not summarised.
        """
        columns = [
            *KEY_COLUMNS,
            "source",
            "status",
            "error",
            "acc",
            "pre_ECE_15",
            "post_ECE_15",
            "calstudy_version",
            "git_commit",
            "device",
            "torch_version",
            "wall_time_s",
        ]
        table, superseded, n_shards = self._read_all(columns=columns)
        frame = table.to_pandas(types_mapper=_PANDAS_TYPES.get)
        n_logits = len(list(self.logits_dir.glob("*.npz"))) if self.logits_dir.is_dir() else 0
        lines = [
            f"Store '{self.root}': {n_shards} shard(s), {len(frame)} row(s) "
            f"({superseded} superseded row(s) hidden), {n_logits} saved logits file(s)."
        ]
        if frame.empty:
            return "\n".join(lines)
        counts = frame.groupby(["space", "dataset", "source"]).size().rename("rows")
        lines += ["", "Rows per space × dataset × source:", counts.to_frame().to_string()]
        lines += [
            "",
            f"Seeds: {sorted(int(s) for s in frame['seed'].unique())}",
            f"Fidelities: {', '.join(sorted(frame['fidelity'].unique()))}",
        ]
        failed = frame[frame["status"] == "failed"]
        lines.append(f"Failed jobs: {len(failed)}")
        for error, n in failed["error"].fillna("(no message)").value_counts().head(5).items():
            lines.append(f"  {n} × {str(error)[:100]}")
        ok = frame[frame["status"] == "ok"]
        values = ok[["acc", "pre_ECE_15", "post_ECE_15"]]
        ranges = pd.DataFrame(
            {
                "n": values.count(),
                "min": values.min(),
                "median": values.median(),
                "max": values.max(),
            }
        )
        lines += ["", "Metric ranges over ok rows:", ranges.to_string(float_format="%.4f")]

        def listing(column: str, *, shorten: int | None = None) -> str:
            values = frame[column].dropna()
            if shorten:
                values = values.str[:shorten]
            counts = values.value_counts()
            return ", ".join(f"{v} ({n})" for v, n in counts.items()) or "-"

        seconds = float(frame["wall_time_s"].sum(skipna=True))
        lines += [
            "",
            "Provenance:",
            f"  calstudy versions: {listing('calstudy_version')}",
            f"  git commits: {listing('git_commit', shorten=10)}",
            f"  devices: {listing('device')}",
            f"  torch versions: {listing('torch_version')}",
            f"  total wall time: {_duration(seconds)}",
        ]
        return "\n".join(lines)

    def duckdb_view(
        self, con: duckdb.DuckDBPyConnection | None = None, *, name: str = "calibration"
    ) -> duckdb.DuckDBPyConnection:
        """Register a DuckDB view over the shards, one row per key (latest wins).

        Every shard is verified first, as :meth:`read` verifies it (checksum, schema; legacy
        shards are read whole), and DuckDB is given the verified files by name, never a
        glob pattern, so glob characters in ``root`` are harmless. The view reads those files
        whenever it is queried: after a merge or migrate, create it again.

        Parameters
        ----------
        con : duckdb.DuckDBPyConnection, optional
            Connection to register the view on; a new in-memory one by default.
        name : str, keyword-only
            Name of the view; a SQL identifier.

        Returns
        -------
        duckdb.DuckDBPyConnection
            ``con``, with the view ``name``.

        Raises
        ------
        FileNotFoundError
            If the store has no shards.
        CorruptShardError
            As :meth:`read`, naming the shard.
        ValueError
            If ``name`` is not an identifier.

        Examples
        --------
        ::

            con = Store("runs/demo").duckdb_view()
            con.sql("SELECT dataset, median(pre_ECE_15) FROM calibration GROUP BY 1")
        """
        import duckdb

        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"Expected `name` to be a SQL identifier, got {name!r}.")

        def check(path: Path) -> tuple[None, bool]:
            data, verified = self._load(path)
            if verified:
                schema = _parquet_schema(path, data)
            else:  # no checksum: at least every page must decode
                schema = _parse_parquet(path, data).schema
            try:
                check_file_schema(schema, where=f"shard {path.name!r}")
            except ValueError as err:
                raise CorruptShardError(path, str(err), kind="schema") from None
            return None, verified

        shards, legacy = self._each_shard(check)
        self._warn_legacy(legacy)
        if not shards:
            raise FileNotFoundError(f"No shards ({SHARD_GLOB}) in '{self.root}'.")
        con = duckdb.connect() if con is None else con
        files = [os.path.abspath(path) for path, _ in shards]
        patterns = [_glob_escape(file) for file in files]
        try:
            found = [row[0] for row in con.execute("SELECT file FROM glob(?)", [patterns]).fetchall()]
        except duckdb.Error:  # a DuckDB whose glob() takes one pattern at a time
            found = [
                row[0]
                for pattern in patterns
                for row in con.execute("SELECT file FROM glob(?)", [pattern]).fetchall()
            ]
        if sorted(found) != sorted(files):
            raise ValueError(
                f"Expected DuckDB to find each shard of '{self.root}' by its name, got "
                f"{len(found)} file(s) for {len(files)} shard(s): the path holds characters "
                "DuckDB reads as a pattern. Use Store.read() instead, or move the store."
            )
        listing = ", ".join("'" + p.replace("'", "''") + "'" for p in patterns)
        keys = ", ".join(KEY_COLUMNS)
        con.execute(
            f"CREATE OR REPLACE VIEW {name} AS "
            f"SELECT * EXCLUDE (filename) FROM read_parquet([{listing}], union_by_name = true, "
            f"filename = true) QUALIFY row_number() OVER (PARTITION BY {keys} "
            "ORDER BY created_at DESC, filename DESC) = 1"
        )
        return con

    # ── logits ───────────────────────────────────────────────────────────────────────────────
    def logits_path(self, key: Key) -> Path:
        """Return where :meth:`save_logits` puts the arrays of ``key``."""
        key = _check_key(key)
        digest = hashlib.sha256(json.dumps(list(key)).encode()).hexdigest()[:24]
        return self.logits_dir / f"{digest}.npz"

    def save_logits(self, key: Key, arrays: Mapping[str, np.ndarray]) -> Path:
        """Save a row's arrays as a compressed ``.npz``, atomically.

        Floating arrays are stored as float16 (recomputed metrics therefore differ from
        float32 ones in about the fourth significant digit); integer and boolean arrays keep
        their dtype. The key is stored inside the file and checked on load.

        Parameters
        ----------
        key : tuple
            ``(space, arch, dataset, seed, fidelity)``, see :func:`calstudy.schema.key_of`.
        arrays : mapping of str to numpy.ndarray
            By convention ``"test"`` logits (N, K), ``"labels"`` (N,) and optionally
            ``"heldout_idx"``, the test indices post-hoc calibrators were fitted on, which
            :meth:`recompute` reuses.

        Returns
        -------
        pathlib.Path
            The written file.

        Raises
        ------
        ValueError
            If an array name starts with ``__``, an array is not numeric, or finite values
            overflow float16.
        """
        key = _check_key(key)
        stored: dict[str, np.ndarray] = {"__key__": np.array(json.dumps(list(key)))}
        for array_name, value in arrays.items():
            if not array_name.isidentifier() or array_name.startswith("__"):
                raise ValueError(
                    f"Expected array names to be identifiers not starting with '__', "
                    f"got {array_name!r}."
                )
            array = np.asarray(value)
            if np.issubdtype(array.dtype, np.floating):
                with np.errstate(over="ignore"):
                    half = array.astype(np.float16)
                if not np.array_equal(np.isfinite(half), np.isfinite(array)):
                    raise ValueError(
                        f"Expected `{array_name}` to fit in float16 (|x| <= 65504), got "
                        f"max |x| = {np.nanmax(np.abs(array)):.4g}."
                    )
                array = half
            elif not (np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_):
                raise ValueError(
                    f"Expected `{array_name}` to be a numeric array, got dtype {array.dtype}."
                )
            stored[array_name] = array
        path = self.logits_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda f: np.savez_compressed(f, **stored))
        return path

    def load_logits(self, key: Key) -> dict[str, np.ndarray]:
        """Load the arrays :meth:`save_logits` saved for ``key`` (floats as float16).

        Raises
        ------
        FileNotFoundError
            If nothing was saved for ``key``.
        ValueError
            If the file is corrupt or belongs to another key.
        """
        key = _check_key(key)
        path = self.logits_path(key)
        if not path.is_file():
            raise FileNotFoundError(f"No logits saved for {key} (expected '{path}').")
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
            raise ValueError(
                f"Logits file {path.name!r} in '{path.parent}' is corrupt: {err}"
            ) from None
        stored_key = json.loads(str(arrays.pop("__key__", "null")))
        if stored_key != list(key):
            raise ValueError(
                f"Logits file {path.name!r} holds key {stored_key}, expected {list(key)}."
            )
        return arrays

    def recompute(self, metrics: Sequence[str], *, progress: bool = True) -> Path | None:
        """Recompute catalogue metrics from saved logits; new rows supersede the old ones.

        For every ok row with saved logits, calls
        ``calstudy.catalogue.full_record(test, labels, metrics=metrics, ...)`` on the same
        held-out split as the original run: ``heldout_idx`` from the ``.npz`` when saved,
        else the row's ``heldout_frac`` and ``split_seed``. Columns of the result that are in
        the schema replace the row's values; ``created_at``, ``calstudy_version`` and
        ``git_commit`` are set anew. The rows are written as one new shard, which readers
        prefer (latest wins); :meth:`merge` drops the superseded rows.

        Parameters
        ----------
        metrics : sequence of str
            Names in :data:`calstudy.catalogue.CATALOGUE`, e.g. ``["ECE_15", "smECE"]``.
        progress : bool, keyword-only
            Show a progress bar.

        Returns
        -------
        pathlib.Path or None
            The new shard, or ``None`` when no row had saved logits.

        Raises
        ------
        ValueError
            If a metric is not in the catalogue (the message lists the choices), or a row's
            logits lack ``test``/``labels`` or its held-out split is not recorded.
        """
        from tqdm.auto import tqdm

        from calstudy import catalogue

        unknown = [m for m in metrics if m not in catalogue.CATALOGUE]
        if unknown or not metrics:
            choices = ", ".join(sorted(catalogue.CATALOGUE))
            raise ValueError(
                f"Expected `metrics` to be names in the catalogue, got unknown {unknown or []}. "
                f"Choices: {choices}."
            )
        frame = self.read(where={"status": "ok"})
        rows = [row for row in frame.to_dict("records") if self.logits_path(key_of(row)).is_file()]
        fresh = {k: v for k, v in provenance().items() if k in ("calstudy_version", "git_commit")}
        records = []
        for row in tqdm(rows, desc="recompute", disable=not progress):
            key = key_of(row)
            arrays = self.load_logits(key)
            missing = [a for a in ("test", "labels") if a not in arrays]
            if missing:
                raise ValueError(
                    f"Logits of {key} lack array(s) {missing}; recompute needs 'test' and 'labels'."
                )
            if "heldout_idx" in arrays:
                split: dict[str, Any] = {"heldout_idx": arrays["heldout_idx"]}
            elif not pd.isna(row["heldout_frac"]) and not pd.isna(row["split_seed"]):
                split = {"heldout_frac": float(row["heldout_frac"]), "seed": int(row["split_seed"])}
            else:
                raise ValueError(
                    f"Row {key} records no held-out split: save 'heldout_idx' with its logits or "
                    "set `heldout_frac` and `split_seed`, so recomputed metrics match the "
                    "original split."
                )
            result = catalogue.full_record(
                arrays["test"].astype(np.float32), arrays["labels"], metrics=list(metrics), **split
            )
            updated = {k: v for k, v in row.items() if not _is_null(v)}
            updated.update({k: v for k, v in result.items() if k in SCHEMA.names})
            updated.update(fresh, created_at=utc_now())
            records.append(updated)
        return self.append(records)


# ── helpers ──────────────────────────────────────────────────────────────────────────────────
def _duration(seconds: float) -> str:
    """``42 s``, ``12.5 min`` or ``3.20 h``."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def _is_null(value: Any) -> bool:
    return value is None or (not isinstance(value, str | bytes) and bool(pd.isna(value)))


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, Collection) and not isinstance(value, str | bytes):
        return list(value)
    return [value]


def _check_key(key: Sequence[Any]) -> Key:
    if not isinstance(key, Sequence) or isinstance(key, str) or len(key) != len(KEY_COLUMNS):
        raise ValueError(f"Expected `key` to be a tuple {KEY_COLUMNS}, got {key!r}.")
    return key_of(dict(zip(KEY_COLUMNS, key, strict=True)))


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (one we may not signal counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _frame_problem(data: bytes) -> str | None:
    """Why ``data`` is not a whole Parquet file, or ``None`` when its frame looks intact."""
    if len(data) < 12:
        return f"file has {len(data)} bytes, too short for Parquet (truncated write?)."
    if data[:4] != _MAGIC or data[-4:] != _MAGIC:
        return "Parquet magic bytes missing (truncated write?)."
    return None


def _parquet_schema(path: Path, data: bytes) -> pa.Schema:
    """The Arrow schema in the footer of the Parquet bytes ``data`` of shard ``path``."""
    try:
        return pq.read_schema(pa.BufferReader(data))
    except Exception as err:  # pyarrow raises several types for damaged bytes
        reason = f"not readable as Parquet ({type(err).__name__}: {err})"
        raise CorruptShardError(path, reason) from None


def _parse_parquet(
    path: Path,
    data: bytes,
    *,
    columns: Sequence[str] | None = None,
    filters: list[tuple[str, str, Any]] | None = None,
) -> pa.Table:
    """Decode the Parquet bytes ``data`` of shard ``path``, verifying page checksums."""
    try:
        return pq.read_table(
            pa.BufferReader(data),
            columns=None if columns is None else list(columns),
            filters=filters or None,
            page_checksum_verification=True,
        )
    except Exception as err:  # pyarrow raises several types for damaged bytes
        reason = f"not readable as Parquet ({type(err).__name__}: {err})"
        raise CorruptShardError(path, reason) from None


def _validated_table(path: Path, table: pa.Table) -> pa.Table:
    """``table`` of shard ``path`` checked and cast by validate_table, or CorruptShardError."""
    where = f"shard {path.name!r}"
    try:
        check_file_schema(table.schema, where=where)
        return validate_table(table, where=where)
    except ValueError as err:
        raise CorruptShardError(path, str(err), kind="schema") from None


def _glob_escape(path: str) -> str:
    """``path`` as a DuckDB glob pattern matching only itself."""
    return re.sub(r"([\[\]*?{}])", r"[\1]", path)


def _latest_rows(keys: pd.DataFrame) -> np.ndarray:
    """Indices of the rows to keep: per key, the latest ``created_at``, then the last row."""
    order = keys.sort_values("created_at", kind="stable", na_position="first")
    last = ~order.duplicated(list(KEY_COLUMNS), keep="last")
    return np.sort(order.index[last.to_numpy()].to_numpy())


def _duplicate_problems(keys: pd.DataFrame) -> list[Problem]:
    """Report keys with several rows; ``keys`` has the key columns, created_at and _shard."""
    columns = list(KEY_COLUMNS)
    dup = keys[keys.duplicated(columns, keep=False)]
    if dup.empty:
        return []
    by_key = dup.groupby(columns, sort=False)
    example = key_of(dict(zip(columns, next(iter(by_key.groups)), strict=True)))
    problems = [
        Problem(
            "duplicate",
            f"{by_key.ngroups} key(s) have more than one row, e.g. {example}; readers keep the "
            "latest created_at; `calstudy dataset merge` compacts them.",
            severity="warning",
        )
    ]
    latest = dup[dup["created_at"] == by_key["created_at"].transform("max")]
    ties = latest[latest.duplicated(columns, keep=False)].groupby(columns, sort=False)["_shard"]
    if ties.ngroups:
        shards = ties.agg(sorted)
        example = key_of(dict(zip(columns, shards.index[0], strict=True)))
        problems.append(
            Problem(
                "duplicate",
                f"{ties.ngroups} key(s) have several rows with the same latest created_at "
                f"(an interrupted merge?), e.g. {example} in {shards.iloc[0]}; readers take "
                "the later shard.",
                severity="warning",
            )
        )
    return problems
