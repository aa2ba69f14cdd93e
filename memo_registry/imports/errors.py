"""The one form in which both imports (memos, listings) refuse a file.

Every problem is one message naming where it is, as the person who made the
file finds it, then why::

    文件 清单.csv 第 5 行「列入日期」列：「2025-02-30」不是有效的日期（应如 2024-01-31）。
    文件 清单.csv 第 1 行：表头缺少必需的列：列入日期。
    文件 清单.csv：表头（第 1 行）下没有数据。

(the row as the spreadsheet numbers it, the column by its header name; each
part only when the problem has one).  An import collects every problem of
the file in an :class:`ErrorList` and raises :class:`ImportFailed` with them:
the commands print them, the memo admin's preview shows the same messages.
"""

from typing import NoReturn

# Problems beyond this many are counted, not listed: a file with a wrong
# column has as many errors as rows.
MAX_ERRORS_SHOWN = 200


def where(file_name: str, row: int | None = None, column: str | None = None) -> str:
    """The part of a message that says where: ``文件 X 第 N 行「列」列``."""
    place = f"文件 {file_name}"
    if row is not None:
        place += f" 第 {row} 行"
    if column:
        place += f"「{column}」列"
    return place


class ImportFailed(Exception):
    """The file was refused and nothing was written; ``errors`` are the
    messages (at most MAX_ERRORS_SHOWN, then a line counting the rest),
    ``total`` how many problems were found."""

    def __init__(self, errors: list[str], total: int | None = None):
        self.errors = errors
        self.total = total if total is not None else len(errors)
        super().__init__("\n".join(errors))

    def report(self) -> str:
        """What a command prints: one headline, then every message."""
        return f"导入失败，未写入任何数据（共 {self.total} 处错误）：\n" + "\n".join(self.errors)


class ErrorList:
    """Collects the problems of one file, each as ``where(...)：reason``."""

    def __init__(self, file_name: str):
        self.file_name = file_name
        self.messages: list[str] = []
        self.count = 0

    def add(self, reason: str, row: int | None = None, column: str | None = None) -> None:
        self.count += 1
        if len(self.messages) < MAX_ERRORS_SHOWN:
            self.messages.append(f"{where(self.file_name, row, column)}：{reason}")

    def raise_if_any(self) -> None:
        if not self.count:
            return
        shown = list(self.messages)
        if self.count > len(shown):
            shown.append(f"……另有 {self.count - len(shown)} 处错误未列出。")
        raise ImportFailed(shown, self.count)


def refuse(
    file_name: str, reason: str, row: int | None = None, column: str | None = None
) -> NoReturn:
    """Raise ImportFailed for one problem."""
    raise ImportFailed([f"{where(file_name, row, column)}：{reason}"])


def database_refusal(error: Exception) -> str:
    """What a command says when the database refused the import's work."""
    return (
        f"导入未完成，未写入任何数据：数据库正被另一个导入占用，或拒绝了写入（{error}）。"
        "请稍后重试。"
    )
