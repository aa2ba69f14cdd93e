from django.core.management.base import BaseCommand, CommandError

from memo_registry.importing import ImportFailed, SpreadsheetError, read_path, run_import
from memo_registry.management.lists import responsibility_list_for


class Command(BaseCommand):
    help = (
        "Import memoranda from a spreadsheet (.xlsx, or .csv in UTF-8 or GB18030) in the "
        "document's layout into a responsibility list: all rows, or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx or .csv file")
        parser.add_argument(
            "--list",
            dest="list_doc_number",
            metavar="文号",
            help="the 文号 of the list to import into (default: the current list)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="show what would change, write nothing",
        )

    def handle(self, *args, file, list_doc_number=None, dry_run=False, **options):
        try:
            # The file first: a file that is refused never touches the database.
            sheet = read_path(file)
            responsibility_list = responsibility_list_for(list_doc_number)
            outcome = run_import(sheet, responsibility_list, dry_run=dry_run, source="command")
        except SpreadsheetError as error:
            raise CommandError(str(error)) from error
        except ImportFailed as error:
            raise CommandError("导入失败，未写入任何数据：\n" + "\n".join(error.errors)) from error
        for line in outcome.summary():
            self.stdout.write(line)
        if not dry_run:
            self.stdout.write(self.style.SUCCESS("导入完成。"))
