"""The admin of client systems' API keys (管理员 only): create one (its key is
shown once), set its scopes and expiry, revoke it."""

from django import forms
from django.contrib import admin, messages
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from memo_registry.clients.models import SCOPES, ClientKey, validate_scopes

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
