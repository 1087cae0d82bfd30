"""Tests for calstudy.space: parsing, enumeration, isomorphism classes, features, sampling."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from calstudy.models import SSSNetwork, TinyNetwork
from calstudy.space import (
    SSS_CELL,
    SSS_CHANNELS,
    TSS_EDGES,
    all_sss,
    all_tss,
    canonical_tss,
    format_sss,
    format_tss,
    parse_sss,
    parse_tss,
    sample_archs,
    sss_features,
    tss_features,
    unique_tss,
)

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


# ---------------------------------------------------------------------------------------------
# TSS strings
# ---------------------------------------------------------------------------------------------


def test_parse_tss_reads_edges_in_order() -> None:
    assert parse_tss(ARCH) == (
        "nor_conv_3x3",  # 1←0
        "nor_conv_3x3",  # 2←0
        "avg_pool_3x3",  # 2←1
        "skip_connect",  # 3←0
        "nor_conv_3x3",  # 3←1
        "skip_connect",  # 3←2
    )


def test_parse_format_round_trip_on_whole_space() -> None:
    archs = all_tss()
    assert len(archs) == 5**6 == len(set(archs))
    for arch in archs:
        assert format_tss(parse_tss(arch)) == arch
    assert archs[0] == "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    assert parse_tss(archs[1]) == ("none",) * 5 + ("skip_connect",)  # last edge varies fastest


def test_all_tss_matches_nats_bench_string_format() -> None:
    nats_bench = pytest.importorskip("nats_bench")
    for arch in all_tss()[::997]:
        structure = nats_bench.api_topology.topology_str2structure(arch)
        assert structure.tostr() == arch
        ops = [(op, src) for node in structure.nodes for op, src in node]
        assert ops == [(op, src) for op, (_, src) in zip(parse_tss(arch), TSS_EDGES, strict=True)]


@pytest.mark.parametrize(
    ("arch", "match"),
    [
        (ARCH.replace("avg_pool_3x3~1", "conv_5x5~1"), r"unknown operation 'conv_5x5' on edge 2←1"),
        (ARCH.replace("+", "", 1), r"expected 3 nodes separated by '\+', found 2"),
        (ARCH[1:], r"node 1 'nor_conv_3x3~0\|' must start and end with '\|'"),
        (ARCH.replace("|skip_connect~2|", "|"), r"node 3 must have 3 inputs, found 2"),
        (ARCH.replace("avg_pool_3x3~1", "avg_pool_3x3~0"), r"input 'avg_pool_3x3~0' of node 2"),
        (ARCH.replace("nor_conv_3x3~0|+|nor", "nor_conv_3x3|+|nor"), r"must read 'op~0'"),
        (ARCH + " ", r"node 3 .* must start and end"),
        (42, r"not a string but int"),
    ],
)
def test_parse_tss_rejects_malformed(arch: object, match: str) -> None:
    with pytest.raises(
        ValueError, match=r"Expected `arch` to be a NATS-Bench topology string.*" + match
    ):
        parse_tss(arch)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ops", "match"),
    [
        (("none",) * 5, r"Expected `ops` to hold 6 edge operations, got 5"),
        (("none",) * 5 + ("max_pool_3x3",), r"got 'max_pool_3x3' on edge 3←2"),
    ],
)
def test_format_tss_rejects_bad_ops(ops: tuple[str, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        format_tss(ops)


# ---------------------------------------------------------------------------------------------
# TSS isomorphism classes
# ---------------------------------------------------------------------------------------------


def test_unique_tss_has_nats_bench_count_and_representatives_are_fixed_points() -> None:
    reps = unique_tss()
    assert len(reps) == 6466 == len(set(reps))
    order = {arch: i for i, arch in enumerate(all_tss())}
    assert [order[a] for a in reps] == sorted(order[a] for a in reps)
    assert all(canonical_tss(a) == a for a in reps)


def test_canonical_grouping_equals_nats_bench_on_whole_space() -> None:
    genotype_utils = pytest.importorskip("nats_bench.genotype_utils")
    ours: dict[str, set[str]] = {}
    theirs: dict[str, set[str]] = {}
    for arch in all_tss():
        ours.setdefault(canonical_tss(arch), set()).add(arch)
        key = genotype_utils.topology_str2structure(arch).to_unique_str(consider_zero=True)
        theirs.setdefault(key, set()).add(arch)
    assert len(theirs) == 6466
    assert sorted(map(sorted, ours.values())) == sorted(map(sorted, theirs.values()))
    # Each representative is the first member of its class in all_tss() order.
    order = {arch: i for i, arch in enumerate(all_tss())}
    for rep, members in ours.items():
        assert rep == min(members, key=order.__getitem__)


def test_canonical_tss_merges_known_isomorphisms() -> None:
    # Summands commute: swapping the ops of 3←0 and 3←1 when node 1 forwards the input.
    a = "|skip_connect~0|+|none~0|none~1|+|nor_conv_3x3~0|nor_conv_1x1~1|none~2|"
    b = "|skip_connect~0|+|none~0|none~1|+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|"
    assert canonical_tss(a) == canonical_tss(b)
    # Anything applied to a zero node 1 is zero.
    c = "|none~0|+|none~0|nor_conv_3x3~1|+|nor_conv_1x1~0|avg_pool_3x3~1|none~2|"
    d = "|none~0|+|none~0|none~1|+|nor_conv_1x1~0|none~1|none~2|"
    assert canonical_tss(c) == canonical_tss(d) == d
    # Different operations on the same edge are not merged.
    assert canonical_tss(ARCH) != canonical_tss(ARCH.replace("avg_pool_3x3", "nor_conv_1x1"))


# ---------------------------------------------------------------------------------------------
# TSS features
# ---------------------------------------------------------------------------------------------


def test_tss_features_hand_checked() -> None:
    f = tss_features(ARCH)
    assert f["edge_1_0"] == "nor_conv_3x3" and f["edge_2_1"] == "avg_pool_3x3"
    assert f["edge_3_0"] == "skip_connect" and f["edge_3_2"] == "skip_connect"
    assert (f["n_none"], f["n_skip_connect"], f["n_nor_conv_1x1"]) == (0, 2, 0)
    assert (f["n_nor_conv_3x3"], f["n_avg_pool_3x3"]) == (3, 1)
    assert f["skip_0_3"] is True and f["connected"] is True
    # Longest conv path: 0 -conv-> 1 -conv-> 3, or 0 -conv-> 2 -skip-> 3 (1), or via 1→2 pool.
    assert f["conv_depth"] == 2


@pytest.mark.parametrize(
    ("arch", "connected", "depth"),
    [
        ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", False, 0),
        (
            "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
            True,
            0,
        ),
        ("|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|nor_conv_3x3~2|", True, 3),
        ("|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|avg_pool_3x3~0|none~1|none~2|", True, 0),
        ("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|", False, 0),
    ],
)
def test_tss_conv_depth_and_connectivity(arch: str, connected: bool, depth: int) -> None:
    f = tss_features(arch)
    assert f["connected"] is connected
    assert f["conv_depth"] == depth


@pytest.mark.parametrize(("C", "N"), [(16, 5), (8, 1), (4, 2)])
def test_tss_param_count_matches_network(C: int, N: int) -> None:
    for arch in sample_archs("tss", 4, seed=C + N, unique=False):
        net = TinyNetwork(arch, num_classes=10, C=C, N=N)
        assert tss_features(arch, C=C, N=N)["n_params"] == sum(p.numel() for p in net.parameters())


def test_tss_flops_match_xautodl_counter() -> None:
    models = pytest.importorskip("xautodl.models")
    flop_benchmark = pytest.importorskip("xautodl.utils.flop_benchmark")
    for arch, resolution in [(ARCH, 32), (sample_archs("tss", 1, seed=5)[0], 16)]:
        config = {"name": "infer.tiny", "C": 8, "N": 2, "arch_str": arch, "num_classes": 7}
        mflops, mparams = flop_benchmark.get_model_infos(
            models.get_cell_based_tiny_net(config), (1, 3, resolution, resolution)
        )
        f = tss_features(arch, C=8, N=2, num_classes=7, resolution=resolution)
        assert f["flops"] / 1e6 == pytest.approx(mflops, rel=1e-12)
        assert f["n_params"] / 1e6 == pytest.approx(mparams, rel=1e-12)


def test_tss_features_reject_bad_options() -> None:
    with pytest.raises(ValueError, match=r"Expected `C` to be a positive integer, got 0"):
        tss_features(ARCH, C=0)
    with pytest.raises(ValueError, match=r"unknown operation 'conv_5x5'"):
        tss_features(ARCH.replace("avg_pool_3x3", "conv_5x5"))


# ---------------------------------------------------------------------------------------------
# SSS
# ---------------------------------------------------------------------------------------------


def test_sss_parse_format_round_trip() -> None:
    archs = all_sss()
    assert len(archs) == 8**5 == len(set(archs))
    assert archs[0] == "8:8:8:8:8" and archs[-1] == "64:64:64:64:64"
    for arch in archs[::101]:
        widths = parse_sss(arch)
        assert all(w in SSS_CHANNELS for w in widths)
        assert format_sss(widths) == arch


@pytest.mark.parametrize(
    ("arch", "match"),
    [
        ("8:16:32:64", r"expected 5 widths separated by ':', found 4"),
        ("8:16:32:64:72", r"width 4 is '72', not one of"),
        ("8:16:032:64:64", r"width 2 is '032'"),
        ("8:16:x:64:64", r"width 2 is 'x'"),
        (None, r"not a string but NoneType"),
    ],
)
def test_parse_sss_rejects_malformed(arch: object, match: str) -> None:
    with pytest.raises(
        ValueError, match=r"Expected `arch` to be a NATS-Bench size string.*" + match
    ):
        parse_sss(arch)  # type: ignore[arg-type]


def test_format_sss_rejects_bad_widths() -> None:
    with pytest.raises(ValueError, match=r"Expected `channels` to be 5 widths from"):
        format_sss([8, 16, 32, 64, 12])
    with pytest.raises(ValueError, match=r"Expected `channels` to be 5 widths from"):
        format_sss([8, 16, 32, 64])


def test_sss_features_match_network_and_xautodl_counter() -> None:
    models = pytest.importorskip("xautodl.models")
    flop_benchmark = pytest.importorskip("xautodl.utils.flop_benchmark")
    for arch in ["8:8:8:8:8", "64:64:64:64:64", "8:16:32:64:64", *sample_archs("sss", 3, seed=2)]:
        f = sss_features(arch)
        assert [f[f"c{i}"] for i in range(5)] == list(parse_sss(arch))
        assert f["total_width"] == sum(parse_sss(arch))
        assert f["n_params"] == sum(
            p.numel() for p in SSSNetwork(arch, num_classes=10).parameters()
        )
        config = {
            "name": "infer.shape.tiny",
            "channels": arch,
            "genotype": SSS_CELL,
            "num_classes": 10,
        }
        mflops, _ = flop_benchmark.get_model_infos(
            models.get_cell_based_tiny_net(config), (1, 3, 32, 32)
        )
        assert f["flops"] / 1e6 == pytest.approx(mflops, rel=1e-12)


def test_wider_sss_networks_cost_more() -> None:
    small, large = sss_features("8:8:8:8:8"), sss_features("64:64:64:64:64")
    assert small["n_params"] < large["n_params"] and small["flops"] < large["flops"]


# ---------------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------------


def test_sample_archs_is_deterministic_distinct_and_in_population() -> None:
    tss = sample_archs("tss", 50, seed=3)
    assert tss == sample_archs("tss", 50, seed=3)
    assert len(set(tss)) == 50
    assert all(canonical_tss(a) == a for a in tss)  # unique=True draws representatives
    assert tss != sample_archs("tss", 50, seed=4)
    every = sample_archs("tss", 5**6, seed=0, unique=False)
    assert sorted(every) == sorted(all_tss())
    sss = sample_archs("sss", 20, seed=3)
    assert len(set(sss)) == 20 and all(parse_sss(a) for a in sss)
    assert sample_archs("sss", 0) == []


def test_sample_archs_independent_of_hash_seed() -> None:
    code = "from calstudy.space import sample_archs; print(sample_archs('tss', 5, seed=7))"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("1", "2")
    }
    assert outputs == {f"{sample_archs('tss', 5, seed=7)}\n"}


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("nas", 3), {}, r"Expected `space` to be 'tss' or 'sss', got 'nas'"),
        (("tss", 6467), {}, r"Expected `k` to be an integer in \[0, 6466\]"),
        (("tss", -1), {"unique": False}, r"Expected `k` to be an integer in \[0, 15625\]"),
        (("sss", 2), {"seed": 1.5}, r"Expected `seed` to be an integer, got 1.5"),
    ],
)
def test_sample_archs_rejects_bad_arguments(args: tuple, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sample_archs(*args, **kwargs)
