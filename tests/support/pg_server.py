"""A PostgreSQL server of the test session's own, from the system's PostgreSQL binaries (Debian's
``postgresql`` package): a new cluster in a temporary folder, listening on a free loopback port,
trusting local connections, stopped and removed at the end. ``initdb`` and ``pg_ctl`` refuse to
run as root, so as root they run as the unprivileged user ``nobody``."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "postgres"


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin folder (``$ZPB_PG_BINDIR`` first), or None."""
    env = os.environ.get("ZPB_PG_BINDIR")
    if env:
        return Path(env)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="zpb-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_user: list[str] = []
        self.major = 0  # the server's major version, known once its cluster exists
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "nobody", "--"]
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "nobody")

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       cwd=self.root)

    def start(self) -> "Server":
        # Locale C: text sorts by code point, as in SQLite, so both engines order rows alike.
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                  "--locale=C", "--encoding=UTF8", "--no-sync")
        self.major = int((self.data / "PG_VERSION").read_text().split(".")[0])
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"),
                  "-w", "-t", "120", "start")
        return self

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        """One statement as the superuser, outside a transaction (CREATE DATABASE needs that)."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(sql)

    def create_database(self, name: str, template: str | None = None) -> str:
        sql = f'CREATE DATABASE "{name}"'
        if template:
            sql += f' TEMPLATE "{template}"'
            # PostgreSQL 15 copies a template block by block through the write-ahead log by default:
            # for the suite's hundreds of copies of a demo database, copying its files is about three
            # times faster and writes half as much (fsync is off, so its checkpoints cost little).
            if self.major >= 15:
                sql += " STRATEGY FILE_COPY"
        self.admin(sql)
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drops the database of ``url`` (made by :meth:`create_database`), connections left open
        by a test ended too: the hundreds a session makes would otherwise fill the disk with copies
        nobody reads again."""
        name = url.rsplit("/", 1)[1]
        self.admin(f'DROP DATABASE IF EXISTS "{name}"' + (" WITH (FORCE)" if self.major >= 13 else ""))
