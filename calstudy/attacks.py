r"""L-infinity adversarial attacks: FGSM and PGD, and accuracy under them.

Tao et al. [1]_ correlate calibration with the accuracy under attack released by Jung et al.
[2]_, in columns ``fgsm_Linf_acc{e}`` and ``pgd_Linf_acc{e}`` where ``e`` is the budget
:math:`\varepsilon` in units of 1/255 (``0_1`` = 0.1/255). We implement both attacks here
(``torchattacks`` pins an old ``requests`` that breaks the book build).

Attacks work in pixel space: ``x`` is a float tensor (N, C, H, W) in [0, 1] and ``eps`` is in
the same units. A network trained on normalised inputs is wrapped in :class:`Normalized` first.
The network should be in eval mode (BatchNorm statistics fixed); :func:`adversarial_accuracy`
sees to that and restores the mode afterwards. Gradients are taken with respect to the input
only (:func:`torch.autograd.grad`), so no ``.grad`` is accumulated into parameters.

References
----------
.. [1] L. Tao, Y. Zhu, H. Guo, M. Dong, C. Xu, "A Benchmark Study on Calibration", ICLR 2024.
.. [2] S. Jung, J. Lukasik, M. Keuper, "Neural Architecture Design and Robustness: A Dataset",
   ICLR 2023.
.. [3] I. Goodfellow, J. Shlens, C. Szegedy, "Explaining and Harnessing Adversarial Examples",
   ICLR 2015.
.. [4] A. Madry, A. Makelov, L. Schmidt, D. Tsipras, A. Vladu, "Towards Deep Learning Models
   Resistant to Adversarial Attacks", ICLR 2018.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "ATTACKS",
    "FGSM_EPS_255",
    "PGD_EPS_255",
    "AA_EPS_255",
    "Normalized",
    "eps_from_255",
    "attack_column",
    "fgsm",
    "pgd",
    "adversarial_accuracy",
]

FGSM_EPS_255: tuple[float, ...] = (0.1, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 255.0)
"""The paper's FGSM budgets, in units of 1/255."""
PGD_EPS_255: tuple[float, ...] = (0.1, 0.5, 1.0, 2.0, 3.0, 4.0, 8.0)
"""The paper's PGD budgets, in units of 1/255."""
AA_EPS_255: tuple[float, ...] = PGD_EPS_255
"""The budgets of the paper's AutoAttack columns (APGD-CE, Square), in units of 1/255."""

_COLUMN_PREFIX = {
    "fgsm": "fgsm_Linf_acc",
    "pgd": "pgd_Linf_acc",
    "aa_apgd_ce": "aa_apgd_ce_Linf_acc",
    "aa_square": "aa_square_Linf_acc",
}


# ---------------------------------------------------------------------------------------------
# Units and column names
# ---------------------------------------------------------------------------------------------


def eps_from_255(eps_255: float) -> float:
    """Convert a budget in units of 1/255 to pixel units in [0, 1].

    >>> eps_from_255(8)
    0.03137254901960784
    """
    if not isinstance(eps_255, numbers.Real) or not 0 <= eps_255 <= 255:
        raise ValueError(f"Expected `eps_255` to be a number in [0, 255], got {eps_255!r}.")
    return float(eps_255) / 255.0


def attack_column(attack: str, eps_255: float) -> str:
    """The paper's column name for accuracy under ``attack`` with budget ``eps_255`` / 255.

    Parameters
    ----------
    attack : {"fgsm", "pgd", "aa_apgd_ce", "aa_square"}
    eps_255 : float
        Budget in units of 1/255, written with one decimal and ``_`` for the point.

    Examples
    --------
    >>> attack_column("fgsm", 0.1)
    'fgsm_Linf_acc0_1'
    >>> attack_column("pgd", 8)
    'pgd_Linf_acc8_0'
    """
    if attack not in _COLUMN_PREFIX:
        raise ValueError(f"Expected `attack` to be one of {tuple(_COLUMN_PREFIX)}, got {attack!r}.")
    if not isinstance(eps_255, numbers.Real) or not 0 <= eps_255 <= 255:
        raise ValueError(f"Expected `eps_255` to be a number in [0, 255], got {eps_255!r}.")
    if round(float(eps_255), 1) != float(eps_255):
        raise ValueError(
            f"Expected `eps_255` to have at most one decimal (the paper's names), got {eps_255!r}."
        )
    return f"{_COLUMN_PREFIX[attack]}{float(eps_255):.1f}".replace(".", "_")


# ---------------------------------------------------------------------------------------------
# Attacks
# ---------------------------------------------------------------------------------------------


class Normalized(nn.Module):
    r"""Wrap a network that expects normalised inputs so that it takes pixels in [0, 1].

    ``Normalized(net, mean, std)(x) = net((x - mean) / std)``, per channel.

    Parameters
    ----------
    net : nn.Module
        The network; its output is passed through unchanged.
    mean, std : sequence of float, length C
        Per-channel normalisation, in [0, 1] pixel units.
    """

    def __init__(self, net: nn.Module, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        mean_t = torch.as_tensor(mean, dtype=torch.float32).flatten()
        std_t = torch.as_tensor(std, dtype=torch.float32).flatten()
        if mean_t.shape != std_t.shape:
            raise ValueError(
                f"Expected `mean` and `std` to have the same length, got {mean_t.numel()} "
                f"and {std_t.numel()}."
            )
        if not bool(torch.all(std_t > 0)):
            raise ValueError(f"Expected `std` to be positive, got {std_t.tolist()}.")
        self.net = net
        self.register_buffer("mean", mean_t.view(1, -1, 1, 1))
        self.register_buffer("std", std_t.view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> Any:
        return self.net((x - self.mean) / self.std)


def _logits(output: Any) -> torch.Tensor:
    """Logits from a network output: a tensor, or ``(features, logits)`` as xautodl returns."""
    if isinstance(output, (tuple, list)):
        output = output[-1]
    return output


def _check_inputs(x: Any, y: Any, eps: Any) -> None:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.ndim < 2:
        raise ValueError(
            f"Expected `x` to be a floating-point tensor (N, C, H, W), got "
            f"{getattr(x, 'dtype', type(x).__name__)} of shape {tuple(getattr(x, 'shape', ()))}."
        )
    if x.numel() and (float(x.min()) < 0 or float(x.max()) > 1):
        raise ValueError(
            f"Expected `x` to hold pixels in [0, 1], got range [{float(x.min()):.3g}, "
            f"{float(x.max()):.3g}]."
        )
    if not isinstance(y, torch.Tensor) or y.shape != x.shape[:1] or y.is_floating_point():
        raise ValueError(
            f"Expected `y` to be an integer tensor of shape ({x.shape[0]},), got "
            f"{getattr(y, 'dtype', type(y).__name__)} of shape {tuple(getattr(y, 'shape', ()))}."
        )
    if not isinstance(eps, numbers.Real) or not 0 <= eps <= 1:
        raise ValueError(f"Expected `eps` to be a number in [0, 1], got {eps!r}.")


def _input_gradient(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """:math:`\\nabla_x \\sum_i \\mathrm{CE}(f(x_i), y_i)`, without touching parameter grads."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = F.cross_entropy(_logits(net(x)), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, x)
    return grad


def fgsm(net: nn.Module, x: torch.Tensor, y: torch.Tensor, *, eps: float) -> torch.Tensor:
    r"""Fast gradient sign method [3]_.

    .. math::
        x_{\mathrm{adv}} = \mathrm{clip}_{[0, 1]}\big(x + \varepsilon\,
        \mathrm{sign}(\nabla_x \mathcal{L}_{\mathrm{CE}}(f(x), y))\big)

    Parameters
    ----------
    net : nn.Module
        Maps pixels in [0, 1] to logits (N, K), or to ``(features, logits)``.
    x : Tensor, shape (N, C, H, W)
        Clean images in [0, 1].
    y : Tensor of int, shape (N,)
        True labels.
    eps : float
        Budget :math:`\varepsilon` in pixel units, in [0, 1] (see :func:`eps_from_255`).

    Returns
    -------
    Tensor, shape (N, C, H, W)
        Adversarial images, detached, with :math:`\|x_{\mathrm{adv}} - x\|_\infty \le
        \varepsilon`.
    """
    _check_inputs(x, y, eps)
    x = x.detach()
    if eps == 0:
        return x.clone()
    grad = _input_gradient(net, x, y)
    return (x + eps * grad.sign()).clamp_(0.0, 1.0)


def pgd(
    net: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    eps: float,
    alpha: float | None = None,
    steps: int = 10,
    random_start: bool = True,
    seed: int = 0,
) -> torch.Tensor:
    r"""Projected gradient descent on the L-infinity ball [4]_.

    Starting from :math:`x^0 = \mathrm{clip}_{[0,1]}(x + \delta)`, :math:`\delta \sim
    U[-\varepsilon, \varepsilon]^d` (or :math:`x^0 = x`), take ``steps`` signed-gradient steps

    .. math::
        x^{t+1} = \Pi\big(x^t + \alpha\, \mathrm{sign}(\nabla_x
        \mathcal{L}_{\mathrm{CE}}(f(x^t), y))\big),

    where :math:`\Pi` projects onto :math:`\{x' : \|x' - x\|_\infty \le \varepsilon\} \cap
    [0, 1]^d`.

    Parameters
    ----------
    net : nn.Module
        Maps pixels in [0, 1] to logits (N, K), or to ``(features, logits)``.
    x : Tensor, shape (N, C, H, W)
        Clean images in [0, 1].
    y : Tensor of int, shape (N,)
        True labels.
    eps : float
        Budget in pixel units, in [0, 1].
    alpha : float, optional
        Step size; default :math:`2.5\,\varepsilon / \mathrm{steps}` (Madry et al.).
    steps : int, default 10
        Number of gradient steps.
    random_start : bool, default True
        Start from a uniform random point of the ball.
    seed : int, default 0
        Seed of the random start (a generator on ``x``'s device).

    Returns
    -------
    Tensor, shape (N, C, H, W)
        Adversarial images, detached.
    """
    _check_inputs(x, y, eps)
    if not isinstance(steps, numbers.Integral) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"Expected `steps` to be a positive integer, got {steps!r}.")
    alpha = 2.5 * eps / steps if alpha is None else alpha
    if not isinstance(alpha, numbers.Real) or alpha < 0:
        raise ValueError(f"Expected `alpha` to be a non-negative number, got {alpha!r}.")
    x = x.detach()
    if eps == 0:
        return x.clone()
    if random_start:
        generator = torch.Generator(device=x.device).manual_seed(int(seed))
        noise = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        x_adv = (x + (2 * noise - 1) * eps).clamp_(0.0, 1.0)
    else:
        x_adv = x.clone()
    for _ in range(int(steps)):
        x_adv = x_adv + alpha * _input_gradient(net, x_adv, y).sign()
        x_adv = torch.min(torch.max(x_adv, x - eps), x + eps).clamp_(0.0, 1.0)
    return x_adv


ATTACKS: dict[str, Callable[..., torch.Tensor]] = {"fgsm": fgsm, "pgd": pgd}
"""The attacks :func:`adversarial_accuracy` runs, by name."""


# ---------------------------------------------------------------------------------------------
# Accuracy under attack
# ---------------------------------------------------------------------------------------------


def _as_pixels(images: Any) -> torch.Tensor:
    """uint8 (N, H, W, C) numpy images or a float (N, C, H, W) tensor -> float (N, C, H, W)."""
    if isinstance(images, np.ndarray):
        if images.dtype != np.uint8 or images.ndim != 4:
            raise ValueError(
                f"Expected `x` as a numpy array to be uint8 images (N, H, W, C), got "
                f"{images.dtype} of shape {images.shape}."
            )
        return torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0)
    if isinstance(images, torch.Tensor):
        return images
    raise ValueError(f"Expected `x` to be a numpy array or a tensor, got {type(images).__name__}.")


def adversarial_accuracy(
    net: nn.Module,
    x: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    *,
    attack: str,
    eps_grid: Sequence[float] | None = None,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    steps: int = 10,
    seed: int = 0,
) -> dict[str, float]:
    """Accuracy of ``net`` on ``attack``-perturbed images, for each budget of a grid.

    The network is evaluated in eval mode and left as it was found: same parameters, same
    training flags, no gradients stored. The attack targets the true label.

    Parameters
    ----------
    net : nn.Module
        Maps pixels in [0, 1] to logits (wrap it in :class:`Normalized` if it expects
        normalised inputs).
    x : ndarray of uint8, shape (N, H, W, C), or Tensor of float, shape (N, C, H, W)
        Clean images: the project's uint8 NHWC arrays, or pixels in [0, 1].
    y : ndarray or Tensor of int, shape (N,)
        True labels.
    attack : {"fgsm", "pgd"}
    eps_grid : sequence of float, optional
        Budgets in units of 1/255; default the paper's grid (:data:`FGSM_EPS_255` or
        :data:`PGD_EPS_255`).
    batch_size : int, default 256
    device : str or torch.device, optional
        Device of ``net``'s parameters by default; an explicit device must match it.
    steps : int, default 10
        PGD steps (ignored by FGSM).
    seed : int, default 0
        PGD random start; batch ``b`` uses seed ``seed + b``.

    Returns
    -------
    dict of str to float
        ``{attack_column(attack, e): accuracy}`` for each ``e`` of the grid, accuracy in [0, 1].
    """
    if attack not in ATTACKS:
        raise ValueError(f"Expected `attack` to be one of {tuple(ATTACKS)}, got {attack!r}.")
    if eps_grid is None:
        eps_grid = FGSM_EPS_255 if attack == "fgsm" else PGD_EPS_255
    columns = {attack_column(attack, e): eps_from_255(e) for e in eps_grid}
    if not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"Expected `batch_size` to be a positive integer, got {batch_size!r}.")
    parameter = next(net.parameters(), None)
    net_device = parameter.device if parameter is not None else torch.device("cpu")
    if device is not None and torch.device(device) != net_device:
        raise ValueError(
            f"Expected `device` to match the device of `net` ({net_device}), got {device}."
        )
    pixels = _as_pixels(x)
    labels = torch.as_tensor(np.asarray(y) if isinstance(y, np.ndarray) else y).long()
    if labels.shape != pixels.shape[:1]:
        raise ValueError(
            f"Expected `y` to have shape ({pixels.shape[0]},), got {tuple(labels.shape)}."
        )
    if len(labels) == 0:
        raise ValueError("Expected `x` to hold at least one image, got 0.")

    training = {module: module.training for module in net.modules()}
    net.eval()
    correct = dict.fromkeys(columns, 0)
    try:
        for b, start in enumerate(range(0, len(labels), batch_size)):
            xb = pixels[start : start + batch_size].to(net_device, torch.float32)
            yb = labels[start : start + batch_size].to(net_device)
            if attack == "fgsm":  # one gradient serves every budget
                _check_inputs(xb, yb, 0.0)
                step = _input_gradient(net, xb, yb).sign()
            for column, eps in columns.items():
                if attack == "fgsm":
                    x_adv = (xb + eps * step).clamp_(0.0, 1.0)  # = fgsm(net, xb, yb, eps=eps)
                else:
                    x_adv = pgd(net, xb, yb, eps=eps, steps=steps, seed=seed + b)
                with torch.no_grad():
                    predicted = _logits(net(x_adv)).argmax(dim=1)
                correct[column] += int((predicted == yb).sum())
    finally:
        for module, mode in training.items():
            module.train(mode)
    return {column: correct[column] / len(labels) for column in columns}
