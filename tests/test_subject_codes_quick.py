"""The bulk import's quick code check gives parse_code's answer (python-stdnum's),
only faster: on every single-character corruption of real codes and on
random ones it accepts exactly what parse_code accepts, with the same kind."""

import random

import pytest
from django.core.exceptions import ValidationError
from stdnum.cn import ric, uscc

from subjects.codes import ORGANISATION, PERSON, Code, compact, parse_code, quick_kind
from tests.test_subject_codes import REAL_RIC, REAL_USCC, USCC_ALPHABET


def _credit_code(first17: str) -> str:
    return first17 + uscc.calc_check_digit(first17)


def _identity_number(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


# An all-digit credit code whose 7th–14th digits read as a date (12 January
# 1200), and identity numbers from a district with a history in stdnum's table.
DATE_LIKE_USCC = _credit_code("91420112000101002")
VALID = [
    *REAL_USCC,
    *REAL_RIC,
    DATE_LIKE_USCC,
    _credit_code("91420103MA4K12345"),
    _identity_number("42010619900307123"),
    _identity_number("42011519880101456"),  # 江夏区 exists only since 1995
]


def _reference(value: str) -> str | None:
    try:
        return parse_code(value).kind
    except ValidationError:
        return None


def _agree(value: str) -> None:
    """Quick accepts exactly the canonical codes parse_code accepts (others,
    such as lower case or spaces, it leaves to parse_code)."""
    kind = quick_kind(value)
    if value == compact(value):
        assert kind == _reference(value), value
    else:
        assert kind is None, value
    if kind is not None:
        assert parse_code(value) == Code(value, kind)


@pytest.mark.parametrize("code", VALID)
def test_it_agrees_with_parse_code_on_every_single_character_corruption(code):
    _agree(code)
    for position in range(18):
        for replacement in USCC_ALPHABET + "xIOSVZ -":
            _agree(code[:position] + replacement + code[position + 1 :])


def test_it_agrees_with_parse_code_on_random_codes():
    rng = random.Random(20240131)
    accepted = 0
    for _ in range(20000):
        shape = rng.randrange(4)
        if shape == 0:
            value = "".join(rng.choice(USCC_ALPHABET) for _ in range(18))
        elif shape == 1:
            value = "".join(rng.choice("0123456789") for _ in range(17)) + rng.choice("0123456789X")
        elif shape == 2:
            first17 = "91" + rng.choice(["420102", "420112", "110105"])
            first17 += "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
            value = _credit_code(first17) if rng.random() < 0.8 else first17 + "0"
        else:
            born = f"{rng.randint(1900, 2020)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            first17 = f"{rng.randint(100000, 999999)}{born}{rng.randint(0, 999):03d}"
            value = _identity_number(first17) if rng.random() < 0.8 else first17 + "0"
        _agree(value)
        accepted += quick_kind(value) is not None
    assert accepted > 4000  # the random codes exercise acceptance, not only refusal


def test_it_leaves_anything_not_canonical_to_parse_code():
    for value in [" 914403001922038216", "9144 03001922038216", "9144030071526726xg", "", None, 1]:
        assert quick_kind(value) is None


def test_a_credit_code_that_holds_a_date_is_read_as_a_credit_code():
    assert parse_code(DATE_LIKE_USCC).kind == ORGANISATION
    assert quick_kind(DATE_LIKE_USCC) == ORGANISATION
    assert parse_code(REAL_RIC[0]).kind == PERSON


def test_an_identity_number_from_an_unknown_county_is_refused_not_a_crash():
    # stdnum's table knows the province 36 but not the county 7459.
    code = _identity_number("36745919900101123")
    with pytest.raises(ValidationError, match="不是有效的身份证号码"):
        parse_code(code)
    assert quick_kind(code) is None
