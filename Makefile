# Offload's two commands: `make demo` (the main job) and `make test`. Each installs what is
# missing first (Debian packages, then a venv on Debian's Python with the test tools).
SHELL := /bin/bash
SYSTEM_PYTHON := /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
READY := $(VENV)/.offload-ready
HEADLESS := QT_QPA_PLATFORM=offscreen
PYTEST_ARGS ?=
DEMO_OUTPUT ?= demo-output
QGIS_PLUGINS := $(HOME)/.local/share/QGIS/QGIS3/profiles/default/python/plugins

.PHONY: setup test demo translations bench bench-responsiveness bench-canvas bench-plugin-load bench-raster bench-tiles bench-buffer bench-inqgis package install clean

setup: $(READY)

$(READY): requirements-dev.txt tools/install-debian-deps.sh
	@bash tools/install-debian-deps.sh
	@test -x $(PY) || $(SYSTEM_PYTHON) -m venv --system-site-packages $(VENV)
	@$(SYSTEM_PYTHON) -c 'import numpy; print("numpy==" + numpy.__version__)' > $(VENV)/constraints.txt
	$(PY) -m pip install -q --disable-pip-version-check -c $(VENV)/constraints.txt -r requirements-dev.txt
	@# `import offload` from this checkout, whatever its folder is called
	@ln -sfn "$(CURDIR)" "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/offload"
	@touch $@

# Pure unit tests first, with QGIS and Qt not even loaded (tests/unit/conftest.py checks), then the rest.
test: setup
	$(HEADLESS) $(PY) -m pytest -p no:pytest_qgis -p no:pytest-qt tests/unit $(PYTEST_ARGS)
	$(HEADLESS) $(PY) -m pytest --ignore=tests/unit $(PYTEST_ARGS)

demo: setup
	$(HEADLESS) $(PY) -m offload demo --output $(DEMO_OUTPUT)

bench: bench-responsiveness bench-canvas bench-plugin-load bench-raster bench-tiles bench-buffer bench-inqgis

bench-responsiveness: setup
	$(HEADLESS) $(PY) bench/responsiveness.py

bench-canvas: setup
	$(HEADLESS) $(PY) bench/canvas.py

bench-plugin-load: setup
	$(HEADLESS) $(PY) bench/plugin_load.py

bench-raster: setup
	$(HEADLESS) $(PY) bench/raster.py

bench-tiles: setup
	$(HEADLESS) $(PY) bench/tiles.py

bench-buffer: setup
	$(HEADLESS) $(PY) bench/buffer.py

# Speed where users choose: processing.run() inside QGIS against the Toolbox's own tools.
bench-inqgis: setup
	$(HEADLESS) $(PY) bench/inqgis.py

# i18n/offload.ts (every tr() string) and each i18n/offload_<lang>.ts updated, then .qm files (lrelease).
translations: setup
	$(SYSTEM_PYTHON) i18n/update.py

package:
	$(SYSTEM_PYTHON) tools/package.py

install:
	mkdir -p "$(QGIS_PLUGINS)"
	ln -sfn "$(CURDIR)" "$(QGIS_PLUGINS)/offload"
	@echo "Linked into $(QGIS_PLUGINS)/offload; enable Offload in Plugins > Manage and Install Plugins."

clean:
	rm -rf $(VENV) dist .pytest_cache .qgis-settings .hypothesis
