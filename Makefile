# Regellotsen. `make chat` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup chat test test-quick lint validate eval bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

chat: $(STAMP)
	$(BIN)/regellots chat

test: $(STAMP)
	$(BIN)/ruff check bot adapters tests benchmarks
	$(BIN)/mypy
	$(BIN)/regellots validate knowledge
	$(BIN)/python -m pytest

# For developers: the same without the slow load tests.
test-quick: $(STAMP)
	$(BIN)/ruff check bot adapters tests benchmarks
	$(BIN)/mypy
	$(BIN)/regellots validate knowledge
	$(BIN)/python -m pytest -m "not slow"

validate: $(STAMP)
	$(BIN)/regellots validate knowledge

eval: $(STAMP)
	$(BIN)/regellots eval tests/eval/questions.yaml

bench: $(STAMP)
	$(BIN)/python benchmarks/engine_latency.py
	$(BIN)/python benchmarks/engine_latency.py --scale 10
	$(BIN)/python benchmarks/startup_memory.py

# Regenerate what is derived from the knowledge: editor schemas and flow pictures.
docs: $(STAMP)
	$(BIN)/regellots schema
	$(BIN)/regellots schema --link knowledge
	$(BIN)/regellots graph --all --out docs/flows.md

clean:
	rm -rf $(VENV) .pytest_cache
