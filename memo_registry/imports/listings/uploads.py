"""Where a listing page keeps an upload between its preview and its confirm step.

The same approach as the memo admin's import (``memo_registry.imports.memos.uploads``):
the file waits in ``settings.IMPORT_TMP_DIR`` under a random name the server
made (``ImportUploadStorage``); the confirm form carries not a file nor a
name but a token signed with the project's key, binding the name to the
user who uploaded it, the kind of upload (a listing import or a lifting),
the file's SHA-256, the list chosen and the counts the preview showed.  A
re-posted file is never read: the confirm step reads the file the preview
read, or nothing.  Stale uploads are purged by the memo admin's
``purge_stale_uploads`` (at every new upload, and from
``manage.py purge_import_uploads``).
"""

import contextlib
from dataclasses import dataclass, field

from django.core import signing
from django.core.exceptions import SuspiciousFileOperation

from memo_registry.imports.memos.uploads import (
    FORGED,
    ImportUploadStorage,
    UploadRefused,
    purge_stale_uploads,
    read_token,
)

__all__ = ["Kept", "UploadRefused", "discard", "issue", "keep", "path_of", "redeem"]

_SALT = "memo_registry.imports.listings.uploads"
GONE = "上传的文件已失效（已确认过，或预览已过期被清理），未写入任何数据。请重新上传。"


@dataclass(frozen=True)
class Kept:
    """What the confirm step knows of an upload, all of it from the signed token."""

    name: str  # the random name in IMPORT_TMP_DIR
    kind: str  # "import" or "lift"
    file_name: str  # as the user's computer named it, for messages
    sha256: str
    list_id: int | None = None
    counts: dict = field(default_factory=dict)


def keep(upload) -> str:
    """Copy an uploaded file (Django's, read in chunks) to the upload folder;
    its new random name.  Every new upload clears the previews nobody confirmed."""
    purge_stale_uploads()
    storage = ImportUploadStorage()
    with storage._open("wb") as kept:
        for chunk in upload.chunks():
            kept.write(chunk)
    return storage.name


def path_of(name: str) -> str:
    """The path of a kept upload; SuspiciousFileOperation for a name the storage did not make."""
    return ImportUploadStorage(name=name).get_full_path()


def discard(name: str) -> None:
    with contextlib.suppress(FileNotFoundError, SuspiciousFileOperation):
        ImportUploadStorage(name=name).remove()


def issue(kept: Kept, user) -> str:
    """The token the confirm form carries for ``kept``, uploaded by ``user``."""
    return signing.dumps(
        {
            "name": kept.name,
            "user": user.pk,
            "kind": kept.kind,
            "file": kept.file_name,
            "sha256": kept.sha256,
            "list": kept.list_id,
            "counts": kept.counts,
        },
        salt=_SALT,
    )


def redeem(token: str, user, kind: str) -> Kept:
    """The upload ``token`` names, if it was issued to ``user`` for ``kind``
    and the file is still there.  UploadRefused (with the message to show)
    for anything else: forged, altered, another user's or another kind's
    token, one older than ``IMPORT_UPLOAD_MAX_AGE``, a file already used."""
    data = read_token(token or "", _SALT, user)
    if data.get("kind") != kind:
        raise UploadRefused(FORGED)
    try:
        path = path_of(str(data.get("name", "")))
    except SuspiciousFileOperation:
        raise UploadRefused(FORGED) from None
    try:
        with open(path, "rb"):
            pass
    except OSError:
        raise UploadRefused(GONE) from None
    return Kept(
        name=data["name"],
        kind=kind,
        file_name=str(data.get("file", "")),
        sha256=str(data.get("sha256", "")),
        list_id=data.get("list"),
        counts=data.get("counts") or {},
    )
