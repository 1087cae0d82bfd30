#!/usr/bin/env bash
# Refresh the lock files (`make lock`): resolve pyproject.toml's `dev` extra plus
# requirements/platform.in for Python 3.11 on x86_64, with hashes, and hash the reference
# libraries of requirements/reference-libs.in. The new lock replaces the old one only after a
# fresh .venv built from it passes `make test` and `make book`: the lock is a known-good set.
# `make lock` adds what pyproject.toml newly asks for; `make lock UPGRADE=1` moves every pin.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
LOCK=requirements/py311-x86_64.txt
REFS=requirements/reference-libs.txt
[ "$(uname -m)" = x86_64 ] || { echo "lock: the lock is for x86_64, this is $(uname -m)" >&2; exit 2; }
"$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || { echo "lock: needs Python 3.11, got $("$PYTHON" --version)" >&2; exit 2; }

tools=.venv-lock
[ -x $tools/bin/pip-compile ] || { "$PYTHON" -m venv $tools && $tools/bin/pip install -q "pip-tools>=7.4,<8"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "lock: resolving pyproject.toml [dev] + requirements/platform.in"
# Without UPGRADE=1 the current pins are kept where they still fit (new inputs added);
# with it, everything moves to the newest releases.
cp $LOCK "$work/lock.txt" 2>/dev/null || true
upgrade=(); [ "${UPGRADE:-0}" = 1 ] && upgrade=(--upgrade)
$tools/bin/pip-compile -q "${upgrade[@]}" --generate-hashes --allow-unsafe --strip-extras --extra dev \
  --no-emit-index-url --no-emit-find-links --no-header -o "$work/lock.txt" \
  pyproject.toml requirements/platform.in
# `dev` names calstudy itself (calstudy[book,ray]); the project is installed from the checkout.
"$PYTHON" - "$work/lock.txt" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
text = re.sub(r"(?ms)^# WARNING: pip install will require.*?(?=^\S)", "", text)
text = re.sub(r"(?ms)^calstudy @ file:.*?(?=^\S)", "", text)
open(path, "w").write(text)
PY
{ echo "# Locked environment for Python 3.11 on x86_64 (make lock; installed by make)."
  echo "# Inputs: pyproject.toml [dev] and requirements/platform.in, resolved $(date -u +%F)."
  cat "$work/lock.txt"; } > "$work/lock.final"

echo "lock: hashing the reference libraries"
$tools/bin/pip download -q --no-deps -d "$work/refs" -r requirements/reference-libs.in
{ echo "# Hashes of requirements/reference-libs.in (make lock), installed with --no-deps."
  grep -E '^[A-Za-z]' requirements/reference-libs.in | while read -r req; do
    name=${req%%==*}; file=$(ls "$work/refs" | grep -i "^${name//-/_}-" | head -1)
    echo "$req \\"
    echo "    --hash=sha256:$(sha256sum "$work/refs/$file" | cut -d' ' -f1)"
  done; } > "$work/refs.txt"

cp $LOCK "$work/old-lock" 2>/dev/null || true
cp $REFS "$work/old-refs" 2>/dev/null || true
cp environment.yml "$work/old-env"
cp "$work/lock.final" $LOCK
cp "$work/refs.txt" $REFS
"$PYTHON" scripts/environment_from_lock.py
echo "lock: building a fresh .venv from the new lock and running make test and make book"
rm -rf .venv
if make test && make book; then
  echo "lock: $LOCK and $REFS refreshed and known good"; git --no-pager diff --stat -- requirements environment.yml
else
  echo "lock: the new lock fails make test or make book; the previous one is restored" >&2
  [ -f "$work/old-lock" ] && cp "$work/old-lock" $LOCK
  [ -f "$work/old-refs" ] && cp "$work/old-refs" $REFS
  cp "$work/old-env" environment.yml
  rm -rf .venv
  exit 1
fi
