from django.core.management.base import BaseCommand, CommandError

from memo_registry.imports.listings import SubjectImportError, import_subject_rows
from memo_registry.lib.spreadsheet import SpreadsheetError
from memo_registry.lib.spreadsheet_stream import open_rows
from memo_registry.lib.text import canonical_doc_number
from memos.models import ResponsibilityList


class Command(BaseCommand):
    help = (
        "导入名单记录（谁被列入哪份名单）：csv（UTF-8 / GB18030）或 xlsx，列为 统一社会信用代码"
        "（或 证件号码）、名称、列入依据、列入日期、有效期至、来源。全部通过校验才写入。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="要导入的 csv 或 xlsx 文件")
        parser.add_argument(
            "--list", dest="list_doc_number", help="按哪份清单解析列入依据中的文号（默认现行清单）"
        )
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")

    def handle(self, *args, **options):
        responsibility_list = None
        if options["list_doc_number"]:
            number = canonical_doc_number(options["list_doc_number"])
            responsibility_list = ResponsibilityList.objects.filter(doc_number=number).first()
            if responsibility_list is None:
                raise CommandError(f"没有文号为 {number} 的清单。")
        try:
            info, rows = open_rows(options["file"])
            result = import_subject_rows(
                rows,
                file_name=info.file_name,
                sha256=info.sha256,
                dry_run=options["dry_run"],
                responsibility_list=responsibility_list,
            )
        except SpreadsheetError as error:
            raise CommandError(str(error)) from None
        except SubjectImportError as error:
            raise CommandError(
                f"未导入任何数据，共 {error.total} 处错误：\n" + "\n".join(error.errors)
            ) from None
        for warning in result.warnings:
            self.stderr.write(f"注意：{warning}")
        if options["dry_run"]:
            # A dry run checks every row but does not compare them with the
            # registry, so it has no counts of new or changed records to give.
            self.stdout.write(
                f"（试运行，未写入）{info.file_name}：{result.rows} 行全部通过校验，"
                "去掉 --dry-run 即可导入。"
            )
            return
        self.stdout.write(
            f"{info.file_name}：{result.rows} 行；"
            f"新增主体 {result.subjects_created}，更新主体 {result.subjects_updated}；"
            f"新增名单记录 {result.listings_created}，更新 {result.listings_updated}，"
            f"未变 {result.listings_unchanged}。"
        )
