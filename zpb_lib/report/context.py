"""Opening the data a report notebook reads: the cube of its edition.

Under ``zpb build`` the cube is computed once and its path passed in; a notebook run alone (plain
papermill, or JupyterLab) computes the cube from the database into a cache next to it, once per
edition, data version and library version.
"""
from __future__ import annotations

import hashlib

from .. import code_hash
from .. import cube as cube_mod
from .. import store
from ..reference import reference


def open_cube(cube: str | None = None, db: str | None = None, edition: str | None = None) -> cube_mod.Cube:
    """The cube at ``cube``, or one computed from ``db`` for ``edition`` (default: latest held)."""
    if cube:
        c = cube_mod.Cube(cube)
    else:
        ref = reference()
        edition = edition or ref.current_edition().edition
        db_path = store.resolve_db_path(db or None).resolve()
        con = store.connect(db_path, readonly=True)
        try:
            data_hash = store.data_version(db_path)
            # The library's code is part of the key: a new version may compute the cube differently.
            key = hashlib.sha256(f"{data_hash}:{cube_mod.reference_hash(ref)}:{code_hash()}:{edition}".encode()
                                 ).hexdigest()[:12]
            path = db_path.parent / ".zpb-cache" / f"cube-{edition.replace('/', '-')}-{key}.sqlite"
            if not path.exists():
                cube_mod.build(con, edition, path, ref=ref, data_hash=data_hash)
        finally:
            con.close()
        c = cube_mod.Cube(path)
    if edition and c.meta.get("edition") != edition:
        raise ValueError(f"cube {c.path} is for edition {c.meta.get('edition')}, not {edition}")
    return c
