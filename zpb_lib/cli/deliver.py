"""The ``zpb deliver`` subcommand: each school's report to the school by e-mail. What it does is
:mod:`zpb_lib.services.delivery`; this module reads the options and prints."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zpb_lib.cli import options


def _text(path: str | None) -> str | None:
    """The message text a coordinator wrote (UTF-8), or None for the default one."""
    if path is None:
        return None
    text = Path(path).read_text(encoding="utf-8-sig")
    if not text.strip():
        raise ValueError(f"{path} is empty: write the message's text in it, or leave --text out for the default one")
    return text


def cmd_deliver(args: argparse.Namespace) -> int:
    # services.delivery pulls the build's folders and smtplib: not for `zpb --help`
    from zpb_lib.services import delivery
    from zpb_lib.services.smtp import SmtpSettings

    try:
        text = _text(args.text)
    except ValueError as exc:
        print(f"zpb deliver: {exc}", file=sys.stderr)
        return 2
    smtp = SmtpSettings.from_environment() if args.send else None  # a missing setting is said before any work
    preview = delivery.preview(args.db, unit=args.unit, edition=args.edition.edition, reports_dir=args.reports,
                               lang=args.lang)
    print("\n".join(preview.lines()))
    if not args.send:
        print(f"nothing sent: --send sends these {len(preview.ready)} message(s) through $ZPB_SMTP_HOST "
              f"(text: --text FILE, else the default one{'' if args.lang == 'en' else ' in Polish'})")
        return 0
    sent = delivery.send(args.db, preview, smtp=smtp, text=text, subject=args.subject)
    for s in sent:
        r = s.recipient
        if s.outcome == "sent":
            print(f"sent: {r.email}  ←  {r.report.name if r.report else ''}  ({r.label()})")
        else:
            print(f"failed: {r.email}  ({r.label()}): {s.detail}", file=sys.stderr)
    failed = sum(s.outcome == "failed" for s in sent)
    print(f"{len(sent) - failed} sent, {failed} failed through {smtp.server}; each recorded in the database "
          "(table deliveries)")
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction) -> None:
    """``zpb deliver``."""
    p = sub.add_parser("deliver", help="send each school of a police unit its report (PDF attached) by e-mail; "
                       "without --send only the list of recipients and of schools without an address or a report")
    options.add_unit(p, "the police unit whose schools get their reports, e.g. KPP-BOCHNIA (default: the login's "
                        "own unit; an analyst's: every unit)")
    options.add_edition(p, "the edition, e.g. 2025/2026", required=True)
    p.add_argument("--reports", default="reports", metavar="DIR",
                   help="the folder `zpb build --out` wrote the reports to (default: reports)")
    options.add_lang(p, "the reports' language and the default text's: pl (polski, default) or en (English)")
    p.add_argument("--send", action="store_true",
                   help="send them, through the SMTP server of $ZPB_SMTP_HOST (see the guide's settings)")
    p.add_argument("--text", metavar="FILE",
                   help="the message's text (UTF-8); {name}, {edition} and {unit} are filled in "
                        "(default: a short text naming the school and the edition)")
    p.add_argument("--subject", help="the message's subject; {name}, {edition} and {unit} are filled in "
                                     "(default: „Raport programu ZPB, edycja {edition}: {name}”)")
    options.add_db(p)
    p.set_defaults(func=cmd_deliver)
