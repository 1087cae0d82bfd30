"""Checksummed, validated shards (calstudy.store): nothing damaged is ever read as values."""

from __future__ import annotations

import errno
import hashlib
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from store_rows import make_record

from calstudy import early
from calstudy.cli import main
from calstudy.schema import utc_now
from calstudy.store import (
    SHARD_NAME,
    CorruptShardError,
    LegacyShardWarning,
    Store,
    StoreWriteError,
)

REPO = Path(__file__).resolve().parent.parent
LEGACY = "shard-20240101T000000000000Z-1-0000000{}.parquet"


def rows(n: int, prefix: str = "a") -> list[dict[str, object]]:
    rng = np.random.default_rng(0)
    return [
        make_record(
            f"{prefix}{i}", seed=i % 3, acc=float(rng.uniform()), pre_NLL=float(rng.uniform())
        )
        for i in range(n)
    ]


def publish(root: Path, table: pa.Table, stamp: str = "20200101T000000000000Z") -> Path:
    """Write ``table`` unvalidated under its checksummed name, as a faulty writer might."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    data = sink.getvalue().to_pybytes()
    digest = hashlib.sha256(data).hexdigest()
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"shard-{stamp}-1-{digest[-8:]}-{digest[:32]}.parquet"
    path.write_bytes(data)
    return path


def write_legacy(root: Path, records: list[dict[str, object]], i: int = 0) -> Path:
    """A shard as calstudy wrote them before checksums: no checksum in its name."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / LEGACY.format(i)
    pq.write_table(pa.Table.from_pylist(records), path, compression="zstd")
    return path


# ── the bit-flip experiment ──────────────────────────────────────────────────────────────────
def flip_positions(data: bytes, *, n_per_region: int, seed: int) -> list[int]:
    """Bit positions covering the header, the data pages and the footer of a Parquet file."""
    meta = pq.ParquetFile(pa.BufferReader(data)).metadata
    footer_start = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
    first_page = min(
        offset
        for i in range(meta.num_columns)
        for offset in (
            meta.row_group(0).column(i).dictionary_page_offset,
            meta.row_group(0).column(i).data_page_offset,
        )
        if offset is not None
    )
    rng = np.random.default_rng(seed)
    regions = [(0, first_page + 32), (first_page + 32, footer_start), (footer_start, len(data))]
    positions = {*range(32), *range(8 * len(data) - 64, 8 * len(data))}  # magic, footer length
    for start, stop in regions:
        bits = np.arange(8 * start, 8 * stop)
        positions |= set(rng.choice(bits, size=min(n_per_region, bits.size), replace=False).tolist())
    return sorted(positions)


def flip_experiment(store: Store, positions: list[int]) -> dict[str, int]:
    """Flip each bit in turn; count flips refused by every reader, and silent reads."""
    (shard,) = store.shards()
    original = shard.read_bytes()
    readers = {
        "read": store.read,
        "keys": store.keys,
        "describe": store.describe,
        "duckdb_view": lambda: store.duckdb_view().execute("SELECT * FROM calibration").fetchall(),
    }
    counts = {"tried": 0, "refused": 0, "silent": 0}
    try:
        for position in positions:
            damaged = bytearray(original)
            damaged[position // 8] ^= 1 << (position % 8)
            shard.write_bytes(bytes(damaged))
            counts["tried"] += 1
            refused = True
            for reader in readers.values():
                try:
                    reader()
                except CorruptShardError as err:
                    assert err.path == shard and shard.name in str(err)
                else:
                    refused = False
            problems = store.validate()
            if not any(p.severity == "error" and p.path == shard for p in problems):
                refused = False
            counts["refused" if refused else "silent"] += 1
    finally:
        shard.write_bytes(original)
    return counts


def test_no_bit_flip_is_ever_read_silently(store: Store) -> None:
    store.append(rows(20))
    (shard,) = store.shards()
    positions = flip_positions(shard.read_bytes(), n_per_region=110, seed=13)
    assert len(positions) >= 400  # 96 fixed (magic bytes, footer length) + 3 x 110
    counts = flip_experiment(store, positions)
    assert counts == {"tried": len(positions), "refused": len(positions), "silent": 0}
    assert len(store.read()) == 20 and store.validate() == []  # restored: reads again


def test_checksum_mismatch_message_names_shard_and_remedy(store: Store) -> None:
    shard = store.append(rows(3))
    assert shard is not None and SHARD_NAME.match(shard.name)["sha256"] is not None
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x10
    shard.write_bytes(bytes(data))
    with pytest.raises(CorruptShardError, match=rf"Shard '{shard.name}' in '.*' is corrupt: "
                       r"expected its bytes to have the SHA-256 .* Restore it") as caught:  # fmt: skip
        store.read()
    assert isinstance(caught.value, ValueError) and caught.value.kind == "corrupt"
    assert [(p.kind, p.severity, p.path) for p in store.validate()] == [("corrupt", "error", shard)]


def test_data_pages_carry_crc_checksums(store: Store, tmp_path: Path) -> None:
    shard = store.append(rows(5))
    assert shard is not None
    meta = pq.ParquetFile(shard).metadata
    column = meta.row_group(0).column(meta.schema.names.index("acc"))
    data = bytearray(shard.read_bytes())
    start = column.dictionary_page_offset if column.has_dictionary_page else column.data_page_offset
    data[start + column.total_compressed_size - 2] ^= 0xFF  # in the body of the chunk's last page
    copy = tmp_path / "copy.parquet"  # as a tool reading the file directly would see it
    copy.write_bytes(bytes(data))
    with pytest.raises(OSError, match="CRC"):
        pq.read_table(copy, columns=["acc"], page_checksum_verification=True)


# ── merge ────────────────────────────────────────────────────────────────────────────────────
def test_merge_refuses_a_shard_without_arch_and_deletes_nothing(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    good = store.append(rows(3))
    no_arch = pa.Table.from_pylist([{k: v for k, v in make_record("x").items() if k != "arch"}])
    bad = publish(store.root, no_arch)
    before = sorted(store.root.iterdir())
    with pytest.raises(CorruptShardError, match=rf"Shard '{bad.name}' .* does not fit the "
                       r"schema: .*required column.*\['arch'\]") as caught:  # fmt: skip
        store.merge()
    assert caught.value.path == bad and caught.value.kind == "schema"
    assert sorted(store.root.iterdir()) == before and good in before
    with pytest.raises(CorruptShardError, match="arch"):
        store.read()
    assert main(["dataset", "merge", str(store.root)]) == 1
    assert f"calstudy: error: Shard '{bad.name}'" in capsys.readouterr().err
    assert sorted(store.root.iterdir()) == before


def test_merge_refuses_invalid_values_and_unknown_columns(store: Store) -> None:
    store.append(rows(2))
    no_status = pa.Table.from_pylist([make_record("y", status=None)])
    publish(store.root, no_status, "20200102T000000000000Z")
    with pytest.raises(CorruptShardError, match="status"):
        store.merge()
    assert len(store.shards()) == 2
    store.root.joinpath(store.shards()[0].name).unlink()  # drop the bad one (oldest stamp)
    publish(store.root, pa.Table.from_pylist([make_record("z", extra=1)]), "20200103T000000000000Z")
    with pytest.raises(CorruptShardError, match="'extra'"):
        store.merge()  # merging would drop the column's data
    assert len(store.shards()) == 2


# ── readers on damaged or odd shards ─────────────────────────────────────────────────────────
def test_truncated_shard_is_a_clear_error_in_every_command(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    shard = store.append(rows(4))
    assert shard is not None
    shard.write_bytes(shard.read_bytes()[:-100])
    for command in (["describe"], ["query", "SELECT count(*) FROM calibration"], ["merge"]):
        argv = ["dataset", command[0], str(store.root), *command[1:]]
        assert main(argv) == 1, command
        err = capsys.readouterr().err
        assert err.startswith(f"calstudy: error: Shard '{shard.name}'") and "corrupt" in err
        assert "Traceback" not in err
    assert main(["dataset", "validate", str(store.root)]) == 1
    assert f"[corrupt] Shard '{shard.name}'" in capsys.readouterr().out


def test_mistyped_column_is_refused_by_readers(store: Store) -> None:
    bad = publish(store.root, pa.Table.from_pylist([make_record("a", seed="zero")]))
    with pytest.raises(CorruptShardError, match=r"Expected `seed` in shard .* to be int64"):
        store.read()
    with pytest.raises(CorruptShardError, match=bad.name):
        store.duckdb_view()
    assert [p.kind for p in store.validate()] == ["schema"]


def test_foreign_parquet_is_reported_and_ignored(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    store.append(rows(2))
    foreign = store.root / "results.parquet"
    pq.write_table(pa.Table.from_pylist([make_record("q")]), foreign)
    assert len(store.read()) == 2 and len(store.shards()) == 1
    problems = store.validate()
    assert [(p.kind, p.severity, p.path) for p in problems] == [
        ("unexpected-file", "warning", foreign)
    ]
    assert "Unexpected file 'results.parquet'" in problems[0].message
    assert main(["dataset", "validate", str(store.root)]) == 1
    assert "[unexpected-file] Unexpected file 'results.parquet'" in capsys.readouterr().out
    (store.root / "PROVENANCE.md").write_text("notes beside the data are fine")
    assert len(store.validate()) == 1


def test_file_named_like_a_shard_but_not_one_is_refused(store: Store) -> None:
    store.append(rows(2))
    odd = store.root / "shard-copy.parquet"
    odd.write_bytes(store.shards()[0].read_bytes())
    with pytest.raises(CorruptShardError, match="shard-copy.parquet.* not named like a shard"):
        store.read()
    with pytest.raises(CorruptShardError, match="shard-copy.parquet"):
        store.merge()
    assert odd.exists() and len(store.shards()) == 1
    assert [(p.kind, p.severity) for p in store.validate()] == [("unexpected-file", "error")]


@pytest.mark.parametrize("name", ["runs[X]", "runs*", "r?ns{a,b}"])
def test_glob_characters_in_the_store_path_read_only_that_store(tmp_path: Path, name: str) -> None:
    neighbours = ["runsX", "runsY", "runs[X]", "runs*", "r?ns{a,b}", "runs"]
    for other in neighbours:
        Store(tmp_path / other).append([make_record(other)])
    store = Store(tmp_path / name)
    assert store.read()["arch"].tolist() == [name]
    assert [p.kind for p in store.validate()] == []
    con = store.duckdb_view()
    assert con.execute("SELECT arch FROM calibration").fetchall() == [(name,)]
    assert len(store.shards()) == 1 and store.merge() is not None
    assert {other: len(Store(tmp_path / other).shards()) for other in neighbours} == dict.fromkeys(
        neighbours, 1
    )


# ── readers alongside a merge ────────────────────────────────────────────────────────────────
def test_reader_lists_again_when_a_merge_deletes_a_shard_under_it(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(3):
        store.append(rows(2, prefix=f"s{i}-"))
    expected = store.read()
    original = Store._load
    merged: list[Path | None] = []

    def load_with_a_merge_in_between(self: Store, path: Path) -> tuple[bytes, bool]:
        if not merged and path == self.shards()[1]:
            merged.append(None)  # once: the merge's own reads go straight through
            merged[0] = Store(self.root).merge()  # deletes `path` after writing its rows
        return original(self, path)

    monkeypatch.setattr(Store, "_load", load_with_a_merge_in_between)
    pd.testing.assert_frame_equal(store.read(), expected)
    assert merged[0] is not None and store.shards() == merged


def test_reader_gives_up_with_a_plain_error_when_shards_keep_vanishing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.append(rows(2))

    def vanished(self: Store, path: Path) -> tuple[bytes, bool]:
        raise FileNotFoundError(path)

    monkeypatch.setattr(Store, "_load", vanished)
    monkeypatch.setattr("calstudy.store.time.sleep", lambda s: None)
    for reader in (store.read, store.keys, store.describe, store.duckdb_view, store.validate):
        with pytest.raises(ValueError, match="a merge or migrate is running on this store"):
            reader()


def test_query_recreates_its_view_when_a_merge_runs_before_the_query(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store.append(rows(2))
    store.append([make_record("late", acc=0.5)])
    original = Store.duckdb_view
    calls: list[int] = []

    def view_then_merge(self: Store, *args: object, **kwargs: object) -> object:
        con = original(self, *args, **kwargs)
        if not calls:
            Store(self.root).merge()  # the view's files are gone when the query runs
        calls.append(1)
        return con

    monkeypatch.setattr(Store, "duckdb_view", view_then_merge)
    assert main(["dataset", "query", str(store.root), "SELECT count(*) AS n FROM calibration"]) == 0
    assert capsys.readouterr().out.split() == ["n", "3"] and len(calls) == 2


# ── disk full ────────────────────────────────────────────────────────────────────────────────
def disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("calstudy.store.os.fsync", fsync)


def test_disk_full_is_a_clear_error_and_leaves_the_store_intact(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store.append(rows(2))
    store.append([make_record("b", acc=0.1)])
    before_files = sorted(store.root.iterdir())
    before = store.read()
    with monkeypatch.context() as patch:
        disk_full(patch)
        with pytest.raises(StoreWriteError, match="No space left on device") as caught:
            store.append([make_record("c")])
        assert caught.value.errno == errno.ENOSPC and isinstance(caught.value, OSError)
        assert f"in '{store.root}'" in str(caught.value) and "'shard-" in str(caught.value)
        with pytest.raises(StoreWriteError, match="Nothing was published"):
            store.merge()
        assert main(["dataset", "merge", str(store.root)]) == 1
        err = capsys.readouterr().err
        assert err.startswith("calstudy: error: [Errno 28] Could not write 'shard-")
        assert str(store.root) in err and "Traceback" not in err
        with pytest.raises(StoreWriteError):
            store.save_logits(("tss", "b", "cifar10", 0, "ep12-C16N1-frac1.0"), {"x": np.ones(3)})
    after_files = sorted(p for p in store.root.iterdir() if p != store.logits_dir)
    assert after_files == before_files  # no new shard, no temporary file
    assert not list(store.logits_dir.iterdir())
    pd.testing.assert_frame_equal(store.read(), before)
    assert store.validate() == []


# ── legacy shards and migrate ────────────────────────────────────────────────────────────────
def test_legacy_shards_warn_once_per_read_and_migrate_keeps_values(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy = [write_legacy(store.root, rows(3, prefix=f"l{i}-"), i) for i in range(2)]
    store.append([make_record("new", created_at=utc_now())])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = store.read()
    messages = [str(w.message) for w in caught if issubclass(w.category, LegacyShardWarning)]
    assert len(messages) == 1 and "2 shard(s)" in messages[0]
    assert f"calstudy dataset migrate {store.root}" in messages[0]
    with pytest.warns(LegacyShardWarning):
        assert len(store.keys()) == 7
    problems = store.validate()
    assert [(p.kind, p.severity) for p in problems] == [("legacy", "warning")]

    assert main(["dataset", "migrate", str(store.root)]) == 0
    assert "Migrated 2 shard(s)" in capsys.readouterr().out
    assert all(not path.exists() for path in legacy)
    shards = store.shards()
    assert len(shards) == 3 and all(SHARD_NAME.match(p.name)["sha256"] for p in shards)
    for old in legacy:  # same time, pid and uuid: order and ties unchanged
        assert any(p.name.startswith(old.name.removesuffix(".parquet") + "-") for p in shards)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        after = store.read()
    pd.testing.assert_frame_equal(after, before)
    assert store.validate() == []
    assert store.migrate() == []
    assert main(["dataset", "migrate", str(store.root)]) == 0
    assert "nothing to migrate" in capsys.readouterr().out


def test_migrate_renames_nothing_when_a_legacy_shard_fails(store: Store) -> None:
    good = write_legacy(store.root, rows(2), 0)
    bad = write_legacy(store.root, [make_record("x", space="xss")], 1)
    with pytest.raises(CorruptShardError, match=rf"Shard '{bad.name}' .*`space`"):
        store.migrate()
    assert good.exists() and bad.exists() and len(store.shards()) == 2


def test_legacy_damage_is_still_caught_where_parquet_can_tell(store: Store) -> None:
    shard = write_legacy(store.root, rows(2))
    shard.write_bytes(shard.read_bytes()[:-30])
    with pytest.raises(CorruptShardError, match="magic bytes"):
        store.read()


def test_the_committed_demo_store_is_migrated_and_valid() -> None:
    demo = Store(REPO / "data" / "demo")
    assert all(SHARD_NAME.match(p.name)["sha256"] for p in demo.shards())
    with warnings.catch_warnings():
        warnings.simplefilter("error", LegacyShardWarning)
        assert demo.validate() == []
        assert len(demo.read(["arch"])) == 352


# ── early-signal files (read by calstudy.early, not through Store) ───────────────────────────
def test_early_reader_refuses_a_damaged_file(tmp_path: Path) -> None:
    source = REPO / "data/demo/early/early-tss-cifar10-seed1-sched3-n5000-w0of1.parquet"
    frame = pd.read_parquet(source)
    path = tmp_path / "early-tss-cifar10-seed1-sched3-n5000-w0of1.parquet"
    for column, value, message in [
        ("dataset", "cifar1 ", r"`dataset` in \[.*\], got \['cifar1 '\]"),
        ("early_acc_e2", np.nextafter(frame.loc[0, "early_acc_e2"], 1), "multiple of 1/n_val"),
        ("early_conf_e1", frame.loc[0, "early_conf_e1"] * 1.001, "gap = conf - acc"),
        ("early_ece_e3", float("inf"), "floats in"),
        ("arch", "|nor_conv_3x3~0|+|", "topology string"),
    ]:
        frame.assign(**{column: [value, *frame[column].iloc[1:]]}).to_parquet(path)
        with pytest.raises(ValueError, match=rf"{path.name} is damaged: .*{message}"):
            early.load_early_signals(tmp_path)
    frame.to_parquet(path)
    assert len(early.load_early_signals(tmp_path)) == len(frame)
