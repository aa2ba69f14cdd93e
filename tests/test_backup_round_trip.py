"""The backup round trip in README: export_memos → empty database → import_memos."""

import datetime

import pytest
from django.core.management import CommandError, call_command

from measures.models import Division, Measure
from memos.models import Department, Memorandum, ResponsibilityList
from subjects.models import TargetSubject
from tests.data.builders import registry_state

pytestmark = pytest.mark.django_db


def _empty_the_registry():
    Measure.objects.all().delete()
    Memorandum.objects.all().delete()
    ResponsibilityList.objects.all().delete()
    Department.objects.all().delete()
    Division.objects.all().delete()
    TargetSubject.objects.all().delete()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_into_an_empty_database_loses_nothing(list_2018, tmp_path, fmt):
    # Make the registry less trivial than the fixture: a repealed memo and an
    # edited label must survive too.
    repealed = Memorandum.objects.get(seq=6)
    repealed.status, repealed.repealed_on = "repealed", datetime.date(2021, 3, 1)
    repealed.save()
    label = Memorandum.objects.get(seq=2).target_subject
    label.label = "优秀青年志愿者（5A级）"
    label.save()
    before = registry_state()
    backup = tmp_path / f"backup.{fmt}"
    call_command("export_memos", "--format", fmt, "-o", str(backup))

    _empty_the_registry()
    assert registry_state()["memos"] == []

    call_command(
        "import_memos",
        str(backup),
        "--list",
        "武质技监管(2018)22号",
        "--create-list",
        "--title",
        "全市质监部门参与的联合奖惩备忘录责任清单",
        "--issuer",
        "武汉市质量技术监督局",
        "--date",
        "2018-08-26",
    )
    assert registry_state() == before
    restored = ResponsibilityList.objects.get()
    assert restored.is_current and restored.issued_on == datetime.date(2018, 8, 26)


def test_a_refused_file_does_not_leave_a_new_list_behind(db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("序号,文号\n1,x\n", encoding="utf-8")
    with pytest.raises(CommandError, match="导入失败"):
        call_command("import_memos", str(bad), "--list", "新〔2030〕1号", "--create-list")
    assert not ResponsibilityList.objects.exists()


def test_create_list_needs_the_list_s_doc_number(db, tmp_path):
    with pytest.raises(CommandError, match="--list"):
        call_command("import_memos", str(tmp_path / "x.csv"), "--create-list")
