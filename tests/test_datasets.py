"""calstudy.datasets: the demo store without a checkout, any store as a table."""

from __future__ import annotations

from pathlib import Path

import pytest

from calstudy import datasets


def test_load_demo_is_the_committed_store() -> None:
    df = datasets.load_demo()
    assert df.shape == (352, 219)
    assert (df["status"] == "ok").all()
    assert set(df["space"]) == {"tss", "sss"} and set(df["dataset"]) == {"cifar10", "fashion-mnist"}


def test_demo_path_prefers_the_packaged_copy(tmp_path: Path, monkeypatch) -> None:
    packaged = tmp_path / "demo_data"
    packaged.mkdir()
    monkeypatch.setattr(datasets, "_PACKAGED_DEMO", packaged)
    assert datasets.demo_path() == datasets._CHECKOUT_DEMO  # empty: falls back to the checkout
    (packaged / "shard-x.parquet").write_bytes(b"")
    assert datasets.demo_path() == packaged
    monkeypatch.setattr(datasets, "_CHECKOUT_DEMO", tmp_path / "nowhere")
    (packaged / "shard-x.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="Expected the demo store in the calstudy package"):
        datasets.demo_path()


def test_load_store_refuses_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="Expected `path` to be a store directory"):
        datasets.load_store(tmp_path / "missing")
