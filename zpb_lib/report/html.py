"""Safe HTML building blocks for the report notebooks.

Reports travel by e-mail to schools and partners, and institution or partner names come from data
that anyone may have typed (``<script>alert(1)</script> & „Szkoła” <b>x</b>`` must show as text).
So every builder escapes whatever it is given, unless it is already :class:`Html` — markup that one
of these builders made. Notebooks never format HTML strings themselves.

:class:`Html` has ``_repr_html_`` so that Jupyter (and nbconvert) show it as HTML, and
``__html__`` so that Jinja2 and MarkupSafe treat it as safe.

CSS class names used, following the class contract at the top of
``zpb_lib/templates/zpb/static/report.css``:

``zpb-banner`` (synthetic data; ``data-short`` = shorter text for the printed page header),
``zpb-note`` and ``zpb-note zpb-error`` (other notices), ``zpb-key-figures`` > ``zpb-tile``
(``zpb-tile-label``, ``zpb-tile-value``, ``zpb-tile-note``), ``zpb-table-wrap`` (scroll container
on narrow screens, focusable), ``zpb-table``, ``zpb-num`` (right-aligned numeric cells and their
headers), ``zpb-missing`` (cells showing "—"), ``zpb-empty`` (the row of an empty table),
``zpb-footnotes`` > ``zpb-footnote``, ``zpb-heading``, ``zpb-paragraph``, ``zpb-dl``,
``zpb-footer`` (``zpb-footer__meta``, ``zpb-footer__methodology``), ``zpb-legend``,
``zpb-mark`` with ``zpb-mark-up`` / ``zpb-mark-down`` (the arrow's direction) and
``zpb-mark-better`` / ``zpb-mark-worse`` (whether that is good: for "experienced violence" up is
worse, so colour should follow better/worse, not up/down; ``zpb-mark-sign`` holds the "+"/"–"
that says it without colour), ``zpb-sr-only`` (text for screen readers only), and from
:mod:`.charts`: ``zpb-figure`` (``zpb-figure--parts``, ``zpb-figure__whole``,
``zpb-figure__parts``, ``zpb-figure__part``).
"""
from __future__ import annotations

import datetime as dt
import html as _html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from zpb_lib.core import fmt
from zpb_lib.domain.labels import label

Formatter = Callable[[Any], "str | Html"]
#: A tall chart's rendition for paper (:meth:`.charts.Chart.to_html`): the container and each part
#: after the first; :data:`PRINT_PARTS` finds a whole container in a page.
PARTS_CLASS = "zpb-figure__parts"
PART_CLASS = "zpb-figure__part"
PRINT_PARTS = re.compile(rf'<span class="{PARTS_CLASS}" aria-hidden="true">'
                         rf'(?:<img [^>]*>|<span class="{PART_CLASS}" [^>]*></span>)*</span>')
BANNER_KINDS = ("synthetic", "note", "warning")
_BANNER_CLASSES = {"synthetic": "zpb-banner", "note": "zpb-note", "warning": "zpb-note zpb-error"}


class Html(str):
    """A string of trusted markup (made by the builders here); everything else gets escaped."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        return str(self)

    def __html__(self) -> str:
        return str(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        # Jupyter stores a text/plain beside the text/html of every output; as a str the markup
        # would be stored twice, charts included. Its words read better in a terminal and a diff.
        p.text(plain_text(self))


class HtmlWithMetadata(Html):
    """Trusted markup that Jupyter displays with output metadata (e.g. ``{"zpb": {"title": …}}``,
    which the report template reads), as ``display(html, metadata=…)`` would."""

    def __new__(cls, markup: str, metadata: dict[str, Any] | None = None) -> "HtmlWithMetadata":
        obj = super().__new__(cls, markup)
        obj.display_metadata = dict(metadata or {})
        return obj

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict[str, str], dict[str, Any]]:
        return {"text/html": str(self)}, self.display_metadata


def with_metadata(markup: Html, metadata: dict[str, Any]) -> Html:
    """``markup`` displayed with ``metadata`` as its output metadata."""
    return HtmlWithMetadata(markup, metadata)


# --------------------------------------------------------------------------- plain text

_LINE_TAGS = frozenset({"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "li", "dt", "dd", "caption",
                        "figcaption", "figure", "table", "dl", "ul", "ol", "footer", "header", "section",
                        "main", "br"})
_CELL_TAGS = frozenset({"td", "th"})
_UNREAD_TAGS = frozenset({"style", "script", "template"})
_VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
                        "track", "wbr"})


class _PlainText(HTMLParser):
    """The words of a fragment as a screen reader gets them: text, image alt texts in brackets, table
    cells separated by " | ", what is ``aria-hidden`` left out (the symbol of a mark, a chart's
    parts for paper) and its words for screen readers kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._open: list[tuple[str, bool]] = []  # open elements: (tag, whether it hides its content)
        self._hidden = 0

    def _break(self) -> None:
        text = " ".join("".join(self._line).split())
        if text:
            self.lines.append(text)
        self._line = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if not self._hidden:
            if tag in _LINE_TAGS:
                self._break()
            elif tag in _CELL_TAGS and "".join(self._line).strip():
                self._line.append(" | ")
            elif tag == "img" and (a.get("alt") or "").strip():
                self._line.append(f" [{(a.get('alt') or '').strip()}] ")
        if tag not in _VOID_TAGS:
            hides = tag in _UNREAD_TAGS or a.get("aria-hidden") == "true"
            self._open.append((tag, hides))
            self._hidden += hides

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID_TAGS:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if not any(t == tag for t, _ in self._open):
            return
        while self._open:
            t, hides = self._open.pop()
            self._hidden -= hides
            if t == tag:
                break
        if not self._hidden and tag in _LINE_TAGS:
            self._break()

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._line.append(data)


def plain_text(markup: str) -> str:
    """The text of an HTML fragment, one line per block (paragraph, heading, table row, list item),
    with images as their alt text in brackets: what Jupyter stores as an output's ``text/plain``."""
    parser = _PlainText()
    parser.feed(markup)
    parser.close()
    parser._break()
    return "\n".join(parser.lines)


def esc(x: Any) -> Html:
    """``x`` as HTML text: Html passes through, so do objects that render themselves (``__html__``,
    the MarkupSafe convention: charts), missing values become "—", the rest is escaped."""
    if isinstance(x, Html):
        return x
    if hasattr(x, "__html__"):
        return Html(x.__html__())
    if fmt.is_missing(x):
        return Html(fmt.MISSING)
    return Html(_html.escape(str(x), quote=True))


def concat(*parts: Any) -> Html:
    """Parts joined into one Html (text parts escaped, charts and Html kept): the way to put
    blocks together."""
    return Html("".join(esc(p) for p in parts if p is not None))


def _attrs(**attrs: Any) -> str:
    """`` name="value"`` pairs, escaped; None values are left out, ``class_`` becomes ``class``."""
    out = []
    for name, value in attrs.items():
        if value is None:
            continue
        out.append(f' {name.rstrip("_").replace("_", "-")}="{_html.escape(str(value), quote=True)}"')
    return "".join(out)


def heading(text: Any, level: int = 2, id: str | None = None) -> Html:
    """``<hN>``; a report has one h1 and headings in order, which the caller keeps."""
    if not isinstance(level, int) or not 1 <= level <= 6:
        raise ValueError(f"heading level must be 1..6, got {level!r}")
    return Html(f'<h{level}{_attrs(class_="zpb-heading", id=id)}>{esc(text)}</h{level}>')


def paragraph(text: Any, cls: str | None = None) -> Html:
    classes = "zpb-paragraph" + (f" {cls}" if cls else "")
    return Html(f'<p{_attrs(class_=classes)}>{esc(text)}</p>')


def banner(text: Any, kind: str = "synthetic", short: Any = None) -> Html:
    """A notice readers must not miss, ``role="note"``. ``kind="synthetic"`` is the synthetic-data
    banner (the print CSS repeats it, or ``short``, in every page header); "note" and "warning"
    are other notices."""
    if kind not in BANNER_KINDS:
        raise ValueError(f"banner kind must be one of {', '.join(BANNER_KINDS)}, got {kind!r}")
    attrs = _attrs(class_=_BANNER_CLASSES[kind], role="note", data_short=None if short is None else str(short))
    return Html(f"<div{attrs}><p>{esc(text)}</p></div>")


@dataclass(frozen=True)
class KeyFigure:
    label: Any
    value: Any
    note: Any = None


def _key_figure(item: KeyFigure | Sequence[Any] | Mapping[str, Any]) -> KeyFigure:
    if isinstance(item, KeyFigure):
        return item
    if isinstance(item, Mapping):
        return KeyFigure(item["label"], item["value"], item.get("note"))
    return KeyFigure(*item)


def key_figures(items: Iterable[KeyFigure | Sequence[Any] | Mapping[str, Any]]) -> Html:
    """Tiles of (label, value, optional note) as a description list, so that each value is read
    with its label by screen readers and in the plain-text export."""
    tiles = []
    for it in map(_key_figure, items):
        note = "" if it.note is None else f'<dd class="zpb-tile-note">{esc(it.note)}</dd>'
        tiles.append(f'<div class="zpb-tile"><dt class="zpb-tile-label">{esc(it.label)}</dt>'
                     f'<dd class="zpb-tile-value">{esc(it.value)}</dd>{note}</div>')
    return Html(f'<dl class="zpb-key-figures">{"".join(tiles)}</dl>')


def definition_list(items: Mapping[Any, Any] | Iterable[tuple[Any, Any]]) -> Html:
    pairs = items.items() if isinstance(items, Mapping) else items
    body = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in pairs)
    return Html(f'<dl class="zpb-dl">{body}</dl>')


# --------------------------------------------------------------------------- tables

def default_formatter(lang: str = "pl") -> Formatter:
    """How a cell is shown when its column has no formatter: numbers, dates and booleans in the
    language's format, missing as "—", anything else as text."""
    def show(v: Any) -> str:
        if fmt.is_missing(v):
            return fmt.MISSING
        if isinstance(v, (bool, np.bool_)):
            return label("misc.yes" if v else "misc.no", lang)
        if isinstance(v, (int, float, np.integer, np.floating)):
            f = float(v)
            return fmt.number(f, 0 if f.is_integer() else 1, lang)
        if isinstance(v, (dt.date, pd.Timestamp)):
            return fmt.date(v, lang)
        return str(v)
    return show


@dataclass(frozen=True)
class Column:
    """A table column: header, how its cells are shown, right-aligned or not. With ``row=True``
    the formatter gets the whole row (a dict) instead of one value: for cells made from several
    columns, such as a value with its significance mark (Html kept in a DataFrame does not
    survive pandas 3, which stores text as plain ``str``; it would be escaped, safely but
    visibly)."""

    header: Any
    format: Formatter | None = None
    numeric: bool = False
    row: bool = False


def _columns(columns: Mapping[str, Any] | Sequence[str], numeric: Iterable[str]) -> dict[str, Column]:
    """``{key: Column}`` from ``[col, …]``, ``{col: header}``, ``{col: (header, formatter)}`` or
    ``{key: Column(…)}``."""
    if not isinstance(columns, Mapping):
        columns = {c: c for c in columns}
    numeric = set(numeric)
    out = {}
    for key, spec in columns.items():
        if isinstance(spec, Column):
            col = spec
        elif isinstance(spec, tuple):
            col = Column(*spec)
        else:
            col = Column(spec)
        if col.format is not None and not callable(col.format):
            raise TypeError(f"formatter of column {key!r} is not callable: {col.format!r}")
        out[key] = Column(col.header, col.format, col.numeric or key in numeric, col.row)
    return out


def _cell(key: str, col: Column, row: dict[str, Any], default: Formatter, row_header: str | None) -> str:
    shown = (col.format or default)(row if col.row else row[key])
    is_missing = str(shown) == fmt.MISSING
    classes = " ".join(c for c, on in (("zpb-num", col.numeric), ("zpb-missing", is_missing)) if on) or None
    tag, scope = ("th", "row") if key == row_header else ("td", None)
    return f"<{tag}{_attrs(scope=scope, class_=classes)}>{esc(shown)}</{tag}>"


def table(df: pd.DataFrame, columns: Mapping[str, Any] | Sequence[str], caption: Any = None,
          numeric: Iterable[str] = (), footnotes: Iterable[Any] = (), row_header: str | None = None,
          lang: str = "pl") -> Html:
    """A real data table: ``<caption>``, ``<th scope="col">`` headers, optional ``<th scope="row">``
    row headers (column ``row_header``), numeric columns right-aligned (class ``zpb-num``).

    ``columns`` maps a data column to its header, to ``(header, formatter)`` where the formatter
    turns a value into text (escaped) or :class:`Html` (kept), or to a :class:`Column`. Columns
    without a formatter use :func:`default_formatter`. Footnotes go below the table, outside it,
    so that a long table split across PDF pages does not repeat them on every page.
    """
    cols = _columns(columns, numeric)
    missing = [k for k, c in cols.items() if not c.row and k not in df.columns]
    if missing:
        raise KeyError(f"table has no column(s) {', '.join(map(repr, missing))} "
                       f"(columns: {', '.join(map(str, df.columns))})")
    if row_header is not None and row_header not in cols:
        raise KeyError(f"row_header {row_header!r} is not one of the shown columns")
    default = default_formatter(lang)
    head = "".join(f'<th scope="col"{_attrs(class_="zpb-num" if c.numeric else None)}>{esc(c.header)}</th>'
                   for c in cols.values())
    names = list(df.columns)
    rows = [f"<tr>{''.join(_cell(k, c, dict(zip(names, rec)), default, row_header) for k, c in cols.items())}</tr>"
            for rec in df.itertuples(index=False, name=None)]
    if not rows:
        rows.append(f'<tr><td class="zpb-empty" colspan="{len(cols)}">{esc(label("misc.empty", lang))}</td></tr>')
    cap = "" if caption is None else f"<caption>{esc(caption)}</caption>"
    notes = [f'<p class="zpb-footnote">{esc(n)}</p>' for n in footnotes]
    foot = f'<div class="zpb-footnotes">{"".join(notes)}</div>' if notes else ""
    region = _attrs(class_="zpb-table-wrap", role="region", tabindex="0",
                    aria_label=None if caption is None else str(caption))
    return Html(f'<div{region}><table class="zpb-table">{cap}<thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(rows)}</tbody></table>{foot}</div>')


# --------------------------------------------------------------------------- marks and footer

# Whether a significant change is good, as the Dutch Veiligheidsmonitor marks it: "+" better, "–" worse.
SIGNS = {"better": "+", "worse": "\u2013"}


def mark(diff: Any, significant: Any, direction: str | None = None, lang: str = "pl") -> Html:
    """▲ or ▼ (up or down) for a significant change (empty otherwise), followed by "+" when the
    change is an improvement or "–" when it is a deterioration (``direction`` "better"/"worse", as
    in the cube: for "experienced violence" up is worse), with the same in words for screen
    readers. Shape and sign carry the meaning, so a greyscale print tells better from worse;
    the classes ``zpb-mark-better``/``zpb-mark-worse`` add colour on top."""
    if fmt.is_missing(diff) or fmt.is_missing(significant) or not bool(significant) or float(diff) == 0:
        return Html("")
    up = float(diff) > 0
    words = label("mark.up" if up else "mark.down", lang)
    classes = f"zpb-mark zpb-mark-{'up' if up else 'down'}"
    sign = ""
    if direction in ("better", "worse"):
        classes += f" zpb-mark-{direction}"
        words += f" ({label('mark.' + direction, lang)})"
        sign = f'<span class="zpb-mark-sign" aria-hidden="true">{SIGNS[direction]}</span>'
    symbol = "\u25b2" if up else "\u25bc"
    return Html(f'<span class="{classes}"><span aria-hidden="true">{symbol}</span>{sign}'
                f'<span class="zpb-sr-only"> {esc(words)}</span></span>')


def with_mark(text: Any, diff: Any, significant: Any, direction: str | None = None, lang: str = "pl") -> Html:
    """A cell value followed by its significance mark (for table formatters); a value not shown
    ("—") gets no mark either."""
    m = Html("") if str(text) == fmt.MISSING else mark(diff, significant, direction, lang)
    return concat(text, Html("\u00a0") if m else None, m)


def significance_legend(lang: str = "pl") -> Html:
    return Html(f'<p class="zpb-legend">{esc(label("legend.significance", lang))}</p>')


def footer(meta: Mapping[str, Any], lang: str = "pl") -> Html:
    """Provenance and method: edition, data hash, generation time (all shown when present in
    ``meta``, as in the cube's ``meta``) and the methodology text (``meta["methodology"]``, or the
    standard one filled with ``meta["threshold"]``)."""
    rows = []
    edition = meta.get("edition")
    if edition is not None:
        roman = meta.get("edition_roman")
        rows.append((label("footer.edition", lang), f"{roman} ({edition})" if roman else edition))
    if meta.get("data_hash") is not None:
        rows.append((label("footer.data_hash", lang), meta["data_hash"]))
    if meta.get("reference_hash") is not None:
        rows.append((label("footer.reference_hash", lang), meta["reference_hash"]))
    if meta.get("generated_at") is not None:
        rows.append((label("footer.generated", lang), fmt.timestamp(meta["generated_at"], lang)))
    method = meta.get("methodology")
    if method is None:
        method = label("methodology.text", lang, threshold=meta.get("threshold", 10))
    body = (f'<dl class="zpb-dl zpb-footer__meta">{"".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)}</dl>'
            f'<p class="zpb-footer__methodology"><strong>{esc(label("footer.methodology", lang))}:</strong> '
            f"{esc(method)}</p>")
    return Html(f'<footer class="zpb-footer">{body}</footer>')
