"""``zpb export``: an edition's results as an XLSX workbook for analysts.

The workbook is made from the report cube (:func:`zpb_lib.domain.cube.compute`, or a cube file saved by
``zpb build``), so its figures are the reports' figures and survey indicators arrive already
suppressed. Sheets (Polish names; English with ``--lang en``):

* **Decyzje** — every audit of the edition, one row each: institution (name, RSPO number or POL-on
  id, whether the school is in the latest RSPO register), county, police unit, audit kind and date,
  points, maximum, share, threshold, award sought, decision, reasons in words, rank.
* **Punkty za kryteria** — one row per audit and criterion (a "long" table). Chosen over one column
  per criterion because the school and university catalogues have different criteria (and a new
  catalogue version may add or renumber some), so a wide sheet would need a column per catalogue
  and criterion, mostly empty, with titles squeezed into headers. The long table filters by
  criterion, area, county or audit with one autofilter each, pivots directly ("mean points per
  criterion by county"), and joins to the decisions by the audit ID.
* **Wskaźniki z ankiet** — the edition's indicators for the voivodeship, counties and institutions:
  group, wave, indicator, n, share and interval bounds; on follow-up rows, as the reports show it, the
  change since the baseline (percentage points), the test's p-value and whether the change is
  significant (p < 0.05) and for the better or the worse. A suppressed figure is an empty cell with
  the reason in the "Uwagi" column, never the number (a change with a suppressed side stays empty).
* **Odnowienia** — certificates and extensions expiring within 12 months of the ceremony day.
* **Placówki** — every institution existing in the edition or taking part in it, with its school
  complex, whether it counts as an institution (a school taking part with its complex counts in the
  complex, :mod:`zpb_lib.domain.complexes`), how it takes part and its status: filtered on „Liczona jako
  placówka”, it gives the reports' numbers of institutions. Decisions and renewals of a complex name
  the schools taking part with it.
* **Informacje** — edition, scope, data version, generation time, the synthetic-data warning,
  methodology, the suppression rule.

Institutions are identified as people know them: a school by its RSPO number (a number cell, so
that it matches an RSPO export opened in Excel), a university by its POL-on id (text), in the
column „RSPO / POL-on”; the database's internal ids never appear. „W wykazie RSPO” says tak/nie for
schools (empty for universities, which RSPO does not list).

Data sheets: title in row 1, the synthetic-data banner (or the provenance line) in row 2, a blank
row 3 (so Excel's "current region" for a pivot table starts at the header), the header in row 4,
frozen, with an autofilter. Numbers, shares and dates are real cell values with number formats
(``#,##0``, ``0.0%``, ``DD.MM.YYYY``); Excel stores format codes locale-independently and displays
them in the reader's locale (a Polish Excel shows ``1 234`` and ``75,5%``).
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from zpb_lib import store
from zpb_lib.core import fmt
from zpb_lib.core.errors import ZpbError
from zpb_lib.core.workbook import save
from zpb_lib.reference import AmbiguousCounty, Reference, reference
from zpb_lib.domain import cube as cube_mod, labels as _labels
from zpb_lib.domain.labels import county_name, label, labels_for
from zpb_lib.domain.stats import DEFAULT_THRESHOLD
from zpb_lib.store import data_version
from zpb_lib.store.backend import Connection
from zpb_lib.store.cubefile import CubeFileError
from zpb_lib.store.queries.meta import is_synthetic

HEADER_ROW = 4
TABLES = ("institutions", "audits", "audit_items", "indicators", "wave_changes", "renewals")
LEVEL_ORDER = {"voivodeship": 0, "county": 1, "institution": 2}

FMT_INT = "#,##0"
FMT_IDENT = "0"  # an RSPO number without a thousands separator
FMT_PERCENT = "0.0%"
FMT_CHANGE = "+0.0;-0.0;0.0"  # percentage points, signed
FMT_P_VALUE = "0.000"
FMT_DATE = {"pl": "DD.MM.YYYY", "en": "D MMM YYYY"}
FMT_DATETIME = {"pl": "DD.MM.YYYY HH:MM", "en": "D MMM YYYY HH:MM"}
FMT_TEXT = "@"

HEADER_FILL = "D9E1F2"  # as the audit protocol template (zpb_lib.ingest.audit)
BANNER_FILL = "C00000"
MAX_WIDTH = 60


class ExportError(ZpbError, ValueError):
    """A request the export cannot serve (unknown edition or county, cube of another edition…)."""


# --------------------------------------------------------------------------- input

@dataclass
class Source:
    """The cube tables of one edition with the cube's metadata."""
    tables: dict[str, pd.DataFrame]
    meta: dict[str, Any]


def check_edition(edition: str, ref: Reference) -> str:
    try:  # "2025/2026", "2025-2026" or "XIX"
        e = ref.edition(ref.edition_of(edition))
    except KeyError:
        raise ExportError(f"unknown edition {edition!r}: give a school year, one of "
                          f"{', '.join(x.edition for x in ref.held_editions())}") from None
    if not e.held:
        raise ExportError(f"edition {edition} was not held (the programme was suspended); held editions: "
                          f"{', '.join(x.edition for x in ref.held_editions())}")
    return e.edition


def resolve_county(county: str | None, ref: Reference) -> str | None:
    """A county given as a TERYT code ("1201") or by name ("bocheński", "bochenski", "m. Kraków",
    "Bochnia County")."""
    if county is None:
        return None
    value = str(county).strip()
    try:
        return ref.county_code(value)
    except AmbiguousCounty as exc:
        raise ExportError(exc.args[0]) from None
    except KeyError:
        pass
    wanted = value.casefold()  # also the names reports print: "powiat bocheński", "City of Kraków"
    for teryt in ref.counties:
        if wanted in {county_name(teryt, "pl", ref).casefold(), county_name(teryt, "en", ref).casefold()}:
            return teryt
    known = ", ".join(f"{t} ({c.name})" for t, c in ref.counties.items())
    raise ExportError(f"unknown county {value!r}: give a TERYT code or a county name; known: {known}")


def _meta(con: Connection, ref: Reference, edition: str, threshold: int) -> dict[str, Any]:
    """The metadata ``cube.build`` saves with a cube, for a cube computed here in memory."""
    return {"edition": edition, "edition_roman": ref.edition(edition).roman,
            "as_of": cube_mod.as_of_date(ref, edition).isoformat(), "threshold": threshold,
            "synthetic": is_synthetic(con), "data_hash": data_version(con),
            "reference_hash": cube_mod.reference_hash(ref)}


def from_database(con: Connection, edition: str, *, ref: Reference | None = None,
                  threshold: int = DEFAULT_THRESHOLD) -> Source:
    """Compute the cube of ``edition`` from an open database, all of it from one snapshot of the
    data (imports committing meanwhile are not half in it), which the data version names."""
    ref = ref or reference()
    edition = check_edition(edition, ref)
    if not con.in_transaction:
        with store.snapshot(con):
            return from_database(con, edition, ref=ref, threshold=threshold)
    tables = cube_mod.compute(con, edition, ref=ref, threshold=threshold)
    return Source({k: tables[k] for k in TABLES}, _meta(con, ref, edition, threshold))


def from_cube(path: str | os.PathLike, edition: str, *, ref: Reference | None = None) -> Source:
    """Read the tables of a saved cube file (``zpb build`` makes them)."""
    ref = ref or reference()
    edition = check_edition(edition, ref)
    try:
        with cube_mod.Cube(path) as c:
            if c.meta.get("edition") != edition:
                raise ExportError(f"cube {path} is for edition {c.meta.get('edition')}, not {edition}")
            missing = [k for k in TABLES if k not in c.tables()]
            if missing:
                raise ExportError(f"cube {path} has no table {', '.join(missing)} (rebuild it with `zpb build`)")
            return Source({k: c.table(k) for k in TABLES}, dict(c.meta))
    except CubeFileError as exc:
        raise ExportError(f"{path} is not a report cube: {exc}") from None


# --------------------------------------------------------------------------- sheet contents

@dataclass
class Col:
    key: str  # column of the frame
    header: str
    kind: str = "text"  # text, code, int, percent, change (percentage points), p_value, date, ident
    max_width: int = MAX_WIDTH


def _na(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def reasons_text(encoded: Any, catalogue: str | None, lang: str, ref: Reference) -> str | None:
    """Decision reasons in words (:func:`zpb_lib.domain.labels.reasons_text`); None when there are
    none, which leaves the Excel cell empty."""
    return _labels.reasons_text(encoded, lang, ref, catalogue) or None


class Sheets:
    """The frames of the workbook's data sheets, with their columns, in ``lang``."""

    def __init__(self, source: Source, county: str | None = None, lang: str = "pl", ref: Reference | None = None):
        if lang not in ("pl", "en"):
            raise ExportError(f"unknown language {lang!r} (pl or en)")
        self.ref = ref or reference()
        self.t = source.tables
        self.meta = source.meta
        self.edition = str(self.meta["edition"])
        self.county = county
        self.lang = lang
        self.threshold = int(self.meta.get("threshold", DEFAULT_THRESHOLD))
        inst = self.t["institutions"]
        self.inst = inst.assign(id=inst["id"].astype("int64"), county=inst["county"].astype(str)).set_index("id")
        self._county_names = {t: county_name(t, lang, self.ref) for t in self.ref.counties}

    def L(self, key: str, **values: Any) -> str:  # noqa: N802 - short like BaseReport.t
        return label(key, self.lang, **values)

    def _county_cols(self, frame: pd.DataFrame, teryt: pd.Series) -> pd.DataFrame:
        teryt = teryt.astype(str)
        units = {t: self.ref.police_units[c.police_unit].name for t, c in self.ref.counties.items()}
        return frame.assign(county_label=teryt.map(self._county_names), teryt=teryt, police_unit_name=teryt.map(units))

    def _institution_kind(self, ids: pd.Series) -> pd.Series:
        return ids.map(self.inst[f"kind_{self.lang}"])

    def _register(self, frame: pd.DataFrame) -> pd.Series:
        """„tak”/„nie” for schools (in the latest RSPO export read or not), empty for universities."""
        yes, no = self.L("misc.yes"), self.L("misc.no")
        return pd.Series([None if not _na(p) else (no if _na(r) or not bool(r) else yes)
                          for p, r in zip(frame["polon"], frame["in_register"])], index=frame.index, dtype=object)

    def _identity_cols(self) -> list[Col]:
        return [Col("ident", self.L("col.identifier"), "ident"), Col("register", self.L("col.in_register"))]

    # ------------------------------------------------------------------ decisions
    def edition_audits(self) -> pd.DataFrame:
        a = self.t["audits"]
        a = a[a["edition"].astype(str) == self.edition]
        if self.county:
            a = a[a["county"].astype(str) == self.county]
        return a

    def decisions(self) -> tuple[pd.DataFrame, list[Col]]:
        a = self.edition_audits()
        a = self._county_cols(a.copy(), a["county"])
        kinds, awards = labels_for("audit_kind", self.lang), labels_for("award", self.lang)
        a["kind_label"] = a["kind"].astype(str).map(lambda k: kinds.get(k, k))
        a["institution_kind"] = self._institution_kind(a["institution_id"].astype("int64"))
        control = a["kind"].astype(str) == "control"
        granted = a["granted"].astype(bool)
        a["decision"] = [self.L(("decision.positive" if g else "decision.negative") if c else
                                ("decision.granted" if g else "decision.refused")) for c, g in zip(control, granted)]
        a["award_label"] = a["award_kind"].map(lambda k: None if _na(k) else awards.get(str(k), str(k)))
        a["reasons_text"] = [reasons_text(r, str(c), self.lang, self.ref) for r, c in zip(a["reasons"], a["catalogue"])]
        a["register"] = self._register(a)
        a["covers"] = self._covers(a["institution_id"])
        a = a.sort_values(["teryt", "name", "audit_date", "audit_id"], kind="stable")
        cols = [Col("audit_id", self.L("col.audit_id"), "int"),
                Col("name", self.L("col.institution")),
                *self._identity_cols(),
                Col("county_label", self.L("col.county")),
                Col("teryt", self.L("col.teryt"), "code"),
                Col("police_unit_name", self.L("col.police_unit")),
                Col("institution_kind", self.L("col.kind")),
                Col("kind_label", self.L("col.audit_kind")),
                Col("audit_date", self.L("col.audit_date"), "date"),
                Col("total", self.L("col.points"), "int"),
                Col("max_total", self.L("col.max_points"), "int"),
                Col("share", self.L("col.share"), "percent"),
                Col("threshold", self.L("col.threshold"), "int"),
                Col("award_label", self.L("col.award")),
                Col("decision", self.L("col.decision")),
                Col("reasons_text", self.L("col.reasons"), max_width=80),
                Col("rank", self.L("col.rank"), "int"),
                Col("covers", self.L("col.complex_schools"), max_width=80)]
        return a, cols

    # ------------------------------------------------------------------ points per criterion
    def points(self) -> tuple[pd.DataFrame, list[Col]]:
        audits = self.edition_audits()
        items = self.t["audit_items"]
        items = items[items["audit_id"].astype("int64").isin(audits["audit_id"].astype("int64"))]
        keep = ["audit_id", "institution_id", "name", "county", "kind", "audit_date", "ident", "polon", "in_register"]
        p = items.assign(audit_id=items["audit_id"].astype("int64")).merge(
            audits[keep].assign(audit_id=audits["audit_id"].astype("int64")), on="audit_id", how="inner")
        p = self._county_cols(p, p["county"])
        kinds = labels_for("audit_kind", self.lang)
        p["kind_label"] = p["kind"].astype(str).map(lambda k: kinds.get(k, k))
        areas = {(cat.key, a.id): getattr(a, f"title_{self.lang}") for cat in self.ref.catalogues.values()
                 for a in cat.areas}
        p["area_title"] = [areas.get((str(c), str(a)), str(a)) for c, a in zip(p["catalogue"], p["area"])]
        p["criterion_title"] = p[f"title_{self.lang}"]
        p["mandatory_label"] = p["mandatory"].map(lambda m: self.L("misc.yes" if m else "misc.no"))
        p["register"] = self._register(p)
        p = p.sort_values(["teryt", "name", "audit_date", "audit_id", "order"], kind="stable")
        cols = [Col("audit_id", self.L("col.audit_id"), "int"),
                Col("name", self.L("col.institution")),
                *self._identity_cols(),
                Col("county_label", self.L("col.county")),
                Col("teryt", self.L("col.teryt"), "code"),
                Col("kind_label", self.L("col.audit_kind")),
                Col("audit_date", self.L("col.audit_date"), "date"),
                Col("catalogue", self.L("col.catalogue"), "code"),
                Col("area_title", self.L("col.area")),
                Col("criterion", self.L("col.criterion_code"), "code"),
                Col("criterion_title", self.L("col.criterion"), max_width=70),
                Col("mandatory_label", self.L("col.mandatory")),
                Col("points", self.L("col.points"), "int"),
                Col("max_points", self.L("col.max_points"), "int"),
                Col("lost", self.L("col.points_lost"), "int")]
        return p, cols

    # ------------------------------------------------------------------ survey indicators
    def indicators(self) -> tuple[pd.DataFrame, list[Col]]:
        t = self.t["indicators"]
        t = t[t["edition"].astype(str) == self.edition].copy()
        t["level"], t["key"] = t["level"].astype(str), t["key"].astype(str)
        inst = t["level"] == "institution"
        inst_ids = pd.to_numeric(t["key"].where(inst), errors="coerce").astype("Int64")
        teryt = t["key"].where(t["level"] == "county", inst_ids.map(self.inst["county"]))
        teryt = teryt.where(t["level"] != "voivodeship")
        if self.county:
            t = t[(t["level"] == "voivodeship") | (teryt == self.county)]
            inst_ids, teryt = inst_ids[t.index], teryt[t.index]
        t["institution_id"] = inst_ids  # internal: only to look up the institution and to sort
        for col in ("ident", "polon", "in_register"):
            t[col] = inst_ids.map(self.inst[col]).astype(object)
        t["register"] = self._register(t).where(t["level"] == "institution", None)
        t["teryt"] = teryt
        t["county_label"] = teryt.map(self._county_names)
        names = inst_ids.map(self.inst["name"])
        t["unit_name"] = names.where(t["level"] == "institution", t["county_label"])
        t.loc[t["level"] == "voivodeship", "unit_name"] = self.L("misc.voivodeship_name")
        t["level_label"] = t["level"].map(labels_for("level", self.lang))
        t["group_label"] = t["group"].astype(str).map(labels_for("group", self.lang))
        t["wave_label"] = t["wave"].astype(str).map(labels_for("wave", self.lang))
        t["indicator_title"] = t["indicator"].astype(str).map(
            {i: getattr(x, f"title_{self.lang}") for i, x in self.ref.indicators.items()})
        hidden = t["suppressed"].notna()
        for col in ("p", "lo", "hi"):  # already missing in the cube; blank them again, whatever the source
            t[col] = t[col].astype(float).mask(hidden)
        t = self._with_changes(t)
        t["note"] = t["suppressed"].map(self._suppressed_text)
        order = {"_level": t["level"].map(LEVEL_ORDER), "_teryt": t["teryt"].fillna(""),
                 "_inst": t["institution_id"].fillna(-1).astype("int64"),
                 "_group": t["group"].map({g: i for i, g in enumerate(labels_for("group", "pl"))}),
                 "_ind": t["indicator"].map({k: i for i, k in enumerate(self.ref.indicators)}),
                 "_wave": t["wave"].map({"baseline": 0, "follow-up": 1})}
        t = t.assign(**order).sort_values(list(order), kind="stable").drop(columns=list(order))
        cols = [Col("level_label", self.L("col.level")),
                Col("unit_name", self.L("col.name")),
                Col("county_label", self.L("col.county")),
                Col("teryt", self.L("col.teryt"), "code"),
                *self._identity_cols(),
                Col("group_label", self.L("col.group")),
                Col("wave_label", self.L("col.wave")),
                Col("indicator_title", self.L("col.indicator"), max_width=70),
                Col("n", self.L("col.respondents"), "int"),
                Col("p", self.L("col.value"), "percent"),
                Col("lo", self.L("col.ci_low"), "percent"),
                Col("hi", self.L("col.ci_high"), "percent"),
                Col("change", self.L("col.change_since_baseline"), "change"),
                Col("p_value", self.L("col.change_p_value"), "p_value"),
                Col("significance", self.L("col.significant_change")),
                Col("note", self.L("col.note"))]
        return t, cols

    def _with_changes(self, t: pd.DataFrame) -> pd.DataFrame:
        """Follow-up rows with the change since the baseline the reports show (cube table
        ``wave_changes``): ``change`` in percentage points, ``p_value``, and ``significance`` in words.
        Empty where either wave is suppressed or the baseline is missing, and on baseline rows."""
        on = ["level", "key", "group", "indicator"]
        w = self.t["wave_changes"]
        w = w[w["edition"].astype(str) == self.edition]
        w = w.assign(**{c: w[c].astype(str) for c in on})[on + ["diff", "p_value", "significant", "direction"]]
        keys = t[on].astype(str).assign(_row=t.index)
        m = keys.merge(w, on=on, how="left", validate="many_to_one").set_index("_row").reindex(t.index)
        follow = (t["wave"].astype(str) == "follow-up").to_numpy()
        diff = pd.to_numeric(m["diff"], errors="coerce").where(follow)
        sig = m["significant"].astype("boolean").where(follow & diff.notna().to_numpy())
        words = {"better": self.L("xlsx.change_better"), "worse": self.L("xlsx.change_worse")}
        text = [None if pd.isna(s) else (words.get(d) if s else self.L("xlsx.change_none"))
                for s, d in zip(sig, m["direction"])]
        return t.assign(change=diff * 100, p_value=pd.to_numeric(m["p_value"], errors="coerce").where(diff.notna()),
                        significance=text)

    def _suppressed_text(self, reason: Any) -> str | None:
        if _na(reason):
            return None
        if str(reason).startswith("n<"):
            return self.L("chart.suppressed", threshold=self.threshold)
        return self.L("xlsx.suppressed_complementary")

    # ------------------------------------------------------------------ renewals
    def renewals(self) -> tuple[pd.DataFrame, list[Col]]:
        r = self.t["renewals"]
        if self.county:
            r = r[r["county"].astype(str) == self.county]
        r = self._county_cols(r.copy(), r["county"])
        awards = labels_for("award", self.lang)
        r["award_label"] = r["award_kind"].astype(str).map(lambda k: awards.get(k, k))
        r["institution_kind"] = self._institution_kind(r["institution_id"].astype("int64"))
        r["register"] = self._register(r)
        r["covers"] = self._covers(r["institution_id"])
        r = r.sort_values(["valid_until", "teryt", "name"], kind="stable")
        cols = [Col("name", self.L("col.institution")),
                *self._identity_cols(),
                Col("county_label", self.L("col.county")),
                Col("teryt", self.L("col.teryt"), "code"),
                Col("police_unit_name", self.L("col.police_unit")),
                Col("institution_kind", self.L("col.kind")),
                Col("award_label", self.L("col.award")),
                Col("awarded_on", self.L("col.awarded_on"), "date"),
                Col("valid_until", self.L("col.valid_until"), "date"),
                Col("days_left", self.L("col.days_left"), "int"),
                Col("covers", self.L("col.complex_schools"), max_width=80)]
        return r, cols

    # ------------------------------------------------------------------ institutions
    def _covers(self, ids: pd.Series) -> pd.Series:
        """For a complex: the schools taking part with it in the edition (its award and audit are
        theirs), as „name (RSPO n)”; empty for any other institution."""
        inst = self.inst.reset_index()
        rep = inst[inst["represented"].astype(bool)].sort_values("name")
        text = {int(c): "; ".join(f"{n} (RSPO {i})" for n, i in zip(g["name"], g["ident"]))
                for c, g in rep.groupby("complex_id")}
        return pd.Series([text.get(int(i)) for i in ids], index=ids.index, dtype=object)

    def institutions(self) -> tuple[pd.DataFrame, list[Col]]:
        inst = self.inst.reset_index()
        inst = inst[inst["exists"].astype(bool) | inst["in_edition"].astype(bool)]
        if self.county:
            inst = inst[inst["county"] == self.county]
        i = self._county_cols(inst.copy(), inst["county"])
        statuses = labels_for("status", self.lang)
        yes, no = self.L("misc.yes"), self.L("misc.no")
        i["institution_kind"] = i[f"kind_{self.lang}"]
        i["register"] = self._register(i)
        i["counted_label"] = [yes if c else no for c in i["counted"].astype(bool)]
        i["takes_part"] = [self.L("misc.with_complex") if r else self.L("misc.on_own") if o else (yes if p else no)
                           for r, o, p in zip(i["represented"].astype(bool), i["on_own"].astype(bool),
                                              i["participating"].astype(bool))]
        i["status_label"] = [self.L("misc.status_via_complex", status=statuses.get(s, s)) if v else statuses.get(s, s)
                             for s, v in zip(i["status"].astype(str), i["via_complex"].astype(bool))]
        i["covers"] = self._covers(i["id"])
        # A complex's schools taking part with it right after it.
        unit = i["complex_id"].where(i["represented"].astype(bool), i["id"]).astype("int64")
        names = self.inst["name"]
        i = i.assign(_unit=unit.map(names).fillna(i["name"]), _member=i["represented"].astype(int))
        i = i.sort_values(["teryt", "_unit", "_member", "name"], kind="stable")
        cols = [Col("name", self.L("col.institution")),
                *self._identity_cols(),
                Col("county_label", self.L("col.county")),
                Col("teryt", self.L("col.teryt"), "code"),
                Col("institution_kind", self.L("col.kind")),
                Col("complex_ident", self.L("col.complex"), "ident"),
                Col("complex_name", self.L("col.complex_name")),
                Col("counted_label", self.L("col.counted")),
                Col("takes_part", self.L("col.takes_part")),
                Col("status_label", self.L("col.status")),
                Col("valid_until", self.L("col.valid_until"), "date"),
                Col("joined_edition", self.L("col.joined"), "code"),
                Col("covers", self.L("col.complex_schools"), max_width=80)]
        return i, cols


# --------------------------------------------------------------------------- workbook

def _cell_value(v: Any, kind: str) -> Any:
    if _na(v):
        return None
    if kind == "int":
        return int(v)
    if kind in ("percent", "change", "p_value"):
        return float(v)
    if kind == "date":
        return pd.Timestamp(v).date()
    if kind == "ident":  # an RSPO number as a number, a POL-on id as text
        text = str(v)
        return int(text) if text.isdigit() else (text or None)
    return str(v)


def _display_len(v: Any, kind: str) -> int:
    """Characters the value takes on screen, for the column width."""
    if v is None:
        return 0
    if kind in ("percent", "change", "p_value"):
        return 6
    if kind == "date":
        return 11
    if kind == "int":
        return len(f"{v:,}")
    return len(str(v))


class Writer:
    def __init__(self, lang: str, meta: dict[str, Any], scope: str, scope_long: str):
        # openpyxl: loaded only when a workbook is written
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        self.lang, self.meta, self.scope, self.scope_long = lang, meta, scope, scope_long
        self.wb = Workbook()
        self.wb.remove(self.wb.active)
        self.synthetic = bool(meta.get("synthetic"))
        self.bold = Font(bold=True)
        self.title_font = Font(bold=True, size=14)
        self.subtitle_font = Font(bold=True, size=12)
        self.note_font = Font(italic=True)
        self.banner_font = Font(bold=True, color="FFFFFF")
        self.banner_fill = PatternFill("solid", fgColor=BANNER_FILL)
        self.header_fill = PatternFill("solid", fgColor=HEADER_FILL)
        self.header_border = Border(bottom=Side(style="thin", color="808080"))
        self.wrap_top = Alignment(wrap_text=True, vertical="top")
        self.top = Alignment(vertical="top")
        self.wrap_left_top = Alignment(wrap_text=True, vertical="top", horizontal="left")

    def L(self, key: str, **values: Any) -> str:  # noqa: N802
        return label(key, self.lang, **values)

    def edition_label(self) -> str:
        roman = self.meta.get("edition_roman")
        e = self.meta["edition"]
        return self.L("title.edition", name=f"{roman} ({e})" if roman else e)

    def banner_text(self) -> str:
        return self.L("banner.synthetic")  # starts with "Dane syntetyczne:" itself

    def _mark_synthetic(self, ws) -> None:
        if self.synthetic:
            ws.sheet_properties.tabColor = BANNER_FILL
            ws.oddHeader.center.text = self.L("banner.synthetic_short")
            ws.oddHeader.center.color = BANNER_FILL

    def table(self, name: str, title: str, frame: pd.DataFrame, cols: list[Col], freeze_cols: int = 0) -> Any:
        # openpyxl: loaded only when a workbook is written
        from openpyxl.utils import get_column_letter

        ws = self.wb.create_sheet(name)
        ws.cell(1, 1, f"{title} — {self.scope} — {self.edition_label()}").font = self.title_font
        if self.synthetic:
            c = ws.cell(2, 1, self.banner_text())
            c.font, c.fill = self.banner_font, self.banner_fill
            for j in range(2, len(cols) + 1):  # a red band across the table, not only under column A
                ws.cell(2, j).fill = self.banner_fill
        else:
            ws.cell(2, 1, self.provenance()).font = self.note_font
        widths = [0] * len(cols)
        for j, col in enumerate(cols, start=1):
            c = ws.cell(HEADER_ROW, j, col.header)
            c.font, c.fill, c.border, c.alignment = self.bold, self.header_fill, self.header_border, self.wrap_top
        formats = {"int": FMT_INT, "percent": FMT_PERCENT, "date": FMT_DATE[self.lang], "code": FMT_TEXT,
                   "change": FMT_CHANGE, "p_value": FMT_P_VALUE}
        columns = [frame[c.key].to_numpy(dtype=object) for c in cols]
        for i in range(len(frame)):
            row = HEADER_ROW + 1 + i
            for j, col in enumerate(cols):
                v = _cell_value(columns[j][i], col.kind)
                fmt = formats.get(col.kind)
                if col.kind == "ident":
                    fmt = FMT_IDENT if isinstance(v, int) else FMT_TEXT
                if v is None:
                    if fmt and col.kind not in ("code", "ident"):  # an empty (e.g. suppressed) cell keeps its format
                        ws.cell(row, j + 1).number_format = fmt
                    continue
                cell = ws.cell(row, j + 1, v)  # a text stays text: workbook.save (names are never formulas)
                if fmt:
                    cell.number_format = fmt
                widths[j] = max(widths[j], _display_len(v, col.kind))
        last = get_column_letter(len(cols))
        lines = 1
        for j, col in enumerate(cols):
            longest_word = max(len(w) for w in col.header.split())
            width = min(max(widths[j], longest_word, 6) + 2, col.max_width)
            if widths[j] == 0:  # an empty column: room for the header on two lines at most
                width = max(width, min(len(col.header) // 2 + 3, col.max_width))
            ws.column_dimensions[get_column_letter(j + 1)].width = width
            lines = max(lines, -(-len(col.header) // max(width - 2, 1)))
        ws.row_dimensions[HEADER_ROW].height = 15 * min(lines, 4) + 2
        ws.freeze_panes = ws.cell(HEADER_ROW + 1, freeze_cols + 1)
        ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + max(len(frame), 1)}"
        if frame.empty:  # said where the rows would be, under the header a reader looks at
            ws.cell(HEADER_ROW + 1, 1, self.L("misc.empty")).font = self.note_font
        ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        self._mark_synthetic(ws)
        return ws

    def provenance(self) -> str:
        return self.L("xlsx.provenance", edition=self.edition_label(), as_of=fmt.date(self.meta["as_of"], self.lang),
                      data_hash=self.meta.get("data_hash", "?"), sheet=self.L("xlsx.sheet.about"))

    def about(self, generated: dt.datetime, sheets: list[tuple[str, str, int]]) -> Any:
        ws = self.wb.create_sheet(self.L("xlsx.sheet.about"))
        ws.column_dimensions["A"].width = 30
        ws.column_dimensions["B"].width = 100
        ws.cell(1, 1, f"{self.L('title.programme')} — {self.L('xlsx.title.results')}").font = self.title_font
        row = 2
        if self.synthetic:
            ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=2)
            c = ws.cell(2, 1, self.banner_text())
            c.font, c.fill, c.alignment = self.banner_font, self.banner_fill, self.wrap_top
            ws.row_dimensions[2].height = 32
            row = 3
        row += 1

        def put(key: str, value: Any, number_format: str | None = None, bold_value: bool = False) -> None:
            nonlocal row
            ws.cell(row, 1, key).font = self.bold
            ws.cell(row, 1).alignment = self.top
            c = ws.cell(row, 2, value)
            c.alignment = self.wrap_left_top
            if number_format:
                c.number_format = number_format
            if bold_value:
                c.font = self.bold
            if isinstance(value, str) and len(value) > 95:  # wrapped text: give the row its lines
                ws.row_dimensions[row].height = 15 * (-(-len(value) // 95)) + 2
            row += 1


        threshold = int(self.meta.get("threshold", DEFAULT_THRESHOLD))
        put(self.L("footer.edition"), self.edition_label(), bold_value=True)
        put(self.L("xlsx.scope"), self.scope_long)
        put(self.L("xlsx.as_of"), dt.date.fromisoformat(self.meta["as_of"]), FMT_DATE[self.lang])
        put(self.L("footer.data_hash"), self.meta.get("data_hash"))
        put(self.L("footer.reference_hash"), self.meta.get("reference_hash"))
        put(self.L("footer.generated"), generated.replace(microsecond=0, tzinfo=None), FMT_DATETIME[self.lang])
        row += 1
        ws.cell(row, 1, self.L("xlsx.sheets")).font = self.subtitle_font
        row += 1
        for sheet, description, n in sheets:
            put(sheet, f"{description} ({self.L('xlsx.rows', n=fmt.integer(n, self.lang))})")
        row += 1
        put(self.L("section.methodology"), self.L("methodology.text", threshold=threshold))
        put(self.L("xlsx.suppression"), self.L("xlsx.suppression_text", threshold=threshold))
        put(self.L("col.rank"), self.L("misc.rank_note"))
        put(self.L("col.complex"), self.L("footnote.complex"))
        put(self.L("xlsx.formats"), self.L("xlsx.formats_text"))
        self._mark_synthetic(ws)
        return ws

    def save(self, out: Path) -> Path:
        """Every text a text cell, never a formula; atomically (:func:`zpb_lib.core.workbook.save`)."""
        return save(self.wb, out)


@dataclass
class Result:
    path: Path
    rows: dict[str, int]


def export(source: Source, out: str | os.PathLike, *, county: str | None = None, lang: str = "pl",
           ref: Reference | None = None, generated: dt.datetime | None = None) -> Result:
    """Write the workbook of ``source`` (one edition's cube) to ``out``; ``county`` is a TERYT code
    (or a county name) keeping only that county's rows, plus the voivodeship's indicators."""
    ref = ref or reference()
    county = resolve_county(county, ref)
    sheets = Sheets(source, county, lang, ref)
    scope = county_name(county or "12", lang, ref)
    scope_long = (label("xlsx.scope_county", lang, name=scope, teryt=county) if county
                  else label("xlsx.scope_all", lang))
    w = Writer(lang, source.meta, scope, scope_long)
    made: list[tuple[str, str, int]] = []
    specs: list[tuple[str, str, Callable[[], tuple[pd.DataFrame, list[Col]]], int]] = [
        ("decisions", "section.audits_decisions", sheets.decisions, 3),
        ("points", "xlsx.title.points", sheets.points, 3),
        ("indicators", "section.survey_indicators", sheets.indicators, 2),
        ("renewals", "section.renewals_due", sheets.renewals, 2),
        ("institutions", "xlsx.title.institutions", sheets.institutions, 2),
    ]
    for key, title_key, make, freeze in specs:
        frame, cols = make()
        name = label(f"xlsx.sheet.{key}", lang)
        w.table(name, label(title_key, lang), frame, cols, freeze_cols=freeze)
        made.append((name, label(f"xlsx.about.{key}", lang), len(frame)))
    generated = generated or dt.datetime.now()
    w.about(generated, made)
    w.wb.properties.title = f"{label('title.programme', lang)} — {w.edition_label()} — {w.scope}"
    w.wb.properties.creator = "zpb"
    if w.synthetic:
        w.wb.properties.description = label("banner.synthetic", lang)
    return Result(w.save(Path(out)), {name: n for name, _, n in made})


# --------------------------------------------------------------------------- output file

def default_out(edition: str, county: str | None, lang: str) -> Path:
    stem = "wyniki" if lang == "pl" else "results"
    return Path(f"zpb-{stem}-{edition.replace('/', '-')}{'-' + county if county else ''}.xlsx")
