"""Tests for calstudy.nats on miniature benchmark archives in NATS-Bench's fast-mode format.

The archives are written with nats_bench's own ``ArchResults``/``ResultsCount`` state dicts and
``pickle_save`` (bz2 pickles), exactly the layout ``nats_bench.create(path, space,
fast_mode=True)`` reads: ``meta.pickle.pbz2`` with ``meta_archs`` and one
``{index:06d}.pickle.pbz2`` per architecture mapping ``hp`` (epochs) to its results. The
weights are those of small xautodl networks (C = 8, N = 1 for TSS) with randomised parameters
and BN statistics, standing in for NATS-Bench's trained ones.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from calstudy.models import SSSNetwork, TinyNetwork
from calstudy.nats import (
    arch_to_index,
    index_to_arch,
    net_config,
    open_benchmark,
    pretrained_network,
)
from calstudy.space import SSS_CELL, sample_archs

nats_bench = pytest.importorskip("nats_bench")
xautodl_models = pytest.importorskip("xautodl.models")

TSS_ARCHS = sample_archs("tss", 3, seed=21)
SSS_ARCHS = ["8:16:24:32:40", "16:8:8:16:8"]
MISSING = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    """Tiny CPU convolutions run much faster on one thread than on contended cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _trained_state(config: dict, *, seed: int) -> dict[str, torch.Tensor]:
    """The state dict of an xautodl network with random weights and BN statistics."""
    torch.manual_seed(seed)
    net = xautodl_models.get_cell_based_tiny_net(config)
    with torch.no_grad():
        for name, tensor in net.state_dict().items():
            if name.endswith("running_var"):
                tensor.uniform_(0.5, 1.5)
            elif not name.endswith("num_batches_tracked"):
                tensor.normal_(0.0, 0.3)
    return {k: v.clone() for k, v in net.state_dict().items()}


def _write_archive(root: Path, archs: list[str], runs: dict[int, dict]) -> None:
    """Write ``meta.pickle.pbz2`` and ``{index:06d}.pickle.pbz2`` files.

    ``runs[index][hp][(dataset, seed)] = (arch_config, state_dict)``; indexes without runs get
    no file, as if that part of the archive were missing.
    """
    root.mkdir()
    nats_bench.pickle_save({"meta_archs": list(archs)}, str(root / "meta.pickle"))
    for index, per_hp in runs.items():
        file = {}
        for hp, trials in per_hp.items():
            arch_results = nats_bench.ArchResults(index, archs[index])
            for (dataset, seed), (arch_config, state_dict) in trials.items():
                result = nats_bench.ResultsCount(
                    dataset, state_dict, {}, {}, 0.1, 1.0, arch_config, seed, int(hp), None
                )
                arch_results.update(dataset, seed, result)
            file[hp] = arch_results.state_dict()
        nats_bench.pickle_save(file, str(root / f"{index:06d}.pickle"))


def _tss_arch_config(arch: str, num_classes: int) -> dict:
    return {"channel": 8, "num_cells": 1, "arch_str": arch, "class_num": num_classes}


def _tss_net_config(arch: str, num_classes: int) -> dict:
    return {"name": "infer.tiny", "C": 8, "N": 1, "arch_str": arch, "num_classes": num_classes}


@pytest.fixture(scope="module")
def tss_archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Three trained TSS architectures plus a fourth listed in meta but without a file.

    Returns the archive path and ``states[(index, dataset, seed, hp)]``.
    """
    states: dict[tuple[int, str, int, str], dict] = {}
    runs: dict[int, dict] = {}
    for index, arch in enumerate(TSS_ARCHS):
        trials: dict[str, dict] = {"200": {}, "12": {}}
        plan = [("cifar10", 777, "200"), ("cifar10", 888, "200"), ("cifar10", 777, "12")]
        if index == 1:
            plan.append(("cifar100", 777, "200"))
        for dataset, seed, hp in plan:
            num_classes = 100 if dataset == "cifar100" else 10
            state = _trained_state(
                _tss_net_config(arch, num_classes), seed=index * 1000 + seed + int(hp)
            )
            states[(index, dataset, seed, hp)] = state
            trials[hp][(dataset, seed)] = (_tss_arch_config(arch, num_classes), state)
        runs[index] = trials
    root = tmp_path_factory.mktemp("nats") / "NATS-tss-v1_0-3ffb9-full"
    _write_archive(root, [*TSS_ARCHS, MISSING], runs)
    return root, states


@pytest.fixture(scope="module")
def sss_archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    states: dict[int, dict] = {}
    runs: dict[int, dict] = {}
    for index, arch in enumerate(SSS_ARCHS):
        config = {
            "name": "infer.shape.tiny",
            "channels": arch,
            "genotype": SSS_CELL,
            "num_classes": 10,
        }
        states[index] = _trained_state(config, seed=index)
        arch_config = {
            "name": "infer.shape.tiny",
            "channels": arch,
            "genotype": SSS_CELL,
            "class_num": 10,
        }
        runs[index] = {"90": {("cifar10", 777): (arch_config, states[index])}}
    root = tmp_path_factory.mktemp("nats") / "NATS-sss-v1_0-50262-full"
    _write_archive(root, SSS_ARCHS, runs)
    return root, states


def _xautodl_logits(config: dict, state: dict, x: torch.Tensor) -> torch.Tensor:
    net = xautodl_models.get_cell_based_tiny_net(config)
    net.load_state_dict(state, strict=True)
    with torch.no_grad():
        return net.eval()(x)[1]


# ---------------------------------------------------------------------------------------------
# Index ↔ arch and configs
# ---------------------------------------------------------------------------------------------


def test_index_arch_round_trip(tss_archive, sss_archive) -> None:
    api = open_benchmark(tss_archive[0], "tss")
    assert len(api) == 4
    for index, arch in enumerate([*TSS_ARCHS, MISSING]):
        assert arch_to_index(api, arch) == index
        assert index_to_arch(api, index) == arch
    sss_api = open_benchmark(str(sss_archive[0]), "sss")
    assert [arch_to_index(sss_api, a) for a in SSS_ARCHS] == [0, 1]


def test_net_config_matches_archive(tss_archive, sss_archive) -> None:
    api = open_benchmark(tss_archive[0], "tss")
    assert net_config(api, 1, "cifar100") == _tss_net_config(TSS_ARCHS[1], 100)
    assert net_config(api, 2, "cifar10") == _tss_net_config(TSS_ARCHS[2], 10)
    assert net_config(api, 1, "CIFAR100") == net_config(api, 1, "cifar100")  # case-insensitive
    assert net_config(api, np.int64(2), "cifar10") == net_config(api, 2, "cifar10")
    sss_api = open_benchmark(sss_archive[0], "sss")
    assert net_config(sss_api, 1, "cifar10") == {
        "name": "infer.shape.tiny",
        "channels": SSS_ARCHS[1],
        "genotype": SSS_CELL,
        "num_classes": 10,
    }


# ---------------------------------------------------------------------------------------------
# Pretrained weights
# ---------------------------------------------------------------------------------------------


def test_pretrained_tss_networks_reproduce_the_archived_weights(tss_archive) -> None:
    root, states = tss_archive
    api = open_benchmark(root, "tss")
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    for (index, dataset, seed, hp), state in states.items():
        net = pretrained_network(api, index, dataset, seed=seed, hp=hp)
        assert isinstance(net, TinyNetwork) and not net.training
        assert net.arch == TSS_ARCHS[index]
        for name, tensor in net.state_dict().items():
            torch.testing.assert_close(tensor, state[name], atol=0, rtol=0, msg=name)
        expected = _xautodl_logits(
            _tss_net_config(TSS_ARCHS[index], net.classifier.out_features), state, x
        )
        with torch.no_grad():
            torch.testing.assert_close(net(x), expected, atol=1e-6, rtol=0)


def test_pretrained_defaults_to_full_schedule_and_smallest_seed(tss_archive) -> None:
    root, states = tss_archive
    api = open_benchmark(root, "tss")
    net = pretrained_network(api, 0, "cifar10")
    expected = states[(0, "cifar10", 777, "200")]
    torch.testing.assert_close(net.classifier.weight, expected["classifier.weight"], atol=0, rtol=0)
    other = pretrained_network(api, 0, "cifar10", seed=888)
    assert not torch.equal(other.classifier.weight, net.classifier.weight)
    short = pretrained_network(api, 0, "cifar10", hp="12")
    torch.testing.assert_close(
        short.classifier.weight,
        states[(0, "cifar10", 777, "12")]["classifier.weight"],
        atol=0,
        rtol=0,
    )


def test_pretrained_sss_networks(sss_archive) -> None:
    root, states = sss_archive
    api = open_benchmark(root, "sss")
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    for index, arch in enumerate(SSS_ARCHS):
        net = pretrained_network(api, arch_to_index(api, arch), "cifar10")  # hp defaults to '90'
        assert isinstance(net, SSSNetwork) and net.arch == arch
        config = {
            "name": "infer.shape.tiny",
            "channels": arch,
            "genotype": SSS_CELL,
            "num_classes": 10,
        }
        with torch.no_grad():
            torch.testing.assert_close(
                net(x), _xautodl_logits(config, states[index], x), atol=1e-6, rtol=0
            )


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_open_benchmark_errors(
    tmp_path: Path, tss_archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(
        FileNotFoundError,
        match=r"Expected `path` to be a NATS-Bench archive directory, got .*does not exist",
    ):
        open_benchmark(tmp_path / "absent", "tss")
    file = tmp_path / "NATS-tss-v1_0-3ffb9.pickle.pbz2"
    file.write_bytes(b"")
    with pytest.raises(
        ValueError, match=r"Expected `path` to be a NATS-Bench archive directory .* got the file"
    ):
        open_benchmark(file, "tss")
    with pytest.raises(FileNotFoundError, match=r"holding 'meta.pickle.pbz2'"):
        open_benchmark(tmp_path, "tss")
    with pytest.raises(ValueError, match=r"Expected `space` to be 'tss' or 'sss', got 'topo'"):
        open_benchmark(tss_archive[0], "topo")
    monkeypatch.setitem(sys.modules, "nats_bench", None)
    with pytest.raises(ImportError, match=r"needs the `nats_bench` package"):
        open_benchmark(tss_archive[0], "tss")


def test_query_errors(tss_archive) -> None:
    api = open_benchmark(tss_archive[0], "tss")
    with pytest.raises(ValueError, match=r"Expected `arch` to be a NATS-Bench topology string"):
        arch_to_index(api, "8:8:8:8:8")
    absent = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    assert absent not in TSS_ARCHS
    with pytest.raises(
        ValueError, match=r"Expected `arch` to be an architecture of this benchmark \(4 listed\)"
    ):
        arch_to_index(api, absent)
    with pytest.raises(
        ValueError, match=r"Expected `index` to be an architecture index in \[0, 4\), got 4"
    ):
        index_to_arch(api, 4)
    with pytest.raises(
        ValueError, match=r"Expected `index` to be an architecture index in \[0, 4\), got -1"
    ):
        net_config(api, -1, "cifar10")
    with pytest.raises(ValueError, match=r"Expected `dataset` to be one of .*got 'cifar-10'"):
        net_config(api, 0, "cifar-10")
    with pytest.raises(
        FileNotFoundError, match=r"results of architecture 3, got no file .*000003.pickle.pbz2"
    ):
        pretrained_network(api, 3, "cifar10")
    with pytest.raises(ValueError, match=r"Expected `hp` to be a training schedule .* got '90'"):
        pretrained_network(api, 0, "cifar10", hp="90")
    with pytest.raises(
        ValueError, match=r"Expected `seed` to be one of the trials \[777, 888\] .* got 999"
    ):
        pretrained_network(api, 0, "cifar10", seed=999)
    with pytest.raises(
        ValueError, match=r"Expected `dataset` to be one the benchmark holds .* got 'cifar100'"
    ):
        pretrained_network(api, 0, "cifar100")
    with pytest.raises(ValueError, match=r"Expected `api` to be a NATS-Bench API"):
        net_config(object(), 0, "cifar10")


def test_archive_without_weights_is_rejected(tmp_path: Path) -> None:
    arch = TSS_ARCHS[0]
    root = tmp_path / "NATS-tss-v1_0-3ffb9-simple"
    _write_archive(
        root, [arch], {0: {"200": {("cifar10", 777): (_tss_arch_config(arch, 10), None)}}}
    )
    api = open_benchmark(root, "tss")
    with pytest.raises(ValueError, match=r"holds none, as in the '-simple' TSS archives"):
        pretrained_network(api, 0, "cifar10")


# ---------------------------------------------------------------------------------------------
# Files are read by calstudy.safe_pickle, never by nats_bench's pickle.load
# ---------------------------------------------------------------------------------------------


def test_archive_files_are_read_by_safe_pickle_not_nats_bench(
    tss_archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError(f"nats_bench's pickle_load{args} ran pickle.load on an archive file")

    for module in ("nats_bench.api_utils", "nats_bench.api_topology", "nats_bench.api_size"):
        monkeypatch.setattr(f"{module}.pickle_load", refuse)
    root, states = tss_archive
    api = open_benchmark(root, "tss")
    assert isinstance(api, nats_bench.NATStopology) and type(api).__name__ == "NATStopology"
    assert repr(api).startswith("NATStopology(0/4 architectures, fast_mode=True")
    net = pretrained_network(api, 0, "cifar10")
    torch.testing.assert_close(
        net.classifier.weight, states[(0, "cifar10", 777, "200")]["classifier.weight"]
    )
    # nats_bench's own queries load an architecture's file through calstudy too
    params = api.get_net_param(2, "cifar10", None, hp="200")
    assert sorted(params) == [777, 888]
    for seed, weights in params.items():
        torch.testing.assert_close(
            weights["classifier.weight"],
            states[(2, "cifar10", seed, "200")]["classifier.weight"],
            atol=0,
            rtol=0,
        )
    assert api.query_meta_info_by_index(1, "200").get_dataset_names() == ["cifar10", "cifar100"]
    assert api.evaluated_indexes == {0, 1, 2} and sorted(api.avaliable_hps) == ["12", "200"]
