"""Tests of calstudy.schema and calstudy.store."""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from store_rows import make_record

from calstudy import catalogue
from calstudy.schema import (
    ATTACK_COLUMNS,
    CORRUPTIONS,
    KEY_COLUMNS,
    SCHEMA,
    key_of,
    provenance,
    validate_record,
    validate_table,
)
from calstudy.store import Problem, Store

REPO = Path(__file__).resolve().parent.parent


def key(arch: str = "a", seed: int = 0) -> tuple[str, str, str, int, str]:
    return ("tss", arch, "cifar10", seed, "ep12-C16N1-frac1.0")


def publish(root: Path, table: pa.Table, stamp: str = "20200101T000000000000Z") -> Path:
    """Write ``table`` as a checksummed shard as-is (no validation), as an old writer might."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    data = sink.getvalue().to_pybytes()
    digest = hashlib.sha256(data).hexdigest()[:32]
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"shard-{stamp}-1-{hashlib.sha256(data).hexdigest()[-8:]}-{digest}.parquet"
    path.write_bytes(data)
    return path


# ── schema ───────────────────────────────────────────────────────────────────────────────────
def test_schema_holds_every_catalogue_and_paper_robustness_column() -> None:
    names = SCHEMA.names
    assert len(names) == len(set(names))
    assert set(catalogue.metric_columns()) <= set(names)
    assert {"pre_auc_cifar10c", "pre_auc_svhn", "pre_auc_ood", "ood_dataset"} <= set(names)
    assert len(ATTACK_COLUMNS) == 11 + 11 + 7 + 7
    assert {"fgsm_Linf_acc0_1", "pgd_Linf_acc255_0", "aa_square_Linf_acc8_0"} <= set(names)
    assert len(CORRUPTIONS) == 15 and set(CORRUPTIONS) <= set(names)
    assert SCHEMA.field("seed").type == pa.int64()
    assert SCHEMA.field("ood_dataset").type == pa.string()


def test_schema_holds_the_feature_columns_of_calstudy_space() -> None:
    from calstudy import space

    tss = space.tss_features(space.all_tss()[0])
    sss = space.sss_features("8:16:24:32:40")
    tss_row = validate_record(make_record(**tss))
    sss_row = validate_record(make_record(space="sss", arch="8:16:24:32:40", **sss))
    assert {k: tss_row[k] for k in tss} == tss
    assert sss_row["c1"] == 16 and sss_row["total_width"] == 120


def test_validate_record_coerces_losslessly() -> None:
    row = validate_record(
        make_record(seed=3.0, acc=1, arch_index=np.int64(7), pre_NLL=float("nan"), skip_0_3=1)
        | {"created_at": "2024-05-01T12:00:00Z"}
    )
    assert row["seed"] == 3 and isinstance(row["seed"], int)
    assert row["acc"] == 1.0 and isinstance(row["acc"], float)
    assert row["arch_index"] == 7 and type(row["arch_index"]) is int
    assert row["pre_NLL"] is None
    assert row["skip_0_3"] is True
    assert row["created_at"] == "2024-05-01T12:00:00.000000+00:00"


def test_validate_record_unknown_column_names_close_match() -> None:
    with pytest.raises(ValueError, match=r"'pre_ECE15' \(did you mean 'pre_ECE_15'"):
        validate_record(make_record(pre_ECE15=0.1))


def test_validate_record_missing_key_column() -> None:
    record = make_record()
    del record["seed"]
    with pytest.raises(ValueError, match=r"missing required column\(s\) \['seed'\]"):
        validate_record(record)


@pytest.mark.parametrize(
    ("column", "value"),
    [("seed", 1.5), ("acc", "high"), ("arch", 3), ("acc", True), ("skip_0_3", 2)],
)
def test_validate_record_wrong_type_names_column(column: str, value: object) -> None:
    with pytest.raises(ValueError, match=rf"Expected `{column}` to be"):
        validate_record(make_record(**{column: value}))


def test_validate_record_rejects_unknown_category_and_naive_time() -> None:
    with pytest.raises(ValueError, match=r"Expected `space` to be one of \['sss', 'tss'\]"):
        validate_record(make_record(space="xss"))
    with pytest.raises(ValueError, match="time zone"):
        validate_record(make_record(created_at="2024-01-01T00:00:00"))


def test_key_of() -> None:
    assert key_of(make_record(seed=np.int64(2))) == key(seed=2)
    with pytest.raises(ValueError, match=r"missing key column\(s\) \['arch'\]"):
        key_of({"space": "tss", "dataset": "x", "seed": 0, "fidelity": "f"})


def test_validate_table_is_strict_and_vectorised() -> None:
    frame = pd.DataFrame([make_record("a"), make_record("b", acc=float("nan"))])
    table = validate_table(frame)
    assert table.schema.equals(SCHEMA)
    assert table["acc"].null_count == 1
    with pytest.raises(ValueError, match=r"`seed` in frame to be int64 without loss"):
        validate_table(frame.assign(seed=[0.0, 1.5]))
    with pytest.raises(ValueError, match=r"Required column\(s\) null or missing in frame: status"):
        validate_table(frame.assign(status=["ok", None]))
    with pytest.raises(ValueError, match=r"`arch` in frame to be string"):
        validate_table(frame.assign(arch=[1, 2]))


def test_provenance_fields() -> None:
    fields = provenance(device="cpu", wall_time_s=1.5)
    assert fields["device"] == "cpu" and fields["wall_time_s"] == 1.5
    validate_record(make_record(**fields))  # created_at is canonical, every field known


# ── writing and reading ──────────────────────────────────────────────────────────────────────
def test_append_and_read_round_trip(store: Store) -> None:
    shard = store.append([make_record("a"), make_record("b", arch_index=5, acc=0.5)])
    assert shard is not None and shard.parent == store.root
    assert shard.name.startswith("shard-") and shard.name.endswith(".parquet")
    assert list(store.root.iterdir()) == [shard]  # no temporary file left behind
    frame = store.read()
    assert list(frame.columns) == SCHEMA.names
    assert frame["arch"].tolist() == ["a", "b"]
    assert frame["acc"].tolist() == [0.9, 0.5]
    assert frame["arch_index"].dtype == "Int64" and frame["arch_index"].isna().tolist() == [
        True,
        False,
    ]
    assert math.isnan(frame.loc[0, "pre_KSCE"])
    assert store.keys() == {key("a"), key("b")}


def test_append_nothing_writes_nothing(store: Store) -> None:
    assert store.append([]) is None
    assert store.shards() == [] and store.keys() == set()
    assert store.read().empty


def test_append_invalid_record_writes_nothing(store: Store) -> None:
    with pytest.raises(ValueError, match=r"Record 1: .*`seed`"):
        store.append([make_record("a"), make_record("b", seed="zero")])
    assert store.shards() == []


def test_latest_created_at_wins_regardless_of_write_order(store: Store) -> None:
    store.append([make_record("a", acc=0.7, created_at="2024-03-01T00:00:00Z")])
    store.append([make_record("a", acc=0.1, created_at="2024-02-01T00:00:00Z")])
    frame = store.read()
    assert len(frame) == 1 and frame.loc[0, "acc"] == 0.7


def test_latest_failed_row_unfinishes_key(store: Store) -> None:
    store.append([make_record("a"), make_record("b")])
    failed = make_record("a", status="failed", error="CUDA OOM", created_at="2024-06-01T00:00Z")
    store.append([failed])
    assert store.keys() == {key("b")}


def test_equal_created_at_later_shard_wins(store: Store) -> None:
    store.append([make_record("a", acc=0.1)])
    store.append([make_record("a", acc=0.2)])
    assert store.read()["acc"].tolist() == [0.2]


def test_read_columns_and_where(store: Store) -> None:
    store.append([make_record("a", seed=0), make_record("b", seed=1, dataset="cifar100")])
    store.append([make_record("c", seed=2, status="failed")])
    frame = store.read(["arch", "acc"], where={"seed": [0, 2]})
    assert list(frame.columns) == ["arch", "acc"]
    assert frame["arch"].tolist() == ["a", "c"]
    assert store.read(["arch"], where={"status": "ok", "dataset": "cifar100"})["arch"].tolist() == [
        "b"
    ]
    with pytest.raises(ValueError, match=r"Unknown column\(s\) in read\(\): 'acc_'"):
        store.read(["acc_"])


def test_where_applies_after_duplicates_are_resolved(store: Store) -> None:
    store.append([make_record("a", status="ok")])
    store.append([make_record("a", status="failed", created_at="2025-01-01T00:00Z")])
    assert store.read(where={"status": "ok"}).empty


def test_read_tolerates_shards_missing_optional_columns(store: Store) -> None:
    old = pa.Table.from_pylist([{k: v for k, v in make_record().items() if k != "pre_ECE_15"}])
    publish(store.root, old)
    frame = store.read(["arch", "acc", "pre_ECE_15"])
    assert frame["acc"].tolist() == [0.9] and frame["pre_ECE_15"].isna().all()
    assert store.validate() == []
    store.append([make_record("b")])
    con = store.duckdb_view()
    rows = con.execute("SELECT arch, pre_ECE_15 FROM calibration ORDER BY arch").fetchall()
    assert rows == [("a", None), ("b", 0.05)]


# ── corruption and temporary files ───────────────────────────────────────────────────────────
def test_truncated_shard_is_reported_by_name(store: Store) -> None:
    shard = store.append([make_record()])
    assert shard is not None
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2])
    pattern = rf"Shard '{shard.name}' in '.*' is corrupt: Parquet magic bytes missing"
    with pytest.raises(ValueError, match=pattern):
        store.read()
    problems = store.validate()
    assert [(p.kind, p.severity) for p in problems] == [("corrupt", "error")]
    assert problems[0].path == shard and "magic bytes" in str(problems[0])


def test_garbage_between_magic_bytes_is_corrupt(store: Store) -> None:
    store.root.mkdir()
    bad = store.root / "shard-20240101T000000000000Z-1-deadbeef.parquet"
    bad.write_bytes(b"PAR1" + b"\x00" * 64 + b"PAR1")
    with pytest.raises(ValueError, match=rf"Shard '{bad.name}' .* is corrupt"):
        store.keys()
    assert [p.kind for p in store.validate()] == ["corrupt"]


def test_schema_violation_is_reported(store: Store) -> None:
    rows = [make_record(space="xss"), make_record("b", nonsense=1)]
    paths = [
        publish(store.root, pa.Table.from_pylist([row]), stamp=f"2024010{i}T000000000000Z")
        for i, row in enumerate(rows)
    ]
    problems = store.validate()
    assert [p.kind for p in problems] == ["schema", "schema"]
    assert "`space`" in problems[0].message and paths[0].name in problems[0].message
    assert "'nonsense'" in problems[1].message


def test_temp_files_are_ignored_reported_and_fixed(store: Store) -> None:
    store.append([make_record()])
    leftover = store.root / ".shard-x.parquet.0123abcd.tmp"
    leftover.write_bytes(b"PAR1partial")
    assert len(store.read()) == 1
    problems = store.validate()
    assert [p.kind for p in problems] == ["temp-file"] and problems[0].path == leftover
    assert problems[0].severity == "warning"
    assert [p.kind for p in store.validate(fix=True)] == ["temp-file"]  # too young to be stale
    assert store.validate(fix=True, stale_after_s=0) == []
    assert not leftover.exists()


def test_killed_writer_leaves_no_visible_shard(store: Store) -> None:
    code = textwrap.dedent(
        f"""
        import os, pathlib, calstudy.files as files
        def die(f):
            f.write(b"PAR1 half a shard")
            f.flush()
            os._exit(3)
        files.atomic_write(pathlib.Path({str(store.root / "shard-killed.parquet")!r}), die)
        """
    )
    store.root.mkdir()
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False)
    assert result.returncode == 3
    assert store.shards() == []
    assert [p.kind for p in store.validate()] == ["temp-file"]
    assert len(store.remove_orphaned_temp_files()) == 1  # its writer is dead: a resume cleans up
    assert store.validate() == [] and list(store.root.iterdir()) == []


def test_orphaned_temp_files_only_of_dead_writers_on_this_host(store: Store) -> None:
    from calstudy.files import HOST

    store.root.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    names = {
        "dead": f".shard-a.parquet.{HOST}-{int(dead.stdout)}-0123abcd.tmp",
        "alive": f".shard-b.parquet.{HOST}-{os.getppid()}-0123abcd.tmp",
        "mine": f".shard-c.parquet.{HOST}-{os.getpid()}-0123abcd.tmp",
        "other host": f".shard-d.parquet.{'f' * 8 if HOST != 'f' * 8 else 'e' * 8}-1-0123abcd.tmp",
        "old name": ".shard-e.parquet.0123abcd.tmp",
    }
    for name in names.values():
        (store.root / name).write_bytes(b"PAR1partial")
    removed = store.remove_orphaned_temp_files()
    assert [p.name for p in removed] == [names["dead"]]
    assert len(store.validate()) == 4  # the others are still reported, and kept


def test_concurrent_writers_never_collide(store: Store) -> None:
    code = textwrap.dedent(
        """
        import sys
        from calstudy.schema import utc_now
        from calstudy.store import Store
        store, worker = Store(sys.argv[1]), sys.argv[2]
        for i in range(5):
            store.append([{"space": "sss", "arch": f"{worker}:{i}", "dataset": "cifar10",
                           "seed": 0, "fidelity": "nats-90", "source": "trained",
                           "status": "ok", "created_at": utc_now()}])
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(store.root), str(w)], cwd=REPO)
        for w in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    assert len(store.shards()) == 20
    assert {k[1] for k in store.keys()} == {f"{w}:{i}" for w in range(4) for i in range(5)}
    assert store.validate() == []


# ── maintenance ──────────────────────────────────────────────────────────────────────────────
def test_merge_compacts_and_keeps_latest(store: Store) -> None:
    store.append([make_record("a", acc=0.1), make_record("b")])
    store.append([make_record("a", acc=0.2, created_at="2024-02-01T00:00Z")])
    store.append([make_record("c", status="failed", error="boom")])
    before = store.read()
    assert [p.kind for p in store.validate()] == ["duplicate"]
    merged = store.merge()
    assert store.shards() == [merged]
    pd.testing.assert_frame_equal(
        store.read().sort_values("arch", ignore_index=True),
        before.sort_values("arch", ignore_index=True),
    )
    assert store.read(["arch", "acc"]).set_index("arch").loc["a", "acc"] == 0.2
    assert store.validate() == []
    assert Store(store.root.parent / "empty").merge() is None


def test_validate_flags_ties_from_an_interrupted_merge(store: Store) -> None:
    store.append([make_record("a")])
    store.append([make_record("a")])
    problems = store.validate()
    assert [(p.kind, p.severity) for p in problems] == [("duplicate", "warning")] * 2
    assert "1 key(s) have more than one row, e.g. ('tss', 'a', 'cifar10', 0, " in str(problems[0])
    assert "same latest created_at" in problems[1].message
    shards = [p.name for p in store.shards()]
    assert str(shards) in problems[1].message
    assert isinstance(problems[0], Problem)


def test_describe_summarises(store: Store) -> None:
    store.append(
        [
            make_record("a", acc=0.8, wall_time_s=1800.0, device="cpu", calstudy_version="0.1"),
            make_record("b", seed=1, acc=0.6, wall_time_s=1800.0, device="cpu"),
            make_record("c", status="failed", error="CUDA out of memory", acc=None),
        ]
    )
    text = store.describe()
    assert "1 shard(s), 3 row(s)" in text
    assert "Seeds: [0, 1]" in text
    assert "Fidelities: ep12-C16N1-frac1.0" in text
    assert "Failed jobs: 1" in text and "CUDA out of memory" in text
    assert "total wall time: 1.00 h" in text
    assert "devices: cpu (2)" in text and "calstudy versions: 0.1 (1)" in text
    acc_line = next(line for line in text.splitlines() if line.startswith("acc"))
    assert acc_line.split()[1:] == ["2", "0.6000", "0.7000", "0.8000"]
    assert "0 row(s)" in Store(store.root.parent / "nothing").describe()


def test_duckdb_view_resolves_duplicates(store: Store) -> None:
    with pytest.raises(FileNotFoundError, match="No shards"):
        store.duckdb_view()
    store.append([make_record("a", acc=0.1), make_record("b", acc=0.3)])
    store.append([make_record("a", acc=0.2, created_at="2024-09-01T00:00Z")])
    con = store.duckdb_view()
    rows = con.execute("SELECT arch, acc FROM calibration ORDER BY arch").fetchall()
    assert rows == [("a", 0.2), ("b", 0.3)]
    assert "filename" not in con.execute("SELECT * FROM calibration").fetchdf().columns
    with pytest.raises(ValueError, match="SQL identifier"):
        store.duckdb_view(name="x; DROP")


# ── logits and recompute ─────────────────────────────────────────────────────────────────────
def test_logits_round_trip_float16(store: Store) -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 10)) * 5
    labels = rng.integers(0, 10, 50)
    path = store.save_logits(key(), {"test": logits, "labels": labels})
    assert path.parent == store.logits_dir and list(store.logits_dir.iterdir()) == [path]
    loaded = store.load_logits(key())
    assert set(loaded) == {"test", "labels"}
    assert loaded["test"].dtype == np.float16
    np.testing.assert_allclose(loaded["test"], logits, rtol=1e-3, atol=1e-3)
    np.testing.assert_array_equal(loaded["labels"], labels)
    assert loaded["labels"].dtype == labels.dtype
    assert store.logits_path(key()) != store.logits_path(key(seed=1))


def test_logits_errors(store: Store) -> None:
    with pytest.raises(FileNotFoundError, match=r"No logits saved for \('tss', 'a'"):
        store.load_logits(key())
    with pytest.raises(ValueError, match="fit in float16"):
        store.save_logits(key(), {"test": np.array([1e6])})
    with pytest.raises(ValueError, match="numeric array"):
        store.save_logits(key(), {"test": np.array(["x"])})
    with pytest.raises(ValueError, match="identifiers not starting with '__'"):
        store.save_logits(key(), {"__key__": np.zeros(1)})
    with pytest.raises(ValueError, match="Expected `key` to be a tuple"):
        store.save_logits(("tss", "a"), {"test": np.zeros(1)})  # type: ignore[arg-type]
    path = store.save_logits(key(), {"test": np.zeros(3)})
    os.replace(path, store.logits_path(key("b")))
    with pytest.raises(ValueError, match=r"holds key \['tss', 'a'"):
        store.load_logits(key("b"))
    store.logits_path(key()).write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"Logits file '.*\.npz' in '.*' is corrupt"):
        store.load_logits(key())


def _logits(n: int = 300, k: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) * 2
    logits[np.arange(n), labels] += 2.0
    return logits, labels


def test_recompute_supersedes_rows_with_saved_logits(store: Store) -> None:
    logits, labels = _logits()
    heldout_idx = np.arange(0, 300, 5)
    store.append(
        [
            make_record("a", pre_ECE_15=0.999, pre_ECE_5=0.5),
            make_record("b", pre_ECE_15=0.999, heldout_frac=0.2, split_seed=4),
            make_record("c", pre_ECE_15=0.999),  # no logits: left alone
            make_record("d", status="failed", pre_ECE_15=0.999),  # failed: left alone
        ]
    )
    store.save_logits(key("a"), {"test": logits, "labels": labels, "heldout_idx": heldout_idx})
    store.save_logits(key("b"), {"test": logits, "labels": labels})
    store.save_logits(key("d"), {"test": logits, "labels": labels})
    shard = store.recompute(["ECE_15"], progress=False)
    assert shard is not None and len(store.shards()) == 2

    half = logits.astype(np.float16).astype(np.float32)
    want_a = catalogue.full_record(half, labels, heldout_idx=heldout_idx, metrics=["ECE_15"])
    want_b = catalogue.full_record(half, labels, heldout_frac=0.2, seed=4, metrics=["ECE_15"])
    frame = store.read().set_index("arch")
    assert frame.loc["a", "pre_ECE_15"] == pytest.approx(want_a["pre_ECE_15"], abs=1e-12)
    assert frame.loc["a", "post_ECE_15"] == pytest.approx(want_a["post_ECE_15"], abs=1e-12)
    assert frame.loc["b", "post_ECE_15"] == pytest.approx(want_b["post_ECE_15"], abs=1e-12)
    assert frame.loc["a", "pre_ECE_5"] == 0.5  # not asked for: kept
    assert frame.loc["c", "pre_ECE_15"] == 0.999 and frame.loc["d", "pre_ECE_15"] == 0.999
    assert frame.loc["a", "created_at"] > "2024-01-01T00:00:00.000000+00:00"
    assert [p.kind for p in store.validate()] == ["duplicate"]  # superseded rows until merge


def test_recompute_errors(store: Store) -> None:
    with pytest.raises(ValueError, match=r"unknown \['ECE_7'\]\. Choices: .*ECE_15"):
        store.recompute(["ECE_7"], progress=False)
    assert store.recompute(["ECE_15"], progress=False) is None
    logits, labels = _logits()
    store.append([make_record("a")])
    store.save_logits(key("a"), {"test": logits, "labels": labels})
    with pytest.raises(ValueError, match=r"records no held-out split"):
        store.recompute(["ECE_15"], progress=False)
    store.save_logits(key("a"), {"test": logits})
    with pytest.raises(ValueError, match=r"lack array\(s\) \['labels'\]"):
        store.recompute(["ECE_15"], progress=False)


def test_key_columns_order() -> None:
    assert KEY_COLUMNS == ("space", "arch", "dataset", "seed", "fidelity")
