"""Tensors in, floats out: every metric and calibrator takes torch tensors (CPU or CUDA, with or
without grad, bf16 included) and gives the numpy answer."""

from __future__ import annotations

import numpy as np
import pytest

from calstudy import calibrate, catalogue, metrics
from calstudy._checks import as_array

torch = pytest.importorskip("torch")
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, size=600)
    logits = rng.normal(size=(600, 5)) * 2
    logits[np.arange(600), labels] += 2
    return logits, labels


@pytest.mark.parametrize("device", DEVICES)
def test_every_catalogue_metric_takes_tensors(data, device) -> None:
    logits, labels = data
    probs = metrics.to_probs(logits)
    p = torch.tensor(probs, device=device, requires_grad=True)
    y = torch.tensor(labels, device=device)
    for name in catalogue.CATALOGUE:
        expected = catalogue.compute(name, probs, labels)
        got = catalogue.compute(name, p, y)
        assert isinstance(got, float)
        assert got == pytest.approx(expected, rel=1e-12, nan_ok=True), name


@pytest.mark.parametrize("device", DEVICES)
def test_full_record_and_calibrators_take_tensors(data, device) -> None:
    logits, labels = data
    z = torch.tensor(logits, device=device, requires_grad=True) * 1.0  # non-leaf, in a graph
    y = torch.tensor(labels, device=device)
    assert catalogue.full_record(z, y) == pytest.approx(catalogue.full_record(logits, labels))
    for name, method in calibrate.POSTHOC_METHODS.items():
        fitted = method().fit(logits, labels)
        from_tensors = method().fit(z, y)
        np.testing.assert_allclose(
            from_tensors.predict_proba(z), fitted.predict_proba(logits), rtol=1e-9, err_msg=name
        )
    assert calibrate.fit_temperature(z, y) == pytest.approx(calibrate.fit_temperature(logits, labels))
    conf, correct = metrics.to_confidences(metrics.to_probs(z), y)
    assert metrics.auroc(torch.tensor(conf), torch.tensor(conf[::-1].copy())) == pytest.approx(
        metrics.auroc(conf, conf[::-1])
    )


def test_as_array_shares_cpu_memory_and_converts_bf16() -> None:
    t = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    a = as_array(t)
    assert isinstance(a, np.ndarray) and np.shares_memory(a, t.numpy())
    assert np.shares_memory(as_array(t, np.float64), t.numpy())  # no copy when the dtype fits
    b = as_array(torch.ones(3, dtype=torch.bfloat16))
    assert b.dtype == np.float32 and b.tolist() == [1.0, 1.0, 1.0]
    assert as_array([1, 2]).tolist() == [1, 2]


def test_tensor_inputs_are_still_validated() -> None:
    with pytest.raises(ValueError, match="Expected `probs` to be finite"):
        metrics.ece(torch.tensor([[float("nan"), 1.0]]), torch.tensor([0]))
    with pytest.raises(ValueError, match="Expected `labels` to be an integer array"):
        metrics.ece(torch.tensor([[0.5, 0.5]]), torch.tensor([0.0]))
