"""The coordinator's desk (:mod:`zpb_lib.services.due`) as an XLSX workbook, written the way ``zpb export``
writes its sheets (:class:`zpb_lib.report.xlsx.Writer`): title, the synthetic-data banner or the
provenance line, the header in row 4, frozen, with an autofilter; numbers, shares and dates as real
cell values; every text a literal cell. Headers are Polish by default, English with ``lang="en"``."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from zpb_lib.domain.due import KINDS
from zpb_lib.domain.labels import county_name, label, labels_for
from zpb_lib.reference import reference
from zpb_lib.report.xlsx import FMT_DATE, FMT_INT, Col, ExportError, Writer

if TYPE_CHECKING:
    from zpb_lib.services.due import Desk


def write(d: "Desk", path: Path, lang: str = "pl") -> Path:
    if lang not in ("pl", "en"):
        raise ExportError(f"unknown language {lang!r} (pl or en)")
    ref = reference()
    e = ref.edition(d.edition)
    meta = {"edition": d.edition, "edition_roman": e.roman, "synthetic": d.synthetic, "as_of": d.today.isoformat(),
            "data_hash": d.data_version}
    names = [county_name(t, lang, ref) for t in d.counties]
    scope = county_name("12", lang, ref) if d.units is None else ", ".join(names)
    w = Writer(lang, meta, scope, scope)
    yes, no = label("misc.yes", lang), label("misc.no", lang)
    counties = {t: county_name(t, lang, ref) for t in ref.counties}
    kinds = {k: getattr(v, f"name_{lang}") for k, v in ref.kinds.items()}
    statuses, audit_kinds = labels_for("status", lang), labels_for("audit_kind", lang)
    due_kinds = labels_for("due_kind", lang)
    L = lambda key: label(key, lang)  # noqa: E731

    rows = pd.DataFrame([{
        "name": r.name, "ident": r.ident, "register": yes if r.in_register else no, "locality": r.locality,
        "county_label": counties[r.county], "teryt": r.county, "kind_label": kinds.get(r.kind, r.kind),
        "taking_part": yes if r.taking_part else no, "joined": r.joined_edition,
        "stage": label("misc.status_via_complex", lang, status=statuses.get(r.stage, r.stage)) if r.via_complex
        else statuses.get(r.stage, r.stage),
        "valid_until": r.valid_until,
        "last_edition": r.last_audit.edition if r.last_audit else None,
        "last_kind": audit_kinds.get(r.last_audit.kind, r.last_audit.kind) if r.last_audit else None,
        "last_date": r.last_audit.date if r.last_audit else None,
        "last_total": r.last_audit.total if r.last_audit else None,
        "last_max": r.last_audit.max_total if r.last_audit else None,
        "due": "; ".join(dict.fromkeys(due_kinds[i.kind] for i in r.due)) or None} for r in d.rows],
        columns=["name", "ident", "register", "locality", "county_label", "teryt", "kind_label", "taking_part",
                 "joined", "stage", "valid_until", "last_edition", "last_kind", "last_date", "last_total", "last_max",
                 "due"])
    w.table(L("due.sheet.institutions"), L("due.title.institutions"), rows, [
        Col("name", L("col.institution")), Col("ident", L("col.identifier"), "ident"),
        Col("register", L("col.in_register")), Col("locality", L("col.locality")),
        Col("county_label", L("col.county")), Col("teryt", L("col.teryt"), "code"),
        Col("kind_label", L("col.kind")), Col("taking_part", L("col.takes_part")),
        Col("joined", L("col.joined"), "code"), Col("stage", L("col.status")),
        Col("valid_until", L("col.valid_until"), "date"), Col("last_edition", L("due.col.last_audit"), "code"),
        Col("last_kind", L("due.col.last_audit_kind")), Col("last_date", L("col.audit_date"), "date"),
        Col("last_total", L("col.points"), "int"), Col("last_max", L("col.max_points"), "int"),
        Col("due", L("due.col.due"), max_width=80)], freeze_cols=2)

    items = pd.DataFrame([{"kind_label": due_kinds[i.kind], "name": i.name, "ident": i.ident,
                           "county_label": counties.get(i.county) if i.county else None, "teryt": i.county,
                           "detail": i.detail(lang)} for i in d.items],
                         columns=["kind_label", "name", "ident", "county_label", "teryt", "detail"])
    w.table(L("due.sheet.items"), L("due.title.items"), items, [
        Col("kind_label", L("due.col.kind")), Col("name", L("col.institution")),
        Col("ident", L("col.identifier"), "ident"), Col("county_label", L("col.county")),
        Col("teryt", L("col.teryt"), "code"), Col("detail", L("due.col.detail"), max_width=100)], freeze_cols=2)

    groups, waves = labels_for("group", lang), labels_for("wave", lang)
    surveys = pd.DataFrame([{"name": s.name, "ident": s.ident, "county_label": counties[s.county],
                             "group": groups[s.group], "wave": waves[s.wave], "respondents": s.respondents,
                             "pupils": s.pupils, "rate": s.rate, "missing": yes if s.missing else no}
                            for s in d.surveys],
                           columns=["name", "ident", "county_label", "group", "wave", "respondents", "pupils", "rate",
                                    "missing"])
    w.table(L("due.sheet.surveys"), L("due.title.surveys"), surveys, [
        Col("name", L("col.institution")), Col("ident", L("col.identifier"), "ident"),
        Col("county_label", L("col.county")), Col("group", L("col.group")), Col("wave", L("col.wave")),
        Col("respondents", L("col.respondents"), "int"), Col("pupils", L("due.col.pupils"), "int"),
        Col("rate", L("due.col.rate"), "percent"), Col("missing", L("due.col.missing"))], freeze_cols=2)

    figures = pd.DataFrame([{"county_label": counties[t], "teryt": t, **vars(f)} for t, f in d.figures.items()],
                           columns=["county_label", "teryt", "institutions", "participating", "certified", "extended",
                                    "leaders", "valid_awards", "audits", "granted"])
    w.table(L("due.sheet.figures"), L("due.title.figures"), figures, [
        Col("county_label", L("col.county")), Col("teryt", L("col.teryt"), "code"),
        *(Col(k, L(f"col.{k}"), "int") for k in ("institutions", "participating", "certified", "extended",
                                                  "leaders", "valid_awards", "audits", "granted"))], freeze_cols=1)
    _about(w, d, lang, scope)
    w.wb.properties.title = f"{L('due.title')} — {w.edition_label()} — {scope}"
    w.wb.properties.creator = "zpb"
    return w.save(path)


def _about(w: Writer, d: "Desk", lang: str, scope: str) -> None:
    """What the desk is of: edition, scope, its day, the expiry window, the figures' day, the data
    version and the number of items of each kind."""
    ws = w.wb.create_sheet(label("xlsx.sheet.about", lang))
    ws.column_dimensions["A"].width = 42
    ws.column_dimensions["B"].width = 80
    ws.cell(1, 1, f"{label('title.programme', lang)} — {label('due.title', lang)}").font = w.title_font
    row = 3
    if d.synthetic:
        c = ws.cell(2, 1, w.banner_text())
        c.font, c.fill = w.banner_font, w.banner_fill
        row = 4

    def put(key: str, value: object, number_format: str | None = None) -> None:
        nonlocal row
        ws.cell(row, 1, label(key, lang)).font = w.bold
        c = ws.cell(row, 2, value)
        c.alignment = w.wrap_left_top
        if number_format:
            c.number_format = number_format
        row += 1

    put("footer.edition", w.edition_label())
    put("xlsx.scope", scope)
    put("due.about.today", d.today, FMT_DATE[lang])
    put("due.about.months", d.months, FMT_INT)
    put("due.about.figures_as_of", d.as_of, FMT_DATE[lang])
    put("footer.data_hash", d.data_version)
    put("footer.generated", dt.datetime.now().replace(microsecond=0), FMT_DATE[lang] + " HH:MM")
    row += 1
    ws.cell(row, 1, label("due.about.counts", lang)).font = w.subtitle_font
    row += 1
    counts = d.counts()
    for kind in KINDS:
        ws.cell(row, 1, label(f"due_kind.{kind}", lang))
        ws.cell(row, 2, counts[kind]).number_format = FMT_INT
        ws.cell(row, 2).alignment = w.wrap_left_top
        row += 1
    w._mark_synthetic(ws)
