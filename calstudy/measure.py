"""Live measurements on the current device, for the cost model of :mod:`calstudy.projection`.

:func:`measure_eval_cost` times the pretrained evaluation's two parts (the logits of sampled
architectures at the pretrained size, and :func:`calstudy.catalogue.full_record` on
``10,000 × K`` logits); :func:`measure_train_cost` times training steps at a scale's network
size; :func:`write_measurement` writes a benchmark script's measurements as the
``calstudy-bench/1`` files that :func:`calstudy.projection.load_measurement` reads.
:func:`calstudy.device.machine_info` describes the machine they ran on.

This is the torch side of the projection: :mod:`calstudy.projection` itself (the cost model,
the store's timings, the benchmark files) imports no torch, so the scale chapter's numbers can
be recomputed from recorded measurements without it.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from calstudy._checks import check_positive_int, check_space, check_spaces
from calstudy.catalogue import full_record
from calstudy.data import ImageDataset
from calstudy.device import resolve_device, synchronize
from calstudy.evaluate import predict_logits
from calstudy.models import build_network
from calstudy.projection import scale_fidelity
from calstudy.space import sample_archs
from calstudy.train import train

__all__ = [
    "EvalMeasurement",
    "TrainMeasurement",
    "measure_eval_cost",
    "measure_train_cost",
    "write_measurement",
]

_MEAN, _STD = (0.491, 0.482, 0.447), (0.247, 0.244, 0.262)  # CIFAR-10's, for timing only


@dataclass(frozen=True)
class EvalMeasurement:
    """What :func:`measure_eval_cost` timed.

    Attributes
    ----------
    device : str
    logits : DataFrame
        One row per timed network: ``space, arch, n_params, images, seconds, images_per_s``.
    record_s : float
        Seconds of ``full_record`` on ``record_shape`` logits (best of ``repeats``).
    record_shape : tuple of int
        ``(N, K)``.
    """

    device: str
    logits: pd.DataFrame
    record_s: float
    record_shape: tuple[int, int]

    @property
    def images_per_s(self) -> float:
        """Logit throughput over all timed networks: total images / total seconds."""
        return float(self.logits["images"].sum() / self.logits["seconds"].sum())

    def by_space(self) -> pd.DataFrame:
        """Throughput per space (total images / total seconds)."""
        g = self.logits.groupby("space")[["images", "seconds"]].sum()
        return (g["images"] / g["seconds"]).rename("images_per_s").to_frame()


def measure_eval_cost(
    *,
    spaces: Sequence[str] = ("tss", "sss"),
    n_archs: int = 2,
    n_images: int = 256,
    record_n: int = 10_000,
    record_classes: int = 10,
    num_classes: int = 10,
    batch_size: int = 1024,
    device: str = "auto",
    repeats: int = 1,
    seed: int = 0,
) -> EvalMeasurement:
    r"""Time the pretrained evaluation's two parts on the current device.

    1. Logits: for ``n_archs`` architectures of each space (:func:`calstudy.space.sample_archs`,
       seeded), built at the pretrained size (TSS C = 16, N = 5; SSS at its widths), the fp32
       logits of ``n_images`` random 32 × 32 images (:func:`calstudy.evaluate.predict_logits`,
       after one warm-up batch; the timing does not depend on pixel values). Throughput
       :math:`r` = images / seconds, so an evaluation of :math:`I` images costs :math:`I / r`.
    2. The metric catalogue: :func:`calstudy.catalogue.full_record` (pre and post temperature
       scaling) on ``record_n × record_classes`` logits drawn as in ``benchmarks/metrics_bench.py``
       (labels from ``softmax(logits / 1.5)``), best of ``repeats``.

    On a GPU, times are taken after ``torch.cuda.synchronize``.

    Returns
    -------
    EvalMeasurement
    """
    spaces = check_spaces(spaces)
    for name, value in (
        ("n_archs", n_archs),
        ("n_images", n_images),
        ("record_n", record_n),
        ("num_classes", num_classes),
        ("batch_size", batch_size),
        ("repeats", repeats),
    ):
        check_positive_int(value, name)
    check_positive_int(record_classes, "record_classes")
    if record_classes < 2:
        raise ValueError(f"Expected `record_classes` to be at least 2, got {record_classes}.")
    dev = resolve_device(device)
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n_images, 32, 32, 3), dtype=np.uint8)
    rows = []
    for space in spaces:
        for arch in sample_archs(space, n_archs, seed=seed):
            torch.manual_seed(seed)
            net = build_network(space, arch, num_classes=num_classes, C=16, N=5).to(dev)
            kw = dict(mean=_MEAN, std=_STD, batch_size=batch_size, device=dev)
            predict_logits(net, images[: min(n_images, 64)], **kw)  # warm-up
            best = math.inf
            for _ in range(repeats):
                synchronize(dev)
                begin = time.perf_counter()
                predict_logits(net, images, **kw)
                synchronize(dev)
                best = min(best, time.perf_counter() - begin)
            rows.append(
                {
                    "space": space,
                    "arch": arch,
                    "n_params": sum(p.numel() for p in net.parameters()),
                    "images": n_images,
                    "seconds": best,
                    "images_per_s": n_images / best,
                }
            )
    logits = 3 * rng.standard_normal((record_n, record_classes))
    labels = (logits / 1.5 + rng.gumbel(size=logits.shape)).argmax(1)
    record_s = math.inf
    for _ in range(repeats):
        begin = time.perf_counter()
        full_record(logits, labels, heldout_frac=0.2, seed=seed)
        record_s = min(record_s, time.perf_counter() - begin)
    return EvalMeasurement(str(dev), pd.DataFrame(rows), record_s, (record_n, record_classes))


@dataclass(frozen=True)
class TrainMeasurement:
    """What :func:`measure_train_cost` timed.

    Attributes
    ----------
    scale, space, arch, device, precision : str
    C, N : int
        Network size (TSS; an SSS network has its own widths).
    images : int
        Training images in the timed epochs (the first epoch is excluded as warm-up).
    seconds : float
        Seconds of those epochs' training steps.
    images_per_s : float
    per_network_s : float
        ``seconds per image × epochs × n_train`` of the scale (:func:`~calstudy.projection.scale_fidelity`):
        the projected training time of one network at that scale on this device.
    """

    scale: str
    space: str
    arch: str
    device: str
    precision: str
    C: int
    N: int
    images: int
    seconds: float
    images_per_s: float
    per_network_s: float


def measure_train_cost(
    scale: str = "tiny",
    *,
    space: str = "tss",
    arch: str | None = None,
    n_images: int = 512,
    epochs: int = 2,
    batch_size: int = 256,
    device: str = "auto",
    seed: int = 0,
) -> TrainMeasurement:
    r"""Time training steps of one network at a scale's size on the current device.

    The network (``arch``, default the first of :func:`calstudy.space.sample_archs`) is built
    at the scale's size (:func:`~calstudy.projection.scale_fidelity`) and trained with :func:`calstudy.train.train`
    (the NATS-Bench recipe, precision ``"auto"``) for ``epochs`` passes over ``n_images``
    random images; the first pass is warm-up. Per-image cost :math:`c = t / I` over the timed
    passes; one network at the scale costs :math:`c\,E\,I_\mathrm{train}`.

    Returns
    -------
    TrainMeasurement
    """
    fidelity = scale_fidelity(scale)
    space = check_space(space)
    check_positive_int(n_images, "n_images")
    check_positive_int(batch_size, "batch_size")
    check_positive_int(epochs, "epochs")
    if epochs < 2:
        raise ValueError(f"Expected `epochs` to be at least 2 (one is warm-up), got {epochs}.")
    if arch is None:
        arch = sample_archs(space, 1, seed=seed)[0]
    rng = np.random.default_rng(seed)
    n_classes = 10
    data = ImageDataset(
        name="random",
        classes=tuple(str(k) for k in range(n_classes)),
        mean=_MEAN,
        std=_STD,
        x_train=rng.integers(0, 256, (n_images, 32, 32, 3), dtype=np.uint8),
        y_train=rng.integers(0, n_classes, n_images).astype(np.int64),
        x_test=rng.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8),
        y_test=rng.integers(0, n_classes, 8).astype(np.int64),
    )
    torch.manual_seed(seed)
    net = build_network(space, arch, num_classes=n_classes, C=fidelity["C"], N=fidelity["N"])
    result = train(net, data, epochs=epochs, batch_size=batch_size, seed=seed, device=device)
    seconds = result.history[-1]["time_s"] - result.history[0]["time_s"]
    images = (epochs - 1) * n_images
    if not seconds > 0:
        raise RuntimeError(f"Timed training took {seconds} s; increase `n_images` or `epochs`.")
    per_network = seconds / images * fidelity["epochs"][space] * fidelity["n_train"]
    cfg = result.config
    return TrainMeasurement(
        scale,
        space,
        arch,
        cfg.device,
        cfg.precision,
        fidelity["C"],
        fidelity["N"],
        images,
        seconds,
        images / seconds,
        per_network,
    )


def write_measurement(
    path: str | os.PathLike[str],
    benchmark: str,
    *,
    script: str,
    argv: Sequence[str],
    device: str,
    device_name: str,
    **fields: Any,
) -> Path:
    """Write a benchmark run's measurements as a ``calstudy-bench/1`` file.

    The counterpart of :func:`~calstudy.projection.load_measurement`: ``schema``, ``benchmark``, a ``source`` of
    kind ``"measured"`` (device, torch and Python versions, UTC date, the command that ran),
    ``device`` (``"cuda"``, ``"cpu"``…), ``device_name``, then `fields`.

    Parameters
    ----------
    path : path
        File to write (its directory is created).
    benchmark : str
        The script's name, e.g. ``"eval_bench"``.
    script : str
        Its path as a user runs it, e.g. ``"benchmarks/eval_bench.py"``.
    argv : sequence of str
        The command-line arguments the run was given.
    device, device_name : str
    **fields
        The measurements (JSON-serialisable).

    Returns
    -------
    Path
    """
    record = {
        "schema": "calstudy-bench/1",
        "benchmark": benchmark,
        "source": {
            "kind": "measured",
            "device": device_name,
            "torch": torch.__version__,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
            "command": shlex.join(["python", script, *argv]),
            "python": platform.python_version(),
        },
        "device": device,
        "device_name": device_name,
        **fields,
    }
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return out
