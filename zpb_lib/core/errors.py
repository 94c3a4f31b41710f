"""The root of every error zpb raises for a person to read.

Each kind keeps the built-in base it had (``class IngestError(ZpbError, ValueError)``), so code that
catches ``ValueError`` or ``OSError`` still does; an interface (the command line) catches
:class:`ZpbError` once and prints its ``str()``: the whole message, one line or a few, no traceback.
An exception that is not a ``ZpbError`` is a bug, or a library's error nobody turned into words yet.
"""
from __future__ import annotations


class ZpbError(Exception):
    """An error whose message is written for the person who ran zpb: what went wrong, where, and
    what to do about it."""


class Refusal(ZpbError):
    """An input or a request declined as given (a file that cannot be imported, an undo or an award
    confirmation that would leave the data wrong); nothing was stored. The command line says
    „refused”."""
