"""The import a Django developer would write first: a django-import-export
ModelResource for Listing, one row at a time through the ORM.

It is the benchmark's yardstick, not part of the product.  It checks what
the product checks (the code with python-stdnum, the 列入依据 as a memo's
文号 or a list label, the dates) and is idempotent on (subject, list, date
listed), like ``import_subjects``.
"""

import tablib
from import_export import fields, resources, widgets

from memos.models import Memorandum
from subjects.codes import parse_code
from subjects.models import Listing, Subject, TargetSubject


class SubjectWidget(widgets.ForeignKeyWidget):
    """The subject by its code, created on first sight."""

    def __init__(self):
        super().__init__(Subject, "code")

    def clean(self, value, row=None, **kwargs):
        code = parse_code(value)
        subject, _ = Subject.objects.get_or_create(
            code=code.value, defaults={"kind": code.kind, "name": row["名称"]}
        )
        return subject


class ListWidget(widgets.ForeignKeyWidget):
    """The list a 列入依据 names: a memo's 文号, else a target subject's label."""

    def __init__(self):
        super().__init__(TargetSubject, "label")

    def clean(self, value, row=None, **kwargs):
        memo = Memorandum.objects.filter(doc_number=value).select_related("target_subject").first()
        if memo is not None:
            return memo.target_subject
        return TargetSubject.objects.get(label=value)


class ListingResource(resources.ModelResource):
    subject = fields.Field("subject", "统一社会信用代码", SubjectWidget())
    target_subject = fields.Field("target_subject", "列入依据", ListWidget())
    listed_on = fields.Field("listed_on", "列入日期", widgets.DateWidget("%Y-%m-%d"))
    expires_on = fields.Field("expires_on", "有效期至", widgets.DateWidget("%Y-%m-%d"))
    source = fields.Field("source", "来源")
    basis = fields.Field("basis", "认定依据")

    class Meta:
        model = Listing
        import_id_fields = ("subject", "target_subject", "listed_on")
        fields = ("subject", "target_subject", "listed_on", "expires_on", "source", "basis")
        skip_unchanged = True


def import_file(path) -> int:
    """Import a listing csv; the number of rows imported."""
    with open(path, encoding="utf-8-sig") as handle:
        dataset = tablib.Dataset().load(handle.read(), format="csv")
    result = ListingResource().import_data(dataset, dry_run=False, raise_errors=True)
    return result.total_rows
