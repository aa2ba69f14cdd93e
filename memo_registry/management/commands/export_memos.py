from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from memo_registry.management.lists import add_list_argument, responsibility_list_for
from memo_registry.services.export import export_file
from memos.models import Memorandum


class Command(BaseCommand):
    help = (
        "Export a responsibility list in the document's layout as xlsx, csv (UTF-8 with BOM) "
        "or json, to a file or to standard output."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["xlsx", "csv", "json"], default="xlsx")
        parser.add_argument("-o", "--output", metavar="FILE", help="default: standard output")
        add_list_argument(parser, "导出哪份清单")

    def handle(self, *args, format, output=None, list_doc_number=None, **options):
        memos = Memorandum.objects.filter(
            responsibility_list=responsibility_list_for(list_doc_number)
        )
        data = export_file(memos.order_by("seq"), format)
        if output:
            try:
                Path(output).write_bytes(data)
            except OSError as error:
                raise CommandError(f"无法写入 {output}：{error.strerror or error}") from error
            self.stderr.write(f"已导出 {memos.count()} 项备忘录到 {output}。")
        else:
            self._write_to_stdout(data, format)

    def _write_to_stdout(self, data: bytes, fmt: str) -> None:
        # Bytes where the stream takes them: an xlsx is binary, a csv keeps its BOM.
        stream = getattr(getattr(self.stdout, "_out", None), "buffer", None)
        if stream is not None:
            self.stdout.flush()
            stream.write(data)
            stream.flush()
        elif fmt != "xlsx":
            self.stdout.write(data.decode("utf-8"), ending="")
        else:
            raise CommandError("xlsx 是二进制文件，不能写到这里；请用 -o 指定文件。")
