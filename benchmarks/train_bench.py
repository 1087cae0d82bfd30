"""Training throughput of calstudy.train against a torchvision DataLoader loop, and eval cost.

Three measurements on one TSS network, in one run:

1. ``calstudy.train.train`` (data on the device, whole-batch crop/flip, bf16 + channels-last
   where "auto" picks it, each step replayed from a CUDA graph on GPUs): training images per
   second, the first epoch excluded as warm-up. On a GPU the same loop is also timed without
   the CUDA graph, to show what the graph adds.
2. A reference loop as NATS-Bench/xautodl wrote it: a ``Dataset`` of PIL images with
   ``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip``, ``ToTensor``, ``Normalize``; a
   ``DataLoader`` with 2 workers; fp32; the same SGD. Images are decoded once into memory
   (generous to the reference: xautodl reads files). Two warm-up steps are excluded.
3. Evaluation of a pretrained-size network (C=16, N=5) on 10,000 test images, plus the
   catalogue of metrics on its logits, and from them the projected cost of evaluating all
   117,702 NATS-Bench (dataset, architecture) pairs.

Goal: our loop >= 2x the reference on CPU, >= 5x on a GPU. Timing uses CUDA events and
synchronisation on GPUs. Run ``python benchmarks/train_bench.py [--device cuda]``; with
``--json PATH`` the measurements are also written to PATH (the ``calstudy-bench/1`` format of
``benchmarks/results/``, read by :func:`calstudy.projection.load_measurement` and the book's
scale chapter).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from calstudy.data import ImageDataset, load_dataset, sample_data_dir
from calstudy.device import resolve_device
from calstudy.evaluate import predict_logits
from calstudy.measure import write_measurement
from calstudy.models import build_network
from calstudy.projection import EVAL_IMAGES, N_NETWORKS
from calstudy.train import train

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
IMAGES_PER_NETWORK = dict(EVAL_IMAGES)  # 117,702 = 3 datasets x (6,466 unique TSS + 32,768 SSS)


def _timed(device: torch.device, fn: Callable[[], object]) -> float:
    """Seconds taken by ``fn()``; CUDA events on GPUs, so queued kernels are counted."""
    if device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize(device)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize(device)
        return start.elapsed_time(end) / 1000
    begin = time.perf_counter()
    fn()
    return time.perf_counter() - begin


def bench_ours(net: nn.Module, data: ImageDataset, *, steps: int, batch_size: int,
               device: torch.device, **config: Any) -> tuple[float, str]:  # fmt: skip
    """Images/s of ``train`` over ``steps`` steps after one warm-up epoch.

    ``config`` overrides :class:`calstudy.train.TrainConfig` fields (default: "auto" choices).
    """
    per_epoch = min(len(data.y_train) // batch_size, max(1, steps // 2))
    epochs = 1 + math.ceil(steps / per_epoch)
    fraction = per_epoch * batch_size / len(data.y_train)
    result = train(net, data, epochs=epochs, batch_size=batch_size, data_fraction=fraction,
                   drop_last=True, device=str(device), **config)  # fmt: skip
    seconds = result.history[-1]["time_s"] - result.history[0]["time_s"]
    cfg = result.config
    label = f"{cfg.precision}, channels_last={cfg.channels_last}, cuda_graph={cfg.cuda_graph}"
    return (epochs - 1) * per_epoch * batch_size / seconds, label


def bench_reference(net: nn.Module, data: ImageDataset, *, steps: int, batch_size: int,
                    device: torch.device, workers: int) -> float:  # fmt: skip
    """Images/s of the torchvision ``DataLoader`` loop (fp32), two warm-up steps excluded."""
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms

    class PILDataset(Dataset):
        def __init__(self, images: np.ndarray, labels: np.ndarray, transform: Callable) -> None:
            self.images = [Image.fromarray(img) for img in images]
            self.labels = labels.tolist()
            self.transform = transform

        def __len__(self) -> int:
            return len(self.images)

        def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
            return self.transform(self.images[i]), self.labels[i]

    transform = transforms.Compose([
        transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(),
        transforms.ToTensor(), transforms.Normalize(data.mean, data.std),
    ])  # fmt: skip
    loader = DataLoader(PILDataset(data.x_train, data.y_train, transform), batch_size=batch_size,
                        shuffle=True, num_workers=workers, drop_last=True,
                        pin_memory=device.type == "cuda",
                        persistent_workers=workers > 0)  # fmt: skip
    net = net.to(device).train()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)

    def batches():
        while True:
            yield from loader

    stream = batches()

    def run(n: int) -> None:
        for _ in range(n):
            x, y = next(stream)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            loss = F.cross_entropy(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    run(2)
    return steps * batch_size / _timed(device, lambda: run(steps))


def bench_eval(data: ImageDataset, *, C: int, N: int, n_images: int,
               device: torch.device) -> dict[str, float]:  # fmt: skip
    """Seconds to compute logits of ``n_images`` test images and their metric catalogue."""
    torch.manual_seed(0)
    net = build_network("tss", ARCH, num_classes=data.num_classes, C=C, N=N).to(device)
    reps = math.ceil(n_images / len(data.y_test))
    images = np.concatenate([data.x_test] * reps)[:n_images]
    labels = np.concatenate([data.y_test] * reps)[:n_images]
    kw = dict(mean=data.mean, std=data.std, device=device)
    predict_logits(net, images[:1024], **kw)  # warm-up
    logits: list[np.ndarray] = []
    t_logits = _timed(device, lambda: logits.append(predict_logits(net, images, **kw)))
    out = {"logits_s": t_logits, "images_per_s": n_images / t_logits}
    try:
        from calstudy.catalogue import full_record
    except ImportError:  # pragma: no cover - catalogue lands separately
        return out
    begin = time.perf_counter()
    full_record(logits[0], labels, heldout_frac=0.2, seed=0)
    out["record_s"] = time.perf_counter() - begin
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--C", type=int, default=16, help="TSS width of the trained network")
    parser.add_argument("--N", type=int, default=1, help="TSS cells per stage when training")
    parser.add_argument("--eval-N", type=int, default=5, help="cells per stage for the eval net")
    parser.add_argument("--steps", type=int, default=20, help="timed training steps per loop")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2, help="reference DataLoader workers")
    parser.add_argument("--repeats", type=int, default=2, help="alternating rounds; best of each")
    parser.add_argument(
        "--eval-images", type=int, default=None, help="default 10,000 on cuda, 1,000 on cpu"
    )
    parser.add_argument("--data-dir", default=None, help="CIFAR-10 folder (default: sample)")
    parser.add_argument("--json", default=None, metavar="PATH",
                        help="also write the measurements to PATH as JSON")  # fmt: skip
    args = parser.parse_args(argv)

    device = resolve_device(args.device)
    if args.eval_images is None:
        args.eval_images = 10_000 if device.type == "cuda" else 1_000
    data = load_dataset("cifar10", args.data_dir or sample_data_dir())
    print(f"# train_bench: torch {torch.__version__}, device {_device_name(device)}, "
          f"{torch.get_num_threads()} threads, python {platform.python_version()}")  # fmt: skip
    print(f"# data: {data.name}, {len(data.y_train)} train / {len(data.y_test)} test images; "
          f"network: TSS C={args.C} N={args.N}, batch {args.batch_size}, "
          f"{args.steps} steps")  # fmt: skip

    def net() -> nn.Module:
        torch.manual_seed(0)
        return build_network("tss", ARCH, num_classes=data.num_classes, C=args.C, N=args.N)

    kw = dict(steps=args.steps, batch_size=args.batch_size, device=device)
    ours, eager, ref = [], [], []
    for _ in range(args.repeats):  # alternate, best of each: robust to a shared, noisy machine
        speed, label = bench_ours(net(), data, **kw)
        ours.append(speed)
        if device.type == "cuda":  # what the CUDA graph adds: the same loop without it
            speed, eager_label = bench_ours(net(), data, cuda_graph=False, **kw)
            eager.append(speed)
        ref.append(bench_reference(net(), data, workers=args.workers, **kw))
    ours, ref = max(ours), max(ref)
    goal = 5.0 if device.type == "cuda" else 2.0
    print(f"best of {args.repeats} alternating rounds")
    print(f"calstudy.train ({label}):        {ours:10,.0f} img/s")
    if eager:
        print(f"calstudy.train ({eager_label}):        {max(eager):10,.0f} img/s")
    print(f"reference DataLoader loop (fp32, {args.workers} workers): {ref:10,.0f} img/s")
    verdict = "meets" if ours / ref >= goal else "misses"
    print(f"speed-up: {ours / ref:.2f}x (goal >= {goal:.0f}x on {device.type}: {verdict})")

    ev = bench_eval(data, C=args.C, N=args.eval_N, n_images=args.eval_images, device=device)
    print(f"\nevaluation, TSS C={args.C} N={args.eval_N}, {args.eval_images:,} images, fp32: "
          f"{ev['logits_s']:.2f} s ({ev['images_per_s']:,.0f} img/s)")  # fmt: skip
    record_s = ev.get("record_s", 0.0)
    print(f"metric catalogue (full_record, pre+post TS) on those logits: {record_s:.2f} s (CPU)")
    images = sum(IMAGES_PER_NETWORK.values())
    per_net = images / ev["images_per_s"] + record_s
    hours = N_NETWORKS * per_net / 3600
    unit = "GPU-hours" if device.type == "cuda" else f"{device.type.upper()}-hours on this machine"
    print("\nprojection of the pretrained evaluation (one row per network):")
    parts = " + ".join(f"{v:,} {k}" for k, v in IMAGES_PER_NETWORK.items())
    print(f"  images per network = {parts} = {images:,}")
    print(f"  t_net = images / throughput + t_record = {images:,} / {ev['images_per_s']:,.0f}"
          f" + {record_s:.2f} = {per_net:.2f} s")  # fmt: skip
    print(f"  total = {N_NETWORKS:,} networks x t_net / 3600 = {hours:,.1f} {unit}")

    if args.json:
        fields = _json_fields(args, data, label=label, ours=ours, ref=ref, goal=goal, ev=ev,
                              images=images, per_net=per_net, hours=hours,
                              eager=max(eager) if eager else None)  # fmt: skip
        path = write_measurement(
            args.json, "train_bench", script="benchmarks/train_bench.py",
            argv=sys.argv[1:] if argv is None else list(argv), device=device.type,
            device_name=_device_name(device), torch_threads=torch.get_num_threads(), **fields,
        )  # fmt: skip
        print(f"\nmeasurements written to {path}")


def _json_fields(
    args: argparse.Namespace,
    data: ImageDataset,
    *,
    label: str,
    ours: float,
    ref: float,
    goal: float,
    ev: dict[str, float],
    images: int,
    per_net: float,
    hours: float,
    eager: float | None = None,
) -> dict[str, Any]:
    """This run's measurements for :func:`calstudy.measure.write_measurement`."""
    return {
        "cpu_count": os.cpu_count(),
        "data": {
            "name": data.name,
            "train_images": len(data.y_train),
            "test_images": len(data.y_test),
        },
        "network": {
            "space": "tss",
            "arch": ARCH,
            "C": args.C,
            "N": args.N,
            "batch_size": args.batch_size,
        },
        "train": {
            "ours_images_per_s": ours,
            "ours_config": label,
            "ours_without_cuda_graph_images_per_s": eager,
            "reference_images_per_s": ref,
            "reference_workers": args.workers,
            "speedup": ours / ref,
            "goal": goal,
            "steps": args.steps,
            "repeats": args.repeats,
        },
        "eval": {
            "C": args.C,
            "N": args.eval_N,
            "precision": "fp32",
            "n_images": args.eval_images,
            "logits_s": ev["logits_s"],
            "images_per_s": ev["images_per_s"],
            "record_s": ev.get("record_s"),
            "record_shape": [args.eval_images, data.num_classes],
        },
        "projection": {
            "n_networks": N_NETWORKS,
            "images_per_network": images,
            "t_net_s": per_net,
            "hours": hours,
        },
    }


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()})"


if __name__ == "__main__":
    main()
