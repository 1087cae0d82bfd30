"""Train a NATS-Bench network with the benchmark's own recipe, fast.

The file reads top to bottom: hyperparameters (:class:`TrainConfig`), the training loop
(:func:`train`, fed by :class:`calstudy.device.DeviceLoader`), evaluation and checkpoints.

The recipe is NATS-Bench's (Dong et al., TPAMI 2021; ``xautodl`` hyper-parameter files
``12E.config``/``200E.config``): SGD with Nesterov momentum 0.9, learning rate 0.1 for a batch of
256 annealed by a cosine to 0 (stepped once per epoch, as in ``xautodl``'s
``CosineAnnealingLR``), weight decay 5e-4 on every parameter, cross-entropy without label
smoothing, random 32 x 32 crop of the zero-padded image (4 pixels) and horizontal flip.

Speed comes from airbench's habits (Jordan 2024, ``airbench94.py``): the whole training set
lives on the device as one tensor, normalised and padded once; each epoch crops and flips whole
batches with index arithmetic, so no Python code runs per image. Tensors are channels-last.
``precision="auto"`` picks what measured faster (:func:`calstudy.device.resolve_precision`):
bf16 autocast on a CPU with native bf16 (about 1.4-2x faster there), fp32 on GPUs, where these
small networks are launch-bound and bf16 only adds casts. ``benchmarks/precision_check.py`` shows that bf16 does
not move accuracy or ECE beyond seed noise (``benchmarks/README.md``). Because they are
launch-bound, on CUDA the whole training step (forward, loss, backward, SGD update and the
epoch's running sums) is captured once in a CUDA graph and replayed (:class:`_GraphedStep`):
one launch per batch instead of several hundred, the same kernels on the same memory.

References
----------
.. [1] X. Dong, L. Liu, K. Musial, B. Gabrys, "NATS-Bench: Benchmarking NAS Algorithms for
   Architecture Topology and Size", IEEE TPAMI, 2021.
.. [2] K. Jordan, "94% on CIFAR-10 in 3.29 Seconds on a Single GPU", arXiv:2404.00498, 2024.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from calstudy.device import (
    DeviceLoader,
    autocast,
    resolve_device,
    resolve_precision,
    synchronize,
)
from calstudy.files import atomic_write

if TYPE_CHECKING:
    from calstudy.data import ImageDataset

__all__ = [
    "TrainConfig",
    "TrainResult",
    "train",
    "save_checkpoint",
    "load_checkpoint",
]

Precision = Literal["auto", "fp32", "bf16"]


# ------------------------------------------------------------------------------------------------
# Hyperparameters
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one training run; defaults are NATS-Bench's recipe.

    Every field can be overridden by keyword in :func:`train`. NATS-Bench trained the topology
    search space (TSS) for 12 or 200 epochs and the size search space (SSS) for 1, 12 or 90.
    """

    epochs: int = 12  # passes over the training set; cosine period (NATS-Bench: 12 / 200 / 90)
    stop_after: int = 0  # train only the first `stop_after` epochs of the schedule; 0: all
    lr: float = 0.1  # peak learning rate for a batch of 256 images; scaled by batch_size / 256
    momentum: float = 0.9  # SGD momentum (Nesterov)
    nesterov: bool = True
    weight_decay: float = 5e-4  # L2 penalty coefficient, on every parameter (as in xautodl)
    batch_size: int = 256  # images per optimisation step
    crop_padding: int = 4  # pixels of zero padding (black, before normalising) for random crop
    flip: bool = True  # random horizontal flip with probability 1/2
    label_smoothing: float = 0.0  # cross-entropy label smoothing, in [0, 1)
    drop_last: bool = False  # False: the last partial batch is trained on, as in NATS-Bench
    data_fraction: float = 1.0  # fraction of the training set used (seeded, class-stratified)
    eval_every: int = 0  # epochs between test-set evaluations; 0: only after the last epoch
    seed: int = 0  # seeds data order, subset and augmentation (not the network's init)
    device: str = "auto"  # "auto": cuda if available, else cpu; or any torch device string
    precision: Precision = "auto"  # "auto": bf16 on bf16-capable CPUs, else fp32 (measured)
    channels_last: bool | Literal["auto"] = "auto"  # "auto": True on cuda and cpu
    compile: bool = False  # wrap the network in torch.compile for the training steps
    cuda_graph: bool | Literal["auto"] = "auto"  # replay each step from a CUDA graph; "auto": on
    # CUDA unless `compile` (torch.compile makes its own graphs)

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"Expected `{name}` to be a positive integer, got {value!r}.")
        for name in ("crop_padding", "eval_every", "seed", "stop_after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"Expected `{name}` to be a non-negative integer, got {value!r}.")
        for name in ("lr", "momentum", "weight_decay"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"Expected `{name}` to be a non-negative number, got {value!r}.")
        if self.stop_after > self.epochs:
            raise ValueError(
                f"Expected `stop_after` to be at most `epochs` ({self.epochs}), "
                f"got {self.stop_after}."
            )
        if not 0 < self.data_fraction <= 1:
            raise ValueError(
                f"Expected `data_fraction` to be in (0, 1], got {self.data_fraction!r}."
            )
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(
                f"Expected `label_smoothing` to be in [0, 1), got {self.label_smoothing!r}."
            )
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ValueError(
                f'Expected `precision` to be "auto", "fp32" or "bf16", got {self.precision!r}.'
            )
        for name in ("channels_last", "cuda_graph"):
            value = getattr(self, name)
            if not (value == "auto" or isinstance(value, bool)):
                raise ValueError(f'Expected `{name}` to be "auto", True or False, got {value!r}.')
        if self.cuda_graph is True and self.compile:
            raise ValueError(
                "Expected at most one of `cuda_graph` and `compile`: torch.compile captures its "
                "own graphs (mode='reduce-overhead')."
            )


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    net : torch.nn.Module
        The trained network (the module passed in, trained in place, on the training device).
    history : list of dict
        One entry per epoch: ``epoch`` (1-based), ``lr``, ``train_loss``, ``train_acc``,
        ``time_s`` (cumulative training seconds) and, on evaluated epochs, ``test_loss`` and
        ``test_acc``.
    wall_time_s : float
        Seconds spent in the training steps (evaluation excluded).
    images_per_s : float
        Training images processed per second of ``wall_time_s``.
    config : TrainConfig
        The configuration actually used, with ``device``, ``precision`` and ``channels_last``
        resolved.
    """

    net: nn.Module
    history: list[dict[str, float]]
    wall_time_s: float
    images_per_s: float
    config: TrainConfig


def _resolve_config(cfg: TrainConfig) -> TrainConfig:
    device = resolve_device(cfg.device)
    channels_last = cfg.channels_last
    if channels_last == "auto":
        channels_last = device.type in ("cuda", "cpu")
    cuda_graph = cfg.cuda_graph
    if cuda_graph == "auto":
        cuda_graph = device.type == "cuda" and not cfg.compile
    elif cuda_graph and device.type != "cuda":
        raise ValueError(f"Expected a CUDA device for `cuda_graph=True`, got {str(device)!r}.")
    return dataclasses.replace(
        cfg,
        device=str(device),
        precision=resolve_precision(cfg.precision, device),
        channels_last=channels_last,
        cuda_graph=cuda_graph,
    )


# ------------------------------------------------------------------------------------------------
# Training loop
# ------------------------------------------------------------------------------------------------
def train(
    net: nn.Module,
    data: ImageDataset,
    *,
    progress: bool = False,
    on_epoch: Callable[[int, nn.Module], Mapping[str, float]] | None = None,
    **overrides: Any,
) -> TrainResult:
    """Train ``net`` on ``data.x_train`` with the NATS-Bench recipe.

    Parameters
    ----------
    net : torch.nn.Module
        Network whose forward returns logits of shape (B, K); trained in place and moved to the
        training device (and to channels-last memory when configured).
    data : ImageDataset
        Training images/labels, test images/labels and the normalisation ``mean``/``std``.
    progress : bool
        Show a tqdm bar over epochs.
    on_epoch : callable, optional
        Called as ``on_epoch(epoch, net)`` after every epoch (``net`` in eval mode, gradients
        off); the mapping it returns is added to that epoch's ``history`` entry. Its time is not
        counted as training time.
    **overrides
        Any :class:`TrainConfig` field, e.g. ``epochs=200, seed=3``.

    Returns
    -------
    TrainResult

    Notes
    -----
    The learning rate of epoch :math:`e = 0, \\dots, E-1` is
    :math:`\\eta_e = \\tfrac12 \\eta_0 \\frac{b}{256} (1 + \\cos(\\pi e / E))`, with :math:`b` the
    batch size, as in NATS-Bench. Given a seed and a CPU device, two calls on identically
    initialised networks give bit-identical weights. On CUDA (``cuda_graph="auto"``) each full
    batch's step is replayed from a CUDA graph (:class:`_GraphedStep`); the arithmetic is the
    eager step's, so graphed and eager runs agree up to cuDNN's run-to-run nondeterminism
    (``tests/test_train.py`` checks this where a GPU is present).
    """
    valid = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(overrides) - valid)
    if unknown:
        raise ValueError(
            f"Expected overrides among TrainConfig fields {sorted(valid)}, got {unknown}."
        )
    cfg = _resolve_config(TrainConfig(**overrides))
    device, bf16 = torch.device(cfg.device), cfg.precision == "bf16"
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format

    if cfg.data_fraction < 1:  # a class-stratified random subset, seeded
        data = data.subset(n_train=max(1, round(cfg.data_fraction * len(data.y_train))),
                           seed=cfg.seed)  # fmt: skip
    dtype = torch.bfloat16 if bf16 else torch.float32
    common = dict(mean=data.mean, std=data.std, device=device, dtype=dtype)
    loader = DeviceLoader(
        data.x_train, data.y_train, batch_size=cfg.batch_size, train=True,
        crop_padding=cfg.crop_padding, flip=cfg.flip, drop_last=cfg.drop_last,
        channels_last=bool(cfg.channels_last), seed=cfg.seed, **common,
    )  # fmt: skip
    test_loader = DeviceLoader(data.x_test, data.y_test, batch_size=1024, **common)

    net = net.to(device=device, memory_format=fmt)
    model = torch.compile(net) if cfg.compile else net
    base_lr = cfg.lr * cfg.batch_size / 256
    # A captured step reads the learning rate from device memory, so it can change per epoch.
    lr_now = torch.tensor(base_lr, device=device) if cfg.cuda_graph else base_lr
    optimizer = torch.optim.SGD(
        net.parameters(), lr=lr_now, momentum=cfg.momentum, nesterov=cfg.nesterov,
        weight_decay=cfg.weight_decay, fused=True if device.type == "cuda" else None,
    )  # fmt: skip
    loss_sum = torch.zeros((), device=device)  # the epoch's running sums, kept on the device
    correct = torch.zeros((), device=device, dtype=torch.long)

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        # Autocast's cache of cast weights must not outlive a graph capture.
        cache = not cfg.cuda_graph
        with autocast(device, bf16=bf16, cache_enabled=cache):
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=cfg.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum.add_(loss.detach() * len(y))
        correct.add_((logits.argmax(1) == y).sum())

    run_step = _GraphedStep(step, cfg.batch_size) if cfg.cuda_graph else step
    history: list[dict[str, float]] = []
    train_time, seen = 0.0, 0
    last = cfg.stop_after or cfg.epochs
    epochs = range(1, last + 1)
    if progress:
        from tqdm.auto import tqdm

        epochs = tqdm(epochs, desc="train", unit="epoch")
    for epoch in epochs:
        lr = 0.5 * base_lr * (1 + math.cos(math.pi * (epoch - 1) / cfg.epochs))
        if isinstance(lr_now, torch.Tensor):
            lr_now.fill_(lr)
        else:
            for group in optimizer.param_groups:
                group["lr"] = lr
        net.train()
        loss_sum.zero_()
        correct.zero_()
        synchronize(device)
        start = time.perf_counter()
        for x, y in loader:
            run_step(x, y)
        synchronize(device)
        train_time += time.perf_counter() - start
        n = loader.batch_size * len(loader) if cfg.drop_last else len(loader.labels)
        seen += n
        row = dict(epoch=epoch, lr=lr, train_loss=loss_sum.item() / n,
                   train_acc=correct.item() / n, time_s=train_time)  # fmt: skip
        if epoch == last or (cfg.eval_every and epoch % cfg.eval_every == 0):
            row.update(_evaluate(net, test_loader, bf16=bf16))
        if on_epoch is not None:
            observed = _observe(on_epoch, epoch, net)
            clash = sorted(set(observed) & set(row))
            if clash:
                raise ValueError(f"Expected `on_epoch` to return new history keys, got {clash}.")
            row.update(observed)
        history.append(row)
        if progress:
            epochs.set_postfix(loss=f"{row['train_loss']:.3f}", acc=f"{row['train_acc']:.3f}")
    # Gradients of a replayed step live in the graph's memory pool: let the pool go with it.
    optimizer.zero_grad(set_to_none=True)
    return TrainResult(net, history, train_time, seen / max(train_time, 1e-12), cfg)


class _GraphedStep:
    """Run ``step(x, y)`` by replaying a CUDA graph of it: one launch instead of hundreds.

    NATS-Bench networks at batch 256 leave a GPU idle between kernel launches; replaying the
    whole step (forward, backward, fused SGD update, running sums) as one graph removes the
    launch and Python overhead without changing a single kernel. As in PyTorch's whole-network
    capture recipe (CUDA semantics notes, "CUDA Graphs"), the first ``warmup`` full batches run
    eagerly on a side stream (cuDNN, the allocator and the momentum buffers settle), the next
    one is captured with static copies of its inputs and replayed, and every later full batch is
    copied into those inputs and replayed. Batches of another size (the last, partial batch of
    an epoch) run eagerly: they update the same parameters and buffers in place.

    ``step`` must not synchronise with the host, and whatever it changes between calls (the
    learning rate included) must live in device tensors that it updates in place.
    """

    def __init__(self, step: Callable[[torch.Tensor, torch.Tensor], None], batch_size: int,
                 *, warmup: int = 3) -> None:  # fmt: skip
        self.step, self.batch_size, self.warmup = step, batch_size, warmup
        self.graph: torch.cuda.CUDAGraph | None = None
        self.x: torch.Tensor | None = None
        self.y: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        if len(y) != self.batch_size:
            self.step(x, y)
        elif self.graph is not None:
            self.x.copy_(x)  # type: ignore[union-attr]
            self.y.copy_(y)  # type: ignore[union-attr]
            self.graph.replay()
        elif self.warmup > 0:
            self.warmup -= 1
            side, main = torch.cuda.Stream(x.device), torch.cuda.current_stream(x.device)
            side.wait_stream(main)
            with torch.cuda.stream(side):
                self.step(x, y)
            main.wait_stream(side)
        else:
            self.x, self.y = x.clone(memory_format=torch.preserve_format), y.clone()
            self.graph = torch.cuda.CUDAGraph()
            # On the batch's device, not the current one (training on cuda:1, say).
            with torch.cuda.device(x.device), torch.cuda.graph(self.graph):
                self.step(self.x, self.y)
            self.graph.replay()  # capture records the step without running it


# ------------------------------------------------------------------------------------------------
# Evaluation and checkpoints
# ------------------------------------------------------------------------------------------------
@torch.no_grad()
def _evaluate(model: nn.Module, loader: DeviceLoader, *, bf16: bool) -> dict[str, float]:
    """Mean cross-entropy and accuracy of ``model`` over ``loader`` (eval mode, restored)."""
    was_training = model.training
    model.eval()
    loss_sum, correct = 0.0, 0
    try:
        for x, y in loader:
            with autocast(loader.device, bf16=bf16):
                logits = model(x)
            loss_sum += F.cross_entropy(logits.float(), y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
    finally:
        model.train(was_training)
    n = len(loader.labels)
    return {"test_loss": loss_sum / n, "test_acc": correct / n}


def _observe(
    on_epoch: Callable[[int, nn.Module], Mapping[str, float]], epoch: int, net: nn.Module
) -> Mapping[str, float]:
    """``on_epoch(epoch, net)`` with ``net`` in eval mode and no gradients, then restored."""
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            return on_epoch(epoch, net)
    finally:
        net.train(was_training)


def save_checkpoint(net: nn.Module, path: str | os.PathLike[str]) -> Path:
    """Write ``net.state_dict()`` to ``path`` atomically (:func:`calstudy.files.atomic_write`).

    Tensors are saved on the CPU, so a checkpoint written on a GPU loads anywhere.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    return atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(net: nn.Module, path: str | os.PathLike[str]) -> nn.Module:
    """Load a :func:`save_checkpoint` file into ``net`` (``weights_only=True``); returns ``net``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Expected `path` to be an existing checkpoint, got {str(path)!r}.")
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict(state)
    return net
