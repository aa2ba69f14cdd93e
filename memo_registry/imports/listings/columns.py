"""The columns of a listing file, and a cell as the listing import reads it."""

from memo_registry.imports.header import Columns
from memo_registry.lib.text import strip_control

#: A cell longer than this is refused: no code, name, date or source needs it.
MAX_CELL = 500

#: Column keys and the header spellings that name them (compared by
#: search_key).  The batch check finds a sheet's code column by the spellings
#: of "uscc", "id_number" and "code".
COLUMNS = {
    "uscc": ["统一社会信用代码", "社会信用代码", "信用代码"],
    "id_number": ["证件号码", "身份证号码", "身份证号", "公民身份号码"],
    "code": ["统一社会信用代码/证件号码", "统一社会信用代码/身份证号码", "代码", "主体代码"],
    "name": ["名称", "名称/姓名", "主体名称", "企业名称", "姓名", "单位名称"],
    "basis": ["列入依据", "名单类别", "名单"],
    "listed_on": ["列入日期", "认定日期"],
    "expires_on": ["有效期至", "有效期截止日期", "有效截止日期"],
    "source": ["来源", "认定部门", "认定单位", "认定机关"],
    "reason": ["认定依据", "列入原因"],
    # A listing's life (issue 15), optional: memo_registry/imports/listings/life.py.
    "decision_number": ["认定文书号", "认定决定书文号", "认定文书编号"],
    "severity": ["失信程度", "失信等级"],
    "lifted_on": ["移出日期"],
    "end_reason": ["移出原因", "移出类型"],
}
#: The name of each column in messages.
HEADER_NAMES = {
    "uscc": "统一社会信用代码",
    "id_number": "证件号码",
    "code": "统一社会信用代码/证件号码",
    "name": "名称",
    "basis": "列入依据",
    "listed_on": "列入日期",
    "expires_on": "有效期至",
    "source": "来源",
    "reason": "认定依据",
    "decision_number": "认定文书号",
    "severity": "失信程度",
    "lifted_on": "移出日期",
    "end_reason": "移出原因",
}
CODE_KEYS = ("code", "uscc", "id_number")
#: The header of a listing file.  It is looked for in the first 50 rows
#: only: a file of a million rows without one is not read to its end.
HEADER = Columns(
    names=HEADER_NAMES,
    aliases={key: tuple(aliases) for key, aliases in COLUMNS.items()},
    required=(
        ("统一社会信用代码或证件号码", CODE_KEYS),
        ("名称", ("name",)),
        ("列入依据", ("basis",)),
        ("列入日期", ("listed_on",)),
    ),
    search_rows=50,
)


def cell_text(value) -> str:
    """A cell's text, control characters removed and trimmed; "" for an empty cell."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return strip_control(str(value)).strip()
