import contextlib

from django.core.management.base import BaseCommand

from memo_registry.imports.listings import import_subject_rows
from memo_registry.lib.spreadsheet import LISTING, open_rows
from memo_registry.management.lists import add_list_argument, responsibility_list_for
from memo_registry.management.refusals import as_command_error


class Command(BaseCommand):
    help = (
        "导入名单记录（谁被列入哪份名单）：csv（UTF-8 / GB18030）或 xlsx，列为 统一社会信用代码"
        "（或 证件号码）、名称、列入依据、列入日期、有效期至、来源。全部通过校验才写入。"
    )

    def add_arguments(self, parser):
        add_list_argument(
            parser, "按哪份清单解析列入依据中的文号", file_help="要导入的 csv 或 xlsx 文件"
        )
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")

    def handle(self, *args, **options):
        with as_command_error():
            doc_number = options["list_doc_number"]
            # None: the pipeline reads the current list itself.
            responsibility_list = responsibility_list_for(doc_number) if doc_number else None
            info, rows = open_rows(options["file"], LISTING)
            # Closed at once when the import stops before the last row (a
            # refused header, a wrong row): the file is not left open.
            with contextlib.closing(rows):
                result = import_subject_rows(
                    rows,
                    file_name=info.file_name,
                    sha256=info.sha256,
                    encoding=info.encoding,
                    dry_run=options["dry_run"],
                    responsibility_list=responsibility_list,
                )
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
