"""Shared test settings."""

from __future__ import annotations

import os

import pytest

# Small convolutions on the 2-core CI machine run up to 25x slower with torch's default
# thread pool competing with other processes; one thread keeps the suite fast and deterministic.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Decoded-dataset cache in a per-session temp dir, never the user's ~/.cache."""
    cache = tmp_path_factory.getbasetemp() / "calstudy-cache"
    monkeypatch.setenv("CALSTUDY_CACHE", str(cache))


@pytest.fixture
def store(tmp_path):
    """An empty store (:class:`calstudy.store.Store`) in the test's temporary directory."""
    from calstudy.store import Store

    return Store(tmp_path / "store")
