"""Identity codes of flagged subjects.

An organisation carries an 18-character 统一社会信用代码 (GB 32100-2015); a
natural person an 18-digit 居民身份证号码 (GB 11643-1999, ISO 7064 MOD 11-2).
Both are checked with python-stdnum (``stdnum.cn.uscc``, ``stdnum.cn.ric``).
"""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

ORGANISATION = "org"
PERSON = "person"

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)


@dataclass(frozen=True)
class Code:
    value: str
    kind: str  # ORGANISATION or PERSON
    checksum_ok: bool = True


def compact(raw: object) -> str:
    """Strip spaces and separators and upper-case the code."""
    text = "" if raw is None else str(raw)
    text = text.translate(_FULLWIDTH).strip()
    return re.sub(r"[\s\-_]", "", text).upper()


_FULLWIDTH = str.maketrans(
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＴＵＷＸＹｘ",
    "0123456789ABCDEFGHJKLMNPQRTUWXYx",
)


def parse_code(raw: object, *, allow_bad_checksum: bool = False, kind: str | None = None) -> Code:
    """The canonical code and its kind, or ValidationError saying what is wrong.

    ``kind`` (ORGANISATION or PERSON) checks the code as that kind only, for
    a column that says which it holds; without it, an all-digit number with a
    birth date is read as an identity number, anything else as a credit code.
    ``allow_bad_checksum`` accepts a code whose only fault is its check
    character (a few early pilot codes were issued so); the result says so.
    """
    if isinstance(raw, float) or (isinstance(raw, int) and not isinstance(raw, bool)):
        raise ValidationError(
            "代码被电子表格存成了数字（%(value)s），末几位已丢失：请把该列设为“文本”后重新录入。",
            params={"value": raw},
            code="number",
        )
    value = compact(raw)
    if not value:
        raise ValidationError("代码为空。", code="empty")
    if _SCIENTIFIC.match(value):
        raise ValidationError(
            "代码“%(value)s”是科学计数法的数字：电子表格把它存成了数字，末几位已丢失，请把该列设为“文本”后重新录入。",
            params={"value": value},
            code="number",
        )
    if len(value) != 18:
        raise ValidationError(
            "代码应为 18 位，“%(value)s”有 %(length)d 位。",
            params={"value": value, "length": len(value)},
            code="length",
        )
    if kind is None:
        kind = PERSON if _looks_like_ric(value) else ORGANISATION
        if kind == PERSON and not _passes(ric, value) and _passes(uscc, value):
            # An all-digit credit code can hold a date where an identity
            # number has its birth date (914201 12000101 0028: the 12th of
            # January 1200); one that fails as an identity number but passes
            # as a credit code is a credit code.
            kind = ORGANISATION
    if kind == PERSON:
        return _check(value, PERSON, ric.validate, allow_bad_checksum)
    return _check(value, ORGANISATION, uscc.validate, allow_bad_checksum)


def parse_leniently(raw: object) -> tuple[Code | None, str | None]:
    """``(code, error)``: the strict check's message (None when the code
    passes), and the code read even when its only fault is the check
    character (None when it is malformed).  A look-up answers the message;
    the code still finds a pilot code an administrator registered as an
    exception (Subject.checksum_exception)."""
    try:
        return parse_code(raw), None
    except ValidationError as strict:
        try:
            return parse_code(raw, allow_bad_checksum=True), strict.messages[0]
        except ValidationError:
            return None, strict.messages[0]


def _passes(module, value: str) -> bool:
    try:
        module.validate(value)
    except (StdnumError, KeyError):
        return False
    return True


def _looks_like_ric(value: str) -> bool:
    # A resident identity number is 17 digits and a check digit or X, with a
    # birth date at positions 7–14; a USCC almost never has that shape.
    if not (value[:17].isdigit() and (value[17].isdigit() or value[17] == "X")):
        return False
    try:
        ric.get_birth_date(value)
    except (InvalidComponent, ValueError):
        return False
    return True


def _check(value: str, kind: str, validate, allow_bad_checksum: bool) -> Code:
    label = "统一社会信用代码" if kind == ORGANISATION else "身份证号码"
    try:
        validate(value)
    except InvalidChecksum:
        if allow_bad_checksum:
            return Code(value, kind, checksum_ok=False)
        expected = (
            uscc.calc_check_digit(value[:17])
            if kind == ORGANISATION
            else ric.calc_check_digit(value)
        )
        raise ValidationError(
            "%(label)s“%(value)s”的校验位错误：最后一位应为 %(expected)s。",
            params={"label": label, "value": value, "expected": expected},
            code="checksum",
        ) from None
    except (InvalidFormat, InvalidLength, InvalidComponent, KeyError):
        # stdnum's birth-place lookup raises KeyError for a region code that
        # names a province but no county (367459…): that is a bad number too.
        if kind == PERSON:
            raise ValidationError(
                "“%(value)s”不是有效的身份证号码：应为 17 位数字加一位数字或 X，含有效的出生日期和地区码。",
                params={"value": value},
                code="format",
            ) from None
        bad = [c for c in value if c not in _USCC_ALPHABET]
        hint = f"含有不允许的字符“{''.join(dict.fromkeys(bad))}”" if bad else "格式不对"
        raise ValidationError(
            "“%(value)s”不是有效的统一社会信用代码或身份证号码：%(hint)s。",
            params={"value": value, "hint": hint},
            code="format",
        ) from None
    return Code(value, kind)


# --- a fast path for bulk imports ---------------------------------------------
#
# parse_code costs some 10 µs a code (stdnum compacts and re-checks every
# character); a province's listing file has a million.  quick_kind answers
# for the common case, a code already in canonical form that passes, in well
# under a microsecond, and gives up (None) on anything else, for the caller
# to ask parse_code for the verdict and its message.  It takes parse_code's
# steps in the same order (tests/test_subject_codes_quick.py compares the two on
# every single-character corruption of real codes and on random codes):
#
# * the GB 32100 check character: the weights are 3**i mod 31, and
#   34 = 3 (mod 31), so the weighted sum of the first 17 characters is, mod
#   31, the integer whose base-34 digits are those characters read backwards;
# * an identity number's check digit is stdnum's own ric.calc_check_digit;
#   its birth date and birth place (a lookup in stdnum's table of regions,
#   some 70 µs) are remembered per date and per (region, year);
# * an all-digit code with a birth date that fails as an identity number is
#   checked as a credit code, as parse_code does.

_CANONICAL = re.compile(r"[0-9]{8}[0-9A-HJ-NP-RTUWXY]{10}")
_AS_BASE_34 = str.maketrans(_USCC_ALPHABET, "0123456789abcdefghijklmnopqrstu")
_RIC_LAST = frozenset("0123456789X")
_CACHE_LIMIT = 200_000
_birth_dates: dict[str, bool] = {}
_birth_places: dict[tuple[str, int], bool] = {}


def quick_kind(value: str) -> str | None:
    """The kind ``parse_code(value)`` gives when ``value`` is a code in
    canonical form that passes, so that ``parse_code(value)`` would return
    ``Code(value, kind)``; None when parse_code must decide (it may still
    accept the value, e.g. after removing spaces, or refuse it)."""
    if type(value) is not str or not _CANONICAL.fullmatch(value):
        return None
    digits = value[:17].isdigit()
    if digits and value[17] in _RIC_LAST:
        looks_like_ric = _birth_dates.get(value[6:14])
        if looks_like_ric is None:
            looks_like_ric = _birth_date_valid(value[6:14])
        if looks_like_ric and _ric_valid(value):
            return PERSON
    head = value[16::-1]
    total = int(head if digits else head.translate(_AS_BASE_34), 34)
    return ORGANISATION if _USCC_ALPHABET[-total % 31] == value[17] else None


def _birth_date_valid(text: str) -> bool:
    try:
        datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        valid = True
    except ValueError:
        valid = False
    if len(_birth_dates) >= _CACHE_LIMIT:
        _birth_dates.clear()
    _birth_dates[text] = valid
    return valid


def _ric_valid(value: str) -> bool:
    if ric.calc_check_digit(value) != value[17]:
        return False
    key = (value[:6], int(value[6:10]))
    known = _birth_places.get(key)
    if known is None:
        try:
            ric.get_birth_place(value)
            known = True
        except (InvalidComponent, KeyError):
            known = False
        if len(_birth_places) >= _CACHE_LIMIT:
            _birth_places.clear()
        _birth_places[key] = known
    return known


def mask(value: str, kind: str) -> str:
    """A person's identity number shown as its first 6 and last 4 characters."""
    if kind != PERSON or len(value) < 10:
        return value
    return value[:6] + "*" * (len(value) - 10) + value[-4:]
