"""Zero-cost proxies: one minibatch through a freshly initialised network (RQ viii).

:func:`zero_cost_proxies` builds each architecture as the study builds it before training (same
seed, same skeleton) and computes synflow [1]_, grad_norm [3]_, snip [4]_, NASWOT [2]_ and the
spread of the initial logits on one class-stratified batch of training images. Needs the
``torch`` extra.

References
----------
.. [1] H. Tanaka, D. Kunin, D. L. K. Yamins, S. Ganguli, "Pruning neural networks without any
   data by iteratively conserving synaptic flow", NeurIPS 2020.
.. [2] J. Mellor, J. Turner, A. Storkey, E. J. Crowley, "Neural Architecture Search without
   Training", ICML 2021.
.. [3] M. S. Abdelfattah, A. Mehrotra, Ł. Dudziak, N. D. Lane, "Zero-Cost Proxies for
   Lightweight NAS", ICLR 2021.
.. [4] N. Lee, T. Ajanthan, P. H. S. Torr, "SNIP: Single-shot Network Pruning based on
   Connection Sensitivity", ICLR 2019.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd

from calstudy._checks import (
    check_finite_frame,
    check_int_at_least,
    check_positive_int,
    check_space,
)
from calstudy.predictors import arch_list

__all__ = ["PROXIES", "zero_cost_proxies"]

#: The zero-cost proxies :func:`zero_cost_proxies` computes, in its column order.
PROXIES: tuple[str, ...] = ("synflow", "grad_norm", "snip", "naswot", "logit_std")


# ================================================================================================
# 2. Zero-cost proxies
# ================================================================================================


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _proxy_batch(dataset: str, data_dir: Any, num_images: int, seed: int) -> tuple[Any, Any, int]:
    """A class-stratified training batch, normalised NCHW float32, its labels, ``num_classes``."""
    import torch

    from calstudy.data import load_dataset, sample_data_dir

    ds = load_dataset(dataset, data_dir if data_dir is not None else sample_data_dir())
    if num_images > len(ds.y_train):
        raise ValueError(
            f"Expected `num_images` to be at most the {len(ds.y_train)} training images of "
            f"{dataset!r}, got {num_images}."
        )
    ds = ds.subset(num_images, 1, seed=seed)
    x = torch.from_numpy(ds.x_train).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(ds.mean).view(1, 3, 1, 1)
    std = torch.tensor(ds.std).view(1, 3, 1, 1)
    return (x - mean) / std, torch.from_numpy(ds.y_train), ds.num_classes


def _network_proxies(net: Any, x: Any, y: Any) -> dict[str, float]:
    """Every proxy of :data:`PROXIES` for one freshly initialised network.

    `net` is run in training mode, which updates its batch-norm statistics; synflow is computed
    on a copy taken before that.
    """
    import torch
    from torch import nn

    flow_net = copy.deepcopy(net)  # synflow needs the fresh BN statistics the next pass updates

    # One forward-backward pass in training mode: NASWOT codes, gradients of the loss.
    net.train()
    n = x.shape[0]
    kernel = torch.zeros(n, n, dtype=torch.float64)

    def count_codes(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        # With s = 2c - 1 in {-1, 1}: agreements = (N_A + s sᵀ) / 2 (exact in float32 for
        # N_A < 2^24), one product instead of c cᵀ + (1 - c)(1 - c)ᵀ.
        signs = (output.detach().flatten(1) > 0).float().mul_(2.0).sub_(1.0)
        kernel.add_((signs @ signs.T).double().add_(signs.shape[1]).mul_(0.5))

    hooks = [m.register_forward_hook(count_codes) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        logits = net(x)
    finally:
        for hook in hooks:
            hook.remove()
    params = [p for p in net.parameters() if p.requires_grad]
    # A parameter the output does not depend on (an operation on a node that only feeds `none`
    # edges) has no gradient: it contributes 0 to grad_norm and snip.
    grads = torch.autograd.grad(
        nn.functional.cross_entropy(logits, y), params, allow_unused=True
    )
    used = [(g, p) for g, p in zip(grads, params, strict=True) if g is not None]
    with torch.no_grad():
        grad_norm = sum(float(g.norm()) for g, _ in used)
        snip = sum(float((g * p).abs().sum()) for g, p in used)
        sign, logdet = torch.linalg.slogdet(kernel)
        naswot = float(logdet) if float(sign) > 0 else -math.inf
        logit_std = float(logits.std())

    # Synflow: |θ|, no batch statistics (eval mode: fresh BN is the identity), an all-ones input.
    flow_net.eval()
    flow_net.double()
    with torch.no_grad():
        for p in flow_net.parameters():
            p.abs_()
    params = list(flow_net.parameters())
    out = flow_net(torch.ones((1, *x.shape[1:]), dtype=torch.float64)).sum()
    grads = torch.autograd.grad(out, params, allow_unused=True)
    with torch.no_grad():
        flow = sum(
            float((g * p).abs().sum()) for g, p in zip(grads, params, strict=True) if g is not None
        )
    return {
        "synflow": math.log1p(flow),
        "grad_norm": grad_norm,
        "snip": snip,
        "naswot": naswot,
        "logit_std": logit_std,
    }


def zero_cost_proxies(
    archs: Sequence[str],
    space: str,
    *,
    dataset: str = "cifar10",
    data_dir: Any = None,
    num_images: int = 64,
    C: int = 16,
    N: int = 1,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Zero-cost proxies of freshly initialised networks, from one minibatch.

    Each network is built as the study trains it (``torch.manual_seed(seed)`` then
    :func:`calstudy.models.build_network`) and sees one class-stratified batch of `num_images`
    training images :math:`(x_b, y_b)`, :math:`b = 1 \dots B`. With parameters :math:`\theta`
    (one tensor per layer), cross-entropy :math:`L` on the batch:

    * ``synflow`` :math:`= \log\bigl(1 + \sum_\theta \sum |\theta| \odot \partial R/\partial|\theta|\bigr)`,
      :math:`R = \mathbf{1}^\top f_{|\theta|}(\mathbf{1})`: the network with every weight
      replaced by its absolute value, in double precision, evaluated on an all-ones image with
      batch normalisation off (its fresh running statistics make it the identity) [1]_ [3]_;
    * ``grad_norm`` :math:`= \sum_\theta \lVert \partial L / \partial\theta \rVert_2` [3]_;
    * ``snip`` :math:`= \sum_\theta \sum |\theta \odot \partial L / \partial\theta|` [4]_ [3]_;
    * ``naswot`` :math:`= \log\lvert K_H\rvert`, :math:`(K_H)_{ab} = N_A - d_H(c_a, c_b)`, where
      :math:`c_b \in \{0,1\}^{N_A}` is the binary code of which of the :math:`N_A` ReLU units
      image :math:`b` activates and :math:`d_H` the Hamming distance [2]_;
    * ``logit_std``: the standard deviation of the initial logits over the batch and classes
      (ours: the scale of the untrained network's outputs, from which overconfidence grows).

    The network is in training mode (batch statistics) for all but synflow. Torch runs on one
    thread here, which keeps the values deterministic and avoids the thread contention that
    makes these small convolutions many times slower on a shared CPU: 0.2–0.3 s per C = 16,
    N = 1 TSS network on a 64-image batch on a busy 2-core machine; SSS networks, up to 64
    channels wide at full resolution, take 0.3–1.3 s.

    Parameters
    ----------
    archs : sequence of str
        Architecture strings of `space`; duplicates are computed once.
    space : {"tss", "sss"}
    dataset : str, default "cifar10"
        Which dataset's images and class count; loaded by :func:`calstudy.data.load_dataset`.
    data_dir : path-like, optional
        Where the dataset lives; default the offline sample shipped with calstudy
        (:func:`calstudy.data.sample_data_dir`).
    num_images : int, default 64
        Batch size :math:`B`.
    C, N : int, default 16 and 1
        TSS skeleton (the demo study's); ignored for SSS.
    seed : int, default 0
        Seed of the batch choice and of the weight initialisation.

    Returns
    -------
    DataFrame of float, shape (n_unique_archs, len(PROXIES))
        Indexed by ``arch``, columns :data:`PROXIES`.

    Raises
    ------
    ValueError
        Unknown space, an empty or non-string `archs`, a batch larger than the training split,
        or a proxy that is not finite (naming the architecture).

    References
    ----------
    .. [1] Tanaka et al., NeurIPS 2020.
    .. [2] Mellor et al., ICML 2021.
    .. [3] Abdelfattah et al., ICLR 2021.
    .. [4] Lee et al., ICLR 2019.
    """
    import torch

    from calstudy.models import build_network

    space = check_space(space)
    unique = list(dict.fromkeys(arch_list(archs, "archs")))
    num_images = check_int_at_least(num_images, "num_images", 2)
    C = check_positive_int(C, "C")
    N = check_positive_int(N, "N")
    rows = {}
    with _torch_threads(1):
        x, y, num_classes = _proxy_batch(dataset, data_dir, num_images, seed)
        for arch in unique:
            torch.manual_seed(seed)
            net = build_network(space, arch, num_classes=num_classes, C=C, N=N)
            rows[arch] = _network_proxies(net, x, y)
    table = pd.DataFrame.from_dict(rows, orient="index")[list(PROXIES)]
    table.index.name = "arch"
    check_finite_frame(table, "the zero-cost proxies")
    return table




