"""The locked environment: complete, hashed, consistent with pyproject.toml and environment.yml,
and what this interpreter actually runs (on the locked platform)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "py311-x86_64.txt"
REFERENCE_LIBS = ROOT / "requirements" / "reference-libs.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)\s*\\?$")


def _locked(path: Path) -> dict[str, str]:
    """name → version of every pin in a hashed requirements file; each pin must carry a hash."""
    lines = path.read_text().splitlines()
    found: dict[str, str] = {}
    for i, line in enumerate(lines):
        match = PIN.match(line)
        if match:
            name = canonicalize_name(match.group(1))
            assert name not in found, f"{name} pinned twice in {path.name}"
            assert i + 1 < len(lines) and "--hash=sha256:" in lines[i + 1], f"{name}: no hash"
            found[name] = match.group(2)
    return found


def _environment_module():
    spec = importlib.util.spec_from_file_location(
        "environment_from_lock", ROOT / "scripts" / "environment_from_lock.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _declared() -> list[Requirement]:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        declared += [Requirement(r) for r in extra if not r.startswith("calstudy")]
    return declared


def test_lock_pins_every_declared_dependency_within_its_range() -> None:
    locked = _locked(LOCK)
    assert len(locked) > 100
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is declared in pyproject.toml but not locked"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"lock pins {name}=={locked[name]}, outside pyproject's {requirement}"
        )
    platform_pins = (ROOT / "requirements" / "platform.in").read_text()
    for line in platform_pins.splitlines():
        if line and not line.startswith("#"):
            requirement = Requirement(line)
            assert requirement.specifier.contains(locked[canonicalize_name(requirement.name)])


def test_reference_libraries_are_pinned_and_hashed() -> None:
    wanted = {
        canonicalize_name(Requirement(line).name): str(Requirement(line).specifier)[2:]
        for line in (ROOT / "requirements" / "reference-libs.in").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert _locked(REFERENCE_LIBS) == wanted


def test_environment_yml_is_generated_from_the_lock() -> None:
    module = _environment_module()
    assert (ROOT / "environment.yml").read_text() == module.environment(LOCK), (
        "environment.yml is stale: run `python scripts/environment_from_lock.py`"
    )


def test_makefile_installs_the_lock_with_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r $(LOCK)" in makefile
    assert "--no-deps --require-hashes -r $(REFERENCE_LIBS)" in makefile
    assert "LOCK := requirements/py311-x86_64.txt" in makefile


@pytest.mark.skipif(
    sys.version_info[:2] != (3, 11) or platform.machine() != "x86_64",
    reason="the lock is for Python 3.11 on x86_64",
)
def test_this_environment_runs_the_locked_versions() -> None:
    locked = _locked(LOCK) | _locked(REFERENCE_LIBS)
    wrong = {}
    for name, version in locked.items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = (version, installed)
    assert not wrong, f"installed versions differ from the lock (locked, installed): {wrong}"
