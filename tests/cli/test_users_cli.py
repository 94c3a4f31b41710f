"""`zpb users add|remove|list`, run as people run them: the installed command, the password on
standard input."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from argon2 import PasswordHasher

PASSWORD = "correct horse battery"
ZPB = str(Path(sys.executable).parent / "zpb")


def zpb(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([ZPB, "users", *args], input=stdin, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_add_list_remove(tmp_path):
    path = tmp_path / "users.json"
    done = zpb("list", "--file", str(path))
    assert done.returncode == 0 and done.stdout == (
        f"no users in {path}: add one with `zpb users add LOGIN --role ROLE`\n")

    done = zpb("add", "anna.nowak", "--role", "kpp-bochnia", "--name", "Anna Nowak", "--password-stdin",
               "--file", str(path), stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"added login anna.nowak (zpb_unit_kpp_bochnia: Komenda Powiatowa Policji w Bochni) "
                           f"to {path}\n")
    entry = json.loads(path.read_text(encoding="utf-8"))["users"]["anna.nowak"]
    assert entry["hash"].startswith("$argon2id$") and PasswordHasher().verify(entry["hash"], PASSWORD)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    done = zpb("add", "bolek@policja.gov.pl", "--role", "zpb_analyst", "--password-stdin", "--file", str(path),
               stdin=PASSWORD + "\r\n")  # a line from Windows: the line end is not part of the password
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"added login bolek@policja.gov.pl (zpb_analyst) to {path}\n"
    entry = json.loads(path.read_text(encoding="utf-8"))["users"]["bolek@policja.gov.pl"]
    assert PasswordHasher().verify(entry["hash"], PASSWORD)

    done = zpb("list", "--file", str(path))
    assert done.returncode == 0, done.stderr
    added = entry["added"]
    assert done.stdout.splitlines() == [
        "login                 role                  unit                                name                  added",
        f"anna.nowak            zpb_unit_kpp_bochnia  Komenda Powiatowa Policji w Bochni  Anna Nowak            {added}",
        f"bolek@policja.gov.pl  zpb_analyst           —                                   bolek@policja.gov.pl  {added}",
    ]
    assert "$argon2" not in done.stdout

    done = zpb("remove", "anna.nowak", "--file", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"removed login anna.nowak (zpb_unit_kpp_bochnia: Komenda Powiatowa Policji w Bochni) "
                           f"from {path}\n")
    assert list(json.loads(path.read_text(encoding="utf-8"))["users"]) == ["bolek@policja.gov.pl"]


def test_replace(tmp_path):
    path = tmp_path / "users.json"
    assert zpb("add", "anna", "--role", "zpb_reader", "--password-stdin", "--file", str(path),
               stdin=PASSWORD + "\n").returncode == 0
    done = zpb("add", "anna", "--role", "KMP-KRAKOW", "--password-stdin", "--file", str(path), stdin="x" * 20 + "\n")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"zpb: login anna is already in {path} (added ")
    done = zpb("add", "anna", "--role", "KMP-KRAKOW", "--replace", "--password-stdin", "--file", str(path),
               stdin="x" * 20 + "\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"replaced login anna (zpb_unit_kmp_krakow: Komenda Miejska Policji w Krakowie) in {path}\n"
    entry = json.loads(path.read_text(encoding="utf-8"))["users"]["anna"]
    assert entry["role"] == "zpb_unit_kmp_krakow" and PasswordHasher().verify(entry["hash"], "x" * 20)


def test_the_file_comes_from_zpb_users_or_beside_the_database(tmp_path):
    env = {"ZPB_USERS": str(tmp_path / "logins.json")}
    assert zpb("add", "anna", "--role", "zpb_reader", "--password-stdin", env=env,
               stdin=PASSWORD + "\n").returncode == 0
    assert "anna" in json.loads((tmp_path / "logins.json").read_text(encoding="utf-8"))["users"]
    env = {"ZPB_USERS": "", "ZPB_DB": str(tmp_path / "team" / "zpb.sqlite")}
    done = zpb("add", "bolek", "--role", "zpb_reader", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(f" to {tmp_path / 'team' / 'users.json'}\n")
    assert zpb("list", env=env).stdout.splitlines()[1].startswith("bolek ")


def test_errors_are_one_line_with_status_2(tmp_path):
    path = tmp_path / "users.json"
    cases = [
        (("add", "anna", "--role", "admin"), PASSWORD, "zpb: role 'admin' is not a zpb role: give zpb_analyst, "
                                                       "zpb_reader, or a police unit by its code (KMP-KRAKOW, "),
        (("add", "anna nowak", "--role", "zpb_reader"), PASSWORD,
         "zpb: login 'anna nowak' is not one zpb accepts: 1 to 64 of a–z, A–Z, 0–9, „.”, „_”, „-” and „@”"),
        (("add", "anna", "--role", "zpb_reader"), "too short", "zpb: the password is too short: at least 12 characters"),
        (("remove", "anna"), "", f"zpb: no login anna in {path}"),
    ]
    for args, password, says in cases:
        stdin_flag = ["--password-stdin"] if args[0] == "add" else []
        done = zpb(*args, *stdin_flag, "--file", str(path), stdin=password + "\n")
        assert done.returncode == 2, (args, done.stderr)
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(says), (args, done.stderr)
        assert "Traceback" not in done.stderr and done.stdout == ""
    assert not path.exists()
    path.write_text("{not json", encoding="utf-8")
    done = zpb("list", "--file", str(path))
    assert done.returncode == 2 and done.stderr.startswith(f"zpb: {path} is not a zpb users file: not valid JSON (")
    assert len(done.stderr.splitlines()) == 1


def test_no_password_on_standard_input(tmp_path):
    path = tmp_path / "users.json"
    done = zpb("add", "anna", "--role", "zpb_reader", "--file", str(path))  # getpass reads an empty stdin
    assert done.returncode == 2 and not path.exists()
    assert done.stderr.splitlines()[-1] == ("zpb: no password given: type it, or give it on standard input with "
                                            "--password-stdin")
    done = zpb("add", "anna", "--role", "zpb_reader", "--password-stdin", "--file", str(path))
    assert done.returncode == 2 and not path.exists()
    assert done.stderr == "zpb: the password is too short: at least 12 characters\n"


def test_the_password_is_typed_twice(tmp_path, monkeypatch, capsys):
    from zpb_lib.cli import main

    path = tmp_path / "users.json"
    typed = iter([PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    assert main(["users", "add", "anna", "--role", "zpb_reader", "--file", str(path)]) == 2
    assert capsys.readouterr().err == "zpb: the two passwords differ; nothing was changed\n"
    assert not path.exists()
    prompts: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": prompts.append(prompt) or PASSWORD)
    assert main(["users", "add", "anna", "--role", "zpb_reader", "--file", str(path)]) == 0
    assert prompts == ["password for anna: ", "the same password again: "]
    entry = json.loads(path.read_text(encoding="utf-8"))["users"]["anna"]
    assert PasswordHasher().verify(entry["hash"], PASSWORD)
