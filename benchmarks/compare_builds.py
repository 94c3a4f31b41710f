"""Compare two built report folders: the same files, the same report text (HTML and PDF) and the
same manifests, apart from versions, hashes of the code and times.

    python benchmarks/compare_builds.py BEFORE AFTER

For a change that must not change what readers see (a refactoring): build the same database with
the code before and after into two folders, then compare them. Exit status 0 when they agree, 1
with the differences listed otherwise.
"""
from __future__ import annotations

import difflib
import json
import re
import sys
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup

# What legitimately differs between two builds of the same data: when, and with which code.
_MASKS = [
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?"), "<time>"),
    (re.compile(r"\d{1,2}\.\d{2}\.\d{4},? \d{1,2}:\d{2}(:\d{2})?"), "<time>"),
    (re.compile(r"\d{1,2} \w+ \d{4},? \d{1,2}:\d{2}(:\d{2})?"), "<time>"),  # 6 Dec 2026, 22:50
    (re.compile(r"\b[0-9a-f]{16,64}\b"), "<hash>"),
]
_VOLATILE_KEYS = ("time", "_at", "seconds", "duration", "elapsed", "started", "finished", "version", "code",
                  "pid", "host", "worker", "kernel")


def mask(text: str) -> str:
    for pattern, repl in _MASKS:
        text = pattern.sub(repl, text)
    return text


def html_text(path: Path) -> list[str]:
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()
    lines = (" ".join(line.split()) for line in soup.get_text("\n").splitlines())
    return [mask(line) for line in lines if line]


def pdf_text(path: Path) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    lines = [f"--- page {i + 1}" for i in range(len(reader.pages))]
    for i, page in enumerate(reader.pages):
        lines += [f"p{i + 1}: " + mask(" ".join(line.split())) for line in page.extract_text().splitlines()
                  if line.strip()]
    return lines


# Sizes that change with the moment of the build: an executed notebook records its cells' run times,
# a PDF its creation time. Their content is compared above (the PDF's text; the HTML made from the
# notebook).
_VOLATILE_SIZES = ("ipynb", "pdf")


def stable(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: stable(v, k) for k, v in value.items()
                if not any(part in k.lower() for part in _VOLATILE_KEYS)
                and not (key == "outputs" and k in _VOLATILE_SIZES)}
    if isinstance(value, list):
        return [stable(v, key) for v in value]
    if isinstance(value, str):
        return mask(value)
    return value


def json_lines(path: Path) -> list[str]:
    return json.dumps(stable(json.loads(path.read_text(encoding="utf-8"))), indent=1, sort_keys=True,
                      ensure_ascii=False).splitlines()


READERS = {".html": html_text, ".pdf": pdf_text, ".json": json_lines}


def compare(before: Path, after: Path) -> tuple[dict[str, int], list[str]]:
    files_a = {p.relative_to(before) for p in before.rglob("*") if p.is_file() and p.suffix in READERS}
    files_b = {p.relative_to(after) for p in after.rglob("*") if p.is_file() and p.suffix in READERS}
    problems = [f"only in {before}: {p}" for p in sorted(files_a - files_b)]
    problems += [f"only in {after}: {p}" for p in sorted(files_b - files_a)]
    counts: dict[str, int] = {}
    for rel in sorted(files_a & files_b):
        read = READERS[rel.suffix]
        a, b = read(before / rel), read(after / rel)
        counts[rel.suffix] = counts.get(rel.suffix, 0) + 1
        if a != b:
            diff = list(difflib.unified_diff(a, b, str(before / rel), str(after / rel), n=1, lineterm=""))
            problems.append("\n".join(diff[:40]))
    return counts, problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    counts, problems = compare(Path(argv[0]), Path(argv[1]))
    print("compared: " + ", ".join(f"{n} {suffix[1:].upper()}" for suffix, n in sorted(counts.items())))
    for p in problems:
        print(p)
    print("the same report text and manifests" if not problems else f"{len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
