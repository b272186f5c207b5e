# Two commands do everything: `make lab` to learn, `make test` to check.
# Each creates the virtual environment .venv first, when needed, and installs
# into it exactly a lock, checking every file's hash: `make lab` the learner's
# (requirements.txt), `make test` the one with the test tools added
# (requirements-dev.txt). `make lock` remakes the locks from the short files a
# person edits (requirements.in, requirements-dev.in); `make upgrade` moves
# every package they pull in to its newest version. Windows without make: see
# "By hand" in README.md (one pip command, the same lock).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The installer, uv, lives outside .venv, in .uv/ (from its own hashed lock,
# requirements-uv.txt), so that .venv holds the lock and nothing else; it
# makes .venv's install take seconds.
UV_DIR := .uv
UV := $(UV_DIR)/bin/uv
# JupyterLab refuses to run as root unless told; containers often run as root.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root)
# A terminal opened in the Lab is this project's: bash whose only startup file
# is .venv's activate script, so that no ~/.bashrc (pyenv, conda) puts another
# Python first and `python -m server` works there.
LAB_TERMINAL := ['bash', '--rcfile', '$(abspath $(BIN))/activate']
# `make lab` has kernels talk to JupyterLab over local (ipc) sockets: over TCP,
# ipykernel warns at every start that the traffic is not encrypted.
# JupyterLab settings for the lessons, from teaching/lab-settings/overrides.json
# (the one file `make lab`, a teacher's hub and the tests use): Markdown files
# such as the README open as formatted pages, so that a link to one of its
# sections lands there; no pop-up asking about Jupyter news.
LAB_SETTINGS_DIR := $(abspath teaching/lab-settings)
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

.PHONY: lab test lint bench hub-sizing audit site lock upgrade clean progress update reset

# uv from PyPI: its wheel carries the program. Installed by the pip of
# $(PYTHON), hash-checked, into .uv/ only.
$(UV): requirements-uv.txt
	@$(PYTHON) -m pip --version >/dev/null 2>&1 || \
	  { echo "'$(PYTHON)' has no pip, which make needs once to fetch the installer uv."; \
	    echo "Install pip for it (Debian: apt install python3-pip), or follow \"By hand\" in README.md."; exit 1; }
	@echo "Getting the installer, uv, into $(UV_DIR)/ (once)."
	@rm -rf $(UV_DIR)
	@$(PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --only-binary :all: \
	  --require-hashes --target $(UV_DIR) -r requirements-uv.txt
	@touch $@

# .venv: Python's own venv without pip's slow bootstrap (pip comes from the
# lock instead), then exactly the lock (sync also removes anything else). The
# project itself is not installed: the lessons import server from the project
# folder (see "Lessons that need no install" in CONTRIBUTING.md).
$(BIN)/.installed: requirements.txt | $(UV)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "Python 3.10 or newer is needed; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	    echo "Install a newer Python, or name one: make $(MAKECMDGOALS) PYTHON=python3.12"; exit 1; }
	@echo "Installing the lessons' packages into $(VENV)/, exactly as requirements.txt lists them."
	@$(PYTHON) -m venv --without-pip $(VENV)
	@$(call install,requirements.txt)
	@touch $@

$(BIN)/.installed-dev: $(BIN)/.installed requirements-dev.txt
	@echo "Installing the test tools into $(VENV)/, exactly as requirements-dev.txt lists them."
	@$(call install,requirements-dev.txt)
	@touch $@

install = $(UV) pip sync --quiet --python $(BIN)/python --require-hashes $(1)

# default_url: the address JupyterLab opens, and prints (with --no-browser
# too), shows lesson 1. exec: JupyterLab takes the place of the shell that
# runs the recipe, so that make waits for JupyterLab itself, which ends with
# status 0 after Ctrl-C twice. Otherwise Debian's sh (dash), waiting for it,
# died of the Ctrl-C, and make wrote "make: *** [Makefile:N: lab] Interrupt"
# under JupyterLab's last line, as if something had gone wrong.
lab: $(BIN)/.installed  ## open the lessons in JupyterLab
	@echo "Starting JupyterLab with lesson 1. To stop it: File > Shut Down, or Ctrl-C twice here."
	@PATH="$(abspath $(BIN)):$$PATH" VIRTUAL_ENV="$(abspath $(VENV))" exec \
	  $(BIN)/jupyter lab $(LAB_FLAGS) --ServerApp.root_dir=. --KernelManager.transport=ipc \
	  --ServerApp.terminado_settings="shell_command=$(LAB_TERMINAL)" \
	  --LabApp.app_settings_dir="$(LAB_SETTINGS_DIR)" \
	  --LabApp.default_url=/lab/tree/notebooks/01_hello_world.ipynb $(LAB_OPTIONS)

# The test files run on two workers side by side (pytest-xdist), each file
# whole on one worker, so that its shared kernels and servers stay shared.
# Then every lesson with nbmake, one after another (the README's by-hand test
# command): they write the same server/ package, so never beside the tests.
PYTEST_OPTIONS ?= -n 2 --dist loadfile

test: $(BIN)/.installed-dev lint  ## lint, then every test and every lesson
	$(BIN)/pytest $(PYTEST_OPTIONS)
	$(BIN)/pytest notebooks

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

# When `make test`, `make update` or `make reset` cannot work here, one line
# says why and what to do instead (lessons.py ready, which needs only the
# standard library and git), before anything installs: `make test` on lessons
# with answers in them would fail on the answers; update and reset need a git
# clone (a ZIP download is none), update an upstream branch, reset LESSON=N a
# lesson N. make stops as it reads this file, so the learner's sentence is the
# last thing printed, on make's own line ("Makefile:N: *** <sentence>.  Stop."),
# with no "Error 1" line under it; make's exit status is 2. (A failure inside a
# recipe, such as update's git fetch, cannot do that: make always adds its
# "*** [Makefile:N: update] Error 1" line.)
stop_with = $(if $(1),$(error $(patsubst %.,%,$(1))))
$(foreach goal,$(filter test update reset,$(MAKECMDGOALS)),$(call stop_with,$(shell \
  $(PYTHON) lessons.py ready $(goal) $(if $(filter reset,$(goal)),$(LESSON)))))

bench: $(BIN)/.installed-dev  ## development vs production server, with wrk
	$(BIN)/python tests/bench.py

# A class on one JupyterHub (teaching/README.md, "Sizing"): as root, with
# Chromium and npm; LEARNERS=2 by default.
hub-sizing: $(BIN)/.installed-dev  ## memory and CPU per learner on a JupyterHub
	$(BIN)/python tests/hub_sizing.py $(LEARNERS)

audit: $(BIN)/.installed-dev  ## known vulnerabilities in every locked package
	$(BIN)/python .ci/audit.py

site: $(BIN)/.installed-dev  ## the lessons, a landing page and the README as a static website, in _site/
	$(BIN)/python .site/build.py _site

# The locks, for every supported Python and platform at once (--universal,
# markers where versions differ), with every file's hash. uv keeps each
# version already in the output file unless the .in files need another, so
# unchanged .in files give the same bytes (and the file is left untouched);
# --upgrade takes the newest instead.
# The learner's lock is constrained by the dev lock: same versions in both.
COMPILE = $(UV) pip compile --quiet --universal --python-version 3.10 --generate-hashes --no-header
# Each lock starts with what it is and how it is made ($(1): the .in file,
# $(2): the lock, $(4): how it is installed).
LOCK_HEADER = \
  '\# $(2): the lock of $(1), made by `make lock`: every package it needs, one' \
  '\# version per Python where they differ, with hashes. Do not edit it: edit $(1),' \
  '\# then run `make lock` (CONTRIBUTING.md). $(4)' \
  ''
define lock
cp $(2) $(2).new 2>/dev/null || true
$(COMPILE) $(3) $(1) -o $(2).new
printf '%s\n' $(LOCK_HEADER) | cat - $(2).new > $(2).tmp && rm $(2).new
cmp -s $(2).tmp $(2) && rm $(2).tmp || mv $(2).tmp $(2)
endef
LEARNER_INSTALL := By hand: python -m pip install --require-hashes -r requirements.txt
DEV_INSTALL := By hand: python -m pip install --require-hashes -r requirements-dev.txt
UV_INSTALL := make installs it into .uv/.
HUB_INSTALL := On a hub, beside requirements.txt: teaching/README.md.

lock: | $(UV)  ## remake the locks from the .in files, keeping every version it can
	$(call lock,requirements-dev.in,requirements-dev.txt,$(UPGRADE),$(DEV_INSTALL))
	$(call lock,requirements.in,requirements.txt,$(UPGRADE) -c requirements-dev.txt,$(LEARNER_INSTALL))
	$(call lock,requirements-uv.in,requirements-uv.txt,$(UPGRADE),$(UV_INSTALL))
	$(call lock,requirements/hub.in,requirements/hub.txt,$(UPGRADE) -c requirements-dev.txt,$(HUB_INSTALL))

upgrade:  ## remake the locks with the newest versions the .in files allow
	$(MAKE) lock UPGRADE=--upgrade

clean:
	rm -rf $(VENV) $(UV_DIR) .pytest_cache .ruff_cache test-artifacts _site
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
