"""The optional columns of a listing's life (issue 15): 认定文书号, 失信程度,
移出日期, 移出原因 (认定机关 is the 来源 column, by another name).

A column the file does not have gives None, which the loaders read as
"keep what the listing has" (``COALESCE``); a column it has gives the
cell's value, "" for an empty cell.  ``life_values`` is the one rule both
paths of ``validate.Validator`` apply: with ``report`` it names every
problem; without, it answers None for the reference path to explain.
"""

from memo_registry.imports.listings.columns import cell_text
from memo_registry.lib.dates import parse_date
from memo_registry.lib.text import squeeze
from subjects.models import EndReason, Severity

LIFE_KEYS = ("decision_number", "severity", "lifted_on", "end_reason")
#: What a row holds when the file has none of the columns.
NO_LIFE = (None, None, None, None)
ABSENT = object()
DECISION_NUMBER_MAX = 100
_SEVERITIES = {**{value: value for value in Severity.values}, "轻微失信": "轻微", "一般失信": "一般", "严重失信": "严重"}  # fmt: skip


def life_values(raw: dict, listed_on: str | None, escape, report=None) -> tuple | None:
    """(认定文书号, 失信程度, 移出日期 as ISO text, 移出原因) from the raw cells by
    key (``ABSENT`` for a column the file lacks); None when a cell is wrong
    (each problem given to ``report(key, message)`` when there is one)."""
    problems = []

    def refuse(key: str, message: str) -> None:
        problems.append(key)
        if report is not None:
            report(key, message)

    number = _text(raw["decision_number"])
    if number is not None and len(number) > DECISION_NUMBER_MAX:
        refuse(
            "decision_number",
            f"认定文书号有 {len(number)} 个字符，超过上限 {DECISION_NUMBER_MAX}。",
        )
    severity = _text(raw["severity"])
    if severity:
        if severity not in _SEVERITIES:
            refuse("severity", f"失信程度「{severity}」无法识别，应为轻微、一般或严重。")
        severity = _SEVERITIES.get(severity, severity)
    lifted_on = None
    lifted_text = _text(raw["lifted_on"])
    if lifted_text:
        try:
            lifted_on = parse_date(raw["lifted_on"]).isoformat()
        except ValueError as error:
            refuse("lifted_on", str(error))
        if lifted_on and listed_on and lifted_on < listed_on:
            refuse("lifted_on", f"移出日期 {lifted_on} 早于列入日期 {listed_on}。")
    reason = _text(raw["end_reason"])
    if reason:
        if reason not in EndReason.values:
            refuse(
                "end_reason",
                f"移出原因「{reason}」无法识别，应为{'、'.join(EndReason.values)}之一。",
            )
        elif not lifted_text:
            refuse("end_reason", "填写了移出原因，但移出日期为空。")
    if problems:
        return None
    return (None if number is None else escape(number), severity, lifted_on, reason)


def _text(value) -> str | None:
    if value is ABSENT:
        return None
    return squeeze(cell_text(value))


# --- the merge's SQL (PostgreSQL and SQLite alike) ------------------------------------
# A staged NULL keeps what the listing has; a staged value replaces it.

#: The SET clause of the merge's UPDATE: ``{table}`` is the listing table's
#: name, ``{new}`` the staged row's.
LIFE_SET = (
    "decision_number = COALESCE({new}.decision_number, {table}.decision_number),"
    " severity = COALESCE({new}.severity, {table}.severity),"
    " lifted_on = COALESCE({new}.lifted_on, {table}.lifted_on),"
    " end_reason = COALESCE({new}.end_reason, {table}.end_reason)"
)
#: Whether the staged row ``{new}`` changes the life of the listing ``{table}``.
LIFE_CHANGED = (
    "{new}.decision_number <> {table}.decision_number OR {new}.severity <> {table}.severity"
    " OR {new}.end_reason <> {table}.end_reason"
    " OR ({new}.lifted_on IS NOT NULL"
    "     AND ({table}.lifted_on IS NULL OR {new}.lifted_on <> {table}.lifted_on))"
)
#: The values of a new listing's life, from the staged row ``{new}``.
LIFE_NEW = (
    "COALESCE({new}.decision_number, ''), COALESCE({new}.severity, ''),"
    " COALESCE({new}.end_reason, '')"
)
