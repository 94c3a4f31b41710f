"""The „Mój powiat” tab's tables as HTML, and the search, filters and sort of its institutions: pure
functions of a :class:`~zpb_lib.services.due.Desk`, so that they are tested without a server.

An HTML table rather than Panel's Tabulator: Tabulator's grid fails axe-core (header filters without
labels, a grid whose children have roles the grid may not hold), and a coordinator may read the page
with a screen reader."""
from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any, Callable, Iterable
from urllib.parse import urlencode

from zpb_lib.core import fmt
from zpb_lib.domain.due import KINDS
from zpb_lib.domain.labels import county_name, label
from zpb_lib.domain.scoring.lifecycle import STATUSES
from zpb_lib.services.due import Desk, DeskRow, DueItem, Figures
from zpb_lib.web.tables import Raw
from zpb_lib.web.texts import t

# Any due item at all (the due filter's second choice; the others are the kinds of KINDS).
ANY_DUE = "*"
# The key figures shown, in the county report's order, with the report's words where it has a tile.
FIGURE_LABELS = (("institutions", "kf.institutions"), ("participating", "kf.participating"),
                 ("certified", "col.certified"), ("extended", "col.extended"), ("valid_awards", "kf.valid_awards"),
                 ("leaders", "kf.leaders"), ("audits", "kf.audits"), ("granted", "kf.granted"))


def _ident_key(ident: str) -> tuple[int, int, str]:
    """RSPO numbers in numeric order, POL-on ids after them."""
    return (0, int(ident), "") if ident.isdigit() else (1, 0, ident)


def _last_date(r: DeskRow) -> dt.date | None:
    return r.last_audit.date if r.last_audit else None


# What the table sorts by: a key of a row for each column, None (no value) sorting last either way.
SORTS: dict[str, Callable[[DeskRow], Any]] = {
    "name": lambda r: r.name.casefold(),
    "ident": lambda r: _ident_key(r.ident),
    "locality": lambda r: r.locality.casefold(),
    "county": lambda r: r.county,
    "since": lambda r: r.joined_edition,
    "stage": lambda r: STATUSES.index(r.stage) if r.stage in STATUSES else len(STATUSES),
    "valid_until": lambda r: r.valid_until,
    "last_audit": _last_date,
    "due": lambda r: len(r.due) or None,
}


def matches(row: DeskRow, words: Iterable[str]) -> bool:
    """Whether every word is in the row's RSPO number (or POL-on id), name or locality."""
    text = f"{row.ident} {row.name} {row.locality}".casefold()
    return all(w in text for w in words)


def filtered(rows: Iterable[DeskRow], query: str = "", stage: str = "", due: str = "") -> list[DeskRow]:
    """The rows whose RSPO number, name or locality hold every word of ``query``, of ``stage`` (a
    status code; empty: any), with something due (``due``: :data:`ANY_DUE`, a kind of item, or empty
    for every row)."""
    words = query.casefold().split()
    return [r for r in rows if matches(r, words) and (not stage or r.stage == stage)
            and (not due or (r.due and (due == ANY_DUE or any(i.kind == due for i in r.due))))]


def sorted_rows(rows: Iterable[DeskRow], by: str = "name", descending: bool = False) -> list[DeskRow]:
    """The rows sorted by a column of :data:`SORTS` (then by name and number); those without a value
    in that column last, whichever the direction."""
    key = SORTS[by]
    rows = sorted(rows, key=lambda r: (r.name.casefold(), _ident_key(r.ident)))
    known = [r for r in rows if key(r) is not None]
    return sorted(known, key=key, reverse=descending) + [r for r in rows if key(r) is None]


def open_link(ident: str, lang: str) -> str:
    """The address that opens the app on the institution's page (in the Szkoły tab)."""
    return "?" + urlencode({"lang": lang, "school": ident})


def stage_text(row: DeskRow, lang: str) -> str:
    stage = label(f"status.{row.stage}", lang)
    return label("misc.status_via_complex", lang, status=stage) if row.via_complex else stage


def last_audit_text(row: DeskRow, lang: str) -> str:
    """``audyt kontrolny, 15.05.2024 (2023/2024): 95 / 100 pkt``; empty when it has none."""
    a = row.last_audit
    if a is None:
        return ""
    kind = label(f"audit_kind.{a.kind}", lang)
    return t("desk_last_audit", lang, kind=kind, date=fmt.date(a.date, lang), edition=a.edition,
             total=fmt.integer(a.total, lang), max=fmt.integer(a.max_total, lang))


def due_text(row: DeskRow, lang: str) -> str:
    """The kinds of what is due for the row, each once, in the order of :data:`KINDS`."""
    kinds = {i.kind for i in row.due}
    return "; ".join(label(f"due_kind.{k}", lang) for k in KINDS if k in kinds)


def row_cells(row: DeskRow, lang: str) -> list[str]:
    """One row of the institutions table as text: RSPO, name, locality, county, since, stage,
    valid to, last audit, what is due."""
    return [row.ident, row.name, row.locality, county_name(row.county, lang),
            row.joined_edition or "", stage_text(row, lang),
            fmt.date(row.valid_until, lang) if row.valid_until else "", last_audit_text(row, lang), due_text(row, lang)]


def _table(headers: list[str], rows: list[str], caption: str, css: str) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    return (f'<table class="zpb-table {css}"><caption>{escape(caption)}</caption>'
            f'<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def name_link(ident: str | None, name: str | None, lang: str) -> Raw:
    """The institution's name as a link that opens its page (its name alone without an identifier)."""
    if not ident:
        return Raw(escape(name or ""))
    return Raw(f'<a href="{escape(open_link(ident, lang))}">{escape(name or ident)}</a>')


def _name_cell(ident: str | None, name: str | None, lang: str) -> str:
    return f"<td>{name_link(ident, name, lang)}</td>"


def institutions_table(rows: list[DeskRow], lang: str, caption: str) -> str:
    """The institutions table, each name a link that opens the institution."""
    headers = [t(k, lang) for k in ("col_ident", "col_name", "col_locality", "col_county", "col_since",
                                    "desk_col_stage", "desk_col_valid", "desk_col_last_audit", "desk_col_due")]
    body = []
    for r in rows:
        cells = row_cells(r, lang)
        body.append("<tr>" + f"<td>{escape(cells[0])}</td>" + _name_cell(r.ident, r.name, lang)
                    + "".join(f"<td>{escape(c)}</td>" for c in cells[2:]) + "</tr>")
    return _table(headers, body, caption, "zpb-desk-table")


def items_of(desk: Desk, kind: str = "") -> list[DueItem]:
    """The desk's due items of ``kind`` (empty: every kind)."""
    return [i for i in desk.items if not kind or i.kind == kind]


def items_table(items: list[DueItem], lang: str, caption: str) -> str:
    """What is due, item by item: the kind in words, the institution (a link), the detail."""
    headers = [t("desk_col_kind", lang), t("col_name", lang), t("col_ident", lang), t("desk_col_detail", lang)]
    body = ["<tr>" + f"<td>{escape(label(f'due_kind.{i.kind}', lang))}</td>" + _name_cell(i.ident, i.name, lang)
            + f"<td>{escape(i.ident or '')}</td><td>{escape(i.detail(lang))}</td></tr>" for i in items]
    return _table(headers, body, caption, "zpb-items-table")


def tiles(pairs: Iterable[tuple[str, str]], css: str) -> str:
    """Figures as a description list of tiles: the words, then the number."""
    return f'<dl class="zpb-tiles {css}">' + "".join(
        f'<div class="zpb-tile"><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>' for k, v in pairs) + "</dl>"


def counts_tiles(desk: Desk, lang: str) -> str:
    """Each kind of due item in words with how many there are (0 included)."""
    return tiles(((label(f"due_kind.{k}", lang), fmt.integer(n, lang)) for k, n in desk.counts().items()),
                 "zpb-due-counts")


def figures_tiles(figures: Figures, lang: str) -> str:
    """The county report's key figures, summed over the desk's counties."""
    return tiles(((label(key, lang), fmt.integer(getattr(figures, name), lang)) for name, key in FIGURE_LABELS),
                 "zpb-figures")
