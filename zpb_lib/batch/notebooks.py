"""Editable copies of the report notebooks: ``zpb notebooks copy DIR``, then ``zpb build --notebooks DIR``.

The copies are the analyst's own: a copy that was edited is never overwritten without ``--force``.
A copy that was not edited — the same bytes as the shipped notebook, or as the notebook an earlier
``zpb notebooks copy`` put there (recorded in ``DIR/.zpb-notebooks.json``) — is refreshed to the
shipped version, so that after an upgrade of zpb the copies nobody touched follow it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from zpb_lib import version
from zpb_lib.core.files import atomic_write, make_folder
from zpb_lib.batch.plan import NOTEBOOKS, notebooks_dir

#: What ``zpb notebooks copy`` copies: the report notebooks ``zpb build`` runs, and the explorer.
COPIED = (*NOTEBOOKS.values(), "explore.ipynb")
RECORD = ".zpb-notebooks.json"


@dataclass
class CopyResult:
    folder: Path
    copied: list[str] = field(default_factory=list)  # new in the folder
    refreshed: list[str] = field(default_factory=list)  # an unedited copy of another version, replaced
    current: list[str] = field(default_factory=list)  # already the shipped notebook
    overwritten: list[str] = field(default_factory=list)  # edited, replaced because of force
    kept: list[str] = field(default_factory=list)  # edited: left as it is

    @property
    def ok(self) -> bool:
        return not self.kept


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_record(folder: Path) -> dict[str, str]:
    try:
        data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.get("notebooks", {}).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def copy_notebooks(dest: str | Path, *, force: bool = False, source: str | Path | None = None) -> CopyResult:
    """Copy the shipped notebooks (``source``: default :func:`notebooks_dir`) into ``dest`` (created
    if needed). An existing copy that differs from the shipped notebook and from what was copied
    there before is kept (listed in ``kept``) unless ``force``."""
    src = Path(source) if source else notebooks_dir()
    folder = Path(dest)
    make_folder(folder)  # a file in the way: a FolderError that names it
    record = _read_record(folder)
    result = CopyResult(folder)
    new_record: dict[str, str] = {}
    for name in COPIED:
        shipped = (src / name).read_bytes()
        target = folder / name
        if target.exists():
            have = _sha(target.read_bytes())
            if have == _sha(shipped):
                result.current.append(name)
                new_record[name] = have
                continue
            if have == record.get(name):
                bucket = result.refreshed
            elif force:
                bucket = result.overwritten
            else:
                result.kept.append(name)
                if name in record:
                    new_record[name] = record[name]
                continue
        else:
            bucket = result.copied
        with atomic_write(target) as fh:
            fh.write(shipped)
        bucket.append(name)
        new_record[name] = _sha(shipped)
    with atomic_write(folder / RECORD) as fh:
        fh.write((json.dumps({"zpb": version(), "notebooks": new_record}, indent=1, sort_keys=True) + "\n")
                 .encode("utf-8"))
    return result
