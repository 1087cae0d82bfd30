"""Checksummed early-signal files (calstudy.early): a damaged file is refused, never read as values."""

from __future__ import annotations

import errno
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from calstudy import early
from calstudy.store import CorruptShardError, StoreWriteError

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"
NAME = "early-tss-cifar10-seed1-sched3-n5000-w0of1.parquet"  # 6 networks, about 21 kB
KEY = early.CHECKSUM_KEY.encode()


def same_values(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two frames hold the same columns, dtypes and values, bit for bit."""
    if list(a.columns) != list(b.columns) or not a.dtypes.equals(b.dtypes) or len(a) != len(b):
        return False
    for column in a.columns:
        x, y = a[column].to_numpy(), b[column].to_numpy()
        if x.dtype.kind in "fiub" and x.tobytes() != y.tobytes():
            return False
        if x.dtype.kind not in "fiub" and x.tolist() != y.tolist():
            return False
    return True


def legacy_copy(source: Path, path: Path, **write: object) -> None:
    """`source` as calstudy wrote early files before checksums: no checksum, no page CRCs."""
    table = pq.read_table(source)
    metadata = {k: v for k, v in table.schema.metadata.items() if k != KEY}
    pq.write_table(table.replace_schema_metadata(metadata), path, **write)


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A directory holding a copy of one committed (checksummed) early-signal file."""
    shutil.copy(DEMO / "early" / NAME, tmp_path / NAME)
    return tmp_path


# ── the committed files ──────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("directory", ["early", "early-full"])
def test_committed_files_carry_checksums(directory: str) -> None:
    files = sorted((DEMO / directory).glob("early-*.parquet"))
    assert files
    for path in files:
        recorded = pq.ParquetFile(path).metadata.metadata[KEY]
        assert len(recorded) == 64 and int(recorded, 16) >= 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", early.LegacyEarlyFileWarning)
        frame = early.load_early_signals(DEMO / directory)
    concatenated = pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)
    assert len(frame) == len(concatenated)  # each network once in the committed files


# ── the bit-flip experiment ──────────────────────────────────────────────────────────────────
def flip_positions(size: int, *, edge: int = 200, n_other: int = 300, seed: int = 13) -> list[int]:
    """Every bit of the first and last `edge` bytes, and `n_other` seeded bits in between."""
    positions = {*range(8 * edge), *range(8 * (size - edge), 8 * size)}
    between = np.arange(8 * edge, 8 * (size - edge))
    rng = np.random.default_rng(seed)
    positions |= set(rng.choice(between, size=n_other, replace=False).tolist())
    return sorted(positions)


@pytest.mark.slow
def test_no_bit_flip_is_ever_read_as_other_values(demo_copy: Path) -> None:
    path = demo_copy / NAME
    original = path.read_bytes()
    reference = early.load_early_signals(demo_copy)
    positions = flip_positions(len(original))
    counts = {"tried": 0, "refused": 0, "identical": 0, "silent": 0, "by_hash": 0}
    try:
        for position in positions:
            damaged = bytearray(original)
            damaged[position // 8] ^= 1 << (position % 8)
            path.write_bytes(bytes(damaged))
            counts["tried"] += 1
            try:
                with warnings.catch_warnings():  # a flip never passes a file off as legacy
                    warnings.simplefilter("error", early.LegacyEarlyFileWarning)
                    frame = early.load_early_signals(demo_copy)
            except CorruptShardError as error:
                assert error.path == path and str(path) in str(error)
                counts["refused"] += 1
                counts["by_hash"] += "SHA-256" in error.reason
            else:
                counts["identical" if same_values(frame, reference) else "silent"] += 1
    finally:
        path.write_bytes(original)
    assert len(positions) == 8 * 400 + 300
    assert counts["silent"] == 0, counts
    assert counts["refused"] + counts["identical"] == counts["tried"] == len(positions)
    # The content hash refuses flips the page checksums miss (page headers, footer).
    assert counts["by_hash"] > 0 and counts["refused"] > counts["identical"], counts
    assert same_values(early.load_early_signals(demo_copy), reference)  # restored: reads again


def test_truncated_and_foreign_files_are_refused(demo_copy: Path) -> None:
    path = demo_copy / NAME
    original = path.read_bytes()
    for data in (original[:-1], original[: len(original) // 2], original[1:], b""):
        path.write_bytes(data)
        with pytest.raises(CorruptShardError, match=rf"{NAME} is corrupt: not readable"):
            early.load_early_signals(demo_copy)


# ── tampering: values changed and Parquet's page checksums recomputed ───────────────────────
def test_tampered_value_with_recomputed_page_checksums_is_refused(demo_copy: Path) -> None:
    path = demo_copy / NAME
    table = pq.read_table(path)
    assert KEY in table.schema.metadata
    frame = table.to_pandas()
    # Plausible values: the reader's value checks cannot tell them from measured ones.
    frame.loc[0, "seconds"] += 1.0
    frame.loc[0, "early_ece_e3"] = min(1.0, frame.loc[0, "early_ece_e3"] + 1e-3)
    tampered = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(tampered.replace_schema_metadata(table.schema.metadata), path,
                   write_page_checksum=True)  # fmt: skip
    pq.read_table(path, page_checksum_verification=True)  # the page checksums are intact
    with pytest.raises(CorruptShardError, match=rf"{NAME} is corrupt: expected its values to "
                       r"have the SHA-256 [0-9a-f]{16}… recorded in it, got") as caught:  # fmt: skip
        early.load_early_signals(demo_copy)
    assert caught.value.path == path and caught.value.kind == "corrupt"
    # Without its checksum the same file passes the value checks: only the hash catches it.
    metadata = {k: v for k, v in table.schema.metadata.items() if k != KEY}
    pq.write_table(tampered.replace_schema_metadata(metadata), path)
    with pytest.warns(early.LegacyEarlyFileWarning):
        assert early.load_early_signals(demo_copy).loc[0, "seconds"] == frame.loc[0, "seconds"]


def test_metadata_calstudy_never_writes_is_refused(demo_copy: Path) -> None:
    path = demo_copy / NAME
    table = pq.read_table(path)
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, b"calstudy.sha265": b"0"}),
                   path, write_page_checksum=True)  # fmt: skip
    with pytest.raises(CorruptShardError, match=r"key\(s\) \['calstudy.sha265'\]"):
        early.load_early_signals(demo_copy)


def test_values_no_measurement_writes_are_refused_despite_a_matching_checksum(
    tmp_path: Path,
) -> None:
    frame = pd.read_parquet(DEMO / "early" / NAME)
    frame.loc[0, "early_acc_e1"] = 1.5  # checksummed by the writer, but out of range
    early._write(tmp_path / NAME, frame)
    with pytest.raises(
        CorruptShardError, match=rf"{NAME} is damaged: expected `early_acc_e1`"
    ) as caught:
        early.load_early_signals(tmp_path)
    assert caught.value.kind == "schema"


# ── the checksum is of the values, not of the file's layout ─────────────────────────────────
def test_checksum_depends_on_the_values_only(tmp_path: Path) -> None:
    committed = pq.ParquetFile(DEMO / "early" / NAME).metadata.metadata[KEY]
    # The same values laid out otherwise (zstd, one row per row group, no page checksums).
    legacy_copy(DEMO / "early" / NAME, tmp_path / NAME, compression="zstd", row_group_size=1)
    assert pq.ParquetFile(tmp_path / NAME).metadata.num_row_groups == 6
    assert early.migrate(tmp_path) == [tmp_path / NAME]
    assert pq.ParquetFile(tmp_path / NAME).metadata.metadata[KEY] == committed
    # A rewrite of the same rows, as a resumed run does, records the same checksum.
    early._write(tmp_path / NAME, early.load_early_signals(tmp_path))
    assert pq.ParquetFile(tmp_path / NAME).metadata.metadata[KEY] == committed
    # Nulls (a network measured for fewer epochs) hash whatever lies under them.
    frame = early.load_early_signals(tmp_path)
    frame.loc[1, early.signal_columns(frame, epoch=3)] = np.nan
    early._write(tmp_path / NAME, frame)
    pd.testing.assert_frame_equal(early.load_early_signals(tmp_path), frame, check_exact=True)


# ── files written before checksums: warned about, migrated ─────────────────────────────────
def test_legacy_files_are_read_with_a_warning_and_migrated(tmp_path: Path) -> None:
    for name in (NAME, "early-tss-cifar10-seed2-sched3-n5000-w0of2.parquet"):
        legacy_copy(DEMO / "early" / name, tmp_path / name)
    before = {p: pd.read_parquet(p) for p in sorted(tmp_path.glob("*.parquet"))}
    message = (
        rf"2 early-signal file\(s\) in '{tmp_path}' carry no checksum .* "
        rf"early.migrate\('{tmp_path}'\)"
    )
    with pytest.warns(early.LegacyEarlyFileWarning, match=message):
        old = early.load_early_signals(tmp_path)
    assert sorted(early.migrate(tmp_path)) == sorted(before)
    with warnings.catch_warnings():
        warnings.simplefilter("error", early.LegacyEarlyFileWarning)
        new = early.load_early_signals(tmp_path)
    assert same_values(new, old)
    for path, frame in before.items():
        assert same_values(pd.read_parquet(path), frame)
        assert KEY in pq.ParquetFile(path).metadata.metadata
    assert early.migrate(tmp_path) == []  # once: checksummed files are left as they are
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_migrate_rewrites_nothing_when_a_file_is_damaged(tmp_path: Path) -> None:
    legacy_copy(DEMO / "early" / NAME, tmp_path / NAME)
    frame = pd.read_parquet(DEMO / "early" / NAME)
    bad = tmp_path / "early-tss-cifar10-seed9-sched3-n5000-w0of1.parquet"
    frame.assign(dataset="cifar1 ").to_parquet(bad, index=False)
    good = (tmp_path / NAME).read_bytes()
    with pytest.raises(CorruptShardError, match=rf"{bad.name} is damaged: expected `dataset`"):
        early.migrate(tmp_path)
    assert (tmp_path / NAME).read_bytes() == good  # not rewritten
    with pytest.raises(FileNotFoundError, match="Expected a directory"):
        early.migrate(tmp_path / "missing")


def test_a_failed_write_leaves_the_file_as_it_was(demo_copy: Path, monkeypatch) -> None:
    path = demo_copy / NAME
    original = path.read_bytes()
    frame = early.load_early_signals(demo_copy)

    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(
        StoreWriteError, match=rf"Could not write '{NAME}'.*No space left"
    ) as caught:
        early._write(path, frame.iloc[:2])
    assert caught.value.errno == errno.ENOSPC
    assert path.read_bytes() == original and sorted(demo_copy.iterdir()) == [path]
