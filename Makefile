# Two commands do everything on a fresh machine: `make reports` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= data/zpb.sqlite
STAMP  := $(VENV)/.installed

.PHONY: reports test lint lab db venv docs clean pdf-references serve

venv: $(STAMP)

# Reinstall when the project's metadata changes; the package itself is installed editable, with the
# test, docs, cluster and web extras (the tests build the user guide and run builds on a local Dask
# cluster; the web extra holds the password hashing of `zpb users`).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -e '.[test,docs,cluster,web]'
	$(BIN)/python -m ipykernel install --sys-prefix --name zpb --display-name "Python (zpb)" >/dev/null
	touch $(STAMP)

$(DB): | $(STAMP)
	$(BIN)/zpb demo --db $(DB)

db: $(DB)

reports: $(STAMP) $(DB)
	$(BIN)/zpb build --db $(DB)

# the 30 slowest tests printed at the end: where the suite's time goes, in every run
test: $(STAMP) tests/a11y/node_modules
	$(BIN)/python -m pytest --durations=30

# The web app on this machine (127.0.0.1, no login) on the demo database.
serve: $(STAMP) $(DB)
	$(BIN)/zpb serve --db $(DB)

# The layers of zpb_lib (pyproject.toml, [tool.importlinter]): no import runs back up.
lint: $(STAMP)
	$(BIN)/lint-imports

# axe-core for the accessibility checks of the browser tests, pinned by the lock file.
tests/a11y/node_modules: tests/a11y/package-lock.json
	cd tests/a11y && npm ci --no-audit --no-fund --loglevel=error && touch node_modules

# The user guide (docs/, mkdocs.yml) into site/; a warning is an error.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site
	@echo "$(abspath site/index.html)"

lab: $(STAMP) $(DB)
	ZPB_DB=$(abspath $(DB)) $(BIN)/jupyter lab --notebook-dir=. notebooks/explore.ipynb $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf $(VENV) reports/[0-9]* .pytest_cache site

# Reference page images of three reports' PDFs for tests/report/test_pdf_look.py: after a report changes on
# purpose, regenerate them and look at tests/fixtures/pdf/*.png before committing.
pdf-references: $(STAMP)
	$(BIN)/python tests/pdf_references.py
