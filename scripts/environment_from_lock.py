"""Write environment.yml (conda / Binder) from the lock, so Binder installs the same versions.

Usage: python scripts/environment_from_lock.py [LOCK] [OUT]   (make lock runs it)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")

HEADER = """\
# conda / Binder environment for reading and rerunning the calstudy book. Generated from
# {lock} by scripts/environment_from_lock.py (make lock): the same versions as `make book`.
name: calstudy
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - pip:
"""


def pins(lock: Path) -> list[str]:
    """The ``name==version`` lines of a pip-compile lock, in its order."""
    found = [m.group(1) + "==" + m.group(2) for m in map(PIN.match, lock.read_text().splitlines()) if m]
    if not found:
        raise ValueError(f"Expected pinned requirements in '{lock}', found none.")
    return found


def environment(lock: Path) -> str:
    lines = [f"      - {pin}" for pin in pins(lock)] + ["      - -e ."]
    return HEADER.format(lock=lock.relative_to(ROOT).as_posix()) + "\n".join(lines) + "\n"


if __name__ == "__main__":
    lock = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "requirements" / "py311-x86_64.txt"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "environment.yml"
    out.write_text(environment(lock.resolve()))
    print(f"wrote {out} ({len(pins(lock))} pins)")
