"""Institutions as people name them: a school by its RSPO number, a university by its POL-on id.

The internal id links rows inside the database and never reaches a person. Everything that takes an
institution from a person (command options, the files people fill in, notebook parameters) goes
through :func:`lookup`; everything that shows one uses :func:`identifier` or :func:`label`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from zpb_lib.core.errors import ZpbError
from zpb_lib.core.text import fold
from zpb_lib.reference.identifiers import Identifier, identifier, label, parse_identifier
from zpb_lib.reference.school_words import ABBREVIATIONS, FILLERS
from zpb_lib.store.backend import Connection
from zpb_lib.store.queries import institutions as q


class UnknownInstitution(ZpbError, LookupError):
    """No institution has the identifier a person gave; the message says how to find one."""


@dataclass(frozen=True)
class Registered:
    """What every view of an institution begins with: the row's id, the registers' identifiers and
    the name (the matcher's :class:`zpb_lib.domain.matching.Candidate` is one too)."""
    id: int  # internal: links rows, never shown
    rspo: int | None
    polon: str | None
    name: str

    @property
    def ident(self) -> str:
        return identifier(self.rspo, self.polon)

    @property
    def label(self) -> str:
        return label(self.rspo, self.polon)


@dataclass(frozen=True)
class Institution(Registered):
    kind: str
    family: str
    county: str
    locality: str
    closed_year: int | None
    kind_exists_to: int | None
    in_register: bool


def _row(r: tuple) -> Institution:
    """An institution from a row of :data:`zpb_lib.store.queries.institutions.INSTITUTION_COLUMNS`."""
    return Institution(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], bool(r[10]))


def lookup(con: Connection, text: Any) -> Institution:
    """The institution a person named by RSPO number or POL-on id; raises ValueError for text that
    is neither, :class:`UnknownInstitution` when no institution has it (saying so when an RSPO
    export listed the number but zpb did not store it: a preschool, a type it does not know)."""
    ident = parse_identifier(text)
    row = q.institution_by(con, ident.column, ident.value)
    if row is None:
        raise UnknownInstitution(_not_found(con, ident))
    return _row(row)


# Keys of an RSPO import's details (``imports.details``) listing the RSPO numbers of the Małopolska
# rows it did not store, by the type the export gave: types the programme does not cover
# (``kind: null`` in rspo_types.yaml, e.g. Przedszkole), and types zpb does not know.
SKIPPED_OUT_OF_SCOPE = "out_of_scope_rspo"
SKIPPED_UNKNOWN_TYPE = "unknown_type_rspo"


@dataclass(frozen=True)
class SkippedRow:
    """An RSPO number an imported RSPO export listed and zpb did not store, and why."""
    import_id: int
    file_name: str
    imported_at: str
    type_name: str
    out_of_scope: bool  # False: a type zpb does not know


def skipped_by_register(con: Connection, rspo: int) -> SkippedRow | None:
    """The latest RSPO import that listed ``rspo`` among the Małopolska rows it did not store."""
    for iid, file_name, imported_at, details in q.institution_imports_mentioning(con, str(rspo)):
        try:
            d = json.loads(details)
        except (TypeError, ValueError):
            continue
        for key, out_of_scope in ((SKIPPED_OUT_OF_SCOPE, True), (SKIPPED_UNKNOWN_TYPE, False)):
            listed = d.get(key) if isinstance(d, dict) else None
            for type_name, numbers in (listed.items() if isinstance(listed, dict) else ()):
                if isinstance(numbers, list) and rspo in numbers:
                    return SkippedRow(int(iid), str(file_name), str(imported_at), str(type_name), out_of_scope)
    return None


def _not_found(con: Connection, ident: Identifier) -> str:
    """Why no institution has ``ident``, as far as the database can tell, and what to do."""
    if ident.scheme == "polon":
        return (f"no university with {ident.label()} in the database (find one with `zpb institutions find NAME`; "
                "universities come from their list: `zpb ingest institutions`)")
    skipped = skipped_by_register(con, int(ident.value))
    if skipped is None:
        return (f"no institution with {ident.label()} in the database (zpb keeps Małopolska's schools of the types "
                "the programme covers, from the RSPO register's export: check the number with `zpb institutions find "
                "NAME`; a school missing from the database comes with a newer export, `zpb ingest institutions`)")
    s = skipped
    source = f"the RSPO export „{s.file_name}” (import #{s.import_id} of {str(s.imported_at)[:10]})"
    if s.out_of_scope:
        return (f"{ident.label()} is not in the database: {source} lists it as „{s.type_name}”, a type of "
                "institution the programme does not cover, so it was not stored and takes no part (the types "
                "covered are set in rspo_types.yaml of the reference data)")
    return (f"{ident.label()} is not in the database: {source} lists it as „{s.type_name}”, a type zpb does not "
            "know, so it was not stored; if the programme covers that type, add it to rspo_types.yaml of the "
            "reference data and import an RSPO export again")


def by_ids(con: Connection, ids: list[int]) -> dict[int, Institution]:
    """Institutions by internal id (for messages about rows already stored)."""
    return {int(r[0]): _row(r) for r in q.institutions_by_ids(con, ids)}


# Short names of universities that their initials do not give: the former or the later name's.
_SHORT_NAMES = {"up": ("uken",), "uken": ("up",), "pwsz": ("ans",), "ans": ("pwsz",)}
# Words that give no letter to an acronym („Zespół Szkół Technicznych i Ogólnokształcących” is ZSTiO
# or ZSTO, „Uniwersytet Ekonomiczny w Krakowie” UE or UEK).
_SMALL_WORDS = frozenset({"i", "w", "we", "im", "imienia", "nr", "z", "ze", "na", "do", "dla", "oraz", "pod", "nad",
                          "przy", "sw", "ks", "bl"})
_ROMAN = re.compile(r"^[ivx]+$")


def acronyms(name: str) -> frozenset[str]:
    """The abbreviations people use for an institution's name, folded: the initials of the name
    proper (before „nr”, „im.” or „w …”), with and without an „i” („ZSTiO”, „ZSTO”), with the place
    after „w” („UEK”, „URK”), and the patron's initials („AFM”, „KEN”)."""
    words = fold(name).split()
    cut = next((k for k, w in enumerate(words) if w in ("im", "imienia", "nr") or (w in ("w", "we") and k)),
               len(words))
    head = words[:cut]
    while head and _ROMAN.match(head[0]):  # „II Liceum …”: an ordinal, not a word of the name
        head = head[1:]
    head = [w for w in head if not w.isdigit()]
    plain = "".join(w[0] for w in head if w not in _SMALL_WORDS)
    with_i = "".join(w[0] for w in head if w not in _SMALL_WORDS - {"i"})
    out = {plain, with_i}
    rest = words[cut:]
    if "im" in rest or "imienia" in rest:
        start = next(k for k, w in enumerate(rest) if w in ("im", "imienia")) + 1
        end = next((k for k in range(start, len(rest)) if rest[k] in ("w", "we")), len(rest))
        out.add("".join(w[0] for w in rest[start:end] if w not in _SMALL_WORDS and not w.isdigit()))
    place = next((k for k, w in enumerate(words) if w in ("w", "we") and k), None)
    if place is not None:
        out.add(plain + "".join(w[0] for w in words[place + 1:] if w not in _SMALL_WORDS))
    return frozenset(a for a in out if 2 <= len(a) <= 8)


@dataclass(frozen=True)
class Found:
    institution: Institution
    county_name: str
    score: float


def _word_score(word: str, tokens: set[str], hay: str) -> float:
    """How well one word of a search fits an institution: 2 a whole word (an acronym too) or an
    abbreviation of its type's words („zso”), 1 a part of a word; 0 not at all."""
    if word in tokens:
        return 2.0
    if any(all(w in tokens or w in FILLERS for w in e.split()) for e in ABBREVIATIONS.get(word, ())):
        return 2.0
    if any(alias in tokens for alias in _SHORT_NAMES.get(word, ())):
        return 2.0
    if word.isalpha() and len(word) <= 3:  # „up”, „ka”: the start of a word, not anywhere in one
        return 1.0 if any(t.startswith(word) for t in tokens) else 0.0
    return 1.0 if word in hay else 0.0


def find(con: Connection, text: str, *, limit: int = 20) -> list[Found]:
    """Institutions whose name, locality, county, RSPO number or POL-on id hold every word of
    ``text`` (case and diacritics ignored; abbreviations such as „sp”, „zso”, „AGH”, „UEK” too),
    best first: identifier hits, then whole-word hits, then the shorter name."""
    words = [w for w in fold(text).split() if w not in ("nr", "im")]
    if not words:
        return []
    rows = q.institutions_with_county_name(con)
    hits: list[Found] = []
    for r in rows:
        inst = _row(r[1:])
        hay = fold(f"{inst.name} {inst.locality} {r[0]} {inst.ident}")
        tokens = set(hay.split()) | acronyms(inst.name)
        score = 0.0
        for w in words:
            s = _word_score(w, tokens, hay)
            if not s:
                break
            score += s
        else:
            if any(w == inst.ident.lower() for w in words):
                score += 10
            hits.append(Found(inst, r[0], score - len(inst.name) / 1000))
    hits.sort(key=lambda f: (-f.score, f.institution.name))
    return hits[:limit]
