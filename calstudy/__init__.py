"""calstudy: a reproducible, rerunnable study of neural-network calibration on NATS-Bench.

The package is organised by concern (see ARCHITECTURE.md): ``metrics`` and ``catalogue`` define
every calibration column once, ``calibrate`` holds post-hoc methods, ``space``/``models``/
``data``/``train``/``evaluate`` turn an architecture string into predictions, ``sweep`` and
``store`` produce the calibration dataset, and ``analysis``/``plots`` serve the book.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
