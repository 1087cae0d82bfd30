"""Argument conversion shared by the metrics and the calibrators: arrays and tensors in.

A torch tensor is recognised by duck typing (``detach``/``cpu``/``numpy`` and a ``torch``
module), so importing this module never imports torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

__all__ = ["as_array"]


def _is_tensor(x: Any) -> bool:
    return type(x).__module__.split(".")[0] == "torch" and hasattr(x, "detach")


def as_array(x: Any, dtype: DTypeLike | None = None) -> NDArray[Any]:
    """``x`` as a numpy array: numpy arrays, lists, and torch tensors on any device.

    A tensor is detached from its graph and moved to the host; a CPU tensor of a numpy dtype is
    shared, not copied (``torch.Tensor.numpy``); bfloat16, which numpy lacks, becomes float32.
    ``dtype`` converts only where the dtype differs.
    """
    if _is_tensor(x):
        x = x.detach()
        if str(x.dtype) == "torch.bfloat16":
            x = x.float()
        x = x.cpu().numpy()
    return np.asarray(x) if dtype is None else np.asarray(x).astype(dtype, copy=False)
