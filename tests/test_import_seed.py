"""The 2018 list imports from the seed's own messy table and from the bundled xlsx."""

import pytest
from django.core.management import call_command

from measures.models import Measure
from memos.models import Department, Memorandum
from tests.conftest import FIXTURE_2018
from tests.data.builders import (
    FIXTURE_XLSX,
    current_list,
    document_state,
    registry_state,
    seed_rows,
    write_csv,
)

pytestmark = pytest.mark.django_db


def _import(path, *args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import_memos", str(path), *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def empty_list(db):
    return current_list()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_the_seeds_table_imports_as_the_document(empty_list, tmp_path, encoding):
    path = write_csv(tmp_path / "seed.csv", seed_rows(), encoding=encoding)
    _import(path)
    assert registry_state()["memos"] == document_state()
    assert Memorandum.objects.count() == 10
    assert Measure.objects.count() == 11


def test_the_seeds_table_imports_tab_separated_as_it_stands(empty_list, tmp_path):
    path = write_csv(tmp_path / "seed.txt", seed_rows(), delimiter="\t")
    _import(path)
    assert registry_state()["memos"] == document_state()


def test_it_joins_a_measure_split_by_a_page_break(empty_list, tmp_path):
    _import(write_csv(tmp_path / "seed.csv", seed_rows()))
    second = Measure.objects.get(memo__seq=4, order=2)
    assert second.text.endswith(
        "提供虚假材料骗取生产许可证其主要负责人和直接负责的主管人员终身不得从事该类产品的生产、经营活动。"
    )


def test_it_joins_a_title_and_a_division_split_by_a_page_break(empty_list, tmp_path):
    _import(write_csv(tmp_path / "seed.csv", seed_rows()))
    item_7 = Memorandum.objects.get(seq=7)
    assert item_7.title == "关于对严重质量违法失信行为当事人实施联合惩戒的合作备忘录"
    divisions = {d.name for m in item_7.measures.all() for d in m.divisions.all()}
    assert divisions == {"有关业务处室和直属机构"}


def test_numbered_text_on_a_continuation_row_adds_measures(empty_list, tmp_path):
    _import(write_csv(tmp_path / "seed.csv", seed_rows()))
    texts = list(
        Measure.objects.filter(memo__seq=7).order_by("order").values_list("text", flat=True)
    )
    assert len(texts) == 3
    assert texts[1] == "限制失信相关人获得或撤销其相关的从业资格。"
    assert texts[2] == "失信企业产生新的违法违规行为时，依法依规从严从重处罚。"


def test_title_rows_above_the_header_are_skipped(empty_list, tmp_path):
    rows = [["全市质监部门参与的联合奖惩备忘录责任清单"], [], *seed_rows()]
    _import(write_csv(tmp_path / "seed.csv", rows))
    assert registry_state()["memos"] == document_state()


def test_importing_the_seed_twice_changes_nothing(empty_list, tmp_path):
    path = write_csv(tmp_path / "seed.csv", seed_rows())
    _import(path)
    before = registry_state(), _dump_registry()
    output = _import(path)
    assert (registry_state(), _dump_registry()) == before
    assert "新建 0 项，更新 0 项，未变 10 项" in output
    assert Department.objects.filter(name="武汉海关").count() == 1


def test_the_seed_imports_over_the_fixture_without_a_change(list_2018, tmp_path):
    before = _dump_registry()
    output = _import(write_csv(tmp_path / "seed.csv", seed_rows()))
    assert _dump_registry() == before
    assert "未变 10 项" in output


def test_the_bundled_xlsx_gives_exactly_the_json_fixture(empty_list):
    _import(FIXTURE_XLSX)
    imported = registry_state()
    _empty_the_registry()
    call_command("loaddata", FIXTURE_2018, verbosity=0)
    assert imported == registry_state()
    assert imported["memos"] == document_state()


def test_the_bundled_xlsx_reimports_over_the_fixture_without_a_change(list_2018):
    before = _dump_registry()
    _import(FIXTURE_XLSX)
    assert _dump_registry() == before


def _dump_registry() -> str:
    """The registry's own tables (the audit record of each run is expected to grow)."""
    from io import StringIO

    out = StringIO()
    call_command("dumpdata", "memos", "measures", "subjects", stdout=out, verbosity=0)
    return out.getvalue()


def _empty_the_registry() -> None:
    from measures.models import Division
    from memos.models import ResponsibilityList
    from subjects.models import TargetSubject

    Measure.objects.all().delete()
    Memorandum.objects.all().delete()
    for model in (TargetSubject, Department, Division, ResponsibilityList):
        model.objects.all().delete()
