"""The report cube: everything the reports of one edition need, computed once and saved to one file.

Report notebooks read only their slice (``Cube(path).table("audits", county="1201")``); none of them
recomputes the voivodeship from raw answers. The file is SQLite: tidy tables with an index on the
columns reports filter by, and a ``_columns`` table that restores each column's dtype on read.
Survey figures arrive already suppressed (see :mod:`zpb_lib.domain.indicators`), so nothing read from the
cube can leak a figure from fewer respondents than the threshold.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zpb_lib import code_hash as _code_hash
from zpb_lib.domain import complexes
from zpb_lib.domain import indicators as ind
from zpb_lib.reference.identifiers import identifier
from zpb_lib.reference import Reference, reference
from zpb_lib.domain.labels import labels_for
from zpb_lib.domain.scoring.explain import (closing_criteria, describe_control, describe_next_step, explained_audit, gaps, next_step)
from zpb_lib.domain.scoring.decisions import score_audit
from zpb_lib.domain.scoring.lifecycle import (Frames, accepted_awards, award_verdicts, data_quality, participating_in, rank_audits, renewals_due, replay, status_on)
from zpb_lib.domain.scoring.rules import Rules, rules as load_rules
from zpb_lib.domain.stats import DEFAULT_THRESHOLD
from zpb_lib.store import cubefile, data_version, snapshot
from zpb_lib.store.backend import Connection
from zpb_lib.store.queries.meta import is_synthetic
from zpb_lib.store.queries.plans import action_item_counts

# 2: institutions carry the identifiers people use (rspo, polon, ident) and in_register, and so do
# the tables reports list institutions from (audits, awards, renewals, next steps, plan, quality).
# 3: statuses count only the awards the rules do not deny; awards carry contested, contest and
# rules_until; next steps carry case and audit_kind (a control audit is explained as such). School
# complexes (zpb_lib.domain.complexes): institutions carry their complex, whether they count as an
# institution of their own, their own and their shown status; survey figures of a school taking
# part with its complex are the complex's.
CUBE_VERSION = 3
# What a person sees of an institution; "id"/"institution_id" stay only as join keys inside the cube.
IDENTITY = ("rspo", "polon", "ident", "in_register")
INDEXED = {"institutions": ("county", "id", "rspo", "polon"), "audits": ("edition", "county", "institution_id"),
           "audit_items": ("audit_id",), "next_steps": ("institution_id",), "awards": ("institution_id", "county"),
           "indicators": ("level", "key"), "wave_changes": ("level", "key"), "edition_changes": ("level", "key"),
           "places": ("level", "key"), "plan": ("institution_id", "county"), "renewals": ("county",),
           "county_summary": ("county",), "trends": ("county",), "quality": ("institution_id",)}


def as_of_date(ref: Reference, edition: str) -> dt.date:
    """Reports of an edition describe the state on its ceremony day (awards of the edition given)."""
    e = ref.edition(edition)
    return e.ceremony or e.audit_to


def reference_hash(ref: Reference) -> str:
    """Hash of the reference files (catalogues, rules, questionnaires…): they change results too."""
    h = hashlib.sha256()
    for p in sorted(ref.directory.rglob("*")):
        if p.is_file() and p.suffix in (".yaml", ".csv", ".geojson"):
            h.update(p.relative_to(ref.directory).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def compute(con: Connection, edition: str, *, ref: Reference | None = None, rules: Rules | None = None,
            threshold: int = DEFAULT_THRESHOLD, renewal_months: int = 12) -> dict[str, pd.DataFrame]:
    """All tables of the cube for ``edition`` (history up to and including it)."""
    ref = ref or reference()
    rules = rules or load_rules(ref.directory)
    e = ref.edition(edition)
    if not e.held:
        raise ValueError(f"edition {edition} was not held (the programme was suspended)")
    as_of = as_of_date(ref, edition)
    editions_upto = [x.edition for x in ref.editions.values() if x.start_year <= e.start_year]
    held_upto = [x for x in editions_upto if ref.editions[x].held]
    frames = history_upto(Frames.load(con), ref, edition)
    county_info = _county_info(ref)

    # --- institutions and their status on the ceremony day, counting only the awards the rules do
    # not deny (`zpb db check` lists the others; the awards table keeps them, marked)
    scored = replay(frames, ref, rules)
    problems = data_quality(frames, scored, ref, rules, as_of=as_of)
    accepted = replace(frames, awards=accepted_awards(frames.awards, problems))
    st = status_on(accepted, as_of)
    institutions = institution_table(frames, st, scored, ref, edition)

    # --- audits: every audit up to the edition, scored and decided; the edition's ranked
    look = institutions.set_index("id")
    scored = audits_table(scored, look)
    ranked = rank_audits(scored[scored["edition"] == edition])
    audits = scored.merge(ranked[["audit_id", "rank", "tied"]], on="audit_id", how="left")
    audits["rank"] = audits["rank"].astype("Int64")
    audits["tied"] = audits["tied"].fillna(False).astype(bool)

    # --- per-criterion points and next steps from each institution's latest audit
    items = frames.audit_items.copy()
    crit_rows = [{"catalogue": cat.key, "criterion": c.id, "area": c.area, "max_points": c.max_points,
                  "mandatory": c.mandatory, "title_pl": c.title_pl, "title_en": c.title_en, "order": i}
                 for cat in ref.catalogues.values() for i, c in enumerate(cat.criteria)]
    crit = pd.DataFrame(crit_rows)
    items = items.merge(frames.audits[["id", "catalogue"]].rename(columns={"id": "audit_id"}), on="audit_id")
    items["catalogue"] = items["catalogue"].astype(str)
    items["criterion"] = items["criterion"].astype(str)
    audit_items = items.merge(crit, on=["catalogue", "criterion"], how="inner")
    audit_items["points"] = audit_items["points"].astype(int)
    audit_items["lost"] = audit_items["max_points"] - audit_items["points"]
    audit_items = audit_items.sort_values(["audit_id", "order"]).reset_index(drop=True)
    next_steps = _next_steps(ref, rules, frames, scored, institutions, edition)
    # After the next steps: a member's next award depends on its own stage, not its complex's.
    institutions = with_complexes(institutions, complexes.units(frames.institutions, frames.participation, edition))

    verdicts = award_verdicts(frames.awards, problems)
    awards = frames.awards.merge(verdicts, on="id", how="left").rename(columns={"id": "award_id"})
    awards = _with_identity(awards.assign(county=awards["institution_id"].map(look["county"]),
                                          name=awards["institution_id"].map(look["name"])), look)
    renewals = _with_identity(renewals_due(st, as_of, renewal_months, ref).merge(
        county_info[["county", "county_name", "police_unit_name"]], on="county", how="left"), look)
    quality = _with_identity(problems, look)
    next_steps = _with_identity(next_steps, look)

    # --- survey indicators (suppressed inside the indicators module)
    # Trends need county and voivodeship figures of every edition; institution figures are kept
    # for this edition and the previous one (the school report compares them), places for this one.
    # A school taking part with its complex answers as the complex (zpb_lib.domain.complexes).
    keys = complexes.unit_keys(frames.institutions, frames.participation, held_upto)
    counts = complexes.pool_units(ind.indicator_counts(con, ref, editions=held_upto), keys, ["n", "k"])
    indicators = ind.indicator_table(counts, ref, threshold=threshold)
    wave_changes = ind.changes_between_waves(indicators, ref)
    edition_changes = ind.changes_between_editions(indicators, ref)
    recent = held_upto[-2:]
    indicators = indicators[(indicators["level"] != "institution") | indicators["edition"].isin(recent)]
    wave_changes = wave_changes[(wave_changes["level"] != "institution") | (wave_changes["edition"] == edition)]
    edition_changes = edition_changes[(edition_changes["level"] != "institution") | (edition_changes["edition"] == edition)]
    places = ind.place_table(complexes.pool_units(ind.place_counts(con, ref, [edition]), keys, ["n", "k"]), ref,
                             threshold)

    plan = _with_identity(_plan(con, edition, look), look)
    county_summary = summary_by_county(institutions, audits, edition, list(ref.counties))
    trends = _trends(ref, accepted, scored, institutions, held_upto)
    return {"institutions": institutions, "audits": audits, "audit_items": audit_items, "next_steps": next_steps,
            "awards": awards, "renewals": renewals, "quality": quality, "indicators": indicators,
            "wave_changes": wave_changes, "edition_changes": edition_changes, "places": places, "plan": plan,
            "county_summary": county_summary, "trends": trends, "criteria": crit}


def history_upto(frames: Frames, ref: Reference, edition: str) -> Frames:
    """The programme's history up to and including ``edition``: later audits, awards and joins left
    out, and a leave after it undone (a school that leaves after this edition is still taking part
    in it)."""
    start = ref.edition(edition).start_year
    editions_upto = [x.edition for x in ref.editions.values() if x.start_year <= start]
    later = [x for x in ref.editions if x not in editions_upto]
    audits = frames.audits[frames.audits["edition"].astype(str).isin(editions_upto)]
    part = frames.participation[frames.participation["joined_edition"].astype(str).isin(editions_upto)]
    left = part["left_edition"].astype(str)
    return Frames(frames.institutions, part.assign(left_edition=part["left_edition"].where(~left.isin(later))),
                  audits, frames.audit_items[frames.audit_items["audit_id"].isin(audits["id"])],
                  frames.awards[frames.awards["edition"].astype(str).isin(editions_upto)])


def _county_info(ref: Reference) -> pd.DataFrame:
    return pd.DataFrame([{"county": t, "county_name": c.name, "county_name_en": c.name_en,
                          "police_unit": c.police_unit, "police_unit_name": ref.police_units[c.police_unit].name}
                         for t, c in ref.counties.items()])


def institution_table(frames: Frames, status: pd.DataFrame, scored: pd.DataFrame, ref: Reference,
                      edition: str) -> pd.DataFrame:
    """Every institution with the identifiers people use, its kind and county, its ``status`` (from
    :func:`status_on` on the day the reports describe), whether it takes part in ``edition``
    (``participating``), appears in it (``in_edition``) and exists in its school year (``exists``)."""
    kinds = pd.DataFrame([{"kind": k.code, "family": k.family, "kind_pl": k.name_pl, "kind_en": k.name_en}
                          for k in ref.kinds.values()])
    inst = frames.institutions.rename(columns={"id": "institution_id"})
    inst = inst.assign(kind=inst["kind"].astype(str), county=inst["county"].astype(str))
    inst = inst.assign(rspo=pd.to_numeric(inst["rspo"]).astype("Int64"),
                       polon=inst["polon"].astype(object).where(inst["polon"].notna(), None),
                       in_register=inst["in_register"].fillna(1).astype(int).astype(bool))
    rspo = inst["rspo"].astype(object).where(inst["rspo"].notna(), None)  # identifier() takes None, not pd.NA
    inst["ident"] = [identifier(r, p) for r, p in zip(rspo, inst["polon"])]
    institutions = (inst.merge(status.drop(columns=["name", "kind", "county"]), on="institution_id")
                    .merge(kinds, on="kind").merge(_county_info(ref), on="county"))
    in_edition = set(scored.loc[scored["edition"] == edition, "institution_id"]) if len(scored) else set()
    # A school that leaves after this edition still took part in it, though on the ceremony day
    # its status is already "left".
    institutions["participating"] = institutions["institution_id"].isin(participating_in(frames.participation, edition))
    institutions["in_edition"] = institutions["participating"] | institutions["institution_id"].isin(in_edition)
    institutions["exists"] = complexes.exists_in(institutions, ref.edition(edition).start_year)
    return institutions.rename(columns={"institution_id": "id"}).sort_values("id").reset_index(drop=True)


def audits_table(scored: pd.DataFrame, look: pd.DataFrame) -> pd.DataFrame:
    """The replayed audits (:func:`replay`) with their institution's identity, family, county,
    police unit and name (``look``: :func:`institution_table` by id)."""
    scored = _with_identity(scored, look)
    scored["family"] = scored["institution_id"].map(look["family"])
    scored["county"] = scored["institution_id"].map(look["county"])
    scored["police_unit"] = scored["institution_id"].map(look["police_unit"])
    scored["name"] = scored["institution_id"].map(look["name"])
    return scored


# What a school taking part with its complex shows of it: the award, and since when it takes part.
_AWARD_COLUMNS = ("award_id", "award_kind", "awarded_on", "valid_until")
_PROGRAMME_COLUMNS = ("joined_edition", "years_in_programme")


def with_complexes(institutions: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Institutions with their complex (``complex_id``, ``complex_ident``, ``complex_name``), the
    number of ``members`` of a complex, ``on_own`` / ``represented`` / ``counted`` (see
    :func:`zpb_lib.domain.complexes.units`), their ``own_status``, and the status a reader sees: a school
    taking part with its complex shows the complex's status, award and participation
    (``via_complex``) unless it holds a valid award of its own, which comes first. A school taking
    part on its own keeps its own."""
    out = institutions.join(units, on="id")
    out["own_status"] = out["status"].astype(str)
    by_id = out.set_index("id")
    cx = out["complex_id"]
    member = cx.notna().to_numpy()
    out["complex_ident"] = cx.map(by_id["ident"]).astype(object).where(member, None)
    out["complex_name"] = cx.map(by_id["name"]).astype(object).where(member, None)
    c_status = cx.map(by_id["status"].astype(str))
    own_award = out["own_status"].isin(complexes.AWARD_STATUSES)
    complex_active = c_status.notna() & (c_status != "not_participating")
    via = out["represented"].astype(bool) & ~own_award & complex_active
    status = out["status"].astype(str).where(~via, c_status)
    for col in (*_AWARD_COLUMNS, *_PROGRAMME_COLUMNS):
        theirs = cx.map(by_id[col].astype(object))
        out[col] = out[col].astype(object).where(~via, theirs)
    for col in ("award_id", "years_in_programme"):
        out[col] = pd.to_numeric(out[col]).astype("Int64")
    for col in ("awarded_on", "valid_until"):
        out[col] = pd.to_datetime(out[col])
    out["status"] = pd.Categorical(status, categories=institutions["status"].cat.categories)
    out["via_complex"] = via.astype(bool)
    rep = out["represented"].astype(bool)
    out["participating"] = out["participating"].where(~rep, cx.map(by_id["participating"]).astype("boolean")
                                                      ).astype(bool)
    theirs = cx.map(by_id["in_edition"].astype("boolean")).fillna(False).astype(bool)
    out["in_edition"] = (out["in_edition"].astype(bool) | (rep & theirs)).astype(bool)
    for col in ("on_own", "represented", "counted"):
        out[col] = out[col].astype(bool)
    return out


def _with_identity(frame: pd.DataFrame, look: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the identity columns of its ``institution_id`` (``look``: institutions by id)."""
    if frame.empty and "institution_id" not in frame.columns:
        return frame
    ids = frame["institution_id"]
    return frame.assign(**{c: ids.map(look[c]).astype(look[c].dtype) for c in IDENTITY})


def _next_steps(ref: Reference, rules: Rules, frames: Frames, scored: pd.DataFrame, institutions: pd.DataFrame,
                edition: str) -> pd.DataFrame:
    """For every institution audited up to the edition: the audit its report explains (see
    :func:`explained_audit`) and what it says — ``case`` "next" (an award audit: what is missing for
    the next award), "complete" (an award audit of an institution with no next stage: the leader
    title), or "control" (a control audit: what it confirmed, what keeps the status, which audit
    gives the next stage). ``threshold``, ``points_short`` and ``criteria`` are about the next award,
    or for a control audit about the control threshold."""
    if scored.empty:
        return pd.DataFrame()
    items = frames.audit_items
    look = institutions.set_index("id")
    chosen = [a for _, g in scored.groupby("institution_id") if (a := explained_audit(g, edition)) is not None]
    ids = {int(a["audit_id"]) for a in chosen}
    points = {aid: dict(zip(g["criterion"].astype(str), g["points"].astype(int)))
              for aid, g in items[items["audit_id"].isin(ids)].groupby("audit_id")}
    award_pl, award_en = labels_for("award", "pl"), labels_for("award", "en")
    rows = []
    for a in chosen:
        inst_id = int(a["institution_id"])
        cat = ref.catalogues[a["catalogue"]]
        fam = look.at[inst_id, "family"]
        rs = rules.for_edition(fam, edition)
        # The next audit is judged under the catalogue in force now; scoring the latest audit
        # under its own catalogue is the best evidence we have of where points are lost.
        own = {k: v for k, v in points.get(int(a["audit_id"]), {}).items() if k in {c.id for c in cat.criteria}}
        score = score_audit(cat, own, rs.mandatory_min_points)
        stage = str(look.at[inst_id, "status"])
        years = look.at[inst_id, "years_in_programme"]
        step = next_step(rs, stage, cat, score, years=0 if pd.isna(years) else int(years),
                         positive_controls=int(a["positive_controls"]))
        row = {"institution_id": inst_id, "audit_id": int(a["audit_id"]), "edition": a["edition"],
               "audit_kind": a["kind"], "stage": stage, "rule": step.rule, "award_kind": step.award_kind,
               "total": score.total, "max_total": score.max_total, "other_conditions": ",".join(step.other_conditions),
               "mandatory_failed": ",".join(step.mandatory_failed),
               "gap_criteria": ",".join(cid for cid, _, _ in gaps(cat, score))}
        if a["kind"] == "control":
            threshold = rs.control_min_points
            short = max(0, threshold - score.total)
            texts = {lang: describe_control(cat, score, threshold, positive=bool(a["granted"]),
                                            audit_date=a["audit_date"], stage=stage,
                                            valid_until=look.at[inst_id, "valid_until"], step=step,
                                            award_label=award, lang=lang)
                     for lang, award in (("pl", award_pl), ("en", award_en))}
            row.update(case="control", threshold=threshold, points_short=short, within_reach=False,
                       criteria=",".join(closing_criteria(cat, score, short)[0]) if not a["granted"] else "")
        else:
            texts = {lang: describe_next_step(step, cat, award, lang)
                     for lang, award in (("pl", award_pl), ("en", award_en))}
            row.update(case="next" if step.rule is not None else "complete", threshold=step.threshold,
                       points_short=step.points_short, within_reach=step.within_reach,
                       criteria=",".join(step.criteria))
        row.update(text_pl=texts["pl"], text_en=texts["en"])
        rows.append(row)
    return pd.DataFrame(rows)


def _plan(con: Connection, edition: str, look: pd.DataFrame) -> pd.DataFrame:
    """Action-plan items of the edition counted by institution, area, kind, partner kind and status."""
    plan = action_item_counts(con, edition)
    plan["county"] = plan["institution_id"].map(look["county"])
    return plan


def summary_by_county(institutions: pd.DataFrame, audits: pd.DataFrame, edition: str,
                      counties: list[str]) -> pd.DataFrame:
    """Key figures per county and for the voivodeship (county '12'): institutions are participants
    (a complex with the schools taking part with it counts once, :mod:`zpb_lib.domain.complexes`), and a
    certificate counts once, for its holder."""
    ex = institutions[institutions["exists"] & institutions["counted"]]
    this = audits[audits["edition"] == edition]

    def figures(i: pd.DataFrame, a: pd.DataFrame) -> dict[str, Any]:
        n = len(i)
        part = int(i["participating"].sum())
        return {"institutions": n, "participating": part,
                "participation_rate": part / n if n else np.nan,
                "certified": int((i["own_status"] == "certified").sum()),
                "extended": int((i["own_status"] == "extended").sum()),
                "leaders": int((i["own_status"] == "leader").sum()),
                "valid_awards": int(i["own_status"].isin(complexes.AWARD_STATUSES).sum()),
                "audits": len(a), "granted": int((a["granted"] & (a["kind"] != "control")).sum()),
                "mean_share": float(a["share"].mean()) if len(a) else np.nan}

    # Every county, those without institutions in the database too (a real database may hold only some).
    rows = [{"county": c, **figures(ex[ex["county"] == c], this[this["county"] == c])} for c in counties]
    rows.append({"county": "12", **figures(ex, this)})
    return pd.DataFrame(rows)


def _trends(ref: Reference, frames: Frames, scored: pd.DataFrame, institutions: pd.DataFrame,
            held: list[str]) -> pd.DataFrame:
    """Per county and voivodeship and per held edition: participating, valid awards, audits, granted."""
    county = institutions.set_index("id")["county"]
    rows = []
    for ed in held:
        st = status_on(frames, dt.date(int(ed[:4]) + 1, 10, 31) if not ref.editions[ed].ceremony
                       else ref.editions[ed].ceremony)
        st["county"] = st["institution_id"].map(county)
        st["participating"] = st["institution_id"].isin(participating_in(frames.participation, ed))
        st["valid"] = st["status"].isin(["certified", "extended", "leader"])
        a = scored[scored["edition"] == ed]
        by = {"participating": st.groupby("county")["participating"].sum(),
              "valid_awards": st.groupby("county")["valid"].sum(),
              "leaders": st.assign(x=st["status"] == "leader").groupby("county")["x"].sum(),
              "audits": a.groupby("county").size(),
              "granted": a[(a["kind"] != "control") & a["granted"]].groupby("county").size(),
              "mean_share": a.groupby("county")["share"].mean()}
        for c in list(ref.counties) + ["12"]:
            row = {"edition": ed, "county": c}
            for k, s in by.items():
                if c == "12":
                    row[k] = s.mean() if k == "mean_share" else s.sum()
                else:
                    row[k] = s.get(c, np.nan if k == "mean_share" else 0)
            if c == "12" and len(a):
                row["mean_share"] = float(a["share"].mean())
            rows.append(row)
    out = pd.DataFrame(rows)
    for col in ("participating", "valid_awards", "leaders", "audits", "granted"):
        out[col] = out[col].astype(int)
    return out


# --------------------------------------------------------------------------- file

def write(tables: dict[str, pd.DataFrame], path: str | os.PathLike, meta: dict[str, Any]) -> Path:
    """Write the cube atomically (see :func:`zpb_lib.store.cubefile.write`): on any failure, Ctrl-C
    included, an existing cube stays as it was."""
    return cubefile.write(path, tables, meta, INDEXED)


def build(db: Connection, edition: str, path: str | os.PathLike, *, ref: Reference | None = None,
          threshold: int = DEFAULT_THRESHOLD, renewal_months: int = 12, data_hash: str | None = None,
          ref_hash: str | None = None) -> Path:
    """Compute the cube of ``edition`` from the open database ``db`` and save it to ``path``. The
    tables and the data version in its meta come from one snapshot of the data: the caller's read
    transaction (whose version ``data_hash`` should be), else one opened here."""
    if not db.in_transaction:
        with snapshot(db) as (_, version):
            return build(db, edition, path, ref=ref, threshold=threshold, renewal_months=renewal_months,
                         data_hash=version, ref_hash=ref_hash)
    ref = ref or reference()
    t0 = time.perf_counter()
    tables = compute(db, edition, ref=ref, threshold=threshold, renewal_months=renewal_months)
    e = ref.edition(edition)
    meta = {"cube_version": CUBE_VERSION, "edition": edition, "edition_roman": e.roman,
            "as_of": as_of_date(ref, edition).isoformat(), "threshold": threshold,
            "renewal_months": renewal_months, "synthetic": is_synthetic(db),
            "data_hash": data_hash or data_version(db),
            "reference_hash": ref_hash or reference_hash(ref),
            "code_hash": _code_hash(),  # with the two above: whether the cube is still current
            "generated_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "compute_seconds": round(time.perf_counter() - t0, 3)}
    return write(tables, path, meta)


class Cube:
    """Read access to a saved cube, by slice."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"report cube {self.path} does not exist (build it with `zpb build`)")
        self._file = cubefile.CubeFile(self.path)
        try:
            self.meta = self._file.meta()
            version = self.meta.get("cube_version")
            if version != CUBE_VERSION:
                # An older cube lacks columns this code reads (e.g. the identifiers of version 2).
                raise ValueError(f"report cube {self.path} has version {version}, this zpb reads version "
                                 f"{CUBE_VERSION}: rebuild it with `zpb build` (or delete it)")
            self._file.dtypes()
        except BaseException:
            self._file.close()
            raise

    def tables(self) -> list[str]:
        return list(self._file.dtypes())

    def table(self, name: str, **filters: Any) -> pd.DataFrame:
        """Rows of table ``name`` where each ``column=value`` holds (a list/tuple value means IN)."""
        return self._file.read(name, **filters)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "Cube":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
