"""A measure's legal basis (实施依据) in the admin.

On the memo's page each measure row has a 实施依据 box, written as the
spreadsheets write it (``法律：《中华人民共和国产品质量法》第十三条``, several
separated by ；), read by ``memo_registry.services.legal_basis``; a box that
cannot be read is refused with the reason and nothing is saved.  The
measure's own page edits the same bases one row each.  Every change is kept
by django-simple-history and listed on the memo's history page.
"""

from django import forms
from django.contrib import admin

from measures.models import BasisStatus, LegalBasis, Measure
from memo_registry.admin.history import changes_of
from memo_registry.services.legal_basis import SEPARATOR, format_bases, parse_bases, replace_bases

LEGAL_BASIS_FIELD = "legal_basis_text"


def legal_basis_field() -> forms.CharField:
    """The box, declared on the form as ``legal_basis_text``."""
    return forms.CharField(
        label="实施依据",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 36}),
        help_text=(
            f"每项写作“层级：标题 条款”，多项以“{SEPARATOR}”分隔；层级为"
            f"{'、'.join(LegalBasis.Level.values)}之一。留空即未录入。"
        ),
    )


class LegalBasisFieldMixin:
    """A ModelForm of Measure with the box ``legal_basis_text`` (declared by
    the form with :func:`legal_basis_field`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            bases = self.instance.legal_basis.order_by("order", "pk")
            self.initial.setdefault(LEGAL_BASIS_FIELD, format_bases(bases))

    def clean_legal_basis_text(self):
        bases, errors = parse_bases(self.cleaned_data.get(LEGAL_BASIS_FIELD))
        if errors:
            raise forms.ValidationError(errors)
        return bases

    def _save_m2m(self):
        super()._save_m2m()
        if self.instance.pk is None or LEGAL_BASIS_FIELD not in self.cleaned_data:
            return
        if self.instance._state.adding or LEGAL_BASIS_FIELD in self.changed_data:
            replace_bases(self.instance, self.cleaned_data[LEGAL_BASIS_FIELD])


class LegalBasisInline(admin.TabularInline):
    """The bases on the measure's own page, one row each."""

    model = LegalBasis
    extra = 0
    fields = ["order", "level", "title", "article"]


class BasisStatusFilter(admin.SimpleListFilter):
    title = "实施依据"
    parameter_name = "basis_status"

    def lookups(self, request, model_admin):
        return BasisStatus.choices

    def queryset(self, request, queryset):
        if self.value() in BasisStatus.values:
            return queryset.in_basis_status(self.value())
        return queryset


class BasicListFilter(admin.SimpleListFilter):
    """The measures that correspond to no item of the national basic list."""

    title = "全国基础清单"
    parameter_name = "basic_list"

    def lookups(self, request, model_admin):
        return [("none", "无对应条目"), ("some", "有对应条目")]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(basic_list_item="")
        if self.value() == "some":
            return queryset.exclude(basic_list_item="")
        return queryset


def legal_basis_history(memo_id) -> list[dict]:
    """The changes of the bases of a memo's measures (deleted measures
    included), latest first, each with the measure it belongs to."""
    measures = Measure.history.filter(memo_id=memo_id).order_by("history_date", "history_id")
    labels = {record.id: f"{record.order}、{record.text[:40]}" for record in measures}
    records = (
        LegalBasis.history.filter(measure_id__in=list(labels))
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[:200]
    )
    rows = changes_of(LegalBasis, records)
    for row in rows:
        row["measure"] = labels.get(row["record"].measure_id, "")
    return rows
