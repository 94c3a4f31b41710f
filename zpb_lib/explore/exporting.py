"""The explorer's exports: the table as a workbook with its description, and a report built for
the selection.

A part of :class:`zpb_lib.explore.app.Explorer`, which holds the state these methods share."""
from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pandas as pd

from zpb_lib import store
from zpb_lib.batch.pipeline import BuildOptions, build
from zpb_lib.batch.plan import plan
from zpb_lib.core import fmt
from zpb_lib.core.files import atomic_path
from zpb_lib.core.workbook import literal_cells
from zpb_lib.report import html
from zpb_lib.domain.labels import county_name, labels_for
from zpb_lib.domain.edition_data import (IN_EDITION)
from zpb_lib.explore.views import decision_text
EXPORT_DIR = "eksport"  # under the output folder


class Exporting:
    """The workbook export and the report builds of the explorer."""

    # ------------------------------------------------------------------ export and build
    def export_table(self) -> Path:
        """The current table (every page, current order) to an Excel file; returns its path."""
        rows = self.table_rows()
        frame = self.export_frame(rows)
        sel = self.selection
        folder = self.out / EXPORT_DIR
        folder.mkdir(parents=True, exist_ok=True)
        scope = sel.county or (sel.police_unit.lower() if sel.police_unit else "wojewodztwo")
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = folder / f"placowki-{sel.edition.replace('/', '-')}-{scope}-{stamp}.xlsx"
        i = 2
        while path.exists():
            path = folder / f"placowki-{sel.edition.replace('/', '-')}-{scope}-{stamp}-{i}.xlsx"
            i += 1
        # openpyxl: loaded only when a workbook is written
        from openpyxl.styles import Font


        with atomic_path(path) as tmp:  # a temporary file next to it, then a rename (zpb_lib.core.files)
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                sheet = self.t("explore.sheet_table")
                frame.to_excel(xw, sheet_name=sheet, index=False)
                ws = xw.sheets[sheet]
                ws.freeze_panes = "B2"
                for col_cells in ws.columns:
                    width = max(len(str(c.value)) if c.value is not None else 0 for c in col_cells[:200])
                    ws.column_dimensions[col_cells[0].column_letter].width = min(max(10, width + 2), 60)
                bold = Font(bold=True)
                for c in ws[1]:
                    c.font = bold
                self.about_frame(len(frame)).to_excel(xw, sheet_name=self.t("explore.sheet_about"), index=False,
                                                      header=False)
                xw.sheets[self.t("explore.sheet_about")].column_dimensions["A"].width = 24
                xw.sheets[self.t("explore.sheet_about")].column_dimensions["B"].width = 110
                literal_cells(xw.book)  # names are text, never formulas (zpb_lib.core.workbook), before pandas saves
        self.last_export = path
        self._show_file(self.t("explore.exported", n=fmt.integer(len(frame), self.lang)), path)
        return path

    def export_frame(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The table as values for a spreadsheet: numbers as numbers, dates as dates, labels in
        the explorer's language; suppressed survey figures are empty."""
        lang = self.lang
        statuses, kinds = labels_for("status", lang), labels_for("audit_kind", lang)
        ind = getattr(self.ref.indicators[self.survey_indicator], f"title_{lang}")
        survey = self.t("explore.survey_column", indicator=ind, group=self.t(f"group.{self.group.value}").lower())
        decisions = [decision_text({"kind": k, "granted": g, "award_kind": a, "reasons": r}, lang)
                     if not fmt.is_missing(k) else None
                     for k, g, a, r in zip(rows["audit_kind"], rows["audit_granted"], rows["audit_award_kind"],
                                           rows["audit_reasons"])]
        out = pd.DataFrame({
            self.t("col.identifier"): [int(i) if str(i).isdigit() else str(i) for i in rows["ident"]],
            self.t("col.institution"): rows["name"].to_numpy(),
            self.t("col.in_register"): [None if not fmt.is_missing(p) else self.t("misc.yes" if r else "misc.no")
                                        for p, r in zip(rows["polon"], rows["in_register"])],
            self.t("col.locality"): rows["locality"].to_numpy(),
            self.t("explore.col_teryt"): rows["county"].to_numpy(),
            self.t("col.county"): [county_name(c, lang, self.ref) for c in rows["county"]],
            self.t("col.police_unit"): rows["police_unit_name"].to_numpy(),
            self.t("col.kind"): rows[f"kind_{lang}"].to_numpy(),
            self.t("col.status"): [self._status_text(r, statuses) for r in rows[["status", "via_complex"]].to_dict("records")],
            self.t("col.complex"): [None if fmt.is_missing(c) else int(c) for c in rows["complex_ident"]],
            self.t("col.counted"): [self.t("misc.yes" if c else "misc.no") for c in rows["counted"]],
            self.t("col.joined"): rows["joined_edition"].to_numpy(),
            self.t("col.valid_until"): rows["valid_until"].dt.date.to_numpy(),
            self.t("explore.audit_column"): [kinds.get(k, k) if not fmt.is_missing(k) else None
                                             for k in rows["audit_kind"]],
            self.t("col.audit_date"): rows["audit_audit_date"].dt.date.to_numpy(),
            self.t("col.points"): rows["audit_total"].astype("Int64").to_numpy(),
            self.t("col.max_points"): rows["audit_max_total"].astype("Int64").to_numpy(),
            self.t("col.threshold"): rows["audit_threshold"].astype("Int64").to_numpy(),
            self.t("col.decision"): decisions,
            f"{survey}: {self.t('col.respondents').lower()}": rows["survey_n"].astype("Int64").to_numpy(),
            f"{survey}: {self.t('col.value').lower()}": rows["survey_p"].astype(float).to_numpy(),
            f"{survey}: {self.t('explore.col_ci_low')}": rows["survey_lo"].astype(float).to_numpy(),
            f"{survey}: {self.t('explore.col_ci_high')}": rows["survey_hi"].astype(float).to_numpy(),
        })
        for c in out.columns:
            out[c] = out[c].astype(object).where(out[c].notna(), None)
        return out

    def about_frame(self, n_rows: int) -> pd.DataFrame:
        sel = self.selection
        statuses = labels_for("status", self.lang)
        status = statuses.get(sel.status) or self.t("explore.status_in_edition" if sel.status == IN_EDITION
                                                    else "explore.status_all")
        rows = [(self.t("explore.title"), self.t("title.programme")),
                (self.t("explore.edition"), self.ref.edition(sel.edition).label),
                (self.t("explore.about_filters"), f"{self.scope_text()}; {self.t('explore.status')}: {status}"),
                (self.t("explore.about_rows"), n_rows),
                (self.t("explore.about_as_of"), fmt.date(self.data().cube.meta["as_of"], self.lang)),
                (self.t("explore.about_generated"), fmt.timestamp(dt.datetime.now(), self.lang)),
                (self.t("explore.about_database"), store.display(self.db_path)),
                ("", self.t("explore.about_suppressed", threshold=self.data().threshold)),
                ("", self.t("methodology.text", threshold=self.data().threshold))]
        if self.synthetic:
            rows.insert(0, ("", self.t("banner.synthetic")))
        return pd.DataFrame(rows)

    def build_report(self, kind: str) -> Path | None:
        """Build the HTML report of the selected county (``kind="county"``) or of the institution
        chosen in the drill-down (``kind="school"``) through the normal build; shows a link."""
        sel = self.selection
        if kind == "county":
            key = self.highlighted_county()
            if key is None:
                raise ValueError("choose a county first")
            name, button = county_name(key, self.lang, self.ref), self.build_county_button
            options = dict(only=("county",), counties=(key,))
        elif kind == "school":
            if self.institution.value is None:
                raise ValueError("choose an institution first")
            key = str(self.institution.value)
            names = self.data().cube.frame("institutions").set_index("ident")["name"]
            name, button = str(names.get(key, key)), self.build_institution_button
            options = dict(only=("school",), institutions=(key,))
        else:
            raise ValueError(f"unknown report kind {kind!r} (county or school)")
        self.message.value = html.paragraph(self.t("explore.building", name=name), "zpb-x-status")
        button.disabled = True
        t0 = time.perf_counter()
        try:
            summary = build(BuildOptions(db=str(self.db_path), edition=sel.edition, out=str(self.out),
                                         formats=("html",), lang=self.lang, progress=False, **options), ref=self.ref)
            if summary.failed:
                raise RuntimeError("; ".join(err for _, err in summary.failed))
            job = plan(self.data().cube.frame("institutions"), self.ref, sel.edition, lang=self.lang,
                       **{"only": options["only"], "counties": options.get("counties"),
                          "institutions_wanted": options.get("institutions")})[0]
            path = summary.out_dir / f"{job.stem}.html"
            if not path.exists():
                raise RuntimeError(f"{path} was not written")
        except Exception as exc:  # shown to the analyst; the explorer keeps working
            self.message.value = html.paragraph(self.t("explore.build_failed", name=name, error=str(exc)), "zpb-note")
            return None
        finally:
            button.disabled = False
        self.message.value = ""
        self.last_report = path.resolve()
        self._show_file(self.t("explore.built", seconds=fmt.number(time.perf_counter() - t0, 1, self.lang)),
                        self.last_report)
        return self.last_report

    def _show_file(self, text: str, path: Path) -> None:
        """A link to ``path`` (relative to the kernel's folder, the notebook's, which JupyterLab
        resolves to its own file view) and the full path to copy."""
        path = Path(path).resolve()
        rel = os.path.relpath(path, Path.cwd())
        markup = (f'<p class="zpb-x-file">{html.esc(text)} <a href="{html.esc(rel)}" target="_blank" '
                  f'rel="noopener">{html.esc(self.t("explore.open"))}</a><br><code>{html.esc(str(path))}</code></p>')
        self.links.outputs = ({"output_type": "display_data", "metadata": {},
                               "data": {"text/html": markup, "text/plain": f"{text} {path}"}},)
        self.file_message = markup
