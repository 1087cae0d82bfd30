"""Aggregate evaluation throughput of k concurrent jobs sharing one device, against one job.

The full study evaluates 117,702 pretrained networks; on one small network a GPU is mostly
idle between kernel launches, so ``calstudy sweep --workers k`` (or Ray's fractional GPUs) runs
k evaluation jobs side by side. Whether that pays is a measurement, not an assumption: the
scale chapter's ≤ 10 H100-hour projection needs the aggregate speed-up
``s_k = (images/s of k jobs together) / (images/s of one job)`` at k ≈ 8.

For each k in ``--jobs``, k processes each build the same ``--networks`` TSS networks at the
pretrained size (C=16, N=5; a fixed sample, so s_k compares equal work), warm up, wait at a
barrier, then compute the logits of ``--images`` random images per network
(:func:`calstudy.evaluate.predict_logits`, fp32; the time does not depend on pixel values).
Aggregate throughput = all images / the slowest process's time from the barrier. Each k is
measured ``--repeats`` times, best kept. The run prints s_k for every k; with ``--json PATH``
it writes them in the ``calstudy-bench/1`` format of ``benchmarks/results/``.

Run ``python benchmarks/eval_bench.py --device cuda --jobs 1 2 4 8 --json
benchmarks/results/<card>-<date>-eval_bench.json`` on a GPU node. On a CPU each process uses
``--threads`` threads (default 1), so k jobs need k cores.
"""

from __future__ import annotations

import argparse
import math
import os
import queue
import sys
import time
from typing import Any

import numpy as np
import torch
import torch.multiprocessing as mp

from calstudy.device import device_name, resolve_device
from calstudy.evaluate import predict_logits
from calstudy.measure import write_measurement
from calstudy.models import build_network
from calstudy.space import sample_archs

MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)  # CIFAR-10's


def _job(rank: int, args: argparse.Namespace, barrier: Any, results: Any) -> None:
    """One evaluation job: build, warm up, wait for the others, time the logits."""
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    archs = sample_archs("tss", args.networks, seed=1000)  # the same work in every job
    torch.manual_seed(0)
    nets = [build_network("tss", a, num_classes=10, C=args.C, N=args.N).to(device) for a in archs]
    images = np.random.default_rng(rank).integers(0, 256, (args.images, 32, 32, 3), np.uint8)
    kw = dict(mean=MEAN, std=STD, batch_size=args.batch_size, device=device)
    for net in nets:  # CUDA context, cuDNN algorithm choice, allocator: outside the timing
        predict_logits(net, images[: args.batch_size], **kw)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    barrier.wait(timeout=args.timeout)  # a job that died in warm-up breaks it for the others
    start = time.perf_counter()
    for net in nets:
        predict_logits(net, images, **kw)  # returns host logits: includes the copy back
    results.put((rank, time.perf_counter() - start, len(nets) * args.images))


def measure(k: int, args: argparse.Namespace) -> dict[str, float]:
    """Aggregate images/s of k concurrent jobs (best of ``args.repeats``)."""
    ctx = mp.get_context("spawn")  # CUDA cannot be used in forked children
    best: dict[str, float] = {}
    for _ in range(args.repeats):
        barrier, results = ctx.Barrier(k), ctx.Queue()
        procs = [ctx.Process(target=_job, args=(r, args, barrier, results)) for r in range(k)]
        for p in procs:
            p.start()
        try:
            out = [results.get(timeout=2 * args.timeout) for _ in range(k)]
        except queue.Empty:
            codes = [p.exitcode for p in procs]
            raise RuntimeError(
                f"{k} concurrent jobs: not every job reported within {2 * args.timeout:.0f} s "
                f"(exit codes {codes}; None = still running); see the traceback above"
            ) from None
        finally:
            for p in procs:
                p.join(timeout=10)
                if p.is_alive():
                    p.terminate()
        failed = [p.exitcode for p in procs if p.exitcode != 0]
        if failed:
            raise RuntimeError(f"{k} concurrent jobs: job(s) exited with codes {failed}")
        seconds = max(s for _, s, _ in out)
        images = sum(n for _, _, n in out)
        run = {"jobs": k, "seconds": seconds, "images": images, "images_per_s": images / seconds,
               "per_job_images_per_s": float(np.mean([n / s for _, s, n in out]))}  # fmt: skip
        if not best or run["images_per_s"] > best["images_per_s"]:
            best = run
    return best


def main(argv: list[str] | None = None) -> list[dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 4, 8],
                        help="concurrent job counts to measure (1 is always measured)")  # fmt: skip
    parser.add_argument("--networks", type=int, default=3, help="networks per job")
    parser.add_argument("--images", type=int, default=None,
                        help="images per network (default 10,000 on cuda, 512 on cpu)")  # fmt: skip
    parser.add_argument("--C", type=int, default=16)
    parser.add_argument("--N", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per job")
    parser.add_argument("--repeats", type=int, default=2, help="runs per k; the best is kept")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for a job")
    parser.add_argument("--json", default=None, metavar="PATH",
                        help="also write the measurements to PATH as JSON")  # fmt: skip
    args = parser.parse_args(argv)
    for name in ("networks", "C", "N", "batch_size", "threads", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    if any(k < 1 for k in args.jobs):
        parser.error(f"--jobs must be positive integers, got {args.jobs}")
    device = resolve_device(args.device)
    if args.images is None:
        args.images = 10_000 if device.type == "cuda" else 512
    jobs = sorted({1, *args.jobs})
    print(f"# eval_bench: torch {torch.__version__}, device {device_name(device)}, "
          f"{os.cpu_count()} CPUs, {args.threads} thread(s) per job; TSS C={args.C} N={args.N}, "
          f"{args.networks} networks x {args.images:,} images per job, fp32")  # fmt: skip
    rows = [measure(k, args) for k in jobs]
    base = rows[0]["images_per_s"]
    print(f"{'jobs':>5} {'images/s':>12} {'per job':>10} {'speed-up s_k':>13}")
    for row in rows:
        row["speedup"] = row["images_per_s"] / base
        print(f"{row['jobs']:>5} {row['images_per_s']:>12,.0f} "
              f"{row['per_job_images_per_s']:>10,.0f} {row['speedup']:>13.2f}")  # fmt: skip
    if args.json:
        words = sys.argv[1:] if argv is None else list(argv)
        path = write_measurement(
            args.json, "eval_bench", script="benchmarks/eval_bench.py", argv=words,
            device=device.type, device_name=device_name(device), cpu_count=os.cpu_count(),
            network={"space": "tss", "C": args.C, "N": args.N, "precision": "fp32"},
            per_job={"networks": args.networks, "images": args.images, "threads": args.threads,
                     "batch_size": args.batch_size},
            runs=rows,
        )  # fmt: skip
        print(f"measurements written to {path}")
    assert all(math.isfinite(r["speedup"]) for r in rows)
    return rows


if __name__ == "__main__":
    main()
