"""The NATS-Bench architecture spaces: parse, enumerate, canonicalise, describe and sample.

NATS-Bench (Dong et al., 2021) has two spaces built on one skeleton: a 3×3 stem convolution,
three stages of ``N`` cells joined by stride-2 residual blocks, BN-ReLU, global pooling and a
linear classifier.

* **TSS** (topology search space): the cell is a 4-node DAG whose 6 edges each carry one of
  :data:`TSS_OPS`; widths are fixed (C = 16, N = 5). 5^6 = 15,625 strings, of which 6,466 are
  distinct up to NATS-Bench's isomorphism key (:func:`canonical_tss`). Strings read
  ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``: node ``i`` lists its inputs ``op~j`` for j < i.
* **SSS** (size search space): the cell is fixed to :data:`SSS_CELL` (N = 1) and the five
  widths (stem, stage 1, reduction 1 + stage 2, reduction 2 + stage 3, as in NATS-Bench) each
  take a value of :data:`SSS_CHANNELS`: 8^5 = 32,768 strings written ``C0:C1:C2:C3:C4``.

The enumeration order of :func:`all_tss` and :func:`all_sss` is ours (lexicographic in the
order of :data:`TSS_OPS` / :data:`SSS_CHANNELS`). NATS-Bench's integer architecture index is
defined by the ``meta_archs`` list of its benchmark files and is **not** this order; map
between the two with :func:`calstudy.nats.arch_to_index`.

References
----------
.. [1] X. Dong, L. Liu, K. Musial, B. Gabrys, "NATS-Bench: Benchmarking NAS Algorithms for
   Architecture Topology and Size", IEEE TPAMI, 2021.
.. [2] X. Dong, Y. Yang, "NAS-Bench-201: Extending the Scope of Reproducible Neural
   Architecture Search", ICLR, 2020.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import random
from collections.abc import Sequence
from typing import Literal

__all__ = [
    "SSS_CELL",
    "SSS_CHANNELS",
    "TSS_EDGES",
    "TSS_OPS",
    "all_sss",
    "all_tss",
    "canonical_tss",
    "format_sss",
    "format_tss",
    "layer_channels",
    "parse_sss",
    "parse_tss",
    "sample_archs",
    "sss_features",
    "tss_features",
    "unique_tss",
]

# ---------------------------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------------------------

#: The five candidate operations of a TSS edge, in NATS-Bench's order.
TSS_OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")

#: The six cell edges as ``(to_node, from_node)``, in the order they appear in an arch string.
TSS_EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))

#: The candidate widths of each of the five SSS layers.
SSS_CHANNELS: tuple[int, ...] = (8, 16, 24, 32, 40, 48, 56, 64)

#: The fixed cell of every SSS network.
SSS_CELL = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
    "+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
)

_N_SSS_LAYERS = 5
_CONV_KERNEL = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}
_TSS_EXAMPLE = "'|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|'"
_SSS_EXAMPLE = "'8:16:32:64:64'"

# ---------------------------------------------------------------------------------------------
# TSS: strings
# ---------------------------------------------------------------------------------------------


def _tss_error(arch: object, reason: str) -> ValueError:
    return ValueError(
        f"Expected `arch` to be a NATS-Bench topology string such as {_TSS_EXAMPLE}, "
        f"got {arch!r}: {reason}."
    )


def parse_tss(arch: str) -> tuple[str, ...]:
    """Split a TSS architecture string into its six edge operations.

    Parameters
    ----------
    arch : str
        A NATS-Bench topology string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``.

    Returns
    -------
    tuple of str, length 6
        The operation on each edge of :data:`TSS_EDGES`: 1←0, 2←0, 2←1, 3←0, 3←1, 3←2.

    Raises
    ------
    ValueError
        If `arch` is not a string, has the wrong number of nodes or inputs, lists inputs out
        of order, or names an operation outside :data:`TSS_OPS`.

    Examples
    --------
    >>> parse_tss("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|")
    ('nor_conv_3x3', 'none', 'skip_connect', 'avg_pool_3x3', 'none', 'nor_conv_1x1')
    """
    if not isinstance(arch, str):
        raise _tss_error(arch, f"not a string but {type(arch).__name__}")
    nodes = arch.split("+")
    if len(nodes) != 3:
        raise _tss_error(arch, f"expected 3 nodes separated by '+', found {len(nodes)}")
    ops: list[str] = []
    for to_node, node in enumerate(nodes, start=1):
        if len(node) < 2 or not node.startswith("|") or not node.endswith("|"):
            raise _tss_error(arch, f"node {to_node} {node!r} must start and end with '|'")
        inputs = node[1:-1].split("|")
        if len(inputs) != to_node:
            raise _tss_error(
                arch, f"node {to_node} must have {to_node} inputs, found {len(inputs)}"
            )
        for from_node, item in enumerate(inputs):
            op, sep, source = item.partition("~")
            if not sep or source != str(from_node):
                raise _tss_error(
                    arch, f"input {item!r} of node {to_node} must read 'op~{from_node}'"
                )
            if op not in TSS_OPS:
                raise _tss_error(arch, f"unknown operation {op!r} on edge {to_node}←{from_node}")
            ops.append(op)
    return tuple(ops)


def format_tss(ops: Sequence[str]) -> str:
    """Write six edge operations as a TSS architecture string (inverse of :func:`parse_tss`).

    Parameters
    ----------
    ops : sequence of str, length 6
        Operations on the edges 1←0, 2←0, 2←1, 3←0, 3←1, 3←2, each in :data:`TSS_OPS`.

    Returns
    -------
    str

    Examples
    --------
    >>> format_tss(["skip_connect"] * 6)
    '|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|'
    """
    ops = tuple(ops)
    if len(ops) != len(TSS_EDGES):
        raise ValueError(f"Expected `ops` to hold 6 edge operations, got {len(ops)}: {ops!r}.")
    for op, (to_node, from_node) in zip(ops, TSS_EDGES, strict=True):
        if op not in TSS_OPS:
            raise ValueError(
                f"Expected `ops` to hold operations from {TSS_OPS}, got {op!r} on edge "
                f"{to_node}←{from_node}."
            )
    nodes = (ops[0:1], ops[1:3], ops[3:6])
    return "+".join(
        "|" + "|".join(f"{op}~{j}" for j, op in enumerate(node)) + "|" for node in nodes
    )


@functools.cache
def _all_tss() -> tuple[str, ...]:
    return tuple(format_tss(ops) for ops in itertools.product(TSS_OPS, repeat=len(TSS_EDGES)))


def all_tss() -> list[str]:
    """Return all 15,625 TSS architecture strings.

    The order is lexicographic in the edge order of :data:`TSS_EDGES` and the operation order
    of :data:`TSS_OPS`. It is **not** NATS-Bench's index order, which its benchmark files
    define (see :func:`calstudy.nats.arch_to_index`).

    Returns
    -------
    list of str, length 15,625
    """
    return list(_all_tss())


# ---------------------------------------------------------------------------------------------
# TSS: isomorphism classes
# ---------------------------------------------------------------------------------------------

_ZERO = "#"


def _isomorphism_key(ops: Sequence[str]) -> str:
    """NATS-Bench's isomorphism key of a cell (its ``to_unique_str(consider_zero=True)``).

    Each node gets an expression string; node 0 is ``"0"``. An edge from node ``j`` with
    operation ``op`` contributes the term

    * ``"#"`` (zero) if ``op`` is ``none`` or node ``j``'s expression is exactly ``"#"``;
    * node ``j``'s expression itself if ``op`` is ``skip_connect``;
    * ``"(expr_j)@op"`` otherwise.

    A node's expression is its terms, sorted as strings and joined by ``"+"``; the key is the
    expression of node 3. Two cells are isomorphic when their keys are equal. The key is a
    string convention rather than an algebraic normal form (a node summing two zeros reads
    ``"#+#"``, not ``"#"``, and a skip of a sum is joined textually into the parent sum); we
    keep it exactly because NATS-Bench's 6,466 "unique" architectures are defined by it.
    """
    exprs = ["0"]
    for to_node in (1, 2, 3):
        terms = []
        for op, (dst, src) in zip(ops, TSS_EDGES, strict=True):
            if dst != to_node:
                continue
            if op == "none" or exprs[src] == _ZERO:
                terms.append(_ZERO)
            elif op == "skip_connect":
                terms.append(exprs[src])
            else:
                terms.append(f"({exprs[src]})@{op}")
        exprs.append("+".join(sorted(terms)))
    return exprs[3]


@functools.cache
def _tss_representatives() -> dict[str, str]:
    """Map each isomorphism key to its first member in :func:`all_tss` order."""
    representatives: dict[str, str] = {}
    for ops in itertools.product(TSS_OPS, repeat=len(TSS_EDGES)):
        representatives.setdefault(_isomorphism_key(ops), format_tss(ops))
    return representatives


def canonical_tss(arch: str) -> str:
    """Return the representative of `arch`'s isomorphism class.

    Two TSS cells compute the same function family when they differ only by the order of
    summands, by ``skip_connect`` edges that merely forward a node, or by operations applied
    to a provably-zero node. NATS-Bench groups the 15,625 cells into 6,466 classes with the key
    of its ``get_unique_str``; we use the same key and return the member that comes first in
    :func:`all_tss` order.

    Parameters
    ----------
    arch : str
        A TSS architecture string.

    Returns
    -------
    str
        The class representative; ``canonical_tss(a) == canonical_tss(b)`` exactly when
        NATS-Bench's ``get_unique_str`` agrees on ``a`` and ``b``.

    Examples
    --------
    Node 1 forwards the input, so convolving node 0 or node 1 is the same:

    >>> a = "|skip_connect~0|+|none~0|none~1|+|nor_conv_3x3~0|nor_conv_1x1~1|none~2|"
    >>> b = "|skip_connect~0|+|none~0|none~1|+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|"
    >>> canonical_tss(a) == canonical_tss(b) == b  # b comes first in all_tss() order
    True
    """
    return _tss_representatives()[_isomorphism_key(parse_tss(arch))]


def unique_tss() -> list[str]:
    """Return the 6,466 class representatives of :func:`canonical_tss`, in :func:`all_tss` order.

    Returns
    -------
    list of str, length 6,466
    """
    return sorted(_tss_representatives().values(), key=_all_tss_position)


def _all_tss_position(arch: str) -> int:
    return _tss_position()[arch]


@functools.cache
def _tss_position() -> dict[str, int]:
    return {arch: i for i, arch in enumerate(_all_tss())}


# ---------------------------------------------------------------------------------------------
# Analytic cost of the shared skeleton
# ---------------------------------------------------------------------------------------------


def layer_channels(C: int, N: int) -> list[int]:
    """Width of every skeleton layer: N cells, a reduction, N cells, a reduction, N cells."""
    return [C] * N + [2 * C] + [2 * C] * N + [4 * C] + [4 * C] * N


def _skeleton_cost(
    stem: int,
    layers: Sequence[int],
    ops: Sequence[str],
    *,
    num_classes: int,
    resolution: int,
) -> tuple[int, int]:
    """Count the parameters and FLOPs of a skeleton network, analytically.

    ``layers`` has ``3N + 2`` widths; positions ``N`` and ``2N + 1`` are the stride-2 residual
    reductions, every other position is a cell with the edge operations ``ops``. FLOPs follow
    NATS-Bench's convention: multiply-accumulates of convolutions and the classifier (plus
    their biases); BN, ReLU, pooling and additions are free.
    """
    N = (len(layers) - 2) // 3
    reductions = {N, 2 * N + 1}

    def conv(c_in: int, c_out: int, k: int, hw: int, *, bn: bool = True) -> tuple[int, int]:
        return k * k * c_in * c_out + (2 * c_out if bn else 0), k * k * c_in * c_out * hw * hw

    hw = resolution
    params, flops = conv(3, stem, 3, hw)
    c_prev = stem
    for i, c in enumerate(layers):
        parts: list[tuple[int, int]]
        if i in reductions:
            hw = (hw + 1) // 2
            parts = [conv(c_prev, c, 3, hw), conv(c, c, 3, hw), conv(c_prev, c, 1, hw, bn=False)]
        else:
            parts = []
            for op, (_, src) in zip(ops, TSS_EDGES, strict=True):
                c_in = c_prev if src == 0 else c
                if op in _CONV_KERNEL:
                    parts.append(conv(c_in, c, _CONV_KERNEL[op], hw))
                elif op in ("skip_connect", "avg_pool_3x3") and c_in != c:
                    parts.append(conv(c_in, c, 1, hw))  # 1×1 projection to the cell width
        params += sum(p for p, _ in parts)
        flops += sum(f for _, f in parts)
        c_prev = c
    params += 2 * c_prev + (c_prev + 1) * num_classes  # last BN + classifier
    flops += (c_prev + 1) * num_classes
    return params, flops


def _check_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"Expected `{name}` to be a positive integer, got {value!r}.")


# ---------------------------------------------------------------------------------------------
# TSS: features
# ---------------------------------------------------------------------------------------------


def _conv_depth(ops: Sequence[str]) -> tuple[bool, int]:
    """Whether node 3 is reachable from node 0 through non-``none`` edges, and the largest
    number of convolutions on such a path (0 when unreachable)."""
    depth: list[int | None] = [0, None, None, None]
    for op, (dst, src) in zip(ops, TSS_EDGES, strict=True):  # edges are topologically ordered
        if op == "none" or depth[src] is None:
            continue
        d = depth[src] + (op in _CONV_KERNEL)
        current = depth[dst]
        depth[dst] = d if current is None else max(current, d)
    return depth[3] is not None, depth[3] or 0


def tss_features(
    arch: str, *, C: int = 16, N: int = 5, num_classes: int = 10, resolution: int = 32
) -> dict[str, str | int | bool]:
    """Describe a TSS architecture by interpretable features.

    Parameters
    ----------
    arch : str
        A TSS architecture string.
    C, N : int, default 16 and 5
        Skeleton width and cells per stage for the cost columns (NATS-Bench: 16 and 5).
    num_classes : int, default 10
        Classifier outputs for the cost columns.
    resolution : int, default 32
        Input height = width for the FLOPs column (32 for CIFAR, 16 for ImageNet16-120).

    Returns
    -------
    dict
        ``edge_{i}_{j}`` (str) the operation on edge i←j for each of :data:`TSS_EDGES`;
        ``n_{op}`` (int) how many edges carry each op of :data:`TSS_OPS`;
        ``skip_0_3`` (bool) whether the input→output edge 3←0 is ``skip_connect``;
        ``connected`` (bool) whether a path of non-``none`` edges joins input and output;
        ``conv_depth`` (int) the most convolutions on such a path (0 if none);
        ``n_params`` (int) trainable parameters and ``flops`` (int) multiply-accumulates
        (NATS-Bench's convention) of the network :class:`calstudy.models.TinyNetwork` builds.

    Examples
    --------
    >>> f = tss_features("|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|none~1|none~2|")
    >>> f["edge_2_1"], f["n_none"], f["skip_0_3"], f["conv_depth"]
    ('nor_conv_1x1', 3, True, 0)
    """
    ops = parse_tss(arch)
    for name, value in (
        ("C", C),
        ("N", N),
        ("num_classes", num_classes),
        ("resolution", resolution),
    ):
        _check_positive(name, value)
    features: dict[str, str | int | bool] = {
        f"edge_{dst}_{src}": op for op, (dst, src) in zip(ops, TSS_EDGES, strict=True)
    }
    features.update({f"n_{op}": ops.count(op) for op in TSS_OPS})
    features["skip_0_3"] = ops[TSS_EDGES.index((3, 0))] == "skip_connect"
    features["connected"], features["conv_depth"] = _conv_depth(ops)
    features["n_params"], features["flops"] = _skeleton_cost(
        C, layer_channels(C, N), ops, num_classes=num_classes, resolution=resolution
    )
    return features


# ---------------------------------------------------------------------------------------------
# SSS
# ---------------------------------------------------------------------------------------------


def _sss_error(arch: object, reason: str) -> ValueError:
    return ValueError(
        f"Expected `arch` to be a NATS-Bench size string such as {_SSS_EXAMPLE}, "
        f"got {arch!r}: {reason}."
    )


def parse_sss(arch: str) -> tuple[int, ...]:
    """Split an SSS architecture string ``C0:C1:C2:C3:C4`` into its five widths.

    Parameters
    ----------
    arch : str
        Five colon-separated widths, each in :data:`SSS_CHANNELS`.

    Returns
    -------
    tuple of int, length 5

    Examples
    --------
    >>> parse_sss("8:16:32:64:64")
    (8, 16, 32, 64, 64)
    """
    if not isinstance(arch, str):
        raise _sss_error(arch, f"not a string but {type(arch).__name__}")
    parts = arch.split(":")
    if len(parts) != _N_SSS_LAYERS:
        raise _sss_error(
            arch, f"expected {_N_SSS_LAYERS} widths separated by ':', found {len(parts)}"
        )
    widths = []
    for i, part in enumerate(parts):
        if not part.isdigit() or str(int(part)) != part or int(part) not in SSS_CHANNELS:
            raise _sss_error(arch, f"width {i} is {part!r}, not one of {SSS_CHANNELS}")
        widths.append(int(part))
    return tuple(widths)


def format_sss(channels: Sequence[int]) -> str:
    """Write five widths as an SSS architecture string (inverse of :func:`parse_sss`).

    Examples
    --------
    >>> format_sss([8, 16, 32, 64, 64])
    '8:16:32:64:64'
    """
    channels = tuple(channels)
    if len(channels) != _N_SSS_LAYERS or any(
        isinstance(c, bool) or c not in SSS_CHANNELS for c in channels
    ):
        raise ValueError(
            f"Expected `channels` to be {_N_SSS_LAYERS} widths from {SSS_CHANNELS}, "
            f"got {channels!r}."
        )
    return ":".join(str(int(c)) for c in channels)


@functools.cache
def _all_sss() -> tuple[str, ...]:
    return tuple(format_sss(c) for c in itertools.product(SSS_CHANNELS, repeat=_N_SSS_LAYERS))


def all_sss() -> list[str]:
    """Return all 32,768 SSS architecture strings, lexicographic in :data:`SSS_CHANNELS` order.

    As for :func:`all_tss`, this is not NATS-Bench's index order.
    """
    return list(_all_sss())


def sss_features(arch: str, *, num_classes: int = 10, resolution: int = 32) -> dict[str, int]:
    """Describe an SSS architecture by its widths and costs.

    Parameters
    ----------
    arch : str
        An SSS architecture string.
    num_classes : int, default 10
        Classifier outputs for the cost columns.
    resolution : int, default 32
        Input height = width for the FLOPs column.

    Returns
    -------
    dict
        ``c0`` … ``c4`` (int) the widths; ``total_width`` (int) their sum (the "size" axis of
        NATS-Bench / Tao et al. figures); ``n_params`` (int) trainable parameters and
        ``flops`` (int) multiply-accumulates of :class:`calstudy.models.SSSNetwork`.

    Examples
    --------
    >>> sss_features("8:8:8:8:8")["total_width"]
    40
    """
    widths = parse_sss(arch)
    _check_positive("num_classes", num_classes)
    _check_positive("resolution", resolution)
    features = {f"c{i}": c for i, c in enumerate(widths)}
    features["total_width"] = sum(widths)
    features["n_params"], features["flops"] = _skeleton_cost(
        widths[0], widths, parse_tss(SSS_CELL), num_classes=num_classes, resolution=resolution
    )
    return features


# ---------------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------------


def sample_archs(
    space: Literal["tss", "sss"], k: int, *, seed: int = 0, unique: bool = True
) -> list[str]:
    """Draw `k` distinct architectures of a space, reproducibly.

    Parameters
    ----------
    space : {"tss", "sss"}
        Which space to sample.
    k : int
        How many architectures; at most the size of the population.
    seed : int, default 0
        The same seed gives the same list on every platform and Python hash seed (a
        ``random.Random`` seeded with a SHA-256 of ``(space, seed)`` shuffles a list in a fixed
        order).
    unique : bool, default True
        TSS only: draw from the 6,466 class representatives of :func:`unique_tss` rather than
        all 15,625 strings. Ignored for SSS, whose architectures are all distinct.

    Returns
    -------
    list of str, length k
        Architecture strings, in sampling order.

    Examples
    --------
    >>> sample_archs("sss", 3, seed=1) == sample_archs("sss", 3, seed=1)
    True
    """
    if space == "tss":
        population = unique_tss() if unique else list(_all_tss())
    elif space == "sss":
        population = list(_all_sss())
    else:
        raise ValueError(f"Expected `space` to be 'tss' or 'sss', got {space!r}.")
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= len(population):
        raise ValueError(
            f"Expected `k` to be an integer in [0, {len(population)}] for space {space!r}, "
            f"got {k!r}."
        )
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"Expected `seed` to be an integer, got {seed!r}.")
    digest = hashlib.sha256(f"calstudy.space:{space}:{seed}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big")).sample(population, k)
