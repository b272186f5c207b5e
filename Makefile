# Two commands do everything: `make lab` to learn, `make test` to check.
# Each creates the virtual environment .venv and installs requirements.txt
# first, when needed. Windows without make: see "By hand" in README.md.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# JupyterLab refuses to run as root unless told; containers often run as root.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test lint bench audit site clean

$(BIN)/.installed: requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "Python 3.10 or newer is needed; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	    echo "Install a newer Python, or name one: make $(MAKECMDGOALS) PYTHON=python3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(BIN)/.installed-dev: $(BIN)/.installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

lab: $(BIN)/.installed  ## open the lessons in JupyterLab
	$(BIN)/jupyter lab $(LAB_FLAGS) notebooks/01_hello_world.ipynb

test: $(BIN)/.installed-dev lint  ## lint, then every test and every lesson
	$(BIN)/pytest

lint: $(BIN)/.installed  ## ruff over the code, the tests and the lessons
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(BIN)/.installed  ## development vs production server, with wrk
	$(BIN)/python tests/bench.py

audit: $(BIN)/.installed  ## known vulnerabilities in what we pin
	$(BIN)/python -m pip install --quiet pip-audit
	$(BIN)/pip-audit -r requirements.txt

site: $(BIN)/.installed-dev  ## the README and the lessons as a static website, in _site/
	$(BIN)/python .site/build.py _site

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts _site
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
