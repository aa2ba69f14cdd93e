"""Where the memo admin keeps an upload between its preview and its confirm step.

django-import-export writes the uploaded file to temporary storage at the
preview and puts the file's name in a hidden field of the confirm form; the
confirm POST names the file to parse, then delete.  Its default storage
(``TempFolderStorage``) takes that name as it comes, inside the system temp
folder, so a forged name made the server read and delete another file there,
and a preview never confirmed stayed for ever.  Here:

- :class:`ImportUploadStorage` keeps uploads in a folder of their own
  (``settings.IMPORT_TMP_DIR``, made with mode 0700 and refused if it is a
  symbolic link or someone else's), under random names it made itself, and
  refuses any other name before touching the file system;
- the confirm form carries not the name but a token signed with the
  project's key (:func:`issue_upload`) that binds the name to the user who
  uploaded it and expires with the upload; :class:`SignedConfirmImportForm`
  accepts only such a token, for the user who posts it
  (:func:`redeem_upload`);
- :func:`purge_stale_uploads` deletes uploads older than
  ``settings.IMPORT_UPLOAD_MAX_AGE`` (an hour): at every new upload, and from
  ``manage.py purge_import_uploads`` for a cron job; a file the preview
  refused (no confirm step) is deleted at once.

:class:`SignedUploadImportMixin` puts the three together for an
``ImportMixin`` admin.
"""

import os
import re
import secrets
import stat
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from import_export.forms import ConfirmImportForm
from import_export.tmp_storages import TempFolderStorage

# The names ImportUploadStorage makes: 128 random bits, nothing else.
_UPLOAD_NAME = re.compile(r"[0-9a-f]{32}\.upload")
_SALT = "memo_registry.imports.memos.uploads"

FORGED = "导入确认无效：所确认的文件不是本账号上传并预览的文件，未读取或写入任何数据。请重新上传。"
EXPIRED = "预览已超过一小时，上传的文件已删除，未写入任何数据。请重新上传。"


class UploadRefused(Exception):
    """A confirm step that names no upload issued to this user; the message says so."""


def upload_dir() -> Path:
    """The folder of uploads, made on first use with mode 0700.

    A folder that is a symbolic link, or owned by another user, is refused:
    under a shared temp folder another local user could have made it first.
    """
    path = Path(settings.IMPORT_TMP_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode):
        raise ImproperlyConfigured(f"IMPORT_TMP_DIR {path} 不是目录（或是符号链接）。")
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise ImproperlyConfigured(f"IMPORT_TMP_DIR {path} 属于其他用户，不能存放上传的文件。")
    if stat.S_IMODE(info.st_mode) & 0o077:
        path.chmod(0o700)
    return path


class ImportUploadStorage(TempFolderStorage):
    """django-import-export's temp-folder storage, in ``IMPORT_TMP_DIR``, with its own names."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.name is not None and not _UPLOAD_NAME.fullmatch(self.name):
            # Checked before any path is built from it.
            raise SuspiciousFileOperation("导入的临时文件名不是本系统生成的。")

    def get_full_path(self) -> str:
        return str(upload_dir() / self.name)

    def _open(self, mode="r"):
        if self.name:
            return super()._open(mode)
        # A new upload: a random name, created exclusively (an existing file
        # or link of that name is never opened), readable by this user only.
        self.name = f"{secrets.token_hex(16)}.upload"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        return os.fdopen(os.open(self.get_full_path(), flags, 0o600), "wb")


def issue_upload(name: str, user) -> str:
    """The token the confirm form carries for upload ``name`` of ``user``."""
    return signing.dumps({"name": name, "user": user.pk}, salt=_SALT)


def read_token(token: str, salt: str, user) -> dict:
    """What a confirm token signed with ``salt`` carries, if it was issued to ``user``.

    Raises UploadRefused (with the message to show) for a forged or altered
    token, another user's, or one older than ``IMPORT_UPLOAD_MAX_AGE``.  The
    listing pages' tokens are read here too (memo_registry/imports/listings/uploads.py).
    """
    try:
        data = signing.loads(token, salt=salt, max_age=settings.IMPORT_UPLOAD_MAX_AGE)
    except signing.SignatureExpired:
        raise UploadRefused(EXPIRED) from None
    except signing.BadSignature:
        raise UploadRefused(FORGED) from None
    if not isinstance(data, dict) or data.get("user") != getattr(user, "pk", None):
        raise UploadRefused(FORGED)
    return data


def redeem_upload(token: str, user) -> str:
    """The upload name ``token`` was issued for, if it was issued to ``user``.

    Raises UploadRefused (with the message to show) for anything else: a
    forged or altered token, a plain file name, another user's token, or one
    older than ``IMPORT_UPLOAD_MAX_AGE``.
    """
    data = read_token(token, _SALT, user)
    if not _UPLOAD_NAME.fullmatch(str(data.get("name", ""))):
        raise UploadRefused(FORGED)
    return data["name"]


def purge_stale_uploads(max_age: int | None = None) -> int:
    """Delete uploads older than ``max_age`` seconds (default ``IMPORT_UPLOAD_MAX_AGE``).

    Only files with the names the storage makes are touched, whatever else
    the folder holds.  Returns how many were deleted.
    """
    if max_age is None:
        max_age = settings.IMPORT_UPLOAD_MAX_AGE
    cutoff = time.time() - max_age
    deleted = 0
    with os.scandir(upload_dir()) as entries:
        for entry in entries:
            if not _UPLOAD_NAME.fullmatch(entry.name):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                    os.remove(entry.path)
                    deleted += 1
            except FileNotFoundError:
                pass  # confirmed or purged meanwhile by another process
    return deleted


class SignedConfirmImportForm(ConfirmImportForm):
    """The confirm step: ``import_file_name`` is a token from :func:`issue_upload`."""

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_import_file_name(self):
        try:
            return redeem_upload(self.cleaned_data["import_file_name"], self.user)
        except UploadRefused as refusal:
            raise forms.ValidationError(str(refusal)) from None


class SignedUploadImportMixin:
    """For an import-export ``ImportMixin`` admin whose confirm form is a SignedConfirmImportForm."""

    tmp_storage_class = ImportUploadStorage

    def write_to_tmp_storage(self, import_file, input_format):
        # Every new upload clears the previews nobody confirmed.
        purge_stale_uploads()
        return super().write_to_tmp_storage(import_file, input_format)

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        form = context.get("form")
        upload = (getattr(form, "cleaned_data", None) or {}).get("import_file")
        name = getattr(upload, "tmp_storage_name", None)
        if name and "confirm_form" not in context:
            # A file the preview refused has no confirm step: delete it now
            # rather than keep it for the purge.
            try:
                self.get_tmp_storage_class()(name=name).remove()
            except FileNotFoundError:
                pass
        return response

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["import_file_name"] = issue_upload(initial["import_file_name"], request.user)
        return initial

    def get_confirm_form_kwargs(self, request, import_form=None):
        return super().get_confirm_form_kwargs(request, import_form) | {"user": request.user}

    @method_decorator(require_POST)
    def process_import(self, request, **kwargs):
        # A confirm naming no upload of this user's is turned away here, with
        # the reason, before django-import-export reads or deletes anything.
        if self.has_import_permission(request):
            form = self.create_confirm_form(request)
            if not form.is_valid() and "import_file_name" in form.errors:
                for message in form.errors["import_file_name"]:
                    messages.error(request, message)
                opts = self.model._meta
                return HttpResponseRedirect(
                    reverse(
                        f"admin:{opts.app_label}_{opts.model_name}_import",
                        current_app=self.admin_site.name,
                    )
                )
        return super().process_import(request, **kwargs)
