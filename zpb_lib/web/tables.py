"""HTML tables of the web app's pages: a header row of column headers (``scope="col"``) and an
optional caption, so that screen readers name each cell's column."""
from __future__ import annotations

from html import escape
from typing import Any


class Raw(str):
    """A cell's HTML, made safe by whoever made it (a link): :func:`html_table` puts it as it is."""


def cell(value: Any) -> str:
    return value if isinstance(value, Raw) else escape("" if value is None else str(value))


def html_table(headers: list[str], rows: list[list[Any]], caption: str = "") -> str:
    """Every cell escaped, but those given as :class:`Raw`."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r) + "</tr>" for r in rows)
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f'<table class="zpb-table">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
