"""A build folder written by hand, as ``zpb build`` leaves it, for the tests of what the web app
lists and serves of it."""
from __future__ import annotations

import json
import os
from pathlib import Path

EDITION = "2025/2026"
FOLDER = "2025-2026"
BOCHNIA = "powiat-1201-bochenski"  # KPP-BOCHNIA's county
KRAKOW = "powiat-1261-m-krakow"  # KMP-KRAKOW's


def entry(stem: str, county: str | None, unit: str | None, kind: str = "county", status: str = "ok") -> dict:
    return {"kind": kind, "key": county or "12", "title": f"Raport {stem}", "county": county, "county_name": county,
            "police_unit": unit, "status": status, "html": f"{stem}.html", "pdf": f"{stem}.pdf"}


def hand_build(out: Path, tmp_path: Path, *, data_hash: str = "abcdef12-5", last_import: int | None = 3) -> Path:
    """A build folder as ``zpb build`` leaves it, written by hand: two counties' reports, the
    voivodeship's, a failed one, one whose files are links out of the folder, and other files."""
    folder = out / FOLDER
    (folder / "notebooks").mkdir(parents=True)
    reports = {BOCHNIA: entry(BOCHNIA, "1201", "KPP-BOCHNIA"), KRAKOW: entry(KRAKOW, "1261", "KMP-KRAKOW"),
               "wojewodztwo": entry("wojewodztwo", None, None, kind="voivodeship"),
               "powiat-1202-brzeski": entry("powiat-1202-brzeski", "1202", "KPP-BRZESKO", status="failed"),
               "powiat-1203-chrzanowski": entry("powiat-1203-chrzanowski", "1203", "KPP-CHRZANOW")}
    for stem in (BOCHNIA, KRAKOW, "wojewodztwo", "powiat-1202-brzeski"):
        (folder / f"{stem}.html").write_text(f"<p>{stem}</p>")
        (folder / f"{stem}.pdf").write_bytes(b"%PDF-1.4 " + stem.encode())
    secret = tmp_path / "secret.txt"
    secret.write_text("not a report")
    for ext in ("html", "pdf"):
        os.symlink(secret, folder / f"powiat-1203-chrzanowski.{ext}")
    (folder / "notebooks" / f"{BOCHNIA}.ipynb").write_text("{}")
    (folder / "cube.sqlite").write_bytes(b"cube")
    (folder / "other.html").write_text("<p>not the build's</p>")
    inputs = {"data_hash": data_hash, **({"last_import": last_import} if last_import is not None else {})}
    (folder / "manifest.json").write_text(json.dumps({"edition": EDITION, "generated_at": "2026-03-01T10:00:00+01:00",
                                                      "lang": "pl", "inputs": inputs, "reports": reports}))
    return folder
