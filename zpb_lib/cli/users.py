"""The ``zpb users`` subcommands: the logins of the web app's password logins (``add``, ``remove``,
``list``). What they do is :mod:`zpb_lib.services.users`; this module asks and prints."""
from __future__ import annotations

import argparse
import getpass
import sys

from zpb_lib.core import settings
from zpb_lib.core.files import shown
from zpb_lib.services import users

FILE_HELP = (f"the users file (default: ${settings.USERS.name}; else {users.USERS_NAME} beside the "
             "default database)")


def _password(args: argparse.Namespace) -> str:
    """The new password: one line of standard input (``--password-stdin``), else typed twice."""
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        return password[:-1] if password.endswith("\r") else password
    try:
        password = getpass.getpass(f"password for {args.login}: ")
        users.check_password(password)  # before it is typed a second time
        again = getpass.getpass("the same password again: ")
    except EOFError:  # end of input at the prompt: the message goes on a line of its own
        print(file=sys.stderr)
        raise users.UsersError("no password given: type it, or give it on standard input with --password-stdin") from None
    if password != again:
        raise users.UsersError("the two passwords differ; nothing was changed")
    return password


def _role_text(role: str) -> str:
    unit = users.unit_of(role)
    return f"{role}: {unit.name}" if unit else role


def cmd_users_add(args: argparse.Namespace) -> int:
    path = args.file or users.default_path()
    users.check_login(args.login)  # a wrong login or role is said before the password is asked
    users.role_of(args.role)
    if args.name:
        users.check_name(args.name.strip())
    replaced = any(u.login == args.login for u in users.list_users(path)) if args.replace else False
    user = users.add_user(path, args.login, args.role, _password(args), name=args.name, replace=args.replace)
    print(f"{'replaced' if replaced else 'added'} login {user.login} ({_role_text(user.role)}) "
          f"{'in' if replaced else 'to'} {shown(path)}")
    return 0


def cmd_users_remove(args: argparse.Namespace) -> int:
    path = args.file or users.default_path()
    user = users.remove_user(path, args.login)
    print(f"removed login {user.login} ({_role_text(user.role)}) from {shown(path)}")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    path = args.file or users.default_path()
    listed = users.list_users(path)
    if not listed:
        print(f"no users in {shown(path)}: add one with `zpb users add LOGIN --role ROLE`")
        return 0
    rows = [("login", "role", "unit", "name", "added")]
    for u in listed:
        unit = users.unit_of(u.role)
        rows.append((u.login, u.role, unit.name if unit else "—", u.name, u.added))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths)) + "  " + row[-1])
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """``zpb users add|remove|list``."""
    commands = sub.add_parser("users", help="the logins of the web app's password logins (`zpb serve --auth "
                              "password`)").add_subparsers(dest="users_command", required=True)
    p = commands.add_parser("add", help="add a login with its role; the password is asked twice (never an "
                            "argument), or read from standard input")
    p.add_argument("login", help="1 to 64 of a–z, A–Z, 0–9, „.”, „_”, „-” and „@”")
    p.add_argument("--role", required=True,
                   help="zpb_analyst, zpb_reader, or a police unit by its code (KPP-BOCHNIA) or role name "
                        "(zpb_unit_kpp_bochnia)")
    p.add_argument("--name", help="the name the web app shows (default: the login)")
    p.add_argument("--replace", action="store_true", help="replace a login already there (new password, role, name)")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of standard input (for scripts)")
    p.add_argument("--file", help=FILE_HELP)
    p.set_defaults(func=cmd_users_add)
    p = commands.add_parser("remove", help="remove a login")
    p.add_argument("login", help="the login to remove")
    p.add_argument("--file", help=FILE_HELP)
    p.set_defaults(func=cmd_users_remove)
    p = commands.add_parser("list", help="the logins: role, police unit, name, date added (never the hashes)")
    p.add_argument("--file", help=FILE_HELP)
    p.set_defaults(func=cmd_users_list)
