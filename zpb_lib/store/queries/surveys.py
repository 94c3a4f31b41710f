"""Survey answers counted per (edition, institution, wave, group): one aggregate query over
``survey_responses`` that walks its (edition, institution, group, wave) key index once, so that the
cost is linear in the number of responses. The domain says which columns count as what. And the
responses an import finds already stored, counted per import or per edition."""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from zpb_lib.store.backend import Connection


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _editions_filter(editions: Sequence[str] | None) -> tuple[str, list[str]]:
    """WHERE clause and parameters selecting ``editions`` (all when None, none when empty)."""
    if editions is None:
        return "", []
    if not editions:
        return " WHERE 1 = 0", []
    return f" WHERE edition IN ({', '.join('?' * len(editions))})", list(editions)


def _blocks(con: Connection, aggregates: list[str], editions: Sequence[str] | None) -> pd.DataFrame:
    """One row per (edition, institution, wave, group) with the given SQL aggregates and the
    institution's county."""
    where, params = _editions_filter(editions)
    sql = (f"SELECT a.*, i.county FROM (SELECT edition, institution_id, wave, grp, {', '.join(aggregates)} "
           f"FROM survey_responses{where} GROUP BY edition, institution_id, grp, wave) AS a "
           "JOIN institutions AS i ON i.id = a.institution_id")
    return con.frame(sql, params)


def answer_counts(con: Connection, items: Sequence[tuple[str, Sequence[int]]],
                  editions: Sequence[str] | None = None) -> pd.DataFrame:
    """For each item ``i`` of ``items`` (its answer column, the answers that count as positive):
    ``n{i}`` the respondents who answered it and ``k{i}`` those whose answer is positive, per
    edition, institution_id, wave and grp, with the institution's county; ``editions``: those only
    (None: all)."""
    aggs = []
    for i, (column, positive) in enumerate(items):
        col = _quote(column)
        values = ", ".join(str(int(v)) for v in positive)
        aggs.append(f"SUM(CASE WHEN {col} IN ({values}) THEN 1 ELSE 0 END) AS k{i}")
        aggs.append(f"COUNT({col}) AS n{i}")
    return _blocks(con, aggs, editions)


def choice_counts(con: Connection, answered: Sequence[str], chosen: Sequence[str],
                  editions: Sequence[str] | None = None) -> pd.DataFrame:
    """For a multiple-choice question stored as one 0/1 column per choice: ``n`` the respondents
    with any of the ``answered`` columns not NULL, and ``k{i}`` those with ``chosen[i]`` = 1, per
    edition, institution_id, wave and grp, with the institution's county; ``editions``: those only
    (None: all)."""
    any_answer = " OR ".join(f"{_quote(c)} IS NOT NULL" for c in answered)
    aggs = [f"SUM(CASE WHEN {any_answer} THEN 1 ELSE 0 END) AS n"]
    aggs += [f"SUM(CASE WHEN {_quote(c)} = 1 THEN 1 ELSE 0 END) AS k{i}" for i, c in enumerate(chosen)]
    return _blocks(con, aggs, editions)


def responses_per_import(con: Connection, institution_id: int, edition: str, group: str,
                         wave: str) -> list[tuple[int | None, int, str | None]]:
    """Responses stored for one target (institution, edition, group, wave), per import: ``(import
    id, count, the import's file name)`` (both None for responses not stored by an import)."""
    return con.execute(
        "SELECT r.import_id, COUNT(*), i.file_name FROM survey_responses r LEFT JOIN imports i ON i.id = r.import_id "
        "WHERE r.institution_id = ? AND r.edition = ? AND r.grp = ? AND r.wave = ? GROUP BY r.import_id, i.file_name",
        (institution_id, edition, group, wave)).fetchall()


def responses_per_edition(con: Connection, institution_ids: Sequence[int]) -> list[tuple[int, str, int]]:
    """Responses stored for these institutions, as ``(institution_id, edition, count)``."""
    if not institution_ids:
        return []
    marks = ", ".join("?" * len(institution_ids))
    return con.execute(f"SELECT institution_id, edition, COUNT(*) FROM survey_responses WHERE "
                       f"institution_id IN ({marks}) GROUP BY institution_id, edition", list(institution_ids)
                       ).fetchall()


def respondents(con: Connection, edition: str) -> list[tuple[int, str, str, int]]:
    """Responses stored for ``edition``, as ``(institution_id, group, wave, count)``: the
    respondents so far of each survey an institution ran."""
    return con.execute("SELECT institution_id, grp, wave, COUNT(*) FROM survey_responses WHERE edition = ? "
                       "GROUP BY institution_id, grp, wave", (edition,)).fetchall()
