# gpuguide: `make run` executes every notebook in every language; `make docs` builds the site of the executed
# notebooks; `make test` checks and tests everything. All set up .venv from nothing (Python >= 3.10, pip and make).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch comes first and on its own: a plain range would pull a newest CUDA build. On PyPI's Linux wheels
# torch==2.13.0 is the CUDA build; where pip is configured with a local CPU wheel, it fetches that. Override as you
# need, e.g. make TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128".
TORCH_SPEC ?= torch==2.13.0
PROFILE ?= auto
JOBS ?= auto
RUN_ARGS ?=
# `make docs` shows this run (executed/, summary.json, report.md, charts/): build/ after `make run`, or a GPU run's.
BUILD ?= build
DOCS_ARGS ?=
STABILITY_ARGS ?=
# make test runs pytest in two workers (pytest-xdist): the notebook run and the site in one, the rest beside it
# (tests/conftest.py groups them). TEST_WORKERS=0 runs it in one process; PYTEST_ARGS="-k site -x" passes options.
TEST_WORKERS ?= 2
PYTEST_ARGS ?=
# uv installs the environments (pinned below; pip installs it): it unpacks and compiles packages on every core, where
# pip takes one package at a time (`make setup` from a fresh clone, 2 cores: about 4.5 minutes with pip, 2.7 with uv).
# pip still fetches the torch wheel, because pip's own settings may point at a local build (a CPU wheel on disk, as on
# our CI machines) that uv does not read; uv installs that file. Bytecode is compiled at install time: without it
# Python compiles each module the first time a notebook imports it, which may fall inside a measured call (the first
# `make run` after such a set-up had three claims fail).
UV_SPEC ?= uv==0.13.10
UV = $(VENV)/bin/uv
UV_INSTALL = $(UV) pip install --quiet --compile-bytecode
TORCH_WHEELS := $(VENV)/wheels
PIP_FLAGS := --quiet
# uv uses the system's certificates, as pip does here (a proxy's certificate authority, say).
export UV_SYSTEM_CERTS ?= 1
# Notebooks never reach the hub on their own; set HF_HUB_OFFLINE=0 to load hub ids (-p model_id=org/name).
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_NO_ADVISORY_WARNINGS ?= 1

REQS := requirements/torch.txt requirements/common.txt requirements/main.txt requirements/suite.txt requirements/test.txt \
	requirements/docs.txt pyproject.toml tools/pyproject.toml scripts/jupyterlab/overrides.json
# Side environments for notebooks whose technique needs an older stack (see environments/README.md).
SIDE_ENVS := bettertransformer ort
# Build flavour for side environments that have one (environments/<name>/cpu.txt or cuda.txt).
ACCEL ?= $(if $(shell command -v nvidia-smi 2>/dev/null),cuda,cpu)

.PHONY: run docs test setup venv envs check build update strip clean gpu-wheelhouse gpu-run slides vendor stability $(addprefix env-,$(SIDE_ENVS))

venv: $(VENV)/.installed

$(PY):
	$(PYTHON) -m venv $(VENV)

$(UV): | $(PY)
	$(PY) -m pip install $(PIP_FLAGS) $(UV_SPEC)

# The torch wheel for every environment, fetched once by pip (see UV_SPEC above). The stamp holds the TORCH_SPEC it
# was fetched for: another spec fetches again, so a stale wheel is never installed in its place.
ifneq ($(strip $(file < $(TORCH_WHEELS)/.fetched)),$(strip $(TORCH_SPEC)))
.PHONY: $(TORCH_WHEELS)/.fetched
endif
$(TORCH_WHEELS)/.fetched: requirements/torch.txt | $(PY)
	rm -rf $(TORCH_WHEELS)
	$(PY) -m pip download $(PIP_FLAGS) --no-deps --dest $(TORCH_WHEELS) $(TORCH_SPEC)
	echo '$(TORCH_SPEC)' > $@

$(VENV)/.installed: $(REQS) $(UV) $(TORCH_WHEELS)/.fetched
	$(PY) -c "import torch" 2>/dev/null || $(UV_INSTALL) --python $(PY) --find-links $(TORCH_WHEELS) $(TORCH_SPEC)
	$(UV_INSTALL) --python $(PY) -r requirements/torch.txt -r requirements/common.txt -r requirements/main.txt \
		-r requirements/suite.txt -r requirements/test.txt -r requirements/docs.txt
	$(UV_INSTALL) --python $(PY) -e . -e tools
	# JupyterLab saves widget state with the notebook, so a saved 06 reopens with the explorer's last picture
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp scripts/jupyterlab/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $@

envs: $(addprefix env-,$(SIDE_ENVS))

# venv and the side environments side by side (while one waits on a download, the others keep the cores busy).
setup:
	@$(MAKE) --no-print-directory -j3 venv envs

$(addprefix env-,$(SIDE_ENVS)): env-%: $(VENV)/share/jupyter/kernels/gpuguide-%/kernel.json
# Reached only through the pattern rules below: without this, make would delete them as intermediate files.
.PRECIOUS: .venv-%/.installed $(VENV)/share/jupyter/kernels/gpuguide-%/kernel.json

# Each side environment gets torch, its pins and gpuguide_utils (its declared ranges admit the older stack); it needs
# only uv and the torch wheel from the main environment, so the three build at once.
.venv-%/.installed: environments/%/requirements.txt requirements/common.txt requirements/torch.txt $(UV) \
		$(TORCH_WHEELS)/.fetched
	$(PYTHON) -m venv .venv-$*
	.venv-$*/bin/python -c "import torch" 2>/dev/null || \
		$(UV_INSTALL) --python .venv-$*/bin/python --find-links $(TORCH_WHEELS) $(TORCH_SPEC)
	$(UV_INSTALL) --python .venv-$*/bin/python -r requirements/torch.txt -r environments/$*/requirements.txt \
		$(if $(wildcard environments/$*/$(ACCEL).txt),-r environments/$*/$(ACCEL).txt)
	$(UV_INSTALL) --python .venv-$*/bin/python -e .
	touch $@

# ... and a Jupyter kernel "gpuguide-<name>" registered in the main environment, where the runner (papermill) finds it.
$(VENV)/share/jupyter/kernels/gpuguide-%/kernel.json: .venv-%/.installed $(VENV)/.installed
	.venv-$*/bin/python -m ipykernel install --prefix $(abspath $(VENV)) --name gpuguide-$* \
		--display-name "gpuguide ($*)" >/dev/null

run: setup
	$(PY) -m gpuguide_suite run --profile $(PROFILE) --jobs $(JOBS) $(RUN_ARGS)

# Builds build/site/<lang>/ (full edition) and build/site-learner/<lang>/ from $(BUILD); executes nothing, needs no
# network. Browse with: .venv/bin/python -m http.server -d build/site
docs: venv
	$(PY) -m gpuguide_suite docs --build $(BUILD) $(DOCS_ARGS)

# The check runs as soon as .venv is ready, beside the side environments' set-up and npm.
test:
	@$(MAKE) --no-print-directory -j4 venv envs vendor check
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

check: venv
	$(PY) -m gpuguide_suite check

# After editing notebooks/en: sync the catalogs (changed cells turn fuzzy), translate, then regenerate.
update: venv
	$(PY) -m gpuguide_suite update

build: venv
	$(PY) -m gpuguide_suite build

# The same cleaning as the pre-commit hook (.pre-commit-config.yaml): outputs, counts and execution metadata go, ids stay.
strip: venv
	find notebooks -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' -exec $(VENV)/bin/nbstripout --keep-id {} +

# Offline reveal.js decks of the executed notebooks (after `make run`): reveal.js and friends come from the npm
# registry (versions in scripts/vendor/package.json and its lock file), copied next to the decks.
build/vendor/.installed: scripts/vendor/package.json scripts/vendor/package-lock.json
	mkdir -p build/vendor
	cp scripts/vendor/package.json scripts/vendor/package-lock.json build/vendor/
	cd build/vendor && npm ci --no-audit --no-fund --silent
	touch $@

slides: venv build/vendor/.installed
	$(PY) -m gpuguide_suite slides --build build --out build/slides

# make test checks the slides too where npm exists (it installs the pinned packages); elsewhere those tests skip.
vendor:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory build/vendor/.installed; \
	else echo "npm not found: the slides tests will skip (make slides needs Node.js and npm)"; fi

# A benchmark, not a test: the cpu profile of 03, 05 and 06, four quiet runs and two with every core busy, into
# docs/results/cpu/stability.md (how often each claim held, how often 06's recommendation agreed). About half an hour.
stability: setup
	$(PY) -m gpuguide_suite stability $(STABILITY_ARGS)

# GPU runs on an air-gapped, throw-away CUDA machine (docs/results/README.md): on a connected machine,
# `make gpu-wheelhouse` fills .whl/; on the GPU machine (Python, torch and transformers preinstalled, perhaps no make),
# `python3 scripts/gpu/run.py 1 EXPORT_DIR`, then part 2 with --previous. `make gpu-run PROFILE=cpu` is the dry run.
gpu-wheelhouse:
	scripts/gpu/wheelhouse.sh .whl

PART ?= 1
EXPORT ?= build/gpu-export
GPU_ARGS ?=
gpu-run:
	$(if $(filter cpu,$(PROFILE)),$(PY),$(PYTHON)) scripts/gpu/run.py $(PART) $(EXPORT) \
		--profile $(if $(filter auto,$(PROFILE)),gpu-small,$(PROFILE)) $(GPU_ARGS)

clean:
	rm -rf build .pytest_cache
