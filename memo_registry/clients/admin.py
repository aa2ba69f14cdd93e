"""The admin of client systems' API keys (管理员 only): create one (its key is
shown once), set its scopes and expiry, revoke it; and the embedded checks
they made, read only (staff who may view checks)."""

from django import forms
from django.contrib import admin, messages
from django.db.models.constants import LOOKUP_SEP
from django.utils.html import format_html, format_html_join
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from memo_registry.audit.admin import ReadOnlyAdminMixin
from memo_registry.clients.models import SCOPES, Check, ClientKey, validate_scopes
from memos.models import Memorandum
from subjects.codes import mask

# One key model: this app's (with scopes and last use), not the library's bare one.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


class ClientKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label="权限范围",
        choices=list(SCOPES.items()),
        widget=forms.CheckboxSelectMultiple,
        validators=[validate_scopes],
    )

    class Meta:
        model = ClientKey
        fields = ["name", "scopes", "expiry_date", "revoked"]


@admin.register(ClientKey)
class ClientKeyAdmin(APIKeyModelAdmin):
    form = ClientKeyForm
    list_display = ("name", "prefix", "scope_list", "created", "expiry_date", "last_used_at",
                    "revoked")  # fmt: skip
    list_filter = ("revoked",)
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created", "last_used_at", "created_by")

    @admin.display(description="权限范围")
    def scope_list(self, obj) -> str:
        return "、".join(obj.scopes or [])

    def get_readonly_fields(self, request, obj=None):
        fields = self.readonly_fields
        if obj is not None and obj.revoked:
            fields += ("name", "scopes", "revoked", "expiry_date")
        return fields

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        obj.created_by = request.user
        key = ClientKey.objects.assign_key(obj)
        obj.save()
        messages.warning(
            request,
            f"“{obj.name}”的接口密钥是：{key}　请立即复制并交给对接系统妥善保存：它只显示这一次，"
            "登记簿只保存它的摘要，以后无法再查看。",
        )


@admin.register(Check)
class CheckAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The embedded checks, read only: each is the evidence of what a system
    asked and was told, so nobody adds, changes or deletes one here.  A
    person's identity number is masked (first 6 and last 4 characters) for
    a user without subjects.view_full_identity."""

    list_filter = ("decision", "outcome", "client_name")
    date_hierarchy = "checked_at"
    show_full_result_count = False

    def get_list_display(self, request):
        code = self._code_field(request)
        return ["checked_at", "client_name", "department", "matter_name", code, "decision",
                "outcome"]  # fmt: skip

    def get_fields(self, request, obj=None):
        code = self._code_field(request)
        return ["checked_at", "client_name", "key", "department", "matter_code", "matter_name",
                code, "code_kind", "subject_name", "decision", "measures_shown", "outcome",
                "outcome_note", "outcome_at"]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @staticmethod
    def _code_field(request) -> str:
        return "code" if request.user.has_perm("subjects.view_full_identity") else "masked_code"

    @admin.display(description="代码")
    def masked_code(self, obj) -> str:
        return mask(obj.code, obj.code_kind)

    @admin.display(description="主体")
    def subject_name(self, obj) -> str:
        return obj.subject.name if obj.subject_id else "登记簿中没有该主体"

    @admin.display(description="适用措施（核查时）")
    def measures_shown(self, obj):
        """What the check answered, one measure a line, as the pages write it."""
        if not obj.measures:
            return "无"
        kinds = dict(Memorandum.Kind.choices)
        return format_html(
            '<ol class="check-measures">{}</ol>',
            format_html_join(
                "",
                "<li>【{}】{} 第{}项：{}（{}）</li>",
                (
                    (
                        kinds.get(item.get("kind"), item.get("kind", "")),
                        item.get("doc_number", ""),
                        item.get("order", ""),
                        item.get("text", ""),
                        "、".join(item.get("divisions", [])) or "未指定处室",
                    )
                    for item in obj.measures
                ),
            ),
        )

    def lookup_allowed(self, lookup, value, request=None):
        # No filter in the address on the code (?code__startswith=…), nor on
        # the subject's: it would find the masked digits one at a time.
        if lookup.split(LOOKUP_SEP)[0] in ("code", "subject"):
            return False
        return super().lookup_allowed(lookup, value, request)
