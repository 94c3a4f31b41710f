"""Acting for the person logged in to the web app (``zpb serve``).

The web app connects with a login of its own, a member of zpb's roles without their rights
(``zpb db roles --web-login``). Each request's database work runs inside :func:`acting_as`: every
connection opened there takes the person's role (``SET ROLE``) right after connecting, so that
PostgreSQL's grants and row-level security decide what the request may change, as they do for a
person's own login; and it knows the person, whom an import records (``imports.person``). A
connection lives for one service call, so the role ends with it.

A SQLite file is one person's: there the role is ignored and the person still recorded.
"""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterator

from zpb_lib.store.role_names import ANALYST, READER, UNIT_PREFIX, is_acting_role


@dataclass(frozen=True)
class Acting:
    role: str  # zpb_analyst, zpb_reader or a police unit's role
    person: str  # the web app's login of the person (anna.nowak)


# Per thread and per asyncio task: requests served at once never share a role.
_ACTING: ContextVar[Acting | None] = ContextVar("zpb_acting", default=None)


def acting() -> Acting | None:
    """Whom the code running now acts for (None: the connecting login itself)."""
    return _ACTING.get()


@contextlib.contextmanager
def acting_as(role: str, person: str) -> Iterator[Acting]:
    """Open every connection of the block in ``role`` for ``person`` (see the module's text)."""
    if not isinstance(role, str) or not is_acting_role(role):
        raise ValueError(f"cannot act as {role!r}: not a zpb role ({ANALYST}, {READER} or {UNIT_PREFIX}…)")
    if not isinstance(person, str) or not person.strip():
        raise ValueError(f"acting as {role} needs the person logged in, got {person!r}")
    token = _ACTING.set(Acting(role, person))
    try:
        yield _ACTING.get()
    finally:
        _ACTING.reset(token)
