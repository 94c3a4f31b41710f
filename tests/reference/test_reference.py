"""Reference data match DESIGN.md, and broken reference files fail naming the file and the entry."""
from __future__ import annotations

import re

import pytest

from zpb_lib.reference import AmbiguousCounty, ReferenceDataError, load_reference
from zpb_lib.domain.scoring.rules import load_rules

# The table of DESIGN.md §1, typed in here independently of data/counties.csv.
DESIGN_COUNTIES = {
    "1201": ("bocheński", "KPP Bochnia"), "1202": ("brzeski", "KPP Brzesko"),
    "1203": ("chrzanowski", "KPP Chrzanów"), "1204": ("dąbrowski", "KPP Dąbrowa Tarnowska"),
    "1205": ("gorlicki", "KPP Gorlice"), "1206": ("krakowski", "KPP Kraków"),
    "1207": ("limanowski", "KPP Limanowa"), "1208": ("miechowski", "KPP Miechów"),
    "1209": ("myślenicki", "KPP Myślenice"), "1210": ("nowosądecki", "KMP Nowy Sącz"),
    "1211": ("nowotarski", "KPP Nowy Targ"), "1212": ("olkuski", "KPP Olkusz"),
    "1213": ("oświęcimski", "KPP Oświęcim"), "1214": ("proszowicki", "KPP Proszowice"),
    "1215": ("suski", "KPP Sucha Beskidzka"), "1216": ("tarnowski", "KMP Tarnów"),
    "1217": ("tatrzański", "KPP Zakopane"), "1218": ("wadowicki", "KPP Wadowice"),
    "1219": ("wielicki", "KPP Wieliczka"), "1261": ("m. Kraków", "KMP Kraków"),
    "1262": ("m. Nowy Sącz", "KMP Nowy Sącz"), "1263": ("m. Tarnów", "KMP Tarnów"),
}


def test_counties_and_units_match_design(ref):
    assert set(ref.counties) == set(DESIGN_COUNTIES)
    for teryt, (name, unit) in DESIGN_COUNTIES.items():
        county = ref.counties[teryt]
        assert county.name == name
        u = ref.police_units[county.police_unit]
        assert f"{u.kind} {u.seat}" == unit, teryt
    assert {t for t, c in ref.counties.items() if c.kind == "city"} == {"1261", "1262", "1263"}
    kinds = [u.kind for u in ref.police_units.values()]
    assert (len(kinds), kinds.count("KPP"), kinds.count("KMP")) == (20, 17, 3)
    # KMP Nowy Sącz and KMP Tarnów each serve two counties; every unit serves at least one.
    served = {}
    for c in ref.counties.values():
        served.setdefault(c.police_unit, []).append(c.teryt)
    assert set(served) == set(ref.police_units)
    assert sorted(served["KMP-NOWY-SACZ"]) == ["1210", "1262"]
    assert sorted(served["KMP-TARNOW"]) == ["1216", "1263"]
    assert served["KPP-KRAKOW"] == ["1206"] and served["KMP-KRAKOW"] == ["1261"]


def test_geojson_has_every_county(ref):
    import json
    features = json.loads(ref.geojson_path.read_text(encoding="utf-8"))["features"]
    assert sorted(f["properties"]["teryt"] for f in features) == sorted(DESIGN_COUNTIES)


def test_editions(ref):
    e = ref.editions
    assert (e["2004/2005"].roman, e["2013/2014"].roman, e["2018/2019"].roman) == ("I", "X", "XV")
    assert [y for y, x in e.items() if not x.held] == ["2019/2020", "2020/2021", "2021/2022"]
    assert e["2022/2023"].roman == "XVI" and list(e)[-1] == "2025/2026"
    assert e["2013/2014"].ceremony.isoformat() == "2014-09-24"
    assert e["2018/2019"].ceremony.isoformat() == "2019-11-05"
    for x in e.values():
        assert (x.audit_from.month, x.audit_from.day, x.audit_to.month, x.audit_to.day) == (5, 1, 6, 30)
        assert x.audit_from.year == x.start_year + 1
    assert ref.current_edition().edition == "2025/2026"


def test_kinds_include_gimnazjum_and_university(ref):
    g = ref.kinds["gimnazjum"]
    assert (g.exists_from, g.exists_to) == (1999, 2019) and g.exists_in(2010) and not g.exists_in(2020)
    assert ref.kinds["university"].family == "university"


def test_catalogues(ref):
    school = [c for c in ref.catalogues.values() if c.family == "school"]
    assert school and all(sum(k.max_points for k in c.criteria) == 35 for c in school)
    assert all(c.documented_default for c in ref.catalogues.values())
    areas = {a.id for a in school[0].areas}
    assert areas == {"organisation", "diagnosis", "plan", "implementation", "effectiveness"}
    assert ref.catalogue_for("school", "2010/2011").key == "school@1"
    assert ref.catalogue_for("school", "2022/2023").key == "school@2"
    assert ref.catalogue_for("university", "2025/2026").family == "university"


def test_questionnaires(ref):
    assert set(ref.questionnaires) == {"students", "parents", "teachers"}
    students = {i.id for i in ref.questionnaires["students"].items}
    for needed in ("safe_school", "safe_way", "victim_physical", "victim_verbal", "victim_cyber",
                   "witness_physical", "dangerous_places", "knows_help", "trust_teachers", "trust_police",
                   "substances_offered"):
        assert needed in students
    places = {"toilets", "corridors", "cloakroom", "playground", "surroundings", "bus_stop", "crossing", "way", "other"}
    assert set(ref.named_place_codes()) == places
    # „Nowhere — there are no such places” is an answer column too (schema 3), but not a place to rank.
    assert ref.nowhere_code() == "nowhere"
    assert ref.place_codes() == (*ref.named_place_codes(), "nowhere")
    assert ref.survey_columns()["place_nowhere"] == (0, 1)
    for q in ref.questionnaires.values():
        for item in q.items:
            assert item.text_pl and item.text_en


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("file, old, new, expect", [
    ("catalogues/school-1.yaml", "  - {id: A3, area: organisation,", "  - {id: A3, area: organisation: [",
     r"school-1\.yaml, line \d+, column \d+: malformed YAML"),
    ("catalogues/school-1.yaml", "{id: B5, area: diagnosis, max_points: 1,", "{id: B5, area: diagnosis,",
     r"school-1\.yaml, criterion B5: missing 'max_points'"),
    ("catalogues/school-1.yaml", "{id: B5,", "{id: B4,", r"school-1\.yaml, criterion B4: duplicate criterion id 'B4'"),
    ("counties.csv", "1208,miechowski,Miechów County,land,Miechów,KPP-MIECHOW",
     "1208,miechowski,Miechów County,land,Miechów,KPP-MIECHÓW", r"counties\.csv, line 9 \(1208\): unknown police unit 'KPP-MIECHÓW'"),
    ("counties.csv", "1202,brzeski", "1201,brzeski", r"counties\.csv, county 1201: duplicate county id '1201'"),
    ("police_units.csv", "KPP-BRZESKO,KPP", "KPP-BOCHNIA,KPP", r"police_units\.csv, police unit KPP-BOCHNIA: duplicate"),
    ("questionnaires/indicators.yaml", "item: knows_help, positive: [1]", "item: knows_help, positive: [4]",
     r"indicators\.yaml, indicator knows_help: positive values \[4\] are not on the item's scale"),
    ("questionnaires/students.yaml", "scale: yesno,", "scale: yes_no,", r"students\.yaml, item knows_help: unknown scale 'yes_no'"),
    ("editions.yaml", "2013/2014: 2014-09-24", "2019/2020: 2020-09-24", r"editions\.yaml, ceremonies 2019/2020: not a held edition"),
    ("questionnaires/scales.yaml", '{code: other, label_pl', '{code: other, exclusive: true, label_pl',
     r"scales\.yaml, scale places: at most one option can be exclusive"),
    ("questionnaires/scales.yaml", '{value: 1, label_pl: "Tak"', '{value: 1, exclusive: true, label_pl: "Tak"',
     r"scales\.yaml, scale yesno, option 1: only an option of a multiple-choice scale can be exclusive"),
    ("questionnaires/scales.yaml", "{code: nowhere, exclusive: true,", "{code: nowhere, exclusive: tak,",
     r"scales\.yaml, scale places, option nowhere: exclusive must be true or false, got 'tak'"),
])
def test_bad_reference_file_names_file_and_entry(data_copy, file, old, new, expect):
    _edit(data_copy / file, old, new)
    with pytest.raises(ReferenceDataError) as err:
        load_reference(data_copy)
    assert re.search(expect, str(err.value)), str(err.value)


@pytest.mark.parametrize("old, new, expect", [
    ("certificate: {audit: certification, min_points: 24, valid_years: 2}\n      extension:   {audit: reaudit, min_points: 26, valid_years: 5, requires: [certificate, extension]}\n    control",
     "certificate: {audit: certification, min_points: 36, valid_years: 2}\n      extension:   {audit: reaudit, min_points: 26, valid_years: 5, requires: [certificate, extension]}\n    control",
     r"school\.yaml, rule set valid from 2004/2005, award certificate: min_points 36 is outside 1–35"),
    ("  - valid_from: 2013/2014", "  - valid_from: 2004/2005",
     r"school\.yaml, rule set valid from 2004/2005: validity overlaps the rule set valid from 2004/2005"),
    ("min_years_in_programme: 7, min_positive_controls: 1}",
     "min_years_in_programme: 7, min_positive_controls: 1, required_criteria: [Z9]}",
     r"school\.yaml, rule set valid from 2013/2014, award leader: unknown criterion id\(s\) Z9 in catalogue school@1"),
    ("extension:   {audit: reaudit, min_points: 26, valid_years: 5, requires: [certificate, extension]}\n    control: {min_points: 24}\n  - valid_from: 2013",
     "extension:   {audit: reaudit, min_points: 26, requires: [certificate, extension]}\n    control: {min_points: 24}\n  - valid_from: 2013",
     r"school\.yaml, rule set valid from 2004/2005, award extension: missing 'valid_years'"),
])
def test_bad_rules_file_names_file_and_entry(data_copy, old, new, expect):
    _edit(data_copy / "rules" / "school.yaml", old, new)
    with pytest.raises(ReferenceDataError) as err:
        load_rules(data_copy, load_reference(data_copy))
    assert re.search(expect, str(err.value)), str(err.value)


@pytest.mark.parametrize("text,city,land", [("Tarnów", "1263", "1216"), ("tarnow", "1263", "1216"),
                                            ("Kraków", "1261", "1206"), ("Nowy Sącz", "1262", "1210")])
def test_a_city_that_is_a_county_and_a_seat_is_ambiguous(ref, text, city, land):
    """„Tarnów” is m. Tarnów and the seat of powiat tarnowski: asked, not guessed; the way to say
    which is accepted; a place's county (city_first) is the city's."""
    with pytest.raises(AmbiguousCounty) as exc:
        ref.county_code(text)
    message = exc.value.args[0]
    assert f"{ref.counties[city].name} ({city})" in message and f"{ref.counties[land].name} ({land})" in message
    assert ref.county_code(ref.counties[city].name) == city and ref.county_code(f"m. {text}") == city
    assert ref.county_code(f"miasto {text}") == city and ref.county_code(f"powiat {text}") == land
    assert ref.county_code(ref.counties[land].name) == land and ref.county_code(text, city_first=True) == city


def test_a_seat_of_one_county_only_is_that_county(ref):
    assert ref.county_code("Olkusz") == "1212" and ref.county_code("Bochnia") == "1201"
