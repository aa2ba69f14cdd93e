"""Pages about flagged subjects: search, one subject today, batch check.

Subjects are people and enterprises: every page here needs a signed-in
member of staff who may view subjects (the roles 查阅, 编辑 and 管理员), and
people's identity numbers are masked unless the user holds
subjects.view_full_identity.

No identity number ever travels in a URL: a subject's page is addressed by
its row id, the search form posts, and an old link by code works only for a
credit code (public information).  Every look-up is recorded
(memo_registry.services.access), and one past the user's allowance answers 429.
"""

import hashlib
from urllib.parse import quote, urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from measures.models import Division, Feedback, divisions_acted_for
from memo_registry.audit.models import AccessRecord
from memo_registry.services import access
from memo_registry.services import feedback as feedback_service
from memo_registry.services.batch_check import CheckFileError, check_file
from memo_registry.services.checks import checks_of
from memo_registry.services.listing_life import with_life
from memo_registry.services.lookup import day_asked, status_for
from subjects.models import Subject
from subjects.search import in_natural_order, search_subjects, with_listed


def _can_view_subjects(view):
    """Anonymous visitors go to the sign-in page; signed-in users without the
    permission get 403."""
    return login_required(permission_required("subjects.view_subject", raise_exception=True)(view))


@_can_view_subjects
def subject_search(request):
    """GET ?q= for names and credit codes; the form posts, so a code typed
    into it (an identity number above all) never lands in a URL."""
    if request.method == "POST":
        search = search_subjects(request.POST.get("q", ""))
        if search.several_codes:
            return render(request, "subjects/search.html", {"search": search})
        if search.code is None and not search.code_error:
            # A name: its results by GET, so they can be paged and bookmarked.
            if not search.query:
                return redirect("subject_search")
            return redirect(f"{reverse('subject_search')}?{urlencode({'q': search.query})}")
        return _answer_code(request, search)
    search = search_subjects(request.GET.get("q", ""))
    if search.code is not None or search.code_error:
        if search.may_be_identity:
            # The number is in the address already (and in every log on the
            # way); answering would teach clients to send it so.
            return render(
                request,
                "subjects/search.html",
                {"search": search, "identity_in_url": True},
                status=400,
            )
        return _answer_code(request, search)
    page = Paginator(in_natural_order(search.results), 50).get_page(request.GET.get("page"))
    page.object_list = with_listed(list(page.object_list), timezone.localdate())
    for subject in page.object_list:
        subject.shown_code = subject.code_for(request.user)
    return render(request, "subjects/search.html", {"search": search, "page": page})


def _answer_code(request, search):
    """One code, from the form or a GET: the subject's page, or why not."""
    asked = [access.asked(search.code.value if search.code else search.query)]
    if search.code_error:
        # A typo is answered with its check character and nothing about
        # listings; it checks nothing against the register.
        access.record(
            request, AccessRecord.Channel.PAGE, "按代码查询（代码有误）", asked, counted=False
        )
        return render(request, "subjects/search.html", {"search": search}, status=400)
    refused = access.refusal(request.user, asked)
    if refused:
        access.record(request, AccessRecord.Channel.PAGE, "按代码查询", asked, refused=refused)
        return render(
            request, "subjects/search.html", {"search": search, "refused": refused}, status=429
        )
    subject = search.results.first()
    access.record(
        request,
        AccessRecord.Channel.PAGE,
        "按代码查询",
        asked,
        listed=int(bool(subject and status_for(subject, timezone.localdate()).listed)),
    )
    if subject is not None:
        return redirect("subject_detail", pk=subject.pk)
    return render(request, "subjects/search.html", {"search": search, "not_on_record": True})


@_can_view_subjects
def subject_by_code(request, code):
    """Old links by code: a credit code is public and redirects to the
    subject's page; an identity number answers 404 whether or not the person
    is on record."""
    asked = access.asked(code)
    if asked.kind != "org":
        raise Http404()
    subject = get_object_or_404(Subject, code=asked.code)
    return redirect("subject_detail", pk=subject.pk, permanent=True)


class FeedbackForm(forms.Form):
    """Feedback on one measure that applies to the subject today; the
    divisions offered are those of the measure's that the user acts for
    (``divisions``: their ids).  The rules themselves live in
    Feedback.clean() (the admin, /work/ and the API share them)."""

    measure = forms.IntegerField(widget=forms.HiddenInput)
    division = forms.ModelChoiceField(label="反馈处室", queryset=None, empty_label=None)
    outcome = forms.ChoiceField(
        label="反馈结果", choices=Feedback.Outcome.choices, required=False, initial="applied"
    )
    done_on = forms.DateField(
        label="实施日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    document_number = forms.CharField(label="文书号", max_length=100, required=False)
    action = forms.CharField(
        label="实施情况", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, item, divisions, **kwargs):
        # One form per measure on the page: ids apart, field names alike.
        kwargs.setdefault("auto_id", f"id_m{item.measure.pk}_%s")
        super().__init__(*args, **kwargs)
        self.item = item
        self.fields["measure"].initial = item.measure.pk
        self.fields["division"].queryset = Division.objects.filter(pk__in=divisions).order_by(
            "name"
        )
        self.fields["done_on"].initial = timezone.localdate()

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        feedback = Feedback(
            measure=self.item.measure,
            subject=self.subject,
            division=cleaned["division"],
            outcome=cleaned["outcome"] or Feedback.Outcome.APPLIED,
            done_on=cleaned["done_on"],
            document_number=cleaned["document_number"],
            action=cleaned["action"],
            recorded_by=self.user,
        )
        try:
            feedback.full_clean()
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                target = field if field in self.fields and field != "measure" else None
                for message in messages_:
                    self.add_error(target, message)
        else:
            self.feedback = feedback
        return cleaned


def _acted_for(item, acted_for: set[int] | None) -> list[int]:
    """The ids of the item's divisions the user records feedback for."""
    return [d.pk for d in item.divisions if acted_for is None or d.pk in acted_for]


def _forms(status, subject, user, bound=None):
    """Each measure with its feedback form, or None where the user belongs
    to none of the measure's divisions (feedback is its members' to record)."""
    acted_for = divisions_acted_for(user)
    forms_ = []
    for item in status.measures:
        divisions = _acted_for(item, acted_for)
        if bound is not None and bound.item is item:
            form = bound
        elif divisions:
            form = FeedbackForm(item=item, divisions=divisions)
        else:
            form = None
        if form is not None:
            form.subject, form.user = subject, user
        forms_.append((item, form))
    return forms_


def _detail_context(request, subject, status, bound=None, on=None):
    today = timezone.localdate()
    return {
        "subject": subject,
        "shown_code": subject.code_for(request.user),
        "status": status,
        "today": today,
        # The day shown (templates/subjects/_on_date.html): today unless ?on= asks.
        "on": on or today,
        "is_today": (on or today) == today,
        "items": _forms(status, subject, request.user, bound),
        # Embedded checks by other systems (templates/subjects/_checks.html).
        "checks": checks_of(subject) if request.user.has_perm("clients.view_check") else None,
    }


@_can_view_subjects
def subject_detail(request, pk):
    """The subject today, or with ``?on=YYYY-MM-DD`` on that past day (what
    applied then: listings and memos in force that day); a date that is not
    one answers 400 with the page for today and the reason."""
    subject = get_object_or_404(Subject, pk=pk)
    today = timezone.localdate()
    try:
        on, on_error = day_asked(request.GET.get("on"), today), None
    except ValueError as error:
        on, on_error = today, str(error)
    status = status_for(subject, on)
    with_life(status.listings)  # the listings' objections, repairs, publication ends
    access.record(
        request,
        AccessRecord.Channel.PAGE,
        "查看主体" if on == today else f"查看主体（{on}）",
        [access.Asked(subject.code, subject.kind)],
        listed=int(status.listed),
        counted=False,
    )
    context = _detail_context(request, subject, status, on=on)
    context["on_error"] = on_error
    return render(request, "subjects/detail.html", context, status=400 if on_error else 200)


@_can_view_subjects
@require_POST
def record_feedback(request, pk):
    subject = get_object_or_404(Subject, pk=pk)
    acted_for = divisions_acted_for(request.user)
    if acted_for is not None and not acted_for:
        # The rule of /work/ and the API: a division's members record its feedback.
        raise PermissionDenied("只有责任处室的人员才能录入实施反馈，您不属于任何处室。")
    status = status_for(subject, timezone.localdate())
    try:
        measure_id = int(request.POST.get("measure", ""))
    except ValueError:
        measure_id = None
    item = next((item for item in status.measures if item.measure.pk == measure_id), None)
    if item is None:
        messages.error(request, "该措施今天不适用于该主体，未记录反馈。")
        return redirect("subject_detail", pk=subject.pk)
    divisions = _acted_for(item, acted_for)
    if not divisions:
        messages.error(request, "您不属于该措施的责任处室，未记录反馈。")
        return redirect("subject_detail", pk=subject.pk)
    form = FeedbackForm(request.POST, item=item, divisions=divisions)
    form.subject, form.user = subject, request.user
    if not form.is_valid():
        context = _detail_context(request, subject, status, bound=form)
        return render(request, "subjects/detail.html", context, status=400)
    feedback_service.save(form.feedback)
    messages.success(request, "已记录实施反馈。")
    return redirect("subject_detail", pk=subject.pk)


class _Refused(Exception):
    """The batch would take the user past their identity-check allowance."""


class _BatchLookUp:
    """Records a batch check of an uploaded sheet, or refuses it first."""

    def __init__(self, request, sha256: str):
        self.request, self.sha256, self.asked = request, sha256, []

    def before(self, codes):
        self.asked = [access.asked(code) for code in codes]
        refused = access.refusal(self.request.user, self.asked)
        if refused:
            self._record(refused=refused)
            raise _Refused(refused)

    def after(self, results):
        self._record(listed=sum(result.listed for result in results))

    def _record(self, **outcome):
        access.record(
            self.request,
            AccessRecord.Channel.BATCH,
            "批量比对",
            self.asked,
            file_sha256=self.sha256,
            **outcome,
        )


class CheckForm(forms.Form):
    file = forms.FileField(
        label="代码表（xlsx 或 csv）",
        help_text="任意版式，含“统一社会信用代码”或“证件号码”一列即可。",
    )


@_can_view_subjects
def subject_check(request):
    form = CheckForm(request.POST or None, request.FILES or None)
    error = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        # Hashed and read from Django's temporary file, never copied into
        # memory whole (check_file checks its size first).
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        look_up = _BatchLookUp(request, digest.hexdigest())
        try:
            content, file_name = check_file(
                upload,
                upload.name,
                timezone.localdate(),
                before_check=look_up.before,
                after_check=look_up.after,
            )
        except _Refused as refused:
            return render(
                request, "subjects/check.html", {"form": form, "error": str(refused)}, status=429
            )
        except CheckFileError as failure:
            error = str(failure)
        else:
            response = HttpResponse(
                content,
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            response["Content-Disposition"] = (
                f"attachment; filename=\"check.xlsx\"; filename*=UTF-8''{quote(file_name)}"
            )
            return response
    status = 400 if request.method == "POST" else 200
    return render(request, "subjects/check.html", {"form": form, "error": error}, status=status)
