"""Building an edition's reports: which reports a selection means (the plan), the build itself with
a progress callback (:mod:`zpb_lib.batch.pipeline` does the work), what a built edition folder holds
(its manifest), and editable copies of the report notebooks."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable

from zpb_lib import store
from zpb_lib.batch.notebooks import CopyResult, copy_notebooks as copy
from zpb_lib.batch.pipeline import (JOURNAL, MANIFEST, BuildOptions, BuildSummary, ReportDone, build,
                                    known_institutions, lang_dir, load_state, parse_langs)
from zpb_lib.batch.plan import KINDS, county_code, plan as plan_of
from zpb_lib.domain import cube as cube_mod
from zpb_lib.reference import Reference, reference

__all__ = ["KINDS", "BuildOptions", "BuildPlan", "BuildSummary", "EditionStatus", "PlannedReport", "ReportDone",
           "copy_notebooks", "plan", "run", "status"]


@dataclass(frozen=True)
class PlannedReport:
    kind: str  # voivodeship, county or school
    key: str  # "12", a TERYT code, or an RSPO number / POL-on id
    title: str
    county: str | None
    stem: str  # its files' name in the edition folder


@dataclass(frozen=True)
class BuildPlan:
    """The reports a build of one edition and language would hold (current or not)."""
    edition: str
    lang: str
    reports: tuple[PlannedReport, ...]

    def counts(self) -> dict[str, int]:
        """Reports per kind, every kind named (0 when none)."""
        n = Counter(r.kind for r in self.reports)
        return {kind: n[kind] for kind in KINDS}


@dataclass(frozen=True)
class EditionStatus:
    """What an edition folder holds for one language, by its manifest and an unfinished build's journal."""
    folder: Path
    edition: str
    lang: str
    generated_at: str | None  # of the last build that finished; None: none finished
    reports: dict[str, str]  # report stem → ok, failed, interrupted, pending
    unfinished: bool  # a build was killed or interrupted: the next one resumes it

    def counts(self) -> dict[str, int]:
        return dict(Counter(self.reports.values()))


def plan(db: "str | os.PathLike | None" = None, edition: str | None = None, *, lang: str = "pl",
         only: Iterable[str] = KINDS, counties: Iterable[str] = (), institutions: Iterable[str] = (),
         ref: Reference | None = None) -> BuildPlan:
    """The reports ``zpb build`` would make of ``edition`` (default: the latest held) for the
    selection, computed from the database's current data; ValueError (one line) for an edition
    that was not held, an unknown county or institution."""
    ref = ref or reference()
    try:
        edition = ref.edition_of(edition) if edition else ref.current_edition().edition
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    if not ref.edition(edition).held:
        raise ValueError(f"edition {edition} was not held (the programme was suspended); nothing to report")
    (lang,) = parse_langs(lang)
    codes = tuple(county_code(ref, c) for c in counties)
    with store.snapshot(store.locate(db)) as (con, _):
        wanted = known_institutions(con, institutions)
        table = cube_mod.compute(con, edition, ref=ref)["institutions"]
    jobs = plan_of(table, ref, edition, lang=lang, only=tuple(only), counties=codes or None,
                   institutions_wanted=wanted or None)
    return BuildPlan(edition, lang, tuple(PlannedReport(j.kind, j.key, j.title, j.county, j.stem) for j in jobs))


def run(options: BuildOptions, on_report: Callable[[ReportDone], None] | None = None,
        ref: Reference | None = None) -> BuildSummary:
    """Build what ``options`` ask for (:func:`zpb_lib.batch.pipeline.build`), telling ``on_report``
    of each report as it finishes. ValueError or KeyError (one line) for options that make no
    sense; KeyboardInterrupt after a Ctrl-C, the folder left consistent."""
    return build(replace(options, on_report=on_report) if on_report else options, ref)


def status(out: "str | os.PathLike", edition: str, lang: str = "pl", ref: Reference | None = None) -> EditionStatus:
    """What ``out``'s folder of ``edition`` (any spelling) holds in ``lang``; an empty status for a
    folder no build has written."""
    ref = ref or reference()
    try:
        edition = ref.edition_of(edition)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    folder = lang_dir(Path(out) / edition.replace("/", "-"), lang)
    state = load_state(folder)
    reports = {str(stem): str(entry.get("status", "pending")) for stem, entry in (state.get("reports") or {}).items()
               if isinstance(entry, dict)}
    finished = (folder / MANIFEST).is_file()
    return EditionStatus(folder, edition, lang, state.get("generated_at") if finished else None, reports,
                         (folder / JOURNAL).exists())


def copy_notebooks(folder: "str | os.PathLike", *, force: bool = False) -> CopyResult:
    """Editable copies of the report notebooks (and the explorer) for ``zpb build --notebooks``;
    copies someone changed are kept unless ``force``."""
    return copy(folder, force=force)
