# Regellotsen. `make chat` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup axe chat test test-quick lint validate eval urgency-model route-model bench docs clean

# Set-up prints one line; pip's own output (and the build backend's notes) only if it fails.
$(STAMP): pyproject.toml
	@echo "setting up $(VENV) (Python packages; about a minute the first time)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip >$(VENV)/setup.log 2>&1 || (cat $(VENV)/setup.log; exit 1)
	@$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]' >>$(VENV)/setup.log 2>&1 || (cat $(VENV)/setup.log; exit 1)
	@touch $(STAMP)

setup: $(STAMP)

# axe-core for the web chat's accessibility scan (tests/test_web_browser.py), from the npm registry.
AXE_VERSION := 4.14.1
AXE := .cache/axe-core/package/axe.min.js
$(AXE):
	@if command -v npm >/dev/null 2>&1; then \
	  mkdir -p .cache/axe-core && cd .cache/axe-core && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && \
	  tar xzf axe-core-$(AXE_VERSION).tgz && rm axe-core-$(AXE_VERSION).tgz; \
	else echo "npm is missing: the accessibility scan cannot run (apt-get install npm)"; fi

axe: $(AXE)

chat: $(STAMP)
	$(BIN)/regellots chat

test: $(STAMP) axe
	$(BIN)/ruff check bot adapters tests benchmarks
	$(BIN)/mypy
	$(BIN)/regellots validate knowledge
	$(BIN)/python -m pytest

# For developers: the same without the slow load tests.
test-quick: $(STAMP) axe
	$(BIN)/ruff check bot adapters tests benchmarks
	$(BIN)/mypy
	$(BIN)/regellots validate knowledge
	$(BIN)/python -m pytest -m "not slow"

validate: $(STAMP)
	$(BIN)/regellots validate knowledge

eval: $(STAMP)
	$(BIN)/regellots eval tests/eval/questions.yaml

# Relearn the urgency model after changing its example sets (tests/eval/realistic/urgency-training.yaml).
urgency-model: $(STAMP)
	$(BIN)/regellots urgency-train --sets tests/eval/realistic/urgency-training.yaml --out knowledge/urgency-model.npz

# Relearn the routing reading after changing phrasings, entries or the tune sets (route-training.yaml).
route-model: $(STAMP)
	$(BIN)/regellots route-train --sets tests/eval/realistic/route-training.yaml --out knowledge/route-model.npz

bench: $(STAMP)
	$(BIN)/python benchmarks/engine_latency.py
	$(BIN)/python benchmarks/engine_latency.py --scale 10
	$(BIN)/python benchmarks/startup_memory.py

# Regenerate what is derived: editor schemas and flow pictures from the knowledge, and the
# configuration table (README) and .env.example from bot/settings.py.
docs: $(STAMP)
	$(BIN)/regellots schema --link knowledge
	$(BIN)/python -m bot.settings --write
	$(BIN)/regellots graph --all --out docs/flows.md

clean:
	rm -rf $(VENV) .pytest_cache
