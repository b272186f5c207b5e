# `make lab` to learn, `make test` to check: each first installs a lock into
# .venv, exactly and hash-checked (requirements.txt, the learner's; then
# requirements/dev.txt, the test tools). `make lock` remakes the locks from
# the .in files a person edits. Without make: "By hand" in README.md.

PYTHON ?= python3
VENV ?= .venv
# make cannot name a file whose path has a space, so VENV (relative or not)
# must have none; the project folder itself may.
$(if $(word 2,$(VENV)),$(error VENV="$(VENV)" has a space, which make cannot handle: choose a path without one, such as the default .venv))
BIN := $(VENV)/bin
# uv, the installer, lives in .uv/ (its own lock: requirements/uv.txt), so
# that .venv holds the lock and nothing else.
UV_DIR := .uv
UV := $(UV_DIR)/bin/uv
# JupyterLab refuses to run as root unless told; containers often run as root.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root)
# A Lab terminal runs bash with .venv's activate as its only startup file, so
# that no ~/.bashrc puts another Python first.
LAB_TERMINAL := ['bash', '--rcfile', '$(abspath $(BIN))/activate']
# The lessons' JupyterLab settings: teaching/lab-settings/overrides.json, the
# one file make lab, a teacher's hub and the tests use (Markdown such as the
# README opens formatted, so a link to a section lands there; no news pop-up).
LAB_SETTINGS_DIR := $(abspath teaching/lab-settings)
# Added to `jupyter lab`'s command line (the README's --no-browser; the
# browser tests' port). jupyter_server's keep-alive pings stay at their
# defaults: each other setting tried broke kernel connections.
LAB_OPTIONS ?=

.PHONY: help lab test lint lessons bench hub-sizing audit site instructor-notes lock upgrade clean progress update reset

# `make` alone lists the commands, from their ## comments.
.DEFAULT_GOAL := help
help:  ## what each command does
	@grep -E '^[a-z-]+:.*## ' Makefile | sed -E 's/^([a-z-]+):.*## /make \1: /'

# uv, from its wheel on PyPI, hash-checked, by $(PYTHON)'s pip, into .uv/.
$(UV): requirements/uv.txt
	@"$(PYTHON)" -m pip --version >/dev/null 2>&1 || \
	  { echo "'$(PYTHON)' has no pip, which make needs once to fetch the installer uv."; \
	    echo "Install pip for it (Debian: apt install python3-pip), or follow \"By hand\" in README.md."; exit 1; }
	@echo "Getting the installer, uv, into $(UV_DIR)/ (once)."
	@rm -rf $(UV_DIR)
	@"$(PYTHON)" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --only-binary :all: \
	  --require-hashes --target $(UV_DIR) -r requirements/uv.txt
	@touch $@

# .venv: a venv without pip's slow bootstrap (pip is in the lock), then
# exactly the lock (sync removes anything else). The project is not
# installed: the lessons import server from the project folder.
$(BIN)/.installed: requirements.txt | $(UV)
	@"$(PYTHON)" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "Python 3.10 or newer is needed; '$(PYTHON)' is $$("$(PYTHON)" --version 2>&1)."; \
	    echo "Install a newer Python, or name one: make $(MAKECMDGOALS) PYTHON=python3.12"; exit 1; }
	@echo "Installing the lessons' packages into $(VENV)/, exactly as requirements.txt lists them."
	@"$(PYTHON)" -m venv --without-pip $(VENV)
	@$(call install,requirements.txt)
	@touch $@

$(BIN)/.installed-dev: $(BIN)/.installed requirements/dev.txt
	@echo "Installing the test tools into $(VENV)/, exactly as requirements/dev.txt lists them."
	@$(call install,requirements/dev.txt)
	@touch $@

install = $(UV) pip sync --quiet --python $(BIN)/python --require-hashes $(1)

# JupyterLab opens (and prints) lesson 1's address. Kernels talk to it over
# local (ipc) sockets: over TCP, ipykernel warns at each start. exec: make
# waits for JupyterLab itself, which ends cleanly on Ctrl-C twice (a shell in
# between dies of the Ctrl-C, and make reports an "Interrupt").
lab: $(BIN)/.installed  ## open the lessons in JupyterLab
	@echo "Starting JupyterLab with lesson 1. To stop it: File > Shut Down, or Ctrl-C twice here."
	@PATH="$(abspath $(BIN)):$$PATH" VIRTUAL_ENV="$(abspath $(VENV))" exec \
	  $(BIN)/jupyter lab $(LAB_FLAGS) --ServerApp.root_dir=. --KernelManager.transport=ipc \
	  --ServerApp.terminado_settings="shell_command=$(LAB_TERMINAL)" \
	  --LabApp.app_settings_dir="$(LAB_SETTINGS_DIR)" \
	  --LabApp.default_url=/lab/tree/notebooks/01_hello_world.ipynb $(LAB_OPTIONS)

# The test files on three workers (pytest-xdist), each file whole on one, so
# that its shared kernels and servers stay shared; three on two cores, as the
# tests wait for kernels, servers and deadlines a third of the time. Then every
# lesson with nbmake (the README's by-hand test), after the tests: both write server/.
PYTEST_OPTIONS ?= -n 3 --dist loadfile

test: $(BIN)/.installed-dev lint  ## lint, then every test and every lesson
	$(BIN)/pytest $(PYTEST_OPTIONS)
	$(BIN)/pytest notebooks

lint: $(BIN)/.installed-dev  ## ruff over the code, the tests and the lessons
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# After writing an exercise's cells or a lesson: ids, starters, a clean run in order, saved (tools/author.py).
lessons: $(BIN)/.installed-dev  ## give new cells their ids and starters, run every lesson in order, save; the instructor notes
	$(BIN)/python tools/author.py
	$(BIN)/python tools/instructor_notes.py

# The learner's copy (lessons.py; on Windows: python lessons.py progress, ...).
# On a JupyterHub (its terminals have JUPYTERHUB_SERVICE_PREFIX), the image's
# Python has the lessons' packages already: use it, and build nothing in the
# learner's home (no .venv, no .uv).
LEARNER_PYTHON := $(if $(JUPYTERHUB_SERVICE_PREFIX),$(PYTHON),$(BIN)/python)
LEARNER_READY := $(if $(JUPYTERHUB_SERVICE_PREFIX),hub-python,$(BIN)/.installed)

progress: $(LEARNER_READY)  ## run your lessons on a copy: each exercise's verdict
	$(LEARNER_PYTHON) lessons.py progress

update: $(LEARNER_READY)  ## the newest lessons, keeping your answers and notes
	$(LEARNER_PYTHON) lessons.py update

reset: $(LEARNER_READY)  ## the published lessons back: all, or LESSON=2
	$(LEARNER_PYTHON) lessons.py reset $(LESSON)

.PHONY: hub-python
hub-python:
	@$(PYTHON) -c 'import nbclient' 2>/dev/null || \
	  { echo "On this JupyterHub, '$(PYTHON)' lacks the lessons' packages: ask your teacher to install requirements.txt into the hub's image."; exit 1; }

# Where test, update or reset cannot work (answers in the lessons, no git
# clone, no upstream, no lesson N), make stops before installing anything,
# with one sentence from tools/guard.py (standard library and git only) as
# its last line: an $(error) as it reads this file, so no "Error 1" follows.
stop_with = $(if $(1),$(error $(patsubst %.,%,$(1))))
$(foreach goal,$(filter test update reset,$(MAKECMDGOALS)),$(call stop_with,$(shell \
  "$(PYTHON)" tools/guard.py $(goal) $(if $(filter reset,$(goal)),$(LESSON)))))

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

instructor-notes: $(BIN)/.installed-dev  ## teaching/instructor-notes.md, from the lessons and the mistakes table
	$(BIN)/python tools/instructor_notes.py

# A lock: every Python and platform at once (--universal), with hashes. uv
# keeps the versions already in the lock unless the .in needs others, so an
# unchanged .in leaves its lock untouched; UPGRADE=--upgrade takes the newest.
COMPILE = $(UV) pip compile --quiet --universal --python-version 3.10 --generate-hashes --no-header
# Its first lines say what it is ($(1): the .in, $(2): the lock, $(4): how to install it).
LOCK_HEADER = \
  '\# $(2): the lock of $(1), made by `make lock`: every package it needs, one' \
  '\# version per Python where they differ, with hashes. Do not edit it: edit $(1),' \
  '\# then run `make lock` (CONTRIBUTING.md). $(4)' \
  ''
define lock
@echo "Locking $(1) into $(2)."
@cp $(2) $(2).new 2>/dev/null || true
@$(COMPILE) $(3) $(1) -o $(2).new
@printf '%s\n' $(LOCK_HEADER) | cat - $(2).new > $(2).tmp && rm $(2).new
@cmp -s $(2).tmp $(2) && rm $(2).tmp || mv $(2).tmp $(2)
endef
LEARNER_INSTALL := By hand: python -m pip install --require-hashes -r requirements.txt
DEV_INSTALL := By hand: python -m pip install --require-hashes -r requirements/dev.txt
UV_INSTALL := make installs it into .uv/.
HUB_INSTALL := On a hub, beside requirements.txt: teaching/README.md.

# The learner's lock is constrained by the dev lock: the same versions in both.
# The dev lock keeps extras (cachecontrol[filecache]), without which the pip
# of Python 3.10-3.12 (23.x) refuses it.
lock: | $(UV)  ## remake the locks from the .in files, keeping every version it can
	$(call lock,requirements/dev.in,requirements/dev.txt,$(UPGRADE) --no-strip-extras,$(DEV_INSTALL))
	$(call lock,requirements/learner.in,requirements.txt,$(UPGRADE) -c requirements/dev.txt,$(LEARNER_INSTALL))
	$(call lock,requirements/uv.in,requirements/uv.txt,$(UPGRADE),$(UV_INSTALL))
	$(call lock,requirements/hub.in,requirements/hub.txt,$(UPGRADE) -c requirements/dev.txt,$(HUB_INSTALL))

upgrade:  ## remake the locks with the newest versions the .in files allow
	$(MAKE) lock UPGRADE=--upgrade

clean:
	rm -rf $(VENV) $(UV_DIR) .pytest_cache .ruff_cache test-artifacts _site
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
