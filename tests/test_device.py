"""calstudy.device: the device and precision "auto" picks, autocast, and the names recorded."""

from __future__ import annotations

import pytest
import torch

from calstudy import device as dev
from calstudy import train


def test_the_device_recorded_names_the_gpu_or_says_cpu() -> None:
    assert dev.device_name("cpu") == dev.device_name(torch.device("cpu")) == "cpu"
    assert dev.device_name("mps") == "cpu"  # the store's column knows CUDA names and "cpu"
    if torch.cuda.is_available():
        assert dev.device_name(None) == f"cuda:{torch.cuda.get_device_name(0)}"
        assert dev.device_name("cuda:0").startswith("cuda:")
    else:
        assert dev.device_name(None) == "cpu"


@pytest.mark.parametrize("bf16", [False, True])
def test_autocast_casts_matmuls_to_bf16_only_when_asked(bf16: bool) -> None:
    x = torch.ones(4, 4)
    with dev.autocast(torch.device("cpu"), bf16=bf16):
        y = x @ x
    assert y.dtype == (torch.bfloat16 if bf16 else torch.float32)
    assert float(y[0, 0]) == 4.0


def test_synchronize_and_machine_info_on_the_cpu() -> None:
    dev.synchronize("cpu")  # nothing queued: returns at once
    info = dev.machine_info("cpu")
    assert info["device"] == "cpu" and info["device_name"] == "cpu"
    assert info["torch"] == torch.__version__ and info["cpu_count"] >= 1
    assert info["torch_threads"] >= 1


def test_the_old_names_stay_importable_from_train() -> None:
    assert train.DeviceLoader is dev.DeviceLoader
    assert train.resolve_device is dev.resolve_device
    assert train.resolve_precision is dev.resolve_precision
