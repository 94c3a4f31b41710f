"""The names of zpb's roles on a shared PostgreSQL database (what they may do: :mod:`.roles`)."""
from __future__ import annotations

import re

ANALYST = "zpb_analyst"
READER = "zpb_reader"
UNIT_PREFIX = "zpb_unit_"
# The group of the web app's logins (`zpb db roles --web-login`): they act only in the role of the
# person logged in, never with rights of their own.
WEB = "zpb_web"


def unit_role(code: str) -> str:
    """The role of a police unit: ``KPP-NOWY-TARG`` → ``zpb_unit_kpp_nowy_targ``."""
    return UNIT_PREFIX + code.lower().replace("-", "_")


def is_acting_role(name: str) -> bool:
    """Whether the web app may act in ``name``: the analyst's, the reader's or a police unit's role."""
    return name in (ANALYST, READER) or re.fullmatch(re.escape(UNIT_PREFIX) + r"[a-z0-9_]+", name) is not None
