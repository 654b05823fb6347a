# One command installs and runs the tests on a fresh machine: `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED_TIKTOKEN := $(abspath ../shared/tiktoken-cache)
ifneq ($(wildcard $(SHARED_TIKTOKEN)),)
export TIKTOKEN_CACHE_DIR ?= $(SHARED_TIKTOKEN)
endif
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install system-deps test lint format run ingest bench bench-scale bench-load bench-web screenshots eval clean

$(BIN)/activate:
	$(PY) -m venv $(VENV)

# torch is pinned first: the CPU wheel. An unpinned torch pulls several GB of CUDA packages.
$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/python -m tutor.onnx_export
	touch $@

install: $(VENV)/.installed

# Browser tests drive Debian's chromium (no browser downloads). Without --no-install-recommends
# apt pulls about 120 packages (avahi, samba libraries, cups) and upgrades systemd.
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else echo "chromium is missing: sudo apt-get install --no-install-recommends chromium (browser tests will be skipped)"; fi; }

test: install system-deps
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check tutor tests evals web
	$(BIN)/ruff format --check tutor tests evals web
	$(BIN)/mypy

format: install
	$(BIN)/ruff format tutor tests evals web
	$(BIN)/ruff check --fix tutor tests evals web

ingest: install
	$(BIN)/tutor ingest

run: install ingest
	$(BIN)/tutor serve --host $(HOST) --port $(PORT)

bench: install
	$(BIN)/python evals/bench_retrieval.py
	$(BIN)/python evals/bench_ask.py
	$(BIN)/python evals/bench_embed.py
	$(BIN)/python evals/bench_dedup.py

# The knowledge base at 100, 3,000 and 50,000 chunks (about 30 minutes on 2 cores).
bench-scale: install
	$(BIN)/python evals/bench_scale.py

# tutor serve under 20, 50, 100 and 200 learners; WORKERS=2 for two server processes.
WORKERS ?= 1
bench-load: install
	$(BIN)/python evals/bench_load.py --workers $(WORKERS)

bench-web: install
	$(BIN)/python -m web.bench_web

screenshots: install system-deps
	$(BIN)/python -m web.screenshots

eval: install
	$(BIN)/tutor eval

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
