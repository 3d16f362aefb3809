# chatapp: `make run` serves on http://127.0.0.1:8000 (`make run PORT=8080 HOST=0.0.0.0` for
# another); `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint desktop bench screenshots schema clean

# The stamps re-install when setup.cfg changes.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-base: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[desktop,dev]'
	touch $@ $(VENV)/.installed-base

# HOST and PORT become flags only when given, so gunicorn.conf.py's bind applies otherwise.
run: $(VENV)/.installed-base
	$(BIN)/chatapp serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

test: $(VENV)/.installed-dev lint
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

desktop: $(VENV)/.installed-dev
	$(BIN)/chatapp-desktop

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

screenshots: $(VENV)/.installed-dev
	xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python scripts/screenshots.py

schema: $(VENV)/.installed-base
	CHATAPP=$(BIN)/chatapp scripts/generate_schema_sql.sh

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
