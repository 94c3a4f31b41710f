"""The refusals of the importers, and the lines of their summaries, in Polish for the web app.

The importers word their problems in English, as the command line prints them (its tests compare
the texts). Rather than a second wording at each of their many raise sites, this catalogue matches
the finished English message against the templates it was made from and fills the Polish template
with the same captured values: file, sheet and column names, numbers, cell values stay exactly as
they were. A message no template matches is returned in English, unchanged.

A captured value whose group name starts with ``t_`` is a piece of English itself (a hint, a limit,
the kind of a file): it is rendered again, word for word from :data:`WORDS` or by :data:`PARTS`, and
stays English when neither knows it.
"""
from __future__ import annotations

import re

# Whole words and phrases an English message is built from.
WORDS: dict[str, str] = {
    # what not_a_table says a file is
    "a PDF document": "dokument PDF", "a PNG image": "obraz PNG", "a JPEG image": "obraz JPEG",
    "a GIF image": "obraz GIF", "a TIFF image": "obraz TIFF", "a WebP image": "obraz WebP",
    "a BMP image": "obraz BMP", "an RTF document": "dokument RTF", "a gzip archive": "archiwum gzip",
    "a 7-Zip archive": "archiwum 7-Zip", "a RAR archive": "archiwum RAR", "a web page (HTML)": "strona internetowa (HTML)",
    "a Word document (.docx)": "dokument Worda (.docx)",
    "a PowerPoint presentation (.pptx)": "prezentacja PowerPointa (.pptx)",
    "an OpenDocument file (.ods/.odt)": "plik OpenDocument (.ods/.odt)",
    "a zip archive that is not an Excel workbook": "archiwum zip, które nie jest skoroszytem Excela",
    "a binary (non-text) file": "plik binarny (nie tekstowy)",
    # the kinds of file a limit is for (core.limits.WHAT), and what it bounds (archive.limit_text)
    "a survey export": "eksportu ankiety", "an RSPO export or a list of universities": "eksportu RSPO lub wykazu uczelni",
    "a register workbook": "skoroszytu rejestru", "an audit protocol": "protokołu audytu",
    "a published list": "opublikowanej listy",
    "a line": "długości wiersza tekstu", "the columns of a row": "liczby pól w wierszu", "the rows": "liczby wierszy",
    "the rows of a sheet": "liczby wierszy arkusza", "the columns of a sheet": "liczby kolumn arkusza",
    "one part": "rozmiaru jednej części", "a whole workbook": "rozmiaru całego skoroszytu",
    "the shared texts": "liczby wspólnych tekstów",
    # groups, waves, questionnaires
    "students": "uczniowie", "parents": "rodzice", "teachers": "nauczyciele",
    "students'": "uczniów", "parents'": "rodziców", "teachers'": "nauczycieli",
    "baseline": "diagnoza", "follow-up": "ewaluacja",
    # audits
    "certification": "certyfikacyjny", "reaudit": "ponowny", "control": "kontrolny", "leader": "o tytuł Lidera",
    "certyfikat": "certyfikat", "przedłużenie": "przedłużenie", "lider": "tytuł Lidera",
    "positive": "pozytywny", "negative": "negatywny", "not scored": "nie oceniono",
    "no rule gives an award for this audit": "żadna reguła nie daje wyróżnienia za ten audyt",
    "no rule for this audit kind": "brak reguły dla tego rodzaju audytu",
    # where a participation is
    "before it joined": "przed jej przystąpieniem do programu", "after it left": "po jej odejściu z programu",
    "outside its participation": "poza okresem jej udziału",
    # what the envelope advises when a file comes again
    "use --replace to replace that import": "użyj --replace, aby zastąpić tamten import",
    "a newer export is a new file": "nowszy eksport jest nowym plikiem",
    "not from an import": "nie z importu", "data not from an import": "dane nie z importu",
    "(empty)": "(puste)", "an analyst": "analityk",
    # the hints that end encoding refusals and a refusal of a file that is no export
    "save it from Google Forms as CSV, or from Excel as „CSV UTF-8” or „CSV (rozdzielany przecinkami)”":
        "zapisz go z Formularzy Google jako CSV albo z Excela jako „CSV UTF-8” lub „CSV (rozdzielany przecinkami)”",
    "import the answers as the form exports them — Google Forms: „Odpowiedzi” → „Pobierz odpowiedzi (.csv)”; "
    "Microsoft Forms: „Otwórz w programie Excel” (.xlsx) — or a sheet of them saved from Excel as .xlsx or "
    "„CSV UTF-8”":
        "zaimportuj odpowiedzi tak, jak eksportuje je formularz — Formularze Google: „Odpowiedzi” → „Pobierz "
        "odpowiedzi (.csv)”; Microsoft Forms: „Otwórz w programie Excel” (.xlsx) — albo arkusz z nimi zapisany w "
        "Excelu jako .xlsx lub „CSV UTF-8”",
    "file with a UTF-8 mark": "plik ze znacznikiem UTF-8",
    "comma-separated (Google Forms) export": "eksport rozdzielany przecinkami (Formularze Google)",
}

_VALUE = r"(?P<value>'.*'|\".*\")"  # a cell's value as repr() shows it
_EXPECTED = r"(?P<t_expected>expected .+)"
_LIMIT = r"(?P<t_limit>; the limit for .+)"

# Pieces of messages: hints, limits, lists. Matched only inside a message (``t_`` groups).
PARTS: list[tuple[str, str]] = [
    (r"; the limit for (?P<t_what>.+?) of (?P<t_kind>.+?) is (?P<shown>.+) \((?P<var>\$\w+) changes it\)",
     "; limit {t_what} dla {t_kind} wynosi {shown} (zmienia go {var})"),
    (r"; the limit for such a part is (?P<mb>\d+) MB \((?P<var>\$\w+) changes it\)",
     "; limit dla takiej części wynosi {mb} MB (zmienia go {var})"),
    (r"expected one or more of, joined with „, ” or „;”: (?P<labels>.+) \(or the English labels\), or an empty cell",
     "oczekiwano jednej lub kilku odpowiedzi, rozdzielonych „, ” lub „;”: {labels} (lub etykiet angielskich) "
     "albo pustej komórki"),
    (r"expected one of: (?P<labels>.+) \(or the English labels\), or an empty cell",
     "oczekiwano jednej z odpowiedzi: {labels} (lub etykiet angielskich) albo pustej komórki"),
    (r"expected a whole number from (?P<lo>\d+) to (?P<hi>\d+)", "oczekiwano liczby całkowitej od {lo} do {hi}"),
    (r"a zip archive that is not an Excel workbook \(unpack it and import the file inside: (?P<names>.+)\)",
     "archiwum zip, które nie jest skoroszytem Excela (rozpakuj je i zaimportuj plik ze środka: {names})"),
    (r"; its complex RSPO (?P<rspo>\d+) (?P<name>„.*”) takes part in (?P<e>\S+) for the schools that do not take part on "
     r"their own: give the complex's RSPO number, or record this school's own participation in the register",
     "; jej zespół RSPO {rspo} {name} uczestniczy w {e} za szkoły, które nie uczestniczą samodzielnie: podaj numer "
     "RSPO zespołu albo zapisz w rejestrze własny udział tej szkoły"),
    (r"(?P<head>.*)–now(?P<t_tail>.*)", "{head}–obecnie{t_tail}"),
    (r"import #(?P<id>\d+) of „(?P<file>.*)” on (?P<date>\S+) \((?P<rows>\d+) rows\)",
     "import nr {id} pliku „{file}” z {date} ({rows} wierszy)"),
    (r"(?P<n>\d+) responses stored earlier for this target \((?P<t_source>.+)\)",
     "{n} odpowiedzi zapisanych wcześniej dla tego celu ({t_source})"),
    (r"the (?P<t_kind>\w+) audit of (?P<e>\S+) stored earlier \((?P<t_source>.+)\)",
     "audyt {t_kind} z {e} zapisany wcześniej ({t_source})"),
    (r"import #(?P<id>\d+) „(?P<file>.*)”", "import nr {id} „{file}”"),
    (r"(?P<done>\d+) of (?P<max>\d+) points", "{done} z {max} pkt"),
    (r"mandatory criteria not met: (?P<items>[^;]+)", "niespełnione kryteria obowiązkowe: {items}"),
    (r"required criteria not met: (?P<items>[^;]+)", "niespełnione kryteria wymagane: {items}"),
    (r"(?P<n>\d+) points short of the threshold", "brakuje {n} pkt do progu"),
    (r"(?P<n>\d+) year\(s\) short of the years in the programme required",
     "brakuje {n} lat(a) wymaganego stażu w programie"),
    (r"(?P<n>\d+) positive control audit\(s\) missing", "brakuje {n} pozytywnych audytów kontrolnych"),
    (r"requires a valid (?P<items>[^;]+)", "wymaga ważnego: {items}"),
    (r"(?P<cid>[\w.]+): (?P<t_old>[^;]+) → (?P<t_new>[^;]+)", "{cid}: {t_old} → {t_new}"),  # a criterion's points
    (r"(?P<t_first>[^;]+); (?P<t_rest>.+)", "{t_first}; {t_rest}"),  # reasons or changes, one after another
]

# Whole messages, most specific first.
MESSAGES: list[tuple[str, str]] = [
    # ---------------------------------------------------------------- reading the file (ingest/__init__)
    (r"cannot check the file: (?P<exc>.+)", "nie można sprawdzić pliku: {exc}"),
    (r"the file is (?P<size>[\d ]+\.\d) MB; the limit for (?P<t_kind>.+?) is (?P<limit>[\d ]+) MB "
     r"\((?P<var>\$\w+) changes it\): refused before reading",
     "plik ma {size} MB; limit dla {t_kind} wynosi {limit} MB (zmienia go {var}): odrzucony przed odczytem"),
    (r"file not found", "nie znaleziono pliku"),
    (r"is a folder, not a file", "to folder, a nie plik"),
    (r"cannot be read: (?P<why>.+)", "nie można go odczytać: {why}"),
    # ---------------------------------------------------------------- the target: edition, institution
    (r"unknown edition (?P<value>.+): give a school year from (?P<first>\S+) to (?P<last>\S+) "
     r"\(e\.g\. (?P<a>\S+), (?P<b>\S+) or (?P<c>\S+)\)",
     "nieznana edycja {value}: podaj rok szkolny od {first} do {last} (np. {a}, {b} lub {c})"),
    (r"edition (?P<e>\S+): the programme was suspended that school year \(no edition was held\), so it has no "
     r"surveys or audits",
     "edycja {e}: w tym roku szkolnym program był zawieszony (edycja się nie odbyła), więc nie ma ankiet ani audytów"),
    (r"(?P<who>.+) closed in (?P<year>\d+), before edition (?P<e>\S+)",
     "{who} została zamknięta w {year}, przed edycją {e}"),
    (r"(?P<who>.+) is a (?P<kind>.+), a kind of school that ended in (?P<year>\d+), before edition (?P<e>\S+)",
     "{who} to {kind} — typ szkoły, który przestał istnieć w {year}, przed edycją {e}"),
    (r"(?P<who>.+) has no participation in the programme recorded, so it has no surveys or audits in (?P<e>\S+): "
     r"record when it joined in the register \(`zpb template register`, sheet „Udział”, then `zpb ingest "
     r"register`\)(?P<t_hint>.*)",
     "{who} nie ma zapisanego udziału w programie, więc nie ma ankiet ani audytów w {e}: zapisz w rejestrze, "
     "kiedy przystąpiła do programu (`zpb template register`, arkusz „Udział”, potem `zpb ingest register`){t_hint}"),
    (r"(?P<who>.+) takes part in the programme in (?P<t_spans>.+); edition (?P<e>\S+) is (?P<t_when>.+?): correct "
     r"the edition, or the participation in the register(?P<t_hint>.*)",
     "{who} uczestniczy w programie w latach {t_spans}; edycja {e} jest {t_when}: popraw edycję albo udział w "
     "rejestrze{t_hint}"),
    (r"no institution with the internal id (?P<id>\d+) that this protocol \(made by an older zpb\) names; make a new "
     r"protocol with `zpb template audit`",
     "brak placówki o wewnętrznym identyfikatorze {id}, który podaje ten protokół (przygotowany przez starszą "
     "wersję zpb); przygotuj nowy protokół poleceniem `zpb template audit`"),
    (r"no university with (?P<ident>.+?) in the database \(.*\)",
     "w bazie nie ma uczelni o numerze {ident} (uczelnie pochodzą z ich wykazu: `zpb ingest institutions`; "
     "wyszukaj ją poleceniem `zpb institutions find NAZWA`)"),
    (r"no institution with (?P<ident>.+?) in the database \(.*\)",
     "w bazie nie ma placówki {ident} (zpb przechowuje szkoły Małopolski tych typów, które obejmuje program, z "
     "eksportu rejestru RSPO: sprawdź numer poleceniem `zpb institutions find NAZWA`; szkoła, której brakuje, "
     "przychodzi z nowszym eksportem, `zpb ingest institutions`)"),
    (r"(?P<ident>.+?) is not in the database: the RSPO export „(?P<file>.*)” \(import #(?P<id>\d+) of "
     r"(?P<date>\S+)\) lists it as „(?P<type>.*)”, a type of institution the programme does not cover, .*",
     "{ident} nie ma w bazie: eksport RSPO „{file}” (import nr {id} z {date}) podaje ją jako „{type}”, typ "
     "placówki, którego program nie obejmuje, więc nie została zapisana i nie uczestniczy w programie (typy "
     "objęte programem określa plik rspo_types.yaml danych referencyjnych)"),
    (r"(?P<ident>.+?) is not in the database: the RSPO export „(?P<file>.*)” \(import #(?P<id>\d+) of "
     r"(?P<date>\S+)\) lists it as „(?P<type>.*)”, a type zpb does not know, .*",
     "{ident} nie ma w bazie: eksport RSPO „{file}” (import nr {id} z {date}) podaje ją jako „{type}”, typ, "
     "którego zpb nie zna, więc nie została zapisana; jeśli program obejmuje ten typ, dodaj go do rspo_types.yaml "
     "danych referencyjnych i zaimportuj eksport RSPO ponownie"),
    (r"(?P<value>.+) is neither an RSPO number \(digits, e\.g\. 123456\) nor a POL-on id \(a UUID such as "
     r"(?P<uuid>[0-9a-f-]+)\)",
     "{value} nie jest ani numerem RSPO (cyfry, np. 123456), ani identyfikatorem POL-on (UUID, np. {uuid})"),
    (r"not an RSPO number or POL-on id: (?P<value>.+)", "to nie jest numer RSPO ani identyfikator POL-on: {value}"),
    (r"unknown (?P<t_what>group|wave) (?P<value>'.*') \(accepted: (?P<accepted>.+)\)",
     "nieznana wartość {value} (dozwolone: {accepted})"),
    # ---------------------------------------------------------------- rights and the database
    (r"(?P<what>.+): (?P<who>.+) changes nothing in this database",
     "{what}: {who} nie zmienia niczego w tej bazie"),
    (r"(?P<what>.+) is in powiat (?P<county>.+?) \((?P<teryt>\d+)\), which (?P<unit>.+?) serves; (?P<who>.+) changes "
     r"only the institutions of its unit's counties: leave such rows out, or ask that unit or an analyst",
     "{what} leży w powiecie {county} ({teryt}), który obsługuje {unit}; {who} zmienia tylko placówki powiatów "
     "swojej jednostki: pomiń takie wiersze albo poproś tę jednostkę lub analityka"),
    (r"(?P<what>.+) has no county \(an analyst's to change\); (?P<who>.+) changes only the institutions of its "
     r"unit's counties: leave such rows out, or ask that unit or an analyst",
     "{what} nie ma powiatu (zmienia ją analityk); {who} zmienia tylko placówki powiatów swojej jednostki: pomiń "
     "takie wiersze albo poproś tę jednostkę lub analityka"),
    (r"the database refused (?P<t_what>.+?); nothing was stored: (?P<exc>.+)",
     "baza danych odrzuciła zapis ({t_what}); nic nie zapisano: {exc}"),
    (r"import #(?P<id>\d+) \(„(?P<file>.*)”\) was made by (?P<t_maker>.+?)(?P<login> \(login .+?\))?, and (?P<who>.+) "
     r"replaces only its own unit's imports: ask an analyst to undo it first; nothing was stored",
     "import nr {id} („{file}”) wykonał(a) {t_maker}{login}, a {who} zastępuje tylko importy własnej "
     "jednostki: poproś analityka, aby najpierw go cofnął; nic nie zapisano"),
    (r"this file was already imported: (?P<t_prev>.+); nothing was stored \((?P<t_again>.+)\)",
     "ten plik został już zaimportowany: {t_prev}; nic nie zapisano ({t_again})"),
    # ---------------------------------------------------------------- a table: CSV or XLSX (tables.py)
    (r"the file is empty", "plik jest pusty"),
    (r"an old Excel \.xls workbook; save it as \.xlsx \(Excel workbook\) or as CSV",
     "stary skoroszyt Excela .xls; zapisz go jako .xlsx (skoroszyt Excela) albo jako CSV"),
    (r"not a valid XLSX workbook \(not a zip archive\): the file is damaged or truncated",
     "to nie jest poprawny skoroszyt XLSX (nie jest archiwum zip): plik jest uszkodzony lub niekompletny"),
    (r"not an XLSX workbook \(not a zip archive\): save the protocol as an Excel workbook \(\.xlsx\)",
     "to nie jest skoroszyt XLSX (nie jest archiwum zip): zapisz protokół jako skoroszyt Excela (.xlsx)"),
    (r"wrong encoding: the file is UTF-16 or binary, not a CSV text in UTF-8 or Windows-1250; (?P<t_hint>.+)",
     "złe kodowanie: plik jest w UTF-16 albo binarny, a nie tekstem CSV w UTF-8 lub Windows-1250; {t_hint}"),
    (r"wrong encoding: byte (?P<byte>0x[0-9A-F]{2}) is not valid UTF-8; a (?P<t_what>.+?) must be UTF-8 \(this looks "
     r"like Windows-1250 or another code page\); (?P<t_hint>.+)",
     "złe kodowanie: bajt {byte} nie jest poprawnym UTF-8; {t_what} musi być w UTF-8 (to wygląda na Windows-1250 "
     "lub inną stronę kodową); {t_hint}"),
    (r"wrong encoding: byte (?P<byte>0x[0-9A-F]{2}) is neither UTF-8 nor Windows-1250; (?P<t_hint>.+)",
     "złe kodowanie: bajt {byte} nie jest ani UTF-8, ani Windows-1250; {t_hint}"),
    (r"wrong encoding or not a text file: control character (?P<char>U\+[0-9A-F]{4}); (?P<t_hint>.+)",
     "złe kodowanie albo plik nie jest tekstowy: znak sterujący {char}; {t_hint}"),
    (r"a line longer than any export has" + _LIMIT, "wiersz tekstu dłuższy niż w jakimkolwiek eksporcie{t_limit}"),
    (r"a field is longer than (?P<n>[\d ]+) characters \(no answer or name is\): not an export of a form or a "
     r"register",
     "pole jest dłuższe niż {n} znaków (żadna odpowiedź ani nazwa nie jest tak długa): to nie jest eksport "
     "formularza ani rejestru"),
    (r"the header cannot be read as CSV \((?P<exc>.+)\)", "nie można odczytać nagłówka jako CSV ({exc})"),
    (r"the file is truncated or damaged: (?P<exc>.+) \(a quoted field is not closed\)",
     "plik jest niekompletny lub uszkodzony: {exc} (pole w cudzysłowie nie zostało zamknięte)"),
    (r"the row has (?P<n>[\d ]+) fields" + _LIMIT, "wiersz ma {n} pól{t_limit}"),
    (r"more than (?P<n>[\d ]+) rows" + _LIMIT, "ponad {n} wierszy{t_limit}"),
    (r"not a valid XLSX workbook: the zip archive is damaged or truncated",
     "to nie jest poprawny skoroszyt XLSX: archiwum zip jest uszkodzone lub niekompletne"),
    (r"not a valid XLSX workbook or the workbook is damaged or truncated \((?P<exc>.*)\)",
     "to nie jest poprawny skoroszyt XLSX albo skoroszyt jest uszkodzony lub niekompletny ({exc})"),
    (r"not a valid XLSX workbook \((?P<exc>.*)\)", "to nie jest poprawny skoroszyt XLSX ({exc})"),
    (r"the workbook's first sheet is empty", "pierwszy arkusz skoroszytu jest pusty"),
    (r"the workbook is damaged or truncated \((?P<exc>.*)\)", "skoroszyt jest uszkodzony lub niekompletny ({exc})"),
    (r"a cell stands in column (?P<n>[\d ]+)" + _LIMIT, "komórka stoi w kolumnie {n}{t_limit}"),
    (r"the sheet reaches row (?P<n>[\d ]+)" + _LIMIT, "arkusz sięga wiersza {n}{t_limit}"),
    # ---------------------------------------------------------------- a workbook's zip archive (archive.py)
    (r"the workbook's zip archive lists (?P<n>[\d ]+) members in a directory of (?P<size>[\d ]+\.\d MB); a workbook "
     r"has tens[ ,] and the limit is (?P<limit>[\d ]+) \((?P<var>\$\w+) changes it\)",
     "archiwum zip skoroszytu wymienia {n} elementów w katalogu o rozmiarze {size}; skoroszyt ma ich kilkadziesiąt, "
     "a limit wynosi {limit} (zmienia go {var})"),
    (r"the workbook's zip archive has (?P<n>[\d ]+) members; a workbook has tens[ ,] and the limit is (?P<limit>[\d ]+) "
     r"\((?P<var>\$\w+) changes it\)",
     "archiwum zip skoroszytu ma {n} elementów; skoroszyt ma ich kilkadziesiąt, a limit wynosi {limit} "
     "(zmienia go {var})"),
    (r"the member „(?P<name>.*)” is in the zip archive twice: not a workbook Excel writes",
     "element „{name}” występuje w archiwum zip dwa razy: Excel nie zapisuje takich skoroszytów"),
    (r"the member „(?P<name>.*)” is encrypted: save the workbook without a password",
     "element „{name}” jest zaszyfrowany: zapisz skoroszyt bez hasła"),
    (r"the member „(?P<name>.*)” is compressed with method (?P<n>\d+), which Excel never uses: save the workbook "
     r"again from Excel",
     "element „{name}” jest skompresowany metodą {n}, której Excel nigdy nie używa: zapisz skoroszyt ponownie w Excelu"),
    (r"part „(?P<name>.*)” expands to (?P<size>[\d ]+\.\d MB)(?P<t_limit>; the limit .+)",
     "część „{name}” po rozpakowaniu ma {size}{t_limit}"),
    (r"the workbook's parts expand to more than (?P<size>[\d ]+\.\d MB) \(at „(?P<name>.*)”\)" + _LIMIT,
     "części skoroszytu po rozpakowaniu mają ponad {size} (przy „{name}”){t_limit}"),
    (r"part „(?P<name>.*)” is compressed (?P<times>[\d ]+) times \((?P<packed>[\d ]+\.\d MB) expanding to "
     r"(?P<size>[\d ]+\.\d MB)\); real sheets are compressed 10–20 times, and the limit is (?P<limit>\d+) "
     r"\((?P<var>\$\w+) changes it\): a zip bomb, not a workbook",
     "część „{name}” jest skompresowana {times} razy ({packed} rozpakowuje się do {size}); prawdziwe arkusze są "
     "kompresowane 10–20 razy, a limit wynosi {limit} (zmienia go {var}): to bomba zip, a nie skoroszyt"),
    (r"the member „(?P<name>.*)” has no local header where the directory says: the zip archive is damaged or crafted",
     "element „{name}” nie ma nagłówka lokalnego tam, gdzie wskazuje katalog: archiwum zip jest uszkodzone lub "
     "spreparowane"),
    (r"the members „(?P<a>.*)” and „(?P<b>.*)” overlap in the zip archive \(they share compressed data\): a zip bomb, "
     r"not a workbook",
     "elementy „{a}” i „{b}” nakładają się w archiwum zip (dzielą skompresowane dane): to bomba zip, a nie skoroszyt"),
    (r"the member „(?P<name>.*)” runs past the end of the archive's data: the zip archive is damaged or crafted",
     "element „{name}” wychodzi poza koniec danych archiwum: archiwum zip jest uszkodzone lub spreparowane"),
    (r"part „(?P<name>.*)” expands beyond the (?P<size>[\d ]+\.\d MB) the archive's directory declares: a zip bomb, "
     r"not a workbook",
     "część „{name}” rozpakowuje się do więcej niż {size} deklarowanych w katalogu archiwum: to bomba zip, a nie "
     "skoroszyt"),
    (r"part „(?P<name>.*)” cannot be read: the zip archive is damaged \((?P<exc>.*)\)",
     "nie można odczytać części „{name}”: archiwum zip jest uszkodzone ({exc})"),
    (r"part „(?P<name>.*)” declares a document type \(<!DOCTYPE …>\), which no workbook has: entity expansion and "
     r"external entities are refused",
     "część „{name}” deklaruje typ dokumentu (<!DOCTYPE …>), którego żaden skoroszyt nie ma: rozwijanie encji i "
     "encje zewnętrzne są odrzucane"),
    (r"part „(?P<name>.*)” is not well-formed XML \((?P<exc>.*)\): the workbook is damaged",
     "część „{name}” nie jest poprawnym XML ({exc}): skoroszyt jest uszkodzony"),
    (r"part „(?P<name>.*)” reaches row (?P<n>[\d ]+)" + _LIMIT, "część „{name}” sięga wiersza {n}{t_limit}"),
    (r"part „(?P<name>.*)” has a cell in column (?P<n>[\d ]+) \(cell (?P<cell>\w+)\)" + _LIMIT,
     "część „{name}” ma komórkę w kolumnie {n} (komórka {cell}){t_limit}"),
    (r"part „(?P<name>.*)” holds more than (?P<n>[\d ]+) distinct texts" + _LIMIT,
     "część „{name}” zawiera ponad {n} różnych tekstów{t_limit}"),
    # ---------------------------------------------------------------- a survey export (survey.py)
    (r"the file is (?P<t_kind>.+), not a survey export: (?P<t_hint>.+)",
     "plik to {t_kind}, a nie eksport ankiety: {t_hint}"),
    (r"this column and column (?P<other>.+) both hold question „(?P<q>.*)”; keep one",
     "ta kolumna i kolumna {other} zawierają to samo pytanie „{q}”; zostaw jedną"),
    (r"this is a question of the (?P<t_g>\S+) questionnaire \(item (?P<item>\S+)\), not of the (?P<t_given>\S+); "
     r"check --group \(given: (?P<t_group>\S+)\)",
     "to pytanie z ankiety {t_g} (pozycja {item}), a nie z ankiety {t_given}; sprawdź wybraną grupę "
     "(wybrano: {t_group})"),
    (r"the columns are the (?P<t_g>\S+) questionnaire \((?P<n>\d+) of its questions\), not the (?P<t_given>\S+): "
     r"check --group \(given: (?P<t_group>\S+); the file fits --group (?P<t_fits>\S+)\)",
     "kolumny to ankieta {t_g} ({n} jej pytań), a nie ankieta {t_given}: sprawdź wybraną grupę (wybrano: "
     "{t_group}; plik pasuje do grupy: {t_fits})"),
    (r"this header resembles question (?P<n>\d+) „(?P<q>.*)” of the (?P<t_g>\S+) questionnaire \((?P<pct>\d+)% "
     r"alike\), not a question of the (?P<t_given>\S+); check --group \(given: (?P<t_group>\S+)\), or remove the "
     r"column if it is a question of your own",
     "ten nagłówek przypomina pytanie {n} „{q}” z ankiety {t_g} (podobieństwo {pct}%), a nie pytanie z ankiety "
     "{t_given}; sprawdź wybraną grupę (wybrano: {t_group}) albo usuń kolumnę, jeśli to Wasze własne pytanie"),
    (r"this header resembles question (?P<n>\d+) „(?P<q>.*)” \((?P<pct>\d+)% alike\), which column (?P<col>.+) "
     r"holds: if this is an earlier version of that question \(edited in the form\), move its answers into that "
     r"column and remove this one; if it is a question of your own, remove it \(zpb stores the questionnaire's "
     r"questions only\)",
     "ten nagłówek przypomina pytanie {n} „{q}” (podobieństwo {pct}%), które zawiera kolumna {col}: jeśli to "
     "wcześniejsza wersja tego pytania (zmieniona w formularzu), przenieś odpowiedzi do tamtej kolumny i usuń tę; "
     "jeśli to Wasze własne pytanie, usuń ją (zpb zapisuje tylko pytania ankiety)"),
    (r"this header is not the text of a question but resembles question (?P<n>\d+) „(?P<q>.*)” \((?P<pct>\d+)% "
     r"alike\): if the column holds that question's answers, correct the header to the question's text; if it is "
     r"another question, remove the column \(zpb stores the questionnaire's questions only\)",
     "ten nagłówek nie jest treścią pytania, ale przypomina pytanie {n} „{q}” (podobieństwo {pct}%): jeśli kolumna "
     "zawiera odpowiedzi na to pytanie, popraw nagłówek na treść pytania; jeśli to inne pytanie, usuń kolumnę "
     "(zpb zapisuje tylko pytania ankiety)"),
    (r"missing question column: no column is headed with question (?P<n>\d+) „(?P<q>.*)” \(or its English text "
     r"„(?P<en>.*)”\)",
     "brak kolumny pytania: żadna kolumna nie ma w nagłówku pytania {n} „{q}” (ani jego angielskiej treści „{en}”)"),
    (r"columns taken for no question \(ignored\): (?P<cols>.+); if one of them holds a missing question, head it "
     r"with the question's text",
     "kolumny nieprzypisane do żadnego pytania (pominięte): {cols}; jeśli któraś zawiera brakujące pytanie, wpisz w "
     "jej nagłówku treść pytania"),
    (_VALUE + r" is not an answer of this question's scale; " + _EXPECTED,
     "{value} nie jest odpowiedzią ze skali tego pytania; {t_expected}"),
    (r"the row has (?P<n>\d+) fields but the header has (?P<m>\d+): the file is truncated or a row was cut",
     "wiersz ma {n} pól, a nagłówek {m}: plik jest niekompletny albo wiersz został ucięty"),
    (r"value " + _VALUE + r" stands in a column without a header \(the row has (?P<n>\d+) fields, the header "
     r"(?P<m>\d+); or a field holds an unquoted delimiter\)",
     "wartość {value} stoi w kolumnie bez nagłówka (wiersz ma {n} pól, nagłówek {m}; albo pole zawiera separator "
     "bez cudzysłowu)"),
    (r"value " + _VALUE + r" in a column without a header; give the column its question text or remove it",
     "wartość {value} w kolumnie bez nagłówka; wpisz w nagłówku treść pytania albo usuń kolumnę"),
    (r"no row of the file can be read \((?P<n>\d+) rows?: (?P<rows>.+)\)",
     "nie można odczytać żadnego wiersza pliku (wierszy: {n}: {rows})"),
    (r"(?P<n>\d+) rows? cannot be read \((?P<rows>.+)\); to store the other (?P<m>\d+) and leave these out, import "
     r"the file again with --skip-bad-rows",
     "nie można odczytać wierszy: {n} ({rows}); aby zapisać pozostałe {m} i pominąć te, zaimportuj plik ponownie "
     "z opcją --skip-bad-rows"),
    (r"the file has a header row but no answers \(no data rows\)",
     "plik ma wiersz nagłówka, ale nie ma odpowiedzi (brak wierszy z danymi)"),
    (r"--replace and --append exclude each other", "--replace i --append wykluczają się"),
    (r"(?P<who>.+) already has (?P<n>\d+) (?P<t_group>\S+) (?P<t_wave>\S+) responses in (?P<e>\S+) \((?P<sources>.+)\); "
     r"nothing was stored\. A new export of the same form repeats them: use --replace to replace them, or --append "
     r"to add these",
     "{who} ma już {n} odpowiedzi (grupa: {t_group}, pomiar: {t_wave}) w edycji {e} ({sources}); nic nie "
     "zapisano. Nowy eksport tego samego formularza je powtarza: wybierz zastąpienie zapisanych odpowiedzi albo "
     "dopisanie tych"),
    # ---------------------------------------------------------------- an audit protocol (audit.py)
    (r"unknown audit kind (?P<value>'.*'); expected one of (?P<allowed>„.+)",
     "nieznany rodzaj audytu {value}; oczekiwano jednego z: {allowed}"),
    (r"unknown audit kind (?P<value>'.*'); expected one of (?P<codes>[^(]+) \(or (?P<labels>.+)\)",
     "nieznany rodzaj audytu {value}; oczekiwano jednego z: {codes} (lub {labels})"),
    (r"no (?P<family>\S+) criteria catalogue is in force in (?P<e>\S+)",
     "w edycji {e} nie obowiązuje żaden katalog kryteriów dla: {family}"),
    (r"not a ZPB audit protocol: field\(s\) (?P<fields>.+) not found in column A; make the protocol with "
     r"`zpb template audit`",
     "to nie jest protokół audytu ZPB: w kolumnie A nie znaleziono pól {fields}; przygotuj protokół poleceniem "
     "`zpb template audit`"),
    (r"criteria table without column\(s\) (?P<cols>.+)", "tabela kryteriów bez kolumn: {cols}"),
    (r"not a ZPB audit protocol: no criteria table \(a row with „(?P<a>.*)” and „(?P<b>.*)”\)",
     "to nie jest protokół audytu ZPB: brak tabeli kryteriów (wiersza z „{a}” i „{b}”)"),
    (r"the protocol is for catalogue (?P<t_given>.+?), but catalogue (?P<key>\S+) applies to „(?P<kind>.*)” in "
     r"edition (?P<e>\S+); make a new protocol with `(?P<command>.+)`",
     "protokół jest dla katalogu {t_given}, ale w edycji {e} „{kind}” obowiązuje katalog {key}; przygotuj nowy "
     "protokół poleceniem `{command}`"),
    (r"the protocol says (?P<value>'.*') but --kind (?P<kind>\S+) was given",
     "protokół podaje {value}, a wybrano rodzaj {kind}"),
    (r"audit kind not given; choose one of (?P<allowed>.+) or pass --kind",
     "nie podano rodzaju audytu; wybierz jeden z: {allowed}"),
    (r"no audit date; expected a date such as (?P<example>\S+)",
     "brak daty audytu; oczekiwano daty, np. {example}"),
    (_VALUE + r" is not a date; expected a date such as (?P<example>\S+)",
     "{value} nie jest datą; oczekiwano daty, np. {example}"),
    (r"audit date (?P<date>\S+) is outside the audit period of edition (?P<e>\S+) \((?P<period>.+)\)",
     "data audytu {date} wypada poza okresem audytów edycji {e} ({period})"),
    (r"criterion (?P<value>'.*') is not in catalogue (?P<key>\S+) \(its criteria: (?P<ids>.+)\)",
     "kryterium {value} nie należy do katalogu {key} (jego kryteria: {ids})"),
    (r"criterion (?P<cid>\S+) appears twice \(also in row (?P<row>\d+)\)",
     "kryterium {cid} występuje dwa razy (także w wierszu {row})"),
    (r"maximum (?P<value>.+) for criterion (?P<cid>\S+) differs from (?P<max>\d+) in catalogue (?P<key>\S+): the "
     r"protocol was changed; make a new one with `zpb template audit`",
     "maksimum {value} dla kryterium {cid} różni się od {max} w katalogu {key}: protokół został zmieniony; "
     "przygotuj nowy poleceniem `zpb template audit`"),
    (r"mandatory criterion (?P<cid>\S+) „(?P<title>.*)” is not scored; " + _EXPECTED,
     "obowiązkowe kryterium {cid} „{title}” nie ma przyznanych punktów; {t_expected}"),
    (r"mandatory criterion (?P<cid>\S+) \(„(?P<title>.*)”\) is not scored; " + _EXPECTED,
     "obowiązkowe kryterium {cid} („{title}”) nie ma przyznanych punktów; {t_expected}"),
    (_VALUE + r" for criterion (?P<cid>\S+) is not a whole number; " + _EXPECTED,
     "{value} przy kryterium {cid} nie jest liczbą całkowitą; {t_expected}"),
    (r"(?P<p>\d+) points for criterion (?P<cid>\S+) is over its maximum of (?P<max>\d+); " + _EXPECTED,
     "{p} pkt przy kryterium {cid} to więcej niż jego maksimum {max}; {t_expected}"),
    (r"(?P<p>-\d+) points for criterion (?P<cid>\S+) is negative; " + _EXPECTED,
     "{p} pkt przy kryterium {cid} to liczba ujemna; {t_expected}"),
    (r"criterion (?P<cid>\S+) \(„(?P<title>.*)”\) is missing from the protocol; expected one row per criterion of "
     r"catalogue (?P<key>\S+), below the header in row (?P<row>\d+)",
     "w protokole brakuje kryterium {cid} („{title}”); oczekiwano jednego wiersza na każde kryterium katalogu "
     "{key}, pod nagłówkiem w wierszu {row}"),
    (r"a (?P<t_kind>\S+) audit of (?P<who>.+) in (?P<e>\S+) is already stored \((?P<t_source>.+)\); nothing was "
     r"stored \(use --replace to replace it\)",
     "audyt ({t_kind}) placówki {who} w {e} jest już zapisany ({t_source}); nic nie zapisano (użyj --replace, "
     "aby go zastąpić)"),
    (r"the audit cannot be replaced: the (?P<t_award>\S+) of (?P<e>\S+) recorded(?P<source> \(import #\d+\))? was "
     r"decided from it; nothing was stored",
     "audytu nie można zastąpić: na jego podstawie przyznano {t_award} w {e}{source}; nic nie zapisano"),
    # ---------------------------------------------------------------- what an audit earns (domain.awards) and changes
    (r"outcome: a (?P<t_verdict>positive|negative) control audit \((?P<t_pts>.+?), at least (?P<n>\d+) "
     r"needed\)(?P<why>: (?P<t_reasons>.+))?",
     "wynik: audyt kontrolny {t_verdict} ({t_pts}, wymagane co najmniej {n}){colon}{t_reasons}"),
    (r"outcome: the rules grant a (?P<kind>\S+) \((?P<award>.+); (?P<t_pts>.+?)\); it is already recorded",
     "wynik: według reguł przysługuje {award} ({t_pts}); jest już zapisane"),
    (r"outcome: the rules grant a (?P<kind>\S+) \((?P<award>.+); (?P<t_pts>.+?), threshold (?P<n>\d+)\)\.",
     "wynik: według reguł przysługuje {award} ({t_pts}, próg {n})."),
    (r"next: after review, record it with `(?P<command>.+)` \(until then the school's status and the reports do not "
     r"count it\)",
     "dalej: po sprawdzeniu zapisz je poleceniem `{command}` (do tego czasu status szkoły i raporty go nie "
     "uwzględniają)"),
    (r"outcome: no award \((?P<t_pts>.+?)\): (?P<t_reasons>.+)", "wynik: brak wyróżnienia ({t_pts}): {t_reasons}"),
    (r"kind: (?P<old>.+) → (?P<new>.+)", "rodzaj: {old} → {new}"),
    (r"date: (?P<old>\S+) → (?P<new>\S+)", "data: {old} → {new}"),
    (r"catalogue: (?P<old>\S+) → (?P<new>\S+)", "katalog: {old} → {new}"),
    (r"points changed for (?P<n>\d+) criteri(?:on|a): (?P<t_changes>.+)",
     "punkty zmienione przy kryteriach ({n}): {t_changes}"),
    (r"total points: (?P<old>\d+) → (?P<new>\d+)", "suma punktów: {old} → {new}"),
    (r"no differences: the same kind, date and points as the audit replaced",
     "bez różnic: ten sam rodzaj, data i punkty co w zastępowanym audycie"),
    # ---------------------------------------------------------------- taking an import back (store.history)
    (r"there is no import #(?P<id>\d+) \(imports: #(?P<first>\d+)–#(?P<last>\d+); see `zpb imports list`\)",
     "nie ma importu nr {id} (importy: nr {first}–{last}; zobacz `zpb imports list`)"),
    (r"there is no import #(?P<id>\d+) \(the database holds no imports\)",
     "nie ma importu nr {id} (baza nie zawiera żadnych importów)"),
    (r"import #(?P<id>\d+) cannot be undone, nothing was changed: (?P<exc>.+)",
     "importu nr {id} nie można cofnąć, niczego nie zmieniono: {exc}"),
]


def _compile(rules: list[tuple[str, str]]) -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(pattern, re.DOTALL), template) for pattern, template in rules]


_MESSAGES = _compile(MESSAGES)
_PARTS = _compile(PARTS)


def _fill(match: re.Match[str], template: str) -> str:
    values = {}
    for name, value in match.groupdict().items():
        value = value or ""
        values[name] = _part(value) if name.startswith("t_") else value
    values["colon"] = ": " if values.get("t_reasons") else ""
    return template.format(**values)


def _first(rules: list[tuple[re.Pattern[str], str]], text: str) -> str | None:
    for pattern, template in rules:
        found = pattern.fullmatch(text)
        if found is not None:
            return _fill(found, template)
    return None


def _part(text: str) -> str:
    """A piece of a message: a word or phrase, a known piece, or a message of its own."""
    if text in WORDS:
        return WORDS[text]
    return _first(_PARTS, text) or _first(_MESSAGES, text) or text


def polish(message: str) -> str:
    """``message`` (an importer's problem, or a line of its summary) in Polish; in English, unchanged,
    when no template of the catalogue matches it."""
    return _first(_MESSAGES, message) or message
