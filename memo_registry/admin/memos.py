from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Max
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from import_export.admin import ImportExportMixin
from import_export.forms import ExportForm, ImportForm
from import_export.results import RowResult

from measures.models import Measure
from memo_registry.admin.concurrency import VersionedAdminMixin, VersionedInlineMixin
from memo_registry.admin.history import ReadableHistoryAdmin, changes_of
from memo_registry.admin.legal_basis import (
    LEGAL_BASIS_FIELD,
    LegalBasisFieldMixin,
    legal_basis_field,
    legal_basis_history,
)
from memo_registry.imports.memos.resource import (
    CsvDownload,
    MemoListResource,
    SpreadsheetUpload,
    XlsxDownload,
)
from memo_registry.imports.memos.uploads import SignedConfirmImportForm, SignedUploadImportMixin
from memo_registry.imports.upload_form import FILE_KINDS, ListUploadMixin
from memo_registry.lib.text import canonical_doc_number, squeeze
from memos.models import Department, Memorandum, ResponsibilityList


class MeasureInlineForm(LegalBasisFieldMixin, forms.ModelForm):
    """A measure row of the memo page: a new row's 顺序 may stay empty; its
    legal bases are typed as text (``层级：标题 条款``, several separated by ；)."""

    legal_basis_text = legal_basis_field()

    class Meta:
        model = Measure
        fields = ["order", "text", "divisions"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        order = self.fields["order"]
        order.required = False
        order.help_text = "留空则排在最后。"
        if self.instance.pk is None:
            # The model's default (1) would clash with the first measure
            # whenever "添加另一个" adds a row to a memo that has one.
            order.initial = None


class MeasureFormSet(BaseInlineFormSet):
    """New rows left without a 顺序 continue after the last one, in the order
    they stand on the page."""

    def clean(self):
        rows = [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None) and not form.cleaned_data.get("DELETE")
        ]
        following = max((form.cleaned_data.get("order") or 0 for form in rows), default=0) + 1
        for form in rows:
            if form.has_changed() and not form.cleaned_data.get("order"):
                form.cleaned_data["order"] = form.instance.order = following
                following += 1
        super().clean()


class MeasureInline(VersionedInlineMixin, admin.TabularInline):
    model = Measure
    form = MeasureInlineForm
    formset = MeasureFormSet
    extra = 0
    fields = ["order", "text", "divisions", LEGAL_BASIS_FIELD]
    autocomplete_fields = ["divisions"]
    # Each row links to the measure's own page, whose 历史 shows who changed
    # its text or its divisions, and when.
    show_change_link = True


class MemoImportForm(ListUploadMixin, ImportForm):
    """The upload step: the file, and the list it goes into (the current one by default)."""

    responsibility_list = forms.ModelChoiceField(
        label="导入到清单",
        queryset=ResponsibilityList.objects.all(),
        empty_label=None,
        help_text="文件中的备忘录按文号对应到这份清单中的备忘录。",
    )
    field_order = ["resource", "import_file", "responsibility_list", "format"]
    upload_field = "import_file"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["import_file"].help_text = (
            f"{FILE_KINDS}；版式同责任清单：序号、文号、备忘录名称、"
            "发起部门、奖惩对象（行为）、实施部门、奖惩措施、责任处室，可另加类型、对象简称、状态、废止日期。"
        )


class MemoConfirmImportForm(SignedConfirmImportForm):
    """The confirm step carries the chosen list on (and a signed token for the file)."""

    responsibility_list = forms.ModelChoiceField(
        queryset=ResponsibilityList.objects.all(), widget=forms.HiddenInput
    )


@admin.register(Memorandum)
class MemorandumAdmin(
    VersionedAdminMixin, SignedUploadImportMixin, ImportExportMixin, ReadableHistoryAdmin
):
    # Import and export through django-import-export's pages, but with the
    # registry's own pipeline: see memo_registry.imports.memos.resource.  The
    # upload waits for its confirm step in a folder of its own, named to the
    # confirm form by a signed token (memo_registry.imports.memos.uploads).
    resource_classes = [MemoListResource]
    import_form_class = MemoImportForm
    confirm_form_class = MemoConfirmImportForm
    export_form_class = ExportForm
    import_template_name = "admin/memos/memorandum/import.html"
    object_history_template = "admin/memos/memorandum/object_history.html"
    list_display = [
        "seq",
        "doc_number",
        "title",
        "kind",
        "target_subject",
        "no_function",
        "status",
        "responsibility_list",
    ]
    list_display_links = ["doc_number", "title"]
    list_filter = [
        "responsibility_list",
        "kind",
        "status",
        "no_function",
        "initiating_departments",
        "measures__divisions",
    ]
    search_fields = [
        "doc_number",
        "title",
        "target_subject__label",
        "target_subject__definition",
        "measures__text",
    ]
    autocomplete_fields = ["initiating_departments", "implementing_department", "target_subject"]
    list_select_related = ["target_subject", "responsibility_list"]
    inlines = [MeasureInline]
    fieldsets = [
        (None, {"fields": ["responsibility_list", "seq", "doc_number", "title", "kind"]}),
        (
            "部门与对象",
            {"fields": ["initiating_departments", "implementing_department", "target_subject"]},
        ),
        (
            "职能与状态",
            {
                "fields": [
                    "no_function",
                    "no_function_note",
                    "status",
                    "repealed_on",
                    "effective_on",
                ]
            },
        ),
    ]

    def get_changeform_initial_data(self, request):
        # A new memo goes into the current list, implemented by the
        # department that implements most of that list's memos, and takes the
        # next 序号; each can be changed before saving.
        initial = super().get_changeform_initial_data(request)
        # A memo added to a list takes effect the day it is added (issue 14).
        initial.setdefault("effective_on", timezone.localdate())
        current = ResponsibilityList.current()
        if current is None:
            return initial
        initial.setdefault("responsibility_list", current.pk)
        memos = Memorandum.objects.filter(responsibility_list=current)
        usual = (
            memos.exclude(implementing_department=None)
            .values("implementing_department")
            .annotate(n=Count("pk"))
            .order_by("-n", "implementing_department")
            .first()
        )
        if usual:
            initial.setdefault("implementing_department", usual["implementing_department"])
        initial.setdefault("seq", (memos.aggregate(last=Max("seq"))["last"] or 0) + 1)
        return initial

    def history_view(self, request, object_id, extra_context=None):
        # Below the memo's own changes, its measures': the memo's history
        # alone says "已修改" with nothing when only a measure changed.
        records = (
            Measure.history.filter(memo_id=object_id)
            .select_related("history_user")
            .order_by("-history_date", "-history_id")[:200]
        )
        extra_context = {
            **(extra_context or {}),
            "measure_history": changes_of(Measure, records),
            "legal_basis_history": legal_basis_history(object_id),
        }
        return super().history_view(request, object_id, extra_context)

    def get_search_results(self, request, queryset, search_term):
        # A 文号 typed with any brackets or spaces finds the stored form.
        term = squeeze(search_term)
        canonical = canonical_doc_number(term)
        queryset, may_have_duplicates = super().get_search_results(request, queryset, term)
        if canonical and canonical != term:
            queryset |= self.model.objects.filter(doc_number__contains=canonical)
        return queryset, True if canonical != term else may_have_duplicates

    # --- import and export ---------------------------------------------------------

    def get_import_formats(self):
        return [SpreadsheetUpload]

    def get_export_formats(self):
        return [XlsxDownload, CsvDownload]

    def has_import_permission(self, request) -> bool:
        # An import adds and changes memos: it needs both permissions.
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["responsibility_list"] = import_form.cleaned_data["responsibility_list"].pk
        return initial

    def get_import_data_kwargs(self, **kwargs):
        form = kwargs.get("form")
        kwargs = super().get_import_data_kwargs(**kwargs)
        if form is not None and "responsibility_list" in form.cleaned_data:
            kwargs["responsibility_list"] = form.cleaned_data["responsibility_list"]
        return kwargs

    def process_import(self, request, **kwargs):
        try:
            return super().process_import(request, **kwargs)
        except OSError:
            # The uploaded file kept between preview and confirm is gone (the
            # confirm button pressed twice, or the temporary folder cleaned).
            messages.error(request, "上传的文件已失效，未写入任何数据；请重新上传。")
            url = reverse("admin:memos_memorandum_import", current_app=self.admin_site.name)
            return HttpResponseRedirect(url)

    def process_result(self, result, request):
        if result.has_errors():
            # The file was checked at the preview, but the registry may have
            # changed since: nothing was written, and the user is told why.
            for error in result.base_errors:
                messages.error(request, str(error.error))
            url = reverse("admin:memos_memorandum_import", current_app=self.admin_site.name)
            return HttpResponseRedirect(url)
        return super().process_result(result, request)

    def add_success_message(self, result, request):
        for line in getattr(result, "summary", []):
            messages.success(request, line)
        if not getattr(result, "summary", None):
            totals = result.totals
            messages.success(
                request,
                f"导入完成：新建 {totals[RowResult.IMPORT_TYPE_NEW]} 项，"
                f"更新 {totals[RowResult.IMPORT_TYPE_UPDATE]} 项。",
            )

    def get_export_filename(self, request, queryset, file_format):
        # ASCII only: the name travels in a Content-Disposition header.
        date = timezone.localdate().isoformat()
        return f"memos-{date}.{file_format.get_extension()}"


@admin.register(ResponsibilityList)
class ResponsibilityListAdmin(ReadableHistoryAdmin):
    list_display = ["doc_number", "title", "issuer", "issued_on", "is_current"]
    list_filter = ["is_current"]
    search_fields = ["doc_number", "title", "issuer"]
    date_hierarchy = "issued_on"


@admin.register(Department)
class DepartmentAdmin(ReadableHistoryAdmin):
    list_display = ["name"]
    search_fields = ["name"]
