"""Reference page images of three reports' PDFs (a school, a county, the voivodeship), for each PDF
engine, so that work on PDF rendering can show that the pages still look as they did.

The reports are built from the small demo database (seed 7, scale 0.1, as the ``small_db`` fixture)
with ``zpb build --format pdf``; each page becomes a greyscale PNG at 30 dpi (``pdftoppm``) and the
PDF's text is kept with what changes on every build masked (the generation time, the data version,
the reference-data version). When a report changes on purpose, regenerate them with one command:

    make pdf-references        # = .venv/bin/python tests/pdf_references.py

and look at the new PNGs before committing them (``tests/fixtures/pdf/<engine>/``). One engine's
alone: ``.venv/bin/python tests/pdf_references.py chromium``. The chromium references are those of the
Chromium the tests run with (Debian's package); another version may lay pages out a little differently.
"""
from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).parent / "fixtures" / "pdf"
ENGINES = ("weasyprint", "chromium")
EDITION = "2025/2026"
COUNTY = "1201"
DPI = 30
SEED, SCALE = 7, 0.1
# Pixel comparison: grey levels 0-255 at DPI. A page passes when the mean absolute difference is at
# most MEAN_TOLERANCE and at most SHARE_TOLERANCE of its pixels differ by more than a quarter of the
# range: the masked footer (date, versions) and antialiasing move a few pixels, a moved block or a
# changed table moves thousands.
MEAN_TOLERANCE = 1.0
SHARE_TOLERANCE = 0.004
_MASKS = (
    # Data versions are <database id>-<count>; the reference data's, 16 hex digits.
    (re.compile(r"(Wersja danych(?: referencyjnych)?|Data version|Reference data version)\s+"
                r"(?:[0-9a-f]{16}|[0-9a-f]{8}-\d+)"),
     r"\1 <hash>"),
    (re.compile(r"(Wygenerowano|Generated)\s+\d{1,2}[./]\d{1,2}[./]\d{4},?\s+\d{1,2}:\d{2}"), r"\1 <time>"),
)


def school_rspo(db: Path) -> int:
    """The school whose report shows most: in the county, audited in the edition, with surveys
    of both waves; the lowest RSPO number among those, so that the choice is stable."""
    con = sqlite3.connect(db)
    try:
        row = con.execute(
            "SELECT MIN(i.rspo) FROM institutions i WHERE i.county = ? AND i.rspo IS NOT NULL "
            "AND EXISTS (SELECT 1 FROM audits a WHERE a.institution_id = i.id AND a.edition = ?) "
            "AND (SELECT COUNT(DISTINCT wave) FROM survey_responses r WHERE r.institution_id = i.id "
            "AND r.edition = ?) = 2", (COUNTY, EDITION, EDITION)).fetchone()
    finally:
        con.close()
    return int(row[0])


def build_pdfs(db: Path, out: Path, engine: str = "weasyprint", *, formats: str = "pdf", lang: str = "pl",
               names: tuple[str, ...] = ("voivodeship", "county", "school")) -> dict[str, Path]:
    """The three reports' PDFs (or those of ``names``) built by the installed ``zpb`` with PDF engine
    ``engine`` from ``db`` into ``out``, in ``formats`` and language ``lang``."""
    zpb = [sys.executable, "-m", "zpb_lib.cli"]
    common = ["--db", str(db), "--edition", EDITION, "--format", formats, "--out", str(out), "--quiet", "--jobs", "1",
              "--pdf-engine", engine, "--lang", lang]
    folder = out / EDITION.replace("/", "-") / ("" if lang == "pl" else lang)
    found = {}
    if "voivodeship" in names:
        subprocess.run([*zpb, "build", "--only", "voivodeship", *common], check=True, capture_output=True)
        found["voivodeship"] = folder / "wojewodztwo.pdf"
    if "county" in names:
        subprocess.run([*zpb, "build", "--county", COUNTY, "--only", "county", *common], check=True,
                       capture_output=True)
        found["county"] = next(folder.glob(f"powiat-{COUNTY}-*.pdf"))
    if "school" in names:
        rspo = school_rspo(db)
        subprocess.run([*zpb, "build", "--institution", str(rspo), *common], check=True, capture_output=True)
        found["school"] = next(folder.glob(f"placowka-{rspo}-*.pdf"))
    return found


def page_images(pdf: Path) -> list[np.ndarray]:
    """Each page as a greyscale array at DPI."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-gray", "-r", str(DPI), "-png", str(pdf), f"{tmp}/p"], check=True)
        return [np.asarray(Image.open(p).convert("L"), dtype=np.int16) for p in sorted(Path(tmp).glob("p-*.png"),
                                                                                     key=_page_number)]


def _page_number(p: Path) -> int:
    return int(p.stem.rsplit("-", 1)[1])


def text(pdf: Path) -> str:
    """The PDF's text, page by page, with what changes on every build masked."""
    from pypdf import PdfReader

    pages = [page.extract_text() or "" for page in PdfReader(pdf).pages]
    joined = "\n\f\n".join(pages)
    for pattern, repl in _MASKS:
        joined = pattern.sub(repl, joined)
    return joined


def difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(mean absolute difference, share of pixels differing by more than 64) of two pages; pages of
    different sizes differ completely."""
    if a.shape != b.shape:
        return 255.0, 1.0
    d = np.abs(a - b)
    return float(d.mean()), float((d > 64).mean())


def reference(name: str, engine: str = "weasyprint") -> tuple[list[np.ndarray], str]:
    from PIL import Image

    folder = FIXTURES / engine
    pngs = sorted(folder.glob(f"{name}-*.png"), key=_page_number)
    return ([np.asarray(Image.open(p).convert("L"), dtype=np.int16) for p in pngs],
            (folder / f"{name}.txt").read_text(encoding="utf-8"))


def main(engines: list[str]) -> None:
    """Regenerate the references of ``engines`` (default: all) from the code as it is."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from PIL import Image
    from zpb_lib.services import demo

    with tempfile.TemporaryDirectory() as tmp:
        db = demo.generate(Path(tmp) / "small.sqlite", seed=SEED, scale=SCALE)
        for engine in engines or ENGINES:
            pdfs = build_pdfs(db, Path(tmp) / engine, engine)
            folder = FIXTURES / engine
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            for name, pdf in pdfs.items():
                for i, page in enumerate(page_images(pdf), start=1):
                    Image.fromarray(page.astype(np.uint8)).save(folder / f"{name}-{i}.png", optimize=True)
                (folder / f"{name}.txt").write_text(text(pdf), encoding="utf-8")
                print(f"{engine} {name}: {len(page_images(pdf))} pages → {folder}")


if __name__ == "__main__":
    main(sys.argv[1:])
