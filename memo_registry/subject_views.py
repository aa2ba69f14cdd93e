"""Pages about flagged subjects: search, one subject today, batch check.

Subjects are people and enterprises: every page here needs a signed-in
member of staff who may view subjects (the roles 查阅, 编辑 and 管理员), and
people's identity numbers are masked unless the user holds
subjects.view_full_identity.
"""

from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from measures.models import Division, Feedback
from memo_registry.applicable import status_for
from memo_registry.subject_check import CheckFileError, check_file
from subjects.codes import parse_code
from subjects.models import Subject
from subjects.search import search_subjects


def _can_view_subjects(view):
    """Anonymous visitors go to the sign-in page; signed-in users without the
    permission get 403."""
    return login_required(permission_required("subjects.view_subject", raise_exception=True)(view))


def _subject_or_404(code: str) -> Subject:
    try:
        canonical = parse_code(code, allow_bad_checksum=True).value
    except ValidationError:
        raise Http404("代码无效") from None
    return get_object_or_404(Subject, code=canonical)


@_can_view_subjects
def subject_search(request):
    search = search_subjects(request.GET.get("q", ""))
    page = Paginator(search.results, 50).get_page(request.GET.get("page"))
    for subject in page.object_list:
        subject.shown_code = subject.code_for(request.user)
    return render(request, "subjects/search.html", {"search": search, "page": page})


class FeedbackForm(forms.Form):
    measure = forms.TypedChoiceField(label="措施", coerce=int)
    division = forms.ModelChoiceField(label="反馈处室", queryset=Division.objects.all())
    done_on = forms.DateField(
        label="实施日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    action = forms.CharField(
        label="实施情况", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, applicable, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["measure"].choices = [
            (
                item.measure.pk,
                f"{item.memo.doc_number} 第{item.measure.order}项：{item.measure.text[:40]}",
            )
            for item in applicable
        ]
        self.fields["done_on"].initial = timezone.localdate()
        # The division that usually reports is the first one responsible for
        # the first open measure.
        first = next((item for item in applicable if not item.done), None) or next(
            iter(applicable), None
        )
        if first is not None:
            self.fields["measure"].initial = first.measure.pk
            if first.divisions:
                self.fields["division"].initial = first.divisions[0].pk

    def clean_done_on(self):
        done_on = self.cleaned_data["done_on"]
        if done_on > timezone.localdate():
            raise ValidationError("实施日期不能晚于今天。")
        return done_on


def _detail_context(request, subject, form=None):
    today = timezone.localdate()
    status = status_for(subject, today)
    form = form or FeedbackForm(applicable=status.measures)
    return {
        "subject": subject,
        "shown_code": subject.code_for(request.user),
        "status": status,
        "today": today,
        "form": form,
    }


@_can_view_subjects
def subject_detail(request, code):
    subject = _subject_or_404(code)
    return render(request, "subjects/detail.html", _detail_context(request, subject))


@_can_view_subjects
@require_POST
def record_feedback(request, code):
    subject = _subject_or_404(code)
    if not request.user.has_perm("measures.add_feedback"):
        raise PermissionDenied("您没有录入实施反馈的权限。")
    status = status_for(subject, timezone.localdate())
    form = FeedbackForm(request.POST, applicable=status.measures)
    if not form.is_valid():
        context = _detail_context(request, subject, form)
        return render(request, "subjects/detail.html", context, status=400)
    measure = next(
        item.measure for item in status.measures if item.measure.pk == form.cleaned_data["measure"]
    )
    Feedback.objects.create(
        measure=measure,
        subject=subject,
        division=form.cleaned_data["division"],
        done_on=form.cleaned_data["done_on"],
        action=form.cleaned_data["action"],
        recorded_by=request.user,
    )
    messages.success(request, "已记录实施反馈。")
    return redirect("subject_detail", code=subject.code)


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
        try:
            content, file_name = check_file(upload.read(), upload.name, timezone.localdate())
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
