"""The users file of the password logins: argon2id hashes only, mode 0600, roles checked against the
police units of the reference data, verification that does not tell which logins exist, and the
throttle on guessing."""
from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from zpb_lib.core.errors import ZpbError
from zpb_lib.core.paths import source_checkout
from zpb_lib.services import users
from zpb_lib.services.users import LoginThrottle, User, UsersError, UsersFileError

PASSWORD = "correct horse battery"
OTHER = "Tr0ub4dor&3-long"


def _raw(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _argon2_fields(hashed: str) -> dict[str, str]:
    """``$argon2id$v=19$m=65536,t=3,p=4$salt$hash`` → its parts, read by hand."""
    empty, kind, version, params, salt, digest = hashed.split("$")
    assert empty == "" and salt and digest
    return {"kind": kind, "version": version, **dict(p.split("=") for p in params.split(","))}


@pytest.fixture
def path(tmp_path) -> Path:
    return tmp_path / "conf" / "users.json"  # a folder that does not exist yet


def test_the_file_holds_an_argon2id_hash_and_never_the_password(path):
    made = users.add_user(path, "anna.nowak", "zpb_analyst", PASSWORD, name="Anna Nowak")
    today = dt.date.today().isoformat()
    assert made == User("anna.nowak", "zpb_analyst", "Anna Nowak", today)
    data = _raw(path)
    assert data["version"] == 1 and list(data["users"]) == ["anna.nowak"]
    entry = data["users"]["anna.nowak"]
    assert set(entry) == {"hash", "role", "name", "added"}
    assert entry["hash"].startswith("$argon2id$")
    fields = _argon2_fields(entry["hash"])
    assert fields["kind"] == "argon2id" and fields["version"] == "v=19" and int(fields["m"]) >= 19456
    assert (entry["role"], entry["name"], entry["added"]) == ("zpb_analyst", "Anna Nowak", today)
    assert PASSWORD not in path.read_text(encoding="utf-8")
    assert PasswordHasher().verify(entry["hash"], PASSWORD)  # a hash any argon2 library checks


def test_the_file_is_its_owners_only_whatever_the_umask(path):
    old = os.umask(0)
    try:
        users.add_user(path, "anna", "zpb_reader", PASSWORD)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        os.chmod(path, 0o644)  # someone opened it up: the next write closes it again
        users.add_user(path, "bolek", "zpb_reader", PASSWORD)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        users.remove_user(path, "anna")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)
    assert [p.name for p in path.parent.iterdir()] == ["users.json"]  # no temporary file left


def test_verify_right_wrong_and_unknown(path):
    users.add_user(path, "anna", "KPP-BOCHNIA", PASSWORD, name="Anna")
    assert users.verify(path, "anna", PASSWORD) == User("anna", "zpb_unit_kpp_bochnia", "Anna",
                                                        dt.date.today().isoformat())
    assert users.verify(path, "anna", OTHER) is None
    assert users.verify(path, "anna", PASSWORD.upper()) is None
    assert users.verify(path, "Anna", PASSWORD) is None  # logins are exact
    assert users.verify(path, "nobody", PASSWORD) is None
    assert users.verify(path.parent / "missing.json", "anna", PASSWORD) is None


def test_an_unknown_login_costs_one_hash_verification_like_a_known_one(path, monkeypatch):
    users.add_user(path, "anna", "zpb_reader", PASSWORD)
    checked: list[str] = []
    real = PasswordHasher.verify

    def counting(self, hashed, password):
        checked.append(hashed)
        return real(self, hashed, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    assert users.verify(path, "nobody", PASSWORD) is None
    assert users.verify(path, "anna", OTHER) is None
    assert len(checked) == 2
    dummy, real_hash = checked
    assert real_hash == _raw(path)["users"]["anna"]["hash"]
    # the dummy: an argon2id hash of the same cost as the real one, so it takes as long
    assert dummy != real_hash and dummy.startswith("$argon2id$")
    cost = lambda h: {k: v for k, v in _argon2_fields(h).items() if k in ("m", "t", "p")}  # noqa: E731
    assert cost(dummy) == cost(real_hash)
    assert users.verify(path, "ghost", OTHER) is None
    assert checked[2] == dummy  # one fixed dummy


def test_a_weak_hash_is_replaced_after_a_right_password(path):
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    path.parent.mkdir()
    path.write_text(json.dumps({"version": 1, "users": {"anna": {
        "hash": weak, "role": "zpb_reader", "name": "Anna", "added": "2026-01-05"}}}), encoding="utf-8")
    assert users.verify(path, "anna", OTHER) is None
    assert _raw(path)["users"]["anna"]["hash"] == weak  # a wrong password changes nothing
    assert users.verify(path, "anna", PASSWORD) == User("anna", "zpb_reader", "Anna", "2026-01-05")
    entry = _raw(path)["users"]["anna"]
    assert entry["hash"] != weak and _argon2_fields(entry["hash"])["m"] != "1024"
    assert not PasswordHasher().check_needs_rehash(entry["hash"])
    assert (entry["role"], entry["name"], entry["added"]) == ("zpb_reader", "Anna", "2026-01-05")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert users.verify(path, "anna", PASSWORD) is not None


def test_add_refuses_a_login_already_there_unless_replaced(path):
    users.add_user(path, "anna", "zpb_reader", PASSWORD, name="Anna Nowak")
    first = _raw(path)["users"]["anna"]["hash"]
    with pytest.raises(UsersError, match=r"^login anna is already in .*users\.json \(added \d{4}-\d\d-\d\d\); "
                                         r"`zpb users add --replace` gives it a new password and role$"):
        users.add_user(path, "anna", "zpb_analyst", OTHER)
    assert _raw(path)["users"]["anna"]["hash"] == first
    users.add_user(path, "anna", "zpb_analyst", OTHER, replace=True)
    assert users.list_users(path) == [User("anna", "zpb_analyst", "Anna Nowak", dt.date.today().isoformat())]
    assert users.verify(path, "anna", OTHER) is not None and users.verify(path, "anna", PASSWORD) is None
    users.add_user(path, "anna", "zpb_analyst", OTHER, name="A. Nowak", replace=True)
    assert users.list_users(path)[0].name == "A. Nowak"


def test_remove_and_list(path):
    assert users.list_users(path) == []  # no file: no users
    users.add_user(path, "zenon", "zpb_reader", PASSWORD)
    users.add_user(path, "anna", "kmp-krakow", PASSWORD, name="Anna")
    today = dt.date.today().isoformat()
    assert users.list_users(path) == [User("anna", "zpb_unit_kmp_krakow", "Anna", today),
                                      User("zenon", "zpb_reader", "zenon", today)]
    assert users.remove_user(path, "anna") == User("anna", "zpb_unit_kmp_krakow", "Anna", today)
    assert [u.login for u in users.list_users(path)] == ["zenon"] and list(_raw(path)["users"]) == ["zenon"]
    assert users.verify(path, "anna", PASSWORD) is None
    with pytest.raises(UsersError, match=r"^no login anna in .*users\.json$"):
        users.remove_user(path, "anna")


@pytest.mark.parametrize("given, role", [
    ("zpb_analyst", "zpb_analyst"), ("zpb_reader", "zpb_reader"), ("ZPB_Reader", "zpb_reader"),
    ("zpb_unit_kpp_bochnia", "zpb_unit_kpp_bochnia"), ("KPP-BOCHNIA", "zpb_unit_kpp_bochnia"),
    ("kpp-bochnia", "zpb_unit_kpp_bochnia"), (" Kpp-Nowy-Targ ", "zpb_unit_kpp_nowy_targ"),
    ("KMP-NOWY-SACZ", "zpb_unit_kmp_nowy_sacz"), ("zpb_unit_kmp_tarnow", "zpb_unit_kmp_tarnow"),
])
def test_a_role_by_name_or_a_police_unit_by_its_code(path, given, role):
    assert users.add_user(path, "anna", given, PASSWORD).role == role
    assert _raw(path)["users"]["anna"]["role"] == role


@pytest.mark.parametrize("given", ["admin", "KPP-ATLANTYDA", "zpb_unit_kpp_atlantyda", "kpp_bochnia",
                                   "zpb_unit_KPP-BOCHNIA", "", "zpb_owner"])
def test_any_other_role_is_refused_naming_what_is_accepted(path, given):
    with pytest.raises(UsersError) as exc:
        users.add_user(path, "anna", given, PASSWORD)
    text = str(exc.value)
    assert text.startswith(f"role {given!r} is not a zpb role: give zpb_analyst, zpb_reader, or a police unit")
    for code in ("KPP-BOCHNIA", "KMP-KRAKOW", "KMP-NOWY-SACZ", "KMP-TARNOW", "KPP-ZAKOPANE"):
        assert code in text
    assert "zpb_unit_kpp_bochnia" in text
    assert isinstance(exc.value, ZpbError) and not path.exists()


def test_the_unit_of_a_role():
    assert users.unit_of("zpb_unit_kpp_bochnia").name == "Komenda Powiatowa Policji w Bochni"
    assert users.unit_of("zpb_unit_kmp_krakow").code == "KMP-KRAKOW"
    assert users.unit_of("zpb_analyst") is None and users.unit_of("zpb_reader") is None


@pytest.mark.parametrize("login", ["a", "anna.nowak", "a_b-c", "anna@policja.gov.pl", "A1", "x" * 64])
def test_logins_that_are_accepted(path, login):
    assert users.add_user(path, login, "zpb_reader", PASSWORD).login == login


@pytest.mark.parametrize("login", ["", "x" * 65, "anna nowak", "anna/nowak", "ąna", "anna\n", "anna;drop", "a:b"])
def test_logins_that_are_refused(path, login):
    with pytest.raises(UsersError, match=r"^login .* is not one zpb accepts: 1 to 64 of a–z, A–Z, 0–9, "):
        users.add_user(path, login, "zpb_reader", PASSWORD)
    assert not path.exists()


def test_a_password_of_fewer_than_twelve_characters_is_refused(path):
    with pytest.raises(UsersError, match=r"^the password is too short: at least 12 characters$"):
        users.add_user(path, "anna", "zpb_reader", "x" * 11)
    assert not path.exists()
    assert users.add_user(path, "anna", "zpb_reader", "x" * 12).login == "anna"


@pytest.mark.parametrize("content, says", [
    ("not json", "is not a zpb users file: not valid JSON"),
    ("[1, 2]", "is not a zpb users file: no \"version\""),
    ('{"users": {}}', "is not a zpb users file: no \"version\""),
    ('{"version": 2, "users": {}}', "is a users file of version 2; this zpb reads version 1"),
    ('{"version": 1, "users": []}', "is not a zpb users file: \"users\" is not an object of logins"),
    ('{"version": 1, "users": {"anna": {"role": "zpb_reader"}}}',
     "login 'anna' needs \"hash\", \"role\", \"name\" and \"added\" as texts"),
])
def test_a_file_that_is_no_users_file_is_named_in_the_error(tmp_path, content, says):
    path = tmp_path / "odd.json"
    path.write_text(content, encoding="utf-8")
    for read in (lambda: users.list_users(path), lambda: users.verify(path, "anna", PASSWORD),
                 lambda: users.add_user(path, "bolek", "zpb_reader", PASSWORD)):
        with pytest.raises(UsersFileError) as exc:
            read()
        assert str(path) in str(exc.value) and says in str(exc.value)
    assert path.read_text(encoding="utf-8") == content  # left as it was


def test_the_default_file_is_beside_the_default_database(tmp_path, monkeypatch):
    monkeypatch.delenv("ZPB_USERS", raising=False)
    monkeypatch.setenv("ZPB_DB", str(tmp_path / "team" / "zpb.sqlite"))
    assert users.default_path() == tmp_path / "team" / "users.json"
    monkeypatch.setenv("ZPB_DB", "postgresql://anna@server/zpb")  # no folder: the one a file would be in
    assert users.default_path() == source_checkout() / "data" / "users.json"
    monkeypatch.delenv("ZPB_DB")
    assert users.default_path() == source_checkout() / "data" / "users.json"
    monkeypatch.setenv("ZPB_USERS", str(tmp_path / "logins.json"))
    assert users.default_path() == tmp_path / "logins.json"
    users.add_user(None, "anna", "zpb_reader", PASSWORD)
    assert list(_raw(tmp_path / "logins.json")["users"]) == ["anna"]


# ------------------------------------------------------------------ the throttle

class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_throttle_refuses_a_login_after_too_many_failures_until_the_window_passes():
    clock = FakeClock()
    throttle = LoginThrottle(max_failures=3, window=60.0, clock=clock)
    for i in range(3):
        assert throttle.allowed("anna", f"10.0.0.{i}")
        throttle.failed("anna", f"10.0.0.{i}")  # three addresses: one failure each
        clock.now += 10
    # 1000, 1010, 1020 failed; now 1030
    assert not throttle.allowed("anna", "10.0.0.9")  # the login, from any address
    assert not throttle.allowed("ANNA", "10.0.0.9")
    assert throttle.allowed("bolek", "10.0.0.9")
    clock.now = 1059.9
    assert not throttle.allowed("anna", "10.0.0.9")
    clock.now = 1060.0  # the first failure (1000) is 60 s old: out of the window
    assert throttle.allowed("anna", "10.0.0.9")
    throttle.failed("anna", "10.0.0.9")
    assert not throttle.allowed("anna", "10.0.0.9")
    clock.now = 1070.0
    assert throttle.allowed("anna", "10.0.0.9")


def test_the_throttle_refuses_an_address_that_guesses_many_logins():
    clock = FakeClock()
    throttle = LoginThrottle(max_failures=3, window=60.0, clock=clock)
    for login in ("anna", "bolek", "celina"):
        throttle.failed(login, "192.0.2.7")
        clock.now += 1
    assert not throttle.allowed("dorota", "192.0.2.7")
    assert throttle.allowed("dorota", "192.0.2.8")
    throttle.succeeded("anna", "192.0.2.7")  # a right password does not free the address
    assert not throttle.allowed("dorota", "192.0.2.7")
    clock.now += 60
    assert throttle.allowed("dorota", "192.0.2.7")


def test_a_success_forgets_the_logins_failures():
    clock = FakeClock()
    throttle = LoginThrottle(max_failures=2, window=60.0, clock=clock)
    throttle.failed("anna", "10.0.0.1")
    throttle.succeeded("anna", "10.0.0.1")
    throttle.failed("anna", "10.0.0.2")
    assert throttle.allowed("anna", "10.0.0.3")  # one failure since the success
    throttle.failed("anna", "10.0.0.3")
    assert not throttle.allowed("anna", "10.0.0.4")


def test_a_throttle_needs_a_limit_and_a_window():
    for bad in ({"max_failures": 0}, {"window": 0}):
        with pytest.raises(ValueError):
            LoginThrottle(**bad)


@pytest.mark.parametrize("name", ["Anna\nforged line", "Anna\x1b[2J", "Anna\u202eevil", "x" * 201])
def test_a_name_of_more_than_one_plain_line_is_refused(path, name):
    with pytest.raises(UsersError, match=r"^name .* is not one zpb accepts: one line of at most 200 characters$"):
        users.add_user(path, "anna", "zpb_reader", PASSWORD, name=name)
    assert not path.exists()
    assert users.add_user(path, "anna", "zpb_reader", PASSWORD, name="Anna Żółć-Nowak " + "x" * 184).name.startswith(
        "Anna Żółć")


def test_removing_from_a_missing_file_creates_nothing(path):
    with pytest.raises(UsersError, match=r"^no login anna in "):
        users.remove_user(path, "anna")
    assert not path.parent.exists()
