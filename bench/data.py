"""Deterministic synthetic data for the benchmark: listing files and memo lists.

The same seedless arithmetic gives the same file on every machine (for a
given year: the dates are recent, so that listings are in force), so runs
compare.  Codes are valid (the check characters computed here are checked
against python-stdnum for the first rows of each file), names are Chinese,
and the lists are the current responsibility list's own: 列入依据 is now a
memo's 文号, now a list label.
"""

import csv
import datetime
from pathlib import Path

from stdnum.cn import ric, uscc

from measures.models import Division, Measure
from memos.models import Department, Memorandum, ResponsibilityList
from subjects.models import TargetSubject

HEADER = ["统一社会信用代码", "名称", "列入依据", "列入日期", "有效期至", "来源", "认定依据"]

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUES = {char: value for value, char in enumerate(_ALPHABET)}
# Districts of Wuhan (and their years in stdnum's table of regions).
_REGIONS = ["420102", "420103", "420104", "420105", "420106", "420111", "420112"]
_PLACES = ["武汉市", "江岸区", "江汉区", "硚口区", "汉阳区", "武昌区", "洪山区", "东西湖区"]
_TRADES = ["科技", "商贸", "建材", "食品", "电子", "机械", "化工", "物流", "农业", "医药"]
_FORMS = ["有限公司", "有限责任公司", "股份有限公司", "经营部", "合作社"]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚"
_SOURCES = ["市市场监管局", "武汉海关", "市中级人民法院", "市税务局", "省市场监管局"]
# Listed within the last three years, expiring five years after: at the
# counter, on the day the benchmark runs, nearly every listing is in force.
_START = datetime.date(datetime.date.today().year - 3, 1, 1)


def _check_character(first17: str) -> str:
    total = sum(_VALUES[char] * weight for char, weight in zip(first17, _WEIGHTS, strict=True))
    return _ALPHABET[-total % 31]


def credit_code(n: int) -> str:
    """The n-th synthetic 统一社会信用代码: old-style all-digit organisation
    codes and new-style ones (MA…) alternate."""
    region = _REGIONS[n % len(_REGIONS)]
    if n % 2:
        digits, rest = "", n
        for _ in range(7):
            rest, value = divmod(rest, 31)
            digits = _ALPHABET[value] + digits
        organisation = "MA" + digits
    else:
        organisation = f"{n:09d}"
    first17 = "91" + region + organisation
    return first17 + _check_character(first17)


def identity_number(n: int) -> str:
    """The n-th synthetic 居民身份证号码 (born 1984–2003 in a Wuhan district)."""
    born = datetime.date(1984, 1, 1) + datetime.timedelta(days=(n // 1000) % 7300)
    first17 = f"{_REGIONS[n % len(_REGIONS)]}{born:%Y%m%d}{n % 1000:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")


def _subject(n: int) -> tuple[str, str]:
    if n % 20 == 7:  # one subject in twenty is a person
        name = _SURNAMES[n % 20] + _GIVEN[(n // 20) % 20] + _GIVEN[(n // 400) % 20]
        return identity_number(n), name
    place = _PLACES[n % len(_PLACES)]
    trade = _TRADES[(n // 8) % len(_TRADES)]
    return credit_code(n), f"{place}{trade}{n}{_FORMS[n % len(_FORMS)]}"


def listing_rows(count: int, bases: list[str]):
    """``count`` listing rows; one in ten names again a subject of an earlier
    row, on another list."""
    subjects = 0
    for index in range(count):
        if index % 10 == 9:
            subject = (index * 7919) % max(subjects, 1)
            basis = bases[(index // 10 + subject + 1) % len(bases)]
        else:
            subject = subjects
            subjects += 1
            basis = bases[subject % len(bases)]
        code, name = _subject(subject)
        listed = _START + datetime.timedelta(days=(index * 37) % 1000)
        expires = "" if index % 10 == 3 else listed.replace(year=listed.year + 5, day=1)
        yield [
            code,
            name,
            basis,
            listed.isoformat(),
            expires.isoformat() if expires else "",
            _SOURCES[index % len(_SOURCES)],
            f"武市监罚〔{listed.year}〕{index % 9000 + 1}号",
        ]


def write_listings(path: Path, count: int, bases: list[str]) -> Path:
    rows = listing_rows(count, bases)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for index, row in enumerate(rows):
            if index < 200:  # the arithmetic above agrees with stdnum
                (ric if len(row[1]) <= 3 else uscc).validate(row[0])
            writer.writerow(row)
    return path


def list_bases(responsibility_list: ResponsibilityList) -> list[str]:
    """What a listing file names a list by: the 文号 of each memo in force,
    and the label of its target subjects."""
    memos = responsibility_list.memos.filter(status=Memorandum.Status.IN_FORCE)
    bases = []
    for doc_number, label in memos.values_list("doc_number", "target_subject__label"):
        bases += [doc_number, label]
    return bases


def build_memo_list(doc_number: str, memo_count: int, measures_per_memo: int = 5):
    """A responsibility list of ``memo_count`` memos, written in bulk."""
    listing = ResponsibilityList.objects.create(
        doc_number=doc_number,
        title=f"基准测试责任清单（{memo_count} 项）",
        issuer="基准测试",
        issued_on=datetime.date(2024, 1, 1),
        is_current=False,
    )
    departments = [
        Department.objects.get_or_create(name=name)[0]
        for name in ["全市质监部门", "市国税局", "市地税局", "武汉海关", "市发改委"]
    ]
    divisions = [
        Division.objects.get_or_create(name=name)[0]
        for name in ["人事处", "行政审批处", "稽查局", "法规处", "有关业务处室和直属机构"]
    ]
    targets = TargetSubject.objects.bulk_create(
        [
            TargetSubject(
                label=f"{doc_number}失信对象{n}",
                definition=f"被认定为失信对象{n}的企业及其有关人员。",
            )
            for n in range(memo_count)
        ]
    )
    memos = Memorandum.objects.bulk_create(
        [
            Memorandum(
                responsibility_list=listing,
                seq=n + 1,
                doc_number=f"发改财金〔{2000 + n // 1000}〕{n % 1000 + 1}号",
                title=f"关于对失信对象{n}实施联合惩戒的合作备忘录",
                kind="punishment" if n % 3 else "reward",
                target_subject=target,
                implementing_department=departments[0],
                status="in_force",
            )
            for n, target in enumerate(targets)
        ]
    )
    through = Memorandum.initiating_departments.through
    through.objects.bulk_create(
        [
            through(memorandum_id=memo.pk, department_id=departments[1 + (memo.seq + k) % 4].pk)
            for memo in memos
            for k in range(2)
        ]
    )
    measures = Measure.objects.bulk_create(
        [
            Measure(
                memo=memo,
                order=order + 1,
                text=f"第{order + 1}项措施：依法限制其参与{_TRADES[order % 10]}领域的评优评先。",
            )
            for memo in memos
            for order in range(measures_per_memo)
        ]
    )
    through = Measure.divisions.through
    through.objects.bulk_create(
        [
            through(measure_id=measure.pk, division_id=divisions[(measure.order + k) % 5].pk)
            for measure in measures
            for k in range(2)
        ]
    )
    return listing
