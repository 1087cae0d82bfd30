"""Rows of the calibration table for the store tests (test_store, test_store_integrity)."""

from __future__ import annotations


def make_record(arch: str = "a", **overrides: object) -> dict[str, object]:
    """A valid row of one trained TSS network on CIFAR-10; ``overrides`` replace or add columns."""
    record: dict[str, object] = {
        "space": "tss",
        "arch": arch,
        "dataset": "cifar10",
        "seed": 0,
        "fidelity": "ep12-C16N1-frac1.0",
        "source": "trained",
        "status": "ok",
        "created_at": "2024-01-01T00:00:00+00:00",
        "acc": 0.9,
        "pre_ECE_15": 0.05,
        "post_ECE_15": 0.02,
    }
    record.update(overrides)
    return record
