"""What every report shares: opening its cube, the header with the synthetic-data banner, the
footer with provenance and method, and the survey-indicator helpers used by all three kinds."""
from __future__ import annotations

from typing import Any, Iterable

import pandas as pd

from zpb_lib.domain import cube as cube_mod
from zpb_lib.reference import Reference, reference
from zpb_lib.core import fmt
from zpb_lib.report import html
from zpb_lib.report.context import open_cube
from zpb_lib.domain.labels import county_name, label, labels_for, page_title, reasons_text

GROUPS = ("students", "parents", "teachers")


def not_in_register(frame: pd.DataFrame) -> pd.Series:
    """Schools the latest RSPO export read did not list (a university, known by its POL-on id, is
    never in RSPO, so it is never marked)."""
    if frame.empty:
        return pd.Series(False, index=frame.index, dtype=bool)
    return frame["polon"].isna() & ~frame["in_register"].astype(bool)


def identifier_cells(frame: pd.DataFrame) -> pd.Series:
    """The identifier people use (RSPO number or POL-on id), with "*" for a school not in the latest
    RSPO register (see :meth:`BaseReport.register_note` for the footnote)."""
    marks = not_in_register(frame).map({True: "*", False: ""})
    return frame["ident"].astype(str) + marks


class BaseReport:
    kind = ""

    def __init__(self, cube: cube_mod.Cube, lang: str = "pl", ref: Reference | None = None):
        if lang not in ("pl", "en"):
            raise ValueError(f"unknown language {lang!r} (pl or en)")
        self.cube = cube
        self.lang = lang
        self.ref = ref or reference()
        self.meta = cube.meta
        self.edition = self.meta["edition"]
        self.threshold = int(self.meta.get("threshold", 10))

    @classmethod
    def _open(cls, edition: str = "", lang: str = "pl", cube: str = "", db: str = "", **kw: Any):
        return cls(open_cube(cube or None, db or None, edition or None), lang=lang, **kw)

    # ------------------------------------------------------------------ text helpers
    def t(self, key: str, **values: Any) -> str:
        return label(key, self.lang, **values)

    def names(self, prefix: str) -> dict[str, str]:
        return labels_for(prefix, self.lang)

    def county(self, teryt: str) -> str:
        return county_name(str(teryt), self.lang, self.ref)

    def unit_short(self, code: str) -> str:
        """"KPP Bochnia", as police units are named in the programme's documents."""
        u = self.ref.police_units[code]
        return f"{u.kind} {u.seat}"

    @staticmethod
    def cap(text: str) -> str:
        """First letter upper-case (labels are lower-case to sit inside sentences)."""
        return text[:1].upper() + text[1:]

    def catalogue_label(self, key: str) -> str:
        """"dla szkół, wersja 2 (od 2022/2023)" rather than the internal key "school@2"."""
        cat = self.ref.catalogues[key]
        return self.t("misc.catalogue", family=self.t(f"misc.catalogue_{cat.family}"), version=cat.version,
                      valid_from=cat.valid_from)

    def edition_label(self) -> str:
        roman = self.meta.get("edition_roman")
        return self.t("title.edition", name=f"{roman} ({self.edition})" if roman else self.edition)

    def indicator_title(self, ind: str) -> str:
        return getattr(self.ref.indicators[ind], f"title_{self.lang}")

    def criterion_title(self, catalogue: str, criterion: str) -> str:
        return getattr(self.ref.catalogues[catalogue].criterion(criterion), f"title_{self.lang}")

    def place_title(self, code: str) -> str:
        for o in self.ref.scales["places"].options:
            if o.code == code:
                return getattr(o, f"label_{self.lang}")
        return code

    def reasons(self, encoded: str, catalogue: str | None = None) -> str:
        """Decision reasons in words, e.g. "brakuje 3 pkt do progu; niespełnione kryteria obowiązkowe: C1"."""
        return reasons_text(encoded, self.lang, self.ref, catalogue)

    # ------------------------------------------------------------------ page frame
    def title(self) -> str:
        raise NotImplementedError

    def banner(self) -> html.Html:
        if self.meta.get("synthetic"):
            return html.banner(self.t("banner.synthetic"), "synthetic", short=self.t("banner.synthetic_short"))
        return html.Html("")

    def subject(self) -> str:
        """What the report is about, as the build's plan names it: the voivodeship's or the county's
        name, the institution's name."""
        raise NotImplementedError

    def page_title(self) -> str:
        """The page title the build gives this report (``<title>`` and the printed running header)."""
        return page_title(self.kind, self.subject(), self.edition, self.lang)

    def header(self, subtitle: str | None = None) -> html.Html:
        """The report's heading. Its display carries the page title and language as output metadata
        (``zpb.title``, ``zpb.lang``), so that a notebook run by plain papermill or in JupyterLab and
        exported with ``jupyter nbconvert --to zpb_html`` gets the page ``zpb build`` writes."""
        lines = [self.t("title.programme") + " · " + self.edition_label()]
        if subtitle:
            lines.append(subtitle)
        return html.with_metadata(html.concat(self.banner(), html.heading(self.title(), 1),
                                              *(html.paragraph(x, "zpb-subtitle") for x in lines)),
                                  {"zpb": {"title": self.page_title(), "lang": self.lang}})

    def section(self, key: str, *parts: Any) -> html.Html:
        return html.concat(html.heading(self.t(f"section.{key}"), 2), *parts)

    def footer(self) -> html.Html:
        return html.concat(self.banner(), html.footer(self.meta, self.lang))

    def with_identifier(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (rows of institutions) with the column ``identifier`` to show: RSPO number or
        POL-on id, marked when the school is not in the latest RSPO register."""
        return frame.assign(identifier=identifier_cells(frame))

    def award_note(self, r: dict) -> str:
        """Why a recorded award does not count towards the status (the rules deny it: `zpb db check`
        lists it), or the validity the rules give where the record says otherwise; else empty."""
        if r.get("contested"):
            reasons = [self.t(f"contest.{c}") for c in str(r.get("contest") or "").split(",") if c]
            return self.t("misc.award_contested", reasons="; ".join(reasons))
        if not fmt.is_missing(r.get("rules_until")):
            return self.t("misc.rules_until", date=fmt.date(r["rules_until"], self.lang))
        return ""

    def contested_list(self, awards: pd.DataFrame) -> list[str]:
        """The footnote naming the contested awards among ``awards`` (none: no footnote)."""
        if "contested" not in awards.columns:
            return []
        bad = awards[awards["contested"].fillna(False).astype(bool)]
        if bad.empty:
            return []
        names = self.names("award")
        rows = self.with_identifier(bad.sort_values(["edition", "name"])).to_dict("records")
        items = [f"{r['name']} ({r['identifier']}): {names.get(r['kind'], r['kind'])} {r['edition']}" for r in rows]
        return [self.t("misc.contested_list", items="; ".join(items))]

    def register_note(self, frame: pd.DataFrame) -> list[str]:
        return [self.t("footnote.not_in_register")] if not_in_register(frame).any() else []

    def covered_schools(self, ids: Iterable[int]) -> dict[int, str]:
        """For the complexes among institutions ``ids`` (internal ids): the schools taking part with
        them in the edition, which their awards cover, as „name (RSPO n), …” (zpb_lib.domain.complexes)."""
        covered = self.cube.table("institutions", represented=True, complex_id=sorted({int(i) for i in ids}))
        return {int(c): ", ".join(f"{n} (RSPO {i})" for n, i in zip(g["name"], g["ident"]))
                for c, g in covered.sort_values("name").groupby("complex_id")}

    def holder_name(self, r: dict, covered: dict[int, str]) -> str:
        """An award's holder as a table names it: a complex with the schools its award covers."""
        schools = covered.get(int(r["institution_id"]))
        return self.t("misc.complex_covers", name=r["name"], schools=schools) if schools else r["name"]

    def complex_note(self, institutions: pd.DataFrame, key: str = "footnote.complex") -> list[str]:
        """How complexes count (zpb_lib.domain.complexes), where ``institutions`` (rows of the cube's
        institutions) hold a school of a complex taking part with it; ``key``: the label saying it
        (the key figures need only the count's part)."""
        return [self.t(key)] if institutions["represented"].any() else []

    def suppressed_note(self, frame: pd.DataFrame, column: str = "suppressed") -> list[str]:
        if column in frame.columns and frame[column].notna().any():
            return [self.t("footnote.suppressed", threshold=self.threshold)]
        return []

    # ------------------------------------------------------------------ survey indicators
    def survey_wave(self, level: str, key: str, group: str) -> str | None:
        """The wave a report shows for one group of a unit in its edition: the follow-up when there is
        one; otherwise the baseline (the autumn diagnosis — most of a school year has nothing else);
        None when the unit has neither."""
        t = self.cube.table("indicators", level=level, key=str(key), group=group, edition=self.edition)
        waves = set(t["wave"].astype(str))
        return next((w for w in ("follow-up", "baseline") if w in waves), None)

    def wave_caption(self, wave: str) -> str:
        """„Ewaluacja (po realizacji planu), 2025/2026” / „Diagnoza (jesień), 2025/2026”."""
        return f"{self.cap(self.t(f'wave_long.{wave}'))}, {self.edition}"

    def indicators_intro(self, waves: set[str | None]) -> str:
        """The paragraph before the indicator tables, for the waves they show: the follow-up with the
        change since the baseline, the baseline alone (labelled as the diagnosis), or both."""
        shown = {w for w in waves if w}
        if shown == {"baseline"}:
            return self.t("misc.indicators_intro_baseline")
        if shown == {"baseline", "follow-up"}:
            return self.t("misc.indicators_intro_mixed")
        return self.t("misc.indicators_intro")

    def indicator_rows(self, level: str, key: str, group: str, wave: str = "follow-up",
                       edition: str | None = None) -> pd.DataFrame:
        t = self.cube.table("indicators", level=level, key=str(key), group=group, wave=wave,
                            edition=edition or self.edition)
        order = {k: i for i, k in enumerate(self.ref.indicators)}
        return t.assign(_o=t["indicator"].map(order)).sort_values("_o").drop(columns="_o")

    def compare_chart(self, series: list[tuple[str, str, str]], group: str, title: str, wave: str = "follow-up"):
        """Bars of one group's indicators in one wave for several (level, key, name) series; the
        baseline's title says so."""
        # charts imports matplotlib: only when a report draws
        from zpb_lib.report import charts

        if wave != "follow-up":
            title = f"{title} — {self.t(f'wave_long.{wave}')}"
        rows = []
        for level, key, name in series:
            t = self.indicator_rows(level, key, group, wave)
            for r in t.itertuples(index=False):
                rows.append({"category": self.indicator_title(r.indicator), "series": name, "p": r.p,
                             "lo": r.lo, "hi": r.hi})
        if not rows:
            return html.paragraph(self.t("misc.no_data"))
        return charts.indicator_bars(pd.DataFrame(rows), title, lang=self.lang, threshold=self.threshold)

    def indicator_table(self, level: str, key: str, group: str, compare: list[tuple[str, str, str]],
                        caption: str, wave: str = "follow-up") -> html.Html:
        """One group's indicators in ``wave``: value with interval, n, and the same indicator for the
        comparison levels in the same wave; the follow-up also with the baseline and the change since
        it, with its significance mark. Suppressed figures are „—” in either wave."""
        own = self.indicator_rows(level, key, group, wave)
        if own.empty:
            return html.paragraph(self.t("misc.no_data"))
        waves = self.cube.table("wave_changes", level=level, key=str(key), group=group, edition=self.edition)
        waves = waves.set_index("indicator")
        data = own.set_index("indicator")
        out = pd.DataFrame({"indicator": [self.indicator_title(i) for i in data.index], "n": data["n"].to_numpy(),
                            "p": data["p"].to_numpy(), "lo": data["lo"].to_numpy(), "hi": data["hi"].to_numpy()})
        for col in ("diff", "significant", "direction", "p0"):
            out[col] = [waves[col].get(i) if i in waves.index else None for i in data.index]
        columns: dict[str, Any] = {
            "indicator": self.t("col.indicator"),
            "n": html.Column(self.t("col.respondents"), lambda v: fmt.integer(v, self.lang), numeric=True),
            "value": html.Column(self.t("col.value"), lambda r: fmt.percent(r["p"], 1, self.lang), numeric=True, row=True),
            "ci": html.Column(self.t("col.ci"), lambda r: fmt.interval(r["lo"], r["hi"], 1, self.lang), row=True),
            "base": html.Column(self.t("col.baseline"), lambda r: fmt.percent(r["p0"], 1, self.lang), numeric=True, row=True),
            "change": html.Column(self.t("col.change"), lambda r: html.with_mark(
                fmt.percent_points(r["diff"], 1, self.lang), r["diff"], r["significant"], r["direction"], self.lang),
                numeric=True, row=True),
        }
        if wave != "follow-up":  # no change to show before the follow-up
            del columns["base"], columns["change"]
        for i, (clevel, ckey, name) in enumerate(compare):
            other = self.indicator_rows(clevel, ckey, group, wave).set_index("indicator")["p"]
            out[f"cmp{i}"] = [other.get(x) for x in data.index]
            columns[f"cmp{i}"] = html.Column(name, lambda v: fmt.percent(v, 1, self.lang), numeric=True)
        notes = self.suppressed_note(own) + [self.t("footnote.interval")]
        if wave == "follow-up":
            notes.append(self.t("legend.significance"))
        return html.table(out, columns, caption=caption, footnotes=notes, lang=self.lang)
