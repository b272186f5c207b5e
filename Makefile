# Two commands do everything: `make lab` to learn, `make test` to check.
# Each creates the virtual environment .venv first, when needed: `make lab`
# installs what a learner needs (requirements.txt), `make test` adds the test
# tools (requirements-dev.txt). Windows without make: see "By hand" in README.md.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# JupyterLab refuses to run as root unless told; containers often run as root.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root)
# A terminal opened in the Lab is this project's: bash whose only startup file
# is .venv's activate script, so that no ~/.bashrc (pyenv, conda) puts another
# Python first and `python -m server` works there.
LAB_TERMINAL := ['bash', '--rcfile', '$(abspath $(BIN))/activate']
# `make lab` has kernels talk to JupyterLab over local (ipc) sockets: over TCP,
# ipykernel warns at every start that the traffic is not encrypted.
# JupyterLab settings for the lessons, in .venv: Markdown files such as the
# README open as formatted pages, so that a link to one of its sections lands
# there; no pop-up asking about Jupyter news.
LAB_SETTINGS := {"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"markdown": "Markdown Preview"}}, "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}
LAB_SETTINGS_FILE := $(VENV)/share/jupyter/lab/settings/overrides.d/lessons.json
# Keep-alive pings: jupyter_server's defaults (a ping every 30 s, a 90 s
# timeout) are left alone. The Lab logs one warning about them, once, when the
# first notebook opens ("websocket_ping_timeout (90000) cannot be longer than
# the websocket_ping_interval"): tornado 6.5 wants the timeout no longer than
# the interval, while jupyter_server closes a websocket whose timeout is not
# longer than the interval at its first ping. Set as text
# (tornado_settings="ws_ping_timeout=30000") every ping failed with a
# traceback; as the number 30000 every notebook lost its kernel connection
# after 30 s. tests/test_browser.py holds a kernel's websocket open past the
# first ping and fails on an error in the log.
# tests/test_browser.py starts JupyterLab with this very target, adding its
# own port and no browser through LAB_OPTIONS.
LAB_OPTIONS ?=

.PHONY: lab test lint bench audit site clean progress update reset unchanged

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

$(LAB_SETTINGS_FILE): Makefile
	@mkdir -p $(@D)
	@echo '$(LAB_SETTINGS)' > $@

lab: $(BIN)/.installed $(LAB_SETTINGS_FILE)  ## open the lessons in JupyterLab
	PATH="$(abspath $(BIN)):$$PATH" VIRTUAL_ENV="$(abspath $(VENV))" \
	  $(BIN)/jupyter lab $(LAB_FLAGS) --ServerApp.root_dir=. --KernelManager.transport=ipc \
	  --ServerApp.terminado_settings="shell_command=$(LAB_TERMINAL)" \
	  $(LAB_OPTIONS) notebooks/01_hello_world.ipynb

test: unchanged $(BIN)/.installed-dev lint  ## lint, then every test and every lesson
	$(BIN)/pytest

lint: $(BIN)/.installed-dev  ## ruff over the code, the tests and the lessons
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The learner's copy (lessons.py; on Windows: python lessons.py progress, ...).
progress: $(BIN)/.installed  ## run your lessons on a copy: each exercise's verdict
	$(BIN)/python lessons.py progress

update: $(BIN)/.installed  ## the newest lessons, keeping your answers and notes
	$(BIN)/python lessons.py update

reset: $(BIN)/.installed  ## the published lessons back: all, or LESSON=2
	$(BIN)/python lessons.py reset $(LESSON)

# `make test` on lessons with answers in them would fail on the answers: one
# line says so instead (lessons.py unchanged), before the test tools install.
unchanged: $(BIN)/.installed
	@$(BIN)/python lessons.py unchanged

bench: $(BIN)/.installed-dev  ## development vs production server, with wrk
	$(BIN)/python tests/bench.py

audit: $(BIN)/.installed  ## known vulnerabilities in what we pin
	$(BIN)/python -m pip install --quiet pip-audit
	$(BIN)/pip-audit -r requirements-dev.txt

site: $(BIN)/.installed-dev  ## the lessons, a landing page and the README as a static website, in _site/
	$(BIN)/python .site/build.py _site

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts _site
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
