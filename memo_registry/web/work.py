"""处室待办 ``/work/``: the items of the signed-in user's divisions.

Overdue first, then by due date; filters by division, state, list and
listing dates; 50 a page; the same view as xlsx; a form on each open item
records feedback without leaving the page, and a done item's feedback can
be withdrawn (its item opens again).  The items are
``memo_registry.services.work``'s query; the rules of a report are
Feedback.clean()'s.
"""

from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Subquery, Value
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from measures.models import Division, Feedback, WorkSeen
from memo_registry.lib.spreadsheet.writer import XLSX_CONTENT_TYPE, xlsx_table
from memo_registry.services import feedback as feedback_service
from memo_registry.services import work, work_tally
from memo_registry.web.work_nav import remember_divisions

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 20_000
ACTIVE = "active"
EXPORT_HEADERS = [
    "状态",
    "名称",
    "代码",
    "名单",
    "列入日期",
    "文号",
    "措施",
    "责任处室",
    "开始日期",
    "反馈期限",
    "剩余天数（负数为超期）",
    "反馈日期",
]
STATE_CHOICES = [(ACTIVE, "待反馈和已超期"), *work.STATES.items(), ("all", "全部")]


def _staff(view):
    return login_required(permission_required("subjects.view_subject", raise_exception=True)(view))


# When the user last opened the list, not known yet.
UNKNOWN = object()


def division_choices(user) -> tuple[list, list[int], object]:
    """The divisions the user may look at (their own; administrators: any)
    as choices, the ids of their own, and when the user last opened the
    list (None: never; UNKNOWN when there is no division): one query."""
    queryset = Division.objects.order_by("name").annotate(
        seen=Subquery(WorkSeen.objects.filter(user=user.pk).values("seen_at")[:1])
    )
    if user.has_perm("measures.record_any_division"):
        queryset = queryset.annotate(
            is_member=Exists(
                Division.members.through.objects.filter(division_id=OuterRef("pk"), user_id=user.pk)
            )
        )
    else:
        queryset = queryset.filter(members=user).annotate(is_member=Value(True))
    rows = list(queryset.values_list("pk", "name", "is_member", "seen"))
    seen = rows[0][3] if rows else UNKNOWN
    return [(pk, name) for pk, name, *_ in rows], [pk for pk, _, member, _ in rows if member], seen


class WorkFilter(forms.Form):
    division = forms.TypedChoiceField(label="处室", coerce=int, required=False, empty_value=None)
    state = forms.ChoiceField(label="状态", choices=STATE_CHOICES, required=False)
    list = forms.CharField(label="名单", max_length=100, required=False)
    listed_from = forms.DateField(
        label="列入日期自", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    listed_to = forms.DateField(
        label="至", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, divisions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].choices = [("", "本人所在处室"), *divisions]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("listed_from"), cleaned.get("listed_to")
        if start and end and start > end:
            self.add_error("listed_to", "“至”的日期不能早于“列入日期自”。")
        return cleaned

    @property
    def is_default(self) -> bool:
        data = self.cleaned_data
        return not any(data.get(name) for name in ("division", "list", "listed_from", "listed_to"))


def selected_states(form) -> list[str]:
    state = form.cleaned_data.get("state") or ACTIVE
    if state == ACTIVE:
        return [work.OPEN, work.OVERDUE]
    return list(work.STATES) if state == "all" else [state]


def chosen_items(form, user, member_ids):
    """(divisions, narrowing): the filter's divisions (None: all) and list
    and dates, or None when the user has no division to look at."""
    data = form.cleaned_data
    if data.get("division"):
        divisions = [data["division"]]
    elif member_ids:
        divisions = member_ids
    elif user.has_perm("measures.record_any_division"):
        divisions = None  # an administrator outside any division: all
    else:
        return None
    narrowing = {
        "label": data.get("list"),
        "exact": False,
        "listed_from": data.get("listed_from"),
        "listed_to": data.get("listed_to"),
    }
    return divisions, narrowing


def shown(queryset, states):
    return work.ordered(work.with_details(queryset.filter(state__in=states)), states)


class ItemFeedbackForm(forms.Form):
    """One click on an open item: 已实施 today, unless the clerk says otherwise."""

    subject = forms.IntegerField(widget=forms.HiddenInput)
    measure = forms.IntegerField(widget=forms.HiddenInput)
    division = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(label="反馈结果", choices=Feedback.Outcome.choices)
    done_on = forms.DateField(
        label="日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    document_number = forms.CharField(label="文书号", max_length=100, required=False)
    note = forms.CharField(label="实施情况", max_length=2000, required=False)


def _reports(rows) -> dict:
    """The feedback of the page's done items, by id: one query, and none
    for a page of open items (the default view)."""
    ids = [row.feedback_id for row in rows if row.feedback_id]
    if not ids:
        return {}
    return Feedback.objects.select_related("recorded_by").in_bulk(ids)


def _mark_seen(user, now, seen=UNKNOWN):
    """When the user last opened the list (None: never); now it is ``now``."""
    if seen is UNKNOWN:
        seen = WorkSeen.objects.filter(user=user).values_list("seen_at", flat=True).first()
    if seen is None:
        WorkSeen.objects.create(user=user, seen_at=now)
    else:
        WorkSeen.objects.filter(user=user).update(seen_at=now)
    return seen


def _is_new(row, seen) -> bool:
    if seen is None:
        return False
    added = row.added_at is not None and row.added_at > seen
    effective = row.memo_effective_on is not None and row.memo_effective_on > seen.date()
    return added or effective


def _filter(request):
    """(form, member ids, refusal): the refusal a 400 page naming the field
    (when the user last opened the list kept on the request)."""
    choices, member_ids, request._work_seen = division_choices(request.user)
    form = WorkFilter(request.GET, divisions=choices)
    if form.is_valid():
        return form, member_ids, None
    return (
        form,
        member_ids,
        render(request, "work/list.html", {"form": form, "invalid": True}, status=400),
    )


@_staff
def work_list(request):
    today = timezone.localdate()
    form, member_ids, refused = _filter(request)
    if refused:
        return refused
    remember_divisions(request, member_ids)
    context = {"form": form, "today": today, "query": _query(request)}
    chosen = chosen_items(form, request.user, member_ids)
    if chosen is None:
        return render(request, "work/list.html", {**context, "no_division": True})
    divisions, narrowing = chosen
    items = work_tally.Tallied(divisions, today, selected_states(form), **narrowing)
    totals = items.totals
    if form.is_default:
        request._work_counts = totals  # the navigation's count, without asking again
    paginator = Paginator(items, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    rows = work.with_due(page.object_list, today)
    seen = _mark_seen(request.user, timezone.now(), request._work_seen)
    reports = _reports(rows)
    for row in rows:
        row.report = reports.get(row.feedback_id)
        row.is_new = _is_new(row, seen)
        row.shown_code = row.subject.code_for(request.user)
        # The one-click form (ItemFeedbackForm's fields, written out in the
        # template: fifty Django forms would cost more than the query).
        row.form = row.state in (work.OPEN, work.OVERDUE)
        row.form_id = f"id_{row.pk}_{row.item_measure}_{row.item_division}"
    context.update(
        outcomes=Feedback.Outcome.choices,
        page=page,
        rows=rows,
        totals=totals,
        estimated=any(row.estimated for row in rows),
    )
    return render(request, "work/list.html", context)


def _query(request, **changes) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    for key, value in changes.items():
        params[key] = value
    return params.urlencode()


@_staff
def work_export(request):
    form, member_ids, refused = _filter(request)
    if refused:
        return refused
    today = timezone.localdate()
    chosen = chosen_items(form, request.user, member_ids)
    queryset = None
    if chosen is not None:
        divisions, narrowing = chosen
        queryset = work.narrowed(work.items(divisions, today), **narrowing)
        queryset = shown(queryset, selected_states(form))[:EXPORT_MAX_ROWS]
    rows = work.with_due(queryset if queryset is not None else [], today)
    content = xlsx_table(
        "处室待办",
        EXPORT_HEADERS,
        (
            [
                row.state_label,
                row.subject.name,
                row.subject.code_for(request.user),
                row.target_subject.label,
                row.listed_on,
                row.doc_number,
                f"{row.measure_order}、{row.measure_text}",
                row.division_name,
                row.opened_on,
                row.due_on,
                row.days_left,
                row.feedback_on,
            ]
            for row in rows
        ),
        widths=[10, 30, 22, 20, 12, 24, 50, 16, 12, 12, 10, 12],
    )
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    name = f"处室待办-{today:%Y%m%d}.xlsx"
    response["Content-Disposition"] = (
        f"attachment; filename=\"work.xlsx\"; filename*=UTF-8''{quote(name)}"
    )
    return response


@_staff
@require_POST
def work_feedback(request):
    """Record feedback on one item of the list, then back to the same view."""
    back = f"{reverse('work_list')}?{request.POST.get('back', '')}"
    form = ItemFeedbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(back)
    try:
        report = feedback_service.record_from(request.user, form.cleaned_data)
    except feedback_service.Gone:
        messages.error(request, "该事项已不存在，未记录反馈。")
        return redirect(back)
    except feedback_service.Refused as refused:
        name = refused.report.subject.name
        messages.error(request, f"{name}：未记录反馈。" + _messages(refused))
        return redirect(back)
    messages.success(request, f"已记录“{report.subject.name}”的反馈（{report.division.name}）。")
    return redirect(back)


@_staff
@require_POST
def work_withdraw(request, pk):
    feedback = get_object_or_404(Feedback.objects.select_related("division", "subject"), pk=pk)
    try:
        feedback_service.withdraw(feedback, request.user)
    except PermissionDenied as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"已撤回“{feedback.subject.name}”的反馈，该事项重新待反馈。")
    return redirect(f"{reverse('work_list')}?{request.POST.get('back', '')}")


FIELD_LABELS = {
    "division": "反馈处室",
    "measure": "措施",
    "subject": "主体",
    "outcome": "反馈结果",
    "done_on": "日期",
    "document_number": "文书号",
    "action": "实施情况",
}


def _messages(error: ValidationError) -> str:
    parts = []
    for field, texts in error.message_dict.items():
        label = FIELD_LABELS.get(field)
        parts.extend(f"「{label}」{text}" if label else text for text in texts)
    return "；".join(parts)


def _form_errors(form) -> str:
    return "未记录反馈：" + "；".join(
        f"「{form.fields[name].label or name}」{'；'.join(errors)}"
        for name, errors in form.errors.items()
    )
