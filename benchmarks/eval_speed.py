"""Evaluation throughput of one job, by inference variant: where the GPU time per image goes.

``eval_bench.py`` showed that on an H200 k concurrent evaluation jobs are no faster than one
(s_8 = 1.07): one job already keeps the GPU busy, so the ≤ 10 H100-hour goal needs fewer GPU
seconds per image, not more jobs. This script times, in one run and on the same networks and
images, what each change buys:

- ``reference``: the network as trained (BatchNorm after every convolution) with the cell's node
  sums written as ``sum(...)`` over every edge, as before the current ``models._Cell``: a
  ``0 + t`` pass per node and a zero tensor added per ``none`` edge;
- ``fp32``: :func:`calstudy.evaluate.predict_logits` as it is (no ``none`` edges and no
  ``0 + t`` in the node sums); the logits of the study;
- ``fp32, BN folded``: ``predict_logits(fold_bn=True)``, which folds each BatchNorm into the
  convolution before it (:func:`calstudy.models.fold_batchnorm`) in every call;
- ``fp32 + CUDA graph``: folded, and the forward captured once per call and replayed per batch;
- ``bf16``: ``predict_logits(precision="bf16")``, for comparison only: it moves a network's
  15-bin ECE by up to 0.008 (``benchmarks/README.md``), so the study keeps fp32.

Each variant reports images/s (CUDA events; best of ``--repeats``) and the largest deviation of
its logits from ``reference``. Networks: ``--networks`` TSS architectures at the pretrained size
(C=16, N=5), random weights with non-trivial BatchNorm statistics; images are random (the time
does not depend on pixel values).

    python benchmarks/eval_speed.py --device cuda --json benchmarks/results/<card>-<date>-eval_speed.json
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from calstudy import models
from calstudy.device import DeviceLoader, device_name, resolve_device
from calstudy.evaluate import predict_logits
from calstudy.measure import write_measurement
from calstudy.models import build_network, fold_batchnorm
from calstudy.space import TSS_EDGES, sample_archs

MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)  # CIFAR-10's


def _reference_cell_forward(self: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The cell's forward before the current one: ``sum`` over every incoming edge."""
    nodes = [x]
    for to_node in (1, 2, 3):
        nodes.append(
            sum(
                layer(nodes[src])
                for layer, (dst, src) in zip(self.layers, TSS_EDGES, strict=True)
                if dst == to_node
            )
        )
    return nodes[3]


def _graphed_logits(net: nn.Module, images: np.ndarray, batch_size: int,
                    device: torch.device) -> np.ndarray:  # fmt: skip
    """``predict_logits`` with the forward of full batches replayed from a CUDA graph."""
    model = fold_batchnorm(net).to(device)
    loader = DeviceLoader(images, np.zeros(len(images), np.int64), batch_size=batch_size,
                          mean=MEAN, std=STD, device=device)  # fmt: skip
    static_x = None
    graph, out = None, None
    chunks = []
    with torch.no_grad():
        for x, _ in loader:
            if len(x) != batch_size:
                chunks.append(model(x).float().cpu())
                continue
            if graph is None:
                static_x = x.clone(memory_format=torch.preserve_format)
                side = torch.cuda.Stream(device)
                side.wait_stream(torch.cuda.current_stream(device))
                with torch.cuda.stream(side):
                    model(static_x)  # warm-up outside the capture
                torch.cuda.current_stream(device).wait_stream(side)
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph):
                    out = model(static_x)
            static_x.copy_(x)
            graph.replay()
            chunks.append(out.float().cpu())
    return torch.cat(chunks).numpy()


def _timed(device: torch.device, fn: Callable[[], Any]) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    begin = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - begin


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--networks", type=int, default=3)
    parser.add_argument("--images", type=int, default=None,
                        help="images per network (default 10,000 on cuda, 512 on cpu)")  # fmt: skip
    parser.add_argument("--C", type=int, default=16)
    parser.add_argument("--N", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the best is kept")
    parser.add_argument("--json", default=None, metavar="PATH")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    if args.images is None:
        args.images = 10_000 if device.type == "cuda" else 512
    archs = sample_archs("tss", args.networks, seed=1000)  # eval_bench's networks
    torch.manual_seed(0)
    nets = [build_network("tss", a, num_classes=10, C=args.C, N=args.N).to(device) for a in archs]
    with torch.no_grad():  # non-trivial BatchNorm statistics, so folding is really exercised
        for net in nets:
            for m in net.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.normal_(0, 0.2)
                    m.running_var.uniform_(0.5, 1.5)
    images = np.random.default_rng(0).integers(0, 256, (args.images, 32, 32, 3), np.uint8)
    kw = dict(mean=MEAN, std=STD, batch_size=args.batch_size, device=device)

    def reference(net: nn.Module) -> np.ndarray:
        saved = models._Cell.forward
        models._Cell.forward = _reference_cell_forward
        try:
            return predict_logits(net, images, fold_bn=False, **kw)
        finally:
            models._Cell.forward = saved

    variants: dict[str, Callable[[nn.Module], np.ndarray]] = {
        "reference (BN unfolded, sum over every edge)": reference,
        "fp32 (predict_logits)": lambda net: predict_logits(net, images, **kw),
        "fp32, BN folded per call": lambda net: predict_logits(net, images, fold_bn=True, **kw),
        "bf16 autocast, BN folded (moves ECE)": lambda net: predict_logits(
            net, images, precision="bf16", fold_bn=True, **kw
        ),
    }
    if device.type == "cuda":
        variants["fp32 + CUDA graph"] = lambda net: _graphed_logits(
            net, images, args.batch_size, device
        )
    print(f"# eval_speed: torch {torch.__version__}, device {device_name(device)}; TSS "
          f"C={args.C} N={args.N}, {args.networks} networks x {args.images:,} images, "
          f"batch {args.batch_size}, best of {args.repeats}")  # fmt: skip
    base = [reference(net) for net in nets]  # also the warm-up
    rows = []
    for name, run in variants.items():
        outputs = [run(net) for net in nets]  # warm-up, and the logits to compare
        seconds = min(
            _timed(device, lambda run=run: [run(net) for net in nets]) for _ in range(args.repeats)
        )
        deviation = max(float(np.abs(o - b).max()) for o, b in zip(outputs, base, strict=True))
        rows.append({"variant": name, "images_per_s": args.networks * args.images / seconds,
                     "max_abs_logit_diff": deviation})  # fmt: skip
    ref = rows[0]["images_per_s"]
    print(f"{'variant':<46} {'images/s':>10} {'vs ref':>7} {'max |Δlogit|':>13}")
    for row in rows:
        row["speedup"] = row["images_per_s"] / ref
        print(f"{row['variant']:<46} {row['images_per_s']:>10,.0f} {row['speedup']:>6.2f}x "
              f"{row['max_abs_logit_diff']:>13.2e}")  # fmt: skip
    if args.json:
        words = sys.argv[1:] if argv is None else list(argv)
        path = write_measurement(
            args.json, "eval_speed", script="benchmarks/eval_speed.py", argv=words,
            device=device.type, device_name=device_name(device),
            network={"space": "tss", "C": args.C, "N": args.N, "archs": archs},
            images=args.images, batch_size=args.batch_size, runs=rows,
        )  # fmt: skip
        print(f"measurements written to {path}")
    return rows


if __name__ == "__main__":
    main()
