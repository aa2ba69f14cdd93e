"""The user and group admins, with what only a superuser may grant kept to superusers.

管理员 hold ``auth.change_user`` and ``auth.change_group`` so that they can
manage accounts (add staff, put them in 查阅/编辑/管理员, reset passwords).
With Django's own admins that also let one tick "superuser status" on its
own account, grant itself any permission, or give a group every permission:
each is a way to become all-powerful.  Here, for anyone but a superuser:

- a user's ``is_superuser`` and ``user_permissions`` and a group's
  ``permissions`` are shown read-only (a value posted for them is ignored,
  since a read-only field is not in the form);
- a superuser's account can be viewed but not changed, deleted or given a
  new password.

The roles' permissions come from ``memo_registry/roles.py`` (``sync_roles``),
so nothing a 管理员 does needs to change them.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group

from measures.models import Division

User = get_user_model()

SUPERUSER_ONLY_USER_FIELDS = ("is_superuser", "user_permissions")
SUPERUSER_ONLY_GROUP_FIELDS = ("permissions",)


class UserChangeWithDivisions(UserChangeForm):
    """The user's page also says which divisions (处室) the user belongs to."""

    divisions = forms.ModelMultipleChoiceField(
        queryset=Division.objects.order_by("name"),
        required=False,
        label="所属处室",
        help_text="处室人员在“处室待办”中看到本处室的待办事项，并为本处室录入反馈。",
        widget=FilteredSelectMultiple("处室", is_stacked=False),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["divisions"].initial = self.instance.divisions.all()


class RegistryUserAdmin(UserAdmin):
    form = UserChangeWithDivisions
    fieldsets = (*UserAdmin.fieldsets, ("所属处室", {"fields": ("divisions",)}))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if "divisions" in form.cleaned_data:
            # From each division's side, so that its history records the change.
            user = form.instance
            chosen, current = set(form.cleaned_data["divisions"]), set(user.divisions.all())
            for division in chosen - current:
                division.members.add(user)
            for division in current - chosen:
                division.members.remove(user)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not request.user.is_superuser:
            # Not on the add form: it asks only for a name and a password.
            readonly += [name for name in SUPERUSER_ONLY_USER_FIELDS if name not in readonly]
        return readonly

    def has_change_permission(self, request, obj=None):
        # Also guards the password form (UserAdmin.user_change_password asks this).
        if _protected(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Asked per object by the delete page and by "delete selected".
        if _protected(request, obj):
            return False
        return super().has_delete_permission(request, obj)


class RegistryGroupAdmin(GroupAdmin):
    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += [name for name in SUPERUSER_ONLY_GROUP_FIELDS if name not in readonly]
        return readonly


def _protected(request, obj) -> bool:
    """A superuser's account, and the one asking is not a superuser."""
    return obj is not None and obj.is_superuser and not request.user.is_superuser


admin.site.unregister(User)
admin.site.unregister(Group)
admin.site.register(User, RegistryUserAdmin)
admin.site.register(Group, RegistryGroupAdmin)
