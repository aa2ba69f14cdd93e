"""Identity codes are checked with python-stdnum and stored canonical."""

import pytest
from django.core.exceptions import ValidationError

from subjects.codes import ORGANISATION, PERSON, mask, parse_code
from subjects.models import Subject
from tests.factories import SubjectFactory

# Published 统一社会信用代码 of well-known enterprises (national enterprise
# credit information publicity system) and the example number of GB 11643.
REAL_USCC = [
    "914403001922038216",  # 华为技术有限公司
    "9144030071526726XG",  # 腾讯科技（深圳）有限公司
    "91330100799655058B",  # 阿里巴巴（中国）有限公司
    "91110000710926094P",  # 中国石油化工股份有限公司
    "91110108551385082Q",  # 小米科技有限责任公司
]
REAL_RIC = ["11010519491231002X"]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@pytest.mark.parametrize("code", REAL_USCC)
def test_it_accepts_real_credit_codes(code):
    assert parse_code(code).value == code
    assert parse_code(code).kind == ORGANISATION


def test_it_accepts_the_standards_example_identity_number():
    parsed = parse_code(REAL_RIC[0])
    assert (parsed.value, parsed.kind) == (REAL_RIC[0], PERSON)


@pytest.mark.parametrize(
    ("code", "kind"), [(code, ORGANISATION) for code in REAL_USCC] + [(REAL_RIC[0], PERSON)]
)
def test_it_refuses_every_single_character_corruption(code, kind):
    refused = 0
    for position in range(len(code)):
        for replacement in USCC_ALPHABET:
            if replacement == code[position]:
                continue
            corrupted = code[:position] + replacement + code[position + 1 :]
            with pytest.raises(ValidationError):
                parse_code(corrupted, kind=kind)
            refused += 1
    assert refused == 18 * (len(USCC_ALPHABET) - 1)


def test_a_wrong_check_character_is_named_as_such():
    with pytest.raises(ValidationError) as error:
        parse_code("914403001922038217")
    assert "校验位错误" in error.value.messages[0]
    assert "应为 6" in error.value.messages[0]


def test_codes_are_stripped_and_upper_cased():
    assert parse_code(" 9144 0300-7152 6726xg ").value == "9144030071526726XG"
    assert parse_code("９１４４０３００１９２２０３８２１６").value == "914403001922038216"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "为空"),
        ("91440300192203821", "18 位"),
        ("9.16201055811843E+17", "科学计数法"),
        (9.16201055811843e17, "存成了数字"),
        ("91440300192203821I", "不允许的字符"),
    ],
)
def test_bad_codes_get_a_plain_reason(raw, fragment):
    with pytest.raises(ValidationError) as error:
        parse_code(raw)
    assert fragment in error.value.messages[0]


def test_a_pilot_code_with_a_failing_check_character_can_be_accepted_explicitly(db):
    subject = Subject(code="914403001922038217", name="试点企业", checksum_exception=True)
    subject.full_clean()
    subject.save()
    assert subject.checksum_exception and subject.kind == ORGANISATION
    strict = Subject(code="914403001922038218", name="另一家")
    with pytest.raises(ValidationError) as error:
        strict.full_clean()
    assert "校验位错误" in str(error.value)


def test_a_correct_code_is_not_registered_as_an_exception(db):
    subject = Subject(code=REAL_USCC[0], name="华为技术有限公司", checksum_exception=True)
    with pytest.raises(ValidationError):
        subject.full_clean()


def test_identity_numbers_are_masked_to_first_six_and_last_four():
    assert mask("11010519491231002X", PERSON) == "110105********002X"
    assert mask(REAL_USCC[0], ORGANISATION) == REAL_USCC[0]


def test_the_model_stores_the_canonical_code(db):
    subject = Subject(code=" 9144030071526726xg", name="腾讯科技（深圳）有限公司")
    subject.full_clean()
    subject.save()
    assert Subject.objects.get().code == "9144030071526726XG"
    assert SubjectFactory().code != subject.code
