"""The report cube's file: a SQLite file of tidy tables (one per cube table, an index on the
columns reports filter by), a ``_columns`` table naming each column's dtype so that a read restores
it, and a ``_meta`` table of JSON values. :mod:`zpb_lib.domain.cube` decides what goes in and which
version it reads; this module owns the file, so that SQLite is opened only inside the store."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from zpb_lib.core.files import atomic_path
from zpb_lib.core.hooks import pause_point

#: What reading a file that is not a cube (or a damaged one) raises: SQLite's own error, whose
#: message says what is wrong with the file.
CubeFileError = sqlite3.DatabaseError


def dtype_name(s: pd.Series) -> str:
    """How ``_columns`` records a column's dtype: bool, datetime, Int64, float or str."""
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime"
    if pd.api.types.is_integer_dtype(s):
        return "Int64"
    if pd.api.types.is_float_dtype(s):
        return "float"
    return "str"


def write(path: str | os.PathLike, tables: Mapping[str, pd.DataFrame], meta: Mapping[str, Any],
          indexes: Mapping[str, Sequence[str]]) -> Path:
    """Write a cube file atomically (a temporary file next to it, then a rename; see
    :mod:`zpb_lib.core.files`): on any failure, Ctrl-C included, the temporary file goes and an
    existing file stays as it was. ``indexes``: the columns of each table to index (those a table
    lacks are skipped)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        con = sqlite3.connect(tmp)
        try:
            # A private file until the rename, synced as a whole before it: no rollback journal needed.
            con.execute("PRAGMA journal_mode = OFF")
            con.execute("PRAGMA synchronous = OFF")
            cols = []
            for name, df in tables.items():
                df = df.copy()
                for c in df.columns:
                    kind = dtype_name(df[c])
                    cols.append((name, c, kind))
                    if kind == "datetime":
                        df[c] = df[c].dt.strftime("%Y-%m-%d")
                    elif kind == "str":
                        text = df[c].astype(str).astype(object)  # whole column at once, not a call per value
                        text[df[c].isna().to_numpy()] = None
                        df[c] = text
                    elif kind == "bool":
                        df[c] = df[c].astype("boolean").astype("Int64")
                df.to_sql(name, con, index=False)
                for col in indexes.get(name, ()):
                    if col in df.columns:
                        con.execute(f'CREATE INDEX "{name}_{col}" ON "{name}"("{col}")')
            con.execute("CREATE TABLE _columns (tbl TEXT, col TEXT, dtype TEXT)")
            con.executemany("INSERT INTO _columns VALUES (?, ?, ?)", cols)
            con.execute("CREATE TABLE _meta (key TEXT PRIMARY KEY, value TEXT)")
            con.executemany("INSERT INTO _meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()])
            con.commit()
        finally:
            con.close()
        pause_point("cube")  # tests only: interrupt a build while its cube is half-way to disk
    return path


class CubeFile:
    """A cube file opened read-only: its meta, its columns' dtypes, and its tables by slice."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._con = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        self._dtypes: dict[str, dict[str, str]] | None = None

    def meta(self) -> dict[str, Any]:
        """The ``_meta`` table, each value decoded from JSON."""
        return {k: json.loads(v) for k, v in self._con.execute("SELECT key, value FROM _meta")}

    def dtypes(self) -> dict[str, dict[str, str]]:
        """Each table's columns with the dtype ``_columns`` records, tables and columns in file order."""
        if self._dtypes is None:
            self._dtypes = {}
            for t, c, d in self._con.execute("SELECT tbl, col, dtype FROM _columns"):
                self._dtypes.setdefault(t, {})[c] = d
        return self._dtypes

    def read(self, name: str, **filters: Any) -> pd.DataFrame:
        """Rows of table ``name`` where each ``column=value`` holds (a list/tuple value means IN),
        with the dtypes the cube was written with."""
        dtypes = self.dtypes()
        if name not in dtypes:
            raise KeyError(f"the cube has no table {name!r} (tables: {', '.join(dtypes)})")
        where, params = [], []
        for col, val in filters.items():
            if col not in dtypes[name]:
                raise KeyError(f"table {name!r} has no column {col!r}")
            if isinstance(val, (list, tuple, set)):
                val = list(val)
                where.append(f'"{col}" IN ({", ".join("?" * len(val))})')
                params += [_param(v) for v in val]
            else:
                where.append(f'"{col}" = ?')
                params.append(_param(val))
        sql = f'SELECT * FROM "{name}"' + (" WHERE " + " AND ".join(where) if where else "")
        df = pd.read_sql_query(sql, self._con, params=params)
        for col, kind in dtypes[name].items():
            if col not in df.columns:
                continue
            if kind == "datetime":
                df[col] = pd.to_datetime(df[col], format="%Y-%m-%d")
            elif kind == "bool":
                df[col] = df[col].astype("boolean").astype(bool) if df[col].notna().all() else df[col].astype("boolean")
            elif kind == "Int64":
                df[col] = df[col].astype("Int64")
            elif kind == "float":
                df[col] = df[col].astype(float)
        return df

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "CubeFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _param(v: Any) -> Any:
    """A filter value as SQLite binds it (numpy integers and booleans as int)."""
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, bool):
        return int(v)
    return v
