"""Listings managed in the browser: upload a sheet, see its preview, confirm.

Two kinds of sheet, each in two steps (``/listings/import/`` and
``/listings/lift/``, then ``…/confirm/``):

- a listings sheet, the columns ``manage.py import_subjects`` reads, through
  the same pipeline (``memo_registry.imports.listings``);
- a sheet of listings to lift (信用修复 / 移出名单): code, 列入依据, 移出日期,
  移出原因 (``memo_registry.imports.listings.lifting``).

The preview runs the pipeline and rolls it back (``imports.listings.sheets``);
the uploaded file waits in the import folder and the confirm form carries a
signed token naming it (``imports.listings.uploads``), never the file.  Any
error, by row and column, means nothing is written.  Editors and
administrators only (``audit.upload_listings``); people's identity numbers
are masked for users without subjects.view_full_identity.
"""

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import DatabaseError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from memo_registry.imports.errors import ImportFailed, database_refusal
from memo_registry.imports.listings import sheets, uploads
from memo_registry.imports.listings.columns import HEADER as LISTING_HEADER
from memo_registry.imports.listings.lifting import HEADER as LIFT_HEADER
from memo_registry.imports.upload_form import FILE_KINDS, ListUploadMixin
from memo_registry.lib.masking import mask_in_text
from memo_registry.lib.spreadsheet import SpreadsheetError
from memos.models import ResponsibilityList
from subjects.models import Listing

# Columns of a listing shown only by the subject and list columns of the preview.
_NOT_SHOWN = {"id", "subject", "target_subject", "import_batch", "version"}


@dataclass(frozen=True)
class Kind:
    key: str
    title: str
    columns: str  # what the sheet holds, for the page: its required and optional columns
    url: str
    confirm_url: str


def columns_told(header) -> str:
    """必填列 and 可选列 of a sheet, in the words of its header names."""
    required_keys = {key for _, keys in header.required for key in keys}
    required = "、".join(label for label, _ in header.required)
    optional = [
        name for key, name in header.names.items() if key not in required_keys and "/" not in name
    ]
    told = f"必填列：{required}"
    return f"{told}；可选列：{'、'.join(dict.fromkeys(optional))}" if optional else told


KINDS = {
    "import": Kind(
        "import",
        "导入名单",
        columns_told(LISTING_HEADER),
        "listing_import",
        "listing_import_confirm",
    ),
    "lift": Kind(
        "lift",
        "批量移出名单（信用修复）",
        columns_told(LIFT_HEADER),
        "listing_lift",
        "listing_lift_confirm",
    ),
}


def _can_upload(view):
    """Anonymous visitors go to the sign-in page; 查阅 gets 403."""
    return login_required(permission_required("audit.upload_listings", raise_exception=True)(view))


class UploadForm(ListUploadMixin, forms.Form):
    file = forms.FileField(label="表格（xlsx 或 csv）")
    responsibility_list = forms.ModelChoiceField(
        label="列入依据对照的责任清单",
        queryset=ResponsibilityList.objects.all(),
        empty_label=None,
        help_text="列入依据中的文号按这份清单中的备忘录解析（默认现行清单）。",
    )

    def __init__(self, *args, kind: Kind, **kwargs):
        super().__init__(*args, **kwargs)
        order = "列的顺序不限，表头上方的标题行会跳过"
        self.fields["file"].help_text = f"{FILE_KINDS}。{kind.columns}（{order}）。"


@_can_upload
def listing_import(request):
    return _upload(request, KINDS["import"])


@_can_upload
def listing_lift(request):
    return _upload(request, KINDS["lift"])


@_can_upload
@require_POST
def listing_import_confirm(request):
    return _confirm(request, KINDS["import"])


@_can_upload
@require_POST
def listing_lift_confirm(request):
    return _confirm(request, KINDS["lift"])


def _upload(request, kind: Kind):
    form = UploadForm(request.POST or None, request.FILES or None, kind=kind)
    if request.method != "POST" or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return _page(request, kind, form, status=status)
    upload = form.cleaned_data["file"]
    responsibility_list = form.cleaned_data["responsibility_list"]
    file_name = upload.name[-200:]
    name = uploads.keep(upload)
    try:
        outcome = sheets.run_sheet(
            kind.key,
            uploads.path_of(name),
            file_name,
            user=request.user,
            responsibility_list=responsibility_list,
        )
    except (ImportFailed, SpreadsheetError, DatabaseError) as error:
        uploads.discard(name)
        return _page(request, kind, form, errors=_errors(request, error), status=400)
    kept = uploads.Kept(
        name, kind.key, outcome.file_name, outcome.sha256, responsibility_list.pk, outcome.counts
    )
    return _preview(request, kind, outcome, kept, responsibility_list)


def _confirm(request, kind: Kind):
    form = UploadForm(kind=kind)
    try:
        kept = uploads.redeem(request.POST.get("token", ""), request.user, kind.key)
    except uploads.UploadRefused as refusal:
        return _page(request, kind, form, errors=[str(refusal)], status=400)
    responsibility_list = ResponsibilityList.objects.filter(pk=kept.list_id).first()
    try:
        if responsibility_list is None:
            raise uploads.UploadRefused("所选清单已不存在，未写入任何数据。请重新上传。")
        outcome = sheets.run_sheet(
            kind.key,
            uploads.path_of(kept.name),
            kept.file_name,
            user=request.user,
            responsibility_list=responsibility_list,
            write=True,
            expected=kept.counts,
            sha256=kept.sha256,
        )
    except uploads.UploadRefused as refusal:
        uploads.discard(kept.name)
        return _page(request, kind, form, errors=[str(refusal)], status=400)
    except (ImportFailed, SpreadsheetError, DatabaseError) as error:
        # The registry changed since the preview in a way that makes a row
        # wrong (a listing lifted meanwhile, a memo removed): nothing written.
        uploads.discard(kept.name)
        return _page(request, kind, form, errors=_errors(request, error), status=400)
    if outcome.stale:
        kept = uploads.Kept(
            kept.name, kind.key, kept.file_name, kept.sha256, kept.list_id, outcome.counts
        )
        return _preview(request, kind, outcome, kept, responsibility_list, stale=True)
    uploads.discard(kept.name)
    messages.success(request, _done(kind, outcome))
    return redirect(kind.url)


def _done(kind: Kind, outcome) -> str:
    counts, batch = outcome.counts, outcome.result.batch
    if kind.key == "lift":
        return (
            f"已移出 {counts['lifted']} 条名单记录，{counts['unchanged']} 条此前已移出未变"
            f"（{outcome.file_name}，{counts['rows']} 行；导入记录 {batch.pk}）。"
        )
    return (
        f"导入完成（{outcome.file_name}，{counts['rows']} 行；导入记录 {batch.pk}）："
        f"新增主体 {counts['subjects_created']}，更新主体 {counts['subjects_updated']}；"
        f"新增名单记录 {counts['listings_created']}，更新 {counts['listings_updated']}，"
        f"未变 {counts['listings_unchanged']}。"
    )


def _errors(request, error) -> list[str]:
    if isinstance(error, ImportFailed):
        lines = [f"未写入任何数据（共 {error.total} 处错误）。", *error.errors]
    elif isinstance(error, DatabaseError):
        lines = [database_refusal(error)]
    else:
        lines = [str(error)]
    if request.user.has_perm("subjects.view_full_identity"):
        return lines
    return [mask_in_text(line) for line in lines]


def _page(request, kind: Kind, form, *, errors=(), status=200):
    context = {"kind": kind, "kinds": KINDS, "form": form, "errors": errors}
    return render(request, "listings/upload.html", context, status=status)


def _preview(request, kind: Kind, outcome, kept, responsibility_list, *, stale=False):
    user = request.user
    context = {
        "kind": kind,
        "kinds": KINDS,
        "outcome": outcome,
        "counts": outcome.counts,
        "token": uploads.issue(kept, user),
        "responsibility_list": responsibility_list,
        "stale": stale,
        "shown": sheets.SHOWN,
    }
    if kind.key == "lift":
        context["lifted"] = [_lifting_row(item, user) for item in outcome.result.to_lift]
        context["unchanged"] = [_lifting_row(item, user) for item in outcome.result.unchanged]
    else:
        columns = _listing_columns(outcome.added + outcome.updated)
        context["columns"] = [label for _, label in columns]
        context["added"] = [_listing_row(item, columns, user) for item in outcome.added]
        context["updated"] = [_listing_row(item, columns, user) for item in outcome.updated]
        context["warnings"] = outcome.result.warnings
    return render(request, "listings/preview.html", context, status=409 if stale else 200)


def _listing_columns(listings) -> list[tuple[str, str]]:
    """(attribute, label) of every listing field the sheet filled, whatever
    columns the pipeline reads; 列入日期 always."""
    columns = []
    for model_field in Listing._meta.concrete_fields:
        if model_field.name in _NOT_SHOWN:
            continue
        name = model_field.attname
        if name == "listed_on" or any(_value(item, name) for item in listings):
            columns.append((name, str(model_field.verbose_name)))
    return columns


def _value(listing, name: str) -> str:
    display = getattr(listing, f"get_{name}_display", None)
    value = display() if display else getattr(listing, name)
    if value is None or value is False:
        return ""
    if value is True:
        return "是"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _listing_row(listing, columns, user) -> dict:
    return {
        "name": listing.subject.name,
        "code": listing.subject.code_for(user),
        "list": listing.target_subject.label,
        "values": [_value(listing, name) for name, _ in columns],
    }


def _lifting_row(item, user) -> dict:
    listing = item.listing
    return {
        "row": item.row,
        "name": listing.subject.name,
        "code": listing.subject.code_for(user),
        "list": listing.target_subject.label,
        "listed_on": listing.listed_on,
        "expires_on": listing.expires_on,
        "lifted_on": item.lifted_on,
        "reason": item.reason,
    }
