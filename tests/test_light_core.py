"""The light core: `pip install calstudy` (no extras) gives metrics, post-hoc calibration, the
catalogue, the statistics, the store reader and the plots without torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ("metrics", "calibrate", "catalogue", "analysis", "store", "schema", "plots", "chapter",
        "report", "paper", "space", "answers", "explore", "datasets", "predictors", "ceiling",
        "predict")  # fmt: skip
TORCH = ("torch", "torchvision", "skimage")  # the `torch` extra's imports (pillow comes with matplotlib)


def test_core_modules_import_and_work_without_torch() -> None:
    script = textwrap.dedent(
        f"""
        import sys

        class Blocked:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {TORCH!r}:
                    raise ImportError(f"{{name}} is not installed (blocked by the test)")

        sys.meta_path.insert(0, Blocked())
        import numpy as np
        import calstudy
        for name in {CORE!r}:
            __import__(f"calstudy.{{name}}")
        from calstudy import catalogue, metrics

        # The README's example, with logits that carry the labels.
        rng = np.random.default_rng(0)
        labels = rng.integers(0, 10, size=1000)
        logits = rng.normal(size=(1000, 10)) * 3
        logits[np.arange(1000), labels] += 3
        probs = metrics.to_probs(logits)
        assert 0 < metrics.ece(probs, labels, n_bins=15) < 1
        record = catalogue.full_record(logits, labels)
        assert record["pre_ECE_15"] > 0 and "post_ECE_15" in record
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {TORCH!r})
        assert not loaded, loaded
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]


def test_core_dependencies_exclude_torch() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {dep.split(">")[0].split("=")[0].split("<")[0].strip() for dep in project["dependencies"]}
    assert not names & {"torch", "torchvision", "pillow", "scikit-image", "ray", "jupyter-book"}
    extras = project["optional-dependencies"]
    assert any(dep.startswith("torch") for dep in extras["torch"])
    assert "calstudy[torch]" in extras["book"] and "calstudy[torch]" in extras["ray"]
