"""Every error zpb raises for a person to read is a ``ZpbError`` (the command line catches that one
class), and keeps the built-in base older code catches it by."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import zpb_lib
from zpb_lib.cli import main
from zpb_lib.core.errors import Refusal, ZpbError

# Exceptions defined in zpb_lib that no person ever sees, with why.
NOT_FOR_PEOPLE = {
    "zpb_lib.ingest.DryRun",  # control flow: rolls a dry run's transaction back; its caller returns the summary
    "zpb_lib.ingest.archive._Stop",  # ends a scan of a zip's directory early; caught where it is raised
    "zpb_lib.ingest.register.check._Invalid",  # one bad cell, collected into the IngestError that lists them
    "zpb_lib.ingest.tables._BadByte",  # turned into an IngestError naming the file and the row
    "zpb_lib.ingest.tables._LongLine",  # turned into an IngestError naming the file, the row and the limit
    "zpb_lib.store.history._Rollback",  # rolls a dry-run undo back; never leaves history.py
}

# What each kind was before it had a common root: code that catches these still catches it.
BUILT_IN_BASE = {
    "ExportError": ValueError, "ReferenceDataError": ValueError, "AmbiguousCounty": KeyError,
    "IngestError": ValueError, "UndoRefused": ValueError, "StoreError": RuntimeError,
    "ProvenanceError": RuntimeError, "NotSelfContainedError": ValueError, "PdfEngineError": RuntimeError,
    "AwardsError": ValueError, "UnknownInstitution": LookupError, "LimitsError": ValueError,
    "OutputError": OSError, "FolderError": OSError, "LinkRefused": OSError, "LookupRefused": ValueError,
}
REFUSALS = {"IngestError", "UndoRefused", "AwardsError"}  # „zpb: refused: …” on the command line


def _exceptions_defined_in_zpb_lib() -> dict[str, type[BaseException]]:
    # papermill's engine entry point imports zpb_lib.batch.papermill_engine while papermill loads:
    # importing that module before papermill is circular (as zpb never does)
    importlib.import_module("papermill.engines")
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(zpb_lib.__path__, "zpb_lib."):
        if info.name.endswith(".__main__"):  # `python -m zpb_lib.cli`: importing it runs the command
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = obj
    return found


@pytest.fixture(scope="module")
def exceptions() -> dict[str, type[BaseException]]:
    return _exceptions_defined_in_zpb_lib()


def test_every_error_people_read_is_a_zpb_error(exceptions):
    assert NOT_FOR_PEOPLE <= set(exceptions), NOT_FOR_PEOPLE - set(exceptions)  # the list is not stale
    stray = sorted(name for name, cls in exceptions.items()
                   if name not in NOT_FOR_PEOPLE and not issubclass(cls, ZpbError))
    assert not stray, f"not a ZpbError (make it one, or say in NOT_FOR_PEOPLE why no one sees it): {stray}"
    assert not any(issubclass(exceptions[name], ZpbError) for name in NOT_FOR_PEOPLE)


def test_each_kind_keeps_its_built_in_base(exceptions):
    by_name = {name.rsplit(".", 1)[1]: cls for name, cls in exceptions.items()}
    assert set(BUILT_IN_BASE) <= set(by_name), set(BUILT_IN_BASE) - set(by_name)
    for name, base in BUILT_IN_BASE.items():
        assert issubclass(by_name[name], base) and issubclass(by_name[name], ZpbError), name
    assert {n for n, cls in by_name.items() if issubclass(cls, Refusal) and cls is not Refusal} == REFUSALS


def test_a_key_error_kind_reads_as_a_key_error():
    from zpb_lib.reference import AmbiguousCounty

    exc = AmbiguousCounty("Tarnów: m. Tarnów (1263) or powiat tarnowski (1216)?")
    assert str(exc) == "'Tarnów: m. Tarnów (1263) or powiat tarnowski (1216)?'"  # as KeyError's str() always was
    assert exc.args[0] == "Tarnów: m. Tarnów (1263) or powiat tarnowski (1216)?"


def _error(name: str) -> ZpbError:
    from zpb_lib.domain.awards import AwardsError
    from zpb_lib.reference import AmbiguousCounty, ReferenceDataError
    from zpb_lib.store.backend import StoreError
    from zpb_lib.store.history import UndoRefused

    return {"StoreError": lambda: StoreError("the message"),
            "ReferenceDataError": lambda: ReferenceDataError("data/counties.csv", None, "the message"),
            "UndoRefused": lambda: UndoRefused("the message"), "AwardsError": lambda: AwardsError("the message"),
            "AmbiguousCounty": lambda: AmbiguousCounty("the message")}[name]()


@pytest.mark.parametrize("name, says", [
    ("StoreError", "zpb: the message\n"),
    ("ReferenceDataError", "zpb: counties.csv: the message\n"),
    ("UndoRefused", "zpb: refused: the message\n"),
    ("AwardsError", "zpb: refused: the message\n"),
    ("AmbiguousCounty", "zpb: the message\n"),  # without the quotes of a KeyError's str()
])
def test_the_command_line_says_a_zpb_error_without_a_traceback(monkeypatch, capsys, name, says):
    import zpb_lib.cli as cli

    def fails(args):
        raise _error(name)

    monkeypatch.setattr(cli, "cmd_db_info", fails)
    assert main(["db", "info", "--db", "unused.sqlite"]) == 2
    assert capsys.readouterr().err == says
