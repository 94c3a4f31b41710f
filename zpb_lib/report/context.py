"""Opening the data a report notebook reads: the cube of its edition.

Under ``zpb build`` the cube is computed once and its path passed in; a notebook run alone (plain
papermill, or JupyterLab) computes the cube from the database into a cache next to it, once per
edition, data version and library version. The explorer does the same, and first looks for a cube
a build left (``reports/<edition>/cube.sqlite``) that is still current.

A cube is *current* for a database when its meta names the same edition, cube version, data
version (the database's change counter, see :func:`zpb_lib.store.data_version`), reference hash (the files in ``data/``) and code hash (the
library) as now, with the default threshold and renewal window: then it holds exactly what
computing it again would give.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

from zpb_lib import code_hash
from zpb_lib.domain import cube as cube_mod
from zpb_lib import store
from zpb_lib.core.paths import default_reports_dir
from zpb_lib.reference import Reference, reference
from zpb_lib.domain.stats import DEFAULT_THRESHOLD

CACHE_DIR = ".zpb-cache"


def canonical_edition(edition: str | None, ref: Reference) -> str:
    """The edition as the cube names it ("2025/2026") from any spelling people use ("2025-2026",
    "2025/26", "XIX"); empty: the latest held. A ValueError has one line naming the known ones."""
    if not edition:
        return ref.current_edition().edition
    try:
        return ref.edition_of(edition)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None


def cache_path(db_path: "Path | str", edition: str, data_hash: str, ref: Reference) -> Path:
    """Where a notebook run alone (and the explorer) keeps the cube it computed: next to a database
    file; for a PostgreSQL database, in the checkout (or the current folder) — the data version
    names the database, so caches of several never mix."""
    # The library's code is part of the key: a new version may compute the cube differently.
    key = hashlib.sha256(f"{data_hash}:{cube_mod.reference_hash(ref)}:{code_hash()}:{edition}".encode()).hexdigest()[:12]
    folder = store.folder_of(db_path)
    root = default_reports_dir().parent if folder is None else folder
    return root / CACHE_DIR / f"cube-{edition.replace('/', '-')}-{key}.sqlite"


def _read_meta(path: Path) -> dict[str, Any] | None:
    try:
        with cube_mod.Cube(path) as c:
            return dict(c.meta)
    except Exception:  # missing, half-written by someone else, another cube version, not a cube at all
        return None


def is_current(path: Path, edition: str, data_hash: str, ref: Reference, *, ref_hash: str | None = None,
               lib_hash: str | None = None) -> bool:
    """Whether the cube file at ``path`` holds what computing ``edition`` from the database with
    ``data_hash`` would give now. A cube without a code hash in its meta (written by an older zpb)
    counts only when the build manifest next to it names the current code hash."""
    meta = _read_meta(Path(path))
    if meta is None:
        return False
    ref_hash = ref_hash or cube_mod.reference_hash(ref)
    lib_hash = lib_hash or code_hash()
    if (meta.get("edition") != edition or meta.get("data_hash") != data_hash
            or meta.get("reference_hash") != ref_hash or meta.get("threshold") != DEFAULT_THRESHOLD
            or meta.get("renewal_months") != 12):
        return False
    if "code_hash" in meta:
        return meta["code_hash"] == lib_hash
    try:
        inputs = json.loads((Path(path).parent / "manifest.json").read_text(encoding="utf-8")).get("inputs", {})
    except (OSError, ValueError):
        return False
    return inputs.get("cube_key") == f"{data_hash}:{ref_hash}:{lib_hash}"


def current_cube(db: str | Path | None, edition: str, *, ref: Reference | None = None,
                 candidates: Iterable[str | Path] = (), compute: bool = True) -> Path | None:
    """The path of a current cube of ``edition`` for the database ``db``: the first of ``candidates``
    (e.g. a build's ``reports/2025-2026/cube.sqlite``) that is current, else the cache next to the
    database, computed there first when ``compute`` (else None). The data version is read in the
    snapshot a computed cube is read from, so the cube holds exactly the data its meta names."""
    ref = ref or reference()
    db_path = store.locate(db or None)
    ref_hash, lib_hash = cube_mod.reference_hash(ref), code_hash()
    with store.snapshot(db_path) as (con, data_hash):
        for path in candidates:
            if Path(path).is_file() and is_current(Path(path), edition, data_hash, ref, ref_hash=ref_hash,
                                                    lib_hash=lib_hash):
                return Path(path)
        path = cache_path(db_path, edition, data_hash, ref)
        if path.is_file() and _read_meta(path) is not None:
            return path
        if not compute:
            return None
        cube_mod.build(con, edition, path, ref=ref, data_hash=data_hash, ref_hash=ref_hash)
    return path


def open_cube(cube: str | None = None, db: str | None = None, edition: str | None = None) -> cube_mod.Cube:
    """The cube at ``cube``, or one computed from ``db`` for ``edition`` (default: latest held);
    the edition may be written "2025/2026", "2025-2026", "2025/26" or "XIX"."""
    ref = reference()
    if cube:
        c = cube_mod.Cube(cube)
        if edition:
            edition = canonical_edition(edition, ref)
    else:
        edition = canonical_edition(edition, ref)
        if not ref.edition(edition).held:
            raise ValueError(f"edition {edition} was not held (the programme was suspended); nothing to report")
        c = cube_mod.Cube(current_cube(db, edition, ref=ref))
    if edition and c.meta.get("edition") != edition:
        raise ValueError(f"cube {c.path} is for edition {c.meta.get('edition')}, not {edition}")
    return c
