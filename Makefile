# Booking: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test bench bench-smoke clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when setup.py changes.
$(VENV)/.installed-app: setup.py | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-testing: setup.py | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[testing]'
	touch $@ $(VENV)/.installed-app

run: $(VENV)/.installed-app
	$(BIN)/booking-initdb development.ini --demo
	$(BIN)/pserve development.ini

test: $(VENV)/.installed-testing
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-testing
	$(BIN)/python -m bench.run

bench-smoke: $(VENV)/.installed-testing
	$(BIN)/python -m bench.run --smoke

clean:
	rm -rf $(VENV) var build dist *.egg-info .pytest_cache
