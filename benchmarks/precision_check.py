"""Does training in bf16 change what the study measures? fp32 vs bf16 over archs and seeds.

``TrainConfig(precision="auto")`` trains in bf16 on GPUs and bf16-capable CPUs because it is
about twice as fast. That is only acceptable if accuracy and ECE stay within seed noise. This
script trains a few TSS architectures on the shipped CIFAR-10 sample in both precisions over
several seeds (same seed = same initial weights and data order), evaluates every network with
fp32 logits, and compares:

- per architecture and precision: mean +- std over seeds of accuracy and ECE (15 bins);
- paired differences d = bf16 - fp32 (same arch and seed): mean +- standard error, against the
  seed-to-seed spread of fp32 runs. "Within seed noise" means |mean d| <= 2 SE;
- the effect of bf16 *evaluation* (logits of the fp32-trained nets computed under bf16
  autocast), which is why ``calstudy.evaluate`` defaults to fp32 logits.

Run ``python benchmarks/precision_check.py [--device cuda] [--epochs 12] [--seeds 3]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from calstudy.data import load_dataset, sample_data_dir
from calstudy.device import resolve_device
from calstudy.evaluate import predict_logits
from calstudy.metrics import ece, to_probs
from calstudy.models import build_network
from calstudy.train import train

ARCHS = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|",
    "|avg_pool_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|",
)


def _scores(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    return float(np.mean(logits.argmax(1) == labels)), ece(to_probs(logits), labels, n_bins=15)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--archs", type=int, default=len(ARCHS), help="how many of ARCHS")
    parser.add_argument("--C", type=int, default=16)
    parser.add_argument("--N", type=int, default=1)
    parser.add_argument("--data-dir", default=None, help="CIFAR-10 folder (default: sample)")
    args = parser.parse_args(argv)

    device = resolve_device(args.device)
    data = load_dataset("cifar10", args.data_dir or sample_data_dir())
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"# precision_check: torch {torch.__version__}, {name}; {data.name} "
          f"{len(data.y_train)} train / {len(data.y_test)} test; TSS C={args.C} N={args.N}, "
          f"{args.epochs} epochs, seeds 0..{args.seeds - 1}; ECE = 15-bin top-label")  # fmt: skip
    rows = []  # (arch, seed, precision, acc, ece, eval-bf16 acc, eval-bf16 ece, seconds)
    start = time.perf_counter()
    for a, arch in enumerate(ARCHS[: args.archs]):
        for seed in range(args.seeds):
            for precision in ("fp32", "bf16"):
                torch.manual_seed(seed)
                net = build_network("tss", arch, num_classes=10, C=args.C, N=args.N)
                result = train(net, data, epochs=args.epochs, seed=seed, precision=precision,
                               device=str(device))  # fmt: skip
                kw = dict(mean=data.mean, std=data.std)
                acc, err = _scores(predict_logits(result.net, data.x_test, **kw), data.y_test)
                acc16, err16 = _scores(
                    predict_logits(result.net, data.x_test, precision="bf16", **kw), data.y_test
                )
                rows.append((a, seed, precision, acc, err, acc16, err16, result.wall_time_s))
    print(f"# {len(rows)} trainings in {time.perf_counter() - start:.0f} s\n")

    table = np.array([r[3:] for r in rows], dtype=float)
    arch_ix = np.array([r[0] for r in rows])
    is16 = np.array([r[2] == "bf16" for r in rows])
    print("arch | precision | acc mean +- std | ECE mean +- std | train s/run")
    for a in range(args.archs):
        for precision, mask in (("fp32", ~is16), ("bf16", is16)):
            sel = table[(arch_ix == a) & mask]
            print(f"{a} | {precision} | {sel[:, 0].mean():.4f} +- {sel[:, 0].std(ddof=1):.4f}"
                  f" | {sel[:, 1].mean():.4f} +- {sel[:, 1].std(ddof=1):.4f}"
                  f" | {sel[:, 4].mean():.1f}")  # fmt: skip

    fp32, bf16 = table[~is16], table[is16]  # aligned: same (arch, seed) order
    seed_std = {  # pooled within-arch std over seeds of the fp32 runs
        k: float(
            np.sqrt(np.mean([fp32[arch_ix[~is16] == a, k].var(ddof=1) for a in range(args.archs)]))
        )  # fmt: skip
        for k in (0, 1)
    }
    print("\npaired d = bf16 - fp32 (same arch, seed), n =", len(fp32))
    for k, label in ((0, "acc"), (1, "ECE")):
        d = bf16[:, k] - fp32[:, k]
        se = d.std(ddof=1) / np.sqrt(len(d))
        verdict = "within seed noise" if abs(d.mean()) <= 2 * se else "OUTSIDE seed noise"
        print(f"{label}: mean d = {d.mean():+.4f} +- {se:.4f} (SE); std d = {d.std(ddof=1):.4f};"
              f" fp32 seed-to-seed std = {seed_std[k]:.4f} -> {verdict}")  # fmt: skip
    for k, label in ((0, "acc"), (1, "ECE")):
        d = fp32[:, 2 + k] - fp32[:, k]
        print(f"bf16 evaluation of fp32-trained nets, {label}: mean |d| = {np.abs(d).mean():.4f},"
              f" max |d| = {np.abs(d).max():.4f}")  # fmt: skip
    speed = fp32[:, 4].mean() / bf16[:, 4].mean()
    print(f"\ntraining time per run: fp32 {fp32[:, 4].mean():.1f} s, bf16 {bf16[:, 4].mean():.1f} s"
          f" (bf16 {speed:.2f}x faster)")  # fmt: skip


if __name__ == "__main__":
    main()
