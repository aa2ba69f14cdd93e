"""Export, then import into an empty registry: the same registry comes back."""

import datetime
import io
import json
from io import StringIO

import pytest
from django.core.management import call_command

from measures.models import Division, Measure
from memos.models import Department, Memorandum, ResponsibilityList
from subjects.models import TargetSubject
from tests.data.builders import registry_state
from tests.factories import (
    DepartmentFactory,
    DivisionFactory,
    MeasureFactory,
    MemorandumFactory,
    TargetSubjectFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich_registry(list_2018):
    """The 2018 list plus a memo that uses every column and every awkward text."""
    memo = MemorandumFactory(
        responsibility_list=list_2018,
        seq=11,
        doc_number="国发〔2016〕33号",
        title='=HYPERLINK("http://evil") 关于某事项的备忘录',
        kind=Memorandum.Kind.REWARD,
        target_subject=TargetSubjectFactory(
            label="-1+1", definition="'=SUM(A1) <script>alert(1)</script>"
        ),
        implementing_department=DepartmentFactory(name="全市质监部门"),
        status=Memorandum.Status.REPEALED,
        repealed_on=datetime.date(2020, 3, 1),
        initiating_departments=[
            DepartmentFactory(name="市发改委"),
            DepartmentFactory(name="市人民银行"),
            DepartmentFactory(name="@市税务局"),
        ],
    )
    MeasureFactory(
        memo=memo,
        order=1,
        text="+限制其参加评优评先，含“10年内”字样",
        divisions=[DivisionFactory(name="人事处"), DivisionFactory(name="法规处")],
    )
    second = MeasureFactory(
        memo=memo, order=2, text="加大抽查频次。", divisions=[DivisionFactory(name="稽查局")]
    )
    # Legal bases of every kind of title, on one measure of three (the others none).
    second.legal_basis.create(
        order=1, level="法律", title="《中华人民共和国产品质量法》", article="第十三条"
    )
    second.legal_basis.create(
        order=2,
        level="党中央国务院政策文件",
        title="《关于进一步完善失信约束制度构建诚信建设长效机制的指导意见》（国办发〔2020〕49号）",
        article="第三条第二款",
    )
    second.legal_basis.create(order=3, level="备忘录", title="发改财金〔2016〕1467号")
    second.legal_basis.create(order=4, level="规范性文件", title="=SUM(A1)", article="第一条")
    MeasureFactory(
        memo=memo,
        order=3,
        text="10年内不得从事该类产品的生产、经营活动；对无相关职能的部门不适用",
        divisions=[DivisionFactory(name="稽查局")],
    )
    return list_2018


def _export(fmt: str, tmp_path) -> str:
    path = tmp_path / f"export.{fmt}"
    call_command("export_memos", "--format", fmt, "-o", str(path), stderr=StringIO())
    return str(path)


def _empty_the_registry_but_the_list() -> None:
    Measure.objects.all().delete()
    Memorandum.objects.all().delete()
    for model in (TargetSubject, Department, Division):
        model.objects.all().delete()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_into_an_empty_registry_gives_it_back(rich_registry, tmp_path, fmt):
    before = registry_state()
    assert len(before["legal_bases"]) == 4
    path = _export(fmt, tmp_path)
    _empty_the_registry_but_the_list()
    call_command("import_memos", path, stdout=StringIO())
    assert registry_state() == before


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_reimporting_an_export_changes_nothing(rich_registry, tmp_path, fmt):
    path = _export(fmt, tmp_path)
    out = StringIO()
    call_command("import_memos", path, stdout=out)
    assert "新建 0 项，更新 0 项，未变 11 项" in out.getvalue()


def test_json_export_holds_every_memo_as_the_registry_has_it(rich_registry, tmp_path):
    records = json.loads(open(_export("json", tmp_path), encoding="utf-8").read())
    state = registry_state()["memos"]
    assert [r["doc_number"] for r in records] == [m["doc_number"] for m in state]
    last = records[-1]
    assert last["title"].startswith("=HYPERLINK")
    assert last["status"] == "repealed"
    assert last["repealed_on"] == "2020-03-01"
    assert last["measures"][0]["divisions"] == ["人事处", "法规处"]


def test_export_writes_to_stdout_when_no_file_is_named(list_2018):
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    call_command("export_memos", "--format", "csv", stdout=stream)
    stream.flush()
    data = stream.buffer.getvalue()
    assert data.startswith(b"\xef\xbb\xbf\xe5\xba\x8f\xe5\x8f\xb7")  # BOM, 序号


def test_export_of_another_list_is_chosen_by_its_doc_number(list_2018, tmp_path):
    other = ResponsibilityList.objects.create(
        doc_number="测试〔2020〕1号", title="空清单", issuer="x"
    )
    path = tmp_path / "other.csv"
    call_command(
        "export_memos",
        "--format",
        "csv",
        "--list",
        "测试(2020)1号",
        "-o",
        str(path),
        stderr=StringIO(),
    )
    assert path.read_bytes().decode("utf-8-sig").count("\n") == 1  # the header only
    assert other.memos.count() == 0
