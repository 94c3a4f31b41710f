"""The package's layers (pyproject.toml, [tool.importlinter]) hold: no module imports from a layer
above its own, inside a function or not."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["cli", "explore", "services", "batch", "report", "ingest", "domain", "store", "reference", "core"]
RANK = {"cli": 0, "explore": 0, "services": 1, "batch": 2, "report": 3, "ingest": 3, "domain": 4, "store": 5,
        "reference": 6, "core": 7}


def test_the_layers_contract_is_kept():
    done = subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("zpb_lib."):
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names if a.name.startswith("zpb_lib.")]
    return out


def test_no_import_runs_up_a_layer_counted_independently():
    """The same rule, read from the source with ast rather than by import-linter: a second opinion
    that also fails if the contract in pyproject.toml were loosened."""
    upward = []
    for path in (ROOT / "zpb_lib").rglob("*.py"):
        layer = path.relative_to(ROOT / "zpb_lib").parts[0]
        if layer not in RANK:
            continue
        for module in _imports(path):
            target = module.split(".")[1]
            if target in RANK and RANK[target] < RANK[layer]:
                upward.append(f"{path.relative_to(ROOT)} → {module}")
            if target in RANK and RANK[target] == RANK[layer] and target != layer:
                upward.append(f"{path.relative_to(ROOT)} → {module} (siblings stay independent)")
    assert upward == []
    assert set(RANK) == set(LAYERS) and all((ROOT / "zpb_lib" / name).is_dir() for name in LAYERS)
