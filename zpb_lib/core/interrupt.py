"""Ctrl-C during a build: recorded once, acted on at safe points, never lost.

Ctrl-C in a terminal sends SIGINT to the whole process group: the build process and its workers
(kernels run in sessions of their own and get nothing). Only the build process acts on it:

* the workers ignore SIGINT (:mod:`zpb_lib.batch.local`); the build stops them with SIGTERM, on
  which each shuts its kernel down, so a worker never ends "normally" because of a Ctrl-C;
* in the build process, :func:`guard` installs a handler that records the interrupt before it
  raises ``KeyboardInterrupt``. An exception can be lost — raised inside a finaliser or a library's
  ``except BaseException`` — a record cannot: :func:`check` raises again at the next safe point, and
  leaving the guard raises ``KeyboardInterrupt`` if a Ctrl-C came at any time during the build;
* :func:`deferred` sections (writing the manifest and the index, stopping the workers) only record
  a Ctrl-C and finish their work, so that the folder is left consistent; the interrupt is raised
  right after.

The command line adds :func:`settle` at its very end: a Ctrl-C that came before decides the exit
status (130); from there on SIGINT is ignored. Without it, a Ctrl-C arriving after the build while
the interpreter shuts down was dropped (status 0) or killed the process by SIGINT.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

_interrupted = False
_deferring = 0


def requested() -> bool:
    """Whether a Ctrl-C reached the current build."""
    return _interrupted


def check() -> None:
    """Raise ``KeyboardInterrupt`` if a Ctrl-C reached the build and it is not being deferred."""
    if _interrupted and not _deferring:
        raise KeyboardInterrupt


def _handler(signum: int, frame: Any) -> None:
    global _interrupted
    _interrupted = True
    if not _deferring:
        raise KeyboardInterrupt


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def guard() -> Iterator[None]:
    """The span of one build: Ctrl-C recorded and raised as ``KeyboardInterrupt``; if one came at any
    time, leaving the span raises it even when the exception itself got lost on the way. Outside the
    main thread (no signals there) only the record and the checks apply."""
    global _interrupted, _deferring
    _interrupted, _deferring = False, 0
    previous = signal.signal(signal.SIGINT, _handler) if _main_thread() else None
    try:
        yield
        if _interrupted:
            raise KeyboardInterrupt
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Finish the block whatever happens; a Ctrl-C during it is only recorded (raised by :func:`check`)."""
    global _deferring
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1


@contextlib.contextmanager
def sigint_blocked() -> Iterator[None]:
    """SIGINT held back in this thread for the block (a child started meanwhile inherits the mask:
    the workers start with SIGINT blocked and ignore it before they unblock it); a Ctrl-C that came
    meanwhile is delivered when the block ends."""
    if not (_main_thread() and hasattr(signal, "pthread_sigmask")):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _nothing() -> None:
    """Calling a Python function runs the Python-level signal handlers still pending."""


def _record(signum: int, frame: Any) -> None:
    global _interrupted
    _interrupted = True


def settle(code: int) -> int:
    """The exit status of a command that ends now: 130 if a Ctrl-C came, else ``code``.

    Call it last, from the command line only: it decides, then makes SIGINT ignored for the rest of
    the process. A Ctrl-C before this point ends the command with 130; one after it changes nothing.
    Without it, a Ctrl-C while the interpreter shuts down was either lost (exit status 0) or killed
    the process outright (by SIGINT, with the default action Python restores at shutdown).
    """
    if not _main_thread():
        return 130 if _interrupted else code
    try:
        signal.signal(signal.SIGINT, _record)  # from here a Ctrl-C is recorded, never raised
        _nothing()  # a handler still pending runs now: ours records, the one before raised
    except KeyboardInterrupt:
        return 130
    decided = 130 if _interrupted else code
    # Ignored, not just unhandled: Python keeps an ignored signal ignored through its shutdown.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return decided
