"""The listing pages' upload form: what it shares with the memo admin's import
(memo_registry.imports.upload_form) — the size limit and the current list."""

import html
import re

import pytest

from memo_registry.audit.models import ImportBatch
from subjects.models import Listing, Subject
from tests.factories import valid_uscc
from tests.listing_sheets import upload, xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("upload_dir")]

HEADER = ["统一社会信用代码", "名称", "列入依据", "列入日期"]


@pytest.mark.parametrize("url", ["/listings/import/", "/listings/lift/"])
def test_a_sheet_over_the_size_limit_is_refused_and_nothing_is_kept(
    list_2018, as_editor, upload_dir, settings, tmp_path, url
):
    settings.IMPORT_MAX_BYTES = 1000
    rows = [[valid_uscc(1), "武汉市某某1有限公司", "失信被执行人", "2025-03-01"]]
    page = upload(as_editor, url, xlsx(tmp_path / "大名单.xlsx", HEADER, rows))
    assert page.status_code == 400
    text = html.unescape(page.content.decode())
    assert "文件 大名单.xlsx 有" in text and "超过了导入上限 0.0 MB" in text
    assert "Traceback" not in text
    # Refused by the form, at the file field, before the file is copied or read.
    assert "超过了导入上限" in page.context["form"].errors["file"][0]
    assert not Subject.objects.exists() and not Listing.objects.exists()
    assert not ImportBatch.objects.exists()
    assert not upload_dir.exists() or list(upload_dir.iterdir()) == []


@pytest.mark.parametrize("url", ["/listings/import/", "/listings/lift/"])
def test_the_current_list_is_chosen_unless_the_user_picks_another(list_2018, as_editor, url):
    page = as_editor.get(url).content.decode()
    assert re.search(rf'<option value="{list_2018.pk}" selected>', page)


@pytest.mark.parametrize(
    ("url", "required"),
    [
        (
            "/listings/import/",
            "必填列：统一社会信用代码或证件号码、名称、列入依据、列入日期；可选列：",
        ),
        (
            "/listings/lift/",
            "必填列：统一社会信用代码或证件号码、列入依据、移出日期、移出原因；可选列：列入日期",
        ),
    ],
)
def test_the_form_says_which_columns_are_required_in_a_clerks_words(
    list_2018, as_editor, url, required
):
    """It listed every column name without saying which must be there, and
    sent the clerk to a server command (import_subjects) for the format."""
    page = html.unescape(as_editor.get(url).content.decode())
    assert required in page
    assert "import_subjects" not in page and "列入依据对照的责任清单" in page
