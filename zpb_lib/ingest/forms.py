"""The standard questionnaire as a school needs it: text to set up an online form (Markdown and CSV,
questions and answer labels in order) and a printable A4 document (HTML and PDF).

The texts come from ``data/questionnaires`` exactly, so that the export of a form built from them
matches the questionnaire when it is imported back (see :mod:`zpb_lib.ingest.survey`).
"""
from __future__ import annotations

import csv
import html
import io
from pathlib import Path

from zpb_lib.core.files import atomic_write, make_folder, write_text
from zpb_lib.reference import Questionnaire, Reference, Scale, group_of, reference

LANGS = ("pl", "en")
TEXT = {
    "pl": {
        "group": {"students": "uczniowie", "parents": "rodzice", "teachers": "nauczyciele"},
        "single": "jednokrotny wybór", "multiple": "wielokrotny wybór",
        "type": "Typ", "answers": "Odpowiedzi", "file": "ankieta",
        "csv_header": ("Nr", "Id", "Typ", "Pytanie"), "csv_answer": "Odpowiedź",
        "setup_title": "Jak założyć formularz online",
        "setup": [
            "Utwórz formularz w Formularzach Google lub w Microsoft Forms i przepisz pytania i odpowiedzi "
            "dokładnie w tej kolejności (najlepiej skopiuj je z tego pliku; numer pytania można pominąć).",
            "Pytania jednokrotnego wyboru: typ „Jednokrotny wybór” (Google) lub „Wybór” (Microsoft). "
            "Pytanie wielokrotnego wyboru: „Pola wyboru” (Google) lub „Wybór” z włączoną opcją "
            "„Wiele odpowiedzi” (Microsoft).",
            "Ankieta jest anonimowa: nie zbieraj adresów e-mail ani nazwisk (Google: wyłącz „Zbieraj adresy "
            "e-mail”; Microsoft: „Każdy może odpowiedzieć”, bez zapisywania nazwy).",
            "Nie dodawaj innych pytań ani opcji „Inne” z polem do wpisania tekstu: import pomija kolumny "
            "spoza ankiety (i wymienia je), a odpowiedź spoza ankiety zatrzymuje import (albo, na życzenie, "
            "pomija jej wiersz).",
            "W pytaniu o miejsca niebezpieczne zostaw odpowiedź „{nowhere}” jako zwykłe pole wyboru: odróżnia ona "
            "„nie ma takich miejsc” od pominiętego pytania (pusta odpowiedź liczy się jako brak odpowiedzi). "
            "Formularz nie zablokuje zaznaczenia jej razem z miejscem — import zapisze wtedy zaznaczone "
            "miejsca (kto wskazał miejsce, ten je widział) i poda, ile było takich odpowiedzi.",
            "Eksport: Google — „Odpowiedzi” → „Pobierz odpowiedzi (.csv)”; Microsoft — „Otwórz w programie "
            "Excel”. Import: zpb ingest survey PLIK --institution RSPO --edition 2025/2026 --group {group} "
            "--wave diagnoza (jesienią) lub ewaluacja (po realizacji planu).",
        ],
        "intro": "Ankieta jest anonimowa. Nie podpisuj jej. Przy każdym pytaniu zaznacz odpowiedź krzyżykiem.",
        "pick_one": "zaznacz jedną odpowiedź",
        "pick_many": "zaznacz wszystkie pasujące odpowiedzi albo tylko „{nowhere}”",
        "many_note": "Odpowiedź „{nowhere}” wyklucza pozostałe.",
        "school": "Szkoła / placówka", "date": "Data",
        "footer": "Zintegrowana Polityka Bezpieczeństwa (ZPB) — standardowa ankieta",
        "thanks": "Dziękujemy za wypełnienie ankiety.",
    },
    "en": {
        "group": {"students": "students", "parents": "parents", "teachers": "teachers"},
        "single": "single choice", "multiple": "multiple choice",
        "type": "Type", "answers": "Answers", "file": "questionnaire",
        "csv_header": ("No", "Id", "Type", "Question"), "csv_answer": "Answer",
        "setup_title": "How to set up the online form",
        "setup": [
            "Create the form in Google Forms or Microsoft Forms with these questions and answers, in this order "
            "(copy them from this file; the question number may be left out).",
            "Single-choice questions: type „Multiple choice” (Google) or „Choice” (Microsoft). The multiple-choice "
            "question: „Checkboxes” (Google) or „Choice” with „Multiple answers” on (Microsoft).",
            "The survey is anonymous: do not collect e-mail addresses or names (Google: turn off „Collect email "
            "addresses”; Microsoft: „Anyone can respond”, without recording names).",
            "Do not add other questions or an „Other” option with a text field: the import leaves out columns "
            "that are not in the questionnaire (and lists them), and an answer that is not in it stops the import "
            "(or, if asked, its row is skipped).",
            "In the dangerous-places question keep the answer „{nowhere}” as an ordinary checkbox: it tells "
            "“there are no such places” from a skipped question (an empty answer counts as no answer). The form "
            "cannot stop it being ticked together with a place — the import then stores the places ticked (who "
            "names a place has seen one) and says how many such answers there were.",
            "Export: Google — „Responses” → „Download responses (.csv)”; Microsoft — „Open in Excel”. Import: "
            "zpb ingest survey FILE --institution RSPO --edition 2025/2026 --group {group} --wave baseline "
            "(in autumn) or follow-up (after the action plan).",
        ],
        "intro": "This survey is anonymous. Do not sign it. Mark one answer per question with a cross.",
        "pick_one": "mark one answer",
        "pick_many": "mark every answer that applies, or only „{nowhere}”",
        "many_note": "The answer „{nowhere}” excludes the others.",
        "school": "School / institution", "date": "Date",
        "footer": "Integrated Safety Policy (ZPB) — standard questionnaire",
        "thanks": "Thank you for completing the survey.",
    },
}


def _check(group: str, lang: str) -> str:
    """The group's code (``uczniowie`` → ``students``); raises ValueError for an unknown group or language."""
    group = group_of(group)
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")
    return group


def _nowhere(ref: Reference, lang: str) -> str | None:
    """The label of the places question's exclusive answer („Nigdzie — nie ma takich miejsc”)."""
    o = next((o for o in ref.scales["places"].options if o.exclusive), None)
    return None if o is None else (o.label_pl if lang == "pl" else o.label_en)


def _title(q: Questionnaire, lang: str) -> str:
    return q.title_pl if lang == "pl" else q.title_en


def _questions(ref: Reference, group: str, lang: str) -> list[tuple[int, str, str, Scale, list[str]]]:
    """(number, item id, question text, scale, answer labels) in questionnaire order."""
    out = []
    for n, item in enumerate(ref.questionnaires[group].items, start=1):
        scale = ref.scales[item.scale]
        labels = [o.label_pl if lang == "pl" else o.label_en for o in scale.options]
        out.append((n, item.id, item.text_pl if lang == "pl" else item.text_en, scale, labels))
    return out


def form_markdown(ref: Reference, group: str, lang: str = "pl") -> str:
    """Plain text (Markdown) to set up an online form from: questions, answer labels, instructions."""
    group = _check(group, lang)
    t = TEXT[lang]
    nowhere = _nowhere(ref, lang)
    lines = [f"# {_title(ref.questionnaires[group], lang)}", "", f"## {t['setup_title']}", ""]
    lines += [f"- {s.format(group=t['group'][group], nowhere=nowhere)}" for s in t["setup"]
              if nowhere or "{nowhere}" not in s]
    for n, _, text, scale, labels in _questions(ref, group, lang):
        lines += ["", f"## {n}. {text}", "", f"{t['type']}: {t[scale.kind]}", ""]
        lines += [f"- {label}" for label in labels]
        if scale.kind == "multiple" and nowhere in labels:
            lines += ["", t["many_note"].format(nowhere=nowhere)]
    return "\n".join(lines) + "\n"


def form_rows(ref: Reference, group: str, lang: str = "pl") -> list[list[str]]:
    """One row per question (number, id, type, text, then the answer labels), with a header row."""
    group = _check(group, lang)
    t = TEXT[lang]
    questions = _questions(ref, group, lang)
    width = max(len(q[4]) for q in questions)
    rows = [list(t["csv_header"]) + [f"{t['csv_answer']} {i}" for i in range(1, width + 1)]]
    for n, item_id, text, scale, labels in questions:
        rows.append([str(n), item_id, t[scale.kind], text] + labels + [""] * (width - len(labels)))
    return rows


CSS = """
@page { size: A4; margin: 16mm 16mm 18mm 16mm;
        @bottom-left { content: "@FOOTER@"; font: 8pt "DejaVu Sans", sans-serif; color: #555; }
        @bottom-right { content: counter(page) " / " counter(pages); font: 8pt "DejaVu Sans", sans-serif; color: #555; } }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10.5pt; line-height: 1.35; }
h1 { font-size: 15pt; margin: 0 0 3mm 0; }
p.intro { margin: 0 0 3mm 0; }
p.fill { margin: 0 0 5mm 0; color: #333; }
ol { padding-left: 7mm; margin: 0; }
li.q { margin: 0 0 4mm 0; break-inside: avoid; }
li.q .hint { font-size: 8.5pt; color: #555; }
ul.a { list-style: none; padding: 0; margin: 1.5mm 0 0 0; }
ul.a li { display: inline-block; margin: 0.8mm 7mm 0.8mm 0; white-space: nowrap; }
.box { display: inline-block; width: 3.2mm; height: 3.2mm; border: 0.3mm solid #000; margin-right: 2.2mm;
       vertical-align: -0.4mm; }
.single .box { border-radius: 50%; }
"""


def form_html(ref: Reference, group: str, lang: str = "pl") -> str:
    """A self-contained printable HTML questionnaire (no external resources)."""
    group = _check(group, lang)
    t = TEXT[lang]
    e = html.escape
    nowhere = _nowhere(ref, lang)
    items = []
    for n, _, text, scale, labels in _questions(ref, group, lang):
        if scale.kind == "single":
            hint = f' <span class="hint">({e(t["pick_one"])})</span>'
        elif nowhere in labels:
            hint = f' <span class="hint">({e(t["pick_many"].format(nowhere=nowhere))})</span>'
        else:
            hint = ""
        answers = "".join(f'<li><span class="box"></span>{e(label)}</li>' for label in labels)
        items.append(f'<li class="q {scale.kind}">{e(text)}{hint}<ul class="a">{answers}</ul></li>')
    title = e(_title(ref.questionnaires[group], lang))
    css = CSS.replace("@FOOTER@", t["footer"].replace('"', "'"))
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{css}</style></head><body><h1>{title}</h1>"
            f'<p class="intro">{e(t["intro"])}</p>'
            f'<p class="fill">{e(t["school"])}: ____________________________________ &nbsp; {e(t["date"])}: ____________</p>'
            f'<ol>{"".join(items)}</ol><p>{e(t["thanks"])}</p></body></html>\n')


FORMATS = (".md", ".csv", ".html", ".pdf")


def write_form(group: str, lang: str = "pl", out_dir: str | Path = ".", ref: Reference | None = None,
               formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write ``<questionnaire>-<group>-<lang>`` in ``formats`` (.md, .csv, .html and .pdf) into
    ``out_dir``; returns the files written, in that order."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown form format {unknown[0]!r}; expected one of {', '.join(FORMATS)}")
    ref = ref or reference()
    group = _check(group, lang)
    out = make_folder(out_dir)  # a file in the way, a read-only disk: a FolderError naming it
    stem = f"{TEXT[lang]['file']}-{group}-{lang}"
    paths = {ext: out / f"{stem}{ext}" for ext in FORMATS}
    if ".md" in formats:
        write_text(paths[".md"], form_markdown(ref, group, lang))
    if ".csv" in formats:
        # UTF-8 with a BOM and semicolons: opens with correct letters and columns in Polish (and Dutch) Excel.
        rows = io.StringIO(newline="")
        csv.writer(rows, delimiter=";").writerows(form_rows(ref, group, lang))
        write_text(paths[".csv"], rows.getvalue(), encoding="utf-8-sig")
    page = form_html(ref, group, lang)
    if ".html" in formats:
        write_text(paths[".html"], page)
    if ".pdf" in formats:
        # weasyprint: a second to import; only a printed form needs it
        from weasyprint import HTML

        with atomic_write(paths[".pdf"]) as fh:
            HTML(string=page, base_url=str(out)).write_pdf(target=fh)
    return [paths[ext] for ext in FORMATS if ext in formats]
