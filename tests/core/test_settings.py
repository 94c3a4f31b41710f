"""Every ``ZPB_*`` variable zpb reads is named in zpb_lib.core.settings and documented in
docs/commands.md with the same default and meaning; the accessors read it when called."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from zpb_lib.core import settings
from zpb_lib.core.errors import ZpbError
from zpb_lib.core.limits import DEFAULTS, ArchiveLimits, LimitsError, archive_limits, file_limits
from zpb_lib.core.settings import Setting, SettingError

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "zpb_lib"
COMMANDS = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
NAME = re.compile(r"ZPB_[A-Z0-9_]*")


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py")) + sorted((ROOT / "notebooks").glob("*.ipynb"))


def _names_in_sources() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in _sources():
        for name in NAME.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def _section(heading: str) -> str:
    start = COMMANDS.index(f"## {heading}\n")
    end = COMMANDS.find("\n## ", start + 1)
    return COMMANDS[start:end if end > 0 else None]


def _env_table() -> dict[str, tuple[str, str]]:
    rows = {}
    for line in _section("Environment variables").splitlines():
        m = re.fullmatch(r"\| `(ZPB_[^`]+)` \| (.*) \| (.*) \|", line)
        if m:
            rows[m[1]] = (m[2], m[3])
    return rows


def _limits_table() -> dict[str, str]:
    """``ZPB_MAX_SURVEY_ROWS`` → ``100000``, from the per-kind table of „Limits on input files”."""
    lines = [ln for ln in _section("Limits on input files").splitlines() if ln.startswith("| ")]
    header = [cell.strip().strip("`") for cell in lines[0].strip("|").split("|")]
    values = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        kind = re.match(r"`([A-Z]+)`", cells[0])[1]
        for field, value in zip(header[1:], cells[1:]):
            values[f"ZPB_MAX_{kind}_{field}"] = value
    return values


def test_every_name_in_the_sources_is_a_setting():
    known = {s.name for s in settings.registry()}
    assert len(known) == len(settings.registry())  # each named once
    for name, where in _names_in_sources().items():
        if name.endswith("_"):  # the start of a family, as in ZPB_MAX_<KIND>_<FIELD> or ZPB_MAX_…
            assert any(k.startswith(name) for k in known), (name, where)
        else:
            assert name in known, (name, where)


def test_every_setting_is_documented_with_its_default_and_meaning():
    table, limits = _env_table(), _limits_table()
    for s in settings.NAMED:
        assert table.get(s.name) == (s.default, s.meaning), s.name
    assert set(table) == {s.name for s in settings.NAMED} | {"ZPB_MAX_…"}
    limit_settings = [s for s in settings.registry() if s not in settings.NAMED]
    assert limit_settings and all(s.name.startswith("ZPB_MAX_") for s in limit_settings)
    for s in limit_settings:
        if s.name in limits:
            assert limits[s.name] == s.default, s.name
        else:  # what every workbook shares: named in the text
            assert s.name.startswith("ZPB_MAX_ZIP_") and f"`{s.name}`" in COMMANDS, s.name


def test_the_limit_settings_are_the_limits_in_force():
    by_name = {s.name: s for s in settings.registry()}
    assert by_name["ZPB_MAX_SURVEY_ROWS"].default == "100000"
    assert by_name["ZPB_MAX_INSTITUTIONS_FILE_MB"].default == "128"
    assert by_name["ZPB_MAX_ZIP_MEMBERS"].default == "1000"
    assert by_name["ZPB_MAX_ZIP_RATIO_GRACE_MB"].default == "1"
    kinds = {name.split("_")[2] for name in by_name if name.startswith("ZPB_MAX_") and "_ZIP_" not in name}
    assert kinds == {k.upper() for k in DEFAULTS}
    assert sum(name.startswith("ZPB_MAX_ZIP_") for name in by_name) == 4  # members, ratio, its grace, other parts
    assert all(s.meaning for s in by_name.values())


def _environment_reads(tree: ast.AST) -> list[tuple[int, ast.expr | None]]:
    """``os.environ[k]``, ``os.environ.get(k)``, ``os.getenv(k)`` (also ``environ`` or ``getenv``
    imported by name), each with its key expression (None: none given)."""
    def is_environ(node: ast.AST) -> bool:
        return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
            isinstance(node, ast.Name) and node.id == "environ")

    reads = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and is_environ(node.value):
            reads.append((node.lineno, node.slice))
        elif isinstance(node, ast.Call):
            f = node.func
            if (isinstance(f, ast.Attribute) and f.attr in ("get", "pop", "setdefault") and is_environ(f.value)) or (
                    isinstance(f, (ast.Attribute, ast.Name)) and getattr(f, "attr", getattr(f, "id", "")) == "getenv"):
                reads.append((node.lineno, node.args[0] if node.args else None))
    return reads


def test_no_module_reads_a_zpb_variable_but_settings():
    """Outside zpb_lib.core.settings the environment is read, if at all, only for a variable named
    as a literal that is not zpb's."""
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "core" / "settings.py":
            continue
        for line, key in _environment_reads(ast.parse(path.read_text(encoding="utf-8"))):
            named = isinstance(key, ast.Constant) and isinstance(key.value, str)
            assert named and not key.value.startswith("ZPB_"), f"{path.relative_to(ROOT)}:{line}"


# ------------------------------------------------------------------ the accessors

@pytest.mark.parametrize("read, variable, unset, given, parsed", [
    (settings.db, "ZPB_DB", None, "postgresql://anna@server/zpb", "postgresql://anna@server/zpb"),
    (settings.data_dir, "ZPB_DATA_DIR", None, "/srv/zpb/dane", "/srv/zpb/dane"),
    (settings.pdf_engine, "ZPB_PDF_ENGINE", "weasyprint", " Chromium ", "chromium"),
    (settings.chromium, "ZPB_CHROMIUM", None, "/opt/chrome/chrome", "/opt/chrome/chrome"),
    (settings.pause_dir, "ZPB_TEST_PAUSE_DIR", None, "/tmp/pause", "/tmp/pause"),
    (settings.pause_phases, "ZPB_TEST_PAUSE_AT", [""], "cube,journal-3", ["cube", "journal-3"]),
    (lambda: settings.lock_timeout(30.0), "ZPB_LOCK_TIMEOUT", 30.0, "2.5", 2.5),
    (lambda: settings.statement_timeout(900.0), "ZPB_STATEMENT_TIMEOUT", 900.0, " 0 ", 0.0),
])
def test_an_accessor_reads_the_variable_when_called(monkeypatch, read, variable, unset, given, parsed):
    monkeypatch.delenv(variable, raising=False)
    assert read() == unset
    monkeypatch.setenv(variable, "")
    assert read() == unset  # empty: as if unset
    monkeypatch.setenv(variable, given)
    assert read() == parsed


@pytest.mark.parametrize("read, variable", [(settings.lock_timeout, "ZPB_LOCK_TIMEOUT"),
                                            (settings.statement_timeout, "ZPB_STATEMENT_TIMEOUT")])
@pytest.mark.parametrize("bad, says", [("half a minute", "give a number of seconds, e.g. 30"),
                                       ("-1", "give a number of seconds, 0 or more")])
def test_a_bad_number_of_seconds_is_refused_naming_the_variable(monkeypatch, read, variable, bad, says):
    monkeypatch.setenv(variable, bad)
    with pytest.raises(SettingError) as exc:
        read(30.0)
    assert str(exc.value) == f"${variable} is {bad!r}: {says}"
    assert isinstance(exc.value, ZpbError) and isinstance(exc.value, ValueError)


def test_the_database_timeouts_stay_a_store_error(monkeypatch):
    from zpb_lib.store.backend import StoreError, Timeouts

    monkeypatch.setenv("ZPB_LOCK_TIMEOUT", "soon")
    with pytest.raises(StoreError, match=r"^\$ZPB_LOCK_TIMEOUT is 'soon': give a number of seconds, e.g. 30$"):
        Timeouts.for_command()
    monkeypatch.setenv("ZPB_LOCK_TIMEOUT", "5")
    monkeypatch.setenv("ZPB_STATEMENT_TIMEOUT", "7")
    assert Timeouts.for_command("long") == Timeouts(5.0, 7.0)
    monkeypatch.delenv("ZPB_LOCK_TIMEOUT")
    monkeypatch.delenv("ZPB_STATEMENT_TIMEOUT")
    assert Timeouts.for_command("long") == Timeouts(60.0, 0.0) and Timeouts.for_command() == Timeouts(30.0, 900.0)


def test_a_whole_number(monkeypatch):
    s = Setting("ZPB_MAX_EXAMPLE_ROWS", "10", "an example")
    assert s.whole_number(10, environ={}) == 10 and s.whole_number(10, environ={s.name: "  "}) == 10
    assert s.whole_number(10, environ={s.name: "200_000"}) == 200000
    for bad in ("0", "-5", "1e6", "many"):
        with pytest.raises(SettingError) as exc:
            s.whole_number(10, environ={s.name: bad})
        assert str(exc.value) == f"$ZPB_MAX_EXAMPLE_ROWS is {bad!r}: expected a whole number of at least 1 (default 10)"
    monkeypatch.setenv(s.name, "12")
    assert s.whole_number(10) == 12  # the process's environment when none is given


def test_the_limits_read_their_variables_through_the_settings(monkeypatch):
    monkeypatch.setenv("ZPB_MAX_SURVEY_ROWS", "200000")
    monkeypatch.setenv("ZPB_MAX_ZIP_RATIO", "50")
    assert file_limits("survey").rows == 200000 and file_limits("audit").rows == DEFAULTS["audit"].rows
    assert archive_limits().ratio == 50 and archive_limits().members == ArchiveLimits().members
    monkeypatch.setenv("ZPB_MAX_AUDIT_FILE_MB", "lots")
    with pytest.raises(LimitsError) as exc:
        file_limits("audit")
    assert str(exc.value) == "$ZPB_MAX_AUDIT_FILE_MB is 'lots': expected a whole number of at least 1 (default 4)"
    assert isinstance(exc.value, SettingError)
