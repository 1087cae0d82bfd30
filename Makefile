# calstudy: `make book` builds the book, `make test` runs the checks. Both set up .venv first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARCH := $(shell uname -m)

.PHONY: venv test lint book book-paper paper-store clean-book bench lock ipynb

venv: $(STAMP)

# The supported platform installs the locked, hash-checked set (make lock refreshes it), so the
# book's numbers do not depend on the day it is installed. Elsewhere pyproject.toml's ranges are
# resolved, with a warning.
LOCK := requirements/py311-x86_64.txt
REFERENCE_LIBS := requirements/reference-libs.txt
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
LOCKED := $(if $(and $(filter x86_64,$(ARCH)),$(filter 3.11,$(PY_VERSION))),yes,no)

$(STAMP): pyproject.toml Makefile $(LOCK) $(REFERENCE_LIBS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
ifeq ($(LOCKED),yes)
	$(BIN)/python -m pip install -q --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
else
	@echo "warning: $(LOCK) is for Python 3.11 on x86_64, this is Python $(PY_VERSION) on" \
		"$(ARCH): installing from pyproject.toml's ranges, so versions (and numbers) may differ" >&2
	$(BIN)/python -m pip install -q -e '.[dev]'
endif
	# Reference implementations used only by the tests, without their conflicting pins.
	$(BIN)/python -m pip install -q --no-deps --require-hashes -r $(REFERENCE_LIBS)
	# Headless Chromium for the book's browser test (explains, and lets the test skip, if not root).
	bash scripts/install_browser.sh
	touch $(STAMP)

# Re-resolve the lock (UPGRADE=1: newest releases of everything); it replaces the old one only
# once make test and make book pass on a fresh .venv built from it.
lock:
	UPGRADE=$(UPGRADE) bash scripts/lock.sh

lint: $(STAMP)
	$(BIN)/ruff check calstudy tests benchmarks notebooks

test: $(STAMP)
	$(BIN)/ruff check calstudy tests benchmarks notebooks
	$(BIN)/python -m pytest -q tests --doctest-modules calstudy

book: $(STAMP)
	$(BIN)/python -m calstudy book build
	$(BIN)/python -m calstudy.htmlcheck book/_build/html

# The paper edition: the whole book on the paper's released measurements (145,179 rows), in its
# own folder beside the demo edition. Fetches and imports the six CSVs once if PAPER_STORE is
# missing (needs the internet; or put the CSVs in PAPER_CSV yourself).
PAPER_CSV ?= data/paper-csv
PAPER_STORE ?= data/paper
PAPER_EDITION ?= book/editions/paper
paper-store: $(STAMP)
	test -d $(PAPER_STORE) || { test -f $(PAPER_CSV)/SHA256SUMS \
		|| $(BIN)/python -m calstudy dataset fetch-paper --out $(PAPER_CSV); \
		$(BIN)/python -m calstudy dataset import-paper $(PAPER_CSV) --out $(PAPER_STORE); }

book-paper: paper-store
	$(BIN)/python -m calstudy book build --store $(PAPER_STORE) --out $(PAPER_EDITION) \
		--title "calstudy, paper edition: the book on Tao et al.'s released measurements"
	$(BIN)/python -m calstudy.htmlcheck $(PAPER_EDITION)/_build/html

# The chapters' output-free .ipynb copies in notebooks/ipynb/, which Colab opens from GitHub;
# rerun after editing a chapter (tests/test_ipynb_copies.py fails until the copies match).
ipynb: $(STAMP)
	$(BIN)/python scripts/export_ipynb.py

bench: $(STAMP)
	$(BIN)/python benchmarks/metrics_bench.py

clean-book:
	rm -rf book/_build book/executed book/editions
