# calstudy: `make book` builds the book, `make test` runs the checks. Both set up .venv first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARCH := $(shell uname -m)

.PHONY: venv test lint book clean-book bench

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
ifeq ($(ARCH),x86_64)
	# These two releases are served from local disk on the project's machines; others download GBs.
	$(BIN)/python -m pip install -q torch==2.14.1 torchvision==0.29.1
endif
	$(BIN)/python -m pip install -q -e '.[dev]'
	# Reference implementations used only by the tests; their pins (numpy<=1.19, pyro, gpytorch)
	# conflict with ours, and the modules we call need none of those dependencies.
	$(BIN)/python -m pip install -q --no-deps xautodl==1.0.0 nats_bench==1.8 netcal==1.4.0 \
		torchattacks==3.5.1
	# CIFAR-10-C's frost photographs ship inside imagecorruptions, which does not import under
	# current setuptools; calstudy only reads its image files.
	$(BIN)/python -m pip install -q --no-deps imagecorruptions==1.1.2
	# Headless Chromium for the book's browser test (explains, and lets the test skip, if not root).
	bash scripts/install_browser.sh
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check calstudy tests benchmarks notebooks

test: $(STAMP)
	$(BIN)/ruff check calstudy tests benchmarks notebooks
	$(BIN)/python -m pytest -q tests --doctest-modules calstudy

book: $(STAMP)
	$(BIN)/python -m calstudy book build
	$(BIN)/python -m calstudy.htmlcheck book/_build/html

bench: $(STAMP)
	$(BIN)/python benchmarks/metrics_bench.py

clean-book:
	rm -rf book/_build book/executed
