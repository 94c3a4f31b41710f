"""Planning a build: which reports an edition needs, where each goes, and what decides whether an
existing one is still current."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from zpb_lib.core.paths import notebooks_dir as _notebooks_dir
from zpb_lib.reference.identifiers import parse_identifier
from zpb_lib.reference import Reference
from zpb_lib.domain.labels import county_name

KINDS = ("voivodeship", "county", "school")
NOTEBOOKS = {"voivodeship": "voivodeship_report.ipynb", "county": "county_report.ipynb",
             "school": "school_report.ipynb"}


def notebooks_dir() -> Path:
    """The shipped report notebooks (in a source checkout: the repository's ``notebooks/``)."""
    return _notebooks_dir()


@dataclass(frozen=True)
class Job:
    """One report to build."""
    kind: str  # voivodeship | county | school
    key: str  # "12", a TERYT code, or an institution's RSPO number / POL-on id (never its internal id)
    edition: str
    lang: str
    title: str
    county: str | None  # TERYT of the county the report belongs to (None for the voivodeship)
    county_name: str | None
    police_unit: str | None
    stem: str  # file name without extension, unique within the edition folder
    parameters: dict[str, Any] = field(default_factory=dict)
    notebooks: str = ""  # folder of the report notebooks ("" = the shipped ones: notebooks_dir())
    identifier: str | None = None  # "RSPO 123456" / "POL-on …" of a school report, for the index

    @property
    def notebook(self) -> Path:
        return (Path(self.notebooks) if self.notebooks else notebooks_dir()) / NOTEBOOKS[self.kind]

    def fingerprint(self, inputs: str) -> str:
        """What the report depends on: data and code (``inputs``), its notebook and parameters."""
        h = hashlib.sha256()
        h.update(inputs.encode())
        h.update(json.dumps(self.parameters, sort_keys=True, default=str).encode())
        h.update(self.notebook.read_bytes())
        return h.hexdigest()[:20]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _slug(text: str) -> str:
    table = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")
    out = "".join(ch if ch.isalnum() else "-" for ch in text.translate(table).lower())
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")[:60]


def school_stem(ident: str, polon: bool, name: str) -> str:
    """``placowka-<RSPO>-<name>`` for a school, ``uczelnia-<POL-on id>-<name>`` for a university."""
    return f"{'uczelnia' if polon else 'placowka'}-{ident}-{_slug(name)}"


def plan(institutions: pd.DataFrame, ref: Reference, edition: str, *, lang: str = "pl",
         only: Iterable[str] = KINDS, counties: Iterable[str] | None = None,
         institutions_wanted: Iterable[str | int] | None = None, cube_path: str = "", db_path: str = "",
         notebooks: str = "") -> list[Job]:
    """The reports of ``edition``: the voivodeship, every county, and every institution audited or
    taking part in the edition (``institutions`` is the cube's institutions table), filtered by
    ``only``, ``counties`` (TERYT codes) and ``institutions_wanted`` (RSPO numbers / POL-on ids);
    ``notebooks`` is an alternative folder of report notebooks (an analyst's customised copies)."""
    only = set(only)
    unknown = only - set(KINDS)
    if unknown:
        raise ValueError(f"unknown report kind(s): {', '.join(sorted(unknown))} (known: {', '.join(KINDS)})")
    county_filter = {county_code(ref, c) for c in counties} if counties else None
    inst_filter = {str(parse_identifier(i)) for i in institutions_wanted} if institutions_wanted else None
    base = {"edition": edition, "lang": lang, "cube": cube_path, "db": db_path}
    jobs: list[Job] = []
    if "voivodeship" in only and county_filter is None and inst_filter is None:
        jobs.append(Job("voivodeship", "12", edition, lang, county_name("12", lang, ref), None, None, None,
                        "wojewodztwo", dict(base), notebooks))
    if "county" in only and inst_filter is None:
        for teryt, c in ref.counties.items():
            if county_filter and teryt not in county_filter:
                continue
            jobs.append(Job("county", teryt, edition, lang, county_name(teryt, lang, ref), teryt,
                            county_name(teryt, lang, ref), c.police_unit, f"powiat-{teryt}-{_slug(c.name)}",
                            dict(base, county=teryt), notebooks))
    if "school" in only:
        sel = institutions[institutions["in_edition"]]
        if county_filter:
            sel = sel[sel["county"].isin(county_filter)]
        if inst_filter is not None:
            missing = inst_filter - set(institutions["ident"].astype(str))
            if missing:
                raise ValueError(f"no institution with {', '.join(sorted(_label(i) for i in missing))} "
                                 f"in the data of edition {edition}")
            sel = institutions[institutions["ident"].astype(str).isin(inst_filter)]
        sel = sel.assign(_order=sel["rspo"].astype("Float64").fillna(float("inf")))
        for r in sel.sort_values(["county", "_order", "ident"]).itertuples(index=False):
            c = ref.counties[str(r.county)]
            polon = not pd.isna(r.polon)
            jobs.append(Job("school", str(r.ident), edition, lang, str(r.name), str(r.county),
                            county_name(str(r.county), lang, ref), c.police_unit,
                            school_stem(str(r.ident), polon, str(r.name)), dict(base, institution=str(r.ident)),
                            notebooks, _label(str(r.ident))))
    return jobs


def county_code(ref: Reference, text: str) -> str:
    """The TERYT code of a county given by code or name; ValueError with the known counties."""
    try:
        return ref.county_code(str(text))
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None


def _label(ident: str) -> str:
    return parse_identifier(ident).label()
