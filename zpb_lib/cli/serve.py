"""``zpb serve``: the web app, on this machine for an analyst or for a team behind a reverse proxy."""
from __future__ import annotations

import argparse
from pathlib import Path

from zpb_lib.cli import options
from zpb_lib.core import settings
from zpb_lib.services.users import default_path
from zpb_lib.web.config import Oidc, ServeConfig, ServeRefused, check

HELP = ("the web app: without --auth for you alone on this machine (127.0.0.1, no login); with "
        "--auth password|oidc for the police units' coordinators on a shared PostgreSQL database")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help=HELP, description=HELP)
    options.add_db(p)
    p.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1; another "
                   "needs --auth)")
    p.add_argument("--port", type=int, default=5006, help="port (default 5006)")
    p.add_argument("--auth", choices=("none", "password", "oidc"), default="none",
                   help="who may log in: nobody (default: you on this machine), a users file, or an OpenID "
                        "Connect provider")
    p.add_argument("--users", type=Path, help="--auth password: the users file (`zpb users add` makes it; "
                   "default $ZPB_USERS)")
    p.add_argument("--oidc-issuer", help="--auth oidc: the provider's issuer URL, e.g. "
                   "https://sso.example/realms/zpb")
    p.add_argument("--oidc-client-id", help="--auth oidc: the client id registered at the provider")
    p.add_argument("--oidc-secret-file", type=Path, help="--auth oidc: a file holding the client secret "
                   "(or $ZPB_OIDC_SECRET)")
    p.add_argument("--oidc-role-claim", default="groups", help="--auth oidc: the claim naming each user's zpb "
                   "role (default groups)")
    p.add_argument("--oidc-user-claim", default="preferred_username", help="--auth oidc: the claim naming the "
                   "login (default preferred_username)")
    p.add_argument("--public-url", help="the address people open, behind the reverse proxy "
                   "(https://zpb.example.pl): its host may open the app's websocket, and the proxy's "
                   "X-Forwarded-* headers are trusted")
    p.add_argument("--cookie-secret-file", type=Path, help="a file holding the secret that signs sessions "
                   "(or $ZPB_COOKIE_SECRET; the same for every process and restart, or logins end with them)")
    p.add_argument("--processes", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--max-upload-mb", type=float, default=20.0, help="largest file accepted (default 20 MB)")
    p.add_argument("--idle-minutes", type=float, default=30.0, help="a session with no action ends after this "
                   "(default 30)")
    p.add_argument("--session-hours", type=float, default=8.0, help="a login lasts at most this (default 8)")
    p.add_argument("--reports", type=Path, default=Path("reports"), metavar="DIR",
                   help="the folder `zpb build --out` wrote the reports to (default: reports)")
    p.add_argument("--insecure-cookies", action="store_true", help="cookies also over plain HTTP (tests, or a "
                   "trial without TLS); never behind a public address")
    p.set_defaults(func=cmd_serve)


def _secret(path: Path | None, setting: settings.Setting) -> str | None:
    if path is not None:
        return path.read_text(encoding="utf-8").strip()
    return settings.secret(setting)


def cmd_serve(args: argparse.Namespace) -> int:
    # Panel and Bokeh load only for this command (web.server imports them): `zpb --help` stays quick
    from zpb_lib.web.server import check_database, serve

    oidc = None
    if args.auth == "oidc":
        secret = _secret(args.oidc_secret_file, settings.OIDC_SECRET)
        if not (args.oidc_issuer and args.oidc_client_id and secret):
            raise ServeRefused("--auth oidc needs --oidc-issuer, --oidc-client-id and the client's secret "
                               "(--oidc-secret-file FILE or $ZPB_OIDC_SECRET)")
        oidc = Oidc(args.oidc_issuer, args.oidc_client_id, secret, args.oidc_role_claim, args.oidc_user_claim)
    users = args.users or (default_path() if args.auth == "password" else None)
    fields = dict(db=args.db, address=args.address, port=args.port, auth=args.auth, users_file=users, oidc=oidc,
                  public_url=args.public_url, processes=args.processes, max_upload_mb=args.max_upload_mb,
                  idle_minutes=args.idle_minutes, session_hours=args.session_hours,
                  secure_cookies=not args.insecure_cookies and args.auth != "none", reports=args.reports)
    secret = _secret(args.cookie_secret_file, settings.COOKIE_SECRET)
    if secret is not None:
        fields["cookie_secret"] = secret
    config = ServeConfig(**fields)
    where = args.public_url or f"http://{'localhost' if args.address == '127.0.0.1' else args.address}:{args.port}/"
    check(config)
    check_database(config)
    print(f"zpb serve: {where} (login: {args.auth}; Ctrl-C stops)", flush=True)
    serve(config)
    return 0
