"""`zpb ingest audit --replace` says what the new protocol changes in the audit it replaces: the
points of every criterion that differ (old → new), the total, and a changed kind or date."""
from __future__ import annotations

import datetime as dt

from zpb_lib.cli import main
from zpb_lib.ingest.audit import ingest_audit, write_template
from support.audits import AUDIT_DAY, EDITION, fill, full_points, school  # noqa: F401 (con: fixture)


def expected_point_lines(old: dict[str, int], new: dict[str, int], order: list[str]) -> str:
    diff = [f"{c}: {old.get(c, 'not scored')} → {new.get(c, 'not scored')}" for c in order if old.get(c) != new.get(c)]
    return f"points changed for {len(diff)} criteria: " + "; ".join(diff)


def test_replace_lists_changed_points_and_date(con, ref, tmp_path, capsys):
    inst = school(con)
    template = write_template(con, inst, EDITION, tmp_path / "t.xlsx")
    cat = ref.catalogue_for("school", EDITION)
    order = [c.id for c in cat.criteria]
    first_points = full_points(cat)
    ingest_audit(con, fill(template, tmp_path / "v1.xlsx", first_points))
    # The correction: two criteria scored differently, an optional one left empty, another day.
    second_points = dict(first_points)
    a, b = order[1], order[4]
    second_points[a] -= 1
    second_points[b] = 0
    optional = next(c.id for c in cat.criteria if not c.mandatory and c.id not in (a, b))
    del second_points[optional]
    later = AUDIT_DAY + dt.timedelta(days=7)
    fixed = fill(template, tmp_path / "v2.xlsx", {**second_points, optional: None}, date=later)

    res = ingest_audit(con, fixed, replace=True, dry_run=True)
    assert res.changes == [
        f"date: {AUDIT_DAY:%d.%m.%Y} → {later:%d.%m.%Y}",
        expected_point_lines(first_points, second_points, order),
        f"total points: {sum(first_points.values())} → {sum(second_points.values())}"]
    assert f"{optional}: {first_points[optional]} → not scored" in res.changes[1]

    # The command prints them under the line saying what it replaced.
    db = con.execute("PRAGMA database_list").fetchone()[2]
    assert main(["ingest", "audit", str(fixed), "--replace", "--db", db]) == 0
    out = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(out) if line.startswith("  replaced the control audit"))
    assert [line.strip() for line in out[at + 1:at + 4]] == res.changes


def test_replace_of_the_same_file_says_a_changed_kind_or_nothing(con, ref, tmp_path):
    inst = school(con, kind="certification", offset=3)
    template = write_template(con, inst, EDITION, tmp_path / "t.xlsx")
    cat = ref.catalogue_for("school", EDITION)
    filled = fill(template, tmp_path / "bez-rodzaju.xlsx", full_points(cat), kind=None)
    ingest_audit(con, filled, kind="control")
    same = ingest_audit(con, filled, kind="control", replace=True, dry_run=True)
    assert same.changes == ["no differences: the same kind, date and points as the audit replaced"]
    other = ingest_audit(con, filled, kind="kontrolny", replace=True, dry_run=True)  # Polish kind accepted
    assert other.changes == same.changes
    res = ingest_audit(con, filled, kind="certification", replace=True, dry_run=True)
    assert res.changes == ["kind: kontrolny → certyfikacyjny (etap I)"]
