"""Step 6 of the memo import: the plan written, once.

The caller holds the transaction (``run_import``); this module only saves.
Departments, divisions and target subjects are matched by normalised name
before anything is created, so none is ever duplicated.
"""

from django.db.models import Count, F
from django.utils import timezone

from measures.models import Division, LegalBasis, Measure
from memo_registry.audit.history import BATCH, history_deferred, record_history
from memo_registry.audit.models import ImportBatch
from memo_registry.imports.memos.parse import MemoData
from memo_registry.imports.memos.plan import ImportPlan, MemoPlan
from memo_registry.lib.text import search_key, squeeze
from memo_registry.services.legal_basis import replace_bases
from memos.models import Department, Memorandum
from subjects.models import TargetSubject

# --- the writer ----------------------------------------------------


class _Writer:
    """Writes a plan: departments, divisions and subjects matched before created."""

    def __init__(self, plan: ImportPlan, batch: ImportBatch):
        self.plan = plan
        self.batch = batch
        # Shown in each object's history next to the change the import made.
        self.reason = f"批量导入：{batch.file_name}"[:100]
        self.departments = {search_key(d.name): d for d in Department.objects.all()}
        self.divisions = {search_key(d.name): d for d in Division.objects.all()}
        self.subjects: dict[tuple[str, str], TargetSubject] = {}
        for subject in TargetSubject.objects.order_by("-pk"):
            self.subjects[(subject.label, subject.definition)] = subject  # lowest pk wins
        self.subjects_created: list[TargetSubject] = []
        self.memos_created: list[Memorandum] = []
        self.memos_changed: list[Memorandum] = []
        self.measures_created: list[Measure] = []
        self.new_divisions: list[list[Division]] = []  # of each measure in measures_created
        self.measures_changed: list[Measure] = []
        # A memo added to a list that already has memos takes effect on the
        # day of the import (issue 14); a list's own memos on its 发文日期.
        listed = self.plan.responsibility_list
        self.list_had_memos = bool(listed.pk) and listed.memos.exists()
        self.subject_use = dict(
            Memorandum.objects.order_by().values_list("target_subject").annotate(n=Count("pk"))
        )

    def department(self, name: str) -> Department:
        key = search_key(name)
        if key not in self.departments:
            self.departments[key] = Department.objects.create(name=name)
        return self.departments[key]

    def division(self, name: str) -> Division:
        key = search_key(name)
        if key not in self.divisions:
            self.divisions[key] = Division.objects.create(name=name)
        return self.divisions[key]

    def subject(self, memo_plan: MemoPlan) -> TargetSubject:
        """The target subject of (label, definition): the memo's own, a matching one, or new."""
        key = (squeeze(memo_plan.label), memo_plan.data.definition)
        memo = memo_plan.memo
        current = memo.target_subject if memo is not None else None
        if current is not None and (current.label, current.definition) == key:
            return current
        if key in self.subjects:
            subject = self.subjects[key]
        elif current is not None and self.subject_use.get(current.pk) == 1:
            # Used by this memo alone: corrected in place rather than orphaned.
            self.subjects.pop((current.label, current.definition), None)
            subject = current
            subject.label, subject.definition = key
            subject.save()
        else:
            # Written with the other new subjects, all at once, by write().
            subject = TargetSubject(label=key[0], definition=key[1])
            subject.tidy()
            self.subjects_created.append(subject)
        self.subjects[key] = subject
        # Kept up to date so that a subject two memos now share is never
        # "corrected in place" for one of them.
        if current is not None and subject.pk != current.pk:
            self.subject_use[current.pk] = self.subject_use.get(current.pk, 1) - 1
        if subject.pk is not None and (current is None or subject.pk != current.pk):
            self.subject_use[subject.pk] = self.subject_use.get(subject.pk, 0) + 1
        return subject

    def write(self) -> None:
        """Write the plan in a fixed number of statements per kind of object.

        Memos are filled in first (which finds or makes their subjects,
        departments and divisions), then written: new subjects, memos and
        measures with ``bulk_create``, changed ones one by one, and one
        history row for each in bulk at the end.  Saving each through
        simple-history would cost two history rows and a dozen queries per
        measure: 196 s for 5,000 memos instead of a few seconds.
        """
        self._free_seqs()
        plans = [memo_plan for memo_plan in self.plan.memos if memo_plan.action != "skip"]
        for memo_plan in plans:
            self._fill_memo(memo_plan)
        TargetSubject.objects.bulk_create(self.subjects_created, batch_size=BATCH)
        for memo in self.memos_changed:
            with history_deferred(memo):
                memo.save()
        for memo in self.memos_created:
            memo.tidy()
        Memorandum.objects.bulk_create(self.memos_created, batch_size=BATCH)
        new_links = []
        for memo_plan in plans:
            memo = memo_plan.written
            wanted = [self.department(name) for name in memo_plan.data.departments]
            if memo_plan.memo is None:
                new_links += [(memo, department) for department in wanted]
            elif {d.pk for d in wanted} != {d.pk for d in memo.initiating_departments.all()}:
                with history_deferred(memo):
                    memo.initiating_departments.set(wanted)
            self._write_measures(memo, memo_plan.data, existing=memo_plan.memo is not None)
        through = Memorandum.initiating_departments.through
        through.objects.bulk_create(
            [through(memorandum_id=m.pk, department_id=d.pk) for m, d in new_links],
            batch_size=BATCH,
        )
        self._create_measures()
        self._write_bases([memo_plan for memo_plan in self.plan.memos if memo_plan.bases_changed])
        for model, created, changed in (
            (TargetSubject, self.subjects_created, ()),
            (Memorandum, self.memos_created, self.memos_changed),
            (Measure, self.measures_created, self.measures_changed),
        ):
            record_history(model, created, changed, reason=self.reason, user=self.batch.user)

    def _free_seqs(self) -> None:
        # Memos that change their 序号 are first moved past every 序号 in use,
        # so that two memos can swap places without breaking (list, seq).
        moving = [p.memo for p in self.plan.memos if p.memo and p.memo.seq != p.data.seq]
        if not moving:
            return
        top = max(
            [*(p.data.seq for p in self.plan.memos), *(m.seq for m in self.plan.not_in_file)],
            default=0,
        )
        top = max(top, *(memo.seq for memo in moving))
        # Each is saved again below (which raises its version from the row as
        # it stands); the version moves here too, as in every write of a memo
        # (memo_registry/lib/versioning.py).
        for offset, memo in enumerate(moving, 1):
            Memorandum.objects.filter(pk=memo.pk).update(seq=top + offset, version=F("version") + 1)

    def _fill_memo(self, memo_plan: MemoPlan) -> None:
        """Set a memo's fields from the file (unsaved), as ``memo_plan.written``."""
        data = memo_plan.data
        memo = memo_plan.memo or Memorandum(responsibility_list=self.plan.responsibility_list)
        memo.seq = data.seq
        memo.doc_number = data.doc_number
        memo.title = data.title
        memo.kind = data.kind
        memo.target_subject = self.subject(memo_plan)
        memo.implementing_department = self.department(data.implementing)
        memo.no_function = bool(data.no_function_note)
        memo.no_function_note = data.no_function_note
        memo.status = memo_plan.status
        memo.repealed_on = memo_plan.repealed_on
        memo.import_batch = self.batch
        if memo.pk is None and self.list_had_memos and memo.effective_on is None:
            memo.effective_on = timezone.localdate()
        (self.memos_changed if memo.pk else self.memos_created).append(memo)
        memo_plan.written = memo

    def _write_measures(self, memo: Memorandum, data: MemoData, existing: bool) -> None:
        # Existing measures are reused in order (an unchanged one is left
        # alone), new ones added after them, the rest deleted.  New measures
        # wait for _create_measures, which writes them all at once.
        current = sorted(memo.measures.all(), key=lambda m: m.order) if existing else []
        for order, (text, names) in enumerate(data.measures, 1):
            divisions = [self.division(name) for name in names]
            measure = current[order - 1] if order <= len(current) else None
            if measure is None:
                new = Measure(memo=memo, order=order, text=text, import_batch=self.batch)
                new.tidy()
                self.measures_created.append(new)
                self.new_divisions.append(divisions)
                continue
            if (
                measure.order == order
                and measure.text == text
                and {d.pk for d in measure.divisions.all()} == {d.pk for d in divisions}
            ):
                continue
            measure.order, measure.text, measure.import_batch = order, text, self.batch
            with history_deferred(measure):
                measure.save()
                measure.divisions.set(divisions)
            self.measures_changed.append(measure)
        for measure in current[len(data.measures) :]:
            measure._change_reason = self.reason
            measure.delete()

    def _write_bases(self, plans: list[MemoPlan]) -> None:
        """The legal bases the file gives the measures, where they differ.

        A measure with none yet gets its bases in one ``bulk_create`` for all;
        one that had others has them replaced row by row, each change in the
        history (``memo_registry.services.legal_basis.replace_bases``).
        """
        if not plans:
            return
        wanted = {memo_plan.written.pk: memo_plan.data.bases for memo_plan in plans}
        measures = Measure.objects.filter(memo_id__in=wanted).prefetch_related("legal_basis")
        created = []
        for measure in measures.order_by("memo_id", "order"):
            bases = wanted[measure.memo_id]
            target = bases[measure.order - 1] if measure.order <= len(bases) else ()
            current = sorted(measure.legal_basis.all(), key=lambda b: (b.order, b.pk))
            if not current:
                created += [
                    LegalBasis(
                        measure=measure, order=n, level=b.level, title=b.title, article=b.article
                    )
                    for n, b in enumerate(target, 1)
                ]
            else:
                replace_bases(measure, target, reason=self.reason, user=self.batch.user)
        LegalBasis.objects.bulk_create(created, batch_size=BATCH)
        record_history(LegalBasis, created, reason=self.reason, user=self.batch.user)

    def _create_measures(self) -> None:
        created = Measure.objects.bulk_create(self.measures_created, batch_size=BATCH)
        through = Measure.divisions.through
        through.objects.bulk_create(
            [
                through(measure_id=measure.pk, division_id=division.pk)
                for measure, divisions in zip(created, self.new_divisions, strict=True)
                for division in divisions
            ],
            batch_size=BATCH,
        )


def write_plan(plan: ImportPlan, batch: ImportBatch) -> None:
    """Write a plan; every memo and measure created or changed points at ``batch``."""
    _Writer(plan, batch).write()
