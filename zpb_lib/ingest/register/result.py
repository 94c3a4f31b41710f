"""What a register import brings, sheet by sheet, and the summary `zpb ingest register` prints."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from zpb_lib.core.wording import count, plural
from zpb_lib.ingest.register.layout import INSTITUTION_HEADER, REMOVE_HEADER
from zpb_lib.ingest.register.read import Unmatched


@dataclass
class SheetResult:
    """What one sheet of the register brings: new, changed, removed and unchanged rows, the stored
    rows the file does not mention (kept as they are), and rows marked „Usuń” that are not stored."""
    sheet: str
    table: str
    present: bool
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept: int = 0

    def counts(self) -> dict[str, int]:
        out = {"new": len(self.new), "changed": len(self.changed), "unchanged": self.unchanged, "kept": self.kept}
        if self.removed:
            out["removed"] = len(self.removed)
        return out


@dataclass
class RegisterImport:
    path: Path
    dry_run: bool
    sheets: list[SheetResult]
    editions: list[str]  # editions the file's rows name, latest last
    import_id: int | None = None
    unlinked_awards: int = 0  # awards with no audit of their edition that can give them
    unmatched: list[Unmatched] = field(default_factory=list)  # list items left without an institution

    @property
    def inserted(self) -> int:
        return sum(len(s.new) for s in self.sheets)

    @property
    def updated(self) -> int:
        return sum(len(s.changed) for s in self.sheets)

    @property
    def removed(self) -> int:
        return sum(len(s.removed) for s in self.sheets)

    def lines(self, limit: int = 25) -> list[str]:
        out = [f"{self.path.name}: programme register"]
        for s in self.sheets:
            if not s.present:
                out.append(f"  {s.sheet} ({s.table}): not in the file; stored rows left as they are")
                continue
            removed = f"{len(s.removed)} removed, " if s.removed else ""
            out.append(f"  {s.sheet} ({s.table}): {len(s.new)} new, {len(s.changed)} changed, {removed}{s.unchanged} "
                       f"unchanged; {count(s.kept, 'stored row')} not in the file, kept as they are")
            out.extend(f"    marked „{REMOVE_HEADER}” but not in the database (removed before?), nothing to "
                       f"remove: {item}" for item in s.absent[:limit])
            for word, items in (("new", s.new), ("changed", s.changed), ("removed", s.removed)):
                out.extend(f"    {word}: {item}" for item in items[:limit])
                if len(items) > limit:
                    out.append(f"    … and {len(items) - limit} more {word}")
        out += self._unmatched_lines(limit)
        if self.unlinked_awards:
            n = self.unlinked_awards
            out.append(f"  {count(n, 'award')} {plural('has', n)} no audit of their edition that can give "
                       f"{'it' if n == 1 else 'them'}; {'it is' if n == 1 else 'they are'} stored as the register "
                       "says (`zpb db check` lists them as notes, and lists as problems those that contradict the "
                       "rules)")
        edition = self.editions[-1] if self.editions else None
        build = f"zpb build --edition {edition}" if edition else "zpb build"
        changes = self.inserted + self.updated + self.removed
        if self.dry_run and not changes:
            out.append("dry run: nothing was stored, and there is nothing to store: the database already holds "
                       "this register")
        elif self.dry_run:
            rows = plural("row", self.inserted + self.updated)
            removed = f", and {count(self.removed, 'row')} removed" if self.removed else ""
            out.append(f"dry run: nothing was stored ({self.inserted} new and {self.updated} changed {rows} would be"
                       f"{removed}); to store them run `zpb ingest register {self.path}` without --dry-run")
        elif not changes:
            out.append(f"stored nothing new: the database already holds this register (import #{self.import_id} "
                       f"recorded); next: build the reports: {build}")
        else:
            rows = plural("row", self.inserted + self.updated)
            removed = f" and removed {count(self.removed, 'row')}" if self.removed else ""
            out.append(f"stored {self.inserted} new and {self.updated} changed {rows}{removed} as import "
                       f"#{self.import_id} (undo: zpb imports undo {self.import_id})")
            out.append(f"next: check the awards against the rules and audits (zpb db check), then build the "
                       f"reports: {build}")
        return out

    def _unmatched_lines(self, limit: int) -> list[str]:
        """Items of a published list the reviewer left without an institution: where they are and how
        to store them."""
        if not self.unmatched:
            return []
        n, first = len(self.unmatched), self.unmatched[0]
        out = [f"  {first.sheet}: {count(n, 'item')} of the published list without an institution, not stored:"]
        out += [f"    row {u.row}: {u.line}" for u in self.unmatched[:limit]]
        if n > limit:
            out.append(f"    … and {n - limit} more")
        out.append(f"    to store {'it' if n == 1 else 'them'}, write the school's RSPO number in column {first.column} "
                   f"„{INSTITUTION_HEADER}” (`zpb institutions find NAME` finds it) and import the workbook again; "
                   "an item that is no award can stay as it is")
        return out
