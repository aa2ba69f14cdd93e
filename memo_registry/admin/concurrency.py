"""No lost updates in the admin: a change form saved over a newer version is refused.

Two administrators open the same memo; the one who saves last would put
the other's title and measure texts back.  Here each change page carries
the ``version`` (``memo_registry.lib.versioning``) of the object and of every
inline row it showed, in hidden fields, and the save is refused — the form
shown again with the user's input and a message naming who changed what,
and when — if any of them moved since the page was loaded: the object, an
inline row changed or deleted, or a row added to the inline by someone
else.  The check runs while the admin validates the form and its inlines,
so a refused save writes nothing (object, inline rows or history).  On
PostgreSQL the rows checked stay locked (SELECT … FOR UPDATE) until the
admin's transaction ends, so two saves of the same page cannot both pass
the check; SQLite lets one transaction write at a time.

Used as a base class: ``VersionedAdminMixin`` on the ModelAdmin,
``VersionedInlineMixin`` on each inline whose model is versioned.
"""

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import ValidationError
from django.db import router, transaction

from memo_registry.lib.versioning import (
    VERSION,
    last_change,
    locked_version,
    locked_versions,
    stale_message,
)

STALE = "stale_version"


def _version_field() -> forms.IntegerField:
    # Not the model field (it is not editable, and a form never writes it):
    # only what the page was loaded with.
    return forms.IntegerField(label="版本", widget=forms.HiddenInput, required=False)


def _with_version(fieldsets) -> list:
    """``fieldsets`` with the hidden version in the first one (a hidden line)."""
    fieldsets = list(fieldsets)
    if VERSION in flatten_fieldsets(fieldsets):
        return fieldsets
    if not fieldsets:
        return [(None, {"fields": [VERSION]})]
    name, options = fieldsets[0]
    fieldsets[0] = (name, {**options, "fields": [*options.get("fields", ()), VERSION]})
    return fieldsets


def _without_version(fields):
    # A non-editable model field named in a ModelForm's fields is an error;
    # the form declares its own field of that name instead.
    return None if fields is None else [name for name in fields if name != VERSION]


def _checks(model_admin, request, obj) -> bool:
    """Whether the page carries and checks versions: a change page whose rows
    the user may change.  (Rows shown read-only post no version: checking
    them would refuse every save.)"""
    return obj is not None and model_admin.has_change_permission(request, obj)


def _posted_int(form, name):
    try:
        return int(form.data.get(form.add_prefix(name)))
    except (TypeError, ValueError):
        return None


class _CarriesVersion:
    """A model form whose hidden ``version`` holds the version it was loaded at."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance.pk is None or VERSION in self.initial:
            return
        if getattr(instance, "_history", None) is not None:
            # simple-history's revert page shows an old state; what may not
            # have moved when it is saved is the row as it stands now.
            self.initial[VERSION] = locked_version(type(instance), instance.pk)
        else:
            self.initial[VERSION] = getattr(instance, VERSION)


class _ChecksVersion(_CarriesVersion):
    """The change form's own check: the object still has the version posted."""

    def clean(self):
        cleaned_data = super().clean()
        instance = self.instance
        if instance.pk is None:
            return cleaned_data
        model = type(instance)
        current = locked_version(model, instance.pk)
        if current is None:  # deleted meanwhile: the admin says so itself
            return cleaned_data
        if (cleaned_data or {}).get(VERSION) != current:
            change = last_change(model, instance.pk, current)
            raise ValidationError(
                stale_message(f"该{model._meta.verbose_name}", change), code=STALE
            )
        return cleaned_data


class _ChecksInlineVersions:
    """An inline formset's check: the rows under the object are still the
    ones the page showed (none added or deleted), each at the version posted."""

    def clean(self):
        # Before the formset's own checks: a page that is out of date is
        # refused whatever else is wrong with it.
        message = self.stale_rows_message()
        if message:
            raise ValidationError(message, code=STALE)
        super().clean()

    def stale_rows_message(self) -> str | None:
        parent = self.instance
        if not self.is_bound or parent is None or parent.pk is None:
            return None
        model = self.model
        pk_field = model._meta.pk
        posted = {}  # pk -> version, of the rows the page was loaded with
        for form in self.initial_forms:
            try:
                pk = pk_field.to_python(form.data.get(form.add_prefix(pk_field.name)))
            except ValidationError:
                continue
            if pk is not None:
                posted[pk] = _posted_int(form, VERSION)
        current = locked_versions(model._base_manager.filter(**{self.fk.name: parent}))
        conflicts = [(pk, "修改") for pk, v in posted.items() if pk in current and current[pk] != v]
        conflicts += [(pk, "删除") for pk in posted if pk not in current]
        conflicts += [(pk, "新增") for pk in current if pk not in posted]
        if not conflicts:
            return None
        # The latest of the changes names who to ask.
        known = [(last_change(model, pk, current.get(pk)), verb) for pk, verb in conflicts]
        known.sort(key=lambda item: (item[0] is not None, item[0] and item[0].when))
        change, verb = known[-1]
        what = f"该{parent._meta.verbose_name}的{model._meta.verbose_name}"
        return stale_message(what, change, verb)


class VersionedAdminMixin:
    """ModelAdmin base: the change form refuses a save over a newer version."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return _with_version(fieldsets) if _checks(self, request, obj) else fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        if "fields" not in kwargs:
            kwargs["fields"] = flatten_fieldsets(self.get_fieldsets(request, obj))
        kwargs["fields"] = _without_version(kwargs["fields"])
        form = super().get_form(request, obj, change=change, **kwargs)
        if not _checks(self, request, obj):
            return form
        return type(form.__name__, (_ChecksVersion, form), {VERSION: _version_field()})

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # An inline's refusal is shown above its table, far down the page:
        # say it at the top too, unless the form's own refusal already does.
        if change and request.method == "POST":
            adminform = context.get("adminform")
            form_errors = adminform.form.non_field_errors().as_data() if adminform else []
            if not any(error.code == STALE for error in form_errors):
                for inline in context.get("inline_admin_formsets", []):
                    for error in inline.formset.non_form_errors().as_data():
                        if error.code == STALE:
                            messages.error(request, error.messages[0])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_form_view(self, request, *args, **kwargs):
        # simple-history's revert page saves outside a transaction; the
        # check's lock needs one.
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().history_form_view(request, *args, **kwargs)


class VersionedInlineMixin:
    """InlineModelAdmin base: each row carries its version; the formset
    refuses rows changed, added or deleted since the page was loaded."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return _with_version(fieldsets) if _checks(self, request, obj) else fieldsets

    def get_formset(self, request, obj=None, **kwargs):
        if "fields" not in kwargs:
            kwargs["fields"] = flatten_fieldsets(self.get_fieldsets(request, obj))
        kwargs["fields"] = _without_version(kwargs["fields"])
        formset = super().get_formset(request, obj, **kwargs)
        if not _checks(self, request, obj):
            return formset
        form = type(
            formset.form.__name__, (_CarriesVersion, formset.form), {VERSION: _version_field()}
        )
        return type(formset.__name__, (_ChecksInlineVersions, formset), {"form": form})
