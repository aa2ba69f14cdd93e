import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from memo_registry.imports.locks import lock_memo_imports
from memo_registry.imports.memos import read_path, run_import
from memo_registry.lib.text import canonical_doc_number
from memo_registry.management.lists import add_list_argument, responsibility_list_for
from memo_registry.management.refusals import as_command_error
from memos.models import ResponsibilityList


class Command(BaseCommand):
    help = (
        "Import memoranda from a spreadsheet (.xlsx, or .csv in UTF-8 or GB18030) in the "
        "document's layout into a responsibility list: all rows, or nothing."
    )

    def add_arguments(self, parser):
        add_list_argument(parser, "导入到哪份清单", file_help="the .xlsx or .csv file")
        parser.add_argument(
            "--create-list",
            action="store_true",
            help=(
                "create the list named by --list when the registry has none with that 文号 "
                "(e.g. loading an export into an empty database); it becomes the current "
                "list when no list is current"
            ),
        )
        parser.add_argument("--title", help="with --create-list: the list's title (清单名称)")
        parser.add_argument("--issuer", default="", help="with --create-list: 发文机关")
        parser.add_argument(
            "--date",
            type=datetime.date.fromisoformat,
            help="with --create-list: 发文日期 (YYYY-MM-DD)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="show what would change, write nothing",
        )

    def handle(self, *args, file, list_doc_number=None, dry_run=False, **options):
        if options["create_list"] and not list_doc_number:
            raise CommandError("--create-list 需要同时用 --list 指定新清单的文号。")
        # SQLite's write lock held past its timeout by another import, or (on
        # a database without the lock) the same list created meanwhile, is
        # refused like a file.
        with as_command_error():
            # The file first: a file that is refused never touches the database.
            sheet = read_path(file)
            # A list created here is part of the import: refused or dry, it goes too.
            with transaction.atomic():
                # Before the list is looked for: a second import run at the
                # same time waits here until this one has committed.
                lock_memo_imports()
                if options["create_list"]:
                    responsibility_list = self._created_list(list_doc_number, options)
                else:
                    responsibility_list = responsibility_list_for(list_doc_number)
                outcome = run_import(sheet, responsibility_list, dry_run=dry_run, source="command")
                if dry_run:
                    transaction.set_rollback(True)
        for line in outcome.summary():
            self.stdout.write(line)
        if not dry_run:
            self.stdout.write(self.style.SUCCESS("导入完成。"))

    def _created_list(self, doc_number: str, options) -> ResponsibilityList:
        number = canonical_doc_number(doc_number)
        existing = ResponsibilityList.objects.filter(doc_number=number).first()
        if existing is not None:
            return existing
        created = ResponsibilityList.objects.create(
            doc_number=number,
            title=options["title"] or f"联合奖惩备忘录责任清单（{number}）",
            issuer=options["issuer"] or "",
            issued_on=options["date"],
        )
        if ResponsibilityList.current() is None:
            created.make_current()
        self.stdout.write(f"已建立清单 {created}。")
        return created
