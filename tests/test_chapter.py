"""calstudy.chapter: loading a store for a book chapter, with its parameters checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from calstudy.chapter import load_study
from calstudy.store import Store


def _row(arch: str, seed: int, ece: float) -> dict:
    return {
        "space": "tss",
        "arch": arch,
        "dataset": "cifar10",
        "seed": seed,
        "fidelity": "ep1-C8N1-n100",
        "source": "trained",
        "status": "ok",
        "created_at": "2026-01-01T00:00:00Z",
        "acc": 0.5,
        "pre_ECE_15": ece,
        "post_ECE_15": ece / 2,
    }


@pytest.fixture
def seeded_store(tmp_path: Path) -> Path:
    Store(tmp_path / "store").append(
        [_row("a", 0, 0.1), _row("a", 1, 0.2), _row("a", 2, 0.3), _row("b", 1, 0.4)]
    )
    return tmp_path / "store"


def test_first_seed_keeps_one_row_per_network(seeded_store: Path) -> None:
    df = load_study(seeded_store, metrics=["ECE"], bin_counts=[15])
    assert sorted(zip(df["arch"], df["seed"], strict=True)) == [("a", 0), ("b", 1)]


def test_all_seeds_and_chosen_seeds(seeded_store: Path) -> None:
    assert len(load_study(seeded_store, seeds="all")) == 4
    df = load_study(seeded_store, seeds=[1])
    assert sorted(df["arch"]) == ["a", "b"]


def test_unknown_seed_is_named(seeded_store: Path) -> None:
    with pytest.raises(ValueError, match=r"`seeds` values from \[0, 1, 2\], got \[7\]"):
        load_study(seeded_store, seeds=[7])
    with pytest.raises(ValueError, match="Expected `seeds` to be 'first'"):
        load_study(seeded_store, seeds="some")
