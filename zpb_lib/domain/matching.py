"""Matching institution names as the police publish them to the register's institutions.

A published award list names a school in free text: „Publiczna Szkoła Podstawowa nr 2 im. Jana
Pawła II w Dąbrowie Tarnowskiej”, „SP nr 12 w Bochni”, „II LO w Nowym Sączu”, „ZSP z Łukowicy”,
„olkuskie Gimnazjum nr 1”, „Szkole Podstawowej w Mszanie Dolnej”. The register holds the RSPO name,
sometimes with the locality inside it, always with the locality (nominative) in a column of its own.
A name is therefore split into parts that are compared each in its own way:

- the body (kind of school and its qualifiers, abbreviations expanded, the dative or genitive of the
  school type put back in the nominative): fuzzy token similarity, plus a penalty when the kinds
  differ (a liceum is not a technikum, however alike the words); a bare „Szkoła” is any school, and
  most likely the complex of its place;
- the school number(s): a hard constraint (nr 2 never matches nr 12; „II LO” is „LO nr 2”);
- the patron („im. …”): present on one side only costs little, a different patron costs more;
  Roman numerals inside it („Jana Pawła II”) are no school numbers;
- the locality: as a unit, against the forms generated from the register's nominative locality
  (:mod:`zpb_lib.reference.placenames`: „w Nowym Sączu”, „z Nowego Sącza”, „nowosądeckie”), so inflection
  costs nothing and typos little; and word by word, so that a village whose name differs by a
  suffix or a qualifier („Łososina Dolna”, „Łososina Górna”) is never accepted without a person.

Similarities are rapidfuzz's; each line is scored against every candidate at once with
``process.cdist`` over the distinct bodies, patrons and locality forms, then combined with numpy.
"""
from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
from rapidfuzz import fuzz, process

from zpb_lib.core.text import fold
from zpb_lib.domain.institutions import Registered
from zpb_lib.reference.placenames import (is_adjective, is_qualifier, locative_forms, place_forms, same_as_written, same_place, town_of_adjective, word_forms)
from zpb_lib.reference.school_words import (ABBREVIATIONS, ADDRESS_WORDS, ALIASES, COUNTY_WORDS, FILLERS, GENERIC_BODIES, KIND_CLASSES, PLACE_END_WORDS, NOT_PLACE_AFTER_Z, ORDINAL_PREFIX, TYPE_FORMS, TYPE_STARTS)
from zpb_lib.store.backend import Connection
from zpb_lib.store.queries.institutions import match_candidates

__all__ = ["AUTO_ACCEPT", "PLAUSIBLE", "Candidate", "CandidateSet", "Match", "Parsed", "candidate", "candidates",
           "decision", "locative_forms", "match_line", "parse", "tokens"]

# Chosen with benchmarks/bench_match.py: precision is 0.997 from 70 up on its lines (0.978 at 60);
# 90 costs about one point of recall there and keeps a near miss for review, e.g. „Zespół Szkół
# nr 1” given to „Zespół Szkół Ogólnokształcących nr 1” (89) when the former is not in the register,
# while one typo in the locality (a short name scores 83) still clears it. A locality that is not
# the line's word for word stays below it whatever it scores (see _doubt).
AUTO_ACCEPT = 90.0
# The best match must beat the next institution by this much, else it is a tie for a person to
# settle (two schools of the same name in villages of the same name are common in Małopolska).
AUTO_MARGIN = 5.0
# Below this the best candidate is no plausible match: the row is left for a person to fill in.
PLAUSIBLE = 60.0

# Weights of the score: 100 minus penalties, see _score.
BODY_WEIGHT = 0.5
TYPO_SIMILARITY = 80.0  # locality similarity down to which a difference is likely a typo
TYPO_WEIGHT = 0.5
LOCALITY_WEIGHT = 2.0  # per point below TYPO_SIMILARITY
KIND_PENALTY = 25.0  # the kinds of school differ
NUMBER_MISSING_IN_REGISTER = 20.0  # the line has a number, the register's name none
NUMBER_MISSING_IN_LINE = 15.0  # the register's name has a number, the line none
PATRON_ONE_SIDE = 2.0
PATRON_WEIGHT = 0.2
LEFTOVER_PLACE_WORD = 8.0  # a word after the locality that no locality form explains
TAIL_WORD = 2.0
TAIL_MAX = 10.0
COUNTY_PENALTY = 20.0
CLOSED_PENALTY = 40.0
NO_PLACE_MARKER = 5.0  # the line names no locality with „w …”: found anywhere in it, less sure
LOOSE_PLACE_MIN = 75.0  # ... if it is found at all; below this the line names no locality
NO_LOCALITY_PENALTY = 25.0  # no locality in the line: never accepted without a person
# The line's locality is not the candidate's word for word (another village of a similar name, or
# a suffix left out): the score drops and stays below AUTO_ACCEPT.
OTHER_PLACE_PENALTY = 10.0
# „Szkoła w X” names no kind of school: any school of X fits, its complex best (an award given to a
# complex is often announced for „the school” of the village), as for „Szkoła Podstawowa i Gimnazjum
# w X”; never accepted without a person.
GENERIC_COMPLEX_SIMILARITY = 85.0

BREAK = "|"
FAMILIES = ("school", "university")

_ROMAN = re.compile(r"^(x{0,3})(ix|iv|v?i{0,3})$")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10}
_BREAKS = re.compile(r"\s[-–—]+\s|[,;:()\[\]{}–—]")
_ITEM_NUMBER = re.compile(r"^\s*(?:\(?\d{1,3}\s*[.)]|[•·▪*\-–—])\s*")
_GLUED = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


# --------------------------------------------------------------------------- names into parts

@dataclass(frozen=True)
class Parsed:
    """A name in parts, each folded (lower case, no diacritics) and with abbreviations expanded."""
    body: str  # kind of school and qualifiers, fillers dropped
    kind_class: str | None
    numbers: frozenset[int]
    patron: str
    place: tuple[str, ...]  # the words after „w”/„z” as written (locative, genitive), or an adjective's town
    tail: tuple[str, ...]  # words after the locality that belong to none of the above
    county: str | None  # „powiat limanowski” → "limanowski"
    loose: tuple[str, ...]  # body and tail words: where to look for a locality the line names without „w”

    @property
    def generic(self) -> bool:
        """„Szkoła w X”: no kind of school named."""
        return self.body in GENERIC_BODIES

    @property
    def kinds_of_a_complex(self) -> bool:
        """„Szkoła Podstawowa i Gimnazjum w X”: a complex named by its schools, not as one."""
        return self.kind_class == "complex" and "zespol" not in self.body.split()


def roman_value(token: str) -> int | None:
    """The value of a Roman numeral token ("xii" → 12), None for other tokens."""
    if not token or not _ROMAN.match(token):
        return None
    total, prev = 0, 0
    for ch in reversed(token):
        v = _ROMAN_VALUES[ch]
        total, prev = (total - v, prev) if v < prev else (total + v, v)
    return total or None


def tokens(text: str) -> list[str]:
    """Folded words of ``text``; ``BREAK`` where a comma, semicolon, colon, bracket or dash cut it."""
    t = unicodedata.normalize("NFKC", str(text or "")).replace("№", " nr ")
    out: list[str] = []
    for i, segment in enumerate(_BREAKS.split(t)):
        if i:
            out.append(BREAK)
        out.extend(_join_letters(_GLUED.sub(" ", fold(segment)).split()))
    while out and out[-1] == BREAK:
        out.pop()
    return out


def _join_letters(words: list[str]) -> list[str]:
    """„S.P.”, „Z. S. O.”, „L.O.” come as single letters: join runs that spell an abbreviation."""
    out: list[str] = []
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and len(words[j]) == 1 and words[j].isalpha():
            j += 1
        if j - i < 2:
            out.append(words[i])
            i += 1
            continue
        run = words[i:j]
        k = 0
        while k < len(run):
            for end in range(len(run), k + 1, -1):  # the longest abbreviation from k
                if "".join(run[k:end]) in ABBREVIATIONS:
                    out.append("".join(run[k:end]))
                    k = end
                    break
            else:
                out.append(run[k])
                k += 1
        i = j
    return out


def _variants(words: list[str]) -> list[list[str]]:
    """The token lists an abbreviated name may stand for (several when an abbreviation is ambiguous)."""
    options: list[list[list[str]]] = []
    for w in words:
        w = ALIASES.get(w, w)
        if w in ABBREVIATIONS:
            options.append([e.split() for e in ABBREVIATIONS[w]])
        else:
            options.append([[w]])
    out = []
    for combo in itertools.islice(itertools.product(*options), 6):
        out.append([w for part in combo for w in part])
    return out


def parse(text: str) -> list[Parsed]:
    """``text`` in parts, once per reading of its abbreviations (usually one)."""
    words = tokens(_ITEM_NUMBER.sub("", str(text or ""), count=1))
    # "pod wezwaniem" (Catholic schools) introduces the patron like "im."
    for i in range(len(words) - 1):
        if words[i] == "pod" and words[i + 1] == "wezwaniem":
            words[i:i + 2] = ["im", ""]
    words = [w for w in words if w]
    return [_structure(v) for v in _variants(words)]


def _place_marker(words: list[str]) -> int | None:
    """Index of the token that introduces the locality: the last „w”/„we” followed by a word, else
    the last „z”/„ze” followed by one (the genitive: „Gimnazjum z Grybowa”, not „z Oddziałami…”, nor
    inside a patron's first two words: „im. Jana z Dukli”), else the first break after the name
    („Gimnazjum nr 8, Tarnów”)."""
    def starts_place(nxt: str) -> bool:
        return nxt != BREAK and not nxt.isdigit() and nxt not in ("im", "nr")

    for i in range(len(words) - 2, -1, -1):
        if words[i] in ("w", "we") and starts_place(words[i + 1]):
            return i
    for i in range(len(words) - 2, 0, -1):
        nxt = words[i + 1]
        if words[i] in ("z", "ze") and starts_place(nxt) and not nxt.startswith(NOT_PLACE_AFTER_Z):
            patron_from = max((k for k in range(i) if words[k] == "im"), default=None)
            if patron_from is None or i - patron_from > 2 or BREAK in words[patron_from:i]:
                return i
    if BREAK in words:
        i = words.index(BREAK)
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if i > 0 and nxt and starts_place(nxt) and nxt not in (*COUNTY_WORDS, *ADDRESS_WORDS):
            return i
    return None


def _structure(words: list[str]) -> Parsed:
    marker = _place_marker(words)
    body: list[str] = []
    patron: list[str] = []
    place: list[str] = []
    tail: list[str] = []
    numbers: set[int] = set()
    county: str | None = None
    town: str | None = None  # named by its adjective before the school type
    state, seen_place = "body", False
    i = 0
    while i < len(words):
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        after = "tail" if seen_place else "body"
        if i == marker:
            state, seen_place = "place", True
        elif w == BREAK:
            state = after
        elif w == "im":
            state = "patron"
        elif w == "nr" and (nxt.isdigit() or roman_value(nxt)):
            numbers.add(int(nxt) if nxt.isdigit() else roman_value(nxt))  # type: ignore[arg-type]
            i += 1
            state = after if state in ("patron", "place") else state
        elif w in COUNTY_WORDS and nxt and nxt != BREAK:
            county = nxt
            i += 1
        elif state == "patron":
            patron.append(w)
        elif state == "place":
            if w in ADDRESS_WORDS or w in PLACE_END_WORDS:
                state = "tail"
                tail.append(w)
            else:
                place.append(w)
        elif state == "tail":
            tail.append(w)
        else:
            w = TYPE_FORMS.get(w, w)
            if w.isdigit() and 0 < int(w) < 1000 and body and not body[-1].isdigit() and body[-1] not in ADDRESS_WORDS:
                numbers.add(int(w))  # „SP 12”: a bare number right after the kind
            elif roman_value(w) and all(b in ORDINAL_PREFIX for b in body) and nxt and nxt != BREAK:
                numbers.add(roman_value(w))  # type: ignore[arg-type]  # „II LO”: an ordinal before the kind
            elif (town is None and town_of_adjective(w) and all(b in ORDINAL_PREFIX or b in FILLERS for b in body)
                  and (TYPE_FORMS.get(nxt, nxt) in TYPE_STARTS or roman_value(nxt))):
                town = town_of_adjective(w)  # „olkuskie Gimnazjum”: the town, not a word of the type
            else:
                body.append(w)
        i += 1
    if not place and town:
        place = fold(town).split()
    kept = [w for w in body if w not in FILLERS]
    return Parsed(body=" ".join(kept), kind_class=_kind_class(kept), numbers=frozenset(numbers),
                  patron=" ".join(patron), place=tuple(place), tail=tuple(tail), county=county,
                  loose=tuple(w for w in (*body, *tail) if not w.isdigit()))


def _kind_class(words: Iterable[str]) -> str | None:
    """The kind of school the words name; two kinds at once („Szkoła Podstawowa i Gimnazjum”) are a
    complex's."""
    present = set(words)
    found = [name for name, keys in KIND_CLASSES if present & keys]
    if len(found) > 1 and "complex" not in found and "university" not in found:
        return "complex"
    return found[0] if found else None


# --------------------------------------------------------------------------- candidates

@dataclass(frozen=True)
class Candidate(Registered):
    """One institution of the register as the matcher sees it."""
    locality: str
    county: str  # TERYT
    county_name: str
    kind: str
    family: str
    closed_year: int | None
    kind_exists_to: int | None
    parsed: Parsed
    places: tuple[str, ...]  # folded forms of its locality, the name's own „w …” phrase included
    place_words: tuple[frozenset[str], ...]  # per word of its locality: the forms a list may write

    def describe(self) -> str:
        """„RSPO 123456 — Szkoła Podstawowa nr 2 (Bochnia)”."""
        return f"{self.label} — {self.name} ({self.locality})"


def candidate(*, id: int, name: str, locality: str, kind: str, family: str = "school", county: str = "",
              county_name: str = "", rspo: int | None = None, polon: str | None = None,
              closed_year: int | None = None, kind_exists_to: int | None = None) -> Candidate:
    """A :class:`Candidate` from an institution's fields (its name parsed, its locality declined)."""
    p = parse(name)[0]
    places = place_forms(locality) or [""]
    if p.place and " ".join(p.place) not in places:
        places.append(" ".join(p.place))  # the name's locality, if it is not the locality column's
    return Candidate(id=int(id), rspo=rspo, polon=polon, name=name, locality=locality, county=county,
                     county_name=county_name, kind=kind, family=family, closed_year=closed_year,
                     kind_exists_to=kind_exists_to, parsed=p, places=tuple(places),
                     place_words=word_forms(locality))


class CandidateSet(Sequence[Candidate]):
    """Candidates with their parts gathered into arrays, so a line is scored against all at once."""

    def __init__(self, items: Iterable[Candidate]):
        self.items: list[Candidate] = list(items)
        n = len(self.items)
        self.bodies, self.body_idx = _index(c.parsed.body for c in self.items)
        patrons, patron_idx = _index(c.parsed.patron for c in self.items)
        self.patrons = patrons
        self.patron_idx = np.where([bool(c.parsed.patron) for c in self.items], patron_idx, -1)
        place_keys, self.place_idx = _index(c.places for c in self.items)
        self.forms: list[str] = []
        owners: list[int] = []
        for k, forms in enumerate(place_keys):
            self.forms.extend(forms)
            owners.extend([k] * len(forms))
        self.form_owner = np.array(owners, dtype=np.int64)
        self.form_starts = np.searchsorted(self.form_owner, np.arange(len(place_keys))) if n else np.zeros(0, int)
        self.form_words = np.array([f.count(" ") + 1 for f in self.forms], dtype=np.int64)
        self.kind_class = np.array([c.parsed.kind_class or "" for c in self.items], dtype=object)
        # One number per name is the rule: -1 none, -2 several (those are checked one by one).
        self.number = np.array([(-1 if not c.parsed.numbers else next(iter(c.parsed.numbers))
                                 if len(c.parsed.numbers) == 1 else -2) for c in self.items], dtype=np.int64)
        self.family = np.array([c.family for c in self.items], dtype=object)
        self.last_year = np.array([min(y for y in (c.closed_year, c.kind_exists_to, 10_000) if y is not None)
                                   for c in self.items], dtype=np.int64)
        counties, self.county_idx = _index(fold(c.county_name) for c in self.items)
        self.county_names = counties
        self.ids = np.array([c.id for c in self.items], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i):  # type: ignore[override]
        return self.items[i]


def _index(values: Iterable) -> tuple[list, np.ndarray]:
    """Distinct values in first-seen order and each item's index into them."""
    seen: dict = {}
    idx = [seen.setdefault(v, len(seen)) for v in values]
    return list(seen), np.array(idx, dtype=np.int64)


def candidates(con: Connection, *, family: str | None = None) -> CandidateSet:
    """Every institution of the register (of ``family`` if given), ready for :func:`match_line`."""
    rows = match_candidates(con, family)
    return CandidateSet(candidate(id=r[0], rspo=r[1], polon=r[2], name=r[3], locality=r[4], county=r[5],
                                  county_name=r[6], kind=r[7], family=r[8], closed_year=r[9],
                                  kind_exists_to=r[10]) for r in rows)


# --------------------------------------------------------------------------- scoring

@dataclass(frozen=True)
class Match:
    candidate: Candidate
    score: float  # 0–100
    reasons: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        """„RSPO 123456 — Szkoła Podstawowa nr 2 (Bochnia), 97”."""
        return f"{self.candidate.describe()}, {self.score:.0f}"


@dataclass
class _Parts:
    body: np.ndarray
    kind: np.ndarray
    place: np.ndarray
    number: np.ndarray  # penalty; inf = excluded
    patron: np.ndarray
    county: np.ndarray
    closed: np.ndarray
    tail: float
    total: np.ndarray


def _body_sims(p: Parsed, cs: CandidateSet) -> np.ndarray:
    if not p.body:
        return np.zeros(len(cs))
    sort = process.cdist([p.body], cs.bodies, scorer=fuzz.token_sort_ratio)[0]
    sets = process.cdist([p.body], cs.bodies, scorer=fuzz.token_set_ratio)[0]
    sims = ((sort + sets) / 2.0)[cs.body_idx]
    if p.generic or p.kinds_of_a_complex:
        sims = np.where(cs.kind_class == "complex", np.maximum(sims, GENERIC_COMPLEX_SIMILARITY), sims)
    return sims


def _place_sims(p: Parsed, cs: CandidateSet) -> np.ndarray | None:
    """Similarity of the line's locality to each candidate's, the locality taken as a unit; None
    when the line names no locality at all."""
    words = cs.form_words
    if p.place:
        n = len(p.place)
        windows = [" ".join(p.place[:k]) for k in range(1, min(n, int(words.max())) + 1)]
        m = process.cdist(windows, cs.forms, scorer=fuzz.ratio)
        row = np.minimum(words, len(windows)) - 1
        sims = m[row, np.arange(len(cs.forms))] - LEFTOVER_PLACE_WORD * np.maximum(0, n - words)
    else:  # no „w …”: the locality may stand anywhere, e.g. „SP nr 2 Bochnia”
        loose = p.loose
        sims = np.zeros(len(cs.forms))
        for k in range(1, min(3, len(loose)) + 1):
            windows = [" ".join(loose[i:i + k]) for i in range(len(loose) - k + 1)]
            best = process.cdist(windows, cs.forms, scorer=fuzz.ratio).max(axis=0)
            sims = np.where(words == k, np.maximum(sims, best), sims)
        if sims.max(initial=0.0) < LOOSE_PLACE_MIN:
            return None
        sims = sims - NO_PLACE_MARKER
    per_key = np.maximum.reduceat(sims, cs.form_starts) if len(sims) else sims
    return np.clip(per_key[cs.place_idx], 0.0, 100.0)


def _number_penalty(p: Parsed, cs: CandidateSet) -> np.ndarray:
    num = cs.number
    if not p.numbers:
        return np.where(num == -1, 0.0, NUMBER_MISSING_IN_LINE)
    pen = np.where(num == -1, NUMBER_MISSING_IN_REGISTER,
                   np.where(np.isin(num, list(p.numbers)), 0.0, np.inf))
    for i in np.flatnonzero(num == -2):  # several numbers in the register's name
        pen[i] = 0.0 if p.numbers & cs.items[i].parsed.numbers else np.inf
    return pen


def _patron_penalty(p: Parsed, cs: CandidateSet) -> np.ndarray:
    has = cs.patron_idx >= 0
    if not p.patron:
        return np.where(has, PATRON_ONE_SIDE, 0.0)
    sims = process.cdist([p.patron], cs.patrons, scorer=fuzz.token_set_ratio)[0]
    return np.where(has, (100.0 - sims[np.maximum(cs.patron_idx, 0)]) * PATRON_WEIGHT, PATRON_ONE_SIDE)


def _county_penalty(p: Parsed, cs: CandidateSet) -> np.ndarray:
    if not p.county:
        return np.zeros(len(cs))
    sims = np.maximum(process.cdist([p.county], cs.county_names, scorer=fuzz.ratio)[0],
                      process.cdist([p.county], [f"{c}m" for c in cs.county_names], scorer=fuzz.ratio)[0])
    return np.where(sims[cs.county_idx] >= 80, 0.0, COUNTY_PENALTY)


def _place_penalty(sim: np.ndarray) -> np.ndarray:
    """Gentle down to TYPO_SIMILARITY (one wrong letter in a short name scores about 83), steep
    below it, where another locality begins („Nowym Sączu” and „Starym Sączu” score 70)."""
    gentle = TYPO_WEIGHT * (100.0 - np.maximum(sim, TYPO_SIMILARITY))
    return gentle + LOCALITY_WEIGHT * np.maximum(0.0, TYPO_SIMILARITY - sim)


def _score(p: Parsed, cs: CandidateSet, family: str | None, year: int | None) -> _Parts:
    body = _body_sims(p, cs)
    kind = np.where((cs.kind_class != "") & (cs.kind_class != (p.kind_class or "")) & bool(p.kind_class),
                    KIND_PENALTY, 0.0)
    place = _place_sims(p, cs)
    place_pen = _place_penalty(place) if place is not None else np.full(len(cs), NO_LOCALITY_PENALTY)
    if place is None:
        place = np.full(len(cs), np.nan)
    number = _number_penalty(p, cs)
    patron = _patron_penalty(p, cs)
    county = _county_penalty(p, cs)
    closed = np.where(cs.last_year < year, CLOSED_PENALTY, 0.0) if year else np.zeros(len(cs))
    tail = min(TAIL_MAX, TAIL_WORD * len(p.tail))
    total = (100.0 - BODY_WEIGHT * (100.0 - body) - place_pen
             - kind - number - patron - county - closed - tail)
    total = np.clip(np.where(np.isinf(number), -np.inf, total), -np.inf, 100.0)
    if family:
        total = np.where(cs.family == family, total, -np.inf)
    return _Parts(body, kind, place, number, patron, county, closed, tail, total)


def _reasons(p: Parsed, parts: _Parts, i: int, c: Candidate, year: int | None) -> tuple[str, ...]:
    place = parts.place[i]
    out = [f"nazwa {parts.body[i]:.0f}",
           f"miejscowość {c.locality} {place:.0f}" if place == place else "brak miejscowości w linii"]
    if parts.kind[i]:
        out.append("inny rodzaj szkoły")
    if p.numbers and c.parsed.numbers:
        out.append(f"numer {', '.join(map(str, sorted(p.numbers)))} zgodny")
    elif p.numbers:
        out.append("numer tylko w linii")
    elif c.parsed.numbers:
        out.append(f"numer tylko w rejestrze ({', '.join(map(str, sorted(c.parsed.numbers)))})")
    if p.patron and c.parsed.patron:
        out.append("patron zgodny" if parts.patron[i] < 5 else "inny patron")
    elif p.patron or c.parsed.patron:
        out.append("patron tylko w " + ("linii" if p.patron else "rejestrze"))
    if parts.county[i]:
        out.append("inny powiat")
    if parts.closed[i] and year:
        out.append(f"nie istniała w {year}")
    return tuple(out)


def _loose_same(loose: Sequence[str], forms: Sequence[frozenset[str]]) -> bool:
    """Whether a line without „w …” holds the locality word for word, not followed by a word that
    makes it another place („Szkoła Podstawowa Łososina Dolna” is not in Łososina)."""
    for k in dict.fromkeys((len(forms), len(forms) - 1)):
        for i in range(len(loose) - k + 1) if k > 0 else ():
            nxt = loose[i + k] if i + k < len(loose) else ""
            if (same_place(loose[i:i + k], forms) and not (nxt and (is_qualifier(nxt) or is_adjective(nxt)))
                    and not (i > 0 and is_qualifier(loose[i - 1]))):
                return True
    return False


def _doubt(p: Parsed, c: Candidate) -> tuple[float, str] | None:
    """Why ``c`` must not be accepted for the line ``p`` however high it scores, and the penalty:
    the line names another locality word for word, no kind of school, or several."""
    if p.place:
        same = same_place(p.place, c.place_words) or bool(c.parsed.place) and same_as_written(p.place, c.parsed.place)
    else:
        same = _loose_same(p.loose, c.place_words)
    if not same:
        return OTHER_PLACE_PENALTY, f"inna miejscowość? (w rejestrze: {c.locality})"
    if p.generic:
        return 0.0, "w linii brak rodzaju szkoły"
    if p.kinds_of_a_complex:
        return 0.0, "w linii kilka rodzajów szkół (zespół?)"
    return None


def match_line(text: str, candidates: Sequence[Candidate], *, family: str | None = "school",
               year: int | None = None, limit: int = 3) -> list[Match]:
    """The ``limit`` institutions most like the published name ``text``, best first, each with a
    score 0–100 and the reasons. Institutions with another school number are never returned.
    ``family`` ("school", "university" or None for all) restricts the kinds of institution;
    ``year``, the calendar year of the award, pushes down institutions closed by then."""
    cs = candidates if isinstance(candidates, CandidateSet) else CandidateSet(candidates)
    if family is not None and family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES} or None, got {family!r}")
    variants = parse(text)
    if not len(cs) or not variants:
        return []
    scored = [(p, _score(p, cs, family, year)) for p in variants]
    totals = np.vstack([s.total for _, s in scored])
    best_variant = totals.argmax(axis=0)
    total = totals.max(axis=0)
    valid = np.flatnonzero(np.isfinite(total) & (total > 0))
    if not len(valid):
        return []
    # Doubts only lower a score: check the best candidates until no unchecked one could still
    # enter the first ``limit`` (two at least, for the margin of the decision).
    adjusted: dict[int, float] = {}
    doubts: dict[int, str] = {}
    seen: dict[tuple, tuple[float, str] | None] = {}  # schools of one place share the answer
    need = max(limit, 2)
    for i in (int(k) for k in valid[np.lexsort((cs.ids[valid], -total[valid]))]):
        if len(adjusted) >= need and total[i] < sorted(adjusted.values(), reverse=True)[need - 1]:
            break
        c, v = cs.items[i], int(best_variant[i])
        key = (v, c.locality, c.parsed.place)
        if key not in seen:
            seen[key] = _doubt(scored[v][0], c)
        score, doubt = float(total[i]), seen[key]
        if doubt:
            score = min(score - doubt[0], AUTO_ACCEPT - 1.0)
            doubts[i] = doubt[1]
        adjusted[i] = score
    order = sorted((i for i in adjusted if adjusted[i] > 0), key=lambda i: (-adjusted[i], cs.ids[i]))[:limit]
    out = []
    for i in order:
        p, parts = scored[int(best_variant[i])]
        c = cs.items[i]
        reasons = _reasons(p, parts, i, c, year) + ((doubts[i],) if i in doubts else ())
        out.append(Match(c, round(adjusted[i], 1), reasons))
    return out


def decision(matches: Sequence[Match], *, threshold: float = AUTO_ACCEPT) -> str:
    """"auto" (accept the best match), "review" (a person should check it) or "none" (no
    plausible institution: a person fills it in). ``threshold`` is for the benchmark's sweep."""
    if not matches or matches[0].score < PLAUSIBLE:
        return "none"
    if matches[0].score >= threshold and (len(matches) < 2 or matches[0].score - matches[1].score >= AUTO_MARGIN):
        return "auto"
    return "review"
