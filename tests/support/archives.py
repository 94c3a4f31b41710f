"""Zip archives crafted by hand — workbooks that say what a zip library would refuse to write (sizes
that lie, members that share data, parts that expand to gigabytes) — for the tests of zpb's input
limits and of the web app's uploads."""
from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import openpyxl

@dataclass
class Entry:
    """One member as written into the archive: ``payload`` is raw deflate (method 8) or stored bytes."""
    name: str
    payload: bytes
    size: int  # the uncompressed size the headers declare
    crc: int
    method: int = 8
    share: str | None = None  # point at an earlier member's local header and data instead of own ones


def deflated(name: str, data: bytes) -> Entry:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Entry(name, c.compress(data) + c.flush(), len(data), zlib.crc32(data))


def repeated(name: str, head: bytes, unit: bytes, times: int, tail: bytes) -> Entry:
    """``head + unit * times + tail`` deflated without ever holding it: after a full flush the
    compressor emits the same bytes for the same input, so one compressed unit is repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(unit) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(unit) + c.flush(zlib.Z_FULL_FLUSH)
    assert block == again
    last = c.compress(tail) + c.flush()
    crc = zlib.crc32(head)
    for _ in range(times):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(tail, crc)
    return Entry(name, first + block * times + last, len(head) + len(unit) * times + len(tail), crc)


def write_zip(path: Path, entries: list[Entry]) -> Path:
    """A zip archive written by hand, so that it can say what a zip library would refuse to write."""
    out = io.BytesIO()
    offsets: dict[str, int] = {}
    for e in entries:
        if e.share is not None:
            continue
        offsets[e.name] = out.tell()
        name = e.name.encode()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, e.method, 0, 0x21, e.crc, len(e.payload), e.size,
                              len(name), 0))
        out.write(name + e.payload)
    start = out.tell()
    for e in entries:
        name = e.name.encode()
        offset = offsets[e.share if e.share is not None else e.name]
        out.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, e.method, 0, 0x21, e.crc, len(e.payload),
                              e.size, len(name), 0, 0, 0, 0, 0, offset))
        out.write(name)
    end = out.tell()
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), end - start, start, 0))
    path.write_bytes(out.getvalue())
    return path


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
    'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
    '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Arkusz1" sheetId="1" r:id="rId1"/>'
    '</sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.'
    'org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>',
}


def header_row(ref) -> bytes:
    """Row 1 of a Microsoft Forms-like export of the students' questionnaire, as inline strings."""
    texts = ["Sygnatura czasowa"] + [i.text_pl for i in ref.questionnaires["students"].items]
    cells = "".join(f'<c r="{openpyxl.utils.get_column_letter(j)}1" t="inlineStr"><is><t>{t}</t></is></c>'
                    for j, t in enumerate(texts, start=1))
    return f'<row r="1">{cells}</row>'.encode()


def sheet(rows: bytes, before: bytes = b"") -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?>' + before + f'<worksheet xmlns="{MAIN}"><sheetData>'.encode()
            + rows + b"</sheetData></worksheet>")


def survey_xlsx(path: Path, sheet_entry: Entry, strings: Entry | None = None, extra: list[Entry] = ()) -> Path:
    """A workbook of the standard parts with the given sheet (and string table) members."""
    strings = strings or deflated("xl/sharedStrings.xml",
                                  f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}"/>'.encode())
    entries = [deflated(n, p.encode()) for n, p in PARTS.items()] + [sheet_entry, strings, *extra]
    return write_zip(path, entries)
