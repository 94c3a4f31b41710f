"""The school-complex rule (zpb_lib.domain.complexes, docs/own-data.md) written out in SQL, for tests that
compute the figures they expect straight from the database rather than through the code under test.

A school is a member of a complex when its ``parent_rspo`` names a stored institution of kind
``complex``; in an edition it is *represented* by that complex when it has no participation of its
own covering the edition and the complex exists then. Represented schools count in their complex;
so does a complex whose schools all take part on their own while it does not (its schools are the
institutions). Each function gives an SQL condition on the institution aliased ``alias`` for the
edition ``edition`` (beginning in ``start``); the values are this suite's own constants.
"""
from __future__ import annotations


def participates(alias: str, edition: str) -> str:
    """The institution's own participation covers the edition."""
    return (f"EXISTS (SELECT 1 FROM participation p WHERE p.institution_id = {alias}.id "
            f"AND p.joined_edition <= '{edition}' AND (p.left_edition IS NULL OR p.left_edition >= '{edition}'))")


def exists(alias: str, start: int) -> str:
    return (f"(({alias}.opened_year IS NULL OR {alias}.opened_year <= {int(start)}) "
            f"AND ({alias}.closed_year IS NULL OR {alias}.closed_year > {int(start)}))")


def complex_row(alias: str, parent: str) -> str:
    """``parent`` (an alias to bind) is the complex of school ``alias``."""
    return (f"{parent}.rspo = {alias}.parent_rspo AND {parent}.kind = 'complex' AND {parent}.id <> {alias}.id "
            f"AND {alias}.kind <> 'complex'")


def represented(alias: str, edition: str, start: int) -> str:
    """The school takes part through its complex in the edition."""
    parent = f"{alias}_cx"
    return (f"(NOT {participates(alias, edition)} AND EXISTS (SELECT 1 FROM institutions {parent} "
            f"WHERE {complex_row(alias, parent)} AND {exists(parent, start)}))")


def counted(alias: str, edition: str, start: int) -> str:
    """The institution counts as one of the county's institutions (existence aside)."""
    member = f"{alias}_m"
    members = f"SELECT 1 FROM institutions {member} WHERE {complex_row(member, alias)}"
    shell = (f"({alias}.kind = 'complex' AND EXISTS ({members}) AND NOT EXISTS ({members} AND "
             f"{represented(member, edition, start)}) AND NOT {participates(alias, edition)})")
    return f"(NOT {represented(alias, edition, start)} AND NOT {shell})"


def in_edition(alias: str, edition: str, start: int) -> str:
    """The institution takes part in the edition, or was audited in it, itself or through its
    complex: who gets a school report."""
    parent = f"{alias}_pc"
    own = (f"({participates(alias, edition)} OR EXISTS (SELECT 1 FROM audits a WHERE a.institution_id = {alias}.id "
           f"AND a.edition = '{edition}'))")
    through = (f"({represented(alias, edition, start)} AND EXISTS (SELECT 1 FROM institutions {parent} WHERE "
               f"{complex_row(alias, parent)} AND ({participates(parent, edition)} OR EXISTS (SELECT 1 FROM audits a "
               f"WHERE a.institution_id = {parent}.id AND a.edition = '{edition}'))))")
    return f"({own} OR {through})"
