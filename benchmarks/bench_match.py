"""How well published award lists are matched to the register (zpb_lib.domain.matching), against a baseline.

Generates a demo database, makes its names look like RSPO's (a share get a patron, a share lose the
locality, which then lives only in the locality column), then writes ≥ 300 lines as the police
publish them for schools that won awards: the locality in the locative, abbreviations („SP”, „ZS”,
„LO”, „II LO”), patrons added or dropped, typos (a swapped or dropped letter), case changes,
numbering and trailing separators; a few lines lack the school number, and 12 % name a school
removed from the register (accepting anything for those is an error). The truth is the RSPO number
the line was written from. On top come the hand-written cases of benchmarks/match_cases.py (real
localities whose names differ by a suffix or a qualifier, abbreviations of complexes, „Szkoła w X”
for a complex, the genitive, a town's adjective and the dative) and lines naming demo schools in
those grammar forms; their schools are added to the register.

Two runs. The normal one prints precision at AUTO_ACCEPT (target ≥ 0.99), recall (share of lines
whose school is in the register auto-accepted correctly), the share with the right school anywhere in
the top 3, the figures by kind of line, lines per second and a threshold sweep (how AUTO_ACCEPT was
chosen). The run without the true schools takes every line's school out of the register (closures,
renames, an old export): every acceptance is then wrong, so it prints how many lines were accepted
(target ≈ 0), apart from demo lines whose exact name a remaining school carries (no matcher can tell
those apart without a county). Then the same figures for a baseline: rapidfuzz
``process.extractOne`` with ``fuzz.WRatio`` over the raw names, and the ratios between the two.
Also times ``match_published`` on the lines written to a .txt file (some items wrapped). Not a test.

    .venv/bin/python benchmarks/bench_match.py [--lines 400] [--seed 11] [--show 15]
"""
from __future__ import annotations

import argparse
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rapidfuzz import fuzz, process, utils  # noqa: E402

from zpb_lib.services import demo
from zpb_lib import store  # noqa: E402
from zpb_lib.ingest.published import match_published  # noqa: E402
from zpb_lib.domain.matching import AUTO_ACCEPT, AUTO_MARGIN, CandidateSet, candidates, decision, match_line  # noqa: E402
from zpb_lib.store.write import insert_rows, transaction  # noqa: E402

import match_cases  # noqa: E402  (benchmarks/, next to this script)

TARGET_PRECISION = 0.99
ABSENT_SHARE = 0.12
PATRONS = ["Jana Pawła II", "Adama Mickiewicza", "Marii Konopnickiej", "Tadeusza Kościuszki", "Henryka Sienkiewicza",
           "Kornela Makuszyńskiego", "Józefa Piłsudskiego", "Marii Skłodowskiej-Curie", "Mikołaja Kopernika",
           "Orląt Lwowskich", "Bohaterów Westerplatte", "św. Jadwigi Królowej", "Armii Krajowej",
           "Króla Jana III Sobieskiego", "Władysława Orkana", "Kardynała Stefana Wyszyńskiego"]
ROMAN = ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV"]
_DEMO_NAME = re.compile(r"^(?P<base>.+?)(?: nr (?P<num>\d+))? w (?P<loc>.+)$")


@dataclass
class Truth:
    rspo: int
    kind: str
    base: str  # KIND_NAMES text
    number: int | None
    locative: str
    locality: str
    patron: str | None  # the patron the register's name carries
    year: int


def rspo_like_names(con: sqlite3.Connection, rnd: random.Random) -> dict[int, tuple[str, str | None]]:
    """Rewrite the demo names as RSPO writes them: 35 % get a patron, 25 % lose the locality.
    Returns rspo -> (original demo name, patron)."""
    rows = con.execute("SELECT i.id, i.rspo, i.name FROM institutions i WHERE i.rspo IS NOT NULL").fetchall()
    out, updates = {}, []
    for iid, rspo, name in rows:
        m = _DEMO_NAME.match(name)
        patron = rnd.choice(PATRONS) if rnd.random() < 0.35 else None
        head = f"{m['base']}" + (f" nr {m['num']}" if m["num"] else "") + (f" im. {patron}" if patron else "")
        new = head if rnd.random() < 0.25 else f"{head} w {m['loc']}"
        out[rspo] = (name, patron)
        updates.append((new, iid))
    with transaction(con):
        con.executemany("UPDATE institutions SET name = ? WHERE id = ?", updates)
    return out


def pick(con: sqlite3.Connection, rnd: random.Random, originals: dict, n: int) -> list[Truth]:
    """``n`` (school, edition) awards at random, as the lists of many editions would name them."""
    rows = con.execute("SELECT i.rspo, i.kind, i.locality, e.start_year FROM awards a "
                       "JOIN institutions i ON i.id = a.institution_id JOIN editions e ON e.edition = a.edition "
                       "WHERE i.rspo IS NOT NULL ORDER BY a.rowid").fetchall()
    out = []
    for rspo, kind, locality, start in rnd.sample(rows, min(n, len(rows))):
        name, patron = originals[rspo]
        m = _DEMO_NAME.match(name)
        out.append(Truth(rspo, kind, m["base"], int(m["num"]) if m["num"] else None, m["loc"], locality, patron,
                         start + 1))
    return out


def typo(text: str, rnd: random.Random) -> str:
    """A swapped or dropped letter in one longer word (never in a number)."""
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return text
    i = rnd.choice(long)
    w = words[i]
    j = rnd.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:] if rnd.random() < 0.5 else w[:j] + w[j + 1:]
    return " ".join(words)


def police_line(t: Truth, rnd: random.Random) -> str:
    """The name as a police news item would print it."""
    number = t.number if rnd.random() > 0.04 else None  # now and then the police leave the number out
    nr = "" if number is None else rnd.choice([f" nr {number}", f" Nr {number}", f" nr. {number}", f" nr{number}"])
    base = t.base
    if t.kind == "primary":
        base = rnd.choices(["Szkoła Podstawowa", "SP", "Publiczna Szkoła Podstawowa", "PSP"], [45, 40, 10, 5])[0]
        if base == "SP" and number is not None and rnd.random() < 0.3:
            nr = f" {number}"
    elif t.kind == "general_secondary":
        style = rnd.choice(["full", "LO", "roman"]) if number is not None else rnd.choice(["full", "LO"])
        if style == "roman" and number < len(ROMAN):
            base, nr = f"{ROMAN[number]} Liceum Ogólnokształcące" if rnd.random() < 0.5 else f"{ROMAN[number]} LO", ""
        elif style == "LO":
            base = "LO"
    elif t.kind == "gimnazjum":
        base = rnd.choices(["Gimnazjum", "Publiczne Gimnazjum", "Gim."], [70, 20, 10])[0]
    elif t.kind == "vocational":
        base = rnd.choice(["Szkoła Branżowa", "Branżowa Szkoła I stopnia", "Szkoła Branżowa I Stopnia"])
    patron = t.patron
    if patron and rnd.random() < 0.4:
        patron = None  # dropped by the police
    elif not patron and rnd.random() < 0.3:
        patron = rnd.choice(PATRONS)  # added by the police (the register's name lacks it)
    im = f" im. {patron}" if patron else ""
    place = f" w {t.locative}" if rnd.random() < 0.95 else f", {t.locality}"
    text = f"{base}{nr}{im}{place}" if rnd.random() < 0.85 or not im else f"{base}{nr}{place}{im}"
    for share in (0.25, 0.08):  # one typo in a quarter of the lines, a second in some
        if rnd.random() < share:
            text = typo(text, rnd)
    r = rnd.random()
    text = text.upper() if r < 0.08 else text.lower() if r < 0.13 else text
    return text + rnd.choice([",", ",", ";", ".", ""])


def numbered(lines: list[str], rnd: random.Random) -> str:
    """A news item: a heading, numbered paragraphs (some wrapped), a closing line."""
    out = ["Lista szkół, które otrzymały certyfikat „Szkoła Promująca Bezpieczeństwo”:", ""]
    style = rnd.choice(["{}.", "{})"])
    for i, line in enumerate(lines, start=1):
        words = line.split(" ")
        if len(words) > 5 and rnd.random() < 0.1:
            cut = len(words) // 2
            out += [f"{style.format(i)} {' '.join(words[:cut])}", f"   {' '.join(words[cut:])}"]
        else:
            out.append(f"{style.format(i)} {line}")
    out += ["", "Gratulujemy!"]
    return "\n".join(out) + "\n"


@dataclass
class Run:
    """One matcher's answers: the top-3 RSPO numbers and whether the first was accepted, per line."""
    tops: list[list[int | None]]
    accepted: list[bool]
    seconds: float


@dataclass
class Line:
    """A line of the benchmark: its text, the school it names, the award's year, what it tests."""
    text: str
    rspo: int
    year: int
    category: str  # demo | twin | abbreviation | generic | genitive | adjectival | dative


def evaluate(lines: list[Line], run: Run, absent: set[int], accepted: list[bool] | None = None,
             only: set[int] | None = None) -> dict:
    """Precision of the accepted lines (accepting any school for a line whose school is absent from
    the register is wrong), recall (accepted and right / lines whose school is there), top-1 and
    top-3 shares (of those lines too); ``only``: the indexes of the lines to count."""
    accepted = run.accepted if accepted is None else accepted
    idx = range(len(lines)) if only is None else sorted(only)
    n = sum(lines[i].rspo not in absent for i in idx)
    auto = right_auto = absent_auto = top1 = top3 = 0
    for i in idx:
        t, ids, acc = lines[i], run.tops[i], accepted[i]
        top1 += bool(ids) and ids[0] == t.rspo
        top3 += t.rspo in ids[:3]
        auto += acc
        right_auto += acc and ids[0] == t.rspo
        absent_auto += acc and t.rspo in absent
    share = (lambda k: k / n) if n else (lambda k: float("nan"))
    return {"precision": right_auto / auto if auto else float("nan"), "recall": share(right_auto), "auto": auto,
            "wrong_auto": auto - right_auto, "absent_auto": absent_auto, "top1": share(top1), "top3": share(top3),
            "lines": len(idx), "present": n}


def run_ours(con: sqlite3.Connection, lines: list[Line], absent: set[int], *, without_own: bool = False):
    """Match every line; ``without_own``: as if each line's own school were missing from the register
    (a score depends on the line and the one institution only, so leaving the school out of the
    answers is leaving it out of the register)."""
    t = time.perf_counter()
    cands = candidates(con, family="school")
    build_s = time.perf_counter() - t
    cands = CandidateSet(c for c in cands if c.rspo not in absent)
    t = time.perf_counter()
    if without_own:
        matches = [[m for m in match_line(line.text, cands, year=line.year, limit=4) if m.candidate.rspo != line.rspo][:3]
                   for line in lines]
    else:
        matches = [match_line(line.text, cands, year=line.year) for line in lines]
    seconds = time.perf_counter() - t
    run = Run([[m.candidate.rspo for m in ms] for ms in matches], [decision(ms) == "auto" for ms in matches], seconds)
    return run, matches, build_s


def run_baseline(con: sqlite3.Connection, lines: list[str], absent: set[int], threshold: float) -> tuple[Run, list]:
    """rapidfuzz alone: WRatio of the line against every raw register name (``process.extract`` with
    limit 3, whose first answer is ``extractOne``'s), accepted at ``threshold``."""
    rows = [r for r in con.execute("SELECT rspo, name FROM institutions WHERE rspo IS NOT NULL") if r[0] not in absent]
    names, rspos = [r[1] for r in rows], [r[0] for r in rows]
    t = time.perf_counter()
    found = [process.extract(line, names, scorer=fuzz.WRatio, processor=utils.default_process, limit=3)
             for line in lines]
    seconds = time.perf_counter() - t
    scores = [[s for _, s, _ in f] for f in found]
    run = Run([[rspos[i] for _, _, i in f] for f in found], [bool(s) and s[0] >= threshold for s in scores], seconds)
    return run, scores


def report(ev: dict, n: int, seconds: float) -> None:
    print(f"  precision at acceptance  {ev['precision']:.3f}  ({ev['auto']} accepted, {ev['wrong_auto']} wrong, "
          f"{ev['absent_auto']} of them for absent schools)")
    print(f"  recall                   {ev['recall']:.3f}")
    print(f"  top-1 right              {ev['top1']:.3f}")
    print(f"  right in top 3           {ev['top3']:.3f}")
    print(f"  lines per second         {n / seconds:.0f}")


def by_category(lines: list[Line], run: Run, absent: set[int]) -> None:
    print("  by kind of line:   lines  accepted (wrong)  precision  recall  top-3")
    for cat in dict.fromkeys(line.category for line in lines):
        e = evaluate(lines, run, absent, only={i for i, line in enumerate(lines) if line.category == cat})
        print(f"    {cat:<14} {e['lines']:>6}  {e['auto']:>8} ({e['wrong_auto']:>3})    {e['precision']:.3f}    "
              f"{e['recall']:.3f}   {e['top3']:.3f}")


def demo_grammar_lines(con: sqlite3.Connection, rnd: random.Random, originals: dict, n: int) -> list[Line]:
    """Demo schools with a number in a county seat, named with the town's adjective before the type
    („olkuskie Gimnazjum nr 1”) and in the dative („Szkole Podstawowej nr 3 w Bochni”)."""
    rows = con.execute("SELECT rspo, kind, locality FROM institutions WHERE rspo IS NOT NULL ORDER BY rspo").fetchall()
    out: list[Line] = []
    numbered = []
    for rspo, kind, locality in rows:
        m = _DEMO_NAME.match(originals[rspo][0])
        if m and m["num"]:
            numbered.append((rspo, kind, locality, int(m["num"]), m["loc"]))
    for rspo, kind, locality, number, _ in rnd.sample(numbered, len(numbered)):
        text = match_cases.adjectival_line(kind, number, locality, rnd)
        if text and sum(line.category == "adjectival" for line in out) < n:
            out.append(Line(text, rspo, match_cases.AWARD_YEAR, "adjectival"))
    for rspo, kind, locality, number, loc in rnd.sample(numbered, n):
        text = match_cases.dative_line(kind, number, loc)
        if text:
            out.append(Line(text, rspo, match_cases.AWARD_YEAR, "dative"))
    return out


def add_cases(con: sqlite3.Connection, rnd: random.Random) -> list[Line]:
    """The hand-written schools into the register (RSPO 900001…), and their lines."""
    made = match_cases.cases(rnd)
    rspo = {s.key: 900_001 + i for i, s in enumerate(made.schools)}
    with transaction(con):
        insert_rows(con, "institutions", ("rspo", "name", "kind", "county", "municipality", "locality", "opened_year"),
                    [(rspo[s.key], s.name, s.kind, s.place.county, s.place.nom, s.place.nom, 1990)
                     for s in made.schools])
    return [Line(c.line, rspo[c.truth], match_cases.AWARD_YEAR, c.category) for c in made.cases]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=400, help="lines written from demo schools (the other cases come on top)")
    ap.add_argument("--seed", type=int, default=11, help="demo database and line generator seed")
    ap.add_argument("--show", type=int, default=15, help="wrong auto-accepts to print per run")
    args = ap.parse_args(argv)
    rnd = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        db = demo.generate(Path(tmp) / "bench.sqlite", seed=args.seed, scale=1)
        con = store.connect(db)
        originals = rspo_like_names(con, rnd)
        print(f"demo database (seed {args.seed}, scale 1) in {time.perf_counter() - t0:.1f} s")
        truths = pick(con, rnd, originals, args.lines)
        lines = [Line(police_line(t, rnd), t.rspo, t.year, "demo") for t in truths]
        # Some listed schools are missing from the register (closed, never imported): nothing may be
        # accepted for them.
        absent = {t.rspo for t in rnd.sample(truths, round(ABSENT_SHARE * len(truths)))}
        name_count = Counter(name for name, _ in originals.values())
        shared = sum(name_count[originals[t.rspo][0]] > 1 for t in truths)
        lines += demo_grammar_lines(con, rnd, originals, 16) + add_cases(con, rnd)
        n = len(lines)
        print(f"{n} lines: {len(truths)} from demo schools ({shared} name a school whose demo name another school "
              f"shares: a tie no matcher can settle, those go to review; {len(absent)} name a school removed from the "
              f"register), {n - len(truths)} hand-written cases (benchmarks/match_cases.py)")

        ours, matches, build_s = run_ours(con, lines, absent)
        print(f"candidates built in {build_s * 1000:.0f} ms\n")
        ev = evaluate(lines, ours, absent)
        print(f"zpb_lib.domain.matching (AUTO_ACCEPT {AUTO_ACCEPT:g}, margin {AUTO_MARGIN:g}), the normal run:")
        report(ev, n, ours.seconds)
        by_category(lines, ours, absent)
        print("\nthreshold sweep (same margin rule): threshold  precision  recall  wrong (absent)")
        for thr in (60, 70, 75, 80, 85, 88, 90, 92, 95, 98):
            e = evaluate(lines, ours, absent, [decision(ms, threshold=thr) == "auto" for ms in matches])
            print(f"  {thr:>5}      {e['precision']:.3f}     {e['recall']:.3f}   "
                  f"{e['wrong_auto']:>3} ({e['absent_auto']})")
        wrong = [(line, ids) for line, ids, acc in zip(lines, ours.tops, ours.accepted) if acc and ids[0] != line.rspo]
        for line, ids in wrong[:args.show]:
            print(f"  wrong auto: {line.text!r} → RSPO {ids[0]} (truth {line.rspo}"
                  f"{', absent from the register' if line.rspo in absent else ''})")

        # Each line's school taken out of the register (closures, renames, an old export): whatever
        # is accepted now is wrong. A demo line whose school's very name (kind, number and place)
        # another school carries cannot be told from it without a county: counted apart.
        blind, _, _ = run_ours(con, lines, set(), without_own=True)
        same_name = Counter(name for name, _ in originals.values())
        twin_named = {i for i, line in enumerate(lines) if line.rspo in originals
                      and same_name[originals[line.rspo][0]] > 1}
        own = {line.rspo for line in lines}
        eb = evaluate(lines, blind, own)
        rest = evaluate(lines, blind, own, only=set(range(n)) - twin_named)
        print("\nthe run without the true schools (each line's own school left out of the register):")
        blind_precision = "—" if not eb["auto"] else f"{eb['precision']:.3f}"
        print(f"  precision at acceptance  {blind_precision}  ({eb['auto']} of {n} lines accepted, all wrong)")
        print("  recall                   — (no line's school is in the register)")
        print(f"  accepted, of lines not named exactly like another school: {rest['auto']} of {rest['lines']}; "
              f"of the {len(twin_named)} that are: {eb['auto'] - rest['auto']}")
        by_category(lines, blind, own)
        for i, (line, ids, acc) in enumerate(zip(lines, blind.tops, blind.accepted)):
            if acc and i not in twin_named:
                print(f"  accepted without its school: {line.text!r} → RSPO {ids[0]}")

        base, base_scores = run_baseline(con, [line.text for line in lines], absent, 90)
        print("\nbaseline: rapidfuzz process.extractOne, fuzz.WRatio over raw names, accepted at ≥ 90:")
        bev = evaluate(lines, base, absent)
        report(bev, n, base.seconds)
        for thr in range(50, 101):
            e = evaluate(lines, base, absent, [bool(s) and s[0] >= thr for s in base_scores])
            if e["precision"] >= TARGET_PRECISION:
                print(f"  baseline threshold for precision ≥ {TARGET_PRECISION}: {thr} (recall {e['recall']:.3f})")
                break
        else:
            print(f"  no baseline threshold reaches precision {TARGET_PRECISION}")
        print("\nratios (matching / baseline): "
              f"precision {ev['precision'] / bev['precision']:.2f}×, recall {ev['recall'] / bev['recall']:.2f}×, "
              f"top-1 {ev['top1'] / bev['top1']:.2f}×, top-3 {ev['top3'] / bev['top3']:.2f}×, "
              f"speed {base.seconds / ours.seconds:.2f}×")

        lst = Path(tmp) / "lista.txt"
        lst.write_text(numbered([line.text for line in lines], rnd), encoding="utf-8")
        t = time.perf_counter()
        result = match_published(con, lst, edition="2025/2026", kind="certyfikat")
        file_s = time.perf_counter() - t
        print(f"\nmatch_published on the list written as a .txt file (some items wrapped): {result.items} of {n} "
              f"items found, {file_s:.2f} s with the XLSX ({result.items / file_s:.0f} lines/s)")
        con.close()

        print("\nsummary:")
        status = "OK" if ev["precision"] >= TARGET_PRECISION else "BELOW TARGET"
        print(f"  normal run:                 precision {ev['precision']:.3f} (target ≥ {TARGET_PRECISION}: {status}), "
              f"recall {ev['recall']:.3f}, top-3 {ev['top3']:.3f}")
        print(f"  without the true schools:   {eb['auto']} of {n} lines accepted (precision "
              f"{blind_precision}, recall —); {rest['auto']} of them not named exactly like "
              "another school")
    return 0


if __name__ == "__main__":
    sys.exit(main())
