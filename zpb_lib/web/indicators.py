"""The „Wskaźniki” tab: a county against the voivodeship — key figures and survey indicators —, its
schools side by side, its trends over editions and the places named as dangerous, for the county, the
survey group and the indicator chosen (a unit's coordinator: her unit's counties; anyone else: any).

The edition's cube is read (or, after an import, computed: seconds) in a worker thread under the
user's role and then kept in memory (:func:`zpb_lib.services.cubes.edition_data`); what the tab shows
is composed from it by :mod:`zpb_lib.services.indicators_view`. „Ładowanie…” says so meanwhile."""
from __future__ import annotations

import asyncio
from html import escape
from typing import TYPE_CHECKING, Any

import panel as pn

from zpb_lib.core.errors import ZpbError
from zpb_lib.reference import GROUPS, reference
from zpb_lib.services.cubes import edition_data
from zpb_lib.services.indicators_view import counties_for, indicator_names, view
from zpb_lib.services.lookups import current_edition
from zpb_lib.web.texts import t

if TYPE_CHECKING:  # the page builds this tab: no import back at run time
    from zpb_lib.web.pages import Session

# The report primitives' classes (zpb_lib.report.html, charts) as the app's other tables look.
CSS = """
.zpb-indicators .zpb-key-figures { display: flex; flex-wrap: wrap; gap: .5rem; margin: .3rem 0 .8rem; padding: 0; }
.zpb-indicators .zpb-tile { max-width: 22rem; margin: 0; }
.zpb-indicators .zpb-tile dd.zpb-tile-note { font-size: .8rem; font-weight: normal; color: #333; }
.zpb-indicators .zpb-num { text-align: right; white-space: nowrap; }
.zpb-indicators .zpb-footnotes { font-size: .85rem; color: #333; margin-bottom: .8rem; }
.zpb-indicators .zpb-footnote { margin: .1rem 0; }
.zpb-indicators .zpb-table-wrap { overflow-x: auto; }
.zpb-indicators .zpb-table { margin: .3rem 0; }
.zpb-indicators figure { margin: .4rem 0; } .zpb-indicators figure img { max-width: 100%; height: auto; }
.zpb-indicators .zpb-sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.zpb-indicators h2 { margin: .6rem 0 .2rem; } .zpb-indicators h3 { margin: 1rem 0 .3rem; font-size: 1.1rem; }
"""


class IndicatorsPage:
    """The comparisons of the chosen county, group and indicator; drawn again when one changes."""

    def __init__(self, session: Session, units: frozenset[str] | None):
        lang = self.lang = session.lang
        self.session = session
        self._asked = 0  # the latest view asked for: an earlier one arriving late is dropped
        ref = reference()
        counties = counties_for(units, ref, lang)
        self.county = pn.widgets.Select(label=t("ind_county", lang), width=300,
                                        options={name: code for code, name in counties.items()},
                                        value=next(iter(counties)))
        self.group = pn.widgets.Select(label=t("group", lang), width=200, options={t(g, lang): g for g in GROUPS})
        self.indicator = pn.widgets.Select(label=t("ind_indicator", lang), width=420,
                                           options={name: i for i, name in indicator_names(ref, lang).items()})
        self.status = pn.pane.HTML(self._note("ind_loading"), sizing_mode="stretch_width")
        self.body = pn.pane.HTML("", sizing_mode="stretch_width")
        for w in (self.county, self.group, self.indicator):
            w.param.watch(lambda e: asyncio.ensure_future(self.load()), "value")
        title = pn.pane.HTML(f"<h2>{escape(t('ind_title', lang))}</h2><p>{escape(t('ind_help', lang))}</p>",
                             sizing_mode="stretch_width")
        self.view = pn.Column(title, pn.Row(self.county, self.group, self.indicator), self.status, self.body,
                              sizing_mode="stretch_width", css_classes=["zpb-indicators"])

    def _note(self, key: str, **values: Any) -> str:
        return f'<p role="status">{escape(t(key, self.lang, **values))}</p>'

    async def load(self) -> None:
        """The edition's cube (read in the user's role; computed the first time after an import) and
        the view of the choices, both in a worker thread; „Ładowanie…” until they arrive."""
        self._asked += 1
        asked = self._asked
        db, reports, lang = self.session.config.db, self.session.config.reports, self.lang
        county, group, indicator = self.county.value, self.group.value, self.indicator.value
        edition = current_edition().edition
        self.status.object = self._note("ind_loading")
        try:
            data = await self.session.run(lambda: edition_data(db, edition, reports))
            # the figures and tables first; the charts (most of the drawing's time) follow
            for draw in (False, True):
                v = await asyncio.to_thread(view, data, county, group, indicator, lang, draw=draw)
                if asked != self._asked:
                    return
                self.body.object = v.html()
                self.status.object = self._note("ind_shown", county=v.county_name, edition=v.edition)
        except ZpbError as exc:
            if asked == self._asked:
                self.status.object = f'<p class="zpb-refused" role="alert">{escape(str(exc))}</p>'


def indicators_tab(session: Session, units: frozenset[str] | None) -> Any:
    """The tab's content, its view drawn once the tab is shown."""
    page = IndicatorsPage(session, units)
    asyncio.ensure_future(page.load())
    return page.view
