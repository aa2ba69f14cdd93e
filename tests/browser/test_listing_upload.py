"""An editor uploads this week's listings sheet in the browser, previews it and confirms it."""

import datetime

import pytest
from playwright.sync_api import expect

from memo_registry.audit.models import ImportBatch
from subjects.models import Listing
from tests.factories import valid_uscc
from tests.listing_sheets import xlsx

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("upload_dir")]

HEADER = ["统一社会信用代码", "名称", "列入依据", "列入日期", "有效期至", "来源"]


def test_an_editor_uploads_previews_and_confirms(page, site, editor, sign_in, tmp_path, shot):
    sheet = xlsx(
        tmp_path / "本周名单.xlsx",
        HEADER,
        [
            [valid_uscc(1), "武汉市某某1有限公司", "发改财金〔2016〕2202号", "2025-01-02", "", "市质监局"],
            [valid_uscc(2), "武汉市某某2有限公司", "失信被执行人", "2025-01-03", "2028-01-03", "市中院"],
        ],
    )  # fmt: skip
    sign_in(editor, then="/")
    page.get_by_role("link", name="名单导入").click()
    page.wait_for_url(f"{site}/listings/import/")
    page.get_by_label("表格（xlsx 或 csv）").set_input_files(str(sheet))
    page.get_by_role("button", name="上传并预览").click()

    expect(page.get_by_role("heading", name="预览：导入名单")).to_be_visible()
    expect(page.locator("#count-added")).to_have_text("2")
    expect(page.get_by_text("武汉市某某2有限公司")).to_be_visible()
    shot("preview")
    assert Listing.objects.count() == 0  # nothing written before the confirm

    page.get_by_role("button", name="确认写入").click()
    page.wait_for_url(f"{site}/listings/import/")
    expect(page.get_by_text("新增名单记录 2，更新 0，未变 0")).to_be_visible()
    shot("done")
    assert Listing.objects.get(subject__code=valid_uscc(2)).expires_on == datetime.date(2028, 1, 3)
    assert ImportBatch.objects.get().user == editor
