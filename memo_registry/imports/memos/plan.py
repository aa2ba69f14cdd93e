"""Step 5 of the memo import: what importing the file will change.

Each memo of the file is compared with the list's memo of the same canonical
文号 (every value normalised, measures and divisions included): new, update
or skip.  A dry run stops at the plan.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from measures.models import Division
from memo_registry.imports.errors import ErrorList
from memo_registry.imports.memos.parse import (
    DEFINITION,
    DEPARTMENTS,
    IMPLEMENTING,
    KIND,
    LABEL,
    MEASURES,
    REPEALED_ON,
    SEQ,
    STATUS,
    TITLE,
    MemoData,
)
from memo_registry.lib.spreadsheet import Sheet
from memo_registry.lib.text import label_from_title, search_key
from memos.models import Department, Memorandum, ResponsibilityList

# --- the plan --------------------------------------------


@dataclass
class MemoPlan:
    """One memo of the file and what importing it does: new, update or skip."""

    data: MemoData
    memo: Memorandum | None
    label: str
    status: str
    repealed_on: datetime.date | None
    changes: list[str]
    measures_created: int = 0
    measures_updated: int = 0
    measures_deleted: int = 0
    #: The measures whose legal bases (实施依据) the file changes.
    bases_changed: int = 0
    #: The memo as written, once the plan has been carried out.
    written: Memorandum | None = None

    @property
    def action(self) -> str:
        if self.memo is None:
            return "new"
        return "update" if self.changes else "skip"


@dataclass
class ImportPlan:
    """What importing a file into a list will do; a dry run shows only this."""

    file_name: str
    sha256: str
    responsibility_list: ResponsibilityList
    memos: list[MemoPlan]
    not_in_file: list[Memorandum]
    new_departments: list[str]
    new_divisions: list[str]

    def count(self, action: str) -> int:
        return sum(1 for memo in self.memos if memo.action == action)

    def counts(self) -> dict[str, int]:
        """The numbers the summary and the ImportBatch record give."""
        return {
            "memos_created": self.count("new"),
            "memos_updated": self.count("update"),
            "memos_unchanged": self.count("skip"),
            "memos_not_in_file": len(self.not_in_file),
            "measures_created": sum(memo.measures_created for memo in self.memos),
            "measures_updated": sum(memo.measures_updated for memo in self.memos),
            "measures_deleted": sum(memo.measures_deleted for memo in self.memos),
            "departments_created": len(self.new_departments),
            "divisions_created": len(self.new_divisions),
        }

    def summary(self, *, dry_run: bool = False) -> list[str]:
        """The summary printed by the command and shown by the admin, in Chinese."""
        c = self.counts()
        lines = [
            f"文件 {self.file_name} → {self.responsibility_list.doc_number}"
            f"{'（试运行，未写入任何数据）' if dry_run else ''}",
            f"备忘录：新建 {c['memos_created']} 项，更新 {c['memos_updated']} 项，"
            f"未变 {c['memos_unchanged']} 项。",
            f"措施：新建 {c['measures_created']} 条，修改 {c['measures_updated']} 条，"
            f"删除 {c['measures_deleted']} 条。",
            f"新建部门 {c['departments_created']} 个，新建责任处室 {c['divisions_created']} 个。",
        ]
        bases_changed = sum(memo.bases_changed for memo in self.memos)
        if bases_changed:
            lines.append(f"实施依据：{bases_changed} 条措施的实施依据有变化。")
        if self.not_in_file:
            named = "、".join(memo.doc_number for memo in self.not_in_file[:10])
            more = " 等" if len(self.not_in_file) > 10 else ""
            lines.append(
                f"文件未提及清单中的 {len(self.not_in_file)} 项备忘录（{named}{more}）："
                "它们保持不变；如已失效，请在管理后台标为已废止。"
            )
        return lines


class _Registry:
    """What the registry already holds, read once, looked up by normalised name."""

    def __init__(self, responsibility_list: ResponsibilityList):
        memos = Memorandum.objects.of_list(responsibility_list).with_relations().order_by("seq")
        self.memos = {memo.doc_number: memo for memo in memos}
        self.departments = {search_key(d.name): d for d in Department.objects.all()}
        self.divisions = {search_key(d.name): d for d in Division.objects.all()}


def _memo_state(memo: Memorandum) -> dict[str, object]:
    measures = sorted(memo.measures.all(), key=lambda m: m.order)
    return {
        SEQ: memo.seq,
        TITLE: memo.title,
        KIND: memo.kind,
        DEPARTMENTS: frozenset(search_key(d.name) for d in memo.initiating_departments.all()),
        DEFINITION: memo.target_subject.definition,
        LABEL: memo.target_subject.label,
        IMPLEMENTING: search_key(memo.implementing_department.name),
        MEASURES: _measure_state((m.text, [d.name for d in m.divisions.all()]) for m in measures),
        "无相关职能": memo.no_function_note if memo.no_function else None,
        STATUS: memo.status,
        REPEALED_ON: memo.repealed_on,
    }


def _measure_state(measures: Iterable[tuple[str, Iterable[str]]]) -> tuple:
    return tuple((text, frozenset(search_key(name) for name in names)) for text, names in measures)


def _desired_state(
    data: MemoData, label: str, status: str, repealed_on: datetime.date | None
) -> dict[str, object]:
    return {
        SEQ: data.seq,
        TITLE: data.title,
        KIND: data.kind,
        DEPARTMENTS: frozenset(search_key(name) for name in data.departments),
        DEFINITION: data.definition,
        LABEL: label,
        IMPLEMENTING: search_key(data.implementing),
        MEASURES: _measure_state(data.measures),
        "无相关职能": data.no_function_note or None,
        STATUS: status,
        REPEALED_ON: repealed_on,
    }


def _describe(name: str, before: object, after: object) -> str:
    if name == SEQ:
        return f"序号 {before}→{after}"
    if name == MEASURES:
        return f"奖惩措施/责任处室（{len(before)}→{len(after)} 条）"
    return name


def _bases_state(bases_per_measure) -> tuple:
    return tuple(tuple((b.level, b.title, b.article) for b in bases) for bases in bases_per_measure)


def _bases_changed(data: MemoData, memo: Memorandum | None) -> int:
    """How many of the file's measures get other legal bases than they have
    (none when the file has no 实施依据 column: the measures keep theirs)."""
    if data.bases is None:
        return 0
    measures = sorted(memo.measures.all(), key=lambda m: m.order) if memo else []
    before = _bases_state(m.legal_basis.all() for m in measures)
    after = _bases_state(data.bases)
    return sum(
        1 for n, wanted in enumerate(after) if (before[n] if n < len(before) else ()) != wanted
    )


def _plan_memo(data: MemoData, memo: Memorandum | None) -> MemoPlan:
    plan = _plan_memo_fields(data, memo)
    plan.bases_changed = _bases_changed(data, memo)
    if memo is not None and plan.bases_changed:
        plan.changes.append(f"实施依据（{plan.bases_changed} 条措施）")
    return plan


def _plan_memo_fields(data: MemoData, memo: Memorandum | None) -> MemoPlan:
    if memo is None:
        label = data.label or label_from_title(data.title)
        status = data.status or Memorandum.Status.IN_FORCE
        repealed_on = data.repealed_on
        plan = MemoPlan(data, None, label, status, repealed_on, changes=[])
        plan.measures_created = len(data.measures)
        return plan
    # What the file does not say, an existing memo keeps.
    label = data.label or memo.target_subject.label
    status = data.status or memo.status
    repealed_on = data.repealed_on if data.status else memo.repealed_on
    before = _memo_state(memo)
    after = _desired_state(data, label, status, repealed_on)
    changes = [
        _describe(name, before[name], after[name]) for name in after if before[name] != after[name]
    ]
    plan = MemoPlan(data, memo, label, status, repealed_on, changes)
    old, new = before[MEASURES], after[MEASURES]
    plan.measures_updated = sum(1 for a, b in zip(old, new, strict=False) if a != b)
    plan.measures_created = max(0, len(new) - len(old))
    plan.measures_deleted = max(0, len(old) - len(new))
    return plan


def _new_names(names: Iterable[str], existing: dict[str, object]) -> list[str]:
    new: dict[str, str] = {}
    for name in names:
        key = search_key(name)
        if key not in existing and key not in new:
            new[key] = name
    return list(new.values())


def make_plan(
    memos: list[MemoData], sheet: Sheet, responsibility_list: ResponsibilityList
) -> ImportPlan:
    """Step 5: compare the file's memos with the list; ImportFailed if they cannot fit."""
    registry = _Registry(responsibility_list)
    plans = [_plan_memo(data, registry.memos.get(data.doc_number)) for data in memos]
    in_file = {data.doc_number for data in memos}
    not_in_file = [memo for doc, memo in registry.memos.items() if doc not in in_file]
    _check_seqs_held_by_others(memos, not_in_file, sheet.file_name)
    departments = [name for data in memos for name in (*data.departments, data.implementing)]
    divisions = [name for data in memos for _, names in data.measures for name in names]
    return ImportPlan(
        file_name=sheet.file_name,
        sha256=sheet.sha256,
        responsibility_list=responsibility_list,
        memos=plans,
        not_in_file=not_in_file,
        new_departments=_new_names(departments, registry.departments),
        new_divisions=_new_names(divisions, registry.divisions),
    )


def _check_seqs_held_by_others(
    memos: list[MemoData], not_in_file: list[Memorandum], file_name: str
) -> None:
    # Memos the file does not mention keep their 序号; the file cannot give it
    # to another memo (the 序号 of the memos in force are unique).  A repealed
    # memo holds none: its number may go to a new memo.
    held = {memo.seq: memo for memo in not_in_file if memo.is_in_force}
    errors = ErrorList(file_name)
    for data in memos:
        other = held.get(data.seq)
        if other is not None:
            errors.add(
                f"序号 {data.seq} 已属于清单中的另一项备忘录（{other.doc_number}），"
                "而文件中没有那一项；请改用其他序号，或把那一项也列入文件。",
                data.row,
                SEQ,
            )
    errors.raise_if_any()
