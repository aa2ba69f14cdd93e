"""The memo import and export as django-import-export sees them.

The admin's import and export run through django-import-export's views
(upload, preview, confirm; format choice, download), but none of its
per-field logic: the :class:`MemoListResource` hands the uploaded bytes to
the same pipeline as ``manage.py import_memos`` (``run_import``) and turns
the plan into the ``Result`` whose rows the preview shows.  Its export writes
the rows of ``memo_registry.services.export`` through the same file writers as
``manage.py export_memos``.

The upload format is binary on purpose: django-import-export would decode a
CSV as UTF-8 and fail on what Excel in Chinese saves; ``spreadsheet.read_bytes``
detects the format and encoding itself.
"""

import tablib
from import_export.fields import Field
from import_export.formats.base_formats import Format
from import_export.resources import Resource
from import_export.results import Error, Result, RowResult

from memo_registry.imports.memos import ImportFailed, ImportOutcome, run_import
from memo_registry.imports.memos.parse import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from memo_registry.lib.spreadsheet import SpreadsheetError, read_bytes
from memo_registry.services import export
from memos.models import Memorandum, ResponsibilityList

PREVIEW_HEADERS = ["序号", "文号", "备忘录名称", "类型", "改动"]


class UploadedFile(tablib.Dataset):
    """The raw bytes of an uploaded file, carried through django-import-export unread."""

    def __init__(self, data: bytes):
        super().__init__()
        self.raw = data

    def __bool__(self) -> bool:
        # django-import-export refuses an "empty" dataset with its own message;
        # whether the file holds anything is for the pipeline to say.
        return True


class SpreadsheetUpload(Format):
    """Upload format: an xlsx or a csv (UTF-8 or GB18030), told apart by the pipeline."""

    def __init__(self, encoding: str | None = None):
        self.encoding = encoding  # django-import-export passes one; bytes need none

    def get_title(self) -> str:
        return "电子表格（xlsx 或 csv，自动识别）"

    def create_dataset(self, in_stream: bytes) -> UploadedFile:
        return UploadedFile(bytes(in_stream))

    def can_import(self) -> bool:
        return True

    def get_extension(self) -> str:
        return "xlsx"


class _TableDownload(Format):
    """Export format writing the document's layout through ``export.table_file``."""

    fmt = ""

    def __init__(self, encoding: str | None = None):
        self.encoding = encoding

    def get_title(self) -> str:
        return self.fmt

    def export_data(self, dataset: tablib.Dataset, **kwargs) -> bytes:
        return export.table_file(list(dataset), self.fmt)

    def can_export(self) -> bool:
        return True

    def get_extension(self) -> str:
        return self.fmt

    def get_content_type(self) -> str:
        return export.CONTENT_TYPES[self.fmt]


class XlsxDownload(_TableDownload):
    fmt = "xlsx"


class CsvDownload(_TableDownload):
    fmt = "csv"


class MemoListResource(Resource):
    """A responsibility list in the document's layout, imported by the memo pipeline."""

    @classmethod
    def get_display_name(cls) -> str:
        return "备忘录责任清单"

    def get_user_visible_fields(self) -> list[Field]:
        # Only so that the import and export pages list the columns.
        return [Field(column_name=name) for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)]

    def export(self, queryset=None, **kwargs) -> tablib.Dataset:
        """The memos as the rows of ``export_memos``, for the download formats above."""
        if queryset is None:
            queryset = Memorandum.objects.all()
        queryset = queryset.order_by("responsibility_list", "seq")
        return tablib.Dataset(*export.export_rows(queryset), headers=export.HEADERS)

    def import_data(
        self,
        dataset: UploadedFile,
        dry_run: bool = False,
        raise_errors: bool = False,
        use_transactions: bool | None = None,
        collect_failed_rows: bool = False,
        rollback_on_validation_errors: bool = False,
        **kwargs,
    ) -> Result:
        """Run the memo pipeline on the uploaded file; the preview or the import's Result."""
        file_name = kwargs.get("file_name") or "上传的文件"
        responsibility_list = kwargs.get("responsibility_list") or ResponsibilityList.current()
        result = self.get_result_class()()
        result.diff_headers = list(PREVIEW_HEADERS)
        result.summary = []
        if responsibility_list is None:
            return _failed(result, ["没有现行的责任清单，请先建立清单或选择一份清单。"])
        try:
            sheet = read_bytes(getattr(dataset, "raw", b""), file_name)
            outcome = run_import(
                sheet,
                responsibility_list,
                dry_run=dry_run,
                user=kwargs.get("user"),
                source="admin",
            )
        except SpreadsheetError as error:
            return _failed(result, [str(error)])
        except ImportFailed as error:
            return _failed(result, error.errors)
        return _preview(result, outcome)


def _failed(result: Result, messages: list[str]) -> Result:
    for message in messages:
        result.append_base_error(Error(ImportFailed([message])))
    return result


_IMPORT_TYPES = {
    "new": RowResult.IMPORT_TYPE_NEW,
    "update": RowResult.IMPORT_TYPE_UPDATE,
    "skip": RowResult.IMPORT_TYPE_SKIP,
}


def _preview(result: Result, outcome: ImportOutcome) -> Result:
    # The preview page says itself that nothing is written yet.
    result.summary = outcome.plan.summary()
    result.total_rows = len(outcome.plan.memos)
    for memo_plan in outcome.plan.memos:
        row = RowResult()
        row.import_type = _IMPORT_TYPES[memo_plan.action]
        data = memo_plan.data
        changes = {"new": "新建", "skip": "无变化"}.get(memo_plan.action)
        row.diff = [
            data.seq,
            data.doc_number,
            data.title,
            Memorandum.Kind(data.kind).label,
            changes or "、".join(memo_plan.changes),
        ]
        instance = memo_plan.written or memo_plan.memo
        if not outcome.dry_run and instance is not None:
            # The admin writes its change log (LogEntry) from these.
            row.instance = instance
            row.add_instance_info(instance)
        result.append_row_result(row)
        result.increment_row_result_total(row)
    return result
