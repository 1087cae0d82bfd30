"""Tests for calstudy.evaluate: logits by hand, exact records of a constant net, a real run."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from calstudy.attacks import attack_column
from calstudy.data import ImageDataset
from calstudy.evaluate import evaluate_network, predict_logits
from calstudy.models import build_network
from calstudy.train import train

MEAN, STD = (0.49, 0.48, 0.45), (0.25, 0.24, 0.26)
ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def _dataset(
    n_train: int, n_test: int, *, num_classes: int = 4, seed: int = 0, name: str = "synthetic"
) -> ImageDataset:
    """Noisy images tinted by a per-class colour (a task a tiny net learns in a few epochs)."""
    rng = np.random.default_rng(seed)
    colours = rng.integers(0, 256, size=(num_classes, 3))

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, num_classes, size=n)
        x = 0.5 * rng.normal(128, 40, size=(n, 32, 32, 3)) + 0.5 * colours[y][:, None, None]
        return np.clip(x, 0, 255).astype(np.uint8), y.astype(np.int64)

    classes = tuple(f"c{k}" for k in range(num_classes))
    return ImageDataset(name, *draw(n_train), *draw(n_test), classes, MEAN, STD)


class _Constant(nn.Module):
    """Returns the same logits for every image (zero gradient w.r.t. the input)."""

    def __init__(self, logits: list[float]) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.tensor(logits))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits.expand(len(x), -1) + 0 * x.mean(dim=(1, 2, 3))[:, None]


@pytest.fixture(scope="module")
def data() -> ImageDataset:
    return _dataset(384, 200)


@pytest.fixture(scope="module")
def trained(data: ImageDataset) -> nn.Module:
    torch.manual_seed(0)
    net = build_network("tss", ARCH, num_classes=4, C=8, N=1)
    return train(net, data, epochs=3, batch_size=32, lr=0.2, device="cpu", seed=0).net


# --- predict_logits ------------------------------------------------------------------------------
@pytest.mark.parametrize("training", [True, False])
def test_predict_logits_matches_forward_by_hand(
    trained: nn.Module, data: ImageDataset, training: bool
) -> None:
    trained.train(training)
    logits = predict_logits(trained, data.x_test, mean=MEAN, std=STD, batch_size=64)
    assert trained.training is training  # mode restored
    assert logits.dtype == np.float32 and logits.shape == (200, 4)
    x = torch.from_numpy(data.x_test).permute(0, 3, 1, 2).float() / 255
    x = (x - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]
    trained.eval()
    with torch.no_grad():
        expected = trained(x).numpy()
    trained.train(training)
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)


def test_predict_logits_folds_batchnorm_on_a_copy(trained: nn.Module, data: ImageDataset) -> None:
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    folded = predict_logits(trained, data.x_test, mean=MEAN, std=STD, fold_bn=True)
    plain = predict_logits(trained, data.x_test, mean=MEAN, std=STD)
    assert all(torch.equal(v, before[k]) for k, v in trained.state_dict().items())
    assert any(isinstance(m, nn.BatchNorm2d) for m in trained.modules())
    np.testing.assert_allclose(folded, plain, rtol=1e-4, atol=1e-5)


def test_predict_logits_bf16_is_close_and_float32(trained: nn.Module, data: ImageDataset) -> None:
    fp32 = predict_logits(trained, data.x_test, mean=MEAN, std=STD)
    bf16 = predict_logits(trained, data.x_test, mean=MEAN, std=STD, precision="bf16")
    assert bf16.dtype == np.float32
    assert not np.array_equal(bf16, fp32)  # bf16 really ran
    np.testing.assert_allclose(bf16, fp32, atol=0.1 * np.abs(fp32).max())
    assert np.mean(bf16.argmax(1) == fp32.argmax(1)) > 0.95


def test_predict_logits_rejects_bad_images(trained: nn.Module) -> None:
    with pytest.raises(ValueError, match="Expected `images` to be a uint8 array"):
        predict_logits(trained, np.zeros((2, 32, 32, 3), np.float32), mean=MEAN, std=STD)
    with pytest.raises(ValueError, match="Expected `images` to hold at least one image"):
        predict_logits(trained, np.zeros((0, 32, 32, 3), np.uint8), mean=MEAN, std=STD)


# --- evaluate_network: exact values on a constant network ----------------------------------------
def test_constant_net_scores_class_frequency_everywhere(data: ImageDataset) -> None:
    net = _Constant([0.0, 0.0, 2.0, 0.0])  # always predicts class 2
    ood = _dataset(0, 50, seed=1, name="svhn")
    record = evaluate_network(net, data, corruptions=["gaussian_noise", "contrast"],
                              severities=(1, 5), ood=ood, attack_subset=64,
                              fgsm_eps=(1.0, 8.0), pgd_eps=(8.0,))  # fmt: skip
    frequency = float(np.mean(data.y_test == 2))
    assert record["acc"] == pytest.approx(frequency)
    assert record["gaussian_noise"] == pytest.approx(frequency)
    assert record["contrast"] == pytest.approx(frequency)
    # equal confidences on every image: in- and out-of-distribution are indistinguishable
    assert record["pre_auc_cifar10c"] == pytest.approx(0.5)
    assert record["pre_auc_svhn"] == pytest.approx(0.5) and "ood_dataset" not in record
    # a zero input gradient leaves the images unchanged: attack accuracy = subset frequency
    idx = np.sort(np.random.default_rng(0).permutation(200)[:64])
    subset_frequency = float(np.mean(data.y_test[idx] == 2))
    for column in ("fgsm_Linf_acc1_0", "fgsm_Linf_acc8_0", "pgd_Linf_acc8_0"):
        assert record[column] == pytest.approx(subset_frequency)


# --- evaluate_network on a trained network -------------------------------------------------------
def test_evaluate_trained_net_returns_the_study_columns(
    trained: nn.Module, data: ImageDataset
) -> None:
    trained.train()
    ood = _dataset(0, 100, seed=2, name="fashion-mnist")
    record, logits = evaluate_network(trained, data, corruptions=["gaussian_noise", "fog"],
                                      severities=(2, 4), ood=ood, attack_subset=32,
                                      fgsm_eps=(8.0,), pgd_eps=(8.0,),
                                      return_logits=True)  # fmt: skip
    assert trained.training  # mode restored
    assert set(logits) == {"test", "shift", "ood", "labels"}
    assert logits["test"].shape == (200, 4) and logits["ood"].shape == (100, 4)
    np.testing.assert_array_equal(logits["labels"], data.y_test)
    assert record["heldout_frac"] == 0.2 and record["split_seed"] == 0
    assert record["acc"] == pytest.approx(np.mean(logits["test"].argmax(1) == data.y_test))
    assert record["acc"] > 0.8
    columns = ["pre_ECE_15", "post_ECE_15", "pre_NLL", "post_Brier", "pre_auc_cifar10c",
               "gaussian_noise", "fog", "pre_auc_ood", attack_column("fgsm", 8.0),
               attack_column("pgd", 8.0)]  # fmt: skip
    for column in columns:
        assert np.isfinite(record[column]), column
        assert 0.0 <= record[column] <= (np.inf if "NLL" in column else 1.0), column
    assert record["ood_dataset"] == "fashion-mnist" and "pre_auc_svhn" not in record
    assert record["temperature"] > 0 and record["eval_time_s"] > 0
    assert record[attack_column("pgd", 8.0)] <= record[attack_column("fgsm", 8.0)] + 0.1
    again = evaluate_network(trained, data, corruptions=["gaussian_noise", "fog"],
                             severities=(2, 4), ood=ood)  # fmt: skip
    del again["eval_time_s"], record["eval_time_s"]
    record = {k: v for k, v in record.items() if not k.startswith(("fgsm", "pgd"))}
    np.testing.assert_equal(again, record)  # deterministic given the seed (NaN == NaN here)


def test_evaluate_without_extras_has_no_extra_columns(
    trained: nn.Module, data: ImageDataset
) -> None:
    record = evaluate_network(trained, data)
    assert "pre_auc_cifar10c" in record and "eval_time_s" in record
    assert not any(k.startswith(("fgsm", "pgd", "pre_auc_ood", "pre_auc_svhn")) for k in record)
    assert "gaussian_noise" not in record


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"corruptions": ["rain"]}, r"Expected `corruptions` among \[.*\], got \['rain'\]"),
        ({"corruptions": "all", "severities": (0,)}, "Expected `severities` to be integers"),
        ({"attack_subset": 0}, "Expected `attack_subset` to be a positive integer, got 0."),
    ],
)
def test_evaluate_validates_options(data: ImageDataset, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        evaluate_network(_Constant([0.0, 1.0, 0.0, 0.0]), data, **kwargs)


def test_corruption_subset_is_fixed_and_cached_on_disk(
    trained: nn.Module, data: ImageDataset, tmp_path, monkeypatch
) -> None:
    from calstudy import corruptions, evaluate

    monkeypatch.setenv("CALSTUDY_CACHE", str(tmp_path))
    evaluate._CORRUPTION_CACHE.clear()
    calls = []
    real = corruptions.corrupt

    def counting(images, name, severity, *, seed=0, **kwargs):
        calls.append((len(images), name, severity))
        return real(images, name, severity, seed=seed, **kwargs)

    monkeypatch.setattr(corruptions, "corrupt", counting)
    options = dict(corruptions=["fog"], severities=(3,), corruption_subset=50)
    first = evaluate_network(trained, data, **options)
    assert sorted(calls) == [(50, "fog", 3), (200, "gaussian_noise", 5)]
    evaluate._CORRUPTION_CACHE.clear()  # a new process: only the disk cache is left
    second = evaluate_network(trained, data, **options)
    assert len(calls) == 2, calls  # nothing corrupted again
    assert first["fog"] == second["fog"]
    assert list(tmp_path.glob("**/*.npy"))
    idx = evaluate.corruption_indices(200, 50)
    assert len(idx) == 50 and np.array_equal(idx, evaluate.corruption_indices(200, 50))
    assert np.array_equal(evaluate.corruption_indices(200, None), np.arange(200))


def test_posthoc_methods_reach_the_record(trained: nn.Module, data: ImageDataset) -> None:
    record = evaluate_network(trained, data, posthoc=("ts", "iso"))
    assert {"iso_ECE_15", "iso_NLL", "iso_Brier", "iso_acc"} <= set(record)
    assert "vs_ECE_15" not in record
