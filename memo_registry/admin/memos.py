from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from import_export.admin import ImportExportMixin
from import_export.forms import ExportForm, ImportForm
from import_export.results import RowResult
from simple_history.admin import SimpleHistoryAdmin

from measures.models import Measure
from memo_registry.admin.concurrency import VersionedAdminMixin, VersionedInlineMixin
from memo_registry.imports.memos.resource import (
    CsvDownload,
    MemoListResource,
    SpreadsheetUpload,
    XlsxDownload,
)
from memo_registry.imports.memos.uploads import SignedConfirmImportForm, SignedUploadImportMixin
from memo_registry.lib.spreadsheet import size_refusal
from memo_registry.lib.text import canonical_doc_number, squeeze
from memos.models import Memorandum, ResponsibilityList


class MeasureInline(VersionedInlineMixin, admin.TabularInline):
    model = Measure
    extra = 0
    fields = ["order", "text", "divisions"]
    autocomplete_fields = ["divisions"]


class MemoImportForm(ImportForm):
    """The upload step: the file, and the list it goes into (the current one by default)."""

    responsibility_list = forms.ModelChoiceField(
        label="导入到清单",
        queryset=ResponsibilityList.objects.all(),
        empty_label=None,
        help_text="文件中的备忘录按文号对应到这份清单中的备忘录。",
    )
    field_order = ["resource", "import_file", "responsibility_list", "format"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["import_file"].help_text = (
            "xlsx，或 UTF-8 / GB18030（GBK）编码的 csv；版式同责任清单：序号、文号、备忘录名称、"
            "发起部门、奖惩对象（行为）、实施部门、奖惩措施、责任处室，可另加类型、对象简称、状态、废止日期。"
        )
        current = ResponsibilityList.current()
        if current is not None:
            self.fields["responsibility_list"].initial = current.pk

    def clean_import_file(self):
        # Refused before a byte is parsed (or copied to temporary storage).
        upload = self.cleaned_data["import_file"]
        refusal = size_refusal(upload.name, upload.size)
        if refusal:
            raise forms.ValidationError(refusal)
        return upload


class MemoConfirmImportForm(SignedConfirmImportForm):
    """The confirm step carries the chosen list on (and a signed token for the file)."""

    responsibility_list = forms.ModelChoiceField(
        queryset=ResponsibilityList.objects.all(), widget=forms.HiddenInput
    )


@admin.register(Memorandum)
class MemorandumAdmin(
    VersionedAdminMixin, SignedUploadImportMixin, ImportExportMixin, SimpleHistoryAdmin
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
        ("职能与状态", {"fields": ["no_function", "no_function_note", "status", "repealed_on"]}),
    ]

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
