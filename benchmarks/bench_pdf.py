"""What tagged, archival PDFs cost: the same report pages printed by each PDF engine untagged and as
zpb prints them (WeasyPrint: PDF/A-3a named PDF/UA-1 too, and its other variants for comparison;
Chromium: tagged, with an outline), in one process, each configuration in turn page by page.

    .venv/bin/python benchmarks/bench_pdf.py reports/2025-2026 [--pages 40] [--rounds 3] [--engine chromium]

The pages are a build's report pages (HTML): the voivodeship's, the counties' and schools' in name
order, up to --pages. Prints, per configuration, the median over the rounds of the seconds all pages
took, its ratio to the untagged print of the same engine, and the PDFs' total size.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zpb_lib.batch.export import Exporter  # noqa: E402
from zpb_lib.batch.pdf.chromium import CHROMIUM_PDF  # noqa: E402
from zpb_lib.batch.pdf.weasyprint import WEASYPRINT_PDF  # noqa: E402

WEASYPRINT = {
    "untagged": {},
    "tagged (pdf_tags)": {"pdf_tags": True},
    "pdf/ua-1": {"pdf_variant": "pdf/ua-1"},
    "pdf/a-3u": {"pdf_variant": "pdf/a-3u"},
    "zpb: pdf/a-3a + PDF/UA-1": WEASYPRINT_PDF,
}
CHROMIUM = {"untagged": {}, "zpb: tagged + outline": CHROMIUM_PDF}


def pages(folder: Path, n: int) -> list[str]:
    files = sorted(p for p in folder.glob("*.html") if p.name != "index.html")
    order = sorted(files, key=lambda p: (not p.name.startswith("wojewodztwo"), not p.name.startswith("powiat"), p.name))
    return [p.read_text(encoding="utf-8") for p in order[:n]]


def run(engine: str, html: list[str], rounds: int) -> None:
    configs = WEASYPRINT if engine == "weasyprint" else CHROMIUM
    exporter = Exporter(pdf_engine=engine)
    printing = exporter.start_pdf()
    seconds: dict[str, list[float]] = {name: [] for name in configs}
    sizes: dict[str, int] = {}
    try:
        exporter.pdf_bytes(html[0])  # warm-up: imports, fonts, the stylesheet parsed once
        for _ in range(rounds):
            totals = dict.fromkeys(configs, 0.0)
            size = dict.fromkeys(configs, 0)
            for page in html:
                for name, options in configs.items():
                    printing.pdf_options = dict(options)
                    t = time.perf_counter()
                    size[name] += len(exporter.pdf_bytes(page))
                    totals[name] += time.perf_counter() - t
            for name in configs:
                seconds[name].append(totals[name])
            sizes = size
    finally:
        exporter.close()
    base = statistics.median(seconds["untagged"])
    print(f"{engine}: {len(html)} pages, {rounds} rounds (median of the rounds)")
    for name in configs:
        med = statistics.median(seconds[name])
        print(f"  {name:28s} {med:7.2f} s  {med / len(html):.3f} s/page  ratio {med / base:.2f}  "
              f"{sizes[name] / 2 ** 20:6.1f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="a build's edition folder (report pages *.html)")
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--engine", action="append", choices=("weasyprint", "chromium"))
    args = ap.parse_args()
    html = pages(args.folder, args.pages)
    if not html:
        raise SystemExit(f"no report pages in {args.folder}")
    for engine in args.engine or ["weasyprint", "chromium"]:
        run(engine, html, args.rounds)


if __name__ == "__main__":
    main()
