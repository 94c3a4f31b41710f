"""What a checked survey export would store, told in the page's language: the target, the columns
read and left out, and for every question how many respondents gave each answer (by the answer's
own label). Other importers' summaries are their command-line lines (in English)."""
from __future__ import annotations

from html import escape
from typing import Any

from zpb_lib.reference import Reference, reference
from zpb_lib.web.texts import t


def _question(ref: Reference, group: str, column: str, lang: str) -> tuple[str, dict[Any, str]]:
    """A stored answer column's question text and its value labels (a place: the question and the
    place's own label, values 0/1 as no/yes)."""
    items = ref.questionnaires[group].items
    for item in items:
        scale = ref.scales[item.scale]
        text = item.text_pl if lang == "pl" else item.text_en
        if item.id == column:
            return text, {o.value: (o.label_pl if lang == "pl" else o.label_en) for o in scale.options
                          if o.value is not None}
        for o in scale.options:
            if o.code and column == f"place_{o.code}":
                return f"{text} — {o.label_pl if lang == 'pl' else o.label_en}", {0: t("no", lang), 1: t("yes", lang)}
    return column, {}


def survey_summary(result: Any, lang: str, ref: Reference | None = None) -> str:
    """HTML of a survey import's dry run or save (``result``: zpb_lib.ingest.survey.SurveyImport)."""
    ref = ref or reference()
    f, inst = result.file, result.institution
    facts = [
        (t("sum_file", lang), f"{f.path.name} ({f.format})"),
        (t("sum_target", lang), f"{inst.label} „{inst.name}”, {result.edition}, {t(f.group, lang)}, {t(result.wave, lang)}"),
        (t("sum_responses", lang), str(result.rows)),
        (t("sum_matched", lang), str(len(f.matched))),
    ]
    if f.personal:
        facts.append((t("sum_personal", lang), ", ".join(f"„{h}”" for h in f.personal)))
    if f.metadata or f.other:
        facts.append((t("sum_ignored", lang), ", ".join(f"„{h}”" for h in [*f.metadata, *f.other])))
    if f.blank_rows:
        facts.append((t("sum_blank", lang), str(f.blank_rows)))
    if f.skipped_rows:
        facts.append((t("sum_skipped", lang), ", ".join(str(r) for r in f.skipped_rows)))
    if result.replaced:
        facts.append((t("sum_replaced", lang), "; ".join(result.replaced)))
    if result.kept:
        facts.append((t("sum_kept", lang), str(result.kept)))
    dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    rows = []
    for column, counts in result.distribution().items():
        text, labels = _question(ref, f.group, column, lang)
        answered = sorted((k for k in counts if k is not None))
        shown = "; ".join(f"{labels.get(k, k)}: {counts[k]}" for k in answered)
        rows.append(f"<tr><th scope='row'>{escape(text)}</th><td>{escape(shown)}</td>"
                    f"<td>{counts.get(None, 0)}</td></tr>")
    table = (f"<table class='zpb-table'><caption>{escape(t('sum_answers', lang))}</caption><thead><tr>"
             f"<th scope='col'>{escape(t('sum_question', lang))}</th><th scope='col'>{escape(t('sum_counts', lang))}</th>"
             f"<th scope='col'>{escape(t('sum_empty', lang))}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")
    return f"<dl class='zpb-facts'>{dl}</dl>{table}"
