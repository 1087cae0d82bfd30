"""Tests for calstudy.train and the loader it trains from (calstudy.device): recipe, device
loader, determinism, checkpoints."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from calstudy.data import ImageDataset
from calstudy.device import DeviceLoader, resolve_device, resolve_precision
from calstudy.models import build_network
from calstudy.train import TrainConfig, load_checkpoint, save_checkpoint, train

MEAN, STD = (0.49, 0.48, 0.45), (0.25, 0.24, 0.26)


def _synthetic(
    n_train: int = 384,
    n_test: int = 128,
    num_classes: int = 4,
    *,
    seed: int = 0,
    name: str = "synthetic",
) -> ImageDataset:
    """Noisy images tinted by a per-class colour: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    colours = rng.integers(0, 256, size=(num_classes, 3))

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, num_classes, size=n)
        x = rng.normal(128, 40, size=(n, 32, 32, 3))
        x = 0.5 * x + 0.5 * colours[y][:, None, None, :]
        return np.clip(x, 0, 255).astype(np.uint8), y.astype(np.int64)

    x_train, y_train = draw(n_train)
    x_test, y_test = draw(n_test)
    classes = tuple(f"c{k}" for k in range(num_classes))
    return ImageDataset(name, x_train, y_train, x_test, y_test, classes, MEAN, STD)


def _net(num_classes: int = 4, seed: int = 0) -> nn.Module:
    """A tiny NATS-Bench TSS network (C=8, N=1), seeded."""
    torch.manual_seed(seed)
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    return build_network("tss", arch, num_classes=num_classes, C=8, N=1)


@pytest.fixture(scope="module")
def data() -> ImageDataset:
    return _synthetic()


# --- configuration -------------------------------------------------------------------------------
def test_config_defaults_are_nats_bench_recipe() -> None:
    cfg = TrainConfig()
    assert (cfg.epochs, cfg.lr, cfg.momentum, cfg.nesterov) == (12, 0.1, 0.9, True)
    assert (cfg.weight_decay, cfg.batch_size, cfg.crop_padding, cfg.flip) == (5e-4, 256, 4, True)
    assert cfg.label_smoothing == 0.0 and cfg.data_fraction == 1.0


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("epochs", 0, "Expected `epochs` to be a positive integer, got 0."),
        ("batch_size", 2.5, "Expected `batch_size` to be a positive integer"),
        ("lr", -0.1, "Expected `lr` to be a non-negative number"),
        ("data_fraction", 0.0, r"Expected `data_fraction` to be in \(0, 1\]"),
        ("label_smoothing", 1.0, r"Expected `label_smoothing` to be in \[0, 1\)"),
        ("precision", "fp16", "Expected `precision` to be"),
        ("channels_last", "yes", "Expected `channels_last` to be"),
        ("cuda_graph", 1, "Expected `cuda_graph` to be"),
    ],
)
def test_config_rejects_bad_values(field: str, value: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TrainConfig(**{field: value})


def test_cuda_graph_needs_cuda_and_excludes_compile(data: ImageDataset) -> None:
    with pytest.raises(ValueError, match="at most one of `cuda_graph` and `compile`"):
        TrainConfig(cuda_graph=True, compile=True)
    with pytest.raises(ValueError, match="Expected a CUDA device for `cuda_graph=True`, got 'cpu'"):
        train(_net(), data, epochs=1, device="cpu", cuda_graph=True)
    assert train(_net(), data, epochs=1, device="cpu").config.cuda_graph is False  # "auto"


def test_unknown_override_lists_valid_names(data: ImageDataset) -> None:
    with pytest.raises(ValueError, match=r"TrainConfig fields \[.*'epochs'.*\], got \['epoch'\]"):
        train(_net(), data, epoch=3)


def test_resolve_device_and_precision() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_precision("fp32", torch.device("cpu")) == "fp32"
    assert resolve_precision("auto", torch.device("cpu")) in ("fp32", "bf16")
    with pytest.raises(ValueError, match="Expected `precision`"):
        resolve_precision("half", torch.device("cpu"))


# --- data on the device ---------------------------------------------------------------------------
def _loader(data: ImageDataset, **kw: object) -> DeviceLoader:
    kw = {"batch_size": 100, "mean": MEAN, "std": STD, "device": "cpu", **kw}
    return DeviceLoader(data.x_train, data.y_train, **kw)  # type: ignore[arg-type]


def test_eval_loader_matches_torchvision_normalize(data: ImageDataset) -> None:
    from torchvision import transforms

    reference = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    x, y = next(iter(_loader(data, channels_last=False)))
    assert x.shape == (100, 3, 32, 32) and x.dtype == torch.float32 and x.is_contiguous()
    expected = torch.stack([reference(img) for img in data.x_train[:100]])
    torch.testing.assert_close(x, expected, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(y.numpy(), data.y_train[:100])


@pytest.mark.parametrize(("drop_last", "sizes"), [(False, [100, 100, 100, 84]), (True, [100] * 3)])
def test_last_partial_batch_kept_or_dropped(
    data: ImageDataset, drop_last: bool, sizes: list[int]
) -> None:
    loader = _loader(data, train=True, drop_last=drop_last)
    assert len(loader) == len(sizes)
    assert [len(y) for _, y in loader] == sizes


def test_train_loader_permutes_every_image_once(data: ImageDataset) -> None:
    loader = _loader(data, train=True)
    first, second = (torch.cat([y for _, y in loader]) for _ in range(2))
    assert sorted(first.tolist()) == sorted(data.y_train.tolist())
    assert not torch.equal(first, second)  # a new permutation each epoch


def test_train_batches_are_crops_and_flips_of_padded_images() -> None:
    """Each augmented image equals one of the 9 x 9 x 2 crops/flips of its padded original."""
    rng = np.random.default_rng(1)
    n = 64
    x = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    y = np.arange(n)  # labels identify the source image
    loader = DeviceLoader(x, y, batch_size=n, mean=(0, 0, 0), std=(1, 1, 1), device="cpu",
                          train=True, seed=3)  # fmt: skip
    padded = np.pad(x, ((0, 0), (4, 4), (4, 4), (0, 0))).astype(np.float32) / 255
    seen: set[tuple[int, int, bool]] = set()
    for _ in range(4):
        for xb, yb in loader:
            batch = xb.permute(0, 2, 3, 1).numpy()
            for img, label in zip(batch, yb.tolist(), strict=True):
                matches = [
                    (dy, dx, flip)
                    for dy in range(9)
                    for dx in range(9)
                    for flip in (False, True)
                    if np.array_equal(
                        img,
                        padded[label, dy : dy + 32, dx : dx + 32][:, ::-1]
                        if flip
                        else padded[label, dy : dy + 32, dx : dx + 32],
                    )
                ]
                assert matches, "augmented image is not a crop/flip of its source"
                seen.update(matches)
    assert {flip for *_, flip in seen} == {False, True}
    assert len({(dy, dx) for dy, dx, _ in seen}) > 40  # offsets spread over the 81 choices


def test_loader_validates_inputs(data: ImageDataset) -> None:
    with pytest.raises(ValueError, match="Expected `images` to be a uint8 array"):
        DeviceLoader(data.x_train.astype(np.float32), data.y_train, batch_size=8, mean=MEAN,
                     std=STD, device="cpu")  # fmt: skip
    with pytest.raises(ValueError, match="Expected `labels` to have shape"):
        DeviceLoader(data.x_train, data.y_train[:-1], batch_size=8, mean=MEAN, std=STD,
                     device="cpu")  # fmt: skip
    with pytest.raises(ValueError, match="Expected `batch_size` to be a positive integer, got 0."):
        DeviceLoader(data.x_train, data.y_train, batch_size=0, mean=MEAN, std=STD, device="cpu")


# --- training -------------------------------------------------------------------------------------
def _weights(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_training_is_bit_identical_for_a_seed(data: ImageDataset, precision: str) -> None:
    kw = dict(epochs=1, batch_size=64, device="cpu", precision=precision, seed=5)
    first = _weights(train(_net(seed=0), data, **kw).net)
    second = _weights(train(_net(seed=0), data, **kw).net)
    other = _weights(train(_net(seed=0), data, **{**kw, "seed": 6}).net)
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert any(not torch.equal(first[k], other[k]) for k in first if first[k].is_floating_point())


def test_training_learns_and_reports(data: ImageDataset) -> None:
    result = train(_net(), data, epochs=3, batch_size=32, lr=0.2, device="cpu", eval_every=1)
    history = result.history
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert all(
        {"test_acc", "test_loss", "train_loss", "train_acc"} <= row.keys() for row in history
    )
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["test_acc"] > 0.8  # chance is 0.25
    assert result.config.device == "cpu" and result.config.precision in ("fp32", "bf16")
    assert result.wall_time_s == pytest.approx(history[-1]["time_s"])
    assert result.images_per_s * result.wall_time_s == pytest.approx(3 * len(data.y_train))
    assert next(result.net.parameters()).device.type == "cpu"


def test_cosine_schedule_per_epoch_scaled_by_batch(data: ImageDataset) -> None:
    result = train(_net(), data, epochs=4, batch_size=128, lr=0.2, device="cpu", data_fraction=0.5)
    base = 0.2 * 128 / 256
    expected = [0.5 * base * (1 + math.cos(math.pi * e / 4)) for e in range(4)]
    assert [row["lr"] for row in result.history] == pytest.approx(expected)
    assert "test_acc" not in result.history[0] and "test_acc" in result.history[-1]
    assert result.images_per_s * result.wall_time_s == pytest.approx(4 * len(data.y_train) / 2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a CUDA device")
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_cuda_graph_training_matches_eager(data: ImageDataset, precision: str) -> None:
    # 376 images = 5 batches of 64 + 56: the warm-up, the capture, replays, eagerly run partial
    # batches and a learning rate that changes every epoch all occur within 3 epochs.
    small = data.subset(n_train=376, seed=0)
    kw = dict(epochs=3, batch_size=64, device="cuda", precision=precision, seed=3)
    graphed = train(_net(seed=0), small, cuda_graph=True, **kw)
    eager = train(_net(seed=0), small, cuda_graph=False, **kw)
    assert graphed.config.cuda_graph is True and eager.config.cuda_graph is False
    # A stale learning rate in the captured step would move the weights off the eager ones.
    for g, e in zip(graphed.history, eager.history, strict=True):
        # cuDNN's backward kernels are not bit-reproducible run to run: agreement, not equality
        assert g["train_loss"] == pytest.approx(e["train_loss"], rel=2e-2)
        assert abs(g["train_acc"] - e["train_acc"]) <= 0.05
    assert graphed.history[-1]["test_acc"] == pytest.approx(eager.history[-1]["test_acc"], abs=0.05)
    a, b = _weights(graphed.net.cpu()), _weights(eager.net.cpu())
    start = _weights(_net(seed=0))
    for k in a:
        if k.endswith("num_batches_tracked"):  # every step ran exactly once
            assert int(a[k]) == int(b[k]) == 3 * 6, k
        elif a[k].is_floating_point() and "running" not in k:
            change = (b[k] - start[k]).norm()
            assert (a[k] - b[k]).norm() <= 0.05 * change + 1e-4, k  # the same steps, not others


# --- checkpoints ----------------------------------------------------------------------------------
def test_checkpoint_round_trip(tmp_path, data: ImageDataset) -> None:
    trained = train(_net(seed=0), data, epochs=1, batch_size=128, device="cpu").net
    path = save_checkpoint(trained, tmp_path / "ckpt" / "net.pt")
    assert [p.name for p in path.parent.iterdir()] == ["net.pt"]  # no temporary file left
    fresh = load_checkpoint(_net(seed=1), path)
    expected = _weights(trained)
    assert all(torch.equal(v, expected[k]) for k, v in fresh.state_dict().items())
    with pytest.raises(FileNotFoundError, match="Expected `path` to be an existing checkpoint"):
        load_checkpoint(fresh, tmp_path / "missing.pt")
