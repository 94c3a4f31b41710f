# Two commands do everything on a fresh machine: `make reports` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= data/zpb.sqlite
STAMP  := $(VENV)/.installed

.PHONY: reports test lab db venv clean

venv: $(STAMP)

# Reinstall when the project's metadata changes; the package itself is installed editable.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name zpb --display-name "Python (zpb)" >/dev/null
	touch $(STAMP)

$(DB): | $(STAMP)
	$(BIN)/zpb demo --db $(DB)

db: $(DB)

reports: $(STAMP) $(DB)
	$(BIN)/zpb db info --db $(DB)

test: $(STAMP)
	$(BIN)/python -m pytest

lab: $(STAMP) $(DB)
	ZPB_DB=$(abspath $(DB)) $(BIN)/jupyter lab --notebook-dir=. notebooks/

clean:
	rm -rf $(VENV) reports/[0-9]* .pytest_cache
