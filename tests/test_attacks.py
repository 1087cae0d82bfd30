"""Tests for calstudy.attacks: FGSM, PGD and accuracy under attack."""

from __future__ import annotations

import copy
import importlib.util

import numpy as np
import pytest
import torch
from torch import nn

from calstudy.attacks import (
    FGSM_EPS_255,
    PGD_EPS_255,
    Normalized,
    adversarial_accuracy,
    attack_column,
    eps_from_255,
    fgsm,
    pgd,
)

torch.set_num_threads(1)  # tiny tensors: threads only contend with other test processes


def separable_data(n: int, *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes of 1 x 4 x 4 images in [0, 1]: mean 0.46 or 0.54, pixel noise U(-0.15, 0.15).

    The classes overlap little but their margins spread over 0 .. 16/255, so accuracy under
    attack falls gradually over the paper's budgets.
    """
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=generator)
    noise = 0.3 * (torch.rand(n, 1, 4, 4, generator=generator) - 0.5)
    x = 0.5 + 0.04 * (2 * y.float() - 1).view(-1, 1, 1, 1) + noise
    return x.clamp(0, 1), y


def small_net() -> nn.Module:
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(16, 32),
        nn.BatchNorm1d(32),
        nn.ReLU(),
        nn.Linear(32, 2),
    )


@pytest.fixture(scope="module")
def data() -> tuple[torch.Tensor, torch.Tensor]:
    return separable_data(256)


@pytest.fixture(scope="module")
def trained(data) -> nn.Module:
    torch.manual_seed(0)
    net = small_net()
    x, y = data
    optimizer = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(60):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    net.eval()
    assert (net(x).argmax(1) == y).float().mean() >= 0.95
    return net


@pytest.fixture
def linear() -> nn.Linear:
    torch.manual_seed(1)
    return nn.Linear(12, 2)


# ── units and names ─────────────────────────────────────────────────────────────────────────


def test_eps_from_255():
    assert eps_from_255(8) == pytest.approx(8 / 255)
    assert eps_from_255(255) == 1.0
    assert eps_from_255(0) == 0.0


@pytest.mark.parametrize("eps", [-1, 256, "8"])
def test_eps_from_255_rejects(eps):
    with pytest.raises(ValueError, match=r"Expected `eps_255` to be a number in \[0, 255\]"):
        eps_from_255(eps)


def test_attack_column_matches_the_papers_names():
    from calstudy import schema

    assert attack_column("fgsm", 0.1) == "fgsm_Linf_acc0_1"
    assert attack_column("fgsm", 255) == "fgsm_Linf_acc255_0"
    assert attack_column("pgd", 8) == "pgd_Linf_acc8_0"
    assert attack_column("aa_square", 0.5) == "aa_square_Linf_acc0_5"
    names = [attack_column("fgsm", e) for e in FGSM_EPS_255]
    names += [attack_column("pgd", e) for e in PGD_EPS_255]
    assert set(names) <= set(schema.ATTACK_COLUMNS)
    assert len(FGSM_EPS_255) == 11 and len(PGD_EPS_255) == 7


def test_attack_column_rejects():
    with pytest.raises(ValueError, match="Expected `attack` to be one of"):
        attack_column("cw", 1)
    with pytest.raises(ValueError, match="Expected `eps_255` to have at most one decimal"):
        attack_column("fgsm", 0.25)
    with pytest.raises(ValueError, match=r"Expected `eps_255` to be a number in \[0, 255\]"):
        attack_column("fgsm", 300)


# ── Normalized ──────────────────────────────────────────────────────────────────────────────


def test_normalized_applies_per_channel_mean_and_std():
    wrapped = Normalized(nn.Identity(), mean=(0.5, 0.25), std=(0.5, 0.25))
    x = torch.tensor([1.0, 0.5]).view(1, 2, 1, 1).expand(1, 2, 2, 2)
    np.testing.assert_allclose(wrapped(x).numpy(), np.ones((1, 2, 2, 2)))


def test_normalized_rejects_bad_statistics():
    with pytest.raises(ValueError, match="Expected `mean` and `std` to have the same length"):
        Normalized(nn.Identity(), mean=(0.5, 0.5), std=(0.5,))
    with pytest.raises(ValueError, match="Expected `std` to be positive"):
        Normalized(nn.Identity(), mean=(0.5,), std=(0.0,))


# ── FGSM and PGD ────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("eps", [0.0, 1 / 255, 8 / 255, 0.3, 1.0])
def test_perturbation_stays_in_the_ball_and_the_image_range(trained, data, eps):
    x, y = data
    for x_adv in (fgsm(trained, x, y, eps=eps), pgd(trained, x, y, eps=eps, steps=5)):
        assert x_adv.shape == x.shape and not x_adv.requires_grad
        assert float((x_adv - x).abs().max()) <= eps + 1e-6
        assert float(x_adv.min()) >= 0 and float(x_adv.max()) <= 1


def test_zero_budget_changes_nothing(trained, data):
    x, y = data
    assert torch.equal(fgsm(trained, x, y, eps=0.0), x)
    assert torch.equal(pgd(trained, x, y, eps=0.0), x)


def test_fgsm_on_a_linear_model_moves_along_the_weight_difference(linear):
    # For logits W x + b and two classes, grad_x CE = (p_1 - [y = 1]) (w_1 - w_0): the step is
    # +sign(w_1 - w_0) for label 0 and -sign(w_1 - w_0) for label 1.
    x = torch.full((2, 12), 0.5)
    y = torch.tensor([0, 1])
    direction = torch.sign(linear.weight[1] - linear.weight[0]).detach()
    x_adv = fgsm(linear, x, y, eps=0.1)
    torch.testing.assert_close(x_adv[0], 0.5 + 0.1 * direction)
    torch.testing.assert_close(x_adv[1], 0.5 - 0.1 * direction)


def test_fgsm_clips_to_the_image_range(linear):
    x = torch.ones(1, 12)
    x_adv = fgsm(linear, x, torch.tensor([0]), eps=0.2)
    direction = torch.sign(linear.weight[1] - linear.weight[0]).detach()
    torch.testing.assert_close(x_adv[0], torch.where(direction > 0, 1.0, 0.8))


def test_attacks_do_not_touch_the_network(trained, data):
    x, y = data
    before = copy.deepcopy(trained.state_dict())
    pgd(trained, x, y, eps=4 / 255, steps=3)
    fgsm(trained, x, y, eps=4 / 255)
    assert all(p.grad is None for p in trained.parameters())
    for key, value in trained.state_dict().items():
        assert torch.equal(value, before[key])


def test_pgd_is_deterministic_for_a_seed(trained, data):
    x, y = data
    # A short step keeps the random start visible (long runs end on the same ball corners).
    a = pgd(trained, x, y, eps=4 / 255, alpha=0.5 / 255, steps=2, seed=5)
    b = pgd(trained, x, y, eps=4 / 255, alpha=0.5 / 255, steps=2, seed=5)
    c = pgd(trained, x, y, eps=4 / 255, alpha=0.5 / 255, steps=2, seed=6)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    d = pgd(trained, x, y, eps=4 / 255, steps=3, random_start=False, seed=5)
    e = pgd(trained, x, y, eps=4 / 255, steps=3, random_start=False, seed=6)
    assert torch.equal(d, e)


def test_pgd_default_step_is_madrys(linear):
    # Without random start, one step of alpha = 2.5 eps / 1 is projected back onto the ball:
    # the result equals FGSM at eps.
    x = torch.full((3, 12), 0.5)
    y = torch.tensor([0, 1, 0])
    one_step = pgd(linear, x, y, eps=0.05, steps=1, random_start=False)
    torch.testing.assert_close(one_step, fgsm(linear, x, y, eps=0.05))
    small = pgd(linear, x, y, eps=0.05, alpha=0.01, steps=1, random_start=False)
    torch.testing.assert_close(small, fgsm(linear, x, y, eps=0.01))


def test_xautodl_style_tuple_output_is_accepted(linear):
    class FeaturesAndLogits(nn.Module):
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return x, self.inner(x)

    x = torch.full((2, 12), 0.5)
    y = torch.tensor([0, 1])
    torch.testing.assert_close(
        fgsm(FeaturesAndLogits(linear), x, y, eps=0.1), fgsm(linear, x, y, eps=0.1)
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eps": 2.0}, r"Expected `eps` to be a number in \[0, 1\], got 2.0"),
        ({"eps": -0.1}, r"Expected `eps` to be a number in \[0, 1\]"),
        ({"eps": 0.1, "steps": 0}, "Expected `steps` to be a positive integer, got 0"),
        ({"eps": 0.1, "alpha": -1.0}, "Expected `alpha` to be a non-negative number"),
    ],
)
def test_pgd_rejects_bad_options(linear, kwargs, match):
    x, y = torch.full((2, 12), 0.5), torch.tensor([0, 1])
    with pytest.raises(ValueError, match=match):
        pgd(linear, x, y, **kwargs)


def test_attacks_reject_bad_inputs(linear):
    y = torch.tensor([0, 1])
    with pytest.raises(ValueError, match=r"Expected `x` to hold pixels in \[0, 1\]"):
        fgsm(linear, torch.full((2, 12), 2.0), y, eps=0.1)
    with pytest.raises(ValueError, match="Expected `x` to be a floating-point tensor"):
        fgsm(linear, torch.zeros((2, 12), dtype=torch.uint8), y, eps=0.1)
    with pytest.raises(ValueError, match=r"Expected `y` to be an integer tensor of shape \(2,\)"):
        fgsm(linear, torch.zeros((2, 12)), torch.tensor([0.0, 1.0]), eps=0.1)


# ── accuracy under attack ───────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def accuracies(trained, data):
    x, y = data
    grid = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0)
    fgsm_acc = adversarial_accuracy(trained, x, y, attack="fgsm", eps_grid=grid, batch_size=100)
    pgd_acc = adversarial_accuracy(
        trained, x, y, attack="pgd", eps_grid=grid, batch_size=100, steps=10
    )
    return grid, fgsm_acc, pgd_acc


def test_accuracy_falls_with_the_budget(accuracies):
    grid, fgsm_acc, pgd_acc = accuracies
    for attack, acc in (("fgsm", fgsm_acc), ("pgd", pgd_acc)):
        values = [acc[attack_column(attack, e)] for e in grid]
        assert values[0] >= 0.95
        assert values[-1] < values[0] - 0.5
        assert values[-2] < values[0] - 0.1
        assert all(np.diff(values) <= 1e-9), values


def test_pgd_is_at_least_as_strong_as_fgsm(accuracies):
    grid, fgsm_acc, pgd_acc = accuracies
    pgd_values = np.array([pgd_acc[attack_column("pgd", e)] for e in grid])
    fgsm_values = np.array([fgsm_acc[attack_column("fgsm", e)] for e in grid])
    assert pgd_values[0] == fgsm_values[0]  # eps = 0: both are the clean accuracy
    assert np.all(pgd_values <= fgsm_values + 0.02)
    assert pgd_values.sum() < fgsm_values.sum()


def test_adversarial_accuracy_leaves_the_network_unchanged(data):
    torch.manual_seed(0)
    net = small_net()
    net.train()
    net[2].eval()  # a mixed state must come back exactly
    before = copy.deepcopy(net.state_dict())
    modes = [m.training for m in net.modules()]
    x, y = data
    adversarial_accuracy(net, x[:50], y[:50], attack="pgd", eps_grid=(1.0,), steps=2)
    assert [m.training for m in net.modules()] == modes
    assert all(p.grad is None for p in net.parameters())
    for key, value in net.state_dict().items():  # BatchNorm running stats included
        assert torch.equal(value, before[key])


def test_adversarial_accuracy_default_grid_and_uint8_images():
    torch.manual_seed(0)
    net = Normalized(
        nn.Sequential(nn.Flatten(), nn.Linear(48, 3)), mean=(0.5,) * 3, std=(0.25,) * 3
    )
    images = np.random.default_rng(0).integers(0, 256, size=(10, 4, 4, 3), dtype=np.uint8)
    labels = np.arange(10) % 3
    acc = adversarial_accuracy(net, images, labels, attack="fgsm", batch_size=4)
    assert list(acc) == [attack_column("fgsm", e) for e in FGSM_EPS_255]
    assert all(0.0 <= v <= 1.0 for v in acc.values())
    clean = net(torch.from_numpy(images).permute(0, 3, 1, 2) / 255).argmax(1).numpy() == labels
    assert acc["fgsm_Linf_acc255_0"] <= clean.mean()
    pgd_acc = adversarial_accuracy(net, images, labels, attack="pgd", steps=1)
    assert list(pgd_acc) == [attack_column("pgd", e) for e in PGD_EPS_255]


def test_adversarial_accuracy_fgsm_equals_attacking_each_budget(trained, data):
    x, y = data
    acc = adversarial_accuracy(trained, x, y, attack="fgsm", eps_grid=(3.0, 8.0), batch_size=50)
    for e in (3.0, 8.0):
        with torch.no_grad():
            predicted = trained(fgsm(trained, x, y, eps=e / 255)).argmax(1)
        assert acc[attack_column("fgsm", e)] == (predicted == y).float().mean().item()


def test_adversarial_accuracy_is_deterministic(trained, data):
    x, y = data
    kwargs = {"attack": "pgd", "eps_grid": (4.0,), "steps": 3, "batch_size": 64, "seed": 1}
    assert adversarial_accuracy(trained, x, y, **kwargs) == adversarial_accuracy(
        trained, x, y, **kwargs
    )


def test_adversarial_accuracy_rejects(trained, data):
    x, y = data
    with pytest.raises(ValueError, match=r"Expected `attack` to be one of \('fgsm', 'pgd'\)"):
        adversarial_accuracy(trained, x, y, attack="square")
    with pytest.raises(ValueError, match="Expected `batch_size` to be a positive integer"):
        adversarial_accuracy(trained, x, y, attack="fgsm", batch_size=0)
    with pytest.raises(ValueError, match=r"Expected `y` to have shape \(256,\)"):
        adversarial_accuracy(trained, x, y[:10], attack="fgsm")
    with pytest.raises(ValueError, match="Expected `device` to match the device of `net`"):
        adversarial_accuracy(trained, x, y, attack="fgsm", device="meta")
    with pytest.raises(ValueError, match="Expected `x` as a numpy array to be uint8 images"):
        adversarial_accuracy(trained, np.zeros((4, 4, 4, 1)), np.zeros(4), attack="fgsm")


# ── reference implementation ────────────────────────────────────────────────────────────────


@pytest.mark.skipif(importlib.util.find_spec("torchattacks") is None, reason="needs torchattacks")
def test_matches_torchattacks(trained, data):
    import torchattacks

    x, y = data
    eps = 4 / 255
    reference = torchattacks.FGSM(trained, eps=eps)(x, y)
    torch.testing.assert_close(fgsm(trained, x, y, eps=eps), reference, atol=1e-6, rtol=0)
    reference = torchattacks.PGD(trained, eps=eps, alpha=1 / 255, steps=5, random_start=False)(x, y)
    ours = pgd(trained, x, y, eps=eps, alpha=1 / 255, steps=5, random_start=False)
    torch.testing.assert_close(ours, reference, atol=1e-6, rtol=0)
