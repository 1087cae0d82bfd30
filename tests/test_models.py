"""Tests for calstudy.models: equivalence with xautodl's NATS-Bench networks, builders, errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from calstudy.models import (
    SSSNetwork,
    TinyNetwork,
    build_network,
    fold_batchnorm,
    from_nats_config,
)
from calstudy.space import SSS_CELL, TSS_OPS, format_tss, sample_archs

xautodl_models = pytest.importorskip("xautodl.models")

EDGE_CASES = [format_tss([op] * 6) for op in TSS_OPS]  # all-none, all-skip, all-conv, all-pool
TSS_ARCHS = EDGE_CASES + sample_archs("tss", 4, seed=11, unique=False)
SSS_ARCHS = ["8:8:8:8:8", "64:8:64:8:64", "8:16:32:64:64", *sample_archs("sss", 3, seed=11)]


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    """Tiny CPU convolutions run much faster on one thread than on contended cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _tss_config(arch: str, *, C: int, N: int, num_classes: int = 10) -> dict:
    return {"name": "infer.tiny", "C": C, "N": N, "arch_str": arch, "num_classes": num_classes}


def _sss_config(arch: str, *, num_classes: int = 10) -> dict:
    return {
        "name": "infer.shape.tiny",
        "channels": arch,
        "genotype": SSS_CELL,
        "num_classes": num_classes,
    }


def _randomize(net: nn.Module, *, seed: int) -> nn.Module:
    """Give every parameter and BN statistic non-default values, so loading is observable."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in net.state_dict().items():
            if name.endswith("num_batches_tracked"):
                tensor.fill_(3)
            elif name.endswith("running_var"):
                tensor.copy_(0.5 + torch.rand(tensor.shape, generator=gen))
            else:
                tensor.copy_(0.3 * torch.randn(tensor.shape, generator=gen))
    return net


def _assert_equivalent(
    ours: nn.Module, theirs: nn.Module, *, seed: int, resolution: int = 16
) -> None:
    theirs_sd, ours_sd = theirs.state_dict(), ours.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    assert {k: v.shape for k, v in ours_sd.items()} == {k: v.shape for k, v in theirs_sd.items()}
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())
    x = torch.randn(2, 3, resolution, resolution, generator=torch.Generator().manual_seed(seed))

    # xautodl → ours, eval mode.
    ours.load_state_dict(_randomize(theirs, seed=seed).state_dict(), strict=True)
    ours.eval(), theirs.eval()
    with torch.no_grad():
        logits = ours(x)
        features, their_logits = theirs(x)
    assert logits.shape == (2, theirs.classifier.out_features)
    torch.testing.assert_close(logits, their_logits, atol=1e-6, rtol=0)

    # ours → xautodl, eval mode, with fresh weights.
    theirs.load_state_dict(_randomize(ours, seed=seed + 1).state_dict(), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x)[1], atol=1e-6, rtol=0)

    # One training-mode forward: same batch statistics and the same running-stat updates.
    ours.train(), theirs.train()
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x)[1], atol=1e-5, rtol=1e-5)
    for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6, msg=name)


@pytest.mark.parametrize("arch", TSS_ARCHS)
def test_tiny_network_equals_xautodl_small(arch: str) -> None:
    torch.manual_seed(0)
    theirs = xautodl_models.get_cell_based_tiny_net(_tss_config(arch, C=8, N=1))
    ours = TinyNetwork(arch, num_classes=10, C=8, N=1)
    _assert_equivalent(ours, theirs, seed=1)


def test_tiny_network_equals_xautodl_full_nats_size() -> None:
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    theirs = xautodl_models.get_cell_based_tiny_net(_tss_config(arch, C=16, N=5, num_classes=100))
    ours = build_network("tss", arch, num_classes=100)
    assert len(ours.cells) == 17
    _assert_equivalent(ours, theirs, seed=2, resolution=32)


@pytest.mark.parametrize("arch", SSS_ARCHS)
def test_sss_network_equals_xautodl(arch: str) -> None:
    theirs = xautodl_models.get_cell_based_tiny_net(_sss_config(arch))
    ours = SSSNetwork(arch, num_classes=10)
    _assert_equivalent(ours, theirs, seed=3)


def test_none_edges_make_constant_cells() -> None:
    net = TinyNetwork(format_tss(["none"] * 6), num_classes=4, C=4, N=1).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        logits = net(x)
    # The input cannot reach the classifier: every image gets the same logits.
    torch.testing.assert_close(logits[0], logits[1])


def test_from_nats_config_accepts_strings_and_structures() -> None:
    arch = TSS_ARCHS[-1]
    structure = xautodl_models.CellStructure.str2structure(arch)
    by_string = from_nats_config(_tss_config(arch, C=8, N=1, num_classes=5))
    by_structure = from_nats_config(
        {"name": "infer.tiny", "C": 8, "N": 1, "genotype": structure, "num_classes": 5}
    )
    assert isinstance(by_string, TinyNetwork) and by_string.arch == by_structure.arch == arch
    assert by_string.classifier.out_features == 5
    sss = from_nats_config(
        {
            "name": "infer.shape.tiny",
            "channels": "8:16:24:32:40",
            "genotype": xautodl_models.CellStructure.str2structure(SSS_CELL),
            "num_classes": 100,
        }
    )
    assert isinstance(sss, SSSNetwork) and sss.arch == "8:16:24:32:40"
    assert sss.classifier.in_features == 40 and sss.classifier.out_features == 100


def test_sss_network_accepts_width_sequence() -> None:
    assert SSSNetwork((8, 16, 24, 32, 40), num_classes=3).arch == "8:16:24:32:40"


def test_build_network_dispatches_on_space() -> None:
    assert isinstance(build_network("sss", "8:8:8:8:8", num_classes=10), SSSNetwork)
    tss = build_network("tss", TSS_ARCHS[0], num_classes=10, C=4, N=2)
    assert isinstance(tss, TinyNetwork) and len(tss.cells) == 3 * 2 + 2
    assert tss.classifier.in_features == 16


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: TinyNetwork("|conv_5x5~0|", num_classes=10),
            r"Expected `arch` to be a NATS-Bench topology string",
        ),
        (
            lambda: TinyNetwork(TSS_ARCHS[0], num_classes=10, C=0),
            r"Expected `C` to be a positive integer, got 0",
        ),
        (
            lambda: TinyNetwork(TSS_ARCHS[0], num_classes=10, N=2.0),
            r"Expected `N` to be a positive integer, got 2.0",
        ),
        (
            lambda: TinyNetwork(TSS_ARCHS[0], num_classes=0),
            r"Expected `num_classes` to be a positive integer, got 0",
        ),
        (
            lambda: SSSNetwork("8:8:8:8", num_classes=10),
            r"Expected `arch` to be a NATS-Bench size string",
        ),
        (
            lambda: SSSNetwork((8, 8, 8, 8, 9), num_classes=10),
            r"Expected `channels` to be 5 widths",
        ),
        (
            lambda: build_network("nas", "x", num_classes=10),
            r"Expected `space` to be 'tss' or 'sss', got 'nas'",
        ),
        (lambda: from_nats_config(["infer.tiny"]), r"Expected `config` to be a dict, got list"),
        (
            lambda: from_nats_config({"name": "infer.nasnet-cifar"}),
            r"Expected `config\['name'\]` to be 'infer.tiny'",
        ),
        (
            lambda: from_nats_config({"name": "infer.tiny", "C": 8, "N": 1}),
            r"missing \['num_classes'\]",
        ),
        (
            lambda: from_nats_config({"name": "infer.tiny", "C": 8, "N": 1, "num_classes": 10}),
            r"to have 'arch_str' or 'genotype'",
        ),
        (
            lambda: from_nats_config({**_tss_config(TSS_ARCHS[0], C=8, N=1), "arch_str": 3}),
            r"Expected `config\['arch_str'\]` to be an architecture string .* got int",
        ),
        (
            lambda: from_nats_config({**_sss_config("8:8:8:8:8"), "genotype": TSS_ARCHS[0]}),
            r"Expected `config\['genotype'\]` to be the SSS cell",
        ),
    ],
)
def test_bad_arguments_raise_value_error(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    ("space", "arch"), [("tss", a) for a in TSS_ARCHS] + [("sss", SSS_ARCHS[0])]
)
def test_fold_batchnorm_keeps_the_logits(space: str, arch: str) -> None:
    net = _randomize(build_network(space, arch, num_classes=10, C=8, N=1), seed=4)
    net.train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    folded = fold_batchnorm(net)
    assert net.training and not folded.training  # the original is left as it was
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
    n_bn = [sum(isinstance(m, nn.BatchNorm2d) for m in n.modules()) for n in (net, folded)]
    assert n_bn[1] == 1 < n_bn[0]  # only the head's BN (before a ReLU, no conv) is left
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    net.eval()
    with torch.no_grad():
        torch.testing.assert_close(folded(x), net(x), atol=1e-5, rtol=1e-4)


def test_fold_batchnorm_skips_batchnorm_without_running_statistics() -> None:
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4, track_running_stats=False)
    )
    folded = fold_batchnorm(net)
    assert isinstance(folded[1], nn.BatchNorm2d) and folded[0].bias is None
