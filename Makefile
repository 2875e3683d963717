# Two commands from a fresh clone: `make demo` and `make test`.
# Each creates .venv when missing and installs graphgrad with what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HYPOTHESIS_PROFILE ?= ci
export HYPOTHESIS_PROFILE

.PHONY: demo test test-fast test-reference bench bench-smoke dot chromium playground clean

$(VENV)/.installed-core: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev,plot,examples]"
	touch $@

# graphviz's `dot` renders the pictures; without it the .dot source is still written.
dot:
	@if command -v dot >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "graphviz's dot is missing: installing the Debian package graphviz with apt-get"; \
		apt-get install -y -q graphviz >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q graphviz >/dev/null); \
	else \
		echo "hint: install graphviz (e.g. 'sudo apt-get install graphviz' or 'brew install graphviz') to render SVG graphs"; \
	fi

# Headless Chromium drives the Playground's browser tests (they skip without it, outside CI).
chromium:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "chromium is missing: installing the Debian packages chromium and chromium-driver with apt-get"; \
		apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null); \
	else \
		echo "hint: install chromium and chromium-driver to run the Playground's browser tests"; \
	fi

# The Playground: http://127.0.0.1:8765/ (PLAYGROUND_ARGS="--port 9000 --no-browser" to change).
playground: $(VENV)/.installed-core dot
	$(PY) -m viz.playground $(PLAYGROUND_ARGS)

# The lecture's XOR network (xor_graph.svg), then the Playground spiral showcase
# (graph.svg, boundary.png, loss.png, gradflow.png).
demo: $(VENV)/.installed-core dot
	$(PY) examples/xor.py
	$(PY) examples/spiral.py

test: $(VENV)/.installed-core dot chromium
	$(PY) -m pytest -q

test-fast: $(VENV)/.installed-core
	$(PY) -m pytest -q -x -m "not slow"

# Benchmarks: TensorFlow, PyTorch, JAX, MyGrad and micrograd live in their own venv so they never
# change the numpy that the main .venv tests against.
BENCH_VENV := .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python
# OPENBLAS_CORETYPE/L2_SIZE slow a current numpy; they are unset for the benchmark command only.
# One thread for every framework by default: on a shared 2-core machine, 2-thread BLAS/OpenMP pools
# stall in spin-waits whenever another process holds a core (BENCH_THREADS=2 make bench for both).
BENCH_THREADS ?= 1
BENCH_ENV := env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=$(BENCH_THREADS) \
	MKL_NUM_THREADS=$(BENCH_THREADS) OPENBLAS_NUM_THREADS=$(BENCH_THREADS)

$(BENCH_VENV)/.installed-bench: pyproject.toml
	test -x $(BENCH_PY) || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install -q --upgrade pip
	$(BENCH_PY) -m pip install -q -e ".[bench]"
	touch $@

bench: $(BENCH_VENV)/.installed-bench
	$(BENCH_ENV) $(BENCH_PY) -m benchmarks.run --threads $(BENCH_THREADS) --out benchmarks

# The optional reference tests against real PyTorch (layers, losses, optimizers with copied
# weights) run in the benchmark venv, the one that has torch.
test-reference: $(BENCH_VENV)/.installed-bench
	$(BENCH_PY) -m pytest -q -m reference tests/test_nn_reference_torch.py

bench-smoke: $(VENV)/.installed-core
	$(PY) -m benchmarks.run --smoke --out "$$(mktemp -d)"

clean:
	rm -rf $(VENV) .hypothesis .pytest_cache *.egg-info
