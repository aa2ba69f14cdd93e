import io

from django.contrib import admin
from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook

from memo_registry.audit.models import AccessRecord, ImportBatch


class ReadOnlyAdminMixin:
    """Evidence (an audit trail, the embedded checks) is read, never added
    to, changed or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _AuditTrailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


# What each count of an import means, in the words of the import's summary.
COUNT_LABELS = {
    "rows": "行数",
    "memos_created": "新建备忘录",
    "memos_updated": "更新备忘录",
    "memos_unchanged": "未变备忘录",
    "memos_not_in_file": "文件中没有的备忘录",
    "measures_created": "新建措施",
    "measures_updated": "修改措施",
    "measures_deleted": "删除措施",
    "departments_created": "新建部门",
    "divisions_created": "新建责任处室",
    "subjects_created": "新增主体",
    "subjects_updated": "更新主体",
    "listings_created": "新增名单记录",
    "listings_updated": "更新名单记录",
    "listings_unchanged": "未变名单记录",
}


@admin.register(ImportBatch)
class ImportBatchAdmin(_AuditTrailAdmin):
    list_display = ["started_at", "kind", "file_name", "user", "source_shown", "counts_shown"]
    list_filter = ["kind", "source"]
    search_fields = ["file_name", "sha256"]
    fields = [
        "kind",
        "file_name",
        "sha256",
        "user",
        "source_shown",
        "started_at",
        "finished_at",
        "counts_shown",
    ]
    readonly_fields = fields

    @admin.display(description="方式")
    def source_shown(self, obj):
        return {"command": "命令行", "admin": "管理后台"}.get(obj.source, obj.source)

    @admin.display(description="统计")
    def counts_shown(self, obj):
        return "，".join(
            f"{COUNT_LABELS.get(key, key)} {value}" for key, value in (obj.counts or {}).items()
        )


class _AccessUserFilter(admin.SimpleListFilter):
    """Users who have look-up records (not every account on the system)."""

    title = "用户"
    parameter_name = "username"

    def lookups(self, request, model_admin):
        names = (
            AccessRecord.objects.order_by("username").values_list("username", flat=True).distinct()
        )
        return [(name, name or "（匿名）") for name in names]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(username=self.value())


@admin.register(AccessRecord)
class AccessRecordAdmin(_AuditTrailAdmin):
    """查询记录: read by 管理员, changed and deleted by nobody."""

    fields = [
        "at",
        "username",
        "channel",
        "action",
        "codes_shown",
        "code_count",
        "identity_count",
        "file_sha256",
        "listed_count",
        "refused",
        "client_ip",
    ]
    list_display = [f for f in fields if f not in ("identity_count", "file_sha256")]
    list_filter = [_AccessUserFilter, "channel", ("refused", admin.EmptyFieldListFilter)]
    date_hierarchy = "at"
    search_fields = ["=username", "=file_sha256"]
    actions = ["export_xlsx"]
    show_full_result_count = False

    def get_list_display(self, request):
        return [self._codes_column(request) if f == "codes_shown" else f for f in self.list_display]

    def get_fields(self, request, obj=None):
        return [self._codes_column(request) if f == "codes_shown" else f for f in self.fields]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description="查询代码")
    def codes_shown(self, obj):
        # Stands in for the checks; every request gets _codes_column's.
        from django.contrib.auth.models import AnonymousUser

        return obj.codes_for(AnonymousUser())

    @staticmethod
    def _codes_column(request):
        # Bound to this request's user: people's numbers masked for anyone
        # without view_full_identity (the admin instance is shared between
        # requests, so the user can't be kept on it).  One function per
        # request, so that fields and readonly_fields name the same one.
        if not hasattr(request, "_access_codes_column"):

            def codes_shown(obj):
                return obj.codes_for(request.user)

            codes_shown.short_description = "查询代码"
            request._access_codes_column = codes_shown
        return request._access_codes_column

    @admin.action(description="导出所选查询记录（xlsx）", permissions=["view"])
    def export_xlsx(self, request, queryset):
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("查询记录")
        sheet.append(
            [
                "时间",
                "用户",
                "渠道",
                "操作",
                "查询代码",
                "代码数",
                "身份证号码数",
                "文件 SHA-256",
                "在名单上的个数",
                "拒绝原因",
                "客户端地址",
            ]
        )
        for record in queryset.order_by("at", "id").iterator(chunk_size=2000):
            sheet.append(
                [
                    timezone.localtime(record.at).strftime("%Y-%m-%d %H:%M:%S"),
                    record.username,
                    record.get_channel_display(),
                    record.action,
                    record.codes_for(request.user),
                    record.code_count,
                    record.identity_count,
                    record.file_sha256,
                    record.listed_count,
                    record.refused,
                    record.client_ip or "",
                ]
            )
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="access-records-{stamp}.xlsx"'
        return response
