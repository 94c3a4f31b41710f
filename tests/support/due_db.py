"""A small database written by hand in which every kind of due item of the coordinator's desk
(zpb_lib.services.due) occurs once in powiat bocheński (KPP Bochnia) and once more in Tarnów (KMP
Tarnów), on :data:`TODAY` in :data:`EDITION`. The tests that use it work out every expected date,
year and count by hand from these rows and data/rules/school.yaml (certificate 2 years, extension 5,
Lider: an extension, 7 years in the programme and a positive control audit since the latest award)."""
from __future__ import annotations

import datetime as dt

from zpb_lib.store.write import insert_one, insert_rows, transaction

EDITION = "2024/2025"  # audit window 1.05–30.06.2025; the next edition's opens on 1.05.2026
TODAY = dt.date(2025, 3, 1)
MONTHS = 8  # certificates expiring by 1.11.2025
BOCHNIA, TARNOW = "1201", "1216"
# RSPO numbers: what each school is here for
STAGE1 = 1001  # joined 2023/2024, no award: its certification audit is due; no parents' follow-up survey
CERTIFIED = 1002  # certificate 15.10.2023–15.10.2025: re-audit due this edition, and expiring by 1.11.2025
LEADER = 1003  # in the programme since 2014/2015, extension to 15.10.2028, a positive control in 2024
AUDITED = 1004  # certification audit of 20.05.2025 with full points, its certificate never recorded
WRONG = 1005  # certificate of 2023/2024 recorded valid 3 years instead of 2: a contradiction
OUTSIDE = 1006  # never took part
TARNOW_STAGE1 = 2001  # like STAGE1, in Tarnów
PUPILS = 120  # CERTIFIED's number of pupils in the register
CERTIFIED_STUDENTS = 3  # its students' baseline respondents (every other survey has one)


def build(con, ref) -> None:
    def cat(edition: str):
        return ref.catalogue_for("school", edition)

    def full(edition: str) -> list[tuple[str, int]]:
        return [(c.id, c.max_points) for c in cat(edition).criteria]

    with transaction(con):
        ids = {}
        for rspo, county, pupils in ((STAGE1, BOCHNIA, None), (CERTIFIED, BOCHNIA, PUPILS), (LEADER, BOCHNIA, None),
                                     (AUDITED, BOCHNIA, None), (WRONG, BOCHNIA, None), (OUTSIDE, BOCHNIA, None),
                                     (TARNOW_STAGE1, TARNOW, None)):
            ids[rspo] = insert_one(con, "institutions", {
                "rspo": rspo, "name": f"Szkoła Podstawowa nr {rspo}", "kind": "primary", "county": county,
                "municipality": "Gmina", "locality": f"Wieś {rspo}", "pupils": pupils})
        joined = {STAGE1: "2023/2024", CERTIFIED: "2022/2023", LEADER: "2014/2015", AUDITED: "2023/2024",
                  WRONG: "2023/2024", TARNOW_STAGE1: "2023/2024"}
        insert_rows(con, "participation", ("institution_id", "joined_edition"),
                    [(ids[r], e) for r, e in joined.items()])

        def audit(rspo: int, edition: str, kind: str, date: str) -> int:
            aid = insert_one(con, "audits", {"institution_id": ids[rspo], "edition": edition, "kind": kind,
                                             "audit_date": date, "catalogue": cat(edition).key})
            insert_rows(con, "audit_items", ("audit_id", "criterion", "points"),
                        [(aid, c, p) for c, p in full(edition)])
            return aid

        cert = audit(CERTIFIED, "2022/2023", "certification", "2023-05-20")
        audit(LEADER, "2023/2024", "control", "2024-05-15")
        audit(AUDITED, EDITION, "certification", "2025-05-20")
        awards = [(CERTIFIED, "certificate", "2022/2023", cert, "2023-10-15", "2025-10-15"),
                  (LEADER, "certificate", "2016/2017", None, "2017-10-15", "2019-10-15"),
                  (LEADER, "extension", "2018/2019", None, "2019-11-05", "2024-11-05"),
                  (LEADER, "extension", "2022/2023", None, "2023-10-15", "2028-10-15"),
                  (WRONG, "certificate", "2023/2024", None, "2024-10-15", "2027-10-15")]
        insert_rows(con, "awards", ("institution_id", "kind", "edition", "audit_id", "awarded_on", "valid_until"),
                    [(ids[r], k, e, a, on, until) for r, k, e, a, on, until in awards])
        responses = []
        for rspo in joined:
            for grp in ("students", "parents", "teachers"):
                for wave in ("baseline", "follow-up"):
                    if (rspo, grp, wave) in ((STAGE1, "parents", "follow-up"), (TARNOW_STAGE1, "teachers", "baseline")):
                        continue
                    n = CERTIFIED_STUDENTS if (rspo, grp, wave) == (CERTIFIED, "students", "baseline") else 1
                    responses += [(ids[rspo], EDITION, wave, grp)] * n
        insert_rows(con, "survey_responses", ("institution_id", "edition", "wave", "grp"), responses)
