"""What the two upload forms share: the listing pages' (``/listings/import/``,
``/listings/lift/``) and the memo admin's import.

Each takes a spreadsheet and the responsibility list it is read against.  The
file is refused by its size before a byte of it is parsed or copied to the
import folder, and the list offered first is the current one.
"""

from django import forms

from memo_registry.lib.spreadsheet import size_refusal
from memos.models import ResponsibilityList

# What the file field's help text says first.
FILE_KINDS = "xlsx，或 UTF-8 / GB18030（GBK）编码的 csv"


def within_budget(upload) -> None:
    """A field validator: the upload is not larger than the import limit."""
    refusal = size_refusal(upload.name, upload.size)
    if refusal:
        raise forms.ValidationError(refusal)


class ListUploadMixin:
    """For a form with a file field named ``upload_field`` and a
    ``responsibility_list`` choice: the file is checked against the upload
    budget, and the current list is chosen unless the user picks another."""

    upload_field = "file"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # self.fields is this form's copy: the validator is not added twice.
        self.fields[self.upload_field].validators.append(within_budget)
        current = ResponsibilityList.current()
        if current is not None:
            self.fields["responsibility_list"].initial = current.pk
