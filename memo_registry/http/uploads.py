"""Request bodies held to their budget before they are read.

Every page that takes a file (the batch check, the memo admin's import and
preview) and the API are covered here, outside any view:

- :class:`UploadBudgetMiddleware` answers 413 (a page in Chinese, JSON under
  ``/api/``) to a request whose Content-Length is over the limit, before a
  byte of its body is read and before the session, the user or CSRF are
  looked at;
- :class:`BudgetUploadHandler`, the first of FILE_UPLOAD_HANDLERS, counts the
  bytes of the files as Django parses a multipart body, and stops the parse
  once they pass the same limit, whatever Content-Length said (a body sent
  without one, or with a false one to a server that passes the whole stream
  on); nothing of the file is kept, and the middleware answers 413.

The limit is the largest file an import takes (settings.IMPORT_MAX_BYTES)
plus room for the form around it; a body without files (the JSON API) has
settings.API_MAX_REQUEST_BYTES.  What is inside an accepted file is then
held to ``memo_registry.lib.spreadsheet``'s budgets.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from memo_registry.lib.spreadsheet import mebibytes

# The multipart framing and the form's other fields (the CSRF token, the
# list chosen for an import) around the file.
FORM_ALLOWANCE = 1024 * 1024


def request_limit(request) -> int:
    """The largest body this request may have, in bytes."""
    if request.content_type == "multipart/form-data" or not request.path_info.startswith("/api/"):
        return settings.IMPORT_MAX_BYTES + FORM_ALLOWANCE
    return settings.API_MAX_REQUEST_BYTES


def _declared_length(request) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def refusal(request, size: int | None) -> HttpResponse:
    """The 413 that refuses this request's body (``size`` when it is known)."""
    limit = request_limit(request)
    stated = f"有 {mebibytes(size)}，" if size is not None else ""
    message = (
        f"上传的内容{stated}超过了上限 {mebibytes(limit)}（所上传文件最大 "
        f"{mebibytes(settings.IMPORT_MAX_BYTES)}），未接收。请拆分文件后再上传。"
    )
    if request.path_info.startswith("/api/"):
        # The API's one error shape (memo_registry/api/errors.py).
        error = {"code": "request_too_large", "detail": message, "attr": None}
        return JsonResponse({"type": "client_error", "errors": [error]}, status=413)
    page = render_to_string("413.html", {"message": message})
    return HttpResponse(page, status=413)


class UploadBudgetMiddleware:
    """Refuse a body over the limit before reading it (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        size = _declared_length(request)
        if size is not None and size > request_limit(request):
            # The body is never read: the worker answers at once.
            return refusal(request, size)
        response = self.get_response(request)
        if getattr(request, "_upload_over_budget", False):
            # The parse was stopped later than process_view (a view read
            # request.FILES itself): whatever it answered, the upload failed.
            return refusal(request, None)
        return response

    def process_view(self, request, view, args, kwargs):
        # Parse a multipart body here, as CsrfViewMiddleware would next, so
        # that a body stopped by BudgetUploadHandler never reaches the view.
        if request.method == "POST" and request.content_type == "multipart/form-data":
            request.POST  # noqa: B018 (parses the body, through the upload handlers)
            if getattr(request, "_upload_over_budget", False):
                return refusal(request, None)
        return None


class BudgetUploadHandler(FileUploadHandler):
    """Counts a multipart body's file bytes as they arrive; stops the parse past the limit."""

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0
        self.limit = request_limit(request) if request is not None else None

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.limit is not None and self.received > self.limit:
            self.request._upload_over_budget = True
            # connection_reset: the parser reads nothing more, and closes
            # (so deletes) the temporary files it had begun.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handlers keep the file
