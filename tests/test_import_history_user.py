"""Who a memo import's history rows name: the user who ran it in the admin, or nobody.

The import writes memos and measures in bulk and then one history row per
object (memo_registry/audit/history.py's ``record_history``), with the
import's user as ``history_user``; departments, divisions and target subjects
it creates on the way are saved one by one, and simple-history takes their
user from the request (HistoryRequestMiddleware).  The admin's import
(upload, preview, confirm) runs as the signed-in user; ``import_memos`` on
the command line has no user, and its rows must not borrow one from a request
that came before it in the same thread.
"""

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from measures.models import Division, Measure
from memo_registry.audit.models import ImportBatch
from memos.models import Department, Memorandum, ResponsibilityList
from subjects.models import TargetSubject
from tests.data.builders import HEADER, current_list, memo_row, write_csv

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:memos_memorandum_import")
PROCESS_URL = reverse("admin:memos_memorandum_process_import")
TRACKED = [Memorandum, Measure, TargetSubject, Department, Division]

JUDGMENT_DEBTOR = "对失信被执行人实施联合惩戒的合作备忘录"
TAXPAYER = "关于对纳税信用A级纳税人实施联合激励措施的合作备忘录"


def _rows(
    *,
    judgment_title=JUDGMENT_DEBTOR,
    taxpayer_title=TAXPAYER,
    first_measure="限制其担任企业法定代表人",
    reward="优先给予奖励和表彰",
):
    """Two memos (three measures) in the document's columns."""
    return [
        HEADER,
        memo_row(
            1,
            "发改财金〔2016〕141号",
            judgment_title,
            measures=f"1、{first_measure}\n2、限制其获得荣誉称号",
            divisions="行政审批处\n人事处",
        ),
        memo_row(
            2,
            "发改财金〔2016〕1467号",
            taxpayer_title,
            departments="市国税局",
            definition="税务机关公告发布的纳税信用A级纳税人",
            measures=f"1、{reward}",
            divisions="有关业务处室和直属机构",
        ),
    ]


def _last_history_ids() -> dict:
    """The newest history row of each tracked model, to tell the rows written after it."""
    last = {}
    for model in TRACKED:
        newest = model.history.order_by("-history_id").first()
        last[model] = newest.history_id if newest else 0
    return last


def _history_since(last: dict) -> dict[str, list[tuple[str, int | None]]]:
    """The history rows written since ``last``: (history_type, history_user_id) by model."""
    return {
        model.__name__: list(
            model.history.filter(history_id__gt=last[model])
            .order_by("history_id")
            .values_list("history_type", "history_user_id")
        )
        for model in TRACKED
    }


def _admin_import(client, path):
    """The admin's import: upload and preview, then confirm."""
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    preview = client.post(
        IMPORT_URL,
        {
            "resource": "0",
            "format": "0",
            "import_file": upload,
            "responsibility_list": ResponsibilityList.current().pk,
        },
    )
    assert preview.status_code == 200
    assert not preview.context["result"].has_errors()
    form = preview.context["confirm_form"]
    done = client.post(PROCESS_URL, {name: form.initial.get(name, "") for name in form.fields})
    assert done.status_code == 302


def test_the_admin_import_names_its_user_and_the_command_line_none(
    client, editor, otp_login, tmp_path
):
    current_list()
    otp_login(client, editor)  # 编辑 imports lists (add and change memoranda)

    # 1. New memos, and the departments, divisions and subjects they name.
    last = _last_history_ids()
    _admin_import(client, write_csv(tmp_path / "新清单.csv", _rows()))
    written = _history_since(last)
    assert written == {
        "Memorandum": [("+", editor.pk)] * 2,
        "Measure": [("+", editor.pk)] * 3,
        "TargetSubject": [("+", editor.pk)] * 2,
        # 市中级人民法院 (memo_row's default), 全市质监部门, 市国税局.
        "Department": [("+", editor.pk)] * 3,
        "Division": [("+", editor.pk)] * 3,
    }

    # 2. An edited file: one memo's title, another memo's measure.
    last = _last_history_ids()
    edited = _rows(judgment_title=JUDGMENT_DEBTOR + "（修订）", reward="优先给予奖励、表彰")
    _admin_import(client, write_csv(tmp_path / "修订.csv", edited))
    assert _history_since(last) == {
        # Both memos changed: one's title, the other's measures.
        "Memorandum": [("~", editor.pk)] * 2,
        "Measure": [("~", editor.pk)],
        "TargetSubject": [],
        "Department": [],
        "Division": [],
    }
    assert Memorandum.objects.get(seq=1).title.endswith("（修订）")
    assert Measure.objects.filter(text="优先给予奖励、表彰").exists()

    # 3. The command line, in the thread that has just served the editor.
    last = _last_history_ids()
    by_hand = _rows(
        judgment_title=JUDGMENT_DEBTOR + "（修订）",
        taxpayer_title=TAXPAYER + "（修订）",
        first_measure="限制其担任企业法定代表人、董事、监事",
        reward="优先给予奖励、表彰",
    )
    call_command(
        "import_memos", str(write_csv(tmp_path / "命令行.csv", by_hand)), stdout=StringIO()
    )
    assert _history_since(last) == {
        "Memorandum": [("~", None)] * 2,
        "Measure": [("~", None)],
        "TargetSubject": [],
        "Department": [],
        "Division": [],
    }

    batches = ImportBatch.objects.order_by("pk")
    assert [(b.file_name, b.source, b.user_id) for b in batches] == [
        ("新清单.csv", "admin", editor.pk),
        ("修订.csv", "admin", editor.pk),
        ("命令行.csv", "command", None),
    ]


def test_the_import_names_its_user_without_the_request_s_help(
    client, editor, otp_login, tmp_path, settings
):
    # simple-history also takes a user from the request it is told of
    # (HistoryRequestMiddleware); without it, the bulk-written rows name the
    # user only if the import passes its own user on (ImportBatch.user).
    settings.MIDDLEWARE = [
        name
        for name in settings.MIDDLEWARE
        if name != "simple_history.middleware.HistoryRequestMiddleware"
    ]
    current_list()
    otp_login(client, editor)
    _admin_import(client, write_csv(tmp_path / "新清单.csv", _rows()))
    written = _history_since(dict.fromkeys(TRACKED, 0))
    assert written["Memorandum"] == [("+", editor.pk)] * 2
    assert written["Measure"] == [("+", editor.pk)] * 3
    assert written["TargetSubject"] == [("+", editor.pk)] * 2


def test_an_import_from_the_command_line_alone_names_nobody(db, tmp_path):
    current_list()
    call_command("import_memos", str(write_csv(tmp_path / "清单.csv", _rows())), stdout=StringIO())
    written = _history_since(dict.fromkeys(TRACKED, 0))
    assert [len(written[name]) for name in ("Memorandum", "Measure")] == [2, 3]
    assert {user for rows in written.values() for _, user in rows} == {None}
