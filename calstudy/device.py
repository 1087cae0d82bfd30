"""The device side of calstudy: where tensors live, at which precision, and how fast.

* :func:`resolve_device` and :func:`resolve_precision` turn ``"auto"`` into a device and an
  autocast precision (bf16 where it measured faster, else fp32); :func:`autocast` enters it.
* :class:`DeviceLoader` keeps a whole image set on the device, normalised once, and serves
  batches augmented with one indexing operation each (airbench's habit, Jordan 2024).
* :func:`synchronize`, :func:`device_name` and :func:`machine_info` are what timings and
  provenance need: wait for queued kernels, name the device as the store records it, and
  describe the machine a measurement ran on.

Training (:mod:`calstudy.train`), evaluation (:mod:`calstudy.evaluate`) and the live
measurements (:mod:`calstudy.measure`) all take their device from here.

References
----------
.. [1] K. Jordan, "94% on CIFAR-10 in 3.29 Seconds on a Single GPU", arXiv:2404.00498, 2024.
"""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from calstudy._checks import check_positive_int

__all__ = [
    "DeviceLoader",
    "autocast",
    "device_name",
    "machine_info",
    "resolve_device",
    "resolve_precision",
    "synchronize",
]


# ------------------------------------------------------------------------------------------------
# Device and precision
# ------------------------------------------------------------------------------------------------
def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Turn ``"auto"`` (or None) into ``cuda`` when available, else ``cpu``."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_precision(precision: str, device: torch.device) -> Literal["fp32", "bf16"]:
    """Pick the autocast precision: ``"auto"`` is whichever trains NATS-Bench nets faster.

    On a CPU with native bf16 (oneDNN reports AVX-512 BF16 or AMX) that is bf16: 2 cores,
    batch 256, C=16, N=1 measured 1,015 img/s (bf16) against 723 (fp32), both channels-last.
    On CUDA it is fp32 (cuDNN convolutions use TF32 by default): these networks are too small
    to be compute-bound at batch 256, and on an H100 bf16 autocast only added cast kernels
    (C=16, N=1: 28.3k img/s bf16 vs 32.2k fp32; N=5: 8.7k vs 8.8k; ``benchmarks/README.md``).
    Elsewhere ``"auto"`` is fp32.
    """
    if precision in ("fp32", "bf16"):
        return precision  # type: ignore[return-value]
    if precision != "auto":
        raise ValueError(f'Expected `precision` to be "auto", "fp32" or "bf16", got {precision!r}.')
    if device.type == "cpu":
        return "bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"
    return "fp32"


def autocast(device: torch.device, *, bf16: bool, cache_enabled: bool = True) -> torch.autocast:
    """bf16 autocast on ``device`` when ``bf16`` (see :func:`resolve_precision`), else a no-op.

    ``cache_enabled=False`` for code captured in a CUDA graph: autocast's cache of cast weights
    must not outlive the capture.
    """
    return torch.autocast(
        device.type, dtype=torch.bfloat16, enabled=bf16, cache_enabled=cache_enabled
    )


def synchronize(device: torch.device | str) -> None:
    """Wait for the kernels queued on a CUDA ``device`` (a no-op elsewhere), before a clock
    is read: CUDA calls return before their work is done."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_name(device: str | torch.device | None) -> str:
    """The device as the store records it: ``"cuda:<GPU name>"`` or ``"cpu"``.

    ``None`` is the device ``"auto"`` picks (:func:`resolve_device`).
    """
    device = resolve_device(device)
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return "cpu"


def machine_info(device: str = "auto") -> dict[str, Any]:
    """The device measurements run on: name, torch version and threads, CPU count, load."""
    dev = resolve_device(device)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    return {
        "device": str(dev),
        "device_name": name,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "load_1min": load,
    }


# ------------------------------------------------------------------------------------------------
# Data on the device
# ------------------------------------------------------------------------------------------------
class DeviceLoader:
    """Batches of normalised images that live on the device, augmented whole-batch.

    Images are moved to the device once as uint8, zero-padded once, normalised once to
    ``dtype`` and stored NHWC. Each pass (``iter``) draws a seeded permutation, then for each batch
    one random crop offset and one flip bit per image, and gathers the batch with a single
    advanced-indexing operation: rows ``dy + i`` and columns ``dx + j`` (or ``dx + 31 - j`` when
    flipped). The result is an NCHW view whose memory is channels-last.

    Parameters
    ----------
    images : ndarray of shape (N, H, W, 3), dtype uint8
        RGB images, NHWC.
    labels : ndarray of shape (N,), int
        Class indices.
    batch_size : int
        Images per batch.
    mean, std : sequence of 3 float
        Per-channel statistics in [0, 1] units; images become ``(x / 255 - mean) / std``.
    device : torch.device or str
        Where the data lives.
    dtype : torch.dtype
        Storage dtype of the normalised images (``torch.bfloat16`` when training in bf16).
    train : bool
        True: shuffle and augment every pass. False: fixed order, no augmentation.
    crop_padding : int
        Padding for the random crop, in pixels (training only).
    flip : bool
        Random horizontal flips (training only).
    drop_last : bool
        Drop the last batch when it has fewer than ``batch_size`` images.
    channels_last : bool
        Return batches whose memory is channels-last (else contiguous NCHW).
    seed : int
        Seed of the permutation and augmentation generator (training only).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((10, 32, 32, 3), np.uint8); y = np.arange(10)
    >>> loader = DeviceLoader(x, y, batch_size=4, mean=(0.5,) * 3, std=(0.5,) * 3, device="cpu")
    >>> [tuple(xb.shape) for xb, _ in loader]
    [(4, 3, 32, 32), (4, 3, 32, 32), (2, 3, 32, 32)]
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        *,
        batch_size: int,
        mean: Sequence[float],
        std: Sequence[float],
        device: torch.device | str,
        dtype: torch.dtype = torch.float32,
        train: bool = False,
        crop_padding: int = 4,
        flip: bool = True,
        drop_last: bool = False,
        channels_last: bool = True,
        seed: int = 0,
    ) -> None:
        images = np.asarray(images)
        labels = np.asarray(labels)
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise ValueError(
                "Expected `images` to be a uint8 array of shape (N, H, W, 3), "
                f"got dtype {images.dtype} and shape {images.shape}."
            )
        if labels.shape != (len(images),):
            raise ValueError(
                f"Expected `labels` to have shape ({len(images)},), got {labels.shape}."
            )
        check_positive_int(batch_size, "batch_size")
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(
                f"Expected `mean` and `std` to hold 3 values with std > 0, got {mean!r}, {std!r}."
            )
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.train = train
        self.pad = crop_padding if train else 0
        self.flip = flip and train
        self.drop_last = drop_last
        self.channels_last = channels_last
        self.size = images.shape[1:3]
        self.labels = torch.as_tensor(labels, dtype=torch.long).to(self.device)
        x = torch.from_numpy(np.require(images, requirements=["C", "W"])).to(
            self.device
        )  # uint8, once
        p = self.pad
        x = F.pad(x, (0, 0, p, p, p, p))  # zero pixels = black, as torchvision's RandomCrop
        mean_t = torch.tensor(mean, dtype=torch.float32, device=self.device)
        std_t = torch.tensor(std, dtype=torch.float32, device=self.device)
        self.images = ((x.float() / 255 - mean_t) / std_t).to(dtype)  # (N, H+2p, W+2p, 3)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.labels)
        if self.train:
            order = torch.randperm(n, device=self.device, generator=self.generator)
        else:
            order = torch.arange(n, device=self.device)
        for k in range(len(self)):
            idx = order[k * self.batch_size : (k + 1) * self.batch_size]
            yield self._gather(idx), self.labels[idx]

    def _gather(self, idx: torch.Tensor) -> torch.Tensor:
        """Crop and flip the images ``idx`` in one indexing operation; NCHW output."""
        h, w = self.size
        rows = torch.arange(h, device=self.device).expand(len(idx), h)
        cols = torch.arange(w, device=self.device).expand(len(idx), w)
        if self.pad:
            shift = torch.randint(
                0, 2 * self.pad + 1, (2, len(idx), 1), device=self.device, generator=self.generator
            )
            rows, cols = rows + shift[0], cols + shift[1]
        if self.flip:
            flipped = torch.rand(len(idx), 1, device=self.device, generator=self.generator) < 0.5
            cols = torch.where(flipped, cols.flip(1), cols)
        batch = self.images[idx[:, None, None], rows[:, :, None], cols[:, None, :]]  # (B,h,w,3)
        batch = batch.permute(0, 3, 1, 2)  # NCHW view of channels-last memory
        return batch if self.channels_last else batch.contiguous()
