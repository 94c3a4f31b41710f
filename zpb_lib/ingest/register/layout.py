"""The register workbook's interface: sheet names, headers, the Polish labels of stored codes,
and each data sheet's columns. `zpb match` writes „Nagrody” with these headers and people's own
tools read them: change them only together with those."""
from __future__ import annotations

from dataclasses import dataclass

PARTICIPATION_SHEET = "Udział"
AWARDS_SHEET = "Nagrody"
ACTIONS_SHEET = "Plany działań"
PARTNERS_SHEET = "Partnerzy"
INSTITUTIONS_SHEET = "Placówki"
GUIDE_SHEET = "Instrukcja"
LISTS_SHEET = "Listy"  # hidden: the validation lists

INSTITUTION_HEADER = "Placówka (RSPO / POL-on)"
NAME_HEADER = "Nazwa placówki"  # for the reader only: never read back
# `zpb match` adds the published list's item to each row of „Nagrody”: a row that still has it and no
# institution is an item nobody matched, skipped and counted rather than refused.
LIST_LINE_HEADER = "Linia z listy"
PARTICIPATION_HEADERS = (INSTITUTION_HEADER, NAME_HEADER, "Edycja przystąpienia", "Edycja odejścia")
AWARD_HEADERS = (INSTITUTION_HEADER, NAME_HEADER, "Edycja", "Rodzaj nagrody", "Data przyznania")
ACTION_HEADERS = (INSTITUTION_HEADER, NAME_HEADER, "Edycja", "Obszar", "Rodzaj działania", "Działanie", "Partner",
                  "Termin", "Status")
PARTNER_HEADERS = ("Nazwa", "Rodzaj", "Powiat")
# The last column of every data sheet, optional when read (a `zpb match` file and older registers
# lack it): any mark removes the stored row with the row's key.
REMOVE_HEADER = "Usuń"
INSTITUTION_LIST_HEADERS = ("Identyfikator (RSPO / POL-on)", "Nazwa", "Miejscowość", "Powiat", "Rodzaj")

AWARD_KIND_LABELS = {"certificate": "certyfikat", "extension": "przedłużenie", "leader": "Lider Projektu",
                     "university_certificate": "uczelnia"}
AREA_LABELS = {"violence": "przemoc szkolna", "dangerous_places": "miejsca niebezpieczne", "other": "inne"}
ACTION_KIND_LABELS = {"infrastructure": "infrastrukturalne", "prevention": "profilaktyczne"}
STATUS_LABELS = {"planned": "planowane", "in_progress": "w trakcie", "done": "wykonane", "dropped": "zaniechane"}
PARTNER_KIND_LABELS = {"police": "policja", "city_guard": "straż miejska", "fire_brigade": "straż pożarna",
                       "local_government": "samorząd", "ngo": "organizacja pozarządowa", "parents": "rodzice",
                       "health": "ochrona zdrowia", "other": "inne"}


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: float
    info: bool = False  # for the reader only: never read
    optional: bool = False  # read when present, never required


@dataclass(frozen=True)
class Sheet:
    name: str
    what: str  # English name of a row, for messages
    table: str
    columns: tuple[Column, ...]

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)

    def col(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


def _sheet(name: str, what: str, table: str, headers: tuple[str, ...], keys: str, widths: tuple[float, ...]
           ) -> Sheet:
    cols = tuple(Column(key, h, width, h == NAME_HEADER) for h, key, width in zip(headers, keys.split(), widths))
    return Sheet(name, what, table, cols + (Column("remove", REMOVE_HEADER, 9, optional=True),))


PARTICIPATION = _sheet(PARTICIPATION_SHEET, "participation", "participation", PARTICIPATION_HEADERS,
                       "institution name joined left", (24, 50, 20, 18))
AWARDS = _sheet(AWARDS_SHEET, "award", "awards", AWARD_HEADERS, "institution name edition kind date",
                (24, 50, 12, 18, 16))
ACTIONS = _sheet(ACTIONS_SHEET, "action", "action_items", ACTION_HEADERS,
                 "institution name edition area kind title partner deadline status", (24, 40, 12, 22, 18, 50, 40, 12, 12))
PARTNERS = _sheet(PARTNERS_SHEET, "partner", "partners", PARTNER_HEADERS, "name kind county", (60, 24, 18))
SHEETS = (PARTICIPATION, AWARDS, ACTIONS, PARTNERS)
