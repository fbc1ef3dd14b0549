# The two commands a newcomer needs:  make run  (the service with working defaults)
#                                     make test (set up and run the test suite)
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: run test lint bench clean

run: $(VENV)/.installed
	@scripts/ensure-system-packages run
	$(BIN)/telecare demo

test: $(VENV)/.installed
	@scripts/ensure-system-packages test
	$(BIN)/pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .

bench: $(VENV)/.installed
	$(BIN)/python bench/import_enrollees.py

$(VENV)/.installed: pyproject.toml
	@scripts/ensure-system-packages run
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) var build *.egg-info
