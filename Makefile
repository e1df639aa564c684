# livecs — two commands on a fresh machine:
#   make demo   runs a simulated broadcast through the pipeline (embedded bus + SQLite; no server needed)
#   make test   runs the test suite (starts/installs Redis if needed)
# Both create .venv and install the pinned requirements first.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
ARGS   ?=
PYTEST_ARGS ?=

.PHONY: demo test lint venv dev-venv redis chromium clean douyin-proto

$(VENV)/.runtime: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.runtime
dev-venv: $(VENV)/.dev

demo: $(VENV)/.runtime
	$(PY) run.py demo $(ARGS)

redis:
	@tools/ensure-redis.sh

chromium:
	@tools/ensure-chromium.sh

lint: $(VENV)/.dev
	$(PY) -m ruff check livecs tests run.py
	$(PY) -m ruff format --check livecs tests run.py
	$(PY) -m mypy livecs

test: $(VENV)/.dev redis chromium
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache data/livecs.db*

# Regenerate livecs/ingest/douyin/webcast_pb2.py(i) from webcast.proto (grpcio-tools bundles protoc; it is
# a build tool only, installed into a scratch directory, not a runtime requirement).
douyin-proto:
	$(PY) -m pip install -q --target /tmp/livecs-grpc-tools grpcio-tools==1.85.1 protobuf==7.36.2
	PYTHONPATH=/tmp/livecs-grpc-tools $(PY) -m grpc_tools.protoc -I . --python_out=. --pyi_out=. \
		livecs/ingest/douyin/webcast.proto
