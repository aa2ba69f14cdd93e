"""Schemathesis hooks for tests/test_api_contract.py (loaded through SCHEMATHESIS_HOOKS).

The schema marks code fields with custom formats (memo_registry/api/params.py):
``uscc`` is a 统一社会信用代码 and ``uscc-or-ric`` also a 居民身份证号码, each with
a correct check character, which no pattern can say.  These strategies make
such codes, so that a schema-valid request is one the API must accept.
"""

import datetime
import re

import schemathesis
from hypothesis import strategies as st
from stdnum.cn import ric, uscc


def _credit_code(n: int) -> str:
    base = f"914201{n:011d}"
    return base + uscc.calc_check_digit(base)


def _identity_number(n: int) -> str:
    base = f"110105{1950 + n % 50}{n % 12 + 1:02d}{n % 28 + 1:02d}{n % 1000:03d}"
    return base + ric.calc_check_digit(base + "0")


credit_codes = st.integers(min_value=0, max_value=10**11 - 1).map(_credit_code)
schemathesis.openapi.format("uscc", credit_codes)
schemathesis.openapi.format(
    "uscc-or-ric", credit_codes | st.integers(min_value=0, max_value=10**6).map(_identity_number)
)


# Real bounds on dates that OpenAPI 3.0 cannot state, each in the
# operation's description; generated dates are moved inside them so that a
# valid request stays valid (anything that is not a date is left as it is,
# for the API to refuse):
#
# - the subject answers' ``on`` is not after today (what applies on a later
#   day is not known yet): a later day is moved into last year;
# - /api/stats/ ``from`` is not after ``to`` (``to`` defaults to today),
#   /api/work/ ``listed_from`` not after ``listed_to``: a reversed pair is
#   swapped, a lone ``from`` after today moved into last year.
#
# (Schemathesis's coverage phase does not run these hooks: the values it
# picks, such as 2000-01-01, must be valid as they are.)
#
# "Today" has a day's margin: the server's (its TIME_ZONE) may differ from
# this process's by a day.
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DAY = datetime.timedelta(days=1)


def _day(value):
    if not isinstance(value, str) or not ISO_DAY.fullmatch(value):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def _in_year(day, year):
    return day.replace(year=year, day=min(day.day, 28)).isoformat()


def _not_after_today(value):
    day, today = _day(value), datetime.date.today()
    if day is None or day < today - DAY:
        return value
    return _in_year(day, today.year - 1)


def _in_order(values, start_name, end_name, to_defaults_to_today):
    start, end = _day(values.get(start_name)), _day(values.get(end_name))
    if start and end:
        if start > end:
            values = {**values, start_name: values[end_name], end_name: values[start_name]}
    elif to_defaults_to_today and start and end_name not in values:
        values = {**values, start_name: _not_after_today(values[start_name])}
    return values


def _within_bounds(ctx, values):
    path = ctx.operation.path if ctx.operation is not None else ""
    if not isinstance(values, dict):
        return values
    if path.startswith("/api/subjects/") and "on" in values:
        values = {**values, "on": _not_after_today(values["on"])}
    elif path == "/api/stats/":
        values = _in_order(values, "from", "to", to_defaults_to_today=True)
    elif path == "/api/work/":
        values = _in_order(values, "listed_from", "listed_to", to_defaults_to_today=False)
    return values


@schemathesis.hook
def map_query(ctx, query):
    return _within_bounds(ctx, query)


@schemathesis.hook
def map_body(ctx, body):
    return _within_bounds(ctx, body)
