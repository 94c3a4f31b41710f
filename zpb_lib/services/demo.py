"""Synthetic demo data: a deterministic, plausible ZPB history for all 22 counties.

Same seed and scale give an identical database. The data carry effects a report can find:
schools that carry out more of their action plan improve their safety indicators between baseline
and follow-up, and three counties lag (fewer schools join, lower scores, lower indicators).
Every award follows the rules in ``data/rules`` because it is decided by :mod:`zpb_lib.domain.scoring`.
Some upper-secondary schools are school complexes (zespoły szkół) with member schools that take part
together with them, and one member takes part on its own (:mod:`zpb_lib.domain.complexes`).
Names are generic; the database is marked synthetic so that every report shows a banner.
"""
from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zpb_lib import store
from zpb_lib.core.files import check_target
from zpb_lib.reference import GROUPS, Reference, reference
from zpb_lib.reference.identifiers import demo_identifiers
from zpb_lib.domain.scoring import decide, rules as load_rules, score_audit, valid_until, years_in_programme
from zpb_lib.store.write import insert_rows, set_meta, transaction
from zpb_lib.store.backend import Connection

# 2: RSPO numbers and POL-on ids; action titles unique per plan. 3: school complexes.
GENERATOR_VERSION = "3"
LAGGING_COUNTIES = ("1204", "1208", "1214")  # dąbrowski, miechowski, proszowicki

# Locative forms ("w Bochni") of county seats and of the generic village names used for schools.
SEAT_LOCATIVE = {
    "Bochnia": "Bochni", "Brzesko": "Brzesku", "Chrzanów": "Chrzanowie", "Dąbrowa Tarnowska": "Dąbrowie Tarnowskiej",
    "Gorlice": "Gorlicach", "Kraków": "Krakowie", "Limanowa": "Limanowej", "Miechów": "Miechowie",
    "Myślenice": "Myślenicach", "Nowy Sącz": "Nowym Sączu", "Nowy Targ": "Nowym Targu", "Olkusz": "Olkuszu",
    "Oświęcim": "Oświęcimiu", "Proszowice": "Proszowicach", "Sucha Beskidzka": "Suchej Beskidzkiej",
    "Tarnów": "Tarnowie", "Zakopane": "Zakopanem", "Wadowice": "Wadowicach", "Wieliczka": "Wieliczce",
}
# Land counties whose seat is a city county of its own: their schools are not in that city, so the
# county's largest town stands in for the seat.
MAIN_TOWN = {"1206": ("Skawina", "Skawinie"), "1210": ("Stary Sącz", "Starym Sączu"), "1216": ("Tuchów", "Tuchowie")}
VILLAGES = [
    ("Nowa Wieś", "Nowej Wsi"), ("Stara Wieś", "Starej Wsi"), ("Zagórze", "Zagórzu"), ("Podlesie", "Podlesiu"),
    ("Zarzecze", "Zarzeczu"), ("Brzezie", "Brzeziu"), ("Łęg", "Łęgu"), ("Dąbrówka", "Dąbrówce"), ("Wola", "Woli"),
    ("Górka", "Górce"), ("Lipnica", "Lipnicy"), ("Jasienica", "Jasienicy"), ("Olszyny", "Olszynach"),
    ("Zawada", "Zawadzie"), ("Kamionka", "Kamionce"), ("Dębina", "Dębinie"), ("Brzozowa", "Brzozowej"),
    ("Łazy", "Łazach"), ("Podgórze", "Podgórzu"), ("Stróża", "Stróży"), ("Niedźwiedź", "Niedźwiedziu"),
    ("Lipie", "Lipiu"), ("Borek", "Borku"), ("Zalesie", "Zalesiu"), ("Przybysławice", "Przybysławicach"),
    ("Wierzchosławice", "Wierzchosławicach"), ("Radziemice", "Radziemicach"), ("Sieborowice", "Sieborowicach"),
    ("Krzeczów", "Krzeczowie"), ("Łososina", "Łososinie"), ("Ochotnica", "Ochotnicy"), ("Poręba", "Porębie"),
]
KIND_SHARES = {"primary": 0.56, "gimnazjum": 0.20, "general_secondary": 0.10, "technical": 0.08, "vocational": 0.06}
KIND_NAMES = {"primary": "Szkoła Podstawowa", "gimnazjum": "Gimnazjum", "general_secondary": "Liceum Ogólnokształcące",
              "technical": "Technikum", "vocational": "Szkoła Branżowa"}
# The RSPO type a demo school of each kind shows, as in the register's "Typ" column.
KIND_RSPO_TYPE = {"primary": "Szkoła podstawowa", "gimnazjum": "Gimnazjum", "general_secondary": "Liceum ogólnokształcące",
                  "technical": "Technikum", "vocational": "Branżowa szkoła I stopnia",
                  "complex": "Zespół szkół i placówek oświatowych"}
# Kinds of the schools a demo complex holds (upper-secondary schools in its town).
COMPLEX_MEMBER_KINDS = ("general_secondary", "vocational", "technical")
KIND_JOIN_WEIGHT = {"primary": 1.0, "gimnazjum": 1.6, "general_secondary": 1.3, "technical": 1.2, "vocational": 1.0}
UNIVERSITIES = [
    ("Uczelnia Techniczna w Krakowie (demo)", "1261", 18000), ("Politechnika Miejska w Krakowie (demo)", "1261", 14000),
    ("Akademia Humanistyczna w Krakowie (demo)", "1261", 9000), ("Uczelnia Ekonomiczna w Krakowie (demo)", "1261", 15000),
    ("Uczelnia Przyrodnicza w Krakowie (demo)", "1261", 8000), ("Akademia Sportu w Krakowie (demo)", "1261", 4000),
    ("Państwowa Uczelnia Zawodowa w Nowym Sączu (demo)", "1262", 3000),
]
ACTIONS = {
    ("violence", "prevention"): ["Warsztaty profilaktyczne o przemocy rówieśniczej", "Spotkanie uczniów z dzielnicowym",
                                 "Dyżury nauczycieli na przerwach", "Szkolenie rady pedagogicznej z reagowania na przemoc",
                                 "Warsztaty o cyberprzemocy dla uczniów i rodziców", "Program mediacji rówieśniczej"],
    ("violence", "infrastructure"): ["Monitoring wizyjny korytarzy", "Skrzynka zaufania i telefon wsparcia"],
    ("dangerous_places", "infrastructure"): ["Montaż monitoringu przy wejściu do szkoły", "Doświetlenie przejścia dla pieszych",
                                             "Naprawa ogrodzenia boiska", "Progi zwalniające i oznakowanie przy szkole",
                                             "Oświetlenie przystanku autobusowego", "Zamykana szatnia z kontrolą dostępu"],
    ("dangerous_places", "prevention"): ["Patrole straży miejskiej w rejonie szkoły", "Akcja „Bezpieczna droga do szkoły”",
                                         "Wspólna wizja lokalna z policją i gminą"],
    ("other", "prevention"): ["Szkolenie z pierwszej pomocy", "Próbna ewakuacja ze strażą pożarną",
                              "Spotkanie z rodzicami o substancjach psychoaktywnych"],
    ("other", "infrastructure"): ["Defibrylator AED w szkole", "Modernizacja systemu alarmowego"],
}
PLACE_BASE = {"toilets": 0.32, "corridors": 0.22, "cloakroom": 0.18, "playground": 0.14, "surroundings": 0.2,
              "bus_stop": 0.17, "crossing": 0.15, "way": 0.19, "other": 0.04}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class _Inst:
    id: int
    kind: str
    family: str
    county: str
    pupils: int
    opened: int
    closed: int | None
    quality: float = 0.0
    safety: float = 0.0


@dataclass
class _Out:
    institutions: list = field(default_factory=list)
    partners: list = field(default_factory=list)
    participation: list = field(default_factory=list)
    audits: list = field(default_factory=list)
    audit_items: list = field(default_factory=list)
    awards: list = field(default_factory=list)
    actions: list = field(default_factory=list)
    survey_blocks: list = field(default_factory=list)  # (inst, edition, wave, group, n, latent safety)


def generate(db: str | os.PathLike | None = None, *, seed: int = 2026, scale: float = 1.0,
             overwrite: bool = True, ref: Reference | None = None) -> Path:
    """Create a synthetic database at ``db`` and return its path."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    ref = ref or reference()
    path = store.resolve_db_path(db)
    if not store.is_url(path):  # a path that cannot be written: said now, not after the data are made

        check_target(path)
    rng = np.random.default_rng(seed)
    out = _Out()
    insts = _institutions(ref, rng, scale, out)
    county_partners = _partners(ref, out)
    _history(ref, rng, scale, insts, county_partners, out)
    ids = demo_identifiers(seed, [(row[0], "university" if row[2] == "university" else "school")
                                  for row in out.institutions])
    parents = _complexes(out)
    out.institutions = [(*row, *ids[row[0]], KIND_RSPO_TYPE.get(row[2])) for row in out.institutions]
    rspo_of = {row[0]: row[9] for row in out.institutions}
    out.institutions = [(*row, rspo_of[parents[row[0]]] if row[0] in parents else None) for row in out.institutions]
    # A file is made at a temporary name and renamed when complete: a full disk leaves nothing half-made.
    with store.new_database(path, ref=ref, synthetic=True, overwrite=overwrite) as con:
        with transaction(con):
            set_meta(con, "demo_seed", str(seed))
            set_meta(con, "demo_scale", repr(float(scale)))
            set_meta(con, "demo_generator", GENERATOR_VERSION)
            _write(con, ref, rng, out)
        store.optimize(con)
    return path


# --------------------------------------------------------------------------- institutions

def _institutions(ref: Reference, rng: np.random.Generator, scale: float, out: _Out) -> list[_Inst]:
    weights = {t: c.population ** 0.85 for t, c in ref.counties.items()}
    total_w = sum(weights.values())
    n_schools = round(2500 * scale) - len(UNIVERSITIES)
    insts: list[_Inst] = []
    next_id = 1
    for teryt, county in ref.counties.items():
        n = max(8, round(n_schools * weights[teryt] / total_w))
        lag = teryt in LAGGING_COUNTIES
        county_q = -0.6 if lag else rng.normal(0, 0.25)
        kinds = rng.choice(list(KIND_SHARES), size=n, p=list(KIND_SHARES.values()))
        town_share = 1.0 if county.kind == "city" else 0.3
        used: dict[str, int] = {}
        n_villages = max(3, n // 4)
        villages = [VILLAGES[i % len(VILLAGES)] for i in rng.permutation(max(n_villages, len(VILLAGES)))[:n_villages]]
        for kind in kinds:
            kind = str(kind)
            in_town = rng.random() < town_share or kind in ("general_secondary", "technical", "vocational")
            if in_town:
                locality, loc = MAIN_TOWN.get(teryt, (county.seat, SEAT_LOCATIVE[county.seat]))
                municipality = f"gmina miejska {locality}" if county.kind == "land" else county.seat
            else:
                locality, loc = villages[int(rng.integers(len(villages)))]
                town = MAIN_TOWN.get(teryt, (county.seat,))[0]
                municipality = f"gmina {villages[0][0]}-{town}" if rng.random() < 0.5 else f"gmina {locality}"
            key = f"{kind}|{locality}"
            used[key] = used.get(key, 0) + 1
            number = used[key]
            base = KIND_NAMES[kind]
            name = f"{base} nr {number} w {loc}" if in_town or number > 1 else f"{base} w {loc}"
            pupils = int(rng.integers(60, 350) if not in_town else rng.integers(200, 900))
            opened = 1999 if kind == "gimnazjum" else int(rng.choice([1945, 1960, 1975, 1990, 2005, 2012],
                                                                   p=[.3, .25, .2, .15, .06, .04]))
            closed = 2019 if kind == "gimnazjum" else None
            inst = _Inst(next_id, kind, "school", teryt, pupils, opened, closed,
                         quality=float(county_q + rng.normal(0, 0.8)),
                         safety=float(county_q * 0.8 + rng.normal(0, 0.5)))
            insts.append(inst)
            out.institutions.append((next_id, name, kind, teryt, municipality, locality, pupils, opened, closed))
            next_id += 1
    for name, teryt, students in UNIVERSITIES:
        seat = ref.counties[teryt].seat
        inst = _Inst(next_id, "university", "university", teryt, students, 1950, None,
                     quality=float(rng.normal(0.4, 0.5)), safety=float(rng.normal(0.3, 0.4)))
        insts.append(inst)
        out.institutions.append((next_id, name, "university", teryt, seat, seat, students, 1950, None))
        next_id += 1
    return insts


def _complexes(out: _Out) -> dict[int, int]:
    """Make the first technikum taking part in each county's main town a school complex (zespół
    szkół), with up to two upper-secondary schools of its town that never took part as members,
    which take part together with it; in the first county where there is one, a school of the town
    that takes part on its own (and never left) becomes a member too. Returns member id → complex id.

    Done after the history, drawing no random numbers, so that everything else is what the
    generator made before complexes (the complex's own history is that of the school it was)."""
    taking_part = {p[0] for p in out.participation}
    still = {p[0] for p in out.participation if p[2] is None}  # never left
    rows = {row[0]: row for row in out.institutions}
    by_place: dict[tuple[str, str], list[tuple]] = {}
    for row in out.institutions:
        if row[2] in COMPLEX_MEMBER_KINDS and row[8] is None:
            by_place.setdefault((row[3], row[5]), []).append(row)
    parents: dict[int, int] = {}
    on_own_given = False
    for (county, locality), schools in by_place.items():
        host = next((r for r in schools if r[2] == "technical" and r[0] in taking_part), None)
        if host is None:
            continue
        idle = [r for r in schools if r[0] not in taking_part and r[0] != host[0]][:2]
        if not idle:
            continue
        members = idle
        if not on_own_given:
            own = next((r for r in schools if r[0] in still and r[0] != host[0]), None)
            if own is not None:
                members, on_own_given = idle + [own], True
        name = host[1].replace(KIND_NAMES["technical"], "Zespół Szkół", 1)
        rows[host[0]] = (host[0], name, "complex", *host[3:])
        parents.update({r[0]: host[0] for r in members})
    out.institutions = [rows[row[0]] for row in out.institutions]
    return parents


def _partners(ref: Reference, out: _Out) -> dict[str, list[int]]:
    by_county: dict[str, list[int]] = {}
    pid = 1
    for teryt, c in ref.counties.items():
        loc = SEAT_LOCATIVE[c.seat]
        unit = ref.police_units[c.police_unit]
        names = [(unit.name, "police"),
                 (f"Straż Miejska w {loc}", "city_guard"),
                 (f"Komenda Powiatowa Państwowej Straży Pożarnej w {loc}", "fire_brigade"),
                 ((f"Urząd Miasta {c.seat}" if c.kind == "city" else f"Starostwo Powiatowe w {loc}"), "local_government"),
                 (f"Poradnia Psychologiczno-Pedagogiczna w {loc}", "health"),
                 (f"Stowarzyszenie „Bezpieczna Szkoła” w {loc} (demo)", "ngo"),
                 (f"Powiatowa Rada Rodziców w {loc} (demo)", "parents"),
                 (f"Zarząd Dróg w {loc}", "other")]
        by_county[teryt] = []
        for name, kind in names:
            out.partners.append((pid, name, kind, teryt))
            by_county[teryt].append(pid)
            pid += 1
    return by_county


# --------------------------------------------------------------------------- programme history

@dataclass
class _State:
    join_idx: int
    implementation: float  # share of the action plan the school carries out
    stage: str = "stage1"  # stage1 | certified | extended | leader
    award_kind: str | None = None
    valid_until: dt.date | None = None
    award_year: int = 0  # start year of the edition whose audit gave the current award
    controls: int = 0
    fails: int = 0


def _joins_per_edition(ref: Reference, scale: float) -> dict[str, int]:
    out, k = {}, 0
    for e in ref.editions.values():
        if not e.held:
            continue
        out[e.edition] = round((10 + 2.5 * k if e.start_year < 2019 else 35) * scale)
        k += 1
    return out


def _audit_date(rng: np.random.Generator, e) -> dt.date:
    span = (e.audit_to - e.audit_from).days
    for _ in range(20):
        d = e.audit_from + dt.timedelta(days=int(rng.integers(3, span - 3)))
        if d.weekday() < 5:
            return d
    return d


def _history(ref: Reference, rng: np.random.Generator, scale: float, insts: list[_Inst],
             county_partners: dict[str, list[int]], out: _Out) -> None:
    rules = load_rules(ref.directory)
    editions = list(ref.editions.values())
    joins = _joins_per_edition(ref, scale)
    joined: dict[int, _State] = {}
    # Universities join in the first editions (they take part as a group).
    for i, inst in enumerate(x for x in insts if x.family == "university"):
        joined[inst.id] = _State(join_idx=min(i // 2, 3), implementation=float(_sigmoid(1.0 + inst.quality)))
    schools = [x for x in insts if x.family == "school"]
    for idx, e in enumerate(editions):
        if not e.held:
            continue
        year = e.start_year
        candidates = [x for x in schools if x.id not in joined and x.opened <= year
                      and (x.closed is None or x.closed > year + 1)]
        if candidates and joins[e.edition]:
            w = np.array([KIND_JOIN_WEIGHT[x.kind] * (0.35 if x.county in LAGGING_COUNTIES else 1.0)
                          * math.exp(0.3 * x.quality) for x in candidates])
            n = min(joins[e.edition], len(candidates))
            chosen = rng.choice(len(candidates), size=n, replace=False, p=w / w.sum())
            for c in sorted(int(i) for i in chosen):
                inst = candidates[c]
                impl = float(_sigmoid(0.3 + 0.9 * inst.quality + rng.normal(0, 0.7)))
                joined[inst.id] = _State(join_idx=idx, implementation=impl)
    by_id = {x.id: x for x in insts}
    for inst_id in sorted(joined):
        _simulate(ref, rules, rng, by_id[inst_id], joined[inst_id], editions, county_partners, out)


def _simulate(ref, rules, rng, inst: _Inst, st: _State, editions, county_partners, out: _Out) -> None:
    join_e = editions[st.join_idx]
    left = None
    for idx in range(st.join_idx, len(editions)):
        e = editions[idx]
        if not e.held:
            continue
        if inst.closed is not None and e.start_year + 1 >= inst.closed:
            left = e.edition  # the school is closed (gimnazja, 2019): its last edition
        date = _audit_date(rng, e)
        valid = st.award_kind is not None and (st.valid_until is None or st.valid_until > date)
        if st.stage in ("certified", "extended") and not valid:
            st.stage, st.award_kind, st.valid_until, st.controls = "stage1", None, None, 0
        rs = rules.for_edition(inst.family, e.edition)
        years = years_in_programme(join_e.start_year, date)
        kind = _next_audit(rng, inst, st, idx, e, rs, years)
        if kind is not None:
            _audit(ref, rs, rng, inst, st, e, idx, date, kind, years, county_partners, out)
        if left:
            break
        if st.stage == "stage1" and st.fails >= 2 and rng.random() < 0.35:
            left = e.edition
            break
        if rng.random() < 0.015:
            left = e.edition
            break
    out.participation.append((inst.id, join_e.edition, left))


def _next_audit(rng, inst: _Inst, st: _State, idx: int, e, rs, years: int) -> str | None:
    due_year = st.valid_until.year if st.valid_until else None
    if st.stage == "stage1":
        ready = idx > st.join_idx or rng.random() < 0.3
        return "certification" if ready and rng.random() < 0.85 else None
    if st.stage in ("certified", "extended") and due_year == e.start_year + 1:
        return "reaudit" if rng.random() < 0.85 else None
    if st.stage == "extended":
        if (rs.rule_for_audit("leader") and years >= 7 and st.controls >= 1 and rng.random() < 0.55):
            return "leader"
        if (e.start_year - st.award_year) in (2, 4) and rng.random() < 0.8:
            return "control"
    if st.stage == "leader" and (e.start_year - st.award_year) % 3 == 0 and rng.random() < 0.7:
        return "control"
    return None


def _audit(ref, rs, rng, inst: _Inst, st: _State, e, idx: int, date: dt.date, kind: str, years: int,
           county_partners, out: _Out) -> None:
    cat = ref.catalogue_for(inst.family, e.edition)
    audit_id = len(out.audits) + 1
    with_survey = kind != "control"
    # The action plan of this cycle, carried out in proportion to the school's implementation rate.
    done_share = _action_plan(rng, inst, st, e, county_partners, out) if with_survey else st.implementation
    improvement = 0.0
    sizes = {}
    if with_survey:
        improvement = 0.9 * (done_share - 0.5) + rng.normal(0, 0.08)
        sizes = _survey_sizes(rng, inst)
        for grp, n in sizes.items():
            if n:
                out.survey_blocks.append((inst.id, e.edition, "baseline", grp, n, inst.safety))
                out.survey_blocks.append((inst.id, e.edition, "follow-up", grp, int(max(3, n * rng.uniform(0.85, 1.0))),
                                          inst.safety + improvement))
        inst.safety += 0.7 * improvement  # part of the gain lasts
    points = _points(rng, cat, inst, st, kind, done_share, improvement, sizes)
    score = score_audit(cat, points, rs.mandatory_min_points)
    held = frozenset([st.award_kind]) if st.award_kind else frozenset()
    decision = decide(rs, kind, score, held=held, years=years, positive_controls=st.controls)
    out.audits.append((audit_id, inst.id, e.edition, kind, date.isoformat(), cat.key))
    out.audit_items.extend((audit_id, cid, p) for cid, p in points.items())
    if kind == "control":
        st.controls += int(decision.granted)
        return
    if not decision.granted:
        st.fails += 1
        return
    awarded_on = e.ceremony
    until = valid_until(awarded_on, decision.valid_years)
    out.awards.append((inst.id, decision.award_kind, e.edition, audit_id, awarded_on.isoformat(),
                       until.isoformat() if until else None))
    st.award_kind, st.valid_until, st.award_year, st.fails = decision.award_kind, until, e.start_year, 0
    st.stage = {"certificate": "certified", "university_certificate": "certified",
                "extension": "extended", "leader": "leader"}[decision.award_kind]
    if decision.award_kind in ("extension", "leader"):
        st.controls = 0


def _survey_sizes(rng, inst: _Inst) -> dict[str, int]:
    if inst.family == "university":
        return {"students": int(rng.integers(120, 400)), "parents": 0, "teachers": int(rng.integers(12, 60))}
    students = max(50, int(min(inst.pupils * 0.6, rng.integers(50, 301))))
    parents = int(rng.integers(4, 90)) if rng.random() < 0.9 else 0
    teachers = int(rng.integers(4, 40))
    return {"students": students, "parents": parents, "teachers": teachers}


def _points(rng, cat, inst: _Inst, st: _State, kind: str, done_share: float, improvement: float,
            sizes: dict[str, int]) -> dict[str, int]:
    boost = {"certification": 0.0, "reaudit": 0.3, "control": 0.3, "leader": 0.6}[kind]
    points = {}
    for c in cat.criteria:
        title = c.title_en.lower()
        if "implementation" in c.area and ("share of planned" in title):
            p = round(c.max_points * done_share)
        elif c.area == "effectiveness" and "improvement" in title:
            p = int(np.clip(round(c.max_points * (0.35 + improvement * 3.0) + rng.normal(0, 0.4)), 0, c.max_points))
        elif "survey" in title and sizes:
            grp = "parents" if "parents" in title else "teachers" if ("teachers" in title or "staff" in title) else "students"
            n = sizes.get(grp, 0)
            p = 0 if n == 0 else c.max_points if n >= 20 else max(1, c.max_points - 1)
        else:
            base = 2.6 if c.mandatory else 1.1
            prob = float(_sigmoid(base + 0.9 * inst.quality + boost + rng.normal(0, 0.3)))
            p = int(rng.binomial(c.max_points, prob))
        points[c.id] = int(np.clip(p, 0, c.max_points))
    return points


def _action_plan(rng, inst: _Inst, st: _State, e, county_partners, out: _Out) -> float:
    n = int(rng.integers(4, 11))
    partners = county_partners[inst.county]
    done = 0
    used: dict[str, int] = {}
    for _ in range(n):
        area = str(rng.choice(["violence", "dangerous_places", "other"], p=[0.45, 0.4, 0.15]))
        p_infra = {"violence": 0.2, "dangerous_places": 0.65, "other": 0.4}[area]
        kind = "infrastructure" if rng.random() < p_infra else "prevention"
        titles = ACTIONS[(area, kind)]
        title = titles[int(rng.integers(len(titles)))]
        used[title] = used.get(title, 0) + 1
        if used[title] > 1:  # one plan names each action once (the register's key)
            title = f"{title} ({used[title]})"
        deadline = dt.date(e.start_year + 1, int(rng.integers(1, 7)), int(rng.integers(1, 29)))
        u = rng.random()
        p_done = st.implementation
        status = ("done" if u < p_done else "in_progress" if u < p_done + (1 - p_done) * 0.5
                  else "planned" if u < p_done + (1 - p_done) * 0.85 else "dropped")
        done += status == "done"
        out.actions.append((inst.id, e.edition, area, kind, title, partners[int(rng.integers(len(partners)))],
                            deadline.isoformat(), status))
    return done / n


# --------------------------------------------------------------------------- survey answers

def _survey_rows(ref: Reference, rng: np.random.Generator, blocks: list) -> tuple[list[str], list[tuple]]:
    """All survey responses, generated vectorised from each block's latent safety level."""
    columns = list(ref.survey_columns())
    if not blocks:
        return ["institution_id", "edition", "wave", "grp", *columns], []
    sizes = np.array([b[4] for b in blocks])
    latent = np.repeat(np.array([b[5] for b in blocks]), sizes) + rng.normal(0, 0.35, sizes.sum())
    grp_idx = np.repeat(np.array([GROUPS.index(b[3]) for b in blocks]), sizes)
    n = int(sizes.sum())
    cols: dict[str, np.ndarray] = {}

    def agree(shift: float) -> np.ndarray:
        return np.clip(np.rint(3.5 + shift + 1.1 * latent + rng.normal(0, 0.95, n)), 1, 5)

    def freq(base: float) -> np.ndarray:
        hit = rng.random(n) < _sigmoid(base - 0.9 * latent)
        level = 1 + rng.binomial(2, 0.3, n)
        return np.where(hit, level, 0).astype(float)

    cols["safe_school"] = agree(0.1)
    cols["safe_way"] = agree(-0.1)
    for kind, base in (("physical", -1.4), ("verbal", -0.4), ("cyber", -1.1)):
        cols[f"victim_{kind}"] = freq(base)
        cols[f"witness_{kind}"] = freq(base + 0.7)
    for code, p in PLACE_BASE.items():
        cols[f"place_{code}"] = (rng.random(n) < _sigmoid(math.log(p / (1 - p)) - 0.5 * latent)).astype(float)
    nowhere = ref.nowhere_code()
    if nowhere:
        # Who names no place answers „Nowhere — there are no such places” (it excludes the places);
        # drawn from no random numbers, so the rest of the data is what earlier versions generated.
        named = np.column_stack([cols[f"place_{code}"] for code in PLACE_BASE])
        cols[f"place_{nowhere}"] = (named.sum(axis=1) == 0).astype(float)
    cols["knows_help"] = (rng.random(n) < _sigmoid(1.2 + 0.6 * latent)).astype(float)
    cols["trust_teachers"] = agree(-0.2)
    cols["trust_police"] = agree(-0.3)
    cols["substances_offered"] = (rng.random(n) < _sigmoid(-1.7 - 0.6 * latent)).astype(float)
    # Each group answers only its own questionnaire's items; 2% item non-response.
    for g, q in ref.questionnaires.items():
        own = set()
        for item in q.items:
            own |= {f"place_{c}" for c in ref.place_codes()} if ref.scales[item.scale].kind == "multiple" else {item.id}
        mask = grp_idx == GROUPS.index(g)
        for col in columns:
            if col not in own:
                cols[col][mask] = np.nan
    places = [f"place_{c}" for c in ref.place_codes()]
    skip_places = rng.random(n) < 0.02
    for col in columns:
        skip = skip_places if col in places else rng.random(n) < 0.02
        cols[col] = np.where(skip, np.nan, cols[col])
    meta = [(b[0], b[1], b[2], b[3]) for b in blocks]
    block_of = np.repeat(np.arange(len(blocks)), sizes)
    matrix = np.column_stack([cols[c] for c in columns])
    rows = []
    for i in range(n):
        vals = tuple(None if v != v else int(v) for v in matrix[i])
        rows.append((*meta[block_of[i]], *vals))
    return ["institution_id", "edition", "wave", "grp", *columns], rows


def _write(con: Connection, ref: Reference, rng: np.random.Generator, out: _Out) -> None:
    insert_rows(con, "institutions", ("id", "name", "kind", "county", "municipality", "locality", "pupils",
                                      "opened_year", "closed_year", "rspo", "polon", "rspo_type", "parent_rspo"),
                out.institutions)
    insert_rows(con, "partners", ("id", "name", "kind", "county"), out.partners)
    insert_rows(con, "participation", ("institution_id", "joined_edition", "left_edition"), out.participation)
    insert_rows(con, "audits", ("id", "institution_id", "edition", "kind", "audit_date", "catalogue"), out.audits)
    insert_rows(con, "audit_items", ("audit_id", "criterion", "points"), out.audit_items)
    insert_rows(con, "awards", ("institution_id", "kind", "edition", "audit_id", "awarded_on", "valid_until"), out.awards)
    insert_rows(con, "action_items", ("institution_id", "edition", "area", "kind", "title", "partner_id", "deadline",
                                      "status"), out.actions)
    columns, rows = _survey_rows(ref, rng, out.survey_blocks)
    insert_rows(con, "survey_responses", columns, rows)
