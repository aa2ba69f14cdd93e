"""The responsibility list a command works on, named by its 文号 or the current one."""

from django.core.management.base import CommandError

from memo_registry.lib.text import canonical_doc_number
from memos.models import ResponsibilityList


def add_list_argument(parser, purpose: str, *, file_help: str = "") -> None:
    """The ``--list 文号`` option every command that works on one list takes;
    with ``file_help``, the spreadsheet it reads first."""
    if file_help:
        parser.add_argument("file", help=file_help)
    parser.add_argument(
        "--list",
        dest="list_doc_number",
        metavar="文号",
        help=f"{purpose}（默认现行清单）",
    )


def responsibility_list_for(doc_number: str | None) -> ResponsibilityList:
    """The list with this 文号 (any bracket style), or the current list when None."""
    if doc_number:
        found = ResponsibilityList.objects.filter(
            doc_number=canonical_doc_number(doc_number)
        ).first()
        if found is None:
            raise CommandError(f"找不到文号为 {doc_number} 的责任清单。")
        return found
    current = ResponsibilityList.current()
    if current is None:
        raise CommandError("没有现行的责任清单；请先在管理后台建立清单，或用 --list 指定文号。")
    return current
