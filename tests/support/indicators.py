"""Figures of the „Wskaźniki” tab computed without the code that shows them: survey shares counted
with SQL on the raw answers and Wilson's interval from domain.stats, key figures from the cube's
county summary (:func:`zpb_lib.domain.cube.summary_by_county`, not the explorer's frames)."""
from __future__ import annotations

from dataclasses import dataclass

from zpb_lib import store
from zpb_lib.domain.stats import wilson_interval
from zpb_lib.reference import reference


@dataclass(frozen=True)
class Share:
    n: int
    k: int

    @property
    def p(self) -> float:
        return self.k / self.n

    @property
    def interval(self) -> tuple[float, float]:
        lo, hi = wilson_interval(self.k, self.n)
        return float(lo), float(hi)


def survey_share(db, edition: str, group: str, indicator: str, *, county: str | None = None,
                 institution: int | None = None, wave: str = "follow-up") -> Share:
    """Respondents who answered the indicator's question and those whose answer counts as positive,
    counted in the database: of a county (None: the voivodeship) or of one institution."""
    ind = reference().indicators[indicator]
    positive = ", ".join(str(int(v)) for v in ind.positive)
    where, params = ["r.edition = ?", "r.wave = ?", "r.grp = ?"], [edition, wave, group]
    if county is not None:
        where.append("i.county = ?")
        params.append(county)
    if institution is not None:
        where.append("r.institution_id = ?")
        params.append(institution)
    sql = (f"SELECT COUNT(r.{ind.item}), SUM(CASE WHEN r.{ind.item} IN ({positive}) THEN 1 ELSE 0 END) "
           f"FROM survey_responses r JOIN institutions i ON i.id = r.institution_id WHERE {' AND '.join(where)}")
    with store.connect(db, readonly=True) as con:
        n, k = con.execute(sql, params).fetchone()
    return Share(int(n or 0), int(k or 0))
