"""What a checked import would store, and what an undo takes back, told in the page's language from
the results' own fields: a survey export's target, columns and every question's answers (by the
answer's own label); an audit protocol's target, points and outcome; a register's changes sheet by
sheet; an RSPO export's changes; an undo's rows. Refusals' problems are shown in Polish too
(:func:`problems_table`). Texts the importers compose in English (what is replaced, an audit's
outcome) are rendered by :func:`zpb_lib.ingest.messages_pl.polish`."""
from __future__ import annotations

from html import escape
from typing import Any

from zpb_lib.core.text import pl_date
from zpb_lib.ingest.messages_pl import polish
from zpb_lib.ingest.register.layout import INSTITUTION_HEADER, REMOVE_HEADER
from zpb_lib.reference import Reference, reference
from zpb_lib.reference.identifiers import label
from zpb_lib.web.texts import TEXTS, t

LISTED = 25  # items listed per kind of change, as the command line lists them; the rest are counted


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


def _said(text: str, lang: str) -> str:
    """A text an importer composed in English, in the page's language."""
    return polish(text) if lang == "pl" else text


def _facts(facts: list[tuple[str, str]]) -> str:
    return "<dl class='zpb-facts'>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts) + "</dl>"


def _items(items: list[str], lang: str, limit: int = LISTED) -> str:
    """A list of the first ``limit`` items and how many more there are ("" when none)."""
    if not items:
        return ""
    shown = [escape(i) for i in items[:limit]]
    if len(items) > limit:
        shown.append(escape(t("sum_more", lang, n=len(items) - limit)))
    return "<ul>" + "".join(f"<li>{i}</li>" for i in shown) + "</ul>"


def _titled(title: str, items: list[str], lang: str, limit: int = LISTED) -> str:
    return f"<p>{escape(title)}:</p>{_items(items, lang, limit)}" if items else ""


def problems_table(problems: list[Any], lang: str) -> str:
    """A refused file's problems, each where it is (sheet, row, column); on the Polish page in Polish,
    with the message as the command line words it beneath when it reads otherwise (what the analyst
    and the guide quote)."""
    rows = []
    for p in problems:
        column = (p.letter or "") + (f" „{p.column}”" if p.column else "")
        text = escape(p.message)
        if lang == "pl" and (pl := p.in_polish()) != p.message:
            text = f"{escape(pl)}<br><small lang='en'>{text}</small>"
        rows.append(f"<tr><td>{escape(p.sheet or '')}</td><td>{escape(str(p.row or ''))}</td>"
                    f"<td>{escape(column)}</td><td>{text}</td></tr>")
    head = "".join(f"<th scope='col'>{escape(t(k, lang))}</th>"
                   for k in ("col_sheet", "col_row", "col_column", "col_problem"))
    return f"<table class='zpb-table'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def audit_summary(result: Any, lang: str) -> str:
    """HTML of an audit protocol's dry run or save (``result``: zpb_lib.ingest.audit.AuditImport)."""
    p = result.protocol
    inst = p.institution
    facts = [
        (t("sum_file", lang), t("sum_audit_file", lang, file=p.path.name, catalogue=p.catalogue.key,
                                  n=len(p.catalogue.criteria))),
        (t("sum_target", lang), t("sum_audit_target", lang, who=f"{inst.label} „{inst.name}”", edition=p.edition,
                                    kind=t(f"audit_{p.kind}", lang), date=pl_date(p.audit_date))),
        (t("sum_points", lang), t("sum_points_of", lang, total=sum(p.points.values()), max=p.catalogue.max_total)),
    ]
    if p.not_scored:
        facts.append((t("sum_not_scored", lang), ", ".join(p.not_scored)))
    replaced = t("sum_would_replace" if result.dry_run else "sum_replaced", lang)
    facts += [(replaced, _said(r, lang)) for r in result.replaced]
    if result.linked:
        facts.append((t("sum_linked", lang), ", ".join(result.linked)))
    return (_facts(facts) + _titled(t("sum_changes", lang), [_said(c, lang) for c in result.changes], lang)
            + _titled(t("sum_outcome", lang), [_said(o, lang) for o in result.outcome], lang))


def register_summary(result: Any, lang: str) -> str:
    """HTML of a register import's dry run or save (``result``: zpb_lib.ingest.register.RegisterImport):
    each sheet's new, changed, removed and unchanged rows, and the rows each change names."""
    rows, lists = [], []
    for s in result.sheets:
        name = f"{s.sheet} ({s.table})"
        if not s.present:
            rows.append(f"<tr><th scope='row'>{escape(name)}</th><td colspan='5'>{escape(t('sum_sheet_absent', lang))}</td></tr>")
            continue
        rows.append(f"<tr><th scope='row'>{escape(name)}</th>" + "".join(
            f"<td>{n}</td>" for n in (len(s.new), len(s.changed), len(s.removed), s.unchanged, s.kept)) + "</tr>")
        lists.append(_titled(f"{s.sheet}: {t('sum_absent', lang, remove=REMOVE_HEADER)}", s.absent, lang))
        for key, items in (("sum_new", s.new), ("sum_changed", s.changed), ("sum_removed", s.removed)):
            lists.append(_titled(f"{s.sheet}: {t(key, lang)}", items, lang))
    head = "".join(f"<th scope='col'>{escape(t(k, lang))}</th>" for k in
                   ("sum_sheet", "sum_new", "sum_changed", "sum_removed", "sum_unchanged", "sum_not_in_file"))
    table = (f"<table class='zpb-table'><caption>{escape(t('sum_register', lang))}</caption><thead><tr>{head}"
             f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    if result.unmatched:
        first = result.unmatched[0]
        lists.append(_titled(t("sum_unmatched", lang, column=first.column, header=INSTITUTION_HEADER),
                             [t("sum_row", lang, row=u.row, line=u.line) for u in result.unmatched], lang))
    facts = [(t("sum_unlinked", lang), str(result.unlinked_awards))] if result.unlinked_awards else []
    nothing = (f"<p>{escape(t('sum_nothing_new', lang))}</p>"
               if not (result.inserted + result.updated + result.removed) else "")
    return table + "".join(lists) + (_facts(facts) if facts else "") + nothing


def _counted(counts: Any) -> str:
    """„Technikum 3, Liceum 2”: most first."""
    return ", ".join(f"{k} {n}" for k, n in counts.most_common())


def institutions_summary(result: Any, lang: str, ref: Reference | None = None) -> str:
    """HTML of an RSPO export's or universities list's dry run or save (``result``:
    zpb_lib.ingest.institutions.InstitutionsImport): what is read, and what changes."""
    ref = ref or reference()
    f, plan = result.file, result.plan
    rspo = f.source == "rspo"

    def who(ident: object, name: str) -> str:
        return f"{label(ident, None) if rspo else label(None, ident)} „{name}”"

    def place(values: dict[str, Any]) -> str:
        county = ref.counties.get(values.get("county"))
        return f"{county.name if county else values.get('county')}, {values.get('locality')}"

    facts = [(t("sum_file", lang), f.path.name), (t("sum_format", lang), f.format),
             (t("sum_rows_read", lang), str(f.rows_read))]
    if rspo:
        facts.append((t("sum_in_voivodeship", lang), str(f.in_voivodeship)))
        if f.skipped:
            per = ", ".join(f"{v} {n}" for v, n in sorted(f.skipped.items(), key=lambda kv: (-kv[1], kv[0])))
            facts.append((t("sum_other_voivodeships", lang), f"{sum(f.skipped.values())} ({per})"))
        if f.out_of_scope:
            facts.append((t("sum_out_of_scope", lang), _counted(f.out_of_scope)))
        if f.unknown:
            facts.append((t("sum_unknown_types", lang), _counted(f.unknown)))
        facts.append((t("sum_in_scope", lang), str(len(f.records))))
    columns = result.other_columns()
    facts += [(t("sum_inst_new", lang), str(len(plan.new))), (t("sum_renamed", lang), str(len(result.renamed))),
              (t("sum_moved", lang), str(len(result.moved))),
              (t("sum_other_changes", lang), str(len(result.other)) + (f" ({_counted(columns)})" if columns else ""))]
    if result.back:
        facts.append((t("sum_back", lang), str(len(result.back))))
    facts += [(t("sum_gone", lang), str(len(plan.gone))), (t("sum_unchanged", lang), str(plan.unchanged))]
    renamed = [f"{who(u.record.ident, u.old['name'])} → „{u.record.values['name']}”" for u in result.renamed]
    moved = [f"{who(u.record.ident, u.record.values['name'])}: {place(dict(u.record.values, **u.old))} → "
             f"{place(u.record.values)}" for u in result.moved]
    gone = [who(g[1], g[2]) for g in plan.gone]
    shown = 20  # as the command line lists them
    return (_facts(facts) + _titled(t("sum_renamed", lang), renamed, lang, shown)
            + _titled(t("sum_moved", lang), moved, lang, shown) + _titled(t("sum_gone", lang), gone, lang, shown))


def undo_summary(result: Any, lang: str) -> str:
    """HTML of an undo or its dry run (``result``: zpb_lib.store.history.UndoResult or ChainResult):
    each import taken back, the rows it deleted, restored and put back."""
    steps = getattr(result, "results", None) or [result]
    out = ""
    if hasattr(result, "results"):
        others = ", ".join(f"#{r.record.id}" for r in steps if r.record.id != result.import_id) or "—"
        out += f"<p>{escape(t('sum_undo_chain', lang, id=result.import_id, others=others))}</p>"
    for r in steps:
        rec, dry = r.record, result.dry_run

        def tables(counts: dict[str, int]) -> str:
            return ", ".join(f"{n} {table}" for table, n in counts.items() if n)

        facts = [(t("sum_would_delete" if dry else "sum_deleted", lang), tables(r.deleted) or t("sum_no_rows", lang))]
        if any(r.restored.values()):
            facts.append((t("sum_would_restore" if dry else "sum_restored", lang), tables(r.restored)))
        if any(r.put_back.values()):
            facts.append((t("sum_would_put_back" if dry else "sum_put_back", lang), tables(r.put_back)))
        kind = t(f"import_{rec.kind}", lang) if f"import_{rec.kind}" in TEXTS else rec.kind
        out += (f"<p>{escape(t('sum_undo_import', lang, id=rec.id, kind=kind, file=rec.file_name, when=rec.imported_at[:19]))}"
                f"</p>{_facts(facts)}")
    if result.dry_run:
        out += f"<p>{escape(t('sum_undo_dry', lang))}</p>"
    return out
