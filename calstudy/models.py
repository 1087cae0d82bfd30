"""NATS-Bench networks, written for calstudy, with NATS-Bench's exact ``state_dict`` layout.

Both spaces share one skeleton (Dong et al., 2021, Fig. 1)::

    stem: Conv3×3(3→c0) - BN
    stage 1: N cells (c1)   - reduction: residual block, stride 2 (c2)
    stage 2: N cells (c2)   - reduction: residual block, stride 2 (c3)
    stage 3: N cells (c4)   - BN - ReLU - global average pool - Linear(c4 → num_classes)

* :class:`TinyNetwork` (TSS): widths ``C, 2C, 4C``, any cell from :func:`calstudy.space.parse_tss`.
* :class:`SSSNetwork` (SSS): N = 1, the fixed cell :data:`calstudy.space.SSS_CELL`, and five
  free widths ``c0:c1:c2:c3:c4`` (stem, cell 1, reduction 1 and cell 2, reduction 2, cell 3).

Parameter and buffer names and shapes match xautodl's ``TinyNetwork`` and
``DynamicShapeTinyNet`` (``stem.0.weight``, ``cells.3.layers.2.op.1.weight``,
``cells.5.downsample.1.weight``, ``lastact.0.running_mean``, ``classifier.bias``, …), so
NATS-Bench checkpoints load with ``load_state_dict(strict=True)``. One deliberate difference:
``forward`` returns the logits only, where xautodl returns ``(features, logits)``.

References
----------
.. [1] X. Dong, L. Liu, K. Musial, B. Gabrys, "NATS-Bench: Benchmarking NAS Algorithms for
   Architecture Topology and Size", IEEE TPAMI, 2021.
"""

from __future__ import annotations

import copy
import functools
import itertools
import operator
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import torch
from torch import nn

from calstudy.space import (
    SSS_CELL,
    TSS_EDGES,
    format_sss,
    layer_channels,
    parse_sss,
    parse_tss,
)

__all__ = ["TinyNetwork", "SSSNetwork", "build_network", "fold_batchnorm", "from_nats_config"]

# ---------------------------------------------------------------------------------------------
# Edge operations (attribute names follow NATS-Bench checkpoints)
# ---------------------------------------------------------------------------------------------


class _ReLUConvBN(nn.Module):
    """ReLU → Conv(k×k, no bias) → BN, stored under ``op.{0,1,2}``."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, *, stride: int = 1) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(
                c_in, c_out, kernel_size, stride=stride, padding=kernel_size // 2, bias=False
            ),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class _Zero(nn.Module):
    """The ``none`` edge: a zero tensor of the output width."""

    def __init__(self, c_out: int) -> None:
        super().__init__()
        self.c_out = c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.new_zeros((x.shape[0], self.c_out, *x.shape[2:]))


class _Projection(nn.Module):
    """``skip_connect`` between different widths: Conv1×1 (no bias) → BN, as ``conv``/``bn``."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class _AvgPool(nn.Module):
    """``avg_pool_3x3``, after a ReLU-Conv1×1-BN ``preprocess`` when the width changes."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.preprocess = _ReLUConvBN(c_in, c_out, 1) if c_in != c_out else None
        self.op = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x if self.preprocess is None else self.preprocess(x))


def _edge(op: str, c_in: int, c_out: int) -> nn.Module:
    if op == "none":
        return _Zero(c_out)
    if op == "skip_connect":
        return nn.Identity() if c_in == c_out else _Projection(c_in, c_out)
    if op == "nor_conv_1x1":
        return _ReLUConvBN(c_in, c_out, 1)
    if op == "nor_conv_3x3":
        return _ReLUConvBN(c_in, c_out, 3)
    if op == "avg_pool_3x3":
        return _AvgPool(c_in, c_out)
    raise AssertionError(f"unreachable: {op!r} passed parse_tss")


# ---------------------------------------------------------------------------------------------
# Cells and the skeleton
# ---------------------------------------------------------------------------------------------


class _Cell(nn.Module):
    """A 4-node cell: node ``i`` is the sum of ``layers[e](node[j])`` over edges ``e = i←j``.

    ``layers`` holds one module per edge of :data:`calstudy.space.TSS_EDGES`, in that order;
    edges leaving node 0 map ``c_in → c_out``, the others ``c_out → c_out``.
    """

    def __init__(self, ops: Sequence[str], c_in: int, c_out: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            _edge(op, c_in if src == 0 else c_out, c_out)
            for op, (_, src) in zip(ops, TSS_EDGES, strict=True)
        )
        # Per node, its incoming (edge, source) pairs with `none` edges left out: adding their
        # zeros changes no value, and each would cost a pass over the activations.
        self._incoming = [
            [(e, src) for e, (dst, src) in enumerate(TSS_EDGES) if dst == to_node and ops[e] != "none"]
            or [next((e, src) for e, (dst, src) in enumerate(TSS_EDGES) if dst == to_node)]
            for to_node in (1, 2, 3)
        ]  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for incoming in self._incoming:
            terms = [self.layers[e](nodes[src]) for e, src in incoming]
            nodes.append(functools.reduce(operator.add, terms))  # not sum(): no `0 + t` pass
        return nodes[3]


class _Reduction(nn.Module):
    """Residual block with stride 2: ``conv_b(conv_a(x)) + Conv1×1(AvgPool2×2(x))``."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = _ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = _ReLUConvBN(c_out, c_out, 3)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.downsample(x)


class _Skeleton(nn.Module):
    """Stem, ``3N + 2`` layers (cells with reductions at ``N`` and ``2N + 1``), head."""

    def __init__(
        self, stem: int, layers: Sequence[int], ops: Sequence[str], num_classes: int
    ) -> None:
        super().__init__()
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(
                f"Expected `num_classes` to be a positive integer, got {num_classes!r}."
            )
        N = (len(layers) - 2) // 3
        self.stem = nn.Sequential(
            nn.Conv2d(3, stem, 3, padding=1, bias=False), nn.BatchNorm2d(stem)
        )
        self.cells = nn.ModuleList()
        c_prev = stem
        for i, c in enumerate(layers):
            reduction = i in (N, 2 * N + 1)
            self.cells.append(_Reduction(c_prev, c) if reduction else _Cell(ops, c_prev, c))
            c_prev = c
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the logits, shape ``(batch, num_classes)``, for images ``(batch, 3, H, W)``.

        Unlike xautodl's networks, which return ``(features, logits)``, only the logits are
        returned.
        """
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        return self.classifier(self.global_pooling(self.lastact(x)).flatten(1))


class TinyNetwork(_Skeleton):
    """A NATS-Bench topology-space (TSS) network.

    Parameters
    ----------
    arch : str
        TSS cell string (see :func:`calstudy.space.parse_tss`), shared by every cell.
    num_classes : int
        Classifier outputs.
    C : int, default 16
        Width of stage 1; stages 2 and 3 have ``2C`` and ``4C``.
    N : int, default 5
        Cells per stage. NATS-Bench uses C = 16, N = 5; smaller values keep the cells and
        shrink the network for quick runs.

    Attributes
    ----------
    arch : str
        The cell string as given.
    space : str
        ``"tss"``.

    Examples
    --------
    >>> net = TinyNetwork("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|skip_connect~0|none~1|nor_conv_1x1~2|",
    ...                   num_classes=10, C=8, N=1)
    >>> net(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    """

    space = "tss"

    def __init__(self, arch: str, *, num_classes: int, C: int = 16, N: int = 5) -> None:
        ops = parse_tss(arch)
        for name, value in (("C", C), ("N", N)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Expected `{name}` to be a positive integer, got {value!r}.")
        layers = layer_channels(C, N)
        super().__init__(C, layers, ops, num_classes)
        self.arch = arch
        self.C, self.N = C, N

    def extra_repr(self) -> str:
        return f"arch={self.arch!r}, C={self.C}, N={self.N}"


class SSSNetwork(_Skeleton):
    """A NATS-Bench size-space (SSS) network: cell :data:`calstudy.space.SSS_CELL`, N = 1.

    Parameters
    ----------
    channels : str or sequence of int
        The five widths, ``"8:16:32:64:64"`` or ``(8, 16, 32, 64, 64)``, each in
        :data:`calstudy.space.SSS_CHANNELS`: stem, stage-1 cell, reduction 1 and stage-2
        cell, reduction 2, stage-3 cell.
    num_classes : int
        Classifier outputs.

    Attributes
    ----------
    arch : str
        The widths as an SSS string.
    space : str
        ``"sss"``.
    """

    space = "sss"

    def __init__(self, channels: str | Sequence[int], *, num_classes: int) -> None:
        arch = channels if isinstance(channels, str) else format_sss(channels)
        widths = parse_sss(arch)
        super().__init__(widths[0], widths, parse_tss(SSS_CELL), num_classes)
        self.arch = arch

    def extra_repr(self) -> str:
        return f"arch={self.arch!r}"


# ---------------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------------


def build_network(
    space: Literal["tss", "sss"], arch: str, *, num_classes: int, C: int = 16, N: int = 5
) -> TinyNetwork | SSSNetwork:
    """Build the network of an architecture string.

    Parameters
    ----------
    space : {"tss", "sss"}
        Which NATS-Bench space `arch` belongs to.
    arch : str
        A TSS cell string or an SSS width string.
    num_classes : int
        Classifier outputs.
    C, N : int, default 16 and 5
        TSS skeleton width and depth (ignored for SSS, whose widths are in `arch` and N = 1).

    Returns
    -------
    TinyNetwork or SSSNetwork
    """
    if space == "tss":
        return TinyNetwork(arch, num_classes=num_classes, C=C, N=N)
    if space == "sss":
        return SSSNetwork(arch, num_classes=num_classes)
    raise ValueError(f"Expected `space` to be 'tss' or 'sss', got {space!r}.")


def _cell_string(value: Any, key: str) -> str:
    """A cell given as a string or as a NATS-Bench/xautodl structure with ``tostr()``."""
    if isinstance(value, str):
        return value
    if hasattr(value, "tostr"):
        return str(value.tostr())
    raise ValueError(
        f"Expected `config[{key!r}]` to be an architecture string or an object with tostr(), "
        f"got {type(value).__name__}."
    )


def fold_batchnorm(net: nn.Module) -> nn.Module:
    r"""An inference copy of `net` with every BatchNorm folded into the convolution before it.

    In eval mode a BatchNorm after a convolution is an affine map per output channel, so
    :math:`\mathrm{BN}(W * x) = W' * x + b'` with :math:`W' = W \gamma / \sqrt{\sigma^2 +
    \epsilon}` and :math:`b' = \beta - \mu \gamma / \sqrt{\sigma^2 + \epsilon}`
    (``torch.nn.utils.fusion.fuse_conv_bn_eval``). The folded network makes one pass over
    the activations where the original makes two, and its logits equal the original's in eval
    mode up to float rounding. Folded: every ``Conv2d`` directly followed by a ``BatchNorm2d``
    with running statistics in an ``nn.Sequential`` (the ReLU-Conv-BN edges, the stem) and the
    width-changing skip connections of SSS cells.

    Parameters
    ----------
    net : torch.nn.Module
        A network of this module (or any network built of such blocks); not modified.

    Returns
    -------
    torch.nn.Module
        The folded copy, in eval mode, on `net`'s device. For inference only: training it would
        train the folded weights, not NATS-Bench's.

    Examples
    --------
    >>> net = build_network("tss", "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    ...                     num_classes=10, C=8, N=1)
    >>> folded = fold_batchnorm(net)
    >>> sum(isinstance(m, nn.BatchNorm2d) for m in net.modules()), sum(
    ...     isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    (9, 1)
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    def foldable(conv: nn.Module, bn: nn.Module) -> bool:
        return (
            type(conv) is nn.Conv2d and type(bn) is nn.BatchNorm2d
            and bn.running_mean is not None and bn.running_var is not None
        )  # fmt: skip

    folded = copy.deepcopy(net).eval()
    for module in folded.modules():
        if isinstance(module, nn.Sequential):
            names = list(module._modules)
            for a, b in itertools.pairwise(names):
                conv, bn = module._modules[a], module._modules[b]
                if foldable(conv, bn):
                    module._modules[a] = fuse_conv_bn_eval(conv, bn)
                    module._modules[b] = nn.Identity()
        elif isinstance(module, _Projection) and foldable(module.conv, module.bn):
            module.conv = fuse_conv_bn_eval(module.conv, module.bn)
            module.bn = nn.Identity()
    return folded


def from_nats_config(config: Mapping[str, Any]) -> TinyNetwork | SSSNetwork:
    """Build a network from a NATS-Bench / xautodl network config.

    Accepts the dict that ``api.get_net_config(index, dataset)`` returns and
    ``xautodl.models.get_cell_based_tiny_net`` consumes:

    * TSS: ``{"name": "infer.tiny", "C": 16, "N": 5, "arch_str": "|…|", "num_classes": 10}``
      (``"genotype"``, a string or structure, may replace ``"arch_str"``);
    * SSS: ``{"name": "infer.shape.tiny", "channels": "8:16:32:64:64", "genotype": "|…|",
      "num_classes": 10}``; the genotype must be :data:`calstudy.space.SSS_CELL`.

    Parameters
    ----------
    config : mapping

    Returns
    -------
    TinyNetwork or SSSNetwork
        With the same ``state_dict`` keys and shapes as the xautodl network.
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"Expected `config` to be a dict, got {type(config).__name__}.")
    name = config.get("name")
    required = {
        "infer.tiny": ("C", "N", "num_classes"),
        "infer.shape.tiny": ("channels", "genotype", "num_classes"),
    }
    if name not in required:
        raise ValueError(
            f"Expected `config['name']` to be 'infer.tiny' (TSS) or 'infer.shape.tiny' (SSS), "
            f"got {name!r}."
        )
    missing = [key for key in required[name] if key not in config]
    if missing:
        raise ValueError(
            f"Expected `config` for {name!r} to have keys {list(required[name])}, missing {missing}."
        )
    if name == "infer.tiny":
        key = "genotype" if "genotype" in config else "arch_str"
        if key not in config:
            raise ValueError("Expected `config` for 'infer.tiny' to have 'arch_str' or 'genotype'.")
        arch = _cell_string(config[key], key)
        return TinyNetwork(arch, num_classes=config["num_classes"], C=config["C"], N=config["N"])
    cell = _cell_string(config["genotype"], "genotype")
    if cell != SSS_CELL:
        raise ValueError(
            f"Expected `config['genotype']` to be the SSS cell {SSS_CELL!r}, got {cell!r}."
        )
    channels = config["channels"]
    return SSSNetwork(channels, num_classes=config["num_classes"])
